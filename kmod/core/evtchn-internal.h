/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the event channels: the port table and the ports, shared by
 * evtchn.c (ports, links, raise, ioctls, lifetime), evtchn-bridge.c (the
 * eventfd bridges) and evtchn-doorbell.c (the doorbell).  The locking
 * rules are at the top of evtchn.c; save and restore (evtchn-state.c) add
 * theirs.
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
	/* Save and restore (evtchn-state.c); under the table's link_lock. */
	u64 remote_vmm_id;			/* remote_id's XVM_CAP_VM_ID */
	u64 await_id;				/* restored: the peer's VM id */
	u64 consent;				/* restored: RELINK's peer (id) */
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
	DECLARE_BITMAP(published, XVM_EVTCHN_MAX_PORTS); /* in ports */
	struct xvm_evtchn_doorbell_region *doorbell;	/* or NULL */
	u64 vmm_id;				/* XVM_CAP_VM_ID, or 0 */
};

/* remote_id of a restored port named to a VM not yet known: binds none. */
#define XVM_EVTCHN_ID_UNRESOLVED	U64_MAX

/* evtchn.c */

/* Publishes p at its reserved number: allocates nothing, cannot fail. */
void xvm_evtchn_publish(struct xvm_evtchn_table *t, u32 port,
			struct xvm_evtchn_port *p);

/* Marks a port of vm pending; safe in any context, never sleeps. */
void xvm_evtchn_raise(struct xvm_vm *vm, u32 port);
/* The link locks of two VMs, in address order; a link, pair locked. */
void xvm_evtchn_lock_pair(struct xvm_evtchn_table *a,
			  struct xvm_evtchn_table *b)
	__acquires(&a->link_lock) __acquires(&b->link_lock);
void xvm_evtchn_unlock_pair(struct xvm_evtchn_table *a,
			    struct xvm_evtchn_table *b)
	__releases(&a->link_lock) __releases(&b->link_lock);
void xvm_evtchn_link(struct xvm_evtchn_table *t, struct xvm_evtchn_port *p,
		     u32 port, struct xvm_evtchn_table *rt,
		     struct xvm_evtchn_port *rp, u32 rport);

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
/* The doorbell's address in *addr, if the VM has one; under t->lock. */
bool xvm_evtchn_doorbell_addr(struct xvm_evtchn_table *t, u64 *addr);

/* evtchn-state.c: the ioctl handlers (xvm_evtchn_ioctls[]), under t->lock */

long xvm_evtchn_ioctl_get_state(void *vm, void *data, unsigned long arg);
long xvm_evtchn_ioctl_set_state(void *vm, void *data, unsigned long arg);
long xvm_evtchn_ioctl_relink(void *vm, void *data, unsigned long arg);

#endif /* _XVM_CORE_EVTCHN_INTERNAL_H */
