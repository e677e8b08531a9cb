"""Safe extraction of ZIP/RAR packages: the real archive corpus and generated hostile archives.

Hostile archives are built here with :mod:`zipfile` (and a few bytes of RAR4 framing for
stored RAR entries); nothing is checked in. No mocks: every test runs the real readers
and the real ``unar``/``lsar``.
"""

from __future__ import annotations

import os
import shutil
import struct
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.validators.rar_builder import rar4_stored
from validators.archives import ArchiveLimits, ArchiveResult, extract_archive

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
ARCHIVES = CORPUS / "archives"

needs_unar = pytest.mark.skipif(shutil.which("unar") is None or shutil.which("lsar") is None, reason="unar/lsar not installed")


# --- helpers ------------------------------------------------------------------------------


def codes(result: ArchiveResult) -> list[str]:
    return [c.code for c in result.checks]


def assert_inside(result: ArchiveResult, dest: Path) -> None:
    root = dest.resolve()
    for f in result.files:
        assert f.path.resolve().is_relative_to(root)
        assert not f.path.is_symlink()
        assert f.path.stat().st_size == f.size


def make_zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return path


# --- the corpus ---------------------------------------------------------------------------

OK = "ok"
# file -> ("ok", {name inside the archive: size}) or (expected code, None)
CORPUS_TABLE: dict[str, tuple[str, dict[str, int] | None]] = {
    "deflate64-rs/deflate64.zip": (OK, {"binary.wmv": 2703788, "empty.file": 0, "first.txt": 34, "notempty/second.txt": 34}),
    "deflate64-rs/deflate64_not_enough_space.zip": ("archive.corrupt", None),
    "libarchive/test_rar_multivolume_single_file.part1.rar": ("archive.unsupported", None),
    "libarchive/test_rar_multivolume_single_file.part2.rar": ("archive.unsupported", None),
    "libarchive/test_rar_multivolume_single_file.part3.rar": ("archive.unsupported", None),
    "libarchive/test_read_format_rar.rar": ("archive.link", None),
    "libarchive/test_read_format_rar4_solid_encrypted.rar": ("archive.encrypted", None),
    "libarchive/test_read_format_rar5_blake2.rar": (OK, {"cebula.txt": 814}),
    "libarchive/test_read_format_rar5_compressed.rar": (OK, {"test.bin": 1200}),
    "libarchive/test_read_format_rar5_encrypted.rar": ("archive.encrypted", None),
    "libarchive/test_read_format_rar5_encrypted_filenames.rar": ("archive.encrypted", None),
    "libarchive/test_read_format_rar5_hardlink.rar": ("archive.link", None),
    "libarchive/test_read_format_rar5_multiarchive_solid.part01.rar": ("archive.unsupported", None),
    "libarchive/test_read_format_rar5_multiarchive_solid.part02.rar": ("archive.unsupported", None),
    "libarchive/test_read_format_rar5_multiarchive_solid.part03.rar": ("archive.unsupported", None),
    "libarchive/test_read_format_rar5_multiarchive_solid.part04.rar": ("archive.unsupported", None),
    # unar 1.10.1 cannot decode this RAR5 solid archive (lsar -t fails as well)
    "libarchive/test_read_format_rar5_solid.rar": ("archive.unsupported", None),
    "libarchive/test_read_format_rar5_solid_encrypted_filenames.rar": ("archive.encrypted", None),
    "libarchive/test_read_format_rar5_stored.rar": (OK, {"helloworld.txt": 29}),
    "libarchive/test_read_format_rar5_symlink.rar": ("archive.link", None),
    "libarchive/test_read_format_rar5_unicode.rar": ("archive.link", None),  # hard link + windows symlink
    "libarchive/test_read_format_rar5_win32.rar": (
        OK,
        {"test.bin": 1200, **{f"test{i}.bin": 4096 for i in range(1, 7)}},
    ),
    "libarchive/test_read_format_rar5_zip_in_rar.rar": (
        OK,
        {"payload/inner.zip": 165, "payload/inner.zip/THIS_IS_INSIDE_THE_ZIP.txt": 13, "payload/real_after.txt": 21},
    ),
    "libarchive/test_read_format_rar_encryption_data.rar": ("archive.encrypted", None),
    "libarchive/test_read_format_rar_encryption_header.rar": ("archive.encrypted", None),
    "libarchive/test_read_format_rar_encryption_partially.rar": ("archive.encrypted", None),
    "libarchive/test_read_format_rar_unicode.rar": ("archive.link", None),  # 表だよ/ファイル is a symlink
    "libarchive/test_read_format_rar_windows.rar": (OK, {"testdir/test.txt": 16, "test.txt": 16, "testshortcut.lnk": 441}),
    "libarchive/test_read_format_zip_7z_deflate.zip": ("archive.link", None),  # two .so symlinks
    "libarchive/test_read_format_zip_comment_stored_1.zip": (OK, {"file0": 0, "build.sh": 23}),
    "libarchive/test_read_format_zip_encryption_data.zip": ("archive.encrypted", None),
    "libarchive/test_read_format_zip_encryption_header.zip": ("archive.encrypted", None),
    "libarchive/test_read_format_zip_filename_cp866.zip": (OK, {"ПРИВЕТ": 6, "привет": 6}),
    # KOI8-R without the UTF-8 flag: read as CP866 (the rule), so the names are mojibake
    "libarchive/test_read_format_zip_filename_koi8r.zip": (OK, {"╨╥╔╫┼╘": 6, "ЁЄщўхЇ": 6}),
    "libarchive/test_read_format_zip_filename_utf8_ru.zip": (OK, {"ПРИВЕТ": 6, "привет": 6}),
    "libarchive/test_read_format_zip_filename_utf8_ru2.zip": (OK, {"ЁЄщўхЇ": 6, "привет": 6}),
    "libarchive/test_read_format_zip_malformed1.zip": ("archive.corrupt", None),
    # "def" and "jkl" carry the MS-DOS directory attribute
    "libarchive/test_read_format_zip_msdos.zip": (OK, {"abc": 0, "def/foo": 0}),
    "libarchive/test_read_format_zip_nested.zip": (
        OK,
        {"small.zip": 211, "small.zip/another_file.txt": 29, "file.txt": 53},
    ),
    "libarchive/test_read_format_zip_size_exceeds_declared_deflate.zip": ("archive.corrupt", None),
    "libarchive/test_read_format_zip_symlink.zip": ("archive.link", None),
    "libarchive/test_read_format_zip_traditional_encryption_data.zip": ("archive.encrypted", None),
    "libarchive/test_read_format_zip_winzip_aes256.zip": ("archive.encrypted", None),
    "libarchive/test_read_format_zip_zip64a.zip": (OK, {"-": 6}),
    "libarchive/test_read_format_zip_zip64b.zip": (OK, {"-": 6}),
    # RAR 1.5 compression of FILE1.TXT: unar writes nothing (and exits 0); bsdtar: header CRC error
    "rarfile/rar15-comment.rar": ("archive.corrupt", None),
    "rarfile/rar3-comment-hpsw.rar": ("archive.encrypted", None),
    "rarfile/rar3-comment-psw.rar": ("archive.encrypted", None),
    "rarfile/rar3-old.r00": ("archive.unsupported", None),
    "rarfile/rar3-old.r01": ("archive.unsupported", None),
    "rarfile/rar3-old.rar": ("archive.unsupported", None),
    "rarfile/rar3-solid.rar": (OK, {"stest1.txt": 2048, "stest2.txt": 2048}),
    "rarfile/rar3-vols.part1.rar": ("archive.unsupported", None),
    "rarfile/rar3-vols.part2.rar": ("archive.unsupported", None),
    "rarfile/rar3-vols.part3.rar": ("archive.unsupported", None),
    "rarfile/rar5-evil-symlink-traversal.rar": ("archive.link", None),
    "rarfile/rar5-hpsw.rar": ("archive.encrypted", None),
    "rarfile/rar5-psw.rar": ("archive.encrypted", None),
    "rarfile/rar5-solid.rar": (OK, {"stest1.txt": 2048, "stest2.txt": 2048}),
    "rarfile/rar5-symlink-unix.rar": ("archive.link", None),
    "rarfile/rar5-vols.part1.rar": ("archive.unsupported", None),
    "rarfile/rar5-vols.part2.rar": ("archive.unsupported", None),
    "rarfile/rar5-vols.part3.rar": ("archive.unsupported", None),
    "rarfile/unicode.rar": (OK, {"уииоотивл.txt": 2, "𝐀𝐁𝐁𝐂.txt": 2}),
}


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not ARCHIVES.is_dir():
        pytest.skip(f"archive corpus not found at {ARCHIVES}")
    return ARCHIVES


def test_the_corpus_table_lists_every_archive_file(corpus: Path) -> None:
    present = {p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file() and p.suffix != ".exp"}
    assert present == set(CORPUS_TABLE)


@needs_unar
@pytest.mark.parametrize("relpath", sorted(CORPUS_TABLE))
def test_every_corpus_archive_opens_or_is_refused_with_the_right_code(corpus: Path, sandbox: Path, relpath: str) -> None:
    expected, sizes = CORPUS_TABLE[relpath]
    display = Path(relpath).name
    result = extract_archive(corpus / relpath, sandbox, display)
    assert result.kind == ("zip" if display.endswith(".zip") else "rar")
    assert_inside(result, sandbox)
    if expected == OK:
        assert result.checks == (), [(c.code, c.file, c.detail) for c in result.checks]
        assert {f.name: f.size for f in result.files} == {f"{display}/{n}": s for n, s in sizes.items()}
    else:
        assert expected in codes(result), [(c.code, c.file, c.detail) for c in result.checks]


@needs_unar
def test_deflate64_entry_is_inflated_to_its_exact_bytes(corpus: Path, sandbox: Path) -> None:
    result = extract_archive(corpus / "deflate64-rs/deflate64.zip", sandbox, "d.zip")
    wmv = next(f for f in result.files if f.name == "d.zip/binary.wmv")
    with zipfile.ZipFile(corpus / "deflate64-rs/deflate64.zip") as zf:
        assert zlib.crc32(wmv.path.read_bytes()) == zf.getinfo("binary.wmv").CRC


@needs_unar
def test_zip_nested_in_rar_has_depth_two_and_a_path_through_the_inner_archive(corpus: Path, sandbox: Path) -> None:
    result = extract_archive(corpus / "libarchive/test_read_format_rar5_zip_in_rar.rar", sandbox, "PPP_OD.rar")
    depths = {f.name: f.depth for f in result.files}
    assert depths == {
        "PPP_OD.rar/payload/inner.zip": 1,
        "PPP_OD.rar/payload/inner.zip/THIS_IS_INSIDE_THE_ZIP.txt": 2,
        "PPP_OD.rar/payload/real_after.txt": 1,
    }
    inner = next(f for f in result.files if f.depth == 2)
    assert inner.path.read_bytes() == b"inner content"
    assert inner.path.parent.name == "0001_inner.zip.d"


@needs_unar
def test_rar_entry_with_a_damaged_byte_is_corrupt(corpus: Path, tmp_path: Path, sandbox: Path) -> None:
    data = bytearray(rar4_stored([("ok.txt", b"hello world, hello world")]))
    data[data.find(b"hello")] ^= 0x01
    bad = tmp_path / "bad.rar"
    bad.write_bytes(bytes(data))
    result = extract_archive(bad, sandbox, "bad.rar")
    assert codes(result) == ["archive.corrupt"]
    assert result.files == ()


@needs_unar
def test_stored_rar_is_extracted_through_unar(tmp_path: Path, sandbox: Path) -> None:
    good = tmp_path / "good.rar"
    good.write_bytes(rar4_stored([("Отчёт/форма.xml", b"<x/>" * 1000), ("b.txt", b"")]))
    result = extract_archive(good, sandbox, "PPP_OD.rar")
    assert result.checks == ()
    assert {f.name: f.size for f in result.files} == {"PPP_OD.rar/Отчёт/форма.xml": 4000, "PPP_OD.rar/b.txt": 0}
    assert result.files[0].path.read_bytes() == b"<x/>" * 1000


@needs_unar
def test_rar_with_unsafe_paths_reports_each_and_extracts_nothing(tmp_path: Path, sandbox: Path) -> None:
    evil = tmp_path / "evil.rar"
    evil.write_bytes(rar4_stored([("ok.txt", b"hi"), ("../evil.txt", b"x"), ("/abs.txt", b"y")]))
    result = extract_archive(evil, sandbox, "evil.rar")
    assert codes(result) == ["archive.unsafe_path", "archive.unsafe_path"]
    assert result.files == ()


@needs_unar
def test_rar_entry_larger_than_the_entry_limit_is_too_large(tmp_path: Path, sandbox: Path) -> None:
    big = tmp_path / "big.rar"
    big.write_bytes(rar4_stored([("big.bin", b"x" * (3 << 20))]))
    result = extract_archive(big, sandbox, "big.rar", ArchiveLimits(max_entry_bytes=1 << 20))
    assert codes(result) == ["archive.too_large"]
    assert result.files == ()


@needs_unar
def test_rar_entries_count_against_the_entry_limit(corpus: Path, sandbox: Path) -> None:
    result = extract_archive(corpus / "libarchive/test_read_format_rar5_win32.rar", sandbox, "w.rar", ArchiveLimits(max_entries=3))
    assert codes(result) == ["archive.too_many_entries"]
    assert result.files == ()


# --- generated hostile ZIPs ---------------------------------------------------------------


@pytest.fixture(scope="module")
def zeros_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 MB of zeros deflated (~200 KB), written in chunks."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("zeros.bin", "w", force_zip64=True) as fh:
            for _ in range(200):
                fh.write(chunk)
    return path


def test_zip_bomb_stops_at_the_total_limit_quickly_and_in_bounded_memory(zeros_bomb: Path, sandbox: Path) -> None:
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = extract_archive(zeros_bomb, sandbox, "bomb.zip", ArchiveLimits(max_total_bytes=10 << 20, max_ratio=10**9))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert codes(result) == ["archive.too_large"]
    assert time.monotonic() - started < 3
    assert peak < 20 << 20
    assert sum(p.stat().st_size for p in sandbox.rglob("*") if p.is_file()) <= 10 << 20


def test_high_ratio_entry_is_a_bomb_with_default_limits(zeros_bomb: Path, sandbox: Path) -> None:
    result = extract_archive(zeros_bomb, sandbox, "bomb.zip")
    assert codes(result) == ["archive.bomb"]
    assert result.files == ()


def test_declared_size_that_lies_is_caught_by_the_streaming_ratio_limit(tmp_path: Path, sandbox: Path) -> None:
    path = make_zip(tmp_path / "lie.zip", [("zeros.bin", bytes(5 << 20))])
    data = bytearray(path.read_bytes())
    small = struct.pack("<I", 1000)
    data[22:26] = small  # local header uncompressed size
    cd = data.find(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = small  # central directory uncompressed size
    path.write_bytes(bytes(data))
    result = extract_archive(path, sandbox, "lie.zip")
    assert codes(result) == ["archive.bomb"]
    assert sum(p.stat().st_size for p in sandbox.rglob("*") if p.is_file()) == 0


def test_declared_size_that_lies_a_little_is_corrupt(tmp_path: Path, sandbox: Path) -> None:
    path = make_zip(tmp_path / "lie.zip", [("a.txt", b"0123456789" * 100)])
    data = bytearray(path.read_bytes())
    data[22:26] = struct.pack("<I", 999)
    cd = data.find(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = struct.pack("<I", 999)
    path.write_bytes(bytes(data))
    result = extract_archive(path, sandbox, "lie.zip")
    assert codes(result) == ["archive.corrupt"]
    assert "1000 bytes, header declares 999" in result.checks[0].detail


def test_too_many_entries_are_refused_before_extracting(tmp_path: Path, sandbox: Path) -> None:
    path = make_zip(tmp_path / "many.zip", [(f"f{i}.txt", b"x") for i in range(ArchiveLimits().max_entries + 1)])
    result = extract_archive(path, sandbox, "many.zip")
    assert codes(result) == ["archive.too_many_entries"]
    assert result.files == ()


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd", "C:\\x.txt", "..\\x.txt", "a/../../b.txt", "C:/x.txt"])
def test_unsafe_entry_path_is_refused(tmp_path: Path, sandbox: Path, name: str) -> None:
    path = make_zip(tmp_path / "evil.zip", [("ok.txt", b"fine"), (name, b"pwned")])
    result = extract_archive(path, sandbox, "evil.zip")
    assert codes(result) == ["archive.unsafe_path"]
    assert result.checks[0].file == f"evil.zip/{name}"
    assert result.files == ()


def test_two_unsafe_paths_are_reported_together(tmp_path: Path, sandbox: Path) -> None:
    path = make_zip(tmp_path / "evil.zip", [("../a.txt", b"1"), ("/b.txt", b"2")])
    assert codes(extract_archive(path, sandbox, "evil.zip")) == ["archive.unsafe_path", "archive.unsafe_path"]


def test_symlink_entry_is_a_link(tmp_path: Path, sandbox: Path) -> None:
    link = zipfile.ZipInfo("link")
    link.external_attr = 0o120777 << 16
    path = make_zip(tmp_path / "link.zip", [("ok.txt", b"x"), (link, b"/etc/passwd")])
    result = extract_archive(path, sandbox, "link.zip")
    assert codes(result) == ["archive.link"]
    assert not any(p.is_symlink() for p in sandbox.rglob("*"))


def test_fifo_entry_is_a_link(tmp_path: Path, sandbox: Path) -> None:
    fifo = zipfile.ZipInfo("pipe")
    fifo.external_attr = 0o010644 << 16
    path = make_zip(tmp_path / "fifo.zip", [(fifo, b"")])
    assert codes(extract_archive(path, sandbox, "fifo.zip")) == ["archive.link"]


def nest(tmp_path: Path, levels: int) -> Path:
    """levels=1: PPP.zip ⊃ doc.txt; each further level wraps it in another zip."""
    data = b"deepest"
    name = "doc.txt"
    for level in range(levels):
        inner = tmp_path / f"l{level}.zip"
        make_zip(inner, [(name, data), (f"note{level}.txt", b"n")])
        data, name = inner.read_bytes(), f"l{level}.zip"
    return tmp_path / f"l{levels - 1}.zip"


def test_archive_nested_once_is_expanded(tmp_path: Path, sandbox: Path) -> None:
    result = extract_archive(nest(tmp_path, 2), sandbox, "PPP.zip")
    assert result.checks == ()
    assert {f.name: f.depth for f in result.files} == {
        "PPP.zip/l0.zip": 1,
        "PPP.zip/l0.zip/doc.txt": 2,
        "PPP.zip/l0.zip/note0.txt": 2,
        "PPP.zip/note1.txt": 1,
    }


def test_zip_in_zip_in_zip_beyond_max_depth_is_nested_too_deep(tmp_path: Path, sandbox: Path) -> None:
    result = extract_archive(nest(tmp_path, 3), sandbox, "PPP.zip")
    assert codes(result) == ["archive.nested_too_deep"]
    assert result.checks[0].file == "PPP.zip/l1.zip/l0.zip"
    names = {f.name for f in result.files}
    assert "PPP.zip/l1.zip/l0.zip" in names  # listed as a file, not expanded
    assert max(f.depth for f in result.files) == 2


def test_nested_archive_is_recognised_by_content_not_name(tmp_path: Path, sandbox: Path) -> None:
    inner = make_zip(tmp_path / "inner.zip", [("x.txt", b"x")])
    outer = make_zip(tmp_path / "outer.zip", [("report.pdf", inner.read_bytes())])
    result = extract_archive(outer, sandbox, "outer.zip")
    assert [f.name for f in result.files] == ["outer.zip/report.pdf", "outer.zip/report.pdf/x.txt"]


def test_office_document_inside_is_listed_but_not_expanded(tmp_path: Path, sandbox: Path) -> None:
    xlsx = make_zip(tmp_path / "book.xlsx", [("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<w/>")])
    outer = make_zip(tmp_path / "PPP_OD.zip", [("Отчёт.xlsx", xlsx.read_bytes())])
    result = extract_archive(outer, sandbox, "PPP_OD.zip")
    assert result.checks == ()
    assert [f.name for f in result.files] == ["PPP_OD.zip/Отчёт.xlsx"]


def test_corrupt_nested_archive_is_reported_and_siblings_are_kept(tmp_path: Path, sandbox: Path) -> None:
    broken = make_zip(tmp_path / "inner.zip", [("x.txt", b"x" * 100)]).read_bytes()[:-30]
    outer = make_zip(tmp_path / "outer.zip", [("inner.zip", broken), ("after.txt", b"a")])
    result = extract_archive(outer, sandbox, "outer.zip")
    assert codes(result) == ["archive.corrupt"]
    assert result.checks[0].file == "outer.zip/inner.zip"
    assert [f.name for f in result.files] == ["outer.zip/inner.zip", "outer.zip/after.txt"]


def test_empty_archive_is_empty(tmp_path: Path, sandbox: Path) -> None:
    path = make_zip(tmp_path / "empty.zip", [])
    result = extract_archive(path, sandbox, "empty.zip")
    assert result.kind == "zip"
    assert codes(result) == ["archive.empty"]


def test_archive_of_only_directories_is_empty(tmp_path: Path, sandbox: Path) -> None:
    path = make_zip(tmp_path / "dirs.zip", [("a/", b""), ("a/b/", b"")])
    assert codes(extract_archive(path, sandbox, "dirs.zip")) == ["archive.empty"]


def test_cp866_name_without_utf8_flag_is_decoded_as_cyrillic(tmp_path: Path, sandbox: Path) -> None:
    real = "Отчёт/форма.xml"
    placeholder = "AAAAA/BBBBB.xml"  # same length as the CP866 bytes
    assert len(placeholder) == len(real.encode("cp866"))
    path = make_zip(tmp_path / "cp866.zip", [(placeholder, b"<x/>")])
    path.write_bytes(path.read_bytes().replace(placeholder.encode(), real.encode("cp866")))
    with zipfile.ZipFile(path) as zf:
        assert not zf.infolist()[0].flag_bits & 0x800
    result = extract_archive(path, sandbox, "PPP_OD.zip")
    assert result.checks == ()
    assert [f.name for f in result.files] == ["PPP_OD.zip/Отчёт/форма.xml"]
    assert result.files[0].path.name.endswith("форма.xml")


def unflagged_zip(path: Path, names: list[bytes]) -> Path:
    """A ZIP whose entry names are exactly ``names`` (raw bytes, UTF-8 flag clear)."""
    placeholders = [chr(ord("A") + i) * len(n) for i, n in enumerate(names)]
    make_zip(path, [(p, b"<x/>") for p in placeholders])
    data = path.read_bytes()
    for placeholder, name in zip(placeholders, names, strict=True):
        data = data.replace(placeholder.encode(), name)
    path.write_bytes(data)
    with zipfile.ZipFile(path) as zf:
        assert not any(i.flag_bits & 0x800 for i in zf.infolist())
    return path


def test_utf8_name_without_the_utf8_flag_is_read_as_utf8(tmp_path: Path, sandbox: Path) -> None:
    # Info-ZIP on Linux and macOS Archive Utility write UTF-8 names without bit 11.
    path = unflagged_zip(tmp_path / "u.zip", ["Отчёт/форма.xml".encode(), "Отчёт/форма.xml.sig".encode()])
    result = extract_archive(path, sandbox, "PPP_OD.zip")
    assert result.checks == ()
    assert [f.name for f in result.files] == ["PPP_OD.zip/Отчёт/форма.xml", "PPP_OD.zip/Отчёт/форма.xml.sig"]


def test_name_without_the_flag_that_is_not_utf8_is_read_as_cp866(tmp_path: Path, sandbox: Path) -> None:
    # One archive, both kinds: each name is judged on its own bytes.
    path = unflagged_zip(tmp_path / "mixed.zip", ["Устав.pdf".encode("cp866"), "Устав.pdf.sig".encode()])
    result = extract_archive(path, sandbox, "PPP_OD.zip")
    assert [f.name for f in result.files] == ["PPP_OD.zip/Устав.pdf", "PPP_OD.zip/Устав.pdf.sig"]


def test_utf8_flag_with_bytes_that_are_not_utf8_is_corrupt(tmp_path: Path, sandbox: Path) -> None:
    path = unflagged_zip(tmp_path / "bad.zip", ["Устав.pdf".encode("cp866")])
    data = bytearray(path.read_bytes())
    cd = data.find(b"PK\x01\x02")
    data[7] |= 0x08  # flag bit 11 in the local header
    data[cd + 9] |= 0x08  # and in the central directory
    path.write_bytes(bytes(data))
    assert codes(extract_archive(path, sandbox, "PPP_OD.zip")) == ["archive.corrupt"]


def test_name_with_a_control_character_is_invalid_but_extracted_safely(tmp_path: Path, sandbox: Path) -> None:
    path = make_zip(tmp_path / "ctl.zip", [("bad\x01name.txt", b"x"), ("ok.txt", b"y")])
    result = extract_archive(path, sandbox, "ctl.zip")
    assert codes(result) == ["file.name_invalid"]
    assert len(result.files) == 2
    assert all("\x01" not in f.path.name for f in result.files)


def test_name_component_over_255_bytes_is_invalid(tmp_path: Path, sandbox: Path) -> None:
    path = make_zip(tmp_path / "long.zip", [("я" * 128 + ".txt", b"x")])
    result = extract_archive(path, sandbox, "long.zip")
    assert codes(result) == ["file.name_invalid"]
    assert len(result.files[0].path.name.encode()) < 255


def test_duplicate_names_are_both_kept(tmp_path: Path, sandbox: Path) -> None:
    path = tmp_path / "dup.zip"
    with pytest.warns(UserWarning):
        make_zip(path, [("a.txt", b"first"), ("a.txt", b"second")])
    result = extract_archive(path, sandbox, "dup.zip")
    assert result.checks == ()
    assert [f.path.read_bytes() for f in result.files] == [b"first", b"second"]


def test_unknown_compression_method_is_unsupported(tmp_path: Path, sandbox: Path) -> None:
    path = make_zip(tmp_path / "ppmd.zip", [("a.txt", b"abc")])
    data = bytearray(path.read_bytes())
    cd = data.find(b"PK\x01\x02")
    data[8:10] = data[cd + 10 : cd + 12] = struct.pack("<H", 98)  # PPMd
    path.write_bytes(bytes(data))
    assert codes(extract_archive(path, sandbox, "ppmd.zip")) == ["archive.unsupported"]


def test_encrypted_zip_entry_is_encrypted(tmp_path: Path, sandbox: Path) -> None:
    path = make_zip(tmp_path / "enc.zip", [("a.txt", b"abc")])
    data = bytearray(path.read_bytes())
    cd = data.find(b"PK\x01\x02")
    data[6] |= 1
    data[cd + 8] |= 1
    path.write_bytes(bytes(data))
    assert codes(extract_archive(path, sandbox, "enc.zip")) == ["archive.encrypted"]


def test_truncated_zip_is_corrupt(tmp_path: Path, sandbox: Path) -> None:
    path = make_zip(tmp_path / "t.zip", [("a.txt", os.urandom(5000))])
    path.write_bytes(path.read_bytes()[:3000])
    result = extract_archive(path, sandbox, "t.zip")
    assert result.kind == "zip"
    assert codes(result) == ["archive.corrupt"]


def test_file_that_is_not_an_archive_is_unsupported_by_content(tmp_path: Path, sandbox: Path) -> None:
    path = tmp_path / "PPP_OD.zip"
    path.write_bytes(b"%PDF-1.7\n" + b"0" * 100)
    result = extract_archive(path, sandbox, "PPP_OD.zip")
    assert result.kind == "unknown"
    assert codes(result) == ["archive.unsupported"]


def test_rar_content_named_zip_is_read_as_rar(tmp_path: Path, sandbox: Path) -> None:
    if shutil.which("unar") is None:
        pytest.skip("unar not installed")
    path = tmp_path / "PPP_OD.zip"
    path.write_bytes(rar4_stored([("a.txt", b"abc")]))
    result = extract_archive(path, sandbox, "PPP_OD.zip")
    assert result.kind == "rar"
    assert [f.name for f in result.files] == ["PPP_OD.zip/a.txt"]


def test_dest_is_created_and_files_get_numbered_safe_names(tmp_path: Path, sandbox: Path) -> None:
    path = make_zip(tmp_path / "p.zip", [("dir/sub/..hidden", b"h"), ("x<>|?*.txt", b"x")])
    result = extract_archive(path, sandbox, "p.zip")
    assert sandbox.is_dir()
    assert result.checks == ()
    assert [f.path.parent for f in result.files] == [sandbox.resolve(), sandbox.resolve()]
    assert [f.path.name for f in result.files] == ["0001_hidden", "0002_x_____.txt"]


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_every_supported_zip_method_is_decompressed_to_its_exact_bytes(tmp_path: Path, sandbox: Path, method: int) -> None:
    payload = os.urandom(300_000) + b"abc" * 400_000 + bytes(200_000)
    path = tmp_path / "m.zip"
    with zipfile.ZipFile(path, "w", method) as zf:
        zf.writestr("data.bin", payload)
        zf.writestr("empty.txt", b"")
    result = extract_archive(path, sandbox, "m.zip")
    assert result.checks == ()
    assert [f.path.read_bytes() for f in result.files] == [payload, b""]


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_understated_bzip2_and_lzma_entries_reach_the_ratio_limit(tmp_path: Path, sandbox: Path, method: int) -> None:
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w", method) as zf:
        zf.writestr("zeros.bin", bytes(40 << 20))
    data = bytearray(path.read_bytes())
    cd = data.find(b"PK\x01\x02")
    data[22:26] = data[cd + 24 : cd + 28] = struct.pack("<I", 1 << 20)
    path.write_bytes(bytes(data))
    result = extract_archive(path, sandbox, "b.zip")
    assert codes(result) == ["archive.bomb"]
