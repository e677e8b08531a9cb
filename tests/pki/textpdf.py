"""PDFs with a real Cyrillic text layer (and ones without), for content recognition tests.

The text is written in Windows-1251 with a standard Helvetica font and a ``/ToUnicode``
map, as simple producers do, so any text extractor reads it back as Unicode. A "scan"
is a page with a drawn rectangle and no text at all.
"""

from __future__ import annotations

from pathlib import Path

from tests.pki.pdf import build_pdf

__all__ = ["text_pdf", "scan_pdf"]

_TO_UNICODE = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<00> <FF>
endcodespacerange
4 beginbfrange
<20> <7E> <0020>
<C0> <FF> <0410>
<A8> <A8> <0401>
<B8> <B8> <0451>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end"""


def _escape(data: bytes) -> bytes:
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_pdf(path: Path, lines: list[str]) -> Path:
    """A one-page PDF showing ``lines`` (Cyrillic allowed) with an extractable text layer."""
    body = b"BT /F1 12 Tf 14 TL 56 780 Td " + b" ".join(
        b"(" + _escape(line.encode("cp1251", errors="replace")) + b") Tj T*" for line in lines
    ) + b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(_TO_UNICODE) + _TO_UNICODE + b"\nendstream",
    ]
    path.write_bytes(build_pdf(objects))
    return path


def scan_pdf(path: Path) -> Path:
    """A one-page PDF without any text (what a scanner without OCR produces, minus the image)."""
    body = b"0.5 g 56 400 480 380 re f"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream",
    ]
    path.write_bytes(build_pdf(objects))
    return path
