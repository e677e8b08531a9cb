"""The one archive-type detector: ZIP or RAR by content (magic bytes), and ZIP-based office
documents (which are documents, never expanded)."""

from __future__ import annotations

import zipfile
from pathlib import Path

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_RAR4_MAGIC = b"Rar!\x1a\x07\x00"
_RAR5_MAGIC = b"Rar!\x1a\x07\x01\x00"


def sniff_kind(head: bytes) -> str:
    """``"zip"``, ``"rar"`` or ``"unknown"`` from the first bytes of a file."""
    if head.startswith(_ZIP_MAGICS):
        return "zip"
    if head.startswith(_RAR4_MAGIC) or head.startswith(_RAR5_MAGIC):
        return "rar"
    return "unknown"


def is_office_document(path: Path) -> bool:
    """OOXML/ODF files are ZIPs but documents: they are not expanded."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if "[Content_Types].xml" in names:
                return True
            if names and names[0] == "mimetype":
                with zf.open("mimetype") as fh:
                    return fh.read(100).startswith(b"application/vnd.oasis.opendocument")
    except Exception:  # noqa: BLE001 - a broken ZIP is handled by the normal path
        return False
    return False
