"""Entry names: decoding legacy (non-Unicode) names, splitting and judging paths, and the
safe on-disk leaf. Names are never used as paths: files are written under a numbered,
sanitised leaf; the archive-internal name is only reported."""

from __future__ import annotations

import re
import unicodedata

from validators.archives.common import Problems
from validators.files import invisible_characters

MAX_COMPONENT_BYTES = 255


def _invisible(name: str) -> list[str]:
    """Characters a name may not hold, by the rule for uploaded names."""
    return [f"U+{ord(ch):04X}" for ch in invisible_characters(name)]


_DRIVE = re.compile(r"^[A-Za-z]:")
_UNSAFE_LEAF_CHARS = re.compile(r"[^\w.\- ()\[\]{}+=,@#№]")


def split_name(raw: str, problems: Problems) -> tuple[tuple[str, ...], bool]:
    """Normalised path parts and whether the name is safe to use (records the problems)."""
    shown = raw
    name = raw.replace("\\", "/")
    unsafe = []
    if name.startswith("/"):
        unsafe.append("absolute path")
    if _DRIVE.match(name):
        unsafe.append("drive letter")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        unsafe.append("'..' component")
    if unsafe:
        problems.add("archive.unsafe_path", shown, f"entry name {raw!r}: {', '.join(unsafe)}")
        return parts, False
    if not parts and not name.endswith("/"):
        problems.add("file.name_invalid", shown, f"entry name {raw!r} is empty", soft=True)
    elif invisible := _invisible(name):
        problems.add("file.name_invalid", shown, f"entry name {raw!r} contains control or invisible characters ({', '.join(invisible[:5])})", soft=True)
    else:
        long = [p for p in parts if len(p.encode("utf-8", "surrogateescape")) > MAX_COMPONENT_BYTES]
        if long:
            problems.add("file.name_invalid", shown, f"name component longer than {MAX_COMPONENT_BYTES} bytes", soft=True)
    return parts, True


def safe_leaf(parts: tuple[str, ...]) -> str:
    leaf = unicodedata.normalize("NFC", parts[-1]) if parts else "unnamed"
    leaf = _UNSAFE_LEAF_CHARS.sub("_", leaf).strip(" .") or "unnamed"
    encoded = leaf.encode("utf-8")
    if len(encoded) > 120:
        leaf = encoded[:120].decode("utf-8", "ignore").rstrip(" .") or "unnamed"
    return leaf


def decode_legacy_name(raw: bytes) -> str:
    """A name stored without a Unicode flag: UTF-8 when the bytes are valid UTF-8 (Linux and
    macOS archivers write it so), otherwise CP866 (the OEM code page of Russian Windows
    archivers; every byte decodes)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp866")
