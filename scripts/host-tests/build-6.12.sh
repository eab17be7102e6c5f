#!/bin/bash
# The modules build warning-free (W=1, -Werror) against Linux 6.12 too:
# Debian bookworm-backports' 6.12 headers, built with the host's gcc-12.
# Keeps kmod/compat/ honest about the kernel-version differences.
#
# The headers are fetched with apt-get download through a private apt
# configuration (the system's sources are not touched), extracted with
# dpkg -x and cached in $XVM_CACHE/headers-6.12.  The build runs in a copy
# of the tree so the main build is not clobbered.
#
# Exit: 0 pass, 77 skip (the headers cannot be fetched), 1 fail.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

cache=$XVM_CACHE/headers-6.12
work=$(mktemp -d "${TMPDIR:-/tmp}/xvm-612.XXXXXX")
trap 'rm -rf "$work"' EXIT

skip() {
	echo "build-6.12: SKIP: $*"
	exit 77
}

fetch_headers() {
	local apt=$work/apt opts v f
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/dl"
	cat >"$apt/sources.list" <<-EOF
	deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
	deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main
	EOF
	opts=(-o "Dir::Etc::SourceList=$apt/sources.list"
	      -o Dir::Etc::SourceParts=/dev/null
	      -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache")
	apt-get -qq "${opts[@]}" update >/dev/null 2>&1 ||
		skip "apt-get update of bookworm-backports failed"
	v=$(apt-cache "${opts[@]}" search '^linux-headers-6\.12\.[0-9.]+\+deb12-amd64$' |
	    sed -n 's/^linux-headers-\(6\.12\.[^ ]*\)-amd64 .*/\1/p' | sort -V | tail -1)
	[[ -n $v ]] || skip "no 6.12 headers in bookworm-backports"
	(cd "$apt/dl" && apt-get -qq "${opts[@]}" download \
		"linux-headers-$v-amd64" "linux-headers-$v-common" \
		"linux-kbuild-$v" >/dev/null 2>&1) || skip "download of $v failed"
	rm -rf "$cache.new"
	mkdir -p "$cache.new"
	for f in "$apt"/dl/*.deb; do
		dpkg -x "$f" "$cache.new"
	done
	sed -i "s|^include /usr/src/|include $cache/usr/src/|" \
		"$cache.new/usr/src/linux-headers-$v-amd64/Makefile"
	echo "$v" >"$cache.new/version"
	rm -rf "$cache"
	mv "$cache.new" "$cache"
}

[[ -f $cache/version ]] || fetch_headers
v=$(cat "$cache/version")
kdir=$cache/usr/src/linux-headers-$v-amd64

mkdir -p "$work/src"
cp -a "$XVM_ROOT/Kbuild" "$XVM_ROOT/kmod" "$XVM_ROOT/uapi" "$work/src/"
find "$work/src" \( -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o \
	-name '.*.cmd' -o -name '*.symvers' -o -name '*.order' \) -delete

# The 6.12 headers enable BTF for modules, which needs pahole; not needed
# to prove the code builds.
if make -C "$kdir" M="$work/src" modules W=1 KCFLAGS=-Werror \
	CONFIG_DEBUG_INFO_BTF_MODULES= >"$work/build.log" 2>&1; then
	n=$(find "$work/src/kmod" -name '*.ko' | wc -l)
	echo "build-6.12: ok: $n modules built against $v (W=1, -Werror)"
	exit 0
fi
echo "build-6.12: FAIL: the modules do not build against $v:"
grep -E 'error|warning' "$work/build.log" | head -20
exit 1
