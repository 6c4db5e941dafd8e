#!/usr/bin/env bash
# Bounded soak: reports at a steady rate (by default half the intake maximum measured by
# bench/intake.sh) with the deadline watcher running and several readers listing, opening and
# counting cases (each waiting a second between requests, as people at consoles do), for a few minutes. The server's resident memory is sampled every second; wrk runs
# in back-to-back segments so that each segment has its own p99. At the end the script writes
# the samples (CSV), a plotted curve (SVG: memory and per-segment p99 over time) and a Markdown
# summary that checks: memory flat, p99 within target, zero errors, audit chain intact.
#
#   bench/soak.sh [--rate 1500] [--minutes 4] [--segment 20] [--readers 4] [--reader-think-ms 1000]
#                 [--db sqlite|postgres] [--out docs/perf]
#
# Mind the daily code space: a case code is YYYYMMDD + 5 digits, so one day holds at most 99,999
# reports; rate × minutes × 60 must stay below that (e.g. 400/s for 4 minutes), or the reports past
# it are refused (409) as they would be in production.
#
# The rate is paced by wrk connections with a fixed think time (bench/wrk/paced_report.lua), so
# it is an offered load, not a ceiling. Needs wrk (installed when missing) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=1500; MINUTES=4; SEGMENT=20; READERS=4; READER_THINK_MS=1000; DB_KIND=sqlite; OUT=docs/perf; P99_TARGET_MS=50
while [ $# -gt 0 ]; do
    case "$1" in
        --rate) RATE="$2"; shift 2 ;;
        --minutes) MINUTES="$2"; shift 2 ;;
        --segment) SEGMENT="$2"; shift 2 ;;
        --readers) READERS="$2"; shift 2 ;;
        --reader-think-ms) READER_THINK_MS="$2"; shift 2 ;;
        --db) DB_KIND="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        *) echo "soak.sh: unknown flag $1" >&2; exit 2 ;;
    esac
done
if [ "$DB_KIND" = postgres ]; then P99_TARGET_MS=100; fi

# shellcheck source=bench/common.sh
. bench/common.sh
prepare_bench
PORT=18094
SAMPLER_PID=""
cleanup() {
    if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
    stop_server
    if [ -n "${PG_DB:-}" ]; then psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$DB_KIND" = postgres ]; then
    PG_DB="cityops_soak_$$"
    psql "$PG_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
    DB="${PG_URL%/*}/$PG_DB"
    make_demo "$DB"
elif [ -n "${CITYOPS_BENCH_SQLITE_TEMPLATE:-}" ]; then
    cp "$CITYOPS_BENCH_SQLITE_TEMPLATE" "$WORK/soak.db"
    DB="sqlite://$WORK/soak.db"
else
    DB="sqlite://$WORK/soak.db"
    make_demo "$DB"
fi
# The watcher runs as in production, every 5 s instead of 30 s so that it works during the soak.
CITYOPS_WATCHER_INTERVAL_SECS=5 start_server "$DB"
TOKENS=$(inspector_tokens 10)
READER_TOKENS="$(login supervisor) $(login dispatcher) $(login leader) $(login admin)"

# Resident memory every second: seconds since start, RSS in KiB.
START=$(date +%s.%N)
(
    while kill -0 "$SERVER_PID" 2>/dev/null; do
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
        echo "$(python3 -c "import time; print(f'{time.time() - $START:.1f}')"),$rss"
        sleep 1
    done
) >"$WORK/rss.csv" &
SAMPLER_PID=$!

# Writers: RATE reports/s as CLIENTS connections each waiting THINK ms between requests.
CLIENTS=32
THINK_MS=$(python3 -c "print(max(1, round($CLIENTS * 1000 / $RATE)))")
SEGMENTS=$(( MINUTES * 60 / SEGMENT ))
: >"$WORK/segments.csv"
for s in $(seq 1 "$SEGMENTS"); do
    t0=$(python3 -c "import time; print(f'{time.time() - $START:.1f}')")
    CITYOPS_TOKENS="$READER_TOKENS" CITYOPS_THINK_MS="$READER_THINK_MS" wrk -t1 -c"$READERS" -d"${SEGMENT}s" -s bench/wrk/read.lua \
        "http://127.0.0.1:$PORT" >"$WORK/read-$s.txt" 2>&1 &
    reader=$!
    CITYOPS_TOKENS="$TOKENS" CITYOPS_THINK_MS="$THINK_MS" wrk -t2 -c"$CLIENTS" -d"${SEGMENT}s" \
        -s bench/wrk/paced_report.lua "http://127.0.0.1:$PORT" >"$WORK/write-$s.txt" 2>&1
    wait "$reader"
    w=$(grep '^RESULT' "$WORK/write-$s.txt"); r=$(grep '^RESULT' "$WORK/read-$s.txt")
    echo "$t0,$w,$r" >>"$WORK/segments.csv"
done
kill "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""
VERIFY=$(audit_verify)
mkdir -p "$OUT"
cp "$WORK/rss.csv" "$OUT/soak-$DB_KIND-rss.csv"
python3 bench/soak_report.py "$WORK/rss.csv" "$WORK/segments.csv" "$OUT/soak-$DB_KIND.svg" \
    "$DB_KIND" "$RATE" "$P99_TARGET_MS" "$VERIFY" | tee "$OUT/soak-$DB_KIND.md"
echo "soak.sh: wrote $OUT/soak-$DB_KIND.svg, $OUT/soak-$DB_KIND-rss.csv and $OUT/soak-$DB_KIND.md" >&2
