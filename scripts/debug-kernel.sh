#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh - build (or reuse from cache) the xvm debug kernel.
#
# A 6.1 x86_64 kernel from Debian's linux-source-6.1: `make tinyconfig`, then
# scripts/debug-kernel.config merged on top (KASAN, kmemleak, lockdep, UBSAN,
# fault injection, KUnit, PCI/ACPI/intel-iommu/VFIO/e1000e, all built in).
# Every option of the fragment is verified to survive olddefconfig.
#
# Usage: scripts/debug-kernel.sh [--check | --print-dir | --config-only]
#   (none)         build if needed; print the cache directory DIR on stdout.
#                  DIR/bzImage is the kernel, DIR/build is a full O= build
#                  tree usable as KDIR: make -C DIR/build M=$PWD modules
#   --check        print DIR and exit 0 if it is already built, else exit 1.
#   --print-dir    print DIR (built or not) and exit.
#   --config-only  generate + verify the .config in a temp dir, no build;
#                  prints the path of the verified .config.
#
# Environment: XVM_CACHE (default ~/.cache/xvm), XVM_JOBS (default nproc).
# Stdout carries only the one result line; all progress goes to stderr.
# A full build takes ~6 min on 2 cores: run it with nohup in the background
# from an interactive shell with a command time limit.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
FRAG="$SCRIPT_DIR/debug-kernel.config"
XVM_CACHE=${XVM_CACHE:-$HOME/.cache/xvm}
JOBS=${XVM_JOBS:-$(nproc)}
SRC_PKG=linux-source-6.1
TARBALL=/usr/src/linux-source-6.1.tar.xz
SRC="$XVM_CACHE/linux-source-6.1"

log() { echo "debug-kernel: $*" >&2; }
die() { echo "debug-kernel: ERROR: $*" >&2; exit 1; }

mode=build
case "${1:-}" in
	"") ;;
	--check) mode=check ;;
	--print-dir) mode=print ;;
	--config-only) mode=config ;;
	-h|--help) sed -n '4,24p' "$SELF" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
	*) die "unknown argument '$1' (try --help)" ;;
esac

[ -r "$FRAG" ] || die "missing config fragment $FRAG"

# Install Debian packages that are missing (apt-get update only if needed).
ensure_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]} (need root to install)"
	log "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >&2
}

src_version() {
	dpkg-query -W -f='${Version}' "$SRC_PKG" 2>/dev/null
}

# Extract linux-source-6.1 into $SRC once per package version. The tree is
# extracted to a temp dir and renamed into place, so a half-extracted tree is
# never used; .xvm-source-version is the completion stamp.
ensure_source() {
	local ver upstream have tmp old
	ver=$(src_version) || die "$SRC_PKG is not installed"
	upstream=${ver%%-*}
	mkdir -p "$XVM_CACHE"
	exec 8>"$XVM_CACHE/.linux-source-6.1.lock"
	flock 8
	if [ -f "$SRC/.xvm-source-version" ] && [ "$(cat "$SRC/.xvm-source-version")" = "$ver" ]; then
		exec 8>&-
		return 0
	fi
	if [ ! -f "$SRC/.xvm-source-version" ] && [ -f "$SRC/Makefile" ] && [ -f "$SRC/MAINTAINERS" ] \
	   && [ -f "$SRC/scripts/kconfig/merge_config.sh" ]; then
		# A tree extracted by hand (no stamp): adopt it if its version matches.
		have=$(sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p; s/^SUBLEVEL = //p' \
			"$SRC/Makefile" | head -3 | paste -sd.)
		if [ "$have" = "$upstream" ]; then
			log "adopting existing source tree $SRC ($have)"
			echo "$ver" >"$SRC/.xvm-source-version"
			exec 8>&-
			return 0
		fi
	fi
	[ -r "$TARBALL" ] || die "$TARBALL missing (package $SRC_PKG $ver)"
	log "extracting $TARBALL ($ver) into $SRC (takes a minute or two)"
	tmp=$(mktemp -d "$XVM_CACHE/.linux-source-6.1.tmp.XXXXXX")
	tar -C "$tmp" -xf "$TARBALL" || { rm -rf "$tmp"; die "extracting $TARBALL failed"; }
	[ -f "$tmp/linux-source-6.1/Makefile" ] || { rm -rf "$tmp"; die "unexpected tarball layout"; }
	echo "$ver" >"$tmp/linux-source-6.1/.xvm-source-version"
	old=""
	if [ -e "$SRC" ]; then
		old="$XVM_CACHE/.linux-source-6.1.old.$$"
		mv "$SRC" "$old"
	fi
	mv "$tmp/linux-source-6.1" "$SRC"
	rm -rf "$tmp" ${old:+"$old"}
	exec 8>&-
}

# Build dependencies (Debian package names).
BUILD_PKGS=(make gcc libc6-dev flex bison bc libelf-dev libssl-dev xz-utils "$SRC_PKG")

# Every CONFIG_ line of the fragment must be in the final .config verbatim;
# every "# CONFIG_X is not set" must not be enabled.
verify_config() {
	local cfg=$1 line name got dropped=()
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			name=${line%%=*}
			grep -qxF -- "$line" "$cfg" && continue
			got=$(grep -E "^(# )?${name}[= ]" "$cfg" || echo "absent")
			dropped+=("  requested $line, got: $got")
			;;
		"# CONFIG_"*" is not set")
			name=${line#\# }; name=${name%% *}
			if grep -qE "^$name=" "$cfg"; then
				dropped+=("  requested '$line', got: $(grep -E "^$name=" "$cfg")")
			fi
			;;
		esac
	done <"$FRAG"
	if [ ${#dropped[@]} -gt 0 ]; then
		log "these options of $FRAG did not survive olddefconfig"
		log "(usually a missing dependency: see 'depends on' in the Kconfig):"
		printf '%s\n' "${dropped[@]}" >&2
		return 1
	fi
	log "config verified: all $(grep -cE '^(CONFIG_|# CONFIG_.* is not set)' "$FRAG") fragment options present"
}

# >>> build recipe (these lines are part of the cache key) >>>
KARCH=x86_64
kmake() { make -C "$SRC" O="$1" ARCH=$KARCH "${@:2}"; }

# tinyconfig + fragment + olddefconfig, in build dir $1.
configure() {
	local b=$1
	kmake "$b" -s tinyconfig >"$b/tinyconfig.log" 2>&1 || { cat "$b/tinyconfig.log" >&2; return 1; }
	(cd "$b" && "$SRC/scripts/kconfig/merge_config.sh" -m .config "$FRAG") \
		>"$b/merge_config.log" 2>&1 || { cat "$b/merge_config.log" >&2; return 1; }
	kmake "$b" -s olddefconfig >&2
}

full_build() {
	kmake "$1" -j"$JOBS" all
}
# <<< build recipe <<<

cache_key() {
	{
		cat "$FRAG"
		echo "source=$SRC_PKG $(src_version)"
		gcc --version 2>/dev/null | head -1
		sed -n '/^# >>> build recipe/,/^# <<< build recipe/p' "$SELF"
	} | sha256sum | cut -c1-16
}

if [ "$mode" = check ] || [ "$mode" = print ]; then
	src_version >/dev/null || { log "$SRC_PKG not installed"; exit 1; }
	DIR="$XVM_CACHE/debug-kernel/$(cache_key)"
	if [ "$mode" = check ] && [ ! -f "$DIR/.complete" ]; then
		log "not built: $DIR"
		exit 1
	fi
	echo "$DIR"
	exit 0
fi

ensure_pkgs "${BUILD_PKGS[@]}"
ensure_source

if [ "$mode" = config ]; then
	tmpb=$(mktemp -d "${TMPDIR:-/tmp}/xvm-debug-config.XXXXXX")
	configure "$tmpb"
	verify_config "$tmpb/.config" || die "config verification failed ($tmpb/.config)"
	echo "$tmpb/.config"
	exit 0
fi

KEY=$(cache_key)
DIR="$XVM_CACHE/debug-kernel/$KEY"
mkdir -p "$XVM_CACHE/debug-kernel"
exec 9>"$XVM_CACHE/debug-kernel/$KEY.lock"
if ! flock -n 9; then
	log "another run is building $KEY; waiting for its lock"
	flock 9
fi

# Keep the $XVM_DEBUG_KERNEL_KEEP (default 3) most recently used builds; skip
# any that another run holds locked. (Lock files stay: unlinking one that a
# waiter has open would let two runs build the same key.)
prune_cache() {
	local keep=${XVM_DEBUG_KERNEL_KEEP:-3} d k n=0
	while IFS= read -r d; do
		d=$(dirname "$d")
		n=$((n + 1))
		[ $n -le "$keep" ] && continue
		k=$(basename "$d")
		[ "$k" = "$KEY" ] && continue
		(
			flock -n 7 || exit 0
			log "pruning old debug kernel $d"
			rm -rf "$d"
		) 7>"$XVM_CACHE/debug-kernel/$k.lock"
	done < <(stat -c '%Y %n' "$XVM_CACHE"/debug-kernel/*/last-used 2>/dev/null \
		| sort -rn | cut -d' ' -f2-)
}

if [ -f "$DIR/.complete" ] && [ -f "$DIR/build/arch/x86/boot/bzImage" ] \
   && [ -f "$DIR/build/Module.symvers" ]; then
	touch "$DIR/last-used"
	log "cached: $DIR ($(cat "$DIR/kernelrelease" 2>/dev/null))"
	echo "$DIR"
	exit 0
fi

# Progress of the build in $2 while make ($1) runs: compiled objects
# against the count of the last complete build (cc-count, ~1200), as a
# percentage: every 5 s on a terminal, else one line per 10%.
watch_build() {
	local pid=$1 logf=$2 total n pct step=-1
	total=$(cat "$XVM_CACHE/debug-kernel/cc-count" 2>/dev/null || echo 1200)
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		n=$(grep -cE '^ +CC ' "$logf" 2>/dev/null) || true
		pct=$((n * 100 / total))
		((pct <= 99)) || pct=99
		xvm_progress_tty || ((pct / 10 != step)) || continue
		step=$((pct / 10))
		xvm_progress "debug-kernel: building: $n/~$total objects ($pct%), $(($(date +%s) - start))s"
	done
}

# Not complete: (re)configure and build. An interrupted earlier attempt left
# its objects in $DIR/build; make resumes from them (no stamp until the end).
rm -f "$DIR/.complete"
mkdir -p "$DIR/build"
log "building debug kernel $KEY in $DIR/build (-j$JOBS; ~6 min on 2 cores)"
start=$(date +%s)
configure "$DIR/build"
cp "$DIR/build/.config" "$DIR/config"
cp "$FRAG" "$DIR/fragment.config"
verify_config "$DIR/build/.config" || die "config verification failed; see $DIR/config"

LOGF="$DIR/build.log"
full_build "$DIR/build" >"$LOGF" 2>&1 &
mpid=$!
# GNU make passes SIGTERM on to its children (gcc, sub-makes).
trap 'pkill -TERM -P "$mpid" 2>/dev/null; kill "$mpid" 2>/dev/null || true' INT TERM
watch_build "$mpid" "$LOGF"
rc=0
wait "$mpid" || rc=$?
trap - INT TERM
xvm_progress_end
if [ $rc -ne 0 ]; then
	tail -n 40 "$LOGF" >&2
	die "kernel build failed (rc=$rc); full log: $LOGF"
fi

for f in arch/x86/boot/bzImage Module.symvers vmlinux scripts/mod/modpost; do
	[ -e "$DIR/build/$f" ] || die "build finished but $DIR/build/$f is missing"
done
kmake "$DIR/build" -s kernelrelease >"$DIR/kernelrelease"
ln -sfn build/arch/x86/boot/bzImage "$DIR/bzImage"
secs=$(( $(date +%s) - start ))
echo "$secs" >"$DIR/build-seconds"
grep -cE '^ +CC ' "$LOGF" >"$XVM_CACHE/debug-kernel/cc-count" || true
touch "$DIR/.complete" "$DIR/last-used"
prune_cache
log "built $(cat "$DIR/kernelrelease") in ${secs}s: $DIR ($(du -h "$DIR/bzImage" -L | cut -f1) bzImage)"
echo "$DIR"
