"""Group commit of transactions handed in by async callers (the pipeline's decisions).

Each durable commit waits for the disk (an fsync of the write-ahead log, a few milliseconds)
and holds the database's write lock meanwhile. Callers that hand in their transaction body
while another group is being committed wait for the next group, which runs all their bodies
in one transaction: one log fsync for the group, and no validation thread blocked on the
disk. A body that fails is run again alone, after the group's rollback, so it fails alone
and the others still commit; bodies are therefore plain SQL work that can be run again.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from gateway.store.db import Database

__all__ = ["GroupedTransactions"]

T = TypeVar("T")
Body = Callable[[sqlite3.Connection], Any]


class GroupedTransactions:
    """Runs transaction bodies in shared durable transactions, one group at a time."""

    def __init__(self, db: Database, name: str = "grouped-commit") -> None:
        self.db = db
        self._runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending: list[tuple[Body, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.groups = 0
        """Transactions committed so far (for tests and metrics: fewer than bodies when grouped)."""

    async def run(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``body`` inside a durable transaction (shared with others handed in meanwhile)
        and return its result once committed; raises what ``body`` raised (its work then
        rolled back), or what the commit raised."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((body, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())
        # Shielded: a caller cancelled now (a stop) does not undo a group half-way; its body
        # is committed or not with the group, as if the caller had waited.
        return await asyncio.shield(future)

    async def drain(self) -> None:
        """Wait until every body handed in so far is committed (or failed)."""
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)

    def close(self) -> None:
        self._runner.shutdown(wait=True)

    async def _flush_all(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            group, self._pending = self._pending, []
            try:
                results = await loop.run_in_executor(self._runner, self._commit, [body for body, _future in group])
            except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
                results = [exc] * len(group)
            for (_body, future), result in zip(group, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    def _commit(self, bodies: list[Body]) -> list[Any]:
        try:
            with self.db.transaction() as connection:
                results = [body(connection) for body in bodies]
            self.groups += 1
            return results
        except Exception as exc:  # noqa: BLE001 - a body's failure is its caller's; alone, it is returned as it is
            if len(bodies) == 1:
                return [exc]
        # One of them failed and the group rolled back: each alone, so only that one fails.
        alone: list[Any] = []
        for body in bodies:
            try:
                with self.db.transaction() as connection:
                    alone.append(body(connection))
                self.groups += 1
            except Exception as exc:  # noqa: BLE001 - returned to its own caller
                alone.append(exc)
        return alone
