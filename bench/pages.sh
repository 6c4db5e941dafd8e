#!/usr/bin/env bash
# Server time of the console's pages at demo scale (the Huizhou demo city: ~73,000 cases, 12 months of history):
# each page requested by one client at a time for a few seconds with wrk (release build, loopback), as the user
# who works on it, beside /healthz in the same run. One client means the latency is the page's server time plus
# loopback. Target (issue 10): every page ≤ 100 ms.
#
#   bench/pages.sh [sqlite|postgres] [seconds per page, default 5]
#
# Prints a Markdown table (also written to $WORK/pages.md). Needs wrk (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

STORE="${1:-sqlite}"
SECS="${2:-5}"
prepare_bench
bench_database "$STORE" pages
echo "bench/pages: creating the demo city ($STORE)"
make_demo "$DB"
start_server "$DB"

cookie() { echo "cityops_session=$(login "$1")"; }

# A case id to open: the newest case the dispatcher may see, an open one.
ADMIN_TOKEN=$(login admin)
CASE_ID=$(curl -fsS -H "Authorization: Bearer $ADMIN_TOKEN" "$BASE/api/v1/cases?page_size=1&status=dispatched" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')

# user | path | label
PAGES=$(cat <<LIST
admin|/healthz|/healthz (baseline)
intake|/|工作台 (intake)
dispatcher|/|工作台 (dispatcher)
supervisor|/cases|案件列表 (supervisor, every case, default sort)
supervisor|/cases?status=closed&sort=reported_desc&page=20|案件列表 (closed, page 20)
dispatcher|/cases?q=%E4%BA%95%E7%9B%96|案件列表 (search 井盖)
dispatcher|/cases/$CASE_ID|案件详情 (dispatcher)
leader|/map|地图
leader|/ui/cases.json?bbox=114.30,23.00,114.55,23.20&zoom=12&days=30|地图 案件层 (cells, city view, 30 days as the page asks)
leader|/ui/cases.json?bbox=114.30,23.00,114.55,23.20&zoom=12|地图 案件层 (cells, city view, all 73k cases)
leader|/ui/cases.json?bbox=114.410,23.105,114.425,23.115&zoom=16|地图 案件层 (points, street view)
leader|/screen|大屏
leader|/screen/data.json|大屏 figures (30 days)
inspector1|/m/report|手机 上报 (inspector)
inspector1|/m/tasks|手机 任务 (inspector)
handler_drainage|/m/tasks|手机 任务 (department handler)
handler_drainage|/|工作台 (department handler)
LIST
)

OUT="$WORK/pages.md"
{
    echo "| page | user | requests | non-2xx | p50 ms | p99 ms | max ms |"
    echo "|---|---|---:|---:|---:|---:|---:|"
} >"$OUT"
declare -A COOKIES
while IFS='|' read -r user path label; do
    [ -z "$user" ] && continue
    if [ -z "${COOKIES[$user]:-}" ]; then COOKIES[$user]=$(cookie "$user"); fi
    # One second of warm-up first (caches, the watcher's first pass after the start), then the measured run.
    wrk -t1 -c1 -d1s -H "Cookie: ${COOKIES[$user]}" "$BASE$path" >/dev/null
    line=$(wrk -t1 -c1 -d"${SECS}s" -H "Cookie: ${COOKIES[$user]}" -s bench/wrk/get.lua "$BASE$path" | grep '^RESULT')
    python3 - "$label" "$user" "$line" >>"$OUT" <<'PY'
import sys
label, user, line = sys.argv[1:4]
kv = dict(p.split("=") for p in line.split()[1:])
print(f"| {label} | {user} | {int(kv['requests']):,} | {kv['errors_status']} | {int(kv['p50_us'])/1000:.2f} | {int(kv['p99_us'])/1000:.2f} | {int(kv['max_us'])/1000:.1f} |")
PY
done <<<"$PAGES"
cat "$OUT"
