"""Red team: a PDF that is also an archive. A ZIP appended after ``%%EOF`` (or hidden in
the PDF with its end record near the end), a RAR appended: libmagic says PDF, the PDF
reader shows the document, and the member's detached signature covers every byte, so the
charter was accepted while ``unzip`` or WinRAR opens the same file as an archive carrying
a program nobody checked. Now ``pdf.polyglot`` (rejected), in the document slot and inside
a supporting archive. Regressions: a non-PDF prefix (HTML, MZ, PostScript, GIF) before
``%PDF`` is refused by type or as unreadable; an embedded signature with a ZIP appended
fails as bytes after the last revision; an encrypted PDF (empty user password) is
``pdf.encrypted`` also when signed and inside an archive."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.validators.packages import charter_checks, codes, letter, validate, verdict, zip_of
from tests.validators.rar_builder import rar5_stored
from validators.catalogue import Slot
from validators.checks import Severity
from validators.pdf_structure import check_pdf
from validators.trust import TrustStore

PROGRAM = b"MZ\x90\x00" + bytes(200)


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("install.exe", PROGRAM)
    return buffer.getvalue()


def _charter(pki: TestPki, store: TrustStore, tmp_path: Path, data: bytes) -> tuple[str, set[str]]:
    document = tmp_path / "Устав.pdf"
    document.write_bytes(data)
    signature = pki.sign("head256", document, tmp_path / "Устав.pdf.sig")
    result = validate(store, tmp_path, "charter", [(Slot.DOCUMENT, document), (Slot.SIGNATURE, signature)])
    return verdict(result), codes(result)


@pytest.fixture
def plain(tmp_path: Path) -> bytes:
    return pdfs.make_pdf(tmp_path / "plain.pdf", "Charter of the cooperative").read_bytes()


def test_control_a_signed_plain_charter_is_accepted(pki: TestPki, store: TrustStore, tmp_path: Path, plain: bytes) -> None:
    assert _charter(pki, store, tmp_path, plain) == ("accepted", set())


@pytest.mark.parametrize("tail", ["zip", "rar4", "rar5"])
def test_a_pdf_with_an_archive_appended_is_rejected(pki: TestPki, store: TrustStore, tmp_path: Path, plain: bytes, tail: str) -> None:
    from tests.validators.rar_builder import rar4_stored

    archive = {"zip": _zip_bytes, "rar4": lambda: rar4_stored([("install.exe", PROGRAM)]), "rar5": lambda: rar5_stored([("install.exe", PROGRAM)])}[tail]()
    assert _charter(pki, store, tmp_path, plain + archive) == ("rejected", {"pdf.polyglot"})


def test_a_zip_whose_directory_hides_inside_the_pdf_is_rejected(pki: TestPki, store: TrustStore, tmp_path: Path, plain: bytes) -> None:
    # The whole ZIP sits in a PDF comment followed by a new %%EOF: an unzipper still finds
    # its end record within the last 64 KiB and its directory before it.
    hidden = plain + b"%" + _zip_bytes() + b"\n%%EOF\n"
    assert zipfile.ZipFile(io.BytesIO(hidden)).namelist() == ["install.exe"]
    decision, found = _charter(pki, store, tmp_path, hidden)
    assert decision == "rejected" and "pdf.polyglot" in found


def test_a_polyglot_inside_a_letters_archive_is_rejected(pki: TestPki, store: TrustStore, tmp_path: Path, plain: bytes) -> None:
    folder = tmp_path / "inner"
    folder.mkdir()
    document = folder / "Справка.pdf"
    document.write_bytes(plain + _zip_bytes())
    signature = pki.sign("head256", document, folder / "Справка.pdf.sig")
    attachment = zip_of(tmp_path / "Приложение.zip", {"Справка.pdf": document.read_bytes(), "Справка.pdf.sig": signature.read_bytes()})
    result = letter(store, pki, tmp_path, attachment)
    assert verdict(result) == "rejected"
    assert "pdf.polyglot" in codes(result)


def test_the_polyglot_finding_is_fatal_and_says_what_was_found(tmp_path: Path, plain: bytes) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(plain + _zip_bytes())
    [found] = check_pdf(path, "a.pdf")
    assert (found.code, found.severity) == ("pdf.polyglot", Severity.FATAL)
    assert "install.exe" in found.detail


def test_a_rar_far_from_the_end_is_still_found(tmp_path: Path, plain: bytes) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(plain + rar5_stored([("install.exe", PROGRAM)]) + b"%" + bytes(2 << 20) + b"\n%%EOF\n")
    [found] = check_pdf(path, "a.pdf")
    assert found.code == "pdf.polyglot"


def test_control_rar_magic_inside_the_pdf_body_is_not_a_polyglot(tmp_path: Path) -> None:
    path = pdfs.make_pdf(tmp_path / "a.pdf", "Rar!\x1a\x07 in the text")
    assert [c.code for c in check_pdf(path, "a.pdf")] == []


@pytest.mark.parametrize("prefix", [b"<html><body>x</body></html>\n", b"MZ" + bytes(100), b"%!PS-Adobe-3.0\n", b"GIF89a;"], ids=["html", "mz", "ps", "gif"])
def test_a_non_pdf_prefix_before_the_header_is_refused(pki: TestPki, store: TrustStore, tmp_path: Path, plain: bytes, prefix: bytes) -> None:
    decision, found = _charter(pki, store, tmp_path, prefix + plain)
    assert decision == "rejected"
    assert found & {"pdf.corrupt", "file.type_not_allowed"}


def test_an_embedded_signature_with_a_zip_appended_is_rejected(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    signed = pdfs.sign_pdf_gost(pki, "head256", pdfs.make_pdf(tmp_path / "p.pdf", "Charter"), tmp_path / "s.pdf")
    appended = tmp_path / "Устав.pdf"
    appended.write_bytes(signed.read_bytes() + _zip_bytes())
    decision, checks = charter_checks(appended, store, tmp_path)
    assert decision.value == "rejected"
    assert {c.code for c in checks} & {"pdf.polyglot", "pdf.modified_after_signing"}


def test_an_encrypted_pdf_with_an_empty_password_is_refused_signed_or_archived(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    encrypted = pdfs.encrypt_pdf(pdfs.make_pdf(tmp_path / "p.pdf", "Charter"), tmp_path / "enc.pdf", password="")
    assert _charter(pki, store, tmp_path, encrypted.read_bytes()) == ("rejected", {"pdf.encrypted"})
    signature = pki.sign("head256", encrypted, tmp_path / "enc.pdf.sig")
    attachment = zip_of(tmp_path / "Приложение.zip", {"Устав.pdf": encrypted.read_bytes(), "Устав.pdf.sig": signature.read_bytes()})
    result = letter(store, pki, tmp_path, attachment)
    assert verdict(result) == "rejected" and "pdf.encrypted" in codes(result)
