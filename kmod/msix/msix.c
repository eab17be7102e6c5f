// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-msix.ko: XVM_DEV_TYPE_VFIO_MSIX, MSI-X interposition for a
 * VFIO-assigned PCI function.
 *
 * The guest never touches the function's real MSI-X table: the VMM keeps
 * every physical vector enabled through VFIO_DEVICE_SET_IRQS, one eventfd
 * per vector, and this device emulates what the guest sees - the table, the
 * pending-bit array (PBA) and the Message Control word - as Xen's vPCI and
 * QEMU's vfio-pci do.  When the function fires vector i, vfio-pci signals
 * eventfd i from its interrupt handler; our wait-queue hook on that eventfd
 * (KVM's irqfd pattern) runs in that same context, consumes the count and,
 * if the vector is unmasked, writes its data at its address on the VM's MMIO
 * bus (the event-channel doorbell, or GICD_SETSPI_NSR); if it is masked it
 * latches the vector's PBA bit, and the unmask delivers it once.
 *
 * The MSI-X layout (table size, BARs, offsets) is read from the device's own
 * capability at attach, never taken from userspace, and must fit its BARs.
 * The caller proves it owns the function with the function's VFIO group fd.
 *
 * This file holds the device: its attributes and its lifetime.  The
 * emulation (table, PBA, Message Control, delivery) is in msix-emul.c, the
 * eventfd hooks and attach in msix-hook.c, the shared state in msix.h.
 *
 * Locking (msix.h has the order, the other files their paths):
 *  - m->mutex serialises the attribute calls (attach, bus addresses,
 *    eventfd hooks, control word, reset) and guards m->msgs[].
 *  - m->lock (spinlock, IRQs off) protects the virtual MSI-X state.
 *
 * Teardown (the device fd closed, or VM teardown): every eventfd is
 * unhooked under its wait-queue lock (after which its wake function cannot
 * run), the table and PBA leave the bus and a grace period passes (after
 * which no handler runs), then everything is freed.  An eventfd whose file
 * is closed first unhooks itself on EPOLLHUP, as KVM's irqfd does.  The VFIO
 * group file is only used to prove ownership at attach; we keep no
 * reference on it, so VFIO can go away in any order.  The pci_dev reference
 * keeps the function's identity valid for XVM_MSIX_GRP_INFO.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <xvm/core.h>

#include "xvm_compat.h"
#include "msix.h"

/* Attributes. */

/* 0 if attr names an attribute of this device, else -ENXIO or -ENODEV. */
static int xvm_msix_check_attr(struct xvm_msix *m,
			       const struct xvm_device_attr *attr)
{
	switch (attr->group) {
	case XVM_MSIX_GRP_ATTACH:
		return attr->attr ? -ENXIO : 0;
	case XVM_MSIX_GRP_STATS:
		return attr->attr < XVM_MSIX_NR_STATS ? 0 : -ENXIO;
	case XVM_MSIX_GRP_INFO:
		if (attr->attr)
			return -ENXIO;
		break;
	case XVM_MSIX_GRP_ADDR:
		if (attr->attr != XVM_MSIX_ADDR_TABLE &&
		    attr->attr != XVM_MSIX_ADDR_PBA)
			return -ENXIO;
		break;
	case XVM_MSIX_GRP_CTRL:
		if (attr->attr != XVM_MSIX_CTRL_WORD &&
		    attr->attr != XVM_MSIX_CTRL_RESET)
			return -ENXIO;
		break;
	case XVM_MSIX_GRP_EVENTFD:
	case XVM_MSIX_GRP_VECTOR:
		if (!m->pdev)
			return -ENODEV;
		return attr->attr < m->nr_vectors ? 0 : -ENXIO;
	default:
		return -ENXIO;
	}
	return m->pdev ? 0 : -ENODEV;
}

static int xvm_msix_set_eventfd(struct xvm_msix *m, u32 i, int fd)
{
	struct xvm_msix_vector *v;

	/* xvm_msix_check_attr() checked i. */
	i = array_index_nospec(i, m->nr_vectors);
	v = &m->vectors[i];
	if (fd == -1) {
		if (!v->eventfd)
			return -ENOENT;
		xvm_msix_unhook(v);
		return 0;
	}
	if (fd < 0)
		return -EBADF;
	/* An eventfd hooked elsewhere already is refused in the hook. */
	if (v->eventfd)
		return -EBUSY;
	return xvm_msix_hook(v, fd);
}

static int xvm_msix_do_set_attr(struct xvm_msix *m,
				const struct xvm_device_attr *attr,
				void __user *uaddr)
{
	struct xvm_msix_attach a;
	u64 gpa;
	u16 val;
	s32 fd;
	int r;

	r = xvm_msix_check_attr(m, attr);
	if (r)
		return r;

	switch (attr->group) {
	case XVM_MSIX_GRP_ATTACH:
		if (copy_from_user(&a, uaddr, sizeof(a)))
			return -EFAULT;
		return xvm_msix_attach(m, &a);
	case XVM_MSIX_GRP_ADDR:
		if (get_user(gpa, (u64 __user *)uaddr))
			return -EFAULT;
		return xvm_msix_set_addr(m, attr->attr, gpa);
	case XVM_MSIX_GRP_EVENTFD:
		if (get_user(fd, (s32 __user *)uaddr))
			return -EFAULT;
		return xvm_msix_set_eventfd(m, attr->attr, fd);
	case XVM_MSIX_GRP_CTRL:
		if (attr->attr == XVM_MSIX_CTRL_RESET) {
			xvm_msix_reset(m);
			return 0;
		}
		if (get_user(val, (u16 __user *)uaddr))
			return -EFAULT;
		xvm_msix_set_ctrl_word(m, val);
		return 0;
	default:
		/* INFO, VECTOR and STATS are read-only. */
		return -ENXIO;
	}
}

static int xvm_msix_do_get_attr(struct xvm_msix *m,
				const struct xvm_device_attr *attr,
				void __user *uaddr)
{
	struct xvm_msix_vector_state vs;
	u64 val, i;
	int r;

	r = xvm_msix_check_attr(m, attr);
	if (r)
		return r;

	switch (attr->group) {
	case XVM_MSIX_GRP_INFO:
		return copy_to_user(uaddr, &m->info, sizeof(m->info)) ?
		       -EFAULT : 0;
	case XVM_MSIX_GRP_ADDR:
		i = array_index_nospec(attr->attr, XVM_MSIX_NR_REGIONS);
		val = m->on_bus[i] ? m->regions[i].base : XVM_MSIX_ADDR_NONE;
		return put_user(val, (u64 __user *)uaddr) ? -EFAULT : 0;
	case XVM_MSIX_GRP_CTRL:
		if (attr->attr != XVM_MSIX_CTRL_WORD)
			return -ENXIO;
		return put_user(xvm_msix_ctrl_word(m), (u16 __user *)uaddr) ?
		       -EFAULT : 0;
	case XVM_MSIX_GRP_VECTOR:
		xvm_msix_vector_state(m, attr->attr, &vs);
		return copy_to_user(uaddr, &vs, sizeof(vs)) ? -EFAULT : 0;
	case XVM_MSIX_GRP_STATS:
		i = array_index_nospec(attr->attr, XVM_MSIX_NR_STATS);
		val = atomic64_read(&m->stats[i]);
		return put_user(val, (u64 __user *)uaddr) ? -EFAULT : 0;
	default:
		/* ATTACH and EVENTFD are write-only. */
		return -ENXIO;
	}
}

static int xvm_msix_set_attr(struct xvm_device *dev,
			     struct xvm_device_attr *attr)
{
	struct xvm_msix *m = dev->private;
	int r;

	mutex_lock(&m->mutex);
	r = xvm_msix_do_set_attr(m, attr, u64_to_user_ptr(attr->addr));
	mutex_unlock(&m->mutex);
	return r;
}

static int xvm_msix_get_attr(struct xvm_device *dev,
			     struct xvm_device_attr *attr)
{
	struct xvm_msix *m = dev->private;
	int r;

	mutex_lock(&m->mutex);
	r = xvm_msix_do_get_attr(m, attr, u64_to_user_ptr(attr->addr));
	mutex_unlock(&m->mutex);
	return r;
}

static int xvm_msix_has_attr(struct xvm_device *dev,
			     struct xvm_device_attr *attr)
{
	struct xvm_msix *m = dev->private;
	int r;

	mutex_lock(&m->mutex);
	r = xvm_msix_check_attr(m, attr);
	mutex_unlock(&m->mutex);
	return r;
}

static int xvm_msix_create(struct xvm_device *dev)
{
	struct xvm_msix *m;

	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return -ENOMEM;
	m->dev = dev;
	mutex_init(&m->mutex);
	spin_lock_init(&m->lock);
	dev->private = m;
	return 0;
}

/* Closing the device fd, or VM teardown: see the top of this file. */
static void xvm_msix_destroy(struct xvm_device *dev)
{
	struct xvm_msix *m = dev->private;
	bool sync = false;
	u32 i;

	for (i = 0; i < m->nr_vectors; i++)
		xvm_msix_unhook(&m->vectors[i]);
	for (i = 0; i < XVM_MSIX_NR_REGIONS; i++) {
		if (m->on_bus[i]) {
			xvm_mmio_unregister(dev->vm, &m->regions[i]);
			sync = true;
		}
	}
	if (sync)
		xvm_mmio_synchronize();
	pci_dev_put(m->pdev);
	xvm_msix_free_vectors(m);
	mutex_destroy(&m->mutex);
	kfree(m);
}

static const struct xvm_device_ops xvm_msix_ops = {
	.name		= "xvm-msix",
	.type		= XVM_DEV_TYPE_VFIO_MSIX,
	.owner		= THIS_MODULE,
	.create		= xvm_msix_create,
	.destroy	= xvm_msix_destroy,
	.release	= xvm_msix_destroy,	/* closing the fd removes it */
	.set_attr	= xvm_msix_set_attr,
	.get_attr	= xvm_msix_get_attr,
	.has_attr	= xvm_msix_has_attr,
};

static int __init xvm_msix_init(void)
{
	return xvm_register_device_ops(&xvm_msix_ops);
}

static void __exit xvm_msix_exit(void)
{
	xvm_unregister_device_ops(&xvm_msix_ops);
}

module_init(xvm_msix_init);
module_exit(xvm_msix_exit);

MODULE_AUTHOR("xvm developers");
MODULE_VERSION(XVM_VERSION);
MODULE_DESCRIPTION("xvm: MSI-X interposition for VFIO-assigned PCI devices");
MODULE_LICENSE("GPL");
XVM_IMPORT_NS();
