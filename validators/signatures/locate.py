"""Which signatures a document has: a given one, detached ones beside it, or itself attached.

SPEC section 7: ``gateway verify DOCUMENT [--signature SIG]`` verifies a detached signature
given or found beside the document (``DOCUMENT.sig|.p7s|.sgn``), an attached CMS given as
DOCUMENT, or the signatures embedded in a PDF; a PDF with both embedded and detached
signatures gets both verified and reported together.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from asn1crypto import parser as asn1_parser

from validators.digests import FileDigests
from validators.signatures.certificates import der_blocks
from validators.signatures.cms import ASN1_ERRORS, CmsFormatError, ParsedSignedData, parse_signed_data
from validators.signatures.model import SubIndication, VerificationReport
from validators.signatures.verify import (
    MAX_SIGNATURE_FILE_SIZE,
    VerificationPolicy,
    describe_document,
    load_signature_file,
    verify_cms,
)
from validators.trust import TrustStore

__all__ = [
    "DETACHED_SUFFIXES",
    "SIGNATURE_SUFFIXES",
    "find_detached_signatures",
    "is_pdf",
    "parse_signature_file",
    "parse_signature_bytes",
    "signed_name",
    "verify_document",
]

DETACHED_SUFFIXES = (".sig", ".p7s", ".sgn")
#: Every extension a CMS signature file may carry (``.p7m``: attached, as КриптоАРМ writes).
SIGNATURE_SUFFIXES = (*DETACHED_SUFFIXES, ".p7m")


def signed_name(name: str) -> str | None:
    """``Устав.pdf.sig`` -> ``Устав.pdf``: the name without a signature extension (any case),
    or None when the name has none. Says nothing about the content."""
    lower = name.lower()
    for suffix in SIGNATURE_SUFFIXES:
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def parse_signature_bytes(data: bytes) -> ParsedSignedData:
    """The one answer to "is this a signature": ``data`` is a CMS SignedData only if it
    parses *completely* (DER/BER, PEM or bare base64) -- every SignerInfo and certificate
    readable, and the outer structure covering the whole file (only white space or NUL
    padding may follow). Never decided by a prefix of bytes or by a file name: a PDF
    that starts with CMS-looking bytes is not a signature. Raises :class:`CmsFormatError`
    saying why not.
    """
    parsed = parse_signed_data(data)
    der = der_blocks(data)[0]  # parse_signed_data has checked there is exactly one
    try:
        _, _, _, header, contents, trailer = asn1_parser.parse(der)
    except ASN1_ERRORS as exc:
        raise CmsFormatError(f"not a complete ASN.1 structure: {exc}") from None
    rest = der[len(header) + len(contents) + len(trailer) :]
    if rest.strip(b"\x00\t\n\r "):
        # An appended PDF or ZIP after a SignedData: readers would show what was not signed.
        raise CmsFormatError(f"{len(rest)} bytes follow the CMS structure")
    return parsed


def parse_signature_file(path: Path, max_bytes: int = MAX_SIGNATURE_FILE_SIZE) -> ParsedSignedData:
    """:func:`parse_signature_bytes` of a file, refusing files over ``max_bytes`` unread.

    Raises :class:`CmsFormatError` (not a signature) or ``OSError`` (cannot be read).
    """
    size = path.stat().st_size
    if size > max_bytes:
        raise CmsFormatError(f"{size} bytes, more than the {max_bytes} bytes a signature file may have")
    return parse_signature_bytes(path.read_bytes())


def find_detached_signatures(document: Path) -> list[Path]:
    """``DOCUMENT.sig``, ``DOCUMENT.p7s``, ``DOCUMENT.sgn`` that exist beside the document."""
    return [p for p in (document.with_name(document.name + s) for s in DETACHED_SUFFIXES) if p.is_file()]


def _is_signature_or_claims(document: Path) -> bool:
    """DOCUMENT is a complete CMS SignedData, or claims to be one (then it is reported as
    a broken signature, FORMAT_FAILURE, rather than a document without signatures)."""
    try:
        parse_signature_file(document)
    except CmsFormatError:
        return _claims_to_be_signature(document)
    return True


def _claims_to_be_signature(document: Path) -> bool:
    """Whether an unparseable DOCUMENT is reported as a broken signature (FORMAT_FAILURE)
    rather than as a document without signatures. Only the message depends on it: what
    *is* a signature is decided by :func:`parse_signature_bytes` alone."""
    if signed_name(document.name) is not None or document.suffix.lower() in (".p7b", ".pem", ".cms"):
        return True
    with open(document, "rb") as stream:
        head = stream.read(64).lstrip()
    return head[:1] == b"\x30" or head.startswith(b"-----BEGIN") or head[:4] == b"MII"


def is_pdf(path: Path) -> bool:
    """True when the file starts with the %PDF- header (leading white space allowed).

    Readers tolerate junk before the header; we do not, so that an attached CMS whose
    content is a PDF is never mistaken for one.
    """
    with open(path, "rb") as stream:
        return stream.read(1024).lstrip(b"\x00\t\n\r\f \xef\xbb\xbf").startswith(b"%PDF-")


def verify_document(
    document: Path,
    store: TrustStore,
    policy: VerificationPolicy,
    signature: Path | None = None,
    digests: FileDigests | None = None,
    *,
    discover: bool = True,
) -> VerificationReport:
    """Verify every signature of ``document``; never raises for bad signature input.

    ``digests`` may carry digests of the document already started in the background.
    ``discover=False``: do not look for ``DOCUMENT.sig`` beside it (the package validator
    pairs signatures itself; looking again verified and listed a signature twice).
    Raises ``OSError`` only when the document itself cannot be read (a usage/I-O error).
    """
    digests = digests or FileDigests(document)
    parts: list[VerificationReport] = []
    if signature is not None:
        signatures = [signature]
    else:
        signatures = find_detached_signatures(document) if discover else []
    if is_pdf(document):
        # The PDF machinery (and its imports) only for PDFs: `gateway verify` start-up.
        from validators.signatures.pdf import verify_pdf

        embedded = verify_pdf(document, store, policy, digests)
        if embedded.sub_indication is not None and signatures:
            # An unreadable PDF has no embedded signatures, but its detached ones still
            # decide; the PDF's problem is reported beside them.
            embedded = dataclasses.replace(embedded, sub_indication=None)
        parts.append(embedded)
    parts.extend(_verify_file(sig, store, policy, digests) for sig in signatures)
    if not parts and _is_signature_or_claims(document):
        # DOCUMENT itself is a CMS: attached (verified here) or detached (a usage error).
        report = _verify_file(document, store, policy, None)
        summary, _ = describe_document(digests)
        if report.sub_indication is None and any(s.kind == "detached" for s in report.signatures):
            return VerificationReport(
                summary,
                (),
                None,
                (f"{document.name} is a detached signature: give the signed document with it",),
            )
        return VerificationReport(summary, report.signatures, report.sub_indication, report.problems)
    if not parts:
        summary, _ = describe_document(digests)
        looked_for = ", ".join(document.name + s for s in DETACHED_SUFFIXES)
        return VerificationReport(summary, (), None, (f"no signature found for {document.name} (looked for {looked_for})",))
    return _combine(parts)


def _combine(parts: list[VerificationReport]) -> VerificationReport:
    """One report for a document: embedded and detached signatures together."""
    signatures = tuple(s for part in parts for s in part.signatures)
    problems = tuple(p for part in parts for p in part.problems)
    if signatures and len(parts) > 1:
        # "no embedded signature" is not a problem when a detached one was given.
        problems = tuple(p for p in problems if p != "the PDF has no embedded signature")
    return VerificationReport(
        parts[0].document or next((p.document for p in parts if p.document), None),
        signatures,
        next((p.sub_indication for p in parts if p.sub_indication), None),
        problems,
        tuple(t for part in parts for t in part.timestamps),
    )


def _verify_file(
    signature: Path, store: TrustStore, policy: VerificationPolicy, document: FileDigests | None
) -> VerificationReport:
    try:
        data = load_signature_file(signature)
        parse_signature_bytes(data)  # the one "is this a signature" rule, also for detached ones
    except CmsFormatError as exc:
        summary = describe_document(document)[0] if document is not None else None
        return VerificationReport(summary, (), SubIndication.FORMAT_FAILURE, (f"{signature.name}: {exc}",))
    return verify_cms(data, store, policy, document=document, signature_file=signature.name)
