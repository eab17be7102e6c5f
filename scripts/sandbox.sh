#!/bin/bash
# Boot a throwaway guest (QEMU, TCG) with the xvm modules and binaries in an
# initramfs, run one command in it and return its exit status. x86: q35 with
# an Intel IOMMU; arm64: virt with GICv3 (and ITS) and an SMMUv3. Both have
# the e1000e at 0000:00:03.0 and the edu at 0000:00:04.0, exported to the
# command as XVM_TEST_E1000E and XVM_TEST_EDU.
#
#   scripts/sandbox.sh [options] -- CMD...
#
#   --arch amd64|arm64   guest architecture (default amd64). arm64 defaults to
#                        the kernel scripts/fetch-kernel.sh --arch arm64 fetches
#                        (image, modules, busybox), build/arm64/src/kmod and
#                        build/arm64 (scripts/arm64.sh --build-only builds them)
#   --kernel IMG         kernel image (default /boot/vmlinuz-$(scripts/kver.sh))
#   --kver KVER          kernel release whose VFIO modules to use (default: kver.sh)
#   --vfio-root DIR      take the VFIO modules from this lib/modules/KVER tree
#                        instead (a fetched kernel's)
#   --busybox FILE       static busybox for the initramfs (default: the host's)
#   --modules DIR        xvm modules: every *.ko under DIR (default kmod/; 'none')
#   --kunit              also load DIR's xvm-kunit.ko (KUnit tests; debug kernel)
#   --no-vfio-modules    no VFIO modules (kernel has VFIO built in)
#   --smp N              vCPUs (default 2)
#   --env NAME=VALUE     exported to CMD in the guest (repeatable), e.g.
#                        XVM_TEST_TIMEOUT=S for run-selftests
#   --build DIR          userspace build dir (default build/)
#   --extra DIR          copied to /extra in the guest
#   --timeout S          hard limit for the whole run (default $XVM_TIMEOUT or 600)
#   --mem SIZE           guest memory (default $XVM_MEM or 1G)
#   --append ARGS        extra kernel command line
#   --peer-net LPORT:RPORT:ADDR/PREFIX
#                        a second NIC, virtio-net at 00:05.0, on a QEMU socket
#                        network with another guest: UDP from 127.0.0.1:LPORT
#                        to 127.0.0.1:RPORT (the other guest swaps them), no
#                        start order; /init loads virtio_net (and what it
#                        needs) and gives the NIC ADDR/PREFIX
#                        (scripts/migrate-guests.sh). Needs the kernel's modules
#   --log FILE           console log path (default build/logs/sandbox-<time>.log);
#                        FILE.results gets the results port (markers, summary, dmesg)
#   --quiet              do not stream the console, only record it
#   --no-unload          leave the xvm modules loaded at the end
#   --interactive        interactive shell on the console (no timeout, no checks)
#   --gcov DIR           unpack the modules' gcov data (.gcda, at the paths of
#                        the objects) into DIR (modules built with GCOV_PROFILE=y
#                        for a CONFIG_GCOV_KERNEL kernel)
#
# Besides FILE and FILE.results it writes FILE.kernel (the kernel log that was
# scanned) and FILE.summary (status=, result=, timeout=, finished=, clean=,
# elapsed=; bash-sourceable).
#
# Exit status: CMD's status; if CMD succeeded but the run is not clean, 1:
# a kernel oops/BUG/WARNING/KASAN/UBSAN/lockdep/kmemleak report, with --kunit
# a failed (or no) KUnit case, a module
# that failed to load or unload (the offending lines are printed). 124 when
# the hard timeout killed the guest, 125 when the guest died before CMD
# finished (panic, triple fault); both print the tail of the log.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kernel='' kver='' moddir='' no_vfio=0 build='' extra='' arch=amd64 vfio_root=''
timeout_s=${XVM_TIMEOUT:-600} mem=${XVM_MEM:-1G} append='' log='' quiet=0
no_unload=0 interactive=0 gcov_dir='' kunit=0 busybox='' smp=2 envs=() peer_net=''
while (($#)); do
	case $1 in
	--arch) arch=$2; shift 2 ;;
	--vfio-root) vfio_root=$2; shift 2 ;;
	--busybox) busybox=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--env) envs+=(--env "$2"); shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--kver) kver=$2; shift 2 ;;
	--modules) moddir=$2; shift 2 ;;
	--kunit) kunit=1; shift ;;
	--no-vfio-modules) no_vfio=1; shift ;;
	--build) build=$2; shift 2 ;;
	--extra) extra=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--peer-net) peer_net=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--quiet) quiet=1; shift ;;
	--no-unload) no_unload=1; shift ;;
	--interactive) interactive=1; shift ;;
	--gcov) gcov_dir=$2; shift 2 ;;
	--) shift; break ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) xvm_die "sandbox.sh: unknown option $1 (use -- before the command)" ;;
	esac
done
((interactive)) || (($#)) || xvm_die "sandbox.sh: no command (sandbox.sh [options] -- CMD...)"

case $arch in
amd64)
	[[ -n $moddir ]] || moddir=$XVM_ROOT/kmod
	[[ -n $build ]] || build=$XVM_ROOT/build
	if [[ -z $kver && -z $vfio_root ]] && { [[ -z $kernel ]] || ((!no_vfio)); }; then
		kver=$(xvm_kver)
	fi
	[[ -n $kernel ]] || kernel=/boot/vmlinuz-$kver
	qemu_bin="qemu-system-x86_64"
	;;
arm64)
	[[ -n $moddir ]] || moddir=$XVM_ROOT/build/arm64/src/kmod
	[[ -n $build ]] || build=$XVM_ROOT/build/arm64
	if [[ -z $kernel || (-z $vfio_root && $no_vfio == 0) || -z $busybox ]]; then
		kenv=$("$XVM_ROOT/scripts/fetch-kernel.sh" --arch arm64) ||
			xvm_die "sandbox.sh: no arm64 kernel (scripts/fetch-kernel.sh --arch arm64)"
		eval "$kenv"
		[[ -n $kernel ]] || kernel=$XVM_K_IMAGE
		[[ -n $vfio_root ]] || vfio_root=$XVM_K_MODROOT
		[[ -n $busybox ]] || busybox=$XVM_K_BUSYBOX
	fi
	qemu_bin="qemu-system-aarch64"
	;;
*) xvm_die "sandbox.sh: --arch amd64 or arm64, not $arch" ;;
esac
[[ -r $kernel ]] || xvm_die "kernel image $kernel not readable"
command -v "$qemu_bin" >/dev/null || xvm_die "$qemu_bin missing (scripts/deps.sh)"

if [[ -z $log ]]; then
	log=$XVM_ROOT/build/logs/sandbox-$(date +%Y%m%d-%H%M%S)-$$.log
fi
mkdir -p "$(dirname "$log")"
results=$log.results
: >"$log"
: >"$results"

work=$(mktemp -d "${TMPDIR:-/tmp}/xvm-sandbox.XXXXXX")
trap 'rm -rf "$work"' EXIT
initrd=$work/initramfs.cpio
e1000e_bdf=0000:00:03.0 edu_bdf=0000:00:04.0
args=(-o "$initrd" --modules "$moddir" --build "$build"
	--env "XVM_TEST_E1000E=$e1000e_bdf" --env "XVM_TEST_EDU=$edu_bdf" "${envs[@]}")
if ((no_vfio)); then
	args+=(--no-vfio-modules)
elif [[ -n $vfio_root ]]; then
	args+=(--vfio-root "$vfio_root")
else
	args+=(--vfio-kver "$kver")
fi
# arm64: the results port is a virtconsole on virtio-mmio (modules there).
kmods=
[[ $arch != arm64 ]] || kmods="virtio_mmio virtio_console vfio_iommu_type1 vfio-pci"
peer=()
if [[ -n $peer_net ]]; then
	IFS=: read -r peer_lport peer_rport peer_ip <<<"$peer_net"
	[[ $peer_lport =~ ^[0-9]+$ && $peer_rport =~ ^[0-9]+$ &&
		$peer_ip =~ ^[0-9]+\.[0-9]+\.[0-9]+\.([0-9]+)/[0-9]+$ ]] ||
		xvm_die "sandbox.sh: --peer-net LPORT:RPORT:ADDR/PREFIX, not $peer_net"
	((!no_vfio)) || xvm_die "sandbox.sh: --peer-net needs the kernel's modules (virtio_net)"
	kmods="${kmods:-vfio_iommu_type1 vfio-pci} virtio_pci virtio_net"
	args+=(--env "XVM_PEER_IP=$peer_ip")
	# shellcheck disable=SC2054 # commas are QEMU's
	peer=(-netdev "socket,id=xvmpeer,udp=127.0.0.1:$peer_rport,localaddr=127.0.0.1:$peer_lport"
		-device "virtio-net-pci,netdev=xvmpeer,addr=05.0,mac=52:54:00:78:76:$(printf %02x "${BASH_REMATCH[1]}")")
fi
[[ -z $kmods ]] || args+=(--kernel-modules "$kmods")
if [[ -n $busybox ]]; then args+=(--busybox "$busybox"); fi
if [[ -n $extra ]]; then args+=(--extra "$extra"); fi
if ((no_unload)); then args+=(--no-unload); fi
if ((kunit)); then args+=(--kunit); fi
if ((interactive)); then args+=(--interactive); fi
if [[ -n $gcov_dir ]]; then args+=(--gcov); fi
"$XVM_ROOT/scripts/initramfs.sh" "${args[@]}" -- "$@"

# oops=panic is deliberately not set: an oops kills the offending process, the
# run goes on so later tests still report, and the log scan fails the run.
# panic=-1 + -no-reboot turn a panic into an immediate QEMU exit, not a hang.
# e1000e wants a peer: an isolated user-mode netdev if QEMU has slirp (no
# traffic leaves it), else none (QEMU then warns "has no peer").
# shellcheck disable=SC2054 # commas are QEMU's, inside one argument
nic=(-device e1000e,addr=03.0)
if "$qemu_bin" -M none -netdev help 2>/dev/null | grep -qx user; then
	# shellcheck disable=SC2054
	nic=(-netdev user,id=xvmnet,restrict=on -device e1000e,addr=03.0,netdev=xvmnet)
fi
common="panic=-1 log_buf_len=8M printk.devkmsg=on"
# The results port: the second UART on x86, a virtconsole on arm64.
# shellcheck disable=SC2054
case $arch in
amd64)
	cmdline="console=ttyS0,115200 intel_iommu=on tsc=reliable $common $append"
	machine=(-accel tcg -M q35,kernel-irqchip=split -device intel-iommu,intremap=on)
	results_port=(-serial "file:$results")
	;;
arm64)
	# MTTCG: one host thread per vCPU. cortex-a57: -cpu max emulates
	# pointer authentication, which costs TCG a lot.
	cmdline="console=ttyAMA0 $common $append"
	machine=(-accel tcg,thread=multi -M virt,gic-version=3,iommu=smmuv3 -cpu cortex-a57)
	results_port=(-device virtio-serial-device -chardev "file,id=xvmres,path=$results"
		-device virtconsole,chardev=xvmres)
	;;
esac
# shellcheck disable=SC2054
qemu=("$qemu_bin" "${machine[@]}" -m "$mem" -smp "$smp"
	-nodefaults -no-reboot -display none
	"${nic[@]}"
	-device edu,addr=04.0
	"${peer[@]}"
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline")

if ((interactive)); then
	echo "sandbox: interactive; Ctrl-A X quits QEMU. Log: $log" >&2
	"${qemu[@]}" -chardev stdio,id=con,mux=on,signal=off -serial chardev:con \
		-mon chardev=con,mode=readline "${results_port[@]}" | tee "$log"
	exit "${PIPESTATUS[0]}"
fi

start=$(date +%s)
set +e
if ((quiet)); then
	timeout -k 10 "$timeout_s" "${qemu[@]}" -serial stdio "${results_port[@]}" \
		</dev/null >"$log" 2>&1
	qrc=$?
else
	timeout -k 10 "$timeout_s" "${qemu[@]}" -serial stdio "${results_port[@]}" \
		</dev/null 2>&1 | tee "$log"
	qrc=${PIPESTATUS[0]}
fi
set -e
elapsed=$(($(date +%s) - start))

tail_log() {
	echo "---- last 40 lines of $log ----"
	xvm_strip_cr "$log" | tail -n 40
	echo "----"
}

# Markers: the results port first (clean), the console as a fallback.
status=$(xvm_marker "$results" XVM-EXIT-STATUS)
[[ -n $status ]] || status=$(xvm_marker "$log" XVM-EXIT-STATUS)
done_marker=0
grep -q XVM-DONE "$results" "$log" 2>/dev/null && done_marker=1

# The kernel log to scan: the clean dmesg copy when the guest got that far
# (userspace output cannot cause false hits there), else the console.
klog=$work/kernel.log
xvm_section "$results" XVM-DMESG-BEGIN XVM-DMESG-END >"$klog"
if [[ ! -s $klog ]] || ((!done_marker)); then
	xvm_strip_cr "$log" >"$klog"
else
	# Markers and kmemleak reports guest-init printed outside dmesg.
	xvm_strip_cr "$results" | grep -E 'XVM-MODULE-|unreferenced object' >>"$klog" || true
fi

rc=0
if ((qrc == 124 || qrc == 137)); then
	echo "sandbox: TIMEOUT: guest killed after ${timeout_s}s"
	tail_log
	rc=124
elif [[ -z $status ]]; then
	echo "sandbox: FAILED: the guest stopped before the command finished (qemu exit $qrc)"
	tail_log
	rc=125
else
	rc=$status
fi

bad=
if ! bad=$(xvm_scan_log "$klog"); then
	echo "sandbox: FAILED: kernel log is not clean:"
	printf '%s\n' "$bad" | sed 's/^/  | /'
	((rc != 0)) || rc=1
fi
# KUnit reports in the kernel log, not through the command's status.
if ((kunit)); then
	read -r kpass kfail _ <<<"$(xvm_kunit_counts "$klog")"
	if ((kfail > 0 || kpass == 0)); then
		echo "sandbox: FAILED: KUnit: $kpass passed, $kfail failed"
		((rc != 0)) || rc=1
	fi
fi
if [[ -n $status ]] && ((!done_marker && rc == 0)); then
	echo "sandbox: FAILED: guest did not reach the end of /init (hang or crash during module unload or kmemleak scan)"
	tail_log
	rc=1
fi

if [[ -n $gcov_dir ]]; then
	mkdir -p "$gcov_dir"
	xvm_section "$results" XVM-GCOV-BEGIN XVM-GCOV-END | base64 -d |
		tar -C "$gcov_dir" -xzf - 2>/dev/null ||
		echo "sandbox: no gcov data came back"
fi

# For scripts/check.sh: the kernel log that was scanned and a summary.
cp "$klog" "$log.kernel"
{
	echo "status=${status:-}"
	echo "result=$rc"
	echo "timeout=$((qrc == 124 || qrc == 137 ? 1 : 0))"
	echo "finished=$done_marker"
	echo "clean=$([[ -z $bad ]] && echo 1 || echo 0)"
	echo "elapsed=$elapsed"
} >"$log.summary"

echo "sandbox: command exit status ${status:-none}, result $rc, ${elapsed}s; log: $log"
exit "$rc"
