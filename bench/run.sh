#!/usr/bin/env bash
# Runs the benchmarks and prints their table (see bench/bench_verify.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
exec .venv/bin/python bench/bench_verify.py "$@"
