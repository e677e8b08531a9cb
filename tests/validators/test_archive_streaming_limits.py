"""The streaming limits judge the bytes an entry really produces, not what it declares.

Each archive here declares a harmless size (consistently in its local header and central
directory, so it passes the header pass) while its deflate stream expands to far more. The
declared-size pre-checks cannot see it; only the counters applied to each decompressed
chunk can. Each test names the limit it reaches, so removing that one check from the
streaming loop makes it fail (the entry would then run to its end and be merely corrupt).
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.validators.zip_builder import RawEntry, deflate_zeros, raw_zip
from validators.archives import ArchiveLimits, ArchiveResult, extract_archive

SMALL = RawEntry(b"report.xml", b"<report/>")


def lying_zip(tmp_path: Path, produces: int, declares: int, *, extra: list[RawEntry] | None = None) -> Path:
    packed, crc = deflate_zeros(produces)
    entry = RawEntry(b"zeros.bin", b"", packed=packed, usize=declares, crc=crc)
    path = tmp_path / "PPP_OD.zip"
    path.write_bytes(raw_zip([*(extra or []), entry]).bytes())
    return path


def on_disk(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def codes(result: ArchiveResult) -> list[str]:
    return [c.code for c in result.checks]


def test_understated_entry_reaches_the_ratio_limit_while_streaming(tmp_path: Path, sandbox: Path) -> None:
    # Declares 1 MiB (ratio ~20 from ~50 KB: passes the pre-check), inflates to 50 MiB.
    path = lying_zip(tmp_path, produces=50 << 20, declares=1 << 20)
    started = time.monotonic()
    result = extract_archive(path, sandbox, "PPP_OD.zip")
    assert codes(result) == ["archive.bomb"]
    assert "compressed (ratio > 200)" in result.checks[0].detail
    assert time.monotonic() - started < 5
    assert result.files == () and on_disk(sandbox) == 0


def test_understated_entry_reaches_the_entry_size_limit_while_streaming(tmp_path: Path, sandbox: Path) -> None:
    path = lying_zip(tmp_path, produces=6 << 20, declares=1 << 20)
    limits = ArchiveLimits(max_entry_bytes=2 << 20, max_ratio=10**9)
    result = extract_archive(path, sandbox, "PPP_OD.zip", limits)
    assert codes(result) == ["archive.too_large"]
    assert "entry produced more than 2097152 bytes" in result.checks[0].detail
    assert result.files == () and on_disk(sandbox) == 0


def test_understated_entry_reaches_the_total_limit_while_streaming(tmp_path: Path, sandbox: Path) -> None:
    path = lying_zip(tmp_path, produces=6 << 20, declares=1 << 20, extra=[SMALL])
    limits = ArchiveLimits(max_total_bytes=4 << 20, max_ratio=10**9)
    result = extract_archive(path, sandbox, "PPP_OD.zip", limits)
    assert codes(result) == ["archive.too_large"]
    assert "extracted data exceeds 4194304 bytes" in result.checks[0].detail
    # The whole extraction stops: the small entry before it is listed, the bomb is not.
    assert [f.name for f in result.files] == ["PPP_OD.zip/report.xml"]


def test_entry_producing_more_than_declared_within_the_limits_is_corrupt_and_removed(tmp_path: Path, sandbox: Path) -> None:
    # 3 MiB declared, 4 MiB produced, limits far away: refused at the end as corrupt (only
    # the declared 3 MiB were ever written), and the partial file is removed.
    path = lying_zip(tmp_path, produces=4 << 20, declares=3 << 20)
    result = extract_archive(path, sandbox, "PPP_OD.zip", ArchiveLimits(max_ratio=10**9))
    assert codes(result) == ["archive.corrupt"]
    assert "entry produced 4194304 bytes, header declares 3145728" in result.checks[0].detail
    assert on_disk(sandbox) == 0


def test_understated_entry_in_a_nested_archive_reaches_the_ratio_limit(tmp_path: Path, sandbox: Path) -> None:
    inner = lying_zip(tmp_path, produces=50 << 20, declares=1 << 20).read_bytes()
    outer = tmp_path / "outer.zip"
    outer.write_bytes(raw_zip([RawEntry(b"inner.zip", inner, method=0), SMALL]).bytes())
    result = extract_archive(outer, sandbox, "PPP_OD.zip")
    assert codes(result) == ["archive.bomb"]
    assert result.checks[0].file == "PPP_OD.zip/inner.zip/zeros.bin"
