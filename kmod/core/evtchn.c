// SPDX-License-Identifier: GPL-2.0
/*
 * Event channels, after Xen's: per-VM ports with pending and mask bits,
 * bindings to a vCPU or to a port of another VM, eventfd bridges in both
 * directions (evtchn-bridge.c), and a doorbell register on the MMIO bus
 * (evtchn-doorbell.c).  This file holds the ports: the table, raise and
 * send, links, alloc, bind, close, status, the ioctls and lifetime; the
 * table and port structures are in evtchn-internal.h.  Save and restore
 * of the table, and the relink of restored ports, are evtchn-state.c's.
 *
 * Raising a port (xvm_evtchn_raise()) is lock-free: it runs from
 * ioctls, from MMIO handlers (the doorbell, possibly in hard-IRQ context
 * for MSI delivery) and from eventfd wake functions (IRQs off).  It looks
 * the port up under RCU and never sleeps.
 *
 * Locking:
 *  - t->lock (a mutex per VM) serialises the control operations on one
 *    VM's ports: alloc, bind, close, reset, the eventfd bridges and the
 *    doorbell.  An ioctl only takes the lock of the VM whose fd it came on:
 *    no VM ever waits on another VM's mutex.
 *  - t->link_lock (a spinlock per VM) protects state, remote_vm, remote
 *    and remote_port of each of the VM's ports.  An interdomain link is
 *    made and broken under the link locks of both VMs, taken in address
 *    order (xvm_evtchn_lock_pair(), Xen's double_evtchn_lock()).  It nests
 *    inside t->lock and is held only for a few stores.
 *  - No lock is held across a grace period.  Ports and the doorbell region
 *    are freed with kfree_rcu(); a NOTIFY bridge is freed by a work queued
 *    with queue_rcu_work() on xvm_evtchn_wq, which also waits for its
 *    deferred signal (irq_work) before it drops the eventfd.
 *  - Ports are published in t->ports (an xarray); remote_vm and notify are
 *    RCU pointers.  An interdomain send reads remote lock-free (READ_ONCE)
 *    and raises the peer's port only while that port's remote is still
 *    the sender: a port closed meanwhile, its number given to a new port,
 *    is not raised.  A raise in flight on a port that is being closed may
 *    still set its pending bit after close; the bit is cleared again when
 *    the number is next allocated, before the new port is published.
 *  - pending, masked and polling are atomic bitmaps.  A raise sets pending
 *    and then reads polling; a poller sets polling and then reads pending;
 *    both with full barriers, so one of them always sees the other.
 *  - published, an atomic bitmap too, has the numbers of the ports in
 *    t->ports (xvm_evtchn_publish(), xvm_evtchn_close_port()): XVM_POLL
 *    checks the ports it lists with one bit each, not an xarray walk.  A
 *    poll that races a close sees the port or not; either is an answer
 *    that port had while the call ran.
 *
 * Links: a port's remote_vm holds no reference.  Both ends of a link point
 * at each other (remote), so either end breaks it for both.  Closing a port
 * erases it from t->ports first: a bind looks the remote port up in the
 * xarray under both link locks, so once erased the port can only lose its
 * link, never gain one.  A VM that was ever linked (or had a doorbell)
 * waits for a grace period at teardown, after unlinking its ports and with
 * no lock held, before its table and the VM are freed: a raise or a close
 * that found it through a peer's port under RCU is done by then.
 *
 * Who may bind: a port allocated with XVM_EVTCHN_ALLOC_REMOTE names, by its
 * unique id, the one VM that may bind it; a port that names no VM may only
 * be bound by its own VM's owner (the same mm).  Anyone else gets -EACCES,
 * whatever the port's state.
 */
#include <linux/file.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "evtchn.h"
#include "evtchn-internal.h"
#include "trace.h"
#include "xvm_compat.h"

static bool xvm_evtchn_port_in_range(u32 port)
{
	return port && port < XVM_EVTCHN_MAX_PORTS;
}

/* The port, or NULL; under RCU or t->lock. */
static struct xvm_evtchn_port *xvm_evtchn_port(struct xvm_evtchn_table *t,
					       u32 port)
{
	if (!xvm_evtchn_port_in_range(port))
		return NULL;
	port = array_index_nospec(port, XVM_EVTCHN_MAX_PORTS);
	return xa_load(&t->ports, port);
}

/* Whether port is an allocated port of vm's: one bit, no lookup. */
bool xvm_evtchn_port_valid(struct xvm_vm *vm, u32 port)
{
	if (!xvm_evtchn_port_in_range(port))
		return false;
	port = array_index_nospec(port, XVM_EVTCHN_MAX_PORTS);
	return test_bit(port, vm->evtchn->published);
}

void xvm_evtchn_publish(struct xvm_evtchn_table *t, u32 port,
			struct xvm_evtchn_port *p)
{
	xa_store(&t->ports, port, p, GFP_KERNEL_ACCOUNT);
	set_bit(port, t->published);
}

bool xvm_evtchn_pending(struct xvm_vm *vm, u32 port)
{
	port = array_index_nospec(port, XVM_EVTCHN_MAX_PORTS);
	return test_bit(port, vm->evtchn->pending);
}

void xvm_evtchn_poll_begin(struct xvm_vcpu *vcpu, int port)
{
	WRITE_ONCE(vcpu->poll_port, port);
	set_bit(vcpu->index, vcpu->vm->evtchn->polling);
	/* Pairs with the barrier of test_and_set_bit() in xvm_evtchn_raise(). */
	smp_mb__after_atomic();
}

void xvm_evtchn_poll_end(struct xvm_vcpu *vcpu)
{
	clear_bit(vcpu->index, vcpu->vm->evtchn->polling);
	WRITE_ONCE(vcpu->poll_port, -1);
}

/*
 * The port's upcall: its vCPU's fd becomes readable, its eventfd fires.
 * Returns the index of the vCPU whose wq it woke, or NO_VCPU.
 */
static u32 xvm_evtchn_upcall(struct xvm_vm *vm, struct xvm_evtchn_port *p)
{
	u32 index = READ_ONCE(p->notify_vcpu);
	struct xvm_vcpu *vcpu = NULL;

	if (index != XVM_EVTCHN_NO_VCPU) {
		vcpu = xvm_get_vcpu(vm, index);
		if (vcpu)
			wake_up_all(&vcpu->wq);
	}
	xvm_evtchn_signal_eventfd(p);
	return vcpu ? index : XVM_EVTCHN_NO_VCPU;
}

/*
 * Wakes the vCPUs polling on port, masked or not (SCHEDOP_poll), except
 * vCPU woken, whose wq the upcall has just woken: a poller that queued
 * itself since then sees the pending bit, which was set before.
 *
 * Only the VM's vCPUs can poll: the scan stops at their number, read
 * after the raise's full barrier, so it sees every vCPU whose poll could
 * have missed the pending bit (its creation came before its announce and
 * barrier).  A raise scans on every event; most VMs have a few vCPUs.
 */
static void xvm_evtchn_wake_pollers(struct xvm_vm *vm, u32 port, u32 woken)
{
	struct xvm_evtchn_table *t = vm->evtchn;
	unsigned long i;

	for_each_set_bit(i, t->polling, xvm_nr_vcpus(vm)) {
		struct xvm_vcpu *vcpu = xvm_get_vcpu(vm, i);
		int want;

		if (!vcpu || i == woken)
			continue;
		want = READ_ONCE(vcpu->poll_port);
		if (want < 0 || want == port)
			wake_up_all(&vcpu->wq);
	}
}

/*
 * Marks p, port of vm, pending; under RCU.  The wake-ups come first: the
 * trace and the counter are not what a woken poller waits for.
 */
static void xvm_evtchn_raise_found(struct xvm_vm *vm, u32 port,
				   struct xvm_evtchn_port *p,
				   struct xvm_evtchn_port *from)
{
	struct xvm_evtchn_table *t = vm->evtchn;
	u32 woken = XVM_EVTCHN_NO_VCPU;

	port = array_index_nospec(port, XVM_EVTCHN_MAX_PORTS);
	if (test_and_set_bit(port, t->pending))
		return;
	if (!test_bit(port, t->masked))
		woken = xvm_evtchn_upcall(vm, p);
	xvm_evtchn_wake_pollers(vm, port, woken);
	trace_xvm_evtchn_raise(vm, port, from);
	atomic64_inc(&vm->stats[XVM_VM_STAT_EVTCHN_RAISES]);
}

/*
 * Marks a port of vm pending; safe in any context, never sleeps.  With
 * from set (an interdomain send), only if the port is still from's peer:
 * a port closed meanwhile and its number given to a new one is left alone.
 */
static void xvm_evtchn_raise_from(struct xvm_vm *vm, u32 port,
				  struct xvm_evtchn_port *from)
{
	struct xvm_evtchn_port *p;

	rcu_read_lock();
	p = xvm_evtchn_port(vm->evtchn, port);
	if (p && (!from || READ_ONCE(p->remote) == from))
		xvm_evtchn_raise_found(vm, port, p, from);
	rcu_read_unlock();
}

void xvm_evtchn_raise(struct xvm_vm *vm, u32 port)
{
	xvm_evtchn_raise_from(vm, port, NULL);
}

/**
 * xvm_evtchn_raise_port() - mark an event port of a VM pending
 * @vm: the VM
 * @port: the port; nothing happens if it is not bound or already pending
 *
 * A local raise: an interdomain port goes pending itself, its peer is not
 * notified (that is what XVM_EVTCHN_SEND does).
 * Raises the port's upcall if it is unmasked and wakes the vCPUs polling
 * it.  Context: any, including hard IRQ; never sleeps.
 */
void xvm_evtchn_raise_port(struct xvm_vm *vm, u32 port)
{
	xvm_evtchn_raise(vm, port);
}
EXPORT_SYMBOL_NS_GPL(xvm_evtchn_raise_port, XVM_NS);

/*
 * Sends on a local port: an interdomain port raises its peer, any other
 * port raises itself.  Returns false if the port does not exist.
 */
static bool xvm_evtchn_send(struct xvm_vm *vm, u32 port)
{
	struct xvm_evtchn_port *p;
	struct xvm_vm *peer;
	bool found;

	rcu_read_lock();
	p = xvm_evtchn_port(vm->evtchn, port);
	found = p;
	if (p && READ_ONCE(p->state) == XVM_EVTCHN_STATE_INTERDOMAIN) {
		peer = rcu_dereference(p->remote_vm);
		/* Pairs with rcu_assign_pointer(): remote_port is older. */
		smp_rmb();
		if (peer)
			xvm_evtchn_raise_from(peer, READ_ONCE(p->remote_port),
					      p);
	} else if (p) {
		/* Found under this RCU section: no second lookup. */
		xvm_evtchn_raise_found(vm, port, p, NULL);
	}
	rcu_read_unlock();
	trace_xvm_evtchn_send(vm, port, found);
	atomic64_add(found, &vm->stats[XVM_VM_STAT_EVTCHN_SENDS]);
	return found;
}

/* Interdomain links */

/* Takes the link locks of two VMs in address order (once if the same). */
void xvm_evtchn_lock_pair(struct xvm_evtchn_table *a,
			  struct xvm_evtchn_table *b)
	__acquires(&a->link_lock) __acquires(&b->link_lock)
{
	if (a == b) {
		spin_lock(&a->link_lock);
		__acquire(&b->link_lock);	/* for sparse */
		return;
	}
	if (a > b)
		swap(a, b);
	spin_lock(&a->link_lock);
	spin_lock_nested(&b->link_lock, SINGLE_DEPTH_NESTING);
}

void xvm_evtchn_unlock_pair(struct xvm_evtchn_table *a,
			    struct xvm_evtchn_table *b)
	__releases(&a->link_lock) __releases(&b->link_lock)
{
	if (a == b)
		__release(&b->link_lock);	/* for sparse */
	else
		spin_unlock(&b->link_lock);
	spin_unlock(&a->link_lock);
}

/* Points p (port of t) and rp (rport of rt) at each other; pair locked. */
void xvm_evtchn_link(struct xvm_evtchn_table *t, struct xvm_evtchn_port *p,
		     u32 port, struct xvm_evtchn_table *rt,
		     struct xvm_evtchn_port *rp, u32 rport)
{
	t->reachable = true;
	rt->reachable = true;
	WRITE_ONCE(p->remote, rp);
	WRITE_ONCE(p->remote_port, rport);
	rcu_assign_pointer(p->remote_vm, rt->vm);
	WRITE_ONCE(p->state, XVM_EVTCHN_STATE_INTERDOMAIN);
	WRITE_ONCE(rp->remote, p);
	WRITE_ONCE(rp->remote_port, port);
	rcu_assign_pointer(rp->remote_vm, t->vm);
	WRITE_ONCE(rp->state, XVM_EVTCHN_STATE_INTERDOMAIN);
}

/* Makes one end of a link UNBOUND; pair locked. */
static void xvm_evtchn_unlink_end(struct xvm_evtchn_port *p)
{
	RCU_INIT_POINTER(p->remote_vm, NULL);
	WRITE_ONCE(p->remote, NULL);
	WRITE_ONCE(p->state, XVM_EVTCHN_STATE_UNBOUND);
}

/*
 * Breaks the link of p, a port of t already erased from t->ports: nothing
 * can link it any more, and its link can only be broken (by the peer).
 */
static void xvm_evtchn_unlink_peer(struct xvm_evtchn_table *t,
				   struct xvm_evtchn_port *p)
{
	struct xvm_evtchn_table *rt;
	struct xvm_vm *peer;

	rcu_read_lock();
	spin_lock(&t->link_lock);
	peer = rcu_dereference(p->remote_vm);
	spin_unlock(&t->link_lock);
	if (peer) {
		/* Found under RCU: the peer's teardown waits for us. */
		rt = peer->evtchn;
		xvm_evtchn_lock_pair(t, rt);
		if (rcu_access_pointer(p->remote_vm) == peer) {
			xvm_evtchn_unlink_end(p->remote);
			xvm_evtchn_unlink_end(p);
		}
		xvm_evtchn_unlock_pair(t, rt);
	}
	rcu_read_unlock();
}

/*
 * Unpublishes and frees a port.  A raise that found it may run until a
 * grace period has passed: the port and its NOTIFY bridge wait for one.
 */
static void xvm_evtchn_close_port(struct xvm_evtchn_table *t, u32 port)
{
	struct xvm_evtchn_port *p;

	lockdep_assert_held(&t->lock);
	p = xa_erase(&t->ports, port);
	if (!p)
		return;
	clear_bit(port, t->published);
	xvm_evtchn_unlink_peer(t, p);
	xvm_evtchn_irqfd_remove(p);
	xvm_evtchn_notify_remove(t, p);
	clear_bit(port, t->pending);
	clear_bit(port, t->masked);
	kfree_rcu(p, rcu);
}

static struct xvm_evtchn_port *xvm_evtchn_new_port(u64 remote_id)
{
	struct xvm_evtchn_port *p;

	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return NULL;
	p->state = XVM_EVTCHN_STATE_UNBOUND;
	p->notify_vcpu = XVM_EVTCHN_NO_VCPU;
	p->remote_id = remote_id;
	return p;
}

/* Stores p at a free port number; p == NULL reserves the number. */
static int xvm_evtchn_insert(struct xvm_evtchn_table *t,
			     struct xvm_evtchn_port *p, u32 *port)
{
	int r;

	lockdep_assert_held(&t->lock);
	/*
	 * Reserve the number, clear its bits, then publish the port (p NULL:
	 * the caller publishes it later): a raise that finds the new port
	 * sees clean bits.
	 */
	r = xa_alloc(&t->ports, port, NULL,
		     XA_LIMIT(1, XVM_EVTCHN_MAX_PORTS - 1), GFP_KERNEL_ACCOUNT);
	if (r)
		return r == -EBUSY ? -ENOSPC : r;
	clear_bit(*port, t->pending);
	clear_bit(*port, t->masked);
	/* The bits are clear before a raise can find the port. */
	smp_mb__after_atomic();
	if (p)
		xvm_evtchn_publish(t, *port, p);
	return 0;
}

/* The id of the VM behind fd, and its XVM_CAP_VM_ID (0 if none). */
static int xvm_evtchn_vm_id(int fd, u64 *id, u64 *vmm_id)
{
	struct xvm_vm *remote;
	struct fd f;

	f = fdget(fd);
	if (!xvm_fd_file(f))
		return -EBADF;
	remote = xvm_vm_from_file(xvm_fd_file(f));
	if (remote) {
		*id = remote->id;
		*vmm_id = READ_ONCE(remote->evtchn->vmm_id);
	}
	fdput(f);
	return remote ? 0 : -EINVAL;
}

static int xvm_evtchn_alloc_unbound(struct xvm_vm *vm,
				    struct xvm_evtchn_op *op)
{
	struct xvm_evtchn_port *p;
	u64 remote_id = 0, vmm_id = 0;
	int r;

	if (op->flags & XVM_EVTCHN_ALLOC_REMOTE) {
		r = xvm_evtchn_vm_id(op->fd, &remote_id, &vmm_id);
		if (r)
			return r;
	}
	p = xvm_evtchn_new_port(remote_id);
	if (!p)
		return -ENOMEM;
	p->remote_vmm_id = vmm_id;
	r = xvm_evtchn_insert(vm->evtchn, p, &op->port);
	if (r)
		kfree(p);
	return r;
}

/*
 * May vm bind rp (NULL: no such port), a port of peer?  Only the VM that
 * rp names, or, if it names none, the peer's owner.  Anyone else learns
 * nothing of rp's state: -EACCES for a free, bound or named port alike.
 */
static int xvm_evtchn_may_bind(struct xvm_vm *vm, struct xvm_vm *peer,
			       struct xvm_evtchn_port *rp)
{
	if (rp && rp->remote_id)
		return rp->remote_id == vm->id ? 0 : -EACCES;
	return xvm_vm_owned(peer) ? 0 : -EACCES;
}

/*
 * Links p, not yet published at port of vm, with rport of peer.  The
 * remote port is looked up under both link locks: a close that erased it
 * either did so before (not found) or unlinks it after us.
 */
static int xvm_evtchn_link_remote(struct xvm_vm *vm, struct xvm_evtchn_port *p,
				  u32 port, struct xvm_vm *peer, u32 rport)
{
	struct xvm_evtchn_table *t = vm->evtchn, *rt = peer->evtchn;
	struct xvm_evtchn_port *rp;
	int r;

	rcu_read_lock();
	xvm_evtchn_lock_pair(t, rt);
	rp = xvm_evtchn_port(rt, rport);
	r = xvm_evtchn_may_bind(vm, peer, rp);
	if (!r && (!rp || rp->state != XVM_EVTCHN_STATE_UNBOUND))
		r = -EINVAL;
	if (!r)
		xvm_evtchn_link(t, p, port, rt, rp, rport);
	xvm_evtchn_unlock_pair(t, rt);
	rcu_read_unlock();
	return r;
}

static int xvm_evtchn_bind_interdomain(struct xvm_vm *vm,
				       struct xvm_evtchn_op *op)
{
	struct xvm_evtchn_table *t = vm->evtchn;
	struct xvm_evtchn_port *p = NULL;
	struct xvm_vm *peer;
	struct fd f;
	u32 port;
	int r;

	f = fdget(op->fd);
	if (!xvm_fd_file(f))
		return -EBADF;
	r = -EINVAL;
	peer = xvm_vm_from_file(xvm_fd_file(f));	/* pinned by f */
	if (!peer)
		goto out;
	r = -ENOMEM;
	p = xvm_evtchn_new_port(0);
	if (!p)
		goto out;
	/* Reserve the number: the peer's end must know it. */
	r = xvm_evtchn_insert(t, NULL, &port);
	if (r)
		goto out;
	r = xvm_evtchn_link_remote(vm, p, port, peer, op->remote_port);
	if (r) {
		xa_erase(&t->ports, port);
		goto out;
	}
	xvm_evtchn_publish(t, port, p);
	op->port = port;
	p = NULL;
	/* Xen's evtchn_bind_interdomain(): no event sent before is lost. */
	if (op->flags & XVM_EVTCHN_BIND_PENDING)
		xvm_evtchn_raise(vm, port);
out:
	kfree(p);
	fdput(f);
	return r;
}

static void xvm_evtchn_status(struct xvm_evtchn_table *t,
			      struct xvm_evtchn_port *p, u32 port,
			      struct xvm_evtchn_op *op)
{
	struct xvm_vcpu *vcpu;

	op->state = XVM_EVTCHN_STATE_FREE;
	op->status = 0;
	op->vcpu_id = 0;
	op->remote_port = 0;
	if (!p)
		return;
	spin_lock(&t->link_lock);
	op->state = p->state;
	if (p->state == XVM_EVTCHN_STATE_INTERDOMAIN)
		op->remote_port = p->remote_port;
	spin_unlock(&t->link_lock);
	if (test_bit(port, t->pending))
		op->status |= XVM_EVTCHN_STATUS_PENDING;
	if (test_bit(port, t->masked))
		op->status |= XVM_EVTCHN_STATUS_MASKED;
	if (xvm_evtchn_irqfd_active(p))
		op->status |= XVM_EVTCHN_STATUS_EVENTFD_IN;
	if (rcu_access_pointer(p->notify))
		op->status |= XVM_EVTCHN_STATUS_EVENTFD_OUT;
	if (p->remote_id)
		op->status |= XVM_EVTCHN_STATUS_REMOTE_NAMED;
	if (p->notify_vcpu != XVM_EVTCHN_NO_VCPU) {
		vcpu = xvm_get_vcpu(t->vm, p->notify_vcpu);
		op->vcpu_id = vcpu ? vcpu->id : 0;
	}
}

static void xvm_evtchn_unmask(struct xvm_vm *vm, struct xvm_evtchn_port *p,
			      u32 port)
{
	struct xvm_evtchn_table *t = vm->evtchn;

	if (!test_and_clear_bit(port, t->masked))
		return;
	/* A raise that saw the mask set left the upcall to us. */
	if (test_bit(port, t->pending)) {
		rcu_read_lock();
		xvm_evtchn_upcall(vm, p);
		rcu_read_unlock();
	}
}

static int xvm_evtchn_eventfd(struct xvm_evtchn_port *p, struct xvm_vm *vm,
			      struct xvm_evtchn_op *op)
{
	bool notify = op->flags & XVM_EVTCHN_EVENTFD_NOTIFY;

	if (op->flags & ~(XVM_EVTCHN_EVENTFD_NOTIFY |
			  XVM_EVTCHN_EVENTFD_DEASSIGN))
		return -EINVAL;
	if (op->flags & XVM_EVTCHN_EVENTFD_DEASSIGN) {
		if (notify ? !rcu_access_pointer(p->notify) : !p->irqfd)
			return -ENOENT;
		if (notify)
			xvm_evtchn_notify_remove(vm->evtchn, p);
		else
			xvm_evtchn_irqfd_remove(p);
		return 0;
	}
	if (notify)
		return xvm_evtchn_notify_assign(p, op->fd);
	return xvm_evtchn_irqfd_assign(vm, p, op->port, op->fd);
}

static int xvm_evtchn_bind_vcpu(struct xvm_vm *vm, struct xvm_evtchn_port *p,
				u32 vcpu_id)
{
	struct xvm_evtchn_table *t = vm->evtchn;
	struct xvm_vcpu *vcpu;

	vcpu = xvm_get_vcpu_by_id(vm, vcpu_id);
	if (!vcpu)
		return -ENOENT;
	/* A peer may be binding this UNBOUND port right now. */
	spin_lock(&t->link_lock);
	WRITE_ONCE(p->notify_vcpu, vcpu->index);
	if (p->state == XVM_EVTCHN_STATE_UNBOUND)
		WRITE_ONCE(p->state, XVM_EVTCHN_STATE_VCPU);
	spin_unlock(&t->link_lock);
	return 0;
}

/*
 * The existing port op names, its number clamped into *port; NULL (the
 * ioctl fails with -EINVAL) if out of range or free.  Under t->lock.
 */
static struct xvm_evtchn_port *xvm_evtchn_op_port(struct xvm_vm *vm,
						  const struct xvm_evtchn_op *op,
						  u32 *port)
{
	if (!xvm_evtchn_port_in_range(op->port))
		return NULL;
	*port = array_index_nospec(op->port, XVM_EVTCHN_MAX_PORTS);
	return xvm_evtchn_port(vm->evtchn, *port);
}

/*
 * The handlers of xvm_evtchn_ioctls[]: obj is the VM, data its struct
 * xvm_evtchn_op, read and screened by the dispatcher.  All but SEND run
 * under t->lock (the table's .lock).
 */
static long xvm_evtchn_ioctl_alloc_unbound(void *vm, void *op,
					   unsigned long arg)
{
	return xvm_evtchn_alloc_unbound(vm, op);
}

static long xvm_evtchn_ioctl_bind_interdomain(void *vm, void *op,
					      unsigned long arg)
{
	return xvm_evtchn_bind_interdomain(vm, op);
}

static long xvm_evtchn_ioctl_bind_vcpu(void *vm, void *data,
				       unsigned long arg)
{
	struct xvm_evtchn_op *op = data;
	struct xvm_evtchn_port *p;
	u32 port;

	p = xvm_evtchn_op_port(vm, op, &port);
	return p ? xvm_evtchn_bind_vcpu(vm, p, op->vcpu_id) : -EINVAL;
}

static long xvm_evtchn_ioctl_close(void *obj, void *op, unsigned long arg)
{
	struct xvm_vm *vm = obj;
	u32 port;

	if (!xvm_evtchn_op_port(vm, op, &port))
		return -EINVAL;
	xvm_evtchn_close_port(vm->evtchn, port);
	return 0;
}

static long xvm_evtchn_ioctl_mask(void *obj, void *op, unsigned long arg)
{
	struct xvm_vm *vm = obj;
	u32 port;

	if (!xvm_evtchn_op_port(vm, op, &port))
		return -EINVAL;
	set_bit(port, vm->evtchn->masked);
	return 0;
}

static long xvm_evtchn_ioctl_unmask(void *vm, void *op, unsigned long arg)
{
	struct xvm_evtchn_port *p;
	u32 port;

	p = xvm_evtchn_op_port(vm, op, &port);
	if (!p)
		return -EINVAL;
	xvm_evtchn_unmask(vm, p, port);
	return 0;
}

static long xvm_evtchn_ioctl_clear(void *obj, void *op, unsigned long arg)
{
	struct xvm_vm *vm = obj;
	u32 port;

	if (!xvm_evtchn_op_port(vm, op, &port))
		return -EINVAL;
	clear_bit(port, vm->evtchn->pending);
	return 0;
}

/* STATUS of a free port (in range) succeeds: it reports FREE. */
static long xvm_evtchn_ioctl_status(void *obj, void *data, unsigned long arg)
{
	struct xvm_evtchn_op *op = data;
	struct xvm_vm *vm = obj;
	struct xvm_evtchn_table *t = vm->evtchn;
	u32 port = op->port;

	if (!xvm_evtchn_port_in_range(port))
		return -EINVAL;
	port = array_index_nospec(port, XVM_EVTCHN_MAX_PORTS);
	xvm_evtchn_status(t, xvm_evtchn_port(t, port), port, op);
	return 0;
}

static long xvm_evtchn_ioctl_eventfd(void *vm, void *op, unsigned long arg)
{
	struct xvm_evtchn_port *p;
	u32 port;

	p = xvm_evtchn_op_port(vm, op, &port);
	return p ? xvm_evtchn_eventfd(p, vm, op) : -EINVAL;
}

/* The data path: no lock. */
static long xvm_evtchn_ioctl_send(void *vm, void *data, unsigned long arg)
{
	const struct xvm_evtchn_op *op = data;

	return xvm_evtchn_send(vm, op->port) ? 0 : -EINVAL;
}

/* Closes every port. */
static void xvm_evtchn_reset(struct xvm_evtchn_table *t)
{
	struct xvm_evtchn_port *p;
	unsigned long port;

	lockdep_assert_held(&t->lock);
	xa_for_each(&t->ports, port, p)
		xvm_evtchn_close_port(t, port);
}

static long xvm_evtchn_ioctl_reset(void *obj, void *data, unsigned long arg)
{
	struct xvm_vm *vm = obj;

	xvm_evtchn_reset(vm->evtchn);
	return 0;
}

static long xvm_evtchn_ioctl_set_doorbell(void *vm, void *req,
					  unsigned long arg)
{
	return xvm_evtchn_set_doorbell(vm, req);
}

static struct mutex *xvm_evtchn_ioctl_lock(void *obj)
{
	struct xvm_vm *vm = obj;

	return &vm->evtchn->lock;
}

/*
 * XVM_EVTCHN_<name>: its flags may only have the bits of valid, its pad
 * and reserved must be zero.
 */
#define XVM_EVTCHN_OP(name, fn, valid, ...)				\
	XVM_IOCTL(EVTCHN_##name, struct xvm_evtchn_op, fn,		\
		  .zero = { XVM_IOCTL_ZERO(struct xvm_evtchn_op,		\
					   pad, reserved) },		\
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_evtchn_op,	\
						 flags, valid),		\
		  __VA_ARGS__)

/*
 * The event-channel ioctls of a VM fd (vm.c dispatches them).  EVENTFD's
 * flags are checked by xvm_evtchn_eventfd(), after the port's.
 */
const struct xvm_ioctl_desc xvm_evtchn_ioctls[] = {
	XVM_EVTCHN_OP(ALLOC_UNBOUND, xvm_evtchn_ioctl_alloc_unbound,
		      XVM_EVTCHN_ALLOC_REMOTE, .lock = xvm_evtchn_ioctl_lock),
	XVM_EVTCHN_OP(BIND_VCPU, xvm_evtchn_ioctl_bind_vcpu, 0,
		      .lock = xvm_evtchn_ioctl_lock),
	XVM_EVTCHN_OP(BIND_INTERDOMAIN,
		      xvm_evtchn_ioctl_bind_interdomain,
		      XVM_EVTCHN_BIND_PENDING, .lock = xvm_evtchn_ioctl_lock),
	XVM_EVTCHN_OP(CLOSE, xvm_evtchn_ioctl_close, 0,
		      .lock = xvm_evtchn_ioctl_lock),
	XVM_EVTCHN_OP(SEND, xvm_evtchn_ioctl_send, 0),
	XVM_EVTCHN_OP(MASK, xvm_evtchn_ioctl_mask, 0,
		      .lock = xvm_evtchn_ioctl_lock),
	XVM_EVTCHN_OP(UNMASK, xvm_evtchn_ioctl_unmask, 0,
		      .lock = xvm_evtchn_ioctl_lock),
	XVM_EVTCHN_OP(STATUS, xvm_evtchn_ioctl_status, 0,
		      .lock = xvm_evtchn_ioctl_lock),
	XVM_EVTCHN_OP(CLEAR, xvm_evtchn_ioctl_clear, 0,
		      .lock = xvm_evtchn_ioctl_lock),
	XVM_EVTCHN_OP(EVENTFD, xvm_evtchn_ioctl_eventfd, ~0U,
		      .lock = xvm_evtchn_ioctl_lock),
	XVM_IOCTL_NONE(EVTCHN_RESET, xvm_evtchn_ioctl_reset,
		       .lock = xvm_evtchn_ioctl_lock),
	XVM_IOCTL(EVTCHN_SET_DOORBELL, struct xvm_evtchn_doorbell,
		  xvm_evtchn_ioctl_set_doorbell, .lock = xvm_evtchn_ioctl_lock,
		  .zero = { XVM_IOCTL_ZERO(struct xvm_evtchn_doorbell, pad, pad) },
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_evtchn_doorbell, flags,
						 XVM_EVTCHN_DOORBELL_DISABLE)),
	/* Save and restore: evtchn-state.c */
	XVM_IOCTL(EVTCHN_GET_STATE, struct xvm_evtchn_table_state,
		  xvm_evtchn_ioctl_get_state, .lock = xvm_evtchn_ioctl_lock,
		  .flags = XVM_IOCTL_OUT_ON_ERROR,
		  .zero = { XVM_IOCTL_ZERO(struct xvm_evtchn_table_state, pad, pad),
			    XVM_IOCTL_ZERO(struct xvm_evtchn_table_state,
					   reserved, reserved) },
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_evtchn_table_state,
						 flags, 0)),
	XVM_IOCTL(EVTCHN_SET_STATE, struct xvm_evtchn_table_state,
		  xvm_evtchn_ioctl_set_state, .lock = xvm_evtchn_ioctl_lock,
		  .zero = { XVM_IOCTL_ZERO(struct xvm_evtchn_table_state, pad, pad),
			    XVM_IOCTL_ZERO(struct xvm_evtchn_table_state,
					   reserved, reserved) },
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_evtchn_table_state,
						 flags, XVM_EVTCHN_STATE_DOORBELL)),
	XVM_IOCTL(EVTCHN_RELINK, struct xvm_evtchn_relink,
		  xvm_evtchn_ioctl_relink, .lock = xvm_evtchn_ioctl_lock,
		  XVM_IOCTL_OUT(struct xvm_evtchn_relink, nr_done, nr_awaiting),
		  .zero = { XVM_IOCTL_ZERO(struct xvm_evtchn_relink,
					   reserved, reserved) },
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_evtchn_relink,
						 flags, 0)),
};

const size_t xvm_evtchn_nr_ioctls = ARRAY_SIZE(xvm_evtchn_ioctls);

/*
 * The first pending, unmasked port that notifies vcpu, or 0: an event
 * waiting for delivery to it (Xen's local_events_need_delivery()).
 */
u32 xvm_evtchn_vcpu_event(struct xvm_vcpu *vcpu)
{
	struct xvm_evtchn_table *t = vcpu->vm->evtchn;
	struct xvm_evtchn_port *p;
	unsigned long port;
	u32 found = 0;

	rcu_read_lock();
	for_each_set_bit(port, t->pending, XVM_EVTCHN_MAX_PORTS) {
		if (test_bit(port, t->masked))
			continue;
		p = xvm_evtchn_port(t, port);
		if (p && READ_ONCE(p->notify_vcpu) == vcpu->index) {
			found = port;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/* poll() on a vCPU fd: a port bound to it is pending and unmasked. */
__poll_t xvm_evtchn_vcpu_poll(struct xvm_vcpu *vcpu)
{
	return xvm_evtchn_vcpu_event(vcpu) ? EPOLLIN | EPOLLRDNORM : 0;
}

int xvm_evtchn_init(struct xvm_vm *vm)
{
	struct xvm_evtchn_table *t;

	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	t->vm = vm;
	mutex_init(&t->lock);
	spin_lock_init(&t->link_lock);
	xa_init_flags(&t->ports, XA_FLAGS_ALLOC1);
	vm->evtchn = t;
	return 0;
}

void xvm_evtchn_destroy(struct xvm_vm *vm)
{
	struct xvm_evtchn_table *t = vm->evtchn;
	bool reachable;

	if (!t)
		return;
	mutex_lock(&t->lock);
	xvm_evtchn_reset(t);
	xvm_evtchn_doorbell_free(vm, t->doorbell);
	t->doorbell = NULL;
	mutex_unlock(&t->lock);

	spin_lock(&t->link_lock);
	reachable = t->reachable;
	spin_unlock(&t->link_lock);
	/*
	 * Peers reach this VM only through a link, and the doorbell through
	 * the bus: both are gone, but a raise (or a peer's close) that found
	 * the VM before may still be running under RCU.
	 */
	if (reachable)
		synchronize_rcu();
	xa_destroy(&t->ports);
	mutex_destroy(&t->lock);
	kfree(t);
}
