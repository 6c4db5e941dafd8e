#!/usr/bin/env bash
# Report-intake benchmark: POST /api/v1/cases end to end (auth, locate, duplicate check, routing, persist with the
# audit event) under concurrent load, on SQLite and on PostgreSQL, next to GET /healthz measured in the same run
# against the same server. Results are printed as a Markdown table; see docs/PERFORMANCE.md, "Report intake".
#
#   bench/intake.sh [--clients 64] [--seconds 20] [--threads 2] [--skip-postgres]
#
# CITYOPS_BENCH_SQLITE_TEMPLATE=demo.db reuses a demo database made earlier (`cityops demo --no-serve`)
# instead of building the city again (the file is copied; the template is not changed).
#
# Needs wrk (Debian package `wrk`; installed when missing and apt-get is available) and a release build of cityops.
# PostgreSQL runs use a fresh database cityops_bench_<pid>, dropped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=64; SECONDS_=20; THREADS=2; SKIP_PG=0
while [ $# -gt 0 ]; do
    case "$1" in
        --clients) CLIENTS="$2"; shift 2 ;;
        --seconds) SECONDS_="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        --skip-postgres) SKIP_PG=1; shift ;;
        *) echo "intake.sh: unknown flag $1" >&2; exit 2 ;;
    esac
done

# shellcheck source=bench/common.sh
. bench/common.sh
prepare_bench
PORT=18093
cleanup() {
    stop_server
    if [ -n "${PG_DB:-}" ]; then psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

run_backend() { # label, db url
    local label="$1" db="$2"
    if [ "$label" = sqlite ] && [ -n "${CITYOPS_BENCH_SQLITE_TEMPLATE:-}" ]; then
        cp "$CITYOPS_BENCH_SQLITE_TEMPLATE" "$WORK/bench.db" # a demo database made earlier
    else
        make_demo "$db"
    fi
    CITYOPS_WATCHER_INTERVAL_SECS=0 start_server "$db"
    local tokens; tokens=$(inspector_tokens 10)
    local h r
    h=$(wrk -t"$THREADS" -c"$CLIENTS" -d"${SECONDS_}s" -s bench/wrk/get.lua "http://127.0.0.1:$PORT/healthz" | grep '^RESULT')
    r=$(CITYOPS_TOKENS="$tokens" wrk -t"$THREADS" -c"$CLIENTS" -d"${SECONDS_}s" -s bench/wrk/report.lua "http://127.0.0.1:$PORT" | grep '^RESULT')
    local verify; verify=$(audit_verify)
    result_row "$label GET /healthz" "$h" "$CLIENTS"
    result_row "$label POST /api/v1/cases" "$r" "$CLIENTS"
    echo "<!-- $label: audit chain after the run: $verify -->"
    stop_server
}

echo "| run | clients | requests | non-2xx | req/s | p50 ms | p99 ms | max ms |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
run_backend sqlite "sqlite://$WORK/bench.db"
if [ "$SKIP_PG" -eq 0 ]; then
    PG_DB="cityops_bench_$$"
    psql "$PG_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
    run_backend postgres "${PG_URL%/*}/$PG_DB"
fi
