// SPDX-License-Identifier: GPL-2.0
/*
 * failnth_test: a fault-injection sweep of every xvm ioctl path, in the
 * manner of the kernel's iommufd_fail_nth.c.
 *
 * Each path is a small setup (run normally) and an operation (one ioctl, or
 * a few).  The operation runs with /proc/self/task/<tid>/fail-nth = n for
 * n = 1, 2, ...: the n-th fault-injection site it reaches (a slab or page
 * allocation) fails.  Reading fail-nth back gives 0 when that fault was
 * consumed; a non-zero value means the operation reached fewer than n sites,
 * so it ran without an injected failure, must have succeeded, and the sweep
 * of that path is over.
 *
 * When the injected failure made the operation fail, it runs again at once,
 * untouched (the steps it had done are skipped), and must succeed: an error
 * path must leave nothing half done.  Some paths then check that what the
 * operation built works (a vGIC initialises with its vCPUs, a mirrored
 * slot is mapped where it is...).
 *
 * After every try every fd is closed and the baseline must be back: the
 * xvm modules' reference counts, this process's VmLck, the pinned-page
 * balance of /proc/vmstat (nr_foll_pin_acquired - nr_foll_pin_released),
 * and no new splat in the kernel log (WARNING, BUG, KASAN, lockdep...).
 * After the sweep the same operation must work untouched.  kmemleak scans
 * once, after the last path: one scan of the debug guest takes ~25 s under
 * TCG, too long to repeat per path; its backtraces name the allocation.
 *
 * These are kernel-integrity tests: they look for the splats, leaks and
 * lost references of the error paths, not at what the calls do.
 *
 * Without fault injection (no /proc/self/fail-nth: the Debian kernel) the
 * binary exits KSFT_SKIP.  The iommu paths need the edu of XVM_TEST_EDU=BDF,
 * the msix paths the e1000e of XVM_TEST_E1000E=BDF (xvm_pci.h): without
 * them those paths skip and no PCI device is touched.  The last line it prints sums the sweep up:
 *
 *   failnth: P paths, N injected failures, R reports
 *
 * A path may name a WARN that the 6.1 kernel itself prints on a failure
 * xvm handles (the IOMMU core, when a driver cannot re-attach a group's
 * default domain): that splat alone is excused, between marks that the
 * host's log scan honours too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "xvm_harness.h"
#include "xvm_fixture.h"
#include "libxvm.h"
#include "xvm_fault.h"
#include "xvm_mem.h"
#include "xvm_pci.h"

#define PAGE		4096ULL
#define MEM_PAGES	16
#define MEM_SIZE	(MEM_PAGES * PAGE)
#define SLOT_GPA	0x100000ULL
#define SLOT_GPA2	0x200000ULL
#define TD_GPA		0x10000000ULL
#define DB_GPA		0x40000000ULL
#define DB_GPA2		0x40001000ULL
#define MSIX_TABLE_GPA	0xfe000000ULL
#define MSIX_PBA_GPA	0xfe002000ULL
#define GIC_DIST	0x08000000ULL
#define GIC_REDIST	0x080a0000ULL
#define NVEC		5		/* the e1000e's MSI-X vectors */
#define POLL_PORTS	32		/* above the stack array of XVM_POLL */
#define MAX_NTH		2000		/* a path needing more is a bug here */
#define DEBUGFS		"/sys/kernel/debug"

/* In 6.1 a SKIP() in a fixture setup still runs the test body. */
#define NEED_SETUP() do { if (_metadata->skip) return; } while (0)

/* What the paths need besides xvm.ko. */
enum {
	NEED_TESTDEV	= 1 << 0,
	NEED_VGIC	= 1 << 1,
	NEED_IOMMU	= 1 << 2,	/* xvm-iommu and the edu, unbound */
	NEED_MSIX	= 1 << 3,	/* xvm-msix and the e1000e through VFIO */
};

/* The sweep's figures, summed over the test children. */
struct totals {
	unsigned int paths, injected, reports;
};

static struct totals *totals;

/* Resources that live for a whole path (one harness child). */
struct env {
	uint8_t *mem;			/* MEM_SIZE, populated, 4 KiB pages */
	struct vfio_dev vfio;		/* NEED_MSIX */
	int vfio_efd[NVEC];
};

/* One try's objects: every fd here is closed after each try. */
struct ctx {
	struct env *e;
	int xvm, vm, vm2, vcpu, dev, efd;
	uint32_t port, port2;
	uint32_t ports[POLL_PORTS];
	unsigned int step, done;	/* see STEP() */
};

struct path {
	const char *name;
	unsigned int needs;
	int (*setup)(struct ctx *c);	/* not injected: 0, or -1 */
	int (*op)(struct ctx *c);	/* injected; 0 or -1 with errno */
	/*
	 * Optional: the message of a WARN the 6.1 kernel itself prints on a
	 * failure xvm handles.  Such a splat is not counted, and the op runs
	 * between XVM-EXPECT-SPLAT marks so that the host's scan drops it.
	 */
	const char *expect_splat;
	/* Optional, not injected: does what op built work?  0, or -1. */
	int (*check)(struct ctx *c);
};

/*
 * One step of an operation.  After an injected failure the operation runs
 * again, untouched, and must succeed: the steps done before the failure
 * are skipped then, the failed one is retried.
 */
#define STEP(c, expr) do {						\
	if ((c)->step++ >= (c)->done) {					\
		if (expr)						\
			return -1;					\
		(c)->done++;						\
	}								\
} while (0)

/* --------------------------------------------------------------------- */
/* fail-nth                                                               */

static int nth_fd = -1;

/*
 * On top of fault_inject_setup(): let highmem and order-0 page allocations
 * be injected too.  Random faults stay off (probability 0, only
 * make-it-fail tasks, none of which exist).  Returns 0, or -1 when failslab
 * or fail_page_alloc is missing.
 */
static int failnth_fault_setup(void)
{
	static const char *const types[] = { "failslab", "fail_page_alloc" };
	unsigned int i;

	if (fault_inject_setup())
		return -1;
	for (i = 0; i < 2; i++)
		if (fault_knob(types[i], "probability", "0") ||
		    fault_knob(types[i], "task-filter", "Y") ||
		    fault_knob(types[i], "times", "-1") ||
		    fault_knob(types[i], "space", "0"))
			return -1;
	if (fault_knob("fail_page_alloc", "ignore-gfp-highmem", "N") ||
	    fault_knob("fail_page_alloc", "min-order", "0"))
		return -1;
	return 0;
}

/* --------------------------------------------------------------------- */
/* The baseline                                                           */

struct baseline {
	long refcnt[8];		/* /sys/module/xvm*<name>/refcnt, glob order */
	int nmod;
	long vmlck;		/* kB */
	long long pins;		/* nr_foll_pin_acquired - _released */
};

static void baseline_read(struct baseline *b)
{
	glob_t g;
	size_t i;

	memset(b, 0, sizeof(*b));
	if (!glob("/sys/module/xvm*/refcnt", 0, NULL, &g)) {
		for (i = 0; i < g.gl_pathc && i < 8; i++)
			b->refcnt[i] = sysfs_read_long(g.gl_pathv[i]);
		b->nmod = i;
		globfree(&g);
	}
	b->vmlck = locked_kb();
	b->pins = pins();
}

/* What differs from want, or NULL; waits up to 1 s for it to settle. */
static const char *baseline_back(const struct baseline *want,
				 struct baseline *now)
{
	static char why[128];
	int tries, i;

	for (tries = 0; tries < 100; tries++) {
		baseline_read(now);
		why[0] = 0;
		for (i = 0; i < want->nmod; i++)
			if (now->refcnt[i] != want->refcnt[i])
				snprintf(why, sizeof(why),
					 "module %d refcnt %ld, was %ld", i,
					 now->refcnt[i], want->refcnt[i]);
		if (now->nmod != want->nmod)
			snprintf(why, sizeof(why), "%d xvm modules, were %d",
				 now->nmod, want->nmod);
		if (now->vmlck != want->vmlck)
			snprintf(why, sizeof(why), "VmLck %ld kB, was %ld kB",
				 now->vmlck, want->vmlck);
		if (now->pins != want->pins)
			snprintf(why, sizeof(why), "%lld pages pinned, were %lld",
				 now->pins, want->pins);
		if (!why[0])
			return NULL;
		usleep(10000);
	}
	return why;
}

/* --------------------------------------------------------------------- */
/* The kernel log and kmemleak                                            */

static const char *const splat_words[] = {
	"WARNING:", "BUG:", "KASAN", "UBSAN", "Oops", "ODEBUG:",
	"general protection", "circular locking", "inconsistent lock state",
	"recursive locking", "sleeping function called", "Call Trace",
	"unreferenced object", "suspected memory leak",
};

/*
 * Reads what the kernel logged since the last call; returns how many
 * records look like a splat and copies the first ones into out.
 */
static int kmsg_splats(int fd, char *out, size_t len, const char *expected)
{
	char rec[1024];
	size_t used = strlen(out);
	int hits = 0, on = 0, excused = 0;
	unsigned int i;
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) != 0) {
		char *msg;

		if (n < 0) {
			if (errno == EPIPE)	/* overwritten: go on */
				continue;
			break;
		}
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		/* An expected WARN, from its message to its end marker. */
		if (expected && strstr(msg, expected))
			excused = 1;
		if (excused) {
			if (strstr(msg, "---[ end trace"))
				excused = 0;
			continue;
		}
		for (i = 0; i < sizeof(splat_words) / sizeof(*splat_words); i++)
			if (strstr(msg, splat_words[i]))
				break;
		if (i < sizeof(splat_words) / sizeof(*splat_words)) {
			hits++;
			on = 1;
		}
		/* The splat's first line and the dozen after it. */
		if (on && on++ <= 12 && used + strlen(msg) + 1 < len) {
			memcpy(out + used, msg, strlen(msg) + 1);
			used += strlen(msg);
		}
	}
	return hits;
}

/* Scans for leaks: the number of leaked objects, the first lines in out. */
static int kmemleak_reports(char *out, size_t len)
{
	char line[256];
	size_t used = 0;
	int n = 0, lines = 0;
	FILE *f;

	out[0] = 0;
	if (sysfs_write(DEBUGFS "/kmemleak", "scan"))
		return 0;	/* no kmemleak: nothing to say */
	f = fopen(DEBUGFS "/kmemleak", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "unreferenced object"))
			n++;
		if (lines++ < 24 && used + strlen(line) < len) {
			memcpy(out + used, line, strlen(line) + 1);
			used += strlen(line);
		}
	}
	fclose(f);
	if (n)
		sysfs_write(DEBUGFS "/kmemleak", "clear");
	return n;
}

/* --------------------------------------------------------------------- */
/* Setups (not injected)                                                  */

/* The setup of vm_create: /dev/xvm only. */
static int vm_open_only(struct ctx *c)
{
	c->xvm = xvm_open();
	return c->xvm < 0 ? -1 : 0;
}

static int vm_new(struct ctx *c)
{
	return fixture_vm_open(&c->xvm, &c->vm, 0);
}

static int vm_vcpu(struct ctx *c)
{
	if (vm_new(c))
		return -1;
	return fixture_vcpus(c->vm, &c->vcpu, 1);
}

static int vm_slot(struct ctx *c)
{
	if (vm_new(c))
		return -1;
	return xvm_set_memory_region(c->vm, 0, 0, SLOT_GPA, MEM_SIZE,
				     (uintptr_t)c->e->mem);
}

static int vm_port(struct ctx *c)
{
	if (vm_vcpu(c))
		return -1;
	return xvm_evtchn_alloc_unbound(c->vm, &c->port);
}

/* Two VMs, an unbound port in the second (for BIND_INTERDOMAIN). */
static int vm_pair(struct ctx *c)
{
	if (vm_port(c))
		return -1;
	c->vm2 = xvm_create_vm(c->xvm, 0);
	if (c->vm2 < 0)
		return -1;
	return xvm_evtchn_alloc_unbound(c->vm2, &c->port2);
}

/* An interdomain pair: c->port in vm bound to c->port2 in vm2. */
static int vm_bound_pair(struct ctx *c)
{
	uint32_t remote;

	if (vm_pair(c))
		return -1;
	remote = c->port2;
	return xvm_evtchn_bind_interdomain(c->vm, c->vm2, remote, &c->port);
}

static int vm_port_efd(struct ctx *c)
{
	if (vm_port(c))
		return -1;
	c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return c->efd < 0 ? -1 : 0;
}

static int vm_doorbell(struct ctx *c)
{
	if (vm_port(c))
		return -1;
	return xvm_set_doorbell(c->vm, DB_GPA, 0);
}

/* Ports in every state, both bridges, a doorbell: what RESET tears down. */
static int vm_busy(struct ctx *c)
{
	uint32_t p;

	if (vm_bound_pair(c) || xvm_evtchn_bind_vcpu(c->vm, c->port, 0))
		return -1;
	c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->efd < 0 || xvm_evtchn_alloc_unbound(c->vm, &p) ||
	    xvm_evtchn_eventfd(c->vm, p, c->efd, 0) ||
	    xvm_evtchn_eventfd(c->vm, p, c->efd, XVM_EVTCHN_EVENTFD_NOTIFY))
		return -1;
	return xvm_set_doorbell(c->vm, DB_GPA, 0);
}

/* POLL_PORTS ports, the last one pending: XVM_POLL returns at once. */
static int vm_poll_ports(struct ctx *c)
{
	int i;

	if (vm_vcpu(c))
		return -1;
	for (i = 0; i < POLL_PORTS; i++)
		if (xvm_evtchn_alloc_unbound(c->vm, &c->ports[i]))
			return -1;
	return xvm_evtchn_bind_vcpu(c->vm, c->ports[POLL_PORTS - 1], 0) ||
	       xvm_evtchn_send(c->vm, c->ports[POLL_PORTS - 1]) ? -1 : 0;
}

static int vm_testdev(struct ctx *c)
{
	if (vm_vcpu(c))
		return -1;
	c->dev = create_testdev(c->vm);
	return c->dev < 0 ? -1 : 0;
}

static int vm_testdev_region(struct ctx *c)
{
	if (vm_testdev(c))
		return -1;
	return xvm_testdev_add_region(c->dev, 0, TD_GPA, 4096);
}

static int vm_vgic(struct ctx *c)
{
	if (vm_new(c))
		return -1;
	return xvm_create_device(c->vm, XVM_DEV_TYPE_ARM_VGIC_V3, 0, &c->dev);
}

static int gic_addr(int dev, uint64_t type, uint64_t val)
{
	return xvm_set_attr(dev, XVM_DEV_ARM_VGIC_GRP_ADDR, type, &val);
}

static int gic_init(int dev)
{
	return xvm_set_attr(dev, XVM_DEV_ARM_VGIC_GRP_CTRL,
			    XVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
}

/* A vGIC with one vCPU and both regions placed, not initialised. */
static int vm_vgic_placed(struct ctx *c)
{
	if (vm_vgic(c))
		return -1;
	c->vcpu = xvm_create_vcpu(c->vm, 0);
	if (c->vcpu < 0)
		return -1;
	return gic_addr(c->dev, XVM_VGIC_V3_ADDR_TYPE_DIST, GIC_DIST) ||
	       gic_addr(c->dev, XVM_VGIC_V3_ADDR_TYPE_REDIST, GIC_REDIST);
}

static int vm_vgic_running(struct ctx *c)
{
	return vm_vgic_placed(c) || gic_init(c->dev) ? -1 : 0;
}

static int vm_iommu(struct ctx *c)
{
	if (vm_new(c))
		return -1;
	return xvm_create_device(c->vm, XVM_DEV_TYPE_IOMMU, 0, &c->dev);
}

static int iommu_attach(int dev, uint32_t flags)
{
	const struct test_pci *edu = test_pci_edu();
	struct xvm_iommu_attach a = {
		.segment = edu->segment, .bus = edu->bus, .devfn = edu->devfn,
		.flags = flags,
	};

	return xvm_set_attr(dev, XVM_IOMMU_GRP_CTRL, XVM_IOMMU_CTRL_ATTACH, &a);
}

static int iommu_detach(int dev)
{
	return xvm_set_attr(dev, XVM_IOMMU_GRP_CTRL, XVM_IOMMU_CTRL_DETACH,
			    NULL);
}

static int iommu_map_uaddr(struct ctx *c)
{
	struct xvm_iommu_map m = {
		.flags = XVM_IOMMU_MAP_READ | XVM_IOMMU_MAP_WRITE |
			 XVM_IOMMU_MAP_SRC_UADDR,
		.dfn = 0x100, .count = MEM_PAGES, .uaddr = (uintptr_t)c->e->mem,
	};

	return ioctl(c->dev, XVM_IOMMU_MAP, &m);
}

static int vm_iommu_attached(struct ctx *c)
{
	return vm_iommu(c) || iommu_attach(c->dev, 0) ? -1 : 0;
}

static int vm_iommu_slot(struct ctx *c)
{
	if (vm_iommu(c))
		return -1;
	return xvm_set_memory_region(c->vm, 0, 0, SLOT_GPA, MEM_SIZE,
				     (uintptr_t)c->e->mem);
}

static int vm_iommu_slot_attached(struct ctx *c)
{
	return vm_iommu_slot(c) || iommu_attach(c->dev, 0) ? -1 : 0;
}

static int vm_iommu_mapped(struct ctx *c)
{
	return vm_iommu_attached(c) || iommu_map_uaddr(c) ? -1 : 0;
}

/* Two mappings of half the buffer each, at dfn 0x100 and 0x108. */
static int vm_iommu_two_maps(struct ctx *c)
{
	struct xvm_iommu_map m = {
		.flags = XVM_IOMMU_MAP_READ | XVM_IOMMU_MAP_SRC_UADDR,
		.dfn = 0x100, .count = MEM_PAGES / 2,
		.uaddr = (uintptr_t)c->e->mem,
	};

	if (vm_iommu_attached(c) || ioctl(c->dev, XVM_IOMMU_MAP, &m))
		return -1;
	m.dfn += MEM_PAGES / 2;
	m.uaddr += MEM_SIZE / 2;
	return ioctl(c->dev, XVM_IOMMU_MAP, &m);
}

/* Mirror mode, attached, no slot yet. */
static int vm_iommu_mirror(struct ctx *c)
{
	return vm_iommu(c) ||
	       iommu_attach(c->dev, XVM_IOMMU_ATTACH_MIRROR_SLOTS) ? -1 : 0;
}

static int vm_iommu_mirror_slot(struct ctx *c)
{
	if (vm_iommu_mirror(c))
		return -1;
	return xvm_set_memory_region(c->vm, 0, 0, SLOT_GPA, MEM_SIZE,
				     (uintptr_t)c->e->mem);
}

static int vm_msix(struct ctx *c)
{
	if (vm_vcpu(c))
		return -1;
	return xvm_create_device(c->vm, XVM_DEV_TYPE_VFIO_MSIX, 0, &c->dev);
}

static int msix_attach(struct ctx *c)
{
	const struct test_pci *nic = test_pci_e1000e();
	struct xvm_msix_attach a = {
		.group_fd = c->e->vfio.group, .segment = nic->segment,
		.bus = nic->bus, .devfn = nic->devfn,
	};

	return xvm_set_attr(c->dev, XVM_MSIX_GRP_ATTACH, 0, &a);
}

static int vm_msix_attached(struct ctx *c)
{
	return vm_msix(c) || msix_attach(c) ? -1 : 0;
}

static int msix_set_addr(int dev, unsigned int which, uint64_t gpa)
{
	return xvm_set_attr(dev, XVM_MSIX_GRP_ADDR, which, &gpa);
}

static int msix_eventfds(struct ctx *c)
{
	int i;

	for (i = 0; i < NVEC; i++) {
		int32_t fd = c->e->vfio_efd[i];

		if (xvm_set_attr(c->dev, XVM_MSIX_GRP_EVENTFD, i, &fd))
			return -1;
	}
	return 0;
}

/* Attached, on the bus, every vector hooked, a doorbell to deliver to. */
static int vm_msix_live(struct ctx *c)
{
	if (vm_msix_attached(c) || xvm_set_doorbell(c->vm, DB_GPA, 0))
		return -1;
	return msix_set_addr(c->dev, XVM_MSIX_ADDR_TABLE, MSIX_TABLE_GPA) ||
	       msix_set_addr(c->dev, XVM_MSIX_ADDR_PBA, MSIX_PBA_GPA) ||
	       msix_eventfds(c) ? -1 : 0;
}

/* --------------------------------------------------------------------- */
/* Operations (injected)                                                  */

static int op_vm_create(struct ctx *c)
{
	c->vm = xvm_create_vm(c->xvm, 0);
	return c->vm < 0 ? -1 : 0;
}

static int op_vcpu_create(struct ctx *c)
{
	c->vcpu = xvm_create_vcpu(c->vm, 0);
	return c->vcpu < 0 ? -1 : 0;
}

static int op_slot_create(struct ctx *c)
{
	return xvm_set_memory_region(c->vm, 0, 0, SLOT_GPA, MEM_SIZE,
				     (uintptr_t)c->e->mem);
}

static int op_slot_move(struct ctx *c)
{
	return xvm_set_memory_region(c->vm, 0, 0, SLOT_GPA2, MEM_SIZE,
				     (uintptr_t)c->e->mem);
}

static int op_slot_delete(struct ctx *c)
{
	return xvm_set_memory_region(c->vm, 0, 0, SLOT_GPA, 0,
				     (uintptr_t)c->e->mem);
}

static int op_dev_create(struct ctx *c, uint32_t type)
{
	return xvm_create_device(c->vm, type, 0, &c->dev);
}

static int op_testdev_create(struct ctx *c)
{
	return op_dev_create(c, XVM_DEV_TYPE_TEST);
}

static int op_testdev_region(struct ctx *c)
{
	uint64_t v;

	STEP(c, xvm_testdev_add_region(c->dev, 0, TD_GPA, 4096));
	STEP(c, xvm_testdev_add_region(c->dev, 1, TD_GPA + 0x10000, 64));
	STEP(c, xvm_testdev_stat(c->dev, XVM_TESTDEV_STAT_READS, &v));
	return 0;
}

static int op_mmio(struct ctx *c)
{
	uint64_t v;
	int handled = 0;

	STEP(c, xvm_mmio_write(c->vcpu, TD_GPA + 8, 8, 0x1122334455667788ULL,
			       &handled));
	STEP(c, xvm_mmio_read(c->vcpu, TD_GPA + 8, 8, &v, &handled));
	return handled ? 0 : (errno = EIO, -1);
}

static int op_mmio_batch(struct ctx *c)
{
	struct xvm_mmio acc[4] = {
		{ .addr = TD_GPA, .data = 1, .len = 4, .flags = XVM_MMIO_WRITE },
		{ .addr = TD_GPA, .len = 4 },
		{ .addr = TD_GPA + 0x800, .data = 2, .len = 8,
		  .flags = XVM_MMIO_WRITE },
		{ .addr = 0x7000000ULL, .len = 4 },	/* nobody's */
	};
	uint32_t done = 0;

	if (xvm_mmio_batch(c->vcpu, acc, 4, &done))
		return -1;
	return done == 4 ? 0 : (errno = EIO, -1);
}

static int op_vgic_create(struct ctx *c)
{
	return op_dev_create(c, XVM_DEV_TYPE_ARM_VGIC_V3);
}

static int op_vgic_addr(struct ctx *c)
{
	STEP(c, gic_addr(c->dev, XVM_VGIC_V3_ADDR_TYPE_DIST, GIC_DIST));
	STEP(c, gic_addr(c->dev, XVM_VGIC_V3_ADDR_TYPE_REDIST, GIC_REDIST));
	return 0;
}

static int op_vgic_redist_region(struct ctx *c)
{
	STEP(c, gic_addr(c->dev, XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION,
			 XVM_VGIC_V3_REDIST_REGION(2, GIC_REDIST, 0, 0)));
	STEP(c, gic_addr(c->dev, XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION,
			 XVM_VGIC_V3_REDIST_REGION(2, GIC_REDIST + 0x100000,
						   0, 1)));
	return 0;
}

static int op_vgic_nr_irqs(struct ctx *c)
{
	uint32_t n = 128;

	return xvm_set_attr(c->dev, XVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &n);
}

static int op_vgic_init(struct ctx *c)
{
	return gic_init(c->dev);
}

/* A vCPU joining a VM whose vGIC exists (the vGIC's vCPU hook). */
static int op_vgic_vcpu_create(struct ctx *c)
{
	return op_vcpu_create(c);
}

/* Register groups, by attribute and over the bus. */
static int op_vgic_regs(struct ctx *c)
{
	uint32_t v = 0xffffffff;
	uint64_t r;
	int handled = 0;

	STEP(c, xvm_set_attr(c->dev, XVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x100,
			     &v));
	STEP(c, xvm_get_attr(c->dev, XVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x100,
			     &v));
	STEP(c, xvm_set_attr(c->dev, XVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
			     XVM_VGIC_V3_REG_ATTR(0, 0x10100), &v));
	STEP(c, xvm_get_attr(c->dev, XVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
			     XVM_VGIC_V3_REG_ATTR(0, 0x10100), &v));
	STEP(c, xvm_mmio_write(c->vcpu, GIC_DIST, 4, 3, &handled));
	STEP(c, xvm_mmio_read(c->vcpu, GIC_REDIST + 8, 8, &r, &handled));
	return handled ? 0 : (errno = EIO, -1);
}

static int op_iommu_create(struct ctx *c)
{
	return op_dev_create(c, XVM_DEV_TYPE_IOMMU);
}

static int op_iommu_attach(struct ctx *c)
{
	return iommu_attach(c->dev, 0);
}

static int op_iommu_attach_mirror(struct ctx *c)
{
	return iommu_attach(c->dev, XVM_IOMMU_ATTACH_MIRROR_SLOTS);
}

static int op_iommu_map_gfn(struct ctx *c)
{
	struct xvm_iommu_map m = {
		.flags = XVM_IOMMU_MAP_READ | XVM_IOMMU_MAP_SRC_GFN,
		.dfn = 0x200, .count = MEM_PAGES, .gfn = SLOT_GPA / PAGE,
	};

	return ioctl(c->dev, XVM_IOMMU_MAP, &m);
}

static int op_iommu_unmap(struct ctx *c)
{
	struct xvm_iommu_unmap u = { .dfn = 0x100, .count = MEM_PAGES / 2 };
	struct xvm_iommu_unmap all = { .flags = XVM_IOMMU_UNMAP_ALL };

	STEP(c, ioctl(c->dev, XVM_IOMMU_UNMAP, &u));
	STEP(c, ioctl(c->dev, XVM_IOMMU_UNMAP, &all));
	return 0;
}

/* The snapshot allocates a kernel buffer for the records. */
static int op_iommu_get_state(struct ctx *c)
{
	struct xvm_iommu_map maps[4];
	struct xvm_iommu_get_state st = {
		.version = XVM_IOMMU_STATE_VERSION,
		.count = 4, .maps = (uintptr_t)maps,
	};

	return xvm_iommu_get_state(c->dev, &st) || st.count != 2 ? -1 : 0;
}

static int op_iommu_detach(struct ctx *c)
{
	return iommu_detach(c->dev);
}

static int op_close_dev(struct ctx *c)
{
	int r = close(c->dev);

	c->dev = -1;
	return r;
}

static int op_msix_create(struct ctx *c)
{
	return op_dev_create(c, XVM_DEV_TYPE_VFIO_MSIX);
}

static int op_msix_attach(struct ctx *c)
{
	return msix_attach(c);
}

static int op_msix_addr(struct ctx *c)
{
	STEP(c, msix_set_addr(c->dev, XVM_MSIX_ADDR_TABLE, MSIX_TABLE_GPA));
	STEP(c, msix_set_addr(c->dev, XVM_MSIX_ADDR_PBA, MSIX_PBA_GPA));
	STEP(c, msix_set_addr(c->dev, XVM_MSIX_ADDR_PBA,
			      MSIX_PBA_GPA + 0x1000));
	return 0;
}

static int op_msix_eventfd(struct ctx *c)
{
	int32_t none = -1;
	int i;

	for (i = 0; i < NVEC; i++) {
		int32_t fd = c->e->vfio_efd[i];

		STEP(c, xvm_set_attr(c->dev, XVM_MSIX_GRP_EVENTFD, i, &fd));
	}
	STEP(c, xvm_set_attr(c->dev, XVM_MSIX_GRP_EVENTFD, 0, &none));
	return 0;
}

static int op_evtchn_alloc(struct ctx *c)
{
	return xvm_evtchn_alloc_unbound(c->vm, &c->port);
}

static int op_evtchn_bind_vcpu(struct ctx *c)
{
	return xvm_evtchn_bind_vcpu(c->vm, c->port, 0);
}

static int op_evtchn_bind_interdomain(struct ctx *c)
{
	return xvm_evtchn_bind_interdomain(c->vm, c->vm2, c->port2, &c->port);
}

static int op_evtchn_close(struct ctx *c)
{
	return xvm_evtchn_close(c->vm, c->port);
}

static int op_evtchn_mask(struct ctx *c)
{
	uint32_t state, status;

	STEP(c, xvm_evtchn_mask(c->vm, c->port));
	STEP(c, xvm_evtchn_send(c->vm, c->port));
	STEP(c, xvm_evtchn_unmask(c->vm, c->port));
	STEP(c, xvm_evtchn_status(c->vm, c->port, &state, &status));
	STEP(c, xvm_evtchn_clear(c->vm, c->port));
	return 0;
}

static int op_evtchn_eventfd_in(struct ctx *c)
{
	STEP(c, xvm_evtchn_eventfd(c->vm, c->port, c->efd, 0));
	STEP(c, eventfd_write(c->efd, 1));
	STEP(c, xvm_evtchn_eventfd(c->vm, c->port, c->efd,
				   XVM_EVTCHN_EVENTFD_DEASSIGN));
	return 0;
}

static int op_evtchn_eventfd_out(struct ctx *c)
{
	uint32_t f = XVM_EVTCHN_EVENTFD_NOTIFY;

	STEP(c, xvm_evtchn_eventfd(c->vm, c->port, c->efd, f));
	STEP(c, xvm_evtchn_send(c->vm, c->port));
	STEP(c, xvm_evtchn_eventfd(c->vm, c->port, c->efd,
				   f | XVM_EVTCHN_EVENTFD_DEASSIGN));
	return 0;
}

static int op_doorbell_set(struct ctx *c)
{
	return xvm_set_doorbell(c->vm, DB_GPA, 0);
}

static int op_doorbell_move(struct ctx *c)
{
	return xvm_set_doorbell(c->vm, DB_GPA2, 0);
}

static int op_doorbell_disable(struct ctx *c)
{
	return xvm_set_doorbell(c->vm, 0, XVM_EVTCHN_DOORBELL_DISABLE);
}

static int op_evtchn_reset(struct ctx *c)
{
	return xvm_evtchn_reset(c->vm);
}

static int op_poll(struct ctx *c)
{
	uint32_t port = 0;
	int r = xvm_poll(c->vcpu, c->ports, POLL_PORTS, 0, 0, &port);

	return r == 1 ? 0 : (r == 0 ? (errno = ETIMEDOUT, -1) : -1);
}

/* XVM_GET_STATS_FD on the VM (into dev) and on the vCPU (into efd). */
static int op_stats_fd(struct ctx *c)
{
	STEP(c, (c->dev = xvm_get_stats_fd(c->vm)) < 0);
	STEP(c, (c->efd = xvm_get_stats_fd(c->vcpu)) < 0);
	return 0;
}

/*
 * XVM_CLAIM_OWNER of a VM with a slot, granted to this process itself:
 * the claim allocates before it looks at the grant.
 */
static int vm_slot_granted(struct ctx *c)
{
	struct xvm_owner_grant g = { .pid = getpid() };

	if (vm_slot(c))
		return -1;
	return ioctl(c->vm, XVM_GRANT_OWNER, &g);
}

static int op_owner_claim(struct ctx *c)
{
	return ioctl(c->vm, XVM_CLAIM_OWNER, 0);
}

/* The VM's last reference goes with everything still in it. */
static int op_close_vm(struct ctx *c)
{
	close_fd(&c->vcpu);
	close_fd(&c->dev);
	close_fd(&c->vm2);
	return close(c->vm) ? -1 : (c->vm = -1, 0);
}

/* --------------------------------------------------------------------- */
/* Checks (not injected): what the operation built works                  */

/* The vGIC initialises with the VM's vCPUs and serves their frames. */
static int check_vgic_vcpus(struct ctx *c)
{
	uint64_t typer = 0;
	uint32_t v;
	int handled = 0;

	if (c->vcpu < 0)
		c->vcpu = xvm_create_vcpu(c->vm, 0);
	if (c->vcpu < 0)
		return -1;
	gic_addr(c->dev, XVM_VGIC_V3_ADDR_TYPE_DIST, GIC_DIST);
	gic_addr(c->dev, XVM_VGIC_V3_ADDR_TYPE_REDIST, GIC_REDIST);
	if (gic_init(c->dev) ||
	    xvm_get_attr(c->dev, XVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
			 XVM_VGIC_V3_REG_ATTR(0, 0x8), &v) ||
	    xvm_mmio_read(c->vcpu, GIC_REDIST + 8, 8, &typer, &handled))
		return -1;
	return handled ? 0 : (errno = EIO, -1);
}

/* What the IOMMU does with dfn: XVM_IOMMU_XLATE_* flags, or -1. */
static long iommu_xlate(struct ctx *c, uint64_t dfn)
{
	struct xvm_iommu_translate t = { .dfn = dfn };

	if (ioctl(c->dev, XVM_IOMMU_TRANSLATE, &t))
		return -1;
	return t.flags;
}

/* The slot's frames are mirrored where the slot now is, and only there. */
static int check_mirror_at(struct ctx *c, uint64_t gpa, uint64_t gone)
{
	long here = iommu_xlate(c, gpa / PAGE + MEM_PAGES - 1);
	long there = gone ? iommu_xlate(c, gone / PAGE) : 0;

	if (here < 0 || there < 0)
		return -1;
	if (!(here & XVM_IOMMU_XLATE_SLOT) || (there & XVM_IOMMU_XLATE_MAPPED))
		return errno = EIO, -1;
	return 0;
}

static int check_mirror_created(struct ctx *c)
{
	return check_mirror_at(c, SLOT_GPA, 0);
}

static int check_mirror_moved(struct ctx *c)
{
	return check_mirror_at(c, SLOT_GPA2, SLOT_GPA);
}

static int check_mirror_deleted(struct ctx *c)
{
	long f = iommu_xlate(c, SLOT_GPA / PAGE);

	if (f < 0)
		return -1;
	return f & XVM_IOMMU_XLATE_MAPPED ? (errno = EIO, -1) : 0;
}

/* An attached domain maps and unmaps. */
static int check_iommu_maps(struct ctx *c)
{
	struct xvm_iommu_unmap all = { .flags = XVM_IOMMU_UNMAP_ALL };

	return iommu_map_uaddr(c) || ioctl(c->dev, XVM_IOMMU_UNMAP, &all);
}

/*
 * After a detach, whatever failed in it, the group is usable: a new
 * device attaches it again, and nothing is kept (GROUPS_KEPT).
 */
static int check_group_usable(struct ctx *c)
{
	uint64_t kept = 1;
	int dev = -1, r;

	if (xvm_create_device(c->vm, XVM_DEV_TYPE_IOMMU, 0, &dev))
		return -1;
	r = iommu_attach(dev, 0) || iommu_detach(dev) ||
	    xvm_get_attr(dev, XVM_IOMMU_GRP_INFO, XVM_IOMMU_INFO_GROUPS_KEPT,
			 &kept) ? -1 : 0;
	if (!r && kept)
		errno = EBUSY, r = -1;
	close(dev);
	return r;
}

/* An attached interposer knows its device and goes on the bus. */
static int check_msix_attached(struct ctx *c)
{
	struct xvm_msix_info info;

	if (xvm_get_attr(c->dev, XVM_MSIX_GRP_INFO, 0, &info))
		return -1;
	if (info.nr_vectors != NVEC)
		return errno = EIO, -1;
	return msix_set_addr(c->dev, XVM_MSIX_ADDR_TABLE, MSIX_TABLE_GPA);
}

/* A send on the bound port raises the remote end. */
static int check_interdomain(struct ctx *c)
{
	uint32_t status = 0;

	if (xvm_evtchn_send(c->vm, c->port) ||
	    xvm_evtchn_status(c->vm2, c->port2, NULL, &status))
		return -1;
	return status & XVM_EVTCHN_STATUS_PENDING ? 0 : (errno = EIO, -1);
}

/* --------------------------------------------------------------------- */
/* The paths                                                              */

/*
 * An allocation failure while an xvm-iommu device detaches (DETACH, or
 * the close of its fd) can make the IOMMU driver fail to re-attach the
 * group's default domain; the 6.1 core WARNs by itself, xvm retries and
 * never frees a domain the group still uses (kmod/iommu/iommu.c).
 */
static const struct path paths[] = {
	{ "vm_create", 0, vm_open_only, op_vm_create, NULL, NULL },
	{ "vcpu_create", 0, vm_new, op_vcpu_create, NULL, NULL },
	{ "memslot_create", 0, vm_new, op_slot_create, NULL, NULL },
	{ "memslot_move", 0, vm_slot, op_slot_move, NULL, NULL },
	{ "memslot_delete", 0, vm_slot, op_slot_delete, NULL, NULL },
	{ "testdev_create", NEED_TESTDEV, vm_new, op_testdev_create, NULL, NULL },
	{ "testdev_region", NEED_TESTDEV, vm_testdev, op_testdev_region, NULL, NULL },
	{ "mmio", NEED_TESTDEV, vm_testdev_region, op_mmio, NULL, NULL },
	{ "mmio_batch", NEED_TESTDEV, vm_testdev_region, op_mmio_batch, NULL, NULL },
	{ "vgic_create", NEED_VGIC, vm_new, op_vgic_create, NULL, NULL },
	{ "vgic_vcpu_create", NEED_VGIC, vm_vgic, op_vgic_vcpu_create, NULL,
	  check_vgic_vcpus },
	{ "vgic_addr", NEED_VGIC, vm_vgic, op_vgic_addr, NULL,
	  check_vgic_vcpus },
	{ "vgic_redist_region", NEED_VGIC, vm_vgic, op_vgic_redist_region, NULL, NULL },
	{ "vgic_nr_irqs", NEED_VGIC, vm_vgic, op_vgic_nr_irqs, NULL, NULL },
	{ "vgic_init", NEED_VGIC, vm_vgic_placed, op_vgic_init, NULL, NULL },
	{ "vgic_regs", NEED_VGIC, vm_vgic_running, op_vgic_regs, NULL, NULL },
	{ "vgic_close_vm", NEED_VGIC, vm_vgic_running, op_close_vm, NULL, NULL },
	{ "iommu_create", NEED_IOMMU, vm_new, op_iommu_create, NULL, NULL },
	{ "iommu_attach", NEED_IOMMU, vm_iommu, op_iommu_attach, NULL,
	  check_iommu_maps },
	{ "iommu_attach_mirror", NEED_IOMMU, vm_iommu_slot,
	  op_iommu_attach_mirror, NULL,
	  check_mirror_created },
	{ "iommu_map_uaddr", NEED_IOMMU, vm_iommu_attached, iommu_map_uaddr, NULL, NULL },
	{ "iommu_map_gfn", NEED_IOMMU, vm_iommu_slot_attached,
	  op_iommu_map_gfn, NULL, NULL },
	{ "iommu_unmap", NEED_IOMMU, vm_iommu_two_maps, op_iommu_unmap, NULL, NULL },
	{ "iommu_get_state", NEED_IOMMU, vm_iommu_two_maps, op_iommu_get_state,
	  NULL, NULL },
	{ "iommu_mirror_slot_create", NEED_IOMMU, vm_iommu_mirror,
	  op_slot_create, NULL,
	  check_mirror_created },
	{ "iommu_mirror_slot_move", NEED_IOMMU, vm_iommu_mirror_slot,
	  op_slot_move, NULL,
	  check_mirror_moved },
	{ "iommu_mirror_slot_delete", NEED_IOMMU, vm_iommu_mirror_slot,
	  op_slot_delete, NULL,
	  check_mirror_deleted },
	{ "iommu_detach", NEED_IOMMU, vm_iommu_mapped, op_iommu_detach,
	  XVM_CORE_REATTACH_SPLAT, check_group_usable },
	{ "iommu_detach_close", NEED_IOMMU, vm_iommu_mapped, op_close_dev,
	  XVM_CORE_REATTACH_SPLAT, check_group_usable },
	{ "msix_create", NEED_MSIX, vm_vcpu, op_msix_create, NULL, NULL },
	{ "msix_attach", NEED_MSIX, vm_msix, op_msix_attach, NULL,
	  check_msix_attached },
	{ "msix_addr", NEED_MSIX, vm_msix_attached, op_msix_addr, NULL, NULL },
	{ "msix_eventfd", NEED_MSIX, vm_msix_attached, op_msix_eventfd, NULL, NULL },
	{ "msix_close", NEED_MSIX, vm_msix_live, op_close_dev, NULL, NULL },
	{ "evtchn_alloc", 0, vm_new, op_evtchn_alloc, NULL, NULL },
	{ "evtchn_bind_vcpu", 0, vm_port, op_evtchn_bind_vcpu, NULL, NULL },
	{ "evtchn_bind_interdomain", 0, vm_pair, op_evtchn_bind_interdomain, NULL,
	  check_interdomain },
	{ "evtchn_close", 0, vm_bound_pair, op_evtchn_close, NULL, NULL },
	{ "evtchn_mask_unmask", 0, vm_port, op_evtchn_mask, NULL, NULL },
	{ "evtchn_eventfd_in", 0, vm_port_efd, op_evtchn_eventfd_in, NULL, NULL },
	{ "evtchn_eventfd_out", 0, vm_port_efd, op_evtchn_eventfd_out, NULL, NULL },
	{ "evtchn_doorbell_set", 0, vm_port, op_doorbell_set, NULL, NULL },
	{ "evtchn_doorbell_move", 0, vm_doorbell, op_doorbell_move, NULL, NULL },
	{ "evtchn_doorbell_disable", 0, vm_doorbell, op_doorbell_disable, NULL, NULL },
	{ "evtchn_reset", 0, vm_busy, op_evtchn_reset, NULL, NULL },
	{ "evtchn_close_vm", 0, vm_busy, op_close_vm, NULL, NULL },
	{ "poll", 0, vm_poll_ports, op_poll, NULL, NULL },
	{ "stats_fd", 0, vm_vcpu, op_stats_fd, NULL, NULL },
	{ "owner_claim", 0, vm_slot_granted, op_owner_claim, NULL, NULL },
};

#define NR_PATHS	(sizeof(paths) / sizeof(paths[0]))

/* --------------------------------------------------------------------- */
/* The sweep                                                              */

static void ctx_init(struct ctx *c, struct env *e)
{
	memset(c, 0, sizeof(*c));
	c->e = e;
	c->xvm = c->vm = c->vm2 = c->vcpu = c->dev = c->efd = -1;
}

static void ctx_close(struct ctx *c)
{
	close_fd(&c->dev);
	close_fd(&c->vcpu);
	close_fd(&c->vm2);
	close_fd(&c->vm);
	close_fd(&c->xvm);
	close_fd(&c->efd);
}

static int module_loaded(const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return access(path, F_OK) == 0;
}

/* Why the path cannot run here, or NULL. */
static const char *missing(unsigned int needs)
{
	if (!module_loaded("xvm"))
		return "xvm.ko not loaded";
	if ((needs & NEED_TESTDEV) && !module_loaded("xvm_testdev"))
		return "xvm-testdev not loaded";
	if ((needs & NEED_VGIC) && !module_loaded("xvm_vgic"))
		return "xvm-vgic not loaded";
	if ((needs & NEED_IOMMU) && !test_pci_edu()->ok)
		return test_pci_edu()->why;
	if ((needs & NEED_IOMMU) && (!module_loaded("xvm_iommu") ||
				     iommu_group_of(EDU_BDF) < 0))
		return "no xvm-iommu, or no edu in an IOMMU group";
	if ((needs & NEED_MSIX) && !test_pci_e1000e()->ok)
		return test_pci_e1000e()->why;
	if ((needs & NEED_MSIX) && (!module_loaded("xvm_msix") ||
				    access("/dev/vfio/vfio", F_OK)))
		return "no xvm-msix or VFIO";
	return NULL;
}

FIXTURE(failnth) {
	struct env e;
	int kmsg;
	const char *skip;
};

FIXTURE_VARIANT(failnth) {
	const struct path *path;
};

FIXTURE_SETUP(failnth)
{
	const struct path *p = variant->path;
	struct env *e = &self->e;
	int i;

	memset(e, 0, sizeof(*e));
	e->vfio.container = e->vfio.group = e->vfio.device = -1;
	for (i = 0; i < NVEC; i++)
		e->vfio_efd[i] = -1;
	self->kmsg = -1;
	self->skip = missing(p->needs);
	if (self->skip)
		SKIP(return, "%s", self->skip);

	nth_fd = fail_nth_open();
	ASSERT_LE(0, nth_fd) TH_LOG("fail-nth: %s", strerror(errno));
	e->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, e->mem);
	madvise(e->mem, MEM_SIZE, MADV_NOHUGEPAGE);
	memset(e->mem, 0x5a, MEM_SIZE);
	if (p->needs & NEED_IOMMU)
		pci_reset_binding(EDU_BDF);
	if (p->needs & NEED_MSIX) {
		for (i = 0; i < NVEC; i++)
			e->vfio_efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_OK(vfio_dev_open(&e->vfio, E1000E_BDF));
		ASSERT_OK(vfio_dev_set_irqs(&e->vfio, 0, NVEC, e->vfio_efd));
	}
	self->kmsg = kmsg_open();
	ASSERT_LE(0, self->kmsg);
}

FIXTURE_TEARDOWN(failnth)
{
	struct env *e = &self->e;
	int i;

	if (nth_fd >= 0)
		fail_nth_set(nth_fd, 0);
	if (e->vfio.group >= 0 || e->vfio.device >= 0) {
		vfio_dev_close(&e->vfio);
		pci_reset_binding(E1000E_BDF);
	}
	for (i = 0; i < NVEC; i++)
		close_fd(&e->vfio_efd[i]);
	if (e->mem)
		munmap(e->mem, MEM_SIZE);
	close_fd(&self->kmsg);
	if (variant->path->needs & NEED_IOMMU)
		pci_reset_binding(EDU_BDF);
}

/* A report: counted in the totals, then the test fails. */
#define REPORT(cond, fmt, ...) do {					\
	if (cond) {							\
		__atomic_add_fetch(&totals->reports, 1, __ATOMIC_SEQ_CST);\
		ASSERT_FALSE(cond) TH_LOG("%s: " fmt, p->name,		\
					  ##__VA_ARGS__);		\
	}								\
} while (0)

/* One try: setup, the operation with fail-nth = n (0: none), cleanup. */
#define TRY(n, r, err, left) do {					\
	ctx_init(&c, &self->e);						\
	ASSERT_EQ(0, p->setup(&c))					\
		TH_LOG("%s: setup: %s", p->name, strerror(errno));	\
	if (p->expect_splat)						\
		expect_splat_begin(p->expect_splat);			\
	if (n)								\
		ASSERT_OK(fail_nth_set(nth_fd, n));			\
	errno = 0;							\
	c.step = c.done = 0;						\
	r = p->op(&c);							\
	err = errno;							\
	left = (n) ? fail_nth_disarm(nth_fd) : 1;			\
	if (p->expect_splat)						\
		expect_splat_end();					\
	retry = r ? (c.step = 0, p->op(&c)) : 0;			\
	retry_err = errno;						\
	checked = !retry && p->check ? p->check(&c) : 0;		\
	check_err = errno;						\
	ctx_close(&c);							\
} while (0)

/* What the fail-nth sweep of a path saw: for the summary line. */
struct sweep_counts {
	unsigned int injected, failed, other;
	int last_err;
};

/*
 * n = 1, 2, ...: fail the n-th fault-injection site, until a run reaches
 * none; each run's retry, check, kernel log and baseline must be clean.
 */
static void sweep_nth(struct __test_metadata *_metadata,
		      FIXTURE_DATA(failnth) *self, const struct path *p,
		      const struct baseline *base, struct sweep_counts *k)
{
	int r, err, splats, retry, retry_err, checked, check_err;
	struct baseline now;
	char log[4096] = "";
	const char *why;
	unsigned int n;
	struct ctx c;
	long left;

	for (n = 1; ; n++) {
		REPORT(n >= MAX_NTH, "still failing at n = %u", n);
		TRY(n, r, err, left);
		REPORT(left < 0, "fail-nth read back failed");
		REPORT(retry, "n = %u (%s): the retry fails: %s", n,
		       strerror(err), strerror(retry_err));
		REPORT(checked, "n = %u (op %s): the check fails: %s", n,
		       r ? strerror(err) : "succeeded", strerror(check_err));
		splats = kmsg_splats(self->kmsg, log, sizeof(log),
				     p->expect_splat);
		REPORT(splats, "n = %u: %d splat(s) in the kernel log:\n%s",
		       n, splats, log);
		why = baseline_back(base, &now);
		REPORT(why, "n = %u (op %s): baseline not restored: %s", n,
		       r ? strerror(err) : "succeeded", why);
		if (left)
			break;
		k->injected++;
		if (r) {
			k->failed++;
			if (err != ENOMEM) {
				k->other++;
				k->last_err = err;
			}
		}
	}
	REPORT(r, "n = %u, no fault injected, fails: %s", n, strerror(err));
}

TEST_F_TIMEOUT(failnth, sweep, 280)
{
	const struct path *p = variant->path;
	struct sweep_counts k = { 0 };
	struct baseline base, now;
	char log[4096] = "";
	const char *why;
	struct ctx c;
	int r, err, splats, retry, retry_err, checked, check_err;
	uint64_t t0 = now_ns(), t_sweep;
	long left;

	if (self->skip)
		return;
	NEED_SETUP();

	/* One untouched run first: the baseline is taken with warm caches. */
	TRY(0, r, err, left);
	(void)left;		/* TRY() sets them, only sweep_nth() reads them */
	(void)retry_err;
	REPORT(r, "fails without fault injection: %s", strerror(err));
	REPORT(checked, "without fault injection, the check fails: %s",
	       strerror(check_err));
	baseline_read(&base);
	REPORT(base.vmlck < 0 || base.pins < 0, "cannot read the baseline");

	sweep_nth(_metadata, self, p, &base, &k);

	/* And it still works untouched. */
	TRY(0, r, err, left);
	REPORT(r, "after the sweep, fails untouched: %s", strerror(err));
	REPORT(checked, "after the sweep, the check fails: %s",
	       strerror(check_err));
	why = baseline_back(&base, &now);
	REPORT(why, "after the sweep: baseline not restored: %s", why);

	t_sweep = now_ns() - t0;
	splats = kmsg_splats(self->kmsg, log, sizeof(log), p->expect_splat);
	REPORT(splats, "%d splat(s) in the kernel log:\n%s", splats, log);

	__atomic_add_fetch(&totals->paths, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&totals->injected, k.injected, __ATOMIC_SEQ_CST);
	ksft_print_msg("failnth: %s: %u injected, %u calls failed (%u not ENOMEM%s%s), %llu ms\n",
		       p->name, k.injected, k.failed, k.other,
		       k.other ? ", last " : "",
		       k.other ? strerror(k.last_err) : "",
		       (unsigned long long)(t_sweep / 1000000));
}

/*
 * Leaks are reported once they are 5 s old: wait that long after the last
 * path, then scan.  A fixture of its own, declared after failnth, so that
 * it runs last.
 */
FIXTURE(leaks) {
	int unused;
};

FIXTURE_SETUP(leaks)
{
}

FIXTURE_TEARDOWN(leaks)
{
}

TEST_F_TIMEOUT(leaks, last_scan, 120)
{
	char log[4096];
	int leaks;

	if (access(DEBUGFS "/kmemleak", F_OK))
		SKIP(return, "no kmemleak");
	sleep(6);
	leaks = kmemleak_reports(log, sizeof(log));
	if (leaks)
		__atomic_add_fetch(&totals->reports, 1, __ATOMIC_SEQ_CST);
	EXPECT_EQ(0, leaks) TH_LOG("kmemleak: %d leaked object(s):\n%s",
				   leaks, log);
}

static void print_totals(void)
{
	printf("failnth: %u paths, %u injected failures, %u reports\n",
	       totals->paths, totals->injected, totals->reports);
	fflush(stdout);
}

/* One variant per path, registered before main (as FIXTURE_VARIANT_ADD). */
static struct __fixture_variant_metadata variants[NR_PATHS];
static FIXTURE_VARIANT(failnth) variant_data[NR_PATHS];

/* $FAILNTH_PATHS, if set: a comma-separated list of the paths to run. */
static bool path_selected(const char *name)
{
	const char *list = getenv("FAILNTH_PATHS");
	size_t len = strlen(name);
	const char *s;

	if (!list || !*list)
		return true;
	for (s = list; (s = strstr(s, name)); s += len)
		if ((s == list || s[-1] == ',') &&
		    (s[len] == ',' || !s[len]))
			return true;
	return false;
}

static void register_paths(void)
{
	unsigned int i;

	/* Backward constructor order prepends: register backwards then. */
	for (i = 0; i < NR_PATHS; i++) {
		unsigned int k = __constructor_order ==
				 _CONSTRUCTOR_ORDER_BACKWARD ?
				 NR_PATHS - 1 - i : i;

		if (!path_selected(paths[k].name))
			continue;
		variant_data[k].path = &paths[k];
		variants[k].name = paths[k].name;
		variants[k].data = &variant_data[k];
		__register_fixture_variant(&_failnth_fixture_object,
					   &variants[k]);
	}
}

int main(int argc, char **argv)
{
	if (access("/proc/self/fail-nth", F_OK)) {
		printf("1..0 # SKIP no /proc/self/fail-nth (CONFIG_FAULT_INJECTION off)\n");
		return KSFT_SKIP;
	}
	if (failnth_fault_setup()) {
		printf("1..0 # SKIP no failslab/fail_page_alloc in " DEBUGFS "\n");
		return KSFT_SKIP;
	}
	totals = mmap(NULL, sizeof(*totals), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (totals == MAP_FAILED)
		return KSFT_FAIL;
	register_paths();
	atexit(print_totals);
	return test_harness_run(argc, argv);
}
