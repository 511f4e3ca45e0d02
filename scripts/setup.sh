#!/usr/bin/env bash
# Sets up everything: system packages (root), then a virtualenv in .venv with the
# project and its test tools. Idempotent; fast when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*" >&2; }

if [ "$(id -u)" = 0 ]; then
  bash scripts/install-system.sh
else
  log "not root: skipping system packages (run scripts/install-system.sh as root once)"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $($PY --version 2>&1)"
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  log "installing the project and its test tools into .venv (pip, ~1-2 min the first time)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q --progress-bar on -e '.[test]'
  rm -f .venv/.installed-*; touch "$stamp"
else
  log ".venv is up to date"
fi
# axe-core for the accessibility tests (npm, pinned by its lock file).
axe=tests/dashboard/axe
if [ "${WITH_BROWSER:-1}" = 1 ] && command -v npm >/dev/null; then
  axe_stamp=$axe/node_modules/.installed-$(sha256sum $axe/package-lock.json | cut -c1-16)
  if [ ! -f "$axe_stamp" ]; then
    log "installing axe-core (npm ci in $axe)"
    npm ci --prefix "$axe" --no-audit --no-fund --silent
    touch "$axe_stamp"
  fi
fi
log "ready: .venv/bin/occupancy --help"
