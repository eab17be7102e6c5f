#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of scripts/installed-boot.sh (busybox sh, run as /extra/guest.sh).
#
# Boots the installed tree the way systemd would, in this order:
#   1. the installed files in place: /extra/root (lib/modules/KVER, the udev
#      rule, modules-load.d, the etc/group and etc/passwd sysusers wrote) and
#      the real kmod and udevadm with their libraries (/extra/sys);
#   2. kmod-static-nodes.service + systemd-tmpfiles-setup-dev.service: the
#      nodes of `kmod static-nodes --format=tmpfiles`, made as tmpfiles does;
#   3. systemd-udevd.service, systemd-modules-load.service (kmod modprobe of
#      every module in modules-load.d), systemd-udev-trigger.service
#      (trigger --action=add) and udevadm settle;
# then checks /dev/xvm and, if /extra/env asks for it, runs the selftests.
# Prints "INSTALLED-BOOT: PASS|FAIL|SKIP name" per check (also on the results
# port) and exits 0 when no check failed.

# shellcheck disable=SC1091 # written by installed-boot.sh
. /extra/env

npass=0 nfail=0 nskip=0
out() {
	echo "$*"
	[ -z "${XVM_RESULTS:-}" ] || echo "$*" >"$XVM_RESULTS"
}
pass() { npass=$((npass + 1)); out "INSTALLED-BOOT: PASS $*"; }
fail() { nfail=$((nfail + 1)); out "INSTALLED-BOOT: FAIL $*"; }
skip() { nskip=$((nskip + 1)); out "INSTALLED-BOOT: SKIP $*"; }
say() { echo "installed-boot: $*"; }

# ---- 1: the installed tree --------------------------------------------------
cp -a /extra/sys/. /
# kmod picks its tool by argv[0]; busybox keeps /bin/modprobe.
mkdir -p /usr/local/sbin /lib/systemd
ln -sf /bin/kmod /usr/local/sbin/modprobe
ln -sf /bin/kmod /usr/local/sbin/modinfo
ln -sf /bin/udevadm /lib/systemd/systemd-udevd
MODPROBE=/usr/local/sbin/modprobe
# The kernel's request_module() uses the real modprobe too.
echo "$MODPROBE" >/proc/sys/kernel/modprobe

mkdir -p /lib/modules
cp -a "/extra/root/lib/modules/$KVER" /lib/modules/
for d in lib/udev/rules.d usr/lib/udev/rules.d lib/modules-load.d usr/lib/modules-load.d; do
	[ -d "/extra/root/$d" ] || continue
	mkdir -p "/$d"
	cp -a "/extra/root/$d/." "/$d/"
done
# etc/passwd and etc/group: the installed entries after the guest's root.
for f in passwd group; do
	[ -f "/extra/root/etc/$f" ] || continue
	while IFS= read -r line; do
		grep -q "^${line%%:*}:" "/etc/$f" || echo "$line" >>"/etc/$f"
	done <"/extra/root/etc/$f"
done
printf 'passwd: files\ngroup: files\nshadow: files\n' >/etc/nsswitch.conf

# ---- 2: static nodes, as systemd-tmpfiles creates them ----------------------
mkdir -p /run/tmpfiles.d
kmod static-nodes --format=tmpfiles --output=/run/tmpfiles.d/static-nodes.conf ||
	say "kmod static-nodes failed"
# "c! /dev/xvm 0600 - - - 10:255": create the node if there is none.
while read -r type path mode _ _ _ arg; do
	case $type in
	c* | b*) ;;
	*) continue ;;
	esac
	[ -e "$path" ] && continue
	mkdir -p "${path%/*}"
	mknod -m "$mode" "$path" "${type%%[!cb]*}" "${arg%%:*}" "${arg##*:}" &&
		say "static node $path ${type%%[!cb]*} $arg mode $mode (tmpfiles)"
done </run/tmpfiles.d/static-nodes.conf

# ---- 3: udevd, modules-load.d, trigger ---------------------------------------
if /lib/systemd/systemd-udevd --daemon; then
	say "systemd-udevd started"
else
	say "systemd-udevd did not start"
fi
for d in /etc/modules-load.d /run/modules-load.d /usr/lib/modules-load.d /lib/modules-load.d; do
	for f in "$d"/*.conf; do
		[ -f "$f" ] || continue
		sed -e 's/[#;].*//' "$f" | while read -r m; do
			[ -n "$m" ] || continue
			if $MODPROBE "$m"; then
				say "modules-load.d: modprobe $m (from $f)"
			else
				say "modules-load.d: modprobe $m FAILED (from $f)"
			fi
		done
	done
done
udevadm trigger --type=subsystems --action=add
udevadm trigger --type=devices --action=add
udevadm settle --timeout=60 || say "udevadm settle timed out"

# ---- checks -----------------------------------------------------------------
sysdev=$(cat /sys/class/misc/xvm/dev 2>/dev/null)
say "/sys/class/misc/xvm/dev: ${sysdev:-none}; /dev/xvm: $(ls -ln /dev/xvm 2>&1)"
if [ -d /sys/module/xvm ]; then
	pass "xvm.ko loaded by modules-load.d"
else
	fail "xvm.ko loaded by modules-load.d"
fi
if [ -c /dev/xvm ]; then
	pass "/dev/xvm is a character device"
else
	fail "/dev/xvm is a character device"
fi
node=
if [ -c /dev/xvm ]; then
	node=$(stat -c '%t %T' /dev/xvm | { read -r ma mi; echo "$((0x$ma)):$((0x$mi))"; })
fi
if [ -n "$sysdev" ] && [ "$node" = "$sysdev" ]; then
	pass "/dev/xvm is $node = /sys/class/misc/xvm/dev"
else
	fail "/dev/xvm is ${node:-missing}, /sys/class/misc/xvm/dev is ${sysdev:-missing}"
fi
gid=$(grep '^xvm:' /etc/group | cut -d: -f3)
ngid=$(stat -c %g /dev/xvm 2>/dev/null)
if [ -n "$gid" ] && [ "$ngid" = "$gid" ]; then
	pass "/dev/xvm group is xvm (gid $gid)"
else
	fail "/dev/xvm group is gid ${ngid:-?}, xvm is gid ${gid:-missing}"
fi
mode=$(stat -c %a /dev/xvm 2>/dev/null)
if [ "$mode" = 660 ]; then
	pass "/dev/xvm mode is 0660"
else
	fail "/dev/xvm mode is 0${mode:-?}, expected 0660"
fi

# root first: a stale node with another device number fails even for root.
res=$(/extra/open-as 0 0 /dev/xvm 2>&1)
rc=$?
say "root: $res"
if [ $rc = 0 ]; then
	pass "root opens /dev/xvm and creates a VM"
else
	fail "root opens /dev/xvm and creates a VM: $res"
fi
# open-as UID GIDS for the test users (uid, then primary and supplementary gids).
ids() { echo "$(id -u "$1") $(id -G "$1" | tr ' ' ,)"; }
# open_as USER RC CHECK: USER opens /dev/xvm and creates a VM; open-as
# must exit RC (0 done, 2 EACCES).
open_as() {
	# shellcheck disable=SC2046 # uid and gid list
	res=$(/extra/open-as $(ids "$1") /dev/xvm 2>&1)
	rc=$?
	say "$1 ($(id "$1")): $res"
	if [ $rc = "$2" ]; then
		pass "$3"
	else
		fail "$3: $res"
	fi
}
open_as "$MEMBER" 0 "a member of group xvm opens /dev/xvm and creates a VM"
open_as "$OTHER" 2 "a user not in group xvm gets EACCES"

# ---- selftests on this boot --------------------------------------------------
if [ "$SELFTESTS" = none ]; then
	skip "selftests (not requested)"
else
	# What a user of the other capabilities loads by hand, and the test
	# device, which the package does not install (the test payload's).
	for m in vfio-pci xvm-vgic xvm-msix xvm-iommu; do
		$MODPROBE "$m" || say "modprobe $m failed"
	done
	[ -d /sys/module/xvm_testdev ] || $MODPROBE xvm-testdev 2>/dev/null ||
		insmod /extra/xvm-testdev.ko || say "xvm-testdev did not load"
	# lifecycle_test reloads modules from the test payload's
	# /lib/modules/xvm: give it the installed files.
	mkdir -p /lib/modules/xvm
	for m in xvm xvm-testdev xvm-vgic xvm-msix xvm-iommu; do
		f=$(/usr/local/sbin/modinfo -n "$m" 2>/dev/null)
		[ -n "$f" ] && [ -f "$f" ] || f=/extra/$m.ko
		[ -f "$f" ] || continue
		case $f in
		*.ko) cp "$f" "/lib/modules/xvm/$m.ko" ;;
		*.ko.xz) unxz -c "$f" >"/lib/modules/xvm/$m.ko" ;;
		*.ko.gz) gunzip -c "$f" >"/lib/modules/xvm/$m.ko" ;;
		esac
	done
	lsmod | grep -E '^(xvm|vfio)' | sed 's/^/installed-boot: lsmod: /'
	if [ "$SELFTESTS" = all ]; then
		# shellcheck disable=SC2086
		run-selftests
	else
		# shellcheck disable=SC2086
		run-selftests $SELFTESTS
	fi
fi

udevadm control --exit 2>/dev/null
out "INSTALLED-BOOT-GUEST pass=$npass fail=$nfail skip=$nskip"
[ $nfail = 0 ]
