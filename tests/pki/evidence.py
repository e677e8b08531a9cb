"""Revocation evidence for edge cases of the revocation rules: OCSP answers the builder's
``make_ocsp_response`` does not make ("unknown", no nextUpdate), and CRLs / OCSP
responses embedded in a signature as CAdES ``revocationValues``.

Uses the builder's primitives (``openssl ocsp`` with a CA's GOST key); from the code
under test only the asn1crypto spec of ``revocationValues`` is taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from asn1crypto import cms, ocsp
from asn1crypto import crl as asn1_crl

from tests.pki.builder import TestPki, _run_openssl
from tests.pki.revocation import index_line

__all__ = ["embed_revocation_values", "ocsp_answer"]

_REVOCATION_VALUES = "1.2.840.113549.1.9.16.2.24"


def ocsp_answer(pki: TestPki, label: str, folder: Path, *, known: bool = True, next_update: bool = True, issuer: str = "ca") -> bytes:
    """A DER OCSPResponse about ``label`` signed by ``issuer``'s key, produced now.

    ``known=False``: the responder's index does not hold the certificate, so the answer
    is "unknown". ``next_update=False``: the answer carries no nextUpdate (its thisUpdate
    alone says how current it is).
    """
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / "index.txt"
    index.write_text(index_line(pki, label, None) if known else "")
    request, response = folder / "request.der", folder / "response.der"
    _run_openssl(["ocsp", "-issuer", str(pki.cert(issuer)), "-cert", str(pki.cert(label)), "-no_nonce", "-reqout", str(request)])
    _run_openssl([
        "ocsp", "-index", str(index), "-CA", str(pki.cert(issuer)), "-rsigner", str(pki.cert(issuer)),
        "-rkey", str(pki.key(issuer)), "-rmd", "md_gost12_256", "-reqin", str(request),
        "-respout", str(response), *(["-ndays", "1"] if next_update else []),
    ])
    return response.read_bytes()


def embed_revocation_values(signature: Path, *, crls: Sequence[bytes] = (), ocsp_responses: Sequence[bytes] = ()) -> Path:
    """Put CRLs (DER) and OCSP responses (DER OCSPResponse) into the first SignerInfo of a
    DER signature as its only unsigned attribute, ``revocationValues``."""
    from validators.signatures.cms import RevocationValues  # the asn1crypto spec of the attribute

    values: dict[str, object] = {}
    if crls:
        values["crl_vals"] = [asn1_crl.CertificateList.load(c) for c in crls]
    if ocsp_responses:
        values["ocsp_vals"] = [ocsp.OCSPResponse.load(r)["response_bytes"]["response"].parsed for r in ocsp_responses]
    signed = cms.ContentInfo.load(signature.read_bytes())
    signed["content"]["signer_infos"][0]["unsigned_attrs"] = cms.CMSAttributes(
        [cms.CMSAttribute({"type": _REVOCATION_VALUES, "values": [RevocationValues(values)]})]
    )
    signature.write_bytes(signed.dump())
    return signature
