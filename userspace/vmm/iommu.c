// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-iommu: a device whose DMA space is owned by the VM (no VFIO
 * container).  The VMM leaves the function without a driver, attaches it
 * (optionally mirroring every memory slot at dfn == gfn), maps and unmaps
 * guest frames as the script asks, and drives the edu DMA engine (1234:11e8)
 * through its BAR0 (sysfs resource0) to check that DMA lands in guest
 * memory when mapped and faults (DMAR, in the kernel log) when not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm.h"

#define PAGE		4096ULL
#define EDU_IDENT	0x00
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_RUN	1
#define EDU_DMA_TO_RAM	2
#define EDU_BUF		0x40000ULL
#define EDU_MAX_IOVA	0x10000000ULL	/* its 28-bit DMA mask */

static int edu_open(struct iommu_dev *d)
{
	uint16_t id[2], cmd = 0x0107;	/* memory, bus master, SERR */
	char path[128];
	void *bar;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", d->pci.bdf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (pread(fd, id, 4, 0) != 4 || id[0] != 0x1234 || id[1] != 0x11e8 ||
	    pwrite(fd, &cmd, 2, 4) != 2) {
		close(fd);
		errno = ENODEV;
		return -1;
	}
	close(fd);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", d->pci.bdf);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	bar = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (bar == MAP_FAILED)
		return -1;
	d->bar = bar;
	return (*(volatile uint32_t *)(d->bar + EDU_IDENT) & 0xff) == 0xed ? 0 : -1;
}

int iommu_setup(struct vm *vm, struct iommu_dev *d)
{
	struct xvm_iommu_attach a = {
		.segment = d->pci.segment, .bus = d->pci.bus, .devfn = d->pci.devfn,
		.flags = d->mirror ? XVM_IOMMU_ATTACH_MIRROR_SLOTS : 0,
	};
	uint64_t pgsizes = 0;

	section("xvm-iommu device %s (%s)", d->name, d->pci.bdf);
	if (hostdev_bind(&d->pci, NULL, d->old_driver, sizeof(d->old_driver))) {
		errorf("%s: cannot release %s from its driver: %s", d->name,
		       d->pci.bdf, strerror(errno));
		return -1;
	}
	if (traced(xvm_create_device(vm->fd, XVM_DEV_TYPE_IOMMU, 0, &d->dev),
		   "XVM_CREATE_DEVICE IOMMU")) {
		d->dev = -1;
		errorf("%s: XVM_CREATE_DEVICE(IOMMU): %s (is xvm-iommu loaded?)",
		       d->name, strerror(errno));
		return -1;
	}
	if (traced(xvm_set_attr(d->dev, XVM_IOMMU_GRP_CTRL, XVM_IOMMU_CTRL_ATTACH, &a),
		   "SET_DEVICE_ATTR iommu ATTACH %s%s", d->pci.bdf,
		   d->mirror ? " MIRROR_SLOTS" : "")) {
		errorf("%s: xvm-iommu attach of %s: %s", d->name, d->pci.bdf,
		       strerror(errno));
		return -1;
	}
	traced(xvm_get_attr(d->dev, XVM_IOMMU_GRP_INFO, XVM_IOMMU_INFO_PGSIZE_BITMAP,
			    &pgsizes), "GET_DEVICE_ATTR iommu INFO PGSIZE_BITMAP");
	created("%s: %s attached to a VM-owned IOMMU domain (page sizes 0x%llx)%s",
		d->name, d->pci.bdf, (unsigned long long)pgsizes,
		d->mirror ? "; every memory slot mirrored at dfn == gfn" : "");
	if (edu_open(d)) {
		d->bar = NULL;
		say("%s: not an edu (1234:11e8) or BAR0 unusable: no DMA steps possible",
		    d->name);
	} else {
		created("%s: edu DMA engine, BAR0 mapped (memory decode + bus master on)",
			d->name);
	}
	return 0;
}

void iommu_close(struct iommu_dev *d)
{
	if (d->bar)
		munmap((void *)d->bar, PAGE);
	d->bar = NULL;
	if (d->dev >= 0)
		close(d->dev);	/* detaches and unpins before close() returns */
	d->dev = -1;
}

int iommu_map(struct vm *vm, struct iommu_dev *d, uint64_t gpa, uint64_t len,
	      bool ro)
{
	struct xvm_iommu_map m = {
		.flags = XVM_IOMMU_MAP_READ | (ro ? 0 : XVM_IOMMU_MAP_WRITE) |
			 XVM_IOMMU_MAP_SRC_GFN,
		.dfn = gpa / PAGE, .count = len / PAGE, .gfn = gpa / PAGE,
	};
	int r;

	(void)vm;
	r = traced(ioctl(d->dev, XVM_IOMMU_MAP, &m),
		   "XVM_IOMMU_MAP dfn 0x%llx count %llu gfn 0x%llx",
		   (unsigned long long)m.dfn, (unsigned long long)m.count,
		   (unsigned long long)m.gfn);
	return check(!r, "%s: map guest frames 0x%llx..0x%llx at dfn == gfn (%s)%s%s",
		     d->name, (unsigned long long)m.gfn,
		     (unsigned long long)(m.gfn + m.count - 1),
		     ro ? "read-only" : "read/write", r ? ": " : "",
		     r ? strerror(errno) : "");
}

int iommu_unmap(struct vm *vm, struct iommu_dev *d, uint64_t gpa, uint64_t len)
{
	struct xvm_iommu_unmap u = { .dfn = gpa / PAGE, .count = len / PAGE };
	int r;

	(void)vm;
	r = traced(ioctl(d->dev, XVM_IOMMU_UNMAP, &u), "XVM_IOMMU_UNMAP dfn 0x%llx count %llu",
		   (unsigned long long)u.dfn, (unsigned long long)u.count);
	return check(!r && u.unmapped == len / PAGE,
		     "%s: unmap dfn 0x%llx..0x%llx: %llu frame(s) unmapped%s%s", d->name,
		     (unsigned long long)u.dfn,
		     (unsigned long long)(u.dfn + u.count - 1),
		     (unsigned long long)u.unmapped, r ? ": " : "",
		     r ? strerror(errno) : "");
}

static int edu_dma(struct iommu_dev *d, uint64_t src, uint64_t dst, uint64_t cnt,
		   bool to_ram)
{
	volatile uint64_t *r = (volatile uint64_t *)d->bar;
	int i;

	r[EDU_DMA_SRC / 8] = src;
	r[EDU_DMA_DST / 8] = dst;
	r[EDU_DMA_CNT / 8] = cnt;
	r[EDU_DMA_CMD / 8] = EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0);
	for (i = 0; i < 10000; i++) {
		if (!(r[EDU_DMA_CMD / 8] & EDU_DMA_RUN))
			return 0;
		usleep(1000);
	}
	return -1;
}

/* Waits (up to 3 s) for a kernel log record containing a and b. */
static bool kmsg_find(int fd, const char *a, const char *b)
{
	char rec[2048];
	int idle;

	for (idle = 0; idle < 300;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);

		if (n < 0 && errno == EAGAIN) {
			usleep(10000);
			idle++;
			continue;
		}
		if (n <= 0)
			continue;
		rec[n] = 0;
		if (strstr(rec, a) && strstr(rec, b))
			return true;
	}
	return false;
}

int iommu_dma(struct vm *vm, struct iommu_dev *d, uint64_t from, uint64_t to,
	      uint64_t len, int expect)
{
	struct config *c = vm->cfg;
	uint8_t *src = (uint8_t *)vm->mem + (from - c->mem_gpa);
	uint8_t *dst = (uint8_t *)vm->mem + (to - c->mem_gpa);
	static uint8_t seed = 0x5a;
	char shortbdf[16];
	bool same = true, untouched = true, fault = false;
	uint64_t i;
	int kmsg;

	if (!d->bar)
		return check(false, "%s: DMA needs an edu", d->name);
	if (from + len > EDU_MAX_IOVA || to + len > EDU_MAX_IOVA)
		return check(false, "%s: the edu only reaches IOVAs below 0x%llx",
			     d->name, EDU_MAX_IOVA);
	seed += 0x11;
	for (i = 0; i < len; i++)
		src[i] = (uint8_t)(seed + i * 7);
	memset(dst, 0, len);
	snprintf(shortbdf, sizeof(shortbdf), "%s", d->pci.bdf + 5);	/* 00:04.0 */
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
	if (edu_dma(d, from, EDU_BUF, len, false) || edu_dma(d, EDU_BUF, to, len, true)) {
		if (kmsg >= 0)
			close(kmsg);
		return check(false, "%s: the edu DMA engine did not finish", d->name);
	}
	for (i = 0; i < len; i++) {
		same &= dst[i] == (uint8_t)(seed + i * 7);
		untouched &= dst[i] == 0;
	}
	if (expect == EXPECT_LANDS) {
		if (kmsg >= 0)
			close(kmsg);
		event("event:dma", "%s DMA: device read gpa 0x%llx, wrote %llu bytes to gpa 0x%llx "
		      "through the xvm-owned IOMMU domain", d->name, (unsigned long long)from,
		      (unsigned long long)len, (unsigned long long)to);
		return check(same, "%s DMA device->RAM at gpa 0x%llx: %s", d->name,
			     (unsigned long long)to,
			     same ? "landed in guest memory, bytes match" :
			     "did NOT land (guest memory differs)");
	}
	if (kmsg >= 0) {
		fault = kmsg_find(kmsg, "DMAR", shortbdf);
		close(kmsg);
	}
	event("event:dma", "%s DMA: device wrote %llu bytes to gpa 0x%llx (not mapped)%s",
	      d->name, (unsigned long long)len, (unsigned long long)to,
	      fault ? ": DMAR fault in the kernel log" : "");
	return check(untouched && fault,
		     "%s DMA device->RAM at gpa 0x%llx after unmap: %s, %s", d->name,
		     (unsigned long long)to,
		     untouched ? "guest memory untouched" : "guest memory WRITTEN",
		     fault ? "DMAR fault logged for the device" : "no DMAR fault seen");
}
