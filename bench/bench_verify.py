"""Benchmarks of the verification engine against `openssl cms -verify` (gost engine).

Prints a Markdown table. Not a test: numbers depend on the machine. Cases:

1. detached GOST signature over a 50 MB file: `gateway verify` wall time vs openssl
   (target: ratio <= 1.2);
2. 200 small signed documents verified in one process (the library, as the gateway
   service does) vs a shell loop of `openssl cms -verify` (target: >= 3x faster);
3. peak RSS of `gateway verify` on a 500 MB detached-signed file (target: < 100 MB);
4. a 30 MB signed PDF: `gateway verify` vs `pyhanko sign validate` on the same RSA-signed
   file (target: not slower), and the same PDF signed with GOST.

Usage: .venv/bin/python bench/bench_verify.py [--quick] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.pki.builder import TestPki, build_test_pki  # noqa: E402

OPENSSL_ENV = {**os.environ, "OPENSSL_CONF": str(REPO / "certs" / "openssl-gost.cnf")}
GATEWAY = [str(REPO / ".venv" / "bin" / "gateway")]


def _write_file(path: Path, megabytes: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as out:
        for _ in range(megabytes):
            out.write(block)


def _timed(command: list[str], env: dict[str, str] | None = None, ok_codes: tuple[str, ...] = ("0",)) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one command run in a fresh child."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
        "wall = time.perf_counter() - t\n"
        "print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True, env=env, check=True)
    wall, rss, rc = out.stdout.split()
    if rc not in ok_codes:
        raise SystemExit(f"command failed ({rc}): {' '.join(command)}")
    return float(wall), int(rss)


def _median_wall(
    command: list[str], runs: int, env: dict[str, str] | None = None, ok_codes: tuple[str, ...] = ("0",)
) -> tuple[float, int]:
    results = [_timed(command, env, ok_codes) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def _openssl_verify(pki: TestPki, signature: Path, content: Path) -> list[str]:
    return [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(signature),
        "-content", str(content), "-CAfile", str(pki.ca_bundle), "-out", os.devnull,
    ]


def _gateway_verify(pki: TestPki, signature: Path, content: Path) -> list[str]:
    return [*GATEWAY, "verify", str(content), "--signature", str(signature), "--trust", str(pki.trust_dir), "--json"]


def bench_large(pki: TestPki, work: Path, megabytes: int, runs: int) -> list[tuple[str, str, str, str]]:
    document = work / f"doc{megabytes}.bin"
    _write_file(document, megabytes)
    signature = pki.sign("head256", document, work / f"doc{megabytes}.sig")
    openssl_wall, openssl_rss = _median_wall(_openssl_verify(pki, signature, document), runs, OPENSSL_ENV)
    gateway_wall, gateway_rss = _median_wall(_gateway_verify(pki, signature, document), runs)
    return [
        (f"{megabytes} MB detached GOST-256: openssl cms -verify", f"{openssl_wall:.3f} s", f"{openssl_rss / 1024:.0f} MB", ""),
        (
            f"{megabytes} MB detached GOST-256: gateway verify",
            f"{gateway_wall:.3f} s",
            f"{gateway_rss / 1024:.0f} MB",
            f"{gateway_wall / openssl_wall:.2f}x openssl",
        ),
    ]


def bench_many_small(pki: TestPki, work: Path, count: int) -> list[tuple[str, str, str, str]]:
    from validators.gost import gost_support
    from validators.signatures.locate import verify_document
    from validators.signatures.verify import VerificationPolicy
    from validators.trust import load_trust_store

    folder = work / "small"
    folder.mkdir()
    pairs = []
    for index in range(count):
        document = folder / f"letter{index:03}.txt"
        document.write_bytes(f"Письмо в СРО № {index}\n".encode() * 40)
        labels = ("head256", "head512", "accountant256")
        pairs.append((document, pki.sign(labels[index % 3], document, folder / f"letter{index:03}.txt.sig")))

    start = time.perf_counter()
    for document, signature in pairs:
        subprocess.run(_openssl_verify(pki, signature, document), env=OPENSSL_ENV, check=True, capture_output=True)
    openssl_loop = time.perf_counter() - start

    start = time.perf_counter()
    for document, signature in pairs[:20]:
        subprocess.run(_gateway_verify(pki, signature, document), check=True, capture_output=True)
    cli_loop = (time.perf_counter() - start) * count / 20

    gost_support()
    store = load_trust_store(pki.trust_dir)
    policy = VerificationPolicy()
    start = time.perf_counter()
    passed = 0
    for document, signature in pairs:
        report = verify_document(document, store, policy, signature)
        passed += report.all_qualified_and_passed
    in_process = time.perf_counter() - start
    assert passed == count, f"only {passed} of {count} passed"
    return [
        (f"{count} small documents: loop of openssl cms -verify", f"{openssl_loop:.2f} s", "", ""),
        (
            f"{count} small documents: loop of gateway verify CLI (estimated from 20 runs)",
            f"{cli_loop:.2f} s",
            "",
            f"{cli_loop / openssl_loop:.1f}x the openssl loop time (interpreter start-up per call)",
        ),
        (
            f"{count} small documents: one process (library)",
            f"{in_process:.2f} s",
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
            f"{openssl_loop / in_process:.1f}x faster than openssl loop",
        ),
    ]


def bench_pdf(pki: TestPki, work: Path, megabytes: int, runs: int) -> list[tuple[str, str, str, str]]:
    """A large signed PDF: gateway verify vs `pyhanko sign validate` (RSA), and GOST timings."""
    from tests.pki import pdf as pdfs

    plain = pdfs.make_pdf(work / "big.pdf", "Large report", padding_bytes=megabytes << 20)
    rsa = pdfs.sign_pdf_pyhanko(pki, "rsa_signer", plain, work / "big-rsa.pdf")
    gost = pdfs.sign_pdf_gost(pki, "head256", plain, work / "big-gost.pdf")
    pyhanko = [
        str(REPO / ".venv" / "bin" / "pyhanko"), "sign", "validate", "--no-revocation-check",
        "--trust", str(pki.cert("rsa_root")), "--trust-replace", "--other-certs", str(pki.cert("rsa_ca")), str(rsa),
    ]
    pyhanko_wall, pyhanko_rss = _median_wall(pyhanko, runs)
    rows = [(f"{megabytes} MB PDF, RSA: pyhanko sign validate", f"{pyhanko_wall:.3f} s", f"{pyhanko_rss / 1024:.0f} MB", "")]
    for label, path in (("RSA", rsa), ("GOST-256", gost)):
        command = [*GATEWAY, "verify", str(path), "--trust", str(pki.trust_dir), "--json"]
        # RSA is verified but not qualified: exit code 1 by design.
        wall, rss = _median_wall(command, runs, ok_codes=("0", "1") if label == "RSA" else ("0",))
        ratio = f"{wall / pyhanko_wall:.2f}x pyhanko" if label == "RSA" else ""
        rows.append((f"{megabytes} MB PDF, {label}: gateway verify", f"{wall:.3f} s", f"{rss / 1024:.0f} MB", ratio))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller files, fewer runs")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        pki = build_test_pki(work / "pki")
        rows = []
        rows += bench_large(pki, work, 10 if args.quick else 50, 3 if args.quick else 9)
        rows += bench_many_small(pki, work, 40 if args.quick else 200)
        rows += bench_pdf(pki, work, 5 if args.quick else 30, 3 if args.quick else 5)
        big = 50 if args.quick else 500
        rows += [r for r in bench_large(pki, work, big, 1) if "gateway" in r[0] or "openssl" in r[0]]
        (work / f"doc{big}.bin").unlink()
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print("| case | wall (median) | peak RSS | ratio |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
