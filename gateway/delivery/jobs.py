"""Side effects of decisions as outbox jobs, queued inside the deciding transaction.

``decision_jobs`` returns what to run in the transaction that stores a decision: an
accepted package gets its registry delivery and a "received" email; a returned or
rejected one an email listing every failed check with the report attached.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from gateway.delivery.outbox import Effects, enqueue

__all__ = ["decision_jobs", "email_job", "REGISTRY_TARGET", "EMAIL_TARGET"]

REGISTRY_TARGET = "registry"
EMAIL_TARGET = "smtp"


def email_job(
    connection: sqlite3.Connection,
    dedupe_key: str,
    kind: str,
    to: str,
    context: dict[str, Any],
    submission_id: str | None = None,
    attach_report: bool = False,
) -> bool:
    """Queue one email (inside the caller's transaction)."""
    payload = {"kind": kind, "to": to, "context": context, "attach_report": attach_report}
    return enqueue(connection, "email", EMAIL_TARGET, dedupe_key, payload, submission_id)


def decision_jobs(submission_id: str, decision: str, report: dict[str, Any], member_email: str | None) -> Effects:
    """The side effects of a decision, to run in the transaction that records it."""
    member = report.get("member") or {}
    base = {
        "member_name": member.get("name") or report.get("submission", {}).get("member", ""),
        "doc_type_ru": report.get("doc_type_ru") or report.get("doc_type"),
        "submission_id": submission_id,
    }

    def effects(connection: sqlite3.Connection) -> None:
        if decision == "accepted":
            enqueue(connection, "registry", REGISTRY_TARGET, f"registry:{submission_id}", {}, submission_id)
            if member_email:
                email_job(connection, f"email:received:{submission_id}", "received", member_email,
                          {**base, "received_at": report.get("submission", {}).get("received_at", "")}, submission_id)
        elif member_email:
            checks = [
                {k: c.get(k) for k in ("code", "file", "message_ru", "remedy_ru")}
                for c in report.get("checks", [])
                if c.get("severity") in ("fatal", "fixable")
            ]
            email_job(
                connection,
                f"email:{decision}:{submission_id}",
                decision,
                member_email,
                {**base, "decision_ru": report.get("decision_ru"), "checks": checks},
                submission_id,
                attach_report=True,
            )

    return effects
