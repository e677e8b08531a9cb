"""Red team: the staff download of a member's stored file.

A member uploads HTML (or SVG) under a hostile name; staff download it from the package
page. It must never be rendered by the browser in the workspace's origin (it would run with
the staff session): always ``application/octet-stream``, ``nosniff``, ``attachment``, the
sandboxing CSP; and its name must not break out of ``Content-Disposition`` (quotes,
semicolons, line breaks, a second ``filename``)."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from gateway.config import Config
from tests.servers.packages import LETTER, decided
from tests.servers.staff import add_staff, sign_in

HOSTILE_NAMES = [
    "отчёт.html",
    'a"; filename="evil.exe.pdf',
    "b;filename*=UTF-8''evil.exe.svg",
    "c\u2028d.html",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
async def test_a_stored_file_is_always_downloaded_never_rendered(client: TestClient, config: Config, name: str) -> None:
    page = b"<html><body><script>fetch('/staff/members')</script><svg onload=alert(1)></svg></body></html>"
    form = aiohttp.FormData()
    for key, value in LETTER.items():
        form.add_field(key, value)
    form.add_field("document", page, filename=name, content_type="text/html")
    form.add_field("attachment", page, filename="<svg onload=alert(2)>.zip", content_type="image/svg+xml")
    response = await client.post("/api/v1/submissions", data=form)
    assert response.status == 202, await response.text()
    submission_id = (await response.json())["id"]
    await decided(client, submission_id)
    add_staff(config)
    assert (await sign_in(client)).status == 303
    for position in (0, 1):
        download = await client.get(f"/staff/submissions/{submission_id}/files/{position}")
        assert download.status == 200
        assert await download.read() == page
        headers = download.headers
        assert headers["Content-Type"] == "application/octet-stream"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        disposition = headers["Content-Disposition"]
        assert disposition.startswith(f'attachment; filename="file-{position}"; filename*=UTF-8\'\'')
        encoded = disposition.split("filename*=UTF-8''", 1)[1]
        assert all(ch.isalnum() or ch in "%-._~" for ch in encoded), disposition


async def test_control_a_missing_or_malformed_position_is_a_404(client: TestClient, config: Config) -> None:
    add_staff(config)
    assert (await sign_in(client)).status == 303
    for position in ("9", "-1", "..%2f..%2fgateway.sqlite3", "0x1"):
        assert (await client.get(f"/staff/submissions/00000000000000000000000000000000/files/{position}")).status == 404
