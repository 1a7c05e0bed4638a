#!/usr/bin/env python3
"""The report of bench/edge_cluster.sh: python3 bench/edge_cluster_report.py OUT_DIR

Reads OUT_DIR/meta.json, OUT_DIR/levels.jsonl (one hiro_loadgen line per set-up and load level, with the
set-up, the load multiple, the level's cost delta and its lines of OUT_DIR/access-SETUP.jsonl added) and,
when there, OUT_DIR/simulate_cluster.json (`hiro simulate cluster --json -` at the same rates on all the hiro
set-up's edge service times) and OUT_DIR/simulate_cluster_per_level.json (one run per level on that level's
own service times). Prints the tables, checks the targets, and writes OUT_DIR/edge_cluster.json,
OUT_DIR/edge_cluster.svg and OUT_DIR/readme_table.md (the compact table).
Standard library only.
"""
import json
import math
import os
import sys

SETUPS = ["edge-only", "cloud-only", "round-robin", "hiro"]
COLOURS = {"edge-only": "#1f77b4", "cloud-only": "#7f7f7f", "round-robin": "#ff7f0e", "hiro": "#2ca02c",
           "simulated": "#2ca02c", "M/M/c": "#000000", "M/M/c pooled": "#9467bd"}
NAMES = {"edge-only": "edge pool only", "cloud-only": "cloud only", "round-robin": "round robin, failover on error",
         "hiro": "hiro: least outstanding + deadline overflow"}


def row_of(j, out):
    n = j["requests"]
    tiers = j.get("tiers", {})
    statuses = j.get("statuses", {})
    non_200 = sum(v for k, v in statuses.items() if k != "200")
    return {"setup": j["setup"], "multiple": j["multiple"], "offered_rate": j["offered_rate"], "achieved_rate": j["achieved_rate"],
            "requests": n, "p50_ms": j["p50_ms"], "p95_ms": j["p95_ms"], "p99_ms": j["p99_ms"],
            "cloud_share": tiers.get("cloud", 0) / n, "edge_share": tiers.get("edge", 0) / n,
            "usd_per_1k": j["cost_usd"] / n * 1000.0, "non_200": non_200, "transport_errors": j["transport_errors"],
            "statuses": statuses, **queue_growth(j, out)}


def queue_growth(j, out):
    """Mean latency (hiro's, queue included) of the level's first and last tenth of answers, in the order
    the access log has them (completion order): a queue that keeps growing shows as last >> first."""
    path = os.path.join(out, f"access-{j['setup']}.jsonl")
    if "log_from" not in j or not os.path.exists(path):
        return {}
    with open(path) as f:
        lines = f.read().splitlines()[j["log_from"]:j["log_to"]]
    lat = [json.loads(l)["latency_ms"] for l in lines]
    k = max(1, len(lat) // 10)
    return {"logged": len(lat), "first_tenth_ms": sum(lat[:k]) / k, "last_tenth_ms": sum(lat[-k:]) / k}


def sim_level(level, sim):
    return {"rate": level["rate_per_s"], "service_mean_ms": sim["service_mean_ms"], "p95_ms": level["latency_ms"]["p95"],
            "p50_ms": level["latency_ms"]["p50"], "cloud_share": level["cloud_share"], "mmc_cloud_share": level["mmc_cloud_share"],
            "usd_per_1k": level.get("usd_per_1k_requests"), "edge_utilisation": level.get("edge_utilisation")}


def simulated(meta, runs):
    """Per rate of meta (None where no run has it): the simulator's level, from one or more runs."""
    if not runs:
        return None
    levels = [(level, run) for run in runs for level in run["levels"]]
    out = []
    for rate in meta["rates"]:
        level, run = min(levels, key=lambda lr: abs(lr[0]["rate_per_s"] - rate))
        out.append(sim_level(level, run) if abs(level["rate_per_s"] - rate) <= 1e-6 * max(1.0, rate) + 1e-3 else None)
    return out


def print_tables(meta, rows, sim, own):
    print(f"edge pool: 3 x llama-server stories260K (-np 1 -t 1), {meta['edge_tokens']} tokens per answer; "
          f"capacity {meta['capacity_per_s']:.2f} answers/s (closed loop, 3 clients), busy service {meta['busy_service_ms']:.0f} ms")
    print(f"cloud: {meta['cloud']} ({meta['cloud_ms']:.0f} ms); deadline {meta['deadline_ms']:.0f} ms (hiro set-up only); "
          f"{meta['requests_per_level']} Poisson arrivals per level")
    head = (f"{'set-up':<12} {'load':>5} {'offered':>8} {'achieved':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'cloud':>6} {'$/1k':>7} "
            f"{'errors':>6} {'first/last 10% ms':>18}")
    print(head)
    print("-" * len(head))
    for setup in SETUPS:
        for r in (r for r in rows if r["setup"] == setup):
            growth = f"{r['first_tenth_ms']:>8.0f} /{r['last_tenth_ms']:>8.0f}" if "first_tenth_ms" in r else ""
            print(f"{setup:<12} {r['multiple']:>4g}x {r['offered_rate']:>8.2f} {r['achieved_rate']:>8.2f} {r['p50_ms']:>8.0f} "
                  f"{r['p95_ms']:>8.0f} {r['p99_ms']:>8.0f} {r['cloud_share'] * 100:>5.1f}% {r['usd_per_1k']:>7.4f} "
                  f"{r['non_200'] + r['transport_errors']:>6} {growth:>18}")
    print("offered/achieved: requests/s; cloud: share answered by the cloud tier (x-hiro-tier); $/1k: hiro_cost_usd_total per 1,000 "
          "requests; errors: non-200 answers + transport errors; first/last 10%: mean latency of the level's first and last "
          "tenth of answers (hiro's access log): a queue that keeps growing shows as last >> first")
    if sim:
        hiro = [r for r in rows if r["setup"] == "hiro"]
        print()
        print("hiro set-up against `hiro simulate cluster` (same rates and deadline; pooled: all of the set-up's edge service times as one "
              "distribution; level: that level's own service times):")
        head = (f"{'load':>5} {'service ms':>10} {'p95 live':>9} {'sim pooled':>11} {'sim level':>10} {'cloud live':>10} {'sim pooled':>11} "
                f"{'sim level':>10} {'M/M/c pooled':>12} {'M/M/c level':>11}")
        print(head)
        print("-" * len(head))
        for i, r in enumerate(hiro):
            s, o = sim[i], (own[i] if own else None)
            rel = lambda x: f"{x:>5.0f} {(x - r['p95_ms']) / r['p95_ms'] * 100:>+4.0f}%"
            pts = lambda x: f"{x * 100:>4.1f}% {(x - r['cloud_share']) * 100:>+5.1f}"
            print(f"{r['multiple']:>4g}x {(o['service_mean_ms'] if o else float('nan')):>10.0f} {r['p95_ms']:>9.0f} {rel(s['p95_ms']):>11} "
                  f"{(rel(o['p95_ms']) if o else '-'):>10} {r['cloud_share'] * 100:>9.1f}% {pts(s['cloud_share']):>11} "
                  f"{(pts(o['cloud_share']) if o else '-'):>10} {s['mmc_cloud_share'] * 100:>11.1f}% "
                  f"{(format(o['mmc_cloud_share'] * 100, '>10.1f') + '%') if o else '-':>11}")
        print("service: mean edge service time of the level (live); sim columns: predicted p95 (ms, and relative to live) and cloud share "
              "(and points above live); M/M/c: the share an M/M/c model of the pool says must overflow so that the kept requests "
              "wait at most the deadline less a mean service")


def checks(meta, rows, sim, own):
    out = []
    limit = meta["deadline_ms"] + meta["cloud_ms"]
    hiro = [r for r in rows if r["setup"] == "hiro"]
    worst = max(hiro, key=lambda r: r["p95_ms"])
    out.append({"check": f"hiro p95 <= deadline + one cloud answer ({limit:.0f} ms) at every level",
                "ok": all(r["p95_ms"] <= limit for r in hiro), "worst": f"{worst['p95_ms']:.0f} ms at {worst['multiple']:g}x"})
    # With a fixed number of requests per level the p95 of an overloaded queue is bounded by the level's length
    # (about N / capacity x (1 - 1 / load)); unbounded growth shows within each level, as the queue builds.
    edge = [r for r in rows if r["setup"] == "edge-only" and r["multiple"] > 1]
    grows = all(r["p95_ms"] > 4 * meta["deadline_ms"] and r.get("last_tenth_ms", 0) > 4 * r.get("first_tenth_ms", 1e18) for r in edge)
    out.append({"check": "edge-only past capacity: p95 > 4 x deadline and the queue grows through each level (last tenth > 4 x first)",
                "ok": grows, "worst": "; ".join(f"{r['multiple']:g}x p95 {r['p95_ms'] / 1000:.1f} s, "
                                                f"{r.get('first_tenth_ms', 0) / 1000:.1f} -> {r.get('last_tenth_ms', 0) / 1000:.1f} s" for r in edge)})
    errors = sum(r["non_200"] + r["transport_errors"] for r in rows)
    out.append({"check": "no errors (non-200 or transport)", "ok": errors == 0, "worst": f"{errors} errors"})
    for name, levels in (("pooled service times", sim), ("each level's service times", own)):
        if not levels:
            continue
        gaps = [((r["cloud_share"] - s["mmc_cloud_share"]) * 100, r["multiple"]) for r, s in zip(hiro, levels) if s]
        gap, m = max(gaps)
        out.append({"check": f"hiro cloud share <= M/M/c share + 5 points (M/M/c on {name})", "ok": gap <= 5.0,
                    "worst": f"{gap:+.1f} points at {m:g}x"})
    return out


# ---- SVG ------------------------------------------------------------------------------------------------------

def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Panel:
    def __init__(self, x0, y0, w, h, xmax, ymin, ymax, log):
        self.x0, self.y0, self.w, self.h, self.xmax, self.ymin, self.ymax, self.log = x0, y0, w, h, xmax, ymin, ymax, log

    def x(self, v):  # log2: 0.25x, 0.5x, 1x, 2x, 4x evenly spaced
        lo, hi = math.log2(self.xmax[0]), math.log2(self.xmax[1])
        return self.x0 + (math.log2(v) - lo) / (hi - lo) * self.w

    def y(self, v):
        if self.log:
            f = (math.log10(max(v, self.ymin)) - math.log10(self.ymin)) / (math.log10(self.ymax) - math.log10(self.ymin))
        else:
            f = (v - self.ymin) / (self.ymax - self.ymin)
        return self.y0 + self.h - f * self.h


def axes(svg, p, xticks, yticks, ylabel, xlabel, title):
    svg.append(f'<rect x="{p.x0}" y="{p.y0}" width="{p.w}" height="{p.h}" fill="none" stroke="#444"/>')
    for t in xticks:
        X = p.x(t)
        svg.append(f'<line x1="{X:.1f}" y1="{p.y0}" x2="{X:.1f}" y2="{p.y0 + p.h}" stroke="#e5e5e5"/>')
        svg.append(f'<text x="{X:.1f}" y="{p.y0 + p.h + 16}" font-size="11" text-anchor="middle">{t:g}x</text>')
    for t, label in yticks:
        Y = p.y(t)
        svg.append(f'<line x1="{p.x0}" y1="{Y:.1f}" x2="{p.x0 + p.w}" y2="{Y:.1f}" stroke="#e5e5e5"/>')
        svg.append(f'<text x="{p.x0 - 6}" y="{Y + 4:.1f}" font-size="11" text-anchor="end">{label}</text>')
    svg.append(f'<text x="{p.x0 + p.w / 2}" y="{p.y0 + p.h + 34}" font-size="12" text-anchor="middle">{esc(xlabel)}</text>')
    svg.append(f'<text transform="translate({p.x0 - 52},{p.y0 + p.h / 2}) rotate(-90)" font-size="12" text-anchor="middle">{esc(ylabel)}</text>')
    svg.append(f'<text x="{p.x0 + p.w / 2}" y="{p.y0 - 10}" font-size="13" font-weight="bold" text-anchor="middle">{esc(title)}</text>')


def curve(svg, p, points, colour, dash=None, marker=True):
    d = " ".join(f"{'M' if i == 0 else 'L'}{p.x(x):.1f},{p.y(y):.1f}" for i, (x, y) in enumerate(points))
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    svg.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"{extra}/>')
    if marker:
        for x, y in points:
            svg.append(f'<circle cx="{p.x(x):.1f}" cy="{p.y(y):.1f}" r="3" fill="{colour}"/>')


def write_svg(path, meta, rows, sim, own):
    W, H = 1060, 560
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="24" font-size="15" font-weight="bold" text-anchor="middle">'
           f'Edge pool (3 x llama-server, {meta["capacity_per_s"]:.1f} answers/s) with a cloud tier ({meta["cloud_ms"]:.0f} ms): '
           f'open-loop Poisson load</text>']
    xmax = (min(meta["multiples"]) / 1.15, max(meta["multiples"]) * 1.15)  # the x range, log2 scale
    xticks = meta["multiples"]
    by = {s: [r for r in rows if r["setup"] == s] for s in SETUPS}

    # p95 latency, log scale.
    p95s = [r["p95_ms"] for r in rows] + [meta["deadline_ms"]] + [s["p95_ms"] for s in (sim or []) + (own or []) if s]
    nice = [m * 10 ** e for e in range(0, 7) for m in (1, 2, 5)]  # 1-2-5 steps, ms
    lo = max(v for v in nice if v <= min(p95s) * 0.8)
    hi = min(v for v in nice if v >= max(p95s) * 1.2)
    ticks = [(v, f"{v / 1000:g} s" if v >= 1000 else f"{v:g} ms") for v in nice if lo <= v <= hi]
    left = Panel(90, 70, 370, 340, xmax, lo, hi, True)
    axes(svg, left, xticks, ticks, "p95 latency (log scale)", "offered load (multiple of the edge capacity, log scale)", "p95 latency")
    D = meta["deadline_ms"]
    svg.append(f'<line x1="{left.x0}" y1="{left.y(D):.1f}" x2="{left.x0 + left.w}" y2="{left.y(D):.1f}" stroke="#d62728" stroke-width="1.5" stroke-dasharray="6,4"/>')
    # In the margin right of the plot, where no curve runs.
    svg.append(f'<text x="{left.x0 + left.w + 4}" y="{left.y(D) + 4:.1f}" font-size="11" fill="#d62728">deadline</text>')
    svg.append(f'<text x="{left.x0 + left.w + 4}" y="{left.y(D) + 17:.1f}" font-size="11" fill="#d62728">{D:.0f} ms</text>')
    for s in SETUPS:
        curve(svg, left, [(r["multiple"], r["p95_ms"]) for r in by[s]], COLOURS[s])
    if own:
        curve(svg, left, [(r["multiple"], s["p95_ms"]) for r, s in zip(by["hiro"], own) if s], COLOURS["simulated"], "3,3", False)

    # Cloud share, linear.
    right = Panel(650, 70, 370, 340, xmax, 0, 100, False)
    axes(svg, right, xticks, [(v, f"{v}%") for v in range(0, 101, 20)], "share of requests answered by the cloud",
         "offered load (multiple of the edge capacity, log scale)", "cloud share")
    for s in SETUPS:
        curve(svg, right, [(r["multiple"], r["cloud_share"] * 100) for r in by[s]], COLOURS[s])
    if own:
        curve(svg, right, [(r["multiple"], s["cloud_share"] * 100) for r, s in zip(by["hiro"], own) if s], COLOURS["simulated"], "3,3", False)
        curve(svg, right, [(r["multiple"], s["mmc_cloud_share"] * 100) for r, s in zip(by["hiro"], own) if s], COLOURS["M/M/c"], "7,4", False)
    if sim:
        curve(svg, right, [(r["multiple"], s["mmc_cloud_share"] * 100) for r, s in zip(by["hiro"], sim)], COLOURS["M/M/c pooled"], "2,3", False)

    # Legend: two rows under both panels, each entry in its own slot.
    entries = [(NAMES[s], COLOURS[s], None) for s in SETUPS]
    if own:
        entries += [("hiro simulate cluster, level's service times", COLOURS["simulated"], "3,3"),
                    ("M/M/c needed share, level's service times", COLOURS["M/M/c"], "7,4")]
    if sim:
        entries.append(("M/M/c needed share, pooled service times", COLOURS["M/M/c pooled"], "2,3"))
    entries.append((f"deadline ({D:.0f} ms)", "#d62728", "6,4"))
    cols, slot_w, y = 3, 340, 462
    for i, (name, colour, dash) in enumerate(entries):
        x = 40 + (i % cols) * slot_w
        yy = y + (i // cols) * 22
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        svg.append(f'<line x1="{x}" y1="{yy}" x2="{x + 28}" y2="{yy}" stroke="{colour}" stroke-width="2"{extra}/>')
        svg.append(f'<text x="{x + 34}" y="{yy + 4}" font-size="12">{esc(name)}</text>')
    never = [NAMES[s] for s in SETUPS if all(r["cloud_share"] == 0 for r in by[s])]
    svg.append(f'<text x="{W / 2}" y="{H - 28}" font-size="11" fill="#555" text-anchor="middle">'
               f'{meta["requests_per_level"]} requests per level; edge service {meta["busy_service_ms"]:.0f} ms with 3 in flight; '
               f'p95 from hiro_loadgen (latency from the scheduled arrival)</text>')
    if never:
        svg.append(f'<text x="{W / 2}" y="{H - 12}" font-size="11" fill="#555" text-anchor="middle">'
                   f'0% cloud at every load (lines on the axis): {esc("; ".join(never))}</text>')
    svg.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(svg) + "\n")


def readme_table(meta, rows, sim, own):
    """The compact table for docs/serve.md: one row per load level (cloud only's p95 goes in the text)."""
    by = {s: {r["multiple"]: r for r in rows if r["setup"] == s} for s in SETUPS}
    head = "| load | req/s | edge only p95 | round robin p95 (cloud) | hiro p95 (cloud, $/1k req) |"
    sep = "|---|---|---|---|---|"
    if sim:
        head += " simulated on the level's service times: p95 (cloud) | M/M/c cloud: level (pooled) |"
        sep += "---|---|"
    lines = [head, sep]
    for i, m in enumerate(meta["multiples"]):
        e, rr, h = (by[s][m] for s in ("edge-only", "round-robin", "hiro"))
        line = (f"| {m:g}x | {h['offered_rate']:.1f} | {e['p95_ms'] / 1000:.2f} s | "
                f"{rr['p95_ms'] / 1000:.2f} s ({rr['cloud_share'] * 100:.0f}%) | "
                f"{h['p95_ms'] / 1000:.2f} s ({h['cloud_share'] * 100:.0f}%, ${h['usd_per_1k']:.3f}) |")
        if sim:
            s, o = sim[i], (own[i] if own else None)
            if o:
                line += f" {o['p95_ms'] / 1000:.2f} s ({o['cloud_share'] * 100:.0f}%) | {o['mmc_cloud_share'] * 100:.0f}% ({s['mmc_cloud_share'] * 100:.0f}%) |"
            else:
                line += f" - | - ({s['mmc_cloud_share'] * 100:.0f}%) |"
        lines.append(line)
    return "\n".join(lines) + "\n"


def json_documents(text):
    """The JSON documents of a file that holds several one after another (the simulator prints indented JSON)."""
    decoder, docs, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return docs
        doc, i = decoder.raw_decode(text, i)
        docs.append(doc)


def main():
    out = sys.argv[1]
    meta = json.load(open(os.path.join(out, "meta.json")))
    rows = [row_of(json.loads(l), out) for l in open(os.path.join(out, "levels.jsonl")) if l.strip()]
    for r in rows:
        if r.get("logged", r["requests"]) != r["requests"]:
            print(f"note: {r['setup']} {r['multiple']:g}x: {r['logged']} access-log lines for {r['requests']} requests", file=sys.stderr)
    pooled_path, own_path = os.path.join(out, "simulate_cluster.json"), os.path.join(out, "simulate_cluster_per_level.json")
    pooled_raw = json.load(open(pooled_path)) if os.path.exists(pooled_path) else None
    own_raw = json_documents(open(own_path).read()) if os.path.exists(own_path) else None
    sim = simulated(meta, [pooled_raw] if pooled_raw else None)
    own = simulated(meta, own_raw)
    print_tables(meta, rows, sim, own)
    results = checks(meta, rows, sim, own)
    print()
    for c in results:
        print(f"{'PASS' if c['ok'] else 'MISS'}  {c['check']}: {c['worst']}")
    if not sim:
        print("(no `hiro simulate cluster` in this build: no prediction columns; see simulate_cluster() in bench/edge_cluster.sh)")
    report = {"meta": meta, "levels": rows, "simulated_pooled": sim, "simulated_per_level": own,
              "simulator_raw": {"pooled": pooled_raw, "per_level": own_raw}, "checks": results}
    json_path, svg_path, md_path = (os.path.join(out, f) for f in ("edge_cluster.json", "edge_cluster.svg", "readme_table.md"))
    with open(json_path, "w") as f:
        json.dump(report, f, indent=1)
    write_svg(svg_path, meta, rows, sim, own)
    with open(md_path, "w") as f:
        f.write(readme_table(meta, rows, sim, own))
    print()
    print(f"JSON:  {json_path}")
    print(f"SVG:   {svg_path}")
    print(f"table: {md_path}")


if __name__ == "__main__":
    main()
