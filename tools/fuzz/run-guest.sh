#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run xvm-fuzz in a sandbox guest (what `make fuzz` does).
#
#   tools/fuzz/run-guest.sh [--duration S] [--seed N] [--threads T]
#                           [--fuzz-args '...'] [SANDBOX-OPTIONS...]
#
# Boots the debug kernel (KASAN, lockdep, kmemleak...) when
# scripts/debug-kernel.sh --check finds it cached, with the modules rebuilt
# against it in build/fuzz-src; else the Debian kernel with the modules of
# the tree. The fuzzer gets the sandbox's e1000e and edu (--devices), a
# random seed unless one is given (printed first, so a failure replays with
# --seed), and the guest's kernel log must stay clean: scripts/sandbox.sh
# fails the run on a WARN, BUG, KASAN, lockdep or kmemleak report. Takes the
# shared guest lock (/tmp/xvm-guest.lock) itself.
#
# Exit status: the sandbox's (0: the fuzzer saw nothing impossible and the
# kernel log is clean).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$XVM_ROOT"

duration=300 seed='' threads=4 fuzz_args=''
sandbox_args=()
while (($#)); do
	case $1 in
	--duration) duration=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	--fuzz-args) fuzz_args=$2; shift 2 ;;
	*) sandbox_args+=("$1"); shift ;;
	esac
done
[[ -n $seed ]] || seed=$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')
echo "make fuzz: seed=$seed duration=${duration}s threads=$threads"

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

cmd="xvm-fuzz --seed $seed --duration $duration --threads $threads --devices $fuzz_args"
exec flock /tmp/xvm-guest.lock scripts/sandbox.sh "${kargs[@]}" \
	--timeout $((duration + 600)) "${sandbox_args[@]}" -- "$cmd"
