"""Real signed PDFs for tests and benchmarks.

* RSA/ECDSA: pyHanko's own signer (``SimpleSigner``).
* GOST: pyHanko allocates the signature field and /ByteRange placeholder (interrupted
  signing), the CMS over the ByteRange bytes is made by ``openssl cms -sign`` with the gost
  engine and the test PKI's GOST key, and pyHanko writes it into the reserved /Contents.
* Later revisions: an added annotation (benign) or replaced page text (not allowed).
"""

from __future__ import annotations

import asyncio
import re
from io import BytesIO
from pathlib import Path

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


def sign_pdf_pyhanko(pki: TestPki, label: str, source: Path, target: Path, field: str = "Signature1") -> Path:
    """Sign with pyHanko's SimpleSigner (RSA or ECDSA test key), PAdES subfilter."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signers.SimpleSigner.load(
        str(pki.key(label)), str(pki.cert(label)), ca_chain_files=(str(pki.cert("rsa_ca")),)
    )
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    with open(source, "rb") as stream:
        writer = IncrementalPdfFileWriter(stream, strict=False)
        output = BytesIO()
        signers.sign_pdf(writer, meta, signer=signer, output=output)
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
) -> Path:
    """Sign with a GOST key of the test PKI: CMS by openssl, placed by pyHanko.

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
    start, end = prepared.reserved_region_start, prepared.reserved_region_end
    ranges = [(0, start), (end, len(data) - end - shorten_byte_range)]
    if shorten_byte_range:
        match = re.search(rb"/ByteRange\s*\[([^\]]*)\]", bytes(data))
        assert match is not None
        numbers = b"%d %d %d %d" % (ranges[0][0], ranges[0][1], ranges[1][0], ranges[1][1])
        width = len(match.group(1))
        data[match.start(1) : match.end(1)] = numbers.ljust(width)
    signed_part = target.with_suffix(".byterange")
    signed_part.write_bytes(b"".join(bytes(data[s : s + n]) for s, n in ranges))
    cms_path = target.with_suffix(".p7s")
    pki.sign(label, signed_part, cms_path)
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
        page_ref = writer.root["/Pages"].raw_get("/Kids")[0]
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
        page = writer.root["/Pages"].raw_get("/Kids")[0].get_object()
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


def timestamp_pdf(pki: TestPki, label: str, source: Path, target: Path) -> Path:
    """Add a document timestamp (/DocTimeStamp, ETSI.RFC3161) from a test TSA key."""
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
        output = BytesIO()
        signers.PdfTimeStamper(stamper).timestamp_pdf(writer, "sha256", output=output)
    target.write_bytes(output.getvalue())
    return target
