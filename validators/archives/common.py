"""What the archive modules share: results, the walk's state, the per-archive findings
collector and the interface every archive reader implements."""

from __future__ import annotations

import os
import stat
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Protocol

from validators.checks import Check, finding

if TYPE_CHECKING:
    from validators.archives.limits import ArchiveLimits


MAX_FINDINGS_PER_CODE = 10
"""Per archive and code; further occurrences are summarised in the last detail."""


SPECIAL_TYPES = {
    stat.S_IFLNK: "symbolic link",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "FIFO",
    stat.S_IFSOCK: "socket",
}

#: The most an empty stream takes in any supported method (deflate 2 bytes, bzip2 14,
#: LZMA in ZIP about 16): a directory entry packing more holds something.
EMPTY_STREAM_BYTES = 32


def directory_holds_data(size: int, packed: int) -> bool:
    """A directory entry (by flag, mode or trailing slash) that declares or packs data: a
    tool that does not read the flag the same way extracts it as a file, unverified."""
    return size > 0 or packed > EMPTY_STREAM_BYTES


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


class Refused(Exception):
    """The current archive is refused; its findings are already recorded."""


class Abort(Exception):
    """A global limit was hit: stop everything; the finding is already recorded."""


class WriteFailed(Exception):
    """Writing under dest failed: re-raised to the caller as the original OSError."""


@dataclass
class State:
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
class Entry:
    """One archive member as seen in the header pass."""

    raw_name: str
    parts: tuple[str, ...]
    is_dir: bool
    declared_size: int
    packed_size: int
    ref: object
    """ZIP: (position in the central directory, ZipInfo); RAR: the lsar index of the member."""


class Problems:
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


class Reader(Protocol):
    def read(self, n: int) -> bytes: ...


def refuse(state: State, code: str, label: str, detail: str) -> NoReturn:
    state.checks.append(finding(code, file=label, detail=detail))
    raise Refused


class Source:
    """One opened archive: its entries and how to stream them."""

    entries: list[Entry]
    problems: Problems
    archive_size: int
    state: State

    def stream(self, entry: Entry, label: str) -> AbstractContextManager[Reader]:  # pragma: no cover - interface
        raise NotImplementedError

    def read(self, reader: Reader, label: str) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError

    def finish(self, reader: Reader, entry: Entry, written: int, label: str) -> None:
        """Called after EOF; refuses the archive when the stream was not complete."""

    def close(self) -> None:
        """Release files and processes."""
