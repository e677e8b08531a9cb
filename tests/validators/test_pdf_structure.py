"""validators.pdf_structure: corrupt, encrypted and active-content PDFs (SPEC section 5).

Every input is generated here: small PDFs written by hand with a correct xref table, or
with pyHanko's writer (object and xref streams, encryption).
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from tests.pki.handmade_pdf import build_pdf
from validators import pdf_structure
from validators.pdf_structure import check_pdf

CORPUS_PDFS = sorted((Path(__file__).resolve().parents[3] / "shared" / "corpus" / "gost-pdf").glob("*.pdf"))


def pyhanko_pdf(encrypt: bool = False) -> bytes:
    """A one-page PDF written by pyHanko (xref stream, object streams), optionally encrypted."""
    writer = PdfFileWriter()
    media_box = generic.ArrayObject(map(generic.NumberObject, (0, 0, 595, 842)))
    contents = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 12 Tf (Hi) Tj ET"))
    writer.insert_page(PageObject(contents=contents, media_box=media_box))
    if encrypt:
        writer.encrypt("a", "a")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write(tmp_path: Path, data: bytes, name: str = "doc.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def codes(checks: list) -> list[str]:
    return [check.code for check in checks]


def active_details(checks: list) -> list[str]:
    assert {check.code for check in checks} <= {"pdf.active_content"}, checks
    return [check.detail for check in checks]


# --- readable, clean ---------------------------------------------------------------------


def test_a_minimal_hand_written_pdf_has_no_findings(tmp_path: Path) -> None:
    assert check_pdf(write(tmp_path, build_pdf()), "doc.pdf") == []


def test_a_pdf_written_by_pyhanko_with_xref_streams_has_no_findings(tmp_path: Path) -> None:
    assert check_pdf(write(tmp_path, pyhanko_pdf()), "doc.pdf") == []


def test_an_ordinary_uri_link_is_not_active_content(tmp_path: Path) -> None:
    annot = b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /URI /URI (https://example.org) >> >>"
    assert check_pdf(write(tmp_path, build_pdf(page_extra=b"/Annots [4 0 R]", extra_objects=[annot])), "doc.pdf") == []


def test_findings_name_the_file_they_concern(tmp_path: Path) -> None:
    checks = check_pdf(write(tmp_path, b"not a pdf"), "Отчет.pdf")
    assert [check.file for check in checks] == ["Отчет.pdf"]


# --- corrupt and encrypted -----------------------------------------------------------------


def test_an_encrypted_pdf_is_reported_as_encrypted_and_nothing_else(tmp_path: Path) -> None:
    assert codes(check_pdf(write(tmp_path, pyhanko_pdf(encrypt=True)), "doc.pdf")) == ["pdf.encrypted"]


def test_a_truncated_pdf_is_corrupt(tmp_path: Path) -> None:
    data = pyhanko_pdf()
    checks = check_pdf(write(tmp_path, data[: len(data) // 2]), "doc.pdf")
    assert codes(checks) == ["pdf.corrupt"]
    assert checks[0].detail


def test_a_pdf_cut_before_its_xref_table_is_corrupt(tmp_path: Path) -> None:
    data = build_pdf()
    assert codes(check_pdf(write(tmp_path, data[: data.index(b"xref")]), "doc.pdf")) == ["pdf.corrupt"]


def test_a_zip_named_pdf_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "doc.pdf"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "hello")
    assert codes(check_pdf(path, "doc.pdf")) == ["pdf.corrupt"]


def test_an_empty_file_is_corrupt(tmp_path: Path) -> None:
    assert codes(check_pdf(write(tmp_path, b""), "doc.pdf")) == ["pdf.corrupt"]


def test_a_pdf_header_followed_by_garbage_is_corrupt(tmp_path: Path) -> None:
    assert codes(check_pdf(write(tmp_path, b"%PDF-1.4\n" + b"\x00\xff garbage " * 500), "doc.pdf")) == ["pdf.corrupt"]


def test_a_negative_startxref_is_corrupt_not_an_os_error(tmp_path: Path) -> None:
    data = build_pdf().replace(b"startxref\n", b"startxref\n-")
    assert codes(check_pdf(write(tmp_path, data), "doc.pdf")) == ["pdf.corrupt"]


def test_an_xref_entry_pointing_past_the_end_of_the_file_is_corrupt(tmp_path: Path) -> None:
    data = build_pdf()
    entry = data.index(b"0000000000 65535 f \n") + 20  # the catalog's entry follows the free head
    data = data[:entry] + b"0099999999" + data[entry + 10 :]
    assert codes(check_pdf(write(tmp_path, data), "doc.pdf")) == ["pdf.corrupt"]


def test_a_catalog_without_a_page_tree_is_corrupt(tmp_path: Path) -> None:
    data = build_pdf().replace(b"/Pages 2 0 R", b"/Pagez 2 0 R")
    assert codes(check_pdf(write(tmp_path, data), "doc.pdf")) == ["pdf.corrupt"]


# --- active content --------------------------------------------------------------------------


def test_open_action_javascript_is_active_content(tmp_path: Path) -> None:
    data = build_pdf(catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")
    [detail] = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert "JavaScript" in detail


def test_a_javascript_name_tree_is_active_content(tmp_path: Path) -> None:
    data = build_pdf(
        catalog_extra=b"/Names << /JavaScript 4 0 R >>",
        extra_objects=[b"<< /Names [(a) 5 0 R] >>", b"<< /S /JavaScript /JS (app.alert(1)) >>"],
    )
    [detail] = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert "JavaScript" in detail


def test_javascript_in_a_page_additional_action_is_active_content(tmp_path: Path) -> None:
    data = build_pdf(page_extra=b"/AA << /O 4 0 R >>", extra_objects=[b"<< /S /JavaScript /JS 5 0 R >>", b"(app.alert(1))"])
    [detail] = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert "JavaScript" in detail and "object 4 0" in detail


def test_a_launch_action_is_active_content(tmp_path: Path) -> None:
    annot = b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /Launch /F (calc.exe) >> >>"
    data = build_pdf(page_extra=b"/Annots [4 0 R]", extra_objects=[annot])
    [detail] = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert "/Launch" in detail


def test_an_embedded_files_name_tree_is_active_content(tmp_path: Path) -> None:
    data = build_pdf(
        catalog_extra=b"/Names << /EmbeddedFiles << /Names [(evil.exe) 4 0 R] >> >>",
        extra_objects=[
            b"<< /Type /Filespec /F (evil.exe) /EF << /F 5 0 R >> >>",
            b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream",
        ],
    )
    [detail] = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert "embedded files" in detail


def test_a_file_attachment_annotation_is_active_content(tmp_path: Path) -> None:
    annot = b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 10 10] /FS (a.txt) >>"
    data = build_pdf(page_extra=b"/Annots [4 0 R]", extra_objects=[annot])
    [detail] = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert "embedded files" in detail


def test_a_rich_media_annotation_is_active_content(tmp_path: Path) -> None:
    annot = b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 10 10] >>"
    data = build_pdf(page_extra=b"/Annots [4 0 R]", extra_objects=[annot])
    [detail] = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert "rich media" in detail


@pytest.mark.parametrize("action", [b"/SubmitForm", b"/ImportData"])
def test_form_submission_and_import_actions_are_active_content(tmp_path: Path, action: bytes) -> None:
    data = build_pdf(catalog_extra=b"/OpenAction << /S " + action + b" /F (https://example.org) >>")
    [detail] = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert action.decode() in detail


def test_an_xfa_form_is_active_content(tmp_path: Path) -> None:
    data = build_pdf(catalog_extra=b"/AcroForm << /Fields [] /XFA 4 0 R >>", extra_objects=[b"<< /Length 0 >>\nstream\n\nendstream"])
    [detail] = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert "XFA" in detail


def test_each_kind_of_active_content_is_reported_once(tmp_path: Path) -> None:
    launch = b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /Launch /F (calc.exe) >> >>"
    javascript = b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /JavaScript /JS (1) >> >>"
    data = build_pdf(
        catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
        page_extra=b"/Annots [4 0 R 5 0 R]",
        extra_objects=[launch, javascript],
    )
    details = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert len(details) == 2
    assert "JavaScript" in details[0] and "/Launch" in details[1]


def test_active_content_in_an_unreferenced_object_is_reported(tmp_path: Path) -> None:
    data = build_pdf(extra_objects=[b"<< /S /JavaScript /JS (app.alert(1)) >>"])
    [detail] = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert "object 4 0" in detail


# --- hostile structure ---------------------------------------------------------------------


def test_reference_cycles_do_not_hang_the_walk(tmp_path: Path) -> None:
    data = build_pdf(
        catalog_extra=b"/Loop 4 0 R",
        extra_objects=[b"<< /Next 5 0 R >>", b"<< /Next 4 0 R /Self 5 0 R >>", b"6 0 R"],
    )
    assert check_pdf(write(tmp_path, data), "doc.pdf") == []


def test_thousands_of_objects_and_deep_nesting_finish_quickly(tmp_path: Path) -> None:
    depth = 2000
    nested = b"[" * depth + b"1" + b"]" * depth
    chain = [b"<< /Next %d 0 R /Data [1 2 3] >>" % (number + 1) for number in range(5, 5004)] + [b"<< /Last true >>"]
    data = build_pdf(catalog_extra=b"/Deep 4 0 R /Chain 5 0 R", extra_objects=[nested, *chain])
    started = time.perf_counter()
    checks = check_pdf(write(tmp_path, data), "doc.pdf")
    assert time.perf_counter() - started < 10
    assert "pdf.corrupt" not in codes(checks)


def test_active_content_behind_a_long_reference_chain_is_still_found(tmp_path: Path) -> None:
    chain = [b"<< /Next %d 0 R >>" % (number + 1) for number in range(4, 3004)]
    chain.append(b"<< /S /Launch /F (calc.exe) >>")
    data = build_pdf(catalog_extra=b"/Chain 4 0 R", extra_objects=chain)
    [detail] = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert "/Launch" in detail


def test_past_the_object_limit_the_raw_scan_still_finds_active_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_structure, "MAX_NODES", 50)
    chain = [b"<< /Next %d 0 R >>" % (number + 1) for number in range(4, 1004)]
    chain.append(b"<< /S /Launch /F (calc.exe) >>")
    data = build_pdf(catalog_extra=b"/Chain 4 0 R", extra_objects=chain)
    [detail] = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert "/Launch" in detail and "raw" in detail


# --- real signed PDFs ------------------------------------------------------------------------


@pytest.mark.parametrize("pdf", CORPUS_PDFS, ids=[path.name for path in CORPUS_PDFS])
def test_real_signed_pdfs_are_neither_corrupt_nor_encrypted(pdf: Path) -> None:
    started = time.perf_counter()
    checks = check_pdf(pdf, pdf.name)
    assert not {"pdf.corrupt", "pdf.encrypted"} & set(codes(checks)), checks
    assert time.perf_counter() - started < 5


def test_a_hex_escaped_javascript_name_is_still_javascript(tmp_path: Path) -> None:
    data = build_pdf(catalog_extra=b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>")
    [detail] = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert "JavaScript" in detail


def test_an_action_in_an_object_too_deep_for_the_parser_is_found_by_the_raw_scan(tmp_path: Path) -> None:
    depth = 900
    hidden = b"[" * depth + b"<< /S /L#61unch /F (calc.exe) >>" + b"]" * depth
    data = build_pdf(page_extra=b"/Annots 4 0 R", extra_objects=[hidden])
    [detail] = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert "/Launch" in detail and "raw" in detail


def test_the_walk_stops_at_its_time_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_structure, "MAX_SECONDS", -1.0)
    data = build_pdf(catalog_extra=b"/OpenAction 4 0 R", extra_objects=[b"<< /S /Launch /F (calc.exe) >>"])
    [detail] = active_details(check_pdf(write(tmp_path, data), "doc.pdf"))
    assert "raw" in detail
