"""Red team: later revisions written with a cross-reference stream and objects inside an
object stream instead of a classic table — a replaced page content stream, a redefined page
dictionary, an annotation — after a signature made over a classic revision (held: the
strict difference analysis reads every revision through its own cross-reference data).
Hybrid-reference revisions (a table plus ``/XRefStm``) whose two views differ: held when
the forged object stands on its own; a hole when it hid inside another new stream object's
data (``9 0 obj << >> stream [4 0 obj … FORGED] endstream endobj``): the table showed the
signed object, the /XRefStm view (and a repairing reader taking the last definition) the
forged one, and the scan of the revision skipped it. Every offset either view lists must now
be the start of that very object, and no object header may sit inside another object's data
of a later revision (the same nesting in a classic revision, where a repairing reader takes
the nested, last definition, passed too) (HASH_FAILURE)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from validators.signatures.locate import verify_document
from validators.signatures.model import Indication, SubIndication
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore


def _write_with_object_stream(source: Path, target: Path, change: str) -> Path:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        writer.stream_xrefs = True  # a cross-reference stream, as PDF 1.5 writers do
        object_stream = writer.prepare_object_stream()
        page_ref = writer.root["/Pages"].raw_get("/Kids").raw_get(0)
        page = page_ref.get_object()
        if change == "content":
            content = generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 720 Td (Forged figures) Tj ET")
            page[generic.NameObject("/Contents")] = writer.add_object(content)
        elif change == "annotation":
            note = generic.DictionaryObject({
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
                generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in (72, 700, 400, 740)]),
                generic.NameObject("/Contents"): generic.TextStringObject("Forged figures"),
                generic.NameObject("/DA"): generic.TextStringObject("/Helv 18 Tf 0 g"),
            })
            annots = page.get("/Annots", generic.ArrayObject())
            annots.append(writer.add_object(note, obj_stream=object_stream))
            page[generic.NameObject("/Annots")] = annots
        else:
            page[generic.NameObject("/Rotate")] = generic.NumberObject(180)
        writer.mark_update(page_ref)
        output = BytesIO()
        writer.write(output)
    target.write_bytes(output.getvalue())
    assert b"/XRef" in output.getvalue()[len(source.read_bytes()) :]
    return target


@pytest.mark.parametrize("change", ["content", "annotation", "rotate"])
def test_a_change_written_with_an_xref_stream_and_object_stream_fails(signed: Path, store: TrustStore, tmp_path: Path, change: str) -> None:
    changed = _write_with_object_stream(signed, tmp_path / "changed.pdf", change)
    [signature] = verify_document(changed, store, VerificationPolicy()).signatures
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)



def _hybrid_revision(source: Path, target: Path, *, forged_in_stream_only: bool, nested: bool = False) -> Path:
    """Append a hybrid-reference revision (classic table plus ``/XRefStm``) whose two views
    of the page content object differ: the table gives the signed text, the cross-reference
    stream the forged one (``forged_in_stream_only``), or the table omits the object and
    only the stream lists the forged copy."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    data = source.read_bytes()
    with open(source, "rb") as stream:
        reader = PdfFileReader(stream, strict=False)
        page = reader.root["/Pages"]["/Kids"][0]
        content = page.raw_get("/Contents")
        number = content.idnum
        genuine = content.get_object().data
        size = int(reader.trailer["/Size"])
        root = reader.root_ref.idnum
        prev = reader.xrefs.get_startxref_for_revision(reader.xrefs.total_revisions - 1)
    forged = b"BT /F1 18 Tf 72 720 Td (Forged figures) Tj ET"
    out = bytearray(data if data.endswith(b"\n") else data + b"\n")
    table: dict[int, int] = {}
    if forged_in_stream_only:
        table[number] = len(out)
        out += b"%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (number, len(genuine), genuine)
    if nested:
        # The forged object inside the data of a new stream object that ends where it ends:
        # "9 0 obj << >> stream [4 0 obj << >> stream FORGED] endstream endobj".
        carrier = size + 1
        table[carrier] = len(out)
        inner = b"%d 0 obj\n<< /Length %d >>\nstream\n%s\n" % (number, len(forged), forged)
        head = b"%d 0 obj\n<< /Length %d >>\nstream\n" % (carrier, len(inner))
        forged_at = len(out) + len(head)
        out += head + inner + b"endstream\nendobj\n"
        size += 1
    else:
        forged_at = len(out)
        out += b"%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (number, len(forged), forged)
    xref_stream = size + 1 if nested else size
    table[xref_stream] = len(out)
    entry = bytes([1]) + forged_at.to_bytes(4, "big") + bytes(2)
    out += b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Index [%d 1] /Length %d >>\nstream\n" % (xref_stream, xref_stream + 1, number, len(entry))
    out += entry + b"\nendstream\nendobj\n"
    xref_at = len(out)
    out += b"xref\n" + b"".join(b"%d 1\n%010d 00000 n \n" % (n, table[n]) for n in sorted(table))
    out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n" % (xref_stream + 1, root, prev, table[xref_stream], xref_at)
    target.write_bytes(bytes(out))
    return target


@pytest.mark.parametrize("nested", [False, True], ids=["plain", "nested"])
@pytest.mark.parametrize("forged_in_stream_only", [True, False], ids=["views-differ", "stream-only"])
def test_a_hybrid_revision_whose_xref_stream_shows_other_content_fails(signed: Path, store: TrustStore, tmp_path: Path, forged_in_stream_only: bool, nested: bool) -> None:
    changed = _hybrid_revision(signed, tmp_path / "hybrid.pdf", forged_in_stream_only=forged_in_stream_only, nested=nested)
    [signature] = verify_document(changed, store, VerificationPolicy()).signatures
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)


def test_control_signatures_in_xref_stream_revisions_keep_passing(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    plain = pdfs.make_pdf(tmp_path / "plain.pdf", "Report of the cooperative")
    with open(plain, "rb") as stream:
        writer = copy_into_new_writer(PdfFileReader(stream))
        writer.stream_xrefs = True
        with open(tmp_path / "xref-stream.pdf", "wb") as out:
            writer.write(out)
    once = pdfs.sign_pdf_pyhanko(pki, "rsa_signer", tmp_path / "xref-stream.pdf", tmp_path / "once.pdf")
    twice = pdfs.sign_pdf_pyhanko(pki, "rsa_signer", once, tmp_path / "twice.pdf", field="Signature2")
    assert b"/XRef" in twice.read_bytes()[len(once.read_bytes()) :]
    assert [s.indication for s in verify_document(twice, store, VerificationPolicy()).signatures] == [Indication.TOTAL_PASSED] * 2


def _nested_in_classic_revision(source: Path, target: Path) -> Path:
    """A classic revision: the page content object written again unchanged (listed), and a
    new stream object whose data holds a forged definition of it sharing its terminator —
    the last definition in the file, which a repairing reader takes."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    with open(source, "rb") as stream:
        reader = PdfFileReader(stream, strict=False)
        content = reader.root["/Pages"]["/Kids"][0].raw_get("/Contents")
        number, genuine = content.idnum, content.get_object().data
        carrier = int(reader.trailer["/Size"])
    forged = b"BT /F1 18 Tf 72 720 Td (Forged figures) Tj ET"
    inner = b"%d 0 obj\n<< /Length %d >>\nstream\n%s\n" % (number, len(forged), forged)
    objects = {
        number: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(genuine), genuine),
        carrier: b"<< /Length %d >>\nstream\n%sendstream" % (len(inner), inner),
    }
    return pdfs.append_revision(source, target, objects)


def test_an_object_nested_in_another_objects_stream_data_fails(signed: Path, store: TrustStore, tmp_path: Path) -> None:
    changed = _nested_in_classic_revision(signed, tmp_path / "nested.pdf")
    [signature] = verify_document(changed, store, VerificationPolicy()).signatures
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
