"""A validation that never finishes (the process killed or crashed inside it) is not
retried forever: attempts are counted in the submission row when claimed, and past the
configured number the package is decided with ``processing.error`` (issue 9, section 4).

A drill kills the real server twice while it validates a package (at a state seen in
the database); the other tests simulate the kills the way they look in the database:
claims through the repository that are never followed by a decision, then a restart of
the real application."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import Config
from gateway.store.db import Database
from gateway.store.report import PackageReport
from gateway.store.status import Decision
from gateway.store.submissions import SubmissionRepository
from tests.pki.builder import TestPki
from tests.servers.gateway import Gateway, submission_rows, wait_for_submission
from tests.servers.packages import MEMBER, REPORT, decided, large_report_zip, stored_report, wait_for

ClientFactory = Callable[..., Awaitable[TestClient]]


async def test_validation_killed_twice_is_decided_as_processing_error_without_a_third_try(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    submission_id = stored_report(config, pki, tmp_path, killed=2)
    client = await aiohttp_client(create_app(config))
    report = await decided(client, submission_id)
    assert [c["code"] for c in report["checks"]] == ["processing.error"]
    assert "2 times" in report["checks"][0]["detail"]
    assert report["checks"][0]["message_ru"] == "Пакет не удалось проверить из-за внутренней ошибки шлюза."
    assert report["decision"] == "returned" and report["signatures"] == []  # the package was not opened again
    assert report["files"][0]["name"] == f"{MEMBER}_OD.zip" and len(report["files"][0]["sha256"]) == 64
    status = await (await client.get(f"/api/v1/submissions/{submission_id}")).json()
    assert status["status"] == "returned"  # visible to staff: the report, the digest, /metrics
    [row] = submission_rows(config.storage.data_dir)
    assert row["attempts"] == 3


async def test_validation_killed_once_is_tried_again_and_decided_normally(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    submission_id = stored_report(config, pki, tmp_path, killed=1)
    client = await aiohttp_client(create_app(config))
    report = await decided(client, submission_id)
    assert report["decision"] == "accepted", report["checks"]
    [row] = submission_rows(config.storage.data_dir)
    assert row["attempts"] == 2


async def test_the_number_of_attempts_is_configuration(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    submission_id = stored_report(config, pki, tmp_path, killed=2)
    patient = dataclasses.replace(config, limits=dataclasses.replace(config.limits, validation_max_attempts=3))
    client = await aiohttp_client(create_app(patient))
    assert (await decided(client, submission_id))["decision"] == "accepted"


def test_a_decided_submission_cannot_be_claimed(config: Config, pki: TestPki, tmp_path: Path) -> None:
    submission_id = stored_report(config, pki, tmp_path, killed=1)
    database = Database(config.storage.data_dir / "gateway.sqlite3")
    try:
        repository = SubmissionRepository(database)
        repository.decide(submission_id, Decision.ACCEPTED, PackageReport.from_json({"decision": "accepted", "decision_ru": "Принят", "doc_type": "report", "checks": []}))
        assert repository.claim(submission_id) is None
    finally:
        database.close()


async def test_scratch_left_by_a_killed_validation_is_removed_at_start(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    leftover = config.storage.data_dir / "work" / "package-killed" / "archive-0"
    leftover.mkdir(parents=True)
    (leftover / "report.xml").write_bytes(b"<x/>")
    submission_id = stored_report(config, pki, tmp_path, killed=1)
    client = await aiohttp_client(create_app(config))
    await decided(client, submission_id)
    # The leftover and this validation's own scratch (removed in the background) both go.
    await wait_for(lambda: list((config.storage.data_dir / "work").iterdir()) == [])


def test_server_killed_twice_while_validating_decides_processing_error_after_the_next_start(gateway_process: Gateway, pki: TestPki, tmp_path: Path) -> None:
    import asyncio
    import zipfile

    import aiohttp

    from tests.servers.packages import REPORT

    document = tmp_path / "report.xml"
    document.write_bytes(b"<x>" + bytes(40 << 20) + b"</x>")  # validation lasts a while (unpacking, digests)
    signature = pki.sign("head256", document, tmp_path / "report.xml.sig")
    package = tmp_path / f"{MEMBER}_OD.zip"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_STORED) as archive:
        archive.write(document, "report.xml")
        archive.write(signature, "report.xml.sig")
    data = tmp_path / "var"

    async def report(submission_id: str) -> dict[str, object]:
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                async with session.get(f"{gateway_process.url}/api/v1/submissions/{submission_id}/report") as response:
                    if response.status == 200:
                        return dict(await response.json())
                await asyncio.sleep(0.1)
        raise AssertionError("not decided")

    gateway_process.start()
    submission_id = gateway_process.upload(package, REPORT)
    for attempt in (1, 2):
        wait_for_submission(data, lambda row, attempt=attempt: row["status"] == "validating" and row["attempts"] == attempt)
        gateway_process.kill()
        gateway_process.start()
    decided_report = asyncio.run(report(submission_id))
    assert [c["code"] for c in decided_report["checks"]] == ["processing.error"]  # type: ignore[union-attr]
    [row] = submission_rows(data)
    assert (row["decision"], row["attempts"]) == ("returned", 3)


async def test_a_graceful_stop_during_validation_does_not_count_as_an_attempt(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    submission_id = stored_report(config, pki, tmp_path, killed=1)  # one real crash already
    database = Database(config.storage.data_dir / "gateway.sqlite3")
    try:
        repository = SubmissionRepository(database)
        assert repository.claim(submission_id) == 2  # a second start claimed it...
        assert repository.release(submission_id)  # ...and was stopped gracefully
        row = repository.get(submission_id)
        assert row is not None and (row.status, row.attempts) == ("received", 1)
        assert not repository.release(submission_id)  # only a submission being validated
    finally:
        database.close()
    client = await aiohttp_client(create_app(config))
    report = await decided(client, submission_id)
    assert report["decision"] == "accepted", report["checks"]  # validated, not given up


async def test_stopping_the_service_mid_validation_releases_the_claim(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    package = large_report_zip(pki, tmp_path)  # its validation takes about a second: the stop lands while it runs
    big = dataclasses.replace(config, limits=dataclasses.replace(config.limits, archive_max_total_bytes=100 << 20, archive_max_entry_bytes=100 << 20))
    client = await aiohttp_client(create_app(big))
    form = aiohttp.FormData()
    for key, value in REPORT.items():
        form.add_field(key, value)
    with open(package, "rb") as stream:  # a stream: aiohttp warns about large bytes payloads
        form.add_field("document", stream, filename=package.name)
        response = await client.post("/api/v1/submissions", data=form)
    assert response.status == 202, await response.text()
    submission_id = (await response.json())["id"]
    database = Database(config.storage.data_dir / "gateway.sqlite3")
    try:
        repository = SubmissionRepository(database)

        def validating() -> bool:
            row = repository.get(submission_id)
            return row is not None and row.status == "validating"

        await wait_for(validating)
        await client.close()  # the application's clean-up stops the pipeline mid-validation
        row = repository.get(submission_id)
        assert row is not None and (row.status, row.attempts) == ("received", 0)
    finally:
        database.close()
