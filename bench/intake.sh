#!/usr/bin/env bash
# Report-intake benchmark: POST /api/v1/cases end to end (auth, locate, duplicate check, routing, persist with the
# audit event) under concurrent load, on SQLite and on PostgreSQL, next to GET /healthz measured in the same run
# against the same server. Results are printed as a Markdown table; see docs/PERFORMANCE.md, "Report intake".
#
#   bench/intake.sh [--clients 64] [--seconds 20] [--threads 2] [--skip-postgres]
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
PG_URL="${CITYOPS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

if ! command -v wrk >/dev/null; then
    SUDO=""; if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get install -y wrk
fi
cargo build --release --locked -p cityops
BIN="${CARGO_TARGET_DIR:-target}/release/cityops"
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [ -n "${PG_DB:-}" ]; then psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=18093
login() {
    curl -fsS -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"cityops-demo\"}" "http://127.0.0.1:$PORT/api/v1/auth/login" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

result_row() { # label, RESULT line
    python3 - "$1" "$2" "$SECONDS_" "$CLIENTS" <<'PY'
import sys
label, line, secs, clients = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
kv = dict(p.split("=") for p in line.split()[1:])
n, dur = int(kv["requests"]), int(kv["duration_us"]) / 1e6
print(f"| {label} | {clients} | {n:,} | {kv['errors_status']} | {n/dur:,.0f} | {int(kv['p50_us'])/1000:.2f} | {int(kv['p99_us'])/1000:.2f} | {int(kv['max_us'])/1000:.1f} |")
PY
}

run_backend() { # label, db url
    local label="$1" db="$2"
    CITYOPS_EVIDENCE_DIR="$WORK/evidence" "$BIN" demo --no-serve --db "$db" >"$WORK/demo-$label.log" 2>&1
    CITYOPS_EVIDENCE_DIR="$WORK/evidence" CITYOPS_WATCHER_INTERVAL_SECS=0 RUST_LOG=warn \
        "$BIN" serve --db "$db" --listen "127.0.0.1:$PORT" --allow-demo-accounts >"$WORK/serve-$label.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 600); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    local tokens=""
    for i in 1 2 3 4 5 6 7 8 9 10; do tokens="$tokens $(login inspector$i)"; done
    local first; first=$(echo $tokens | cut -d' ' -f1)
    local before; before=$(curl -fsS -H "Authorization: Bearer $first" "http://127.0.0.1:$PORT/api/v1/cases?page_size=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
    local h r
    h=$(wrk -t"$THREADS" -c"$CLIENTS" -d"${SECONDS_}s" -s bench/wrk/get.lua "http://127.0.0.1:$PORT/healthz" | grep '^RESULT')
    r=$(CITYOPS_TOKENS="$tokens" wrk -t"$THREADS" -c"$CLIENTS" -d"${SECONDS_}s" -s bench/wrk/report.lua "http://127.0.0.1:$PORT" | grep '^RESULT')
    local after; after=$(curl -fsS -H "Authorization: Bearer $first" "http://127.0.0.1:$PORT/api/v1/cases?page_size=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
    local verify; verify=$(curl -fsS -H "Authorization: Bearer $(login admin)" "http://127.0.0.1:$PORT/api/v1/audit/verify" |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print("ok" if d["ok"] else "BROKEN", d["checked"])')
    result_row "$label GET /healthz" "$h"
    result_row "$label POST /api/v1/cases" "$r"
    echo "<!-- $label: cases visible to inspector1 before $before, after $after; audit chain: $verify -->"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

echo "| run | clients | requests | non-2xx | req/s | p50 ms | p99 ms | max ms |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
run_backend sqlite "sqlite://$WORK/bench.db"
if [ "$SKIP_PG" -eq 0 ]; then
    PG_DB="cityops_bench_$$"
    psql "$PG_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
    run_backend postgres "${PG_URL%/*}/$PG_DB"
fi
