"""Red team: the unsigned gap of a PDF signature's ByteRange must be exactly its /Contents
hex string.

pyHanko decides "covers the whole file" by adding up lengths (ByteRange lengths plus twice
the /Contents bytes plus two). Rewriting /Contents as a literal string takes about half
the bytes of the hex form, leaving hundreds of unsigned bytes inside a file that still
"adds up": an attacker can put extra entries into the signature dictionary (or objects a
repairing reader picks up) there, after signing, and the signature still passed as
covering the entire file with no changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from validators.signatures.locate import verify_document
from validators.signatures.model import Indication
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore

Signer = Callable[[Path, Path], Path]


def _gap(data: bytes) -> tuple[int, int]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    assert match is not None
    return int(match.group(2)), int(match.group(3))


def contents_as_literal_string(source: Path, target: Path, filler: bytes) -> Path:
    """/Contents rewritten as a literal string of the same bytes; ``filler`` (unsigned)
    in the bytes it frees, inside the signature dictionary; lengths unchanged."""
    data = source.read_bytes()
    start, end = _gap(data)
    raw = bytes.fromhex(data[start + 1 : end - 1].decode())
    escaped = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(b"\r", b"\\r")
    literal = b"(" + escaped + b")" + filler
    assert len(literal) <= end - start
    target.write_bytes(data[:start] + literal.ljust(end - start, b" ") + data[end:])
    return target


def _verdict(path: Path, store: TrustStore) -> Indication:
    return verify_document(path, store, VerificationPolicy()).signatures[0].indication


def test_control_the_signed_file_passes(signed: Path, store: TrustStore) -> None:
    assert _verdict(signed, store) is Indication.TOTAL_PASSED


@pytest.mark.parametrize(
    "filler",
    [b"", b"/Reason (Approved by the SRO) /Junk (900 0 obj << /Type /Page >> endobj)"],
    ids=["literal-contents", "literal-contents-with-unsigned-entries"],
)
def test_contents_not_written_as_one_hex_string_fails(signed: Path, store: TrustStore, tmp_path: Path, filler: bytes) -> None:
    forged = contents_as_literal_string(signed, tmp_path / "forged.pdf", filler)
    report = verify_document(forged, store, VerificationPolicy()).signatures[0]
    assert report.indication is Indication.TOTAL_FAILED
    assert any(c.name == "pdf.signature" and not c.passed and "/Contents" in c.detail for c in report.checks)


def test_contents_hex_string_in_upper_case_still_passes(signed: Path, store: TrustStore, tmp_path: Path) -> None:
    """Hex digits in either case are one hex string (some tools write upper case)."""
    data = signed.read_bytes()
    start, end = _gap(data)
    upper = tmp_path / "upper.pdf"
    upper.write_bytes(data[:start] + data[start:end].upper() + data[end:])
    assert _verdict(upper, store) is Indication.TOTAL_PASSED
