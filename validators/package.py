"""Validation of one submitted package: every rule of SPEC sections 2, 3 and 5.

Pure with respect to the gateway: it reads the stored files and the context (member list,
trust store, limits, clock through the verification policy) and writes only below
``context.workdir`` (unpacked archives, content of attached signatures). It never raises
for bad input; the caller gets every finding at once (no fail-fast), the signature
reports, and a description of the files.

Order: member and request → file types, sizes and names (an attached CMS in a document
slot is judged by the content it carries) → archive unpacking (limits enforced while
reading) → PDF structure → signatures (a file is a signature only if it parses completely
as CMS SignedData: detached ones matched to the file they are named after, attached ones
verified and their content judged as a document, PDF-embedded ones) → signing rules
(every document signed with a qualified signature; whose signature may sign which
document type, :meth:`_Run._may_sign`; third-party signatures in supporting archives;
appointment orders and the annual report's accounting statements recognised by content).
"""

from __future__ import annotations

import dataclasses
import filecmp
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validators.archives import ArchiveLimits, ExtractedFile, extract_archive
from validators.catalogue import DOC_TYPES, REGULATION_KINDS, REPORT_KINDS, Slot
from validators.checks import Check, Severity, finding
from validators.content import (
    OKUD_CODES,
    DocumentText,
    Readability,
    has_appointment_wording,
    is_accounting_statements,
    looks_like_accounting_by_name,
    looks_like_appointment_by_name,
    names_person,
    read_text,
)
from validators.digests import FileDigests
from validators.files import EXTENSIONS, FileKind, FileType, check_file, detect_type
from validators.members import Member, MemberList, normalise_person_name
from validators.names import check_report_name
from validators.pdf_structure import check_pdf
from validators.poa.package import PackagePowers, PoaSettings, split_uploads  # МЧД (issue 11 §1)
from validators.poa.verify import PoaVerdict
from validators.signatures.cms import CmsFormatError
from validators.signatures.locate import parse_signature_file, signed_name, verify_document
from validators.signatures.model import Indication, SignatureReport, SubIndication, VerificationReport
from validators.signatures.verify import MAX_SIGNATURE_FILE_SIZE, VerificationPolicy, load_signature_file, verify_cms
from validators.signers import SignerRole, describe_signer, person_key, signature_findings, signer_role, usable
from validators.trust import TrustStore

__all__ = [
    "UploadedFile",
    "PackageLimits",
    "ValidationContext",
    "SignedFile",
    "PackageResult",
    "validate_package",
]

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
    poa: PoaSettings = PoaSettings()
    """МЧД (issue 11 §1): the operator's revoked list and the optional online registry."""
    digests: Mapping[Path, FileDigests] = field(default_factory=dict)
    """Digests of uploaded files already computed or under way (the gateway's blob store),
    so the verifier does not read a file again for them."""


@dataclass(frozen=True, slots=True)
class SignedFile:
    """A signature report and the package file it belongs to."""

    file: str
    report: SignatureReport
    power_of_attorney: dict[str, Any] | None = None
    """МЧД (issue 11 §1): the representative's power of attorney, when the signer is one."""

    def to_json(self) -> dict[str, Any]:
        data = {"file": self.file, **self.report.to_json()}
        if self.power_of_attorney is not None:
            data["power_of_attorney"] = self.power_of_attorney
        return data


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
    """Package path shown to the member (``Приложение.zip/Устав.pdf.sig``)."""
    path: Path
    """The bytes judged: the file itself, or the content extracted from an attached CMS."""
    kind: FileKind = FileKind.OTHER
    """Kind of ``path`` by content."""
    supporting: bool = False
    """Inside the supporting archive of a letter-like type: may carry third-party signatures."""
    reports: list[SignatureReport] = field(default_factory=list)
    file_type: FileType | None = None
    """What ``path`` is, when already detected."""


#: What is never a document inside an archive (libmagic MIME types, prefixes): programs,
#: scripts, and archive formats the gateway cannot open (so it could not judge their
#: contents). Anything else -- PDF, XML, office files, images, text, or data libmagic
#: cannot name (formats of accounting software) -- is a document that must be signed.
NOT_DOCUMENT_MIME_PREFIXES = (
    "application/x-executable",
    "application/x-pie-executable",
    "application/x-sharedlib",
    "application/x-dosexec",
    "application/x-msdownload",
    "application/x-msi",
    "application/x-ms-installer",
    "application/vnd.microsoft.portable-executable",
    "application/x-mach-binary",
    "application/x-elf",
    "application/java-archive",
    "application/x-java-applet",
    "application/javascript",
    "application/x-shellscript",
    "text/x-shellscript",
    "text/x-python",
    "text/x-perl",
    "text/x-php",
    "text/x-msdos-batch",
    "text/javascript",
    "application/x-7z-compressed",
    "application/gzip",
    "application/x-gzip",
    "application/x-bzip2",
    "application/x-xz",
    "application/x-tar",
    "application/vnd.ms-cab-compressed",
    "application/x-iso9660-image",
    "application/zstd",
    "application/x-ms-shortcut",  # .lnk: runs any command line
    "application/x-mswinurl",  # .url: opens file:// or SMB targets
    "application/vnd.ms-htmlhelp",  # .chm: compiled HTML with scripts
)


#: Extensions Windows runs, opens in a script host or mounts when a person double-clicks
#: the file in an unpacked archive, whatever its content (libmagic calls a VBScript or a
#: PowerShell script "text/plain"): such a file is never a document (``file.not_document``).
WINDOWS_RUNNABLE_EXTENSIONS = frozenset(
    {".exe", ".com", ".scr", ".pif", ".cpl", ".dll", ".sys", ".drv", ".ocx", ".msi", ".msp", ".mst", ".msc"}
    | {".bat", ".cmd", ".vb", ".vbs", ".vbe", ".js", ".jse", ".wsf", ".wsh", ".wsc", ".sct", ".hta"}
    | {".ps1", ".psm1", ".psd1", ".ps1xml", ".psc1", ".msh", ".msh1", ".msh2", ".mshxml"}
    | {".lnk", ".url", ".scf", ".reg", ".inf", ".chm", ".hlp", ".jar", ".application", ".appref-ms", ".gadget"}
    | {".settingcontent-ms", ".library-ms", ".xbap", ".appx", ".appxbundle", ".msix", ".msixbundle"}
    | {".iso", ".img", ".vhd", ".vhdx"}
)


def _windows_runnable(name: str) -> str | None:
    """The extension of ``name`` when Windows would run or mount it (an NTFS stream suffix
    such as ``::$DATA`` and trailing dots and spaces dropped, as Windows drops them), else None."""
    base = name.rsplit("/", 1)[-1].split(":", 1)[0].rstrip(" .")
    extension = "." + base.rsplit(".", 1)[1].lower() if "." in base else ""
    return extension if extension in WINDOWS_RUNNABLE_EXTENSIONS else None


#: Documents whose text is read per package (orders, statements): the rest count as unreadable.
MAX_TEXTS_READ = 20


#: macOS metadata beside each file it archives (``__MACOSX/._Справка.pdf``, or ``._x`` copied
#: from a Mac volume): the AppleDouble header, magic 0x00051607 version 2 (RFC 1740).
_APPLE_DOUBLE_MAGIC = bytes.fromhex("0005160700020000")
_APPLE_DOUBLE_MAX_BYTES = 64 << 10


def _is_apple_double(item: ExtractedFile) -> bool:
    """A small AppleDouble file named ``._<name>``: file-system metadata (Finder info,
    extended attributes such as the download quarantine), not a document, whatever
    ``<name>`` says. Judged by content and size, not by the name alone."""
    if not item.name.rsplit("/", 1)[-1].startswith("._") or item.size > _APPLE_DOUBLE_MAX_BYTES:
        return False
    with open(item.path, "rb") as stream:
        return stream.read(len(_APPLE_DOUBLE_MAGIC)) == _APPLE_DOUBLE_MAGIC


def _is_document_type(file_type: FileType) -> bool:
    return file_type.kind is not FileKind.SIGNATURE and not file_type.mime.startswith(NOT_DOCUMENT_MIME_PREFIXES)


def _extension_agrees(name: str, kind: FileKind) -> bool:
    """The extension of ``name`` agrees with ``kind``: it is one of the kind's extensions,
    and a content of another kind (a text, an image) is not named like a PDF, an archive
    or a signature."""
    base = name.rsplit("/", 1)[-1]
    extension = "." + base.rsplit(".", 1)[1].lower() if "." in base else ""
    if kind in EXTENSIONS:
        return extension in EXTENSIONS[kind]
    return not any(extension in extensions for extensions in EXTENSIONS.values())


class _Run:
    def __init__(self, files: list[UploadedFile], ctx: ValidationContext, poa_uploads: list[UploadedFile] | None = None) -> None:
        self.files = files
        self.poa_uploads = poa_uploads or []
        self.ctx = ctx
        self.checks: list[Check] = []
        self.signed: list[SignedFile] = []
        self.documents: list[_Document] = []
        self.kinds: dict[str, FileKind] = {}
        self.all_names: list[str] = []
        self.unreadable_pdfs: set[str] = set()
        self.attached: dict[str, tuple[Path, VerificationReport]] = {}
        """Upload name -> (content extracted from the attached CMS, that signature's report)."""
        self._extracted = 0
        self._unpacked_into: dict[Path, Path] = {}
        self._by_name: dict[str, _Document] | None = None
        """The documents by name, once all are collected (:meth:`_signed_by_member`)."""
        """Archive (its bytes) -> the folder its files were extracted to (see :meth:`_inside`)."""
        self._spent_bytes = 0
        self._spent_entries = 0
        """What archives and attached signatures have written so far: one budget (the
        archive limits) for the whole package, so that archives carried by attached
        signatures cannot multiply it."""
        self._texts: dict[str, DocumentText] = {}
        self.attachment_names = {f.name for f in files if f.slot is Slot.ATTACHMENT}

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

    def file_rules(self, member: Member) -> bool:
        doc_type = DOC_TYPES[self.ctx.doc_type]
        # The run keeps what it learns about an upload by its name (kind, attached content,
        # signature pairing): two uploads under one name would have one judged for both.
        # Detached signatures are each verified by themselves, so they may share a name.
        uploads = (*self.files, *self.poa_uploads)
        names = Counter(f.name for f in uploads)
        twice = sorted(n for n, count in names.items() if count > 1 and any(f.name == n and f.slot is not Slot.SIGNATURE for f in uploads))
        if twice:
            for name in twice:
                self.checks.append(finding("request.duplicate_name", file=name, detail=f"{names[name]} uploads are named {name!r}"))
            return False
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
            if upload.slot is Slot.SIGNATURE:
                file_type, found = check_file(upload.path, upload.name, frozenset({FileKind.SIGNATURE}), self.ctx.limits.for_slot(upload.slot))
                kind = file_type.kind if file_type else None
                if file_type is not None and file_type.cms_problem is not None:
                    # Begins like a CMS but is not a complete one: a broken signature file.
                    found = [c for c in found if c.code != "file.type_not_allowed"]
                    found.append(finding("signature.format", file=upload.name, detail=file_type.cms_problem))
            else:
                found, kind = self._document_upload(upload, frozenset(FileKind(k) for k in doc_type.slots[upload.slot].kinds))
            self.checks.extend(found)
            if kind is not None:
                self.kinds[upload.name] = kind
            if any(c.severity is Severity.FATAL for c in found):
                ok = False
        if doc_type.code == "report":
            for upload in self.files:
                if upload.slot is Slot.DOCUMENT:
                    # An attached report (``42_OD.zip.sig``) is named after the ZIP it carries.
                    name = (signed_name(upload.name) if upload.name in self.attached else None) or upload.name
                    self.checks.extend(check_report_name(name, member.number, self.ctx.report_kind or ""))
        return ok

    def _document_upload(self, upload: UploadedFile, allowed: frozenset[FileKind]) -> tuple[list[Check], FileKind | None]:
        """A document or attachment part: the file itself, or an attached CMS carrying it.

        An attached signature (``Устав.pdf.sig``, as КриптоАРМ and ``cryptcp`` write by
        default) is judged by its content: the content must be of a kind the slot allows
        and agree with its own name (the upload's without the signature extension).
        """
        limit = self.ctx.limits.for_slot(upload.slot)
        file_type, found = check_file(upload.path, upload.name, allowed | {FileKind.SIGNATURE}, limit)
        if file_type is None or file_type.kind is not FileKind.SIGNATURE:
            return found, file_type.kind if file_type else None
        found = [c for c in found if c.code != "file.extension_mismatch"]
        if not file_type.attached:
            expected = ", ".join(sorted(k.value for k in allowed))
            detail = f"a detached signature without its document; allowed here: {expected} (or an attached signature carrying one)"
            return [*found, finding("file.type_not_allowed", file=upload.name, detail=detail)], None
        content = self._extract_attached(upload.path, upload.name, limit)
        if isinstance(content, Check):
            return [*found, content], None
        inner_name = signed_name(upload.name) or upload.name
        inner_type, inner_found = check_file(content, inner_name, allowed, limit)
        for check in inner_found:
            if check.code == "file.extension_mismatch" and "." not in inner_name:
                continue  # ``Устав.p7m``: the content's own name has no extension to disagree with
            found.append(dataclasses.replace(check, file=upload.name, detail=f"content of the attached signature: {check.detail}"))
        if inner_type is None:
            return found, None
        report = verify_cms(load_signature_file(upload.path), self.ctx.trust, self.ctx.policy, signature_file=upload.name)
        self.attached[upload.name] = (content, report)
        return found, inner_type.kind

    def _extract_attached(self, path: Path, name: str, limit: int) -> Path | Check:
        """Write the content of an attached CMS to the workdir (at most ``limit`` bytes)."""
        try:
            parsed = parse_signature_file(path, min(limit, MAX_SIGNATURE_FILE_SIZE))
        except CmsFormatError as exc:
            return finding("signature.format", file=name, detail=str(exc))
        if parsed.content is None:
            return finding("signature.format", file=name, detail="the signature carries no content")
        if len(parsed.content) > limit:
            return finding("file.too_large", file=name, detail=f"the attached content has {len(parsed.content)} bytes, the limit is {limit} bytes")
        budget = self.ctx.limits.archive.max_total_bytes
        if self._spent_bytes + len(parsed.content) > budget:
            return finding("archive.too_large", file=name, detail=f"the attached content ({len(parsed.content)} bytes) would exceed the package's {budget} bytes of extracted data")
        self._spent_bytes += len(parsed.content)
        self._extracted += 1
        folder = self.ctx.workdir / f"attached-{self._extracted}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "content"
        target.write_bytes(parsed.content)
        return target

    # --- documents ---------------------------------------------------------------

    def collect_documents(self) -> None:
        for index, upload in enumerate(f for f in self.files if f.slot is not Slot.SIGNATURE):
            kind = self.kinds.get(upload.name)
            self.all_names.append(upload.name)
            document = _Document(upload.name, upload.path, kind or FileKind.OTHER)
            if upload.name in self.attached:
                document.path, report = self.attached[upload.name]
                self._record(document, report, signature=True)
            if kind is FileKind.PDF:
                self._check_pdf(document.path, upload.name)
                self.documents.append(document)
            elif kind in (FileKind.ZIP, FileKind.RAR):
                self.documents.append(document)
                self._unpack(document.path, upload.name, index, supporting=upload.slot is Slot.ATTACHMENT)

    def _check_pdf(self, path: Path, name: str) -> None:
        found = check_pdf(path, name)
        if any(c.code in ("pdf.corrupt", "pdf.encrypted") for c in found):
            self.unreadable_pdfs.add(name)
        self.checks.extend(found)

    def _unpack(self, path: Path, name: str, index: int | str, supporting: bool, attached_depth: int = 0) -> None:
        """Extract an archive and judge each file in it. ``attached_depth``: how many
        attached signatures carry this archive (one level is followed, see
        :meth:`_attached_in_archive`)."""
        dest = self.ctx.workdir / f"archive-{index}"
        self._unpacked_into[path] = dest
        limits = self.ctx.limits.archive
        remaining = dataclasses.replace(
            limits,
            max_total_bytes=max(1, limits.max_total_bytes - self._spent_bytes),
            max_entries=max(1, limits.max_entries - self._spent_entries),
        )
        result = extract_archive(path, dest, name, remaining)
        self._spent_bytes += sum(f.size for f in result.files)
        self._spent_entries += len(result.files)
        self.checks.extend(result.checks)
        if any(c.severity is Severity.FATAL for c in result.checks):
            return  # a refused archive: its contents are not judged further
        first_document = len(self.documents)
        inner: dict[str, ExtractedFile] = {f.name: f for f in result.files}
        self.all_names.extend(inner)
        types = {item.name: detect_type(item.path) for item in result.files}
        # A signature is what parses completely as CMS SignedData (never a name or a byte
        # prefix); a detached one belongs to the file it is named after.
        signatures: dict[str, list[ExtractedFile]] = {}
        # Windows names ignore letter case: «Скан.PDF» signed, then renamed «Скан.pdf»,
        # keeps «Скан.PDF.sig». The one document whose name differs only in case is meant.
        # And «Отчет.sig» beside «Отчет.xml»: a signature named after the document without
        # its extension, when exactly one document there has that name.
        folded: dict[str, list[str]] = {}
        stems: dict[str, list[str]] = {}
        for other in inner:
            folded.setdefault(other.casefold(), []).append(other)
            if types[other].kind is not FileKind.SIGNATURE and "." in other.rsplit("/", 1)[-1]:
                stems.setdefault(other.rsplit(".", 1)[0].casefold(), []).append(other)
        for item in result.files:
            if types[item.name].kind is FileKind.SIGNATURE:
                target = signed_name(item.name)
                if target is not None and target not in inner and len(folded.get(target.casefold(), ())) == 1:
                    target = folded[target.casefold()][0]
                elif target is not None and target not in inner and len(stems.get(target.casefold(), ())) == 1:
                    target = stems[target.casefold()][0]
                if target is not None and target in inner and types[target].kind is not FileKind.SIGNATURE:
                    signatures.setdefault(target, []).append(item)
        paired = {s.name for group in signatures.values() for s in group}
        for item in result.files:
            file_type = types[item.name]
            kind = file_type.kind
            if _is_apple_double(item):
                continue  # macOS Archive Utility's __MACOSX/._name: metadata, not a document
            if kind in (FileKind.ZIP, FileKind.RAR):
                # A container: its files follow in the listing. One signed as a whole (an
                # XBRL package beside its .sig) is a document whose signature covers them.
                if item.name in signatures:
                    container = _Document(item.name, item.path, kind, supporting, file_type=file_type)
                    for signature in signatures[item.name]:
                        self._verify(container, signature.path, embedded=False, signature_name=signature.name)
                    self.documents.append(container)
                continue
            if kind is FileKind.SIGNATURE:
                if item.name in paired:
                    continue
                if file_type.attached:
                    self._attached_in_archive(item, supporting, attached_depth)
                else:
                    self.checks.append(finding("signature.format", file=item.name, detail="a detached signature without the document it is named after"))
                continue
            if signed_name(item.name) is not None:
                if kind is FileKind.OTHER:
                    # Named like a signature, but not a complete CMS SignedData.
                    self.checks.append(finding("signature.format", file=item.name, detail=f"not a CMS signature: {file_type.description}"[:500]))
                    continue
                detail = f"named like a signature, but the content is {file_type.mime} ({file_type.description})"
                self.checks.append(finding("file.extension_mismatch", file=item.name, detail=detail[:500]))
            elif not _is_document_type(file_type):
                self.checks.append(finding("file.not_document", file=item.name, detail=f"content is {file_type.mime} ({file_type.description})"[:500]))
                continue
            elif runnable := _windows_runnable(item.name):
                detail = f"Windows runs or mounts {runnable} files on a double click, whatever the content ({file_type.mime})"
                self.checks.append(finding("file.not_document", file=item.name, detail=detail[:500]))
                continue
            elif not _extension_agrees(item.name, kind):
                self.checks.append(finding("file.extension_mismatch", file=item.name, detail=f"content is {kind.value} ({file_type.mime})"))
            document = _Document(item.name, item.path, kind, supporting, file_type=file_type)
            if kind is FileKind.PDF:
                self._check_pdf(item.path, item.name)
            for signature in signatures.get(item.name, []):
                self._verify(document, signature.path, embedded=False, signature_name=signature.name)
            if kind is FileKind.PDF:
                self._verify(document, None, embedded=True)
            self.documents.append(document)
        added = self.documents[first_document:]
        if added and not any(d.path.stat().st_size > 0 for d in added):
            # Signed empty files are no documents: an archive of nothing but them (detached
            # signatures over 0 bytes, attached ones carrying 0 bytes) "filed" a report.
            self.checks.append(finding("archive.empty", file=name, detail="every document in the archive is empty (0 bytes)"))

    def _attached_in_archive(self, item: ExtractedFile, supporting: bool, attached_depth: int) -> None:
        """An attached CMS inside an archive: verified, its content extracted and judged by
        its real type (a PDF inside is checked as a PDF, embedded signatures included)."""
        content = self._extract_attached(item.path, item.name, self.ctx.limits.archive.max_entry_bytes)
        if isinstance(content, Check):
            self.checks.append(content)
            return
        content_type = detect_type(content)
        inner_name = (signed_name(item.name) or item.name).rsplit("/", 1)[-1]
        if content_type.kind is FileKind.SIGNATURE or not _is_document_type(content_type):
            detail = f"content of the attached signature is {content_type.mime} ({content_type.description})"
            self.checks.append(finding("file.not_document", file=item.name, detail=detail[:500]))
        elif runnable := _windows_runnable(inner_name):
            detail = f"the attached content is named {inner_name!r}: Windows runs or mounts {runnable} files, whatever the content"
            self.checks.append(finding("file.not_document", file=item.name, detail=detail[:500]))
        elif "." in inner_name and not _extension_agrees(inner_name, content_type.kind):
            detail = f"the attached content is {content_type.kind.value} ({content_type.mime}), named {inner_name!r}"
            self.checks.append(finding("file.extension_mismatch", file=item.name, detail=detail))
        document = _Document(item.name, content, content_type.kind, supporting, file_type=content_type)
        report = verify_cms(load_signature_file(item.path), self.ctx.trust, self.ctx.policy, signature_file=item.name.rsplit("/", 1)[-1])
        self._record(document, report, signature=True)
        if content_type.kind is FileKind.PDF:
            self._check_pdf(content, item.name)
            self._verify(document, None, embedded=True)
        elif content_type.kind in (FileKind.ZIP, FileKind.RAR):
            if attached_depth > 0:
                # One level only: an archive in an attached signature in an archive that an
                # attached signature carries.
                self.checks.append(finding("archive.nested_too_deep", file=item.name, detail="an archive in an attached signature inside another one"))
            else:
                self._unpack(content, item.name, f"attached-{self._extracted}", supporting, attached_depth + 1)
        self.documents.append(document)

    def _record(self, document: _Document, report: VerificationReport, signature: bool) -> None:
        """Add the signatures of one verification to ``document`` and to the package result."""
        for problem in report.problems if report.sub_indication is not None else ():
            if not signature and document.name in self.unreadable_pdfs:
                continue  # already reported by the PDF structure check (pdf.corrupt / pdf.encrypted)
            self.checks.append(finding("signature.format" if signature else "pdf.corrupt", file=document.name, detail=problem))
        for signature_report in report.signatures:
            document.reports.append(signature_report)
            self.signed.append(SignedFile(document.name, signature_report))
        for stamp in report.timestamps:
            # A PDF document time-stamp that does not validate proves nothing and is never
            # silently ignored; an undecidable TSA revocation status waits like a signer's.
            if stamp.indication is not Indication.TOTAL_PASSED:
                code = "signature.revocation_unknown" if stamp.sub_indication is SubIndication.TRY_LATER else "pdf.timestamp_invalid"
                detail = "; ".join(f"{c.name}: {c.detail}" for c in stamp.failed_checks())
                self.checks.append(finding(code, file=document.name, detail=f"document time-stamp {stamp.signature_file}: {detail}"))

    def _verify_detached(self, document: Path, signature: Path, name: str) -> VerificationReport:
        try:
            data = load_signature_file(signature)
        except CmsFormatError as exc:
            return VerificationReport(None, (), SubIndication.FORMAT_FAILURE, (f"{name}: {exc}",))
        return verify_cms(data, self.ctx.trust, self.ctx.policy, document=self.ctx.digests.get(document, document), signature_file=name)

    def _verify(self, document: _Document, signature: Path | None, embedded: bool, signature_name: str | None = None) -> None:
        if signature is not None:
            report = self._verify_detached(document.path, signature, (signature_name or signature.name).rsplit("/", 1)[-1])
        elif embedded:
            # Only what the PDF itself carries: its detached signatures are paired by the
            # package (looking beside it again verified and listed them twice).
            report = verify_document(document.path, self.ctx.trust, self.ctx.policy, digests=self.ctx.digests.get(document.path), discover=False)
        else:
            return
        self._record(document, report, signature=signature is not None)

    # --- uploaded detached signatures ---------------------------------------------------

    def uploaded_signatures(self) -> None:
        top = {d.name: d for d in self.documents if "/" not in d.name}
        for upload in (f for f in self.files if f.slot is Slot.SIGNATURE):
            if self.kinds.get(upload.name) is not FileKind.SIGNATURE:
                continue  # already reported by the file rules
            target = top.get(signed_name(upload.name) or "")
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
        # PDF documents uploaded directly (or carried by an attached CMS) may have embedded signatures.
        for document in top.values():
            if self.kinds.get(document.name) is FileKind.PDF:
                self._verify(document, None, embedded=True)

    # --- signing rules ---------------------------------------------------------------

    def signing_rules(self, member: Member) -> None:
        """Every document signed with a usable signature, by someone who may sign it for
        the member (SPEC 3, issue 11 §2); the annual report's accounting statements."""
        containers = {d.name: d for d in self.documents if "/" not in d.name and self.kinds.get(d.name) in (FileKind.ZIP, FileKind.RAR)}
        by_name = {d.name: d for d in self.documents}
        appointments = _Appointments(self, member) if self.ctx.doc_type == "report" else None
        # МЧД (issue 11 §1): read lazily, only when a natural person signed something.
        self._powers = PackagePowers(self.poa_uploads, [(d.name, d.path, d.reports) for d in self.documents if "/" in d.name], self.ctx)
        # An МЧД uploaded as its own part is a document of the package, judged as if it lay
        # where members otherwise put it: in the supporting archive of a letter-like type,
        # among the package's own files otherwise (a report's ZIP). Every signature on it is
        # listed and judged, who signed it too, and an unsigned one is unsigned: the same
        # findings either way.
        uploaded_poa = self._uploaded_poa_documents()
        self._signatures_of_packed_copies()
        # Its signature file that is no CMS: what file rules say of one in the archive.
        for source in self._powers.uploaded_sources() if self.poa_uploads else ():
            if source.signature_problems:
                signature = next((f.name for f in self.poa_uploads if f.name.lower().startswith(source.name.lower() + ".")), source.name)
                self.checks.append(finding("signature.format", file=signature, detail="; ".join(source.signature_problems)[:500]))
        for document in uploaded_poa:
            for report in document.reports:
                self.signed.append(SignedFile(document.name, report))
        for document in [*uploaded_poa, *self.documents]:
            for report in document.reports:
                self.checks.extend(signature_findings(report, document.name))
            self.checks.extend(self._whose(document, member, appointments))
            if any(usable(r) for r in document.reports):
                continue
            # A signature over an enclosing archive (detached over the whole archive, or an
            # attached one carrying it) also satisfies the rule (SPEC 3).
            parts = document.name.split("/")
            enclosing = (by_name.get("/".join(parts[:i])) for i in range(1, len(parts)))
            if any(d is not None and any(usable(r) for r in d.reports) and self._inside(document, d) for d in enclosing):
                continue
            if document.name in containers:
                continue  # an archive needs no signature of its own when its contents are signed
            if not document.reports and self._copy_of_signed(document):
                continue  # the cover letter re-sent packed (seed rule): its signature covers these bytes
            if not document.reports:
                self.checks.append(finding("signature.missing", file=document.name, detail="no detached (.sig/.p7s/.sgn), attached or embedded signature found"))
        if appointments is not None:
            self.checks.extend(appointments.findings)
        if self.ctx.doc_type == "report" and self.ctx.report_kind == "OD_Y90":
            self.checks.extend(self._accounting_statements(member))

    def _signatures_of_packed_copies(self) -> None:
        """An uploaded document without a signature of its own takes the signatures of a
        byte-identical copy in an archive of the package: the member packed the signed
        cover letter with its ``.sig`` as the supporting archive (seed rule) and uploaded
        the PDF alone as the cover. They are judged as the uploaded document's own (who
        may sign it included), since they cover exactly its bytes."""
        for own in self.documents:
            if "/" in own.name or own.reports or own.kind in (FileKind.ZIP, FileKind.RAR):
                continue
            size = own.path.stat().st_size
            for copy in self.documents:
                if "/" in copy.name and copy.reports and copy.path.stat().st_size == size and filecmp.cmp(own.path, copy.path, shallow=False):
                    own.reports.extend(copy.reports)

    def _copy_of_signed(self, document: _Document) -> bool:
        """``document`` (in an archive) is byte for byte one of the package's uploaded
        documents that carries a usable signature. The instruction has members with
        nothing to support re-send the cover letter «повторно … в формате RAR или ZIP»:
        the PDF packed alone, its detached signature being in the signature part. Who
        signed is judged on the uploaded document itself."""
        if "/" not in document.name:
            return False
        size = document.path.stat().st_size
        return any(
            "/" not in own.name and own.kind is not FileKind.ZIP and own.kind is not FileKind.RAR
            and any(usable(r) for r in own.reports)
            and own.path.stat().st_size == size and filecmp.cmp(own.path, document.path, shallow=False)
            for own in self.documents
        )

    def _inside(self, document: _Document, container: _Document) -> bool:
        """``document`` was really extracted from ``container``, not merely named as if.

        An uploaded archive holds every name under it. Inside an archive, names alone do
        not prove it: an entry ``a.zip/x.pdf`` (a folder named like the signed ``a.zip``
        beside it) would pass for a file of ``a.zip``. What was extracted from an archive
        lies in its own folder: the one :meth:`_unpack` used, or the walker's ``<file>.d``
        for an archive nested in another (``validators.archives.walk.expand_nested``).
        """
        if "/" not in container.name:
            return True
        folder = self._unpacked_into.get(container.path) or container.path.with_name(container.path.name + ".d")
        return folder.is_dir() and document.path.resolve().is_relative_to(folder.resolve())

    def _uploaded_poa_documents(self) -> list[_Document]:
        """The МЧД uploaded as their own part, as documents of the package with their
        verified signatures (supporting in a letter-like type, as in its archive)."""
        if not self.poa_uploads:
            return []
        supporting = Slot.ATTACHMENT in DOC_TYPES[self.ctx.doc_type].slots
        paths = {f.name: f.path for f in self.poa_uploads}
        return [
            _Document(source.name, paths.get(source.name, Path(source.name)), supporting=supporting, reports=list(source.signature_reports))
            for source in self._powers.uploaded_sources()
        ]

    def _whose(self, document: _Document, member: Member, appointments: _Appointments | None) -> list[Check]:
        """Findings about who signed ``document`` (validity is judged elsewhere).

        * Supporting documents of a letter-like package (inside its archive) keep the
          signatures of whoever issued them: a valid one of another organisation (an ЕГРЮЛ
          extract signed by the ФНС, an auditor's report, a court decision) or of a person
          is reported for information (``signature.third_party``); for
          ``audit_conclusion`` a person's signature is the expected one (the commission's
          chair signs as a person) and is not reported.
        * Everything else is the package's own: another organisation's certificate there
          is ``signer.foreign_org`` for every document type; and at least one usable
          signature must be by someone who may sign this document type
          (:meth:`_may_sign`), else the findings of :meth:`_not_allowed`.
        """
        signed = [(r, signer_role(r, member)) for r in document.reports if r.signer is not None]
        if document.supporting:
            found: list[Check] = []
            for r, role in signed:
                if not usable(r) or role not in (SignerRole.OTHER_ORG, SignerRole.PERSON):
                    continue
                if role is SignerRole.PERSON:
                    if self.ctx.doc_type == "audit_conclusion":
                        continue
                    # A person named in one of the package's МЧД signs as the member's
                    # representative; anyone else is a third party.
                    verdict = self._powers.judge(r, member, document.name)
                    if verdict.poa is not None:
                        found.extend(self._record_power(r, verdict))
                        continue
                    if self._signs_own_documents(r):
                        continue  # judged (and reported) on the package's own documents
                found.append(finding("signature.third_party", file=document.name, detail=describe_signer(r)))
            return found
        found = [
            finding("signer.foreign_org", file=document.name, detail=f"{describe_signer(r)}; member OGRN {member.ogrn}, INN {member.inn}")
            for r, role in signed
            if role is SignerRole.OTHER_ORG
        ]
        candidates = [(r, role) for r, role in signed if usable(r) and role is not SignerRole.OTHER_ORG]
        if not candidates:
            return found  # no usable signature of the member's side: the validity findings say why
        verdicts = [self._may_sign(r, role, document, member, appointments) for r, role in candidates]
        if any(v == [] for v in verdicts):
            return found
        return found + verdicts[0]

    def _may_sign(
        self, report: SignatureReport, role: SignerRole, document: _Document, member: Member, appointments: _Appointments | None
    ) -> list[Check]:
        """Empty when this signer may sign ``document`` for the member; else why not.

        Reports: the ЕИО, or an acting head with an appointment document (4083-U items 6,
        8). Letter-like types: the ЕИО only (the instruction: «с подписью ЕИО»); a signature
        over the supporting archive as a whole, and charters and regulations: the member's
        organisation certificate. Anywhere, a natural person
        with a personal certificate signs only as the member's representative under an
        МЧД (:meth:`_representative`).
        """
        doc_type = self.ctx.doc_type
        problems: list[Check] = []
        if role is SignerRole.HEAD:
            return []
        if role is SignerRole.PERSON:
            # The one place where "a natural person with a personal certificate, not the
            # organisation's head" is judged: their authority is a power of attorney.
            poa = self._representative(report, document, member)
            if doc_type != "report" or (appointments is not None and appointments.appointed(report)):
                return poa
            # A report: the representative must also be the appointed acting head (4083-U
            # item 8); both problems are named so the member can fix them at once.
            problems = [c for c in poa if c.severity in (Severity.FATAL, Severity.FIXABLE)]
        elif doc_type == "report" and appointments is not None and appointments.appointed(report):
            return []
        elif doc_type in ("charter", "regulation") or document.name in self.attachment_names:
            # The supporting archive itself needs the member's signature, not the head's:
            # the cover letter is what the head signs.
            return []
        who = describe_signer(report)
        if doc_type == "report":
            return [*problems, finding("signer.not_head", file=document.name, detail=f"signed by {who}; head per member list: {member.head}; {appointments.summary(report) if appointments else ''}")]
        return [finding("signer.not_authorised", file=document.name, detail=f"signed by {who}; head per member list: {member.head}; no power of attorney (МЧД) recognised")]

    def _representative(self, report: SignatureReport, document: _Document, member: Member) -> list[Check]:
        """The МЧД that authorises a natural person (personal certificate) to sign one of
        the package's own documents for ``member`` (``validators/poa``, issue 11 §1).

        Returns the findings about it: none (or only warnings) when a valid МЧД issued by
        the member's head names this person; ``poa.missing`` when the package carries none
        for them; the other ``poa.*`` findings when it is expired, revoked, forged, etc.
        The verdict is recorded with the signature for the report's stamp.
        """
        return self._record_power(report, self._powers.judge(report, member, document.name))

    def _signs_own_documents(self, report: SignatureReport) -> bool:
        """The person behind ``report`` also signed one of the package's own documents."""
        key = person_key(report)
        return key is not None and any(
            person_key(r) == key for d in self.documents if not d.supporting for r in d.reports
        )

    def _record_power(self, report: SignatureReport, verdict: PoaVerdict) -> list[Check]:
        """Keep the МЧД verdict with its signature (for the stamp); its findings."""
        self.signed = [dataclasses.replace(s, power_of_attorney=verdict.to_json()) if s.report is report else s for s in self.signed]
        return list(verdict.checks)

    def _accounting_statements(self, member: Member) -> list[Check]:
        """The annual accounting statements of an OD_Y90 package (4083-U item 2), recognised
        by the file: its content must carry an ОКУД code of the statements (0710001/0710002)
        and the member's ИНН, and it must be signed by the member. Files named like
        statements are read first (a PDF's text layer only for them: extraction is not
        free); XML and text files are recognised by content whatever their name."""
        found: list[Check] = []
        unreadable = False
        inside = [d for d in self.documents if "/" in d.name and d.kind not in (FileKind.ZIP, FileKind.RAR)]
        named = [d for d in inside if looks_like_accounting_by_name(d.name)]
        others = [d for d in inside if d not in named and d.kind is FileKind.OTHER and d.file_type is not None and d.file_type.mime.startswith(("text/", "application/xml"))]
        for document in (*named, *others):
            text = self._text(document)
            if text.readability is Readability.READABLE and is_accounting_statements(text.text, member.inn):
                if self._signed_by_member(document, member):
                    return [c for c in found if c.code != "report.accounting_not_recognised"]
                continue
            if document not in named:
                continue
            if text.readability is Readability.UNREADABLE:
                if self._signed_by_member(document, member):
                    unreadable = True
                    found.append(finding("document.unreadable", file=document.name, detail=f"accounting statements by name; {text.reason}"))
                continue
            found.append(finding("report.accounting_not_recognised", file=document.name, detail=f"no OKUD {'/'.join(OKUD_CODES)} with INN {member.inn} in its text"))
        if not unreadable and not found:
            found.append(finding("report.accounting_missing", detail="no file whose content carries OKUD 0710001/0710002 and the member's INN"))
        return found

    def _signed_by_member(self, document: _Document, member: Member) -> bool:
        """Signed by the member: on the file itself, or on an archive it was extracted from
        (a report ZIP or an XBRL package signed as a whole, SPEC 3)."""
        def by_member(d: _Document) -> bool:
            return any(usable(r) and signer_role(r, member) in (SignerRole.HEAD, SignerRole.MEMBER_ORG) for r in d.reports)

        if by_member(document):
            return True
        if self._by_name is None:
            self._by_name = {d.name: d for d in self.documents}
        parts = document.name.split("/")
        enclosing = (self._by_name.get("/".join(parts[:i])) for i in range(1, len(parts)))
        return any(d is not None and by_member(d) and self._inside(document, d) for d in enclosing)

    def _text(self, document: _Document) -> DocumentText:
        """The document's text, read once; at most :data:`MAX_TEXTS_READ` per package (reading
        a PDF's text costs up to about a second on a crafted page)."""
        if document.name not in self._texts:
            if len(self._texts) >= MAX_TEXTS_READ:
                return DocumentText(Readability.UNREADABLE, "", f"not read: more than {MAX_TEXTS_READ} documents to read in one package")
            self._texts[document.name] = read_text(document.path, document.file_type or detect_type(document.path))
        return self._texts[document.name]

    def archives_need_signed_content(self) -> None:
        """An archive without signed content and without a signature of its own."""
        for document in self.documents:
            if self.kinds.get(document.name) in (FileKind.ZIP, FileKind.RAR) and "/" not in document.name:
                inside = [d for d in self.documents if d.name.startswith(document.name + "/")]
                if not inside and not any(usable(r) for r in document.reports) and not any(
                    c.code.startswith("archive.") for c in self.checks
                ):
                    self.checks.append(finding("signature.missing", file=document.name, detail="the archive holds no signed document"))


class _Appointments:
    """Appointment documents of an acting head in a report package (4083-U item 8).

    A document counts only by the file itself: its own name says it is an order (not
    its folder: ``приказ/`` names nothing), its text has the appointment wording and
    names the signer, and it is signed by the member. A file named like one whose text
    says otherwise is ``document.not_appointment``; one whose text cannot be read (a
    scan) counts, with ``document.unreadable`` asking staff to look.
    """

    def __init__(self, run: _Run, member: Member) -> None:
        self.findings: list[Check] = []
        self._member = member
        self._readable: list[tuple[_Document, str]] = []
        self._unreadable: list[_Document] = []
        self._reported: set[str] = set()
        for document in run.documents:
            if "/" not in document.name or not looks_like_appointment_by_name(document.name):
                continue
            if not run._signed_by_member(document, member):
                continue  # not the member's document: its signature findings say why
            text = run._text(document)
            if text.readability is Readability.UNREADABLE:
                self._unreadable.append(document)
                self.findings.append(finding("document.unreadable", file=document.name, detail=f"appointment order by name; {text.reason}"))
            elif not has_appointment_wording(text.text):
                self.findings.append(finding("document.not_appointment", file=document.name, detail="no appointment wording (назначить, возложить исполнение обязанностей, временно исполняющий обязанности)"))
            else:
                self._readable.append((document, text.text))

    def _issued_for(self, document: _Document, report: SignatureReport) -> bool:
        """Signed by the member with a certificate other than the appointee's own: nobody
        appoints themself, also not with a second certificate of their own (a renewed one,
        one of another CA) — the order's signer must be another person."""
        return any(
            usable(r) and signer_role(r, self._member) in (SignerRole.HEAD, SignerRole.MEMBER_ORG)
            and not _same_person(r, report)
            for r in document.reports
        )

    def appointed(self, report: SignatureReport) -> bool:
        """An appointment document names this signer (or one could not be read), signed
        by the member with another certificate than the signer's."""
        signer = report.signer
        if signer is None:
            return False
        if any(names_person(text, signer.surname, signer.given_name) and self._issued_for(d, report) for d, text in self._readable):
            return True
        for document, text in self._readable:
            if document.name not in self._reported:
                self._reported.add(document.name)
                why = "is signed only by the appointee" if names_person(text, signer.surname, signer.given_name) else "does not name the signer"
                self.findings.append(finding("document.not_appointment", file=document.name, detail=f"the order {why} {signer.full_name or signer.common_name}"))
        return any(self._issued_for(d, report) for d in self._unreadable)

    def summary(self, report: SignatureReport) -> str:
        if not self._readable and not self._unreadable:
            return "no appointment document (a file named and worded as an order, signed by the member)"
        return "no appointment document names the signer"


def _same_person(a: SignatureReport, b: SignatureReport) -> bool:
    """One certificate, or one person behind two: the same СНИЛС, or the same full name."""
    if a.certificate and b.certificate and a.certificate.sha256 == b.certificate.sha256:
        return True
    if (key := person_key(a)) is not None and key == person_key(b):
        return True
    names = [normalise_person_name(r.signer.full_name) if r.signer else "" for r in (a, b)]
    return bool(names[0]) and names[0] == names[1]


def _with_file(report: SignatureReport, signature_file: str) -> SignatureReport:
    return dataclasses.replace(report, signature_file=signature_file)


def validate_package(files: list[UploadedFile], ctx: ValidationContext) -> PackageResult:
    """Every finding about a package, its signature reports and the member it came from."""
    files, poa_uploads = split_uploads(files)  # МЧД (issue 11 §1): its own upload part
    run = _Run(files, ctx, poa_uploads)
    member, go_on = run.request()
    if not go_on or member is None:
        return PackageResult(tuple(run.checks), (), member)
    files_ok = run.file_rules(member)
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

