"""Hostile-but-genuine test data for the red-team suite (``tests/redteam``): CRLs that a
trusted CA really signed but whose scope or extensions limit what they say.

Uses the builder's primitives (its openssl configuration and ``openssl ca`` database
format); nothing here imports the code under test.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from tests.pki.builder import _BASE_CONF, DEFAULT_DIGEST, TestPki, _ca_section, _fmt_time, _run_openssl
from tests.pki.revocation import index_line, make_crl

__all__ = ["make_crl_with_extensions"]


def make_crl_with_extensions(
    pki: TestPki,
    issuer: str,
    out: Path,
    extensions: str,
    *,
    revoked: Sequence[tuple[str, datetime]] = (),
    crl_number: int = 5,
) -> Path:
    """A current DER CRL of ``issuer`` signed with its key, whose CRL extensions are the
    openssl config lines ``extensions`` (besides authorityKeyIdentifier)."""
    return make_crl(pki, issuer, out, revoked=revoked, crl_number=crl_number, extensions=extensions)


def make_delegated_ocsp_response(
    pki: TestPki,
    label: str,
    folder: Path,
    *,
    responder_validity: tuple[datetime, datetime],
    issuer: str = "ca",
    extended_key_usage: str = "OCSPSigning",
    nocheck: bool = False,
) -> bytes:
    """A "good" DER OCSPResponse about ``label`` signed by a delegated responder: a GOST
    certificate issued by ``issuer`` with ``extended_key_usage`` (OCSPSigning unless told,
    and id-pkix-ocsp-nocheck when ``nocheck``), valid only within ``responder_validity``
    (the response itself is produced now)."""
    from tests.pki.builder import _GENPKEY_ARGS, _subj

    folder.mkdir(parents=True, exist_ok=True)
    key = folder / "responder.key"
    _run_openssl(["genpkey", *_GENPKEY_ARGS["gost256"], "-out", str(key)])
    (folder / "index.txt").write_text("")
    (folder / "serial").write_text("5EED01\n")
    conf = folder / "openssl.cnf"
    md = DEFAULT_DIGEST[pki.info(issuer)["key_type"]]
    conf.write_text(
        _BASE_CONF + _ca_section(folder, md)
        + "\n[v3_ocsp]\nbasicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\n"
        f"extendedKeyUsage = {extended_key_usage}\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
        + ("noCheck = ignored\n" if nocheck else ""),
        encoding="utf-8",
    )
    csr = folder / "req.pem"
    _run_openssl(["req", "-config", str(conf), "-new", "-utf8", "-key", str(key),
                  "-subj", _subj((("CN", "Тестовый OCSP-ответчик"),)), "-out", str(csr)])
    cert = folder / "responder.pem"
    _run_openssl(["ca", "-config", str(conf), "-batch", "-notext", "-utf8", "-md", md, "-in", str(csr),
                  "-startdate", _fmt_time(responder_validity[0]), "-enddate", _fmt_time(responder_validity[1]),
                  "-extensions", "v3_ocsp", "-cert", str(pki.cert(issuer)), "-keyfile", str(pki.key(issuer)),
                  "-out", str(cert)])
    index = folder / "ocsp-index.txt"
    index.write_text(index_line(pki, label, None))
    request = folder / "request.der"
    response = folder / "response.der"
    _run_openssl(["ocsp", "-issuer", str(pki.cert(issuer)), "-cert", str(pki.cert(label)), "-no_nonce", "-reqout", str(request)])
    _run_openssl(["ocsp", "-index", str(index), "-CA", str(pki.cert(issuer)), "-rsigner", str(cert), "-rkey", str(key),
                  "-rmd", "md_gost12_256", "-reqin", str(request), "-respout", str(response), "-ndays", "1"])
    return response.read_bytes()
