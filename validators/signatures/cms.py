"""Reading CMS SignedData (RFC 5652) as members' tools write it.

DER or BER (indefinite lengths, chunked eContent), PEM armour (``CMS``, ``PKCS7``,
``SIGNED MESSAGE``…), or bare base64 with line breaks as CryptoPro writes ``.sig``/``.sgn``.
Anything else is a format failure with a clear reason, never an exception to the caller.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from asn1crypto import cms, core, crl, ocsp, x509

from validators.signatures.certificates import certificate_from_der, der_blocks

__all__ = ["ID_DATA", "ID_CT_TSTINFO", "MAX_CERTIFICATES", "MAX_SIGNER_INFOS", "ASN1_ERRORS", "RevocationValues", "ParsedSignedData", "CmsFormatError", "parse_signed_data", "signed_attributes_der", "attribute_values"]

MAX_SIGNER_INFOS = 64

#: eContentType of a signed document (RFC 5652, 4): the only type a document signature
#: may carry. Anything else signed (a TSTInfo, an arbitrary structure) is not "the document".
ID_DATA = "1.2.840.113549.1.7.1"
#: eContentType of an RFC 3161 time-stamp token (id-ct-TSTInfo).
ID_CT_TSTINFO = "1.2.840.113549.1.9.16.1.4"
MAX_CERTIFICATES = 100

_OID_REVOCATION_VALUES = "1.2.840.113549.1.9.16.2.24"
_OID_CERT_VALUES = "1.2.840.113549.1.9.16.2.23"


#: What asn1crypto raises on malformed input: besides ValueError, hostile bytes reach
#: code paths that raise these (found by the mutation tests in tests/validators).
ASN1_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    IndexError,
    OverflowError,
    RecursionError,
)
_ASN1_ERRORS = ASN1_ERRORS


class CmsFormatError(ValueError):
    """The bytes are not a usable CMS SignedData."""


@dataclass(frozen=True)
class ParsedSignedData:
    """A parsed SignedData and what it carries."""

    signed_data: cms.SignedData
    content_type: str
    """eContentType OID (normally id-data 1.2.840.113549.1.7.1)."""
    content: bytes | None
    """The attached content, or None for a detached signature."""
    certificates: tuple[x509.Certificate, ...]
    crls: tuple[crl.CertificateList, ...]
    encoding: str
    """``der``, ``ber``, ``pem`` or ``base64``: how the file was written."""

    @property
    def signer_infos(self) -> list[cms.SignerInfo]:
        return list(self.signed_data["signer_infos"])


def _encoding_of(data: bytes) -> tuple[bytes, str]:
    blocks = der_blocks(data)
    if not blocks:
        raise CmsFormatError("the file is neither DER/BER, PEM nor base64 CMS")
    if len(blocks) > 1:
        raise CmsFormatError("the file holds several PEM blocks; one CMS signature expected")
    if data[:1] == b"\x30":
        return blocks[0], "der"
    return blocks[0], "pem" if data.lstrip().startswith(b"-----BEGIN") else "base64"


#: Parse once: a signature is parsed when its type is detected and again when it is
#: verified (and once more by ``gateway check`` beside its document). The last few
#: results are kept per thread (asn1crypto parses lazily and is not safe to share between
#: threads), keyed by the SHA-256 of the bytes, for files up to 1 MiB only.
_PARSED_CACHE_SIZE = 8
_PARSED_CACHE_MAX_BYTES = 1 << 20
_parsed = threading.local()


def parse_signed_data(data: bytes) -> ParsedSignedData:
    """Parse a signature file; raises :class:`CmsFormatError` saying what is wrong."""
    if len(data) > _PARSED_CACHE_MAX_BYTES:
        return _parse_signed_data(data)
    cache: OrderedDict[bytes, ParsedSignedData] | None = getattr(_parsed, "cache", None)
    if cache is None:
        cache = _parsed.cache = OrderedDict()
    key = hashlib.sha256(data).digest()
    found = cache.get(key)
    if found is not None:
        cache.move_to_end(key)
        return found
    result = _parse_signed_data(data)  # a CmsFormatError is not cached: raised each time
    cache[key] = result
    if len(cache) > _PARSED_CACHE_SIZE:
        cache.popitem(last=False)
    return result


def _parse_signed_data(data: bytes) -> ParsedSignedData:
    if not data.strip():
        raise CmsFormatError("the signature file is empty")
    der, encoding = _encoding_of(data)
    try:
        # Trailing bytes after the structure are ignored, as OpenSSL does.
        info = cms.ContentInfo.load(der)
        content_type = info["content_type"].dotted
    except _ASN1_ERRORS as exc:
        raise CmsFormatError(f"not a CMS ContentInfo: {_first_line(exc)}") from None
    if content_type != "1.2.840.113549.1.7.2":
        raise CmsFormatError(f"CMS content type is {content_type}, not signedData")
    try:
        signed_data = info["content"]
        signer_infos = signed_data["signer_infos"]
        encap = signed_data["encap_content_info"]
        econtent_type = encap["content_type"].dotted
        content = _econtent_bytes(encap)
        # Count before parsing anything inside: a SignedData with 100 000 signers or
        # certificates must be refused in milliseconds, not after parsing them all.
        if len(signer_infos) > MAX_SIGNER_INFOS:
            raise CmsFormatError(f"more than {MAX_SIGNER_INFOS} signers")
        if len(signed_data["certificates"] or ()) > MAX_CERTIFICATES:
            raise CmsFormatError(f"more than {MAX_CERTIFICATES} certificates")
        if len(signed_data["crls"] or ()) > MAX_CERTIFICATES:
            raise CmsFormatError(f"more than {MAX_CERTIFICATES} CRLs")
        certificates = []
        for choice in signed_data["certificates"] or ():
            if choice.name == "certificate":
                certificates.append(certificate_from_der(choice.chosen.dump()))
        crls = []
        for choice in signed_data["crls"] or ():
            if choice.name == "crl":
                crls.append(choice.chosen)
        for signer_info in signer_infos:
            signer_info["sid"].chosen.native
            signer_info["digest_algorithm"]["algorithm"].dotted
            signer_info["signature_algorithm"]["algorithm"].dotted
            signer_info["signature"].native
            _ = signer_info["signed_attrs"].contents
        if is_ber(der):
            encoding = "ber" if encoding == "der" else encoding
    except _ASN1_ERRORS as exc:
        raise CmsFormatError(f"malformed SignedData: {_first_line(exc)}") from None
    if len(signer_infos) == 0:
        raise CmsFormatError("the SignedData has no SignerInfo (no signer)")
    if len(signer_infos) > MAX_SIGNER_INFOS:
        raise CmsFormatError(f"more than {MAX_SIGNER_INFOS} signers")
    return ParsedSignedData(
        signed_data=signed_data,
        content_type=econtent_type,
        content=content,
        certificates=tuple(certificates),
        crls=tuple(crls),
        encoding=encoding,
    )


def is_ber(der: bytes) -> bool:
    """True when the outer structure uses an indefinite length (BER, as CryptoPro writes)."""
    return len(der) > 1 and der[1] == 0x80


def signed_attributes_der(signer_info: cms.SignerInfo) -> bytes | None:
    """The bytes a signature over signed attributes covers: the attributes re-tagged
    as an explicit SET OF (RFC 5652, 5.4), exactly as they were received."""
    attrs = signer_info["signed_attrs"]
    if attrs.contents is None or not len(signer_info["signed_attrs"]):
        return None
    body = bytes(attrs.contents)
    return b"\x31" + _der_length(len(body)) + body


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def attribute_values(attributes: cms.CMSAttributes | None, oid: str) -> list[object]:
    """All values of the attributes with ``oid`` (parsed where asn1crypto knows them)."""
    values: list[object] = []
    if attributes is None or attributes.contents is None:
        return values
    for attribute in attributes:
        if attribute["type"].dotted == oid:
            values.extend(attribute["values"])
    return values


def revocation_values(signer_info: cms.SignerInfo) -> tuple[list[crl.CertificateList], list[ocsp.BasicOCSPResponse]]:
    """CRLs and basic OCSP responses of the CAdES ``revocationValues`` unsigned attribute."""
    crls: list[crl.CertificateList] = []
    responses: list[ocsp.BasicOCSPResponse] = []
    for value in attribute_values(signer_info["unsigned_attrs"], _OID_REVOCATION_VALUES):
        try:
            parsed = RevocationValues.load(value.dump())  # type: ignore[attr-defined]
            for item in parsed["crl_vals"] or ():
                item["tbs_cert_list"]["this_update"].native
                crls.append(item)
            for item in parsed["ocsp_vals"] or ():
                item["tbs_response_data"]["produced_at"].native
                responses.append(item)
        except _ASN1_ERRORS:
            continue
    return crls, responses


def certificate_values(signer_info: cms.SignerInfo) -> list[x509.Certificate]:
    """Certificates of the CAdES ``certValues`` unsigned attribute."""
    found: list[x509.Certificate] = []
    for value in attribute_values(signer_info["unsigned_attrs"], _OID_CERT_VALUES):
        try:
            found.extend(_sequence_of_certificates(value.dump()))  # type: ignore[attr-defined]
        except _ASN1_ERRORS:
            continue
    return found


class _CertificateLists(core.SequenceOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = crl.CertificateList


class _BasicOcspResponses(core.SequenceOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = ocsp.BasicOCSPResponse


class RevocationValues(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """CAdES RevocationValues (ETSI EN 319 122-1; explicit tagging module)."""

    _fields = [
        ("crl_vals", _CertificateLists, {"explicit": 0, "optional": True}),
        ("ocsp_vals", _BasicOcspResponses, {"explicit": 1, "optional": True}),
        ("other_rev_vals", core.Any, {"explicit": 2, "optional": True}),
    ]


class _RawEncapsulatedContentInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """EncapsulatedContentInfo with the content left unparsed whatever its type
    (asn1crypto's own spec parses a TSTInfo eagerly once ``asn1crypto.tsp`` is imported)."""

    _fields = [
        ("content_type", cms.ContentType),
        ("content", core.ParsableOctetString, {"explicit": 0, "optional": True}),
    ]


def _econtent_bytes(encap: cms.EncapsulatedContentInfo) -> bytes | None:
    """The attached content; chunked (constructed) OCTET STRINGs are joined by asn1crypto."""
    econtent = _RawEncapsulatedContentInfo.load(encap.dump())["content"]
    if isinstance(econtent, core.Void) or econtent.contents is None:
        return None
    # The signed bytes are the OCTET STRING's value, whatever the content type: never
    # ``.native``, which would parse a TSTInfo (or any type asn1crypto knows) and turn a
    # wrongly typed content into a parse error instead of a content-type finding.
    return bytes(econtent)


def _sequence_of_certificates(der: bytes) -> list[x509.Certificate]:
    """Each readable certificate of a SEQUENCE OF Certificate; unreadable ones are skipped
    (one odd certificate must not hide the others, e.g. the OCSP responder's)."""
    certificates = []
    for item in core.SequenceOf.load(der):
        try:
            certificates.append(certificate_from_der(item.dump()))
        except _ASN1_ERRORS:
            continue
    return certificates


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
