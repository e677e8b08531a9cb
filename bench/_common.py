"""What the service benchmarks share: the gateway's config for a benchmark run, a free port,
waiting for a server, reading a process's memory, large test files, a bare aiohttp server.

The config is written by *this* checkout's benchmark, whatever checkout's gateway is
measured (``--repo``), so every key used here must be one that older gateways accept too.
"""

from __future__ import annotations

import asyncio
import os
import socket
import textwrap
import time
import zipfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import aiohttp

from tests.pki.builder import HEAD_EMAIL, KPK_INNLE, KPK_NAME, KPK_OGRN, TestPki

__all__ = ["BARE_SERVER", "REPO", "big_zip", "file_sender", "free_port", "gateway_config", "rss_kib", "wait_ready"]

REPO = Path(__file__).resolve().parent.parent

BARE_SERVER = textwrap.dedent(
    """
    import os, sys
    from aiohttp import web

    DURABLE = sys.argv[3:] == ["fsync"]

    async def upload(request):
        reader = await request.multipart()
        async for part in reader:
            with open(sys.argv[2], "wb") as out:
                while chunk := await part.read_chunk(1 << 20):
                    out.write(chunk)
                if DURABLE:  # on disk before the answer, as the gateway's 202 promises
                    out.flush()
                    os.fsync(out.fileno())
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=1 << 40)
    app.router.add_post("/upload", upload)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
    """
)
"""An aiohttp handler that only writes the multipart body to disk: the upload ceiling.
With a third argument ``fsync`` it fsyncs the file before answering: the ceiling of a
durable upload (the gateway answers 202 only once the files are on disk)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(url: str, seconds: float = 30) -> None:
    """Until ``url`` answers (any of 200/404/405), at most ``seconds``."""
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as response:
                    if response.status in (200, 404, 405):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of a process from /proc (``VmRSS`` now, ``VmHWM`` the peak), KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def file_sender(path: Path) -> AsyncIterator[bytes]:
    """The file in 1 MiB chunks, for a streamed upload (never read whole into memory)."""

    async def chunks() -> AsyncIterator[bytes]:
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                yield chunk

    return chunks()


def big_zip(path: Path, megabytes: int) -> Path:
    """A stored (uncompressed) ZIP of ``megabytes`` MiB of random data."""
    block = os.urandom(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        with archive.open("data.bin", "w", force_zip64=True) as entry:
            for _ in range(megabytes):
                entry.write(block)
    return path


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def gateway_config(work: Path, pki: TestPki, port: int, overrides: Mapping[str, Mapping[str, object]] | None = None) -> Path:
    """``work/config.toml`` for a gateway on 127.0.0.1:``port`` trusting ``pki``, with member
    42 (the test PKI's cooperative) in ``work/members.csv``, data under ``work/var``, emails
    as ``.eml`` files in ``work/mail``, no daily digest, limits of a gigabyte per file.
    ``overrides`` sets further keys by section (``{"limits": {"validation_workers": 2}}``)."""
    members = work / "members.csv"
    members.write_text(
        "number,ogrn,inn,name,email,head,status\n"
        f'42,{KPK_OGRN},{KPK_INNLE},"{KPK_NAME}",{HEAD_EMAIL},Иванов Иван Петрович,active\n',
        encoding="utf-8",
    )
    sections: dict[str, dict[str, object]] = {
        "server": {"host": "127.0.0.1", "port": port, "max_request_bytes": 1 << 30},
        "verification": {"trust_dir": pki.trust_dir, "revocation": "require", "openssl_gost_conf": REPO / "certs" / "openssl-gost.cnf"},
        "storage": {"data_dir": work / "var", "members_csv": members},
        "limits": {
            "max_document_bytes": 1 << 30,
            "max_attachment_bytes": 1 << 30,
            "archive_max_total_bytes": 2 << 30,
            "archive_max_entry_bytes": 1 << 30,
        },
        "delivery": {"digest_hour_utc": -1},
        "mail": {"eml_dir": work / "mail"},
    }
    for section, values in (overrides or {}).items():
        sections.setdefault(section, {}).update(values)
    text = "".join(f"[{section}]\n" + "".join(f"{key} = {_toml(value)}\n" for key, value in values.items()) for section, values in sections.items())
    config = work / "config.toml"
    config.write_text(text, encoding="utf-8")
    return config
