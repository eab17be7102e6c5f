// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-iommu: a device whose DMA space is owned by the VM (no VFIO
 * container).  The VMM leaves the function without a driver, attaches it
 * (optionally mirroring every memory slot at dfn == gfn), maps and unmaps
 * guest frames as the script asks, and has the device's DMA engine (its
 * quirks file: the edu's, dev-edu.c) copy through its BAR0 (sysfs
 * resource0) to check that DMA lands in guest memory when mapped and faults
 * (a DMAR or SMMU event in the kernel log) when not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host/kmsg.h"
#include "host/pci.h"
#include "vmm.h"

#define PAGE		4096ULL

/*
 * The device's quirks by its vendor:device; memory decode and bus mastering
 * on through sysfs config, BAR0 mapped (resource0).  -1 if it has no
 * DMA engine the script knows.
 */
static int dma_engine_open(struct iommu_rt *d)
{
	const char *bdf = d->cfg->pci.bdf;
	long ven = pci_read_hex(bdf, "vendor"), dev = pci_read_hex(bdf, "device");

	d->ops = ven < 0 || dev < 0 ? NULL : dev_ops_find(ven, dev);
	if (!d->ops || !d->ops->dma_copy) {
		errno = ENODEV;
		return -1;
	}
	d->bar = pci_bar0_map(bdf, PAGE);
	if (!d->bar)
		return -1;
	return d->ops->probe && d->ops->probe(d->bar) ? -1 : 0;
}

/* The function released from its driver, attached to a VM-owned domain. */
static int iommu_attach(struct vm *vm, struct iommu_rt *d)
{
	const struct iommu_cfg *dc = d->cfg;
	struct xvm_iommu_attach a = {
		.segment = dc->pci.segment, .bus = dc->pci.bus, .devfn = dc->pci.devfn,
		.flags = dc->mirror ? XVM_IOMMU_ATTACH_MIRROR_SLOTS : 0,
	};

	if (hostdev_bind(&dc->pci, NULL, d->old_driver, sizeof(d->old_driver)))
		return line_error(vm->cfg, dc->line, "iommu %s: cannot release %s from its driver",
				  dc->name, dc->pci.bdf);
	if (vm_create_device(vm, XVM_DEV_TYPE_IOMMU, "xvm-iommu", dc->line, &d->dev))
		return -1;
	if (traced(xvm_set_attr(d->dev, XVM_IOMMU_GRP_CTRL, XVM_IOMMU_CTRL_ATTACH, &a),
		   "SET_DEVICE_ATTR iommu ATTACH %s%s", dc->pci.bdf,
		   dc->mirror ? " MIRROR_SLOTS" : ""))
		return line_error(vm->cfg, dc->line, "iommu %s: xvm-iommu attach of %s",
				  dc->name, dc->pci.bdf);
	return 0;
}

int iommu_setup(struct vm *vm, unsigned int i)
{
	struct iommu_rt *d = &vm->iommu[i];
	const struct iommu_cfg *dc = d->cfg;
	uint64_t pgsizes = 0;

	section("xvm-iommu device %s (%s)", dc->name, dc->pci.bdf);
	if (iommu_attach(vm, d))
		return -1;
	traced(xvm_get_attr(d->dev, XVM_IOMMU_GRP_INFO, XVM_IOMMU_INFO_PGSIZE_BITMAP,
			    &pgsizes), "GET_DEVICE_ATTR iommu INFO PGSIZE_BITMAP");
	created("%s: %s attached to a VM-owned IOMMU domain (page sizes 0x%llx)%s",
		dc->name, dc->pci.bdf, (unsigned long long)pgsizes,
		dc->mirror ? "; every memory slot mirrored at dfn == gfn" : "");
	if (dma_engine_open(d)) {
		if (d->bar)
			munmap((void *)d->bar, PAGE);
		d->bar = NULL;
		say("%s: not an edu (1234:11e8) or BAR0 unusable: no DMA steps possible",
		    dc->name);
	} else {
		created("%s: %s DMA engine, BAR0 mapped (memory decode + bus master on)",
			dc->name, d->ops->name);
	}
	return 0;
}

/* Closing the device detaches the function; it stays without a driver. */
void iommu_close(struct vm *vm, unsigned int i)
{
	struct iommu_rt *d = &vm->iommu[i];

	if (d->bar)
		munmap((void *)d->bar, PAGE);
	d->bar = NULL;
	if (d->dev >= 0)
		close(d->dev);	/* detaches and unpins before close() returns */
	d->dev = -1;
}

/*
 * A restored VM (restore --check runs the script again) has the mappings
 * the state file holds: a map step the saving run made and did not undo
 * finds its mapping there, exactly (XVM_IOMMU_TRANSLATE), and is done.
 */
static bool iommu_restored(struct vm *vm, const struct iommu_rt *d,
			   const struct xvm_iommu_map *m)
{
	struct xvm_iommu_translate t = { .dfn = m->dfn };
	uint32_t want = XVM_IOMMU_XLATE_MAPPED | XVM_IOMMU_XLATE_READ |
			(m->flags & XVM_IOMMU_MAP_WRITE ? XVM_IOMMU_XLATE_WRITE : 0);

	if (!vm->restore || errno != EEXIST || ioctl(d->dev, XVM_IOMMU_TRANSLATE, &t))
		return false;
	return t.map_dfn == m->dfn && t.map_count == m->count &&
	       (t.flags & ~XVM_IOMMU_XLATE_MFN) == want;
}

int iommu_map(struct vm *vm, const struct step *s)
{
	const struct step_iommu *st = &s->iommu;
	struct iommu_rt *d = &vm->iommu[st->dev];
	struct xvm_iommu_map m = {
		.flags = XVM_IOMMU_MAP_READ | (st->ro ? 0 : XVM_IOMMU_MAP_WRITE) |
			 XVM_IOMMU_MAP_SRC_GFN,
		.dfn = st->gpa / PAGE, .count = st->len / PAGE, .gfn = st->gpa / PAGE,
	};
	char err[128] = "";
	int r;

	r = traced(ioctl(d->dev, XVM_IOMMU_MAP, &m),
		   "XVM_IOMMU_MAP dfn 0x%llx count %llu gfn 0x%llx",
		   (unsigned long long)m.dfn, (unsigned long long)m.count,
		   (unsigned long long)m.gfn);
	if (r && iommu_restored(vm, d, &m)) {
		r = 0;
		snprintf(err, sizeof(err), ": restored from the state file");
	} else if (r) {
		step_errno(vm, s, err, sizeof(err));
	}
	return check(!r, "%s: map guest frames 0x%llx..0x%llx at dfn == gfn (%s)%s",
		     d->cfg->name, (unsigned long long)m.gfn,
		     (unsigned long long)(m.gfn + m.count - 1),
		     st->ro ? "read-only" : "read/write", err);
}

int iommu_unmap(struct vm *vm, const struct step *s)
{
	const struct step_iommu *st = &s->iommu;
	struct iommu_rt *d = &vm->iommu[st->dev];
	struct xvm_iommu_unmap u = { .dfn = st->gpa / PAGE, .count = st->len / PAGE };
	char err[128] = "";
	int r;

	r = traced(ioctl(d->dev, XVM_IOMMU_UNMAP, &u), "XVM_IOMMU_UNMAP dfn 0x%llx count %llu",
		   (unsigned long long)u.dfn, (unsigned long long)u.count);
	if (r)
		step_errno(vm, s, err, sizeof(err));
	return check(!r && u.unmapped == st->len / PAGE,
		     "%s: unmap dfn 0x%llx..0x%llx: %llu frame(s) unmapped%s", d->cfg->name,
		     (unsigned long long)u.dfn,
		     (unsigned long long)(u.dfn + u.count - 1),
		     (unsigned long long)u.unmapped, err);
}

/* Fills from with a fresh pattern, clears to; the pattern's seed. */
static uint8_t dma_prepare(uint8_t *src, uint8_t *dst, uint64_t len)
{
	static uint8_t seed = 0x5a;
	uint64_t i;

	seed += 0x11;
	for (i = 0; i < len; i++)
		src[i] = (uint8_t)(seed + i * 7);
	memset(dst, 0, len);
	return seed;
}

/* expect=faults: memory untouched, and an IOMMU fault logged for the device. */
static int dma_check_fault(struct iommu_rt *d, const struct step_dma *st,
			   const uint8_t *dst, int kmsg)
{
	bool untouched = true, fault = false;
	uint64_t i;

	for (i = 0; i < st->len; i++)
		untouched &= dst[i] == 0;
	if (kmsg >= 0)
		fault = iommu_fault_find(kmsg, d->cfg->pci.bdf, false);
	event("event:dma", "%s DMA: device wrote %llu bytes to gpa 0x%llx (not mapped)%s",
	      d->cfg->name, (unsigned long long)st->len, (unsigned long long)st->to,
	      fault ? ": IOMMU fault in the kernel log" : "");
	return check(untouched && fault,
		     "%s DMA device->RAM at gpa 0x%llx after unmap: %s, %s", d->cfg->name,
		     (unsigned long long)st->to,
		     untouched ? "guest memory untouched" : "guest memory WRITTEN",
		     fault ? "IOMMU fault logged for the device" : "no IOMMU fault seen");
}

static int dma_check_lands(struct iommu_rt *d, const struct step_dma *st,
			   const uint8_t *dst, uint8_t seed)
{
	bool same = true;
	uint64_t i;

	for (i = 0; i < st->len; i++)
		same &= dst[i] == (uint8_t)(seed + i * 7);
	event("event:dma", "%s DMA: device read gpa 0x%llx, wrote %llu bytes to gpa 0x%llx "
	      "through the xvm-owned IOMMU domain", d->cfg->name,
	      (unsigned long long)st->from, (unsigned long long)st->len,
	      (unsigned long long)st->to);
	return check(same, "%s DMA device->RAM at gpa 0x%llx: %s", d->cfg->name,
		     (unsigned long long)st->to,
		     same ? "landed in guest memory, bytes match" :
		     "did NOT land (guest memory differs)");
}

int iommu_dma(struct vm *vm, const struct step *s)
{
	const struct step_dma *st = &s->dma;
	struct iommu_rt *d = &vm->iommu[st->dev];
	uint8_t *src = (uint8_t *)vm->mem + (st->from - vm->cfg->mem_gpa);
	uint8_t *dst = (uint8_t *)vm->mem + (st->to - vm->cfg->mem_gpa);
	uint8_t seed;
	int kmsg, r;

	if (!d->bar)
		return check(false, "%s: DMA needs an edu", d->cfg->name);
	if (st->from + st->len > d->ops->dma_limit || st->to + st->len > d->ops->dma_limit)
		return check(false, "%s: the %s only reaches IOVAs below 0x%llx",
			     d->cfg->name, d->ops->name,
			     (unsigned long long)d->ops->dma_limit);
	seed = dma_prepare(src, dst, st->len);
	/*
	 * Only a fault is looked for in the kernel log; _fault() waits out
	 * the SMMU's event ratelimit (arm64), which an earlier fault - the
	 * same script run moments before, by save then restore --check -
	 * would otherwise have used up.
	 */
	kmsg = st->expect == DMA_LANDS ? -1 : kmsg_open_fault();
	if (d->ops->dma_copy(d->bar, st->from, st->to, st->len))
		r = check(false, "%s: the %s DMA engine did not finish", d->cfg->name,
			  d->ops->name);
	else if (st->expect == DMA_LANDS)
		r = dma_check_lands(d, st, dst, seed);
	else
		r = dma_check_fault(d, st, dst, kmsg);
	if (kmsg >= 0)
		close(kmsg);
	return r;
}

/* A live update: the device fd came with its domain and mappings. */
void iommu_adopt(struct vm *vm, unsigned int i)
{
	struct iommu_rt *d = &vm->iommu[i];

	if (!dma_engine_open(d))
		return;
	if (d->bar)
		munmap((void *)d->bar, PAGE);
	d->bar = NULL;
}
