#!/bin/bash
# Print the kernel release xvm builds against and boots by default: the newest
# installed Debian *-amd64 kernel that has both /boot/vmlinuz-$KVER and
# /lib/modules/$KVER/build. Exit 1 (printing nothing) if there is none.
set -euo pipefail

best=
for build in /lib/modules/*-amd64/build; do
	[[ -e $build ]] || continue
	kver=${build#/lib/modules/}
	kver=${kver%/build}
	[[ -f /boot/vmlinuz-$kver ]] || continue
	if [[ -z $best ]] || [[ $(printf '%s\n%s\n' "$best" "$kver" | sort -V | tail -n 1) == "$kver" ]]; then
		best=$kver
	fi
done
if [[ -z $best ]]; then
	echo "kver.sh: no Debian *-amd64 kernel with /boot/vmlinuz and /lib/modules/*/build (run scripts/deps.sh)" >&2
	exit 1
fi
printf '%s\n' "$best"
