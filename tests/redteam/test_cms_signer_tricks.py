"""Red team (regressions): a CMS signature with several SignerInfos where one is the
member's head and valid and the other is garbage (its signature value altered) or by
another organisation. A broken SignerInfo is never hidden by a valid one: ``gateway
verify`` does not exit 0, and the package is not accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from asn1crypto import cms

from tests.conftest import verify
from tests.pki.builder import TestPki
from tests.validators.packages import codes, validate, verdict, zip_of
from validators.catalogue import Slot
from validators.signatures.model import Indication
from validators.trust import TrustStore

REPORT = "<Отчет>ОД КПК</Отчет>".encode()


def _cosigned(pki: TestPki, tmp_path: Path, second: str, *, break_second: bool) -> tuple[Path, Path]:
    document = tmp_path / "report.xml"
    document.write_bytes(REPORT)
    first = pki.sign("head256", document, tmp_path / "head.sig")
    both = pki.cosign(first, second, document, tmp_path / "both.sig")
    if break_second:
        info = cms.ContentInfo.load(both.read_bytes())
        for signer_info in info["content"]["signer_infos"]:
            if signer_info["sid"].chosen["serial_number"].native == pki.serial(second):
                value = bytearray(signer_info["signature"].native)
                value[5] ^= 0x01
                signer_info["signature"] = bytes(value)
        both.write_bytes(info.dump())
    return document, both


@pytest.mark.parametrize("second", ["accountant256", "foreign256"])
def test_a_broken_second_signer_is_not_hidden_by_the_valid_first(pki: TestPki, store: TrustStore, tmp_path: Path, second: str) -> None:
    document, both = _cosigned(pki, tmp_path, second, break_second=True)
    report = verify(both, store, document)
    assert sorted(s.indication.value for s in report.signatures) == ["TOTAL_FAILED", "TOTAL_PASSED"]
    assert not report.all_qualified_and_passed
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, zip_of(tmp_path / "42_OD.zip", {"report.xml": REPORT, "report.xml.sig": both.read_bytes()}))], report_kind="OD_Q1")
    assert verdict(result) == "rejected"
    assert "signature.invalid" in codes(result)


def test_a_valid_co_signature_of_another_organisation_is_named(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    document, both = _cosigned(pki, tmp_path, "foreign256", break_second=False)
    assert all(s.indication is Indication.TOTAL_PASSED for s in verify(both, store, document).signatures)
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, zip_of(tmp_path / "42_OD.zip", {"report.xml": REPORT, "report.xml.sig": both.read_bytes()}))], report_kind="OD_Q1")
    assert verdict(result) == "rejected"
    assert "signer.foreign_org" in codes(result)


def test_the_heads_countersignature_does_not_make_an_employees_signature_the_heads(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    """The chief accountant signs the report with the member's organisation certificate
    (not the head's) and no appointment order; the head countersigns the accountant's
    signature value (RFC 5652, 11.4). A countersignature signs a signature, not the
    document: the report is still the accountant's, never accepted as the head's."""
    from tests.pki.cms_resign import add_countersignature

    document = tmp_path / "report.xml"
    document.write_bytes(REPORT)
    signed = pki.sign("accountant256", document, tmp_path / "accountant.sig")
    both = add_countersignature(signed, pki.cert("head256"), pki.key("head256"), tmp_path / "countersigned.sig")
    [only] = verify(both, store, document).signatures
    assert only.signer is not None and only.signer.surname == "Петрова"
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, zip_of(tmp_path / "42_OD.zip", {"report.xml": REPORT, "report.xml.sig": both.read_bytes()}))], report_kind="OD_Q1")
    assert verdict(result) != "accepted", codes(result)
    assert "signer.not_head" in codes(result), codes(result)
