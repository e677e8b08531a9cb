"""File type and file name rules (SPEC section 5).

The type of an uploaded file is decided by its *content* (libmagic through python-magic),
never by the extension alone; the extension then has to agree with the content.

Public API:

* :func:`detect_type` -- what a file is (:class:`FileType` with a coarse :class:`FileKind`);
* :func:`check_file_name` -- ``file.name_invalid`` for names that are unsafe to store;
* :func:`check_file` -- every per-file rule of one upload slot: ``file.empty``,
  ``file.too_large``, ``file.type_not_allowed``, ``file.extension_mismatch`` and the name
  rules.

Bad input yields findings, never exceptions. An :class:`OSError` while reading the file
(it vanished, no permission) is the caller's problem and propagates: it is not something
the member did wrong.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import cast

import magic

from validators.checks import Check, finding

__all__ = [
    "FileKind",
    "FileType",
    "detect_type",
    "check_file_name",
    "check_file",
    "EXTENSIONS",
    "MAX_NAME_BYTES",
]


class FileKind(StrEnum):
    """Coarse kind of a file, as far as the slot rules care."""

    PDF = "pdf"
    ZIP = "zip"
    RAR = "rar"
    SIGNATURE = "signature"
    """A CMS/PKCS#7 ``signedData`` (DER/BER, PEM or bare base64)."""
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class FileType:
    """What libmagic (plus a CMS sniffer) says a file is."""

    mime: str
    """MIME type by content; ``application/pkcs7-signature`` for every CMS signature."""
    _description: str | Callable[[], str] = field(repr=False, compare=False)
    """The description, or how to get it: libmagic's description costs as much as its MIME
    type and only findings print it, so :func:`detect_type` asks for it when it is read."""
    kind: FileKind
    attached: bool = False
    """For a SIGNATURE: the CMS carries the signed content (an attached signature)."""
    cms_problem: str | None = None
    """For OTHER: the file begins like a CMS SignedData but does not parse completely (why)."""
    content_kind: FileKind | None = None
    """For an attached SIGNATURE: the kind of the content it carries (by libmagic)."""

    @property
    def description(self) -> str:
        """libmagic's human-readable description (with the CMS encoding for signatures)."""
        if callable(self._description):
            object.__setattr__(self, "_description", self._description())
        return cast("str", self._description)


EXTENSIONS: dict[FileKind, frozenset[str]] = {
    FileKind.PDF: frozenset({".pdf"}),
    FileKind.ZIP: frozenset({".zip"}),
    FileKind.RAR: frozenset({".rar"}),
    FileKind.SIGNATURE: frozenset({".sig", ".p7s", ".sgn", ".p7m"}),
}
"""Extensions (lower case) that agree with each kind; ``OTHER`` has no requirement."""

MAX_NAME_BYTES = 255

_MIME_KINDS: dict[str, FileKind] = {
    "application/pdf": FileKind.PDF,
    "application/x-pdf": FileKind.PDF,
    "application/zip": FileKind.ZIP,
    "application/x-zip-compressed": FileKind.ZIP,
    "application/x-rar": FileKind.RAR,
    "application/vnd.rar": FileKind.RAR,
    "application/x-rar-compressed": FileKind.RAR,
}

SIGNATURE_MIME = "application/pkcs7-signature"

# --- libmagic ----------------------------------------------------------------------------
# One libmagic cookie must not be used from several threads at once: each thread gets its
# own pair of Magic objects.
_local = threading.local()


def _magics() -> tuple[magic.Magic, magic.Magic]:
    pair = getattr(_local, "pair", None)
    if pair is None:
        pair = (magic.Magic(mime=True), magic.Magic())
        _local.pair = pair
    return pair


# --- CMS sniffing ------------------------------------------------------------------------
_SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")  # 1.2.840.113549.1.7.2
_SNIFF_BYTES = 64 * 1024
_PEM_BEGIN = re.compile(rb"-----BEGIN [A-Z0-9 #]+-----")
_BASE64_TEXT = re.compile(rb"[A-Za-z0-9+/=\s]+")


def _is_signed_data_der(data: bytes) -> bool:
    """``data`` starts with ``SEQUENCE { OID signedData ...`` (DER or BER length)."""
    if len(data) < 2 or data[0] != 0x30:
        return False
    first = data[1]
    if first < 0x80 or first == 0x80:  # short definite length
        offset = 2
    elif 0x81 <= first <= 0x84:  # long definite length, 1..4 length octets
        offset = 2 + (first - 0x80)
    else:
        return False
    return data[offset : offset + len(_SIGNED_DATA_OID)] == _SIGNED_DATA_OID


def _sniff_cms(head: bytes) -> str | None:
    """Encoding of a CMS ``signedData`` in the first bytes of a file, else ``None``.

    ``head`` is a prefix of the file: only the outer header is decoded. This is a cheap
    *necessary* condition, never the decision: a file is a signature only when
    :func:`validators.signatures.locate.parse_signature_bytes` parses all of it.
    """
    if _is_signed_data_der(head):
        return "DER" if head[1] != 0x80 else "BER"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    encoding = "base64"
    match = _PEM_BEGIN.match(text)
    if match:
        text = text[match.end() :]
        encoding = "PEM"
        end = text.find(b"-----END")
        if end >= 0:
            text = text[:end]
    if not _BASE64_TEXT.fullmatch(text):
        return None  # not pure base64 text (as far as we read it)
    compact = b"".join(text.split())
    prefix = compact[:64]
    prefix = prefix[: len(prefix) - len(prefix) % 4]
    if len(prefix) < 16:
        return None
    try:
        decoded = base64.b64decode(prefix, validate=True)
    except (binascii.Error, ValueError):
        return None
    return encoding if _is_signed_data_der(decoded) else None


def detect_type(path: Path) -> FileType:
    """Detect the type of the file at ``path`` from its content.

    libmagic gives the MIME type and a description; the kind follows from the MIME type
    (``application/pdf`` -> PDF, ``application/zip``/``x-zip-compressed`` -> ZIP,
    ``application/x-rar``/``vnd.rar``/``x-rar-compressed`` -> RAR). Anything else is
    sniffed for a CMS/PKCS#7 ``signedData``: DER/BER (``30 80``/``30 82``/... followed by
    the OID 1.2.840.113549.1.7.2), PEM armour of any label, or bare base64 text (as
    CryptoPro writes ``.sig``/``.sgn``) that decodes to it; a file that passes that
    sniff is SIGNATURE only if it then parses *completely* as a SignedData (the one
    parser, :func:`~validators.signatures.locate.parse_signature_file`), reported with
    the MIME type ``application/pkcs7-signature`` and ``attached`` set when it carries
    its content. A CMS-looking file that does not parse (a PDF behind CMS bytes, a
    truncated signature) is OTHER, its description says why. Everything else is OTHER. Office files
    (OOXML/ODF/JAR are ZIP containers) are OTHER, not ZIP: libmagic names them by their
    own MIME types.

    Only the beginning of the file is read. Raises :class:`OSError` if the file cannot be
    read; libmagic failures on the content give OTHER.
    """
    mime_magic = _magics()[0]
    try:
        mime = mime_magic.from_file(str(path))
    except magic.MagicException as exc:
        path.stat()  # a missing or unreadable file is an OSError, not "other content"
        return FileType("application/octet-stream", f"unidentified ({exc})", FileKind.OTHER)
    description = _Describe(str(path))
    kind = _MIME_KINDS.get(mime)
    if kind is not None:
        return FileType(mime, description, kind)
    with path.open("rb") as stream:
        head = stream.read(_SNIFF_BYTES)
    encoding = _sniff_cms(head)
    if encoding is None:
        return FileType(mime, description, FileKind.OTHER)
    from validators.signatures.cms import CmsFormatError
    from validators.signatures.locate import parse_signature_file

    try:
        parsed = parse_signature_file(path)
    except CmsFormatError as exc:
        return FileType(mime, description.after(f"not a complete CMS SignedData ({exc}); libmagic: "), FileKind.OTHER, cms_problem=str(exc))
    attached = parsed.content is not None
    content_kind = None
    if parsed.content is not None:
        content_kind = _MIME_KINDS.get(mime_magic.from_buffer(parsed.content[:_SNIFF_BYTES]), FileKind.OTHER)
    return FileType(
        SIGNATURE_MIME,
        description.after(f"CMS SignedData ({encoding}, {'attached' if attached else 'detached'}); libmagic: "),
        FileKind.SIGNATURE,
        attached,
        content_kind=content_kind,
    )


class _Describe:
    """libmagic's description of a file, asked for when a finding prints it (the file is
    read then: the package's files live until its validation ends), by the reading thread's
    own handle. A libmagic failure (or a file gone since) reads as "unidentified (why)"."""

    __slots__ = ("path", "prefix")

    def __init__(self, path: str, prefix: str = "") -> None:
        self.path, self.prefix = path, prefix

    def after(self, prefix: str) -> _Describe:
        return _Describe(self.path, prefix)

    def __call__(self) -> str:
        try:
            return self.prefix + _magics()[1].from_file(self.path)
        except (magic.MagicException, OSError) as exc:
            return f"{self.prefix}unidentified ({exc})"


# --- names -------------------------------------------------------------------------------
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)
_BAD_CATEGORIES = {"Cc": "control", "Cf": "format", "Cs": "surrogate", "Zl": "line separator", "Zp": "paragraph separator"}


def invisible_characters(name: str) -> list[str]:
    """The characters that make a name display as another one (Unicode categories Cc, Cf,
    Cs, Zl, Zp: NUL, newline, the right-to-left override, zero-width characters, BOM),
    sorted: the one rule for uploaded names and names inside archives."""
    return sorted({ch for ch in name if unicodedata.category(ch) in _BAD_CATEGORIES})


def _name_problems(name: str) -> list[str]:
    if not name or not name.strip():
        return ["the name is empty"]
    problems: list[str] = []
    if "/" in name or "\\" in name:
        problems.append("the name contains a path separator ('/' or '\\')")
    if name in (".", ".."):
        problems.append(f"the name is {name!r}")
    bad = invisible_characters(name)
    if bad:
        listed = ", ".join(f"U+{ord(ch):04X} ({_BAD_CATEGORIES[unicodedata.category(ch)]})" for ch in bad[:5])
        problems.append(f"the name contains control or invisible characters: {listed}")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        problems.append("the name is not valid Unicode")
    else:
        if size > MAX_NAME_BYTES:
            problems.append(f"the name is {size} bytes in UTF-8, more than {MAX_NAME_BYTES}")
    base = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = base.split(".", 1)[0].rstrip(" ").upper()
    if stem in _RESERVED:
        problems.append(f"{stem} is a reserved device name on Windows")
    return problems


def check_file_name(name: str) -> list[Check]:
    """``file.name_invalid`` (at most one, every problem listed in the detail) when the
    name is empty or blank, has path parts (``/`` or ``\\``), is ``.`` or ``..``, holds
    control/format/separator characters (Unicode categories Cc, Cf, Cs, Zl, Zp -- e.g.
    NUL, newline, the right-to-left override), is longer than 255 bytes in UTF-8, or its
    part before the first dot is a reserved Windows device name (CON, PRN, AUX, NUL,
    COM1-9, LPT1-9, any case)."""
    problems = _name_problems(name)
    if not problems:
        return []
    return [finding("file.name_invalid", file=name, detail="; ".join(problems))]


def _extension(name: str) -> str:
    base = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return "." + base.rsplit(".", 1)[1].lower() if "." in base else ""


def check_file(path: Path, name: str, allowed: frozenset[FileKind], max_bytes: int) -> tuple[FileType | None, list[Check]]:
    """Check one uploaded file stored at ``path`` under the member's ``name``.

    Findings, in this order: the name rules (:func:`check_file_name`); ``file.empty``
    (0 bytes: nothing else is checked and the type is ``None``); ``file.too_large`` (more
    than ``max_bytes``; the type is still detected, libmagic reads only the head);
    ``file.type_not_allowed`` (the detected kind is not in ``allowed``; the detail names
    the MIME type); ``file.extension_mismatch`` (the kind is allowed, but the extension,
    compared case-insensitively, is not one of :data:`EXTENSIONS` for it -- e.g. a PDF
    named ``.zip``, a ZIP named ``.pdf``, a RAR named ``.zip``, or no extension at all).
    Returns the detected type (``None`` for an empty file) and the findings.
    """
    checks = check_file_name(name)
    size = path.stat().st_size
    if size == 0:
        checks.append(finding("file.empty", file=name, detail="the file has 0 bytes"))
        return None, checks
    if size > max_bytes:
        checks.append(finding("file.too_large", file=name, detail=f"{size} bytes, the limit is {max_bytes} bytes"))
    file_type = detect_type(path)
    if file_type.kind not in allowed:
        expected = ", ".join(sorted(kind.value for kind in allowed)) or "nothing"
        checks.append(
            finding(
                "file.type_not_allowed",
                file=name,
                detail=f"content is {file_type.mime} ({file_type.description}); allowed here: {expected}",
            )
        )
    elif file_type.kind in EXTENSIONS and _extension(name) not in EXTENSIONS[file_type.kind]:
        expected = "/".join(sorted(EXTENSIONS[file_type.kind]))
        checks.append(
            finding(
                "file.extension_mismatch",
                file=name,
                detail=f"content is {file_type.kind.value} ({file_type.mime}) but the extension is "
                f"{_extension(name) or 'missing'!r}; expected {expected}",
            )
        )
    return file_type, checks
