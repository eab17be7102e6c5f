// SPDX-License-Identifier: GPL-2.0
/*
 * stats_test: the binary statistics fds (XVM_GET_STATS_FD) of a VM and of
 * a vCPU, on the model of KVM's kvm_binary_stats_test.c: the header, the
 * descriptors, reads at every offset, read-only, the VM reference the fd
 * holds, and that each counter counts exactly what happened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "xvm_harness.h"
#include "xvm_fixture.h"
#include "xvm_pci.h"

#define REG_BASE	0x10000000ULL
#define REG_SIZE	0x1000ULL
#define NO_REG		0x20000000ULL	/* nothing claims it */

static const char *const vm_names[] = {
	"mmio_exits_handled", "mmio_exits_unhandled",
	"evtchn_sends", "evtchn_raises",
	"msix_delivered", "msix_latched", "iommu_pages_mapped",
};

#define NR_VM_STATS	7
#define NR_VCPU_STATS	12

static const char *const vcpu_names[] = {
	"polls", "poll_wakeups", "poll_timeouts",
	"halt_successful_poll", "halt_attempted_poll", "halt_poll_invalid",
	"halt_wakeup", "halt_poll_success_ns", "halt_poll_fail_ns",
	"halt_wait_ns", "mmio_exits_handled", "mmio_exits_unhandled",
};

/* The whole file as one pread() reads it; *size is its length. */
static void *read_all(int fd, size_t *size)
{
	struct xvm_stats_header hdr;
	void *buf;

	if (xvm_stats_read_header(fd, &hdr))
		return NULL;
	*size = hdr.data_offset + (size_t)hdr.num_desc * sizeof(uint64_t);
	buf = calloc(1, *size + 1);
	if (buf && pread(fd, buf, *size + 1, 0) != (ssize_t)*size) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Header sanity, as kvm_binary_stats_test.c checks it. */
static void check_header(struct __test_metadata *_metadata, int fd,
			 const char *id_has, uint32_t want_desc)
{
	struct xvm_stats_header hdr;
	char id[XVM_STATS_NAME_SIZE];

	ASSERT_OK(xvm_stats_read_header(fd, &hdr));
	EXPECT_EQ(0, hdr.flags);
	EXPECT_EQ(XVM_STATS_NAME_SIZE, hdr.name_size);
	EXPECT_EQ(want_desc, hdr.num_desc);
	EXPECT_LE(sizeof(hdr), hdr.id_offset);
	EXPECT_LE(hdr.id_offset + hdr.name_size, hdr.desc_offset);
	EXPECT_LE(hdr.desc_offset + xvm_stats_descs_size(&hdr),
		  hdr.data_offset);
	ASSERT_OK(xvm_stats_read_id(fd, &hdr, id));
	EXPECT_NE(NULL, memchr(id, 0, sizeof(id)));
	EXPECT_EQ(0, strncmp(id, "xvm-", 4));
	EXPECT_NE(NULL, strstr(id, id_has)) TH_LOG("id \"%s\"", id);
}

static int name_listed(const char *name, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(name, names[i]))
			return 1;
	return 0;
}

/* Descriptor sanity: names, flags, sizes and offsets. */
static void check_descs(struct __test_metadata *_metadata, int fd,
			const char *const *names, int n)
{
	struct xvm_stats_header hdr;
	struct xvm_stats_desc *d, *e;
	uint32_t i, j, data_size;
	void *buf;

	ASSERT_OK(xvm_stats_read_header(fd, &hdr));
	data_size = hdr.num_desc * sizeof(uint64_t);
	buf = malloc(xvm_stats_descs_size(&hdr));
	ASSERT_NE(NULL, buf);
	ASSERT_OK(xvm_stats_read_descs(fd, &hdr, buf));
	for (i = 0; i < hdr.num_desc; i++) {
		d = xvm_stats_desc_at(buf, &hdr, i);
		EXPECT_NE(NULL, memchr(d->name, 0, hdr.name_size));
		EXPECT_LT(0, strnlen(d->name, hdr.name_size));
		EXPECT_TRUE(name_listed(d->name, names, n)) TH_LOG("%s", d->name);
		EXPECT_LE(d->flags & XVM_STATS_TYPE_MASK, XVM_STATS_TYPE_MAX);
		EXPECT_LE(d->flags & XVM_STATS_UNIT_MASK, XVM_STATS_UNIT_MAX);
		EXPECT_LE(d->flags & XVM_STATS_BASE_MASK, XVM_STATS_BASE_MAX);
		EXPECT_EQ(strcmp(d->name, "iommu_pages_mapped") ?
			  XVM_STATS_TYPE_CUMULATIVE : XVM_STATS_TYPE_INSTANT,
			  d->flags & XVM_STATS_TYPE_MASK) TH_LOG("%s", d->name);
		EXPECT_EQ(0, d->flags & ~(XVM_STATS_TYPE_MASK | XVM_STATS_UNIT_MASK |
					  XVM_STATS_BASE_MASK));
		EXPECT_EQ(1, d->size);
		EXPECT_EQ(0, d->bucket_size);
		EXPECT_EQ(0, d->offset % sizeof(uint64_t));
		EXPECT_LE(d->offset + d->size * sizeof(uint64_t), data_size);
		for (j = 0; j < i; j++) {
			e = xvm_stats_desc_at(buf, &hdr, j);
			EXPECT_STRNE(d->name, e->name);
			EXPECT_NE(d->offset, e->offset);
		}
	}
	free(buf);
}

/* Every (offset, length) reads what one whole read did; past the end, 0. */
static void check_reads(struct __test_metadata *_metadata, int fd)
{
	char part[1024];
	size_t size, off, len;
	char *all;

	all = read_all(fd, &size);
	ASSERT_NE(NULL, all);
	ASSERT_LE(size, sizeof(part));
	for (off = 0; off < size; off++) {
		for (len = 1; off + len <= size; len += 7) {
			memset(part, 0xa5, len);
			ASSERT_EQ((ssize_t)len, pread(fd, part, len, off));
			ASSERT_EQ(0, memcmp(part, all + off, len))
				TH_LOG("offset %zu length %zu", off, len);
		}
	}
	EXPECT_EQ(0, pread(fd, part, sizeof(part), size));
	EXPECT_EQ(0, pread(fd, part, sizeof(part), size + 4096));
	EXPECT_ERR(pread(fd, part, sizeof(part), -1), EINVAL);

	/* read() from the file position, which lseek() moves. */
	EXPECT_EQ((off_t)size, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(0, read(fd, part, sizeof(part)));
	EXPECT_EQ(8, lseek(fd, 8, SEEK_SET));
	EXPECT_EQ((ssize_t)size - 8, read(fd, part, sizeof(part)));
	EXPECT_EQ(0, memcmp(part, all + 8, size - 8));
	EXPECT_ERR(lseek(fd, -1, SEEK_SET), EINVAL);
	free(all);
}

FIXTURE(stats) {
	int xvm, vm, vcpu, dev, vm_stats, vcpu_stats;
	uint32_t port;
};

FIXTURE_SETUP(stats)
{
	self->vcpu = self->dev = self->vm_stats = self->vcpu_stats = -1;
	ASSERT_OK(fixture_vm_open(&self->xvm, &self->vm, 0));
	ASSERT_OK(fixture_vcpus(self->vm, &self->vcpu, 1));
	ASSERT_OK(fixture_vcpu_port(self->vm, 0, &self->port));
	self->vm_stats = xvm_get_stats_fd(self->vm);
	ASSERT_LE(0, self->vm_stats) TH_LOG("%s", strerror(errno));
	self->vcpu_stats = xvm_get_stats_fd(self->vcpu);
	ASSERT_LE(0, self->vcpu_stats) TH_LOG("%s", strerror(errno));
}

FIXTURE_TEARDOWN(stats)
{
	close_fd(&self->vcpu_stats);
	close_fd(&self->vm_stats);
	close_fd(&self->dev);
	close_fd(&self->vcpu);
	close_fd(&self->vm);
	close_fd(&self->xvm);
}

static uint64_t stat_of(struct __test_metadata *_metadata, int fd,
			const char *name)
{
	uint64_t val = ~0ULL;

	EXPECT_OK(xvm_stats_get(fd, name, &val));
	return val;
}

TEST_F(stats, capability)
{
	EXPECT_EQ(1, xvm_check_extension(self->xvm, XVM_CAP_STATS_FD));
	EXPECT_EQ(1, xvm_check_extension(self->vm, XVM_CAP_STATS_FD));
	EXPECT_ERR(xvm_get_stats_fd(self->xvm), ENOTTY);
	EXPECT_ERR(ioctl(self->vm, _IOR(XVMIO, 0xce, __u64), 0), ENOTTY);
}

TEST_F(stats, header)
{
	check_header(_metadata, self->vm_stats, "xvm-", NR_VM_STATS);
	check_header(_metadata, self->vcpu_stats, "/vcpu-0", NR_VCPU_STATS);
}

TEST_F(stats, descriptors)
{
	check_descs(_metadata, self->vm_stats, vm_names, NR_VM_STATS);
	check_descs(_metadata, self->vcpu_stats, vcpu_names, NR_VCPU_STATS);
}

TEST_F(stats, every_offset)
{
	check_reads(_metadata, self->vm_stats);
	check_reads(_metadata, self->vcpu_stats);
}

TEST_F(stats, read_only)
{
	char c = 0;
	int fl;

	EXPECT_ERR(write(self->vm_stats, &c, 1), EBADF);
	EXPECT_ERR(write(self->vcpu_stats, &c, 1), EBADF);
	/* Not FMODE_PWRITE: pwrite() is -ESPIPE before the mode is looked at. */
	EXPECT_ERR(pwrite(self->vcpu_stats, &c, 1, 0), ESPIPE);
	fl = fcntl(self->vm_stats, F_GETFL);
	EXPECT_EQ(O_RDONLY, fl & O_ACCMODE);
	EXPECT_TRUE(fcntl(self->vm_stats, F_GETFD) & FD_CLOEXEC);
}

/* A new fd reads the same counters; every fd starts nowhere special. */
TEST_F(stats, two_fds_one_vm)
{
	int fd = xvm_get_stats_fd(self->vm);

	ASSERT_LE(0, fd);
	ASSERT_OK(xvm_evtchn_send(self->vm, self->port));
	EXPECT_EQ(1, stat_of(_metadata, fd, "evtchn_sends"));
	EXPECT_EQ(1, stat_of(_metadata, self->vm_stats, "evtchn_sends"));
	close(fd);
}

/* The stats fds keep the VM (and its vCPU) alive: read after every close. */
TEST_F(stats, outlives_vm_fd)
{
	ASSERT_OK(xvm_evtchn_send(self->vm, self->port));
	close_fd(&self->vcpu);
	close_fd(&self->vm);
	EXPECT_EQ(1, stat_of(_metadata, self->vm_stats, "evtchn_sends"));
	EXPECT_EQ(0, stat_of(_metadata, self->vcpu_stats, "polls"));
	check_header(_metadata, self->vcpu_stats, "/vcpu-0", NR_VCPU_STATS);
	check_reads(_metadata, self->vm_stats);
}

TEST_F(stats, mmio_counts)
{
	uint64_t val;
	int handled, ret;

	ret = fixture_testdev(self->vm, &self->dev, REG_BASE, REG_SIZE);
	if (self->dev < 0 && errno == ENODEV)
		SKIP(return, "xvm-testdev not loaded");
	ASSERT_OK(ret);
	EXPECT_EQ(0, stat_of(_metadata, self->vm_stats, "mmio_exits_handled"));
	ASSERT_OK(xvm_mmio_read(self->vcpu, REG_BASE, 4, &val, &handled));
	ASSERT_TRUE(handled);
	EXPECT_EQ(1, stat_of(_metadata, self->vm_stats, "mmio_exits_handled"));
	EXPECT_EQ(0, stat_of(_metadata, self->vm_stats, "mmio_exits_unhandled"));
	ASSERT_OK(xvm_mmio_write(self->vcpu, NO_REG, 4, 1, &handled));
	ASSERT_FALSE(handled);
	EXPECT_EQ(1, stat_of(_metadata, self->vm_stats, "mmio_exits_handled"));
	EXPECT_EQ(1, stat_of(_metadata, self->vm_stats, "mmio_exits_unhandled"));
	EXPECT_EQ(1, stat_of(_metadata, self->vcpu_stats, "mmio_exits_handled"));
	EXPECT_EQ(1, stat_of(_metadata, self->vcpu_stats,
			     "mmio_exits_unhandled"));
}

/*
 * Each vCPU counts its own accesses; the VM's file sums them on read, so
 * accesses on vCPU 1 move vCPU 1's file and the VM's, never vCPU 0's.
 */
TEST_F(stats, mmio_counts_per_vcpu)
{
	struct xvm_mmio acc[3] = {
		{ .addr = REG_BASE, .len = 8 },
		{ .addr = NO_REG, .len = 8 },
		{ .addr = REG_BASE + 8, .len = 4, .flags = XVM_MMIO_WRITE },
	};
	int vcpu1, stats1, handled, ret;
	uint32_t done;
	uint64_t val;

	ret = fixture_testdev(self->vm, &self->dev, REG_BASE, REG_SIZE);
	if (self->dev < 0 && errno == ENODEV)
		SKIP(return, "xvm-testdev not loaded");
	ASSERT_OK(ret);
	vcpu1 = xvm_create_vcpu(self->vm, 1);
	ASSERT_LE(0, vcpu1);
	stats1 = xvm_get_stats_fd(vcpu1);
	ASSERT_LE(0, stats1);
	check_header(_metadata, stats1, "/vcpu-1", NR_VCPU_STATS);

	ASSERT_OK(xvm_mmio_read(self->vcpu, REG_BASE, 4, &val, &handled));
	ASSERT_OK(xvm_mmio_batch(vcpu1, acc, 3, &done));
	ASSERT_EQ(3, done);
	ASSERT_OK(xvm_mmio_read(vcpu1, NO_REG, 4, &val, &handled));
	ASSERT_FALSE(handled);

	EXPECT_EQ(2, stat_of(_metadata, stats1, "mmio_exits_handled"));
	EXPECT_EQ(2, stat_of(_metadata, stats1, "mmio_exits_unhandled"));
	EXPECT_EQ(1, stat_of(_metadata, self->vcpu_stats, "mmio_exits_handled"));
	EXPECT_EQ(0, stat_of(_metadata, self->vcpu_stats,
			     "mmio_exits_unhandled"));
	EXPECT_EQ(3, stat_of(_metadata, self->vm_stats, "mmio_exits_handled"));
	EXPECT_EQ(2, stat_of(_metadata, self->vm_stats, "mmio_exits_unhandled"));
	close(stats1);
	close(vcpu1);
}

/* A send raises; a second send on the pending port raises nothing. */
TEST_F(stats, send_counts)
{
	ASSERT_OK(xvm_evtchn_send(self->vm, self->port));
	EXPECT_EQ(1, stat_of(_metadata, self->vm_stats, "evtchn_sends"));
	EXPECT_EQ(1, stat_of(_metadata, self->vm_stats, "evtchn_raises"));
	ASSERT_OK(xvm_evtchn_send(self->vm, self->port));
	EXPECT_EQ(2, stat_of(_metadata, self->vm_stats, "evtchn_sends"));
	EXPECT_EQ(1, stat_of(_metadata, self->vm_stats, "evtchn_raises"));
	EXPECT_ERR(xvm_evtchn_send(self->vm, self->port + 100), EINVAL);
	EXPECT_EQ(2, stat_of(_metadata, self->vm_stats, "evtchn_sends"));
}

/* An interdomain send is the sender's send and the peer's raise. */
TEST_F(stats, interdomain_counts)
{
	uint32_t port, remote_port;
	int peer, peer_stats;

	peer = xvm_create_vm(self->xvm, 0);
	ASSERT_LE(0, peer);
	peer_stats = xvm_get_stats_fd(peer);
	ASSERT_LE(0, peer_stats);
	ASSERT_OK(fixture_port_pair(self->vm, peer, &port, &remote_port));
	ASSERT_OK(xvm_evtchn_send(self->vm, port));
	EXPECT_EQ(1, stat_of(_metadata, self->vm_stats, "evtchn_sends"));
	EXPECT_EQ(0, stat_of(_metadata, self->vm_stats, "evtchn_raises"));
	EXPECT_EQ(0, stat_of(_metadata, peer_stats, "evtchn_sends"));
	EXPECT_EQ(1, stat_of(_metadata, peer_stats, "evtchn_raises"));
	close(peer_stats);
	close(peer);
}

struct sender {
	int vm;
	uint32_t port;
};

static void *send_later(void *arg)
{
	struct sender *s = arg;

	usleep(20000);
	xvm_evtchn_send(s->vm, s->port);
	return NULL;
}

TEST_F(stats, poll_wakeup_counts)
{
	struct sender s = { .vm = self->vm, .port = self->port };
	pthread_t t;
	uint32_t got = 0;

	ASSERT_EQ(0, pthread_create(&t, NULL, send_later, &s));
	EXPECT_EQ(1, xvm_poll(self->vcpu, &self->port, 1, 0, 0, &got));
	pthread_join(t, NULL);
	EXPECT_EQ(self->port, got);
	EXPECT_EQ(1, stat_of(_metadata, self->vcpu_stats, "polls"));
	EXPECT_EQ(1, stat_of(_metadata, self->vcpu_stats, "poll_wakeups"));
	EXPECT_EQ(0, stat_of(_metadata, self->vcpu_stats, "poll_timeouts"));
}

TEST_F(stats, poll_timeout_counts)
{
	EXPECT_EQ(0, xvm_poll(self->vcpu, &self->port, 1, 1000000, 0, NULL));
	EXPECT_EQ(1, stat_of(_metadata, self->vcpu_stats, "polls"));
	EXPECT_EQ(0, stat_of(_metadata, self->vcpu_stats, "poll_wakeups"));
	EXPECT_EQ(1, stat_of(_metadata, self->vcpu_stats, "poll_timeouts"));
}

/* A poll rejected before it waits is not a poll. */
TEST_F(stats, poll_invalid_not_counted)
{
	uint32_t bad = self->port + 100;

	EXPECT_ERR(xvm_poll(self->vcpu, &bad, 1, 1000, 0, NULL), EINVAL);
	EXPECT_EQ(0, stat_of(_metadata, self->vcpu_stats, "polls"));
}

#define IOMMU_PAGES	4
#define PAGE		4096

/* Frames the IOMMU maps now: up with a map, down with an unmap. */
TEST_F(stats, iommu_pages_mapped)
{
	struct xvm_iommu_unmap all = { .flags = XVM_IOMMU_UNMAP_ALL };
	struct xvm_iommu_map m = {
		.flags = XVM_IOMMU_MAP_READ | XVM_IOMMU_MAP_WRITE |
			 XVM_IOMMU_MAP_SRC_UADDR,
		.dfn = 0x100, .count = IOMMU_PAGES,
	};
	const struct test_pci *edu = test_pci_edu();
	struct xvm_iommu_attach a = { 0 };
	void *mem;

	if (geteuid())
		SKIP(return, "needs root");
	if (xvm_create_device(self->vm, XVM_DEV_TYPE_IOMMU, 0, &self->dev))
		SKIP(return, "xvm-iommu not loaded");
	if (!edu->ok)
		SKIP(return, "%s", edu->why);
	if (iommu_group_of(edu->bdf) < 0)
		SKIP(return, "no edu in an IOMMU group at %s", edu->bdf);
	pci_reset_binding(edu->bdf);
	a.segment = edu->segment;
	a.bus = edu->bus;
	a.devfn = edu->devfn;
	ASSERT_OK(xvm_set_attr(self->dev, XVM_IOMMU_GRP_CTRL,
			       XVM_IOMMU_CTRL_ATTACH, &a));
	mem = mmap(NULL, IOMMU_PAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	m.uaddr = (uintptr_t)mem;

	EXPECT_EQ(0, stat_of(_metadata, self->vm_stats, "iommu_pages_mapped"));
	ASSERT_OK(ioctl(self->dev, XVM_IOMMU_MAP, &m));
	EXPECT_EQ(IOMMU_PAGES,
		  stat_of(_metadata, self->vm_stats, "iommu_pages_mapped"));
	ASSERT_OK(ioctl(self->dev, XVM_IOMMU_UNMAP, &all));
	EXPECT_EQ(0, stat_of(_metadata, self->vm_stats, "iommu_pages_mapped"));
	/* A device closed with frames mapped takes them with it. */
	ASSERT_OK(ioctl(self->dev, XVM_IOMMU_MAP, &m));
	close_fd(&self->dev);
	EXPECT_EQ(0, stat_of(_metadata, self->vm_stats, "iommu_pages_mapped"));
	munmap(mem, IOMMU_PAGES * PAGE);
	pci_reset_binding(edu->bdf);
}

TEST_HARNESS_MAIN
