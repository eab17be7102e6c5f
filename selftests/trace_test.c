// SPDX-License-Identifier: GPL-2.0
/*
 * trace_test: the tracepoints (docs/tracing.md) in the guest's tracefs.
 *
 * Each test makes its own tracefs instance (instances/xvm_trace_test.PID:
 * its own buffer and event switches, so nothing else tracing in the guest
 * is seen or disturbed), enables the events it checks, drives the path and
 * reads the instance's trace: every event it expects is there with the
 * right fields.  Then it disables them, drives the path again and finds
 * nothing: a disabled event records nothing.
 *
 * Paths: an MMIO access to the test device (and one nobody claims); an
 * event-channel send, a masked and an interdomain raise, XVM_POLL woken
 * and timed out; a vGIC acknowledge and EOI through the CPU-interface
 * ioctls; MSI-X latch, unmask and delivery through VFIO's loopback trigger
 * on the e1000e (XVM_TEST_E1000E, as msix_test); an IOMMU map and unmap
 * with the edu (XVM_TEST_EDU, as iommu_test).  A test whose module or
 * device is missing skips; the binary skips without tracefs (it mounts it
 * at /sys/kernel/tracing if it is not mounted).  selftests/config has the
 * options it needs (CONFIG_FTRACE, and a tracer that selects
 * CONFIG_TRACING).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "xvm_harness.h"
#include "xvm_fixture.h"
#include "libxvm.h"
#include "xvm_pci.h"
#include <linux/xvm-gicv3.h>

#define TRACEFS		"/sys/kernel/tracing"
#define TRACE_BUF	(1 << 20)
#define SEC		1000000000ULL

/* tracefs */

/* Exits KSFT_SKIP without tracefs (or the rights to mount or use it). */
static void __attribute__((constructor)) trace_require_tracefs(void)
{
	struct stat st;

	if (stat(TRACEFS "/instances", &st) == 0)
		return;
	if (geteuid())
		ksft_exit_skip("tracefs not mounted, and mounting needs root\n");
	if (stat(TRACEFS, &st))
		ksft_exit_skip("no %s: the kernel has no tracefs\n", TRACEFS);
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL) ||
	    stat(TRACEFS "/instances", &st))
		ksft_exit_skip("cannot mount tracefs at %s: %s\n", TRACEFS,
			       strerror(errno));
}

/* Writes s to the instance's file rel; 0 or -1. */
static int inst_write(const char *inst, const char *rel, const char *s)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", inst, rel);
	return sysfs_write(path, s);
}

/* Empties the instance's buffer (an open for writing with O_TRUNC). */
static int trace_clear(const char *inst)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/trace", inst);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* Event sys/name (or a whole sys when name is NULL) on or off. */
static int event_enable(const char *inst, const char *sys, const char *name,
			int on)
{
	char rel[128];

	if (name)
		snprintf(rel, sizeof(rel), "events/%s/%s/enable", sys, name);
	else
		snprintf(rel, sizeof(rel), "events/%s/enable", sys);
	return inst_write(inst, rel, on ? "1" : "0");
}

/* The instance's buffer, NUL-terminated, in a static buffer ("" if none). */
static const char *trace_read(const char *inst)
{
	static char buf[TRACE_BUF];
	char path[256];
	size_t n = 0;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "%s/trace", inst);
	buf[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return buf;
	while (n < sizeof(buf) - 1 &&
	       (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
	close(fd);
	return buf;
}

/*
 * The fields of the index-th (0-based) record of event in the instance's
 * trace: the text after "event: " up to the end of its line, copied to out.
 * Returns the number of records of event when index is past them (so
 * find(.., -1) counts), else index + 1 with out filled.
 */
static int trace_find(const char *inst, const char *event, int index,
		      char *out, size_t size)
{
	const char *p = trace_read(inst), *end;
	char key[64];
	int n = 0;

	snprintf(key, sizeof(key), " %s: ", event);
	while ((p = strstr(p, key))) {
		p += strlen(key);
		end = strchrnul(p, '\n');
		if (n++ == index && out) {
			snprintf(out, size, "%.*s", (int)(end - p), p);
			return n;
		}
	}
	return n;
}

static int trace_count(const char *inst, const char *event)
{
	return trace_find(inst, event, -1, NULL, 0);
}

/* The index-th record of event, or "" if there is none. */
static const char *trace_rec(const char *inst, const char *event, int index)
{
	static char rec[4][512];
	static int next;
	char *out = rec[next++ % 4];

	out[0] = 0;
	trace_find(inst, event, index, out, sizeof(rec[0]));
	return out;
}

FIXTURE(trace) {
	char inst[128];
	int made;
	int xvm, vm, vm2, vcpu[2], dev;
};

FIXTURE_SETUP(trace)
{
	self->xvm = self->vm = self->vm2 = self->dev = -1;
	self->vcpu[0] = self->vcpu[1] = -1;
	snprintf(self->inst, sizeof(self->inst),
		 TRACEFS "/instances/xvm_trace_test.%d", getpid());
	ASSERT_EQ(0, mkdir(self->inst, 0700)) TH_LOG("mkdir %s: %s", self->inst,
						  strerror(errno));
	self->made = 1;
	ASSERT_OK(fixture_vm_open(&self->xvm, &self->vm, 40));
	ASSERT_OK(fixture_vcpus(self->vm, self->vcpu, 2));
}

FIXTURE_TEARDOWN(trace)
{
	fixture_close_all(self->vcpu, 2);
	close_fd(&self->dev);
	close_fd(&self->vm2);
	close_fd(&self->vm);
	close_fd(&self->xvm);
	if (self->made)
		rmdir(self->inst);
}

/* Fails the test unless event sys:name can be switched in the instance. */
#define ENABLE(sys, name, on)						\
	ASSERT_EQ(0, event_enable(self->inst, sys, name, on))		\
		TH_LOG("%s/%s enable", sys, name ? name : "*")

#define CLEAR() ASSERT_OK(trace_clear(self->inst))

#define REC(event, i)	trace_rec(self->inst, event, i)
#define COUNT(event)	trace_count(self->inst, event)

/* MMIO dispatch */

#define TD_BASE		0x10000000ULL

/* An access to the test device's region from vCPU 1: gpa, len, value. */
static void mmio_accesses(struct __test_metadata *_metadata,
			  FIXTURE_DATA(trace) *self)
{
	uint64_t val = 0;
	int handled = 0;

	ASSERT_OK(xvm_mmio_write(self->vcpu[1], TD_BASE + 8, 4, 0xc0ffee,
				 &handled));
	ASSERT_EQ(1, handled);
	ASSERT_OK(xvm_mmio_read(self->vcpu[1], TD_BASE + 8, 4, &val,
				&handled));
	ASSERT_EQ(1, handled);
	ASSERT_EQ(0xc0ffee, val);
	/* Nobody's: the VMM's to handle, -ENOENT in the trace. */
	ASSERT_OK(xvm_mmio_read(self->vcpu[0], TD_BASE + 0x100000, 2, &val,
				&handled));
	ASSERT_EQ(0, handled);
}

TEST_F(trace, mmio)
{
	unsigned long long vm, vm2;
	char want[256];

	if (fixture_testdev(self->vm, &self->dev, TD_BASE, 0x1000) &&
	    errno == ENODEV)
		SKIP(return, "xvm-testdev not loaded");
	ASSERT_LE(0, self->dev);
	ENABLE("xvm", "xvm_mmio", 1);
	mmio_accesses(_metadata, self);
	ASSERT_EQ(3, COUNT("xvm_mmio")) TH_LOG("%s", trace_read(self->inst));
	ASSERT_EQ(1, sscanf(REC("xvm_mmio", 0), "vm %llu", &vm));
	snprintf(want, sizeof(want),
		 "vm %llu vcpu 1 write gpa 0x%llx len 4 val 0xc0ffee ret 0",
		 vm, TD_BASE + 8);
	EXPECT_STREQ(want, REC("xvm_mmio", 0));
	snprintf(want, sizeof(want),
		 "vm %llu vcpu 1 read gpa 0x%llx len 4 val 0xc0ffee ret 0",
		 vm, TD_BASE + 8);
	EXPECT_STREQ(want, REC("xvm_mmio", 1));
	snprintf(want, sizeof(want),
		 "vm %llu vcpu 0 read gpa 0x%llx len 2 val 0x0 ret %d",
		 vm, TD_BASE + 0x100000, -ENOENT);
	EXPECT_STREQ(want, REC("xvm_mmio", 2));

	/* Disabled: nothing; the whole system's switch turns it on again. */
	CLEAR();
	ENABLE("xvm", "xvm_mmio", 0);
	mmio_accesses(_metadata, self);
	EXPECT_EQ(0, COUNT("xvm_mmio")) TH_LOG("%s", trace_read(self->inst));
	ENABLE("xvm", NULL, 1);
	mmio_accesses(_metadata, self);
	ASSERT_EQ(3, COUNT("xvm_mmio"));
	ASSERT_EQ(1, sscanf(REC("xvm_mmio", 2), "vm %llu", &vm2));
	EXPECT_EQ(vm, vm2);
}

/* Event channels: send, raise, XVM_POLL */

/*
 * A send on a port bound to vCPU 0, XVM_POLL woken by it and then timing
 * out, a send on a masked port and one on no port (4000).
 */
static void evtchn_sends(struct __test_metadata *_metadata,
			 FIXTURE_DATA(trace) *self, uint32_t *port)
{
	uint32_t got = 0;

	ASSERT_OK(fixture_vcpu_port(self->vm, 0, &port[0]));
	ASSERT_OK(fixture_ports(self->vm, &port[1], 1));
	ASSERT_OK(xvm_evtchn_mask(self->vm, port[1]));
	ASSERT_OK(xvm_evtchn_send(self->vm, port[0]));
	ASSERT_EQ(1, xvm_poll(self->vcpu[0], &port[0], 1, SEC, 0, &got));
	ASSERT_EQ(port[0], got);
	ASSERT_OK(xvm_evtchn_clear(self->vm, port[0]));
	ASSERT_EQ(0, xvm_poll(self->vcpu[0], &port[0], 1, 1000000, 0, &got));
	ASSERT_OK(xvm_evtchn_send(self->vm, port[1]));
	ASSERT_ERR(xvm_evtchn_send(self->vm, 4000), EINVAL);
}

TEST_F(trace, evtchn_send_raise_poll)
{
	uint32_t port[2], rport, lport;
	unsigned long long vm, vm2;
	char want[256];

	ENABLE("xvm", "xvm_evtchn_send", 1);
	ENABLE("xvm", "xvm_evtchn_raise", 1);
	ENABLE("xvm", "xvm_poll_wake", 1);
	evtchn_sends(_metadata, self, port);
	ASSERT_EQ(3, COUNT("xvm_evtchn_send")) TH_LOG("%s", trace_read(self->inst));
	ASSERT_EQ(2, COUNT("xvm_evtchn_raise"));
	ASSERT_EQ(2, COUNT("xvm_poll_wake"));
	ASSERT_EQ(1, sscanf(REC("xvm_evtchn_send", 0), "vm %llu", &vm));
	snprintf(want, sizeof(want), "vm %llu port %u found 1", vm, port[0]);
	EXPECT_STREQ(want, REC("xvm_evtchn_send", 0));
	snprintf(want, sizeof(want), "vm %llu port %u found 0", vm, 4000);
	EXPECT_STREQ(want, REC("xvm_evtchn_send", 2));
	snprintf(want, sizeof(want), "vm %llu port %u masked 0 interdomain 0",
		 vm, port[0]);
	EXPECT_STREQ(want, REC("xvm_evtchn_raise", 0));
	snprintf(want, sizeof(want), "vm %llu port %u masked 1 interdomain 0",
		 vm, port[1]);
	EXPECT_STREQ(want, REC("xvm_evtchn_raise", 1));
	snprintf(want, sizeof(want), "vm %llu vcpu 0 nr_ports 1 ret %u",
		 vm, port[0]);
	EXPECT_STREQ(want, REC("xvm_poll_wake", 0));
	snprintf(want, sizeof(want), "vm %llu vcpu 0 nr_ports 1 ret 0", vm);
	EXPECT_STREQ(want, REC("xvm_poll_wake", 1));

	/* An interdomain send raises the peer's port, in the peer VM. */
	ASSERT_OK(fixture_vm_open(&self->xvm, &self->vm2, 0));
	ASSERT_OK(fixture_port_pair(self->vm, self->vm2, &lport, &rport));
	CLEAR();
	ASSERT_OK(xvm_evtchn_send(self->vm, lport));
	ASSERT_EQ(1, sscanf(REC("xvm_evtchn_raise", 0), "vm %llu", &vm2));
	EXPECT_NE(vm, vm2);
	snprintf(want, sizeof(want), "vm %llu port %u masked 0 interdomain 1",
		 vm2, rport);
	EXPECT_STREQ(want, REC("xvm_evtchn_raise", 0));

	/* Disabled: nothing. */
	ENABLE("xvm", NULL, 0);
	ASSERT_OK(xvm_evtchn_reset(self->vm));
	CLEAR();
	evtchn_sends(_metadata, self, port);
	EXPECT_EQ(0, COUNT("xvm_evtchn_send") + COUNT("xvm_evtchn_raise") +
		     COUNT("xvm_poll_wake"));
}

/* vGIC: acknowledge and EOI */

#define GIC_DIST	0x08000000ULL
#define GIC_REDIST	0x080a0000ULL

static int vgic_ack(int vcpu, uint32_t group, int peek)
{
	struct xvm_vgic_ack a = { .group = group };

	if (ioctl(vcpu, peek ? XVM_VGIC_HPPIR : XVM_VGIC_ACK, &a))
		return -1;
	return a.intid;
}

static int vgic_eoi(int vcpu, uint32_t intid)
{
	struct xvm_vgic_eoi e = { .intid = intid };

	return ioctl(vcpu, XVM_VGIC_EOI, &e);
}

/* SGI 3 from vCPU 0 to itself, peeked, acknowledged, EOI'd; a spurious ack. */
static void vgic_sgi_flow(struct __test_metadata *_metadata, int vcpu)
{
	struct xvm_vgic_sgi s = { .value = (3ULL << 24) | 1, .group = 1 };

	ASSERT_OK(ioctl(vcpu, XVM_VGIC_SGI, &s));
	ASSERT_EQ(3, vgic_ack(vcpu, 1, 1));
	ASSERT_EQ(3, vgic_ack(vcpu, 1, 0));
	ASSERT_OK(vgic_eoi(vcpu, 3));
	ASSERT_EQ(XVM_VGIC_SPURIOUS, vgic_ack(vcpu, 1, 0));
}

TEST_F(trace, vgic_ack_eoi)
{
	struct xvm_vgic_cpuif c = {
		.pmr = 0xf8,
		.ctlr = XVM_VGIC_CPUIF_IGRPEN0 | XVM_VGIC_CPUIF_IGRPEN1,
	};
	unsigned long long vm;
	int handled = 0;
	char want[256];

	if (fixture_gic(self->vm, &self->dev) && errno == ENODEV)
		SKIP(return, "xvm-vgic not loaded");
	ASSERT_LE(0, self->dev);
	ASSERT_OK(fixture_gic_legacy(self->dev, 0, GIC_DIST, GIC_REDIST));
	ASSERT_OK(xvm_mmio_write(self->vcpu[0], GIC_DIST + XVM_GICD_CTLR, 4, 3,
				 &handled));
	ASSERT_EQ(1, handled);
	ASSERT_OK(ioctl(self->vcpu[0], XVM_VGIC_SET_CPUIF, &c));

	ENABLE("xvm_vgic", NULL, 1);
	vgic_sgi_flow(_metadata, self->vcpu[0]);
	/* The HPPIR peek is not an acknowledge: two acks, one EOI. */
	ASSERT_EQ(2, COUNT("xvm_vgic_ack")) TH_LOG("%s", trace_read(self->inst));
	ASSERT_EQ(1, COUNT("xvm_vgic_eoi"));
	ASSERT_EQ(1, sscanf(REC("xvm_vgic_ack", 0), "vm %llu", &vm));
	snprintf(want, sizeof(want),
		 "vm %llu vcpu 0 group 1 intid 3 priority 0x0", vm);
	EXPECT_STREQ(want, REC("xvm_vgic_ack", 0));
	snprintf(want, sizeof(want),
		 "vm %llu vcpu 0 group 1 intid %u priority 0xff", vm,
		 XVM_VGIC_SPURIOUS);
	EXPECT_STREQ(want, REC("xvm_vgic_ack", 1));
	snprintf(want, sizeof(want),
		 "vm %llu vcpu 0 intid 3 drop 1 deactivate 1", vm);
	EXPECT_STREQ(want, REC("xvm_vgic_eoi", 0));

	ENABLE("xvm_vgic", NULL, 0);
	CLEAR();
	vgic_sgi_flow(_metadata, self->vcpu[0]);
	EXPECT_EQ(0, COUNT("xvm_vgic_ack") + COUNT("xvm_vgic_eoi"));
}

/* MSI-X: latch, unmask, deliver (VFIO's loopback trigger on the e1000e) */

#define DB_ADDR		0x40000000ULL		/* event-channel doorbell */
#define TABLE_GPA	0xfe000000ULL
#define PBA_GPA		(TABLE_GPA + 0x2000)

struct msix_env {
	struct vfio_dev vfio;
	int efd;
	uint32_t port;
};

static int msix_set(int dev, uint32_t group, uint64_t attr, uint64_t val)
{
	return xvm_set_attr(dev, group, attr, &val);
}

/* Vector 0's entry field at off, by a guest write from vcpu. */
static int msix_entry_wr(int vcpu, unsigned int off, uint32_t val)
{
	int handled = 0;

	if (xvm_mmio_write(vcpu, TABLE_GPA + off, 4, val, &handled))
		return -1;
	return handled ? 0 : -1;
}

/*
 * The e1000e through VFIO with vector 0 on an eventfd; an xvm-msix device
 * attached, on the bus and hooked; vector 0 -> doorbell, data = a port,
 * masked; MSI-X enabled.  NULL, or what failed.
 */
static const char *msix_open(FIXTURE_DATA(trace) *self, struct msix_env *e)
{
	const struct test_pci *nic = test_pci_e1000e();
	struct xvm_msix_attach a = { .segment = nic->segment,
				     .bus = nic->bus, .devfn = nic->devfn };
	int32_t efd;
	uint16_t ctrl = PCI_MSIX_FLAGS_ENABLE;

	e->efd = efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vfio_dev_open(&e->vfio, nic->bdf) ||
	    vfio_dev_set_irqs(&e->vfio, 0, 1, &e->efd))
		return "VFIO open and MSI-X of the e1000e";
	if (xvm_set_doorbell(self->vm, DB_ADDR, 0) ||
	    fixture_ports(self->vm, &e->port, 1))
		return "doorbell or port";
	if (xvm_create_device(self->vm, XVM_DEV_TYPE_VFIO_MSIX, 0, &self->dev))
		return "XVM_CREATE_DEVICE(VFIO_MSIX)";
	a.group_fd = e->vfio.group;
	if (xvm_set_attr(self->dev, XVM_MSIX_GRP_ATTACH, 0, &a) ||
	    msix_set(self->dev, XVM_MSIX_GRP_ADDR, XVM_MSIX_ADDR_TABLE,
		     TABLE_GPA) ||
	    msix_set(self->dev, XVM_MSIX_GRP_ADDR, XVM_MSIX_ADDR_PBA, PBA_GPA))
		return "attach, table and PBA";
	if (xvm_set_attr(self->dev, XVM_MSIX_GRP_EVENTFD, 0, &efd))
		return "eventfd hook";
	if (msix_entry_wr(self->vcpu[0], PCI_MSIX_ENTRY_LOWER_ADDR, DB_ADDR) ||
	    msix_entry_wr(self->vcpu[0], PCI_MSIX_ENTRY_UPPER_ADDR, 0) ||
	    msix_entry_wr(self->vcpu[0], PCI_MSIX_ENTRY_DATA, e->port) ||
	    msix_entry_wr(self->vcpu[0], PCI_MSIX_ENTRY_VECTOR_CTRL, 1))
		return "vector 0's entry";
	if (xvm_set_attr(self->dev, XVM_MSIX_GRP_CTRL, XVM_MSIX_CTRL_WORD,
			 &ctrl))
		return "MSI-X Enable";
	return NULL;
}

/* Fires vector 0 (masked: latched), unmasks it (delivered); 0 or -1. */
static int msix_fire_unmask(FIXTURE_DATA(trace) *self, struct msix_env *e)
{
	uint64_t fired = 0, want;
	int i;

	xvm_get_attr(self->dev, XVM_MSIX_GRP_STATS, XVM_MSIX_STAT_LATCHED,
		     &fired);
	want = fired + 1;
	if (vfio_dev_trigger(&e->vfio, 0))
		return -1;
	for (i = 0; i < 1000 && fired < want; i++) {
		usleep(1000);
		xvm_get_attr(self->dev, XVM_MSIX_GRP_STATS,
			     XVM_MSIX_STAT_LATCHED, &fired);
	}
	if (fired < want)
		return -1;
	if (msix_entry_wr(self->vcpu[0], PCI_MSIX_ENTRY_VECTOR_CTRL, 0))
		return -1;
	/* Masked again for the next round; the port took the message. */
	if (msix_entry_wr(self->vcpu[0], PCI_MSIX_ENTRY_VECTOR_CTRL, 1))
		return -1;
	return xvm_evtchn_clear(self->vm, e->port);
}

static void msix_check_records(struct __test_metadata *_metadata,
			       FIXTURE_DATA(trace) *self, struct msix_env *e)
{
	const struct test_pci *nic = test_pci_e1000e();
	char dev[32], want[256];

	snprintf(dev, sizeof(dev), "%04x:%02x:%02x.%u", nic->segment,
		 nic->bus, nic->devfn >> 3, nic->devfn & 7);
	ASSERT_EQ(1, COUNT("xvm_msix_latch")) TH_LOG("%s", trace_read(self->inst));
	ASSERT_EQ(1, COUNT("xvm_msix_unmask"));
	ASSERT_EQ(1, COUNT("xvm_msix_deliver"));
	snprintf(want, sizeof(want), "%s vector 0", dev);
	EXPECT_STREQ(want, REC("xvm_msix_latch", 0));
	snprintf(want, sizeof(want),
		 "%s vector 0 addr 0x%llx data 0x%x pending 1", dev, DB_ADDR,
		 e->port);
	EXPECT_STREQ(want, REC("xvm_msix_unmask", 0));
	snprintf(want, sizeof(want), "%s addr 0x%llx data 0x%x", dev, DB_ADDR,
		 e->port);
	EXPECT_STREQ(want, REC("xvm_msix_deliver", 0));
	/* The MSI write itself: a device's access (vcpu -1) to the doorbell. */
	snprintf(want, sizeof(want), "vcpu -1 write gpa 0x%llx len 4 val 0x%x ret 0",
		 DB_ADDR, e->port);
	EXPECT_NE(NULL, strstr(REC("xvm_mmio", 0), want))
		TH_LOG("%s", REC("xvm_mmio", 0));
}

TEST_F(trace, msix_latch_unmask_deliver)
{
	struct msix_env e = { .efd = -1 };
	const char *what;

	if (!test_pci_e1000e()->ok)
		SKIP(return, "%s", test_pci_e1000e()->why);
	if (access("/dev/vfio/vfio", F_OK))
		SKIP(return, "no VFIO (/dev/vfio/vfio)");
	if (!xvm_has_device_type(XVM_DEV_TYPE_VFIO_MSIX))
		SKIP(return, "xvm-msix not loaded");
	what = msix_open(self, &e);
	ASSERT_EQ(NULL, what) TH_LOG("%s: %s", what, strerror(errno));

	ENABLE("xvm_msix", NULL, 1);
	ENABLE("xvm", "xvm_mmio", 1);
	ASSERT_OK(msix_fire_unmask(self, &e));
	msix_check_records(_metadata, self, &e);

	ENABLE("xvm_msix", NULL, 0);
	CLEAR();
	ASSERT_OK(msix_fire_unmask(self, &e));
	EXPECT_EQ(0, COUNT("xvm_msix_latch") + COUNT("xvm_msix_unmask") +
		     COUNT("xvm_msix_deliver"));
	close_fd(&self->dev);
	vfio_dev_close(&e.vfio);
	close_fd(&e.efd);
}

/* IOMMU: map and unmap (the edu, as iommu_test) */

/* The edu attached to a new xvm-iommu device; NULL or why it skips. */
static const char *iommu_open(FIXTURE_DATA(trace) *self)
{
	const struct test_pci *edu = test_pci_edu();
	struct xvm_iommu_attach a = { .segment = edu->segment,
				      .bus = edu->bus, .devfn = edu->devfn };

	if (geteuid())
		return "needs root";
	if (!xvm_has_device_type(XVM_DEV_TYPE_IOMMU))
		return "xvm-iommu not loaded";
	if (!edu->ok)
		return edu->why;
	if (iommu_group_of(edu->bdf) < 0)
		return "no edu in an IOMMU group";
	pci_reset_binding(edu->bdf);
	if (xvm_create_device(self->vm, XVM_DEV_TYPE_IOMMU, 0, &self->dev) ||
	    xvm_set_attr(self->dev, XVM_IOMMU_GRP_CTRL, XVM_IOMMU_CTRL_ATTACH,
			 &a))
		return "";	/* not a skip: the caller fails */
	return NULL;
}

TEST_F(trace, iommu_map_unmap)
{
	void *p = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	unsigned long long vm;
	const char *why;
	char want[256];

	ASSERT_NE(MAP_FAILED, p);
	why = iommu_open(self);
	if (why && *why)
		SKIP(return, "%s", why);
	ASSERT_EQ(NULL, why) TH_LOG("create or attach: %s", strerror(errno));

	ENABLE("xvm_iommu", NULL, 1);
	ASSERT_OK(fixture_iommu_map(self->dev, 0x1000, p, 16));
	ASSERT_OK(fixture_iommu_unmap(self->dev, 0x1000, 16));
	ASSERT_EQ(1, COUNT("xvm_iommu_map")) TH_LOG("%s", trace_read(self->inst));
	ASSERT_EQ(1, COUNT("xvm_iommu_unmap"));
	ASSERT_EQ(1, sscanf(REC("xvm_iommu_map", 0), "vm %llu", &vm));
	snprintf(want, sizeof(want),
		 "vm %llu dfn 0x1000 count 16 flags 0x3 slot -1", vm);
	EXPECT_STREQ(want, REC("xvm_iommu_map", 0));
	EXPECT_STREQ(want, REC("xvm_iommu_unmap", 0));

	ENABLE("xvm_iommu", NULL, 0);
	CLEAR();
	ASSERT_OK(fixture_iommu_map(self->dev, 0x1000, p, 16));
	ASSERT_OK(fixture_iommu_unmap(self->dev, 0x1000, 16));
	EXPECT_EQ(0, COUNT("xvm_iommu_map") + COUNT("xvm_iommu_unmap"));
	close_fd(&self->dev);
	pci_reset_binding(test_pci_edu()->bdf);
	munmap(p, 16 * 4096);
}

TEST_HARNESS_MAIN
