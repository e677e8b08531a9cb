"""One SQLite connection set-up (`gateway.store.db.connect`): WAL is switched on once per
file, also when another connection is busy with the brand-new file at that moment."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from gateway.store.db import connect


def _hold_a_rollback_mode_write(path: Path) -> sqlite3.Connection:
    """What a second instance does while it switches the new file to WAL: it holds the lock
    of the old journal mode, and SQLite refuses a second switch at once (no busy wait)."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE first (x)")
    return other


def test_switching_a_new_file_to_wal_waits_for_another_connection_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    other = _hold_a_rollback_mode_write(path)
    release = threading.Timer(0.2, lambda: other.execute("COMMIT"))
    release.start()
    try:
        connection = connect(path, busy_timeout=5.0)
        assert str(connection.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
        connection.close()
    finally:
        release.join()
        other.close()


def test_the_wait_for_the_switch_is_bounded_by_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    other = _hold_a_rollback_mode_write(path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            connect(path, busy_timeout=0.2)
    finally:
        other.close()
