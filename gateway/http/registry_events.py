"""What the registry tells the gateway: staff decisions on registered packages (SPEC
section 6, seed section 6). Recorded and turned into the member's email through the outbox
in one transaction; repeating a request changes nothing. Notices are ``notices.py``."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from aiohttp import web

from gateway import messages_ru as text
from gateway.delivery.jobs import staff_decision_jobs
from gateway.http.responses import error_response
from gateway.http.uploads import UploadRefused, read_json_body
from gateway.keys import CONFIG_KEY, OUTBOX_WORKER_KEY, REPOSITORY_KEY, ROLE_KEY
from gateway.render.labels import STAFF_DECISION_RU
from gateway.store.db import derived_id
from gateway.store.submissions import StaffDecision, SubmissionRepository

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


def record_staff_decision(repository: SubmissionRepository, decision: str, comment: str, **where: Any) -> StaffDecision | None:
    """Record a staff decision and queue the member's email in one transaction (the registry's
    callback and the staff workspace's form both come here); ``where`` is
    :meth:`SubmissionRepository.record_staff_decision`'s keywords."""
    return repository.record_staff_decision(decision, comment, effects=staff_decision_jobs, **where)


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
    recorded = await loop.run_in_executor(
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
    if recorded is None:
        return error_response(404, "submission.not_found", text.SUBMISSION_NOT_FOUND, "no submission with that id or incoming number")
    if not recorded.registered:
        return error_response(409, "event.not_registered", text.EVENT_NOT_REGISTERED, f"submission {recorded.submission_id} is not registered")
    request.app[OUTBOX_WORKER_KEY].wake()
    return web.json_response({"event_id": recorded.event_id, "duplicate": recorded.duplicate})


def setup_event_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/registry/events", registry_event)
