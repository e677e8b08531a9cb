"""The SQLite store: writers of one process queue on a lock bounded by the busy timeout;
a transaction that need not wait for the disk leaves the connection durable after it."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from gateway.store.blobs import BlobStore
from gateway.store.db import Database


def test_writers_of_one_process_take_turns_without_failing(tmp_path: Path) -> None:
    database = Database(tmp_path / "gateway.sqlite3", busy_timeout=5.0)
    order: list[str] = []
    inside = threading.Event()

    def first() -> None:
        with database.transaction() as connection:
            inside.set()
            time.sleep(0.2)
            connection.execute("INSERT INTO notices (notice_id, kind, payload, received_at) VALUES ('a', 'mass', '{}', 'now')")
            order.append("first")

    thread = threading.Thread(target=first)
    thread.start()
    inside.wait(5)
    with database.transaction() as connection:
        connection.execute("INSERT INTO notices (notice_id, kind, payload, received_at) VALUES ('b', 'mass', '{}', 'now')")
        order.append("second")
    thread.join(5)
    assert order == ["first", "second"]
    assert [r["notice_id"] for r in database.query("SELECT notice_id FROM notices ORDER BY notice_id")] == ["a", "b"]


def test_a_writer_waiting_past_the_busy_timeout_is_told_the_database_is_locked(tmp_path: Path) -> None:
    database = Database(tmp_path / "gateway.sqlite3", busy_timeout=0.2)
    inside, release = threading.Event(), threading.Event()

    def holder() -> None:
        with database.transaction():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    inside.wait(5)
    started = time.monotonic()
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            with database.transaction():
                pass
        assert time.monotonic() - started < 2
    finally:
        release.set()
        thread.join(5)


def test_a_transaction_not_waited_to_disk_leaves_the_connection_durable(tmp_path: Path) -> None:
    database = Database(tmp_path / "gateway.sqlite3")
    with database.transaction(durable=False) as connection:
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert database.query("PRAGMA synchronous")[0][0] == 2  # FULL again
    with pytest.raises(ZeroDivisionError):
        with database.transaction(durable=False):
            raise ZeroDivisionError
    assert database.query("PRAGMA synchronous")[0][0] == 2


def test_a_blob_writer_refuses_chunks_after_finish(tmp_path: Path) -> None:
    writer = BlobStore(tmp_path / "files").writer()
    writer.write(b"first")
    writer.finish()
    with pytest.raises(ValueError, match="after finish"):
        writer.write(b"late")
    writer.abort()
    assert writer.size == 5
