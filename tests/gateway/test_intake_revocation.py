"""Intake with online revocation: the CA's CRL (CDP) or OCSP responder (AIA) served by a real
aiohttp server on 127.0.0.1. A package whose revocation status cannot be obtained is held
(awaiting_revocation) and re-checked, never returned to the member before the grace period."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import Config, LimitsConfig, ServerConfig, StorageConfig, VerificationConfig
from gateway.keys import DATABASE_KEY
from tests.pki import pdf as pdfs
from tests.pki.online import OnlinePki, RevocationServer
from tests.servers.packages import MEMBER, ClientFactory, codes, decided, members_csv, submit, wait_for


def _config(online_pki: OnlinePki, tmp_path: Path, grace_hours: float = 24.0) -> Config:
    data = tmp_path / "var"
    data.mkdir(exist_ok=True)
    return Config(
        server=ServerConfig(max_request_bytes=50 << 20),
        verification=VerificationConfig(
            trust_dir=online_pki.trust_copy(tmp_path / "trust"),
            fetch_retry_after_seconds=0.0,
            fetch_connect_timeout=2.0,
            revocation_grace_hours=grace_hours,
            revocation_recheck_seconds=0.2,
        ),
        storage=StorageConfig(data_dir=data, members_csv=members_csv(tmp_path / "members.csv")),
        limits=LimitsConfig(archive_max_total_bytes=20 << 20, archive_max_entry_bytes=20 << 20),
    )


@pytest.fixture
async def client(aiohttp_client: ClientFactory, online_pki: OnlinePki, tmp_path: Path) -> TestClient:
    return await aiohttp_client(create_app(_config(online_pki, tmp_path)))


async def _submit_regulation(client: TestClient, online_pki: OnlinePki, tmp_path: Path, label: str) -> str:
    regulation = pdfs.make_pdf(tmp_path / "Положение.pdf", "Regulation")
    signature = online_pki.sign(label, regulation, tmp_path / "Положение.pdf.sig")
    response = await submit(
        client, {"member": MEMBER, "doc_type": "regulation", "regulation_kind": "loans"}, {"document": [regulation], "signature": [signature]}
    )
    assert response.status == 202, await response.text()
    return str((await response.json())["id"])


async def _status_becomes(client: TestClient, submission_id: str, *wanted: str) -> dict[str, Any]:
    """Poll (bounded: 20 s) until the status is one of ``wanted``."""
    for _ in range(400):
        record = await (await client.get(f"/api/v1/submissions/{submission_id}")).json()
        if record["status"] in wanted:
            return record  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"status stayed {record['status']!r}, wanted {wanted!r}")


@pytest.mark.parametrize("label", ["crl_good", "ocsp_good"])
async def test_good_certificate_is_accepted_with_revocation_fetched_online(client: TestClient, online_pki: OnlinePki, tmp_path: Path, label: str) -> None:
    with RevocationServer(online_pki):
        report = await decided(client, await _submit_regulation(client, online_pki, tmp_path, label))
    assert report["decision"] == "accepted", report["checks"]


@pytest.mark.parametrize("label", ["crl_revoked", "ocsp_revoked"])
async def test_revoked_certificate_is_rejected_with_revocation_fetched_online(client: TestClient, online_pki: OnlinePki, tmp_path: Path, label: str) -> None:
    with RevocationServer(online_pki):
        report = await decided(client, await _submit_regulation(client, online_pki, tmp_path, label))
    assert report["decision"] == "rejected"
    assert "signature.revoked" in codes(report)


@pytest.mark.parametrize("label", ["crl_good", "ocsp_good"])
async def test_ca_unreachable_holds_the_package_then_accepts_it_when_the_ca_is_back(
    client: TestClient, online_pki: OnlinePki, tmp_path: Path, label: str
) -> None:
    submission_id = await _submit_regulation(client, online_pki, tmp_path, label)
    record = await _status_becomes(client, submission_id, "awaiting_revocation")
    assert record["decision"] is None
    report = await client.get(f"/api/v1/submissions/{submission_id}/report")
    assert report.status == 202, "no report (and no email) while the package waits"
    metrics = await (await client.get("/metrics")).text()
    assert 'gateway_submissions{status="awaiting_revocation"} 1' in metrics
    database = client.app[DATABASE_KEY]

    def rechecked() -> bool:
        rows = database.query("SELECT checks FROM revocation_waits WHERE submission_id = ?", submission_id)
        return bool(rows) and rows[0]["checks"] >= 2

    await wait_for(rechecked)  # validated again with the CA still down: still not decided
    record = await (await client.get(f"/api/v1/submissions/{submission_id}")).json()
    assert record["decision"] is None and record["status"] in ("awaiting_revocation", "received", "validating")
    with RevocationServer(online_pki):
        # The embedded local registry may register it at once.
        await _status_becomes(client, submission_id, "accepted", "registered")
    final = await decided(client, submission_id)
    assert final["decision"] == "accepted", final["checks"]
    assert not {"signature.revocation_unknown", "signature.revocation_unavailable"} & codes(final)


async def test_after_the_grace_period_the_package_is_returned_saying_nothing_needs_changing(
    aiohttp_client: ClientFactory, online_pki: OnlinePki, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(_config(online_pki, tmp_path, grace_hours=0.0)))
    report = await decided(client, await _submit_regulation(client, online_pki, tmp_path, "crl_good"))
    assert report["decision"] == "returned"
    found = [c for c in report["checks"] if c["code"] == "signature.revocation_unavailable"]
    assert found and "signature.revocation_unknown" not in codes(report)
    assert "СРО не удалось проверить статус сертификата" in found[0]["message_ru"]
    assert found[0]["remedy_ru"].startswith("Менять ничего не нужно")


async def test_a_package_with_another_problem_is_not_held(client: TestClient, online_pki: OnlinePki, tmp_path: Path) -> None:
    """Holding is only for "status unknown": a package that is wrong anyway is decided at once."""
    regulation = pdfs.make_pdf(tmp_path / "Положение.pdf", "Regulation")
    signature = online_pki.sign("crl_good", regulation, tmp_path / "Положение.pdf.sig")
    response = await submit(client, {"member": "13", "doc_type": "regulation", "regulation_kind": "loans"}, {"document": [regulation], "signature": [signature]})
    report = await decided(client, str((await response.json())["id"]))
    assert report["decision"] == "rejected"
