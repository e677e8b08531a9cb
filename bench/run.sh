#!/usr/bin/env bash
# Runs the benchmarks and prints their tables: verification against openssl and pyhanko,
# uploads and the whole service, path building, archives, and a 1,000,000-entry CRL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
for bench in bench_verify bench_upload bench_service bench_paths bench_archives; do
  [[ -f "bench/$bench.py" ]] || continue
  .venv/bin/python "bench/$bench.py" "$@"
  echo
done
.venv/bin/python bench/bench_crl.py "$@"   # 1,000,000-entry GOST CRL: ~40 s (generation included)
