"""`POST /api/v1/verify` and `/healthz` on a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from gateway.app import create_app
from gateway.config import AuthConfig, Config, StorageConfig, VerificationConfig
from tests.pki.builder import TestPki
from tests.servers.cli import gateway
from tests.servers.packages import ClientFactory
from tests.servers.verify import make_config, verify_form


@pytest.mark.asyncio
async def test_verify_endpoint_returns_the_same_json_as_the_cli(
    aiohttp_client: ClientFactory, pki: TestPki, document: Path, tmp_path: Path
) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    client = await aiohttp_client(create_app(make_config(pki, tmp_path / "var")))
    response = await client.post("/api/v1/verify", data=verify_form(document, sig))
    assert response.status == 200
    body = await response.json()
    cli = json.loads(gateway("verify", document, "--signature", sig, "--trust", pki.trust_dir, "--json").stdout)
    assert body["indication"] == cli["indication"] == "TOTAL_PASSED"
    assert body["document"]["name"] == document.name
    assert body["document"]["sha256"] == cli["document"]["sha256"]
    assert body["signatures"][0]["signer"] == cli["signatures"][0]["signer"]
    assert [c["name"] for c in body["signatures"][0]["checks"]] == [c["name"] for c in cli["signatures"][0]["checks"]]


@pytest.mark.asyncio
async def test_verify_endpoint_reports_an_attached_signature(
    aiohttp_client: ClientFactory, pki: TestPki, document: Path, tmp_path: Path
) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig", attached=True)
    client = await aiohttp_client(create_app(make_config(pki, tmp_path / "var")))
    response = await client.post("/api/v1/verify", data=verify_form(sig, None))
    body = await response.json()
    assert response.status == 200 and body["signatures"][0]["kind"] == "attached"


@pytest.mark.asyncio
async def test_verify_endpoint_reports_a_forged_signature_as_failed(
    aiohttp_client: ClientFactory, pki: TestPki, document: Path, tmp_path: Path
) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    document.write_bytes(document.read_bytes() + b"appended after signing")
    client = await aiohttp_client(create_app(make_config(pki, tmp_path / "var")))
    body = await (await client.post("/api/v1/verify", data=verify_form(document, sig))).json()
    assert (body["indication"], body["signatures"][0]["sub_indication"]) == ("TOTAL_FAILED", "HASH_FAILURE")


@pytest.mark.asyncio
async def test_verify_without_document_is_a_400_in_russian(aiohttp_client: ClientFactory, pki: TestPki, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(make_config(pki, tmp_path / "var")))
    form = aiohttp.FormData()
    form.add_field("other", b"x", filename="x")
    response = await client.post("/api/v1/verify", data=form)
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "request.no_document" and "документ" in error["message_ru"]


@pytest.mark.asyncio
async def test_oversized_upload_is_cut_off_with_413(aiohttp_client: ClientFactory, pki: TestPki, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * 300_000)
    client = await aiohttp_client(create_app(make_config(pki, tmp_path / "var", max_request_bytes=100_000)))
    response = await client.post("/api/v1/verify", data=verify_form(big, None))
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "request.too_large"


@pytest.mark.asyncio
async def test_api_key_is_required_when_configured(aiohttp_client: ClientFactory, pki: TestPki, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    config = Config(
        verification=VerificationConfig(trust_dir=pki.trust_dir),
        auth=AuthConfig(api_keys={"portal": "k-portal-123", "staff": "k-staff-456"}),
        storage=StorageConfig(data_dir=tmp_path / "var", members_csv=tmp_path / "members.csv"),
    )
    client = await aiohttp_client(create_app(config))
    assert (await client.post("/api/v1/verify", data=verify_form(document, sig))).status == 401
    wrong = await client.post("/api/v1/verify", data=verify_form(document, sig), headers={"X-API-Key": "k-portal-124"})
    assert wrong.status == 401
    right = await client.post("/api/v1/verify", data=verify_form(document, sig), headers={"X-API-Key": "k-staff-456"})
    assert right.status == 200


@pytest.mark.asyncio
async def test_healthz_reports_gost_and_trust_store(aiohttp_client: ClientFactory, pki: TestPki, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(make_config(pki, tmp_path / "var")))
    body = await (await client.get("/healthz")).json()
    assert body["status"] == "ok"
    assert body["gost"]["available"] is True
    assert body["trust_store"]["roots"] == 2 and body["trust_store"]["problems"] == []


@pytest.mark.asyncio
async def test_non_multipart_body_is_a_400(aiohttp_client: ClientFactory, pki: TestPki, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(make_config(pki, tmp_path / "var")))
    response = await client.post("/api/v1/verify", data=b"plain", headers={"Content-Type": "text/plain"})
    assert response.status == 400


@pytest.mark.asyncio
async def test_uploaded_file_name_with_path_parts_is_reduced_to_its_last_part(
    aiohttp_client: ClientFactory, pki: TestPki, document: Path, tmp_path: Path
) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    form = aiohttp.FormData()
    form.add_field("document", document.read_bytes(), filename="../../etc/Отчет.pdf")
    form.add_field("signature", sig.read_bytes(), filename="..\\x.sig")
    client = await aiohttp_client(create_app(make_config(pki, tmp_path / "var")))
    body = await (await client.post("/api/v1/verify", data=form)).json()
    assert body["document"]["name"] == "Отчет.pdf"
    assert body["signatures"][0]["signature_file"] == "x.sig"
