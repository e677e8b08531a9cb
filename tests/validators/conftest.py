"""Fixtures shared by the validator tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _snapshot(root: Path) -> set[str]:
    return {str(p) for p in root.rglob("*")}


@pytest.fixture
def sandbox(tmp_path: Path):
    """A dest folder (not yet created) for the archive walker; asserts afterwards that
    nothing was written beside it in its parent folder, i.e. outside dest."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "sibling.txt").write_bytes(b"keep")
    dest = work / "dest"
    before = _snapshot(work)
    yield dest
    after = {p for p in _snapshot(work) if not p.startswith(str(dest) + os.sep) and p != str(dest)}
    assert after == before, f"written outside dest: {sorted(after - before)}"
    assert (work / "sibling.txt").read_bytes() == b"keep"
