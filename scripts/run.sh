#!/usr/bin/env bash
# Installs what is needed, then runs the gateway on its embedded defaults
# (config.toml in the repository root: SQLite, local folders, trust store certs/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/gateway serve --config config.toml "$@"
