"""Red team (regressions, all held): ZIP entries the gateway cannot or must not read as
plain documents — traditional PKWARE encryption (whose password a member might even
send), WinZip AES (method 99 with its 0x9901 field), strong encryption (flag 0x40), an
encrypted central directory (flags 0 and 13 on the first local header), compression
methods it does not decode (PPMd 98, XZ 95, implode 6) — and entries it does (bzip2 12,
LZMA 14) decoded and checked. Refused entries are never written."""

from __future__ import annotations

import bz2
import lzma
import struct
import zipfile
from pathlib import Path

import pytest

from tests.validators.zip_builder import RawEntry, raw_zip
from validators.archives import ArchiveResult, extract_archive

DATA = "<Отчет>ОД КПК</Отчет>".encode()


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """Where the archive is unpacked (not yet created)."""
    return tmp_path / "work" / "dest"


def _judge(tmp_path: Path, sandbox: Path, data: bytes) -> ArchiveResult:
    path = tmp_path / "42_OD.zip"
    path.write_bytes(data)
    return extract_archive(path, sandbox, "42_OD.zip")


def _written(sandbox: Path) -> list[Path]:
    return [p for p in sandbox.rglob("*") if p.is_file()] if sandbox.exists() else []


AES_EXTRA = struct.pack("<HHHH2sBH", 0x9901, 7, 2, 0, b"AE", 3, 8)


@pytest.mark.parametrize(
    "entry",
    [
        RawEntry(b"report.xml", DATA, method=0, flags=0x1),
        RawEntry(b"report.xml", DATA, method=99, flags=0x1, local_extra=AES_EXTRA, central_extra=AES_EXTRA),
        RawEntry(b"report.xml", DATA, method=99, flags=0x0, local_extra=AES_EXTRA, central_extra=AES_EXTRA),
        RawEntry(b"report.xml", DATA, method=0, flags=0x41),
    ],
    ids=["zipcrypto", "winzip-aes", "aes-without-the-flag", "strong-encryption"],
)
def test_an_encrypted_entry_is_refused_and_not_written(tmp_path: Path, sandbox: Path, entry: RawEntry) -> None:
    result = _judge(tmp_path, sandbox, raw_zip([entry]).bytes())
    assert "archive.encrypted" in {c.code for c in result.checks}
    assert result.files == () and _written(sandbox) == []


def test_an_encrypted_central_directory_is_refused(tmp_path: Path, sandbox: Path) -> None:
    result = _judge(tmp_path, sandbox, raw_zip([RawEntry(b"report.xml", DATA, method=0, flags=0x2001)]).bytes())
    assert "archive.encrypted" in {c.code for c in result.checks}
    assert _written(sandbox) == []


@pytest.mark.parametrize("method", [98, 95, 6], ids=["ppmd", "xz", "implode"])
def test_a_method_the_gateway_does_not_decode_is_unsupported(tmp_path: Path, sandbox: Path, method: int) -> None:
    result = _judge(tmp_path, sandbox, raw_zip([RawEntry(b"report.xml", DATA, method=method, packed=b"\x00" * 16)]).bytes())
    assert {c.code for c in result.checks} == {"archive.unsupported"}
    assert _written(sandbox) == []


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA], ids=["bzip2", "lzma"])
def test_bzip2_and_lzma_entries_are_decoded(tmp_path: Path, sandbox: Path, method: int) -> None:
    path = tmp_path / "42_OD.zip"
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr("report.xml", DATA)
    result = extract_archive(path, sandbox, "42_OD.zip")
    assert result.checks == ()
    [extracted] = result.files
    assert extracted.path.read_bytes() == DATA


def test_a_bzip2_entry_whose_data_is_another_document_fails_its_crc(tmp_path: Path, sandbox: Path) -> None:
    # The header's CRC is of DATA, the stream decodes to something else.
    entry = RawEntry(b"report.xml", DATA, method=12, packed=bz2.compress(b"<forged/>"), usize=len(b"<forged/>"))
    result = _judge(tmp_path, sandbox, raw_zip([entry]).bytes())
    assert result.files == ()
    assert {c.code for c in result.checks} & {"archive.corrupt", "archive.inconsistent"}


def test_control_lzma_is_the_zip_flavour_not_a_raw_xz_stream(tmp_path: Path, sandbox: Path) -> None:
    entry = RawEntry(b"report.xml", DATA, method=14, packed=lzma.compress(DATA))
    result = _judge(tmp_path, sandbox, raw_zip([entry]).bytes())
    assert result.files == ()
    assert {c.code for c in result.checks} & {"archive.corrupt", "archive.unsupported"}
