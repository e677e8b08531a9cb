"""A ZIP writer with every byte under the test's control (struct, no zipfile).

:func:`raw_zip` writes local headers, data, optional data descriptors, the central
directory and the end record, and remembers where each structure starts, so a test can
then change one field in one place (:meth:`RawZip.patch`) and build exactly the
disagreement it is about. Field offsets follow PKWARE APPNOTE 6.3.10, sections 4.3.7
(local header), 4.3.12 (central directory record) and 4.3.16 (end record).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

# Local file header: signature, version, flags, method, time, date, crc, csize, usize,
# name length, extra length (30 bytes), then name and extra.
LOCAL_FLAGS, LOCAL_METHOD, LOCAL_CRC, LOCAL_CSIZE, LOCAL_USIZE, LOCAL_NAME_LEN, LOCAL_NAME = 6, 8, 14, 18, 22, 26, 30
# Central directory record (46 bytes, then name, extra, comment).
CENTRAL_FLAGS, CENTRAL_METHOD, CENTRAL_CRC, CENTRAL_CSIZE, CENTRAL_USIZE, CENTRAL_OFFSET, CENTRAL_NAME = 8, 10, 16, 20, 24, 42, 46
# End of central directory record (22 bytes, then the comment).
EOCD_DISK_ENTRIES, EOCD_TOTAL_ENTRIES, EOCD_CD_SIZE, EOCD_CD_OFFSET, EOCD_COMMENT_LEN = 8, 10, 12, 16, 20
DOS_TIME, DOS_DATE = 0, 0x21


@dataclass
class RawEntry:
    name: bytes
    data: bytes
    method: int = 8
    """0 stored, 8 deflated (raw deflate, as in ZIP)."""
    flags: int = 0
    descriptor: bool = False
    """Set flag bit 3: zeros in the local header, a signed data descriptor after the data."""
    local_extra: bytes = b""
    central_extra: bytes = b""
    central_comment: bytes = b""
    packed: bytes | None = None
    """Compressed bytes to write instead of compressing ``data``."""
    usize: int | None = None
    """Uncompressed size to declare (local header, descriptor and directory alike) instead
    of ``len(data)``; with ``packed`` and ``crc`` it describes data not held in memory."""
    crc: int | None = None


@dataclass
class RawZip:
    data: bytearray
    local: list[int] = field(default_factory=list)
    """Offset of each entry's local header."""
    descriptor: list[int | None] = field(default_factory=list)
    """Offset of each entry's data descriptor (after its signature), or None."""
    central: list[int] = field(default_factory=list)
    """Offset of each central directory record (only entries listed there)."""
    eocd: int = 0

    def patch(self, offset: int, fmt: str, *values: int) -> RawZip:
        struct.pack_into(fmt, self.data, offset, *values)
        return self

    def bytes(self) -> bytes:
        return bytes(self.data)


def deflate_zeros(size: int) -> tuple[bytes, int]:
    """``size`` zero bytes deflated (raw), without holding them in memory: (packed, crc32)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block, parts, crc, left = bytes(1 << 20), [], 0, size
    while left:
        chunk = block[: min(left, len(block))]
        parts.append(compressor.compress(chunk))
        crc = zlib.crc32(chunk, crc)
        left -= len(chunk)
    parts.append(compressor.flush())
    return b"".join(parts), crc


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def raw_zip(
    entries: list[RawEntry],
    *,
    prefix: bytes = b"",
    adjust_offsets: bool = True,
    unlisted: frozenset[int] = frozenset(),
    gap_after: dict[int, bytes] | None = None,
    comment: bytes = b"",
    trailer: bytes = b"",
) -> RawZip:
    """A ZIP of ``entries``.

    ``prefix`` is written before the first local header; with ``adjust_offsets`` the
    directory's offsets include it (an SFX stub), without it they do not (``cat stub a.zip``).
    Entries whose index is in ``unlisted`` have a local header and data but no central
    record. ``gap_after[i]`` is written after entry ``i``. ``trailer`` follows the end record.
    """
    out = bytearray(prefix)
    shift = len(prefix) if adjust_offsets else 0
    result = RawZip(out)
    records = bytearray()
    for index, entry in enumerate(entries):
        packed = entry.packed if entry.packed is not None else (deflate(entry.data) if entry.method == 8 else entry.data)
        crc = entry.crc if entry.crc is not None else zlib.crc32(entry.data)
        csize, usize = len(packed), entry.usize if entry.usize is not None else len(entry.data)
        flags = entry.flags | (0x8 if entry.descriptor else 0)
        offset = len(out)
        result.local.append(offset)
        shown = (0, 0, 0) if entry.descriptor else (crc, csize, usize)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, entry.method, DOS_TIME, DOS_DATE, *shown, len(entry.name), len(entry.local_extra))
        out += entry.name + entry.local_extra + packed
        if entry.descriptor:
            result.descriptor.append(len(out) + 4)
            out += struct.pack("<4s3L", b"PK\x07\x08", crc, csize, usize)
        else:
            result.descriptor.append(None)
        out += (gap_after or {}).get(index, b"")
        if index not in unlisted:
            records += struct.pack(
                "<4s4B4HL2L5H2L",
                b"PK\x01\x02", 20, 3, 20, 0, flags, entry.method, DOS_TIME, DOS_DATE,
                crc, csize, usize, len(entry.name), len(entry.central_extra), len(entry.central_comment), 0, 0, 0o100644 << 16,
                offset - len(prefix) + shift,
            ) + entry.name + entry.central_extra + entry.central_comment
    cd_offset = len(out)
    position = cd_offset
    for index in range(len(entries)):
        if index in unlisted:
            continue
        result.central.append(position)
        name_len, extra_len, comment_len = struct.unpack_from("<3H", records, position - cd_offset + 28)
        position += 46 + name_len + extra_len + comment_len
    out += records
    result.eocd = len(out)
    count = len(result.central)
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(records), cd_offset - len(prefix) + shift, len(comment))
    out += comment + trailer
    return result


def unicode_path(header_name: bytes, name: str) -> bytes:
    """An Info-ZIP Unicode Path extra field (0x7075) giving ``name`` for ``header_name``."""
    body = b"\x01" + struct.pack("<L", zlib.crc32(header_name)) + name.encode()
    return struct.pack("<HH", 0x7075, len(body)) + body


def local_header(entry: RawEntry) -> bytes:
    """A local header with the entry's data (no descriptor), to be hidden somewhere."""
    packed = entry.packed if entry.packed is not None else (deflate(entry.data) if entry.method == 8 else entry.data)
    return struct.pack(
        "<4s5H3L2H", b"PK\x03\x04", 20, entry.flags, entry.method, DOS_TIME, DOS_DATE,
        zlib.crc32(entry.data), len(packed), len(entry.data), len(entry.name), 0,
    ) + entry.name + packed


def with_extra_central_record(archive: RawZip, entry: RawEntry, offset: int) -> bytes:
    """``archive`` with one more central directory record (for ``entry``, pointing at
    ``offset``) appended to the directory; the end record's counts and size follow."""
    packed = entry.packed if entry.packed is not None else (deflate(entry.data) if entry.method == 8 else entry.data)
    record = struct.pack(
        "<4s4B4HL2L5H2L",
        b"PK\x01\x02", 20, 3, 20, 0, entry.flags, entry.method, DOS_TIME, DOS_DATE,
        zlib.crc32(entry.data), len(packed), len(entry.data), len(entry.name), 0, 0, 0, 0, 0o100644 << 16, offset,
    ) + entry.name
    data = bytearray(archive.data)
    data[archive.eocd : archive.eocd] = record
    eocd = archive.eocd + len(record)
    count = len(archive.central) + 1
    cd_start = archive.central[0] if archive.central else archive.eocd
    struct.pack_into("<HHL", data, eocd + EOCD_DISK_ENTRIES, count, count, eocd - cd_start)
    return bytes(data)
