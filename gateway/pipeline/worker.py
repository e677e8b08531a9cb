"""Validation of stored submissions: a queue, worker tasks, the CPU work in a thread pool.

Submissions are taken from an in-process queue and, at start-up, from the database
(``received`` or interrupted ``validating`` ones), so a restart loses nothing. The
validators run in a thread pool (libmagic, archives and OpenSSL block); a crash of the
validation of one package becomes a ``processing.error`` finding (returned, with the
reason for staff), never a lost submission. Decisions are committed in groups
(``gateway.store.grouped``): a validation thread never waits for the disk, and the
decisions that finish together share one log fsync. A validation that kills the process is not
retried forever: every claim counts an attempt in the submission row before the work
starts, and past ``limits.validation_max_attempts`` the package gets ``processing.error``
without being opened again.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from gateway.config import Config, verification_policy
from gateway.delivery.jobs import decision_jobs
from gateway.pipeline.decision import policy_of
from gateway.pipeline.report import PackageRequest, build_report, shared_digests, unfinished_report
from gateway.store.blobs import BlobStore
from gateway.store.grouped import GroupedTransactions
from gateway.store.report import PackageReport
from gateway.store.status import Decision
from gateway.store.submissions import SubmissionRepository, record_decision, record_streebog, report_json_of
from validators.archives import ArchiveLimits
from validators.catalogue import Slot
from validators.checks import finding
from validators.digests import SHA256, STREEBOG_256, FileDigests
from validators.members import MemberList
from validators.package import PackageLimits, UploadedFile, ValidationContext, validate_package
from validators.poa.package import PoaSettings
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore

__all__ = ["Pipeline", "PackageRequest", "run_validation", "package_limits", "ValidationStats"]

log = logging.getLogger("gateway.pipeline.worker")


def package_limits(config: Config) -> PackageLimits:
    limits = config.limits
    return PackageLimits(
        max_document_bytes=limits.max_document_bytes,
        max_attachment_bytes=limits.max_attachment_bytes,
        max_signature_bytes=limits.max_signature_bytes,
        archive=ArchiveLimits(
            max_entries=limits.archive_max_entries,
            max_total_bytes=limits.archive_max_total_bytes,
            max_entry_bytes=limits.archive_max_entry_bytes,
            max_ratio=limits.archive_max_ratio,
            max_depth=limits.archive_max_depth,
        ),
    )


def run_validation(
    request: PackageRequest,
    config: Config,
    members: MemberList,
    trust: TrustStore,
    policy: VerificationPolicy,
    scratch: Path,
    remove: Callable[[Path], object] | None = None,
) -> tuple[Decision, PackageReport]:
    """Validate one package and decide; returns the decision and the typed report.

    Never raises: an unexpected error becomes a ``processing.error`` finding. The scratch
    folder is removed by ``remove`` (default: here and now); the service hands it to a
    background thread, as removing unpacked files takes milliseconds of file system work
    that the decision need not wait for.
    """
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="package-", dir=scratch))
    try:
        ctx = ValidationContext(
            member_number=request.member,
            doc_type=request.doc_type,
            report_kind=request.report_kind,
            regulation_kind=request.regulation_kind,
            members=members,
            trust=trust,
            policy=policy,
            workdir=workdir,
            limits=package_limits(config),
            poa=PoaSettings(config.poa.revoked_list, config.poa.registry_url, config.poa.registry_timeout),  # МЧД (issue 11 §1)
            digests=request.file_digests,
        )
        try:
            result = validate_package(request.files, ctx)
            checks, signatures, member = result.checks, result.signatures, result.member
        except Exception as exc:
            log.exception("validation of a %s package failed", request.doc_type)
            checks, signatures, member = (finding("processing.error", detail=f"{type(exc).__name__}: {exc}"[:500]),), (), None
        return build_report(request, config, policy, checks, signatures, member, started)
    finally:
        (remove or _remove_tree)(workdir)


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


@dataclass
class ValidationStats:
    """For /metrics."""

    by_decision: dict[str, int] = field(default_factory=dict)
    seconds_sum: float = 0.0
    seconds_count: int = 0


class Pipeline:
    """Validates stored submissions in the background."""

    def __init__(
        self,
        config: Config,
        repository: SubmissionRepository,
        blobs: BlobStore,
        members: MemberList,
        trust: TrustStore,
    ) -> None:
        self.config = config
        self.repository = repository
        self.blobs = blobs
        self.members = members
        self.trust = trust
        from gateway.trust.revocation import online_revocation

        self.policy = verification_policy(config, online=online_revocation(config))
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.executor = ThreadPoolExecutor(max_workers=config.limits.validation_workers, thread_name_prefix="validate")
        self.cleaner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scratch-cleanup")
        self.decisions = GroupedTransactions(repository.db, "decisions")
        """Decisions, with their outbox rows, committed in groups (one log fsync a group)."""
        self.scratch = config.storage.data_dir / "work"
        self.scratch.mkdir(parents=True, exist_ok=True)
        for stale in self.scratch.glob("package-*"):  # left by a killed process
            self.cleaner.submit(_remove_tree, stale)
        self.stats = ValidationStats()
        self._tasks: list[asyncio.Task[None]] = []
        self._uploads = 0
        self._validating = 0
        self.on_decided: Callable[[], None] | None = None
        """Called after a decision is committed (wakes the outbox worker)."""
        from datetime import timedelta

        from gateway.pipeline.revocation_wait import RevocationWaits

        self.waits = RevocationWaits(
            repository.db,
            policy_of(config),
            timedelta(hours=config.verification.revocation_grace_hours),
            config.verification.revocation_recheck_seconds,
        )
        """Packages held while revocation status cannot be obtained (awaiting_revocation)."""

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for submission_id in await loop.run_in_executor(None, self.repository.unfinished):
            self.queue.put_nowait(submission_id)
        # Twice as many tasks as validation threads: a task waiting for its decision's group
        # commit holds no thread, and the next package is validated meanwhile.
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(2 * self.config.limits.validation_workers)]
        self._tasks.append(asyncio.create_task(self.waits.run(self)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.decisions.drain()  # decisions handed in before the stop are committed
        self.decisions.close()
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.cleaner.shutdown(wait=True)

    def submit(self, submission_id: str) -> None:
        self.queue.put_nowait(submission_id)

    def upload_started(self) -> None:
        """An upload is being received (counted until :meth:`upload_ended`)."""
        self._uploads += 1

    def upload_ended(self) -> None:
        self._uploads -= 1

    def busy(self) -> bool:
        """Uploads are being received, or packages wait for or are in validation: the outbox
        yields to them (registry deliveries and emails wait, within a bound)."""
        return self._uploads > 0 or self._validating > 0 or not self.queue.empty()

    async def _worker(self) -> None:
        while True:
            submission_id = await self.queue.get()
            try:
                await self.process(submission_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("processing of submission %s failed", submission_id)
            finally:
                self.queue.task_done()

    async def process(self, submission_id: str) -> None:
        """Claim, validate, decide. The work (claim, validation, revocation hold) is one trip
        to a validation thread (each trip costs the event loop, which is the busiest thread
        in a burst); the decision is committed by the group commit, so the thread goes on to
        the next package instead of waiting for the disk."""
        self._validating += 1
        try:
            await self._process(submission_id)
        finally:
            self._validating -= 1

    async def _process(self, submission_id: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            validated = await loop.run_in_executor(self.executor, self._work, submission_id)
        except asyncio.CancelledError:
            # A graceful stop (SIGTERM, restart) is not a crash: the attempt does not count
            # towards the cap, and the package is validated again at the next start.
            self.repository.release(submission_id)
            log.info("submission %s: validation interrupted by a stop; released", submission_id)
            raise
        if validated is None:
            return  # decided already, or held (awaiting_revocation, re-checked later)
        decision, report, streebog, stored = validated
        jobs = decision_jobs(submission_id, report)

        def record(connection: sqlite3.Connection) -> None:
            record_decision(connection, submission_id, decision, report, report.member_email, jobs, stored)
            record_streebog(connection, streebog)

        await self.decisions.run(record)
        if self.on_decided is not None:
            self.on_decided()
        self.stats.by_decision[decision.value] = self.stats.by_decision.get(decision.value, 0) + 1
        self.stats.seconds_sum += report.validation_seconds
        self.stats.seconds_count += 1
        log.info("submission %s: %s", submission_id, decision.value)

    def _work(self, submission_id: str) -> tuple[Decision, PackageReport, dict[str, str], str] | None:
        """Claim the submission (counting the attempt), validate it and see whether it is held
        for revocation data: the decision, its report, the Streebog-256 digests computed (by
        the file's SHA-256) and the report as stored (serialised here, not under the write
        lock), or None when it is decided already or held. Past the attempt cap, only record
        that it could not be done."""
        attempt = self.repository.claim(submission_id)
        if attempt is None:
            return None
        given_up = attempt > self.config.limits.validation_max_attempts
        if given_up:
            log.error("submission %s: validation started %d times without finishing; recorded as processing.error", submission_id, attempt - 1)
        decision, report, received_at, streebog = self._validate(submission_id, attempt - 1 if given_up else 0)
        if not given_up:
            considered = self.waits.consider(submission_id, received_at, decision, report)
            if considered is None:
                return None
            decision, report = considered
        return decision, report, streebog, report_json_of(report)

    def _validate(self, submission_id: str, unfinished_attempts: int = 0) -> tuple[Decision, PackageReport, str, dict[str, str]]:
        """Validate and decide; with ``unfinished_attempts``, only record that it could not be done.

        Returns the decision, the report, when the package was received, and the
        Streebog-256 digests computed here (by the file's SHA-256) to record with the files.
        Uploads are stored with their SHA-256 only (taken while they streamed in); Streebog
        runs here, once per file, in the background while the package is checked, and the
        verifier uses the same result.
        """
        record = self.repository.get(submission_id)
        if record is None:  # the caller claimed this row; a missing one is a broken database, not a package fault
            raise LookupError(f"submission {submission_id} to validate is not in the database")
        stored = self.repository.files(submission_id)
        uploads = [UploadedFile(Slot(f.slot), f.name, self.blobs.path(f.blob.key)) for f in stored]
        file_digests: dict[Path, FileDigests] = {}
        computed: dict[Path, str] = {}
        for f in stored:
            path = self.blobs.path(f.blob.key)
            known = {SHA256: bytes.fromhex(f.blob.sha256)}
            recorded = f.blob.streebog256 or self.repository.recorded_streebog(f.blob.sha256)
            if recorded:
                known[STREEBOG_256] = bytes.fromhex(recorded)
            elif not unfinished_attempts:
                computed[path] = f.blob.sha256
            file_digests[path] = FileDigests(path, known=known)
            if STREEBOG_256 not in known and not unfinished_attempts:
                file_digests[path].prefetch([STREEBOG_256])
        request = PackageRequest(
            member=record.member,
            doc_type=record.doc_type,
            report_kind=record.report_kind,
            regulation_kind=record.regulation_kind,
            files=uploads,
            digests={f.name: (f.blob.size, f.blob.sha256, f.blob.streebog256) for f in stored},
            file_digests=file_digests,
        )
        policy = self.policy.received(record.received_at)
        if unfinished_attempts:
            decision, report = unfinished_report(request, self.config, policy, unfinished_attempts)
        else:
            decision, report = run_validation(
                request, self.config, self.members, self.trust, policy, self.scratch, remove=lambda path: self.cleaner.submit(_remove_tree, path)
            )
        report = report.with_submission(record.to_json() | {"status": decision.value, "decision": decision.value})
        new_digests: dict[str, str] = {}
        for path, sha256 in computed.items():
            digest = (shared_digests(file_digests[path]) or {}).get(STREEBOG_256)
            if digest is not None:
                new_digests[sha256] = digest.hex()
        return decision, report, record.received_at, new_digests
