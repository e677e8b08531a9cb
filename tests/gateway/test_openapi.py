"""The OpenAPI document against the running service: every route is described, and real
answers (status, content type, body) match what the document says."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator

from gateway.app import create_app
from gateway.config import AuthConfig, Config
from tests.pki.builder import TestPki
from tests.servers.packages import MEMBER, REPORT, report_zip, status_of, submit, wait_for

ClientFactory = Callable[..., Awaitable[TestClient]]


class Contract:
    """Checks answers against the served document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.seen: set[tuple[str, str, int]] = set()

    async def check(self, response: aiohttp.ClientResponse, path: str, method: str) -> Any:
        operation = self.document["paths"][path][method]
        documented = operation["responses"].get(str(response.status))
        assert documented is not None, f"{method.upper()} {path} answered {response.status}, not in the document: {await response.text()}"
        self.seen.add((path, method, response.status))
        content = documented.get("content")
        if not content:
            return None
        kind = response.content_type
        assert kind in content, f"{method.upper()} {path} {response.status}: {kind} not among {list(content)}"
        schema = content[kind].get("schema")
        if kind != "application/json":
            return await response.text()
        body = await response.json()
        if schema is not None:
            Draft202012Validator({**schema, "components": self.document["components"]}).validate(body)
        return body


@pytest.fixture
async def contract(aiohttp_client: ClientFactory, config: Config) -> Contract:
    client = await aiohttp_client(create_app(config))
    return Contract(await (await client.get("/api/v1/openapi.json")).json())


def test_every_schema_is_valid_json_schema(config: Config) -> None:
    from gateway.http.openapi_spec import full_document

    for schema in full_document()["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)  # raises on a broken schema


async def test_every_route_of_the_service_is_described(aiohttp_client: ClientFactory, config: Config) -> None:
    app = create_app(config)
    client = await aiohttp_client(app)
    document = await (await client.get("/api/v1/openapi.json")).json()
    missing = []
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method in ("HEAD", "*") or path.startswith("/staff"):
            continue  # the staff workspace is HTML for people, not API
        if route.method.lower() not in document["paths"].get(path, {}):
            missing.append(f"{route.method} {path}")
    assert not missing, missing


async def test_real_answers_match_the_document(aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(delivery_config))
    contract = Contract(await (await client.get("/api/v1/openapi.json")).json())
    await contract.check(await client.get("/healthz"), "/healthz", "get")
    await contract.check(await client.get("/api/v1/openapi.json"), "/api/v1/openapi.json", "get")

    package = report_zip(pki, tmp_path)
    created = await contract.check(await submit(client, {**REPORT, "external_id": "e-1"}, {"document": [package]}), "/api/v1/submissions", "post")
    submission_id = created["id"]
    await contract.check(await submit(client, {**REPORT, "external_id": "e-1"}, {"document": [package]}), "/api/v1/submissions", "post")
    await contract.check(await submit(client, {**REPORT, "report_kind": "OD_H1", "external_id": "e-1"}, {"document": [package]}), "/api/v1/submissions", "post")
    await contract.check(await submit(client, {**REPORT, "doc_type": "poem"}, {"document": [package]}), "/api/v1/submissions", "post")

    async def registered() -> bool:
        return (await status_of(client, submission_id))["status"] == "registered"

    await wait_for(registered)
    await contract.check(await client.get(f"/api/v1/submissions/{submission_id}"), "/api/v1/submissions/{id}", "get")
    await contract.check(await client.get("/api/v1/submissions/nope"), "/api/v1/submissions/{id}", "get")
    await contract.check(await client.get(f"/api/v1/submissions/{submission_id}/report"), "/api/v1/submissions/{id}/report", "get")
    await contract.check(await client.get(f"/api/v1/submissions/{submission_id}/report?format=html"), "/api/v1/submissions/{id}/report", "get")
    await contract.check(await client.get("/api/v1/submissions/nope/report"), "/api/v1/submissions/{id}/report", "get")
    await contract.check(await client.get(f"/api/v1/submissions/{submission_id}/events"), "/api/v1/submissions/{id}/events", "get")
    await contract.check(await client.get("/api/v1/submissions/nope/events"), "/api/v1/submissions/{id}/events", "get")
    page = await contract.check(await client.get("/api/v1/submissions?limit=1&decision=accepted"), "/api/v1/submissions", "get")
    assert page["items"][0]["id"] == submission_id
    await contract.check(await client.get("/api/v1/submissions?limit=0"), "/api/v1/submissions", "get")

    event = {"submission_id": submission_id, "decision": "verified", "comment": ""}
    await contract.check(await client.post("/api/v1/registry/events", json=event), "/api/v1/registry/events", "post")
    await contract.check(await client.post("/api/v1/registry/events", json={**event, "decision": "ok"}), "/api/v1/registry/events", "post")
    await contract.check(await client.post("/api/v1/registry/events", json={**event, "submission_id": "nope"}), "/api/v1/registry/events", "post")
    await contract.check(await client.post("/api/v1/notices", json={"kind": "mass", "subject": "Тема", "body": "Текст"}), "/api/v1/notices", "post")
    await contract.check(await client.post("/api/v1/notices", json={"kind": "other"}), "/api/v1/notices", "post")
    await contract.check(await client.post("/api/v1/notices", json={"kind": "document", "member": "999", "title": "X"}), "/api/v1/notices", "post")

    signed = tmp_path / "verify"
    signed.mkdir()
    document = signed / "doc.txt"
    document.write_bytes("Документ".encode())
    signature = pki.sign("head256", document, signed / "doc.txt.sig")
    form = aiohttp.FormData()
    form.add_field("document", document.read_bytes(), filename=document.name)
    form.add_field("signature", signature.read_bytes(), filename=signature.name)
    verified = await contract.check(await client.post("/api/v1/verify?revocation=soft", data=form), "/api/v1/verify", "post")
    assert verified["signatures"][0]["indication"] == "TOTAL_PASSED"
    empty = aiohttp.FormData()
    empty.add_field("other", b"x", filename="x")
    await contract.check(await client.post("/api/v1/verify", data=empty), "/api/v1/verify", "post")

    hook = await contract.check(await client.post("/api/v1/webhooks", json={"url": "https://portal.example/hook"}), "/api/v1/webhooks", "post")
    await contract.check(await client.post("/api/v1/webhooks", json={"url": "file:///etc/passwd"}), "/api/v1/webhooks", "post")
    await contract.check(await client.get("/api/v1/webhooks"), "/api/v1/webhooks", "get")
    await contract.check(await client.delete(f"/api/v1/webhooks/{hook['id']}"), "/api/v1/webhooks/{id}", "delete")
    await contract.check(await client.delete(f"/api/v1/webhooks/{hook['id']}"), "/api/v1/webhooks/{id}", "delete")
    metrics = await client.get("/metrics")
    assert await contract.check(metrics, "/metrics", "get")


async def test_refusals_by_key_match_the_document(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    keyed = dataclasses.replace(config, auth=AuthConfig(api_keys={"portal": "portal-key-1", "registry": "registry-key-3"}))
    client = await aiohttp_client(create_app(keyed))
    contract = Contract(await (await client.get("/api/v1/openapi.json")).json())
    portal = {"X-API-Key": "portal-key-1"}
    registry = {"X-API-Key": "registry-key-3"}
    await contract.check(await client.get("/api/v1/submissions"), "/api/v1/submissions", "get")
    await contract.check(await client.get("/api/v1/submissions", headers=portal), "/api/v1/submissions", "get")
    await contract.check(await client.get(f"/api/v1/submissions?member={MEMBER}", headers=portal), "/api/v1/submissions", "get")
    await contract.check(await client.post("/api/v1/registry/events", json={"decision": "verified"}, headers=portal), "/api/v1/registry/events", "post")
    await contract.check(await client.post("/api/v1/notices", json={"kind": "mass"}, headers=portal), "/api/v1/notices", "post")
    await contract.check(await client.get("/api/v1/webhooks", headers=registry), "/api/v1/webhooks", "get")
    await contract.check(await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]}, registry), "/api/v1/submissions", "post")
    await contract.check(await client.get("/api/v1/submissions/x/events", headers=registry), "/api/v1/submissions/{id}/events", "get")
