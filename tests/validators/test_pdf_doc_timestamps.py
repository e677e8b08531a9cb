"""A PDF document time-stamp covering a signature proves the moment of signing (SPEC
section 3; issue 10, section 1) -- when, and only when, it validates as rigorously as a
signature time-stamp. An invalid one proves nothing and fails the document."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.pki.doc_timestamps import add_dss_crls, doc_timestamp, sign_pdf_lapsed
from tests.pki.tsa import TsaPki
from validators.signatures.locate import verify_document
from validators.signatures.model import Indication, SignatureReport, SubIndication, VerificationReport
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore


def _a_month_ago(tsa: TsaPki) -> datetime:
    return tsa.now - timedelta(days=30)


@pytest.fixture
def lapsed_signed(tsa: TsaPki, tmp_path: Path) -> Path:
    """Signed today with a certificate that expired 10 days ago, the signer's clock set
    to a month ago; the CA's CRL of a month ago in the DSS (today's CRL no longer speaks
    about an expired certificate)."""
    plain = pdfs.make_pdf(tmp_path / "plain.pdf")
    signed = sign_pdf_lapsed(tsa, plain, tmp_path / "signed.pdf", signing_time=_a_month_ago(tsa))
    moment = _a_month_ago(tsa)
    return add_dss_crls(signed, tmp_path / "ltv.pdf", [tsa.crl("ca", moment - timedelta(hours=1), moment + timedelta(days=7))])


def run(path: Path, store: TrustStore) -> VerificationReport:
    return verify_document(path, store, VerificationPolicy())


def check(report: SignatureReport, name: str):  # type: ignore[no-untyped-def]
    [found] = [c for c in report.checks if c.name == name]
    return found


def test_expired_signer_without_a_time_stamp_fails(lapsed_signed: Path, store: TrustStore) -> None:
    [signature] = run(lapsed_signed, store).signatures
    assert (signature.indication, signature.sub_indication) == (Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE)


def test_gost_document_time_stamp_from_before_expiry_covering_the_signature_proves_the_moment(tsa: TsaPki, lapsed_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    gen_time = _a_month_ago(tsa) + timedelta(hours=1)
    stamped = doc_timestamp(tsa, "tsa256", lapsed_signed, tmp_path / "stamped.pdf", gen_time)
    report = run(stamped, store)
    [signature], [timestamp] = report.signatures, report.timestamps
    assert timestamp.passed and check(timestamp, "timestamp.document").passed and check(timestamp, "tsa.key_usage").passed
    assert signature.indication is Indication.TOTAL_PASSED, signature.failed_checks()
    assert signature.qualified and report.all_qualified_and_passed
    assert signature.validation_time == gen_time
    assert signature.timestamp is not None and signature.timestamp.kind == "document" and signature.timestamp.valid
    assert "document time-stamp covering the signature" in check(signature, "validation.time").detail


def test_rsa_document_time_stamp_over_a_gost_signature_proves_the_moment(tsa: TsaPki, lapsed_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    gen_time = _a_month_ago(tsa) + timedelta(hours=2)
    stamped = doc_timestamp(tsa, "tsa_rsa", lapsed_signed, tmp_path / "stamped.pdf", gen_time)
    report = run(stamped, store)
    [signature] = report.signatures
    assert signature.indication is Indication.TOTAL_PASSED, signature.failed_checks()
    assert signature.validation_time == gen_time and report.all_qualified_and_passed
    assert report.timestamps[0].timestamp is not None and report.timestamps[0].timestamp.tsa == "RSA TSA"


def test_document_time_stamp_by_an_untrusted_tsa_proves_nothing_and_fails(tsa: TsaPki, lapsed_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    stamped = doc_timestamp(tsa, "tsa_untrusted", lapsed_signed, tmp_path / "stamped.pdf", _a_month_ago(tsa) + timedelta(hours=1))
    report = run(stamped, store)
    [signature], [timestamp] = report.signatures, report.timestamps
    assert not timestamp.passed and timestamp.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    assert not check(timestamp, "timestamp.document").passed
    assert timestamp.timestamp is not None and not timestamp.timestamp.valid
    assert signature.sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE and signature.validation_time is not None
    assert signature.validation_time > tsa.now and signature.timestamp is None
    assert not report.all_qualified_and_passed and report.indication is not Indication.TOTAL_PASSED


def test_document_time_stamp_without_critical_time_stamping_eku_fails(tsa: TsaPki, lapsed_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    stamped = doc_timestamp(tsa, "tsa_noncritical", lapsed_signed, tmp_path / "stamped.pdf", _a_month_ago(tsa) + timedelta(hours=1))
    report = run(stamped, store)
    [timestamp] = report.timestamps
    assert timestamp.sub_indication is SubIndication.CHAIN_CONSTRAINTS_FAILURE
    assert "not marked critical" in check(timestamp, "tsa.key_usage").detail
    assert report.signatures[0].indication is not Indication.TOTAL_PASSED
    assert not report.all_qualified_and_passed


def test_document_time_stamp_by_an_ordinary_signing_certificate_fails(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    """A valid qualified GOST signature stays valid, but a "time-stamp" by a certificate
    without the timeStamping EKU fails the document (verify exits 1)."""
    signed = pdfs.sign_pdf_gost(pki, "head256", pdfs.make_pdf(tmp_path / "plain.pdf"), tmp_path / "signed.pdf")
    stamped = pdfs.timestamp_pdf(pki, "rsa_signer", signed, tmp_path / "stamped.pdf")
    report = run(stamped, store)
    [signature], [timestamp] = report.signatures, report.timestamps
    assert signature.passed and signature.qualified
    assert not check(timestamp, "tsa.key_usage").passed and not check(timestamp, "timestamp.document").passed
    assert not report.all_qualified_and_passed


def test_document_time_stamp_of_an_earlier_revision_does_not_prove_a_later_signature(tsa: TsaPki, store: TrustStore, tmp_path: Path) -> None:
    plain = pdfs.make_pdf(tmp_path / "plain.pdf")
    stamped_first = doc_timestamp(tsa, "tsa256", plain, tmp_path / "stamped.pdf", _a_month_ago(tsa) + timedelta(hours=1))
    signed = sign_pdf_lapsed(tsa, stamped_first, tmp_path / "signed.pdf", signing_time=_a_month_ago(tsa))
    moment = _a_month_ago(tsa)
    ltv = add_dss_crls(signed, tmp_path / "ltv.pdf", [tsa.crl("ca", moment - timedelta(hours=1), moment + timedelta(days=7))])
    report = run(ltv, store)
    [signature], [timestamp] = report.signatures, report.timestamps
    assert timestamp.passed  # a valid time-stamp of the unsigned document
    assert signature.sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE
    assert signature.validation_time is not None and signature.validation_time > tsa.now


def test_document_time_stamp_after_expiry_does_not_save_the_signature(tsa: TsaPki, lapsed_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    stamped = doc_timestamp(tsa, "tsa256", lapsed_signed, tmp_path / "stamped.pdf", tsa.now - timedelta(days=1))
    report = run(stamped, store)
    [signature] = report.signatures
    assert report.timestamps[0].passed
    assert signature.validation_time == tsa.now - timedelta(days=1)
    assert signature.sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE


def test_earliest_of_two_valid_document_time_stamps_is_the_moment(tsa: TsaPki, lapsed_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    early = _a_month_ago(tsa) + timedelta(hours=1)
    first = doc_timestamp(tsa, "tsa256", lapsed_signed, tmp_path / "first.pdf", early)
    second = doc_timestamp(tsa, "tsa_rsa", first, tmp_path / "second.pdf", tsa.now - timedelta(minutes=5))
    report = run(second, store)
    [signature] = report.signatures
    assert [t.passed for t in report.timestamps] == [True, True]
    assert signature.passed and signature.validation_time == early
