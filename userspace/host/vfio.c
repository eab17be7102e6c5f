// SPDX-License-Identifier: GPL-2.0
/* A host PCI function through VFIO (vfio.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "pci.h"
#include "vfio.h"

int vfio_group_open(const char *bdf)
{
	char path[64];
	int g = iommu_group_of(bdf);

	if (g < 0) {
		errno = ENODEV;
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", g);
	return open(path, O_RDWR | O_CLOEXEC);
}

int vfio_group_open_wait(const char *bdf, unsigned int tries)
{
	unsigned int i;
	int fd = -1;

	for (i = 0; i < tries; i++) {
		fd = vfio_group_open(bdf);
		if (fd >= 0 || errno != EBUSY)
			break;
		usleep(10000);
	}
	return fd;
}

int vfio_dma_map(int container, uint64_t iova, void *p, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)p, .iova = iova, .size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &m);
}

int vfio_dma_unmap(int container, uint64_t iova, uint64_t size,
		   uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = size,
	};
	int ret = ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u);

	if (unmapped)
		*unmapped = ret ? 0 : u.size;
	return ret;
}

int vfio_irqs_set(int device, unsigned int start, unsigned int n,
		  const int *efd)
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
	ret = ioctl(device, VFIO_DEVICE_SET_IRQS, set);
	e = errno;
	free(set);
	errno = e;
	return ret;
}

int vfio_irq_trigger(int device, unsigned int vec)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSIX_IRQ_INDEX,
		.start = vec,
		.count = 1,
	};

	return ioctl(device, VFIO_DEVICE_SET_IRQS, &set);
}

void vfio_dev_close(struct vfio_dev *v)
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

/* Container and group (viable, in the container, type1), device fd. */
static int vfio_dev_open_fds(struct vfio_dev *v, const char *bdf)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };

	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	v->group = vfio_group_open_wait(bdf, 500);
	if (v->container < 0 || v->group < 0)
		return -1;
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &gs) ||
	    !(gs.flags & VFIO_GROUP_FLAGS_VIABLE))
		return -1;
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container) ||
	    ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU))
		return -1;
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	return v->device < 0 ? -1 : 0;
}

/* Memory decode and bus mastering on, BAR0 mapped. */
static int vfio_dev_open_regions(struct vfio_dev *v)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	uint16_t cmd;
	void *p;

	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return -1;
	v->cfg_off = ri.offset;
	if (pread(v->device, &cmd, 2, v->cfg_off + PCI_COMMAND) != 2)
		return -1;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(v->device, &cmd, 2, v->cfg_off + PCI_COMMAND) != 2)
		return -1;

	memset(&ri, 0, sizeof(ri));
	ri.argsz = sizeof(ri);
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &ri) ||
	    !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -1;
	p = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, v->device,
		 ri.offset);
	if (p == MAP_FAILED)
		return -1;
	v->bar0 = p;
	v->bar0_size = ri.size;
	return 0;
}

int vfio_dev_open(struct vfio_dev *v, const char *bdf)
{
	v->container = v->group = v->device = -1;
	v->bar0 = NULL;
	if (pci_bind(bdf, "vfio-pci"))
		return -1;
	if (vfio_dev_open_fds(v, bdf) || vfio_dev_open_regions(v)) {
		vfio_dev_close(v);
		return -1;
	}
	return 0;
}
