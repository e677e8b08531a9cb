"""Content-addressed file store: a temporary file, fsync, rename to its SHA-256.

Uploads arrive in chunks; :class:`BlobWriter` writes and hashes them (SHA-256 with the
write on one worker thread, Streebog-256 on another), so the event loop only hands
chunks over and the file is never held whole in memory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from validators import gost

__all__ = ["BlobStore", "BlobWriter", "StoredBlob"]


@dataclass(frozen=True, slots=True)
class StoredBlob:
    key: str
    size: int
    sha256: str
    streebog256: str | None


class BlobWriter:
    """Receives chunks; ``finish`` closes the file, ``commit`` makes the blob durable."""

    def __init__(self, store: "BlobStore") -> None:
        self._store = store
        fd, name = tempfile.mkstemp(dir=store.tmp, prefix="upload-")
        self._file: BinaryIO | None = os.fdopen(fd, "wb", buffering=0)
        self._temp = Path(name)
        self._sha256 = hashlib.sha256()
        self._streebog = hashlib.new("md_gost12_256") if gost.gost_support().available else None
        self.size = 0

    def write(self, chunk: bytes) -> None:
        """Write and SHA-256 a chunk (one thread); :meth:`hash_gost` may run on another."""
        assert self._file is not None, "write after finish"
        self._file.write(chunk)
        self._sha256.update(chunk)
        self.size += len(chunk)

    def hash_gost(self, chunk: bytes) -> None:
        """Streebog-256 of a chunk: the slowest step (~180 MB/s), so it gets its own thread."""
        if self._streebog is not None:
            self._streebog.update(chunk)

    def finish(self) -> None:
        """All chunks are in: close the file (a request with many parts holds one open
        file at a time; the data is fsynced at :meth:`commit`)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def commit(self) -> StoredBlob:
        """Durable under its content address (fsync of the file and of its folder)."""
        return self._store.commit([self])[0]

    def _sync_and_place(self) -> tuple[StoredBlob, Path]:
        self.finish()
        _fsync_path(self._temp)
        key = self._sha256.hexdigest()
        target = self._store.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._temp, target)
        return StoredBlob(key, self.size, key, self._streebog.hexdigest() if self._streebog else None), target.parent

    def abort(self) -> None:
        try:
            self.finish()
        finally:
            self._temp.unlink(missing_ok=True)


def _fsync_path(path: Path, flags: int = os.O_RDONLY) -> None:
    # fsync through a fresh descriptor flushes the file's data as well (Linux: per inode).
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    _fsync_path(path)


class BlobStore:
    """Files under ``root/ab/cd/<sha256>``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        # Uploads cut short by a crash (kill -9) left their temporary files: nothing refers
        # to them (the 202 was never sent), so they go.
        for stale in self.tmp.glob("upload-*"):
            stale.unlink(missing_ok=True)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key[2:4] / key

    def writer(self) -> BlobWriter:
        return BlobWriter(self)

    def commit(self, writers: list[BlobWriter]) -> list[StoredBlob]:
        """Make finished uploads durable under their content addresses, in order.

        Each file is fsynced and renamed; each folder that received a name is fsynced
        once, after all renames (one folder fsync per distinct folder, not per file).
        """
        placed = [writer._sync_and_place() for writer in writers]
        for folder in dict.fromkeys(folder for _blob, folder in placed):
            _fsync_dir(folder)
        return [blob for blob, _folder in placed]
