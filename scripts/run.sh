#!/usr/bin/env bash
# Installs what is needed, then runs the gateway on its embedded defaults
# (config.toml in the repository root: SQLite, local folders, trust store certs/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The member list is operator data; start from the example (member 42 of the test PKI).
mkdir -p var
[[ -f var/members.csv ]] || cp members.example.csv var/members.csv
exec .venv/bin/gateway serve --config config.toml "$@"
