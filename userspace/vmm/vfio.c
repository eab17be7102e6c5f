// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO: the VMM's part of the device-assignment contract.  Bind the
 * function to vfio-pci, open container, group and device, map guest memory
 * for the device's DMA (VFIO_IOMMU_MAP_DMA at iova = gpa), enable memory
 * decode and bus mastering, map BAR0 (the e1000e's registers), and give
 * config-space and BAR access (region read/write) to msix.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "host/vfio.h"
#include "host/pci.h"
#include "vmm.h"

int vfio_cfg_read(struct vfio_rt *d, uint32_t off, uint32_t len, uint32_t *val)
{
	*val = 0;
	return pread(d->dev.device, val, len, d->dev.cfg_off + off) == (ssize_t)len ? 0 : -1;
}

int vfio_cfg_write(struct vfio_rt *d, uint32_t off, uint32_t len, uint32_t val)
{
	return pwrite(d->dev.device, &val, len, d->dev.cfg_off + off) == (ssize_t)len ? 0 : -1;
}

/* A BAR access through the VFIO region (what the guest's trapped access becomes). */
int vfio_bar_rw(struct vfio_rt *d, unsigned int bar, uint64_t off,
		uint32_t len, uint64_t *val, bool write)
{
	ssize_t n;

	if (bar > 5 || off + len > d->bar_size[bar]) {
		errno = EINVAL;
		return -1;
	}
	if (!write)
		*val = 0;
	n = write ? pwrite(d->dev.device, val, len, d->bar_off[bar] + off) :
		    pread(d->dev.device, val, len, d->bar_off[bar] + off);
	return traced(n == (ssize_t)len ? 0 : -1, "VFIO region %s BAR%u+0x%llx/%u",
		      write ? "write" : "read", bar, (unsigned long long)off, len);
}

/* Container, group (viable, in the container, type1) and device fds. */
static int vfio_open_fds(struct vm *vm, struct vfio_rt *d)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	const struct vfio_cfg *dc = d->cfg;

	d->dev.container = traced(open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC),
			      "open /dev/vfio/vfio");
	d->dev.group = traced(vfio_group_open_wait(dc->pci.bdf, 300), "open /dev/vfio/%d",
			  iommu_group_of(dc->pci.bdf));
	if (d->dev.container < 0 || d->dev.group < 0)
		return line_error(vm->cfg, dc->line, "vfio %s: container/group", dc->name);
	if (traced(ioctl(d->dev.group, VFIO_GROUP_GET_STATUS, &gs), "VFIO_GROUP_GET_STATUS") ||
	    !(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errorf("%s: VFIO group not viable (every device of the group must be bound to vfio-pci)",
		       dc->name);
		return -1;
	}
	if (traced(ioctl(d->dev.group, VFIO_GROUP_SET_CONTAINER, &d->dev.container),
		   "VFIO_GROUP_SET_CONTAINER") ||
	    traced(ioctl(d->dev.container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU),
		   "VFIO_SET_IOMMU TYPE1"))
		return line_error(vm->cfg, dc->line, "vfio %s: container", dc->name);
	d->dev.device = traced(ioctl(d->dev.group, VFIO_GROUP_GET_DEVICE_FD, dc->pci.bdf),
			   "VFIO_GROUP_GET_DEVICE_FD %s", dc->pci.bdf);
	if (d->dev.device < 0)
		return line_error(vm->cfg, dc->line, "vfio %s: VFIO_GROUP_GET_DEVICE_FD",
				  dc->name);
	created("%s: VFIO container, group %d and device fd open", dc->name,
		iommu_group_of(dc->pci.bdf));
	return 0;
}

/* Guest memory, for the device's DMA: iova == guest physical address. */
static int vfio_map_memory(struct vm *vm, struct vfio_rt *d)
{
	const struct vmm_config *c = vm->cfg;

	if (traced(vfio_dma_map(d->dev.container, c->mem_gpa, vm->mem, c->mem_size),
		   "VFIO_IOMMU_MAP_DMA iova 0x%llx size 0x%llx",
		   (unsigned long long)c->mem_gpa, (unsigned long long)c->mem_size))
		return line_error(c, d->cfg->line, "vfio %s: VFIO_IOMMU_MAP_DMA",
				  d->cfg->name);
	created("%s: guest memory mapped for its DMA (VFIO type1, iova = gpa 0x%llx)",
		d->cfg->name, (unsigned long long)c->mem_gpa);
	return 0;
}

/* Region offsets, decode and bus mastering on, BAR0 mapped, the quirks. */
static int vfio_regions(struct vm *vm, struct vfio_rt *d)
{
	uint32_t cmd, id = 0;
	unsigned int i;
	void *p;

	for (i = 0; i <= VFIO_PCI_CONFIG_REGION_INDEX; i++) {
		struct vfio_region_info ri = { .argsz = sizeof(ri), .index = i };

		if (traced(ioctl(d->dev.device, VFIO_DEVICE_GET_REGION_INFO, &ri),
			   "VFIO_DEVICE_GET_REGION_INFO %u", i))
			continue;
		if (i == VFIO_PCI_CONFIG_REGION_INDEX) {
			d->dev.cfg_off = ri.offset;
		} else if (i <= VFIO_PCI_BAR5_REGION_INDEX) {
			d->bar_off[i] = ri.offset;
			d->bar_size[i] = ri.size;
		}
	}
	if (vfio_cfg_read(d, PCI_COMMAND, 2, &cmd) ||
	    vfio_cfg_write(d, PCI_COMMAND, 2,
			   cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER))
		return line_error(vm->cfg, d->cfg->line, "vfio %s: config space",
				  d->cfg->name);
	if (!vfio_cfg_read(d, PCI_VENDOR_ID, 4, &id))
		d->ops = dev_ops_find(id & 0xffff, id >> 16);
	if (!d->bar_size[0])
		return 0;
	p = mmap(NULL, d->bar_size[0], PROT_READ | PROT_WRITE, MAP_SHARED,
		 d->dev.device, d->bar_off[0]);
	if (p != MAP_FAILED) {
		d->dev.bar0 = p;
		d->dev.bar0_size = d->bar_size[0];
	}
	return 0;
}

int vfio_open_dev(struct vm *vm, unsigned int i)
{
	struct vfio_rt *d = &vm->vfio[i];
	const struct vfio_cfg *dc = d->cfg;

	section("VFIO device %s (%s)", dc->name, dc->pci.bdf);
	if (hostdev_bind(&dc->pci, "vfio-pci", d->old_driver, sizeof(d->old_driver)))
		return line_error(vm->cfg, dc->line, "vfio %s: cannot bind %s to vfio-pci",
				  dc->name, dc->pci.bdf);
	d->bound_by_us = true;
	created("%s: %s bound to vfio-pci (%s before)", dc->name, dc->pci.bdf,
		d->old_driver[0] ? d->old_driver : "unbound");
	if (vfio_open_fds(vm, d) || vfio_map_memory(vm, d))
		return -1;
	return vfio_regions(vm, d);
}

int vfio_set_msix_irqs(struct vfio_rt *d, unsigned int n)
{
	return traced(vfio_irqs_set(d->dev.device, 0, n, d->efd),
		      "VFIO_DEVICE_SET_IRQS MSI-X 0..%u, one eventfd each", n - 1);
}

void vfio_close_dev(struct vm *vm, unsigned int i)
{
	struct vfio_rt *d = &vm->vfio[i];

	vfio_dev_close(&d->dev);
	if (d->bound_by_us)
		hostdev_release(&d->cfg->pci, d->old_driver);
	d->bound_by_us = false;
}

/*
 * A live update: the container, group and device fds came from the old
 * VMM with the DMA map, the IRQs and the device's own state as they were;
 * only this process's view is redone (region offsets, BAR0's mapping).
 * Nothing is reset or re-routed: a cause raised meanwhile stays raised.
 */
int vfio_adopt_dev(struct vm *vm, unsigned int i)
{
	return vfio_regions(vm, &vm->vfio[i]);
}
