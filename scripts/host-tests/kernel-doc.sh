#!/bin/bash
# The uapi and the core API are documented where a tool can check them:
# - every struct defined in uapi/*.h has a kernel-doc comment right above it
#   ("/**" then " * struct name - summary") with exactly one @member line
#   per member, reserved and pad members included (kernel-doc itself says
#   nothing about a struct with no kernel-doc comment, and nothing about an
#   @line that names no member);
# - scripts/kernel-doc -none reports nothing for uapi/*.h and every kernel
#   file;
# - every function xvm.ko exports (EXPORT_SYMBOL*) has a kernel-doc comment
#   ("/**" then " * name() - ...").
#
# Usage: kernel-doc.sh [UAPI_HEADER...]  (default: git ls-files 'uapi/*.h';
# with headers given, only the struct check and kernel-doc run on them).
# Exit: 0 pass, 77 skip (no linux-source-6.1 for kernel-doc), 1 fail.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$XVM_ROOT"

# Print one line per uapi struct that lacks a kernel-doc comment, or whose
# @member lines and members differ.  Members are the flat declarations of
# the struct body; a nested struct or union is reported so that someone
# extends this check before relying on it.
uapi_struct_check() {
	perl -0777 -ne '
		my $file = $ARGV;
		while (/^struct (\w+) \{\n(.*?)^\};/msg) {
			my ($name, $body, $start) = ($1, $2, $-[0]);
			my $line = 1 + (substr($_, 0, $start) =~ tr/\n//);
			my $before = substr($_, 0, $start);
			my $doc;
			if ($before =~ m{(/\*\*\n(?:(?!\*/).)*?\*/)\n\s*\z}s) {
				$doc = $1;
			}
			if (!defined $doc ||
			    $doc !~ /\A\/\*\*\n \* struct \Q$name\E - \S/) {
				print "$file:$line: struct $name has no kernel-doc comment\n";
				next;
			}
			(my $code = $body) =~ s{/\*.*?\*/}{}gs;
			if ($code =~ /[{}]/) {
				print "$file:$line: struct $name: nested struct or union, check it by hand\n";
				next;
			}
			my (@members, %doc);
			for my $decl (split /;/, $code) {
				next if $decl !~ /\S/;
				$decl =~ s/\s*:\s*\d+\s*$//;	# bit-field width
				$decl =~ s/(\s*\[[^\]]*\])+\s*$//;	# array size
				push @members, $1 if $decl =~ /(\w+)\s*$/;
			}
			$doc{$1}++ while $doc =~ /^ \*\s+\@(\w+)\s*:/mg;
			for my $m (@members) {
				print "$file:$line: struct $name: member $m has no \@$m line\n"
					if !$doc{$m};
			}
			my %is = map { $_ => 1 } @members;
			for my $d (sort keys %doc) {
				print "$file:$line: struct $name: \@$d names no member\n"
					if !$is{$d};
				print "$file:$line: struct $name: \@$d described twice\n"
					if $doc{$d} > 1;
			}
		}
	' "$@"
}

rc=0
if (($#)); then
	uapi=("$@")
	files=("$@")
else
	mapfile -t uapi < <(git ls-files 'uapi/*.h')
	mapfile -t files < <(git ls-files 'uapi/*.h' 'kmod/*.[ch]')
fi
nstruct=$(cat "${uapi[@]}" | grep -c '^struct \w* {$' || true)
out=$(uapi_struct_check "${uapi[@]}")
if [[ -n $out ]]; then
	printf '%s\n' "$out"
	echo "kernel-doc: FAIL: uapi struct without complete kernel-doc"
	rc=1
fi

kdoc=$XVM_LINUX_SRC/scripts/kernel-doc
if [[ ! -f $kdoc ]]; then
	echo "kernel-doc: SKIP: no $kdoc (scripts/deps.sh)"
	((rc)) && exit "$rc"
	exit 77
fi
out=$(for f in "${files[@]}"; do perl "$kdoc" -none "$f" 2>&1; done)
if [[ -n $out ]]; then
	printf '%s\n' "$out"
	echo "kernel-doc: FAIL: kernel-doc -none warns"
	rc=1
fi
n=0
if ((!$#)); then
	while read -r sym; do
		n=$((n + 1))
		if ! grep -qzP "(^|\n)/\*\*\n \* $sym\(\) - " kmod/core/*.c kmod/include/xvm/*.h; then
			echo "kernel-doc: FAIL: exported $sym has no kernel-doc comment"
			rc=1
		fi
	done < <(grep -hoP 'EXPORT_SYMBOL_NS_GPL\(\K\w+' kmod/core/*.c | sort -u)
fi
((rc)) || echo "kernel-doc: ok: $nstruct uapi structs documented, ${#files[@]} files clean, $n exported functions documented"
exit "$rc"
