"""Upload benchmarks of the running gateway (a real server subprocess on 127.0.0.1).

1. A 500 MB package uploaded to POST /api/v1/submissions: server RSS growth during the
   upload (target < 64 MB) and throughput against a bare aiohttp handler that only writes
   the multipart body to disk (target >= 70 %).
2. /healthz latency (p50/p99 of 200 requests) while 4 large packages validate (target p99
   < 50 ms).

Prints a Markdown table. Usage: .venv/bin/python bench/bench_upload.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.pki.builder import HEAD_EMAIL, KPK_INNLE, KPK_NAME, KPK_OGRN, TestPki, build_test_pki  # noqa: E402

BARE_SERVER = textwrap.dedent(
    """
    import sys
    from aiohttp import web

    async def upload(request):
        reader = await request.multipart()
        async for part in reader:
            with open(sys.argv[2], "wb") as out:
                while chunk := await part.read_chunk(1 << 20):
                    out.write(chunk)
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=1 << 40)
    app.router.add_post("/upload", upload)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_kib(pid: int, field: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


async def _wait_ready(url: str, seconds: float = 30) -> None:
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


def _file_sender(path: Path):  # type: ignore[no-untyped-def]
    async def chunks():  # type: ignore[no-untyped-def]
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                yield chunk

    return chunks()


async def _post_file(url: str, path: Path, slot: str, fields: dict[str, str]) -> tuple[float, int, str]:
    form = aiohttp.FormData()
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field(slot, _file_sender(path), filename=path.name, content_type="application/octet-stream")
    started = time.perf_counter()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
        async with session.post(url, data=form) as response:
            body = await response.text()
            return time.perf_counter() - started, response.status, body


def _big_zip(path: Path, megabytes: int) -> Path:
    block = os.urandom(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        with archive.open("data.bin", "w", force_zip64=True) as entry:
            for _ in range(megabytes):
                entry.write(block)
    return path


def _signed_zip(pki: TestPki, folder: Path, name: str, megabytes: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    document = folder / "report.xml"
    block = os.urandom(1 << 20)
    with open(document, "wb") as out:
        for _ in range(megabytes):
            out.write(block)
    signature = pki.sign("head256", document, folder / "report.xml.sig")
    with zipfile.ZipFile(folder / name, "w", zipfile.ZIP_STORED) as archive:
        archive.write(document, "report.xml")
        archive.write(signature, "report.xml.sig")
    return folder / name


def _gateway_config(work: Path, pki: TestPki, port: int) -> Path:
    members = work / "members.csv"
    members.write_text(
        "number,ogrn,inn,name,email,head,status\n"
        f'42,{KPK_OGRN},{KPK_INNLE},"{KPK_NAME}",{HEAD_EMAIL},Иванов Иван Петрович,active\n',
        encoding="utf-8",
    )
    config = work / "config.toml"
    config.write_text(
        f"""
[server]
host = "127.0.0.1"
port = {port}
max_request_bytes = 1073741824
[verification]
trust_dir = "{pki.trust_dir}"
revocation = "require"
openssl_gost_conf = "{REPO / 'certs' / 'openssl-gost.cnf'}"
[storage]
data_dir = "{work / 'var'}"
members_csv = "{members}"
[limits]
max_document_bytes = 1073741824
max_attachment_bytes = 1073741824
archive_max_total_bytes = 2147483648
archive_max_entry_bytes = 1073741824
validation_workers = 2
""",
        encoding="utf-8",
    )
    return config


async def main_async(quick: bool) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    work = Path(tempfile.mkdtemp(prefix="gateway-bench-upload-"))
    try:
        pki = build_test_pki(work / "pki")
        size_mb = 100 if quick else 500
        package = _big_zip(work / "42_OD.zip", size_mb)

        # Bare aiohttp handler: the upload speed ceiling on this machine.
        bare_port = _free_port()
        bare = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(bare_port), str(work / "bare.out")])
        try:
            await _wait_ready(f"http://127.0.0.1:{bare_port}/upload")
            bare_seconds, status, _ = await _post_file(f"http://127.0.0.1:{bare_port}/upload", package, "document", {})
            assert status == 200, status
        finally:
            bare.terminate()
            bare.wait(10)
        (work / "bare.out").unlink(missing_ok=True)

        port = _free_port()
        config = _gateway_config(work, pki, port)
        server = subprocess.Popen([str(REPO / ".venv" / "bin" / "gateway"), "--config", str(config), "serve"], stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            await _wait_ready(base + "/healthz")
            rss_before = _rss_kib(server.pid)
            seconds, status, body = await _post_file(
                base + "/api/v1/submissions", package, "document", {"member": "42", "doc_type": "report", "report_kind": "OD_Q1"}
            )
            assert status == 202, (status, body)
            peak = _rss_kib(server.pid, "VmHWM")
            rows.append((f"upload {size_mb} MB: bare aiohttp handler writing to disk", f"{size_mb / bare_seconds:.0f} MB/s", f"{bare_seconds:.2f} s"))
            rows.append(
                (
                    f"upload {size_mb} MB: gateway POST /submissions (SHA-256, fsync)",
                    f"{size_mb / seconds:.0f} MB/s ({bare_seconds / seconds * 100:.0f} % of bare; target >= 70 %)",
                    f"{seconds:.2f} s; RSS growth {(peak - rss_before) / 1024:.0f} MB (target < 64 MB)",
                )
            )

            # /healthz while 4 large signed packages validate.
            big = 50 if quick else 150
            uploads = [
                _post_file(base + "/api/v1/submissions", _signed_zip(pki, work / f"p{i}", "42_OD.zip", big), "document", {"member": "42", "doc_type": "report", "report_kind": "OD_Q1"})
                for i in range(4)
            ]
            for _seconds_taken, status, body in await asyncio.gather(*uploads):
                assert status == 202, (status, body)
            latencies = []
            async with aiohttp.ClientSession() as session:
                for _ in range(200):
                    started = time.perf_counter()
                    async with session.get(base + "/healthz") as response:
                        await response.read()
                        queue = (await response.json())["queue"]
                    latencies.append((time.perf_counter() - started) * 1000)
                    await asyncio.sleep(0.005)
            latencies.sort()
            p99 = latencies[int(len(latencies) * 0.99) - 1]
            rows.append(
                (
                    f"/healthz while 4 packages of {big} MB validate (200 requests)",
                    f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms (target < 50 ms)",
                    f"queue at the end: {queue}",
                )
            )
        finally:
            server.terminate()
            server.wait(30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = asyncio.run(main_async(args.quick))
    print("| case | result | notes |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
