"""Red team: the staff workspace's sessions, CSRF and redirects (regressions: all held).

* Every state-changing POST (decision, member list upload, sign-out) needs the CSRF token
  of *its own* session: none, a forged one, or another staff member's is 403.
* A session cookie planted before sign-in (fixation) is never adopted.
* Without a session: GET pages go to the sign-in page, POSTs are 403; an API key (even
  staff's) opens no page; ``/staff/..`` paths never reach the keyed API.
* ``next`` after sign-in stays inside ``/staff/``; a line break cannot add a header.
"""

from __future__ import annotations

import asyncio
import dataclasses

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import AuthConfig, Config
from tests.servers.packages import ClientFactory
from tests.servers.staff import PASSWORD, add_staff, form_token, page_token, sign_in

CSV = "number,ogrn,inn,name,email,head,status\n7,1027700132195,7707083893,КПК «Новый»,new@example.ru,Новиков Н. Н.,active\n".encode()
MISSING = "00000000000000000000000000000000"


@pytest.fixture
async def two(aiohttp_client: ClientFactory, config: Config) -> tuple[TestClient, TestClient]:
    """Two browsers of two staff members, signed in to one keyed gateway."""
    app = create_app(dataclasses.replace(config, auth=AuthConfig(api_keys={"staff": "staff-key-1", "portal": "portal-key-1"})))
    users = add_staff(config)
    assert users.add("petrov", "Петров Пётр", PASSWORD)
    first = await aiohttp_client(app)
    second = await aiohttp_client(first.server)
    assert (await sign_in(first)).status == 303 and (await sign_in(second, "petrov")).status == 303
    return first, second


async def _posts(client: TestClient, token: str) -> dict[str, int]:
    form = aiohttp.FormData()
    form.add_field("csrf", token)
    form.add_field("file", CSV, filename="members.csv", content_type="text/csv")
    return {
        "decision": (await client.post(f"/staff/submissions/{MISSING}/decision", data={"csrf": token, "decision": "verified"}, allow_redirects=False)).status,
        "members": (await client.post("/staff/members", data=form, allow_redirects=False)).status,
        "logout": (await client.post("/staff/logout", data={"csrf": token}, allow_redirects=False)).status,
    }


@pytest.mark.parametrize("token", ["none", "forged", "the other session's"])
async def test_every_state_changing_post_needs_its_own_sessions_token(two: tuple[TestClient, TestClient], config: Config, token: str) -> None:
    first, second = two
    before = config.storage.members_csv.read_bytes()
    value = {"none": "", "forged": "x" * 43, "the other session's": await page_token(second)}[token]
    assert await _posts(first, value) == {"decision": 403, "members": 403, "logout": 403}
    assert config.storage.members_csv.read_bytes() == before
    assert (await first.get("/staff/", allow_redirects=False)).status == 200  # still signed in


async def test_control_the_own_token_is_taken(two: tuple[TestClient, TestClient]) -> None:
    first, _ = two
    answers = await _posts(first, await page_token(first))
    assert answers["decision"] == 404 and answers["members"] == 200 and answers["logout"] == 303


async def test_a_planted_session_cookie_is_never_adopted(aiohttp_client: ClientFactory, config: Config) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(config))
    planted = "A" * 43
    client.session.cookie_jar.update_cookies({"gw_staff": planted})
    response = await sign_in(client)
    issued = next(v for v in response.headers.getall("Set-Cookie") if v.startswith("gw_staff=")).split(";")[0].split("=", 1)[1]
    assert issued != planted
    attacker = await aiohttp_client(client.server)
    attacker.session.cookie_jar.update_cookies({"gw_staff": planted})
    assert (await attacker.get("/staff/", allow_redirects=False)).status == 303


async def test_without_a_session_nothing_opens(aiohttp_client: ClientFactory, config: Config) -> None:
    client = await aiohttp_client(create_app(dataclasses.replace(config, auth=AuthConfig(api_keys={"staff": "staff-key-1"}))))
    key = {"X-API-Key": "staff-key-1"}
    for path in ("/staff/", f"/staff/submissions/{MISSING}", f"/staff/submissions/{MISSING}/report", f"/staff/submissions/{MISSING}/files/0", "/staff/members", "/staff/export.csv"):
        response = await client.get(path, headers=key, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"].startswith("/staff/login?next="), path
    for path in (f"/staff/submissions/{MISSING}/decision", "/staff/members", "/staff/logout"):
        assert (await client.post(path, data={"csrf": "x"}, headers=key)).status == 403, path


@pytest.mark.parametrize("path", ["/staff/../api/v1/submissions", "/staff/%2e%2e/api/v1/submissions", "/staff/..%2fapi/v1/submissions", "/staff//../api/v1/webhooks"])
async def test_staff_paths_never_reach_the_keyed_api(aiohttp_client: ClientFactory, config: Config, path: str) -> None:
    """The key check skips ``/staff/…`` (sessions there): the router must not resolve such a
    path to an API route, where a missing role would default to staff."""
    client = await aiohttp_client(create_app(dataclasses.replace(config, auth=AuthConfig(api_keys={"portal": "portal-key-1"}))))
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status = (await reader.read()).split(b"\r\n", 1)[0]
    writer.close()
    assert status in (b"HTTP/1.1 404 Not Found", b"HTTP/1.1 303 See Other", b"HTTP/1.1 400 Bad Request"), status


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example/staff/", "/staff/\r\nSet-Cookie: gw_staff=planted", "/staffx"])
async def test_sign_in_redirects_only_inside_the_workspace(aiohttp_client: ClientFactory, config: Config, target: str) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(config))
    token = form_token(await (await client.get("/staff/login")).text())
    response = await client.post("/staff/login", data={"login": "ivanova", "password": PASSWORD, "csrf": token, "next": target}, allow_redirects=False)
    assert response.status == 303
    location = response.headers["Location"]
    assert location.startswith("/staff/") and not location.startswith("//") and "\r" not in location and "\n" not in location
    assert not any(v.startswith("gw_staff=planted") for v in response.headers.getall("Set-Cookie"))
