"""File-system helpers every floor shares: file names made harmless, fsync, atomic writes.

Names: :func:`safe_name` keeps the member's own name for reports and validation (only
reduced to one printable path part); :func:`safe_file_name` starts from it and makes the
name storable on any file system (registry folders copied to Windows shares).

Durability: :func:`fsync_path` flushes a file or folder through a fresh descriptor;
:func:`write_atomically` writes a temporary file beside the target, fsyncs it, renames it
into place and fsyncs the folder, so a reader sees the old or the new content, never half.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
import urllib.parse
from pathlib import Path

__all__ = ["safe_name", "safe_file_name", "fsync_path", "fsync_dir", "write_atomically"]

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_MAX_STORED_BYTES = 200


def _last_part(name: str) -> str:
    """The last path part (POSIX or Windows separators), printable characters only."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable()).strip()


def safe_name(filename: str | None, fallback: str) -> str:
    """The uploaded file's own name for reports, reduced to a harmless single path part."""
    name = filename or ""
    if re.search(r"%[0-9A-Fa-f]{2}", name):
        # aiohttp's own client percent-encodes non-ASCII names in filename="…".
        with contextlib.suppress(UnicodeDecodeError):  # not UTF-8 percent-encoding: keep the name as sent
            name = urllib.parse.unquote(name, errors="strict")
    name = _last_part(name)
    if name in ("", ".", "..") or len(name.encode()) > 255:
        return fallback
    return name


def safe_file_name(name: str) -> str:
    """``name`` made safe to store: no directories, no control or reserved characters,
    NFC, no leading dots, not a Windows device name, at most 200 UTF-8 bytes (extension kept)."""
    name = unicodedata.normalize("NFC", _last_part(name.encode("utf-8", "replace").decode("utf-8")))
    name = _UNSAFE.sub("_", name).strip().lstrip(".").rstrip(". ")
    if not name:
        name = "file"
    if _RESERVED.match(name):
        name = "_" + name
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix.encode("utf-8")) > 20:
        stem, dot, suffix = name, "", ""
    while len((stem + dot + suffix).encode("utf-8")) > _MAX_STORED_BYTES:
        stem = stem[:-1]
    return (stem or "file") + dot + suffix


def fsync_path(path: Path) -> None:
    """fsync ``path`` (a file or a folder) through a fresh descriptor: on Linux that flushes
    the file's data as well (per inode), and for a folder makes the names in it durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make the names in a folder durable."""
    fsync_path(path)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` durably and atomically (temporary file beside it,
    fsync, rename, fsync of the folder); the temporary file never outlives a failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
