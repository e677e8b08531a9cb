"""What the registry tells the gateway: staff decisions on registered packages (SPEC
section 6, seed section 6). Recorded and turned into the member's email through the outbox
in one transaction; repeating a request changes nothing. Notices are ``notices.py``."""

from __future__ import annotations

import asyncio
import functools
import hashlib
from typing import Any

from aiohttp import web

from gateway import messages_ru as text
from gateway.delivery.jobs import email_job
from gateway.delivery.mail.contexts import StaffDecisionEmail
from gateway.http.responses import error_response
from gateway.http.uploads import UploadRefused, read_json_body
from gateway.keys import CONFIG_KEY, OUTBOX_WORKER_KEY, REPOSITORY_KEY, ROLE_KEY
from gateway.render.labels import STAFF_DECISION_RU
from gateway.store.db import now_iso
from gateway.store.events import record_event
from gateway.store.submissions import stored_report

__all__ = ["setup_event_routes", "record_staff_decision", "read_event_body", "derived_id", "STAFF_DECISIONS"]

STAFF_DECISIONS = STAFF_DECISION_RU
_MAX_TEXT = 20000


async def read_event_body(request: web.Request) -> dict[str, Any] | web.Response:
    if request.get(ROLE_KEY) not in ("registry", "staff"):
        return error_response(403, "auth.forbidden", text.FORBIDDEN, "registry or staff key required")
    server = request.app[CONFIG_KEY].server
    try:
        body = await read_json_body(request, server.max_json_bytes, server.body_timeout)
    except UploadRefused as refusal:
        return refusal.response
    if not isinstance(body, dict):
        return error_response(400, "request.malformed", text.JSON_OBJECT_EXPECTED, "body is not a JSON object")
    for key, value in body.items():
        if isinstance(value, str) and len(value) > _MAX_TEXT:
            return error_response(400, "request.field", text.FIELD_TOO_LONG.format(name=key), f"{key}: {len(value)} characters")
    return body


def derived_id(*parts: object) -> str:
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
        event_id = event_id or derived_id(row["id"], decision, comment)
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
    body = await read_event_body(request)
    if isinstance(body, web.Response):
        return body
    decision = body.get("decision")
    if decision not in STAFF_DECISIONS:
        return error_response(400, "event.decision", text.EVENT_DECISION, f"decision {decision!r}")
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
        return error_response(404, "submission.not_found", text.SUBMISSION_NOT_FOUND, "no submission with that id or incoming number")
    if status == 409:
        return error_response(409, "event.not_registered", text.EVENT_NOT_REGISTERED, f"submission {ident} is not registered")
    request.app[OUTBOX_WORKER_KEY].wake()
    return web.json_response({"event_id": ident, "duplicate": duplicate})


def setup_event_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/registry/events", registry_event)
