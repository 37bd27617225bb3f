#!/usr/bin/env bash
# Bootstrap a machine for tillpi: system packages, then a virtualenv with the project installed.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(
  mosquitto          # the store bus broker (started privately by tests and the demo)
  libzbar0           # pyzbar's barcode decoder
  xvfb xauth         # a virtual screen for the Kivy window in tests
  libgl1-mesa-dri libegl1 libgles2   # Mesa GL for Kivy
  chromium chromium-driver           # real browser for the web console tests
  postgresql         # throwaway PostgreSQL servers for HQ tests (the service itself is not used)
  fonts-noto-cjk     # Simplified Chinese on screens and receipts
  shellcheck         # static checks of the Pi image and firmware scripts
)

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  [[ "$pkg" == \#* ]] && continue
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "bootstrap: installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing system packages: ${missing[*]}" >&2
    echo "bootstrap: run this once, then try again:" >&2
    echo "    sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "bootstrap: tillpi needs Python 3.11 or newer as '$PYTHON' (set PYTHON=... to choose another)" >&2
  exit 1
fi

stamp=.venv/.tillpi-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ ! -x .venv/bin/python ]]; then
  echo "bootstrap: creating .venv"
  "$PYTHON" -m venv .venv
fi
if [[ ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
  echo "bootstrap: installing Python packages into .venv (first run takes a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi
