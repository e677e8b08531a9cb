"""Red team: two uploads of one package under the same file name (the portal passes the
multipart ``filename`` through). The package's per-name maps (kind, attached content) kept
only the last one, so the letter in the document slot — an attached signature whose PDF
was altered after signing — was judged as the member-signed archive in the attachment
slot under the same name, and never looked at. Two uploads with one name are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.validators.packages import codes, signed_entries, validate, verdict, zip_of
from validators.catalogue import Slot
from validators.trust import TrustStore

NAME = "Письмо.sig"


def _tampered_letter(pki: TestPki, tmp_path: Path) -> Path:
    """An attached signature over a letter PDF whose text was changed inside the CMS."""
    pdf = pdfs.make_pdf(tmp_path / "letter.pdf", "Loan 100 000")
    signed = pki.sign("head256", pdf, tmp_path / "out-letter" / NAME, attached=True)
    data = signed.read_bytes()
    assert data.count(b"Loan 100 000") == 1
    signed.write_bytes(data.replace(b"Loan 100 000", b"Loan 900 000"))
    return signed


def _signed_archive(pki: TestPki, tmp_path: Path) -> Path:
    """An attached signature of the head over a ZIP of signed documents."""
    archive = zip_of(tmp_path / "a.zip", signed_entries(pki, tmp_path, "Выписка.pdf", pdfs.make_pdf(tmp_path / "x.pdf").read_bytes()))
    return pki.sign("head256", archive, tmp_path / "out-archive" / NAME, attached=True)


def test_control_the_tampered_letter_alone_is_rejected(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    letter = _tampered_letter(pki, tmp_path)
    archive = _signed_archive(pki, tmp_path)
    result = validate(store, tmp_path, "letter", [(Slot.DOCUMENT, letter), (Slot.ATTACHMENT, archive)], name={archive: "Приложение.sig"})
    assert verdict(result) == "rejected"


@pytest.mark.parametrize("letter_first", [True, False], ids=["letter-first", "archive-first"])
def test_two_uploads_under_one_name_are_rejected(pki: TestPki, store: TrustStore, tmp_path: Path, letter_first: bool) -> None:
    letter = (Slot.DOCUMENT, _tampered_letter(pki, tmp_path))
    archive = (Slot.ATTACHMENT, _signed_archive(pki, tmp_path))
    result = validate(store, tmp_path, "letter", [letter, archive] if letter_first else [archive, letter])
    assert verdict(result) == "rejected"
    assert "request.duplicate_name" in codes(result)
