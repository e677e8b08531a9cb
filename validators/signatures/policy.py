"""How signatures are judged: the verification policy and the time of judgment.

The time certificates are judged at (63-FZ art. 11) is, in order: ``--at`` (an audit);
the genTime of a fully validated signature time-stamp (the proven moment of signing);
the time the gateway received the package (intake); the present time (``gateway
verify``). The signer's own signingTime is a claim: shown, never used. Algorithm sunsets
are policy values too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from validators.signatures.model import RevocationMode

if TYPE_CHECKING:
    from validators.signatures.revocation import RevocationSource

__all__ = [
    "VerificationPolicy",
    "GOST_2001_SUNSET",
    "WEAK_DIGEST_SUNSET",
    "SIGNING_TIME_SKEW",
    "judgment_time",
]

#: GOST R 34.10-2001 signing was allowed until the end of 2019 (FSB transition notice);
#: later signatures with it are not acceptable.
GOST_2001_SUNSET = datetime(2020, 1, 1, tzinfo=UTC)
#: SHA-1 and MD5 are not acceptable for signatures made after this moment.
WEAK_DIGEST_SUNSET = datetime(2017, 1, 1, tzinfo=UTC)
#: How far a claimed signingTime may lie after the reference time (clocks differ).
SIGNING_TIME_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class VerificationPolicy:
    """How to judge: revocation mode, the time of judgment, the clock.

    The time certificates are judged at (63-FZ art. 11) is, in order: ``at`` (``--at``,
    an audit); the genTime of a valid signature time-stamp (the proven moment of
    signing); ``reference_time`` (when the gateway received the package); the present
    time. The signer's own signingTime is a claim and never the time of judgment.
    """

    revocation: RevocationMode = RevocationMode.REQUIRE
    at: datetime | None = None
    """``--at``: judge certificates at this moment (audit), whatever the signature says."""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    online: RevocationSource | None = None
    """Online revocation (CDP CRLs, AIA OCSP, with the on-disk cache); None: offline."""
    reference_time: datetime | None = None
    """When the package was received (set by intake); None: the present time."""
    signing_time_skew: timedelta = SIGNING_TIME_SKEW
    """A claimed signingTime later than the reference time by more is a warning."""
    gost2001_sunset: datetime = GOST_2001_SUNSET
    """GOST R 34.10-2001 signatures judged at or after this moment are not acceptable."""
    weak_digest_sunset: datetime = WEAK_DIGEST_SUNSET
    """Signatures with a digest of ``weak_digests`` judged at or after this moment are not."""
    weak_digests: frozenset[str] = frozenset({"1.3.14.3.2.26", "1.2.840.113549.2.5"})
    """SHA-1 and MD5."""

    def received(self, moment: datetime | str) -> VerificationPolicy:
        """This policy with the reference time of a package received at ``moment``
        (a datetime or an ISO 8601 text such as the store's ``received_at``)."""
        value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return dataclasses.replace(self, reference_time=value)

    def reference(self) -> datetime:
        """The reference time: when the package was received, else now."""
        return self.reference_time or self.clock()


def judgment_time(
    policy: VerificationPolicy, proven_time: datetime | None, role: str, proof: str = "the signature time-stamp"
) -> tuple[datetime, str, bool]:
    """The time of judgment, what it is, and whether it is a proven moment (a revocation
    after a proven moment does not invalidate; after an assumed one it is undecided).

    ``proven_time`` is the genTime of the earliest valid proof (a signature time-stamp or
    a PDF document time-stamp covering the signature), ``proof`` names it; ``role``
    ``tsa`` is the signer of a time-stamp token, judged at its own genTime
    (``policy.at``), which nothing but the token itself asserts.
    """
    if role == "tsa":
        assert policy.at is not None  # noqa: S101 - invariant; narrows the type
        return policy.at, "genTime of the time-stamp", False
    if policy.at is not None:
        return policy.at, "--at (audit)", False
    if proven_time is not None:
        return proven_time, f"proven by {proof}", True
    if policy.reference_time is not None:
        return policy.reference_time, "time the package was received; no valid signature time-stamp", True
    return policy.clock(), "present time; no valid signature time-stamp", True
