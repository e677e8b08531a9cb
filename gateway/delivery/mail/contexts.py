"""What each kind of email needs, as one typed context per kind.

A decision or event queues an email with one of these; the outbox keeps its JSON
(:meth:`EmailContext.to_json`) and the sender builds the message from it with
:func:`gateway.delivery.mail.compose.compose`. The fields are exactly the keys the
templates read (``compose`` refuses a context lacking one).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "EmailContext",
    "ReceivedEmail",
    "RegisteredEmail",
    "DecisionEmail",
    "StaffDecisionEmail",
    "IncomingNoticeEmail",
    "MassMailingEmail",
    "StaffDigestEmail",
    "CONTEXTS",
]


@dataclass(frozen=True, slots=True)
class EmailContext:
    """The base of every email context: its kind and its JSON."""

    KIND: ClassVar[str] = ""

    @property
    def kind(self) -> str:
        return self.KIND

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class ReceivedEmail(EmailContext):
    """An accepted package was received for registration."""

    KIND: ClassVar[str] = "received"
    member_name: str
    doc_type_ru: str
    submission_id: str
    received_at: str


@dataclass(frozen=True, slots=True)
class RegisteredEmail(EmailContext):
    """The registry gave the package its incoming number."""

    KIND: ClassVar[str] = "registered"
    member_name: str
    doc_type_ru: str
    submission_id: str
    incoming_number: str
    registered_at: str


@dataclass(frozen=True, slots=True)
class DecisionEmail(EmailContext):
    """The automatic check returned or rejected the package (the report is attached)."""

    decision: str
    """``returned`` or ``rejected``: the email's kind."""
    member_name: str
    doc_type_ru: str
    submission_id: str
    decision_ru: str
    checks: Sequence[Mapping[str, Any]]
    """``code``, ``file``, ``message_ru``, ``remedy_ru`` of each problem (no staff detail)."""

    @property
    def kind(self) -> str:
        return self.decision

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        del data["decision"]
        return data


@dataclass(frozen=True, slots=True)
class StaffDecisionEmail(EmailContext):
    """An SRO specialist set a status on a registered package."""

    KIND: ClassVar[str] = "staff_decision"
    member_name: str
    doc_type_ru: str
    incoming_number: str
    decision: str
    comment: str


@dataclass(frozen=True, slots=True)
class IncomingNoticeEmail(EmailContext):
    """A document from the SRO awaits the member in the cabinet."""

    KIND: ClassVar[str] = "incoming_notice"
    member_name: str
    title: str


@dataclass(frozen=True, slots=True)
class MassMailingEmail(EmailContext):
    """An information mailing of the SRO."""

    KIND: ClassVar[str] = "mass_mailing"
    member_name: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class StaffDigestEmail(EmailContext):
    """The day's returned and rejected packages, for staff."""

    KIND: ClassVar[str] = "staff_digest"
    date: str
    items: Sequence[Mapping[str, Any]]


#: kind -> the fields its templates read.
CONTEXTS: dict[str, tuple[str, ...]] = {
    **{
        cls.KIND: tuple(f.name for f in dataclasses.fields(cls))
        for cls in (ReceivedEmail, RegisteredEmail, StaffDecisionEmail, IncomingNoticeEmail, MassMailingEmail, StaffDigestEmail)
    },
    **{kind: tuple(f.name for f in dataclasses.fields(DecisionEmail) if f.name != "decision") for kind in ("returned", "rejected")},
}
