"""The upload path (issue 13, section 4). Each digest of an uploaded file is computed once:
the upload takes SHA-256 while it streams in; Streebog-256 is computed by the validation
worker, recorded with the file under its SHA-256, and handed to the verifier, which does
not read the file again for it. Uploads finishing together are made durable in one group."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from aiohttp.test_utils import TestClient

from gateway.config import Config
from gateway.pipeline.worker import PackageRequest, run_validation
from tests.conftest import REPO
from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.servers.packages import MEMBER, REPORT, decided, report_zip, run_package, submit
from validators.catalogue import Slot
from validators.digests import SHA256, STREEBOG_256, FileDigests
from validators.members import MemberList
from validators.package import UploadedFile
from validators.signatures.verify import VerificationPolicy
from validators.trust import load_trust_store


def openssl_streebog(path: Path) -> str:
    """Streebog-256 by the openssl command line (an independent reference)."""
    run = subprocess.run(
        ["openssl", "dgst", "-md_gost12_256", "-r", str(path)],
        env={**os.environ, "OPENSSL_CONF": str(REPO / "certs" / "openssl-gost.cnf")},
        capture_output=True,
        text=True,
        check=True,
    )
    return run.stdout.split()[0]


def file_rows(config: Config) -> list[sqlite3.Row]:
    connection = sqlite3.connect(config.storage.data_dir / "gateway.sqlite3")
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute("SELECT * FROM files ORDER BY submission_id, position").fetchall()
    finally:
        connection.close()


async def test_validation_records_the_streebog_digest_of_each_upload_with_the_file(client: TestClient, config: Config, pki: TestPki, tmp_path: Path) -> None:
    package = report_zip(pki, tmp_path)
    report = await run_package(client, REPORT, {"document": [package]})
    expected = openssl_streebog(package)
    assert report["files"][0]["streebog256"] == expected
    [row] = file_rows(config)
    assert (row["sha256"], row["streebog256"]) == (report["files"][0]["sha256"], expected)


async def test_a_recorded_streebog_digest_is_reused_for_the_same_bytes(client: TestClient, config: Config, pki: TestPki, tmp_path: Path) -> None:
    package = report_zip(pki, tmp_path)
    await run_package(client, {**REPORT, "external_id": "first"}, {"document": [package]})
    marker = "ab" * 32
    connection = sqlite3.connect(config.storage.data_dir / "gateway.sqlite3")
    connection.execute("UPDATE files SET streebog256 = ?", (marker,))
    connection.commit()
    connection.close()
    response = await submit(client, {**REPORT, "external_id": "second"}, {"document": [package]})
    second = await decided(client, (await response.json())["id"])
    # Found under the file's SHA-256 and taken as it is: the file was not hashed again.
    assert second["files"][0]["streebog256"] == marker
    assert second["decision"] == "accepted"


def test_the_verifier_uses_the_digests_handed_to_it(config: Config, pki: TestPki, tmp_path: Path) -> None:
    regulation = pdfs.make_pdf(tmp_path / "Положение.pdf", "Regulation")
    signature = pki.sign("head256", regulation, tmp_path / "Положение.pdf.sig")
    files = [UploadedFile(Slot.DOCUMENT, regulation.name, regulation), UploadedFile(Slot.SIGNATURE, signature.name, signature)]
    members, trust, policy = MemberList(config.storage.members_csv), load_trust_store(config.verification.trust_dir), VerificationPolicy()
    scratch = config.storage.data_dir

    def validate(known: dict[str, bytes]) -> dict[str, object]:
        request = PackageRequest(MEMBER, "regulation", None, "loans", files, file_digests={regulation: FileDigests(regulation, known=known)})
        return run_validation(request, config, members, trust, policy, scratch)[1].to_json()

    right = FileDigests(regulation).get([SHA256, STREEBOG_256])
    assert validate(right)["decision"] == "accepted"
    # A wrong Streebog handed over is what the verifier compares with the signed digest:
    # proof that it takes the digest it is given instead of reading the file again.
    forged = validate({SHA256: right[SHA256], STREEBOG_256: bytes(32)})
    assert forged["decision"] == "rejected"
    assert forged["files"][0]["streebog256"] == "00" * 32  # type: ignore[index]


async def test_concurrent_uploads_with_one_external_id_record_one_submission(client: TestClient, config: Config, pki: TestPki, tmp_path: Path) -> None:
    import asyncio

    package = report_zip(pki, tmp_path)
    responses = await asyncio.gather(*(submit(client, {**REPORT, "external_id": "same"}, {"document": [package]}) for _ in range(12)))
    ids = {(await r.json())["id"] for r in responses}
    assert len(ids) == 1  # uploads committed in one group still see each other
    assert sorted(r.status for r in responses) == [200] * 11 + [202]


async def test_file_parts_of_any_size_around_the_read_chunk_are_stored_byte_for_byte(client: TestClient, config: Config, tmp_path: Path) -> None:
    """Each chunk of a part waits for the next before it is written, the last one is written
    with the close: none may be lost or written twice, whether the part is one chunk or many."""
    import hashlib
    import io

    import aiohttp

    from gateway.store.blobs import BlobStore

    chunk = 1 << 20  # what the form reader asks aiohttp for at a time
    sizes = [1, chunk - 1, chunk, chunk + 1, 2 * chunk + 12345]
    for size in sizes:
        upload = tmp_path / f"{size}.zip"
        upload.write_bytes(hashlib.sha256(str(size).encode()).digest() * (size // 32) + b"x" * (size % 32))
        form = aiohttp.FormData({**REPORT, "external_id": f"size-{size}"})
        form.add_field("document", io.BytesIO(upload.read_bytes()), filename=upload.name)  # aiohttp warns of large raw bytes
        response = await client.post("/api/v1/submissions", data=form)
        assert response.status == 202, await response.text()
    rows = file_rows(config)
    assert sorted(row["size"] for row in rows) == sizes
    blobs = BlobStore(config.storage.data_dir / "files")
    for row in rows:
        stored = blobs.path(row["blob"]).read_bytes()
        assert (len(stored), hashlib.sha256(stored).hexdigest()) == (row["size"], row["sha256"])
        assert stored == (tmp_path / f"{row['size']}.zip").read_bytes()
