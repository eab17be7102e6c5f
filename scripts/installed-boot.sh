#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# installed-boot.sh - a fresh boot of an installed xvm tree: does /dev/xvm
# work, with access for group xvm only, after install and "reboot"?
#
#   scripts/installed-boot.sh --root ROOT [--kver KVER] [--selftests WHAT]
#                             [--assemble] [--log FILE] [--timeout S]
#
# ROOT is an extracted install, what `dpkg -x` of the xvm-dkms package gives:
# usr/src/xvm-<VERSION>/ (with dkms.conf), the udev rule in lib/udev/rules.d/
# or usr/lib/udev/rules.d/, usr/lib/modules-load.d/xvm.conf and
# usr/lib/sysusers.d/xvm.conf. --assemble first fills ROOT with that layout
# from the source tree (XVM_SRC, default this repository), for development.
#
# On the host (never touching /var/lib/dkms, /usr/src or /lib/modules):
#   1. dkms add/build/install from ROOT/usr/src with private --dkmstree and
#      --sourcetree/--installtree in ROOT, against /lib/modules/KVER/build,
#      into ROOT/lib/modules/KVER/updates/dkms; the kernel's own modules they
#      need (modinfo depends, plus vfio-pci) copied from /lib/modules/KVER;
#      `depmod -b ROOT KVER`; ROOT's modules.devname must have no xvm line;
#   2. systemd-sysusers --root=ROOT creates group xvm; a test user in it and
#      one not in it;
# in the guest (scripts/sandbox.sh --modules none: nothing preloaded), the
# boot that systemd would do (scripts/installed-boot/guest.sh): kmod
# static-nodes, systemd-udevd, modules-load.d with the real kmod modprobe,
# udevadm trigger + settle; then /dev/xvm is checked (device number, group,
# mode, member opens and creates a VM, non-member gets EACCES) and the
# selftests run on that boot.
#
#   --selftests WHAT  all (default), none, or the selftest names to run
#   --kver KVER       kernel release (default: scripts/kver.sh)
#   --log FILE        guest console log (default build/logs/installed-boot.log)
#   --timeout S       guest time limit (default 900)
# Environment: XVM_GUEST_LOCK=FILE takes flock FILE around the guest run only.
#
# Output: one "PASS name" / "FAIL name" / "SKIP name" line per check (the
# selftests count as their own pass/fail/skip totals), then
#   installed-boot: N passed, N failed, N skipped
# Exit: 0 nothing failed, 1 something failed, 2 usage error.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root='' kver='' selftests=all assemble=0 log='' timeout_s=900
usage() {
	sed -n '4,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
	exit "${1:-0}"
}
while (($#)); do
	case $1 in
	--root) root=$2; shift 2 ;;
	--kver) kver=$2; shift 2 ;;
	--selftests) selftests=$2; shift 2 ;;
	--assemble) assemble=1; shift ;;
	--log) log=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "installed-boot: unknown argument $1" >&2; usage 2 >&2 ;;
	esac
done
[[ -n $root ]] || { echo "installed-boot: --root ROOT is required" >&2; exit 2; }
mkdir -p "$root"
root=$(cd "$root" && pwd)
kver=${kver:-$(xvm_kver)}
ksrc=/lib/modules/$kver/build
log=${log:-$XVM_ROOT/build/logs/installed-boot.log}
mkdir -p "$(dirname "$log")"

npass=0 nfail=0 nskip=0
say() { echo "installed-boot: $*" >&2; }
pass() { npass=$((npass + 1)); echo "PASS $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $*"; }
finish() {
	echo "installed-boot: $npass passed, $nfail failed, $nskip skipped"
	((nfail == 0))
	exit
}
# die CHECK LOG: a failed check after which nothing else can run.
die() {
	fail "$1"
	[[ -z ${2:-} || ! -s $2 ]] || tail -n 40 "$2" | sed 's/^/  | /' >&2
	finish
}

[[ -e $ksrc/Makefile ]] || die "kernel headers at $ksrc"
xvm_ensure_pkgs dkms openssl kmod udev systemd cpio gcc libc6-dev
T=$(mktemp -d "${TMPDIR:-/tmp}/xvm-installed.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

# ---- --assemble: the layout of `dpkg -x xvm-dkms_*.deb` ----------------------
if ((assemble)); then
	src=${XVM_SRC:-$XVM_ROOT}
	ver=$(xvm_dkms_conf_list "$src/dkms.conf" PACKAGE_VERSION)
	rm -rf "$root/usr/src/xvm-$ver"
	xvm_copy_sources "$src" "$root/usr/src/xvm-$ver" || die "copy $src to ROOT"
	install -D -m 0644 "$src/data/60-xvm.rules" "$root/lib/udev/rules.d/60-xvm.rules"
	install -D -m 0644 "$src/data/modules-load.conf" "$root/usr/lib/modules-load.d/xvm.conf"
	install -D -m 0644 "$src/data/sysusers.conf" "$root/usr/lib/sysusers.d/xvm.conf"
	say "assembled $root from $src (xvm $ver)"
fi

# ---- what ROOT holds ---------------------------------------------------------
mapfile -t srcs < <(find "$root/usr/src" -mindepth 2 -maxdepth 2 -path '*/xvm-*/dkms.conf' 2>/dev/null)
((${#srcs[@]} == 1)) || die "ROOT has one usr/src/xvm-*/dkms.conf (found ${#srcs[@]})"
srcdir=$(dirname "${srcs[0]}")
version=${srcdir##*/xvm-}
rules=
for d in lib/udev/rules.d usr/lib/udev/rules.d; do
	[[ -f $root/$d/60-xvm.rules ]] && rules=$d
done
[[ -n $rules ]] || fail "ROOT has lib/udev/rules.d/60-xvm.rules or usr/lib/udev/rules.d/60-xvm.rules"
[[ -f $root/usr/lib/modules-load.d/xvm.conf ]] || fail "ROOT has usr/lib/modules-load.d/xvm.conf"
[[ -f $root/usr/lib/sysusers.d/xvm.conf ]] || fail "ROOT has usr/lib/sysusers.d/xvm.conf"
say "ROOT $root: xvm $version, udev rule in $rules; kernel $kver"

# ---- 1: dkms into ROOT, the kernel modules they need, depmod ----------------
# ROOT/lib/modules/KVER is this script's output (the package ships no modules).
mods=$root/lib/modules/$kver
rm -rf "$mods"
mkdir -p "$mods" "$T/dkms" "$T/tmp"
xvm_dkms_key "$T" || die "throwaway signing key (openssl)"
dkms=(dkms --dkmstree "$T/dkms" --sourcetree "$root/usr/src" --installtree "$root/lib/modules")
kopt=(-k "$kver" --kernelsourcedir "$ksrc")
for step in add build install; do
	args=(-m xvm -v "$version")
	[[ $step == add ]] || args+=("${kopt[@]}")
	[[ $step != install ]] || args+=(--no-depmod)
	if ! TMPDIR=$T/tmp "${dkms[@]}" "$step" "${args[@]}" >"$T/dkms-$step.log" 2>&1; then
		for m in "$T"/dkms/xvm/"$version"/"$kver"/*/log/make.log; do
			[[ -f $m ]] && cat "$m" >>"$T/dkms-$step.log"
		done
		die "dkms $step xvm/$version for $kver" "$T/dkms-$step.log"
	fi
done
mapfile -t ours < <(find "$mods/updates/dkms" -name '*.ko*' -type f | sort)
((${#ours[@]})) || die "dkms installed no module into ROOT/lib/modules/$kver/updates/dkms"
pass "dkms builds and installs into ROOT: $(for f in "${ours[@]}"; do basename "$f"; done | tr '\n' ' ')"

# The kernel's modules that ours depend on (transitively), and vfio-pci,
# which assigning a device needs; copied at their /lib/modules paths.
declare -A have=()
for f in "${ours[@]}"; do
	n=$(basename "$f"); n=${n%%.ko*}; have[${n//-/_}]=1
done
queue=(vfio_pci vfio_iommu_type1)
for f in "${ours[@]}"; do
	IFS=, read -ra d <<<"$(modinfo -F depends "$f")"
	queue+=("${d[@]}")
done
while ((${#queue[@]})); do
	n=${queue[0]//-/_}
	queue=("${queue[@]:1}")
	[[ -n $n && -z ${have[$n]:-} ]] || continue
	have[$n]=1
	f=$(modinfo -k "$kver" -n "$n" 2>/dev/null) || continue
	[[ -f $f ]] || continue # built in
	install -D -m 0644 "$f" "$root$f"
	IFS=, read -ra d <<<"$(modinfo -F depends "$f")"
	queue+=("${d[@]}")
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[[ -f /lib/modules/$kver/$f ]] && cp "/lib/modules/$kver/$f" "$mods/"
done
if depmod -b "$root" "$kver" >"$T/depmod.log" 2>&1; then
	pass "depmod -b ROOT $kver ($(find "$mods/kernel" -name '*.ko*' 2>/dev/null | wc -l) kernel modules copied)"
else
	die "depmod -b ROOT $kver" "$T/depmod.log"
fi
if grep -qw xvm "$mods/modules.devname" 2>/dev/null; then
	fail "modules.devname has no xvm line: $(grep -w xvm "$mods/modules.devname" | tr '\n' ' ')"
else
	pass "modules.devname has no xvm line (no static /dev/xvm node at boot)"
fi

# ---- 2: the xvm group (sysusers.d) and two test users -----------------------
mkdir -p "$root/etc"
if systemd-sysusers --root="$root" >"$T/sysusers.log" 2>&1 && grep -q '^xvm:' "$root/etc/group"; then
	pass "systemd-sysusers --root=ROOT creates group xvm ($(grep '^xvm:' "$root/etc/group"))"
else
	fail "systemd-sysusers --root=ROOT creates group xvm"
	sed 's/^/  | /' "$T/sysusers.log" >&2
fi
systemd-sysusers --root="$root" --inline \
	'u xvmuser - "xvm test user, in group xvm" /' 'm xvmuser xvm' \
	'u xvmother - "xvm test user, not in group xvm" /' >>"$T/sysusers.log" 2>&1 ||
	die "systemd-sysusers: test users" "$T/sysusers.log"

# ---- the guest -----------------------------------------------------------------
x=$T/extra
mkdir -p "$x/root/lib/modules" "$x/root/etc" "$x/sys/bin"
cp -a "$mods" "$x/root/lib/modules/"
cp "$root/etc/passwd" "$root/etc/group" "$x/root/etc/"
for d in lib/udev/rules.d usr/lib/udev/rules.d lib/modules-load.d usr/lib/modules-load.d; do
	[[ -d $root/$d ]] && mkdir -p "$x/root/$d" && cp -a "$root/$d/." "$x/root/$d/"
done
# The real kmod and udev (with their libraries) run the boot.
cp -L /bin/kmod /bin/udevadm "$x/sys/bin/"
ldd /bin/kmod /bin/udevadm | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*[^:]$/ { print $1 }' |
	sort -u | while read -r lib; do install -D -m 0755 "$(readlink -f "$lib")" "$x/sys$lib"; done
gcc -std=c11 -static -O2 -Wall -Wextra -Werror -I "$srcdir/uapi" \
	-o "$x/open-as" "$XVM_ROOT/scripts/installed-boot/open-as.c" 2>"$T/open-as.log" ||
	die "build scripts/installed-boot/open-as.c" "$T/open-as.log"
install -m 0755 "$XVM_ROOT/scripts/installed-boot/guest.sh" "$x/guest.sh"
# The test payload: xvm-testdev.ko is a test module the package does not
# install; the selftests take the build tree's (built by `make`), and
# iommu_test the Debian e1000e driver from /extra.
if [[ $selftests != none ]] && ! find "$mods/updates" -name 'xvm-testdev.ko*' | grep -q .; then
	t=${XVM_TESTDEV_KO:-$XVM_ROOT/kmod/testdev/xvm-testdev.ko}
	if [[ -f $t ]] && [[ $(modinfo -F vermagic "$t" | cut -d' ' -f1) == "$kver" ]]; then
		cp "$t" "$x/xvm-testdev.ko"
	else
		say "warning: no xvm-testdev.ko for $kver at $t (run make): the tests that need it fail"
	fi
fi
e=$(modinfo -k "$kver" -n e1000e 2>/dev/null || true)
case $e in
*.ko) cp "$e" "$x/e1000e.ko" ;;
*.ko.xz) xz -dc "$e" >"$x/e1000e.ko" ;;
*.ko.zst) zstd -qdc "$e" >"$x/e1000e.ko" ;;
esac
printf 'KVER=%s\nSELFTESTS="%s"\nMEMBER=xvmuser\nOTHER=xvmother\n' "$kver" "$selftests" >"$x/env"

lock=()
[[ -z ${XVM_GUEST_LOCK:-} ]] || lock=(flock "$XVM_GUEST_LOCK")
say "booting the installed tree (scripts/sandbox.sh --modules none; log $log)"
rc=0
"${lock[@]}" "$XVM_ROOT/scripts/sandbox.sh" --kver "$kver" --modules none --no-vfio-modules \
	--extra "$x" --quiet --log "$log" --timeout "$timeout_s" -- 'sh /extra/guest.sh' \
	>"$log.sandbox" 2>&1 || rc=$?
res=$log.results
grep -aq 'INSTALLED-BOOT-GUEST ' "$res" 2>/dev/null || res=$log
xvm_strip_cr "$log" | grep -a '^installed-boot: ' | sed 's/^/guest: /' >&2 || true
while read -r word name; do
	case $word in
	PASS) pass "$name" ;;
	FAIL) fail "$name" ;;
	SKIP) nskip=$((nskip + 1)); echo "SKIP $name" ;;
	esac
done < <(xvm_strip_cr "$res" | sed -n 's/.*INSTALLED-BOOT: \(PASS\|FAIL\|SKIP\) /\1 /p')
grep -aq 'INSTALLED-BOOT-GUEST ' "$res" ||
	fail "the guest ran scripts/installed-boot/guest.sh to the end (sandbox result $rc)"
if [[ $selftests != none ]]; then
	if counts=$(xvm_selftest_counts "$res") || counts=$(xvm_selftest_counts "$log"); then
		read -r p f s <<<"$counts"
		npass=$((npass + p)) nfail=$((nfail + f)) nskip=$((nskip + s))
		echo "selftests on the installed boot: pass=$p fail=$f skip=$s"
		((p + f + s)) || fail "selftests on the installed boot: none ran (no build/selftests? run make)"
		((f == 0)) || xvm_strip_cr "$log" | grep -aE '^(not ok|# +(FAIL|not ok))' | head -n 30 >&2 || true
	else
		fail "selftests on the installed boot: no XVM-SELFTESTS summary"
	fi
fi
# shellcheck disable=SC1090 # written by sandbox.sh
clean=$(. "$log.summary" 2>/dev/null && echo "${clean:-0}") || clean=0
if [[ $clean == 1 ]]; then
	pass "guest kernel log clean"
else
	fail "guest kernel log clean (sandbox result $rc, see $log.sandbox)"
	tail -n 20 "$log.sandbox" | sed 's/^/  | /' >&2
fi
finish
