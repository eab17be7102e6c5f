#!/bin/bash
# Cross-build xvm for arm64 and (unless --build-only) run a command in the
# arm64 sandbox guest: scripts/sandbox.sh --arch arm64, i.e.
# qemu-system-aarch64 -M virt,gic-version=3,iommu=smmuv3 (TCG) with the
# e1000e and the edu, the same /init and run-selftests as the x86 guest.
#
#   scripts/arm64.sh [--build-only] [sandbox.sh options] [-- CMD...]
#
# 1. Installs (idempotently, with apt) gcc-aarch64-linux-gnu,
#    libc6-dev-arm64-cross, qemu-system-arm and libjson-c-dev:arm64 (with
#    the arm64 architecture added to dpkg), and fetches the arm64
#    Debian kernel of the host kernel's ABI (scripts/fetch-kernel.sh
#    --arch arm64: image, modules, headers, busybox; cached).
# 2. Builds every module from a copy of the tree in build/arm64/src
#    (ARCH=arm64, CROSS_COMPILE=aarch64-linux-gnu-, W=1 -Werror), never
#    touching the x86 objects in kmod/, and the userspace (selftests,
#    bench, xvm-vmm, xvm-fuzz) as static aarch64 binaries into build/arm64.
# 3. Runs sandbox.sh --arch arm64 with those and the given options (CMD
#    defaults to run-selftests).
#
# Exit: sandbox.sh's status; 1 if a dependency cannot be had or a build
# fails (never a skip: the arm64 lane of make check must not vanish).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build_only=0
if [[ ${1:-} == --build-only ]]; then
	build_only=1
	shift
fi
[[ ${1:-} != -h && ${1:-} != --help ]] ||
	{ sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; }

out=$XVM_ROOT/build/arm64
src=$out/src
cross=aarch64-linux-gnu-

# --- 1. dependencies ---------------------------------------------------------
as_root() {
	if ((EUID == 0)); then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else return 1
	fi
}
host_pkgs=()
command -v ${cross}gcc >/dev/null || host_pkgs+=(gcc-aarch64-linux-gnu)
[[ -f /usr/aarch64-linux-gnu/lib/libc.a ]] || host_pkgs+=(libc6-dev-arm64-cross)
command -v qemu-system-aarch64 >/dev/null || host_pkgs+=(qemu-system-arm)
if ((${#host_pkgs[@]})); then
	xvm_info "arm64.sh: installing ${host_pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get install -y -qq --no-install-recommends "${host_pkgs[@]}" \
		>/dev/null || xvm_die "arm64.sh: cannot install ${host_pkgs[*]}"
fi
# xvm-vmm links json-c statically: the arm64 libjson-c.a (Debian multiarch).
if [[ ! -f /usr/lib/aarch64-linux-gnu/libjson-c.a ]]; then
	xvm_info "arm64.sh: installing libjson-c-dev:arm64 (dpkg --add-architecture arm64)"
	export DEBIAN_FRONTEND=noninteractive
	{ dpkg --print-foreign-architectures | grep -qx arm64 ||
		as_root dpkg --add-architecture arm64; } &&
		as_root apt-get update -qq >/dev/null &&
		as_root apt-get install -y -qq --no-install-recommends libjson-c-dev:arm64 \
			>/dev/null || xvm_die "arm64.sh: cannot install libjson-c-dev:arm64"
fi
kenv=$("$XVM_ROOT/scripts/fetch-kernel.sh" --arch arm64) ||
	xvm_die "arm64.sh: cannot fetch the arm64 kernel (see above)"
eval "$kenv"

# --- 2. build ------------------------------------------------------------------
mkdir -p "$src"
rsync -a --delete --exclude=/build/ --exclude=/.git/ \
	--exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' --exclude='*.mod' \
	--exclude='*.mod.c' --exclude=modules.order --exclude=Module.symvers \
	--exclude='*.d' --exclude=.tmp_versions/ "$XVM_ROOT/" "$src/"
xvm_info "arm64.sh: building the modules for $XVM_K_KVER (W=1, -Werror)"
if ! make -C "$XVM_K_KDIR" M="$src" ARCH=arm64 CROSS_COMPILE=$cross \
	-j"$(nproc)" W=1 KCFLAGS=-Werror modules >"$out/kbuild.log" 2>&1; then
	grep -E 'error|warning' "$out/kbuild.log" | head -n 30 >&2 || tail -n 30 "$out/kbuild.log" >&2
	xvm_die "arm64.sh: module build failed (log: $out/kbuild.log)"
fi
xvm_info "arm64.sh: building userspace into $out"
if ! make --no-print-directory -C "$XVM_ROOT" -j"$(nproc)" userspace tests \
	CC=${cross}gcc AR=${cross}ar BUILD="$out" >"$out/userspace.log" 2>&1; then
	tail -n 30 "$out/userspace.log" >&2
	xvm_die "arm64.sh: userspace build failed (log: $out/userspace.log)"
fi
((!build_only)) || exit 0

# --- 3. boot and run -------------------------------------------------------
args=() cmd=()
while (($#)); do
	if [[ $1 == -- ]]; then
		shift
		cmd=("$@")
		break
	fi
	args+=("$1")
	shift
done
((${#cmd[@]})) || cmd=(run-selftests)
exec "$XVM_ROOT/scripts/sandbox.sh" --arch arm64 --kernel "$XVM_K_IMAGE" \
	--vfio-root "$XVM_K_MODROOT" --busybox "$XVM_K_BUSYBOX" \
	--modules "$src/kmod" --build "$out" "${args[@]}" -- "${cmd[@]}"
