"""Packages held for revocation data: the store's ``revocation_waits`` table (backoff,
the first moment kept, due re-checks put back to ``received``) and the pipeline's rule of
which packages are held at all."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from gateway.pipeline.decision import DecisionPolicy
from gateway.pipeline.revocation_wait import RevocationWaits
from gateway.store import revocation_waits as table
from gateway.store.db import Database
from gateway.store.status import Decision, SubmissionStatus
from gateway.store.submissions import NewSubmission, SubmissionRepository
from validators.checks import finding


def _submission(tmp_path: Path) -> tuple[Database, SubmissionRepository, str]:
    """A database with one received submission."""
    database = Database(tmp_path / "gateway.sqlite3")
    table.create_table(database)
    repository = SubmissionRepository(database)
    submission_id, _ = repository.create(NewSubmission("1", "charter", None, None, None), [])
    return database, repository, submission_id


def test_each_hold_doubles_the_delay_and_keeps_the_first_moment(tmp_path: Path) -> None:
    database, _, submission_id = _submission(tmp_path)
    delays = [table.hold(database, submission_id, f"2026-01-0{n}T00:00:00+00:00", "CA unreachable", lambda done: 10.0 * 2**done) for n in (1, 2, 3)]
    assert delays == [(1, 10.0), (2, 20.0), (3, 40.0)]
    row = database.query("SELECT since, checks FROM revocation_waits WHERE submission_id = ?", submission_id)[0]
    assert (row["since"], row["checks"]) == ("2026-01-01T00:00:00+00:00", 3)
    held = database.query("SELECT status, error FROM submissions WHERE id = ?", submission_id)[0]
    assert held["status"] == SubmissionStatus.AWAITING_REVOCATION.value and "re-check in 40 s: CA unreachable" in held["error"]


def test_a_due_package_goes_back_to_received_once_and_a_later_one_stays(tmp_path: Path) -> None:
    database, repository, due = _submission(tmp_path)
    later, _ = repository.create(NewSubmission("1", "charter", None, None, None), [])
    table.hold(database, due, "2026-01-01T00:00:00+00:00", "x", lambda done: 0.0)
    table.hold(database, later, "2026-01-01T00:00:00+00:00", "x", lambda done: 3600.0)
    assert table.claim_due(database, time.time() + 1) == [due]
    assert table.claim_due(database, time.time() + 1) == []  # no longer awaiting revocation
    statuses = {i: repository.get(i).status for i in (due, later)}  # type: ignore[union-attr]
    assert statuses == {due: SubmissionStatus.RECEIVED.value, later: SubmissionStatus.AWAITING_REVOCATION.value}


def test_a_released_package_is_never_due(tmp_path: Path) -> None:
    database, _, submission_id = _submission(tmp_path)
    table.hold(database, submission_id, "2026-01-01T00:00:00+00:00", "x", lambda done: 0.0)
    table.release(database, submission_id)
    assert table.claim_due(database, time.time() + 1) == []


def test_only_packages_held_back_by_revocation_alone_wait(tmp_path: Path) -> None:
    """Another finding that returns the package decides it now: waiting for revocation
    data would not change the decision."""
    waits = RevocationWaits(Database(tmp_path / "gateway.sqlite3"), DecisionPolicy(), timedelta(hours=1), 1.0)
    unknown = finding("signature.revocation_unknown", file="a.pdf")
    assert waits.only_revocation_unknown(Decision.RETURNED, [unknown, finding("pdf.active_content")])
    assert not waits.only_revocation_unknown(Decision.RETURNED, [unknown, finding("signer.not_head", file="a.pdf")])
    assert not waits.only_revocation_unknown(Decision.ACCEPTED, [])
