#!/bin/bash
# A packager's build: `make modules KDIR=<headers>` and `make userspace` need
# only a compiler and the kernel headers - no apt, no QEMU, no Debian kernel
# image, no kselftest harness, no network.
#
# The build runs in a copy of the tree whose PATH has apt-get, apt, dpkg,
# sudo and qemu-system-* replaced by stubs that record the call and fail,
# with scripts/kver.sh and scripts/deps.sh replaced by failing stubs (so no
# installed Debian kernel is found) and HOME/XVM_CACHE empty (so no
# kselftest_harness.h). It passes when both targets succeed, `make install
# DESTDIR=... PREFIX=/usr` stages the four production modules, xvm-vmm, the
# uapi header, libxvm, xvm.pc, the udev rule, the modules-load.d and
# sysusers.d files, the examples and the man page, nothing called a stub,
# and `make tests` fails naming kselftest_harness.h (the test binaries are
# the one part that needs more than a compiler).
#
# Exit: 0 pass, 77 skip (no kernel headers), 1 fail.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

kver=$(xvm_kver 2>/dev/null || true)
kdir=${KDIR:-/lib/modules/$kver/build}
if [[ ! -f $kdir/Makefile ]]; then
	echo "build-standalone: SKIP: no kernel headers (KDIR=$kdir)"
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/xvm-standalone.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/stubs" "$work/home"
git -C "$XVM_ROOT" ls-files -z | (cd "$XVM_ROOT" && cpio -0 -pdm --quiet "$work/src")
for s in apt-get apt dpkg sudo qemu-system-x86_64 qemu-system-aarch64; do
	printf '#!/bin/sh\necho "%s $*" >>%s/called\nexit 1\n' "$s" "$work" >"$work/stubs/$s"
	chmod +x "$work/stubs/$s"
done
for s in kver.sh deps.sh; do
	printf '#!/bin/sh\necho "scripts/%s" >>%s/called\nexit 1\n' "$s" "$work" \
		>"$work/src/scripts/$s"
done

build() {
	env -u XVM_CACHE -u KVER -u KDIR -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		HOME="$work/home" PATH="$work/stubs:$PATH" \
		make -C "$work/src" --no-print-directory -j"$(nproc)" "$@"
}
rc=0
if ! build modules KDIR="$kdir" >"$work/modules.log" 2>&1; then
	tail -n 20 "$work/modules.log"
	echo "build-standalone: FAIL: make modules KDIR=$kdir"
	rc=1
fi
if ! build userspace >"$work/userspace.log" 2>&1; then
	tail -n 20 "$work/userspace.log"
	echo "build-standalone: FAIL: make userspace"
	rc=1
fi
# A packager's staging install: every file the packages ship, no depmod.
stage=$work/stage
if ! build install DESTDIR="$stage" PREFIX=/usr KDIR="$kdir" >"$work/install.log" 2>&1; then
	tail -n 20 "$work/install.log"
	echo "build-standalone: FAIL: make install DESTDIR=... PREFIX=/usr"
	rc=1
fi
for f in usr/bin/xvm-vmm usr/include/xvm/linux/xvm.h usr/include/xvm/libxvm.h \
	usr/lib/libxvm.a usr/lib/pkgconfig/xvm.pc lib/udev/rules.d/60-xvm.rules \
	usr/lib/modules-load.d/xvm.conf usr/lib/sysusers.d/xvm.conf \
	usr/share/xvm/examples/demo.conf usr/share/man/man1/xvm-vmm.1; do
	if [[ ! -s $stage/$f ]]; then
		echo "build-standalone: FAIL: make install did not install /$f"
		rc=1
	fi
done
n=$(find "$stage/lib/modules" -name '*.ko' | wc -l)
if ((n != 4)) || find "$stage/lib/modules" -name 'xvm-testdev.ko' | grep -q .; then
	echo "build-standalone: FAIL: make install installed $n modules (want the 4 production ones)"
	rc=1
fi
if build tests >"$work/tests.log" 2>&1 || ! grep -q kselftest_harness.h "$work/tests.log"; then
	tail -n 5 "$work/tests.log"
	echo "build-standalone: FAIL: make tests without a harness should fail naming kselftest_harness.h"
	rc=1
fi
if [[ -s $work/called ]]; then
	sed 's/^/  called: /' "$work/called"
	echo "build-standalone: FAIL: the build called a dependency tool"
	rc=1
fi
((rc)) || echo "build-standalone: ok: modules, xvm-vmm and a full staging install with no apt, QEMU, Debian kernel or harness"
exit "$rc"
