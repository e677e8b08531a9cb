"""PDF document time-stamps seen from the package decision and ``gateway verify``: a
valid one covering the signature proves the moment (an expired certificate valid then
passes); an invalid one is a finding / exit 1, never silently ignored."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.pipeline.decision import Decision
from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.pki.doc_timestamps import add_dss_crls, doc_timestamp, sign_pdf_lapsed
from tests.pki.tsa import TsaPki
from tests.servers.cli import gateway
from tests.validators.packages import charter_checks
from validators.trust import TrustStore


@pytest.fixture
def lapsed_signed(tsa: TsaPki, tmp_path: Path) -> Path:
    """A charter signed with the head's certificate that expired 10 days ago, the clock
    claiming a month ago, the CA's CRL of a month ago in the DSS."""
    moment = tsa.now - timedelta(days=30)
    signed = sign_pdf_lapsed(tsa, pdfs.make_pdf(tmp_path / "charter.pdf"), tmp_path / "signed.pdf", signing_time=moment)
    return add_dss_crls(signed, tmp_path / "ltv.pdf", [tsa.crl("ca", moment - timedelta(hours=1), moment + timedelta(days=7))])


def test_package_signed_with_an_expired_certificate_and_a_covering_valid_time_stamp_is_accepted(tsa: TsaPki, lapsed_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    stamped = doc_timestamp(tsa, "tsa256", lapsed_signed, tmp_path / "stamped.pdf", tsa.now - timedelta(days=29))
    decision, checks = charter_checks(stamped, store, tmp_path)
    assert (decision, checks) == (Decision.ACCEPTED, [])


def test_package_whose_time_stamp_is_by_an_untrusted_tsa_is_rejected_with_a_finding(pki: TestPki, tsa: TsaPki, store: TrustStore, tmp_path: Path) -> None:
    """The head's valid signature alone would be accepted: the invalid time-stamp decides."""
    signed = pdfs.sign_pdf_gost(pki, "head256", pdfs.make_pdf(tmp_path / "charter.pdf"), tmp_path / "signed.pdf")
    stamped = doc_timestamp(tsa, "tsa_untrusted", signed, tmp_path / "stamped.pdf")
    decision, checks = charter_checks(stamped, store, tmp_path)
    assert decision is Decision.REJECTED
    assert [c.code for c in checks] == ["pdf.timestamp_invalid"]
    assert "chain" in checks[0].detail and "Штамп времени" in checks[0].message_ru


def test_package_with_an_expired_certificate_and_an_untrusted_time_stamp_is_not_accepted(tsa: TsaPki, lapsed_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    stamped = doc_timestamp(tsa, "tsa_untrusted", lapsed_signed, tmp_path / "stamped.pdf", tsa.now - timedelta(days=29))
    decision, checks = charter_checks(stamped, store, tmp_path)
    assert decision is Decision.REJECTED
    assert sorted(c.code for c in checks) == ["pdf.timestamp_invalid", "signature.expired"]


def test_gateway_verify_exits_0_with_a_valid_covering_time_stamp_and_1_with_an_untrusted_one(pki: TestPki, tsa: TsaPki, lapsed_signed: Path, tmp_path: Path) -> None:
    good = doc_timestamp(tsa, "tsa256", lapsed_signed, tmp_path / "good.pdf", tsa.now - timedelta(days=29))
    run = gateway("verify", good, "--trust", pki.trust_dir, "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    output = json.loads(run.stdout)
    assert output["signatures"][0]["timestamp"]["kind"] == "document"
    [stamp] = output["timestamps"]
    assert stamp["indication"] == "TOTAL_PASSED" and stamp["timestamp"]["valid"] is True

    bad = doc_timestamp(tsa, "tsa_noncritical", lapsed_signed, tmp_path / "bad.pdf", tsa.now - timedelta(days=29))
    run = gateway("verify", bad, "--trust", pki.trust_dir, "--json")
    assert run.returncode == 1
    [stamp] = json.loads(run.stdout)["timestamps"]
    assert stamp["indication"] != "TOTAL_PASSED" and stamp["timestamp"]["valid"] is False
    [eku] = [c for c in stamp["checks"] if c["name"] == "tsa.key_usage"]
    assert not eku["passed"] and "critical" in eku["detail"]


def test_gateway_verify_text_says_the_document_time_stamp_is_invalid_and_why(pki: TestPki, tsa: TsaPki, lapsed_signed: Path, tmp_path: Path) -> None:
    bad = doc_timestamp(tsa, "tsa_untrusted", lapsed_signed, tmp_path / "bad.pdf", tsa.now - timedelta(days=29))
    run = gateway("verify", bad, "--trust", pki.trust_dir)
    assert run.returncode == 1
    assert "НЕДЕЙСТВИТЕЛЕН" in run.stdout and "chain.path" in run.stdout
    good = doc_timestamp(tsa, "tsa256", lapsed_signed, tmp_path / "good.pdf", tsa.now - timedelta(days=29))
    text = gateway("verify", good, "--trust", pki.trust_dir).stdout
    assert "Подтверждено штампом времени документа" in text and "действителен (valid)" in text


@pytest.mark.parametrize(
    ("label", "other_imprint", "reason"),
    [
        ("tsa256", False, None),
        ("tsa_untrusted", False, "chain.path"),
        ("tsa_noncritical", False, "not marked critical"),
        ("tsa256", True, "messageImprint is not the digest of the ByteRange"),
    ],
    ids=["valid", "untrusted-tsa", "non-critical-eku", "imprint-over-other-bytes"],
)
def test_gateway_verify_lists_each_document_time_stamp_as_valid_or_invalid_with_the_reason(
    label: str, other_imprint: bool, reason: str | None, pki: TestPki, tsa: TsaPki, tmp_path: Path
) -> None:
    signed = pdfs.sign_pdf_gost(pki, "head256", pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "signed.pdf")
    stamped = doc_timestamp(tsa, label, signed, tmp_path / "stamped.pdf", other_imprint=other_imprint)
    run = gateway("verify", stamped, "--trust", pki.trust_dir, "--json")
    [stamp] = json.loads(run.stdout)["timestamps"]
    assert stamp["valid"] is (reason is None)
    assert run.returncode == (0 if reason is None else 1)
    if reason is None:
        assert stamp["reason"] is None
    else:
        assert reason in stamp["reason"]
