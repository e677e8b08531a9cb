"""``/api/v1/submissions``: upload, status and report.

Uploads stream part by part through :class:`~gateway.http.uploads.FormReader`: each chunk
is handed to a writer thread that writes it and takes its SHA-256, while the event loop
reads the next one; the body is cut off with 413 past the configured size. The 202 answer
comes only after the files are fsynced and the submission row is committed; validation
(and the Streebog digest) runs after.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import sqlite3

from aiohttp import web

from gateway import messages_ru as text
from gateway.config import LimitsConfig
from gateway.http.contract import conflict_with, field_problem, report_year_of
from gateway.http.responses import allowed, dumps, error_response, role_of
from gateway.http.uploads import (
    FormReader,
    SlowClient,
    UploadRefused,
    multipart_precheck,
    part_names,
    safe_name,
    stream_part,
)
from gateway.keys import (
    BLOBS_KEY,
    CONFIG_KEY,
    INTAKE_KEY,
    MEMBERS_KEY,
    METRICS_KEY,
    PIPELINE_KEY,
    REPOSITORY_KEY,
    UPLOAD_EXECUTOR_KEY,
)
from gateway.render.html import REPORT_HEADERS, render_html
from gateway.store.blobs import BlobWriter
from gateway.store.submissions import NewSubmission
from validators.catalogue import Slot

__all__ = ["setup_routes"]

log = logging.getLogger("gateway.http.submissions")

_FIELDS = {"member", "doc_type", "report_kind", "regulation_kind", "external_id", "report_year"}
_MAX_FIELD = 256
_SLOTS = frozenset(s.value for s in Slot)


def slot_limits_of(limits: LimitsConfig) -> dict[str, int]:
    """The most bytes one file part of each slot may have (``[limits]``); an МЧД and its
    signature are small files and share the signature limit."""
    return {
        Slot.DOCUMENT.value: limits.max_document_bytes,
        Slot.ATTACHMENT.value: limits.max_attachment_bytes,
        Slot.SIGNATURE.value: limits.max_signature_bytes,
        Slot.POWER_OF_ATTORNEY.value: limits.max_signature_bytes,
    }


async def create_submission(request: web.Request) -> web.Response:
    denied = allowed(request, "portal", "staff")
    if denied:
        return denied
    config = request.app[CONFIG_KEY]
    limit = config.server.max_request_bytes
    refused = multipart_precheck(request, limit, text.SUBMISSION_FORM_EXPECTED)
    if refused:
        return refused
    repository = request.app[REPOSITORY_KEY]
    blobs = request.app[BLOBS_KEY]
    executor = request.app[UPLOAD_EXECUTOR_KEY]
    loop = asyncio.get_running_loop()
    fields: dict[str, str] = {}
    existing: str | None = None
    writers: list[tuple[str, str, BlobWriter]] = []
    form = FormReader(request, limit, config.server.max_parts, config.server.body_timeout)
    slot_limits = slot_limits_of(config.limits)
    pipeline = request.app[PIPELINE_KEY]
    pipeline.upload_started()  # deliveries wait while uploads come in (the outbox yields to intake)
    try:
        while (part := await form.next_part()) is not None:
            name, filename = part_names(part)  # one parse of the Content-Disposition header
            if name in _FIELDS and filename is None:
                value = await form.read_field(part, _MAX_FIELD)
                fields[name] = value
                if name == "external_id" and value:
                    # Same key: a retry (200) or a conflict (409), decided once the files are read.
                    existing = await loop.run_in_executor(None, repository.find_external, value)
            elif name in _SLOTS:
                writer = blobs.writer()  # no file-system work until its first chunk, on the upload thread
                writers.append((name, filename or "", writer))
                await stream_part(form, part, writer, executor, slot_limits[name])
            else:
                await form.skip(part)
        missing = [name for name in ("member", "doc_type") if not fields.get(name)]
        if missing:
            return error_response(400, "request.missing_field", text.REQUEST_MISSING_FIELD + ", ".join(missing) + ".", f"missing {missing}")
        if not writers:
            return error_response(400, "request.no_files", text.REQUEST_NO_FILES, "no file parts (document, attachment, signature)")
        refused = field_problem(fields, request.app[MEMBERS_KEY])
        if refused:
            return refused
        if existing is not None:
            # The same external_id again: a retry of the same package (200, the first one) or
            # another package under a used key (409); nothing of this upload is kept.
            uploaded = [(slot, writer.sha256) for slot, _name, writer in writers]
            conflict = await loop.run_in_executor(None, conflict_with, repository, existing, fields, uploaded)
            return conflict or _accepted(existing, created=False)
        new = NewSubmission(
            member=fields["member"],
            doc_type=fields["doc_type"],
            report_kind=fields.get("report_kind") or None,
            regulation_kind=fields.get("regulation_kind") or None,
            external_id=fields.get("external_id") or None,
            report_year=report_year_of(fields),
        )
        finished = [writer for _slot, _name, writer in writers]
        names = _stored_names([(slot, name) for slot, name, _writer in writers])
        writers.clear()  # the group commit owns them now (and removes them if storing fails)
        received = await request.app[INTAKE_KEY].commit(finished, names, new)
        submission_id, created, stored = received.submission_id, received.created, received.files
    except UploadRefused as refusal:
        return refusal.response
    except (TimeoutError, SlowClient):
        return error_response(408, "request.timeout", text.UPLOAD_TIMEOUT, f"no data for {config.server.body_timeout} s")
    except sqlite3.OperationalError as exc:
        log.warning("database busy while recording an upload: %s", exc)
        return error_response(503, "storage.busy", text.STORAGE_BUSY, "database is locked")
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            return error_response(507, "storage.full", text.STORAGE_FULL, "no space left on device")
        raise
    finally:
        pipeline.upload_ended()
        for _slot, _name, writer in writers:
            await loop.run_in_executor(executor, writer.abort)
    metrics = request.app[METRICS_KEY]
    metrics["upload_bytes"] = metrics.get("upload_bytes", 0) + sum(f.blob.size for f in stored)
    if created:
        pipeline.submit(submission_id)
    return _accepted(submission_id, created)



def _stored_names(parts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(slot, name) of each file part: its own name reduced to one path part. A part without
    a usable name is called after its slot, numbered when that name is taken, since the
    package refuses two files of one name (``request.duplicate_name``): only names the
    portal really sent can collide."""
    names: list[tuple[str, str]] = []
    taken = {safe_name(filename, "") for _slot, filename in parts} - {""}
    for slot, filename in parts:
        name = safe_name(filename, "")
        if not name:
            name, number = slot, 1
            while name in taken:
                number += 1
                name = f"{slot}-{number}"
            taken.add(name)
        names.append((slot, name))
    return names


def _accepted(submission_id: str, created: bool) -> web.Response:
    return web.json_response(
        {"id": submission_id, "status_url": f"/api/v1/submissions/{submission_id}", "duplicate": not created},
        status=202 if created else 200,
    )



def _other_members(request: web.Request, member: str) -> bool:
    """The portal named the member it acts for (``?member=``) and the package is another
    member's: answered as if it did not exist (as the listing and «Движения» do). Without
    ``member`` the portal reads any id it knows (docs/api.md, kept for compatibility)."""
    given = request.query.get("member")
    return role_of(request) == "portal" and given is not None and given != member


async def get_submission(request: web.Request) -> web.Response:
    denied = allowed(request, "portal", "staff", "registry")
    if denied:
        return denied
    loop = asyncio.get_running_loop()
    record = await loop.run_in_executor(None, request.app[REPOSITORY_KEY].get, request.match_info["id"])
    if record is None or _other_members(request, record.member):
        return error_response(404, "submission.not_found", text.SUBMISSION_NOT_FOUND, "no such submission")
    return web.json_response(record.to_json(), dumps=dumps)


async def get_report(request: web.Request) -> web.StreamResponse:
    denied = allowed(request, "portal", "staff")
    if denied:
        return denied
    repository = request.app[REPOSITORY_KEY]
    loop = asyncio.get_running_loop()
    submission_id = request.match_info["id"]
    record = await loop.run_in_executor(None, repository.get, submission_id)
    wants_html = request.query.get("format") == "html" or "text/html" in request.headers.get("Accept", "")
    if record is None or (not wants_html and _other_members(request, record.member)):
        return error_response(404, "submission.not_found", text.SUBMISSION_NOT_FOUND, "no such submission")
    if wants_html and role_of(request) == "portal" and request.query.get("member") != record.member:
        # Staff read HTML reports; the portal only for the member it acts for (documented 403).
        return error_response(403, "auth.forbidden", text.OTHER_MEMBERS_REPORT, "portal may read HTML reports of the given member only")
    report = await loop.run_in_executor(None, repository.report, submission_id)
    if report is None:
        return web.json_response({"id": submission_id, "status": record.status, "report": None}, status=202)
    report = report.with_submission(record.to_json())
    if wants_html:
        return web.Response(text=render_html(report), content_type="text/html", charset="utf-8", headers=REPORT_HEADERS)
    return web.json_response(report.to_json(), dumps=dumps)



def setup_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/submissions", create_submission)
    app.router.add_get("/api/v1/submissions/{id}", get_submission)
    app.router.add_get("/api/v1/submissions/{id}/report", get_report)
