"""Fixtures of the gateway tests: a configuration with the test PKI and a member list,
an in-process client, and the real server as a subprocess."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import Config, LimitsConfig, MailConfig, ServerConfig, StorageConfig, VerificationConfig
from tests.pki.builder import TestPki
from tests.servers.gateway import Gateway, free_port, gateway_config
from tests.servers.packages import FAST, members_csv

ClientFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def config(pki: TestPki, tmp_path: Path) -> Config:
    data = tmp_path / "var"
    data.mkdir()
    return Config(
        server=ServerConfig(max_request_bytes=50 << 20),
        verification=VerificationConfig(trust_dir=pki.trust_dir),
        storage=StorageConfig(data_dir=data, members_csv=members_csv(tmp_path / "members.csv")),
        limits=LimitsConfig(archive_max_total_bytes=20 << 20, archive_max_entry_bytes=20 << 20),
        mail=MailConfig(eml_dir=tmp_path / "mail"),  # never the repository's own var/mail
    )


@pytest.fixture
async def client(aiohttp_client: ClientFactory, config: Config) -> TestClient:
    return await aiohttp_client(create_app(config))


@pytest.fixture
def delivery_config(config: Config, tmp_path: Path) -> Config:
    return dataclasses.replace(config, delivery=FAST, mail=MailConfig(eml_dir=tmp_path / "mail"))


@pytest.fixture
def gateway_process(pki: TestPki, tmp_path: Path) -> Iterator[Gateway]:
    """The real server (not started yet: call ``start``), 1 s header and body timeouts;
    its log must hold no traceback when the test ends."""
    port = free_port()
    log = open(tmp_path / "gateway.log", "ab")  # noqa: SIM115 - closed below
    process = Gateway(gateway_config(tmp_path, pki, port, header_timeout=1.0, body_timeout=1.0), port, log)
    yield process
    process.stop()
    log.close()
    assert "Traceback" not in (tmp_path / "gateway.log").read_text(encoding="utf-8", errors="replace")
