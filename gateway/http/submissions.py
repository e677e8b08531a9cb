"""``/api/v1/submissions``: upload, status and reports; ``/metrics``; the OpenAPI document.

Uploads stream part by part (:class:`FormReader`, the one reader of every upload route):
each chunk is handed to a writer thread that writes it and takes its SHA-256, while the
event loop reads the next one; the body is cut off with 413 past the configured size.
The 202 answer comes only after the files are fsynced and the submission row is
committed; validation (and the Streebog digest) runs after.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import re
import sqlite3
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AsyncIterator

from aiohttp import BodyPartReader, hdrs, web
from aiohttp.helpers import parse_mimetype
from aiohttp.http_exceptions import HttpProcessingError

from gateway.keys import BLOBS_KEY, CONFIG_KEY, INTAKE_KEY, MEMBERS_KEY, METRICS_KEY, OUTBOX_KEY, PIPELINE_KEY, REPOSITORY_KEY, ROLE_KEY, UPLOAD_EXECUTOR_KEY
from gateway.render.html import render_html
from gateway.store.blobs import BlobWriter
from gateway.store.submissions import NewSubmission
from validators.catalogue import DOC_TYPES, REGULATION_KINDS, REPORT_KINDS, Slot

__all__ = ["setup_routes", "error_response", "safe_name", "openapi_document", "multipart_precheck", "FormReader", "UploadRefused", "read_json_body"]

log = logging.getLogger("gateway.http.submissions")

_CHUNK = 1 << 20
_FIELDS = {"member", "doc_type", "report_kind", "regulation_kind", "external_id", "report_year"}
_MAX_FIELD = 256
_SLOTS = frozenset(s.value for s in Slot)


def error_response(status: int, code: str, message_ru: str, detail: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message_ru": message_ru, "detail": detail}}, status=status, dumps=_dumps)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _role(request: web.Request) -> str:
    return request.get(ROLE_KEY, "staff")


def _allowed(request: web.Request, *roles: str) -> web.Response | None:
    if _role(request) in roles:
        return None
    return error_response(403, "auth.forbidden", "Нет доступа к этому ресурсу.", f"role {_role(request)} may not use {request.path}")


class _TooLarge(Exception):
    pass


class SlowClient(Exception):
    """The client stopped sending in the middle of the body."""


class UploadRefused(Exception):
    """The upload breaks a limit or is malformed: answer with ``response``, read no further."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def too_large(limit: int) -> UploadRefused:
    return UploadRefused(error_response(413, "request.too_large", "Файлы слишком большие.", f"body over {limit} bytes"))


def malformed(detail: str) -> UploadRefused:
    return UploadRefused(error_response(400, "request.malformed", "Запрос повреждён: не удалось прочитать форму.", detail[:200]))


async def read_chunk(part: BodyPartReader, timeout: float, size: int = _CHUNK) -> bytes:
    """The next chunk of a part, or :class:`SlowClient` when none comes in ``timeout`` s."""
    try:
        return await asyncio.wait_for(part.read_chunk(size), timeout)
    except asyncio.TimeoutError:
        raise SlowClient() from None
    except HttpProcessingError as exc:
        raise malformed(f"part body: {exc.message}") from None


class FormReader:
    """The one streaming reader of multipart uploads: parts one by one, within limits.

    Every limit is checked while reading, before anything past it is buffered: the body
    size (counted on the wire, headers and fields included), the number of parts, the
    length of form fields. A malformed part header (a NUL, a line without a colon) is a
    400, never a 500.
    """

    def __init__(self, request: web.Request, limit: int, max_parts: int, timeout: float) -> None:
        self.request = request
        self.limit = limit
        self.max_parts = max_parts
        self.timeout = timeout
        self.parts = 0
        self._reader: Any = None
        boundary = parse_mimetype(request.headers.get(hdrs.CONTENT_TYPE, "")).parameters.get("boundary", "")
        self._min_read = len(boundary) + 8  # CRLF "--" boundary, and some

    def check_size(self) -> None:
        """:class:`UploadRefused` (413) once more than ``limit`` body bytes have arrived."""
        if self.request.content.total_bytes > self.limit:
            raise too_large(self.limit)

    async def next_part(self) -> BodyPartReader | None:
        """The next part, or None at the end of the form."""
        try:
            if self._reader is None:
                self._reader = await self.request.multipart()
            part = await asyncio.wait_for(self._reader.next(), self.timeout)
        except asyncio.TimeoutError:
            raise SlowClient() from None
        except HttpProcessingError as exc:
            raise malformed(f"part header: {exc.message}") from None
        except (ValueError, UnicodeDecodeError, RuntimeError, LookupError) as exc:
            # aiohttp's own verdicts on a broken form (e.g. RuntimeError for an overlong
            # _charset_ part, LookupError for an unknown charset)
            raise malformed(str(exc)) from None
        self.check_size()
        if part is None:
            return None
        self.parts += 1
        if self.parts > self.max_parts:
            raise UploadRefused(
                error_response(413, "request.too_many_parts", f"Слишком много частей в форме: не более {self.max_parts}.", f"more than {self.max_parts} parts")
            )
        if not isinstance(part, BodyPartReader):
            raise malformed("nested multipart is not accepted")
        return part

    async def read_field(self, part: BodyPartReader, max_chars: int) -> str:
        """A text field, refused (400) as soon as it is longer than ``max_chars``."""
        limit = max_chars * 4  # UTF-8: at most four bytes a character
        data = bytearray()
        # No more than the limit allows (a field that never ends is refused as soon as it is
        # too long), but never less than aiohttp needs to see the boundary.
        while chunk := await read_chunk(part, self.timeout, max(limit + 1 - len(data), self._min_read)):
            data += chunk
            self.check_size()
            if len(data) > limit:
                break
        value = data.decode("utf-8", "replace").strip()
        if len(data) > limit or len(value) > max_chars:
            raise UploadRefused(error_response(400, "request.field", f"Поле {part.name} слишком длинное.", f"{part.name}: over {max_chars} characters"))
        return value

    async def skip(self, part: BodyPartReader) -> None:
        """Read past a part nobody asked for, within the body limit."""
        while await read_chunk(part, self.timeout):
            self.check_size()

    async def chunks(self, part: BodyPartReader) -> AsyncIterator[bytes]:
        """The body of a file part, chunk by chunk, within the body limit."""
        while chunk := await read_chunk(part, self.timeout):
            self.check_size()
            yield chunk


async def _stream_part(form: FormReader, part: BodyPartReader, writer: BlobWriter, executor: ThreadPoolExecutor) -> None:
    """Copy one part into its blob writer, then close its file: a request holds one open
    file at a time, however many parts it has. While chunk n is written (+SHA-256) on a
    worker thread, the event loop reads chunk n+1."""
    loop = asyncio.get_running_loop()
    pending: asyncio.Future[None] | None = None
    try:
        async for chunk in form.chunks(part):
            if pending is not None:
                await pending
            pending = loop.run_in_executor(executor, writer.write, chunk)
        if pending is not None:
            await pending
            pending = None
        await loop.run_in_executor(executor, writer.finish)
    finally:
        if pending is not None:
            await asyncio.gather(pending, return_exceptions=True)


async def create_submission(request: web.Request) -> web.Response:
    from gateway.http.contract import conflict_with, field_problem, report_year_of  # it imports error_response from here

    denied = _allowed(request, "portal", "staff")
    if denied:
        return denied
    config = request.app[CONFIG_KEY]
    limit = config.server.max_request_bytes
    refused = multipart_precheck(request, limit, "Ожидается форма multipart/form-data.")
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
    try:
        while (part := await form.next_part()) is not None:
            if part.name in _FIELDS and part.filename is None:
                value = await form.read_field(part, _MAX_FIELD)
                fields[part.name] = value
                if part.name == "external_id" and value:
                    # Same key: a retry (200) or a conflict (409), decided once the files are read.
                    existing = await loop.run_in_executor(None, repository.find_external, value)
            elif part.name in _SLOTS:
                writer = await loop.run_in_executor(executor, blobs.writer)
                writers.append((part.name, part.filename or part.name, writer))
                await _stream_part(form, part, writer, executor)
            else:
                await form.skip(part)
        missing = [name for name in ("member", "doc_type") if not fields.get(name)]
        if missing:
            return error_response(400, "request.missing_field", "Не заполнены обязательные поля: " + ", ".join(missing) + ".", f"missing {missing}")
        if not writers:
            return error_response(400, "request.no_files", "Не приложены файлы.", "no file parts (document, attachment, signature)")
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
        names = [(slot, _safe_name(name)) for slot, name, _writer in writers]
        writers.clear()  # the group commit owns them now (and removes them if storing fails)
        received = await request.app[INTAKE_KEY].commit(finished, names, new)
        submission_id, created, stored = received.submission_id, received.created, received.files
    except UploadRefused as refusal:
        return refusal.response
    except (SlowClient, asyncio.TimeoutError):
        return error_response(408, "request.timeout", "Передача файла прервалась. Отправьте документ ещё раз.", f"no data for {config.server.body_timeout} s")
    except sqlite3.OperationalError as exc:
        log.warning("database busy while recording an upload: %s", exc)
        return error_response(503, "storage.busy", "Шлюз временно занят. Повторите отправку через несколько минут.", "database is locked")
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            return error_response(507, "storage.full", "Шлюз временно не может принять файлы. Повторите отправку позже.", "no space left on device")
        raise
    finally:
        for _slot, _name, writer in writers:
            await loop.run_in_executor(executor, writer.abort)
    metrics = request.app[METRICS_KEY]
    metrics["upload_bytes"] = metrics.get("upload_bytes", 0) + sum(f.blob.size for f in stored)
    if created:
        request.app[PIPELINE_KEY].submit(submission_id)
    return _accepted(submission_id, created)


async def read_json_body(request: web.Request, limit: int, timeout: float) -> Any:
    """The request's JSON body, read only up to ``limit`` bytes (413 past it, 400 if not JSON).

    Raises :class:`UploadRefused`; never buffers more than ``limit`` + one chunk.
    """
    if request.content_length is not None and request.content_length > limit:
        raise UploadRefused(error_response(413, "request.too_large", "Запрос слишком большой.", f"body of {request.content_length} bytes over {limit}"))
    data = bytearray()
    while True:
        try:
            chunk = await asyncio.wait_for(request.content.read(min(_CHUNK, limit + 1 - len(data))), timeout)
        except asyncio.TimeoutError:
            raise UploadRefused(error_response(408, "request.timeout", "Передача запроса прервалась. Повторите его.", f"no data for {timeout} s")) from None
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            raise UploadRefused(error_response(413, "request.too_large", "Запрос слишком большой.", f"body over {limit} bytes"))
    try:
        return json.loads(bytes(data).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise UploadRefused(error_response(400, "request.malformed", "Запрос повреждён: ожидается JSON.", "body is not JSON")) from None


def multipart_precheck(request: web.Request, limit: int, form_hint_ru: str) -> web.Response | None:
    """413 for a declared body over ``limit``, 400 for a body that is not a multipart form."""
    if request.content_length is not None and request.content_length > limit:
        return error_response(413, "request.too_large", "Файлы слишком большие.", f"body of {request.content_length} bytes over {limit}")
    if not request.content_type.startswith("multipart/"):
        return error_response(400, "request.not_multipart", form_hint_ru, f"content type {request.content_type}")
    return None


def _accepted(submission_id: str, created: bool) -> web.Response:
    return web.json_response(
        {"id": submission_id, "status_url": f"/api/v1/submissions/{submission_id}", "duplicate": not created},
        status=202 if created else 200,
    )


def _safe_name(filename: str) -> str:
    return safe_name(filename, "file")


def safe_name(filename: str | None, fallback: str) -> str:
    """The uploaded file's own name for reports, reduced to a harmless single path part."""
    name = filename or ""
    if re.search(r"%[0-9A-Fa-f]{2}", name):
        # aiohttp's own client percent-encodes non-ASCII names in filename="…".
        try:
            name = urllib.parse.unquote(name, errors="strict")
        except UnicodeDecodeError:
            pass
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if name in ("", ".", "..") or len(name.encode()) > 255:
        return fallback
    return name


async def get_submission(request: web.Request) -> web.Response:
    denied = _allowed(request, "portal", "staff", "registry")
    if denied:
        return denied
    loop = asyncio.get_running_loop()
    record = await loop.run_in_executor(None, request.app[REPOSITORY_KEY].get, request.match_info["id"])
    if record is None:
        return error_response(404, "submission.not_found", "Пакет не найден.", "no such submission")
    return web.json_response(record.to_json(), dumps=_dumps)


async def get_report(request: web.Request) -> web.StreamResponse:
    denied = _allowed(request, "portal", "staff")
    if denied:
        return denied
    repository = request.app[REPOSITORY_KEY]
    loop = asyncio.get_running_loop()
    submission_id = request.match_info["id"]
    record = await loop.run_in_executor(None, repository.get, submission_id)
    if record is None:
        return error_response(404, "submission.not_found", "Пакет не найден.", "no such submission")
    report = await loop.run_in_executor(None, repository.report, submission_id)
    if report is None:
        return web.json_response({"id": submission_id, "status": record.status, "report": None}, status=202)
    report["submission"] = record.to_json()
    wants_html = request.query.get("format") == "html" or "text/html" in request.headers.get("Accept", "")
    if wants_html:
        # Staff read HTML reports; the portal only for the member it acts for.
        if _role(request) == "portal" and request.query.get("member") != record.member:
            return error_response(403, "auth.forbidden", "Нет доступа к отчёту другого кооператива.", "portal may read HTML reports of the given member only")
        return web.Response(text=render_html(report), content_type="text/html", charset="utf-8")
    return web.json_response(report, dumps=_dumps)


async def metrics(request: web.Request) -> web.Response:
    loop = asyncio.get_running_loop()
    counts = await loop.run_in_executor(None, request.app[REPOSITORY_KEY].counts_by_decision)
    stats = request.app[PIPELINE_KEY].stats
    lines = [
        "# HELP gateway_submissions Submissions by current status.",
        "# TYPE gateway_submissions gauge",
        *[f'gateway_submissions{{status="{status}"}} {count}' for status, count in sorted(counts.items())],
        "# HELP gateway_decisions_total Decisions taken by this process.",
        "# TYPE gateway_decisions_total counter",
        *[f'gateway_decisions_total{{decision="{d}"}} {n}' for d, n in sorted(stats.by_decision.items())],
        "# HELP gateway_validation_seconds Time spent validating packages.",
        "# TYPE gateway_validation_seconds summary",
        f"gateway_validation_seconds_sum {stats.seconds_sum:.3f}",
        f"gateway_validation_seconds_count {stats.seconds_count}",
        "# HELP gateway_upload_bytes_total Bytes of files received.",
        "# TYPE gateway_upload_bytes_total counter",
        f"gateway_upload_bytes_total {request.app[METRICS_KEY].get('upload_bytes', 0)}",
        "# HELP gateway_outbox_jobs Outbox jobs by kind and status (dead = dead letter).",
        "# TYPE gateway_outbox_jobs gauge",
        *[
            f'gateway_outbox_jobs{{kind="{kind}",status="{status}"}} {count}'
            for (kind, status), count in sorted((await loop.run_in_executor(None, request.app[OUTBOX_KEY].counts)).items())  # type: ignore[attr-defined]
        ],
        "# HELP gateway_validation_queue Submissions waiting for validation.",
        "# TYPE gateway_validation_queue gauge",
        f"gateway_validation_queue {request.app[PIPELINE_KEY].queue.qsize()}",
    ]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain", charset="utf-8")


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of the API."""
    error = {"$ref": "#/components/schemas/Error"}
    security = [{"apiKey": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "SRO intake gateway", "version": "1"},
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "object", "properties": {k: {"type": "string"} for k in ("code", "message_ru", "detail")}}},
                },
                "Check": {
                    "type": "object",
                    "properties": {k: {"type": ["string", "null"]} for k in ("code", "severity", "file", "message_ru", "remedy_ru", "detail")},
                },
                "Submission": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "external_id": {"type": ["string", "null"]},
                        "member": {"type": "string"},
                        "doc_type": {"type": "string", "enum": sorted(DOC_TYPES)},
                        "status": {"type": "string", "enum": ["received", "validating", "accepted", "returned", "rejected", "registered"]},
                        "decision": {"type": ["string", "null"], "enum": ["accepted", "returned", "rejected", None]},
                        "incoming_number": {"type": ["string", "null"]},
                        "registered_at": {"type": ["string", "null"]},
                        "received_at": {"type": "string"},
                        "decided_at": {"type": ["string", "null"]},
                    },
                },
                "Report": {
                    "type": "object",
                    "properties": {
                        "decision": {"type": "string"},
                        "decision_ru": {"type": "string"},
                        "checks": {"type": "array", "items": {"$ref": "#/components/schemas/Check"}},
                        "files": {"type": "array", "items": {"type": "object"}},
                        "signatures": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
        },
        "paths": {
            "/api/v1/submissions": {
                "post": {
                    "summary": "Upload a package (multipart)",
                    "security": security,
                    "requestBody": {
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["member", "doc_type"],
                                    "properties": {
                                        "member": {"type": "string"},
                                        "doc_type": {"type": "string", "enum": sorted(DOC_TYPES)},
                                        "report_kind": {"type": "string", "enum": sorted(REPORT_KINDS)},
                                        "regulation_kind": {"type": "string", "enum": sorted(REGULATION_KINDS)},
                                        "external_id": {"type": "string"},
                                        "document": {"type": "string", "format": "binary"},
                                        "attachment": {"type": "string", "format": "binary"},
                                        "signature": {"type": "array", "items": {"type": "string", "format": "binary"}},
                                        "power_of_attorney": {
                                            "type": "array",
                                            "items": {"type": "string", "format": "binary"},
                                            "description": "МЧД (EMCHD_1 XML) of a representative who signs with a personal certificate, and its detached signature X.xml.sig",
                                        },
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "202": {"description": "Stored; validation follows"},
                        "200": {"description": "The same external_id was received before: the first submission"},
                        "400": {"description": "Malformed request", "content": {"application/json": {"schema": error}}},
                        "401": {"description": "No or wrong API key", "content": {"application/json": {"schema": error}}},
                        "413": {"description": "Body too large", "content": {"application/json": {"schema": error}}},
                        "507": {"description": "Storage full", "content": {"application/json": {"schema": error}}},
                    },
                }
            },
            "/api/v1/submissions/{id}": {
                "get": {
                    "summary": "Status, decision and incoming number",
                    "security": security,
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "The submission", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submission"}}}},
                        "404": {"description": "Unknown", "content": {"application/json": {"schema": error}}},
                    },
                }
            },
            "/api/v1/submissions/{id}/report": {
                "get": {
                    "summary": "The validation report: JSON, or HTML for staff (format=html or Accept: text/html)",
                    "security": security,
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "html"]}},
                        {"name": "member", "in": "query", "schema": {"type": "string"}, "description": "portal key: the member it acts for"},
                    ],
                    "responses": {
                        "200": {"description": "Report", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Report"}}, "text/html": {}}},
                        "202": {"description": "Not validated yet"},
                        "403": {"description": "Not allowed", "content": {"application/json": {"schema": error}}},
                        "404": {"description": "Unknown", "content": {"application/json": {"schema": error}}},
                    },
                }
            },
            "/api/v1/verify": {
                "post": {
                    "summary": "Verify the signatures of one document (multipart: document, signature)",
                    "security": security,
                    "responses": {"200": {"description": "gateway verify JSON"}, "400": {"description": "Malformed"}, "413": {"description": "Too large"}},
                }
            },
            "/healthz": {"get": {"summary": "Liveness and GOST support", "responses": {"200": {"description": "OK"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text/plain"}}}},
        },
    }


async def openapi(request: web.Request) -> web.Response:
    from gateway.http.openapi_spec import full_document  # extends openapi_document() with every other route

    return web.json_response(full_document(), dumps=_dumps)


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/submissions", create_submission)
    app.router.add_get("/api/v1/submissions/{id}", get_submission)
    app.router.add_get("/api/v1/submissions/{id}/report", get_report)
    app.router.add_get("/api/v1/openapi.json", openapi)
    app.router.add_get("/metrics", metrics)
