"""Red team (regressions, all held): RAR entries that are not plain files — a Unix symbolic
link (mode S_IFLNK) and a FIFO, an entry with the password flag, headers encrypted (main
flag 0x80), a volume of a multi-volume set (main flag 0x01) and an entry continued in the
next volume, absolute, drive-letter, UNC and ``..`` names. Each is refused and nothing of
it is written; a plain stored RAR of the same files is extracted."""

from __future__ import annotations

import stat
import struct
import zlib
from pathlib import Path

import pytest

from validators.archives import ArchiveResult, extract_archive

DATA = "<Отчет>ОД КПК</Отчет>".encode()


def rar4(entries: list[tuple[str, bytes, int, int]], main_flags: int = 0) -> bytes:
    """RAR 4, stored entries from a Unix host: (name, data, file-header flags, mode)."""

    def block(htype: int, flags: int, body: bytes) -> bytes:
        rest = struct.pack("<BHH", htype, flags, 7 + len(body)) + body
        return struct.pack("<H", zlib.crc32(rest) & 0xFFFF) + rest

    out = bytearray(b"Rar!\x1a\x07\x00") + block(0x73, main_flags, b"\0" * 6)
    dos_time = ((2024 - 1980) << 25) | (1 << 21) | (1 << 16)
    for name, data, flags, mode in entries:
        raw = name.encode()
        body = struct.pack("<IIBIIBBHI", len(data), len(data), 3, zlib.crc32(data), dos_time, 20, 0x30, len(raw), mode) + raw
        out += block(0x74, 0x8000 | flags, body) + data
    return bytes(out + block(0x7B, 0x4000, b""))


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    return tmp_path / "work" / "dest"


def _judge(tmp_path: Path, sandbox: Path, data: bytes) -> ArchiveResult:
    path = tmp_path / "Приложение.rar"
    path.write_bytes(data)
    return extract_archive(path, sandbox, "Приложение.rar")


def _written(sandbox: Path) -> list[str]:
    return sorted(p.name for p in sandbox.rglob("*") if p.is_file()) if sandbox.exists() else []


def test_control_a_plain_rar_is_extracted(tmp_path: Path, sandbox: Path) -> None:
    result = _judge(tmp_path, sandbox, rar4([("report.xml", DATA, 0, 0o100644)]))
    assert result.checks == () and [f.path.read_bytes() for f in result.files] == [DATA]


@pytest.mark.parametrize(("mode", "what"), [(stat.S_IFLNK | 0o777, "symlink"), (stat.S_IFIFO | 0o644, "fifo")], ids=["symlink", "fifo"])
def test_a_special_unix_entry_is_a_link_finding(tmp_path: Path, sandbox: Path, mode: int, what: str) -> None:
    result = _judge(tmp_path, sandbox, rar4([("report.xml", b"/etc/passwd", 0, mode)]))
    assert "archive.link" in {c.code for c in result.checks}, what
    assert _written(sandbox) == []


def test_an_entry_with_the_password_flag_is_encrypted(tmp_path: Path, sandbox: Path) -> None:
    result = _judge(tmp_path, sandbox, rar4([("report.xml", DATA, 0x04, 0o100644)]))
    assert "archive.encrypted" in {c.code for c in result.checks}
    assert _written(sandbox) == []


@pytest.mark.parametrize(("main_flags", "code"), [(0x80, "archive.encrypted"), (0x01, "archive.unsupported")], ids=["encrypted-headers", "volume"])
def test_an_encrypted_or_multi_volume_archive_is_refused(tmp_path: Path, sandbox: Path, main_flags: int, code: str) -> None:
    result = _judge(tmp_path, sandbox, rar4([("report.xml", DATA, 0, 0o100644)], main_flags=main_flags))
    assert {c.code for c in result.checks} & {code, "archive.corrupt"}
    assert _written(sandbox) == []


@pytest.mark.parametrize("flags", [0x01, 0x02], ids=["continued-from", "continued-in"])
def test_an_entry_split_across_volumes_is_unsupported(tmp_path: Path, sandbox: Path, flags: int) -> None:
    result = _judge(tmp_path, sandbox, rar4([("report.xml", DATA, flags, 0o100644)]))
    # Alone, an entry continued from a previous volume is dropped by the reader: nothing left.
    assert {c.code for c in result.checks} & {"archive.unsupported", "archive.corrupt", "archive.empty"}
    assert _written(sandbox) == []


@pytest.mark.parametrize("name", ["/etc/report.xml", "C:\\report.xml", "C:report.xml", "\\\\server\\share\\report.xml", "..\\report.xml", "a/../../report.xml"])
def test_an_unsafe_path_is_refused(tmp_path: Path, sandbox: Path, name: str) -> None:
    result = _judge(tmp_path, sandbox, rar4([(name, DATA, 0, 0o100644)]))
    assert "archive.unsafe_path" in {c.code for c in result.checks}
    assert not (tmp_path / "report.xml").exists() and not (tmp_path / "work" / "report.xml").exists()



@pytest.mark.parametrize("flags", [0x01, 0x02], ids=["continued-from", "continued-in"])
def test_a_split_entry_beside_a_plain_one_is_not_silently_dropped(tmp_path: Path, sandbox: Path, flags: int) -> None:
    # rarfile drops an entry "continued from the previous volume"; lsar lists it: the
    # disagreement refuses the archive instead of hiding the entry.
    result = _judge(tmp_path, sandbox, rar4([("report.xml", DATA, 0, 0o100644), ("forged.xml", b"<forged/>", flags, 0o100644)]))
    assert {c.code for c in result.checks} & {"archive.unsupported", "archive.corrupt"}
    assert result.files == ()
