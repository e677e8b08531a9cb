"""``POST /api/v1/notices``: notices for members from the registry (SPEC section 7, seed
sections 8–9): a document awaiting one member, or a mailing to every active member. The
notice and its emails are recorded in one transaction; repeating it changes nothing."""

from __future__ import annotations

import asyncio
import sqlite3

from aiohttp import web

from gateway import messages_ru as text
from gateway.delivery.jobs import email_job
from gateway.delivery.mail.contexts import EmailContext, IncomingNoticeEmail, MassMailingEmail
from gateway.http.registry_events import derived_id, read_event_body
from gateway.http.responses import error_response
from gateway.keys import MEMBERS_KEY, OUTBOX_WORKER_KEY, REPOSITORY_KEY
from gateway.store.notices import record_notice
from validators.members import Member

__all__ = ["setup_notice_routes"]


async def notice(request: web.Request) -> web.Response:
    body = await read_event_body(request)
    if isinstance(body, web.Response):
        return body
    kind = body.get("kind")
    members = request.app[MEMBERS_KEY]
    if kind == "document":
        member = members.get(str(body.get("member") or ""))
        if member is None or not member.active:
            return error_response(404, "member.unknown", text.MEMBER_UNKNOWN, f"member {body.get('member')!r}")
        if not body.get("title"):
            return error_response(400, "notice.title", text.NOTICE_TITLE, "title is required")
        recipients = [member]
        title = str(body["title"])

        def context_of(m: Member) -> EmailContext:
            return IncomingNoticeEmail(member_name=m.name, title=title)
    elif kind == "mass":
        if not body.get("subject") or not body.get("body"):
            return error_response(400, "notice.text", text.NOTICE_TEXT, "subject and body are required")
        recipients = members.active_members()
        subject, mailing_text = str(body["subject"]), str(body["body"])

        def context_of(m: Member) -> EmailContext:
            return MassMailingEmail(member_name=m.name, subject=subject, body=mailing_text)
    else:
        return error_response(400, "notice.kind", text.NOTICE_KIND, f"kind {kind!r}")
    notice_id = str(body.get("notice_id") or derived_id(kind, body.get("member"), body.get("title"), body.get("subject"), body.get("body")))
    repository = request.app[REPOSITORY_KEY]

    def enqueue(connection: sqlite3.Connection) -> int:
        return sum(
            email_job(connection, f"email:notice:{notice_id}:{member.number}", member.email, context_of(member)) for member in recipients if member.email
        )

    def record() -> tuple[int, bool]:
        return record_notice(repository.db, notice_id, str(kind), body, enqueue)

    queued, duplicate = await asyncio.get_running_loop().run_in_executor(None, record)
    request.app[OUTBOX_WORKER_KEY].wake()
    return web.json_response({"notice_id": notice_id, "emails": queued, "duplicate": duplicate}, status=202)


def setup_notice_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/notices", notice)
