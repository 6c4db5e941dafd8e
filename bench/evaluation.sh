#!/usr/bin/env bash
# Evaluation speed (issue 11): all departments (and every other kind) for one month, with the previous
# month beside it, over the demo history and over a synthetic history of about a million cases
# (`cityops demo --cases-per-day 2740`: a year at ~2,740 reports a day), each answered by the API as the
# leader sees it — one client at a time with wrk (release build, loopback), beside /healthz in the same run.
# Target: ≤ 200 ms. The first request of each kind (the periods read from the store) is timed apart from the
# steady state (the periods kept, each day's fingerprint compared). Afterwards the API's figures of the first
# departments must equal the totals of their drill-down lists.
#
#   bench/evaluation.sh [sqlite|postgres] [cases per day, default 200] [seconds per request, default 5]
#
# Prints a Markdown table (also written to $WORK/evaluation.md). Needs wrk (installed when missing).
# CITYOPS_BENCH_DB=sqlite://…|postgres://… measures an existing demo database instead of creating one.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

STORE="${1:-sqlite}"
PER_DAY="${2:-200}"
SECS="${3:-5}"
prepare_bench
if [ -n "${CITYOPS_BENCH_DB:-}" ]; then
    # A demo city made before (`cityops demo --no-serve --cases-per-day N --db …`): 1M cases take minutes to create.
    bench_database none eval
    DB="$CITYOPS_BENCH_DB"
    echo "bench/evaluation: using $DB"
else
    bench_database "$STORE" eval
    echo "bench/evaluation: creating the demo city ($STORE, $PER_DAY reports a day)"
    started=$(date +%s)
    CITYOPS_EVIDENCE_DIR="$WORK/evidence" "$BIN" demo --no-serve --db "$DB" --cases-per-day "$PER_DAY" >"$WORK/demo.log" 2>&1
    echo "bench/evaluation: demo city ready in $(( $(date +%s) - started )) s"
fi
start_server "$DB"

TOKEN=$(login leader)
# The last whole month before today.
read -r FROM TO <<<"$(python3 -c '
import datetime as d
t = d.date.today().replace(day=1)
last = t - d.timedelta(days=1)
print(last.replace(day=1).isoformat(), last.isoformat())')"
CASES=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/cases?page_size=1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
echo "bench/evaluation: $CASES cases; evaluating $FROM … $TO"

OUT="$WORK/evaluation.md"
{
    echo "| request | cases in store | first (cold) ms | requests | non-2xx | p50 ms | p99 ms | max ms |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
} >"$OUT"
REQS=$(cat <<LIST
/healthz|/healthz (baseline)
/api/v1/evaluation/departments?from=$FROM&to=$TO|专业部门 (all departments, month + previous month)
/api/v1/evaluation/regions?from=$FROM&to=$TO&level=street|区域 (streets)
/api/v1/evaluation/regions?from=$FROM&to=$TO&level=grid|区域 (grids)
/api/v1/evaluation/inspectors?from=$FROM&to=$TO|监督员
/api/v1/evaluation/dispatchers?from=$FROM&to=$TO|派遣员
LIST
)
while IFS='|' read -r path label; do
    [ -z "$path" ] && continue
    # The first request after the server started reads the periods; later ones find them kept and
    # only compare the days' fingerprints.
    cold=$(curl -fsS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "$BASE$path")
    wrk -t1 -c1 -d1s -H "Authorization: Bearer $TOKEN" "$BASE$path" >/dev/null
    line=$(wrk -t1 -c1 -d"${SECS}s" -H "Authorization: Bearer $TOKEN" -s bench/wrk/get.lua "$BASE$path" | grep '^RESULT')
    python3 - "$label" "$CASES" "$line" "$cold" >>"$OUT" <<'PY'
import sys
label, cases, line, cold = sys.argv[1:5]
kv = dict(p.split("=") for p in line.split()[1:])
print(f"| {label} | {int(cases):,} | {float(cold)*1000:.0f} | {int(kv['requests']):,} | {kv['errors_status']} | {int(kv['p50_us'])/1000:.2f} | {int(kv['p99_us'])/1000:.2f} | {int(kv['max_us'])/1000:.1f} |")
PY
done <<<"$REQS"
# Exactness: every department's figures equal the totals of their drill-down lists.
python3 - "$BASE" "$TOKEN" "$FROM" "$TO" <<'PY'
import json, sys, urllib.request
base, token, f, t = sys.argv[1:5]
def get(path):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req))
e = get(f"/api/v1/evaluation/departments?from={f}&to={t}")
checked = 0
for row in e["rows"][:5]:
    for c in row["counts"]:
        d = get(c["cases_url"] + "&page_size=1")
        assert d["total"] == c["value"], (row["name"], c["key"], d["total"], c["value"])
        checked += 1
print(f"bench/evaluation: {checked} figures of the first 5 departments equal their drill-down totals")
PY

cat "$OUT"
