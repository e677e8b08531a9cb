"""Red team: an archive entry that is a directory to the gateway and a file to another
tool. A ZIP entry with the Unix mode S_IFDIR (Windows unzippers ignore the mode and write a
file), a name ending in ``/`` that still carries data, a RAR entry with the directory flag
and data: the gateway skipped them as directories, so a forged document travelled inside an
accepted report unverified. A directory entry that declares or packs data is now
``archive.inconsistent`` (rejected); genuine empty directories stay allowed."""

from __future__ import annotations

import stat
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.pki.builder import TestPki
from tests.validators.packages import codes, letter, signed_entries, validate, verdict
from validators.catalogue import Slot
from validators.trust import TrustStore

GENUINE = "<Отчет>ОД КПК, займы 100 000</Отчет>".encode()
FORGED = "<Отчет>ОД КПК, займы 9 100 000</Отчет>".encode()


def _unix(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


def _report_zip(store: TrustStore, tmp_path: Path, extra: list[tuple[zipfile.ZipInfo, bytes]], method: int = zipfile.ZIP_DEFLATED) -> tuple[str, set[str]]:
    path = tmp_path / "42_OD.zip"
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in signed_entries(pki_holder[0], tmp_path, "Отчёт.xml", GENUINE).items():
            archive.writestr(name, data)
        for info, data in extra:
            info.compress_type = method
            archive.writestr(info, data)
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, path)], report_kind="OD_Q1")
    return verdict(result), codes(result)


pki_holder: list[TestPki] = []


@pytest.fixture(autouse=True)
def _pki(pki: TestPki) -> None:
    pki_holder[:] = [pki]


def test_control_a_report_with_empty_directories_is_accepted(store: TrustStore, tmp_path: Path) -> None:
    dirs = [(zipfile.ZipInfo("Приложения/"), b""), (_unix("Формы", stat.S_IFDIR | 0o755), b"")]
    assert _report_zip(store, tmp_path, dirs) == ("accepted", set())


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA], ids=["stored", "deflate", "bzip2", "lzma"])
def test_control_empty_directories_in_every_method_are_accepted(store: TrustStore, tmp_path: Path, method: int) -> None:
    assert _report_zip(store, tmp_path, [(zipfile.ZipInfo("Приложения/"), b"")], method) == ("accepted", set())


def test_a_zip_entry_with_directory_mode_carrying_a_document_is_rejected(store: TrustStore, tmp_path: Path) -> None:
    decision, found = _report_zip(store, tmp_path, [(_unix("ОТЧЁТ.XML", stat.S_IFDIR | 0o755), FORGED)])
    assert (decision, found) == ("rejected", {"archive.inconsistent"})


def test_a_zip_entry_named_as_a_directory_carrying_data_is_rejected(store: TrustStore, tmp_path: Path) -> None:
    decision, found = _report_zip(store, tmp_path, [(zipfile.ZipInfo("Приложение.xml/"), FORGED)])
    assert (decision, found) == ("rejected", {"archive.inconsistent"})


def test_a_zip_entry_with_the_dos_directory_attribute_and_data_is_a_document(store: TrustStore, tmp_path: Path) -> None:
    info = zipfile.ZipInfo("Справка.xml")
    info.external_attr = 0x10
    decision, found = _report_zip(store, tmp_path, [(info, FORGED)])
    assert decision == "rejected" and "signature.missing" in found  # verified as a file: unsigned


def _rar4(entries: list[tuple[str, bytes, int]]) -> bytes:
    """RAR 4 with stored entries and chosen file-header flags (0xE0 = directory)."""

    def block(htype: int, flags: int, body: bytes) -> bytes:
        rest = struct.pack("<BHH", htype, flags, 7 + len(body)) + body
        return struct.pack("<H", zlib.crc32(rest) & 0xFFFF) + rest

    out = bytearray(b"Rar!\x1a\x07\x00") + block(0x73, 0, b"\0" * 6)
    dos_time = ((2024 - 1980) << 25) | (1 << 21) | (1 << 16)
    for name, data, flags in entries:
        raw = name.encode()
        attr = 0o40755 if flags & 0xE0 == 0xE0 else 0o100644
        body = struct.pack("<IIBIIBBHI", len(data), len(data), 3, zlib.crc32(data), dos_time, 20, 0x30, len(raw), attr) + raw
        out += block(0x74, 0x8000 | flags, body) + data
    return bytes(out + block(0x7B, 0x4000, b""))


def _letter_with_rar(store: TrustStore, tmp_path: Path, extra: tuple[str, bytes, int]) -> tuple[str, set[str]]:
    signed = signed_entries(pki_holder[0], tmp_path, "Справка.xml", GENUINE)
    path = tmp_path / "Приложение.rar"
    path.write_bytes(_rar4([*((name, data, 0) for name, data in signed.items()), extra]))
    result = letter(store, pki_holder[0], tmp_path, path)
    return verdict(result), codes(result)


def test_control_a_rar_with_an_empty_directory_is_accepted(store: TrustStore, tmp_path: Path) -> None:
    assert _letter_with_rar(store, tmp_path, ("Формы", b"", 0xE0)) == ("accepted", set())


def test_a_rar_entry_with_the_directory_flag_carrying_data_is_rejected(store: TrustStore, tmp_path: Path) -> None:
    assert _letter_with_rar(store, tmp_path, ("СПРАВКА.XML", FORGED, 0xE0)) == ("rejected", {"archive.inconsistent"})
