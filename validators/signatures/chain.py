"""Certificate path building and X.509 checks at the validation time (SPEC section 3).

The path goes from the signer certificate to a certificate in ``roots/``; every link's
signature is verified (GOST CA certificates through the gost engine), and every
certificate must be within its validity period at the validation time. CA certificates
must be CAs (basicConstraints, keyCertSign, path length); unknown critical extensions
fail the path, as RFC 5280 requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509

from validators.signatures.certificates import fingerprint, format_name, name_key, verify_signed_by
from validators.signatures.crypto import public_key_bits
from validators.trust import TrustStore

__all__ = [
    "CertificatePath",
    "build_path",
    "validity_problems",
    "ca_constraint_problems",
    "signer_key_usage_problem",
    "unknown_critical_extensions",
    "MAX_PATH_LENGTH",
    "MAX_CANDIDATES_PER_STEP",
    "MAX_SIGNATURE_CHECKS",
    "MAX_ATTEMPTS_PER_PATH",
    "PathBudget",
]

MAX_PATH_LENGTH = 8
#: Issuer candidates tried at one step of the path (after duplicates are collapsed).
MAX_CANDIDATES_PER_STEP = 8
#: Issuer signature checks one path search may attempt (cached or not): a real path needs
#: 2-4, a cross-certified one a few more. Bounds the search itself.
MAX_ATTEMPTS_PER_PATH = 64
#: Distinct certificate signature verifications one signature may cost (all its signers and
#: time-stamps together; co-signers under one CA share theirs): bounds the cryptography.
MAX_SIGNATURE_CHECKS = 128
_MAX_REPORTED_FAILURES = 6

# Extensions this verifier understands (RFC 5280 and the FSB Order 795 ones); any other
# extension marked critical makes the certificate unusable.
_HANDLED_EXTENSIONS = {
    "2.5.29.14",  # subjectKeyIdentifier
    "2.5.29.35",  # authorityKeyIdentifier
    "2.5.29.15",  # keyUsage
    "2.5.29.37",  # extendedKeyUsage
    "2.5.29.19",  # basicConstraints
    "2.5.29.32",  # certificatePolicies
    "2.5.29.17",  # subjectAltName
    "2.5.29.18",  # issuerAltName
    "2.5.29.16",  # privateKeyUsagePeriod
    "2.5.29.31",  # cRLDistributionPoints
    "1.3.6.1.5.5.7.1.1",  # authorityInfoAccess
    "1.2.643.100.111",  # subjectSignTool
    "1.2.643.100.112",  # issuerSignTool
    "1.2.643.100.114",  # identificationKind
    "1.3.6.1.5.5.7.48.1.5",  # id-pkix-ocsp-nocheck (delegated OCSP responders)
}


@dataclass(frozen=True, slots=True)
class CertificatePath:
    """Signer first, trust anchor last; empty when no path was found."""

    certificates: tuple[x509.Certificate, ...]
    problem: str | None = None
    """Why no path was found (which issuer is missing or whose signature fails)."""

    @property
    def found(self) -> bool:
        return bool(self.certificates)

    def describe(self) -> str:
        return " -> ".join(_short(c) for c in self.certificates)


def _short(cert: x509.Certificate) -> str:
    subject = cert.subject.native
    return str(subject.get("common_name") or format_name(cert.subject))


class PathBudget:
    """The distinct certificate signature verifications one signature may cost.

    Shared by every path built for one signature (each signer, each time-stamp's TSA): a
    check already made (same certificate, same issuer key) is free, so co-signers under
    one CA cost one check each, while a hostile pool of certificates cannot make one
    signature cost more than ``limit`` verifications, however many signers it has.
    """

    __slots__ = ("limit", "_seen")

    def __init__(self, limit: int = MAX_SIGNATURE_CHECKS) -> None:
        self.limit = limit
        self._seen: set[tuple[str, bytes]] = set()

    @property
    def used(self) -> int:
        return len(self._seen)

    def take(self, check: tuple[str, bytes]) -> bool:
        """Account for one check (certificate fingerprint, issuer key); False when it
        would be a new check beyond the budget."""
        if check in self._seen:
            return True
        if len(self._seen) >= self.limit:
            return False
        self._seen.add(check)
        return True


def _identity(cert: x509.Certificate) -> tuple[str, bytes]:
    """Subject and key: two certificates with both equal are the same node of the graph
    (RFC 4158, 5.2): one may not appear twice in a path (loop)."""
    return name_key(cert.subject), public_key_bits(cert.public_key)


def _issuer_candidates(
    cert: x509.Certificate, store: TrustStore, extra: dict[str, list[x509.Certificate]]
) -> list[x509.Certificate]:
    """Possible issuers of ``cert``, duplicates collapsed, at most ``MAX_CANDIDATES_PER_STEP``.

    Trust-store certificates come first, then carried ones; among them, those whose key
    identifier matches the authorityKeyIdentifier. Certificates with the same subject,
    key and issuer are interchangeable for path building (the signature check and the
    next step are the same): only the first is kept, so sixty copies cost one.
    """
    found: list[x509.Certificate] = []
    seen: set[object] = set()
    for candidate in (*store.certificates_with_subject(cert.issuer), *extra.get(name_key(cert.issuer), ())):
        fp = fingerprint(candidate)
        same_node = (*_identity(candidate), name_key(candidate.issuer))
        if fp in seen or same_node in seen:
            continue
        seen.update((fp, same_node))
        found.append(candidate)
    wanted = cert.authority_key_identifier
    if wanted is not None:
        # Prefer the issuer whose key identifier matches; keep the others (some CAs
        # compute identifiers differently) but try them last.
        found.sort(key=lambda c: c.key_identifier != wanted)
    return found[:MAX_CANDIDATES_PER_STEP]


def build_path(
    signer: x509.Certificate,
    extra_certificates: list[x509.Certificate],
    store: TrustStore,
    budget: PathBudget | None = None,
) -> CertificatePath:
    """Find a path from ``signer`` to a trust anchor with every signature verified.

    ``extra_certificates`` are those carried by the signature (CMS ``certificates``,
    CAdES ``certValues``): usable for path building but never anchors. The search is
    bounded: duplicates collapsed, ``MAX_CANDIDATES_PER_STEP`` issuers tried per step,
    ``MAX_PATH_LENGTH`` certificates per path, no subject+key twice in a path,
    ``MAX_ATTEMPTS_PER_PATH`` issuer checks per search and at most ``budget`` distinct
    verifications per signature; a hostile certificate pool gets a verdict (no path,
    saying why) in bounded time and memory.
    """
    budget = budget if budget is not None else PathBudget()
    extra: dict[str, list[x509.Certificate]] = {}
    for cert in extra_certificates:
        extra.setdefault(name_key(cert.subject), []).append(cert)
    failures: list[str] = []
    exhausted: str | None = None
    attempts = 0

    def note(problem: str) -> None:
        if len(failures) < _MAX_REPORTED_FAILURES and problem not in failures:
            failures.append(problem)

    def extend(path: list[x509.Certificate], in_path: set[tuple[str, bytes]]) -> list[x509.Certificate] | None:
        nonlocal exhausted, attempts
        current = path[-1]
        if store.is_anchor(current):
            return path
        if len(path) >= MAX_PATH_LENGTH:
            note(f"path longer than {MAX_PATH_LENGTH} certificates")
            return None
        all_candidates = _issuer_candidates(current, store, extra)
        candidates = [c for c in all_candidates if _identity(c) not in in_path or store.is_anchor(c)]
        if not candidates:
            if all_candidates:
                note(f"'{_short(current)}': every issuer candidate is already in the path (certificate loop)")
            elif current.self_signed != "no":
                note(f"'{_short(current)}' is self-signed and not a trust anchor")
            else:
                note(
                    f"no issuer certificate for '{_short(current)}' "
                    f"(issuer: {format_name(current.issuer)}) in the trust store or the signature"
                )
            return None
        for candidate in candidates:
            attempts += 1
            if attempts > MAX_ATTEMPTS_PER_PATH:
                exhausted = f"{MAX_ATTEMPTS_PER_PATH} issuer signature checks for this path"
                return None
            if not budget.take((fingerprint(current), public_key_bits(candidate.public_key))):
                exhausted = f"{budget.limit} distinct certificate signature checks for this signature"
                return None
            check = verify_signed_by(
                current["tbs_certificate"].dump(),
                current["signature_algorithm"],
                current["signature_value"].native,
                candidate.public_key,
            )
            if not check.valid:
                note(
                    f"certificate '{_short(current)}' (serial {current.serial_number:X}): "
                    f"signature by '{_short(candidate)}' does not verify ({check.problem})"
                )
                continue
            if store.is_anchor(candidate):
                return [*path, candidate]
            result = extend([*path, candidate], in_path | {_identity(candidate)})
            if result is not None or exhausted is not None:
                return result
        return None

    path = extend([signer], {_identity(signer)})
    if path is None:
        if exhausted is not None:
            return CertificatePath(
                (),
                f"path building stopped after {exhausted} "
                f"without reaching a trust anchor ({len(extra_certificates)} certificates carried; "
                "duplicated or cross-signed certificates forming loops)",
            )
        return CertificatePath((), "; ".join(failures) or "no path to a trust anchor")
    return CertificatePath(tuple(path))


def validity_problems(path: CertificatePath, at: datetime) -> list[tuple[x509.Certificate, str, str]]:
    """Certificates outside their validity period at ``at``: (certificate, kind, detail).

    ``kind`` is ``not_yet_valid`` or ``expired``.
    """
    problems = []
    for cert in path.certificates:
        validity = cert["tbs_certificate"]["validity"]
        not_before = validity["not_before"].native
        not_after = validity["not_after"].native
        if at < not_before:
            problems.append((cert, "not_yet_valid", f"'{_short(cert)}' is valid only from {not_before:%Y-%m-%d %H:%M:%S}Z"))
        elif at > not_after:
            problems.append((cert, "expired", f"'{_short(cert)}' expired on {not_after:%Y-%m-%d %H:%M:%S}Z"))
    return problems


def unknown_critical_extensions(cert: x509.Certificate) -> list[str]:
    """The critical extensions of ``cert`` this verifier does not understand (RFC 5280,
    4.2: any makes the certificate unusable)."""
    return [
        ext["extn_id"].dotted
        for ext in cert["tbs_certificate"]["extensions"]
        if ext["critical"].native and ext["extn_id"].dotted not in _HANDLED_EXTENSIONS
    ]


def ca_constraint_problems(path: CertificatePath, store: TrustStore) -> list[str]:
    """basicConstraints, keyUsage and pathLenConstraint of every CA in the path, and
    unknown critical extensions anywhere in it."""
    problems = []
    certificates = path.certificates
    for cert in certificates:
        unknown = unknown_critical_extensions(cert)
        if unknown:
            problems.append(f"'{_short(cert)}' has unsupported critical extensions {', '.join(unknown)}")
    for index, cert in enumerate(certificates[1:], start=1):
        if store.is_anchor(cert):
            # A trust anchor is trusted by configuration (RFC 5937): only its name and key
            # matter; old roots (TC26 test root, v1 roots) carry no basicConstraints.
            continue
        constraints = cert.basic_constraints_value
        if constraints is None or not constraints["ca"].native:
            problems.append(f"'{_short(cert)}' issues certificates but is not a CA (basicConstraints)")
            continue
        key_usage = cert.key_usage_value
        if key_usage is not None and "key_cert_sign" not in key_usage.native:
            problems.append(f"'{_short(cert)}' keyUsage does not allow keyCertSign")
        if constraints is not None and constraints["path_len_constraint"].native is not None:
            # Intermediate CA certificates below this one (self-issued ones do not count).
            below = sum(1 for c in certificates[1:index] if c.self_issued is False)
            if below > constraints["path_len_constraint"].native:
                problems.append(
                    f"'{_short(cert)}' allows {constraints['path_len_constraint'].native} "
                    f"intermediate CA(s) below it, the path has {below}"
                )
    return problems


def signer_key_usage_problem(signer: x509.Certificate) -> str | None:
    """The signer certificate must allow digitalSignature or nonRepudiation."""
    key_usage = signer.key_usage_value
    if key_usage is None:
        return None
    allowed = key_usage.native
    if "digital_signature" in allowed or "non_repudiation" in allowed:
        return None
    return f"keyUsage is {', '.join(sorted(allowed)) or 'empty'}: neither digitalSignature nor nonRepudiation"
