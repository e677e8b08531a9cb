"""From signature verdicts to package findings: validity, qualification and whose signature.

SPEC section 3: a signature counts only when it is TOTAL_PASSED and qualified; the
signer's organisation (ОГРН / ИНН ЮЛ of the certificate) must be the member's; reports
must be signed by the head (ЕИО, 4083-U item 6) unless the package carries the
appointment document of an acting head (item 8).
"""

from __future__ import annotations

from validators.checks import Check, Severity, finding
from validators.members import Member, normalise_person_name
from validators.signatures.model import Indication, SignatureReport, SubIndication

__all__ = ["signature_findings", "signer_is_member", "signer_is_head", "usable"]

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
        if report.sub_indication is SubIndication.CHAIN_CONSTRAINTS_FAILURE and any(
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
    """The certificate names the member: its ОГРН or its ИНН ЮЛ."""
    signer = report.signer
    if signer is None:
        return False
    return bool(
        (signer.ogrn and signer.ogrn == member.ogrn) or (signer.inn_le and signer.inn_le == member.inn)
    )


def signer_is_head(report: SignatureReport, member: Member) -> bool:
    """The certificate's person is the head named in the member list."""
    signer = report.signer
    if signer is None:
        return False
    wanted = normalise_person_name(member.head)
    candidates = {normalise_person_name(signer.full_name), normalise_person_name(signer.common_name)}
    return bool(wanted) and wanted in candidates
