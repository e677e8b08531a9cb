"""Bounded cost per request (issue 9, section 4) against the real server on 127.0.0.1:
parts and open files per upload, form fields cut off while read, JSON bodies capped
before parsing, malformed part headers, API keys kept out of the log, /healthz without
paths. Every wait is bounded."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import AuthConfig, Config, ServerConfig, StorageConfig
from tests.pki.builder import TestPki
from tests.servers.gateway import Gateway, free_port, gateway_config, submission_rows
from tests.servers.packages import MEMBER, REPORT

ClientFactory = Callable[..., Awaitable[TestClient]]
KEYS = {"portal": "portal-Secret-4f1c2a", "staff": "staff-Secret-9b7e3d", "registry": "registry-Secret-0a8c6f"}
BOUNDARY = "bnd"


@pytest.fixture
def server(pki: TestPki, tmp_path: Path) -> Iterator[Gateway]:
    """The real gateway with API keys, 5 s body timeout (a stalled upload stays open long
    enough to look at it); its log holds no traceback at the end."""
    yield from _running_gateway(pki, tmp_path)


@pytest.fixture(scope="module")
def shared_server(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One such gateway for the tests whose requests are all refused (nothing is stored):
    starting a process per case cost seconds each; a traceback in its log still fails."""
    yield from _running_gateway(pki, tmp_path_factory.mktemp("shared-gateway"))


def _running_gateway(pki: TestPki, tmp_path: Path) -> Iterator[Gateway]:
    port = free_port()
    auth = "[auth]\napi_keys = {" + ", ".join(f'{role} = "{key}"' for role, key in KEYS.items()) + "}\n"
    log = open(tmp_path / "gateway.log", "ab")  # noqa: SIM115 - closed below
    process = Gateway(gateway_config(tmp_path, pki, port, extra=auth, body_timeout=5.0), port, log)
    process.start()
    yield process
    process.stop()
    log.close()
    assert "Traceback" not in (tmp_path / "gateway.log").read_text(encoding="utf-8", errors="replace")


def field(name: str, value: bytes) -> bytes:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"


def file_part(name: str, filename: str, data: bytes) -> bytes:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n\r\n'.encode() + data + b"\r\n"


def request_head(path: str, length: int, key: str = KEYS["portal"], content_type: str = f"multipart/form-data; boundary={BOUNDARY}") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


def answer(sock: socket.socket) -> tuple[int, dict[str, object]]:
    """Status and JSON body of the response on ``sock`` (the server may keep reading the
    rest of an unfinished body for a while: the answer is read by its Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed without an answer: {data[:200]!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), json.loads(body) if body else {}


def post(server: Gateway, path: str, body: bytes, key: str = KEYS["portal"], declared: int | None = None) -> tuple[int, dict[str, object]]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request_head(path, len(body) if declared is None else declared, key) + body)
        return answer(sock)


#: aiohttp reads a part with a look-ahead of up to one read size (1 MiB here) past it: an
#: unfinished upload must send that much more for the server to get through its parts.
LOOKAHEAD = (1 << 20) + (100 << 10)


def held(server: Gateway) -> list[str]:
    """The server's descriptors other than SQLite's (each new worker thread opens its own
    database connection, three files, whenever the thread pool grows)."""
    return [d for d in server.descriptors() if ".sqlite3" not in d]


def temp_uploads(tmp_path: Path) -> list[Path]:
    return list((tmp_path / "var" / "files" / "tmp").glob("upload-*"))


# --- parts and open files ----------------------------------------------------------------------


def test_upload_of_a_thousand_one_byte_parts_is_cut_off_with_413_and_open_files_stay_bounded(server: Gateway, tmp_path: Path) -> None:
    before = held(server)
    body = field("member", MEMBER.encode()) + field("doc_type", b"report") + b"".join(file_part("signature", f"{i}.sig", b"x") for i in range(1000))
    body += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachment"; filename="a.zip"\r\n\r\n'.encode() + bytes(LOOKAHEAD)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        # Declared longer than sent: the upload never finishes on its own.
        sock.sendall(request_head("/api/v1/submissions", len(body) + 1000) + body)
        status, reply = answer(sock)
    assert status == 413
    assert reply["error"]["code"] == "request.too_many_parts"  # type: ignore[index]
    assert "не более 32" in reply["error"]["message_ru"]  # type: ignore[index]
    assert len(held(server)) <= len(before) + 1, (before, held(server))  # + the socket, while aiohttp drains it
    assert temp_uploads(tmp_path) == []
    assert submission_rows(tmp_path / "var") == []


def test_unfinished_upload_holds_one_open_file_however_many_parts_it_has(server: Gateway, tmp_path: Path) -> None:
    before = len(held(server))
    body = field("member", MEMBER.encode()) + field("doc_type", b"report") + b"".join(file_part("signature", f"{i}.sig", b"x") for i in range(25))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        # A 26th part that stalls in the middle: the request stays open.
        body += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachment"; filename="a.zip"\r\n\r\n'.encode() + bytes(LOOKAHEAD)
        sock.sendall(request_head("/api/v1/submissions", len(body) + 1000) + body)
        deadline = time.monotonic() + 4
        while len(temp_uploads(tmp_path)) < 26 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(temp_uploads(tmp_path)) == 26  # every part has been reached, the request is still open
        during = held(server)
        status, _reply = answer(sock)  # the body stalls: 408 after the body timeout
    assert len([d for d in during if "/files/tmp/upload-" in d]) == 1, during
    assert len(during) - before <= 2, during  # the socket and the file being written
    assert status == 408
    assert temp_uploads(tmp_path) == []


# --- form fields -------------------------------------------------------------------------------


def test_overlong_form_field_is_refused_while_it_is_read(server: Gateway) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        partial = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="member"\r\n\r\n'.encode() + b"9" * 5000
        # The field has not ended (and never will): a reader that waits for its end
        # before measuring it would answer 408 after 5 s, not 400 at once.
        sock.sendall(request_head("/api/v1/submissions", len(partial) + (10 << 20)) + partial)
        status, reply = answer(sock)
    assert status == 400 and reply["error"]["code"] == "request.field"  # type: ignore[index]
    assert reply["error"]["message_ru"] == "Поле member слишком длинное."  # type: ignore[index]
    assert time.monotonic() - started < 3


async def test_field_of_the_allowed_length_is_read(aiohttp_client: ClientFactory, config: Config) -> None:
    client = await aiohttp_client(create_app(config))
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("member", "я" * 256)  # 512 bytes of UTF-8, 256 characters: allowed
    form.add_field("doc_type", "report")
    response = await client.post("/api/v1/submissions", data=form)
    assert (await response.json())["error"]["code"] == "request.no_files"
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("member", "я" * 257)
    response = await client.post("/api/v1/submissions", data=form)
    assert response.status == 400 and (await response.json())["error"]["code"] == "request.field"


# --- malformed part headers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        b'Content-Disposition: form-data; name="member"\x00',
        b'Content-Disposition: form-data; name="document"; filename="a\x00b.zip"',
        b"Content-Disposition form-data without a colon",
        b"\x00\x01\x02",
        b"X-Long: " + b"a" * 200_000,
    ],
    ids=["nul-in-name", "nul-in-filename", "no-colon", "binary", "huge-line"],
)
@pytest.mark.parametrize("path", ["/api/v1/submissions", "/api/v1/verify"])
def test_malformed_part_header_is_a_400_in_russian(shared_server: Gateway, header: bytes, path: str) -> None:
    body = f"--{BOUNDARY}\r\n".encode() + header + b"\r\n\r\nvalue\r\n" + f"--{BOUNDARY}--\r\n".encode()
    status, reply = post(shared_server, path, body)
    assert status == 400, reply
    assert reply["error"]["code"] == "request.malformed"  # type: ignore[index]
    assert reply["error"]["message_ru"].startswith("Запрос повреждён")  # type: ignore[index]
    # The fixture checks that the log holds no traceback.


@pytest.mark.parametrize(
    "body",
    [
        b'--bnd\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\n' + b"x" * 40 + b"\r\n--bnd--\r\n",
        b'--bnd\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\n\xff\xfe\r\n--bnd--\r\n',
        b"--bnd\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n--inner\r\n\r\nx\r\n--inner--\r\n\r\n--bnd--\r\n",
        b"--bndX\r\n\r\n",
        b"\x00" * 100,
        b'--bnd\r\nContent-Disposition: form-data; name="member"\r\n\r\n42',
    ],
    ids=["overlong-charset", "undecodable-charset", "nested-multipart", "wrong-boundary", "nul-bytes", "truncated"],
)
@pytest.mark.parametrize("path", ["/api/v1/submissions", "/api/v1/verify"])
async def test_broken_form_is_a_400_not_a_500(aiohttp_client: ClientFactory, config: Config, body: bytes, path: str) -> None:
    client = await aiohttp_client(create_app(config))
    response = await client.post(path, data=body, headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert response.status == 400, await response.text()
    assert (await response.json())["error"]["message_ru"].startswith("Запрос повреждён")


@pytest.mark.parametrize("length", [1019, 1020, 1024, 1025, 9000])
async def test_field_around_the_read_size_is_read_or_refused_cleanly(aiohttp_client: ClientFactory, config: Config, length: int) -> None:
    client = await aiohttp_client(create_app(config))
    body = field("doc_type", b"report") + field("member", b"9" * length) + f"--{BOUNDARY}--\r\n".encode()
    response = await client.post("/api/v1/submissions", data=body, headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert response.status == 400 and (await response.json())["error"]["code"] == "request.field"


# --- JSON bodies ---------------------------------------------------------------------------------


def test_json_event_declared_over_a_mebibyte_is_refused_before_it_is_read(server: Gateway) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request_head("/api/v1/registry/events", (1 << 20) + 1, KEYS["registry"], "application/json") + b'{"decision": "')
        status, reply = answer(sock)
    assert status == 413 and reply["error"]["code"] == "request.too_large"  # type: ignore[index]


@pytest.mark.parametrize("path", ["/api/v1/registry/events", "/api/v1/notices"])
async def test_json_body_over_the_configured_limit_is_413_and_under_it_is_parsed(aiohttp_client: ClientFactory, config: Config, path: str) -> None:
    small = dataclasses.replace(config, server=dataclasses.replace(config.server, max_json_bytes=2000), auth=AuthConfig(api_keys=KEYS))
    client = await aiohttp_client(create_app(small))
    headers = {"X-API-Key": KEYS["registry"], "Content-Type": "application/json"}

    async def chunked(data: bytes):  # type: ignore[no-untyped-def] - no Content-Length: the limit must hold while reading
        for start in range(0, len(data), 500):
            yield data[start : start + 500]

    big = json.dumps({"kind": "mass", "subject": "s", "body": "x" * 3000}).encode()
    response = await client.post(path, data=chunked(big), headers=headers)
    assert response.status == 413 and (await response.json())["error"]["message_ru"] == "Запрос слишком большой."
    response = await client.post(path, data=b'{"kind": "unknown"}', headers=headers)
    assert response.status == 400  # read and parsed: the handler's own answer
    response = await client.post(path, data=b"{not json", headers=headers)
    assert response.status == 400 and (await response.json())["error"]["code"] == "request.malformed"


# --- API keys never in the log ---------------------------------------------------------------------


def test_api_keys_appear_in_no_log_line(server: Gateway, tmp_path: Path) -> None:
    for key in KEYS.values():
        # In the header, in the query, in the path; on good, refused and malformed requests.
        post(server, f"/api/v1/submissions?api_key={key}&key={key}", field("member", MEMBER.encode()), key=key)
        post(server, f"/api/v1/submissions/{key}", b"", key=key)
        post(server, "/api/v1/verify", f"--{BOUNDARY}\r\nX-API-Key: {key}\x00\r\n\r\nv\r\n--{BOUNDARY}--\r\n".encode(), key=key)
        post(server, "/api/v1/registry/events", b"{bad json " + key.encode(), key=key)
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(f"GET /healthz?api_key={key} HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\nConnection: close\r\n\r\n".encode())
            answer(sock)
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            # Broken at the HTTP level: the parser's own error names the header.
            sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\x01\r\n\r\n".encode())
            sock.recv(4096)
    server.stop()
    log = (tmp_path / "gateway.log").read_text(encoding="utf-8", errors="replace")
    assert '"POST /api/v1/submissions" 4' in log and '"GET /healthz" 200' in log  # requests were logged
    for key in KEYS.values():
        assert key not in log


# --- /healthz --------------------------------------------------------------------------------------


async def test_healthz_without_a_key_names_no_filesystem_path(aiohttp_client: ClientFactory, config: Config, tmp_path: Path) -> None:
    missing = tmp_path / "secret-folder" / "members.csv"
    keyed = dataclasses.replace(config, auth=AuthConfig(api_keys=KEYS), storage=StorageConfig(data_dir=config.storage.data_dir, members_csv=missing))
    client = await aiohttp_client(create_app(keyed))
    anonymous = await (await client.get("/healthz")).json()
    assert anonymous["members"]["problem"]  # the problem is still said ...
    assert str(tmp_path) not in json.dumps(anonymous, ensure_ascii=False) and "secret-folder" not in json.dumps(anonymous)  # ... not where
    staff = await (await client.get("/healthz", headers={"X-API-Key": KEYS["staff"]})).json()
    assert str(missing) in staff["members"]["problem"]
    wrong = await (await client.get("/healthz", headers={"X-API-Key": "guess"})).json()
    assert "secret-folder" not in json.dumps(wrong)


async def test_healthz_of_an_open_api_names_no_filesystem_path(aiohttp_client: ClientFactory, config: Config, tmp_path: Path) -> None:
    missing = tmp_path / "secret-folder" / "members.csv"
    client = await aiohttp_client(create_app(dataclasses.replace(config, server=ServerConfig(), storage=StorageConfig(data_dir=config.storage.data_dir, members_csv=missing))))
    body = await (await client.get("/healthz")).json()
    assert body["members"]["problem"] and "secret-folder" not in json.dumps(body)


async def test_chunked_upload_over_the_body_limit_is_cut_off_with_413(aiohttp_client: ClientFactory, config: Config) -> None:
    small = dataclasses.replace(config, server=dataclasses.replace(config.server, max_request_bytes=1 << 20))
    client = await aiohttp_client(create_app(small))

    async def body():  # type: ignore[no-untyped-def] - no Content-Length: only the reader can stop it
        yield field("member", MEMBER.encode()) + field("doc_type", b"report")
        yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="document"; filename="42_OD.zip"\r\n\r\n'.encode()
        for _ in range(8):
            yield bytes(256 << 10)
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    response = await client.post("/api/v1/submissions", data=body(), headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert response.status == 413 and (await response.json())["error"]["code"] == "request.too_large"
    assert list((small.storage.data_dir / "files" / "tmp").glob("upload-*")) == []


# --- per-slot limits while streaming (issue 12 §3) ---------------------------------------------


async def _answer_to_an_unfinished_upload(client: TestClient, head: bytes, sent: bytes, declared: int) -> tuple[int, dict[str, object]]:
    """Send ``sent`` of a body declared ``declared`` bytes long and read the answer without
    sending the rest: only an answer given while the part streams arrives here."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(
            f"POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {declared}\r\nConnection: close\r\n\r\n".encode()
            + head
            + sent
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        headers = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        length = int(next(line.split(b":", 1)[1] for line in headers.split(b"\r\n") if line.lower().startswith(b"content-length:")))
        body = await asyncio.wait_for(reader.readexactly(length), 10)
        return int(status_line.split()[1]), json.loads(body)
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("slot", "limit_key", "limit", "said"),
    [
        ("document", "max_document_bytes", 3 << 20, "не более 3 МБ"),
        ("attachment", "max_attachment_bytes", 2 << 20, "не более 2 МБ"),
        ("signature", "max_signature_bytes", 64 << 10, "не более 64 КБ"),
    ],
)
async def test_a_part_over_its_slot_limit_gets_413_while_it_streams(
    aiohttp_client: ClientFactory, config: Config, slot: str, limit_key: str, limit: int, said: str
) -> None:
    tight = dataclasses.replace(
        config, server=dataclasses.replace(config.server, max_request_bytes=256 << 20), limits=dataclasses.replace(config.limits, **{limit_key: limit})
    )
    client = await aiohttp_client(create_app(tight))
    head = field("member", MEMBER.encode()) + field("doc_type", b"report")
    head += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{slot}"; filename="f.bin"\r\n\r\n'.encode()
    # The body is declared far longer than the limit; only the limit plus a read's look-ahead is sent.
    status, reply = await _answer_to_an_unfinished_upload(client, head, bytes(limit + LOOKAHEAD), declared=len(head) + (64 << 20))
    error = reply["error"]
    assert status == 413
    assert error["code"] == "request.file_too_large"  # type: ignore[index]
    assert error["message_ru"] == f"Файл в поле {slot} слишком большой: {said}."  # type: ignore[index]
    assert list((tight.storage.data_dir / "files" / "tmp").glob("upload-*")) == []
    assert submission_rows(tight.storage.data_dir) == []


async def test_parts_within_their_slot_limits_are_accepted(aiohttp_client: ClientFactory, config: Config) -> None:
    limits = dataclasses.replace(config.limits, max_document_bytes=4096, max_signature_bytes=4096)
    client = await aiohttp_client(create_app(dataclasses.replace(config, limits=limits)))
    form = aiohttp.FormData()
    for key, value in REPORT.items():
        form.add_field(key, value)
    form.add_field("document", bytes(4096), filename=f"{MEMBER}_OD.zip")
    form.add_field("signature", bytes(4096), filename=f"{MEMBER}_OD.zip.sig")
    response = await client.post("/api/v1/submissions", data=form)
    assert response.status == 202


def test_an_access_log_line_is_time_level_logger_client_request_status_size_seconds(server: Gateway, tmp_path: Path) -> None:
    """The records skip what the format never prints (source line, thread, process): the
    line itself is as before."""
    import re

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer(sock)
    server.stop()
    log = (tmp_path / "gateway.log").read_text(encoding="utf-8", errors="replace")
    line = r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO aiohttp\.access: 127\.0\.0\.1 "GET /healthz" 200 \d+ \d+\.\d{3}'
    assert re.search(f"^{line}$", log, re.M), log


def test_a_file_sent_in_uneven_pieces_is_stored_byte_for_byte(server: Gateway, tmp_path: Path) -> None:
    """Short reads mid-part (a slow sender) are held back and handed over with the next
    chunk: the stored file is the sent one, however the reads fell."""
    import hashlib
    import sqlite3

    data = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(100_000))  # 3.2 MB
    head = field("member", MEMBER.encode()) + field("doc_type", b"report") + field("report_kind", b"OD_Q1")
    head += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="document"; filename="42_OD.zip"\r\n\r\n'.encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request_head("/api/v1/submissions", len(head) + len(data) + len(tail)) + head)
        for start, size in ((0, 300_000), (300_000, 1_500_000), (1_800_000, 7), (1_800_007, 1_000_000)):
            sock.sendall(data[start : start + size])
            time.sleep(0.05)  # each piece arrives on its own
        sock.sendall(data[2_800_007:] + tail)
        status, reply = answer(sock)
    assert status == 202, reply
    connection = sqlite3.connect(tmp_path / "var" / "gateway.sqlite3")
    try:
        [(key, size, sha256)] = connection.execute("SELECT blob, size, sha256 FROM files").fetchall()
    finally:
        connection.close()
    stored = (tmp_path / "var" / "files" / key[:2] / key[2:4] / key).read_bytes()
    assert (size, sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert stored == data
