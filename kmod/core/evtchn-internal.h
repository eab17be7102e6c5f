/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the event channels: the port table and the ports, shared by
 * evtchn.c (ports, links, raise, ioctls, lifetime), evtchn-bridge.c (the
 * eventfd bridges) and evtchn-doorbell.c (the doorbell).  The locking
 * rules are at the top of evtchn.c.
 */
#ifndef _XVM_CORE_EVTCHN_INTERNAL_H
#define _XVM_CORE_EVTCHN_INTERNAL_H

#include <linux/bitmap.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <xvm/core.h>

#define XVM_EVTCHN_NO_VCPU	U32_MAX

struct xvm_evtchn_irqfd;
struct xvm_evtchn_notify;
struct xvm_evtchn_doorbell_region;

struct xvm_evtchn_port {
	u32 state;				/* XVM_EVTCHN_STATE_* */
	u32 notify_vcpu;			/* vCPU index, or NO_VCPU */
	u32 remote_port;			/* INTERDOMAIN */
	u64 remote_id;				/* the VM that may bind it, or 0 */
	struct xvm_vm __rcu *remote_vm;		/* INTERDOMAIN peer */
	struct xvm_evtchn_port *remote;		/* the peer's end */
	struct xvm_evtchn_notify __rcu *notify;	/* raise -> eventfd */
	struct xvm_evtchn_irqfd *irqfd;		/* eventfd -> raise */
	struct rcu_head rcu;
};

struct xvm_evtchn_table {
	struct xvm_vm *vm;
	struct mutex lock;			/* control operations */
	spinlock_t link_lock;			/* the ports' links */
	bool reachable;				/* ever linked, or a doorbell */
	struct xarray ports;			/* number -> port */
	DECLARE_BITMAP(pending, XVM_EVTCHN_MAX_PORTS);
	DECLARE_BITMAP(masked, XVM_EVTCHN_MAX_PORTS);
	DECLARE_BITMAP(polling, XVM_MAX_VCPUS);	/* vCPUs in XVM_POLL */
	struct xvm_evtchn_doorbell_region *doorbell;	/* or NULL */
};

/* evtchn.c */

/* Marks a port of vm pending; safe in any context, never sleeps. */
void xvm_evtchn_raise(struct xvm_vm *vm, u32 port);

/* evtchn-bridge.c */

/* Signals the port's NOTIFY eventfd, if any, now or deferred; under RCU. */
void xvm_evtchn_signal_eventfd(struct xvm_evtchn_port *p);
/* Hooks eventfd fd to raise port p (number port); under t->lock. */
int xvm_evtchn_irqfd_assign(struct xvm_vm *vm,
			    struct xvm_evtchn_port *p, u32 port, int fd);
/* Unhooks the bridge; once this returns it cannot raise the port. */
void xvm_evtchn_irqfd_remove(struct xvm_evtchn_port *p);
/* p has an eventfd -> port bridge whose eventfd is still open. */
bool xvm_evtchn_irqfd_active(struct xvm_evtchn_port *p);
/* Publishes a NOTIFY bridge from p to eventfd fd; under t->lock. */
int xvm_evtchn_notify_assign(struct xvm_evtchn_port *p, int fd);
/* Unpublishes the bridge now; it is freed after a grace period. */
void xvm_evtchn_notify_remove(struct xvm_evtchn_table *t,
			      struct xvm_evtchn_port *p);

/* evtchn-doorbell.c */

/* Takes the doorbell off the bus and frees it after a grace period. */
void xvm_evtchn_doorbell_free(struct xvm_vm *vm,
			      struct xvm_evtchn_doorbell_region *db);
/* XVM_EVTCHN_SET_DOORBELL; under t->lock. */
int xvm_evtchn_set_doorbell(struct xvm_vm *vm,
			    const struct xvm_evtchn_doorbell *req);

#endif /* _XVM_CORE_EVTCHN_INTERNAL_H */
