// SPDX-License-Identifier: GPL-2.0
/*
 * msix_test: XVM_DEV_TYPE_VFIO_MSIX (xvm-msix.ko) with a real e1000e
 * (8086:10d3, 5 MSI-X vectors, table at BAR3+0, PBA at BAR3+0x2000) named
 * by XVM_TEST_E1000E=BDF, bound to vfio-pci by the tests themselves; the
 * attach test also uses the edu of XVM_TEST_EDU=BDF if given.  Without
 * xvm-msix the binary skips; without the e1000e (or VFIO) every test skips
 * and no PCI device is touched.
 *
 * Each behaviour test runs twice (fixture variants): "loopback" fires a
 * vector with VFIO's loopback trigger (SET_IRQS DATA_NONE|ACTION_TRIGGER,
 * process context), "device" makes the NIC raise a real MSI-X through its
 * BAR0 (IVAR/IMS, then ICS = 1 << (20 + v); hard-IRQ context).  Device
 * writes are paced 1 ms apart: QEMU's e1000e throttles a vector at 128 us
 * and may then send a duplicate, so counts from the device are checked as
 * "at least", while counts the interposer itself decides (deliveries at an
 * unmask) are exact.
 *
 * The guest programs its virtual table through XVM_MMIO on a vCPU fd, with
 * address = the event-channel doorbell and data = a port number; delivery is
 * seen as that port going pending (XVM_POLL, XVM_EVTCHN_STATUS).  Waiting
 * for an interrupt is bounded by a generous deadline (a liveness bound,
 * never a speed check).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "xvm_harness.h"
#include "xvm_fixture.h"
#include "libxvm.h"
#include "xvm_pci.h"

#define NIC		test_pci_e1000e()	/* the NIC under test */
#define NIC_BDF		(NIC->bdf)
#define NIC_SEG		(NIC->segment)
#define NIC_BUS		(NIC->bus)
#define NIC_DEVFN	(NIC->devfn)
#define EDU		test_pci_edu()
#define NVEC		5

#define DB_ADDR		0x40000000ULL		/* event-channel doorbell */
#define BAR3_GPA	0xfe000000ULL		/* where the guest sees BAR3 */
#define TABLE_GPA	BAR3_GPA
#define PBA_GPA		(BAR3_GPA + 0x2000)
#define TABLE_SIZE	(NVEC * PCI_MSIX_ENTRY_SIZE)

#define SEC		1000000000ULL
#define WAIT_NS		(5 * SEC)	/* liveness bound for an interrupt */

/* A real MSI-X for vector vec, then 1 ms of pacing. */
static void nic_fire(struct vfio_dev *v, unsigned int vec)
{
	e1000e_msix_fire(v->bar0, vec);
	usleep(1000);
}

/* xvm plumbing */

struct env {
	struct vfio_dev vfio;
	int efd[NVEC];
	int xvm, vm, vcpu, dev;
	uint32_t port[NVEC];
	int real;		/* fire through the NIC, else loopback */
};

static int msix_attach(int dev, int group_fd, uint32_t seg, uint8_t bus,
		       uint8_t devfn)
{
	struct xvm_msix_attach a = {
		.group_fd = group_fd, .segment = seg, .bus = bus,
		.devfn = devfn,
	};

	return xvm_set_attr(dev, XVM_MSIX_GRP_ATTACH, 0, &a);
}

/* msix_attach() of a test device (NIC, EDU), at its address. */
static int msix_attach_pci(int dev, int group_fd, const struct test_pci *d)
{
	return msix_attach(dev, group_fd, d->segment, d->bus, d->devfn);
}

static uint64_t mstat(int dev, unsigned int id)
{
	uint64_t v = ~0ULL;

	xvm_get_attr(dev, XVM_MSIX_GRP_STATS, id, &v);
	return v;
}

/*
 * A counter that the interrupt's CPU bumps just after its MSI write: the
 * woken poller can look first.  Wait up to a second for it to reach want.
 */
static uint64_t mstat_reaches(int dev, unsigned int id, uint64_t want)
{
	uint64_t v = mstat(dev, id);
	int i;

	for (i = 0; i < 1000 && v < want; i++) {
		usleep(1000);
		v = mstat(dev, id);
	}
	return v;
}

static int set_addr(int dev, unsigned int which, uint64_t gpa)
{
	return xvm_set_attr(dev, XVM_MSIX_GRP_ADDR, which, &gpa);
}

static int set_eventfd(int dev, unsigned int vec, int32_t fd)
{
	return xvm_set_attr(dev, XVM_MSIX_GRP_EVENTFD, vec, &fd);
}

static int set_ctrl(int dev, uint16_t val)
{
	return xvm_set_attr(dev, XVM_MSIX_GRP_CTRL, XVM_MSIX_CTRL_WORD, &val);
}

static uint16_t get_ctrl(int dev)
{
	uint16_t val = 0xdead;

	xvm_get_attr(dev, XVM_MSIX_GRP_CTRL, XVM_MSIX_CTRL_WORD, &val);
	return val;
}

static uint32_t vec_flags(int dev, unsigned int vec)
{
	struct xvm_msix_vector_state st;

	if (xvm_get_attr(dev, XVM_MSIX_GRP_VECTOR, vec, &st))
		return 0xbad0000;
	return st.flags;
}

/* A guest read; *handled = 1 if claimed, 0 if not, -1 on error. */
static uint64_t mmio_rd(int vcpu, uint64_t addr, uint32_t len, int *handled)
{
	uint64_t val = ~0ULL;
	int h = 0;

	if (xvm_mmio_read(vcpu, addr, len, &val, &h))
		h = -1;
	if (handled)
		*handled = h;
	return val;
}

/* A guest write: 0 if claimed, 1 if not (the VMM's), -1 on error. */
static int mmio_wr(int vcpu, uint64_t addr, uint32_t len, uint64_t val)
{
	int h = 0;

	if (xvm_mmio_write(vcpu, addr, len, val, &h))
		return -1;
	return !h;
}

static uint64_t entry(unsigned int vec, unsigned int field)
{
	return TABLE_GPA + vec * PCI_MSIX_ENTRY_SIZE + field;
}

static uint32_t entry_rd(struct env *e, unsigned int vec, unsigned int field)
{
	return mmio_rd(e->vcpu, entry(vec, field), 4, NULL);
}

static int entry_wr(struct env *e, unsigned int vec, unsigned int field,
		    uint32_t val)
{
	return mmio_wr(e->vcpu, entry(vec, field), 4, val);
}

/* Vector vec -> doorbell, data = port, with the given mask bit. */
static int program(struct env *e, unsigned int vec, uint32_t port, int masked)
{
	if (entry_wr(e, vec, PCI_MSIX_ENTRY_LOWER_ADDR, (uint32_t)DB_ADDR) ||
	    entry_wr(e, vec, PCI_MSIX_ENTRY_UPPER_ADDR, DB_ADDR >> 32) ||
	    entry_wr(e, vec, PCI_MSIX_ENTRY_DATA, port) ||
	    entry_wr(e, vec, PCI_MSIX_ENTRY_VECTOR_CTRL, !!masked))
		return -1;
	return 0;
}

static uint64_t pba(struct env *e)
{
	return mmio_rd(e->vcpu, PBA_GPA, 8, NULL);
}

static int pending(struct env *e, uint32_t port)
{
	uint32_t status = 0;

	if (xvm_evtchn_status(e->vm, port, NULL, &status))
		return -1;
	return !!(status & XVM_EVTCHN_STATUS_PENDING);
}

static int any_pending(struct env *e)
{
	int i, n = 0;

	for (i = 0; i < NVEC; i++)
		n += pending(e, e->port[i]);
	return n;
}

static void clear_ports(struct env *e)
{
	int i;

	for (i = 0; i < NVEC; i++)
		xvm_evtchn_clear(e->vm, e->port[i]);
}

/* Waits until stat id reaches at least target; 0 on success. */
static int wait_stat(int dev, unsigned int id, uint64_t target)
{
	uint64_t end = now_ns() + WAIT_NS;

	while (mstat(dev, id) < target) {
		if (now_ns() > end)
			return -1;
		usleep(200);
	}
	return 0;
}

/* Blocks in XVM_POLL until port is pending; 1 if it is. */
static int poll_port(struct env *e, uint32_t port)
{
	uint32_t got = 0;
	int r = xvm_poll(e->vcpu, &port, 1, WAIT_NS, 0, &got);

	return r == 1 && got == port;
}

/* Fires vec (device or loopback) and waits until the hook has seen it. */
static int fire(struct env *e, unsigned int vec)
{
	uint64_t before = mstat(e->dev, XVM_MSIX_STAT_FIRED);

	if (e->real)
		nic_fire(&e->vfio, vec);
	else if (vfio_dev_trigger(&e->vfio, vec))
		return -1;
	if (wait_stat(e->dev, XVM_MSIX_STAT_FIRED, before + 1))
		return -1;
	if (e->real)
		usleep(2000);	/* a duplicate, if any, lands now */
	return 0;
}

static void env_close_xvm(struct env *e)
{
	close_fd(&e->dev);
	close_fd(&e->vcpu);
	close_fd(&e->vm);
	close_fd(&e->xvm);
}

static void env_close(struct env *e)
{
	int i;

	env_close_xvm(e);
	vfio_dev_close(&e->vfio);
	for (i = 0; i < NVEC; i++)
		close_fd(&e->efd[i]);
}

/*
 * VFIO with MSI-X on (one eventfd per vector), a VM with a vCPU, a doorbell
 * and a port per vector, and the interposer attached, on the bus and
 * hooked.  Returns 0, or a string saying what failed.
 */
/*
 * A VM with a vCPU, a doorbell and a port per vector, and the interposer
 * attached and on the bus, not hooked.  Returns 0, or what failed.
 */
static const char *env_open_vm(struct env *e)
{
	if (fixture_vm_open(&e->xvm, &e->vm, 0) ||
	    fixture_vcpus(e->vm, &e->vcpu, 1) ||
	    xvm_set_doorbell(e->vm, DB_ADDR, 0))
		return "VM, vCPU or doorbell";
	if (fixture_ports(e->vm, e->port, NVEC))
		return "port allocation";
	if (xvm_create_device(e->vm, XVM_DEV_TYPE_VFIO_MSIX, 0, &e->dev))
		return "XVM_CREATE_DEVICE(VFIO_MSIX)";
	if (msix_attach_pci(e->dev, e->vfio.group, NIC))
		return "attach";
	if (set_addr(e->dev, XVM_MSIX_ADDR_TABLE, TABLE_GPA) ||
	    set_addr(e->dev, XVM_MSIX_ADDR_PBA, PBA_GPA))
		return "table/PBA addresses";
	return NULL;
}

/* Every vector's VFIO eventfd hooked to the interposer. */
static const char *env_hook_all(struct env *e)
{
	int i;

	for (i = 0; i < NVEC; i++)
		if (set_eventfd(e->dev, i, e->efd[i]))
			return "eventfd hook";
	return NULL;
}

static const char *env_open(struct env *e, int real)
{
	const char *what;
	int i;

	memset(e, 0, sizeof(*e));
	e->dev = e->vcpu = e->vm = e->xvm = -1;
	e->real = real;
	for (i = 0; i < NVEC; i++)
		e->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vfio_dev_open(&e->vfio, NIC_BDF))
		return "VFIO open of the e1000e";
	if (vfio_dev_set_irqs(&e->vfio, 0, NVEC, e->efd))
		return "VFIO_DEVICE_SET_IRQS (MSI-X)";
	e1000e_msix_route(e->vfio.bar0);
	/*
	 * A message the NIC still had pending from an earlier user (its
	 * physical PBA survives VFIO's close) arrives as soon as MSI-X is
	 * enabled: let it land and drain it before the hooks go on.
	 */
	usleep(10000);
	for (i = 0; i < NVEC; i++) {
		uint64_t cnt;

		if (read(e->efd[i], &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
			return "eventfd drain";
	}

	what = env_open_vm(e);
	return what ? what : env_hook_all(e);
}

/* Why the e1000e cannot be used through VFIO here, or NULL. */
static const char *env_missing(void)
{
	if (!NIC->ok)
		return NIC->why;
	if (access("/dev/vfio/vfio", F_OK))
		return "no VFIO (/dev/vfio/vfio)";
	return NULL;
}

/* Every vector programmed to its own port and unmasked, MSI-X enabled. */
static int env_enable_all(struct env *e)
{
	int i;

	for (i = 0; i < NVEC; i++)
		if (program(e, i, e->port[i], 0))
			return -1;
	return set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE);
}

static int module_refcnt(void)
{
	char buf[32] = "";
	int fd = open("/sys/module/xvm_msix/refcnt", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) <= 0)
		buf[0] = 0;
	close(fd);
	return buf[0] ? atoi(buf) : -1;
}

/* Behaviour tests, each with loopback and real-device interrupts. */

FIXTURE(msix) {
	struct env e;
};

FIXTURE_VARIANT(msix) {
	int real;
};

FIXTURE_VARIANT_ADD(msix, loopback) {
	.real = 0,
};

FIXTURE_VARIANT_ADD(msix, device) {
	.real = 1,
};

FIXTURE_SETUP(msix)
{
	const char *what = env_missing();

	if (what)
		SETUP_SKIP("%s", what);
	what = env_open(&self->e, variant->real);
	ASSERT_EQ(NULL, what) TH_LOG("setup: %s: %s", what, strerror(errno));
}

FIXTURE_TEARDOWN(msix)
{
	env_close(&self->e);
}

/* 1, 10: the reset state, the layout read from the device. */
TEST_F(msix, reset_state)
{
	struct env *e = &self->e;
	struct xvm_msix_info info;
	int i;

	ASSERT_OK(xvm_get_attr(e->dev, XVM_MSIX_GRP_INFO, 0, &info));
	EXPECT_EQ(NVEC, info.nr_vectors);
	EXPECT_EQ(3, info.table_bir);
	EXPECT_EQ(0, info.table_offset);
	EXPECT_EQ(TABLE_SIZE, info.table_size);
	EXPECT_EQ(3, info.pba_bir);
	EXPECT_EQ(0x2000, info.pba_offset);
	EXPECT_EQ(8, info.pba_size);
	EXPECT_EQ(0, info.segment);
	EXPECT_EQ(0, info.bus);
	EXPECT_EQ(NIC_DEVFN, info.devfn);
	EXPECT_NE(0, info.cap_offset);

	EXPECT_EQ(NVEC - 1, get_ctrl(e->dev));		/* disabled, unmasked */
	for (i = 0; i < NVEC; i++) {
		EXPECT_EQ(0, entry_rd(e, i, PCI_MSIX_ENTRY_LOWER_ADDR));
		EXPECT_EQ(0, entry_rd(e, i, PCI_MSIX_ENTRY_UPPER_ADDR));
		EXPECT_EQ(0, entry_rd(e, i, PCI_MSIX_ENTRY_DATA));
		EXPECT_EQ(PCI_MSIX_ENTRY_CTRL_MASKBIT,
			  entry_rd(e, i, PCI_MSIX_ENTRY_VECTOR_CTRL));
		EXPECT_EQ(XVM_MSIX_VECTOR_MASKED | XVM_MSIX_VECTOR_EVENTFD |
			  XVM_MSIX_VECTOR_HOOKED, vec_flags(e->dev, i));
	}
	EXPECT_EQ(0, pba(e));

	/* Reset after use returns to the same state. */
	ASSERT_OK(env_enable_all(e));
	ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE |
			   PCI_MSIX_FLAGS_MASKALL));
	ASSERT_OK(fire(e, 2));
	EXPECT_EQ(1u << 2, pba(e));
	ASSERT_OK(xvm_set_attr(e->dev, XVM_MSIX_GRP_CTRL,
			       XVM_MSIX_CTRL_RESET, NULL));
	EXPECT_EQ(NVEC - 1, get_ctrl(e->dev));
	EXPECT_EQ(0, pba(e));
	for (i = 0; i < NVEC; i++) {
		EXPECT_EQ(PCI_MSIX_ENTRY_CTRL_MASKBIT,
			  entry_rd(e, i, PCI_MSIX_ENTRY_VECTOR_CTRL));
		EXPECT_EQ(0, entry_rd(e, i, PCI_MSIX_ENTRY_DATA));
	}
	EXPECT_EQ(0, any_pending(e));
}

/* The last vector's entry, state and PBA bit are its own, not vector 0's. */
TEST_F(msix, last_vector_is_its_own)
{
	struct env *e = &self->e;
	const unsigned int last = NVEC - 1;
	struct xvm_msix_vector_state st;
	int h = 0;

	ASSERT_OK(program(e, last, e->port[last], 1));
	EXPECT_EQ(e->port[last], entry_rd(e, last, PCI_MSIX_ENTRY_DATA));
	EXPECT_EQ((1ULL << 32) | e->port[last],
		  mmio_rd(e->vcpu, entry(last, 8), 8, &h));
	EXPECT_EQ(1, h);
	EXPECT_EQ(0, entry_rd(e, 0, PCI_MSIX_ENTRY_DATA));
	ASSERT_OK(xvm_get_attr(e->dev, XVM_MSIX_GRP_VECTOR, last, &st));
	EXPECT_EQ(DB_ADDR, st.addr);
	EXPECT_EQ(e->port[last], st.data);
	ASSERT_OK(xvm_get_attr(e->dev, XVM_MSIX_GRP_VECTOR, 0, &st));
	EXPECT_EQ(0, st.data);

	/* Masked, it latches its own PBA bit. */
	ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE));
	ASSERT_OK(fire(e, last));
	EXPECT_EQ(1u << last, pba(e));
	EXPECT_EQ(1u << last, mmio_rd(e->vcpu, PBA_GPA, 4, NULL));
	EXPECT_EQ(0, mmio_rd(e->vcpu, PBA_GPA + 4, 4, NULL));
	EXPECT_TRUE(vec_flags(e->dev, last) & XVM_MSIX_VECTOR_PENDING);
	EXPECT_FALSE(vec_flags(e->dev, 0) & XVM_MSIX_VECTOR_PENDING);
}

/* 12: an unmasked vector is delivered to a poller, with no userspace hop. */
struct delayed_fire {
	struct env *e;
	unsigned int vec;
	int ret;
};

static void *delayed_fire_fn(void *arg)
{
	struct delayed_fire *d = arg;

	usleep(20000);		/* let the main thread block in XVM_POLL */
	if (d->e->real)
		nic_fire(&d->e->vfio, d->vec);
	else
		d->ret = vfio_dev_trigger(&d->e->vfio, d->vec);
	return NULL;
}

TEST_F(msix, delivery_in_kernel)
{
	struct env *e = &self->e;
	struct delayed_fire d = { .e = e };
	uint64_t cnt, fired, delivered;
	pthread_t t;
	unsigned int v;

	ASSERT_OK(env_enable_all(e));
	for (v = 0; v < NVEC; v++) {
		fired = mstat(e->dev, XVM_MSIX_STAT_FIRED);
		delivered = mstat(e->dev, XVM_MSIX_STAT_DELIVERED);
		d.vec = v;
		ASSERT_OK(pthread_create(&t, NULL, delayed_fire_fn, &d));
		EXPECT_EQ(1, poll_port(e, e->port[v])) TH_LOG("vector %u", v);
		pthread_join(t, NULL);
		EXPECT_EQ(0, d.ret);
		EXPECT_GE(mstat(e->dev, XVM_MSIX_STAT_FIRED), fired + 1);
		EXPECT_GE(mstat_reaches(e->dev, XVM_MSIX_STAT_DELIVERED,
					delivered + 1), delivered + 1);
		/* Only that vector's port. */
		EXPECT_EQ(1, any_pending(e));
		/* The hook consumed the count: userspace sees nothing. */
		EXPECT_EQ(-1, read(e->efd[v], &cnt, sizeof(cnt)));
		EXPECT_EQ(EAGAIN, errno);
		clear_ports(e);
	}
	EXPECT_EQ(0, mstat(e->dev, XVM_MSIX_STAT_UNDELIVERABLE));
	EXPECT_EQ(0, mstat(e->dev, XVM_MSIX_STAT_LATCHED));
}

/* The VM's statistics fd shows the device's delivered and latched counts. */
TEST_F(msix, vm_stats_fd)
{
	struct env *e = &self->e;
	uint64_t delivered = ~0ULL, latched = ~0ULL;
	int fd;

	ASSERT_OK(env_enable_all(e));
	fd = xvm_get_stats_fd(e->vm);
	ASSERT_LE(0, fd);
	ASSERT_OK(fire(e, 0));
	mstat_reaches(e->dev, XVM_MSIX_STAT_DELIVERED, 1);
	ASSERT_EQ(0, entry_wr(e, 1, PCI_MSIX_ENTRY_VECTOR_CTRL, 1));
	ASSERT_OK(fire(e, 1));
	EXPECT_OK(xvm_stats_get(fd, "msix_delivered", &delivered));
	EXPECT_OK(xvm_stats_get(fd, "msix_latched", &latched));
	EXPECT_LE(1, delivered);
	EXPECT_LE(1, latched);
	EXPECT_EQ(mstat(e->dev, XVM_MSIX_STAT_DELIVERED), delivered);
	EXPECT_EQ(mstat(e->dev, XVM_MSIX_STAT_LATCHED), latched);
	close(fd);
}

/* 2, 3, 4: each mask source latches, its removal delivers exactly once. */
TEST_F(msix, mask_sources)
{
	struct env *e = &self->e;
	const unsigned int v = 1;
	uint64_t delivered, latched;
	int src;

	for (src = 0; src < 3; src++) {
		ASSERT_OK(env_enable_all(e));
		clear_ports(e);
		switch (src) {
		case 0:		/* MSI-X disabled */
			ASSERT_OK(set_ctrl(e->dev, 0));
			break;
		case 1:		/* function mask */
			ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE |
					   PCI_MSIX_FLAGS_MASKALL));
			break;
		case 2:		/* vector mask */
			ASSERT_EQ(0, entry_wr(e, v, PCI_MSIX_ENTRY_VECTOR_CTRL,
					      1));
			break;
		}
		EXPECT_TRUE(vec_flags(e->dev, v) & XVM_MSIX_VECTOR_MASKED);
		latched = mstat(e->dev, XVM_MSIX_STAT_LATCHED);
		delivered = mstat(e->dev, XVM_MSIX_STAT_DELIVERED);
		ASSERT_OK(fire(e, v));

		/* 3: latched, not delivered. */
		EXPECT_EQ(0, any_pending(e)) TH_LOG("source %d", src);
		EXPECT_EQ(1u << v, pba(e)) TH_LOG("source %d", src);
		EXPECT_TRUE(vec_flags(e->dev, v) & XVM_MSIX_VECTOR_PENDING);
		EXPECT_GE(mstat(e->dev, XVM_MSIX_STAT_LATCHED), latched + 1);
		EXPECT_EQ(delivered, mstat(e->dev, XVM_MSIX_STAT_DELIVERED));

		/* 4: the unmask delivers it, exactly once, and clears it. */
		if (src == 2) {
			ASSERT_EQ(0, entry_wr(e, v, PCI_MSIX_ENTRY_VECTOR_CTRL,
					      0));
		} else {
			ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE));
		}
		EXPECT_EQ(1, pending(e, e->port[v])) TH_LOG("source %d", src);
		EXPECT_EQ(1, any_pending(e));
		EXPECT_EQ(0, pba(e));
		EXPECT_EQ(delivered + 1,
			  mstat(e->dev, XVM_MSIX_STAT_DELIVERED));

		/* Nothing left: a second mask/unmask delivers nothing. */
		clear_ports(e);
		ASSERT_EQ(0, entry_wr(e, v, PCI_MSIX_ENTRY_VECTOR_CTRL, 1));
		ASSERT_EQ(0, entry_wr(e, v, PCI_MSIX_ENTRY_VECTOR_CTRL, 0));
		EXPECT_EQ(0, any_pending(e));
		EXPECT_EQ(delivered + 1,
			  mstat(e->dev, XVM_MSIX_STAT_DELIVERED));
	}
}

/* 5: the function mask holds all five vectors; clearing it releases all. */
TEST_F(msix, function_mask_holds_all)
{
	struct env *e = &self->e;
	uint64_t delivered;
	int v, pass;

	for (pass = 0; pass < 2; pass++) {
		/* pass 0: function mask; pass 1: MSI-X disabled. */
		ASSERT_OK(env_enable_all(e));
		ASSERT_OK(set_ctrl(e->dev, pass ? PCI_MSIX_FLAGS_MASKALL :
				   PCI_MSIX_FLAGS_ENABLE |
				   PCI_MSIX_FLAGS_MASKALL));
		clear_ports(e);
		delivered = mstat(e->dev, XVM_MSIX_STAT_DELIVERED);
		for (v = 0; v < NVEC; v++)
			ASSERT_OK(fire(e, v));
		EXPECT_EQ(0x1f, pba(e));
		EXPECT_EQ(0, any_pending(e));
		EXPECT_EQ(delivered, mstat(e->dev, XVM_MSIX_STAT_DELIVERED));

		/* Unmasking one vector alone changes nothing. */
		ASSERT_EQ(0, entry_wr(e, 0, PCI_MSIX_ENTRY_VECTOR_CTRL, 1));
		ASSERT_EQ(0, entry_wr(e, 0, PCI_MSIX_ENTRY_VECTOR_CTRL, 0));
		EXPECT_EQ(0x1f, pba(e));

		/* Vector 3 masked on its own stays pending. */
		ASSERT_EQ(0, entry_wr(e, 3, PCI_MSIX_ENTRY_VECTOR_CTRL, 1));
		ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE));
		for (v = 0; v < NVEC; v++)
			EXPECT_EQ(v != 3, pending(e, e->port[v]))
				TH_LOG("pass %d vector %d", pass, v);
		EXPECT_EQ(1u << 3, pba(e));
		EXPECT_EQ(delivered + 4,
			  mstat(e->dev, XVM_MSIX_STAT_DELIVERED));
		ASSERT_EQ(0, entry_wr(e, 3, PCI_MSIX_ENTRY_VECTOR_CTRL, 0));
		EXPECT_EQ(1, pending(e, e->port[3]));
		EXPECT_EQ(0, pba(e));
		EXPECT_EQ(delivered + 5,
			  mstat(e->dev, XVM_MSIX_STAT_DELIVERED));
	}
}

/* 6: address/data written while unmasked take effect at the next unmask. */
TEST_F(msix, unmasked_update_deferred)
{
	struct env *e = &self->e;
	struct xvm_msix_vector_state st;
	const unsigned int v = 4;

	ASSERT_OK(env_enable_all(e));
	ASSERT_EQ(0, entry_wr(e, v, PCI_MSIX_ENTRY_DATA, e->port[0]));
	EXPECT_EQ(e->port[0], entry_rd(e, v, PCI_MSIX_ENTRY_DATA));
	ASSERT_OK(xvm_get_attr(e->dev, XVM_MSIX_GRP_VECTOR, v, &st));
	EXPECT_TRUE(st.flags & XVM_MSIX_VECTOR_UPDATED);
	EXPECT_EQ(e->port[v], st.msg_data);
	EXPECT_EQ(e->port[0], st.data);

	/* Still delivered with the old data. */
	ASSERT_OK(fire(e, v));
	EXPECT_EQ(1, pending(e, e->port[v]));
	EXPECT_EQ(0, pending(e, e->port[0]));
	clear_ports(e);

	/* An address written while unmasked is deferred too. */
	ASSERT_EQ(0, entry_wr(e, v, PCI_MSIX_ENTRY_LOWER_ADDR, 0x1234));
	ASSERT_OK(fire(e, v));
	EXPECT_EQ(1, pending(e, e->port[v]));
	EXPECT_EQ(0, mstat(e->dev, XVM_MSIX_STAT_UNDELIVERABLE));
	clear_ports(e);
	ASSERT_EQ(0, entry_wr(e, v, PCI_MSIX_ENTRY_LOWER_ADDR,
			      (uint32_t)DB_ADDR));

	/* mask + unmask: the new data is used from now on. */
	ASSERT_EQ(0, entry_wr(e, v, PCI_MSIX_ENTRY_VECTOR_CTRL, 1));
	ASSERT_EQ(0, entry_wr(e, v, PCI_MSIX_ENTRY_VECTOR_CTRL, 0));
	ASSERT_OK(xvm_get_attr(e->dev, XVM_MSIX_GRP_VECTOR, v, &st));
	EXPECT_FALSE(st.flags & XVM_MSIX_VECTOR_UPDATED);
	EXPECT_EQ(e->port[0], st.msg_data);
	ASSERT_OK(fire(e, v));
	EXPECT_EQ(1, pending(e, e->port[0]));
	EXPECT_EQ(0, pending(e, e->port[v]));
	clear_ports(e);

	/* Written while masked: used at the unmask that delivers the PBA. */
	ASSERT_EQ(0, entry_wr(e, v, PCI_MSIX_ENTRY_VECTOR_CTRL, 1));
	ASSERT_OK(fire(e, v));
	ASSERT_EQ(0, entry_wr(e, v, PCI_MSIX_ENTRY_DATA, e->port[2]));
	ASSERT_EQ(0, entry_wr(e, v, PCI_MSIX_ENTRY_VECTOR_CTRL, 0));
	EXPECT_EQ(1, pending(e, e->port[2]));
	EXPECT_EQ(1, any_pending(e));

	/* A function-mask cycle latches too. */
	clear_ports(e);
	ASSERT_EQ(0, entry_wr(e, v, PCI_MSIX_ENTRY_DATA, e->port[3]));
	ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE |
			   PCI_MSIX_FLAGS_MASKALL));
	ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE));
	ASSERT_OK(fire(e, v));
	EXPECT_EQ(1, pending(e, e->port[3]));
	EXPECT_EQ(1, any_pending(e));
}

/* 7: only naturally aligned 4/8-byte accesses; others all-ones / dropped. */
TEST_F(msix, illegal_accesses)
{
	static const struct { uint32_t off, len; } bad[] = {
		{ 0, 1 }, { 1, 1 }, { 12, 1 }, { 0, 2 }, { 2, 2 }, { 14, 2 },
		{ 2, 4 }, { 6, 4 }, { 4, 8 }, { 12, 8 }, { 20, 8 },
	};
	struct env *e = &self->e;
	uint64_t reads, writes, delivered;
	unsigned int i;
	int h;

	ASSERT_OK(program(e, 1, e->port[1], 1));
	ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE));
	ASSERT_OK(fire(e, 1));			/* PBA bit 1 */
	reads = mstat(e->dev, XVM_MSIX_STAT_BAD_READS);
	writes = mstat(e->dev, XVM_MSIX_STAT_BAD_WRITES);
	delivered = mstat(e->dev, XVM_MSIX_STAT_DELIVERED);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t a = entry(1, bad[i].off);
		uint64_t ones = bad[i].len == 8 ? ~0ULL :
				(1ULL << (8 * bad[i].len)) - 1;

		EXPECT_EQ(ones, mmio_rd(e->vcpu, a, bad[i].len, &h))
			TH_LOG("read off %u len %u", bad[i].off, bad[i].len);
		EXPECT_EQ(1, h);
		/* Would unmask vector 1 or change its entry: dropped. */
		EXPECT_EQ(0, mmio_wr(e->vcpu, a, bad[i].len, 0));
	}
	EXPECT_EQ(reads + i, mstat(e->dev, XVM_MSIX_STAT_BAD_READS));
	EXPECT_EQ(writes + i, mstat(e->dev, XVM_MSIX_STAT_BAD_WRITES));
	EXPECT_EQ((uint32_t)DB_ADDR, entry_rd(e, 1, PCI_MSIX_ENTRY_LOWER_ADDR));
	EXPECT_EQ(e->port[1], entry_rd(e, 1, PCI_MSIX_ENTRY_DATA));
	EXPECT_EQ(1, entry_rd(e, 1, PCI_MSIX_ENTRY_VECTOR_CTRL));
	EXPECT_EQ(2, pba(e));
	EXPECT_EQ(delivered, mstat(e->dev, XVM_MSIX_STAT_DELIVERED));
	EXPECT_EQ(0, any_pending(e));

	/* The PBA too. */
	EXPECT_EQ(0xff, mmio_rd(e->vcpu, PBA_GPA, 1, &h));
	EXPECT_EQ(1, h);
	EXPECT_EQ(0xffffffffu, mmio_rd(e->vcpu, PBA_GPA + 2, 4, &h));
	EXPECT_EQ(0, mmio_wr(e->vcpu, PBA_GPA, 2, 0));
	EXPECT_EQ(reads + i + 2, mstat(e->dev, XVM_MSIX_STAT_BAD_READS));
	EXPECT_EQ(writes + i + 1, mstat(e->dev, XVM_MSIX_STAT_BAD_WRITES));

	/* Legal accesses still work. */
	EXPECT_EQ(0, entry_wr(e, 1, PCI_MSIX_ENTRY_VECTOR_CTRL, 0));
	EXPECT_EQ(1, pending(e, e->port[1]));
	EXPECT_EQ(delivered + 1, mstat(e->dev, XVM_MSIX_STAT_DELIVERED));
}

/* 8: an 8-byte access at the data offset covers the vector control. */
TEST_F(msix, qword_accesses)
{
	struct env *e = &self->e;
	uint64_t delivered;
	int h;

	/* 8 bytes at 0: the whole address. */
	EXPECT_EQ(0, mmio_wr(e->vcpu, entry(2, 0), 8, DB_ADDR));
	EXPECT_EQ(DB_ADDR, mmio_rd(e->vcpu, entry(2, 0), 8, &h));
	EXPECT_EQ(1, h);
	/* 8 bytes at 8: data, and control in the high half. */
	EXPECT_EQ(0, mmio_wr(e->vcpu, entry(2, 8), 8,
			     (1ULL << 32) | e->port[2]));
	EXPECT_EQ((1ULL << 32) | e->port[2],
		  mmio_rd(e->vcpu, entry(2, 8), 8, NULL));
	EXPECT_EQ(1, entry_rd(e, 2, PCI_MSIX_ENTRY_VECTOR_CTRL));
	/* Reserved control bits read as zero. */
	EXPECT_EQ(0, mmio_wr(e->vcpu, entry(2, 8), 8,
			     (0xfffffffeULL << 32) | e->port[2]));
	EXPECT_EQ(0, entry_rd(e, 2, PCI_MSIX_ENTRY_VECTOR_CTRL));
	EXPECT_EQ(0, mmio_wr(e->vcpu, entry(2, 8), 8,
			     (1ULL << 32) | e->port[2]));

	ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE));
	ASSERT_OK(fire(e, 2));
	EXPECT_EQ(4, pba(e));
	EXPECT_EQ(0, any_pending(e));
	delivered = mstat(e->dev, XVM_MSIX_STAT_DELIVERED);

	/* One 8-byte write: new data and unmask; the new data is used. */
	EXPECT_EQ(0, mmio_wr(e->vcpu, entry(2, 8), 8, e->port[0]));
	EXPECT_EQ(1, pending(e, e->port[0]));
	EXPECT_EQ(1, any_pending(e));
	EXPECT_EQ(0, pba(e));
	EXPECT_EQ(delivered + 1, mstat(e->dev, XVM_MSIX_STAT_DELIVERED));
	EXPECT_EQ(e->port[0], mmio_rd(e->vcpu, entry(2, 8), 8, NULL));
}

/* 9: PBA writes are ignored; PBA reads return the emulated bits. */
TEST_F(msix, pba_writes_ignored)
{
	struct env *e = &self->e;
	uint64_t writes;
	int h;

	ASSERT_OK(env_enable_all(e));
	ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE |
			   PCI_MSIX_FLAGS_MASKALL));
	ASSERT_OK(fire(e, 0));
	ASSERT_OK(fire(e, 3));
	EXPECT_EQ(0x9, pba(e));
	EXPECT_EQ(0x9, mmio_rd(e->vcpu, PBA_GPA, 4, &h));
	EXPECT_EQ(1, h);
	EXPECT_EQ(0, mmio_rd(e->vcpu, PBA_GPA + 4, 4, &h));
	EXPECT_EQ(1, h);

	writes = mstat(e->dev, XVM_MSIX_STAT_PBA_WRITES);
	EXPECT_EQ(0, mmio_wr(e->vcpu, PBA_GPA, 8, 0));
	EXPECT_EQ(0, mmio_wr(e->vcpu, PBA_GPA, 4, 0));
	EXPECT_EQ(0, mmio_wr(e->vcpu, PBA_GPA + 4, 4, 0xffffffff));
	EXPECT_EQ(0, mmio_wr(e->vcpu, PBA_GPA, 8, ~0ULL));
	EXPECT_EQ(writes + 4, mstat(e->dev, XVM_MSIX_STAT_PBA_WRITES));
	EXPECT_EQ(0x9, pba(e));

	ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE));
	EXPECT_EQ(0, pba(e));
	EXPECT_EQ(1, pending(e, e->port[0]));
	EXPECT_EQ(1, pending(e, e->port[3]));
	EXPECT_EQ(2, any_pending(e));
}

/* 10: the control word: table size - 1 | enable | function mask. */
TEST_F(msix, control_word)
{
	struct env *e = &self->e;
	uint16_t v;

	ASSERT_OK(set_ctrl(e->dev, 0xffff));
	EXPECT_EQ(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | (NVEC - 1),
		  get_ctrl(e->dev));
	ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_QSIZE));
	EXPECT_EQ(NVEC - 1, get_ctrl(e->dev));
	ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE | 0x3000));
	EXPECT_EQ(PCI_MSIX_FLAGS_ENABLE | (NVEC - 1), get_ctrl(e->dev));
	ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_MASKALL));
	EXPECT_EQ(PCI_MSIX_FLAGS_MASKALL | (NVEC - 1), get_ctrl(e->dev));

	/* The enable gates delivery, as the function mask does. */
	ASSERT_OK(program(e, 0, e->port[0], 0));
	ASSERT_OK(set_ctrl(e->dev, 0));
	ASSERT_OK(fire(e, 0));
	EXPECT_EQ(0, any_pending(e));
	EXPECT_EQ(1, pba(e));
	ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE));
	EXPECT_EQ(1, pending(e, e->port[0]));

	EXPECT_ERR(xvm_set_attr(e->dev, XVM_MSIX_GRP_CTRL, XVM_MSIX_CTRL_WORD,
				(void *)1), EFAULT);
	EXPECT_ERR(xvm_get_attr(e->dev, XVM_MSIX_GRP_CTRL, XVM_MSIX_CTRL_WORD,
				(void *)1), EFAULT);
	EXPECT_ERR(xvm_get_attr(e->dev, XVM_MSIX_GRP_CTRL,
				XVM_MSIX_CTRL_RESET, &v), ENXIO);
}

/* 11: the rest of the table's page is not claimed: the VMM forwards it. */
TEST_F(msix, unclaimed_in_page)
{
	static const uint64_t offs[] = {
		TABLE_SIZE, TABLE_SIZE + 8, 0x100, 0xff8, 0x1000, 0x1ff8,
		0x2008, 0x2010, 0x2ff8,
	};
	struct env *e = &self->e;
	unsigned int i;
	int h;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		mmio_rd(e->vcpu, BAR3_GPA + offs[i], 4, &h);
		EXPECT_EQ(0, h) TH_LOG("read at BAR3 + %#llx",
				       (unsigned long long)offs[i]);
		EXPECT_EQ(1, mmio_wr(e->vcpu, BAR3_GPA + offs[i], 4, 0));
		mmio_rd(e->vcpu, BAR3_GPA + offs[i], 8, &h);
		EXPECT_EQ(0, h);
	}
	/* Just below the table. */
	mmio_rd(e->vcpu, TABLE_GPA - 4, 4, &h);
	EXPECT_EQ(0, h);
	/* The last legal accesses are claimed. */
	mmio_rd(e->vcpu, TABLE_GPA + TABLE_SIZE - 8, 8, &h);
	EXPECT_EQ(1, h);
	mmio_rd(e->vcpu, PBA_GPA + 4, 4, &h);
	EXPECT_EQ(1, h);
}

/* 12: the hook is exclusive: a reader of the eventfd sees nothing. */
struct reader {
	int fd;
	atomic_int done;
	uint64_t val;
};

static void *reader_fn(void *arg)
{
	struct reader *r = arg;
	struct pollfd p = { .fd = r->fd, .events = POLLIN };

	/* Blocked in poll(), then read() - as a userspace VMM would. */
	while (poll(&p, 1, -1) == 1) {
		if (read(r->fd, &r->val, sizeof(r->val)) == sizeof(r->val))
			break;
	}
	atomic_store(&r->done, 1);
	return NULL;
}

TEST_F(msix, hook_is_exclusive)
{
	struct env *e = &self->e;
	struct reader r = { .fd = e->efd[1] };
	pthread_t t;
	uint64_t one = 1;
	int i;

	ASSERT_OK(env_enable_all(e));
	ASSERT_OK(pthread_create(&t, NULL, reader_fn, &r));
	for (i = 0; i < 3; i++) {
		ASSERT_OK(fire(e, 1));
		EXPECT_EQ(1, poll_port(e, e->port[1]));
		clear_ports(e);
	}
	EXPECT_EQ(0, atomic_load(&r.done));

	/* Unhooked, the eventfd is userspace's again. */
	ASSERT_OK(set_eventfd(e->dev, 1, -1));
	EXPECT_EQ(0, vec_flags(e->dev, 1) & XVM_MSIX_VECTOR_EVENTFD);
	if (e->real) {
		nic_fire(&e->vfio, 1);
	} else {
		ASSERT_OK(vfio_dev_trigger(&e->vfio, 1));
	}
	for (i = 0; i < 5000 && !atomic_load(&r.done); i++)
		usleep(1000);
	EXPECT_EQ(1, atomic_load(&r.done));
	if (!atomic_load(&r.done))
		ASSERT_EQ(8, write(e->efd[1], &one, sizeof(one)));
	pthread_join(t, NULL);
	EXPECT_GE(r.val, 1);
	EXPECT_EQ(0, any_pending(e));
}

/* A count already in the eventfd when it is hooked is a fire. */
TEST_F(msix, hook_consumes_earlier_signal)
{
	struct env *e = &self->e;
	uint64_t cnt;

	ASSERT_OK(env_enable_all(e));
	ASSERT_OK(set_eventfd(e->dev, 0, -1));
	if (e->real) {
		nic_fire(&e->vfio, 0);
	} else {
		ASSERT_OK(vfio_dev_trigger(&e->vfio, 0));
	}
	/* Wait until VFIO has signalled it (poll, do not read). */
	{
		struct pollfd p = { .fd = e->efd[0], .events = POLLIN };

		ASSERT_EQ(1, poll(&p, 1, 5000));
	}
	ASSERT_OK(set_eventfd(e->dev, 0, e->efd[0]));
	EXPECT_EQ(1, pending(e, e->port[0]));
	EXPECT_EQ(-1, read(e->efd[0], &cnt, sizeof(cnt)));
}

/*
 * A vector whose eventfd was closed shows EVENTFD without HOOKED, and
 * takes a new eventfd without a detach first (as an event-channel bridge).
 */
TEST_F(msix, hook_replaces_closed_eventfd)
{
	struct env *e = &self->e;
	int gone = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int next = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t one = 1, fired;

	ASSERT_LE(0, gone);
	ASSERT_LE(0, next);
	ASSERT_OK(set_eventfd(e->dev, 0, -1));
	ASSERT_OK(set_eventfd(e->dev, 0, gone));
	close(gone);
	EXPECT_EQ(XVM_MSIX_VECTOR_EVENTFD, vec_flags(e->dev, 0) &
		  (XVM_MSIX_VECTOR_EVENTFD | XVM_MSIX_VECTOR_HOOKED));
	ASSERT_OK(set_eventfd(e->dev, 0, next));
	EXPECT_EQ(XVM_MSIX_VECTOR_EVENTFD | XVM_MSIX_VECTOR_HOOKED,
		  vec_flags(e->dev, 0) &
		  (XVM_MSIX_VECTOR_EVENTFD | XVM_MSIX_VECTOR_HOOKED));
	/* A live one is still refused. */
	EXPECT_ERR(set_eventfd(e->dev, 0, e->efd[0]), EBUSY);
	fired = mstat(e->dev, XVM_MSIX_STAT_FIRED);
	ASSERT_EQ(8, write(next, &one, 8));
	EXPECT_EQ(fired + 1, mstat(e->dev, XVM_MSIX_STAT_FIRED));
	close(next);
}

/* Fires vec (device or loopback) without waiting for the interposer. */
static int fire_raw(struct env *e, unsigned int vec)
{
	if (e->real) {
		nic_fire(&e->vfio, vec);
		return 0;
	}
	return vfio_dev_trigger(&e->vfio, vec);
}

static uint32_t port_status(struct env *e, uint32_t port)
{
	uint32_t status = 0xdead;

	xvm_evtchn_status(e->vm, port, NULL, &status);
	return status;
}

/*
 * One eventfd, one in-kernel consumer: a vector's eventfd cannot also be
 * bridged to a port (EBUSY), nor a port's eventfd hooked to a vector; the
 * one that has it keeps working.
 */
TEST_F(msix, hook_excludes_port_bridge)
{
	struct env *e = &self->e;

	ASSERT_OK(env_enable_all(e));
	EXPECT_ERR(xvm_evtchn_eventfd(e->vm, e->port[2], e->efd[1], 0), EBUSY);
	EXPECT_EQ(0, port_status(e, e->port[2]) & XVM_EVTCHN_STATUS_EVENTFD_IN);
	ASSERT_OK(fire(e, 1));
	EXPECT_EQ(1, poll_port(e, e->port[1]));
	EXPECT_EQ(0, pending(e, e->port[2]));
	clear_ports(e);

	/* The reverse: the port's bridge has it, the vector cannot. */
	ASSERT_OK(set_eventfd(e->dev, 1, -1));
	ASSERT_OK(xvm_evtchn_eventfd(e->vm, e->port[2], e->efd[1], 0));
	EXPECT_ERR(set_eventfd(e->dev, 1, e->efd[1]), EBUSY);
	EXPECT_EQ(0, vec_flags(e->dev, 1) & (XVM_MSIX_VECTOR_EVENTFD |
					     XVM_MSIX_VECTOR_HOOKED));
	ASSERT_OK(fire_raw(e, 1));
	EXPECT_EQ(1, poll_port(e, e->port[2]));
	EXPECT_EQ(0, pending(e, e->port[1]));
	clear_ports(e);

	/* Bridge gone: the vector can have it again. */
	ASSERT_OK(xvm_evtchn_eventfd(e->vm, e->port[2], e->efd[1],
				     XVM_EVTCHN_EVENTFD_DEASSIGN));
	ASSERT_OK(set_eventfd(e->dev, 1, e->efd[1]));
	ASSERT_OK(fire(e, 1));
	EXPECT_EQ(1, poll_port(e, e->port[1]));
	EXPECT_EQ(0, pending(e, e->port[2]));
}

/* Attribute errors on an attached device. */
/*
 * Hooking an eventfd that already has a count delivers at once, from the
 * ioctl; that delivery may signal another eventfd (the port's NOTIFY one),
 * even the vector's own.  It must not happen under the first eventfd's
 * lock: the own-eventfd case would spin on a lock it holds.
 */
TEST_F(msix, hook_delivers_outside_eventfd_lock)
{
	struct env *e = &self->e;
	int own;

	for (own = 0; own < 2; own++) {
		struct pollfd p = { .fd = e->efd[0], .events = POLLIN };
		int other = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		int notify = own ? e->efd[0] : other;
		uint64_t cnt = 0;

		ASSERT_LE(0, other);
		ASSERT_OK(env_enable_all(e));
		ASSERT_OK(set_eventfd(e->dev, 0, -1));
		xvm_evtchn_clear(e->vm, e->port[0]);
		ASSERT_OK(xvm_evtchn_eventfd(e->vm, e->port[0], notify,
					     XVM_EVTCHN_EVENTFD_NOTIFY));
		if (e->real) {
			nic_fire(&e->vfio, 0);
		} else {
			ASSERT_OK(vfio_dev_trigger(&e->vfio, 0));
		}
		ASSERT_EQ(1, poll(&p, 1, 5000));

		ASSERT_OK(set_eventfd(e->dev, 0, e->efd[0]));
		EXPECT_EQ(1, pending(e, e->port[0]));
		if (own) {
			/* The port's signal came back to our own hook. */
			EXPECT_EQ(-1, read(e->efd[0], &cnt, sizeof(cnt)));
		} else {
			EXPECT_EQ(8, read(other, &cnt, sizeof(cnt)));
			EXPECT_EQ(1, cnt);
		}
		ASSERT_OK(xvm_evtchn_eventfd(e->vm, e->port[0], notify,
					     XVM_EVTCHN_EVENTFD_NOTIFY |
					     XVM_EVTCHN_EVENTFD_DEASSIGN));
		close(other);
	}
}

/* attr_errors: unknown groups and attributes. */
static void attr_errors_unknown(struct __test_metadata *_metadata,
				struct env *e)
{
	struct xvm_msix_vector_state st;
	uint64_t gpa;

	/* Unknown groups and attributes. */
	EXPECT_ERR(xvm_has_attr(e->dev, 7, 0, NULL), ENXIO);
	EXPECT_ERR(xvm_has_attr(e->dev, XVM_MSIX_GRP_EVENTFD, NVEC, NULL),
		   ENXIO);
	EXPECT_ERR(xvm_has_attr(e->dev, XVM_MSIX_GRP_ADDR, 2, NULL), ENXIO);
	EXPECT_ERR(xvm_has_attr(e->dev, XVM_MSIX_GRP_STATS,
				XVM_MSIX_NR_STATS, NULL), ENXIO);
	EXPECT_EQ(0, xvm_has_attr(e->dev, XVM_MSIX_GRP_VECTOR, NVEC - 1,
				  NULL));
	EXPECT_EQ(0, xvm_has_attr(e->dev, XVM_MSIX_GRP_CTRL,
				  XVM_MSIX_CTRL_RESET, NULL));
	EXPECT_ERR(xvm_get_attr(e->dev, XVM_MSIX_GRP_VECTOR, NVEC, &st),
		   ENXIO);
	EXPECT_ERR(xvm_set_attr(e->dev, XVM_MSIX_GRP_VECTOR, NVEC, &st), ENXIO);
	EXPECT_ERR(xvm_set_attr(e->dev, XVM_MSIX_GRP_INFO, 0, &st), ENXIO);
	EXPECT_ERR(xvm_set_attr(e->dev, XVM_MSIX_GRP_CTRL,
				XVM_MSIX_CTRL_STATE_VERSION, &gpa), ENXIO);
	EXPECT_EQ(0, xvm_has_attr(e->dev, XVM_MSIX_GRP_CTRL,
				  XVM_MSIX_CTRL_STATE_VERSION, NULL));
	EXPECT_ERR(xvm_has_attr(e->dev, XVM_MSIX_GRP_CTRL,
				XVM_MSIX_CTRL_STATE_VERSION + 1, NULL), ENXIO);
	EXPECT_ERR(xvm_set_attr(e->dev, XVM_MSIX_GRP_STATS, 0, &gpa), ENXIO);
	EXPECT_ERR(xvm_get_attr(e->dev, XVM_MSIX_GRP_EVENTFD, 0, &gpa), ENXIO);
	EXPECT_ERR(xvm_get_attr(e->dev, XVM_MSIX_GRP_INFO, 1, &st), ENXIO);
}

/* attr_errors: table and PBA addresses, moved and removed. */
static void attr_errors_addresses(struct __test_metadata *_metadata,
				  struct env *e)
{
	uint64_t gpa;

	/* Addresses. */
	EXPECT_ERR(set_addr(e->dev, XVM_MSIX_ADDR_TABLE, TABLE_GPA + 4),
		   EINVAL);
	EXPECT_ERR(set_addr(e->dev, XVM_MSIX_ADDR_PBA, 1ULL << 40), E2BIG);
	EXPECT_ERR(set_addr(e->dev, XVM_MSIX_ADDR_PBA, (1ULL << 40) - 4),
		   EINVAL);
	EXPECT_ERR(set_addr(e->dev, XVM_MSIX_ADDR_TABLE, (1ULL << 40) - 0x40),
		   E2BIG);
	/* Overlaps the table, the doorbell: the PBA is then off the bus. */
	EXPECT_ERR(set_addr(e->dev, XVM_MSIX_ADDR_PBA, TABLE_GPA + 0x40),
		   EEXIST);
	ASSERT_OK(xvm_get_attr(e->dev, XVM_MSIX_GRP_ADDR, XVM_MSIX_ADDR_PBA,
			       &gpa));
	EXPECT_EQ(XVM_MSIX_ADDR_NONE, gpa);
	EXPECT_ERR(set_addr(e->dev, XVM_MSIX_ADDR_PBA, DB_ADDR), EEXIST);
	/* Move and remove. */
	ASSERT_OK(set_addr(e->dev, XVM_MSIX_ADDR_PBA, PBA_GPA + 0x1000));
	ASSERT_OK(xvm_get_attr(e->dev, XVM_MSIX_GRP_ADDR, XVM_MSIX_ADDR_PBA,
			       &gpa));
	EXPECT_EQ(PBA_GPA + 0x1000, gpa);
	{
		int h;

		mmio_rd(e->vcpu, PBA_GPA, 8, &h);
		EXPECT_EQ(0, h);
		mmio_rd(e->vcpu, PBA_GPA + 0x1000, 8, &h);
		EXPECT_EQ(1, h);
	}
	ASSERT_OK(set_addr(e->dev, XVM_MSIX_ADDR_TABLE, XVM_MSIX_ADDR_NONE));
	ASSERT_OK(set_addr(e->dev, XVM_MSIX_ADDR_TABLE, XVM_MSIX_ADDR_NONE));
	{
		int h;

		mmio_rd(e->vcpu, TABLE_GPA, 4, &h);
		EXPECT_EQ(0, h);
	}
	ASSERT_OK(set_addr(e->dev, XVM_MSIX_ADDR_TABLE, TABLE_GPA));
	EXPECT_ERR(xvm_set_attr(e->dev, XVM_MSIX_GRP_ADDR, 0, (void *)1),
		   EFAULT);
}

/* attr_errors: eventfds, also from a second interposer. */
static void attr_errors_eventfds(struct __test_metadata *_metadata,
				 struct env *e, int efd, int nfd)
{
	/* Eventfds. */
	EXPECT_ERR(set_eventfd(e->dev, 0, e->efd[0]), EBUSY);
	EXPECT_ERR(set_eventfd(e->dev, NVEC, efd), ENXIO);
	ASSERT_OK(set_eventfd(e->dev, 0, -1));
	EXPECT_ERR(set_eventfd(e->dev, 0, -1), ENOENT);
	EXPECT_ERR(set_eventfd(e->dev, 0, nfd), EINVAL);
	EXPECT_ERR(set_eventfd(e->dev, 0, -2), EBADF);
	EXPECT_ERR(set_eventfd(e->dev, 0, 1000), EBADF);
	/* Hooked on another vector already: refused. */
	EXPECT_ERR(set_eventfd(e->dev, 0, e->efd[1]), EBUSY);
	EXPECT_EQ(0, vec_flags(e->dev, 0) & XVM_MSIX_VECTOR_EVENTFD);
	ASSERT_OK(set_eventfd(e->dev, 0, efd));
	ASSERT_OK(set_eventfd(e->dev, 0, -1));
	ASSERT_OK(set_eventfd(e->dev, 0, e->efd[0]));

	/* A second interposer cannot hook the same eventfd. */
	{
		int dev2;

		ASSERT_OK(xvm_create_device(e->vm, XVM_DEV_TYPE_VFIO_MSIX, 0,
					    &dev2));
		ASSERT_OK(msix_attach_pci(dev2, e->vfio.group, NIC));
		EXPECT_ERR(set_eventfd(dev2, 0, e->efd[0]), EBUSY);
		ASSERT_OK(set_eventfd(dev2, 0, efd));
		EXPECT_ERR(set_addr(dev2, XVM_MSIX_ADDR_TABLE, TABLE_GPA),
			   EEXIST);
		close(dev2);
	}
}

TEST_F(msix, attr_errors)
{
	struct env *e = &self->e;
	int efd = eventfd(0, EFD_CLOEXEC), nfd = open("/dev/null", O_RDONLY);

	/* Attach once. */
	EXPECT_ERR(msix_attach_pci(e->dev, e->vfio.group, NIC),
		   EEXIST);
	attr_errors_unknown(_metadata, e);
	attr_errors_addresses(_metadata, e);
	attr_errors_eventfds(_metadata, e, efd, nfd);
	close(efd);
	close(nfd);
}

/* State: save (get) and restore (set), docs/api.md "State (save and restore)". */

#define VEC_LIVE	(XVM_MSIX_VECTOR_EVENTFD | XVM_MSIX_VECTOR_HOOKED)

struct saved {
	uint16_t ctrl;
	struct xvm_msix_vector_state vec[NVEC];
	uint64_t table[TABLE_SIZE / 8];		/* as the guest reads it */
	uint64_t pba;
};

static int state_get(struct env *e, struct saved *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	if (xvm_get_attr(e->dev, XVM_MSIX_GRP_CTRL, XVM_MSIX_CTRL_WORD,
			 &s->ctrl))
		return -1;
	for (i = 0; i < NVEC; i++)
		if (xvm_msix_get_vector(e->dev, i, &s->vec[i]))
			return -1;
	for (i = 0; i < TABLE_SIZE / 8; i++)
		s->table[i] = mmio_rd(e->vcpu, TABLE_GPA + 8 * i, 8, NULL);
	s->pba = pba(e);
	return 0;
}

/* The documented order: the control word, then every vector. */
static int state_set(int dev, const struct saved *s)
{
	unsigned int i;

	if (set_ctrl(dev, s->ctrl))
		return -1;
	for (i = 0; i < NVEC; i++)
		if (xvm_msix_set_vector(dev, i, &s->vec[i]))
			return -1;
	return 0;
}

/* Whether a and b are the same device state, hooks aside. */
static int state_same(const struct saved *a, const struct saved *b)
{
	struct saved x = *a, y = *b;
	unsigned int i;

	for (i = 0; i < NVEC; i++) {
		x.vec[i].flags &= ~VEC_LIVE;
		y.vec[i].flags &= ~VEC_LIVE;
	}
	return !memcmp(&x, &y, sizeof(x));
}

/*
 * Save as documented - unhook every vector (fires then stay in the VFIO
 * eventfds), get, close - then gap() (fires with no interposer), then a
 * fresh VM with the same ports and a fresh interposer on the same
 * function: restore, hook.  Returns NULL or what failed.
 */
static const char *env_migrate(struct env *e, struct saved *s,
			       int (*gap)(struct env *e))
{
	uint32_t old[NVEC];
	const char *what;
	int i;

	for (i = 0; i < NVEC; i++)
		if (set_eventfd(e->dev, i, -1))
			return "unhook";
	if (state_get(e, s))
		return "save";
	memcpy(old, e->port, sizeof(old));
	env_close_xvm(e);
	if (gap && gap(e))
		return "fire with no interposer";
	what = env_open_vm(e);
	if (what)
		return what;
	if (memcmp(old, e->port, sizeof(old)))
		return "the fresh VM's ports differ";
	if (state_set(e->dev, s))
		return "restore";
	return env_hook_all(e);
}

/*
 * Something of everything: 0 unmasked; 1 masked and pending; 2 unmasked,
 * data rewritten while unmasked (UPDATED); 3 masked, data rewritten; 4
 * masked, address only.  Then the control word ctrl; with the function
 * mask, 0 fires and latches too.
 */
static int program_mixed(struct env *e, uint16_t ctrl)
{
	if (program(e, 0, e->port[0], 0) || program(e, 1, e->port[1], 1) ||
	    program(e, 2, e->port[2], 0) || program(e, 3, e->port[3], 1) ||
	    entry_wr(e, 4, PCI_MSIX_ENTRY_LOWER_ADDR, (uint32_t)DB_ADDR))
		return -1;
	if (set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE) ||
	    entry_wr(e, 2, PCI_MSIX_ENTRY_DATA, e->port[4]) ||
	    entry_wr(e, 3, PCI_MSIX_ENTRY_DATA, e->port[0]) || fire(e, 1))
		return -1;
	if (set_ctrl(e->dev, ctrl))
		return -1;
	if ((ctrl & PCI_MSIX_FLAGS_MASKALL) && fire(e, 0))
		return -1;
	return 0;
}

/* (1) get, restore into a fresh device, get: the same, nothing delivered. */
TEST_F(msix, state_round_trip)
{
	static const uint16_t ctrls[] = {
		PCI_MSIX_FLAGS_ENABLE,
		PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL,
		PCI_MSIX_FLAGS_MASKALL,
	};
	struct env *e = &self->e;
	struct saved s, again;
	const char *what;
	unsigned int c, i;
	uint32_t version = 0;

	ASSERT_OK(xvm_get_attr(e->dev, XVM_MSIX_GRP_CTRL,
			       XVM_MSIX_CTRL_STATE_VERSION, &version));
	EXPECT_EQ(XVM_MSIX_STATE_VERSION, version);
	for (c = 0; c < sizeof(ctrls) / sizeof(ctrls[0]); c++) {
		ASSERT_OK(program_mixed(e, ctrls[c]));
		clear_ports(e);
		what = env_migrate(e, &s, NULL);
		ASSERT_EQ(NULL, what) TH_LOG("ctrl %#x: %s", ctrls[c], what);
		EXPECT_EQ(ctrls[c] | (NVEC - 1), s.ctrl);
		EXPECT_TRUE(s.vec[1].flags & XVM_MSIX_VECTOR_PENDING);
		/* Written while unmasked: masking later keeps it. */
		EXPECT_TRUE(s.vec[2].flags & XVM_MSIX_VECTOR_UPDATED);
		for (i = 0; i < NVEC; i++)
			EXPECT_EQ(XVM_MSIX_STATE_VERSION, s.vec[i].version);

		ASSERT_OK(state_get(e, &again));
		EXPECT_TRUE(state_same(&s, &again)) TH_LOG("ctrl %#x", ctrls[c]);
		for (i = 0; i < NVEC; i++)
			EXPECT_EQ(VEC_LIVE, again.vec[i].flags & VEC_LIVE);
		/* The restore delivered nothing. */
		EXPECT_EQ(0, any_pending(e));
		EXPECT_EQ(0, mstat(e->dev, XVM_MSIX_STAT_DELIVERED));

		/* Clearing the function mask releases 0's restored bit only. */
		ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE));
		EXPECT_EQ(!!(ctrls[c] & PCI_MSIX_FLAGS_MASKALL),
			  pending(e, e->port[0]));
		EXPECT_EQ(!!(ctrls[c] & PCI_MSIX_FLAGS_MASKALL),
			  any_pending(e));
		EXPECT_EQ(1u << 1, pba(e));
		ASSERT_OK(xvm_set_attr(e->dev, XVM_MSIX_GRP_CTRL,
				       XVM_MSIX_CTRL_RESET, NULL));
		clear_ports(e);
	}
}

/* With no interposer: fire 0 (unmasked) and 3 (masked), wait for VFIO. */
static int fire_detached(struct env *e)
{
	static const unsigned int vecs[] = { 0, 3 };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		struct pollfd p = { .fd = e->efd[vecs[i]], .events = POLLIN };

		if (fire_raw(e, vecs[i]) || poll(&p, 1, 5000) != 1)
			return -1;
	}
	if (e->real)
		usleep(2000);	/* a duplicate, if any, lands now */
	return 0;
}

/* Masks and unmasks v, then checks nothing more was delivered. */
static void mask_cycle_delivers_nothing(struct __test_metadata *_metadata,
					struct env *e, unsigned int v,
					uint64_t delivered)
{
	clear_ports(e);
	ASSERT_EQ(0, entry_wr(e, v, PCI_MSIX_ENTRY_VECTOR_CTRL, 1));
	ASSERT_EQ(0, entry_wr(e, v, PCI_MSIX_ENTRY_VECTOR_CTRL, 0));
	ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE |
			   PCI_MSIX_FLAGS_MASKALL));
	ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE));
	EXPECT_EQ(0, any_pending(e)) TH_LOG("vector %u", v);
	EXPECT_EQ(delivered, mstat(e->dev, XVM_MSIX_STAT_DELIVERED));
}

/*
 * (2) A bit latched before the save, and fires while no interposer is
 * attached, are each delivered once after the restore: at the hook if
 * unmasked, else at the unmask; then never again.
 */
TEST_F(msix, state_pending_delivered_once)
{
	struct env *e = &self->e;
	struct saved s;
	const char *what;

	ASSERT_OK(env_enable_all(e));
	ASSERT_EQ(0, entry_wr(e, 1, PCI_MSIX_ENTRY_VECTOR_CTRL, 1));
	ASSERT_EQ(0, entry_wr(e, 3, PCI_MSIX_ENTRY_VECTOR_CTRL, 1));
	ASSERT_OK(fire(e, 1));
	EXPECT_EQ(1u << 1, pba(e));
	what = env_migrate(e, &s, fire_detached);
	ASSERT_EQ(NULL, what) TH_LOG("%s", what);

	/* 0's count was fired by the hook: delivered; 3's latched. */
	EXPECT_EQ(1, pending(e, e->port[0]));
	EXPECT_EQ(1, any_pending(e));
	EXPECT_EQ(1, mstat(e->dev, XVM_MSIX_STAT_DELIVERED));
	EXPECT_EQ((1u << 1) | (1u << 3), pba(e));
	clear_ports(e);

	ASSERT_EQ(0, entry_wr(e, 1, PCI_MSIX_ENTRY_VECTOR_CTRL, 0));
	EXPECT_EQ(1, pending(e, e->port[1]));
	EXPECT_EQ(1, any_pending(e));
	EXPECT_EQ(1u << 3, pba(e));
	EXPECT_EQ(2, mstat(e->dev, XVM_MSIX_STAT_DELIVERED));
	mask_cycle_delivers_nothing(_metadata, e, 1, 2);

	ASSERT_EQ(0, entry_wr(e, 3, PCI_MSIX_ENTRY_VECTOR_CTRL, 0));
	EXPECT_EQ(1, pending(e, e->port[3]));
	EXPECT_EQ(1, any_pending(e));
	EXPECT_EQ(0, pba(e));
	EXPECT_EQ(3, mstat(e->dev, XVM_MSIX_STAT_DELIVERED));
	mask_cycle_delivers_nothing(_metadata, e, 3, 3);
	mask_cycle_delivers_nothing(_metadata, e, 0, 3);
}

/* With no interposer: fire 0 once and wait until VFIO has signalled it. */
static int fire_one_detached(struct env *e)
{
	struct pollfd p = { .fd = e->efd[0], .events = POLLIN };

	if (fire_raw(e, 0) || poll(&p, 1, 5000) != 1)
		return -1;
	if (e->real)
		usleep(2000);
	return 0;
}

/*
 * DELIVERED, once it has caught up with FIRED (in *fired): an unmasked
 * vector delivers each signal its hook took exactly once.  ~0 if any was
 * latched or undeliverable.
 */
static uint64_t delivered_as_fired(struct env *e, uint64_t *fired)
{
	*fired = mstat(e->dev, XVM_MSIX_STAT_FIRED);
	if (mstat(e->dev, XVM_MSIX_STAT_LATCHED) ||
	    mstat(e->dev, XVM_MSIX_STAT_UNDELIVERABLE))
		return ~0ULL;
	return mstat_reaches(e->dev, XVM_MSIX_STAT_DELIVERED, *fired);
}

/*
 * (2) A counted stream of fires across a save/restore: n delivered, each
 * once.  The e1000e may send a message twice (see the top of this file):
 * with it, each fire is delivered at least once and each message the
 * interposer took is delivered exactly once.
 */
TEST_F(msix, state_stream_across_restore)
{
	const int n = 16, cut = n / 2;
	struct env *e = &self->e;
	uint64_t before = 0, after, fired_before = 0, fired_after;
	struct saved s;
	const char *what;
	int k;

	ASSERT_OK(env_enable_all(e));
	for (k = 0; k < n; k++) {
		if (k == cut) {
			/* Fire k happens with no interposer attached. */
			before = delivered_as_fired(e, &fired_before);
			what = env_migrate(e, &s, fire_one_detached);
			ASSERT_EQ(NULL, what) TH_LOG("%s", what);
		} else {
			ASSERT_OK(fire_raw(e, 0));
		}
		EXPECT_EQ(1, poll_port(e, e->port[0])) TH_LOG("fire %d", k);
		xvm_evtchn_clear(e->vm, e->port[0]);
	}
	if (e->real)
		usleep(2000);	/* a duplicate, if any, lands now */
	after = delivered_as_fired(e, &fired_after);
	EXPECT_EQ(fired_before, before);
	EXPECT_EQ(fired_after, after);
	if (e->real) {
		EXPECT_LE(cut, before);
		EXPECT_LE(n - cut, after);
	} else {
		EXPECT_EQ(cut, before);
		EXPECT_EQ(n - cut, after);
		EXPECT_EQ(0, any_pending(e));
	}
	EXPECT_EQ(0, pba(e));
}

/*
 * Exactly once, counted at the target.  The stream's vectors write to
 * xvm-testdev registers instead of the doorbell: the testdev counts every
 * 4-byte write (XVM_TESTDEV_STAT_WRITES), so each delivery is counted
 * once, never coalesced as a port's pending bit is.
 */
#define XA		1		/* unmasked: the counted stream */
#define XB		2		/* masked across the save */
#define XA_GPA		0x50000000ULL
#define XB_GPA		0x50001000ULL
#define X_FIRES		12		/* per phase, of XA */

struct xonce {
	int td[2];			/* the testdevs of XA, XB */
	uint64_t m;			/* messages per device fire of XA */
};

/* The VM's testdevs for XA and XB, and XA, XB pointed at them. */
static int xonce_targets(struct env *e, struct xonce *x)
{
	if (fixture_testdev(e->vm, &x->td[0], XA_GPA, 8) ||
	    fixture_testdev(e->vm, &x->td[1], XB_GPA, 8))
		return -1;
	return 0;
}

static uint64_t xwrites(const struct xonce *x, int i)
{
	uint64_t v = ~0ULL;

	xvm_testdev_stat(x->td[i], XVM_TESTDEV_STAT_WRITES, &v);
	return v;
}

/*
 * The writes target i took, once they reach want (the interrupt's CPU may
 * still be writing) and after 5 ms more: a late duplicate shows.
 */
static uint64_t xwrites_settled(const struct xonce *x, int i, uint64_t want)
{
	uint64_t v = xwrites(x, i);
	int k;

	for (k = 0; k < 1000 && v < want; k++) {
		usleep(1000);
		v = xwrites(x, i);
	}
	usleep(5000);
	return xwrites(x, i);
}

static void xonce_close(struct xonce *x)
{
	close_fd(&x->td[0]);
	close_fd(&x->td[1]);
}

/* Programs XA unmasked and XB masked at their targets; MSI-X on. */
static int xonce_program(struct env *e)
{
	static const struct { unsigned int vec; uint64_t gpa; int masked; }
	v[2] = { { XA, XA_GPA, 0 }, { XB, XB_GPA, 1 } };
	int i;

	for (i = 0; i < 2; i++)
		if (entry_wr(e, v[i].vec, PCI_MSIX_ENTRY_LOWER_ADDR,
			     (uint32_t)v[i].gpa) ||
		    entry_wr(e, v[i].vec, PCI_MSIX_ENTRY_UPPER_ADDR, 0) ||
		    entry_wr(e, v[i].vec, PCI_MSIX_ENTRY_DATA, 0xa0 + i) ||
		    entry_wr(e, v[i].vec, PCI_MSIX_ENTRY_VECTOR_CTRL, v[i].masked))
			return -1;
	return set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE);
}

/* n fires of vec, each waited for (fire()). */
static int xfire(struct env *e, unsigned int vec, int n)
{
	while (n--)
		if (fire(e, vec))
			return -1;
	return 0;
}

/*
 * The save of env_migrate() with the testdevs: unhook, get, close; one
 * fire of XA with no interposer; a fresh VM with its testdevs, a fresh
 * interposer on the same function, restore, hook.  (XB does not fire
 * then: its restored bit is the saved one alone.)
 */
static const char *xonce_migrate(struct env *e, struct xonce *x,
				 struct saved *s)
{
	const char *what;
	int i;

	for (i = 0; i < NVEC; i++)
		if (set_eventfd(e->dev, i, -1))
			return "unhook";
	if (state_get(e, s))
		return "save";
	xonce_close(x);
	env_close_xvm(e);
	{
		struct pollfd p = { .fd = e->efd[XA], .events = POLLIN };

		if (fire_raw(e, XA) || poll(&p, 1, 5000) != 1)
			return "fire with no interposer";
	}
	if (e->real)
		usleep(2000);	/* a duplicate, if any, lands now */
	what = env_open_vm(e);
	if (what)
		return what;
	if (xonce_targets(e, x))
		return "testdevs in the fresh VM";
	if (state_set(e->dev, s))
		return "restore";
	return env_hook_all(e);
}

/*
 * How many messages one fire of XA is.  1 by loopback.  QEMU 7.2's e1000e
 * may send a vector twice per cause (the second from its EITR throttling
 * timer, 128 us later, once a cause was ever postponed on that vector);
 * which it is does not change while fires are 1 ms apart, so it is
 * measured, and checked again at the end.
 */
static int xonce_calibrate(struct env *e, struct xonce *x, uint64_t *m)
{
	uint64_t before = xwrites(x, 0);

	if (fire(e, XA))
		return -1;
	*m = xwrites_settled(x, 0, before + 1) - before;
	return 0;
}

/* The unmask delivers XB's bit once; masking again brings nothing. */
static void xonce_release_xb(struct __test_metadata *_metadata, struct env *e,
			     const struct xonce *x)
{
	ASSERT_EQ(0, entry_wr(e, XB, PCI_MSIX_ENTRY_VECTOR_CTRL, 0));
	EXPECT_EQ(1, xwrites_settled(x, 1, 1));
	EXPECT_EQ(0, pba(e));
	ASSERT_EQ(0, entry_wr(e, XB, PCI_MSIX_ENTRY_VECTOR_CTRL, 1));
	ASSERT_EQ(0, entry_wr(e, XB, PCI_MSIX_ENTRY_VECTOR_CTRL, 0));
	EXPECT_EQ(1, xwrites_settled(x, 1, 1));
}

/*
 * The exactly-once: a stream of XA fires before the save, while
 * no interposer exists, and after the restore, with XB masked and fired
 * before the save and after the restore.  Every message of XA is
 * delivered exactly once (a fire while unhooked stays in the eventfd's
 * count, delivered once at the hook); XB's pending bit is in the saved
 * state and in the restored PBA, and its unmask delivers it exactly once.
 */
TEST_F(msix, state_exactly_once_counted)
{
	struct env *e = &self->e;
	struct xonce x = { .td = { -1, -1 } };
	uint64_t m = 0, m2 = 0, mb, want;
	struct saved s;
	const char *what;

	if (xonce_targets(e, &x))
		SKIP(xonce_close(&x); return, "no xvm-testdev");
	ASSERT_OK(xonce_program(e));
	ASSERT_OK(xonce_calibrate(e, &x, &m));
	ASSERT_TRUE(m == 1 || (e->real && m == 2)) TH_LOG("m = %llu",
							  (unsigned long long)m);
	TH_LOG("%llu message(s) per fire of vector %d",
	       (unsigned long long)m, XA);

	/* Before the save: every message delivered, XB latched. */
	ASSERT_OK(xfire(e, XA, X_FIRES));
	ASSERT_OK(xfire(e, XB, 1));
	EXPECT_EQ(m * (1 + X_FIRES), xwrites_settled(&x, 0, m * (1 + X_FIRES)));
	EXPECT_EQ(0, xwrites(&x, 1));
	EXPECT_EQ(1u << XB, pba(e));

	what = xonce_migrate(e, &x, &s);
	ASSERT_EQ(NULL, what) TH_LOG("%s", what);
	EXPECT_TRUE(s.vec[XB].flags & XVM_MSIX_VECTOR_PENDING);
	EXPECT_FALSE(s.vec[XA].flags & XVM_MSIX_VECTOR_PENDING);
	EXPECT_EQ(1u << XB, s.pba);

	/* The hook took XA's count as one fire; XB's bit is restored. */
	EXPECT_EQ(1, xwrites_settled(&x, 0, 1));
	EXPECT_EQ(0, xwrites(&x, 1));
	EXPECT_EQ(1u << XB, pba(e));
	EXPECT_EQ(1, mstat(e->dev, XVM_MSIX_STAT_FIRED));

	/* After the restore: every message delivered, XB still latched. */
	ASSERT_OK(xfire(e, XA, X_FIRES));
	mb = mstat(e->dev, XVM_MSIX_STAT_FIRED);
	ASSERT_OK(xfire(e, XB, 1));
	mb = mstat(e->dev, XVM_MSIX_STAT_FIRED) - mb;	/* XB's messages */
	ASSERT_TRUE(mb == 1 || (e->real && mb == 2));
	want = 1 + m * X_FIRES;
	EXPECT_EQ(want, xwrites_settled(&x, 0, want));
	EXPECT_EQ(0, xwrites(&x, 1));
	EXPECT_EQ(1u << XB, pba(e));

	xonce_release_xb(_metadata, e, &x);
	/* The interposer's own counts agree with the targets'. */
	EXPECT_EQ(1 + m * X_FIRES + mb,
		  mstat(e->dev, XVM_MSIX_STAT_FIRED));
	EXPECT_EQ(want + 1, mstat(e->dev, XVM_MSIX_STAT_DELIVERED));
	EXPECT_EQ(mb, mstat(e->dev, XVM_MSIX_STAT_LATCHED));
	EXPECT_EQ(0, mstat(e->dev, XVM_MSIX_STAT_UNDELIVERABLE));
	/* The device sent what it sent at the start. */
	ASSERT_OK(xonce_calibrate(e, &x, &m2));
	EXPECT_EQ(m, m2);
	xonce_close(&x);
}

/* A value of vector 1's state that set must refuse with EINVAL (k-th). */
static int state_bad_value(unsigned int k, struct xvm_msix_vector_state *st)
{
	switch (k) {
	case 0:
		st->version = 0;
		break;
	case 1:
		st->version = XVM_MSIX_STATE_VERSION + 1;
		break;
	case 2:
		st->pad = 1;
		break;
	case 3:
		st->reserved[0] = 1;
		break;
	case 4:
		st->flags |= 1u << 5;
		break;
	case 5:
		st->flags |= 1u << 31;
		break;
	case 6:
		st->ctrl = 2;
		break;
	case 7:
		st->ctrl = ~0u;
		break;
	case 8:		/* unmasked and pending: no device is in that state */
		st->ctrl = 0;
		break;
	case 9:		/* unmasked, not UPDATED, msg_* not the entry */
		st->ctrl = 0;
		st->flags &= ~XVM_MSIX_VECTOR_PENDING;
		st->msg_data = st->data + 1;
		break;
	default:
		return 0;
	}
	return 1;
}

/* (3) bad restores: each refused with its errno, the device unchanged. */
TEST_F(msix, state_bad_input)
{
	struct env *e = &self->e;
	struct xvm_msix_vector_state st;
	struct saved before, after;
	unsigned int k;

	ASSERT_OK(env_enable_all(e));
	ASSERT_EQ(0, entry_wr(e, 1, PCI_MSIX_ENTRY_VECTOR_CTRL, 1));
	ASSERT_OK(fire(e, 1));
	ASSERT_OK(set_eventfd(e->dev, 1, -1));
	ASSERT_OK(state_get(e, &before));

	for (k = 0; ; k++) {
		st = before.vec[1];
		if (!state_bad_value(k, &st))
			break;
		errno = 0;
		EXPECT_EQ(-1, xvm_msix_set_vector(e->dev, 1, &st))
			TH_LOG("case %u", k);
		EXPECT_EQ(EINVAL, errno) TH_LOG("case %u", k);
	}
	EXPECT_EQ(10, k);
	st = before.vec[1];
	EXPECT_ERR(xvm_msix_set_vector(e->dev, NVEC, &st), ENXIO);
	EXPECT_ERR(xvm_msix_set_vector(e->dev, ~0u, &st), ENXIO);
	EXPECT_ERR(xvm_set_attr(e->dev, XVM_MSIX_GRP_VECTOR, 1ULL << 32, &st),
		   ENXIO);
	EXPECT_ERR(xvm_set_attr(e->dev, XVM_MSIX_GRP_VECTOR, 1, (void *)1),
		   EFAULT);
	/* A hooked vector: a fire it latched would be overwritten. */
	EXPECT_ERR(xvm_msix_set_vector(e->dev, 0, &before.vec[0]), EBUSY);
	ASSERT_OK(state_get(e, &after));
	EXPECT_TRUE(state_same(&before, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));

	/* The derived bits are ignored; valid sets deliver nothing. */
	st = before.vec[1];
	st.flags ^= XVM_MSIX_VECTOR_MASKED | VEC_LIVE;
	ASSERT_OK(xvm_msix_set_vector(e->dev, 1, &st));
	st.ctrl = 0;
	st.flags = XVM_MSIX_VECTOR_UPDATED;
	st.msg_data = st.data + 1;
	ASSERT_OK(xvm_msix_set_vector(e->dev, 1, &st));
	EXPECT_EQ(0, pba(e));
	ASSERT_OK(xvm_msix_set_vector(e->dev, 1, &before.vec[1]));
	ASSERT_OK(state_get(e, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	EXPECT_EQ(0, any_pending(e));
	EXPECT_EQ(0, mstat(e->dev, XVM_MSIX_STAT_DELIVERED));
}

/* (3) before attach: ENODEV; the version is readable all the same. */
TEST_F(msix, state_before_attach)
{
	struct env *e = &self->e;
	struct xvm_msix_vector_state st = { .version = XVM_MSIX_STATE_VERSION,
					    .ctrl = 1 };
	uint32_t version = 0;
	int dev;

	ASSERT_OK(xvm_create_device(e->vm, XVM_DEV_TYPE_VFIO_MSIX, 0, &dev));
	EXPECT_ERR(xvm_msix_set_vector(dev, 0, &st), ENODEV);
	EXPECT_ERR(xvm_msix_get_vector(dev, 0, &st), ENODEV);
	EXPECT_ERR(xvm_has_attr(dev, XVM_MSIX_GRP_VECTOR, 0, NULL), ENODEV);
	EXPECT_OK(xvm_get_attr(dev, XVM_MSIX_GRP_CTRL,
			       XVM_MSIX_CTRL_STATE_VERSION, &version));
	EXPECT_EQ(XVM_MSIX_STATE_VERSION, version);
	ASSERT_OK(msix_attach_pci(dev, e->vfio.group, NIC));
	ASSERT_OK(xvm_msix_set_vector(dev, 0, &st));
	close(dev);
}

/*
 * The other order, vectors before the control word, is safe: pending bits
 * survive and are delivered once; a vector's deferred update (UPDATED)
 * takes effect at the control write, as the guest's own enable would.
 */
TEST_F(msix, state_restore_vectors_first)
{
	struct env *e = &self->e;
	struct saved s, again;
	unsigned int i;
	const char *what;

	ASSERT_OK(program_mixed(e, PCI_MSIX_FLAGS_ENABLE |
				PCI_MSIX_FLAGS_MASKALL));
	what = env_migrate(e, &s, NULL);
	ASSERT_EQ(NULL, what) TH_LOG("%s", what);
	ASSERT_OK(xvm_set_attr(e->dev, XVM_MSIX_GRP_CTRL,
			       XVM_MSIX_CTRL_RESET, NULL));
	for (i = 0; i < NVEC; i++) {
		ASSERT_OK(set_eventfd(e->dev, i, -1));
		ASSERT_OK(xvm_msix_set_vector(e->dev, i, &s.vec[i]));
	}
	ASSERT_OK(set_ctrl(e->dev, s.ctrl));
	ASSERT_OK(state_get(e, &again));
	EXPECT_TRUE(state_same(&s, &again));
	EXPECT_EQ(0, any_pending(e));
	ASSERT_OK(set_ctrl(e->dev, PCI_MSIX_FLAGS_ENABLE));
	EXPECT_EQ(1, pending(e, e->port[0]));
	EXPECT_EQ(1, any_pending(e));
	EXPECT_EQ(1u << 1, pba(e));
	EXPECT_EQ(1, mstat(e->dev, XVM_MSIX_STAT_DELIVERED));
}

/* Attach: ownership and the device's own layout. */

/* attach_errors: before attach, nothing but ATTACH and STATS. */
static void attach_errors_unattached(struct __test_metadata *_metadata,
				     int dev, int efd)
{
	struct xvm_msix_attach a;
	struct xvm_msix_info info;
	uint16_t w = 0;

	/* Before attach: nothing but ATTACH and STATS. */
	EXPECT_ERR(set_addr(dev, XVM_MSIX_ADDR_TABLE, TABLE_GPA), ENODEV);
	EXPECT_ERR(set_eventfd(dev, 0, efd), ENODEV);
	EXPECT_ERR(set_ctrl(dev, 0), ENODEV);
	EXPECT_ERR(xvm_get_attr(dev, XVM_MSIX_GRP_CTRL, 0, &w), ENODEV);
	EXPECT_ERR(xvm_get_attr(dev, XVM_MSIX_GRP_INFO, 0, &info), ENODEV);
	EXPECT_ERR(xvm_has_attr(dev, XVM_MSIX_GRP_VECTOR, 0, NULL), ENODEV);
	EXPECT_EQ(0, xvm_has_attr(dev, XVM_MSIX_GRP_ATTACH, 0, NULL));
	EXPECT_EQ(0, mstat(dev, XVM_MSIX_STAT_FIRED));
	EXPECT_ERR(xvm_has_attr(dev, XVM_MSIX_GRP_ATTACH, 1, NULL), ENXIO);
	EXPECT_ERR(xvm_get_attr(dev, XVM_MSIX_GRP_ATTACH, 0, &a), ENXIO);
}

/* attach_errors: fds that are not a VFIO group, reserved fields. */
static void attach_errors_bad_group(struct __test_metadata *_metadata,
				    int dev, int vm, int efd, int nfd,
				    struct vfio_dev *v)
{
	struct xvm_msix_attach a;

	/* A non-VFIO fd is refused, as is a bad one. */
	EXPECT_ERR(msix_attach_pci(dev, nfd, NIC), EINVAL);
	EXPECT_ERR(msix_attach_pci(dev, efd, NIC), EINVAL);
	EXPECT_ERR(msix_attach_pci(dev, vm, NIC), EINVAL);
	EXPECT_ERR(msix_attach_pci(dev, v->container, NIC), EINVAL);
	EXPECT_ERR(msix_attach_pci(dev, v->device, NIC), EINVAL);
	EXPECT_ERR(msix_attach_pci(dev, -1, NIC), EBADF);
	EXPECT_ERR(msix_attach_pci(dev, 999, NIC), EBADF);
	/* Reserved fields. */
	memset(&a, 0, sizeof(a));
	a.group_fd = v->group;
	a.devfn = NIC_DEVFN;
	a.flags = 1;
	EXPECT_ERR(xvm_set_attr(dev, XVM_MSIX_GRP_ATTACH, 0, &a), EINVAL);
	a.flags = 0;
	a.reserved[1] = 1;
	EXPECT_ERR(xvm_set_attr(dev, XVM_MSIX_GRP_ATTACH, 0, &a), EINVAL);
	a.reserved[1] = 0;
	a.pad = 1;
	EXPECT_ERR(xvm_set_attr(dev, XVM_MSIX_GRP_ATTACH, 0, &a), EINVAL);
	EXPECT_ERR(xvm_set_attr(dev, XVM_MSIX_GRP_ATTACH, 0, (void *)1),
		   EFAULT);
}

/* attach_errors: no such device, not in the group, no MSI-X, no VFIO driver. */
static void attach_errors_bad_device(struct __test_metadata *_metadata,
				     int dev, struct vfio_dev *v)
{
	int edu_group = -1;

	/* No such device. */
	EXPECT_ERR(msix_attach(dev, v->group, 0, 0x42, 0), ENODEV);
	EXPECT_ERR(msix_attach(dev, v->group, 7, NIC_BUS, NIC_DEVFN), ENODEV);
	/* A device that is not in this group: the edu, unbound. */
	if (EDU->ok) {
		pci_reset_binding(EDU_BDF);
		EXPECT_ERR(msix_attach_pci(dev, v->group, EDU), EPERM);
		/* ... and bound to vfio-pci, in a group of its own. */
		ASSERT_OK(pci_bind(EDU_BDF, "vfio-pci"));
		EXPECT_ERR(msix_attach_pci(dev, v->group, EDU), EPERM);
		edu_group = vfio_group_open(EDU_BDF);
		EXPECT_LE(0, edu_group);
		/* The e1000e with the edu's group. */
		EXPECT_ERR(msix_attach_pci(dev, edu_group, NIC), EPERM);
		/* The edu with its own group: it has no MSI-X. */
		EXPECT_ERR(msix_attach_pci(dev, edu_group, EDU),
			   ENODEV);
		close(edu_group);
		pci_reset_binding(EDU_BDF);
	}
	/* The host bridge: no VFIO driver. */
	EXPECT_ERR(msix_attach(dev, v->group, 0, 0, 0), EPERM);
}

TEST(attach_errors)
{
	int xvm, vm, dev, dev2, efd, nfd, grp;
	struct xvm_msix_info info;
	struct vfio_dev v;
	uint64_t gpa = TABLE_GPA;

	if (env_missing())
		SKIP(return, "%s", env_missing());
	ASSERT_OK(vfio_dev_open(&v, NIC_BDF));
	ASSERT_OK(fixture_vm_open(&xvm, &vm, 0));
	ASSERT_OK(xvm_create_device(vm, XVM_DEV_TYPE_VFIO_MSIX, 0, &dev));
	efd = eventfd(0, EFD_CLOEXEC);
	nfd = open("/dev/null", O_RDWR | O_CLOEXEC);

	attach_errors_unattached(_metadata, dev, efd);
	attach_errors_bad_group(_metadata, dev, vm, efd, nfd, &v);
	attach_errors_bad_device(_metadata, dev, &v);

	/* None of that attached anything; the right one does. */
	EXPECT_ERR(xvm_get_attr(dev, XVM_MSIX_GRP_INFO, 0, &info), ENODEV);
	ASSERT_OK(msix_attach_pci(dev, v.group, NIC));
	EXPECT_ERR(msix_attach_pci(dev, v.group, NIC), EEXIST);

	/* The group fd is not kept: closing it changes nothing. */
	grp = v.group;
	ASSERT_OK(xvm_create_device(vm, XVM_DEV_TYPE_VFIO_MSIX, 0, &dev2));
	ASSERT_OK(msix_attach_pci(dev2, grp, NIC));
	close(dev2);
	ASSERT_OK(set_addr(dev, XVM_MSIX_ADDR_TABLE, gpa));
	vfio_dev_close(&v);
	ASSERT_OK(set_ctrl(dev, PCI_MSIX_FLAGS_ENABLE));
	EXPECT_EQ(PCI_MSIX_FLAGS_ENABLE | (NVEC - 1), get_ctrl(dev));

	close(dev);
	close(vm);
	close(xvm);
	close(efd);
	close(nfd);
	EXPECT_EQ(0, module_refcnt());
}

/*
 * 13: teardown in every order.  Four things go away - the interposer's
 * device fd, the VM (VM and vCPU fds), the eventfds, and VFIO (device,
 * group and container fds) - in each of the 24 orders.  After each step,
 * whatever still exists must behave: while VFIO and the eventfds live and
 * the interposer is gone, an interrupt reaches the eventfd (no hook left);
 * while the interposer lives but an eventfd is closed, its vector reports
 * unhooked; at the end the module is idle and VFIO works from scratch.
 */
enum { T_DEV, T_VM, T_EFD, T_VFIO, T_NR };

static const char *const t_name[T_NR] = { "device", "vm", "eventfds",
					  "vfio" };

/* Takes away one of the four (order[s] of teardown_order). */
static void teardown_step(struct env *e, int what)
{
	int i;

	switch (what) {
	case T_DEV:
		close(e->dev);
		e->dev = -1;
		break;
	case T_VM:
		close(e->vcpu);
		close(e->vm);
		close(e->xvm);
		e->vcpu = e->vm = e->xvm = -1;
		break;
	case T_EFD:
		for (i = 0; i < NVEC; i++) {
			close(e->efd[i]);
			e->efd[i] = -1;
		}
		break;
	case T_VFIO:
		vfio_dev_close(&e->vfio);
		break;
	}
}

/* The interposer alone outlived its eventfds: unhooked, nothing fires. */
static const char *teardown_check_unhooked(struct env *e,
					   const int gone[T_NR], int real)
{
	uint64_t fired;
	int i;

	for (i = 0; i < NVEC; i++) {
		uint32_t f = vec_flags(e->dev, i);

		if (f & XVM_MSIX_VECTOR_HOOKED ||
		    !(f & XVM_MSIX_VECTOR_EVENTFD))
			return "closed eventfd still hooked";
	}
	if (gone[T_VFIO])
		return NULL;
	fired = mstat(e->dev, XVM_MSIX_STAT_FIRED);
	if (real)
		nic_fire(&e->vfio, 1);
	else if (vfio_dev_trigger(&e->vfio, 1))
		return "trigger";
	usleep(20000);
	if (mstat(e->dev, XVM_MSIX_STAT_FIRED) != fired)
		return "fire through a closed eventfd";
	return NULL;
}

/* The interposer is gone: the eventfd is userspace's. */
static const char *teardown_check_eventfd_own(struct env *e, int real)
{
	struct pollfd p = { .fd = e->efd[2], .events = POLLIN };
	uint64_t cnt;

	if (real)
		nic_fire(&e->vfio, 2);
	else if (vfio_dev_trigger(&e->vfio, 2))
		return "trigger";
	if (poll(&p, 1, 5000) != 1 || read(e->efd[2], &cnt, 8) != 8)
		return "eventfd not signalled after close";
	return NULL;
}

/* VFIO gone, interposer and eventfds alive: still hooked. */
static const char *teardown_check_hooked(struct env *e, const int gone[T_NR])
{
	uint64_t one = 1;

	if (write(e->efd[3], &one, 8) != 8)
		return "eventfd write";
	if (!(vec_flags(e->dev, 3) & XVM_MSIX_VECTOR_HOOKED))
		return "hook lost with VFIO";
	if (!gone[T_VM] && !poll_port(e, e->port[3]))
		return "no delivery after VFIO went";
	return NULL;
}

/* What must hold with gone[] taken away; NULL or what went wrong. */
static const char *teardown_check(struct env *e, const int gone[T_NR],
				  int real)
{
	if (!gone[T_DEV] && gone[T_EFD])
		return teardown_check_unhooked(e, gone, real);
	if (gone[T_DEV] && !gone[T_EFD] && !gone[T_VFIO])
		return teardown_check_eventfd_own(e, real);
	if (gone[T_VFIO] && !gone[T_DEV] && !gone[T_EFD])
		return teardown_check_hooked(e, gone);
	return NULL;
}

/* Returns NULL or what went wrong. */
static const char *teardown_order(const int order[T_NR], int real)
{
	struct env e;
	int gone[T_NR] = { 0 };
	const char *what;
	int s;

	what = env_open(&e, real);
	if (what)
		return what;
	if (env_enable_all(&e))
		return "enable";
	if (fire(&e, 0) || !poll_port(&e, e.port[0]))
		return "first delivery";

	for (s = 0; s < T_NR; s++) {
		teardown_step(&e, order[s]);
		gone[order[s]] = 1;
		what = teardown_check(&e, gone, real);
		if (what)
			return what;
	}
	/* The device is freed synchronously on its last close. */
	if (module_refcnt() != 0)
		return "xvm-msix still referenced";
	return NULL;
}

static const char *vfio_works(void)
{
	struct vfio_dev v;
	int efd[NVEC], i;
	const char *what = NULL;
	struct pollfd p;
	uint64_t cnt;

	for (i = 0; i < NVEC; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vfio_dev_open(&v, NIC_BDF))
		return "VFIO reopen";
	if (vfio_dev_set_irqs(&v, 0, NVEC, efd)) {
		what = "SET_IRQS after teardown";
		goto out;
	}
	e1000e_msix_route(v.bar0);
	for (i = 0; i < NVEC; i++) {
		nic_fire(&v, i);
		p.fd = efd[i];
		p.events = POLLIN;
		if (poll(&p, 1, 5000) != 1 || read(efd[i], &cnt, 8) != 8) {
			what = "no interrupt on a fresh VFIO eventfd";
			goto out;
		}
	}
out:
	vfio_dev_close(&v);
	for (i = 0; i < NVEC; i++)
		close(efd[i]);
	return what;
}

static void teardown_all(struct __test_metadata *_metadata, int real)
{
	int order[T_NR], n = 0, a, b, c, d;
	const char *what;

	for (a = 0; a < T_NR; a++)
		for (b = 0; b < T_NR; b++)
			for (c = 0; c < T_NR; c++)
				for (d = 0; d < T_NR; d++) {
					if (a == b || a == c || a == d ||
					    b == c || b == d || c == d)
						continue;
					order[0] = a;
					order[1] = b;
					order[2] = c;
					order[3] = d;
					errno = 0;
					what = teardown_order(order, real);
					EXPECT_EQ(NULL, what)
						TH_LOG("order %s %s %s %s: %s (%s)",
						       t_name[a], t_name[b],
						       t_name[c], t_name[d],
						       what, strerror(errno));
					n++;
				}
	EXPECT_EQ(24, n);
	what = vfio_works();
	EXPECT_EQ(NULL, what) TH_LOG("%s", what);
}

/* 24 full setups each: a debug kernel (KASAN) needs more than 30 s. */
FIXTURE(teardown) {
	int unused;
};

FIXTURE_SETUP(teardown)
{
	if (env_missing())
		SETUP_SKIP("%s", env_missing());
}

FIXTURE_TEARDOWN(teardown)
{
}

TEST_F_TIMEOUT(teardown, every_order_loopback, 300)
{
	teardown_all(_metadata, 0);
}

TEST_F_TIMEOUT(teardown, every_order_device, 300)
{
	teardown_all(_metadata, 1);
}

/* Detaching an eventfd while the device fires at it leaves VFIO sane. */
TEST(hook_unhook_under_fire)
{
	struct env e;
	const char *what;
	int i;

	if (env_missing())
		SKIP(return, "%s", env_missing());
	what = env_open(&e, 1);
	ASSERT_EQ(NULL, what) TH_LOG("setup: %s", what);
	ASSERT_OK(env_enable_all(&e));
	for (i = 0; i < 200; i++) {
		e1000e_msix_fire(e.vfio.bar0, 0);
		ASSERT_OK(set_eventfd(e.dev, 0, -1));
		ASSERT_OK(set_eventfd(e.dev, 0, e.efd[0]));
		if (i % 16 == 0)
			ASSERT_OK(set_ctrl(e.dev, (i & 32) ?
					   PCI_MSIX_FLAGS_ENABLE : 0));
	}
	ASSERT_OK(set_ctrl(e.dev, PCI_MSIX_FLAGS_ENABLE));
	/* After the churn, the hook still works. */
	usleep(10000);
	clear_ports(&e);
	ASSERT_OK(fire(&e, 0));
	EXPECT_EQ(1, poll_port(&e, e.port[0]));
	env_close(&e);
	EXPECT_EQ(0, module_refcnt());
	what = vfio_works();
	EXPECT_EQ(NULL, what) TH_LOG("%s", what);
}

static void __attribute__((constructor)) need_msix(void)
{
	xvm_require_device_type(XVM_DEV_TYPE_VFIO_MSIX, "xvm-msix");
}

TEST_HARNESS_MAIN
