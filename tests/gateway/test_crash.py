"""Crash drill: a gateway process is killed with SIGKILL while delivering 100 submissions,
restarted, and everything reaches its final state with one registration per package at
the registry and one email of each kind per package. Loopback only, bounded waits."""

from __future__ import annotations

import asyncio
import email
import email.policy
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

import aiohttp
from aiohttp.test_utils import TestServer

from tests.conftest import REPO
from tests.pki.builder import TestPki
from tests.servers.packages import MEMBER, members_csv, report_zip
from tests.servers.registry import RecordingRegistry

ServerFactory = Callable[..., Awaitable[TestServer]]
COUNT = 100


def SlowRegistry() -> RecordingRegistry:
    """Numbers packages by Idempotency-Key; slow enough to be killed mid-delivery."""
    return RecordingRegistry(delay=0.15)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    registry = SlowRegistry()
    server = await aiohttp_server(registry.app())
    port = _free_port()
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

            async def some_delivered() -> bool:
                return len(registry.numbers) >= 30

            await _until(some_delivered, 60)
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            delivered_before = len(registry.numbers)
            assert delivered_before < COUNT, "the kill came too late to test anything"

            process = _start(config, log)
            await _until(up, 30)

            async def all_registered() -> bool:
                for submission_id in ids:
                    async with session.get(f"{base}/api/v1/submissions/{submission_id}") as response:
                        if (await response.json())["status"] != "registered":
                            return False
                return True

            await _until(all_registered, 120)
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
    # One email of each kind per package (a resend after the kill is the same message).
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in (tmp_path / "mail").glob("*.eml")]
    texts = [str(m.get_body(preferencelist=("plain",)).get_content()) for m in messages]  # type: ignore[union-attr]
    registered_numbers = sorted(n for t in texts for n in registry.numbers.values() if n in t)
    assert len(messages) == 2 * COUNT
    assert registered_numbers == sorted(registry.numbers.values())  # one "registered" email per package
    assert "Traceback" not in log_path.read_text(encoding="utf-8", errors="replace")
