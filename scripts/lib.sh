# shellcheck shell=bash
# Shared helpers for the xvm host scripts. Source it; do not execute it.
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Everything here is side-effect free apart from defining variables and
# functions, so every script can source it first thing.

XVM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
XVM_CACHE=${XVM_CACHE:-${HOME:-/root}/.cache/xvm}
XVM_LINUX_SRC=$XVM_CACHE/linux-source-6.1
XVM_HARNESS_DIR=$XVM_LINUX_SRC/tools/testing/selftests
export XVM_ROOT XVM_CACHE XVM_LINUX_SRC XVM_HARNESS_DIR

xvm_info() { printf '%s\n' "$*" >&2; }
xvm_warn() { printf 'warning: %s\n' "$*" >&2; }
xvm_die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# The kernel release the default build and guest lane use (see kver.sh).
xvm_kver() { "$XVM_ROOT/scripts/kver.sh"; }

# Kernel log lines that make a guest run a failure, as one extended regex.
# Case-sensitive on purpose: "WARNING:" is what WARN() prints; firmware
# chatter such as "ACPI Warning" is not a kernel bug.
XVM_BAD_LOG_RE='Oops|ODEBUG:|BUG:|kernel BUG|WARNING:|KASAN|UBSAN|kmemleak: .*new suspected|unreferenced object 0x|Call Trace|general protection|Kernel panic|kernel panic|possible circular locking|inconsistent lock state|possible recursive locking|sleeping function called from invalid context|INFO: task .* blocked for more than|rcu: .*detected stalls|Unable to handle kernel|XVM-MODULE-LOAD-FAILED|XVM-MODULE-UNLOAD-FAILED'

# Print FILE without carriage returns (serial consoles emit CRLF).
xvm_strip_cr() { tr -d '\r' <"$1"; }

# Print the lines between a line containing BEGIN and one containing END
# (exclusive). Used for the sections guest-init writes to the results port.
xvm_section() {
	local file=$1 begin=$2 end=$3
	xvm_strip_cr "$file" | awk -v b="$begin" -v e="$end" '
		index($0, e) { on = 0 }
		on { print }
		index($0, b) { on = 1 }'
}

# Drop the kernel-log sections a test announced as an expected splat of the
# kernel itself (not of xvm): the lines between "XVM-EXPECT-SPLAT-BEGIN TEXT"
# and "XVM-EXPECT-SPLAT-END", but only when the section holds TEXT (the
# kernel's own WARN message); any other section is kept whole. Used where the 6.1 kernel
# WARNs on a failure xvm handles (an IOMMU driver that cannot re-attach the
# default domain under fault injection).
xvm_drop_expected_splats() {
	awk '
		/XVM-EXPECT-SPLAT-BEGIN / {
			on = 1; n = 0; seen = 0
			want = substr($0, index($0, "XVM-EXPECT-SPLAT-BEGIN ") + 23)
			next
		}
		on && /XVM-EXPECT-SPLAT-END/ {
			on = 0
			if (seen)
				print "xvm: expected kernel splat: " want
			else
				for (i = 0; i < n; i++) print buf[i]
			n = 0
			next
		}
		on { buf[n++] = $0; if (index($0, want)) seen = 1; next }
		{ print }
		END { for (i = 0; i < n; i++) print buf[i] }'
}

# Print the bad kernel-log lines of FILE (at most 200); return 1 if any.
xvm_scan_log() {
	local file=$1 hits
	hits=$(xvm_strip_cr "$file" | xvm_drop_expected_splats |
		grep -E -- "$XVM_BAD_LOG_RE" | head -n 200) || true
	if [[ -n $hits ]]; then
		printf '%s\n' "$hits"
		return 1
	fi
	return 0
}

# Value of the last KEY=VALUE marker (e.g. XVM-EXIT-STATUS) in FILE, or
# nothing. Tolerates kernel text printed on the same line.
xvm_marker() {
	local file=$1 key=$2
	{ xvm_strip_cr "$file" | grep -oE -- "$key=[0-9]+" || true; } | tail -n 1 | cut -d= -f2
}

# "pass fail skip" from the last "XVM-SELFTESTS pass=N fail=N skip=N" line
# of FILE; returns 1 if there is none.
xvm_selftest_counts() {
	local line
	line=$(xvm_strip_cr "$1" | grep -oE 'XVM-SELFTESTS pass=[0-9]+ fail=[0-9]+ skip=[0-9]+' | tail -n 1)
	[[ -n $line ]] || return 1
	# shellcheck disable=SC2001
	sed 's/.*pass=\([0-9]*\) fail=\([0-9]*\) skip=\([0-9]*\)/\1 \2 \3/' <<<"$line"
}

# "pass fail skip" of the KUnit test cases in a kernel log (dmesg text,
# optionally with [timestamps]). Counts the KTAP case lines of each suite
# (indented by four spaces); a suite reported "not ok" with no failed case
# (e.g. its init failed) counts as one failure.
xvm_kunit_counts() {
	xvm_strip_cr "$1" | sed -E 's/^\[[ 0-9.]+\] ?//' | grep -v 'selftests: xvm:' | awk '
		/^    (not )?ok [0-9]+ / {
			if ($0 ~ /# SKIP/) skip++
			else if ($1 == "not") { fail++; suitefail++ }
			else pass++
			next
		}
		/^(not )?ok [0-9]+ / {
			if ($1 == "not" && $0 !~ /# SKIP/ && suitefail == 0) fail++
			suitefail = 0
			next
		}
		END { printf "%d %d %d\n", pass, fail, skip }'
}

# Progress of long work (a kernel build, a fetch, a guest lane): on a
# terminal one status line rewritten in place, elsewhere (CI, a pipe) one
# line per call, so callers call it once per step there. It goes to fd
# $XVM_PROGRESS_FD (default 2): check.sh points that at its own output, so
# progress shows while a step's output goes to its log.
xvm_progress_tty() { [[ -t ${XVM_PROGRESS_FD:-2} ]]; }
xvm_progress() {
	local fd=${XVM_PROGRESS_FD:-2}
	if xvm_progress_tty; then
		printf '\r\033[K%s' "$*" >&"$fd"
	else
		printf '%s\n' "$*" >&"$fd"
	fi
}
# Ends the status line on a terminal (a no-op elsewhere).
xvm_progress_end() {
	! xvm_progress_tty || printf '\n' >&"${XVM_PROGRESS_FD:-2}"
}

# xvm_watch_selftests LOG LABEL: until killed, report a guest lane's
# progress from its console log (run-selftests' TAP: "1..N", one
# "# selftests: xvm: NAME" per binary, "# ok"/"# not ok" per test case):
# binaries started of N, test cases passed and failed so far. On a
# terminal every 3 s; elsewhere when a binary starts. Run it in the
# background and kill it when the guest is done.
xvm_watch_selftests() {
	local log=$1 label=$2 t0=$SECONDS seen=-1 total started name ok nok
	while sleep 3; do
		[[ -s $log ]] || continue
		total=$(tr -d '\r' <"$log" | grep -m1 -oE '^1\.\.[0-9]+' | cut -c4-) || true
		started=$(grep -ac '^# selftests: xvm: ' "$log") || true
		((started)) || continue
		xvm_progress_tty || ((started != seen)) || continue
		seen=$started
		name=$(grep -a '^# selftests: xvm: ' "$log" | tail -n 1 | tr -d '\r')
		ok=$(grep -acE '^# ok ' "$log") || true
		nok=$(grep -acE '^# not ok ' "$log") || true
		xvm_progress "   $label: binary $started/${total:-?} (${name##* }), cases ok $ok, not ok $nok, $((SECONDS - t0))s"
	done
}

# ---- packaging helpers (scripts/dkms-roundtrip.sh, scripts/installed-boot.sh)

# xvm_ensure_pkgs PKG...: apt-get install those of PKG that are not
# installed ("ii"), as root or through sudo. Never skips silently: a failed
# update or install (e.g. the registry unreachable) dies naming them.
xvm_ensure_pkgs() {
	local missing=() p status sudo=()
	for p in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) || status=
		[[ $status == ii* ]] || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	if ((EUID != 0)); then
		command -v sudo >/dev/null || xvm_die "need root (or sudo) to install: ${missing[*]}"
		sudo=(sudo)
	fi
	xvm_info "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq >&2 ||
		xvm_die "apt-get update failed; could not install: ${missing[*]}"
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
		xvm_die "apt-get install failed for: ${missing[*]}"
}

# xvm_dkms_conf_list DKMS.CONF ARRAY: the elements of ARRAY (e.g.
# BUILT_MODULE_NAME) as dkms reads them (the file is bash), one per line.
xvm_dkms_conf_list() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	bash -c 'kernel_source_dir=; dkms_tree=; . "$1" >/dev/null;
		eval "printf \"%s\\n\" \"\${$2[@]}\""' _ "$1" "$2"
}

# xvm_copy_sources SRC DST: copy what a source package of SRC holds (git
# tracked + untracked files, or every file outside a git tree) to DST,
# without build/ and without build artifacts that would make kbuild skip work.
xvm_copy_sources() {
	local src=$1 dst=$2
	mkdir -p "$dst"
	(
		cd "$src" || exit 1
		if [[ $(git rev-parse --show-toplevel 2>/dev/null) == "$PWD" ]]; then
			git ls-files -z --cached --others --exclude-standard
		else
			find . -path ./.git -prune -o -type f -printf '%P\0'
		fi | grep -zvE '^build/|(^|/)\.git/|\.(o|ko|mod|mod\.c|cmd|a|order|symvers)$|(^|/)\.tmp_' |
			while IFS= read -r -d '' f; do [[ -f $f ]] && printf '%s\0' "$f"; done |
			cpio -0 -pdm --quiet "$dst"
	)
}

# xvm_dkms_key DIR: a throwaway module-signing key in DIR, exported as dkms's
# mok_signing_key/mok_certificate (dkms signs for CONFIG_MODULE_SIG kernels
# and would otherwise create /var/lib/dkms/mok.key).
xvm_dkms_key() {
	openssl req -new -x509 -nodes -days 2 -subj "/CN=xvm throwaway dkms key" \
		-newkey rsa:2048 -keyout "$1/mok.key" -outform DER -out "$1/mok.der" \
		>/dev/null 2>&1 || return 1
	export mok_signing_key=$1/mok.key mok_certificate=$1/mok.der
}
