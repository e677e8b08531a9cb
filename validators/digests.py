"""Digest algorithms and streamed file digests (no ASN.1 here: this module loads fast).

Files are read in 1 MiB chunks, never whole. :class:`FileDigests` computes each digest of
a file at most once and can start the work in background threads before the caller has
parsed the signature: Streebog runs at ~180 MB/s on one core, so on a large document the
digest is the critical path and overlapping it with start-up and CMS parsing (SHA-256,
ten times faster, in the same pass) is what keeps ``gateway verify`` close to ``openssl cms``.
``hashlib`` releases the GIL while hashing, so the threads really run in parallel.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from validators import gost

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = [
    "DigestAlgorithm",
    "UnsupportedAlgorithm",
    "FileDigests",
    "digest_by_oid",
    "new_hash",
    "digest_stream",
    "digest_file",
    "SHA256",
    "STREEBOG_256",
    "STREEBOG_512",
    "REPORTED",
    "CHUNK_SIZE",
]

CHUNK_SIZE = 8 << 20


class UnsupportedAlgorithm(ValueError):
    """An algorithm this verifier does not know (reported, never guessed)."""


@dataclass(frozen=True, slots=True)
class DigestAlgorithm:
    """A digest algorithm known to the verifier."""

    oid: str
    hashlib_name: str
    """Name for :func:`hashlib.new` (GOST names come from the OpenSSL GOST provider)."""
    title: str
    """Human name, used in reports."""

    @property
    def is_gost(self) -> bool:
        return self.oid.startswith("1.2.643.")


STREEBOG_256 = "1.2.643.7.1.1.2.2"
STREEBOG_512 = "1.2.643.7.1.1.2.3"
SHA256 = "2.16.840.1.101.3.4.2.1"

#: The digests every report gives of a document (``DocumentSummary``): one pass computes both.
REPORTED = (STREEBOG_256, SHA256)

_DIGESTS = {
    d.oid: d
    for d in (
        DigestAlgorithm(STREEBOG_256, "md_gost12_256", "GOST R 34.11-2012 (Streebog) 256"),
        DigestAlgorithm(STREEBOG_512, "md_gost12_512", "GOST R 34.11-2012 (Streebog) 512"),
        DigestAlgorithm("1.2.643.2.2.9", "md_gost94", "GOST R 34.11-94"),
        DigestAlgorithm(SHA256, "sha256", "SHA-256"),
        DigestAlgorithm("2.16.840.1.101.3.4.2.2", "sha384", "SHA-384"),
        DigestAlgorithm("2.16.840.1.101.3.4.2.3", "sha512", "SHA-512"),
        DigestAlgorithm("2.16.840.1.101.3.4.2.4", "sha224", "SHA-224"),
        DigestAlgorithm("1.3.14.3.2.26", "sha1", "SHA-1"),
        DigestAlgorithm("1.2.840.113549.2.5", "md5", "MD5"),
    )
}


def digest_by_oid(oid: str) -> DigestAlgorithm:
    """The digest algorithm for an OID; raises :class:`UnsupportedAlgorithm`."""
    try:
        return _DIGESTS[oid]
    except KeyError:
        raise UnsupportedAlgorithm(f"unsupported digest algorithm {oid}") from None


def new_hash(algorithm: DigestAlgorithm) -> hashlib._Hash:
    """A fresh hash object; GOST digests switch the OpenSSL GOST provider on (once)."""
    if algorithm.is_gost and not (support := gost.digest_support()).available:
        raise gost.GostUnavailable(support.problem or "GOST support unavailable")
    try:
        return hashlib.new(algorithm.hashlib_name)
    except ValueError as exc:  # provider missing although the engine loaded
        raise gost.GostUnavailable(f"{algorithm.title} is not available: {exc}") from None


def digest_stream(
    stream: BinaryIO, algorithms: Iterable[DigestAlgorithm], chunk_size: int = CHUNK_SIZE
) -> dict[str, bytes]:
    """Digest a stream once with several algorithms; returns {oid: digest}. Chunked."""
    hashes = {a.oid: new_hash(a) for a in algorithms}
    updaters = [h.update for h in hashes.values()]
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    while n := stream.readinto(buffer):  # type: ignore[attr-defined]
        chunk = view[:n]
        for update in updaters:
            update(chunk)
    return {oid: h.digest() for oid, h in hashes.items()}


class _RangeReader:
    """A readable view of some byte ranges of a file, in order (a PDF /ByteRange)."""

    def __init__(self, stream: BinaryIO, ranges: Sequence[tuple[int, int]]) -> None:
        self._stream = stream
        self._ranges = list(ranges)
        self._left = 0

    def readinto(self, buffer: bytearray) -> int:
        while self._left == 0:
            if not self._ranges:
                return 0
            start, length = self._ranges.pop(0)
            self._stream.seek(start)
            self._left = length
        view = memoryview(buffer)[: min(len(buffer), self._left)]
        n: int = self._stream.readinto(view)  # type: ignore[attr-defined]
        if not n:
            raise OSError("the file ended inside a byte range")
        self._left -= n
        return n


def digest_file(
    path: Path, algorithms: Iterable[DigestAlgorithm], ranges: Sequence[tuple[int, int]] | None = None
) -> dict[str, bytes]:
    """Digest a file (or some byte ranges of it) once with several algorithms, streamed.

    ``ranges`` are (offset, length) pairs; they must lie inside the file.
    """
    with open(path, "rb", buffering=0) as stream:
        size = os.fstat(stream.fileno()).st_size
        source: BinaryIO = stream
        if ranges is not None:
            for start, length in ranges:
                if start < 0 or length < 0 or start + length > size:
                    raise ValueError(f"byte range {start}+{length} lies outside the file of {size} bytes")
            source = _RangeReader(stream, ranges)  # type: ignore[assignment]
            size = sum(length for _, length in ranges)
        algorithms = list(algorithms)
        if len(algorithms) > 1 and size >= PARALLEL_MIN:
            return _digest_in_parallel(source, algorithms, CHUNK_SIZE)
        # Large chunks keep a background hashing thread from waiting on the GIL between
        # chunks; small files need no more buffer than their size.
        return digest_stream(source, algorithms, max(4096, min(CHUNK_SIZE, size + 1)))


#: From this many bytes, several digests of one pass run on their own threads.
PARALLEL_MIN = 16 << 20


def _digest_in_parallel(source: BinaryIO, algorithms: Sequence[DigestAlgorithm], chunk_size: int) -> dict[str, bytes]:
    """One pass over the bytes, each digest on its own thread: the pass takes as long as
    the slowest digest (Streebog, ten times slower than SHA-256), not their sum.

    Each digest gets the chunks in order (one single-thread executor per digest); the next
    chunk is read into the other of two buffers while the current one is hashed, so the
    bytes are read once (a file larger than the page cache is not read from disk twice).
    ``hashlib`` releases the GIL while hashing a chunk.
    """
    from concurrent.futures import ThreadPoolExecutor

    hashes = {a.oid: new_hash(a) for a in algorithms}
    workers = [ThreadPoolExecutor(1, thread_name_prefix="digest") for _ in hashes]
    buffers = (bytearray(chunk_size), bytearray(chunk_size))
    using: tuple[list[Future[None]], list[Future[None]]] = ([], [])
    turn = 0
    try:
        while True:
            for future in using[turn]:  # the chunk read into this buffer two turns ago
                future.result()
            n = source.readinto(buffers[turn])  # type: ignore[attr-defined]
            if not n:
                break
            chunk = memoryview(buffers[turn])[:n]
            using[turn][:] = [worker.submit(h.update, chunk) for worker, h in zip(workers, hashes.values(), strict=True)]
            turn ^= 1
        for future in (*using[0], *using[1]):
            future.result()
    finally:
        for worker in workers:
            worker.shutdown(wait=True, cancel_futures=True)
    return {oid: h.digest() for oid, h in hashes.items()}


class _Pending:
    """One digest being computed, or its outcome: the part of ``concurrent.futures.Future``
    used here, without importing ``concurrent.futures`` (and with it ``logging``) at every
    ``gateway verify`` start."""

    __slots__ = ("_done", "_value", "_error")

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value = b""
        self._error: BaseException | None = None

    def set_result(self, value: bytes) -> None:
        self._value = value
        self._done.set()

    def set_exception(self, error: BaseException) -> None:
        self._error = error
        self._done.set()

    def result(self) -> bytes:
        """The digest, once computed; raises what computing it raised."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


#: Files from this size on are digested in the background by :meth:`FileDigests.prefetch`.
BACKGROUND_FROM = 1 << 20


class FileDigests:
    """The digests of one file, each computed once, optionally in the background.

    ``known`` digests (by OID) were computed earlier over the same bytes, e.g. the SHA-256
    taken while an upload streamed in; they are used as they are.
    """

    def __init__(self, path: Path, ranges: Sequence[tuple[int, int]] | None = None, known: Mapping[str, bytes] | None = None) -> None:
        self.path = path
        self.ranges = tuple(ranges) if ranges is not None else None
        """Only these (offset, length) parts of the file are digested (a PDF /ByteRange)."""
        self._lock = threading.Lock()
        self._futures: dict[str, _Pending] = {}
        for oid, digest in (known or {}).items():
            # Computed before (while the file was received or stored): never again.
            done = _Pending()
            done.set_result(digest)
            self._futures[oid] = done

    @property
    def size(self) -> int:
        """Bytes that are digested: the file, or the sum of its ranges."""
        if self.ranges is not None:
            return sum(length for _, length in self.ranges)
        return os.stat(self.path).st_size

    def prefetch(self, oids: Iterable[str]) -> None:
        """Start computing these digests in one background thread, in one pass.

        Files under :data:`BACKGROUND_FROM` bytes are left to :meth:`get`: starting a thread
        costs more than digesting them there."""
        try:
            if self.size < BACKGROUND_FROM:
                return
        except OSError:
            return  # get() reports the unreadable file
        work = self._claim(oids)
        if work:
            threading.Thread(target=self._compute, args=(work,), daemon=True, name="digests").start()

    def get(self, oids: Iterable[str]) -> dict[str, bytes]:
        """{oid: digest} for every requested algorithm that is available here.

        Digests not started yet are computed now, together in one pass over the file.
        GOST digests are left out when GOST support is unavailable; unknown OIDs are
        left out. I/O errors propagate (the document could not be read).
        """
        wanted = list(dict.fromkeys(oids))
        missing = self._claim(wanted)
        if missing:
            self._compute(missing)
        with self._lock:
            futures = {oid: self._futures[oid] for oid in wanted if oid in self._futures}
        results = {}
        for oid, future in futures.items():
            try:
                results[oid] = future.result()
            except gost.GostUnavailable:
                continue
        return results

    def _claim(self, oids: Iterable[str]) -> list[tuple[DigestAlgorithm, _Pending]]:
        """Futures for the digests nobody has started yet (unknown OIDs are skipped)."""
        claimed = []
        with self._lock:
            for oid in dict.fromkeys(oids):
                if oid in self._futures:
                    continue
                try:
                    algorithm = digest_by_oid(oid)
                except UnsupportedAlgorithm:
                    continue
                future = _Pending()
                self._futures[oid] = future
                claimed.append((algorithm, future))
        return claimed

    def _compute(self, work: list[tuple[DigestAlgorithm, _Pending]]) -> None:
        usable = []
        for algorithm, future in work:
            try:
                new_hash(algorithm)
                usable.append((algorithm, future))
            except gost.GostUnavailable as exc:
                future.set_exception(exc)
        if not usable:
            return
        try:
            digests = digest_file(self.path, [a for a, _ in usable], self.ranges)
        except BaseException as exc:  # noqa: BLE001 - delivered to whoever asks for the result
            for _, future in usable:
                future.set_exception(exc)
            return
        for algorithm, future in usable:
            future.set_result(digests[algorithm.oid])
