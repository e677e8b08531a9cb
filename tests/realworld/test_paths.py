"""The same genuine packages through the other real paths: ``gateway check`` (a
subprocess, as staff and members' IT run it), and with the revocation status fetched
online from the CA (CDP CRL, AIA OCSP on a loopback server) or carried inside the
signature (CAdES-XL ``revocationValues``) when the CA cannot be reached."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import Config, LimitsConfig, MailConfig, ServerConfig, StorageConfig, VerificationConfig
from tests.pki.online import OnlinePki, RevocationServer
from tests.pki.tsa import TsaPki
from tests.realworld.cases import CASES
from tests.realworld.kit import Kit
from tests.servers.cli import gateway
from tests.servers.packages import MEMBER, ClientFactory, members_csv, run_package

CLI_CASES = [
    "report-cp866-names-nested-folders",
    "letter-repacked-rar5",
    "letter-representative-poa-part-cp1251-no-namespace",
    "audit_conclusion-chair-signs-conclusion-in-archive",
]


@pytest.mark.parametrize("name", CLI_CASES)
def test_gateway_check_accepts_the_genuine_package(name: str, kit: Kit, trust_with_bank: Path, tmp_path: Path) -> None:
    fields, files = CASES[name](kit)
    args = ["check", "--doc-type", fields["doc_type"], "--member", MEMBER, "--members", str(members_csv(tmp_path / "m.csv")),
            "--trust", str(trust_with_bank), "--json"]
    for option in ("report_kind", "regulation_kind"):
        if option in fields:
            args += [f"--{option.replace('_', '-')}", fields[option]]
    run = gateway(*args, *(str(p) for paths in files.values() for p in paths))
    output = json.loads(run.stdout) if run.stdout.startswith("{") else {}
    assert (run.returncode, output.get("decision")) == (0, "accepted"), run.stdout + run.stderr


def _online_config(online_pki: OnlinePki, tmp_path: Path) -> Config:
    data = tmp_path / "var"
    data.mkdir()
    return Config(
        server=ServerConfig(max_request_bytes=50 << 20),
        verification=VerificationConfig(trust_dir=online_pki.trust_copy(tmp_path / "trust"), fetch_retry_after_seconds=0.0, fetch_connect_timeout=2.0),
        storage=StorageConfig(data_dir=data, members_csv=members_csv(tmp_path / "members.csv")),
        limits=LimitsConfig(archive_max_total_bytes=20 << 20, archive_max_entry_bytes=20 << 20),
        mail=MailConfig(eml_dir=tmp_path / "mail"),
    )


@pytest.fixture
async def online_client(aiohttp_client: ClientFactory, online_pki: OnlinePki, tmp_path: Path) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(_online_config(online_pki, tmp_path)))


def _online_report(kit: Kit, online_pki: OnlinePki, label: str, embed: bool) -> Path:
    xml = kit.file("report.xml", "<Отчет>ОД КПК</Отчет>".encode())
    sig = online_pki.sign(label, xml, xml.with_name("report.xml.sig"))
    if embed:
        TsaPki.add_revocation_values(sig, [online_pki.crl("ca").read_bytes(), online_pki.crl("root").read_bytes()])
    return kit.archive(f"{MEMBER}_OD.zip", [(xml.name, xml), (sig.name, sig)])


@pytest.mark.parametrize("label", ["crl_good", "ocsp_good"])
async def test_report_accepted_with_revocation_fetched_online(label: str, kit: Kit, online_pki: OnlinePki, online_client: TestClient) -> None:  # type: ignore[type-arg]
    package = await asyncio.to_thread(_online_report, kit, online_pki, label, False)
    with RevocationServer(online_pki):
        report = await run_package(online_client, {"member": MEMBER, "doc_type": "report", "report_kind": "OD_Q1"}, {"document": [package]})
    assert report["decision"] == "accepted", report["checks"]


async def test_report_accepted_with_revocation_embedded_while_the_ca_is_unreachable(kit: Kit, online_pki: OnlinePki, online_client: TestClient) -> None:  # type: ignore[type-arg]
    package = await asyncio.to_thread(_online_report, kit, online_pki, "crl_good", True)
    report = await run_package(online_client, {"member": MEMBER, "doc_type": "report", "report_kind": "OD_Q1"}, {"document": [package]})
    assert report["decision"] == "accepted", report["checks"]
