#!/bin/bash
# Cross-guest migration: a VM with a vGIC, event channels and memory
# (examples/migrate.conf) leaves `xvm-vmm migrate` in one sandbox guest and
# its script goes on under `xvm-vmm incoming --check` in another. The two
# guests share a QEMU socket network (sandbox.sh --peer-net: virtio-net at
# 00:05.0, UDP between two ports of the host's loopback): the target is
# 10.0.3.2, the source 10.0.3.1, the stream goes over tcp:10.0.3.2:PORT.
#
#   scripts/migrate-guests.sh [--config NAME] [--timeout S] [--log-dir DIR] [--no-lock]
#
#   --config NAME   the example to migrate (default migrate: /opt/xvm/examples/NAME.conf)
#   --timeout S     each guest's hard limit (default 300); the VMMs wait at most
#                   120 s for each other
#   --log-dir DIR   where the logs go (default build/logs)
#   --no-lock       do not take /tmp/xvm-guest.lock (the caller holds it, or
#                   nothing else boots guests: scripts/check.sh)
#
# Takes /tmp/xvm-guest.lock itself (do not wrap it in flock). Needs the
# modules and build/ (make all tests). Logs: DIR/migrate-{source,target}-TIME.log
# (and sandbox.sh's .results/.summary/.kernel). Prints one PASS/FAIL line per
# check and "migrate-guests: N passed, N failed"; exit 0 when all passed:
# both guests ran their command with exit status 0 and a clean kernel log,
# the source handed the VM over, and the target resumed the script after the
# migrate step with every check passing.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

config=migrate timeout_s=300 lock=1 logs=$XVM_ROOT/build/logs
while (($#)); do
	case $1 in
	--config) config=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--log-dir) logs=$2; shift 2 ;;
	--no-lock) lock=0; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) xvm_die "migrate-guests.sh: unknown option $1" ;;
	esac
done
if ((lock)) && [[ -z ${XVM_MIGRATE_LOCKED:-} ]]; then
	XVM_MIGRATE_LOCKED=1 exec flock /tmp/xvm-guest.lock "$0" --no-lock \
		--config "$config" --timeout "$timeout_s" --log-dir "$logs"
fi

stamp=$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$logs"
tlog=$logs/migrate-target-$stamp.log slog=$logs/migrate-source-$stamp.log
# Two UDP ports of the loopback, one per guest (who binds which is swapped).
base=$((20000 + $$ % 20000 * 2))
port=7777
conf=/opt/xvm/examples/$config.conf
common=(--quiet --smp 1 --mem 512M --timeout "$timeout_s")

"$XVM_ROOT/scripts/sandbox.sh" "${common[@]}" --log "$tlog" \
	--peer-net "$base:$((base + 1)):10.0.3.2/24" -- \
	"xvm-vmm incoming tcp:10.0.3.2:$port --check --timeout 120" >"$tlog.sandbox" 2>&1 &
target=$!
"$XVM_ROOT/scripts/sandbox.sh" "${common[@]}" --log "$slog" \
	--peer-net "$((base + 1)):$base:10.0.3.1/24" -- \
	"xvm-vmm migrate $conf tcp:10.0.3.2:$port --timeout 120" >"$slog.sandbox" 2>&1 &
source=$!
trc=0 src=0
wait "$target" || trc=$?
wait "$source" || src=$?

npass=0 nfail=0
# result NAME CMD...: one check, passed when CMD succeeds.
result() {
	if "${@:2}"; then
		npass=$((npass + 1))
		echo "PASS $1"
	else
		nfail=$((nfail + 1))
		echo "FAIL $1"
	fi
}
# What the VMMs printed, without the console's carriage returns (grep -q
# on a here-string: no pipe for pipefail to trip on).
sout=$(xvm_strip_cr "$slog") tout=$(xvm_strip_cr "$tlog")
has() { grep -qE -- "$2" <<<"$1"; }
all_held() { has "$tout" "^== OK: [1-9]" && ! has "$tout" "\[FAIL\]|^  FAIL "; }
result "source guest: migrate exit 0, kernel log clean (sandbox result $src)" test "$src" = 0
result "target guest: incoming exit 0, kernel log clean (sandbox result $trc)" test "$trc" = 0
result "source: the target took the VM over" has "$sout" "the target runs the VM now"
result "target: the restored state saves as the stream (--check)" \
	has "$tout" "saves as the stream, byte for byte"
result "target: the script resumed after the migrate step" \
	has "$tout" "^== script, resumed at step"
result "target: every check after the migrate step held" all_held
[[ $config != migrate ]] ||
	result "target: the vGIC register the source wrote reads back (migrate.conf)" \
		has "$tout" "read 0x8000430 = 0x40302010"
[[ $config != migrate ]] ||
	result "target: the guest RAM the source wrote reads back (migrate.conf)" \
		has "$tout" "guest RAM 0x40001000 = 0x1122334455667788, expected"
echo "logs: $slog, $tlog"
echo "migrate-guests: $npass passed, $nfail failed"
((nfail == 0))
