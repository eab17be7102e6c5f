#!/bin/bash
# Compile-must-fail test of the frame types (kmod/include/xvm/frame.h):
# passing a gfn where a dfn is expected (and an mfn as a dfn, a raw number
# as a gfn) must not compile, while the control file, making the same calls
# through the named conversions, must.
#
# Each file of scripts/host-tests/frame-types/ is built alone as a
# throwaway module (kbuild, -Werror) against the Debian kernel headers:
# control.c must build; every fail-*.c must fail, at its XVM-MUST-FAIL line,
# with the compiler's incompatible-type error (so that a missing header or a
# typo cannot pass for the type check).
#
# Exit: 0 pass, 77 skip (no kernel headers), 1 fail.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

src=$XVM_ROOT/scripts/host-tests/frame-types
kver=$(xvm_kver 2>/dev/null || true)
kdir=${KDIR:-/lib/modules/$kver/build}
if [[ -z $kver && -z ${KDIR:-} ]] || [[ ! -f $kdir/Makefile ]]; then
	echo "frame-types: SKIP: no kernel headers (KDIR=$kdir)"
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/xvm-frame-types.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Builds $1 (a .c of $src) alone; its compiler output goes to $work/$name.log.
build_one() {
	local name=$1 dir=$work/$1
	mkdir -p "$dir"
	cp "$src/$name.c" "$dir/"
	printf '%s\n' "ccflags-y += -Werror -I$XVM_ROOT/kmod/include" \
		"obj-m += $name.o" >"$dir/Kbuild"
	make -s -C "$kdir" M="$dir" "$name.o" >"$work/$name.log" 2>&1
}

fail=0
if build_one control; then
	echo "frame-types: ok: control.c compiles"
else
	echo "frame-types: FAIL: control.c does not compile:"
	sed 's/^/  | /' "$work/control.log"
	fail=1
fi

n=0
for f in "$src"/fail-*.c; do
	name=$(basename "$f" .c)
	line=$(grep -n 'XVM-MUST-FAIL' "$f" | cut -d: -f1)
	n=$((n + 1))
	if build_one "$name"; then
		echo "frame-types: FAIL: $name.c compiled; the frame types mix"
		fail=1
	elif grep -qE "$name\.c:$line:[0-9]+: error: incompatible type for argument" \
		"$work/$name.log"; then
		echo "frame-types: ok: $name.c refused at line $line (incompatible type)"
	else
		echo "frame-types: FAIL: $name.c failed for another reason than the type check:"
		sed 's/^/  | /' "$work/$name.log"
		fail=1
	fi
done
if ((n == 0)); then
	echo "frame-types: FAIL: no fail-*.c files"
	fail=1
fi
exit "$fail"
