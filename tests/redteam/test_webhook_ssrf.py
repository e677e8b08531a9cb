"""Red team: webhooks as a server-side request forgery.

The portal key registered any URL — 127.0.0.1, the cloud metadata address 169.254.169.254,
10.x, ::1, IPv4 in IPv6 or in decimal/octal spelling — and the gateway POSTed there from
inside the SRO's network. Now deliveries reach public addresses only unless
``[webhooks] allow_hosts`` lists the receiver: literal non-public addresses are refused at
registration (400 ``webhook.url_not_public``), and a delivery connects only to an address
the resolver vetted (``localhost`` is refused too), never following a redirect."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.config import Config, ConfigError, WebhooksConfig, load_config
from gateway.delivery.errors import PermanentDelivery
from gateway.delivery.outbox import Job
from gateway.http.webhooks import GuardedResolver, WebhookSender, guarded_session
from gateway.store.db import Database
from gateway.store.webhooks import WebhookStore
from gateway.webhook_targets import NonPublicAddress, WebhookTargets
from tests.pki.builder import TestPki
from tests.servers.packages import REPORT, report_zip, submit, wait_for

ClientFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]
ServerFactory = Callable[..., Awaitable[TestServer]]

NON_PUBLIC_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://172.16.5.4/hook",
    "http://100.64.0.1/hook",
    "http://0.0.0.0:8080/hook",
    "http://224.0.0.1/hook",
    "http://[::1]:8080/hook",
    "http://[fc00::1]/hook",
    "http://[fe80::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:a9fe:a9fe]/hook",
    "http://[2002:7f00:1::1]/hook",
    "http://[64:ff9b::a9fe:a9fe]/hook",
    "http://2130706433/hook",
    "http://0177.0.0.1/hook",
    "http://0x7f.1/hook",
    "http://127.1/hook",
    "https://127.0.0.1./hook",
]


@pytest.mark.parametrize("url", NON_PUBLIC_URLS)
async def test_registration_refuses_a_literal_non_public_address(aiohttp_client: ClientFactory, config: Config, url: str) -> None:
    client = await aiohttp_client(create_app(config))
    answer = await client.post("/api/v1/webhooks", json={"url": url})
    assert answer.status == 400
    error = (await answer.json())["error"]
    assert error["code"] == "webhook.url_not_public"
    assert "публичные адреса" in error["message_ru"] and "allow_hosts" in error["message_ru"]
    assert (await (await client.get("/api/v1/webhooks")).json())["items"] == []


@pytest.mark.parametrize("url", ["https://93.184.216.34/hook", "https://portal.example/hook", "http://[2a00:1450:4010::65]/hook", "https://localhost/hook"])
async def test_control_public_addresses_and_host_names_are_registered(aiohttp_client: ClientFactory, config: Config, url: str) -> None:
    # Names (localhost included) are judged at every delivery, against the address connected to.
    client = await aiohttp_client(create_app(config))
    assert (await client.post("/api/v1/webhooks", json={"url": url})).status == 201


async def test_the_allowance_admits_exactly_what_it_lists(aiohttp_client: ClientFactory, config: Config) -> None:
    allowed = dataclasses.replace(config, webhooks=WebhooksConfig(allow_hosts=("127.0.0.1", "10.20.0.0/16")))
    client = await aiohttp_client(create_app(allowed))
    assert (await client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"})).status == 201
    assert (await client.post("/api/v1/webhooks", json={"url": "http://10.20.3.4/hook"})).status == 201
    for url in ("http://127.0.0.2/hook", "http://10.21.0.1/hook", "http://169.254.169.254/"):
        assert (await client.post("/api/v1/webhooks", json={"url": url})).status == 400, url


@pytest.mark.parametrize("value", ['[""]', '["10.0.0.1/8"]', '["300.1.1.1"]', '["bad host!"]', '["::1/129"]', '"127.0.0.1"', "[1]"])
def test_a_malformed_allowance_is_refused_at_start(tmp_path: Path, value: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[webhooks]\nallow_hosts = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[webhooks\] allow_hosts"):
        load_config(path)


def test_control_a_well_formed_allowance_loads(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[webhooks]\nallow_hosts = ["127.0.0.1", "10.20.0.0/16", "fd00::/8", "hooks.corp.local"]\n', encoding="utf-8")
    assert load_config(path).webhooks.allow_hosts == ("127.0.0.1", "10.20.0.0/16", "fd00::/8", "hooks.corp.local")


class Receiver:
    """The callback endpoint: answers ``status`` (a redirect to /elsewhere when 3xx)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.paths: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.paths.append(request.path)
        await request.read()
        if 300 <= self.status < 400 and request.path == "/hook":
            return web.Response(status=self.status, headers={"Location": "/elsewhere"})
        return web.Response(status=200)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        app.router.add_post("/elsewhere", self.handle)
        return app


async def _deliver(tmp_path: Path, url: str, targets: WebhookTargets) -> None:
    store = WebhookStore(Database(tmp_path / "gateway.sqlite3"))
    hook, _secret = store.add(url)
    job = Job(1, "webhook", "webhook", "webhook:x", None, {"webhook_id": hook.id, "event": {"event_id": "e-1", "kind": "received"}}, 0)
    session = guarded_session(targets)
    try:
        await WebhookSender(store, session, timeout=5.0, targets=targets).job(job)
    finally:
        await session.close()


async def test_a_name_resolving_to_loopback_is_refused_at_delivery(aiohttp_server: ServerFactory, tmp_path: Path) -> None:
    receiver = Receiver()
    server = await aiohttp_server(receiver.app(), host="127.0.0.1")
    with pytest.raises(PermanentDelivery, match="non-public"):
        await _deliver(tmp_path, f"http://localhost:{server.port}/hook", WebhookTargets())
    assert receiver.paths == []


async def test_control_the_same_name_is_delivered_when_loopback_is_allowed(aiohttp_server: ServerFactory, tmp_path: Path) -> None:
    receiver = Receiver()
    server = await aiohttp_server(receiver.app(), host="127.0.0.1")
    await _deliver(tmp_path, f"http://localhost:{server.port}/hook", WebhookTargets.from_config(("127.0.0.1",)))
    assert receiver.paths == ["/hook"]


async def test_a_literal_loopback_url_stored_earlier_is_refused_at_delivery(aiohttp_server: ServerFactory, tmp_path: Path) -> None:
    # Registered before the guard, or the allowance was narrowed since: aiohttp would
    # connect to a literal address without asking the resolver.
    receiver = Receiver()
    server = await aiohttp_server(receiver.app(), host="127.0.0.1")
    with pytest.raises(PermanentDelivery, match="not a public address"):
        await _deliver(tmp_path, f"http://127.0.0.1:{server.port}/hook", WebhookTargets())
    assert receiver.paths == []


async def test_a_redirect_is_not_followed(aiohttp_server: ServerFactory, tmp_path: Path) -> None:
    receiver = Receiver(status=307)
    server = await aiohttp_server(receiver.app(), host="127.0.0.1")
    with pytest.raises(PermanentDelivery, match="HTTP 307"):
        await _deliver(tmp_path, f"http://127.0.0.1:{server.port}/hook", WebhookTargets.from_config(("127.0.0.1",)))
    assert receiver.paths == ["/hook"]


@pytest.mark.parametrize("allowed", [False, True], ids=["by default", "control: loopback allowed"])
async def test_the_service_puts_a_callback_to_localhost_in_the_dead_letter(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path, allowed: bool
) -> None:
    receiver = Receiver()
    server = await aiohttp_server(receiver.app(), host="127.0.0.1")
    config = dataclasses.replace(delivery_config, webhooks=WebhooksConfig(allow_hosts=("127.0.0.1", "::1") if allowed else ()))
    client = await aiohttp_client(create_app(config))
    assert (await client.post("/api/v1/webhooks", json={"url": f"http://localhost:{server.port}/hook"})).status == 201
    await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})
    database = Database(config.storage.data_dir / "gateway.sqlite3")

    def webhook_jobs() -> list[tuple[str, str]]:
        return [(r["status"], r["last_error"] or "") for r in database.query("SELECT status, last_error FROM outbox WHERE kind = 'webhook'")]

    if allowed:
        await wait_for(lambda: len(receiver.paths) >= 1)
        return
    await wait_for(lambda: bool(webhook_jobs()) and all(status == "dead" for status, _ in webhook_jobs()))
    assert receiver.paths == [] and all("non-public" in error for _, error in webhook_jobs())


class Rebinding(AbstractResolver):
    """A DNS answer chosen by the attacker: a public address and the metadata address."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        return [{"hostname": host, "host": a, "port": port, "family": family, "proto": 0, "flags": 0} for a in self.addresses]

    async def close(self) -> None:
        return None


async def test_the_resolver_hands_on_only_vetted_addresses() -> None:
    resolver = GuardedResolver(WebhookTargets(), Rebinding(["169.254.169.254", "93.184.216.34", "::ffff:10.0.0.1"]))
    assert [r["host"] for r in await resolver.resolve("evil.example.", 443)] == ["93.184.216.34"]
    with pytest.raises(NonPublicAddress):
        await GuardedResolver(WebhookTargets(), Rebinding(["169.254.169.254", "fd00::1"])).resolve("evil.example.", 443)


async def test_an_allowed_name_may_resolve_to_a_private_address() -> None:
    targets = WebhookTargets.from_config(("hooks.corp.local",))
    resolved: list[Any] = await GuardedResolver(targets, Rebinding(["10.0.0.7"])).resolve("hooks.corp.local.", 443)
    assert [r["host"] for r in resolved] == ["10.0.0.7"]
    with pytest.raises(NonPublicAddress):
        await GuardedResolver(targets, Rebinding(["10.0.0.7"])).resolve("other.corp.local.", 443)
