"""The pipeline's product: a package's findings decided and assembled into a
:class:`~gateway.store.report.PackageReport` (files with their digests, signatures, the
policy it was judged by)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gateway.config import Config
from gateway.pipeline.decision import DECISION_NAMES_RU, decide, policy_of
from gateway.store.db import now_iso
from gateway.store.report import PackageReport, ReportFile, ReportMember, ReportPolicy
from gateway.store.status import Decision
from validators.catalogue import DOC_TYPES
from validators.checks import Check, finding
from validators.digests import SHA256, STREEBOG_256, FileDigests
from validators.files import detect_type
from validators.members import Member
from validators.package import SignedFile, UploadedFile
from validators.signatures.verify import VerificationPolicy

__all__ = ["PackageRequest", "build_report", "unfinished_report", "shared_digests"]

log = logging.getLogger("gateway.pipeline")


@dataclass(frozen=True)
class PackageRequest:
    """One stored package to validate: who sent what, and the digests already known."""

    member: str
    doc_type: str
    report_kind: str | None
    regulation_kind: str | None
    files: list[UploadedFile]
    digests: dict[str, tuple[int, str, str | None]] = field(default_factory=dict)
    """name -> (size, sha256, streebog256) when already computed at upload."""
    file_digests: Mapping[Path, FileDigests] = field(default_factory=dict)
    """path -> the file's digests, known or under way: the verifier and the report share
    them, so each digest of an uploaded file is computed once."""



def unfinished_report(request: PackageRequest, config: Config, policy: VerificationPolicy, attempts: int) -> tuple[Decision, PackageReport]:
    """The decision for a package whose validation started ``attempts`` times and never
    finished (the process was killed or crashed inside it): ``processing.error``, without
    touching the package again. Files are described from what was recorded at upload."""
    detail = f"validation started {attempts} times and did not finish (the process was killed or crashed); not tried again"
    return build_report(request, config, policy, (finding("processing.error", detail=detail),), (), None, time.monotonic(), inspect_files=False)


def build_report(
    request: PackageRequest,
    config: Config,
    policy: VerificationPolicy,
    checks: Iterable[Check],
    signatures: Iterable[SignedFile],
    member: Member | None,
    started: float,
    inspect_files: bool = True,
) -> tuple[Decision, PackageReport]:
    """Decide on ``checks`` and assemble the typed report."""
    decision_policy = policy_of(config)
    decision, applied = decide(checks, decision_policy)
    files = []
    for upload in request.files:
        recorded = request.digests.get(upload.name)
        shared = request.file_digests.get(upload.path)
        known = shared_digests(shared) if shared is not None and inspect_files else None
        if known is not None:
            size = recorded[0] if recorded else upload.path.stat().st_size
            sha256, streebog = known[SHA256].hex(), known[STREEBOG_256].hex() if STREEBOG_256 in known else None
        else:
            if recorded is None:
                recorded = _digests(upload.path) if inspect_files else (upload.path.stat().st_size, "", None)
            size, sha256, streebog = recorded
        files.append(ReportFile(upload.slot.value, upload.name, size, _mime(upload.path) if inspect_files else None, sha256, streebog))
    doc_type = DOC_TYPES.get(request.doc_type)
    report = PackageReport(
        decision=decision,
        decision_ru=DECISION_NAMES_RU[decision],
        member=ReportMember(member.number, member.name, member.ogrn, member.inn, member.head, member.email) if member else None,
        doc_type=request.doc_type,
        doc_type_ru=doc_type.name_ru if doc_type else None,
        report_kind=request.report_kind,
        regulation_kind=request.regulation_kind,
        checks=applied,
        files=tuple(files),
        signatures=tuple(s.to_json() for s in signatures),
        policy=ReportPolicy(policy.revocation.value, {s.value: d.value for s, d in decision_policy.by_severity.items()}),
        validated_at=now_iso(),
        validation_seconds=round(time.monotonic() - started, 3),
    )
    return decision, report



def _mime(path: Path) -> str | None:
    try:
        return detect_type(path).mime
    except OSError:
        return None


def _digests(path: Path) -> tuple[int, str, str | None]:
    digests = FileDigests(path).get([SHA256, STREEBOG_256])
    return path.stat().st_size, digests[SHA256].hex(), digests[STREEBOG_256].hex() if STREEBOG_256 in digests else None


def shared_digests(shared: FileDigests) -> dict[str, bytes] | None:
    """SHA-256 and Streebog-256 of a stored file; None when it cannot be read any more (the
    report then says what was recorded at upload instead of failing the decision)."""
    try:
        return shared.get([SHA256, STREEBOG_256])
    except OSError:
        log.warning("cannot read %s for its digests", shared.path.name)
        return None
