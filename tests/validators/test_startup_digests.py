"""`gateway verify` on a large document (issue 13 §4): the document's digests of the report
(Streebog-256 and SHA-256) come from one read of the file, each digest on its own thread,
started before the gateway's heavy imports."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from gateway import entry
from tests.pki.builder import TestPki
from validators import digests
from validators.digests import REPORTED, SHA256, STREEBOG_256, STREEBOG_512, digest_by_oid, digest_file


class _CountingReader(io.RawIOBase):
    """A readable stream that counts the bytes it hands out."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        n = self._data.readinto(buffer)
        self.read_bytes += n
        return n


def _expected(data: bytes) -> dict[str, bytes]:
    return {
        STREEBOG_256: hashlib.new("md_gost12_256", data).digest(),
        STREEBOG_512: hashlib.new("md_gost12_512", data).digest(),
        SHA256: hashlib.sha256(data).digest(),
    }


def test_parallel_digests_of_many_chunks_equal_the_one_thread_digests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks reach every digest in order although two buffers take turns."""
    monkeypatch.setattr(digests, "PARALLEL_MIN", 1 << 16)
    monkeypatch.setattr(digests, "CHUNK_SIZE", 4096 + 17)
    data = os.urandom((1 << 18) + 5)
    path = tmp_path / "doc.bin"
    path.write_bytes(data)
    algorithms = [digest_by_oid(o) for o in (STREEBOG_256, SHA256, STREEBOG_512)]
    assert digest_file(path, algorithms) == _expected(data)


def test_parallel_digests_of_byte_ranges_equal_the_one_thread_digests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digests, "PARALLEL_MIN", 1 << 16)
    monkeypatch.setattr(digests, "CHUNK_SIZE", 10_000)
    data = os.urandom(300_000)
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    ranges = [(0, 120_003), (150_000, 149_990)]
    covered = data[:120_003] + data[150_000:299_990]
    result = digest_file(path, [digest_by_oid(o) for o in REPORTED], ranges)
    assert result == {k: v for k, v in _expected(covered).items() if k in REPORTED}


def test_the_bytes_are_read_once_for_several_digests() -> None:
    data = os.urandom(200_000)
    source = _CountingReader(data)
    result = digests._digest_in_parallel(source, [digest_by_oid(o) for o in REPORTED], 8192)  # type: ignore[arg-type]
    assert source.read_bytes == len(data)
    assert result == {k: v for k, v in _expected(data).items() if k in REPORTED}


def test_a_read_error_in_the_middle_propagates_and_stops_the_threads() -> None:
    class Failing(_CountingReader):
        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            if self.read_bytes > 50_000:
                raise OSError(5, "Input/output error")
            return super().readinto(buffer)

    with pytest.raises(OSError, match="Input/output"):
        digests._digest_in_parallel(Failing(os.urandom(100_000)), [digest_by_oid(o) for o in REPORTED], 8192)  # type: ignore[arg-type]


def test_verify_starts_one_pass_with_both_digests_of_the_report(pki: TestPki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = tmp_path / "doc.bin"
    document.write_bytes(os.urandom(70_000))
    calls: list[list[str]] = []
    real = digests.digest_file

    def recording(path: Path, algorithms: list[digests.DigestAlgorithm], ranges: object = None) -> dict[str, bytes]:
        calls.append(sorted(a.oid for a in algorithms))
        return real(path, algorithms, ranges)  # type: ignore[arg-type]

    monkeypatch.setattr(digests, "digest_file", recording)
    monkeypatch.setattr(entry, "_early", None)
    entry._start_early_digest(["verify", "--trust", str(pki.trust_dir), "--signature", str(tmp_path / "x.sig"), str(document)])
    started = entry.early_digests(document)
    assert started is not None
    assert started.get(REPORTED) == {k: v for k, v in _expected(document.read_bytes()).items() if k in REPORTED}
    assert calls == [sorted(REPORTED)]


def test_the_document_is_found_after_options_with_values() -> None:
    assert entry._document_of(["--signature", "a.sig", "--trust", "t", "--at", "2025-01-01", "doc.pdf", "--json"]) == "doc.pdf"
    assert entry._document_of(["--json", "--", "-odd-name.pdf"]) == "-odd-name.pdf"
    assert entry._document_of(["--signature", "a.sig"]) is None
