"""``OutboxWorker.stop()`` returns however wake() calls fall around it (issue 13, section 2):
on Python 3.11 ``asyncio.wait_for`` returned the wake-up and swallowed the cancellation when
both arrived in the same loop iteration, and the worker polled on forever."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.delivery.outbox import Outbox, OutboxWorker
from gateway.store.db import Database


async def test_stop_returns_when_a_wake_arrives_in_the_same_iteration(tmp_path: Path) -> None:
    database = Database(tmp_path / "gateway.sqlite3")
    try:
        for _ in range(50):
            worker = OutboxWorker(Outbox(database), {}, poll_interval=30.0)
            await worker.start()
            await asyncio.sleep(0)  # the loop is now waiting for a wake-up
            await asyncio.sleep(0)
            worker.wake()  # completes the wait ...
            async with asyncio.timeout(5):  # ... in the iteration that delivers the cancellation
                await worker.stop()
    finally:
        database.close()


async def test_stop_returns_under_a_storm_of_wake_ups(tmp_path: Path) -> None:
    database = Database(tmp_path / "gateway.sqlite3")
    try:
        worker = OutboxWorker(Outbox(database), {}, poll_interval=0.001)
        await worker.start()
        stop_waking = asyncio.Event()

        async def waker() -> None:
            while not stop_waking.is_set():
                worker.wake()
                await asyncio.sleep(0)

        wakers = [asyncio.create_task(waker()) for _ in range(4)]
        await asyncio.sleep(0.05)
        try:
            async with asyncio.timeout(5):
                await worker.stop()
        finally:
            stop_waking.set()
            await asyncio.gather(*wakers)
    finally:
        database.close()
