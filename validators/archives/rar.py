"""RAR: headers from rarfile, data from one ``unar`` pass per archive.

Headers come from rarfile 4.5 (pure Python; opened with ``part_only=True`` so it never
opens neighbouring "volumes", ``errors="strict"``, and an ``info_callback`` that stops
parsing past ``max_entries`` *file* headers — the main, end and service headers (comments,
quick-open data) are not entries). ``lsar -j`` lists the archive once more: both parsers
must agree on the number of entries, the directory flags and the sizes, otherwise the
archive is refused as corrupt (two parsers disagreeing is the classic smuggling trick).

Data come from Debian's ``unar`` 1.10.1, run **once per archive**: ``unar -q -nr -o - -i
a.rar <index>...`` writes the chosen regular entries, in archive order, back to back into
one pipe (:class:`~validators.archives.unar.UnarPass`, resource-limited, with a timeout).
The stream is cut into entries by the sizes of the *header listing* (rarfile, confirmed by
lsar) — names and boundaries never come from unar's output — and every entry's CRC32 or
BLAKE2sp from its header is computed over its slice. unar exits 0 even when it fails to
decode an entry (it then writes nothing), so a decoding failure shows as a short slice or
as bytes that belong to the next entry: either way a checksum or the final byte count
disagrees and the archive is refused. An entry without any checksum in its header cannot
be proved and is refused in the header pass. After the last entry the stream must end and
unar must exit 0.

Before (one unar per entry, each re-reading the headers and, in a solid archive,
re-decoding everything before its entry) a 1,000-entry RAR5 took ~74 s here; one pass
takes about as long as ``unar`` alone on the file (see ``bench/bench_archives.py``).

* rarfile's own ``rf.open(info)`` is not used: it merges unar's stderr into the data,
  selects entries by *name* (a wildcard pattern for unar), omits ``-nr`` (unar may recurse
  into a nested archive), has no timeout or resource limits, and writes temporary files
  into the system temp dir.
* The archive is hard-linked (or copied) into a private work folder inside ``dest`` first,
  so unar can never pick up sibling files as further volumes.
* unar emits at most the declared size of an entry, so a lying RAR header yields a
  short/CRC-failing stream (``archive.corrupt``); the streaming limits still apply to
  every byte it writes.
* unar 1.10.1 cannot decode some RAR5 *solid* archives (libarchive's
  test_read_format_rar5_solid.rar: nothing written, ``lsar -t`` fails too; rarfile's
  rar5-solid.rar decodes and its CRCs match). A decoding failure in a solid RAR5 is reported
  as ``archive.unsupported`` rather than ``archive.corrupt``, since WinRAR opens the file.
* Not used: ``unar -o dir`` for the whole archive then checking sizes (the bomb would be on
  disk before the check, and names would come from unar), bsdtar (no RAR solid/encryption
  support in 3.6.2), 7zz (the Debian build has no RAR codec).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import rarfile

from validators.archives.common import (
    SPECIAL_TYPES,
    Entry,
    Problems,
    Reader,
    Source,
    State,
    WriteFailed,
    directory_holds_data,
    refuse,
)
from validators.archives.limits import CHUNK, abort_many
from validators.archives.names import decode_legacy_name, split_name
from validators.archives.unar import LSAR_TIMEOUT_S, UnarPass

HEADER_ALLOWANCE = 64
"""Non-file headers (main, end, service) tolerated beyond ``4 * max_entries``: parsing
stops there, so a stream of millions of service headers costs no more than the limit."""


def _is_file_header(info: object) -> bool:
    if isinstance(info, rarfile.Rar5Info):
        return bool(info.block_type == rarfile.RAR5_BLOCK_FILE)
    if isinstance(info, rarfile.Rar3Info):
        return bool(info.type == rarfile.RAR_BLOCK_FILE)
    return False


class _TooMany(Exception):
    pass


class RarSource(Source):
    def __init__(self, state: State, prefix: str, workdir: Path, size: int, solid5: bool) -> None:
        self.state = state
        self.prefix = prefix
        self.workdir = workdir
        self.archive_size = size
        self.solid5 = solid5
        self.problems = Problems(prefix)
        self.entries = []
        self.digests: dict[int, tuple[Callable[[], Hasher], bytes]] = {}
        self.files_in_headers = 0
        self._unar: UnarPass | None = None
        self._order: list[Entry] = []
        self._next = 0

    @classmethod
    def open(cls, state: State, path: Path, prefix: str, outdir: Path) -> RarSource:
        size = path.stat().st_size
        seen = headers = 0

        def count(info: object) -> None:
            nonlocal seen, headers
            headers += 1
            seen += _is_file_header(info)
            if state.entries + seen > state.limits.max_entries or headers > 4 * state.limits.max_entries + HEADER_ALLOWANCE:
                raise _TooMany

        try:
            rf = rarfile.RarFile(str(path), charset="cp866", info_callback=count, errors="strict", part_only=True)
        except _TooMany:
            abort_many(state, prefix, state.entries + seen)
        except rarfile.NeedFirstVolume as exc:
            refuse(state, "archive.unsupported", prefix, f"a later volume of a multi-volume RAR: {exc}")
        except rarfile.PasswordRequired as exc:
            refuse(state, "archive.encrypted", prefix, f"rarfile: {exc}")
        except Exception as exc:  # noqa: BLE001
            refuse(state, "archive.corrupt", prefix, f"rarfile: {type(exc).__name__}: {exc}")
        with rf:
            infos = rf.infolist()
            if rf.needs_password() and not infos:
                refuse(state, "archive.encrypted", prefix, "RAR headers are encrypted (file names need a password)")
            main = getattr(rf._file_parser, "_main", None)  # no public accessor in rarfile 4.5
            if main is not None and main.flags & rarfile.RAR_MAIN_VOLUME:
                refuse(state, "archive.unsupported", prefix, "multi-volume RAR (volume flag set); upload a single archive")
            solid5 = rf.is_solid() and isinstance(main, rarfile.Rar5MainInfo)
        workdir = Path(tempfile.mkdtemp(prefix=".rar-", dir=outdir))
        source = cls(state, prefix, workdir, size, solid5)
        source.files_in_headers = len(infos)
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
            raw = rar_name(info)
            parts, safe = split_name(raw, problems)
            is_dir = info.is_dir()
            mode = info.mode or 0
            unix = info.host_os == rarfile.RAR_OS_UNIX
            cumulative_packed += info.compress_size or 0
            if info.file_redir:
                kinds = {1: "unix symlink", 2: "windows symlink", 3: "junction", 4: "hard link", 5: "file copy"}
                problems.add("archive.link", raw, f"{kinds.get(info.file_redir[0], 'redirection')} -> {info.file_redir[2]!r}")
                continue
            if info.is_symlink() or (unix and stat.S_IFMT(mode) in SPECIAL_TYPES):
                what = SPECIAL_TYPES.get(stat.S_IFMT(mode), "symbolic link")
                problems.add("archive.link", raw, f"{what} entry (mode {oct(mode)})")
                continue
            if info.flags & (rarfile.RAR_FILE_SPLIT_BEFORE | rarfile.RAR_FILE_SPLIT_AFTER):
                problems.add("archive.unsupported", raw, "entry continues in another volume (multi-volume RAR)")
                continue
            if is_dir:
                if directory_holds_data(info.file_size or 0, info.compress_size or 0):
                    problems.add("archive.inconsistent", raw, f"directory entry carries data ({info.file_size} bytes, {info.compress_size} packed)")
                    continue
                self.entries.append(Entry(raw, parts, True, 0, 0, position))
                continue
            if info.needs_password():
                problems.add("archive.encrypted", raw, "entry data is encrypted")
                continue
            # Solid: the ratio is measured against everything packed so far (later entries
            # of a solid stream legitimately compress to almost nothing).
            packed = cumulative_packed if solid else (info.compress_size or 0)
            digest = rar_digest(info)
            if digest is None:
                # Without a checksum a decoding failure (unar still exits 0) could shift
                # the next entry's bytes into this one unnoticed.
                problems.add("archive.corrupt", raw, "no CRC32 or BLAKE2 checksum in the header: the extracted data could not be verified")
                continue
            if safe:
                self.entries.append(Entry(raw, parts, False, info.file_size or 0, packed, position))
                self.digests[position] = digest

    def _link_archive(self, path: Path) -> None:
        """Give unar a private copy so it never sees sibling files (as volumes)."""
        target = self.workdir / "a.rar"
        try:
            os.link(path, target)
        except OSError:
            try:
                shutil.copyfile(path, target)
            except OSError as exc:
                raise WriteFailed from exc

    def _index(self, path: Path) -> None:
        """Map rarfile entries to lsar/unar indexes; both parsers must agree."""
        lsar = shutil.which("lsar")
        if lsar is None or shutil.which("unar") is None:
            refuse(self.state, "archive.unsupported", self.prefix, "RAR extraction tool (unar/lsar) is not installed")
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
            refuse(self.state, "archive.corrupt", self.prefix, f"lsar could not list the archive: {type(exc).__name__}: {exc}")
        by_index = {int(e.get("XADIndex", -1)): e for e in contents}
        if len(by_index) != self.files_in_headers:
            refuse(self.state, "archive.corrupt", self.prefix, f"rarfile lists {self.files_in_headers} entries, lsar {len(by_index)}")
        for entry in self.entries:
            other = by_index.get(int(entry.ref))  # type: ignore[call-overload]
            agree = (
                other is not None
                and bool(other.get("XADIsDirectory")) == entry.is_dir
                and (entry.is_dir or int(other.get("XADFileSize", -1)) == entry.declared_size)
            )
            if not agree:
                refuse(
                    self.state,
                    "archive.corrupt",
                    f"{self.prefix}/{entry.raw_name}",
                    f"rarfile and lsar disagree about entry {entry.ref} ({'missing in lsar' if other is None else 'size/type differ'})",
                )

    def stream(self, entry: Entry, label: str) -> _EntrySlice:
        if self._unar is None:
            self._order = [e for e in self.entries if not e.is_dir]
            try:
                self._unar = UnarPass(self.workdir, [int(e.ref) for e in self._order])  # type: ignore[call-overload]
            except OSError as exc:
                refuse(self.state, "archive.unsupported", label, f"cannot run unar: {exc}")
        assert self._unar is not None  # noqa: S101 - invariant; narrows the type
        # unar writes the entries in archive order; the walk asks for them in that order.
        if self._next >= len(self._order) or self._order[self._next] is not entry:
            refuse(self.state, "archive.corrupt", label, "entries requested out of archive order")
        self._next += 1
        hasher, _expected = self.digests[int(entry.ref)]  # type: ignore[call-overload]
        return _EntrySlice(self._unar, entry.declared_size, hasher())

    def read(self, reader: Reader, label: str) -> bytes:
        return reader.read(CHUNK)

    def finish(self, reader: Reader, entry: Entry, written: int, label: str) -> None:
        assert isinstance(reader, _EntrySlice) and self._unar is not None  # noqa: S101 - invariant; narrows the type
        _hasher, expected = self.digests[int(entry.ref)]  # type: ignore[call-overload]
        problem = ""
        if written != entry.declared_size:
            problem = f"{written} of {entry.declared_size} bytes"
        elif reader.digest() != expected:
            problem = f"{written} bytes, checksum mismatch"
        elif self._next == len(self._order):
            # The last entry: the stream must end here and unar must succeed.
            extra = self._unar.read(1)
            code, err = self._unar.wait()
            if extra or code != 0:
                problem = f"unar exit {code}{', output continues after the last entry' if extra else ''}; {err}".strip(" ;")
        if not problem:
            return
        code, err = self._unar.stop()
        why = f"{problem}; unar exit {code}; {err}".strip(" ;")
        if self.solid5:
            refuse(self.state, "archive.unsupported", label, f"RAR5 solid archive that unar cannot decode: {why}")
        refuse(self.state, "archive.corrupt", label, why)

    def close(self) -> None:
        if self._unar is not None:
            self._unar.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


class _EntrySlice:
    """One entry's bytes in the shared unar stream: exactly its declared size (the header
    listing's boundary, never unar's), hashed as they pass."""

    def __init__(self, unar: UnarPass, size: int, hasher: Hasher) -> None:
        self._unar = unar
        self._left = size
        self._hasher = hasher

    def __enter__(self) -> _EntrySlice:
        return self

    def __exit__(self, *exc: object) -> None:
        """The process is shared by all entries; RarSource.close ends it."""

    def read(self, n: int) -> bytes:
        if self._left <= 0:
            return b""
        data = self._unar.read(min(n, self._left))
        self._left -= len(data)
        self._hasher.update(data)
        return data

    def digest(self) -> bytes:
        return self._hasher.digest()




def rar_name(info: rarfile.RarInfo) -> str:
    """Entry name; legacy RAR3 names without the Unicode flag: :func:`decode_legacy_name`."""
    name = info.filename or ""
    if isinstance(info, rarfile.Rar3Info) and not info.flags & rarfile.RAR_FILE_UNICODE:
        raw = info.orig_filename
        if isinstance(raw, bytes):
            name = decode_legacy_name(raw)
            if info.is_dir() and not name.endswith(("/", "\\")):
                name += "/"
    return name


class Hasher(Protocol):
    def update(self, data: bytes) -> None: ...
    def digest(self) -> bytes: ...


class Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


def rar_digest(info: rarfile.RarInfo) -> tuple[Callable[[], Hasher], bytes] | None:
    """How to check the data of an entry: CRC32 or BLAKE2sp from its header."""
    if info.blake2sp_hash:
        return rarfile.Blake2SP, bytes(info.blake2sp_hash)
    if info.CRC is not None:
        return Crc32, (info.CRC & 0xFFFFFFFF).to_bytes(4, "big")
    return None
