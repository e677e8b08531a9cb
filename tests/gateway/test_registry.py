"""Registry delivery: the HTTP client against a real aiohttp server on 127.0.0.1, and the
embedded local registry (numbering, idempotency, concurrency, filing, crash leftovers)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import os
import socket
import sqlite3
import sys
import textwrap
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.delivery.errors import PermanentDelivery, RetryableDelivery
from gateway.delivery.registry import local as local_module
from gateway.delivery.registry.client import HttpRegistry, parse_retry_after
from gateway.delivery.registry.local import LocalRegistry
from gateway.delivery.registry.model import OutgoingPackage, RegistryReceipt
from gateway.store.files import safe_file_name
from tests.pki.tls import localhost_tls

REPO = Path(__file__).resolve().parents[2]
RECEIPT = {"incoming_number": "ВХ-2026-000042", "registered_at": "2026-05-09T10:00:00Z"}


def _package(tmp_path: Path, submission_id: str = "sub-1", files: dict[str, bytes] | None = None) -> OutgoingPackage:
    files = files if files is not None else {"Отчёт за 1 квартал.pdf": b"%PDF-1.7 report", "Отчёт за 1 квартал.pdf.sig": b"\x30\x82sig"}
    stored: list[tuple[str, Path]] = []
    for index, (name, content) in enumerate(files.items()):
        path = tmp_path / f"blob-{submission_id}-{index}"
        path.write_bytes(content)
        stored.append((name, path))
    metadata = {
        "submission_id": submission_id,
        "member": {"number": "123", "name": "КПК «Взаимопомощь»"},
        "doc_type": "report",
        "files": [{"name": name, "size": len(content)} for name, content in files.items()],
    }
    return OutgoingPackage(submission_id, metadata, stored)


# -- HTTP registry ---------------------------------------------------------------------------


@dataclass
class Received:
    """What the fake registry saw of one request."""

    idempotency_key: str | None = None
    metadata: Any = None
    metadata_content_type: str | None = None
    files: list[tuple[str | None, bytes]] = field(default_factory=list)
    sha256: list[str] = field(default_factory=list)


async def _read_request(request: web.Request, keep_bytes: bool = True) -> Received:
    received = Received(idempotency_key=request.headers.get("Idempotency-Key"))
    reader = await request.multipart()
    async for part in reader:
        assert isinstance(part, aiohttp.BodyPartReader)
        if part.name == "metadata":
            received.metadata_content_type = part.headers.get("Content-Type")
            received.metadata = json.loads((await part.read()).decode("utf-8"))
        else:
            assert part.name == "file"
            digest, chunks = hashlib.sha256(), []
            while chunk := await part.read_chunk(64 * 1024):
                digest.update(chunk)
                if keep_bytes:
                    chunks.append(chunk)
            received.files.append((part.filename, b"".join(chunks)))
            received.sha256.append(digest.hexdigest())
    return received


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _registry_server(aiohttp_server: Callable[..., Awaitable[TestServer]], handler: Handler, **kwargs: Any) -> str:
    app = web.Application()
    app.router.add_post("/base/incoming", handler)
    server = await aiohttp_server(app, **kwargs)
    return str(server.make_url("/base"))


async def _deliver(url: str, package: OutgoingPackage, **kwargs: Any) -> RegistryReceipt:
    async with aiohttp.ClientSession() as session:
        return await HttpRegistry(url, session, **kwargs).deliver(package)


async def test_http_success_sends_metadata_files_and_idempotency_key(aiohttp_server: Any, tmp_path: Path) -> None:
    seen: list[Received] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(await _read_request(request))
        return web.json_response(RECEIPT, status=201)

    url = await _registry_server(aiohttp_server, handler)
    package = _package(tmp_path)
    receipt = await _deliver(url + "/", package)  # a trailing slash in the configured URL is fine

    assert receipt == RegistryReceipt(RECEIPT["incoming_number"], RECEIPT["registered_at"])
    (got,) = seen
    assert got.idempotency_key == "sub-1"
    assert got.metadata == json.loads(json.dumps(package.metadata))
    assert got.metadata_content_type is not None and got.metadata_content_type.startswith("application/json")
    assert got.files == [("Отчёт за 1 квартал.pdf", b"%PDF-1.7 report"), ("Отчёт за 1 квартал.pdf.sig", b"\x30\x82sig")]


async def test_http_metadata_is_utf8_not_ascii_escaped(aiohttp_server: Any, tmp_path: Path) -> None:
    raw: list[bytes] = []

    async def handler(request: web.Request) -> web.Response:
        raw.append(await request.read())
        return web.json_response(RECEIPT)

    url = await _registry_server(aiohttp_server, handler)
    await _deliver(url, _package(tmp_path))
    assert "КПК «Взаимопомощь»".encode() in raw[0]


async def test_http_file_name_with_quote_arrives_readable(aiohttp_server: Any, tmp_path: Path) -> None:
    seen: list[Received] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(await _read_request(request))
        return web.json_response(RECEIPT)

    url = await _registry_server(aiohttp_server, handler)
    await _deliver(url, _package(tmp_path, files={'Устав "новый".pdf': b"x"}))
    assert seen[0].files == [("Устав %22новый%22.pdf", b"x")]  # WHATWG form encoding of '"'


@pytest.mark.parametrize("status", [500, 502, 503, 408, 409])
async def test_http_server_trouble_is_retryable(aiohttp_server: Any, tmp_path: Path, status: int) -> None:
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=status, text="maintenance")

    url = await _registry_server(aiohttp_server, handler)
    with pytest.raises(RetryableDelivery) as caught:
        await _deliver(url, _package(tmp_path))
    assert str(status) in caught.value.detail and "maintenance" in caught.value.detail
    assert caught.value.retry_after is None


async def test_http_429_honours_retry_after_seconds(aiohttp_server: Any, tmp_path: Path) -> None:
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=429, headers={"Retry-After": "7"}, text="slow down")

    url = await _registry_server(aiohttp_server, handler)
    with pytest.raises(RetryableDelivery) as caught:
        await _deliver(url, _package(tmp_path))
    assert caught.value.retry_after == 7


def test_retry_after_http_date_and_garbage() -> None:
    now = dt.datetime(2026, 5, 9, 10, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("Sat, 09 May 2026 10:01:30 GMT", now=now) == 90
    assert parse_retry_after("Sat, 09 May 2026 09:00:00 GMT", now=now) == 0  # in the past
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


async def test_http_timeout_is_retryable(aiohttp_server: Any, tmp_path: Path) -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), 5)
        return web.json_response(RECEIPT)

    url = await _registry_server(aiohttp_server, handler)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(RetryableDelivery) as caught:
            await _deliver(url, _package(tmp_path), timeout=0.3)
    finally:
        release.set()
    assert loop.time() - started < 3
    assert "0.3 s" in caught.value.detail


async def test_http_400_is_permanent_with_registry_message(aiohttp_server: Any, tmp_path: Path) -> None:
    message = "Поле member.number не найдено в реестре членов СРО" + " x" * 2000

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"error": message}, status=400)

    url = await _registry_server(aiohttp_server, handler)
    with pytest.raises(PermanentDelivery) as caught:
        await _deliver(url, _package(tmp_path))
    assert "400" in caught.value.detail
    assert "Поле member.number не найдено в реестре членов СРО" in caught.value.detail
    assert len(caught.value.detail) < 1100  # the body is truncated to 1000 characters


async def test_http_2xx_without_receipt_is_permanent(aiohttp_server: Any, tmp_path: Path) -> None:
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"status": "ok", "registered_at": "2026-05-09T10:00:00Z"})

    url = await _registry_server(aiohttp_server, handler)
    with pytest.raises(PermanentDelivery) as caught:
        await _deliver(url, _package(tmp_path))
    assert "incoming_number" in caught.value.detail and '"status": "ok"' in caught.value.detail


async def test_http_nothing_listening_is_retryable(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RetryableDelivery) as caught:
        await _deliver(f"http://127.0.0.1:{port}", _package(tmp_path), timeout=5)
    assert "cannot reach" in caught.value.detail


async def test_http_missing_stored_file_is_permanent(tmp_path: Path) -> None:
    package = _package(tmp_path)
    package.files[0][1].unlink()
    with pytest.raises(PermanentDelivery, match="missing"):
        await _deliver("http://127.0.0.1:9", package)


async def test_http_large_file_is_streamed(aiohttp_server: Any, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with big.open("wb") as file:
        for _ in range(10):
            chunk = os.urandom(1024 * 1024)
            digest.update(chunk)
            file.write(chunk)
    seen: list[Received] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(await _read_request(request, keep_bytes=False))
        return web.json_response(RECEIPT)

    url = await _registry_server(aiohttp_server, handler)
    package = OutgoingPackage("sub-big", {"submission_id": "sub-big"}, [("Большой архив.zip", big)])
    async with aiohttp.ClientSession() as session:
        registry = HttpRegistry(url, session)
        tracemalloc.start()
        try:
            await registry.deliver(package)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert seen[0].sha256 == [digest.hexdigest()]
    assert seen[0].files[0][0] == "Большой архив.zip"
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes: the file was held in memory"


def _tls_material(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 it issued (PEM files)."""
    return localhost_tls(tmp_path, "Test registry CA")


async def test_https_with_ca_bundle_and_without(aiohttp_server: Any, tmp_path: Path) -> None:
    import ssl

    ca_path, cert_path, key_path = _tls_material(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_path, key_path)

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response(RECEIPT)

    url = await _registry_server(aiohttp_server, handler, ssl=server_context)
    assert url.startswith("https://")
    assert (await _deliver(url, _package(tmp_path), ca_bundle=ca_path)).incoming_number == RECEIPT["incoming_number"]
    with pytest.raises(RetryableDelivery, match="TLS"):
        await _deliver(url, _package(tmp_path, "sub-2"))  # system CAs do not know the test CA


async def test_http_open_owns_its_session(aiohttp_server: Any, tmp_path: Path) -> None:
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response(RECEIPT)

    url = await _registry_server(aiohttp_server, handler)
    async with HttpRegistry.open(url, timeout=5) as registry:
        assert (await registry.deliver(_package(tmp_path))).registered_at == RECEIPT["registered_at"]


# -- local registry --------------------------------------------------------------------------


class Clock:
    """A settable clock."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def _local(tmp_path: Path, clock: Callable[[], dt.datetime] | None = None) -> LocalRegistry:
    clock = clock or Clock(dt.datetime(2026, 5, 9, 10, 0, tzinfo=dt.UTC))
    return LocalRegistry(tmp_path / "registry.sqlite", tmp_path / "incoming", clock)


def _numbers(receipts: list[RegistryReceipt]) -> list[str]:
    return sorted(r.incoming_number for r in receipts)


def _expected(year: int, count: int) -> list[str]:
    return [f"ВХ-{year}-{n:06d}" for n in range(1, count + 1)]


async def test_local_numbers_in_sequence(tmp_path: Path) -> None:
    registry = _local(tmp_path)
    first = await registry.deliver(_package(tmp_path, "a"))
    second = await registry.deliver(_package(tmp_path, "b"))
    assert (first.incoming_number, second.incoming_number) == ("ВХ-2026-000001", "ВХ-2026-000002")
    assert first.registered_at == "2026-05-09T10:00:00Z"


async def test_local_same_submission_twice_keeps_its_number(tmp_path: Path) -> None:
    registry = _local(tmp_path)
    first = await registry.deliver(_package(tmp_path, "a"))
    again = await registry.deliver(_package(tmp_path, "a"))
    assert again == first
    assert (await registry.deliver(_package(tmp_path, "b"))).incoming_number == "ВХ-2026-000002"
    assert sorted(p.name for p in (tmp_path / "incoming" / "2026").iterdir()) == ["ВХ-2026-000001", "ВХ-2026-000002"]


async def test_local_concurrent_deliveries_are_gap_free(tmp_path: Path) -> None:
    registry = _local(tmp_path)
    packages = [_package(tmp_path, f"s{i}") for i in range(50)]
    receipts = await asyncio.wait_for(asyncio.gather(*(registry.deliver(p) for p in packages)), 60)
    assert _numbers(receipts) == _expected(2026, 50)
    # the same submissions delivered again, concurrently, change nothing
    again = await asyncio.wait_for(asyncio.gather(*(registry.deliver(p) for p in packages)), 60)
    assert again == receipts
    assert len(list((tmp_path / "incoming" / "2026").iterdir())) == 50
    assert list((tmp_path / "incoming" / ".staging").iterdir()) == []


async def test_local_two_instances_on_one_database_are_gap_free(tmp_path: Path) -> None:
    one, two = _local(tmp_path), _local(tmp_path)
    packages = [_package(tmp_path, f"s{i}") for i in range(40)]
    receipts = await asyncio.wait_for(
        asyncio.gather(*((one if i % 2 else two).deliver(p) for i, p in enumerate(packages))), 60
    )
    assert _numbers(receipts) == _expected(2026, 40)
    # the same submission through both instances at once: one number
    a, b = await asyncio.gather(one.deliver(_package(tmp_path, "x")), two.deliver(_package(tmp_path, "x")))
    assert a == b and a.incoming_number == "ВХ-2026-000041"


async def test_local_another_process_on_one_database_is_gap_free(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, datetime as dt, pathlib
        from gateway.delivery.registry.local import LocalRegistry
        from gateway.delivery.registry.model import OutgoingPackage
        tmp = pathlib.Path({str(tmp_path)!r})
        clock = lambda: dt.datetime(2026, 5, 9, 10, 0, tzinfo=dt.timezone.utc)
        registry = LocalRegistry(tmp / "registry.sqlite", tmp / "incoming", clock)
        blob = tmp / "child-blob"
        blob.write_bytes(b"child")
        async def main():
            await asyncio.gather(*(registry.deliver(OutgoingPackage(f"child-{{i}}", {{}}, [("a.pdf", blob)])) for i in range(25)))
        asyncio.run(main())
        """
    )
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", script, cwd=REPO)
    registry = _local(tmp_path)
    mine = await asyncio.gather(*(registry.deliver(_package(tmp_path, f"parent-{i}")) for i in range(25)))
    assert await asyncio.wait_for(child.wait(), 60) == 0
    with sqlite3.connect(tmp_path / "registry.sqlite") as connection:
        numbers = sorted(row[0] for row in connection.execute("SELECT number FROM incoming"))
    connection.close()
    assert numbers == _expected(2026, 50)
    assert {r.incoming_number for r in mine} <= set(numbers)


async def test_local_files_the_package(tmp_path: Path) -> None:
    registry = _local(tmp_path)
    package = _package(
        tmp_path,
        "a",
        files={"Отчёт.pdf": b"report", "../../etc/passwd": b"evil", "отчёт.PDF": b"same name but case", "metadata.json": b"{}"},
    )
    receipt = await registry.deliver(package)
    folder = tmp_path / "incoming" / "2026" / receipt.incoming_number
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["Отчёт.pdf", "passwd", "отчёт (2).PDF", "metadata (2).json", "metadata.json", "receipt.json"]
    )
    assert (folder / "Отчёт.pdf").read_bytes() == b"report"
    assert (folder / "passwd").read_bytes() == b"evil"
    assert json.loads((folder / "metadata.json").read_text("utf-8")) == package.metadata
    filed = json.loads((folder / "receipt.json").read_text("utf-8"))
    assert filed["incoming_number"] == receipt.incoming_number and filed["submission_id"] == "a"
    assert {"name": "../../etc/passwd", "stored_as": "passwd"} in filed["files"]


async def test_local_new_year_restarts_numbering(tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2026, 12, 31, 12, 0, tzinfo=dt.UTC))
    registry = _local(tmp_path, clock)
    assert (await registry.deliver(_package(tmp_path, "a"))).incoming_number == "ВХ-2026-000001"
    assert (await registry.deliver(_package(tmp_path, "b"))).incoming_number == "ВХ-2026-000002"
    clock.now = dt.datetime(2027, 1, 1, 12, 0, tzinfo=dt.UTC)
    receipt = await registry.deliver(_package(tmp_path, "c"))
    assert receipt == RegistryReceipt("ВХ-2027-000001", "2027-01-01T12:00:00Z")
    assert (tmp_path / "incoming" / "2027" / "ВХ-2027-000001" / "metadata.json").is_file()


async def test_local_year_follows_moscow_time(tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2026, 12, 31, 21, 30, tzinfo=dt.UTC))  # 00:30 on 1 January in Moscow
    receipt = await _local(tmp_path, clock).deliver(_package(tmp_path, "a"))
    assert receipt == RegistryReceipt("ВХ-2027-000001", "2026-12-31T21:30:00Z")


async def test_local_failed_rename_consumes_no_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _local(tmp_path)
    real_rename = os.rename

    def failing_rename(source: Any, target: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(local_module.os, "rename", failing_rename)
    with pytest.raises(RetryableDelivery, match="No space left"):
        await registry.deliver(_package(tmp_path, "a"))
    monkeypatch.setattr(local_module.os, "rename", real_rename)
    assert (await registry.deliver(_package(tmp_path, "b"))).incoming_number == "ВХ-2026-000001"
    assert list((tmp_path / "incoming" / ".staging").iterdir()) == []


async def test_local_orphan_from_crash_before_commit_is_set_aside(tmp_path: Path) -> None:
    # a crash between the rename and the commit leaves a whole folder the database does not know
    orphan = tmp_path / "incoming" / "2026" / "ВХ-2026-000001"
    orphan.mkdir(parents=True)
    (orphan / "metadata.json").write_text('{"submission_id": "crashed"}', "utf-8")
    registry = _local(tmp_path)
    receipt = await registry.deliver(_package(tmp_path, "a"))
    assert receipt.incoming_number == "ВХ-2026-000001"
    assert json.loads((orphan / "metadata.json").read_text("utf-8"))["submission_id"] == "a"
    (aside,) = (tmp_path / "incoming" / ".orphaned").iterdir()
    assert aside.name.startswith("ВХ-2026-000001-")


async def test_local_missing_stored_file_is_permanent(tmp_path: Path) -> None:
    registry = _local(tmp_path)
    package = _package(tmp_path, "a")
    package.files[1][1].unlink()
    with pytest.raises(PermanentDelivery, match="missing"):
        await registry.deliver(package)
    assert (await registry.deliver(_package(tmp_path, "b"))).incoming_number == "ВХ-2026-000001"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("Отчёт.pdf", "Отчёт.pdf"),
        ("C:\\Users\\kpk\\Устав.pdf", "Устав.pdf"),
        ("..", "file"),
        ("a<b>:c?.pdf", "a_b__c_.pdf"),
        ("CON.txt", "_CON.txt"),
        ("я" * 300 + ".pdf", "я" * 98 + ".pdf"),
    ],
)
def test_safe_file_name(name: str, safe: str) -> None:
    assert safe_file_name(name) == safe
