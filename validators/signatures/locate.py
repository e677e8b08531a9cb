"""Which signatures a document has: a given one, detached ones beside it, or itself attached.

SPEC section 7: ``gateway verify DOCUMENT [--signature SIG]`` verifies a detached signature
given or found beside the document (``DOCUMENT.sig|.p7s|.sgn``), an attached CMS given as
DOCUMENT, or the signatures embedded in a PDF; a PDF with both embedded and detached
signatures gets both verified and reported together.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from validators.digests import FileDigests
from validators.signatures.cms import CmsFormatError
from validators.signatures.model import SubIndication, VerificationReport
from validators.signatures.pdf import is_pdf, verify_pdf
from validators.signatures.verify import (
    VerificationPolicy,
    describe_document,
    load_signature_file,
    verify_cms,
)
from validators.trust import TrustStore

__all__ = ["DETACHED_SUFFIXES", "find_detached_signatures", "verify_document"]

DETACHED_SUFFIXES = (".sig", ".p7s", ".sgn")


def find_detached_signatures(document: Path) -> list[Path]:
    """``DOCUMENT.sig``, ``DOCUMENT.p7s``, ``DOCUMENT.sgn`` that exist beside the document."""
    return [p for p in (document.with_name(document.name + s) for s in DETACHED_SUFFIXES) if p.is_file()]


def _looks_like_signature(document: Path) -> bool:
    if document.suffix.lower() in (*DETACHED_SUFFIXES, ".p7m", ".p7b", ".pem", ".cms"):
        return True
    with open(document, "rb") as stream:
        head = stream.read(64).lstrip()
    return head[:1] == b"\x30" or head.startswith(b"-----BEGIN") or head[:4] == b"MII"


def verify_document(
    document: Path,
    store: TrustStore,
    policy: VerificationPolicy,
    signature: Path | None = None,
    digests: FileDigests | None = None,
) -> VerificationReport:
    """Verify every signature of ``document``; never raises for bad signature input.

    ``digests`` may carry digests of the document already started in the background.
    Raises ``OSError`` only when the document itself cannot be read (a usage/I-O error).
    """
    digests = digests or FileDigests(document)
    parts: list[VerificationReport] = []
    signatures = [signature] if signature is not None else find_detached_signatures(document)
    if is_pdf(document):
        embedded = verify_pdf(document, store, policy, digests)
        if embedded.sub_indication is not None and signatures:
            # An unreadable PDF has no embedded signatures, but its detached ones still
            # decide; the PDF's problem is reported beside them.
            embedded = dataclasses.replace(embedded, sub_indication=None)
        parts.append(embedded)
    parts.extend(_verify_file(sig, store, policy, digests) for sig in signatures)
    if not parts and _looks_like_signature(document):
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
    except CmsFormatError as exc:
        summary = describe_document(document)[0] if document is not None else None
        return VerificationReport(summary, (), SubIndication.FORMAT_FAILURE, (f"{signature.name}: {exc}",))
    return verify_cms(data, store, policy, document=document, signature_file=signature.name)
