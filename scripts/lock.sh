#!/usr/bin/env bash
# Regenerates the lock files from pyproject.toml (uv pip compile; uv is pinned in
# the test extra): requirements.lock (the app, used by the Dockerfile) and
# requirements-test.lock (the app and its test tools, used by scripts/setup.sh).
# Run it after changing a dependency in pyproject.toml; commit both files.
#   bash scripts/lock.sh             # keep pins that still satisfy pyproject
#   bash scripts/lock.sh --upgrade   # newest versions within pyproject's ranges
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[lock] %s\n' "$*" >&2; }
PY=${PYTHON:-python3}
tool=.venv/bin/uv
if [ ! -x "$tool" ]; then
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q 'uv==0.13.9'
fi
hash=$(.venv/bin/python scripts/lockhash.py pyproject.toml)
compile() { # output, extra args
  local out=$1; shift
  log "uv pip compile -> $out"
  local tmp
  tmp=$(mktemp)
  [ -f "$out" ] && tail -n +2 "$out" > "$tmp"
  # Resolve against PyPI only: a machine's own pip configuration (local wheel
  # folders, mirrors) must not leak into the lock.
  # Resolved for the images' and CI's platform (Linux x86_64, glibc 2.36 = Debian 12, Python 3.11).
  UV_NO_CONFIG=1 UV_CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh" \
    "$tool" pip compile -q --index-url https://pypi.org/simple --no-emit-index-url \
      --python-version 3.11 --python-platform x86_64-manylinux_2_36 \
      --output-file "$tmp" "$@" pyproject.toml
  { echo "# pyproject-deps-sha256: $hash (scripts/lockhash.py; setup refuses a stale lock)"
    cat "$tmp"; } > "$out"
  rm -f "$tmp"
}
compile requirements.lock "$@"
compile requirements-test.lock --extra test "$@"
log "done: requirements.lock, requirements-test.lock (deps hash $hash)"
