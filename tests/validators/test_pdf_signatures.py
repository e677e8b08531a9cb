"""Signatures embedded in PDF files: real signed PDFs made in fixtures (pyHanko for RSA/ECDSA,
openssl + gost engine for GOST CMS placed by pyHanko), later revisions, tampering."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.pki.tsa import TsaPki
from validators.signatures.locate import verify_document
from validators.signatures.model import Indication, RevocationMode, SubIndication, VerificationReport
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore


def check(report_signature, name: str):  # type: ignore[no-untyped-def]
    return next(c for c in report_signature.checks if c.name == name)


def run(path: Path, store: TrustStore, **policy: object) -> VerificationReport:
    return verify_document(path, store, VerificationPolicy(**policy))  # type: ignore[arg-type]


@pytest.fixture
def plain_pdf(tmp_path: Path) -> Path:
    return pdfs.make_pdf(tmp_path / "Письмо.pdf", "Letter to the SRO")


@pytest.fixture
def gost_signed(pki: TestPki, plain_pdf: Path, tmp_path: Path) -> Path:
    return pdfs.sign_pdf_gost(pki, "head256", plain_pdf, tmp_path / "signed.pdf")


def test_gost_signed_pdf_passes_and_is_qualified(gost_signed: Path, store: TrustStore) -> None:
    report = run(gost_signed, store)
    [signature] = report.signatures
    assert (signature.indication, signature.qualified, signature.kind) == (Indication.TOTAL_PASSED, True, "embedded")
    assert signature.signature_file == "Signature1"
    assert signature.signer.surname == "Иванов"
    assert check(signature, "pdf.byte_range").detail == "the ByteRange covers the whole file"
    assert report.all_qualified_and_passed


def test_gost_512_signature_with_adbe_pkcs7_subfilter_passes(pki: TestPki, plain_pdf: Path, store: TrustStore, tmp_path: Path) -> None:
    signed = pdfs.sign_pdf_gost(pki, "head512", plain_pdf, tmp_path / "s.pdf", subfilter="pkcs7")
    [signature] = run(signed, store).signatures
    assert signature.indication is Indication.TOTAL_PASSED and signature.qualified
    assert signature.digest_algorithm == "GOST R 34.11-2012 (Streebog) 512"


@pytest.mark.parametrize("label", ["rsa_signer", "ecdsa_signer"])
def test_pdf_signed_by_pyhanko_passes_but_is_not_qualified(label: str, pki: TestPki, plain_pdf: Path, store: TrustStore, tmp_path: Path) -> None:
    signed = pdfs.sign_pdf_pyhanko(pki, label, plain_pdf, tmp_path / "s.pdf")
    [signature] = run(signed, store).signatures
    assert signature.indication is Indication.TOTAL_PASSED
    assert signature.qualified is False


def test_two_signatures_in_successive_revisions_both_pass(pki: TestPki, gost_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    both = pdfs.sign_pdf_gost(pki, "accountant256", gost_signed, tmp_path / "both.pdf", field="Signature2")
    first, second = run(both, store).signatures
    assert first.indication is second.indication is Indication.TOTAL_PASSED
    assert check(first, "pdf.modifications").detail.startswith("later revisions only add signatures")
    assert check(second, "pdf.byte_range").detail == "the ByteRange covers the whole file"


def test_revision_adding_only_an_annotation_fails_the_signature(gost_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    """Stricter than Acrobat: even a sticky note is a change after signing (more overlay
    cases in test_pdf_attacks.py)."""
    annotated = pdfs.add_annotation(gost_signed, tmp_path / "annotated.pdf")
    [signature] = run(annotated, store).signatures
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
    assert "changed after signing" in check(signature, "pdf.modifications").detail


def test_revision_changing_page_text_after_signing_fails(gost_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.replace_page_text(gost_signed, tmp_path / "forged.pdf")
    [signature] = run(forged, store).signatures
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
    assert "changed after signing" in check(signature, "pdf.modifications").detail
    assert signature.qualified is False


def test_byte_flipped_inside_the_signed_range_is_a_hash_failure(gost_signed: Path, store: TrustStore) -> None:
    data = bytearray(gost_signed.read_bytes())
    position = data.index(b"Letter to the SRO")
    data[position] ^= 0x20  # "letter": same length, different text
    gost_signed.write_bytes(bytes(data))
    [signature] = run(gost_signed, store).signatures
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)


def test_signature_whose_byte_range_stops_before_the_end_fails(pki: TestPki, plain_pdf: Path, store: TrustStore, tmp_path: Path) -> None:
    signed = pdfs.sign_pdf_gost(pki, "head256", plain_pdf, tmp_path / "short.pdf", shorten_byte_range=40)
    [signature] = run(signed, store).signatures
    # The CMS itself verifies over the declared ranges; the tail of the file is unsigned.
    assert check(signature, "signature.value").passed
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE)
    assert "does not cover" in check(signature, "pdf.byte_range").detail


def test_document_timestamp_is_reported_apart_from_signatures(tsa: TsaPki, gost_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    from tests.pki.doc_timestamps import doc_timestamp

    stamped = doc_timestamp(tsa, "tsa_rsa", gost_signed, tmp_path / "stamped.pdf")
    report = run(stamped, store)
    [signature] = report.signatures
    [timestamp] = report.timestamps
    assert signature.indication is Indication.TOTAL_PASSED
    assert check(signature, "pdf.modifications").passed
    assert timestamp.kind == "document_timestamp" and timestamp.indication is Indication.TOTAL_PASSED
    assert check(timestamp, "timestamp.document").passed
    assert report.all_qualified_and_passed  # a timestamp is not a signature that must be qualified


def test_pdf_without_signatures_gives_an_empty_list(plain_pdf: Path, store: TrustStore) -> None:
    report = run(plain_pdf, store)
    assert report.signatures == () and report.sub_indication is None
    assert not report.all_qualified_and_passed


def test_corrupt_pdf_is_a_format_failure(tmp_path: Path, store: TrustStore) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\ntrailer << /Root 1 0 R >>\n%%EOF")
    report = run(broken, store)
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert "cannot be read" in report.problems[0]


def test_encrypted_pdf_is_a_format_failure(plain_pdf: Path, store: TrustStore, tmp_path: Path) -> None:
    report = run(pdfs.encrypt_pdf(plain_pdf, tmp_path / "encrypted.pdf"), store)
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert "encrypted" in report.problems[0]


def test_pdf_with_embedded_and_detached_signatures_reports_both(pki: TestPki, gost_signed: Path, store: TrustStore) -> None:
    pki.sign("accountant256", gost_signed, gost_signed.with_name(gost_signed.name + ".sig"))
    report = run(gost_signed, store)
    assert sorted(s.kind for s in report.signatures) == ["detached", "embedded"]
    assert all(s.indication is Indication.TOTAL_PASSED for s in report.signatures)


def test_revoked_signer_in_pdf_fails(pki: TestPki, plain_pdf: Path, store: TrustStore, tmp_path: Path) -> None:
    signed = pdfs.sign_pdf_gost(pki, "revoked256", plain_pdf, tmp_path / "r.pdf")
    [signature] = run(signed, store, revocation=RevocationMode.REQUIRE).signatures
    assert signature.sub_indication is SubIndication.REVOKED
