#!/usr/bin/env bash
# Installs what is needed (Debian packages, .venv with test extras), then runs
# the whole test suite. Exit status is pytest's. Each test has a 120 s timeout
# (pytest-timeout); the run is refused when ../shared/corpus/MANIFEST.md is missing,
# unless GATEWAY_ALLOW_NO_CORPUS=1 (GATEWAY_CORPUS=DIR points at another copy).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
exec .venv/bin/python -m pytest -q "$@"
