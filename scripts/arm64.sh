#!/bin/bash
# Cross-build xvm for arm64 and run the GICv3 selftest in an arm64 guest:
# qemu-system-aarch64 -M virt,gic-version=3 -cpu cortex-a57 -accel tcg.
#
#   scripts/arm64.sh [--timeout S] [--test NAME]...
#
# 1. Installs (idempotently, with apt) gcc-aarch64-linux-gnu and
#    qemu-system-arm, and fetches with a private apt configuration (nothing
#    changes in the host's dpkg architectures) the arm64 packages of the
#    same Debian kernel ABI as the amd64 build: linux-headers-*-arm64,
#    linux-image-*-arm64-unsigned and busybox-static, extracted under
#    $XVM_CACHE/arm64/root.  The headers use the host's (amd64)
#    linux-kbuild-6.1 and linux-headers-*-common.
# 2. Builds xvm.ko, xvm-testdev.ko and xvm-vgic.ko from a copy of the tree
#    (ARCH=arm64, CROSS_COMPILE=aarch64-linux-gnu-), never touching the
#    x86 objects in kmod/, and the vgic and core selftests as static
#    aarch64 binaries.
# 3. Boots the Debian arm64 kernel with a busybox initramfs that loads the
#    modules and runs the tests (default: vgic_test), prints each test's
#    kselftest Totals line and exits 0 only if every test passed, within
#    the hard timeout (default 300 s), with no kernel WARNING/BUG/oops in
#    the guest log.
#
# Exit status: 0 pass, 1 fail, 77 when the dependencies cannot be had
# (no root/sudo for apt, or no network), 124 on timeout.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

timeout_s=${XVM_ARM64_TIMEOUT:-300}
tests=()
while (($#)); do
	case $1 in
	--timeout) timeout_s=$2; shift 2 ;;
	--test) tests+=("$2"); shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) xvm_die "arm64.sh: unknown option $1" ;;
	esac
done
((${#tests[@]})) || tests=(vgic_test)

skip() { xvm_info "arm64.sh: SKIP: $*"; exit 77; }

amd64_kver=$(xvm_kver) || skip "no amd64 Debian kernel (scripts/deps.sh)"
abi=${amd64_kver%-amd64}		# e.g. 6.1.0-56
kver=$abi-arm64
cache=$XVM_CACHE/arm64
root=$cache/root
kdir=$root/usr/src/linux-headers-$kver
image=$root/boot/vmlinuz-$kver

# --- 1. dependencies -------------------------------------------------------
as_root() {
	if ((EUID == 0)); then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else return 1
	fi
}

host_pkgs=()
command -v aarch64-linux-gnu-gcc >/dev/null || host_pkgs+=(gcc-aarch64-linux-gnu)
[[ -f /usr/aarch64-linux-gnu/lib/libc.a ]] || host_pkgs+=(libc6-dev-arm64-cross)
command -v qemu-system-aarch64 >/dev/null || host_pkgs+=(qemu-system-arm)
[[ -d /usr/lib/linux-kbuild-${abi%.*-*} ]] || host_pkgs+=("linux-kbuild-${abi%.*-*}")
[[ -d /usr/src/linux-headers-$abi-common ]] || host_pkgs+=("linux-headers-$abi-common")
if ((${#host_pkgs[@]})); then
	xvm_info "arm64.sh: installing ${host_pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get install -y -qq --no-install-recommends "${host_pkgs[@]}" \
		>/dev/null || skip "cannot install ${host_pkgs[*]}"
fi

if [[ ! -f $kdir/Makefile || ! -f $image || ! -x $root/bin/busybox ]]; then
	apt_dir=$cache/apt
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" \
		"$cache/debs" "$root"
	: >"$apt_dir/status"
	cat >"$apt_dir/apt.conf" <<-EOF
		APT::Architecture "arm64";
		APT::Architectures { "arm64"; };
		Dir::State::Lists "$apt_dir/lists";
		Dir::State::status "$apt_dir/status";
		Dir::Cache "$apt_dir/cache";
		Debug::NoLocking "true";
	EOF
	export APT_CONFIG=$apt_dir/apt.conf
	xvm_info "arm64.sh: fetching the arm64 kernel $kver and busybox"
	apt-get update -qq >/dev/null 2>&1 || skip "apt-get update (arm64) failed"
	(cd "$cache/debs" && apt-get download -qq "linux-headers-$kver" \
		"linux-image-$kver-unsigned" busybox-static >/dev/null 2>&1) ||
		skip "cannot download the arm64 packages of $kver"
	unset APT_CONFIG
	for deb in "$cache"/debs/*.deb; do
		dpkg -x "$deb" "$root"
	done
	# The headers point at the host's kbuild and common headers.
	mkdir -p "$root/usr/lib"
	for dir in /usr/lib/linux-kbuild-*; do
		ln -sfn "$dir" "$root/usr/lib/$(basename "$dir")"
	done
	ln -sfn "/usr/src/linux-headers-$abi-common" \
		"$root/usr/src/linux-headers-$abi-common"
fi
[[ -f $kdir/Makefile && -f $image && -x $root/bin/busybox ]] ||
	xvm_die "arm64.sh: incomplete arm64 tree under $root"

# --- 2. build ------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/xvm-arm64.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/src
mkdir -p "$src/kmod" "$src/uapi"
cp -a "$XVM_ROOT/Kbuild" "$src/"
cp -a "$XVM_ROOT/uapi/linux" "$src/uapi/"
for d in include compat core testdev vgic; do
	rsync -a --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
		--exclude='*.mod*' --exclude='.*.d' "$XVM_ROOT/kmod/$d" "$src/kmod/"
done
xvm_info "arm64.sh: building the modules for $kver"
make -s -C "$kdir" M="$src" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
	KCFLAGS=-Werror modules >"$work/kbuild.log" 2>&1 || {
	cat "$work/kbuild.log"
	xvm_die "arm64.sh: module build failed"
}

cc=aarch64-linux-gnu-gcc
cflags=(-std=gnu11 -Wall -Wextra -Werror -O2 -pthread -static
	-I"$XVM_ROOT/uapi" -I"$XVM_ROOT/userspace/lib" -I"$XVM_ROOT/selftests"
	-isystem "$XVM_HARNESS_DIR")
[[ -f $XVM_HARNESS_DIR/kselftest_harness.h ]] || "$XVM_ROOT/scripts/deps.sh"
printf '%s\n' '#include <stdio.h>' \
	'__attribute__((constructor)) static void xvm_linebuf(void)' \
	'{ setvbuf(stdout, NULL, _IOLBF, 0); }' >"$work/linebuf.c"
mkdir -p "$work/initramfs/bin" "$work/initramfs/xvm"
for t in vgic_test core_test "${tests[@]}"; do
	[[ -x $work/initramfs/xvm/$t ]] && continue
	$cc "${cflags[@]}" -o "$work/initramfs/xvm/$t" "$XVM_ROOT/selftests/$t.c" \
		"$XVM_ROOT"/userspace/lib/*.c "$work/linebuf.c"
done

# --- 3. boot and run ----------------------------------------------------------
ird=$work/initramfs
cp "$root/bin/busybox" "$ird/bin/busybox"
for m in core/xvm.ko testdev/xvm-testdev.ko vgic/xvm-vgic.ko; do
	cp "$src/kmod/$m" "$ird/xvm/"
done
cat >"$ird/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
exec </dev/console >/dev/console 2>&1
rc=0
for m in xvm xvm-testdev xvm-vgic; do
	insmod /xvm/\$m.ko || { echo "XVM-MODULE-LOAD-FAILED: \$m"; rc=1; }
done
if [ \$rc = 0 ]; then
	for t in ${tests[*]}; do
		echo "XVM-ARM64-RUN: \$t"
		/xvm/\$t || rc=1
	done
fi
for m in xvm-vgic xvm-testdev xvm; do
	rmmod \$m || { echo "XVM-MODULE-UNLOAD-FAILED: \$m"; rc=1; }
done
echo XVM-DMESG-BEGIN
dmesg
echo XVM-DMESG-END
echo "XVM-EXIT-STATUS=\$rc"
echo XVM-DONE
poweroff -f
EOF
chmod +x "$ird/init"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

log=$XVM_ROOT/build/logs/arm64-$(date +%Y%m%d-%H%M%S)-$$.log
mkdir -p "$(dirname "$log")"
xvm_info "arm64.sh: booting $kver (log: $log)"
status=0
timeout --kill-after=10 "$timeout_s" qemu-system-aarch64 \
	-M virt,gic-version=3 -cpu cortex-a57 -accel tcg -smp 2 -m 1G \
	-nographic -no-reboot -kernel "$image" -initrd "$work/initrd.gz" \
	-append "console=ttyAMA0 panic=-1 loglevel=4" </dev/null >"$log" 2>&1 ||
	status=$?
if ((status == 124 || status == 137)); then
	tail -n 40 "$log"
	xvm_info "arm64.sh: FAIL: timeout after ${timeout_s}s"
	exit 124
fi

xvm_strip_cr "$log" | grep -E '^# Totals:|XVM-ARM64-RUN|^not ok|GICv3: [0-9]+ SPIs' || true
rc=$(xvm_marker "$log" XVM-EXIT-STATUS)
bad=0
if ! xvm_scan_log "$log"; then
	xvm_info "arm64.sh: FAIL: kernel warnings in the guest log"
	bad=1
fi
if [[ $rc != 0 ]] || ! xvm_strip_cr "$log" | grep -q XVM-DONE; then
	tail -n 40 "$log"
	xvm_info "arm64.sh: FAIL: exit status ${rc:-none}"
	bad=1
fi
((bad)) && exit 1
xvm_info "arm64.sh: PASS ($kver, qemu-system-aarch64 virt,gic-version=3)"
exit 0
