// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-iommu.ko: XVM_DEV_TYPE_IOMMU, the VM's own IOMMU domain for one
 * assigned PCI device (its whole IOMMU group), with guest memory mapped in
 * it through frame types that never mix (see ops.h for the typed layer).
 *
 * Attach claims the group's DMA ownership first and refuses when the claim
 * fails: in 6.1 iommu_attach_group() does not check ownership and would
 * silently take DMA from a running driver.  Detach (or closing the fd)
 * unmaps and unpins everything and hands the group back; a VFIO container
 * or a driver can then take it again.
 *
 * A mapping (struct xvm_iommu_area) is a dfn range with its pinned pages.
 * Explicit mappings come from XVM_IOMMU_MAP and go with XVM_IOMMU_UNMAP
 * (whole mappings only).  With XVM_IOMMU_ATTACH_MIRROR_SLOTS each memory
 * slot is one more mapping at dfn == gfn, made, moved and dropped by the
 * memslot listener as the slot changes.
 *
 * XVM_IOMMU_GET_STATE reports the attach and every explicit mapping, as
 * the XVM_IOMMU_MAP argument that re-creates it (each area keeps the
 * source it was mapped from), for a VMM to save and restore the device.
 *
 * This file holds the device: attach and detach, the explicit mapping
 * ioctls, the saved state, attributes and lifetime.  The mappings and the memslot listener
 * are in areas.c, the typed IOMMU layer in ops.c, pinning in pages.c, the
 * shared state in iommu.h.
 *
 * Locking, outer to inner:
 *  - io->ioctl_lock (mutex) serialises attach, detach and explicit map,
 *    and protects io->listening.
 *  - vm->slots_lock (core) is held around listener callbacks and around a
 *    whole explicit map (and GET_STATE's snapshot), so that explicit maps
 *    and slot changes are serialised; prepared (between a change's prepare and its commit or
 *    abort) is only set while it is held.  UNMAP and TRANSLATE do not take
 *    it: a prepared area carries its slot's id, which UNMAP refuses.
 *  - io->lock (mutex) protects everything else: state, the domain, the
 *    area tree, slot_areas[] and the counters.  Pinning and unpinning may
 *    happen under it (mmap_lock nests inside).
 */
#include <linux/capability.h>
#include <linux/interval_tree.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <xvm/core.h>

#include "xvm_compat.h"
#include <xvm_iommu_compat.h>

#include "iommu.h"
#include "ops.h"

/* Attach and detach. */

/* Groups whose domain could not be taken back, since this module loaded. */
static atomic_t xvm_iommu_groups_kept = ATOMIC_INIT(0);

static int xvm_iommu_dev_in_domain(struct device *dev, void *domain)
{
	return iommu_get_domain_for_dev(dev) == domain;
}

/* Is any device of group still translated by domain? */
static bool xvm_iommu_group_uses(struct iommu_group *group,
				 struct iommu_domain *domain)
{
	return iommu_group_for_each_dev(group, domain,
					xvm_iommu_dev_in_domain) > 0;
}

/*
 * Hands the group back to its default domain and frees ours; the group
 * reference is the caller's.  In 6.1 neither
 * iommu_group_release_dma_owner() nor iommu_detach_group() reports
 * failure: when the IOMMU driver cannot attach the default domain (it may
 * allocate, and the IOMMU core WARNs), a device of the group stays in our
 * domain.  So check every device, retry, and never free a domain a device
 * still uses: if the driver keeps refusing, the (empty) domain is left to
 * the group, and the log says so.
 */
static void xvm_iommu_give_back(struct iommu_domain *domain,
				struct iommu_group *group)
{
	int tries;

	iommu_group_release_dma_owner(group);
	for (tries = 0; tries < 2 && xvm_iommu_group_uses(group, domain);
	     tries++)
		iommu_detach_group(domain, group);
	if (!xvm_iommu_group_uses(group, domain)) {
		iommu_domain_free(domain);
		return;
	}
	atomic_inc(&xvm_iommu_groups_kept);
	pr_err("xvm-iommu: group %d: the IOMMU driver would not take its default domain back; the group keeps an empty xvm domain (its DMA faults)\n",
	       iommu_group_id(group));
}

/*
 * Unmaps and unpins everything, detaches the domain and hands the group
 * back.  Does not touch the listener.
 */
static void xvm_iommu_detach(struct xvm_iommu *io)
{
	struct iommu_iotlb_gather gather;
	struct interval_tree_node *n;
	LIST_HEAD(dead);

	mutex_lock(&io->lock);
	if (io->state != XVM_IOMMU_ATTACHED) {
		mutex_unlock(&io->lock);
		return;
	}
	iommu_iotlb_gather_init(&gather);
	while ((n = interval_tree_iter_first(&io->areas, 0, ULONG_MAX))) {
		struct xvm_iommu_area *area;

		area = container_of(n, struct xvm_iommu_area, node);
		xvm_area_remove(io, area, &gather);
		list_add(&area->dead, &dead);
	}
	xvm_iommu_iotlb_flush(&io->dom, &gather);

	xvm_iommu_give_back(io->dom.domain, io->group);
	iommu_group_put(io->group);
	pci_dev_put(io->pdev);
	io->dom.domain = NULL;
	io->group = NULL;
	io->pdev = NULL;
	io->state = XVM_IOMMU_DETACHED;
	mutex_unlock(&io->lock);

	xvm_area_free_list(io, &dead);
}

/* Stops following the memory slots, then detaches. */
static void xvm_iommu_stop(struct xvm_iommu *io)
{
	if (io->listening)
		xvm_memslot_listener_unregister(io->vm, &io->listener);
	io->listening = false;
	xvm_iommu_detach(io);
}

static void xvm_iommu_set_attached(struct xvm_iommu *io,
				   const struct xvm_iommu_attach *req,
				   struct pci_dev *pdev,
				   struct iommu_group *group,
				   struct iommu_domain *domain)
{
	mutex_lock(&io->lock);
	io->attach = *req;
	io->pdev = pdev;
	io->group = group;
	io->dom.domain = domain;
	io->dom.prot_extra = 0;
	if (device_iommu_capable(&pdev->dev, IOMMU_CAP_CACHE_COHERENCY))
		io->dom.prot_extra = IOMMU_CACHE;
	/* Only valid once attached (0x1000 before under intel-iommu). */
	io->max_dfn = ULONG_MAX >> PAGE_SHIFT;
	if (domain->geometry.force_aperture)
		io->max_dfn = domain->geometry.aperture_end >> PAGE_SHIFT;
	io->state = XVM_IOMMU_ATTACHED;
	mutex_unlock(&io->lock);
}

static int xvm_iommu_attach(struct xvm_iommu *io,
			    const struct xvm_iommu_attach *req)
{
	struct iommu_domain *domain;
	struct iommu_group *group;
	struct pci_dev *pdev;
	int r;

	lockdep_assert_held(&io->ioctl_lock);
	if (io->state != XVM_IOMMU_DETACHED)
		return -EBUSY;

	pdev = pci_get_domain_bus_and_slot(req->segment, req->bus, req->devfn);
	if (!pdev)
		return -ENODEV;
	group = iommu_group_get(&pdev->dev);
	if (!group) {
		r = -ENODEV;
		goto out_put_pdev;
	}
	/* Never attach without owning the group's DMA. */
	r = iommu_group_claim_dma_owner(group, io);
	if (r)
		goto out_put_group;

	domain = xvm_iommu_domain_alloc(&pdev->dev);
	if (IS_ERR(domain)) {
		r = PTR_ERR(domain);
		goto out_release;
	}
	r = iommu_attach_group(domain, group);
	if (r) {
		/* A failed attach may leave a device in it: check first. */
		xvm_iommu_give_back(domain, group);
		goto out_put_group;
	}

	xvm_iommu_set_attached(io, req, pdev, group, domain);

	if (req->flags & XVM_IOMMU_ATTACH_MIRROR_SLOTS) {
		r = xvm_memslot_listener_register(io->vm, &io->listener);
		if (r) {
			xvm_iommu_detach(io);
			return r;
		}
		io->listening = true;
	}
	return 0;

out_release:
	iommu_group_release_dma_owner(group);
out_put_group:
	iommu_group_put(group);
out_put_pdev:
	pci_dev_put(pdev);
	return r;
}

/* Explicit mappings. */

/* Its pad, reserved and unknown flags were rejected (the table). */
static int xvm_iommu_check_map(const struct xvm_iommu_map *m)
{
	bool by_gfn = m->flags & XVM_IOMMU_MAP_SRC_GFN;
	bool by_uaddr = m->flags & XVM_IOMMU_MAP_SRC_UADDR;

	if (!(m->flags & (XVM_IOMMU_MAP_READ | XVM_IOMMU_MAP_WRITE)))
		return -EINVAL;
	if (by_gfn == by_uaddr || (by_gfn && m->uaddr) ||
	    (by_uaddr && m->gfn))
		return -EINVAL;
	if (!m->count)
		return -EINVAL;
	if (by_uaddr && !PAGE_ALIGNED(m->uaddr))
		return -EINVAL;
	if (m->count > XVM_IOMMU_MAX_COUNT ||
	    m->count - 1 > U64_MAX - m->dfn ||
	    m->count - 1 > U64_MAX - m->gfn ||
	    (by_uaddr && (m->count << PAGE_SHIFT) - 1 > U64_MAX - m->uaddr))
		return -EOVERFLOW;
	return 0;
}

/* The user address of [gfn, gfn + count), which one slot must hold. */
static int xvm_iommu_gfn_to_uaddr(struct xvm_iommu *io, struct xvm_gfn gfn,
				  u64 count, bool write, unsigned long *uaddr)
{
	unsigned int i;

	lockdep_assert_held(&io->vm->slots_lock);
	for (i = 0; i < XVM_NR_MEMSLOTS; i++) {
		const struct xvm_memslot *slot = io->vm->memslots[i];
		u64 off;

		if (!slot || gfn_x(gfn) < gfn_x(slot->base_gfn))
			continue;
		off = gfn_x(gfn) - gfn_x(slot->base_gfn);
		if (off >= slot->npages || count > slot->npages - off)
			continue;
		if (write && (slot->flags & XVM_MEM_READONLY))
			return -EPERM;
		*uaddr = slot->userspace_addr + (off << PAGE_SHIFT);
		return 0;
	}
	return -EFAULT;
}

/* Pins the source of an explicit mapping; vm->slots_lock is held. */
static struct xvm_iommu_area *xvm_iommu_map_source(struct xvm_iommu *io,
						   const struct xvm_iommu_map *m,
						   unsigned int flags)
{
	struct xvm_iommu_area *area;
	unsigned long uaddr = m->uaddr;
	int r;

	if (m->flags & XVM_IOMMU_MAP_SRC_GFN) {
		r = xvm_iommu_gfn_to_uaddr(io, xvm_gfn(m->gfn), m->count,
					   flags & XVM_IOMMUF_WRITE, &uaddr);
		if (r)
			return ERR_PTR(r);
	} else if (!access_ok(u64_to_user_ptr(m->uaddr),
			      m->count << PAGE_SHIFT)) {
		return ERR_PTR(-EFAULT);
	}
	area = xvm_area_pin(io, uaddr, m->count, flags, -1);
	if (IS_ERR(area))
		return area;
	/* Reported by XVM_IOMMU_GET_STATE, to map it again. */
	area->src = m->flags & (XVM_IOMMU_MAP_SRC_GFN | XVM_IOMMU_MAP_SRC_UADDR);
	area->src_gfn = xvm_gfn(m->gfn);
	area->src_uaddr = m->uaddr;
	return area;
}

/*
 * Under vm->slots_lock throughout, so that no slot change runs between the
 * checks and the insert (the slot listener's prepare and commit rely on
 * the tree not changing under them).
 */
static int xvm_iommu_do_map(struct xvm_iommu *io, const struct xvm_iommu_map *m)
{
	struct xvm_dfn dfn = xvm_dfn(m->dfn);
	struct xvm_iommu_area *area;
	unsigned int flags = 0;
	int r;

	lockdep_assert_held(&io->ioctl_lock);
	if (m->flags & XVM_IOMMU_MAP_READ)
		flags |= XVM_IOMMUF_READ;
	if (m->flags & XVM_IOMMU_MAP_WRITE)
		flags |= XVM_IOMMUF_WRITE;

	mutex_lock(&io->vm->slots_lock);
	mutex_lock(&io->lock);
	r = -ENODEV;
	if (io->state != XVM_IOMMU_ATTACHED)
		goto out;
	r = -EOVERFLOW;
	if (!xvm_iommu_range_ok(io, dfn, m->count))
		goto out;
	r = -EEXIST;
	if (xvm_iommu_overlaps(io, dfn, m->count, NULL))
		goto out;
	/* Pinning takes mmap_lock, which nests inside io->lock. */
	area = xvm_iommu_map_source(io, m, flags);
	r = PTR_ERR_OR_ZERO(area);
	if (r)
		goto out;
	r = xvm_area_insert(io, area, dfn);
	if (r)
		xvm_area_free(io, area);
out:
	mutex_unlock(&io->lock);
	mutex_unlock(&io->vm->slots_lock);
	return r;
}

/* Under io->ioctl_lock (the table's .lock). */
static long xvm_iommu_map_ioctl(void *io, void *m, unsigned long arg)
{
	int r = xvm_iommu_check_map(m);

	return r ? r : xvm_iommu_do_map(io, m);
}

/*
 * Collects the explicit mappings to unmap into *list: all of them, or
 * those inside [dfn, dfn + count), none of which may stick out.
 */
static int xvm_iommu_collect(struct xvm_iommu *io, bool all,
			     struct xvm_dfn dfn, u64 count,
			     struct list_head *list)
{
	struct xvm_iommu_area *area;
	u64 last = dfn_x(dfn) + count - 1;
	int r = all ? 0 : -ENOENT;

	lockdep_assert_held(&io->lock);
	for (area = xvm_area_first(io, dfn, count); area;
	     area = xvm_area_next(area, dfn, count)) {
		if (all) {
			if (area->slot < 0)
				list_add_tail(&area->dead, list);
			continue;
		}
		if (area->node.start < dfn_x(dfn) || area->node.last > last) {
			r = -ENOENT;	/* cuts through a mapping */
			break;
		}
		if (area->slot >= 0) {
			r = -EBUSY;	/* a memory slot's mapping */
			break;
		}
		list_add_tail(&area->dead, list);
		r = 0;
	}
	if (r)
		INIT_LIST_HEAD(list);
	return r;
}

static long xvm_iommu_unmap_ioctl(void *obj, void *data, unsigned long arg)
{
	struct iommu_iotlb_gather gather;
	struct xvm_iommu_unmap *u = data;
	struct xvm_iommu *io = obj;
	struct xvm_iommu_area *area;
	bool all;
	LIST_HEAD(dead);
	int r;

	all = u->flags & XVM_IOMMU_UNMAP_ALL;
	if (all) {
		if (u->dfn || u->count)
			return -EINVAL;
		u->count = (ULONG_MAX >> PAGE_SHIFT) + 1;
	} else {
		if (!u->count)
			return -EINVAL;
		if (u->count - 1 > U64_MAX - u->dfn ||
		    u->dfn + u->count - 1 > ULONG_MAX)
			return -EOVERFLOW;
	}

	mutex_lock(&io->lock);
	r = -ENODEV;
	if (io->state != XVM_IOMMU_ATTACHED)
		goto out_unlock;
	r = xvm_iommu_collect(io, all, xvm_dfn(u->dfn), u->count, &dead);
	if (r)
		goto out_unlock;
	u->unmapped = 0;
	iommu_iotlb_gather_init(&gather);
	list_for_each_entry(area, &dead, dead) {
		xvm_area_remove(io, area, &gather);
		u->unmapped += area->npages;
	}
	if (!list_empty(&dead))
		xvm_iommu_iotlb_flush(&io->dom, &gather);
out_unlock:
	mutex_unlock(&io->lock);
	xvm_area_free_list(io, &dead);
	if (!r && all)
		u->count = 0;
	return r;
}

/* The out fields were checked zero (the table): they start clear. */
static long xvm_iommu_translate_ioctl(void *obj, void *data,
				      unsigned long arg)
{
	struct xvm_iommu_translate *t = data;
	struct xvm_iommu *io = obj;
	struct xvm_iommu_area *area;
	struct xvm_dfn dfn;
	struct xvm_mfn mfn;
	int r = 0;

	dfn = xvm_dfn(t->dfn);

	mutex_lock(&io->lock);
	if (io->state != XVM_IOMMU_ATTACHED) {
		r = -ENODEV;
		goto out_unlock;
	}
	if (t->dfn > io->max_dfn)
		goto out_unlock;
	area = xvm_area_first(io, dfn, 1);
	if (area) {
		t->flags |= area->flags & XVM_IOMMUF_READ ?
			    XVM_IOMMU_XLATE_READ : 0;
		t->flags |= area->flags & XVM_IOMMUF_WRITE ?
			    XVM_IOMMU_XLATE_WRITE : 0;
		t->flags |= area->slot >= 0 ? XVM_IOMMU_XLATE_SLOT : 0;
		t->map_dfn = area->node.start;
		t->map_count = xvm_area_count(area);
	}
	/* From the IOMMU's page tables, not from the bookkeeping. */
	if (xvm_iommu_lookup(&io->dom, dfn, &mfn)) {
		t->flags |= XVM_IOMMU_XLATE_MAPPED;
		if (capable(CAP_SYS_RAWIO)) {
			t->flags |= XVM_IOMMU_XLATE_MFN;
			t->mfn = mfn_x(mfn);
		}
	}
out_unlock:
	mutex_unlock(&io->lock);
	return r;
}

/* Saved state: XVM_IOMMU_GET_STATE. */

/* Explicit mappings and their frames, and slot mappings; under io->lock. */
static u64 xvm_iommu_count_explicit(struct xvm_iommu *io, u64 *frames)
{
	struct interval_tree_node *n;
	u64 nr = 0;

	lockdep_assert_held(&io->lock);
	*frames = 0;
	for (n = interval_tree_iter_first(&io->areas, 0, ULONG_MAX); n;
	     n = interval_tree_iter_next(n, 0, ULONG_MAX)) {
		struct xvm_iommu_area *area;

		area = container_of(n, struct xvm_iommu_area, node);
		if (area->slot >= 0)
			continue;
		nr++;
		*frames += area->npages;
	}
	return nr;
}

/* The XVM_IOMMU_MAP argument that re-creates an explicit mapping. */
static void xvm_iommu_record(const struct xvm_iommu_area *area,
			     struct xvm_iommu_map *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->flags = area->src;
	if (area->flags & XVM_IOMMUF_READ)
		rec->flags |= XVM_IOMMU_MAP_READ;
	if (area->flags & XVM_IOMMUF_WRITE)
		rec->flags |= XVM_IOMMU_MAP_WRITE;
	rec->dfn = area->node.start;
	rec->count = xvm_area_count(area);
	if (area->src & XVM_IOMMU_MAP_SRC_GFN)
		rec->gfn = gfn_x(area->src_gfn);
	else
		rec->uaddr = area->src_uaddr;
}

/* The nr explicit mappings into recs[], in dfn order; under io->lock. */
static void xvm_iommu_records(struct xvm_iommu *io, struct xvm_iommu_map *recs,
			      u64 nr)
{
	struct interval_tree_node *n;
	u64 i = 0;

	lockdep_assert_held(&io->lock);
	for (n = interval_tree_iter_first(&io->areas, 0, ULONG_MAX);
	     n && i < nr; n = interval_tree_iter_next(n, 0, ULONG_MAX)) {
		struct xvm_iommu_area *area;

		area = container_of(n, struct xvm_iommu_area, node);
		if (area->slot < 0)
			xvm_iommu_record(area, &recs[i++]);
	}
}

/* The header's out fields; under io->lock. */
static void xvm_iommu_state_header(struct xvm_iommu *io,
				   struct xvm_iommu_get_state *st, u64 nr,
				   u64 frames)
{
	unsigned int i;

	lockdep_assert_held(&io->lock);
	st->count = nr;
	st->mapped = frames;
	st->state = 0;
	st->slot_maps = 0;
	memset(&st->attach, 0, sizeof(st->attach));
	if (io->state != XVM_IOMMU_ATTACHED)
		return;
	st->state = XVM_IOMMU_STATE_ATTACHED;
	st->attach = io->attach;
	for (i = 0; i < XVM_NR_MEMSLOTS; i++)
		st->slot_maps += !!io->slot_areas[i];
}

/*
 * One snapshot: vm->slots_lock keeps slot changes out (so no prepared
 * mapping is in the tree), io->lock maps and unmaps.  The records are
 * copied out after both are dropped.
 */
static long xvm_iommu_get_state_ioctl(void *obj, void *data,
				      unsigned long arg)
{
	struct xvm_iommu_get_state *st = data;
	struct xvm_iommu_map *recs = NULL;
	struct xvm_iommu *io = obj;
	u64 nr, frames;
	long r = 0;

	if (st->version != XVM_IOMMU_STATE_VERSION)
		return -EINVAL;

	mutex_lock(&io->vm->slots_lock);
	mutex_lock(&io->lock);
	nr = xvm_iommu_count_explicit(io, &frames);
	if (nr > st->count) {
		r = -ENOSPC;
	} else if (nr) {
		recs = kvcalloc(nr, sizeof(*recs), GFP_KERNEL_ACCOUNT);
		if (recs)
			xvm_iommu_records(io, recs, nr);
		else
			r = -ENOMEM;
	}
	if (r != -ENOMEM)
		xvm_iommu_state_header(io, st, nr, frames);
	mutex_unlock(&io->lock);
	mutex_unlock(&io->vm->slots_lock);

	if (recs && copy_to_user(u64_to_user_ptr(st->maps), recs,
				 nr * sizeof(*recs)))
		r = -EFAULT;
	kvfree(recs);
	return r;
}

static struct mutex *xvm_iommu_ioctl_lock(void *obj)
{
	struct xvm_iommu *io = obj;

	return &io->ioctl_lock;
}

static const struct xvm_ioctl_desc xvm_iommu_ioctls[] = {
	XVM_IOCTL(IOMMU_MAP, struct xvm_iommu_map, xvm_iommu_map_ioctl,
		  .lock = xvm_iommu_ioctl_lock,
		  .zero = { XVM_IOCTL_ZERO(struct xvm_iommu_map, pad, pad),
			    XVM_IOCTL_ZERO(struct xvm_iommu_map, reserved,
					   reserved) },
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_iommu_map, flags,
						 XVM_IOMMU_MAP_FLAGS_ALL)),
	XVM_IOCTL(IOMMU_UNMAP, struct xvm_iommu_unmap,
		  xvm_iommu_unmap_ioctl,
		  .zero = { XVM_IOCTL_ZERO(struct xvm_iommu_unmap, pad, pad),
			    XVM_IOCTL_ZERO(struct xvm_iommu_unmap, reserved,
					   reserved) },
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_iommu_unmap, flags,
						 XVM_IOMMU_UNMAP_ALL)),
	XVM_IOCTL(IOMMU_TRANSLATE, struct xvm_iommu_translate,
		  xvm_iommu_translate_ioctl,
		  .zero = { XVM_IOCTL_ZERO(struct xvm_iommu_translate, pad,
					   reserved) },
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_iommu_translate,
						 flags, 0)),
	/* The out fields go back with -ENOSPC too: the count needed. */
	XVM_IOCTL(IOMMU_GET_STATE, struct xvm_iommu_get_state,
		  xvm_iommu_get_state_ioctl,
		  .flags = XVM_IOCTL_OUT_ON_ERROR,
		  .zero = { XVM_IOCTL_ZERO(struct xvm_iommu_get_state, pad, pad),
			    XVM_IOCTL_ZERO(struct xvm_iommu_get_state, reserved,
					   reserved) },
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_iommu_get_state, flags,
						 0)),
};

static long xvm_iommu_ioctl(struct xvm_device *dev, unsigned int cmd,
			    unsigned long arg)
{
	return xvm_ioctl_dispatch(xvm_iommu_ioctls,
				  ARRAY_SIZE(xvm_iommu_ioctls),
				  dev->private, cmd, arg);
}

/* Attributes. */

static int xvm_iommu_get_info(struct xvm_iommu *io, u64 which, u64 *val)
{
	lockdep_assert_held(&io->lock);
	switch (which) {
	case XVM_IOMMU_INFO_PAGE_SHIFT:
		*val = PAGE_SHIFT;
		return 0;
	case XVM_IOMMU_INFO_MAX_COUNT:
		*val = XVM_IOMMU_MAX_COUNT;
		return 0;
	case XVM_IOMMU_INFO_MAPPED:
		*val = io->mapped;
		return 0;
	case XVM_IOMMU_INFO_PINNED:
		*val = io->pinned;
		return 0;
	case XVM_IOMMU_INFO_RUNS:
		*val = io->dom.runs;
		return 0;
	case XVM_IOMMU_INFO_SYNCS:
		*val = io->dom.syncs;
		return 0;
	case XVM_IOMMU_INFO_SLOTS_LOST:
		*val = io->slots_lost;
		return 0;
	case XVM_IOMMU_INFO_GROUPS_KEPT:
		*val = atomic_read(&xvm_iommu_groups_kept);
		return 0;
	case XVM_IOMMU_INFO_STATE_VERSION:
		*val = XVM_IOMMU_STATE_VERSION;
		return 0;
	}
	if (io->state != XVM_IOMMU_ATTACHED)
		return -ENODEV;
	switch (which) {
	case XVM_IOMMU_INFO_PGSIZE_BITMAP:
		*val = io->dom.domain->pgsize_bitmap;
		return 0;
	case XVM_IOMMU_INFO_MAX_DFN:
		*val = io->max_dfn;
		return 0;
	}
	return -ENXIO;
}

/*
 * CTRL/ATTACH.  The capability is checked after the core read the value:
 * an unprivileged caller with a bad addr gets EFAULT, not EPERM.
 */
static int xvm_iommu_set_attach(struct xvm_device *dev,
				const struct xvm_device_attr *attr,
				const void *val)
{
	const struct xvm_iommu_attach *req = val;
	struct xvm_iommu *io = dev->private;
	int r;

	if ((req->flags & ~XVM_IOMMU_ATTACH_FLAGS_ALL) ||
	    req->reserved[0] || req->reserved[1] || req->reserved[2])
		return -EINVAL;
	mutex_lock(&io->ioctl_lock);
	r = xvm_iommu_attach(io, req);
	mutex_unlock(&io->ioctl_lock);
	return r;
}

static int xvm_iommu_get_attach(struct xvm_device *dev,
				const struct xvm_device_attr *attr, void *val)
{
	struct xvm_iommu *io = dev->private;
	int r;

	mutex_lock(&io->lock);
	r = io->state == XVM_IOMMU_ATTACHED ? 0 : -ENODEV;
	if (!r)
		memcpy(val, &io->attach, sizeof(io->attach));
	mutex_unlock(&io->lock);
	return r;
}

/* CTRL/DETACH takes no value: addr must be 0. */
static int xvm_iommu_set_detach(struct xvm_device *dev,
				const struct xvm_device_attr *attr,
				const void *val)
{
	struct xvm_iommu *io = dev->private;
	int r = -ENODEV;

	if (attr->addr)
		return -EINVAL;
	mutex_lock(&io->ioctl_lock);
	if (io->state == XVM_IOMMU_ATTACHED) {
		xvm_iommu_stop(io);
		r = 0;
	}
	mutex_unlock(&io->ioctl_lock);
	return r;
}

static int xvm_iommu_get_info_attr(struct xvm_device *dev,
				   const struct xvm_device_attr *attr,
				   void *val)
{
	struct xvm_iommu *io = dev->private;
	int r;

	mutex_lock(&io->lock);
	r = xvm_iommu_get_info(io, attr->attr, val);
	mutex_unlock(&io->lock);
	return r;
}

static const struct xvm_attr_desc xvm_iommu_attrs[] = {
	{
		.group = XVM_IOMMU_GRP_CTRL,
		.attr_first = XVM_IOMMU_CTRL_ATTACH,
		.attr_last = XVM_IOMMU_CTRL_ATTACH,
		.size = sizeof(struct xvm_iommu_attach),
		.flags = XVM_ATTR_SET_RAWIO,	/* the attach, not the read */
		.get = xvm_iommu_get_attach,
		.set = xvm_iommu_set_attach,
	}, {
		.group = XVM_IOMMU_GRP_CTRL,
		.attr_first = XVM_IOMMU_CTRL_DETACH,
		.attr_last = XVM_IOMMU_CTRL_DETACH,
		.set = xvm_iommu_set_detach,
	}, {
		.group = XVM_IOMMU_GRP_INFO,
		.attr_last = XVM_IOMMU_INFO_MAX,
		.size = sizeof(u64),
		.get = xvm_iommu_get_info_attr,
	},
};

/* Lifetime. */

static int xvm_iommu_create(struct xvm_device *dev)
{
	struct xvm_iommu *io;

	io = kzalloc(sizeof(*io), GFP_KERNEL_ACCOUNT);
	if (!io)
		return -ENOMEM;
	io->vm = dev->vm;
	mutex_init(&io->ioctl_lock);
	mutex_init(&io->lock);
	io->state = XVM_IOMMU_DETACHED;
	io->areas = RB_ROOT_CACHED;
	io->listener.ops = &xvm_iommu_listener_ops;
	dev->private = io;
	return 0;
}

static void xvm_iommu_free(struct xvm_iommu *io)
{
	mutex_destroy(&io->lock);
	mutex_destroy(&io->ioctl_lock);
	kfree(io);
}

/*
 * The fd was closed, or the VM is going away: no ioctl of this device can
 * run.  Hand the device back, unpin everything and free.
 */
static void xvm_iommu_destroy(struct xvm_device *dev)
{
	struct xvm_iommu *io = dev->private;

	xvm_iommu_stop(io);
	xvm_iommu_free(io);
}

static const struct xvm_device_ops xvm_iommu_ops = {
	.name		= "xvm-iommu",
	.type		= XVM_DEV_TYPE_IOMMU,
	.owner		= THIS_MODULE,
	.create		= xvm_iommu_create,
	.destroy	= xvm_iommu_destroy,
	.release	= xvm_iommu_destroy,	/* closing the fd detaches */
	.attrs		= xvm_iommu_attrs,
	.nr_attrs	= ARRAY_SIZE(xvm_iommu_attrs),
	.ioctl		= xvm_iommu_ioctl,
};

static int __init xvm_iommu_init(void)
{
	return xvm_register_device_ops(&xvm_iommu_ops);
}

static void __exit xvm_iommu_exit(void)
{
	xvm_unregister_device_ops(&xvm_iommu_ops);
}

module_init(xvm_iommu_init);
module_exit(xvm_iommu_exit);

MODULE_AUTHOR("xvm developers");
MODULE_VERSION(XVM_VERSION);
MODULE_DESCRIPTION("xvm: typed IOMMU mapping of guest memory");
MODULE_LICENSE("GPL");
XVM_IMPORT_NS();
