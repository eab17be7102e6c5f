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
 * followed by one unmap call, the two sides' runs interleaved, in 4 KiB
 * pages per second; ratio = xvm / VFIO.  The 4K 64 MiB row is the goals
 * table's "iommu-4k" (goal >= 2): 4 KiB pages are what a VMM gets without
 * asking for hugetlb, and 64 MiB shows the same ratio as 256 MiB in half
 * the time.  Then the memory-slot curves (slot_curves()).
 *
 * A measurement, not a test: the exit status is non-zero only when a call
 * fails; missing prerequisites print a note and exit 0.
 * Needs about 300 MiB of guest memory beyond the kernel's (make bench's
 * default 1 GiB is enough).
 *
 *   iommu_bench [-r runs]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
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

/* Pages/s of one map call, one unmap call and the two together. */
struct rates {
	double map, unmap, both;
};

/* One map + unmap of size bytes at p through s: its times, in ns. */
static void time_once(struct side *s, void *p, uint64_t size, uint64_t *tm,
		      uint64_t *tu)
{
	uint64_t t0, t1, t2;

	t0 = now_ns();
	if (s->map(s->fd, p, size))
		die(s->name);
	t1 = now_ns();
	if (s->unmap(s->fd, size))
		die(s->name);
	t2 = now_ns();
	*tm = t1 - t0;
	*tu = t2 - t1;
}

/*
 * Median rates of both sides, their runs interleaved (xvm, VFIO, VFIO,
 * xvm, ...) so that drift of the machine hits both alike.  One warm-up
 * each first: page tables of both domains allocated.
 */
static void measure(struct side *sides[2], void *p, uint64_t size,
		    struct rates out[2])
{
	uint64_t tm[2][MAX_RUNS], tu[2][MAX_RUNS], tb[2][MAX_RUNS];
	double pages = (double)(size / PAGE);
	int i, k, j;

	for (k = 0; k < 2; k++)
		time_once(sides[k], p, size, &tm[k][0], &tu[k][0]);
	for (i = 0; i < runs; i++) {
		for (j = 0; j < 2; j++) {
			k = j ^ (i & 1);
			time_once(sides[k], p, size, &tm[k][i], &tu[k][i]);
			tb[k][i] = tm[k][i] + tu[k][i];
		}
	}
	for (k = 0; k < 2; k++) {
		out[k].map = pages * 1e9 / (double)median_u64(tm[k], runs);
		out[k].unmap = pages * 1e9 / (double)median_u64(tu[k], runs);
		out[k].both = pages * 1e9 / (double)median_u64(tb[k], runs);
	}
}

/* The row the goals table shows: 4 KiB-backed, 64 MiB. */
#define GOAL_BACKING	"4K"
#define GOAL_SIZE	(64 * MIB)
#define GOAL_RATIO	2.0

static void compare(struct side *xvm, struct side *vfio, const char *backing,
		    void *p, uint64_t size)
{
	struct side *sides[2] = { xvm, vfio };
	bool goal = !strcmp(backing, GOAL_BACKING) && size == GOAL_SIZE;
	struct rates r[2];
	double ratio;
	char row[64];

	measure(sides, p, size, r);
	ratio = r[0].both / r[1].both;
	printf("%-7s %4llu MiB  map+unmap pages/s: xvm-iommu %10.0f  vfio-type1 %10.0f  ratio %5.2f"
	       "   (map %.2f, unmap %.2f)%s\n",
	       backing, (unsigned long long)(size / MIB), r[0].both, r[1].both,
	       ratio, r[0].map / r[1].map, r[0].unmap / r[1].unmap,
	       !goal ? "" : ratio >= GOAL_RATIO ? "  goal >= 2: met" :
	       "  goal >= 2: NOT met");
	snprintf(row, sizeof(row), "map+unmap, %s %llu MiB", backing,
		 (unsigned long long)(size / MIB));
	bench_record(&(struct bench_row){
		.row = row, .unit = "pages/s", .median = r[0].both,
		.ratio = ratio,
		.anchor = goal ? "VFIO type1 map+unmap" : "vfio-type1",
		.goal = goal ? ">= 2" : NULL, .met = ratio >= GOAL_RATIO,
		.path = goal ? "iommu-4k" : NULL,
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

/*
 * The slot curves: memory slots 1 -> 256 of SLOT_PAGES pages each, 2 MiB
 * apart in guest memory, mirrored by xvm-iommu (the edu attached with
 * XVM_IOMMU_ATTACH_MIRROR_SLOTS): what one slot add costs with N slots
 * present (mean of the adds from N/2 to N), mirrored and with no IOMMU,
 * and what an attach that mirrors N existing slots costs per slot.
 */
#define NSLOTS		256
#define SLOT_PAGES	4
#define NPOINTS		9

static const unsigned int slot_counts[NPOINTS] = {
	1, 2, 4, 8, 16, 32, 64, 128, 256,
};

static void set_slot(int vmfd, unsigned int i, uint8_t *mem, bool add)
{
	uint64_t size = add ? SLOT_PAGES * PAGE : 0;

	if (xvm_set_memory_region(vmfd, i, 0, (uint64_t)i << 21, size,
				  (uintptr_t)(mem + i * SLOT_PAGES * PAGE)))
		die("XVM_SET_USER_MEMORY_REGION");
}

static void delete_slots(int vmfd, uint8_t *mem, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		set_slot(vmfd, i, mem, false);
}

/* Mean ns of one slot add with N slots present, for each N. */
static void time_slot_adds(int vmfd, uint8_t *mem, uint64_t t[NPOINTS])
{
	uint64_t sum = 0, t0;
	unsigned int i, c = 0, from = 0;

	for (i = 0; i < NSLOTS; i++) {
		t0 = now_ns();
		set_slot(vmfd, i, mem, true);
		sum += now_ns() - t0;
		if (i + 1 == slot_counts[c]) {
			t[c++] = sum / (i + 1 - from);
			sum = 0;
			from = i + 1;
		}
	}
	delete_slots(vmfd, mem, NSLOTS);
}

static void edu_attach(int dev, uint32_t flags)
{
	const struct test_pci *edu = test_pci_edu();
	struct xvm_iommu_attach at = {
		.segment = edu->segment, .bus = edu->bus, .devfn = edu->devfn,
		.flags = flags,
	};

	if (xvm_set_attr(dev, XVM_IOMMU_GRP_CTRL, XVM_IOMMU_CTRL_ATTACH, &at))
		die("attach edu to xvm-iommu");
}

static void edu_detach(int dev)
{
	if (xvm_set_attr(dev, XVM_IOMMU_GRP_CTRL, XVM_IOMMU_CTRL_DETACH, NULL))
		die("detach edu from xvm-iommu");
}

/* ns of an attach that mirrors N existing slots, for each N. */
static void time_attaches(int dev, int vmfd, uint8_t *mem,
			  uint64_t t[NPOINTS])
{
	unsigned int i = 0, c;
	uint64_t t0;

	for (c = 0; c < NPOINTS; c++) {
		for (; i < slot_counts[c]; i++)
			set_slot(vmfd, i, mem, true);
		t0 = now_ns();
		edu_attach(dev, XVM_IOMMU_ATTACH_MIRROR_SLOTS);
		t[c] = now_ns() - t0;
		edu_detach(dev);
	}
	delete_slots(vmfd, mem, i);
}

/*
 * Per slot, so that the three curves share a scale: an attach's time is
 * divided by the N slots it mirrors (flat if it is linear in N).
 */
static void print_slot_curves(uint64_t t[3][NPOINTS][MAX_RUNS])
{
	static const char *const curve[3] = {
		"slot add, mirrored", "slot add, no IOMMU",
		"attach, per mirrored slot",
	};
	unsigned int c, k;
	double y[3];

	printf("\nmemory slots of %llu KiB mirrored (XVM_IOMMU_ATTACH_MIRROR_SLOTS), median ns:\n"
	       "  %6s %20s %20s %26s %14s\n", SLOT_PAGES * PAGE / 1024, "slots",
	       curve[0], curve[1], curve[2], "attach");
	for (c = 0; c < NPOINTS; c++) {
		for (k = 0; k < 3; k++)
			y[k] = (double)median_u64(t[k][c], runs);
		y[2] /= slot_counts[c];
		for (k = 0; k < 3; k++)
			bench_point(curve[k], "slots", slot_counts[c], "ns",
				    y[k]);
		printf("  %6u %20.0f %20.0f %26.0f %14.0f\n", slot_counts[c],
		       y[0], y[1], y[2], y[2] * slot_counts[c]);
	}
}

/* The curves, on d's VM (no slots yet) and a second VM with no IOMMU. */
static void slot_curves(struct domains *d)
{
	static uint64_t t[3][NPOINTS][MAX_RUNS];
	uint64_t one[NPOINTS];
	int xvmfd, plain, i, c;
	uint8_t *mem;

	mem = mmap(NULL, NSLOTS * SLOT_PAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	madvise(mem, NSLOTS * SLOT_PAGES * PAGE, MADV_NOHUGEPAGE);
	memset(mem, 1, NSLOTS * SLOT_PAGES * PAGE);
	if (fixture_vm_open(&xvmfd, &plain, 0))
		die("XVM_CREATE_VM");
	edu_detach(d->xvm.fd);
	for (i = 0; i < runs; i++) {
		edu_attach(d->xvm.fd, XVM_IOMMU_ATTACH_MIRROR_SLOTS);
		time_slot_adds(d->vmfd, mem, one);
		edu_detach(d->xvm.fd);
		for (c = 0; c < NPOINTS; c++)
			t[0][c][i] = one[c];
		time_slot_adds(plain, mem, one);
		for (c = 0; c < NPOINTS; c++)
			t[1][c][i] = one[c];
		time_attaches(d->xvm.fd, d->vmfd, mem, one);
		for (c = 0; c < NPOINTS; c++)
			t[2][c][i] = one[c];
	}
	print_slot_curves(t);
	close(plain);
	close(xvmfd);
	munmap(mem, NSLOTS * SLOT_PAGES * PAGE);
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
	slot_curves(&d);

	close(d.group);
	close(d.vfio.fd);
	close(d.xvm.fd);
	close(d.vmfd);
	close(d.xvmfd);
	pci_reset_binding(E1000E_BDF);
	return 0;
}
