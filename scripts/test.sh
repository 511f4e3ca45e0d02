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

log "pytest"
set +e
.venv/bin/pytest "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
  log "pytest collected no tests: that is a failure here"
  rc=1
fi
log "finished in $(( $(date +%s) - start )) s (exit $rc)"
exit $rc
