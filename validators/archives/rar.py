"""RAR: headers from rarfile, data from one ``unar`` pass (:mod:`validators.archives.unar`)."""

from __future__ import annotations

import shutil
import stat
import tempfile
from pathlib import Path
from typing import Callable, Protocol
import json
import os
import subprocess
import zlib

import rarfile

from validators.archives.common import SPECIAL_TYPES, Entry, Problems, Reader, Source, State, WriteFailed, refuse
from validators.archives.limits import CHUNK, abort_many
from validators.archives.names import decode_legacy_name, split_name
from validators.archives.unar import LSAR_TIMEOUT_S, UnarReader


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
        self.digests: dict[int, tuple[Callable[[], Hasher], int | bytes] | None] = {}

    @classmethod
    def open(cls, state: State, path: Path, prefix: str, outdir: Path) -> "RarSource":
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
                self.entries.append(Entry(raw, parts, True, 0, 0, position))
                continue
            if info.needs_password():
                problems.add("archive.encrypted", raw, "entry data is encrypted")
                continue
            # Solid: the ratio is measured against everything packed so far (later entries
            # of a solid stream legitimately compress to almost nothing).
            packed = cumulative_packed if solid else (info.compress_size or 0)
            if safe:
                self.entries.append(Entry(raw, parts, False, info.file_size or 0, packed, position))
                self.digests[position] = rar_digest(info)

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

    def stream(self, entry: Entry, label: str) -> "UnarReader":
        digest = self.digests.get(int(entry.ref))  # type: ignore[call-overload]
        try:
            return UnarReader(self.workdir, int(entry.ref), digest[0]() if digest else None)  # type: ignore[call-overload]
        except OSError as exc:
            refuse(self.state, "archive.unsupported", label, f"cannot run unar: {exc}")
        raise AssertionError("unreachable")

    def read(self, reader: Reader, label: str) -> bytes:
        return reader.read(CHUNK)

    def finish(self, reader: Reader, entry: Entry, written: int, label: str) -> None:
        assert isinstance(reader, UnarReader)
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
            refuse(self.state, "archive.unsupported", label, f"RAR5 solid archive that unar cannot decode: {why}")
        refuse(self.state, "archive.corrupt", label, why)

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


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
