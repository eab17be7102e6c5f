#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-roundtrip.sh - prove that xvm installs with DKMS, without touching the
# host's /var/lib/dkms, /usr/src or /lib/modules.
#
#   1. copy the source tree (git tracked + untracked, minus build/ and build
#      artifacts) to a private temp dir as xvm-<PACKAGE_VERSION of dkms.conf>;
#   2. dkms add / build / install with --sourcetree, --dkmstree, --installtree
#      all in that temp dir, --kernelsourcedir /lib/modules/$KVER/build,
#      --no-depmod, and a throwaway module-signing key in the temp dir;
#   3. check every BUILT_MODULE_NAME of dkms.conf is installed and that modinfo
#      reports vermagic $KVER;
#   4. boot the guest with the DKMS-built modules (scripts/sandbox.sh
#      --modules DIR) and check xvm is loaded and /dev/xvm exists;
#   5. dkms remove, delete the temp dir, check the host trees are unchanged.
#
# Usage: scripts/dkms-roundtrip.sh [--no-boot]
# Environment: KVER (default: scripts/kver.sh, else the newest
#   /lib/modules/*-amd64 with a build/ link), XVM_SRC (source tree to package,
#   default: this repository), KEEP=1 keeps the temp dir for debugging.
# Exit: 0 all steps passed; 1 failure; 77 dkms build/install passed but the
#   boot step was skipped (scripts/sandbox.sh missing, or --no-boot).
# Progress goes to stderr; the one-line result to stdout.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
SRC=${XVM_SRC:-$REPO}
SRC=$(cd "$SRC" && pwd)
BOOT=1
case "${1:-}" in
	"") ;;
	--no-boot) BOOT=0 ;;
	-h|--help) sed -n '4,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
	*) echo "dkms-roundtrip: unknown argument '$1'" >&2; exit 1 ;;
esac

log() { echo "dkms-roundtrip: $*" >&2; }
fail() {
	echo "dkms-roundtrip: FAIL: $*" >&2
	echo "dkms-roundtrip: FAIL: $*"
	exit 1
}

# ---- kernel -----------------------------------------------------------------
if [ -z "${KVER:-}" ]; then
	if [ -x "$SCRIPT_DIR/kver.sh" ]; then
		KVER=$("$SCRIPT_DIR/kver.sh") || fail "scripts/kver.sh found no kernel"
	else
		KVER=$(for d in /lib/modules/*-amd64; do
			[ -e "$d/build/Makefile" ] && basename "$d"; done | sort -V | tail -n 1)
	fi
fi
[ -n "$KVER" ] || fail "no Debian kernel with headers (apt-get install linux-headers-amd64)"
KSRC=/lib/modules/$KVER/build
[ -e "$KSRC/Makefile" ] || fail "no kernel headers at $KSRC"
xvm_ensure_pkgs dkms openssl kmod make gcc

[ -f "$SRC/dkms.conf" ] || fail "no dkms.conf in $SRC"
VERSION=$(bash -c 'kernel_source_dir=; dkms_tree=; . "$1" >/dev/null;
	printf "%s\n" "$PACKAGE_VERSION"' _ "$SRC/dkms.conf")
[ -n "$VERSION" ] || fail "no PACKAGE_VERSION in $SRC/dkms.conf"
# The module names, read the way dkms reads them (the file is bash).
mapfile -t MODULES < <(xvm_dkms_conf_list "$SRC/dkms.conf" BUILT_MODULE_NAME)
[ ${#MODULES[@]} -gt 0 ] || fail "dkms.conf lists no BUILT_MODULE_NAME"
mapfile -t LOCATIONS < <(xvm_dkms_conf_list "$SRC/dkms.conf" BUILT_MODULE_LOCATION)
# The top-level Kbuild builds every kmod/*/ that has a Kbuild: each of them
# must be listed in dkms.conf, or dkms would silently not install it.
for kb in "$SRC"/kmod/*/Kbuild; do
	[ -f "$kb" ] || continue
	d=${kb#"$SRC/"}; d=${d%Kbuild}
	# The test modules: kmod/kunit/ is built only with XVM_KUNIT=y,
	# kmod/testdev/ not with dkms.conf's XVM_TESTDEV=n; never installed
	# (the make.log check below fails if dkms ever builds them).
	case $d in kmod/kunit/ | kmod/testdev/) continue ;; esac
	printf '%s\n' "${LOCATIONS[@]}" | grep -qx -- "$d" \
		|| fail "dkms.conf has no BUILT_MODULE_LOCATION \"$d\" (add a BUILT_MODULE_NAME line for ${d})"
done
log "package xvm $VERSION, modules: ${MODULES[*]}; kernel $KVER"

# ---- host state before ------------------------------------------------------
host_state() {
	{
		find /var/lib/dkms /usr/src -maxdepth 3 -printf '%p %y %s %T@\n' 2>/dev/null
		find /lib/modules -printf '%p %y %s %T@\n' 2>/dev/null
		ls -la /etc/dkms /etc/dkms/framework.conf.d 2>/dev/null
	} | sort
}
BEFORE=$(host_state | sha256sum)

# ---- private trees ----------------------------------------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/xvm-dkms.XXXXXX")
cleanup() {
	local rc=$?
	if [ -n "${DKMS_ADDED:-}" ]; then
		"${DKMS[@]}" remove -m xvm -v "$VERSION" --all --no-depmod >"$T/remove.log" 2>&1 || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		log "kept $T"
	else
		rm -rf "$T"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$T/src/xvm-$VERSION" "$T/dkms" "$T/install/$KVER" "$T/tmp" "$T/modules"

# Source files: what a source package holds (scripts/lib.sh).
xvm_copy_sources "$SRC" "$T/src/xvm-$VERSION" || fail "copying $SRC failed"
log "copied $(find "$T/src/xvm-$VERSION" -type f | wc -l) files to $T/src/xvm-$VERSION"

# Throwaway signing key (never /var/lib/dkms/mok.key).
xvm_dkms_key "$T" || fail "openssl could not create a throwaway key"
export TMPDIR="$T/tmp"

DKMS=(dkms --dkmstree "$T/dkms" --sourcetree "$T/src" --installtree "$T/install")
KOPT=(-k "$KVER" --kernelsourcedir "$KSRC")

step() {
	local name=$1; shift
	local t0=$SECONDS
	if ! "$@" >"$T/$name.log" 2>&1; then
		cat "$T/$name.log" >&2
		[ "$name" = build ] && for m in "$T"/dkms/xvm/"$VERSION"/build/make.log "$T"/dkms/xvm/"$VERSION"/"$KVER"/*/log/make.log; do
			[ -f "$m" ] && { log "---- $m"; tail -n 60 "$m" >&2; }
		done
		fail "dkms $name failed (kernel $KVER)"
	fi
	log "dkms $name: ok ($((SECONDS - t0))s)"
}

step add "${DKMS[@]}" add -m xvm -v "$VERSION"
DKMS_ADDED=1
step build "${DKMS[@]}" build -m xvm -v "$VERSION" "${KOPT[@]}"
# Every .ko the build linked (per dkms's make.log) must be one dkms.conf installs.
while IFS= read -r ko; do
	n=$(basename "$ko" .ko)
	printf '%s\n' "${MODULES[@]}" | grep -qx -- "$n" \
		|| fail "the build produced $n.ko but dkms.conf does not list it"
done < <(sed -n 's/^ *LD \[M\] *\(.*\.ko\)$/\1/p' "$T"/dkms/xvm/"$VERSION"/"$KVER"/*/log/make.log)
step install "${DKMS[@]}" install -m xvm -v "$VERSION" "${KOPT[@]}" --no-depmod
"${DKMS[@]}" status -m xvm -v "$VERSION" >&2 || true

# ---- verify the install tree -----------------------------------------------
for m in "${MODULES[@]}"; do
	ko=$(find "$T/install/$KVER" -name "$m.ko*" -type f | head -n 1)
	[ -n "$ko" ] || fail "$m.ko not in the install tree $T/install/$KVER"
	vm=$(modinfo -F vermagic "$ko" | awk '{print $1}')
	[ "$vm" = "$KVER" ] || fail "$m: vermagic '$vm', expected '$KVER'"
	case "$ko" in
	*.ko) cp "$ko" "$T/modules/" ;;
	*.ko.xz) xz -dc "$ko" >"$T/modules/$m.ko" ;;
	*.ko.gz) gzip -dc "$ko" >"$T/modules/$m.ko" ;;
	*.ko.zst) zstd -qdc "$ko" >"$T/modules/$m.ko" ;;
	esac
	log "installed ${ko#"$T/install/"} (vermagic $vm)"
done

# ---- boot the guest with the DKMS-built modules ------------------------------
boot=skipped
if [ "$BOOT" = 1 ] && [ -x "$SCRIPT_DIR/sandbox.sh" ]; then
	log "booting the guest with $T/modules (scripts/sandbox.sh)"
	t0=$SECONDS
	mkdir -p "$T/nobuild"
	if ! "$SCRIPT_DIR/sandbox.sh" --kver "$KVER" --modules "$T/modules" --build "$T/nobuild" \
		--log "$T/boot.log" --quiet -- \
		sh -c 'lsmod | grep -q "^xvm " && test -c /dev/xvm && echo DKMS-OK' \
		>"$T/sandbox.out" 2>&1 || ! grep -qs DKMS-OK "$T/boot.log" "$T/boot.log.results"; then
		cat "$T/sandbox.out" >&2
		tail -n 40 "$T/boot.log" >&2
		fail "guest did not report DKMS-OK (xvm loaded + /dev/xvm)"
	fi
	boot="DKMS-OK in $((SECONDS - t0))s"
	log "guest: $boot"
elif [ "$BOOT" = 1 ]; then
	log "scripts/sandbox.sh does not exist yet: boot step SKIPPED"
fi

# ---- remove, clean, compare --------------------------------------------------
step remove "${DKMS[@]}" remove -m xvm -v "$VERSION" --all --no-depmod
DKMS_ADDED=
left=$(find "$T/install" -name '*.ko*' | wc -l)
[ "$left" -eq 0 ] || fail "dkms remove left $left module(s) in the install tree"
AFTER=$(host_state | sha256sum)
[ "$BEFORE" = "$AFTER" ] || fail "host /var/lib/dkms, /usr/src or /lib/modules changed"

if [ "$boot" = skipped ]; then
	echo "dkms-roundtrip: add/build/install/remove OK for $KVER (${MODULES[*]}); boot SKIPPED"
	exit 77
fi
echo "dkms-roundtrip: OK for $KVER (${MODULES[*]}); $boot"
