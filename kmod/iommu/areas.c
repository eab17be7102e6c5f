// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-iommu.ko: the mappings (struct xvm_iommu_area: a dfn range with its
 * pinned pages, or a second view of another's pages during a slot move) in
 * the area tree, and the memory-slot listener that keeps each slot mapped
 * at dfn == gfn.
 *
 * Locking:
 *  - io->lock (mutex) protects the area tree, slot_areas[], io->prepared
 *    and the counters: every function here but the listener callbacks
 *    runs with it held, and the callbacks take it.  Pinning and unpinning
 *    may happen under it (mmap_lock nests inside).
 *  - The listener callbacks run under vm->slots_lock (core), held from a
 *    change's prepare to its commit or abort; io->prepared is only set
 *    while it is held.  A prepared area carries its slot's id, which
 *    XVM_IOMMU_UNMAP (not under slots_lock) refuses.
 *  - Every pin is taken under vm->slots_lock (a slot change, attach's
 *    replay, an explicit mapping), which keeps vm->mm stable: the VM's
 *    owner may change (core's owner.c), so a mapping pins from the owner
 *    of the time, only if that is current (-EIO otherwise), and remembers
 *    that mm (area->mm, a mmgrab()), which it unpins and unaccounts from.
 */
#include <linux/interval_tree.h>
#include <linux/iommu.h>
#include <linux/lockdep.h>
#include <linux/printk.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include <xvm/core.h>

#include "iommu.h"
#include "ops.h"
#include "trace.h"

u64 xvm_area_count(const struct xvm_iommu_area *area)
{
	return area->node.last - area->node.start + 1;
}

static struct xvm_dfn xvm_area_dfn(const struct xvm_iommu_area *area)
{
	return xvm_dfn(area->node.start);
}

struct xvm_iommu_area *xvm_area_first(struct xvm_iommu *io,
				      struct xvm_dfn dfn, u64 count)
{
	struct interval_tree_node *n;

	n = interval_tree_iter_first(&io->areas, dfn_x(dfn),
				     dfn_x(dfn) + count - 1);
	return n ? container_of(n, struct xvm_iommu_area, node) : NULL;
}

struct xvm_iommu_area *xvm_area_next(struct xvm_iommu_area *area,
				     struct xvm_dfn dfn, u64 count)
{
	struct interval_tree_node *n;

	n = interval_tree_iter_next(&area->node, dfn_x(dfn),
				    dfn_x(dfn) + count - 1);
	return n ? container_of(n, struct xvm_iommu_area, node) : NULL;
}

/* Does [dfn, dfn + count) overlap a mapping other than skip? */
bool xvm_iommu_overlaps(struct xvm_iommu *io, struct xvm_dfn dfn,
			u64 count, struct xvm_iommu_area *skip)
{
	struct xvm_iommu_area *area;

	lockdep_assert_held(&io->lock);
	for (area = xvm_area_first(io, dfn, count); area;
	     area = xvm_area_next(area, dfn, count))
		if (area != skip)
			return true;
	return false;
}

/* [dfn, dfn + count) lies inside what the domain translates. */
bool xvm_iommu_range_ok(struct xvm_iommu *io, struct xvm_dfn dfn,
			u64 count)
{
	return dfn_x(dfn) <= io->max_dfn && count - 1 <= io->max_dfn - dfn_x(dfn);
}

/* A new mapping of npages pinned from uaddr (in the VM's mm, current's). */
struct xvm_iommu_area *xvm_area_pin(struct xvm_iommu *io,
				    unsigned long uaddr, u64 npages,
				    unsigned int flags, int slot)
{
	struct mm_struct *mm = io->vm->mm;
	struct xvm_iommu_area *area;
	int r;

	lockdep_assert_held(&io->vm->slots_lock);
	area = kzalloc(sizeof(*area), GFP_KERNEL_ACCOUNT);
	if (!area)
		return ERR_PTR(-ENOMEM);
	area->pages = kvcalloc(npages, sizeof(*area->pages),
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!area->pages) {
		kfree(area);
		return ERR_PTR(-ENOMEM);
	}
	r = xvm_iommu_pin(mm, uaddr, npages, flags & XVM_IOMMUF_WRITE,
			  area->pages);
	if (r) {
		kvfree(area->pages);
		kfree(area);
		return ERR_PTR(r);
	}
	mmgrab(mm);
	area->mm = mm;
	area->npages = npages;
	area->flags = flags;
	area->slot = slot;
	area->owns_pages = true;
	return area;
}

/* A second view of area's pinned pages, for a slot move. */
static struct xvm_iommu_area *xvm_area_view(struct xvm_iommu_area *area)
{
	struct xvm_iommu_area *view;

	view = kzalloc(sizeof(*view), GFP_KERNEL_ACCOUNT);
	if (!view)
		return NULL;
	view->pages = area->pages;
	view->mm = area->mm;		/* its reference goes with owns_pages */
	view->npages = area->npages;
	view->flags = area->flags;
	view->slot = area->slot;
	return view;
}

/* Unpins and frees a mapping that is unmapped and flushed. */
void xvm_area_free(struct xvm_iommu *io, struct xvm_iommu_area *area)
{
	if (area->owns_pages) {
		xvm_iommu_unpin(area->mm, area->pages, area->npages,
				area->flags & XVM_IOMMUF_WRITE);
		mmdrop(area->mm);
		kvfree(area->pages);
	}
	kfree(area);
}

void xvm_area_free_list(struct xvm_iommu *io, struct list_head *dead)
{
	struct xvm_iommu_area *area, *tmp;

	list_for_each_entry_safe(area, tmp, dead, dead)
		xvm_area_free(io, area);
}

/* Maps a pinned mapping at dfn and makes it visible; -EEXIST on overlap. */
int xvm_area_insert(struct xvm_iommu *io, struct xvm_iommu_area *area,
		    struct xvm_dfn dfn)
{
	int r;

	lockdep_assert_held(&io->lock);
	if (xvm_iommu_overlaps(io, dfn, area->npages, NULL))
		return -EEXIST;
	r = xvm_iommu_map_pinned(&io->dom, dfn, area->pages, area->npages,
				 area->flags);
	if (r)
		return r;
	area->node.start = dfn_x(dfn);
	area->node.last = dfn_x(dfn) + area->npages - 1;
	interval_tree_insert(&area->node, &io->areas);
	io->mapped += area->npages;
	atomic64_add(area->npages, &io->vm->stats[XVM_VM_STAT_IOMMU_PAGES_MAPPED]);
	if (area->owns_pages)
		io->pinned += area->npages;
	trace_xvm_iommu_map(io, area);
	return 0;
}

/* Unmaps (flush in gather) and unlinks; the caller frees after the flush. */
void xvm_area_remove(struct xvm_iommu *io, struct xvm_iommu_area *area,
		     struct iommu_iotlb_gather *gather)
{
	lockdep_assert_held(&io->lock);
	trace_xvm_iommu_unmap(io, area);
	xvm_iommu_unmap_pages(&io->dom, xvm_area_dfn(area), area->npages,
			      gather);
	interval_tree_remove(&area->node, &io->areas);
	io->mapped -= area->npages;
	atomic64_sub(area->npages, &io->vm->stats[XVM_VM_STAT_IOMMU_PAGES_MAPPED]);
	if (area->owns_pages)
		io->pinned -= area->npages;
	if (area->slot >= 0 && io->slot_areas[area->slot] == area)
		io->slot_areas[area->slot] = NULL;
}

/* Removes one mapping, flushes, and frees it. */
static void xvm_area_drop(struct xvm_iommu *io, struct xvm_iommu_area *area)
{
	struct iommu_iotlb_gather gather;

	iommu_iotlb_gather_init(&gather);
	xvm_area_remove(io, area, &gather);
	xvm_iommu_iotlb_flush(&io->dom, &gather);
	xvm_area_free(io, area);
}

/*
 * The memslot listener keeps each slot mapped at dfn == gfn, in two
 * phases (see struct xvm_memslot_listener_ops).  Prepare maps what the
 * change needs and keeps it in io->prepared, in the tree with the slot's
 * id so that no explicit mapping or unmap can touch it; commit only
 * unmaps, which cannot fail; abort unmaps what prepare mapped.
 *
 * A move onto a range that overlaps the slot's own cannot map the new view
 * beside the old one: it is remapped in place at commit, and if the IOMMU
 * cannot allocate its page tables then, the slot is left unmapped (DMA to
 * it faults) and counted in slots_lost.  Nothing is ever mapped wrongly.
 */

static unsigned int xvm_slot_iommu_flags(const struct xvm_memslot *slot)
{
	if (slot->flags & XVM_MEM_READONLY)
		return XVM_IOMMUF_READ;
	return XVM_IOMMUF_READ | XVM_IOMMUF_WRITE;
}

static int xvm_iommu_prepare_create(struct xvm_iommu *io,
				    const struct xvm_memslot *slot)
{
	struct xvm_dfn dfn = gfn_to_dfn(slot->base_gfn);
	struct xvm_iommu_area *area;
	int r;

	if (slot->npages > XVM_IOMMU_MAX_COUNT ||
	    !xvm_iommu_range_ok(io, dfn, slot->npages))
		return -EOVERFLOW;
	if (xvm_iommu_overlaps(io, dfn, slot->npages, NULL))
		return -EEXIST;
	area = xvm_area_pin(io, slot->userspace_addr, slot->npages,
			    xvm_slot_iommu_flags(slot), slot->id);
	if (IS_ERR(area))
		return PTR_ERR(area);
	r = xvm_area_insert(io, area, dfn);
	if (r) {
		xvm_area_free(io, area);
		return r;
	}
	io->prepared = area;
	return 0;
}

static int xvm_iommu_prepare_move(struct xvm_iommu *io,
				  const struct xvm_memslot *old,
				  const struct xvm_memslot *new)
{
	struct xvm_iommu_area *area = io->slot_areas[old->id], *view;
	struct xvm_dfn to = gfn_to_dfn(new->base_gfn);
	int r;

	if (!area)			/* lost: map it afresh */
		return xvm_iommu_prepare_create(io, new);
	if (!xvm_iommu_range_ok(io, to, area->npages))
		return -EOVERFLOW;
	if (xvm_iommu_overlaps(io, to, area->npages, area))
		return -EEXIST;
	if (xvm_iommu_overlaps(io, to, area->npages, NULL))
		return 0;		/* onto itself: remapped at commit */
	view = xvm_area_view(area);
	if (!view)
		return -ENOMEM;
	r = xvm_area_insert(io, view, to);
	if (r) {
		kfree(view);
		return r;
	}
	io->prepared = view;
	return 0;
}

static int xvm_iommu_slot_prepare(struct xvm_memslot_listener *listener,
				  const struct xvm_memslot *old,
				  const struct xvm_memslot *new)
{
	struct xvm_iommu *io = container_of(listener, struct xvm_iommu,
					    listener);
	int r = 0;

	mutex_lock(&io->lock);
	if (io->state == XVM_IOMMU_ATTACHED)
		r = old ? xvm_iommu_prepare_move(io, old, new) :
			  xvm_iommu_prepare_create(io, new);
	mutex_unlock(&io->lock);
	return r;
}

static void xvm_iommu_slot_abort(struct xvm_memslot_listener *listener,
				 const struct xvm_memslot *old,
				 const struct xvm_memslot *new)
{
	struct xvm_iommu *io = container_of(listener, struct xvm_iommu,
					    listener);

	mutex_lock(&io->lock);
	if (io->prepared)
		xvm_area_drop(io, io->prepared);
	io->prepared = NULL;
	mutex_unlock(&io->lock);
}

/* A move onto an overlapping range: unmap, then map at the new place. */
static void xvm_iommu_remap_in_place(struct xvm_iommu *io,
				     struct xvm_iommu_area *area,
				     const struct xvm_memslot *new)
{
	struct iommu_iotlb_gather gather;
	int r;

	iommu_iotlb_gather_init(&gather);
	xvm_area_remove(io, area, &gather);
	xvm_iommu_iotlb_flush(&io->dom, &gather);
	r = xvm_area_insert(io, area, gfn_to_dfn(new->base_gfn));
	if (r) {
		pr_warn_ratelimited("xvm-iommu: memory slot %u left unmapped: its move could not be mapped (%d)\n",
				    new->id, r);
		io->slots_lost++;
		xvm_area_free(io, area);
		return;
	}
	io->slot_areas[new->id] = area;
}

/* The old view goes; the prepared one (if any) takes over the pages. */
static void xvm_iommu_commit_move(struct xvm_iommu *io,
				  const struct xvm_memslot *new)
{
	struct xvm_iommu_area *area = io->slot_areas[new->id];
	struct xvm_iommu_area *view = io->prepared;

	if (!area) {
		io->slot_areas[new->id] = view;
		return;
	}
	if (!view) {
		xvm_iommu_remap_in_place(io, area, new);
		return;
	}
	area->owns_pages = false;
	xvm_area_drop(io, area);
	view->owns_pages = true;
	io->slot_areas[new->id] = view;
}

static void xvm_iommu_slot_commit(struct xvm_memslot_listener *listener,
				  const struct xvm_memslot *old,
				  const struct xvm_memslot *new)
{
	struct xvm_iommu *io = container_of(listener, struct xvm_iommu,
					    listener);

	mutex_lock(&io->lock);
	if (io->state != XVM_IOMMU_ATTACHED)
		goto out;
	if (!old)
		io->slot_areas[new->id] = io->prepared;
	else if (!new && io->slot_areas[old->id])
		xvm_area_drop(io, io->slot_areas[old->id]);
	else if (new)
		xvm_iommu_commit_move(io, new);
out:
	io->prepared = NULL;
	mutex_unlock(&io->lock);
}

const struct xvm_memslot_listener_ops xvm_iommu_listener_ops = {
	.prepare	= xvm_iommu_slot_prepare,
	.commit		= xvm_iommu_slot_commit,
	.abort		= xvm_iommu_slot_abort,
};
