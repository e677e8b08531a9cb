"""The ``revocation_waits`` table: packages held while revocation data cannot be had.

Every SQL statement about the wait lives here; ``gateway.pipeline.revocation_wait`` decides
when to hold, release and re-check, and calls these functions. The table is created on
first use (not by a schema migration) and survives restarts.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.store.db import Database
from gateway.store.status import SubmissionStatus

__all__ = ["claim_due", "create_table", "hold", "release"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS revocation_waits (
    submission_id TEXT PRIMARY KEY REFERENCES submissions(id),
    since TEXT NOT NULL,
    checks INTEGER NOT NULL,
    next_check REAL NOT NULL,
    detail TEXT NOT NULL
)
"""

_AWAITING = SubmissionStatus.AWAITING_REVOCATION.value


def create_table(db: Database) -> None:
    """Create the table when it is not there yet."""
    with db.transaction() as connection:
        connection.execute(_SCHEMA)


def hold(db: Database, submission_id: str, since: str, detail: str, delay_after: Callable[[int], float]) -> tuple[int, float]:
    """Record one more re-check of a held package and set its status to awaiting_revocation.

    ``delay_after(done)`` gives the wait before the next re-check when ``done`` checks were
    made before this one; ``since`` is kept from the first hold. Returns the number of this
    check and the delay chosen, in one transaction with the status change.
    """
    with db.transaction() as connection:
        row = connection.execute("SELECT checks FROM revocation_waits WHERE submission_id = ?", (submission_id,)).fetchone()
        done = int(row["checks"]) if row is not None else 0
        delay = delay_after(done)
        connection.execute(
            "INSERT OR REPLACE INTO revocation_waits (submission_id, since, checks, next_check, detail) VALUES (?,"
            " COALESCE((SELECT since FROM revocation_waits WHERE submission_id = ?), ?), ?, ?, ?)",
            (submission_id, submission_id, since, done + 1, time.time() + delay, detail),
        )
        connection.execute(
            "UPDATE submissions SET status = ?, error = ? WHERE id = ?",
            (_AWAITING, f"revocation status unavailable, re-check in {delay:g} s: {detail}"[:1000], submission_id),
        )
    return done + 1, delay


def release(db: Database, submission_id: str) -> None:
    """Forget the wait of a package (it is decided now, or was never held)."""
    # Almost every package was never held: a plain read spares them the write lock.
    if not db.query("SELECT 1 FROM revocation_waits WHERE submission_id = ?", submission_id):
        return
    with db.transaction() as connection:
        connection.execute("DELETE FROM revocation_waits WHERE submission_id = ?", (submission_id,))


def claim_due(db: Database, now: float | None = None) -> list[str]:
    """Held packages whose re-check is due at ``now`` (epoch seconds), put back to ``received``."""
    moment = time.time() if now is None else now
    with db.transaction() as connection:
        rows = connection.execute(
            "SELECT w.submission_id FROM revocation_waits w JOIN submissions s ON s.id = w.submission_id"
            " WHERE w.next_check <= ? AND s.status = ? ORDER BY w.next_check",
            (moment, _AWAITING),
        ).fetchall()
        ids = [str(r["submission_id"]) for r in rows]
        for submission_id in ids:
            # The last validation completed: the crash-retry counter starts again.
            connection.execute(
                "UPDATE submissions SET status = ?, attempts = 0 WHERE id = ? AND status = ?",
                (SubmissionStatus.RECEIVED.value, submission_id, _AWAITING),
            )
    return ids
