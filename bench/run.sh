#!/usr/bin/env bash
# Runs the benchmarks and prints their tables, each beside its reference tool: verification
# against openssl and pyhanko, `gateway verify` start-up against openssl, uploads and the
# whole service, path building, archives, 1,000 signed PDFs in a RAR5/ZIP package, and a
# 1,000,000-entry CRL. Extra arguments (e.g. --quick) go to the first five and the CRL bench.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
for bench in bench_verify bench_upload bench_service bench_paths bench_archives; do
  [[ -f "bench/$bench.py" ]] || continue
  .venv/bin/python "bench/$bench.py" "$@"
  echo
done
.venv/bin/python bench/bench_startup.py          # 1 KB / 1 MB / 100 MB: gateway verify vs openssl
echo
.venv/bin/python bench/bench_rar_package.py      # 1,000 signed PDFs, RAR5 vs ZIP vs unar/unzip + openssl: ~5 min
echo
.venv/bin/python bench/bench_crl.py "$@"   # 1,000,000-entry GOST CRL: ~40 s (generation included)
