"""Portal webhooks: registered URLs and the status-change jobs queued for them.

:func:`queue_status_change` runs inside the transaction that records a status change (it
is called by :func:`gateway.store.events.record_event`), so a committed change always has
its callbacks queued in the outbox and a rolled-back one never does.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import Any

from gateway.store.db import Database, now_iso

__all__ = ["SCHEMA", "Webhook", "WebhookStore", "queue_status_change", "STATUS_EVENT_KINDS", "WEBHOOK_TARGET"]

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS webhooks (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        created_at TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1
    )""",
)

WEBHOOK_TARGET = "webhook"
STATUS_EVENT_KINDS = frozenset({"received", "decision", "registered", "staff_decision"})
"""Events that change what ``GET /submissions/{id}`` answers."""


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    url: str
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "created_at": self.created_at}


class WebhookStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, url: str, secret: str | None = None) -> tuple[Webhook, str]:
        """Register a URL; returns it with its signing secret (generated when not given)."""
        secret = secret or secrets.token_urlsafe(32)
        hook = Webhook(uuid.uuid4().hex, url, now_iso())
        with self.db.transaction() as connection:
            connection.execute("INSERT INTO webhooks (id, url, secret, created_at) VALUES (?, ?, ?, ?)", (hook.id, url, secret, hook.created_at))
        return hook, secret

    def remove(self, hook_id: str) -> bool:
        with self.db.transaction() as connection:
            return connection.execute("UPDATE webhooks SET active = 0 WHERE id = ? AND active = 1", (hook_id,)).rowcount == 1

    def active(self) -> list[Webhook]:
        return [Webhook(r["id"], r["url"], r["created_at"]) for r in self.db.query("SELECT * FROM webhooks WHERE active = 1 ORDER BY created_at")]

    def secret(self, hook_id: str) -> tuple[str, str] | None:
        """(url, secret) of an active webhook."""
        rows = self.db.query("SELECT url, secret FROM webhooks WHERE id = ? AND active = 1", hook_id)
        return (rows[0]["url"], rows[0]["secret"]) if rows else None


def queue_status_change(connection: sqlite3.Connection, submission_id: str, event_row: int, kind: str, at: str, detail: dict[str, Any]) -> None:
    """Queue one callback per active webhook for a status-changing event (caller's transaction)."""
    if kind not in STATUS_EVENT_KINDS:
        return
    hooks = connection.execute("SELECT id FROM webhooks WHERE active = 1").fetchall()
    if not hooks:
        return
    row = connection.execute(
        "SELECT member, external_id, status, decision, staff_decision, incoming_number FROM submissions WHERE id = ?", (submission_id,)
    ).fetchone()
    event = {
        "event_id": f"evt-{event_row}",
        "kind": kind,
        "at": at,
        "submission_id": submission_id,
        **(dict(row) if row is not None else {}),
    }
    if kind == "staff_decision":
        event["comment"] = detail.get("comment", "")
    for hook in hooks:
        connection.execute(
            "INSERT OR IGNORE INTO outbox (kind, target, dedupe_key, submission_id, payload, status, next_attempt_at, created_at)"
            " VALUES ('webhook', ?, ?, ?, ?, 'pending', ?, ?)",
            (WEBHOOK_TARGET, f"webhook:{hook['id']}:{event['event_id']}", submission_id,
             json.dumps({"webhook_id": hook["id"], "event": event}, ensure_ascii=False), time.time(), now_iso()),
        )
