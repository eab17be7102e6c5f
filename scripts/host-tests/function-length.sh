#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host test: functions stay short. No function in kmod/, userspace/,
# selftests/, bench/ or tools/ is over 60 lines, none in the VMM's parser
# (userspace/vmm/config.c, script.c) over 40.
#
# Kernel style is what makes this measurable: a function's body opens with
# a `{` in column 0 and closes with the next `}` in column 0, and its length
# is the lines from one to the other, both counted. The kselftest
# harness's TEST(), TEST_F(), FIXTURE_SETUP() ... bodies are functions too
# and count the same way. Struct, enum and initialiser braces are not in
# column 0 where they open, so they are not counted. A FAIL line names
# FILE:LINE (the `{`), the length and the line that names the function.
#
# Exit: 0 pass, 1 fail.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$XVM_ROOT"

MAX=60
MAX_PARSER=40
PARSER_RE='^userspace/vmm/(config|script)\.c$'

# Sources only: no kbuild output (*.mod.c), nothing under a build directory.
mapfile -t files < <(find kmod userspace selftests bench tools \
	-path '*/build' -prune -o -name '*.mod.c' -prune -o \
	-type f -name '*.[ch]' -print 2>/dev/null | sort)
if ((${#files[@]} == 0)); then
	echo "function-length: FAIL: no C sources found under $XVM_ROOT"
	exit 1
fi

# FILE:LINE:LENGTH:NAME for every body; NAME is the last line before the
# `{` that starts in column 0 and is not a comment or preprocessor line
# (the line a multi-line prototype starts on is good enough to find it).
lengths() {
	awk '
	FNR == 1 { start = 0; prev = "" }
	/^\{/ && !start { start = FNR; name = prev; next }
	/^\}/ && start { print FILENAME ":" start ":" FNR - start + 1 ":" name; start = 0; next }
	/^[^ \t#\/*]/ && !start { prev = $0 }
	' "$@"
}

fail=0 n=0
while IFS=: read -r file line len name; do
	n=$((n + 1))
	max=$MAX
	[[ $file =~ $PARSER_RE ]] && max=$MAX_PARSER
	if ((len > max)); then
		echo "function-length: FAIL: $file:$line: $len lines (max $max): $name"
		fail=1
	fi
done < <(lengths "${files[@]}")

if ((n == 0)); then
	echo "function-length: FAIL: no function bodies found in ${#files[@]} files"
	exit 1
fi
((fail)) && exit 1
echo "function-length: PASS: $n functions in ${#files[@]} files, none over $MAX lines (over $MAX_PARSER in the VMM's parser)"
