"""Service benchmarks with their references beside them, interleaved (issue 13, section 4).

0. One upload of 1,000 one-byte file parts: answer, time, server peak RSS, descriptors.
1. Upload throughput: one large file to POST /api/v1/submissions against a bare aiohttp
   handler writing the multipart body to disk (target >= 70 %), and against the same handler
   fsyncing the file before it answers (the gateway's 202 promises the files are on disk, so
   the disk's durable write speed bounds it: on this machine about 530 MB/s against about
   1.8 GB/s into the page cache). Runs alternate bare /
   gateway; each gateway upload is decided before the next run starts; medians.
2. End to end, small report packages (a signed XML in a ZIP), a burst of N distinct
   packages at concurrency 1 and 16: packages per second and p50/p99 time from the start
   of the upload to the decision (seen in the database, polled every 10 ms); against a
   shell loop of `openssl cms -verify` over the same N signatures (target: within 2x of
   the loop, p99 < 1 s). Wall time on a shared machine follows its load, so the server's
   CPU per package (upload to the last email, read from /proc once its outbox is empty and
   it is idle again; emails are not rate-limited here, so each burst's are sent before the
   next burst) is given beside the CPU of one `openssl cms -verify`.

``--repo DIR`` runs the gateway of another checkout (e.g. the commit before a change,
exported with ``git archive``) with this checkout's benchmark and virtualenv.

``--e2e-only`` runs case 2 alone. ``--strace`` adds an untimed burst of fresh packages
(concurrency 16) under ``strace -f -c`` and gives the fsync-family calls a package;
``--profile`` one under py-spy (``pip install py-spy`` into the venv), printing where the
server's CPU went, by thread and function.

Prints a Markdown table. Usage: .venv/bin/python bench/bench_service.py [--quick] [--repo DIR]
[--e2e-only] [--strace] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BARE_SERVER, REPO, big_zip, file_sender, free_port, gateway_config, rss_kib, wait_ready
from tests.pki.builder import TestPki, build_test_pki

HERE = REPO

OPENSSL_ENV = {**os.environ, "OPENSSL_CONF": str(HERE / "certs" / "openssl-gost.cnf")}
FIELDS = {"member": "42", "doc_type": "report", "report_kind": "OD_Q1"}


async def _post(session: aiohttp.ClientSession, url: str, fields: dict[str, str], name: str, payload: object) -> tuple[int, str]:
    form = aiohttp.FormData()
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("document", payload, filename=name, content_type="application/octet-stream")
    async with session.post(url, data=form) as response:
        return response.status, await response.text()


class Decisions:
    """Watches the database for decided submissions (a reader beside the server, polling
    every 10 ms for as long as the benchmark runs)."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.seen: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def _poll(self) -> None:
        while not self.database.exists():
            await asyncio.sleep(0.01)
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
        try:
            while True:
                now = time.perf_counter()
                for (submission_id,) in connection.execute("SELECT id FROM submissions WHERE decision IS NOT NULL"):
                    self.seen.setdefault(submission_id, now)
                await asyncio.sleep(0.01)
        finally:
            connection.close()

    def start(self) -> None:
        self._task = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def watch(self, ids: set[str], timeout: float = 600) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if ids <= set(self.seen):
                return
            await asyncio.sleep(0.01)
        raise RuntimeError(f"only {len(ids & set(self.seen))} of {len(ids)} decided in time")


def _small_packages(pki: TestPki, work: Path, count: int, series: str = "small") -> list[tuple[Path, Path, bytes]]:
    """``count`` distinct signed reports: (document, signature, zip bytes); each ``series``
    has its own documents (a package of one series is never a repeat of another's)."""
    packages = []
    for index in range(count):
        folder = work / series / str(index)
        folder.mkdir(parents=True)
        document = folder / "report.xml"
        document.write_bytes(f"<Отчет серия='{series}' номер='{index}'>ОД КПК</Отчет>".encode() * 20)
        signature = pki.sign("head256", document, folder / "report.xml.sig")
        with zipfile.ZipFile(folder / "42_OD.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(document, "report.xml")
            archive.write(signature, "report.xml.sig")
        packages.append((document, signature, (folder / "42_OD.zip").read_bytes()))
    return packages


def _openssl_loop(pki: TestPki, packages: list[tuple[Path, Path, bytes]]) -> float:
    script = "".join(
        f"openssl cms -verify -binary -inform DER -in '{sig}' -content '{doc}' -CAfile '{pki.ca_bundle}' -out /dev/null 2>/dev/null || exit 1\n"
        for doc, sig, _zip in packages
    )
    started = time.perf_counter()
    subprocess.run(["sh", "-c", script], env=OPENSSL_ENV, check=True)
    return time.perf_counter() - started


async def _burst(base: str, decisions: Decisions, packages: list[tuple[Path, Path, bytes]], concurrency: int, tag: str) -> tuple[float, list[float]]:
    """Upload every package (``concurrency`` at a time); seconds until the last decision,
    and per package the seconds from the start of its upload to its decision."""
    started: dict[str, float] = {}
    queue = list(enumerate(packages))
    first = time.perf_counter()

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:

        async def sender() -> None:
            while queue:
                index, (_doc, _sig, data) = queue.pop(0)
                begin = time.perf_counter()
                status, body = await _post(session, base + "/api/v1/submissions", {**FIELDS, "external_id": f"{tag}-{index}"}, "42_OD.zip", data)
                assert status == 202, (status, body)
                started[body.split('"id": "')[1].split('"')[0]] = begin

        await asyncio.gather(*(sender() for _ in range(concurrency)))
    await decisions.watch(set(started))
    last = max(decisions.seen[i] for i in started)
    return last - first, sorted(decisions.seen[i] - started[i] for i in started)


def _cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def _outbox_open(database: Path) -> int:
    """Outbox rows not finished yet (pending or leased), read beside the server."""
    if not database.exists():
        return 0
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return int(connection.execute("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'leased')").fetchone()[0])
    except sqlite3.OperationalError:  # no outbox table yet
        return 0
    finally:
        connection.close()


async def _settled_cpu(pid: int, database: Path, quiet: float = 0.5, limit: float = 120) -> tuple[float, float]:
    """The process's user and system CPU seconds once its outbox is empty (every registry
    delivery and email the burst caused is done) and it has used no CPU for ``quiet`` seconds."""
    deadline = time.perf_counter() + limit
    last = _cpu_seconds(pid)
    while time.perf_counter() < deadline:
        await asyncio.sleep(quiet)
        now = _cpu_seconds(pid)
        if sum(now) - sum(last) < 0.01 and _outbox_open(database) == 0:
            return now
        last = now
    return last


def _p(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


class _Observer:
    """strace (fsync counts) or py-spy (where the server's CPU goes) attached to the server
    for one burst; both slow the server down, so the burst they watch is not timed."""

    def __init__(self, kind: str, pid: int, output: Path) -> None:
        self.kind, self.output = kind, output
        if kind == "strace":
            command = ["strace", "-f", "-c", "-e", "trace=fsync,fdatasync,sync_file_range,syncfs", "-o", str(output), "-p", str(pid)]
        else:
            py_spy = Path(sys.executable).with_name("py-spy")
            command = [str(py_spy), "record", "--pid", str(pid), "--rate", "250", "--threads", "--gil", "--format", "raw", "--output", str(output)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def stop(self) -> str:
        await asyncio.sleep(0.5)
        self.process.send_signal(signal.SIGINT)
        await asyncio.to_thread(self.process.wait, 60)
        return self.summary()

    def summary(self) -> str:
        text = self.output.read_text(errors="replace") if self.output.exists() else ""
        if self.kind == "strace":
            calls = {m[1]: int(m[0]) for m in re.findall(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", text, re.M)}
            return ", ".join(f"{name} {count}" for name, count in sorted(calls.items()) if name != "total")
        return _profile_summary(text)


#: Stages of a package, by the first function of a sample's stack that names one (in order).
_STAGES = (
    ("create_submission", "upload handler (multipart, blob writes, intake commit)"),
    ("RequestHandler", "aiohttp request handling outside the handler"),
    ("email_job", "emails (compose, .eml)"),
    ("registry_job", "registry delivery"),
    ("detect_type", "validation: type detection (libmagic, CMS parse)"),
    ("extract_archive", "validation: archive extraction"),
    ("verify_cms", "validation: signature verification"),
    ("verify_document", "validation: signature verification"),
    ("validate_package", "validation: other package rules"),
)


def _stage(stack: str, thread: str) -> str:
    for marker, stage in _STAGES:
        if marker in stack:
            return stage
    if thread == "validate":
        return "validation thread: claim, report, decision"
    return "event loop: futures, outbox, decisions" if thread == "MainThread" else f"thread {thread}"


def _profile_summary(raw: str, top: int = 30) -> str:
    """From py-spy's collapsed stacks: samples by thread pool and by stage of a package, the
    gateway's functions with the most samples (inclusive), and the leaf functions (where the
    time is spent)."""
    by_thread: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]  # lines of one function merged
        thread = re.sub(r"[_\d]+$", "", frames[0].rpartition("): ")[2]) or "?"
        total += count
        by_thread[thread] += count
        stages[_stage(stack, thread)] += count
        for frame in dict.fromkeys(frames[1:]):
            if "gateway/" in frame or "validators/" in frame:
                inclusive[f"{thread}: {frame}"] += count
        leaves[f"{thread}: {frames[-1]}"] += count
    share = 100 / max(total, 1)
    lines = [f"{total} samples; by thread: " + ", ".join(f"{t} {c * share:.0f} %" for t, c in by_thread.most_common())]
    lines += ["by stage:"] + [f"{c * share:5.1f} %  {stage}" for stage, c in stages.most_common()]
    lines += ["inclusive:"] + [f"{c * share:5.1f} %  {f}" for f, c in inclusive.most_common(top)]
    lines += ["leaves:"] + [f"{c * share:5.1f} %  {f}" for f, c in leaves.most_common(top)]
    return "\n".join(lines)


async def main_async(
    repo: Path, quick: bool, runs: int, e2e_only: bool = False, observe: tuple[str, ...] = (), profile_out: Path | None = None
) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The table's rows, and what the observers (strace, py-spy) reported."""
    rows: list[tuple[str, str, str]] = []
    notes: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="gateway-bench-service-"))
    bare = gateway = None
    try:
        pki = build_test_pki(work / "pki")
        size_mb = 100 if quick else 200
        count = 60 if quick else 200
        packages = _small_packages(pki, work, count)

        bare_port, port = free_port(), free_port()
        # No email rate limit (a courtesy to SMTP relays): the emails a burst causes are sent
        # before the next burst starts, and counted in its CPU.
        config = gateway_config(work, pki, port, {"delivery": {"email_rate_per_second": 0}})
        database = work / "var" / "gateway.sqlite3"
        gateway = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(config), "serve"], cwd=repo, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base + "/healthz")
        decisions = Decisions(database)
        decisions.start()

        if not e2e_only:
            big = big_zip(work / "42_OD.zip", size_mb)
            bare = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(bare_port), str(work / "bare.out")])
            durable_port = free_port()
            durable = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(durable_port), str(work / "durable.out"), "fsync"])
            try:
                await wait_ready(f"http://127.0.0.1:{bare_port}/upload")
                await wait_ready(f"http://127.0.0.1:{durable_port}/upload")
                rows += await _many_parts(base, gateway.pid)
                rows += await _upload_throughput(base, bare_port, durable_port, big, size_mb, runs, decisions)
            finally:
                durable.terminate()
                durable.wait(timeout=10)

        # 2. End to end, interleaved with the openssl reference.
        for concurrency in (1, 16):
            before = os.times()
            loop_s = _openssl_loop(pki, packages)
            after = os.times()
            loop_cpu = (after.children_user + after.children_system - before.children_user - before.children_system) / count
            cpu_before = await _settled_cpu(gateway.pid, database)
            total, latencies = await _burst(base, decisions, packages, concurrency, f"c{concurrency}")
            cpu_after = await _settled_cpu(gateway.pid, database)
            user_cpu, system_cpu = ((after_ - before_) / count for after_, before_ in zip(cpu_after, cpu_before, strict=True))
            server_cpu = user_cpu + system_cpu
            rows.append((f"{count} signatures: shell loop of openssl cms -verify", f"{count / loop_s:.1f} /s", f"{loop_s:.2f} s; CPU {loop_cpu * 1000:.1f} ms a signature"))
            rows.append(
                (
                    f"{count} small packages, concurrency {concurrency}: upload -> decision",
                    f"{count / total:.1f} packages/s = {total / loop_s:.2f}x the openssl loop time (target <= 2x)",
                    f"p50 {statistics.median(latencies):.3f} s, p99 {_p(latencies, 0.99):.3f} s (target < 1 s)",
                )
            )
            rows.append(
                (
                    f"{count} small packages, concurrency {concurrency}: server CPU a package (upload, validation, decision, registry, emails)",
                    f"{server_cpu * 1000:.1f} ms = {server_cpu / loop_cpu:.2f}x the CPU of one openssl cms -verify",
                    f"user {user_cpu * 1000:.1f} ms + system {system_cpu * 1000:.1f} ms; CPU seconds, not wall time (less load-dependent)",
                )
            )

        # 3. Untimed bursts of fresh packages with strace / py-spy attached.
        for kind in observe:
            fresh = _small_packages(pki, work, count, series=kind)
            await _settled_cpu(gateway.pid, database)
            observer = _Observer(kind, gateway.pid, profile_out if kind == "py-spy" and profile_out else work / f"{kind}.out")
            await asyncio.sleep(1.0)  # attached before the first upload
            await _burst(base, decisions, fresh, 16, kind)
            if kind == "strace":  # the fsyncs of everything the burst caused; the profile of the burst alone
                await _settled_cpu(gateway.pid, database)
            summary = await observer.stop()
            if kind == "strace":
                counts = [int(n) for n in re.findall(r"(\d+)", summary)]
                rows.append(
                    (
                        f"{count} small packages, concurrency 16, under strace: fsync-family calls a package (upload to the last email)",
                        f"{sum(counts) / count:.1f}",
                        summary or "strace gave no counts",
                    )
                )
            else:
                notes.append(f"py-spy, {count} packages at concurrency 16, from the first upload to the last decision (GIL holder's samples by thread and function):\n{summary}")
        await decisions.stop()
    finally:
        for process in (bare, gateway):
            if process is not None:
                process.terminate()
                process.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    return rows, notes


async def _many_parts(base: str, pid: int) -> list[tuple[str, str, str]]:
    """0. One upload of 1,000 one-byte file parts (the descriptor exhaustion of issue 9)."""
    boundary = "b1000"
    many = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in FIELDS.items()).encode()
    many += b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="signature"; filename="{i}.sig"\r\n\r\nx\r\n'.encode() for i in range(1000))
    many += f"--{boundary}--\r\n".encode()
    rss_before = rss_kib(pid)
    async with aiohttp.ClientSession() as session:
        begin = time.perf_counter()
        async with session.post(base + "/api/v1/submissions", data=many, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}) as response:
            status = response.status
        many_s = time.perf_counter() - begin
    return [
        (
            "one upload of 1,000 one-byte file parts",
            f"HTTP {status} in {many_s * 1000:.0f} ms",
            f"server peak RSS {rss_kib(pid, 'VmHWM') / 1024:.0f} MB (before: {rss_before / 1024:.0f} MB current); open descriptors after: {len(os.listdir(f'/proc/{pid}/fd'))}",
        )
    ]


async def _upload_throughput(base: str, bare_port: int, durable_port: int, big: Path, size_mb: int, runs: int, decisions: Decisions) -> list[tuple[str, str, str]]:
    """1. Upload throughput against the bare handler, and the bare handler that fsyncs
    before answering (the gateway's 202 promises the files are on disk), interleaved."""
    bare_times, durable_times, gateway_times = [], [], []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
        for run in range(runs):
            for port, times in ((bare_port, bare_times), (durable_port, durable_times)):
                begin = time.perf_counter()
                status, _ = await _post(session, f"http://127.0.0.1:{port}/upload", {}, big.name, file_sender(big))
                times.append(time.perf_counter() - begin)
                assert status == 200
            begin = time.perf_counter()
            status, body = await _post(session, base + "/api/v1/submissions", {**FIELDS, "external_id": f"big-{run}"}, big.name, file_sender(big))
            gateway_times.append(time.perf_counter() - begin)
            assert status == 202, (status, body)
            submission_id = body.split('"id": "')[1].split('"')[0]
            await decisions.watch({submission_id})  # validation must not overlap the next run
    bare_s, durable_s, gateway_s = (statistics.median(t) for t in (bare_times, durable_times, gateway_times))
    return [
        (f"upload {size_mb} MB: bare aiohttp handler writing to disk (median of {runs})", f"{size_mb / bare_s:.0f} MB/s", f"{bare_s:.2f} s"),
        (f"upload {size_mb} MB: the same handler, fsync before answering (median of {runs})", f"{size_mb / durable_s:.0f} MB/s", f"{durable_s:.2f} s"),
        (
            f"upload {size_mb} MB: gateway POST /api/v1/submissions (median of {runs})",
            f"{size_mb / gateway_s:.0f} MB/s = {bare_s / gateway_s * 100:.0f} % of bare (target >= 70 %), "
            f"{durable_s / gateway_s * 100:.0f} % of bare with fsync",
            f"{gateway_s:.2f} s",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repo", type=Path, default=HERE, help="checkout whose gateway is measured")
    parser.add_argument("--e2e-only", action="store_true", help="only the end-to-end bursts (skip cases 0 and 1)")
    parser.add_argument("--strace", action="store_true", help="one more burst under strace: fsync-family calls a package")
    parser.add_argument("--profile", action="store_true", help="one more burst under py-spy (installed in the venv): where the server's Python CPU goes (samples of the thread holding the GIL)")
    parser.add_argument("--profile-out", type=Path, help="keep py-spy's collapsed stacks in this file")
    args = parser.parse_args()
    observe = tuple(kind for kind, wanted in (("strace", args.strace), ("py-spy", args.profile)) if wanted)
    rows, notes = asyncio.run(main_async(args.repo.resolve(), args.quick, args.runs, args.e2e_only, observe, args.profile_out))
    print(f"gateway from {args.repo.resolve()}; load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| case | result | notes |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    for note in notes:
        print()
        print(note)


if __name__ == "__main__":
    main()
