"""Revocation status of every certificate in a path, from CRLs and OCSP responses.

Sources: the revocation values carried by the signature (CAdES-XL ``revocationValues``,
a PDF's DSS), the trust store's ``crl/``, and — when a :class:`RevocationSource` is
given — CRLs and OCSP responses fetched online (or from the on-disk cache) from the
certificate's own CRL Distribution Points and Authority Information Access. The online
source is asked only here, i.e. after the path to a trust anchor has verified, so the
URLs are the CA's own. Every CRL and OCSP response is verified before it is believed:
its signature by the certificate's issuer (or, for OCSP, by a responder certificate the
issuer delegated with id-kp-OCSPSigning), and its currency at the validation time T:

* a CRL is usable for T when its nextUpdate is not before T (it was current at T or was
  issued after T); a CRL issued after the certificate expired cannot prove it good;
* an OCSP response says what was known at its thisUpdate (RFC 6960, 2.4): it is usable
  when its nextUpdate is not before T, or when its thisUpdate is at most ``OCSP_MAX_AGE``
  before T (CryptoPro tools fetch OCSP just before signing); a fresh producedAt over an
  old thisUpdate (a stale responder database) is not; a thisUpdate or producedAt later
  than the present time (plus ``OCSP_CLOCK_SKEW``), or a nextUpdate before thisUpdate,
  makes the response no answer; a "good" issued after the certificate expired proves
  nothing (as for CRLs: a CA stops listing expired certificates) unless the response
  announces an archiveCutoff at or before the certificate's notAfter; a critical
  extension not understood makes a "good" unusable (as for CRLs);
* a delegated responder (RFC 6960, 4.2.2.2) must be issued by the CA for id-kp-OCSPSigning
  with a key usage allowing signatures and be valid; without id-pkix-ocsp-nocheck its own
  certificate is checked against the CA's CRLs (4.2.2.2.1): a responder listed as revoked
  answers nothing, and one whose status is unknown cannot vouch "good" (its "revoked"
  still counts).

Precedence: EVERY verified CRL and OCSP response is consulted, never just the first
usable one. Any verified source that lists the certificate as revoked wins over any
number of "good" answers (an old CRL kept beside a newer one, or one embedded by the
signer, cannot hide the newer listing); the earliest revocation date given by any
verified source counts. Only when no verified source says "revoked" does a usable
"good" answer decide. One exception: a hold (certificateHold, a suspension) is lifted
when a usable "good" known after the newest hold listing and not after T exists; a hold
in force at T counts as a revocation. A certificate revoked at or before T is revoked; revoked after T
gives "revoked, no proof of existence" (the caller decides with its proof of time).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from asn1crypto import core, crl, ocsp, x509

from validators.signatures.certificates import fingerprint, format_name, name_key, verify_signed_by
from validators.signatures.chain import unknown_critical_extensions
from validators.signatures.crypto import UnsupportedAlgorithm, digest_by_oid, new_hash, public_key_bits
from validators.signatures.model import RevocationMode

__all__ = [
    "RevocationMode",
    "RevocationStatus",
    "CertificateStatus",
    "RevocationEvidence",
    "RevokedEntry",
    "CrlView",
    "LoadedCrl",
    "FetchedEvidence",
    "RevocationSource",
    "check_path_revocation",
    "OCSP_MAX_AGE",
    "OCSP_CLOCK_SKEW",
]

OCSP_MAX_AGE = timedelta(hours=1)
#: How far an OCSP thisUpdate/producedAt may lie after the present time (clocks differ).
OCSP_CLOCK_SKEW = timedelta(minutes=5)
_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9"
_OCSP_NOCHECK = "1.3.6.1.5.5.7.48.1.5"
_ARCHIVE_CUTOFF = "1.3.6.1.5.5.7.48.1.6"
#: The revocation reason of a suspension (RFC 5280, 5.3.1), as asn1crypto names it.
_HOLD = "certificate_hold"


class RevocationStatus(StrEnum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"
    """No verified source could decide. ``unreachable`` on the status says whether an
    online source failed (the CA could not be reached: worth trying again later)."""


@dataclass(frozen=True, slots=True)
class CertificateStatus:
    """Revocation status of one certificate of the path."""

    certificate: x509.Certificate
    status: RevocationStatus
    detail: str
    revoked_at: datetime | None = None
    reason: str | None = None
    unreachable: bool = False
    """UNKNOWN because an online source (CDP/AIA) could not be fetched."""


@dataclass(frozen=True, slots=True)
class RevocationEvidence:
    """Revocation data available for one signature."""

    crls: tuple[crl.CertificateList, ...] = ()
    ocsp_responses: tuple[ocsp.BasicOCSPResponse, ...] = ()
    certificates: tuple[x509.Certificate, ...] = ()
    """Certificates that may have signed OCSP responses (certValues, CMS certificates)."""


@dataclass(frozen=True, slots=True)
class RevokedEntry:
    revoked_at: datetime
    reason: str | None


class CrlView:
    """A CRL as the revocation check reads it: its header and a lookup by serial.

    ``header`` is a :class:`crl.CertificateList` whose ``tbs_cert_list`` holds at least
    the issuer, the dates and the extensions (for a large indexed CRL the revoked list
    is left out and entries are looked up in the index instead).
    """

    def __init__(self, header: crl.CertificateList, origin: str) -> None:
        self.header = header
        self.origin = origin
        tbs = header["tbs_cert_list"]
        self.issuer: x509.Name = tbs["issuer"]
        self.this_update: datetime = tbs["this_update"].native
        self.next_update: datetime | None = tbs["next_update"].native

    def signed_by(self, issuer: x509.Certificate) -> bool:
        """The CRL names ``issuer`` and its signature verifies with the issuer's key."""
        if name_key(self.issuer) != name_key(issuer.subject):
            return False
        aki = self.header.authority_key_identifier
        if aki is not None and issuer.key_identifier is not None and aki != issuer.key_identifier:
            return False
        return self._signature_verifies(issuer)

    def _signature_verifies(self, issuer: x509.Certificate) -> bool:
        raise NotImplementedError

    def entry(self, serial: int) -> RevokedEntry | None:
        """The revocation entry of ``serial``, or None when the CRL does not list it."""
        raise NotImplementedError

    def scope_excludes(self, cert: x509.Certificate) -> bool:
        """True when the CRL does not speak about this kind of certificate at all."""
        item = self.header
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
        if idp["only_some_reasons"].native is not None:
            return True
        # A partitioned CRL (RFC 5280, 6.3.3 b.2.i) speaks only for the certificates whose
        # CRL Distribution Points name one of its own distribution point names: a genuine
        # CRL of another partition lists none of them and would otherwise say "good".
        return not _idp_matches_certificate(idp, cert)

    def unhandled_critical_extensions(self) -> list[str]:
        """Critical CRL extensions this code does not process: such a CRL must not be
        used to say "not revoked" (RFC 5280, 5.2); its entries still revoke."""
        return sorted(e for e in self.header.critical_extensions if e not in _HANDLED_CRL_EXTENSIONS)

    def describe(self) -> str:
        return f"the CRL of {self.this_update:%Y-%m-%d %H:%M}Z ({self.origin})"


#: CRL extensions whose meaning is applied here (asn1crypto names); another one marked
#: critical makes the CRL unusable for "not revoked".
_HANDLED_CRL_EXTENSIONS = frozenset(
    {
        "authority_key_identifier",
        "issuer_alt_name",
        "crl_number",
        "delta_crl_indicator",
        "issuing_distribution_point",
        "freshest_crl",
        "authority_information_access",
    }
)


def _idp_matches_certificate(idp: Any, cert: x509.Certificate) -> bool:
    """The IssuingDistributionPoint has no distribution point name, or one of its full
    names is among the full names of the certificate's CRL Distribution Points."""
    point = idp["distribution_point"]
    if point is None or isinstance(point, core.Void) or point.native is None:
        return True
    if point.name != "full_name":
        return False  # a name relative to the CRL issuer: not matched here, not trusted
    wanted = {name.dump() for name in point.chosen}
    for cdp in cert.crl_distribution_points_value or ():
        names = cdp["distribution_point"]
        if isinstance(names, core.Void) or names.native is None or names.name != "full_name":
            continue
        if wanted & {name.dump() for name in names.chosen}:
            return True
    return False


class LoadedCrl(CrlView):
    """A CRL held whole in memory (embedded in a signature or a trust store file)."""

    def __init__(self, item: crl.CertificateList, origin: str) -> None:
        super().__init__(item, origin)
        self._entries: dict[int, RevokedEntry] | None = None

    def _signature_verifies(self, issuer: x509.Certificate) -> bool:
        item = self.header
        return verify_signed_by(
            item["tbs_cert_list"].dump(), item["signature_algorithm"], item["signature"].native, issuer.public_key
        ).valid

    def entry(self, serial: int) -> RevokedEntry | None:
        if self._entries is None:
            entries: dict[int, RevokedEntry] = {}
            for item in self.header["tbs_cert_list"]["revoked_certificates"]:
                reason = item.crl_reason_value.native if item.crl_reason_value else None
                found = RevokedEntry(item["revocation_date"].native, reason)
                known = entries.get(item["user_certificate"].native)
                if known is None or found.revoked_at < known.revoked_at:
                    entries[item["user_certificate"].native] = found
            self._entries = entries
        return self._entries.get(serial)


@dataclass(frozen=True, slots=True)
class FetchedEvidence:
    """What an online source has for one certificate: cached or just fetched data."""

    crls: tuple[CrlView, ...] = ()
    ocsp_responses: tuple[ocsp.BasicOCSPResponse, ...] = ()
    problems: tuple[str, ...] = ()
    """Addresses that could not be fetched now (timeouts, refused, HTTP errors)."""


class RevocationSource(Protocol):
    """Online revocation data (CDP CRLs, AIA OCSP) with a cache.

    Called only for certificates whose path to a trust anchor has verified, with the
    certificate's verified issuer; implementations must verify nothing themselves that
    the caller relies on — every CRL and response is verified here like embedded ones.
    """

    def crls_for(self, cert: x509.Certificate, issuer: x509.Certificate, at: datetime) -> FetchedEvidence:
        """CRLs of ``issuer`` (cached, refreshed from the certificate's CDP when due)."""
        ...

    def ocsp_for(self, cert: x509.Certificate, issuer: x509.Certificate, at: datetime) -> FetchedEvidence:
        """OCSP responses about ``cert`` (cached, or asked from its AIA responder)."""
        ...


def _name(cert: x509.Certificate) -> str:
    return str(cert.subject.native.get("common_name") or format_name(cert.subject))


def _cert_id_matches(cert_id: ocsp.CertId, cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """RFC 6960 CertID: serial, and issuer name and key hashes in the CertID's own algorithm
    (SHA-1, SHA-256, Streebog-256/512 — GOST responders use Streebog)."""
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
    return bool(
        cert_id["issuer_name_hash"].native == name_hash.digest()
        and cert_id["issuer_key_hash"].native == key_hash.digest()
    )


def _ocsp_signer(
    response: ocsp.BasicOCSPResponse,
    issuer: x509.Certificate,
    pool: list[x509.Certificate],
    at: datetime | None = None,
) -> x509.Certificate | None:
    """The certificate whose key signed the response: the issuer, or a delegated responder
    valid when the response was produced and at the time of judgment ``at`` (RFC 6960,
    4.2.2.2: an expired responder key, perhaps retired and leaked, answers nothing; the
    producedAt it signs is its own claim, so the time of judgment counts too)."""
    responder_id = response["tbs_response_data"]["responder_id"]
    candidates = [issuer, *pool, *[c for c in response["certs"] or ()]]
    for candidate in candidates:
        if responder_id.name == "by_name":
            if name_key(candidate.subject) != name_key(responder_id.chosen):
                continue
        elif hashlib.sha1(public_key_bits(candidate.public_key), usedforsecurity=False).digest() != responder_id.chosen.native:
            continue
        if fingerprint(candidate) != fingerprint(issuer):
            # A delegated responder must be issued (and signed) by the issuer for OCSP signing.
            eku = candidate.extended_key_usage_value
            if eku is None or _OCSP_SIGNING not in [p.dotted for p in eku]:
                continue
            key_usage = candidate.key_usage_value
            if key_usage is not None and not {"digital_signature", "non_repudiation"} & set(key_usage.native):
                continue  # RFC 5280, 4.2.1.3: this key may not sign anything
            if unknown_critical_extensions(candidate):
                continue  # RFC 5280, 4.2: a certificate with a critical extension not understood is refused
            validity = candidate["tbs_certificate"]["validity"]
            moments = [response["tbs_response_data"]["produced_at"].native, *([at] if at is not None else [])]
            if any(not validity["not_before"].native <= moment <= validity["not_after"].native for moment in moments):
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


#: OCSP extensions whose meaning is applied or harmless here (response level: nonce,
#: extended revoke; single response: CRL reference, archive cutoff, reason, invalidity
#: date). Another one marked critical makes a "good" unusable (its "revoked" still counts).
_HANDLED_OCSP_EXTENSIONS = frozenset(
    {
        "1.3.6.1.5.5.7.48.1.2",
        "1.3.6.1.5.5.7.48.1.9",
        "1.3.6.1.5.5.7.48.1.3",
        "1.3.6.1.5.5.7.48.1.6",
        "2.5.29.21",
        "2.5.29.24",
    }
)


def _unhandled_critical_ocsp_extensions(data: ocsp.ResponseData, single: ocsp.SingleResponse) -> list[str]:
    extensions = [*(data["response_extensions"] or ()), *(single["single_extensions"] or ())]
    return sorted(
        e["extn_id"].dotted for e in extensions if e["critical"].native and e["extn_id"].dotted not in _HANDLED_OCSP_EXTENSIONS
    )


def _archive_cutoff_covers(single: ocsp.SingleResponse, not_after: datetime) -> bool:
    """RFC 6960, 4.4.4: a responder announcing an archiveCutoff at or before the
    certificate's notAfter still keeps its status after it expired."""
    for extension in single["single_extensions"] or ():
        if extension["extn_id"].dotted == _ARCHIVE_CUTOFF:
            cutoff = extension["extn_value"].parsed.native
            return isinstance(cutoff, datetime) and cutoff <= not_after
    return False


def _has_nocheck(cert: x509.Certificate) -> bool:
    """id-pkix-ocsp-nocheck (RFC 6960, 4.2.2.2.1) among the extensions (asn1crypto's own
    property is unusable: it reads an attribute it never sets)."""
    return any(e["extn_id"].dotted == _OCSP_NOCHECK for e in cert["tbs_certificate"]["extensions"])


class _Answers:
    """Every verified answer about one certificate, and why other sources were unusable."""

    def __init__(self, cert: x509.Certificate) -> None:
        self.cert = cert
        self.revoked: list[CertificateStatus] = []
        self.good: list[tuple[datetime, CertificateStatus]] = []
        """Each with the moment its status was known (CRL or OCSP thisUpdate)."""
        self.unusable: list[str] = []
        self.hold_listings: list[datetime] = []
        """When a verified source knew the certificate on hold (its thisUpdate)."""

    def add_crls(self, issuer: x509.Certificate, crls: list[CrlView], at: datetime) -> None:
        cert = self.cert
        not_after = cert["tbs_certificate"]["validity"]["not_after"].native
        for item in crls:
            if name_key(item.issuer) != name_key(issuer.subject) or item.scope_excludes(cert):
                continue
            if not item.signed_by(issuer):
                self.unusable.append("a CRL whose signature does not verify")
                continue
            listed = item.entry(cert.serial_number)
            if listed is not None:
                if listed.reason == _HOLD:
                    self.hold_listings.append(item.this_update)
                self.revoked.append(
                    CertificateStatus(
                        cert,
                        RevocationStatus.REVOKED,
                        f"'{_name(cert)}' is listed in {item.describe()} as revoked on "
                        f"{listed.revoked_at:%Y-%m-%d %H:%M:%S}Z" + (f" ({listed.reason})" if listed.reason else ""),
                        listed.revoked_at,
                        listed.reason,
                    )
                )
                continue
            unhandled = item.unhandled_critical_extensions()
            if unhandled:
                self.unusable.append(f"a CRL with critical extensions not understood ({', '.join(unhandled)})")
                continue
            if item.next_update is not None and item.next_update < at:
                self.unusable.append(
                    f"a CRL of {item.this_update:%Y-%m-%d} expired on {item.next_update:%Y-%m-%d} before {at:%Y-%m-%d %H:%M}Z"
                )
                continue
            if item.this_update > not_after:
                self.unusable.append(f"a CRL of {item.this_update:%Y-%m-%d} issued after the certificate expired")
                continue
            self.good.append(
                (
                    item.this_update,
                    CertificateStatus(
                        cert,
                        RevocationStatus.GOOD,
                        f"'{_name(cert)}' not revoked per {item.describe()}"
                        + (f" (next update {item.next_update:%Y-%m-%d})" if item.next_update else ""),
                    ),
                )
            )

    def add_ocsp(
        self,
        issuer: x509.Certificate,
        responses: tuple[ocsp.BasicOCSPResponse, ...],
        pool: list[x509.Certificate],
        at: datetime,
        origin: str,
        now: datetime,
        responder_status: Callable[[x509.Certificate], RevocationStatus],
    ) -> None:
        """``responder_status`` tells the revocation status of a delegated responder
        without id-pkix-ocsp-nocheck (from the CA's CRLs)."""
        cert = self.cert
        not_after = cert["tbs_certificate"]["validity"]["not_after"].native
        for response in responses:
            data = response["tbs_response_data"]
            for single in data["responses"]:
                if not _cert_id_matches(single["cert_id"], cert, issuer):
                    continue
                responder = _ocsp_signer(response, issuer, pool, at)
                if responder is None:
                    self.unusable.append("an OCSP response whose signature or responder is not trusted")
                    continue
                vouched = True
                if fingerprint(responder) != fingerprint(issuer) and not _has_nocheck(responder):
                    responder_state = responder_status(responder)
                    if responder_state is RevocationStatus.REVOKED:
                        self.unusable.append(f"an OCSP response signed by the revoked responder '{_name(responder)}'")
                        continue
                    vouched = responder_state is RevocationStatus.GOOD
                produced_at = data["produced_at"].native
                this_update = single["this_update"].native
                next_update = single["next_update"].native
                status = single["cert_status"]
                if status.name == "revoked":
                    revoked_at = status.chosen["revocation_time"].native
                    reason = status.chosen["revocation_reason"].native
                    if reason == _HOLD:
                        self.hold_listings.append(this_update)
                    self.revoked.append(
                        CertificateStatus(
                            cert,
                            RevocationStatus.REVOKED,
                            f"OCSP response of {produced_at:%Y-%m-%d %H:%M}Z ({origin}): '{_name(cert)}' revoked on "
                            f"{revoked_at:%Y-%m-%d %H:%M:%S}Z",
                            revoked_at,
                            reason,
                        )
                    )
                    continue
                if status.name != "good":
                    self.unusable.append(f"OCSP response of {produced_at:%Y-%m-%d %H:%M}Z says 'unknown'")
                    continue
                if not vouched:
                    self.unusable.append(
                        f"a 'good' OCSP answer by the delegated responder '{_name(responder)}', which has no "
                        "id-pkix-ocsp-nocheck and whose own revocation status is unknown"
                    )
                    continue
                unhandled = _unhandled_critical_ocsp_extensions(data, single)
                if unhandled:
                    self.unusable.append(f"an OCSP 'good' with critical extensions not understood ({', '.join(unhandled)})")
                    continue
                if max(this_update, produced_at) > now + OCSP_CLOCK_SKEW or (next_update is not None and next_update < this_update):
                    self.unusable.append(
                        f"OCSP response with impossible dates (thisUpdate {this_update:%Y-%m-%d %H:%M}Z, produced "
                        f"{produced_at:%Y-%m-%d %H:%M}Z, now {now:%Y-%m-%d %H:%M}Z)"
                    )
                    continue
                if this_update > not_after and not _archive_cutoff_covers(single, not_after):
                    self.unusable.append(f"an OCSP 'good' of {this_update:%Y-%m-%d} issued after the certificate expired")
                    continue
                current = (next_update is not None and next_update >= at) or this_update >= at - OCSP_MAX_AGE
                if not current:
                    self.unusable.append(
                        f"OCSP response of {produced_at:%Y-%m-%d %H:%M}Z (status of {this_update:%Y-%m-%d %H:%M}Z) "
                        f"is too old for {at:%Y-%m-%d %H:%M}Z"
                    )
                    continue
                self.good.append(
                    (
                        this_update,
                        CertificateStatus(
                            cert,
                            RevocationStatus.GOOD,
                            f"'{_name(cert)}' good per OCSP response produced {produced_at:%Y-%m-%d %H:%M:%S}Z ({origin})",
                        ),
                    )
                )

    def revoked_by(self, at: datetime) -> bool:
        """Revoked at or before ``at`` for good (a hold may still be lifted: not counted)."""
        return any(a.revoked_at is not None and a.revoked_at <= at and a.reason != _HOLD for a in self.revoked)

    def hold_lifted_by(self, at: datetime) -> bool:
        """A verified "good" known after the newest hold listing and not after ``at``: the
        hold (certificateHold, a suspension) was lifted before the time of judgment."""
        if not self.hold_listings:
            return False
        newest = max(self.hold_listings)
        return any(newest < known <= at for known, _ in self.good)

    def verdict(self, issuer: x509.Certificate, unreachable: tuple[str, ...], at: datetime) -> CertificateStatus:
        """Any "revoked" wins (the earliest date), except a hold lifted before ``at``;
        then the newest "good"; else unknown."""
        lifted = self.hold_lifted_by(at)
        standing = [a for a in self.revoked if not (lifted and a.reason == _HOLD)]
        if standing:
            return min(standing, key=lambda a: a.revoked_at)  # type: ignore[arg-type,return-value]
        if self.good:
            newest = max(self.good, key=lambda pair: pair[0])[1]
            if lifted:
                return dataclasses.replace(newest, detail=newest.detail + "; an earlier hold (certificateHold) was lifted before the time of judgment")
            return newest
        reasons = [*dict.fromkeys(self.unusable), *(f"could not fetch {p}" for p in unreachable)]
        if reasons:
            return CertificateStatus(
                self.cert,
                RevocationStatus.UNKNOWN,
                f"no usable revocation data for '{_name(self.cert)}': " + "; ".join(reasons),
                unreachable=bool(unreachable),
            )
        return CertificateStatus(
            self.cert,
            RevocationStatus.UNKNOWN,
            f"no CRL or OCSP response from '{_name(issuer)}' for '{_name(self.cert)}'",
        )


class _ResponderStatus:
    """The revocation status of a delegated OCSP responder of ``issuer`` (RFC 6960,
    4.2.2.2.1), from the issuer's CRLs only (asking OCSP about the responder could loop):
    any listing, whatever its date, is REVOKED (a responder key retired or compromised
    answers nothing, and the producedAt it signs is its own claim); else the CRLs'
    usual verdict at ``at``. One answer per responder certificate."""

    def __init__(self, issuer: x509.Certificate, crls: list[CrlView], at: datetime, online: RevocationSource | None) -> None:
        self.issuer, self.crls, self.at, self.online = issuer, crls, at, online
        self._known: dict[str, RevocationStatus] = {}

    def __call__(self, responder: x509.Certificate) -> RevocationStatus:
        key = fingerprint(responder)
        if key not in self._known:
            answers = _Answers(responder)
            answers.add_crls(self.issuer, self.crls, self.at)
            if self.online is not None and not answers.revoked:
                answers.add_crls(self.issuer, list(self.online.crls_for(responder, self.issuer, self.at).crls), self.at)
            if answers.revoked:
                self._known[key] = RevocationStatus.REVOKED
            else:
                self._known[key] = RevocationStatus.GOOD if answers.good else RevocationStatus.UNKNOWN
        return self._known[key]


def check_path_revocation(
    path: tuple[x509.Certificate, ...],
    anchors: set[str],
    store_crls: tuple[crl.CertificateList, ...],
    evidence: RevocationEvidence,
    at: datetime,
    online: RevocationSource | None = None,
    *,
    now: datetime | None = None,
) -> list[CertificateStatus]:
    """Status of every certificate of ``path`` (signer first) except trust anchors.

    ``path`` must be a verified path (each certificate's signature checked with the next
    one's key): only then may ``online`` be asked, because the addresses it fetches come
    from the certificates themselves. ``now`` is the present time (default: the system
    clock): no OCSP answer may come from after it.
    """
    now = now if now is not None else datetime.now(UTC)
    crls: list[CrlView] = [
        *(LoadedCrl(c, "from the signature") for c in evidence.crls),
        *(LoadedCrl(c, "trust store") for c in store_crls),
    ]
    pool = [*evidence.certificates, *path]
    statuses = []
    for index, cert in enumerate(path[:-1]):
        if fingerprint(cert) in anchors:
            break
        issuer = path[index + 1]
        answers = _Answers(cert)
        responder_status = _ResponderStatus(issuer, crls, at, online)
        answers.add_ocsp(issuer, evidence.ocsp_responses, pool, at, "from the signature", now, responder_status)
        answers.add_crls(issuer, crls, at)
        unreachable: tuple[str, ...] = ()
        if online is not None and not answers.revoked_by(at):
            # Even with a "good" answer in hand: a newer CRL online may list the
            # certificate, and a listing wins. The cache keeps this cheap.
            fetched = online.crls_for(cert, issuer, at)
            answers.add_crls(issuer, list(fetched.crls), at)
            unreachable = fetched.problems
            if not answers.revoked and not answers.good:
                # OCSP (AIA) when the CRLs do not decide: no CDP, or the CA's CRL unreachable.
                asked = online.ocsp_for(cert, issuer, at)
                answers.add_ocsp(issuer, asked.ocsp_responses, pool, at, "online", now, responder_status)
                unreachable = (*unreachable, *asked.problems)
        statuses.append(answers.verdict(issuer, unreachable, at))
    return statuses
