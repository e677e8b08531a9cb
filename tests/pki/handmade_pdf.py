"""Small PDFs written by hand with a correct xref table (no PDF library involved)."""

from __future__ import annotations

__all__ = ["build_pdf"]


def build_pdf(catalog_extra: bytes = b"", page_extra: bytes = b"", extra_objects: list[bytes] | None = None) -> bytes:
    """A one-page PDF with a correct xref table.

    Objects 1-3 are the catalog, the page tree and the page; ``extra_objects`` become
    objects 4, 5, ... and can be referenced from the extras as ``4 0 R`` and so on.
    """
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + page_extra + b" >>",
        *(extra_objects or []),
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref)
    return bytes(out)
