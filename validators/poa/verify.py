"""Does an МЧД let the person who signed a document sign it for the member? Pure functions.

SPEC section 3 and ``shared/formats/mchd-emchd-003.md``. A natural person's signature
counts for the member only with an МЧД that

* is a well-formed EMCHD_1 file (``poa.format``);
* carries a valid qualified detached signature of the principal's head (ЕИО): an
  organisation certificate with the member's ОГРН/ИНН ЮЛ whose person is ``ЛицоБезДов``
  (СНИЛС/ИНН) and the head in the member list (``poa.signature``); only powers of
  attorney issued directly by the head are accepted — one issued by way of re-delegation
  (``ВидДовер`` other than 1) is signed by another representative, whose own power
  of attorney the package does not carry, so it is refused the same way;
* names the member as principal, ``СвРосОрг`` ОГРН and ИНН ЮЛ (``poa.principal_mismatch``);
* names the signer as representative: СНИЛС and/or ИНН as in the certificate, and the
  same ФИО, case- and ё/е-insensitively (``poa.representative_mismatch``);
* was in force at the moment of signing (the signature's time of judgment), as a Moscow
  date within ``ДатаВыдДовер``…``СрокДейст`` inclusive (``poa.not_yet_valid`` /
  ``poa.expired``);
* is not revoked: operator's list or online registry (``poa.revoked``; an unreachable
  registry is ``poa.revocation_unknown``, a warning).

The powers (``СвПолн``) are shown to staff, not interpreted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from validators.checks import Check, Severity, finding
from validators.members import Member, normalise_person_name
from validators.poa.model import Person, PowerOfAttorney, ru_date
from validators.poa.parse import ParsedPoa, normalise_snils
from validators.poa.revocation import RegistryAnswer, RevokedList
from validators.signatures.model import SignatureReport, SignerIdentity
from validators.signers import signer_is_head, signer_is_member, usable

__all__ = [
    "MOSCOW",
    "PoaSource",
    "PoaVerdict",
    "is_personal_certificate",
    "person_matches",
    "representative_problem",
    "principal_problem",
    "issuer_signature_problem",
    "validity_findings",
    "moment_of_signing",
    "stamp_ru",
    "judge",
]

MOSCOW = timezone(timedelta(hours=3), "MSK")

RegistryLookup = Callable[[PowerOfAttorney], RegistryAnswer]
"""Asks the online registry about one МЧД (the caller caches answers per package)."""


@dataclass(frozen=True, slots=True)
class PoaSource:
    """One МЧД found in the package, with the verdicts on its own detached signature."""

    parsed: ParsedPoa
    signature_reports: tuple[SignatureReport, ...] = ()
    signature_problems: tuple[str, ...] = ()
    """Why its signature file could not be read, if it could not."""

    @property
    def name(self) -> str:
        return self.parsed.name


def is_personal_certificate(signer: SignerIdentity | None) -> bool:
    """A natural person's certificate: СНИЛС, no ОГРН / ИНН ЮЛ / ОГРНИП."""
    return bool(signer and normalise_snils(signer.snils) and not signer.ogrn and not signer.inn_le and not signer.ogrnip)


def _personal_inn(signer: SignerIdentity) -> str | None:
    inn = (signer.inn or "").strip()
    # Older organisation certificates put the organisation's ИНН ("00" + ИНН ЮЛ) here.
    if not inn or (signer.inn_le and inn == "00" + signer.inn_le):
        return None
    return inn


def person_matches(person: Person, signer: SignerIdentity) -> str | None:
    """None when the certificate's person is ``person`` by СНИЛС and/or ИНН; else why not.

    Every identifier present on both sides must agree, and at least one must be present
    on both sides.
    """
    pairs = [
        ("СНИЛС", person.snils, normalise_snils(signer.snils)),
        ("ИНН", person.inn, _personal_inn(signer)),
    ]
    compared = [(what, ours, theirs) for what, ours, theirs in pairs if ours and theirs]
    if not compared:
        return "no СНИЛС or ИНН in common between the power of attorney and the certificate"
    for what, ours, theirs in compared:
        if ours != theirs:
            return f"{what} {ours} in the power of attorney, {theirs} in the certificate"
    return None


def representative_problem(poa: PowerOfAttorney, signer: SignerIdentity) -> str | None:
    """None when the МЧД's representative is the signer (identifiers and ФИО)."""
    problem = person_matches(poa.representative, signer)
    if problem:
        return f"representative {poa.representative.full_name}: {problem}"
    names = {normalise_person_name(signer.full_name), normalise_person_name(signer.common_name)}
    if poa.representative.name_key not in names:
        return f"representative {poa.representative.full_name!r}, certificate of {signer.full_name or signer.common_name!r}"
    return None


def principal_problem(poa: PowerOfAttorney, member: Member) -> str | None:
    """None when ``СвРосОрг`` is the member: every ОГРН / ИНН ЮЛ given must be the member's."""
    principal = poa.principal
    if principal.ogrn and principal.ogrn != member.ogrn:
        return f"principal ОГРН {principal.ogrn}, member ОГРН {member.ogrn}"
    if principal.inn_le and principal.inn_le != member.inn:
        return f"principal ИНН {principal.inn_le}, member ИНН {member.inn}"
    return None


def _who(report: SignatureReport) -> str:
    signer = report.signer
    if signer is None:
        return "an unknown signer"
    return f"{signer.full_name or signer.common_name} (ОГРН {signer.ogrn or '-'}, СНИЛС {signer.snils or '-'})"


def issuer_signature_problem(poa: PowerOfAttorney, source: PoaSource, member: Member) -> str | None:
    """None when the МЧД carries a valid qualified signature of the member's head (ЕИО)."""
    if poa.is_redelegated:
        return (
            f"issued by way of re-delegation (ВидДовер={poa.kind}): only a power of attorney "
            "issued and signed by the member's head is accepted"
        )
    if not source.signature_reports:
        if source.signature_problems:
            return "its signature cannot be read: " + "; ".join(source.signature_problems)[:500]
        return f"unsigned: no detached signature {source.name}.sig"
    valid = [r for r in source.signature_reports if usable(r)]
    if not valid:
        first = source.signature_reports[0]
        failed = "; ".join(f"{c.name}: {c.detail}" for c in first.checks if not c.passed)[:500]
        verdict = f"{first.indication.value}/{first.sub_indication.value if first.sub_indication else '-'}"
        return f"its signature is not a valid qualified signature ({verdict}; {failed or 'not qualified'})"
    for report in valid:
        if not signer_is_member(report, member):
            continue
        assert report.signer is not None  # noqa: S101 - invariant; narrows the type
        if person_matches(poa.issuer, report.signer) is None and signer_is_head(report, member):
            return None
    return (
        f"signed by {', '.join(_who(r) for r in valid)}, not by the member's head "
        f"{member.head} named in ЛицоБезДов ({poa.issuer.full_name}) with an organisation certificate of the member"
    )


def moment_of_signing(report: SignatureReport, fallback: datetime) -> datetime:
    """The time the signature is judged at (proven time-stamp, receipt or ``--at``)."""
    return report.validation_time or fallback


def validity_findings(poa: PowerOfAttorney, moment: datetime, file: str) -> list[Check]:
    """``poa.not_yet_valid`` / ``poa.expired`` when the Moscow date of ``moment`` is outside
    ``ДатаВыдДовер``…``СрокДейст`` (both days included)."""
    day = moment.astimezone(MOSCOW).date()
    when = moment.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M MSK")
    if day < poa.issued:
        return [finding("poa.not_yet_valid", file=file, detail=f"signed {when}, power of attorney {poa.number} issued {ru_date(poa.issued)}")]
    if day > poa.valid_until:
        return [finding("poa.expired", file=file, detail=f"signed {when}, power of attorney {poa.number} valid until {ru_date(poa.valid_until)}")]
    return []


def stamp_ru(poa: PowerOfAttorney) -> str:
    """The line on the signature stamp for a representative's signature."""
    ids = ", ".join(p for p in (f"ОГРН {poa.principal.ogrn}" if poa.principal.ogrn else "", f"ИНН {poa.principal.inn_le}" if poa.principal.inn_le else "") if p)
    principal = f"{poa.principal.name} ({ids})" if poa.principal.name else ids
    return (
        f"Подписано представителем по доверенности № {poa.number} от {ru_date(poa.issued)}, "
        f"доверитель {principal}, действует до {ru_date(poa.valid_until)}"
    )


@dataclass(frozen=True)
class PoaVerdict:
    """What the МЧД says about one representative's signature."""

    checks: tuple[Check, ...]
    source: str | None = None
    """The МЧД file judged (None when there was none naming the signer)."""
    poa: PowerOfAttorney | None = None
    revoked_locally: bool = False
    registry: RegistryAnswer | None = None
    """None when no online registry is configured."""
    moment: datetime | None = None

    @property
    def valid(self) -> bool:
        """The signature counts for the member: an МЧД and no finding above a warning."""
        return self.poa is not None and all(c.severity in (Severity.INFO, Severity.WARNING) for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        """The ``power_of_attorney`` object of a signature in the package report."""
        return {
            "valid": self.valid,
            "file": self.source,
            "stamp_ru": stamp_ru(self.poa) if self.poa else None,
            "moment_of_signing": self.moment.isoformat().replace("+00:00", "Z") if self.moment else None,
            "revoked_locally": self.revoked_locally,
            "registry": self.registry.to_json() if self.registry else {"consulted": False, "status": None, "detail": "no registry configured"},
            "findings": [c.code for c in self.checks],
            **(self.poa.to_json() if self.poa else {}),
        }


def _verdict_for(
    source: PoaSource,
    report: SignatureReport,
    member: Member,
    moment: datetime,
    revoked: RevokedList,
    registry: RegistryAnswer | None,
    document: str,
) -> PoaVerdict:
    poa = source.parsed.poa
    assert poa is not None  # noqa: S101 - invariant; narrows the type
    checks: list[Check] = []
    problem = principal_problem(poa, member)
    if problem:
        checks.append(finding("poa.principal_mismatch", file=source.name, detail=problem))
    problem = issuer_signature_problem(poa, source, member)
    if problem:
        checks.append(finding("poa.signature", file=source.name, detail=problem))
    checks.extend(validity_findings(poa, moment, document))
    if revoked.revoked(poa.number):
        checks.append(finding("poa.revoked", file=source.name, detail=f"number {poa.number} is in the operator's list of revoked powers of attorney"))
    elif revoked.problem:
        checks.append(finding("poa.revocation_unknown", file=source.name, detail=revoked.problem))
    if registry is not None:
        if registry.revoked:
            checks.append(finding("poa.revoked", file=source.name, detail=f"the registry says revoked: {registry.detail}"))
        elif not registry.consulted:
            checks.append(finding("poa.revocation_unknown", file=source.name, detail=registry.detail))
    return PoaVerdict(tuple(checks), source.name, poa, revoked.revoked(poa.number), registry, moment)


def judge(
    report: SignatureReport,
    member: Member,
    sources: Sequence[PoaSource],
    *,
    document: str,
    fallback_moment: datetime,
    revoked: RevokedList,
    registry: RegistryLookup | None = None,
) -> PoaVerdict:
    """The verdict on a natural person's signature of ``document`` given the package's МЧД.

    ``registry`` is called with an МЧД (only when one names the signer) and returns the
    registry's answer; None when no registry is configured.
    """
    moment = moment_of_signing(report, fallback_moment)
    signer = report.signer
    if not sources:
        who = signer.full_name or signer.common_name if signer else "?"
        return PoaVerdict((finding("poa.missing", file=document, detail=f"signed with the personal certificate of {who} (СНИЛС {signer.snils if signer else '-'}); no power of attorney in the package"),), moment=moment)
    broken = [s.parsed.format_check() for s in sources if s.parsed.poa is None]
    readable = [s for s in sources if s.parsed.poa is not None]
    assert signer is not None  # noqa: S101 - invariant; narrows the type
    naming = [s for s in readable if representative_problem(s.parsed.poa, signer) is None]  # type: ignore[arg-type]
    if not naming:
        if not readable:
            return PoaVerdict(tuple(broken), moment=moment)
        reasons = "; ".join(f"{s.name}: {representative_problem(s.parsed.poa, signer)}" for s in readable)  # type: ignore[arg-type]
        return PoaVerdict(
            (*broken, finding("poa.representative_mismatch", file=document, detail=f"signer {signer.full_name or signer.common_name} (СНИЛС {signer.snils}, ИНН {signer.inn}); {reasons}"[:1500])),
            moment=moment,
        )
    verdicts = [
        _verdict_for(s, report, member, moment, revoked, registry(s.parsed.poa) if registry else None, document)  # type: ignore[arg-type]
        for s in naming
    ]
    # The signer may be named in several; one that holds is enough.
    return next((v for v in verdicts if v.valid), verdicts[0])

