"""The values the store keeps for a submission's state: its status and its decision.

Both are stable API values (``status``/``decision`` of ``GET /api/v1/submissions/{id}``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Decision", "SubmissionStatus"]


class Decision(StrEnum):
    """The automatic decision on a package (SPEC section 6)."""

    ACCEPTED = "accepted"
    RETURNED = "returned"
    REJECTED = "rejected"


class SubmissionStatus(StrEnum):
    """Where a submission is: received, being validated, held for revocation data, decided,
    or registered (the registry gave it its incoming number)."""

    RECEIVED = "received"
    VALIDATING = "validating"
    AWAITING_REVOCATION = "awaiting_revocation"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    REJECTED = "rejected"
    REGISTERED = "registered"
