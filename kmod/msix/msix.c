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
 * Locking:
 *  - m->mutex serialises the attribute calls (attach, bus addresses,
 *    eventfd hooks, control word, reset) and guards m->msgs[].
 *  - m->lock (spinlock, IRQs off) protects the virtual MSI-X state: every
 *    entry, m->enabled, m->fmask and m->pba[].  The MMIO handlers (vCPU
 *    ioctls, under RCU), the eventfd wake functions (hard IRQ for real
 *    MSI-X, process context for VFIO's loopback trigger) and the attribute
 *    calls take it.
 *  - v->hooked is protected by the hooked eventfd's wait-queue lock
 *    (v->wqh->lock), which the wake function runs under; v->eventfd and
 *    v->wqh change only under m->mutex while the vector is unhooked.
 *  - Order: eventfd wait-queue lock -> m->lock.  No MSI write is made
 *    under m->lock: its target (doorbell -> event channel -> perhaps an
 *    eventfd) must never nest inside it.  A fire racing with a mask write
 *    may therefore still be delivered, like a message already in flight.
 *  - The layout, m->nr_vectors, m->vectors and m->pdev are set once, at
 *    attach, before any region is on the bus or any eventfd is hooked.
 *  - Nothing on the delivery path (wake function, MMIO handlers) sleeps or
 *    allocates.  A device-originated access (vcpu == NULL) to the table or
 *    PBA is never claimed, so an MSI aimed at them cannot recurse.
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
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/pci.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <xvm/core.h>

#include "xvm_compat.h"
#include "xvm_vfio_compat.h"

#define XVM_MSIX_NR_REGIONS	2	/* XVM_MSIX_ADDR_TABLE, XVM_MSIX_ADDR_PBA */

struct xvm_msix;

/* An MSI: a 4-byte write of data at addr. */
struct xvm_msix_msg {
	u64 addr;
	u32 data;
};

struct xvm_msix_vector {
	struct xvm_msix *m;

	/* The guest-visible entry, under m->lock. */
	u64 addr;
	u32 data;
	u32 ctrl;			/* PCI_MSIX_ENTRY_CTRL_MASKBIT */
	struct xvm_msix_msg msg;	/* latched at unmask; what is delivered */
	bool updated;			/* addr/data written while unmasked */

	/* The eventfd hook. */
	struct eventfd_ctx *eventfd;	/* m->mutex */
	wait_queue_head_t *wqh;		/* the eventfd's; m->mutex */
	wait_queue_entry_t wait;
	poll_table pt;
	bool hooked;			/* wqh->lock */
	int hook_err;			/* from the poll queue callback */
};

struct xvm_msix {
	struct xvm_device *dev;
	struct mutex mutex;		/* attribute calls, msgs[] */
	spinlock_t lock;		/* entries, enabled, fmask, pba[] */

	/* Set once at attach. */
	struct pci_dev *pdev;
	struct xvm_msix_info info;
	u32 nr_vectors;
	struct xvm_msix_vector *vectors;
	struct xvm_msix_msg *msgs;	/* released by a control write */

	bool enabled;			/* Message Control: MSI-X Enable */
	bool fmask;			/* Message Control: Function Mask */
	u64 *pba;			/* one bit per vector */

	struct xvm_mmio_region regions[XVM_MSIX_NR_REGIONS];
	bool on_bus[XVM_MSIX_NR_REGIONS];	/* m->mutex */

	atomic64_t stats[XVM_MSIX_NR_STATS];
};

static void xvm_msix_count(struct xvm_msix *m, unsigned int stat)
{
	atomic64_inc(&m->stats[stat]);
}

static u32 xvm_msix_index(const struct xvm_msix_vector *v)
{
	return v - v->m->vectors;
}

/* Effective mask: MSI-X disabled, function masked or vector masked. */
static bool xvm_msix_masked(const struct xvm_msix *m,
			    const struct xvm_msix_vector *v)
{
	return !m->enabled || m->fmask ||
	       (v->ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static void xvm_msix_set_pending(struct xvm_msix *m, u32 i)
{
	m->pba[i / 64] |= BIT_ULL(i % 64);
}

static bool xvm_msix_test_and_clear_pending(struct xvm_msix *m, u32 i)
{
	bool was = m->pba[i / 64] & BIT_ULL(i % 64);

	m->pba[i / 64] &= ~BIT_ULL(i % 64);
	return was;
}

/*
 * v has just become unmasked: latch the message written so far and release
 * a pending fire, once.  Returns true when *msg must be delivered.
 */
static bool xvm_msix_unmasked(struct xvm_msix *m, struct xvm_msix_vector *v,
			      struct xvm_msix_msg *msg)
{
	lockdep_assert_held(&m->lock);
	v->msg.addr = v->addr;
	v->msg.data = v->data;
	v->updated = false;
	if (!xvm_msix_test_and_clear_pending(m, xvm_msix_index(v)))
		return false;
	*msg = v->msg;
	return true;
}

/* The MSI write, on the VM's bus; any context, never under m->lock. */
static void xvm_msix_deliver(struct xvm_msix *m, const struct xvm_msix_msg *msg)
{
	u64 data = msg->data;

	if (xvm_mmio_access(m->dev->vm, NULL, msg->addr, 4, true, &data))
		xvm_msix_count(m, XVM_MSIX_STAT_UNDELIVERABLE);
	else
		xvm_msix_count(m, XVM_MSIX_STAT_DELIVERED);
}

/* The device fired v: deliver it, or latch its PBA bit if masked. */
static void xvm_msix_fire(struct xvm_msix_vector *v)
{
	struct xvm_msix *m = v->m;
	struct xvm_msix_msg msg = { 0 };
	unsigned long flags;
	bool masked;

	xvm_msix_count(m, XVM_MSIX_STAT_FIRED);
	spin_lock_irqsave(&m->lock, flags);
	masked = xvm_msix_masked(m, v);
	if (masked)
		xvm_msix_set_pending(m, xvm_msix_index(v));
	else
		msg = v->msg;
	spin_unlock_irqrestore(&m->lock, flags);

	if (masked)
		xvm_msix_count(m, XVM_MSIX_STAT_LATCHED);
	else
		xvm_msix_deliver(m, &msg);
}

/*
 * The table, as data: one descriptor per 32-bit field of an entry.  An
 * 8-byte access is two field accesses, low then high.  write() returns true
 * when *msg must be delivered (an unmask released a pending fire).
 */
struct xvm_msix_field {
	u32 (*read)(const struct xvm_msix_vector *v);
	bool (*write)(struct xvm_msix *m, struct xvm_msix_vector *v, u32 val,
		      struct xvm_msix_msg *msg);
};

static void xvm_msix_written(struct xvm_msix *m, struct xvm_msix_vector *v)
{
	/* Takes effect at the next unmask (Xen and QEMU behaviour). */
	if (!xvm_msix_masked(m, v))
		v->updated = true;
}

static u32 xvm_msix_addr_lo_read(const struct xvm_msix_vector *v)
{
	return lower_32_bits(v->addr);
}

static bool xvm_msix_addr_lo_write(struct xvm_msix *m,
				   struct xvm_msix_vector *v, u32 val,
				   struct xvm_msix_msg *msg)
{
	v->addr = (v->addr & GENMASK_ULL(63, 32)) | val;
	xvm_msix_written(m, v);
	return false;
}

static u32 xvm_msix_addr_hi_read(const struct xvm_msix_vector *v)
{
	return upper_32_bits(v->addr);
}

static bool xvm_msix_addr_hi_write(struct xvm_msix *m,
				   struct xvm_msix_vector *v, u32 val,
				   struct xvm_msix_msg *msg)
{
	v->addr = ((u64)val << 32) | lower_32_bits(v->addr);
	xvm_msix_written(m, v);
	return false;
}

static u32 xvm_msix_data_read(const struct xvm_msix_vector *v)
{
	return v->data;
}

static bool xvm_msix_data_write(struct xvm_msix *m, struct xvm_msix_vector *v,
				u32 val, struct xvm_msix_msg *msg)
{
	v->data = val;
	xvm_msix_written(m, v);
	return false;
}

static u32 xvm_msix_ctrl_read(const struct xvm_msix_vector *v)
{
	return v->ctrl;
}

static bool xvm_msix_ctrl_write(struct xvm_msix *m, struct xvm_msix_vector *v,
				u32 val, struct xvm_msix_msg *msg)
{
	bool was_masked = xvm_msix_masked(m, v);

	/* Bits 31:1 are reserved: they read as zero. */
	v->ctrl = val & PCI_MSIX_ENTRY_CTRL_MASKBIT;
	if (was_masked && !xvm_msix_masked(m, v))
		return xvm_msix_unmasked(m, v, msg);
	return false;
}

static const struct xvm_msix_field xvm_msix_fields[PCI_MSIX_ENTRY_SIZE / 4] = {
	[PCI_MSIX_ENTRY_LOWER_ADDR / 4] = {
		.read = xvm_msix_addr_lo_read, .write = xvm_msix_addr_lo_write,
	},
	[PCI_MSIX_ENTRY_UPPER_ADDR / 4] = {
		.read = xvm_msix_addr_hi_read, .write = xvm_msix_addr_hi_write,
	},
	[PCI_MSIX_ENTRY_DATA / 4] = {
		.read = xvm_msix_data_read, .write = xvm_msix_data_write,
	},
	[PCI_MSIX_ENTRY_VECTOR_CTRL / 4] = {
		.read = xvm_msix_ctrl_read, .write = xvm_msix_ctrl_write,
	},
};

/* Only naturally aligned 4- and 8-byte accesses are legal. */
static bool xvm_msix_access_ok(u64 offset, unsigned int len)
{
	return (len == 4 || len == 8) && IS_ALIGNED(offset, len);
}

static u64 xvm_msix_all_ones(unsigned int len)
{
	return len >= 8 ? ~0ULL : BIT_ULL(8 * len) - 1;
}

static struct xvm_msix *xvm_msix_from_table(struct xvm_mmio_region *r)
{
	return container_of(r, struct xvm_msix, regions[XVM_MSIX_ADDR_TABLE]);
}

static struct xvm_msix *xvm_msix_from_pba(struct xvm_mmio_region *r)
{
	return container_of(r, struct xvm_msix, regions[XVM_MSIX_ADDR_PBA]);
}

static int xvm_msix_table_read(struct xvm_vcpu *vcpu,
			       struct xvm_mmio_region *r, u64 offset,
			       unsigned int len, u64 *val)
{
	struct xvm_msix *m = xvm_msix_from_table(r);
	const struct xvm_msix_field *f;
	unsigned long flags;
	unsigned int i;
	u64 res = 0;

	if (!vcpu || offset >= r->size)
		return -EINVAL;
	if (!xvm_msix_access_ok(offset, len)) {
		xvm_msix_count(m, XVM_MSIX_STAT_BAD_READS);
		*val = xvm_msix_all_ones(len);
		return 0;
	}
	/* Aligned and below size: the whole access is in one entry. */
	offset = array_index_nospec(offset, r->size);
	spin_lock_irqsave(&m->lock, flags);
	for (i = 0; i < len / 4; i++) {
		u64 off = offset + 4 * i;

		f = &xvm_msix_fields[(off % PCI_MSIX_ENTRY_SIZE) / 4];
		res |= (u64)f->read(&m->vectors[off / PCI_MSIX_ENTRY_SIZE])
		       << (32 * i);
	}
	spin_unlock_irqrestore(&m->lock, flags);
	*val = res;
	return 0;
}

static int xvm_msix_table_write(struct xvm_vcpu *vcpu,
				struct xvm_mmio_region *r, u64 offset,
				unsigned int len, u64 val)
{
	struct xvm_msix *m = xvm_msix_from_table(r);
	const struct xvm_msix_field *f;
	struct xvm_msix_msg msg = { 0 };
	bool deliver = false;
	unsigned long flags;
	unsigned int i;

	if (!vcpu || offset >= r->size)
		return -EINVAL;
	if (!xvm_msix_access_ok(offset, len)) {
		xvm_msix_count(m, XVM_MSIX_STAT_BAD_WRITES);
		return 0;
	}
	offset = array_index_nospec(offset, r->size);
	spin_lock_irqsave(&m->lock, flags);
	for (i = 0; i < len / 4; i++) {
		u64 off = offset + 4 * i;

		f = &xvm_msix_fields[(off % PCI_MSIX_ENTRY_SIZE) / 4];
		/* An access covers one entry: at most one control word. */
		deliver |= f->write(m, &m->vectors[off / PCI_MSIX_ENTRY_SIZE],
				    val >> (32 * i), &msg);
	}
	spin_unlock_irqrestore(&m->lock, flags);
	if (deliver)
		xvm_msix_deliver(m, &msg);
	return 0;
}

static const struct xvm_mmio_ops xvm_msix_table_ops = {
	.read	= xvm_msix_table_read,
	.write	= xvm_msix_table_write,
};

static int xvm_msix_pba_read(struct xvm_vcpu *vcpu, struct xvm_mmio_region *r,
			     u64 offset, unsigned int len, u64 *val)
{
	struct xvm_msix *m = xvm_msix_from_pba(r);
	unsigned long flags;
	u64 word;

	if (!vcpu || offset >= r->size)
		return -EINVAL;
	if (!xvm_msix_access_ok(offset, len)) {
		xvm_msix_count(m, XVM_MSIX_STAT_BAD_READS);
		*val = xvm_msix_all_ones(len);
		return 0;
	}
	offset = array_index_nospec(offset, r->size);
	spin_lock_irqsave(&m->lock, flags);
	word = m->pba[offset / 8];
	spin_unlock_irqrestore(&m->lock, flags);
	if (len == 4)
		word = (u32)(word >> (8 * (offset % 8)));
	*val = word;
	return 0;
}

static int xvm_msix_pba_write(struct xvm_vcpu *vcpu, struct xvm_mmio_region *r,
			      u64 offset, unsigned int len, u64 val)
{
	struct xvm_msix *m = xvm_msix_from_pba(r);

	if (!vcpu || offset >= r->size)
		return -EINVAL;
	/* The PBA is read-only: legal writes are ignored, others dropped. */
	if (!xvm_msix_access_ok(offset, len))
		xvm_msix_count(m, XVM_MSIX_STAT_BAD_WRITES);
	else
		xvm_msix_count(m, XVM_MSIX_STAT_PBA_WRITES);
	return 0;
}

static const struct xvm_mmio_ops xvm_msix_pba_ops = {
	.read	= xvm_msix_pba_read,
	.write	= xvm_msix_pba_write,
};

/* The eventfd hook. */

static int xvm_msix_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			   int sync, void *key)
{
	struct xvm_msix_vector *v = container_of(wait, struct xvm_msix_vector,
						 wait);
	__poll_t events = key_to_poll(key);
	int ret = 0;
	u64 cnt;

	/* The eventfd's wait-queue lock is held, IRQs off. */
	if (events & EPOLLIN) {
		eventfd_ctx_do_read(v->eventfd, &cnt);
		if (cnt)
			xvm_msix_fire(v);
		/* Exclusive: a reader of the eventfd does not see it too. */
		ret = 1;
	}
	if (events & EPOLLHUP) {
		/* The eventfd file is going: unhook; our reference stays. */
		list_del_init(&wait->entry);
		v->hooked = false;
	}
	return ret;
}

/*
 * add_wait_queue_priority(), refusing an eventfd that already has a
 * priority waiter (another interposer or a KVM irqfd): only the first one
 * would ever see its signals.
 */
static void xvm_msix_queue_proc(struct file *file, wait_queue_head_t *wqh,
				poll_table *pt)
{
	struct xvm_msix_vector *v = container_of(pt, struct xvm_msix_vector,
						 pt);
	wait_queue_entry_t *first;
	unsigned long flags;

	spin_lock_irqsave(&wqh->lock, flags);
	first = list_first_entry_or_null(&wqh->head, wait_queue_entry_t,
					 entry);
	if (first && (first->flags & WQ_FLAG_PRIORITY)) {
		v->hook_err = -EBUSY;
	} else {
		v->wqh = wqh;
		v->wait.flags |= WQ_FLAG_EXCLUSIVE | WQ_FLAG_PRIORITY;
		__add_wait_queue(wqh, &v->wait);
		v->hooked = true;
	}
	spin_unlock_irqrestore(&wqh->lock, flags);
}

static int xvm_msix_hook(struct xvm_msix_vector *v, int fd)
{
	struct eventfd_ctx *ctx;
	struct file *file;
	unsigned long flags;
	__poll_t events;
	u64 cnt = 0;
	int r;

	file = fget(fd);
	if (!file)
		return -EBADF;
	ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(ctx)) {
		r = PTR_ERR(ctx);
		goto out;
	}
	v->eventfd = ctx;
	v->wqh = NULL;
	v->hooked = false;
	v->hook_err = 0;
	init_waitqueue_func_entry(&v->wait, xvm_msix_wakeup);
	init_poll_funcptr(&v->pt, xvm_msix_queue_proc);

	events = vfs_poll(file, &v->pt);
	if (!v->wqh) {
		r = v->hook_err ? v->hook_err : -EINVAL;
		v->eventfd = NULL;
		eventfd_ctx_put(ctx);
		goto out;
	}
	/*
	 * Signalled before the hook: consume it as the wake function would,
	 * but fire after dropping the eventfd's lock.  Here, unlike in the
	 * wake function, eventfd_signal() is allowed, and delivery may signal
	 * another eventfd (a port's NOTIFY, even this one): under this lock
	 * that would recurse on it or order two eventfd locks.
	 */
	if (events & EPOLLIN) {
		spin_lock_irqsave(&v->wqh->lock, flags);
		if (v->hooked)
			eventfd_ctx_do_read(ctx, &cnt);
		spin_unlock_irqrestore(&v->wqh->lock, flags);
		if (cnt)
			xvm_msix_fire(v);
	}
	r = 0;
out:
	fput(file);
	return r;
}

/* Once this returns, v's wake function is not running and will not run. */
static void xvm_msix_unhook(struct xvm_msix_vector *v)
{
	unsigned long flags;

	if (!v->eventfd)
		return;
	spin_lock_irqsave(&v->wqh->lock, flags);
	if (v->hooked) {
		list_del_init(&v->wait.entry);
		v->hooked = false;
	}
	spin_unlock_irqrestore(&v->wqh->lock, flags);
	eventfd_ctx_put(v->eventfd);
	v->eventfd = NULL;
	v->wqh = NULL;
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

static void xvm_msix_reset(struct xvm_msix *m)
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

static void xvm_msix_free_vectors(struct xvm_msix *m)
{
	kvfree(m->vectors);
	kvfree(m->msgs);
	kfree(m->pba);
	m->vectors = NULL;
	m->msgs = NULL;
	m->pba = NULL;
}

static int xvm_msix_attach(struct xvm_msix *m, const struct xvm_msix_attach *a)
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

/* Bus addresses. */

static int xvm_msix_set_addr(struct xvm_msix *m, u32 which, u64 gpa)
{
	struct xvm_mmio_region *region;
	struct xvm_vm *vm = m->dev->vm;
	u64 size;
	int r;

	/* xvm_msix_check_attr() checked which. */
	which = array_index_nospec(which, XVM_MSIX_NR_REGIONS);
	region = &m->regions[which];
	size = which == XVM_MSIX_ADDR_TABLE ? m->info.table_size :
					       m->info.pba_size;
	if (gpa != XVM_MSIX_ADDR_NONE) {
		if (!IS_ALIGNED(gpa, 8))
			return -EINVAL;
		if (!xvm_gpa_range_valid(vm, gpa, size))
			return -E2BIG;
	}
	if (m->on_bus[which]) {
		if (region->base == gpa)
			return 0;
		xvm_mmio_unregister(vm, region);
		xvm_mmio_synchronize();
		m->on_bus[which] = false;
	}
	if (gpa == XVM_MSIX_ADDR_NONE)
		return 0;

	region->base = gpa;
	region->size = size;
	region->ops = which == XVM_MSIX_ADDR_TABLE ? &xvm_msix_table_ops :
						     &xvm_msix_pba_ops;
	r = xvm_mmio_register(vm, region);
	if (!r)
		m->on_bus[which] = true;
	return r;
}

/* Message Control. */

static u16 xvm_msix_ctrl_word(struct xvm_msix *m)
{
	unsigned long flags;
	u16 val;

	spin_lock_irqsave(&m->lock, flags);
	val = (m->nr_vectors - 1) |
	      (m->enabled ? PCI_MSIX_FLAGS_ENABLE : 0) |
	      (m->fmask ? PCI_MSIX_FLAGS_MASKALL : 0);
	spin_unlock_irqrestore(&m->lock, flags);
	return val;
}

/*
 * Only Enable and Function Mask are writable; every vector is re-evaluated
 * and each one that becomes unmasked with its PBA bit set is delivered once.
 */
static void xvm_msix_set_ctrl_word(struct xvm_msix *m, u16 val)
{
	bool enable = val & PCI_MSIX_FLAGS_ENABLE;
	bool fmask = val & PCI_MSIX_FLAGS_MASKALL;
	unsigned long flags;
	bool was_masked;
	u32 i, n = 0;

	lockdep_assert_held(&m->mutex);
	spin_lock_irqsave(&m->lock, flags);
	was_masked = !m->enabled || m->fmask;
	m->enabled = enable;
	m->fmask = fmask;
	if (was_masked && enable && !fmask) {
		for (i = 0; i < m->nr_vectors; i++) {
			struct xvm_msix_vector *v = &m->vectors[i];

			if (!(v->ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT) &&
			    xvm_msix_unmasked(m, v, &m->msgs[n]))
				n++;
		}
	}
	spin_unlock_irqrestore(&m->lock, flags);
	for (i = 0; i < n; i++)
		xvm_msix_deliver(m, &m->msgs[i]);
}

static void xvm_msix_vector_state(struct xvm_msix *m, u32 i,
				  struct xvm_msix_vector_state *out)
{
	struct xvm_msix_vector *v;
	unsigned long flags;

	/* xvm_msix_check_attr() checked i. */
	i = array_index_nospec(i, m->nr_vectors);
	v = &m->vectors[i];
	memset(out, 0, sizeof(*out));
	spin_lock_irqsave(&m->lock, flags);
	out->addr = v->addr;
	out->data = v->data;
	out->ctrl = v->ctrl;
	out->msg_addr = v->msg.addr;
	out->msg_data = v->msg.data;
	if (m->pba[i / 64] & BIT_ULL(i % 64))
		out->flags |= XVM_MSIX_VECTOR_PENDING;
	if (xvm_msix_masked(m, v))
		out->flags |= XVM_MSIX_VECTOR_MASKED;
	if (v->updated)
		out->flags |= XVM_MSIX_VECTOR_UPDATED;
	spin_unlock_irqrestore(&m->lock, flags);
	if (v->eventfd)
		out->flags |= XVM_MSIX_VECTOR_EVENTFD;
	if (READ_ONCE(v->hooked))
		out->flags |= XVM_MSIX_VECTOR_HOOKED;
}

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
