"""Red team: an earlier signature copied into a later revision to lend its validity to a
new visible signature field whose appearance paints over the page.

The rule lets a later revision add visible signature widgets only as part of a further
signature. A copy of the first signature's dictionary (same ByteRange, same /Contents)
in a new field looked like "a further signature": the first signature passed while the
new widget painted "approved" over the signed text. A signature dictionary must lie
inside the bytes its own ByteRange covers; a copy in a later revision does not.
(Reusing the very same dictionary object is refused by pyHanko already; kept as a
regression.)
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from validators.signatures.locate import verify_document
from validators.signatures.model import Indication
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore


def replay_first_signature_in_a_visible_field(source: Path, target: Path, *, copy: bool) -> Path:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        sig_ref = writer.root["/AcroForm"]["/Fields"][0].get_object().raw_get("/V")
        pdfs._add_visible_signature_field(writer, "Overlay")
        field = next(f for f in writer.root["/AcroForm"]["/Fields"] if f.get_object().get("/T") == "Overlay").get_object()
        if copy:
            original = sig_ref.get_object()
            duplicate = generic.DictionaryObject({key: original.raw_get(key) for key in original})
            field[generic.NameObject("/V")] = writer.add_object(duplicate)
        else:
            field[generic.NameObject("/V")] = sig_ref
        writer.update_container(field)
        output = BytesIO()
        writer.write(output)
    target.write_bytes(output.getvalue())
    return target


@pytest.mark.parametrize("copy", [True, False], ids=["copied-dictionary", "same-dictionary"])
def test_a_replayed_signature_in_a_new_visible_field_fails_the_original(signed: Path, store: TrustStore, tmp_path: Path, copy: bool) -> None:
    forged = replay_first_signature_in_a_visible_field(signed, tmp_path / "forged.pdf", copy=copy)
    report = verify_document(forged, store, VerificationPolicy())
    first = next(s for s in report.signatures if s.signature_file == "Signature1")
    assert first.indication is Indication.TOTAL_FAILED
    assert any(c.name == "pdf.modifications" and not c.passed for c in first.checks)
    assert not report.all_qualified_and_passed


def test_control_a_real_second_visible_signature_still_passes(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    signed = pdfs.sign_pdf_pyhanko(pki, "rsa_signer", pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "s.pdf")
    both = pdfs.sign_pdf_pyhanko(pki, "rsa_signer", signed, tmp_path / "both.pdf", field="Signature2", box=(300, 50, 550, 120))
    report = verify_document(both, store, VerificationPolicy())
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED, Indication.TOTAL_PASSED]
