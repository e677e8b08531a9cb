"""Red team (regressions, all held): later revisions written with a cross-reference stream
and objects inside an object stream instead of a classic table — a replaced page content
stream, a redefined page dictionary, an annotation — after a signature made over a classic
revision. The strict difference analysis reads every revision through its own
cross-reference data, so packing the change into compressed objects hides nothing."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest

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

