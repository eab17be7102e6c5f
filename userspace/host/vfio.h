/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A host PCI function through VFIO (type1): the group, a device opened with
 * BAR0 mapped, DMA maps, MSI-X eventfds and VFIO's loopback trigger.
 */
#ifndef _XVM_HOST_VFIO_H
#define _XVM_HOST_VFIO_H

#include <stddef.h>
#include <stdint.h>

/* /dev/vfio/<bdf's group>, opened; -1 on failure (ENODEV: no group). */
int vfio_group_open(const char *bdf);
/*
 * vfio_group_open(), retried every 10 ms up to tries times while it is
 * EBUSY: a previous user (a killed test) may still be releasing it.
 */
int vfio_group_open_wait(const char *bdf, unsigned int tries);

/* iova -> p (read/write) in a type1 container; the ioctl's result. */
int vfio_dma_map(int container, uint64_t iova, void *p, uint64_t size);
/* Unmaps [iova, iova + size); *unmapped (if not NULL) gets the bytes. */
int vfio_dma_unmap(int container, uint64_t iova, uint64_t size,
		   uint64_t *unmapped);

/* MSI-X: vectors [start, start + n) to efd[] (-1: none); the ioctl's result. */
int vfio_irqs_set(int device, unsigned int start, unsigned int n,
		  const int *efd);
/* VFIO's loopback trigger: signals vector vec's eventfd, process context. */
int vfio_irq_trigger(int device, unsigned int vec);

struct vfio_dev {
	int container, group, device;
	volatile uint32_t *bar0;
	size_t bar0_size;
	uint64_t cfg_off;
};

/*
 * Binds bdf to vfio-pci, opens it through VFIO, maps BAR0, enables memory
 * and bus mastering.  0, or -1 with everything closed.
 */
int vfio_dev_open(struct vfio_dev *v, const char *bdf);
void vfio_dev_close(struct vfio_dev *v);

static inline int vfio_dev_set_irqs(struct vfio_dev *v, unsigned int start,
				    unsigned int n, const int *efd)
{
	return vfio_irqs_set(v->device, start, n, efd);
}

static inline int vfio_dev_trigger(struct vfio_dev *v, unsigned int vec)
{
	return vfio_irq_trigger(v->device, vec);
}

#endif /* _XVM_HOST_VFIO_H */
