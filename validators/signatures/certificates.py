"""Reading certificates and CRLs, naming signers, and checking one signed object's signature."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
from collections import OrderedDict
from functools import lru_cache

from asn1crypto import algos, crl, keys, pem, x509

from validators import gost
from validators.signatures.crypto import (
    UnsupportedAlgorithm,
    digest_by_oid,
    key_algorithm_oid,
    new_hash,
    public_key_bits,
    signature_digest_oid,
    verify_signature,
)
from validators.signatures.model import CertificateSummary, SignerIdentity

__all__ = [
    "OID_OGRN",
    "OID_OGRNIP",
    "OID_SNILS",
    "OID_INN",
    "OID_INN_LE",
    "der_blocks",
    "name_key",
    "certificate_from_der",
    "load_certificates",
    "load_crls",
    "fingerprint",
    "format_name",
    "identity_of",
    "summary_of",
    "verify_signed_by",
    "SignedObjectCheck",
    "init_asn1",
]

OID_OGRN = "1.2.643.100.1"
OID_OGRNIP = "1.2.643.100.5"
OID_SNILS = "1.2.643.100.3"
OID_INN = "1.2.643.3.131.1.1"
OID_INN_LE = "1.2.643.100.4"

_BASE64_TEXT = re.compile(rb"^[A-Za-z0-9+/=\s]+$")


def init_asn1() -> None:
    """Adjust asn1crypto's certificate spec for the verifier; idempotent, process-wide.

    Called by the application (``validators.init()``: the command line, the service's app
    factory, the test suite), never on import: importing the validators leaves asn1crypto
    as the importer had it.

    Real OCSP responder certificates of an accredited CA («AC OCSP SERVER 2024», АО
    «Аналитический Центр») encode id-pkix-ocsp-nocheck's NULL as the bytes 00 05. OpenSSL
    accepts them; asn1crypto parses that extension's value eagerly and rejects the whole
    certificate, which then hid every OCSP response the responder signed. The verifier
    does not interpret ocsp-nocheck, so its value is left unparsed, like any unknown
    extension (no spec for it, and no Certificate attribute that would make asn1crypto
    parse it).
    """
    x509.Extension._oid_specs.pop("ocsp_no_check", None)
    if "_ocsp_no_check_value" in vars(x509.Certificate):
        del x509.Certificate._ocsp_no_check_value


def der_blocks(data: bytes, pem_types: tuple[str, ...] | None = None) -> list[bytes]:
    """DER bodies of a file that may be DER, PEM (several blocks) or bare base64."""
    if data[:1] == b"\x30":
        # Binary DER/BER: never strip, the last content octet may well be 0x20 or 0x0a.
        return [data]
    # Text saved again in Notepad starts with a UTF-8 BOM (the type sniffer allows it too).
    stripped = data.removeprefix(b"\xef\xbb\xbf").strip()
    if pem.detect(stripped):
        blocks = []
        try:
            for type_name, _headers, der in pem.unarmor(stripped, multiple=True):
                if pem_types is None or type_name in pem_types:
                    blocks.append(der)
        except (ValueError, binascii.Error):
            return []
        return blocks
    if stripped and _BASE64_TEXT.match(stripped):
        try:
            return [base64.b64decode(b"".join(stripped.split()), validate=True)]
        except (binascii.Error, ValueError):
            return []
    return []


#: Parsed certificates shared between signatures, keyed by the SHA-256 of their DER (never
#: by the DER itself). Certificates larger than the limit are parsed each time and never
#: kept (real ones are 1-3 KB): at most 512 x 16 KiB of certificates stay in memory,
#: whatever hostile signatures carry.
_MAX_CACHED_CERTIFICATE = 16 * 1024
_CERTIFICATE_CACHE_SIZE = 512
_certificates: OrderedDict[bytes, x509.Certificate] = OrderedDict()
_certificates_lock = threading.Lock()


def certificate_from_der(der: bytes) -> x509.Certificate:
    """A fully parsed certificate, shared between signatures that carry the same one.

    Members sign with a handful of certificates; parsing each anew for every document
    was the largest cost of verifying small files. Raises ValueError when malformed.
    """
    if len(der) > _MAX_CACHED_CERTIFICATE:
        return _parse_certificate(der)
    key = hashlib.sha256(der).digest()
    with _certificates_lock:
        cached = _certificates.get(key)
        if cached is not None:
            _certificates.move_to_end(key)
            return cached
    cert = _parse_certificate(der)  # a malformed one raises and is not kept
    with _certificates_lock:
        _certificates[key] = cert
        while len(_certificates) > _CERTIFICATE_CACHE_SIZE:
            _certificates.popitem(last=False)
    return cert


def _parse_certificate(der: bytes) -> x509.Certificate:
    cert = x509.Certificate.load(der)
    try:
        _parse_now(cert)
    except (TypeError, KeyError, AttributeError, IndexError, OverflowError, RecursionError) as exc:
        raise ValueError(f"malformed certificate: {exc}") from None
    return cert


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Certificates from DER, PEM (one or many) or base64 bytes; unreadable ones are skipped."""
    certificates = []
    for der in der_blocks(data):
        try:
            cert = x509.Certificate.load(der)
            _parse_now(cert)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError, RecursionError):
            continue
        certificates.append(cert)
    return certificates


def load_crls(data: bytes) -> list[crl.CertificateList]:
    """CRLs from DER or PEM bytes; unreadable ones are skipped."""
    crls = []
    for der in der_blocks(data):
        try:
            item = crl.CertificateList.load(der)
            item["tbs_cert_list"]["this_update"].native
            item["tbs_cert_list"]["revoked_certificates"].native
            item["tbs_cert_list"]["crl_extensions"].native
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError, RecursionError):
            continue
        crls.append(item)
    return crls


def name_key(name: x509.Name) -> str:
    """A comparison key for a distinguished name (RFC 5280 7.1 string preparation).

    asn1crypto's ``Name.hashable`` runs stringprep on every call, which dominated the
    verification of small documents; the key is cached by the name's DER.
    """
    if name.explicit or name.implicit:  # e.g. OCSP ResponderID byName is [1] EXPLICIT Name
        name = name.untag()
    der = name.dump()
    if len(der) > _MAX_CACHED_NAME:
        return _name_key_of(der)  # a hostile name of any size is never kept
    return _cached_name_key(der)


#: Names longer than this (real ones are a few hundred bytes) are not cached: the cache
#: holds at most 16,384 x 2 KiB of keys.
_MAX_CACHED_NAME = 2048


@lru_cache(maxsize=16384)
def _cached_name_key(der: bytes) -> str:
    return _name_key_of(der)


def _name_key_of(der: bytes) -> str:
    try:
        return str(x509.Name.load(der).hashable)
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeError):
        # RFC 4518 string preparation refuses some names (unassigned code points,
        # malformed bidi, non-string values: found by fuzzing). Such a name can only
        # equal itself, byte for byte.
        return "der:" + der.hex()


def _parse_now(cert: x509.Certificate) -> None:
    """Parse every part the verifier reads, so malformed input fails here and not mid-check.

    (``cert.native`` cannot be used: asn1crypto has no spec for GOST public keys.)
    """
    tbs = cert["tbs_certificate"]
    for part in ("version", "serial_number", "issuer", "validity", "subject"):
        tbs[part].native
    for extension in tbs["extensions"]:
        extension["extn_id"].native
        extension["critical"].native
    # The extensions the verifier interprets (others, e.g. Microsoft template names that
    # some CAs encode with the wrong string type, are never parsed).
    cert.key_usage_value
    cert.basic_constraints_value
    cert.certificate_policies_value
    cert.extended_key_usage_value
    cert.key_identifier
    cert.authority_key_identifier
    cert["signature_algorithm"].native
    cert["signature_value"].native
    public_key_bits(cert.public_key)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, hexadecimal."""
    return bytes(cert.sha256).hex()


def format_name(name: x509.Name) -> str:
    """A distinguished name as one readable line, most specific attribute first."""
    parts = []
    for rdn in name.chosen:
        for attribute in rdn:
            type_name = attribute["type"]
            label = _ATTRIBUTE_LABELS.get(type_name.dotted) or _short_label(type_name)
            value = attribute["value"].native
            parts.append(f"{label}={value}")
    return ", ".join(reversed(parts))


_ATTRIBUTE_LABELS = {
    OID_OGRN: "OGRN",
    OID_OGRNIP: "OGRNIP",
    OID_SNILS: "SNILS",
    OID_INN: "INN",
    OID_INN_LE: "INNLE",
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.42": "GN",
    "2.5.4.12": "T",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.6": "C",
    "2.5.4.8": "ST",
    "2.5.4.7": "L",
    "2.5.4.9": "STREET",
    "1.2.840.113549.1.9.1": "E",
}


def _short_label(type_name: x509.NameType) -> str:
    return str(type_name.native if type_name.native != type_name.dotted else type_name.dotted)


_IDENTITY_OIDS = frozenset({OID_OGRN, OID_OGRNIP, OID_SNILS, OID_INN, OID_INN_LE, "2.5.4.3", "2.5.4.4", "2.5.4.42"})
"""Attributes that decide whose signature it is: given twice with different values (two
ОГРН, two names) they name nobody, since another reader may take the other value."""


def conflicting_identity_attributes(name: x509.Name) -> list[str]:
    """OIDs of identity attributes that ``name`` gives twice with different values."""
    values: dict[str, str] = {}
    conflicting: list[str] = []
    for rdn in name.chosen:
        for attribute in rdn:
            value = attribute["value"].native
            oid = attribute["type"].dotted
            if isinstance(value, str) and oid in _IDENTITY_OIDS and values.setdefault(oid, value.strip()) != value.strip() and oid not in conflicting:
                conflicting.append(oid)
    return conflicting


def _attributes(name: x509.Name) -> dict[str, str]:
    values: dict[str, str] = {}
    for rdn in name.chosen:
        for attribute in rdn:
            value = attribute["value"].native
            if isinstance(value, str):
                values.setdefault(attribute["type"].dotted, value.strip())
    conflicting = conflicting_identity_attributes(name)
    return {oid: value for oid, value in values.items() if oid not in conflicting}


def identity_of(cert: x509.Certificate) -> SignerIdentity:
    """The signer's identity from the subject (FSB Order 795 attribute OIDs).

    Older certificates of legal entities carry the organisation's ИНН in the personal
    INN attribute as 12 digits with a leading ``00`` (e.g. the 2018 ГУЦ root); that is
    read as ИНН ЮЛ when no INNLE attribute is present.
    """
    values = _attributes(cert.subject)
    inn = values.get(OID_INN)
    inn_le = values.get(OID_INN_LE)
    if inn_le is None and inn and len(inn) == 12 and inn.startswith("00") and OID_OGRN in values:
        inn_le = inn[2:]
    email = values.get("1.2.840.113549.1.9.1")
    return SignerIdentity(
        common_name=values.get("2.5.4.3"),
        surname=values.get("2.5.4.4"),
        given_name=values.get("2.5.4.42"),
        title=values.get("2.5.4.12"),
        organization=values.get("2.5.4.10"),
        ogrn=values.get(OID_OGRN),
        ogrnip=values.get(OID_OGRNIP),
        inn=inn,
        inn_le=inn_le,
        snils=values.get(OID_SNILS),
        email=email,
    )


def summary_of(cert: x509.Certificate) -> CertificateSummary:
    """Serial, issuer and validity period, as on a signature stamp."""
    validity = cert["tbs_certificate"]["validity"]
    return CertificateSummary(
        serial=format(cert.serial_number, "X"),
        issuer=format_name(cert.issuer),
        not_before=validity["not_before"].native,
        not_after=validity["not_after"].native,
        sha256=fingerprint(cert),
    )


class SignedObjectCheck:
    """Outcome of checking one signed structure against an issuer key."""

    __slots__ = ("valid", "problem")

    def __init__(self, valid: bool, problem: str | None = None) -> None:
        self.valid = valid
        self.problem = problem


def verify_signed_by(
    tbs_der: bytes,
    signature_algorithm: algos.SignedDigestAlgorithm,
    signature: bytes,
    issuer_key: keys.PublicKeyInfo,
) -> SignedObjectCheck:
    """Check the signature of a certificate, CRL or OCSP response with the issuer's key.

    Results are cached (the same CA certificate appears in many chains), keyed by a
    SHA-256 over the parts: the cache never holds attacker-sized DER (a CRL of tens of MB).
    """
    algorithm_der, key_der = signature_algorithm.dump(), issuer_key.dump()
    fingerprint_of_check = hashlib.sha256()
    for part in (tbs_der, algorithm_der, signature, key_der):
        fingerprint_of_check.update(len(part).to_bytes(8, "big"))
        fingerprint_of_check.update(part)
    key = fingerprint_of_check.digest()
    with _cache_lock:
        cached = _signed_by_cache.get(key)
        if cached is not None:
            _signed_by_cache.move_to_end(key)
            return cached
    result = _verify_signed_by(tbs_der, algorithm_der, signature, key_der)
    with _cache_lock:
        _signed_by_cache[key] = result
        while len(_signed_by_cache) > _SIGNED_BY_CACHE_SIZE:
            _signed_by_cache.popitem(last=False)
    return result


_SIGNED_BY_CACHE_SIZE = 4096
_signed_by_cache: OrderedDict[bytes, SignedObjectCheck] = OrderedDict()
_cache_lock = threading.Lock()


def _verify_signed_by(
    tbs_der: bytes, algorithm_der: bytes, signature: bytes, key_der: bytes
) -> SignedObjectCheck:
    algorithm = algos.SignedDigestAlgorithm.load(algorithm_der)
    key = keys.PublicKeyInfo.load(key_der)
    try:
        digest_oid = signature_digest_oid(
            algorithm["algorithm"].dotted, key_algorithm_oid(key), _pss_digest(algorithm)
        )
        hasher = new_hash(digest_by_oid(digest_oid))
        hasher.update(tbs_der)
        valid = verify_signature(key, algorithm, digest_oid, hasher.digest(), signature)
    except (UnsupportedAlgorithm, gost.GostUnavailable, gost.GostEngineError) as exc:
        return SignedObjectCheck(False, str(exc))
    except (ValueError, TypeError) as exc:
        return SignedObjectCheck(False, f"malformed signature or key: {exc}")
    return SignedObjectCheck(valid, None if valid else "signature does not verify")


def _pss_digest(algorithm: algos.SignedDigestAlgorithm) -> str | None:
    if algorithm["algorithm"].dotted == "1.2.840.113549.1.1.10":
        return str(algorithm["parameters"]["hash_algorithm"]["algorithm"].dotted)
    return None

