#!/bin/bash
# Everything CI checks; `make check` runs it, .ci/run runs `make check`.
#
# Stages (each check counts as tests; the last line is the total):
#   1 deps        scripts/deps.sh                                     1 test
#   2 build       modules W=1 KCFLAGS=-Werror                         1 test
#                 sparse C=2, no warning in our files                 1 test
#                 checkpatch --strict on kmod/**/*.[ch], uapi/**/*.h  1 per file
#                 userspace (-Werror)                                 1 test
#                 uapi/linux/*.h standalone in C and C++              1 per header
#                 scripts/host-tests/*.sh (0 pass, 77 skip, else fail) 1 each
#   3 guest       run-selftests in the Debian kernel                  its counts
#                 guest kernel log clean                              1 test
#     migrate     scripts/migrate-guests.sh: a VM migrates between two
#                 guests on one QEMU socket network (xvm-vmm migrate ->
#                 incoming --check, the script goes on in the target)  1 test
#     6.12        Debian 6.12 (bookworm-backports, scripts/fetch-kernel.sh;
#                 a kernel that cannot be fetched is a failure, named)
#                 modules built against its headers (W=1, -Werror)    1 test
#                 run-selftests in it, VFIO modules from its tree     its counts
#                 6.12 kernel log clean                               1 test
#     arm64       scripts/arm64.sh --build-only: modules (W=1, -Werror)
#                 and userspace cross-built into build/arm64          1 test
#                 run-selftests in qemu-system-aarch64 virt, GICv3,
#                 SMMUv3, e1000e + edu (sandbox.sh --arch arm64)      its counts
#                 arm64 kernel log clean                              1 test
#   4 debug       (scripts/debug-kernel.sh exists, XVM_SKIP_DEBUG unset)
#                 modules built against the debug kernel              1 test
#                 run-selftests                                       its counts
#                 KUnit cases from the kernel log                     their counts
#                 debug kernel log clean (KASAN, lockdep, kmemleak...) 1 test
#                 xvm-state-fuzz then xvm-fuzz, own boot, ~90 s, random
#                 seed (+ clean log)                                  1 test
#                 line coverage of kmod/ (gcov, both boots), printed, not counted
#   5 dkms        scripts/dkms-roundtrip.sh (0/77/else)               1 test
#   6 installed   make deb (skipped while there is no deb target)     1 test
#                 scripts/installed-boot.sh on the dpkg -x'd .debs    its counts
#
# Logs: build/logs/check/. Environment: KDIR/KVER (main build), XVM_TIMEOUT
# (guest lane, default 600 s), XVM_DEBUG_TIMEOUT (debug lane, default 900 s),
# XVM_SKIP_DEBUG=1, XVM_SKIP_GUEST=1 (the Debian 6.1 lane only); the 6.12
# and arm64 lanes: XVM_612_TIMEOUT (default 600 s), XVM_ARM64_TIMEOUT (default
# 1500 s), XVM_ARM64_TEST_TIMEOUT (per test binary, default 600 s); for the
# fuzzer XVM_FUZZ_DURATION (default 90 s), XVM_FUZZ_SEED (replay a seed),
# XVM_FUZZ_ARGS (more xvm-fuzz options, e.g. --only/--avoid), XVM_SKIP_FUZZ=1.
#
# XVM_ONLY_LANES="guest migrate 6.12 arm64 debug" (any subset): run only those guest
# lanes, after deps and a plain modules + userspace build (no static checks,
# host tests or DKMS), e.g. `XVM_ONLY_LANES=arm64 scripts/check.sh`.
#
# Adding a stage: write a stage_NAME function that calls `stage`, then
# `pass`/`fail`/`skip` (or `count P F S`) per test, and call it at the bottom.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$XVM_ROOT"
# A driver, not a sub-make: drop the parent make's jobserver and flags
# (command-line variables such as KDIR=... are in the environment anyway).
unset MAKEFLAGS MFLAGS MAKELEVEL

# Progress of long steps (xvm_progress in lib.sh) reaches the console on
# fd 3 even while the step's own output goes to its log.
exec 3>&1
export XVM_PROGRESS_FD=3

LOGS=$XVM_ROOT/build/logs/check
rm -rf "$LOGS"
mkdir -p "$LOGS"
export CI=${CI:-}

npass=0 nfail=0 nskip=0
t_stage=$(date +%s)
t_start=$t_stage
stage_name=

# stage NAME: start a stage (prints the previous stage's time).
stage() {
	stage_done
	stage_name=$1
	t_stage=$(date +%s)
	echo "== $1"
}
stage_done() {
	[[ -z $stage_name ]] || echo "   ($stage_name: $(($(date +%s) - t_stage))s)"
}
pass() {
	npass=$((npass + 1))
	echo "   PASS $1"
}
skip() {
	nskip=$((nskip + 1))
	echo "   SKIP $1"
}
# fail NAME [LOG]: count a failure and show the end of its log.
fail() {
	nfail=$((nfail + 1))
	echo "   FAIL $1"
	if [[ -n ${2:-} && -s $2 ]]; then
		tail -n "${XVM_CHECK_TAIL:-25}" "$2" | tr -d '\r' | sed 's/^/      | /'
		echo "      (full log: $2)"
	fi
}
count() {
	npass=$((npass + $1)) nfail=$((nfail + $2)) nskip=$((nskip + $3))
}
# run LOG CMD...: run quietly into LOG, return the status.
run() {
	local log=$1
	shift
	"$@" </dev/null >"$log" 2>&1
}

finish() {
	stage_done
	echo "== total time $(($(date +%s) - t_start))s; logs in $LOGS"
	echo "$npass passed, $nfail failed, $nskip skipped"
	((nfail == 0)) || exit 1
	exit 0
}

# ---- 1: deps ---------------------------------------------------------------
stage_deps() {
	stage "deps"
	if run "$LOGS/deps.log" "$XVM_ROOT/scripts/deps.sh"; then
		pass "dependencies installed"
	else
		fail "scripts/deps.sh" "$LOGS/deps.log"
		finish
	fi
	KVER=${KVER:-$(xvm_kver)}
	KDIR=${KDIR:-/lib/modules/$KVER/build}
	export KVER KDIR
	echo "   kernel $KVER, KDIR $KDIR"
}

# ---- 2: build and static checks --------------------------------------------
modules_ok=0
userspace_ok=0
stage_build() {
	stage "build + static checks"
	if [[ ! -f Kbuild ]]; then
		skip "modules: no Kbuild file"
		skip "sparse: no Kbuild file"
	else
		if run "$LOGS/modules.log" make --no-print-directory -j"$(nproc)" modules W=1 KCFLAGS=-Werror; then
			modules_ok=1
			pass "modules build (W=1, -Werror)"
		else
			fail "modules build (W=1, -Werror)" "$LOGS/modules.log"
		fi

		# C=2 checks every file again, with the same flags, so nothing recompiles.
		if ! command -v sparse >/dev/null; then
			fail "sparse: not installed"
		elif ! run "$LOGS/sparse.log" make --no-print-directory -j"$(nproc)" modules W=1 KCFLAGS=-Werror C=2; then
			fail "sparse (make C=2 failed)" "$LOGS/sparse.log"
		else
			# Only our files count; warnings located in kernel headers are noise.
			grep -E "^($XVM_ROOT/|\./)?(kmod|uapi)/[^:]*:[0-9]+(:[0-9]+)?: (warning|error):" \
				"$LOGS/sparse.log" >"$LOGS/sparse-ours.log" || true
			if [[ -s $LOGS/sparse-ours.log ]]; then
				fail "sparse: $(wc -l <"$LOGS/sparse-ours.log") warning(s) in our files" "$LOGS/sparse-ours.log"
			else
				pass "sparse (C=2) clean"
			fi
		fi
	fi

	local checkpatch=$XVM_LINUX_SRC/scripts/checkpatch.pl f n=0 bad=0 ignore
	mkdir -p "$LOGS/checkpatch"
	# No --ignore, except two justified cases:
	# - kmod/compat/: the architecture puts every kernel-version test there
	#   and only there, and such a test is exactly "#if LINUX_VERSION_CODE >=
	#   KERNEL_VERSION(...)", which checkpatch flags as LINUX_VERSION_CODE and
	#   (all caps on the left) CONSTANT_COMPARISON.
	# - uapi/: BIT() is kernel-internal, not available to userspace, so the
	#   BIT_MACRO suggestion cannot be followed there (KVM's uapi uses 1 << n).
	while IFS= read -r f; do
		n=$((n + 1))
		local log=$LOGS/checkpatch/${f//\//_}.log
		ignore=()
		case $f in
		kmod/compat/*) ignore=(--ignore "LINUX_VERSION_CODE,CONSTANT_COMPARISON") ;;
		uapi/*) ignore=(--ignore BIT_MACRO) ;;
		esac
		if perl "$checkpatch" --no-tree --strict --terse "${ignore[@]}" -f "$f" >"$log" 2>&1; then
			npass=$((npass + 1))
		else
			bad=$((bad + 1))
			fail "checkpatch $f" "$log"
		fi
	done < <(find kmod uapi -type f \( -name '*.[ch]' \) ! -name '*.mod.c' 2>/dev/null |
		grep -E '^(kmod/.*\.[ch]|uapi/.*\.h)$' | LC_ALL=C sort)
	echo "   checkpatch: $((n - bad))/$n files clean"

	if run "$LOGS/userspace.log" make --no-print-directory -j"$(nproc)" userspace tests; then
		userspace_ok=1
		pass "userspace build (-Werror)"
	else
		fail "userspace build (-Werror)" "$LOGS/userspace.log"
	fi

	local h
	for h in uapi/linux/*.h; do
		[[ -f $h ]] || continue
		if {
			echo "== C"
			echo "#include <linux/${h##*/}>" |
				gcc -std=gnu11 -Wall -Wextra -Werror -fsyntax-only -I uapi -x c - &&
				echo "== C++" &&
				echo "#include <linux/${h##*/}>" |
				g++ -std=gnu++17 -Wall -Wextra -Werror -fsyntax-only -I uapi -x c++ -
		} >"$LOGS/uapi.log" 2>&1; then
			pass "$h standalone (C, C++)"
		else
			fail "$h standalone (C, C++)" "$LOGS/uapi.log"
		fi
	done

	local t rc name
	for t in scripts/host-tests/*.sh; do
		[[ -f $t ]] || continue
		name=$(basename "$t" .sh)
		rc=0
		run "$LOGS/host-$name.log" bash "$t" || rc=$?
		case $rc in
		0) pass "host test $name" ;;
		77) skip "host test $name" ;;
		*) fail "host test $name (exit $rc)" "$LOGS/host-$name.log" ;;
		esac
	done
}

# ---- guest lanes (3 and 4) -------------------------------------------------
# guest_lane LABEL LOG SANDBOX-ARGS...: run-selftests in a guest, count its
# results, KUnit cases (if any) and one test for a clean kernel log.
guest_lane() {
	local label=$1 log=$2 counts p f s
	shift 2
	xvm_watch_selftests "$log" "$label" &
	local watcher=$!
	"$XVM_ROOT/scripts/sandbox.sh" --quiet --log "$log" "$@" -- run-selftests \
		>"$log.sandbox" 2>&1 || true
	kill "$watcher" 2>/dev/null || true
	wait "$watcher" 2>/dev/null || true
	xvm_progress_end
	local timeout=0 finished=0 clean=0 elapsed=0 key val
	if [[ -f $log.summary ]]; then
		while IFS='=' read -r key val; do
			case $key in
			timeout) timeout=$val ;;
			finished) finished=$val ;;
			clean) clean=$val ;;
			elapsed) elapsed=$val ;;
			esac
		done <"$log.summary"
	fi

	if counts=$(xvm_selftest_counts "$log.results") ||
		counts=$(xvm_selftest_counts "$log"); then
		read -r p f s <<<"$counts"
		count "$p" "$f" "$s"
		echo "   selftests: pass=$p fail=$f skip=$s (${elapsed}s)"
		if ((f)); then
			grep -aE '^(not ok|# +(FAIL|not ok)|# .*: (Test terminated|.*Expected))' "$log" |
				tr -d '\r' | head -n 40 | sed 's/^/      | /' || true
			echo "      (full log: $log)"
		fi
	else
		fail "$label selftests: no XVM-SELFTESTS summary" "$log.sandbox"
	fi
	# The fault-injection sweep's figures (debug kernel only; it skips
	# elsewhere without printing them).
	local sweep
	sweep=$(tr -d '\r' <"$log" | grep -aoE 'failnth: [0-9]+ paths, .*' | tail -n 1) || true
	[[ -z $sweep ]] || echo "   $sweep"

	read -r p f s <<<"$(xvm_kunit_counts "$log.kernel")"
	if ((p + f + s)); then
		count "$p" "$f" "$s"
		echo "   kunit: pass=$p fail=$f skip=$s"
		if ((f)); then
			tr -d '\r' <"$log.kernel" | grep -E '^(\[[ 0-9.]+\] )?    not ok ' |
				head -n 20 | sed 's/^/      | /' || true
		fi
	fi

	if [[ $timeout == 1 ]]; then
		fail "$label kernel log clean (guest hit the timeout)" "$log.sandbox"
	elif [[ $finished != 1 ]]; then
		fail "$label kernel log clean (guest did not reach the end of /init)" "$log.sandbox"
	elif [[ $clean != 1 ]]; then
		fail "$label kernel log clean" "$log.sandbox"
	else
		pass "$label kernel log clean"
	fi
}

# guest_extra [MODROOT [NAME]]: a directory with the Debian e1000e driver
# of MODROOT (default /lib/modules/$KVER), for the test that a device a
# normal driver owns cannot be claimed (selftests/iommu_test.c reads
# /extra/e1000e.ko).
guest_extra() {
	local root=${1:-/lib/modules/$KVER} dir=$LOGS/extra${2:+-$2} ko
	ko=$root/kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko
	rm -rf "$dir"
	mkdir -p "$dir"
	if [[ -f $ko ]]; then
		cp "$ko" "$dir/"
	elif [[ -f $ko.xz ]]; then
		xz -dc "$ko.xz" >"$dir/e1000e.ko"
	elif [[ -f $ko.zst ]]; then
		zstd -qdc "$ko.zst" >"$dir/e1000e.ko"
	fi
	echo "$dir"
}

# copy_tree DEST: the sources, without objects, for a build of its own (the
# main build's objects are not clobbered).
copy_tree() {
	mkdir -p "$1"
	rsync -a --delete --exclude=/build/ --exclude=/.git/ \
		--exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude=modules.order --exclude=Module.symvers \
		--exclude='*.d' --exclude=.tmp_versions/ \
		"$XVM_ROOT/" "$1/"
}

# lane_wanted NAME: under XVM_ONLY_LANES, whether NAME is listed.
lane_wanted() {
	[[ -z ${XVM_ONLY_LANES:-} || " $XVM_ONLY_LANES " == *" $1 "* ]]
}

# lane_ready NAME: the builds a guest lane needs succeeded (else one failure).
lane_ready() {
	if [[ -f Kbuild ]] && ((!modules_ok)); then
		fail "$1 lane not run: the module build failed"
	elif ((!userspace_ok)); then
		fail "$1 lane not run: the userspace build failed"
	else
		return 0
	fi
	return 1
}

# lane_kernel NAME LOG ARGS...: scripts/fetch-kernel.sh ARGS into the
# XVM_K_* variables; a kernel that cannot be fetched is a failure that
# names the package (CI must not go green without the lane).
lane_kernel() {
	local name=$1 log=$2 env why
	shift 2
	if env=$("$XVM_ROOT/scripts/fetch-kernel.sh" "$@" 2>"$log" </dev/null); then
		eval "$env"
		echo "   kernel $XVM_K_KVER ($XVM_K_IMAGE)"
		return 0
	fi
	why=$(grep -o 'FAILED: .*' "$log" | tail -n 1) || true
	fail "$name lane: kernel fetch ${why:-failed} (scripts/fetch-kernel.sh $*)" "$log"
	return 1
}

stage_guest() {
	lane_wanted guest || return 0
	stage "guest lane (Debian kernel $KVER)"
	if [[ -n ${XVM_SKIP_GUEST:-} ]]; then
		skip "guest lane (XVM_SKIP_GUEST set)"
	elif lane_ready guest; then
		guest_lane "guest" "$LOGS/guest.log" --kver "$KVER" \
			--extra "$(guest_extra)" --timeout "${XVM_TIMEOUT:-600}"
	fi
}

# Two guests of the Debian kernel on one QEMU socket network: a VM leaves
# xvm-vmm migrate in one, its script goes on in the other (one test; the
# script's own PASS/FAIL lines are shown). check.sh takes no guest lock,
# so neither does the script (--no-lock).
stage_migrate() {
	lane_wanted migrate || return 0
	stage "migration between two guests (Debian kernel $KVER)"
	if [[ -n ${XVM_SKIP_GUEST:-} ]]; then
		skip "migration (XVM_SKIP_GUEST set)"
		return 0
	fi
	lane_ready migrate || return 0
	local rc=0
	run "$LOGS/migrate.log" "$XVM_ROOT/scripts/migrate-guests.sh" --no-lock \
		--log-dir "$LOGS" || rc=$?
	grep -E '^(PASS|FAIL) ' "$LOGS/migrate.log" | sed 's/^/      /' || true
	if ((rc == 0)); then
		pass "migration between two guests (examples/migrate.conf)"
	else
		fail "migration between two guests (exit $rc)" "$LOGS/migrate.log"
	fi
}

# Debian 6.12 from bookworm-backports: the modules built against its
# headers, its own VFIO modules, the same suite.
stage_guest612() {
	lane_wanted 6.12 || return 0
	stage "guest lane (Debian 6.12, bookworm-backports)"
	lane_ready 6.12 || return 0
	lane_kernel 6.12 "$LOGS/fetch-6.12.log" --series 6.12 || return 0
	local src=$XVM_ROOT/build/k612-src
	copy_tree "$src"
	# The 6.12 headers enable BTF for modules, which needs a pahole that
	# matches them; not needed to load or test the modules.
	if run "$LOGS/612-modules.log" make -C "$XVM_K_KDIR" M="$src" -j"$(nproc)" \
		W=1 KCFLAGS=-Werror CONFIG_DEBUG_INFO_BTF_MODULES= modules; then
		pass "6.12: modules build against $XVM_K_KVER (W=1, -Werror)"
	else
		fail "6.12: modules build against $XVM_K_KVER (W=1, -Werror)" "$LOGS/612-modules.log"
		return 0
	fi
	guest_lane "6.12" "$LOGS/guest-6.12.log" --kernel "$XVM_K_IMAGE" \
		--vfio-root "$XVM_K_MODROOT" --modules "$src/kmod" \
		--extra "$(guest_extra "$XVM_K_MODROOT" 6.12)" --timeout "${XVM_612_TIMEOUT:-600}"
}

# arm64: cross-built modules and userspace, the arm64 Debian kernel of the
# same ABI, qemu-system-aarch64 virt with GICv3, ITS and an SMMUv3.
stage_arm64() {
	lane_wanted arm64 || return 0
	stage "arm64 lane (Debian ${KVER%-amd64}-arm64, virt GICv3 + SMMUv3, TCG)"
	lane_ready arm64 || return 0
	lane_kernel arm64 "$LOGS/fetch-arm64.log" --arch arm64 || return 0
	if run "$LOGS/arm64-build.log" "$XVM_ROOT/scripts/arm64.sh" --build-only; then
		pass "arm64: modules (W=1, -Werror) and userspace cross-build"
	else
		fail "arm64: modules (W=1, -Werror) and userspace cross-build" "$LOGS/arm64-build.log"
		return 0
	fi
	guest_lane "arm64" "$LOGS/arm64.log" --arch arm64 --kernel "$XVM_K_IMAGE" \
		--vfio-root "$XVM_K_MODROOT" --busybox "$XVM_K_BUSYBOX" \
		--modules "$XVM_ROOT/build/arm64/src/kmod" --build "$XVM_ROOT/build/arm64" \
		--extra "$(guest_extra "$XVM_K_MODROOT" arm64)" \
		--env "XVM_TEST_TIMEOUT=${XVM_ARM64_TEST_TIMEOUT:-600}" \
		--timeout "${XVM_ARM64_TIMEOUT:-1500}"
}

stage_debug() {
	[[ -f scripts/debug-kernel.sh ]] || return 0
	lane_wanted debug || return 0
	stage "debug lane (KASAN, lockdep, kmemleak, UBSAN, KUnit)"
	if [[ -n ${XVM_SKIP_DEBUG:-} ]]; then
		skip "debug lane (XVM_SKIP_DEBUG set)"
		return 0
	fi
	if ((!userspace_ok)); then
		fail "debug lane not run: the userspace build failed"
		return 0
	fi
	local dir kimg kdir
	if ! dir=$(bash scripts/debug-kernel.sh 2>"$LOGS/debug-kernel.log" </dev/null | tail -n 1) ||
		[[ -z $dir || ! -d $dir ]]; then
		fail "debug kernel build (scripts/debug-kernel.sh)" "$LOGS/debug-kernel.log"
		return 0
	fi
	kimg=
	for f in "$dir/bzImage" "$dir/build/arch/x86/boot/bzImage" "$dir/arch/x86/boot/bzImage"; do
		[[ -f $f ]] && { kimg=$f; break; }
	done
	kdir=$dir/build
	[[ -f $kdir/Makefile ]] || kdir=$dir
	if [[ -z $kimg || ! -f $kdir/Makefile ]]; then
		fail "debug kernel: no bzImage or build dir in $dir"
		return 0
	fi
	echo "   debug kernel: $kimg, KDIR $kdir"

	# Build a copy of the tree, so the main build's objects are not clobbered.
	local src=$XVM_ROOT/build/debug-src
	copy_tree "$src"
	if [[ -f $src/Kbuild ]]; then
		# GCOV_PROFILE=y on the command line reaches every kbuild
		# directory: the modules are built for coverage (the debug kernel
		# has CONFIG_GCOV_KERNEL), the kernel itself is not rebuilt.
		# XVM_KUNIT=y: the KUnit tests too (kmod/kunit/xvm-kunit.ko),
		# which run when the guest loads it (--kunit).
		if run "$LOGS/debug-modules.log" make -C "$kdir" M="$src" -j"$(nproc)" \
			GCOV_PROFILE=y XVM_KUNIT=y modules; then
			pass "debug: modules build against the debug kernel"
		else
			fail "debug: modules build against the debug kernel" "$LOGS/debug-modules.log"
			return 0
		fi
		if [[ -d $src/kmod/kunit && ! -f $src/kmod/kunit/xvm-kunit.ko ]]; then
			fail "debug: no kmod/kunit/xvm-kunit.ko (does the debug kernel have CONFIG_KUNIT?)" \
				"$LOGS/debug-modules.log"
		fi
	fi
	rm -rf "$LOGS/gcov" "$LOGS/gcov-fuzz" "$LOGS/gcov-all"
	guest_lane "debug" "$LOGS/debug.log" --kernel "$kimg" --modules "$src/kmod" --kunit \
		--no-vfio-modules --mem 2G --timeout "${XVM_DEBUG_TIMEOUT:-900}" \
		--gcov "$LOGS/gcov"
	debug_fuzz "$kimg" "$src/kmod"
	debug_coverage "$src"
}

# Line coverage of kmod/ by everything the lane ran, both boots (selftests
# with the fail-nth sweep, and the fuzzer): informational, the table says
# which files fall short; annotated sources in $LOGS/coverage.
debug_coverage() {
	local src=$1 gdir=$LOGS/gcov
	if [[ -d $LOGS/gcov-fuzz ]] && command -v gcov-tool >/dev/null; then
		gcov-tool merge -o "$LOGS/gcov-all" "$LOGS/gcov" "$LOGS/gcov-fuzz" \
			>"$LOGS/gcov-merge.log" 2>&1 && gdir=$LOGS/gcov-all
	fi
	bash scripts/coverage.sh "$src" "$gdir" "$LOGS/coverage" || true
}

# The fuzzers in a debug-kernel boot of their own (so a splat is theirs),
# with the sandbox's e1000e and edu: xvm-state-fuzz (hostile state files,
# 20% of the time), then xvm-fuzz - the command tools/fuzz/run-guest.sh
# --guest-cmd gives. One test, passed when both exit 0 (no impossible
# result, no VMM crash or hang), print their summary lines and the kernel
# log is clean. The seed is printed first; `make fuzz SEED=N DURATION=S`
# replays it; a failing state file is written to build/logs/.
debug_fuzz() {
	local kimg=$1 mods=$2 log=$LOGS/debug-fuzz.log seed dur line sline cmd rc=0
	if [[ -n ${XVM_SKIP_FUZZ:-} ]]; then
		skip "debug: xvm-fuzz (XVM_SKIP_FUZZ set)"
		return 0
	fi
	seed=${XVM_FUZZ_SEED:-$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')}
	dur=${XVM_FUZZ_DURATION:-90}
	echo "   xvm-fuzz: seed=$seed duration=${dur}s (replay: make fuzz SEED=$seed DURATION=$dur)"
	cmd=$(bash tools/fuzz/run-guest.sh --guest-cmd --seed "$seed" --duration "$dur" \
		--fuzz-args "${XVM_FUZZ_ARGS:-}")
	"$XVM_ROOT/scripts/sandbox.sh" --quiet --log "$log" --kernel "$kimg" \
		--modules "$mods" --no-vfio-modules --mem 2G --timeout $((dur + 400)) \
		--gcov "$LOGS/gcov-fuzz" -- "$cmd" >"$log.sandbox" 2>&1 || rc=$?
	line=$(cat "$log.results" "$log" 2>/dev/null | tr -d '\r' |
		grep -aE '^xvm-fuzz: seed=[0-9]+ duration=[0-9]+s threads=[0-9]+ iterations=[0-9]+ fds=' |
		tail -n 1) || true
	sline=$(tr -d '\r' <"$log" 2>/dev/null |
		grep -aE '^xvm-state-fuzz: seed=[0-9]+ duration=[0-9]+s bases=[0-9]+ variants=' |
		tail -n 1) || true
	[[ -z $sline ]] || echo "   $sline"
	[[ -z $line ]] || echo "   $line"
	bash tools/fuzz/run-guest.sh --extract "$log" | sed 's/^/   /'
	if ((rc == 0)) && [[ -n $line && -n $sline ]]; then
		pass "debug: xvm-fuzz (seed $seed)"
	else
		fail "debug: xvm-fuzz (seed $seed, sandbox result $rc)" "$log.sandbox"
	fi
}

stage_dkms() {
	[[ -f scripts/dkms-roundtrip.sh ]] || return 0
	stage "dkms round trip"
	local rc=0
	run "$LOGS/dkms.log" bash scripts/dkms-roundtrip.sh || rc=$?
	case $rc in
	0) pass "dkms round trip" ;;
	77) skip "dkms round trip (exit 77: $(tail -n 1 "$LOGS/dkms.log"))" ;;
	*) fail "dkms round trip (exit $rc)" "$LOGS/dkms.log" ;;
	esac
}

# ---- installed tree: make deb, dpkg -x into a throwaway root, boot it --------
# scripts/installed-boot.sh prints one PASS/FAIL/SKIP line per check and
# "installed-boot: N passed, N failed, N skipped" (selftests included).
stage_installed() {
	stage "installed tree (make deb, dpkg -x, fresh boot)"
	if ! grep -qE '^deb[[:space:]]*:' Makefile; then
		skip "installed boot: the Makefile has no deb target yet"
		return 0
	fi
	if ! run "$LOGS/deb.log" make --no-print-directory deb; then
		fail "make deb" "$LOGS/deb.log"
		return 0
	fi
	pass "make deb"
	local r=$XVM_ROOT/build/installed-root deb line p f s
	rm -rf "$r"
	mkdir -p "$r"
	for deb in build/deb/*.deb; do
		[[ -f $deb ]] || continue
		dpkg -x "$deb" "$r" || fail "dpkg -x $deb"
	done
	run "$LOGS/installed.log" bash scripts/installed-boot.sh --root "$r" \
		--kver "$KVER" --log "$LOGS/installed-boot.log" || true
	grep -E '^(PASS|FAIL|SKIP|selftests) ' "$LOGS/installed.log" | sed 's/^/   /' || true
	line=$(grep -E '^installed-boot: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' \
		"$LOGS/installed.log" | tail -n 1) || true
	if [[ -z $line ]]; then
		fail "installed boot: no summary line" "$LOGS/installed.log"
		return 0
	fi
	read -r p f s <<<"$(sed -E 's/[^0-9]+/ /g' <<<"$line")"
	count "$p" "$f" "$s"
	((f == 0)) || echo "      (full log: $LOGS/installed.log, $LOGS/installed-boot.log)"
}

# XVM_ONLY_LANES: the builds the lanes need, without the static checks.
stage_lane_build() {
	stage "build (XVM_ONLY_LANES=$XVM_ONLY_LANES)"
	if [[ ! -f Kbuild ]]; then
		:
	elif run "$LOGS/modules.log" make --no-print-directory -j"$(nproc)" modules; then
		modules_ok=1
	else
		fail "modules build" "$LOGS/modules.log"
	fi
	if run "$LOGS/userspace.log" make --no-print-directory -j"$(nproc)" userspace tests; then
		userspace_ok=1
	else
		fail "userspace build" "$LOGS/userspace.log"
	fi
}

stage_deps
if [[ -n ${XVM_ONLY_LANES:-} ]]; then
	stage_lane_build
else
	stage_build
fi
stage_guest
stage_migrate
stage_guest612
stage_arm64
stage_debug
if [[ -z ${XVM_ONLY_LANES:-} ]]; then
	stage_dkms
	stage_installed
fi
finish
