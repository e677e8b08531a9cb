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
  by :class:`~validators.archives.zip.ZipEntryReader`, which (unlike zipfile's reader) does not stop at the declared
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
Before zipfile reads anything, the file is parsed once by hand
(:mod:`~validators.archives.ziplayout`): it must be tiled exactly by one local header +
data (+ data descriptor) per central record, the central directory, the Zip64 end records
and the end record with its comment. Data before the first local header (an SFX stub, a
prepended archive), local entries the directory does not list, gaps, overlapping entries
(measured with the *local* name and extra-field lengths), trailing data, a second end
record, any name, size, CRC, method or flag that differs between local header (or data
descriptor) and directory, and an Info-ZIP Unicode Path field (0x7075, which unzip and
lsar prefer) naming the entry otherwise make the archive ``archive.inconsistent``: what
zipfile would show the verifier is then not what another unzipper would extract. Several
records sharing one local header are also an ``archive.bomb`` (the overlapping-files bomb).

stdlib :mod:`zipfile` for the directory; ``import zipfile_deflate64`` adds Deflate64
(method 9). Names without the UTF-8 flag (bit 11) are read as UTF-8 when they are valid
UTF-8 (Linux and macOS archivers), otherwise as CP866 (Russian Windows archivers): the raw
bytes are recovered from zipfile's lossless CP437 decoding. The entry count is read from the end-of-central-directory record before the
central directory is parsed, so a ZIP with millions of entries is refused cheaply.

RAR
---
Headers from rarfile (cross-checked with ``lsar``), data from **one** sandboxed ``unar``
pass per archive whose output is cut into entries by the header listing and proved entry
by entry with the header's CRC32/BLAKE2sp: see :mod:`validators.archives.rar` and
:mod:`validators.archives.unar`.

Limits semantics
----------------
See :mod:`validators.archives.limits`. Duplicate names are both kept (different numbers on
disk) and logged; they are not a finding.
"""

from validators.archives.common import ArchiveResult, ExtractedFile
from validators.archives.detect import sniff_kind
from validators.archives.limits import ArchiveLimits
from validators.archives.walk import extract_archive

__all__ = ["ArchiveLimits", "ExtractedFile", "ArchiveResult", "extract_archive", "sniff_kind"]
