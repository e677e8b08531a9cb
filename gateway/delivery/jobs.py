"""Side effects of decisions as outbox jobs, queued inside the deciding transaction.

``decision_jobs`` returns what to run in the transaction that stores a decision: an
accepted package gets its registry delivery and a "received" email; a returned or
rejected one an email listing every failed check with the report attached.
``staff_decision_jobs`` queues the member's email about a staff decision.
"""

from __future__ import annotations

import sqlite3

from gateway.delivery.mail.contexts import DecisionEmail, EmailContext, ReceivedEmail, StaffDecisionEmail
from gateway.delivery.outbox import Effects, enqueue
from gateway.store.report import PackageReport
from gateway.store.status import Decision
from gateway.store.submissions import StaffDecision

__all__ = ["decision_jobs", "email_job", "staff_decision_jobs", "REGISTRY_TARGET", "EMAIL_TARGET"]

REGISTRY_TARGET = "registry"
EMAIL_TARGET = "smtp"


def email_job(
    connection: sqlite3.Connection,
    dedupe_key: str,
    to: str,
    context: EmailContext,
    submission_id: str | None = None,
    attach_report: bool = False,
) -> bool:
    """Queue one email (inside the caller's transaction)."""
    payload = {"kind": context.kind, "to": to, "context": context.to_json(), "attach_report": attach_report}
    return enqueue(connection, "email", EMAIL_TARGET, dedupe_key, payload, submission_id)


def decision_jobs(submission_id: str, report: PackageReport) -> Effects:
    """The side effects of a decision, to run in the transaction that records it."""
    member_email = report.member_email
    doc_type_ru = report.doc_type_ru or report.doc_type
    submission = report.submission or {}

    def effects(connection: sqlite3.Connection) -> None:
        context: EmailContext
        if report.decision is Decision.ACCEPTED:
            enqueue(connection, "registry", REGISTRY_TARGET, f"registry:{submission_id}", {}, submission_id)
            if member_email:
                context = ReceivedEmail(report.member_name, doc_type_ru, submission_id, str(submission.get("received_at") or ""))
                email_job(connection, f"email:received:{submission_id}", member_email, context, submission_id)
        elif member_email:
            problems = [{"code": c.code, "file": c.file, "message_ru": c.message_ru, "remedy_ru": c.remedy_ru} for c in report.problems]
            context = DecisionEmail(report.decision.value, report.member_name, doc_type_ru, submission_id, report.decision_ru, problems)
            email_job(connection, f"email:{report.decision.value}:{submission_id}", member_email, context, submission_id, attach_report=True)

    return effects


def staff_decision_jobs(connection: sqlite3.Connection, recorded: StaffDecision) -> None:
    """The member's email about a staff decision just recorded (inside its transaction);
    nothing when the member left no address."""
    if not recorded.member_email:
        return
    context = StaffDecisionEmail(
        member_name=recorded.member_name,
        doc_type_ru=recorded.doc_type_ru,
        incoming_number=recorded.incoming_number,
        decision=recorded.decision,
        comment=recorded.comment,
    )
    email_job(connection, f"email:event:{recorded.event_id}", recorded.member_email, context, recorded.submission_id)
