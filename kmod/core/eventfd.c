// SPDX-License-Identifier: GPL-2.0
/*
 * eventfd hooks and notifiers: the one way xvm consumes and signals
 * eventfds in the kernel.
 *
 * A hook (struct xvm_eventfd_hook, exported) makes an eventfd's signals
 * call a function instead of waking its readers, as KVM's irqfd and VFIO's
 * virqfd do: the event-channel eventfd -> port bridges and every xvm-msix
 * vector use it.  It is a priority exclusive waiter on the eventfd's wait
 * queue (add_wait_queue_priority(), KVM's irqfd since 5.11), and the only
 * one: one eventfd, one in-kernel consumer.  A second priority waiter -
 * another hook of any kind, or a KVM irqfd - would starve behind the first
 * and is refused with -EBUSY.  (This file is the only one that looks into
 * an eventfd's wait queue; later kernels make the same check in
 * add_wait_queue_priority_exclusive().)
 *
 * A notifier (struct xvm_eventfd_notifier, kmod/core/eventfd.h, xvm.ko
 * only) signals an eventfd from any context, deferring the signal to
 * irq_work when it is raised inside another eventfd's wake function.
 *
 * Locking:
 *  - hook->hooked is written under the eventfd's wait-queue lock
 *    (hook->wqh->lock) and may be read without it (READ_ONCE).  The wake
 *    function runs under that lock with IRQs off, consumes the count and
 *    calls ->fire there: ->fire must not sleep, and signalling an eventfd
 *    is not allowed there (eventfd_signal_allowed() is false): defer it.
 *  - On EPOLLHUP (the eventfd's file is released) the wake function takes
 *    the hook off the queue itself; the hook keeps its eventfd_ctx
 *    reference until xvm_eventfd_unhook().
 *  - hook->ctx and hook->wqh change only in xvm_eventfd_hook() and
 *    xvm_eventfd_unhook(), which the owner serialises (its own lock).
 *  - A count already in the eventfd at hook time is consumed under the
 *    wait-queue lock but fired after dropping it, from the caller's
 *    context.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/irq_work.h>
#include <linux/lockdep.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "internal.h"
#include "eventfd.h"

/* Under the eventfd's wait-queue lock, IRQs off. */
static int xvm_eventfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			      int sync, void *key)
{
	struct xvm_eventfd_hook *hook = container_of(wait,
					struct xvm_eventfd_hook, wait);
	__poll_t events = key_to_poll(key);
	int ret = 0;
	u64 cnt;

	lockdep_assert_held(&hook->wqh->lock);
	if (events & EPOLLIN) {
		eventfd_ctx_do_read(hook->ctx, &cnt);
		if (cnt)
			hook->fire(hook);
		/* Exclusive: no reader or poller of the eventfd sees it. */
		ret = 1;
	}
	if (events & EPOLLHUP) {
		/* The file is going: off the queue, the reference stays. */
		list_del_init(&wait->entry);
		WRITE_ONCE(hook->hooked, false);
	}
	return ret;
}

/* add_wait_queue_priority(), unless the eventfd has such a waiter already. */
static void xvm_eventfd_queue(struct file *file, wait_queue_head_t *wqh,
			      poll_table *pt)
{
	struct xvm_eventfd_hook *hook = container_of(pt,
					struct xvm_eventfd_hook, pt);
	wait_queue_entry_t *first;
	unsigned long flags;

	spin_lock_irqsave(&wqh->lock, flags);
	/* Priority waiters are queued at the head. */
	first = list_first_entry_or_null(&wqh->head, wait_queue_entry_t,
					 entry);
	if (first && (first->flags & WQ_FLAG_PRIORITY)) {
		hook->error = -EBUSY;
	} else {
		hook->wqh = wqh;
		hook->wait.flags |= WQ_FLAG_EXCLUSIVE | WQ_FLAG_PRIORITY;
		__add_wait_queue(wqh, &hook->wait);
		WRITE_ONCE(hook->hooked, true);
	}
	spin_unlock_irqrestore(&wqh->lock, flags);
}

/*
 * Signalled before the hook: consume it as the wake function would, but
 * fire after dropping the eventfd's lock.  Here, unlike in the wake
 * function, eventfd_signal() is allowed, and ->fire may signal another
 * eventfd (a port's NOTIFY one, even this one): under this lock that would
 * recurse on it or order two eventfd locks.
 */
static void xvm_eventfd_fire_earlier(struct xvm_eventfd_hook *hook)
{
	unsigned long flags;
	u64 cnt = 0;

	spin_lock_irqsave(&hook->wqh->lock, flags);
	if (hook->hooked)
		eventfd_ctx_do_read(hook->ctx, &cnt);
	spin_unlock_irqrestore(&hook->wqh->lock, flags);
	if (cnt)
		hook->fire(hook);
}

/**
 * xvm_eventfd_hook() - Hooks @fire on the signals of eventfd @fd.
 * @hook: the hook, not hooked (zeroed, or unhooked)
 * @fd: an eventfd
 * @fire: called for each signal, with the count consumed (one per wake-up
 *	on an EFD_SEMAPHORE eventfd)
 *
 * See the kernel-doc of struct xvm_eventfd_hook.  Serialised with
 * xvm_eventfd_unhook() of the same @hook by the caller; may sleep.
 *
 * Return: 0; -EBADF if @fd is not open, -EINVAL if it is not an eventfd,
 * -EBUSY if the eventfd already has an in-kernel consumer.
 */
int xvm_eventfd_hook(struct xvm_eventfd_hook *hook, int fd,
		     void (*fire)(struct xvm_eventfd_hook *hook))
{
	struct eventfd_ctx *ctx;
	struct fd f;
	__poll_t events;
	int r;

	f = fdget(fd);
	if (!xvm_fd_file(f))
		return -EBADF;
	ctx = eventfd_ctx_fileget(xvm_fd_file(f));
	r = PTR_ERR_OR_ZERO(ctx);
	if (r)
		goto out;
	hook->ctx = ctx;
	hook->wqh = NULL;
	hook->fire = fire;
	hook->hooked = false;
	hook->error = 0;
	init_waitqueue_func_entry(&hook->wait, xvm_eventfd_wakeup);
	init_poll_funcptr(&hook->pt, xvm_eventfd_queue);

	events = vfs_poll(xvm_fd_file(f), &hook->pt);
	if (!hook->wqh) {
		r = hook->error ?: -EINVAL;
		hook->ctx = NULL;
		eventfd_ctx_put(ctx);
		goto out;
	}
	if (events & EPOLLIN)
		xvm_eventfd_fire_earlier(hook);
out:
	fdput(f);
	return r;
}
EXPORT_SYMBOL_NS_GPL(xvm_eventfd_hook, XVM_NS);

/**
 * xvm_eventfd_unhook() - Takes @hook off its eventfd and drops it.
 * @hook: the hook; nothing is done if it holds no eventfd
 *
 * Once this returns, ->fire is not running and will not run.  Works the
 * same whether or not EPOLLHUP unhooked it first.
 */
void xvm_eventfd_unhook(struct xvm_eventfd_hook *hook)
{
	unsigned long flags;

	if (!hook->ctx)
		return;
	spin_lock_irqsave(&hook->wqh->lock, flags);
	if (hook->hooked) {
		list_del_init(&hook->wait.entry);
		WRITE_ONCE(hook->hooked, false);
	}
	spin_unlock_irqrestore(&hook->wqh->lock, flags);
	eventfd_ctx_put(hook->ctx);
	hook->ctx = NULL;
	hook->wqh = NULL;
}
EXPORT_SYMBOL_NS_GPL(xvm_eventfd_unhook, XVM_NS);

/**
 * xvm_eventfd_hook_active() - Whether the eventfd's signals reach ->fire.
 * @hook: the hook
 *
 * Any context, no lock: the answer may change at once (EPOLLHUP).
 *
 * Return: true from a successful xvm_eventfd_hook() until the eventfd's
 * file is released (EPOLLHUP) or xvm_eventfd_unhook().
 */
bool xvm_eventfd_hook_active(const struct xvm_eventfd_hook *hook)
{
	return READ_ONCE(hook->hooked);
}
EXPORT_SYMBOL_NS_GPL(xvm_eventfd_hook_active, XVM_NS);

/* Notifiers */

static void xvm_eventfd_notify_work(struct irq_work *work)
{
	struct xvm_eventfd_notifier *n = container_of(work,
					struct xvm_eventfd_notifier, work);

	xvm_eventfd_signal(n->ctx);
}

int xvm_eventfd_notifier_init(struct xvm_eventfd_notifier *n, int fd)
{
	struct eventfd_ctx *ctx = eventfd_ctx_fdget(fd);

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	n->ctx = ctx;
	init_irq_work(&n->work, xvm_eventfd_notify_work);
	return 0;
}

void xvm_eventfd_notify(struct xvm_eventfd_notifier *n)
{
	/* Not from inside another eventfd's wake function: defer. */
	if (eventfd_signal_allowed())
		xvm_eventfd_signal(n->ctx);
	else
		irq_work_queue(&n->work);
}

void xvm_eventfd_notifier_release(struct xvm_eventfd_notifier *n)
{
	irq_work_sync(&n->work);
	eventfd_ctx_put(n->ctx);
	n->ctx = NULL;
}
