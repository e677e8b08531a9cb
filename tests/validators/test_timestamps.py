"""The moment of signing is proven by a signature time-stamp, never by the signer's claim
(63-FZ art. 11; issue 10, section 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import verify
from tests.pki.builder import TestPki
from tests.pki.tsa import TsaPki
from validators.signatures.model import Indication, SignatureReport, SubIndication, VerificationReport
from validators.signatures.revocation import RevocationMode
from validators.trust import TrustStore


def _only(report: VerificationReport) -> SignatureReport:
    assert report.sub_indication is None, report.problems
    [signature] = report.signatures
    return signature


def _check(signature: SignatureReport, name: str):  # type: ignore[no-untyped-def]
    [check] = [c for c in signature.checks if c.name == name]
    return check


def _a_month_ago(tsa: TsaPki) -> datetime:
    return tsa.now - timedelta(days=30)


def _backdated(tsa: TsaPki, document: Path, tmp_path: Path) -> Path:
    """Signed today with an expired certificate, the signer's clock set to a month ago."""
    return tsa.sign("lapsed256", document, tmp_path / "doc.sig", signing_time=_a_month_ago(tsa))


def _with_history(tsa: TsaPki, signature: Path) -> Path:
    """The CA's CRL of a month ago, carried as CAdES-XL revocationValues (today's CRL no
    longer speaks about an expired certificate)."""
    moment = _a_month_ago(tsa)
    return tsa.add_revocation_values(signature, [tsa.crl("ca", moment - timedelta(hours=1), moment + timedelta(days=7))])


# --- no proof: the claim is shown, never used ------------------------------------------


def test_backdated_signing_time_with_expired_certificate_fails(tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = _with_history(tsa, _backdated(tsa, document, tmp_path))
    result = _only(verify(sig, store, document))
    assert (result.indication, result.sub_indication) == (Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE)
    assert result.signing_time == _a_month_ago(tsa)
    assert result.validation_time is not None and result.validation_time > tsa.now
    assert result.timestamp is None
    assert "present time" in _check(result, "validation.time").detail


def test_claimed_signing_time_is_never_the_time_of_judgment(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    received = datetime.now(UTC) - timedelta(hours=2)
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, document, reference_time=received))
    assert result.validation_time == received
    assert result.signing_time is not None and result.signing_time > received
    assert "received" in _check(result, "validation.time").detail


def test_claimed_signing_time_later_than_receipt_is_a_warning(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, document, reference_time=datetime.now(UTC) - timedelta(minutes=30)))
    claim = _check(result, "signing_time.claimed")
    assert claim.passed and claim.warning and "later than the receipt" in claim.detail
    assert result.indication is Indication.TOTAL_PASSED


def test_claimed_signing_time_within_the_skew_is_not_a_warning(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, document, reference_time=datetime.now(UTC) - timedelta(minutes=4)))
    assert not _check(result, "signing_time.claimed").warning


# --- a valid signature time-stamp proves the moment --------------------------------------


def test_same_signature_with_a_valid_time_stamp_inside_the_validity_passes(tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = _with_history(tsa, _backdated(tsa, document, tmp_path))
    gen_time = _a_month_ago(tsa) + timedelta(minutes=1)
    tsa.add_timestamp(sig, tsa.token_by_cms("tsa256", tsa.signature_value(sig), gen_time))
    result = _only(verify(sig, store, document))
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()
    assert result.qualified
    assert result.validation_time == gen_time
    assert result.timestamp is not None and result.timestamp.valid and result.timestamp.gen_time == gen_time
    assert result.timestamp.tsa == "Тестовая служба штампов времени"
    assert "proven by the signature time-stamp" in _check(result, "validation.time").detail


def test_openssl_ts_gost_token_is_validated_and_sets_the_time(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    tsa.add_timestamp(sig, tsa.token_by_openssl_ts("tsa256", tsa.signature_value(sig)))
    result = _only(verify(sig, store, document))
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()
    assert result.timestamp is not None and result.timestamp.valid
    assert result.validation_time == result.timestamp.gen_time
    assert _check(result, "timestamp.signature").passed


def test_openssl_ts_rsa_token_over_a_gost_signature_is_validated(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    tsa.add_timestamp(sig, tsa.token_by_openssl_ts("tsa_rsa", tsa.signature_value(sig), "sha256"))
    result = _only(verify(sig, store, document))
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()
    assert result.timestamp is not None and result.timestamp.valid and result.timestamp.tsa == "RSA TSA"


def test_at_option_overrides_the_proven_time(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    tsa.add_timestamp(sig, tsa.token_by_openssl_ts("tsa256", tsa.signature_value(sig)))
    audit = datetime.now(UTC) - timedelta(days=3)
    result = _only(verify(sig, store, document, at=audit))
    assert result.validation_time == audit and result.timestamp is not None and result.timestamp.valid


# --- a token that does not validate is a failing check, never a fallback ---------------


def test_time_stamp_over_other_bytes_fails(tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = _with_history(tsa, _backdated(tsa, document, tmp_path))
    tsa.add_timestamp(sig, tsa.token_by_cms("tsa256", b"another signature value", _a_month_ago(tsa)))
    result = _only(verify(sig, store, document))
    check = _check(result, "timestamp.signature")
    assert not check.passed and "messageImprint" in check.detail
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
    assert result.timestamp is not None and not result.timestamp.valid
    assert result.validation_time is not None and result.validation_time > tsa.now  # no fallback to genTime


def test_openssl_ts_token_over_the_document_instead_of_the_signature_fails(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    tsa.add_timestamp(sig, tsa.token_by_openssl_ts("tsa256", document.read_bytes()))
    result = _only(verify(sig, store, document))
    assert result.sub_indication is SubIndication.HASH_FAILURE
    assert not _check(result, "timestamp.signature").passed


def test_tsa_certificate_without_critical_time_stamping_eku_fails(tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = _with_history(tsa, _backdated(tsa, document, tmp_path))
    tsa.add_timestamp(sig, tsa.token_by_cms("tsa_noncritical", tsa.signature_value(sig), _a_month_ago(tsa)))
    result = _only(verify(sig, store, document))
    check = _check(result, "timestamp.signature")
    assert not check.passed and "not marked critical" in check.detail
    assert result.indication is not Indication.TOTAL_PASSED
    assert result.sub_indication is SubIndication.CHAIN_CONSTRAINTS_FAILURE


def test_signer_certificate_used_as_tsa_fails(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    """A token "issued" by an ordinary qualified certificate (no timeStamping EKU)."""
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    tsa.add_timestamp(sig, tsa.token_by_cms("head256", tsa.signature_value(sig), datetime.now(UTC) - timedelta(minutes=1)))
    result = _only(verify(sig, store, document))
    assert not _check(result, "timestamp.signature").passed
    assert result.indication is not Indication.TOTAL_PASSED


def test_tsa_certificate_not_yet_valid_at_gen_time_fails(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    """The TSA certificate was issued a year ago: a token claiming an earlier genTime."""
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    tsa.add_timestamp(sig, tsa.token_by_cms("tsa256", tsa.signature_value(sig), tsa.now - timedelta(days=400)))
    result = _only(verify(sig, store, document))
    check = _check(result, "timestamp.signature")
    assert not check.passed and "chain.validity" in check.detail
    assert result.indication is not Indication.TOTAL_PASSED


def test_token_whose_content_type_is_not_tstinfo_fails(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    token = tsa.token_by_cms("tsa256", tsa.signature_value(sig), datetime.now(UTC), econtent_type="1.2.840.113549.1.7.1")
    tsa.add_timestamp(sig, token)
    result = _only(verify(sig, store, document))
    check = _check(result, "timestamp.signature")
    assert not check.passed and "id-ct-TSTInfo" in check.detail
    assert result.sub_indication is SubIndication.FORMAT_FAILURE


def test_token_without_signing_certificate_attribute_fails(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    """RFC 3161, 2.4.1: the token names its TSA certificate by hash (ESS)."""
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    tsa.add_timestamp(sig, tsa.token_by_cms("tsa256", tsa.signature_value(sig), datetime.now(UTC), ess=False))
    result = _only(verify(sig, store, document))
    check = _check(result, "timestamp.signature")
    assert not check.passed and "signingCertificate" in check.detail


def test_untrusted_tsa_fails(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    tsa.add_timestamp(sig, tsa.token_by_openssl_ts("tsa_untrusted", tsa.signature_value(sig)))
    result = _only(verify(sig, store, document))
    assert not _check(result, "timestamp.signature").passed
    assert (result.indication, result.sub_indication) == (Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)


def test_tampered_token_signature_fails(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    from asn1crypto import cms

    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    token = cms.ContentInfo.load(tsa.token_by_openssl_ts("tsa256", tsa.signature_value(sig)))
    value = token["content"]["signer_infos"][0]["signature"].native
    token["content"]["signer_infos"][0]["signature"] = bytes([value[0] ^ 1]) + value[1:]
    tsa.add_timestamp(sig, token.dump())
    result = _only(verify(sig, store, document))
    assert result.sub_indication is SubIndication.SIG_CRYPTO_FAILURE
    assert "signature.value" in _check(result, "timestamp.signature").detail


def _revoked_tsa_crl(tsa: TsaPki, revoked_at: datetime) -> bytes:
    now = datetime.now(UTC)
    return tsa.crl("ca", now - timedelta(minutes=30), now + timedelta(days=7), revoked={"tsa_revoked": revoked_at})


def test_tsa_revoked_before_gen_time_fails(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    tsa.add_revocation_values(sig, [_revoked_tsa_crl(tsa, datetime.now(UTC) - timedelta(days=1))])
    tsa.add_timestamp(sig, tsa.token_by_openssl_ts("tsa_revoked", tsa.signature_value(sig)))
    result = _only(verify(sig, store, document))
    check = _check(result, "timestamp.signature")
    assert not check.passed and "chain.revocation" in check.detail
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    assert result.timestamp is not None and not result.timestamp.valid


def test_tsa_revoked_after_gen_time_is_not_proof(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    """Nothing proves the token existed before its TSA was revoked (no archive time-stamp)."""
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    gen_time = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    tsa.add_revocation_values(sig, [_revoked_tsa_crl(tsa, datetime.now(UTC) - timedelta(days=1))])
    tsa.add_timestamp(sig, tsa.token_by_cms("tsa_revoked", tsa.signature_value(sig), gen_time))
    result = _only(verify(sig, store, document))
    assert not _check(result, "timestamp.signature").passed
    assert result.sub_indication is SubIndication.REVOKED_NO_POE


def test_tsa_not_revoked_per_the_same_crl_passes(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    """The control: the same CRL does not list tsa256."""
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    tsa.add_revocation_values(sig, [_revoked_tsa_crl(tsa, datetime.now(UTC) - timedelta(days=1))])
    tsa.add_timestamp(sig, tsa.token_by_openssl_ts("tsa256", tsa.signature_value(sig)))
    assert _only(verify(sig, store, document)).indication is Indication.TOTAL_PASSED


# --- revocation against the proven moment -------------------------------------------------


def test_certificate_revoked_after_the_time_stamp_passes(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    """revoked256 was revoked yesterday; the time-stamp proves the signature existed two days ago."""
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    gen_time = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    tsa.add_timestamp(sig, tsa.token_by_cms("tsa256", tsa.signature_value(sig), gen_time))
    result = _only(verify(sig, store, document))
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()
    assert any("after the proven moment" in c.detail for c in result.checks if c.name == "chain.revocation")


def test_certificate_revoked_before_the_time_stamp_fails(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    tsa.add_timestamp(sig, tsa.token_by_openssl_ts("tsa256", tsa.signature_value(sig)))
    result = _only(verify(sig, store, document))
    assert result.timestamp is not None and result.timestamp.valid
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_certificate_revoked_with_no_proof_of_an_earlier_moment_fails(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, document, RevocationMode.SOFT))
    assert result.sub_indication is SubIndication.REVOKED


def test_report_json_carries_the_claimed_and_the_proven_time(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    tsa.add_timestamp(sig, tsa.token_by_openssl_ts("tsa256", tsa.signature_value(sig)))
    data = _only(verify(sig, store, document)).to_json()
    assert data["signing_time"] is not None
    assert set(data["timestamp"]) == {"gen_time", "tsa", "valid", "kind"} and data["timestamp"]["kind"] == "signature" and data["timestamp"]["valid"] is True
    assert data["validation_time"] == data["timestamp"]["gen_time"]


def test_intake_reference_time_is_read_from_the_stored_received_at() -> None:
    from validators.signatures.verify import VerificationPolicy

    policy = VerificationPolicy().received("2026-11-30T09:00:00Z")
    assert policy.reference_time == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert policy.reference() == policy.reference_time


def test_claimed_signing_time_later_than_receipt_is_a_warning_finding(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    from validators.checks import Severity
    from validators.signers import signature_findings

    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, document, reference_time=datetime.now(UTC) - timedelta(hours=1)))
    [found] = signature_findings(result, "doc.pdf")
    assert found.code == "signature.signing_time_claim" and found.severity is Severity.WARNING
