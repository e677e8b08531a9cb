"""Reporting periods of reports (``report_year`` + ``report_kind``) and repeated submissions.

A second report of the same member, kind and year is a repeated submission: it is marked
with the earlier one (``repeat_of``, the latest before it) when it is received, in the same
transaction, so the staff view links them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from gateway.store.db import Database

__all__ = ["SCHEMA", "Period", "period_end", "record_period", "period_of", "repeating", "repeats_of"]

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS submission_periods (
        submission_id TEXT PRIMARY KEY REFERENCES submissions(id),
        member TEXT NOT NULL,
        report_kind TEXT NOT NULL,
        report_year INTEGER NOT NULL,
        period_end TEXT,
        repeat_of TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS submission_periods_key ON submission_periods(member, report_kind, report_year)",
)

_ENDS = {"OD_Q1": "03-31", "OD_H1": "06-30", "OD_9M": "09-30", "OD_Y30": "12-31", "OD_Y90": "12-31"}


@dataclass(frozen=True, slots=True)
class Period:
    report_year: int
    period_end: str | None
    repeat_of: str | None


def period_end(report_kind: str, year: int) -> str | None:
    """The reporting date the kind names in ``year`` (``PS`` has none)."""
    end = _ENDS.get(report_kind)
    return f"{year}-{end}" if end else None


def record_period(connection: sqlite3.Connection, submission_id: str, member: str, report_kind: str, report_year: int) -> str | None:
    """Store the period of a new report; returns the earlier submission it repeats, if any."""
    earlier = connection.execute(
        "SELECT p.submission_id FROM submission_periods p JOIN submissions s ON s.id = p.submission_id"
        " WHERE p.member = ? AND p.report_kind = ? AND p.report_year = ? ORDER BY s.received_at DESC, p.rowid DESC LIMIT 1",
        (member, report_kind, report_year),
    ).fetchone()
    repeat_of = earlier["submission_id"] if earlier else None
    connection.execute(
        "INSERT INTO submission_periods (submission_id, member, report_kind, report_year, period_end, repeat_of) VALUES (?, ?, ?, ?, ?, ?)",
        (submission_id, member, report_kind, report_year, period_end(report_kind, report_year), repeat_of),
    )
    return repeat_of


def period_of(connection: sqlite3.Connection, submission_id: str) -> Period | None:
    row = connection.execute("SELECT * FROM submission_periods WHERE submission_id = ?", (submission_id,)).fetchone()
    return Period(row["report_year"], row["period_end"], row["repeat_of"]) if row else None


def repeats_of(connection: sqlite3.Connection, submission_id: str) -> list[str]:
    """Later submissions that repeat this one."""
    return [r["submission_id"] for r in connection.execute("SELECT submission_id FROM submission_periods WHERE repeat_of = ? ORDER BY rowid", (submission_id,))]


def repeating(database: Database, submission_ids: list[str]) -> set[str]:
    """Which of these submissions repeat an earlier report of the same period."""
    if not submission_ids:
        return set()
    placeholders = ",".join("?" * len(submission_ids))
    rows = database.query(
        f"SELECT submission_id FROM submission_periods WHERE repeat_of IS NOT NULL AND submission_id IN ({placeholders})",  # noqa: S608 - only ? placeholders are interpolated; ids are parameters
        *submission_ids,
    )
    return {str(r["submission_id"]) for r in rows}
