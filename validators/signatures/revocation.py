"""Revocation status of every certificate in a path, from CRLs and OCSP responses.

Sources: the trust store's ``crl/`` and the revocation values carried by the signature
(CAdES-XL ``revocationValues``: CRLs and basic OCSP responses). Every CRL and OCSP
response is verified before it is believed: its signature by the certificate's issuer
(or, for OCSP, by a responder certificate the issuer delegated with id-kp-OCSPSigning),
and its currency at the validation time T:

* a CRL is usable for T when its nextUpdate is not before T (it was current at T or was
  issued after T); a CRL issued after the certificate expired cannot prove it good;
* an OCSP response is usable when it was produced at or after T, when its nextUpdate is
  not before T, or when its thisUpdate is at most ``OCSP_MAX_AGE`` before T (CryptoPro
  tools fetch OCSP just before signing).

A certificate revoked at or before T is revoked; revoked after T gives "revoked, no
proof of existence" (signingTime is a claim of the signer, not a proof of time).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from asn1crypto import crl, ocsp, x509

from validators.signatures.certificates import fingerprint, format_name, name_key, verify_signed_by
from validators.signatures.model import RevocationMode
from validators.signatures.crypto import UnsupportedAlgorithm, digest_by_oid, new_hash, public_key_bits

__all__ = [
    "RevocationMode",
    "RevocationStatus",
    "CertificateStatus",
    "RevocationEvidence",
    "check_path_revocation",
    "OCSP_MAX_AGE",
]

OCSP_MAX_AGE = timedelta(hours=1)
_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9"


class RevocationStatus(StrEnum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CertificateStatus:
    """Revocation status of one certificate of the path."""

    certificate: x509.Certificate
    status: RevocationStatus
    detail: str
    revoked_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RevocationEvidence:
    """Revocation data available for one signature."""

    crls: tuple[crl.CertificateList, ...] = ()
    ocsp_responses: tuple[ocsp.BasicOCSPResponse, ...] = ()
    certificates: tuple[x509.Certificate, ...] = ()
    """Certificates that may have signed OCSP responses (certValues, CMS certificates)."""


def _name(cert: x509.Certificate) -> str:
    return str(cert.subject.native.get("common_name") or format_name(cert.subject))


def _crl_signed_by(item: crl.CertificateList, issuer: x509.Certificate) -> bool:
    if name_key(item.issuer) != name_key(issuer.subject):
        return False
    aki = item.authority_key_identifier
    if aki is not None and issuer.key_identifier is not None and aki != issuer.key_identifier:
        return False
    return verify_signed_by(
        item["tbs_cert_list"].dump(),
        item["signature_algorithm"],
        item["signature"].native,
        issuer.public_key,
    ).valid


def _crl_scope_excludes(item: crl.CertificateList, cert: x509.Certificate) -> bool:
    """True when the CRL does not speak about this kind of certificate at all."""
    if item.delta_crl_indicator_value is not None:
        return True  # delta CRLs need their base CRL; not used alone
    idp = item.issuing_distribution_point_value
    if idp is None:
        return False
    is_ca = bool(cert.basic_constraints_value and cert.basic_constraints_value["ca"].native)
    if idp["only_contains_user_certs"].native and is_ca:
        return True
    if idp["only_contains_ca_certs"].native and not is_ca:
        return True
    if idp["only_contains_attribute_certs"].native or idp["indirect_crl"].native:
        return True
    return idp["only_some_reasons"].native is not None


def _status_from_crls(
    cert: x509.Certificate, issuer: x509.Certificate, crls: list[crl.CertificateList], at: datetime
) -> CertificateStatus | None:
    not_after = cert["tbs_certificate"]["validity"]["not_after"].native
    reasons_unusable: list[str] = []
    for item in crls:
        if name_key(item.issuer) != name_key(issuer.subject) or _crl_scope_excludes(item, cert):
            continue
        if not _crl_signed_by(item, issuer):
            reasons_unusable.append("a CRL whose signature does not verify")
            continue
        tbs = item["tbs_cert_list"]
        this_update = tbs["this_update"].native
        next_update = tbs["next_update"].native
        for entry in tbs["revoked_certificates"]:
            if entry["user_certificate"].native == cert.serial_number:
                revoked_at = entry["revocation_date"].native
                reason = entry.crl_reason_value.native if entry.crl_reason_value else None
                return CertificateStatus(
                    cert,
                    RevocationStatus.REVOKED,
                    f"'{_name(cert)}' is listed in the CRL of {this_update:%Y-%m-%d} as revoked on "
                    f"{revoked_at:%Y-%m-%d %H:%M:%S}Z" + (f" ({reason})" if reason else ""),
                    revoked_at,
                    reason,
                )
        if next_update is not None and next_update < at:
            reasons_unusable.append(
                f"a CRL of {this_update:%Y-%m-%d} expired on {next_update:%Y-%m-%d} before {at:%Y-%m-%d %H:%M}Z"
            )
            continue
        if this_update > not_after:
            reasons_unusable.append(f"a CRL of {this_update:%Y-%m-%d} issued after the certificate expired")
            continue
        return CertificateStatus(
            cert,
            RevocationStatus.GOOD,
            f"'{_name(cert)}' not revoked per the CRL of {this_update:%Y-%m-%d %H:%M}Z"
            + (f" (next update {next_update:%Y-%m-%d})" if next_update else ""),
        )
    if reasons_unusable:
        return CertificateStatus(
            cert,
            RevocationStatus.UNKNOWN,
            f"no usable CRL for '{_name(cert)}': " + "; ".join(dict.fromkeys(reasons_unusable)),
        )
    return None


def _cert_id_matches(
    cert_id: ocsp.CertId, cert: x509.Certificate, issuer: x509.Certificate
) -> bool:
    if cert_id["serial_number"].native != cert.serial_number:
        return False
    try:
        algorithm = digest_by_oid(cert_id["hash_algorithm"]["algorithm"].dotted)
    except UnsupportedAlgorithm:
        return False
    name_hash = new_hash(algorithm)
    name_hash.update(issuer.subject.dump())
    key_hash = new_hash(algorithm)
    key_hash.update(public_key_bits(issuer.public_key))
    return (
        cert_id["issuer_name_hash"].native == name_hash.digest()
        and cert_id["issuer_key_hash"].native == key_hash.digest()
    )


def _ocsp_signer(
    response: ocsp.BasicOCSPResponse,
    issuer: x509.Certificate,
    pool: list[x509.Certificate],
) -> x509.Certificate | None:
    """The certificate whose key signed the response: the issuer, or a delegated responder."""
    responder_id = response["tbs_response_data"]["responder_id"]
    candidates = [issuer, *pool, *[c for c in response["certs"] or ()]]
    for candidate in candidates:
        if responder_id.name == "by_name":
            if name_key(candidate.subject) != name_key(responder_id.chosen):
                continue
        elif hashlib.sha1(public_key_bits(candidate.public_key)).digest() != responder_id.chosen.native:
            continue
        if fingerprint(candidate) != fingerprint(issuer):
            # A delegated responder must be issued (and signed) by the issuer for OCSP signing.
            eku = candidate.extended_key_usage_value
            if eku is None or _OCSP_SIGNING not in [p.dotted for p in eku]:
                continue
            if name_key(candidate.issuer) != name_key(issuer.subject) or not verify_signed_by(
                candidate["tbs_certificate"].dump(),
                candidate["signature_algorithm"],
                candidate["signature_value"].native,
                issuer.public_key,
            ).valid:
                continue
        if verify_signed_by(
            response["tbs_response_data"].dump(),
            response["signature_algorithm"],
            response["signature"].native,
            candidate.public_key,
        ).valid:
            return candidate
    return None


def _status_from_ocsp(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    responses: tuple[ocsp.BasicOCSPResponse, ...],
    pool: list[x509.Certificate],
    at: datetime,
) -> CertificateStatus | None:
    reasons_unusable: list[str] = []
    for response in responses:
        data = response["tbs_response_data"]
        for single in data["responses"]:
            if not _cert_id_matches(single["cert_id"], cert, issuer):
                continue
            if _ocsp_signer(response, issuer, pool) is None:
                reasons_unusable.append("an OCSP response whose signature or responder is not trusted")
                continue
            produced_at = data["produced_at"].native
            this_update = single["this_update"].native
            next_update = single["next_update"].native
            status = single["cert_status"]
            if status.name == "revoked":
                revoked_at = status.chosen["revocation_time"].native
                reason = status.chosen["revocation_reason"].native
                return CertificateStatus(
                    cert,
                    RevocationStatus.REVOKED,
                    f"OCSP response of {produced_at:%Y-%m-%d %H:%M}Z: '{_name(cert)}' revoked on "
                    f"{revoked_at:%Y-%m-%d %H:%M:%S}Z",
                    revoked_at,
                    reason,
                )
            if status.name != "good":
                reasons_unusable.append(f"OCSP response of {produced_at:%Y-%m-%d %H:%M}Z says 'unknown'")
                continue
            current = (
                produced_at >= at
                or (next_update is not None and next_update >= at)
                or this_update >= at - OCSP_MAX_AGE
            )
            if not current:
                reasons_unusable.append(f"OCSP response of {produced_at:%Y-%m-%d %H:%M}Z is too old for {at:%Y-%m-%d %H:%M}Z")
                continue
            return CertificateStatus(
                cert,
                RevocationStatus.GOOD,
                f"'{_name(cert)}' good per OCSP response produced {produced_at:%Y-%m-%d %H:%M:%S}Z",
            )
    if reasons_unusable:
        return CertificateStatus(
            cert, RevocationStatus.UNKNOWN, f"'{_name(cert)}': " + "; ".join(dict.fromkeys(reasons_unusable))
        )
    return None


def check_path_revocation(
    path: tuple[x509.Certificate, ...],
    anchors: set[str],
    store_crls: tuple[crl.CertificateList, ...],
    evidence: RevocationEvidence,
    at: datetime,
) -> list[CertificateStatus]:
    """Status of every certificate of ``path`` (signer first) except trust anchors."""
    crls = [*evidence.crls, *store_crls]
    pool = [*evidence.certificates, *path]
    statuses = []
    for index, cert in enumerate(path[:-1]):
        if fingerprint(cert) in anchors:
            break
        issuer = path[index + 1]
        # Any verified source that says "revoked" wins; otherwise any that says "good".
        answers = [
            a
            for a in (
                _status_from_ocsp(cert, issuer, evidence.ocsp_responses, pool, at),
                _status_from_crls(cert, issuer, crls, at),
            )
            if a is not None
        ]
        found = next((a for a in answers if a.status is RevocationStatus.REVOKED), None)
        found = found or next((a for a in answers if a.status is RevocationStatus.GOOD), None)
        found = found or (answers[0] if answers else None)
        if found is None:
            found = CertificateStatus(
                cert,
                RevocationStatus.UNKNOWN,
                f"no CRL or OCSP response from '{_name(issuer)}' for '{_name(cert)}'",
            )
        statuses.append(found)
    return statuses
