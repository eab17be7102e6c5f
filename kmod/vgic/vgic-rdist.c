// SPDX-License-Identifier: GPL-2.0
/*
 * The distributor address and the redistributor regions (attribute group
 * ADDR), and the redistributor slot of every vCPU.
 *
 * Regions are numbered 0, 1, 2, ... and kept in vgic->rdregs by index.
 * Either one legacy region (ADDR/REDIST: count 0, one slot per vCPU,
 * growing as vCPUs are created) or explicit regions (ADDR/REDIST_REGION,
 * count slots each), never both.  vCPUs take slots in creation order:
 * regions fill in index order, and a region added later first serves the
 * vCPUs still without a slot, oldest first.  Each slot is one 128 KiB
 * range on the VM's bus (RD_base + SGI_base), registered when the vCPU
 * takes the slot.
 *
 * Locking: everything here runs under vgic->config_lock; MMIO handlers
 * read the slots lock-free with xvm_vgic_rd_is_last() (see vgic.h).
 */
#include <linux/slab.h>

#include "vgic.h"

#define RD_SIZE		XVM_VGIC_V3_REDIST_SIZE

static bool vgic_overlap(u64 a, u64 a_size, u64 b, u64 b_size)
{
	return a < b + b_size && b < a + a_size;
}

/* The bytes a region spans: a legacy region has one slot per vCPU. */
static u64 vgic_rdreg_size(struct xvm_vgic *vgic, struct xvm_vgic_rdreg *r)
{
	return (u64)(r->count ? r->count : vgic->nr_cpus) * RD_SIZE;
}

static bool vgic_rdreg_full(struct xvm_vgic_rdreg *r)
{
	return r->count && r->free_index >= r->count;
}

struct xvm_vgic_rdreg *xvm_vgic_rdreg(struct xvm_vgic *vgic, u32 index)
{
	lockdep_assert_held(&vgic->config_lock);
	return xa_load(&vgic->rdregs, index);
}

int xvm_vgic_set_dist(struct xvm_vgic *vgic, u64 addr)
{
	struct xvm_vgic_rdreg *r;
	unsigned long i;
	int ret;

	lockdep_assert_held(&vgic->config_lock);

	/* KVM's vgic_check_iorange() order. */
	if (vgic->dist_base != VGIC_ADDR_UNDEF)
		return -EEXIST;
	if (!IS_ALIGNED(addr, SZ_64K))
		return -EINVAL;
	if (addr + XVM_VGIC_V3_DIST_SIZE < addr)
		return -EINVAL;
	if (!xvm_gpa_range_valid(vgic->vm, addr, XVM_VGIC_V3_DIST_SIZE))
		return -E2BIG;
	xa_for_each(&vgic->rdregs, i, r)
		if (vgic_overlap(addr, XVM_VGIC_V3_DIST_SIZE, r->base,
				 vgic_rdreg_size(vgic, r)))
			return -EINVAL;

	vgic->dist_mmio.base = addr;
	vgic->dist_mmio.size = XVM_VGIC_V3_DIST_SIZE;
	vgic->dist_mmio.ops = &xvm_vgic_dist_ops;
	ret = xvm_mmio_register(vgic->vm, &vgic->dist_mmio);
	if (ret)
		return ret;
	vgic->dist_base = addr;
	return 0;
}

/* Puts c in the next slot of r and its frames on the bus. */
static int vgic_assign_slot(struct xvm_vgic_cpu *c, struct xvm_vgic_rdreg *r)
{
	struct xvm_vgic *vgic = c->vgic;
	u64 base = r->base + (u64)r->free_index * RD_SIZE;
	int ret;

	/* The legacy region grows with the vCPUs: check the new slot. */
	if (!r->count) {
		if (base + RD_SIZE < base)
			return -EINVAL;
		if (vgic->dist_base != VGIC_ADDR_UNDEF &&
		    vgic_overlap(base, RD_SIZE, vgic->dist_base,
				 XVM_VGIC_V3_DIST_SIZE))
			return -EINVAL;
		if (!xvm_gpa_range_valid(vgic->vm, base, RD_SIZE))
			return -E2BIG;
	}

	c->mmio.base = base;
	c->mmio.size = RD_SIZE;
	c->mmio.ops = &xvm_vgic_rdist_ops;
	c->rdreg_index = r->free_index;
	WRITE_ONCE(c->rdreg, r);
	WRITE_ONCE(r->free_index, r->free_index + 1);
	ret = xvm_mmio_register(vgic->vm, &c->mmio);
	if (ret) {
		WRITE_ONCE(r->free_index, r->free_index - 1);
		WRITE_ONCE(c->rdreg, NULL);
	}
	return ret;
}

/*
 * Takes back the slot of c, which must be the last one its region gave.
 * MMIO readers may still see the frame: the caller frees c and the region
 * only after a grace period (xvm_mmio_synchronize() or kfree_rcu()).
 */
void xvm_vgic_cpu_drop_slot(struct xvm_vgic_cpu *c)
{
	struct xvm_vgic_rdreg *r = c->rdreg;

	if (!r)
		return;
	xvm_mmio_unregister(c->vgic->vm, &c->mmio);
	WRITE_ONCE(r->free_index, r->free_index - 1);
	WRITE_ONCE(c->rdreg, NULL);
}

/* Gives a new vCPU the next free slot, if a region has one. */
int xvm_vgic_cpu_take_slot(struct xvm_vgic_cpu *c)
{
	struct xvm_vgic *vgic = c->vgic;
	struct xvm_vgic_rdreg *r;

	lockdep_assert_held(&vgic->config_lock);

	/* Regions fill in index order: skip the full ones for good. */
	while (vgic->fill < vgic->nr_rdregs) {
		r = xa_load(&vgic->rdregs, vgic->fill);
		if (!vgic_rdreg_full(r))
			return vgic_assign_slot(c, r);
		vgic->fill++;
	}
	return 0;
}

/* Links r with the regions that end where it starts or start at its end. */
static void vgic_rdreg_link(struct xvm_vgic *vgic, struct xvm_vgic_rdreg *r)
{
	u64 end = r->base + vgic_rdreg_size(vgic, r);
	struct xvm_vgic_rdreg *q;
	unsigned long i;

	if (!r->count)
		return;		/* the legacy region is alone */
	xa_for_each(&vgic->rdregs, i, q) {
		if (q == r)
			continue;
		if (q->base + vgic_rdreg_size(vgic, q) == r->base)
			WRITE_ONCE(q->next, r);
		if (q->base == end)
			WRITE_ONCE(r->next, q);
	}
}

/* Where region index may go after the last one: KVM's order of checks. */
static int vgic_rdreg_check_index(struct xvm_vgic *vgic, u32 index, u32 count)
{
	struct xvm_vgic_rdreg *last = NULL;

	if (vgic->nr_rdregs)
		last = xa_load(&vgic->rdregs, vgic->nr_rdregs - 1);
	if (!last)
		return index != 0 ? -EINVAL : 0;
	if (!count && last->count)
		return -EINVAL;		/* legacy after explicit */
	if (!count)
		return -EEXIST;		/* a second legacy region */
	if (!last->count)
		return -EINVAL;		/* explicit after legacy */
	return index != last->index + 1 ? -EINVAL : 0;
}

/* [base, base + size) against the distributor, the regions, the VM's limit. */
static int vgic_rdreg_check_range(struct xvm_vgic *vgic, u64 base, u64 size)
{
	struct xvm_vgic_rdreg *r;
	unsigned long i;

	if (vgic->dist_base != VGIC_ADDR_UNDEF &&
	    vgic_overlap(base, size, vgic->dist_base, XVM_VGIC_V3_DIST_SIZE))
		return -EINVAL;
	xa_for_each(&vgic->rdregs, i, r)
		if (vgic_overlap(base, size, r->base, vgic_rdreg_size(vgic, r)))
			return -EINVAL;
	if (!IS_ALIGNED(base, SZ_64K))
		return -EINVAL;
	if (!xvm_gpa_range_valid(vgic->vm, base, size))
		return -E2BIG;
	return 0;
}

/*
 * Gives the vCPUs still without a slot one of r's, oldest first; on
 * failure takes back the ones given, and r is left unused.
 */
static int vgic_rdreg_serve_cpus(struct xvm_vgic *vgic,
				 struct xvm_vgic_rdreg *r)
{
	int ret = 0;
	u32 n;

	for (n = 0; n < vgic->nr_cpus && !vgic_rdreg_full(r); n++) {
		struct xvm_vgic_cpu *c = vgic->cpus[n];

		if (!c || c->rdreg)
			continue;
		ret = vgic_assign_slot(c, r);
		if (ret)
			break;
	}
	if (!ret)
		return 0;
	while (n--) {
		struct xvm_vgic_cpu *c = vgic->cpus[n];

		if (c && c->rdreg == r)
			xvm_vgic_cpu_drop_slot(c);
	}
	return ret;
}

/*
 * ADDR/REDIST (count 0) and ADDR/REDIST_REGION.  The checks and their
 * order are KVM's vgic_v3_alloc_redist_region() and vgic_check_iorange(),
 * as docs/api.md section 7.2 lists them; in addition an explicit region
 * may not overlap the distributor either, and an explicit region may not
 * follow the legacy one.
 */
int xvm_vgic_add_rdreg(struct xvm_vgic *vgic, u32 index, u64 base, u32 count)
{
	u64 size = (u64)(count ? count : vgic->nr_cpus) * RD_SIZE;
	struct xvm_vgic_rdreg *r;
	int ret;

	lockdep_assert_held(&vgic->config_lock);

	if (base + size < base)
		return -EINVAL;
	ret = vgic_rdreg_check_index(vgic, index, count);
	if (!ret)
		ret = vgic_rdreg_check_range(vgic, base, size);
	if (ret)
		return ret;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	r->index = index;
	r->base = base;
	r->count = count;
	ret = xa_insert(&vgic->rdregs, index, r, GFP_KERNEL_ACCOUNT);
	if (ret) {
		kfree(r);
		return ret;
	}
	ret = vgic_rdreg_serve_cpus(vgic, r);
	if (ret) {
		xa_erase(&vgic->rdregs, index);
		/* MMIO readers may still see it; config_lock is held. */
		kfree_rcu(r, rcu);
		return ret;
	}
	vgic->nr_rdregs++;
	vgic_rdreg_link(vgic, r);
	return 0;
}

/* Takes every frame off the bus (device teardown); the caller syncs. */
void xvm_vgic_unmap_all(struct xvm_vgic *vgic)
{
	u32 i;

	if (vgic->dist_base != VGIC_ADDR_UNDEF)
		xvm_mmio_unregister(vgic->vm, &vgic->dist_mmio);
	for (i = 0; i < vgic->nr_cpus; i++)
		if (vgic->cpus[i] && vgic->cpus[i]->rdreg)
			xvm_mmio_unregister(vgic->vm, &vgic->cpus[i]->mmio);
}

void xvm_vgic_free_rdregs(struct xvm_vgic *vgic)
{
	struct xvm_vgic_rdreg *r;
	unsigned long i;

	xa_for_each(&vgic->rdregs, i, r)
		kfree(r);
	xa_destroy(&vgic->rdregs);
}
