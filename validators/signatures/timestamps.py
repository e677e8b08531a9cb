"""Signature time-stamps (CAdES-T, RFC 3161): the only proof of the moment of signing.

A ``signatureTimeStampToken`` unsigned attribute holds a CMS SignedData whose content is
a TSTInfo; its messageImprint is the digest of the SignerInfo's signature value. This
module reads tokens and their TSTInfo and checks what is particular to time-stamps (the
imprint, the TSA certificate's extended key usage); the token's own CMS signature, the
TSA's path, validity and revocation are checked by the same code as any signer
(:mod:`validators.signatures.verify`), at the token's genTime.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, tsp, x509

from validators.signatures.cms import ASN1_ERRORS, attribute_values
from validators.signatures.crypto import UnsupportedAlgorithm, digest_by_oid, new_hash

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
]

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
