#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host test: xvm has one version. VERSION is the source of it (Kbuild passes
# it to MODULE_VERSION(), the Makefile names the tarball and the DKMS tree
# after it); dkms.conf's PACKAGE_VERSION (literal: dh_dkms reads it with a
# regex), debian/changelog's newest entry (native: no Debian revision) and
# the man page's footer must say the same, and every module must declare it.
#
# Exit: 0 pass, 1 fail.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$XVM_ROOT"

fail=0
bad() {
	echo "version: FAIL: $*"
	fail=1
}

version=$(cat VERSION 2>/dev/null || true)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "version: FAIL: VERSION is '$version', not X.Y.Z"; exit 1; }

# dkms.conf, read the way dkms does (bash) and the way dh_dkms does (regex).
dkms=$(bash -c 'kernel_source_dir=; dkms_tree=; . ./dkms.conf >/dev/null; echo "$PACKAGE_VERSION"')
[[ $dkms == "$version" ]] || bad "dkms.conf PACKAGE_VERSION is '$dkms', VERSION is '$version'"
grep -Eq "^PACKAGE_VERSION=\"?${version//./\\.}\"?\$" dkms.conf ||
	bad "dkms.conf: PACKAGE_VERSION must be the literal \"$version\" (dh_dkms does not expand variables)"

# debian/changelog: "xvm (VERSION) distribution; urgency=..." on its first line.
deb=$(sed -n '1s/^xvm (\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null || true)
[[ $deb == "$version" ]] || bad "debian/changelog's version is '$deb', VERSION is '$version'"

man=$(sed -n 's/^\.TH XVM-VMM 1 "[^"]*" "xvm \([^"]*\)".*/\1/p' docs/xvm-vmm.1 2>/dev/null || true)
[[ $man == "$version" ]] || bad "docs/xvm-vmm.1 says xvm '$man', VERSION is '$version'"

# Every module (each kmod/*/ with a Kbuild) declares MODULE_VERSION(XVM_VERSION).
for kb in kmod/*/Kbuild; do
	d=${kb%Kbuild}
	grep -qs 'MODULE_VERSION(XVM_VERSION)' "$d"*.c || bad "no MODULE_VERSION(XVM_VERSION) in $d*.c"
done

if ((fail)); then
	exit 1
fi
echo "version: ok: $version (VERSION, dkms.conf, debian/changelog, xvm-vmm.1, every module)"
