#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The figures of a `make bench` run as JSON and PNG plots (what `make bench`
# runs after the guest; scripts/bench-report.py does the work):
#
#   scripts/bench-report.sh LOG [OUTDIR]    (OUTDIR default build/bench)
#
# writes OUTDIR/results.json and OUTDIR/plots/*.png from the XVM-BENCH
# records in the guest console log LOG. Installs python3 and gnuplot-nox
# when missing (dies naming them when apt cannot); exit 1 on a bad record,
# a log without records or a plot that gnuplot could not draw.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 1 || $# == 2)) || xvm_die "usage: $0 LOG [OUTDIR]"
log=$1 out=${2:-$XVM_ROOT/build/bench}
[[ -r $log ]] || xvm_die "bench-report: cannot read $log"

xvm_ensure_pkgs python3 gnuplot-nox
# Debian's interpreter, not whichever python3 comes first in PATH.
exec /usr/bin/python3 "$XVM_ROOT/scripts/bench-report.py" "$log" "$out"
