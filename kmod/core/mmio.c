// SPDX-License-Identifier: GPL-2.0
/*
 * The per-VM MMIO bus: which device claims a guest physical address.
 *
 * The bus is an immutable array of ranges sorted by base, replaced as a
 * whole on every change (copy on write) and published with RCU, so a lookup
 * is a binary search, O(log n), that takes no lock: MSI delivery performs
 * it from hard-IRQ context.
 *
 * Locking: vm->mmio_lock serialises writers.  Readers are in an RCU read
 * section for the lookup and the handler call (xvm_mmio_read_lock()).  A
 * replaced array is freed after a grace period (kvfree_rcu); a region must
 * not be freed until xvm_mmio_synchronize() has returned after its
 * unregistration.
 *
 * The vCPU's accesses (XVM_MMIO, XVM_MMIO_BATCH, XVM_MMIO_RUN) are here
 * too, so that the lookup is inlined into them: under an emulator a call
 * and its return cost more than the whole binary search, and the access
 * is the hot path of every VMM exit.  They take no lock of the vCPU's
 * (the counters are atomic).  XVM_MMIO_RUN reads each field of the run
 * page once into a kernel copy, screens and performs that copy, and
 * writes the outputs back: two threads running it on one vCPU at once
 * race on their own page only, each access is one that some thread wrote,
 * and no value the kernel acts on is read twice.
 *
 * Unregistering must not fail.  If the smaller copy cannot be allocated,
 * the range stays in place as a tombstone (region == NULL, never claims an
 * access) and the next change drops it.
 */
#include <linux/bits.h>
#include <linux/overflow.h>
#include <linux/preempt.h>
#include <linux/slab.h>
#include <linux/mm.h>

#include "xvm_compat.h"
#include "internal.h"
#include "mmio.h"
#include "trace.h"

/* The range whose span holds addr, or NULL. */
static struct xvm_mmio_range *xvm_mmio_find(struct xvm_mmio_bus *bus, u64 addr)
{
	u32 lo = 0, hi = bus->nr;

	/* Find the number of ranges with base <= addr. */
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (bus->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr > bus->ranges[lo - 1].last)
		return NULL;
	return &bus->ranges[lo - 1];
}

/*
 * The readers' RCU section.  Since the RCU flavours were merged, a
 * preempt-disabled section is a reader that synchronize_rcu() and
 * kvfree_rcu() wait for, and it costs no call where PREEMPT_RCU's
 * rcu_read_lock() costs two: a fifth of an access in the TCG guest.  The
 * ops may not sleep in any case (MSI delivery calls them from hard IRQ).
 * PREEMPT_RT keeps rcu_read_lock(): there an op's spinlock_t (the wake-up
 * of an event channel's poller) is a sleeping lock.  Plain
 * preempt_disable(), not rcu_read_lock_sched(), whose lockdep map would
 * have PROVE_RAW_LOCK_NESTING flag that spinlock_t for RT's sake.
 */
static __always_inline void xvm_mmio_read_lock(void)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		rcu_read_lock();
	else
		preempt_disable();
}

static __always_inline void xvm_mmio_read_unlock(void)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		rcu_read_unlock();
	else
		preempt_enable();
}

/*
 * The lookup and the region's op: the one body of xvm_mmio_access() and of
 * the vCPU's accesses, inlined into each.
 */
static __always_inline int xvm_mmio_dispatch(struct xvm_vm *vm,
					     struct xvm_vcpu *vcpu, u64 addr,
					     unsigned int len, bool is_write,
					     u64 *val)
{
	const struct xvm_mmio_ops *ops;
	struct xvm_mmio_region *region;
	struct xvm_mmio_range *range;
	struct xvm_mmio_bus *bus;
	int r = -ENOENT;

	xvm_mmio_read_lock();
	bus = rcu_dereference_check(vm->mmio_bus, rcu_read_lock_any_held());
	range = bus ? xvm_mmio_find(bus, addr) : NULL;
	/* The whole access must fall inside the range. */
	if (!range || len - 1 > range->last - addr)
		goto out;
	region = READ_ONCE(range->region);
	if (!region)
		goto out;
	ops = region->ops;
	r = -EOPNOTSUPP;
	if (is_write && ops->write)
		r = ops->write(vcpu, region, addr - range->base, len, *val);
	else if (!is_write && ops->read)
		r = ops->read(vcpu, region, addr - range->base, len, val);
out:
	xvm_mmio_read_unlock();
	trace_xvm_mmio(vm, vcpu, addr, len, is_write, val, r);
	return r;
}

/**
 * xvm_mmio_access() - dispatch one access to the region of the VM's MMIO bus
 * @vm: the VM
 * @vcpu: the vCPU making the access, handed to the region's ops
 * @addr: guest physical address
 * @len: access size in bytes
 * @is_write: a write of *@val, else a read into *@val
 * @val: the value written or read
 *
 * Lock-free: the bus is read under RCU.  Context: any; the region's ops
 * must not sleep.
 *
 * Return: the region's read or write op's result; -ENOENT if no region
 * covers the whole access; -EOPNOTSUPP if the region has no op for it.
 */
int xvm_mmio_access(struct xvm_vm *vm, struct xvm_vcpu *vcpu, u64 addr,
		    unsigned int len, bool is_write, u64 *val)
{
	return xvm_mmio_dispatch(vm, vcpu, addr, len, is_write, val);
}
EXPORT_SYMBOL_NS_GPL(xvm_mmio_access, XVM_NS);

/* Mask of the low len bytes; len is 1, 2, 4 or 8. */
static u64 xvm_mmio_mask(u32 len)
{
	return len == 8 ? ~0ULL : (1ULL << (len * 8)) - 1;
}

/* The lengths an access may not have, below 16: all but 1, 2, 4 and 8. */
#define XVM_MMIO_BAD_LENS	(0xffffUL & ~(BIT(1) | BIT(2) | BIT(4) | BIT(8)))

/*
 * An unknown flag, reserved not zero, a bad length or a wrap: one test,
 * one branch (under an emulator each branch costs more than its test).
 */
static bool xvm_mmio_malformed(const struct xvm_mmio *m)
{
	return (m->flags & ~XVM_MMIO_WRITE) | m->reserved | (m->len > 15) |
	       ((XVM_MMIO_BAD_LENS >> (m->len & 15)) & 1) |
	       (m->addr + m->len - 1 < m->addr);
}

/*
 * Performs one access of the vCPU's, on a kernel copy; returns 0 or
 * -EINVAL for a malformed one, untouched then.
 */
static __always_inline int xvm_mmio_vcpu_access(struct xvm_vcpu *vcpu,
						struct xvm_mmio *m)
{
	bool is_write = m->flags & XVM_MMIO_WRITE;
	u64 val;

	if (xvm_mmio_malformed(m))
		return -EINVAL;

	val = is_write ? m->data & xvm_mmio_mask(m->len) : 0;
	if (xvm_mmio_dispatch(vcpu->vm, vcpu, m->addr, m->len, is_write,
			      &val)) {
		m->result = XVM_MMIO_UNHANDLED;
		atomic64_inc(&vcpu->stats[XVM_VCPU_STAT_MMIO_UNHANDLED]);
		val = 0;
	} else {
		m->result = XVM_MMIO_HANDLED;
		atomic64_inc(&vcpu->stats[XVM_VCPU_STAT_MMIO_HANDLED]);
	}
	if (!is_write)
		m->data = val & xvm_mmio_mask(m->len);
	return 0;
}

/* XVM_MMIO: the kernel copy the dispatcher made of the argument. */
long xvm_vcpu_ioctl_mmio(void *vcpu, void *m, unsigned long arg)
{
	return xvm_mmio_vcpu_access(vcpu, m);
}

/* Accesses are copied in chunks to keep the per-access cost low. */
#define XVM_MMIO_BATCH_CHUNK	8

/*
 * XVM_MMIO_BATCH.  Sets batch->done on every path past the count check:
 * the dispatcher writes it back even on an error (XVM_IOCTL_OUT_ON_ERROR).
 */
long xvm_vcpu_ioctl_mmio_batch(void *vcpu, void *data, unsigned long arg)
{
	struct xvm_mmio chunk[XVM_MMIO_BATCH_CHUNK];
	struct xvm_mmio_batch *batch = data;
	struct xvm_mmio __user *uaccess;
	u32 done = 0, n, i;
	int r = 0;

	if (batch->count > XVM_MMIO_BATCH_MAX)
		return -EINVAL;
	uaccess = u64_to_user_ptr(batch->accesses);

	while (done < batch->count) {
		n = min_t(u32, batch->count - done, XVM_MMIO_BATCH_CHUNK);
		if (copy_from_user(chunk, uaccess + done, n * sizeof(chunk[0]))) {
			r = -EFAULT;
			break;
		}
		for (i = 0; i < n; i++) {
			r = xvm_mmio_vcpu_access(vcpu, &chunk[i]);
			if (r)
				break;
		}
		if (copy_to_user(uaccess + done, chunk, i * sizeof(chunk[0]))) {
			r = -EFAULT;
			break;
		}
		done += i;
		if (r)
			break;
	}
	batch->done = done;
	return r;
}

/*
 * XVM_MMIO_RUN: the access in the run page.  Each in field is read once
 * into m, which alone is screened and used; only the outputs go back, and
 * nothing does for a malformed access.
 */
long xvm_vcpu_mmio_run(struct xvm_vcpu *vcpu, unsigned long arg)
{
	struct xvm_mmio *p = &vcpu->run->mmio;
	struct xvm_mmio m;
	int r;

	if (arg)
		return -EINVAL;
	m.addr = READ_ONCE(p->addr);
	m.data = READ_ONCE(p->data);
	m.len = READ_ONCE(p->len);
	m.flags = READ_ONCE(p->flags);
	m.reserved = READ_ONCE(p->reserved);
	r = xvm_mmio_vcpu_access(vcpu, &m);
	if (r)
		return r;
	WRITE_ONCE(p->result, m.result);
	if (!(m.flags & XVM_MMIO_WRITE))
		WRITE_ONCE(p->data, m.data);
	return 0;
}

static struct xvm_mmio_bus *xvm_mmio_bus_alloc(u32 nr)
{
	struct xvm_mmio_bus *bus;

	bus = kvmalloc(struct_size(bus, ranges, nr), GFP_KERNEL_ACCOUNT);
	if (bus)
		bus->nr = 0;
	return bus;
}

static void xvm_mmio_bus_publish(struct xvm_vm *vm, struct xvm_mmio_bus *bus)
{
	struct xvm_mmio_bus *old;

	old = rcu_replace_pointer(vm->mmio_bus, bus,
				  lockdep_is_held(&vm->mmio_lock));
	if (old)
		kvfree_rcu(old, rcu);
}

/* Appends the live ranges of src[from, to), except skip, to dst. */
static void xvm_mmio_copy(struct xvm_mmio_bus *dst,
			  const struct xvm_mmio_bus *src, u32 from, u32 to,
			  const struct xvm_mmio_region *skip)
{
	u32 i;

	for (i = from; i < to; i++)
		if (src->ranges[i].region && src->ranges[i].region != skip)
			dst->ranges[dst->nr++] = src->ranges[i];
}

VISIBLE_IF_KUNIT u32 xvm_mmio_nr_live(const struct xvm_mmio_bus *bus)
{
	u32 i, n = 0;

	for (i = 0; i < bus->nr; i++)
		n += !!bus->ranges[i].region;
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(xvm_mmio_nr_live);

/*
 * Where [base, last] would go in bus (the index of the first range above
 * base), or -EEXIST if it overlaps a live range.  Ranges never overlap each
 * other, so only the range before pos can reach base from below.
 */
VISIBLE_IF_KUNIT int xvm_mmio_insert_pos(const struct xvm_mmio_bus *bus,
					 u64 base, u64 last)
{
	u32 pos = 0, i;

	while (pos < bus->nr && bus->ranges[pos].base <= base)
		pos++;
	if (pos && bus->ranges[pos - 1].region &&
	    bus->ranges[pos - 1].last >= base)
		return -EEXIST;
	for (i = pos; i < bus->nr && bus->ranges[i].base <= last; i++)
		if (bus->ranges[i].region)
			return -EEXIST;
	return pos;
}
EXPORT_SYMBOL_IF_KUNIT(xvm_mmio_insert_pos);

static const struct xvm_mmio_bus xvm_mmio_empty_bus;

/**
 * xvm_mmio_register() - put a region on the VM's MMIO bus
 * @vm: the VM
 * @region: base, size and ops; owned by the caller, which must keep it
 *          until after xvm_mmio_unregister() and xvm_mmio_synchronize()
 *
 * Context: process, may sleep (takes vm->mmio_lock).
 *
 * Return: 0; -EINVAL for an empty or wrapping range or no ops; -EEXIST if
 * it overlaps a registered region; -ENOSPC at XVM_MMIO_MAX_REGIONS;
 * -ENOMEM.
 */
int xvm_mmio_register(struct xvm_vm *vm, struct xvm_mmio_region *region)
{
	const struct xvm_mmio_bus *old;
	struct xvm_mmio_bus *new;
	u64 last = region->base + region->size - 1;
	int pos, r;

	if (!region->size || last < region->base || !region->ops)
		return -EINVAL;

	mutex_lock(&vm->mmio_lock);
	old = rcu_dereference_protected(vm->mmio_bus,
					lockdep_is_held(&vm->mmio_lock));
	if (!old)
		old = &xvm_mmio_empty_bus;

	pos = xvm_mmio_insert_pos(old, region->base, last);
	r = pos;
	if (pos < 0)
		goto out;
	r = -ENOSPC;
	if (xvm_mmio_nr_live(old) >= XVM_MMIO_MAX_REGIONS)
		goto out;
	r = -ENOMEM;
	new = xvm_mmio_bus_alloc(old->nr + 1);
	if (!new)
		goto out;

	xvm_mmio_copy(new, old, 0, pos, NULL);
	new->ranges[new->nr++] = (struct xvm_mmio_range) {
		.base = region->base, .last = last, .region = region,
	};
	xvm_mmio_copy(new, old, pos, old->nr, NULL);
	xvm_mmio_bus_publish(vm, new);
	r = 0;
out:
	mutex_unlock(&vm->mmio_lock);
	return r;
}
EXPORT_SYMBOL_NS_GPL(xvm_mmio_register, XVM_NS);

/**
 * xvm_mmio_unregister() - take a region off the VM's MMIO bus
 * @vm: the VM
 * @region: a region registered with xvm_mmio_register()
 *
 * Never fails: without memory for a new bus the region's slot is emptied
 * in place.  Does not wait for readers: call xvm_mmio_synchronize() after
 * a batch of unregistrations, before freeing the regions.
 * Context: process, may sleep.
 */
void xvm_mmio_unregister(struct xvm_vm *vm, struct xvm_mmio_region *region)
{
	struct xvm_mmio_bus *old, *new;
	struct xvm_mmio_range *range;

	mutex_lock(&vm->mmio_lock);
	old = rcu_dereference_protected(vm->mmio_bus,
					lockdep_is_held(&vm->mmio_lock));
	range = old ? xvm_mmio_find(old, region->base) : NULL;
	if (WARN_ON_ONCE(!range || range->region != region))
		goto out;

	new = xvm_mmio_bus_alloc(old->nr);
	if (new) {
		xvm_mmio_copy(new, old, 0, old->nr, region);
		xvm_mmio_bus_publish(vm, new);
	} else {
		WRITE_ONCE(range->region, NULL);
	}
out:
	mutex_unlock(&vm->mmio_lock);
}
EXPORT_SYMBOL_NS_GPL(xvm_mmio_unregister, XVM_NS);

/**
 * xvm_mmio_synchronize() - wait until no access can still see an unregistered region
 *
 * An RCU grace period; call it with no mutex held that an MMIO access path
 * could wait for.  Context: process, sleeps.
 */
void xvm_mmio_synchronize(void)
{
	synchronize_rcu();
}
EXPORT_SYMBOL_NS_GPL(xvm_mmio_synchronize, XVM_NS);

void xvm_mmio_bus_free(struct xvm_vm *vm)
{
	/* No reader can hold the VM any more: freeing now is safe. */
	kvfree(rcu_dereference_protected(vm->mmio_bus, true));
}
EXPORT_SYMBOL_IF_KUNIT(xvm_mmio_bus_free);
