"""Fixtures of the real-world acceptance set: the test PKI with the personal certificates
(chief accountant, audit commission's chair) and a Bank of Russia–shaped CA branch, a
trust store that holds both the ФНС-like test CA and the Bank of Russia CA, and the
gateway app (in process, the real HTTP routes) configured with them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import Config, LimitsConfig, MailConfig, ServerConfig, StorageConfig, VerificationConfig
from tests.pki.bank import BankPki
from tests.pki.builder import TestPki
from tests.pki.persons import add_person_certificates
from tests.pki.poa import issue_personal_certificates
from tests.pki.realworld_heads import add_head_layouts
from tests.pki.tsa import TsaPki
from tests.realworld.kit import Kit
from tests.servers.packages import ClientFactory, members_csv


@pytest.fixture(scope="session")
def people(pki: TestPki) -> TestPki:
    """The session PKI with the personal certificates of tests/pki/persons.py and poa.py."""
    return add_head_layouts(issue_personal_certificates(add_person_certificates(pki)))


@pytest.fixture(scope="session")
def trust_with_bank(pki: TestPki, bank_pki: BankPki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test trust store plus the Bank of Russia CA branch (root, CA, CRLs): heads of
    credit cooperatives hold certificates of either (63-ФЗ art. 17.2)."""
    trust = tmp_path_factory.mktemp("trust-bank") / "trust"
    shutil.copytree(pki.trust_dir, trust)
    shutil.copy(bank_pki.cert("bank_root"), trust / "roots" / "bank_root.pem")
    shutil.copy(bank_pki.cert("bank_ca"), trust / "ca" / "bank_ca.pem")
    for label in ("bank_root", "bank_ca"):
        shutil.copy(bank_pki.crl(label), trust / "crl" / f"{label}.crl")
    return trust


@pytest.fixture
def rw_config(trust_with_bank: Path, tmp_path: Path) -> Config:
    data = tmp_path / "var"
    data.mkdir()
    return Config(
        server=ServerConfig(max_request_bytes=50 << 20),
        verification=VerificationConfig(trust_dir=trust_with_bank),
        storage=StorageConfig(data_dir=data, members_csv=members_csv(tmp_path / "members.csv")),
        limits=LimitsConfig(archive_max_total_bytes=20 << 20, archive_max_entry_bytes=20 << 20),
        mail=MailConfig(eml_dir=tmp_path / "mail"),
    )


@pytest.fixture
async def rw_client(aiohttp_client: ClientFactory, rw_config: Config) -> TestClient:
    return await aiohttp_client(create_app(rw_config))


@pytest.fixture
def kit(people: TestPki, bank_pki: BankPki, tsa: TsaPki, tmp_path: Path) -> Kit:
    """Builds one package in ``tmp_path``."""
    return Kit(people, bank_pki, tsa, tmp_path / "pkg")
