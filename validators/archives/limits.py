"""The limits of one extraction and where they are enforced: on every chunk the readers
produce, before it is written (:func:`write_entry`).

Semantics: ``max_entries`` counts every file and directory entry of every archive level
(never format bookkeeping such as RAR service headers). ``max_total_bytes`` counts every
byte produced (a nested archive's own bytes and its contents both count). Entry depth
never exceeds ``max_depth``. Declared sizes are pre-checked but never trusted: the
counters see the bytes the data really decompress to.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from validators.archives.common import Abort, Entry, Source, State, WriteFailed
from validators.checks import finding

CHUNK = 64 << 10
RATIO_GRACE_BYTES = 1 << 20
"""The ratio limit applies only once an entry has produced more than this."""


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Limits that stop an extraction while it reads (not after inflating)."""

    max_entries: int = 4000
    """File and directory entries counted across all nesting levels (never RAR main, end
    or service headers). The default allows 1,000 documents with their detached
    signatures, each in its own folder, with room to spare."""
    max_total_bytes: int = 1 << 30
    """Uncompressed bytes written, all levels together."""
    max_entry_bytes: int = 512 << 20
    """One entry, uncompressed."""
    max_ratio: int = 200
    """Uncompressed/compressed per entry; enforced only once an entry has produced > 1 MiB."""
    max_depth: int = 2
    """Deepest entry depth: 1 = entries of the top archive. An archive whose entries would
    lie deeper is refused (``archive.nested_too_deep``) and only listed as a file."""


def write_entry(state: State, source: Source, entry: Entry, target: Path, label: str) -> int:
    """Stream one entry to ``target`` enforcing the limits; returns its size."""
    limits = state.limits
    if entry.declared_size > limits.max_entry_bytes:
        abort(state, "archive.too_large", label, f"declared size {entry.declared_size} > entry limit {limits.max_entry_bytes}")
    if state.total + entry.declared_size > limits.max_total_bytes:
        abort(state, "archive.too_large", label, f"declared sizes exceed the total limit {limits.max_total_bytes}")
    packed = max(1, min(entry.packed_size, source.archive_size))
    if entry.declared_size > RATIO_GRACE_BYTES and entry.declared_size > limits.max_ratio * packed:
        abort(state, "archive.bomb", label, f"declared {entry.declared_size} bytes from {packed} (ratio > {limits.max_ratio})")
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise WriteFailed from exc
    written = 0
    ok = False
    try:
        with os.fdopen(fd, "wb") as out, source.stream(entry, label) as reader:
            while True:
                chunk = source.read(reader, label)
                if not chunk:
                    break
                written += len(chunk)
                if written > limits.max_entry_bytes:
                    abort(state, "archive.too_large", label, f"entry produced more than {limits.max_entry_bytes} bytes")
                if state.total + len(chunk) > limits.max_total_bytes:
                    abort(state, "archive.too_large", label, f"extracted data exceeds {limits.max_total_bytes} bytes")
                if written > RATIO_GRACE_BYTES and written > limits.max_ratio * packed:
                    abort(state, "archive.bomb", label, f"{written} bytes from {packed} compressed (ratio > {limits.max_ratio})")
                state.total += len(chunk)
                # Bytes past the declared size are counted against the limits above but
                # not written: the entry is refused at EOF (size mismatch) in any case.
                keep = max(0, min(len(chunk), entry.declared_size - (written - len(chunk))))
                try:
                    out.write(chunk[:keep] if keep < len(chunk) else chunk)
                except OSError as exc:
                    raise WriteFailed from exc
            source.finish(reader, entry, written, label)
        ok = True
    finally:
        if not ok:
            target.unlink(missing_ok=True)
    return written


def abort(state: State, code: str, label: str, detail: str) -> NoReturn:
    state.checks.append(finding(code, file=label, detail=detail))
    raise Abort


def abort_many(state: State, prefix: str, count: int) -> NoReturn:
    state.checks.append(
        finding("archive.too_many_entries", file=prefix, detail=f"{count} entries, limit {state.limits.max_entries}")
    )
    raise Abort
