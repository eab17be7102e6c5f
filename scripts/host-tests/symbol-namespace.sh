#!/bin/bash
# xvm.ko's exports are in the XVM symbol namespace: a module that calls one
# without MODULE_IMPORT_NS(XVM) must fail modpost, the same module with the
# import (XVM_IMPORT_NS() from kmod/compat) must build. Both are built
# against the main build's Module.symvers (KBUILD_EXTRA_SYMBOLS), so the
# check sees the namespace the real xvm.ko exports with.
#
# Exit: 0 pass, 77 skip (no kernel headers or no main build), 1 fail.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

kver=$(xvm_kver 2>/dev/null || true)
kdir=${KDIR:-/lib/modules/$kver/build}
symvers=$XVM_ROOT/Module.symvers
if [[ ! -f $kdir/Makefile || ! -f $symvers ]]; then
	echo "symbol-namespace: SKIP: no kernel headers ($kdir) or no $symvers (make modules)"
	exit 77
fi
grep -qP '\txvm_mmio_synchronize\t.*\tXVM$' "$symvers" || {
	echo "symbol-namespace: FAIL: xvm_mmio_synchronize is not exported in namespace XVM"
	exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/xvm-symns.XXXXXX")
trap 'rm -rf "$work"' EXIT

# build_user NAME IMPORT: a module calling xvm_mmio_synchronize(), with the
# namespace import line IMPORT (may be empty); its kbuild output in NAME.log.
build_user() {
	local name=$1 import=$2 dir=$work/$1
	mkdir -p "$dir"
	cat >"$dir/$name.c" <<-EOC
		// SPDX-License-Identifier: GPL-2.0
		#include <linux/module.h>
		#include <xvm/core.h>
		#include "xvm_compat.h"

		static int __init user_init(void)
		{
			xvm_mmio_synchronize();
			return 0;
		}
		module_init(user_init);
		MODULE_LICENSE("GPL");
		$import
	EOC
	echo "obj-m := $name.o" >"$dir/Kbuild"
	echo "ccflags-y := -I$XVM_ROOT/kmod/include -I$XVM_ROOT/uapi -I$XVM_ROOT/kmod/compat" >>"$dir/Kbuild"
	make -C "$kdir" M="$dir" KBUILD_EXTRA_SYMBOLS="$symvers" modules >"$work/$name.log" 2>&1
}

rc=0
if ! build_user importer 'XVM_IMPORT_NS();'; then
	tail -n 20 "$work/importer.log"
	echo "symbol-namespace: FAIL: a module importing XVM does not build"
	rc=1
fi
if build_user stranger ''; then
	echo "symbol-namespace: FAIL: a module that does not import XVM linked against xvm.ko"
	rc=1
elif ! grep -q 'uses symbol xvm_mmio_synchronize from namespace XVM' "$work/stranger.log"; then
	tail -n 20 "$work/stranger.log"
	echo "symbol-namespace: FAIL: the build failed, but not for the namespace"
	rc=1
fi
((rc)) || echo "symbol-namespace: ok: XVM exports reach importers only"
exit "$rc"
