/* SPDX-License-Identifier: GPL-2.0 */
/*
 * eventfd notifiers (eventfd.c), for xvm.ko only: the hooks, which the
 * device modules use too, are in <xvm/core.h>.
 */
#ifndef _XVM_CORE_EVENTFD_H
#define _XVM_CORE_EVENTFD_H

#include <linux/eventfd.h>
#include <linux/irq_work.h>

/* Signals an eventfd from any context; see xvm_eventfd_notify(). */
struct xvm_eventfd_notifier {
	struct eventfd_ctx *ctx;
	struct irq_work work;		/* the deferred signal */
};

/* Takes a reference on eventfd fd: 0, -EBADF or -EINVAL. */
int xvm_eventfd_notifier_init(struct xvm_eventfd_notifier *n, int fd);
/*
 * Signals the eventfd now, or from irq_work when called inside another
 * eventfd's wake function (where eventfd_signal() is not allowed).  Any
 * context; never sleeps.
 */
void xvm_eventfd_notify(struct xvm_eventfd_notifier *n);
/*
 * Waits for a deferred signal, then drops the eventfd.  Only once no new
 * xvm_eventfd_notify() can start (e.g. a grace period after the notifier
 * was unpublished); may sleep.
 */
void xvm_eventfd_notifier_release(struct xvm_eventfd_notifier *n);

#endif /* _XVM_CORE_EVENTFD_H */
