#!/usr/bin/env python3
"""Summarises a bench/soak.sh run: an SVG of resident memory and per-segment p99 over time, and a
Markdown summary on stdout. Standard library only (the SVG is written by hand).

usage: soak_report.py rss.csv segments.csv out.svg backend rate p99_target_ms "audit verify"
"""
import sys


def parse_result(line):
    kv = dict(p.split("=") for p in line.split()[1:])
    return {k: int(v) for k, v in kv.items()}


def main():
    rss_path, seg_path, svg_path, backend, rate, target, verify = sys.argv[1:8]
    target = float(target)
    rss = []
    for line in open(rss_path):
        t, kib = line.strip().split(",")
        if int(kib) > 0:
            rss.append((float(t), int(kib) / 1024))
    segs = []
    for line in open(seg_path):
        t0, w, r = line.strip().split(",")
        segs.append((float(t0), parse_result(w), parse_result(r)))

    # Memory: the first minute is warm-up (caches, pools, the watcher's first passes); flat means
    # the last third does not exceed the middle third by more than 5 %.
    n = len(rss)
    mid = [m for _, m in rss[n // 3: 2 * n // 3]] or [0]
    last = [m for _, m in rss[2 * n // 3:]] or [0]
    growth = (max(last) - max(mid)) / max(mid) * 100 if max(mid) else 0.0
    writes = sum(w["requests"] for _, w, _ in segs)
    reads = sum(r["requests"] for _, _, r in segs)
    errors = sum(w["errors_status"] + r["errors_status"] for _, w, r in segs)
    dur = sum(w["duration_us"] for _, w, _ in segs) / 1e6
    p99s = [w["p99_us"] / 1000 for _, w, _ in segs]
    worst = max(p99s) if p99s else 0.0

    write_svg(svg_path, rss, segs, target, backend, rate)
    ok = lambda b: "**met**" if b else "**not met**"
    print(f"| soak ({backend}) | value | target |")
    print("|---|---:|---|")
    print(f"| offered rate | {rate} reports/s | (see docs/PERFORMANCE.md) |")
    print(f"| reports written | {writes:,} in {dur:,.0f} s ({writes / dur if dur else 0:,.0f}/s) | |")
    print(f"| reads (lists, case pages, counts, inbox) | {reads:,} | |")
    print(f"| non-2xx answers | {errors} | 0: {ok(errors == 0)} |")
    print(f"| worst segment p99 (reports) | {worst:.1f} ms | ≤ {target:.0f} ms: {ok(worst <= target)} |")
    print(f"| resident memory min / max | {min(m for _, m in rss):.0f} / {max(m for _, m in rss):.0f} MiB | |")
    print(f"| growth, last third vs middle third (peak) | {growth:+.1f} % | flat (≤ 5 %): {ok(growth <= 5)} |")
    print(f"| audit chain after the run | {verify} | ok |")


def write_svg(path, rss, segs, target, backend, rate):
    w, h, ml, mr, mt, mb = 900, 420, 70, 70, 40, 50
    pw, ph = w - ml - mr, h - mt - mb
    tmax = max([t for t, _ in rss] + [1.0])
    mmax = max([m for _, m in rss] + [1.0]) * 1.15
    p99s = [(t0, wr["p99_us"] / 1000, wr["duration_us"] / 1e6) for t0, wr, _ in segs]
    pmax = max([p for _, p, _ in p99s] + [target]) * 1.3

    def x(t):
        return ml + pw * t / tmax

    def ym(m):
        return mt + ph * (1 - m / mmax)

    def yp(p):
        return mt + ph * (1 - p / pmax)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="15">Soak ({backend}, {rate} reports/s offered): resident memory and p99 per segment</text>',
           f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>']
    for i in range(6):
        m = mmax * i / 5
        out.append(f'<text x="{ml - 6}" y="{ym(m) + 4:.1f}" text-anchor="end" fill="#1f5fbf">{m:.0f}</text>')
        out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{ym(m):.1f}" y2="{ym(m):.1f}" stroke="#eee"/>')
        p = pmax * i / 5
        out.append(f'<text x="{ml + pw + 6}" y="{yp(p) + 4:.1f}" fill="#c0392b">{p:.0f}</text>')
    for i in range(7):
        t = tmax * i / 6
        out.append(f'<text x="{x(t):.1f}" y="{mt + ph + 18}" text-anchor="middle">{t:.0f}</text>')
    out.append(f'<text x="{ml + pw / 2}" y="{h - 10}" text-anchor="middle">seconds</text>')
    out.append(f'<text x="16" y="{mt + ph / 2}" transform="rotate(-90 16 {mt + ph / 2})" text-anchor="middle" fill="#1f5fbf">RSS MiB</text>')
    out.append(f'<text x="{w - 14}" y="{mt + ph / 2}" transform="rotate(90 {w - 14} {mt + ph / 2})" text-anchor="middle" fill="#c0392b">p99 ms</text>')
    pts = " ".join(f"{x(t):.1f},{ym(m):.1f}" for t, m in rss)
    out.append(f'<polyline points="{pts}" fill="none" stroke="#1f5fbf" stroke-width="2"/>')
    out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{yp(target):.1f}" y2="{yp(target):.1f}" stroke="#c0392b" stroke-dasharray="6 4"/>')
    out.append(f'<text x="{ml + 6}" y="{yp(target) - 4:.1f}" fill="#c0392b">p99 target {target:.0f} ms</text>')
    for t0, p, d in p99s:
        out.append(f'<line x1="{x(t0):.1f}" x2="{x(t0 + d):.1f}" y1="{yp(p):.1f}" y2="{yp(p):.1f}" stroke="#c0392b" stroke-width="3"/>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
