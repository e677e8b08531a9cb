#!/usr/bin/env bash
# Installs what the gateway needs on a Debian machine (run as root) and creates
# the project's virtual environment in .venv. Idempotent: a second run only
# checks. Used by scripts/run.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  python3 python3-venv python3-dev gcc
  openssl libssl3 libengine-gost-openssl
  libmagic1 libarchive13 unar
)

extras="${1:-}"
if [[ ",$extras," == *",test,"* ]]; then
  # The staff workspace's browser tests drive Debian's Chromium through chromedriver.
  DEBIAN_PACKAGES+=(chromium chromium-driver)
fi

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp=".venv/.installed${extras:+-$extras}"
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
  log=".venv/bootstrap.log"
  if ! { .venv/bin/python -m pip install -q --upgrade pip &&
         .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "bootstrap: pip install failed (log above, also in $log)" >&2
    exit 1
  fi
  touch "$stamp"
fi
