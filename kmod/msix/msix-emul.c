// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-msix.ko: emulation of what the guest sees of the function's MSI-X -
 * the table and the pending-bit array (PBA) on the VM's MMIO bus, the
 * Message Control word, the per-vector state, and delivery of a fire (the
 * MSI write) or its latching in the PBA.
 *
 * Locking:
 *  - m->lock (spinlock, IRQs off) protects every entry, m->enabled,
 *    m->fmask and m->pba[].  The MMIO handlers (vCPU ioctls, under RCU),
 *    the eventfd wake functions (hard IRQ for real MSI-X, process context
 *    for VFIO's loopback trigger) and the attribute calls take it.
 *  - No MSI write is made under m->lock: its target (doorbell -> event
 *    channel -> perhaps an eventfd) must never nest inside it.  A fire
 *    racing with a mask write may therefore still be delivered, like a
 *    message already in flight.
 *  - Bus addresses, the control word and a restored vector state are set
 *    under m->mutex (the attribute calls); m->msgs[] is only used under
 *    it.  A restore also takes m->lock, and refuses a vector whose hook is
 *    live (hooking needs m->mutex too), so no fire races with it.
 *  - Nothing on the delivery path (wake function, MMIO handlers) sleeps or
 *    allocates.  A device-originated access (vcpu == NULL) to the table or
 *    PBA is never claimed, so an MSI aimed at them cannot recurse.
 */
#include <linux/lockdep.h>
#include <linux/nospec.h>
#include <linux/pci.h>
#include <linux/spinlock.h>

#include <xvm/core.h>

#include "msix.h"
#include "trace.h"

/* The device's counters that the VM's statistics fd sums, plus one. */
static const u8 xvm_msix_vm_stats[XVM_MSIX_NR_STATS] = {
	[XVM_MSIX_STAT_DELIVERED]	= XVM_VM_STAT_MSIX_DELIVERED + 1,
	[XVM_MSIX_STAT_LATCHED]		= XVM_VM_STAT_MSIX_LATCHED + 1,
};

static void xvm_msix_count(struct xvm_msix *m, unsigned int stat)
{
	atomic64_inc(&m->stats[stat]);
	if (xvm_msix_vm_stats[stat])
		atomic64_inc(&m->dev->vm->stats[xvm_msix_vm_stats[stat] - 1]);
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
	trace_xvm_msix_latch(m, i);
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
	trace_xvm_msix_unmask(m, v);
	if (!xvm_msix_test_and_clear_pending(m, xvm_msix_index(v)))
		return false;
	*msg = v->msg;
	return true;
}

/* The MSI write, on the VM's bus; any context, never under m->lock. */
static void xvm_msix_deliver(struct xvm_msix *m, const struct xvm_msix_msg *msg)
{
	u64 data = msg->data;

	trace_xvm_msix_deliver(m, msg);
	if (xvm_mmio_access(m->dev->vm, NULL, msg->addr, 4, true, &data))
		xvm_msix_count(m, XVM_MSIX_STAT_UNDELIVERABLE);
	else
		xvm_msix_count(m, XVM_MSIX_STAT_DELIVERED);
}

/* The device fired v: deliver it, or latch its PBA bit if masked. */
void xvm_msix_fire(struct xvm_msix_vector *v)
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

/*
 * The bus only routes accesses inside a region, from a vCPU: anything else
 * is -EINVAL.  Of those, only naturally aligned 4- and 8-byte accesses are
 * legal (1): another is counted as bad and returns 0 (a read of it gives
 * all ones, a write is dropped), as a real function would.
 */
static int xvm_msix_access_ok(struct xvm_msix *m, struct xvm_vcpu *vcpu,
			      struct xvm_mmio_region *r, u64 offset,
			      unsigned int len, bool write)
{
	if (!vcpu || offset >= r->size)
		return -EINVAL;
	if ((len == 4 || len == 8) && IS_ALIGNED(offset, len))
		return 1;
	xvm_msix_count(m, write ? XVM_MSIX_STAT_BAD_WRITES :
				  XVM_MSIX_STAT_BAD_READS);
	return 0;
}

/* The field of the table at off, which is 4-byte aligned. */
static const struct xvm_msix_field *xvm_msix_field_at(u64 off)
{
	return &xvm_msix_fields[(off % PCI_MSIX_ENTRY_SIZE) / 4];
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
	unsigned long flags;
	unsigned int i;
	u64 res = 0;
	int ok;

	ok = xvm_msix_access_ok(m, vcpu, r, offset, len, false);
	if (ok <= 0) {
		*val = xvm_msix_all_ones(len);
		return ok;
	}
	/* Aligned and below size: the whole access is in one entry. */
	offset = array_index_nospec(offset, r->size);
	spin_lock_irqsave(&m->lock, flags);
	for (i = 0; i < len / 4; i++) {
		u64 off = offset + 4 * i;
		const struct xvm_msix_vector *v;

		v = &m->vectors[off / PCI_MSIX_ENTRY_SIZE];
		res |= (u64)xvm_msix_field_at(off)->read(v) << (32 * i);
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
	struct xvm_msix_msg msg = { 0 };
	bool deliver = false;
	unsigned long flags;
	unsigned int i;
	int ok;

	ok = xvm_msix_access_ok(m, vcpu, r, offset, len, true);
	if (ok <= 0)
		return ok;
	offset = array_index_nospec(offset, r->size);
	spin_lock_irqsave(&m->lock, flags);
	for (i = 0; i < len / 4; i++) {
		u64 off = offset + 4 * i;
		struct xvm_msix_vector *v;

		v = &m->vectors[off / PCI_MSIX_ENTRY_SIZE];
		/* An access covers one entry: at most one control word. */
		deliver |= xvm_msix_field_at(off)->write(m, v, val >> (32 * i),
							 &msg);
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
	int ok;

	ok = xvm_msix_access_ok(m, vcpu, r, offset, len, false);
	if (ok <= 0) {
		*val = xvm_msix_all_ones(len);
		return ok;
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
	int ok;

	/* The PBA is read-only: legal writes are ignored, others dropped. */
	ok = xvm_msix_access_ok(m, vcpu, r, offset, len, true);
	if (ok > 0)
		xvm_msix_count(m, XVM_MSIX_STAT_PBA_WRITES);
	return ok < 0 ? ok : 0;
}

static const struct xvm_mmio_ops xvm_msix_pba_ops = {
	.read	= xvm_msix_pba_read,
	.write	= xvm_msix_pba_write,
};

/* Bus addresses. */

int xvm_msix_set_addr(struct xvm_msix *m, u32 which, u64 gpa)
{
	struct xvm_mmio_region *region;
	struct xvm_vm *vm = m->dev->vm;
	u64 size;
	int r;

	/* The attribute table checked which. */
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

u16 xvm_msix_ctrl_word(struct xvm_msix *m)
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
void xvm_msix_set_ctrl_word(struct xvm_msix *m, u16 val)
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

void xvm_msix_vector_state(struct xvm_msix *m, u32 i,
			   struct xvm_msix_vector_state *out)
{
	struct xvm_msix_vector *v;
	unsigned long flags;

	/* xvm_msix_has_vector() checked i. */
	i = array_index_nospec(i, m->nr_vectors);
	v = &m->vectors[i];
	memset(out, 0, sizeof(*out));
	out->version = XVM_MSIX_STATE_VERSION;
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
	if (xvm_eventfd_hook_holds(&v->hook))
		out->flags |= XVM_MSIX_VECTOR_EVENTFD;
	if (xvm_eventfd_hook_active(&v->hook))
		out->flags |= XVM_MSIX_VECTOR_HOOKED;
}

/* What a restore takes from flags; the other defined bits are derived. */
#define XVM_MSIX_VECTOR_RESTORED	(XVM_MSIX_VECTOR_PENDING | \
					 XVM_MSIX_VECTOR_UPDATED)
#define XVM_MSIX_VECTOR_DERIVED		(XVM_MSIX_VECTOR_MASKED | \
					 XVM_MSIX_VECTOR_EVENTFD | \
					 XVM_MSIX_VECTOR_HOOKED)

/* The checks that need no state: version, reserved, flags and ctrl bits. */
static int xvm_msix_vector_state_valid(const struct xvm_msix_vector_state *st)
{
	if (st->version != XVM_MSIX_STATE_VERSION || st->pad ||
	    st->reserved[0])
		return -EINVAL;
	if (st->flags & ~(XVM_MSIX_VECTOR_RESTORED | XVM_MSIX_VECTOR_DERIVED))
		return -EINVAL;
	if (st->ctrl & ~PCI_MSIX_ENTRY_CTRL_MASKBIT)
		return -EINVAL;
	return 0;
}

/*
 * Whether a device can be in state st under the current Message Control:
 * an effectively unmasked vector has no pending bit (its unmask released
 * it) and delivers its entry unless that was written since (UPDATED).
 */
static bool xvm_msix_vector_state_possible(const struct xvm_msix *m,
					   const struct xvm_msix_vector_state *st)
{
	if (!m->enabled || m->fmask || (st->ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT))
		return true;
	if (st->flags & XVM_MSIX_VECTOR_PENDING)
		return false;
	return (st->flags & XVM_MSIX_VECTOR_UPDATED) ||
	       (st->msg_addr == st->addr && st->msg_data == st->data);
}

/*
 * Restores vector i from st, all of it or (on error) nothing.  It never
 * delivers: a restored pending bit waits for the unmask that releases it,
 * as one a fire latched.  A vector with a live hook is refused: a fire it
 * latched before the restore would be overwritten; hook after restoring.
 */
int xvm_msix_set_vector_state(struct xvm_msix *m, u32 i,
			      const struct xvm_msix_vector_state *st)
{
	struct xvm_msix_vector *v;
	unsigned long flags;
	int r;

	lockdep_assert_held(&m->mutex);
	r = xvm_msix_vector_state_valid(st);
	if (r)
		return r;
	/* xvm_msix_has_vector() checked i. */
	i = array_index_nospec(i, m->nr_vectors);
	v = &m->vectors[i];
	/* Only hooked under m->mutex, which we hold. */
	if (xvm_eventfd_hook_active(&v->hook))
		return -EBUSY;

	spin_lock_irqsave(&m->lock, flags);
	if (!xvm_msix_vector_state_possible(m, st)) {
		spin_unlock_irqrestore(&m->lock, flags);
		return -EINVAL;
	}
	v->addr = st->addr;
	v->data = st->data;
	v->ctrl = st->ctrl;
	v->msg.addr = st->msg_addr;
	v->msg.data = st->msg_data;
	v->updated = st->flags & XVM_MSIX_VECTOR_UPDATED;
	if (st->flags & XVM_MSIX_VECTOR_PENDING)
		m->pba[i / 64] |= BIT_ULL(i % 64);
	else
		m->pba[i / 64] &= ~BIT_ULL(i % 64);
	spin_unlock_irqrestore(&m->lock, flags);
	return 0;
}
