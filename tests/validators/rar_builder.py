"""Minimal RAR writers for tests and benchmarks: stored (uncompressed) entries only.

The ``rar`` tool is not free software and is not installed here; RAR 4 and RAR 5 framing of
stored entries is simple enough to write by hand (RAR 5: rarlab.com "RAR 5.0 archive
format"; RAR 4: technote.txt of RAR 3.x). unar, lsar and rarfile read the results.
"""

from __future__ import annotations

import struct
import zlib

RAR4_MAGIC = b"Rar!\x1a\x07\x00"
RAR5_MAGIC = b"Rar!\x1a\x07\x01\x00"


def rar4_stored(entries: list[tuple[str, bytes]]) -> bytes:
    """A RAR 4 archive with stored (method 0x30) entries."""

    def block(htype: int, flags: int, body: bytes) -> bytes:
        rest = struct.pack("<BHH", htype, flags, 7 + len(body)) + body
        return struct.pack("<H", zlib.crc32(rest) & 0xFFFF) + rest

    out = bytearray(RAR4_MAGIC) + block(0x73, 0, b"\0" * 6)
    dos_time = ((2024 - 1980) << 25) | (1 << 21) | (1 << 16)
    for name, data in entries:
        raw = name.encode()
        body = struct.pack("<IIBIIBBHI", len(data), len(data), 3, zlib.crc32(data), dos_time, 20, 0x30, len(raw), 0o100644) + raw
        out += block(0x74, 0x8000, body) + data
    return bytes(out + block(0x7B, 0x4000, b""))


def vint(value: int) -> bytes:
    """RAR 5 variable-length integer: 7 bits per byte, high bit = more bytes follow."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _rar5_block(htype: int, flags: int, fields: bytes, data_size: int | None = None) -> bytes:
    body = vint(htype) + vint(flags | (0x2 if data_size is not None else 0))
    if data_size is not None:
        body += vint(data_size)
    body += fields
    sized = vint(len(body)) + body
    return struct.pack("<I", zlib.crc32(sized)) + sized


def rar5_stored(
    entries: list[tuple[str, bytes]], *, crc: bool = True, directories: tuple[str, ...] = (), comments: int = 0
) -> bytes:
    """A RAR 5 archive: ``comments`` archive-comment service headers ("CMT"), then
    ``directories``, then stored file entries with CRC32 (``crc=False`` leaves the checksum
    out, which the format allows)."""
    out = bytearray(RAR5_MAGIC) + _rar5_block(1, 0, vint(0))  # main header, no archive flags
    for _ in range(comments):
        text = "комментарий".encode()
        fields = vint(0x4) + vint(len(text)) + vint(0) + struct.pack("<I", zlib.crc32(text)) + vint(0) + vint(1) + vint(3) + b"CMT"
        out += _rar5_block(3, 0, fields, data_size=len(text)) + text
    for name in directories:
        raw = name.encode()
        fields = vint(0x1) + vint(0) + vint(0x10) + vint(0) + vint(1) + vint(len(raw)) + raw  # directory, unix
        out += _rar5_block(2, 0, fields)
    for name, data in entries:
        raw = name.encode()
        file_flags = 0x4 if crc else 0
        fields = vint(file_flags) + vint(len(data)) + vint(0o100644)
        if crc:
            fields += struct.pack("<I", zlib.crc32(data))
        fields += vint(0) + vint(1) + vint(len(raw)) + raw  # version 0, store; host OS unix
        out += _rar5_block(2, 0, fields, data_size=len(data)) + data
    return bytes(out + _rar5_block(5, 0, vint(0)))
