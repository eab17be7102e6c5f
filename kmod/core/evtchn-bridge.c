// SPDX-License-Identifier: GPL-2.0
/*
 * Event channels: the eventfd bridges of a port, in both directions -
 * eventfd -> port (an eventfd whose signal raises the port, hooked on its
 * wait queue as KVM's irqfd) and port -> eventfd (the NOTIFY bridge,
 * signalled by the port's upcall) - and the work queue that frees NOTIFY
 * bridges.
 *
 * Locking:
 *  - Bridges are assigned and removed under t->lock (the VM's control
 *    mutex).  p->irqfd changes only under it; p->notify is an RCU pointer
 *    published and unpublished under it.
 *  - The eventfd -> port wake function runs under the eventfd's
 *    wait-queue lock, IRQs off: it only raises (lock-free, never sleeps).
 *    Once xvm_evtchn_irqfd_remove() returns it cannot run.
 *  - The NOTIFY signal runs from a raise, under RCU, in any context; from
 *    inside another eventfd's wake function it is deferred to irq_work.
 *    No lock is held across a grace period: a removed bridge is freed by
 *    a work queued with queue_rcu_work() on xvm_evtchn_wq, which also
 *    waits for its deferred signal before it drops the eventfd.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/irq_work.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "internal.h"
#include "evtchn.h"
#include "evtchn-internal.h"
#include "xvm_compat.h"

/* A NOTIFY bridge (port -> eventfd); freed a grace period after removal. */
struct xvm_evtchn_notify {
	struct eventfd_ctx *ctx;
	struct irq_work work;			/* deferred signal */
	struct rcu_work free_work;
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

/* Frees NOTIFY bridges; drained at module exit. */
static struct workqueue_struct *xvm_evtchn_wq;

void xvm_evtchn_signal_eventfd(struct xvm_evtchn_port *p)
{
	struct xvm_evtchn_notify *n = rcu_dereference(p->notify);

	if (!n)
		return;
	/* Not from inside another eventfd's wake function: defer. */
	if (eventfd_signal_allowed())
		xvm_eventfd_signal(n->ctx);
	else
		irq_work_queue(&n->work);
}

/* The bridge outlives its queued signal: see xvm_evtchn_notify_free(). */
static void xvm_evtchn_notify_work(struct irq_work *work)
{
	struct xvm_evtchn_notify *n = container_of(work,
						struct xvm_evtchn_notify, work);

	xvm_eventfd_signal(n->ctx);
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

int xvm_evtchn_irqfd_assign(struct xvm_vm *vm,
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
void xvm_evtchn_irqfd_remove(struct xvm_evtchn_port *p)
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

/*
 * A grace period after the bridge was unpublished: raises that saw it are
 * done; wait for the signal they may have deferred, then drop the eventfd.
 */
static void xvm_evtchn_notify_free(struct work_struct *work)
{
	struct xvm_evtchn_notify *n = container_of(to_rcu_work(work),
					struct xvm_evtchn_notify, free_work);

	irq_work_sync(&n->work);
	eventfd_ctx_put(n->ctx);
	kfree(n);
}

int xvm_evtchn_notify_assign(struct xvm_evtchn_port *p, int fd)
{
	struct xvm_evtchn_notify *n;
	struct eventfd_ctx *ctx;

	if (rcu_access_pointer(p->notify))
		return -EBUSY;
	ctx = eventfd_ctx_fdget(fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	n = kzalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
	if (!n) {
		eventfd_ctx_put(ctx);
		return -ENOMEM;
	}
	n->ctx = ctx;
	init_irq_work(&n->work, xvm_evtchn_notify_work);
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
