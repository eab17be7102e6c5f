#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Collect the XVM-BENCH records of a `make bench` console log (bench/bench.h
describes them) into OUTDIR/results.json and draw OUTDIR/plots/*.png with
gnuplot: per bench, the latency CDFs of its rows with samples, and its
scaling curves.  Run through scripts/bench-report.sh, which installs python3
and gnuplot-nox.

  bench-report.py LOG OUTDIR

Then prints the goals table of the issue (GOALS below; docs/benchmarks.md
says how to read it): one line per hot path, from the row whose "path" is
that path's id, also written into results.json as "goals".

Exit status 1 when the log holds no record, a record line is not JSON, or
gnuplot fails; the JSON is written (and read back) before the plots.  The
goals never change it: a goal not met is a finding, not a failure.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

RECORD = re.compile(r"XVM-BENCH (\{.*?)\s*$")
BENCH_START = re.compile(r"^== bench (\S+)\s*$")
BENCH_FAILED = re.compile(r"^== bench (\S+) FAILED \(exit (\d+)\)")
# The goals table: (path id, hot path, anchor, goal), in the order printed.
# The bench measures each (a row with .path = the id) and says whether it
# met its goal; the report only re-checks that against the ratio.
GOALS = (
    ("poll-wake", "XVM_POLL wake (send -> return), event within the "
     "polling window", "eventfd poll()", "<= 0.5"),
    ("poll-wake-outside", "XVM_POLL wake (send -> return), event outside "
     "the polling window", "eventfd poll()", "<= 1.0"),
    ("mmio", "XVM_MMIO, one access", "a null ioctl", "<= 1.25"),
    ("vgic-single", "vGIC register access, single", "the test device",
     "<= 1.3"),
    ("vgic-batched", "vGIC register access, batched", "the test device",
     "<= 1.3"),
    ("ack-eoi", "acknowledge + EOI", "two null ioctls", "<= 1.3"),
    ("msix", "MSI-X delivery, in-kernel", "userspace relay", ">= 3"),
    ("msix-p99", "MSI-X delivery, in-kernel: p99 / median",
     "max(2, floor's)", "<= 1"),
    ("iommu-4k", "IOMMU map+unmap, 4 KiB", "VFIO type1", ">= 2"),
    ("trace-off", "tracepoints disabled", "never enabled", "<= 1.05"),
)
GOAL_OPS = {"<=": lambda r, g: r <= g, "<": lambda r, g: r < g,
            ">=": lambda r, g: r >= g, ">": lambda r, g: r > g}
ROW_KEYS = ("row", "unit", "median", "p99", "ratio", "ratio_of", "anchor",
            "goal", "met", "path")


def bench_entry(benches, name):
    return benches.setdefault(name, {"status": "ran", "rows": [],
                                     "samples": [], "curves": []})


def add_record(benches, rec):
    """One parsed record into its bench's rows, samples or curves."""
    b = bench_entry(benches, rec["bench"])
    kind = rec["type"]
    if kind == "row":
        b["rows"].append({k: rec.get(k) for k in ROW_KEYS})
    elif kind == "samples":
        for s in b["samples"]:
            if s["row"] == rec["row"]:
                s["values"].extend(rec["values"])
                break
        else:
            b["samples"].append({"row": rec["row"], "unit": rec["unit"],
                                 "values": list(rec["values"])})
    elif kind == "point":
        for c in b["curves"]:
            if c["curve"] == rec["curve"]:
                c["points"].append([rec["x"], rec["y"]])
                break
        else:
            b["curves"].append({"curve": rec["curve"],
                                "x_name": rec["x_name"], "unit": rec["unit"],
                                "points": [[rec["x"], rec["y"]]]})
    else:
        raise ValueError("unknown record type %r" % kind)


def parse_log(path):
    """{bench: {...}} from the log; a malformed record line raises."""
    benches = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            line = line.replace("\r", "").rstrip("\n")
            m = BENCH_FAILED.match(line)
            if m:
                bench_entry(benches, m.group(1))["status"] = \
                    "failed (exit %s)" % m.group(2)
                continue
            m = BENCH_START.match(line)
            if m:
                bench_entry(benches, m.group(1))
                continue
            m = RECORD.search(line)
            if not m:
                continue
            try:
                add_record(benches, json.loads(m.group(1)))
            except (ValueError, KeyError, TypeError) as e:
                raise SystemExit("bench-report: %s:%d: bad record: %s"
                                 % (path, lineno, e))
    for name, b in benches.items():
        for s in b["samples"]:
            s["n"] = len(s["values"])
        if b["status"] == "ran" and not (b["rows"] or b["samples"]):
            b["status"] = "no records (skipped?)"
    return benches


def slug(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def gp_str(s):
    """s as a gnuplot double-quoted string."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sample_scale(samples):
    """(divisor, unit) to plot ns samples in: us once a p99 passes 100 us."""
    top = max(sorted(s["values"])[len(s["values"]) * 99 // 100]
              for s in samples)
    if samples[0]["unit"] == "ns" and top > 100000:
        return 1000.0, "us"
    return 1.0, samples[0]["unit"]


def write_cdf(bench, samples, tmp, png):
    """A gnuplot script drawing the CDF of every sample row of bench."""
    div, unit = sample_scale(samples)
    plots, xmin, xmax = [], float("inf"), 0.0
    for i, s in enumerate(samples):
        v = sorted(x / div for x in s["values"])
        dat = os.path.join(tmp, "%s-cdf-%d.dat" % (slug(bench), i))
        with open(dat, "w") as f:
            for j, x in enumerate(v):
                f.write("%g %g\n" % (x, (j + 1) / len(v)))
        xmin = min(xmin, v[0])
        xmax = max(xmax, v[min(len(v) - 1, len(v) * 99 // 100)])
        plots.append("%s with steps lw 2 title %s"
                     % (gp_str(dat), gp_str("%s (n=%d)" % (s["row"], len(v)))))
    # a log x when the tails are decades long (under TCG they are)
    lo, hi = max(xmin, 1e-3) / 1.2, xmax * 1.5
    logx = hi / lo > 20
    return "\n".join([
        "set output %s" % gp_str(png),
        "set title %s" % gp_str("%s: latency CDF (x up to 1.5x the "
                                "largest p99)" % bench),
        "set xlabel %s" % gp_str("latency (%s%s)" % (unit, logx and
                                                     ", log scale" or "")),
        "set ylabel 'fraction of samples <= x'",
        "unset logscale", logx and "set logscale x 10" or "",
        "set format x '%g'", "set xrange [%g:%g]" % (lo, hi),
        "set ytics 0.1",
        "set yrange [0:1]", "set key default",
        "set key bottom right opaque box",
        "plot " + ", ".join(plots), ""])


def write_curves(bench, curves, tmp, png):
    """A gnuplot script drawing every scaling curve of bench."""
    plots = []
    for i, c in enumerate(curves):
        dat = os.path.join(tmp, "%s-curve-%d.dat" % (slug(bench), i))
        with open(dat, "w") as f:
            for x, y in sorted(c["points"]):
                f.write("%g %g\n" % (x, y))
        plots.append("%s with linespoints lw 2 pt 7 title %s"
                     % (gp_str(dat), gp_str(c["curve"])))
    return "\n".join([
        "set output %s" % gp_str(png),
        "set title %s" % gp_str("%s: scaling" % bench),
        "set xlabel %s" % gp_str("%s (log scale)" % curves[0]["x_name"]),
        "set ylabel %s" % gp_str("median (%s)" % curves[0]["unit"]),
        "unset logscale", "set logscale x 2", "set ytics autofreq",
        "set xrange [*:*]", "set yrange [0:*]",
        "set key default", "set key tmargin center horizontal",
        "plot " + ", ".join(plots), ""])


def draw(benches, plotdir):
    """Run gnuplot once for every plot; the PNG names, relative to OUTDIR."""
    os.makedirs(plotdir, exist_ok=True)
    made = []
    with tempfile.TemporaryDirectory() as tmp:
        # noenhanced: "XVM_POLL" is a name, not X V M with subscript P.
        script = ["set terminal pngcairo noenhanced size 1000,600 "
                  "font 'sans,11'",
                  "set grid"]
        for name, b in sorted(benches.items()):
            b["plots"] = []
            for kind, items, fn in (("cdf", b["samples"], write_cdf),
                                    ("scaling", b["curves"], write_curves)):
                if not items:
                    continue
                png = os.path.join(plotdir, "%s-%s.png" % (slug(name), kind))
                script.append(fn(name, items, tmp, png))
                rel = os.path.join(os.path.basename(plotdir),
                                   os.path.basename(png))
                b["plots"].append(rel)
                made.append(png)
        if not made:
            return made
        gp = os.path.join(tmp, "plots.gp")
        with open(gp, "w") as f:
            f.write("\n".join(script))
        subprocess.run(["gnuplot", gp], check=True)
    return made


def goal_holds(goal, ratio):
    """Whether ratio meets goal ("<= 0.5"), or None if goal is not one."""
    m = re.match(r"^\s*(<=|>=|<|>)\s*([0-9.]+)\s*x?\s*$", goal or "")
    if not m or ratio is None:
        return None
    return GOAL_OPS[m.group(1)](ratio, float(m.group(2)))


def worst_row(found, goal):
    """Of the (bench, row) pairs claiming one path, the one the path's
    verdict must rest on: the first not met, else the farthest from
    passing (the largest ratio for a "<=" goal, the smallest for ">=")."""
    for f in found:
        if f[1]["met"] is not True:
            return f
    sign = -1 if (goal or "").lstrip().startswith(">") else 1
    return max(found, key=lambda f: sign * (f[1]["ratio"] or 0))


def goal_entry(benches, path, label, anchor, goal):
    """The goals-table entry of path: its row's ratio and met, and notes."""
    found = [(name, r) for name, b in sorted(benches.items())
             for r in b["rows"] if r.get("path") == path]
    g = {"path": path, "label": label, "anchor": anchor, "goal": goal,
         "ratio": None, "met": False, "status": "not measured",
         "bench": None, "row": None, "notes": []}
    if not found:
        return g
    name, r = worst_row(found, goal)
    g.update(bench=name, row=r["row"], ratio=r["ratio"],
             met=r["met"] is True)
    g["status"] = g["met"] and "met" or "NOT met"
    if len(found) > 1:
        g["notes"].append("%d rows, the worst (%s: %s) used"
                          % (len(found), name, r["row"]))
    if r["ratio"] is None or r["met"] is None:
        g["notes"].append("the row has no ratio or no met")
    if r["goal"] != goal:
        g["notes"].append("the bench's goal is %r" % r["goal"])
    holds = goal_holds(goal, r["ratio"])
    if holds is not None and holds != g["met"]:
        g["notes"].append("disagreement: ratio %.3g %s goal %s"
                          % (r["ratio"], holds and "meets" or "misses",
                             goal))
    return g


def goals_table(benches):
    return [goal_entry(benches, *row) for row in GOALS]


def print_goals(goals):
    """The goals table on stdout, one line per hot path."""
    w = max(len(g["label"]) for g in goals)
    wa = max(len(g["anchor"]) for g in goals)
    print("goals: hot path vs anchor, ratio of the medians in one run "
          "(docs/benchmarks.md)")
    print("  %-*s  %7s  %-*s  %-7s  %s"
          % (w, "hot path", "ratio", wa, "anchor", "goal", "verdict"))
    for g in goals:
        ratio = g["ratio"] is not None and "%.2f" % g["ratio"] or "-"
        print("  %-*s  %7s  %-*s  %-7s  %s%s"
              % (w, g["label"], ratio, wa, g["anchor"], g["goal"],
                 g["status"], "".join("; " + n for n in g["notes"])))
    met = sum(g["met"] for g in goals)
    print("goals: %d of %d met, %d not measured"
          % (met, len(goals),
             sum(g["status"] == "not measured" for g in goals)))


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: bench-report.py LOG OUTDIR")
    log, outdir = argv[1], argv[2]
    benches = parse_log(log)
    if not any(b["rows"] for b in benches.values()):
        sys.exit("bench-report: %s: no XVM-BENCH row records" % log)
    os.makedirs(outdir, exist_ok=True)
    pngs = draw(benches, os.path.join(outdir, "plots"))
    goals = goals_table(benches)
    out = os.path.join(outdir, "results.json")
    with open(out, "w") as f:
        json.dump({"log": os.path.abspath(log), "benches": benches,
                   "goals": goals}, f, indent=1)
        f.write("\n")
    with open(out) as f:
        json.load(f)
    for png in pngs:
        if not os.path.getsize(png):
            sys.exit("bench-report: %s is empty" % png)
    rows = sum(len(b["rows"]) for b in benches.values())
    print("bench-report: %s: %d benches, %d rows; %d plots in %s"
          % (out, len(benches), rows, len(pngs),
             os.path.join(outdir, "plots")))
    print_goals(goals)


if __name__ == "__main__":
    main(sys.argv)
