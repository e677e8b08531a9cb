"""The daily staff digest: the returned and rejected packages of a Moscow day, queued as
one email (idempotent by the day)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from gateway.delivery.jobs import email_job
from gateway.delivery.mail.contexts import StaffDigestEmail
from gateway.moscow import msk_day_bounds, msk_today
from gateway.render.labels import kind_ru
from gateway.store.submissions import SubmissionRepository, digest_rows

__all__ = ["digest_context", "enqueue_digest", "digest_day", "digest_scheduler"]


def digest_context(connection: sqlite3.Connection, day: str) -> StaffDigestEmail:
    """The returned and rejected packages decided on ``day`` (a Moscow day, ``YYYY-MM-DD``),
    for the staff digest."""
    start, end = msk_day_bounds(date.fromisoformat(day))
    items = []
    for row in digest_rows(connection, start, end):
        report = row.report
        problems = report.problems if report is not None else ()
        items.append(
            {
                "submission_id": row.submission_id,
                "member": row.member,
                "member_name": report.member.name if report is not None and report.member is not None else "",
                "doc_type_ru": kind_ru(report) if report is not None else "",
                "decision_ru": report.decision_ru if report is not None else row.decision,
                "first_problem": problems[0].message_ru if problems else "",
            }
        )
    return StaffDigestEmail(date=day, items=items)


def enqueue_digest(repository: SubmissionRepository, staff_address: str, day: str) -> bool:
    """Queue the staff digest of ``day`` once (idempotent by date)."""
    with repository.db.transaction() as connection:
        context = digest_context(connection, day)
        return email_job(connection, f"email:digest:{day}", staff_address, context)


def digest_day(now: datetime) -> str:
    """The day a digest sent at ``now`` covers: the whole previous Moscow day."""
    return (msk_today(now) - timedelta(days=1)).isoformat()


async def digest_scheduler(repository: SubmissionRepository, wake: Callable[[], None], hour_utc: int, staff_address: str) -> None:
    """Every day from ``hour_utc`` on: the digest of the previous Moscow day's returned and
    rejected packages (once per day: the outbox deduplicates by the day); ``wake`` tells the
    outbox worker."""
    while True:
        now = datetime.now(UTC)
        if 0 <= hour_utc <= now.hour and await asyncio.get_running_loop().run_in_executor(
            None, enqueue_digest, repository, staff_address, digest_day(now)
        ):
            wake()
        await asyncio.sleep(60)
