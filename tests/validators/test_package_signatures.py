"""validators.package: what counts as a signature, attached signatures, each signature once.

Real GOST signatures from the test PKI, archives built here, the package validator called
directly (the HTTP path is covered in tests/gateway).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.validators.packages import CMS_LOOKING_PREFIX, codes, fatal, letter, validate, zip_of
from validators.catalogue import Slot
from validators.files import FileKind, detect_type
from validators.trust import TrustStore

# --- one parser: a signature is what parses completely ---------------------------------------


def test_a_truncated_signature_is_not_a_signature(pki: TestPki, tmp_path: Path) -> None:
    signature = pki.sign("head256", pdfs.make_pdf(tmp_path / "a.pdf"), tmp_path / "a.pdf.sig")
    assert detect_type(signature).kind is FileKind.SIGNATURE
    signature.write_bytes(signature.read_bytes()[:-40])
    assert detect_type(signature).kind is FileKind.OTHER


def test_a_signature_followed_by_a_pdf_is_not_a_signature(pki: TestPki, tmp_path: Path) -> None:
    signature = pki.sign("head256", pdfs.make_pdf(tmp_path / "a.pdf"), tmp_path / "a.pdf.sig")
    signature.write_bytes(signature.read_bytes() + pdfs.make_pdf(tmp_path / "b.pdf").read_bytes())
    detected = detect_type(signature)
    assert detected.kind is FileKind.OTHER and "follow the CMS structure" in detected.description


def test_an_attached_signature_is_detected_as_attached(pki: TestPki, tmp_path: Path) -> None:
    charter = pdfs.make_pdf(tmp_path / "Устав.pdf")
    attached = detect_type(pki.sign("head256", charter, tmp_path / "a.sig", attached=True))
    assert (attached.attached, attached.content_kind) == (True, FileKind.PDF)
    detached = detect_type(pki.sign("head256", charter, tmp_path / "d.sig"))
    assert (detached.attached, detached.content_kind) == (False, None)


def test_a_pdf_named_p7s_in_an_archive_is_a_document_with_a_finding_not_a_signature(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    pdf = pdfs.make_pdf(tmp_path / "x.pdf").read_bytes()
    report = pdfs.make_pdf(tmp_path / "r.pdf", "Report").read_bytes()
    archive = zip_of(tmp_path / "Приложение.zip", {"Справка.pdf": report, "Справка.pdf.p7s": pdf})
    result = letter(store, pki, tmp_path, archive)
    mismatch = [c for c in result.checks if c.code == "file.extension_mismatch"]
    assert [c.file for c in mismatch] == ["Приложение.zip/Справка.pdf.p7s"]
    # Neither file is signed: the PDF named .p7s did not count as Справка.pdf's signature.
    missing = {c.file for c in result.checks if c.code == "signature.missing"}
    assert missing == {"Приложение.zip/Справка.pdf", "Приложение.zip/Справка.pdf.p7s"}


def test_a_pdf_behind_cms_looking_bytes_named_sig_is_a_signature_format_finding(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    forged = CMS_LOOKING_PREFIX + pdfs.make_pdf(tmp_path / "x.pdf").read_bytes()
    archive = zip_of(tmp_path / "Приложение.zip", {"Справка.txt": b"text", "Справка.txt.sig": forged})
    result = letter(store, pki, tmp_path, archive)
    assert any(c.code == "signature.format" and c.file == "Приложение.zip/Справка.txt.sig" for c in result.checks)
    assert any(c.code == "signature.missing" and c.file == "Приложение.zip/Справка.txt" for c in result.checks)
    assert fatal(result)


@pytest.mark.parametrize(
    ("name", "data"),
    [("setup.exe", Path("/bin/true").read_bytes()), ("run.sh", b"#!/bin/sh\nrm -rf ~\n"), ("old.7z", bytes.fromhex("377abcaf271c0004") + bytes(40))],
    ids=["program", "script", "7z"],
)
def test_a_program_a_script_or_an_unreadable_archive_is_not_a_document(pki: TestPki, store: TrustStore, tmp_path: Path, name: str, data: bytes) -> None:
    archive = zip_of(tmp_path / "Приложение.zip", {name: data})
    result = letter(store, pki, tmp_path, archive)
    assert [c.file for c in result.checks if c.code == "file.not_document"] == [f"Приложение.zip/{name}"]
    assert fatal(result)


def test_unnamed_binary_data_is_a_document_that_must_be_signed(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    archive = zip_of(tmp_path / "Приложение.zip", {"выгрузка.dbf": bytes(range(256)) * 8})
    result = letter(store, pki, tmp_path, archive)
    assert [(c.code, c.file) for c in result.checks] == [("signature.missing", "Приложение.zip/выгрузка.dbf")]


def test_a_detached_signature_in_the_document_slot_is_a_wrong_format(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    detached = pki.sign("head256", pdfs.make_pdf(tmp_path / "Устав.pdf"), tmp_path / "Устав.pdf.sig")
    result = validate(store, tmp_path, "charter", [(Slot.DOCUMENT, detached)])
    assert "file.type_not_allowed" in codes(result) and fatal(result)


# --- attached signatures -------------------------------------------------------------------------


def test_an_attached_signature_charter_is_accepted_and_its_pdf_checked(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    charter = pdfs.make_pdf(tmp_path / "Устав.pdf", "Charter")
    attached = pki.sign("head256", charter, tmp_path / "out" / "Устав.pdf.sig", attached=True)
    result = validate(store, tmp_path, "charter", [(Slot.DOCUMENT, attached)])
    assert result.checks == ()
    [signed] = result.signatures
    assert (signed.file, signed.report.kind, signed.report.qualified) == ("Устав.pdf.sig", "attached", True)


def test_the_pdf_inside_an_attached_signature_gets_the_pdf_structure_checks(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    scripted = pdfs.make_pdf(tmp_path / "Устав.pdf", catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")
    attached = pki.sign("head256", scripted, tmp_path / "out" / "Устав.pdf.sig", attached=True)
    result = validate(store, tmp_path, "charter", [(Slot.DOCUMENT, attached)])
    assert codes(result) == {"pdf.active_content"}


def test_the_embedded_signature_of_a_pdf_inside_an_attached_signature_is_verified_too(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    charter = pdfs.sign_pdf_gost(pki, "head256", pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "Устав.pdf")
    attached = pki.sign("head256", charter, tmp_path / "out" / "Устав.pdf.sig", attached=True)
    result = validate(store, tmp_path, "charter", [(Slot.DOCUMENT, attached)])
    assert result.checks == ()
    assert sorted(s.report.kind for s in result.signatures) == ["attached", "embedded"]


def test_an_attached_signature_carrying_a_zip_is_not_a_charter(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    archive = zip_of(tmp_path / "a.zip", {"a.txt": b"x"})
    attached = pki.sign("head256", archive, tmp_path / "out" / "Устав.pdf.sig", attached=True)
    result = validate(store, tmp_path, "charter", [(Slot.DOCUMENT, attached)])
    assert "file.type_not_allowed" in codes(result) and fatal(result)


def _tampered(signature: Path, old: bytes, new: bytes) -> Path:
    data = signature.read_bytes()
    assert data.count(old) == 1 and len(old) == len(new)
    signature.write_bytes(data.replace(old, new))
    return signature


def test_an_attached_signature_whose_content_was_changed_fails_the_charter(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    attached = pki.sign("head256", pdfs.make_pdf(tmp_path / "Устав.pdf", "Charter v1"), tmp_path / "out" / "Устав.pdf.sig", attached=True)
    result = validate(store, tmp_path, "charter", [(Slot.DOCUMENT, _tampered(attached, b"Charter v1", b"Charter v2"))])
    assert "signature.invalid" in codes(result) and fatal(result)


def test_an_attached_signature_in_an_archive_is_verified_and_its_content_judged(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    inner = pki.sign("head256", pdfs.make_pdf(tmp_path / "Справка.pdf", "Reference"), tmp_path / "s" / "Справка.pdf.sig", attached=True)
    archive = zip_of(tmp_path / "Приложение.zip", {"Справка.pdf.sig": inner.read_bytes()})
    result = letter(store, pki, tmp_path, archive)
    assert result.checks == (), result.checks
    assert {(s.file, s.report.kind) for s in result.signatures} == {("Письмо.pdf", "detached"), ("Приложение.zip/Справка.pdf.sig", "attached")}


def test_a_tampered_attached_signature_in_an_archive_is_rejected(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    inner = pki.sign("head256", pdfs.make_pdf(tmp_path / "Справка.pdf", "Sum 1000"), tmp_path / "s" / "Справка.pdf.sig", attached=True)
    archive = zip_of(tmp_path / "Приложение.zip", {"Справка.pdf.sig": _tampered(inner, b"Sum 1000", b"Sum 9000").read_bytes()})
    result = letter(store, pki, tmp_path, archive)
    assert any(c.code == "signature.invalid" and c.file == "Приложение.zip/Справка.pdf.sig" for c in result.checks)
    assert fatal(result)


def test_an_untrusted_attached_signature_in_an_archive_is_rejected(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    inner = pki.sign("untrusted256", pdfs.make_pdf(tmp_path / "Справка.pdf"), tmp_path / "s" / "Справка.pdf.sig", attached=True)
    archive = zip_of(tmp_path / "Приложение.zip", {"Справка.pdf.sig": inner.read_bytes()})
    result = letter(store, pki, tmp_path, archive)
    assert "signature.untrusted" in codes(result) and fatal(result)


def test_the_content_of_an_attached_signature_in_an_archive_must_agree_with_its_name(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    text = tmp_path / "Справка.txt"
    text.write_bytes("Справка".encode())
    inner = pki.sign("head256", text, tmp_path / "s" / "x.sig", attached=True)
    archive = zip_of(tmp_path / "Приложение.zip", {"Справка.pdf.sig": inner.read_bytes()})
    result = letter(store, pki, tmp_path, archive)
    assert [c.file for c in result.checks if c.code == "file.extension_mismatch"] == ["Приложение.zip/Справка.pdf.sig"]


def test_an_archive_inside_an_attached_signature_is_unpacked_and_covered_by_it(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    inner_zip = zip_of(tmp_path / "Документы.zip", {"Справка.xml": "<Справка/>".encode()})
    inner = pki.sign("head256", inner_zip, tmp_path / "s" / "Документы.zip.sig", attached=True)
    archive = zip_of(tmp_path / "Приложение.zip", {"Документы.zip.sig": inner.read_bytes()})
    result = letter(store, pki, tmp_path, archive)
    assert result.checks == (), result.checks
    assert "Приложение.zip/Документы.zip.sig/Справка.xml" in result.documents


@pytest.mark.parametrize("encoding", ["pem", "base64"])
def test_an_attached_signature_in_text_encodings_is_accepted(pki: TestPki, store: TrustStore, tmp_path: Path, encoding: str) -> None:
    charter = pdfs.make_pdf(tmp_path / "Устав.pdf")
    attached = pki.sign("head256", charter, tmp_path / "out" / "Устав.pdf.sig", attached=True, encoding=encoding)  # type: ignore[arg-type]
    result = validate(store, tmp_path, "charter", [(Slot.DOCUMENT, attached)])
    assert result.checks == () and result.signatures[0].report.kind == "attached"


# --- each signature once -----------------------------------------------------------------------


def test_a_signature_beside_an_uploaded_pdf_on_disk_is_verified_once(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    # `gateway check` passes files where they lie: Устав.pdf.sig sits beside Устав.pdf.
    charter = pdfs.sign_pdf_gost(pki, "head256", pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "Устав.pdf")
    detached = pki.sign("head256", charter, tmp_path / "Устав.pdf.sig")
    result = validate(store, tmp_path, "charter", [(Slot.DOCUMENT, charter), (Slot.SIGNATURE, detached)])
    assert sorted(s.report.kind for s in result.signatures) == ["detached", "embedded"]


def test_an_attached_signature_carrying_the_report_zip_is_accepted_and_named_by_it(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    inner = tmp_path / "in"
    inner.mkdir()
    document = inner / "report.xml"
    document.write_bytes("<Отчет/>".encode())
    package = zip_of(tmp_path / "42_OD.zip", {"report.xml": document.read_bytes(), "report.xml.sig": pki.sign("head256", document, inner / "r.sig").read_bytes()})
    attached = pki.sign("head256", package, tmp_path / "out" / "42_OD.zip.sig", attached=True)
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, attached)], report_kind="OD_Q1")
    assert result.checks == ()
    assert {s.file for s in result.signatures} == {"42_OD.zip.sig", "42_OD.zip.sig/report.xml"}
    wrong = pki.sign("head256", package, tmp_path / "out" / "0042_od.zip.sig", attached=True)
    [check] = validate(store, tmp_path, "report", [(Slot.DOCUMENT, wrong)], report_kind="OD_Q1").checks
    assert check.code == "name.report_pattern" and "42_OD.zip" in check.remedy_ru


def test_archives_inside_attached_signatures_share_the_packages_extraction_budget(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    from tests.validators.packages import members
    from validators.archives import ArchiveLimits
    from validators.package import PackageLimits, UploadedFile, ValidationContext, validate_package
    from validators.signatures.verify import VerificationPolicy

    inner_zip = zip_of(tmp_path / "Документы.zip", {"Справка.txt": b"x" * 300_000})
    inner = pki.sign("head256", inner_zip, tmp_path / "s" / "Документы.zip.sig", attached=True)
    entries = {f"{n}/Документы.zip.sig": inner.read_bytes() for n in range(4)}
    archive = zip_of(tmp_path / "Приложение.zip", entries)
    cover = pdfs.make_pdf(tmp_path / "Письмо.pdf")
    signature = pki.sign("head256", cover, tmp_path / "Письмо.pdf.sig")
    work = tmp_path / "work"
    work.mkdir()
    # Each attached archive alone fits; together they exceed the package's 1 MB budget.
    limits = PackageLimits(archive=ArchiveLimits(max_total_bytes=1_000_000))
    ctx = ValidationContext("42", "letter", None, None, members(tmp_path), store, VerificationPolicy(), work, limits)
    uploads = [UploadedFile(Slot.DOCUMENT, cover.name, cover), UploadedFile(Slot.ATTACHMENT, archive.name, archive), UploadedFile(Slot.SIGNATURE, signature.name, signature)]
    result = validate_package(uploads, ctx)
    assert "archive.too_large" in codes(result) and fatal(result)


def test_an_archive_in_an_attached_signature_inside_another_one_is_too_deep(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    innermost = pki.sign("head256", zip_of(tmp_path / "a.zip", {"a.txt": b"x"}), tmp_path / "s" / "a.zip.sig", attached=True)
    middle = pki.sign("head256", zip_of(tmp_path / "b.zip", {"a.zip.sig": innermost.read_bytes()}), tmp_path / "s" / "b.zip.sig", attached=True)
    result = letter(store, pki, tmp_path, zip_of(tmp_path / "Приложение.zip", {"папка/b.zip.sig": middle.read_bytes()}))
    assert [c.file for c in result.checks if c.code == "archive.nested_too_deep"] == ["Приложение.zip/папка/b.zip.sig/a.zip.sig"]
