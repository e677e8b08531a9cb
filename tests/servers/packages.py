"""Packages and members as the gateway tests need them, and HTTP helpers to send them."""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from gateway.config import Config, DeliveryConfig
from tests.pki.builder import HEAD_EMAIL, KPK_INNLE, KPK_NAME, KPK_OGRN, TestPki

__all__ = [
    "MEMBER",
    "HEAD",
    "REPORT",
    "LETTER",
    "FAST",
    "members_csv",
    "signed_copy",
    "make_zip",
    "report_zip",
    "large_report_zip",
    "submit",
    "decided",
    "run_package",
    "wait_for",
    "outbox_rows",
    "status_of",
    "codes",
    "ClientFactory",
]

ClientFactory = Callable[..., Awaitable[TestClient]]

MEMBER = "42"
HEAD = "Иванов Иван Петрович"
REPORT = {"member": MEMBER, "doc_type": "report", "report_kind": "OD_Q1"}
LETTER = {"member": MEMBER, "doc_type": "letter"}

#: Delivery settings that retry fast and send no digest (tests wait for outcomes).
FAST = DeliveryConfig(base_delay=0.05, max_delay=0.5, poll_interval=0.05, max_attempts=5, digest_hour_utc=-1, email_rate_per_second=0)


def members_csv(path: Path, head: str = HEAD) -> Path:
    """The member list: member 42 (the test PKI's cooperative) active, 13 excluded."""
    path.write_text(
        "number,ogrn,inn,name,email,head,status\n"
        f'{MEMBER},{KPK_OGRN},{KPK_INNLE},"{KPK_NAME}",{HEAD_EMAIL},{head},active\n'
        "13,1037700000007,7700000016,КПК «Бывший»,old@example.ru,Сидоров Пётр,excluded\n",
        encoding="utf-8",
    )
    return path


def signed_copy(pki: TestPki, folder: Path, name: str, content: bytes, label: str = "head256") -> list[Path]:
    """``name`` with ``content`` and its detached signature by ``label``."""
    folder.mkdir(parents=True, exist_ok=True)
    document = folder / name
    document.write_bytes(content)
    return [document, pki.sign(label, document, folder / (name + ".sig"))]


def make_zip(path: Path, files: list[Path], arcnames: list[str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, file in enumerate(files):
            archive.write(file, arcnames[index] if arcnames else file.name)
    return path


def report_zip(pki: TestPki, tmp_path: Path, name: str = f"{MEMBER}_OD.zip", label: str = "head256", extra: list[Path] | None = None) -> Path:
    """A report package: one signed XML report (plus ``extra`` files) in ``name``."""
    inner = signed_copy(pki, tmp_path / "report", "report.xml", "<Отчет>ОД КПК</Отчет>".encode(), label)
    return make_zip(tmp_path / name, inner + (extra or []))


def large_report_zip(pki: TestPki, tmp_path: Path) -> Path:
    """A report package with a signed 40 MB XML report, stored uncompressed: its validation
    takes about a second (unpacking, Streebog), long enough to catch it in progress."""
    document = tmp_path / "report.xml"
    with open(document, "wb") as out:
        out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<report>\n' + b"<row>1</row>\n" * (3 << 20) + b"</report>\n")
    signature = pki.sign("head256", document, tmp_path / "report.xml.sig")
    package = tmp_path / f"{MEMBER}_OD.zip"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_STORED) as archive:
        archive.write(document, "report.xml")
        archive.write(signature, "report.xml.sig")
    return package


async def submit(client: TestClient, fields: dict[str, str], files: dict[str, list[Path]], headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    for key, value in fields.items():
        form.add_field(key, value)
    for slot, paths in files.items():
        for path in paths:
            form.add_field(slot, path.read_bytes(), filename=path.name)
    return await client.post("/api/v1/submissions", data=form, headers=headers or {})


async def decided(client: TestClient, submission_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Poll until decided (bounded: 30 s)."""
    for _ in range(300):
        response = await client.get(f"/api/v1/submissions/{submission_id}/report", headers=headers or {})
        if response.status == 200:
            return await response.json()
        assert response.status == 202, await response.text()
        await asyncio.sleep(0.1)
    raise AssertionError("no decision within 30 s")


async def run_package(client: TestClient, fields: dict[str, str], files: dict[str, list[Path]]) -> dict[str, Any]:
    response = await submit(client, fields, files)
    assert response.status == 202, await response.text()
    return await decided(client, (await response.json())["id"])


async def wait_for(condition: Callable[[], Awaitable[bool] | bool], seconds: float = 20) -> None:
    """Poll ``condition`` every 50 ms until true; AssertionError after ``seconds``."""
    for _ in range(int(seconds / 0.05)):
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def outbox_rows(config: Config) -> list[dict[str, Any]]:
    from gateway.delivery.outbox import Outbox
    from gateway.store.db import Database

    return Outbox(Database(config.storage.data_dir / "gateway.sqlite3")).rows(limit=1000)


async def status_of(client: TestClient, submission_id: str) -> dict[str, Any]:
    """``GET /api/v1/submissions/{id}`` as JSON."""
    return await (await client.get(f"/api/v1/submissions/{submission_id}")).json()  # type: ignore[no-any-return]


def codes(report: dict[str, Any]) -> set[str]:
    """The finding codes of a package report."""
    return {c["code"] for c in report["checks"]}


def stored_report(config: Config, pki: TestPki, tmp_path: Path, killed: int = 0) -> str:
    """A correct report package recorded as received (as if uploaded before a restart),
    whose validation was started ``killed`` times by processes that died before deciding."""
    from gateway.store.blobs import BlobStore
    from gateway.store.db import Database
    from gateway.store.submissions import NewSubmission, StoredFile, SubmissionRepository

    package = report_zip(pki, tmp_path)
    writer = BlobStore(config.storage.data_dir / "files").writer()
    writer.write(package.read_bytes())
    blob = writer.commit()
    database = Database(config.storage.data_dir / "gateway.sqlite3")
    try:
        repository = SubmissionRepository(database)
        submission_id, _ = repository.create(NewSubmission(MEMBER, "report", "OD_Q1", None, None), [StoredFile(0, "document", package.name, blob)])
        for attempt in range(1, killed + 1):
            assert repository.claim(submission_id) == attempt
    finally:
        database.close()
    return submission_id


def letter_by_accountant(pki: TestPki, folder: Path, extra_in_archive: list[Path] | None = None) -> dict[str, list[Path]]:
    """Cover letter and supporting archive signed with the chief accountant's personal certificate."""
    folder.mkdir(parents=True, exist_ok=True)
    from tests.pki import pdf as pdfs

    cover = pdfs.make_pdf(folder / "Письмо.pdf", "Cover letter")
    cover_sig = pki.sign("accountant_personal", cover, folder / "Письмо.pdf.sig")
    inner = signed_copy(pki, folder / "att", "Справка.pdf", pdfs.make_pdf(folder / "s.pdf").read_bytes(), "accountant_personal")
    attachment = make_zip(folder / "Приложение.zip", inner + (extra_in_archive or []))
    return {"document": [cover], "signature": [cover_sig], "attachment": [attachment]}
