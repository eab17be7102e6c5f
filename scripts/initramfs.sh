#!/bin/bash
# Build the xvm test initramfs (an uncompressed newc cpio, which every kernel
# can unpack without a decompressor).
#
#   scripts/initramfs.sh -o OUT.cpio [options] [-- CMD...]
#
#   -o FILE              output file (required)
#   --modules DIR        xvm modules: every *.ko under DIR (default: kmod/),
#                        'none' for no xvm modules -> /lib/modules/xvm/
#   --kunit              include xvm-kunit.ko too (the KUnit tests, which
#                        run when it loads); left out otherwise, even if built
#   --vfio-kver KVER     take the kernel's modules (VFIO...) from /lib/modules/KVER
#                        (default: scripts/kver.sh)    -> /lib/modules/kernel/
#   --vfio-root DIR      the same from a module root DIR (a lib/modules/KVER
#                        tree, e.g. of a kernel scripts/fetch-kernel.sh fetched)
#   --kernel-modules M   modules to take from that tree, with what they depend
#                        on (modinfo), loaded by /init in that order (default
#                        "vfio_iommu_type1 vfio-pci"; a module not in the tree
#                        is taken to be built in)
#   --no-vfio-modules    no modules from the kernel's tree (VFIO is built in)
#   --busybox FILE       static busybox (default: the host's); for a foreign arch
#   --env NAME=VALUE     exported by /init to the command (repeatable)
#   --build DIR          userspace build dir (default: build/): bin/, selftests/,
#                        bench/ -> /opt/xvm/{bin,selftests,bench}
#   --extra DIR          copied to /extra
#   --interactive        /init runs an interactive shell instead of /cmd
#   --no-unload          /init leaves the xvm modules loaded at the end
#   --gcov               /init sends the modules' gcov data (.gcda) home
#   -- CMD...            the command /init runs (default: true). One argument
#                        is a shell script; several are quoted as argv.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

out='' moddir=$XVM_ROOT/kmod vfio_kver='' vfio_root='' no_vfio=0 build=$XVM_ROOT/build extra=''
interactive=0 no_unload=0 gcov=0 kunit=0 busybox='' kmods='vfio_iommu_type1 vfio-pci'
envs=()
while (($#)); do
	case $1 in
	-o) out=$2; shift 2 ;;
	--modules) moddir=$2; shift 2 ;;
	--kunit) kunit=1; shift ;;
	--vfio-kver) vfio_kver=$2; shift 2 ;;
	--vfio-root) vfio_root=$2; shift 2 ;;
	--kernel-modules) kmods=$2; shift 2 ;;
	--busybox) busybox=$2; shift 2 ;;
	--env) envs+=("$2"); shift 2 ;;
	--no-vfio-modules) no_vfio=1; shift ;;
	--build) build=$2; shift 2 ;;
	--extra) extra=$2; shift 2 ;;
	--interactive) interactive=1; shift ;;
	--no-unload) no_unload=1; shift ;;
	--gcov) gcov=1; shift ;;
	--) shift; break ;;
	*) xvm_die "initramfs.sh: unknown option $1" ;;
	esac
done
[[ -n $out ]] || xvm_die "initramfs.sh: -o FILE is required"

if [[ -z $busybox ]]; then
	busybox=$(command -v busybox || true)
	[[ -n $busybox ]] || xvm_die "busybox not found (package busybox-static)"
	if ldd "$busybox" >/dev/null 2>&1; then
		xvm_die "$busybox is not static (install busybox-static)"
	fi
fi
[[ -x $busybox ]] || xvm_die "busybox $busybox not found"

stage=$(mktemp -d "${TMPDIR:-/tmp}/xvm-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,root,extra} \
	"$stage"/lib/modules/{xvm,kernel} "$stage"/opt/xvm/{bin,selftests,bench}

cp "$busybox" "$stage/bin/busybox"
# The applet list of the host's busybox (a foreign one cannot run here).
bb_host=$(command -v busybox || echo "$busybox")
for applet in $("$bb_host" --list); do
	[[ $applet == busybox ]] || ln -s busybox "$stage/bin/$applet"
done
install -m 0755 "$XVM_ROOT/scripts/guest-init" "$stage/init"
install -m 0755 "$XVM_ROOT/scripts/run-selftests" "$stage/opt/xvm/bin/run-selftests"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"
printf 'export PATH=/opt/xvm/bin:/bin:/sbin:/usr/bin:/usr/sbin\nexport PS1="xvm# "\n' >"$stage/etc/profile"

# xvm modules (debug info stripped from the copies: smaller, faster to load).
if [[ $moddir != none ]]; then
	[[ -d $moddir ]] || xvm_die "module dir $moddir does not exist"
	while IFS= read -r -d '' ko; do
		# A test module: only on request (a stale one must not load in
		# the Debian lane), and then the tests run when /init loads it.
		[[ $(basename "$ko") != xvm-kunit.ko ]] || ((kunit)) || continue
		dst=$stage/lib/modules/xvm/$(basename "$ko")
		cp "$ko" "$dst"
		strip --strip-debug "$dst" 2>/dev/null || cp "$ko" "$dst"
	done < <(find "$moddir" -name '*.ko' -type f -print0)
fi

# Modules of the kernel's own tree (VFIO...), decompressed, with their
# dependencies (modinfo's depends=, which works for any architecture) before
# them: /lib/modules/kernel/order lists the load order.
declare -A ko_path=() ko_seen=()
kmod_order=()
add_kmod() {
	local n=${1//-/_} src dst d
	[[ -z ${ko_seen[$n]:-} ]] || return 0
	ko_seen[$n]=1
	src=${ko_path[$n]:-}
	[[ -n $src ]] || return 0 # built in
	dst=$stage/lib/modules/kernel/$n.ko
	case $src in
	*.xz) xz -dc "$src" >"$dst" ;;
	*.zst) zstd -qdc "$src" >"$dst" ;;
	*.gz) gzip -dc "$src" >"$dst" ;;
	*) cp "$src" "$dst" ;;
	esac
	for d in $(modinfo -F depends "$dst" | tr , ' '); do
		add_kmod "$d"
	done
	kmod_order+=("$n")
}
if ((!no_vfio)); then
	if [[ -z $vfio_root ]]; then
		[[ -n $vfio_kver ]] || vfio_kver=$(xvm_kver)
		vfio_root=/lib/modules/$vfio_kver
	fi
	[[ -d $vfio_root/kernel ]] || xvm_die "module root $vfio_root has no kernel/ tree"
	while IFS= read -r -d '' f; do
		n=${f##*/}
		n=${n%%.ko*}
		ko_path[${n//-/_}]=$f
	done < <(find "$vfio_root/kernel" -name '*.ko*' -print0)
	for m in $kmods; do
		add_kmod "$m"
	done
fi
printf '%s\n' "${kmod_order[@]}" >"$stage/lib/modules/kernel/order"

# Userspace: executables only (no object files or dot files).
copy_exes() {
	local from=$1 to=$2 f
	[[ -d $from ]] || return 0
	for f in "$from"/*; do
		[[ -f $f && -x $f ]] || continue
		cp "$f" "$to/"
	done
}
copy_exes "$build/bin" "$stage/opt/xvm/bin"
copy_exes "$build/selftests" "$stage/opt/xvm/selftests"
copy_exes "$build/bench" "$stage/opt/xvm/bench"

# The VMM's example configs (xvm-vmm run /opt/xvm/examples/demo.conf).
if [[ -d $XVM_ROOT/examples ]]; then
	mkdir -p "$stage/opt/xvm/examples"
	cp "$XVM_ROOT"/examples/*.conf "$stage/opt/xvm/examples/"
fi

if [[ -n $extra ]]; then
	[[ -d $extra ]] || xvm_die "extra dir $extra does not exist"
	cp -a "$extra/." "$stage/extra/"
fi

# The command.
{
	if (($# == 0)); then
		echo true
	elif (($# == 1)); then
		printf '%s\n' "$1"
	else
		for a in "$@"; do
			printf "'%s' " "${a//\'/\'\\\'\'}"
		done
		echo
	fi
} >"$stage/cmd"
{
	printf 'XVM_INTERACTIVE=%s\nXVM_NO_UNLOAD=%s\nXVM_GCOV=%s\n' "$interactive" "$no_unload" "$gcov"
	for e in "${envs[@]}"; do
		[[ $e == [A-Za-z_]*=* ]] || xvm_die "initramfs.sh: --env NAME=VALUE, not $e"
		printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"
	done
} >"$stage/xvm.env"

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
