"""validators.content: reading a document's text and recognising what it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pki.textpdf import scan_pdf, text_pdf
from validators.content import Readability, has_appointment_wording, is_accounting_statements, names_person, read_text
from validators.files import detect_type


@pytest.mark.parametrize(
    "text",
    [
        "назначить петрову марию сергеевну временно исполняющей обязанности",
        "возложить исполнение обязанностей председателя правления на петрову м. с.",
        "возложить на главного бухгалтера петрову м.с. исполнение обязанностей",
        "врио председателя правления петрова м. с.",
    ],
)
def test_order_texts_name_the_accountant(text: str) -> None:
    assert has_appointment_wording(text) and names_person(text, "Петрова", "Мария Сергеевна")


@pytest.mark.parametrize(
    "text",
    ["назначить петросян марину ашотовну", "назначить петрову анну сергеевну", "назначить иванова ивана петровича"],
)
def test_another_person_is_not_the_accountant(text: str) -> None:
    assert not names_person(text, "Петрова", "Мария Сергеевна")


def test_a_schedule_order_has_no_appointment_wording() -> None:
    assert not has_appointment_wording("приказ об утверждении графика отпусков утвердить график")


def test_statements_need_an_okud_code_and_the_inn() -> None:
    assert is_accounting_statements("форма по окуд 0710001 инн 7700000009", "7700000009")
    assert not is_accounting_statements("форма по окуд 0710001 инн 7700000016", "7700000009")
    assert not is_accounting_statements("баланс инн 7700000009", "7700000009")


def test_a_pdf_text_layer_is_read_in_russian(tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "a.pdf", ["Приказ № 3 о возложении исполнения обязанностей председателя правления", "Петрову Марию Сергеевну"])
    text = read_text(pdf, detect_type(pdf))
    assert text.readability is Readability.READABLE and "возложении исполнения обязанностей" in text.text


def test_a_pdf_without_text_is_unreadable(tmp_path: Path) -> None:
    pdf = scan_pdf(tmp_path / "a.pdf")
    assert read_text(pdf, detect_type(pdf)).readability is Readability.UNREADABLE


def test_a_pdf_with_latin_look_alike_garbage_is_unreadable(tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "a.pdf", ["YneHcrteo B KMK (naliwmkom), 4YTO nNoApasymeBaeT AOMNOJHUTENbHYHO", "ynaaty B3HOCOB (HeBO3BpaTHble)/naes. Nanwmk obaAsaH"])
    text = read_text(pdf, detect_type(pdf))
    assert text.readability is Readability.UNREADABLE and "Cyrillic" in text.reason


def test_a_tiny_text_file_is_readable_never_a_scan(tmp_path: Path) -> None:
    file = tmp_path / "balance.txt"
    file.write_bytes(b"ok")
    assert read_text(file, detect_type(file)).readability is Readability.READABLE


def test_a_broken_pdf_is_unreadable_not_an_error(tmp_path: Path) -> None:
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    assert read_text(pdf, detect_type(pdf)).readability is Readability.UNREADABLE


def test_windows_1251_xml_is_decoded(tmp_path: Path) -> None:
    file = tmp_path / "a.xml"
    file.write_bytes('<?xml version="1.0" encoding="windows-1251"?><Файл ОКУД="0710001"/>'.encode("cp1251"))
    assert "файл окуд" in read_text(file, detect_type(file)).text


@pytest.mark.parametrize("operators", [7_000_000, 150_000], ids=["flate-bomb", "token-flood"])
def test_a_crafted_page_is_unreadable_quickly(tmp_path: Path, operators: int) -> None:
    import time
    import zlib

    from tests.pki.pdf import build_pdf

    body = zlib.compress(b"BT /F1 12 Tf " + b"(a) Tj " * operators + b"ET", 9)
    pdf = tmp_path / "Приказ.pdf"
    pdf.write_bytes(build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]))
    started = time.monotonic()
    text = read_text(pdf, detect_type(pdf))
    assert text.readability is Readability.UNREADABLE and "Limit" in text.reason
    assert time.monotonic() - started < 2.0  # about 0.25 s alone on this machine
