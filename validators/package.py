"""Validation of one submitted package: every rule of SPEC sections 2, 3 and 5.

Pure with respect to the gateway: it reads the stored files and the context (member list,
trust store, limits, clock through the verification policy) and writes only below
``context.workdir`` (unpacked archives). It never raises for bad input; the caller gets
every finding at once (no fail-fast), the signature reports, and a description of the
files.

Order: member and request → file types, sizes and names → archive unpacking (limits
enforced while reading) → PDF structure → signatures (uploaded detached ones matched to
their files, detached ones inside archives, PDF-embedded ones) → signing rules (every
document signed with a qualified signature of the member's organisation; reports by the
head or with an appointment document; the annual report's accounting statements).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from validators.archives import ArchiveLimits, ExtractedFile, extract_archive
from validators.catalogue import DOC_TYPES, REGULATION_KINDS, REPORT_KINDS, Slot
from validators.checks import Check, Severity, finding
from validators.digests import FileDigests
from validators.files import FileKind, check_file, detect_type
from validators.members import Member, MemberList
from validators.names import check_report_name
from validators.pdf_structure import check_pdf
from validators.signatures.locate import DETACHED_SUFFIXES, verify_document
from validators.signatures.cms import CmsFormatError
from validators.signatures.model import SignatureReport, SubIndication, VerificationReport
from validators.signatures.verify import VerificationPolicy, load_signature_file, verify_cms
from validators.signers import signature_findings, signer_is_head, signer_is_member, usable
from validators.trust import TrustStore

__all__ = [
    "UploadedFile",
    "PackageLimits",
    "ValidationContext",
    "SignedFile",
    "PackageResult",
    "validate_package",
    "APPOINTMENT_NAME_HINTS",
    "ACCOUNTING_NAME_HINTS",
]

#: An acting head's appointment document is recognised by its file name (4083-U item 8).
APPOINTMENT_NAME_HINTS = ("приказ", "назнач", "врио", "вр.и.о", "исполняющ", "appointment")
#: The annual accounting statements of an OD_Y90 package (4083-U item 2), by file name.
ACCOUNTING_NAME_HINTS = ("бухгалтер", "бфо", "баланс", "финансов", "0710001", "accounting", "balance")


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One file part of a submission, as stored."""

    slot: Slot
    name: str
    """The name the member gave it."""
    path: Path


@dataclass(frozen=True, slots=True)
class PackageLimits:
    max_document_bytes: int = 100 << 20
    max_attachment_bytes: int = 500 << 20
    max_signature_bytes: int = 1 << 20
    archive: ArchiveLimits = ArchiveLimits()

    def for_slot(self, slot: Slot) -> int:
        return {
            Slot.DOCUMENT: self.max_document_bytes,
            Slot.ATTACHMENT: self.max_attachment_bytes,
            Slot.SIGNATURE: self.max_signature_bytes,
        }[slot]


@dataclass(frozen=True)
class ValidationContext:
    member_number: str
    doc_type: str
    report_kind: str | None
    regulation_kind: str | None
    members: MemberList
    trust: TrustStore
    policy: VerificationPolicy
    workdir: Path
    """Scratch folder for unpacked archives (the caller removes it)."""
    limits: PackageLimits = PackageLimits()
    digests: Mapping[Path, FileDigests] = field(default_factory=dict)
    """Digests of uploaded files already computed or under way (the gateway's blob store),
    so the verifier does not read a file again for them."""


@dataclass(frozen=True, slots=True)
class SignedFile:
    """A signature report and the package file it belongs to."""

    file: str
    report: SignatureReport

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, **self.report.to_json()}


@dataclass(frozen=True)
class PackageResult:
    checks: tuple[Check, ...]
    signatures: tuple[SignedFile, ...]
    member: Member | None
    documents: tuple[str, ...] = field(default=())
    """Package paths of the documents that had to be signed."""


@dataclass
class _Document:
    """A file that must carry a signature, and what was found for it."""

    name: str
    path: Path
    reports: list[SignatureReport] = field(default_factory=list)


def _is_signature_name(name: str) -> bool:
    return name.lower().endswith(DETACHED_SUFFIXES)


def _signed_name(signature_name: str) -> str | None:
    lower = signature_name.lower()
    for suffix in DETACHED_SUFFIXES:
        if lower.endswith(suffix):
            return signature_name[: -len(suffix)]
    return None


class _Run:
    def __init__(self, files: list[UploadedFile], ctx: ValidationContext) -> None:
        self.files = files
        self.ctx = ctx
        self.checks: list[Check] = []
        self.signed: list[SignedFile] = []
        self.documents: list[_Document] = []
        self.kinds: dict[str, FileKind] = {}
        self.all_names: list[str] = []
        self.unreadable_pdfs: set[str] = set()

    # --- request and files ---------------------------------------------------------

    def request(self) -> tuple[Member | None, bool]:
        ctx = self.ctx
        member = ctx.members.get(ctx.member_number)
        if member is None:
            self.checks.append(finding("member.unknown", detail=f"register number {ctx.member_number!r} not in the member list"))
            return None, False
        if not member.active:
            self.checks.append(finding("member.inactive", detail=f"member {member.number} is {member.status}"))
            return member, False
        doc_type = DOC_TYPES.get(ctx.doc_type)
        if doc_type is None:
            self.checks.append(finding("request.doc_type", detail=f"doc_type {ctx.doc_type!r}"))
            return member, False
        if doc_type.code == "report" and ctx.report_kind not in REPORT_KINDS:
            self.checks.append(finding("request.report_kind", detail=f"report_kind {ctx.report_kind!r}"))
        if doc_type.code == "regulation" and ctx.regulation_kind not in REGULATION_KINDS:
            self.checks.append(finding("request.regulation_kind", detail=f"regulation_kind {ctx.regulation_kind!r}"))
        return member, True

    def file_rules(self) -> bool:
        doc_type = DOC_TYPES[self.ctx.doc_type]
        ok = True
        present = {f.slot for f in self.files}
        for slot, rule in doc_type.slots.items():
            if rule.required and slot not in present:
                self.checks.append(finding("request.slot_missing", file=None, detail=f"no file in slot {slot.value}"))
                ok = False
        for upload in self.files:
            if upload.slot is not Slot.SIGNATURE and upload.slot not in doc_type.slots:
                self.checks.append(finding("request.unexpected_file", file=upload.name, detail=f"slot {upload.slot.value} is not used by {doc_type.code}"))
                continue
            if sum(1 for f in self.files if f.slot is upload.slot) > 1 and upload.slot is not Slot.SIGNATURE:
                self.checks.append(finding("request.unexpected_file", file=upload.name, detail=f"more than one file in slot {upload.slot.value}"))
            allowed = (
                frozenset({FileKind.SIGNATURE})
                if upload.slot is Slot.SIGNATURE
                else frozenset(FileKind(k) for k in doc_type.slots[upload.slot].kinds)
            )
            file_type, found = check_file(upload.path, upload.name, allowed, self.ctx.limits.for_slot(upload.slot))
            self.checks.extend(found)
            if file_type is not None:
                self.kinds[upload.name] = file_type.kind
            if any(c.severity is Severity.FATAL for c in found):
                ok = False
        if doc_type.code == "report":
            for upload in self.files:
                if upload.slot is Slot.DOCUMENT:
                    self.checks.extend(check_report_name(upload.name, self.ctx.member_number, self.ctx.report_kind or ""))
        return ok

    # --- documents ---------------------------------------------------------------

    def collect_documents(self) -> None:
        for index, upload in enumerate(f for f in self.files if f.slot is not Slot.SIGNATURE):
            kind = self.kinds.get(upload.name)
            self.all_names.append(upload.name)
            if kind is FileKind.PDF:
                self._check_pdf(upload.path, upload.name)
                self.documents.append(_Document(upload.name, upload.path))
            elif kind in (FileKind.ZIP, FileKind.RAR):
                self.documents.append(_Document(upload.name, upload.path))
                self._unpack(upload, index)

    def _check_pdf(self, path: Path, name: str) -> None:
        found = check_pdf(path, name)
        if any(c.code in ("pdf.corrupt", "pdf.encrypted") for c in found):
            self.unreadable_pdfs.add(name)
        self.checks.extend(found)

    def _unpack(self, upload: UploadedFile, index: int) -> None:
        dest = self.ctx.workdir / f"archive-{index}"
        result = extract_archive(upload.path, dest, upload.name, self.ctx.limits.archive)
        self.checks.extend(result.checks)
        if any(c.severity is Severity.FATAL for c in result.checks):
            return  # a refused archive: its contents are not judged further
        inner: dict[str, ExtractedFile] = {f.name: f for f in result.files}
        self.all_names.extend(inner)
        for item in result.files:
            kind = detect_type(item.path).kind
            if kind in (FileKind.ZIP, FileKind.RAR):
                continue  # a container: its files follow in the listing
            if kind is FileKind.SIGNATURE or _is_signature_name(item.name):
                continue
            if kind is FileKind.PDF:
                self._check_pdf(item.path, item.name)
            document = _Document(item.name, item.path)
            signature = next((inner[item.name + s] for s in (*DETACHED_SUFFIXES, *(x.upper() for x in DETACHED_SUFFIXES)) if item.name + s in inner), None)
            self._verify(document, signature.path if signature else None, embedded=kind is FileKind.PDF)
            self.documents.append(document)
        orphans = [
            n for n, f in inner.items()
            if _is_signature_name(n) and (_signed_name(n) or "") not in inner
        ]
        for name in orphans:
            self.checks.append(finding("signature.format", file=name, detail="a signature file without the document it is named after"))

    def _verify_detached(self, document: Path, signature: Path, name: str) -> VerificationReport:
        try:
            data = load_signature_file(signature)
        except CmsFormatError as exc:
            return VerificationReport(None, (), SubIndication.FORMAT_FAILURE, (f"{name}: {exc}",))
        return verify_cms(data, self.ctx.trust, self.ctx.policy, document=self.ctx.digests.get(document, document), signature_file=name)

    def _verify(self, document: _Document, signature: Path | None, embedded: bool) -> None:
        if signature is None and not embedded:
            return
        report = verify_document(document.path, self.ctx.trust, self.ctx.policy, signature, self.ctx.digests.get(document.path))
        for problem in report.problems if report.sub_indication is not None else ():
            if signature is None and document.name in self.unreadable_pdfs:
                continue  # already reported by the PDF structure check (pdf.corrupt / pdf.encrypted)
            self.checks.append(finding("signature.format" if signature else "pdf.corrupt", file=document.name, detail=problem))
        for signature_report in report.signatures:
            document.reports.append(signature_report)
            self.signed.append(SignedFile(document.name, signature_report))

    # --- uploaded detached signatures ---------------------------------------------------

    def uploaded_signatures(self) -> None:
        top = {d.name: d for d in self.documents if "/" not in d.name}
        for upload in (f for f in self.files if f.slot is Slot.SIGNATURE):
            if self.kinds.get(upload.name) is not FileKind.SIGNATURE:
                continue  # already reported by the file rules
            target = top.get(_signed_name(upload.name) or "")
            candidates = [target] if target else list(top.values())
            placed = False
            for candidate in candidates:
                # Only the detached signature here: a PDF's embedded ones are verified once, below.
                report = self._verify_detached(candidate.path, upload.path, upload.name)
                matching = [s for s in report.signatures if not any(c.name == "content.digest" and not c.passed for c in s.checks)]
                if target is not None or matching or len(candidates) == 1:
                    if report.sub_indication is not None:
                        self.checks.append(finding("signature.format", file=upload.name, detail="; ".join(report.problems)))
                    for signature_report in report.signatures:
                        renamed = _with_file(signature_report, upload.name)
                        candidate.reports.append(renamed)
                        self.signed.append(SignedFile(candidate.name, renamed))
                    placed = True
                    break
            if not placed:
                self.checks.append(finding("signature.invalid", file=upload.name, detail="the signature matches none of the uploaded files"))
        # PDF documents uploaded directly may carry embedded signatures.
        for document in top.values():
            if self.kinds.get(document.name) is FileKind.PDF:
                self._verify(document, None, embedded=True)

    # --- signing rules ---------------------------------------------------------------

    def signing_rules(self, member: Member) -> None:
        containers = {d.name: d for d in self.documents if "/" not in d.name and self.kinds.get(d.name) in (FileKind.ZIP, FileKind.RAR)}
        is_report = self.ctx.doc_type == "report"
        appointment = any(any(h in n.lower() for h in APPOINTMENT_NAME_HINTS) for n in self.all_names)
        for document in self.documents:
            reported = []
            for report in document.reports:
                reported.extend(signature_findings(report, document.name))
                if report.signer is not None and not signer_is_member(report, member):
                    reported.append(
                        finding(
                            "signer.foreign_org",
                            file=document.name,
                            detail=f"certificate OGRN {report.signer.ogrn}, INN LE {report.signer.inn_le}; member OGRN {member.ogrn}, INN {member.inn}",
                        )
                    )
                elif is_report and usable(report) and not appointment and not signer_is_head(report, member):
                    reported.append(
                        finding(
                            "signer.not_head",
                            file=document.name,
                            detail=f"signed by {report.signer.full_name if report.signer else '?'}; head per member list: {member.head}",
                        )
                    )
            self.checks.extend(reported)
            if any(usable(r) for r in document.reports):
                continue
            # A detached signature over the whole archive also satisfies the rule (SPEC 3).
            container = document.name.split("/", 1)[0]
            if container != document.name and container in containers and any(usable(r) for r in containers[container].reports):
                continue
            if container in containers and document.name == container:
                continue  # an archive needs no signature of its own when its contents are signed
            if not document.reports:
                self.checks.append(finding("signature.missing", file=document.name, detail="no detached (.sig/.p7s/.sgn) or embedded signature found"))
        if is_report and self.ctx.report_kind == "OD_Y90":
            if not any(any(h in n.lower() for h in ACCOUNTING_NAME_HINTS) for n in self.all_names if "/" in n):
                self.checks.append(finding("report.accounting_missing", detail="no file named like annual accounting statements (бухгалтерская отчетность, баланс, БФО, 0710001)"))

    def archives_need_signed_content(self) -> None:
        """An archive without signed content and without a signature of its own."""
        for document in self.documents:
            if self.kinds.get(document.name) in (FileKind.ZIP, FileKind.RAR) and "/" not in document.name:
                inside = [d for d in self.documents if d.name.startswith(document.name + "/")]
                if not inside and not any(usable(r) for r in document.reports) and not any(
                    c.code.startswith("archive.") for c in self.checks
                ):
                    self.checks.append(finding("signature.missing", file=document.name, detail="the archive holds no signed document"))


def _with_file(report: SignatureReport, signature_file: str) -> SignatureReport:
    return dataclasses.replace(report, signature_file=signature_file)


def validate_package(files: list[UploadedFile], ctx: ValidationContext) -> PackageResult:
    """Every finding about a package, its signature reports and the member it came from."""
    run = _Run(files, ctx)
    member, go_on = run.request()
    if not go_on or member is None:
        return PackageResult(tuple(run.checks), (), member)
    files_ok = run.file_rules()
    if files_ok:
        run.collect_documents()
        run.uploaded_signatures()
        run.archives_need_signed_content()
        run.signing_rules(member)
    return PackageResult(tuple(_dedupe(run.checks)), tuple(run.signed), member, tuple(d.name for d in run.documents))


def _dedupe(checks: list[Check]) -> list[Check]:
    seen: set[tuple[str, str | None, str]] = set()
    unique = []
    for check in checks:
        key = (check.code, check.file, check.detail)
        if key not in seen:
            seen.add(key)
            unique.append(check)
    return unique

