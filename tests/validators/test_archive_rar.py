"""RAR extraction in one unar pass per archive.

The archives are written by hand (:mod:`tests.validators.rar_builder`, stored entries) and
run through the real rarfile, lsar and unar. The stream of one unar process is cut into
entries by the header listing; these tests pin what that must never get wrong: every entry
proved by its checksum, boundaries and names from the headers, the entry limit counting
files only, and no process left behind.
"""

from __future__ import annotations

import os
import shutil
import time
import zlib
from pathlib import Path

import pytest

from gateway.config import LimitsConfig
from tests.validators.rar_builder import rar5_stored
from validators.archives import ArchiveLimits, ArchiveResult, extract_archive

pytestmark = pytest.mark.skipif(shutil.which("unar") is None or shutil.which("lsar") is None, reason="unar/lsar not installed")


def codes(result: ArchiveResult) -> list[str]:
    return [c.code for c in result.checks]


def write(tmp_path: Path, data: bytes, name: str = "PPP.rar") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def children() -> list[str]:
    """Command names of this process's live children (Linux /proc)."""
    found = []
    me = str(os.getpid())
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat_file.read_text()
        except OSError:
            continue
        name_end = text.rindex(")")
        fields = text[name_end + 2 :].split()
        if fields[1] == me and fields[0] != "Z":
            found.append(text[text.index("(") + 1 : name_end])
    return found


def documents(count: int) -> list[tuple[str, bytes]]:
    """``count`` documents, each with a detached signature beside it, in folders of 100."""
    out = []
    for i in range(count):
        body = f"%PDF-1.7 документ {i}\n".encode() * 20
        out += [(f"папка{i // 100}/док{i:04d}.pdf", body), (f"папка{i // 100}/док{i:04d}.pdf.sig", zlib.crc32(body).to_bytes(4, "big") * 16)]
    return out


def test_default_limit_allows_1000_documents_with_their_signatures(tmp_path: Path, sandbox: Path) -> None:
    assert ArchiveLimits().max_entries == LimitsConfig().archive_max_entries >= 2000 + 10
    entries = documents(1000)
    started = time.monotonic()
    result = extract_archive(write(tmp_path, rar5_stored(entries, directories=tuple(f"папка{i}" for i in range(10)))), sandbox, "PPP.rar")
    elapsed = time.monotonic() - started
    assert result.checks == ()
    assert [f.name for f in result.files] == [f"PPP.rar/{name}" for name, _ in entries]
    assert all(f.path.read_bytes() == data for f, (_, data) in zip(result.files, entries, strict=True))
    # One unar for the archive: 2,000 entries one process each took minutes.
    assert elapsed < 15, elapsed


def test_entry_limit_counts_files_not_rar_service_headers(tmp_path: Path, sandbox: Path) -> None:
    path = write(tmp_path, rar5_stored([("a.txt", b"a"), ("b.txt", b"b"), ("c.txt", b"c")], comments=20))
    assert extract_archive(path, sandbox, "PPP.rar", ArchiveLimits(max_entries=3)).checks == ()


def test_one_file_over_the_entry_limit_is_too_many(tmp_path: Path, sandbox: Path) -> None:
    path = write(tmp_path, rar5_stored([("a.txt", b"a"), ("b.txt", b"b"), ("c.txt", b"c"), ("d.txt", b"d")]))
    result = extract_archive(path, sandbox, "PPP.rar", ArchiveLimits(max_entries=3))
    assert codes(result) == ["archive.too_many_entries"]
    assert result.files == ()


def test_endless_service_headers_stop_the_header_pass(tmp_path: Path, sandbox: Path) -> None:
    path = write(tmp_path, rar5_stored([("a.txt", b"a")], comments=500))
    result = extract_archive(path, sandbox, "PPP.rar", ArchiveLimits(max_entries=10))
    assert codes(result) == ["archive.too_many_entries"]


def test_damaged_first_entry_is_caught_by_its_checksum_and_nothing_after_it_is_kept(tmp_path: Path, sandbox: Path) -> None:
    data = bytearray(rar5_stored([("a.txt", b"first entry " * 10), ("b.txt", b"second entry " * 10)]))
    data[data.find(b"first entry")] ^= 0x01
    result = extract_archive(write(tmp_path, bytes(data)), sandbox, "PPP.rar")
    assert codes(result) == ["archive.corrupt"]
    assert result.checks[0].file == "PPP.rar/a.txt"
    assert "checksum mismatch" in result.checks[0].detail
    assert result.files == ()


def test_damaged_last_entry_is_corrupt_and_earlier_entries_stay_listed(tmp_path: Path, sandbox: Path) -> None:
    data = bytearray(rar5_stored([("a.txt", b"first entry " * 10), ("b.txt", b"second entry " * 10)]))
    data[data.find(b"second entry")] ^= 0x01
    result = extract_archive(write(tmp_path, bytes(data)), sandbox, "PPP.rar")
    assert codes(result) == ["archive.corrupt"]
    assert result.checks[0].file == "PPP.rar/b.txt"
    assert [f.name for f in result.files] == ["PPP.rar/a.txt"]


def test_entry_without_a_checksum_is_refused_before_extraction(tmp_path: Path, sandbox: Path) -> None:
    # unar exits 0 when it cannot decode an entry: without a checksum, the next entry's bytes
    # could be taken for this one's.
    result = extract_archive(write(tmp_path, rar5_stored([("a.txt", b"a" * 100)], crc=False)), sandbox, "PPP.rar")
    assert codes(result) == ["archive.corrupt"]
    assert "checksum" in result.checks[0].detail
    assert result.files == ()


def test_stopping_at_a_limit_leaves_no_unar_process_behind(tmp_path: Path, sandbox: Path) -> None:
    path = write(tmp_path, rar5_stored([(f"f{i}.bin", bytes(600 << 10)) for i in range(4)]))
    result = extract_archive(path, sandbox, "PPP.rar", ArchiveLimits(max_total_bytes=1 << 20))
    assert codes(result) == ["archive.too_large"]
    assert not [name for name in children() if name in ("unar", "prlimit")]


def test_a_finished_extraction_leaves_no_unar_process_behind(tmp_path: Path, sandbox: Path) -> None:
    result = extract_archive(write(tmp_path, rar5_stored([("a.txt", b"a"), ("b.txt", b"b")])), sandbox, "PPP.rar")
    assert result.checks == ()
    assert not [name for name in children() if name in ("unar", "prlimit")]


def fake_unar(folder: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Put a ``unar`` that wraps the real one first on PATH: a tool that misbehaves the way
    a damaged archive or a tool bug would, without touching the code under test."""
    real = shutil.which("unar")
    folder.mkdir()
    tool = folder / "unar"
    tool.write_text(f"#!/bin/sh\nREAL={real}\n{script}\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.parametrize(
    "script, detail",
    [
        ('"$REAL" "$@"; printf EXTRA', "output continues after the last entry"),
        ('"$REAL" "$@"; exit 3', "unar exit 3"),
        ('"$REAL" "$@" | head -c 10', "of 5 bytes"),
    ],
    ids=["extra-output", "nonzero-exit", "short-output"],
)
def test_a_misbehaving_unar_is_not_believed(tmp_path: Path, sandbox: Path, monkeypatch: pytest.MonkeyPatch, script: str, detail: str) -> None:
    fake_unar(tmp_path / "bin", monkeypatch, script)
    result = extract_archive(write(tmp_path, rar5_stored([("a.txt", b"aaaaaaaa"), ("b.txt", b"bbbbb")])), sandbox, "PPP.rar")
    assert codes(result) == ["archive.corrupt"]
    assert result.checks[0].file == "PPP.rar/b.txt"
    assert detail in result.checks[0].detail


def test_entries_written_in_another_order_are_caught_by_their_checksums(tmp_path: Path, sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Same sizes, swapped content: boundaries come from the header listing, proof from the checksums.
    fake_unar(tmp_path / "bin", monkeypatch, 'printf bbbbbaaaaa')
    result = extract_archive(write(tmp_path, rar5_stored([("a.txt", b"aaaaa"), ("b.txt", b"bbbbb")])), sandbox, "PPP.rar")
    assert codes(result) == ["archive.corrupt"]
    assert result.files == ()
