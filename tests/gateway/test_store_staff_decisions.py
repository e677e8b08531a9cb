"""The store's side of staff decisions and the staff page counters (issue 13 §1): the SQL lives
in ``gateway/store``; what a new decision queues is handed in as ``effects`` and runs only
once, in the deciding transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.store.db import Database
from gateway.store.report import PackageReport
from gateway.store.status import Decision, SubmissionStatus
from gateway.store.submissions import (
    NewSubmission,
    StaffDecision,
    SubmissionRepository,
    count_decided,
    count_with_status,
    mark_registered,
)

MEMBER = "7700000000"


def _decided(repository: SubmissionRepository, decision: Decision) -> str:
    submission_id, _ = repository.create(NewSubmission(MEMBER, "charter", None, None, None), [])
    report = PackageReport.from_json({"decision": decision.value, "checks": [], "decision_ru": "—", "doc_type": "charter"})
    repository.decide(submission_id, decision, report, member_email="member@example.test")
    return submission_id


def _registered(repository: SubmissionRepository) -> str:
    submission_id = _decided(repository, Decision.ACCEPTED)
    with repository.db.transaction() as connection:
        mark_registered(connection, submission_id, "ВХ-1", "2026-04-01T10:00:00Z")
    return submission_id


def test_staff_decision_on_an_unknown_submission_is_none(tmp_path: Path) -> None:
    repository = SubmissionRepository(Database(tmp_path / "g.sqlite3"))
    assert repository.record_staff_decision("verified", "", submission_id="nope") is None
    assert repository.record_staff_decision("verified", "", incoming_number="ВХ-404") is None


def test_staff_decision_on_a_package_not_yet_registered_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    repository = SubmissionRepository(Database(tmp_path / "g.sqlite3"))
    submission_id = _decided(repository, Decision.ACCEPTED)
    calls: list[StaffDecision] = []
    outcome = repository.record_staff_decision("verified", "", submission_id=submission_id, effects=lambda _c, d: calls.append(d))
    assert outcome == StaffDecision(submission_id, registered=False)
    assert calls == [] and repository.db.query("SELECT COUNT(*) AS n FROM registry_events")[0]["n"] == 0
    record = repository.get(submission_id)
    assert record is not None and record.staff_decision is None


def test_staff_decision_is_recorded_once_and_its_effects_run_once(tmp_path: Path) -> None:
    repository = SubmissionRepository(Database(tmp_path / "g.sqlite3"))
    submission_id = _registered(repository)
    calls: list[StaffDecision] = []

    def effects(connection: sqlite3.Connection, decided: StaffDecision) -> None:
        calls.append(decided)

    first = repository.record_staff_decision("returned", "нет подписи", incoming_number="ВХ-1", effects=effects)
    again = repository.record_staff_decision("returned", "нет подписи", submission_id=submission_id, effects=effects)
    assert first is not None and first.registered and not first.duplicate and first.submission_id == submission_id
    assert first.member_email == "member@example.test" and first.incoming_number == "ВХ-1" and first.comment == "нет подписи"
    assert again is not None and again.duplicate and again.event_id == first.event_id
    assert calls == [first]
    record = repository.get(submission_id)
    assert record is not None and (record.staff_decision, record.staff_comment) == ("returned", "нет подписи")


def test_counters_count_only_their_status_and_the_decisions_of_the_window(tmp_path: Path) -> None:
    database = Database(tmp_path / "g.sqlite3")
    repository = SubmissionRepository(database)
    inside, _rejected, _accepted = _decided(repository, Decision.RETURNED), _decided(repository, Decision.REJECTED), _decided(repository, Decision.ACCEPTED)
    outside = _decided(repository, Decision.RETURNED)
    with database.transaction() as connection:
        connection.execute("UPDATE submissions SET decided_at = ? WHERE id = ?", ("2026-04-01T12:00:00Z", inside))
        connection.execute("UPDATE submissions SET decided_at = ? WHERE id = ?", ("2026-04-02T00:00:00Z", outside))
        connection.execute("UPDATE submissions SET decided_at = ? WHERE id != ? AND id != ?", ("2026-04-01T13:00:00Z", inside, outside))
    assert count_decided(database, Decision.RETURNED, "2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z") == 1
    assert count_decided(database, Decision.REJECTED, "2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z") == 1
    assert count_with_status(database, SubmissionStatus.RETURNED) == 2
    assert count_with_status(database, SubmissionStatus.AWAITING_REVOCATION) == 0
