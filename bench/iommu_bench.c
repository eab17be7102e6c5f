// SPDX-License-Identifier: GPL-2.0
/*
 * iommu_bench: map + unmap of guest memory in an IOMMU domain, xvm-iommu
 * (XVM_IOMMU_MAP/UNMAP on the edu's group, XVM_TEST_EDU) versus VFIO type1
 * (VFIO_IOMMU_MAP_DMA/UNMAP_DMA on the e1000e's group, XVM_TEST_E1000E,
 * bound to vfio-pci), same memory, same sizes (64 MiB and 256 MiB), 4 KiB-backed
 * (MADV_NOHUGEPAGE, populated) and hugetlb-backed (2 MiB pages, reserved
 * here through /proc/sys/vm/nr_hugepages and given back at the end).
 *
 * Both sides pin, account, map and on unmap unpin the same pages.  Each
 * figure is the median of several runs (CLOCK_MONOTONIC) of one map call
 * followed by one unmap call, in 4 KiB pages per second; ratio = xvm / VFIO
 * (goal >= 1.0).  A measurement, not a test: the exit status is non-zero
 * only when a call fails; missing prerequisites print a note and exit 0.
 * Needs about 300 MiB of guest memory beyond the kernel's (make bench's
 * default 1 GiB is enough).
 *
 *   iommu_bench [-r runs]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "libxvm.h"
#include "bench.h"
#include "host/env.h"
#include "host/pci.h"
#include "host/vfio.h"
#include "xvm_fixture.h"

#define PAGE		4096ULL
#define HUGE_2M		(2ULL << 20)
#define MIB		(1ULL << 20)
#define IOVA		(1ULL << 32)
#define MAX_RUNS	31

static int runs = 5;

/* The two sides: each maps size bytes at p, then unmaps them. */
struct side {
	const char *name;
	int fd;
	int (*map)(int fd, void *p, uint64_t size);
	int (*unmap)(int fd, uint64_t size);
};

static int xvm_map(int fd, void *p, uint64_t size)
{
	struct xvm_iommu_map m = {
		.flags = XVM_IOMMU_MAP_READ | XVM_IOMMU_MAP_WRITE |
			 XVM_IOMMU_MAP_SRC_UADDR,
		.dfn = IOVA / PAGE, .count = size / PAGE,
		.uaddr = (uintptr_t)p,
	};

	return ioctl(fd, XVM_IOMMU_MAP, &m);
}

static int xvm_unmap(int fd, uint64_t size)
{
	struct xvm_iommu_unmap u = { .dfn = IOVA / PAGE, .count = size / PAGE };

	if (ioctl(fd, XVM_IOMMU_UNMAP, &u))
		return -1;
	return u.unmapped == size / PAGE ? 0 : -1;
}

static int vfio_map(int fd, void *p, uint64_t size)
{
	return vfio_dma_map(fd, IOVA, p, size);
}

static int vfio_unmap(int fd, uint64_t size)
{
	uint64_t unmapped;

	if (vfio_dma_unmap(fd, IOVA, size, &unmapped))
		return -1;
	return unmapped == size ? 0 : -1;
}

/* Median pages/s of map and unmap of size bytes at p through s. */
static void measure(struct side *s, void *p, uint64_t size, double *map_ps,
		    double *unmap_ps, double *both_ps)
{
	uint64_t tm[MAX_RUNS], tu[MAX_RUNS], tb[MAX_RUNS], t0, t1, t2;
	double pages = (double)(size / PAGE);
	int i;

	for (i = 0; i < runs; i++) {
		t0 = now_ns();
		if (s->map(s->fd, p, size))
			die(s->name);
		t1 = now_ns();
		if (s->unmap(s->fd, size))
			die(s->name);
		t2 = now_ns();
		tm[i] = t1 - t0;
		tu[i] = t2 - t1;
		tb[i] = t2 - t0;
	}
	*map_ps = pages * 1e9 / (double)median_u64(tm, runs);
	*unmap_ps = pages * 1e9 / (double)median_u64(tu, runs);
	*both_ps = pages * 1e9 / (double)median_u64(tb, runs);
}

static void compare(struct side *xvm, struct side *vfio, const char *backing,
		    void *p, uint64_t size)
{
	double xm, xu, xb, vm, vu, vb;
	char row[64];

	/* One warm-up each: page tables of both domains allocated. */
	measure(xvm, p, size, &xm, &xu, &xb);
	measure(vfio, p, size, &vm, &vu, &vb);
	measure(xvm, p, size, &xm, &xu, &xb);
	measure(vfio, p, size, &vm, &vu, &vb);
	printf("%-7s %4llu MiB  map+unmap pages/s: xvm-iommu %10.0f  vfio-type1 %10.0f  ratio %5.2f"
	       "   (map %.2f, unmap %.2f)\n",
	       backing, (unsigned long long)(size / MIB), xb, vb, xb / vb,
	       xm / vm, xu / vu);
	snprintf(row, sizeof(row), "map+unmap, %s %llu MiB", backing,
		 (unsigned long long)(size / MIB));
	bench_record(&(struct bench_row){
		.row = row, .unit = "pages/s", .median = xb,
		.ratio = xb / vb, .anchor = "vfio-type1",
	});
	fflush(stdout);
}

static const uint64_t sizes[] = { 64 * MIB, 256 * MIB };

/* The two domains compared, and what the setup changed to give back. */
struct domains {
	struct side xvm, vfio;
	int xvmfd, vmfd, group;
};

static void parse_args(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt != 'r')
			exit(2);
		runs = atoi(optarg);
		if (runs < 1 || runs > MAX_RUNS)
			runs = 5;
	}
}

/* What is missing to run (printed as "skipped: ..."), or NULL. */
static const char *missing(void)
{
	const struct test_pci *edu = test_pci_edu(), *nic = test_pci_e1000e();

	if (geteuid())
		return "needs root";
	if (!edu->ok || !nic->ok)
		return edu->ok ? nic->why : edu->why;
	return NULL;
}

/* xvm-iommu with the edu attached; NULL, or why it is skipped. */
static const char *xvm_side_setup(struct domains *d)
{
	const struct test_pci *edu = test_pci_edu();
	struct xvm_iommu_attach at = {
		.segment = edu->segment, .bus = edu->bus, .devfn = edu->devfn,
	};

	if (fixture_vm_open(&d->xvmfd, &d->vmfd, 0))
		die(d->xvmfd < 0 ? "open /dev/xvm" : "XVM_CREATE_VM");
	if (xvm_create_device(d->vmfd, XVM_DEV_TYPE_IOMMU, 0, &d->xvm.fd))
		return "xvm-iommu not loaded";
	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK))
		return "vfio-pci not loaded";
	pci_reset_binding(EDU_BDF);
	if (xvm_set_attr(d->xvm.fd, XVM_IOMMU_GRP_CTRL, XVM_IOMMU_CTRL_ATTACH,
			 &at))
		die("attach edu to xvm-iommu");
	return NULL;
}

/* A VFIO type1 container for the e1000e, bound to vfio-pci. */
static void vfio_side_setup(struct domains *d)
{
	int container;

	if (pci_bind(E1000E_BDF, "vfio-pci"))
		die("bind the e1000e to vfio-pci");
	d->group = vfio_group_open(E1000E_BDF);
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (d->group < 0 || container < 0 ||
	    ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		die("VFIO type1 on the e1000e");
	d->vfio.fd = container;
}

/* The 4K rows: populated, MADV_NOHUGEPAGE memory. */
static void rows_4k(struct domains *d)
{
	unsigned int i;
	void *p;

	p = mmap(NULL, sizes[1], PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	madvise(p, sizes[1], MADV_NOHUGEPAGE);
	memset(p, 1, sizes[1]);
	for (i = 0; i < 2; i++)
		compare(&d->xvm, &d->vfio, "4K", p, sizes[i]);
	munmap(p, sizes[1]);
}

/* The hugetlb rows: 2 MiB pages reserved for them, then given back. */
static void rows_hugetlb(struct domains *d)
{
	long huge0, need;
	char path[64];
	unsigned int i;
	void *p;

	huge0 = sysfs_read_long("/proc/sys/vm/nr_hugepages");
	need = huge0 + (long)(sizes[1] / HUGE_2M);
	snprintf(path, sizeof(path), "%ld", need);
	sysfs_write("/proc/sys/vm/nr_hugepages", path);
	p = mmap(NULL, sizes[1], PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED) {
		printf("hugetlb: skipped: %ld of %ld 2 MiB pages reserved (%s)\n",
		       sysfs_read_long("/proc/sys/vm/nr_hugepages"), need,
		       strerror(errno));
	} else {
		memset(p, 1, sizes[1]);
		for (i = 0; i < 2; i++)
			compare(&d->xvm, &d->vfio, "hugetlb", p, sizes[i]);
		munmap(p, sizes[1]);
	}
	snprintf(path, sizeof(path), "%ld", huge0);
	sysfs_write("/proc/sys/vm/nr_hugepages", path);
}

int main(int argc, char **argv)
{
	struct domains d = {
		.xvm = { "xvm-iommu", -1, xvm_map, xvm_unmap },
		.vfio = { "vfio-type1", -1, vfio_map, vfio_unmap },
	};
	const char *why;

	parse_args(argc, argv);
	why = missing();
	if (!why)
		why = xvm_side_setup(&d);
	if (why) {
		printf("iommu_bench: skipped: %s\n", why);
		return 0;
	}
	vfio_side_setup(&d);

	printf("iommu_bench: %d runs, median; 4 KiB pages per second of one map + one unmap call\n",
	       runs);
	rows_4k(&d);
	rows_hugetlb(&d);

	close(d.group);
	close(d.vfio.fd);
	close(d.xvm.fd);
	close(d.vmfd);
	close(d.xvmfd);
	pci_reset_binding(E1000E_BDF);
	return 0;
}
