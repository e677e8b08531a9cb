"""Status callbacks to the portal: a real receiver on 127.0.0.1, HMAC-SHA256 signatures,
event ids for idempotency, retries through the outbox."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.config import Config, WebhooksConfig
from tests.pki.builder import TestPki
from tests.servers.packages import REPORT, report_zip, status_of, submit, wait_for

ClientFactory = Callable[..., Awaitable[TestClient]]
ServerFactory = Callable[..., Awaitable[TestServer]]
SECRET = "portal-shared-secret-0123456789"


@pytest.fixture
def delivery_config(delivery_config: Config) -> Config:
    """The receivers here listen on 127.0.0.1: a non-public address the operator must allow."""
    return dataclasses.replace(delivery_config, webhooks=WebhooksConfig(allow_hosts=("127.0.0.1",)))


class Receiver:
    """The portal's callback endpoint: answers from a script, then 200; records what came."""

    def __init__(self, script: list[int] | None = None) -> None:
        self.script = list(script or [])
        self.calls: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append((dict(request.headers), await request.read()))
        return web.Response(status=self.script.pop(0) if self.script else 200)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        return app

    def delivered(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _headers, body in self.calls]


async def test_every_status_change_is_posted_signed_and_retried(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path
) -> None:
    receiver = Receiver(script=[503])
    server = await aiohttp_server(receiver.app())
    client = await aiohttp_client(create_app(delivery_config))
    created = await client.post("/api/v1/webhooks", json={"url": str(server.make_url("/hook")), "secret": SECRET})
    assert created.status == 201 and (await created.json())["secret"] == SECRET
    submission_id = (await (await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})).json())["id"]

    def kinds() -> list[str]:
        return [e["kind"] for e in receiver.delivered()]

    def refused_came_again() -> bool:
        # The first delivery to arrive (usually "received"; several status changes may be on
        # their way at once) is refused with 503 and must come again with the same event id.
        ids = [e["event_id"] for e in receiver.delivered()]
        return bool(ids) and ids.count(ids[0]) == 2

    await wait_for(lambda: {"received", "decision", "registered"} <= set(kinds()) and refused_came_again())
    for headers, body in receiver.calls:
        timestamp = headers["X-Gateway-Timestamp"]
        expected = "sha256=" + hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Gateway-Signature"], expected)
        assert headers["X-Gateway-Event-Id"] == json.loads(body)["event_id"]
    first_ids = [e["event_id"] for e in receiver.delivered()]
    assert len(first_ids) == len(set(first_ids)) + 1  # the refused (503) delivery came again with the same id
    registered = next(e for e in receiver.delivered() if e["kind"] == "registered")
    assert registered["submission_id"] == submission_id and registered["status"] == "registered"
    assert registered["incoming_number"] == (await status_of(client, submission_id))["incoming_number"]


async def test_a_forged_signature_does_not_verify(aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    receiver = Receiver()
    server = await aiohttp_server(receiver.app())
    client = await aiohttp_client(create_app(delivery_config))
    await client.post("/api/v1/webhooks", json={"url": str(server.make_url("/hook")), "secret": SECRET})
    await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})
    await wait_for(lambda: len(receiver.calls) >= 1)
    headers, body = receiver.calls[0]
    timestamp = headers["X-Gateway-Timestamp"]
    other = "sha256=" + hmac.new(b"another-secret-0123456789", timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Gateway-Signature"] != other


async def test_webhook_registration_refuses_bad_urls_and_short_secrets(aiohttp_client: ClientFactory, config: Config) -> None:
    client = await aiohttp_client(create_app(config))
    assert (await client.post("/api/v1/webhooks", json={"url": "ftp://portal/hook"})).status == 400
    assert (await client.post("/api/v1/webhooks", json={"url": "https://portal/hook", "secret": "short"})).status == 400
    made = await (await client.post("/api/v1/webhooks", json={"url": "https://portal.example/hook"})).json()
    assert len(made["secret"]) >= 32
    listed = await (await client.get("/api/v1/webhooks")).json()
    assert [h["id"] for h in listed["items"]] == [made["id"]] and "secret" not in listed["items"][0]
    assert (await client.delete(f"/api/v1/webhooks/{made['id']}")).status == 200
    assert (await client.delete(f"/api/v1/webhooks/{made['id']}")).status == 404
