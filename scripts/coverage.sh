#!/bin/bash
# Line coverage of the xvm modules from one debug-lane run.
#
#   scripts/coverage.sh SRC GCOV-DIR OUT-DIR
#
# SRC is the tree the modules were built in (with GCOV_PROFILE=y), GCOV-DIR
# what sandbox.sh --gcov unpacked (the .gcda files at the objects' absolute
# paths). Prints one row per kmod/ source file and a total, and keeps the
# annotated .gcov files in OUT-DIR (uncovered lines are marked #####).
# Exit status: 0, or 1 when no coverage data was found.
set -euo pipefail

src=$1 gdir=$2 out=$3
mkdir -p "$out"
total=0 covered=0 files=0
printf '   %-32s %6s %6s %7s\n' file lines hit cover
while IFS= read -r c; do
	rel=${c#"$src"/}
	obj=${c%.c}
	gcda=$gdir$obj.gcda
	[[ -f $obj.gcno && -f $gcda ]] || continue
	cp "$gcda" "$obj.gcda"
	line=$(cd "$out" && gcov -o "$(dirname "$obj")" "$c" 2>/dev/null |
		awk -v f="$c" '$0 == "File '\''" f "'\''" { getline; print; exit }')
	# "Lines executed:85.00% of 120"
	pct=$(sed -n 's/^Lines executed:\([0-9.]*\)% of .*/\1/p' <<<"$line")
	n=$(sed -n 's/.* of \([0-9]*\)$/\1/p' <<<"$line")
	[[ -n $pct && -n $n ]] || continue
	hit=$(awk -v p="$pct" -v n="$n" 'BEGIN { printf "%d", p * n / 100 + 0.5 }')
	printf '   %-32s %6d %6d %6.1f%%\n' "$rel" "$n" "$hit" "$pct"
	total=$((total + n)) covered=$((covered + hit)) files=$((files + 1))
done < <(find "$src/kmod" -name '*.c' ! -name '*.mod.c' | LC_ALL=C sort)
((files)) || { echo "   coverage: no gcov data"; exit 1; }
awk -v t="$total" -v c="$covered" -v f="$files" 'BEGIN {
	printf "   coverage: %d of %d lines of kmod/ (%.1f%%) in %d files; goal 85%%: %s\n",
		c, t, 100 * c / t, f, (100 * c / t >= 85 ? "met" : "not met") }'
