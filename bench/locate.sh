#!/usr/bin/env bash
# Locate benchmark: in-memory RegionIndex vs PostGIS on the same points (see docs/PERFORMANCE.md, "Locate").
#
#   bench/locate.sh [extra cityops-bench flags, e.g. --points 1000000 --pg-point-queries 200000]
#
# Installs Debian's postgresql-15-postgis-3 when the postgis extension is missing (needs root/apt), then runs
# `cityops-bench locate` in release mode against $CITYOPS_BENCH_POSTGRES_URL (default: the local server). The
# benchmark creates a fresh database cityops_bench_<pid>, loads the grids with a GiST index and drops it after.
set -euo pipefail
cd "$(dirname "$0")/.."

URL="${CITYOPS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

has_postgis() {
    psql "$URL" -Atc "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'" 2>/dev/null | grep -q 1
}

if ! has_postgis; then
    if ! dpkg -s postgresql-15-postgis-3 >/dev/null 2>&1; then
        echo "locate.sh: installing postgresql-15-postgis-3" >&2
        SUDO=""
        if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
        $SUDO apt-get update
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y postgresql-15-postgis-3
    fi
    if ! has_postgis; then
        echo "locate.sh: the postgis extension is still not available at $URL" >&2
        exit 1
    fi
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB RAM; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ); $(rustc --version); $(psql "$URL" -Atc 'SHOW server_version')"
cargo run --release -q -p cityops-bench -- locate --postgres "$URL" "$@"
