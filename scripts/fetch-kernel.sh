#!/bin/bash
# Fetch a Debian kernel (image, modules, headers) for a guest lane or a
# build, with a private apt configuration: the host's sources, dpkg
# architectures and /lib/modules are never touched.
#
#   scripts/fetch-kernel.sh [--arch amd64|arm64] [--series 6.12 | --abi ABI]
#
#   --arch ARCH     the kernel's architecture (default amd64)
#   --series 6.12   the newest linux-image-6.12.*+deb12-ARCH of bookworm-backports
#   --abi ABI       an exact Debian ABI, e.g. 6.1.0-57 (default: the ABI of
#                   the host's Debian kernel, scripts/kver.sh)
#
# Fetches linux-image-KVER-unsigned and linux-headers-KVER (ARCH), the
# headers' -common and linux-kbuild packages (kbuild for the host, amd64:
# its programs run on the build machine) and, for a foreign ARCH, that
# architecture's busybox-static. Everything is extracted with dpkg -x into
# $XVM_CACHE/kernels/KVER/root and kept: a second run needs no network.
#
# Prints bash-sourceable lines (also stored in $XVM_CACHE/kernels/KVER/env):
#   XVM_K_KVER=     kernel release          XVM_K_IMAGE=    the kernel image
#   XVM_K_KDIR=     headers (KDIR)          XVM_K_MODROOT=  its /lib/modules/KVER
#   XVM_K_BUSYBOX=  static busybox of ARCH (foreign ARCH only, else empty)
#
# Exit: 0, or 1 with "fetch-kernel: FAILED: ... PACKAGE" on stderr (no
# network, no such package). There is no skip: a lane that needs the kernel
# must fail without it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

arch=amd64 series='' abi=''
while (($#)); do
	case $1 in
	--arch) arch=$2; shift 2 ;;
	--series) series=$2; shift 2 ;;
	--abi) abi=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) xvm_die "fetch-kernel.sh: unknown option $1" ;;
	esac
done
case $arch in amd64 | arm64) ;; *) xvm_die "fetch-kernel.sh: --arch amd64 or arm64" ;; esac

failed() {
	printf 'fetch-kernel: FAILED: %s\n' "$*" >&2
	exit 1
}

top=$XVM_CACHE/kernels
apt=$top/apt
mkdir -p "$top"
opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$apt/lists" -o "Dir::State::status=$apt/status"
	-o "Dir::Cache=$apt/cache" -o APT::Architecture=amd64
	-o APT::Architectures::=amd64 -o APT::Architectures::=arm64
	-o Debug::NoLocking=true)

# apt_update WHAT: fresh private package lists (only ever run on a cache
# miss), or fail naming WHAT, the package that was wanted.
apt_update() {
	[[ -z ${apt_updated:-} ]] || return 0
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
	: >"$apt/status"
	local k=/usr/share/keyrings/debian-archive-keyring.gpg
	cat >"$apt/sources.list" <<-EOF
	deb [signed-by=$k] http://deb.debian.org/debian bookworm main
	deb [signed-by=$k] http://deb.debian.org/debian bookworm-updates main
	deb [signed-by=$k] http://deb.debian.org/debian bookworm-backports main
	deb [signed-by=$k] http://deb.debian.org/debian-security bookworm-security main
	EOF
	say "fetch-kernel: apt-get update (private lists in $apt)"
	# Error-Mode=any: a source that cannot be fetched is an error, not a
	# warning after which apt-get update exits 0.
	apt-get -q "${opts[@]}" -o APT::Update::Error-Mode=any update >"$apt/update.log" 2>&1 ||
		failed "cannot fetch $1: apt-get update of deb.debian.org bookworm{,-updates,-backports,-security} failed (network/DNS?): $(grep -m 1 -E '^(E|W):' "$apt/update.log")"
	apt_updated=1
}

# A step, in the log (stderr) and, under make check, on its console too
# (XVM_PROGRESS_FD): a first fetch takes a while.
say() {
	xvm_info "$*"
	[[ -z ${XVM_PROGRESS_FD:-} ]] || xvm_progress "   $*"
}

# The kernel release: a series is resolved once, then remembered.
if [[ -n $series ]]; then
	pin=$top/series-$arch-$series
	if [[ -f $pin ]]; then
		kver=$(cat "$pin")
	else
		apt_update "linux-image-$series.*+deb12-$arch-unsigned"
		kver=$(apt-cache "${opts[@]}" search "^linux-image-${series//./\\.}\\.[0-9.]+\\+deb12-$arch-unsigned\$" |
			sed -n "s/^linux-image-\\(.*-$arch\\)-unsigned .*/\\1/p" | sort -V | tail -n 1)
		[[ -n $kver ]] || failed "no package linux-image-$series.*+deb12-$arch-unsigned in bookworm-backports"
	fi
else
	if [[ -z $abi ]]; then
		host=$(xvm_kver) || failed "no host Debian kernel to take the ABI from (give --abi)"
		abi=${host%-amd64}
	fi
	kver=$abi-$arch
	pin=
fi

dir=$top/$kver
root=$dir/root
env_of() {
	local bb=
	[[ $arch == amd64 ]] || bb=$root/bin/busybox
	printf 'XVM_K_KVER=%q\nXVM_K_IMAGE=%q\nXVM_K_KDIR=%q\nXVM_K_MODROOT=%q\nXVM_K_BUSYBOX=%q\n' \
		"$kver" "$root/boot/vmlinuz-$kver" "$root/usr/src/linux-headers-$kver" \
		"$root/lib/modules/$kver" "$bb"
}

if [[ ! -f $dir/env ]]; then
	img=linux-image-$kver-unsigned hdr=linux-headers-$kver
	apt_update "$img and $hdr ($arch)"
	pkgs=("$img:$arch" "$hdr:$arch")
	# -common and linux-kbuild-*, as the headers package names them.
	deps=$(apt-cache "${opts[@]}" depends "$hdr:$arch" 2>/dev/null |
		sed -n 's/^ *Depends: <\{0,1\}\(linux-\(headers-[^ ]*-common\|kbuild-[^ ]*\)\).*/\1/p' |
		sed 's/:.*//' | sort -u) || true
	[[ -n $deps ]] || failed "package $hdr ($arch) not found, or it names no -common/kbuild"
	for p in $deps; do
		case $p in
		linux-kbuild-*) pkgs+=("$p:amd64") ;;
		*) pkgs+=("$p") ;;
		esac
	done
	[[ $arch == amd64 ]] || pkgs+=("busybox-static:$arch")
	rm -rf "$dir.new"
	mkdir -p "$dir.new/debs" "$dir.new/root"
	i=0
	for p in "${pkgs[@]}"; do
		i=$((i + 1))
		say "fetch-kernel: downloading $i/${#pkgs[@]}: $p"
		(cd "$dir.new/debs" && apt-get -q "${opts[@]}" download "$p") \
			>"$dir.new/download.log" 2>&1 ||
			failed "apt-get download $p: $(tail -n 1 "$dir.new/download.log")"
	done
	for deb in "$dir.new"/debs/*.deb; do
		dpkg -x "$deb" "$dir.new/root"
	done
	rm -rf "$dir.new/debs"
	# The headers include their -common Makefile by absolute path.
	sed -i "s|^include /usr/src/|include $root/usr/src/|" \
		"$dir.new/root/usr/src/linux-headers-$kver/Makefile"
	rm -rf "$dir"
	mv "$dir.new" "$dir"
	[[ -f $root/boot/vmlinuz-$kver && -d $root/lib/modules/$kver ]] ||
		failed "$img has no boot/vmlinuz-$kver or lib/modules/$kver"
	env_of >"$dir/env"
	[[ -z $pin ]] || echo "$kver" >"$pin"
	say "fetch-kernel: $kver cached in $dir ($(du -sh "$dir" | cut -f1))"
fi
cat "$dir/env"
