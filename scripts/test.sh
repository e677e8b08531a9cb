#!/usr/bin/env bash
# Installs what is needed (Debian packages, .venv with test extras), then runs
# the whole test suite. Exit status is pytest's. Each test has a 120 s timeout
# (pytest-timeout); the run is refused when ../shared/corpus/MANIFEST.md is missing,
# unless GATEWAY_ALLOW_NO_CORPUS=1 (GATEWAY_CORPUS=DIR points at another copy).
# Before pytest, ruff and mypy --strict (configured in pyproject.toml) must find nothing:
# a finding fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
echo "ruff check"
.venv/bin/ruff check .
echo "mypy --strict (pyproject.toml [tool.mypy] files)"
.venv/bin/mypy
# Two workers (pytest-xdist), whole files per worker so module-scoped fixtures (the hostile
# corpus, the browser) are built once; the tests are independent (own tmp_path, ports from
# the kernel, session PKI built per worker in about a second).
exec .venv/bin/python -m pytest -q -n 2 --dist loadfile "$@"
