"""Worst case of certificate path building (issue 9, section 4): time and peak RSS.

Signatures built by ``tests/pki/path_attack.py`` carry a pool of looping certificates
(one subject and one key, self-issued; or two subjects cross-signed in a loop) that made
the former depth-first search run for ever. Each case is verified in a fresh child process
(so the peak RSS is that of one verification, not of building the attack), several times;
the table gives the median wall time, the certificate signature checks spent and the peak
RSS of the child. Before the bound (commit 08f2e25 and earlier) the 60-certificate cases
did not finish within 60 s.

Worst case: "mesh" (no duplicates to collapse, every path real) ends on the search bounds.

Usage: .venv/bin/python bench/bench_paths.py [--runs N] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.pki.builder import build_test_pki  # noqa: E402
from tests.pki.path_attack import build_path_attack  # noqa: E402

_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from validators.gost import gost_support
from validators.signatures import chain
from validators.signatures.model import RevocationMode
from validators.signatures.verify import VerificationPolicy, verify_cms
from validators.trust import load_trust_store
gost_support()
store = load_trust_store(Path(sys.argv[2]))
signature, document = Path(sys.argv[3]), Path(sys.argv[4])
used = []
original = chain.build_path
def counting(*args, **kwargs):
    result = original(*args, **kwargs)
    used.append(args[3].used if len(args) > 3 else -1)
    return result
chain.build_path = counting
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
report = verify_cms(signature.read_bytes(), store, VerificationPolicy(revocation=RevocationMode.OFF), document=document)
elapsed = time.perf_counter() - started
print(json.dumps({
    "seconds": elapsed,
    "checks": max(used, default=0),
    "verdict": report.signatures[0].sub_indication,
    "rss_before_mb": rss_before / 1024,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-paths-"))
    try:
        pki = build_test_pki(workdir / "pki")
        print("| case | certificates | signature bytes | verdict | median s | max s | signature checks | peak RSS MB (import-only) |")
        print("|---|---|---|---|---|---|---|---|")
        for shape in ("same_key", "cross_loop", "mesh"):
            for count in (60, 99):
                attack = build_path_attack(pki, workdir / f"{shape}-{count}", shape, count)  # type: ignore[arg-type]
                results = []
                for _ in range(args.runs):
                    out = subprocess.run(
                        [sys.executable, "-c", _CHILD, str(REPO), str(pki.trust_dir), str(attack.signature), str(attack.document)],
                        capture_output=True, text=True, check=True,
                    ).stdout
                    results.append(json.loads(out.strip().splitlines()[-1]))
                times = [r["seconds"] for r in results]
                last = results[-1]
                print(
                    f"| {shape} | {count} | {attack.signature.stat().st_size} | {last['verdict']} | "
                    f"{statistics.median(times):.3f} | {max(times):.3f} | {last['checks']} | "
                    f"{last['peak_rss_mb']:.0f} ({last['rss_before_mb']:.0f}) |"
                )
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
