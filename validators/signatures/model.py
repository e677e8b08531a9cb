"""Result model of signature verification (ETSI EN 319 102-1 vocabulary, SPEC section 7).

Reports are frozen values; :meth:`to_json` gives exactly the ``gateway verify --json``
object. Each sub-indication knows its main indication, so a verdict is always coherent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "RevocationMode",
    "Indication",
    "SubIndication",
    "SignatureCheck",
    "SignerIdentity",
    "CertificateSummary",
    "TimestampSummary",
    "SignatureReport",
    "DocumentSummary",
    "VerificationReport",
    "worst_indication",
]


class RevocationMode(StrEnum):
    """``--revocation``: what an undecidable revocation status means (SPEC section 7)."""

    REQUIRE = "require"
    SOFT = "soft"
    OFF = "off"


class Indication(StrEnum):
    """Main status of a signature (ETSI EN 319 102-1, 5.1.3)."""

    TOTAL_PASSED = "TOTAL_PASSED"
    TOTAL_FAILED = "TOTAL_FAILED"
    INDETERMINATE = "INDETERMINATE"


_TOTAL_FAILED_SUBS = {
    "FORMAT_FAILURE",
    "HASH_FAILURE",
    "SIG_CRYPTO_FAILURE",
    "REVOKED",
    "EXPIRED",
    "NOT_YET_VALID",
}


class SubIndication(StrEnum):
    """Sub-indications of ETSI EN 319 102-1 (table 5); each knows its indication."""

    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    CERTIFICATE_CHAIN_GENERAL_FAILURE = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE = "CRYPTO_CONSTRAINTS_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    NO_SIGNING_CERTIFICATE_FOUND = "NO_SIGNING_CERTIFICATE_FOUND"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    REVOKED_CA_NO_POE = "REVOKED_CA_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    OUT_OF_BOUNDS_NOT_REVOKED = "OUT_OF_BOUNDS_NOT_REVOKED"
    TRY_LATER = "TRY_LATER"
    SIGNED_DATA_NOT_FOUND = "SIGNED_DATA_NOT_FOUND"
    GENERIC = "GENERIC"

    @property
    def indication(self) -> Indication:
        """The main indication this sub-indication belongs to."""
        if self.value in _TOTAL_FAILED_SUBS:
            return Indication.TOTAL_FAILED
        return Indication.INDETERMINATE


_SEVERITY = {Indication.TOTAL_PASSED: 0, Indication.INDETERMINATE: 1, Indication.TOTAL_FAILED: 2}


def worst_indication(indications: list[Indication]) -> Indication:
    """TOTAL_FAILED beats INDETERMINATE beats TOTAL_PASSED."""
    return max(indications, key=_SEVERITY.__getitem__, default=Indication.INDETERMINATE)


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """One named verification step, as shown to staff."""

    name: str
    """Stable identifier, e.g. ``signature.value`` or ``chain.revocation``."""
    passed: bool
    """False when this step failed."""
    detail: str
    """Human-readable explanation (English, for staff; never secrets)."""
    warning: bool = False
    """True for a step that passed only under a lenient policy (``--revocation soft``)."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "passed": self.passed, "detail": self.detail}
        if self.warning:
            data["warning"] = True
        return data


@dataclass(frozen=True, slots=True)
class SignerIdentity:
    """Who signed, from the signer certificate's subject (FSB Order 795 attributes)."""

    common_name: str | None = None
    surname: str | None = None
    given_name: str | None = None
    title: str | None = None
    organization: str | None = None
    ogrn: str | None = None
    ogrnip: str | None = None
    inn: str | None = None
    inn_le: str | None = None
    snils: str | None = None
    email: str | None = None

    @property
    def full_name(self) -> str | None:
        """Surname and given names, the way a person is named in Russian documents."""
        parts = [p for p in (self.surname, self.given_name) if p]
        return " ".join(parts) or None

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class CertificateSummary:
    """The signer certificate as printed on a signature stamp."""

    serial: str
    """Serial number, upper-case hexadecimal."""
    issuer: str
    """Issuer distinguished name, most significant RDN last (RFC 4514 style)."""
    not_before: datetime
    not_after: datetime
    sha256: str = ""
    """SHA-256 fingerprint of the DER certificate (hex), to tell certificates apart."""

    def to_json(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "issuer": self.issuer,
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "sha256": self.sha256,
        }


@dataclass(frozen=True, slots=True)
class TimestampSummary:
    """The signature time-stamp of a signer (CAdES-T): the proven moment of signing."""

    gen_time: datetime
    """genTime of the token (the moment the TSA saw the signature value)."""
    tsa: str | None
    """Who issued it (the TSA certificate's common name or organisation)."""
    valid: bool
    """True only when the token validated fully (imprint, TSA chain, EKU, validity,
    revocation); then ``gen_time`` is the time the certificates were judged at."""
    kind: str = "signature"
    """``signature`` (CAdES-T / PAdES signature time-stamp) or ``document`` (a PDF
    document time-stamp in a later revision covering the signature)."""

    def to_json(self) -> dict[str, Any]:
        return {"gen_time": _iso(self.gen_time), "tsa": self.tsa, "valid": self.valid, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """Verdict on one signer of one signature (one SignerInfo)."""

    indication: Indication
    sub_indication: SubIndication | None
    qualified: bool
    """True only for TOTAL_PASSED with a certificate meeting FSB Order 795 (and the TSL)."""
    signer: SignerIdentity | None
    certificate: CertificateSummary | None
    signing_time: datetime | None
    """The signingTime signed attribute (a claim of the signer), if any."""
    digest_algorithm: str | None
    signature_algorithm: str | None
    checks: tuple[SignatureCheck, ...]
    kind: str = "detached"
    """``detached``, ``attached`` or ``embedded`` (in a PDF)."""
    signature_file: str | None = None
    """The file the signature came from."""
    validation_time: datetime | None = None
    """The time the certificates were judged at: ``--at``; else the genTime of a valid
    signature time-stamp; else the time the package was received (intake) or the present
    time (``gateway verify``). Never the signer's claimed signingTime."""
    timestamp: TimestampSummary | None = None
    """The signature time-stamp, valid or not (None when the signature carries none)."""

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED

    def failed_checks(self) -> list[SignatureCheck]:
        return [c for c in self.checks if not c.passed]

    def to_json(self) -> dict[str, Any]:
        return {
            "indication": self.indication.value,
            "sub_indication": self.sub_indication.value if self.sub_indication else None,
            "qualified": self.qualified,
            "signer": self.signer.to_json() if self.signer else None,
            "certificate": self.certificate.to_json() if self.certificate else None,
            "signing_time": _iso(self.signing_time),
            "validation_time": _iso(self.validation_time),
            "timestamp": self.timestamp.to_json() if self.timestamp else None,
            "digest_algorithm": self.digest_algorithm,
            "signature_algorithm": self.signature_algorithm,
            "kind": self.kind,
            "signature_file": self.signature_file,
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """The signed document: name, size and digests (streamed, never read whole)."""

    name: str
    size: int
    sha256: str
    streebog256: str | None
    """None only when GOST support is unavailable on this machine."""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "streebog256": self.streebog256,
        }


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """Everything ``gateway verify`` says about one document."""

    document: DocumentSummary | None
    signatures: tuple[SignatureReport, ...]
    sub_indication: SubIndication | None = None
    """Set when the signature file itself is unreadable (FORMAT_FAILURE)."""
    problems: tuple[str, ...] = field(default=())
    """File-level explanations (unreadable signature, no signature found…)."""
    timestamps: tuple[SignatureReport, ...] = field(default=())
    """PDF document timestamps (/DocTimeStamp): not counted as signatures (need not be
    qualified), but one that does not validate fails the document."""

    @property
    def indication(self) -> Indication:
        if self.sub_indication is not None:
            return self.sub_indication.indication
        if not self.signatures:
            return Indication.INDETERMINATE
        return worst_indication([s.indication for s in (*self.signatures, *self.timestamps)])

    @property
    def all_qualified_and_passed(self) -> bool:
        """The ``gateway verify`` exit-0 condition: every signature passed and qualified,
        every document time-stamp valid (an invalid one is never silently ignored)."""
        return bool(self.signatures) and self.sub_indication is None and all(
            s.passed and s.qualified for s in self.signatures
        ) and all(t.passed for t in self.timestamps)

    def to_json(self) -> dict[str, Any]:
        return {
            "indication": self.indication.value,
            "sub_indication": self.sub_indication.value if self.sub_indication else None,
            "document": self.document.to_json() if self.document else None,
            "signatures": [s.to_json() for s in self.signatures],
            "timestamps": [_timestamp_json(t) for t in self.timestamps],
            "problems": list(self.problems),
        }


def _timestamp_json(stamp: SignatureReport) -> dict[str, Any]:
    """A document time-stamp as ``gateway verify`` lists it: the report of its TSA, plus
    whether it is valid and, when not, why (the failed checks)."""
    reason = "; ".join(f"{c.name}: {c.detail}" for c in stamp.failed_checks()) or None
    return {"valid": stamp.passed, "reason": None if stamp.passed else reason or stamp.indication.value, **stamp.to_json()}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
