"""The portal contract of POST /api/v1/submissions: the portal's mistakes are 400 at once
(nothing stored, nobody emailed), external_id reuse is a retry or a 409."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from gateway.config import Config
from tests.pki.builder import TestPki
from tests.servers.packages import MEMBER, REPORT, report_zip, submit

ClientFactory = Callable[..., Awaitable[TestClient]]


async def total(client: TestClient) -> int:
    return int((await (await client.get("/api/v1/submissions")).json())["total"])


@pytest.mark.parametrize(
    "fields, code, words",
    [
        ({"member": MEMBER, "doc_type": "reprot", "report_kind": "OD_Q1"}, "request.doc_type", "Неизвестный вид документа «reprot»"),
        ({"member": MEMBER, "doc_type": "report"}, "request.report_kind", "укажите вид отчёта"),
        ({"member": MEMBER, "doc_type": "report", "report_kind": "OD_Q5"}, "request.report_kind", "Неизвестный вид отчёта «OD_Q5»"),
        ({"member": MEMBER, "doc_type": "regulation"}, "request.regulation_kind", "укажите его вид"),
        ({"member": MEMBER, "doc_type": "regulation", "regulation_kind": "lunch"}, "request.regulation_kind", "Неизвестный вид положения «lunch»"),
        ({"member": "999", "doc_type": "report", "report_kind": "OD_Q1"}, "member.unknown", "не найден в реестре членов СРО"),
        ({**REPORT, "report_year": "20x5"}, "request.report_year", "отчётный год"),
        ({**REPORT, "report_year": "1999"}, "request.report_year", "отчётный год"),
    ],
)
async def test_portal_mistakes_are_400_in_russian_and_store_nothing(client: TestClient, pki: TestPki, tmp_path: Path, fields: dict[str, str], code: str, words: str) -> None:
    response = await submit(client, fields, {"document": [report_zip(pki, tmp_path)]})
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == code and words in error["message_ru"]
    assert await total(client) == 0


async def test_excluded_member_still_goes_through_the_check(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    response = await submit(client, {**REPORT, "member": "13"}, {"document": [report_zip(pki, tmp_path, name="13_OD.zip")]})
    assert response.status == 202


async def test_same_external_id_with_the_same_package_is_a_retry(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    package = report_zip(pki, tmp_path)
    first = await submit(client, {**REPORT, "external_id": "portal-7"}, {"document": [package]})
    again = await submit(client, {**REPORT, "external_id": "portal-7"}, {"document": [package]})
    assert first.status == 202 and again.status == 200
    assert (await again.json())["id"] == (await first.json())["id"] and (await again.json())["duplicate"] is True


@pytest.mark.parametrize(
    "change",
    [
        {"doc_type": "report", "report_kind": "OD_H1"},
        {"member": "13"},
    ],
)
async def test_external_id_reused_for_another_package_is_a_409(client: TestClient, pki: TestPki, tmp_path: Path, change: dict[str, str]) -> None:
    package = report_zip(pki, tmp_path)
    first = await submit(client, {**REPORT, "external_id": "portal-8"}, {"document": [package]})
    assert first.status == 202
    other = await submit(client, {**REPORT, **change, "external_id": "portal-8"}, {"document": [package]})
    assert other.status == 409
    assert (await other.json())["error"]["code"] == "request.external_id_conflict"
    assert await total(client) == 1


async def test_external_id_reused_with_other_files_is_a_409(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = await submit(client, {**REPORT, "external_id": "portal-9"}, {"document": [report_zip(pki, tmp_path / "a")]})
    assert first.status == 202
    other_zip = report_zip(pki, tmp_path / "b", label="accountant256")
    other = await submit(client, {**REPORT, "external_id": "portal-9"}, {"document": [other_zip]})
    assert other.status == 409


# --- reporting period and repeated submissions ------------------------------------------------


async def received_event(client: TestClient, submission_id: str) -> dict[str, object]:
    events = (await (await client.get(f"/api/v1/submissions/{submission_id}/events")).json())["events"]
    return dict(events[0])


async def test_second_report_for_the_same_period_is_marked_as_a_repeat_of_the_first(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    first = (await (await submit(client, {**REPORT, "report_year": "2025"}, {"document": [report_zip(pki, tmp_path / "a")]})).json())["id"]
    second = (await (await submit(client, {**REPORT, "report_year": "2025"}, {"document": [report_zip(pki, tmp_path / "b")]})).json())["id"]
    other_year = (await (await submit(client, {**REPORT, "report_year": "2024"}, {"document": [report_zip(pki, tmp_path / "c")]})).json())["id"]
    assert "repeat_of" not in (await received_event(client, first))["detail"]  # type: ignore[operator]
    repeated = await received_event(client, second)
    assert repeated["detail"]["repeat_of"] == first and repeated["detail"]["report_year"] == 2025  # type: ignore[index]
    assert "повторная отправка" in str(repeated["title_ru"])
    assert "repeat_of" not in (await received_event(client, other_year))["detail"]  # type: ignore[operator]
    listed = await (await client.get("/api/v1/submissions?report_year=2025")).json()
    assert sorted(i["id"] for i in listed["items"]) == sorted([first, second])
    assert (await client.get("/api/v1/submissions?report_year=25")).status == 400


async def test_staff_page_links_a_repeat_to_the_earlier_package(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    from gateway.app import create_app
    from tests.servers.staff import add_staff, sign_in

    add_staff(config)
    client = await aiohttp_client(create_app(config))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = (await (await submit(client, {**REPORT, "report_year": "2025"}, {"document": [report_zip(pki, tmp_path / "a")]})).json())["id"]
    second = (await (await submit(client, {**REPORT, "report_year": "2025"}, {"document": [report_zip(pki, tmp_path / "b")]})).json())["id"]
    await sign_in(client)
    page = await (await client.get(f"/staff/submissions/{second}")).text()
    assert f'id="repeat-of" href="/staff/submissions/{first}"' in page and "Повторная отправка" in page and "31.03.2025" in page
    earlier = await (await client.get(f"/staff/submissions/{first}")).text()
    assert f'href="/staff/submissions/{second}"' in earlier
    inbox = await (await client.get("/staff/")).text()
    assert inbox.count('class="repeat"') == 1
