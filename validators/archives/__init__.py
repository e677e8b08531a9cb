"""Safe extraction of ZIP and RAR packages (and of archives nested in them).

:func:`extract_archive` unpacks one uploaded archive into a destination folder and returns
the extracted files plus findings (:class:`~validators.checks.Check`). It never raises for
a bad archive: anything the readers throw becomes ``archive.corrupt`` (or a more precise
code). It raises only when ``dest`` itself cannot be created or written (an environment
problem, not the member's).

Modules
-------
``walk`` (the walk over nested archives), ``detect`` (the one archive-type detector),
``limits`` (:class:`ArchiveLimits` and the streaming enforcement), ``names`` (decoding,
judging and sanitising entry names), ``zip`` and ``ziplayout`` (ZIP reader and structure
check), ``rar`` (RAR headers) and ``unar`` (the sandboxed extraction tool), ``common``
(results and the reader interface). Import the public API from this package.

How it stays safe
-----------------
* **Names are never used as paths.** Every file is written as ``<dir>/<NNNN>_<safe leaf>``
  where ``NNNN`` is a running number and the leaf is the sanitised last name component;
  the archive-internal name is kept in :attr:`ExtractedFile.name`. Files are created with
  ``O_CREAT | O_EXCL | O_NOFOLLOW``. Nothing is written outside ``dest``; the RAR tool
  writes only to a pipe.
* **Header pass first.** All entries are classified before any byte is extracted:
  encrypted entries, links/devices, unsafe paths (absolute, drive letter, ``..`` in ``/`` or
  ``\\`` form), unknown compression, multi-volume parts, declared sizes over the limits.
  Every such problem of one archive is reported at once and the archive is not extracted.
  Invalid names (control characters, components over 255 bytes, empty) give
  ``file.name_invalid`` but are extracted under a safe name.
* **Limits are enforced while reading**, in 64 KiB chunks, *before* a chunk is written:
  per-entry size, total size over all nesting levels, and the expansion ratio (only once an
  entry has produced more than 1 MiB). Declared sizes are pre-checked but never trusted:
  the counters see the bytes the data really decompress to. ZIP entries are decompressed
  by :class:`_ZipEntryReader`, which (unlike zipfile's reader) does not stop at the declared
  size, so an entry that declares 1 MiB and inflates to 1 GiB reaches the ratio or size
  limit instead of ending as a short, CRC-failing stream. Bytes past the declared size are
  counted but never written (the entry is refused anyway).
  A limit breach (``archive.too_large``, ``archive.bomb``, ``archive.too_many_entries``)
  stops the whole extraction; the partially written file is deleted.
* **Nested archives** are recognised by content (magic bytes), listed as files and expanded
  into ``<NNNN>_<leaf>.d/`` with ``depth + 1``, sharing the same counters. An archive whose
  entries would lie deeper than ``max_depth`` is not expanded (``archive.nested_too_deep``).
  A refused nested archive (corrupt, encrypted, ...) gets its finding and its siblings are
  still processed. ZIP-based office documents (OOXML ``[Content_Types].xml``, ODF
  ``mimetype``) are documents, not archives: they are listed but not expanded.

ZIP
---
Before zipfile reads anything, the file is parsed once by hand (:func:`_zip_layout`): it
must be tiled exactly by one local header + data (+ data descriptor) per central record,
the central directory, the Zip64 end records and the end record with its comment. Data
before the first local header (an SFX stub, a prepended archive), local entries the
directory does not list, gaps, overlapping entries (measured with the *local* name and
extra-field lengths), trailing data, a second end record, and any name, size, CRC, method
or flag that differs between local header (or data descriptor) and directory make the
archive ``archive.inconsistent``: what zipfile would show the verifier is then not what a
streaming unzipper would extract. Several records sharing one local header are also an
``archive.bomb`` (the overlapping-files bomb).

stdlib :mod:`zipfile` for the directory; ``import zipfile_deflate64`` adds Deflate64
(method 9). Names without the UTF-8 flag (bit 11) are read as UTF-8 when they are valid
UTF-8 (Linux and macOS archivers), otherwise as CP866 (Russian Windows archivers): the raw
bytes are recovered from zipfile's lossless CP437 decoding. The entry count is read from the end-of-central-directory record before the
central directory is parsed, so a ZIP with millions of entries is refused cheaply.

RAR: what was measured and chosen
---------------------------------
Headers come from rarfile 4.5 (pure Python; opened with ``part_only=True`` so it never
opens neighbouring "volumes", ``errors="strict"``, and an ``info_callback`` that stops
parsing past ``max_entries``). Data comes from Debian's ``unar`` 1.10.1. Measured here:

* rarfile's own ``rf.open(info)`` does stream through ``unar -o -``, but (a) it runs the
  tool with stderr merged into stdout, so unar's error text ("Archive parsing failed!...")
  arrives as file data and is only caught by the size/CRC check, (b) it selects the entry
  by *name*, which unar treats as a wildcard pattern, (c) it omits ``-nr``, so unar may
  recurse into a nested archive, (d) it has no timeout or resource limits, and (e) for
  non-solid entries it writes a temporary single-entry RAR into the system temp dir.
* So this module runs ``unar -q -nr -o - -i <index> a.rar`` itself, one process per entry,
  reading stdout in 64 KiB chunks with the same counters as ZIP, stderr going to a file.
  The index comes from ``lsar -j`` run once per archive; lsar and rarfile must agree on
  the entry count, the directory flags and the sizes, otherwise the archive is refused as
  corrupt (two parsers disagreeing is the classic smuggling trick). The process gets
  ``RLIMIT_AS`` 2 GiB, ``RLIMIT_CPU``, ``RLIMIT_FSIZE`` 0 (it may only write to the pipe),
  ``RLIMIT_CORE`` 0 and a wall-clock timeout after which it is killed; when a limit trips
  the pipe is closed and the process killed. The archive is hard-linked (or copied) into a
  private work folder inside ``dest`` first, so unar can never pick up sibling files as
  further volumes. After EOF the exit code must be 0 (unar checks CRC/BLAKE2) and the byte
  count must equal the declared size. unar 1.10.1 exits 0 even when it fails to decode an
  entry (it then writes nothing), so the size and a CRC32/BLAKE2sp computed here over the
  stream and compared with the header are what prove an entry complete.
* Numbers (this machine): a 200 MB stored RAR entry streams at ~150 MB/s, first byte after
  ~26 ms; stopping at 10 MB took 87 ms; unar's peak RSS while streaming 200 MB: 21 MB.
  Each entry costs one unar start (~25-45 ms) plus one lsar per archive (~20 ms): the
  accepted corpus RARs take 50-200 ms each, refused ones ~1 ms (header pass only); the
  whole corpus (66 files) runs in ~2.5 s; peak RSS of Python and of unar both ~27 MB.
* unar emits at most the *declared* size of an entry, so a lying RAR header yields a
  short/CRC-failing stream (``archive.corrupt``); the streaming counters still apply to
  what it writes.
* Cost of the choice: in a solid archive unar has to decode all earlier entries to reach
  entry N, so extraction is quadratic in the number of entries (irrelevant for packages of
  tens of files; the per-process timeout bounds it).
* unar 1.10.1 cannot decode some RAR5 *solid* archives (libarchive's
  test_read_format_rar5_solid.rar: nothing written, ``lsar -t`` fails too; rarfile's
  rar5-solid.rar decodes and its CRCs match). A decoding failure in a solid RAR5 is reported
  as ``archive.unsupported`` rather than ``archive.corrupt``, since WinRAR opens the file.
* Not used: ``unar -o dir`` for the whole archive then checking sizes (the bomb would be
  on disk before the check), bsdtar (no RAR solid/encryption support in 3.6.2), 7zz (the
  Debian build has no RAR codec).

Limits semantics
----------------
``max_entries`` counts every entry (directories included) of every archive level.
``max_total_bytes`` counts every byte written to ``dest`` (a nested archive's own bytes
and its contents both count). Entry depth never exceeds ``max_depth``. Duplicate names are
both kept (different numbers on disk) and logged; they are not a finding.
"""

from validators.archives.common import ArchiveResult, ExtractedFile
from validators.archives.detect import sniff_kind
from validators.archives.limits import ArchiveLimits
from validators.archives.walk import extract_archive

__all__ = ["ArchiveLimits", "ExtractedFile", "ArchiveResult", "extract_archive", "sniff_kind"]
