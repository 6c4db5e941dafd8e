#!/usr/bin/env python3
"""Alarm-to-case latency for bench/ingest.sh: publishes one gas leak (60 %LEL: level 3 of the default gas rule,
whose case level is 2, held 30 s) on each of N distinct gas detectors with `mosquitto_pub` (QoS 1): one message of
two readings 31 s apart; then reads each detector's alarm and the case it opened, and reports the case's `created_at`
minus the publish time (p50, p99, max) — one line, for the benchmark's report."""
import argparse
import datetime as dt
import json
import subprocess
import time
import urllib.request


def get(base, token, path):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def parse(ts):
    return dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--mqtt-host", default="127.0.0.1")
    ap.add_argument("--mqtt-port", default="1883")
    ap.add_argument("--leaks", type=int, default=50)
    a = ap.parse_args()
    gas = get(a.base, a.token, f"/api/v1/devices?type=gas_detector&page_size={a.leaks}")["items"]
    sent = {}
    for d in gas:
        # Only detectors without an active alarm: a new alarm each.
        if d["status"] != "normal":
            continue
        # The default gas rule wants the level held 30 s (by the readings' times): one reading 31 s
        # ago, one now; the alarm (and its case) comes with the second.
        # Both in one message: the server's connections share the messages, and two messages sent
        # back to back may be taken in either order (the older one would then be ignored).
        # Times from now on (a detector the load just drove has readings up to now; older ones
        # would be ignored), the second 31 s ahead (within the 5 minutes of allowed clock skew);
        # the latency counts from the publish.
        now = dt.datetime.now(dt.timezone.utc)
        payload = json.dumps([{"metric": "ch4_lel", "value": 60.0, "ts": at.isoformat(timespec="milliseconds")}
                              for at in (now, now + dt.timedelta(seconds=31))])
        subprocess.run(["mosquitto_pub", "-h", a.mqtt_host, "-p", str(a.mqtt_port), "-q", "1",
                        "-t", "cityops/telemetry/" + d["id"], "-m", payload], check=True)
        sent[d["id"]] = now
        time.sleep(0.05)
    latencies, missing = [], 0
    deadline = time.time() + 30
    pending = dict(sent)
    while pending and time.time() < deadline:
        for dev, at in list(pending.items()):
            alarms = get(a.base, a.token, f"/api/v1/alarms?device_id={dev}&active=true")["items"]
            with_case = [x for x in alarms if x.get("case_id")]
            if with_case:
                case = get(a.base, a.token, f"/api/v1/cases/{with_case[0]['case_id']}")
                latencies.append((parse(case["created_at"]) - at).total_seconds() * 1000)
                del pending[dev]
        time.sleep(0.2)
    missing = len(pending)
    if not latencies:
        print(f"no alarm became a case ({len(sent)} leaks sent)")
        return
    latencies.sort()
    q = lambda p: latencies[min(len(latencies) - 1, int(round(p * (len(latencies) - 1))))]
    print(f"{len(latencies)} leaks → cases, p50 {q(0.5):.0f} ms, p99 {q(0.99):.0f} ms, max {latencies[-1]:.0f} ms"
          f"{f', {missing} without a case after 30 s' if missing else ''}")


if __name__ == "__main__":
    main()
