"""ZIP parser differentials: the gateway judges exactly what any unzipper could extract.

zipfile reads the central directory; streaming unzippers walk the local headers; readers
differ in which end record they take and whether they tolerate data before the archive.
Every archive here is built byte by byte (:mod:`tests.validators.zip_builder`) with one
disagreement between those structures; each must be refused as ``archive.inconsistent``
before a single byte is extracted.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from tests.validators.zip_builder import (
    CENTRAL_CRC,
    CENTRAL_OFFSET,
    EOCD_DISK_ENTRIES,
    EOCD_TOTAL_ENTRIES,
    LOCAL_CRC,
    LOCAL_CSIZE,
    LOCAL_FLAGS,
    LOCAL_METHOD,
    LOCAL_NAME,
    LOCAL_USIZE,
    RawEntry,
    RawZip,
    local_header,
    raw_zip,
    unicode_path,
    with_extra_central_record,
)
from validators.archives import ArchiveResult, extract_archive

REPORT = RawEntry(b"report.xml", b"<report>" + b"1234567890" * 50 + b"</report>")
SIG = RawEntry(b"report.xml.sig", b"0\x82signature bytes" * 4)
FORGED = RawEntry(b"forged.xml", b"<report>forged</report>")


def codes(result: ArchiveResult) -> list[str]:
    return [c.code for c in result.checks]


def judge(tmp_path: Path, sandbox: Path, archive: RawZip | bytes) -> ArchiveResult:
    path = tmp_path / "PPP_OD.zip"
    path.write_bytes(archive.bytes() if isinstance(archive, RawZip) else archive)
    return extract_archive(path, sandbox, "PPP_OD.zip")


def assert_refused_as_inconsistent(result: ArchiveResult, sandbox: Path, *, also: tuple[str, ...] = ()) -> None:
    assert set(codes(result)) == {"archive.inconsistent", *also}, [(c.code, c.detail) for c in result.checks]
    assert result.files == ()
    assert not [p for p in sandbox.rglob("*") if p.is_file()]


# --- the writer itself is right ---------------------------------------------------------------


@pytest.mark.parametrize("descriptor", [False, True], ids=["sizes-in-header", "data-descriptor"])
def test_a_well_formed_handmade_zip_is_extracted(tmp_path: Path, sandbox: Path, descriptor: bool) -> None:
    entries = [RawEntry(e.name, e.data, descriptor=descriptor) for e in (REPORT, SIG)]
    result = judge(tmp_path, sandbox, raw_zip(entries, comment=b"made by hand"))
    assert result.checks == ()
    assert [f.path.read_bytes() for f in result.files] == [REPORT.data, SIG.data]


def test_a_stored_zip_inside_a_zip_is_not_mistaken_for_a_second_archive(tmp_path: Path, sandbox: Path) -> None:
    inner = raw_zip([REPORT]).bytes()
    outer = raw_zip([RawEntry(b"inner.zip", inner, method=0), SIG])
    result = judge(tmp_path, sandbox, outer)
    assert result.checks == ()
    assert [f.name for f in result.files] == ["PPP_OD.zip/inner.zip", "PPP_OD.zip/inner.zip/report.xml", "PPP_OD.zip/report.xml.sig"]


# --- entries the central directory does not list ------------------------------------------------


def test_local_entry_missing_from_the_central_directory_is_inconsistent(tmp_path: Path, sandbox: Path) -> None:
    # A streaming unzipper extracts forged.xml; zipfile would never show it to the verifier.
    result = judge(tmp_path, sandbox, raw_zip([REPORT, FORGED, SIG], unlisted=frozenset({1})))
    assert_refused_as_inconsistent(result, sandbox)
    assert "not list" in result.checks[0].detail


def test_local_entry_after_the_last_listed_one_is_inconsistent(tmp_path: Path, sandbox: Path) -> None:
    result = judge(tmp_path, sandbox, raw_zip([REPORT, SIG, FORGED], unlisted=frozenset({2})))
    assert_refused_as_inconsistent(result, sandbox)


def test_unaccounted_bytes_between_entries_are_inconsistent(tmp_path: Path, sandbox: Path) -> None:
    result = judge(tmp_path, sandbox, raw_zip([REPORT, SIG], gap_after={0: b"\0" * 64}))
    assert_refused_as_inconsistent(result, sandbox)


# --- data before the first local header ------------------------------------------------------------


def test_a_stub_before_the_first_local_header_is_inconsistent(tmp_path: Path, sandbox: Path) -> None:
    # Starts with a local-header signature (so it is sniffed as ZIP), offsets account for it.
    stub = b"PK\x03\x04" + b"\x90" * 200
    result = judge(tmp_path, sandbox, raw_zip([REPORT, SIG], prefix=stub))
    assert_refused_as_inconsistent(result, sandbox)
    assert "before the first local header" in result.checks[0].detail


def test_an_archive_prepended_to_another_is_inconsistent(tmp_path: Path, sandbox: Path) -> None:
    # `cat first.zip second.zip`: zipfile quietly reads the second, a streaming unzipper the first.
    first = raw_zip([FORGED]).bytes()
    result = judge(tmp_path, sandbox, raw_zip([REPORT, SIG], prefix=first, adjust_offsets=False))
    assert_refused_as_inconsistent(result, sandbox)


def test_a_pdf_zip_polyglot_nested_in_a_package_is_not_expanded_through_its_prefix(tmp_path: Path, sandbox: Path) -> None:
    # Appended to a PDF, a ZIP's directory offsets are shifted; recognised by content at the
    # start, the file is a PDF (a document), never an archive that hides entries.
    polyglot = b"%PDF-1.7\n%%EOF\n" + raw_zip([FORGED]).bytes()
    result = judge(tmp_path, sandbox, raw_zip([RawEntry(b"scan.pdf", polyglot), SIG]))
    assert result.checks == ()
    assert [f.name for f in result.files] == ["PPP_OD.zip/scan.pdf", "PPP_OD.zip/report.xml.sig"]


# --- local header and central directory disagree ----------------------------------------------------


def _patched(field: str) -> RawZip:
    archive = raw_zip([REPORT, SIG])
    local = archive.local[0]
    if field == "name":
        archive.data[local + LOCAL_NAME] = ord("R")  # Report.xml locally, report.xml centrally
    elif field == "crc":
        archive.patch(local + LOCAL_CRC, "<L", zlib.crc32(b"other"))
    elif field == "compressed size":
        archive.patch(local + LOCAL_CSIZE, "<L", struct.unpack_from("<L", archive.data, local + LOCAL_CSIZE)[0] - 1)
    elif field == "size":
        archive.patch(local + LOCAL_USIZE, "<L", len(REPORT.data) + 100)
    elif field == "method":
        archive.patch(local + LOCAL_METHOD, "<H", 0)
    elif field == "flags":
        archive.patch(local + LOCAL_FLAGS, "<H", 0x800)
    return archive


@pytest.mark.parametrize("field", ["name", "crc", "compressed size", "size", "method", "flags"])
def test_local_header_field_that_differs_from_the_central_directory_is_inconsistent(tmp_path: Path, sandbox: Path, field: str) -> None:
    result = judge(tmp_path, sandbox, _patched(field))
    assert_refused_as_inconsistent(result, sandbox)
    assert result.checks[0].file == "PPP_OD.zip/report.xml"
    assert field in result.checks[0].detail.lower()


def test_compression_level_hint_bits_may_differ(tmp_path: Path, sandbox: Path) -> None:
    archive = raw_zip([REPORT, SIG]).patch(raw_zip([REPORT, SIG]).local[0] + LOCAL_FLAGS, "<H", 0x2)
    assert judge(tmp_path, sandbox, archive).checks == ()


@pytest.mark.parametrize("position, what", [(0, "CRC"), (4, "compressed size"), (8, "size")])
def test_data_descriptor_that_differs_from_the_central_directory_is_inconsistent(tmp_path: Path, sandbox: Path, position: int, what: str) -> None:
    archive = raw_zip([RawEntry(REPORT.name, REPORT.data, descriptor=True), SIG])
    descriptor = archive.descriptor[0]
    assert descriptor is not None
    value = struct.unpack_from("<L", archive.data, descriptor + position)[0]
    archive.patch(descriptor + position, "<L", value + 1)
    result = judge(tmp_path, sandbox, archive)
    assert_refused_as_inconsistent(result, sandbox)
    assert f"descriptor {what}" in result.checks[0].detail


def test_nonzero_local_values_beside_a_descriptor_must_match_too(tmp_path: Path, sandbox: Path) -> None:
    archive = raw_zip([RawEntry(REPORT.name, REPORT.data, descriptor=True), SIG])
    archive.patch(archive.local[0] + LOCAL_CRC, "<L", 0x12345678)
    assert_refused_as_inconsistent(judge(tmp_path, sandbox, archive), sandbox)


def test_central_crc_that_differs_from_the_local_one_is_inconsistent(tmp_path: Path, sandbox: Path) -> None:
    archive = raw_zip([REPORT, SIG])
    archive.patch(archive.central[1] + CENTRAL_CRC, "<L", 0)
    result = judge(tmp_path, sandbox, archive)
    assert_refused_as_inconsistent(result, sandbox)
    assert result.checks[0].file == "PPP_OD.zip/report.xml.sig"


# --- the Info-ZIP Unicode Path field (0x7075) ------------------------------------------------------
# Info-ZIP's unzip and 7-Zip name the entry by this field when its CRC matches the header
# name; zipfile ignores it. Two names for one entry: refused unless they agree.


@pytest.mark.parametrize("where", ["central", "local"])
def test_unicode_path_field_that_names_the_entry_differently_is_inconsistent(tmp_path: Path, sandbox: Path, where: str) -> None:
    field = unicode_path(REPORT.name, "forged.xml")
    entry = RawEntry(REPORT.name, REPORT.data, **{f"{where}_extra": field})
    result = judge(tmp_path, sandbox, raw_zip([entry, SIG]))
    assert_refused_as_inconsistent(result, sandbox)
    assert "forged.xml" in result.checks[0].detail


def test_unicode_path_field_that_agrees_with_a_cp866_header_name_is_fine(tmp_path: Path, sandbox: Path) -> None:
    header = "Отчёт.xml".encode("cp866")
    field = unicode_path(header, "Отчёт.xml")
    result = judge(tmp_path, sandbox, raw_zip([RawEntry(header, REPORT.data, local_extra=field, central_extra=field)]))
    assert result.checks == ()
    assert [f.name for f in result.files] == ["PPP_OD.zip/Отчёт.xml"]


def test_stale_unicode_path_field_is_ignored_as_unzip_ignores_it(tmp_path: Path, sandbox: Path) -> None:
    field = unicode_path(b"old-name.xml", "forged.xml")  # CRC of another header name
    result = judge(tmp_path, sandbox, raw_zip([RawEntry(REPORT.name, REPORT.data, central_extra=field), SIG]))
    assert result.checks == ()


# --- overlapping entries ------------------------------------------------------------------------------


def test_entry_hidden_in_the_local_extra_field_of_another_overlaps_it(tmp_path: Path, sandbox: Path) -> None:
    # The first entry's local extra field (unknown tag 0xCAFE) carries a complete second local
    # header and data, listed by a central record of its own. Measured with the central
    # lengths (no extra field) the first entry ends before the second starts; measured with
    # the real local lengths, they overlap.
    hidden = local_header(FORGED)
    extra = struct.pack("<HH", 0xCAFE, len(hidden)) + hidden
    archive = raw_zip([RawEntry(REPORT.name, REPORT.data, local_extra=extra), SIG])
    hidden_offset = archive.local[0] + 30 + len(REPORT.name) + 4
    result = judge(tmp_path, sandbox, with_extra_central_record(archive, FORGED, hidden_offset))
    assert_refused_as_inconsistent(result, sandbox)
    assert "overlaps" in " ".join(c.detail for c in result.checks)


def test_entry_starting_inside_the_data_of_another_is_inconsistent(tmp_path: Path, sandbox: Path) -> None:
    # A stored "cover.bin" whose bytes are a local header plus data; a central record points in.
    archive = raw_zip([RawEntry(b"cover.bin", local_header(FORGED), method=0), SIG])
    inside = archive.local[0] + 30 + len(b"cover.bin")
    result = judge(tmp_path, sandbox, with_extra_central_record(archive, FORGED, inside))
    assert_refused_as_inconsistent(result, sandbox)


def test_two_central_records_sharing_one_local_header_are_an_overlap_bomb(tmp_path: Path, sandbox: Path) -> None:
    archive = raw_zip([REPORT, SIG])
    archive.patch(archive.central[1] + CENTRAL_OFFSET, "<L", archive.local[0])
    result = judge(tmp_path, sandbox, archive)
    assert_refused_as_inconsistent(result, sandbox, also=("archive.bomb",))


# --- the end record ----------------------------------------------------------------------------------------


def test_data_after_the_end_record_is_inconsistent(tmp_path: Path, sandbox: Path) -> None:
    result = judge(tmp_path, sandbox, raw_zip([REPORT, SIG], trailer=b"appended later"))
    assert_refused_as_inconsistent(result, sandbox)
    assert "after the end-of-central-directory record" in result.checks[0].detail


def test_a_second_end_record_after_the_first_is_inconsistent(tmp_path: Path, sandbox: Path) -> None:
    archive = raw_zip([REPORT, SIG])
    result = judge(tmp_path, sandbox, archive.bytes() + archive.bytes()[archive.eocd :])
    assert_refused_as_inconsistent(result, sandbox)


def test_an_end_record_hidden_in_the_comment_is_inconsistent(tmp_path: Path, sandbox: Path) -> None:
    # The real end record's comment holds a second, fake one: readers that search backwards
    # take the fake, readers that check the comment length take the real one.
    archive = raw_zip([REPORT, SIG])
    fake = bytes(archive.data[archive.eocd :])
    real = bytearray(fake)
    struct.pack_into("<H", real, 20, len(fake))
    data = archive.bytes()[: archive.eocd] + bytes(real) + fake
    assert_refused_as_inconsistent(judge(tmp_path, sandbox, data), sandbox)


def test_an_end_record_hidden_in_a_central_record_comment_is_inconsistent(tmp_path: Path, sandbox: Path) -> None:
    decoy = raw_zip([FORGED]).bytes()
    fake_eocd = decoy[decoy.rindex(b"PK\x05\x06") :]
    archive = raw_zip([REPORT, RawEntry(SIG.name, SIG.data, central_comment=fake_eocd)])
    result = judge(tmp_path, sandbox, archive)
    assert_refused_as_inconsistent(result, sandbox)
    assert "second end-of-central-directory record" in result.checks[0].detail


def test_a_plain_archive_comment_is_fine(tmp_path: Path, sandbox: Path) -> None:
    result = judge(tmp_path, sandbox, raw_zip([REPORT, SIG], comment="Отчёт за 1 квартал".encode()))
    assert result.checks == ()


@pytest.mark.parametrize("field", [EOCD_DISK_ENTRIES, EOCD_TOTAL_ENTRIES])
def test_entry_count_in_the_end_record_that_differs_from_the_directory_is_inconsistent(tmp_path: Path, sandbox: Path, field: int) -> None:
    archive = raw_zip([REPORT, SIG])
    archive.patch(archive.eocd + field, "<H", 1)
    assert_refused_as_inconsistent(judge(tmp_path, sandbox, archive), sandbox)


# --- nested -----------------------------------------------------------------------------------------------


def test_inconsistent_nested_archive_is_refused_and_its_siblings_are_kept(tmp_path: Path, sandbox: Path) -> None:
    inner = raw_zip([REPORT, FORGED], unlisted=frozenset({1})).bytes()
    result = judge(tmp_path, sandbox, raw_zip([RawEntry(b"inner.zip", inner, method=0), SIG]))
    assert codes(result) == ["archive.inconsistent"]
    assert result.checks[0].file == "PPP_OD.zip/inner.zip"
    assert [f.name for f in result.files] == ["PPP_OD.zip/inner.zip", "PPP_OD.zip/report.xml.sig"]
