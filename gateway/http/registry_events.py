"""What the registry tells the gateway: staff decisions on registered packages and notices
for members (SPEC sections 6–7, seed sections 8–9). Both are recorded and turned into
emails through the outbox in one transaction; repeating a request changes nothing."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import sqlite3
from datetime import date, datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from gateway.http.responses import error_response
from gateway.http.uploads import UploadRefused, read_json_body
from gateway.delivery.jobs import email_job
from gateway.delivery.mail.contexts import EmailContext, IncomingNoticeEmail, MassMailingEmail, StaffDecisionEmail, StaffDigestEmail
from gateway.keys import CONFIG_KEY, MEMBERS_KEY, OUTBOX_WORKER_KEY, REPOSITORY_KEY, ROLE_KEY
from gateway.render.labels import STAFF_DECISION_RU, kind_ru
from gateway.moscow import msk_day_bounds, msk_today
from gateway.store.db import now_iso
from gateway.store.events import record_event
from gateway.store.report import PackageReport
from gateway.store.submissions import stored_report
from validators.members import Member

__all__ = ["setup_event_routes", "digest_context", "enqueue_digest", "record_staff_decision", "STAFF_DECISIONS", "digest_day"]

STAFF_DECISIONS = STAFF_DECISION_RU
_MAX_TEXT = 20000


async def _json_body(request: web.Request) -> dict[str, Any] | web.Response:
    if request.get(ROLE_KEY) not in ("registry", "staff"):
        return error_response(403, "auth.forbidden", "Нет доступа к этому ресурсу.", "registry or staff key required")
    server = request.app[CONFIG_KEY].server
    try:
        body = await read_json_body(request, server.max_json_bytes, server.body_timeout)
    except UploadRefused as refusal:
        return refusal.response
    if not isinstance(body, dict):
        return error_response(400, "request.malformed", "Запрос повреждён: ожидается объект JSON.", "body is not a JSON object")
    for key, value in body.items():
        if isinstance(value, str) and len(value) > _MAX_TEXT:
            return error_response(400, "request.field", f"Поле {key} слишком длинное.", f"{key}: {len(value)} characters")
    return body


def _derived_id(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


def record_staff_decision(
    repository: Any,
    decision: str,
    comment: str,
    *,
    submission_id: str | None = None,
    incoming_number: str | None = None,
    event_id: str | None = None,
    actor: str = "registry",
) -> tuple[int, str, bool]:
    """Record a staff decision on a registered package, its «Движения» event and the member's
    email, in one transaction: (HTTP status, event id or submission id, duplicate).

    The registry's callback and the staff workspace's form both come here.
    """
    with repository.db.transaction() as connection:
        row = None
        if submission_id:
            row = connection.execute("SELECT * FROM submissions WHERE id = ?", (submission_id,)).fetchone()
        elif incoming_number:
            row = connection.execute("SELECT * FROM submissions WHERE incoming_number = ?", (incoming_number,)).fetchone()
        if row is None:
            return 404, "", False
        if row["status"] != "registered":
            return 409, row["id"], False
        event_id = event_id or _derived_id(row["id"], decision, comment)
        inserted = connection.execute(
            "INSERT OR IGNORE INTO registry_events (event_id, submission_id, decision, comment, received_at) VALUES (?, ?, ?, ?, ?)",
            (event_id, row["id"], decision, comment, now_iso()),
        ).rowcount == 1
        if inserted:
            connection.execute("UPDATE submissions SET staff_decision = ?, staff_comment = ? WHERE id = ?", (decision, comment, row["id"]))
            record_event(connection, row["id"], "staff_decision", actor, {"decision": decision, "comment": comment, "event_id": event_id})
            stored = stored_report(connection, row["id"])
            if row["member_email"]:
                context = StaffDecisionEmail(
                    member_name=stored.member.name if stored is not None and stored.member is not None else row["member"],
                    doc_type_ru=(stored.doc_type_ru or "") if stored is not None else row["doc_type"],
                    incoming_number=row["incoming_number"],
                    decision=decision,
                    comment=comment,
                )
                email_job(
                    connection,
                    f"email:event:{event_id}",
                    row["member_email"],
                    context,
                    row["id"],
                )
        return 200, event_id, not inserted


async def registry_event(request: web.Request) -> web.Response:
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    decision = body.get("decision")
    if decision not in STAFF_DECISIONS:
        return error_response(400, "event.decision", "Неизвестное решение: ожидается verified, returned или rejected.", f"decision {decision!r}")
    repository = request.app[REPOSITORY_KEY]
    comment = str(body.get("comment") or "")
    loop = asyncio.get_running_loop()
    status, ident, duplicate = await loop.run_in_executor(
        None,
        functools.partial(
            record_staff_decision,
            repository,
            decision,
            comment,
            submission_id=str(body["submission_id"]) if body.get("submission_id") else None,
            incoming_number=str(body["incoming_number"]) if body.get("incoming_number") else None,
            event_id=str(body["event_id"]) if body.get("event_id") else None,
            actor=str(request.get(ROLE_KEY) or "registry"),
        ),
    )
    if status == 404:
        return error_response(404, "submission.not_found", "Пакет не найден.", "no submission with that id or incoming number")
    if status == 409:
        return error_response(409, "event.not_registered", "Пакет ещё не зарегистрирован в реестре.", f"submission {ident} is not registered")
    request.app[OUTBOX_WORKER_KEY].wake()
    return web.json_response({"event_id": ident, "duplicate": duplicate})


async def notice(request: web.Request) -> web.Response:
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    kind = body.get("kind")
    members = request.app[MEMBERS_KEY]
    if kind == "document":
        member = members.get(str(body.get("member") or ""))
        if member is None or not member.active:
            return error_response(404, "member.unknown", "Кооператив не найден среди действующих членов СРО.", f"member {body.get('member')!r}")
        if not body.get("title"):
            return error_response(400, "notice.title", "Не указано название документа.", "title is required")
        recipients = [member]
        title = str(body["title"])

        def context_of(m: Member) -> EmailContext:
            return IncomingNoticeEmail(member_name=m.name, title=title)
    elif kind == "mass":
        if not body.get("subject") or not body.get("body"):
            return error_response(400, "notice.text", "Не указаны тема или текст рассылки.", "subject and body are required")
        recipients = members.active_members()
        subject, text = str(body["subject"]), str(body["body"])

        def context_of(m: Member) -> EmailContext:
            return MassMailingEmail(member_name=m.name, subject=subject, body=text)
    else:
        return error_response(400, "notice.kind", "Неизвестный вид уведомления: ожидается document или mass.", f"kind {kind!r}")
    notice_id = str(body.get("notice_id") or _derived_id(kind, body.get("member"), body.get("title"), body.get("subject"), body.get("body")))
    repository = request.app[REPOSITORY_KEY]

    def record() -> tuple[int, bool]:
        with repository.db.transaction() as connection:
            inserted = connection.execute(
                "INSERT OR IGNORE INTO notices (notice_id, kind, payload, received_at) VALUES (?, ?, ?, ?)",
                (notice_id, kind, json.dumps(body, ensure_ascii=False), now_iso()),
            ).rowcount == 1
            queued = 0
            if inserted:
                for member in recipients:
                    if member.email:
                        queued += email_job(connection, f"email:notice:{notice_id}:{member.number}", member.email, context_of(member))
            return queued, not inserted

    queued, duplicate = await asyncio.get_running_loop().run_in_executor(None, record)
    request.app[OUTBOX_WORKER_KEY].wake()
    return web.json_response({"notice_id": notice_id, "emails": queued, "duplicate": duplicate}, status=202)


def digest_context(connection: sqlite3.Connection, day: str) -> StaffDigestEmail:
    """The returned and rejected packages decided on ``day`` (a Moscow day, ``YYYY-MM-DD``),
    for the staff digest."""
    start, end = msk_day_bounds(date.fromisoformat(day))
    rows = connection.execute(
        "SELECT s.id, s.member, s.decision, s.incoming_number, r.report FROM submissions s LEFT JOIN reports r ON r.submission_id = s.id"
        " WHERE s.decision IN ('returned', 'rejected') AND s.decided_at >= ? AND s.decided_at < ? ORDER BY s.decided_at",
        (start, end),
    ).fetchall()
    items = []
    for row in rows:
        report = PackageReport.from_json(json.loads(row["report"])) if row["report"] else None
        problems = report.problems if report is not None else ()
        items.append(
            {
                "submission_id": row["id"],
                "member": row["member"],
                "member_name": report.member.name if report is not None and report.member is not None else "",
                "doc_type_ru": kind_ru(report) if report is not None else "",
                "decision_ru": report.decision_ru if report is not None else row["decision"],
                "first_problem": problems[0].message_ru if problems else "",
            }
        )
    return StaffDigestEmail(date=day, items=items)


def enqueue_digest(repository: Any, staff_address: str, day: str) -> bool:
    """Queue the staff digest of ``day`` once (idempotent by date)."""
    with repository.db.transaction() as connection:
        context = digest_context(connection, day)
        return email_job(connection, f"email:digest:{day}", staff_address, context)


def digest_day(now: datetime) -> str:
    """The day a digest sent at ``now`` covers: the whole previous Moscow day."""
    return (msk_today(now) - timedelta(days=1)).isoformat()


async def digest_scheduler(app: web.Application, hour_utc: int, staff_address: str) -> None:
    """Every day from ``hour_utc`` on: the digest of the previous Moscow day's returned and
    rejected packages (once per day: the outbox deduplicates by the day)."""
    repository = app[REPOSITORY_KEY]
    while True:
        now = datetime.now(timezone.utc)
        if 0 <= hour_utc <= now.hour:
            if await asyncio.get_running_loop().run_in_executor(None, enqueue_digest, repository, staff_address, digest_day(now)):
                app[OUTBOX_WORKER_KEY].wake()
        await asyncio.sleep(60)


def setup_event_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/registry/events", registry_event)
    app.router.add_post("/api/v1/notices", notice)
