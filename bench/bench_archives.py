"""Archive extraction: 1,000 small files as ZIP and as RAR5 through the gateway's walker
(:func:`validators.archives.extract_archive`), beside the plain tools on the same files.

Rows (each a separate process, so its peak RSS is its own; runs interleaved, medians):

* ``walker ZIP (deflate)`` / ``walker ZIP (stored)`` / ``walker RAR5 (stored)``: a Python
  process that imports the walker and extracts the archive into a fresh folder (the row
  includes interpreter start-up and imports: see the ``python start + import`` row).
* ``unzip -qq`` / ``unar -o dir`` / ``unar -o -``: the reference tools alone on the same file.
* ``--before`` adds the old RAR approach, one ``unar -o - -i a.rar N`` per entry after one
  ``lsar -j`` (one run; it takes about a minute).

The RAR is written by hand (stored entries, :mod:`tests.validators.rar_builder`): the
``rar`` tool that would make a compressed one is not free software and is not installed.

Prints a Markdown table. Usage: .venv/bin/python bench/bench_archives.py [--quick] [--before]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.validators.rar_builder import rar5_stored  # noqa: E402

FILES = 1000
WALKER = (
    "import sys; from pathlib import Path; from validators.archives import extract_archive; "
    "r = extract_archive(Path(sys.argv[1]), Path(sys.argv[2]), 'PPP.x'); "
    "assert not r.checks and len(r.files) == int(sys.argv[3]), r.checks[:3]"
)
IMPORT_ONLY = "import validators.archives"


def make_files(count: int) -> list[tuple[str, bytes]]:
    """Small PDF-like documents (6-10 KB, partly compressible), in folders of 100."""
    rng = random.Random(20261130)
    out = []
    for i in range(count):
        text = f"%PDF-1.7\n% документ {i}\n".encode() + "BT /F1 12 Tf (Отчет) Tj ET\n".encode() * rng.randint(100, 200)
        out.append((f"docs{i // 100}/doc{i:04d}.pdf", text + rng.randbytes(2048)))
    return out


def _descendants(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        direct = [int(p) for p in children.read_text().split()]
    except OSError:
        return []
    return direct + [d for c in direct for d in _descendants(c)]


def _hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(command: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS in KiB: the largest VmHWM of the process or any descendant,
    sampled every 5 ms from /proc (``ru_maxrss`` would count the parent's memory copied at
    fork, before exec)."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks: dict[int, int] = {}
    while proc.poll() is None:
        for pid in (proc.pid, *_descendants(proc.pid)):
            peaks[pid] = max(peaks.get(pid, 0), _hwm_kib(pid))
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    err = proc.stderr.read() if proc.stderr else b""
    if proc.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed: {err[-500:]!r}")
    return elapsed, max(peaks.values(), default=0)


def per_entry_unar(rar: Path, work: Path) -> tuple[float, int]:
    """The approach before: lsar once, then one unar per entry (stdout discarded)."""
    started = time.perf_counter()
    peak = run(["lsar", "-j", "-nr", str(rar)], work)[1]
    for index in range(FILES):
        peak = max(peak, run(["unar", "-q", "-nr", "-o", "-", "-i", str(rar), str(index)], work)[1])
    return time.perf_counter() - started, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs instead of 7")
    parser.add_argument("--before", action="store_true", help="also time one unar per entry (slow)")
    args = parser.parse_args()
    runs = 3 if args.quick else 7
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-archives-") as tmp:
        root = Path(tmp)
        files = make_files(FILES)
        zip_deflate, zip_stored, rar = root / "deflate.zip", root / "stored.zip", root / "stored.rar"
        for path, method in ((zip_deflate, zipfile.ZIP_DEFLATED), (zip_stored, zipfile.ZIP_STORED)):
            with zipfile.ZipFile(path, "w", method) as zf:
                for name, data in files:
                    zf.writestr(name, data)
        rar.write_bytes(rar5_stored(files))
        counter = 0

        def fresh() -> Path:
            nonlocal counter
            counter += 1
            return root / f"out{counter}"

        def cleanup() -> None:
            for path in root.glob("out*"):
                shutil.rmtree(path, ignore_errors=True)

        rows: dict[str, list[tuple[float, int]]] = {}
        cases = {
            "python start + import validators.archives": lambda: run([python, "-c", IMPORT_ONLY], REPO),
            "walker ZIP (deflate)": lambda: run([python, "-c", WALKER, str(zip_deflate), str(fresh()), str(FILES)], REPO),
            "unzip -qq (deflate ZIP)": lambda: run(["unzip", "-qq", str(zip_deflate), "-d", str(fresh())], root),
            "walker ZIP (stored)": lambda: run([python, "-c", WALKER, str(zip_stored), str(fresh()), str(FILES)], REPO),
            "walker RAR5 (stored)": lambda: run([python, "-c", WALKER, str(rar), str(fresh()), str(FILES)], REPO),
            "unar -o dir (RAR5)": lambda: run(["unar", "-q", "-o", str(fresh()), str(rar)], root),
            "unar -o - (RAR5, to a pipe)": lambda: run(["unar", "-q", "-nr", "-o", "-", str(rar)], root),
        }
        for _ in range(runs):  # interleaved: every case once per round
            for label, case in cases.items():
                rows.setdefault(label, []).append(case())
                cleanup()
        if args.before:
            rows["before: lsar + one unar per entry (RAR5)"] = [per_entry_unar(rar, root)]

    print(f"Archive extraction, {FILES} files (~{sum(len(d) for _, d in files) // FILES // 1024} KB each), "
          f"{runs} interleaved runs, medians; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}\n")
    print("| case | wall s (median) | min | max | peak RSS MB |")
    print("|---|---:|---:|---:|---:|")
    for label, samples in rows.items():
        times = [t for t, _ in samples]
        rss = max(r for _, r in samples) / 1024
        print(f"| {label} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
