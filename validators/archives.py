"""Safe extraction of ZIP and RAR packages (and of archives nested in them).

:func:`extract_archive` unpacks one uploaded archive into a destination folder and returns
the extracted files plus findings (:class:`~validators.checks.Check`). It never raises for
a bad archive: anything the readers throw becomes ``archive.corrupt`` (or a more precise
code). It raises only when ``dest`` itself cannot be created or written (an environment
problem, not the member's).

How it stays safe
-----------------
* **Names are never used as paths.** Every file is written as ``<dir>/<NNNN>_<safe leaf>``
  where ``NNNN`` is a running number and the leaf is the sanitised last name component;
  the archive-internal name is kept in :attr:`ExtractedFile.name`. Files are created with
  ``O_CREAT | O_EXCL | O_NOFOLLOW``. Nothing is written outside ``dest``; the RAR tool
  writes only to a pipe.
* **Header pass first.** All entries are classified before any byte is extracted:
  encrypted entries, links/devices, unsafe paths (absolute, drive letter, ``..`` in ``/`` or
  ``\\`` form), unknown compression, multi-volume parts, declared sizes over the limits.
  Every such problem of one archive is reported at once and the archive is not extracted.
  Invalid names (control characters, components over 255 bytes, empty) give
  ``file.name_invalid`` but are extracted under a safe name.
* **Limits are enforced while reading**, in 64 KiB chunks, *before* a chunk is written:
  per-entry size, total size over all nesting levels, and the expansion ratio (only once an
  entry has produced more than 1 MiB). Declared sizes are pre-checked but never trusted:
  the counters see the bytes the data really decompress to. ZIP entries are decompressed
  by :class:`_ZipEntryReader`, which (unlike zipfile's reader) does not stop at the declared
  size, so an entry that declares 1 MiB and inflates to 1 GiB reaches the ratio or size
  limit instead of ending as a short, CRC-failing stream. Bytes past the declared size are
  counted but never written (the entry is refused anyway).
  A limit breach (``archive.too_large``, ``archive.bomb``, ``archive.too_many_entries``)
  stops the whole extraction; the partially written file is deleted.
* **Nested archives** are recognised by content (magic bytes), listed as files and expanded
  into ``<NNNN>_<leaf>.d/`` with ``depth + 1``, sharing the same counters. An archive whose
  entries would lie deeper than ``max_depth`` is not expanded (``archive.nested_too_deep``).
  A refused nested archive (corrupt, encrypted, ...) gets its finding and its siblings are
  still processed. ZIP-based office documents (OOXML ``[Content_Types].xml``, ODF
  ``mimetype``) are documents, not archives: they are listed but not expanded.

ZIP
---
Before zipfile reads anything, the file is parsed once by hand (:func:`_zip_layout`): it
must be tiled exactly by one local header + data (+ data descriptor) per central record,
the central directory, the Zip64 end records and the end record with its comment. Data
before the first local header (an SFX stub, a prepended archive), local entries the
directory does not list, gaps, overlapping entries (measured with the *local* name and
extra-field lengths), trailing data, a second end record, and any name, size, CRC, method
or flag that differs between local header (or data descriptor) and directory make the
archive ``archive.inconsistent``: what zipfile would show the verifier is then not what a
streaming unzipper would extract. Several records sharing one local header are also an
``archive.bomb`` (the overlapping-files bomb).

stdlib :mod:`zipfile` for the directory; ``import zipfile_deflate64`` adds Deflate64
(method 9). Names without the UTF-8 flag (bit 11) are read as UTF-8 when they are valid
UTF-8 (Linux and macOS archivers), otherwise as CP866 (Russian Windows archivers): the raw
bytes are recovered from zipfile's lossless CP437 decoding. The entry count is read from the end-of-central-directory record before the
central directory is parsed, so a ZIP with millions of entries is refused cheaply.

RAR: what was measured and chosen
---------------------------------
Headers come from rarfile 4.5 (pure Python; opened with ``part_only=True`` so it never
opens neighbouring "volumes", ``errors="strict"``, and an ``info_callback`` that stops
parsing past ``max_entries``). Data comes from Debian's ``unar`` 1.10.1. Measured here:

* rarfile's own ``rf.open(info)`` does stream through ``unar -o -``, but (a) it runs the
  tool with stderr merged into stdout, so unar's error text ("Archive parsing failed!...")
  arrives as file data and is only caught by the size/CRC check, (b) it selects the entry
  by *name*, which unar treats as a wildcard pattern, (c) it omits ``-nr``, so unar may
  recurse into a nested archive, (d) it has no timeout or resource limits, and (e) for
  non-solid entries it writes a temporary single-entry RAR into the system temp dir.
* So this module runs ``unar -q -nr -o - -i <index> a.rar`` itself, one process per entry,
  reading stdout in 64 KiB chunks with the same counters as ZIP, stderr going to a file.
  The index comes from ``lsar -j`` run once per archive; lsar and rarfile must agree on
  the entry count, the directory flags and the sizes, otherwise the archive is refused as
  corrupt (two parsers disagreeing is the classic smuggling trick). The process gets
  ``RLIMIT_AS`` 2 GiB, ``RLIMIT_CPU``, ``RLIMIT_FSIZE`` 0 (it may only write to the pipe),
  ``RLIMIT_CORE`` 0 and a wall-clock timeout after which it is killed; when a limit trips
  the pipe is closed and the process killed. The archive is hard-linked (or copied) into a
  private work folder inside ``dest`` first, so unar can never pick up sibling files as
  further volumes. After EOF the exit code must be 0 (unar checks CRC/BLAKE2) and the byte
  count must equal the declared size. unar 1.10.1 exits 0 even when it fails to decode an
  entry (it then writes nothing), so the size and a CRC32/BLAKE2sp computed here over the
  stream and compared with the header are what prove an entry complete.
* Numbers (this machine): a 200 MB stored RAR entry streams at ~150 MB/s, first byte after
  ~26 ms; stopping at 10 MB took 87 ms; unar's peak RSS while streaming 200 MB: 21 MB.
  Each entry costs one unar start (~25-45 ms) plus one lsar per archive (~20 ms): the
  accepted corpus RARs take 50-200 ms each, refused ones ~1 ms (header pass only); the
  whole corpus (66 files) runs in ~2.5 s; peak RSS of Python and of unar both ~27 MB.
* unar emits at most the *declared* size of an entry, so a lying RAR header yields a
  short/CRC-failing stream (``archive.corrupt``); the streaming counters still apply to
  what it writes.
* Cost of the choice: in a solid archive unar has to decode all earlier entries to reach
  entry N, so extraction is quadratic in the number of entries (irrelevant for packages of
  tens of files; the per-process timeout bounds it).
* unar 1.10.1 cannot decode some RAR5 *solid* archives (libarchive's
  test_read_format_rar5_solid.rar: nothing written, ``lsar -t`` fails too; rarfile's
  rar5-solid.rar decodes and its CRCs match). A decoding failure in a solid RAR5 is reported
  as ``archive.unsupported`` rather than ``archive.corrupt``, since WinRAR opens the file.
* Not used: ``unar -o dir`` for the whole archive then checking sizes (the bomb would be
  on disk before the check), bsdtar (no RAR solid/encryption support in 3.6.2), 7zz (the
  Debian build has no RAR codec).

Limits semantics
----------------
``max_entries`` counts every entry (directories included) of every archive level.
``max_total_bytes`` counts every byte written to ``dest`` (a nested archive's own bytes
and its contents both count). Entry depth never exceeds ``max_depth``. Duplicate names are
both kept (different numbers on disk) and logged; they are not a finding.
"""

from __future__ import annotations

import bz2
import json
import logging
import mmap
import os
import re
import resource
import shutil
import stat
import struct
import subprocess
import tempfile
import threading
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import rarfile
import zipfile_deflate64  # noqa: F401  (registers Deflate64, method 9, in zipfile)

from validators.checks import Check, finding

__all__ = ["ArchiveLimits", "ExtractedFile", "ArchiveResult", "extract_archive", "sniff_kind"]

log = logging.getLogger(__name__)

CHUNK = 64 << 10
RATIO_GRACE_BYTES = 1 << 20
"""The ratio limit applies only once an entry has produced more than this."""
MAX_COMPONENT_BYTES = 255
MAX_FINDINGS_PER_CODE = 10
"""Per archive and code; further occurrences are summarised in the last detail."""

UNAR_TIMEOUT_S = 300.0
LSAR_TIMEOUT_S = 60.0
UNAR_MEMORY_BYTES = 2 << 30
UNAR_CPU_SECONDS = 300

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_RAR4_MAGIC = b"Rar!\x1a\x07\x00"
_RAR5_MAGIC = b"Rar!\x1a\x07\x01\x00"

_ZIP_METHODS = {
    zipfile.ZIP_STORED,
    zipfile.ZIP_DEFLATED,
    9,  # Deflate64, via zipfile_deflate64
    zipfile.ZIP_BZIP2,
    zipfile.ZIP_LZMA,
}
_ZIP_AES = 99
_ZIP_FLAG_ENCRYPTED = 0x1
_ZIP_FLAG_STRONG = 0x40
_ZIP_FLAG_CD_ENCRYPTED = 0x2000
_SPECIAL_TYPES = {
    stat.S_IFLNK: "symbolic link",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "FIFO",
    stat.S_IFSOCK: "socket",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DRIVE = re.compile(r"^[A-Za-z]:")
_UNSAFE_LEAF_CHARS = re.compile(r"[^\w.\- ()\[\]{}+=,@#№]")


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Limits that stop an extraction while it reads (not after inflating)."""

    max_entries: int = 1000
    """Entries (directories included) counted across all nesting levels."""
    max_total_bytes: int = 1 << 30
    """Uncompressed bytes written, all levels together."""
    max_entry_bytes: int = 512 << 20
    """One entry, uncompressed."""
    max_ratio: int = 200
    """Uncompressed/compressed per entry; enforced only once an entry has produced > 1 MiB."""
    max_depth: int = 2
    """Deepest entry depth: 1 = entries of the top archive. An archive whose entries would
    lie deeper is refused (``archive.nested_too_deep``) and only listed as a file."""


@dataclass(frozen=True, slots=True)
class ExtractedFile:
    """One regular file written under ``dest``."""

    name: str
    """Path inside the package, ``/``-separated and decoded, prefixed by the display name of
    the top archive; nested archive names appear as parts: ``PPP_OD.zip/a.zip/форма.xml``."""
    path: Path
    """Where it was written (under ``dest``; the on-disk name is sanitised and numbered)."""
    size: int
    depth: int
    """1 for entries of the top archive."""


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    """What :func:`extract_archive` found."""

    files: tuple[ExtractedFile, ...]
    """Regular files only; nested archives are listed (as files) and followed by their
    entries. May be partial when the archive was refused."""
    checks: tuple[Check, ...]
    """Empty when the archive is acceptable."""
    kind: str
    """``"zip"``, ``"rar"`` or ``"unknown"`` (of the top archive, by magic bytes)."""


def sniff_kind(head: bytes) -> str:
    """``"zip"``, ``"rar"`` or ``"unknown"`` from the first bytes of a file."""
    if head.startswith(_ZIP_MAGICS):
        return "zip"
    if head.startswith(_RAR4_MAGIC) or head.startswith(_RAR5_MAGIC):
        return "rar"
    return "unknown"


def extract_archive(
    archive: Path, dest: Path, display_name: str, limits: ArchiveLimits = ArchiveLimits()
) -> ArchiveResult:
    """Extract ``archive`` (ZIP or RAR, recognised by content) and nested archives into ``dest``.

    ``display_name`` is how the archive is called in findings and in
    :attr:`ExtractedFile.name` (usually the uploaded file name, e.g. ``PPP_OD.zip``).
    ``dest`` is created if missing; nothing is written outside it. Returns the files written
    and the findings; never raises because of the archive's content (only ``OSError`` when
    ``dest`` cannot be written).
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    state = _State(dest=dest.resolve(), limits=limits)
    try:
        with open(archive, "rb") as fh:
            kind = sniff_kind(fh.read(8))
    except OSError as exc:
        state.checks.append(finding("archive.corrupt", file=display_name, detail=f"cannot read the archive: {exc}"))
        return state.result("unknown")
    if kind == "unknown":
        state.checks.append(
            finding("archive.unsupported", file=display_name, detail="content is neither a ZIP nor a RAR archive (magic bytes)")
        )
        return state.result(kind)
    try:
        _expand(state, Path(archive), kind, display_name, state.dest, depth=1)
    except (_Refused, _Abort):
        pass
    except _WriteFailed as exc:
        raise exc.__cause__ or OSError("cannot write under dest") from None
    except Exception as exc:  # noqa: BLE001 - the promise: bad input never raises
        log.exception("unexpected failure while extracting %s", display_name)
        state.checks.append(
            finding("archive.corrupt", file=display_name, detail=f"unexpected {type(exc).__name__}: {exc}")
        )
    return state.result(kind)


# ---------------------------------------------------------------------------------------
# internals


class _Refused(Exception):
    """The current archive is refused; its findings are already recorded."""


class _Abort(Exception):
    """A global limit was hit: stop everything; the finding is already recorded."""


class _WriteFailed(Exception):
    """Writing under dest failed: re-raised to the caller as the original OSError."""


@dataclass
class _State:
    dest: Path
    limits: ArchiveLimits
    files: list[ExtractedFile] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    entries: int = 0
    total: int = 0
    seq: int = 0

    def result(self, kind: str) -> ArchiveResult:
        return ArchiveResult(tuple(self.files), tuple(self.checks), kind)

    def next_path(self, directory: Path, leaf: str, suffix: str = "") -> Path:
        while True:
            self.seq += 1
            candidate = directory / f"{self.seq:04d}_{leaf}{suffix}"
            if not os.path.lexists(candidate):
                return candidate


@dataclass
class _Entry:
    """One archive member as seen in the header pass."""

    raw_name: str
    parts: tuple[str, ...]
    is_dir: bool
    declared_size: int
    packed_size: int
    ref: object
    """ZipInfo, or the lsar index of a RAR member."""


class _Problems:
    """Header-pass findings of one archive, at most MAX_FINDINGS_PER_CODE per code."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.blocking: list[Check] = []
        self.soft: list[Check] = []
        self._counts: dict[str, int] = {}

    def add(self, code: str, name: str | None, detail: str, *, soft: bool = False) -> None:
        n = self._counts.get(code, 0) + 1
        self._counts[code] = n
        target = self.soft if soft else self.blocking
        where = f"{self.prefix}/{name}" if name is not None else self.prefix
        if n <= MAX_FINDINGS_PER_CODE:
            target.append(finding(code, file=where, detail=detail))
        elif n == MAX_FINDINGS_PER_CODE + 1:
            target.append(finding(code, file=self.prefix, detail="further entries with the same problem"))


class _Reader(Protocol):
    def read(self, n: int) -> bytes: ...


# --- names --------------------------------------------------------------------------------


def _split_name(raw: str, problems: _Problems) -> tuple[tuple[str, ...], bool]:
    """Normalised path parts and whether the name is safe to use (records the problems)."""
    shown = raw
    name = raw.replace("\\", "/")
    unsafe = []
    if name.startswith("/"):
        unsafe.append("absolute path")
    if _DRIVE.match(name):
        unsafe.append("drive letter")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        unsafe.append("'..' component")
    if unsafe:
        problems.add("archive.unsafe_path", shown, f"entry name {raw!r}: {', '.join(unsafe)}")
        return parts, False
    if not parts and not name.endswith("/"):
        problems.add("file.name_invalid", shown, f"entry name {raw!r} is empty", soft=True)
    elif _CONTROL.search(name):
        problems.add("file.name_invalid", shown, f"entry name {raw!r} contains control characters", soft=True)
    else:
        long = [p for p in parts if len(p.encode("utf-8", "surrogateescape")) > MAX_COMPONENT_BYTES]
        if long:
            problems.add("file.name_invalid", shown, f"name component longer than {MAX_COMPONENT_BYTES} bytes", soft=True)
    return parts, True


def _safe_leaf(parts: tuple[str, ...]) -> str:
    leaf = unicodedata.normalize("NFC", parts[-1]) if parts else "unnamed"
    leaf = _UNSAFE_LEAF_CHARS.sub("_", leaf).strip(" .") or "unnamed"
    encoded = leaf.encode("utf-8")
    if len(encoded) > 120:
        leaf = encoded[:120].decode("utf-8", "ignore").rstrip(" .") or "unnamed"
    return leaf


# --- the walk -----------------------------------------------------------------------------


def _expand(state: _State, path: Path, kind: str, prefix: str, outdir: Path, depth: int) -> None:
    """Header pass, then extraction of one archive whose entries get ``depth``."""
    if kind == "zip":
        opened = _ZipSource.open(state, path, prefix)
    else:
        opened = _RarSource.open(state, path, prefix, outdir)
    try:
        entries = opened.entries
        problems = opened.problems
        state.entries += len(entries)
        if state.entries > state.limits.max_entries:
            state.checks.append(
                finding(
                    "archive.too_many_entries",
                    file=prefix,
                    detail=f"{state.entries} entries so far, limit {state.limits.max_entries}",
                )
            )
            raise _Abort
        regular = [e for e in entries if not e.is_dir]
        state.checks.extend(problems.blocking)
        state.checks.extend(problems.soft)
        if problems.blocking:
            raise _Refused
        if not regular:
            state.checks.append(finding("archive.empty", file=prefix, detail=f"{len(entries)} entries, no regular file"))
            raise _Refused
        seen: dict[tuple[str, ...], int] = {}
        for entry in regular:
            display = "/".join(entry.parts) if entry.parts else "unnamed"
            if entry.parts in seen:
                log.info("duplicate entry name %r in %s (kept both)", display, prefix)
            seen[entry.parts] = seen.get(entry.parts, 0) + 1
            target = state.next_path(outdir, _safe_leaf(entry.parts))
            size = _write_entry(state, opened, entry, target, f"{prefix}/{display}")
            extracted = ExtractedFile(name=f"{prefix}/{display}", path=target, size=size, depth=depth)
            state.files.append(extracted)
            _maybe_expand_nested(state, extracted, depth)
    finally:
        opened.close()


def _maybe_expand_nested(state: _State, extracted: ExtractedFile, depth: int) -> None:
    with open(extracted.path, "rb") as fh:
        kind = sniff_kind(fh.read(8))
    if kind == "unknown":
        return
    if kind == "zip" and _is_office_document(extracted.path):
        return
    if depth + 1 > state.limits.max_depth:
        state.checks.append(
            finding(
                "archive.nested_too_deep",
                file=extracted.name,
                detail=f"{kind} archive at depth {depth}; its entries would be at depth {depth + 1} > {state.limits.max_depth}",
            )
        )
        return
    subdir = extracted.path.with_name(extracted.path.name + ".d")
    if os.path.lexists(subdir):
        subdir = state.next_path(extracted.path.parent, _safe_leaf((extracted.path.name,)), ".d")
    try:
        subdir.mkdir()
    except OSError as exc:
        raise _WriteFailed from exc
    try:
        _expand(state, extracted.path, kind, extracted.name, subdir, depth + 1)
    except _Refused:
        pass


def _is_office_document(path: Path) -> bool:
    """OOXML/ODF files are ZIPs but documents: they are not expanded."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if "[Content_Types].xml" in names:
                return True
            if names and names[0] == "mimetype":
                with zf.open("mimetype") as fh:
                    return fh.read(100).startswith(b"application/vnd.oasis.opendocument")
    except Exception:  # noqa: BLE001 - a broken ZIP is handled by the normal path
        return False
    return False


def _write_entry(state: _State, source: "_Source", entry: _Entry, target: Path, label: str) -> int:
    """Stream one entry to ``target`` enforcing the limits; returns its size."""
    limits = state.limits
    if entry.declared_size > limits.max_entry_bytes:
        _abort(state, "archive.too_large", label, f"declared size {entry.declared_size} > entry limit {limits.max_entry_bytes}")
    if state.total + entry.declared_size > limits.max_total_bytes:
        _abort(state, "archive.too_large", label, f"declared sizes exceed the total limit {limits.max_total_bytes}")
    packed = max(1, min(entry.packed_size, source.archive_size))
    if entry.declared_size > RATIO_GRACE_BYTES and entry.declared_size > limits.max_ratio * packed:
        _abort(state, "archive.bomb", label, f"declared {entry.declared_size} bytes from {packed} (ratio > {limits.max_ratio})")
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise _WriteFailed from exc
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
                    _abort(state, "archive.too_large", label, f"entry produced more than {limits.max_entry_bytes} bytes")
                if state.total + len(chunk) > limits.max_total_bytes:
                    _abort(state, "archive.too_large", label, f"extracted data exceeds {limits.max_total_bytes} bytes")
                if written > RATIO_GRACE_BYTES and written > limits.max_ratio * packed:
                    _abort(state, "archive.bomb", label, f"{written} bytes from {packed} compressed (ratio > {limits.max_ratio})")
                state.total += len(chunk)
                # Bytes past the declared size are counted against the limits above but
                # not written: the entry is refused at EOF (size mismatch) in any case.
                keep = max(0, min(len(chunk), entry.declared_size - (written - len(chunk))))
                try:
                    out.write(chunk[:keep] if keep < len(chunk) else chunk)
                except OSError as exc:
                    raise _WriteFailed from exc
            source.finish(reader, entry, written, label)
        ok = True
    finally:
        if not ok:
            target.unlink(missing_ok=True)
    return written


def _abort(state: _State, code: str, label: str, detail: str) -> None:
    state.checks.append(finding(code, file=label, detail=detail))
    raise _Abort


def _refuse(state: _State, code: str, label: str, detail: str) -> None:
    state.checks.append(finding(code, file=label, detail=detail))
    raise _Refused


class _Source:
    """One opened archive: its entries and how to stream them."""

    entries: list[_Entry]
    problems: _Problems
    archive_size: int
    state: _State

    def stream(self, entry: _Entry, label: str):  # pragma: no cover - interface
        raise NotImplementedError

    def read(self, reader: _Reader, label: str) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError

    def finish(self, reader: _Reader, entry: _Entry, written: int, label: str) -> None:
        """Called after EOF; refuses the archive when the stream was not complete."""

    def close(self) -> None:
        """Release files and processes."""


# --- ZIP ----------------------------------------------------------------------------------


class _ZipSource(_Source):
    def __init__(self, state: _State, zf: zipfile.ZipFile, prefix: str, size: int, problems: _Problems) -> None:
        self.state = state
        self.zf = zf
        self.prefix = prefix
        self.archive_size = size
        self.problems = problems
        self.entries = []
        self.path = Path(zf.filename or "")
        self.data_starts: list[int] = []

    @classmethod
    def open(cls, state: _State, path: Path, prefix: str) -> "_ZipSource":
        size = path.stat().st_size
        if _zip_header_encrypted(path):
            _refuse(state, "archive.encrypted", prefix, "central directory is encrypted (PKWARE strong encryption, flag bits 0 and 13)")
        declared = _zip_declared_entries(path)
        if declared is not None and state.entries + declared > state.limits.max_entries:
            _abort_many(state, prefix, state.entries + declared)
        # The layout first: when zipfile cannot read what another unzipper reads (taking the
        # other end record, ignoring the prefix), the disagreement is the finding.
        layout = _Problems(prefix)
        records = _zip_layout_problems(path, layout)
        try:
            zf = zipfile.ZipFile(path)  # names without the UTF-8 flag: see _zip_entry_name
        except Exception as exc:  # noqa: BLE001 - any reader failure is a refusal
            inconsistent = [c for c in layout.blocking if c.code == "archive.inconsistent"]
            if inconsistent:
                state.checks.extend(inconsistent)
                raise _Refused from None
            if isinstance(exc, zipfile.BadZipFile) and "span multiple disks" in str(exc):
                _refuse(state, "archive.unsupported", prefix, f"multi-disk ZIP: {exc}")
            detail = str(exc) if isinstance(exc, zipfile.BadZipFile) else f"{type(exc).__name__}: {exc}"
            _refuse(state, "archive.corrupt", prefix, f"zipfile: {detail}")
        source = cls(state, zf, prefix, size, layout)
        try:
            source._cross_check(records)
            source._scan()
        except BaseException:
            zf.close()
            raise
        return source

    def _scan(self) -> None:
        problems = self.problems
        for index, info in enumerate(self.zf.infolist()):
            raw = _zip_entry_name(info)
            if "\x00" in info.orig_filename:
                # zipfile cuts a name at its first NUL; what followed is hidden from us.
                problems.add("file.name_invalid", raw, f"entry name contains a NUL byte: {info.orig_filename!r}", soft=True)
            parts, safe = _split_name(raw, problems)
            mode = info.external_attr >> 16
            ftype = stat.S_IFMT(mode)
            is_dir = raw.endswith(("/", "\\")) or ftype == stat.S_IFDIR or bool(info.external_attr & 0x10 and info.file_size == 0)
            if ftype in _SPECIAL_TYPES:
                problems.add("archive.link", raw, f"{_SPECIAL_TYPES[ftype]} entry (mode {oct(mode)})")
                continue
            if is_dir:
                self.entries.append(_Entry(raw, parts, True, 0, 0, info))
                continue
            if info.flag_bits & _ZIP_FLAG_ENCRYPTED or info.compress_type == _ZIP_AES:
                how = "WinZip AES" if info.compress_type == _ZIP_AES else (
                    "strong encryption" if info.flag_bits & _ZIP_FLAG_STRONG else "ZipCrypto"
                )
                problems.add("archive.encrypted", raw, f"entry is encrypted ({how})")
                continue
            if info.compress_type not in _ZIP_METHODS:
                problems.add("archive.unsupported", raw, f"compression method {info.compress_type} is not supported")
                continue
            if safe:
                self.entries.append(_Entry(raw, parts, False, info.file_size, info.compress_size, (index, info)))

    def _cross_check(self, records: list[_CentralRecord]) -> None:
        """zipfile must read the directory as :func:`_zip_layout` did."""
        if self.problems.blocking or not records:
            return
        infos = self.zf.infolist()
        same = len(infos) == len(records) and all(
            (i.header_offset, i.compress_size, i.file_size, i.CRC) == (r.offset, r.csize, r.usize, r.crc)
            for i, r in zip(infos, records)
        )
        if not same:
            self.problems.add("archive.inconsistent", None, "zipfile reads the central directory differently from a plain parse")
        self.data_starts = [r.data_start for r in records]

    def stream(self, entry: _Entry, label: str) -> "_ZipEntryReader":
        index, info = entry.ref  # type: ignore[misc]
        start = self.data_starts[index] if index < len(self.data_starts) else -1
        if start < 0:
            _refuse(self.state, "archive.corrupt", label, "no local header for the entry")
        try:
            return _ZipEntryReader(self.path, start, info.compress_size, info.compress_type)
        except NotImplementedError as exc:
            _refuse(self.state, "archive.unsupported", label, f"zipfile: {exc}")
        except OSError as exc:
            _refuse(self.state, "archive.corrupt", label, f"cannot read the entry: {exc}")
        raise AssertionError("unreachable")

    def read(self, reader: _Reader, label: str) -> bytes:
        try:
            return reader.read(CHUNK)
        except Exception as exc:  # noqa: BLE001 - zlib/deflate64/bz2/lzma errors
            _refuse(self.state, "archive.corrupt", label, f"decompression failed: {type(exc).__name__}: {exc}")
        raise AssertionError("unreachable")

    def finish(self, reader: _Reader, entry: _Entry, written: int, label: str) -> None:
        assert isinstance(reader, _ZipEntryReader)
        _index, info = entry.ref  # type: ignore[misc]
        if written != entry.declared_size:
            _refuse(self.state, "archive.corrupt", label, f"entry produced {written} bytes, header declares {entry.declared_size}")
        if not reader.complete:
            _refuse(self.state, "archive.corrupt", label, "the compressed stream ends before its end marker")
        if reader.crc != info.CRC:
            _refuse(self.state, "archive.corrupt", label, f"CRC-32 {reader.crc:08x}, header declares {info.CRC:08x}")

    def close(self) -> None:
        self.zf.close()


_ZLIB_DECOMPRESS = type(zlib.decompressobj())


class _ZipEntryReader:
    """What an entry's compressed bytes really decompress to, in chunks.

    Unlike zipfile's ``ZipExtFile`` it does not stop at the declared size: an entry that
    declares less than it produces keeps producing here, so the streaming limits (entry
    size, total, ratio) judge the bytes an unzipper that trusts the data would write. The
    compressed input is exactly the entry's ``compress_size`` bytes after its local header
    (the layout check proved that range belongs to this entry alone). Output per call is
    bounded: zlib and bzip2 by ``max_length``; LZMA and Deflate64 (no such parameter) by
    feeding them :attr:`FEED` compressed bytes at a time.
    """

    FEED = 1 << 10

    def __init__(self, path: Path, start: int, size: int, method: int) -> None:
        self._decompressor: object | None = None
        if method == zipfile.ZIP_DEFLATED:
            self._decompressor = zlib.decompressobj(-15)
        elif method == zipfile.ZIP_BZIP2:
            self._decompressor = bz2.BZ2Decompressor()
        elif method != zipfile.ZIP_STORED:
            self._decompressor = zipfile._get_decompressor(method)  # type: ignore[attr-defined]
        self._method = method
        self._fh = open(path, "rb")
        self._fh.seek(start)
        self._left = size
        self.crc = 0

    def __enter__(self) -> "_ZipEntryReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()

    def _input(self, n: int) -> bytes:
        data = self._fh.read(min(n, self._left))
        self._left -= len(data)
        if not data:
            self._left = 0  # the file is shorter than the directory says: the stream stops here
        return data

    @property
    def complete(self) -> bool:
        """The compressed stream reached its end marker (stored data: all bytes read)."""
        if self._decompressor is None:
            return self._left == 0
        return bool(getattr(self._decompressor, "eof", True))

    def read(self, n: int) -> bytes:
        out = self._read(n)
        self.crc = zlib.crc32(out, self.crc)
        return out

    def _read(self, n: int) -> bytes:
        d = self._decompressor
        if d is None:
            return self._input(n)
        while True:
            if getattr(d, "eof", False):
                return b""
            if isinstance(d, _ZLIB_DECOMPRESS):
                data = d.unconsumed_tail or self._input(CHUNK)
                if not data:
                    return d.flush()
                out = d.decompress(data, n)
            elif isinstance(d, bz2.BZ2Decompressor):
                data = self._input(CHUNK) if d.needs_input else b""
                if not data and d.needs_input:
                    return b""
                out = d.decompress(data, n)
            else:
                data = self._input(self.FEED)
                if not data:
                    return b""
                out = d.decompress(data)  # type: ignore[attr-defined]
            if out:
                return out


# --- ZIP layout: local headers against the central directory --------------------------------
# zipfile trusts the central directory; a streaming unzipper (and many libraries) walks the
# local headers. Where the two disagree, what the gateway judged is not what another
# unzipper extracts, so the archive is refused. The file must be tiled exactly by
# [local header + data (+ descriptor)] per central entry, the central directory, the Zip64
# end records and the end record with its comment.

_LOCAL = struct.Struct("<4sHHHHHLLLHH")
_CENTRAL = struct.Struct("<4sHHHHHHLLLHHHHHLL")
_EOCD = struct.Struct("<4sHHHHLLH")
_Z64_LOCATOR = struct.Struct("<4sLQL")
_Z64_EOCD = struct.Struct("<4sQHHLLQQQQ")
_SIG_LOCAL = b"PK\x03\x04"
_SIG_CENTRAL = b"PK\x01\x02"
_SIG_EOCD = b"PK\x05\x06"
_SIG_Z64_EOCD = b"PK\x06\x06"
_SIG_Z64_LOCATOR = b"PK\x06\x07"
_SIG_DESCRIPTOR = b"PK\x07\x08"
_ZIP_FLAG_DESCRIPTOR = 0x8
_ZIP_FLAGS_COMPARED = 0xFFFF & ~0x0006
"""Bits 1-2 are compression-level hints; every other bit changes how an entry is read."""
_EOCD_SEARCH = 22 + 0xFFFF
_U16 = 0xFFFF
_U32 = 0xFFFFFFFF


@dataclass(slots=True)
class _CentralRecord:
    name: bytes
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    offset: int
    data_start: int = -1
    """Where the compressed data begins (after the *local* name and extra field); -1 when
    there is no local header."""


def _zip64_field(extra: bytes) -> bytes | None:
    """The body of the Zip64 extended-information field (tag 0x0001), if any."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        if tag == 0x0001:
            return extra[pos + 4 : pos + 4 + size]
        pos += 4 + size
    return None


def _zip64_values(extra: bytes, wanted: list[str]) -> dict[str, int] | None:
    """The 8-byte values of the Zip64 field, named in ``wanted`` order."""
    body = _zip64_field(extra)
    if body is None or len(body) < 8 * len(wanted):
        return None
    return {key: struct.unpack_from("<Q", body, 8 * i)[0] for i, key in enumerate(wanted)}


def _zip_layout_problems(path: Path, problems: _Problems) -> list[_CentralRecord]:
    """Record ``archive.inconsistent`` (or ``archive.corrupt``) for every disagreement between
    the local headers, the central directory and the end records of the ZIP at ``path``.

    Returns the central directory records as read here, for the caller's cross-check with
    zipfile."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size < _EOCD.size:
            problems.add("archive.corrupt", None, "shorter than an end-of-central-directory record")
            return []
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            try:
                return _zip_layout(data, size, problems)
            except (struct.error, ValueError, IndexError) as exc:
                problems.add("archive.corrupt", None, f"ZIP structure: {type(exc).__name__}: {exc}")
                return []


def _zip_layout(data: mmap.mmap, size: int, problems: _Problems) -> list[_CentralRecord]:
    bad = lambda detail, name=None: problems.add("archive.inconsistent", name, detail)  # noqa: E731
    eocd = data.rfind(_SIG_EOCD, max(0, size - _EOCD_SEARCH))
    if eocd < 0 or eocd + _EOCD.size > size:
        problems.add("archive.corrupt", None, "no end-of-central-directory record")
        return []
    _sig, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment_len = _EOCD.unpack_from(data, eocd)
    if eocd + _EOCD.size + comment_len != size:
        extra = size - (eocd + _EOCD.size + comment_len)
        bad(f"{extra} bytes after the end-of-central-directory record and its comment" if extra > 0
            else "the archive comment runs past the end of the file")
    spans: list[tuple[int, int, str]] = [(eocd, min(size, eocd + _EOCD.size + comment_len), "end record")]
    structure_start = eocd
    if eocd >= _Z64_LOCATOR.size and data[eocd - _Z64_LOCATOR.size : eocd - _Z64_LOCATOR.size + 4] == _SIG_Z64_LOCATOR:
        locator = eocd - _Z64_LOCATOR.size
        _sig, _disk, z64_offset, _disks = _Z64_LOCATOR.unpack_from(data, locator)
        spans.append((locator, eocd, "Zip64 locator"))
        if z64_offset + _Z64_EOCD.size > locator or data[z64_offset : z64_offset + 4] != _SIG_Z64_EOCD:
            problems.add("archive.corrupt", None, "the Zip64 locator does not point at a Zip64 end record")
            return []
        (_sig, record_size, _made, _needed, disk64, cd_disk64, n_disk64, n_total64, cd_size64, cd_offset64) = _Z64_EOCD.unpack_from(data, z64_offset)
        spans.append((z64_offset, z64_offset + 12 + record_size, "Zip64 end record"))
        for classic, wide, what in ((n_disk, n_disk64, "entry count"), (n_total, n_total64, "entry count"),
                                    (cd_size, cd_size64, "directory size"), (cd_offset, cd_offset64, "directory offset")):
            if classic not in (_U16, _U32) and classic != wide:
                bad(f"the end record and the Zip64 end record disagree about the {what} ({classic} / {wide})")
        disk, cd_disk, n_disk, n_total, cd_size, cd_offset = disk64, cd_disk64, n_disk64, n_total64, cd_size64, cd_offset64
        structure_start = z64_offset
    if disk or cd_disk:
        return []  # multi-disk: zipfile refuses it as unsupported
    spans.append((cd_offset, cd_offset + cd_size, "central directory"))
    if cd_offset + cd_size != structure_start:
        # Offsets that do not add up: data before the archive, or a second end record. zipfile
        # would shift every offset by the difference; other readers would not.
        bad(f"the central directory ends at {cd_offset + cd_size}, the end record starts at {structure_start}"
            " (data before the archive, or another end record)")
        return []
    records: list[_CentralRecord] = []
    pos, cd_end = cd_offset, min(cd_offset + cd_size, size)
    while pos < cd_end:
        if pos + _CENTRAL.size > cd_end or data[pos : pos + 4] != _SIG_CENTRAL:
            problems.add("archive.corrupt", None, f"no central directory record at offset {pos}")
            return []
        (_sig, _made, _needed, flags, method, _time, _date, crc, csize, usize,
         name_len, extra_len, comment, _disk_start, _int, _ext, offset) = _CENTRAL.unpack_from(data, pos)
        name = bytes(data[pos + 46 : pos + 46 + name_len])
        extra = bytes(data[pos + 46 + name_len : pos + 46 + name_len + extra_len])
        wanted = [k for k, v in (("usize", usize), ("csize", csize), ("offset", offset)) if v == _U32]
        if wanted:
            wide = _zip64_values(extra, wanted) or {}
            usize, csize, offset = wide.get("usize", usize), wide.get("csize", csize), wide.get("offset", offset)
        records.append(_CentralRecord(name, flags, method, crc, csize, usize, offset))
        pos += 46 + name_len + extra_len + comment
    if pos != cd_end:
        bad(f"the last central directory record runs past the directory's declared size ({pos} > {cd_end})")
    if len(records) != n_total or len(records) != n_disk:
        bad(f"the end record declares {n_total} entries, the central directory holds {len(records)}")
    starts: dict[int, str] = {}
    for rec in records:
        shown = rec.name.decode("utf-8", "replace")
        if rec.offset + _LOCAL.size > size or data[rec.offset : rec.offset + 4] != _SIG_LOCAL:
            problems.add("archive.corrupt", shown, f"no local header at offset {rec.offset}")
            continue
        (_sig, _needed, lflags, lmethod, _time, _date, lcrc, lcsize, lusize, lname_len, lextra_len) = _LOCAL.unpack_from(data, rec.offset)
        header_end = rec.offset + _LOCAL.size + lname_len + lextra_len
        rec.data_start = header_end
        lname = bytes(data[rec.offset + _LOCAL.size : rec.offset + _LOCAL.size + lname_len])
        lextra = bytes(data[rec.offset + _LOCAL.size + lname_len : header_end])
        differs: list[str] = []
        if lname != rec.name:
            differs.append(f"name {lname!r} / {rec.name!r}")
        if lmethod != rec.method:
            differs.append(f"compression method {lmethod} / {rec.method}")
        if (lflags ^ rec.flags) & _ZIP_FLAGS_COMPARED:
            differs.append(f"flags {lflags:#06x} / {rec.flags:#06x}")
        zip64 = _zip64_field(lextra)
        if lusize == _U32 or lcsize == _U32:
            # APPNOTE 4.5.3 wants both sizes here; some writers put only the 0xFFFFFFFF ones.
            both = zip64 is not None and len(zip64) >= 16
            wanted = ["usize", "csize"] if both else [k for k, v in (("usize", lusize), ("csize", lcsize)) if v == _U32]
            wide_values = _zip64_values(lextra, wanted)
            if wide_values is None:
                differs.append("Zip64 sizes missing in the local header")
            else:
                lusize, lcsize = wide_values.get("usize", lusize), wide_values.get("csize", lcsize)
        end = header_end + rec.csize
        if rec.flags & _ZIP_FLAG_DESCRIPTOR:
            # The local values are zero (or already right); the descriptor after the data counts.
            for what, local, central in (("CRC", lcrc, rec.crc), ("compressed size", lcsize, rec.csize), ("size", lusize, rec.usize)):
                if local not in (0, central):
                    differs.append(f"{what} {local} / {central}")
            wide = zip64 is not None
            has_sig = data[end : end + 4] == _SIG_DESCRIPTOR
            body = end + (4 if has_sig else 0)
            fmt = "<LQQ" if wide else "<LLL"
            if body + struct.calcsize(fmt) > size:
                differs.append("data descriptor missing")
            else:
                dcrc, dcsize, dusize = struct.unpack_from(fmt, data, body)
                end = body + struct.calcsize(fmt)
                for what, local, central in (("descriptor CRC", dcrc, rec.crc), ("descriptor compressed size", dcsize, rec.csize), ("descriptor size", dusize, rec.usize)):
                    if local != central:
                        differs.append(f"{what} {local} / {central}")
        else:
            for what, local, central in (("CRC", lcrc, rec.crc), ("compressed size", lcsize, rec.csize), ("size", lusize, rec.usize)):
                if local != central:
                    differs.append(f"{what} {local} / {central}")
        if differs:
            bad("local header and central directory differ: " + "; ".join(differs), shown)
        if rec.offset in starts:
            problems.add("archive.bomb", shown, f"shares its local header with {starts[rec.offset]!r}: overlapping-entries bomb")
        starts.setdefault(rec.offset, shown)
        spans.append((rec.offset, end, f"entry {shown!r}"))
    _check_tiling(data, size, spans, problems)
    # Another end record outside entry data: a reader that picks that one sees another archive.
    entry_spans = [(start, end) for start, end, label in spans if label.startswith("entry ")]
    search = max(0, size - _EOCD_SEARCH)
    while (other := data.find(_SIG_EOCD, search, eocd)) >= 0:
        if not any(start <= other < end for start, end in entry_spans):
            bad(f"a second end-of-central-directory record at offset {other}")
            break
        search = other + 1
    return records


def _check_tiling(data: mmap.mmap, size: int, spans: list[tuple[int, int, str]], problems: _Problems) -> None:
    """Every byte belongs to exactly one part: no prefix, no gap, no overlap, no tail.

    Entries that overlap each other are ``archive.inconsistent`` (two readers can extract
    different bytes); entry data running into the directory or past the end of the file is
    a broken archive, ``archive.corrupt``."""
    bad = lambda detail: problems.add("archive.inconsistent", None, detail)  # noqa: E731
    pos, previous = 0, "start of file"
    for start, end, label in sorted(spans):
        if start > pos:
            gap = data[pos : min(start, pos + (1 << 20))]
            if pos == 0:
                bad(f"{start} bytes before the first local header (a self-extractor stub, another file or archive)")
            elif _SIG_LOCAL in gap:
                bad(f"a local header at offset {pos + gap.find(_SIG_LOCAL)} that the central directory does not list")
            elif _SIG_EOCD in gap:
                bad(f"a second end-of-central-directory record at offset {pos + gap.find(_SIG_EOCD)}")
            else:
                bad(f"{start - pos} bytes between {previous} and {label} belong to no entry")
        elif start < pos:
            detail = f"{label} overlaps {previous} (starts at {start}, {previous} ends at {pos})"
            if label.startswith("entry ") and previous.startswith("entry "):
                bad(detail)
            else:
                problems.add("archive.corrupt", None, detail)
        if end >= pos:
            pos, previous = end, label
    if pos > size:
        problems.add("archive.corrupt", None, f"{previous} runs past the end of the file ({pos} > {size})")
    elif pos < size:
        bad(f"{size - pos} bytes after {previous} belong to no entry")


def _zip_entry_name(info: zipfile.ZipInfo) -> str:
    """The entry name: UTF-8 when flagged (bit 11); without the flag UTF-8 when the bytes are
    valid UTF-8 (Linux and macOS archivers write it so), otherwise CP866 (Russian Windows
    archivers write OEM names). Cut at a NUL byte, as zipfile does."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.orig_filename.encode("cp437")  # zipfile's default decoding is lossless
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        name = raw.decode("cp866")
    return name.split("\x00", 1)[0]


def _zip_declared_entries(path: Path) -> int | None:
    """Entry count from the end-of-central-directory record (before parsing the directory)."""
    try:
        with open(path, "rb") as fh:
            endrec = zipfile._EndRecData(fh)  # type: ignore[attr-defined]
        if endrec:
            return int(endrec[zipfile._ECD_ENTRIES_TOTAL])  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - zipfile itself will report the damage
        return None
    return None


def _zip_header_encrypted(path: Path) -> bool:
    """PKWARE central-directory encryption: first local header has bits 0 and 13 set."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    if len(head) < 8 or not head.startswith(b"PK\x03\x04"):
        return False
    flags = int.from_bytes(head[6:8], "little")
    return flags & (_ZIP_FLAG_ENCRYPTED | _ZIP_FLAG_CD_ENCRYPTED) == (_ZIP_FLAG_ENCRYPTED | _ZIP_FLAG_CD_ENCRYPTED)


def _abort_many(state: _State, prefix: str, count: int) -> None:
    state.checks.append(
        finding("archive.too_many_entries", file=prefix, detail=f"{count} entries, limit {state.limits.max_entries}")
    )
    raise _Abort


# --- RAR ----------------------------------------------------------------------------------


class _TooMany(Exception):
    pass


class _RarSource(_Source):
    def __init__(self, state: _State, prefix: str, workdir: Path, size: int, solid5: bool) -> None:
        self.state = state
        self.prefix = prefix
        self.workdir = workdir
        self.archive_size = size
        self.solid5 = solid5
        self.problems = _Problems(prefix)
        self.entries = []
        self.digests: dict[int, tuple[Callable[[], _Hasher], int | bytes] | None] = {}

    @classmethod
    def open(cls, state: _State, path: Path, prefix: str, outdir: Path) -> "_RarSource":
        size = path.stat().st_size
        seen = 0

        def count(_info: object) -> None:
            nonlocal seen
            seen += 1
            if state.entries + seen > state.limits.max_entries:
                raise _TooMany

        try:
            rf = rarfile.RarFile(str(path), charset="cp866", info_callback=count, errors="strict", part_only=True)
        except _TooMany:
            _abort_many(state, prefix, state.entries + seen)
        except rarfile.NeedFirstVolume as exc:
            _refuse(state, "archive.unsupported", prefix, f"a later volume of a multi-volume RAR: {exc}")
        except rarfile.PasswordRequired as exc:
            _refuse(state, "archive.encrypted", prefix, f"rarfile: {exc}")
        except Exception as exc:  # noqa: BLE001
            _refuse(state, "archive.corrupt", prefix, f"rarfile: {type(exc).__name__}: {exc}")
        with rf:
            infos = rf.infolist()
            if rf.needs_password() and not infos:
                _refuse(state, "archive.encrypted", prefix, "RAR headers are encrypted (file names need a password)")
            main = getattr(rf._file_parser, "_main", None)  # no public accessor in rarfile 4.5
            if main is not None and main.flags & rarfile.RAR_MAIN_VOLUME:
                _refuse(state, "archive.unsupported", prefix, "multi-volume RAR (volume flag set); upload a single archive")
            solid5 = rf.is_solid() and isinstance(main, rarfile.Rar5MainInfo)
        workdir = Path(tempfile.mkdtemp(prefix=".rar-", dir=outdir))
        source = cls(state, prefix, workdir, size, solid5)
        try:
            source._scan(infos, rf.is_solid())
            if not source.problems.blocking and any(not e.is_dir for e in source.entries):
                source._link_archive(path)
                source._index(path)
        except BaseException:
            source.close()
            raise
        return source

    def _scan(self, infos: list[rarfile.RarInfo], solid: bool) -> None:
        problems = self.problems
        cumulative_packed = 0
        for position, info in enumerate(infos):
            raw = _rar_name(info)
            parts, safe = _split_name(raw, problems)
            is_dir = info.is_dir()
            mode = info.mode or 0
            unix = info.host_os == rarfile.RAR_OS_UNIX
            cumulative_packed += info.compress_size or 0
            if info.file_redir:
                kinds = {1: "unix symlink", 2: "windows symlink", 3: "junction", 4: "hard link", 5: "file copy"}
                problems.add("archive.link", raw, f"{kinds.get(info.file_redir[0], 'redirection')} -> {info.file_redir[2]!r}")
                continue
            if info.is_symlink() or (unix and stat.S_IFMT(mode) in _SPECIAL_TYPES):
                what = _SPECIAL_TYPES.get(stat.S_IFMT(mode), "symbolic link")
                problems.add("archive.link", raw, f"{what} entry (mode {oct(mode)})")
                continue
            if info.flags & (rarfile.RAR_FILE_SPLIT_BEFORE | rarfile.RAR_FILE_SPLIT_AFTER):
                problems.add("archive.unsupported", raw, "entry continues in another volume (multi-volume RAR)")
                continue
            if is_dir:
                self.entries.append(_Entry(raw, parts, True, 0, 0, position))
                continue
            if info.needs_password():
                problems.add("archive.encrypted", raw, "entry data is encrypted")
                continue
            # Solid: the ratio is measured against everything packed so far (later entries
            # of a solid stream legitimately compress to almost nothing).
            packed = cumulative_packed if solid else (info.compress_size or 0)
            if safe:
                self.entries.append(_Entry(raw, parts, False, info.file_size or 0, packed, position))
                self.digests[position] = _rar_digest(info)

    def _link_archive(self, path: Path) -> None:
        """Give unar a private copy so it never sees sibling files (as volumes)."""
        target = self.workdir / "a.rar"
        try:
            os.link(path, target)
        except OSError:
            try:
                shutil.copyfile(path, target)
            except OSError as exc:
                raise _WriteFailed from exc

    def _index(self, path: Path) -> None:
        """Map rarfile entries to lsar/unar indexes; both parsers must agree."""
        lsar = shutil.which("lsar")
        if lsar is None or shutil.which("unar") is None:
            _refuse(self.state, "archive.unsupported", self.prefix, "RAR extraction tool (unar/lsar) is not installed")
        try:
            proc = subprocess.run(
                [lsar, "-j", "-nr", "a.rar"],
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=LSAR_TIMEOUT_S,
                check=False,
            )
            listing = json.loads(proc.stdout.decode("utf-8", "replace"))
            contents = listing.get("lsarContents") or []
        except Exception as exc:  # noqa: BLE001 - timeout, bad JSON
            _refuse(self.state, "archive.corrupt", self.prefix, f"lsar could not list the archive: {type(exc).__name__}: {exc}")
        by_index = {int(e.get("XADIndex", -1)): e for e in contents}
        for entry in self.entries:
            other = by_index.get(int(entry.ref))  # type: ignore[call-overload]
            agree = (
                other is not None
                and bool(other.get("XADIsDirectory")) == entry.is_dir
                and (entry.is_dir or int(other.get("XADFileSize", -1)) == entry.declared_size)
            )
            if not agree:
                _refuse(
                    self.state,
                    "archive.corrupt",
                    f"{self.prefix}/{entry.raw_name}",
                    f"rarfile and lsar disagree about entry {entry.ref} ({'missing in lsar' if other is None else 'size/type differ'})",
                )

    def stream(self, entry: _Entry, label: str) -> "_UnarReader":
        digest = self.digests.get(int(entry.ref))  # type: ignore[call-overload]
        try:
            return _UnarReader(self.workdir, int(entry.ref), digest[0]() if digest else None)  # type: ignore[call-overload]
        except OSError as exc:
            _refuse(self.state, "archive.unsupported", label, f"cannot run unar: {exc}")
        raise AssertionError("unreachable")

    def read(self, reader: _Reader, label: str) -> bytes:
        return reader.read(CHUNK)

    def finish(self, reader: _Reader, entry: _Entry, written: int, label: str) -> None:
        assert isinstance(reader, _UnarReader)
        code, err = reader.wait()
        # unar 1.10 exits 0 even when it fails to decode an entry (it then writes nothing),
        # so the size and the checksum from the header are what prove the stream complete.
        digest = self.digests.get(int(entry.ref))  # type: ignore[call-overload]
        digest_ok = digest is None or reader.digest() == digest[1]
        if code == 0 and written == entry.declared_size and digest_ok:
            return
        why = f"unar exit {code}, {written} of {entry.declared_size} bytes"
        if written == entry.declared_size and not digest_ok:
            why += ", checksum mismatch"
        why = f"{why}; {err}".strip(" ;")
        if self.solid5:
            _refuse(self.state, "archive.unsupported", label, f"RAR5 solid archive that unar cannot decode: {why}")
        _refuse(self.state, "archive.corrupt", label, why)

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


def _rar_name(info: rarfile.RarInfo) -> str:
    """Entry name; legacy RAR3 names without the Unicode flag are OEM (CP866) unless UTF-8."""
    name = info.filename or ""
    if isinstance(info, rarfile.Rar3Info) and not info.flags & rarfile.RAR_FILE_UNICODE:
        raw = info.orig_filename
        if isinstance(raw, bytes):
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError:
                name = raw.decode("cp866")
            if info.is_dir() and not name.endswith(("/", "\\")):
                name += "/"
    return name


class _Hasher(Protocol):
    def update(self, data: bytes) -> None: ...
    def digest(self) -> bytes: ...


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


def _rar_digest(info: rarfile.RarInfo) -> tuple[Callable[[], _Hasher], bytes] | None:
    """How to check the data of an entry: CRC32 or BLAKE2sp from its header."""
    if info.blake2sp_hash:
        return rarfile.Blake2SP, bytes(info.blake2sp_hash)
    if info.CRC is not None:
        return _Crc32, (info.CRC & 0xFFFFFFFF).to_bytes(4, "big")
    return None


class _UnarReader:
    """``unar -o -`` for one entry, with resource limits and a wall-clock timeout."""

    def __init__(self, workdir: Path, index: int, hasher: _Hasher | None = None) -> None:
        self._hasher = hasher
        self._err = tempfile.TemporaryFile(dir=workdir)
        self._proc = subprocess.Popen(
            [shutil.which("unar") or "unar", "-q", "-nr", "-o", "-", "-i", "a.rar", str(index)],
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._err,
            close_fds=True,
        )
        _limit_process(self._proc.pid)
        self._timer = threading.Timer(UNAR_TIMEOUT_S, self._kill)
        self._timer.daemon = True
        self._timer.start()

    def __enter__(self) -> "_UnarReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()

    def read(self, n: int) -> bytes:
        assert self._proc.stdout is not None
        data = self._proc.stdout.read(n)
        if self._hasher is not None and data:
            self._hasher.update(data)
        return data

    def digest(self) -> bytes | None:
        return self._hasher.digest() if self._hasher is not None else None

    def wait(self) -> tuple[int, str]:
        """Exit code and the tail of stderr (without GNUstep date warnings)."""
        code = self._proc.wait()
        self._err.seek(0)
        lines = [
            ln
            for ln in self._err.read(65536).decode("utf-8", "replace").splitlines()
            if ln.strip() and "NSCalendarDate" not in ln
        ]
        return code, " | ".join(lines[-3:])[:500]

    def close(self) -> None:
        self._timer.cancel()
        self._kill()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc.wait()
        self._err.close()


def _limit_process(pid: int) -> None:
    """Resource limits for the unar child (set right after start; Linux prlimit)."""
    limits = (
        (resource.RLIMIT_AS, UNAR_MEMORY_BYTES),
        (resource.RLIMIT_CPU, UNAR_CPU_SECONDS),
        (resource.RLIMIT_FSIZE, 0),
        (resource.RLIMIT_CORE, 0),
    )
    for which, value in limits:
        try:
            resource.prlimit(pid, which, (value, value))
        except (OSError, ValueError, AttributeError):
            pass
