// SPDX-License-Identifier: GPL-2.0
/*
 * Event channels: the eventfd bridges of a port, in both directions -
 * eventfd -> port (an eventfd whose signal raises the port: an eventfd
 * hook, eventfd.c) and port -> eventfd (the NOTIFY bridge, an eventfd
 * notifier signalled by the port's upcall) - and the work queue that frees
 * NOTIFY bridges.
 *
 * Locking:
 *  - Bridges are assigned and removed under t->lock (the VM's control
 *    mutex).  p->irqfd changes only under it; p->notify is an RCU pointer
 *    published and unpublished under it.
 *  - The eventfd -> port hook fires under the eventfd's wait-queue lock,
 *    IRQs off: it only raises (lock-free, never sleeps).  Once
 *    xvm_evtchn_irqfd_remove() returns it cannot run.  When the eventfd's
 *    file is released the hook unhooks itself (EPOLLHUP); the bridge then
 *    counts as absent (STATUS, a new assign replaces it) but stays
 *    allocated, holding its eventfd reference, until it is removed.
 *  - The NOTIFY signal runs from a raise, under RCU, in any context; from
 *    inside another eventfd's wake function the notifier defers it to
 *    irq_work.  No lock is held across a grace period: a removed bridge is
 *    freed by a work queued with queue_rcu_work() on xvm_evtchn_wq, which
 *    also waits for its deferred signal before it drops the eventfd.
 */
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "internal.h"
#include "eventfd.h"
#include "evtchn.h"
#include "evtchn-internal.h"

/* A NOTIFY bridge (port -> eventfd); freed a grace period after removal. */
struct xvm_evtchn_notify {
	struct xvm_eventfd_notifier notifier;
	struct rcu_work free_work;
};

/* An eventfd whose signal raises a port. */
struct xvm_evtchn_irqfd {
	struct xvm_vm *vm;
	u32 port;
	struct xvm_eventfd_hook hook;
};

/* Frees NOTIFY bridges; drained at module exit. */
static struct workqueue_struct *xvm_evtchn_wq;

void xvm_evtchn_signal_eventfd(struct xvm_evtchn_port *p)
{
	struct xvm_evtchn_notify *n = rcu_dereference(p->notify);

	if (n)
		xvm_eventfd_notify(&n->notifier);
}

/* eventfd -> port */

/* Under the eventfd's wait-queue lock, IRQs off; or from the assign. */
static void xvm_evtchn_irqfd_fire(struct xvm_eventfd_hook *hook)
{
	struct xvm_evtchn_irqfd *irqfd = container_of(hook,
					struct xvm_evtchn_irqfd, hook);

	xvm_evtchn_raise(irqfd->vm, irqfd->port);
}

bool xvm_evtchn_irqfd_active(struct xvm_evtchn_port *p)
{
	return p->irqfd && xvm_eventfd_hook_active(&p->irqfd->hook);
}

/*
 * A bridge whose eventfd was closed (EPOLLHUP unhooked it) is replaced;
 * the new hook is made first, so a failure leaves the port as it was.
 */
int xvm_evtchn_irqfd_assign(struct xvm_vm *vm,
			    struct xvm_evtchn_port *p, u32 port, int fd)
{
	struct xvm_evtchn_irqfd *irqfd;
	int r;

	if (xvm_evtchn_irqfd_active(p))
		return -EBUSY;
	irqfd = kzalloc(sizeof(*irqfd), GFP_KERNEL_ACCOUNT);
	if (!irqfd)
		return -ENOMEM;
	irqfd->vm = vm;
	irqfd->port = port;
	/* A count already in the eventfd raises the port from here. */
	r = xvm_eventfd_hook(&irqfd->hook, fd, xvm_evtchn_irqfd_fire);
	if (r) {
		kfree(irqfd);
		return r;
	}
	xvm_evtchn_irqfd_remove(p);
	p->irqfd = irqfd;
	return 0;
}

/* Unhooks the bridge; once this returns it cannot raise the port. */
void xvm_evtchn_irqfd_remove(struct xvm_evtchn_port *p)
{
	struct xvm_evtchn_irqfd *irqfd = p->irqfd;

	if (!irqfd)
		return;
	p->irqfd = NULL;
	xvm_eventfd_unhook(&irqfd->hook);
	kfree(irqfd);
}

/* port -> eventfd */

/*
 * A grace period after the bridge was unpublished: raises that saw it are
 * done; wait for the signal they may have deferred, then drop the eventfd.
 */
static void xvm_evtchn_notify_free(struct work_struct *work)
{
	struct xvm_evtchn_notify *n = container_of(to_rcu_work(work),
					struct xvm_evtchn_notify, free_work);

	xvm_eventfd_notifier_release(&n->notifier);
	kfree(n);
}

int xvm_evtchn_notify_assign(struct xvm_evtchn_port *p, int fd)
{
	struct xvm_evtchn_notify *n;
	int r;

	if (rcu_access_pointer(p->notify))
		return -EBUSY;
	n = kzalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
	if (!n)
		return -ENOMEM;
	r = xvm_eventfd_notifier_init(&n->notifier, fd);
	if (r) {
		kfree(n);
		return r;
	}
	INIT_RCU_WORK(&n->free_work, xvm_evtchn_notify_free);
	rcu_assign_pointer(p->notify, n);
	return 0;
}

/* Unpublishes the bridge now; it is freed after a grace period. */
void xvm_evtchn_notify_remove(struct xvm_evtchn_table *t,
			      struct xvm_evtchn_port *p)
{
	struct xvm_evtchn_notify *n;

	n = rcu_replace_pointer(p->notify, NULL, lockdep_is_held(&t->lock));
	if (n)
		queue_rcu_work(xvm_evtchn_wq, &n->free_work);
}

int __init xvm_evtchn_module_init(void)
{
	xvm_evtchn_wq = alloc_workqueue("xvm-evtchn", 0, 0);
	return xvm_evtchn_wq ? 0 : -ENOMEM;
}

/* After the last VM: nothing of ours may run once the module is gone. */
void xvm_evtchn_module_exit(void)
{
	/* A queue_rcu_work() queues its work from an RCU callback. */
	rcu_barrier();
	destroy_workqueue(xvm_evtchn_wq);
}
