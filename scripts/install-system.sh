#!/usr/bin/env bash
# Installs the system packages workplace-occupancy needs on Debian 12 or 13, as root:
# Mosquitto, PostgreSQL with TimescaleDB (Debian 13: package; Debian 12: built from
# Debian 13's source package), Chromium for the browser tests, docker-compose (v1,
# only to validate docker-compose.yml: no Docker engine is needed or started),
# podman + mmdebstrap for the compose-stack test (WITH_CONTAINERS=0 skips them).
# Idempotent and fast when everything is already there.
set -euo pipefail

log() { printf '[install-system] %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  echo "install-system.sh must run as root (it uses apt-get)" >&2
  exit 2
fi

WITH_BROWSER=${WITH_BROWSER:-1}
export DEBIAN_FRONTEND=noninteractive

. /etc/os-release
codename=${VERSION_CODENAME:-}
log "Debian ${VERSION_ID:-?} ($codename)"

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for p in mosquitto mosquitto-clients postgresql postgresql-contrib python3-venv docker-compose; do
  have_pkg "$p" || need+=("$p")
done
# Integrations: promtool (prometheus) checks the alert rules; WeasyPrint needs
# Pango; pdftotext (poppler-utils) reads the weekly report back in the tests.
for p in prometheus poppler-utils libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; do
  have_pkg "$p" || need+=("$p")
done
if [ "$WITH_BROWSER" = 1 ]; then
  for p in chromium chromium-driver; do have_pkg "$p" || need+=("$p"); done
  # npm: axe-core for the dashboard's accessibility tests (tests/dashboard/axe);
  # a Node.js that brings its own npm is fine.
  command -v npm >/dev/null || have_pkg npm || need+=(npm)
fi
# The compose-stack test (tests/deploy): podman builds and runs the images of
# docker-compose.yml locally (scripts/build-images.sh), no Docker engine.
WITH_CONTAINERS=${WITH_CONTAINERS:-1}
if [ "$WITH_CONTAINERS" = 1 ]; then
  for p in podman runc mmdebstrap netavark aardvark-dns iptables uidmap openssl; do
    have_pkg "$p" || need+=("$p")
  done
fi

timescale_so() {
  local v
  for v in $(ls /usr/lib/postgresql 2>/dev/null | sort -rn); do
    if [ -f "/usr/lib/postgresql/$v/lib/timescaledb.so" ]; then echo "$v"; return 0; fi
  done
  return 1
}

apt_updated=0
apt_update() { if [ $apt_updated = 0 ]; then log "apt-get update"; apt-get update -qq; apt_updated=1; fi; }

if [ ${#need[@]} -gt 0 ]; then
  apt_update
  log "installing: ${need[*]}"
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The packaged services are not used: the project runs its own instances.
systemctl disable --now mosquitto >/dev/null 2>&1 || true
systemctl disable --now prometheus >/dev/null 2>&1 || true

if [ "$WITH_CONTAINERS" = 1 ]; then
  # crun's setrlimit fails here and it refuses the hybrid cgroup layout: runc,
  # no default ulimits (/work/shared/INFRA.md, "Containers without Docker").
  conf=/etc/containers/containers.conf
  if ! grep -q 'workplace-occupancy' "$conf" 2>/dev/null; then
    if [ -s "$conf" ]; then
      log "WARNING: $conf exists; make sure it sets default_ulimits = [] and runtime = \"runc\""
    else
      log "writing $conf (runc, no default ulimits)"
      mkdir -p /etc/containers
      printf '%s\n' '# workplace-occupancy (scripts/install-system.sh): podman on these machines' \
        '[containers]' 'default_ulimits = []' '' '[engine]' 'runtime = "runc"' > "$conf"
    fi
  fi
fi

if ts_ver=$(timescale_so); then
  log "TimescaleDB already installed for PostgreSQL $ts_ver"
else
  pgmajor=$(ls /usr/lib/postgresql | sort -rn | head -n1)
  if apt-cache show "postgresql-$pgmajor-timescaledb" >/dev/null 2>&1 || { apt_update; apt-cache show "postgresql-$pgmajor-timescaledb" >/dev/null 2>&1; }; then
    log "installing postgresql-$pgmajor-timescaledb from Debian"
    apt-get install -y -qq "postgresql-$pgmajor-timescaledb" >/dev/null
  else
    log "no TimescaleDB package for PostgreSQL $pgmajor on $codename: building Debian 13's source package (~1 min)"
    apt_update
    apt-get install -y -qq --no-install-recommends dpkg-dev "postgresql-server-dev-$pgmajor" cmake libssl-dev gcc make >/dev/null
    work=/var/cache/workplace-occupancy/timescaledb
    rm -rf "$work"; mkdir -p "$work/lists/partial"
    echo "deb-src http://deb.debian.org/debian trixie main" > "$work/sources.list"
    apt-get -qq -oDir::Etc::SourceList="$work/sources.list" -oDir::Etc::SourceParts=/nonexistent \
      -oDir::State::Lists="$work/lists" update
    (cd "$work" && apt-get -qq -oDir::Etc::SourceList="$work/sources.list" -oDir::Etc::SourceParts=/nonexistent \
      -oDir::State::Lists="$work/lists" source --download-only timescaledb >/dev/null)
    (cd "$work" && dpkg-source -x ./*.dsc src >/dev/null)
    log "compiling TimescaleDB (Apache edition)"
    (cd "$work/src" && ./bootstrap -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
       -DWARNINGS_AS_ERRORS=OFF -DLINTER=OFF -DPG_CONFIG="/usr/lib/postgresql/$pgmajor/bin/pg_config" >/dev/null \
     && make -C build -j"$(nproc)" install >/dev/null)
  fi
  ts_ver=$(timescale_so) || { echo "TimescaleDB install failed: no timescaledb.so found" >&2; exit 1; }
  log "TimescaleDB installed for PostgreSQL $ts_ver"
fi
log "done"
