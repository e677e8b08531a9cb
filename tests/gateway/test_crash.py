"""Crash drill: a gateway process is killed with SIGKILL while delivering 50 submissions,
restarted, and everything reaches its final state with one registration per package at
the registry and one email of each kind per package. Loopback only, bounded waits.

The kill comes at a known point: the registry holds every POST from the 21st on
unanswered, and the test waits until the database has recorded the 20 answered ones;
so exactly the held packages were in flight, and only they may be posted again."""

from __future__ import annotations

import asyncio
import email
import email.policy
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

import aiohttp
from aiohttp.test_utils import TestServer

from tests.conftest import REPO
from tests.pki.builder import TestPki
from tests.servers.gateway import free_port, submission_rows
from tests.servers.packages import MEMBER, members_csv, report_zip
from tests.servers.registry import RecordingRegistry

ServerFactory = Callable[..., Awaitable[TestServer]]
COUNT = 50


ANSWERED = 20
"""POSTs the registry answers before it starts holding them (the kill point)."""


def HoldingRegistry() -> RecordingRegistry:
    """Numbers packages by Idempotency-Key; holds every POST after the first ANSWERED."""
    registry = RecordingRegistry()
    registry.hold_from = ANSWERED + 1
    return registry


def _outbox_drained(tmp_path: Path) -> bool:
    connection = sqlite3.connect(tmp_path / "var" / "gateway.sqlite3")
    try:
        return connection.execute("SELECT COUNT(*) FROM outbox WHERE status != 'done'").fetchone()[0] == 0
    finally:
        connection.close()


def _registered_in_database(tmp_path: Path) -> set[str]:
    return {row["id"] for row in submission_rows(tmp_path / "var") if row["status"] == "registered"}


def _config(tmp_path: Path, pki: TestPki, port: int, registry_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[server]
host = "127.0.0.1"
port = {port}
[verification]
trust_dir = "{pki.trust_dir}"
[storage]
data_dir = "{tmp_path / 'var'}"
members_csv = "{members_csv(tmp_path / 'members.csv')}"
[delivery]
registry_url = "{registry_url}"
registry_concurrency = 4
base_delay = 0.1
max_delay = 1.0
poll_interval = 0.05
lease_seconds = 2.0
digest_hour_utc = -1
email_rate_per_second = 0.0
[mail]
eml_dir = "{tmp_path / 'mail'}"
""",
        encoding="utf-8",
    )
    return path


def _start(config: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", "--config", str(config), "serve"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


async def _until(condition: Callable[[], Awaitable[bool]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not met within {seconds} s")


async def test_sigkill_during_delivery_loses_and_duplicates_nothing(aiohttp_server: ServerFactory, pki: TestPki, tmp_path: Path) -> None:
    registry = HoldingRegistry()
    server = await aiohttp_server(registry.app())
    port = free_port()
    config = _config(tmp_path, pki, port, str(server.make_url("")))
    base = f"http://127.0.0.1:{port}"
    package = report_zip(pki, tmp_path).read_bytes()
    log_path = tmp_path / "gateway.log"
    log = open(log_path, "ab")  # noqa: SIM115 - closed in the finally clause
    process = _start(config, log)
    ids: list[str] = []
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:

            async def up() -> bool:
                try:
                    async with session.get(base + "/healthz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await _until(up, 30)
            for index in range(COUNT):
                form = aiohttp.FormData()
                for key, value in {"member": MEMBER, "doc_type": "report", "report_kind": "OD_Q1", "external_id": f"crash-{index}"}.items():
                    form.add_field(key, value)
                form.add_field("document", package, filename=f"{MEMBER}_OD.zip")
                async with session.post(base + "/api/v1/submissions", data=form) as response:
                    assert response.status == 202, await response.text()
                    ids.append((await response.json())["id"])

            async def at_the_kill_point() -> bool:
                # Answered POSTs recorded in the database, the next ones held at the registry.
                return bool(registry.held) and len(await asyncio.to_thread(_registered_in_database, tmp_path)) == ANSWERED

            await _until(at_the_kill_point, 90)
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            registered_before = _registered_in_database(tmp_path)
            assert registered_before == set(registry.keys[:ANSWERED])
            registry.release.set()  # the held requests answer a dead connection

            process = _start(config, log)
            await _until(up, 30)

            async def all_registered() -> bool:
                for submission_id in ids:
                    async with session.get(f"{base}/api/v1/submissions/{submission_id}") as response:
                        if (await response.json())["status"] != "registered":
                            return False
                return True

            await _until(all_registered, 120)

            async def outbox_drained() -> bool:
                # The "registered" emails are jobs of their own, done after the registration.
                return await asyncio.to_thread(_outbox_drained, tmp_path)

            await _until(outbox_drained, 60)
            statuses = []
            for submission_id in ids:
                async with session.get(f"{base}/api/v1/submissions/{submission_id}") as response:
                    statuses.append(await response.json())
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        log.close()

    # One registration per package: every package is known to the registry under its own
    # key, with the number the gateway recorded.
    assert sorted(registry.numbers) == sorted(ids)
    assert {s["id"]: s["incoming_number"] for s in statuses} == registry.numbers
    # What the registry received, not only its idempotent result: a package whose
    # registration the gateway had recorded is never posted again; a package in flight at
    # the kill (held, unanswered) is posted once more after the restart; the rest once.
    # (A POST still in the socket at the kill may be answered to nobody and posted again
    # too, so "twice" may hold one more than `held`, never more than registry_concurrency.)
    posts = Counter(registry.keys)
    assert set(posts) == set(ids)
    assert all(posts[key] == 1 for key in registered_before)
    held = set(registry.held)
    twice = {key for key, count in posts.items() if count == 2}
    assert held and held <= twice and len(twice) <= 4, (registry.held, twice)
    assert set(posts.values()) <= {1, 2}
    assert registry.posts == COUNT + len(twice)
    # One email of each kind per package (a resend after the kill is the same message).
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in (tmp_path / "mail").glob("*.eml")]
    texts = [str(m.get_body(preferencelist=("plain",)).get_content()) for m in messages]  # type: ignore[union-attr]
    registered_numbers = sorted(n for t in texts for n in registry.numbers.values() if n in t)
    assert len(messages) == 2 * COUNT
    assert registered_numbers == sorted(registry.numbers.values())  # one "registered" email per package
    assert "Traceback" not in log_path.read_text(encoding="utf-8", errors="replace")
