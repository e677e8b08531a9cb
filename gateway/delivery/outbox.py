"""The durable outbox: every side effect after a decision is a row, worked in the background.

Rows are written in the same transaction as what causes them (the decision, a registry
answer, a staff event), so a crash can neither lose a side effect nor run one for
something that was not committed. Workers lease due rows (a lease that expires — a
killed process — makes the row due again), run them with a concurrency limit per
target, and then in one transaction mark the row done and apply its effects (the
registered status, the next email). Failures back off exponentially with jitter, or as
long as the other side's Retry-After asks; permanent failures and rows out of attempts
go to the dead letter, visible in ``gateway outbox`` and ``/metrics``.

The worker yields to the intake: while uploads come in or packages wait for validation, it
takes registry and email jobs only once they have waited ``max_deferral`` seconds
(``[delivery] defer_while_validating``), so a burst is decided first and its deliveries
follow; portal callbacks never wait. A done mark without effects (an email sent) is not
waited to disk; one with effects is.

Delivery is at least once; what the neighbours see is once: the registry deduplicates by
``Idempotency-Key`` (the submission id), and every email carries a Message-ID derived
from its row, so a resend after a crash is the same message (the ``.eml`` folder simply
overwrites it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.delivery.errors import PermanentDelivery, RetryableDelivery
from gateway.store.db import Database, now_iso
from gateway.store.events import record_event

__all__ = ["Job", "Outbox", "OutboxWorker", "RetryPolicy", "enqueue", "Effects"]

log = logging.getLogger("gateway.delivery.outbox")

#: Applied in the transaction that marks a job done (e.g. set 'registered', enqueue an email).
Effects = Callable[[sqlite3.Connection], None]
Handler = Callable[["Job"], Awaitable[Effects | None]]


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    target: str
    dedupe_key: str
    submission_id: str | None
    payload: dict[str, Any]
    attempts: int

    @property
    def message_id(self) -> str:
        """A stable id for what this job sends (emails use it as their Message-ID)."""
        return f"outbox-{self.id}"


def enqueue(
    connection: sqlite3.Connection,
    kind: str,
    target: str,
    dedupe_key: str,
    payload: Mapping[str, Any],
    submission_id: str | None = None,
    delay: float = 0.0,
) -> bool:
    """Add a job inside the caller's transaction; a repeated ``dedupe_key`` is ignored."""
    cursor = connection.execute(
        "INSERT OR IGNORE INTO outbox (kind, target, dedupe_key, submission_id, payload, status, next_attempt_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
        (kind, target, dedupe_key, submission_id, json.dumps(payload, ensure_ascii=False), time.time() + delay, now_iso()),
    )
    return cursor.rowcount == 1


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 12
    base_delay: float = 2.0
    max_delay: float = 3600.0
    lease_seconds: float = 300.0

    def delay(self, attempts: int, retry_after: float | None) -> float:
        backoff = min(self.max_delay, self.base_delay * (2 ** max(0, attempts - 1)))
        jittered = backoff * random.uniform(0.5, 1.5)  # noqa: S311 - retry jitter only spreads load, nothing secret depends on it
        return float(max(jittered, min(retry_after or 0.0, self.max_delay)))


class Outbox:
    """Queries on the outbox table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def lease(self, target: str, limit: int, lease_seconds: float) -> list[Job]:
        """Up to ``limit`` due jobs of ``target``, leased for ``lease_seconds``."""
        return self.lease_many({target: limit}, lease_seconds)

    def lease_many(self, limits: Mapping[str, int], lease_seconds: float, due_before: Mapping[str, float] | None = None) -> list[Job]:
        """Due jobs of several targets, up to ``limits[target]`` each, leased in one
        transaction. ``due_before[target]`` (a ``time.time()``) takes only the jobs of that
        target due by then (deferred jobs that have waited long enough)."""
        now = time.time()
        rows = []
        # Not waited to disk: a lease lost to a power cut only makes its rows due again.
        with self.db.transaction(durable=False) as connection:
            for target, limit in limits.items():
                due = min(now, (due_before or {}).get(target, now))
                rows += connection.execute(
                    "UPDATE outbox SET status = 'leased', lease_until = ?, attempts = attempts + 1"
                    " WHERE id IN (SELECT id FROM outbox WHERE target = ? AND next_attempt_at <= ?"
                    "   AND (status = 'pending' OR (status = 'leased' AND lease_until < ?)) ORDER BY id LIMIT ?)"
                    " RETURNING id, kind, target, dedupe_key, submission_id, payload, attempts",
                    (now + lease_seconds, target, due, now, limit),
                ).fetchall()
        return [
            Job(r["id"], r["kind"], r["target"], r["dedupe_key"], r["submission_id"], json.loads(r["payload"]), r["attempts"])
            for r in sorted(rows, key=lambda r: r["id"])
        ]

    def complete(self, job: Job, effects: Effects | None) -> None:
        """Mark the job done and apply its effects, in one transaction.

        A job without effects (an email, a callback) is marked done without waiting for the
        disk: the mark survives a killed process, and a power cut can undo it only together
        with everything committed after it, which costs that job's one more run under the same
        row (an email resent with the same Message-ID). Effects (a registered status, the
        next email queued) are waited to disk: undone, they would come back as new rows.
        """
        with self.db.transaction(durable=effects is not None) as connection:
            connection.execute("UPDATE outbox SET status = 'done', done_at = ?, lease_until = NULL, last_error = NULL WHERE id = ?", (now_iso(), job.id))
            if job.kind == "email" and job.submission_id:
                record_event(connection, job.submission_id, "email_sent", "gateway", {"email_kind": job.payload.get("kind"), "to": job.payload.get("to")})
            if effects is not None:
                effects(connection)

    def reschedule(self, job: Job, error: str, delay: float) -> None:
        with self.db.transaction() as connection:
            connection.execute(
                "UPDATE outbox SET status = 'pending', lease_until = NULL, next_attempt_at = ?, last_error = ? WHERE id = ?",
                (time.time() + delay, error[:2000], job.id),
            )

    def bury(self, job: Job, error: str) -> None:
        with self.db.transaction() as connection:
            connection.execute(
                "UPDATE outbox SET status = 'dead', lease_until = NULL, last_error = ? WHERE id = ?", (error[:2000], job.id)
            )
            if job.submission_id and job.kind in ("email", "registry"):
                detail = {"email_kind": job.payload.get("kind"), "to": job.payload.get("to")} if job.kind == "email" else {}
                record_event(connection, job.submission_id, f"{job.kind}_failed", "gateway", {**detail, "error": error[:500]})

    def retry_dead(self, job_id: int) -> bool:
        """Staff asked to try a dead (or waiting) row again now."""
        with self.db.transaction() as connection:
            return connection.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL WHERE id = ? AND status IN ('dead', 'pending')",
                (time.time(), job_id),
            ).rowcount == 1

    def rows(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        sql = "SELECT * FROM outbox" + (" WHERE status = ?" if status else "") + " ORDER BY id DESC LIMIT ?"  # noqa: S608 - constant fragments only; status and limit are ? parameters
        args: tuple[Any, ...] = (status, limit) if status else (limit,)
        return [dict(r) for r in self.db.query(sql, *args)]

    def row(self, job_id: int) -> dict[str, Any] | None:
        rows = self.db.query("SELECT * FROM outbox WHERE id = ?", job_id)
        return dict(rows[0]) if rows else None

    def counts(self) -> dict[tuple[str, str], int]:
        return {(r["kind"], r["status"]): r["n"] for r in self.db.query("SELECT kind, status, COUNT(*) AS n FROM outbox GROUP BY kind, status")}

    def dead_count(self) -> int:
        """How many jobs gave up (status ``dead``) and wait for staff to retry them."""
        return int(self.db.query("SELECT COUNT(*) AS n FROM outbox WHERE status = 'dead'")[0]["n"])


@dataclass
class _Target:
    concurrency: int
    rate_per_second: float | None = None
    yields: bool = True
    """Its jobs wait while the intake is busy (see ``OutboxWorker.yield_to``)."""
    running: int = 0
    next_start: float = 0.0


@dataclass
class OutboxWorker:
    """Runs due jobs: one polling loop, per-target concurrency and optional rate limit."""

    outbox: Outbox
    handlers: Mapping[str, Handler]
    """kind -> async handler returning the effects to apply when done."""
    targets: dict[str, _Target] = field(default_factory=dict)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    poll_interval: float = 0.5
    yield_to: Callable[[], bool] | None = None
    """True while the intake is busy (uploads coming in, packages queued or in validation:
    ``Pipeline.busy``). Then the jobs of yielding targets (registry deliveries, emails) wait
    until they have been due for ``max_deferral`` seconds or the intake is idle, whichever
    comes first: a burst of uploads is received and decided first, and the work each
    decision caused follows. Deferred, never starved: under a load that never ends every
    job still starts at most ``max_deferral`` seconds after it was due."""
    max_deferral: float = 5.0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _loop_task: asyncio.Task[None] | None = None
    _stopping: bool = False
    _next_deferred_look: float = 0.0

    def add_target(self, name: str, concurrency: int, rate_per_second: float | None = None, yields: bool = True) -> None:
        """Jobs of ``name``: at most ``concurrency`` at a time and ``rate_per_second``;
        ``yields``: they wait while the intake is busy (``yield_to``), within ``max_deferral``."""
        self.targets[name] = _Target(concurrency, rate_per_second, yields)

    def wake(self) -> None:
        """New rows were committed: look now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._loop_task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Cancel the polling loop and every running job, and wait for them to end."""
        self._stopping = True  # even a swallowed cancellation ends the loop at its next turn
        if self._loop_task is not None:
            self._loop_task.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*([self._loop_task] if self._loop_task else []), *self._tasks, return_exceptions=True)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._fill()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox poll failed")
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the wake-up and
            # swallows a cancellation that arrives in the same loop iteration, and stop()
            # then waits forever for a loop that keeps polling.
            try:
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()

    async def _fill(self) -> None:
        loop = asyncio.get_running_loop()
        deferring = self.yield_to is not None and self.max_deferral > 0 and self.yield_to()
        look = True
        if deferring:
            # Every decision wakes the worker; while the intake is busy, the deferred targets
            # are looked at once a poll interval, not at each wake-up.
            now = loop.time()
            look = now >= self._next_deferred_look
            if look:
                self._next_deferred_look = now + self.poll_interval
        limits: dict[str, int] = {}
        due_before: dict[str, float] = {}
        for name, target in self.targets.items():
            free = target.concurrency - target.running
            if free <= 0 or (deferring and target.yields and not look):
                continue
            limits[name] = free
            if deferring and target.yields:
                due_before[name] = time.time() - self.max_deferral
        if not limits:
            return
        jobs = await loop.run_in_executor(None, self.outbox.lease_many, limits, self.policy.lease_seconds, due_before)
        for job in jobs:
            target = self.targets[job.target]
            target.running += 1
            task = asyncio.create_task(self._work(job, target))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _work(self, job: Job, target: _Target) -> None:
        loop = asyncio.get_running_loop()
        try:
            if target.rate_per_second:
                now = loop.time()
                start = max(now, target.next_start)
                target.next_start = start + 1.0 / target.rate_per_second
                await asyncio.sleep(start - now)
            handler = self.handlers.get(job.kind)
            if handler is None:
                await loop.run_in_executor(None, self.outbox.bury, job, f"no handler for job kind {job.kind}")
                return
            try:
                effects = await handler(job)
            except PermanentDelivery as exc:
                log.warning("outbox job %s (%s) dead: %s", job.id, job.kind, exc.detail)
                await loop.run_in_executor(None, self.outbox.bury, job, exc.detail)
                return
            except (RetryableDelivery, Exception) as exc:
                detail = exc.detail if isinstance(exc, RetryableDelivery) else f"{type(exc).__name__}: {exc}"
                if not isinstance(exc, RetryableDelivery):
                    log.exception("outbox job %s (%s) failed unexpectedly", job.id, job.kind)
                if job.attempts >= self.policy.max_attempts:
                    await loop.run_in_executor(None, self.outbox.bury, job, f"gave up after {job.attempts} attempts: {detail}")
                else:
                    retry_after = exc.retry_after if isinstance(exc, RetryableDelivery) else None
                    await loop.run_in_executor(None, self.outbox.reschedule, job, detail, self.policy.delay(job.attempts, retry_after))
                return
            await loop.run_in_executor(None, self.outbox.complete, job, effects)
        finally:
            target.running -= 1
            self.wake()
