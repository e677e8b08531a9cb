"""Fault drills: slow clients, a full disk, a locked database, a crowd of uploads, SMTP down,
and SIGKILL during upload and validation. Loopback only, every wait bounded. The kills
come at a known point, a state on disk or in the database, never after a fixed sleep."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import sqlite3
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import Config, MailConfig, ServerConfig, StorageConfig
from tests.pki.builder import TestPki
from tests.servers.gateway import Gateway, free_port, wait_for_submission
from tests.servers.packages import (
    FAST,
    MEMBER,
    REPORT,
    decided,
    large_report_zip,
    outbox_rows,
    report_zip,
    submit,
    wait_for,
)
from tests.servers.smtp import Recorder

ClientFactory = Callable[..., Awaitable[TestClient]]


_free_port = free_port


def _until(condition: Callable[[], bool], seconds: float = 60) -> None:
    """Poll ``condition`` every 10 ms until true; AssertionError after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"condition not met within {seconds} s")


def _submissions(config: Config) -> list[sqlite3.Row]:
    connection = sqlite3.connect(config.storage.data_dir / "gateway.sqlite3")
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute("SELECT * FROM submissions").fetchall()
    finally:
        connection.close()


# --- slow clients --------------------------------------------------------------------------


def test_connection_that_never_finishes_its_headers_is_closed(gateway_process: Gateway) -> None:
    gateway_process.start()
    with socket.create_connection(("127.0.0.1", gateway_process.port), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        sock.settimeout(10)
        assert sock.recv(1024) == b""  # the server closed the connection
        assert time.monotonic() - started < 5


def test_upload_whose_body_stalls_gets_408_and_leaves_nothing(gateway_process: Gateway, tmp_path: Path) -> None:
    gateway_process.start()
    boundary = "xyz"
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"member\"\r\n\r\n{MEMBER}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"doc_type\"\r\n\r\nreport\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"{MEMBER}_OD.zip\"\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", gateway_process.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=xyz\r\n"
            + f"Content-Length: {len(head) + 1_000_000}\r\n\r\n".encode()
            + head
            + b"PK\x03\x04 only a few bytes"
        )
        sock.settimeout(10)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert list((tmp_path / "var" / "files" / "tmp").iterdir()) == []
    assert _submissions(dataclasses.replace(Config(), storage=StorageConfig(data_dir=tmp_path / "var"))) == []


# --- storage faults ------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    mount = tmp_path / "tiny"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {result.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_disk_full_during_upload_is_a_507_and_records_nothing(aiohttp_client: ClientFactory, config: Config, tiny_disk: Path, pki: TestPki, tmp_path: Path) -> None:
    full = dataclasses.replace(config, storage=dataclasses.replace(config.storage, data_dir=tiny_disk), delivery=FAST, mail=MailConfig(eml_dir=tmp_path / "mail"))
    client = await aiohttp_client(create_app(full))
    big = tmp_path / f"{MEMBER}_OD.zip"
    big.write_bytes(bytes(8 << 20))
    form = aiohttp.FormData()
    for key, value in REPORT.items():
        form.add_field(key, value)
    with open(big, "rb") as stream:
        form.add_field("document", stream, filename=big.name)
        response = await client.post("/api/v1/submissions", data=form)
    assert response.status == 507
    assert (await response.json())["error"]["code"] == "storage.full"
    assert _submissions(full) == []
    assert list((tiny_disk / "files" / "tmp").iterdir()) == []
    # Space is back: the next (small) package goes through.
    small = await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})
    assert small.status == 202


async def test_locked_database_is_a_503_then_works_again(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    busy = dataclasses.replace(config, server=ServerConfig(db_busy_timeout=0.5), delivery=FAST, mail=MailConfig(eml_dir=tmp_path / "mail"))
    client = await aiohttp_client(create_app(busy))
    package = report_zip(pki, tmp_path)
    locker = sqlite3.connect(busy.storage.data_dir / "gateway.sqlite3", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        response = await submit(client, REPORT, {"document": [package]})
        assert response.status == 503 and (await response.json())["error"]["code"] == "storage.busy"
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert list((busy.storage.data_dir / "files" / "tmp").iterdir()) == []
    again = await submit(client, REPORT, {"document": [package]})
    assert again.status == 202
    assert (await decided(client, (await again.json())["id"]))["decision"] == "accepted"


async def test_one_hundred_concurrent_uploads_are_all_recorded_and_decided(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(dataclasses.replace(config, delivery=FAST, mail=MailConfig(eml_dir=tmp_path / "mail"))))
    package = report_zip(pki, tmp_path)
    responses = await asyncio.gather(*(submit(client, {**REPORT, "external_id": f"c-{i}"}, {"document": [package]}) for i in range(100)))
    assert {r.status for r in responses} == {202}
    ids = {(await r.json())["id"] for r in responses}
    assert len(ids) == 100
    decisions = await asyncio.gather(*(decided(client, i) for i in ids))
    assert {d["decision"] for d in decisions} == {"accepted"}


# --- SMTP down -------------------------------------------------------------------------------


async def test_emails_wait_while_smtp_is_down_and_go_when_it_is_back(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    from aiosmtpd.smtp import SMTP

    port = _free_port()
    mail = MailConfig(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", smtp_timeout=1.0)
    settings = dataclasses.replace(config, delivery=dataclasses.replace(FAST, max_attempts=50, max_delay=0.3), mail=mail)
    client = await aiohttp_client(create_app(settings))
    await submit(client, REPORT, {"document": [report_zip(pki, tmp_path, label="accountant256")]})

    def waiting() -> bool:
        return any(r["kind"] == "email" and r["status"] == "pending" and r["attempts"] >= 2 for r in outbox_rows(settings))

    await wait_for(lambda: asyncio.to_thread(waiting))
    recorder = Recorder()
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(recorder, hostname="127.0.0.1"), "127.0.0.1", port)
    try:
        await wait_for(lambda: len(recorder.messages) == 1)
    finally:
        server.close()
        await server.wait_closed()
    assert recorder.messages[0]["To"]


# --- SIGKILL during upload and during validation ----------------------------------------------


def test_kill_during_upload_records_nothing_and_restarts_clean(gateway_process: Gateway, tmp_path: Path) -> None:
    gateway_process.start()
    boundary = "k"
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"member\"\r\n\r\n{MEMBER}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"doc_type\"\r\n\r\nreport\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"{MEMBER}_OD.zip\"\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", gateway_process.port), timeout=10)
    try:
        sock.sendall(
            b"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=k\r\n"
            + f"Content-Length: {len(head) + (4 << 20)}\r\n\r\n".encode()
            + head
            + bytes(2 << 20)
        )
        # Killed while the body streams into its temporary file.
        uploads = tmp_path / "var" / "files" / "tmp"
        _until(lambda: uploads.is_dir() and any(p.stat().st_size > 0 for p in uploads.iterdir()))
        gateway_process.kill()
    finally:
        sock.close()
    gateway_process.start()
    assert list((tmp_path / "var" / "files" / "tmp").iterdir()) == []
    assert _submissions(dataclasses.replace(Config(), storage=StorageConfig(data_dir=tmp_path / "var"))) == []


def test_kill_during_validation_is_followed_by_validation_after_restart(gateway_process: Gateway, pki: TestPki, tmp_path: Path) -> None:
    gateway_process.start()
    package = large_report_zip(pki, tmp_path)  # validation takes about a second

    submission_id = gateway_process.upload(package, REPORT)
    wait_for_submission(tmp_path / "var", lambda row: row["status"] == "validating")
    gateway_process.kill()
    rows = _submissions(dataclasses.replace(Config(), storage=StorageConfig(data_dir=tmp_path / "var")))
    assert [(r["status"], r["attempts"]) for r in rows] == [("validating", 1)]
    gateway_process.start()

    async def final() -> str:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                async with session.get(f"http://127.0.0.1:{gateway_process.port}/api/v1/submissions/{submission_id}") as response:
                    status = (await response.json())["status"]
                if status == "registered":  # decided, then delivered to the local registry
                    return str(status)
                await asyncio.sleep(0.1)
        raise AssertionError(f"not registered after restart (last status {status!r})")

    assert asyncio.run(final()) == "registered"

