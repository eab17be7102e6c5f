// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-vgic.ko: XVM_DEV_TYPE_ARM_VGIC_V3, a GICv3 distributor and
 * redistributors with KVM's device API (KVM_DEV_TYPE_ARM_VGIC_V3).
 *
 * Life cycle, as KVM's:
 *  1. create the device (vCPUs may exist already, or come later);
 *  2. ADDR (distributor, redistributor regions), NR_IRQS, in any order;
 *  3. CTRL/INIT sizes the interrupt state and freezes the vCPU set (a vCPU
 *     created later is refused with EBUSY);
 *  4. the first CPU-interface ioctl of any vCPU ("first run", KVM's
 *     kvm_vgic_map_resources()) checks, in KVM's order, that every vCPU
 *     has a redistributor and the distributor has an address (ENXIO
 *     otherwise), then that INIT was done (EBUSY otherwise).
 * The device lives until the VM goes (no ->release, as KVM's vGIC).
 *
 * vCPU affinity: MPIDR.Aff0 = id[3:0], Aff1 = id[11:4], Aff2 = id[19:12]
 * (KVM's reset_mpidr()); vCPU ids are below XVM_MAX_VCPU_ID, so Aff2 is 0.
 *
 * Locking: see vgic.h.  vgic->config_lock serialises the attribute calls,
 * the vCPU hooks (which the core calls under vm->lock) and the first-run
 * check; INIT and the ADDR writes take vm->lock first, so that no vCPU is
 * half-created while they run.
 */
#include <linux/module.h>
#include <linux/slab.h>

#include "vgic.h"
#include "xvm_compat.h"

/* The visible vCPU with this id, or NULL; any context. */
struct xvm_vgic_cpu *xvm_vgic_cpu_by_id(struct xvm_vgic *vgic, u32 id)
{
	struct xvm_vgic_cpu *c;

	if (id >= XVM_MAX_VCPU_ID)
		return NULL;
	id = array_index_nospec(id, XVM_MAX_VCPU_ID);
	c = READ_ONCE(vgic->by_id[id]);
	if (!c || READ_ONCE(c->id) != id || c->index >= xvm_nr_vcpus(vgic->vm))
		return NULL;
	return c;
}

/*
 * The visible vCPU with this affinity (Aff3.Aff2.Aff1.Aff0), or NULL.
 * Before INIT, entries can be freed (by a vCPU creation that aborts):
 * callers hold config_lock.  After INIT they never change, and MMIO and CPU-interface paths, which
 * only work after INIT, may look up without it.
 */
struct xvm_vgic_cpu *xvm_vgic_cpu_by_aff(struct xvm_vgic *vgic, u32 aff)
{
	u32 aff0 = aff & 0xff, aff1 = (aff >> 8) & 0xff;
	u32 aff2 = (aff >> 16) & 0xff, aff3 = aff >> 24;

	if (aff0 > 0xf || aff3)
		return NULL;
	return xvm_vgic_cpu_by_id(vgic, aff0 | (aff1 << 4) | (aff2 << 12));
}

static void vgic_cpu_set_id(struct xvm_vgic *vgic, struct xvm_vgic_cpu *c,
			    u32 id)
{
	if (vgic->by_id[c->id] == c)
		WRITE_ONCE(vgic->by_id[c->id], NULL);
	WRITE_ONCE(c->id, id);
	WRITE_ONCE(c->aff, xvm_vgic_id_to_aff(id));
	/* GICR_TYPER's constant part, so that an access only adds Last. */
	WRITE_ONCE(c->typer,
		   (u64)c->aff << XVM_GICR_TYPER_AFF_SHIFT |
		   (u64)(id & 0xffff) << XVM_GICR_TYPER_PROC_SHIFT);
	WRITE_ONCE(vgic->by_id[id], c);
}

/* The vgic state of a vCPU being created, with its slot if one is free. */
static int vgic_cpu_add(struct xvm_vgic *vgic, struct xvm_vcpu *vcpu)
{
	struct xvm_vgic_cpu *c;
	int ret;

	lockdep_assert_held(&vgic->config_lock);
	if (WARN_ON_ONCE(vcpu->index != vgic->nr_cpus))
		return -EINVAL;

	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return -ENOMEM;
	c->vgic = vgic;
	c->index = vcpu->index;
	raw_spin_lock_init(&c->lock);
	xvm_vgic_irq_reset_private(c);
	vgic_cpu_set_id(vgic, c, vcpu->id);
	vgic->cpus[c->index] = c;
	WRITE_ONCE(vgic->nr_cpus, vgic->nr_cpus + 1);

	ret = xvm_vgic_cpu_take_slot(c);
	if (ret) {
		WRITE_ONCE(vgic->nr_cpus, vgic->nr_cpus - 1);
		vgic->cpus[c->index] = NULL;
		WRITE_ONCE(vgic->by_id[c->id], NULL);
		kfree(c);
	}
	return ret;
}

/* ->vcpu_prepare: under vm->lock, so no region can be added meanwhile. */
static int xvm_vgic_vcpu_prepare(struct xvm_device *dev, struct xvm_vcpu *vcpu)
{
	struct xvm_vgic *vgic = dev->private;
	int ret = -EBUSY;

	mutex_lock(&vgic->config_lock);
	if (!vgic->initialized)
		ret = vgic_cpu_add(vgic, vcpu);
	mutex_unlock(&vgic->config_lock);
	return ret;
}

/* ->vcpu_abort: the vCPU never became visible; take back what it got. */
static void xvm_vgic_vcpu_abort(struct xvm_device *dev, struct xvm_vcpu *vcpu)
{
	struct xvm_vgic *vgic = dev->private;
	struct xvm_vgic_cpu *c;

	mutex_lock(&vgic->config_lock);
	c = vgic->cpus[vcpu->index];
	xvm_vgic_cpu_drop_slot(c);
	WRITE_ONCE(vgic->by_id[c->id], NULL);
	vgic->cpus[c->index] = NULL;
	WRITE_ONCE(vgic->nr_cpus, vgic->nr_cpus - 1);
	mutex_unlock(&vgic->config_lock);
	/* MMIO readers may still see its frame: vm->lock is held. */
	kfree_rcu(c, rcu);
}

/*
 * CTRL/INIT, no value, as KVM's vgic_init(): freezes NR_IRQS (256 unless
 * set) and the vCPUs, resets the SPIs (routed to affinity 0).  Idempotent.
 */
static int vgic_init(struct xvm_device *dev,
		     const struct xvm_device_attr *attr, const void *unused)
{
	struct xvm_vgic *vgic = dev->private;
	struct xvm_vm *vm = vgic->vm;
	unsigned long flags;
	u32 i, n;

	mutex_lock(&vm->lock);
	mutex_lock(&vgic->config_lock);
	if (vgic->initialized)
		goto out;

	vgic->nr_irqs = vgic->nr_irqs_set ?: XVM_VGIC_NR_IRQS_DEFAULT;
	raw_spin_lock_irqsave(&vgic->lock, flags);
	n = min_t(u32, vgic->nr_irqs, VGIC_MAX_INTID) - VGIC_NR_PRIVATE;
	for (i = 0; i < n; i++)
		xvm_vgic_set_target(vgic, &vgic->spis[i], 0);
	raw_spin_unlock_irqrestore(&vgic->lock, flags);
	/* Publish nr_irqs and the routing before initialized. */
	smp_store_release(&vgic->initialized, true);
out:
	mutex_unlock(&vgic->config_lock);
	mutex_unlock(&vm->lock);
	return 0;
}

/* The first-run check (KVM's vgic_v3_map_resources()); then ready. */
int xvm_vgic_ready(struct xvm_vgic *vgic)
{
	int ret = 0;
	u32 i;

	/* Pairs with the release below: ready is never cleared. */
	if (likely(smp_load_acquire(&vgic->ready)))
		return 0;

	mutex_lock(&vgic->config_lock);
	if (vgic->ready)
		goto out;
	/* KVM's order: missing frames (ENXIO) before a missing INIT (EBUSY). */
	ret = -ENXIO;
	for (i = 0; i < vgic->nr_cpus; i++)
		if (!vgic->cpus[i]->rdreg)
			goto out;
	if (vgic->dist_base == VGIC_ADDR_UNDEF)
		goto out;
	ret = -EBUSY;
	if (!vgic->initialized)
		goto out;
	ret = 0;
	/* Pairs with the acquire above. */
	smp_store_release(&vgic->ready, true);
out:
	mutex_unlock(&vgic->config_lock);
	return ret;
}

/*
 * Attributes.  The core checked the group and the attr range and buffers
 * the value; the handlers take config_lock (and vm->lock first for what
 * must not race a vCPU creation).
 */

/* REDIST_REGION, KVM's encoding: index, flags, base and count in val. */
static int vgic_add_region(struct xvm_vgic *vgic, u64 val)
{
	u32 count = (val & XVM_VGIC_V3_RDIST_COUNT_MASK) >>
		    XVM_VGIC_V3_RDIST_COUNT_SHIFT;

	if (!count || (val & XVM_VGIC_V3_RDIST_FLAGS_MASK))
		return -EINVAL;
	return xvm_vgic_add_rdreg(vgic, val & XVM_VGIC_V3_RDIST_INDEX_MASK,
				  val & XVM_VGIC_V3_RDIST_BASE_MASK, count);
}

/* Group ADDR, set: vm->lock first, so no vCPU is half-created meanwhile. */
static int vgic_set_addr(struct xvm_device *dev,
			 const struct xvm_device_attr *attr, const void *val)
{
	struct xvm_vgic *vgic = dev->private;
	u64 addr = *(const u64 *)val;
	int ret;

	mutex_lock(&vgic->vm->lock);
	mutex_lock(&vgic->config_lock);
	if (attr->attr == XVM_VGIC_V3_ADDR_TYPE_DIST)
		ret = xvm_vgic_set_dist(vgic, addr);
	else if (attr->attr == XVM_VGIC_V3_ADDR_TYPE_REDIST)
		ret = xvm_vgic_add_rdreg(vgic, 0, addr, 0);
	else
		ret = vgic_add_region(vgic, addr);
	mutex_unlock(&vgic->config_lock);
	mutex_unlock(&vgic->vm->lock);
	return ret;
}

/* Group ADDR, get of DIST and the legacy REDIST: ~0 if unset. */
static int vgic_get_addr(struct xvm_device *dev,
			 const struct xvm_device_attr *attr, void *val)
{
	struct xvm_vgic *vgic = dev->private;
	struct xvm_vgic_rdreg *r;

	mutex_lock(&vgic->config_lock);
	if (attr->attr == XVM_VGIC_V3_ADDR_TYPE_DIST) {
		*(u64 *)val = vgic->dist_base;
	} else {
		r = xvm_vgic_rdreg(vgic, 0);
		*(u64 *)val = r ? r->base : VGIC_ADDR_UNDEF;
	}
	mutex_unlock(&vgic->config_lock);
	return 0;
}

/* Group ADDR, get of a REDIST_REGION: the index comes in the value. */
static int vgic_get_region(struct xvm_device *dev,
			   const struct xvm_device_attr *attr, void *val)
{
	u32 index = *(u64 *)val & XVM_VGIC_V3_RDIST_INDEX_MASK;
	struct xvm_vgic *vgic = dev->private;
	struct xvm_vgic_rdreg *r;
	int ret = -ENOENT;

	mutex_lock(&vgic->config_lock);
	r = xvm_vgic_rdreg(vgic, index);
	if (r) {
		*(u64 *)val = index | r->base |
			      ((u64)r->count << XVM_VGIC_V3_RDIST_COUNT_SHIFT);
		ret = 0;
	}
	mutex_unlock(&vgic->config_lock);
	return ret;
}

/* Group NR_IRQS, as KVM: 64..1024 in steps of 32, set once, before INIT. */
static int vgic_set_nr_irqs(struct xvm_device *dev,
			    const struct xvm_device_attr *attr,
			    const void *val)
{
	struct xvm_vgic *vgic = dev->private;
	u32 nr = *(const u32 *)val;
	int ret = 0;

	if (nr < XVM_VGIC_NR_IRQS_MIN || nr > XVM_VGIC_NR_IRQS_MAX || nr % 32)
		return -EINVAL;

	mutex_lock(&vgic->config_lock);
	if (vgic->initialized || vgic->nr_irqs_set)
		ret = -EBUSY;
	else
		vgic->nr_irqs_set = nr;
	mutex_unlock(&vgic->config_lock);
	return ret;
}

static int vgic_get_nr_irqs(struct xvm_device *dev,
			    const struct xvm_device_attr *attr, void *val)
{
	struct xvm_vgic *vgic = dev->private;
	u32 nr;

	/* As KVM (nr_spis + 32): 32 until set or INIT, i.e. no SPIs yet. */
	mutex_lock(&vgic->config_lock);
	nr = vgic->initialized ? vgic->nr_irqs : vgic->nr_irqs_set;
	mutex_unlock(&vgic->config_lock);
	*(u32 *)val = nr ?: VGIC_NR_PRIVATE;
	return 0;
}

/*
 * DIST_REGS / REDIST_REGS: a 32-bit register, as a guest access would see
 * it.  REDIST_REGS names the vCPU by affinity (EINVAL if none); the
 * affinity of DIST_REGS is ignored.  ENXIO if the offset is not a register
 * with 32-bit accesses.  Under config_lock: an aborted vCPU creation frees
 * its entry, and must not do so under a lookup.
 */
static int vgic_regs_lookup(struct xvm_vgic *vgic,
			    const struct xvm_device_attr *attr,
			    const struct xvm_vgic_regs **t,
			    struct xvm_vgic_cpu **c)
{
	lockdep_assert_held(&vgic->config_lock);
	*t = &xvm_vgic_dist_regs;
	*c = NULL;
	if (attr->group == XVM_DEV_ARM_VGIC_GRP_REDIST_REGS) {
		*t = &xvm_vgic_rdist_regs;
		*c = xvm_vgic_cpu_by_aff(vgic, attr->attr >>
					 XVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT);
		if (!*c)
			return -EINVAL;
	}
	if (!xvm_vgic_uaccess_valid(*t, attr->attr &
				    XVM_DEV_ARM_VGIC_OFFSET_MASK))
		return -ENXIO;
	return 0;
}

static int vgic_regs_has(struct xvm_device *dev,
			 const struct xvm_device_attr *attr)
{
	struct xvm_vgic *vgic = dev->private;
	const struct xvm_vgic_regs *t;
	struct xvm_vgic_cpu *c;
	int ret;

	mutex_lock(&vgic->config_lock);
	ret = vgic_regs_lookup(vgic, attr, &t, &c);
	mutex_unlock(&vgic->config_lock);
	return ret;
}

/*
 * The access, EBUSY before INIT.  The lookup vgic_regs_has() did for the
 * core is repeated under the same hold of config_lock as the access: the
 * vCPUs can change in between, until INIT.
 */
static int vgic_regs_access(struct xvm_vgic *vgic,
			    const struct xvm_device_attr *attr, bool write,
			    u32 *val32)
{
	const struct xvm_vgic_regs *t;
	struct xvm_vgic_cpu *c;
	u64 val = *val32;
	int ret;

	mutex_lock(&vgic->config_lock);
	ret = vgic_regs_lookup(vgic, attr, &t, &c);
	if (!ret && !vgic->initialized)
		ret = -EBUSY;
	if (!ret)
		ret = xvm_vgic_uaccess(t, vgic, c,
				       attr->attr & XVM_DEV_ARM_VGIC_OFFSET_MASK,
				       write, &val);
	mutex_unlock(&vgic->config_lock);
	*val32 = val;
	return ret;
}

static int vgic_get_reg(struct xvm_device *dev,
			const struct xvm_device_attr *attr, void *val)
{
	return vgic_regs_access(dev->private, attr, false, val);
}

static int vgic_set_reg(struct xvm_device *dev,
			const struct xvm_device_attr *attr, const void *val)
{
	u32 val32 = *(const u32 *)val;

	return vgic_regs_access(dev->private, attr, true, &val32);
}

/* KVM's groups; the offsets and vCPUs of the register groups vary. */
static const struct xvm_attr_desc xvm_vgic_attrs[] = {
	{
		.group = XVM_DEV_ARM_VGIC_GRP_ADDR,
		.attr_first = XVM_VGIC_V3_ADDR_TYPE_DIST,
		.attr_last = XVM_VGIC_V3_ADDR_TYPE_REDIST,
		.size = sizeof(u64),
		.get = vgic_get_addr,
		.set = vgic_set_addr,
	}, {
		.group = XVM_DEV_ARM_VGIC_GRP_ADDR,
		.flags = XVM_ATTR_GET_READS,	/* the index to read */
		.attr_first = XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION,
		.attr_last = XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION,
		.size = sizeof(u64),
		.get = vgic_get_region,
		.set = vgic_set_addr,
	}, {
		.group = XVM_DEV_ARM_VGIC_GRP_DIST_REGS,
		.attr_last = U64_MAX,		/* vgic_regs_has() */
		.size = sizeof(u32),
		.has = vgic_regs_has,
		.get = vgic_get_reg,
		.set = vgic_set_reg,
	}, {
		.group = XVM_DEV_ARM_VGIC_GRP_NR_IRQS,
		.size = sizeof(u32),
		.get = vgic_get_nr_irqs,
		.set = vgic_set_nr_irqs,
	}, {
		.group = XVM_DEV_ARM_VGIC_GRP_CTRL,
		.attr_first = XVM_DEV_ARM_VGIC_CTRL_INIT,
		.attr_last = XVM_DEV_ARM_VGIC_CTRL_INIT,	/* no value */
		.set = vgic_init,
	}, {
		.group = XVM_DEV_ARM_VGIC_GRP_CTRL,
		.attr_first = XVM_DEV_ARM_VGIC_CTRL_STATE_VERSION,
		.attr_last = XVM_DEV_ARM_VGIC_CTRL_STATE_VERSION,
		.size = sizeof(u64),
		.get = xvm_vgic_get_state_version,
	}, {
		.group = XVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
		.attr_last = U64_MAX,		/* vgic_regs_has() */
		.size = sizeof(u32),
		.has = vgic_regs_has,
		.get = vgic_get_reg,
		.set = vgic_set_reg,
	}, {
		/* vgic-state.c: save and restore */
		.group = XVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS,
		.attr_last = U64_MAX,		/* xvm_vgic_sysreg_has() */
		.size = sizeof(u64),
		.has = xvm_vgic_sysreg_has,
		.get = xvm_vgic_sysreg_get,
		.set = xvm_vgic_sysreg_set,
	}, {
		.group = XVM_DEV_ARM_VGIC_GRP_LEVEL_INFO,
		.attr_last = U64_MAX,		/* xvm_vgic_level_has() */
		.size = sizeof(u32),
		.has = xvm_vgic_level_has,
		.get = xvm_vgic_level_get,
		.set = xvm_vgic_level_set,
	},
};

/* Called under vm->lock: the vCPUs that exist already are stable. */
static int xvm_vgic_create(struct xvm_device *dev)
{
	struct xvm_vm *vm = dev->vm;
	struct xvm_vgic *vgic;
	u32 i, n = xvm_nr_vcpus(vm);
	int ret = 0;

	vgic = kvzalloc(sizeof(*vgic), GFP_KERNEL_ACCOUNT);
	if (!vgic)
		return -ENOMEM;
	vgic->dev = dev;
	vgic->vm = vm;
	mutex_init(&vgic->config_lock);
	raw_spin_lock_init(&vgic->lock);
	xa_init(&vgic->rdregs);
	vgic->dist_base = VGIC_ADDR_UNDEF;
	xvm_vgic_irq_reset_spis(vgic);

	mutex_lock(&vgic->config_lock);
	for (i = 0; i < n && !ret; i++)
		ret = vgic_cpu_add(vgic, xvm_get_vcpu(vm, i));
	mutex_unlock(&vgic->config_lock);
	if (ret) {
		for (i = 0; i < vgic->nr_cpus; i++)
			kfree(vgic->cpus[i]);
		mutex_destroy(&vgic->config_lock);
		kvfree(vgic);
		return ret;
	}
	dev->private = vgic;
	return 0;
}

static void xvm_vgic_destroy(struct xvm_device *dev)
{
	struct xvm_vgic *vgic = dev->private;
	u32 i;

	xvm_vgic_unmap_all(vgic);
	xvm_mmio_synchronize();
	for (i = 0; i < vgic->nr_cpus; i++)
		kfree(vgic->cpus[i]);
	xvm_vgic_free_rdregs(vgic);
	mutex_destroy(&vgic->config_lock);
	kvfree(vgic);
}

static const struct xvm_device_ops xvm_vgic_ops = {
	.name		= "xvm-vgic-v3",
	.type		= XVM_DEV_TYPE_ARM_VGIC_V3,
	.owner		= THIS_MODULE,
	.create		= xvm_vgic_create,
	.destroy	= xvm_vgic_destroy,
	.vcpu_prepare	= xvm_vgic_vcpu_prepare,
	.vcpu_abort	= xvm_vgic_vcpu_abort,
	.attrs		= xvm_vgic_attrs,
	.nr_attrs	= ARRAY_SIZE(xvm_vgic_attrs),
	.ioctl		= xvm_vgic_dev_ioctl,
	.vcpu_ioctl	= xvm_vgic_vcpu_ioctl,
};

static int __init xvm_vgic_init(void)
{
	int ret;

	ret = xvm_vgic_regs_init(&xvm_vgic_dist_regs);
	if (!ret)
		ret = xvm_vgic_regs_init(&xvm_vgic_rdist_regs);
	if (!ret)
		ret = xvm_register_device_ops(&xvm_vgic_ops);
	return ret;
}

static void __exit xvm_vgic_exit(void)
{
	xvm_unregister_device_ops(&xvm_vgic_ops);
}

module_init(xvm_vgic_init);
module_exit(xvm_vgic_exit);

MODULE_AUTHOR("xvm developers");
MODULE_VERSION(XVM_VERSION);
MODULE_DESCRIPTION("xvm: GICv3 distributor and redistributors");
MODULE_LICENSE("GPL");
XVM_IMPORT_NS();
