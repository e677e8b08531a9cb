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

from validators import gost

__all__ = ["BlobStore", "BlobWriter", "StoredBlob"]


@dataclass(frozen=True, slots=True)
class StoredBlob:
    key: str
    size: int
    sha256: str
    streebog256: str | None


class BlobWriter:
    """Receives chunks; ``commit`` makes the blob durable under its content address."""

    def __init__(self, store: "BlobStore") -> None:
        self._store = store
        fd, name = tempfile.mkstemp(dir=store.tmp, prefix="upload-")
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._temp = Path(name)
        self._sha256 = hashlib.sha256()
        self._streebog = hashlib.new("md_gost12_256") if gost.gost_support().available else None
        self.size = 0

    def write(self, chunk: bytes) -> None:
        """Write and SHA-256 a chunk (one thread); :meth:`hash_gost` may run on another."""
        self._file.write(chunk)
        self._sha256.update(chunk)
        self.size += len(chunk)

    def hash_gost(self, chunk: bytes) -> None:
        """Streebog-256 of a chunk: the slowest step (~180 MB/s), so it gets its own thread."""
        if self._streebog is not None:
            self._streebog.update(chunk)

    def commit(self) -> StoredBlob:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        key = self._sha256.hexdigest()
        target = self._store.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._temp, target)
        _fsync_dir(target.parent)
        return StoredBlob(key, self.size, key, self._streebog.hexdigest() if self._streebog else None)

    def abort(self) -> None:
        try:
            self._file.close()
        finally:
            self._temp.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
