// SPDX-License-Identifier: GPL-2.0
/*
 * core_test: the xvm core contract - /dev/xvm, VM, vCPU, memory slots,
 * device creation and attributes, the test device and the MMIO bus.
 *
 * Every errno and value here is the one docs/api.md promises.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "xvm_harness.h"
#include "xvm_fixture.h"
#include "libxvm.h"

#define PAGE		4096ULL
#define REG_BASE	0x10000000ULL	/* test regions live here */
#define REG_SIZE	0x1000ULL
#define KERNEL_ADDR	0xffff888000000000ULL
#define BAD_PTR		((void *)1)

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* Raw XVM_MMIO: returns the ioctl result, fills *m. */
static int mmio_raw(int vcpufd, struct xvm_mmio *m)
{
	return ioctl(vcpufd, XVM_MMIO, m);
}

static struct xvm_mmio mk_acc(uint64_t addr, uint32_t len, int write,
			      uint64_t data)
{
	struct xvm_mmio m;

	memset(&m, 0, sizeof(m));
	m.addr = addr;
	m.len = len;
	m.flags = write ? XVM_MMIO_WRITE : 0;
	m.data = data;
	m.result = 0xdead;
	return m;
}

static int mmio_batch_raw(int vcpufd, struct xvm_mmio *acc, uint32_t count,
			  uint32_t *done, uint64_t reserved)
{
	struct xvm_mmio_batch b;
	int ret;

	memset(&b, 0, sizeof(b));
	b.accesses = (uint64_t)(uintptr_t)acc;
	b.count = count;
	b.done = 0xfeedu;
	b.reserved = reserved;
	ret = ioctl(vcpufd, XVM_MMIO_BATCH, &b);
	if (done)
		*done = b.done;
	return ret;
}

static int attr_raw(int fd, unsigned long req, uint32_t flags, uint32_t group,
		    uint64_t attr, void *val)
{
	struct xvm_device_attr a = {
		.flags = flags, .group = group, .attr = attr,
		.addr = (uint64_t)(uintptr_t)val,
	};

	return ioctl(fd, req, &a);
}

/* The lowest free fd number: shows whether a call installed an fd. */
static int next_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* --------------------------------------------------------------------- */
/* /dev/xvm                                                               */

/*
 * xvm.ko carries no KUnit suite: on a kernel with KUnit, loading it would
 * run the tests and taint the kernel (TAINT_TEST).  They live in
 * xvm-kunit.ko, which only the debug lane loads.
 */
TEST(no_kunit_suite_in_xvm_ko)
{
	if (access("/sys/module/xvm/sections", F_OK))
		SKIP(return, "no /sys/module/xvm/sections");
	EXPECT_NE(0, access("/sys/module/xvm/sections/.kunit_test_suites",
			    F_OK));
	EXPECT_EQ(ENOENT, errno);
}

TEST(api_version)
{
	int fd = xvm_open();

	ASSERT_LE(0, fd) TH_LOG("open %s: %s", XVM_DEV_PATH, strerror(errno));
	EXPECT_EQ(XVM_API_VERSION, xvm_get_api_version(fd));
	EXPECT_EQ(1, xvm_get_api_version(fd));
	close(fd);
}

TEST(create_vm_types)
{
	static const unsigned long ok[] = { 0, 32, 33, 40, 48, 52 };
	static const unsigned long bad[] = {
		1, 12, 31, 53, 64, 0xff, 0x100, 0x128, 0x8000000000000028UL,
		(1UL << 32) | 40, ~0UL,
	};
	unsigned int i;
	int fd = xvm_open();

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		int vm = xvm_create_vm(fd, ok[i]);

		EXPECT_LE(0, vm) TH_LOG("type %#lx: %s", ok[i], strerror(errno));
		if (vm >= 0)
			close(vm);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		EXPECT_EQ(-1, xvm_create_vm(fd, bad[i])) TH_LOG("type %#lx", bad[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("type %#lx: %s", bad[i],
						strerror(errno));
	}
	close(fd);
}

/* The VM's physical address size bounds memory slots: check each edge. */
TEST(vm_phys_bits_limit_memslots)
{
	static const struct { unsigned long type; unsigned int bits; } v[] = {
		{ 0, 40 }, { 32, 32 }, { 40, 40 }, { 44, 44 }, { 52, 52 },
	};
	unsigned int i;
	void *mem;
	int fd = xvm_open();

	ASSERT_LE(0, fd);
	mem = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		uint64_t lim = 1ULL << v[i].bits;
		uint64_t ua = (uint64_t)(uintptr_t)mem;
		int vm = xvm_create_vm(fd, v[i].type);

		ASSERT_LE(0, vm);
		/* ends exactly at the limit: fine */
		EXPECT_OK(xvm_set_memory_region(vm, 0, 0, lim - PAGE, PAGE, ua));
		/* starts at the limit */
		EXPECT_ERR(xvm_set_memory_region(vm, 1, 0, lim, PAGE, ua), EINVAL);
		/* crosses the limit */
		EXPECT_ERR(xvm_set_memory_region(vm, 1, 0, lim - PAGE, 2 * PAGE, ua),
			   EINVAL);
		close(vm);
	}
	munmap(mem, 2 * PAGE);
	close(fd);
}

static void check_caps(struct __test_metadata *_metadata, int fd)
{
	static const struct { long cap; int val; } caps[] = {
		{ XVM_CAP_NR_VCPUS, 1024 },
		{ XVM_CAP_MAX_VCPUS, 1024 },
		{ XVM_CAP_MAX_VCPU_ID, 1024 },
		{ XVM_CAP_NR_MEMSLOTS, 256 },
		{ XVM_CAP_MAX_PHYS_ADDR_BITS, 52 },
		{ XVM_CAP_MMIO_BATCH, 1024 },
		{ XVM_CAP_MAX_MMIO_REGIONS, 4096 },
		{ XVM_CAP_DEVICE_CTRL, 1 },
		{ XVM_CAP_EVTCHN, 4096 },
		{ XVM_CAP_POLL_MAX_PORTS, 1024 },
		{ XVM_CAP_STATS_FD, 1 },
		{ XVM_CAP_HALT_POLL, 1 },
		{ XVM_CAP_VCPU_MMAP, 4096 },	/* the page size, on x86-64 */
		{ XVM_CAP_VM_ID, 1 },
		{ XVM_CAP_OWNER_TRANSFER, 1 },
		/* unknown capabilities: 0 */
		{ 0, 0 }, { 16, 0 }, { 100, 0 }, { 0x7fffffff, 0 },
		{ -1, 0 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(caps); i++)
		EXPECT_EQ(caps[i].val, xvm_check_extension(fd, caps[i].cap))
			TH_LOG("cap %ld (%s)", caps[i].cap, strerror(errno));
}

TEST(check_extension_system)
{
	int fd = xvm_open();

	ASSERT_LE(0, fd);
	check_caps(_metadata, fd);
	close(fd);
}

TEST(check_extension_vm)
{
	int fd = xvm_open(), vm;

	ASSERT_LE(0, fd);
	vm = xvm_create_vm(fd, 0);
	ASSERT_LE(0, vm);
	close(fd);		/* the VM fd answers on its own */
	check_caps(_metadata, vm);
	close(vm);
}

/* --------------------------------------------------------------------- */
/* A VM with one vCPU and one test device                                 */

FIXTURE(vm) {
	int xvm, vm, vcpu, dev;
	void *mem;		/* 64 pages for memory slots */
};

FIXTURE_SETUP(vm)
{
	self->vcpu = self->dev = -1;
	ASSERT_OK(fixture_vm_open(&self->xvm, &self->vm, 0));
	ASSERT_OK(fixture_vcpus(self->vm, &self->vcpu, 1));
	if (fixture_testdev(self->vm, &self->dev, 0, 0) && errno == ENODEV)
		SETUP_SKIP("xvm-testdev not loaded");
	ASSERT_LE(0, self->dev) TH_LOG("CREATE_DEVICE(TEST): %s (xvm-testdev loaded?)",
				       strerror(errno));
	self->mem = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
}

FIXTURE_TEARDOWN(vm)
{
	if (self->mem && self->mem != MAP_FAILED)
		munmap(self->mem, 64 * PAGE);
	close_fd(&self->dev);
	close_fd(&self->vcpu);
	close_fd(&self->vm);
	close_fd(&self->xvm);
}

/* Unknown ioctls, and known numbers with the wrong direction or size. */
TEST_F(vm, unknown_ioctls_enotty)
{
	struct xvm_mmio m;
	struct xvm_device_attr a;
	uint64_t buf[16];

	memset(buf, 0, sizeof(buf));
	memset(&m, 0, sizeof(m));
	memset(&a, 0, sizeof(a));

	/* /dev/xvm */
	EXPECT_ERR(ioctl(self->xvm, _IO(XVMIO, 0x7f), 0), ENOTTY);
	EXPECT_ERR(ioctl(self->xvm, _IOR(XVMIO, 0x00, int), buf), ENOTTY);
	EXPECT_ERR(ioctl(self->xvm, _IOW(XVMIO, 0x01, __u64), buf), ENOTTY);
	EXPECT_ERR(ioctl(self->xvm, _IO(0xAE, 0x00), 0), ENOTTY); /* KVM's */
	EXPECT_ERR(ioctl(self->xvm, XVM_CREATE_VCPU, 0), ENOTTY);
	EXPECT_ERR(ioctl(self->xvm, XVM_MMIO, &m), ENOTTY);
	EXPECT_ERR(ioctl(self->xvm, XVM_SET_DEVICE_ATTR, &a), ENOTTY);
	EXPECT_ERR(ioctl(self->xvm, XVM_EVTCHN_RESET, 0), ENOTTY);

	/* VM fd */
	EXPECT_ERR(ioctl(self->vm, _IO(XVMIO, 0x7f), 0), ENOTTY);
	EXPECT_ERR(ioctl(self->vm, _IOR(XVMIO, 0x41, int), buf), ENOTTY);
	EXPECT_ERR(ioctl(self->vm, _IOR(XVMIO, 0x46,
					struct xvm_userspace_memory_region), buf),
		   ENOTTY);
	EXPECT_ERR(ioctl(self->vm, _IOW(XVMIO, 0x46, __u64), buf), ENOTTY);
	EXPECT_ERR(ioctl(self->vm, _IOR(XVMIO, 0xe0, struct xvm_create_device), buf),
		   ENOTTY);
	EXPECT_ERR(ioctl(self->vm, XVM_CREATE_VM, 0), ENOTTY);
	EXPECT_ERR(ioctl(self->vm, XVM_MMIO, &m), ENOTTY);
	EXPECT_ERR(ioctl(self->vm, XVM_SET_DEVICE_ATTR, &a), ENOTTY);

	/* vCPU fd */
	EXPECT_ERR(ioctl(self->vcpu, _IO(XVMIO, 0x7f), 0), ENOTTY);
	EXPECT_ERR(ioctl(self->vcpu, _IOW(XVMIO, 0x80, struct xvm_mmio), &m), ENOTTY);
	EXPECT_ERR(ioctl(self->vcpu, _IOR(XVMIO, 0x80, struct xvm_mmio), &m), ENOTTY);
	EXPECT_ERR(ioctl(self->vcpu, _IOWR(XVMIO, 0x80, __u64), buf), ENOTTY);
	EXPECT_ERR(ioctl(self->vcpu, _IOWR(XVMIO, 0x81, __u64), buf), ENOTTY);
	EXPECT_ERR(ioctl(self->vcpu, XVM_CREATE_VCPU, 1), ENOTTY);
	EXPECT_ERR(ioctl(self->vcpu, XVM_CHECK_EXTENSION, XVM_CAP_NR_VCPUS), ENOTTY);
	EXPECT_ERR(ioctl(self->vcpu, XVM_SET_DEVICE_ATTR, &a), ENOTTY);
	EXPECT_ERR(ioctl(self->vcpu, XVM_EVTCHN_RESET, 0), ENOTTY);

	/* device fd */
	EXPECT_ERR(ioctl(self->dev, _IO(XVMIO, 0x7f), 0), ENOTTY);
	EXPECT_ERR(ioctl(self->dev, _IOR(XVMIO, 0xe1, struct xvm_device_attr), &a),
		   ENOTTY);
	EXPECT_ERR(ioctl(self->dev, _IOW(XVMIO, 0xe2, __u64), buf), ENOTTY);
	EXPECT_ERR(ioctl(self->dev, XVM_MMIO, &m), ENOTTY);
	EXPECT_ERR(ioctl(self->dev, XVM_CREATE_VCPU, 1), ENOTTY);
	EXPECT_ERR(ioctl(self->dev, XVM_CREATE_DEVICE, buf), ENOTTY);
}

/* --------------------------------------------------------------------- */
/* vCPUs                                                                  */

TEST_F(vm, create_vcpu_ids)
{
	int a, b;

	a = xvm_create_vcpu(self->vm, 1023);
	ASSERT_LE(0, a) TH_LOG("id 1023: %s", strerror(errno));
	b = xvm_create_vcpu(self->vm, 1);
	ASSERT_LE(0, b);
	EXPECT_NE(a, b);
	EXPECT_NE(self->vcpu, a);

	EXPECT_ERR(xvm_create_vcpu(self->vm, 1024), EINVAL);
	EXPECT_ERR(xvm_create_vcpu(self->vm, 4096), EINVAL);
	EXPECT_ERR(xvm_create_vcpu(self->vm, 1UL << 32), EINVAL); /* not truncated */
	EXPECT_ERR(xvm_create_vcpu(self->vm, ~0UL), EINVAL);
	EXPECT_ERR(xvm_create_vcpu(self->vm, 0), EEXIST);
	EXPECT_ERR(xvm_create_vcpu(self->vm, 1), EEXIST);
	EXPECT_ERR(xvm_create_vcpu(self->vm, 1023), EEXIST);

	/* vCPU ids are per VM */
	{
		int vm2 = xvm_create_vm(self->xvm, 0), c;

		ASSERT_LE(0, vm2);
		c = xvm_create_vcpu(vm2, 0);
		EXPECT_LE(0, c) TH_LOG("id 0 in a second VM: %s", strerror(errno));
		if (c >= 0)
			close(c);
		close(vm2);
	}
	close(a);
	close(b);
}

/* --------------------------------------------------------------------- */
/* Memory slots                                                           */

static int memslot_raw(int vm, struct xvm_userspace_memory_region *r)
{
	return ioctl(vm, XVM_SET_USER_MEMORY_REGION, r);
}

#define UA(self, pg)	((uint64_t)(uintptr_t)(self)->mem + (pg) * PAGE)

TEST_F(vm, memslot_efault)
{
	void *none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, none);
	EXPECT_ERR(ioctl(self->vm, XVM_SET_USER_MEMORY_REGION, NULL), EFAULT);
	EXPECT_ERR(ioctl(self->vm, XVM_SET_USER_MEMORY_REGION, BAD_PTR), EFAULT);
	EXPECT_ERR(ioctl(self->vm, XVM_SET_USER_MEMORY_REGION, none), EFAULT);
	EXPECT_ERR(ioctl(self->vm, XVM_SET_USER_MEMORY_REGION, (void *)KERNEL_ADDR),
		   EFAULT);
	munmap(none, PAGE);
}

TEST_F(vm, memslot_einval)
{
	struct xvm_userspace_memory_region r;
	uint64_t ua = UA(self, 0);

#define RESET_R() do {							\
	memset(&r, 0, sizeof(r));					\
	r.slot = 0; r.guest_phys_addr = 0x100000;			\
	r.memory_size = 4 * PAGE; r.userspace_addr = ua;		\
} while (0)

	RESET_R(); r.reserved[0] = 1;
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.reserved[1] = 1ULL << 63;
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.flags = 1U << 1;
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.flags = 1U << 31;
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.flags = XVM_MEM_READONLY | (1U << 2);
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.slot = 256;
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.slot = 0x10000;	/* KVM's address-space bits: not here */
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.slot = ~0U;
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.guest_phys_addr += 1;
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.guest_phys_addr += 0x800;
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.memory_size += 8;
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.memory_size = 1;
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.userspace_addr += 16;
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	/* gpa + size wraps */
	RESET_R(); r.guest_phys_addr = ~0ULL & ~(PAGE - 1);
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.memory_size = ~0ULL & ~(PAGE - 1);
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	/* beyond 1 << 40 (default) */
	RESET_R(); r.guest_phys_addr = 1ULL << 40;
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.guest_phys_addr = (1ULL << 40) - PAGE;
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.memory_size = (1ULL << 40) + PAGE;
	r.guest_phys_addr = 0;
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	/* uaddr + size wraps, or not a user address */
	RESET_R(); r.userspace_addr = ~0ULL & ~(PAGE - 1);
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.userspace_addr = KERNEL_ADDR;
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);
	RESET_R(); r.userspace_addr = 0xfffffffffff00000ULL; /* kernel, no wrap */
	EXPECT_ERR(memslot_raw(self->vm, &r), EINVAL);

	/* nothing of the above was created: the sane request succeeds */
	RESET_R();
	EXPECT_OK(memslot_raw(self->vm, &r));
	/* and slot 255 is the last valid one */
	RESET_R(); r.slot = 255; r.guest_phys_addr = 0x200000;
	EXPECT_OK(memslot_raw(self->vm, &r));
#undef RESET_R
}

TEST_F(vm, memslot_overlap_eexist)
{
	uint64_t ua = UA(self, 0);
	const uint64_t g = 0x100000;

	ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, g, 4 * PAGE, ua));
	/* same range, other slot */
	EXPECT_ERR(xvm_set_memory_region(self->vm, 1, 0, g, 4 * PAGE, UA(self, 8)),
		   EEXIST);
	/* starts inside */
	EXPECT_ERR(xvm_set_memory_region(self->vm, 1, 0, g + 3 * PAGE, 4 * PAGE,
					 UA(self, 8)), EEXIST);
	/* ends inside */
	EXPECT_ERR(xvm_set_memory_region(self->vm, 1, 0, g - PAGE, 2 * PAGE,
					 UA(self, 8)), EEXIST);
	/* covers it */
	EXPECT_ERR(xvm_set_memory_region(self->vm, 1, 0, g - PAGE, 8 * PAGE,
					 UA(self, 8)), EEXIST);
	/* inside it */
	EXPECT_ERR(xvm_set_memory_region(self->vm, 1, 0, g + PAGE, PAGE,
					 UA(self, 8)), EEXIST);
	/* the same user memory at another gpa is fine (KVM allows aliases) */
	EXPECT_OK(xvm_set_memory_region(self->vm, 1, 0, g + 4 * PAGE, PAGE, ua));
	/* adjacent below */
	EXPECT_OK(xvm_set_memory_region(self->vm, 2, 0, g - PAGE, PAGE, UA(self, 9)));
	/* READONLY slots overlap-check the same way */
	EXPECT_ERR(xvm_set_memory_region(self->vm, 3, XVM_MEM_READONLY, g, PAGE,
					 UA(self, 10)), EEXIST);
	EXPECT_OK(xvm_set_memory_region(self->vm, 3, XVM_MEM_READONLY, 0x800000,
					PAGE, UA(self, 10)));
}

TEST_F(vm, memslot_delete_move_modify)
{
	uint64_t ua = UA(self, 0);
	const uint64_t g = 0x100000, g2 = 0x400000;

	/* deleting a slot that does not exist */
	EXPECT_ERR(xvm_set_memory_region(self->vm, 5, 0, g, 0, ua), EINVAL);
	EXPECT_ERR(xvm_set_memory_region(self->vm, 255, 0, 0, 0, 0), EINVAL);

	ASSERT_OK(xvm_set_memory_region(self->vm, 5, 0, g, 4 * PAGE, ua));
	/* identical re-set */
	EXPECT_OK(xvm_set_memory_region(self->vm, 5, 0, g, 4 * PAGE, ua));
	/* size, uaddr or READONLY changes */
	EXPECT_ERR(xvm_set_memory_region(self->vm, 5, 0, g, 8 * PAGE, ua), EINVAL);
	EXPECT_ERR(xvm_set_memory_region(self->vm, 5, 0, g, 2 * PAGE, ua), EINVAL);
	EXPECT_ERR(xvm_set_memory_region(self->vm, 5, 0, g, 4 * PAGE, UA(self, 4)),
		   EINVAL);
	EXPECT_ERR(xvm_set_memory_region(self->vm, 5, XVM_MEM_READONLY, g,
					 4 * PAGE, ua), EINVAL);
	/* move: same size and uaddr, new gpa */
	EXPECT_OK(xvm_set_memory_region(self->vm, 5, 0, g2, 4 * PAGE, ua));
	/* the old range is free, the new one taken */
	EXPECT_OK(xvm_set_memory_region(self->vm, 6, 0, g, 4 * PAGE, UA(self, 8)));
	EXPECT_ERR(xvm_set_memory_region(self->vm, 7, 0, g2 + PAGE, PAGE,
					 UA(self, 16)), EEXIST);
	/* moving onto another slot */
	EXPECT_ERR(xvm_set_memory_region(self->vm, 5, 0, g + 2 * PAGE, 4 * PAGE, ua),
		   EEXIST);
	/* moving out of the address space */
	EXPECT_ERR(xvm_set_memory_region(self->vm, 5, 0, 1ULL << 40, 4 * PAGE, ua),
		   EINVAL);
	/* the failed moves left it where it was */
	EXPECT_ERR(xvm_set_memory_region(self->vm, 7, 0, g2, PAGE, UA(self, 16)),
		   EEXIST);
	/* delete, then the range and the slot number are free */
	EXPECT_OK(xvm_set_memory_region(self->vm, 5, 0, g2, 0, ua));
	EXPECT_ERR(xvm_set_memory_region(self->vm, 5, 0, g2, 0, ua), EINVAL);
	EXPECT_OK(xvm_set_memory_region(self->vm, 7, 0, g2, PAGE, UA(self, 16)));
	EXPECT_OK(xvm_set_memory_region(self->vm, 5, XVM_MEM_READONLY, 0x800000,
					8 * PAGE, UA(self, 20)));
	/* READONLY identical re-set */
	EXPECT_OK(xvm_set_memory_region(self->vm, 5, XVM_MEM_READONLY, 0x800000,
					8 * PAGE, UA(self, 20)));
	EXPECT_ERR(xvm_set_memory_region(self->vm, 5, 0, 0x800000, 8 * PAGE,
					 UA(self, 20)), EINVAL);
}

/*
 * A delete (memory_size 0) still checks reserved, flags, slot and the page
 * alignment of both addresses, as KVM does, but not the ranges, nor that
 * the addresses are the slot's.
 */
TEST_F(vm, memslot_delete_checks)
{
	struct xvm_userspace_memory_region mem = {
		.slot = 3, .guest_phys_addr = 0x100000, .memory_size = 0,
		.userspace_addr = UA(self, 0),
	};
	const uint64_t g = 0x100000, ua = UA(self, 0);

	ASSERT_OK(xvm_set_memory_region(self->vm, 3, 0, g, 4 * PAGE, ua));
	mem.reserved[1] = 1;
	EXPECT_ERR(ioctl(self->vm, XVM_SET_USER_MEMORY_REGION, &mem), EINVAL);
	EXPECT_ERR(xvm_set_memory_region(self->vm, 3, 0x2, g, 0, ua), EINVAL);
	EXPECT_ERR(xvm_set_memory_region(self->vm, 3 + 256, 0, g, 0, ua), EINVAL);
	EXPECT_ERR(xvm_set_memory_region(self->vm, 3, 0, g + 8, 0, ua), EINVAL);
	EXPECT_ERR(xvm_set_memory_region(self->vm, 3, 0, g, 0, ua + 8), EINVAL);
	/* the slot survived the refused deletes */
	EXPECT_ERR(xvm_set_memory_region(self->vm, 4, 0, g, PAGE, UA(self, 8)),
		   EEXIST);
	/* aligned addresses that are not the slot's, even out of range: ok */
	EXPECT_OK(xvm_set_memory_region(self->vm, 3, XVM_MEM_READONLY,
					1ULL << 52, 0, KERNEL_ADDR));
	EXPECT_OK(xvm_set_memory_region(self->vm, 4, 0, g, PAGE, UA(self, 8)));
}

TEST_F(vm, memslot_all_256)
{
	unsigned int i;

	for (i = 0; i < 256; i++)
		ASSERT_OK(xvm_set_memory_region(self->vm, i, 0, (uint64_t)i * PAGE,
						PAGE, UA(self, i % 64)));
	EXPECT_ERR(xvm_set_memory_region(self->vm, 256, 0, 256 * PAGE, PAGE,
					 UA(self, 0)), EINVAL);
	for (i = 0; i < 256; i++)
		ASSERT_OK(xvm_set_memory_region(self->vm, i, 0, (uint64_t)i * PAGE,
						0, UA(self, i % 64)));
	for (i = 0; i < 256; i++)
		ASSERT_ERR(xvm_set_memory_region(self->vm, i, 0, 0, 0, 0), EINVAL);
}

/* --------------------------------------------------------------------- */
/* Device creation                                                        */

TEST_F(vm, create_device_errors)
{
	struct xvm_create_device cd;
	int before;

	EXPECT_ERR(ioctl(self->vm, XVM_CREATE_DEVICE, NULL), EFAULT);
	EXPECT_ERR(ioctl(self->vm, XVM_CREATE_DEVICE, BAD_PTR), EFAULT);

	memset(&cd, 0, sizeof(cd));
	cd.type = XVM_DEV_TYPE_TEST;
	cd.flags = 1U << 1;
	EXPECT_ERR(ioctl(self->vm, XVM_CREATE_DEVICE, &cd), EINVAL);
	cd.flags = 1U << 31;
	EXPECT_ERR(ioctl(self->vm, XVM_CREATE_DEVICE, &cd), EINVAL);
	cd.flags = XVM_CREATE_DEVICE_TEST | (1U << 1);
	EXPECT_ERR(ioctl(self->vm, XVM_CREATE_DEVICE, &cd), EINVAL);
	cd.flags = 0;
	cd.pad = 1;
	EXPECT_ERR(ioctl(self->vm, XVM_CREATE_DEVICE, &cd), EINVAL);
	cd.flags = XVM_CREATE_DEVICE_TEST;
	EXPECT_ERR(ioctl(self->vm, XVM_CREATE_DEVICE, &cd), EINVAL);

	before = next_fd();
	EXPECT_ERR(xvm_create_device(self->vm, 0, 0, NULL), ENODEV);
	EXPECT_ERR(xvm_create_device(self->vm, XVM_DEV_TYPE_MAX, 0, NULL), ENODEV);
	EXPECT_ERR(xvm_create_device(self->vm, 1000, 0, NULL), ENODEV);
	EXPECT_ERR(xvm_create_device(self->vm, ~0U, 0, NULL), ENODEV);
	EXPECT_ERR(xvm_create_device(self->vm, 0, XVM_CREATE_DEVICE_TEST, NULL),
		   ENODEV);
	EXPECT_ERR(xvm_create_device(self->vm, 1000, XVM_CREATE_DEVICE_TEST, NULL),
		   ENODEV);
	EXPECT_EQ(before, next_fd());	/* no fd leaked by the failures */
}

TEST_F(vm, create_device_test_flag)
{
	struct xvm_create_device cd;
	int before = next_fd(), fd;

	memset(&cd, 0, sizeof(cd));
	cd.type = XVM_DEV_TYPE_TEST;
	cd.flags = XVM_CREATE_DEVICE_TEST;
	EXPECT_EQ(0, ioctl(self->vm, XVM_CREATE_DEVICE, &cd))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(before, next_fd()) TH_LOG("CREATE_DEVICE_TEST installed an fd");

	/* and a real one returns a working fd in cd.fd */
	memset(&cd, 0, sizeof(cd));
	cd.type = XVM_DEV_TYPE_TEST;
	cd.fd = 0xdeadbeef;
	ASSERT_EQ(0, ioctl(self->vm, XVM_CREATE_DEVICE, &cd));
	fd = (int)cd.fd;
	EXPECT_EQ(before, fd);
	EXPECT_EQ(0, xvm_has_attr(fd, XVM_TESTDEV_GRP_REGION, 0, NULL));
	close(fd);
}

/* --------------------------------------------------------------------- */
/* Device attributes (generic checks, on the test device)                 */

TEST_F(vm, attr_generic_errors)
{
	static const unsigned long reqs[] = {
		XVM_SET_DEVICE_ATTR, XVM_GET_DEVICE_ATTR, XVM_HAS_DEVICE_ATTR,
	};
	struct xvm_testdev_region r = { REG_BASE, REG_SIZE };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		unsigned long q = reqs[i];

		EXPECT_ERR(ioctl(self->dev, q, NULL), EFAULT);
		EXPECT_ERR(ioctl(self->dev, q, BAD_PTR), EFAULT);
		EXPECT_ERR(attr_raw(self->dev, q, 1, XVM_TESTDEV_GRP_REGION, 0, &r),
			   EINVAL);
		EXPECT_ERR(attr_raw(self->dev, q, 1U << 31, XVM_TESTDEV_GRP_STATS, 0, &r),
			   EINVAL);
		EXPECT_ERR(attr_raw(self->dev, q, 0, 2, 0, &r), ENXIO);
		EXPECT_ERR(attr_raw(self->dev, q, 0, 0xffffffff, 0, &r), ENXIO);
		EXPECT_ERR(attr_raw(self->dev, q, 0, XVM_TESTDEV_GRP_REGION,
				    XVM_TESTDEV_MAX_REGIONS, &r), ENXIO);
		EXPECT_ERR(attr_raw(self->dev, q, 0, XVM_TESTDEV_GRP_REGION,
				    1ULL << 32, &r), ENXIO);
		EXPECT_ERR(attr_raw(self->dev, q, 0, XVM_TESTDEV_GRP_STATS, 3, &r),
			   ENXIO);
	}
	/* none of that registered anything */
	EXPECT_ERR(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_REGION, 0, &r), ENOENT);
}

TEST_F(vm, attr_has)
{
	uint64_t v;

	EXPECT_EQ(0, xvm_has_attr(self->dev, XVM_TESTDEV_GRP_REGION, 0, NULL));
	EXPECT_EQ(0, xvm_has_attr(self->dev, XVM_TESTDEV_GRP_REGION, 2047, NULL));
	EXPECT_ERR(xvm_has_attr(self->dev, XVM_TESTDEV_GRP_REGION, 2048, NULL), ENXIO);
	EXPECT_EQ(0, xvm_has_attr(self->dev, XVM_TESTDEV_GRP_STATS,
				  XVM_TESTDEV_STAT_READS, NULL));
	EXPECT_EQ(0, xvm_has_attr(self->dev, XVM_TESTDEV_GRP_STATS,
				  XVM_TESTDEV_STAT_WRITES, NULL));
	EXPECT_EQ(0, xvm_has_attr(self->dev, XVM_TESTDEV_GRP_STATS,
				  XVM_TESTDEV_STAT_REJECTED, NULL));
	EXPECT_ERR(xvm_has_attr(self->dev, XVM_TESTDEV_GRP_STATS, 3, NULL), ENXIO);
	EXPECT_ERR(xvm_has_attr(self->dev, 7, 0, NULL), ENXIO);
	/* SET on stats is not supported */
	v = 5;
	EXPECT_ERR(xvm_set_attr(self->dev, XVM_TESTDEV_GRP_STATS,
				XVM_TESTDEV_STAT_READS, &v), ENXIO);
	EXPECT_ERR(xvm_set_attr(self->dev, XVM_TESTDEV_GRP_STATS,
				XVM_TESTDEV_STAT_REJECTED, &v), ENXIO);
	v = 77;
	EXPECT_OK(xvm_testdev_stat(self->dev, XVM_TESTDEV_STAT_READS, &v));
	EXPECT_EQ(0, v);
}

/*
 * What the core checks for every device type, before the type is asked:
 * the struct, its flags, and whether the group and attr exist.
 */
TEST_F(vm, attr_core_checks_every_type)
{
	static const uint32_t types[] = {
		XVM_DEV_TYPE_TEST, XVM_DEV_TYPE_ARM_VGIC_V3,
		XVM_DEV_TYPE_VFIO_MSIX, XVM_DEV_TYPE_IOMMU,
	};
	static const unsigned long reqs[] = {
		XVM_SET_DEVICE_ATTR, XVM_GET_DEVICE_ATTR, XVM_HAS_DEVICE_ATTR,
	};
	uint64_t v[8] = { 0 };
	unsigned int i, j;
	int fd;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		if (xvm_create_device(self->vm, types[i], 0, &fd)) {
			EXPECT_EQ(ENODEV, errno);
			TH_LOG("device type %u not loaded: not checked", types[i]);
			continue;
		}
		for (j = 0; j < ARRAY_SIZE(reqs); j++) {
			EXPECT_ERR(ioctl(fd, reqs[j], NULL), EFAULT);
			EXPECT_ERR(attr_raw(fd, reqs[j], 1, 0, 0, v), EINVAL);
			EXPECT_ERR(attr_raw(fd, reqs[j], 0, 0xffffffff, 0, v),
				   ENXIO);
			/* Group 0 exists in every type; attr ~0 nowhere. */
			EXPECT_ERR(attr_raw(fd, reqs[j], 0, 0, ~0ULL, v), ENXIO);
		}
		close(fd);
	}
}

/* The first byte of b[from..size) that is not 0xa5, or size. */
static size_t first_written(const uint8_t *b, size_t from, size_t size)
{
	while (from < size && b[from] == 0xa5)
		from++;
	return from;
}

/*
 * The core copies the value: in before SET (EFAULT, nothing done), out
 * after a GET that succeeded, exactly the attribute's size.
 */
TEST_F(vm, attr_value_copy)
{
	struct xvm_testdev_region r = { REG_BASE, REG_SIZE };
	uint8_t buf[256];

	EXPECT_ERR(xvm_set_attr(self->dev, XVM_TESTDEV_GRP_REGION, 0, NULL),
		   EFAULT);
	EXPECT_ERR(xvm_set_attr(self->dev, XVM_TESTDEV_GRP_REGION, 0, BAD_PTR),
		   EFAULT);
	/* A failed GET leaves the value alone. */
	memset(buf, 0xa5, sizeof(buf));
	EXPECT_ERR(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_REGION, 0, buf),
		   ENOENT);
	EXPECT_EQ(sizeof(buf), first_written(buf, 0, sizeof(buf)));

	ASSERT_OK(xvm_set_attr(self->dev, XVM_TESTDEV_GRP_REGION, 0, &r));
	EXPECT_ERR(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_REGION, 0, NULL),
		   EFAULT);
	EXPECT_ERR(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_STATS,
				XVM_TESTDEV_STAT_READS, BAD_PTR), EFAULT);
	ASSERT_OK(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_REGION, 0, buf));
	EXPECT_EQ(0, memcmp(buf, &r, sizeof(r)));
	EXPECT_EQ(sizeof(buf), first_written(buf, sizeof(r), sizeof(buf)));
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_OK(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_STATS,
			       XVM_TESTDEV_STAT_READS, buf));
	EXPECT_EQ(sizeof(buf),
		  first_written(buf, sizeof(uint64_t), sizeof(buf)));
}

/* --------------------------------------------------------------------- */
/* Test-device regions                                                    */

TEST_F(vm, region_set_get)
{
	struct xvm_testdev_region r;

	ASSERT_OK(xvm_testdev_add_region(self->dev, 0, REG_BASE, REG_SIZE));
	ASSERT_OK(xvm_testdev_add_region(self->dev, 2047, REG_BASE + 0x10000, 8));
	ASSERT_OK(xvm_testdev_add_region(self->dev, 5, REG_BASE + 0x20000, 0x10000));

	memset(&r, 0xa5, sizeof(r));
	ASSERT_OK(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_REGION, 0, &r));
	EXPECT_EQ(REG_BASE, r.base);
	EXPECT_EQ(REG_SIZE, r.size);
	ASSERT_OK(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_REGION, 2047, &r));
	EXPECT_EQ(REG_BASE + 0x10000, r.base);
	EXPECT_EQ(8, r.size);
	ASSERT_OK(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_REGION, 5, &r));
	EXPECT_EQ(REG_BASE + 0x20000, r.base);
	EXPECT_EQ(0x10000, r.size);

	EXPECT_ERR(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_REGION, 1, &r), ENOENT);
	EXPECT_ERR(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_REGION, 2046, &r), ENOENT);
	/* bad value pointers */
	EXPECT_ERR(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_REGION, 0, BAD_PTR), EFAULT);
	EXPECT_ERR(xvm_set_attr(self->dev, XVM_TESTDEV_GRP_REGION, 9, BAD_PTR), EFAULT);
	EXPECT_ERR(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_REGION, 9, &r), ENOENT);
}

TEST_F(vm, region_set_einval)
{
	static const struct { uint64_t base, size; } bad[] = {
		{ REG_BASE + 1, 8 }, { REG_BASE + 4, 8 }, { REG_BASE, 4 },
		{ REG_BASE, 12 }, { REG_BASE, 0 }, { REG_BASE, 0x10008 },
		{ REG_BASE, 0x20000 }, { REG_BASE, 1ULL << 63 },
		{ ~0ULL & ~7ULL, 16 }, { 0xfffffffffffff000ULL, 0x2000 },
		{ ~0ULL, 8 },
	};
	struct xvm_testdev_region r;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		EXPECT_EQ(-1, xvm_testdev_add_region(self->dev, i, bad[i].base,
						     bad[i].size))
			TH_LOG("base %#llx size %#llx", (unsigned long long)bad[i].base,
			       (unsigned long long)bad[i].size);
		EXPECT_EQ(EINVAL, errno) TH_LOG("base %#llx size %#llx: %s",
						(unsigned long long)bad[i].base,
						(unsigned long long)bad[i].size,
						strerror(errno));
		EXPECT_ERR(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_REGION, i, &r),
			   ENOENT);
	}
	/* the largest size is fine */
	EXPECT_OK(xvm_testdev_add_region(self->dev, 100, REG_BASE, 0x10000));
}

TEST_F(vm, region_eexist)
{
	int dev2;

	ASSERT_OK(xvm_testdev_add_region(self->dev, 0, REG_BASE, REG_SIZE));
	/* index in use, even for a free range */
	EXPECT_ERR(xvm_testdev_add_region(self->dev, 0, REG_BASE + 0x100000, 8), EEXIST);
	/* overlaps, same device */
	EXPECT_ERR(xvm_testdev_add_region(self->dev, 1, REG_BASE, REG_SIZE), EEXIST);
	EXPECT_ERR(xvm_testdev_add_region(self->dev, 1, REG_BASE + REG_SIZE - 8, 16),
		   EEXIST);
	EXPECT_ERR(xvm_testdev_add_region(self->dev, 1, REG_BASE - 8, 16), EEXIST);
	EXPECT_ERR(xvm_testdev_add_region(self->dev, 1, REG_BASE + 8, 8), EEXIST);
	EXPECT_ERR(xvm_testdev_add_region(self->dev, 1, REG_BASE - 8, REG_SIZE + 16),
		   EEXIST);
	/* adjacent on both sides */
	EXPECT_OK(xvm_testdev_add_region(self->dev, 1, REG_BASE + REG_SIZE, 8));
	EXPECT_OK(xvm_testdev_add_region(self->dev, 2, REG_BASE - 8, 8));

	/* another device on the same VM */
	dev2 = create_testdev(self->vm);
	ASSERT_LE(0, dev2);
	EXPECT_ERR(xvm_testdev_add_region(dev2, 0, REG_BASE + 0x800, 8), EEXIST);
	EXPECT_ERR(xvm_testdev_add_region(dev2, 0, REG_BASE - 0x1000, 0x2000), EEXIST);
	EXPECT_OK(xvm_testdev_add_region(dev2, 0, REG_BASE + REG_SIZE + 8, 8));
	/* and the first device sees the second's region */
	EXPECT_ERR(xvm_testdev_add_region(self->dev, 3, REG_BASE + REG_SIZE + 8, 8),
		   EEXIST);
	close(dev2);
	/* closing dev2 freed its range */
	EXPECT_OK(xvm_testdev_add_region(self->dev, 3, REG_BASE + REG_SIZE + 8, 8));

	/* the bus is per VM: the same range in another VM is fine */
	{
		int vm2 = xvm_create_vm(self->xvm, 0), d;

		ASSERT_LE(0, vm2);
		d = create_testdev(vm2);
		ASSERT_LE(0, d);
		EXPECT_OK(xvm_testdev_add_region(d, 0, REG_BASE, REG_SIZE));
		close(d);
		close(vm2);
	}
}

/* 4096 regions per VM; the 4097th is ENOSPC (each device holds 2048). */
TEST_F(vm, region_bus_full_enospc)
{
	int d2, d3;
	uint32_t i;
	uint64_t a = REG_BASE;

	d2 = create_testdev(self->vm);
	d3 = create_testdev(self->vm);
	ASSERT_LE(0, d2);
	ASSERT_LE(0, d3);
	for (i = 0; i < XVM_TESTDEV_MAX_REGIONS; i++, a += 16)
		ASSERT_OK(xvm_testdev_add_region(self->dev, i, a, 8));
	for (i = 0; i < XVM_TESTDEV_MAX_REGIONS; i++, a += 16)
		ASSERT_OK(xvm_testdev_add_region(d2, i, a, 8));
	EXPECT_ERR(xvm_testdev_add_region(d3, 0, a, 8), ENOSPC);
	/* an overlapping one while full is still a conflict or no space */
	errno = 0;
	EXPECT_EQ(-1, xvm_testdev_add_region(d3, 1, REG_BASE, 8));
	EXPECT_TRUE(errno == EEXIST || errno == ENOSPC) TH_LOG("%s", strerror(errno));
	/* freeing a device's regions makes room */
	close(d2);
	EXPECT_OK(xvm_testdev_add_region(d3, 0, a, 8));
	close(d3);
}

/* --------------------------------------------------------------------- */
/* MMIO through the bus                                                   */

FIXTURE(bus) {
	int xvm, vm, vcpu, dev;
};

FIXTURE_SETUP(bus)
{
	int ret;

	self->vcpu = self->dev = -1;
	ASSERT_OK(fixture_vm_open(&self->xvm, &self->vm, 0));
	ASSERT_OK(fixture_vcpus(self->vm, &self->vcpu, 1));
	ret = fixture_testdev(self->vm, &self->dev, REG_BASE, REG_SIZE);
	if (self->dev < 0 && errno == ENODEV)
		SETUP_SKIP("xvm-testdev not loaded");
	ASSERT_LE(0, self->dev) TH_LOG("CREATE_DEVICE(TEST): %s", strerror(errno));
	ASSERT_OK(ret);	/* its region */
}

FIXTURE_TEARDOWN(bus)
{
	close_fd(&self->dev);
	close_fd(&self->vcpu);
	close_fd(&self->vm);
	close_fd(&self->xvm);
}

static uint64_t dstat(struct __test_metadata *_metadata, int dev, uint32_t s)
{
	uint64_t v = ~0ULL;

	EXPECT_OK(xvm_testdev_stat(dev, s, &v));
	return v;
}

/* Read with junk preloaded in data: the result must be exactly zero-extended. */
static uint64_t rd(struct __test_metadata *_metadata, int vcpu, uint64_t addr,
		   uint32_t len)
{
	struct xvm_mmio m = mk_acc(addr, len, 0, 0xa5a5a5a5a5a5a5a5ULL);

	EXPECT_OK(mmio_raw(vcpu, &m));
	EXPECT_EQ(XVM_MMIO_HANDLED, m.result) TH_LOG("read %#llx/%u",
						     (unsigned long long)addr, len);
	return m.data;
}

static void wr(struct __test_metadata *_metadata, int vcpu, uint64_t addr,
	       uint32_t len, uint64_t v)
{
	struct xvm_mmio m = mk_acc(addr, len, 1, v);

	EXPECT_OK(mmio_raw(vcpu, &m));
	EXPECT_EQ(XVM_MMIO_HANDLED, m.result) TH_LOG("write %#llx/%u",
						     (unsigned long long)addr, len);
}

static uint32_t result_of(struct __test_metadata *_metadata, int vcpu,
			  uint64_t addr, uint32_t len, int write)
{
	struct xvm_mmio m = mk_acc(addr, len, write, 0x1122334455667788ULL);

	EXPECT_OK(mmio_raw(vcpu, &m));
	return m.result;
}

TEST_F(bus, zero_at_creation)
{
	uint64_t off;

	for (off = 0; off < REG_SIZE; off += 8)
		ASSERT_EQ(0, rd(_metadata, self->vcpu, REG_BASE + off, 8));
	EXPECT_EQ(0, rd(_metadata, self->vcpu, REG_BASE + REG_SIZE - 1, 1));
	EXPECT_EQ(0, rd(_metadata, self->vcpu, REG_BASE + 2, 2));
	EXPECT_EQ(0, rd(_metadata, self->vcpu, REG_BASE + 4, 4));
}

TEST_F(bus, little_endian_widths)
{
	const uint64_t a = REG_BASE + 0x100;

	wr(_metadata, self->vcpu, a, 8, 0x0807060504030201ULL);
	EXPECT_EQ(0x0807060504030201ULL, rd(_metadata, self->vcpu, a, 8));
	EXPECT_EQ(0x01, rd(_metadata, self->vcpu, a, 1));
	EXPECT_EQ(0x04, rd(_metadata, self->vcpu, a + 3, 1));
	EXPECT_EQ(0x08, rd(_metadata, self->vcpu, a + 7, 1));
	EXPECT_EQ(0x0201, rd(_metadata, self->vcpu, a, 2));
	EXPECT_EQ(0x0403, rd(_metadata, self->vcpu, a + 2, 2));
	EXPECT_EQ(0x0807, rd(_metadata, self->vcpu, a + 6, 2));
	EXPECT_EQ(0x04030201, rd(_metadata, self->vcpu, a, 4));
	EXPECT_EQ(0x08070605, rd(_metadata, self->vcpu, a + 4, 4));

	/* narrow writes replace only their bytes */
	wr(_metadata, self->vcpu, a + 1, 1, 0xaa);
	wr(_metadata, self->vcpu, a + 4, 2, 0xccbb);
	EXPECT_EQ(0x0807ccbb0403aa01ULL, rd(_metadata, self->vcpu, a, 8));
	wr(_metadata, self->vcpu, a + 4, 4, 0xdeadbeef);
	EXPECT_EQ(0xdeadbeef0403aa01ULL, rd(_metadata, self->vcpu, a, 8));
	/* neighbours untouched */
	EXPECT_EQ(0, rd(_metadata, self->vcpu, a - 8, 8));
	EXPECT_EQ(0, rd(_metadata, self->vcpu, a + 8, 8));
}

/*
 * The last bytes of a region and its last index are their own, not aliases
 * of the first: the bounds the handlers clamp indices to are exact.
 */
TEST_F(bus, last_offset_and_index)
{
	const uint64_t end = REG_BASE + REG_SIZE;
	struct xvm_testdev_region reg;

	wr(_metadata, self->vcpu, REG_BASE, 8, 0x1111111111111111ULL);
	wr(_metadata, self->vcpu, end - 8, 8, 0x8877665544332211ULL);
	EXPECT_EQ(0x8877665544332211ULL, rd(_metadata, self->vcpu, end - 8, 8));
	wr(_metadata, self->vcpu, end - 1, 1, 0xaa);
	EXPECT_EQ(0xaa, rd(_metadata, self->vcpu, end - 1, 1));
	EXPECT_EQ(0xaa77, rd(_metadata, self->vcpu, end - 2, 2));
	EXPECT_EQ(0xaa776655, rd(_metadata, self->vcpu, end - 4, 4));
	EXPECT_EQ(0x1111111111111111ULL, rd(_metadata, self->vcpu, REG_BASE, 8));

	ASSERT_OK(xvm_testdev_add_region(self->dev, XVM_TESTDEV_MAX_REGIONS - 1,
					 end, 8));
	ASSERT_OK(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_REGION,
			       XVM_TESTDEV_MAX_REGIONS - 1, &reg));
	EXPECT_EQ(end, reg.base);
	EXPECT_EQ(8, reg.size);
	ASSERT_OK(xvm_get_attr(self->dev, XVM_TESTDEV_GRP_REGION, 0, &reg));
	EXPECT_EQ(REG_BASE, reg.base);
	EXPECT_EQ(REG_SIZE, reg.size);
}

TEST_F(bus, write_ignores_high_bits)
{
	const uint64_t a = REG_BASE + 0x200;

	wr(_metadata, self->vcpu, a, 1, 0xffffffffffffff42ULL);
	EXPECT_EQ(0x42, rd(_metadata, self->vcpu, a, 8));
	wr(_metadata, self->vcpu, a + 2, 2, 0xffffffffffff1234ULL);
	EXPECT_EQ(0x0000000012340042ULL, rd(_metadata, self->vcpu, a, 8));
	wr(_metadata, self->vcpu, a + 8, 4, 0xffffffff87654321ULL);
	EXPECT_EQ(0x87654321ULL, rd(_metadata, self->vcpu, a + 8, 8));
	/* reads zero-extend */
	wr(_metadata, self->vcpu, a + 16, 8, ~0ULL);
	EXPECT_EQ(0xff, rd(_metadata, self->vcpu, a + 16, 1));
	EXPECT_EQ(0xffff, rd(_metadata, self->vcpu, a + 18, 2));
	EXPECT_EQ(0xffffffffULL, rd(_metadata, self->vcpu, a + 20, 4));
}

TEST_F(bus, misaligned_declined)
{
	static const struct { uint64_t off; uint32_t len; } mis[] = {
		{ 1, 2 }, { 3, 2 }, { 1, 4 }, { 2, 4 }, { 6, 4 },
		{ 1, 8 }, { 4, 8 }, { 7, 8 },
	};
	uint64_t r0, w0, j0;
	unsigned int i;

	wr(_metadata, self->vcpu, REG_BASE, 8, 0x1111111111111111ULL);
	wr(_metadata, self->vcpu, REG_BASE + 8, 8, 0x2222222222222222ULL);
	r0 = dstat(_metadata, self->dev, XVM_TESTDEV_STAT_READS);
	w0 = dstat(_metadata, self->dev, XVM_TESTDEV_STAT_WRITES);
	j0 = dstat(_metadata, self->dev, XVM_TESTDEV_STAT_REJECTED);
	EXPECT_EQ(0, r0);
	EXPECT_EQ(2, w0);
	EXPECT_EQ(0, j0);

	for (i = 0; i < ARRAY_SIZE(mis); i++) {
		EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu,
							REG_BASE + mis[i].off,
							mis[i].len, 1))
			TH_LOG("write off %llu len %u",
			       (unsigned long long)mis[i].off, mis[i].len);
		EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu,
							REG_BASE + mis[i].off,
							mis[i].len, 0))
			TH_LOG("read off %llu len %u",
			       (unsigned long long)mis[i].off, mis[i].len);
	}
	EXPECT_EQ(2 * ARRAY_SIZE(mis), dstat(_metadata, self->dev,
					    XVM_TESTDEV_STAT_REJECTED));
	EXPECT_EQ(r0, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_READS));
	EXPECT_EQ(w0, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_WRITES));
	/* contents unchanged */
	EXPECT_EQ(0x1111111111111111ULL, rd(_metadata, self->vcpu, REG_BASE, 8));
	EXPECT_EQ(0x2222222222222222ULL, rd(_metadata, self->vcpu, REG_BASE + 8, 8));
}

TEST_F(bus, stats_count_exactly)
{
	int i;

	for (i = 0; i < 10; i++)
		wr(_metadata, self->vcpu, REG_BASE + 8 * i, 8, i);
	for (i = 0; i < 7; i++)
		(void)rd(_metadata, self->vcpu, REG_BASE + i, 1);
	/* unclaimed accesses are not the device's */
	EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu,
						REG_BASE + REG_SIZE, 4, 0));
	EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu,
						REG_BASE - 4, 4, 1));
	EXPECT_EQ(7, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_READS));
	EXPECT_EQ(10, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_WRITES));
	EXPECT_EQ(0, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_REJECTED));
}

TEST_F(bus, unclaimed_and_straddling)
{
	int dev2;
	uint64_t end = REG_BASE + REG_SIZE;

	/* nothing there */
	EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu, 0, 8, 0));
	EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu, 0x1000, 4, 1));
	EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu, ~0ULL - 15, 8, 0));
	/* just outside each end */
	EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu, REG_BASE - 1, 1, 0));
	EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu, end, 1, 0));
	EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu, end, 8, 1));
	/* just inside */
	EXPECT_EQ(XVM_MMIO_HANDLED, result_of(_metadata, self->vcpu, REG_BASE, 1, 0));
	EXPECT_EQ(XVM_MMIO_HANDLED, result_of(_metadata, self->vcpu, end - 1, 1, 0));
	EXPECT_EQ(XVM_MMIO_HANDLED, result_of(_metadata, self->vcpu, end - 8, 8, 0));
	/* straddling the start and the end */
	EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu, REG_BASE - 2, 4, 1));
	EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu, end - 4, 8, 0));
	/* straddling two adjacent regions of two devices */
	dev2 = create_testdev(self->vm);
	ASSERT_LE(0, dev2);
	ASSERT_OK(xvm_testdev_add_region(dev2, 0, end, REG_SIZE));
	EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu, end - 4, 8, 1));
	EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu, end - 1, 2, 0));
	EXPECT_EQ(XVM_MMIO_HANDLED, result_of(_metadata, self->vcpu, end, 8, 1));
	/* a straddling access reaches neither device */
	EXPECT_EQ(0, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_REJECTED));
	EXPECT_EQ(0, dstat(_metadata, dev2, XVM_TESTDEV_STAT_REJECTED));
	EXPECT_EQ(0, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_WRITES));
	EXPECT_EQ(1, dstat(_metadata, dev2, XVM_TESTDEV_STAT_WRITES));
	/* the two register files are separate */
	wr(_metadata, self->vcpu, end - 8, 8, 0xabcdULL);
	EXPECT_EQ(0x1122334455667788ULL, rd(_metadata, self->vcpu, end, 8));
	EXPECT_EQ(0xabcdULL, rd(_metadata, self->vcpu, end - 8, 8));
	close(dev2);
}

struct poll_arg {
	int vcpu;
	uint32_t port;
	int ret;
	volatile int returned;
};

static void *poll_thread(void *p)
{
	struct poll_arg *a = p;

	a->ret = xvm_poll(a->vcpu, &a->port, 1, 4000000000ULL, 0, NULL);
	a->returned = 1;
	return NULL;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * XVM_MMIO and XVM_MMIO_BATCH do not wait for the vCPU's other ioctl: an
 * access on a vCPU whose XVM_POLL is waiting (up to 4 s) completes at once.
 */
TEST_F(bus, mmio_while_vcpu_polls)
{
	struct poll_arg a = { .vcpu = self->vcpu };
	struct xvm_mmio m = mk_acc(REG_BASE, 8, 0, 0);
	pthread_t t;
	uint32_t done;
	uint64_t t0;

	ASSERT_OK(fixture_vcpu_port(self->vm, 0, &a.port));
	ASSERT_EQ(0, pthread_create(&t, NULL, poll_thread, &a));
	usleep(300000);		/* the poll is waiting, holding the vCPU */
	t0 = mono_ns();
	EXPECT_OK(mmio_raw(self->vcpu, &m));
	EXPECT_EQ(XVM_MMIO_HANDLED, m.result);
	EXPECT_OK(mmio_batch_raw(self->vcpu, &m, 1, &done, 0));
	EXPECT_EQ(1, done);
	EXPECT_GT(2000000000ULL, mono_ns() - t0);
	EXPECT_FALSE(a.returned) TH_LOG("the poll ended before the accesses");
	EXPECT_OK(xvm_evtchn_send(self->vm, a.port));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(1, a.ret);
}

TEST_F(bus, mmio_einval_efault)
{
	static const uint32_t badlen[] = { 0, 3, 5, 6, 7, 9, 16, 18, 24,
					    0x80000000u, 0x80000004u };
	struct xvm_mmio m;
	unsigned int i;
	void *none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, none);
	for (i = 0; i < ARRAY_SIZE(badlen); i++) {
		m = mk_acc(REG_BASE, badlen[i], 0, 0);
		EXPECT_ERR(mmio_raw(self->vcpu, &m), EINVAL);
		m = mk_acc(REG_BASE, badlen[i], 1, 0);
		EXPECT_ERR(mmio_raw(self->vcpu, &m), EINVAL);
	}
	m = mk_acc(REG_BASE, 4, 0, 0);
	m.flags = 1U << 1;
	EXPECT_ERR(mmio_raw(self->vcpu, &m), EINVAL);
	m.flags = XVM_MMIO_WRITE | (1U << 31);
	EXPECT_ERR(mmio_raw(self->vcpu, &m), EINVAL);
	m = mk_acc(REG_BASE, 4, 0, 0);
	m.reserved = 1;
	EXPECT_ERR(mmio_raw(self->vcpu, &m), EINVAL);
	/* addr + len wraps */
	m = mk_acc(~0ULL, 2, 0, 0);
	EXPECT_ERR(mmio_raw(self->vcpu, &m), EINVAL);
	m = mk_acc(~0ULL - 3, 8, 1, 0);
	EXPECT_ERR(mmio_raw(self->vcpu, &m), EINVAL);
	/* bad pointers */
	EXPECT_ERR(ioctl(self->vcpu, XVM_MMIO, NULL), EFAULT);
	EXPECT_ERR(ioctl(self->vcpu, XVM_MMIO, BAD_PTR), EFAULT);
	EXPECT_ERR(ioctl(self->vcpu, XVM_MMIO, none), EFAULT);
	EXPECT_ERR(ioctl(self->vcpu, XVM_MMIO, (void *)KERNEL_ADDR), EFAULT);
	/* nothing reached the device */
	EXPECT_EQ(0, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_READS));
	EXPECT_EQ(0, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_WRITES));
	EXPECT_EQ(0, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_REJECTED));
	munmap(none, PAGE);
}

TEST_F(bus, result_written_back)
{
	struct xvm_mmio m;
	uint64_t v = 0;
	int h = -1;

	m = mk_acc(REG_BASE, 4, 1, 7);		/* result preloaded 0xdead */
	ASSERT_OK(mmio_raw(self->vcpu, &m));
	EXPECT_EQ(XVM_MMIO_HANDLED, m.result);
	EXPECT_EQ(7, m.data);			/* write data left alone */
	EXPECT_EQ(REG_BASE, m.addr);
	m = mk_acc(0x1000, 4, 1, 7);
	ASSERT_OK(mmio_raw(self->vcpu, &m));
	EXPECT_EQ(XVM_MMIO_UNHANDLED, m.result);
	m = mk_acc(REG_BASE, 4, 0, ~0ULL);
	ASSERT_OK(mmio_raw(self->vcpu, &m));
	EXPECT_EQ(XVM_MMIO_HANDLED, m.result);
	EXPECT_EQ(7, m.data);
	/* and via the library */
	ASSERT_OK(xvm_mmio_read(self->vcpu, REG_BASE, 4, &v, &h));
	EXPECT_EQ(1, h);
	EXPECT_EQ(7, v);
	ASSERT_OK(xvm_mmio_write(self->vcpu, 0x2000, 4, 1, &h));
	EXPECT_EQ(0, h);
}

TEST_F(bus, closed_device_unclaims)
{
	int dev2;

	wr(_metadata, self->vcpu, REG_BASE, 8, 0x55);
	close(self->dev);
	self->dev = -1;
	EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu, REG_BASE, 8, 0));
	EXPECT_EQ(XVM_MMIO_UNHANDLED, result_of(_metadata, self->vcpu, REG_BASE, 8, 1));
	/* the range is free; a new device starts from zero */
	dev2 = create_testdev(self->vm);
	ASSERT_LE(0, dev2);
	ASSERT_OK(xvm_testdev_add_region(dev2, 0, REG_BASE, REG_SIZE));
	EXPECT_EQ(0, rd(_metadata, self->vcpu, REG_BASE, 8));
	close(dev2);
}

/* Two vCPUs of one VM see the same bus. */
TEST_F(bus, vcpus_share_the_bus)
{
	int v1 = xvm_create_vcpu(self->vm, 1);

	ASSERT_LE(0, v1);
	wr(_metadata, self->vcpu, REG_BASE + 0x40, 4, 0xcafe);
	EXPECT_EQ(0xcafe, rd(_metadata, v1, REG_BASE + 0x40, 4));
	close(v1);
}

/* --------------------------------------------------------------------- */
/* XVM_MMIO_BATCH                                                         */

TEST_F(bus, batch_count_zero)
{
	struct xvm_mmio acc[1];
	uint32_t done = 77;

	acc[0] = mk_acc(REG_BASE, 8, 1, 9);
	EXPECT_EQ(0, mmio_batch_raw(self->vcpu, acc, 0, &done, 0));
	EXPECT_EQ(0, done);
	EXPECT_EQ(0xdead, acc[0].result);	/* untouched */
	EXPECT_EQ(0, rd(_metadata, self->vcpu, REG_BASE, 8));
}

/*
 * A handler's own error is what the caller sees, even when the struct
 * cannot be written back (here: a read-only page): MMIO_BATCH's count check
 * is EINVAL, not the EFAULT of the copy-back.
 */
TEST_F(bus, batch_error_survives_readonly_struct)
{
	struct xvm_mmio_batch *b;

	b = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, b);
	b->count = XVM_MMIO_BATCH_MAX + 1;
	ASSERT_OK(mprotect(b, PAGE, PROT_READ));
	EXPECT_ERR(ioctl(self->vcpu, XVM_MMIO_BATCH, b), EINVAL);
	munmap(b, PAGE);
}

TEST_F(bus, batch_einval_efault)
{
	static struct xvm_mmio acc[XVM_MMIO_BATCH_MAX + 1];
	uint32_t done;
	unsigned int i;
	char *pages;

	for (i = 0; i < ARRAY_SIZE(acc); i++)
		acc[i] = mk_acc(REG_BASE + 8 * (i % 512), 8, 0, 0);
	EXPECT_ERR(mmio_batch_raw(self->vcpu, acc, XVM_MMIO_BATCH_MAX + 1, &done, 0),
		   EINVAL);
	EXPECT_ERR(mmio_batch_raw(self->vcpu, acc, ~0U, &done, 0), EINVAL);
	EXPECT_ERR(mmio_batch_raw(self->vcpu, acc, 1, &done, 1), EINVAL);
	EXPECT_ERR(mmio_batch_raw(self->vcpu, acc, 8, &done, 1ULL << 63), EINVAL);
	EXPECT_EQ(0, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_READS));

	EXPECT_ERR(ioctl(self->vcpu, XVM_MMIO_BATCH, NULL), EFAULT);
	EXPECT_ERR(ioctl(self->vcpu, XVM_MMIO_BATCH, BAD_PTR), EFAULT);
	EXPECT_ERR(mmio_batch_raw(self->vcpu, NULL, 1, &done, 0), EFAULT);
	EXPECT_ERR(mmio_batch_raw(self->vcpu, BAD_PTR, 4, &done, 0), EFAULT);
	EXPECT_ERR(mmio_batch_raw(self->vcpu, (void *)KERNEL_ADDR, 4, &done, 0), EFAULT);

	/* an array that runs into an inaccessible page */
	pages = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	ASSERT_OK(mprotect(pages + PAGE, PAGE, PROT_NONE));
	{
		struct xvm_mmio *tail = (struct xvm_mmio *)(pages + PAGE) - 2;

		tail[0] = mk_acc(REG_BASE, 8, 0, 0);
		tail[1] = mk_acc(REG_BASE, 8, 0, 0);
		EXPECT_ERR(mmio_batch_raw(self->vcpu, tail, 3, &done, 0), EFAULT);
	}
	munmap(pages, 2 * PAGE);
}

TEST_F(bus, batch_in_order_and_written_back)
{
	struct xvm_mmio acc[8];
	uint32_t done = 0;

	acc[0] = mk_acc(REG_BASE + 0x10, 8, 1, 0x1111222233334444ULL);
	acc[1] = mk_acc(REG_BASE + 0x10, 8, 0, 0xdeadULL);
	acc[2] = mk_acc(REG_BASE + 0x12, 2, 1, 0xffffffffffffbeefULL);
	acc[3] = mk_acc(REG_BASE + 0x10, 8, 0, 0);
	acc[4] = mk_acc(0x1000, 4, 1, 1);		/* unclaimed */
	acc[5] = mk_acc(REG_BASE + 0x11, 2, 0, 0);	/* misaligned */
	acc[6] = mk_acc(REG_BASE + 0x13, 1, 0, ~0ULL);
	acc[7] = mk_acc(REG_BASE + REG_SIZE - 4, 8, 0, 0); /* straddles */

	ASSERT_EQ(0, xvm_mmio_batch(self->vcpu, acc, 8, &done))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(8, done);
	EXPECT_EQ(XVM_MMIO_HANDLED, acc[0].result);
	EXPECT_EQ(XVM_MMIO_HANDLED, acc[1].result);
	EXPECT_EQ(0x1111222233334444ULL, acc[1].data);
	EXPECT_EQ(XVM_MMIO_HANDLED, acc[2].result);
	EXPECT_EQ(XVM_MMIO_HANDLED, acc[3].result);
	EXPECT_EQ(0x11112222beef4444ULL, acc[3].data);
	EXPECT_EQ(XVM_MMIO_UNHANDLED, acc[4].result);
	EXPECT_EQ(XVM_MMIO_UNHANDLED, acc[5].result);
	EXPECT_EQ(XVM_MMIO_HANDLED, acc[6].result);
	EXPECT_EQ(0xbe, acc[6].data);
	EXPECT_EQ(XVM_MMIO_UNHANDLED, acc[7].result);
	EXPECT_EQ(3, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_READS));
	EXPECT_EQ(2, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_WRITES));
	EXPECT_EQ(1, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_REJECTED));
}

/* The first invalid entry stops the batch: EINVAL, done = its index. */
TEST_F(bus, batch_stops_at_invalid_entry)
{
	static const struct { int kind; uint32_t at; } cases[] = {
		{ 0, 0 }, { 0, 3 }, { 1, 5 }, { 2, 1 }, { 3, 6 }, { 0, 7 },
	};
	unsigned int c, i;

	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		struct xvm_mmio acc[8];
		uint32_t at = cases[c].at, done = 0xfeed;
		int ret, e;

		/* clear the file */
		for (i = 0; i < 8; i++)
			wr(_metadata, self->vcpu, REG_BASE + 8 * i, 8, 0);
		/* even entries write, odd entries read the previous */
		for (i = 0; i < 8; i++)
			acc[i] = (i & 1) ? mk_acc(REG_BASE + 8 * (i - 1), 8, 0, 0)
					 : mk_acc(REG_BASE + 8 * i, 8, 1, 100 + i);
		switch (cases[c].kind) {
		case 0: acc[at].len = 3; break;
		case 1: acc[at].flags |= 1U << 4; break;
		case 2: acc[at].reserved = 1; break;
		case 3: acc[at].addr = ~0ULL - 1; break;
		}
		errno = 0;
		ret = mmio_batch_raw(self->vcpu, acc, 8, &done, 0);
		e = errno;
		EXPECT_EQ(-1, ret) TH_LOG("case %u", c);
		EXPECT_EQ(EINVAL, e) TH_LOG("case %u: %s", c, strerror(e));
		EXPECT_EQ(at, done) TH_LOG("case %u", c);
		for (i = 0; i < 8; i++) {
			uint64_t want_mem = (!(i & 1) && i < at) ? 100 + i : 0;

			if (!(i & 1))
				EXPECT_EQ(want_mem, rd(_metadata, self->vcpu,
						       REG_BASE + 8 * i, 8))
					TH_LOG("case %u entry %u", c, i);
			if (i < at) {
				EXPECT_EQ(XVM_MMIO_HANDLED, acc[i].result)
					TH_LOG("case %u entry %u", c, i);
				if (i & 1)
					EXPECT_EQ(100 + i - 1, acc[i].data)
						TH_LOG("case %u entry %u", c, i);
			} else if (i > at) {
				EXPECT_EQ(0xdead, acc[i].result)
					TH_LOG("case %u entry %u written", c, i);
			}
		}
	}
}

TEST_F(bus, batch_max_1024)
{
	static struct xvm_mmio acc[XVM_MMIO_BATCH_MAX];
	uint32_t done = 0, i;

	ASSERT_EQ(REG_SIZE, 4096);	/* 512 8-byte registers */
	for (i = 0; i < XVM_MMIO_BATCH_MAX; i++) {
		if (i < 512)
			acc[i] = mk_acc(REG_BASE + 8 * i, 8, 1, 0x1000000ULL * i + i);
		else
			acc[i] = mk_acc(REG_BASE + 8 * (1023 - i), 8, 0, 0);
	}
	ASSERT_EQ(0, xvm_mmio_batch(self->vcpu, acc, XVM_MMIO_BATCH_MAX, &done))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(XVM_MMIO_BATCH_MAX, done);
	for (i = 512; i < XVM_MMIO_BATCH_MAX; i++) {
		uint32_t j = 1023 - i;

		ASSERT_EQ(XVM_MMIO_HANDLED, acc[i].result);
		ASSERT_EQ(0x1000000ULL * j + j, acc[i].data) TH_LOG("entry %u", i);
	}
	EXPECT_EQ(512, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_WRITES));
	EXPECT_EQ(512, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_READS));
}

/* The errno of cmd with byte of a copy of base set, 0 if it succeeds. */
static int ioctl_byte(int fd, unsigned long cmd, const void *base, size_t n,
		      size_t byte)
{
	unsigned char buf[128];

	memcpy(buf, base, n);
	buf[byte] = 0x01;
	return ioctl(fd, cmd, buf) ? errno : 0;
}

#define EXPECT_ZERO_FIELDS(fd, cmd, base, first, last) do {		\
	size_t __i;							\
	for (__i = offsetof(typeof(base), first);			\
	     __i < offsetof(typeof(base), last) + sizeof((base).last);	\
	     __i++) {							\
		EXPECT_EQ(EINVAL, ioctl_byte(fd, cmd, &(base),		\
					     sizeof(base), __i))	\
			TH_LOG("byte %zu of %s", __i, #cmd);		\
	}								\
} while (0)

static void expect_flag_bits(struct __test_metadata *_metadata, int fd,
			     unsigned long cmd, struct xvm_evtchn_op op,
			     __u32 valid)
{
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		if (valid & (1U << bit))
			continue;
		op.flags = 1U << bit;
		EXPECT_EQ(EINVAL, ioctl(fd, cmd, &op) ? errno : 0)
			TH_LOG("flag bit %u of %#lx", bit, cmd);
	}
}

/*
 * The ioctl tables' generic checks (kmod/core/ioctl.c): every single byte
 * of a pad or reserved field, and every unknown flag bit, fails with
 * EINVAL, for an ioctl whose struct is otherwise valid (the baseline
 * succeeds).  Byte by byte, so that a table naming the wrong range is
 * caught.
 */
TEST_F(vm, table_zero_fields_and_flags_einval)
{
	struct xvm_evtchn_op op = { 0 };
	struct xvm_mmio_batch batch = { 0 };
	struct xvm_create_device cd = { .type = XVM_DEV_TYPE_TEST,
					.flags = XVM_CREATE_DEVICE_TEST };
	struct xvm_poll poll = { 0 };
	__u32 port;

	ASSERT_EQ(0, ioctl(self->vm, XVM_EVTCHN_ALLOC_UNBOUND, &op));
	port = op.port;
	EXPECT_ZERO_FIELDS(self->vm, XVM_EVTCHN_ALLOC_UNBOUND, op, pad,
			   reserved);
	expect_flag_bits(_metadata, self->vm, XVM_EVTCHN_ALLOC_UNBOUND, op,
			 XVM_EVTCHN_ALLOC_REMOTE);
	op = (struct xvm_evtchn_op){ .port = port };
	ASSERT_EQ(0, ioctl(self->vm, XVM_EVTCHN_STATUS, &op));
	op = (struct xvm_evtchn_op){ .port = port };
	EXPECT_ZERO_FIELDS(self->vm, XVM_EVTCHN_STATUS, op, pad, reserved);
	expect_flag_bits(_metadata, self->vm, XVM_EVTCHN_STATUS, op, 0);
	ASSERT_EQ(0, ioctl(self->vm, XVM_EVTCHN_MASK, &op));
	EXPECT_ZERO_FIELDS(self->vm, XVM_EVTCHN_MASK, op, pad, reserved);
	expect_flag_bits(_metadata, self->vm, XVM_EVTCHN_MASK, op, 0);

	ASSERT_EQ(0, ioctl(self->vm, XVM_CREATE_DEVICE, &cd));
	EXPECT_ZERO_FIELDS(self->vm, XVM_CREATE_DEVICE, cd, pad, pad);

	ASSERT_EQ(0, ioctl(self->vcpu, XVM_MMIO_BATCH, &batch));
	EXPECT_ZERO_FIELDS(self->vcpu, XVM_MMIO_BATCH, batch, reserved,
			   reserved);

	poll.ports = (uintptr_t)&port;
	poll.nr_ports = 1;
	poll.timeout_ns = 1;
	ASSERT_EQ(0, ioctl(self->vcpu, XVM_POLL, &poll));	/* timed out */
	EXPECT_ZERO_FIELDS(self->vcpu, XVM_POLL, poll, pad, reserved);
}

/* --------------------------------------------------------------------- */
/* MMIO through the vCPU run page (XVM_MMIO_RUN)                          */

/* The mmap size, as every fd that answers it gives it. */
TEST_F(vm, vcpu_mmap_size)
{
	long page = sysconf(_SC_PAGESIZE);
	int size = xvm_get_vcpu_mmap_size(self->xvm);

	EXPECT_EQ(page, size);
	EXPECT_LE(sizeof(struct xvm_vcpu_run), (size_t)size);
	EXPECT_EQ(4096, sizeof(struct xvm_vcpu_run));
	EXPECT_EQ(size, xvm_check_extension(self->xvm, XVM_CAP_VCPU_MMAP));
	EXPECT_EQ(size, xvm_check_extension(self->vm, XVM_CAP_VCPU_MMAP));
	EXPECT_ERR(ioctl(self->xvm, XVM_GET_VCPU_MMAP_SIZE, 1), EINVAL);
	EXPECT_ERR(ioctl(self->vm, XVM_GET_VCPU_MMAP_SIZE, 0), ENOTTY);
	EXPECT_ERR(ioctl(self->vcpu, XVM_GET_VCPU_MMAP_SIZE, 0), ENOTTY);
	/* XVM_MMIO_RUN is the vCPU fd's only, and only as _IO() */
	EXPECT_ERR(ioctl(self->xvm, XVM_MMIO_RUN, 0), ENOTTY);
	EXPECT_ERR(ioctl(self->vm, XVM_MMIO_RUN, 0), ENOTTY);
	EXPECT_ERR(ioctl(self->dev, XVM_MMIO_RUN, 0), ENOTTY);
	EXPECT_ERR(ioctl(self->vcpu, _IOWR(XVMIO, 0x82, struct xvm_mmio),
			 &(struct xvm_mmio){ 0 }), ENOTTY);
	EXPECT_ERR(ioctl(self->vcpu, _IOW(XVMIO, 0x82, __u64),
			 &(uint64_t){ 0 }), ENOTTY);
}

/* mmap() of the run page: offset 0, one page, shared, not executable. */
TEST_F(vm, vcpu_mmap_checks)
{
	size_t size = (size_t)xvm_get_vcpu_mmap_size(self->xvm);
	const int rw = PROT_READ | PROT_WRITE;
	void *p, *q;

	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, rw, MAP_SHARED, self->vcpu,
				   size));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * size, rw, MAP_SHARED,
				   self->vcpu, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, rw, MAP_PRIVATE, self->vcpu,
				   0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, rw | PROT_EXEC, MAP_SHARED,
				   self->vcpu, 0));
	EXPECT_EQ(EINVAL, errno);
	/* other fds have no mmap at all */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, rw, MAP_SHARED, self->vm, 0));
	EXPECT_EQ(ENODEV, errno);

	p = mmap(NULL, size, PROT_READ, MAP_SHARED, self->vcpu, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_ERR(mprotect(p, size, PROT_READ | PROT_EXEC), EACCES);
	/* it cannot grow */
	EXPECT_EQ(MAP_FAILED, mremap(p, size, 2 * size, MREMAP_MAYMOVE));
	EXPECT_EQ(EFAULT, errno);
	q = mmap(NULL, size, rw, MAP_SHARED, self->vcpu, 0);
	ASSERT_NE(MAP_FAILED, q);
	/* one page: a store through one mapping shows through the other */
	((volatile uint32_t *)q)[1] = 0x5a5a;
	EXPECT_EQ(0x5a5a, ((volatile uint32_t *)p)[1]);
	/* at creation: the size, and zeros */
	EXPECT_EQ(sizeof(struct xvm_vcpu_run),
		  ((struct xvm_vcpu_run *)p)->size);
	EXPECT_EQ(0, ((struct xvm_vcpu_run *)p)->mmio.addr);
	munmap(q, size);
	munmap(p, size);
}

FIXTURE(run) {
	int xvm, vm, vcpu, dev;
	size_t size;
	struct xvm_vcpu_run *run;
};

FIXTURE_SETUP(run)
{
	int ret;

	self->vcpu = self->dev = -1;
	self->run = NULL;
	ASSERT_OK(fixture_vm_open(&self->xvm, &self->vm, 0));
	ASSERT_OK(fixture_vcpus(self->vm, &self->vcpu, 1));
	ret = fixture_testdev(self->vm, &self->dev, REG_BASE, REG_SIZE);
	if (self->dev < 0 && errno == ENODEV)
		SETUP_SKIP("xvm-testdev not loaded");
	ASSERT_LE(0, self->dev) TH_LOG("CREATE_DEVICE(TEST): %s", strerror(errno));
	ASSERT_OK(ret);
	ret = xvm_get_vcpu_mmap_size(self->xvm);
	ASSERT_LT(0, ret);
	self->size = (size_t)ret;
	self->run = xvm_vcpu_map_run(self->vcpu, self->size);
	ASSERT_NE(NULL, self->run) TH_LOG("mmap: %s", strerror(errno));
}

FIXTURE_TEARDOWN(run)
{
	if (self->run)
		xvm_vcpu_unmap_run(self->run, self->size);
	close_fd(&self->dev);
	close_fd(&self->vcpu);
	close_fd(&self->vm);
	close_fd(&self->xvm);
}

/* Puts an access in the run page, result and data preloaded with junk. */
static void run_set(struct xvm_vcpu_run *run, uint64_t addr, uint32_t len,
		    int write, uint64_t data)
{
	run->mmio = mk_acc(addr, len, write, data);
}

/* Reads and writes round-trip through the run page and XVM_MMIO alike. */
TEST_F(run, round_trip)
{
	struct xvm_vcpu_run *run = self->run;
	uint64_t v = 0;
	int h = -1;

	run_set(run, REG_BASE + 8, 8, 1, 0x0807060504030201ULL);
	ASSERT_OK(xvm_mmio_run(self->vcpu));
	EXPECT_EQ(XVM_MMIO_HANDLED, run->mmio.result);
	EXPECT_EQ(0x0807060504030201ULL, run->mmio.data); /* left alone */
	EXPECT_EQ(REG_BASE + 8, run->mmio.addr);
	EXPECT_EQ(0x0807060504030201ULL,
		  rd(_metadata, self->vcpu, REG_BASE + 8, 8));

	/* a read is zero-extended over the junk in data */
	wr(_metadata, self->vcpu, REG_BASE + 16, 8, 0x1122334455667788ULL);
	run_set(run, REG_BASE + 16, 2, 0, 0xa5a5a5a5a5a5a5a5ULL);
	ASSERT_OK(xvm_mmio_run(self->vcpu));
	EXPECT_EQ(XVM_MMIO_HANDLED, run->mmio.result);
	EXPECT_EQ(0x7788, run->mmio.data);
	run_set(run, REG_BASE + 19, 1, 0, ~0ULL);
	ASSERT_OK(xvm_mmio_run(self->vcpu));
	EXPECT_EQ(0x55, run->mmio.data);
	run_set(run, REG_BASE + 20, 4, 0, ~0ULL);
	ASSERT_OK(xvm_mmio_run(self->vcpu));
	EXPECT_EQ(0x11223344, run->mmio.data);

	/* a write keeps only its low len bytes */
	run_set(run, REG_BASE + 16, 2, 1, 0xffffffffffffbeefULL);
	ASSERT_OK(xvm_mmio_run(self->vcpu));
	EXPECT_EQ(0x112233445566beefULL,
		  rd(_metadata, self->vcpu, REG_BASE + 16, 8));

	/* and via the library */
	ASSERT_OK(xvm_mmio_run_write(self->vcpu, run, REG_BASE + 24, 4, 9, &h));
	EXPECT_EQ(1, h);
	h = -1;
	ASSERT_OK(xvm_mmio_run_read(self->vcpu, run, REG_BASE + 24, 4, &v, &h));
	EXPECT_EQ(1, h);
	EXPECT_EQ(9, v);
	/* three through the page, one wr() */
	EXPECT_EQ(4, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_WRITES));
}

/* Unclaimed and straddling accesses: UNHANDLED, a read's data zero. */
TEST_F(run, unhandled)
{
	struct xvm_vcpu_run *run = self->run;
	uint64_t v = 1;
	int h = -1;

	run_set(run, REG_BASE + REG_SIZE, 4, 0, ~0ULL);
	ASSERT_OK(xvm_mmio_run(self->vcpu));
	EXPECT_EQ(XVM_MMIO_UNHANDLED, run->mmio.result);
	EXPECT_EQ(0, run->mmio.data);
	run_set(run, REG_BASE - 4, 8, 1, 0x77);
	ASSERT_OK(xvm_mmio_run(self->vcpu));
	EXPECT_EQ(XVM_MMIO_UNHANDLED, run->mmio.result);
	EXPECT_EQ(0x77, run->mmio.data);
	/* the region's neighbour bytes were not written */
	EXPECT_EQ(0, rd(_metadata, self->vcpu, REG_BASE, 8));
	ASSERT_OK(xvm_mmio_run_read(self->vcpu, run, 0x1000, 8, &v, &h));
	EXPECT_EQ(0, h);
	EXPECT_EQ(0, v);
	/* only the rd() reached the device */
	EXPECT_EQ(1, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_READS));
	EXPECT_EQ(0, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_WRITES));
}

/* A malformed access, or an arg, is -EINVAL and leaves the page as it was. */
TEST_F(run, einval_page_untouched)
{
	static const uint32_t badlen[] = { 0, 3, 5, 6, 7, 9, 16, 18, 24,
					    0x80000000u, 0x80000004u };
	struct xvm_vcpu_run *run = self->run;
	struct xvm_mmio bad[ARRAY_SIZE(badlen) + 5];
	unsigned int i, n = 0;
	uint8_t *before;

	before = malloc(self->size);
	ASSERT_NE(NULL, before);
	for (i = 0; i < ARRAY_SIZE(badlen); i++)
		bad[n++] = mk_acc(REG_BASE, badlen[i], i & 1, 0);
	bad[n] = mk_acc(REG_BASE, 4, 0, 0);
	bad[n++].flags = 1U << 1;
	bad[n] = mk_acc(REG_BASE, 4, 1, 0);
	bad[n++].flags |= 1U << 31;
	bad[n] = mk_acc(REG_BASE, 4, 0, 0);
	bad[n++].reserved = 1;
	bad[n++] = mk_acc(~0ULL, 2, 0, 0);
	bad[n++] = mk_acc(~0ULL - 3, 8, 1, 0);

	memset((char *)run + 8 + sizeof(run->mmio), 0x3c,
	       self->size - 8 - sizeof(run->mmio));
	for (i = 0; i < n; i++) {
		run->mmio = bad[i];
		memcpy(before, run, self->size);
		EXPECT_EQ(-1, xvm_mmio_run(self->vcpu)) TH_LOG("access %u", i);
		EXPECT_EQ(EINVAL, errno) TH_LOG("access %u", i);
		EXPECT_EQ(0, memcmp(before, run, self->size)) TH_LOG("access %u", i);
	}
	/* a well-formed access with an arg */
	run->mmio = mk_acc(REG_BASE, 4, 1, 1);
	memcpy(before, run, self->size);
	EXPECT_ERR(ioctl(self->vcpu, XVM_MMIO_RUN, 1), EINVAL);
	EXPECT_ERR(ioctl(self->vcpu, XVM_MMIO_RUN, ~0UL), EINVAL);
	EXPECT_EQ(0, memcmp(before, run, self->size));
	/* the page's own reserved bytes are ignored, not checked */
	EXPECT_OK(xvm_mmio_run(self->vcpu));
	EXPECT_EQ(XVM_MMIO_HANDLED, run->mmio.result);
	EXPECT_EQ(1, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_WRITES));
	EXPECT_EQ(0, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_READS));
	free(before);
}

/* The per-vCPU and per-VM MMIO counters count run-page accesses. */
TEST_F(run, stats_counted)
{
	uint64_t hv = ~0ULL, uv = ~0ULL, vmh = ~0ULL;
	int i, h, sfd, vsfd;

	for (i = 0; i < 5; i++)
		ASSERT_OK(xvm_mmio_run_write(self->vcpu, self->run,
					     REG_BASE + 8 * i, 8, i, &h));
	for (i = 0; i < 3; i++)
		ASSERT_OK(xvm_mmio_run_read(self->vcpu, self->run, 0x1000, 4,
					    NULL, &h));
	/* malformed ones count nowhere */
	self->run->mmio = mk_acc(REG_BASE, 3, 0, 0);
	EXPECT_ERR(xvm_mmio_run(self->vcpu), EINVAL);
	sfd = xvm_get_stats_fd(self->vcpu);
	ASSERT_LE(0, sfd);
	vsfd = xvm_get_stats_fd(self->vm);
	ASSERT_LE(0, vsfd);
	EXPECT_OK(xvm_stats_get(sfd, "mmio_exits_handled", &hv));
	EXPECT_OK(xvm_stats_get(sfd, "mmio_exits_unhandled", &uv));
	EXPECT_OK(xvm_stats_get(vsfd, "mmio_exits_handled", &vmh));
	EXPECT_EQ(5, hv);
	EXPECT_EQ(3, uv);
	EXPECT_EQ(5, vmh);
	EXPECT_EQ(5, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_WRITES));
	close(sfd);
	close(vsfd);
}

/*
 * The mapping outlives the fds and the fds the mapping: munmap and close
 * in either order, and the page keeps what was written until both go.
 */
TEST_F(run, munmap_close_any_order)
{
	size_t size = self->size;
	struct xvm_vcpu_run *run2;
	int h = -1;

	/* close first: the mapping still reads, writes, and is the page */
	run2 = xvm_vcpu_map_run(self->vcpu, size);
	ASSERT_NE(NULL, run2);
	ASSERT_OK(xvm_mmio_run_write(self->vcpu, self->run, REG_BASE, 8, 42, &h));
	close_fd(&self->dev);
	close_fd(&self->vcpu);
	close_fd(&self->vm);
	EXPECT_EQ(42, run2->mmio.data);
	EXPECT_EQ(XVM_MMIO_HANDLED, run2->mmio.result);
	run2->mmio.addr = 7;
	EXPECT_EQ(7, self->run->mmio.addr);
	EXPECT_OK(xvm_vcpu_unmap_run(run2, size));
	EXPECT_EQ(7, self->run->mmio.addr);
	EXPECT_OK(xvm_vcpu_unmap_run(self->run, size));
	self->run = NULL;

	/* munmap first: the page and its contents stay with the vCPU */
	self->vm = xvm_create_vm(self->xvm, 0);
	ASSERT_LE(0, self->vm);
	ASSERT_OK(fixture_vcpus(self->vm, &self->vcpu, 1));
	run2 = xvm_vcpu_map_run(self->vcpu, size);
	ASSERT_NE(NULL, run2);
	EXPECT_EQ(0, run2->mmio.addr);	/* a new vCPU, a new page */
	run_set(run2, 0x1000, 4, 0, 3);
	EXPECT_OK(xvm_vcpu_unmap_run(run2, size));
	EXPECT_OK(xvm_mmio_run(self->vcpu));	/* into the unmapped page */
	self->run = xvm_vcpu_map_run(self->vcpu, size);
	ASSERT_NE(NULL, self->run);
	EXPECT_EQ(XVM_MMIO_UNHANDLED, self->run->mmio.result);
	EXPECT_EQ(0x1000, self->run->mmio.addr);
	EXPECT_EQ(0, self->run->mmio.data);
	/* the teardown unmaps it, then closes the fds */
}

/*
 * A forked child shares the page but its XVM_MMIO_RUN is refused, -EIO as
 * for every vCPU ioctl from another mm, and the page is left as it was.
 */
TEST_F(run, fork_child_refused)
{
	struct xvm_vcpu_run *run = self->run;
	int status = -1;
	pid_t pid;

	run_set(run, REG_BASE, 8, 1, 0x99);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ok = 1;

		ok &= ioctl(self->vcpu, XVM_MMIO_RUN, 0) == -1 && errno == EIO;
		ok &= run->mmio.result == 0xdead;	/* untouched */
		ok &= ioctl(self->vcpu, XVM_MMIO_RUN, 1) == -1 && errno == EIO;
		run->mmio.addr = REG_BASE + 8;		/* the parent sees it */
		_exit(ok ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(REG_BASE + 8, run->mmio.addr);
	EXPECT_EQ(0, dstat(_metadata, self->dev, XVM_TESTDEV_STAT_WRITES));
	ASSERT_OK(xvm_mmio_run(self->vcpu));
	EXPECT_EQ(XVM_MMIO_HANDLED, run->mmio.result);
	EXPECT_EQ(0x99, rd(_metadata, self->vcpu, REG_BASE + 8, 8));
}

struct run_race {
	int vcpu;
	struct xvm_vcpu_run *run;
	volatile int stop;
	long calls, einval, other;
};

static void *run_race_caller(void *arg)
{
	struct run_race *r = arg;

	while (!r->stop) {
		int ret = ioctl(r->vcpu, XVM_MMIO_RUN, 0);

		__atomic_add_fetch(&r->calls, 1, __ATOMIC_RELAXED);
		if (ret && errno == EINVAL)
			__atomic_add_fetch(&r->einval, 1, __ATOMIC_RELAXED);
		else if (ret)
			__atomic_add_fetch(&r->other, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * Two threads run accesses on one vCPU while a third rewrites the page
 * with anything, straddling the region's end: each call succeeds or fails
 * with EINVAL, nothing worse (the kernel acts on the values it screened,
 * never on a later read of the page), and the vCPU works afterwards.
 */
TEST_F(run, concurrent_rewrites_are_safe)
{
	struct run_race r = { .vcpu = self->vcpu, .run = self->run };
	volatile struct xvm_mmio *m = &self->run->mmio;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	uint64_t t0 = mono_ns();
	pthread_t t[2];

	ASSERT_EQ(0, pthread_create(&t[0], NULL, run_race_caller, &r));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, run_race_caller, &r));
	/* until the callers made enough calls, or 5 s (a slow emulator) */
	while (__atomic_load_n(&r.calls, __ATOMIC_RELAXED) < 20000 &&
	       mono_ns() - t0 < 5000000000ULL) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		m->addr = REG_BASE + REG_SIZE - 8 + (x & 15);
		m->len = (uint32_t)(x >> 8) & 15;
		m->flags = (uint32_t)(x >> 16) & 3;
		m->reserved = !((x >> 24) & 63);
		m->data = x;
	}
	r.stop = 1;
	ASSERT_EQ(0, pthread_join(t[0], NULL));
	ASSERT_EQ(0, pthread_join(t[1], NULL));
	EXPECT_EQ(0, r.other);
	EXPECT_LT(0, r.calls);
	TH_LOG("%ld calls, %ld EINVAL", r.calls, r.einval);
	/* the vCPU still works */
	run_set(self->run, REG_BASE, 8, 1, 5);
	ASSERT_OK(xvm_mmio_run(self->vcpu));
	EXPECT_EQ(XVM_MMIO_HANDLED, self->run->mmio.result);
}

TEST_HARNESS_MAIN
