// SPDX-License-Identifier: GPL-2.0
/*
 * Event channels, after Xen's: per-VM ports with pending and mask bits,
 * bindings to a vCPU or to a port of another VM, eventfd bridges in both
 * directions, and a doorbell register on the MMIO bus.
 *
 * Raising a port (xvm_evtchn_set_pending) is lock-free: it runs from
 * ioctls, from MMIO handlers (the doorbell, possibly in hard-IRQ context
 * for MSI delivery) and from eventfd wake functions (IRQs off).  It looks
 * the port up under RCU and never sleeps.
 *
 * Locking:
 *  - xvm_evtchn_lock (global mutex) serialises every change of port state
 *    (alloc, bind, close, bridges, doorbell) in all VMs, so that binding two
 *    VMs' ports together needs no lock ordering.  Control operations are
 *    rare; the data path never takes it.
 *  - Ports are published in t->ports (an xarray) and freed after an RCU
 *    grace period; remote_vm and notify are RCU pointers.
 *  - pending, masked and polling are atomic bitmaps.  A raise sets pending
 *    and then reads polling; a poller sets polling and then reads pending;
 *    both with full barriers, so one of them always sees the other.
 *
 * A VM's peer pointer (remote_vm) holds no reference: a VM going away first
 * unbinds its interdomain ports under xvm_evtchn_lock, then waits for a
 * grace period before it is freed, so a raise that found it under RCU ends
 * in time.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/irq_work.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "evtchn.h"
#include "xvm_compat.h"

#define XVM_EVTCHN_NO_VCPU	U32_MAX

struct xvm_evtchn_irqfd;

struct xvm_evtchn_port {
	u32 state;				/* XVM_EVTCHN_STATE_* */
	u32 notify_vcpu;			/* vCPU index, or NO_VCPU */
	u32 remote_port;			/* INTERDOMAIN */
	struct xvm_vm __rcu *remote_vm;		/* INTERDOMAIN peer */
	struct eventfd_ctx __rcu *notify;	/* raise -> eventfd */
	struct irq_work notify_work;		/* deferred eventfd signal */
	struct xvm_evtchn_irqfd *irqfd;		/* eventfd -> raise */
	struct list_head closing;		/* unlinked, awaiting a grace period */
	struct rcu_head rcu;
};

struct xvm_evtchn_table {
	struct xvm_vm *vm;
	struct xarray ports;			/* number -> port */
	DECLARE_BITMAP(pending, XVM_EVTCHN_MAX_PORTS);
	DECLARE_BITMAP(masked, XVM_EVTCHN_MAX_PORTS);
	DECLARE_BITMAP(polling, XVM_MAX_VCPUS);	/* vCPUs in XVM_POLL */
	struct xvm_evtchn_doorbell_region *doorbell;	/* or NULL */
};

/* The doorbell's region on the bus. */
struct xvm_evtchn_doorbell_region {
	struct xvm_mmio_region mmio;
	struct xvm_evtchn_table *t;
};

/* An eventfd whose signal raises a port, hooked as KVM's irqfd. */
struct xvm_evtchn_irqfd {
	struct xvm_vm *vm;
	u32 port;
	struct eventfd_ctx *eventfd;
	wait_queue_head_t *wqh;			/* the eventfd's */
	wait_queue_entry_t wait;
	poll_table pt;
};

static DEFINE_MUTEX(xvm_evtchn_lock);

static bool xvm_evtchn_port_in_range(u32 port)
{
	return port && port < XVM_EVTCHN_MAX_PORTS;
}

/* The port, or NULL; under RCU or xvm_evtchn_lock. */
static struct xvm_evtchn_port *xvm_evtchn_port(struct xvm_evtchn_table *t,
					       u32 port)
{
	if (!xvm_evtchn_port_in_range(port))
		return NULL;
	port = array_index_nospec(port, XVM_EVTCHN_MAX_PORTS);
	return xa_load(&t->ports, port);
}

bool xvm_evtchn_port_valid(struct xvm_vm *vm, u32 port)
{
	return xvm_evtchn_port(vm->evtchn, port);
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
	/* Pairs with the barrier of test_and_set_bit() in set_pending. */
	smp_mb__after_atomic();
}

void xvm_evtchn_poll_end(struct xvm_vcpu *vcpu)
{
	clear_bit(vcpu->index, vcpu->vm->evtchn->polling);
	WRITE_ONCE(vcpu->poll_port, -1);
}

static void xvm_evtchn_signal_eventfd(struct xvm_evtchn_port *p)
{
	struct eventfd_ctx *ctx = rcu_dereference(p->notify);

	if (!ctx)
		return;
	/* Not from inside another eventfd's wake function: defer. */
	if (eventfd_signal_allowed())
		xvm_eventfd_signal(ctx);
	else
		irq_work_queue(&p->notify_work);
}

static void xvm_evtchn_notify_work(struct irq_work *work)
{
	struct xvm_evtchn_port *p = container_of(work, struct xvm_evtchn_port,
						 notify_work);
	struct eventfd_ctx *ctx;

	rcu_read_lock();
	ctx = rcu_dereference(p->notify);
	if (ctx)
		xvm_eventfd_signal(ctx);
	rcu_read_unlock();
}

/* The port's upcall: its vCPU's fd becomes readable, its eventfd fires. */
static void xvm_evtchn_upcall(struct xvm_vm *vm, struct xvm_evtchn_port *p)
{
	u32 index = READ_ONCE(p->notify_vcpu);
	struct xvm_vcpu *vcpu;

	if (index != XVM_EVTCHN_NO_VCPU) {
		vcpu = xvm_get_vcpu(vm, index);
		if (vcpu)
			wake_up_all(&vcpu->wq);
	}
	xvm_evtchn_signal_eventfd(p);
}

/* Wakes the vCPUs polling on port, masked or not (SCHEDOP_poll). */
static void xvm_evtchn_wake_pollers(struct xvm_vm *vm, u32 port)
{
	struct xvm_evtchn_table *t = vm->evtchn;
	unsigned long i;

	for_each_set_bit(i, t->polling, XVM_MAX_VCPUS) {
		struct xvm_vcpu *vcpu = xvm_get_vcpu(vm, i);
		int want;

		if (!vcpu)
			continue;
		want = READ_ONCE(vcpu->poll_port);
		if (want < 0 || want == port)
			wake_up_all(&vcpu->wq);
	}
}

/* Marks a local port pending; safe in any context, never sleeps. */
static void xvm_evtchn_raise(struct xvm_vm *vm, u32 port)
{
	struct xvm_evtchn_table *t = vm->evtchn;
	struct xvm_evtchn_port *p;

	rcu_read_lock();
	p = xvm_evtchn_port(t, port);
	port = array_index_nospec(port, XVM_EVTCHN_MAX_PORTS);
	if (!p || test_and_set_bit(port, t->pending))
		goto out;
	if (!test_bit(port, t->masked))
		xvm_evtchn_upcall(vm, p);
	xvm_evtchn_wake_pollers(vm, port);
out:
	rcu_read_unlock();
}

void xvm_evtchn_raise_port(struct xvm_vm *vm, u32 port)
{
	xvm_evtchn_raise(vm, port);
}
EXPORT_SYMBOL_GPL(xvm_evtchn_raise_port);

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
		if (peer)
			xvm_evtchn_raise(peer, READ_ONCE(p->remote_port));
	} else if (p) {
		xvm_evtchn_raise(vm, port);
	}
	rcu_read_unlock();
	return found;
}

/* eventfd -> port */

static int xvm_evtchn_irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
				   int sync, void *key)
{
	struct xvm_evtchn_irqfd *irqfd = container_of(wait,
						struct xvm_evtchn_irqfd, wait);
	__poll_t flags = key_to_poll(key);
	u64 cnt;

	if (flags & EPOLLIN) {
		/* The eventfd's wait-queue lock is held: consume its count. */
		eventfd_ctx_do_read(irqfd->eventfd, &cnt);
		xvm_evtchn_raise(irqfd->vm, irqfd->port);
	}
	/*
	 * EPOLLHUP (the eventfd was closed) needs nothing: our reference keeps
	 * the context alive until the bridge is removed.
	 */
	return 0;
}

static void xvm_evtchn_irqfd_queue(struct file *file, wait_queue_head_t *wqh,
				   poll_table *pt)
{
	struct xvm_evtchn_irqfd *irqfd = container_of(pt,
						struct xvm_evtchn_irqfd, pt);

	irqfd->wqh = wqh;
	add_wait_queue(wqh, &irqfd->wait);
}

static int xvm_evtchn_irqfd_assign(struct xvm_vm *vm,
				   struct xvm_evtchn_port *p, u32 port, int fd)
{
	struct xvm_evtchn_irqfd *irqfd;
	struct fd f;
	__poll_t events;
	int r;

	if (p->irqfd)
		return -EBUSY;
	f = fdget(fd);
	if (!xvm_fd_file(f))
		return -EBADF;
	irqfd = kzalloc(sizeof(*irqfd), GFP_KERNEL_ACCOUNT);
	r = -ENOMEM;
	if (!irqfd)
		goto out;
	irqfd->eventfd = eventfd_ctx_fileget(xvm_fd_file(f));
	if (IS_ERR(irqfd->eventfd)) {
		r = PTR_ERR(irqfd->eventfd);
		kfree(irqfd);
		goto out;
	}
	irqfd->vm = vm;
	irqfd->port = port;
	init_waitqueue_func_entry(&irqfd->wait, xvm_evtchn_irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, xvm_evtchn_irqfd_queue);
	p->irqfd = irqfd;

	events = vfs_poll(xvm_fd_file(f), &irqfd->pt);
	if (events & EPOLLIN) {		/* signalled before we hooked it */
		u64 cnt;

		spin_lock_irq(&irqfd->wqh->lock);
		eventfd_ctx_do_read(irqfd->eventfd, &cnt);
		spin_unlock_irq(&irqfd->wqh->lock);
		xvm_evtchn_raise(vm, port);
	}
	r = 0;
out:
	fdput(f);
	return r;
}

/* Unhooks the bridge; once this returns its wake function cannot run. */
static void xvm_evtchn_irqfd_remove(struct xvm_evtchn_port *p)
{
	struct xvm_evtchn_irqfd *irqfd = p->irqfd;
	u64 cnt;

	if (!irqfd)
		return;
	p->irqfd = NULL;
	eventfd_ctx_remove_wait_queue(irqfd->eventfd, &irqfd->wait, &cnt);
	eventfd_ctx_put(irqfd->eventfd);
	kfree(irqfd);
}

/* port -> eventfd */

static int xvm_evtchn_notify_assign(struct xvm_evtchn_port *p, int fd)
{
	struct eventfd_ctx *ctx;

	if (rcu_access_pointer(p->notify))
		return -EBUSY;
	ctx = eventfd_ctx_fdget(fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	rcu_assign_pointer(p->notify, ctx);
	return 0;
}

/*
 * Drops a NOTIFY eventfd a grace period after it was unpublished: raises
 * that saw it are done; wait for their deferred signal too.
 */
static void xvm_evtchn_notify_put(struct xvm_evtchn_port *p,
				  struct eventfd_ctx *ctx)
{
	irq_work_sync(&p->notify_work);
	eventfd_ctx_put(ctx);
}

static void xvm_evtchn_notify_remove(struct xvm_evtchn_port *p)
{
	struct eventfd_ctx *ctx;

	ctx = rcu_replace_pointer(p->notify, NULL,
				  lockdep_is_held(&xvm_evtchn_lock));
	if (!ctx)
		return;
	synchronize_rcu();
	xvm_evtchn_notify_put(p, ctx);
}

static void xvm_evtchn_unlink_peer(struct xvm_evtchn_port *p)
{
	struct xvm_evtchn_port *rp;
	struct xvm_vm *peer;

	peer = rcu_replace_pointer(p->remote_vm, NULL,
				   lockdep_is_held(&xvm_evtchn_lock));
	if (!peer)
		return;
	rp = xvm_evtchn_port(peer->evtchn, p->remote_port);
	if (rp && rcu_access_pointer(rp->remote_vm)) {
		RCU_INIT_POINTER(rp->remote_vm, NULL);
		WRITE_ONCE(rp->state, XVM_EVTCHN_STATE_UNBOUND);
	}
}

/*
 * Unpublishes a port: no raise can find it after this, but one that found
 * it before may run until a grace period has passed.
 */
static struct xvm_evtchn_port *xvm_evtchn_unlink_port(struct xvm_evtchn_table *t,
						      u32 port)
{
	struct xvm_evtchn_port *p;

	lockdep_assert_held(&xvm_evtchn_lock);
	p = xa_erase(&t->ports, port);
	if (!p)
		return NULL;
	xvm_evtchn_unlink_peer(p);
	xvm_evtchn_irqfd_remove(p);
	clear_bit(port, t->pending);
	clear_bit(port, t->masked);
	return p;
}

/* Frees an unlinked port, a grace period after it was unlinked. */
static void xvm_evtchn_free_port(struct xvm_evtchn_port *p)
{
	struct eventfd_ctx *ctx = rcu_dereference_protected(p->notify, true);

	if (ctx)
		xvm_evtchn_notify_put(p, ctx);
	kfree(p);
}

static void xvm_evtchn_close_port(struct xvm_evtchn_table *t, u32 port)
{
	struct xvm_evtchn_port *p = xvm_evtchn_unlink_port(t, port);

	if (!p)
		return;
	if (!rcu_access_pointer(p->notify)) {
		kfree_rcu(p, rcu);
		return;
	}
	synchronize_rcu();
	xvm_evtchn_free_port(p);
}

static int xvm_evtchn_alloc(struct xvm_evtchn_table *t, u32 *port)
{
	struct xvm_evtchn_port *p;
	int r;

	lockdep_assert_held(&xvm_evtchn_lock);
	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return -ENOMEM;
	p->state = XVM_EVTCHN_STATE_UNBOUND;
	p->notify_vcpu = XVM_EVTCHN_NO_VCPU;
	init_irq_work(&p->notify_work, xvm_evtchn_notify_work);

	r = xa_alloc(&t->ports, port, p,
		     XA_LIMIT(1, XVM_EVTCHN_MAX_PORTS - 1), GFP_KERNEL_ACCOUNT);
	if (r) {
		kfree(p);
		return r == -EBUSY ? -ENOSPC : r;
	}
	clear_bit(*port, t->pending);
	clear_bit(*port, t->masked);
	return 0;
}

static int xvm_evtchn_bind_interdomain(struct xvm_vm *vm,
				       struct xvm_evtchn_op *op)
{
	struct xvm_evtchn_port *p, *rp;
	struct xvm_vm *peer;
	struct fd f;
	u32 port;
	int r;

	f = fdget(op->fd);
	if (!xvm_fd_file(f))
		return -EBADF;
	r = -EINVAL;
	peer = xvm_vm_from_file(xvm_fd_file(f));
	if (!peer)
		goto out;
	rp = xvm_evtchn_port(peer->evtchn, op->remote_port);
	if (!rp || rp->state != XVM_EVTCHN_STATE_UNBOUND)
		goto out;
	r = xvm_evtchn_alloc(vm->evtchn, &port);
	if (r)
		goto out;
	p = xvm_evtchn_port(vm->evtchn, port);

	/* Both ends point at each other; neither holds a reference. */
	p->remote_port = op->remote_port;
	rcu_assign_pointer(p->remote_vm, peer);
	WRITE_ONCE(p->state, XVM_EVTCHN_STATE_INTERDOMAIN);
	rp->remote_port = port;
	rcu_assign_pointer(rp->remote_vm, vm);
	WRITE_ONCE(rp->state, XVM_EVTCHN_STATE_INTERDOMAIN);
	op->port = port;
out:
	fdput(f);
	return r;
}

static void xvm_evtchn_status(struct xvm_evtchn_table *t,
			      struct xvm_evtchn_port *p, u32 port,
			      struct xvm_evtchn_op *op)
{
	struct xvm_vcpu *vcpu;

	op->state = p ? p->state : XVM_EVTCHN_STATE_FREE;
	op->status = 0;
	op->vcpu_id = 0;
	op->remote_port = 0;
	if (!p)
		return;
	if (test_bit(port, t->pending))
		op->status |= XVM_EVTCHN_STATUS_PENDING;
	if (test_bit(port, t->masked))
		op->status |= XVM_EVTCHN_STATUS_MASKED;
	if (p->irqfd)
		op->status |= XVM_EVTCHN_STATUS_EVENTFD_IN;
	if (rcu_access_pointer(p->notify))
		op->status |= XVM_EVTCHN_STATUS_EVENTFD_OUT;
	if (p->notify_vcpu != XVM_EVTCHN_NO_VCPU) {
		vcpu = xvm_get_vcpu(t->vm, p->notify_vcpu);
		op->vcpu_id = vcpu ? vcpu->id : 0;
	}
	if (p->state == XVM_EVTCHN_STATE_INTERDOMAIN)
		op->remote_port = p->remote_port;
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
			xvm_evtchn_notify_remove(p);
		else
			xvm_evtchn_irqfd_remove(p);
		return 0;
	}
	if (notify)
		return xvm_evtchn_notify_assign(p, op->fd);
	return xvm_evtchn_irqfd_assign(vm, p, op->port, op->fd);
}

/* Ioctls that name an existing port. */
static int xvm_evtchn_port_op(struct xvm_vm *vm, unsigned int cmd,
			      struct xvm_evtchn_op *op)
{
	struct xvm_evtchn_table *t = vm->evtchn;
	struct xvm_evtchn_port *p;
	struct xvm_vcpu *vcpu;

	if (!xvm_evtchn_port_in_range(op->port))
		return -EINVAL;
	op->port = array_index_nospec(op->port, XVM_EVTCHN_MAX_PORTS);
	p = xvm_evtchn_port(t, op->port);
	if (cmd == XVM_EVTCHN_STATUS) {
		xvm_evtchn_status(t, p, op->port, op);
		return 0;
	}
	if (!p)
		return -EINVAL;

	switch (cmd) {
	case XVM_EVTCHN_BIND_VCPU:
		vcpu = xvm_get_vcpu_by_id(vm, op->vcpu_id);
		if (!vcpu)
			return -ENOENT;
		WRITE_ONCE(p->notify_vcpu, vcpu->index);
		if (p->state == XVM_EVTCHN_STATE_UNBOUND)
			WRITE_ONCE(p->state, XVM_EVTCHN_STATE_VCPU);
		return 0;
	case XVM_EVTCHN_CLOSE:
		xvm_evtchn_close_port(t, op->port);
		return 0;
	case XVM_EVTCHN_MASK:
		set_bit(op->port, t->masked);
		return 0;
	case XVM_EVTCHN_UNMASK:
		xvm_evtchn_unmask(vm, p, op->port);
		return 0;
	case XVM_EVTCHN_CLEAR:
		clear_bit(op->port, t->pending);
		return 0;
	case XVM_EVTCHN_EVENTFD:
		return xvm_evtchn_eventfd(p, vm, op);
	default:
		return -ENOTTY;
	}
}

/* Flags are only meaningful for XVM_EVTCHN_EVENTFD. */
static bool xvm_evtchn_op_valid(unsigned int cmd,
				const struct xvm_evtchn_op *op)
{
	if (op->pad || op->reserved[0] || op->reserved[1])
		return false;
	return cmd == XVM_EVTCHN_EVENTFD || !op->flags;
}

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
	xvm_evtchn_send(db->t->vm, val);
	return 0;
}

static const struct xvm_mmio_ops xvm_evtchn_doorbell_ops = {
	.read	= xvm_evtchn_doorbell_read,
	.write	= xvm_evtchn_doorbell_write,
};

static void xvm_evtchn_doorbell_free(struct xvm_vm *vm,
				     struct xvm_evtchn_doorbell_region *db)
{
	if (!db)
		return;
	xvm_mmio_unregister(vm, &db->mmio);
	xvm_mmio_synchronize();
	kfree(db);
}

/* A new doorbell replaces the old only once it is on the bus. */
static int xvm_evtchn_set_doorbell(struct xvm_vm *vm,
				   struct xvm_evtchn_doorbell __user *argp)
{
	struct xvm_evtchn_table *t = vm->evtchn;
	struct xvm_evtchn_doorbell_region *db, *old = t->doorbell;
	struct xvm_evtchn_doorbell req;
	int r;

	lockdep_assert_held(&xvm_evtchn_lock);
	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~XVM_EVTCHN_DOORBELL_DISABLE) || req.pad)
		return -EINVAL;
	if (req.flags & XVM_EVTCHN_DOORBELL_DISABLE) {
		t->doorbell = NULL;
		xvm_evtchn_doorbell_free(vm, old);
		return 0;
	}
	if (!IS_ALIGNED(req.addr, 4) || !xvm_gpa_range_valid(vm, req.addr, 4))
		return -EINVAL;

	db = kzalloc(sizeof(*db), GFP_KERNEL_ACCOUNT);
	if (!db)
		return -ENOMEM;
	db->t = t;
	db->mmio.base = req.addr;
	db->mmio.size = 4;
	db->mmio.ops = &xvm_evtchn_doorbell_ops;
	r = xvm_mmio_register(vm, &db->mmio);
	if (r) {
		kfree(db);
		return r;
	}
	t->doorbell = db;
	xvm_evtchn_doorbell_free(vm, old);
	return 0;
}

/* Closes every port, waiting for one grace period in all. */
static void xvm_evtchn_reset(struct xvm_evtchn_table *t)
{
	struct xvm_evtchn_port *p, *tmp;
	unsigned long port;
	LIST_HEAD(closing);

	lockdep_assert_held(&xvm_evtchn_lock);
	xa_for_each(&t->ports, port, p) {
		xvm_evtchn_unlink_port(t, port);
		list_add(&p->closing, &closing);
	}
	if (list_empty(&closing))
		return;
	synchronize_rcu();
	list_for_each_entry_safe(p, tmp, &closing, closing)
		xvm_evtchn_free_port(p);
}

long xvm_evtchn_vm_ioctl(struct xvm_vm *vm, unsigned int cmd,
			 void __user *argp)
{
	struct xvm_evtchn_op op;
	long r;

	switch (cmd) {
	case XVM_EVTCHN_SEND:
		/* The data path: no lock. */
		if (copy_from_user(&op, argp, sizeof(op)))
			return -EFAULT;
		if (!xvm_evtchn_op_valid(cmd, &op))
			return -EINVAL;
		return xvm_evtchn_send(vm, op.port) ? 0 : -EINVAL;
	case XVM_EVTCHN_RESET:
		mutex_lock(&xvm_evtchn_lock);
		xvm_evtchn_reset(vm->evtchn);
		mutex_unlock(&xvm_evtchn_lock);
		return 0;
	case XVM_EVTCHN_SET_DOORBELL:
		mutex_lock(&xvm_evtchn_lock);
		r = xvm_evtchn_set_doorbell(vm, argp);
		mutex_unlock(&xvm_evtchn_lock);
		return r;
	case XVM_EVTCHN_ALLOC_UNBOUND:
	case XVM_EVTCHN_BIND_INTERDOMAIN:
	case XVM_EVTCHN_BIND_VCPU:
	case XVM_EVTCHN_CLOSE:
	case XVM_EVTCHN_MASK:
	case XVM_EVTCHN_UNMASK:
	case XVM_EVTCHN_STATUS:
	case XVM_EVTCHN_CLEAR:
	case XVM_EVTCHN_EVENTFD:
		break;
	default:
		return -ENOTTY;
	}

	if (copy_from_user(&op, argp, sizeof(op)))
		return -EFAULT;
	if (!xvm_evtchn_op_valid(cmd, &op))
		return -EINVAL;

	mutex_lock(&xvm_evtchn_lock);
	if (cmd == XVM_EVTCHN_ALLOC_UNBOUND)
		r = xvm_evtchn_alloc(vm->evtchn, &op.port);
	else if (cmd == XVM_EVTCHN_BIND_INTERDOMAIN)
		r = xvm_evtchn_bind_interdomain(vm, &op);
	else
		r = xvm_evtchn_port_op(vm, cmd, &op);
	mutex_unlock(&xvm_evtchn_lock);

	if (!r && (_IOC_DIR(cmd) & _IOC_READ) &&
	    copy_to_user(argp, &op, sizeof(op)))
		return -EFAULT;
	return r;
}

/* poll() on a vCPU fd: a port bound to it is pending and unmasked. */
__poll_t xvm_evtchn_vcpu_poll(struct xvm_vcpu *vcpu)
{
	struct xvm_evtchn_table *t = vcpu->vm->evtchn;
	struct xvm_evtchn_port *p;
	unsigned long port;
	__poll_t mask = 0;

	rcu_read_lock();
	for_each_set_bit(port, t->pending, XVM_EVTCHN_MAX_PORTS) {
		if (test_bit(port, t->masked))
			continue;
		p = xvm_evtchn_port(t, port);
		if (p && READ_ONCE(p->notify_vcpu) == vcpu->index) {
			mask = EPOLLIN | EPOLLRDNORM;
			break;
		}
	}
	rcu_read_unlock();
	return mask;
}

int xvm_evtchn_init(struct xvm_vm *vm)
{
	struct xvm_evtchn_table *t;

	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	t->vm = vm;
	xa_init_flags(&t->ports, XA_FLAGS_ALLOC1);
	vm->evtchn = t;
	return 0;
}

void xvm_evtchn_destroy(struct xvm_vm *vm)
{
	struct xvm_evtchn_table *t = vm->evtchn;

	if (!t)
		return;
	/*
	 * A peer reaches this VM only through one of its ports: reset unlinks
	 * them and waits a grace period, so peers that found this VM under
	 * RCU are done with it after it; doorbell readers are waited for by
	 * the doorbell's removal.
	 */
	mutex_lock(&xvm_evtchn_lock);
	xvm_evtchn_reset(t);
	xvm_evtchn_doorbell_free(vm, t->doorbell);
	t->doorbell = NULL;
	mutex_unlock(&xvm_evtchn_lock);
	xa_destroy(&t->ports);
	kfree(t);
}
