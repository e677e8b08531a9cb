"""Red team: a report archive whose only document is a signed empty file (detached
signature over 0 bytes, or an attached signature carrying 0 bytes) was accepted, so a
member could "file" a report on time with nothing in it. An archive whose every document
is empty is now ``archive.empty`` (one empty file beside real documents stays allowed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pki.builder import TestPki
from tests.validators.packages import codes, validate, verdict, zip_of
from validators.catalogue import Slot
from validators.trust import TrustStore


def _report(store: TrustStore, tmp_path: Path, entries: dict[str, bytes]) -> tuple[str, set[str]]:
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, zip_of(tmp_path / "42_OD.zip", entries))], report_kind="OD_Q1")
    return verdict(result), codes(result)


@pytest.mark.parametrize("attached", [False, True], ids=["detached", "attached"])
def test_a_signed_empty_file_in_a_report_archive_is_not_a_report(pki: TestPki, store: TrustStore, tmp_path: Path, attached: bool) -> None:
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    signature = pki.sign("head256", empty, tmp_path / "empty.sig", attached=attached).read_bytes()
    entries = {"report.xml.sig": signature} if attached else {"report.xml": b"", "report.xml.sig": signature}
    decision, found = _report(store, tmp_path, entries)
    assert decision == "rejected"
    assert "archive.empty" in found


def test_control_a_signed_one_byte_file_is_accepted(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_bytes(b"1")
    signature = pki.sign("head256", small, tmp_path / "small.sig").read_bytes()
    assert _report(store, tmp_path, {"report.txt": b"1", "report.txt.sig": signature}) == ("accepted", set())
