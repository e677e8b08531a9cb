"""Red team (regressions): a report archive where one copy of a name is signed and another
copy — what some unzipper would show or overwrite with — is not: the same name twice,
case variants (Windows, macOS), NFD vs NFC (macOS), a trailing dot or space (Windows
strips them), a backslash path, ``./`` prefixes; a signature named after a file in
another folder; an unsigned program renamed ``.pdf`` in a letter's attachment. The
gateway verifies every copy (each must be signed), so none of them is accepted."""

from __future__ import annotations

import unicodedata
import warnings
import zipfile
from pathlib import Path

import pytest

from tests.pki.builder import TestPki
from tests.validators.packages import codes, letter, signed_entries, validate, verdict
from validators.catalogue import Slot
from validators.trust import TrustStore

GENUINE = "<Отчет>ОД КПК, займы 100 000</Отчет>".encode()
FORGED = "<Отчет>ОД КПК, займы 9 100 000</Отчет>".encode()


def _zip(path: Path, items: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name we want
        for name, data in items:
            archive.writestr(zipfile.ZipInfo(name), data)
    return path


def _report(store: TrustStore, tmp_path: Path, items: list[tuple[str, bytes]]) -> tuple[str, set[str]]:
    package = _zip(tmp_path / "42_OD.zip", items)
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, package)], report_kind="OD_Q1")
    return verdict(result), codes(result)


def test_control_the_signed_report_alone_is_accepted(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    signed = signed_entries(pki, tmp_path, "Отчёт.xml", GENUINE)
    assert _report(store, tmp_path, list(signed.items())) == ("accepted", set())


@pytest.mark.parametrize(
    "forged_name",
    [
        "Отчёт.xml",  # the same name twice
        "ОТЧЁТ.XML",  # a case variant
        unicodedata.normalize("NFD", "Отчёт.xml"),  # decomposed ё, as macOS writes
        "Отчёт.xml.",  # Windows drops the trailing dot
        "Отчёт.xml ",  # and a trailing space
        "sub\\Отчёт.xml",  # backslash: a folder for Windows tools, a name for others
        "./Отчёт.xml",
    ],
    ids=["same", "case", "nfd", "trailing-dot", "trailing-space", "backslash", "dot-slash"],
)
@pytest.mark.parametrize("forged_first", [True, False], ids=["forged-first", "forged-last"])
def test_a_second_copy_of_a_signed_name_is_never_accepted(
    pki: TestPki, store: TrustStore, tmp_path: Path, forged_name: str, forged_first: bool
) -> None:
    signed = list(signed_entries(pki, tmp_path, "Отчёт.xml", GENUINE).items())
    items = [(forged_name, FORGED), *signed] if forged_first else [*signed, (forged_name, FORGED)]
    decision, found = _report(store, tmp_path, items)
    assert decision != "accepted", found
    assert found & {"signature.missing", "signature.invalid", "signature.hash"}, found


def test_a_signature_named_after_a_file_in_another_folder_signs_nothing_there(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    signed = signed_entries(pki, tmp_path, "Отчёт.xml", GENUINE)
    decision, found = _report(store, tmp_path, [("a/Отчёт.xml", FORGED), ("b/Отчёт.xml.sig", signed["Отчёт.xml.sig"])])
    assert decision != "accepted"
    assert "signature.missing" in found


def test_an_unsigned_program_renamed_pdf_in_a_letters_attachment_is_refused(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    program = b"MZ\x90\x00" + b"\x00" * 56 + b"\x40\x00\x00\x00" + b"PE\x00\x00" + b"\x00" * 400
    attachment = _zip(tmp_path / "Приложение.zip", [("Скан.pdf", program)])
    result = letter(store, pki, tmp_path, attachment)
    assert verdict(result) != "accepted"
    assert "file.not_document" in codes(result)
