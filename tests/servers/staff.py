"""Staff accounts and signing in to the workspace, as the staff tests need them."""

from __future__ import annotations

import re

import aiohttp
from aiohttp.test_utils import TestClient

from gateway.config import Config
from gateway.store.db import Database
from gateway.store.staff_users import StaffUsers

__all__ = ["PASSWORD", "add_staff", "form_token", "sign_in", "page_token"]

PASSWORD = "верный-пароль-2026"


def add_staff(config: Config, login: str = "ivanova", name: str = "Иванова Мария") -> StaffUsers:
    users = StaffUsers(Database(config.storage.data_dir / "gateway.sqlite3"))
    assert users.add(login, name, PASSWORD)
    return users


def form_token(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


async def sign_in(client: TestClient, login: str = "ivanova", password: str = PASSWORD) -> aiohttp.ClientResponse:
    page = await client.get("/staff/login")
    token = form_token(await page.text())
    return await client.post("/staff/login", data={"login": login, "password": password, "csrf": token, "next": "/staff/"}, allow_redirects=False)


async def page_token(client: TestClient, path: str = "/staff/") -> str:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return form_token(await response.text())
