#!/usr/bin/env bash
# Installs what is needed (Debian packages, .venv with test extras), then runs
# the whole test suite. Exit status is pytest's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
exec .venv/bin/python -m pytest -q "$@"
