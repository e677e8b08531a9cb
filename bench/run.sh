#!/usr/bin/env bash
# Runs the benchmarks and prints their tables (bench/bench_verify.py, bench/bench_upload.py, bench/bench_service.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
.venv/bin/python bench/bench_verify.py "$@"
echo
.venv/bin/python bench/bench_upload.py "$@"
echo
.venv/bin/python bench/bench_service.py "$@"
