"""The embedded default registry: numbers and files packages on this machine.

Used when no ``registry_url`` is configured. Each package gets an incoming number
``ВХ-<year>-<6 digits>`` (``ВХ-2026-000001``), gap-free within a year and unique however
many tasks, threads or processes deliver at once, and is filed under
``folder/<year>/<number>/``: the member's files (copied, names made safe) plus
``metadata.json`` (the package metadata) and ``receipt.json`` (number, date, submission id
and which stored name is which member's file).

The numbering lives in a SQLite file of its own (``database_path``; WAL,
``synchronous=FULL``, ``busy_timeout``)::

    counters(year INTEGER PRIMARY KEY, last INTEGER)
    incoming(submission_id TEXT PRIMARY KEY, number TEXT UNIQUE, registered_at TEXT, folder TEXT)

Crash safety — the number is committed only together with a complete, visible folder:

1. The files and ``metadata.json`` are copied into a private staging folder
   ``folder/.staging/<random>/`` and fsynced (outside any lock: copies run in parallel).
2. ``BEGIN IMMEDIATE`` (the write lock, across processes). If the submission is already
   registered (a concurrent or earlier delivery), the staging folder is discarded and the
   first receipt returned. Otherwise the counter is incremented, the ``incoming`` row
   inserted, ``receipt.json`` written into the staging folder, and the staging folder
   renamed to its final name (one atomic ``rename``; both directories fsynced).
3. ``COMMIT``. If the rename or anything before the commit fails, the transaction is
   rolled back (the number is not consumed) and a renamed folder is renamed back.

The final folder therefore never appears half-written: it appears whole, by a rename. A
crash between the rename and the commit leaves a whole folder whose number the database
does not know; that number is the next one to be allocated in its year, so it is found
and moved aside to ``folder/.orphaned/`` by the next delivery of that year (under the
write lock, so never while another process is between its rename and its commit), and on
first use by :meth:`LocalRegistry.recover`. A crash before the rename leaves only a
staging folder, which recovery deletes when it is older than a day (another process may
be filling a younger one). The submission itself is not lost in either case: the outbox
delivers it again and it is registered then.

The year of a number is the calendar year in ``year_timezone`` (Moscow time by default:
the SRO keeps its journal in Moscow time, so a package arriving at 22:30 UTC on
31 December is the first of the new year); ``registered_at`` is UTC with ``Z``.

All SQLite and file work runs in a worker thread (:func:`asyncio.to_thread`), one call per
delivery, so the event loop never blocks and a cancelled ``deliver`` cannot leave a staging
folder behind (the thread finishes, and a repeat delivery returns its receipt).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from gateway.delivery.errors import PermanentDelivery, RetryableDelivery
from gateway.delivery.registry.model import OutgoingPackage, RegistryReceipt
from gateway.store.db import connect
from gateway.store.files import fsync_dir, safe_file_name

__all__ = ["LocalRegistry", "MOSCOW", "safe_file_name"]

MOSCOW = timezone(timedelta(hours=3), "MSK")
"""Moscow time (UTC+3 all year since 2014)."""

NUMBER_PREFIX = "ВХ"
_METADATA = "metadata.json"
_RECEIPT = "receipt.json"
_STAGING = ".staging"
_ORPHANED = ".orphaned"
_STALE_STAGING_SECONDS = 24 * 3600
_COPY_CHUNK = 1024 * 1024
_BUSY_TIMEOUT_SECONDS = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS incoming (
    submission_id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    registered_at TEXT NOT NULL,
    folder TEXT NOT NULL
);
"""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Staged:
    path: Path
    files: list[tuple[str, str]]
    """(member's name, stored name)."""


class LocalRegistry:
    """Numbers packages ``ВХ-<year>-NNNNNN`` in ``database_path`` and files them under ``folder``.

    Several instances (in one process or several) may share the same ``database_path`` and
    ``folder``; numbering stays gap-free and unique. ``clock`` returns the current time
    (aware; a naive value is taken as UTC) and is injectable for tests.
    """

    def __init__(
        self,
        database_path: Path,
        folder: Path,
        clock: Callable[[], datetime] = _utc_now,
        *,
        year_timezone: tzinfo = MOSCOW,
    ) -> None:
        self.database_path = Path(database_path)
        self.folder = Path(folder)
        self.clock = clock
        self.year_timezone = year_timezone
        self._lock = threading.Lock()
        """Serialises this instance's use of its connection and its transactions, so its
        threads queue here instead of spinning in SQLite's busy handler; other
        instances/processes meet at BEGIN IMMEDIATE."""
        self._connection: sqlite3.Connection | None = None
        """One connection for the instance's life (opened on first use): a connection per
        delivery cost a connect and, at each close of the last one, a WAL checkpoint with
        its fsyncs."""
        self._ready = False
        self._ready_lock = threading.Lock()

    # -- public API ---------------------------------------------------------------------

    async def deliver(self, package: OutgoingPackage) -> RegistryReceipt:
        """Register and file ``package``, or return the receipt of its earlier registration.

        Raises :class:`PermanentDelivery` when a stored file of the package is missing and
        :class:`RetryableDelivery` for database or disk trouble (locked too long, disk full).
        """
        return await asyncio.to_thread(self._deliver, package)

    async def receipt(self, submission_id: str) -> RegistryReceipt | None:
        """The receipt of an already registered submission, if any."""
        return await asyncio.to_thread(self._lookup, submission_id)

    def recover(self) -> None:
        """Tidy up after a crash: move aside folders whose number was never committed and
        delete staging folders older than a day. Runs once, on first use; idempotent."""
        self._prepare()
        with self._lock:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
            try:
                for year_folder in self._year_folders():
                    year = int(year_folder.name)
                    row = connection.execute("SELECT last FROM counters WHERE year = ?", (year,)).fetchone()
                    self._set_aside_orphan(year, (row[0] if row else 0) + 1)
            finally:
                connection.execute("ROLLBACK")  # nothing was written; the lock was the point
        cutoff = time.time() - _STALE_STAGING_SECONDS
        for entry in self._staging_root().iterdir():
            try:
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry, ignore_errors=True)
            except FileNotFoundError:
                pass

    # -- the delivery, in a worker thread -------------------------------------------------

    def _deliver(self, package: OutgoingPackage) -> RegistryReceipt:
        try:
            self._ensure_ready()
            existing = self._lookup(package.submission_id)
            if existing is not None:
                return existing
            staged = self._stage(package)
            try:
                return self._register(package, staged)
            finally:
                shutil.rmtree(staged.path, ignore_errors=True)  # gone already after a successful rename
        except (PermanentDelivery, RetryableDelivery):
            raise
        except sqlite3.Error as exc:
            self.close()  # the next attempt starts on a fresh connection
            raise RetryableDelivery(f"local registry database: {exc}") from exc
        except OSError as exc:
            raise RetryableDelivery(f"local registry folder: {exc}") from exc

    def _stage(self, package: OutgoingPackage) -> _Staged:
        """Copy the files and ``metadata.json`` into a new staging folder, durably."""
        staging = self._staging_root() / uuid.uuid4().hex
        staging.mkdir()
        try:
            stored_names = _unique_names((safe_file_name(name) for name, _ in package.files), reserved=(_METADATA, _RECEIPT))
            for (name, source), stored in zip(package.files, stored_names, strict=True):
                try:
                    source_file = open(source, "rb")  # noqa: SIM115 - closed by the `with` below; opened apart to tell a missing source file
                except FileNotFoundError as exc:
                    raise PermanentDelivery(f"stored file of the package is missing: {source} ({name})") from exc
                with source_file, open(staging / stored, "xb") as target:
                    shutil.copyfileobj(source_file, target, _COPY_CHUNK)
                    target.flush()
                    os.fsync(target.fileno())
            _write_json(staging / _METADATA, package.metadata)
            # The folder itself is fsynced once, in _register, after receipt.json joins it.
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return _Staged(staging, [(name, stored) for (name, _), stored in zip(package.files, stored_names, strict=True)])

    def _register(self, package: OutgoingPackage, staged: _Staged) -> RegistryReceipt:
        """Allocate the number, rename the staging folder into place and commit — or nothing."""
        with self._lock:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
            renamed: Path | None = None
            try:
                row = connection.execute(
                    "SELECT number, registered_at FROM incoming WHERE submission_id = ?", (package.submission_id,)
                ).fetchone()
                if row is not None:  # registered meanwhile by another task or process
                    connection.execute("ROLLBACK")
                    return RegistryReceipt(row[0], row[1])

                now = self.clock()
                if now.tzinfo is None:
                    now = now.replace(tzinfo=UTC)
                year = now.astimezone(self.year_timezone).year
                registered_at = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                (last,) = connection.execute(
                    "INSERT INTO counters (year, last) VALUES (?, 1)"
                    " ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
                    (year,),
                ).fetchone()
                number = f"{NUMBER_PREFIX}-{year}-{last:06d}"
                relative = f"{year}/{number}"
                connection.execute(
                    "INSERT INTO incoming (submission_id, number, registered_at, folder) VALUES (?, ?, ?, ?)",
                    (package.submission_id, number, registered_at, relative),
                )

                _write_json(
                    staged.path / _RECEIPT,
                    {
                        "incoming_number": number,
                        "registered_at": registered_at,
                        "submission_id": package.submission_id,
                        "files": [{"name": name, "stored_as": stored} for name, stored in staged.files],
                    },
                )
                fsync_dir(staged.path)
                year_folder = self.folder / str(year)
                year_folder.mkdir(exist_ok=True)
                self._set_aside_orphan(year, last)
                target = self.folder / relative
                os.rename(staged.path, target)
                renamed = target
                fsync_dir(year_folder)
                fsync_dir(staged.path.parent)
                connection.execute("COMMIT")
                return RegistryReceipt(number, registered_at)
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                if renamed is not None:
                    with contextlib.suppress(OSError):  # left as an orphan; the next allocation of this number sets it aside
                        os.rename(renamed, staged.path)
                raise

    # -- helpers ---------------------------------------------------------------------------

    def _lookup(self, submission_id: str) -> RegistryReceipt | None:
        self._ensure_ready()
        with self._lock:
            row = self._connect().execute(
                "SELECT number, registered_at FROM incoming WHERE submission_id = ?", (submission_id,)
            ).fetchone()
        return RegistryReceipt(row[0], row[1]) if row else None

    def _set_aside_orphan(self, year: int, last: int) -> None:
        """Move a folder left by a crash between rename and commit out of the way (write lock held)."""
        orphan = self.folder / str(year) / f"{NUMBER_PREFIX}-{year}-{last:06d}"
        if orphan.exists():
            aside = self.folder / _ORPHANED
            aside.mkdir(exist_ok=True)
            os.rename(orphan, aside / f"{orphan.name}-{uuid.uuid4().hex[:8]}")
            fsync_dir(orphan.parent)
            fsync_dir(aside)

    def _year_folders(self) -> Iterable[Path]:
        return (p for p in self.folder.iterdir() if p.is_dir() and p.name.isdigit())

    def _staging_root(self) -> Path:
        return self.folder / _STAGING

    def _connect(self) -> sqlite3.Connection:
        """The instance's connection (``self._lock`` held)."""
        if self._connection is None:
            self._connection = connect(self.database_path, _BUSY_TIMEOUT_SECONDS, check_same_thread=False)
        return self._connection

    def close(self) -> None:
        """Close the connection (a later delivery opens it again)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _prepare(self) -> None:
        """Create the folders and the schema."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._staging_root().mkdir(exist_ok=True)
        self.database_path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._connect().executescript(_SCHEMA)

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if not self._ready:
                self.recover()
                self._ready = True


def _unique_names(names: Iterable[str], *, reserved: Sequence[str]) -> list[str]:
    """Distinct names (case-insensitively, so the folder can be copied to any file system):
    ``a.pdf``, ``a (2).pdf``…; ``reserved`` names are never used."""
    taken = {r.casefold() for r in reserved}
    result: list[str] = []
    for name in names:
        candidate, counter = name, 1
        stem, dot, suffix = name.rpartition(".")
        if not dot:
            stem, suffix = name, ""
        while candidate.casefold() in taken:
            counter += 1
            candidate = f"{stem} ({counter}){dot}{suffix}"
        taken.add(candidate.casefold())
        result.append(candidate)
    return result


def _write_json(path: Path, value: Any) -> None:
    with open(path, "x", encoding="utf-8") as file:
        json.dump(value, file, ensure_ascii=False, indent=2)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
