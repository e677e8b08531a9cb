"""``GET /api/v1/submissions`` (filters, cursor paging) and ``GET /api/v1/submissions/{id}/events``.

The portal key sees only the member it names (``member`` is then required); staff and the
registry see everything. Filters are parsed once here for the API and the staff pages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import date

from aiohttp import web

from gateway import messages_ru as messages
from gateway.http.responses import error_response
from gateway.keys import DATABASE_KEY, MEMBERS_KEY, REPOSITORY_KEY, ROLE_KEY
from gateway.store.events import events_of
from gateway.store.listing import SubmissionFilter, decode_cursor, search
from validators.members import MemberList

__all__ = ["setup_list_routes", "parse_filter", "FilterError"]

MAX_LIMIT = 200


class FilterError(ValueError):
    """A filter value that cannot be used; the message is Russian."""


def _date(query: Mapping[str, str], name: str) -> date | None:
    value = (query.get(name) or "").strip()
    if not value:
        return None
    for parse in (date.fromisoformat, lambda v: date(int(v[6:10]), int(v[3:5]), int(v[0:2]))):
        try:
            return parse(value)
        except (ValueError, IndexError):
            continue
    raise FilterError(messages.BAD_DATE.format(name=name))


def members_matching(members: MemberList, text: str) -> tuple[str, ...]:
    """Register numbers of members whose name contains ``text`` (case- and ё-insensitive)."""
    needle = text.casefold().replace("ё", "е")
    if not needle:
        return ()
    return tuple(m.number for m in members.all_members() if needle in m.name.casefold().replace("ё", "е"))


def parse_filter(query: Mapping[str, str], members: MemberList) -> SubmissionFilter:
    """The filter of a query string (API and staff list share the names); raises FilterError."""
    member_text = (query.get("member") or "").strip()
    member_numbers: tuple[str, ...] | None = None
    if member_text:
        member_numbers = (member_text.lstrip("0") or "0", member_text) if member_text.isdigit() else members_matching(members, member_text)
    text = (query.get("q") or "").strip() or None
    year_text = (query.get("report_year") or "").strip()
    if year_text and not (year_text.isascii() and year_text.isdigit() and len(year_text) == 4):
        raise FilterError(messages.BAD_REPORT_YEAR_DIGITS)
    return SubmissionFilter(
        status=(query.get("status") or "").strip() or None,
        decision=(query.get("decision") or "").strip() or None,
        staff_decision=(query.get("staff_decision") or "").strip() or None,
        members=member_numbers,
        doc_type=(query.get("doc_type") or "").strip() or None,
        report_kind=(query.get("report_kind") or "").strip() or None,
        regulation_kind=(query.get("regulation_kind") or "").strip() or None,
        report_year=int(year_text) if year_text else None,
        received_from=_date(query, "received_from"),
        received_to=_date(query, "received_to"),
        text=text,
        text_members=members_matching(members, text) if text else (),
    )


async def list_submissions(request: web.Request) -> web.Response:
    role = request.get(ROLE_KEY, "staff")
    if role not in ("portal", "staff", "registry"):
        return error_response(403, "auth.forbidden", messages.FORBIDDEN, f"role {role} may not list submissions")
    query = request.query
    if role == "portal" and not (query.get("member") or "").strip().isdigit():
        return error_response(400, "request.member", messages.REQUEST_MEMBER, "portal key: member (register number) is required")
    try:
        limit = int(query.get("limit", "50"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        return error_response(400, "request.limit", messages.BAD_LIMIT.format(limit=MAX_LIMIT), "limit out of range")
    cursor = None
    if query.get("cursor"):
        cursor = decode_cursor(query["cursor"])
        if cursor is None:
            return error_response(400, "request.cursor", messages.REQUEST_CURSOR, "malformed cursor")
    try:
        wanted = parse_filter(query, request.app[MEMBERS_KEY])
    except FilterError as exc:
        return error_response(400, "request.filter", str(exc), "bad filter value")
    loop = asyncio.get_running_loop()
    page = await loop.run_in_executor(None, lambda: search(request.app[DATABASE_KEY], wanted, limit=limit, cursor=cursor))
    return web.json_response(
        {"items": [r.to_json() for r in page.items], "next_cursor": page.next_cursor, "total": page.total},
        dumps=_dumps,
    )


async def submission_events(request: web.Request) -> web.Response:
    role = request.get(ROLE_KEY, "staff")
    if role not in ("portal", "staff", "registry"):
        return error_response(403, "auth.forbidden", messages.FORBIDDEN, f"role {role} may not read events")
    submission_id = request.match_info["id"]
    loop = asyncio.get_running_loop()
    record = await loop.run_in_executor(None, request.app[REPOSITORY_KEY].get, submission_id)
    if record is None or (role == "portal" and request.query.get("member") != record.member):
        # The portal learns nothing about other members' packages, not even that they exist.
        return error_response(404, "submission.not_found", messages.SUBMISSION_NOT_FOUND, "no such submission (portal: give the member it belongs to)")
    database = request.app[DATABASE_KEY]

    def load() -> list[dict[str, object]]:
        with database.transaction() as connection:
            return [e.to_json() for e in events_of(connection, submission_id)]

    return web.json_response({"id": submission_id, "events": await loop.run_in_executor(None, load)}, dumps=_dumps)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def setup_list_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/submissions", list_submissions)
    app.router.add_get("/api/v1/submissions/{id}/events", submission_events)
