"""The staff workspace's pages: sign-in, «Входящие пакеты», the package page with its
«Движения» and decision form, the member list. Server-rendered Jinja2 templates (files under
``gateway/templates/staff``), Russian, Moscow time."""

from __future__ import annotations

import asyncio
import csv
import functools
import io
import ipaddress
import math
import urllib.parse
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from gateway import messages_ru as text
from gateway.http.registry_events import STAFF_DECISIONS, record_staff_decision
from gateway.http.responses import error_response
from gateway.http.staff.auth import (
    SESSION_KEY,
    STAFF_USERS_KEY,
    clear_session_cookie,
    csrf_ok,
    csrf_refused,
    login_csrf_ok,
    new_login_token,
    safe_next,
    set_login_cookie,
    set_session_cookie,
    staff_page,
    staff_upload,
)
from gateway.http.staff.members_csv import MAX_CSV_BYTES, replace_members_csv, validate_members_csv
from gateway.http.staff.throttle import SIGN_IN_THROTTLE_KEY, client_key
from gateway.http.submissions_list import FilterError, parse_filter
from gateway.http.uploads import FormReader, SlowClient, UploadRefused, multipart_precheck
from gateway.keys import BLOBS_KEY, CONFIG_KEY, DATABASE_KEY, MEMBERS_KEY, OUTBOX_KEY, OUTBOX_WORKER_KEY, REPOSITORY_KEY
from gateway.moscow import msk, msk_day_bounds, msk_today
from gateway.render.html import REPORT_HEADERS, render_html
from gateway.render.labels import (
    DECISION_RU,
    STAFF_DECISION_RU,
    STATUS_RU,
    TEMPLATE_FILTERS,
    kind_ru,
    show_direction_controls,
)
from gateway.store.events import events_of
from gateway.store.listing import SORTS, search
from gateway.store.periods import period_of, repeating, repeats_of
from gateway.store.status import Decision, SubmissionStatus
from gateway.store.submissions import count_decided, count_with_status
from validators.catalogue import DOC_TYPES, REGULATION_KINDS, REPORT_KINDS

__all__ = ["setup_staff_routes"]

ROOT = Path(__file__).resolve().parents[2]
PAGE_SIZE = 50
EXPORT_LIMIT = 100_000

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(ROOT / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.ChainableUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=show_direction_controls,
)
_ENV.filters.update(TEMPLATE_FILTERS)
_ENV.globals.update(
    DOC_TYPES=DOC_TYPES,
    REPORT_KINDS=REPORT_KINDS,
    REGULATION_KINDS=REGULATION_KINDS,
    STATUS_RU=STATUS_RU,
    DECISION_RU=DECISION_RU,
    STAFF_DECISION_RU=STAFF_DECISION_RU,
)

_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """A page from ``templates/staff/<template>`` with the security headers."""
    session = request.get(SESSION_KEY)
    html = _ENV.get_template(f"staff/{template}").render(session=session, csrf=session.csrf if session else "", **context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8", headers=_HEADERS)


async def _run(request: web.Request, func: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(func, *args, **kwargs))


# --- sign-in ----------------------------------------------------------------------------------


async def login_page(request: web.Request) -> web.Response:
    token = new_login_token()
    response = render(request, "login.html", next=safe_next(request.query.get("next")), error=None, login_token=token)
    set_login_cookie(request, response, token)
    return response


_LOGIN_ERRORS = {
    "wrong": text.LOGIN_WRONG,
    "locked": text.LOGIN_LOCKED,
    "csrf": text.LOGIN_CSRF,
}


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    target = safe_next(str(form.get("next", "")))
    problem: str | None = None
    if not login_csrf_ok(request, str(form.get("csrf", ""))):
        problem = "csrf"
    else:
        # The limit comes before the password hash: a refused attempt costs no argon2.
        wait = request.app[SIGN_IN_THROTTLE_KEY].take(_sign_in_client(request))
        if wait > 0:
            seconds = max(1, math.ceil(min(wait, 86400)))
            token = new_login_token()
            error = text.LOGIN_THROTTLED.format(seconds=seconds)
            response = render(request, "login.html", status=429, next=target, error=error, login_token=token)
            response.headers["Retry-After"] = str(seconds)
            set_login_cookie(request, response, token)
            return response
        result = await _run(request, request.app[STAFF_USERS_KEY].sign_in, str(form.get("login", "")).strip(), str(form.get("password", "")))
        if result.session is not None:
            redirect = web.HTTPSeeOther(target)
            set_session_cookie(redirect, request, result.session.token)
            raise redirect
        problem = result.problem or "wrong"
    token = new_login_token()
    response = render(request, "login.html", status=401 if problem != "csrf" else 403, next=target, error=_LOGIN_ERRORS[problem], login_token=token)
    set_login_cookie(request, response, token)
    return response


def _sign_in_client(request: web.Request) -> str:
    """Whom the sign-in limit counts this attempt against (``gateway.http.staff.throttle``)."""
    trusted = tuple(ipaddress.ip_network(p.strip()) for p in request.app[CONFIG_KEY].server.trusted_proxies)
    return client_key(request.remote, request.headers.getall("X-Forwarded-For", []) if trusted else [], trusted)


@staff_page
async def logout(request: web.Request) -> web.StreamResponse:
    await _run(request, request.app[STAFF_USERS_KEY].sign_out, request[SESSION_KEY].token)
    response = web.HTTPSeeOther("/staff/login")
    clear_session_cookie(response, request)
    raise response


# --- Входящие пакеты ----------------------------------------------------------------------


def _counters(request: web.Request) -> dict[str, int]:
    database = request.app[DATABASE_KEY]
    start, end = msk_day_bounds(msk_today())
    return {
        "awaiting_revocation": count_with_status(database, SubmissionStatus.AWAITING_REVOCATION),
        "returned_today": count_decided(database, Decision.RETURNED, start, end),
        "dead_deliveries": request.app[OUTBOX_KEY].dead_count(),
    }


def _query_without(query: Any, *names: str, **changes: Any) -> str:
    items = [(k, v) for k, v in query.items() if k not in names and k not in changes and v != ""]
    items += [(k, str(v)) for k, v in changes.items() if v not in (None, "")]
    return urllib.parse.urlencode(items)


@staff_page
async def inbox(request: web.Request) -> web.Response:
    query = request.query
    members = request.app[MEMBERS_KEY]
    sort = query.get("sort", "received") if query.get("sort") in SORTS else "received"
    descending = query.get("dir", "desc") != "asc"
    try:
        page_number = max(1, int(query.get("page", "1")))
    except ValueError:
        page_number = 1
    error = None
    try:
        wanted = parse_filter(query, members)
    except FilterError as exc:
        error, wanted = str(exc), parse_filter({}, members)
    page = await _run(request, search, request.app[DATABASE_KEY], wanted, limit=PAGE_SIZE, sort=sort, descending=descending, offset=(page_number - 1) * PAGE_SIZE)
    counters = await _run(request, _counters, request)
    repeats = await _run(request, repeating, request.app[DATABASE_KEY], [r.id for r in page.items])
    names = {m.number: m.name for m in members.all_members()}
    pages = max(1, -(-page.total // PAGE_SIZE))
    return render(
        request,
        "inbox.html",
        items=page.items,
        total=page.total,
        page=page_number,
        pages=pages,
        query=query,
        sort=sort,
        descending=descending,
        counters=counters,
        repeats=repeats,
        names=names,
        error=error,
        link=lambda **changes: "?" + _query_without(query, **changes),
        export_query=_query_without(query, "page"),
    )


#: What makes a spreadsheet read a cell as a formula (OWASP CSV injection), full-width forms
#: included; looked for after the blanks and invisible characters an import may trim.
_FORMULA_START = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
_CONTROL_START = frozenset("\t\r\n")


def csv_cell(value: str) -> str:
    """A CSV cell of the export as staff should read it (the portal's external id and member
    names come from outside): text-direction controls shown as ``[U+202E]`` like on the
    pages, and a cell a spreadsheet would run as a formula prefixed with ``'``."""
    value = show_direction_controls(value)
    head = value.lstrip(" \u00a0\u200b\u200c\u200d\u2060\ufeff\t\r\n")
    if value[:1] in _CONTROL_START or head[:1] in _FORMULA_START:
        return "'" + value
    return value


@staff_page
async def export_csv(request: web.Request) -> web.Response:
    members = request.app[MEMBERS_KEY]
    try:
        wanted = parse_filter(request.query, members)
    except FilterError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    sort = request.query.get("sort", "received") if request.query.get("sort") in SORTS else "received"
    page = await _run(request, search, request.app[DATABASE_KEY], wanted, limit=EXPORT_LIMIT, sort=sort, descending=request.query.get("dir", "desc") != "asc")
    names = {m.number: m.name for m in members.all_members()}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(text.EXPORT_COLUMNS)
    for r in page.items:
        writer.writerow([csv_cell(v) for v in (
            msk(r.received_at), r.member, names.get(r.member, ""), kind_ru(r), STATUS_RU.get(r.status, r.status),
            DECISION_RU.get(r.decision or "", ""), STAFF_DECISION_RU.get(r.staff_decision or "", ""),
            r.incoming_number or "", msk(r.registered_at, ""), r.external_id or "", r.id,
        )])
    # UTF-8 with a BOM so that Excel opens the Cyrillic correctly.
    return web.Response(
        body=("\ufeff" + out.getvalue()).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={**_HEADERS, "Content-Disposition": "attachment; filename=\"packages.csv\"; filename*=UTF-8''%D0%B2%D1%85%D0%BE%D0%B4%D1%8F%D1%89%D0%B8%D0%B5.csv"},
    )


# --- the package page -------------------------------------------------------------------------


def _package(request: web.Request, submission_id: str) -> dict[str, Any] | None:
    repository = request.app[REPOSITORY_KEY]
    record = repository.get(submission_id)
    if record is None:
        return None
    stored = repository.report(submission_id)
    report = stored.to_json() if stored is not None else {}
    with repository.db.transaction() as connection:
        timeline = [e.to_json() for e in events_of(connection, submission_id)]
        period = period_of(connection, submission_id)
        repeated_by = repeats_of(connection, submission_id)
    files = repository.files(submission_id)
    types = {f.name: f.type for f in stored.files} if stored is not None else {}
    member = request.app[MEMBERS_KEY].get(record.member)
    return {
        "record": record, "report": report, "events": timeline, "files": files, "types": types, "member": member,
        "period": period, "repeated_by": repeated_by,
    }


@staff_page
async def package_page(request: web.Request) -> web.Response:
    data = await _run(request, _package, request, request.match_info["id"])
    if data is None:
        return render(request, "not_found.html", status=404)
    return render(request, "package.html", done=request.query.get("done"), error=None, **data)


@staff_page
async def report_page(request: web.Request) -> web.Response:
    """The staff HTML report of a package (printable), for staff signed in with a browser."""
    repository = request.app[REPOSITORY_KEY]
    submission_id = request.match_info["id"]
    record = await _run(request, repository.get, submission_id)
    report = await _run(request, repository.report, submission_id) if record is not None else None
    if record is None or report is None:
        return render(request, "not_found.html", status=404)
    # Its own CSP: the same lock-down, but the report's inline style block may apply.
    return web.Response(text=render_html(report.with_submission(record.to_json()), "staff"), content_type="text/html", charset="utf-8", headers=REPORT_HEADERS)


@staff_page
async def download(request: web.Request) -> web.StreamResponse:
    repository = request.app[REPOSITORY_KEY]
    submission_id = request.match_info["id"]
    try:
        position = int(request.match_info["position"])
    except ValueError:
        raise web.HTTPNotFound() from None
    files = await _run(request, repository.files, submission_id)
    stored = next((f for f in files if f.position == position), None)
    if stored is None:
        raise web.HTTPNotFound()
    path = request.app[BLOBS_KEY].path(stored.blob.key)
    quoted = urllib.parse.quote(stored.name, safe="")
    return web.FileResponse(
        path,
        headers={
            **_HEADERS,
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f"attachment; filename=\"file-{position}\"; filename*=UTF-8''{quoted}",
        },
    )


@staff_page
async def decide(request: web.Request) -> web.Response:
    form = await request.post()
    submission_id = request.match_info["id"]
    decision = str(form.get("decision", ""))
    comment = str(form.get("comment", "")).strip()[:2000]
    session = request[SESSION_KEY]
    error = None
    if decision not in STAFF_DECISIONS:
        error = text.DECISION_CHOOSE
    elif decision != "verified" and not comment:
        error = text.DECISION_COMMENT_REQUIRED
    else:
        recorded = await _run(
            request, record_staff_decision, request.app[REPOSITORY_KEY], decision, comment, submission_id=submission_id, actor=f"staff:{session.login}"
        )
        if recorded is not None and recorded.registered:
            request.app[OUTBOX_WORKER_KEY].wake()
            raise web.HTTPSeeOther(f"/staff/submissions/{submission_id}?done=1#decision")
        error = text.SUBMISSION_NOT_FOUND if recorded is None else text.DECISION_NOT_REGISTERED
    data = await _run(request, _package, request, submission_id)
    if data is None:
        return render(request, "not_found.html", status=404)
    return render(request, "package.html", status=400, done=None, error=error, **data)


# --- members ----------------------------------------------------------------------------------


@staff_page
async def members_page(request: web.Request) -> web.Response:
    members = request.app[MEMBERS_KEY]
    return render(request, "members.html", members=members.all_members(), problem=members.problem, result=None, problems=[])


@staff_upload
async def members_upload(request: web.Request) -> web.Response:
    """Replace the member list with an uploaded CSV (streamed; the CSRF field is checked
    before anything is replaced)."""
    server = request.app[CONFIG_KEY].server
    refused = multipart_precheck(request, server.max_request_bytes, text.MEMBERS_FORM_EXPECTED)
    if refused:
        return refused
    form = FormReader(request, server.max_request_bytes, server.max_parts, server.body_timeout)
    csrf = ""
    data = bytearray()
    try:
        while (part := await form.next_part()) is not None:
            if part.name == "csrf" and part.filename is None:
                csrf = await form.read_field(part, 256)
            elif part.name == "file" and not data:
                async for chunk in form.chunks(part):
                    # Kept up to one byte past the limit: enough to say «too large».
                    data += chunk[: MAX_CSV_BYTES + 1 - len(data)]
            else:
                await form.skip(part)
    except UploadRefused as refusal:
        return refusal.response
    except SlowClient:
        return error_response(408, "request.timeout", text.FILE_UPLOAD_TIMEOUT, f"no data for {server.body_timeout} s")
    if not csrf_ok(request[SESSION_KEY], csrf):
        raise csrf_refused()
    members = request.app[MEMBERS_KEY]
    count, problems = validate_members_csv(bytes(data)) if data else (0, [text.MEMBERS_CSV_CHOOSE_FILE])
    result = None
    status = 400
    if not problems:
        await _run(request, replace_members_csv, request.app[CONFIG_KEY].storage.members_csv, bytes(data))
        result = text.MEMBERS_CSV_REPLACED.format(count=count)
        status = 200
    return render(request, "members.html", status=status, members=members.all_members(), problem=members.problem, result=result, problems=problems)


async def root_redirect(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently("/staff/")


def setup_staff_routes(app: web.Application) -> None:
    app.router.add_get("/staff", root_redirect)
    app.router.add_get("/staff/login", login_page)
    app.router.add_post("/staff/login", login_submit)
    app.router.add_post("/staff/logout", logout)
    app.router.add_get("/staff/", inbox)
    app.router.add_get("/staff/export.csv", export_csv)
    app.router.add_get("/staff/submissions/{id}", package_page)
    app.router.add_post("/staff/submissions/{id}/decision", decide)
    app.router.add_get("/staff/submissions/{id}/files/{position}", download)
    app.router.add_get("/staff/submissions/{id}/report", report_page)
    app.router.add_get("/staff/members", members_page)
    app.router.add_post("/staff/members", members_upload)
    app.router.add_static("/staff/static/", ROOT / "static", append_version=True)
