"""Red team (regressions, all held): entry names that Windows reads as something else — an
NTFS alternate data stream (``Отчёт.xml::$DATA`` is the main stream of ``Отчёт.xml`` to a
Windows unzipper that keeps colons; ``Отчёт.xml:evil`` a hidden stream), a reserved device
name (``CON.xml``), a drive letter (absolute or drive-relative), a UNC path, ``.`` and
``..``. Beside a signed report, an unsigned copy under such a name is never accepted:
either the name is refused or the copy is a document that must be signed itself."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import pytest

from tests.pki.builder import TestPki
from tests.validators.packages import codes, signed_entries, validate, verdict
from validators.catalogue import Slot
from validators.trust import TrustStore

GENUINE = "<Отчет>ОД КПК, займы 100 000</Отчет>".encode()
FORGED = "<Отчет>ОД КПК, займы 9 100 000</Отчет>".encode()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Отчёт.xml::$DATA", "signature.missing"),
        ("Отчёт.xml:evil", "signature.missing"),
        ("CON.xml", "signature.missing"),
        ("C:\\Отчёт.xml", "archive.unsafe_path"),
        ("C:Отчёт.xml", "archive.unsafe_path"),
        ("\\\\server\\share\\Отчёт.xml", "archive.unsafe_path"),
        ("..\\Отчёт.xml", "archive.unsafe_path"),
        (".", "file.name_invalid"),
    ],
    ids=["ads-main-stream", "ads-named-stream", "device-name", "drive-absolute", "drive-relative", "unc", "dot-dot", "dot"],
)
def test_an_unsigned_copy_under_a_windows_name_is_never_accepted(pki: TestPki, store: TrustStore, tmp_path: Path, name: str, expected: str) -> None:
    path = tmp_path / "42_OD.zip"
    with zipfile.ZipFile(path, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for entry, data in [*signed_entries(pki, tmp_path, "Отчёт.xml", GENUINE).items(), (name, FORGED)]:
            archive.writestr(zipfile.ZipInfo(entry), data)
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, path)], report_kind="OD_Q1")
    assert verdict(result) == "rejected" and expected in codes(result), codes(result)
