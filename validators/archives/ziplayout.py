"""ZIP layout: the local headers, the central directory and the end records must tell one
story (see :func:`check_zip_layout`)."""

from __future__ import annotations

import bisect
import mmap
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from validators.archives.common import Problems
from validators.archives.names import decode_legacy_name

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
class CentralRecord:
    name: bytes
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    offset: int
    extra: bytes = b""
    data_start: int = -1
    """Where the compressed data begins (after the *local* name and extra field); -1 when
    there is no local header."""


def _extra_field(extra: bytes, wanted: int) -> bytes | None:
    """The body of the first extra field with tag ``wanted``, if any."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        if tag == wanted:
            return extra[pos + 4 : pos + 4 + size]
        pos += 4 + size
    return None


def _zip64_field(extra: bytes) -> bytes | None:
    """The body of the Zip64 extended-information field (tag 0x0001), if any."""
    return _extra_field(extra, 0x0001)


def _unicode_path(extra: bytes, raw_name: bytes) -> str | None:
    """The name in an Info-ZIP Unicode Path field (tag 0x7075) that Info-ZIP's unzip and
    7-Zip use instead of the header name — only while its CRC-32 of the header name matches
    (otherwise they ignore it as stale, and so do we)."""
    body = _extra_field(extra, 0x7075)
    if body is None or len(body) < 5 or body[0] != 1:
        return None
    if struct.unpack_from("<L", body, 1)[0] != zlib.crc32(raw_name):
        return None
    return body[5:].decode("utf-8", "replace")


def _header_name(raw_name: bytes, flags: int) -> str:
    """The header name as the walker reads it (see ``zip.zip_entry_name``)."""
    if flags & 0x800:
        return raw_name.decode("utf-8", "replace")
    return decode_legacy_name(raw_name)


def _zip64_values(extra: bytes, wanted: list[str]) -> dict[str, int] | None:
    """The 8-byte values of the Zip64 field, named in ``wanted`` order."""
    body = _zip64_field(extra)
    if body is None or len(body) < 8 * len(wanted):
        return None
    return {key: struct.unpack_from("<Q", body, 8 * i)[0] for i, key in enumerate(wanted)}


def check_zip_layout(path: Path, problems: Problems) -> list[CentralRecord]:
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
                return zip_layout(data, size, problems)
            except (struct.error, ValueError, IndexError) as exc:
                problems.add("archive.corrupt", None, f"ZIP structure: {type(exc).__name__}: {exc}")
                return []


def zip_layout(data: mmap.mmap, size: int, problems: Problems) -> list[CentralRecord]:
    def bad(detail: str, name: str | None = None) -> None:
        problems.add("archive.inconsistent", name, detail)

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
    records: list[CentralRecord] = []
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
        records.append(CentralRecord(name, flags, method, crc, csize, usize, offset, extra))
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
        for where, field_area in (("central", rec.extra), ("local", lextra)):
            other = _unicode_path(field_area, rec.name)
            if other is not None and other != _header_name(rec.name, rec.flags):
                differs.append(f"{where} Info-ZIP Unicode Path field names the entry {other!r}")
        if differs:
            bad("local header and central directory differ: " + "; ".join(differs), shown)
        if rec.offset in starts:
            problems.add("archive.bomb", shown, f"shares its local header with {starts[rec.offset]!r}: overlapping-entries bomb")
        starts.setdefault(rec.offset, shown)
        spans.append((rec.offset, end, f"entry {shown!r}"))
    check_tiling(data, size, spans, problems)
    # Another end record outside entry data: a reader that picks that one sees another archive.
    # (Entry spans are sorted and, when nothing was reported, disjoint: bisect finds the
    # one that could hold an occurrence, so a tail full of signatures costs O(k log n).)
    entry_spans = sorted((start, end) for start, end, label in spans if label.startswith("entry "))
    span_starts = [start for start, _end in entry_spans]
    search = max(0, size - _EOCD_SEARCH)
    while (found_at := data.find(_SIG_EOCD, search, eocd)) >= 0:
        holder = bisect.bisect_right(span_starts, found_at) - 1
        if holder < 0 or found_at >= entry_spans[holder][1]:
            bad(f"a second end-of-central-directory record at offset {found_at}")
            break
        search = found_at + 1
    return records


def check_tiling(data: mmap.mmap, size: int, spans: list[tuple[int, int, str]], problems: Problems) -> None:
    """Every byte belongs to exactly one part: no prefix, no gap, no overlap, no tail.

    Entries that overlap each other are ``archive.inconsistent`` (two readers can extract
    different bytes); entry data running into the directory or past the end of the file is
    a broken archive, ``archive.corrupt``."""
    def bad(detail: str) -> None:
        problems.add("archive.inconsistent", None, detail)

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
