"""Delivery after the decision: the outbox, the registry (local and a real HTTP server on
127.0.0.1), status emails (.eml folder and a real aiosmtpd server), registry events and
notices. Loops are bounded."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.config import AuthConfig, Config, MailConfig
from gateway.delivery.errors import PermanentDelivery
from gateway.delivery.handlers import JobHandlers
from gateway.delivery.mail.compose import MailSettings
from gateway.delivery.mail.transport import EmlFolderTransport
from gateway.delivery.outbox import Job
from gateway.delivery.registry.local import LocalRegistry
from gateway.keys import OUTBOX_WORKER_KEY
from gateway.store.blobs import BlobStore
from gateway.store.db import Database
from gateway.store.submissions import SubmissionRepository
from tests.pki.builder import HEAD_EMAIL, TestPki
from tests.servers.cli import gateway
from tests.servers.mail import eml_messages, text_of
from tests.servers.packages import (
    MEMBER,
    REPORT,
    outbox_rows,
    report_zip,
    run_package,
    status_of,
    submit,
    wait_for,
)
from tests.servers.registry import RecordingRegistry
from tests.servers.smtp import Recorder

ClientFactory = Callable[..., Awaitable[TestClient]]
ServerFactory = Callable[..., Awaitable[TestServer]]


# --- local registry and .eml mail (the embedded defaults) ---------------------------------


async def test_accepted_package_is_registered_locally_and_the_member_is_told(aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(delivery_config))
    response = await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})
    submission_id = (await response.json())["id"]

    async def registered() -> bool:
        return (await status_of(client, submission_id))["status"] == "registered"

    await wait_for(registered)
    status = await status_of(client, submission_id)
    assert status["incoming_number"].startswith("ВХ-") and status["incoming_number"].endswith("-000001")
    await wait_for(lambda: len(eml_messages(tmp_path / "mail")) == 2)
    messages = {m["To"]: m for m in eml_messages(tmp_path / "mail")}
    subjects = sorted(m["Subject"] for m in eml_messages(tmp_path / "mail"))
    assert all(m["To"] == HEAD_EMAIL for m in eml_messages(tmp_path / "mail"))
    assert any(status["incoming_number"] in text_of(m) for m in eml_messages(tmp_path / "mail")), subjects
    assert messages


async def test_returned_package_email_lists_the_problems_and_attaches_the_report(aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(delivery_config))
    await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path, label="accountant256")]})
    await wait_for(lambda: len(eml_messages(tmp_path / "mail")) == 1)
    [message] = eml_messages(tmp_path / "mail")
    body = text_of(message)
    assert "руководител" in body.lower()
    attachments = [part.get_filename() for part in message.iter_attachments()]
    assert attachments and attachments[0].endswith(".html")


# --- a real HTTP registry on loopback -------------------------------------------------------


async def _with_registry(aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, config: Config, registry: RecordingRegistry, **delivery: Any) -> TestClient:
    server = await aiohttp_server(registry.app())
    settings = dataclasses.replace(config.delivery, registry_url=str(server.make_url("")), **delivery)
    return await aiohttp_client(create_app(dataclasses.replace(config, delivery=settings)))


async def _registered(client: TestClient, submission_id: str) -> dict[str, Any]:
    async def done() -> bool:
        return (await status_of(client, submission_id))["status"] == "registered"

    await wait_for(done)
    return await status_of(client, submission_id)


async def test_registry_outage_is_retried_until_the_package_is_registered_once(aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    registry = RecordingRegistry([(503, {}), (503, {})])
    client = await _with_registry(aiohttp_server, aiohttp_client, delivery_config, registry)
    response = await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})
    status = await _registered(client, (await response.json())["id"])
    assert status["incoming_number"] == "R-0001"
    assert registry.posts == 3 and len(registry.numbers) == 1


async def test_registry_retry_after_is_honoured(aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    registry = RecordingRegistry([(429, {"Retry-After": "1"})])
    client = await _with_registry(aiohttp_server, aiohttp_client, delivery_config, registry, max_delay=5.0)
    response = await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})
    started = asyncio.get_running_loop().time()
    await _registered(client, (await response.json())["id"])
    assert asyncio.get_running_loop().time() - started >= 0.9


async def test_slow_registry_answers_past_the_timeout_are_retried(aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    registry = RecordingRegistry(delay=0.6)
    client = await _with_registry(aiohttp_server, aiohttp_client, delivery_config, registry, registry_timeout=0.3, max_attempts=3)
    response = await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})
    submission_id = (await response.json())["id"]

    async def dead() -> bool:
        rows = await asyncio.to_thread(_outbox_rows, delivery_config)
        return any(r["kind"] == "registry" and r["status"] == "dead" for r in rows)

    await wait_for(dead, 30)
    assert (await status_of(client, submission_id))["status"] == "accepted"
    assert registry.posts == 3


async def test_registry_refusal_goes_to_the_dead_letter_with_its_message(aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    registry = RecordingRegistry([(400, {})])
    client = await _with_registry(aiohttp_server, aiohttp_client, delivery_config, registry)
    await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})

    async def dead() -> list[dict[str, Any]]:
        return [r for r in await asyncio.to_thread(_outbox_rows, delivery_config) if r["status"] == "dead"]

    await wait_for(lambda: dead())
    [row] = await dead()
    assert row["kind"] == "registry" and "400" in row["last_error"] and "scripted" in row["last_error"]
    assert registry.posts == 1


_outbox_rows = outbox_rows


# --- registry events and notices -------------------------------------------------------------


async def test_staff_decision_event_is_recorded_and_emailed_once(aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    keyed = dataclasses.replace(delivery_config, auth=AuthConfig(api_keys={"portal": "p-key", "staff": "s-key", "registry": "r-key"}))
    client = await aiohttp_client(create_app(keyed))
    portal, registry = {"X-API-Key": "p-key"}, {"X-API-Key": "r-key"}
    response = await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]}, portal)
    submission_id = (await response.json())["id"]

    async def registered() -> bool:
        return (await (await client.get(f"/api/v1/submissions/{submission_id}", headers=portal)).json())["status"] == "registered"

    await wait_for(registered)
    event = {"submission_id": submission_id, "decision": "verified", "comment": "Замечаний нет"}
    assert (await client.post("/api/v1/registry/events", json=event, headers=portal)).status == 403
    first = await (await client.post("/api/v1/registry/events", json=event, headers=registry)).json()
    second = await (await client.post("/api/v1/registry/events", json=event, headers=registry)).json()
    assert first["event_id"] == second["event_id"] and second["duplicate"] is True
    await wait_for(lambda: len(eml_messages(tmp_path / "mail")) == 3)
    status = await (await client.get(f"/api/v1/submissions/{submission_id}", headers=portal)).json()
    assert (status["staff_decision"], status["staff_comment"]) == ("verified", "Замечаний нет")
    assert sum("Замечаний нет" in text_of(m) for m in eml_messages(tmp_path / "mail")) == 1


async def test_event_for_an_unregistered_package_is_refused(aiohttp_client: ClientFactory, delivery_config: Config) -> None:
    client = await aiohttp_client(create_app(delivery_config))
    response = await client.post("/api/v1/registry/events", json={"submission_id": "nope", "decision": "verified"})
    assert response.status == 404
    assert (await client.post("/api/v1/registry/events", json={"submission_id": "x", "decision": "maybe"})).status == 400


async def test_document_notice_emails_the_member(aiohttp_client: ClientFactory, delivery_config: Config, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(delivery_config))
    response = await client.post("/api/v1/notices", json={"kind": "document", "member": MEMBER, "title": "Акт проверки № 5", "notice_id": "n-1"})
    assert response.status == 202 and (await response.json())["emails"] == 1
    again = await (await client.post("/api/v1/notices", json={"kind": "document", "member": MEMBER, "title": "Акт проверки № 5", "notice_id": "n-1"})).json()
    assert again["duplicate"] is True and again["emails"] == 0
    await wait_for(lambda: len(eml_messages(tmp_path / "mail")) == 1)
    [message] = eml_messages(tmp_path / "mail")
    assert "Акт проверки № 5" in text_of(message)


async def test_mass_mailing_reaches_every_active_member_and_not_the_excluded(aiohttp_client: ClientFactory, delivery_config: Config, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(delivery_config))
    response = await client.post("/api/v1/notices", json={"kind": "mass", "subject": "Изменение реквизитов", "body": "Новые реквизиты СРО <b>в приложении</b>"})
    assert (await response.json())["emails"] == 1  # one active member in the test list (the other is excluded)
    await wait_for(lambda: len(eml_messages(tmp_path / "mail")) == 1)
    [message] = eml_messages(tmp_path / "mail")
    assert message["To"] == HEAD_EMAIL and "Новые реквизиты" in text_of(message)


async def test_daily_digest_lists_the_days_returned_and_rejected_packages(aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    from datetime import datetime

    from gateway.delivery.digest import enqueue_digest
    from gateway.keys import REPOSITORY_KEY

    app = create_app(delivery_config)
    client = await aiohttp_client(app)
    await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path, label="accountant256")]})
    day = datetime.now(UTC).date().isoformat()
    assert await asyncio.to_thread(enqueue_digest, app[REPOSITORY_KEY], "staff@sro.local", day)
    assert not await asyncio.to_thread(enqueue_digest, app[REPOSITORY_KEY], "staff@sro.local", day)
    app[OUTBOX_WORKER_KEY].wake()  # type: ignore[attr-defined]
    await wait_for(lambda: any(m["To"] == "staff@sro.local" for m in eml_messages(tmp_path / "mail")))
    digest = next(m for m in eml_messages(tmp_path / "mail") if m["To"] == "staff@sro.local")
    assert "Возвращен на доработку" in text_of(digest)


# --- a real SMTP server on loopback ------------------------------------------------------------


async def test_emails_go_through_a_real_smtp_server(aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    from aiosmtpd.smtp import SMTP

    recorder = Recorder()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(recorder, hostname="127.0.0.1"), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        mail = MailConfig(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", eml_dir=tmp_path / "unused")
        client = await aiohttp_client(create_app(dataclasses.replace(delivery_config, mail=mail)))
        await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path, label="accountant256")]})
        await wait_for(lambda: len(recorder.messages) == 1)
        [message] = recorder.messages
        assert message["To"] == HEAD_EMAIL
        assert "руководител" in text_of(message).lower()
        assert [p.get_filename() for p in message.iter_attachments()]
        assert message["Message-ID"].startswith("<outbox-")
    finally:
        server.close()
        await server.wait_closed()


async def test_dead_letter_is_listed_and_retried_from_the_command_line(aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    registry = RecordingRegistry([(400, {})])
    client = await _with_registry(aiohttp_server, aiohttp_client, delivery_config, registry)
    response = await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})
    submission_id = (await response.json())["id"]

    async def dead() -> list[dict[str, Any]]:
        return [r for r in await asyncio.to_thread(_outbox_rows, delivery_config) if r["status"] == "dead"]

    await wait_for(lambda: dead())
    [row] = await dead()
    config_file = tmp_path / "cli.toml"
    config_file.write_text(f'[storage]\ndata_dir = "{delivery_config.storage.data_dir}"\n', encoding="utf-8")
    listing = await asyncio.to_thread(gateway, "--config", config_file, "outbox", "list", "--status", "dead")
    assert listing.returncode == 0 and f"registry:{submission_id}" in listing.stdout and "400" in listing.stdout
    shown = await asyncio.to_thread(gateway, "--config", config_file, "outbox", "show", str(row["id"]))
    assert '"status": "dead"' in shown.stdout
    retried = await asyncio.to_thread(gateway, "--config", config_file, "outbox", "retry", str(row["id"]))
    assert retried.returncode == 0
    client.app[OUTBOX_WORKER_KEY].wake()  # type: ignore[attr-defined]
    await _registered(client, submission_id)  # the registry answers normally the second time
    metrics = await (await client.get("/metrics")).text()
    assert 'gateway_outbox_jobs{kind="registry",status="done"} 1' in metrics


# --- handler invariants -------------------------------------------------------------------


def _handlers(tmp_path: Path) -> JobHandlers:
    return JobHandlers(
        SubmissionRepository(Database(tmp_path / "gateway.sqlite3")),
        BlobStore(tmp_path / "files"),
        LocalRegistry(tmp_path / "registry.sqlite3", tmp_path / "registry"),
        EmlFolderTransport(tmp_path / "eml"),
        MailSettings(),
    )


async def test_registry_job_without_a_submission_fails_permanently(tmp_path: Path) -> None:
    job = Job(1, "registry", "registry", "registry:none", None, {}, 0)
    with pytest.raises(PermanentDelivery, match="no submission id"):
        await _handlers(tmp_path).registry_job(job)


async def test_registry_job_for_a_submission_not_in_the_database_fails_permanently(tmp_path: Path) -> None:
    job = Job(2, "registry", "registry", "registry:S-0000-0000", "S-0000-0000", {}, 0)
    with pytest.raises(PermanentDelivery, match="S-0000-0000"):
        await _handlers(tmp_path).registry_job(job)
