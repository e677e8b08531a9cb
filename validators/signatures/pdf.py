"""Signatures embedded in PDF files (PAdES, CMS in PDF, КриптоПро PDF), GOST and RSA/ECDSA.

pyHanko reads the document structure: the signature fields, /ByteRange, the signed
revision, the coverage of each signature and the difference analysis of later
revisions. The CMS itself goes through the same engine as detached signatures
(:func:`validators.signatures.verify.verify_cms`) with the ByteRange digest streamed from
the file, so GOST signatures (Streebog, GOST R 34.10-2012 through OpenSSL) and RSA/ECDSA
get the same checks, chain, revocation and qualified profile. Certificates, CRLs and
OCSP responses of the document security store (/DSS) count as revocation evidence.

Per signature two checks are added:

* ``pdf.byte_range`` — the ByteRange starts at 0 and its gap is exactly /Contents, and it
  reaches the end of the file or of the signed revision; otherwise FORMAT_FAILURE;
* ``pdf.modifications`` — for a signature followed by later revisions, whether those
  revisions only add what keeps the signature covering the document as shown: further
  signatures, document timestamps and DSS/VRI validation data (SPEC section 3, stricter
  than Acrobat: no annotations, no form filling). Judged twice, on the resolved object
  graphs and never on a ``/Type`` label: pyHanko's difference analysis with a strict
  policy (:func:`_strict_diff_policy`, nothing above LTA_UPDATES accepted) and our own
  structural checks (:func:`_structural_changes`: trailer /Root, /Info, hidden objects
  made reachable, bytes after the last revision). Any other change fails the signature
  (TOTAL_FAILED/HASH_FAILURE: what is shown is not what was signed); later revisions that
  cannot be analysed leave it INDETERMINATE (GENERIC). Either way the package finding is
  ``pdf.modified_after_signing``.
* ``pdf.digest_policy`` — a binding through a weak digest (``adbe.pkcs7.sha1`` or weak CMS
  algorithms, ``policy.weak_digests``) fails when the signature's time of judgment is at
  or after ``policy.weak_digest_sunset`` (CRYPTO_CONSTRAINTS_FAILURE_NO_POE).

Signatures that a later revision removed from the final form (a switched catalog) are
found in the earlier revisions and judged too, so the change is named.

Document timestamps (/DocTimeStamp, ETSI.RFC3161) are validated as rigorously as
signature time-stamps (:func:`validators.signatures.verify.verify_document_timestamp`:
messageImprint over the ByteRange, the TSA's chain to the trust store, critical
timeStamping-only EKU, TSA valid and not revoked at genTime) and reported in
``timestamps``; one that does not validate proves nothing and fails the document. A valid
one whose ByteRange includes a signature's bytes (a later revision) proves the moment of
that signature (SPEC section 3): the signature is judged at the earliest valid proof, its
own signature time-stamp or a covering document time-stamp.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import crl, ocsp, x509

from validators.digests import FileDigests
from validators.signatures.certificates import certificate_from_der
from validators.signatures.cms import ASN1_ERRORS, ID_DATA, CmsFormatError
from validators.signatures.locate import is_pdf
from validators.signatures.model import (
    DocumentSummary,
    SignatureCheck,
    SignatureReport,
    SubIndication,
    TimestampSummary,
    VerificationReport,
)
from validators.signatures.revocation import RevocationEvidence
from validators.signatures.verify import (
    VerificationPolicy,
    amend,
    describe_document,
    unverifiable,
    verify_cms,
    verify_document_timestamp,
)
from validators.trust import TrustStore

__all__ = ["is_pdf", "verify_pdf", "PdfSignatureReports", "SUPPORTED_SUBFILTERS"]

log = logging.getLogger(__name__)

#: What an unreadable embedded CMS raises.
_CMS_ERRORS: tuple[type[BaseException], ...] = (CmsFormatError, *ASN1_ERRORS)

SUPPORTED_SUBFILTERS = {
    "/adbe.pkcs7.detached",
    "/ETSI.CAdES.detached",
    "/adbe.pkcs7.sha1",
    "/ETSI.RFC3161",
}


@dataclass(frozen=True)
class PdfSignatureReports:
    """Embedded signatures and document timestamps of one PDF."""

    signatures: tuple[SignatureReport, ...]
    timestamps: tuple[SignatureReport, ...]
    problem: str | None = None
    """Set when the PDF itself cannot be read (corrupt, encrypted): a FORMAT_FAILURE."""


def _pdf_error(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]


def _dss_evidence(reader: Any) -> RevocationEvidence:
    """Certificates, CRLs and OCSP responses of the document security store."""
    try:
        dss = reader.root.get("/DSS")
    except Exception:  # noqa: BLE001 - a broken /DSS is simply no evidence
        return RevocationEvidence()
    if dss is None:
        return RevocationEvidence()
    certificates: list[x509.Certificate] = []
    crls: list[crl.CertificateList] = []
    responses: list[ocsp.BasicOCSPResponse] = []

    def streams(key: str) -> list[bytes]:
        try:
            return [ref.get_object().data for ref in dss.get_object().get(key, [])]
        except Exception:  # noqa: BLE001
            return []

    for data in streams("/Certs"):
        try:
            certificates.append(certificate_from_der(data))
        except ASN1_ERRORS:
            continue
    for data in streams("/CRLs"):
        try:
            item = crl.CertificateList.load(data)
            item["tbs_cert_list"]["this_update"].native
            crls.append(item)
        except ASN1_ERRORS:
            continue
    for data in streams("/OCSPs"):
        try:
            response = ocsp.OCSPResponse.load(data)
            basic = response["response_bytes"]["response"].parsed
            basic["tbs_response_data"]["produced_at"].native
            responses.append(basic)
        except ASN1_ERRORS:
            continue
    return RevocationEvidence(tuple(crls), tuple(responses), tuple(certificates))


def _coverage_check(embedded: Any) -> tuple[SignatureCheck, SubIndication | None, Any]:
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    try:
        coverage = embedded.evaluate_signature_coverage()
    except Exception as exc:  # noqa: BLE001 - pyHanko's readers raise many kinds
        return SignatureCheck("pdf.byte_range", False, f"coverage cannot be evaluated: {_pdf_error(exc)}"), SubIndication.FORMAT_FAILURE, None
    embedded.coverage = coverage
    if coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return SignatureCheck("pdf.byte_range", True, "the ByteRange covers the whole file"), None, coverage
    if coverage == SignatureCoverageLevel.ENTIRE_REVISION:
        return (
            SignatureCheck("pdf.byte_range", True, "the ByteRange covers its whole revision; later revisions follow"),
            None,
            coverage,
        )
    return (
        SignatureCheck(
            "pdf.byte_range",
            False,
            f"the ByteRange {list(embedded.byte_range)} does not cover its revision "
            f"({coverage.name}): bytes outside the signature could be anything",
        ),
        SubIndication.FORMAT_FAILURE,
        coverage,
    )


@functools.cache
def _strict_diff_policy() -> Any:
    """pyHanko's difference analysis restricted to what this gateway allows after a
    signature: new or filled signature fields, document timestamps, DSS/VRI validation
    data (and the bookkeeping every incremental save writes: xref and object streams,
    /Info strings, XMP metadata). No form filling of other fields, no annotations.

    ``/AcroForm`` may change only in ``/Fields`` (the new signature field), ``/SigFlags``
    and ``/DR`` (signing tools add the fonts of their appearance; that existing entries
    keep their values is checked in :func:`_structural_changes`); ``/NeedAppearances``,
    ``/DA``, ``/Q`` or ``/XFA`` changes would make a viewer redraw fields from values that
    were never shown at signing.
    """
    from pyhanko.sign.diff_analysis import (
        CatalogModificationRule,
        DocInfoRule,
        DSSCompareRule,
        FormUpdatingRule,
        MetadataUpdateRule,
        ModificationLevel,
        ObjectStreamRule,
        SigFieldCreationRule,
        SigFieldModificationRule,
        StandardDiffPolicy,
        XrefStreamRule,
    )

    class SignatureFieldsOnly(FormUpdatingRule):
        """Only signature-field rules are registered, so every update this rule clears is
        a signature (pyHanko rates any non-timestamp signature FORM_FILLING): all count as LTA level,
        and anything else pyHanko cannot clear stays unexplained (suspicious)."""

        def apply(self, old: Any, new: Any) -> Any:
            for level, update in super().apply(old, new):
                yield min(level, ModificationLevel.LTA_UPDATES), update

    lta = ModificationLevel.LTA_UPDATES
    return StandardDiffPolicy(
        global_rules=[
            CatalogModificationRule(),  # type: ignore[no-untyped-call]
            DocInfoRule().as_qualified(lta),
            XrefStreamRule().as_qualified(lta),
            ObjectStreamRule().as_qualified(lta),
            DSSCompareRule().as_qualified(lta),
            MetadataUpdateRule().as_qualified(lta),  # type: ignore[no-untyped-call]
        ],
        form_rule=SignatureFieldsOnly(
            field_rules=[SigFieldCreationRule(), SigFieldModificationRule()],  # type: ignore[no-untyped-call]
            ignored_acroform_keys=frozenset({"/Fields", "/SigFlags", "/DR"}),
        ),
        reject_object_freeing=True,
    )


class _Changed(Exception):
    """A later revision changes what the signed revision showed (the reason)."""


def _ref(value: Any) -> Any:
    from pyhanko.pdf_utils import generic

    return value.reference if isinstance(value, generic.IndirectObject) else None


def _reachable(resolver: Any, start: Any, limit: int) -> set[Any]:
    """Every indirect object reachable from ``start`` in one revision (iterative walk;
    a walk longer than ``limit`` objects is refused as unanalysable)."""
    from pyhanko.pdf_utils import generic

    seen: set[Any] = set()
    stack = [start]
    while stack:
        value = stack.pop()
        if isinstance(value, generic.IndirectObject):
            ref = value.reference
            if ref in seen:
                continue
            seen.add(ref)
            if len(seen) > limit:
                raise ValueError(f"more than {limit} objects")
            value = resolver(ref)
        if isinstance(value, generic.DictionaryObject):  # streams too
            stack.extend(value.raw_get(key) for key in value)
        elif isinstance(value, generic.ArrayObject):
            stack.extend(value)
    return seen


_MAX_GRAPH_OBJECTS = 2_000_000


def _structural_changes(reader: Any, signed_revision: int) -> None:
    """Our own comparison of each later revision with the signed one, independent of
    pyHanko's rules and of any ``/Type`` label: the file ends with its last revision, the
    trailer keeps the signed catalog, /Info stays plain metadata outside the document, and
    no object that existed but was unreachable in the signed revision is reachable from
    the catalog later (shadow attacks). Raises :class:`_Changed`."""
    from pyhanko.pdf_utils import generic

    _check_file_ends_with_last_revision(reader)
    _check_later_revisions_hold_only_listed_objects(reader, signed_revision)
    trailer = reader.trailer
    signed_root = _ref(trailer.raw_get("/Root", revision=signed_revision))
    signed = reader.get_historical_resolver(signed_revision)
    signed_graph = _reachable(signed, generic.IndirectObject(signed_root.idnum, signed_root.generation, signed), _MAX_GRAPH_OBJECTS)  # type: ignore[no-untyped-call]
    xrefs = reader.xrefs
    for revision in range(signed_revision + 1, xrefs.total_revisions):
        view = trailer.flatten(revision)
        root = _ref(view.raw_get("/Root")) if "/Root" in view else None
        if root is None or (root.idnum, root.generation) != (signed_root.idnum, signed_root.generation):
            raise _Changed(
                f"revision {revision} points the trailer /Root at "
                f"{'nothing' if root is None else f'object {root.idnum} {root.generation}'} instead of the signed "
                f"catalog {signed_root.idnum} {signed_root.generation}: another document is shown"
            )
        current = reader.get_historical_resolver(revision)
        graph = _reachable(current, generic.IndirectObject(root.idnum, root.generation, current), _MAX_GRAPH_OBJECTS)  # type: ignore[no-untyped-call]
        if "/Info" in view:
            # pyHanko lets /Info change freely; pointed at a document object, that
            # freedom would clear a change of the page or catalog itself.
            info_ref = _ref(view.raw_get("/Info"))
            if info_ref is not None and info_ref in graph | signed_graph:
                raise _Changed(
                    f"revision {revision} points the trailer /Info at object {info_ref.idnum} {info_ref.generation}, "
                    "which is part of the document itself"
                )
            signed_info = _ref(trailer.raw_get("/Info", revision=signed_revision)) if "/Info" in trailer.flatten(signed_revision) else None
            info_changed = info_ref is None or info_ref != signed_info or any(
                info_ref in xrefs.explicit_refs_in_revision(r) for r in range(signed_revision + 1, revision + 1)
            )
            info = view["/Info"]
            if info_changed and (
                isinstance(info, generic.StreamObject)
                or not isinstance(info, generic.DictionaryObject)
                or not all(
                    isinstance(value, (generic.TextStringObject, generic.ByteStringObject, generic.NameObject))
                    for value in info.values()
                )
            ):
                raise _Changed(f"revision {revision} sets a trailer /Info that is not plain document metadata")
        changed_resources = _changed_default_resources(signed.root, current.root)
        if changed_resources:
            raise _Changed(
                f"revision {revision} changes the form's default resources /AcroForm /DR {', '.join(changed_resources)}: "
                "fields would be drawn with other fonts or resources"
            )
        shadowed = sorted(
            (ref.idnum, ref.generation)
            for ref in graph - signed_graph
            if xrefs.get_introducing_revision(ref) <= signed_revision
        )
        if shadowed:
            listed = ", ".join(f"{n} {g} R" for n, g in shadowed[:5])
            raise _Changed(
                f"revision {revision} makes objects reachable that were present but hidden (unreachable) in the "
                f"signed revision: {listed}{' …' if len(shadowed) > 5 else ''} (shadow attack)"
            )


def _default_resources(catalog: Any) -> Any:
    from pyhanko.pdf_utils import generic

    form = catalog["/AcroForm"] if "/AcroForm" in catalog else None
    resources = form["/DR"] if isinstance(form, generic.DictionaryObject) and "/DR" in form else None
    return resources if isinstance(resources, generic.DictionaryObject) else generic.DictionaryObject()  # type: ignore[no-untyped-call]


def _changed_default_resources(old_catalog: Any, new_catalog: Any) -> list[str]:
    """Entries of /AcroForm /DR that a later revision removed or re-pointed (adding new
    ones, as signing tools do for their appearance fonts, is fine)."""
    from pyhanko.pdf_utils import generic

    old, new = _default_resources(old_catalog), _default_resources(new_catalog)
    changed = []
    for category in old:
        before, after = old[category], new[category] if category in new else None
        if not isinstance(before, generic.DictionaryObject):
            if after != before:
                changed.append(category)
            continue
        if not isinstance(after, generic.DictionaryObject):
            changed.append(category)
            continue
        changed.extend(
            f"{category}{name}" for name in before if name not in after or after.raw_get(name) != before.raw_get(name)
        )
    return changed


_TAIL_RE = re.compile(rb"startxref\s+(\d+)\s*%%EOF")


def _check_file_ends_with_last_revision(reader: Any) -> None:
    """Bytes appended after the last revision's ``%%EOF`` belong to no revision and to no
    signature; a reader that rebuilds the cross-reference table would still show the
    objects defined there."""
    stream = reader.stream
    xrefs = reader.xrefs
    last_xref = xrefs.get_startxref_for_revision(xrefs.total_revisions - 1)
    stream.seek(last_xref)
    tail = stream.read()
    match = _TAIL_RE.search(tail)
    if match is None or int(match.group(1)) != last_xref:
        raise _Changed("the last revision does not end with startxref/%%EOF pointing at its own cross-reference section")
    rest = tail[match.end() :].strip(b"\x00\t\n\r\f ")
    if rest:
        raise _Changed(f"{len(rest)} bytes follow the end of the last revision: they belong to no revision and no signature")


_OBJ_HEADER = re.compile(rb"(\d+)\s+(\d+)\s+obj\b")
_BLANK = re.compile(rb"(?:[\x00\t\n\x0c\r ]+|%[^\r\n]*)*")
_XREF_TABLE = re.compile(rb"xref\s+(?:\d+\s+\d+\s+(?:\d{10}\s\d{5}\s[nf]\s*)*)*trailer\b")
#: A revision larger than this is not scanned (and so not accepted after a signature).
_MAX_REVISION_SCAN = 64 * 1024 * 1024


def _check_later_revisions_hold_only_listed_objects(reader: Any, signed_revision: int) -> None:
    """Each revision after the signed one must be exactly its listed objects, its
    cross-reference section and trailer, and its startxref must point exactly there.

    pyHanko (like any reader that trusts the cross-reference sections) ignores an object
    that a revision defines but does not list, and tolerates a startxref that is a few
    bytes off; a reader that repairs such a file rebuilds the table by scanning and takes
    the last definition of each object — a redefined page, never seen by the difference
    analysis. Raises :class:`_Changed`."""
    stream = reader.stream
    xrefs = reader.xrefs
    previous_end = _revision_end(stream, xrefs.get_startxref_for_revision(signed_revision))
    for revision in range(signed_revision + 1, xrefs.total_revisions):
        xref_at = xrefs.get_startxref_for_revision(revision)
        end = _revision_end(stream, xref_at)
        if previous_end is not None and end is not None and end <= previous_end:
            # A linearised file's first-page section: physically inside the bytes before
            # (and so inside what the signature covers).
            continue
        if previous_end is None or end is None or not previous_end <= xref_at < end or end - previous_end > _MAX_REVISION_SCAN:
            raise _Changed(f"revision {revision} is not laid out as one update after the previous one")
        stream.seek(previous_end)
        data = stream.read(end - previous_end)
        xref_pos = xref_at - previous_end
        section = xrefs.get_xref_data(revision)
        listed = {number: offset - previous_end for number, (_gen, offset) in section.standard_xrefs.items()}
        generations = dict(section.standard_xrefs)
        # Every place either view (table, hybrid /XRefStm) lists must be an object of its own.
        every_listing = [(number, gen, offset - previous_end) for number, (gen, offset) in section.standard_xrefs.items()]
        if section.hybrid is not None:
            for number, (gen, offset) in section.hybrid.xref_data.standard_xrefs.items():
                listed.setdefault(number, offset - previous_end)
                generations.setdefault(number, (gen, offset))
                every_listing.append((number, gen, offset - previous_end))
        starts: dict[int, tuple[int, int]] = {}
        position = 0
        while True:
            position = _BLANK.match(data, position).end()  # type: ignore[union-attr]
            if position >= xref_pos:
                break
            header = _OBJ_HEADER.match(data, position)
            number = int(header.group(1)) if header else -1
            at = listed.get(number)
            if (
                header is None
                or at is None
                or generations[number][0] != int(header.group(2))
                or not (at <= position and not data[at:position].strip(b"\x00\t\n\x0c\r "))
            ):
                what = f"object {number} {header.group(2).decode()}" if header else "bytes that are no object"
                raise _Changed(
                    f"revision {revision} holds {what} at offset {previous_end + position} that its cross-reference "
                    "section does not list there (a repairing reader would show it)"
                )
            closing = data.find(b"endobj", header.end())
            if closing < 0 or closing >= xref_pos:
                raise _Changed(f"revision {revision}: object {number} does not end before the cross-reference section")
            if (nested := _OBJ_HEADER.search(data, header.end(), closing)) is not None:
                # A definition inside this object's data that shares its "endobj": the scan
                # would step over it, a repairing reader (last definition wins) would not.
                raise _Changed(
                    f"revision {revision} holds object {nested.group(1).decode()} {nested.group(2).decode()} "
                    f"inside the data of object {number} (a repairing reader would show it)"
                )
            starts[position] = (number, int(header.group(2)))
            position = closing + len(b"endobj")
        if (stream_header := _OBJ_HEADER.match(data, xref_pos)) is not None:
            starts[xref_pos] = (int(stream_header.group(1)), int(stream_header.group(2)))  # an xref stream lists itself
        ordered = sorted(starts)
        for number, gen, offset in every_listing:
            index = bisect.bisect_left(ordered, offset)
            at_object = ordered[index] if index < len(ordered) else None
            if at_object is None or data[offset:at_object].strip(b"\x00\t\n\x0c\r ") or starts[at_object] != (number, gen):
                # E.g. the /XRefStm view pointing inside another object's stream data, where a
                # second definition hides from this scan (and the table view shows the signed one).
                raise _Changed(
                    f"revision {revision}: its cross-reference data lists object {number} {gen} at offset "
                    f"{previous_end + offset}, where no such object of its own begins"
                )
        if position != xref_pos:
            raise _Changed(f"revision {revision}: startxref does not point exactly at its cross-reference section")
        tail = data[xref_pos:]
        table = _XREF_TABLE.match(tail)
        if table is not None:
            rest = tail[table.end() :]
        elif _OBJ_HEADER.match(tail):
            closing = tail.find(b"endobj")
            rest = tail[closing + len(b"endobj") :] if closing >= 0 else b""
        else:
            raise _Changed(f"revision {revision}: startxref does not point at a cross-reference section")
        if _OBJ_HEADER.search(rest):
            raise _Changed(f"revision {revision} defines an object after its cross-reference section")
        if b"trailer" in rest:
            # pyHanko reads the first trailer; a reader searching backwards takes the last.
            raise _Changed(f"revision {revision} has a second trailer")
        previous_end = end


def _revision_end(stream: Any, xref_at: int) -> int | None:
    """Where the revision whose cross-reference section starts at ``xref_at`` ends (after
    its ``%%EOF`` line)."""
    stream.seek(xref_at)
    buffer = b""
    match = None
    while match is None and len(buffer) < _MAX_REVISION_SCAN:
        chunk = stream.read(1 << 20)  # read as far as needed, not 64 MiB for every revision
        if not chunk:
            break
        buffer += chunk
        match = _TAIL_RE.search(buffer)
    if match is None:
        return None
    end = xref_at + match.end()
    stream.seek(end)
    after = stream.read(2)
    if after.startswith(b"\r\n"):
        return end + 2
    if after[:1] in (b"\r", b"\n"):
        return end + 1
    return end


def _visible_fields_added_without_signature(reader: Any, signed_revision: int) -> list[str]:
    """Visible signature-field widgets that appeared after the signed revision without a
    signature of the document behind them: a new field left unsigned, or a field filled
    with a document timestamp (ISO 32000-2 wants those invisible; a timestamp vouches for
    no content, and any TSA can make one). Either can paint any appearance over the page.
    A visible appearance is accepted only as part of a further signature, which is then
    verified like every other one."""
    from pyhanko.sign.diff_analysis.rules.form_field_rules import is_field_visible
    from pyhanko.sign.fields import enumerate_sig_fields

    xrefs = reader.xrefs
    found = []
    for name, value, field_ref in enumerate_sig_fields(reader):
        field = field_ref.get_object()
        if not is_field_visible(field):  # type: ignore[no-untyped-call]
            continue
        value_ref = _ref(value)
        if value is None:
            if xrefs.get_introducing_revision(_ref(field_ref) or field_ref) > signed_revision:
                found.append(f"{name} (unsigned)")
        elif value_ref is None or xrefs.get_introducing_revision(value_ref) > signed_revision:
            signature = value.get_object()
            if str(signature.get("/Type", "")) == "/DocTimeStamp" or str(signature.get("/SubFilter", "")) == "/ETSI.RFC3161":
                found.append(f"{name} (document timestamp)")
            elif not _signature_covers_itself(xrefs, value_ref, signature):
                found.append(f"{name} (a copied signature that does not cover its own field)")
    return found


def _signature_covers_itself(xrefs: Any, value_ref: Any, signature: Any) -> bool:
    """A signature dictionary lies inside the bytes its own ByteRange covers; a copy of an
    earlier signature placed in a later revision (to lend its validity to a new visible
    field) does not."""
    try:
        byte_range = signature.get("/ByteRange")
        end = int(byte_range[2]) + int(byte_range[3])
        offset = xrefs.get_historical_ref(value_ref, xrefs.total_revisions - 1) if value_ref is not None else None
    except Exception:  # noqa: BLE001 - a malformed dictionary covers nothing
        return False
    return isinstance(offset, int) and offset < end


def _later_signatures(reader: Any, signed_revision: int) -> list[str]:
    """Signature fields signed (not time-stamped) after the signed revision."""
    from pyhanko.sign.fields import enumerate_sig_fields

    found = []
    for name, value, _field_ref in enumerate_sig_fields(reader, filled_status=True):
        value_ref = _ref(value)
        if value_ref is None or reader.xrefs.get_introducing_revision(value_ref) > signed_revision:
            signature = value.get_object()
            if str(signature.get("/Type", "")) != "/DocTimeStamp" and str(signature.get("/SubFilter", "")) != "/ETSI.RFC3161":
                found.append(str(name))
    return found


def _modification_check(embedded: Any) -> tuple[SignatureCheck, SubIndication | None]:
    """What later revisions change, judged against the rule of SPEC section 3: only further
    signatures, document timestamps and DSS/VRI validation data keep the signature
    covering the document as shown. Any other change (and any change pyHanko flags as
    suspicious, FORM_FILLING, ANNOTATIONS or OTHER under the strict policy) fails the
    signature: TOTAL_FAILED/HASH_FAILURE, because what a reader renders is no longer what
    was hashed. A later revision that cannot be analysed at all leaves it
    INDETERMINATE/GENERIC."""
    from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
    from pyhanko.sign.fields import MDPPerm
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    if embedded.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return SignatureCheck("pdf.modifications", True, "no changes after signing"), None
    reader, revision = embedded.reader, embedded.signed_revision

    def changed(reason: str) -> tuple[SignatureCheck, SubIndication]:
        return (
            SignatureCheck("pdf.modifications", False, f"the document was changed after signing: {reason}"),
            SubIndication.HASH_FAILURE,
        )

    try:
        _structural_changes(reader, revision)
    except _Changed as reason:
        return changed(str(reason))
    except Exception as exc:  # noqa: BLE001 - an unreadable later revision
        return _unanalysable(exc)
    try:
        result = embedded.evaluate_modifications(_strict_diff_policy())
        painted = _visible_fields_added_without_signature(reader, revision)
        # Signatures are cleared at LTA level by our policy, so the author's DocMDP P=1
        # ("no changes", which still allows DSS and document timestamps) is applied here.
        locked_out = _later_signatures(reader, revision) if embedded.docmdp_level == MDPPerm.NO_CHANGES else []
    except Exception as exc:  # noqa: BLE001 - pyHanko could not parse a later revision
        return _unanalysable(exc)
    if isinstance(result, SuspiciousModification):
        return changed(f"{_pdf_error(result)} (only signatures, document timestamps and DSS data may be added)")
    level = result.modification_level
    if level > ModificationLevel.LTA_UPDATES:
        fields = f" (fields: {', '.join(sorted(result.changed_form_fields))})" if result.changed_form_fields else ""
        return changed(f"{level.name}{fields}; only signatures, document timestamps and DSS data may be added")
    if painted:
        return changed(f"visible fields added without a signature behind them: {', '.join(sorted(painted))}")
    if locked_out:
        return changed(f"signatures added although the certification (DocMDP P=1) allows no changes: {', '.join(sorted(locked_out))}")
    return (
        SignatureCheck(
            "pdf.modifications",
            True,
            "later revisions only add signatures, document timestamps or validation data (DSS)",
        ),
        None,
    )


def _unanalysable(exc: BaseException) -> tuple[SignatureCheck, SubIndication]:
    return (
        SignatureCheck(
            "pdf.modifications",
            False,
            f"the revisions added after signing could not be analysed ({_pdf_error(exc)}): what they change is unknown",
        ),
        SubIndication.GENERIC,
    )


def _byte_ranges(embedded: Any, file_size: int) -> list[tuple[int, int]] | None:
    try:
        raw = list(embedded.byte_range)
    except TypeError:
        return None
    # Integers only (ISO 32000 12.8.1): a real such as 1103.9 is truncated here but may be
    # rounded by another reader, which then hashes other bytes than we did.
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
        return None
    values = [int(v) for v in raw]
    if len(values) % 2 or not values:
        return None
    ranges = [(values[i], values[i + 1]) for i in range(0, len(values), 2)]
    if any(start < 0 or length < 0 or start + length > file_size for start, length in ranges):
        return None
    return ranges


def _sha1_digest_content_check(report: SignatureReport, parsed_content: bytes | None, ranges_digests: FileDigests) -> SignatureReport:
    """adbe.pkcs7.sha1: the signed content is the SHA-1 of the ByteRange."""
    expected = ranges_digests.get(["1.3.14.3.2.26"]).get("1.3.14.3.2.26")
    if parsed_content is None or expected is None or parsed_content != expected:
        return amend(
            report,
            SignatureCheck("pdf.sha1_content", False, "adbe.pkcs7.sha1: the signed SHA-1 is not the SHA-1 of the ByteRange"),
            SubIndication.HASH_FAILURE,
        )
    return amend(report, SignatureCheck("pdf.sha1_content", True, "adbe.pkcs7.sha1: the signed SHA-1 matches the ByteRange"))


#: Names of SHA-1/MD5 and of the signature algorithms built on them (RSA, ECDSA, DSA),
#: with the digest each one uses: whether that digest is weak is the policy's call
#: (``VerificationPolicy.weak_digests``).
_SHA1, _MD5 = "1.3.14.3.2.26", "1.2.840.113549.2.5"
_BINDING_DIGESTS = {
    _SHA1: ("SHA-1", _SHA1),
    _MD5: ("MD5", _MD5),
    "1.2.840.113549.1.1.5": ("sha1WithRSAEncryption", _SHA1),
    "1.2.840.113549.1.1.4": ("md5WithRSAEncryption", _MD5),
    "1.2.840.10045.4.1": ("ecdsa-with-SHA1", _SHA1),
    "1.2.840.10040.4.3": ("dsa-with-sha1", _SHA1),
}


def _weak_binding_check(report: SignatureReport, subfilter: str, contents: bytes, policy: VerificationPolicy) -> SignatureReport:
    """A weak digest (``policy.weak_digests``: SHA-1, MD5) binding the signature to the
    document fails the algorithm policy for signatures judged at or after
    ``policy.weak_digest_sunset``, as for CMS. Needed here because ``adbe.pkcs7.sha1``
    signs the SHA-1 of the ByteRange as content: the CMS itself may use SHA-256 and pass
    the CMS policy while the document is bound only by SHA-1.

    Judged at the signature's time of judgment (``report.validation_time``: ``--at``, the
    earliest valid time-stamp proving the moment, else receipt or now); the signer's
    signingTime is a claim and cannot place the signature before the sunset, so without
    a proof the verdict is CRYPTO_CONSTRAINTS_FAILURE_NO_POE, as the CMS policy gives.
    """
    from validators.signatures.cms import parse_signed_data

    weak: list[str] = []
    if subfilter == "/adbe.pkcs7.sha1" and _SHA1 in policy.weak_digests:
        weak.append("the /adbe.pkcs7.sha1 SubFilter (SHA-1 of the ByteRange signed as content)")
    try:
        for signer_info in parse_signed_data(contents).signed_data["signer_infos"]:
            for key in ("digest_algorithm", "signature_algorithm"):
                oid = signer_info[key]["algorithm"].dotted
                if oid in _BINDING_DIGESTS and _BINDING_DIGESTS[oid][1] in policy.weak_digests:
                    weak.append(f"{_BINDING_DIGESTS[oid][0]} in the CMS {key.replace('_', ' ')}")
    except _CMS_ERRORS:
        pass  # the CMS verification already reported it
    if not weak:
        return report
    at = report.validation_time or policy.at or policy.reference()
    sunset = policy.weak_digest_sunset
    if at < sunset:
        return amend(report, SignatureCheck("pdf.digest_policy", True, f"SHA-1/MD5 binding acceptable at {at:%Y-%m-%d}: {'; '.join(weak)}"))
    return amend(
        report,
        SignatureCheck(
            "pdf.digest_policy",
            False,
            f"the document is bound through SHA-1/MD5 ({'; '.join(weak)}), not acceptable for signatures after "
            f"{sunset:%Y-%m-%d}; judged at {at:%Y-%m-%d} (signingTime is only a claim)",
        ),
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
    )


_HEX_STRING = re.compile(rb"<[0-9A-Fa-f]*>")


def _gap_problem(path: Path, ranges: list[tuple[int, int]], contents: bytes) -> str | None:
    """None when the one unsigned gap of the ByteRange is exactly this signature's
    /Contents written as a hex string. pyHanko's whole-file coverage only adds up lengths:
    /Contents written as a literal string (half the bytes) or a gap that is not /Contents
    would leave unsigned bytes inside the "fully covered" file (extra entries of the
    signature dictionary, objects for a repairing reader)."""
    if len(ranges) != 2 or ranges[0][0] != 0:
        return f"the /ByteRange {ranges} is not two ranges from the start of the file around /Contents"
    start, end = ranges[0][1], ranges[1][0]
    if end - start != 2 * len(contents) + 2:
        return "the gap between the /ByteRange ranges is not exactly the signature's /Contents"
    with open(path, "rb") as stream:
        stream.seek(start)
        gap = stream.read(end - start)
    if not _HEX_STRING.fullmatch(gap) or bytes.fromhex(gap[1:-1].decode("ascii")) != contents:
        return "the gap between the /ByteRange ranges is not the signature's /Contents as one hex string: unsigned bytes inside the signed file"
    return None


def _format_failure(kind: str, name: str, detail: str) -> SignatureReport:
    return unverifiable(SubIndication.FORMAT_FAILURE, SignatureCheck("pdf.signature", False, detail), kind, name)


def read_pdf_signatures(path: Path, store: TrustStore, policy: VerificationPolicy) -> PdfSignatureReports:
    """Verify every filled signature field of a PDF; never raises for a bad PDF.

    Document time-stamps are validated first, so that each signature is judged at the
    earliest valid proof of its moment, a covering document time-stamp included."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    with open(path, "rb") as stream:
        try:
            reader = PdfFileReader(stream, strict=False)
            if reader.encrypted:
                return PdfSignatureReports((), (), "the PDF is encrypted: its signatures cannot be checked")
            fields = list(enumerate_sig_fields(reader, filled_status=True))
        except Exception as exc:  # noqa: BLE001 - any reader failure means a corrupt PDF
            return PdfSignatureReports((), (), f"the PDF cannot be read: {_pdf_error(exc)}")
        fields.extend(_vanished_signature_fields(reader, fields))
        file_size = path.stat().st_size
        evidence = _dss_evidence(reader)
        is_stamp = [_is_timestamp_field(sig_ref) for _name, sig_ref, _field in fields]
        timestamps = [
            _verify_field(reader, f, path, file_size, store, policy, evidence, EmbeddedPdfSignature, ())
            for f, stamp in zip(fields, is_stamp, strict=True)
            if stamp
        ]
        proofs = tuple((ranges, report.timestamp) for report, ranges in timestamps if ranges and _proves(report) and report.timestamp)
        signatures = [
            _verify_field(reader, f, path, file_size, store, policy, evidence, EmbeddedPdfSignature, proofs)[0]
            for f, stamp in zip(fields, is_stamp, strict=True)
            if not stamp
        ]
    return PdfSignatureReports(tuple(signatures), tuple(report for report, _ranges in timestamps))


def _is_timestamp_field(sig_ref: Any) -> bool:
    try:
        sig_object = sig_ref.get_object()
        return str(sig_object.get("/SubFilter", "")) == "/ETSI.RFC3161" or str(sig_object.get("/Type", "")) == "/DocTimeStamp"
    except Exception:  # noqa: BLE001 - reported as unreadable by _verify_field
        return False


def _proves(report: SignatureReport) -> bool:
    """A document time-stamp proves a moment only when it validated completely."""
    return report.passed and report.timestamp is not None and report.timestamp.valid


_Proof = tuple[list[tuple[int, int]], TimestampSummary]


def _covering(proofs: tuple[_Proof, ...], ranges: list[tuple[int, int]]) -> tuple[TimestampSummary, ...]:
    """The document time-stamps whose ByteRange includes every byte of a signature with
    ``ranges`` (its /Contents too): a later revision stamped over it. A time-stamp of an
    earlier revision, or one whose covered prefix stops before the signature's end,
    proves nothing about it."""
    end = max(start + length for start, length in ranges)
    return tuple(summary for stamp_ranges, summary in proofs if stamp_ranges[0][0] == 0 and stamp_ranges[0][1] >= end)


def _vanished_signature_fields(reader: Any, current: list[Any]) -> list[Any]:
    """Signed fields of earlier revisions that the final revision no longer lists (a
    later revision switched the catalog or rewrote /AcroForm): they are verified too, so
    the change that hid them is named instead of the signature silently disappearing."""
    from pyhanko.sign.fields import enumerate_sig_fields

    seen = {_ref(sig_ref) for _name, sig_ref, _field in current}
    found = []
    for revision in range(reader.xrefs.total_revisions - 2, -1, -1):
        try:
            earlier = list(enumerate_sig_fields(reader.get_historical_resolver(revision), filled_status=True))
        except Exception:  # noqa: BLE001, S112 - an unreadable old form lists nothing
            continue
        for name, sig_ref, field_ref in earlier:
            ref = _ref(sig_ref)
            if ref is not None and ref not in seen:
                seen.add(ref)
                found.append((name, sig_ref, field_ref))
    return found


def _verify_field(
    reader: Any,
    field: tuple[str, Any, Any],
    path: Path,
    file_size: int,
    store: TrustStore,
    policy: VerificationPolicy,
    evidence: RevocationEvidence,
    embedded_class: Any,
    proofs: tuple[_Proof, ...],
) -> tuple[SignatureReport, list[tuple[int, int]] | None]:
    """One signature field: its report and its ByteRange (None when unreadable).
    ``proofs``: valid document time-stamps with their ByteRanges; those covering this
    signature prove its moment."""
    name, sig_ref, field_ref = field
    try:
        sig_object = sig_ref.get_object()
        subfilter = str(sig_object.get("/SubFilter", ""))
        is_timestamp = subfilter == "/ETSI.RFC3161" or str(sig_object.get("/Type", "")) == "/DocTimeStamp"
    except Exception as exc:  # noqa: BLE001
        return _format_failure("embedded", name, f"unreadable signature dictionary: {_pdf_error(exc)}"), None
    kind = "document_timestamp" if is_timestamp else "embedded"
    if subfilter not in SUPPORTED_SUBFILTERS:
        return _format_failure(kind, name, f"unsupported /SubFilter {subfilter or '(none)'}"), None
    try:
        embedded = embedded_class(reader, field_ref, name)
    except Exception as exc:  # noqa: BLE001 - broken /Contents or /ByteRange
        return _format_failure(kind, name, f"the signature cannot be read: {_pdf_error(exc)}"), None
    ranges = _byte_ranges(embedded, file_size)
    if ranges is None:
        return _format_failure(kind, name, f"invalid /ByteRange {embedded.byte_range}"), None
    gap = _gap_problem(path, ranges, embedded.pkcs7_content)
    if gap is not None:
        return _format_failure(kind, name, gap), None
    range_digests = FileDigests(path, ranges)
    contents = embedded.pkcs7_content
    if is_timestamp:
        report = verify_document_timestamp(contents, store, policy, range_digests, name=name, evidence=evidence)
    else:
        result = verify_cms(
            contents,
            store,
            policy,
            document=None if subfilter == "/adbe.pkcs7.sha1" else range_digests,
            signature_file=name,
            evidence=evidence,
            econtent_type=ID_DATA,
            proofs=_covering(proofs, ranges),
        )
        if result.sub_indication is not None or not result.signatures:
            detail = "; ".join(result.problems) or "no signer in the embedded CMS"
            return _format_failure(kind, name, detail), ranges
        report = dataclasses.replace(result.signatures[0], kind=kind, signature_file=name)
        if len(result.signatures) > 1:
            report = amend(report, SignatureCheck("pdf.signers", False, "an embedded PDF signature must have exactly one signer"), SubIndication.FORMAT_FAILURE)
        if subfilter == "/adbe.pkcs7.sha1":
            report = _sha1_digest_content_check(report, _attached_content(contents), range_digests)
        report = _weak_binding_check(report, subfilter, contents, policy)
    check, failure, _coverage = _coverage_check(embedded)
    report = amend(report, check, failure)
    if failure is None:
        check, failure = _modification_check(embedded)
        report = amend(report, check, failure)
    if is_timestamp:
        report = dataclasses.replace(report, qualified=False)
    return report, ranges


def _attached_content(contents: bytes) -> bytes | None:
    from validators.signatures.cms import parse_signed_data

    try:
        return parse_signed_data(contents).content
    except CmsFormatError:
        return None


def verify_pdf(path: Path, store: TrustStore, policy: VerificationPolicy, digests: FileDigests | None = None) -> VerificationReport:
    """``gateway verify`` for a PDF: its embedded signatures and document timestamps."""
    reports = read_pdf_signatures(path, store, policy)
    # Described last: the whole-file digests may still be running in the background.
    summary: DocumentSummary = describe_document(digests or FileDigests(path))[0]
    if reports.problem is not None:
        return VerificationReport(summary, (), SubIndication.FORMAT_FAILURE, (reports.problem,))
    problems = () if reports.signatures else ("the PDF has no embedded signature",)
    return VerificationReport(summary, reports.signatures, None, problems, reports.timestamps)

