"""`gateway verify` start-up and large files against `openssl cms -verify` (issue 13, section 4).

One detached GOST-256 signature per size (1 KB, 1 MB, 100 MB by default); for each size
the two commands alternate run by run (openssl, gateway, openssl, gateway, ...) so a load
change on this shared machine hits both alike; medians. Targets: gateway <= 5x openssl on
1 KB, <= 1.15x from 100 MB up. The reference floors are printed too: the interpreter
alone (`python -c pass`) and the interpreter importing asn1crypto's CMS modules, which any
Python verifier of CMS pays before it reads a byte.

Two warm rows (``gateway verifyd``, started once on a socket in the work folder, used
through ``GATEWAY_VERIFY_SOCKET``) take their turn in every round too, for the first
checkout: one daemon reads the trust store per request, the other was started with
``--trust`` on it (read once, reused while unchanged). Each daemon's log must show one
worker per warm run (a silent fallback to a cold run would otherwise pass for a warm one).
``--no-warm`` leaves them out.

``--repo DIR`` measures the gateway of another checkout (e.g. ``git archive`` of the
commit before a change) with this checkout's virtualenv; given several times, the
checkouts take turns in every round too, for before/after tables under the same load.
``--repo DIR=PYTHON`` runs that checkout with another interpreter (a virtualenv set up as
it was then: the interpreter's own start-up is part of what a user waits for).

The measured checkout's bytecode is compiled first (``compileall``), as an installed
package's is: this machine sets PYTHONDONTWRITEBYTECODE, under which every run would
otherwise compile the gateway's modules from source again (about 0.1 s).

Usage: .venv/bin/python bench/bench_startup.py [--runs N] [--sizes 1K,1M,100M] [--repo DIR[=PYTHON]] [--no-warm]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from tests.pki.builder import build_test_pki  # noqa: E402

OPENSSL_ENV = {**os.environ, "OPENSSL_CONF": str(HERE / "certs" / "openssl-gost.cnf")}
PYTHON = str(HERE / ".venv" / "bin" / "python")


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(text[:-1]) * units[text[-1].upper()] if text[-1].upper() in units else int(text)


def _write(path: Path, size: int) -> None:
    block = os.urandom(min(size, 1 << 20))
    with open(path, "wb") as out:
        left = size
        while left > 0:
            out.write(block[:left])
            left -= len(block)


_cpu: dict[int, float] = {}


def _wall(command: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,), cwd: Path | None = None) -> float:
    """Wall time of one run; its CPU time (user + system, all threads) goes to ``_cpu``."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = code = os.waitstatus_to_exitcode(status)
    _cpu[0] = usage.ru_utime + usage.ru_stime
    if code not in ok:
        raise SystemExit(f"exit {code}: {' '.join(command)}")
    return wall


def _start_daemon(python: str, code: str, env: dict[str, str], sock: Path, options: list[str]) -> tuple[subprocess.Popen[bytes], dict[str, str], Path]:
    """``gateway verifyd`` on ``sock``, once it listens (bounded wait): it, env, its log."""
    log = sock.with_suffix(".log")
    with open(log, "wb") as out:
        daemon = subprocess.Popen([python, "-c", code, "verifyd", "--socket", str(sock), *options], env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 30
    while b"listening on" not in log.read_bytes():
        if daemon.poll() is not None or time.monotonic() > deadline:
            daemon.kill()
            raise SystemExit(f"verifyd did not start: {log.read_text(encoding='utf-8')}")
        time.sleep(0.05)
    return daemon, env, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="runs per command and size (large files: a third)")
    parser.add_argument("--sizes", default="1K,1M,100M")
    parser.add_argument("--repo", action="append", default=None, help="checkout whose gateway is measured, DIR or DIR=PYTHON (repeatable)")
    parser.add_argument("--no-warm", action="store_true", help="leave out the warm verifier (gateway verifyd) row")
    args = parser.parse_args()
    load_before = os.getloadavg()
    # (label, checkout, interpreter): the same checkout may be measured with two interpreters.
    checkouts: list[tuple[str, Path, str]] = []
    for spec in args.repo or [str(HERE)]:
        folder, _, python = spec.partition("=")
        repo = Path(folder).resolve()
        checkouts.append((f"{repo.name}, {python}" if python else repo.name, repo, python or PYTHON))
    repos = sorted({repo for _, repo, _ in checkouts})
    pythons = sorted({python for _, _, python in checkouts})
    # The checkout's own code, run by its interpreter (as the console script).
    code = "import sys; sys.argv[0] = 'gateway'; from gateway.entry import run; run()"
    # An installed gateway has its bytecode compiled (pip does it for a wheel; bootstrap.sh
    # for the editable checkout); here PYTHONDONTWRITEBYTECODE may be set, so compile it.
    for repo in repos:
        subprocess.run([PYTHON, "-m", "compileall", "-q", str(repo / "gateway"), str(repo / "validators")], check=True)
    work = Path(tempfile.mkdtemp(prefix="gateway-bench-startup-"))
    rows: list[tuple[str, str, str, str, str]] = []
    daemons: dict[str, tuple[subprocess.Popen[bytes], dict[str, str], Path]] = {}  # label -> (daemon, env, log)
    try:
        pki = build_test_pki(work / "pki")
        label0, repo0, python0 = checkouts[0]
        if not args.no_warm and (repo0 / "gateway" / "verifyd.py").is_file():
            for name, options in (("warm", []), ("warm, --trust read once", ["--trust", str(pki.trust_dir)])):
                sock = work / f"verifyd-{len(daemons)}.sock"
                env = {**os.environ, "PYTHONPATH": str(repo0), "GATEWAY_VERIFY_SOCKET": str(sock)}
                daemons[f"{label0}, {name}"] = _start_daemon(python0, code, env, sock, options)
        floors = {
            "python -c pass": [PYTHON, "-c", "pass"],
            "python importing asn1crypto cms/x509/crl": [PYTHON, "-c", "import asn1crypto.cms, asn1crypto.x509, asn1crypto.crl"],
            **{f"python -c pass ({python})": [python, "-c", "pass"] for python in pythons if python != PYTHON},
        }
        expected = dict.fromkeys(daemons, 0)  # workers each daemon has served so far
        for text in args.sizes.split(","):
            size = _size(text)
            document = work / f"doc-{text}.bin"
            _write(document, size)
            signature = pki.sign("head256", document, work / f"doc-{text}.sig")
            openssl = [
                "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(signature), "-content", str(document),
                "-CAfile", str(pki.ca_bundle), "-out", os.devnull,
            ]
            arguments = ["verify", str(document), "--signature", str(signature), "--trust", str(pki.trust_dir), "--json"]
            verify = {label: ([python, "-c", code, *arguments], {**os.environ, "PYTHONPATH": str(repo)}) for label, repo, python in checkouts}
            for name, (_, env, _) in daemons.items():
                verify[name] = ([python0, "-c", code, *arguments], env)
            runs = args.runs if size < (50 << 20) else max(3, args.runs // 3)
            times: dict[str, list[float]] = {"openssl": [], **{label: [] for label in verify}, **{k: [] for k in floors}}
            cpu: dict[str, list[float]] = {name: [] for name in times}
            for command, env in verify.values():
                _wall(command, env, cwd=work)  # warm the page cache
            for _ in range(runs):
                times["openssl"].append(_wall(openssl, OPENSSL_ENV))
                cpu["openssl"].append(_cpu[0])
                for label, (command, env) in verify.items():
                    times[label].append(_wall(command, env, cwd=work))
                    cpu[label].append(_cpu[0])
                if size < (1 << 20) + 1:
                    for name, command in floors.items():
                        times[name].append(_wall(command))
                        cpu[name].append(_cpu[0])
            base = statistics.median(times["openssl"])

            cases = [("openssl cms -verify", "openssl")]
            cases += [(f"gateway verify --json ({name})" if len(verify) > 1 else "gateway verify --json", name) for name in verify]
            for name, (_, _, log) in daemons.items():
                expected[name] += len(times[name]) + 1  # with the page-cache run
                served = log.read_text(encoding="utf-8").count(": worker ")
                if served != expected[name]:
                    raise SystemExit(f"the warm runs of {name} were not all served by verifyd ({served} workers logged)")
            cases += [(f"floor, {name}", name) for name in floors if times[name]]
            for title, name in cases:
                wall, used = statistics.median(times[name]), statistics.median(cpu[name])
                ratio = f"{wall / base:.2f}x openssl" if name != "openssl" else ""
                rows.append((f"{text}: {title}", f"{wall * 1000:.1f} ms", ratio, f"{used * 1000:.1f} ms", str(runs)))
            document.unlink()
    finally:
        for daemon, _, _ in daemons.values():
            daemon.terminate()
            daemon.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    load = " ".join(f"{x:.2f}" for x in load_before), " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the start: {load[0]}, at the end: {load[1]} ({os.cpu_count()} CPUs); gateway of {', '.join(map(str, repos))}; python {PYTHON}")
    print("| case | wall (median) | ratio | CPU, all threads (median) | runs |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
