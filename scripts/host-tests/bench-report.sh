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

((fail == 0)) && echo "bench-report: PASS: results.json (7 benches, 21 rows), $n PNGs, 2 bad logs refused"
exit "$fail"
