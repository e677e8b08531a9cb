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
# Editable install as a plain path entry in a .pth file ("compat" mode): the repository
# is on sys.path, so edited code runs without a reinstall, and no interpreter start pays
# setuptools' default editable finder (about 8 ms of imports: pathlib, importlib.util, re,
# on every `gateway verify` and every Python process of the venv). Should a setuptools
# without that transitional mode ever come, the default editable install is used instead.
# A change of this script (e.g. of the install mode) installs again.
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" || scripts/bootstrap.sh -nt "$stamp" ]]; then
  log=".venv/bootstrap.log"
  target=".${extras:+[$extras]}"
  if ! { .venv/bin/python -m pip install -q --upgrade pip &&
         { .venv/bin/python -m pip install -q -e "$target" --config-settings editable_mode=compat ||
           .venv/bin/python -m pip install -q -e "$target"; }; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "bootstrap: pip install failed (log above, also in $log)" >&2
    exit 1
  fi
  touch "$stamp"
fi
# Bytecode of the gateway, as pip writes it for an installed wheel (only changed modules
# are compiled; with PYTHONDONTWRITEBYTECODE set, Python would otherwise compile every
# module from source at every `gateway` start, about 0.1 s).
.venv/bin/python -m compileall -q gateway validators >/dev/null
