// SPDX-License-Identifier: GPL-2.0
/*
 * vgic_test: the GICv3 device type (XVM_DEV_TYPE_ARM_VGIC_V3, xvm-vgic.ko).
 *
 * Covers docs/api.md section 7.2 rule by rule, in its order: attribute
 * groups and ENXIO/EFAULT, the distributor and legacy redistributor
 * addresses, redistributor regions (KVM's encoding, every check in order,
 * GET by index, ENOENT), vCPUs created before and after the regions,
 * XVM_GICR_TYPER and its Last bit over several layouts, NR_IRQS, INIT and the
 * first-run check, register access widths and reserved space, and
 * end-to-end interrupt flows (line, MSI through XVM_GICD_SETSPI_NSR on the bus,
 * SGIs, priority masking, notification through an event port and
 * XVM_POLL).  Ports KVM's tools/testing/selftests/kvm/aarch64/vgic_init.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>

#include "xvm_harness.h"
#include "xvm_fixture.h"
#include "libxvm.h"
#include <linux/xvm-gicv3.h>

#define GRP_ADDR	XVM_DEV_ARM_VGIC_GRP_ADDR
#define GRP_DIST	XVM_DEV_ARM_VGIC_GRP_DIST_REGS
#define GRP_NR_IRQS	XVM_DEV_ARM_VGIC_GRP_NR_IRQS
#define GRP_CTRL	XVM_DEV_ARM_VGIC_GRP_CTRL
#define GRP_REDIST	XVM_DEV_ARM_VGIC_GRP_REDIST_REGS
#define A_DIST		XVM_VGIC_V3_ADDR_TYPE_DIST
#define A_REDIST	XVM_VGIC_V3_ADDR_TYPE_REDIST
#define A_REGION	XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION
#define REGION		XVM_VGIC_V3_REDIST_REGION
#define RD_SIZE		XVM_VGIC_V3_REDIST_SIZE
#define UNDEF		(~0ULL)

#define PHYS_BITS	40
#define PHYS_SIZE	(1ULL << PHYS_BITS)
#define DIST		0x08000000ULL	/* QEMU virt's layout */
#define REDIST		0x080a0000ULL
#define MAX_VCPUS	520

/* GIC registers */

/* A VM with a vGIC and its vCPUs (fds and ids in creation order). */
struct gic {
	int xvm, vm, dev;
	int nr;
	int fd[MAX_VCPUS];
	uint32_t id[MAX_VCPUS];
	uint32_t port[MAX_VCPUS];
};

static struct gic *gic_new(void)
{
	struct gic *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	fixture_vm_open(&g->xvm, &g->vm, PHYS_BITS);
	g->dev = -1;
	return g;
}

static int gic_device(struct gic *g)
{
	return fixture_gic(g->vm, &g->dev);
}

/* Creates vCPU id; returns its fd or -1. */
static int gic_vcpu(struct gic *g, uint32_t id)
{
	int fd = xvm_create_vcpu(g->vm, id);

	if (fd >= 0) {
		g->fd[g->nr] = fd;
		g->id[g->nr++] = id;
	}
	return fd;
}

static void gic_free(struct gic *g)
{
	int i;

	for (i = 0; i < g->nr; i++)
		close(g->fd[i]);
	if (g->dev >= 0)
		close(g->dev);
	close(g->vm);
	close(g->xvm);
	free(g);
}

static uint32_t aff(uint32_t id)
{
	return (id & 0xf) | (((id >> 4) & 0xff) << 8) |
	       (((id >> 12) & 0xff) << 16);
}

/* The short names this file's tests use for the shared GIC setters. */
#define set_addr	fixture_gic_addr
#define set_region	fixture_gic_region
#define set_nr_irqs	fixture_gic_nr_irqs
#define gic_init	fixture_gic_init

/* REDIST_REGS read of vCPU id's register at off; ~0 on error. */
static uint32_t rd_reg(int dev, uint32_t id, uint32_t off)
{
	uint32_t v = 0;

	if (xvm_get_attr(dev, GRP_REDIST, XVM_VGIC_V3_REG_ATTR(aff(id), off),
			 &v))
		return ~0U;
	return v;
}

static uint32_t dist_reg(int dev, uint32_t off)
{
	uint32_t v = 0;

	if (xvm_get_attr(dev, GRP_DIST, off, &v))
		return ~0U;
	return v;
}

/* One bus read: the value, or ~0 if the access was not handled. */
static uint64_t rd(int vcpu, uint64_t addr, uint32_t len)
{
	uint64_t v = 0;
	int handled = 0;

	if (xvm_mmio_read(vcpu, addr, len, &v, &handled) || !handled)
		return ~0ULL;
	return v;
}

/* One bus write: 1 if handled, 0 if not, -1 on error. */
static int wr(int vcpu, uint64_t addr, uint32_t len, uint64_t val)
{
	int handled = 0;

	if (xvm_mmio_write(vcpu, addr, len, val, &handled))
		return -1;
	return handled;
}

/* XVM_GICR_TYPER of the redistributor frame at base, over the bus. */
static uint64_t typer_at(int vcpu, uint64_t base)
{
	return rd(vcpu, base + XVM_GICR_TYPER, 8);
}

static uint64_t typer_val(uint32_t id, int last)
{
	return ((uint64_t)aff(id) << 32) | ((id & 0xffff) << 8) |
	       (last ? XVM_GICR_TYPER_LAST : 0);
}

static int cpuif_get(int vcpu, struct xvm_vgic_cpuif *s)
{
	return ioctl(vcpu, XVM_VGIC_GET_CPUIF, s);
}

static int cpuif_set(int vcpu, uint32_t pmr, uint32_t ctlr, uint32_t port)
{
	struct xvm_vgic_cpuif s = { .pmr = pmr, .ctlr = ctlr,
				    .notify_port = port };

	return ioctl(vcpu, XVM_VGIC_SET_CPUIF, &s);
}

/* ICC_IAR1 (or HPPIR1 when peek); the INTID, or -1 on error. */
static int ack_grp(int vcpu, uint32_t group, int peek)
{
	struct xvm_vgic_ack a = { .group = group };

	if (ioctl(vcpu, peek ? XVM_VGIC_HPPIR : XVM_VGIC_ACK, &a))
		return -1;
	return a.intid;
}

static int ack(int vcpu)
{
	return ack_grp(vcpu, 1, 0);
}

static int eoi(int vcpu, uint32_t intid)
{
	struct xvm_vgic_eoi e = { .intid = intid };

	return ioctl(vcpu, XVM_VGIC_EOI, &e);
}

static int line(int dev, uint32_t intid, uint32_t level, uint32_t vcpu_id)
{
	struct xvm_vgic_irq_line l = { .intid = intid, .level = level,
				       .vcpu_id = vcpu_id };

	return ioctl(dev, XVM_VGIC_IRQ_LINE, &l);
}

static int sgi(int vcpu, uint64_t value, uint32_t group)
{
	struct xvm_vgic_sgi s = { .value = value, .group = group };

	return ioctl(vcpu, XVM_VGIC_SGI, &s);
}

static uint64_t sgi1r(uint32_t intid, uint32_t aff1, uint32_t targets)
{
	return ((uint64_t)intid << 24) | ((uint64_t)aff1 << 16) | targets;
}

static int port_pending(struct gic *g, uint32_t port)
{
	uint32_t status = 0;

	if (xvm_evtchn_status(g->vm, port, NULL, &status))
		return -1;
	return !!(status & XVM_EVTCHN_STATUS_PENDING);
}

/*
 * A running GIC: n vCPUs (ids 0..n-1), NR_IRQS nr_irqs, the distributor at
 * DIST, the legacy region at REDIST, INIT, both groups enabled in XVM_GICD_CTLR
 * and in every CPU interface, PMR 0xf8, one notify port per vCPU.
 */
/*
 * A GIC just initialised, as a restore finds it: n vCPUs (ids 0..n-1),
 * NR_IRQS nr_irqs, the distributor at DIST, the legacy region at REDIST,
 * INIT, one port per vCPU; no CPU-interface ioctl yet (no first run).
 */
static struct gic *gic_fresh(int n, uint32_t nr_irqs)
{
	struct gic *g = gic_new();
	int i;

	if (!g || gic_device(g))
		return NULL;
	for (i = 0; i < n; i++)
		if (gic_vcpu(g, i) < 0)
			return NULL;
	if (fixture_gic_legacy(g->dev, nr_irqs, DIST, REDIST))
		return NULL;
	if (fixture_ports(g->vm, g->port, n))
		return NULL;
	return g;
}

static struct gic *gic_running(int n, uint32_t nr_irqs)
{
	struct gic *g = gic_fresh(n, nr_irqs);
	int i;

	if (!g)
		return NULL;
	if (wr(g->fd[0], DIST + XVM_GICD_CTLR, 4, 3) != 1)
		return NULL;
	for (i = 0; i < n; i++) {
		if (cpuif_set(g->fd[i], 0xf8, XVM_VGIC_CPUIF_IGRPEN0 |
			      XVM_VGIC_CPUIF_IGRPEN1, g->port[i]))
			return NULL;
	}
	return g;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < 4096) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* ------------------------------------------------------------------ */
/* The device and its attribute groups                                 */

TEST(create_device)
{
	struct gic *g = gic_new();
	int dev2 = -1;

	ASSERT_NE(NULL, g);
	ASSERT_LE(0, g->vm);
	ASSERT_OK(xvm_create_device(g->vm, XVM_DEV_TYPE_ARM_VGIC_V3,
				    XVM_CREATE_DEVICE_TEST, NULL));
	ASSERT_OK(gic_device(g));
	/* One GIC per VM, as KVM. */
	ASSERT_ERR(xvm_create_device(g->vm, XVM_DEV_TYPE_ARM_VGIC_V3, 0, &dev2),
		   EEXIST);
	gic_free(g);
}

TEST(unknown_group_or_attr_enxio)
{
	struct gic *g = gic_new();
	uint64_t v = 0;
	static const uint32_t groups[] = { 2, 8, 99 };
	unsigned int i;

	ASSERT_OK(gic_device(g));
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		ASSERT_ERR(xvm_set_attr(g->dev, groups[i], 0, &v), ENXIO);
		ASSERT_ERR(xvm_get_attr(g->dev, groups[i], 0, &v), ENXIO);
		ASSERT_ERR(xvm_has_attr(g->dev, groups[i], 0, NULL), ENXIO);
	}
	/* Unknown attributes of known groups (4: KVM's ITS address). */
	ASSERT_ERR(xvm_has_attr(g->dev, GRP_ADDR, -1ULL, NULL), ENXIO);
	ASSERT_ERR(xvm_has_attr(g->dev, GRP_ADDR, 4, NULL), ENXIO);
	ASSERT_ERR(xvm_set_attr(g->dev, GRP_ADDR, 4, &v), ENXIO);
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_ADDR, 0, &v), ENXIO);
	ASSERT_ERR(xvm_has_attr(g->dev, GRP_CTRL, 1, NULL), ENXIO);
	ASSERT_ERR(xvm_set_attr(g->dev, GRP_CTRL, 3, NULL), ENXIO);
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_CTRL, 0, &v), ENXIO);
	ASSERT_ERR(xvm_has_attr(g->dev, GRP_NR_IRQS, 1, NULL), ENXIO);
	ASSERT_ERR(xvm_set_attr(g->dev, GRP_NR_IRQS, 1, &v), ENXIO);
	/* Unknown register offsets. */
	ASSERT_ERR(xvm_has_attr(g->dev, GRP_DIST, 0x2, NULL), ENXIO);
	ASSERT_ERR(xvm_has_attr(g->dev, GRP_DIST, 0x20, NULL), ENXIO);
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_DIST, 0x5000, &v), ENXIO);

	/* What exists. */
	ASSERT_OK(xvm_has_attr(g->dev, GRP_ADDR, A_DIST, NULL));
	ASSERT_OK(xvm_has_attr(g->dev, GRP_ADDR, A_REDIST, NULL));
	ASSERT_OK(xvm_has_attr(g->dev, GRP_ADDR, A_REGION, NULL));
	ASSERT_OK(xvm_has_attr(g->dev, GRP_NR_IRQS, 0, NULL));
	ASSERT_OK(xvm_has_attr(g->dev, GRP_CTRL, 0, NULL));
	ASSERT_OK(xvm_has_attr(g->dev, GRP_DIST, XVM_GICD_CTLR, NULL));
	ASSERT_OK(xvm_has_attr(g->dev, GRP_DIST, XVM_GICD_IROUTER + 8 * 40, NULL));
	gic_free(g);
}

TEST(null_address_efault)
{
	struct gic *g = gic_new();

	ASSERT_OK(gic_device(g));
	ASSERT_NE(-1, gic_vcpu(g, 0));
	ASSERT_ERR(xvm_set_attr(g->dev, GRP_ADDR, A_DIST, NULL), EFAULT);
	ASSERT_ERR(xvm_set_attr(g->dev, GRP_ADDR, A_REDIST, NULL), EFAULT);
	ASSERT_ERR(xvm_set_attr(g->dev, GRP_ADDR, A_REGION, NULL), EFAULT);
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_ADDR, A_DIST, NULL), EFAULT);
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_ADDR, A_REGION, NULL), EFAULT);
	ASSERT_ERR(xvm_set_attr(g->dev, GRP_NR_IRQS, 0, NULL), EFAULT);
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_NR_IRQS, 0, NULL), EFAULT);
	ASSERT_OK(gic_init(g->dev));	/* INIT takes no value */
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_DIST, XVM_GICD_CTLR, NULL), EFAULT);
	ASSERT_ERR(xvm_set_attr(g->dev, GRP_REDIST,
				XVM_VGIC_V3_REG_ATTR(0, XVM_GICR_WAKER), NULL),
		   EFAULT);
	gic_free(g);
}

/* ------------------------------------------------------------------ */
/* ADDR / DIST and the legacy REDIST                                   */

TEST(dist_address)
{
	struct gic *g = gic_new();
	uint64_t v = 0;

	ASSERT_OK(gic_device(g));
	ASSERT_OK(xvm_get_attr(g->dev, GRP_ADDR, A_DIST, &v));
	ASSERT_EQ(UNDEF, v);
	ASSERT_ERR(set_addr(g->dev, A_DIST, DIST + 0x1000), EINVAL);
	ASSERT_ERR(set_addr(g->dev, A_DIST, PHYS_SIZE), E2BIG);
	ASSERT_ERR(set_addr(g->dev, A_DIST, 1ULL << 52), E2BIG);
	/* Wrap-around beats the address limit. */
	ASSERT_ERR(set_addr(g->dev, A_DIST, -0x10000ULL), EINVAL);
	ASSERT_OK(set_addr(g->dev, A_DIST, PHYS_SIZE - 0x10000));
	ASSERT_OK(xvm_get_attr(g->dev, GRP_ADDR, A_DIST, &v));
	ASSERT_EQ(PHYS_SIZE - 0x10000, v);
	/* Set once; EEXIST comes before the other checks, as in KVM. */
	ASSERT_ERR(set_addr(g->dev, A_DIST, DIST), EEXIST);
	ASSERT_ERR(set_addr(g->dev, A_DIST, 0x1000), EEXIST);
	gic_free(g);
}

/* KVM's subtest_dist_rdist() for GICv3, with one vCPU. */
TEST(legacy_region)
{
	struct gic *g = gic_new();
	uint64_t v;

	ASSERT_NE(-1, gic_vcpu(g, 0));
	ASSERT_OK(gic_device(g));
	ASSERT_OK(xvm_get_attr(g->dev, GRP_ADDR, A_REDIST, &v));
	ASSERT_EQ(UNDEF, v);
	ASSERT_ERR(set_addr(g->dev, A_REDIST, 0x1000), EINVAL);
	ASSERT_ERR(set_addr(g->dev, A_REDIST, PHYS_SIZE), E2BIG);
	/* Half a redistributor beyond the limit. */
	ASSERT_ERR(set_addr(g->dev, A_REDIST, PHYS_SIZE - 0x10000), E2BIG);
	/* Wrap-around is checked first. */
	ASSERT_ERR(set_addr(g->dev, A_REDIST, -0x10000ULL), EINVAL);
	ASSERT_OK(set_addr(g->dev, A_REDIST, 0));
	ASSERT_OK(xvm_get_attr(g->dev, GRP_ADDR, A_REDIST, &v));
	ASSERT_EQ(0, v);
	/* A second legacy region: EEXIST, before any other check. */
	ASSERT_ERR(set_addr(g->dev, A_REDIST, 0xe0000), EEXIST);
	ASSERT_ERR(set_addr(g->dev, A_REDIST, PHYS_SIZE), EEXIST);
	/* Legacy and explicit regions never mix. */
	ASSERT_ERR(set_region(g->dev, 4, 0x100000, 0, 0), EINVAL);
	ASSERT_ERR(set_region(g->dev, 4, 0x100000, 0, 1), EINVAL);
	/* Region 0 reads back as the legacy one: count 0. */
	v = REGION(0, 0, 0, 0);
	ASSERT_OK(xvm_get_attr(g->dev, GRP_ADDR, A_REGION, &v));
	ASSERT_EQ(REGION(0, 0, 0, 0), v);
	v = 1;
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_ADDR, A_REGION, &v), ENOENT);
	/* The legacy region spans one slot per vCPU: 0..0x20000 now. */
	ASSERT_ERR(set_addr(g->dev, A_DIST, 0x10000), EINVAL);
	ASSERT_OK(set_addr(g->dev, A_DIST, 0x20000));
	/* A new vCPU would grow the legacy region into the distributor. */
	ASSERT_ERR(gic_vcpu(g, 1), EINVAL);
	gic_free(g);
}

TEST(legacy_region_vs_dist)
{
	struct gic *g = gic_new();
	int i;

	for (i = 0; i < 4; i++)
		ASSERT_NE(-1, gic_vcpu(g, i));
	ASSERT_OK(gic_device(g));
	ASSERT_OK(set_addr(g->dev, A_DIST, 0x70000));
	/* 4 vCPUs: 0..0x80000 would cover the distributor. */
	ASSERT_ERR(set_addr(g->dev, A_REDIST, 0), EINVAL);
	ASSERT_OK(set_addr(g->dev, A_REDIST, 0x80000));
	/* Grows with each vCPU; beyond the address limit is E2BIG. */
	gic_free(g);

	g = gic_new();
	ASSERT_NE(-1, gic_vcpu(g, 0));
	ASSERT_OK(gic_device(g));
	ASSERT_OK(set_addr(g->dev, A_REDIST, PHYS_SIZE - 3 * RD_SIZE));
	ASSERT_NE(-1, gic_vcpu(g, 1));
	ASSERT_NE(-1, gic_vcpu(g, 2));
	ASSERT_ERR(gic_vcpu(g, 3), E2BIG);
	ASSERT_OK(gic_init(g->dev));
	ASSERT_EQ(typer_val(2, 1), typer_at(g->fd[0], PHYS_SIZE - RD_SIZE));
	gic_free(g);
}

/* ------------------------------------------------------------------ */
/* ADDR / REDIST_REGION                                               */

/* KVM's subtest_v3_redist_regions(), 4 vCPUs. */
TEST(regions_kvm_sequence)
{
	struct gic *g = gic_new();
	uint64_t v;
	int i;

	for (i = 0; i < 4; i++)
		ASSERT_NE(-1, gic_vcpu(g, i));
	ASSERT_OK(gic_device(g));
	ASSERT_ERR(set_region(g->dev, 4, 0x100000, 2, 0), EINVAL);
	ASSERT_ERR(set_region(g->dev, 0, 0x100000, 0, 0), EINVAL);
	ASSERT_ERR(set_region(g->dev, 2, 0x200000, 0, 1), EINVAL);
	ASSERT_ERR(set_region(g->dev, 2, 0x201000, 0, 1), EINVAL);
	ASSERT_OK(set_region(g->dev, 2, 0x200000, 0, 0));
	ASSERT_ERR(set_region(g->dev, 2, 0x200000, 0, 1), EINVAL);
	ASSERT_ERR(set_region(g->dev, 1, 0x210000, 0, 2), EINVAL);
	ASSERT_ERR(set_region(g->dev, 2, 0x210000, 0, 1), EINVAL);
	ASSERT_ERR(set_region(g->dev, 1, 0x240000, 0, 2), EINVAL);
	ASSERT_OK(set_region(g->dev, 1, 0x240000, 0, 1));
	ASSERT_ERR(set_region(g->dev, 1, PHYS_SIZE, 0, 2), E2BIG);
	ASSERT_ERR(set_region(g->dev, 2, PHYS_SIZE - 0x30000, 0, 2), E2BIG);
	ASSERT_ERR(set_addr(g->dev, A_REDIST, 0x260000), EINVAL);

	v = REGION(0, 0, 0, 0);
	ASSERT_OK(xvm_get_attr(g->dev, GRP_ADDR, A_REGION, &v));
	ASSERT_EQ(REGION(2, 0x200000, 0, 0), v);
	v = REGION(0, 0, 0, 1);
	ASSERT_OK(xvm_get_attr(g->dev, GRP_ADDR, A_REGION, &v));
	ASSERT_EQ(REGION(1, 0x240000, 0, 1), v);
	v = REGION(0, 0, 0, 2);
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_ADDR, A_REGION, &v), ENOENT);
	/* REDIST reads the first region's base. */
	ASSERT_OK(xvm_get_attr(g->dev, GRP_ADDR, A_REDIST, &v));
	ASSERT_EQ(0x200000, v);

	ASSERT_OK(set_addr(g->dev, A_DIST, 0x260000));
	ASSERT_ERR(set_region(g->dev, 1, 0x260000, 0, 2), EINVAL);
	/* The distributor may not overlap a region either. */
	ASSERT_ERR(set_region(g->dev, 1, 0x250000, 0, 2), EINVAL);
	ASSERT_OK(set_region(g->dev, 1, 0x270000, 0, 2));
	gic_free(g);
}

/* Each rule's errno shows where it sits in the order of checks. */
TEST(region_check_order)
{
	struct gic *g = gic_new();

	ASSERT_NE(-1, gic_vcpu(g, 0));
	ASSERT_OK(gic_device(g));
	/* flags/count before anything */
	ASSERT_ERR(set_region(g->dev, 1, PHYS_SIZE, 1, 0), EINVAL);
	/* first index 0 before the limit */
	ASSERT_ERR(set_region(g->dev, 1, PHYS_SIZE, 0, 1), EINVAL);
	ASSERT_OK(set_region(g->dev, 2, 0x100000, 0, 0));
	/* legacy after explicit: EINVAL before the limit */
	ASSERT_ERR(set_addr(g->dev, A_REDIST, PHYS_SIZE), EINVAL);
	/* index last + 1 before the limit */
	ASSERT_ERR(set_region(g->dev, 1, PHYS_SIZE, 0, 2), EINVAL);
	ASSERT_ERR(set_region(g->dev, 1, PHYS_SIZE, 0, 0), EINVAL);
	/* overlap before the limit: a region that is both */
	ASSERT_ERR(set_region(g->dev, 4095, 0x100000, 0, 1), EINVAL);
	/* the limit */
	ASSERT_ERR(set_region(g->dev, 4095, PHYS_SIZE - 0x20000, 0, 1), E2BIG);
	/* adjacent is fine; the largest count is 4095 */
	ASSERT_OK(set_region(g->dev, 4095, 0x140000, 0, 1));
	gic_free(g);

	/* A second legacy region beyond the limit: EEXIST comes first. */
	g = gic_new();
	ASSERT_NE(-1, gic_vcpu(g, 0));
	ASSERT_OK(gic_device(g));
	ASSERT_OK(set_addr(g->dev, A_REDIST, 0));
	ASSERT_ERR(set_addr(g->dev, A_REDIST, PHYS_SIZE), EEXIST);
	/* explicit after legacy, overlapping and beyond: the mix rule */
	ASSERT_ERR(set_region(g->dev, 1, PHYS_SIZE, 0, 1), EINVAL);
	gic_free(g);
}

/* 64 regions of 8, 512 vCPUs: every region reads back, every vCPU sits. */
TEST(regions_64_vcpus_512)
{
	struct gic *g;
	uint64_t v;
	int i;

	raise_nofile();
	g = gic_new();
	ASSERT_OK(gic_device(g));
	/* Half the vCPUs before the regions, half after. */
	for (i = 0; i < 256; i++)
		ASSERT_NE(-1, gic_vcpu(g, i)) TH_LOG("vCPU %d: %s", i,
						    strerror(errno));
	/* Regions placed in reverse address order, with gaps. */
	for (i = 0; i < 64; i++)
		ASSERT_OK(set_region(g->dev, 8, REDIST + (63 - i) * 0x400000,
				     0, i));
	for (i = 256; i < 512; i++)
		ASSERT_NE(-1, gic_vcpu(g, i));
	for (i = 0; i < 64; i++) {
		v = i;
		ASSERT_OK(xvm_get_attr(g->dev, GRP_ADDR, A_REGION, &v));
		ASSERT_EQ(REGION(8, REDIST + (63 - i) * 0x400000, 0, i), v);
	}
	v = 64;
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_ADDR, A_REGION, &v), ENOENT);
	/* vCPU i is slot i % 8 of region i / 8; Last on every 8th. */
	for (i = 0; i < 512; i++) {
		uint64_t base = REDIST + (63 - i / 8) * 0x400000 +
				(i % 8) * RD_SIZE;

		ASSERT_EQ(typer_val(i, i % 8 == 7),
			  typer_at(g->fd[i % 7], base)) TH_LOG("vCPU %d", i);
	}
	/* No more room: vCPU 512 gets no slot, so INIT then first run fails. */
	ASSERT_NE(-1, gic_vcpu(g, 512));
	ASSERT_OK(set_addr(g->dev, A_DIST, DIST));
	ASSERT_OK(gic_init(g->dev));
	ASSERT_EQ(typer_val(512, 0), ((uint64_t)rd_reg(g->dev, 512,
			XVM_GICR_TYPER + 4) << 32) | rd_reg(g->dev, 512, XVM_GICR_TYPER));
	ASSERT_ERR(cpuif_set(g->fd[0], 0, 0, 0), ENXIO);
	ASSERT_OK(set_region(g->dev, 1, REDIST + 64 * 0x400000, 0, 64));
	ASSERT_OK(cpuif_set(g->fd[0], 0, 0, 0));
	gic_free(g);
}

/* ------------------------------------------------------------------ */
/* Slots in creation order, XVM_GICR_TYPER and Last                        */

TEST(vcpus_before_and_after_regions)
{
	struct gic *g = gic_new();
	uint64_t r0 = 0x100000, r1 = 0x400000;

	ASSERT_NE(-1, gic_vcpu(g, 5));
	ASSERT_NE(-1, gic_vcpu(g, 7));
	ASSERT_OK(gic_device(g));
	ASSERT_NE(-1, gic_vcpu(g, 2));		/* no region yet */
	ASSERT_OK(set_region(g->dev, 1, r0, 0, 0));
	/* Only the oldest vCPU (5) fits. */
	ASSERT_EQ(typer_val(5, 1), typer_at(g->fd[0], r0));
	ASSERT_EQ(~0ULL, typer_at(g->fd[0], r0 + RD_SIZE));
	ASSERT_OK(set_region(g->dev, 3, r1, 0, 1));
	/* 7 then 2 take region 1, then a new vCPU 1 takes its last slot. */
	ASSERT_EQ(typer_val(7, 0), typer_at(g->fd[0], r1));
	ASSERT_EQ(typer_val(2, 1), typer_at(g->fd[0], r1 + RD_SIZE));
	ASSERT_NE(-1, gic_vcpu(g, 1));
	ASSERT_EQ(typer_val(2, 0), typer_at(g->fd[0], r1 + RD_SIZE));
	ASSERT_EQ(typer_val(1, 1), typer_at(g->fd[0], r1 + 2 * RD_SIZE));
	/* Full: the next vCPU has no slot. */
	ASSERT_NE(-1, gic_vcpu(g, 9));
	ASSERT_OK(gic_init(g->dev));
	ASSERT_EQ(0x900, rd_reg(g->dev, 9, XVM_GICR_TYPER));
	ASSERT_EQ(0x110, rd_reg(g->dev, 1, XVM_GICR_TYPER));
	/* INIT freezes the vCPUs. */
	ASSERT_ERR(gic_vcpu(g, 10), EBUSY);
	gic_free(g);
}

/* KVM's test_v3_typer_accesses(). */
TEST(typer_kvm_accesses)
{
	struct gic *g = gic_new();
	uint32_t v;
	int i;

	ASSERT_NE(-1, gic_vcpu(g, 0));
	ASSERT_OK(gic_device(g));
	ASSERT_NE(-1, gic_vcpu(g, 3));
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_REDIST,
				XVM_VGIC_V3_REG_ATTR(1, XVM_GICR_TYPER), &v),
		   EINVAL);
	ASSERT_NE(-1, gic_vcpu(g, 1));
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_REDIST,
				XVM_VGIC_V3_REG_ATTR(1, XVM_GICR_TYPER), &v),
		   EBUSY);
	ASSERT_NE(-1, gic_vcpu(g, 2));
	ASSERT_OK(gic_init(g->dev));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(i * 0x100, rd_reg(g->dev, i, XVM_GICR_TYPER));

	ASSERT_OK(set_region(g->dev, 2, 0x200000, 0, 0));
	ASSERT_EQ(0x0, rd_reg(g->dev, 0, XVM_GICR_TYPER));
	ASSERT_EQ(0x310, rd_reg(g->dev, 3, XVM_GICR_TYPER));
	ASSERT_ERR(set_region(g->dev, 10, 0x100000, 0, 1), EINVAL);
	ASSERT_EQ(0x100, rd_reg(g->dev, 1, XVM_GICR_TYPER));
	ASSERT_EQ(0x200, rd_reg(g->dev, 2, XVM_GICR_TYPER));
	ASSERT_OK(set_region(g->dev, 10, 0x20000, 0, 1));
	ASSERT_EQ(0x100, rd_reg(g->dev, 1, XVM_GICR_TYPER));
	ASSERT_EQ(0x210, rd_reg(g->dev, 2, XVM_GICR_TYPER));
	gic_free(g);
}

/*
 * The setup of KVM's test_v3_last_bit_*(): vCPUs 0, 3, 5, 4, 1, 2 in that
 * order, then the device, then INIT.  0 or -1.
 */
static int gic_last_bit_setup(struct gic *g)
{
	static const uint32_t ids[] = { 0, 3, 5, 4, 1, 2 };
	unsigned int i;

	for (i = 0; i < 6; i++)
		if (gic_vcpu(g, ids[i]) < 0)
			return -1;
	if (gic_device(g))
		return -1;
	return gic_init(g->dev);
}

/*
 * KVM's test_v3_last_bit_redist_regions(): regions #1 and #2 are
 * contiguous (#2 ends where #1 starts).
 */
TEST(last_bit_regions)
{
	struct gic *g = gic_new();

	ASSERT_OK(gic_last_bit_setup(g));
	ASSERT_OK(set_region(g->dev, 2, 0x100000, 0, 0));
	ASSERT_OK(set_region(g->dev, 2, 0x240000, 0, 1));
	ASSERT_OK(set_region(g->dev, 2, 0x200000, 0, 2));
	ASSERT_EQ(0x000, rd_reg(g->dev, 0, XVM_GICR_TYPER));
	ASSERT_EQ(0x100, rd_reg(g->dev, 1, XVM_GICR_TYPER));
	ASSERT_EQ(0x200, rd_reg(g->dev, 2, XVM_GICR_TYPER));
	ASSERT_EQ(0x310, rd_reg(g->dev, 3, XVM_GICR_TYPER));
	ASSERT_EQ(0x500, rd_reg(g->dev, 5, XVM_GICR_TYPER));
	ASSERT_EQ(0x410, rd_reg(g->dev, 4, XVM_GICR_TYPER));
	gic_free(g);
}

/*
 * A vCPU creation that fails after the vGIC saw it (here: no fd left,
 * RLIMIT_NOFILE) leaves no redistributor frame on the bus, and the last
 * vCPU's XVM_GICR_TYPER.Last stays set.
 */
TEST(failed_vcpu_create_leaves_no_frame)
{
	struct gic *g = gic_new();
	struct rlimit old, lim;
	int fd;

	ASSERT_OK(gic_device(g));
	ASSERT_OK(set_addr(g->dev, A_DIST, DIST));
	ASSERT_OK(set_region(g->dev, 2, REDIST, 0, 0));
	ASSERT_NE(-1, gic_vcpu(g, 0));
	ASSERT_EQ(typer_val(0, 1), typer_at(g->fd[0], REDIST));

	/* The next fd number is the limit: installing the vCPU fd fails. */
	ASSERT_OK(getrlimit(RLIMIT_NOFILE, &old));
	fd = dup(0);
	ASSERT_LE(0, fd);
	close(fd);
	lim = old;
	lim.rlim_cur = fd;
	ASSERT_OK(setrlimit(RLIMIT_NOFILE, &lim));
	EXPECT_EQ(-1, xvm_create_vcpu(g->vm, 1));
	EXPECT_EQ(EMFILE, errno);
	ASSERT_OK(setrlimit(RLIMIT_NOFILE, &old));

	EXPECT_EQ(~0ULL, typer_at(g->fd[0], REDIST + RD_SIZE));
	EXPECT_EQ(typer_val(0, 1), typer_at(g->fd[0], REDIST));
	/* The same creation then works and takes the slot. */
	ASSERT_NE(-1, gic_vcpu(g, 1));
	EXPECT_EQ(typer_val(0, 0), typer_at(g->fd[0], REDIST));
	EXPECT_EQ(typer_val(1, 1), typer_at(g->fd[0], REDIST + RD_SIZE));
	gic_free(g);
}

/* KVM's test_v3_last_bit_single_rdist(). */
TEST(last_bit_legacy)
{
	struct gic *g = gic_new();

	ASSERT_OK(gic_last_bit_setup(g));
	ASSERT_OK(set_addr(g->dev, A_REDIST, 0x10000));
	ASSERT_EQ(0x000, rd_reg(g->dev, 0, XVM_GICR_TYPER));
	ASSERT_EQ(0x300, rd_reg(g->dev, 3, XVM_GICR_TYPER));
	ASSERT_EQ(0x500, rd_reg(g->dev, 5, XVM_GICR_TYPER));
	ASSERT_EQ(0x100, rd_reg(g->dev, 1, XVM_GICR_TYPER));
	ASSERT_EQ(0x210, rd_reg(g->dev, 2, XVM_GICR_TYPER));
	gic_free(g);
}

/*
 * Non-contiguous and adjacent layouts, over the bus, as vCPUs arrive:
 *   region 0 @ A, 2 slots; region 1 @ A + 2 slots (adjacent), 1 slot;
 *   region 2 @ far away, 3 slots.
 */
TEST(last_bit_layouts)
{
	uint64_t a = 0x1000000, far = 0x9000000;
	struct gic *g = gic_new();

	ASSERT_OK(gic_device(g));
	ASSERT_OK(set_region(g->dev, 2, a, 0, 0));
	ASSERT_OK(set_region(g->dev, 1, a + 2 * RD_SIZE, 0, 1));
	ASSERT_OK(set_region(g->dev, 3, far, 0, 2));
	ASSERT_NE(-1, gic_vcpu(g, 0));
	/* A partly filled region: its last used slot is Last. */
	ASSERT_EQ(typer_val(0, 1), typer_at(g->fd[0], a));
	ASSERT_NE(-1, gic_vcpu(g, 1));
	ASSERT_EQ(typer_val(0, 0), typer_at(g->fd[0], a));
	/* Full, and the adjacent region is still empty: Last. */
	ASSERT_EQ(typer_val(1, 1), typer_at(g->fd[0], a + RD_SIZE));
	ASSERT_NE(-1, gic_vcpu(g, 2));
	/* The adjacent region is in use: the walk continues into it. */
	ASSERT_EQ(typer_val(1, 0), typer_at(g->fd[0], a + RD_SIZE));
	ASSERT_EQ(typer_val(2, 1), typer_at(g->fd[0], a + 2 * RD_SIZE));
	/* Non-contiguous: a region of its own. */
	ASSERT_NE(-1, gic_vcpu(g, 3));
	ASSERT_EQ(typer_val(3, 1), typer_at(g->fd[0], far));
	ASSERT_EQ(typer_val(2, 1), typer_at(g->fd[0], a + 2 * RD_SIZE));
	ASSERT_NE(-1, gic_vcpu(g, 4));
	ASSERT_EQ(typer_val(3, 0), typer_at(g->fd[0], far));
	ASSERT_EQ(typer_val(4, 1), typer_at(g->fd[0], far + RD_SIZE));
	/* The frames between regions 1 and 2 are nobody's. */
	ASSERT_EQ(~0ULL, typer_at(g->fd[0], a + 3 * RD_SIZE));
	/* A region added in front of region 0 (adjacent below it). */
	ASSERT_OK(set_region(g->dev, 1, a - RD_SIZE, 0, 3));
	ASSERT_NE(-1, gic_vcpu(g, 5));
	ASSERT_NE(-1, gic_vcpu(g, 6));
	/* Region 2 full, nothing at its end: its last vCPU is Last. */
	ASSERT_EQ(typer_val(4, 0), typer_at(g->fd[0], far + RD_SIZE));
	ASSERT_EQ(typer_val(5, 1), typer_at(g->fd[0], far + 2 * RD_SIZE));
	/* Region 3 full, region 0 (in use) starts at its end: not Last. */
	ASSERT_EQ(typer_val(6, 0), typer_at(g->fd[0], a - RD_SIZE));
	gic_free(g);
}

/* ------------------------------------------------------------------ */
/* NR_IRQS, INIT, the first run                                        */

/* NR_IRQS 1024: the largest, and SPI 1019 the last that exists. */
static void nr_irqs_1024(struct __test_metadata *_metadata)
{
	static const uint32_t bad[] = { 0, 32, 63, 65, 96 + 1, 1056, 1025,
					~0U };
	struct gic *g = gic_new();
	uint32_t v = 1;
	unsigned int i;

	ASSERT_OK(gic_device(g));
	ASSERT_OK(xvm_get_attr(g->dev, GRP_NR_IRQS, 0, &v));
	ASSERT_EQ(32, v);		/* never set: KVM's nr_spis + 32 */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_ERR(set_nr_irqs(g->dev, bad[i]), EINVAL);
	ASSERT_OK(set_nr_irqs(g->dev, 1024));
	ASSERT_ERR(set_nr_irqs(g->dev, 1024), EBUSY);
	ASSERT_ERR(set_nr_irqs(g->dev, 64), EBUSY);
	/* An invalid value is EINVAL even when set: checked first. */
	ASSERT_ERR(set_nr_irqs(g->dev, 33), EINVAL);
	ASSERT_OK(gic_init(g->dev));
	ASSERT_OK(xvm_get_attr(g->dev, GRP_NR_IRQS, 0, &v));
	ASSERT_EQ(1024, v);
	/* ITLinesNumber 31, MBIS, IDbits 9, No1N */
	ASSERT_EQ(31 | (1 << 16) | (9 << 19) | (1 << 25),
		  dist_reg(g->dev, XVM_GICD_TYPER));
	/* SPI 1019 exists, 1020..1023 do not. */
	ASSERT_OK(xvm_set_attr(g->dev, GRP_DIST, XVM_GICD_IPRIORITYR + 1016,
			       &(uint32_t){ 0xa0a0a0a0 }));
	ASSERT_EQ(0xa0a0a0a0, dist_reg(g->dev, XVM_GICD_IPRIORITYR + 1016));
	ASSERT_OK(xvm_set_attr(g->dev, GRP_DIST, XVM_GICD_IPRIORITYR + 1020,
			       &(uint32_t){ 0xa0a0a0a0 }));
	ASSERT_EQ(0, dist_reg(g->dev, XVM_GICD_IPRIORITYR + 1020));
	/* ... and is its own: the first SPI did not change with it. */
	ASSERT_EQ(0, dist_reg(g->dev, XVM_GICD_IPRIORITYR + 32));
	ASSERT_OK(xvm_set_attr(g->dev, GRP_DIST, XVM_GICD_IROUTER + 8 * 1019,
			       &(uint32_t){ 1 }));
	ASSERT_EQ(1, dist_reg(g->dev, XVM_GICD_IROUTER + 8 * 1019));
	ASSERT_EQ(0, dist_reg(g->dev, XVM_GICD_IROUTER + 8 * 32));
	gic_free(g);
}

TEST(nr_irqs_bounds)
{
	struct gic *g;
	uint32_t v = 1;

	nr_irqs_1024(_metadata);
	g = gic_new();
	ASSERT_OK(gic_device(g));
	ASSERT_OK(set_nr_irqs(g->dev, 64));
	ASSERT_OK(gic_init(g->dev));
	ASSERT_ERR(set_nr_irqs(g->dev, 96), EBUSY);
	ASSERT_EQ(1 | (1 << 16) | (9 << 19) | (1 << 25),
		  dist_reg(g->dev, XVM_GICD_TYPER));
	/* INTIDs at or above NR_IRQS are RAZ/WI. */
	ASSERT_OK(xvm_set_attr(g->dev, GRP_DIST, XVM_GICD_ISENABLER + 8,
			       &(uint32_t){ ~0U }));
	ASSERT_EQ(0, dist_reg(g->dev, XVM_GICD_ISENABLER + 8));
	gic_free(g);

	/* Never set: 256 after INIT, and INIT freezes it. */
	g = gic_new();
	ASSERT_OK(gic_device(g));
	ASSERT_OK(gic_init(g->dev));
	ASSERT_OK(gic_init(g->dev));		/* idempotent */
	ASSERT_OK(xvm_get_attr(g->dev, GRP_NR_IRQS, 0, &v));
	ASSERT_EQ(256, v);
	ASSERT_ERR(set_nr_irqs(g->dev, 96), EBUSY);
	gic_free(g);
}

TEST(regs_access_rules)
{
	struct gic *g = gic_new();
	uint32_t v = 0;

	ASSERT_NE(-1, gic_vcpu(g, 0));
	ASSERT_NE(-1, gic_vcpu(g, 17));		/* Aff1 1, Aff0 1 */
	ASSERT_OK(gic_device(g));
	/* Before INIT: EBUSY, for a vCPU and register that exist. */
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_DIST, XVM_GICD_CTLR, &v), EBUSY);
	ASSERT_ERR(xvm_set_attr(g->dev, GRP_DIST, XVM_GICD_CTLR, &v), EBUSY);
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_REDIST,
				XVM_VGIC_V3_REG_ATTR(0x101, XVM_GICR_TYPER), &v),
		   EBUSY);
	/* An unknown vCPU, by MPIDR: EINVAL (has_attr too). */
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_REDIST,
				XVM_VGIC_V3_REG_ATTR(1, XVM_GICR_TYPER), &v),
		   EINVAL);
	ASSERT_ERR(xvm_has_attr(g->dev, GRP_REDIST,
				XVM_VGIC_V3_REG_ATTR(0x11, XVM_GICR_TYPER), NULL),
		   EINVAL);
	ASSERT_ERR(xvm_has_attr(g->dev, GRP_REDIST,
				XVM_VGIC_V3_REG_ATTR(0x1000000, XVM_GICR_TYPER),
				NULL),
		   EINVAL);
	ASSERT_OK(xvm_has_attr(g->dev, GRP_REDIST,
			       XVM_VGIC_V3_REG_ATTR(0x101, XVM_GICR_TYPER), NULL));
	ASSERT_ERR(xvm_has_attr(g->dev, GRP_REDIST,
				XVM_VGIC_V3_REG_ATTR(0x101, 0x20), NULL),
		   ENXIO);
	ASSERT_OK(gic_init(g->dev));
	ASSERT_EQ(0x1100, rd_reg(g->dev, 17, XVM_GICR_TYPER));
	ASSERT_EQ(0x101, rd_reg(g->dev, 17, XVM_GICR_TYPER + 4));
	ASSERT_EQ(0x3b, rd_reg(g->dev, 17, XVM_GICR_PIDR2));
	ASSERT_EQ(0x3b, dist_reg(g->dev, XVM_GICD_PIDR2));
	ASSERT_EQ(0x5800043b, dist_reg(g->dev, XVM_GICD_IIDR));
	ASSERT_EQ(0x5800043b, rd_reg(g->dev, 0, XVM_GICR_IIDR));
	/* ARE and DS read as one; the group enables are writable. */
	ASSERT_EQ(0x50, dist_reg(g->dev, XVM_GICD_CTLR));
	ASSERT_OK(xvm_set_attr(g->dev, GRP_DIST, XVM_GICD_CTLR,
			       &(uint32_t){ 0xffffffff }));
	ASSERT_EQ(0x53, dist_reg(g->dev, XVM_GICD_CTLR));
	/* Private state through REDIST_REGS, per vCPU. */
	ASSERT_OK(xvm_set_attr(g->dev, GRP_REDIST,
			       XVM_VGIC_V3_REG_ATTR(0x101, XVM_GICR_IPRIORITYR0 + 4),
			       &(uint32_t){ 0x80604020 }));
	ASSERT_EQ(0x80604020, rd_reg(g->dev, 17, XVM_GICR_IPRIORITYR0 + 4));
	ASSERT_EQ(0, rd_reg(g->dev, 0, XVM_GICR_IPRIORITYR0 + 4));
	/* A vCPU after INIT is refused. */
	ASSERT_ERR(gic_vcpu(g, 1), EBUSY);
	gic_free(g);
}

/* KVM's test_v3_new_redist_regions() steps: the first run needs slots. */
TEST(first_run_checks)
{
	struct gic *g = gic_new();
	int i;

	for (i = 0; i < 4; i++)
		ASSERT_NE(-1, gic_vcpu(g, i));
	ASSERT_OK(gic_device(g));
	ASSERT_OK(set_region(g->dev, 2, 0x200000, 0, 0));
	ASSERT_OK(set_region(g->dev, 1, 0x240000, 0, 1));
	ASSERT_OK(set_addr(g->dev, A_DIST, DIST));
	/*
	 * KVM's step 1: 3 slots for 4 vCPUs, no INIT either: ENXIO
	 * ("running without sufficient number of rdists") comes first.
	 */
	ASSERT_ERR(ack(g->fd[3]), ENXIO);
	ASSERT_ERR(line(g->dev, 40, 1, 0), EBUSY);
	ASSERT_OK(gic_init(g->dev));
	/* 3 slots, 4 vCPUs: ENXIO, on any vCPU, for every CPU ioctl. */
	ASSERT_ERR(ack(g->fd[3]), ENXIO);
	ASSERT_ERR(ack(g->fd[0]), ENXIO);
	ASSERT_ERR(eoi(g->fd[0], 1023), ENXIO);
	ASSERT_ERR(sgi(g->fd[0], 0, 1), ENXIO);
	/* The line only needs INIT. */
	ASSERT_OK(line(g->dev, 40, 1, 0));
	/* Regions may still be added after INIT (KVM allows it). */
	ASSERT_OK(set_region(g->dev, 2, 0x280000, 0, 2));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(g->fd[3]));
	gic_free(g);
}

/* KVM's order at the first run: missing frames (ENXIO) before INIT (EBUSY). */
TEST(first_run_enxio_before_ebusy)
{
	struct gic *g = gic_new();
	int i;

	/*
	 * KVM's step 2: enough slots, no INIT: EBUSY ("running without
	 * vgic explicit init"); step 3: INIT, then the vCPU runs.
	 */
	for (i = 0; i < 4; i++)
		ASSERT_NE(-1, gic_vcpu(g, i));
	ASSERT_OK(gic_device(g));
	ASSERT_OK(set_region(g->dev, 4, 0x200000, 0, 0));
	ASSERT_OK(set_addr(g->dev, A_DIST, DIST));
	ASSERT_ERR(ack(g->fd[3]), EBUSY);
	ASSERT_OK(gic_init(g->dev));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(g->fd[3]));
	gic_free(g);

	/* Every redistributor but no distributor: ENXIO before EBUSY too. */
	g = gic_new();
	ASSERT_NE(-1, gic_vcpu(g, 0));
	ASSERT_OK(gic_device(g));
	ASSERT_OK(set_region(g->dev, 1, 0x200000, 0, 0));
	ASSERT_ERR(ack(g->fd[0]), ENXIO);
	gic_free(g);

	/* No distributor address: ENXIO too. */
	g = gic_new();
	ASSERT_NE(-1, gic_vcpu(g, 0));
	ASSERT_OK(gic_device(g));
	ASSERT_OK(set_addr(g->dev, A_REDIST, REDIST));
	ASSERT_OK(gic_init(g->dev));
	ASSERT_ERR(ack(g->fd[0]), ENXIO);
	ASSERT_OK(set_addr(g->dev, A_DIST, DIST));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(g->fd[0]));
	/* An ioctl the GIC does not know. */
	ASSERT_ERR(ioctl(g->fd[0], _IO(XVMIO, 0xcf)), ENOTTY);
	ASSERT_ERR(ioctl(g->dev, _IO(XVMIO, 0xdf)), ENOTTY);
	gic_free(g);
}

/* ------------------------------------------------------------------ */
/* Registers on the bus: widths, alignment, reserved space, state       */

/*
 * One access on the bus and what it must give: a read's value (~0: not
 * handled), a write's wr() (1 handled, 0 not).
 */
struct bus_step {
	int write;
	uint64_t addr;
	uint32_t len;
	uint64_t val;
	uint64_t want;
};

#define RD(a, l, w)	{ .addr = (a), .len = (l), .want = (w) }
#define WR(a, l, v, w)	{ .write = 1, .addr = (a), .len = (l), .val = (v), .want = (w) }
#define GICR1		(REDIST + RD_SIZE)

/* Runs steps[0..n) from vcpu in order; the first that differs fails. */
static void bus_steps(struct __test_metadata *_metadata, int vcpu,
		      const struct bus_step *steps, size_t n)
{
	const struct bus_step *t;
	size_t i;

	for (i = 0; i < n; i++) {
		t = &steps[i];
		if (t->write) {
			ASSERT_EQ((int)t->want, wr(vcpu, t->addr, t->len, t->val))
				TH_LOG("step %zu: write %#llx/%u", i,
				       (unsigned long long)t->addr, t->len);
		} else {
			ASSERT_EQ(t->want, rd(vcpu, t->addr, t->len))
				TH_LOG("step %zu: read %#llx/%u", i,
				       (unsigned long long)t->addr, t->len);
		}
	}
}

static const struct bus_step access_widths_steps[] = {
	/* Distributor before INIT: not handled (see dist_before_init). */
	/* 32-bit-only registers: 8, 16 and 64-bit accesses are not handled. */
	RD(DIST + XVM_GICD_CTLR, 4, 0x53),
	RD(DIST + XVM_GICD_CTLR, 1, ~0ULL),
	RD(DIST + XVM_GICD_CTLR, 2, ~0ULL),
	RD(DIST + XVM_GICD_CTLR, 8, ~0ULL),
	WR(DIST + XVM_GICD_ISENABLER + 4, 1, 0xff, 0),
	WR(DIST + XVM_GICD_ISENABLER + 4, 8, ~0ULL, 0),
	RD(DIST + XVM_GICD_ISENABLER + 4, 4, 0),
	/* Misaligned. */
	RD(DIST + XVM_GICD_TYPER + 2, 4, ~0ULL),
	RD(DIST + XVM_GICD_IROUTER + 8 * 40 + 4, 8, ~0ULL),
	/* Straddling two registers (TYPER..IIDR) with a legal width. */
	RD(DIST + XVM_GICD_TYPER, 8, ~0ULL),
	/* IPRIORITYR: bytes and words. */
	WR(DIST + XVM_GICD_IPRIORITYR + 41, 1, 0xff, 1),
	RD(DIST + XVM_GICD_IPRIORITYR + 40, 4, 0xf800),
	RD(DIST + XVM_GICD_IPRIORITYR + 41, 1, 0xf8),
	RD(DIST + XVM_GICD_IPRIORITYR + 40, 2, ~0ULL),
	/* IROUTER: 64-bit, and each 32-bit half (Aff3 RAZ/WI). */
	WR(DIST + XVM_GICD_IROUTER + 8 * 40, 8, 0xff00000001ULL, 1),
	RD(DIST + XVM_GICD_IROUTER + 8 * 40, 8, 1),
	RD(DIST + XVM_GICD_IROUTER + 8 * 40, 4, 1),
	RD(DIST + XVM_GICD_IROUTER + 8 * 40 + 4, 4, 0),
	RD(DIST + XVM_GICD_IROUTER + 8 * 40, 1, ~0ULL),
	/* IROUTER of private INTIDs is reserved: RAZ/WI. */
	WR(DIST + XVM_GICD_IROUTER + 8 * 3, 8, 1, 1),
	RD(DIST + XVM_GICD_IROUTER + 8 * 3, 8, 0),
};

/* After the XVM_GICR_TYPER checks, which need typer_val(). */
static const struct bus_step reserved_space_steps[] = {
	/* Reserved space: reads as zero, writes ignored, any width. */
	RD(DIST + 0x20, 4, 0),
	WR(DIST + 0x20, 4, ~0ULL, 1),
	RD(DIST + 0x20, 4, 0),
	RD(DIST + 0x5000, 8, 0),
	RD(DIST + 0x5003, 1, 0),
	RD(GICR1 + 0x100, 4, 0),
	RD(GICR1 + XVM_GICR_SGI_BASE + 0x40, 8, 0),
	RD(GICR1 + 0xff00, 8, 0),
	/* RAZ/WI registers with state elsewhere: ITARGETSR, IGRPMODR. */
	WR(DIST + XVM_GICD_ITARGETSR + 40, 4, ~0ULL, 1),
	RD(DIST + XVM_GICD_ITARGETSR + 40, 4, 0),
	WR(DIST + XVM_GICD_IGRPMODR + 4, 4, ~0ULL, 1),
	RD(DIST + XVM_GICD_IGRPMODR + 4, 4, 0),
	RD(GICR1 + XVM_GICR_PROPBASER, 8, 0),
	/* Distributor per-IRQ registers of INTIDs 0..31: RAZ/WI (ARE). */
	WR(DIST + XVM_GICD_ISENABLER, 4, ~0ULL, 1),
	RD(DIST + XVM_GICD_ISENABLER, 4, 0),
	RD(DIST + XVM_GICD_IGROUPR, 4, 0),
	/* XVM_GICR_WAKER: ProcessorSleep, ChildrenAsleep follows. */
	RD(GICR1 + XVM_GICR_WAKER, 4, 6),
	WR(GICR1 + XVM_GICR_WAKER, 4, 0, 1),
	RD(GICR1 + XVM_GICR_WAKER, 4, 0),
	RD(REDIST + XVM_GICR_WAKER, 4, 6),
	/* ID registers */
	RD(DIST + XVM_GICD_PIDR2, 4, 0x3b),
	RD(GICR1 + XVM_GICR_PIDR2, 4, 0x3b),
	RD(GICR1 + 0xfffc, 4, 0xb1),
	RD(DIST + 0xfff0, 4, 0x0d),
	RD(DIST + XVM_GICD_STATUSR, 4, 0),
};

TEST(access_widths_and_reserved)
{
	struct gic *g = gic_running(2, 256);
	int v = 0;
	uint64_t gicr1 = GICR1;

	ASSERT_NE(NULL, g);
	v = g->fd[0];
	bus_steps(_metadata, v, access_widths_steps,
		  ARRAY_SIZE(access_widths_steps));
	/* XVM_GICR_TYPER: 64 and 32-bit, aligned; 8 and 16-bit not handled. */
	ASSERT_EQ(typer_val(1, 1), rd(v, gicr1 + XVM_GICR_TYPER, 8));
	ASSERT_EQ(typer_val(1, 1) >> 32, rd(v, gicr1 + XVM_GICR_TYPER + 4, 4));
	ASSERT_EQ(~0ULL, rd(v, gicr1 + XVM_GICR_TYPER, 1));
	ASSERT_EQ(~0ULL, rd(v, gicr1 + XVM_GICR_TYPER, 2));
	ASSERT_EQ(~0ULL, rd(v, gicr1 + XVM_GICR_TYPER + 2, 4));	/* misaligned */
	ASSERT_EQ(~0ULL, rd(v, gicr1 + XVM_GICR_TYPER + 4, 8));
	ASSERT_EQ(1, wr(v, gicr1 + XVM_GICR_TYPER, 8, 0));	/* RO: ignored */
	ASSERT_EQ(typer_val(1, 1), rd(v, gicr1 + XVM_GICR_TYPER, 8));
	bus_steps(_metadata, v, reserved_space_steps,
		  ARRAY_SIZE(reserved_space_steps));
	gic_free(g);
}

TEST(dist_before_init)
{
	struct gic *g = gic_new();

	ASSERT_NE(-1, gic_vcpu(g, 0));
	ASSERT_OK(gic_device(g));
	ASSERT_OK(set_addr(g->dev, A_DIST, DIST));
	ASSERT_OK(set_addr(g->dev, A_REDIST, REDIST));
	/* The distributor is sized by INIT: unhandled before it. */
	ASSERT_EQ(~0ULL, rd(g->fd[0], DIST + XVM_GICD_TYPER, 4));
	/* Redistributors work from the moment the slot exists. */
	ASSERT_EQ(typer_val(0, 1), typer_at(g->fd[0], REDIST));
	ASSERT_OK(gic_init(g->dev));
	ASSERT_EQ(7 | (1 << 16) | (9 << 19) | (1 << 25),
		  rd(g->fd[0], DIST + XVM_GICD_TYPER, 4));
	gic_free(g);
}

static const struct bus_step per_irq_state_steps[] = {
	/* SPIs 32..63 in the word at +4; 64..95 at +8. */
	WR(DIST + XVM_GICD_ISENABLER + 4, 4, 0x00000f00, 1),
	RD(DIST + XVM_GICD_ISENABLER + 4, 4, 0x00000f00),
	WR(DIST + XVM_GICD_ICENABLER + 4, 4, 0x00000300, 1),
	RD(DIST + XVM_GICD_ICENABLER + 4, 4, 0x00000c00),
	WR(DIST + XVM_GICD_ISPENDR + 8, 4, 0x5, 1),
	RD(DIST + XVM_GICD_ISPENDR + 8, 4, 0x5),
	WR(DIST + XVM_GICD_ICPENDR + 8, 4, 0x1, 1),
	RD(DIST + XVM_GICD_ICPENDR + 8, 4, 0x4),
	WR(DIST + XVM_GICD_ISACTIVER + 8, 4, 0x30, 1),
	RD(DIST + XVM_GICD_ISACTIVER + 8, 4, 0x30),
	WR(DIST + XVM_GICD_ICACTIVER + 8, 4, 0x10, 1),
	RD(DIST + XVM_GICD_ICACTIVER + 8, 4, 0x20),
	/* Group: reset group 1. */
	RD(DIST + XVM_GICD_IGROUPR + 4, 4, 0xffffffff),
	WR(DIST + XVM_GICD_IGROUPR + 4, 4, 0xfffffffe, 1),
	RD(DIST + XVM_GICD_IGROUPR + 4, 4, 0xfffffffe),
	/* Config: SPIs reset level (0), bit 1 of each pair = edge. */
	RD(DIST + XVM_GICD_ICFGR + 8, 4, 0),
	WR(DIST + XVM_GICD_ICFGR + 8, 4, 0xffffffff, 1),
	RD(DIST + XVM_GICD_ICFGR + 8, 4, 0xaaaaaaaa),
	/* Priorities keep 5 bits. */
	WR(DIST + XVM_GICD_IPRIORITYR + 32, 4, 0x01234567, 1),
	RD(DIST + XVM_GICD_IPRIORITYR + 32, 4, 0x00204060),
	/* Routing: reset to affinity 0. */
	RD(DIST + XVM_GICD_IROUTER + 8 * 33, 8, 0),
	WR(DIST + XVM_GICD_IROUTER + 8 * 33, 8, 1, 1),
	RD(DIST + XVM_GICD_IROUTER + 8 * 33, 8, 1),

	/* Private INTIDs, per redistributor. */
	RD(GICR1 + XVM_GICR_ISENABLER0, 4, 0x0000ffff),
	WR(GICR1 + XVM_GICR_ISENABLER0, 4, 0x80000000, 1),
	RD(GICR1 + XVM_GICR_ISENABLER0, 4, 0x8000ffff),
	RD(REDIST + XVM_GICR_ISENABLER0, 4, 0x0000ffff),
	WR(GICR1 + XVM_GICR_ICENABLER0, 4, 0x1, 1),
	RD(GICR1 + XVM_GICR_ISENABLER0, 4, 0x8000fffe),
	RD(GICR1 + XVM_GICR_IGROUPR0, 4, 0xffffffff),
	WR(GICR1 + XVM_GICR_ISPENDR0, 4, 0x2, 1),
	RD(GICR1 + XVM_GICR_ISPENDR0, 4, 0x2),
	RD(REDIST + XVM_GICR_ISPENDR0, 4, 0),
	WR(GICR1 + XVM_GICR_ISACTIVER0, 4, 0x4, 1),
	RD(GICR1 + XVM_GICR_ISACTIVER0, 4, 0x4),
	/* SGIs are edge and read-only; PPIs reset level, configurable. */
	RD(GICR1 + XVM_GICR_ICFGR0, 4, 0xaaaaaaaa),
	WR(GICR1 + XVM_GICR_ICFGR0, 4, 0, 1),
	RD(GICR1 + XVM_GICR_ICFGR0, 4, 0xaaaaaaaa),
	RD(GICR1 + (XVM_GICR_ICFGR0 + 4), 4, 0),
	WR(GICR1 + (XVM_GICR_ICFGR0 + 4), 4, 0x80000000, 1),
	RD(GICR1 + (XVM_GICR_ICFGR0 + 4), 4, 0x80000000),
	WR(GICR1 + XVM_GICR_IPRIORITYR0 + 28, 1, 0x90, 1),
	RD(GICR1 + XVM_GICR_IPRIORITYR0 + 28, 1, 0x90),
	RD(GICR1 + XVM_GICR_IPRIORITYR0 + 28, 4, 0x90),
};

TEST(per_irq_state)
{
	struct gic *g = gic_running(2, 128);

	ASSERT_NE(NULL, g);
	bus_steps(_metadata, g->fd[0], per_irq_state_steps,
		  ARRAY_SIZE(per_irq_state_steps));
	gic_free(g);
}

/* ------------------------------------------------------------------ */
/* End to end                                                          */

/* Level-sensitive SPI 40 on vCPU 1: poll, acknowledge, EOI with the line up. */
static void spi_line_level(struct __test_metadata *_metadata, struct gic *g)
{
	uint32_t port = 0;
	int v0 = g->fd[0], v1 = g->fd[1];

	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_IPRIORITYR + 40, 1, 0xa0));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_IROUTER + 8 * 40, 8, aff(1)));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_ISENABLER + 4, 4, 1 << 8));
	ASSERT_EQ(0, port_pending(g, g->port[1]));

	/* Level-sensitive line up: vCPU 1's port goes pending. */
	ASSERT_OK(line(g->dev, 40, 1, 0));
	ASSERT_EQ(1, port_pending(g, g->port[1]));
	ASSERT_EQ(0, port_pending(g, g->port[0]));
	ASSERT_EQ(1, xvm_poll(v1, &g->port[1], 1, 1000000000ULL, 0, &port));
	ASSERT_EQ(g->port[1], port);
	ASSERT_OK(xvm_evtchn_clear(g->vm, g->port[1]));

	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v0));
	ASSERT_EQ(40, ack_grp(v1, 1, 1));		/* HPPIR */
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack_grp(v1, 0, 0));	/* group 0 */
	ASSERT_EQ(40, ack(v1));
	/* Active and still pending (the line is high), not deliverable. */
	ASSERT_EQ(1 << 8, rd(v0, DIST + XVM_GICD_ISACTIVER + 4, 4));
	ASSERT_EQ(1 << 8, rd(v0, DIST + XVM_GICD_ISPENDR + 4, 4));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v1));
	{
		struct xvm_vgic_cpuif s;

		ASSERT_OK(cpuif_get(v1, &s));
		ASSERT_EQ(0xa0, s.rpr);
		ASSERT_EQ(1U << (0xa0 >> 3), s.apr);
	}
	/* EOI with the line still up: deliverable again, port raised. */
	ASSERT_OK(eoi(v1, 40));
	ASSERT_EQ(0, rd(v0, DIST + XVM_GICD_ISACTIVER + 4, 4));
	ASSERT_EQ(1, port_pending(g, g->port[1]));
	ASSERT_EQ(40, ack(v1));
	ASSERT_OK(line(g->dev, 40, 0, 0));
	ASSERT_OK(eoi(v1, 40));
	ASSERT_EQ(0, rd(v0, DIST + XVM_GICD_ISPENDR + 4, 4));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v1));
}

/* Then edge, disabled, re-routed, routed to no vCPU. */
static void spi_line_edge_and_routing(struct __test_metadata *_metadata,
				      struct gic *g)
{
	int v0 = g->fd[0], v1 = g->fd[1];

	/* Edge-triggered: each rising level is one interrupt. */
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_ICFGR + 8, 4, 2 << 16));
	ASSERT_OK(line(g->dev, 40, 1, 0));
	ASSERT_OK(line(g->dev, 40, 0, 0));
	ASSERT_EQ(40, ack(v1));
	ASSERT_EQ(0, rd(v0, DIST + XVM_GICD_ISPENDR + 4, 4));
	ASSERT_OK(eoi(v1, 40));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v1));

	/* Disabled: pending but never delivered. */
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_ICENABLER + 4, 4, 1 << 8));
	ASSERT_OK(line(g->dev, 40, 1, 0));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v1));
	ASSERT_EQ(1 << 8, rd(v0, DIST + XVM_GICD_ISPENDR + 4, 4));
	/* Re-routed to vCPU 0 and enabled: vCPU 0 takes it. */
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_IROUTER + 8 * 40, 8, 0));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_ISENABLER + 4, 4, 1 << 8));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v1));
	ASSERT_EQ(40, ack(v0));
	ASSERT_OK(eoi(v0, 40));
	/* Routed to no vCPU: stays pending. */
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_IROUTER + 8 * 41, 8, aff(7)));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_ISENABLER + 4, 4, 1 << 9));
	ASSERT_OK(line(g->dev, 41, 1, 0));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v1));
}

/* An SPI on a line, routed to vCPU 1: poll, acknowledge, EOI. */
TEST(e2e_spi_line)
{
	struct gic *g = gic_running(2, 128);

	ASSERT_NE(NULL, g);
	spi_line_level(_metadata, g);
	spi_line_edge_and_routing(_metadata, g);
	/* Bad lines */
	ASSERT_ERR(line(g->dev, 128, 1, 0), EINVAL);
	ASSERT_ERR(line(g->dev, 3, 1, 0), EINVAL);
	ASSERT_ERR(line(g->dev, 40, 2, 0), EINVAL);
	ASSERT_ERR(line(g->dev, 40, 1, 1), EINVAL);
	ASSERT_ERR(line(g->dev, 20, 1, 9), EINVAL);
	gic_free(g);
}

struct poller {
	int vcpu;
	uint32_t port;
	int ret;
	uint32_t got;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;

	p->ret = xvm_poll(p->vcpu, &p->port, 1, 20000000000ULL, 0, &p->got);
	return NULL;
}

/* The vCPU thread sleeps in XVM_POLL; an MSI written on the bus wakes it. */
TEST(e2e_msi_setspi_wakes_poll)
{
	struct gic *g = gic_running(2, 256);
	struct poller p;
	pthread_t t;
	int v0, v1;

	ASSERT_NE(NULL, g);
	v0 = g->fd[0];
	v1 = g->fd[1];
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_IROUTER + 8 * 100, 8, aff(1)));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_ICFGR + 0x18, 4, 2 << 8));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_ISENABLER + 12, 4, 1 << 4));

	p.vcpu = v1;
	p.port = g->port[1];
	p.ret = -2;
	ASSERT_EQ(0, pthread_create(&t, NULL, poll_thread, &p));
	/* The MSI: a 4-byte write of the INTID to XVM_GICD_SETSPI_NSR. */
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_SETSPI_NSR, 4, 100));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(1, p.ret);
	ASSERT_EQ(g->port[1], p.got);
	ASSERT_EQ(100, ack(v1));
	ASSERT_OK(eoi(v1, 100));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v1));

	/* Level-sensitive: SETSPI asserts until CLRSPI. */
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_ICFGR + 0x18, 4, 0));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_SETSPI_NSR, 4, 100));
	ASSERT_EQ(100, ack(v1));
	ASSERT_OK(eoi(v1, 100));
	ASSERT_EQ(100, ack(v1));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_CLRSPI_NSR, 4, 100));
	ASSERT_OK(eoi(v1, 100));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v1));
	/* Writes naming no SPI are ignored; the register reads as zero. */
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_SETSPI_NSR, 4, 5));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_SETSPI_NSR, 4, 300));
	ASSERT_EQ(0, rd(v0, DIST + XVM_GICD_SETSPI_NSR, 4));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v1));
	ASSERT_EQ(~0ULL, rd(v0, DIST + XVM_GICD_SETSPI_NSR, 8));
	gic_free(g);
}

TEST(e2e_sgi_between_vcpus)
{
	struct gic *g = gic_running(20, 64);
	int i, v0;

	ASSERT_NE(NULL, g);
	v0 = g->fd[0];
	/* vCPU 0 -> vCPUs 1 and 2 (Aff1 0, TargetList bits 1, 2). */
	ASSERT_OK(sgi(v0, sgi1r(5, 0, 0x6), 1));
	ASSERT_EQ(1, port_pending(g, g->port[1]));
	ASSERT_EQ(1, port_pending(g, g->port[2]));
	ASSERT_EQ(0, port_pending(g, g->port[3]));
	ASSERT_EQ(5, ack(g->fd[1]));
	ASSERT_EQ(5, ack(g->fd[2]));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(g->fd[3]));
	ASSERT_OK(eoi(g->fd[1], 5));
	ASSERT_OK(eoi(g->fd[2], 5));
	/* Aff1 1: vCPU 17 (id 0x11). */
	ASSERT_OK(sgi(v0, sgi1r(7, 1, 0x2), 1));
	ASSERT_EQ(7, ack(g->fd[17]));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(g->fd[1]));
	ASSERT_OK(eoi(g->fd[17], 7));
	/* Nonexistent Aff0 15 under Aff1 1 (id 31): nothing, no error. */
	ASSERT_OK(sgi(v0, sgi1r(7, 1, 0x8000), 1));
	/* RS != 0 or Aff3 != 0 name nobody. */
	ASSERT_OK(sgi(v0, sgi1r(7, 0, 0x2) | (1ULL << 44), 1));
	ASSERT_OK(sgi(v0, sgi1r(7, 0, 0x2) | (1ULL << 48), 1));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(g->fd[1]));
	/* IRM: everyone but the sender. */
	ASSERT_OK(sgi(g->fd[4], sgi1r(9, 0, 0) | (1ULL << 40), 1));
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(i == 4 ? XVM_VGIC_SPURIOUS : 9, ack(g->fd[i]))
			TH_LOG("vCPU %d", i);
		if (i != 4)
			ASSERT_OK(eoi(g->fd[i], 9));
	}
	/* A group-0 request does not raise a group-1 SGI ... */
	ASSERT_OK(sgi(v0, sgi1r(3, 0, 0x2), 0));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(g->fd[1]));
	/* ... but raises a group-0 one, acknowledged through IAR0. */
	ASSERT_EQ(1, wr(v0, REDIST + RD_SIZE + XVM_GICR_IGROUPR0, 4, ~(1U << 3)));
	ASSERT_OK(sgi(v0, sgi1r(3, 0, 0x2), 0));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack_grp(g->fd[1], 1, 0));
	ASSERT_EQ(3, ack_grp(g->fd[1], 0, 0));
	ASSERT_OK(eoi(g->fd[1], 3));
	/* Bad requests */
	ASSERT_ERR(sgi(v0, 0, 2), EINVAL);
	gic_free(g);
}

/* PMR, running priority, preemption, and equal priorities by INTID. */
static void priority_preemption(struct __test_metadata *_metadata,
				struct gic *g)
{
	struct xvm_vgic_cpuif s;
	int v = g->fd[0];

	/* SPI 32 prio 0x80, SPI 33 prio 0x40, SPI 34 prio 0xc0; all edge. */
	ASSERT_EQ(1, wr(v, DIST + XVM_GICD_IPRIORITYR + 32, 4, 0xc04080));
	ASSERT_EQ(1, wr(v, DIST + XVM_GICD_ICFGR + 8, 4, 0x2a));
	ASSERT_EQ(1, wr(v, DIST + XVM_GICD_ISENABLER + 4, 4, 0x7));
	/* PMR 0x80 masks priorities 0x80 and below. */
	ASSERT_OK(cpuif_set(v, 0x80, 3, g->port[0]));
	ASSERT_OK(xvm_evtchn_clear(g->vm, g->port[0]));
	ASSERT_OK(line(g->dev, 32, 1, 0));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v));
	ASSERT_EQ(0, port_pending(g, g->port[0]));
	/* Opening the mask delivers, and raises the port. */
	ASSERT_OK(cpuif_set(v, 0x88, 3, g->port[0]));
	ASSERT_EQ(1, port_pending(g, g->port[0]));
	ASSERT_OK(xvm_evtchn_clear(g->vm, g->port[0]));
	ASSERT_EQ(32, ack(v));				/* running 0x80 */
	/* Same or lower priority waits for the EOI; higher preempts. */
	ASSERT_OK(line(g->dev, 34, 1, 0));
	ASSERT_OK(cpuif_set(v, 0xf8, 3, g->port[0]));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v));
	ASSERT_OK(line(g->dev, 33, 1, 0));
	ASSERT_EQ(33, ack(v));				/* running 0x40 */
	ASSERT_OK(cpuif_get(v, &s));
	ASSERT_EQ(0x40, s.rpr);
	ASSERT_EQ((1U << 8) | (1U << 16), s.apr);
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v));
	ASSERT_OK(eoi(v, 33));				/* back to 0x80 */
	ASSERT_OK(cpuif_get(v, &s));
	ASSERT_EQ(0x80, s.rpr);
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v));
	ASSERT_OK(eoi(v, 32));				/* idle */
	ASSERT_OK(cpuif_get(v, &s));
	ASSERT_EQ(0xff, s.rpr);
	ASSERT_EQ(34, ack(v));
	ASSERT_OK(eoi(v, 34));
	/* Equal priorities: the lowest INTID first. */
	ASSERT_EQ(1, wr(v, DIST + XVM_GICD_IPRIORITYR + 32, 4, 0x505050));
	ASSERT_OK(line(g->dev, 34, 1, 0));
	ASSERT_OK(line(g->dev, 33, 1, 0));
	ASSERT_EQ(33, ack(v));
	/* HPPIR shows it, though the running priority holds it back. */
	ASSERT_EQ(34, ack_grp(v, 1, 1));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v));
	ASSERT_OK(eoi(v, 33));
	ASSERT_EQ(34, ack(v));
	ASSERT_OK(eoi(v, 34));
}

/* Group enables (XVM_GICD_CTLR, the CPU interface) and EOImode with DIR. */
static void priority_groups_and_eoimode(struct __test_metadata *_metadata,
					struct gic *g)
{
	struct xvm_vgic_cpuif s;
	int v = g->fd[0];

	/* Group enables: XVM_GICD_CTLR and the CPU interface. */
	ASSERT_OK(line(g->dev, 33, 1, 0));
	ASSERT_EQ(1, wr(v, DIST + XVM_GICD_CTLR, 4, 1));	/* group 1 off */
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v));
	ASSERT_OK(xvm_evtchn_clear(g->vm, g->port[0]));
	ASSERT_EQ(1, wr(v, DIST + XVM_GICD_CTLR, 4, 3));
	ASSERT_EQ(1, port_pending(g, g->port[0]));
	ASSERT_OK(cpuif_set(v, 0xf8, XVM_VGIC_CPUIF_IGRPEN0, g->port[0]));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v));
	/* EOImode: EOI drops the priority only, DIR deactivates. */
	ASSERT_OK(cpuif_set(v, 0xf8, 3 | XVM_VGIC_CPUIF_EOIMODE, g->port[0]));
	ASSERT_EQ(33, ack(v));
	ASSERT_OK(eoi(v, 33));
	ASSERT_OK(cpuif_get(v, &s));
	ASSERT_EQ(0xff, s.rpr);
	ASSERT_EQ(2, rd(v, DIST + XVM_GICD_ISACTIVER + 4, 4));
	{
		struct xvm_vgic_eoi e = { .intid = 33,
					  .flags = XVM_VGIC_EOI_DIR };

		ASSERT_OK(ioctl(v, XVM_VGIC_EOI, &e));
		e.flags = 2;
		ASSERT_ERR(ioctl(v, XVM_VGIC_EOI, &e), EINVAL);
		e.flags = 0;
		e.intid = 1024;
		ASSERT_ERR(ioctl(v, XVM_VGIC_EOI, &e), EINVAL);
	}
	ASSERT_EQ(0, rd(v, DIST + XVM_GICD_ISACTIVER + 4, 4));
}

TEST(e2e_priority_masking)
{
	struct gic *g = gic_running(1, 64);
	int v;

	ASSERT_NE(NULL, g);
	v = g->fd[0];
	priority_preemption(_metadata, g);
	priority_groups_and_eoimode(_metadata, g);
	/* Bad CPU interface settings */
	ASSERT_ERR(cpuif_set(v, 0x100, 3, 0), EINVAL);
	ASSERT_ERR(cpuif_set(v, 0xf8, 8, 0), EINVAL);
	ASSERT_ERR(cpuif_set(v, 0xf8, 3, XVM_EVTCHN_MAX_PORTS), EINVAL);
	gic_free(g);
}

TEST(e2e_ppi_lines)
{
	struct gic *g = gic_running(2, 64);
	struct xvm_vgic_irq_line l = { .intid = 27, .level = 1 };
	int v0, v1;

	ASSERT_NE(NULL, g);
	v0 = g->fd[0];
	v1 = g->fd[1];
	ASSERT_EQ(1, wr(v0, REDIST + RD_SIZE + XVM_GICR_ISENABLER0, 4, 1 << 27));
	/* The vCPU-fd form: a PPI of that vCPU. */
	ASSERT_OK(ioctl(v1, XVM_VGIC_PPI_LINE, &l));
	ASSERT_EQ(1, port_pending(g, g->port[1]));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v0));
	ASSERT_EQ(27, ack(v1));
	l.level = 0;
	ASSERT_OK(ioctl(v1, XVM_VGIC_PPI_LINE, &l));
	ASSERT_OK(eoi(v1, 27));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v1));
	/* The device-fd form names the vCPU by id. */
	ASSERT_OK(line(g->dev, 27, 1, 1));
	ASSERT_EQ(27, ack(v1));
	ASSERT_OK(line(g->dev, 27, 0, 1));
	ASSERT_OK(eoi(v1, 27));
	/* vCPU 0's PPI 27 is disabled: pending, not delivered. */
	ASSERT_OK(line(g->dev, 27, 1, 0));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v0));
	ASSERT_EQ(1 << 27, rd(v0, REDIST + XVM_GICR_ISPENDR0, 4));
	/* Bad PPI lines */
	l.intid = 5;
	ASSERT_ERR(ioctl(v1, XVM_VGIC_PPI_LINE, &l), EINVAL);
	l.intid = 40;
	ASSERT_ERR(ioctl(v1, XVM_VGIC_PPI_LINE, &l), EINVAL);
	l.intid = 20;
	l.vcpu_id = 1;
	ASSERT_ERR(ioctl(v1, XVM_VGIC_PPI_LINE, &l), EINVAL);
	gic_free(g);
}

/*
 * Every path at once (lockdep and KASAN see it in the debug kernel): each
 * vCPU thread sends SGIs to the next one and acknowledges its own, while
 * the main thread drives an SPI, re-routes it, writes priorities and sends
 * MSIs.  Whatever interleaving, every acknowledged INTID is one that was
 * raised, and once everything stops and is drained nothing stays active.
 */
#define STRESS_VCPUS	4
#define STRESS_LOOPS	3000

struct stresser {
	struct gic *g;
	pthread_barrier_t *start;	/* all threads, and the main one */
	int i;
	int bad;
	long acked;
};

static void *stress_thread(void *arg)
{
	struct stresser *s = arg;
	int me = s->g->fd[s->i], n, loop;
	uint32_t next = (s->i + 1) % STRESS_VCPUS;

	/* No thread may finish before its sender has started. */
	pthread_barrier_wait(s->start);
	for (loop = 0; loop < STRESS_LOOPS; loop++) {
		if (sgi(me, sgi1r(2, 0, 1U << next), 1))
			s->bad++;
		n = ack(me);
		if (n == XVM_VGIC_SPURIOUS)
			continue;
		if (n != 2 && n != 40 && n != 41)
			s->bad++;
		if (eoi(me, n))
			s->bad++;
		s->acked++;
	}
	return NULL;
}

TEST(e2e_concurrent_stress)
{
	struct gic *g = gic_running(STRESS_VCPUS, 64);
	struct stresser s[STRESS_VCPUS];
	pthread_t t[STRESS_VCPUS];
	pthread_barrier_t start;
	int i, n, loop, v0;

	ASSERT_NE(NULL, g);
	v0 = g->fd[0];
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_ICFGR + 8, 4, 2 << 18));  /* 41 edge */
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_ISENABLER + 4, 4, 3 << 8));
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, STRESS_VCPUS + 1));
	for (i = 0; i < STRESS_VCPUS; i++) {
		s[i] = (struct stresser){ .g = g, .start = &start, .i = i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, stress_thread, &s[i]));
	}
	pthread_barrier_wait(&start);
	for (loop = 0; loop < STRESS_LOOPS; loop++) {
		ASSERT_OK(line(g->dev, 40, loop & 1, 0));
		ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_IROUTER + 8 * 40, 8,
				aff(loop % STRESS_VCPUS)));
		ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_IPRIORITYR + 40, 1,
				(loop & 7) << 3));
		ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_IROUTER + 8 * 41, 8,
				aff((loop / 3) % STRESS_VCPUS)));
		ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_SETSPI_NSR, 4, 41));
	}
	for (i = 0; i < STRESS_VCPUS; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		ASSERT_EQ(0, s[i].bad);
	}
	/*
	 * Stop the sources, drain every vCPU.  A thread may have run all its
	 * loops before its sender ran at all (the barrier does not make them
	 * overlap): its SGI is then still pending, and counts here.
	 */
	ASSERT_OK(line(g->dev, 40, 0, 0));
	for (i = 0; i < STRESS_VCPUS; i++) {
		while ((n = ack(g->fd[i])) != XVM_VGIC_SPURIOUS) {
			ASSERT_LT(0, n);
			ASSERT_OK(eoi(g->fd[i], n));
			s[i].acked++;
		}
		ASSERT_LT(0, s[i].acked);
		ASSERT_EQ(0, rd(v0, REDIST + i * RD_SIZE + XVM_GICR_ISACTIVER0, 4));
	}
	ASSERT_EQ(0, rd(v0, DIST + XVM_GICD_ISACTIVER + 4, 4));
	ASSERT_EQ(0, rd(v0, DIST + XVM_GICD_ISPENDR + 4, 4));
	gic_free(g);
}

/* Every test here needs the vGIC: without xvm-vgic the binary skips. */
static void __attribute__((constructor)) need_vgic(void)
{
	xvm_require_device_type(XVM_DEV_TYPE_ARM_VGIC_V3, "xvm-vgic");
}

/* XVM_VGIC_EOI_ACK */

/* What a VMM can see of vCPU 0's interrupt state (SPIs 32..63). */
struct cpu_state {
	uint32_t rpr, apr, pmr, ctlr;
	uint64_t active, pending;
	int port;
};

static void cpu_state_of(struct __test_metadata *_metadata, struct gic *g,
			 struct cpu_state *st)
{
	struct xvm_vgic_cpuif s;

	memset(st, 0, sizeof(*st));
	ASSERT_OK(cpuif_get(g->fd[0], &s));
	st->rpr = s.rpr;
	st->apr = s.apr;
	st->pmr = s.pmr;
	st->ctlr = s.ctlr;
	st->active = rd(g->fd[0], DIST + XVM_GICD_ISACTIVER + 4, 4);
	st->pending = rd(g->fd[0], DIST + XVM_GICD_ISPENDR + 4, 4);
	st->port = port_pending(g, g->port[0]);
	ASSERT_OK(xvm_evtchn_clear(g->vm, g->port[0]));
}

/*
 * EOI intid (flags) then acknowledge group 1: on sep with XVM_VGIC_EOI
 * and XVM_VGIC_ACK, on one with one XVM_VGIC_EOI_ACK.  Asserts the same
 * outputs and state; returns the acknowledged INTID.
 */
static uint32_t eoi_ack_vs(struct __test_metadata *_metadata, struct gic *sep,
			   struct gic *one, uint32_t intid, uint32_t flags)
{
	struct xvm_vgic_eoi e = { .intid = intid, .flags = flags };
	struct xvm_vgic_ack k = { .group = 1 };
	struct xvm_vgic_eoi_ack ea = { .eoi = e, .ack = k };
	struct cpu_state a, b;

	ASSERT_OK(ioctl(sep->fd[0], XVM_VGIC_EOI, &e));
	ASSERT_OK(ioctl(sep->fd[0], XVM_VGIC_ACK, &k));
	ASSERT_OK(xvm_vgic_eoi_ack(one->fd[0], &ea));
	EXPECT_EQ(k.intid, ea.ack.intid);
	EXPECT_EQ(k.priority, ea.ack.priority);
	EXPECT_EQ(intid, ea.eoi.intid);
	EXPECT_EQ(flags, ea.eoi.flags);
	cpu_state_of(_metadata, sep, &a);
	cpu_state_of(_metadata, one, &b);
	EXPECT_EQ(a.rpr, b.rpr);
	EXPECT_EQ(a.apr, b.apr);
	EXPECT_EQ(a.active, b.active);
	EXPECT_EQ(a.pending, b.pending);
	EXPECT_EQ(a.port, b.port);
	return ea.ack.intid;
}

/* One bus write on both GICs. */
static void wr2(struct __test_metadata *_metadata, struct gic **g,
		uint64_t addr, uint64_t val)
{
	ASSERT_EQ(1, wr(g[0]->fd[0], addr, 4, val));
	ASSERT_EQ(1, wr(g[1]->fd[0], addr, 4, val));
}

static void line2(struct __test_metadata *_metadata, struct gic **g,
		  uint32_t intid, uint32_t level)
{
	ASSERT_OK(line(g[0]->dev, intid, level, 0));
	ASSERT_OK(line(g[1]->dev, intid, level, 0));
}

static void ack2(struct __test_metadata *_metadata, struct gic **g,
		 uint32_t intid)
{
	ASSERT_EQ(intid, ack(g[0]->fd[0]));
	ASSERT_EQ(intid, ack(g[1]->fd[0]));
}

/*
 * SPI 32 (prio 0x80) and 33 (0x40) edge, 34 (0xc0) level, all enabled;
 * 32 then 33 (preempting) acknowledged.
 */
static void eoi_ack_setup(struct __test_metadata *_metadata, struct gic **g)
{
	wr2(_metadata, g, DIST + XVM_GICD_IPRIORITYR + 32, 0xc04080);
	wr2(_metadata, g, DIST + XVM_GICD_ICFGR + 8, 0x0a);
	wr2(_metadata, g, DIST + XVM_GICD_ISENABLER + 4, 0x7);
	line2(_metadata, g, 32, 1);
	ack2(_metadata, g, 32);
	line2(_metadata, g, 33, 1);
	ack2(_metadata, g, 33);
}

/* Priority drop, deactivation, running priority, groups, EOImode, DIR. */
TEST(eoi_ack_is_eoi_then_ack)
{
	struct gic *g[2] = { gic_running(1, 64), gic_running(1, 64) };
	struct cpu_state st;
	int i;

	ASSERT_NE(NULL, g[0]);
	ASSERT_NE(NULL, g[1]);
	eoi_ack_setup(_metadata, g);
	/* 33 completes; 32 is still active: nothing to take, rpr 0x80. */
	ASSERT_EQ(XVM_VGIC_SPURIOUS, eoi_ack_vs(_metadata, g[0], g[1], 33, 0));
	cpu_state_of(_metadata, g[1], &st);
	ASSERT_EQ(0x80, st.rpr);
	ASSERT_EQ(1, st.active);
	/* 34 waits behind 32's running priority, then is taken. */
	line2(_metadata, g, 34, 1);
	ASSERT_EQ(34, eoi_ack_vs(_metadata, g[0], g[1], 32, 0));
	cpu_state_of(_metadata, g[1], &st);
	ASSERT_EQ(0xc0, st.rpr);
	ASSERT_EQ(4, st.active);
	/* Group 1 disabled: 34 (line high) pends again, nothing is taken. */
	wr2(_metadata, g, DIST + XVM_GICD_CTLR, 1);
	ASSERT_EQ(XVM_VGIC_SPURIOUS, eoi_ack_vs(_metadata, g[0], g[1], 34, 0));
	cpu_state_of(_metadata, g[1], &st);
	ASSERT_EQ(0xff, st.rpr);
	ASSERT_EQ(0, st.active);
	ASSERT_EQ(4, st.pending);
	wr2(_metadata, g, DIST + XVM_GICD_CTLR, 3);
	/* EOImode: the EOI only drops the priority; DIR deactivates. */
	for (i = 0; i < 2; i++)
		ASSERT_OK(cpuif_set(g[i]->fd[0], 0xf8,
				    3 | XVM_VGIC_CPUIF_EOIMODE, g[i]->port[0]));
	ack2(_metadata, g, 34);
	ASSERT_EQ(XVM_VGIC_SPURIOUS, eoi_ack_vs(_metadata, g[0], g[1], 34, 0));
	cpu_state_of(_metadata, g[1], &st);
	ASSERT_EQ(0xff, st.rpr);
	ASSERT_EQ(4, st.active);
	ASSERT_EQ(34, eoi_ack_vs(_metadata, g[0], g[1], 34, XVM_VGIC_EOI_DIR));
	line2(_metadata, g, 34, 0);
	ASSERT_EQ(XVM_VGIC_SPURIOUS,
		  eoi_ack_vs(_metadata, g[0], g[1], 34, XVM_VGIC_EOI_DIR));
	/* Nothing active, nothing pending: 1023, priority 0xff. */
	ASSERT_EQ(XVM_VGIC_SPURIOUS, eoi_ack_vs(_metadata, g[0], g[1], 34, 0));
	cpu_state_of(_metadata, g[1], &st);
	ASSERT_EQ(0xff, st.rpr);
	ASSERT_EQ(0, st.apr);
	ASSERT_EQ(0, st.active);
	gic_free(g[0]);
	gic_free(g[1]);
}

/* Every invalid argument fails with EINVAL and performs neither half. */
TEST(eoi_ack_errnos)
{
	struct gic *g = gic_running(1, 64);
	struct xvm_vgic_eoi_ack bad[] = {
		{ .eoi = { .intid = 1024 }, .ack = { .group = 1 } },
		{ .eoi = { .intid = 32, .flags = 2 }, .ack = { .group = 1 } },
		{ .eoi = { .intid = 32 }, .ack = { .group = 2 } },
		{ .eoi = { .intid = 32 }, .ack = { .group = 1, .pad = 1 } },
	};
	struct xvm_vgic_eoi_ack ea;
	struct cpu_state st;
	unsigned int i;
	int v;

	ASSERT_NE(NULL, g);
	v = g->fd[0];
	ASSERT_EQ(1, wr(v, DIST + XVM_GICD_ISENABLER + 4, 4, 0x3));
	ASSERT_OK(line(g->dev, 32, 1, 0));
	ASSERT_EQ(32, ack(v));
	ASSERT_OK(line(g->dev, 32, 0, 0));	/* active only */
	ASSERT_OK(line(g->dev, 33, 1, 0));	/* pending, same priority */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ea = bad[i];
		ASSERT_ERR(xvm_vgic_eoi_ack(v, &ea), EINVAL);
		cpu_state_of(_metadata, g, &st);
		ASSERT_EQ(1, st.active);	/* 32 not completed */
		ASSERT_EQ(2, st.pending);	/* 33 not taken */
		ASSERT_EQ(0, st.rpr);
	}
	ASSERT_ERR(ioctl(v, XVM_VGIC_EOI_ACK, NULL), EFAULT);
	ea = (struct xvm_vgic_eoi_ack){ .eoi = { .intid = 32 },
					.ack = { .group = 1 } };
	ASSERT_OK(xvm_vgic_eoi_ack(v, &ea));
	ASSERT_EQ(33, ea.ack.intid);
	ASSERT_EQ(0, ea.ack.priority);
	gic_free(g);
}

/* The first-run check (ENXIO, EBUSY) and ENOTTY without a vGIC. */
TEST(eoi_ack_first_run)
{
	struct xvm_vgic_eoi_ack ea = { .eoi = { .intid = 1023 },
				       .ack = { .group = 1 } };
	struct gic *g = gic_new();

	ASSERT_NE(-1, gic_vcpu(g, 0));
	ASSERT_ERR(xvm_vgic_eoi_ack(g->fd[0], &ea), ENOTTY);
	ASSERT_OK(gic_device(g));
	ASSERT_ERR(xvm_vgic_eoi_ack(g->fd[0], &ea), ENXIO);
	ASSERT_OK(set_addr(g->dev, A_DIST, DIST));
	ASSERT_OK(set_addr(g->dev, A_REDIST, REDIST));
	ASSERT_ERR(xvm_vgic_eoi_ack(g->fd[0], &ea), EBUSY);
	ASSERT_OK(gic_init(g->dev));
	ASSERT_OK(xvm_vgic_eoi_ack(g->fd[0], &ea));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ea.ack.intid);
	ASSERT_EQ(0xff, ea.ack.priority);
	gic_free(g);
}

/* ------------------------------------------------------------------ */
/* State: save and restore (CPU_SYSREGS, LEVEL_INFO, the version)      */

#define GRP_SYSREGS	XVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS
#define GRP_LEVEL	XVM_DEV_ARM_VGIC_GRP_LEVEL_INFO
#define LINE_LEVEL	XVM_VGIC_LEVEL_INFO_LINE_LEVEL
#define MSI_LEVEL	XVM_VGIC_LEVEL_INFO_MSI_LEVEL
#define NOTIFY_PORT	XVM_VGIC_SYSREG_NOTIFY_PORT
#define ST_NR_IRQS	128

static uint64_t sysreg_attr(uint32_t id, uint32_t reg)
{
	return XVM_VGIC_V3_SYSREG_ATTR(aff(id), reg);
}

static int sysreg_set(int dev, uint32_t id, uint32_t reg, uint64_t v)
{
	return xvm_set_attr(dev, GRP_SYSREGS, sysreg_attr(id, reg), &v);
}

/* CPU_SYSREGS get of vCPU id's reg; ~0 on error. */
static uint64_t sysreg(int dev, uint32_t id, uint32_t reg)
{
	uint64_t v = 0;

	if (xvm_get_attr(dev, GRP_SYSREGS, sysreg_attr(id, reg), &v))
		return ~0ULL;
	return v;
}

static int level_set(int dev, uint32_t id, uint32_t info, uint32_t intid,
		     uint32_t v)
{
	return xvm_set_attr(dev, GRP_LEVEL,
			    XVM_VGIC_V3_LEVEL_ATTR(aff(id), info, intid), &v);
}

static uint32_t level(int dev, uint32_t id, uint32_t info, uint32_t intid)
{
	uint32_t v = 0;

	if (xvm_get_attr(dev, GRP_LEVEL,
			 XVM_VGIC_V3_LEVEL_ATTR(aff(id), info, intid), &v))
		return ~0U;
	return v;
}

/*
 * One piece of the saved state: an attribute of size bytes; for a
 * set/clear register pair, the clear register, written with the
 * complement before the set one; restore 0 for a read-only one (compared,
 * never written).
 */
struct st_item {
	uint32_t group;
	uint64_t attr;
	uint64_t clear;
	int restore;
	uint64_t val;
};

struct st {
	unsigned int n;
	struct st_item it[512];
};

static void st_add(struct st *s, uint32_t group, uint64_t attr,
		   uint64_t clear, int restore)
{
	if (s->n < sizeof(s->it) / sizeof(s->it[0]))
		s->it[s->n++] = (struct st_item){ .group = group, .attr = attr,
						  .clear = clear,
						  .restore = restore };
}

/* The distributor, in restore order (its CTLR comes last: st_list()). */
static void st_dist(struct st *s)
{
	uint32_t i;

	for (i = 4; i < ST_NR_IRQS / 8; i += 4) {
		st_add(s, GRP_DIST, XVM_GICD_IGROUPR + i, 0, 1);
		st_add(s, GRP_DIST, XVM_GICD_ISENABLER + i,
		       XVM_GICD_ICENABLER + i, 1);
		st_add(s, GRP_DIST, XVM_GICD_ISACTIVER + i,
		       XVM_GICD_ICACTIVER + i, 1);
		st_add(s, GRP_DIST, XVM_GICD_ISPENDR + i, 0, 1);
	}
	for (i = 8; i < ST_NR_IRQS / 4; i += 4)
		st_add(s, GRP_DIST, XVM_GICD_ICFGR + i, 0, 1);
	for (i = 32; i < ST_NR_IRQS; i += 4)
		st_add(s, GRP_DIST, XVM_GICD_IPRIORITYR + i, 0, 1);
	for (i = 32; i < ST_NR_IRQS; i++)
		st_add(s, GRP_DIST, XVM_GICD_IROUTER + 8 * i, 0, 1);
}

/* vCPU id's redistributor, line levels and CPU interface. */
static void st_vcpu(struct st *s, uint32_t id)
{
	static const uint32_t regs[] = {
		XVM_ICC_SRE_EL1, XVM_ICC_PMR_EL1, XVM_ICC_BPR0_EL1,
		XVM_ICC_BPR1_EL1, XVM_ICC_CTLR_EL1, XVM_ICC_AP0R_EL1(0),
		XVM_ICC_AP1R_EL1(0), XVM_ICC_IGRPEN0_EL1,
		XVM_ICC_IGRPEN1_EL1, NOTIFY_PORT,
	};
	uint64_t a = (uint64_t)aff(id) << 32;
	uint32_t i;

	st_add(s, GRP_REDIST, a | XVM_GICR_IGROUPR0, 0, 1);
	st_add(s, GRP_REDIST, a | XVM_GICR_ICFGR0, 0, 1);
	st_add(s, GRP_REDIST, a | (XVM_GICR_ICFGR0 + 4), 0, 1);
	for (i = 0; i < 32; i += 4)
		st_add(s, GRP_REDIST, a | (XVM_GICR_IPRIORITYR0 + i), 0, 1);
	st_add(s, GRP_REDIST, a | XVM_GICR_ISENABLER0,
	       a | XVM_GICR_ICENABLER0, 1);
	st_add(s, GRP_REDIST, a | XVM_GICR_ISACTIVER0,
	       a | XVM_GICR_ICACTIVER0, 1);
	st_add(s, GRP_REDIST, a | XVM_GICR_ISPENDR0, 0, 1);
	st_add(s, GRP_REDIST, a | XVM_GICR_WAKER, 0, 1);
	for (i = 0; i < ST_NR_IRQS; i += 32) {
		st_add(s, GRP_LEVEL, XVM_VGIC_V3_LEVEL_ATTR(aff(id), LINE_LEVEL,
							   i), 0, 1);
		st_add(s, GRP_LEVEL, XVM_VGIC_V3_LEVEL_ATTR(aff(id), MSI_LEVEL,
							   i), 0, 1);
	}
	/* BPR1 before CTLR: with CBPR set, BPR1 ignores writes. */
	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		st_add(s, GRP_SYSREGS, sysreg_attr(id, regs[i]), 0, 1);
	st_add(s, GRP_SYSREGS, sysreg_attr(id, XVM_ICC_RPR_EL1), 0, 0);
}

/* Every state group of a GIC of n vCPUs, in the order of a restore. */
static void st_list(struct st *s, int n)
{
	int i;

	memset(s, 0, sizeof(*s));
	st_dist(s);
	for (i = 0; i < n; i++)
		st_vcpu(s, i);
	st_add(s, GRP_DIST, XVM_GICD_CTLR, 0, 1);
}

static void st_save(struct __test_metadata *_metadata, int dev, struct st *s)
{
	unsigned int i;

	for (i = 0; i < s->n; i++) {
		s->it[i].val = 0;
		ASSERT_OK(xvm_get_attr(dev, s->it[i].group, s->it[i].attr,
				       &s->it[i].val));
	}
}

static void st_restore(struct __test_metadata *_metadata, int dev,
		       const struct st *s)
{
	const struct st_item *it;
	uint64_t v;
	unsigned int i;

	for (i = 0; i < s->n; i++) {
		it = &s->it[i];
		if (!it->restore)
			continue;
		v = ~it->val & 0xffffffff;
		if (it->clear)
			ASSERT_OK(xvm_set_attr(dev, it->group, it->clear, &v));
		ASSERT_OK(xvm_set_attr(dev, it->group, it->attr, &it->val));
	}
}

/* The same values, and the same guest view of the pending state. */
static void st_compare(struct __test_metadata *_metadata, struct gic **g)
{
	struct st *a = calloc(2, sizeof(*a)), *b = a + 1;
	struct xvm_vgic_cpuif ca, cb;
	uint32_t i;

	ASSERT_NE(NULL, a);
	st_list(a, 2);
	st_list(b, 2);
	st_save(_metadata, g[0]->dev, a);
	st_save(_metadata, g[1]->dev, b);
	for (i = 0; i < a->n; i++) {
		EXPECT_EQ(a->it[i].val, b->it[i].val)
			TH_LOG("group %u attr %#llx", a->it[i].group,
			       (unsigned long long)a->it[i].attr);
	}
	for (i = 4; i < ST_NR_IRQS / 8; i += 4)
		EXPECT_EQ(rd(g[0]->fd[0], DIST + XVM_GICD_ISPENDR + i, 4),
			  rd(g[1]->fd[0], DIST + XVM_GICD_ISPENDR + i, 4));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(rd(g[0]->fd[0], REDIST + i * RD_SIZE +
			     XVM_GICR_ISPENDR0, 4),
			  rd(g[1]->fd[0], REDIST + i * RD_SIZE +
			     XVM_GICR_ISPENDR0, 4));
		ASSERT_OK(cpuif_get(g[0]->fd[i], &ca));
		ASSERT_OK(cpuif_get(g[1]->fd[i], &cb));
		EXPECT_EQ(0, memcmp(&ca, &cb, sizeof(ca)));
	}
	free(a);
}

/*
 * vCPU 0: BPR1 4 (group priorities [7:4]), PMR 0xf0; SPI 32 (0x80, level,
 * line high), 33 (0x40, edge) and 34 (0x20, group 0) acknowledged in that
 * order, so both AP0R0 and AP1R0 are set; SPI 35 (0x60, level, pending by
 * ISPENDR only), SPI 36 (0x60, level, asserted by SETSPI_NSR), SGI 3
 * (0x30) pending, PPI 20 (0x10, level, line high) disabled.
 * vCPU 1: awake, EOImode and CBPR, BPR0 3; SPI 40 (0xa0, level, line high)
 * acknowledged and EOIed (dropped, still active); SPI 41 (0x90, edge)
 * pending; SPI 42 (0x50, edge) pending, disabled.  The lines of the edge
 * SPIs 34, 41 and 42 stay high.
 */
static void st_setup(struct __test_metadata *_metadata, struct gic *g)
{
	int v0 = g->fd[0], v1 = g->fd[1], dev = g->dev;

	ASSERT_OK(sysreg_set(dev, 0, XVM_ICC_BPR1_EL1, 4));
	ASSERT_OK(sysreg_set(dev, 0, XVM_ICC_PMR_EL1, 0xf0));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_IPRIORITYR + 32, 4, 0x60204080));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_IPRIORITYR + 36, 4, 0x60));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_IPRIORITYR + 40, 4, 0x5090a0));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_ICFGR + 8, 4, 0x28 << 16 | 0x28));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_IGROUPR + 4, 4, ~(1U << 2)));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_IROUTER + 8 * 40, 8, aff(1)));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_IROUTER + 8 * 41, 8, aff(1)));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_IROUTER + 8 * 42, 8, aff(1)));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_ISENABLER + 4, 4, 0x37f));
	ASSERT_EQ(1, wr(v0, REDIST + XVM_GICR_IPRIORITYR0, 4, 0x30000000));
	ASSERT_EQ(1, wr(v0, REDIST + XVM_GICR_IPRIORITYR0 + 20, 1, 0x10));
	ASSERT_OK(line(dev, 32, 1, 0));
	ASSERT_EQ(32, ack(v0));
	ASSERT_OK(line(dev, 33, 1, 0));
	ASSERT_OK(line(dev, 33, 0, 0));
	ASSERT_EQ(33, ack(v0));
	ASSERT_OK(line(dev, 34, 1, 0));
	ASSERT_EQ(34, ack_grp(v0, 0, 0));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_ISPENDR + 4, 4, 1 << 3));
	ASSERT_EQ(1, wr(v0, DIST + XVM_GICD_SETSPI_NSR, 4, 36));
	ASSERT_OK(sgi(v1, sgi1r(3, 0, 1), 1));
	ASSERT_OK(line(dev, 20, 1, 0));

	ASSERT_EQ(1, wr(v0, REDIST + RD_SIZE + XVM_GICR_WAKER, 4, 0));
	ASSERT_OK(sysreg_set(dev, 1, XVM_ICC_BPR0_EL1, 3));
	ASSERT_OK(sysreg_set(dev, 1, XVM_ICC_CTLR_EL1, 0x400 |
			     XVM_ICC_CTLR_EOIMODE | XVM_ICC_CTLR_CBPR));
	ASSERT_OK(line(dev, 40, 1, 0));
	ASSERT_EQ(40, ack(v1));
	ASSERT_OK(eoi(v1, 40));
	ASSERT_OK(line(dev, 41, 1, 0));
	ASSERT_OK(line(dev, 42, 1, 0));
	ASSERT_EQ(0, sysreg(dev, 1, XVM_ICC_AP1R_EL1(0)));
}

/* One vCPU's acknowledges, both groups, on both GICs: the same INTIDs. */
static void st_ack_both(struct __test_metadata *_metadata, struct gic **g,
			int v, uint32_t *stack, int *depth, int *acked)
{
	int grp, a, b;

	for (grp = 0; grp < 2; grp++) {
		a = ack_grp(g[0]->fd[v], grp, 0);
		b = ack_grp(g[1]->fd[v], grp, 0);
		ASSERT_EQ(a, b) TH_LOG("vCPU %d group %d", v, grp);
		if (a != XVM_VGIC_SPURIOUS) {
			stack[(*depth)++] = a;
			(*acked)++;
		}
		EXPECT_EQ(port_pending(g[0], g[0]->port[v]),
			  port_pending(g[1], g[1]->port[v]));
	}
}

/* Completes the last interrupt vCPU v took, on both (DIR with EOImode). */
static void st_eoi_both(struct __test_metadata *_metadata, struct gic **g,
			int v, uint32_t *stack, int *depth)
{
	struct xvm_vgic_eoi dir = { .flags = XVM_VGIC_EOI_DIR };
	int i;

	if (!*depth)
		return;
	dir.intid = stack[--(*depth)];
	for (i = 0; i < 2; i++) {
		ASSERT_OK(eoi(g[i]->fd[v], dir.intid));
		if (v == 1)
			ASSERT_OK(ioctl(g[i]->fd[v], XVM_VGIC_EOI, &dir));
	}
}

/*
 * The same acknowledges and EOIs on both GICs give the same INTIDs and
 * port raises: the interrupts in progress complete (vCPU 0: 34, 33, 32),
 * the pending ones are taken in priority order, the lines go down.
 */
static void st_same_behaviour(struct __test_metadata *_metadata,
			      struct gic **g)
{
	struct xvm_vgic_eoi dir = { .intid = 40, .flags = XVM_VGIC_EOI_DIR };
	uint32_t stack[2][64] = { { 32, 33, 34 } };
	int depth[2] = { 3, 0 }, acked = 0, round, v, i;

	for (i = 0; i < 2; i++) {
		ASSERT_OK(xvm_evtchn_clear(g[i]->vm, g[i]->port[0]));
		ASSERT_OK(xvm_evtchn_clear(g[i]->vm, g[i]->port[1]));
	}
	for (round = 0; round < 12; round++) {
		for (v = 0; v < 2; v++)
			st_ack_both(_metadata, g, v, stack[v], &depth[v],
				    &acked);
		for (v = 0; v < 2; v++)
			st_eoi_both(_metadata, g, v, stack[v], &depth[v]);
		for (i = 0; i < 2 && round == 2; i++) {
			ASSERT_OK(line(g[i]->dev, 32, 0, 0));
			ASSERT_OK(line(g[i]->dev, 40, 0, 0));
			ASSERT_OK(ioctl(g[i]->fd[1], XVM_VGIC_EOI, &dir));
			ASSERT_EQ(1, wr(g[i]->fd[0], REDIST +
					XVM_GICR_ISENABLER0, 4, 1 << 20));
			ASSERT_EQ(1, wr(g[i]->fd[0], DIST +
					XVM_GICD_CLRSPI_NSR, 4, 36));
		}
		for (i = 0; i < 2 && round == 5; i++)
			ASSERT_OK(line(g[i]->dev, 20, 0, 0));
	}
	/* 41 (vCPU 1); 3, PPI 20 three times (level, line high), 35. */
	EXPECT_EQ(6, acked);
	EXPECT_EQ(0, depth[0]);
	st_compare(_metadata, g);
}

/* Save every group, restore into a new VM before its first run: same. */
TEST(state_round_trip)
{
	struct gic *g[2] = { gic_running(2, ST_NR_IRQS),
			     gic_fresh(2, ST_NR_IRQS) };
	struct st *s = calloc(1, sizeof(*s));
	uint64_t ver = 0;

	ASSERT_NE(NULL, g[0]);
	ASSERT_NE(NULL, g[1]);
	ASSERT_NE(NULL, s);
	ASSERT_EQ(g[0]->port[0], g[1]->port[0]);
	ASSERT_EQ(g[0]->port[1], g[1]->port[1]);
	st_setup(_metadata, g[0]);
	/* The save reads nothing that changes the state. */
	ASSERT_OK(xvm_get_attr(g[0]->dev, GRP_CTRL,
			       XVM_DEV_ARM_VGIC_CTRL_STATE_VERSION, &ver));
	ASSERT_EQ(XVM_VGIC_STATE_VERSION, ver);
	st_list(s, 2);
	st_save(_metadata, g[0]->dev, s);
	ASSERT_OK(xvm_get_attr(g[1]->dev, GRP_CTRL,
			       XVM_DEV_ARM_VGIC_CTRL_STATE_VERSION, &ver));
	ASSERT_EQ(XVM_VGIC_STATE_VERSION, ver);
	st_restore(_metadata, g[1]->dev, s);
	st_compare(_metadata, g);
	/* Spot checks of what the save holds. */
	ASSERT_EQ(1U << 4, sysreg(g[1]->dev, 0, XVM_ICC_AP0R_EL1(0)));
	ASSERT_EQ((1U << 16) | (1U << 8),
		  sysreg(g[1]->dev, 0, XVM_ICC_AP1R_EL1(0)));
	ASSERT_EQ(0x20, sysreg(g[1]->dev, 0, XVM_ICC_RPR_EL1));
	ASSERT_EQ(1U << 20, level(g[1]->dev, 0, LINE_LEVEL, 0));
	/* 32 and 40 (level), 34, 41 and 42 (edge) high: every line kept. */
	ASSERT_EQ(0x705, level(g[1]->dev, 1, LINE_LEVEL, 32));
	ASSERT_EQ(1U << 4, level(g[1]->dev, 1, MSI_LEVEL, 32));
	ASSERT_EQ(g[0]->port[1], sysreg(g[1]->dev, 1, NOTIFY_PORT));
	st_same_behaviour(_metadata, g);
	free(s);
	gic_free(g[0]);
	gic_free(g[1]);
}

/* Every CPU_SYSREGS register of vCPU id, in the order of st_vcpu(). */
static void sysregs_of(struct __test_metadata *_metadata, int dev,
		       uint32_t id, uint64_t *v)
{
	struct st s;
	unsigned int i;

	memset(&s, 0, sizeof(s));
	st_vcpu(&s, id);
	st_save(_metadata, dev, &s);
	for (i = 0; i < s.n; i++)
		v[i] = s.it[i].val;
}

/* A set that fails with err and changes nothing of vCPU 0's state. */
#define SET_FAILS(g, reg, val, err) do {				\
	uint64_t before_[64] = { 0 }, after_[64] = { 0 };		\
	sysregs_of(_metadata, (g)->dev, 0, before_);			\
	ASSERT_ERR(sysreg_set((g)->dev, 0, (reg), (val)), err);	\
	sysregs_of(_metadata, (g)->dev, 0, after_);			\
	ASSERT_EQ(0, memcmp(before_, after_, sizeof(before_)));	\
} while (0)

/* CPU_SYSREGS: KVM's encodings, reset values, reads and sets. */
TEST(state_sysregs)
{
	struct gic *g = gic_running(2, 64);

	ASSERT_NE(NULL, g);
	/* As KVM: SRE reads DIB|DFB|SRE; CTLR PRIbits 4 (5 bits). */
	ASSERT_EQ(7, sysreg(g->dev, 0, XVM_ICC_SRE_EL1));
	ASSERT_EQ(0x400, sysreg(g->dev, 0, XVM_ICC_CTLR_EL1));
	ASSERT_EQ(0xf8, sysreg(g->dev, 0, XVM_ICC_PMR_EL1));
	ASSERT_EQ(2, sysreg(g->dev, 0, XVM_ICC_BPR0_EL1));
	ASSERT_EQ(3, sysreg(g->dev, 0, XVM_ICC_BPR1_EL1));
	ASSERT_EQ(1, sysreg(g->dev, 0, XVM_ICC_IGRPEN0_EL1));
	ASSERT_EQ(1, sysreg(g->dev, 0, XVM_ICC_IGRPEN1_EL1));
	ASSERT_EQ(0xff, sysreg(g->dev, 0, XVM_ICC_RPR_EL1));
	ASSERT_EQ(g->port[1], sysreg(g->dev, 1, NOTIFY_PORT));
	/* The same state as XVM_VGIC_GET_CPUIF, both ways. */
	ASSERT_OK(sysreg_set(g->dev, 1, XVM_ICC_PMR_EL1, 0x47));
	ASSERT_OK(sysreg_set(g->dev, 1, XVM_ICC_IGRPEN0_EL1, 0));
	ASSERT_OK(sysreg_set(g->dev, 1, XVM_ICC_CTLR_EL1,
			     0x400 | XVM_ICC_CTLR_EOIMODE));
	ASSERT_OK(sysreg_set(g->dev, 1, NOTIFY_PORT, g->port[0]));
	ASSERT_OK(sysreg_set(g->dev, 1, XVM_ICC_AP1R_EL1(0), 1U << 9));
	{
		struct xvm_vgic_cpuif c;

		ASSERT_OK(cpuif_get(g->fd[1], &c));
		ASSERT_EQ(0x40, c.pmr);
		ASSERT_EQ(XVM_VGIC_CPUIF_IGRPEN1 | XVM_VGIC_CPUIF_EOIMODE,
			  c.ctlr);
		ASSERT_EQ(g->port[0], c.notify_port);
		ASSERT_EQ(1U << 9, c.apr);
		ASSERT_EQ(0x48, c.rpr);
	}
	ASSERT_EQ(0x48, sysreg(g->dev, 1, XVM_ICC_RPR_EL1));
	/* Binary points: the minimum for a smaller value; CBPR shares BPR0. */
	ASSERT_OK(sysreg_set(g->dev, 0, XVM_ICC_BPR0_EL1, 0));
	ASSERT_EQ(2, sysreg(g->dev, 0, XVM_ICC_BPR0_EL1));
	ASSERT_OK(sysreg_set(g->dev, 0, XVM_ICC_BPR1_EL1, 1));
	ASSERT_EQ(3, sysreg(g->dev, 0, XVM_ICC_BPR1_EL1));
	ASSERT_OK(sysreg_set(g->dev, 0, XVM_ICC_BPR0_EL1, 6));
	ASSERT_OK(sysreg_set(g->dev, 0, XVM_ICC_BPR1_EL1, 5));
	ASSERT_OK(sysreg_set(g->dev, 0, XVM_ICC_CTLR_EL1,
			     0x400 | XVM_ICC_CTLR_CBPR));
	ASSERT_EQ(0x401, sysreg(g->dev, 0, XVM_ICC_CTLR_EL1));
	ASSERT_EQ(7, sysreg(g->dev, 0, XVM_ICC_BPR1_EL1));
	ASSERT_OK(sysreg_set(g->dev, 0, XVM_ICC_BPR1_EL1, 4));	/* ignored */
	ASSERT_OK(sysreg_set(g->dev, 0, XVM_ICC_CTLR_EL1, 0x400));
	ASSERT_EQ(5, sysreg(g->dev, 0, XVM_ICC_BPR1_EL1));
	ASSERT_OK(sysreg_set(g->dev, 0, XVM_ICC_SRE_EL1, 1));
	ASSERT_OK(sysreg_set(g->dev, 0, XVM_ICC_SRE_EL1, 7));
	gic_free(g);
}

/* CPU_SYSREGS: bad values are EINVAL (ENXIO: read-only) and change nothing. */
TEST(state_sysregs_bad_values)
{
	struct gic *g = gic_running(2, 64);
	uint64_t v = 0;

	ASSERT_NE(NULL, g);
	ASSERT_OK(sysreg_set(g->dev, 0, XVM_ICC_AP1R_EL1(0), 1U << 9));
	ASSERT_OK(sysreg_set(g->dev, 0, XVM_ICC_BPR1_EL1, 5));
	SET_FAILS(g, XVM_ICC_PMR_EL1, 0x100, EINVAL);
	SET_FAILS(g, XVM_ICC_BPR0_EL1, 8, EINVAL);
	SET_FAILS(g, XVM_ICC_BPR1_EL1, 1ULL << 32, EINVAL);
	SET_FAILS(g, XVM_ICC_IGRPEN1_EL1, 2, EINVAL);
	SET_FAILS(g, XVM_ICC_CTLR_EL1, 0x300 | XVM_ICC_CTLR_EOIMODE, EINVAL);
	SET_FAILS(g, XVM_ICC_CTLR_EL1, 0x400 | XVM_ICC_CTLR_PMHE, EINVAL);
	SET_FAILS(g, XVM_ICC_CTLR_EL1, 0x400 | XVM_ICC_CTLR_A3V, EINVAL);
	SET_FAILS(g, XVM_ICC_CTLR_EL1, 0x400 | (1ULL << 20), EINVAL);
	SET_FAILS(g, XVM_ICC_SRE_EL1, 6, EINVAL);
	SET_FAILS(g, XVM_ICC_SRE_EL1, 0xf, EINVAL);
	SET_FAILS(g, XVM_ICC_AP0R_EL1(0), 1ULL << 32, EINVAL);
	SET_FAILS(g, XVM_ICC_AP1R_EL1(1), 1, EINVAL);
	SET_FAILS(g, XVM_ICC_AP0R_EL1(3), 0, EINVAL);
	SET_FAILS(g, NOTIFY_PORT, XVM_EVTCHN_MAX_PORTS, EINVAL);
	/* KVM: 5 priority bits implement AP<n>R0 only (EINVAL beyond). */
	ASSERT_OK(xvm_has_attr(g->dev, GRP_SYSREGS,
			       sysreg_attr(0, XVM_ICC_AP1R_EL1(3)), NULL));
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_SYSREGS,
				sysreg_attr(0, XVM_ICC_AP1R_EL1(3)), &v),
		   EINVAL);
	/* RPR is read-only: the operation does not exist. */
	SET_FAILS(g, XVM_ICC_RPR_EL1, 0xff, ENXIO);
	ASSERT_OK(xvm_has_attr(g->dev, GRP_SYSREGS,
			       sysreg_attr(0, XVM_ICC_RPR_EL1), NULL));
	gic_free(g);
}

/* CPU_SYSREGS: unknown registers ENXIO, unknown vCPUs EINVAL, INIT. */
TEST(state_sysregs_errnos)
{
	static const uint64_t unknown[] = {
		XVM_ICC_SYSREG(3, 0, 12, 12, 0),	/* ICC_IAR1_EL1 */
		XVM_ICC_SYSREG(3, 0, 12, 11, 5),	/* ICC_SGI1R_EL1 */
		XVM_ICC_SYSREG(3, 4, 12, 9, 5),		/* ICC_SRE_EL2 */
		0, NOTIFY_PORT | 1, 1ULL << 17, XVM_ICC_PMR_EL1 | (1 << 20),
	};
	struct gic *g = gic_new();
	uint64_t v = 0;
	unsigned int i;

	ASSERT_NE(-1, gic_vcpu(g, 0));
	ASSERT_NE(-1, gic_vcpu(g, 17));
	ASSERT_OK(gic_device(g));
	/* Before INIT: has works, get and set are EBUSY (KVM). */
	ASSERT_OK(xvm_has_attr(g->dev, GRP_SYSREGS,
			       sysreg_attr(17, XVM_ICC_PMR_EL1), NULL));
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_SYSREGS,
				sysreg_attr(17, XVM_ICC_PMR_EL1), &v), EBUSY);
	ASSERT_ERR(sysreg_set(g->dev, 17, XVM_ICC_PMR_EL1, 0), EBUSY);
	ASSERT_OK(fixture_gic_legacy(g->dev, 64, DIST, REDIST));
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		ASSERT_ERR(xvm_has_attr(g->dev, GRP_SYSREGS,
					sysreg_attr(17, unknown[i]), NULL),
			   ENXIO);
		ASSERT_ERR(xvm_get_attr(g->dev, GRP_SYSREGS,
					sysreg_attr(17, unknown[i]), &v),
			   ENXIO);
		ASSERT_ERR(sysreg_set(g->dev, 17, unknown[i], 0), ENXIO);
	}
	/* An affinity that names no vCPU: EINVAL, has too (KVM). */
	ASSERT_ERR(xvm_has_attr(g->dev, GRP_SYSREGS,
				XVM_VGIC_V3_SYSREG_ATTR(1, XVM_ICC_PMR_EL1),
				NULL), EINVAL);
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_SYSREGS,
				XVM_VGIC_V3_SYSREG_ATTR(0x1000000,
							XVM_ICC_PMR_EL1), &v),
		   EINVAL);
	v = 0;
	ASSERT_ERR(xvm_set_attr(g->dev, GRP_SYSREGS,
				XVM_VGIC_V3_SYSREG_ATTR(0x10, XVM_ICC_PMR_EL1),
				&v), EINVAL);
	/* Works before the first run, and without it. */
	ASSERT_OK(sysreg_set(g->dev, 17, XVM_ICC_PMR_EL1, 0x80));
	ASSERT_EQ(0x80, sysreg(g->dev, 17, XVM_ICC_PMR_EL1));
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_SYSREGS,
				sysreg_attr(17, XVM_ICC_PMR_EL1), NULL),
		   EFAULT);
	gic_free(g);
}

/* Binary points group priorities: what preempts a running interrupt. */
TEST(state_binary_point_preemption)
{
	struct gic *g = gic_running(1, 64);
	int v;

	ASSERT_NE(NULL, g);
	v = g->fd[0];
	/* SPI 32 at 0x48, SPI 33 at 0x40: 33 preempts 32 at the minimum. */
	ASSERT_EQ(1, wr(v, DIST + XVM_GICD_IPRIORITYR + 32, 4, 0x4048));
	ASSERT_EQ(1, wr(v, DIST + XVM_GICD_ICFGR + 8, 4, 0xa));
	ASSERT_EQ(1, wr(v, DIST + XVM_GICD_ISENABLER + 4, 4, 3));
	ASSERT_OK(line(g->dev, 32, 1, 0));
	ASSERT_EQ(32, ack(v));
	ASSERT_OK(line(g->dev, 33, 1, 0));
	ASSERT_EQ(33, ack(v));
	ASSERT_OK(eoi(v, 33));
	ASSERT_OK(eoi(v, 32));
	/* BPR1 4: group priority [7:4], both 0x40: no preemption. */
	ASSERT_OK(sysreg_set(g->dev, 0, XVM_ICC_BPR1_EL1, 4));
	ASSERT_OK(line(g->dev, 32, 1, 0));
	ASSERT_EQ(32, ack(v));
	ASSERT_EQ(1U << 8, sysreg(g->dev, 0, XVM_ICC_AP1R_EL1(0)));
	ASSERT_EQ(0x40, sysreg(g->dev, 0, XVM_ICC_RPR_EL1));
	ASSERT_OK(line(g->dev, 33, 1, 0));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v));
	ASSERT_EQ(33, ack_grp(v, 1, 1));	/* HPPIR: full priority */
	ASSERT_OK(eoi(v, 32));
	ASSERT_EQ(33, ack(v));
	ASSERT_OK(eoi(v, 33));
	/* CBPR: group 1 uses BPR0 (2: the whole priority): 33 preempts. */
	ASSERT_OK(sysreg_set(g->dev, 0, XVM_ICC_CTLR_EL1,
			     0x400 | XVM_ICC_CTLR_CBPR));
	ASSERT_OK(line(g->dev, 32, 1, 0));
	ASSERT_EQ(32, ack(v));
	ASSERT_EQ(0x48, sysreg(g->dev, 0, XVM_ICC_RPR_EL1));
	ASSERT_OK(line(g->dev, 33, 1, 0));
	ASSERT_EQ(33, ack(v));
	ASSERT_EQ(0x40, sysreg(g->dev, 0, XVM_ICC_RPR_EL1));
	ASSERT_OK(eoi(v, 33));
	ASSERT_OK(eoi(v, 32));
	ASSERT_EQ(0xff, sysreg(g->dev, 0, XVM_ICC_RPR_EL1));
	/* An active priority set by a restore holds back what it covers. */
	ASSERT_OK(sysreg_set(g->dev, 0, XVM_ICC_AP0R_EL1(0), 1U << 8));
	ASSERT_OK(line(g->dev, 32, 1, 0));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, ack(v));
	ASSERT_OK(eoi(v, 1023));		/* drops the restored one */
	ASSERT_EQ(0, sysreg(g->dev, 0, XVM_ICC_AP0R_EL1(0)));
	ASSERT_EQ(32, ack(v));
	gic_free(g);
}

/* LEVEL_INFO errnos, before and after INIT (which this does). */
static void level_info_errnos(struct __test_metadata *_metadata,
			      struct gic *g)
{
	uint32_t v = 0;

	/* has: the info only, as KVM; unknown info: ENXIO everywhere. */
	ASSERT_OK(xvm_has_attr(g->dev, GRP_LEVEL, 0, NULL));
	ASSERT_OK(xvm_has_attr(g->dev, GRP_LEVEL,
			       XVM_VGIC_V3_LEVEL_ATTR(7, LINE_LEVEL, 33), NULL));
	ASSERT_ERR(xvm_has_attr(g->dev, GRP_LEVEL,
				XVM_VGIC_V3_LEVEL_ATTR(0, 2, 32), NULL),
		   ENXIO);
	ASSERT_ERR(level_set(g->dev, 0, 2, 32, 0), ENXIO);
	ASSERT_ERR(level_set(g->dev, 0, 0x3fffff, 32, 0), ENXIO);
	ASSERT_ERR(level_set(g->dev, 0, LINE_LEVEL, 32, 0), EBUSY);
	ASSERT_OK(fixture_gic_legacy(g->dev, 64, DIST, REDIST));
	ASSERT_ERR(level_set(g->dev, 0, LINE_LEVEL, 33, 0), EINVAL);
	ASSERT_ERR(level_set(g->dev, 2, LINE_LEVEL, 32, 0), EINVAL);
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_LEVEL,
				XVM_VGIC_V3_LEVEL_ATTR(0x10, LINE_LEVEL, 0),
				&v), EINVAL);
}

/* LEVEL_INFO: KVM's encoding, the input levels, errnos. */
TEST(state_level_info)
{
	struct gic *g = gic_new();

	ASSERT_NE(-1, gic_vcpu(g, 0));
	ASSERT_NE(-1, gic_vcpu(g, 1));
	ASSERT_OK(gic_device(g));
	level_info_errnos(_metadata, g);

	/* A level SPI whose line is set high is pending, with no latch. */
	ASSERT_EQ(1, wr(g->fd[0], DIST + XVM_GICD_ISENABLER + 4, 4, 3));
	ASSERT_OK(level_set(g->dev, 1, LINE_LEVEL, 32, 0x80000001));
	ASSERT_EQ(0x80000001, level(g->dev, 0, LINE_LEVEL, 32));
	ASSERT_EQ(0x80000001, rd(g->fd[0], DIST + XVM_GICD_ISPENDR + 4, 4));
	ASSERT_EQ(0, dist_reg(g->dev, XVM_GICD_ISPENDR + 4));
	/* SGIs and INTIDs at or above NR_IRQS: RAZ/WI; PPIs per vCPU. */
	ASSERT_OK(level_set(g->dev, 1, LINE_LEVEL, 0, ~0U));
	ASSERT_EQ(0xffff0000, level(g->dev, 1, LINE_LEVEL, 0));
	ASSERT_EQ(0, level(g->dev, 0, LINE_LEVEL, 0));
	ASSERT_EQ(0xffff0000, rd(g->fd[0], REDIST + RD_SIZE +
				 XVM_GICR_ISPENDR0, 4));
	ASSERT_OK(level_set(g->dev, 0, LINE_LEVEL, 64, ~0U));
	ASSERT_EQ(0, level(g->dev, 0, LINE_LEVEL, 64));
	ASSERT_EQ(0, level(g->dev, 0, LINE_LEVEL, 992));
	/* Lowered: no longer pending. */
	ASSERT_OK(level_set(g->dev, 0, LINE_LEVEL, 32, 0));
	ASSERT_EQ(0, rd(g->fd[0], DIST + XVM_GICD_ISPENDR + 4, 4));
	/* Messages: SPIs only, the level SETSPI_NSR set. */
	ASSERT_EQ(1, wr(g->fd[0], DIST + XVM_GICD_SETSPI_NSR, 4, 33));
	ASSERT_EQ(2, level(g->dev, 1, MSI_LEVEL, 32));
	ASSERT_EQ(0, level(g->dev, 1, LINE_LEVEL, 32));
	ASSERT_OK(level_set(g->dev, 0, MSI_LEVEL, 0, ~0U));
	ASSERT_EQ(0, level(g->dev, 0, MSI_LEVEL, 0));
	ASSERT_OK(level_set(g->dev, 0, MSI_LEVEL, 32, 1));
	ASSERT_EQ(1, rd(g->fd[0], DIST + XVM_GICD_ISPENDR + 4, 4));
	ASSERT_EQ(1, wr(g->fd[0], DIST + XVM_GICD_CLRSPI_NSR, 4, 32));
	ASSERT_EQ(0, level(g->dev, 0, MSI_LEVEL, 32));
	/* An edge line's level is kept: reconfigured level, it pends. */
	ASSERT_EQ(1, wr(g->fd[0], DIST + XVM_GICD_ICFGR + 8, 4, 2 << 4));
	ASSERT_OK(line(g->dev, 34, 1, 0));
	ASSERT_EQ(1U << 2, level(g->dev, 0, LINE_LEVEL, 32));
	ASSERT_EQ(1, wr(g->fd[0], DIST + XVM_GICD_ICPENDR + 4, 4, 1 << 2));
	ASSERT_EQ(0, rd(g->fd[0], DIST + XVM_GICD_ISPENDR + 4, 4));
	ASSERT_EQ(1, wr(g->fd[0], DIST + XVM_GICD_ICFGR + 8, 4, 0));
	ASSERT_EQ(1U << 2, rd(g->fd[0], DIST + XVM_GICD_ISPENDR + 4, 4));
	gic_free(g);
}

/* ISPENDR/ICPENDR through the attributes: the latch (KVM's uaccess). */
TEST(state_pending_latch)
{
	struct gic *g = gic_running(2, 64);
	uint64_t a = XVM_VGIC_V3_REG_ATTR(aff(1), XVM_GICR_ISPENDR0);
	uint32_t v;

	ASSERT_NE(NULL, g);
	/* A level SPI with its line high and no latch: guest 1, latch 0. */
	ASSERT_OK(line(g->dev, 40, 1, 0));
	ASSERT_EQ(1U << 8, rd(g->fd[0], DIST + XVM_GICD_ISPENDR + 4, 4));
	ASSERT_EQ(0, dist_reg(g->dev, XVM_GICD_ISPENDR + 4));
	ASSERT_EQ(0, dist_reg(g->dev, XVM_GICD_ICPENDR + 4));
	/* A set writes the latches, both ways; the line stays. */
	v = 1U << 9;
	ASSERT_OK(xvm_set_attr(g->dev, GRP_DIST, XVM_GICD_ISPENDR + 4, &v));
	ASSERT_EQ(1U << 9, dist_reg(g->dev, XVM_GICD_ISPENDR + 4));
	ASSERT_EQ(3U << 8, rd(g->fd[0], DIST + XVM_GICD_ISPENDR + 4, 4));
	v = 0;
	ASSERT_OK(xvm_set_attr(g->dev, GRP_DIST, XVM_GICD_ISPENDR + 4, &v));
	ASSERT_EQ(1U << 8, rd(g->fd[0], DIST + XVM_GICD_ISPENDR + 4, 4));
	ASSERT_OK(line(g->dev, 40, 0, 0));
	ASSERT_EQ(0, rd(g->fd[0], DIST + XVM_GICD_ISPENDR + 4, 4));
	/* ICPENDR is RAZ/WI there. */
	v = 1U << 9;
	ASSERT_OK(xvm_set_attr(g->dev, GRP_DIST, XVM_GICD_ISPENDR + 4, &v));
	ASSERT_OK(xvm_set_attr(g->dev, GRP_DIST, XVM_GICD_ICPENDR + 4, &v));
	ASSERT_EQ(1U << 9, dist_reg(g->dev, XVM_GICD_ISPENDR + 4));
	/* The redistributor's, per vCPU; a latched PPI is delivered. */
	ASSERT_EQ(1, wr(g->fd[0], REDIST + RD_SIZE + XVM_GICR_ISENABLER0, 4,
			1U << 21));
	v = 1U << 21;
	ASSERT_OK(xvm_set_attr(g->dev, GRP_REDIST, a, &v));
	ASSERT_EQ(1U << 21, rd_reg(g->dev, 1, XVM_GICR_ISPENDR0));
	ASSERT_EQ(0, rd_reg(g->dev, 0, XVM_GICR_ISPENDR0));
	ASSERT_EQ(1, port_pending(g, g->port[1]));
	ASSERT_EQ(21, ack(g->fd[1]));
	ASSERT_EQ(0, rd_reg(g->dev, 1, XVM_GICR_ISPENDR0));
	gic_free(g);
}

/* CTRL/STATE_VERSION: get-only, any time. */
TEST(state_version)
{
	struct gic *g = gic_new();
	uint64_t v = 0;

	ASSERT_OK(gic_device(g));
	ASSERT_OK(xvm_has_attr(g->dev, GRP_CTRL,
			       XVM_DEV_ARM_VGIC_CTRL_STATE_VERSION, NULL));
	ASSERT_OK(xvm_get_attr(g->dev, GRP_CTRL,
			       XVM_DEV_ARM_VGIC_CTRL_STATE_VERSION, &v));
	ASSERT_EQ(1, v);
	ASSERT_ERR(xvm_set_attr(g->dev, GRP_CTRL,
				XVM_DEV_ARM_VGIC_CTRL_STATE_VERSION, &v),
		   ENXIO);
	ASSERT_ERR(xvm_get_attr(g->dev, GRP_CTRL,
				XVM_DEV_ARM_VGIC_CTRL_STATE_VERSION + 1, &v),
		   ENXIO);
	gic_free(g);
}

TEST_HARNESS_MAIN
