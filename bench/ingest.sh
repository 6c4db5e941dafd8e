#!/usr/bin/env bash
# Telemetry ingest benchmark (运行监测, issue 12): readings published by a load generator (`cityops simulate`)
# through the real Mosquitto, consumed by the server's MQTT ingest (shared subscription), checked, stored durably
# (SQLite FULL / PostgreSQL synchronous commit) with their rollups and judged by the rules — in readings per second,
# next to the broker's raw pass-through measured in the same run with the same generator (mosquitto_sub as the
# consumer). Then the alarm-to-case latency: gas leaks injected while the load runs, from the reading's time to
# the case the alarm opened. Results as Markdown; see docs/PERFORMANCE.md, "Telemetry ingest".
#
#   bench/ingest.sh [--seconds 20] [--devices 2000] [--batch 100] [--offer 150000] [--qos 1] [--skip-postgres]
#                   [--skip-sqlite]
#
# Rows: raw broker and end to end, one reading per message (offered as fast as the generator can) and --batch
# readings per message (offered at --offer readings/s, so the generator does not take the server's CPU). End to end
# is everything stored (new or duplicate, as /metrics counts) over the time from the first publish until it was.
# Needs mosquitto_sub (mosquitto-clients) and Mosquitto at CITYOPS_BENCH_MQTT_URL (default mqtt://127.0.0.1:1883).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_=20; DEVICES=2000; BATCH=100; QOS=1; SKIP_PG=0; SKIP_SQLITE=0; OFFER=150000
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) SECONDS_="$2"; shift 2 ;;
        --devices) DEVICES="$2"; shift 2 ;;
        --batch) BATCH="$2"; shift 2 ;;
        --qos) QOS="$2"; shift 2 ;;
        --offer) OFFER="$2"; shift 2 ;;
        --skip-postgres) SKIP_PG=1; shift ;;
        --skip-sqlite) SKIP_SQLITE=1; shift ;;
        *) echo "ingest.sh: unknown flag $1" >&2; exit 2 ;;
    esac
done
MQTT_URL="${CITYOPS_BENCH_MQTT_URL:-mqtt://127.0.0.1:1883}"
MQTT_HOST=$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p.hostname)' "$MQTT_URL")
MQTT_PORT=$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p.port or 1883)' "$MQTT_URL")
command -v mosquitto_sub >/dev/null || { echo "ingest.sh: needs mosquitto_sub (apt-get install mosquitto-clients)" >&2; exit 2; }

# shellcheck source=bench/common.sh
. bench/common.sh
prepare_bench
# One reading per message is offered faster than anything here can take (the generator publishes as fast as it
# can); batched messages at --offer readings/s.
RATE=10000000

metric() { # name{labels} → value on the server's /metrics (0 when absent)
    curl -fsS "http://127.0.0.1:$PORT/metrics" | python3 -c '
import sys
want = sys.argv[1]
for line in sys.stdin:
    if line.startswith(want + " "):
        print(int(float(line.split()[-1]))); break
else:
    print(0)' "$1"
}

stored() { echo $(( $(metric 'cityops_telemetry_readings_total{result="stored"}') + $(metric 'cityops_telemetry_readings_total{result="duplicate"}') )); }

# Raw pass-through: the same generator, mosquitto_sub as the only consumer (no server running).
raw_run() { # per_message rate → "readings seconds"
    local per="$1" rate="$2" out="$WORK/raw.txt"
    : >"$out"
    mosquitto_sub -h "$MQTT_HOST" -p "$MQTT_PORT" -q "$QOS" -t 'cityops/telemetry/+' -F '%U %l' >"$out" &
    local sub=$!
    sleep 0.5
    "$BIN" simulate --db "$DB" --devices "$DEVICES" --rate "$rate" --duration "$SECONDS_" --per-message "$per" \
        --mqtt "$MQTT_URL" --qos "$QOS" --quiet >"$WORK/sim-raw.log" 2>&1
    sleep 2
    kill "$sub" 2>/dev/null || true; wait "$sub" 2>/dev/null || true
    # Each line: the arrival time and the payload's length; readings = messages × per (the payloads of a
    # message with `per` readings hold `per` objects).
    python3 - "$out" "$per" <<'PY'
import sys
path, per = sys.argv[1], int(sys.argv[2])
ts = [float(l.split()[0]) for l in open(path) if l.strip()]
if len(ts) < 2:
    print("0 1"); sys.exit()
print(len(ts) * per, max(ts[-1] - ts[0], 1e-9))
PY
}

# End to end: the server consumes, stores and judges; the time from the first publish until everything is stored.
e2e_run() { # per_message rate → "readings seconds"
    local per="$1" rate="$2" before after start now last_change last
    before=$(stored)
    start=$(date +%s.%N)
    "$BIN" simulate --db "$DB" --devices "$DEVICES" --rate "$rate" --duration "$SECONDS_" --per-message "$per" \
        --mqtt "$MQTT_URL" --qos "$QOS" --quiet >"$WORK/sim-e2e.log" 2>&1
    local published; published=$(sed -n 's/^published \([0-9]*\) readings.*/\1/p' "$WORK/sim-e2e.log")
    last=$(stored); last_change=$(date +%s.%N)
    # Until everything published is stored (or nothing moved for 15 s).
    while :; do
        now=$(stored)
        if [ "$now" != "$last" ]; then last="$now"; last_change=$(date +%s.%N); fi
        if [ $(( now - before )) -ge "${published:-0}" ]; then break; fi
        if python3 -c "import sys,time; sys.exit(0 if time.time() - float(sys.argv[1]) > 15 else 1)" "$last_change"; then break; fi
        sleep 0.2
    done
    after=$(stored)
    python3 -c "import sys; print(int(sys.argv[1]) - int(sys.argv[2]), float(sys.argv[3]) - float(sys.argv[4]))" \
        "$after" "$before" "$last_change" "$start"
    echo "published=${published:-?}" >&2
}

# Alarm to case: gas leaks (60 %LEL, level 3) on distinct gas detectors while a steady load runs; the latency is
# the case's creation time minus the reading's time.
latency_run() {
    local token; token=$(login admin)
    "$BIN" simulate --db "$DB" --devices "$DEVICES" --rate 20000 --duration 15 --per-message "$BATCH" \
        --mqtt "$MQTT_URL" --qos "$QOS" --quiet --exclude-type gas_detector >"$WORK/sim-bg.log" 2>&1 &
    local bg=$!
    sleep 2
    python3 bench/ingest_latency.py --base "http://127.0.0.1:$PORT" --token "$token" --mqtt-host "$MQTT_HOST" \
        --mqtt-port "$MQTT_PORT" --leaks 50
    wait "$bg" || true
}

row() { # label readings seconds raw_readings raw_seconds
    python3 - "$@" <<'PY'
import sys
label, n, s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rate = n / s if s > 0 else 0
line = f"| {label} | {n:,} | {s:.1f} | {rate:,.0f} |"
if len(sys.argv) > 4:
    rn, rs = int(sys.argv[4]), float(sys.argv[5])
    raw = rn / rs if rs > 0 else 0
    line += f" {100 * rate / raw:.0f} % |" if raw else " – |"
else:
    line += " (baseline) |"
print(line)
PY
}

run_backend() { # label, store
    local label="$1"
    bench_database "$2" ingest
    CITYOPS_EVIDENCE_DIR="$WORK/evidence" "$BIN" demo --no-serve --cases-per-day 1 --db "$DB" >"$WORK/demo.log" 2>&1
    echo "<!-- $label: $(grep -c . "$WORK/demo.log") lines of demo log; devices: $DEVICES of the demo's -->"
    local raw1 raw_b e1 eb
    raw1=$(raw_run 1 "$RATE"); raw_b=$(raw_run "$BATCH" "$RATE")
    CITYOPS_MQTT_URL="$MQTT_URL" CITYOPS_MQTT_GROUP="bench-$label-$$" CITYOPS_MQTT_CLIENT_ID="bench-$label-$$" \
        CITYOPS_MQTT_QOS="$QOS" CITYOPS_MQTT_SESSION_EXPIRY_SECS=60 CITYOPS_WATCHER_INTERVAL_SECS=0 start_server "$DB"
    e1=$(e2e_run 1 "$RATE"); eb=$(e2e_run "$BATCH" "$OFFER")
    # shellcheck disable=SC2086
    row "raw broker, 1 reading/message (QoS $QOS)" $raw1
    # shellcheck disable=SC2086
    row "$label end to end, 1 reading/message" $e1 $raw1
    # shellcheck disable=SC2086
    row "raw broker, $BATCH readings/message" $raw_b
    # shellcheck disable=SC2086
    row "$label end to end, $BATCH readings/message (offered $OFFER/s)" $eb
    echo "<!-- $label alarm to case: $(latency_run) -->"
    stop_server
}

echo "| run | readings | seconds | readings/s | of raw |"
echo "|---|---:|---:|---:|---:|"
[ "$SKIP_SQLITE" -eq 1 ] || run_backend sqlite sqlite
[ "$SKIP_PG" -eq 1 ] || run_backend postgres postgres
