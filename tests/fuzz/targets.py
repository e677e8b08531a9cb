"""Fuzz targets: arbitrary bytes into the validators, any unexpected exception is a crash.

Each ``fuzz_*`` function feeds one input to one component and raises
:class:`AssertionError` when the component raises anything but its documented "bad input"
outcome, or when a result breaks an invariant the component promises:

* :func:`fuzz_cms` -- ``parse_signed_data`` may raise only ``CmsFormatError``;
  ``verify_cms`` never raises, and never says TOTAL_PASSED without a passed
  ``signature.value`` check.
* :func:`fuzz_archive` -- ``extract_archive`` never raises for a bad archive, writes
  nothing outside ``dest`` (no links at all), keeps every limit, and its catch-all
  ("unexpected <Exception>") safety net is never needed.
* :func:`fuzz_names` -- ``check_report_name`` / ``check_file_name`` never raise, and accept
  only names of the documented shape.
* :func:`fuzz_certificate` -- ``load_certificates`` / ``load_crls`` never raise,
  ``certificate_from_der`` raises only ``ValueError``; ``identity_of``,
  ``profile_problems``, ``summary_of`` never raise for a certificate that loaded.

The functions are used three ways: by atheris (``python -m tests.fuzz.targets <target>
[libFuzzer options] [corpus dirs]``, see ``fuzz/README.md``), by the short fuzz run of the
test suite (``tests/fuzz/test_fuzz_short.py``), and by the regression tests that replay
the inputs kept in ``tests/fuzz/regressions/<target>/``.

The validators are imported lazily inside the functions, so that the atheris entry point
can import them under ``atheris.instrument_imports()`` (coverage feedback).
"""

from __future__ import annotations

import atexit
import os
import random
import re
import shutil
import stat
import sys
import tempfile
import traceback
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("SRO_FUZZ_CORPUS", REPO.parent / "shared" / "corpus"))
REGRESSIONS = Path(__file__).resolve().parent / "regressions"

TARGET_NAMES = ("cms", "archive", "names", "certificate")

#: Modules atheris instruments for coverage feedback (imported inside instrument_imports).
INSTRUMENTED = ("validators", "asn1crypto", "rarfile", "zipfile", "zipfile_deflate64")

#: Seeds larger than this are not used (libFuzzer -max_len; the 2.6 MB Deflate64 ZIP and
#: the PDFs would only slow every execution down).
MAX_SEED_BYTES = 128 * 1024


class FuzzCrash(AssertionError):
    """A component raised an undocumented exception or broke an invariant."""


def _crash(component: str, exc: BaseException | None = None, detail: str = "") -> FuzzCrash:
    if exc is not None:
        where = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-4))
        detail = f"{type(exc).__name__}: {exc}\n{where}{detail}"
    return FuzzCrash(f"{component}: {detail}")


class KnownBug:
    """A crash found by fuzzing and not fixed yet (an xfail(strict=True) test replays it).

    Matched by the component, the exception type and the innermost ``validators`` frame
    (file name and function, not line numbers, so edits elsewhere keep it matched). Known
    bugs are tolerated by the fuzz runs (so a long run goes on finding new ones) unless
    ``strict`` is set (``SRO_FUZZ_STRICT=1`` for atheris).
    """

    __slots__ = ("key", "component", "exc_type", "file", "function", "summary")

    def __init__(
        self, key: str, component: str, exc_type: type[BaseException] | tuple[type[BaseException], ...], file: str, function: str | tuple[str, ...], summary: str
    ) -> None:
        self.key, self.component, self.exc_type = key, component, exc_type
        self.file, self.function, self.summary = file, function, summary

    def matches(self, component: str, exc: BaseException) -> bool:
        if component != self.component or not isinstance(exc, self.exc_type):
            return False
        frame = _innermost_validators_frame(exc)
        functions = (self.function,) if isinstance(self.function, str) else self.function
        return frame is not None and frame[0] == self.file and frame[1] in functions


KNOWN_BUGS: tuple[KnownBug, ...] = ()
"""Open crashes found by fuzzing (none now: the four found so far are fixed and their
inputs are replayed strictly in tests/fuzz/test_fuzz_short.py)."""


def _innermost_validators_frame(exc: BaseException) -> tuple[str, str] | None:
    validators_dir = str(REPO / "validators")
    found = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.startswith(validators_dir):
            found = (Path(code.co_filename).name, code.co_name)
        tb = tb.tb_next
    return found


def known_bug(component: str, exc: BaseException) -> KnownBug | None:
    return next((bug for bug in KNOWN_BUGS if bug.matches(component, exc)), None)


def _strict(strict: bool | None) -> bool:
    return strict if strict is not None else os.environ.get("SRO_FUZZ_STRICT", "") not in ("", "0")


def _unless_known(component: str, exc: BaseException, strict: bool | None) -> None:
    """Raise the crash, unless it is a known bug and we are not strict."""
    if _strict(strict) or known_bug(component, exc) is None:
        raise _crash(component, exc) from exc


# --------------------------------------------------------------------------------------
# CMS


_store_cache: list[object] = []
_document_cache: list[Path] = []


def _trust_store() -> object:
    """Every certificate of the corpus as a trust anchor (chains then get built deeply);
    an empty store when the corpus is absent."""
    if not _store_cache:
        from validators.signatures.certificates import load_certificates
        from validators.trust import TrustStore

        roots = []
        folder = CORPUS / "certs"
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.suffix.lower() in (".pem", ".cer", ".der", ".crt"):
                    roots.extend(load_certificates(path.read_bytes()))
        _store_cache.append(TrustStore(roots=tuple(roots)))
    return _store_cache[0]


def _document() -> Path:
    """A small detached document (``test\\n``, the content of a corpus signature)."""
    if not _document_cache:
        folder = Path(tempfile.mkdtemp(prefix="sro-fuzz-doc-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "document.txt"
        path.write_bytes(b"test\n")
        _document_cache.append(path)
    return _document_cache[0]


def fuzz_cms(data: bytes, *, strict: bool | None = None) -> None:
    """``parse_signed_data`` raises only CmsFormatError; ``verify_cms`` never raises."""
    from validators.signatures.cms import CmsFormatError, parse_signed_data
    from validators.signatures.model import Indication, SubIndication, VerificationReport
    from validators.signatures.revocation import RevocationMode
    from validators.signatures.verify import VerificationPolicy, verify_cms

    try:
        parsed = parse_signed_data(data)
    except CmsFormatError:
        parsed = None
    except Exception as exc:  # noqa: BLE001 - that is the point
        _unless_known("parse_signed_data", exc, strict)
        return

    document = None if parsed is None or parsed.content is not None else _document()
    policy = VerificationPolicy(revocation=RevocationMode.SOFT)
    try:
        report = verify_cms(data, _trust_store(), policy, document=document, signature_file="fuzz.sig")  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001
        _unless_known("verify_cms", exc, strict)
        return

    if not isinstance(report, VerificationReport) or report.indication not in set(Indication):
        raise _crash("verify_cms", detail=f"not a report: {report!r}")
    if parsed is None:
        if report.sub_indication is not SubIndication.FORMAT_FAILURE or report.signatures:
            raise _crash("verify_cms", detail="parse_signed_data refused the input but verify_cms did not report FORMAT_FAILURE")
        return
    if len(report.signatures) != len(parsed.signer_infos):
        raise _crash("verify_cms", detail=f"{len(parsed.signer_infos)} SignerInfos but {len(report.signatures)} reports")
    for signature in report.signatures:
        if signature.indication is Indication.TOTAL_PASSED:
            passed = {c.name for c in signature.checks if c.passed}
            if "signature.value" not in passed:
                raise _crash("verify_cms", detail=f"TOTAL_PASSED without a passed signature.value check: {signature.checks}")


# --------------------------------------------------------------------------------------
# archives


def archive_limits() -> object:
    from validators.archives import ArchiveLimits

    return ArchiveLimits(
        max_entries=64,
        max_total_bytes=1 << 20,
        max_entry_bytes=512 << 10,
        max_ratio=100,
        max_depth=2,
    )


_MAGICS = (b"PK\x03\x04", b"Rar!\x1a\x07\x00", b"Rar!\x1a\x07\x01\x00")


def fuzz_archive(data: bytes, workdir: Path, *, strict: bool | None = None) -> None:
    """``extract_archive`` on the bytes; nothing may escape ``dest`` or break a limit.

    Input that starts with neither ZIP nor RAR magic gets one (chosen by its first byte,
    which it replaces), so random bytes reach the parsers. Everything is written to
    ``workdir/box`` and removed again.
    """
    from validators.archives import ArchiveResult, extract_archive, sniff_kind

    if data and sniff_kind(data[:8]) == "unknown":
        data = _MAGICS[data[0] % len(_MAGICS)] + data[1:]
    limits = archive_limits()
    box = Path(workdir) / "box"
    if os.path.lexists(box):
        shutil.rmtree(box)
    box.mkdir(parents=True)
    try:
        upload = box / "upload.bin"
        upload.write_bytes(data)
        dest = box / "x" / "y" / "dest"
        try:
            result = extract_archive(upload, dest, "fuzz.zip", limits)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001
            _unless_known("extract_archive", exc, strict)
            return
        _check_archive_result(result, box, dest, limits, ArchiveResult)
    finally:
        shutil.rmtree(box, ignore_errors=True)


def _check_archive_result(result: object, box: Path, dest: Path, limits: object, result_type: type) -> None:
    if not isinstance(result, result_type):
        raise _crash("extract_archive", detail=f"not an ArchiveResult: {result!r}")
    for check in result.checks:  # type: ignore[attr-defined]
        # extract_archive's last-resort `except Exception` turns an exception nobody
        # anticipated into archive.corrupt "unexpected <Type>": the input was refused,
        # but by the safety net, not by the code meant to judge it.
        if check.code == "archive.corrupt" and check.detail.startswith("unexpected "):
            raise _crash("extract_archive", detail=f"safety net caught an exception: {check.detail}")
    allowed_outside = {box / "upload.bin", box / "x", box / "x" / "y", dest}
    root = dest.resolve()
    on_disk: set[Path] = set()
    for folder, dirs, files in os.walk(box):
        for name in (*dirs, *files):
            path = Path(folder) / name
            if path not in allowed_outside and root not in path.parents:
                raise _crash("extract_archive", detail=f"wrote outside dest: {path}")
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                raise _crash("extract_archive", detail=f"created a link: {path} -> {os.readlink(path)}")
            if root in path.parents and not stat.S_ISDIR(mode):
                if not stat.S_ISREG(mode):
                    raise _crash("extract_archive", detail=f"created a special file: {path} ({oct(mode)})")
                on_disk.add(path.resolve())
    listed: set[Path] = set()
    total = 0
    for extracted in result.files:  # type: ignore[attr-defined]
        path = Path(extracted.path).resolve()
        if root not in path.parents:
            raise _crash("extract_archive", detail=f"listed file outside dest: {extracted}")
        if path not in on_disk:
            raise _crash("extract_archive", detail=f"listed file missing on disk: {extracted}")
        if path.stat().st_size != extracted.size:
            raise _crash("extract_archive", detail=f"size {extracted.size} listed, {path.stat().st_size} on disk: {extracted}")
        if not 1 <= extracted.depth <= limits.max_depth:  # type: ignore[attr-defined]
            raise _crash("extract_archive", detail=f"depth out of range: {extracted}")
        if extracted.size > limits.max_entry_bytes:  # type: ignore[attr-defined]
            raise _crash("extract_archive", detail=f"entry over the entry limit: {extracted}")
        if not extracted.name.startswith("fuzz.zip/"):
            raise _crash("extract_archive", detail=f"name not under the display name: {extracted}")
        listed.add(path)
        total += extracted.size
    if on_disk - listed:
        raise _crash("extract_archive", detail=f"files left on disk but not listed: {sorted(map(str, on_disk - listed))}")
    if total > limits.max_total_bytes:  # type: ignore[attr-defined]
        raise _crash("extract_archive", detail=f"{total} bytes extracted, limit {limits.max_total_bytes}")  # type: ignore[attr-defined]
    if len(result.files) > limits.max_entries:  # type: ignore[attr-defined]
        raise _crash("extract_archive", detail=f"{len(result.files)} files, limit {limits.max_entries}")  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------
# names

#: report_kind values the name fuzzer picks from (valid ones, odd case, junk).
REPORT_KINDS = ("OD_Q1", "OD_H1", "OD_9M", "OD_Y30", "OD_Y90", "PS", " od_q1 ", "ps", "", "XX", "OD", "OD_Q1\x00")
_REPORT_NAME = re.compile(r"([0-9]+)_(OD|PS)\.zip", re.IGNORECASE | re.ASCII)
_ALWAYS_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def decode_name_input(data: bytes) -> tuple[str, str, str]:
    """(name, member_number, report_kind) from fuzz bytes.

    Byte 0: report kind (low 7 bits) and, in its high bit, whether the rest is UTF-16-LE
    (any code point, lone surrogates included) instead of UTF-8 (invalid bytes become lone
    surrogates too: ``surrogateescape``). The rest is ``name`` [0xFF ``member_number``].
    """
    if not data:
        return "", "", REPORT_KINDS[0]
    head, rest = data[0], data[1:]
    kind = REPORT_KINDS[(head & 0x7F) % len(REPORT_KINDS)]
    name_bytes, _, member_bytes = rest.partition(b"\xff")
    if head & 0x80:
        name = name_bytes[: len(name_bytes) // 2 * 2].decode("utf-16-le", "surrogatepass")
        member = member_bytes[: len(member_bytes) // 2 * 2].decode("utf-16-le", "surrogatepass")
    else:
        name = name_bytes.decode("utf-8", "surrogateescape")
        member = member_bytes.decode("utf-8", "surrogateescape")
    return name, member, kind


def fuzz_names(data: bytes, *, strict: bool | None = None) -> None:
    """``check_report_name`` and ``check_file_name`` never raise, accept only good names;
    the archive walker's on-disk leaf is always a safe single component."""
    from validators.archives import common as archive_common
    from validators.archives import names as archive_names
    from validators.files import MAX_NAME_BYTES, check_file_name
    from validators.names import REPORT_SUFFIXES, check_report_name

    name, member, kind = decode_name_input(data)

    try:
        file_checks = check_file_name(name)
    except Exception as exc:  # noqa: BLE001
        _unless_known("check_file_name", exc, strict)
        return
    if len(file_checks) > 1 or any(c.code != "file.name_invalid" for c in file_checks):
        raise _crash("check_file_name", detail=f"unexpected findings for {name!r}: {file_checks}")
    must_reject = (
        not name.strip()
        or "/" in name
        or "\\" in name
        or name in (".", "..")
        or any(unicodedata.category(ch) in _ALWAYS_BAD_CATEGORIES for ch in name)
        or len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES
    )
    if must_reject and not file_checks:
        raise _crash("check_file_name", detail=f"accepted an unsafe name {name!r}")

    try:
        report_checks = check_report_name(name, member, kind)
    except Exception as exc:  # noqa: BLE001
        _unless_known("check_report_name", exc, strict)
        return
    if any(c.code not in ("name.report_pattern", "name.member_number") for c in report_checks):
        raise _crash("check_report_name", detail=f"unexpected findings for {name!r}: {report_checks}")
    if not report_checks:
        match = _REPORT_NAME.fullmatch(name)
        if match is None:
            raise _crash("check_report_name", detail=f"accepted {name!r}, which is not PPP_OD.zip / PPP_PS.zip")
        expected = REPORT_SUFFIXES.get(kind.strip().upper())
        if expected is not None and match.group(2).upper() != expected:
            raise _crash("check_report_name", detail=f"accepted {name!r} for report kind {kind!r}")
        own = member.strip()
        if re.fullmatch(r"[0-9]+", own, re.ASCII):
            if (match.group(1).lstrip("0") or "0") != (own.lstrip("0") or "0"):
                raise _crash("check_report_name", detail=f"accepted {name!r} for member {member!r}")
        elif match.group(1) != own:
            raise _crash("check_report_name", detail=f"accepted {name!r} for member {member!r}")

    # The archive walker never uses entry names as paths: the on-disk leaf must be one
    # harmless component.
    split_name = archive_names.split_name
    safe_leaf = archive_names.safe_leaf
    problems_type = archive_common.Problems
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in name):
        return  # zipfile and rarfile never produce lone surrogates (strict / "replace" decoding)
    try:
        parts, _safe = split_name(name, problems_type("fuzz.zip"))
        leaf = safe_leaf(parts)
    except Exception as exc:  # noqa: BLE001
        _unless_known("archives name handling", exc, strict)
        return
    if (
        not leaf
        or leaf in (".", "..")
        or any(ch in leaf for ch in "/\\\x00")
        or len(f"0000_{leaf}.d".encode()) > 255
        or any(unicodedata.category(ch) in _ALWAYS_BAD_CATEGORIES for ch in leaf)
    ):
        raise _crash("archives.names.safe_leaf", detail=f"unsafe on-disk leaf {leaf!r} for entry name {name!r}")


# --------------------------------------------------------------------------------------
# certificates


def fuzz_certificate(data: bytes, *, strict: bool | None = None) -> None:
    """Certificate loading never raises; a certificate that loaded can always be described."""
    from validators.signatures.certificates import (
        certificate_from_der,
        der_blocks,
        fingerprint,
        format_name,
        identity_of,
        load_certificates,
        load_crls,
        name_key,
        summary_of,
    )
    from validators.signatures.qualified import profile_problems

    try:
        certificates = load_certificates(data)
    except Exception as exc:  # noqa: BLE001
        _unless_known("load_certificates", exc, strict)
        return
    try:
        load_crls(data)
    except Exception as exc:  # noqa: BLE001
        _unless_known("load_crls", exc, strict)
        return
    try:
        blocks = der_blocks(data)
    except Exception as exc:  # noqa: BLE001
        _unless_known("der_blocks", exc, strict)
        return
    for der in blocks:
        try:
            certificate_from_der(der)
        except ValueError:
            pass
        except Exception as exc:  # noqa: BLE001
            _unless_known("certificate_from_der", exc, strict)
    for cert in certificates:
        for label, function in (
            ("identity_of", identity_of),
            ("profile_problems", profile_problems),
            ("summary_of", summary_of),
            ("fingerprint", fingerprint),
            ("format_name(subject)", lambda c: format_name(c.subject)),
            ("format_name(issuer)", lambda c: format_name(c.issuer)),
            ("name_key(subject)", lambda c: name_key(c.subject)),
        ):
            try:
                function(cert)
            except Exception as exc:  # noqa: BLE001
                _unless_known(label, exc, strict)


# --------------------------------------------------------------------------------------
# seeds, mutation, dispatch

_NAME_SEEDS = (
    b"\x007_OD.zip\xff7",
    b"\x05007_PS.zip\xff7",
    b"\x01123_od.ZIP\xff0123",
    b"\x00 7_OD.zip\xff7",
    b"\x007_OD.zip (1)\xff7",
    "\x00007_ОD.zip\xff7".encode(),  # Cyrillic О
    b"\x00../../etc/passwd\xff1",
    b"\x00CON.txt\xff1",
    b"\x00a\\b.pdf\xff1",
    "\x00Отчет_ОД.pdf\xff1".encode(),
    b"\x00\xe2\x80\xaefdp.exe\xff1",
    b"\x80" + "7_OD.zip".encode("utf-16-le") + b"\xff" + "7".encode("utf-16-le"),
    b"\x00" + b"9" * 300 + b"_OD.zip\xff" + b"9" * 300,
)


def seed_files(target: str) -> list[Path]:
    """Corpus files that seed ``target`` (empty when the shared corpus is absent)."""
    if target == "cms":
        folder = CORPUS / "gost-cms"
        suffixes = {".sig", ".p7s", ".sgn", ".pem", ".p7m"}
        paths = [p for p in folder.iterdir() if p.suffix.lower() in suffixes] if folder.is_dir() else []
    elif target == "archive":
        folder = CORPUS / "archives"
        paths = [p for p in folder.rglob("*") if (p.is_file() and p.suffix.lower() in {".zip", ".rar"}) or p.name.endswith((".r00", ".r01"))] if folder.is_dir() else []
    elif target == "certificate":
        folder = CORPUS / "certs"
        paths = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    elif target == "names":
        paths = []
    else:
        raise ValueError(f"unknown fuzz target {target!r}; known: {', '.join(TARGET_NAMES)}")
    regressions = REGRESSIONS / target
    if regressions.is_dir():
        paths += [p for p in regressions.iterdir() if p.is_file() and not p.name.startswith(".")]
    return sorted((p for p in paths if p.stat().st_size <= MAX_SEED_BYTES), key=lambda p: p.name)


def seeds(target: str) -> list[bytes]:
    """Seed inputs of ``target``: corpus files plus built-in ones (never empty)."""
    found = [p.read_bytes() for p in seed_files(target)]
    if target in ("cms", "certificate"):
        # PEM/base64 files also as their DER, so that mutations hit the ASN.1 structure
        # (a flipped byte in base64 text is mostly just "not base64").
        found += [der for data in list(found) if data[:1] != b"\x30" for der in _der_blocks(data)]
    if target == "names":
        found += list(_NAME_SEEDS)
    if target == "archive":
        found += _zip_seeds()
    if not found:
        found = [b"0\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02", b"PK\x05\x06" + bytes(18), b""]
    return found


def build_zip(entries: list[tuple[str, bytes]], *, compression: int = 8, unix_modes: dict[str, int] | None = None) -> bytes:
    """A ZIP written by :mod:`zipfile` (the way the property tests build theirs)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as zf:
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            mode = (unix_modes or {}).get(name)
            if mode is not None:
                info.external_attr = mode << 16
                info.create_system = 3
            zf.writestr(info, content)
    return buffer.getvalue()


def _zip_seeds() -> list[bytes]:
    """Small hand-made ZIPs: the corpus ones are mostly compressed third-party samples."""
    inner = build_zip([("форма.xml", b"<x/>" * 10)])
    deeper = build_zip([("n.zip", build_zip([("deep.txt", b"deep")]))])
    return [
        build_zip([("a.txt", b"hello"), ("dir/", b""), ("dir/b.pdf", b"%PDF-1.4\n" * 20)], compression=0),
        build_zip([("отчет.txt", "Отчетность".encode() * 50)]),
        build_zip([("inner.zip", inner), ("x.txt", b"x")], compression=0),
        build_zip([("d.zip", deeper)], compression=0),
        build_zip([("../evil.txt", b"evil"), ("/abs.txt", b"abs"), ("C:x.txt", b"c")], compression=0),
        build_zip([("link", b"target.txt")], compression=0, unix_modes={"link": 0o120777}),
        build_zip([("big.bin", bytes(300_000))]),
    ]


def _der_blocks(data: bytes) -> list[bytes]:
    from validators.signatures.certificates import der_blocks

    return der_blocks(data)


_INTERESTING = (b"\x00", b"\xff", b"\x7f", b"\x80", b"\x81", b"\x82\xff\xff", b"\x84\xff\xff\xff\xff", b"\x30\x80", b"\x00\x00")


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four random edits: bit flip, byte set, insert, delete, truncate, duplicate,
    interesting ASN.1/length values. Deterministic for a seeded ``rng``."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            pos = min(pos, len(buf) - 1)
            buf[pos] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:
            pos = min(pos, len(buf) - 1)
            buf[pos] = rng.randrange(256)
        elif op == 2:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3 and buf:
            del buf[pos : pos + rng.randint(1, 16)]
        elif op == 4 and buf:
            del buf[rng.randrange(len(buf)) :]
        elif op == 5 and buf:
            start = rng.randrange(len(buf))
            chunk = buf[start : start + rng.randint(1, 64)]
            buf[pos:pos] = chunk
        elif op == 6:
            value = rng.choice(_INTERESTING)
            buf[pos : pos + len(value)] = value
        elif buf:
            pos = min(pos, len(buf) - 1)
            buf[pos] = (buf[pos] + rng.choice((-1, 1, -0x10, 0x10, 0x80))) & 0xFF
    return bytes(buf)


def mutations(target: str, count: int, seed: int = 0) -> Iterator[bytes]:
    """``count`` deterministic inputs: every seed once, then mutants of random seeds."""
    rng = random.Random(seed)
    pool = seeds(target)
    for n in range(count):
        yield pool[n] if n < len(pool) else mutate(rng.choice(pool), rng)


def runner(target: str, workdir: Path | None = None) -> Callable[[bytes], None]:
    """A one-argument callable for ``target`` (the archive one needs a scratch folder)."""
    if target == "cms":
        return fuzz_cms
    if target == "names":
        return fuzz_names
    if target == "certificate":
        return fuzz_certificate
    if target == "archive":
        if workdir is None:
            base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
            workdir = Path(tempfile.mkdtemp(prefix="sro-fuzz-archive-", dir=base))
            atexit.register(shutil.rmtree, workdir, True)
        folder = workdir
        return lambda data: fuzz_archive(data, folder)
    raise ValueError(f"unknown fuzz target {target!r}; known: {', '.join(TARGET_NAMES)}")


def _import_components() -> None:
    import validators.archives
    import validators.files
    import validators.names
    import validators.signatures.certificates
    import validators.signatures.cms
    import validators.signatures.qualified
    import validators.signatures.verify
    import validators.trust  # noqa: F401


def write_seeds(target: str, folder: Path) -> int:
    """Write the seeds of ``target`` into ``folder`` (named by content hash); returns how many."""
    import hashlib

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for data in seeds(target):
        (folder / hashlib.sha1(data, usedforsecurity=False).hexdigest()).write_bytes(data)
    return len(list(folder.iterdir()))


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.fuzz.targets <target> [libFuzzer/atheris options] [corpus dirs or files]``

    ``python -m tests.fuzz.targets seed <target> <dir>`` writes the seed corpus of a target.
    """
    argv = list(sys.argv if argv is None else argv)
    if len(argv) == 4 and argv[1] == "seed" and argv[2] in TARGET_NAMES:
        print(f"{write_seeds(argv[2], Path(argv[3]))} seeds in {argv[3]}")
        return
    if len(argv) < 2 or argv[1] not in TARGET_NAMES:
        print(f"usage: python -m tests.fuzz.targets {{{'|'.join(TARGET_NAMES)}}} [-atheris_runs=N] [libFuzzer options] [corpus_dir ...]", file=sys.stderr)
        raise SystemExit(2)
    target = argv.pop(1)
    import atheris

    # Coverage feedback from the validators and the parsers they rely on. They must not
    # have been imported yet (this module imports them lazily for that reason).
    with atheris.instrument_imports(include=list(INSTRUMENTED)):
        _import_components()
    import validators

    validators.init()  # as the gateway command does at start
    one_input = runner(target)
    if target == "cms":
        _trust_store()  # load once, before the clock starts
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
