"""Red team: a CRL that the trusted CA really signed, embedded by the signer, but that
does not speak about the signer's certificate, must not make it "good".

Without the CA's complete CRL (trust store empty, nothing online) the only revocation
data is what the signer embedded. A partitioned CRL (IssuingDistributionPoint naming
another distribution point), a CRL carrying a critical extension the gateway does not
understand (RFC 5280, 5.2: such a CRL must not be used to decide status), or a CRL signed
by another CA under the same name leaves the status unknown: never TOTAL_PASSED.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
from asn1crypto import crl as asn1_crl

from tests.conftest import verify
from tests.pki.builder import TestPki
from tests.pki.redteam import make_crl_with_extensions, make_delegated_ocsp_response
from tests.pki.revocation import make_crl
from validators.signatures.cms import RevocationValues
from validators.signatures.model import Indication, SubIndication
from validators.trust import load_trust_store

NOW = datetime.now(UTC).replace(microsecond=0)


def _embed_crls(signature: Path, crls: list[bytes]) -> None:
    signed = cms.ContentInfo.load(signature.read_bytes())
    values = RevocationValues({"crl_vals": [asn1_crl.CertificateList.load(c) for c in crls]})
    signed["content"]["signer_infos"][0]["unsigned_attrs"] = cms.CMSAttributes(
        [cms.CMSAttribute({"type": "1.2.840.113549.1.9.16.2.24", "values": [values]})]
    )
    signature.write_bytes(signed.dump())


@pytest.fixture
def store_without_ca_crl(pki: TestPki, trust_copy: Path):  # type: ignore[no-untyped-def]
    """The test trust store with the root's CRL but no CRL of the issuing CA."""
    (trust_copy / "crl" / "ca.crl").unlink()
    loaded = load_trust_store(trust_copy)
    return loaded


def _revoked_signature_with(pki: TestPki, document: Path, tmp_path: Path, crl: bytes) -> Path:
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    _embed_crls(sig, [crl, pki.crl("root").read_bytes()])
    return sig


def test_control_a_complete_ca_crl_embedded_decides(pki: TestPki, store_without_ca_crl, document: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Control: the embedding path works (a complete CRL listing the certificate revokes it,
    one that does not list it makes it good) so the tests below test the CRL's scope."""
    listing = make_crl(pki, "ca", tmp_path / "full.crl", revoked=[("revoked256", NOW - timedelta(days=2))]).read_bytes()
    result = verify(_revoked_signature_with(pki, document, tmp_path, listing), store_without_ca_crl, document).signatures[0]
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    silent = make_crl(pki, "ca", tmp_path / "silent.crl").read_bytes()
    result = verify(_revoked_signature_with(pki, document, tmp_path, silent), store_without_ca_crl, document).signatures[0]
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()


@pytest.mark.parametrize(
    "extensions",
    [
        # A partition of the CA's CRLs published at another address: it lists only the
        # certificates whose CRL Distribution Point names that address.
        "issuingDistributionPoint = critical, @idp\n[idp]\nfullname = URI:http://ca.test-uc.ru/partition-7.crl\n",
        # An extension nobody here understands, marked critical (RFC 5280, 5.2).
        "1.2.643.999.1 = critical, ASN1:NULL\n",
    ],
    ids=["partitioned-crl-of-another-distribution-point", "unknown-critical-crl-extension"],
)
def test_a_genuine_ca_crl_that_does_not_cover_the_certificate_proves_nothing(
    pki: TestPki, store_without_ca_crl, document: Path, tmp_path: Path, extensions: str  # type: ignore[no-untyped-def]
) -> None:
    partial = make_crl_with_extensions(pki, "ca", tmp_path / "partial.crl", extensions).read_bytes()
    result = verify(_revoked_signature_with(pki, document, tmp_path, partial), store_without_ca_crl, document).signatures[0]
    assert result.indication is not Indication.TOTAL_PASSED
    assert result.sub_indication is SubIndication.TRY_LATER, result.failed_checks()


def test_a_partitioned_crl_that_lists_the_certificate_still_revokes(pki: TestPki, store_without_ca_crl, document: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Any verified "revoked" by the CA wins, whatever the CRL's scope claims."""
    partial = make_crl_with_extensions(
        pki, "ca", tmp_path / "partial.crl", "1.2.643.999.1 = critical, ASN1:NULL\n", revoked=[("revoked256", NOW - timedelta(days=2))]
    ).read_bytes()
    result = verify(_revoked_signature_with(pki, document, tmp_path, partial), store_without_ca_crl, document).signatures[0]
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_a_crl_under_the_ca_name_signed_by_another_ca_proves_nothing(pki: TestPki, store_without_ca_crl, document: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Same issuer name, another key (the untrusted CA's): not the CA's word."""
    # The CA's certificate re-made with the untrusted CA's key (same subject and key id).
    twin = tmp_path / "twin.pem"
    pki.openssl("x509", "-in", str(pki.cert("ca")), "-signkey", str(pki.key("untrusted_root")), "-out", str(twin))
    impostor = make_crl(pki, "ca", tmp_path / "impostor.crl", cert=twin, key=pki.key("untrusted_root")).read_bytes()
    result = verify(_revoked_signature_with(pki, document, tmp_path, impostor), store_without_ca_crl, document).signatures[0]
    assert result.sub_indication is SubIndication.TRY_LATER, result.failed_checks()


def test_a_good_ocsp_answer_about_another_certificate_proves_nothing(pki: TestPki, store_without_ca_crl, document: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The CA's genuine "good" for the head's certificate, embedded in the revoked
    certificate's signature: its CertID names another serial."""
    from asn1crypto import ocsp

    from tests.pki.revocation import make_ocsp_response

    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    other = ocsp.OCSPResponse.load(make_ocsp_response(pki, "head256", tmp_path / "ocsp"))["response_bytes"]["response"].parsed
    signed = cms.ContentInfo.load(sig.read_bytes())
    signed["content"]["signer_infos"][0]["unsigned_attrs"] = cms.CMSAttributes(
        [cms.CMSAttribute({"type": "1.2.840.113549.1.9.16.2.24", "values": [RevocationValues({"ocsp_vals": [other]})]})]
    )
    sig.write_bytes(signed.dump())
    result = verify(sig, store_without_ca_crl, document).signatures[0]
    assert result.sub_indication is SubIndication.TRY_LATER, result.failed_checks()


def _embed_ocsp(signature: Path, response: bytes) -> None:
    from asn1crypto import ocsp

    basic = ocsp.OCSPResponse.load(response)["response_bytes"]["response"].parsed
    signed = cms.ContentInfo.load(signature.read_bytes())
    signed["content"]["signer_infos"][0]["unsigned_attrs"] = cms.CMSAttributes(
        [cms.CMSAttribute({"type": "1.2.840.113549.1.9.16.2.24", "values": [RevocationValues({"ocsp_vals": [basic]})]})]
    )
    signature.write_bytes(signed.dump())


def test_control_a_delegated_responder_valid_now_answers(pki: TestPki, store_without_ca_crl, document: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    _embed_ocsp(sig, make_delegated_ocsp_response(pki, "head256", tmp_path / "ocsp", responder_validity=(NOW - timedelta(days=10), NOW + timedelta(days=10)), nocheck=True))
    result = verify(sig, store_without_ca_crl, document).signatures[0]
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()


def test_an_expired_delegated_responder_proves_nothing(pki: TestPki, store_without_ca_crl, document: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """RFC 6960, 4.2.2.2: the responder's certificate must be valid when it answers; an
    expired responder key (retired, perhaps leaked) signing "good" today is no answer."""
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    _embed_ocsp(sig, make_delegated_ocsp_response(pki, "revoked256", tmp_path / "ocsp", responder_validity=(NOW - timedelta(days=400), NOW - timedelta(days=35)), nocheck=True))
    result = verify(sig, store_without_ca_crl, document).signatures[0]
    assert result.sub_indication is SubIndication.TRY_LATER, result.failed_checks()
