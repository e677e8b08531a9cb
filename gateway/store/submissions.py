"""Queries for submissions, their files and reports."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.store.blobs import StoredBlob
from gateway.store.db import Database, derived_id, now_iso
from gateway.store.events import record_event
from gateway.store.periods import record_period
from gateway.store.report import PackageReport
from gateway.store.status import Decision, SubmissionStatus

__all__ = ["DigestRow", "NewSubmission", "StaffDecision", "StoredFile", "SubmissionRecord", "SubmissionRepository", "count_decided", "count_with_status", "digest_rows", "mark_registered", "now_iso", "record_decision", "record_streebog", "report_json_of"]


@dataclass(frozen=True, slots=True)
class NewSubmission:
    member: str
    doc_type: str
    report_kind: str | None
    regulation_kind: str | None
    external_id: str | None
    report_year: int | None = None
    """Reports: the year of the reporting period (the period end follows from the kind)."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    position: int
    slot: str
    name: str
    blob: StoredBlob

    def to_json(self) -> dict[str, Any]:
        return {
            "slot": self.slot,
            "name": self.name,
            "size": self.blob.size,
            "sha256": self.blob.sha256,
            "streebog256": self.blob.streebog256,
        }


@dataclass(frozen=True, slots=True)
class SubmissionRecord:
    id: str
    external_id: str | None
    member: str
    doc_type: str
    report_kind: str | None
    regulation_kind: str | None
    status: str
    decision: str | None
    incoming_number: str | None
    registered_at: str | None
    received_at: str
    decided_at: str | None
    attempts: int
    member_email: str | None = None
    staff_decision: str | None = None
    staff_comment: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "external_id": self.external_id,
            "member": self.member,
            "doc_type": self.doc_type,
            "report_kind": self.report_kind,
            "regulation_kind": self.regulation_kind,
            "status": self.status,
            "decision": self.decision,
            "incoming_number": self.incoming_number,
            "registered_at": self.registered_at,
            "received_at": self.received_at,
            "decided_at": self.decided_at,
            "staff_decision": self.staff_decision,
            "staff_comment": self.staff_comment,
        }


@dataclass(frozen=True, slots=True)
class StaffDecision:
    """A staff decision on a submission as :meth:`SubmissionRepository.record_staff_decision`
    found it: refused (not registered), recorded now, or a repetition of one recorded before.

    ``member_email``, ``member_name``, ``doc_type_ru`` and ``incoming_number`` are what the
    member's email says; they are filled only when the decision was recorded now.
    """

    submission_id: str
    registered: bool
    event_id: str = ""
    decision: str = ""
    comment: str = ""
    duplicate: bool = False
    member_email: str | None = None
    member_name: str = ""
    doc_type_ru: str = ""
    incoming_number: str = ""


def _by_external_id(connection: sqlite3.Connection, external_id: str) -> str | None:
    row = connection.execute("SELECT id FROM submissions WHERE external_id = ?", (external_id,)).fetchone()
    return row["id"] if row is not None else None


def _insert(connection: sqlite3.Connection, new: NewSubmission, files: list[StoredFile], actor: str) -> tuple[str, bool]:
    if new.external_id:
        existing = _by_external_id(connection, new.external_id)
        if existing is not None:
            return existing, False
    submission_id = uuid.uuid4().hex
    connection.execute(
        "INSERT INTO submissions (id, external_id, member, doc_type, report_kind, regulation_kind, status, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (submission_id, new.external_id, new.member, new.doc_type, new.report_kind, new.regulation_kind, SubmissionStatus.RECEIVED.value, now_iso()),
    )
    connection.executemany(
        "INSERT INTO files (submission_id, position, slot, name, size, sha256, streebog256, blob) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(submission_id, f.position, f.slot, f.name, f.blob.size, f.blob.sha256, f.blob.streebog256, f.blob.key) for f in files],
    )
    detail: dict[str, Any] = {"files": [f.name for f in files], "external_id": new.external_id}
    if new.doc_type == "report" and new.report_kind and new.report_year is not None:
        detail["report_year"] = new.report_year
        repeat_of = record_period(connection, submission_id, new.member, new.report_kind, new.report_year)
        if repeat_of:
            detail["repeat_of"] = repeat_of
    record_event(connection, submission_id, "received", actor, detail)
    return submission_id, True


class SubmissionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, new: NewSubmission, files: list[StoredFile], actor: str = "portal") -> tuple[str, bool]:
        """Record a received submission in one transaction; (id, created).

        The same ``external_id`` again returns the first submission (created=False).
        """
        return self.create_many([(new, files)], actor)[0]

    def create_many(self, submissions: list[tuple[NewSubmission, list[StoredFile]]], actor: str = "portal") -> list[tuple[str, bool]]:
        """Record several received submissions in one transaction (one commit to disk)."""
        results = []
        with self.db.transaction() as connection:
            for new, files in submissions:
                results.append(_insert(connection, new, files, actor))
        return results

    def find_external(self, external_id: str) -> str | None:
        """The submission recorded earlier under this portal ``external_id``.

        A plain read (WAL: it waits for no writer): recording the upload looks again inside
        its own transaction, so an upload racing another with the same key is still caught."""
        rows = self.db.query("SELECT id FROM submissions WHERE external_id = ?", external_id)
        return rows[0]["id"] if rows else None

    def get(self, submission_id: str) -> SubmissionRecord | None:
        rows = self.db.query("SELECT * FROM submissions WHERE id = ?", submission_id)
        if not rows:
            return None
        row = rows[0]
        return SubmissionRecord(**{k: row[k] for k in SubmissionRecord.__slots__})

    def files(self, submission_id: str) -> list[StoredFile]:
        rows = self.db.query("SELECT * FROM files WHERE submission_id = ? ORDER BY position", submission_id)
        return [
            StoredFile(r["position"], r["slot"], r["name"], StoredBlob(r["blob"], r["size"], r["sha256"], r["streebog256"]))
            for r in rows
        ]

    def recorded_streebog(self, sha256: str) -> str | None:
        """The Streebog-256 recorded for a stored file with this SHA-256 (any submission)."""
        rows = self.db.query("SELECT streebog256 FROM files WHERE sha256 = ? AND streebog256 IS NOT NULL LIMIT 1", sha256)
        return rows[0]["streebog256"] if rows else None

    def claim(self, submission_id: str) -> int | None:
        """received/validating -> validating; the number of this attempt (1 for the first),
        counted in the row before any work starts, so attempts killed with the process count
        too. None when the submission is decided already. Not waited to disk: a claim
        lost to a power cut is one attempt less counted, and the work is due again anyway."""
        with self.db.transaction(durable=False) as connection:
            row = connection.execute(
                "UPDATE submissions SET status = ?, attempts = attempts + 1 WHERE id = ? AND status IN (?, ?) RETURNING attempts",
                (SubmissionStatus.VALIDATING.value, submission_id, SubmissionStatus.RECEIVED.value, SubmissionStatus.VALIDATING.value),
            ).fetchone()
            if row is not None:
                attempt = row["attempts"]
                record_event(connection, submission_id, "revalidation" if attempt > 1 else "validation_started", "gateway", {"attempt": attempt})
        return int(row["attempts"]) if row is not None else None

    def release(self, submission_id: str) -> bool:
        """Undo a claim whose validation a graceful stop interrupted: back to ``received``
        with the attempt uncounted (only a validation that died with the process counts
        towards the attempt cap). False when the submission was not being validated."""
        with self.db.transaction() as connection:
            row = connection.execute(
                "UPDATE submissions SET status = ?, attempts = MAX(attempts - 1, 0) WHERE id = ? AND status = ? RETURNING attempts",
                (SubmissionStatus.RECEIVED.value, submission_id, SubmissionStatus.VALIDATING.value),
            ).fetchone()
        return row is not None

    def decide(
        self,
        submission_id: str,
        decision: Decision,
        report: PackageReport,
        member_email: str | None = None,
        effects: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """Store the report and the decision, and queue their side effects, in one transaction."""
        with self.db.transaction() as connection:
            record_decision(connection, submission_id, decision, report, member_email, effects)

    def record_staff_decision(
        self,
        decision: str,
        comment: str,
        *,
        submission_id: str | None = None,
        incoming_number: str | None = None,
        event_id: str | None = None,
        actor: str = "registry",
        effects: Callable[[sqlite3.Connection, StaffDecision], None] | None = None,
    ) -> StaffDecision | None:
        """Record a staff decision on a registered package and its «Движения» event, and run
        ``effects`` (the member's email) when it is new, in one transaction. ``None`` when no
        submission has that id or incoming number; repeating an event id changes nothing."""
        with self.db.transaction() as connection:
            row = None
            if submission_id:
                row = connection.execute("SELECT * FROM submissions WHERE id = ?", (submission_id,)).fetchone()
            elif incoming_number:
                row = connection.execute("SELECT * FROM submissions WHERE incoming_number = ?", (incoming_number,)).fetchone()
            if row is None:
                return None
            if row["status"] != SubmissionStatus.REGISTERED:
                return StaffDecision(row["id"], registered=False)
            event_id = event_id or derived_id(row["id"], decision, comment)
            inserted = connection.execute(
                "INSERT OR IGNORE INTO registry_events (event_id, submission_id, decision, comment, received_at) VALUES (?, ?, ?, ?, ?)",
                (event_id, row["id"], decision, comment, now_iso()),
            ).rowcount == 1
            if not inserted:
                return StaffDecision(row["id"], registered=True, event_id=event_id, decision=decision, comment=comment, duplicate=True)
            connection.execute("UPDATE submissions SET staff_decision = ?, staff_comment = ? WHERE id = ?", (decision, comment, row["id"]))
            record_event(connection, row["id"], "staff_decision", actor, {"decision": decision, "comment": comment, "event_id": event_id})
            stored = stored_report(connection, row["id"])
            recorded = StaffDecision(
                row["id"],
                registered=True,
                event_id=event_id,
                decision=decision,
                comment=comment,
                member_email=row["member_email"],
                member_name=stored.member.name if stored is not None and stored.member is not None else row["member"],
                doc_type_ru=(stored.doc_type_ru or "") if stored is not None else row["doc_type"],
                incoming_number=row["incoming_number"],
            )
            if effects is not None:
                effects(connection, recorded)
            return recorded

    def report(self, submission_id: str) -> PackageReport | None:
        """The stored report of a decided submission (a plain read, waiting for no writer)."""
        rows = self.db.query("SELECT report FROM reports WHERE submission_id = ?", submission_id)
        return PackageReport.from_json(json.loads(rows[0]["report"])) if rows else None

    def report_with_submission(self, submission_id: str) -> PackageReport | None:
        """The stored report showing the submission as it is now (status, numbers)."""
        report, record = self.report(submission_id), self.get(submission_id)
        if report is None or record is None:
            return None
        return report.with_submission(record.to_json())

    def unfinished(self) -> list[str]:
        """Submissions received or interrupted while validating (restart recovery)."""
        return [
            r["id"]
            for r in self.db.query(
                "SELECT id FROM submissions WHERE status IN (?, ?) ORDER BY received_at", SubmissionStatus.RECEIVED.value, SubmissionStatus.VALIDATING.value
            )
        ]

    def counts_by_decision(self) -> dict[str, int]:
        return {r["status"]: r["n"] for r in self.db.query("SELECT status, COUNT(*) AS n FROM submissions GROUP BY status")}


def record_decision(
    connection: sqlite3.Connection,
    submission_id: str,
    decision: Decision,
    report: PackageReport,
    member_email: str | None = None,
    effects: Callable[[sqlite3.Connection], None] | None = None,
    report_json: str | None = None,
) -> None:
    """Store the report and the decision, with its «Движения» event, and run ``effects`` (the
    outbox rows of its side effects), inside the caller's transaction. ``report_json``: the
    report already serialised by :func:`report_json_of` (outside the write lock)."""
    connection.execute(
        "INSERT OR REPLACE INTO reports (submission_id, report) VALUES (?, ?)",
        (submission_id, report_json if report_json is not None else report_json_of(report)),
    )
    connection.execute(
        "UPDATE submissions SET status = ?, decision = ?, decided_at = ?, error = NULL, member_email = ? WHERE id = ?",
        (decision.value, decision.value, now_iso(), member_email, submission_id),
    )
    record_event(connection, submission_id, "decision", "gateway", {"decision": decision.value, "findings": [c.code for c in report.problems]})
    if effects is not None:
        effects(connection)


def record_streebog(connection: sqlite3.Connection, digests: Mapping[str, str]) -> None:
    """Record Streebog-256 digests (by SHA-256) with every stored file of that SHA-256,
    inside the caller's transaction."""
    connection.executemany(
        "UPDATE files SET streebog256 = ? WHERE sha256 = ? AND streebog256 IS NULL", [(streebog, sha256) for sha256, streebog in digests.items()]
    )


def report_json_of(report: PackageReport) -> str:
    """The report as stored (JSON, UTF-8 text as is)."""
    return json.dumps(report.to_json(), ensure_ascii=False)


def stored_report(connection: sqlite3.Connection, submission_id: str) -> PackageReport | None:
    """The stored report of a decided submission, inside the caller's transaction."""
    row = connection.execute("SELECT report FROM reports WHERE submission_id = ?", (submission_id,)).fetchone()
    return PackageReport.from_json(json.loads(row[0])) if row is not None else None


@dataclass(frozen=True, slots=True)
class DigestRow:
    """A returned or rejected package for the staff digest, with its stored report."""

    submission_id: str
    member: str
    decision: str
    report: PackageReport | None


def digest_rows(connection: sqlite3.Connection, start: str, end: str) -> list[DigestRow]:
    """The returned and rejected packages decided in ``[start, end)`` (stored UTC times), in
    the order they were decided, inside the caller's transaction."""
    rows = connection.execute(
        "SELECT s.id, s.member, s.decision, r.report FROM submissions s LEFT JOIN reports r ON r.submission_id = s.id"
        " WHERE s.decision IN (?, ?) AND s.decided_at >= ? AND s.decided_at < ? ORDER BY s.decided_at",
        (Decision.RETURNED.value, Decision.REJECTED.value, start, end),
    ).fetchall()
    return [
        DigestRow(row["id"], row["member"], row["decision"], PackageReport.from_json(json.loads(row["report"])) if row["report"] else None)
        for row in rows
    ]


def mark_registered(connection: sqlite3.Connection, submission_id: str, incoming_number: str, registered_at: str) -> None:
    """The registry gave the submission its incoming number: ``registered``, with its
    «Движения» event, inside the caller's transaction."""
    connection.execute(
        "UPDATE submissions SET status = ?, incoming_number = ?, registered_at = ? WHERE id = ?",
        (SubmissionStatus.REGISTERED.value, incoming_number, registered_at, submission_id),
    )
    record_event(connection, submission_id, "registered", "registry", {"incoming_number": incoming_number, "registered_at": registered_at})


def count_with_status(database: Database, status: SubmissionStatus) -> int:
    """How many submissions are in ``status`` now."""
    return int(database.query("SELECT COUNT(*) AS n FROM submissions WHERE status = ?", status.value)[0]["n"])


def count_decided(database: Database, decision: Decision, start: str, end: str) -> int:
    """How many submissions got the automatic ``decision`` in ``[start, end)`` (stored UTC times)."""
    return int(
        database.query("SELECT COUNT(*) AS n FROM submissions WHERE decision = ? AND decided_at >= ? AND decided_at < ?", decision.value, start, end)[0]["n"]
    )
