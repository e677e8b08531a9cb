"""Red team: an acting head who appoints themself. A report signed by the chief accountant
with the member's organisation certificate counts when an order (named and worded as one,
naming the signer) is signed by the member «with another certificate»: the accountant
signed the order with a second certificate of their own (a renewed one, or one from
another CA) and the report passed as the acting head's. Nobody appoints themself: the
order's signature must come from another person (СНИЛС, else the full name), not merely
another certificate."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pki.builder import TestPki
from tests.pki.second_certificates import issue_second_certificates
from tests.pki.textpdf import scan_pdf, text_pdf
from tests.validators.packages import codes, report_package, signed_entries, validate, verdict
from validators.catalogue import Slot
from validators.trust import TrustStore

ORDER_LINES = [
    'Кредитный потребительский кооператив "Тест"',
    "ПРИКАЗ от 10.01.2025 № 3",
    "О возложении исполнения обязанностей председателя правления",
    "ПРИКАЗЫВАЮ: возложить исполнение обязанностей председателя правления",
    "на главного бухгалтера Петрову Марию Сергеевну с 13.01.2025 по 31.01.2025.",
    "Председатель правления И. П. Иванов",
]


@pytest.fixture(scope="module")
def seconds(pki: TestPki) -> TestPki:
    return issue_second_certificates(pki)


ORDER = "Приказ_о_возложении_обязанностей.pdf"


def _report_with_order(pki: TestPki, store: TrustStore, tmp_path: Path, order_signer: str, scanned: bool = False, cosigner: str | None = None) -> tuple[str, set[str]]:
    source = scan_pdf(tmp_path / "o.pdf") if scanned else text_pdf(tmp_path / "o.pdf", ORDER_LINES)
    order = signed_entries(pki, tmp_path, ORDER, source.read_bytes(), order_signer)
    if cosigner is not None:
        first = tmp_path / "first.sig"
        first.write_bytes(order[ORDER + ".sig"])
        order[ORDER + ".sig"] = pki.cosign(first, cosigner, source, tmp_path / "both.sig").read_bytes()
    package = report_package(pki, tmp_path, "accountant256", extra=order)
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, package)], report_kind="OD_Q1")
    return verdict(result), codes(result)


def test_control_an_order_signed_by_the_head_appoints_the_accountant(seconds: TestPki, store: TrustStore, tmp_path: Path) -> None:
    assert _report_with_order(seconds, store, tmp_path, "head256") == ("accepted", set())


@pytest.mark.parametrize("scanned", [False, True], ids=["text", "scan"])
def test_an_order_signed_with_the_appointees_second_certificate_does_not_appoint(seconds: TestPki, store: TrustStore, tmp_path: Path, scanned: bool) -> None:
    decision, found = _report_with_order(seconds, store, tmp_path, "accountant_second256", scanned=scanned)
    assert decision == "returned"
    assert "signer.not_head" in found


@pytest.mark.parametrize("scanned", [False, True], ids=["text", "scan"])
def test_an_order_cosigned_with_both_certificates_of_the_appointee_does_not_appoint(seconds: TestPki, store: TrustStore, tmp_path: Path, scanned: bool) -> None:
    # Each certificate "appoints" the other: the report's and the order's signers pass.
    decision, found = _report_with_order(seconds, store, tmp_path, "accountant256", scanned=scanned, cosigner="accountant_second256")
    assert decision == "returned"
    assert "signer.not_head" in found


def test_control_an_order_cosigned_by_the_appointee_and_the_head_appoints(seconds: TestPki, store: TrustStore, tmp_path: Path) -> None:
    assert _report_with_order(seconds, store, tmp_path, "accountant256", cosigner="head256") == ("accepted", set())


def test_control_a_scanned_order_signed_by_the_head_counts_with_a_warning(seconds: TestPki, store: TrustStore, tmp_path: Path) -> None:
    assert _report_with_order(seconds, store, tmp_path, "head256", scanned=True) == ("accepted", {"document.unreadable"})


