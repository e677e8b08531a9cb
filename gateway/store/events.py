"""The «Движения» of a submission: every state change with its time, actor and detail.

Events are written by :func:`record_event` inside the transaction that makes the change
(the upload row, the claim, the decision, the registry answer, the email job closing, the
staff decision), so the timeline can neither miss a change nor show one that was rolled
back. Rows are append-only; ``id`` orders events of the same second.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from gateway.store.db import now_iso
from gateway.store.webhooks import queue_status_change

__all__ = ["SCHEMA", "EVENT_KINDS_RU", "Event", "record_event", "events_of", "event_title_ru"]

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS submission_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        submission_id TEXT NOT NULL REFERENCES submissions(id),
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX IF NOT EXISTS submission_events_by_submission ON submission_events(submission_id, id)",
)

EVENT_KINDS_RU: dict[str, str] = {
    "received": "Пакет получен",
    "validation_started": "Проверка начата",
    "revalidation": "Повторная проверка",
    "decision": "Решение по проверке",
    "registered": "Зарегистрирован в реестре",
    "registry_failed": "Передача в реестр не удалась",
    "email_sent": "Письмо отправлено",
    "email_failed": "Письмо не доставлено",
    "staff_decision": "Решение сотрудника СРО",
}
"""Russian titles of event kinds, as the «Движения» timeline shows them."""

_DECISIONS_RU = {
    "accepted": "Принят",
    "returned": "Возвращен на доработку",
    "rejected": "Отклонен",
    "verified": "Проверен",
    "awaiting_revocation": "Ожидает проверки отзыва сертификата",
}

_EMAIL_KINDS_RU = {
    "received": "о приёме пакета",
    "registered": "о регистрации",
    "returned": "о возврате на доработку",
    "rejected": "об отклонении",
    "staff_decision": "о решении сотрудника СРО",
}


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    submission_id: str
    at: str
    actor: str
    kind: str
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "actor": self.actor, "kind": self.kind, "title_ru": event_title_ru(self.kind, self.detail), "detail": self.detail}


def record_event(connection: sqlite3.Connection, submission_id: str, kind: str, actor: str, detail: dict[str, Any] | None = None) -> None:
    """Append one event inside the caller's transaction (and queue the portal's webhooks
    for a status change in the same transaction)."""
    at = now_iso()
    cursor = connection.execute(
        "INSERT INTO submission_events (submission_id, at, actor, kind, detail) VALUES (?, ?, ?, ?, ?)",
        (submission_id, at, actor, kind, json.dumps(detail or {}, ensure_ascii=False)),
    )
    queue_status_change(connection, submission_id, int(cursor.lastrowid or 0), kind, at, detail or {})


def events_of(connection: sqlite3.Connection, submission_id: str) -> list[Event]:
    """Every event of one submission, oldest first."""
    rows = connection.execute(
        "SELECT * FROM submission_events WHERE submission_id = ? ORDER BY id", (submission_id,)
    ).fetchall()
    return [Event(r["id"], r["submission_id"], r["at"], r["actor"], r["kind"], json.loads(r["detail"])) for r in rows]


def event_title_ru(kind: str, detail: dict[str, Any]) -> str:
    """One line in Russian that says what happened (the timeline's text)."""
    title = EVENT_KINDS_RU.get(kind, kind)
    if kind == "decision" or kind == "staff_decision":
        decision = _DECISIONS_RU.get(str(detail.get("decision")), str(detail.get("decision")))
        text = f"{title}: {decision}"
        if detail.get("comment"):
            text += f" — «{detail['comment']}»"
        return text
    if kind == "registered":
        return f"{title}: вх. № {detail.get('incoming_number', '—')}"
    if kind in ("email_sent", "email_failed"):
        what = _EMAIL_KINDS_RU.get(str(detail.get("email_kind")), "")
        return f"{title} {what}".strip() + (f" ({detail['to']})" if detail.get("to") else "")
    if kind == "received" and detail.get("repeat_of"):
        return f"{title} (повторная отправка отчёта за тот же период)"
    if kind in ("validation_started", "revalidation") and detail.get("attempt"):
        return f"{title} (попытка {detail['attempt']})"
    return title
