// SPDX-License-Identifier: GPL-2.0
/*
 * iommu_test: xvm-iommu (XVM_DEV_TYPE_IOMMU) in the QEMU guest.
 *
 *  - attach/claim/detach, and the refusals: a device a normal driver owns
 *    (e1000e driver, from $XVM_EXTRA/e1000e.ko; skipped without it), a group
 *    a VFIO container holds, an unprivileged caller;
 *  - every map/unmap edge case of docs/api.md 7.4 (iommufd's selftests), with
 *    the locked-page count (VmLck) and the page reference counts
 *    (/proc/kpagecount) back to their starting values;
 *  - automatic mode (memory slots mirrored at dfn == gfn);
 *  - the saved state (XVM_IOMMU_GET_STATE): report, re-create into a fresh
 *    device, report again; the edu's DMA through re-created mappings;
 *  - real DMA by the edu device (1234:11e8): it lands when mapped, does not
 *    (IOMMU fault in the kernel log) when unmapped or read-only, follows a
 *    slot move; after detach VFIO can take the group.
 *
 * The devices come from the environment (xvm_pci.h): every test needs the
 * edu, XVM_TEST_EDU=BDF; the ones that also use the e1000e (as a second
 * device, bound to its driver or to VFIO) need XVM_TEST_E1000E=BDF.  A test
 * whose device is not given skips and touches no PCI device.
 *
 * The devices' driver bindings are global: every fixture teardown returns
 * the given devices to unbound with no driver_override.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "xvm_harness.h"
#include "xvm_fixture.h"
#include "libxvm.h"
#include "xvm_fault.h"
#include "xvm_mem.h"
#include "xvm_pci.h"

#define PAGE		4096ULL
#define GIB		(1ULL << 30)
#define HUGE_2M		(2ULL << 20)

/* edu DMA length (its registers: host/testdev.h) */
#define EDU_LEN		1024	/* 4096 crashes QEMU 7.2; keep it small */

/* In 6.1 a SKIP() in a fixture setup still runs the test body. */
#define NEED_SETUP() do { if (_metadata->skip) return; } while (0)

/* A test that also uses the e1000e: skips unless XVM_TEST_E1000E names one. */
#define NEED_E1000E() do {						\
	if (!test_pci_e1000e()->ok)					\
		SKIP(return, "%s", test_pci_e1000e()->why);		\
} while (0)

/* --------------------------------------------------------------------- */
/* sysfs, procfs                                                          */

/* Host pfn behind a user address (0 if not present). */
static uint64_t pfn_of(const void *p)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, (uintptr_t)p / PAGE * 8) != 8)
		e = 0;
	close(fd);
	if (!(e >> 63))
		return 0;
	return e & ((1ULL << 55) - 1);
}

/* n populated 4 KiB-backed pages. */
static uint8_t *alloc_pages(size_t n)
{
	uint8_t *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, n * PAGE, MADV_NOHUGEPAGE);
	memset(p, 0x5a, n * PAGE);
	return p;
}

static int drop_cap(int cap)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[cap / 32].effective &= ~(1U << (cap % 32));
	d[cap / 32].permitted &= ~(1U << (cap % 32));
	return syscall(SYS_capset, &h, d);
}

/* --------------------------------------------------------------------- */
/* xvm-iommu                                                              */

static int attach_raw(int dev, const struct xvm_iommu_attach *a)
{
	return xvm_set_attr(dev, XVM_IOMMU_GRP_CTRL, XVM_IOMMU_CTRL_ATTACH, a);
}

/* The test devices, as attach() takes them. */
#define EDU		test_pci_edu()
#define E1000E		test_pci_e1000e()

static int attach(int dev, const struct test_pci *d, uint32_t flags)
{
	struct xvm_iommu_attach a = {
		.segment = d->segment, .bus = d->bus, .devfn = d->devfn,
		.flags = flags,
	};

	return attach_raw(dev, &a);
}

static int detach(int dev)
{
	return xvm_set_attr(dev, XVM_IOMMU_GRP_CTRL, XVM_IOMMU_CTRL_DETACH,
			    NULL);
}

static uint64_t info(int dev, uint64_t which)
{
	uint64_t v = ~0ULL;

	if (xvm_get_attr(dev, XVM_IOMMU_GRP_INFO, which, &v))
		return ~0ULL;
	return v;
}

static int map_uaddr(int dev, uint64_t dfn, const void *p, uint64_t count,
		     uint32_t rw)
{
	struct xvm_iommu_map m = {
		.flags = rw | XVM_IOMMU_MAP_SRC_UADDR, .dfn = dfn,
		.count = count, .uaddr = (uintptr_t)p,
	};

	return ioctl(dev, XVM_IOMMU_MAP, &m);
}

static int map_gfn(int dev, uint64_t dfn, uint64_t gfn, uint64_t count,
		   uint32_t rw)
{
	struct xvm_iommu_map m = {
		.flags = rw | XVM_IOMMU_MAP_SRC_GFN, .dfn = dfn,
		.count = count, .gfn = gfn,
	};

	return ioctl(dev, XVM_IOMMU_MAP, &m);
}

static int unmap(int dev, uint64_t dfn, uint64_t count, uint64_t *unmapped)
{
	struct xvm_iommu_unmap u = { .dfn = dfn, .count = count };
	int r = ioctl(dev, XVM_IOMMU_UNMAP, &u);

	if (!r && unmapped)
		*unmapped = u.unmapped;
	return r;
}

static int unmap_all(int dev, uint64_t *unmapped)
{
	struct xvm_iommu_unmap u = { .flags = XVM_IOMMU_UNMAP_ALL };
	int r = ioctl(dev, XVM_IOMMU_UNMAP, &u);

	if (!r && unmapped)
		*unmapped = u.unmapped;
	return r;
}

static struct xvm_iommu_translate xlate(int dev, uint64_t dfn)
{
	struct xvm_iommu_translate t = { .dfn = dfn };

	if (ioctl(dev, XVM_IOMMU_TRANSLATE, &t))
		t.flags = ~0U;
	return t;
}

#define RW	(XVM_IOMMU_MAP_READ | XVM_IOMMU_MAP_WRITE)
#define MAPPED_RW (XVM_IOMMU_XLATE_MAPPED | XVM_IOMMU_XLATE_READ |	\
		   XVM_IOMMU_XLATE_WRITE | XVM_IOMMU_XLATE_MFN)

/* --------------------------------------------------------------------- */
/* VFIO                                                                    */

struct vfio {
	int container, group;
};

static void vfio_close(struct vfio *v)
{
	close_fd(&v->group);
	close_fd(&v->container);
}

/* Opens bdf's group and a container; attaches when set_container. */
static int vfio_open(struct vfio *v, const char *bdf)
{
	v->group = vfio_group_open(bdf);
	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (v->group < 0 || v->container < 0) {
		vfio_close(v);
		return -1;
	}
	return 0;
}

static int vfio_set_container(struct vfio *v)
{
	return ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container);
}

static int vfio_map(struct vfio *v, uint64_t iova, void *p, uint64_t size)
{
	return vfio_dma_map(v->container, iova, p, size);
}

static int vfio_unmap(struct vfio *v, uint64_t iova, uint64_t size)
{
	return vfio_dma_unmap(v->container, iova, size, NULL);
}

static bool vfio_available(void)
{
	return access("/sys/bus/pci/drivers/vfio-pci", F_OK) == 0;
}

/* --------------------------------------------------------------------- */
/* edu                                                                     */

struct edu {
	volatile uint8_t *bar;
};

/* Maps BAR0 and enables memory decode and bus mastering. */
static int edu_open(struct edu *e)
{
	if (pci_read_hex(EDU_BDF, "vendor") != EDU_VENDOR ||
	    pci_read_hex(EDU_BDF, "device") != EDU_DEVICE)
		return -1;
	e->bar = pci_bar0_map(EDU_BDF, PAGE);
	if (!e->bar)
		return -1;
	return edu_probe(e->bar);
}

static void edu_close(struct edu *e)
{
	if (e->bar)
		munmap((void *)e->bar, PAGE);
	e->bar = NULL;
}

/* Fills the edu's buffer with EDU_LEN bytes from IOVA src. */
static int edu_load(struct edu *e, uint64_t src)
{
	return edu_dma(e->bar, src, EDU_BUF, EDU_LEN, false);
}

/* Writes the edu's buffer to IOVA dst. */
static int edu_store(struct edu *e, uint64_t dst)
{
	return edu_dma(e->bar, EDU_BUF, dst, EDU_LEN, true);
}

/* --------------------------------------------------------------------- */
/* Fixture: a VM with one xvm-iommu device, not attached                  */

FIXTURE(io) {
	int xvm, vm, dev;
	long lck0;
	int64_t pins0;
	struct edu edu;
	long hugepages0;
	bool loaded_e1000e;	/* refuse_driver_bound loaded the driver */
};

static void set_hugepages(long n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", n);
	sysfs_write("/proc/sys/vm/nr_hugepages", buf);
}

FIXTURE_SETUP(io)
{
	self->xvm = self->vm = self->dev = -1;
	self->hugepages0 = sysfs_read_long("/proc/sys/vm/nr_hugepages");
	if (geteuid())
		SKIP(return, "needs root");
	ASSERT_OK(fixture_vm_open(&self->xvm, &self->vm, 0));
	if (xvm_create_device(self->vm, XVM_DEV_TYPE_IOMMU,
			      XVM_CREATE_DEVICE_TEST, NULL))
		SKIP(return, "xvm-iommu not loaded");
	ASSERT_OK(xvm_create_device(self->vm, XVM_DEV_TYPE_IOMMU, 0,
				    &self->dev));
	if (!EDU->ok)
		SKIP(return, "%s", EDU->why);
	if (iommu_group_of(EDU_BDF) < 0)
		SKIP(return, "no edu in an IOMMU group at %s", EDU_BDF);
	pci_reset_binding(EDU_BDF);
	if (E1000E->ok)
		pci_reset_binding(E1000E_BDF);
	self->lck0 = locked_kb();
	ASSERT_LE(0, self->lck0);
	self->pins0 = pins();
	ASSERT_LE(0, self->pins0);
}

FIXTURE_TEARDOWN(io)
{
	edu_close(&self->edu);
	close_fd(&self->dev);
	close_fd(&self->vm);
	close_fd(&self->xvm);
	if (EDU->ok)
		pci_reset_binding(EDU_BDF);
	if (E1000E->ok)
		pci_reset_binding(E1000E_BDF);
	if (self->loaded_e1000e)
		syscall(SYS_delete_module, "e1000e", O_NONBLOCK);
	if (self->hugepages0 >= 0)
		set_hugepages(self->hugepages0);
}

/* Nothing pinned by this device, nothing accounted to this process. */
#define EXPECT_NOTHING_PINNED() do {					\
	EXPECT_EQ(0, info(self->dev, XVM_IOMMU_INFO_PINNED));		\
	EXPECT_EQ(0, info(self->dev, XVM_IOMMU_INFO_MAPPED));		\
	EXPECT_EQ(self->lck0, locked_kb());				\
	EXPECT_EQ(self->pins0, pins());					\
} while (0)

/* --------------------------------------------------------------------- */
/* attach, claim, detach, refusals                                        */

TEST_F(io, attach_detach)
{
	struct xvm_iommu_attach got = { .flags = 0xdead };
	uint64_t bitmap;

	NEED_SETUP();
	EXPECT_ERR(xvm_get_attr(self->dev, XVM_IOMMU_GRP_CTRL,
				XVM_IOMMU_CTRL_ATTACH, &got), ENODEV);
	EXPECT_EQ(~0ULL, info(self->dev, XVM_IOMMU_INFO_PGSIZE_BITMAP));
	EXPECT_EQ(12, info(self->dev, XVM_IOMMU_INFO_PAGE_SHIFT));

	ASSERT_OK(attach(self->dev, EDU, 0));
	ASSERT_OK(xvm_get_attr(self->dev, XVM_IOMMU_GRP_CTRL,
			       XVM_IOMMU_CTRL_ATTACH, &got));
	EXPECT_EQ(EDU->segment, got.segment);
	EXPECT_EQ(EDU->bus, got.bus);
	EXPECT_EQ(EDU_DEVFN, got.devfn);
	EXPECT_EQ(0, got.flags);
	/* Read after attach: 4K and, under intel-iommu, 2M. */
	bitmap = info(self->dev, XVM_IOMMU_INFO_PGSIZE_BITMAP);
	EXPECT_NE(~0ULL, bitmap);
	EXPECT_TRUE(bitmap & PAGE);
	EXPECT_TRUE(bitmap & HUGE_2M) TH_LOG("pgsize_bitmap %#llx",
					     (unsigned long long)bitmap);
	EXPECT_LE(0xfffffULL, info(self->dev, XVM_IOMMU_INFO_MAX_DFN));

	/* One device per xvm-iommu device. */
	EXPECT_ERR(attach(self->dev, EDU, 0), EBUSY);
	if (E1000E->ok)
		EXPECT_ERR(attach(self->dev, E1000E, 0), EBUSY);

	EXPECT_OK(detach(self->dev));
	EXPECT_ERR(detach(self->dev), ENODEV);
	EXPECT_ERR(xvm_get_attr(self->dev, XVM_IOMMU_GRP_CTRL,
				XVM_IOMMU_CTRL_ATTACH, &got), ENODEV);
	/* And again: detach handed the group back. */
	EXPECT_OK(attach(self->dev, EDU, 0));
	EXPECT_OK(detach(self->dev));
	EXPECT_NOTHING_PINNED();
}

/* A second owner is refused by the claim: never attach without one. */
TEST_F(io, attach_claimed_group_refused)
{
	int dev2 = -1, vm2;

	NEED_SETUP();
	ASSERT_OK(attach(self->dev, EDU, 0));
	ASSERT_OK(xvm_create_device(self->vm, XVM_DEV_TYPE_IOMMU, 0, &dev2));
	EXPECT_ERR(attach(dev2, EDU, 0), EPERM);
	vm2 = xvm_create_vm(self->xvm, 0);
	ASSERT_LE(0, vm2);
	close(dev2);
	ASSERT_OK(xvm_create_device(vm2, XVM_DEV_TYPE_IOMMU, 0, &dev2));
	EXPECT_ERR(attach(dev2, EDU, 0), EPERM);

	/* Closing the owner's fd releases the claim. */
	close(self->dev);
	self->dev = -1;
	EXPECT_OK(attach(dev2, EDU, 0));
	close(dev2);
	close(vm2);
	EXPECT_EQ(self->lck0, locked_kb());
}

TEST_F(io, attach_bad_args)
{
	struct xvm_iommu_attach a = {
		.segment = EDU->segment, .bus = EDU->bus, .devfn = EDU_DEVFN,
	};
	struct xvm_iommu_attach none = { .devfn = 0x10 << 3 };
	unsigned int i;

	NEED_SETUP();
	for (i = 0; i < 3; i++) {
		a.reserved[i] = 1;
		EXPECT_ERR(attach_raw(self->dev, &a), EINVAL);
		a.reserved[i] = 0;
	}
	a.flags = 1U << 1;
	EXPECT_ERR(attach_raw(self->dev, &a), EINVAL);
	a.flags = 1U << 31;
	EXPECT_ERR(attach_raw(self->dev, &a), EINVAL);
	a.flags = 0;
	/* No such device. */
	EXPECT_ERR(attach_raw(self->dev, &none), ENODEV);
	a.bus = 0x7f;
	EXPECT_ERR(attach_raw(self->dev, &a), ENODEV);
	a.bus = EDU->bus;
	a.segment = EDU->segment + 1;
	EXPECT_ERR(attach_raw(self->dev, &a), ENODEV);
	EXPECT_ERR(attach_raw(self->dev, (void *)8), EFAULT);
	/* Detach takes no value; unknown attributes. */
	ASSERT_OK(attach(self->dev, EDU, 0));
	EXPECT_ERR(xvm_set_attr(self->dev, XVM_IOMMU_GRP_CTRL,
				XVM_IOMMU_CTRL_DETACH, &a), EINVAL);
	EXPECT_ERR(xvm_set_attr(self->dev, XVM_IOMMU_GRP_CTRL, 2, &a), ENXIO);
	EXPECT_ERR(xvm_set_attr(self->dev, XVM_IOMMU_GRP_INFO, 0, &a), ENXIO);
	EXPECT_ERR(xvm_set_attr(self->dev, 7, 0, &a), ENXIO);
	EXPECT_ERR(xvm_get_attr(self->dev, XVM_IOMMU_GRP_INFO,
				XVM_IOMMU_INFO_MAX + 1, &a), ENXIO);
	EXPECT_ERR(xvm_get_attr(self->dev, XVM_IOMMU_GRP_CTRL,
				XVM_IOMMU_CTRL_DETACH, &a), ENXIO);
	EXPECT_OK(xvm_has_attr(self->dev, XVM_IOMMU_GRP_CTRL,
			       XVM_IOMMU_CTRL_DETACH, NULL));
	EXPECT_OK(xvm_has_attr(self->dev, XVM_IOMMU_GRP_INFO,
			       XVM_IOMMU_INFO_MAX, NULL));
	EXPECT_ERR(xvm_has_attr(self->dev, XVM_IOMMU_GRP_INFO,
				XVM_IOMMU_INFO_MAX + 1, NULL), ENXIO);
	EXPECT_ERR(ioctl(self->dev, _IO(XVMIO, 0xdf)), ENOTTY);
	EXPECT_OK(detach(self->dev));
}

/*
 * Without CAP_SYS_RAWIO (everything else kept) attach is EPERM.  The test
 * process drops it itself: a forked child would be another mm, which the
 * core refuses with EIO before xvm-iommu is asked.
 */
TEST_F(io, attach_unprivileged)
{
	NEED_SETUP();
	/* Privileged: fine. */
	ASSERT_OK(attach(self->dev, EDU, 0));
	ASSERT_OK(detach(self->dev));
	ASSERT_OK(drop_cap(CAP_SYS_RAWIO));
	EXPECT_ERR(attach(self->dev, EDU, 0), EPERM);
	EXPECT_ERR(attach(self->dev, EDU, XVM_IOMMU_ATTACH_MIRROR_SLOTS),
		   EPERM);
	/* The privilege comes before the value is read. */
	EXPECT_ERR(xvm_set_attr(self->dev, XVM_IOMMU_GRP_CTRL,
				XVM_IOMMU_CTRL_ATTACH, (void *)1), EPERM);
	EXPECT_ERR(detach(self->dev), ENODEV);
}

TEST_F(io, ops_need_attach)
{
	struct xvm_iommu_translate t = { .dfn = 1 };
	uint8_t *p = alloc_pages(1);

	NEED_SETUP();
	ASSERT_NE(NULL, p);
	EXPECT_ERR(map_uaddr(self->dev, 1, p, 1, RW), ENODEV);
	EXPECT_ERR(unmap(self->dev, 1, 1, NULL), ENODEV);
	EXPECT_ERR(unmap_all(self->dev, NULL), ENODEV);
	EXPECT_ERR(ioctl(self->dev, XVM_IOMMU_TRANSLATE, &t), ENODEV);
	EXPECT_EQ(self->lck0, locked_kb());
}

/* A normal driver owns the device: the claim fails, the driver keeps it. */
TEST_F(io, refuse_driver_bound)
{
	char path[512], drv[64];
	const char *extra = getenv("XVM_EXTRA");
	int fd;

	NEED_SETUP();
	NEED_E1000E();
	snprintf(path, sizeof(path), "%s/e1000e.ko", extra ? extra : "/extra");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && access("/sys/module/e1000e", F_OK))
		SKIP(return, "%s missing: make sandbox EXTRA=<dir with e1000e.ko>",
		     path);
	if (fd >= 0) {
		if (!syscall(SYS_finit_module, fd, "", 0))
			self->loaded_e1000e = true;
		else if (errno != EEXIST)
			TH_LOG("finit_module: %s", strerror(errno));
		close(fd);
	}
	if (strcmp(pci_driver(E1000E_BDF, drv, sizeof(drv)), "e1000e"))
		ASSERT_OK(pci_bind(E1000E_BDF, "e1000e"));
	ASSERT_STREQ("e1000e", pci_driver(E1000E_BDF, drv, sizeof(drv)));

	EXPECT_ERR(attach(self->dev, E1000E, 0), EPERM);
	EXPECT_ERR(attach(self->dev, E1000E,
			  XVM_IOMMU_ATTACH_MIRROR_SLOTS), EPERM);
	EXPECT_STREQ("e1000e", pci_driver(E1000E_BDF, drv, sizeof(drv)));
	EXPECT_ERR(detach(self->dev), ENODEV);
}

/* A VFIO container holds the group: refused, and VFIO keeps working. */
TEST_F(io, refuse_vfio_container)
{
	struct vfio v = { -1, -1 };
	uint8_t *p = alloc_pages(4);
	const char *dev_name = E1000E_BDF;
	int devfd;

	NEED_SETUP();
	NEED_E1000E();
	ASSERT_NE(NULL, p);
	if (!vfio_available())
		SKIP(return, "vfio-pci not loaded");
	ASSERT_OK(pci_bind(E1000E_BDF, "vfio-pci"));
	ASSERT_OK(vfio_open(&v, E1000E_BDF));
	ASSERT_OK(vfio_set_container(&v));
	ASSERT_OK(ioctl(v.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));

	EXPECT_ERR(attach(self->dev, E1000E, 0), EPERM);
	EXPECT_ERR(detach(self->dev), ENODEV);

	/* VFIO unharmed: DMA mapping and the device fd. */
	EXPECT_OK(vfio_map(&v, 0x100000, p, 4 * PAGE));
	EXPECT_OK(vfio_unmap(&v, 0x100000, 4 * PAGE));
	devfd = ioctl(v.group, VFIO_GROUP_GET_DEVICE_FD, dev_name);
	EXPECT_LE(0, devfd);
	if (devfd >= 0)
		close(devfd);
	vfio_close(&v);
	/* Container gone: now the claim succeeds (vfio-pci manages DMA). */
	EXPECT_OK(attach(self->dev, E1000E, 0));
	EXPECT_OK(detach(self->dev));
}

/* Detaches (by DETACH, or by closing the fd) with the n-th allocation failing. */
static int detach_failing(int *dev, int fnth, unsigned int n, bool by_close,
			  int *left)
{
	int r = 0;

	expect_splat_begin(XVM_CORE_REATTACH_SPLAT);
	fail_nth_set(fnth, n);
	if (by_close) {
		close(*dev);
		*dev = -1;
	} else if (detach(*dev)) {
		r = errno;
	}
	*left = fail_nth_left(fnth);
	fail_nth_set(fnth, 0);
	expect_splat_end();
	return r;
}

/*
 * Detach and close with each allocation failing in turn: whatever fails,
 * no domain the group points at is freed and the group stays usable:
 * xvm attaches it again, and VFIO takes it at the end.
 */
TEST_F(io, detach_under_alloc_failure)
{
	struct vfio v = { -1, -1 };
	int fnth, left = 0, n, pass;

	NEED_SETUP();
	fnth = fault_inject_setup() ? -1 : fail_nth_open();
	if (fnth < 0)
		SKIP(return, "no fail-nth (debug kernel only)");
	for (pass = 0; pass < 2; pass++) {
		for (n = 1, left = 0; n < 100 && !left; n++) {
			if (self->dev < 0)
				ASSERT_OK(xvm_create_device(self->vm,
					XVM_DEV_TYPE_IOMMU, 0, &self->dev));
			ASSERT_EQ(0, attach(self->dev, EDU, 0))
				TH_LOG("n=%d: the group is no longer usable", n);
			EXPECT_EQ(0, detach_failing(&self->dev, fnth, n, pass,
						    &left));
		}
		EXPECT_LT(0, left);
	}
	ASSERT_OK(xvm_create_device(self->vm, XVM_DEV_TYPE_IOMMU, 0,
				    &self->dev));
	EXPECT_EQ(0, info(self->dev, XVM_IOMMU_INFO_GROUPS_KEPT));
	close(fnth);
	if (!vfio_available())
		return;
	ASSERT_OK(pci_bind(EDU_BDF, "vfio-pci"));
	ASSERT_OK(vfio_open(&v, EDU_BDF));
	EXPECT_OK(vfio_set_container(&v));
	vfio_close(&v);
}

/*
 * vfio-pci bound, no container: xvm may claim; while it holds the group
 * VFIO cannot attach a container; after detach VFIO takes the group again.
 */
TEST_F(io, detach_returns_group_to_vfio)
{
	struct vfio v = { -1, -1 };
	uint8_t *p = alloc_pages(2);

	NEED_SETUP();
	ASSERT_NE(NULL, p);
	if (!vfio_available())
		SKIP(return, "vfio-pci not loaded");
	ASSERT_OK(pci_bind(EDU_BDF, "vfio-pci"));
	ASSERT_OK(vfio_open(&v, EDU_BDF));
	ASSERT_OK(attach(self->dev, EDU, XVM_IOMMU_ATTACH_MIRROR_SLOTS));
	ASSERT_OK(map_uaddr(self->dev, 0x100, p, 2, RW));
	EXPECT_ERR(vfio_set_container(&v), EPERM);

	ASSERT_OK(detach(self->dev));
	EXPECT_NOTHING_PINNED();
	EXPECT_OK(vfio_set_container(&v));
	EXPECT_OK(ioctl(v.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	EXPECT_OK(vfio_map(&v, 0x100000, p, 2 * PAGE));
	/* The container holds it now: xvm is refused. */
	EXPECT_ERR(attach(self->dev, EDU, 0), EPERM);
	EXPECT_OK(vfio_unmap(&v, 0x100000, 2 * PAGE));
	vfio_close(&v);
}

/* --------------------------------------------------------------------- */
/* Explicit map/unmap edge cases                                          */

#define ATTACH_EDU() ASSERT_OK(attach(self->dev, EDU, 0))

TEST_F(io, map_translate_unmap)
{
	uint8_t *p = alloc_pages(16);
	uint64_t n = 0;
	unsigned int i;

	NEED_SETUP();
	ASSERT_NE(NULL, p);
	ATTACH_EDU();

	ASSERT_OK(map_uaddr(self->dev, 0x1000, p, 16, RW));
	EXPECT_EQ(16, info(self->dev, XVM_IOMMU_INFO_PINNED));
	EXPECT_EQ(16, info(self->dev, XVM_IOMMU_INFO_MAPPED));
	EXPECT_EQ(self->lck0 + 64, locked_kb());
	EXPECT_EQ(self->pins0 + 16, pins());
	for (i = 0; i < 16; i++) {
		struct xvm_iommu_translate t = xlate(self->dev, 0x1000 + i);

		EXPECT_EQ(MAPPED_RW, t.flags);
		EXPECT_EQ(pfn_of(p + i * PAGE), t.mfn);
		EXPECT_EQ(0x1000, t.map_dfn);
		EXPECT_EQ(16, t.map_count);
	}
	EXPECT_EQ(0, xlate(self->dev, 0x0fff).flags);
	EXPECT_EQ(0, xlate(self->dev, 0x1010).flags);
	EXPECT_EQ(0, xlate(self->dev, ~0ULL).flags);

	ASSERT_OK(unmap(self->dev, 0x1000, 16, &n));
	EXPECT_EQ(16, n);
	EXPECT_EQ(0, xlate(self->dev, 0x1000).flags);
	EXPECT_NOTHING_PINNED();
}

TEST_F(io, map_read_only_and_write_only)
{
	uint8_t *p = alloc_pages(2);

	NEED_SETUP();
	ASSERT_NE(NULL, p);
	ATTACH_EDU();
	ASSERT_OK(map_uaddr(self->dev, 0x10, p, 1, XVM_IOMMU_MAP_READ));
	ASSERT_OK(map_uaddr(self->dev, 0x11, p + PAGE, 1, XVM_IOMMU_MAP_WRITE));
	EXPECT_EQ(XVM_IOMMU_XLATE_MAPPED | XVM_IOMMU_XLATE_READ |
		  XVM_IOMMU_XLATE_MFN, xlate(self->dev, 0x10).flags);
	EXPECT_EQ(XVM_IOMMU_XLATE_MAPPED | XVM_IOMMU_XLATE_WRITE |
		  XVM_IOMMU_XLATE_MFN, xlate(self->dev, 0x11).flags);
	/* A read-only user mapping can be mapped for device reads only. */
	ASSERT_OK(mprotect(p, PAGE, PROT_READ));
	EXPECT_OK(map_uaddr(self->dev, 0x20, p, 1, XVM_IOMMU_MAP_READ));
	EXPECT_ERR(map_uaddr(self->dev, 0x21, p, 1, RW), EFAULT);
	EXPECT_OK(unmap_all(self->dev, NULL));
	EXPECT_NOTHING_PINNED();
}

TEST_F(io, map_zero_count)
{
	uint8_t *p = alloc_pages(1);

	NEED_SETUP();
	ATTACH_EDU();
	EXPECT_ERR(map_uaddr(self->dev, 0x10, p, 0, RW), EINVAL);
	EXPECT_ERR(map_gfn(self->dev, 0x10, 0, 0, RW), EINVAL);
	EXPECT_ERR(unmap(self->dev, 0x10, 0, NULL), EINVAL);
	EXPECT_NOTHING_PINNED();
}

TEST_F(io, map_no_permission)
{
	uint8_t *p = alloc_pages(1);

	NEED_SETUP();
	ATTACH_EDU();
	EXPECT_ERR(map_uaddr(self->dev, 0x10, p, 1, 0), EINVAL);
	EXPECT_ERR(map_gfn(self->dev, 0x10, 0, 1, 0), EINVAL);
	EXPECT_NOTHING_PINNED();
}

/* map_bad_flags_reserved: UNMAP's and TRANSLATE's flags and reserved fields. */
static void unmap_translate_bad_fields(struct __test_metadata *_metadata,
				       int dev)
{
	struct xvm_iommu_unmap u;
	struct xvm_iommu_translate t;

	u = (struct xvm_iommu_unmap){ .dfn = 0x10, .count = 1, .flags = 2 };
	EXPECT_ERR(ioctl(dev, XVM_IOMMU_UNMAP, &u), EINVAL);
	u.flags = 0;
	u.pad = 1;
	EXPECT_ERR(ioctl(dev, XVM_IOMMU_UNMAP, &u), EINVAL);
	u.pad = 0;
	u.reserved[1] = 1;
	EXPECT_ERR(ioctl(dev, XVM_IOMMU_UNMAP, &u), EINVAL);
	u.reserved[1] = 0;
	/* UNMAP_ALL takes no range. */
	u.flags = XVM_IOMMU_UNMAP_ALL;
	EXPECT_ERR(ioctl(dev, XVM_IOMMU_UNMAP, &u), EINVAL);

	t = (struct xvm_iommu_translate){ .dfn = 0x10, .reserved[0] = 1 };
	EXPECT_ERR(ioctl(dev, XVM_IOMMU_TRANSLATE, &t), EINVAL);
	t = (struct xvm_iommu_translate){ .dfn = 0x10, .flags = 1 };
	EXPECT_ERR(ioctl(dev, XVM_IOMMU_TRANSLATE, &t), EINVAL);
	t = (struct xvm_iommu_translate){ .dfn = 0x10, .pad = 1 };
	EXPECT_ERR(ioctl(dev, XVM_IOMMU_TRANSLATE, &t), EINVAL);
}

/* Unknown flags and non-zero reserved/pad fields: EINVAL. */
TEST_F(io, map_bad_flags_reserved)
{
	uint8_t *p = alloc_pages(1);
	struct xvm_iommu_map m;
	unsigned int bit;

	NEED_SETUP();
	ATTACH_EDU();
#define RESET_MAP() (m = (struct xvm_iommu_map){ .flags = RW |		\
		     XVM_IOMMU_MAP_SRC_UADDR, .dfn = 0x10, .count = 1,	\
		     .uaddr = (uintptr_t)p })
	for (bit = 4; bit < 32; bit++) {
		RESET_MAP();
		m.flags |= 1U << bit;
		EXPECT_ERR(ioctl(self->dev, XVM_IOMMU_MAP, &m), EINVAL);
	}
	RESET_MAP();
	m.pad = 1;
	EXPECT_ERR(ioctl(self->dev, XVM_IOMMU_MAP, &m), EINVAL);
	RESET_MAP();
	m.reserved[0] = 1;
	EXPECT_ERR(ioctl(self->dev, XVM_IOMMU_MAP, &m), EINVAL);
	RESET_MAP();
	m.reserved[1] = 1ULL << 63;
	EXPECT_ERR(ioctl(self->dev, XVM_IOMMU_MAP, &m), EINVAL);
	/* Exactly one source, the other field zero. */
	RESET_MAP();
	m.flags |= XVM_IOMMU_MAP_SRC_GFN;
	EXPECT_ERR(ioctl(self->dev, XVM_IOMMU_MAP, &m), EINVAL);
	RESET_MAP();
	m.flags &= ~XVM_IOMMU_MAP_SRC_UADDR;
	EXPECT_ERR(ioctl(self->dev, XVM_IOMMU_MAP, &m), EINVAL);
	RESET_MAP();
	m.gfn = 1;
	EXPECT_ERR(ioctl(self->dev, XVM_IOMMU_MAP, &m), EINVAL);
	RESET_MAP();
	EXPECT_OK(ioctl(self->dev, XVM_IOMMU_MAP, &m));

	unmap_translate_bad_fields(_metadata, self->dev);
	/* The one valid map is still there, exactly once. */
	EXPECT_EQ(1, info(self->dev, XVM_IOMMU_INFO_MAPPED));
	EXPECT_OK(unmap(self->dev, 0x10, 1, NULL));
	EXPECT_NOTHING_PINNED();
#undef RESET_MAP
}

TEST_F(io, map_misaligned)
{
	uint8_t *p = alloc_pages(3);
	static const unsigned int off[] = { 1, 8, 0x800, 0xfff };
	unsigned int i;

	NEED_SETUP();
	ATTACH_EDU();
	for (i = 0; i < 4; i++)
		EXPECT_ERR(map_uaddr(self->dev, 0x10, p + off[i], 1, RW),
			   EINVAL);
	EXPECT_NOTHING_PINNED();
}

TEST_F(io, map_overflow)
{
	uint64_t max_dfn, max_count;
	uint8_t *p = alloc_pages(2);
	struct xvm_iommu_unmap u = { 0 };

	NEED_SETUP();
	ATTACH_EDU();
	max_dfn = info(self->dev, XVM_IOMMU_INFO_MAX_DFN);
	max_count = info(self->dev, XVM_IOMMU_INFO_MAX_COUNT);
	ASSERT_NE(~0ULL, max_dfn);
	/* dfn + count wraps */
	EXPECT_ERR(map_uaddr(self->dev, ~0ULL, p, 2, RW), EOVERFLOW);
	EXPECT_ERR(map_gfn(self->dev, 0x10, ~0ULL, 2, RW), EOVERFLOW);
	/* user range wraps */
	EXPECT_ERR(map_uaddr(self->dev, 0x10, (void *)-PAGE, 2, RW), EOVERFLOW);
	/* too large */
	EXPECT_ERR(map_uaddr(self->dev, 0x10, p, max_count + 1, RW),
		   EOVERFLOW);
	EXPECT_ERR(map_uaddr(self->dev, 0, p, ~0ULL, RW), EOVERFLOW);
	/* beyond what the domain translates */
	EXPECT_ERR(map_uaddr(self->dev, max_dfn + 1, p, 1, RW), EOVERFLOW);
	EXPECT_ERR(map_uaddr(self->dev, max_dfn, p, 2, RW), EOVERFLOW);
	EXPECT_OK(map_uaddr(self->dev, max_dfn, p, 1, RW));
	EXPECT_EQ(MAPPED_RW, xlate(self->dev, max_dfn).flags);
	EXPECT_OK(unmap(self->dev, max_dfn, 1, NULL));
	/* unmap wraps */
	u.dfn = ~0ULL;
	u.count = 2;
	EXPECT_ERR(ioctl(self->dev, XVM_IOMMU_UNMAP, &u), EOVERFLOW);
	EXPECT_NOTHING_PINNED();
}

TEST_F(io, map_overlap)
{
	uint8_t *p = alloc_pages(8);

	NEED_SETUP();
	ATTACH_EDU();
	ASSERT_OK(map_uaddr(self->dev, 0x100, p, 4, RW));
	EXPECT_ERR(map_uaddr(self->dev, 0x100, p, 4, RW), EEXIST);
	EXPECT_ERR(map_uaddr(self->dev, 0x102, p, 4, RW), EEXIST);
	EXPECT_ERR(map_uaddr(self->dev, 0x0fe, p, 3, RW), EEXIST);
	EXPECT_ERR(map_uaddr(self->dev, 0x0f0, p, 0x20, RW), EEXIST);
	EXPECT_ERR(map_uaddr(self->dev, 0x103, p, 1, XVM_IOMMU_MAP_READ),
		   EEXIST);
	/* Adjacent on both sides is fine. */
	EXPECT_OK(map_uaddr(self->dev, 0x104, p + 4 * PAGE, 4, RW));
	EXPECT_OK(map_uaddr(self->dev, 0x0fc, p + 4 * PAGE, 4, RW));
	EXPECT_EQ(12, info(self->dev, XVM_IOMMU_INFO_PINNED));
	EXPECT_EQ(self->lck0 + 48, locked_kb());
	EXPECT_OK(unmap_all(self->dev, NULL));
	EXPECT_NOTHING_PINNED();
}

/* Not fully backed: EFAULT, and nothing stays pinned or mapped. */
TEST_F(io, map_user_range_not_mapped)
{
	uint8_t *p = alloc_pages(8);
	unsigned int i;

	NEED_SETUP();
	ATTACH_EDU();
	ASSERT_OK(munmap(p + 5 * PAGE, PAGE));
	EXPECT_ERR(map_uaddr(self->dev, 0x100, p, 8, RW), EFAULT);
	for (i = 0; i < 8; i++)
		EXPECT_EQ(0, xlate(self->dev, 0x100 + i).flags);
	EXPECT_EQ(self->pins0, pins());
	EXPECT_ERR(map_uaddr(self->dev, 0x100, NULL, 1, RW), EFAULT);
	EXPECT_ERR(map_uaddr(self->dev, 0x100, (void *)0xffff888000000000ULL,
			     1, RW), EFAULT);
	EXPECT_ERR(unmap(self->dev, 0x100, 8, NULL), ENOENT);
	EXPECT_NOTHING_PINNED();
	/* The part that exists maps. */
	EXPECT_OK(map_uaddr(self->dev, 0x100, p, 5, RW));
	EXPECT_OK(unmap(self->dev, 0x100, 5, NULL));
	EXPECT_NOTHING_PINNED();
}

/*
 * A mapping pinned in several batches (pages.c pins 512 at a time), part of
 * it never touched (faulted in by the pin): every frame is the page at its
 * place, and a hole past the first batches undoes the batches before it.
 */
TEST_F(io, map_many_pin_batches)
{
	const unsigned int n = 1300, hole = 1100, touched = 700;
	uint8_t *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct xvm_iommu_translate t;
	unsigned int i;

	NEED_SETUP();
	ASSERT_NE(MAP_FAILED, p);
	ATTACH_EDU();
	madvise(p, n * PAGE, MADV_NOHUGEPAGE);
	memset(p, 0x5a, touched * PAGE);
	ASSERT_OK(munmap(p + hole * PAGE, PAGE));
	EXPECT_ERR(map_uaddr(self->dev, 0x1000, p, n, RW), EFAULT);
	EXPECT_EQ(0, xlate(self->dev, 0x1000).flags);
	EXPECT_EQ(0, xlate(self->dev, 0x1000 + hole - 1).flags);
	EXPECT_NOTHING_PINNED();

	ASSERT_OK(map_uaddr(self->dev, 0x1000, p, hole, RW));
	EXPECT_EQ(hole, info(self->dev, XVM_IOMMU_INFO_PINNED));
	EXPECT_EQ(self->lck0 + hole * 4, locked_kb());
	for (i = 0; i < hole; i++) {
		t = xlate(self->dev, 0x1000 + i);
		EXPECT_EQ(MAPPED_RW, t.flags);
		if (t.mfn != pfn_of(p + i * PAGE)) {
			EXPECT_EQ(pfn_of(p + i * PAGE), t.mfn)
				TH_LOG("frame %u", i);
			break;
		}
	}
	EXPECT_OK(unmap_all(self->dev, NULL));
	EXPECT_NOTHING_PINNED();
	munmap(p, n * PAGE);
}

TEST_F(io, unmap_nothing_or_cut)
{
	uint8_t *p = alloc_pages(8);
	uint64_t n = 0;

	NEED_SETUP();
	ATTACH_EDU();
	EXPECT_ERR(unmap(self->dev, 0x100, 8, NULL), ENOENT);
	ASSERT_OK(map_uaddr(self->dev, 0x100, p, 8, RW));
	/* Every range that cuts through the mapping. */
	EXPECT_ERR(unmap(self->dev, 0x102, 2, NULL), ENOENT);
	EXPECT_ERR(unmap(self->dev, 0x100, 7, NULL), ENOENT);
	EXPECT_ERR(unmap(self->dev, 0x101, 7, NULL), ENOENT);
	EXPECT_ERR(unmap(self->dev, 0x0ff, 2, NULL), ENOENT);
	EXPECT_ERR(unmap(self->dev, 0x107, 0x100, NULL), ENOENT);
	EXPECT_ERR(unmap(self->dev, 0x108, 8, NULL), ENOENT);
	EXPECT_ERR(unmap(self->dev, 0x0f8, 8, NULL), ENOENT);
	EXPECT_EQ(8, info(self->dev, XVM_IOMMU_INFO_MAPPED));
	EXPECT_EQ(MAPPED_RW, xlate(self->dev, 0x107).flags);
	/* A range covering it whole. */
	EXPECT_OK(unmap(self->dev, 0x0f0, 0x20, &n));
	EXPECT_EQ(8, n);
	EXPECT_ERR(unmap(self->dev, 0x100, 8, NULL), ENOENT);
	EXPECT_NOTHING_PINNED();
}

/* Several mappings in one unmap: one IOTLB sync for the batch. */
TEST_F(io, unmap_batch_one_sync)
{
	uint8_t *p = alloc_pages(12);
	uint64_t n = 0, syncs;

	NEED_SETUP();
	ATTACH_EDU();
	ASSERT_OK(map_uaddr(self->dev, 0x100, p, 4, RW));
	ASSERT_OK(map_uaddr(self->dev, 0x104, p + 4 * PAGE, 4, RW));
	ASSERT_OK(map_uaddr(self->dev, 0x200, p + 8 * PAGE, 4, RW));
	syncs = info(self->dev, XVM_IOMMU_INFO_SYNCS);
	EXPECT_OK(unmap(self->dev, 0x100, 0x100, &n));
	EXPECT_EQ(8, n);
	EXPECT_EQ(syncs + 1, info(self->dev, XVM_IOMMU_INFO_SYNCS));
	EXPECT_EQ(MAPPED_RW, xlate(self->dev, 0x200).flags);
	EXPECT_EQ(4, info(self->dev, XVM_IOMMU_INFO_PINNED));
	EXPECT_OK(unmap(self->dev, 0, 0x1000, &n));
	EXPECT_EQ(4, n);
	EXPECT_NOTHING_PINNED();
}

TEST_F(io, unmap_all_repeatedly)
{
	uint8_t *p = alloc_pages(32);
	uint64_t n = 99;
	unsigned int round, i;

	NEED_SETUP();
	ATTACH_EDU();
	EXPECT_OK(unmap_all(self->dev, &n));
	EXPECT_EQ(0, n);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 8; i++)
			ASSERT_OK(map_uaddr(self->dev, 0x1000 * (i + 1),
					    p + 4 * i * PAGE, 4, RW));
		EXPECT_EQ(32, info(self->dev, XVM_IOMMU_INFO_PINNED));
		EXPECT_EQ(self->pins0 + 32, pins());
		n = 0;
		EXPECT_OK(unmap_all(self->dev, &n));
		EXPECT_EQ(32, n);
		EXPECT_OK(unmap_all(self->dev, &n));
		EXPECT_EQ(0, n);
		EXPECT_EQ(0, xlate(self->dev, 0x1000).flags);
		EXPECT_NOTHING_PINNED();
	}
}

/* Closing the fds without unmapping unpins everything. */
TEST_F(io, close_unpins)
{
	uint8_t *p = alloc_pages(16);

	NEED_SETUP();
	ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x100000, 8 * PAGE,
					(uintptr_t)(p + 8 * PAGE)));
	ATTACH_EDU();
	ASSERT_OK(map_uaddr(self->dev, 0x10, p, 8, RW));
	ASSERT_OK(map_gfn(self->dev, 0x20, 0x100, 8, RW));
	EXPECT_EQ(self->lck0 + 64, locked_kb());
	EXPECT_EQ(self->pins0 + 16, pins());
	close(self->dev);
	self->dev = -1;
	EXPECT_EQ(self->lck0, locked_kb());
	EXPECT_EQ(self->pins0, pins());
}

TEST_F(io, map_by_gfn)
{
	uint8_t *p = alloc_pages(32);
	struct xvm_iommu_translate t;

	NEED_SETUP();
	ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x100000, 16 * PAGE,
					(uintptr_t)p));
	ASSERT_OK(xvm_set_memory_region(self->vm, 1, XVM_MEM_READONLY,
					0x200000, 16 * PAGE,
					(uintptr_t)(p + 16 * PAGE)));
	ATTACH_EDU();
	ASSERT_OK(map_gfn(self->dev, 0x5000, 0x104, 8, RW));
	t = xlate(self->dev, 0x5002);
	EXPECT_EQ(MAPPED_RW, t.flags);
	EXPECT_EQ(pfn_of(p + 6 * PAGE), t.mfn);
	/* Outside every slot, or crossing a slot's end. */
	EXPECT_ERR(map_gfn(self->dev, 0x6000, 0x300, 1, RW), EFAULT);
	EXPECT_ERR(map_gfn(self->dev, 0x6000, 0x10c, 8, RW), EFAULT);
	EXPECT_ERR(map_gfn(self->dev, 0x6000, 0x0ff, 2, RW), EFAULT);
	/* A read-only slot cannot be mapped for device writes. */
	EXPECT_ERR(map_gfn(self->dev, 0x6000, 0x200, 1, RW), EPERM);
	EXPECT_OK(map_gfn(self->dev, 0x6000, 0x200, 16, XVM_IOMMU_MAP_READ));
	t = xlate(self->dev, 0x600f);
	EXPECT_EQ(XVM_IOMMU_XLATE_MAPPED | XVM_IOMMU_XLATE_READ |
		  XVM_IOMMU_XLATE_MFN, t.flags);
	EXPECT_EQ(pfn_of(p + 31 * PAGE), t.mfn);
	EXPECT_EQ(self->lck0 + 96, locked_kb());
	/* Deleting the slot leaves the mapping to its (pinned) pages. */
	ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x100000, 0, 0));
	EXPECT_EQ(MAPPED_RW, xlate(self->dev, 0x5000).flags);
	EXPECT_OK(unmap_all(self->dev, NULL));
	EXPECT_NOTHING_PINNED();
}

/* RLIMIT_MEMLOCK, as VFIO type1: without CAP_IPC_LOCK the limit holds. */
TEST_F(io, rlimit_memlock)
{
	struct rlimit rl = { 64 << 10, 64 << 10 };
	uint8_t *p = alloc_pages(32);

	NEED_SETUP();
	ATTACH_EDU();
	ASSERT_EQ(0, self->lck0);
	ASSERT_OK(drop_cap(CAP_IPC_LOCK));
	ASSERT_OK(setrlimit(RLIMIT_MEMLOCK, &rl));
	EXPECT_ERR(map_uaddr(self->dev, 0x100, p, 17, RW), ENOMEM);
	EXPECT_NOTHING_PINNED();
	EXPECT_OK(map_uaddr(self->dev, 0x100, p, 16, RW));
	EXPECT_EQ(64, locked_kb());
	EXPECT_ERR(map_uaddr(self->dev, 0x200, p + 16 * PAGE, 1, RW), ENOMEM);
	EXPECT_EQ(16, info(self->dev, XVM_IOMMU_INFO_PINNED));
	EXPECT_OK(unmap_all(self->dev, NULL));
	EXPECT_NOTHING_PINNED();
	EXPECT_OK(map_uaddr(self->dev, 0x200, p + 16 * PAGE, 16, RW));
	EXPECT_OK(detach(self->dev));
	EXPECT_NOTHING_PINNED();
}

/*
 * Physically contiguous runs are handed to the IOMMU whole (2M leaves for
 * hugetlb), and one map call is one IOTLB sync even for scattered pages.
 */
TEST_F(io, runs_and_syncs)
{
	uint64_t runs, syncs, n;
	struct xvm_iommu_translate t;
	uint8_t *p = alloc_pages(512), *h;
	unsigned int i;

	NEED_SETUP();
	ATTACH_EDU();
	runs = info(self->dev, XVM_IOMMU_INFO_RUNS);
	syncs = info(self->dev, XVM_IOMMU_INFO_SYNCS);
	ASSERT_OK(map_uaddr(self->dev, 0x10000, p, 512, RW));
	EXPECT_EQ(syncs + 1, info(self->dev, XVM_IOMMU_INFO_SYNCS));
	n = info(self->dev, XVM_IOMMU_INFO_RUNS) - runs;
	EXPECT_LE(1, n);
	EXPECT_GE(512, n);
	EXPECT_OK(unmap_all(self->dev, NULL));

	set_hugepages(self->hugepages0 + 2);
	h = mmap(NULL, 2 * HUGE_2M, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (h == MAP_FAILED)
		SKIP(return, "no hugetlb pages: %s", strerror(errno));
	memset(h, 1, 2 * HUGE_2M);
	runs = info(self->dev, XVM_IOMMU_INFO_RUNS);
	syncs = info(self->dev, XVM_IOMMU_INFO_SYNCS);
	ASSERT_OK(map_uaddr(self->dev, 0x10000, h, 1024, RW));
	EXPECT_EQ(syncs + 1, info(self->dev, XVM_IOMMU_INFO_SYNCS));
	n = info(self->dev, XVM_IOMMU_INFO_RUNS) - runs;
	EXPECT_LE(1, n);
	EXPECT_GE(2, n) TH_LOG("two 2M pages in %llu runs",
			       (unsigned long long)n);
	for (i = 0; i < 1024; i += 97) {
		t = xlate(self->dev, 0x10000 + i);
		EXPECT_EQ(MAPPED_RW, t.flags);
		EXPECT_EQ(pfn_of(h + i * PAGE), t.mfn);
	}
	EXPECT_EQ(self->lck0 + 4096, locked_kb());
	/* Unmapping the 2M leaves: exactly what was mapped. */
	EXPECT_OK(unmap_all(self->dev, &n));
	EXPECT_EQ(1024, n);
	EXPECT_EQ(0, xlate(self->dev, 0x10000 + 700).flags);
	EXPECT_NOTHING_PINNED();
	munmap(h, 2 * HUGE_2M);
}

/* --------------------------------------------------------------------- */
/* Automatic mode: memory slots mirrored at dfn == gfn                    */

#define ATTACH_MIRROR() ASSERT_OK(attach(self->dev, EDU,		\
					 XVM_IOMMU_ATTACH_MIRROR_SLOTS))

TEST_F(io, mirror_existing_slots)
{
	uint8_t *p = alloc_pages(24), *q = alloc_pages(4);
	struct xvm_iommu_attach got;
	struct xvm_iommu_translate t;
	uint64_t n = 9;

	NEED_SETUP();
	ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x100000, 16 * PAGE,
					(uintptr_t)p));
	ASSERT_OK(xvm_set_memory_region(self->vm, 3, XVM_MEM_READONLY,
					0x300000, 8 * PAGE,
					(uintptr_t)(p + 16 * PAGE)));
	ATTACH_MIRROR();
	EXPECT_EQ(24, info(self->dev, XVM_IOMMU_INFO_PINNED));
	EXPECT_EQ(self->lck0 + 96, locked_kb());
	t = xlate(self->dev, 0x10f);
	EXPECT_EQ(MAPPED_RW | XVM_IOMMU_XLATE_SLOT, t.flags);
	EXPECT_EQ(pfn_of(p + 15 * PAGE), t.mfn);
	EXPECT_EQ(0x100, t.map_dfn);
	EXPECT_EQ(16, t.map_count);
	t = xlate(self->dev, 0x300);
	EXPECT_EQ(XVM_IOMMU_XLATE_MAPPED | XVM_IOMMU_XLATE_READ |
		  XVM_IOMMU_XLATE_SLOT | XVM_IOMMU_XLATE_MFN, t.flags);
	EXPECT_EQ(pfn_of(p + 16 * PAGE), t.mfn);
	EXPECT_EQ(0, xlate(self->dev, 0x110).flags);

	/* Slot mappings belong to the slots. */
	EXPECT_ERR(unmap(self->dev, 0x100, 16, NULL), EBUSY);
	EXPECT_ERR(unmap(self->dev, 0x104, 4, NULL), ENOENT);
	EXPECT_ERR(map_uaddr(self->dev, 0x10f, q, 2, RW), EEXIST);
	EXPECT_OK(map_uaddr(self->dev, 0x110, q, 4, RW));
	EXPECT_OK(unmap_all(self->dev, &n));
	EXPECT_EQ(4, n);
	EXPECT_EQ(MAPPED_RW | XVM_IOMMU_XLATE_SLOT,
		  xlate(self->dev, 0x100).flags);
	EXPECT_EQ(24, info(self->dev, XVM_IOMMU_INFO_PINNED));
	ASSERT_OK(xvm_get_attr(self->dev, XVM_IOMMU_GRP_CTRL,
			       XVM_IOMMU_CTRL_ATTACH, &got));
	EXPECT_EQ(XVM_IOMMU_ATTACH_MIRROR_SLOTS, got.flags);
	EXPECT_OK(detach(self->dev));
	EXPECT_NOTHING_PINNED();
}

TEST_F(io, mirror_create_move_delete)
{
	uint8_t *p = alloc_pages(16);
	struct xvm_iommu_translate t;
	unsigned int i;

	NEED_SETUP();
	ATTACH_MIRROR();
	EXPECT_NOTHING_PINNED();
	ASSERT_OK(xvm_set_memory_region(self->vm, 5, 0, 0x400000, 16 * PAGE,
					(uintptr_t)p));
	EXPECT_EQ(16, info(self->dev, XVM_IOMMU_INFO_PINNED));
	EXPECT_EQ(self->lck0 + 64, locked_kb());
	EXPECT_EQ(self->pins0 + 16, pins());
	EXPECT_EQ(pfn_of(p), xlate(self->dev, 0x400).mfn);

	/* Move, also onto an overlapping range. */
	ASSERT_OK(xvm_set_memory_region(self->vm, 5, 0, 0x800000, 16 * PAGE,
					(uintptr_t)p));
	EXPECT_EQ(0, xlate(self->dev, 0x400).flags);
	ASSERT_OK(xvm_set_memory_region(self->vm, 5, 0, 0x808000, 16 * PAGE,
					(uintptr_t)p));
	EXPECT_EQ(0, xlate(self->dev, 0x800).flags);
	for (i = 0; i < 16; i++) {
		t = xlate(self->dev, 0x808 + i);
		EXPECT_EQ(MAPPED_RW | XVM_IOMMU_XLATE_SLOT, t.flags);
		EXPECT_EQ(pfn_of(p + i * PAGE), t.mfn);
	}
	/* A move re-maps without re-pinning. */
	EXPECT_EQ(16, info(self->dev, XVM_IOMMU_INFO_PINNED));
	EXPECT_EQ(self->lck0 + 64, locked_kb());

	ASSERT_OK(xvm_set_memory_region(self->vm, 5, 0, 0x808000, 0, 0));
	EXPECT_EQ(0, xlate(self->dev, 0x808).flags);
	EXPECT_NOTHING_PINNED();
}

/* A slot that would overlap an explicit mapping is vetoed. */
TEST_F(io, mirror_veto)
{
	uint8_t *p = alloc_pages(8), *q = alloc_pages(8);

	NEED_SETUP();
	ATTACH_MIRROR();
	ASSERT_OK(map_uaddr(self->dev, 0x104, q, 1, RW));
	EXPECT_ERR(xvm_set_memory_region(self->vm, 0, 0, 0x100000, 8 * PAGE,
					 (uintptr_t)p), EEXIST);
	EXPECT_EQ(1, info(self->dev, XVM_IOMMU_INFO_PINNED));
	/* The slot really was not created: the same call works later. */
	ASSERT_OK(unmap_all(self->dev, NULL));
	EXPECT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x100000, 8 * PAGE,
					(uintptr_t)p));
	/* Moves are vetoed too, and the slot stays where it was. */
	ASSERT_OK(map_uaddr(self->dev, 0x204, q, 1, RW));
	EXPECT_ERR(xvm_set_memory_region(self->vm, 0, 0, 0x200000, 8 * PAGE,
					 (uintptr_t)p), EEXIST);
	EXPECT_EQ(MAPPED_RW | XVM_IOMMU_XLATE_SLOT,
		  xlate(self->dev, 0x100).flags);
	EXPECT_EQ(pfn_of(p), xlate(self->dev, 0x100).mfn);
	/* Slots not backed by memory are vetoed (EFAULT). */
	ASSERT_OK(munmap(q + 4 * PAGE, PAGE));
	EXPECT_ERR(xvm_set_memory_region(self->vm, 1, 0, 0x300000, 8 * PAGE,
					 (uintptr_t)q), EFAULT);
	EXPECT_EQ(9, info(self->dev, XVM_IOMMU_INFO_PINNED));
	EXPECT_OK(detach(self->dev));
	EXPECT_NOTHING_PINNED();
	/* Detached: slot changes are no business of xvm-iommu any more. */
	EXPECT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x100000, 0, 0));
	EXPECT_OK(xvm_set_memory_region(self->vm, 1, 0, 0x300000, 4 * PAGE,
					(uintptr_t)q));
	EXPECT_NOTHING_PINNED();
}

/*
 * Two mirroring devices: when the second vetoes a slot, the core reverts
 * the first, which must drop what it had pinned for the slot.
 */
TEST_F(io, mirror_veto_reverts_other_device)
{
	uint8_t *p = alloc_pages(8), *q = alloc_pages(1);
	int dev2 = -1;

	NEED_SETUP();
	NEED_E1000E();
	ATTACH_MIRROR();
	ASSERT_OK(xvm_create_device(self->vm, XVM_DEV_TYPE_IOMMU, 0, &dev2));
	ASSERT_OK(attach(dev2, E1000E, XVM_IOMMU_ATTACH_MIRROR_SLOTS));
	ASSERT_OK(map_uaddr(dev2, 0x107, q, 1, RW));
	EXPECT_ERR(xvm_set_memory_region(self->vm, 0, 0, 0x100000, 8 * PAGE,
					 (uintptr_t)p), EEXIST);
	EXPECT_EQ(0, info(self->dev, XVM_IOMMU_INFO_PINNED));
	EXPECT_EQ(self->lck0 + 4, locked_kb());	/* dev2's one page */
	EXPECT_EQ(self->pins0 + 1, pins());
	EXPECT_EQ(0, xlate(self->dev, 0x100).flags);
	EXPECT_EQ(1, info(dev2, XVM_IOMMU_INFO_PINNED));
	/* Both mirror it once the conflict is gone: pinned twice. */
	ASSERT_OK(unmap_all(dev2, NULL));
	ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x100000, 8 * PAGE,
					(uintptr_t)p));
	EXPECT_EQ(8, info(self->dev, XVM_IOMMU_INFO_PINNED));
	EXPECT_EQ(8, info(dev2, XVM_IOMMU_INFO_PINNED));
	EXPECT_EQ(self->lck0 + 64, locked_kb());
	EXPECT_EQ(xlate(self->dev, 0x103).mfn, xlate(dev2, 0x103).mfn);
	close(dev2);
	EXPECT_EQ(self->lck0 + 32, locked_kb());
	EXPECT_OK(detach(self->dev));
	EXPECT_NOTHING_PINNED();
}

/*
 * Two mirroring devices, and the second one's explicit mapping vetoes
 * every move of the slot.  Whichever allocation of the move fails, the
 * first device still maps the slot where it is and nowhere else: aborting
 * a prepared move cannot fail.
 */
TEST_F(io, mirror_vetoed_move_under_alloc_failure)
{
	uint8_t *p = alloc_pages(8), *q = alloc_pages(1);
	int dev2 = -1, fnth, left = 0, n, r, i;

	NEED_SETUP();
	NEED_E1000E();
	fnth = fault_inject_setup() ? -1 : fail_nth_open();
	if (fnth < 0)
		SKIP(return, "no fail-nth (debug kernel only)");
	ATTACH_MIRROR();
	ASSERT_OK(xvm_create_device(self->vm, XVM_DEV_TYPE_IOMMU, 0, &dev2));
	ASSERT_OK(attach(dev2, E1000E, XVM_IOMMU_ATTACH_MIRROR_SLOTS));
	ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x100000, 8 * PAGE,
					(uintptr_t)p));
	ASSERT_OK(map_uaddr(dev2, 0x407, q, 1, RW));

	for (n = 1; n < 200 && !left; n++) {
		ASSERT_OK(fail_nth_set(fnth, n));
		r = xvm_set_memory_region(self->vm, 0, 0, 0x400000, 8 * PAGE,
					  (uintptr_t)p) ? errno : 0;
		left = fail_nth_left(fnth);
		ASSERT_OK(fail_nth_set(fnth, 0));
		EXPECT_TRUE(r == EEXIST || r == ENOMEM)
			TH_LOG("n=%d: %s", n, strerror(r));
		for (i = 0; i < 8; i++)
			ASSERT_EQ(pfn_of(p + i * PAGE),
				  xlate(self->dev, 0x100 + i).mfn)
				TH_LOG("n=%d: slot frame %d lost", n, i);
		ASSERT_EQ(0, xlate(self->dev, 0x400).flags)
			TH_LOG("n=%d: mapped where the slot is not", n);
		ASSERT_EQ(8, info(self->dev, XVM_IOMMU_INFO_PINNED));
	}
	EXPECT_LT(2, n);	/* at least one failure was injected */
	EXPECT_LT(0, left);	/* and the sweep reached a clean call */
	close(fnth);
	close(dev2);
	EXPECT_OK(detach(self->dev));
	EXPECT_NOTHING_PINNED();
}

/*
 * A move onto an overlapping range is remapped in place at commit; with
 * the n-th allocation failing there, the slot is either mapped at its new
 * place or, counted in SLOTS_LOST, not at all - never at the old place or
 * wrongly - and its next move maps it again.
 */
TEST_F(io, mirror_overlapping_move_under_alloc_failure)
{
	uint8_t *p = alloc_pages(8);
	uint64_t lost, want;
	int fnth, n, i, r;
	long left = 0;

	NEED_SETUP();
	fnth = fault_inject_setup() ? -1 : fail_nth_open();
	if (fnth < 0)
		SKIP(return, "no fail-nth (debug kernel only)");
	ATTACH_MIRROR();
	ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x100000, 8 * PAGE,
					(uintptr_t)p));
	for (n = 1; n < 200 && !left; n++) {
		lost = info(self->dev, XVM_IOMMU_INFO_SLOTS_LOST);
		ASSERT_OK(fail_nth_set(fnth, n));
		r = xvm_set_memory_region(self->vm, 0, 0, 0x104000, 8 * PAGE,
					  (uintptr_t)p) ? errno : 0;
		left = fail_nth_left(fnth);
		ASSERT_OK(fail_nth_set(fnth, 0));
		ASSERT_EQ(0, r) TH_LOG("n=%d: %s", n, strerror(r));
		ASSERT_EQ(0, xlate(self->dev, 0x100).flags) TH_LOG("n=%d", n);
		lost = info(self->dev, XVM_IOMMU_INFO_SLOTS_LOST) - lost;
		for (i = 0; i < 8; i++) {
			want = lost ? 0 : pfn_of(p + i * PAGE);
			ASSERT_EQ(want, xlate(self->dev, 0x104 + i).mfn)
				TH_LOG("n=%d: frame %d (lost %d)", n, i,
				       (int)lost);
		}
		/* Away and back: mapped again either way. */
		ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x400000,
						8 * PAGE, (uintptr_t)p));
		ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x100000,
						8 * PAGE, (uintptr_t)p));
		for (i = 0; i < 8; i++)
			ASSERT_EQ(pfn_of(p + i * PAGE),
				  xlate(self->dev, 0x100 + i).mfn)
				TH_LOG("n=%d: not mapped again", n);
		ASSERT_EQ(8, info(self->dev, XVM_IOMMU_INFO_PINNED));
	}
	EXPECT_LT(0, left);
	close(fnth);
	EXPECT_OK(detach(self->dev));
	EXPECT_NOTHING_PINNED();
}

TEST_F(io, mirror_close_unpins)
{
	uint8_t *p = alloc_pages(16);

	NEED_SETUP();
	ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x100000, 16 * PAGE,
					(uintptr_t)p));
	ATTACH_MIRROR();
	EXPECT_EQ(self->lck0 + 64, locked_kb());
	close(self->dev);
	self->dev = -1;
	/* Unpinned at close; slots keep working. */
	EXPECT_EQ(self->lck0, locked_kb());
	EXPECT_EQ(self->pins0, pins());
	EXPECT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x200000, 16 * PAGE,
					(uintptr_t)p));
	EXPECT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x200000, 0, 0));
	close(self->vm);
	self->vm = -1;
	EXPECT_EQ(self->lck0, locked_kb());
}

/* --------------------------------------------------------------------- */
/* The edu's DMA through the domain                                       */

#define EDU_OPEN() do {							\
	if (edu_open(&self->edu))					\
		SKIP(return, "edu not usable at %s", EDU_BDF);		\
} while (0)

static void fill(uint8_t *p, uint8_t seed)
{
	unsigned int i;

	for (i = 0; i < EDU_LEN; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* The device writes a mapped frame: it lands in the VMM's memory. */
TEST_F(io, edu_dma_lands_then_faults_after_unmap)
{
	uint8_t *src = alloc_pages(1), *dst = alloc_pages(1), want[EDU_LEN];
	int kmsg;

	NEED_SETUP();
	ATTACH_EDU();
	EDU_OPEN();
	fill(src, 3);
	memcpy(want, src, EDU_LEN);
	memset(dst, 0, PAGE);
	ASSERT_OK(map_uaddr(self->dev, 0x100, src, 1, XVM_IOMMU_MAP_READ));
	ASSERT_OK(map_uaddr(self->dev, 0x101, dst, 1, RW));
	ASSERT_OK(edu_load(&self->edu, 0x100000));
	ASSERT_OK(edu_store(&self->edu, 0x101000));
	EXPECT_EQ(0, memcmp(want, dst, EDU_LEN));
	EXPECT_EQ(0, dst[EDU_LEN]);

	/* Unmapped: the same DMA does not land; the IOMMU faults. */
	ASSERT_OK(unmap(self->dev, 0x101, 1, NULL));
	memset(dst, 0, PAGE);
	kmsg = kmsg_open_fault();
	ASSERT_LE(0, kmsg);
	ASSERT_OK(edu_store(&self->edu, 0x101000));
	EXPECT_EQ(0, dst[0] | dst[1] | dst[EDU_LEN - 1]);
	EXPECT_TRUE(iommu_fault_find(kmsg, EDU_BDF, false))
		TH_LOG("no IOMMU fault for 00:04.0 in the kernel log");
	close(kmsg);
	EXPECT_OK(unmap_all(self->dev, NULL));
	EXPECT_NOTHING_PINNED();
}

/*
 * A read-only frame refuses device writes.  The write comes first: QEMU's
 * intel-iommu drops a write that hits a cached read-only IOTLB entry
 * without recording a fault, so the frame must not be read before.
 */
TEST_F(io, edu_read_only_refuses_writes)
{
	uint8_t *ro = alloc_pages(1), *rw = alloc_pages(1), saved[EDU_LEN];
	int kmsg;

	NEED_SETUP();
	ATTACH_EDU();
	EDU_OPEN();
	fill(ro, 9);
	memcpy(saved, ro, EDU_LEN);
	memset(rw, 0xee, PAGE);
	ASSERT_OK(map_uaddr(self->dev, 0x100, ro, 1, XVM_IOMMU_MAP_READ));
	ASSERT_OK(map_uaddr(self->dev, 0x101, rw, 1, RW));
	ASSERT_OK(edu_load(&self->edu, 0x101000));	/* buffer = 0xee */
	kmsg = kmsg_open_fault();
	ASSERT_LE(0, kmsg);
	ASSERT_OK(edu_store(&self->edu, 0x100000));
	EXPECT_EQ(0, memcmp(saved, ro, EDU_LEN))
		TH_LOG("the device wrote a read-only frame");
	EXPECT_TRUE(iommu_fault_find(kmsg, EDU_BDF, true))
		TH_LOG("no IOMMU write fault for 00:04.0 in the kernel log");
	close(kmsg);
	/* The device reads the read-only frame and writes the writable one. */
	ASSERT_OK(edu_load(&self->edu, 0x100000));
	ASSERT_OK(edu_store(&self->edu, 0x101000));
	EXPECT_EQ(0, memcmp(saved, rw, EDU_LEN));
	EXPECT_EQ(0xee, rw[EDU_LEN]);
}

/* Automatic mode: moving a slot moves the device's view of it. */
TEST_F(io, edu_mirror_slot_move)
{
	uint8_t *m = alloc_pages(4), want[EDU_LEN];
	int kmsg;

	NEED_SETUP();
	ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x200000, 4 * PAGE,
					(uintptr_t)m));
	ATTACH_MIRROR();
	EDU_OPEN();
	memset(m, 0, 4 * PAGE);
	fill(m, 17);
	memcpy(want, m, EDU_LEN);
	ASSERT_OK(edu_load(&self->edu, 0x200000));
	ASSERT_OK(edu_store(&self->edu, 0x201000));
	EXPECT_EQ(0, memcmp(want, m + PAGE, EDU_LEN));

	ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x600000, 4 * PAGE,
					(uintptr_t)m));
	ASSERT_OK(edu_store(&self->edu, 0x602000));
	EXPECT_EQ(0, memcmp(want, m + 2 * PAGE, EDU_LEN));
	kmsg = kmsg_open_fault();
	ASSERT_LE(0, kmsg);
	ASSERT_OK(edu_store(&self->edu, 0x203000));
	EXPECT_EQ(0, m[3 * PAGE] | m[3 * PAGE + 1]);
	EXPECT_TRUE(iommu_fault_find(kmsg, EDU_BDF, false));
	close(kmsg);
}


/* --------------------------------------------------------------------- */
/* Saved state: XVM_IOMMU_GET_STATE, docs/api.md "State (save and restore)" */

#define NR_SAVED	8

struct saved_io {
	struct xvm_iommu_get_state st;
	struct xvm_iommu_map map[NR_SAVED];
};

/* XVM_IOMMU_GET_STATE into s, with room for NR_SAVED records. */
static int state_get(int dev, struct saved_io *s)
{
	memset(s, 0, sizeof(*s));
	memset(s->map, 0xa5, sizeof(s->map));
	s->st.version = XVM_IOMMU_STATE_VERSION;
	s->st.count = NR_SAVED;
	s->st.maps = (uintptr_t)s->map;
	return xvm_iommu_get_state(dev, &s->st);
}

/*
 * Restores s into dev, a fresh device: attach as saved, then every record
 * as XVM_IOMMU_MAP takes it.  Returns 0 or the errno.
 */
static int state_restore(int dev, const struct saved_io *s)
{
	uint64_t i;

	if (!(s->st.state & XVM_IOMMU_STATE_ATTACHED))
		return 0;
	if (attach_raw(dev, &s->st.attach))
		return errno;
	for (i = 0; i < s->st.count; i++) {
		struct xvm_iommu_map m = s->map[i];

		if (ioctl(dev, XVM_IOMMU_MAP, &m))
			return errno;
	}
	return 0;
}

/* The same saved state: header (but maps) and the records. */
static int state_same(const struct saved_io *a, const struct saved_io *b)
{
	struct xvm_iommu_get_state x = a->st, y = b->st;

	x.maps = y.maps = 0;
	return !memcmp(&x, &y, sizeof(x)) &&
	       !memcmp(a->map, b->map, a->st.count * sizeof(a->map[0]));
}

/* A fresh device of the fixture's VM in place of self->dev. */
#define FRESH_DEVICE() do {						\
	close_fd(&self->dev);						\
	ASSERT_OK(xvm_create_device(self->vm, XVM_DEV_TYPE_IOMMU, 0,	\
				    &self->dev));			\
} while (0)

/* The records of state_report_and_recreate's five mappings, of p. */
static void check_five_records(struct __test_metadata *_metadata,
			       const struct saved_io *s, const uint8_t *p)
{
	static const struct xvm_iommu_map want[5] = {
		{ .flags = XVM_IOMMU_MAP_READ | XVM_IOMMU_MAP_SRC_UADDR,
		  .dfn = 0x1000, .count = 2 },
		{ .flags = XVM_IOMMU_MAP_WRITE | XVM_IOMMU_MAP_SRC_UADDR,
		  .dfn = 0x2000, .count = 1 },
		{ .flags = RW | XVM_IOMMU_MAP_SRC_UADDR,
		  .dfn = 0x3000, .count = 4 },
		{ .flags = RW | XVM_IOMMU_MAP_SRC_GFN,
		  .dfn = 0x4000, .count = 2, .gfn = 0x100 },
		{ .flags = XVM_IOMMU_MAP_READ | XVM_IOMMU_MAP_SRC_GFN,
		  .dfn = 0x5000, .count = 3, .gfn = 0x102 },
	};
	const uint8_t *src[5] = { p + 4 * PAGE, p + 6 * PAGE, p };
	unsigned int i;

	for (i = 0; i < 5; i++) {
		struct xvm_iommu_map w = want[i];

		w.uaddr = (uintptr_t)src[i];
		EXPECT_EQ(0, memcmp(&w, &s->map[i], sizeof(w)))
			TH_LOG("record %u: flags %#x dfn %#llx count %llu gfn %#llx uaddr %#llx",
			       i, s->map[i].flags,
			       (unsigned long long)s->map[i].dfn,
			       (unsigned long long)s->map[i].count,
			       (unsigned long long)s->map[i].gfn,
			       (unsigned long long)s->map[i].uaddr);
	}
}

/*
 * Three uaddr mappings (read, write, read-write) and two gfn mappings (one
 * read-only), mapped out of dfn order: the report lists them in dfn order,
 * as given; unmapped, it is empty; restored into a fresh device from it,
 * the report is the same and every frame translates to the same page.
 */
TEST_F(io, state_report_and_recreate)
{
	uint8_t *p = alloc_pages(16), *slot = alloc_pages(8);
	struct saved_io s, again;
	uint64_t mfn[16], i, n = 0;
	uint32_t version = 0;

	NEED_SETUP();
	ASSERT_OK(xvm_get_attr(self->dev, XVM_IOMMU_GRP_INFO,
			       XVM_IOMMU_INFO_STATE_VERSION, &version));
	EXPECT_EQ(XVM_IOMMU_STATE_VERSION, version);
	ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x100000, 8 * PAGE,
					(uintptr_t)slot));
	ATTACH_EDU();
	ASSERT_OK(map_uaddr(self->dev, 0x3000, p, 4, RW));
	ASSERT_OK(map_uaddr(self->dev, 0x1000, p + 4 * PAGE, 2,
			    XVM_IOMMU_MAP_READ));
	ASSERT_OK(map_uaddr(self->dev, 0x2000, p + 6 * PAGE, 1,
			    XVM_IOMMU_MAP_WRITE));
	ASSERT_OK(map_gfn(self->dev, 0x5000, 0x102, 3, XVM_IOMMU_MAP_READ));
	ASSERT_OK(map_gfn(self->dev, 0x4000, 0x100, 2, RW));
	for (i = 0; i < 4; i++)
		mfn[i] = xlate(self->dev, 0x3000 + i).mfn;

	ASSERT_OK(state_get(self->dev, &s));
	EXPECT_EQ(XVM_IOMMU_STATE_VERSION, s.st.version);
	EXPECT_EQ(XVM_IOMMU_STATE_ATTACHED, s.st.state);
	EXPECT_EQ(EDU->devfn, s.st.attach.devfn);
	EXPECT_EQ(EDU->bus, s.st.attach.bus);
	EXPECT_EQ(0, s.st.attach.flags);
	EXPECT_EQ(0, s.st.slot_maps);
	EXPECT_EQ(12, s.st.mapped);
	EXPECT_EQ(12, info(self->dev, XVM_IOMMU_INFO_MAPPED));
	ASSERT_EQ(5, s.st.count);
	EXPECT_EQ(0, s.st.reserved[0] | s.st.reserved[1] | s.st.pad);
	check_five_records(_metadata, &s, p);
	/* Past the count, the array is untouched. */
	EXPECT_EQ(0xa5a5a5a5u, s.map[5].flags);

	EXPECT_OK(unmap_all(self->dev, &n));
	EXPECT_EQ(12, n);
	ASSERT_OK(state_get(self->dev, &again));
	EXPECT_EQ(0, again.st.count);
	EXPECT_EQ(0, again.st.mapped);
	EXPECT_EQ(XVM_IOMMU_STATE_ATTACHED, again.st.state);

	/* Into a fresh device (the old one gives the group back). */
	FRESH_DEVICE();
	ASSERT_EQ(0, state_restore(self->dev, &s));
	ASSERT_OK(state_get(self->dev, &again));
	EXPECT_TRUE(state_same(&s, &again));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(mfn[i], xlate(self->dev, 0x3000 + i).mfn);
	EXPECT_EQ(pfn_of(slot + PAGE), xlate(self->dev, 0x4001).mfn);
	EXPECT_EQ(XVM_IOMMU_XLATE_MAPPED | XVM_IOMMU_XLATE_READ |
		  XVM_IOMMU_XLATE_MFN, xlate(self->dev, 0x5002).flags);
	EXPECT_OK(detach(self->dev));
	EXPECT_NOTHING_PINNED();
}

/*
 * Automatic mode is state too: the attach flag and the count of slot
 * mappings are in the header, the slot mappings themselves are not
 * records (the slots re-create them at attach).
 */
TEST_F(io, state_mirror_slots)
{
	uint8_t *p = alloc_pages(24), *q = alloc_pages(2);
	struct saved_io s, again;

	NEED_SETUP();
	ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x100000, 16 * PAGE,
					(uintptr_t)p));
	ASSERT_OK(xvm_set_memory_region(self->vm, 2, XVM_MEM_READONLY,
					0x300000, 8 * PAGE,
					(uintptr_t)(p + 16 * PAGE)));
	ATTACH_MIRROR();
	ASSERT_OK(map_uaddr(self->dev, 0x1000, q, 2, RW));
	ASSERT_OK(state_get(self->dev, &s));
	EXPECT_EQ(XVM_IOMMU_ATTACH_MIRROR_SLOTS, s.st.attach.flags);
	EXPECT_EQ(2, s.st.slot_maps);
	EXPECT_EQ(2, s.st.mapped);
	ASSERT_EQ(1, s.st.count);
	EXPECT_EQ(0x1000, s.map[0].dfn);

	FRESH_DEVICE();
	ASSERT_EQ(0, state_restore(self->dev, &s));
	ASSERT_OK(state_get(self->dev, &again));
	EXPECT_TRUE(state_same(&s, &again));
	EXPECT_EQ(MAPPED_RW | XVM_IOMMU_XLATE_SLOT,
		  xlate(self->dev, 0x10f).flags);
	EXPECT_EQ(26, info(self->dev, XVM_IOMMU_INFO_MAPPED));
}

/*
 * The edu's DMA goes through the re-created mappings: it reads the
 * read-only frame and writes the writable one of a device restored from
 * the report, and cannot write the read-only one.  IOVAs no other test
 * uses: a new domain may get an old one's id.
 */
TEST_F(io, state_edu_dma_through_recreated)
{
	uint8_t *src = alloc_pages(1), *dst = alloc_pages(2), want[EDU_LEN];
	struct saved_io s;

	NEED_SETUP();
	ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, 0x800000, 2 * PAGE,
					(uintptr_t)dst));
	ATTACH_EDU();
	ASSERT_OK(map_uaddr(self->dev, 0x7100, src, 1, XVM_IOMMU_MAP_READ));
	ASSERT_OK(map_gfn(self->dev, 0x7200, 0x801, 1, RW));
	ASSERT_OK(state_get(self->dev, &s));
	ASSERT_EQ(2, s.st.count);
	FRESH_DEVICE();
	ASSERT_EQ(0, state_restore(self->dev, &s));

	EDU_OPEN();
	fill(src, 41);
	memcpy(want, src, EDU_LEN);
	memset(dst, 0xee, 2 * PAGE);
	/*
	 * The write first (see edu_read_only_refuses_writes).  Its fault
	 * record is not looked for: the kernel rate-limits them (10 lines in
	 * 5 s) and the earlier edu tests may have used that up.
	 */
	ASSERT_OK(edu_load(&self->edu, 0x7200000));	/* buffer = 0xee */
	ASSERT_OK(edu_store(&self->edu, 0x7100000));
	EXPECT_EQ(0, memcmp(want, src, EDU_LEN))
		TH_LOG("the device wrote a restored read-only frame");

	memset(dst, 0, 2 * PAGE);
	ASSERT_OK(edu_load(&self->edu, 0x7100000));
	ASSERT_OK(edu_store(&self->edu, 0x7200000));
	EXPECT_EQ(0, memcmp(want, dst + PAGE, EDU_LEN));
	EXPECT_EQ(0, dst[PAGE + EDU_LEN] | dst[0]);
}

/* One field of an otherwise good request that makes it EINVAL (k-th). */
static int state_bad_field(unsigned int k, struct xvm_iommu_get_state *st)
{
	switch (k) {
	case 0:
		st->version = 0;
		break;
	case 1:
		st->version = XVM_IOMMU_STATE_VERSION + 1;
		break;
	case 2:
		st->flags = 1;
		break;
	case 3:
		st->flags = 1u << 31;
		break;
	case 4:
		st->pad = 1;
		break;
	case 5:
		st->reserved[0] = 1;
		break;
	case 6:
		st->reserved[1] = 1ULL << 63;
		break;
	default:
		return 0;
	}
	return 1;
}

/*
 * Errnos: EINVAL for a bad version, flag or reserved field, with nothing
 * written; EFAULT for a bad array or argument; ENOTTY for another size.
 * A detached device, or one with no explicit mapping, reports none.
 */
TEST_F(io, state_errors)
{
	uint8_t *p = alloc_pages(3);
	struct xvm_iommu_get_state st;
	struct saved_io s;
	unsigned int k;

	NEED_SETUP();
	ASSERT_OK(state_get(self->dev, &s));
	EXPECT_EQ(0, s.st.state);
	EXPECT_EQ(0, s.st.count);
	EXPECT_EQ(0, s.st.attach.devfn | s.st.attach.bus);

	ATTACH_EDU();
	ASSERT_OK(map_uaddr(self->dev, 0x10, p, 1, RW));
	ASSERT_OK(map_uaddr(self->dev, 0x20, p + PAGE, 1, RW));
	ASSERT_OK(map_uaddr(self->dev, 0x30, p + 2 * PAGE, 1, RW));

	for (k = 0; ; k++) {
		ASSERT_OK(state_get(self->dev, &s));
		st = s.st;
		if (!state_bad_field(k, &st))
			break;
		st.count = NR_SAVED;
		memset(s.map, 0xa5, sizeof(s.map));
		errno = 0;
		EXPECT_EQ(-1, xvm_iommu_get_state(self->dev, &st))
			TH_LOG("case %u", k);
		EXPECT_EQ(EINVAL, errno) TH_LOG("case %u", k);
		EXPECT_EQ(NR_SAVED, st.count) TH_LOG("case %u", k);
		EXPECT_EQ(0xa5a5a5a5u, s.map[0].flags) TH_LOG("case %u", k);
	}
	EXPECT_EQ(7, k);

	/* Bad pointers. */
	st = s.st;
	st.count = NR_SAVED;
	st.maps = 8;
	EXPECT_ERR(xvm_iommu_get_state(self->dev, &st), EFAULT);
	st.maps = (uintptr_t)s.map;
	EXPECT_ERR(xvm_iommu_get_state(self->dev, (void *)8), EFAULT);
	EXPECT_ERR(ioctl(self->dev, _IOWR(XVMIO, 0xe4, uint64_t), &st), ENOTTY);

	/* Nothing explicit: no record, the array is not touched. */
	EXPECT_OK(unmap_all(self->dev, NULL));
	st.maps = 8;
	EXPECT_OK(xvm_iommu_get_state(self->dev, &st));
	EXPECT_EQ(0, st.count);
	EXPECT_NOTHING_PINNED();
}

/*
 * Too small an array: ENOSPC with the count needed (and the header)
 * written back and the array untouched.  The out fields are ignored on
 * input: the same struct, given again, fills the array.
 */
TEST_F(io, state_enospc_then_retry)
{
	uint8_t *p = alloc_pages(3);
	struct xvm_iommu_get_state st;
	struct saved_io s;

	NEED_SETUP();
	ATTACH_EDU();
	ASSERT_OK(map_uaddr(self->dev, 0x10, p, 1, RW));
	ASSERT_OK(map_uaddr(self->dev, 0x20, p + PAGE, 1, RW));
	ASSERT_OK(map_uaddr(self->dev, 0x30, p + 2 * PAGE, 1, RW));

	/* Too small: the count needed, nothing written. */
	memset(&s, 0, sizeof(s));
	memset(s.map, 0xa5, sizeof(s.map));
	st = (struct xvm_iommu_get_state){
		.version = XVM_IOMMU_STATE_VERSION, .count = 2,
		.maps = (uintptr_t)s.map,
	};
	EXPECT_ERR(xvm_iommu_get_state(self->dev, &st), ENOSPC);
	EXPECT_EQ(3, st.count);
	EXPECT_EQ(3, st.mapped);
	EXPECT_EQ(XVM_IOMMU_STATE_ATTACHED, st.state);
	EXPECT_EQ(EDU->devfn, st.attach.devfn);
	EXPECT_EQ(0xa5a5a5a5u, s.map[0].flags);
	/* The same struct again: room for the count it was told. */
	EXPECT_OK(xvm_iommu_get_state(self->dev, &st));
	EXPECT_EQ(3, st.count);
	EXPECT_EQ(0x30, s.map[2].dfn);
	EXPECT_EQ(0xa5a5a5a5u, s.map[3].flags);
	st.count = 0;
	st.maps = 0;
	EXPECT_ERR(xvm_iommu_get_state(self->dev, &st), ENOSPC);
	EXPECT_EQ(3, st.count);
	EXPECT_OK(unmap_all(self->dev, NULL));
	EXPECT_NOTHING_PINNED();
}

TEST_HARNESS_MAIN
