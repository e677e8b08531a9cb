"""Red team: ``external_id`` replayed by another member. The portal's idempotency key is
global; a request of member 13 under a key member 42 used answered 409 with the detail
``external_id belongs to submission <id of 42's package>`` — a handle on another
cooperative's package handed to whoever the portal shows errors to. The conflict is still
409, but only the package's own member learns its id; a replay never returns it."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient

from tests.pki.builder import TestPki
from tests.servers.packages import REPORT, report_zip, submit


async def test_another_members_replayed_external_id_is_a_conflict_that_names_no_submission(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    package = report_zip(pki, tmp_path)
    first = await submit(client, {**REPORT, "external_id": "portal-7"}, {"document": [package]})
    assert first.status == 202
    first_id = (await first.json())["id"]
    replay = await submit(client, {**REPORT, "member": "13", "external_id": "portal-7"}, {"document": [package]})
    body = await replay.text()
    assert replay.status == 409, body
    assert first_id not in body


async def test_the_same_members_conflicting_external_id_names_its_submission(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    first = await submit(client, {**REPORT, "external_id": "portal-8"}, {"document": [report_zip(pki, tmp_path)]})
    first_id = (await first.json())["id"]
    other = await submit(client, {**REPORT, "report_kind": "PS", "external_id": "portal-8"}, {"document": [report_zip(pki, tmp_path)]})
    assert other.status == 409
    assert first_id in (await other.json())["error"]["detail"]
