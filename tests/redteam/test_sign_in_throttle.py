"""Red team: staff sign-in as a CPU denial of service.

Every sign-in attempt computed an argon2id hash (unknown logins too: the dummy hash), so
anyone reaching the port could keep the CPU busy by posting the form. Each client address
now has a token bucket in front of the hash (``[server] login_burst``/``login_per_minute``):
an empty bucket answers 429 in Russian with ``Retry-After`` and no hash is computed.
``X-Forwarded-For`` counts only from ``[server] trusted_proxies``; memory stays bounded."""

from __future__ import annotations

import dataclasses
import ipaddress
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import Config, ConfigError, load_config
from gateway.http.staff.throttle import SignInThrottle, client_key
from gateway.store.staff_users import MAX_FAILURES
from tests.servers.packages import ClientFactory
from tests.servers.staff import PASSWORD, add_staff, form_token


async def _attempt(client: TestClient, password: str, forwarded_for: str | None = None) -> tuple[int, str, str | None]:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    token = form_token(await (await client.get("/staff/login")).text())
    data = {"login": "ivanova", "password": password, "csrf": token, "next": "/staff/"}
    answer = await client.post("/staff/login", data=data, headers=headers, allow_redirects=False)
    return answer.status, await answer.text(), answer.headers.get("Retry-After")


def _limited(config: Config, burst: int = 3, proxies: tuple[str, ...] = ()) -> Config:
    return dataclasses.replace(config, server=dataclasses.replace(config.server, login_burst=burst, login_per_minute=1.0, trusted_proxies=proxies))


async def test_attempts_beyond_the_burst_get_429_in_russian_with_retry_after(aiohttp_client: ClientFactory, config: Config) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(_limited(config)))
    assert [(await _attempt(client, "неверный"))[0] for _ in range(3)] == [401, 401, 401]
    status, page, retry_after = await _attempt(client, PASSWORD)
    assert status == 429 and retry_after is not None and 1 <= int(retry_after) <= 60
    assert f"Слишком много попыток входа с вашего адреса. Повторите через {retry_after} с." in page


async def test_a_refused_attempt_never_reaches_the_password_check(aiohttp_client: ClientFactory, config: Config) -> None:
    # Had the throttled attempts been checked, the wrong passwords would have locked the
    # account (MAX_FAILURES in a row); the right password from another address still works.
    add_staff(config)
    client = await aiohttp_client(create_app(_limited(config, burst=MAX_FAILURES - 1, proxies=("127.0.0.1",))))
    statuses = [(await _attempt(client, "неверный", "203.0.113.5"))[0] for _ in range(MAX_FAILURES + 5)]
    assert statuses == [401] * (MAX_FAILURES - 1) + [429] * 6
    assert (await _attempt(client, PASSWORD, "198.51.100.7"))[0] == 303


async def test_forwarded_for_is_ignored_without_a_trusted_proxy(aiohttp_client: ClientFactory, config: Config) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(_limited(config)))
    statuses = [(await _attempt(client, "неверный", f"203.0.113.{n}"))[0] for n in range(4)]
    assert statuses == [401, 401, 401, 429]


async def test_control_behind_a_trusted_proxy_each_client_has_its_own_bucket(aiohttp_client: ClientFactory, config: Config) -> None:
    add_staff(config)
    client = await aiohttp_client(create_app(_limited(config, burst=1, proxies=("127.0.0.1",))))
    assert (await _attempt(client, "неверный", "203.0.113.1"))[0] == 401
    assert (await _attempt(client, "неверный", "203.0.113.1"))[0] == 429
    assert (await _attempt(client, "неверный", "203.0.113.2"))[0] == 401


def test_the_client_is_the_right_most_address_not_a_trusted_proxy() -> None:
    proxies = (ipaddress.ip_network("10.0.0.0/8"),)
    # The left-most entries are whatever the client wrote; only the proxies' own are believed.
    assert client_key("10.0.0.1", ["1.2.3.4, 198.51.100.9, 10.0.0.2"], proxies) == "198.51.100.9"
    assert client_key("10.0.0.1", ["1.2.3.4", "198.51.100.9"], proxies) == "198.51.100.9"
    assert client_key("10.0.0.1", ["junk, 198.51.100.9"], proxies) == "198.51.100.9"
    assert client_key("10.0.0.1", ["198.51.100.9, junk"], proxies) == "10.0.0.1"
    assert client_key("192.0.2.1", ["198.51.100.9"], proxies) == "192.0.2.1"


def test_ipv6_clients_count_per_64() -> None:
    assert client_key("2001:db8:1:2::1", [], ()) == client_key("2001:db8:1:2:ffff::9", [], ()) == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1", [], ()) != client_key("2001:db8:1:2::1", [], ())
    assert client_key("::ffff:192.0.2.1", [], ()) == "192.0.2.1"


def test_the_bucket_refills_at_the_configured_rate() -> None:
    now = [1000.0]
    throttle = SignInThrottle(burst=2, per_minute=6.0, clock=lambda: now[0])
    assert [throttle.take("a"), throttle.take("a")] == [0.0, 0.0]
    assert throttle.take("a") == pytest.approx(10.0)
    now[0] += 9.0
    assert throttle.take("a") == pytest.approx(1.0)
    now[0] += 1.0
    assert throttle.take("a") == 0.0
    assert throttle.take("b") == 0.0  # another client is not affected


def test_memory_is_bounded_by_the_number_of_clients_kept() -> None:
    throttle = SignInThrottle(burst=1, per_minute=1.0, max_clients=100)
    for n in range(5000):
        throttle.take(f"198.51.{n // 256}.{n % 256}")
    assert len(throttle) == 100
    assert throttle.take("198.51.19.135") > 0  # the most recent clients are still counted


@pytest.mark.parametrize("line", ['trusted_proxies = ["10.0.0.1/8"]', 'trusted_proxies = ["proxy.local"]', "login_per_minute = 0", "login_burst = 0"])
def test_a_malformed_limit_is_refused_at_start(tmp_path: Path, line: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[server]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[server\] (trusted_proxies|login_per_minute|login_burst)"):
        load_config(path)
