"""The ``notices`` table: notices for members received from the registry, once each."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from gateway.store.db import Database, now_iso

__all__ = ["record_notice"]


def record_notice(db: Database, notice_id: str, kind: str, payload: dict[str, Any], enqueue: Callable[[sqlite3.Connection], int]) -> tuple[int, bool]:
    """Record a notice and, the first time only, run ``enqueue`` in the same transaction.

    Returns what ``enqueue`` returned (0 for a repeat) and whether the notice was a repeat.
    """
    with db.transaction() as connection:
        inserted = connection.execute(
            "INSERT OR IGNORE INTO notices (notice_id, kind, payload, received_at) VALUES (?, ?, ?, ?)",
            (notice_id, kind, json.dumps(payload, ensure_ascii=False), now_iso()),
        ).rowcount == 1
        return (enqueue(connection) if inserted else 0), not inserted
