"""validators.package: who signed, and may they sign this document type for the member
(issue 11 §2): the head, personal certificates, third parties, appointment orders and
accounting statements recognised by their content.

Personal certificates come from tests/pki/persons.py (СНИЛС, ИНН ФЛ, no ОГРН).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pki import pdf as pdfs
from tests.pki.builder import FOREIGN_INNLE, FOREIGN_OGRN, KPK_INNLE, KPK_NAME, KPK_OGRN, TestPki
from tests.pki.persons import add_person_certificates
from tests.pki.textpdf import scan_pdf, text_pdf
from tests.validators.packages import (
    MEMBER,
    codes,
    letter,
    members,
    report_package,
    signed_entries,
    validate,
    verdict,
    zip_of,
)
from validators.catalogue import Slot
from validators.checks import Severity
from validators.package import PackageResult
from validators.signatures.model import Indication, SignatureReport, SignerIdentity
from validators.signatures.verify import VerificationPolicy, verify_cms
from validators.signers import SignerRole, signer_is_member, signer_role
from validators.trust import TrustStore

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"

ORDER_LINES = [
    'Кредитный потребительский кооператив "Тест"',
    "ПРИКАЗ от 10.01.2025 № 3",
    "О возложении исполнения обязанностей председателя правления",
    "В связи с отпуском председателя правления Иванова И. П.",
    "ПРИКАЗЫВАЮ: возложить исполнение обязанностей председателя правления",
    "на главного бухгалтера Петрову Марию Сергеевну с 13.01.2025 по 31.01.2025.",
    "Председатель правления И. П. Иванов",
]


@pytest.fixture(scope="module")
def persons(pki: TestPki) -> TestPki:
    return add_person_certificates(pki)


def report(store: TrustStore, tmp_path: Path, package: Path, kind: str = "OD_Q1") -> PackageResult:
    return validate(store, tmp_path, "report", [(Slot.DOCUMENT, package)], report_kind=kind)


def pdf_bytes(tmp_path: Path, name: str, lines: list[str]) -> bytes:
    return text_pdf(tmp_path / name, lines).read_bytes()


def signature_of(persons: TestPki, store: TrustStore, tmp_path: Path, label: str) -> SignatureReport:
    document = tmp_path / f"{label}.txt"
    document.write_text("x")
    signature = persons.sign(label, document, tmp_path / f"{label}.sig")
    [result] = verify_cms(signature.read_bytes(), store, VerificationPolicy(), document=document).signatures
    return result


# --- whose signature ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "role"),
    [
        ("head256", SignerRole.HEAD),
        ("accountant256", SignerRole.MEMBER_ORG),
        ("accountant_person256", SignerRole.PERSON),
        ("chair_person256", SignerRole.PERSON),
        ("head_person256", SignerRole.PERSON),
        ("member_name_no_ogrn256", SignerRole.PERSON),
        ("foreign256", SignerRole.OTHER_ORG),
        ("fns256", SignerRole.OTHER_ORG),
    ],
)
def test_the_role_of_each_certificate(persons: TestPki, store: TrustStore, tmp_path: Path, label: str, role: SignerRole) -> None:
    member = members(tmp_path).get(MEMBER)
    assert member is not None
    assert signer_role(signature_of(persons, store, tmp_path, label), member) is role


def test_a_certificate_without_ogrn_is_never_the_members_even_with_its_name_and_head(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    member = members(tmp_path).get(MEMBER)
    assert member is not None
    signature = signature_of(persons, store, tmp_path, "member_name_no_ogrn256")
    assert signature.signer is not None
    assert (signature.signer.organization, signature.signer.ogrn, signature.signer.surname) == (KPK_NAME, None, "Иванов")
    assert signature.qualified and signer_is_member(signature, member) is False


@pytest.mark.parametrize(
    "identity",
    [
        SignerIdentity(organization=KPK_NAME, inn_le=KPK_INNLE),
        SignerIdentity(organization=KPK_NAME, inn=KPK_INNLE, snils="12345678964"),
        SignerIdentity(organization=KPK_NAME, ogrn=FOREIGN_OGRN, inn_le=KPK_INNLE),
        SignerIdentity(organization=KPK_NAME, ogrn=KPK_OGRN, inn_le=FOREIGN_INNLE),
    ],
    ids=["inn-le-without-ogrn", "inn-without-ogrn", "foreign-ogrn-own-inn", "own-ogrn-foreign-inn"],
)
def test_only_the_members_ogrn_with_no_other_inn_makes_the_members_certificate(tmp_path: Path, identity: SignerIdentity) -> None:
    member = members(tmp_path).get(MEMBER)
    assert member is not None
    report = SignatureReport(Indication.TOTAL_PASSED, None, True, identity, None, None, None, None, ())
    assert signer_is_member(report, member) is False
    assert signer_role(report, member) is not SignerRole.HEAD and signer_role(report, member) is not SignerRole.MEMBER_ORG


def test_a_report_signed_with_a_certificate_without_ogrn_is_not_the_members(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    result = report(store, tmp_path, report_package(persons, tmp_path, "member_name_no_ogrn256"))
    # A personal certificate: it signs only under an МЧД, and a report also needs the head.
    assert verdict(result) == "returned" and codes(result) == {"poa.missing", "signer.not_head"}


def test_the_head_signing_with_a_personal_certificate_is_not_the_organisation_signing(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    result = report(store, tmp_path, report_package(persons, tmp_path, "head_person256"))
    assert verdict(result) == "returned" and codes(result) == {"poa.missing", "signer.not_head"}


# --- the foreign-signer rule on every document type -------------------------------------------


@pytest.mark.parametrize("doc_type", ["letter", "audit_conclusion", "registry_notice"])
def test_a_letter_signed_by_another_organisation_is_rejected(persons: TestPki, store: TrustStore, tmp_path: Path, doc_type: str) -> None:
    attachment = zip_of(tmp_path / "Приложение.zip", signed_entries(persons, tmp_path, "Справка.pdf", pdfs.make_pdf(tmp_path / "s.pdf").read_bytes()))
    result = letter(store, persons, tmp_path, attachment, doc_type, cover_label="foreign256")
    assert verdict(result) == "rejected"
    assert [c.file for c in result.checks if c.code == "signer.foreign_org"] == ["Письмо.pdf"]


def test_a_charter_signed_by_another_organisation_is_rejected(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    charter = pdfs.sign_pdf_gost(persons, "foreign256", pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "Устав.pdf")
    result = validate(store, tmp_path, "charter", [(Slot.DOCUMENT, charter)])
    assert verdict(result) == "rejected" and "signer.foreign_org" in codes(result)


def test_a_report_archive_document_signed_by_the_fns_is_foreign_not_third_party(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    extra = signed_entries(persons, tmp_path, "Выписка_ЕГРЮЛ.pdf", pdfs.make_pdf(tmp_path / "e.pdf").read_bytes(), "fns256")
    result = report(store, tmp_path, report_package(persons, tmp_path, extra=extra))
    assert verdict(result) == "rejected" and "signer.foreign_org" in codes(result)


# --- letters: the head, or a representative under an МЧД ---------------------------------------


@pytest.mark.parametrize("label", ["accountant256", "accountant_person256", "chair_person256"])
def test_a_cover_letter_not_signed_by_the_head_is_returned(persons: TestPki, store: TrustStore, tmp_path: Path, label: str) -> None:
    attachment = zip_of(tmp_path / "Приложение.zip", signed_entries(persons, tmp_path, "Справка.pdf", pdfs.make_pdf(tmp_path / "s.pdf").read_bytes()))
    result = letter(store, persons, tmp_path, attachment, cover_label=label)
    assert verdict(result) == "returned"
    # The member's organisation certificate of someone else is not authorised; a person
    # (personal certificate) would need an МЧД, and the package has none.
    expected = "signer.not_authorised" if label == "accountant256" else "poa.missing"
    assert [(c.code, c.file) for c in result.checks] == [(expected, "Письмо.pdf")]


# --- third parties and the audit commission ---------------------------------------------------


def test_an_fns_signed_extract_in_the_supporting_archive_is_accepted_with_an_info_finding(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    extract = signed_entries(persons, tmp_path, "Выписка_ЕГРЮЛ.pdf", pdfs.make_pdf(tmp_path / "e.pdf").read_bytes(), "fns256")
    result = letter(store, persons, tmp_path, zip_of(tmp_path / "Приложение.zip", extract))
    assert verdict(result) == "accepted"
    [info] = result.checks
    assert (info.code, info.severity, info.file) == ("signature.third_party", Severity.INFO, "Приложение.zip/Выписка_ЕГРЮЛ.pdf")
    assert "ФНС России" in info.detail


def test_a_third_party_signature_does_not_make_the_cover_letter_the_members(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    extract = signed_entries(persons, tmp_path, "Выписка_ЕГРЮЛ.pdf", pdfs.make_pdf(tmp_path / "e.pdf").read_bytes(), "fns256")
    result = letter(store, persons, tmp_path, zip_of(tmp_path / "Приложение.zip", extract), cover_label="fns256")
    assert verdict(result) == "rejected"
    assert [c.file for c in result.checks if c.code == "signer.foreign_org"] == ["Письмо.pdf"]


def test_an_invalid_third_party_signature_is_still_a_signature_failure(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    extract = signed_entries(persons, tmp_path, "Выписка_ЕГРЮЛ.xml", "<Выписка>1</Выписка>".encode(), "fns256")
    extract["Выписка_ЕГРЮЛ.xml"] = "<Выписка>2</Выписка>".encode()
    result = letter(store, persons, tmp_path, zip_of(tmp_path / "Приложение.zip", extract))
    assert verdict(result) == "rejected" and "signature.invalid" in codes(result) and "signature.third_party" not in codes(result)


def test_an_audit_conclusion_signed_by_the_chairs_personal_certificate_is_accepted(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    conclusion = signed_entries(persons, tmp_path, "Заключение_КРК.pdf", pdfs.make_pdf(tmp_path / "c.pdf").read_bytes(), "chair_person256")
    result = letter(store, persons, tmp_path, zip_of(tmp_path / "Приложение.zip", conclusion), "audit_conclusion")
    assert result.checks == ()
    assert {s.report.signer.surname for s in result.signatures if s.report.signer} == {"Смирнова", "Иванов"}


def test_a_persons_signature_in_a_letters_archive_is_a_third_party(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    statement = signed_entries(persons, tmp_path, "Заявление.pdf", pdfs.make_pdf(tmp_path / "c.pdf").read_bytes(), "chair_person256")
    result = letter(store, persons, tmp_path, zip_of(tmp_path / "Приложение.zip", statement))
    assert verdict(result) == "accepted" and codes(result) == {"signature.third_party"}


def test_the_audit_conclusions_cover_letter_is_still_the_members(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    conclusion = signed_entries(persons, tmp_path, "Заключение_КРК.pdf", pdfs.make_pdf(tmp_path / "c.pdf").read_bytes(), "chair_person256")
    result = letter(store, persons, tmp_path, zip_of(tmp_path / "Приложение.zip", conclusion), "audit_conclusion", cover_label="chair_person256")
    assert verdict(result) == "returned" and codes(result) == {"poa.missing"}


# --- reports: the head, or an acting head with an appointment order ---------------------------


def test_an_accountants_personal_signature_with_a_folder_named_order_is_returned(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    folder = signed_entries(persons, tmp_path, "приказ/скан.pdf", pdfs.make_pdf(tmp_path / "o.pdf").read_bytes(), "head256")
    result = report(store, tmp_path, report_package(persons, tmp_path, "accountant_person256", extra=folder))
    assert verdict(result) == "returned" and codes(result) == {"poa.missing", "signer.not_head"}


def test_a_folder_named_order_does_not_appoint_a_holder_of_the_members_certificate(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    folder = signed_entries(persons, tmp_path, "приказ/документ.xml", "<Документ>текст</Документ>".encode(), "head256")
    result = report(store, tmp_path, report_package(persons, tmp_path, "accountant256", extra=folder))
    assert verdict(result) == "returned" and codes(result) == {"signer.not_head"}


def test_an_order_naming_the_signer_with_appointment_wording_signed_by_the_member_is_accepted(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    order = signed_entries(persons, tmp_path, "Приказ_о_возложении_обязанностей.pdf", pdf_bytes(tmp_path, "o.pdf", ORDER_LINES), "head256")
    result = report(store, tmp_path, report_package(persons, tmp_path, "accountant256", extra=order))
    assert result.checks == ()


def test_an_order_signed_only_by_the_appointee_does_not_appoint(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    order = signed_entries(persons, tmp_path, "Приказ.pdf", pdf_bytes(tmp_path, "o.pdf", ORDER_LINES), "accountant256")
    result = report(store, tmp_path, report_package(persons, tmp_path, "accountant256", extra=order))
    assert verdict(result) == "returned" and codes(result) == {"signer.not_head", "document.not_appointment"}


def test_an_order_signed_by_another_organisation_does_not_appoint(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    order = signed_entries(persons, tmp_path, "Приказ.pdf", pdf_bytes(tmp_path, "o.pdf", ORDER_LINES), "foreign256")
    result = report(store, tmp_path, report_package(persons, tmp_path, "accountant256", extra=order))
    assert "signer.not_head" in codes(result) and verdict(result) == "rejected"


def test_a_file_named_order_without_appointment_wording_is_a_finding(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    lines = ["ПРИКАЗ № 4", "Об утверждении графика отпусков на 2025 год", "Утвердить график отпусков работников кооператива.", "Председатель правления И. П. Иванов"]
    order = signed_entries(persons, tmp_path, "Приказ_врио.pdf", pdf_bytes(tmp_path, "o.pdf", lines), "head256")
    result = report(store, tmp_path, report_package(persons, tmp_path, "accountant256", extra=order))
    assert verdict(result) == "returned" and codes(result) == {"signer.not_head", "document.not_appointment"}


def test_an_order_appointing_someone_else_does_not_appoint_the_signer(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    lines = [line.replace("Петрову Марию Сергеевну", "Сидорову Анну Павловну") for line in ORDER_LINES]
    order = signed_entries(persons, tmp_path, "Приказ.pdf", pdf_bytes(tmp_path, "o.pdf", lines), "head256")
    result = report(store, tmp_path, report_package(persons, tmp_path, "accountant256", extra=order))
    assert verdict(result) == "returned" and codes(result) == {"signer.not_head", "document.not_appointment"}


def test_a_scanned_order_without_text_is_accepted_with_a_warning_for_staff(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    order = signed_entries(persons, tmp_path, "Приказ_о_назначении.pdf", scan_pdf(tmp_path / "o.pdf").read_bytes(), "head256")
    result = report(store, tmp_path, report_package(persons, tmp_path, "accountant256", extra=order))
    assert verdict(result) == "accepted"
    [warning] = result.checks
    assert (warning.code, warning.severity) == ("document.unreadable", Severity.WARNING)


@pytest.mark.skipif(not (SEEDS / "sample-savings-key-info-ocr.txt").is_file(), reason="seeds absent")
def test_an_order_with_garbage_recognised_text_is_accepted_with_a_warning(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    garbage = (SEEDS / "sample-savings-key-info-ocr.txt").read_text("utf-8").splitlines()[:30]
    order = signed_entries(persons, tmp_path, "Приказ_о_назначении.pdf", pdf_bytes(tmp_path, "o.pdf", garbage), "head256")
    result = report(store, tmp_path, report_package(persons, tmp_path, "accountant256", extra=order))
    assert verdict(result) == "accepted" and codes(result) == {"document.unreadable"}


# --- accounting statements of the annual report ---------------------------------------------


def test_statements_recognised_by_okud_code_and_inn_are_accepted_whatever_their_name(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    xml = f'<?xml version="1.0" encoding="utf-8"?><Файл><Документ КНД="0710099" ОКУД="0710001"><СвНП ИННЮЛ="{KPK_INNLE}"/></Документ></Файл>'
    statements = signed_entries(persons, tmp_path, "NO_BOUPR_7700_7700.xml", xml.encode(), "head256")
    result = report(store, tmp_path, report_package(persons, tmp_path, extra=statements), "OD_Y90")
    assert result.checks == ()


def test_a_two_byte_balance_txt_is_not_the_accounting_statements(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    statements = signed_entries(persons, tmp_path, "balance.txt", b"ok", "head256")
    result = report(store, tmp_path, report_package(persons, tmp_path, extra=statements), "OD_Y90")
    assert verdict(result) == "returned" and codes(result) == {"report.accounting_not_recognised"}


def test_statements_of_another_inn_are_not_recognised(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    lines = ["Бухгалтерский баланс на 31 декабря 2024 г.", "Форма по ОКУД 0710001", "ИНН 7700000016", "Актив Пассив Баланс"]
    statements = signed_entries(persons, tmp_path, "Бухгалтерская_отчетность.pdf", pdf_bytes(tmp_path, "b.pdf", lines), "head256")
    result = report(store, tmp_path, report_package(persons, tmp_path, extra=statements), "OD_Y90")
    assert verdict(result) == "returned" and codes(result) == {"report.accounting_not_recognised"}


def test_statements_as_a_pdf_with_a_text_layer_are_accepted(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    lines = ["Бухгалтерский баланс на 31 декабря 2024 г.", "Форма по ОКУД 0710001", f"ИНН {KPK_INNLE}", "Актив Пассив Баланс"]
    statements = signed_entries(persons, tmp_path, "Бухгалтерская_отчетность.pdf", pdf_bytes(tmp_path, "b.pdf", lines), "head256")
    result = report(store, tmp_path, report_package(persons, tmp_path, extra=statements), "OD_Y90")
    assert result.checks == ()


def test_scanned_statements_are_accepted_with_a_warning(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    statements = signed_entries(persons, tmp_path, "Баланс_2024.pdf", scan_pdf(tmp_path / "b.pdf").read_bytes(), "head256")
    result = report(store, tmp_path, report_package(persons, tmp_path, extra=statements), "OD_Y90")
    assert verdict(result) == "accepted" and codes(result) == {"document.unreadable"}


def test_a_folder_named_accounting_does_not_make_statements(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    folder = signed_entries(persons, tmp_path, "бухгалтерская_отчетность/отчет.xml", "<Отчет>прочее</Отчет>".encode(), "head256")
    result = report(store, tmp_path, report_package(persons, tmp_path, extra=folder), "OD_Y90")
    assert verdict(result) == "returned" and codes(result) == {"report.accounting_missing"}


def test_statements_signed_by_another_organisation_do_not_count(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    xml = f'<Файл><Документ ОКУД="0710001"><СвНП ИННЮЛ="{KPK_INNLE}"/></Документ></Файл>'
    statements = signed_entries(persons, tmp_path, "Баланс.xml", xml.encode(), "foreign256")
    result = report(store, tmp_path, report_package(persons, tmp_path, extra=statements), "OD_Y90")
    assert verdict(result) == "rejected" and codes(result) == {"signer.foreign_org", "report.accounting_missing"}


def test_an_employees_signature_over_the_supporting_archive_is_the_members(persons: TestPki, store: TrustStore, tmp_path: Path) -> None:
    attachment = zip_of(tmp_path / "Приложение.zip", {"Справка.xml": "<Справка/>".encode()})
    cover = pdfs.make_pdf(tmp_path / "Письмо.pdf", "Cover letter")
    files = [
        (Slot.DOCUMENT, cover),
        (Slot.ATTACHMENT, attachment),
        (Slot.SIGNATURE, persons.sign("head256", cover, tmp_path / "Письмо.pdf.sig")),
        (Slot.SIGNATURE, persons.sign("accountant256", attachment, tmp_path / "Приложение.zip.sig")),
    ]
    assert validate(store, tmp_path, "letter", files).checks == ()
    files[3] = (Slot.SIGNATURE, persons.sign("foreign256", attachment, tmp_path / "Приложение.zip.sig"))
    result = validate(store, tmp_path, "letter", files)
    assert [(c.code, c.file) for c in result.checks] == [("signer.foreign_org", "Приложение.zip")]
