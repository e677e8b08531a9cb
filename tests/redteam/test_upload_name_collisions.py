"""Red team: two uploads of one package under the same file name (the portal passes the
multipart ``filename`` through). The package's per-name maps (kind, attached content) kept
only the last one, so the letter in the document slot — an attached signature whose PDF
was altered after signing — was judged as the member-signed archive in the attachment
slot under the same name, and never looked at. Two uploads with one name are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.servers.packages import MEMBER, decided
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


def test_a_signature_part_named_like_the_document_is_rejected(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    """The signature (the head's, over the attachment) took the letter's name and kind, so
    the unsigned letter was never listed as a document, and never found unsigned."""
    cover = pdfs.make_pdf(tmp_path / "Письмо.pdf", "Loan 900 000")
    attachment = zip_of(tmp_path / "Приложение.zip", signed_entries(pki, tmp_path, "Справка.pdf", pdfs.make_pdf(tmp_path / "x.pdf").read_bytes()))
    signature = pki.sign("head256", attachment, tmp_path / "out" / "Письмо.pdf")
    result = validate(store, tmp_path, "letter", [(Slot.DOCUMENT, cover), (Slot.ATTACHMENT, attachment), (Slot.SIGNATURE, signature)])
    assert verdict(result) == "rejected"
    assert "request.duplicate_name" in codes(result)


def test_two_detached_signatures_may_share_a_name(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    cover = pdfs.make_pdf(tmp_path / "Письмо.pdf", "Cover letter")
    attachment = zip_of(tmp_path / "Приложение.zip", signed_entries(pki, tmp_path, "Справка.pdf", pdfs.make_pdf(tmp_path / "s.pdf").read_bytes()))
    cover_sig = pki.sign("head256", cover, tmp_path / "one" / "signature.sig")
    attachment_sig = pki.sign("head256", attachment, tmp_path / "two" / "signature.sig")
    files = [(Slot.DOCUMENT, cover), (Slot.ATTACHMENT, attachment), (Slot.SIGNATURE, cover_sig), (Slot.SIGNATURE, attachment_sig)]
    assert verdict(validate(store, tmp_path, "letter", files)) == "accepted"


# --- through the HTTP API: names the portal sends are reduced to one path part ------------



async def _post(client: TestClient, doc_type: str, parts: list[tuple[str, bytes, str | None]]) -> dict[str, Any]:
    form = aiohttp.MultipartWriter("form-data")
    for name, value in (("member", MEMBER), ("doc_type", doc_type)):
        form.append(value).set_content_disposition("form-data", name=name)
    for slot, data, filename in parts:
        extra = {} if filename is None else {"filename": filename}  # no filename parameter at all
        form.append(data, {"Content-Type": "application/octet-stream"}).set_content_disposition("form-data", name=slot, **extra)
    response = await client.post("/api/v1/submissions", data=form)
    assert response.status == 202, await response.text()
    return await decided(client, (await response.json())["id"])


async def test_the_same_name_behind_a_folder_in_another_part_is_rejected(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    letter = _tampered_letter(pki, tmp_path).read_bytes()
    archive = _signed_archive(pki, tmp_path).read_bytes()
    report = await _post(client, "letter", [("document", letter, f"C:\\Users\\kpk\\{NAME}"), ("attachment", archive, NAME)])
    assert report["decision"] == "rejected"
    assert "request.duplicate_name" in {c["code"] for c in report["checks"]}


async def test_file_parts_without_names_are_numbered_not_refused_as_duplicates(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    cover = pdfs.make_pdf(tmp_path / "Письмо.pdf", "Cover letter")
    attachment = zip_of(tmp_path / "Приложение.zip", signed_entries(pki, tmp_path, "Справка.pdf", pdfs.make_pdf(tmp_path / "s.pdf").read_bytes()))
    cover_sig = pki.sign("head256", cover, tmp_path / "c.sig")
    attachment_sig = pki.sign("head256", attachment, tmp_path / "a.sig")
    parts: list[tuple[str, bytes, str | None]] = [
        ("document", cover.read_bytes(), "Письмо.pdf"),
        ("attachment", attachment.read_bytes(), "Приложение.zip"),
        ("signature", cover_sig.read_bytes(), None),
        ("signature", attachment_sig.read_bytes(), None),
    ]
    report = await _post(client, "letter", parts)
    # As before: a signature without a name has no extension (fixable), but is verified and
    # never taken for a second file of the same name.
    assert {c["code"] for c in report["checks"]} == {"file.extension_mismatch"}, report["checks"]
    assert report["decision"] == "returned"
    assert {s["file"] for s in report["signatures"]} == {"Письмо.pdf", "Приложение.zip", "Приложение.zip/Справка.pdf"}
    assert sorted(f["name"] for f in report["files"]) == ["signature", "signature-2", "Письмо.pdf", "Приложение.zip"]
