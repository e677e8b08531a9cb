"""Red team: a signature whose /ByteRange is not the plain two
ranges from the start of the file around /Contents, signed over exactly the ranges it
declares (so the digest matches): a first range starting after byte 0 (the ``%PDF``
header left unsigned: a prefix or polyglot header could be changed), a third range, a
gap wider than /Contents (unsigned bytes beside it), ranges written as reals, and a
second signature whose ByteRange stops before the end of its revision (it covers less
than the first). None passes; the first signature stays valid when only the second is bent.
Held except reals: ``[0 1103.0 …]`` passed (values were truncated with ``int()``); ByteRange
values must now be integers (FORMAT_FAILURE)."""

from __future__ import annotations

import re
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from validators.signatures.locate import verify_document
from validators.signatures.model import Indication, SubIndication
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore

#: (start of /Contents, end of /Contents, file size) -> (declared ranges, ByteRange text)
Shape = Callable[[int, int, int], tuple[list[tuple[int, int]], bytes]]


def _plain(s: int, e: int, n: int) -> tuple[list[tuple[int, int]], bytes]:
    return [(0, s), (e, n - e)], b"0 %d %d %d" % (s, e, n - e)


SHAPES: dict[str, Shape] = {
    "not-from-zero": lambda s, e, n: ([(1, s - 1), (e, n - e)], b"1 %d %d %d" % (s - 1, e, n - e)),
    "third-range": lambda s, e, n: ([(0, s), (e, n - e), (0, 8)], b"0 %d %d %d 0 8" % (s, e, n - e)),
    "wider-gap": lambda s, e, n: ([(0, s - 4), (e, n - e)], b"0 %d %d %d" % (s - 4, e, n - e)),
    "reals": lambda s, e, n: ([(0, s), (e, n - e)], b"0 %d.0 %d.0 %d.0" % (s, e, n - e)),
    "short-of-the-end": lambda s, e, n: ([(0, s), (e, n - e - 20)], b"0 %d %d %d" % (s, e, n - e - 20)),
}


def sign_with_byte_range(pki: TestPki, label: str, source: Path, target: Path, shape: Shape, field: str = "Signature1") -> Path:
    """Sign like :func:`tests.pki.pdf.sign_pdf_gost`, but declare the ByteRange ``shape``
    gives (same width as pyHanko's placeholder) and sign exactly those bytes."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import load_cert_from_pemder

    placeholder = signers.ExternalSigner(load_cert_from_pemder(str(pki.cert("rsa_signer"))), None, bytes(256))
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        prepared, _tbs, output = pdfs._run(signers.PdfSigner(meta, signer=placeholder).async_digest_doc_for_signing(writer, bytes_reserved=16384))
    data = bytearray(output.getvalue())
    start, end = prepared.reserved_region_start, prepared.reserved_region_end
    ranges, text = shape(start, end, len(data))
    # The last one: this revision's signature dictionary (pyHanko pads it with spaces).
    match = list(re.finditer(rb"/ByteRange\s*(\[[^\]]*\] *)", bytes(data)))[-1]
    assert len(text) + 2 <= len(match.group(1)), match
    data[match.start(1) : match.end(1)] = (b"[" + text + b"]").ljust(len(match.group(1)))
    part = target.with_suffix(".byterange")
    part.write_bytes(b"".join(bytes(data[s : s + n]) for s, n in ranges))
    cms = pki.sign(label, part, target.with_suffix(".p7s"))
    out = BytesIO(bytes(data))
    prepared.fill_with_cms(out, cms.read_bytes())
    target.write_bytes(out.getvalue())
    return target


def _indications(path: Path, store: TrustStore) -> list[Indication]:
    return [s.indication for s in verify_document(path, store, VerificationPolicy()).signatures]


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    return pdfs.make_pdf(tmp_path / "plain.pdf", "Report of the cooperative")


def test_control_the_plain_shape_passes(pki: TestPki, store: TrustStore, tmp_path: Path, plain: Path) -> None:
    signed = sign_with_byte_range(pki, "head256", plain, tmp_path / "s.pdf", _plain)
    assert _indications(signed, store) == [Indication.TOTAL_PASSED]


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_bent_byte_range_never_passes(pki: TestPki, store: TrustStore, tmp_path: Path, plain: Path, shape: str) -> None:
    signed = sign_with_byte_range(pki, "head256", plain, tmp_path / "s.pdf", SHAPES[shape])
    assert Indication.TOTAL_PASSED not in _indications(signed, store)


@pytest.mark.parametrize("shape", ["not-from-zero", "wider-gap", "short-of-the-end"])
def test_a_second_signature_with_a_bent_byte_range_fails_alone(pki: TestPki, store: TrustStore, tmp_path: Path, plain: Path, shape: str) -> None:
    first = sign_with_byte_range(pki, "head256", plain, tmp_path / "first.pdf", _plain)
    both = sign_with_byte_range(pki, "head256", first, tmp_path / "both.pdf", SHAPES[shape], field="Signature2")
    indications = _indications(both, store)
    assert len(indications) == 2 and Indication.TOTAL_PASSED in indications and indications.count(Indication.TOTAL_PASSED) == 1


def test_a_byte_range_of_reals_is_a_format_failure(pki: TestPki, store: TrustStore, tmp_path: Path, plain: Path) -> None:
    # Hole fixed: [0 1103.0 …] passed (int() truncates; a reader rounding 1103.9 hashes other bytes).
    signed = sign_with_byte_range(pki, "head256", plain, tmp_path / "s.pdf", SHAPES["reals"])
    [signature] = verify_document(signed, store, VerificationPolicy()).signatures
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE)
