/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PCI devices the tests and benchmarks drive, and the sysfs and VFIO
 * plumbing they share:
 *
 *  - the devices come from the environment, never from a fixed address:
 *      XVM_TEST_EDU=BDF     a QEMU edu (1234:11e8), DMA through the IOMMU
 *      XVM_TEST_E1000E=BDF  an e1000e (8086:10d3, 5 MSI-X vectors)
 *    (BDF as in /sys/bus/pci/devices: 0000:00:04.0).  test_pci_edu() and
 *    test_pci_e1000e() check the address exists and has that vendor:device;
 *    otherwise ->why says why, and a test needing the device skips with it.
 *    Unset or empty: no device, nothing is unbound, bound or reloaded.  The
 *    sandbox guest sets both (scripts/run-selftests);
 *  - the e1000e's BAR0 registers;
 *  - small sysfs/procfs file helpers, driver binding through
 *    driver_override, IOMMU groups;
 *  - a device opened through VFIO (container, group, device fd, BAR0).
 *
 * Driver bindings are global: whoever binds a device puts it back with
 * pci_reset_binding() (unbound, no driver_override: how the guest boots).
 *
 * No harness here (bench/ and tools/fuzz/ include it too).  Everything is
 * static inline: a user of one part does not warn about the rest.
 */
#ifndef _XVM_PCI_H
#define _XVM_PCI_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

/* e1000e BAR0 registers */
#define E_ICR		0xc0
#define E_ICS		0xc8
#define E_IMS		0xd0
#define E_IMC		0xd8
#define E_IVAR		0xe4
#define E_IVAR_ALL	0x000cba98u	/* causes 0..4 -> vectors 0..4 */
#define E_IMS_ALL	0x01f00000u

/* --------------------------------------------------------------------- */
/* sysfs, procfs                                                          */

/* Writes s to path: 0, or -1 unless all of it was written. */
static inline int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* The number in path (0 if it does not read as one), -1 if it cannot open. */
static inline long read_long(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return atol(buf);
}

/* --------------------------------------------------------------------- */
/* The test devices, from the environment                                 */

struct test_pci {
	const char *env;	/* the variable naming it */
	const char *what;	/* "an edu" */
	uint16_t vendor, device;
	int probed;
	int ok;			/* given, present, the right vendor:device */
	char bdf[16];		/* canonical DDDD:BB:SS.F; "" unless ok */
	uint16_t segment;
	uint8_t bus, devfn;	/* devfn: (slot << 3) | function */
	char why[192];		/* why not ok: a skip reason */
};

/* $env if set and not empty, else NULL. */
static inline const char *test_pci_env(const char *env)
{
	const char *v = getenv(env);

	return v && *v ? v : NULL;
}

/* The hex number in /sys/bus/pci/devices/<bdf>/<file>, or -1. */
static inline long pci_read_hex(const char *bdf, const char *file)
{
	char path[PATH_MAX], buf[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 16) : -1;
}

/* Fills d from its variable (once): the address parsed and checked. */
static inline void test_pci_probe(struct test_pci *d)
{
	const char *v = test_pci_env(d->env);
	unsigned int seg = 0, bus, slot, fn;
	char tail;
	long ven, dev;
	int n;

	d->probed = 1;
	if (!v) {
		snprintf(d->why, sizeof(d->why),
			 "set %s=BDF (%s, %04x:%04x) to run", d->env, d->what,
			 d->vendor, d->device);
		return;
	}
	/* DDDD:BB:SS.F, or BB:SS.F in domain 0; nothing after it. */
	n = sscanf(v, "%x:%x:%x.%x%c", &seg, &bus, &slot, &fn, &tail);
	if (n != 4) {
		seg = 0;
		n = 1 + sscanf(v, "%x:%x.%x%c", &bus, &slot, &fn, &tail);
	}
	if (n != 4 || seg > 0xffff || bus > 0xff || slot > 0x1f || fn > 7) {
		snprintf(d->why, sizeof(d->why),
			 "%s=%.32s: not a PCI address (DDDD:BB:SS.F)", d->env, v);
		return;
	}
	snprintf(d->bdf, sizeof(d->bdf), "%04x:%02x:%02x.%x", seg, bus, slot,
		 fn);
	ven = pci_read_hex(d->bdf, "vendor");
	dev = pci_read_hex(d->bdf, "device");
	if (ven < 0 || dev < 0)
		snprintf(d->why, sizeof(d->why), "%s=%s: no such PCI device",
			 d->env, d->bdf);
	else if (ven != d->vendor || dev != d->device)
		snprintf(d->why, sizeof(d->why),
			 "%s=%s is %04lx:%04lx, not %s (%04x:%04x)", d->env,
			 d->bdf, ven, dev, d->what, d->vendor, d->device);
	else
		d->ok = 1;
	if (!d->ok) {
		d->bdf[0] = 0;
		return;
	}
	d->segment = (uint16_t)seg;
	d->bus = (uint8_t)bus;
	d->devfn = (uint8_t)(slot << 3 | fn);
}

static inline const struct test_pci *test_pci_get(struct test_pci *d)
{
	if (!d->probed)
		test_pci_probe(d);
	return d;
}

/* $XVM_TEST_EDU: the edu the tests may use (->ok), or why not (->why). */
static inline const struct test_pci *test_pci_edu(void)
{
	static struct test_pci d = {
		.env = "XVM_TEST_EDU", .what = "an edu",
		.vendor = 0x1234, .device = 0x11e8,
	};

	return test_pci_get(&d);
}

/* $XVM_TEST_E1000E: the e1000e the tests may use, or why not. */
static inline const struct test_pci *test_pci_e1000e(void)
{
	static struct test_pci d = {
		.env = "XVM_TEST_E1000E", .what = "an e1000e",
		.vendor = 0x8086, .device = 0x10d3,
	};

	return test_pci_get(&d);
}

/*
 * The test devices' addresses ("" when not given: only used once ->ok was
 * checked, by a test that skips otherwise).
 */
#define EDU_BDF		(test_pci_edu()->bdf)
#define EDU_DEVFN	(test_pci_edu()->devfn)
#define E1000E_BDF	(test_pci_e1000e()->bdf)
#define E1000E_DEVFN	(test_pci_e1000e()->devfn)

/* --------------------------------------------------------------------- */
/* driver binding, IOMMU groups                                           */

static inline int pci_exists(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	return access(path, F_OK) == 0;
}

/* The driver bound to bdf into buf ("" if none). */
static inline const char *pci_driver(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	buf[0] = 0;
	if (n > 0) {
		link[n] = 0;
		snprintf(buf, len, "%s", strrchr(link, '/') + 1);
	}
	return buf;
}

/* Unbinds bdf's driver, if any: 0, or -1 if the unbind write failed. */
static inline int pci_unbind(const char *bdf)
{
	char path[PATH_MAX], drv[64];

	if (!*pci_driver(bdf, drv, sizeof(drv)))
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind",
		 bdf);
	return write_file(path, bdf);
}

/* Unbound, no driver_override: how the guest boots. */
static inline void pci_reset_binding(const char *bdf)
{
	char path[PATH_MAX];

	pci_unbind(bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	write_file(path, "\n");
}

/*
 * Binds bdf to drv through driver_override; 0 when drv holds it.  A device
 * drv already holds is left alone: unbinding vfio-pci would wait for the
 * users of the device to let go.
 */
static inline int pci_bind(const char *bdf, const char *drv)
{
	char path[PATH_MAX], cur[64];

	if (!strcmp(pci_driver(bdf, cur, sizeof(cur)), drv))
		return 0;
	if (pci_unbind(bdf))
		return -1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	if (write_file(path, drv))
		return -1;
	write_file("/sys/bus/pci/drivers_probe", bdf);
	return strcmp(pci_driver(bdf, cur, sizeof(cur)), drv) ? -1 : 0;
}

/* The number of bdf's IOMMU group, or -1. */
static inline int iommu_group_of(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = 0;
	return atoi(strrchr(link, '/') + 1);
}

/* /dev/vfio/<bdf's group>, opened; -1 on failure. */
static inline int vfio_group_open(const char *bdf)
{
	char path[64];
	int g = iommu_group_of(bdf);

	if (g < 0)
		return -1;
	snprintf(path, sizeof(path), "/dev/vfio/%d", g);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* --------------------------------------------------------------------- */
/* A device through VFIO (type1 container, device fd, BAR0 mapped)        */

struct vfio_dev {
	int container, group, device;
	volatile uint32_t *bar0;
	size_t bar0_size;
	uint64_t cfg_off;
};

static inline void vfio_dev_close(struct vfio_dev *v)
{
	if (v->bar0)
		munmap((void *)v->bar0, v->bar0_size);
	v->bar0 = NULL;
	if (v->device >= 0)
		close(v->device);
	if (v->group >= 0)
		close(v->group);
	if (v->container >= 0)
		close(v->container);
	v->device = v->group = v->container = -1;
}

/*
 * Binds bdf to vfio-pci, opens it through VFIO, maps BAR0, enables memory
 * and bus mastering.  0, or -1 with everything closed.
 */
static inline int vfio_dev_open(struct vfio_dev *v, const char *bdf)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	uint16_t cmd;
	void *p;
	int i;

	v->container = v->group = v->device = -1;
	v->bar0 = NULL;
	if (pci_bind(bdf, "vfio-pci"))
		return -1;
	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	/* A previous user (a killed test) may still be releasing it. */
	for (i = 0; i < 500; i++) {
		v->group = vfio_group_open(bdf);
		if (v->group >= 0 || errno != EBUSY)
			break;
		usleep(10000);
	}
	if (v->container < 0 || v->group < 0)
		goto fail;
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &gs) ||
	    !(gs.flags & VFIO_GROUP_FLAGS_VIABLE))
		goto fail;
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container) ||
	    ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU))
		goto fail;
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (v->device < 0)
		goto fail;

	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &ri))
		goto fail;
	v->cfg_off = ri.offset;
	if (pread(v->device, &cmd, 2, v->cfg_off + PCI_COMMAND) != 2)
		goto fail;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(v->device, &cmd, 2, v->cfg_off + PCI_COMMAND) != 2)
		goto fail;

	memset(&ri, 0, sizeof(ri));
	ri.argsz = sizeof(ri);
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &ri) ||
	    !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP))
		goto fail;
	p = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, v->device,
		 ri.offset);
	if (p == MAP_FAILED)
		goto fail;
	v->bar0 = p;
	v->bar0_size = ri.size;
	return 0;
fail:
	vfio_dev_close(v);
	return -1;
}

/* MSI-X on the real device: vectors [start, start + n) to efd[], -1 = none. */
static inline int vfio_dev_set_irqs(struct vfio_dev *v, unsigned int start,
				    unsigned int n, const int *efd)
{
	size_t size = sizeof(struct vfio_irq_set) + n * sizeof(int32_t);
	struct vfio_irq_set *set = calloc(1, size);
	int ret, e;

	if (!set)
		return -1;
	set->argsz = size;
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_MSIX_IRQ_INDEX;
	set->start = start;
	set->count = n;
	memcpy(set->data, efd, n * sizeof(int32_t));
	ret = ioctl(v->device, VFIO_DEVICE_SET_IRQS, set);
	e = errno;
	free(set);
	errno = e;
	return ret;
}

/* VFIO's loopback trigger: signals vector vec's eventfd, process context. */
static inline int vfio_dev_trigger(struct vfio_dev *v, unsigned int vec)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSIX_IRQ_INDEX,
		.start = vec,
		.count = 1,
	};

	return ioctl(v->device, VFIO_DEVICE_SET_IRQS, &set);
}

/*
 * e1000e: masks and clears every cause, then routes causes 0..4 to MSI-X
 * vectors 0..4 and unmasks them.
 */
static inline void e1000e_msix_setup(struct vfio_dev *v)
{
	v->bar0[E_IMC / 4] = 0xffffffffu;
	v->bar0[E_ICR / 4] = 0xffffffffu;
	v->bar0[E_IVAR / 4] = E_IVAR_ALL;
	v->bar0[E_IMS / 4] = E_IMS_ALL;
}

#endif /* _XVM_PCI_H */
