"""Verification of CMS/CAdES signatures: from a signature file to a :class:`VerificationReport`.

Each SignerInfo goes through the same ordered steps (the ETSI EN 319 102-1 building
blocks: format checking, identification of the signing certificate, cryptographic
verification, X.509 validation, revocation, and our qualified-profile check). Every step
records a named check for staff; the verdict is the first TOTAL_FAILED failure, else the
first INDETERMINATE one, else TOTAL_PASSED. ``qualified`` never rescues a failed signature.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from asn1crypto import cms, core, tsp, x509

from validators import gost
from validators.digests import SHA256, STREEBOG_256, FileDigests
from validators.signatures import chain as chains
from validators.signatures import timestamps
from validators.signatures.certificates import (
    fingerprint,
    identity_of,
    name_key,
    summary_of,
)
from validators.signatures.cms import (
    ASN1_ERRORS,
    ID_CT_TSTINFO,
    ID_DATA,
    CmsFormatError,
    ParsedSignedData,
    attribute_values,
    certificate_values,
    parse_signed_data,
    revocation_values,
    signed_attributes_der,
)
from validators.signatures.crypto import (
    UnsupportedAlgorithm,
    digest_by_oid,
    key_algorithm_oid,
    new_hash,
    signature_algorithm_name,
    signature_digest_oid,
    verify_signature,
)
from validators.signatures.model import (
    DocumentSummary,
    Indication,
    SignatureCheck,
    SignatureReport,
    SubIndication,
    TimestampSummary,
    VerificationReport,
)
from validators.signatures.policy import GOST_2001_SUNSET, WEAK_DIGEST_SUNSET, VerificationPolicy, judgment_time
from validators.signatures.qualified import accreditation_problem, profile_problems
from validators.signatures.revocation import (
    RevocationEvidence,
    RevocationMode,
    RevocationStatus,
    check_path_revocation,
)
from validators.signatures.timestamps import StampOutcome
from validators.trust import TrustStore

__all__ = [
    "VerificationPolicy",
    "verify_cms",
    "verify_document_timestamp",
    "describe_document",
    "amend",
    "unverifiable",
    "load_signature_file",
    "MAX_SIGNATURE_FILE_SIZE",
    "GOST_2001_SUNSET",
    "WEAK_DIGEST_SUNSET",
]

#: A signature file larger than this is refused unread (attached CMS is held in memory).
MAX_SIGNATURE_FILE_SIZE = 64 * 1024 * 1024

_GOST_2001_SIGNATURES = {"1.2.643.2.2.19", "1.2.643.2.2.3"}

_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
_OID_SIGNING_CERTIFICATE = "1.2.840.113549.1.9.16.2.12"
_OID_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
_OID_ALGORITHM_PROTECTION = "1.2.840.113549.1.9.52"


def describe_document(
    document: Path | FileDigests, extra: tuple[str, ...] = ()
) -> tuple[DocumentSummary, dict[str, bytes]]:
    """Size and SHA-256/Streebog-256 of a file, plus any extra digests (by OID).

    Accepts a :class:`FileDigests` so digests already started in the background (or
    computed for an earlier signature of the same document) are reused, not recomputed.
    """
    digests_of = document if isinstance(document, FileDigests) else FileDigests(document)
    digests = digests_of.get((SHA256, STREEBOG_256, *extra))
    summary = DocumentSummary(
        name=digests_of.path.name,
        size=digests_of.size,
        sha256=digests[SHA256].hex(),
        streebog256=digests[STREEBOG_256].hex() if STREEBOG_256 in digests else None,
    )
    return summary, digests


class _Steps:
    """Collects checks and the failures that decide the verdict."""

    def __init__(self) -> None:
        self.checks: list[SignatureCheck] = []
        self.failures: list[SubIndication] = []

    def ok(self, name: str, detail: str, *, warning: bool = False) -> None:
        self.checks.append(SignatureCheck(name, True, detail, warning))

    def fail(self, name: str, detail: str, sub: SubIndication | None) -> None:
        self.checks.append(SignatureCheck(name, False, detail))
        if sub is not None:
            self.failures.append(sub)

    def verdict(self) -> tuple[Indication, SubIndication | None]:
        for wanted in (Indication.TOTAL_FAILED, Indication.INDETERMINATE):
            for sub in self.failures:
                if sub.indication is wanted:
                    return wanted, sub
        return Indication.TOTAL_PASSED, None


def _find_signer_certificate(
    signer_info: cms.SignerInfo, candidates: list[x509.Certificate], store: TrustStore
) -> x509.Certificate | None:
    sid = signer_info["sid"]
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        serial = sid.chosen["serial_number"].native
        for cert in candidates:
            if cert.serial_number == serial and name_key(cert.issuer) == name_key(issuer):
                return cert
        return store.find_by_issuer_serial(issuer, serial)
    key_id = sid.chosen.native
    for cert in candidates:
        if cert.key_identifier == key_id:
            return cert
    return store.find_by_key_identifier(key_id)


def _signing_time(signer_info: cms.SignerInfo) -> datetime | None:
    values = attribute_values(signer_info["signed_attrs"], _OID_SIGNING_TIME)
    if len(values) != 1:
        return None
    value = values[0].native  # type: ignore[attr-defined]
    return value if isinstance(value, datetime) else None


def _check_signing_certificate_reference(
    signer_info: cms.SignerInfo, cert: x509.Certificate, steps: _Steps, *, required: bool = False
) -> None:
    """ESS signingCertificate(V2): the signed attributes name the certificate by hash.
    ``required`` for time-stamp tokens (RFC 3161, 2.4.1)."""
    attrs = signer_info["signed_attrs"]
    v2 = attribute_values(attrs, _OID_SIGNING_CERTIFICATE_V2)
    v1 = attribute_values(attrs, _OID_SIGNING_CERTIFICATE)
    if not v1 and not v2 and required:
        steps.fail(
            "signer.certificate_reference",
            "a time-stamp token must name its TSA certificate in a signingCertificate(V2) attribute (RFC 3161, 2.4.1)",
            SubIndication.FORMAT_FAILURE,
        )
        return
    if not v1 and not v2:
        steps.ok("signer.certificate_reference", "no signingCertificate attribute (not CAdES-BES); identified by issuer and serial")
        return
    if len(v2) > 1 or len(v1) > 1:
        # RFC 5035 / 2634: one attribute, one value. With two naming different certificates,
        # which one a reader believes decides whose signature it is.
        steps.fail(
            "signer.certificate_reference",
            f"{len(v2)} signingCertificateV2 and {len(v1)} signingCertificate values; one of each at most",
            SubIndication.FORMAT_FAILURE,
        )
        return
    # Both kinds present (CAdES allows it): each must name the certificate used.
    for value, v2_kind in [*((v, True) for v in v2), *((v, False) for v in v1)]:
        try:
            if v2_kind:
                first = tsp.SigningCertificateV2.load(value.dump())["certs"][0]  # type: ignore[attr-defined]
                algorithm_oid = first["hash_algorithm"]["algorithm"].dotted
            else:
                first = tsp.SigningCertificate.load(value.dump())["certs"][0]  # type: ignore[attr-defined]
                algorithm_oid = "1.3.14.3.2.26"
            expected = first["cert_hash"].native
            hasher = new_hash(digest_by_oid(algorithm_oid))
            hasher.update(cert.dump())
            issuer_serial = first["issuer_serial"]
        except (UnsupportedAlgorithm, ValueError, TypeError, KeyError, IndexError) as exc:
            steps.fail("signer.certificate_reference", f"unreadable signingCertificate attribute: {exc}", SubIndication.FORMAT_FAILURE)
            return
        if hasher.digest() != expected:
            steps.fail(
                "signer.certificate_reference",
                "the signed signingCertificate hash does not match the certificate used: "
                "the certificate was replaced or altered",
                SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
            )
            return
        if not isinstance(issuer_serial, core.Void) and issuer_serial["serial_number"].native != cert.serial_number:
            steps.fail("signer.certificate_reference", "signingCertificate names another serial number", SubIndication.NO_SIGNING_CERTIFICATE_FOUND)
            return
    steps.ok("signer.certificate_reference", "signingCertificate attribute matches the signer certificate")


def _check_signed_attributes(
    signer_info: cms.SignerInfo, parsed: ParsedSignedData, steps: _Steps
) -> bytes | None:
    """contentType and messageDigest (RFC 5652, 5.3); returns the signed messageDigest."""
    attrs = signer_info["signed_attrs"]
    content_types = attribute_values(attrs, _OID_CONTENT_TYPE)
    digests = attribute_values(attrs, _OID_MESSAGE_DIGEST)
    if len(digests) != 1 or len(content_types) != 1:
        steps.fail(
            "cms.signed_attributes",
            "signed attributes must hold exactly one contentType and one messageDigest "
            f"(found {len(content_types)} and {len(digests)})",
            SubIndication.FORMAT_FAILURE,
        )
        return None
    if content_types[0].dotted != parsed.content_type:  # type: ignore[attr-defined]
        steps.fail(
            "cms.signed_attributes",
            f"signed contentType {content_types[0].dotted} differs from eContentType {parsed.content_type}",  # type: ignore[attr-defined]
            SubIndication.FORMAT_FAILURE,
        )
        return None
    protection = attribute_values(attrs, _OID_ALGORITHM_PROTECTION)
    if protection:
        try:
            declared = protection[0]["digest_algorithm"]["algorithm"].dotted  # type: ignore[index]
        except (KeyError, TypeError, ValueError):
            declared = None
        if declared is not None and declared != signer_info["digest_algorithm"]["algorithm"].dotted:
            steps.fail("cms.signed_attributes", "CMSAlgorithmProtection names another digest algorithm", SubIndication.FORMAT_FAILURE)
            return None
    steps.ok("cms.signed_attributes", "contentType and messageDigest present")
    return bytes(digests[0].native)  # type: ignore[attr-defined]


def _check_content_type(actual: str, expected: str, steps: _Steps) -> None:
    """A document signature signs id-data: a signed TSTInfo (a time-stamp token) or any
    other signed structure is not a signature of the document, whatever its digest says."""
    if actual == expected:
        steps.ok("cms.content_type", f"eContentType {actual} ({_CONTENT_TYPE_NAMES.get(actual, 'other')})")
        return
    what = _CONTENT_TYPE_NAMES.get(actual, "not a document")
    steps.fail(
        "cms.content_type",
        f"eContentType is {actual} ({what}), not {expected} ({_CONTENT_TYPE_NAMES.get(expected, expected)}): "
        "the signed content is not a document",
        SubIndication.FORMAT_FAILURE,
    )


_CONTENT_TYPE_NAMES = {ID_DATA: "id-data", ID_CT_TSTINFO: "id-ct-TSTInfo, a time-stamp token"}


def _check_algorithm_policy(
    signature_oid: str, digest_oid: str, at: datetime, policy: VerificationPolicy, steps: _Steps
) -> None:
    """Algorithm sunsets are policy values (:class:`VerificationPolicy`), judged at the
    time of judgment: an algorithm retired before it makes the signature unacceptable."""
    if signature_oid in _GOST_2001_SIGNATURES and at >= policy.gost2001_sunset:
        steps.fail(
            "algorithm.policy",
            f"GOST R 34.10-2001 may not be used for signatures made after {policy.gost2001_sunset:%Y-%m-%d}",
            SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
        )
    elif digest_oid in policy.weak_digests and at >= policy.weak_digest_sunset:
        steps.fail(
            "algorithm.policy",
            f"digest {digest_by_oid(digest_oid).title} is too weak after {policy.weak_digest_sunset:%Y-%m-%d}",
            SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
        )
    else:
        steps.ok("algorithm.policy", "algorithms acceptable at the time of judgment")


@dataclass(frozen=True)
class _Context:
    """What every signer of one signature is verified against."""

    parsed: ParsedSignedData
    content_digests: dict[str, bytes] | None
    store: TrustStore
    policy: VerificationPolicy
    kind: str
    signature_file: str | None
    evidence: RevocationEvidence
    """Certificates and revocation data from outside the CMS (a PDF's DSS)."""
    econtent_type: str = ID_DATA
    """The eContentType this signature must carry (id-data; id-ct-TSTInfo for a PDF
    document time-stamp)."""
    budget: chains.PathBudget = field(default_factory=chains.PathBudget)
    """Path-building work left for this signature (all its signers share it)."""
    role: str = "signer"
    """``signer`` for a document signature; ``tsa`` for the signer of a time-stamp token
    (judged at its genTime, timeStamping EKU required, no qualified profile)."""
    proofs: tuple[TimestampSummary, ...] = ()
    """Valid PDF document time-stamps covering this signature (later revisions whose
    ByteRange includes its bytes): proofs of the moment besides its own time-stamps."""


@dataclass
class _Facts:
    """What one SignerInfo is, found without any policy or time of judgment.

    Integrity is a fact (the content type signed, the signed attributes, which certificate
    signed, whether the digests match and the signature value verifies): it is recorded
    as checks in ``integrity``. So are the certificate path that exists and what the
    signature time-stamps prove. :func:`_evaluate` then judges them against the policy.
    """

    signer_info: cms.SignerInfo
    digest_oid: str
    signature_oid: str
    signing_time: datetime | None
    carried: list[x509.Certificate]
    certificate: x509.Certificate | None
    integrity: _Steps = field(default_factory=_Steps)
    key_oid: str = ""
    effective_digest: str = ""
    complete: bool = False
    """False when gathering had to stop (no certificate, unknown algorithm)."""
    stamp: StampOutcome | None = None
    path: chains.CertificatePath | None = None


def _verify_signer(signer_info: cms.SignerInfo, ctx: _Context) -> SignatureReport:
    """Gather the facts of one signer, then evaluate them against the policy."""
    return _evaluate(_gather(signer_info, ctx), ctx)


def _gather(signer_info: cms.SignerInfo, ctx: _Context) -> _Facts:
    parsed = ctx.parsed
    carried = [*parsed.certificates, *certificate_values(signer_info), *ctx.evidence.certificates]
    facts = _Facts(
        signer_info=signer_info,
        digest_oid=signer_info["digest_algorithm"]["algorithm"].dotted,
        signature_oid=signer_info["signature_algorithm"]["algorithm"].dotted,
        signing_time=_signing_time(signer_info),
        carried=carried,
        certificate=_find_signer_certificate(signer_info, carried, ctx.store),
    )
    steps = facts.integrity
    if ctx.role == "signer":
        facts.stamp = timestamps.check_signature_timestamps(signer_info, ctx.policy, _token_verifier(signer_info, carried, ctx))

    # 1. Format: the signed content is a document (id-data), and signed attributes, when
    # present, bind content type and digest.
    _check_content_type(parsed.content_type, ctx.econtent_type, steps)
    signed_attrs = signed_attributes_der(signer_info)
    signed_digest = _check_signed_attributes(signer_info, parsed, steps) if signed_attrs else None
    if signed_attrs is None:
        steps.ok("cms.signed_attributes", "no signed attributes: the signature covers the content itself")

    # 2. Identification of the signing certificate.
    cert = facts.certificate
    if cert is None:
        steps.fail(
            "signer.certificate",
            "the signer certificate is neither in the signature nor in the trust store",
            SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
        )
        return facts
    steps.ok("signer.certificate", f"serial {cert.serial_number:X}, issued by {summary_of(cert).issuer}")
    if signed_attrs is not None or ctx.role == "tsa":
        _check_signing_certificate_reference(signer_info, cert, steps, required=ctx.role == "tsa")

    # 3. Cryptographic verification: content digest, then the signature value.
    facts.key_oid = key_algorithm_oid(cert.public_key)
    try:
        facts.effective_digest = signature_digest_oid(facts.signature_oid, facts.key_oid, facts.digest_oid)
    except UnsupportedAlgorithm as exc:
        steps.fail("signature.algorithm", str(exc), SubIndication.CRYPTO_CONSTRAINTS_FAILURE)
        return facts
    _check_content_digest(facts.effective_digest, ctx.content_digests, signed_attrs, signed_digest, steps)
    _check_signature_value(facts, cert, ctx.content_digests, signed_attrs, steps)

    # 4. The certificate path that exists (its judgment at a time comes later).
    facts.path = chains.build_path(cert, carried, ctx.store, ctx.budget)
    facts.complete = True
    return facts


def _check_content_digest(
    effective_digest: str,
    content_digests: dict[str, bytes] | None,
    signed_attrs: bytes | None,
    signed_digest: bytes | None,
    steps: _Steps,
) -> None:
    if content_digests is None:
        steps.fail(
            "content.digest",
            "detached signature and no signed document to check it against",
            SubIndication.SIGNED_DATA_NOT_FOUND,
        )
    elif effective_digest not in content_digests:
        steps.fail(
            "content.digest",
            f"digest {_digest_title(effective_digest)} of the content is not available"
            + (f": {gost.gost_support().problem}" if not gost.gost_support().available else ""),
            SubIndication.GENERIC,
        )
    elif signed_attrs is not None:
        if signed_digest is not None:
            if content_digests[effective_digest] == signed_digest:
                steps.ok("content.digest", f"{_digest_title(effective_digest)} of the document matches messageDigest")
            else:
                steps.fail(
                    "content.digest",
                    "the document differs from the signed one: its digest does not match messageDigest",
                    SubIndication.HASH_FAILURE,
                )
    else:
        steps.ok("content.digest", f"{_digest_title(effective_digest)} of the document computed")


def _check_signature_value(
    facts: _Facts,
    cert: x509.Certificate,
    content_digests: dict[str, bytes] | None,
    signed_attrs: bytes | None,
    steps: _Steps,
) -> None:
    effective_digest = facts.effective_digest
    if signed_attrs is not None:
        hasher = new_hash_or_none(effective_digest)
        tbs_digest = None
        if hasher is not None:
            hasher.update(signed_attrs)
            tbs_digest = hasher.digest()
    else:
        tbs_digest = content_digests.get(effective_digest) if content_digests else None
    if tbs_digest is not None:
        try:
            valid = verify_signature(
                cert.public_key,
                facts.signer_info["signature_algorithm"],
                effective_digest,
                tbs_digest,
                facts.signer_info["signature"].native,
            )
        except gost.GostUnavailable as exc:
            steps.fail("signature.value", str(exc), SubIndication.GENERIC)
        except gost.GostEngineError as exc:
            # The engine could not decide: no verdict, and certainly not a forgery.
            steps.fail("signature.value", str(exc), SubIndication.GENERIC)
        except UnsupportedAlgorithm as exc:
            steps.fail("signature.value", str(exc), SubIndication.CRYPTO_CONSTRAINTS_FAILURE)
        else:
            if valid:
                steps.ok("signature.value", f"{signature_algorithm_name(facts.signature_oid)} signature verifies with the signer's public key")
            else:
                steps.fail(
                    "signature.value",
                    "the signature value does not verify with the signer's public key "
                    "(signed attributes or signature altered, or another key)",
                    SubIndication.SIG_CRYPTO_FAILURE,
                )
    elif gost.gost_support().available or not digest_by_oid(effective_digest).is_gost:
        if content_digests is not None:
            steps.fail("signature.value", "signature value not checked", SubIndication.GENERIC)
    else:
        steps.fail("signature.value", gost.gost_support().problem or "GOST unavailable", SubIndication.GENERIC)


def _evaluate(facts: _Facts, ctx: _Context) -> SignatureReport:
    """Judge the facts against the policy: the time of judgment, algorithm sunsets, the
    path's validity, constraints and revocation at that time, and the qualified profile."""
    policy, store = ctx.policy, ctx.store
    steps = facts.integrity
    proof = _earliest_proof(facts.stamp, ctx.proofs)
    at, time_source, proven = judgment_time(
        policy,
        proof.gen_time if proof else None,
        ctx.role,
        "the signature time-stamp" if proof is None or proof.kind == "signature" else "a document time-stamp covering the signature",
    )
    cert, path = facts.certificate, facts.path
    shown_stamp = facts.stamp.summary if facts.stamp is not None and facts.stamp.failure is not None else proof

    def report(qualified: bool = False) -> SignatureReport:
        indication, sub = steps.verdict()
        return SignatureReport(
            indication=indication,
            sub_indication=sub,
            qualified=qualified and indication is Indication.TOTAL_PASSED,
            signer=identity_of(cert) if cert is not None else None,
            certificate=summary_of(cert) if cert is not None else None,
            signing_time=facts.signing_time,
            digest_algorithm=_digest_title(facts.digest_oid),
            signature_algorithm=signature_algorithm_name(facts.signature_oid),
            checks=tuple(steps.checks),
            kind=ctx.kind,
            signature_file=ctx.signature_file,
            validation_time=at,
            timestamp=shown_stamp,
        )

    if not facts.complete or cert is None or path is None:
        return report()
    _check_algorithm_policy(facts.signature_oid, facts.effective_digest, at, policy, steps)

    # The moment of signing: a signature time-stamp proves it; signingTime only claims.
    stamp = facts.stamp
    if stamp is not None:
        if stamp.failure is None:
            steps.ok(stamp.check.name, stamp.check.detail)
        else:
            steps.fail(stamp.check.name, stamp.check.detail, stamp.failure)
    steps.ok("validation.time", f"certificates judged at {at:%Y-%m-%d %H:%M:%S}Z ({time_source})")
    if ctx.role == "signer" and facts.signing_time is not None:
        _check_claimed_signing_time(facts.signing_time, policy, steps)

    # X.509 validation at the time of judgment.
    if not path.found:
        steps.fail("chain.path", path.problem or "no path to a trust anchor", SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
        return report()
    steps.ok("chain.path", f"path to a trust anchor: {path.describe()} (every certificate signature verified)")

    validity = chains.validity_problems(path, at)
    if validity:
        for _problem_cert, problem_kind, detail in validity:
            sub = SubIndication.NOT_YET_VALID if problem_kind == "not_yet_valid" else SubIndication.OUT_OF_BOUNDS_NO_POE
            steps.fail("chain.validity", detail, sub)
    else:
        steps.ok("chain.validity", "every certificate of the path was valid at the validation time")

    constraints = chains.ca_constraint_problems(path, store)
    if constraints:
        for detail in constraints:
            steps.fail("chain.constraints", detail, SubIndication.CHAIN_CONSTRAINTS_FAILURE)
    else:
        steps.ok("chain.constraints", "CA certificates are CAs allowed to issue (basicConstraints, keyUsage)")

    key_usage_problem = chains.signer_key_usage_problem(cert)
    if key_usage_problem:
        steps.fail("signer.key_usage", key_usage_problem, SubIndication.CHAIN_CONSTRAINTS_FAILURE)
    else:
        steps.ok("signer.key_usage", "the certificate allows signing (digitalSignature/nonRepudiation)")

    if ctx.role == "tsa":
        problem = timestamps.tsa_key_usage_problem(cert)
        if problem:
            steps.fail("tsa.key_usage", problem, SubIndication.CHAIN_CONSTRAINTS_FAILURE)
        else:
            steps.ok("tsa.key_usage", "extendedKeyUsage: critical, id-kp-timeStamping only")

    _check_revocation(facts.signer_info, ctx, path.certificates, facts.carried, at, proven, steps)
    if ctx.role == "tsa":
        return report(False)
    return report(_check_qualified(facts, path, store, at, steps))


def _earliest_proof(stamp: StampOutcome | None, proofs: tuple[TimestampSummary, ...]) -> TimestampSummary | None:
    """The earliest valid proof of the moment of signing: the signature's own time-stamp
    or a covering document time-stamp (only valid ones prove anything)."""
    candidates = [p for p in proofs if p.valid]
    if stamp is not None and stamp.proven_time is not None and stamp.summary is not None:
        candidates.append(stamp.summary)
    return min(candidates, key=lambda p: p.gen_time, default=None)


def _check_qualified(facts: _Facts, path: chains.CertificatePath, store: TrustStore, at: datetime, steps: _Steps) -> bool:
    """Qualified profile (FSB Order 795), accreditation of the issuing CA, GOST 2012."""
    assert facts.certificate is not None  # noqa: S101 - narrowing: _gather stops without a certificate
    qualified = True
    problems = profile_problems(facts.certificate)
    if problems:
        qualified = False
        steps.fail("qualified.profile", "not a qualified certificate: " + "; ".join(problems), None)
    else:
        steps.ok("qualified.profile", "qualified certificate profile (FSB Order 795) present")
    if len(path.certificates) > 1:
        accreditation = accreditation_problem(path.certificates[1], store.tsl, at)
        if accreditation:
            qualified = False
            steps.fail("qualified.accreditation", accreditation, None)
        elif store.tsl is not None:
            steps.ok("qualified.accreditation", "the issuing CA was accredited at the validation time (tsl.xml)")
        else:
            steps.ok("qualified.accreditation", "accreditation of the issuing CA not checked: no accredited-CA list (tsl.xml) configured", warning=True)
    else:
        qualified = False
        steps.fail("qualified.accreditation", "the signer certificate is itself a trust anchor, not issued by an accredited CA", None)
    if facts.signature_oid in _GOST_2001_SIGNATURES or not facts.key_oid.startswith("1.2.643."):
        qualified = False
        steps.fail("qualified.algorithm", "a qualified signature uses GOST R 34.10-2012", None)
    return qualified


def _check_claimed_signing_time(signing_time: datetime, policy: VerificationPolicy, steps: _Steps) -> None:
    """signingTime is shown, never used; a claim later than receipt means a wrong clock
    (or a signature made after the package was sent): a warning."""
    if policy.at is not None:
        steps.ok("signing_time.claimed", f"claimed by the signer: {signing_time:%Y-%m-%d %H:%M:%S}Z (not used as the time of judgment)")
        return
    reference = policy.reference()
    if signing_time > reference + policy.signing_time_skew:
        steps.ok(
            "signing_time.claimed",
            f"the claimed signing time {signing_time:%Y-%m-%d %H:%M:%S}Z is later than "
            f"{'the receipt of the package' if policy.reference_time else 'the present time'} "
            f"({reference:%Y-%m-%d %H:%M:%S}Z): the signer's clock is wrong",
            warning=True,
        )
    else:
        steps.ok("signing_time.claimed", f"claimed by the signer: {signing_time:%Y-%m-%d %H:%M:%S}Z (not used as the time of judgment)")


def _token_verifier(
    signer_info: cms.SignerInfo, carried: list[x509.Certificate], ctx: _Context
) -> timestamps.TokenVerifier:
    """How a time-stamp token's own signer is verified: like any signer, at genTime, as a
    TSA (timeStamping EKU, no qualified profile), with this signature's validation data
    (its certificates and CAdES revocationValues carry the TSA's too) and path budget."""

    def verify_token_signer(parsed: ParsedSignedData, gen_time: datetime) -> SignatureReport:
        embedded_crls, embedded_ocsp = revocation_values(signer_info)
        evidence = RevocationEvidence(
            crls=(*embedded_crls, *ctx.parsed.crls, *ctx.evidence.crls),
            ocsp_responses=(*embedded_ocsp, *ctx.evidence.ocsp_responses),
            certificates=tuple(carried),
        )
        token_ctx = _Context(
            parsed=parsed,
            content_digests=_digest_bytes(parsed.content or b"", _wanted_digests(parsed)),
            store=ctx.store,
            policy=dataclasses.replace(ctx.policy, at=gen_time),
            kind="timestamp",
            signature_file=ctx.signature_file,
            evidence=evidence,
            econtent_type=ID_CT_TSTINFO,
            budget=ctx.budget,
            role="tsa",
        )
        return _verify_signer_safely(parsed.signer_infos[0], token_ctx)

    return verify_token_signer


def _wanted_digests(parsed: ParsedSignedData) -> list[str]:
    """The content digests the signers of ``parsed`` need (declared and implied)."""
    wanted: list[str] = []
    for signer_info in parsed.signer_infos:
        declared = signer_info["digest_algorithm"]["algorithm"].dotted
        wanted.append(declared)
        try:
            wanted.append(signature_digest_oid(signer_info["signature_algorithm"]["algorithm"].dotted, "", declared))
        except UnsupportedAlgorithm:
            continue
    return wanted


def new_hash_or_none(oid: str) -> hashlib._Hash | None:
    try:
        return new_hash(digest_by_oid(oid))
    except (gost.GostUnavailable, UnsupportedAlgorithm):
        return None


def _check_revocation(
    signer_info: cms.SignerInfo,
    ctx: _Context,
    path: tuple[x509.Certificate, ...],
    carried: list[x509.Certificate],
    at: datetime,
    proven: bool,
    steps: _Steps,
) -> None:
    """Revocation of every certificate of the path at the time of judgment ``at``.

    Revoked at or before ``at``: REVOKED. Revoked after it: no effect when ``at`` is a
    proven moment (a valid signature time-stamp, the package's receipt); undecided
    (REVOKED_NO_POE) when it is only assumed (``--at``, a token's own genTime).
    """
    policy, store = ctx.policy, ctx.store
    if policy.revocation is RevocationMode.OFF:
        steps.ok("chain.revocation", "revocation not checked (--revocation off)", warning=True)
        return
    embedded_crls, embedded_ocsp = revocation_values(signer_info)
    evidence = RevocationEvidence(
        crls=(*embedded_crls, *ctx.parsed.crls, *ctx.evidence.crls),
        ocsp_responses=(*embedded_ocsp, *ctx.evidence.ocsp_responses),
        certificates=tuple(carried),
    )
    anchors = {fingerprint(c) for c in path if store.is_anchor(c)}
    statuses = check_path_revocation(path, anchors, store.crls, evidence, at, policy.online, now=policy.clock())
    signer_fp = fingerprint(path[0])
    for status in statuses:
        is_signer = fingerprint(status.certificate) == signer_fp
        if status.status is RevocationStatus.GOOD:
            steps.ok("chain.revocation", status.detail)
        elif status.status is RevocationStatus.REVOKED:
            assert status.revoked_at is not None  # noqa: S101 - a REVOKED status always carries its date
            if status.revoked_at <= at:
                steps.fail("chain.revocation", status.detail, SubIndication.REVOKED)
            elif proven:
                steps.ok(
                    "chain.revocation",
                    status.detail + f"; revoked after the proven moment {at:%Y-%m-%d %H:%M:%S}Z, "
                    "which does not invalidate the signature",
                )
            else:
                sub = SubIndication.REVOKED_NO_POE if is_signer else SubIndication.REVOKED_CA_NO_POE
                steps.fail(
                    "chain.revocation",
                    status.detail + f"; revoked after {at:%Y-%m-%d %H:%M:%S}Z, but nothing proves the signature existed before",
                    sub,
                )
        elif policy.revocation is RevocationMode.SOFT:
            steps.ok("chain.revocation", "revocation status unknown, accepted (--revocation soft): " + status.detail, warning=True)
        else:
            steps.fail("chain.revocation", "revocation status unknown: " + status.detail, SubIndication.TRY_LATER)


def _digest_title(oid: str) -> str:
    try:
        return digest_by_oid(oid).title
    except UnsupportedAlgorithm:
        return oid


def verify_cms(
    signature_bytes: bytes,
    store: TrustStore,
    policy: VerificationPolicy,
    *,
    document: Path | FileDigests | None = None,
    signature_file: str | None = None,
    evidence: RevocationEvidence = RevocationEvidence(),
    econtent_type: str = ID_DATA,
    proofs: tuple[TimestampSummary, ...] = (),
) -> VerificationReport:
    """Verify every signer of a CMS signature, detached (``document`` given) or attached.

    ``econtent_type`` is the content type the signature must sign: id-data for every
    document signature; only a PDF document time-stamp passes id-ct-TSTInfo.
    ``proofs``: valid PDF document time-stamps covering this signature (the caller has
    validated them with :func:`verify_document_timestamp` and checked the coverage).

    Never raises for bad input: an unreadable signature gives a report with
    ``sub_indication=FORMAT_FAILURE`` and the reason in ``problems``.
    """
    summary = None
    try:
        parsed = parse_signed_data(signature_bytes)
    except CmsFormatError as exc:
        if document is not None:
            summary, _ = describe_document(document)
        return VerificationReport(summary, (), SubIndication.FORMAT_FAILURE, (f"{signature_file or 'signature'}: {exc}",))

    wanted = _wanted_digests(parsed)
    problems: list[str] = []
    content_digests: dict[str, bytes] | None = None
    if isinstance(document, FileDigests) and document.ranges is not None:
        # A PDF ByteRange: only the signers' digests; the file is described by the caller.
        content_digests = document.get(wanted)
    elif document is not None:
        summary, content_digests = describe_document(document, tuple(wanted))
    differs_from_document = False
    if parsed.content is not None:
        attached = _digest_bytes(parsed.content, wanted)
        if content_digests is not None and attached.get(SHA256) != content_digests.get(SHA256):
            differs_from_document = True
            problems.append("the signature holds its own content, which differs from the given document")
        content_digests = attached
    kind = "attached" if parsed.content is not None else "detached"
    ctx = _Context(parsed, content_digests, store, policy, kind, signature_file, evidence, econtent_type, proofs=proofs)
    reports = tuple(_verify_signer_safely(si, ctx) for si in parsed.signer_infos)
    if differs_from_document:
        reports = tuple(_with_content_mismatch(r) for r in reports)
    return VerificationReport(summary, reports, None, tuple(problems))


def verify_document_timestamp(
    token: bytes,
    store: TrustStore,
    policy: VerificationPolicy,
    covered: FileDigests,
    *,
    name: str | None = None,
    evidence: RevocationEvidence = RevocationEvidence(),
) -> SignatureReport:
    """Validate a PDF document time-stamp (/DocTimeStamp) as rigorously as a signature
    time-stamp (:func:`timestamps.check_document_timestamp`): messageImprint over the
    ByteRange (``covered``), the TSA's CMS signature, its path to a trust anchor, the
    critical timeStamping-only EKU, validity and revocation at genTime. Never raises for
    bad input. The report is the TSA signer's (kind ``document_timestamp``) with the
    ``timestamp.document`` check; ``timestamp`` and ``validation_time`` carry genTime.
    """
    verified: list[SignatureReport] = []

    def verify_token_signer(parsed: ParsedSignedData, gen_time: datetime) -> SignatureReport:
        token_ctx = _Context(
            parsed=parsed,
            content_digests=_digest_bytes(parsed.content or b"", _wanted_digests(parsed)),
            store=store,
            policy=dataclasses.replace(policy, at=gen_time),
            kind="document_timestamp",
            signature_file=name,
            evidence=evidence,
            econtent_type=ID_CT_TSTINFO,
            role="tsa",
        )
        result = _verify_signer_safely(parsed.signer_infos[0], token_ctx)
        verified.append(result)
        return result

    outcome = timestamps.check_document_timestamp(token, lambda oid: covered.get([oid]).get(oid), policy, verify_token_signer)
    summary = outcome.summary
    if verified:
        report = amend(verified[0], outcome.check, outcome.failure)
    else:
        report = unverifiable(outcome.failure or SubIndication.GENERIC, outcome.check, "document_timestamp", name)
    gen_time = summary.gen_time if summary is not None else None
    return dataclasses.replace(
        report,
        kind="document_timestamp",
        signature_file=name,
        qualified=False,
        signing_time=gen_time,
        validation_time=gen_time,
        timestamp=summary,
    )


def _verify_signer_safely(signer_info: cms.SignerInfo, ctx: _Context) -> SignatureReport:
    """asn1crypto parses lazily: a malformed part deep inside a SignerInfo or certificate
    surfaces only when read. That is a format failure of this signer, not a crash."""
    try:
        return _verify_signer(signer_info, ctx)
    except gost.GostUnavailable as exc:
        return unverifiable(SubIndication.GENERIC, SignatureCheck("gost.support", False, str(exc)), ctx.kind, ctx.signature_file)
    except ASN1_ERRORS as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        check = SignatureCheck("cms.format", False, f"malformed signer data: {detail}")
        return unverifiable(SubIndication.FORMAT_FAILURE, check, ctx.kind, ctx.signature_file)


def unverifiable(sub: SubIndication, check: SignatureCheck, kind: str, signature_file: str | None) -> SignatureReport:
    """A report for a signer that could not be verified at all (only the reason is known)."""
    return SignatureReport(
        indication=sub.indication,
        sub_indication=sub,
        qualified=False,
        signer=None,
        certificate=None,
        signing_time=None,
        digest_algorithm=None,
        signature_algorithm=None,
        checks=(check,),
        kind=kind,
        signature_file=signature_file,
    )


def amend(report: SignatureReport, check: SignatureCheck, failure: SubIndication | None = None) -> SignatureReport:
    """Add a check found outside the CMS (PDF coverage, content mismatch) to a report.

    A failing check with a TOTAL_FAILED sub-indication overrides a passed or
    indeterminate verdict; a TOTAL_FAILED verdict already there is kept.
    """
    checks = (*report.checks, check)
    if failure is None or report.indication is Indication.TOTAL_FAILED:
        return dataclasses.replace(report, checks=checks)
    if failure.indication is Indication.INDETERMINATE and report.indication is Indication.INDETERMINATE:
        return dataclasses.replace(report, checks=checks)
    return dataclasses.replace(
        report, indication=failure.indication, sub_indication=failure, qualified=False, checks=checks
    )


def _with_content_mismatch(report: SignatureReport) -> SignatureReport:
    """The signature may be valid over its own content, but that is not the document given."""
    check = SignatureCheck("content.matches_document", False, "the attached content differs from the given document")
    return amend(report, check, SubIndication.HASH_FAILURE)


def _digest_bytes(content: bytes, oids: list[str]) -> dict[str, bytes]:
    digests: dict[str, bytes] = {}
    for oid in dict.fromkeys([SHA256, *oids]):
        hasher = new_hash_or_none(oid)
        if hasher is not None:
            hasher.update(content)
            digests[oid] = hasher.digest()
    return digests


def load_signature_file(path: Path) -> bytes:
    """Read a signature file, refusing absurd sizes before reading (never a MemoryError)."""
    size = os.stat(path).st_size
    if size > MAX_SIGNATURE_FILE_SIZE:
        raise CmsFormatError(f"signature file is {size} bytes, more than {MAX_SIGNATURE_FILE_SIZE}")
    return path.read_bytes()

