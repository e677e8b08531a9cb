"""The package report: what the pipeline decided and why, as one frozen, typed object.

The pipeline builds it (``gateway.pipeline.report``), the store keeps its JSON, delivery
jobs, emails, the HTML report and the staff pages read it. It is serialised in one place
(:meth:`PackageReport.to_json`) and read back in one place (:meth:`PackageReport.from_json`),
so no reader guesses at keys with ``.get()`` and defaults. The JSON is the API's
``GET /api/v1/submissions/{id}/report`` answer (schema ``Report`` in the OpenAPI document).

Signature reports stay in the JSON shape the validators give them
(``validators.signatures.model``): that module owns their structure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.store.status import Decision
from validators.checks import Check, Severity

__all__ = ["PackageReport", "ReportMember", "ReportFile", "ReportPolicy", "SignatureJson", "check_from_json"]

SignatureJson = Mapping[str, Any]
"""One signature report as ``validators.signatures`` serialise it (plus ``file``)."""


def check_from_json(data: Mapping[str, Any]) -> Check:
    """A finding read back from its JSON (:meth:`validators.checks.Check.to_json`)."""
    return Check(
        code=str(data["code"]),
        severity=Severity(data["severity"]),
        file=data.get("file"),
        message_ru=str(data["message_ru"]),
        remedy_ru=str(data["remedy_ru"]),
        detail=str(data.get("detail") or ""),
    )


@dataclass(frozen=True, slots=True)
class ReportMember:
    """The member the package came from, as the member list had it at validation."""

    number: str
    name: str
    ogrn: str
    inn: str
    head: str
    email: str

    def to_json(self) -> dict[str, str]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReportMember:
        return cls(**{f.name: str(data.get(f.name) or "") for f in dataclasses.fields(cls)})


@dataclass(frozen=True, slots=True)
class ReportFile:
    """One uploaded file: slot, name as given, size, type by content, digests."""

    slot: str
    name: str
    size: int
    type: str | None
    sha256: str
    streebog256: str | None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReportFile:
        return cls(
            slot=str(data.get("slot") or ""),
            name=str(data["name"]),
            size=int(data["size"]),
            type=data.get("type"),
            sha256=str(data.get("sha256") or ""),
            streebog256=data.get("streebog256"),
        )


@dataclass(frozen=True, slots=True)
class ReportPolicy:
    """The policy the package was judged by: revocation mode and severity → decision."""

    revocation: str
    decision: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        return {"revocation": self.revocation, "decision": dict(self.decision)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReportPolicy:
        return cls(revocation=str(data.get("revocation") or ""), decision=dict(data.get("decision") or {}))


@dataclass(frozen=True, slots=True)
class PackageReport:
    """The product of the pipeline for one package."""

    decision: Decision
    decision_ru: str
    member: ReportMember | None
    """None when the member number is not in the member list."""
    doc_type: str
    doc_type_ru: str | None
    report_kind: str | None
    regulation_kind: str | None
    checks: tuple[Check, ...]
    """Every finding, with the policy's severities applied."""
    files: tuple[ReportFile, ...]
    signatures: tuple[SignatureJson, ...]
    policy: ReportPolicy
    validated_at: str
    validation_seconds: float
    submission: Mapping[str, Any] | None = field(default=None)
    """The submission as ``GET /api/v1/submissions/{id}`` shows it (status, numbers)."""

    @property
    def problems(self) -> tuple[Check, ...]:
        """The findings that return or reject a package (fatal and fixable)."""
        return tuple(c for c in self.checks if c.severity in (Severity.FATAL, Severity.FIXABLE))

    @property
    def member_name(self) -> str:
        """The member's name, else its number as submitted."""
        if self.member is not None and self.member.name:
            return self.member.name
        return str((self.submission or {}).get("member") or "")

    @property
    def member_email(self) -> str | None:
        return self.member.email or None if self.member is not None else None

    def with_submission(self, submission: Mapping[str, Any]) -> PackageReport:
        """The same report showing ``submission`` (the current state of the package)."""
        return dataclasses.replace(self, submission=dict(submission))

    def to_json(self) -> dict[str, Any]:
        """The report as stored and as the API answers it."""
        data: dict[str, Any] = {
            "decision": self.decision.value,
            "decision_ru": self.decision_ru,
            "member": self.member.to_json() if self.member is not None else None,
            "doc_type": self.doc_type,
            "doc_type_ru": self.doc_type_ru,
            "report_kind": self.report_kind,
            "regulation_kind": self.regulation_kind,
            "checks": [c.to_json() for c in self.checks],
            "files": [f.to_json() for f in self.files],
            "signatures": [dict(s) for s in self.signatures],
            "policy": self.policy.to_json(),
            "validated_at": self.validated_at,
            "validation_seconds": self.validation_seconds,
        }
        if self.submission is not None:
            data["submission"] = dict(self.submission)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PackageReport:
        """The report read back from :meth:`to_json` (as stored)."""
        member = data.get("member")
        submission = data.get("submission")
        return cls(
            decision=Decision(data["decision"]),
            decision_ru=str(data["decision_ru"]),
            member=ReportMember.from_json(member) if isinstance(member, Mapping) else None,
            doc_type=str(data["doc_type"]),
            doc_type_ru=data.get("doc_type_ru"),
            report_kind=data.get("report_kind"),
            regulation_kind=data.get("regulation_kind"),
            checks=tuple(check_from_json(c) for c in data.get("checks", ())),
            files=tuple(ReportFile.from_json(f) for f in data.get("files", ())),
            signatures=tuple(dict(s) for s in data.get("signatures", ())),
            policy=ReportPolicy.from_json(data.get("policy") or {}),
            validated_at=str(data.get("validated_at") or ""),
            validation_seconds=float(data.get("validation_seconds") or 0.0),
            submission=dict(submission) if isinstance(submission, Mapping) else None,
        )
