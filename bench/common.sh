# Shared by bench/intake.sh and bench/soak.sh (sourced, not run): build, demo database, server,
# logins and wrk's RESULT line. `prepare_bench` sets BIN and WORK; the caller sets PORT.

# What every benchmark does first: wrk, a release build, BIN, a scratch WORK directory, PG_URL.
prepare_bench() {
    need_wrk
    cargo build --release --locked -p cityops
    BIN="${CARGO_TARGET_DIR:-target}/release/cityops"
    WORK=$(mktemp -d)
    SERVER_PID=""
    PG_URL="${CITYOPS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
}

# A free port (PORT, BASE), the clean-up on exit, and an empty database for store $1 (`sqlite`, `postgres`, or
# `none` for a database the caller brings) named after the benchmark $2: DB, and PG_DB (dropped on exit).
bench_database() {
    trap 'stop_server; [ -n "${PG_DB:-}" ] && psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    BASE="http://127.0.0.1:$PORT"
    case "$1" in
        sqlite) DB="sqlite://$WORK/demo.db" ;;
        postgres)
            PG_DB="cityops_$2_$$"
            psql -q "$PG_URL" -c "CREATE DATABASE $PG_DB" >/dev/null
            DB="${PG_URL%/*}/$PG_DB" ;;
        none) DB="" ;;
        *) echo "bench: unknown store $1" >&2; exit 2 ;;
    esac
}

need_wrk() {
    if ! command -v wrk >/dev/null; then
        local sudo=""; if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
        $sudo apt-get install -y wrk
    fi
}

# Creates the Huizhou demo city (with its 12-month history) in database $1.
make_demo() {
    CITYOPS_EVIDENCE_DIR="$WORK/evidence" "$BIN" demo --no-serve --db "$1" >"$WORK/demo.log" 2>&1
}

# Starts `cityops serve` on database $1 (extra environment in the caller's env) and waits for /healthz.
# The benchmarks send thousands of reports a second from a few inspector accounts and read with
# many connections per token: the report quota and the per-user limit of expensive requests are off, and so is the
# report schedule (its first run computes a month of reports beside the benchmark).
start_server() {
    CITYOPS_REPORT_RATE_PER_MINUTE="${CITYOPS_REPORT_RATE_PER_MINUTE:-0}" \
    CITYOPS_CITIZEN_REPORT_RATE_PER_MINUTE="${CITYOPS_CITIZEN_REPORT_RATE_PER_MINUTE:-0}" \
    CITYOPS_CITIZEN_REPORT_RATE_PER_ADDRESS="${CITYOPS_CITIZEN_REPORT_RATE_PER_ADDRESS:-0}" \
    CITYOPS_EXPENSIVE_PER_USER="${CITYOPS_EXPENSIVE_PER_USER:-0}" \
    CITYOPS_REPORTS_INTERVAL_SECS="${CITYOPS_REPORTS_INTERVAL_SECS:-0}" \
    CITYOPS_EVIDENCE_DIR="$WORK/evidence" RUST_LOG="${RUST_LOG:-warn}" \
        "$BIN" serve --db "$1" --listen "127.0.0.1:$PORT" --allow-demo-accounts >"$WORK/serve.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 600); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "the server did not come up; see $WORK/serve.log" >&2
    return 1
}

stop_server() {
    if [ -n "${SERVER_PID:-}" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    SERVER_PID=""
}

login() { # username → bearer token
    curl -fsS -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"cityops-demo\"}" "http://127.0.0.1:$PORT/api/v1/auth/login" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

inspector_tokens() { # n → space-separated tokens of inspector1…inspectorN
    local tokens=""
    for i in $(seq 1 "$1"); do tokens="$tokens $(login "inspector$i")"; done
    echo "$tokens"
}

audit_verify() { # → "ok <checked>" or "BROKEN <checked>"
    curl -fsS -H "Authorization: Bearer $(login admin)" "http://127.0.0.1:$PORT/api/v1/audit/verify" |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print("ok" if d["ok"] else "BROKEN", d["checked"])'
}

# One Markdown row from wrk's RESULT line: label, RESULT line, clients.
result_row() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys
label, line, clients = sys.argv[1], sys.argv[2], sys.argv[3]
kv = dict(p.split("=") for p in line.split()[1:])
n, dur = int(kv["requests"]), int(kv["duration_us"]) / 1e6
print(f"| {label} | {clients} | {n:,} | {kv['errors_status']} | {n/dur:,.0f} | {int(kv['p50_us'])/1000:.2f} | {int(kv['p99_us'])/1000:.2f} | {int(kv['max_us'])/1000:.1f} |")
PY
}
