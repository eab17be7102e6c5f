#!/bin/bash
# The uapi and the core API are documented where a tool can check them:
# scripts/kernel-doc -none reports nothing for uapi/linux/xvm.h and every
# kernel file, and every function xvm.ko exports (EXPORT_SYMBOL*) has a
# kernel-doc comment ("/**" then " * name() - ...").
#
# Exit: 0 pass, 77 skip (no linux-source-6.1 for kernel-doc), 1 fail.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$XVM_ROOT"

kdoc=$XVM_LINUX_SRC/scripts/kernel-doc
if [[ ! -f $kdoc ]]; then
	echo "kernel-doc: SKIP: no $kdoc (scripts/deps.sh)"
	exit 77
fi
rc=0
mapfile -t files < <(git ls-files 'uapi/*.h' 'kmod/*.[ch]')
out=$(for f in "${files[@]}"; do perl "$kdoc" -none "$f" 2>&1; done)
if [[ -n $out ]]; then
	printf '%s\n' "$out"
	echo "kernel-doc: FAIL: kernel-doc -none warns"
	rc=1
fi
n=0
while read -r sym; do
	n=$((n + 1))
	if ! grep -qzP "(^|\n)/\*\*\n \* $sym\(\) - " kmod/core/*.c kmod/include/xvm/*.h; then
		echo "kernel-doc: FAIL: exported $sym has no kernel-doc comment"
		rc=1
	fi
done < <(grep -hoP 'EXPORT_SYMBOL_NS_GPL\(\K\w+' kmod/core/*.c | sort -u)
((rc)) || echo "kernel-doc: ok: ${#files[@]} files clean, $n exported functions documented"
exit "$rc"
