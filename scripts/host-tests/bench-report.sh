#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host test: scripts/bench-report.sh turns a captured `make bench` console
# log into results.json that validates and holds what the log says, and into
# PNGs; a malformed record and a log without records fail it.
#
# bench-report/sample.log is the guest part of a real `make bench` console
# (CRLF as the serial console writes it), with every samples line cut to
# every 8th value, one kernel line put between two samples lines of a row,
# and two made-up benches at the end: one that prints no record (skipped)
# and one that fails.
#
# The goals table is tested on a synthetic log: the fixture plus rows with a
# "path" (met, not met, one whose met disagrees with its ratio, one path
# measured twice); the paths without a row must say "not measured", the
# table keeps GOALS' order, and results.json holds it as "goals".
#
# Exit: 0 pass, 1 fail (also when python3 or gnuplot-nox cannot be installed).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$XVM_ROOT"

fixture=scripts/host-tests/bench-report/sample.log
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() {
	echo "bench-report: FAIL: $*"
	fail=1
}

scripts/bench-report.sh "$fixture" "$tmp/out" || { echo "bench-report: FAIL: report on $fixture"; exit 1; }
json=$tmp/out/results.json
/usr/bin/python3 -m json.tool "$json" >/dev/null || bad "results.json is not JSON (json.tool)"
if command -v jq >/dev/null; then
	jq -e . "$json" >/dev/null || bad "results.json is not JSON (jq)"
fi

# What the fixture holds, as one line of facts per check.
got=$(/usr/bin/python3 - "$json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))["benches"]
ev, co = b["evtchn_bench"], b["core_bench"]
row = ev["rows"][0]
print("benches", " ".join(sorted(b)))
print("rows", sum(len(x["rows"]) for x in b.values()))
print("status", b["fail_bench"]["status"], "|", b["skip_bench"]["status"])
print("row", row["row"], row["median"], row["p99"], row["ratio"],
      row["ratio_of"], row["anchor"], row["goal"], row["met"])
print("samples", [(s["row"], s["n"], len(s["values"])) for s in ev["samples"]])
print("curve", co["curves"][1]["curve"], co["curves"][1]["points"])
print("sweep", [p[0] for p in ev["curves"][0]["points"]])
print("plots", sorted(p for x in b.values() for p in x.get("plots", [])))
PY
) || { echo "bench-report: FAIL: reading results.json"; exit 1; }
want=(
	"benches core_bench evtchn_bench fail_bench iommu_bench msix_bench skip_bench vgic_bench"
	"rows 21"
	"status failed (exit 1) | no records (skipped?)"
	"row XVM_POLL, 1 port 86371 15674800.0 1.20418 row/anchor eventfd write -> poll() <= 1.0 False"
	"samples [('XVM_POLL, 1 port', 250, 250), ('eventfd write -> poll()', 250, 250)]"
	"curve batch of 1024 [[1, 726.921], [16, 897.738], [256, 915.9], [1024, 937.344]]"
	"sweep [1, 16, 256, 1024, 4095]"
	"plots ['plots/core-bench-cdf.png', 'plots/core-bench-scaling.png', 'plots/evtchn-bench-cdf.png', 'plots/evtchn-bench-scaling.png', 'plots/msix-bench-cdf.png']"
)
for w in "${want[@]}"; do
	grep -qxF -- "$w" <<<"$got" || bad "results.json: want '$w', have: $(grep -F -- "${w%% *}" <<<"$got")"
done

# Every plot is a PNG of a plausible size.
n=0
for png in "$tmp"/out/plots/*.png; do
	[[ -f $png ]] || continue
	n=$((n + 1))
	[[ $(head -c 8 "$png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || bad "$png is not a PNG"
	(($(stat -c %s "$png") > 4096)) || bad "$png is too small to hold a plot"
done
((n == 5)) || bad "$n PNGs, want 5"

# A record that is not JSON, and a log without records: both fail.
{ cat "$fixture"; echo 'XVM-BENCH {"type":"row","bench":"x","row":'; } >"$tmp/broken.log"
if scripts/bench-report.sh "$tmp/broken.log" "$tmp/broken" 2>"$tmp/err"; then
	bad "a malformed record was accepted"
else
	grep -q 'broken.log:[0-9]*: bad record' "$tmp/err" || bad "no line number for the bad record: $(cat "$tmp/err")"
fi
grep -v XVM-BENCH "$fixture" >"$tmp/empty.log"
scripts/bench-report.sh "$tmp/empty.log" "$tmp/empty" 2>/dev/null && bad "a log without records was accepted"

# The goals table, from a synthetic log.
rec() {
	printf 'XVM-BENCH {"type":"row","bench":"goal_bench","row":"%s","unit":"ns","median":100,"p99":null,"ratio":%s,"ratio_of":"row/anchor","anchor":"a","goal":"%s","met":%s,"path":"%s"}\r\n' "$@"
}
{
	cat "$fixture"
	printf '== bench goal_bench\r\n'
	rec "poll in window" 0.4 "<= 0.5" true poll-wake
	rec "mmio single" 1.5 "<= 1.25" false mmio
	rec "msix median" 2.5 ">= 3" true msix
	rec "trace off" 1.01 "<= 1.05" true trace-off
	rec "trace off again" 1.2 "<= 1.05" false trace-off
} >"$tmp/goals.log"
scripts/bench-report.sh "$tmp/goals.log" "$tmp/goals" >"$tmp/goals.out" ||
	bad "a log with goals not met failed the report"
table=$(sed -n '/^goals: hot path/,/^goals: [0-9]/p' "$tmp/goals.out")
order=$(grep -o '^  [A-Za-z].*' <<<"$table" | tail -n +2 | cut -c3-20 | tr -s ' ' | paste -sd '|')
[[ $order == "XVM_POLL wake (sen|XVM_POLL wake (sen|XVM_MMIO, one acce|vGIC register acce|vGIC register acce|acknowledge + EOI |MSI-X delivery, in|MSI-X delivery, in|IOMMU map+unmap, 4|tracepoints disabl" ]] ||
	bad "goals table order: $order"
gwant=(
	"XVM_POLL wake (send -> return), event within the polling window 0.40 eventfd poll() <= 0.5 met"
	"XVM_POLL wake (send -> return), event outside the polling window - eventfd poll() <= 1.0 not measured"
	"XVM_MMIO, one access 1.50 a null ioctl <= 1.25 NOT met"
	"acknowledge + EOI - two null ioctls <= 1.3 not measured"
	"MSI-X delivery, in-kernel 2.50 userspace relay >= 3 met; disagreement: ratio 2.5 misses goal >= 3"
	"tracepoints disabled 1.20 never enabled <= 1.05 NOT met; 2 rows, the worst (goal_bench: trace off again) used"
	"goals: 2 of 10 met, 6 not measured"
)
for w in "${gwant[@]}"; do
	tr -s ' ' <<<"$table" | sed 's/^ //' | grep -qxF -- "$w" || bad "goals table: want '$w', have: $table"
done
gjson=$(/usr/bin/python3 - "$tmp/goals/results.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))["goals"]
print(" ".join("%s=%s/%s" % (x["path"], x["status"].replace(" ", "_"),
                             x["met"]) for x in g))
PY
) || bad "results.json has no goals"
[[ $gjson == "poll-wake=met/True poll-wake-outside=not_measured/False mmio=NOT_met/False vgic-single=not_measured/False vgic-batched=not_measured/False ack-eoi=not_measured/False msix=met/True msix-p99=not_measured/False iommu-4k=not_measured/False trace-off=NOT_met/False" ]] ||
	bad "results.json goals: $gjson"

((fail == 0)) && echo "bench-report: PASS: results.json (7 benches, 21 rows), $n PNGs, 2 bad logs refused, goals table (10 paths)"
exit "$fail"
