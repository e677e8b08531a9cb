"""Real signed PDFs for tests and benchmarks.

* RSA/ECDSA: pyHanko's own signer (``SimpleSigner``).
* GOST: pyHanko allocates the signature field and /ByteRange placeholder (interrupted
  signing), the CMS over the ByteRange bytes is made by ``openssl cms -sign`` with the gost
  engine and the test PKI's GOST key, and pyHanko writes it into the reserved /Contents.
* Later revisions: attacks on PDF signatures (incremental saving, signature wrapping,
  shadow hide / replace / hide-and-replace, annotation overlays, form filling, actions,
  bytes after %%EOF) and the allowed updates (a further signature, a document timestamp,
  a DSS/VRI LTV update); see the section "attacks on PDF signatures" below.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from tests.pki.builder import TestPki

__all__ = [
    "make_pdf",
    "sign_pdf_pyhanko",
    "sign_pdf_gost",
    "add_annotation",
    "replace_page_text",
    "timestamp_pdf",
    "encrypt_pdf",
    "build_pdf",
    "FORGED_TEXT",
    "make_pdf_with_hidden_objects",
    "make_pdf_with_text_field",
    "append_revision",
    "new_catalog_labelled_xref",
    "switch_to_hidden_catalog",
    "shadow_hide",
    "shadow_replace",
    "shadow_hide_and_replace",
    "info_points_at_catalog",
    "info_points_at_catalog_with_action",
    "relabel_content_as_xref",
    "add_catalog_entry",
    "add_open_action",
    "add_names_javascript",
    "add_page_additional_action",
    "change_page_resources",
    "add_overlay_annotation",
    "fill_text_field",
    "set_need_appearances",
    "add_empty_visible_signature_field",
    "timestamp_into_visible_field",
    "repoint_form_font",
    "info_with_a_stream",
    "info_with_strings",
    "sign_pdf_pyhanko_with_overlay",
    "certify_pdf_pyhanko",
    "add_dss",
    "append_junk",
]


def make_pdf(path: Path, text: str = "Report of the cooperative", padding_bytes: int = 0, catalog_extra: bytes = b"") -> Path:
    """A small valid one-page PDF (with an optional large unused stream, for benchmarks,
    and optional extra catalog entries such as an /OpenAction)."""
    content = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if padding_bytes:
        # An attachment-like stream that makes the file large without a heavy page.
        block = bytes(range(256)) * 4096
        data = (block * (padding_bytes // len(block) + 1))[:padding_bytes]
        objects.append(b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")
    path.write_bytes(build_pdf(objects))
    return path


def build_pdf(objects: list[bytes], trailer_extra: bytes = b"", self_prev: bool = False) -> bytes:
    """A PDF file of ``objects`` (numbered from 1, the first is the catalog) with a correct
    xref table; ``self_prev`` makes the trailer's /Prev point at its own xref (a loop)."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    prev = b" /Prev %d" % xref if self_prev else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, prev, trailer_extra, xref)
    return bytes(out)


def _run(coroutine):  # type: ignore[no-untyped-def]
    """Run pyHanko's coroutine, also from inside an async test (on a helper thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def sign_pdf_pyhanko(
    pki: TestPki,
    label: str,
    source: Path,
    target: Path,
    field: str = "Signature1",
    box: tuple[int, int, int, int] | None = None,
    *,
    ignore_certification: bool = False,
) -> Path:
    """Sign with pyHanko's SimpleSigner (RSA or ECDSA test key), PAdES subfilter; with
    ``box`` in a new visible field (pyHanko's default stamp appearance);
    ``ignore_certification`` signs even where the author's DocMDP forbids it (as a
    careless or hostile tool would)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signers.SimpleSigner.load(
        str(pki.key(label)), str(pki.cert(label)), ca_chain_files=(str(pki.cert("rsa_ca")),)
    )
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        output = BytesIO()
        new_field = fields.SigFieldSpec(field, box=box) if box else None

        class Signer(signers.PdfSigner):  # type: ignore[misc]
            def _enforce_certification_constraints(self, reader: Any) -> None:
                if not ignore_certification:
                    super()._enforce_certification_constraints(reader)

        Signer(meta, signer=signer, new_field_spec=new_field).sign_pdf(writer, output=output)
    target.write_bytes(output.getvalue())
    return target


def sign_pdf_gost(
    pki: TestPki,
    label: str,
    source: Path,
    target: Path,
    field: str = "Signature1",
    *,
    subfilter: str = "pades",
    shorten_byte_range: int = 0,
    digest: str | None = None,
) -> Path:
    """Sign with a key of the test PKI (GOST, or RSA/ECDSA): CMS by openssl, placed by pyHanko.

    ``subfilter``: ``pades`` (ETSI.CAdES.detached), ``pkcs7`` (adbe.pkcs7.detached) or
    ``sha1`` (adbe.pkcs7.sha1: the CMS encapsulates the SHA-1 of the ByteRange).
    ``digest``: the CMS digest (openssl name; default by key type).
    ``shorten_byte_range`` makes the declared second byte range stop that many bytes
    before the end of the file (the signature then does not cover the file's tail).
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import load_cert_from_pemder

    # The placeholder signer never signs: its certificate only lets pyHanko lay out the field.
    placeholder = signers.ExternalSigner(load_cert_from_pemder(str(pki.cert("rsa_signer"))), None, bytes(256))
    chosen = fields.SigSeedSubFilter.PADES if subfilter == "pades" else fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=chosen, md_algorithm="sha256")
    pdf_signer = signers.PdfSigner(meta, signer=placeholder)
    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        prepared, _tbs, output = _run(pdf_signer.async_digest_doc_for_signing(writer, bytes_reserved=16384))
    data = bytearray(output.getvalue())
    if subfilter == "sha1":
        # Same length, so every offset pyHanko laid out stays right (spaces are PDF white space).
        position = data.index(b"/adbe.pkcs7.detached")
        data[position : position + 20] = b"/adbe.pkcs7.sha1    "
    start, end = prepared.reserved_region_start, prepared.reserved_region_end
    ranges = [(0, start), (end, len(data) - end - shorten_byte_range)]
    if shorten_byte_range:
        match = re.search(rb"/ByteRange\s*\[([^\]]*)\]", bytes(data))
        assert match is not None
        numbers = b"%d %d %d %d" % (ranges[0][0], ranges[0][1], ranges[1][0], ranges[1][1])
        width = len(match.group(1))
        data[match.start(1) : match.end(1)] = numbers.ljust(width)
    signed_part = target.with_suffix(".byterange")
    signed_bytes = b"".join(bytes(data[s : s + n]) for s, n in ranges)
    signed_part.write_bytes(hashlib.sha1(signed_bytes, usedforsecurity=False).digest() if subfilter == "sha1" else signed_bytes)
    cms_path = target.with_suffix(".p7s")
    pki.sign(label, signed_part, cms_path, attached=subfilter == "sha1", digest=digest)
    output = BytesIO(bytes(data))
    prepared.fill_with_cms(output, cms_path.read_bytes())
    target.write_bytes(output.getvalue())
    signed_part.unlink()
    cms_path.unlink()
    return target


def add_annotation(source: Path, target: Path) -> Path:
    """A later revision that only adds a text annotation (a sticky note) to page 1."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        page_ref = writer.root["/Pages"].raw_get("/Kids").raw_get(0)
        page = page_ref.get_object()
        annotation = generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/Text"),
                generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(n) for n in (50, 50, 80, 80)]),
                generic.NameObject("/Contents"): generic.TextStringObject("Принято к рассмотрению"),
                generic.NameObject("/P"): page_ref,
            }
        )
        annotations = page.get("/Annots", generic.ArrayObject())
        annotations = generic.ArrayObject([*annotations, writer.add_object(annotation)])
        page[generic.NameObject("/Annots")] = annotations
        writer.update_container(page)
        output = BytesIO()
        writer.write(output)
    target.write_bytes(output.getvalue())
    return target


def replace_page_text(source: Path, target: Path, text: str = "Forged figures") -> Path:
    """A later revision that replaces the page's content stream (what the reader sees)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        page = writer.root["/Pages"].raw_get("/Kids").raw_get(0).get_object()
        stream_object = generic.StreamObject(stream_data=f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1"))
        page[generic.NameObject("/Contents")] = writer.add_object(stream_object)
        writer.update_container(page)
        output = BytesIO()
        writer.write(output)
    target.write_bytes(output.getvalue())
    return target


def encrypt_pdf(source: Path, target: Path, password: str = "secret") -> Path:
    """A password-protected copy (standard security handler)."""
    from pyhanko.pdf_utils.crypt import StandardSecurityHandler
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    with open(source, "rb") as stream:
        writer = copy_into_new_writer(PdfFileReader(stream))
        writer.encrypt = True
        writer.security_handler = StandardSecurityHandler.build_from_pw(password, password)
        writer._encrypt = writer.add_object(writer.security_handler.as_pdf_object())
        with open(target, "wb") as out:
            writer.write(out)
    return target


def timestamp_pdf(pki: TestPki, label: str, source: Path, target: Path, fixed_dt: datetime | None = None) -> Path:
    """Add a document timestamp (/DocTimeStamp, ETSI.RFC3161) from a test TSA key
    (``pki`` is anything with ``cert(label)`` and ``key(label)``); genTime ``fixed_dt`` or now."""
    from pyhanko.sign.general import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    stamper = DummyTimeStamper(
        tsa_cert=load_cert_from_pemder(str(pki.cert(label))),
        tsa_key=load_private_key_from_pemder(str(pki.key(label)), passphrase=None),
        fixed_dt=fixed_dt,
    )
    return stamp_pdf_with(stamper, source, target)


def stamp_pdf_with(stamper: Any, source: Path, target: Path) -> Path:
    """``source`` with a document time-stamp by pyHanko's ``stamper`` in a new revision."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        output = BytesIO()
        signers.PdfTimeStamper(stamper).timestamp_pdf(writer, "sha256", output=output)
    target.write_bytes(output.getvalue())
    return target


# --- attacks on PDF signatures: revisions appended after signing (issue 9, section 1) ---
#
# The PDF-Insecurity families (incremental saving, signature wrapping, shadow hide /
# replace / hide-and-replace) and annotation overlays. ``append_revision`` writes an
# incremental update by hand (objects, classic xref section, trailer with /Prev), so a
# test controls every byte the attacker controls: the trailer /Root and /Info, object
# numbers and /Type labels. The pyHanko-based helpers cover what a viewer would write.

FORGED_TEXT = "Forged figures"


def _content(text: str) -> bytes:
    return f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def make_pdf_with_hidden_objects(path: Path, text: str = "Report of the cooperative") -> Path:
    """A one-page PDF whose file also carries, unreachable from its catalog, a second
    catalog (6), page tree (7), page (8) and content stream (9) showing FORGED_TEXT: the
    "hide" material of shadow attacks, present (and so signed) but never shown."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(_content(text)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Catalog /Pages 7 0 R >>",
        b"<< /Type /Pages /Kids [8 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 7 0 R /MediaBox [0 0 595 842] /Contents 9 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(_content(FORGED_TEXT)),
    ]
    path.write_bytes(build_pdf(objects))
    return path


def make_pdf_with_text_field(path: Path, text: str = "Сумма займа:") -> Path:
    """A page with an empty, borderless text field (no /MK border, no value): filled in
    after signing, its appearance draws text onto the page as if it were printed there."""
    widget_ap = _stream(b"", b"/Type /XObject /Subtype /Form /BBox [0 0 200 20] ")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R] /DA (/Helv 12 Tf 0 g) "
        b"/DR << /Font << /Helv 5 0 R >> >> >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> /Annots [6 0 R] >>",
        _stream(_content("Loan amount:")),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /Rect [200 715 400 735] /P 3 0 R "
        b"/F 4 /DA (/Helv 12 Tf 0 g) /AP << /N 7 0 R >> >>",
        widget_ap,
    ]
    path.write_bytes(build_pdf(objects))
    return path


def append_revision(
    source: Path,
    target: Path,
    objects: dict[int, bytes],
    *,
    root: int | None = None,
    info: int | None = None,
    free: tuple[int, ...] = (),
    prev: int | None = None,
) -> Path:
    """Append one incremental update: ``objects`` (number -> body, generation 0; a number
    already in use redefines that object), a classic xref section and a trailer whose
    /Root is ``root`` (default: the current one) and /Info ``info`` (default: none).
    ``free`` marks object numbers free; ``prev`` overrides /Prev (default: the last
    revision's cross-reference section)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    data = source.read_bytes()
    with open(source, "rb") as stream:
        reader = PdfFileReader(stream, strict=False)
        size = int(reader.trailer["/Size"])
        current_root = reader.root_ref.idnum
        previous_xref = reader.xrefs.get_startxref_for_revision(reader.xrefs.total_revisions - 1)
    out = bytearray(data if data.endswith(b"\n") else data + b"\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n"
    if not offsets and not free:
        out += b"0 1\n0000000000 65535 f \n"
    for number in sorted(offsets):
        out += b"%d 1\n%010d 00000 n \n" % (number, offsets[number])
    for number in free:
        out += b"%d 1\n0000000000 00001 f \n" % number
    new_size = max(size, max(offsets, default=0) + 1)
    trailer = b"/Size %d /Root %d 0 R /Prev %d" % (new_size, root or current_root, previous_xref if prev is None else prev)
    if info is not None:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n<< " + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    target.write_bytes(bytes(out))
    return target


def _next_number(source: Path) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader

    with open(source, "rb") as stream:
        return int(PdfFileReader(stream, strict=False).trailer["/Size"])


def _page_body(source: Path, **changes: bytes) -> tuple[int, bytes]:
    """Number and body of the first page with some entries replaced or added (raw PDF)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.reader import PdfFileReader

    with open(source, "rb") as stream:
        reader = PdfFileReader(stream, strict=False)
        page_ref = reader.root["/Pages"].raw_get("/Kids").raw_get(0)
        page = page_ref.get_object()
        entries: dict[str, bytes] = {}
        for key in page:
            buffer = BytesIO()
            page.raw_get(key).write_to_stream(buffer)
            entries[key] = buffer.getvalue()
        for key, value in changes.items():
            entries["/" + key] = value
        assert isinstance(page_ref, generic.IndirectObject)
        body = b"<< " + b" ".join(k.encode() + b" " + v for k, v in entries.items()) + b" >>"
        return page_ref.idnum, body


def new_catalog_labelled_xref(source: Path, target: Path) -> Path:
    """Signature wrapping / incremental saving: a later revision adds a new catalog,
    page tree, page and content showing FORGED_TEXT, every new object labelled
    ``/Type /XRef`` (a label some checks trust), and points the trailer /Root at it."""
    n = _next_number(source)
    objects = {
        n: b"<< /Type /XRef /Pages %d 0 R >>" % (n + 1),
        n + 1: b"<< /Type /XRef /Kids [%d 0 R] /Count 1 >>" % (n + 2),
        n + 2: b"<< /Type /XRef /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
        b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (n + 1, n + 3, n + 4),
        n + 3: _stream(_content(FORGED_TEXT), b"/Type /XRef "),
        n + 4: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    return append_revision(source, target, objects, root=n)


def switch_to_hidden_catalog(source: Path, target: Path) -> Path:
    """Shadow attack on a file from ``make_pdf_with_hidden_objects``: a revision with no
    new object at all, only a trailer whose /Root is the hidden catalog (6)."""
    return append_revision(source, target, {}, root=6)


def shadow_hide(source: Path, target: Path) -> Path:
    """Shadow hide: the page's /Contents now points at the hidden stream (9)."""
    number, body = _page_body(source, Contents=b"9 0 R")
    return append_revision(source, target, {number: body})


def shadow_replace(source: Path, target: Path) -> Path:
    """Shadow replace: a signed object (the page font, 5) is redefined in place."""
    return append_revision(source, target, {5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Symbol >>"})


def shadow_hide_and_replace(source: Path, target: Path) -> Path:
    """Shadow hide-and-replace: the signed catalog (1) is redefined to show the hidden
    page tree (7) of ``make_pdf_with_hidden_objects``."""
    return append_revision(source, target, {1: b"<< /Type /Catalog /Pages 7 0 R >>"})


def info_points_at_catalog(source: Path, target: Path) -> Path:
    """The trailer /Info is pointed at the catalog (1), redefined to show the hidden page
    tree: a check that lets /Info change freely would clear the catalog change."""
    return append_revision(source, target, {1: b"<< /Type /Catalog /Pages 7 0 R >>"}, info=1)


def relabel_content_as_xref(source: Path, target: Path) -> Path:
    """The page's content stream (4) redefined with FORGED_TEXT and labelled ``/Type /XRef``."""
    return append_revision(source, target, {4: _stream(_content(FORGED_TEXT), b"/Type /XRef ")})


def add_catalog_entry(source: Path, target: Path, entry: bytes) -> Path:
    """The catalog (1) redefined with one more entry (an /OpenAction, /Names, ...)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    with open(source, "rb") as stream:
        reader = PdfFileReader(stream, strict=False)
        number = reader.root_ref.idnum
        buffer = BytesIO()
        reader.root.write_to_stream(buffer)
    body = buffer.getvalue().rstrip()
    assert body.endswith(b">>")
    return append_revision(source, target, {number: body[:-2] + b" " + entry + b" >>"})


def add_open_action(source: Path, target: Path) -> Path:
    """/OpenAction: JavaScript run when the document opens (can rewrite fields, navigate)."""
    return add_catalog_entry(source, target, b"/OpenAction << /S /JavaScript /JS (app.alert\\('x'\\)) >>")


def add_names_javascript(source: Path, target: Path) -> Path:
    """A /Names tree with a document-level JavaScript."""
    return add_catalog_entry(
        source, target, b"/Names << /JavaScript << /Names [(init) << /S /JavaScript /JS (this.print\\(\\)) >>] >> >>"
    )


def add_page_additional_action(source: Path, target: Path) -> Path:
    """A page /AA (open action of the page)."""
    number, body = _page_body(source, AA=b"<< /O << /S /JavaScript /JS (app.beep\\(0\\)) >> >>")
    return append_revision(source, target, {number: body})


def change_page_resources(source: Path, target: Path) -> Path:
    """The page's /Resources now map /F1 to another (new) font: same content, other glyphs."""
    n = _next_number(source)
    number, body = _page_body(source, Resources=b"<< /Font << /F1 %d 0 R >> >>" % n)
    return append_revision(source, target, {number: body, n: b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>"})


def _add_overlay_in_writer(writer: Any, subtype: str = "FreeText") -> None:
    """Queue in ``writer`` an annotation whose appearance paints a white box and
    FORGED_TEXT over the signed text."""
    from pyhanko.pdf_utils import generic

    page_ref = writer.root["/Pages"].raw_get("/Kids").raw_get(0)
    page = page_ref.get_object()
    font = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Font"),
                generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
                generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
            }
        )
    )
    paint = b"1 g 0 0 400 30 re f 0 g BT /F1 18 Tf 2 8 Td (" + FORGED_TEXT.encode() + b") Tj ET"
    appearance = generic.StreamObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/XObject"),
            generic.NameObject("/Subtype"): generic.NameObject("/Form"),
            generic.NameObject("/BBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 400, 30)]),
            generic.NameObject("/Resources"): generic.DictionaryObject(
                {generic.NameObject("/Font"): generic.DictionaryObject({generic.NameObject("/F1"): font})}
            ),
        },
        stream_data=paint,
    )
    annotation = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/" + subtype),
            generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in (70, 712, 470, 742)]),
            generic.NameObject("/F"): generic.NumberObject(4),
            generic.NameObject("/Contents"): generic.TextStringObject(FORGED_TEXT),
            generic.NameObject("/P"): page_ref,
            generic.NameObject("/AP"): generic.DictionaryObject({generic.NameObject("/N"): writer.add_object(appearance)}),
        }
    )
    if subtype == "FreeText":
        annotation[generic.NameObject("/DA")] = generic.TextStringObject("/Helv 18 Tf 0 g")
    annotations = page.get("/Annots", generic.ArrayObject())
    page[generic.NameObject("/Annots")] = generic.ArrayObject([*annotations, writer.add_object(annotation)])
    writer.update_container(page)


def add_overlay_annotation(source: Path, target: Path, subtype: str = "FreeText") -> Path:
    """A later revision adding an annotation (``subtype``: FreeText, Stamp, Square, ...)
    whose appearance paints over the signed text, as a PDF editor would write it."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        _add_overlay_in_writer(writer, subtype)
        output = BytesIO()
        writer.write(output)
    target.write_bytes(output.getvalue())
    return target


def fill_text_field(source: Path, target: Path, value: str = "1 000 000") -> Path:
    """Fill the field of ``make_pdf_with_text_field`` after signing: /V and a new
    appearance that draws the value on the page (what any PDF viewer does)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        field_ref = writer.root["/AcroForm"].raw_get("/Fields")[0]
        field = field_ref.get_object()
        font = writer.root["/AcroForm"]["/DR"]["/Font"].raw_get("/Helv")
        appearance = generic.StreamObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/XObject"),
                generic.NameObject("/Subtype"): generic.NameObject("/Form"),
                generic.NameObject("/BBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 200, 20)]),
                generic.NameObject("/Resources"): generic.DictionaryObject(
                    {generic.NameObject("/Font"): generic.DictionaryObject({generic.NameObject("/Helv"): font})}
                ),
            },
            stream_data=b"/Tx BMC BT /Helv 12 Tf 0 g 2 5 Td (" + value.encode() + b") Tj ET EMC",
        )
        field[generic.NameObject("/V")] = generic.TextStringObject(value)
        field[generic.NameObject("/AP")] = generic.DictionaryObject({generic.NameObject("/N"): writer.add_object(appearance)})
        writer.update_container(field)
        output = BytesIO()
        writer.write(output)
    target.write_bytes(output.getvalue())
    return target


def _add_visible_signature_field(writer: Any, name: str = "Overlay") -> None:
    """Queue a new signature field whose widget appearance paints a white box over the
    signed text."""
    from pyhanko.pdf_utils import generic
    from pyhanko.sign import fields

    fields.append_signature_field(writer, fields.SigFieldSpec(name, box=(70, 712, 470, 742)))
    field_ref = next(f for f in writer.root["/AcroForm"]["/Fields"] if f.get_object().get("/T") == name)
    field = field_ref.get_object()
    appearance = generic.StreamObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/XObject"),
            generic.NameObject("/Subtype"): generic.NameObject("/Form"),
            generic.NameObject("/BBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 400, 30)]),
        },
        stream_data=b"1 g 0 0 400 30 re f",
    )
    field[generic.NameObject("/AP")] = generic.DictionaryObject({generic.NameObject("/N"): writer.add_object(appearance)})
    writer.update_container(field)


def add_empty_visible_signature_field(source: Path, target: Path) -> Path:
    """A new, unsigned signature field whose widget appearance paints over the page."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        _add_visible_signature_field(writer)
        output = BytesIO()
        writer.write(output)
    target.write_bytes(output.getvalue())
    return target


def timestamp_into_visible_field(pki: TestPki, label: str, source: Path, target: Path) -> Path:
    """A document timestamp (by any TSA: timestamps are not signatures of the document)
    placed in a new visible field whose appearance paints over the page."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.general import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    stamper = DummyTimeStamper(
        tsa_cert=load_cert_from_pemder(str(pki.cert(label))),
        tsa_key=load_private_key_from_pemder(str(pki.key(label)), passphrase=None),
    )
    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        _add_visible_signature_field(writer)
        output = BytesIO()
        signers.PdfTimeStamper(stamper, field_name="Overlay").timestamp_pdf(writer, "sha256", output=output)
    target.write_bytes(output.getvalue())
    return target


def sign_pdf_pyhanko_with_overlay(pki: TestPki, label: str, source: Path, target: Path, field: str = "Signature2") -> Path:
    """A second signature whose own revision also adds a FreeText overlay: the later
    signer covers the overlay, the earlier signature must not."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signers.SimpleSigner.load(str(pki.key(label)), str(pki.cert(label)), ca_chain_files=(str(pki.cert("rsa_ca")),))
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        _add_overlay_in_writer(writer)
        output = BytesIO()
        signers.sign_pdf(writer, meta, signer=signer, output=output)
    target.write_bytes(output.getvalue())
    return target


def certify_pdf_pyhanko(pki: TestPki, label: str, source: Path, target: Path, permission: int = 3) -> Path:
    """A certification (author) signature with DocMDP permission ``permission``
    (3: form filling and annotations allowed by the author)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signers.SimpleSigner.load(str(pki.key(label)), str(pki.cert(label)), ca_chain_files=(str(pki.cert("rsa_ca")),))
    meta = signers.PdfSignatureMetadata(
        field_name="Certification",
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        certify=True,
        docmdp_permissions=fields.MDPPerm(permission),
    )
    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        output = BytesIO()
        signers.sign_pdf(writer, meta, signer=signer, output=output)
    target.write_bytes(output.getvalue())
    return target


def add_dss(pki: TestPki, source: Path, target: Path, labels: tuple[str, ...] = ("rsa_signer", "rsa_ca")) -> Path:
    """An LTV update as pyHanko writes it: a /DSS with certificates and a /VRI entry for
    the document's last signature, in a new revision."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields
    from pyhanko.sign.general import load_cert_from_pemder
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    data = source.read_bytes()
    with open(source, "rb") as stream:
        reader = PdfFileReader(stream, strict=False)
        *_, (_name, sig_object, _field) = enumerate_sig_fields(reader, filled_status=True)
        contents = sig_object.get_object()["/Contents"]
    output = BytesIO(data)
    certs = [load_cert_from_pemder(str(pki.cert(label))) for label in labels]
    DocumentSecurityStore.add_dss(output, contents, certs=certs)
    target.write_bytes(output.getvalue())
    return target


def append_junk(source: Path, target: Path) -> Path:
    """Bytes after the last %%EOF that form no revision: an object a repairing reader
    could pick up, covered by no signature."""
    body = _stream(_content(FORGED_TEXT))
    target.write_bytes(source.read_bytes() + b"4 0 obj\n" + body + b"\nendobj\n")
    return target


def info_points_at_catalog_with_action(source: Path, target: Path) -> Path:
    """The trailer /Info is pointed at the catalog, which gains an /OpenAction: a check
    that lets /Info change freely would clear the catalog change."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    with open(source, "rb") as stream:
        reader = PdfFileReader(stream, strict=False)
        number = reader.root_ref.idnum
        buffer = BytesIO()
        reader.root.write_to_stream(buffer)
    body = buffer.getvalue().rstrip()
    body = body[:-2] + b" /OpenAction << /S /JavaScript /JS (app.beep\\(0\\)) >> >>"
    return append_revision(source, target, {number: body}, info=number)


def set_need_appearances(source: Path, target: Path) -> Path:
    """/AcroForm /NeedAppearances true: viewers regenerate every field's appearance from
    values that were never shown when the document was signed."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        form = writer.root.raw_get("/AcroForm")
        if isinstance(form, generic.IndirectObject):
            form.get_object()[generic.NameObject("/NeedAppearances")] = generic.BooleanObject(True)
            writer.update_container(form.get_object())
        else:
            form[generic.NameObject("/NeedAppearances")] = generic.BooleanObject(True)
            writer.update_root()
        output = BytesIO()
        writer.write(output)
    target.write_bytes(output.getvalue())
    return target


def free_page_content(source: Path, target: Path) -> Path:
    """A revision that frees the page's content stream (4): the page renders blank."""
    return append_revision(source, target, {}, free=(4,))


def metadata_pointed_at_page_content(source: Path, target: Path) -> Path:
    """The catalog's /Metadata is pointed at the page content stream (4), which is
    redefined as well-formed XMP: a rule that clears /Metadata updates must not clear the
    page's content changing."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    with open(source, "rb") as stream:
        reader = PdfFileReader(stream, strict=False)
        number = reader.root_ref.idnum
        buffer = BytesIO()
        reader.root.write_to_stream(buffer)
    catalog = buffer.getvalue().rstrip()[:-2] + b" /Metadata 4 0 R >>"
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><!-- BT /F1 18 Tf 72 720 Td (Forged) Tj ET --></x:xmpmeta>'
    return append_revision(source, target, {number: catalog, 4: _stream(xmp, b"/Type /Metadata /Subtype /XML ")})


def skip_signed_revision(source: Path, target: Path) -> Path:
    """A revision whose /Prev jumps over the signed revision to the original one, so
    readers never see the signed revision, and whose page shows FORGED_TEXT."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    with open(source, "rb") as stream:
        reader = PdfFileReader(stream, strict=False)
        first_xref = reader.xrefs.get_startxref_for_revision(0)
    return append_revision(source, target, {4: _stream(_content(FORGED_TEXT))}, prev=first_xref)


def sign_pdf_pyhanko_with_hidden_stream(pki: TestPki, label: str, source: Path, target: Path) -> tuple[Path, int]:
    """Sign with pyHanko, the signed revision itself carrying an unreferenced content
    stream showing FORGED_TEXT; returns the file and that stream's object number."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signers.SimpleSigner.load(str(pki.key(label)), str(pki.cert(label)), ca_chain_files=(str(pki.cert("rsa_ca")),))
    meta = signers.PdfSignatureMetadata(field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        hidden = writer.add_object(generic.StreamObject(stream_data=_content(FORGED_TEXT)))
        output = BytesIO()
        signers.sign_pdf(writer, meta, signer=signer, output=output)
    target.write_bytes(output.getvalue())
    return target, hidden.idnum


def show_stream_on_page(source: Path, target: Path, number: int) -> Path:
    """A revision pointing the first page's /Contents at object ``number``."""
    page, body = _page_body(source, Contents=b"%d 0 R" % number)
    return append_revision(source, target, {page: body})


def repoint_form_font(source: Path, target: Path) -> Path:
    """/AcroForm /DR /Font /Helv re-pointed at another font (fields drawn anew use it)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        font = writer.add_object(
            generic.DictionaryObject(
                {
                    generic.NameObject("/Type"): generic.NameObject("/Font"),
                    generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
                    generic.NameObject("/BaseFont"): generic.NameObject("/Symbol"),
                }
            )
        )
        writer.root["/AcroForm"]["/DR"]["/Font"][generic.NameObject("/Helv")] = font
        writer.update_root()
        output = BytesIO()
        writer.write(output)
    target.write_bytes(output.getvalue())
    return target


def info_with_a_stream(source: Path, target: Path) -> Path:
    """A new /Info dictionary that carries a content stream instead of metadata strings."""
    n = _next_number(source)
    objects = {n: b"<< /Title (Report) /Payload %d 0 R >>" % (n + 1), n + 1: _stream(_content(FORGED_TEXT))}
    return append_revision(source, target, objects, info=n)


def info_with_strings(source: Path, target: Path) -> Path:
    """A new /Info dictionary with only metadata strings (what every editor writes)."""
    n = _next_number(source)
    return append_revision(source, target, {n: b"<< /Title (Report) /ModDate (D:20260101120000Z) /Trapped /False >>"}, info=n)
