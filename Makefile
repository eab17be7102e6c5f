# SPDX-License-Identifier: GPL-2.0
#
# xvm: out-of-tree kernel modules + userspace. `make help` lists the targets.
#
# Modules are built by kbuild from the top-level Kbuild file:
#   make -C $(KDIR) M=$(CURDIR) modules      -> kmod/*/*.ko
# Building (all, modules, userspace, install) needs only a C compiler and the
# target kernel's headers: KVER defaults to `uname -r`, KDIR to
# /lib/modules/$(KVER)/build; pass KDIR= for any other kernel. Only the
# targets that boot a guest (check, run, sandbox, shell, bench, fuzz) install
# dependencies (scripts/deps.sh: QEMU, a Debian kernel, the 6.1 source for
# kselftest_harness.h); they build and boot for the newest installed Debian
# kernel (scripts/kver.sh) unless KVER/KDIR are given. Command-line variables
# such as W=1, C=1/2, KCFLAGS=..., V=1 and CC=... reach kbuild unchanged.

ifneq ($(KERNELRELEASE),)
# Read by kbuild only if the Kbuild file were missing: defer to it.
include $(dir $(lastword $(MAKEFILE_LIST)))Kbuild
else

SHELL := /bin/bash
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

XVM_CACHE ?= $(HOME)/.cache/xvm
export XVM_CACHE
# The goals that boot a guest. For them KVER is the Debian kernel the guest
# boots, recursive (lazy) on purpose: evaluated after `deps` may have
# installed it.
GUEST_GOALS := check run sandbox shell bench fuzz migrate-demo
ifneq ($(filter $(GUEST_GOALS),$(MAKECMDGOALS)),)
KVER ?= $(shell $(ROOT)/scripts/kver.sh 2>/dev/null)
else
KVER ?= $(shell uname -r)
endif
KDIR ?= /lib/modules/$(KVER)/build
BUILD ?= $(ROOT)/build
PREFIX ?= /usr/local
DESTDIR ?=
# The one version (VERSION; scripts/host-tests/version.sh checks the others).
XVM_VERSION := $(shell cat $(ROOT)/VERSION)
# make install: directories under $(PREFIX), and the fixed ones that udev,
# systemd-modules-load and systemd-sysusers read (Debian 12's paths).
BINDIR ?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
LIBDIR ?= $(PREFIX)/lib
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
UDEVRULESDIR ?= /lib/udev/rules.d
MODULESLOADDIR ?= /usr/lib/modules-load.d
SYSUSERSDIR ?= /usr/lib/sysusers.d
DKMSSRCDIR ?= /usr/src/xvm-$(XVM_VERSION)
HARNESS_DIR ?= $(XVM_CACHE)/linux-source-6.1/tools/testing/selftests

# Userspace: C11 (gnu11), warnings are errors, static (the guest has no libc).
XVM_USER_CFLAGS ?= -std=gnu11 -Wall -Wextra -Werror -O2 -pthread
CPPFLAGS_XVM := -I$(ROOT)/uapi -I$(ROOT)/userspace/lib -I$(ROOT)/userspace \
	-isystem $(HARNESS_DIR)
LDFLAGS_XVM := -static -pthread
COMPILE = $(CC) $(XVM_USER_CFLAGS) $(CFLAGS) $(CPPFLAGS_XVM) $(CPPFLAGS) -MMD -MP
LINK = $(CC) $(XVM_USER_CFLAGS) $(CFLAGS)

# XVM_LIBVIRT=y: xvm-vmm detaches and reattaches host PCI devices through
# libvirt's node-device API (managed hostdevs) instead of raw sysfs. Opt-in:
# libvirt cannot be linked statically, and the sandbox guest needs static
# binaries.
XVM_LIBVIRT ?= n
ifeq ($(XVM_LIBVIRT),y)
ifneq ($(shell pkg-config --exists libvirt 2>/dev/null && echo y),y)
$(error XVM_LIBVIRT=y but pkg-config finds no libvirt: apt-get install libvirt-dev)
endif
VMM_CPPFLAGS := -DXVM_HAVE_LIBVIRT $(shell pkg-config --cflags libvirt)
VMM_LDFLAGS := -pthread $(shell pkg-config --libs libvirt)
else
VMM_CPPFLAGS :=
VMM_LDFLAGS := $(LDFLAGS_XVM)
endif

LIB_SRCS := $(wildcard $(ROOT)/userspace/lib/*.c)
LIB_OBJS := $(patsubst $(ROOT)/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
LIBXVM := $(BUILD)/lib/libxvm.a
# The host library (PCI sysfs, VFIO, kmsg, the test devices): linked into
# xvm-vmm and the tests, neither installed nor part of libxvm-dev.
HOST_SRCS := $(wildcard $(ROOT)/userspace/host/*.c)
HOST_OBJS := $(patsubst $(ROOT)/%.c,$(BUILD)/obj/%.o,$(HOST_SRCS))
LIBXVM_HOST := $(BUILD)/lib/libxvm-host.a
VMM_SRCS := $(wildcard $(ROOT)/userspace/vmm/*.c)
VMM_OBJS := $(patsubst $(ROOT)/%.c,$(BUILD)/obj/%.o,$(VMM_SRCS))
VMM := $(BUILD)/bin/xvm-vmm
BENCH_SRCS := $(wildcard $(ROOT)/bench/*.c)
BENCH_OBJS := $(patsubst $(ROOT)/%.c,$(BUILD)/obj/%.o,$(BENCH_SRCS))
BENCHES := $(patsubst $(ROOT)/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
FUZZ_SRCS := $(wildcard $(ROOT)/tools/fuzz/xvm-fuzz.c)
FUZZ_OBJS := $(patsubst $(ROOT)/%.c,$(BUILD)/obj/%.o,$(FUZZ_SRCS))
FUZZER := $(BUILD)/bin/xvm-fuzz
# xvm-state-fuzz: hostile state files against xvm-vmm restore (json-c).
STATEFUZZ_SRCS := $(wildcard $(ROOT)/tools/fuzz/state-*.c)
STATEFUZZ_OBJS := $(patsubst $(ROOT)/%.c,$(BUILD)/obj/%.o,$(STATEFUZZ_SRCS))
STATEFUZZ := $(BUILD)/bin/xvm-state-fuzz
# `make fuzz`: seconds of fuzzing, the seed (random unless given), and more
# xvm-fuzz options (FUZZ_ARGS='--avoid fork,unload'); the share of the time
# (percent, default 20) xvm-state-fuzz gets, and its options.
DURATION ?= 300
SEED ?=
STATE_SHARE ?=
STATE_FUZZ_ARGS ?=

# XVM_KUNIT=y: also build kmod/kunit/xvm-kunit.ko, the KUnit tests (only
# if the kernel has CONFIG_KUNIT; the debug lane of scripts/check.sh does).
XVM_KUNIT ?= n
# XVM_TESTDEV=n: leave out kmod/testdev/ (the test device; see Kbuild).
XVM_TESTDEV ?= y
KBUILD_MAKE = $(MAKE) -C $(KDIR) M=$(ROOT) XVM_KUNIT=$(XVM_KUNIT) XVM_TESTDEV=$(XVM_TESTDEV)
SANDBOX = $(ROOT)/scripts/sandbox.sh $(if $(EXTRA),--extra $(EXTRA)) $(SANDBOX_ARGS)
# `make sandbox` runs $(CMD) in the guest (a shell command line).
CMD ?= run-selftests
# The sandbox's PCI devices, as run-selftests gives them (userspace/host/env.h).
BENCH_CMD = export XVM_TEST_E1000E=$${XVM_TEST_E1000E-0000:00:03.0} \
	XVM_TEST_EDU=$${XVM_TEST_EDU-0000:00:04.0}; \
	rc=0; for b in /opt/xvm/bench/*; do [ -x "$$b" ] || continue; \
	n=$$(basename "$$b"); echo "== bench $$n"; \
	"$$b" || { echo "== bench $$n FAILED (exit $$?)"; rc=1; }; done; exit $$rc

.PHONY: all modules userspace tests libxvm libxvm-host vmm selftests bench-build fuzzer harness \
	guest-build check run sandbox shell bench fuzz migrate-demo install install-modules \
	install-utils install-dev install-data install-dkms dist deb clean deps help
.DEFAULT_GOAL := all

all: modules userspace

help:
	@echo 'make [all]          modules + userspace: a compiler and kernel headers, nothing else'
	@echo 'make modules        kernel modules for `uname -r` (KDIR=... for another kernel;'
	@echo '                    W=1, C=1|2, KCFLAGS=...; XVM_KUNIT=y: also the KUnit test module)'
	@echo 'make userspace      build/lib/libxvm.a, build/lib/libxvm-host.a, build/bin/xvm-vmm'
	@echo 'make tests          build/selftests/*, build/bench/*, build/bin/xvm-fuzz (needs'
	@echo '                    kselftest_harness.h: HARNESS_DIR=..., or `make deps` fetches it)'
	@echo 'make check          every check; what CI runs (scripts/check.sh)'
	@echo 'make run            boot a guest running `xvm-vmm run /opt/xvm/examples/demo.conf`'
	@echo "make sandbox CMD='...' [EXTRA=dir]   run a command in a guest (default run-selftests)"
	@echo 'make shell          interactive guest shell (poweroff -f or Ctrl-A X to leave)'
	@echo 'make bench          run every build/bench/* binary in a guest; figures in'
	@echo '                    build/bench/results.json, plots in build/bench/plots/*.png'
	@echo 'make fuzz [DURATION=S] [SEED=N] [FUZZ_ARGS=...] [STATE_SHARE=PCT] [STATE_FUZZ_ARGS=...]'
	@echo '                    xvm-state-fuzz (PCT% of S, default 20), then xvm-fuzz, in a guest'
	@echo '                    (debug kernel if cached); takes the guest lock: no flock around it'
	@echo 'make migrate-demo   two guests: examples/migrate.conf migrates from one to the other'
	@echo 'make install        modules (updates/xvm), xvm-vmm, examples, man page, header,'
	@echo '                    libxvm, xvm.pc, udev rule, modules-load.d, sysusers.d'
	@echo '                    (DESTDIR=, PREFIX=/usr/local, KDIR=; install-{modules,utils,dev,data,dkms})'
	@echo 'make dist           build/xvm-$$(VERSION).tar.gz (git archive of HEAD; a DKMS source tree)'
	@echo 'make deb            build/deb/{xvm-dkms,xvm-utils,libxvm-dev}_*.deb (dpkg-buildpackage, lintian)'
	@echo 'make clean | deps   remove build outputs | install missing build dependencies'
	@echo 'SANDBOX_ARGS=...    extra scripts/sandbox.sh options (--timeout S, --mem 2G, --kernel IMG...)'

deps:
	@$(ROOT)/scripts/deps.sh

modules:
	@if [ ! -f $(KDIR)/Makefile ]; then \
		echo "make: no kernel headers for $(KVER) at $(KDIR):" \
			"install them (Debian: linux-headers-$(KVER)) or pass KDIR=/path/to/build" >&2; \
		exit 1; \
	fi
	+$(KBUILD_MAKE) modules

userspace: libxvm libxvm-host vmm
tests: selftests bench-build fuzzer

# The test binaries are built against the kernel's kselftest harness, which
# kernel headers packages do not carry (scripts/deps.sh unpacks it from
# linux-source-6.1).
harness:
	@if [ ! -f $(HARNESS_DIR)/kselftest_harness.h ]; then \
		echo "make: no kselftest_harness.h in $(HARNESS_DIR):" \
			"run \`make deps\` or pass HARNESS_DIR=<linux>/tools/testing/selftests" >&2; \
		exit 1; \
	fi

# Everything a guest run needs, built after `deps` (a sub-make, so that
# KVER is looked up only once deps has installed the kernel).
guest-build: deps
	+@$(MAKE) --no-print-directory all tests KVER=$(KVER)

libxvm: $(if $(LIB_SRCS),$(LIBXVM))
libxvm-host: $(LIBXVM_HOST)
vmm: $(if $(VMM_SRCS),$(VMM))
bench-build: $(BENCHES)
fuzzer: $(if $(FUZZ_SRCS),$(FUZZER)) $(if $(STATEFUZZ_SRCS),$(STATEFUZZ))
selftests: libxvm libxvm-host harness
	@$(MAKE) --no-print-directory -C $(ROOT)/selftests OUT=$(BUILD)/selftests \
		OBJDIR=$(BUILD)/obj/selftests LIBXVM=$(LIBXVM) LIBXVM_HOST=$(LIBXVM_HOST) \
		HARNESS_DIR=$(HARNESS_DIR) \
		XVM_USER_CFLAGS='$(XVM_USER_CFLAGS)'

$(LIBXVM): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(LIBXVM_HOST): $(HOST_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# xvm-vmm's state files (save/restore) use json-c: Debian's libjson-c-dev
# (libjson-c.a for the static build; the arm64 lane takes libjson-c-dev:arm64).
JSONC_CFLAGS ?= -I/usr/include/json-c
JSONC_LIBS ?= -ljson-c
$(VMM_OBJS): CPPFLAGS += $(VMM_CPPFLAGS) $(JSONC_CFLAGS) \
	-DXVM_VERSION_STRING='"$(XVM_VERSION)"'
$(VMM_OBJS): | jsonc-check
.PHONY: jsonc-check
jsonc-check:
	@echo '#include <json.h>' | $(CC) $(JSONC_CFLAGS) -E -x c - >/dev/null 2>&1 || \
		{ echo "make: xvm-vmm needs json-c: no json.h for $(CC) with $(JSONC_CFLAGS)" \
			"(Debian: apt-get install libjson-c-dev)" >&2; exit 1; }
# The benchmarks build their VMs with the selftests' fixture library.
$(BENCH_OBJS): CPPFLAGS += -I$(ROOT)/selftests
$(VMM): $(VMM_OBJS) $(LIBXVM) $(LIBXVM_HOST)
	@mkdir -p $(@D)
	$(LINK) -o $@ $(VMM_OBJS) $(LIBXVM) $(LIBXVM_HOST) $(JSONC_LIBS) $(VMM_LDFLAGS) $(LDFLAGS)

$(FUZZER): $(FUZZ_OBJS) $(LIBXVM_HOST)
	@mkdir -p $(@D)
	$(LINK) -o $@ $(FUZZ_OBJS) $(LIBXVM_HOST) $(LDFLAGS_XVM) $(LDFLAGS)

$(STATEFUZZ_OBJS): CPPFLAGS += $(JSONC_CFLAGS)
$(STATEFUZZ_OBJS): | jsonc-check
$(STATEFUZZ): $(STATEFUZZ_OBJS)
	@mkdir -p $(@D)
	$(LINK) -o $@ $(STATEFUZZ_OBJS) $(JSONC_LIBS) $(LDFLAGS_XVM) $(LDFLAGS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(if $(LIB_SRCS),$(LIBXVM)) $(LIBXVM_HOST)
	@mkdir -p $(@D)
	$(LINK) -o $@ $< $(if $(LIB_SRCS),$(LIBXVM)) $(LIBXVM_HOST) $(LDFLAGS_XVM) $(LDFLAGS)

$(BUILD)/obj/%.o: $(ROOT)/%.c
	@mkdir -p $(@D)
	$(COMPILE) -c -o $@ $<

.SECONDARY: $(LIB_OBJS) $(HOST_OBJS) $(VMM_OBJS) $(BENCH_OBJS) $(FUZZ_OBJS) $(STATEFUZZ_OBJS)
-include $(LIB_OBJS:.o=.d) $(HOST_OBJS:.o=.d) $(VMM_OBJS:.o=.d) $(BENCH_OBJS:.o=.d) \
	$(FUZZ_OBJS:.o=.d) $(STATEFUZZ_OBJS:.o=.d)

check:
	@$(ROOT)/scripts/check.sh

run: guest-build
	$(SANDBOX) -- 'xvm-vmm run /opt/xvm/examples/demo.conf'

sandbox: guest-build
	$(SANDBOX) -- "$$XVM_SANDBOX_CMD"
sandbox: export XVM_SANDBOX_CMD = $(value CMD)

# The console log goes to build/logs/bench-<time>.log; scripts/bench-report.sh
# turns its XVM-BENCH records into build/bench/results.json and
# build/bench/plots/*.png, also after a failed bench (the status is kept).
bench: guest-build
	@log=$(BUILD)/logs/bench-$$(date +%Y%m%d-%H%M%S).log; rc=0; \
	echo "bench: console log $$log"; \
	$(SANDBOX) --log "$$log" -- '$(BENCH_CMD)' || rc=$$?; \
	$(ROOT)/scripts/bench-report.sh "$$log" $(BUILD)/bench || rc=1; exit $$rc

shell: guest-build
	$(SANDBOX) --interactive

# The debug kernel when it is cached (modules rebuilt against it), else the
# Debian one; the guest's kernel log must stay clean (sandbox.sh checks).
fuzz: guest-build
	@$(ROOT)/tools/fuzz/run-guest.sh --duration $(DURATION) $(if $(SEED),--seed $(SEED)) \
		$(if $(FUZZ_ARGS),--fuzz-args '$(FUZZ_ARGS)') \
		$(if $(STATE_SHARE),--state-share $(STATE_SHARE)) \
		$(if $(STATE_FUZZ_ARGS),--state-args '$(STATE_FUZZ_ARGS)') $(SANDBOX_ARGS)

# Two guests on one QEMU socket network: xvm-vmm migrate in one, incoming
# in the other (scripts/migrate-guests.sh takes the guest lock itself).
migrate-demo: guest-build
	@$(ROOT)/scripts/migrate-guests.sh

# Debian's headers carry no signing key: modules are installed unsigned
# unless MODSIGN=y. Kbuild cannot run depmod without System.map, so we run it
# for a live install (not for a DESTDIR staging install: packagers do that).
# The install targets build only what they install (no scripts/deps.sh, no
# selftests): kbuild is called directly, not through `modules`.
MODSIGN ?=
install: install-modules install-utils install-dev install-data

# modules_install installs what the last build listed in modules.order: the
# build done for install never includes the test modules.
install-modules: override XVM_KUNIT := n
install-modules: override XVM_TESTDEV := n
install-modules:
	+$(KBUILD_MAKE) modules
	+$(KBUILD_MAKE) INSTALL_MOD_DIR=updates/xvm $(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) \
		CONFIG_MODULE_SIG_ALL=$(MODSIGN) modules_install
	@if [ -z "$(DESTDIR)" ]; then \
		rel=$$(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h); \
		echo "  DEPMOD  $$rel"; depmod -a "$$rel"; \
	fi

# xvm-vmm finds the examples at BINDIR/../share/xvm/examples.
install-utils: vmm
	install -D -m 0755 $(VMM) $(DESTDIR)$(BINDIR)/xvm-vmm
	install -d $(DESTDIR)$(DATADIR)/xvm/examples
	install -m 0644 $(ROOT)/examples/*.conf $(ROOT)/examples/README.md \
		$(DESTDIR)$(DATADIR)/xvm/examples/
	install -D -m 0644 $(ROOT)/docs/xvm-vmm.1 $(DESTDIR)$(MANDIR)/man1/xvm-vmm.1

# The uapi header goes to INCLUDEDIR/xvm/linux/xvm.h, not INCLUDEDIR/linux/
# (linux-libc-dev's namespace): `pkg-config --cflags xvm` gives
# -I$(INCLUDEDIR)/xvm, so users write #include <linux/xvm.h> and <libxvm.h>
# exactly as in this tree.
install-dev: libxvm
	install -D -m 0644 -t $(DESTDIR)$(INCLUDEDIR)/xvm/linux $(ROOT)/uapi/linux/*.h
	install -D -m 0644 $(ROOT)/userspace/lib/libxvm.h $(DESTDIR)$(INCLUDEDIR)/xvm/libxvm.h
	install -D -m 0644 $(LIBXVM) $(DESTDIR)$(LIBDIR)/libxvm.a
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig
	sed -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@LIBDIR@|$(LIBDIR)|; s|@VERSION@|$(XVM_VERSION)|' \
		$(ROOT)/userspace/lib/xvm.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/xvm.pc

# /dev/xvm for group xvm, xvm.ko loaded at boot, the xvm group (data/*);
# a live install (no DESTDIR) also creates the group, as the package does.
install-data:
	install -D -m 0644 $(ROOT)/data/60-xvm.rules $(DESTDIR)$(UDEVRULESDIR)/60-xvm.rules
	install -D -m 0644 $(ROOT)/data/modules-load.conf $(DESTDIR)$(MODULESLOADDIR)/xvm.conf
	install -D -m 0644 $(ROOT)/data/sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/xvm.conf
	@if [ -z "$(DESTDIR)" ]; then \
		echo "  SYSUSERS $(SYSUSERSDIR)/xvm.conf"; \
		systemd-sysusers $(SYSUSERSDIR)/xvm.conf 2>/dev/null || \
			getent group xvm >/dev/null || groupadd --system xvm; \
	fi

# The DKMS source tree (what the xvm-dkms package ships): what dkms.conf's
# build needs, without the test modules' sources.
DKMS_FILES = VERSION Kbuild dkms.conf $(patsubst $(ROOT)/%,%,$(wildcard $(ROOT)/uapi/linux/*.h)) \
	$(patsubst $(ROOT)/%,%,$(filter-out $(ROOT)/kmod/testdev/% $(ROOT)/kmod/kunit/%, \
		$(wildcard $(ROOT)/kmod/*/*.[ch] $(ROOT)/kmod/*/Kbuild $(ROOT)/kmod/include/xvm/*.h)))
install-dkms:
	install -d $(DESTDIR)$(DKMSSRCDIR)
	cd $(ROOT) && for f in $(DKMS_FILES); do \
		install -D -m 0644 "$$f" "$(DESTDIR)$(DKMSSRCDIR)/$$f" || exit 1; done

# A release tarball: the committed tree (HEAD) only. Untar it and
# `dkms add ./xvm-$(XVM_VERSION)`, or build the packages from it.
dist:
	@mkdir -p $(BUILD)
	@git -C $(ROOT) diff --quiet HEAD -- || \
		echo "dist: note: uncommitted changes are not in the tarball (HEAD only)"
	git -C $(ROOT) archive --format=tar.gz --prefix=xvm-$(XVM_VERSION)/ \
		-o $(BUILD)/xvm-$(XVM_VERSION).tar.gz HEAD
	@echo "dist: $(BUILD)/xvm-$(XVM_VERSION).tar.gz"

# The Debian packages, built in a copy of the tree (tracked and untracked,
# not ignored files; everything but build/ outside git) so that the source
# tree is never touched; lintian checks them if it is installed.
DEB_TREE = $(BUILD)/debsrc/xvm-$(XVM_VERSION)
deb:
	rm -rf $(BUILD)/debsrc $(BUILD)/deb
	mkdir -p $(DEB_TREE) $(BUILD)/deb
	cd $(ROOT) && if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(ROOT)" ]; then \
		git ls-files -z --cached --others --exclude-standard; \
	else \
		find . -path ./build -prune -o -type f -printf '%P\0'; \
	fi | while IFS= read -r -d '' f; do [ -f "$$f" ] && printf '%s\0' "$$f"; done | \
		tar --null -T - -cf - | tar -xf - -C $(DEB_TREE)
	cd $(DEB_TREE) && dpkg-buildpackage -us -uc -b
	mv $(BUILD)/debsrc/*.deb $(BUILD)/debsrc/*.changes $(BUILD)/debsrc/*.buildinfo $(BUILD)/deb/
	rm -rf $(BUILD)/debsrc
	@if command -v lintian >/dev/null; then \
		echo "lintian $(BUILD)/deb/*.changes"; \
		lintian --fail-on error,warning $(BUILD)/deb/*.changes; \
	fi
	@ls -l $(BUILD)/deb

clean:
	+@if [ -f $(ROOT)/Kbuild ] && [ -d $(KDIR) ]; then $(KBUILD_MAKE) clean; fi
	rm -rf $(BUILD)

endif
