"""The staff workspace in a real browser: Debian's Chromium through chromedriver (Selenium),
the gateway served on 127.0.0.1 from a thread. Sign in, filter, open a package, make a
decision, see the member's .eml written. Screenshots go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.app import create_app
from gateway.config import Config, DeliveryConfig, MailConfig
from gateway.store.db import Database
from gateway.store.staff_users import StaffUsers
from tests.conftest import REPO
from tests.pki.builder import HEAD_EMAIL, TestPki
from tests.servers.mail import eml_messages, text_of
from tests.servers.packages import REPORT, report_zip

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "tests" / "artifacts"
PASSWORD = "пароль-для-браузера-1"

webdriver = pytest.importorskip("selenium.webdriver")
if not (Path(CHROMEDRIVER).is_file() and Path(CHROMIUM).is_file()):
    pytest.skip("Debian chromium and chromium-driver are not installed (scripts/bootstrap.sh test installs them)", allow_module_level=True)

from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402


class LiveServer:
    """The gateway on 127.0.0.1 in its own thread and event loop (the browser blocks)."""

    def __init__(self, config: Config) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runner = web.AppRunner(create_app(config))
        self.call(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.call(site.start())
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    def call(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def submit(self, fields: dict[str, str], document: Path) -> str:
        async def post() -> str:
            form = aiohttp.FormData()
            for key, value in fields.items():
                form.add_field(key, value)
            form.add_field("document", document.read_bytes(), filename=document.name)
            async with aiohttp.ClientSession() as session:
                async with session.post(self.url + "/api/v1/submissions", data=form) as response:
                    assert response.status == 202, await response.text()
                    return str((await response.json())["id"])

        return self.call(post())

    def status(self, submission_id: str) -> dict[str, Any]:
        async def get() -> dict[str, Any]:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{self.url}/api/v1/submissions/{submission_id}") as response:
                    return dict(await response.json())

        return self.call(get())

    def wait_status(self, submission_id: str, wanted: str, seconds: float = 30) -> None:
        for _ in range(int(seconds / 0.1)):
            if self.status(submission_id)["status"] == wanted:
                return
            self.call(asyncio.sleep(0.1))
        raise AssertionError(f"{submission_id} not {wanted} in {seconds} s")

    def close(self) -> None:
        self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def live(config: Config, tmp_path: Path) -> Iterator[LiveServer]:
    fast = DeliveryConfig(base_delay=0.05, max_delay=0.5, poll_interval=0.05, max_attempts=5, digest_hour_utc=-1, email_rate_per_second=0)
    settings = dataclasses.replace(config, delivery=fast, mail=MailConfig(eml_dir=tmp_path / "mail"))
    assert StaffUsers(Database(config.storage.data_dir / "gateway.sqlite3")).add("ivanova", "Иванова Мария", PASSWORD)
    server = LiveServer(settings)
    yield server
    server.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900", "--lang=ru"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def total_is(expected: str) -> Any:
    """A wait condition on the package count that tolerates the page being replaced under it."""

    def condition(driver: Any) -> bool:
        try:
            return bool(driver.find_element(By.ID, "total").text == expected)
        except WebDriverException:  # stale or not yet there: the form's page is loading
            return False

    return condition


def shot(driver: Any, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def sign_in(driver: Any, live: LiveServer) -> None:
    driver.delete_all_cookies()
    driver.get(live.url + "/staff/")
    assert "/staff/login" in driver.current_url
    driver.find_element(By.NAME, "login").send_keys("ivanova")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    shot(driver, "01-sign-in")
    driver.find_element(By.CSS_SELECTOR, "section.login button[type=submit]").click()
    WebDriverWait(driver, 10).until(expected_conditions.presence_of_element_located((By.ID, "packages")))


def test_staff_signs_in_filters_opens_a_package_and_returns_it_with_a_comment(browser: Any, live: LiveServer, pki: TestPki, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    good = live.submit(REPORT, report_zip(pki, tmp_path / "a"))
    bad = live.submit(REPORT, report_zip(pki, tmp_path / "b", label="accountant256"))
    live.wait_status(good, "registered")
    live.wait_status(bad, "returned")
    mail = tmp_path / "mail"
    for _ in range(200):
        if len(eml_messages(mail)) >= 3:
            break
        live.call(asyncio.sleep(0.05))

    sign_in(browser, live)
    assert browser.find_element(By.ID, "total").text == "2"
    shot(browser, "02-inbox")

    Select(browser.find_element(By.NAME, "decision")).select_by_visible_text("Возвращен на доработку")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: "decision=returned" in d.current_url)
    WebDriverWait(browser, 10).until(total_is("1"))
    assert bad in browser.page_source and good not in browser.page_source
    shot(browser, "03-filtered")

    browser.get(live.url + "/staff/")
    browser.find_element(By.NAME, "q").send_keys("ВХ-")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: "q=" in d.current_url)
    WebDriverWait(browser, 10).until(total_is("1"))
    browser.find_element(By.CSS_SELECTOR, "#packages tbody a").click()
    WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.ID, "timeline")))
    timeline = browser.find_element(By.ID, "timeline").text
    assert "Пакет получен" in timeline and "Зарегистрирован в реестре: вх. № ВХ-" in timeline
    assert "ДОКУМЕНТ ПОДПИСАН УСИЛЕННОЙ КВАЛИФИЦИРОВАННОЙ ЭЛЕКТРОННОЙ ПОДПИСЬЮ" in browser.page_source
    shot(browser, "04-package")

    browser.find_element(By.CSS_SELECTOR, "input[name=decision][value=returned]").click()
    browser.find_element(By.NAME, "comment").send_keys("Приложите протокол общего собрания")
    browser.find_element(By.CSS_SELECTOR, "form.decision button[type=submit]").click()
    WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "p.notice")))
    assert browser.find_element(By.ID, "staff-decision").text.startswith("Возвращен на доработку")
    assert "Решение сотрудника СРО: Возвращен на доработку — «Приложите протокол общего собрания»" in browser.find_element(By.ID, "timeline").text
    shot(browser, "05-decided")

    for _ in range(200):
        written = [m for m in eml_messages(mail) if "Приложите протокол общего собрания" in text_of(m)]
        if written:
            break
        live.call(asyncio.sleep(0.05))
    assert written and written[0]["To"] == HEAD_EMAIL


def test_signed_out_browser_is_sent_back_to_sign_in(browser: Any, live: LiveServer) -> None:
    sign_in(browser, live)
    browser.find_element(By.CSS_SELECTOR, "form.signout button").click()
    WebDriverWait(browser, 10).until(lambda d: "/staff/login" in d.current_url)
    browser.get(live.url + "/staff/members")
    assert "/staff/login" in browser.current_url
