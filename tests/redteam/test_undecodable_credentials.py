"""Red team: credentials that are not UTF-8 (or given twice) on the wire.

HTTP header values are bytes; aiohttp hands them over decoded with surrogate escapes. The
old code encoded them strictly before comparing, so an ``X-API-Key``, a session cookie or
a sign-in form cookie holding the byte 0xFF made a 500 with a traceback in the log (any
outsider could fill the log). Such a credential is simply wrong: 401 / sign-in page / 403.
An ``X-API-Key`` given twice is ambiguous (a proxy may pass on either): no key.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import AuthConfig, Config
from tests.servers.packages import ClientFactory
from tests.servers.staff import add_staff, page_token, sign_in

KEY = "portal-key-1"


@pytest.fixture
async def keyed(aiohttp_client: ClientFactory, config: Config) -> TestClient:
    add_staff(config)
    return await aiohttp_client(create_app(dataclasses.replace(config, auth=AuthConfig(api_keys={"portal": KEY, "staff": "staff-key-1"}))))


async def _raw(client: TestClient, head: bytes, body: bytes = b"") -> bytes:
    """One HTTP/1.1 request written byte for byte; the status line of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    writer.write(head + b"Host: x\r\nConnection: close\r\n" + (b"Content-Length: %d\r\n" % len(body) if body else b"") + b"\r\n" + body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer.split(b"\r\n", 1)[0]


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize("value", [b"\xff\xfe", b"portal-key-1\xff", "ключ".encode("cp1251")])
async def test_an_api_key_that_is_not_utf8_is_a_401(keyed: TestClient, caplog: pytest.LogCaptureFixture, value: bytes) -> None:
    status = await _raw(keyed, b"GET /api/v1/submissions?member=42 HTTP/1.1\r\nX-API-Key: " + value + b"\r\n")
    assert status == b"HTTP/1.1 401 Unauthorized"
    _no_traceback(caplog)


@pytest.mark.parametrize("order", [(KEY, "wrong"), ("wrong", KEY), (KEY, KEY)])
async def test_an_api_key_given_twice_is_no_key(keyed: TestClient, order: tuple[str, str]) -> None:
    head = b"GET /api/v1/submissions?member=42 HTTP/1.1\r\n" + b"".join(b"X-API-Key: " + k.encode() + b"\r\n" for k in order)
    assert await _raw(keyed, head) == b"HTTP/1.1 401 Unauthorized"


async def test_control_one_api_key_is_taken(keyed: TestClient) -> None:
    assert await _raw(keyed, b"GET /api/v1/submissions?member=42 HTTP/1.1\r\nX-API-Key: " + KEY.encode() + b"\r\n") == b"HTTP/1.1 200 OK"


async def test_an_api_key_in_the_query_string_is_not_taken(keyed: TestClient) -> None:
    for name in ("X-API-Key", "api_key", "key"):
        assert (await keyed.get(f"/api/v1/submissions?member=42&{name}={KEY}")).status == 401


async def test_a_session_cookie_that_is_not_utf8_leads_to_the_sign_in_page(keyed: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    assert await _raw(keyed, b"GET /staff/ HTTP/1.1\r\nCookie: gw_staff=\xff\xfe\r\n") == b"HTTP/1.1 303 See Other"
    body = b"csrf=x&decision=verified"
    head = b"POST /staff/submissions/x/decision HTTP/1.1\r\nCookie: gw_staff=\xff\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    assert await _raw(keyed, head, body) == b"HTTP/1.1 403 Forbidden"
    _no_traceback(caplog)


async def test_a_sign_in_form_cookie_that_is_not_utf8_is_refused(keyed: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    body = b"csrf=%FF%FE&login=ivanova&password=x"
    head = b"POST /staff/login HTTP/1.1\r\nCookie: gw_login=\xff\xfe\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    assert await _raw(keyed, head, body) == b"HTTP/1.1 403 Forbidden"
    _no_traceback(caplog)


async def test_a_csrf_field_that_is_not_utf8_is_refused(keyed: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    assert (await sign_in(keyed)).status == 303
    await page_token(keyed)
    response = await keyed.post("/staff/logout", data=b"csrf=%FF%FE", headers={"Content-Type": "application/x-www-form-urlencoded"}, allow_redirects=False)
    assert response.status == 403
    _no_traceback(caplog)
