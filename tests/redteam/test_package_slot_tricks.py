"""Red team (regressions, all held): signature files and upload slots bent so that a
document seems signed when it is not. Swapped ``.sig`` names inside an archive, an empty
``.sig`` (in an archive and as an upload part), a ``.sig`` over the ``.sig`` while the
document was changed, the cover letter's signature renamed after the attachment, a
signature part that signs only the attachment, a second unsigned document beside a signed
one in the same slot, a letter without its cover, a report named with another member's
number or the other report kind. None is accepted."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.validators.packages import codes, report_package, signed_cover, signed_entries, validate, verdict, zip_of
from validators.catalogue import Slot
from validators.trust import TrustStore

GENUINE = "<Отчет>ОД КПК, займы 100 000</Отчет>".encode()
FORGED = "<Отчет>ОД КПК, займы 9 100 000</Отчет>".encode()


def _report(store: TrustStore, tmp_path: Path, items: list[tuple[str, bytes]]) -> tuple[str, set[str]]:
    path = tmp_path / "42_OD.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in items:
            archive.writestr(name, data)
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, path)], report_kind="OD_Q1")
    return verdict(result), codes(result)


def test_swapped_signature_names_in_a_report_are_invalid(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    a = signed_entries(pki, tmp_path, "a.xml", GENUINE)
    b = signed_entries(pki, tmp_path, "b.xml", FORGED)
    items = [("a.xml", GENUINE), ("b.xml", FORGED), ("a.xml.sig", b["b.xml.sig"]), ("b.xml.sig", a["a.xml.sig"])]
    assert _report(store, tmp_path, items) == ("rejected", {"signature.invalid"})


@pytest.mark.parametrize("extension", [".sig", ".p7s", ".sgn"])
def test_an_empty_signature_file_in_a_report_signs_nothing(store: TrustStore, tmp_path: Path, extension: str) -> None:
    decision, found = _report(store, tmp_path, [("a.xml", GENUINE), ("a.xml" + extension, b"")])
    assert decision == "rejected" and {"signature.missing", "signature.format"} <= found


def test_an_empty_second_signature_beside_a_valid_one_is_still_refused(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    signed = signed_entries(pki, tmp_path, "a.xml", GENUINE)
    assert _report(store, tmp_path, [*signed.items(), ("a.xml.p7s", b"")]) == ("rejected", {"signature.format"})


def test_a_signature_over_the_signature_does_not_sign_a_changed_document(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    signed = signed_entries(pki, tmp_path, "a.xml", GENUINE)
    over = signed_entries(pki, tmp_path, "a.xml.sig", signed["a.xml.sig"])
    decision, found = _report(store, tmp_path, [("a.xml", FORGED), *over.items()])
    assert decision == "rejected" and "signature.invalid" in found


def test_a_signature_over_a_garbage_sig_leaves_the_document_unsigned(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    over = signed_entries(pki, tmp_path, "a.xml.sig", b"not a signature")
    decision, found = _report(store, tmp_path, [("a.xml", FORGED), *over.items()])
    assert decision == "rejected" and "signature.missing" in found


@pytest.fixture
def attachment(pki: TestPki, tmp_path: Path) -> Path:
    return zip_of(tmp_path / "Приложение.zip", signed_entries(pki, tmp_path, "Справка.xml", GENUINE))


def test_a_signature_part_over_the_attachment_only_leaves_the_cover_unsigned(pki: TestPki, store: TrustStore, tmp_path: Path, attachment: Path) -> None:
    cover, _ = signed_cover(pki, tmp_path)
    archive_signature = pki.sign("head256", attachment, tmp_path / "Приложение.zip.sig")
    result = validate(store, tmp_path, "letter", [(Slot.DOCUMENT, cover), (Slot.ATTACHMENT, attachment), (Slot.SIGNATURE, archive_signature)])
    assert verdict(result) == "rejected" and "signature.missing" in codes(result)


def test_the_cover_signature_renamed_after_the_attachment_is_invalid(pki: TestPki, store: TrustStore, tmp_path: Path, attachment: Path) -> None:
    cover, signature = signed_cover(pki, tmp_path)
    renamed = tmp_path / "renamed" / "Приложение.zip.sig"
    renamed.parent.mkdir()
    renamed.write_bytes(signature.read_bytes())
    result = validate(store, tmp_path, "letter", [(Slot.DOCUMENT, cover), (Slot.ATTACHMENT, attachment), (Slot.SIGNATURE, renamed)])
    assert verdict(result) == "rejected" and {"signature.invalid", "signature.missing"} <= codes(result)


def test_an_empty_signature_part_is_refused(pki: TestPki, store: TrustStore, tmp_path: Path, attachment: Path) -> None:
    cover, signature = signed_cover(pki, tmp_path)
    empty = tmp_path / "empty" / "Письмо.pdf.p7s"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    result = validate(store, tmp_path, "letter", [(Slot.DOCUMENT, cover), (Slot.ATTACHMENT, attachment), (Slot.SIGNATURE, signature), (Slot.SIGNATURE, empty)])
    assert verdict(result) == "rejected" and "file.empty" in codes(result)


def test_a_second_unsigned_document_beside_a_signed_charter_is_refused(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    charter, signature = signed_cover(pki, tmp_path)
    unsigned = pdfs.make_pdf(tmp_path / "Устав_новая_редакция.pdf", "Forged charter")
    result = validate(store, tmp_path, "charter", [(Slot.DOCUMENT, charter), (Slot.SIGNATURE, signature), (Slot.DOCUMENT, unsigned)])
    assert verdict(result) == "rejected" and {"request.unexpected_file", "signature.missing"} <= codes(result)


def test_a_letter_without_its_cover_is_returned(store: TrustStore, tmp_path: Path, attachment: Path) -> None:
    result = validate(store, tmp_path, "letter", [(Slot.ATTACHMENT, attachment)])
    assert (verdict(result), codes(result)) == ("returned", {"request.slot_missing"})


@pytest.mark.parametrize(
    ("name", "kind", "code"),
    [("43_OD.zip", "OD_Q1", "name.member_number"), ("42_OD.zip", "PS", "name.report_pattern"), ("042_OD.zip", "OD_Q1", "name.report_pattern"), ("42_od.zip", "OD_Q1", "name.report_pattern")],
    ids=["another-member", "other-kind", "leading-zero", "lower-case"],
)
def test_a_report_name_not_the_members_own_is_returned(pki: TestPki, store: TrustStore, tmp_path: Path, name: str, kind: str, code: str) -> None:
    package = report_package(pki, tmp_path)
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, package)], report_kind=kind, name={package: name})
    assert (verdict(result), codes(result)) == ("returned", {code})


def test_a_report_signed_by_another_organisation_under_its_own_number_is_rejected(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    package = report_package(pki, tmp_path, "foreign256")
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, package)], report_kind="OD_Q1", name={package: "43_OD.zip"})
    assert verdict(result) == "rejected" and "signer.foreign_org" in codes(result)


def test_an_attached_signature_of_the_genuine_text_beside_a_forged_file_is_invalid(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    # Отчёт.xml.sig carries the genuine text; the file beside it is forged: the signature is
    # checked against the file it is named after, not against its own content alone.
    genuine = tmp_path / "genuine.xml"
    genuine.write_bytes(GENUINE)
    attached = pki.sign("head256", genuine, tmp_path / "genuine.sig", attached=True).read_bytes()
    assert _report(store, tmp_path, [("Отчёт.xml", FORGED), ("Отчёт.xml.sig", attached)]) == ("rejected", {"signature.invalid"})


def test_an_attached_signature_part_of_another_pdf_beside_a_forged_charter_is_invalid(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.make_pdf(tmp_path / "Устав.pdf", "Forged charter")
    attached = pki.sign("head256", pdfs.make_pdf(tmp_path / "g.pdf", "Genuine charter"), tmp_path / "s" / "Устав.pdf.sig", attached=True)
    result = validate(store, tmp_path, "charter", [(Slot.DOCUMENT, forged), (Slot.SIGNATURE, attached)])
    assert verdict(result) == "rejected" and "signature.invalid" in codes(result)
