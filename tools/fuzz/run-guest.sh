#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run xvm-state-fuzz and xvm-fuzz in a sandbox guest (what `make fuzz` does).
#
#   tools/fuzz/run-guest.sh [--duration S] [--seed N] [--threads T]
#                           [--fuzz-args '...'] [--state-share PCT]
#                           [--state-args '...'] [SANDBOX-OPTIONS...]
#   tools/fuzz/run-guest.sh --guest-cmd [the same options]   print the guest
#                           command (scripts/check.sh's fuzz lane runs it)
#   tools/fuzz/run-guest.sh --extract LOG   write the failing state-file
#                           variants in LOG to build/logs/state-fuzz-*.state
#
# The guest first spends PCT percent (default 20) of the duration in
# xvm-state-fuzz (hostile state files against `xvm-vmm restore`, made from
# the example configs' saved state; tools/fuzz/state-fuzz.c), then the rest
# in xvm-fuzz (random ioctls), both with the seed; each prints a summary
# line, and a failing state file comes home in the console log
# (XVM-STATE-VARIANT-BEGIN, base64), written to build/logs/ by --extract.
# --state-share 100 with --state-args '--replay I' replays variant I.
#
# Boots the debug kernel (KASAN, lockdep, kmemleak...) when
# scripts/debug-kernel.sh --check finds it cached, with the modules rebuilt
# against it in build/fuzz-src; else the Debian kernel with the modules of
# the tree. The fuzzer gets the sandbox's e1000e and edu (--devices), a
# random seed unless one is given (printed first, so a failure replays with
# --seed), and the guest's kernel log must stay clean: scripts/sandbox.sh
# fails the run on a WARN, BUG, KASAN, lockdep or kmemleak report.
#
# Takes the shared guest lock (/tmp/xvm-guest.lock) itself: do not wrap it
# (or `make fuzz`) in `flock /tmp/xvm-guest.lock` - a second flock on the
# same file waits for the first forever. A lock the caller already holds
# through an inherited descriptor (flock FILE make fuzz) is detected and used
# as it is; while another run holds it, "waiting for /tmp/xvm-guest.lock" is
# printed before blocking.
#
# Exit status: the sandbox's (0: the fuzzer saw nothing impossible and the
# kernel log is clean).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$XVM_ROOT"

LOCK=/tmp/xvm-guest.lock

# The failing variants xvm-state-fuzz printed in console log $1, as files.
extract_variants() {
	local log=$1 out='' n=0
	mkdir -p "$XVM_ROOT/build/logs"
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		XVM-STATE-VARIANT-BEGIN*)
			out=$XVM_ROOT/build/logs/state-fuzz-$(sed -E \
				's/.*seed=([0-9]+) index=([0-9]+).*/\1-\2/' <<<"$line").state
			: >"$out.b64" ;;
		XVM-STATE-B64\ *) [[ -z $out ]] || echo "${line#XVM-STATE-B64 }" >>"$out.b64" ;;
		XVM-STATE-VARIANT-END*)
			if [[ -n $out ]] && base64 -d "$out.b64" >"$out" 2>/dev/null; then
				echo "make fuzz: failing state file: $out"
				n=$((n + 1))
			fi
			rm -f "$out.b64"
			out='' ;;
		esac
	done < <(grep -a 'XVM-STATE-' "$log" 2>/dev/null)
	((n == 0)) || echo "make fuzz: replay one with: xvm-vmm restore FILE --check"
}

# 0 when the caller holds $LOCK through a descriptor we inherited (flock -n
# on the same open file description succeeds at once).
lock_inherited() {
	local fd
	for fd in "/proc/$$/fd"/*; do
		[[ $(readlink "$fd" 2>/dev/null) == "$LOCK" ]] || continue
		flock -n "${fd##*/}" 2>/dev/null && return 0
	done
	return 1
}

duration=300 seed='' threads=4 fuzz_args='' share=20 state_args='' print_cmd=0 log=''
sandbox_args=()
while (($#)); do
	case $1 in
	--duration) duration=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	--fuzz-args) fuzz_args=$2; shift 2 ;;
	--state-share) share=$2; shift 2 ;;
	--state-args) state_args=$2; shift 2 ;;
	--guest-cmd) print_cmd=1; shift ;;
	--extract) extract_variants "$2"; exit 0 ;;
	--log) log=$2; shift 2 ;;
	*) sandbox_args+=("$1"); shift ;;
	esac
done
if [[ ! $share =~ ^[0-9]+$ ]] || ((share > 100)); then
	xvm_die "run-guest.sh: --state-share 0..100, not $share"
fi
[[ -n $seed ]] || seed=$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')
sdur=$((duration * share / 100))
cmd="rc=0"
((share == 0)) || cmd+="; xvm-state-fuzz --seed $seed --duration $sdur $state_args || rc=1"
((share == 100)) ||
	cmd+="; xvm-fuzz --seed $seed --duration $((duration - sdur)) --threads $threads --devices $fuzz_args || rc=1"
cmd+="; exit \$rc"
if ((print_cmd)); then
	echo "$cmd"
	exit 0
fi
echo "make fuzz: seed=$seed duration=${duration}s (state files ${sdur}s) threads=$threads"

kargs=()
if dir=$(bash scripts/debug-kernel.sh --check 2>/dev/null | tail -n 1) && [[ -d $dir ]]; then
	kimg=$dir/bzImage
	[[ -f $kimg ]] || kimg=$dir/build/arch/x86/boot/bzImage
	src=$XVM_ROOT/build/fuzz-src
	mkdir -p "$src"
	rsync -a --delete --exclude=/build/ --exclude=/.git/ \
		--exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude=modules.order --exclude=Module.symvers \
		--exclude='*.d' "$XVM_ROOT/" "$src/"
	echo "make fuzz: debug kernel $kimg (modules built in $src)"
	make -s -C "$dir/build" M="$src" -j"$(nproc)" modules >/dev/null
	kargs=(--kernel "$kimg" --modules "$src/kmod" --no-vfio-modules --mem 2G)
else
	echo "make fuzz: no cached debug kernel (scripts/debug-kernel.sh builds one): Debian kernel"
fi

[[ -n $log ]] || log=$XVM_ROOT/build/logs/fuzz-$(date +%Y%m%d-%H%M%S).log
mkdir -p "$(dirname "$log")"
lock=(flock "$LOCK")
if lock_inherited; then
	echo "make fuzz: the caller holds $LOCK already: running under its lock"
	lock=()
elif ! flock -n "$LOCK" true; then
	echo "make fuzz: waiting for $LOCK (another guest run holds it; make fuzz takes" \
		"the lock itself: do not wrap it in flock)"
fi
rc=0
"${lock[@]}" scripts/sandbox.sh "${kargs[@]}" --log "$log" \
	--timeout $((duration + 600)) "${sandbox_args[@]}" -- "$cmd" || rc=$?
extract_variants "$log"
echo "make fuzz: console log $log"
exit $rc
