"""Content-addressed file store: a temporary file, its SHA-256 name, fsync.

Uploads arrive in chunks; :class:`BlobWriter` writes them and takes their SHA-256 on a
worker thread, so the event loop only hands chunks over and the file is never held whole
in memory. Only SHA-256 is taken here (it names the file and costs little next to the
write); Streebog-256, five times slower, is computed once by the validation worker and
recorded with the file (``gateway.pipeline.worker``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from gateway.store.files import fsync_dir, fsync_path

__all__ = ["BlobStore", "BlobWriter", "StoredBlob", "fsync_dir"]

_SYNC_EVERY = 32 << 20


@dataclass(frozen=True, slots=True)
class StoredBlob:
    key: str
    size: int
    sha256: str
    streebog256: str | None


class BlobWriter:
    """Receives chunks; ``finish`` closes the file, ``commit`` makes the blob durable.

    Making one does no file-system work (the event loop may make it): the temporary file
    is created by the first ``write`` or by ``finish``, on the writer's thread.
    """

    def __init__(self, store: BlobStore) -> None:
        self._store = store
        self._file: BinaryIO | None = None
        self._temp: Path | None = None
        self._finished = False
        self._sha256 = hashlib.sha256()
        self.size = 0
        self._unsynced = 0

    def _open(self) -> BinaryIO:
        if self._file is None:
            if self._finished:
                raise ValueError("BlobWriter.write() after finish()")
            fd, name = tempfile.mkstemp(dir=self._store.tmp, prefix="upload-")
            self._file = os.fdopen(fd, "wb", buffering=0)
            self._temp = Path(name)
        return self._file

    def write(self, chunk: bytes) -> None:
        """Write and SHA-256 a chunk."""
        file = self._open()
        file.write(chunk)
        self._sha256.update(chunk)
        self.size += len(chunk)
        self._unsynced += len(chunk)
        if self._unsynced >= _SYNC_EVERY:
            # Flushed while the upload goes on: the fsync before the 202 then has little
            # left to write, and a large upload never piles up dirty pages that make the
            # kernel throttle every writer.
            os.fdatasync(file.fileno())
            self._unsynced = 0

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of what was written so far: the content address once finished."""
        return self._sha256.hexdigest()

    def finish(self) -> None:
        """All chunks are in: close the file (a request with many parts holds one open
        file at a time; the data is fsynced at :meth:`commit`). An empty part still gets
        its (empty) file."""
        if not self._finished:
            self._open().close()
            self._file = None
            self._finished = True

    def commit(self) -> StoredBlob:
        """Durable under its content address (fsync of the file and of its folder)."""
        return self._store.commit([self])[0]

    def sync_and_place(self) -> tuple[StoredBlob, Path]:
        """Give the file its content address and make its data durable; returns the blob and
        the folder that received its name (to be fsynced by the caller, once for many files).

        A new address is linked first and fsynced after: the file's fsync then commits its
        new name too (one journal commit instead of two on ext4; the caller's fsync of the
        folder keeps it right everywhere). Nothing refers to the name before the caller's
        database commit, which comes after both fsyncs; a name left by a crash in between,
        possibly over incomplete data, is an address taken already, for which the old way
        is used: fsync the file, then replace whatever has that name.
        """
        self.finish()
        if self._temp is None:  # opened by finish() above; a None here is a broken invariant
            raise RuntimeError("BlobWriter has no file after finish()")
        key = self._sha256.hexdigest()
        target = self._store.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self._temp, target)  # fails if the name exists: never over another file
        except FileExistsError:
            fsync_path(self._temp)
            os.replace(self._temp, target)
        else:
            fsync_path(target)
            self._temp.unlink()
        return StoredBlob(key, self.size, key, None), target.parent

    def abort(self) -> None:
        """Close and remove the temporary file, if there is one."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._finished = True
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)


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
        placed = [writer.sync_and_place() for writer in writers]
        for folder in dict.fromkeys(folder for _blob, folder in placed):
            fsync_dir(folder)
        return [blob for blob, _folder in placed]
