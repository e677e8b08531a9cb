"""Structure of a PDF in a PDF slot (SPEC section 5): readable, not encrypted, and what
active content it carries.

Findings: ``pdf.corrupt`` (pyHanko cannot read the file, or it has no document catalog
and page tree), ``pdf.encrypted`` (an ``/Encrypt`` dictionary: the file is never
decrypted), ``pdf.polyglot`` (the file is also a ZIP or RAR archive), and one
``pdf.active_content`` per kind of active content found (see :data:`ACTIVE_CONTENT`).

The object graph is walked iteratively with an explicit stack and hard limits
(:data:`MAX_NODES` objects visited, :data:`MAX_DEPTH` levels of nesting), so hostile files
with huge numbers of objects, reference cycles or deep nesting end quickly. Stream data
is never decoded by the walk (only stream dictionaries are looked at); pyHanko's own
untrusted-input decode limits bound what it decodes for object and xref streams.
"""

from __future__ import annotations

import logging
import mmap
import re
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from validators.checks import Check, finding

__all__ = ["check_pdf", "ACTIVE_CONTENT", "MAX_NODES", "MAX_DEPTH"]

logger = logging.getLogger(__name__)

MAX_NODES = 100_000
"""Objects (direct and indirect) visited at most per file."""
MAX_DEPTH = 256
"""Nesting (containers and references) followed at most from the trailer."""
MAX_SECONDS = 30.0
"""Wall-clock budget of the walk (a safety net; parsing one huge object is not interrupted)."""

ACTIVE_CONTENT: dict[str, str] = {
    "javascript": "JavaScript (/JavaScript name tree, /JS, or a /JavaScript action)",
    "launch": "a /Launch action (starts a program or opens a file)",
    "embedded_files": "embedded files (/EmbeddedFiles name tree, /EF file specification, /EmbeddedFile stream or /FileAttachment annotation)",
    "rich_media": "rich media (/RichMedia annotation: Flash/video)",
    "form_submission": "a form data action (/SubmitForm or /ImportData)",
    "xfa": "an XFA form (/AcroForm /XFA)",
}
"""Kinds of active content, in the order findings are reported, with their detail text."""

_REF_TYPES = (generic.IndirectObject, generic.Reference)

# Raw fallback scan: PDF name tokens anywhere in the file bytes, ``#xx`` escapes decoded.
_NAME_TOKEN = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]{2,40})")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_RAW_NAMES: dict[bytes, str] = {
    b"JavaScript": "javascript",
    b"JS": "javascript",
    b"Launch": "launch",
    b"EmbeddedFiles": "embedded_files",
    b"EmbeddedFile": "embedded_files",
    b"FileAttachment": "embedded_files",
    b"RichMedia": "rich_media",
    b"RichMediaContent": "rich_media",
    b"SubmitForm": "form_submission",
    b"ImportData": "form_submission",
    b"XFA": "xfa",
}


@dataclass
class _Walk:
    reader: PdfFileReader
    found: dict[str, str] = field(default_factory=dict)
    """kind -> where it was first seen."""
    visited_refs: set[tuple[int, int]] = field(default_factory=set)
    nodes: int = 0
    unreadable: int = 0
    truncated: bool = False
    deadline: float = field(default_factory=lambda: time.monotonic() + MAX_SECONDS)

    def note(self, kind: str, where: str) -> None:
        self.found.setdefault(kind, where)

    def resolve(self, ref: Any) -> Any:
        """The object behind ``ref``, without following chains (those go on the stack)."""
        reference = ref.reference if isinstance(ref, generic.IndirectObject) else ref
        return self.reader.get_object(generic.Reference(reference.idnum, reference.generation, pdf=self.reader))  # type: ignore[no-untyped-call]


def _name(value: Any) -> str | None:
    return str(value) if isinstance(value, generic.NameObject) else None


def _inspect(walk: _Walk, obj: dict[Any, Any], where: str) -> None:
    """Record the active content one dictionary itself declares (values are raw)."""
    keys = obj.keys()
    action = _name(obj.get("/S"))
    subtype = _name(obj.get("/Subtype"))
    if action == "/JavaScript" or "/JS" in keys or "/JavaScript" in keys:
        walk.note("javascript", where)
    if action == "/Launch":
        walk.note("launch", where)
    if action in ("/SubmitForm", "/ImportData"):
        walk.note("form_submission", where)
    if (
        "/EmbeddedFiles" in keys
        or "/EF" in keys
        or _name(obj.get("/Type")) == "/EmbeddedFile"
        or subtype == "/FileAttachment"
    ):
        walk.note("embedded_files", where)
    if subtype == "/RichMedia" or "/RichMediaContent" in keys:
        walk.note("rich_media", where)
    if "/XFA" in keys:
        walk.note("xfa", where)


def _walk(walk: _Walk, roots: list[tuple[Any, int, str]]) -> None:
    """Depth-first walk from ``roots`` (value, depth, where) with an explicit stack."""
    stack = list(reversed(roots))
    while stack:
        if time.monotonic() > walk.deadline:
            walk.truncated = True
            break
        value, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            walk.truncated = True
            continue
        if isinstance(value, _REF_TYPES):
            key = (value.idnum, value.generation) if isinstance(value, generic.Reference) else (
                value.reference.idnum,
                value.reference.generation,
            )
            if key in walk.visited_refs:
                continue
            if walk.nodes >= MAX_NODES:
                walk.truncated = True
                break
            walk.visited_refs.add(key)
            walk.nodes += 1
            try:
                resolved = walk.resolve(value)
            except Exception as exc:  # noqa: BLE001 - one bad object must not stop the walk
                walk.unreadable += 1
                logger.debug("PDF object %s %s unreadable: %s", *key, exc)
                continue
            stack.append((resolved, depth + 1, f"object {key[0]} {key[1]}"))
            continue
        if isinstance(value, dict):  # DictionaryObject and StreamObject (data never decoded)
            walk.nodes += 1
            _inspect(walk, value, where)
            stack.extend((item, depth + 1, where) for item in dict.values(value))
        elif isinstance(value, list):  # ArrayObject
            walk.nodes += 1
            stack.extend((item, depth + 1, where) for item in list.__iter__(value))
        if walk.nodes >= MAX_NODES:
            walk.truncated = True
            break


def _raw_scan(stream: Any) -> dict[str, str]:
    """Active-content names found in the raw bytes of the file (kind -> the name seen).

    Used only when the structured walk was incomplete (objects pyHanko cannot parse, for
    example nesting deeper than its recursive parser allows, or the walk limits hit), so
    that hiding an action inside an unparseable object does not hide it from us. Names in
    compressed streams are not seen here (the walk decoded the readable object streams).
    """
    stream.seek(0)
    data = stream.read()
    found: dict[str, str] = {}
    for match in _NAME_TOKEN.finditer(data):
        token = match.group(1)
        if b"#" in token:
            token = _HEX_ESCAPE.sub(lambda esc: bytes([int(esc.group(1), 16)]), token)
        kind = _RAW_NAMES.get(token)
        if kind is not None and kind not in found:
            found[kind] = "/" + token.decode("ascii", "replace")
    return found


def _xref_references(reader: PdfFileReader) -> list[generic.Reference]:
    refs: set[generic.Reference] = set()
    for revision in range(reader.xrefs.total_revisions):
        try:
            refs |= reader.xrefs.explicit_refs_in_revision(revision)
        except Exception as exc:  # noqa: BLE001
            logger.debug("xref revision %d unreadable: %s", revision, exc)
    return sorted(refs, key=lambda ref: (ref.idnum, ref.generation))


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text if len(text) <= 200 else text[:197] + "..."


def check_pdf(path: Path, name: str) -> list[Check]:
    """Check the PDF at ``path`` (``name`` is the file name used in the findings).

    * ``pdf.corrupt`` -- pyHanko (non-strict) cannot open it (empty, truncated, not a PDF
      at all, broken xref/trailer) or its trailer has no catalog dictionary with a
      ``/Pages`` dictionary. The detail is the exception, shortened. Nothing else is
      reported then.
    * ``pdf.encrypted`` -- the trailer has ``/Encrypt`` (password, certificate or
      permissions-only encryption alike). The file is not decrypted and not walked.
    * ``pdf.active_content`` -- one per kind in :data:`ACTIVE_CONTENT` that occurs in any
      object reachable from the trailer (catalog, name trees, page tree, annotations,
      outlines, actions) or listed in the cross-reference sections (so objects of earlier
      revisions and unreferenced objects count too). The detail names the kind and the
      object it was first seen in. When the walk is incomplete -- an object pyHanko cannot
      parse (sloppy producers, or nesting deeper than its recursive parser allows) or a
      limit hit (:data:`MAX_NODES`, :data:`MAX_DEPTH`, :data:`MAX_SECONDS`) -- the raw file
      bytes are also scanned for the names of active content (``#xx`` escapes decoded),
      so an action cannot be hidden by making its object unparseable.

    * ``pdf.polyglot`` -- the file is also an archive (:func:`_archive_inside`); nothing
      else is reported then.

    Never raises for bad input: a file that cannot be parsed gives ``pdf.corrupt``. An
    :class:`OSError` opening ``path`` propagates.
    """
    if polyglot := _archive_inside(path):
        # Before parsing: whatever the PDF reader says, another program opens an archive.
        return [finding("pdf.polyglot", file=name, detail=polyglot)]
    stream = path.open("rb")  # a missing or unreadable file is the caller's OSError
    with stream:
        try:
            return _check_stream(stream, name)
        except Exception as exc:  # noqa: BLE001 - anything the parser throws means "unreadable"
            # (including OSError from seeks to hostile offsets and RecursionError from
            # pyHanko's recursive object parser on deeply nested catalogs)
            return [finding("pdf.corrupt", file=name, detail=_short(exc))]


_RAR_MAGIC = b"Rar!\x1a\x07"


def _archive_inside(path: Path) -> str | None:
    """Why the file is also an archive (ZIP+PDF, PDF+RAR polyglot), or None.

    ZIP: readers find the end record in the last 64 KiB and then the central directory
    anywhere before it, so a ZIP can hide inside a PDF stream or string as well as after
    ``%%EOF``; it counts when :mod:`zipfile` lists at least one entry. RAR: its signature
    anywhere in the file (six bytes no PDF writer produces by chance).
    """
    with path.open("rb") as stream:
        if b"%PDF-" not in stream.read(1024):
            return None  # not a PDF at all: the parser says so (pdf.corrupt)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if names:
            return f"the file is also a ZIP archive with {len(names)} entries (first: {names[0][:80]!r})"
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError, OverflowError, OSError):
        pass
    with path.open("rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
        # unrar and 7-Zip find a RAR signature anywhere (self-extractor stubs): so do we.
        at = data.find(_RAR_MAGIC)
        for _ in range(1000):
            if at < 0:
                return None
            if _rar_main_header_at(data, at + len(_RAR_MAGIC)):
                return f"a RAR archive (signature and main header) at offset {at}"
            at = data.find(_RAR_MAGIC, at + 1)
    return "too many RAR signatures to judge"


def _rar_main_header_at(data: mmap.mmap, at: int) -> bool:
    """A RAR 4 main header (version byte 0, block type 0x73) or a RAR 5 one (version 1 0,
    header CRC32 right, type 1) follows the signature ``Rar!\x1a\x07`` ending at ``at``."""
    if data[at : at + 1] == b"\x00":
        return data[at + 3 : at + 4] == b"\x73"
    if data[at : at + 2] != b"\x01\x00":
        return False
    start = at + 2
    crc = int.from_bytes(data[start : start + 4], "little")
    size, position = 0, start + 4
    for shift in (0, 7, 14):
        byte = data[position : position + 1]
        if not byte:
            return False
        position += 1
        size |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            break
    header = data[start + 4 : position + size]
    return 0 < size < 1 << 16 and zlib.crc32(header) == crc and data[position : position + 1] == b"\x01"


def _check_stream(stream: Any, name: str) -> list[Check]:
    reader = PdfFileReader(stream, strict=False)
    if "/Encrypt" in reader.trailer or reader.encrypted:
        return [finding("pdf.encrypted", file=name, detail="the trailer has an /Encrypt dictionary; not decrypted")]
    root = reader.root_ref.get_object()
    if not isinstance(root, generic.DictionaryObject):
        return [finding("pdf.corrupt", file=name, detail="the trailer /Root is not a dictionary")]
    pages = root["/Pages"] if "/Pages" in root else None  # __getitem__ dereferences
    if not isinstance(pages, generic.DictionaryObject):
        return [finding("pdf.corrupt", file=name, detail="the document catalog has no /Pages dictionary")]

    walk = _Walk(reader)
    trailer = reader.trailer_view
    roots: list[tuple[Any, int, str]] = [(dict(trailer), 0, "trailer")]
    roots += [(ref, 0, f"object {ref.idnum} {ref.generation}") for ref in _xref_references(reader)]
    _walk(walk, roots)
    if walk.truncated or walk.unreadable:
        logger.info(
            "%s: PDF walk incomplete (%d objects visited, %d unreadable, limits hit: %s); raw scan added",
            name,
            walk.nodes,
            walk.unreadable,
            walk.truncated,
        )
        for kind, token in _raw_scan(stream).items():
            walk.note(kind, f"the raw file bytes (name {token}; the object structure could not be fully walked)")
    return [
        finding("pdf.active_content", file=name, detail=f"{text}; first seen in {walk.found[kind]}")
        for kind, text in ACTIVE_CONTENT.items()
        if kind in walk.found
    ]
