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
# The lock files pin every package (scripts/lock.sh writes them); refuse a lock
# that no longer matches pyproject.toml's dependency lists.
want=$("$PY" scripts/lockhash.py pyproject.toml)
for lock in requirements.lock requirements-test.lock; do
  have=$(sed -n '1s/^# pyproject-deps-sha256: \([0-9a-f]*\).*/\1/p' "$lock" 2>/dev/null || true)
  if [ "$have" != "$want" ]; then
    echo "[setup] ERROR: $lock is stale: pyproject.toml's dependencies changed since it" \
      "was generated (lock ${have:-missing}, pyproject $want)." >&2
    echo "[setup]        Regenerate it with: bash scripts/lock.sh   (then commit both lock files)" >&2
    exit 3
  fi
done
# caldav pulls niquests, whose urllib3-future installs a .pth file that copies
# itself over urllib3 at every interpreter start; requests (webhooks,
# schemathesis) then breaks. Remove that hook and put the locked urllib3 back:
# niquests uses its own urllib3_future namespace when urllib3 is the real one.
keep_real_urllib3() {
  local venv=$1 pth
  pth=$(ls "$venv"/lib/python3*/site-packages/urllib3_future.pth 2>/dev/null || true)
  [ -n "$pth" ] || return 0
  rm -f "$pth"
  "$venv/bin/python" -m pip install -q --force-reinstall --no-deps \
    "$(grep -E '^urllib3==' requirements-test.lock)"
}
stamp=.venv/.installed-$(sha256sum requirements-test.lock pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  log "installing the locked packages and the project into .venv (pip, ~1-2 min the first time)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q --progress-bar on -r requirements-test.lock
  .venv/bin/python -m pip install -q --no-deps -e .
  keep_real_urllib3 .venv
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
