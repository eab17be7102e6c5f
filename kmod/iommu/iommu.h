/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xvm-iommu.ko private header: the device (struct xvm_iommu) and its
 * mappings (struct xvm_iommu_area), shared by iommu.c (the device, attach
 * and detach, explicit mappings, attributes, lifetime) and areas.c (the
 * mappings and the memory-slot listener).
 *
 * Locking, outer to inner (iommu.c has the full rules): io->ioctl_lock,
 * vm->slots_lock, io->lock (state, domain, area tree, slot_areas[],
 * counters).
 */
#ifndef _XVM_IOMMU_H
#define _XVM_IOMMU_H

#include <linux/interval_tree.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/types.h>

#include <xvm/core.h>

#include "ops.h"

/* Frames per mapping: bounds the page array (512 MiB) and the pin. */
#define XVM_IOMMU_MAX_COUNT	BIT_ULL(26)

enum xvm_iommu_state {
	XVM_IOMMU_DETACHED,
	XVM_IOMMU_ATTACHED,
};

struct xvm_iommu_area {
	struct interval_tree_node node;	/* [start, last] in dfns */
	struct list_head dead;		/* unmapped, to be freed */
	struct page **pages;
	struct mm_struct *mm;		/* pinned from (mmgrab), unpin there */
	u64 npages;
	unsigned int flags;		/* XVM_IOMMUF_* */
	int slot;			/* memory slot id, or -1: explicit */
	bool owns_pages;		/* false: a move's second view */
	/* An explicit mapping's source, as XVM_IOMMU_MAP gave it. */
	u32 src;			/* XVM_IOMMU_MAP_SRC_*, 0 for a slot */
	struct xvm_gfn src_gfn;		/* with XVM_IOMMU_MAP_SRC_GFN */
	u64 src_uaddr;			/* with XVM_IOMMU_MAP_SRC_UADDR */
};

struct xvm_iommu {
	struct xvm_vm *vm;
	struct mutex ioctl_lock;	/* see the top of iommu.c */
	struct mutex lock;
	enum xvm_iommu_state state;

	struct xvm_iommu_attach attach;	/* as attached */
	struct pci_dev *pdev;
	struct iommu_group *group;
	struct xvm_iommu_domain dom;
	u64 max_dfn;

	struct rb_root_cached areas;
	struct xvm_iommu_area *slot_areas[XVM_NR_MEMSLOTS];
	u64 mapped;			/* frames */
	u64 pinned;			/* frames */

	struct xvm_memslot_listener listener;
	bool listening;
	/* Between a slot change's prepare and its commit or abort. */
	struct xvm_iommu_area *prepared;
	u64 slots_lost;			/* slots a move could not remap */
};

/* areas.c */

/* The frames area maps. */
u64 xvm_area_count(const struct xvm_iommu_area *area);
/* The first mapping overlapping [dfn, dfn + count), or NULL. */
struct xvm_iommu_area *xvm_area_first(struct xvm_iommu *io,
				      struct xvm_dfn dfn, u64 count);
/* The next mapping after area overlapping [dfn, dfn + count), or NULL. */
struct xvm_iommu_area *xvm_area_next(struct xvm_iommu_area *area,
				     struct xvm_dfn dfn, u64 count);
/* Does [dfn, dfn + count) overlap a mapping other than skip? */
bool xvm_iommu_overlaps(struct xvm_iommu *io, struct xvm_dfn dfn,
			u64 count, struct xvm_iommu_area *skip);
/* [dfn, dfn + count) lies inside what the domain translates. */
bool xvm_iommu_range_ok(struct xvm_iommu *io, struct xvm_dfn dfn,
			u64 count);
/* A new mapping of npages pinned from uaddr (in the VM's mm, current's). */
struct xvm_iommu_area *xvm_area_pin(struct xvm_iommu *io,
				    unsigned long uaddr, u64 npages,
				    unsigned int flags, int slot);
/* Unpins and frees a mapping that is unmapped and flushed. */
void xvm_area_free(struct xvm_iommu *io, struct xvm_iommu_area *area);
/* xvm_area_free() of every mapping on the dead list. */
void xvm_area_free_list(struct xvm_iommu *io, struct list_head *dead);
/* Maps a pinned mapping at dfn and makes it visible; -EEXIST on overlap. */
int xvm_area_insert(struct xvm_iommu *io, struct xvm_iommu_area *area,
		    struct xvm_dfn dfn);
/* Unmaps (flush in gather) and unlinks; the caller frees after the flush. */
void xvm_area_remove(struct xvm_iommu *io, struct xvm_iommu_area *area,
		     struct iommu_iotlb_gather *gather);

/* Keeps each memory slot mapped at dfn == gfn. */
extern const struct xvm_memslot_listener_ops xvm_iommu_listener_ops;

#endif /* _XVM_IOMMU_H */
