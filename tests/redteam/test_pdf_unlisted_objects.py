"""Red team: a revision appended after signing that defines objects its cross-reference
section does not list (or whose startxref is a few bytes off).

pyHanko, like every reader that trusts the cross-reference sections, ignores such an
object, so its difference analysis sees no change; a reader that repairs the file (it
rebuilds the table by scanning for ``N G obj`` and takes the last definition, as most do
when startxref is off) shows the redefined page instead. The gateway accepted both as
"later revisions only add signatures, document timestamps or DSS". Rule: every revision
after the signed one is exactly its listed objects, its cross-reference section and
trailer, and startxref points exactly at that section.
"""

from __future__ import annotations

from pathlib import Path

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from validators.signatures.locate import verify_document
from validators.signatures.model import Indication, SignatureReport
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore

FORGED_PAGE = b"BT /F1 18 Tf 72 720 Td (Loan approved: 1 000 000) Tj ET"


def append_raw_revision(source: Path, target: Path, *, body: bytes, after_trailer: bytes = b"", startxref_shift: int = 0) -> Path:
    """An update whose body is ``body`` (nothing of it listed), an empty cross-reference
    section, ``after_trailer`` between trailer and startxref, startxref moved by
    ``startxref_shift``."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    data = source.read_bytes()
    with open(source, "rb") as stream:
        reader = PdfFileReader(stream, strict=False)
        size, root = int(reader.trailer["/Size"]), reader.root_ref.idnum
        prev = reader.xrefs.get_startxref_for_revision(reader.xrefs.total_revisions - 1)
    out = bytearray(data) + body
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size %d /Root %d 0 R /Prev %d >>\n" % (size, root, prev)
    out += after_trailer + b"startxref\n%d\n%%%%EOF\n" % (xref + startxref_shift)
    target.write_bytes(bytes(out))
    return target


def _page_content_object(number: int = 4) -> bytes:
    return b"%d 0 obj\n<< /Length %d >>\nstream\n" % (number, len(FORGED_PAGE)) + FORGED_PAGE + b"\nendstream\nendobj\n"


def _first(path: Path, store: TrustStore) -> SignatureReport:
    return verify_document(path, store, VerificationPolicy()).signatures[0]


def _modifications(report: SignatureReport) -> str:
    [check] = [c for c in report.checks if c.name == "pdf.modifications"]
    assert not check.passed
    return check.detail


def test_control_an_empty_well_formed_update_passes(signed: Path, store: TrustStore, tmp_path: Path) -> None:
    updated = append_raw_revision(signed, tmp_path / "updated.pdf", body=b"")
    assert _first(updated, store).indication is Indication.TOTAL_PASSED


def test_unlisted_redefinition_of_the_page_content_fails(signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = append_raw_revision(signed, tmp_path / "forged.pdf", body=_page_content_object())
    report = _first(forged, store)
    assert report.indication is Indication.TOTAL_FAILED
    assert "does not list" in _modifications(report)


def test_startxref_a_few_bytes_off_fails(signed: Path, store: TrustStore, tmp_path: Path) -> None:
    """pyHanko corrects it silently; other readers rebuild the table by scanning."""
    forged = append_raw_revision(signed, tmp_path / "forged.pdf", body=b"", startxref_shift=-2)
    report = _first(forged, store)
    assert report.indication is not Indication.TOTAL_PASSED
    assert "revision 2" in _modifications(report)


def test_object_defined_between_trailer_and_startxref_fails(signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = append_raw_revision(signed, tmp_path / "forged.pdf", body=b"", after_trailer=_page_content_object())
    report = _first(forged, store)
    assert report.indication is Indication.TOTAL_FAILED
    assert "after its cross-reference section" in _modifications(report)


def test_a_second_trailer_in_a_later_revision_fails(signed: Path, store: TrustStore, tmp_path: Path) -> None:
    """pyHanko reads the first trailer of the section; a reader that searches backwards
    for ``trailer`` (repair mode) takes the second, here pointing /Root elsewhere."""
    forged = append_raw_revision(signed, tmp_path / "forged.pdf", body=b"", after_trailer=b"trailer\n<< /Size 40 /Root 3 0 R >>\n")
    report = _first(forged, store)
    assert report.indication is Indication.TOTAL_FAILED
    assert "second trailer" in _modifications(report)


def test_control_legitimate_updates_of_an_xref_stream_file_keep_passing(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    """A file with cross-reference streams, then a second visible signature, DSS, a
    document time-stamp and a GOST signature, each as its own update: all still pass."""
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    with open(pdfs.make_pdf(tmp_path / "p.pdf", "Letter"), "rb") as stream:
        writer = copy_into_new_writer(PdfFileReader(stream, strict=False))
        writer.stream_xrefs = True
        output = BytesIO()
        writer.write(output)
    streams = tmp_path / "xref-streams.pdf"
    streams.write_bytes(output.getvalue())
    first = pdfs.sign_pdf_pyhanko(pki, "rsa_signer", streams, tmp_path / "s1.pdf")
    second = pdfs.sign_pdf_pyhanko(pki, "rsa_signer", first, tmp_path / "s2.pdf", field="Signature2", box=(300, 50, 550, 120))
    stamped = pdfs.timestamp_pdf(pki, "rsa_signer", pdfs.add_dss(pki, second, tmp_path / "s3.pdf"), tmp_path / "s4.pdf")
    final = pdfs.sign_pdf_gost(pki, "head256", stamped, tmp_path / "s5.pdf", field="Signature3")
    report = verify_document(final, store, VerificationPolicy())
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 3
