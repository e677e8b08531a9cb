"""Reports and stamps as staff and members read them: the stamp heading follows the result,
full-hex serials, the issuer by name, Moscow dates, Russian kind names, «Проверен» only for
the staff status, the member's copy without staff-only detail, the digest of the previous
Moscow day with links, sent once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import Config
from gateway.delivery.digest import digest_context, digest_day, enqueue_digest
from gateway.keys import OUTBOX_WORKER_KEY, REPOSITORY_KEY
from gateway.moscow import MSK
from gateway.render.html import render_html
from gateway.render.stamps import QUALIFIED_HEADING, issuer_name, serial_full_hex, stamp_heading
from gateway.store.db import Database
from gateway.store.report import PackageReport
from gateway.store.status import Decision
from gateway.store.submissions import NewSubmission, SubmissionRepository
from tests.pki.builder import TestPki
from tests.servers.mail import eml_messages, text_of
from tests.servers.packages import MEMBER, REPORT, report_zip, run_package, wait_for
from tests.servers.report_samples import REPORT_JSON, SIGNATURE

ClientFactory = Callable[..., Awaitable[TestClient]]


def test_heading_is_qualified_only_for_a_valid_qualified_signature() -> None:
    assert stamp_heading(SIGNATURE) == QUALIFIED_HEADING
    assert stamp_heading({**SIGNATURE, "qualified": False}) != QUALIFIED_HEADING
    assert "НЕ ЯВЛЯЮЩЕЙСЯ КВАЛИФИЦИРОВАННОЙ" in stamp_heading({**SIGNATURE, "qualified": False})
    revoked = stamp_heading({**SIGNATURE, "indication": "TOTAL_FAILED", "sub_indication": "REVOKED", "qualified": False})
    assert revoked == "ПОДПИСЬ НЕДЕЙСТВИТЕЛЬНА: сертификат подписанта отозван"
    assert "проверка будет повторена" in stamp_heading({**SIGNATURE, "indication": "INDETERMINATE", "sub_indication": "TRY_LATER", "qualified": False})


def test_serial_is_printed_in_full_with_leading_zeros() -> None:
    assert serial_full_hex("ABC") == "0ABC"
    assert serial_full_hex("1A2B") == "1A2B"
    assert serial_full_hex("80FF") == "0080FF"  # the DER sign byte of a serial with the top bit set
    assert serial_full_hex("7C00000123") == "7C00000123"


def test_issuer_is_named_not_spelled_as_a_dn() -> None:
    assert issuer_name("CN=УЦ ФНС России, O=Федеральная налоговая служба, C=RU") == "УЦ ФНС России"
    assert issuer_name("O=Банк России, C=RU") == "Банк России"


def test_qualified_status_is_shown_apart_from_the_verdict() -> None:
    failed = {**SIGNATURE, "indication": "TOTAL_FAILED", "sub_indication": "HASH_FAILURE", "qualified": False}
    html = render_html(PackageReport.from_json({**REPORT_JSON, "signatures": [failed]}))
    assert "ПОДПИСЬ НЕДЕЙСТВИТЕЛЬНА: документ изменён после подписания" in html
    assert "Сертификат квалифицированный: да" in html


def test_report_uses_moscow_time_russian_kind_names_and_full_serials() -> None:
    html = render_html(PackageReport.from_json(REPORT_JSON))
    assert "01.04.2026 00:30" in html  # 21:30 UTC is half past midnight in Moscow
    assert "OD 31 марта (первый квартал)" in html and "OD_Q1" not in html
    assert "01A2B" not in html and ">1A2B<" in html
    assert "УЦ ФНС России" in html and "O=Федеральная налоговая служба" not in html


def test_only_the_staff_status_is_labelled_проверен() -> None:
    assert "Проверен" not in render_html(PackageReport.from_json(REPORT_JSON))
    html = render_html(PackageReport.from_json({**REPORT_JSON, "submission": {**REPORT_JSON["submission"], "staff_decision": "verified", "staff_comment": "Всё в порядке"}}))
    assert "Решение сотрудника СРО: <b class=\"verified\">Проверен</b> — «Всё в порядке»" in html
    assert "Автоматическая проверка: <b class=\"returned\">Возвращен на доработку</b>" in html


def test_member_copy_leaves_out_staff_only_detail() -> None:
    staff = render_html(PackageReport.from_json(REPORT_JSON), "staff")
    member = render_html(PackageReport.from_json(REPORT_JSON), "member")
    assert "STAFF-ONLY" in staff and "SECRET-STEP" in staff
    assert "STAFF-ONLY" not in member and "SECRET-STEP" not in member
    assert "Подпишите у руководителя" in member and QUALIFIED_HEADING in member


async def test_emailed_report_is_the_member_copy_with_its_charset(aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(delivery_config))
    await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path, label="accountant256")]})
    await wait_for(lambda: len(eml_messages(tmp_path / "mail")) == 1)
    [message] = eml_messages(tmp_path / "mail")
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/html" and attachment.get_content_charset() == "utf-8"
    html = attachment.get_content()
    assert "Подробности для СРО" not in html and "Шаги проверки" not in html and "signer.not_head" not in html
    assert "Возвращен на доработку" in html


# --- the staff digest ---------------------------------------------------------------------------


def _decided_at(database: Database, moment: str) -> str:
    repository = SubmissionRepository(database)
    submission_id, _ = repository.create(NewSubmission(MEMBER, "charter", None, None, None), [])
    repository.decide(submission_id, Decision.RETURNED, PackageReport.from_json({"decision": "returned", "checks": [], "decision_ru": "Возвращен на доработку", "doc_type": "report"}))
    with database.transaction() as connection:
        connection.execute("UPDATE submissions SET decided_at = ? WHERE id = ?", (moment, submission_id))
    return submission_id


def test_digest_covers_the_whole_moscow_day(tmp_path: Path) -> None:
    database = Database(tmp_path / "g.sqlite3")
    late_evening_utc = _decided_at(database, "2026-03-31T22:30:00Z")  # 01:30 on 1 April in Moscow
    early_morning_utc = _decided_at(database, "2026-03-31T20:59:59Z")  # 23:59:59 on 31 March in Moscow
    with database.transaction() as connection:
        april = [i["submission_id"] for i in digest_context(connection, "2026-04-01").items]
        march = [i["submission_id"] for i in digest_context(connection, "2026-03-31").items]
    assert april == [late_evening_utc] and march == [early_morning_utc]


def test_digest_sent_at_any_hour_covers_the_previous_moscow_day() -> None:
    assert digest_day(datetime(2026, 4, 1, 5, 0, tzinfo=UTC)) == "2026-03-31"
    assert digest_day(datetime(2026, 4, 1, 22, 0, tzinfo=UTC)) == "2026-04-01"  # 01:00 on 2 April in Moscow


async def test_digest_links_to_package_pages_and_is_sent_once(aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    app = create_app(delivery_config)
    client = await aiohttp_client(app)
    report = await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path, label="accountant256")]})
    submission_id = report["submission"]["id"]
    day = datetime.fromisoformat(report["submission"]["received_at"].replace("Z", "+00:00")).astimezone(MSK).date().isoformat()
    assert await asyncio.to_thread(enqueue_digest, app[REPOSITORY_KEY], "staff@sro.local", day)
    assert not await asyncio.to_thread(enqueue_digest, app[REPOSITORY_KEY], "staff@sro.local", day)
    app[OUTBOX_WORKER_KEY].wake()  # type: ignore[attr-defined]
    await wait_for(lambda: any(m["To"] == "staff@sro.local" for m in eml_messages(tmp_path / "mail")))
    digests = [m for m in eml_messages(tmp_path / "mail") if m["To"] == "staff@sro.local"]
    assert len(digests) == 1
    assert f"/staff/submissions/{submission_id}" in text_of(digests[0])
