/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xvm-msix.ko private header: the device and vector state shared by
 * msix.c (attributes, lifetime), msix-emul.c (table, PBA, Message Control,
 * delivery) and msix-hook.c (eventfd hook, attach).
 *
 * Locking (see each file for the paths that take them):
 *  - m->mutex serialises the attribute calls (attach, bus addresses,
 *    eventfd hooks, control word, reset, vector restore) and guards
 *    m->msgs[].
 *  - m->lock (spinlock, IRQs off) protects the virtual MSI-X state: every
 *    entry, m->enabled, m->fmask and m->pba[].
 *  - v->hook (the core's eventfd hook, <xvm/core.h>) is hooked and
 *    unhooked under m->mutex; it fires under the eventfd's wait-queue
 *    lock, which also protects whether it is hooked.
 *  - Order: eventfd wait-queue lock -> m->lock.
 */
#ifndef _XVM_MSIX_H
#define _XVM_MSIX_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include <xvm/core.h>

#define XVM_MSIX_NR_REGIONS	2	/* XVM_MSIX_ADDR_TABLE, XVM_MSIX_ADDR_PBA */

struct xvm_msix;

/* An MSI: a 4-byte write of data at addr. */
struct xvm_msix_msg {
	u64 addr;
	u32 data;
};

struct xvm_msix_vector {
	struct xvm_msix *m;

	/* The guest-visible entry, under m->lock. */
	u64 addr;
	u32 data;
	u32 ctrl;			/* PCI_MSIX_ENTRY_CTRL_MASKBIT */
	struct xvm_msix_msg msg;	/* latched at unmask; what is delivered */
	bool updated;			/* addr/data written while unmasked */

	struct xvm_eventfd_hook hook;	/* hooked, unhooked under m->mutex */
};

struct xvm_msix {
	struct xvm_device *dev;
	struct mutex mutex;		/* attribute calls, msgs[] */
	spinlock_t lock;		/* entries, enabled, fmask, pba[] */

	/* Set once at attach. */
	struct pci_dev *pdev;
	struct xvm_msix_info info;
	u32 nr_vectors;
	struct xvm_msix_vector *vectors;
	struct xvm_msix_msg *msgs;	/* released by a control write */

	bool enabled;			/* Message Control: MSI-X Enable */
	bool fmask;			/* Message Control: Function Mask */
	u64 *pba;			/* one bit per vector */

	struct xvm_mmio_region regions[XVM_MSIX_NR_REGIONS];
	bool on_bus[XVM_MSIX_NR_REGIONS];	/* m->mutex */

	atomic64_t stats[XVM_MSIX_NR_STATS];
};

/* msix-emul.c */

/* The device fired v: deliver it, or latch its PBA bit if masked. */
void xvm_msix_fire(struct xvm_msix_vector *v);
/* Puts the table or PBA at gpa on the VM's bus (or off it). */
int xvm_msix_set_addr(struct xvm_msix *m, u32 which, u64 gpa);
/* The guest-visible Message Control word. */
u16 xvm_msix_ctrl_word(struct xvm_msix *m);
/* Writes Message Control, delivering what an unmask releases. */
void xvm_msix_set_ctrl_word(struct xvm_msix *m, u16 val);
/* A snapshot of vector i for XVM_MSIX_GRP_VECTOR. */
void xvm_msix_vector_state(struct xvm_msix *m, u32 i,
			   struct xvm_msix_vector_state *out);
/* Restores vector i (XVM_MSIX_GRP_VECTOR set); never delivers. */
int xvm_msix_set_vector_state(struct xvm_msix *m, u32 i,
			      const struct xvm_msix_vector_state *st);

/* msix-hook.c */

/* Hooks v on eventfd fd (the core's exclusive eventfd hook). */
int xvm_msix_hook(struct xvm_msix_vector *v, int fd);
/* Once this returns, v's hook is not firing and will not fire. */
void xvm_msix_unhook(struct xvm_msix_vector *v);
/* Resets the virtual MSI-X state: disabled, every vector masked. */
void xvm_msix_reset(struct xvm_msix *m);
/* Frees what attach allocated. */
void xvm_msix_free_vectors(struct xvm_msix *m);
/* XVM_MSIX_GRP_ATTACH: proves ownership and reads the layout. */
int xvm_msix_attach(struct xvm_msix *m, const struct xvm_msix_attach *a);

#endif /* _XVM_MSIX_H */
