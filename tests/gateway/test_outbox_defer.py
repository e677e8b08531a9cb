"""The outbox yields to a busy intake, within a bound (issue 13, section 4).

While uploads come in and packages wait to be validated, registry deliveries and emails
wait too, so that a burst of uploads is decided first; but each job starts at most ``max_deferral`` seconds after
it was due, however long the backlog lasts, and portal callbacks never wait. A real outbox
table in SQLite and the real worker; the backlog is a flag the test sets.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import Config
from gateway.delivery.outbox import Job, Outbox, OutboxWorker, enqueue
from gateway.store.db import Database
from tests.pki.builder import TestPki
from tests.servers.packages import MEMBER, REPORT, report_zip, status_of, submit, wait_for

ClientFactory = Callable[..., Awaitable[TestClient]]


class Ran(dict[str, float]):
    """When each job ran (monotonic), by dedupe key, with an event per key to wait on."""

    def __init__(self) -> None:
        super().__init__()
        self.events: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    def record(self, key: str) -> None:
        self[key] = time.monotonic()
        self.events[key].set()

    async def wait(self, key: str, seconds: float) -> None:
        async with asyncio.timeout(seconds):
            await self.events[key].wait()


class Backlog:
    """Stands for the intake: ``waiting`` is what ``Pipeline.busy`` says."""

    def __init__(self, waiting: bool) -> None:
        self.waiting = waiting

    def __call__(self) -> bool:
        return self.waiting


@asynccontextmanager
async def running_worker(tmp_path: Path, backlog: Backlog, max_deferral: float) -> AsyncIterator[tuple[OutboxWorker, Database, Ran]]:
    """A started worker whose handlers record when each job ran (by dedupe key)."""
    database = Database(tmp_path / "gateway.sqlite3")
    ran = Ran()

    async def handler(job: Job) -> None:
        ran.record(job.dedupe_key)

    worker = OutboxWorker(Outbox(database), {"email": handler, "webhook": handler}, poll_interval=0.05, yield_to=backlog, max_deferral=max_deferral)
    worker.add_target("smtp", 2)
    worker.add_target("webhook", 2, yields=False)
    await worker.start()
    try:
        yield worker, database, ran
    finally:
        await worker.stop()
        database.close()


def add_job(database: Database, kind: str, target: str, key: str) -> float:
    """Commit one due job; when it was committed (monotonic)."""
    with database.transaction() as connection:
        enqueue(connection, kind, target, key, {})
    return time.monotonic()


async def test_an_email_waits_while_validations_are_queued_and_goes_when_the_queue_empties(tmp_path: Path) -> None:
    backlog = Backlog(waiting=True)
    async with running_worker(tmp_path, backlog, max_deferral=60.0) as (worker, database, ran):
        add_job(database, "email", "smtp", "mail-1")
        worker.wake()
        await asyncio.sleep(0.4)  # eight poll intervals
        assert "mail-1" not in ran
        backlog.waiting = False
        emptied = time.monotonic()
        worker.wake()  # as the last decision of the backlog does
        await ran.wait("mail-1", 5)
        assert ran["mail-1"] - emptied < 1.0


async def test_a_delivery_still_happens_while_validations_keep_coming(tmp_path: Path) -> None:
    backlog = Backlog(waiting=True)  # never empties
    async with running_worker(tmp_path, backlog, max_deferral=0.5) as (worker, database, ran):
        due = add_job(database, "email", "smtp", "mail-1")
        for _ in range(20):  # a decision wakes the worker every 10 ms
            worker.wake()
            await asyncio.sleep(0.01)
        await ran.wait("mail-1", 5)
        waited = ran["mail-1"] - due
        assert 0.5 <= waited < 0.5 + 1.0  # deferred by the bound, and not much longer


async def test_portal_callbacks_do_not_wait_for_the_validation_backlog(tmp_path: Path) -> None:
    backlog = Backlog(waiting=True)
    async with running_worker(tmp_path, backlog, max_deferral=60.0) as (worker, database, ran):
        due = add_job(database, "webhook", "webhook", "callback-1")
        add_job(database, "email", "smtp", "mail-1")
        worker.wake()
        await ran.wait("callback-1", 5)
        assert ran["callback-1"] - due < 1.0
        assert "mail-1" not in ran


async def test_without_a_backlog_nothing_waits(tmp_path: Path) -> None:
    async with running_worker(tmp_path, Backlog(waiting=False), max_deferral=60.0) as (worker, database, ran):
        due = add_job(database, "email", "smtp", "mail-1")
        worker.wake()
        await ran.wait("mail-1", 5)
        assert ran["mail-1"] - due < 1.0


async def test_a_registry_delivery_waits_for_an_upload_in_progress_in_the_service(aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    config = dataclasses.replace(delivery_config, delivery=dataclasses.replace(delivery_config.delivery, defer_while_validating=60.0))
    client = await aiohttp_client(create_app(config))
    go_on = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield b"PK\x03\x04 the first bytes of an upload that takes its time"
        await go_on.wait()

    form = aiohttp.FormData()
    for key, value in {**REPORT, "external_id": "slow"}.items():
        form.add_field(key, value)
    form.add_field("document", slow_body(), filename=f"{MEMBER}_OD.zip")
    slow_upload = asyncio.create_task(client.post("/api/v1/submissions", data=form))
    try:
        response = await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})
        submission_id = (await response.json())["id"]

        async def accepted() -> bool:
            return (await status_of(client, submission_id))["status"] == "accepted"

        await wait_for(accepted)
        await asyncio.sleep(0.5)  # ten outbox polls
        assert (await status_of(client, submission_id))["status"] == "accepted"  # decided, not yet delivered
    finally:
        go_on.set()
        assert (await slow_upload).status in (200, 202, 400)

    async def registered() -> bool:
        return (await status_of(client, submission_id))["status"] == "registered"

    await wait_for(registered, seconds=20)
