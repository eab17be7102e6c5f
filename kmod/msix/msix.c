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
 *    eventfd hooks, control word, reset, vector restore) and guards
 *    m->msgs[].
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

#include <xvm/core.h>

#include "xvm_compat.h"
#include "msix.h"

/*
 * Attributes.  The core checked the group and the attr range and buffers
 * the value; each handler takes m->mutex.  An attach is for good (pdev and
 * nr_vectors never change after it), so what ->has found still holds when
 * the get or set runs.
 */

/* ->has of INFO, ADDR and CTRL: ENODEV before attach. */
static int xvm_msix_has_attached(struct xvm_device *dev,
				 const struct xvm_device_attr *attr)
{
	struct xvm_msix *m = dev->private;
	int r;

	mutex_lock(&m->mutex);
	r = m->pdev ? 0 : -ENODEV;
	mutex_unlock(&m->mutex);
	return r;
}

/* ->has of EVENTFD and VECTOR: ENODEV before attach, then the vector. */
static int xvm_msix_has_vector(struct xvm_device *dev,
			       const struct xvm_device_attr *attr)
{
	struct xvm_msix *m = dev->private;
	int r = -ENODEV;

	mutex_lock(&m->mutex);
	if (m->pdev)
		r = attr->attr < m->nr_vectors ? 0 : -ENXIO;
	mutex_unlock(&m->mutex);
	return r;
}

static int xvm_msix_set_attach(struct xvm_device *dev,
			       const struct xvm_device_attr *attr,
			       const void *val)
{
	struct xvm_msix *m = dev->private;
	int r;

	mutex_lock(&m->mutex);
	r = xvm_msix_attach(m, val);
	mutex_unlock(&m->mutex);
	return r;
}

static int xvm_msix_get_info(struct xvm_device *dev,
			     const struct xvm_device_attr *attr, void *val)
{
	struct xvm_msix *m = dev->private;

	mutex_lock(&m->mutex);
	memcpy(val, &m->info, sizeof(m->info));
	mutex_unlock(&m->mutex);
	return 0;
}

static int xvm_msix_set_addr_attr(struct xvm_device *dev,
				  const struct xvm_device_attr *attr,
				  const void *val)
{
	struct xvm_msix *m = dev->private;
	int r;

	mutex_lock(&m->mutex);
	r = xvm_msix_set_addr(m, attr->attr, *(const u64 *)val);
	mutex_unlock(&m->mutex);
	return r;
}

static int xvm_msix_get_addr(struct xvm_device *dev,
			     const struct xvm_device_attr *attr, void *val)
{
	u64 i = array_index_nospec(attr->attr, XVM_MSIX_NR_REGIONS);
	struct xvm_msix *m = dev->private;

	mutex_lock(&m->mutex);
	*(u64 *)val = m->on_bus[i] ? m->regions[i].base : XVM_MSIX_ADDR_NONE;
	mutex_unlock(&m->mutex);
	return 0;
}

static int xvm_msix_set_eventfd(struct xvm_device *dev,
				const struct xvm_device_attr *attr,
				const void *val)
{
	struct xvm_msix *m = dev->private;
	s32 fd = *(const s32 *)val;
	struct xvm_msix_vector *v;
	int r;

	mutex_lock(&m->mutex);
	/* xvm_msix_has_vector() checked attr. */
	v = &m->vectors[array_index_nospec(attr->attr, m->nr_vectors)];
	if (fd == -1) {
		r = -ENOENT;
		if (xvm_eventfd_hook_holds(&v->hook)) {
			xvm_msix_unhook(v);
			r = 0;
		}
	} else if (fd < 0) {
		r = -EBADF;
	} else if (xvm_eventfd_hook_active(&v->hook)) {
		/* An eventfd hooked elsewhere already is refused in the hook. */
		r = -EBUSY;
	} else {
		/* One whose eventfd was closed is dead: replace it, as evtchn. */
		xvm_msix_unhook(v);
		r = xvm_msix_hook(v, fd);
	}
	mutex_unlock(&m->mutex);
	return r;
}

static int xvm_msix_set_ctrl(struct xvm_device *dev,
			     const struct xvm_device_attr *attr,
			     const void *val)
{
	struct xvm_msix *m = dev->private;

	mutex_lock(&m->mutex);
	xvm_msix_set_ctrl_word(m, *(const u16 *)val);
	mutex_unlock(&m->mutex);
	return 0;
}

static int xvm_msix_get_ctrl(struct xvm_device *dev,
			     const struct xvm_device_attr *attr, void *val)
{
	struct xvm_msix *m = dev->private;

	mutex_lock(&m->mutex);
	*(u16 *)val = xvm_msix_ctrl_word(m);
	mutex_unlock(&m->mutex);
	return 0;
}

static int xvm_msix_set_reset(struct xvm_device *dev,
			      const struct xvm_device_attr *attr,
			      const void *val)
{
	struct xvm_msix *m = dev->private;

	mutex_lock(&m->mutex);
	xvm_msix_reset(m);
	mutex_unlock(&m->mutex);
	return 0;
}

static int xvm_msix_get_vector(struct xvm_device *dev,
			       const struct xvm_device_attr *attr, void *val)
{
	struct xvm_msix *m = dev->private;

	mutex_lock(&m->mutex);
	xvm_msix_vector_state(m, attr->attr, val);
	mutex_unlock(&m->mutex);
	return 0;
}

static int xvm_msix_set_vector(struct xvm_device *dev,
			       const struct xvm_device_attr *attr,
			       const void *val)
{
	struct xvm_msix *m = dev->private;
	int r;

	mutex_lock(&m->mutex);
	r = xvm_msix_set_vector_state(m, attr->attr, val);
	mutex_unlock(&m->mutex);
	return r;
}

/* A constant of the module: readable before attach, no lock. */
static int xvm_msix_get_state_version(struct xvm_device *dev,
				      const struct xvm_device_attr *attr,
				      void *val)
{
	*(u32 *)val = XVM_MSIX_STATE_VERSION;
	return 0;
}

/* Counters are atomic: no lock. */
static int xvm_msix_get_stat(struct xvm_device *dev,
			     const struct xvm_device_attr *attr, void *val)
{
	u64 i = array_index_nospec(attr->attr, XVM_MSIX_NR_STATS);
	struct xvm_msix *m = dev->private;

	*(u64 *)val = atomic64_read(&m->stats[i]);
	return 0;
}

static const struct xvm_attr_desc xvm_msix_attrs[] = {
	{
		.group = XVM_MSIX_GRP_ATTACH,
		.size = sizeof(struct xvm_msix_attach),
		.set = xvm_msix_set_attach,
	}, {
		.group = XVM_MSIX_GRP_INFO,
		.size = sizeof(struct xvm_msix_info),
		.has = xvm_msix_has_attached,
		.get = xvm_msix_get_info,
	}, {
		.group = XVM_MSIX_GRP_ADDR,
		.attr_first = XVM_MSIX_ADDR_TABLE,
		.attr_last = XVM_MSIX_ADDR_PBA,
		.size = sizeof(u64),
		.has = xvm_msix_has_attached,
		.get = xvm_msix_get_addr,
		.set = xvm_msix_set_addr_attr,
	}, {
		.group = XVM_MSIX_GRP_EVENTFD,
		.attr_last = U64_MAX,		/* xvm_msix_has_vector() */
		.size = sizeof(s32),
		.has = xvm_msix_has_vector,
		.set = xvm_msix_set_eventfd,
	}, {
		.group = XVM_MSIX_GRP_CTRL,
		.attr_first = XVM_MSIX_CTRL_WORD,
		.attr_last = XVM_MSIX_CTRL_WORD,
		.size = sizeof(u16),
		.has = xvm_msix_has_attached,
		.get = xvm_msix_get_ctrl,
		.set = xvm_msix_set_ctrl,
	}, {
		.group = XVM_MSIX_GRP_CTRL,
		.attr_first = XVM_MSIX_CTRL_RESET,
		.attr_last = XVM_MSIX_CTRL_RESET,	/* no value */
		.has = xvm_msix_has_attached,
		.set = xvm_msix_set_reset,
	}, {
		.group = XVM_MSIX_GRP_CTRL,
		.attr_first = XVM_MSIX_CTRL_STATE_VERSION,
		.attr_last = XVM_MSIX_CTRL_STATE_VERSION,
		.size = sizeof(u32),
		.get = xvm_msix_get_state_version,
	}, {
		.group = XVM_MSIX_GRP_VECTOR,
		.attr_last = U64_MAX,		/* xvm_msix_has_vector() */
		.size = sizeof(struct xvm_msix_vector_state),
		.has = xvm_msix_has_vector,
		.get = xvm_msix_get_vector,
		.set = xvm_msix_set_vector,
	}, {
		.group = XVM_MSIX_GRP_STATS,
		.attr_last = XVM_MSIX_NR_STATS - 1,
		.size = sizeof(u64),
		.get = xvm_msix_get_stat,
	},
};

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
	.attrs		= xvm_msix_attrs,
	.nr_attrs	= ARRAY_SIZE(xvm_msix_attrs),
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
