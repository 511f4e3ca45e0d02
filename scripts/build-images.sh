#!/usr/bin/env bash
# Builds the container images of docker-compose.yml locally with podman, for
# machines without a registry (this project's CI): a Debian 12 base from
# mmdebstrap, Mosquitto and PostgreSQL + TimescaleDB on it (as
# scripts/install-system.sh installs them on a host), and the app image from the
# Dockerfile with that base's Python. Each image is tagged with a hash of what
# it is built from: a re-run with nothing changed builds nothing (seconds).
# Prints the image names as KEY=VALUE lines on stdout (for the compose file's
# MOSQUITTO_IMAGE, TIMESCALEDB_IMAGE, OCCUPANCY_IMAGE); progress goes to stderr.
#   scripts/build-images.sh            # build what is missing
#   scripts/build-images.sh --force    # rebuild everything
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[build-images] %s\n' "$*" >&2; }
force=0; [ "${1:-}" = --force ] && force=1
command -v podman >/dev/null || { echo "podman is not installed (scripts/install-system.sh with WITH_CONTAINERS=1)" >&2; exit 2; }

hash_of() { # files and strings -> 12 hex digits
  { for x in "$@"; do if [ -f "$x" ]; then sha256sum "$x"; else printf '%s\n' "$x"; fi; done; } \
    | sha256sum | cut -c1-12
}
have() { [ $force = 0 ] && podman image exists "$1"; }
build() { # name tag containerfile context [build args...]
  local image=$1 file=$2 ctx=$3; shift 3
  if have "$image"; then log "$image: cached"; return; fi
  log "$image: building"
  local t0=$SECONDS
  podman build -q --layers=false -f "$file" "$@" -t "$image" "$ctx" >/dev/null
  log "$image: built in $((SECONDS - t0)) s"
}

img=deploy/images
MMDEBSTRAP_ARGS="--variant=minbase --include=ca-certificates bookworm"
base="localhost/occupancy-debian:bookworm-$(hash_of "$MMDEBSTRAP_ARGS")"
if have "$base"; then
  log "$base: cached"
else
  log "$base: mmdebstrap $MMDEBSTRAP_ARGS (~1 min)"
  tmp=$(mktemp -d)
  # shellcheck disable=SC2086
  mmdebstrap -q $MMDEBSTRAP_ARGS "$tmp/rootfs.tar" >&2
  podman import -q "$tmp/rootfs.tar" "$base" >/dev/null
  rm -rf "$tmp"
fi

mosq="localhost/occupancy-mosquitto:$(hash_of "$base" $img/mosquitto.Containerfile)"
build "$mosq" $img/mosquitto.Containerfile $img --build-arg "BASE=$base"

tsdb="localhost/occupancy-timescaledb:pg15-$(hash_of "$base" $img/timescaledb.Containerfile $img/timescaledb-entrypoint.sh)"
build "$tsdb" $img/timescaledb.Containerfile $img --build-arg "BASE=$base"

py="localhost/occupancy-python:3.11-$(hash_of "$base" $img/python.Containerfile)"
build "$py" $img/python.Containerfile $img --build-arg "BASE=$base"

# The app: everything the Dockerfile copies (contents, so uncommitted edits count).
app_files=$(find Dockerfile .dockerignore requirements.lock pyproject.toml README.md app api notify \
  occupancy ingest analytics dashboard sensors_sim examples -type f \
  -not -path '*/__pycache__/*' -not -name '*.pyc' | LC_ALL=C sort)
# shellcheck disable=SC2086
app="localhost/workplace-occupancy:$(hash_of "$py" $app_files)"
if ! have "$app"; then
  # The locked wheels come from this host's pip (its index, proxy and CA
  # settings), so the build itself needs no network; kept between runs.
  wheels=${OCCUPANCY_WHEEL_CACHE:-/var/cache/workplace-occupancy/wheels}
  mkdir -p "$wheels"
  log "downloading the locked wheels into $wheels"
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_31_x86_64 --platform manylinux_2_34_x86_64 \
    --platform manylinux_2_36_x86_64 --platform any \
    --implementation cp -d "$wheels" -r requirements.lock setuptools wheel >&2
  build "$app" Dockerfile . --build-arg "BASE=$py" \
    --build-arg "PIP_OPTIONS=--no-index --find-links /wheels" --volume "$wheels:/wheels:ro"
fi

echo "MOSQUITTO_IMAGE=$mosq"
echo "TIMESCALEDB_IMAGE=$tsdb"
echo "OCCUPANCY_IMAGE=$app"
