"""Streaming reader of DER CRLs: the header with asn1crypto, the revoked list by hand.

asn1crypto builds a Python object per revoked entry when the list is read (several KB
each): a 1,000,000-entry CRL would take gigabytes. Here the file is memory-mapped and
the ``revokedCertificates`` SEQUENCE is walked TLV by TLV, yielding
``(serial, revocation time, reason code)`` per entry with no object kept, so indexing
runs in flat memory. The header (version, algorithm, issuer, dates, extensions) is
re-encoded without the revoked list and loaded with asn1crypto, so the revocation code
reads it like any other CRL. The signature is checked over the real TBS bytes, hashed in
chunks straight from the mapping.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import algos, crl, keys

from validators import gost
from validators.signatures.crypto import (
    UnsupportedAlgorithm,
    digest_by_oid,
    key_algorithm_oid,
    new_hash,
    signature_digest_oid,
    verify_signature,
)

__all__ = ["CrlFormatError", "CrlFile", "open_crl", "serial_key", "REASONS"]

#: CRLReason codes (RFC 5280 5.3.1) with asn1crypto's native names.
REASONS: dict[int, str] = dict(crl.CRLReason._map)
_REASON_OID = b"\x06\x03\x55\x1d\x15"
_CHUNK = 1 << 20


class CrlFormatError(ValueError):
    """The bytes are not a DER CRL we can read."""


def _tlv(buf: memoryview, off: int, limit: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``off``."""
    if off + 2 > limit:
        raise CrlFormatError(f"truncated element at offset {off}")
    tag = buf[off]
    if tag & 0x1F == 0x1F:
        raise CrlFormatError(f"multi-byte tag at offset {off}")
    first = buf[off + 1]
    if first < 0x80:
        start = off + 2
        end = start + first
    elif first == 0x80:
        raise CrlFormatError(f"indefinite length at offset {off} (not DER)")
    else:
        count = first & 0x7F
        if count > 8 or off + 2 + count > limit:
            raise CrlFormatError(f"bad length at offset {off}")
        start = off + 2 + count
        end = start + int.from_bytes(buf[off + 2 : start], "big")
    if end > limit:
        raise CrlFormatError(f"element at offset {off} runs past its parent")
    return tag, start, end


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def serial_key(serial: int) -> bytes:
    """A serial number as minimal two's-complement bytes (the index key)."""
    return serial.to_bytes((serial.bit_length() + 8) // 8, "big", signed=True)


def _minimal(content: bytes) -> bytes:
    # Some CAs pad serials with a redundant leading byte; the index key is minimal.
    while len(content) > 1 and ((content[0] == 0 and content[1] < 0x80) or (content[0] == 0xFF and content[1] >= 0x80)):
        content = content[1:]
    return content


def _time_text(tag: int, raw: bytes) -> str:
    """Revocation time as ``YYYYMMDDHHMMSSZ`` (cheap string work; parsed only on lookup)."""
    text = raw.decode("ascii", "replace")
    if tag == 0x17 and len(text) == 13 and text.endswith("Z"):
        return ("19" if int(text[:2]) >= 50 else "20") + text
    if tag == 0x18 and len(text) == 15 and text.endswith("Z"):
        return text
    raise CrlFormatError(f"revocation time {text!r} is not DER UTCTime/GeneralizedTime")


def _reason(buf: memoryview, start: int, end: int) -> int | None:
    """The CRLReason code in an entry's extensions, if any."""
    ext = bytes(buf[start:end])
    at = ext.find(_REASON_OID)
    if at < 0:
        return None
    at += len(_REASON_OID)
    if at < len(ext) and ext[at] == 0x01:  # BOOLEAN critical
        at += 3
    # OCTET STRING { ENUMERATED code }
    if at + 5 <= len(ext) and ext[at] == 0x04 and ext[at + 2] == 0x0A and ext[at + 3] == 0x01:
        return ext[at + 4]
    return None


@dataclass
class CrlFile:
    """A memory-mapped DER CRL; close it when done."""

    path: Path
    header: crl.CertificateList
    """The CRL with an empty revoked list (for its issuer, dates and extensions)."""
    tbs_range: tuple[int, int]
    revoked_range: tuple[int, int] | None
    _file: object
    _map: mmap.mmap
    _view: memoryview

    def entries(self) -> Iterator[tuple[bytes, str, int | None]]:
        """(serial key, revocation time ``YYYYMMDDHHMMSSZ``, reason code) of every entry."""
        if self.revoked_range is None:
            return
        buf = self._view
        off, limit = self.revoked_range
        while off < limit:
            tag, start, end = _tlv(buf, off, limit)
            if tag != 0x30:
                raise CrlFormatError(f"revoked entry at offset {off} is not a SEQUENCE")
            stag, sstart, send = _tlv(buf, start, end)
            if stag != 0x02:
                raise CrlFormatError(f"revoked entry at offset {off} has no serial number")
            ttag, tstart, tend = _tlv(buf, send, end)
            revoked = _time_text(ttag, bytes(buf[tstart:tend]))
            reason = _reason(buf, tend, end) if tend < end else None
            yield _minimal(bytes(buf[sstart:send])), revoked, reason
            off = end

    def signature_verifies(self, issuer_key: keys.PublicKeyInfo) -> bool:
        """The CRL signature over the real TBS bytes, hashed in chunks from the mapping."""
        algorithm: algos.SignedDigestAlgorithm = self.header["signature_algorithm"]
        try:
            pss = (
                algorithm["parameters"]["hash_algorithm"]["algorithm"].dotted
                if algorithm["algorithm"].dotted == "1.2.840.113549.1.1.10"
                else None
            )
            digest_oid = signature_digest_oid(algorithm["algorithm"].dotted, key_algorithm_oid(issuer_key), pss)
            hasher = new_hash(digest_by_oid(digest_oid))
            start, end = self.tbs_range
            for off in range(start, end, _CHUNK):
                hasher.update(self._view[off : min(end, off + _CHUNK)])
            return bool(verify_signature(issuer_key, algorithm, digest_oid, hasher.digest(), self.header["signature"].native))
        except (UnsupportedAlgorithm, gost.GostUnavailable, ValueError, TypeError):
            return False

    def close(self) -> None:
        self._view.release()
        self._map.close()
        self._file.close()  # type: ignore[attr-defined]

    def __enter__(self) -> CrlFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_crl(path: Path) -> CrlFile:
    """Map a DER CRL file and read its header; raises :class:`CrlFormatError`."""
    stream = open(path, "rb")  # noqa: SIM115 - owned by the returned CrlFile (or closed on error)
    try:
        mapping = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    except ValueError:
        stream.close()
        raise CrlFormatError(f"{path.name}: empty file") from None
    view = memoryview(mapping)
    try:
        limit = len(view)
        tag, start, end = _tlv(view, 0, limit)
        if tag != 0x30:
            raise CrlFormatError("not a DER SEQUENCE (a PEM CRL must be converted first)")
        ttag, tstart, tend = _tlv(view, start, end)
        if ttag != 0x30:
            raise CrlFormatError("no tbsCertList")
        children: list[tuple[int, int, int]] = []
        off = tstart
        while off < tend:
            ctag, _cstart, cend = _tlv(view, off, tend)
            children.append((ctag, off, cend))
            off = cend
        header_parts: list[bytes] = []
        revoked_range = None
        seen_times = 0
        for ctag, cstart, cend in children:
            if ctag in (0x17, 0x18):
                seen_times += 1
            elif ctag == 0x30 and seen_times >= 1:
                _, rstart, rend = _tlv(view, cstart, cend)
                revoked_range = (rstart, rend)
                continue
            header_parts.append(bytes(view[cstart:cend]))
        tbs = b"".join(header_parts)
        rest = bytes(view[tend:end])  # signatureAlgorithm and signatureValue
        body = b"\x30" + _der_length(len(tbs)) + tbs + rest
        header = crl.CertificateList.load(b"\x30" + _der_length(len(body)) + body)
        header["tbs_cert_list"]["this_update"].native
        header["tbs_cert_list"]["next_update"].native
        header["tbs_cert_list"]["crl_extensions"].native
        header["signature_algorithm"]["algorithm"].dotted
    except CrlFormatError:
        view.release()
        mapping.close()
        stream.close()
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        view.release()
        mapping.close()
        stream.close()
        raise CrlFormatError(f"unreadable CRL header: {exc}") from None
    return CrlFile(path, header, (start, tend), revoked_range, stream, mapping, view)
