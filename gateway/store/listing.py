"""Finding submissions: filters, text search, sorting and paging for the API and staff pages.

Every value reaches SQLite as a parameter; sort keys come from a fixed table. Two kinds of
paging: a keyset cursor (the API: stable while new packages arrive) and page numbers (the
staff list, sortable by any column).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gateway.moscow import msk_day_bounds
from gateway.store.db import Database
from gateway.store.submissions import SubmissionRecord

__all__ = ["SubmissionFilter", "Page", "search", "count", "encode_cursor", "decode_cursor", "SORTS"]

SORTS: dict[str, str] = {
    "received": "s.received_at",
    "member": "CAST(s.member AS INTEGER)",
    "status": "s.status",
    "doc_type": "s.doc_type",
    "incoming": "s.incoming_number",
}


@dataclass(frozen=True)
class SubmissionFilter:
    """What to look for; every field optional."""

    status: str | None = None
    """A current status (received, validating, accepted, registered, returned, rejected, …)."""
    decision: str | None = None
    """The automatic decision (accepted, returned, rejected)."""
    staff_decision: str | None = None
    members: tuple[str, ...] | None = None
    """Register numbers (the member filter by number or by name, resolved by the caller)."""
    doc_type: str | None = None
    report_kind: str | None = None
    regulation_kind: str | None = None
    report_year: int | None = None
    received_from: date | None = None
    """Moscow days, inclusive."""
    received_to: date | None = None
    text: str | None = None
    """Searched in the member number, ВХ number, external id, submission id and file names."""
    text_members: tuple[str, ...] = field(default_factory=tuple)
    """Members whose name matched ``text`` (resolved by the caller from the member list)."""


@dataclass(frozen=True)
class Page:
    items: list[SubmissionRecord]
    next_cursor: str | None
    total: int


def _where(f: SubmissionFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    for column, value in (
        ("s.status", f.status),
        ("s.decision", f.decision),
        ("s.staff_decision", f.staff_decision),
        ("s.doc_type", f.doc_type),
        ("s.report_kind", f.report_kind),
        ("s.regulation_kind", f.regulation_kind),
    ):
        if value:
            clauses.append(f"{column} = ?")
            args.append(value)
    if f.report_year is not None:
        clauses.append("EXISTS (SELECT 1 FROM submission_periods p WHERE p.submission_id = s.id AND p.report_year = ?)")
        args.append(f.report_year)
    if f.members is not None:
        clauses.append(f"s.member IN ({','.join('?' * len(f.members)) or 'NULL'})")
        args.extend(f.members)
    if f.received_from is not None:
        clauses.append("s.received_at >= ?")
        args.append(msk_day_bounds(f.received_from)[0])
    if f.received_to is not None:
        clauses.append("s.received_at < ?")
        args.append(msk_day_bounds(f.received_to)[1])
    if f.text:
        like = "%" + f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        parts = [
            "s.member = ?",
            "s.incoming_number LIKE ? ESCAPE '\\'",
            "s.external_id LIKE ? ESCAPE '\\'",
            "s.id LIKE ? ESCAPE '\\'",
            "EXISTS (SELECT 1 FROM files fi WHERE fi.submission_id = s.id AND fi.name LIKE ? ESCAPE '\\')",
        ]
        args.extend([f.text, like, like, like, like])
        if f.text_members:
            parts.append(f"s.member IN ({','.join('?' * len(f.text_members))})")
            args.extend(f.text_members)
        clauses.append("(" + " OR ".join(parts) + ")")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _record(row: Any) -> SubmissionRecord:
    return SubmissionRecord(**{k: row[k] for k in SubmissionRecord.__slots__})


def encode_cursor(received_at: str, submission_id: str) -> str:
    return base64.urlsafe_b64encode(f"{received_at}|{submission_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str] | None:
    """(received_at, id) of the last item of the previous page; None when malformed."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    received_at, sep, submission_id = text.partition("|")
    return (received_at, submission_id) if sep and received_at and submission_id else None


def count(db: Database, f: SubmissionFilter) -> int:
    where, args = _where(f)
    return int(db.query(f"SELECT COUNT(*) AS n FROM submissions s{where}", *args)[0]["n"])  # noqa: S608 - _where() builds only fixed column names and ? placeholders


def search(
    db: Database,
    f: SubmissionFilter,
    limit: int = 50,
    cursor: tuple[str, str] | None = None,
    sort: str = "received",
    descending: bool = True,
    offset: int = 0,
) -> Page:
    """One page of submissions, newest first by default.

    With ``cursor`` (API paging) the order is always received time then id, descending.
    """
    where, args = _where(f)
    total = db.query(f"SELECT COUNT(*) AS n FROM submissions s{where}", *args)[0]["n"]  # noqa: S608 - _where() builds only fixed column names and ? placeholders
    if cursor is not None:
        where += (" AND " if where else " WHERE ") + "(s.received_at < ? OR (s.received_at = ? AND s.id < ?))"
        args.extend([cursor[0], cursor[0], cursor[1]])
        sort, descending, offset = "received", True, 0
    direction = "DESC" if descending else "ASC"
    order = f"{SORTS.get(sort, SORTS['received'])} {direction}, s.received_at {direction}, s.id {direction}"
    rows = db.query(f"SELECT s.* FROM submissions s{where} ORDER BY {order} LIMIT ? OFFSET ?", *args, limit + 1, offset)  # noqa: S608 - ORDER BY from the SORTS table and ASC/DESC; values are ? parameters
    items = [_record(r) for r in rows[:limit]]
    next_cursor = encode_cursor(items[-1].received_at, items[-1].id) if len(rows) > limit and items else None
    return Page(items, next_cursor, total)
