"""МЧД end to end: the HTTP API (``power_of_attorney`` part, registry on 127.0.0.1, staff
HTML stamp) and ``gateway check`` (``--power-of-attorney`` and recognition by content)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.config import Config, PoaConfig
from tests.pki.builder import KPK_NAME, TestPki
from tests.pki.poa import PoaSpec, issue_personal_certificates, write_signed_poa
from tests.servers.cli import gateway
from tests.servers.packages import (
    LETTER,
    MEMBER,
    ClientFactory,
    codes,
    letter_by_accountant,
    members_csv,
    run_package,
)

# The fixtures `config` and `client` of the intake tests, reused.



@pytest.fixture(scope="session")
def poa_pki(pki: TestPki) -> TestPki:
    return issue_personal_certificates(pki)


async def test_accountant_with_poa_part_is_accepted_and_the_staff_stamp_names_the_poa(client: TestClient, poa_pki: TestPki, tmp_path: Path) -> None:
    spec = PoaSpec()
    files = letter_by_accountant(poa_pki, tmp_path / "p") | {"power_of_attorney": list(write_signed_poa(poa_pki, tmp_path / "poa", spec))}
    report = await run_package(client, LETTER, files)
    assert report["decision"] == "accepted", report["checks"]
    cover = next(s for s in report["signatures"] if s["file"] == "Письмо.pdf")
    stamp = f"Подписано представителем по доверенности № {spec.number} от {spec.issued:%d.%m.%Y}"
    assert cover["power_of_attorney"]["valid"] is True and cover["power_of_attorney"]["stamp_ru"].startswith(stamp)
    assert {f["slot"] for f in report["files"]} == {"document", "signature", "attachment", "power_of_attorney"}
    submission_id = report["submission"]["id"]
    html = await (await client.get(f"/api/v1/submissions/{submission_id}/report?format=html")).text()
    assert stamp in html and f"действует до {spec.valid_until:%d.%m.%Y}" in html
    assert "Петрова Мария Сергеевна" in html and spec.powers_text in html
    assert KPK_NAME.replace('"', "&#34;") in html


async def test_accountant_without_poa_is_returned_with_poa_missing(client: TestClient, poa_pki: TestPki, tmp_path: Path) -> None:
    report = await run_package(client, LETTER, letter_by_accountant(poa_pki, tmp_path / "p"))
    assert report["decision"] == "returned"
    assert codes(report) == {"poa.missing"}
    html_check = next(c for c in report["checks"] if c["code"] == "poa.missing")
    assert "МЧД" in html_check["remedy_ru"]


async def test_poa_revoked_in_the_configured_registry_is_rejected(aiohttp_client: ClientFactory, aiohttp_server: Any, config: Config, poa_pki: TestPki, tmp_path: Path) -> None:
    spec = PoaSpec()
    asked: list[dict[str, str]] = []

    async def status(request: web.Request) -> web.Response:
        asked.append(dict(request.query))
        return web.json_response({"status": "revoked" if request.query.get("number") == spec.number else "active"})

    registry_app = web.Application()
    registry_app.router.add_get("/status", status)
    registry: TestServer = await aiohttp_server(registry_app, host="127.0.0.1")
    configured = dataclasses.replace(config, poa=PoaConfig(revoked_list=tmp_path / "none.txt", registry_url=str(registry.make_url("/status")), registry_timeout=5.0))
    client = await aiohttp_client(create_app(configured))
    poa = write_signed_poa(poa_pki, tmp_path / "poa", spec)
    report = await run_package(client, LETTER, letter_by_accountant(poa_pki, tmp_path / "p", list(poa)))
    assert report["decision"] == "rejected"
    assert codes(report) == {"poa.revoked"}
    assert asked and asked[0]["number"] == spec.number
    cover = next(s for s in report["signatures"] if s["file"] == "Письмо.pdf")
    assert cover["power_of_attorney"]["registry"]["consulted"] is True


async def test_openapi_lists_the_power_of_attorney_part(client: TestClient) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    schema = document["paths"]["/api/v1/submissions"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert "power_of_attorney" in schema["properties"]


def test_gateway_check_takes_the_poa_by_option_with_its_signature_beside_it(poa_pki: TestPki, tmp_path: Path) -> None:
    files = letter_by_accountant(poa_pki, tmp_path / "p")
    xml, _sig = write_signed_poa(poa_pki, tmp_path / "poa")
    run = gateway(
        "check", "--doc-type", "letter", "--member", MEMBER, "--members", members_csv(tmp_path / "m.csv"), "--trust", poa_pki.trust_dir,
        "--power-of-attorney", xml, *files["document"], *files["signature"], *files["attachment"],
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Подписано представителем по доверенности №" in run.stdout


def test_gateway_check_recognises_the_poa_among_the_files_by_content(poa_pki: TestPki, tmp_path: Path) -> None:
    files = letter_by_accountant(poa_pki, tmp_path / "p")
    xml, sig = write_signed_poa(poa_pki, tmp_path / "poa")
    renamed = xml.rename(xml.with_name("доверенность.xml"))
    sig = sig.rename(renamed.with_name("доверенность.xml.sig"))
    run = gateway(
        "check", "--doc-type", "letter", "--member", MEMBER, "--members", members_csv(tmp_path / "m.csv"), "--trust", poa_pki.trust_dir, "--json",
        *files["document"], *files["signature"], *files["attachment"], renamed, sig,
    )
    output = json.loads(run.stdout)
    assert run.returncode == 0, output["checks"]
    assert {f["slot"] for f in output["files"] if f["name"].startswith("доверенность")} == {"power_of_attorney"}
