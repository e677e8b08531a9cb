"""Extra revocation data for the test PKI: CRLs with chosen entries and dates, OCSP
responses made by ``openssl ocsp`` with a CA's GOST key.

Uses the builder's primitives (its openssl configuration and ``openssl ca`` database
format); nothing here imports the code under test.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.pki.builder import (
    _BASE_CONF,
    DEFAULT_DIGEST,
    TestPki,
    _ca_section,
    _fmt_time,
    _fmt_utctime,
    _run_openssl,
)

__all__ = ["make_crl", "make_ocsp_response", "index_line"]


def index_line(pki: TestPki, label: str, revoked_at: datetime | None, reason: str = "keyCompromise") -> str:
    """One line of an ``openssl ca`` index.txt for the certificate of ``label``."""
    info = pki.info(label)
    expiry = datetime.now(UTC) + timedelta(days=300)
    if revoked_at is None:
        return f"V\t{_fmt_utctime(expiry)}\t\t{info['serial'].upper()}\tunknown\t/CN={label}\n"
    return f"R\t{_fmt_utctime(expiry)}\t{_fmt_utctime(revoked_at)},{reason}\t{info['serial'].upper()}\tunknown\t/CN={label}\n"


def make_crl(
    pki: TestPki,
    issuer: str,
    out: Path,
    *,
    revoked: Sequence[tuple[str, datetime]] = (),
    this_update: datetime | None = None,
    next_update: datetime | None = None,
    crl_number: int = 2,
    cert: Path | None = None,
    key: Path | None = None,
    extensions: str | None = None,
) -> Path:
    """A DER CRL of ``issuer`` listing ``revoked`` (label, revocation time), signed with its key.

    ``extensions``: openssl config lines of CRL extensions (besides authorityKeyIdentifier).
    """
    now = datetime.now(UTC).replace(microsecond=0)
    work = out.parent / f".{out.name}.work"
    work.mkdir(parents=True, exist_ok=True)
    (work / "index.txt").write_text("".join(index_line(pki, label, when) for label, when in revoked))
    (work / "crlnumber").write_text(f"{crl_number:02X}\n")
    md = DEFAULT_DIGEST[pki.info(issuer)["key_type"]] if cert is None else "md_gost12_256"
    conf = work / "openssl.cnf"
    crl_extensions = "" if extensions is None else "\n[crl_ext]\nauthorityKeyIdentifier = keyid\n" + extensions + "\n"
    conf.write_text(_BASE_CONF + _ca_section(work, md) + crl_extensions, encoding="utf-8")
    pem = work / "crl.pem"
    _run_openssl([
        "ca", "-config", str(conf), "-gencrl", "-md", md, *(["-crlexts", "crl_ext"] if extensions is not None else []),
        "-cert", str(cert or pki.cert(issuer)), "-keyfile", str(key or pki.key(issuer)),
        "-crl_lastupdate", _fmt_time(this_update or now - timedelta(hours=1)),
        "-crl_nextupdate", _fmt_time(next_update or now + timedelta(days=30)),
        "-out", str(pem),
    ])
    _run_openssl(["crl", "-in", str(pem), "-outform", "DER", "-out", str(out)])
    return out


def make_ocsp_response(
    pki: TestPki,
    label: str,
    folder: Path,
    *,
    revoked_at: datetime | None = None,
    issuer: str = "ca",
    cert_id_digest: str | None = None,
) -> bytes:
    """A DER OCSPResponse about ``label`` from ``openssl ocsp`` signed by the issuer's key.

    ``cert_id_digest`` (e.g. ``md_gost12_256``) chooses the CertID hash algorithm of the
    request, which the responder copies into its answer.
    """
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / "index.txt"
    index.write_text(index_line(pki, label, revoked_at))
    request = folder / "request.der"
    response = folder / "response.der"
    digest = [f"-{cert_id_digest}"] if cert_id_digest else []
    _run_openssl(["ocsp", "-issuer", str(pki.cert(issuer)), *digest, "-cert", str(pki.cert(label)),
                  "-no_nonce", "-reqout", str(request)])
    _run_openssl([
        "ocsp", "-index", str(index), "-CA", str(pki.cert(issuer)), "-rsigner", str(pki.cert(issuer)),
        "-rkey", str(pki.key(issuer)), "-rmd", "md_gost12_256", "-reqin", str(request),
        "-respout", str(response), "-ndays", "1",
    ])
    return response.read_bytes()
