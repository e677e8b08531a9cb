"""OCSP responses carried in CAdES revocationValues, made by `openssl ocsp` with the CA's GOST key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms, ocsp
from asn1crypto import crl as asn1_crl

from tests.conftest import verify
from tests.pki.builder import TestPki
from validators.signatures.cms import RevocationValues
from validators.signatures.model import Indication, SubIndication
from validators.trust import load_trust_store


def _index_line(pki: TestPki, label: str, revoked: bool) -> str:
    info = pki.info(label)
    expiry = datetime.now(UTC) + timedelta(days=300)
    status = "R" if revoked else "V"
    revocation = (datetime.now(UTC) - timedelta(days=1)).strftime("%y%m%d%H%M%SZ") + ",keyCompromise" if revoked else ""
    subject = pki.openssl("x509", "-in", str(pki.cert(label)), "-noout", "-subject", "-nameopt", "compat").decode().strip()
    subject = subject.removeprefix("subject=")
    return f"{status}\t{expiry:%y%m%d%H%M%SZ}\t{revocation}\t{info['serial'].upper()}\tunknown\t{subject}\n"


def _ocsp_response(pki: TestPki, label: str, folder: Path, revoked: bool = False) -> ocsp.BasicOCSPResponse:
    index = folder / "index.txt"
    index.write_text(_index_line(pki, label, revoked))
    request = folder / "request.der"
    response = folder / "response.der"
    pki.openssl("ocsp", "-issuer", str(pki.cert("ca")), "-cert", str(pki.cert(label)), "-no_nonce", "-reqout", str(request))
    pki.openssl(
        "ocsp", "-index", str(index), "-CA", str(pki.cert("ca")), "-rsigner", str(pki.cert("ca")),
        "-rkey", str(pki.key("ca")), "-rmd", "md_gost12_256", "-reqin", str(request), "-respout", str(response), "-ndays", "1",
    )
    return ocsp.OCSPResponse.load(response.read_bytes())["response_bytes"]["response"].parsed


def _with_revocation_values(signature: Path, response: ocsp.BasicOCSPResponse, pki: TestPki) -> None:
    signed = cms.ContentInfo.load(signature.read_bytes())
    values = RevocationValues(
        {
            "crl_vals": [asn1_crl.CertificateList.load(pki.crl("root").read_bytes())],
            "ocsp_vals": [response],
        }
    )
    signed["content"]["signer_infos"][0]["unsigned_attrs"] = cms.CMSAttributes(
        [cms.CMSAttribute({"type": "1.2.840.113549.1.9.16.2.24", "values": [values]})]
    )
    signature.write_bytes(signed.dump())


@pytest.fixture
def bare_store(trust_copy: Path):  # type: ignore[no-untyped-def]
    for path in (trust_copy / "crl").iterdir():
        path.unlink()
    return load_trust_store(trust_copy)


def test_good_ocsp_response_in_the_signature_decides_revocation(pki: TestPki, bare_store, document: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    _with_revocation_values(sig, _ocsp_response(pki, "head256", tmp_path), pki)
    result = verify(sig, bare_store, document).signatures[0]
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()
    assert any("OCSP" in c.detail for c in result.checks if c.name == "chain.revocation")


def test_revoked_ocsp_response_fails_the_signature(pki: TestPki, bare_store, document: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    _with_revocation_values(sig, _ocsp_response(pki, "revoked256", tmp_path, revoked=True), pki)
    result = verify(sig, bare_store, document).signatures[0]
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_ocsp_response_with_a_broken_signature_is_not_believed(pki: TestPki, bare_store, document: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    response = _ocsp_response(pki, "head256", tmp_path)
    value = bytearray(response["signature"].native)
    value[0] ^= 0x01
    response["signature"] = bytes(value)
    _with_revocation_values(sig, response, pki)
    result = verify(sig, bare_store, document).signatures[0]
    assert result.sub_indication is SubIndication.TRY_LATER


def test_ocsp_response_for_another_certificate_does_not_count(pki: TestPki, bare_store, document: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    _with_revocation_values(sig, _ocsp_response(pki, "accountant256", tmp_path), pki)
    result = verify(sig, bare_store, document).signatures[0]
    assert result.sub_indication is SubIndication.TRY_LATER
