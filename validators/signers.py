"""From signature verdicts to package findings: validity, qualification and whose signature.

SPEC section 3: a signature counts only when it is TOTAL_PASSED and qualified. Whose it
is, is one fact, :func:`signer_role`: the member's head (ЕИО) with the member's
organisation certificate; another holder of the member's organisation certificate; a
natural person with a personal certificate (СНИЛС, no ОГРН/ИНН ЮЛ) -- who acts for the
member only under a power of attorney (МЧД); or another organisation. What each role may
sign is the package validator's rule per document type.
"""

from __future__ import annotations

from enum import StrEnum

from validators.checks import Check, Severity, finding
from validators.members import Member, normalise_person_name
from validators.signatures.model import Indication, SignatureReport, SubIndication

__all__ = ["SignerRole", "signer_role", "signature_findings", "signer_is_member", "signer_is_head", "usable", "describe_signer"]


class SignerRole(StrEnum):
    """Whose signature it is, relative to the member that sent the package."""

    HEAD = "head"
    """The member's organisation certificate (its ОГРН), issued to the head in the member list."""
    MEMBER_ORG = "member_org"
    """The member's organisation certificate issued to someone else (an acting head of
    record, or an employee's certificate from before 1 September 2024)."""
    PERSON = "person"
    """A natural person's certificate: СНИЛС, no ОГРН, ИНН ЮЛ or ОГРНИП. Never the member's
    own signature: such a person signs for the member only under an МЧД."""
    OTHER_ORG = "other_org"
    """Another organisation's (or an entrepreneur's) certificate, or one that ties the
    signer to nobody."""
    UNKNOWN = "unknown"
    """No signer certificate was found."""

_BY_SUB_INDICATION = {
    SubIndication.FORMAT_FAILURE: "signature.format",
    SubIndication.SIGNED_DATA_NOT_FOUND: "signature.format",
    SubIndication.HASH_FAILURE: "signature.invalid",
    SubIndication.SIG_CRYPTO_FAILURE: "signature.invalid",
    SubIndication.NO_SIGNING_CERTIFICATE_FOUND: "signature.untrusted",
    SubIndication.NO_CERTIFICATE_CHAIN_FOUND: "signature.untrusted",
    SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE: "signature.untrusted",
    SubIndication.CHAIN_CONSTRAINTS_FAILURE: "signature.untrusted",
    SubIndication.OUT_OF_BOUNDS_NO_POE: "signature.expired",
    SubIndication.OUT_OF_BOUNDS_NOT_REVOKED: "signature.expired",
    SubIndication.NOT_YET_VALID: "signature.expired",
    SubIndication.EXPIRED: "signature.expired",
    SubIndication.REVOKED: "signature.revoked",
    SubIndication.REVOKED_NO_POE: "signature.revoked",
    SubIndication.REVOKED_CA_NO_POE: "signature.revoked",
    SubIndication.TRY_LATER: "signature.revocation_unknown",
    SubIndication.CRYPTO_CONSTRAINTS_FAILURE: "signature.not_qualified",
    SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE: "signature.not_qualified",
}


def _detail(report: SignatureReport) -> str:
    failed = [f"{c.name}: {c.detail}" for c in report.checks if not c.passed]
    head = f"{report.indication.value}/{report.sub_indication.value if report.sub_indication else '-'}"
    return "; ".join([head, *failed])[:1500]


def usable(report: SignatureReport) -> bool:
    """A signature that satisfies the signing rule: TOTAL_PASSED and qualified."""
    return report.indication is Indication.TOTAL_PASSED and report.qualified


def signature_findings(report: SignatureReport, file: str) -> list[Check]:
    """Findings for one verified signature of ``file`` (empty when it is usable)."""
    if report.indication is not Indication.TOTAL_PASSED:
        code = "signature.other"
        if any(c.name == "pdf.modifications" and not c.passed for c in report.checks):
            # A PDF revision added after this signature (or one that cannot be analysed):
            # what is shown is not what was signed, whatever else the signature says.
            code = "pdf.modified_after_signing"
        elif report.sub_indication is SubIndication.CHAIN_CONSTRAINTS_FAILURE and any(
            c.name == "signer.key_usage" and not c.passed for c in report.checks
        ):
            code = "signature.key_usage"
        elif report.sub_indication is not None:
            code = _BY_SUB_INDICATION.get(report.sub_indication, code)
        return [finding(code, file=file, detail=_detail(report))]
    found = []
    if not report.qualified:
        found.append(finding("signature.not_qualified", file=file, detail=_detail(report)))
    for check in report.checks:
        if check.warning and check.name == "chain.revocation":
            found.append(finding("signature.revocation_unknown", file=file, detail=check.detail, severity=Severity.WARNING))
        if check.warning and check.name == "signing_time.claimed":
            found.append(finding("signature.signing_time_claim", file=file, detail=check.detail))
    return found


def signer_is_member(report: SignatureReport, member: Member) -> bool:
    """The certificate is the member's organisation certificate: it carries the member's
    ОГРН, and its ИНН ЮЛ (when present) is the member's too. A certificate without ОГРН
    is never the member's, whatever its organisation name or ИНН ЮЛ says."""
    signer = report.signer
    if signer is None or not signer.ogrn or not member.ogrn:
        return False
    return signer.ogrn == member.ogrn and (not signer.inn_le or signer.inn_le == member.inn)


def signer_role(report: SignatureReport, member: Member) -> SignerRole:
    """The one decision of whose signature ``report`` is (see :class:`SignerRole`)."""
    signer = report.signer
    if signer is None:
        return SignerRole.UNKNOWN
    if signer_is_member(report, member):
        return SignerRole.HEAD if signer_is_head(report, member) else SignerRole.MEMBER_ORG
    if signer.ogrn or signer.inn_le or signer.ogrnip:
        return SignerRole.OTHER_ORG
    if signer.snils:
        return SignerRole.PERSON
    return SignerRole.OTHER_ORG


def describe_signer(report: SignatureReport) -> str:
    """Who signed, for the detail of a finding (staff read it)."""
    signer = report.signer
    if signer is None:
        return "unknown signer"
    who = signer.full_name or signer.common_name or "?"
    if signer.ogrn or signer.inn_le:
        return f"{who}, {signer.organization or '?'} (OGRN {signer.ogrn}, INN LE {signer.inn_le})"
    if signer.ogrnip:
        return f"{who} (OGRNIP {signer.ogrnip})"
    return f"{who} (personal certificate, SNILS {signer.snils}, INN {signer.inn})"


def signer_is_head(report: SignatureReport, member: Member) -> bool:
    """The certificate's person is the head named in the member list."""
    signer = report.signer
    if signer is None:
        return False
    wanted = normalise_person_name(member.head)
    candidates = {normalise_person_name(signer.full_name), normalise_person_name(signer.common_name)}
    return bool(wanted) and wanted in candidates


def person_key(report: SignatureReport) -> str | None:
    """The natural person behind a signature (СНИЛС digits), when the certificate names one."""
    signer = report.signer
    digits = "".join(ch for ch in (signer.snils or "") if ch.isdigit()) if signer else ""
    return digits or None
