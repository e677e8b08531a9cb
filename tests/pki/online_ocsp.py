"""A "good" OCSP response about any certificate of the online PKI (tests/pki/online.py),
signed by its CA, whatever the CA's CRL says: the stale or lying answer a signer can
embed in its signature. Made by ``openssl ocsp`` with the CA's GOST key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.pki.builder import _fmt_utctime, _run_openssl
from tests.pki.online import OnlinePki

__all__ = ["good_ocsp_response"]


def good_ocsp_response(pki: OnlinePki, label: str, folder: Path) -> bytes:
    """A DER OCSPResponse saying ``label`` is good, from ``online_ca``."""
    folder.mkdir(parents=True, exist_ok=True)
    expiry = _fmt_utctime(datetime.now(UTC) + timedelta(days=365))
    index = folder / "index.txt"
    index.write_text(f"V\t{expiry}\t\t{pki.serials[label]}\tunknown\t/CN={label}\n")
    request, response = folder / "request.der", folder / "response.der"
    ca_cert, ca_key = str(pki.cert("online_ca")), str(pki.key("online_ca"))
    _run_openssl(["ocsp", "-issuer", ca_cert, "-cert", str(pki.cert(label)), "-no_nonce", "-reqout", str(request)])
    _run_openssl([
        "ocsp", "-index", str(index), "-CA", ca_cert, "-rsigner", ca_cert, "-rkey", ca_key,
        "-rmd", "md_gost12_256", "-reqin", str(request), "-respout", str(response), "-ndays", "1",
    ])
    return response.read_bytes()
