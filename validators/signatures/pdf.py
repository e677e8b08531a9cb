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
* ``pdf.modifications`` — for a signature followed by later revisions, pyHanko's
  difference analysis: LTA updates, form filling and annotations that the signature's
  DocMDP allows are reported but pass; changed page content or anything else fails the
  signature (TOTAL_FAILED/HASH_FAILURE: what is shown is not what was signed); later
  revisions pyHanko cannot parse leave it INDETERMINATE (GENERIC).

Document timestamps (/DocTimeStamp, ETSI.RFC3161) are verified (the TSA's CMS signature
and the messageImprint over the ByteRange) and reported in ``timestamps``.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import cms, crl, ocsp, x509

from validators.digests import FileDigests
from validators.signatures.certificates import certificate_from_der
from validators.signatures.cms import ASN1_ERRORS, ID_CT_TSTINFO, ID_DATA
from validators.signatures.pdf_changes import only_annotations_added
from validators.signatures.model import (
    DocumentSummary,
    SignatureCheck,
    SignatureReport,
    SubIndication,
    VerificationReport,
)
from validators.signatures.revocation import RevocationEvidence
from validators.signatures.verify import VerificationPolicy, amend, describe_document, unverifiable, verify_cms
from validators.trust import TrustStore

__all__ = ["is_pdf", "verify_pdf", "PdfSignatureReports", "SUPPORTED_SUBFILTERS"]

log = logging.getLogger(__name__)

# pyHanko logs its diff-analysis failures with tracebacks; each one becomes a named check
# of ours with the reason, so its own log lines are only noise (and tracebacks in logs).
_pyhanko_log = logging.getLogger("pyhanko")
_pyhanko_log.addHandler(logging.NullHandler())
_pyhanko_log.propagate = False

SUPPORTED_SUBFILTERS = {
    "/adbe.pkcs7.detached",
    "/ETSI.CAdES.detached",
    "/adbe.pkcs7.sha1",
    "/ETSI.RFC3161",
}


def is_pdf(path: Path) -> bool:
    """True when the file starts with the %PDF- header (leading white space allowed).

    Readers tolerate junk before the header; we do not, so that an attached CMS whose
    content is a PDF is never mistaken for one.
    """
    with open(path, "rb") as stream:
        return stream.read(1024).lstrip(b"\x00\t\n\r\f \xef\xbb\xbf").startswith(b"%PDF-")


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


def _modification_check(embedded: Any) -> tuple[SignatureCheck, SubIndication | None]:
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel, SuspiciousModification
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    if embedded.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return SignatureCheck("pdf.modifications", True, "no changes after signing"), None
    try:
        result = embedded.evaluate_modifications(DEFAULT_DIFF_POLICY)
    except Exception as exc:  # noqa: BLE001 - pyHanko could not parse a later revision
        return (
            SignatureCheck(
                "pdf.modifications",
                False,
                f"the revisions added after signing could not be analysed ({_pdf_error(exc)}): "
                "what they change is unknown",
            ),
            SubIndication.GENERIC,
        )
    docmdp = embedded.docmdp_level
    if isinstance(result, SuspiciousModification) or result.modification_level == ModificationLevel.OTHER:
        # pyHanko does not model the "comments" level; decide that case ourselves.
        if only_annotations_added(embedded.reader, embedded.signed_revision) is None:
            result = DiffResult(ModificationLevel.ANNOTATIONS, set())
    if isinstance(result, SuspiciousModification):
        return (
            SignatureCheck("pdf.modifications", False, f"the document was changed after signing: {_pdf_error(result)}"),
            SubIndication.HASH_FAILURE,
        )
    level = result.modification_level
    allowed = level != ModificationLevel.OTHER and (docmdp is None or level.value <= docmdp.value)
    fields = f" (fields: {', '.join(sorted(result.changed_form_fields))})" if result.changed_form_fields else ""
    if allowed:
        return (
            SignatureCheck(
                "pdf.modifications",
                True,
                f"later revisions only add {level.name.lower().replace('_', ' ')}{fields}; allowed "
                f"({'DocMDP ' + docmdp.name if docmdp else 'the signature sets no DocMDP restriction'})",
                warning=level != ModificationLevel.NONE,
            ),
            None,
        )
    return (
        SignatureCheck(
            "pdf.modifications",
            False,
            f"the document was changed after signing beyond what the signature allows: {level.name}{fields}"
            + (f"; DocMDP allows {docmdp.name}" if docmdp else ""),
        ),
        SubIndication.HASH_FAILURE,
    )


def _byte_ranges(embedded: Any, file_size: int) -> list[tuple[int, int]] | None:
    try:
        values = [int(v) for v in embedded.byte_range]
    except (TypeError, ValueError):
        return None
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


def _timestamp_imprint_check(report: SignatureReport, contents: bytes, ranges_digests: FileDigests) -> SignatureReport:
    try:
        info = cms.ContentInfo.load(contents)["content"]["encap_content_info"]["content"].parsed
        imprint = info["message_imprint"]
        oid = imprint["hash_algorithm"]["algorithm"].dotted
        expected = bytes(imprint["hashed_message"].native)
        gen_time = info["gen_time"].native
    except ASN1_ERRORS as exc:
        return amend(report, SignatureCheck("timestamp.message_imprint", False, f"unreadable TSTInfo: {_pdf_error(exc)}"), SubIndication.FORMAT_FAILURE)
    actual = ranges_digests.get([oid]).get(oid)
    if actual != expected:
        return amend(
            report,
            SignatureCheck("timestamp.message_imprint", False, "the timestamp's messageImprint is not the digest of the ByteRange"),
            SubIndication.HASH_FAILURE,
        )
    report = dataclasses.replace(report, signing_time=gen_time)
    return amend(report, SignatureCheck("timestamp.message_imprint", True, f"time-stamped at {gen_time:%Y-%m-%d %H:%M:%S}Z over the ByteRange"))


def _format_failure(kind: str, name: str, detail: str) -> SignatureReport:
    return unverifiable(SubIndication.FORMAT_FAILURE, SignatureCheck("pdf.signature", False, detail), kind, name)


def read_pdf_signatures(path: Path, store: TrustStore, policy: VerificationPolicy) -> PdfSignatureReports:
    """Verify every filled signature field of a PDF; never raises for a bad PDF."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    signatures: list[SignatureReport] = []
    timestamps: list[SignatureReport] = []
    with open(path, "rb") as stream:
        try:
            reader = PdfFileReader(stream, strict=False)
            if reader.encrypted:
                return PdfSignatureReports((), (), "the PDF is encrypted: its signatures cannot be checked")
            fields = list(enumerate_sig_fields(reader, filled_status=True))
        except Exception as exc:  # noqa: BLE001 - any reader failure means a corrupt PDF
            return PdfSignatureReports((), (), f"the PDF cannot be read: {_pdf_error(exc)}")
        file_size = path.stat().st_size
        evidence = _dss_evidence(reader)
        for name, sig_ref, field_ref in fields:
            report, is_timestamp = _verify_field(reader, name, sig_ref, field_ref, path, file_size, store, policy, evidence, EmbeddedPdfSignature)
            (timestamps if is_timestamp else signatures).append(report)
    return PdfSignatureReports(tuple(signatures), tuple(timestamps))


def _verify_field(
    reader: Any,
    name: str,
    sig_ref: Any,
    field_ref: Any,
    path: Path,
    file_size: int,
    store: TrustStore,
    policy: VerificationPolicy,
    evidence: RevocationEvidence,
    embedded_class: Any,
) -> tuple[SignatureReport, bool]:
    try:
        sig_object = sig_ref.get_object()
        subfilter = str(sig_object.get("/SubFilter", ""))
        is_timestamp = subfilter == "/ETSI.RFC3161" or str(sig_object.get("/Type", "")) == "/DocTimeStamp"
    except Exception as exc:  # noqa: BLE001
        return _format_failure("embedded", name, f"unreadable signature dictionary: {_pdf_error(exc)}"), False
    kind = "document_timestamp" if is_timestamp else "embedded"
    if subfilter not in SUPPORTED_SUBFILTERS:
        return _format_failure(kind, name, f"unsupported /SubFilter {subfilter or '(none)'}"), is_timestamp
    try:
        embedded = embedded_class(reader, field_ref, name)
    except Exception as exc:  # noqa: BLE001 - broken /Contents or /ByteRange
        return _format_failure(kind, name, f"the signature cannot be read: {_pdf_error(exc)}"), is_timestamp
    ranges = _byte_ranges(embedded, file_size)
    if ranges is None:
        return _format_failure(kind, name, f"invalid /ByteRange {embedded.byte_range}"), is_timestamp
    range_digests = FileDigests(path, ranges)
    contents = embedded.pkcs7_content
    result = verify_cms(
        contents,
        store,
        policy,
        document=None if subfilter in ("/ETSI.RFC3161", "/adbe.pkcs7.sha1") else range_digests,
        signature_file=name,
        evidence=evidence,
        econtent_type=ID_CT_TSTINFO if is_timestamp else ID_DATA,
    )
    if result.sub_indication is not None or not result.signatures:
        detail = "; ".join(result.problems) or "no signer in the embedded CMS"
        return _format_failure(kind, name, detail), is_timestamp
    report = dataclasses.replace(result.signatures[0], kind=kind, signature_file=name)
    if len(result.signatures) > 1:
        report = amend(report, SignatureCheck("pdf.signers", False, "an embedded PDF signature must have exactly one signer"), SubIndication.FORMAT_FAILURE)
    if subfilter == "/adbe.pkcs7.sha1":
        content = _attached_content(contents)
        report = _sha1_digest_content_check(report, content, range_digests)
    if is_timestamp:
        report = _timestamp_imprint_check(report, contents, range_digests)
    check, failure, _coverage = _coverage_check(embedded)
    report = amend(report, check, failure)
    if failure is None:
        check, failure = _modification_check(embedded)
        report = amend(report, check, failure)
    if is_timestamp:
        report = dataclasses.replace(report, qualified=False)
    return report, is_timestamp


def _attached_content(contents: bytes) -> bytes | None:
    from validators.signatures.cms import CmsFormatError, parse_signed_data

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

