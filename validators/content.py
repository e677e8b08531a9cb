"""What a document says: its text, and whether it is an appointment order or the annual
accounting statements (issue 11 §2; 4083-U items 2 and 8).

Documents are recognised by the file itself -- name *and* content -- never by the folder
they lie in. Text comes from the PDF's text layer (pypdf) or from XML/plain text. Scans
often have no text layer or a garbage one (Cyrillic recognised as Latin look-alikes, see
the seed ``sample-savings-key-info-ocr.txt``): such content is *unreadable*, and the
caller asks staff to look instead of returning the package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from validators.files import FileKind, FileType
from validators.members import normalise_person_name

__all__ = [
    "Readability",
    "DocumentText",
    "read_text",
    "APPOINTMENT_NAME_HINTS",
    "ACCOUNTING_NAME_HINTS",
    "looks_like_appointment_by_name",
    "looks_like_accounting_by_name",
    "has_appointment_wording",
    "names_person",
    "is_accounting_statements",
]

#: An acting head's appointment document, by its file name (not its folder).
APPOINTMENT_NAME_HINTS = ("приказ", "распоряжен", "назнач", "врио", "вр.и.о", "исполняющ", "appointment", "prikaz")
#: The annual accounting statements of an OD_Y90 package, by file name.
ACCOUNTING_NAME_HINTS = ("бухгалтер", "бфо", "баланс", "финансов", "0710001", "0710002", "accounting", "balance", "buhotch")

#: Statements carry the ОКУД codes of the balance sheet / the statement of financial results.
OKUD_CODES = ("0710001", "0710002")

MAX_TEXT_PAGES = 5
"""Pages of a PDF read for recognition (the wording is on the first page or two)."""
MAX_TEXT_FILE_BYTES = 20 << 20
"""Larger files are not read for text (they are then unreadable, and staff look)."""
MAX_TEXT_CHARS = 200_000
_PYPDF_LIMITS: dict[str, int] = {
    "maximum_declared_stream_length": 10_000_000,
    "zlib_maximum_output_length": 5_000_000,
    "lzw_maximum_output_length": 5_000_000,
    "run_length_maximum_output_length": 5_000_000,
    "brotli_maximum_output_length": 5_000_000,
    "stream_decoding_work_maximum_length": 20_000_000,
    "stream_parsing_work_maximum_count": 50_000,
}
"""pypdf limits while reading a document's text (a crafted page is refused in well under a second)."""
MIN_LETTERS = 40
"""Fewer letters than this in a PDF's text layer: a scan without a (useful) text layer."""
MIN_CYRILLIC_SHARE = 0.5
"""A Russian document whose letters are mostly Latin: garbage recognition (OCR)."""

_TEXT_MIMES = ("text/", "application/xml", "application/json")

_APPOINTMENT_WORDING = re.compile(
    r"назнач\w*"
    r"|возлож\w*(?:\s+\S+){0,8}?\s+обязанност"
    r"|исполн[яе]\w*\s+обязанност"
    r"|\bврио\b|\bвр\.?\s*и\.?\s*о\b",  # also «Вр.и.о.», as orders abbreviate it
)


class Readability(StrEnum):
    READABLE = "readable"
    UNREADABLE = "unreadable"
    """No text layer, garbage OCR, a format we cannot read (images, office files)."""


@dataclass(frozen=True, slots=True)
class DocumentText:
    readability: Readability
    text: str
    """Lower case, ё as е, white space collapsed; empty when unreadable."""
    reason: str
    """Why it is unreadable (for staff), or what was read."""


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").split())


def _looks_garbled(text: str) -> str | None:
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < MIN_LETTERS:
        return f"only {len(letters)} letters in the text layer (a scan without recognised text?)"
    cyrillic = sum(1 for ch in letters if "а" <= ch.lower() <= "я" or ch.lower() == "ё")
    if cyrillic / len(letters) < MIN_CYRILLIC_SHARE:
        return f"{cyrillic} of {len(letters)} letters are Cyrillic (garbage recognition?)"
    return None


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader, apply_configuration

    # Orders and statements are a few pages of text: pypdf's default limits (75 MB
    # streams, 2 million tokens per content stream) let one crafted page take seconds.
    with apply_configuration(None, **_PYPDF_LIMITS):
        return _pdf_text_limited(PdfReader, path)


def _pdf_text_limited(reader_type: Any, path: Path) -> str:
    reader = reader_type(path, strict=False)
    if reader.is_encrypted:
        raise ValueError("the PDF is encrypted")
    parts: list[str] = []
    for page in reader.pages[:MAX_TEXT_PAGES]:
        parts.append(page.extract_text() or "")
        if sum(len(p) for p in parts) > MAX_TEXT_CHARS:
            break
    return "\n".join(parts)[:MAX_TEXT_CHARS]


def _plain_text(path: Path) -> str:
    data = path.read_bytes()[: MAX_TEXT_CHARS * 2]
    declared = re.search(rb"encoding=[\"']([A-Za-z0-9_-]+)", data[:200])
    encodings = [declared.group(1).decode("ascii")] if declared else []
    for encoding in (*encodings, "utf-8", "cp1251"):
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", errors="replace")


def read_text(path: Path, file_type: FileType) -> DocumentText:
    """The text of a document, or why it cannot be read. Never raises for bad content."""
    try:
        if path.stat().st_size > MAX_TEXT_FILE_BYTES:
            return DocumentText(Readability.UNREADABLE, "", f"larger than {MAX_TEXT_FILE_BYTES} bytes, not read")
        if file_type.kind is FileKind.PDF:
            raw = _pdf_text(path)
            problem = _looks_garbled(raw)
            if problem is not None:
                return DocumentText(Readability.UNREADABLE, "", problem)
            return DocumentText(Readability.READABLE, _normalise(raw), "PDF text layer")
        if file_type.mime.startswith(_TEXT_MIMES) or file_type.mime in ("application/x-empty", "inode/x-empty"):
            # A text or XML file says exactly what it says: never "unreadable".
            return DocumentText(Readability.READABLE, _normalise(_plain_text(path)), file_type.mime)
    except Exception as exc:  # noqa: BLE001 - any parser failure means "cannot be read"
        return DocumentText(Readability.UNREADABLE, "", f"text not readable: {type(exc).__name__}: {exc}"[:300])
    return DocumentText(Readability.UNREADABLE, "", f"{file_type.mime}: no text to read (an image or an office file)")


def _basename(name: str) -> str:
    return name.rsplit("/", 1)[-1].lower().replace("ё", "е")


def looks_like_appointment_by_name(name: str) -> bool:
    """The file's own name (not its folder) says it is an appointment order."""
    return any(hint in _basename(name) for hint in APPOINTMENT_NAME_HINTS)


def looks_like_accounting_by_name(name: str) -> bool:
    """The file's own name (not its folder) says it is the accounting statements."""
    return any(hint in _basename(name) for hint in ACCOUNTING_NAME_HINTS)


def has_appointment_wording(text: str) -> bool:
    """«назначить», «возложить исполнение обязанностей», «временно исполняющий обязанности»…"""
    return _APPOINTMENT_WORDING.search(text) is not None


def _stem(word: str) -> str:
    """A Russian name declines (Петрова -> Петрову): compare the part before the ending."""
    word = normalise_person_name(word)
    return word[:-2] if len(word) >= 6 else word[:-1] if len(word) >= 4 else word


def names_person(text: str, surname: str | None, given_name: str | None) -> bool:
    """``text`` names the person: the surname in any case form (Петрова, Петровой), and
    each given name and patronymic either in full (any case form) or as an initial
    (``Петровой М. С.``)."""
    if not surname:
        return False
    if not re.search(rf"(?<!\w){re.escape(_stem(surname))}\w*", text):
        return False
    for word in (given_name or "").split():
        full = rf"(?<!\w){re.escape(_stem(word))}\w*"
        initial = rf"(?<!\w){re.escape(normalise_person_name(word)[:1])}\s*\."
        if not (re.search(full, text) or re.search(initial, text)):
            return False
    return True


def is_accounting_statements(text: str, member_inn: str) -> bool:
    """An ОКУД form code of the statements and the member's ИНН appear in the text."""
    compact = text.replace(" ", "")
    return any(code in compact for code in OKUD_CODES) and bool(member_inn) and member_inn in compact
