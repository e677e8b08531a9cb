"""Red team: the portal key reading packages of a member other than the one it acts for.

The portal key is one key for every member (SPEC 1: the portal authenticates members, the
gateway the portal). docs/api.md promises the portal the status and JSON report of any id
it knows (ids are random); the listing, the «Движения» and the HTML report are scoped by
``?member=``. A portal that passes the member it acts for on the status and JSON report
too now gets the same scoping there (an IDOR in the portal — a member pasting another's
id — ends at the gateway): another member's package is 404, as if it did not exist. Without
``member`` the documented answer stays (backward compatible).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import AuthConfig, Config
from tests.pki.builder import TestPki
from tests.servers.packages import REPORT, ClientFactory, decided, report_zip, submit

PORTAL = {"X-API-Key": "portal-key-1"}


@pytest.fixture
async def keyed(aiohttp_client: ClientFactory, config: Config) -> TestClient:
    return await aiohttp_client(create_app(dataclasses.replace(config, auth=AuthConfig(api_keys={"portal": "portal-key-1", "staff": "staff-key-1"}))))


async def _package_of_42(client: TestClient, pki: TestPki, tmp_path: Path) -> str:
    response = await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]}, headers=PORTAL)
    assert response.status == 202, await response.text()
    submission_id: str = (await response.json())["id"]
    await decided(client, submission_id, headers=PORTAL)
    return submission_id


@pytest.mark.parametrize("route", ["", "/report", "/events"])
async def test_the_portal_naming_another_member_learns_nothing_of_the_package(keyed: TestClient, pki: TestPki, tmp_path: Path, route: str) -> None:
    submission_id = await _package_of_42(keyed, pki, tmp_path)
    for member in ("13", "042 ", "", "4"):
        response = await keyed.get(f"/api/v1/submissions/{submission_id}{route}", params={"member": member}, headers=PORTAL)
        assert response.status == 404, (member, await response.text())
        assert (await response.json())["error"]["code"] == "submission.not_found"
    assert (await keyed.get(f"/api/v1/submissions/{submission_id}{route}", params={"member": "42"}, headers=PORTAL)).status == 200


@pytest.mark.parametrize("route", ["", "/report"])
async def test_control_without_member_the_documented_answer_stays(keyed: TestClient, pki: TestPki, tmp_path: Path, route: str) -> None:
    submission_id = await _package_of_42(keyed, pki, tmp_path)
    assert (await keyed.get(f"/api/v1/submissions/{submission_id}{route}", headers=PORTAL)).status == 200


async def test_control_staff_key_reads_with_any_member_parameter(keyed: TestClient, pki: TestPki, tmp_path: Path) -> None:
    submission_id = await _package_of_42(keyed, pki, tmp_path)
    assert (await keyed.get(f"/api/v1/submissions/{submission_id}", params={"member": "13"}, headers={"X-API-Key": "staff-key-1"})).status == 200


async def test_every_api_answer_forbids_content_sniffing(keyed: TestClient, pki: TestPki, tmp_path: Path) -> None:
    """The JSON report carries member strings (file names, certificate names): a browser
    opening it must not guess HTML; errors and open routes alike."""
    submission_id = await _package_of_42(keyed, pki, tmp_path)
    for path, headers in (
        (f"/api/v1/submissions/{submission_id}/report", PORTAL),
        (f"/api/v1/submissions/{submission_id}", PORTAL),
        ("/api/v1/submissions/unknown", PORTAL),
        ("/api/v1/submissions", {}),
        ("/healthz", {}),
        ("/metrics", {}),
    ):
        response = await keyed.get(path, headers=headers)
        assert response.headers.get("X-Content-Type-Options") == "nosniff", (path, response.status)
