// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-msix.ko: the eventfd hook of each vector (the core's eventfd hook,
 * KVM's irqfd pattern: a priority exclusive waiter, one per eventfd) and
 * attach - the proof of ownership of the function through its VFIO group,
 * and its MSI-X layout read from its own capability, never taken from
 * userspace.
 *
 * Locking:
 *  - v->hook is hooked and unhooked under m->mutex.  It fires under the
 *    hooked eventfd's wait-queue lock, IRQs off, which also protects
 *    whether it is hooked (see struct xvm_eventfd_hook).
 *  - Order: eventfd wait-queue lock -> m->lock (the hook fires under the
 *    former and xvm_msix_fire() takes the latter).
 *  - The layout, m->nr_vectors, m->vectors and m->pdev are set once, at
 *    attach (under m->mutex), before any region is on the bus or any
 *    eventfd is hooked.
 *  - The hook fires in the context of eventfd_signal() (hard IRQ for real
 *    MSI-X): xvm_msix_fire() never sleeps or allocates.  An eventfd whose
 *    file is closed first unhooks itself on EPOLLHUP, as KVM's irqfd does;
 *    the vector keeps its reference until xvm_msix_unhook().
 */
#include <linux/file.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include <xvm/core.h>

#include "xvm_vfio_compat.h"
#include "msix.h"

/* The eventfd hook. */

/* Under the eventfd's wait-queue lock, IRQs off; or from the hook call. */
static void xvm_msix_hook_fire(struct xvm_eventfd_hook *hook)
{
	xvm_msix_fire(container_of(hook, struct xvm_msix_vector, hook));
}

int xvm_msix_hook(struct xvm_msix_vector *v, int fd)
{
	/* A count already in the eventfd is fired from here. */
	return xvm_eventfd_hook(&v->hook, fd, xvm_msix_hook_fire);
}

void xvm_msix_unhook(struct xvm_msix_vector *v)
{
	xvm_eventfd_unhook(&v->hook);
}

/* Attach: ownership and layout. */

static bool xvm_msix_fits_bar(struct pci_dev *pdev, u32 bir, u32 offset,
			      u32 size)
{
	if (bir >= PCI_STD_NUM_BARS ||
	    !(pci_resource_flags(pdev, bir) & IORESOURCE_MEM))
		return false;
	return (u64)offset + size <= pci_resource_len(pdev, bir);
}

/* Reads the function's MSI-X capability into *info and validates it. */
static int xvm_msix_read_layout(struct pci_dev *pdev,
				struct xvm_msix_info *info)
{
	u32 table, pba, nr;
	u16 ctrl;
	int pos, r;

	pos = pci_find_capability(pdev, PCI_CAP_ID_MSIX);
	if (!pos)
		return -ENODEV;
	r = pci_read_config_word(pdev, pos + PCI_MSIX_FLAGS, &ctrl);
	if (!r)
		r = pci_read_config_dword(pdev, pos + PCI_MSIX_TABLE, &table);
	if (!r)
		r = pci_read_config_dword(pdev, pos + PCI_MSIX_PBA, &pba);
	if (r)
		return pcibios_err_to_errno(r);
	if (PCI_POSSIBLE_ERROR(ctrl) || PCI_POSSIBLE_ERROR(table) ||
	    PCI_POSSIBLE_ERROR(pba))
		return -EIO;

	nr = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;
	info->cap_offset = pos;
	info->nr_vectors = nr;
	info->table_bir = table & PCI_MSIX_TABLE_BIR;
	info->table_offset = table & PCI_MSIX_TABLE_OFFSET;
	info->table_size = nr * PCI_MSIX_ENTRY_SIZE;
	info->pba_bir = pba & PCI_MSIX_PBA_BIR;
	info->pba_offset = pba & PCI_MSIX_PBA_OFFSET;
	info->pba_size = DIV_ROUND_UP(nr, 64) * 8;

	if (!xvm_msix_fits_bar(pdev, info->table_bir, info->table_offset,
			       info->table_size) ||
	    !xvm_msix_fits_bar(pdev, info->pba_bir, info->pba_offset,
			       info->pba_size))
		return -ERANGE;
	if (info->table_bir == info->pba_bir &&
	    info->table_offset < info->pba_offset + info->pba_size &&
	    info->pba_offset < info->table_offset + info->table_size)
		return -ERANGE;
	return 0;
}

void xvm_msix_reset(struct xvm_msix *m)
{
	unsigned long flags;
	u32 i;

	spin_lock_irqsave(&m->lock, flags);
	m->enabled = false;
	m->fmask = false;
	for (i = 0; i < m->nr_vectors; i++) {
		struct xvm_msix_vector *v = &m->vectors[i];

		v->addr = 0;
		v->data = 0;
		v->ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;
		v->msg.addr = 0;
		v->msg.data = 0;
		v->updated = false;
	}
	memset(m->pba, 0, m->info.pba_size);
	spin_unlock_irqrestore(&m->lock, flags);
}

static int xvm_msix_alloc_vectors(struct xvm_msix *m, u32 nr)
{
	u32 i;

	m->vectors = kvcalloc(nr, sizeof(*m->vectors), GFP_KERNEL_ACCOUNT);
	m->msgs = kvcalloc(nr, sizeof(*m->msgs), GFP_KERNEL_ACCOUNT);
	m->pba = kcalloc(DIV_ROUND_UP(nr, 64), sizeof(u64), GFP_KERNEL_ACCOUNT);
	if (!m->vectors || !m->msgs || !m->pba)
		return -ENOMEM;
	for (i = 0; i < nr; i++)
		m->vectors[i].m = m;
	return 0;
}

void xvm_msix_free_vectors(struct xvm_msix *m)
{
	kvfree(m->vectors);
	kvfree(m->msgs);
	kfree(m->pba);
	m->vectors = NULL;
	m->msgs = NULL;
	m->pba = NULL;
}

int xvm_msix_attach(struct xvm_msix *m, const struct xvm_msix_attach *a)
{
	struct xvm_msix_info info = { 0 };
	struct pci_dev *pdev;
	struct file *group;
	int r;

	if (a->flags || a->pad || a->reserved[0] || a->reserved[1] ||
	    a->segment > INT_MAX)
		return -EINVAL;
	if (m->pdev)
		return -EEXIST;

	group = fget(a->group_fd);
	if (!group)
		return -EBADF;
	r = -EINVAL;
	if (!xvm_vfio_file_is_group(group))
		goto out_fput;
	r = -ENODEV;
	pdev = pci_get_domain_bus_and_slot(a->segment, a->bus, a->devfn);
	if (!pdev)
		goto out_fput;
	/* The caller owns pdev through VFIO (see xvm_vfio_compat.h). */
	r = xvm_vfio_group_has_pci_dev(group, pdev);
	if (r)
		goto out_pdev;
	r = xvm_msix_read_layout(pdev, &info);
	if (r)
		goto out_pdev;
	info.segment = a->segment;
	info.bus = a->bus;
	info.devfn = a->devfn;

	r = xvm_msix_alloc_vectors(m, info.nr_vectors);
	if (r) {
		xvm_msix_free_vectors(m);
		goto out_pdev;
	}
	m->info = info;
	m->nr_vectors = info.nr_vectors;
	xvm_msix_reset(m);
	m->pdev = pdev;		/* keeps our reference */
	fput(group);
	return 0;

out_pdev:
	pci_dev_put(pdev);
out_fput:
	fput(group);
	return r;
}
