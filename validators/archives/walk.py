"""The walk: one archive after the other (nested ones included), header pass then
extraction, sharing one :class:`~validators.archives.common.State`."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from validators.archives.common import Abort, ArchiveResult, ExtractedFile, Refused, Source, State, WriteFailed
from validators.archives.detect import is_office_document, sniff_kind
from validators.archives.limits import ArchiveLimits, write_entry
from validators.archives.names import safe_leaf
from validators.archives.rar import RarSource
from validators.archives.zip import ZipSource
from validators.checks import finding

log = logging.getLogger(__name__)


def extract_archive(
    archive: Path, dest: Path, display_name: str, limits: ArchiveLimits = ArchiveLimits()
) -> ArchiveResult:
    """Extract ``archive`` (ZIP or RAR, recognised by content) and nested archives into ``dest``.

    ``display_name`` is how the archive is called in findings and in
    :attr:`ExtractedFile.name` (usually the uploaded file name, e.g. ``PPP_OD.zip``).
    ``dest`` is created if missing; nothing is written outside it. Returns the files written
    and the findings; never raises because of the archive's content (only ``OSError`` when
    ``dest`` cannot be written).
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    state = State(dest=dest.resolve(), limits=limits)
    try:
        with open(archive, "rb") as fh:
            kind = sniff_kind(fh.read(8))
    except OSError as exc:
        state.checks.append(finding("archive.corrupt", file=display_name, detail=f"cannot read the archive: {exc}"))
        return state.result("unknown")
    if kind == "unknown":
        state.checks.append(
            finding("archive.unsupported", file=display_name, detail="content is neither a ZIP nor a RAR archive (magic bytes)")
        )
        return state.result(kind)
    try:
        expand(state, Path(archive), kind, display_name, state.dest, depth=1)
    except (Refused, Abort):
        pass
    except WriteFailed as exc:
        raise exc.__cause__ or OSError("cannot write under dest") from None
    except Exception as exc:  # logged, never raised: the promise is that bad input never raises
        log.exception("unexpected failure while extracting %s", display_name)
        state.checks.append(
            finding("archive.corrupt", file=display_name, detail=f"unexpected {type(exc).__name__}: {exc}")
        )
    return state.result(kind)


def expand(state: State, path: Path, kind: str, prefix: str, outdir: Path, depth: int) -> None:
    """Header pass, then extraction of one archive whose entries get ``depth``."""
    opened: Source
    if kind == "zip":
        opened = ZipSource.open(state, path, prefix)
    else:
        opened = RarSource.open(state, path, prefix, outdir)
    try:
        entries = opened.entries
        problems = opened.problems
        state.entries += len(entries)
        if state.entries > state.limits.max_entries:
            state.checks.append(
                finding(
                    "archive.too_many_entries",
                    file=prefix,
                    detail=f"{state.entries} entries so far, limit {state.limits.max_entries}",
                )
            )
            raise Abort
        regular = [e for e in entries if not e.is_dir]
        state.checks.extend(problems.blocking)
        state.checks.extend(problems.soft)
        if problems.blocking:
            raise Refused
        if not regular:
            state.checks.append(finding("archive.empty", file=prefix, detail=f"{len(entries)} entries, no regular file"))
            raise Refused
        seen: dict[tuple[str, ...], int] = {}
        for entry in regular:
            display = "/".join(entry.parts) if entry.parts else "unnamed"
            if entry.parts in seen:
                log.info("duplicate entry name %r in %s (kept both)", display, prefix)
            seen[entry.parts] = seen.get(entry.parts, 0) + 1
            target = state.next_path(outdir, safe_leaf(entry.parts))
            size = write_entry(state, opened, entry, target, f"{prefix}/{display}")
            extracted = ExtractedFile(name=f"{prefix}/{display}", path=target, size=size, depth=depth)
            state.files.append(extracted)
            expand_nested(state, extracted, depth)
    finally:
        opened.close()


def expand_nested(state: State, extracted: ExtractedFile, depth: int) -> None:
    with open(extracted.path, "rb") as fh:
        kind = sniff_kind(fh.read(8))
    if kind == "unknown":
        return
    if kind == "zip" and is_office_document(extracted.path):
        return
    if depth + 1 > state.limits.max_depth:
        state.checks.append(
            finding(
                "archive.nested_too_deep",
                file=extracted.name,
                detail=f"{kind} archive at depth {depth}; its entries would be at depth {depth + 1} > {state.limits.max_depth}",
            )
        )
        return
    subdir = extracted.path.with_name(extracted.path.name + ".d")
    if os.path.lexists(subdir):
        subdir = state.next_path(extracted.path.parent, safe_leaf((extracted.path.name,)), ".d")
    try:
        subdir.mkdir()
    except OSError as exc:
        raise WriteFailed from exc
    with contextlib.suppress(Refused):
        expand(state, extracted.path, kind, extracted.name, subdir, depth + 1)
