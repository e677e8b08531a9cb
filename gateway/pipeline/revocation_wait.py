"""Packages held while a certificate's revocation status cannot be obtained (SPEC 6).

When the only findings that would return or reject a package are
``signature.revocation_unknown`` (TRY_LATER: no CRL/OCSP could be had, typically the CA
unreachable), the package is not returned to the member: its status becomes
``awaiting_revocation`` and it is validated again with exponential backoff
(``revocation_recheck_seconds``, doubling, at most an hour) until
``revocation_grace_hours`` after it was received. Then it is decided with the finding
``signature.revocation_unavailable`` (the member need not change anything).

The waits live in their own table of the gateway database (``gateway.store.revocation_waits``
holds its SQL) and survive restarts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from gateway.pipeline.decision import DECISION_NAMES_RU, DecisionPolicy, decide
from gateway.store import revocation_waits as table
from gateway.store.db import Database
from gateway.store.report import PackageReport
from gateway.store.status import Decision, SubmissionStatus
from gateway.store.submissions import count_with_status
from validators.checks import Check, finding

if TYPE_CHECKING:
    from gateway.pipeline.worker import Pipeline

__all__ = ["RevocationWaits", "AWAITING_REVOCATION", "UNKNOWN_CODE", "UNAVAILABLE_CODE"]

log = logging.getLogger("gateway.pipeline.revocation_wait")

AWAITING_REVOCATION = SubmissionStatus.AWAITING_REVOCATION.value
UNKNOWN_CODE = "signature.revocation_unknown"
UNAVAILABLE_CODE = "signature.revocation_unavailable"
MAX_DELAY = 3600.0

def _parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class RevocationWaits:
    """The waiting queue: whether to hold a decided package, and which are due again."""

    db: Database
    policy: DecisionPolicy
    grace: timedelta
    first_delay: float
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def __post_init__(self) -> None:
        table.create_table(self.db)

    def only_revocation_unknown(self, decision: Decision, checks: Sequence[Check]) -> bool:
        """True when every finding that keeps the package from acceptance is TRY_LATER revocation."""
        if decision is Decision.ACCEPTED:
            return False
        blocking = [c for c in checks if self.policy.by_severity[c.severity] is not Decision.ACCEPTED]
        return bool(blocking) and all(c.code == UNKNOWN_CODE for c in blocking)

    def consider(self, submission_id: str, received_at: str, decision: Decision, report: PackageReport) -> tuple[Decision, PackageReport] | None:
        """None when the package is held (status set to awaiting_revocation); otherwise the
        decision to record — after the grace period with ``signature.revocation_unavailable``."""
        checks = report.checks
        if not self.only_revocation_unknown(decision, checks):
            self._release(submission_id)
            return decision, report
        now = self.clock()
        if now < _parse_iso(received_at) + self.grace:
            self._hold(submission_id, checks)
            return None
        self._release(submission_id)
        replaced = [
            finding(UNAVAILABLE_CODE, file=c.file, detail=f"after {self.grace.total_seconds() / 3600:g} h of re-checks: {c.detail}"[:500])
            if c.code == UNKNOWN_CODE
            else c
            for c in checks
        ]
        final, applied = decide(replaced, self.policy)
        report = dataclasses.replace(report, decision=final, decision_ru=DECISION_NAMES_RU[final], checks=applied)
        if report.submission is not None:
            report = report.with_submission({**report.submission, "status": final.value, "decision": final.value})
        return final, report

    def _hold(self, submission_id: str, checks: Sequence[Check]) -> None:
        detail = "; ".join(dict.fromkeys(c.detail for c in checks if c.code == UNKNOWN_CODE))[:1000]
        since = self.clock().isoformat(timespec="seconds")
        check, delay = table.hold(self.db, submission_id, since, detail, lambda done: min(MAX_DELAY, self.first_delay * (2**done)))
        log.info("submission %s awaits revocation data (check %d, next in %g s)", submission_id, check, delay)

    def _release(self, submission_id: str) -> None:
        table.release(self.db, submission_id)

    def due(self) -> list[str]:
        """Waiting packages whose re-check is due, put back to ``received``."""
        return table.claim_due(self.db)

    def count(self) -> int:
        """How many packages wait for revocation data now."""
        return count_with_status(self.db, SubmissionStatus.AWAITING_REVOCATION)

    async def run(self, pipeline: Pipeline) -> None:
        """Background task: hand due packages back to the pipeline."""
        interval = max(0.05, min(self.first_delay / 2, 30.0))
        loop = asyncio.get_running_loop()
        while True:
            try:
                for submission_id in await loop.run_in_executor(None, self.due):
                    pipeline.submit(submission_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("re-check of packages awaiting revocation failed")
            await asyncio.sleep(interval)
