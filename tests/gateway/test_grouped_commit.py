"""Decisions are committed in groups (``gateway.store.grouped``): bodies handed in while a
group is being committed share the next transaction, each caller gets its own result once it
is on disk, and a failing body fails alone. Real SQLite."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.store.db import Database
from gateway.store.grouped import GroupedTransactions


def insert(value: str) -> Callable[[sqlite3.Connection], str]:
    def body(connection: sqlite3.Connection) -> str:
        connection.execute("INSERT INTO notices (notice_id, kind, payload, received_at) VALUES (?, 'test', '{}', 'now')", (value,))
        return value

    return body


def stored(database: Database) -> set[str]:
    return {row["notice_id"] for row in database.query("SELECT notice_id FROM notices")}


async def test_bodies_handed_in_together_share_commits_and_each_gets_its_result(tmp_path: Path) -> None:
    database = Database(tmp_path / "gateway.sqlite3")
    grouped = GroupedTransactions(database)
    try:
        results = await asyncio.gather(*(grouped.run(insert(f"n{i}")) for i in range(20)))
        assert results == [f"n{i}" for i in range(20)]
        assert stored(database) == {f"n{i}" for i in range(20)}
        assert grouped.groups < 20  # the first alone, the rest waited for the next group
    finally:
        grouped.close()
        database.close()


async def test_a_failing_body_fails_alone_and_the_others_of_its_group_commit(tmp_path: Path) -> None:
    database = Database(tmp_path / "gateway.sqlite3")
    grouped = GroupedTransactions(database)

    def broken(connection: sqlite3.Connection) -> None:
        connection.execute("INSERT INTO notices (notice_id, kind, payload, received_at) VALUES ('half', 'test', '{}', 'now')")
        raise ValueError("this decision cannot be recorded")

    try:
        outcomes = await asyncio.gather(grouped.run(insert("a")), grouped.run(broken), grouped.run(insert("b")), return_exceptions=True)
        assert outcomes[0] == "a" and outcomes[2] == "b"
        assert isinstance(outcomes[1], ValueError)
        assert stored(database) == {"a", "b"}  # nothing of the failed body, not even its first statement
    finally:
        grouped.close()
        database.close()


async def test_a_cancelled_caller_does_not_undo_its_body(tmp_path: Path) -> None:
    database = Database(tmp_path / "gateway.sqlite3")
    grouped = GroupedTransactions(database)
    try:
        caller = asyncio.create_task(grouped.run(insert("kept")))
        await asyncio.sleep(0)  # handed in
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        await grouped.drain()
        assert stored(database) == {"kept"}
    finally:
        grouped.close()
        database.close()

