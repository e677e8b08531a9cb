"""SQLite storage of submissions, their files and reports (the embedded default store).

WAL journal with ``synchronous=FULL``: a transaction that returned is on disk, which is
what the 202 answer promises. One connection per thread; every call is short.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["Database", "connect", "derived_id", "now_iso"]


def now_iso() -> str:
    """The present UTC time as stored (ISO 8601, seconds, ``Z``)."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def derived_id(*parts: object) -> str:
    """A stable id made of ``parts``: a caller that sends no id of its own repeats the same
    request under the same id, so the repetition changes nothing."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]

_MIGRATIONS = [
    """
    CREATE TABLE submissions (
        id TEXT PRIMARY KEY,
        external_id TEXT UNIQUE,
        member TEXT NOT NULL,
        doc_type TEXT NOT NULL,
        report_kind TEXT,
        regulation_kind TEXT,
        status TEXT NOT NULL,
        decision TEXT,
        incoming_number TEXT,
        registered_at TEXT,
        received_at TEXT NOT NULL,
        decided_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT
    );
    CREATE INDEX submissions_status ON submissions(status);
    CREATE TABLE files (
        submission_id TEXT NOT NULL REFERENCES submissions(id),
        position INTEGER NOT NULL,
        slot TEXT NOT NULL,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        streebog256 TEXT,
        blob TEXT NOT NULL,
        PRIMARY KEY (submission_id, position)
    );
    CREATE TABLE reports (
        submission_id TEXT PRIMARY KEY REFERENCES submissions(id),
        report TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        dedupe_key TEXT NOT NULL UNIQUE,
        submission_id TEXT,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        lease_until REAL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        done_at TEXT
    );
    CREATE INDEX outbox_due ON outbox(target, status, next_attempt_at);
    CREATE TABLE registry_events (
        event_id TEXT PRIMARY KEY,
        submission_id TEXT NOT NULL REFERENCES submissions(id),
        decision TEXT NOT NULL,
        comment TEXT,
        received_at TEXT NOT NULL
    );
    CREATE TABLE notices (
        notice_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at TEXT NOT NULL
    );
    ALTER TABLE submissions ADD COLUMN staff_decision TEXT;
    ALTER TABLE submissions ADD COLUMN staff_comment TEXT;
    ALTER TABLE submissions ADD COLUMN member_email TEXT
    """,
]


#: Indexes added after the numbered migrations (idempotent, applied on every open).
_INDEXES = (
    # Streebog digests are looked up and recorded by a file's SHA-256 at every validation:
    # without it each lookup reads the whole files table.
    "CREATE INDEX IF NOT EXISTS files_sha256 ON files(sha256)",
)


def _side_tables() -> tuple[str, ...]:
    """Idempotent schema of the staff workspace's tables (events, staff accounts, periods).

    Kept out of the numbered migrations: they are ``CREATE … IF NOT EXISTS`` and can be
    applied on every open whatever the migration number.
    """
    from gateway.store.events import SCHEMA as EVENTS
    from gateway.store.periods import SCHEMA as PERIODS
    from gateway.store.staff_users import SCHEMA as STAFF
    from gateway.store.webhooks import SCHEMA as WEBHOOKS

    return EVENTS + STAFF + PERIODS + WEBHOOKS


def connect(path: Path, busy_timeout: float, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection as every gateway database wants it: autocommit mode (transactions are
    explicit ``BEGIN IMMEDIATE``), WAL, ``synchronous=FULL`` (a commit survives power loss),
    foreign keys on, and ``busy_timeout`` seconds of waiting for a lock before "database
    is locked". ``check_same_thread=False`` for a connection that several threads use in
    turn, under a lock of the caller's."""
    connection = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=check_same_thread)
    connection.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    # WAL is a property of the file: switched once. Asking for it again while another
    # connection writes fails at once with "database is locked" (no busy wait for it).
    _switch_to_wal(connection, busy_timeout)
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


def _switch_to_wal(connection: sqlite3.Connection, busy_timeout: float) -> None:
    """WAL on, once per file. Two connections opening a new file at once both see the old
    journal mode; the second switch then fails at once with "database is locked" (no busy
    wait for it), so it is retried, bounded by ``busy_timeout``, until WAL is on."""
    deadline = time.monotonic() + busy_timeout
    while str(connection.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        try:
            connection.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


class Database:
    """A SQLite file with the gateway's schema (migrated on open)."""

    def __init__(self, path: Path, busy_timeout: float = 30.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._migrate()

    def _connect(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = connect(self.path, self.busy_timeout)
            connection.row_factory = sqlite3.Row
            self._local.connection = connection
        return connection

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error).

        ``durable=False`` commits without waiting for the disk (``synchronous=NORMAL`` for
        this transaction): it survives a killed process, and a power cut can only undo it
        together with what came after it, never leave the database inconsistent. For
        bookkeeping whose loss only makes work due again (a claim, a lease); the next
        durable commit takes it to disk as well.
        """
        connection = self._connect()
        if not durable:
            connection.execute("PRAGMA synchronous=NORMAL")
        # Writers of this process queue on a lock, handed over at once, rather than in
        # SQLite's busy handler, which sleeps up to 100 ms between tries (the busy timeout
        # still applies to other processes, e.g. `gateway outbox retry`), and bounds the
        # wait here too.
        if not self._write_lock.acquire(timeout=self.busy_timeout):
            if not durable:
                connection.execute("PRAGMA synchronous=FULL")
            raise sqlite3.OperationalError("database is locked (waited for other writers of this process)")
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        finally:
            self._write_lock.release()
            if not durable:
                connection.execute("PRAGMA synchronous=FULL")

    def query(self, sql: str, *args: object) -> list[sqlite3.Row]:
        return self._connect().execute(sql, args).fetchall()

    def _migrate(self) -> None:
        with self.transaction() as connection:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(_MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version={number}")
            for statement in _side_tables() + _INDEXES:
                connection.execute(statement)

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
