#!/usr/bin/env bash
# Where SQLite's write bytes go during report intake: which tables and indexes the WAL frames of the commits belong
# to. Runs the intake load of bench/intake.sh against a SQLite demo database for a few seconds, freezes the server,
# copies its WAL, and counts the frames (one page each, 4 KiB) per b-tree with `bench/wal_frames.py`. Each frame is
# a page the commit had to write, then the checkpoint writes it again into the database file, so a b-tree's share of
# the frames is its share of the bytes per report. See docs/PERFORMANCE.md, "Where the bytes of a report go".
#
#   bench/wal_frames.sh [--seconds 6] [--clients 64]
#
# CITYOPS_BENCH_SQLITE_TEMPLATE=demo.db reuses a demo database made earlier (copied; the template is not changed).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_=6; CLIENTS=64
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) SECONDS_="$2"; shift 2 ;;
        --clients) CLIENTS="$2"; shift 2 ;;
        *) echo "wal_frames.sh: unknown flag $1" >&2; exit 2 ;;
    esac
done

# shellcheck source=bench/common.sh
. bench/common.sh
prepare_bench
PORT=18095
trap 'stop_server; rm -rf "$WORK"' EXIT

if [ -n "${CITYOPS_BENCH_SQLITE_TEMPLATE:-}" ]; then
    cp "$CITYOPS_BENCH_SQLITE_TEMPLATE" "$WORK/bench.db"
else
    make_demo "sqlite://$WORK/bench.db"
fi
sync
CITYOPS_WATCHER_INTERVAL_SECS=0 start_server "sqlite://$WORK/bench.db"
tokens=$(inspector_tokens 10)
CITYOPS_TOKENS="$tokens" timeout "$SECONDS_" wrk -t2 -c"$CLIENTS" -d"$((SECONDS_ + 10))s" -s bench/wrk/report.lua \
    "http://127.0.0.1:$PORT" >/dev/null || true
# Freeze the server mid-load (no checkpoint can reset the WAL while it is copied), then stop it for good.
kill -STOP "$SERVER_PID"
cp "$WORK/bench.db-wal" "$WORK/saved.wal"
kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
python3 bench/wal_frames.py "$WORK/bench.db" "$WORK/saved.wal"
