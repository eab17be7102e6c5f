# SPDX-License-Identifier: GPL-2.0
#
# xvm: out-of-tree kernel modules + userspace. `make help` lists the targets.
#
# Modules are built by kbuild from the top-level Kbuild file:
#   make -C $(KDIR) M=$(CURDIR) modules      -> kmod/*/*.ko
# KVER defaults to scripts/kver.sh (newest installed Debian *-amd64 kernel with
# headers), KDIR to /lib/modules/$(KVER)/build. Command-line variables such as
# W=1, C=1/2, KCFLAGS=..., V=1 and CC=... reach kbuild unchanged.

ifneq ($(KERNELRELEASE),)
# Read by kbuild only if the Kbuild file were missing: defer to it.
include $(dir $(lastword $(MAKEFILE_LIST)))Kbuild
else

SHELL := /bin/bash
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

XVM_CACHE ?= $(HOME)/.cache/xvm
export XVM_CACHE
# Recursive (lazy) on purpose: evaluated after `deps` may have installed a kernel.
KVER ?= $(shell $(ROOT)/scripts/kver.sh 2>/dev/null)
KDIR ?= /lib/modules/$(KVER)/build
BUILD ?= $(ROOT)/build
PREFIX ?= /usr/local
DESTDIR ?=
HARNESS_DIR ?= $(XVM_CACHE)/linux-source-6.1/tools/testing/selftests

# Userspace: C11 (gnu11), warnings are errors, static (the guest has no libc).
XVM_USER_CFLAGS ?= -std=gnu11 -Wall -Wextra -Werror -O2 -pthread
CPPFLAGS_XVM := -I$(ROOT)/uapi -I$(ROOT)/userspace/lib -isystem $(HARNESS_DIR)
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
VMM_SRCS := $(wildcard $(ROOT)/userspace/vmm/*.c)
VMM_OBJS := $(patsubst $(ROOT)/%.c,$(BUILD)/obj/%.o,$(VMM_SRCS))
VMM := $(BUILD)/bin/xvm-vmm
BENCH_SRCS := $(wildcard $(ROOT)/bench/*.c)
BENCH_OBJS := $(patsubst $(ROOT)/%.c,$(BUILD)/obj/%.o,$(BENCH_SRCS))
BENCHES := $(patsubst $(ROOT)/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
FUZZ_SRCS := $(wildcard $(ROOT)/tools/fuzz/*.c)
FUZZ_OBJS := $(patsubst $(ROOT)/%.c,$(BUILD)/obj/%.o,$(FUZZ_SRCS))
FUZZER := $(BUILD)/bin/xvm-fuzz
# `make fuzz`: seconds of fuzzing, the seed (random unless given), and more
# xvm-fuzz options (FUZZ_ARGS='--avoid fork,unload').
DURATION ?= 300
SEED ?=

# XVM_KUNIT=y: also build kmod/kunit/xvm-kunit.ko, the KUnit tests (only
# if the kernel has CONFIG_KUNIT; the debug lane of scripts/check.sh does).
XVM_KUNIT ?= n
KBUILD_MAKE = $(MAKE) -C $(KDIR) M=$(ROOT) XVM_KUNIT=$(XVM_KUNIT)
SANDBOX = $(ROOT)/scripts/sandbox.sh $(if $(EXTRA),--extra $(EXTRA)) $(SANDBOX_ARGS)
# `make sandbox` runs $(CMD) in the guest (a shell command line).
CMD ?= run-selftests
BENCH_CMD = rc=0; for b in /opt/xvm/bench/*; do [ -x "$$b" ] || continue; \
	n=$$(basename "$$b"); echo "== bench $$n"; \
	"$$b" || { echo "== bench $$n FAILED (exit $$?)"; rc=1; }; done; exit $$rc

.PHONY: all modules userspace libxvm vmm selftests bench-build fuzzer check run \
	sandbox shell bench fuzz install clean deps help
.DEFAULT_GOAL := all

all: modules userspace

help:
	@echo 'make [all]          modules + userspace (into kmod/*/*.ko and build/)'
	@echo 'make modules        kernel modules (KDIR=..., W=1, C=1|2, KCFLAGS=...,'
	@echo '                    XVM_KUNIT=y: also the KUnit test module, never installed)'
	@echo 'make userspace      build/lib/libxvm.a, build/bin/xvm-{vmm,fuzz}, build/selftests/*, build/bench/*'
	@echo 'make check          every check; what CI runs (scripts/check.sh)'
	@echo 'make run            boot a guest running `xvm-vmm run /opt/xvm/examples/demo.conf`'
	@echo "make sandbox CMD='...' [EXTRA=dir]   run a command in a guest (default run-selftests)"
	@echo 'make shell          interactive guest shell (poweroff -f or Ctrl-A X to leave)'
	@echo 'make bench          run every build/bench/* binary in a guest'
	@echo 'make fuzz [DURATION=S] [SEED=N] [FUZZ_ARGS=...]   xvm-fuzz in a guest (debug kernel if cached)'
	@echo 'make install        modules_install (updates/xvm) + xvm-vmm to $$(DESTDIR)$$(PREFIX)/bin'
	@echo 'make clean | deps   remove build outputs | install missing build dependencies'
	@echo 'SANDBOX_ARGS=...    extra scripts/sandbox.sh options (--timeout S, --mem 2G, --kernel IMG...)'

deps:
	@$(ROOT)/scripts/deps.sh

modules: deps
	+@if [ -f $(ROOT)/Kbuild ]; then \
		$(KBUILD_MAKE) modules; \
	else \
		echo "make: no Kbuild file yet, no modules to build"; \
	fi

userspace: deps
	@$(MAKE) --no-print-directory libxvm vmm selftests bench-build fuzzer

libxvm: $(if $(LIB_SRCS),$(LIBXVM))
vmm: $(if $(VMM_SRCS),$(VMM))
bench-build: $(BENCHES)
fuzzer: $(if $(FUZZ_SRCS),$(FUZZER))
selftests: libxvm
	@$(MAKE) --no-print-directory -C $(ROOT)/selftests OUT=$(BUILD)/selftests \
		OBJDIR=$(BUILD)/obj/selftests LIBXVM=$(LIBXVM) HARNESS_DIR=$(HARNESS_DIR) \
		XVM_USER_CFLAGS='$(XVM_USER_CFLAGS)'

$(LIBXVM): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(VMM_OBJS): CPPFLAGS += $(VMM_CPPFLAGS)
$(VMM): $(VMM_OBJS) $(LIBXVM)
	@mkdir -p $(@D)
	$(LINK) -o $@ $(VMM_OBJS) $(LIBXVM) $(VMM_LDFLAGS) $(LDFLAGS)

# The PCI sysfs and VFIO helpers the selftests use (xvm_pci.h).
$(FUZZ_OBJS): CPPFLAGS += -I$(ROOT)/selftests
$(FUZZER): $(FUZZ_OBJS)
	@mkdir -p $(@D)
	$(LINK) -o $@ $(FUZZ_OBJS) $(LDFLAGS_XVM) $(LDFLAGS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(if $(LIB_SRCS),$(LIBXVM))
	@mkdir -p $(@D)
	$(LINK) -o $@ $< $(if $(LIB_SRCS),$(LIBXVM)) $(LDFLAGS_XVM) $(LDFLAGS)

$(BUILD)/obj/%.o: $(ROOT)/%.c
	@mkdir -p $(@D)
	$(COMPILE) -c -o $@ $<

.SECONDARY: $(LIB_OBJS) $(VMM_OBJS) $(BENCH_OBJS) $(FUZZ_OBJS)
-include $(LIB_OBJS:.o=.d) $(VMM_OBJS:.o=.d) $(BENCH_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d)

check:
	@$(ROOT)/scripts/check.sh

run: all
	$(SANDBOX) -- 'xvm-vmm run /opt/xvm/examples/demo.conf'

sandbox: all
	$(SANDBOX) -- "$$XVM_SANDBOX_CMD"
sandbox: export XVM_SANDBOX_CMD = $(value CMD)

bench: all
	$(SANDBOX) -- '$(BENCH_CMD)'

shell: all
	$(SANDBOX) --interactive

# The debug kernel when it is cached (modules rebuilt against it), else the
# Debian one; the guest's kernel log must stay clean (sandbox.sh checks).
fuzz: all
	@$(ROOT)/tools/fuzz/run-guest.sh --duration $(DURATION) $(if $(SEED),--seed $(SEED)) \
		$(if $(FUZZ_ARGS),--fuzz-args '$(FUZZ_ARGS)') $(SANDBOX_ARGS)

# Debian's headers carry no signing key: modules are installed unsigned
# unless MODSIGN=y. Kbuild cannot run depmod without System.map, so we run it
# for a live install (not for a DESTDIR staging install: packagers do that).
MODSIGN ?=
# modules_install installs what the last build listed in modules.order: the
# build done for install never includes the test module.
install: override XVM_KUNIT := n
install: all
	$(KBUILD_MAKE) INSTALL_MOD_DIR=updates/xvm $(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) \
		CONFIG_MODULE_SIG_ALL=$(MODSIGN) modules_install
	@if [ -z "$(DESTDIR)" ]; then \
		rel=$$(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h); \
		echo "  DEPMOD  $$rel"; depmod -a "$$rel"; \
	fi
	install -D -m 0755 $(VMM) $(DESTDIR)$(PREFIX)/bin/xvm-vmm

clean:
	+@if [ -f $(ROOT)/Kbuild ] && [ -d $(KDIR) ]; then $(KBUILD_MAKE) clean; fi
	rm -rf $(BUILD)

endif
