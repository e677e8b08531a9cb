"""ZIP: stdlib :mod:`zipfile` for the directory (``import zipfile_deflate64`` adds Deflate64,
method 9), :mod:`validators.archives.ziplayout` for the agreement of local headers and
directory, and :class:`ZipEntryReader` for the data."""

from __future__ import annotations

import bz2
import stat
import zipfile
import zlib
from pathlib import Path
from typing import cast

import zipfile_deflate64  # noqa: F401  (registers Deflate64, method 9, in zipfile)

from validators.archives.common import (
    SPECIAL_TYPES,
    Entry,
    Problems,
    Reader,
    Refused,
    Source,
    State,
    directory_holds_data,
    refuse,
)
from validators.archives.limits import CHUNK, abort_many
from validators.archives.names import decode_legacy_name, split_name
from validators.archives.ziplayout import CentralRecord, check_zip_layout

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


def _zip_ref(entry: Entry) -> tuple[int, zipfile.ZipInfo]:
    """A ZIP entry's (position in the central directory, ZipInfo), as the header pass stored it."""
    return cast("tuple[int, zipfile.ZipInfo]", entry.ref)


class ZipSource(Source):
    def __init__(self, state: State, zf: zipfile.ZipFile, prefix: str, size: int, problems: Problems) -> None:
        self.state = state
        self.zf = zf
        self.prefix = prefix
        self.archive_size = size
        self.problems = problems
        self.entries = []
        self.path = Path(zf.filename or "")
        self.data_starts: list[int] = []

    @classmethod
    def open(cls, state: State, path: Path, prefix: str) -> ZipSource:
        size = path.stat().st_size
        if zip_header_encrypted(path):
            refuse(state, "archive.encrypted", prefix, "central directory is encrypted (PKWARE strong encryption, flag bits 0 and 13)")
        declared = zip_declared_entries(path)
        if declared is not None and state.entries + declared > state.limits.max_entries:
            abort_many(state, prefix, state.entries + declared)
        # The layout first: when zipfile cannot read what another unzipper reads (taking the
        # other end record, ignoring the prefix), the disagreement is the finding.
        layout = Problems(prefix)
        records = check_zip_layout(path, layout)
        try:
            zf = zipfile.ZipFile(path)  # names without the UTF-8 flag: see zip_entry_name
        except Exception as exc:  # noqa: BLE001 - any reader failure is a refusal
            inconsistent = [c for c in layout.blocking if c.code == "archive.inconsistent"]
            if inconsistent:
                state.checks.extend(inconsistent)
                raise Refused from None
            if isinstance(exc, zipfile.BadZipFile) and "span multiple disks" in str(exc):
                refuse(state, "archive.unsupported", prefix, f"multi-disk ZIP: {exc}")
            detail = str(exc) if isinstance(exc, zipfile.BadZipFile) else f"{type(exc).__name__}: {exc}"
            refuse(state, "archive.corrupt", prefix, f"zipfile: {detail}")
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
            raw = zip_entry_name(info)
            if "\x00" in info.orig_filename:
                # zipfile cuts a name at its first NUL; what followed is hidden from us.
                problems.add("file.name_invalid", raw, f"entry name contains a NUL byte: {info.orig_filename!r}", soft=True)
            parts, safe = split_name(raw, problems)
            mode = info.external_attr >> 16
            ftype = stat.S_IFMT(mode)
            is_dir = raw.endswith(("/", "\\")) or ftype == stat.S_IFDIR or bool(info.external_attr & 0x10 and info.file_size == 0)
            if ftype in SPECIAL_TYPES:
                problems.add("archive.link", raw, f"{SPECIAL_TYPES[ftype]} entry (mode {oct(mode)})")
                continue
            if is_dir:
                if directory_holds_data(info.file_size, info.compress_size):
                    # A directory to us, a file to a tool that ignores the Unix mode or the
                    # trailing slash (Windows unzippers): data nobody here would verify.
                    problems.add("archive.inconsistent", raw, f"directory entry carries data ({info.file_size} bytes, {info.compress_size} packed)")
                    continue
                self.entries.append(Entry(raw, parts, True, 0, 0, info))
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
                self.entries.append(Entry(raw, parts, False, info.file_size, info.compress_size, (index, info)))

    def _cross_check(self, records: list[CentralRecord]) -> None:
        """zipfile must read the directory as :func:`zip_layout` did."""
        if self.problems.blocking or not records:
            return
        infos = self.zf.infolist()
        same = len(infos) == len(records) and all(
            (i.header_offset, i.compress_size, i.file_size, i.CRC) == (r.offset, r.csize, r.usize, r.crc)
            for i, r in zip(infos, records, strict=True)
        )
        if not same:
            self.problems.add("archive.inconsistent", None, "zipfile reads the central directory differently from a plain parse")
        self.data_starts = [r.data_start for r in records]

    def stream(self, entry: Entry, label: str) -> ZipEntryReader:
        index, info = _zip_ref(entry)
        start = self.data_starts[index] if index < len(self.data_starts) else -1
        if start < 0:
            refuse(self.state, "archive.corrupt", label, "no local header for the entry")
        try:
            return ZipEntryReader(self.path, start, info.compress_size, info.compress_type)
        except NotImplementedError as exc:
            refuse(self.state, "archive.unsupported", label, f"zipfile: {exc}")
        except OSError as exc:
            refuse(self.state, "archive.corrupt", label, f"cannot read the entry: {exc}")
        raise AssertionError("unreachable")

    def read(self, reader: Reader, label: str) -> bytes:
        try:
            return reader.read(CHUNK)
        except Exception as exc:  # noqa: BLE001 - zlib/deflate64/bz2/lzma errors
            refuse(self.state, "archive.corrupt", label, f"decompression failed: {type(exc).__name__}: {exc}")
        raise AssertionError("unreachable")

    def finish(self, reader: Reader, entry: Entry, written: int, label: str) -> None:
        assert isinstance(reader, ZipEntryReader)  # noqa: S101 - invariant; narrows the type
        _index, info = _zip_ref(entry)
        if written != entry.declared_size:
            refuse(self.state, "archive.corrupt", label, f"entry produced {written} bytes, header declares {entry.declared_size}")
        if not reader.complete:
            refuse(self.state, "archive.corrupt", label, "the compressed stream ends before its end marker")
        if reader.crc != info.CRC:
            refuse(self.state, "archive.corrupt", label, f"CRC-32 {reader.crc:08x}, header declares {info.CRC:08x}")

    def close(self) -> None:
        self.zf.close()


_ZLIB_DECOMPRESS = type(zlib.decompressobj())


class ZipEntryReader:
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
        self._fh = open(path, "rb")  # noqa: SIM115 - the reader is the context manager; closed in __exit__
        self._fh.seek(start)
        self._left = size
        self.crc = 0

    def __enter__(self) -> ZipEntryReader:
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


def zip_entry_name(info: zipfile.ZipInfo) -> str:
    """The entry name: UTF-8 when flagged (bit 11); without the flag see
    :func:`~validators.archives.names.decode_legacy_name`. Cut at a NUL byte, as zipfile does."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.orig_filename.encode("cp437")  # zipfile's default decoding is lossless
    return decode_legacy_name(raw).split("\x00", 1)[0]


def zip_declared_entries(path: Path) -> int | None:
    """Entry count from the end-of-central-directory record (before parsing the directory)."""
    try:
        with open(path, "rb") as fh:
            endrec = zipfile._EndRecData(fh)  # type: ignore[attr-defined]
        if endrec:
            return int(endrec[zipfile._ECD_ENTRIES_TOTAL])  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - zipfile itself will report the damage
        return None
    return None


def zip_header_encrypted(path: Path) -> bool:
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
