"""The blob writer does no file-system work until its first chunk (the event loop makes
writers; only the upload threads touch the disk), and an empty part is still a stored file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from gateway.store.blobs import BlobStore


def test_making_a_writer_creates_no_file_until_the_first_chunk(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "files")
    writer = store.writer()
    assert list(store.tmp.iterdir()) == []
    writer.write(b"first chunk")
    assert len(list(store.tmp.iterdir())) == 1
    writer.abort()
    assert list(store.tmp.iterdir()) == []


def test_a_writer_aborted_before_any_chunk_leaves_nothing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "files")
    store.writer().abort()
    assert list(store.tmp.iterdir()) == []


def test_an_empty_part_is_stored_as_an_empty_file_under_its_digest(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "files")
    writer = store.writer()
    writer.finish()
    (blob,) = store.commit([writer])
    assert blob.key == hashlib.sha256(b"").hexdigest() and blob.size == 0
    assert store.path(blob.key).read_bytes() == b""
    assert list(store.tmp.iterdir()) == []


def test_a_name_left_by_a_crash_over_incomplete_data_is_replaced_by_the_upload(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "files")
    data = b"the member's report, complete"
    left = store.path(hashlib.sha256(data).hexdigest())
    left.parent.mkdir(parents=True)
    left.write_bytes(b"the member's rep")  # linked, then the power went before its fsync
    writer = store.writer()
    writer.write(data)
    (blob,) = store.commit([writer])
    assert store.path(blob.key).read_bytes() == data
    assert list(store.tmp.iterdir()) == []


def test_a_new_blob_keeps_no_second_name_in_the_temporary_folder(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "files")
    writer = store.writer()
    writer.write(b"new content")
    (blob,) = store.commit([writer])
    assert store.path(blob.key).read_bytes() == b"new content"
    assert store.path(blob.key).stat().st_nlink == 1
    assert list(store.tmp.iterdir()) == []
