#!/usr/bin/env bash
# The test command (README; .ci/run calls exactly this): installs everything it
# needs (system packages as root, the venv), then lint, types and the whole test
# suite against real Mosquitto, PostgreSQL + TimescaleDB and headless Chromium,
# all started by the test harness on free ports.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k ingest -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
log() { printf '[test] %s\n' "$*" >&2; }

bash scripts/setup.sh

log "ruff check"
.venv/bin/ruff check .
log "ruff format --check"
.venv/bin/ruff format --check .
log "mypy (strict on the packages)"
.venv/bin/mypy
log "lint-imports (the layers and independence contracts in .importlinter)"
.venv/bin/lint-imports
log "Any in public signatures (scripts/count_any.py, a ratchet: only down)"
.venv/bin/python scripts/count_any.py --max 0

log "pytest"
# The accessibility tests run in a pytest process of their own: their apps run
# stock Dash (no first-layout pre-render), which needs Dash's page callbacks,
# and the first Dash app built in a process takes those for itself (the API
# tests build one). Everything else runs in one process.
a11y=tests/dashboard/test_dashboard_a11y.py
set +e
.venv/bin/pytest "$@" --ignore "$a11y"
rc=$?
if [ $rc -eq 0 ] || [ $rc -eq 1 ]; then
  log "pytest (accessibility, own process)"
  .venv/bin/pytest "$@" "$a11y"
  rc2=$?
  # 5: every accessibility test deselected by the caller's own -m/-k
  if [ $rc2 -ne 0 ] && [ $rc2 -ne 5 ] && [ $rc -eq 0 ]; then rc=$rc2; fi
fi
set -e
if [ $rc -eq 5 ]; then
  log "pytest collected no tests: that is a failure here"
  rc=1
fi
log "finished in $(( $(date +%s) - start )) s (exit $rc)"
exit $rc
