#!/bin/bash
# Install what building and testing xvm needs, on Debian 12, when missing.
# Quiet and fast (no apt-get update) when everything is already there.
#
#   scripts/deps.sh            packages + the extracted linux-source-6.1 tree
#   XVM_SKIP_DEPS=1            do nothing (offline development)
#
# The kernel source is extracted once to $XVM_CACHE/linux-source-6.1
# (default ~/.cache/xvm): it provides checkpatch.pl, the kselftest harness
# and the tree the debug kernel is built from.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ -z ${XVM_SKIP_DEPS:-} ]] || exit 0

PACKAGES=(
	build-essential g++ make perl rsync xz-utils cpio kmod util-linux
	flex bison bc libelf-dev libssl-dev sparse dkms
	qemu-system-x86 busybox-static
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	debhelper dh-dkms dpkg-dev fakeroot lintian dwarves systemd udev
	python3 gnuplot-nox
	libjson-c-dev
)

xvm_ensure_pkgs "${PACKAGES[@]}"

# A kernel to build against and boot (image + matching headers).
kver=$(xvm_kver) || xvm_die "no usable *-amd64 kernel after installing linux-image-amd64 and linux-headers-amd64"

# The kernel source tree, once per linux-source-6.1 package version (the
# version is stamped in .xvm-source-version; scripts/debug-kernel.sh uses the
# same stamp and lock). Extracted to a temporary directory in the cache and
# renamed into place under the lock, so an interrupted or concurrent run never
# leaves a half-extracted tree behind the final name.
tarball=/usr/src/linux-source-6.1.tar.xz
stamp=$XVM_LINUX_SRC/.xvm-source-version
src_ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
src_ok() {
	[[ -f $stamp && $(cat "$stamp") == "$src_ver" ]] && return 0
	# A tree extracted by other means (no stamp): adopt it if the version matches.
	if [[ ! -f $stamp && -f $XVM_LINUX_SRC/Makefile && -f $XVM_LINUX_SRC/MAINTAINERS &&
		-f $XVM_LINUX_SRC/scripts/checkpatch.pl && -f $XVM_HARNESS_DIR/kselftest_harness.h ]]; then
		local have
		have=$(sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p; s/^SUBLEVEL = //p' \
			"$XVM_LINUX_SRC/Makefile" | head -n 3 | paste -sd.)
		if [[ $have == "${src_ver%%-*}" ]]; then
			echo "$src_ver" >"$stamp"
			return 0
		fi
	fi
	return 1
}
if ! src_ok; then
	[[ -f $tarball ]] || xvm_die "$tarball missing (package linux-source-6.1)"
	mkdir -p "$XVM_CACHE"
	exec 8>"$XVM_CACHE/.linux-source-6.1.lock"
	flock 8
	if ! src_ok; then
		xvm_info "deps: extracting $tarball ($src_ver) to $XVM_LINUX_SRC (once, ~20 s)"
		tmp=$(mktemp -d "$XVM_CACHE/.linux-source-6.1.tmp.XXXXXX")
		trap 'rm -rf "$tmp"' EXIT
		tar -C "$tmp" -xf "$tarball"
		[[ -f $tmp/linux-source-6.1/Makefile ]] || xvm_die "unexpected layout in $tarball"
		echo "$src_ver" >"$tmp/linux-source-6.1/.xvm-source-version"
		if [[ -e $XVM_LINUX_SRC ]]; then
			mv "$XVM_LINUX_SRC" "$tmp/old"
		fi
		mv "$tmp/linux-source-6.1" "$XVM_LINUX_SRC"
		rm -rf "$tmp"
		trap - EXIT
	fi
	exec 8>&-
fi

if [[ -n ${XVM_DEPS_VERBOSE:-} ]]; then
	xvm_info "deps: ok (kernel $kver, source $XVM_LINUX_SRC)"
fi
