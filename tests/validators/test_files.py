"""validators.files: type by content, extension agreement, sizes and names (SPEC section 5)."""

from __future__ import annotations

import base64
import shutil
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import magic
import pytest

from tests.pki.handmade_pdf import build_pdf
from validators.files import FileKind, check_file, check_file_name, detect_type

RAR5 = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "archives" / "libarchive" / "test_read_format_rar5_stored.rar"
PDF_SLOT = frozenset({FileKind.PDF})
ARCHIVE_SLOT = frozenset({FileKind.ZIP, FileKind.RAR})
SIGNATURE_SLOT = frozenset({FileKind.SIGNATURE})
MB = 1024 * 1024


@pytest.fixture(scope="module")
def cms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A self-signed RSA certificate (DER) and a detached DER CMS signature made with openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed")
    folder = tmp_path_factory.mktemp("cms")
    key, cert, doc = folder / "key.pem", folder / "cert.pem", folder / "doc.txt"
    doc.write_text("Отчетность КПК в СРО\n", encoding="utf-8")
    run = lambda *args: subprocess.run([openssl, *args], check=True, capture_output=True, cwd=folder)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-subj", "/CN=test", "-days", "2")
    run("cms", "-sign", "-binary", "-in", str(doc), "-signer", str(cert), "-inkey", str(key), "-outform", "DER", "-out", str(folder / "doc.txt.p7s"))
    run("x509", "-in", str(cert), "-outform", "DER", "-out", str(folder / "cert.der"))
    return {"signature": folder / "doc.txt.p7s", "certificate": folder / "cert.der"}


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def make_zip(folder: Path, name: str = "archive.zip") -> Path:
    path = folder / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("отчет.xml", "<report/>" * 50)
    return path


def codes(checks: list) -> list[str]:
    return [check.code for check in checks]


# --- detect_type -------------------------------------------------------------------------------


def test_a_pdf_is_detected_as_pdf_by_content(tmp_path: Path) -> None:
    detected = detect_type(write(tmp_path, "scan.bin", build_pdf()))
    assert (detected.kind, detected.mime) == (FileKind.PDF, "application/pdf")
    assert "PDF" in detected.description


def test_a_zip_made_with_zipfile_is_detected_as_zip(tmp_path: Path) -> None:
    detected = detect_type(make_zip(tmp_path, "archive.dat"))
    assert (detected.kind, detected.mime) == (FileKind.ZIP, "application/zip")


def test_a_rar5_archive_is_detected_as_rar(tmp_path: Path) -> None:
    if not RAR5.is_file():
        pytest.skip(f"{RAR5} not found")
    assert detect_type(RAR5).kind is FileKind.RAR


def test_a_der_cms_signature_is_detected_as_signature(cms: dict[str, Path]) -> None:
    detected = detect_type(cms["signature"])
    assert (detected.kind, detected.mime) == (FileKind.SIGNATURE, "application/pkcs7-signature")
    assert "DER" in detected.description


def test_a_base64_cms_signature_with_line_breaks_is_detected_as_signature(cms: dict[str, Path], tmp_path: Path) -> None:
    text = base64.encodebytes(cms["signature"].read_bytes()).replace(b"\n", b"\r\n")
    detected = detect_type(write(tmp_path, "doc.txt.sig", text))
    assert detected.kind is FileKind.SIGNATURE
    assert "base64" in detected.description


def test_a_pem_cms_signature_is_detected_as_signature(cms: dict[str, Path], tmp_path: Path) -> None:
    body = base64.encodebytes(cms["signature"].read_bytes())
    detected = detect_type(write(tmp_path, "doc.txt.sig", b"-----BEGIN CMS-----\n" + body + b"-----END CMS-----\n"))
    assert detected.kind is FileKind.SIGNATURE
    assert "PEM" in detected.description


def test_a_der_certificate_is_not_a_signature(cms: dict[str, Path]) -> None:
    assert detect_type(cms["certificate"]).kind is FileKind.OTHER


def test_base64_of_something_else_is_not_a_signature(tmp_path: Path) -> None:
    assert detect_type(write(tmp_path, "x.sig", base64.encodebytes(b"just some text, not a CMS" * 20))).kind is FileKind.OTHER


def test_plain_text_is_other(tmp_path: Path) -> None:
    detected = detect_type(write(tmp_path, "a.txt", "Письмо в СРО\n".encode() * 20))
    assert (detected.kind, detected.mime) == (FileKind.OTHER, "text/plain")


def test_detection_gives_the_same_answers_from_many_threads(tmp_path: Path) -> None:
    files = [write(tmp_path, "a.pdf", build_pdf()), make_zip(tmp_path), write(tmp_path, "a.txt", b"hello\n" * 10)]
    expected = [FileKind.PDF, FileKind.ZIP, FileKind.OTHER]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda index: detect_type(files[index % 3]).kind, range(300)))
    assert results == [expected[index % 3] for index in range(300)]


def test_the_description_is_libmagics_own_when_a_finding_reads_it(tmp_path: Path) -> None:
    text = write(tmp_path, "a.txt", "Письмо в СРО\n".encode() * 20)
    assert detect_type(text).description == magic.Magic().from_file(str(text))


def test_a_broken_cms_keeps_why_before_libmagics_description(tmp_path: Path) -> None:
    broken = write(tmp_path, "x.sig", bytes.fromhex("3080" "06092a864886f70d010702" "a080") + b"\x00" * 40)
    detected = detect_type(broken)
    assert detected.kind is FileKind.OTHER and detected.cms_problem
    assert detected.description.startswith("not a complete CMS SignedData (")
    assert detected.description.endswith("; libmagic: " + magic.Magic().from_file(str(broken)))


def test_descriptions_read_from_many_threads_at_once_are_libmagics(tmp_path: Path) -> None:
    files = [write(tmp_path, "a.pdf", build_pdf()), make_zip(tmp_path), write(tmp_path, "a.txt", b"hello\n" * 10)]
    expected = [magic.Magic().from_file(str(path)) for path in files]
    detected = [detect_type(files[index % 3]) for index in range(300)]  # read later, elsewhere
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda file_type: file_type.description, detected))
    assert results == [expected[index % 3] for index in range(300)]


def test_a_description_read_after_the_file_is_gone_says_unidentified(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", b"hello\n" * 10)
    detected = detect_type(path)
    path.unlink()
    assert detected.description.startswith("unidentified (")


# --- check_file ---------------------------------------------------------------------------------


def test_a_pdf_in_a_pdf_slot_has_no_findings(tmp_path: Path) -> None:
    file_type, checks = check_file(write(tmp_path, "u1", build_pdf()), "Письмо.pdf", PDF_SLOT, MB)
    assert checks == []
    assert file_type is not None and file_type.kind is FileKind.PDF


def test_the_extension_is_compared_case_insensitively(tmp_path: Path) -> None:
    assert check_file(write(tmp_path, "u1", build_pdf()), "SCAN.PDF", PDF_SLOT, MB)[1] == []


def test_a_zip_in_an_archive_slot_has_no_findings(tmp_path: Path) -> None:
    assert check_file(make_zip(tmp_path, "u1"), "7_OD.zip", ARCHIVE_SLOT, MB)[1] == []


def test_a_pdf_renamed_zip_is_an_extension_mismatch(tmp_path: Path) -> None:
    file_type, checks = check_file(write(tmp_path, "u1", build_pdf()), "Письмо.zip", PDF_SLOT, MB)
    assert codes(checks) == ["file.extension_mismatch"]
    assert file_type is not None and file_type.kind is FileKind.PDF


def test_a_zip_renamed_pdf_is_an_extension_mismatch(tmp_path: Path) -> None:
    _, checks = check_file(make_zip(tmp_path, "u1"), "Документы.pdf", ARCHIVE_SLOT, MB)
    assert codes(checks) == ["file.extension_mismatch"]
    assert "'.pdf'" in checks[0].detail


def test_a_rar_renamed_zip_is_an_extension_mismatch(tmp_path: Path) -> None:
    if not RAR5.is_file():
        pytest.skip(f"{RAR5} not found")
    assert codes(check_file(RAR5, "Документы.zip", ARCHIVE_SLOT, MB)[1]) == ["file.extension_mismatch"]


def test_a_pdf_without_an_extension_is_an_extension_mismatch(tmp_path: Path) -> None:
    assert codes(check_file(write(tmp_path, "u1", build_pdf()), "Письмо", PDF_SLOT, MB)[1]) == ["file.extension_mismatch"]


def test_a_pdf_in_an_archive_slot_is_a_type_not_allowed_not_a_mismatch(tmp_path: Path) -> None:
    _, checks = check_file(write(tmp_path, "u1", build_pdf()), "Документы.zip", ARCHIVE_SLOT, MB)
    assert codes(checks) == ["file.type_not_allowed"]


def test_a_text_file_in_a_pdf_slot_is_a_type_not_allowed_naming_its_mime_type(tmp_path: Path) -> None:
    file_type, checks = check_file(write(tmp_path, "u1", "Уважаемые коллеги.\nНаправляем письмо о внесении сведений в реестр.\n".encode() * 10), "Письмо.pdf", PDF_SLOT, MB)
    assert codes(checks) == ["file.type_not_allowed"]
    assert "text/plain" in checks[0].detail
    assert file_type is not None and file_type.kind is FileKind.OTHER


def test_a_signature_named_p7s_in_a_signature_slot_has_no_findings(cms: dict[str, Path]) -> None:
    assert check_file(cms["signature"], "Письмо.pdf.p7s", SIGNATURE_SLOT, MB)[1] == []


def test_an_empty_file_is_empty_and_has_no_type(tmp_path: Path) -> None:
    file_type, checks = check_file(write(tmp_path, "u1", b""), "Письмо.pdf", PDF_SLOT, MB)
    assert (file_type, codes(checks)) == (None, ["file.empty"])


def test_a_file_over_the_limit_is_too_large(tmp_path: Path) -> None:
    file_type, checks = check_file(write(tmp_path, "u1", build_pdf()), "Письмо.pdf", PDF_SLOT, 100)
    assert codes(checks) == ["file.too_large"]
    assert "limit is 100 bytes" in checks[0].detail
    assert file_type is not None and file_type.kind is FileKind.PDF


def test_a_file_exactly_at_the_limit_is_not_too_large(tmp_path: Path) -> None:
    data = build_pdf()
    assert check_file(write(tmp_path, "u1", data), "Письмо.pdf", PDF_SLOT, len(data))[1] == []


def test_check_file_reports_an_invalid_name_too(tmp_path: Path) -> None:
    _, checks = check_file(write(tmp_path, "u1", build_pdf()), "../Письмо.pdf", PDF_SLOT, MB)
    assert codes(checks) == ["file.name_invalid"]


# --- check_file_name ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Письмо в СРО.pdf", "7_OD.zip", "отчет.v2.final.PDF", "CONSOLE.pdf", "a" * 251 + ".pdf", "Ж" * 125 + ".pdf", "...pdf"],
)
def test_ordinary_names_are_valid(name: str) -> None:
    assert check_file_name(name) == []


@pytest.mark.parametrize("name", ["../Письмо.pdf", "a/b.pdf", "a\\b.pdf", "/etc/passwd", "C:\\x.pdf"])
def test_names_with_path_parts_are_invalid(name: str) -> None:
    [check] = check_file_name(name)
    assert check.code == "file.name_invalid" and "path separator" in check.detail


@pytest.mark.parametrize("name", [".", ".."])
def test_dot_and_dot_dot_are_invalid(name: str) -> None:
    assert codes(check_file_name(name)) == ["file.name_invalid"]


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_and_blank_names_are_invalid(name: str) -> None:
    [check] = check_file_name(name)
    assert "empty" in check.detail


@pytest.mark.parametrize("name", ["a\x00b.pdf", "a\nb.pdf", "a\tb.pdf", "a\x7fb.pdf", "report\u202efdp.exe", "a\u200bb.pdf"])
def test_names_with_control_or_invisible_characters_are_invalid(name: str) -> None:
    [check] = check_file_name(name)
    assert check.code == "file.name_invalid" and "U+" in check.detail


def test_a_name_of_300_ascii_bytes_is_invalid() -> None:
    [check] = check_file_name("a" * 296 + ".pdf")
    assert "300 bytes" in check.detail


def test_a_name_of_150_cyrillic_letters_is_300_bytes_and_invalid() -> None:
    [check] = check_file_name("Ж" * 148 + ".pdf")
    assert "300 bytes" in check.detail


@pytest.mark.parametrize("name", ["CON.pdf", "con.pdf", "PRN", "aux.txt", "NUL.zip", "COM1.pdf", "lpt9.rar", "CON .pdf"])
def test_reserved_windows_device_names_are_invalid(name: str) -> None:
    [check] = check_file_name(name)
    assert "reserved" in check.detail


def test_all_problems_of_a_name_are_in_one_finding() -> None:
    [check] = check_file_name("../CON\x00" + "a" * 300)
    assert "path separator" in check.detail and "U+0000" in check.detail and "bytes" in check.detail
