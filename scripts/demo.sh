#!/usr/bin/env bash
# The demo command (README): installs everything (system packages as root, the
# venv), then runs `occupancy demo`: private Mosquitto + PostgreSQL/TimescaleDB,
# a simulated week of the example building through MQTT into TimescaleDB,
# analytics, and the dashboard on http://127.0.0.1:8050.
# Arguments go to `occupancy demo`, e.g. `scripts/demo.sh --no-serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
WITH_BROWSER=0 bash scripts/setup.sh
echo "[demo] setup done in $(( $(date +%s) - start )) s" >&2
exec .venv/bin/occupancy demo "$@"
