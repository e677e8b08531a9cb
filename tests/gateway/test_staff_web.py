"""The staff workspace over HTTP (real server on 127.0.0.1, real SQLite): accounts from the
command line, sign-in with argon2id, session cookie flags, CSRF, lockout, expiry, the
package list, the decision form, CSV export, the member list upload."""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import AuthConfig, Config
from gateway.http.staff.members_csv import MAX_CSV_BYTES, validate_members_csv
from gateway.store.db import Database
from gateway.store.staff_users import LOCKOUT_SECONDS, MAX_FAILURES, StaffUsers
from tests.conftest import REPO
from tests.pki.builder import HEAD_EMAIL, TestPki
from tests.servers.mail import eml_messages, text_of
from tests.servers.packages import MEMBER, REPORT, decided, report_zip, status_of, submit, wait_for
from tests.servers.staff import PASSWORD, add_staff, form_token, page_token, sign_in

ClientFactory = Callable[..., Awaitable[TestClient]]
# --- accounts and sign-in ------------------------------------------------------------------


def test_gateway_staff_add_creates_an_argon2id_account(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(f'[storage]\ndata_dir = "{tmp_path / "var"}"\n', encoding="utf-8")
    command = [sys.executable, "-m", "gateway", "--config", str(tmp_path / "config.toml"), "staff"]
    run = subprocess.run(command + ["add", "petrov", "--name", "Петров П.", "--password-stdin"], input=PASSWORD + "\n", capture_output=True, text=True, cwd=REPO, timeout=60)
    assert run.returncode == 0, run.stderr
    short = subprocess.run(command + ["passwd", "petrov", "--password-stdin"], input="short\n", capture_output=True, text=True, cwd=REPO, timeout=60)
    assert short.returncode == 2 and "10" in short.stderr
    database = Database(tmp_path / "var" / "gateway.sqlite3")
    [row] = database.query("SELECT * FROM staff_users")
    assert row["password_hash"].startswith("$argon2id$") and PASSWORD not in row["password_hash"]
    assert StaffUsers(database).sign_in("petrov", PASSWORD).session is not None
    disabled = subprocess.run(command + ["disable", "petrov"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert disabled.returncode == 0
    assert StaffUsers(database).sign_in("petrov", PASSWORD).session is None


async def test_pages_need_a_session_and_sign_in_sets_a_strict_httponly_cookie(aiohttp_client: ClientFactory, config: Config) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(config))
    first = await client.get("/staff/", allow_redirects=False)
    assert first.status == 303 and first.headers["Location"].startswith("/staff/login")
    response = await sign_in(client)
    assert response.status == 303 and response.headers["Location"] == "/staff/"
    cookie = next(v for v in response.headers.getall("Set-Cookie") if v.startswith("gw_staff="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/staff" in cookie and "Secure" not in cookie
    inbox = await client.get("/staff/")
    assert inbox.status == 200 and "Входящие пакеты" in await inbox.text()
    assert inbox.headers["Content-Security-Policy"].startswith("default-src 'self'")


async def test_cookie_is_secure_behind_tls(aiohttp_client: ClientFactory, config: Config) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(config))
    page = await client.get("/staff/login", headers={"X-Forwarded-Proto": "https"})
    token = form_token(await page.text())
    response = await client.post(
        "/staff/login",
        data={"login": "ivanova", "password": PASSWORD, "csrf": token},
        # The test client keeps Secure cookies to itself over plain HTTP: send it as the browser would over TLS.
        headers={"X-Forwarded-Proto": "https", "Cookie": f"gw_login={token}"},
        allow_redirects=False,
    )
    assert "Secure" in page.headers["Set-Cookie"]
    cookie = next(v for v in response.headers.getall("Set-Cookie") if v.startswith("gw_staff="))
    assert "Secure" in cookie


async def test_sign_in_without_the_form_token_is_refused(aiohttp_client: ClientFactory, config: Config) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(config))
    await client.get("/staff/login")
    response = await client.post("/staff/login", data={"login": "ivanova", "password": PASSWORD, "csrf": "forged"}, allow_redirects=False)
    assert response.status == 403 and "gw_staff=" not in " ".join(response.headers.getall("Set-Cookie", []))


async def test_wrong_password_is_refused_in_russian(aiohttp_client: ClientFactory, config: Config) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(config))
    response = await sign_in(client, password="неверный-пароль")
    assert response.status == 401 and "Неверное имя пользователя или пароль" in await response.text()
    assert (await sign_in(client, login="nobody")).status == 401


def test_repeated_failures_lock_the_account_even_for_the_right_password(config: Config) -> None:
    users = add_staff(config)
    for _ in range(MAX_FAILURES - 1):
        assert users.sign_in("ivanova", "wrong", now=1000.0).problem == "wrong"
    assert users.sign_in("ivanova", "wrong", now=1000.0).problem == "locked"
    assert users.sign_in("ivanova", PASSWORD, now=1001.0).problem == "locked"
    assert users.sign_in("ivanova", PASSWORD, now=1000.0 + LOCKOUT_SECONDS + 1).session is not None


def test_a_success_resets_the_failure_count(config: Config) -> None:
    users = add_staff(config)
    for _ in range(MAX_FAILURES - 1):
        users.sign_in("ivanova", "wrong", now=1000.0)
    assert users.sign_in("ivanova", PASSWORD, now=1000.0).session is not None
    assert users.sign_in("ivanova", "wrong", now=1000.0).problem == "wrong"


def test_sessions_expire_when_idle_and_after_their_lifetime(config: Config) -> None:
    users = add_staff(config)
    users.idle_seconds, users.lifetime_seconds = 100.0, 1000.0
    session = users.sign_in("ivanova", PASSWORD, now=0.0).session
    assert session is not None
    assert users.session(session.token, now=90.0) is not None
    assert users.session(session.token, now=180.0) is not None  # used at 90: the idle clock restarted
    assert users.session(session.token, now=290.0) is None
    kept = users.sign_in("ivanova", PASSWORD, now=0.0).session
    assert kept is not None
    for moment in range(90, 1000, 90):
        assert users.session(kept.token, now=float(moment)) is not None
    assert users.session(kept.token, now=1010.0) is None


def test_only_a_hash_of_the_session_token_is_stored(config: Config) -> None:
    users = add_staff(config)
    session = users.sign_in("ivanova", PASSWORD).session
    assert session is not None
    assert session.token not in str([dict(r) for r in users.db.query("SELECT * FROM staff_sessions")])


async def test_sign_out_ends_the_session(aiohttp_client: ClientFactory, config: Config) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(config))
    await sign_in(client)
    token = await page_token(client)
    response = await client.post("/staff/logout", data={"csrf": token}, allow_redirects=False)
    assert response.status == 303
    assert (await client.get("/staff/", allow_redirects=False)).status == 303


async def test_workspace_opens_without_an_api_key_when_keys_are_configured(aiohttp_client: ClientFactory, config: Config) -> None:
    add_staff(config)
    keyed = dataclasses.replace(config, auth=AuthConfig(api_keys={"portal": "portal-key-1"}))
    client = await aiohttp_client(create_app(keyed))
    assert (await sign_in(client)).status == 303
    assert (await client.get("/staff/")).status == 200
    assert (await client.get("/api/v1/submissions")).status == 401


# --- the package page and the decision form ------------------------------------------------


async def registered(client: TestClient, pki: TestPki, tmp_path: Path) -> str:
    submission_id = (await (await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})).json())["id"]

    async def done() -> bool:
        return (await status_of(client, submission_id))["status"] == "registered"

    await wait_for(done)
    return submission_id


async def test_decision_form_without_csrf_is_refused(aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    add_staff(delivery_config)
    client = await aiohttp_client(create_app(delivery_config))
    submission_id = await registered(client, pki, tmp_path)
    await sign_in(client)
    response = await client.post(f"/staff/submissions/{submission_id}/decision", data={"decision": "verified"}, allow_redirects=False)
    assert response.status == 403
    assert (await status_of(client, submission_id))["staff_decision"] is None


async def test_staff_decision_is_recorded_shown_and_emailed(aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    add_staff(delivery_config)
    client = await aiohttp_client(create_app(delivery_config))
    submission_id = await registered(client, pki, tmp_path)
    await wait_for(lambda: len(eml_messages(tmp_path / "mail")) == 2)
    await sign_in(client)
    token = await page_token(client, f"/staff/submissions/{submission_id}")
    empty = await client.post(f"/staff/submissions/{submission_id}/decision", data={"csrf": token, "decision": "returned", "comment": ""})
    assert empty.status == 400 and "комментарий" in await empty.text()
    response = await client.post(
        f"/staff/submissions/{submission_id}/decision", data={"csrf": token, "decision": "returned", "comment": "Приложите протокол"}, allow_redirects=False
    )
    assert response.status == 303
    page = await (await client.get(response.headers["Location"])).text()
    assert "Решение записано" in page and "Приложите протокол" in page
    assert re.search(r'id="staff-decision">Возвращен на доработку', page)
    assert "Решение сотрудника СРО: Возвращен на доработку" in page  # the «Движения» line
    status = await status_of(client, submission_id)
    assert status["staff_decision"] == "returned" and status["staff_comment"] == "Приложите протокол"
    events = (await (await client.get(f"/api/v1/submissions/{submission_id}/events")).json())["events"]
    assert events[-1]["kind"] in ("staff_decision", "email_sent") and any(e["actor"] == "staff:ivanova" for e in events)
    await wait_for(lambda: len(eml_messages(tmp_path / "mail")) == 3)
    decision_mail = [m for m in eml_messages(tmp_path / "mail") if "Приложите протокол" in text_of(m)]
    assert decision_mail and decision_mail[0]["To"] == HEAD_EMAIL


async def test_package_page_shows_findings_files_stamps_and_movements(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(config))
    submission_id = (await (await submit(client, REPORT, {"document": [report_zip(pki, tmp_path, label="accountant256")]})).json())["id"]
    report = await decided(client, submission_id)
    await sign_in(client)
    page = await (await client.get(f"/staff/submissions/{submission_id}")).text()
    assert "Возвращен на доработку" in page and "<details><summary>Технические подробности</summary>" in page
    assert report["files"][0]["sha256"] in page and report["files"][0]["streebog256"] in page
    assert "Пакет получен" in page and "Решение по проверке" in page
    assert "OD 31 марта" in page and "OD_Q1" not in page
    download = await client.get(f"/staff/submissions/{submission_id}/files/0")
    assert download.status == 200 and await download.read() == (tmp_path / f"{MEMBER}_OD.zip").read_bytes()
    assert "attachment" in download.headers["Content-Disposition"]


async def test_inbox_filters_counts_and_exports_the_current_filter(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(config))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    good = (await (await submit(client, REPORT, {"document": [report_zip(pki, tmp_path / "a")]})).json())["id"]
    bad = (await (await submit(client, REPORT, {"document": [report_zip(pki, tmp_path / "b", label="accountant256")]})).json())["id"]
    await decided(client, good)
    await decided(client, bad)
    await sign_in(client)
    page = await (await client.get("/staff/?decision=returned")).text()
    assert bad in page and good not in page
    assert re.search(r'id="count-returned-today">1<', page)
    export = await client.get("/staff/export.csv?decision=returned")
    text = (await export.read()).decode("utf-8-sig")
    assert export.headers["Content-Type"].startswith("text/csv")
    assert bad in text and good not in text and "Возвращен на доработку" in text
    sorted_page = await (await client.get("/staff/?sort=member&dir=asc")).text()
    assert bad in sorted_page and good in sorted_page


# --- members -------------------------------------------------------------------------------


async def upload_members(client: TestClient, data: bytes) -> aiohttp.ClientResponse:
    token = await page_token(client, "/staff/members")
    form = aiohttp.FormData()
    form.add_field("csrf", token)
    form.add_field("file", data, filename="members.csv", content_type="text/csv")
    return await client.post("/staff/members", data=form)


async def test_member_list_with_bad_check_digits_or_duplicates_is_not_taken(aiohttp_client: ClientFactory, config: Config) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(config))
    await sign_in(client)
    before = config.storage.members_csv.read_bytes()
    bad = (
        "number,ogrn,inn,name,email,head,status\n"
        "42,1027700000009,7700000009,КПК А,a@example.ru,Иванов,active\n"
        "042,1037700000007,7700000017,КПК Б,b@example.ru,Петров,active\n"
    ).encode()
    response = await upload_members(client, bad)
    text = await response.text()
    assert response.status == 400
    assert "Строка 2: неверный ОГРН" in text and "Строка 3: номер 042 уже есть в строке 2" in text and "Строка 3: неверный ИНН" in text
    assert config.storage.members_csv.read_bytes() == before


async def test_valid_member_list_replaces_the_current_one(aiohttp_client: ClientFactory, config: Config) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(config))
    await sign_in(client)
    good = ("number,ogrn,inn,name,email,head,status\n" "7,1027700132195,7707083893,КПК «Новый»,new@example.ru,Новиков Н. Н.,active\n").encode()
    response = await upload_members(client, good)
    assert response.status == 200 and "Список заменён: 1" in await response.text()
    assert config.storage.members_csv.read_bytes() == good
    page = await (await client.get("/staff/members")).text()
    assert "КПК «Новый»" in page


async def test_member_list_upload_with_a_forged_csrf_field_changes_nothing(aiohttp_client: ClientFactory, config: Config) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(config))
    await sign_in(client)
    await page_token(client, "/staff/members")
    before = config.storage.members_csv.read_bytes()
    good = ("number,ogrn,inn,name,email,head,status\n" "7,1027700132195,7707083893,КПК «Новый»,new@example.ru,Новиков Н. Н.,active\n").encode()
    form = aiohttp.FormData()
    form.add_field("file", good, filename="members.csv", content_type="text/csv")
    form.add_field("csrf", "forged")
    response = await client.post("/staff/members", data=form)
    assert response.status == 403
    assert config.storage.members_csv.read_bytes() == before


async def test_member_list_over_its_size_limit_is_refused_while_streaming(aiohttp_client: ClientFactory, config: Config) -> None:
    from gateway.http.staff.members_csv import MAX_CSV_BYTES

    add_staff(config)
    client = await aiohttp_client(create_app(config))
    await sign_in(client)
    before = config.storage.members_csv.read_bytes()
    token = await page_token(client, "/staff/members")
    form = aiohttp.FormData()
    form.add_field("csrf", token)
    form.add_field("file", io.BytesIO(b"number,ogrn\n" + b"7," * (MAX_CSV_BYTES // 2)), filename="members.csv", content_type="text/csv")
    response = await client.post("/staff/members", data=form)
    assert response.status == 400 and "Файл больше 2 МБ" in await response.text()
    assert config.storage.members_csv.read_bytes() == before


async def test_export_does_not_let_a_spreadsheet_run_formulas(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(config))
    await submit(client, {**REPORT, "external_id": "=HYPERLINK(\"http://evil\")"}, {"document": [report_zip(pki, tmp_path)]})
    await sign_in(client)
    text = (await (await client.get("/staff/export.csv")).read()).decode("utf-8-sig")
    assert ";'=HYPERLINK" in text.replace('"', "") and ";=HYPERLINK" not in text.replace('"', "")


async def test_signed_in_staff_open_the_printable_report(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    add_staff(config)
    keyed = dataclasses.replace(config, auth=AuthConfig(api_keys={"portal": "portal-key-1"}))
    client = await aiohttp_client(create_app(keyed))
    response = await submit(client, REPORT, {"document": [report_zip(pki, tmp_path, label="accountant256")]}, {"X-API-Key": "portal-key-1"})
    submission_id = (await response.json())["id"]
    await decided(client, submission_id, {"X-API-Key": "portal-key-1"})
    assert (await client.get(f"/staff/submissions/{submission_id}/report", allow_redirects=False)).status == 303
    await sign_in(client)
    report = await client.get(f"/staff/submissions/{submission_id}/report")
    assert report.status == 200 and "signer.not_head" in await report.text() and "Результат проверки пакета" in await report.text()


def test_member_list_problems_name_the_line_and_the_value() -> None:
    bad = (
        "number,ogrn,inn,name,email,head,status\n"
        "7,1027700132195,7707083893,КПК А,a@example.ru,Иванов,active\n"
        "x7,1027700132195,7707083893,,not-an-email,Петров,gone\n"
        "007,1027700000009,7700000017,КПК В,c@example.ru,Сидоров,active\n"
    ).encode()
    count, problems = validate_members_csv(bad)
    assert count == 3
    assert problems == [
        "Строка 3: номер в реестре должен состоять из цифр («x7»).",
        "Строка 3: ОГРН 1027700132195 уже есть в строке 2.",
        "Строка 3: ИНН 7707083893 уже есть в строке 2.",
        "Строка 3: не указано наименование.",
        "Строка 3: неверный адрес электронной почты «not-an-email».",
        "Строка 3: статус должен быть active или excluded.",
        "Строка 4: номер 007 уже есть в строке 2.",
        "Строка 4: неверный ОГРН «1027700000009» (длина или контрольная цифра).",
        "Строка 4: неверный ИНН «7700000017» (длина или контрольная цифра).",
    ]


def test_member_list_file_level_problems_are_told_in_russian() -> None:
    assert validate_members_csv(b"x" * (MAX_CSV_BYTES + 1)) == (0, ["Файл больше 2 МБ."])
    assert validate_members_csv("number".encode("cp1251") + b"\xff") == (0, ["Файл должен быть в кодировке UTF-8."])
    assert validate_members_csv(b"number,name\n") == (0, ["Первая строка должна быть заголовком number,ogrn,inn,name,email,head,status."])
    assert validate_members_csv(b"number,ogrn,inn,name,email,head,status\n") == (0, ["В файле нет ни одного кооператива."])
