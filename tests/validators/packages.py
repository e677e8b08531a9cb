"""Building and validating packages for the package-validator tests (not a test module).

The package validator is called directly with a real member list, trust store and files.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from gateway.pipeline.decision import Decision, decide
from tests.pki import pdf as pdfs
from tests.pki.builder import HEAD_EMAIL, KPK_INNLE, KPK_NAME, KPK_OGRN, TestPki
from validators.catalogue import Slot
from validators.checks import Check, Severity
from validators.members import MemberList
from validators.package import PackageResult, UploadedFile, ValidationContext, validate_package
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore

MEMBER = "42"
HEAD = "Иванов Иван Петрович"
#: A CMS SignedData header (BER, indefinite length, OID signedData) that a sniffer of the
#: first bytes takes for a signature.
CMS_LOOKING_PREFIX = bytes.fromhex("3080" "06092a864886f70d010702" "a080")


def members(tmp_path: Path, head: str = HEAD) -> MemberList:
    path = tmp_path / "members.csv"
    path.write_text(
        "number,ogrn,inn,name,email,head,status\n"
        f'{MEMBER},{KPK_OGRN},{KPK_INNLE},"{KPK_NAME}",{HEAD_EMAIL},{head},active\n',
        encoding="utf-8",
    )
    return MemberList(path)


def validate(store: TrustStore, tmp_path: Path, doc_type: str, files: list[tuple[Slot, Path]], report_kind: str | None = None, name: dict[Path, str] | None = None) -> PackageResult:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    ctx = ValidationContext(MEMBER, doc_type, report_kind, None, members(tmp_path), store, VerificationPolicy(), work)
    uploads = [UploadedFile(slot, (name or {}).get(path, path.name), path) for slot, path in files]
    return validate_package(uploads, ctx)


def codes(result: PackageResult) -> set[str]:
    return {c.code for c in result.checks}


def fatal(result: PackageResult) -> bool:
    return any(c.severity is Severity.FATAL for c in result.checks)


def zip_of(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def signed_cover(pki: TestPki, tmp_path: Path, label: str = "head256") -> tuple[Path, Path]:
    cover = pdfs.make_pdf(tmp_path / "Письмо.pdf", "Cover letter")
    return cover, pki.sign(label, cover, tmp_path / "Письмо.pdf.sig")


def letter(store: TrustStore, pki: TestPki, tmp_path: Path, attachment: Path, doc_type: str = "letter", cover_label: str = "head256") -> PackageResult:
    cover, signature = signed_cover(pki, tmp_path, cover_label)
    return validate(store, tmp_path, doc_type, [(Slot.DOCUMENT, cover), (Slot.ATTACHMENT, attachment), (Slot.SIGNATURE, signature)])


def verdict(result: PackageResult) -> str:
    """The default decision mapping: any fatal finding rejects, any fixable one returns."""
    severities = {c.severity for c in result.checks}
    if Severity.FATAL in severities:
        return "rejected"
    if Severity.FIXABLE in severities:
        return "returned"
    return "accepted"


def signed_entries(pki: TestPki, tmp_path: Path, name: str, data: bytes, label: str = "head256") -> dict[str, bytes]:
    """``{name: data, name + ".sig": detached signature of label}`` for an archive."""
    folder = tmp_path / "signed" / label
    folder.mkdir(parents=True, exist_ok=True)
    document = folder / name.replace("/", "_")
    document.write_bytes(data)
    signature = pki.sign(label, document, folder / (document.name + ".sig"))
    return {name: data, name + ".sig": signature.read_bytes()}


def report_package(pki: TestPki, tmp_path: Path, label: str = "head256", extra: dict[str, bytes] | None = None, name: str = f"{MEMBER}_OD.zip") -> Path:
    """A report ZIP: report.xml signed by ``label`` plus ``extra`` entries."""
    entries = signed_entries(pki, tmp_path, "report.xml", "<Отчет>ОД КПК</Отчет>".encode(), label)
    return zip_of(tmp_path / name, {**entries, **(extra or {})})


def charter_checks(pdf: Path, store: TrustStore, tmp_path: Path) -> tuple[Decision, list[Check]]:
    """The decision and the findings for a charter package of one PDF (``Устав.pdf``)."""
    result = validate(store, tmp_path, "charter", [(Slot.DOCUMENT, pdf)], name={pdf: "Устав.pdf"})
    decision, checks = decide(result.checks)
    return decision, list(checks)
