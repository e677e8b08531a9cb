"""«Движения» (submission events) and the submission list API, through the real server on
127.0.0.1 with the embedded registry and the .eml mail folder."""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import AuthConfig, Config
from gateway.delivery.outbox import Job, Outbox
from gateway.store.db import Database
from gateway.store.events import events_of
from gateway.store.submissions import NewSubmission, SubmissionRepository
from tests.pki.builder import TestPki
from tests.servers.mail import eml_messages
from tests.servers.packages import MEMBER, REPORT, decided, report_zip, status_of, submit, wait_for

ClientFactory = Callable[..., Awaitable[TestClient]]


async def events(client: TestClient, submission_id: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/submissions/{submission_id}/events", headers=headers or {})
    assert response.status == 200, await response.text()
    return (await response.json())["events"]


async def registered_package(client: TestClient, pki: TestPki, tmp_path: Path, mail: Path) -> str:
    response = await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})
    submission_id = (await response.json())["id"]

    async def done() -> bool:
        return (await status_of(client, submission_id))["status"] == "registered"

    await wait_for(done)
    await wait_for(lambda: len(eml_messages(mail)) == 2)
    return submission_id


async def test_accepted_package_timeline_runs_from_received_to_registered_and_emailed(
    aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(delivery_config))
    submission_id = await registered_package(client, pki, tmp_path, tmp_path / "mail")
    timeline = await events(client, submission_id)
    kinds = [e["kind"] for e in timeline]
    assert kinds[:3] == ["received", "validation_started", "decision"]
    assert kinds.count("email_sent") == 2 and "registered" in kinds
    registered = next(e for e in timeline if e["kind"] == "registered")
    status = await status_of(client, submission_id)
    assert registered["detail"]["incoming_number"] == status["incoming_number"]
    assert status["incoming_number"] in registered["title_ru"]
    assert timeline[0]["actor"] == "portal" and registered["actor"] == "registry"
    assert [e["id"] for e in timeline] == sorted(e["id"] for e in timeline)


async def test_staff_decision_from_the_registry_appears_in_the_timeline_with_its_comment(
    aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(delivery_config))
    submission_id = await registered_package(client, pki, tmp_path, tmp_path / "mail")
    response = await client.post("/api/v1/registry/events", json={"submission_id": submission_id, "decision": "returned", "comment": "Нет приложения 3"})
    assert response.status == 200
    [staff] = [e for e in await events(client, submission_id) if e["kind"] == "staff_decision"]
    assert staff["detail"]["decision"] == "returned" and staff["detail"]["comment"] == "Нет приложения 3"
    assert "Возвращен на доработку" in staff["title_ru"] and "Нет приложения 3" in staff["title_ru"]
    again = await client.post("/api/v1/registry/events", json={"submission_id": submission_id, "decision": "returned", "comment": "Нет приложения 3"})
    assert (await again.json())["duplicate"] is True
    assert len([e for e in await events(client, submission_id) if e["kind"] == "staff_decision"]) == 1


def test_dead_email_is_recorded_as_not_delivered(tmp_path: Path) -> None:
    database = Database(tmp_path / "g.sqlite3")
    submission_id, _ = SubmissionRepository(database).create(NewSubmission(MEMBER, "charter", None, None, None), [])
    job = Job(1, "email", "smtp", "email:x", submission_id, {"kind": "returned", "to": "head@example.ru"}, 12)
    Outbox(database).bury(job, "550 mailbox unavailable")
    with database.transaction() as connection:
        last = events_of(connection, submission_id)[-1]
    assert last.kind == "email_failed" and last.detail["to"] == "head@example.ru" and "550" in last.detail["error"]


def test_a_second_claim_is_recorded_as_revalidation(tmp_path: Path) -> None:
    repository = SubmissionRepository(Database(tmp_path / "g.sqlite3"))
    submission_id, _ = repository.create(NewSubmission(MEMBER, "charter", None, None, None), [])
    assert repository.claim(submission_id) and repository.claim(submission_id)
    with repository.db.transaction() as connection:
        kinds = [(e.kind, e.detail.get("attempt")) for e in events_of(connection, submission_id)]
    assert kinds == [("received", None), ("validation_started", 1), ("revalidation", 2)]


# --- GET /api/v1/submissions ------------------------------------------------------------------


async def _two_packages(client: TestClient, pki: TestPki, tmp_path: Path) -> tuple[str, str]:
    good = await submit(client, {**REPORT, "external_id": "p-good"}, {"document": [report_zip(pki, tmp_path / "a")]})
    bad = await submit(client, {**REPORT, "external_id": "p-bad"}, {"document": [report_zip(pki, tmp_path / "b", label="accountant256")]})
    ids = (await good.json())["id"], (await bad.json())["id"]
    for submission_id in ids:
        await decided(client, submission_id)
    return ids


@pytest.fixture
def folders(tmp_path: Path) -> Path:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    return tmp_path


async def test_list_filters_by_decision_member_name_and_text(aiohttp_client: ClientFactory, config: Config, pki: TestPki, folders: Path) -> None:
    client = await aiohttp_client(create_app(config))
    good, bad = await _two_packages(client, pki, folders)

    async def ids(query: str) -> list[str]:
        response = await client.get("/api/v1/submissions?" + query)
        assert response.status == 200, await response.text()
        return [item["id"] for item in (await response.json())["items"]]

    assert set(await ids("")) == {good, bad}
    assert await ids("decision=returned") == [bad]
    assert set(await ids("member=" + urllib.parse.quote("ТЕСТ"))) == {good, bad}
    assert set(await ids("q=" + urllib.parse.quote("тест"))) == {good, bad}
    assert await ids("member=" + urllib.parse.quote("Несуществующий")) == []
    assert await ids("member=13") == []
    assert await ids("q=p-good") == [good]
    assert set(await ids(f"q={MEMBER}_OD.zip")) == {good, bad}
    assert await ids("doc_type=charter") == []
    assert set(await ids("received_from=2000-01-01&received_to=2999-12-31")) == {good, bad}
    assert await ids("received_to=01.01.2000") == []


async def test_cursor_paging_visits_every_package_once_newest_first(aiohttp_client: ClientFactory, config: Config, pki: TestPki, folders: Path) -> None:
    client = await aiohttp_client(create_app(config))
    created = await _two_packages(client, pki, folders)
    seen: list[str] = []
    url = "/api/v1/submissions?limit=1"
    for _ in range(5):
        body = await (await client.get(url)).json()
        seen += [item["id"] for item in body["items"]]
        assert body["total"] == 2
        if not body["next_cursor"]:
            break
        url = f"/api/v1/submissions?limit=1&cursor={body['next_cursor']}"
    assert sorted(seen) == sorted(created) and len(seen) == 2
    assert (await client.get("/api/v1/submissions?cursor=%%%")).status == 400
    assert (await client.get("/api/v1/submissions?limit=0")).status == 400


async def test_portal_key_sees_only_the_member_it_names(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    keyed = dataclasses.replace(config, auth=AuthConfig(api_keys={"portal": "portal-key-1", "staff": "staff-key-2"}))
    client = await aiohttp_client(create_app(keyed))
    portal = {"X-API-Key": "portal-key-1"}
    submission_id = (await (await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]}, portal)).json())["id"]
    assert (await client.get("/api/v1/submissions", headers=portal)).status == 400
    other = await (await client.get("/api/v1/submissions?member=13", headers=portal)).json()
    assert other["items"] == [] and other["total"] == 0
    mine = await (await client.get(f"/api/v1/submissions?member={MEMBER}", headers=portal)).json()
    assert [i["id"] for i in mine["items"]] == [submission_id]
    assert (await client.get(f"/api/v1/submissions/{submission_id}/events?member=13", headers=portal)).status == 404
    response = await client.get(f"/api/v1/submissions/{submission_id}/events?member={MEMBER}", headers=portal)
    assert response.status == 200 and (await response.json())["events"][0]["kind"] == "received"
