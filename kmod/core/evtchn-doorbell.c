// SPDX-License-Identifier: GPL-2.0
/*
 * Event channels: the doorbell, a 4-byte register on the VM's MMIO bus
 * whose write of a port number raises that port (how a device's MSI, for
 * example from xvm-msix, reaches an event channel).
 *
 * Locking:
 *  - The doorbell is set, replaced and removed under t->lock; setting one
 *    marks the table reachable (under t->link_lock), so that teardown
 *    waits for a grace period.
 *  - The handlers run with RCU held by the bus reader (mmio.c), possibly
 *    in hard-IRQ context for MSI delivery: they only raise (lock-free,
 *    never sleeps).  A region that left the bus is freed with kfree_rcu().
 */
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "evtchn-internal.h"

/* The doorbell's region on the bus. */
struct xvm_evtchn_doorbell_region {
	struct xvm_mmio_region mmio;
	struct xvm_evtchn_table *t;
	struct rcu_head rcu;
};

/* The doorbell: a 4-byte write of a port number raises it. */

static int xvm_evtchn_doorbell_read(struct xvm_vcpu *vcpu,
				    struct xvm_mmio_region *region,
				    u64 offset, unsigned int len, u64 *val)
{
	if (len != 4)
		return -EINVAL;
	*val = 0;
	return 0;
}

static int xvm_evtchn_doorbell_write(struct xvm_vcpu *vcpu,
				     struct xvm_mmio_region *region,
				     u64 offset, unsigned int len, u64 val)
{
	struct xvm_evtchn_doorbell_region *db = container_of(region,
					struct xvm_evtchn_doorbell_region, mmio);

	if (len != 4)
		return -EINVAL;
	/*
	 * A device's interrupt for this VM: the port itself goes pending,
	 * even an interdomain one (a send would notify its peer VM instead).
	 */
	xvm_evtchn_raise(db->t->vm, val);
	return 0;
}

static const struct xvm_mmio_ops xvm_evtchn_doorbell_ops = {
	.read	= xvm_evtchn_doorbell_read,
	.write	= xvm_evtchn_doorbell_write,
};

/*
 * Bus readers hold RCU across the handler call (mmio.c): freeing the region
 * a grace period after it left the bus is xvm_mmio_synchronize() + kfree().
 */
void xvm_evtchn_doorbell_free(struct xvm_vm *vm,
			      struct xvm_evtchn_doorbell_region *db)
{
	if (!db)
		return;
	xvm_mmio_unregister(vm, &db->mmio);
	kfree_rcu(db, rcu);
}

/* A new doorbell replaces the old only once it is on the bus. */
/* req was read and its flags and pad checked (evtchn.c's table). */
int xvm_evtchn_set_doorbell(struct xvm_vm *vm,
			    const struct xvm_evtchn_doorbell *req)
{
	struct xvm_evtchn_table *t = vm->evtchn;
	struct xvm_evtchn_doorbell_region *db, *old = t->doorbell;
	int r;

	lockdep_assert_held(&t->lock);
	if (req->flags & XVM_EVTCHN_DOORBELL_DISABLE) {
		t->doorbell = NULL;
		xvm_evtchn_doorbell_free(vm, old);
		return 0;
	}
	if (!IS_ALIGNED(req->addr, 4) || !xvm_gpa_range_valid(vm, req->addr, 4))
		return -EINVAL;

	db = kzalloc(sizeof(*db), GFP_KERNEL_ACCOUNT);
	if (!db)
		return -ENOMEM;
	db->t = t;
	db->mmio.base = req->addr;
	db->mmio.size = 4;
	db->mmio.ops = &xvm_evtchn_doorbell_ops;
	r = xvm_mmio_register(vm, &db->mmio);
	if (r) {
		kfree(db);
		return r;
	}
	spin_lock(&t->link_lock);
	t->reachable = true;
	spin_unlock(&t->link_lock);
	t->doorbell = db;
	xvm_evtchn_doorbell_free(vm, old);
	return 0;
}

bool xvm_evtchn_doorbell_addr(struct xvm_evtchn_table *t, u64 *addr)
{
	lockdep_assert_held(&t->lock);
	if (!t->doorbell)
		return false;
	*addr = t->doorbell->mmio.base;
	return true;
}
