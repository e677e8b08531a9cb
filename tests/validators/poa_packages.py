"""Helpers of the МЧД package tests (validators and red team): a letter signed by the chief
accountant with its МЧД in the archive or as its own part, validated in-process."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gateway.pipeline.decision import Decision, decide
from tests.pki import pdf as pdfs
from tests.pki.builder import HEAD_EMAIL, KPK_INNLE, KPK_NAME, KPK_OGRN, TestPki
from tests.pki.poa import issue_personal_certificates
from validators.catalogue import Slot
from validators.members import MemberList
from validators.package import PackageResult, UploadedFile, ValidationContext, validate_package
from validators.poa.package import PoaSettings
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore

MEMBER = "42"
HEAD = "Иванов Иван Петрович"
TODAY = date.today()


@pytest.fixture(scope="session")
def poa_pki(pki: TestPki) -> TestPki:
    return issue_personal_certificates(pki)


@pytest.fixture
def members(tmp_path: Path) -> MemberList:
    path = tmp_path / "members.csv"
    path.write_text(
        "number,ogrn,inn,name,email,head,status\n"
        f'{MEMBER},{KPK_OGRN},{KPK_INNLE},"{KPK_NAME}",{HEAD_EMAIL},{HEAD},active\n',
        encoding="utf-8",
    )
    return MemberList(path)


class Package:
    """A letter: cover PDF (detached signature) + supporting ZIP, signed by ``signer``."""

    def __init__(self, pki: TestPki, folder: Path, signer: str = "accountant_personal") -> None:
        self.pki, self.folder, self.signer = pki, folder, signer
        folder.mkdir(parents=True, exist_ok=True)
        self.cover = pdfs.make_pdf(folder / "Письмо.pdf", "Cover letter")
        # Not beside the cover: stored uploads have no neighbours that verification could find.
        self.cover_sig = pki.sign(signer, self.cover, folder / "sig" / "Письмо.pdf.sig")
        inner = folder / "inner"
        inner.mkdir()
        self.archived = [pdfs.make_pdf(inner / "Справка.pdf", "Attachment")]
        self.archived.append(pki.sign(signer, self.archived[0], inner / "Справка.pdf.sig"))
        self.uploads: list[UploadedFile] = []

    def in_archive(self, *files: Path) -> Package:
        self.archived.extend(files)
        return self

    def as_part(self, *files: Path, slot: Slot = Slot.POWER_OF_ATTORNEY) -> Package:
        self.uploads.extend(UploadedFile(slot, f.name, f) for f in files)
        return self

    def files(self) -> list[UploadedFile]:
        archive = self.folder / "Приложение.zip"
        with zipfile.ZipFile(archive, "w") as out:
            for file in self.archived:
                out.write(file, file.name)
        return [
            UploadedFile(Slot.DOCUMENT, self.cover.name, self.cover),
            UploadedFile(Slot.SIGNATURE, self.cover_sig.name, self.cover_sig),
            UploadedFile(Slot.ATTACHMENT, archive.name, archive),
            *self.uploads,
        ]


def validate(package: Package, store: TrustStore, members: MemberList, tmp_path: Path, doc_type: str = "letter", **settings: Any) -> PackageResult:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    ctx = ValidationContext(MEMBER, doc_type, None, None, members, store, VerificationPolicy(), work, poa=PoaSettings(**settings))
    return validate_package(package.files(), ctx)


def codes(result: PackageResult) -> set[str]:
    return {c.code for c in result.checks}


def decision(result: PackageResult) -> Decision:
    return decide(result.checks)[0]


def poa_of(result: PackageResult, file: str = "Письмо.pdf") -> dict[str, Any]:
    [signed] = [s for s in result.signatures if s.file == file]
    assert signed.power_of_attorney is not None
    return signed.to_json()["power_of_attorney"]
