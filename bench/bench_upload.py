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
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BARE_SERVER, REPO, big_zip, file_sender, free_port, gateway_config, rss_kib, wait_ready
from tests.pki.builder import TestPki, build_test_pki


async def _post_file(url: str, path: Path, slot: str, fields: dict[str, str]) -> tuple[float, int, str]:
    form = aiohttp.FormData()
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field(slot, file_sender(path), filename=path.name, content_type="application/octet-stream")
    started = time.perf_counter()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
        async with session.post(url, data=form) as response:
            body = await response.text()
            return time.perf_counter() - started, response.status, body


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


async def main_async(quick: bool) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    work = Path(tempfile.mkdtemp(prefix="gateway-bench-upload-"))
    try:
        pki = build_test_pki(work / "pki")
        size_mb = 100 if quick else 500
        package = big_zip(work / "42_OD.zip", size_mb)

        # Bare aiohttp handler: the upload speed ceiling on this machine.
        bare_port = free_port()
        bare = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(bare_port), str(work / "bare.out")])
        try:
            await wait_ready(f"http://127.0.0.1:{bare_port}/upload")
            bare_seconds, status, _ = await _post_file(f"http://127.0.0.1:{bare_port}/upload", package, "document", {})
            assert status == 200, status
        finally:
            bare.terminate()
            bare.wait(10)
        (work / "bare.out").unlink(missing_ok=True)

        port = free_port()
        config = gateway_config(work, pki, port, {"limits": {"validation_workers": 2}})
        server = subprocess.Popen([str(REPO / ".venv" / "bin" / "gateway"), "--config", str(config), "serve"], stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_ready(base + "/healthz")
            rss_before = rss_kib(server.pid)
            seconds, status, body = await _post_file(
                base + "/api/v1/submissions", package, "document", {"member": "42", "doc_type": "report", "report_kind": "OD_Q1"}
            )
            assert status == 202, (status, body)
            peak = rss_kib(server.pid, "VmHWM")
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
