"""Signature time-stamps (CAdES-T, RFC 3161): the only proof of the moment of signing.

A ``signatureTimeStampToken`` unsigned attribute holds a CMS SignedData whose content is
a TSTInfo; its messageImprint is the digest of the SignerInfo's signature value. This
module reads tokens and their TSTInfo and checks what is particular to time-stamps (the
imprint, the TSA certificate's extended key usage); the token's own CMS signature, the
TSA's path, validity and revocation are checked by the same code as any signer
(:mod:`validators.signatures.verify`, passed in as a :data:`TokenVerifier`), at the
token's genTime. A token that does not validate is a failing ``timestamp.signature``
check, never a silent fallback to the signer's claimed signingTime.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import cms, tsp, x509

from validators.signatures.cms import (
    ASN1_ERRORS,
    ID_CT_TSTINFO,
    CmsFormatError,
    ParsedSignedData,
    attribute_values,
    parse_signed_data,
)
from validators.signatures.crypto import UnsupportedAlgorithm, digest_by_oid, new_hash
from validators.signatures.model import SignatureCheck, SignatureReport, SubIndication, TimestampSummary
from validators.signatures.policy import VerificationPolicy

__all__ = [
    "OID_SIGNATURE_TIME_STAMP",
    "OID_TIME_STAMPING",
    "MAX_TOKENS",
    "TstInfo",
    "TimestampFormatError",
    "signature_timestamp_tokens",
    "read_tstinfo",
    "imprint_problem",
    "tsa_key_usage_problem",
    "StampOutcome",
    "TokenVerifier",
    "check_signature_timestamps",
    "check_document_timestamp",
]

#: Verifies the single signer of a token's SignedData as a TSA at the given genTime.
TokenVerifier = Callable[[ParsedSignedData, datetime], SignatureReport]

OID_SIGNATURE_TIME_STAMP = "1.2.840.113549.1.9.16.2.14"
OID_TIME_STAMPING = "1.3.6.1.5.5.7.3.8"
_OID_EXTENDED_KEY_USAGE = "2.5.29.37"
#: More signature time-stamps than this on one SignerInfo are refused (each costs a
#: CMS verification and a path); real signatures carry one.
MAX_TOKENS = 4


class TimestampFormatError(ValueError):
    """A token or its TSTInfo cannot be read."""


@dataclass(frozen=True, slots=True)
class TstInfo:
    """What a time-stamp says (RFC 3161, 2.4.2)."""

    gen_time: datetime
    imprint_algorithm: str
    """OID of the messageImprint digest."""
    imprint: bytes
    serial: int
    policy: str


def signature_timestamp_tokens(signer_info: cms.SignerInfo) -> list[bytes]:
    """DER of every signatureTimeStampToken of a SignerInfo (unsigned attributes)."""
    tokens = []
    for value in attribute_values(signer_info["unsigned_attrs"], OID_SIGNATURE_TIME_STAMP):
        try:
            tokens.append(value.dump())  # type: ignore[attr-defined]
        except ASN1_ERRORS:
            tokens.append(b"")
    return tokens


def read_tstinfo(content: bytes | None) -> TstInfo:
    """Parse the TSTInfo carried by a token; raises :class:`TimestampFormatError`."""
    if not content:
        raise TimestampFormatError("the time-stamp token carries no TSTInfo")
    try:
        info = tsp.TSTInfo.load(content)
        imprint = info["message_imprint"]
        gen_time = info["gen_time"].native
        result = TstInfo(
            gen_time=gen_time,
            imprint_algorithm=imprint["hash_algorithm"]["algorithm"].dotted,
            imprint=bytes(imprint["hashed_message"].native),
            serial=int(info["serial_number"].native),
            policy=info["policy"].dotted,
        )
    except ASN1_ERRORS as exc:
        raise TimestampFormatError(f"unreadable TSTInfo: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    if not isinstance(gen_time, datetime) or gen_time.tzinfo is None:
        raise TimestampFormatError("TSTInfo genTime is not a UTC time")
    return result


def imprint_problem(tst: TstInfo, stamped: bytes) -> str | None:
    """None when the messageImprint is the digest of ``stamped`` (the signature value)."""
    try:
        hasher = new_hash(digest_by_oid(tst.imprint_algorithm))
    except UnsupportedAlgorithm as exc:
        return f"messageImprint digest {tst.imprint_algorithm}: {exc}"
    hasher.update(stamped)
    if hasher.digest() != tst.imprint:
        return "the messageImprint is not the digest of this signature's value: the time-stamp covers other bytes"
    return None


def tsa_key_usage_problem(cert: x509.Certificate) -> str | None:
    """RFC 3161, 2.3: a TSA certificate has one extendedKeyUsage, critical, timeStamping only."""
    extensions = [e for e in cert["tbs_certificate"]["extensions"] if e["extn_id"].dotted == _OID_EXTENDED_KEY_USAGE]
    if len(extensions) != 1:
        return "the TSA certificate has no extendedKeyUsage extension (id-kp-timeStamping required)"
    extension = extensions[0]
    purposes = [p.dotted for p in cert.extended_key_usage_value or ()]
    if purposes != [OID_TIME_STAMPING]:
        return f"the TSA certificate's extendedKeyUsage is {', '.join(purposes) or 'empty'}, not id-kp-timeStamping alone"
    if not extension["critical"].native:
        return "the TSA certificate's extendedKeyUsage (timeStamping) is not marked critical"
    return None


@dataclass(frozen=True)
class StampOutcome:
    """What the signature time-stamps of one signer prove."""

    summary: TimestampSummary | None
    check: SignatureCheck
    """``timestamp.signature``, passed or failed (with the reason)."""
    failure: SubIndication | None

    @property
    def proven_time(self) -> datetime | None:
        """genTime of a valid token: the proven moment of signing."""
        return self.summary.gen_time if self.summary is not None and self.summary.valid else None


_CHECK = "timestamp.signature"


def check_signature_timestamps(
    signer_info: cms.SignerInfo, policy: VerificationPolicy, verify_token_signer: TokenVerifier
) -> StampOutcome | None:
    """Validate every signatureTimeStampToken of ``signer_info`` (None when it has none).

    Any token that does not validate makes the outcome a failure; otherwise the earliest
    genTime is the proven moment.
    """
    tokens = signature_timestamp_tokens(signer_info)
    if not tokens:
        return None
    if len(tokens) > MAX_TOKENS:
        check = SignatureCheck(_CHECK, False, f"{len(tokens)} signature time-stamps; at most {MAX_TOKENS} are read")
        return StampOutcome(None, check, SubIndication.FORMAT_FAILURE)
    stamped = bytes(signer_info["signature"].native)
    outcomes = [_verify_token(token, stamped, policy, verify_token_signer) for token in tokens]
    failed = [o for o in outcomes if o.failure is not None]
    if failed:
        return failed[0]
    return min(outcomes, key=lambda o: o.proven_time or datetime.max.replace(tzinfo=UTC))


def check_document_timestamp(
    token: bytes,
    covered_digest: Callable[[str], bytes | None],
    policy: VerificationPolicy,
    verify_token_signer: TokenVerifier,
) -> StampOutcome:
    """Validate a PDF document time-stamp (/DocTimeStamp, ETSI.RFC3161) exactly as a
    signature time-stamp, except that its messageImprint covers the ByteRange:
    ``covered_digest(oid)`` gives the ByteRange digest with that algorithm (None when it
    cannot be computed). The check is ``timestamp.document``."""

    def imprint(tst: TstInfo) -> str | None:
        try:
            digest_by_oid(tst.imprint_algorithm)
        except UnsupportedAlgorithm as exc:
            return f"messageImprint digest {tst.imprint_algorithm}: {exc}"
        actual = covered_digest(tst.imprint_algorithm)
        if actual is None:
            return f"the ByteRange digest {tst.imprint_algorithm} cannot be computed"
        if actual != tst.imprint:
            return "the messageImprint is not the digest of the ByteRange: the time-stamp covers other bytes"
        return None

    return _verify_token(token, imprint, policy, verify_token_signer, _DOCUMENT_CHECK, "document time-stamp", "the ByteRange")


_DOCUMENT_CHECK = "timestamp.document"


def _verify_token(
    token: bytes,
    imprint: bytes | Callable[[TstInfo], str | None],
    policy: VerificationPolicy,
    verify_token_signer: TokenVerifier,
    check_name: str = _CHECK,
    what: str = "signature time-stamp",
    over: str = "the signature value",
) -> StampOutcome:
    """One time-stamp token: TSTInfo, messageImprint (over the signature value given as
    bytes, or judged by a callable), and the token's CMS signature verified like a
    signer's, at genTime, with the TSA rules."""

    def failed(detail: str, sub: SubIndication, summary: TimestampSummary | None = None) -> StampOutcome:
        return StampOutcome(summary, SignatureCheck(check_name, False, f"the {what} does not validate: " + detail), sub)

    try:
        parsed = parse_signed_data(token)
    except CmsFormatError as exc:
        return failed(f"unreadable token: {exc}", SubIndication.FORMAT_FAILURE)
    if parsed.content_type != ID_CT_TSTINFO:
        return failed(f"the token's eContentType is {parsed.content_type}, not id-ct-TSTInfo", SubIndication.FORMAT_FAILURE)
    if len(parsed.signer_infos) != 1:
        return failed(f"the token has {len(parsed.signer_infos)} signers, not one", SubIndication.FORMAT_FAILURE)
    try:
        tst = read_tstinfo(parsed.content)
    except TimestampFormatError as exc:
        return failed(str(exc), SubIndication.FORMAT_FAILURE)
    kind = "document" if check_name == _DOCUMENT_CHECK else "signature"
    unchecked = TimestampSummary(tst.gen_time, None, False, kind)
    problem = imprint(tst) if callable(imprint) else imprint_problem(tst, imprint)
    if problem:
        return failed(problem, SubIndication.HASH_FAILURE, unchecked)
    if tst.imprint_algorithm in policy.weak_digests and tst.gen_time >= policy.weak_digest_sunset:
        # The imprint is the binding to this signature: a collision-prone digest there
        # lets a token over other bytes stand for it, whatever the token's own CMS uses.
        weak = digest_by_oid(tst.imprint_algorithm).title
        return failed(
            f"messageImprint digest {weak} is too weak after {policy.weak_digest_sunset:%Y-%m-%d}",
            SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
            unchecked,
        )
    reference = policy.reference()
    if policy.at is None and tst.gen_time > reference + policy.signing_time_skew:
        return failed(f"genTime {tst.gen_time:%Y-%m-%d %H:%M:%S}Z is later than {reference:%Y-%m-%d %H:%M:%S}Z", SubIndication.GENERIC, unchecked)
    result = verify_token_signer(parsed, tst.gen_time)
    tsa = None
    if result.signer is not None:
        tsa = result.signer.common_name or result.signer.organization
    if not result.passed:
        detail = "; ".join(f"{c.name}: {c.detail}" for c in result.failed_checks()) or "not verified"
        return failed(f"TSA '{tsa or '?'}': {detail}", result.sub_indication or SubIndication.GENERIC, TimestampSummary(tst.gen_time, tsa, False, kind))
    check = SignatureCheck(
        check_name,
        True,
        f"{what} by '{tsa}' at {tst.gen_time:%Y-%m-%d %H:%M:%S}Z: messageImprint over {over}, TSA signature, "
        "path to a trust anchor, critical timeStamping EKU, TSA certificate valid and not revoked at genTime",
    )
    return StampOutcome(TimestampSummary(tst.gen_time, tsa, True, kind), check, None)
