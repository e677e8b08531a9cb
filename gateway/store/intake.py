"""Group commit of uploads: what makes a package durable before its 202 answer, shared by
the uploads that finish at the same time.

One upload alone costs an fsync of each file, one of each folder that received a name, and
one of the database's write-ahead log. Uploads that finish while another group is being
made durable wait for the next group, which fsyncs all their files at once (the file
system merges concurrent flushes into one journal commit), each distinct folder once, and
records all their submissions in one transaction: one log fsync for the group. Nothing is
answered before its group is durable.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from gateway.store.blobs import BlobStore, BlobWriter, StoredBlob, fsync_dir
from gateway.store.submissions import NewSubmission, StoredFile, SubmissionRepository

__all__ = ["GroupCommit", "Received"]


@dataclass(frozen=True, slots=True)
class Received:
    submission_id: str
    created: bool
    files: list[StoredFile]


@dataclass
class _Item:
    writers: list[BlobWriter]
    names: list[tuple[str, str]]
    """(slot, file name) per writer."""
    new: NewSubmission
    future: asyncio.Future[Received]


class GroupCommit:
    """Makes finished uploads durable and records them, in groups."""

    def __init__(self, blobs: BlobStore, repository: SubmissionRepository, threads: int = 4) -> None:
        self.blobs = blobs
        self.repository = repository
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="durable")
        self._runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="group-commit")
        self._pending: list[_Item] = []
        self._flusher: asyncio.Task[None] | None = None

    async def commit(self, writers: list[BlobWriter], names: list[tuple[str, str]], new: NewSubmission) -> Received:
        """Durable files and a committed submission row (or the first one with the same
        ``external_id``). The writers belong to this object from now on: on failure they
        are removed here. Raises what storing raised (OSError, sqlite3.OperationalError)."""
        loop = asyncio.get_running_loop()
        item = _Item(writers, names, new, loop.create_future())
        self._pending.append(item)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())
        # Shielded: a client that goes away does not stop a group half-way.
        return await asyncio.shield(item.future)

    async def _flush_all(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            group, self._pending = self._pending, []
            try:
                results = await loop.run_in_executor(self._runner, self._flush, group)
            except BaseException as exc:  # noqa: BLE001 - handed to every waiting upload
                results = [exc] * len(group)
            for item, result in zip(group, results, strict=True):
                if item.future.done():
                    continue
                if isinstance(result, BaseException):
                    item.future.set_exception(result)
                else:
                    item.future.set_result(result)

    def _flush(self, group: list[_Item]) -> list[Received | BaseException]:
        results: list[Received | BaseException | None] = [None] * len(group)
        placed: dict[int, list[tuple[StoredBlob, object]]] = {}
        futures = {index: [self._pool.submit(writer.sync_and_place) for writer in item.writers] for index, item in enumerate(group)}
        for index, item in enumerate(group):
            blobs = []
            for future in futures[index]:
                try:
                    blobs.append(future.result())
                except BaseException as exc:  # noqa: BLE001 - this upload fails, the others go on
                    results[index] = exc
            if results[index] is not None:
                for writer in item.writers:
                    writer.abort()
            else:
                placed[index] = blobs  # type: ignore[assignment]
        try:
            folders = dict.fromkeys(folder for blobs in placed.values() for _blob, folder in blobs)
            list(self._pool.map(fsync_dir, folders))
            batch = [
                (group[index].new, [StoredFile(position, slot, name, blob) for position, ((slot, name), (blob, _f)) in enumerate(zip(group[index].names, blobs, strict=True))])
                for index, blobs in placed.items()
            ]
            created = self.repository.create_many(batch)
        except BaseException as exc:  # noqa: BLE001 - the group's record failed: every upload in it fails
            for index in placed:
                results[index] = exc
            return results  # type: ignore[return-value]
        for (index, _blobs), (submission_id, was_created), (_new, files) in zip(placed.items(), created, batch, strict=True):
            results[index] = Received(submission_id, was_created, files)
        return results  # type: ignore[return-value]

    def close(self) -> None:
        self._runner.shutdown(wait=True)
        self._pool.shutdown(wait=True)
