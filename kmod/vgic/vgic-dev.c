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
#include <linux/uaccess.h>

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
 * CTRL/INIT, as KVM's vgic_init(): freezes NR_IRQS (256 unless set) and
 * the vCPUs, resets the SPIs (routed to affinity 0).  Idempotent.
 */
static int vgic_init(struct xvm_vgic *vgic)
{
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

/* ADDR/REDIST_REGION, KVM's encoding: index, flags, base and count in val. */
static int vgic_attr_region(struct xvm_vgic *vgic, u64 *val, bool write)
{
	u32 index = *val & XVM_VGIC_V3_RDIST_INDEX_MASK;
	u32 count = (*val & XVM_VGIC_V3_RDIST_COUNT_MASK) >>
		    XVM_VGIC_V3_RDIST_COUNT_SHIFT;
	struct xvm_vgic_rdreg *r;

	lockdep_assert_held(&vgic->config_lock);
	if (write) {
		if (!count || (*val & XVM_VGIC_V3_RDIST_FLAGS_MASK))
			return -EINVAL;
		return xvm_vgic_add_rdreg(vgic, index,
					  *val & XVM_VGIC_V3_RDIST_BASE_MASK,
					  count);
	}
	r = xvm_vgic_rdreg(vgic, index);
	if (!r)
		return -ENOENT;
	*val = index | r->base | ((u64)r->count << XVM_VGIC_V3_RDIST_COUNT_SHIFT);
	return 0;
}

/* Group ADDR */
static int vgic_attr_addr(struct xvm_vgic *vgic, struct xvm_device_attr *attr,
			  bool write)
{
	u64 __user *uaddr = u64_to_user_ptr(attr->addr);
	struct xvm_vgic_rdreg *r;
	u64 val = 0;
	int ret = 0;

	switch (attr->attr) {
	case XVM_VGIC_V3_ADDR_TYPE_DIST:
	case XVM_VGIC_V3_ADDR_TYPE_REDIST:
	case XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION:
		break;
	default:
		return -ENXIO;
	}
	/* Reading a region takes its index from the value. */
	if (write || attr->attr == XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION)
		if (get_user(val, uaddr))
			return -EFAULT;

	if (write)
		mutex_lock(&vgic->vm->lock);
	mutex_lock(&vgic->config_lock);
	switch (attr->attr) {
	case XVM_VGIC_V3_ADDR_TYPE_DIST:
		if (write)
			ret = xvm_vgic_set_dist(vgic, val);
		else
			val = vgic->dist_base;
		break;
	case XVM_VGIC_V3_ADDR_TYPE_REDIST:
		if (write) {
			ret = xvm_vgic_add_rdreg(vgic, 0, val, 0);
			break;
		}
		r = xvm_vgic_rdreg(vgic, 0);
		val = r ? r->base : VGIC_ADDR_UNDEF;
		break;
	case XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION:
		ret = vgic_attr_region(vgic, &val, write);
		break;
	}
	mutex_unlock(&vgic->config_lock);
	if (write)
		mutex_unlock(&vgic->vm->lock);

	if (!ret && !write && put_user(val, uaddr))
		ret = -EFAULT;
	return ret;
}

/* Group NR_IRQS, as KVM: 64..1024 in steps of 32, set once, before INIT. */
static int vgic_attr_set_nr_irqs(struct xvm_vgic *vgic,
				 struct xvm_device_attr *attr)
{
	u32 __user *uaddr = u64_to_user_ptr(attr->addr);
	u32 val;
	int ret = 0;

	if (attr->attr)
		return -ENXIO;
	if (get_user(val, uaddr))
		return -EFAULT;
	if (val < XVM_VGIC_NR_IRQS_MIN || val > XVM_VGIC_NR_IRQS_MAX ||
	    val % 32)
		return -EINVAL;

	mutex_lock(&vgic->config_lock);
	if (vgic->initialized || vgic->nr_irqs_set)
		ret = -EBUSY;
	else
		vgic->nr_irqs_set = val;
	mutex_unlock(&vgic->config_lock);
	return ret;
}

static int vgic_attr_get_nr_irqs(struct xvm_vgic *vgic,
				 struct xvm_device_attr *attr)
{
	u32 val;

	if (attr->attr)
		return -ENXIO;
	/* As KVM (nr_spis + 32): 32 until set or INIT, i.e. no SPIs yet. */
	mutex_lock(&vgic->config_lock);
	val = vgic->initialized ? vgic->nr_irqs : vgic->nr_irqs_set;
	mutex_unlock(&vgic->config_lock);
	val = val ?: VGIC_NR_PRIVATE;
	return put_user(val, (u32 __user *)u64_to_user_ptr(attr->addr)) ?
	       -EFAULT : 0;
}

/*
 * DIST_REGS / REDIST_REGS: a 32-bit register, as a guest access would see
 * it.  REDIST_REGS names the vCPU by affinity (EINVAL if none); the
 * affinity of DIST_REGS is ignored, as in KVM.  EBUSY before INIT.
 */
/*
 * The vCPU is looked up under config_lock: an aborted vCPU creation frees
 * its entry, and must not do so under a lookup.
 */
static int vgic_attr_regs(struct xvm_vgic *vgic, struct xvm_device_attr *attr,
			  bool write, bool check_only)
{
	u32 __user *uaddr = u64_to_user_ptr(attr->addr);
	u32 offset = attr->attr & XVM_DEV_ARM_VGIC_OFFSET_MASK;
	const struct xvm_vgic_regs *t = &xvm_vgic_dist_regs;
	struct xvm_vgic_cpu *c = NULL;
	u32 val32 = 0;
	u64 val;
	int ret;

	mutex_lock(&vgic->config_lock);
	if (attr->group == XVM_DEV_ARM_VGIC_GRP_REDIST_REGS) {
		t = &xvm_vgic_rdist_regs;
		c = xvm_vgic_cpu_by_aff(vgic, attr->attr >>
					XVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT);
		ret = -EINVAL;
		if (!c)
			goto out;
	}
	ret = -ENXIO;
	if (!xvm_vgic_uaccess_valid(t, offset))
		goto out;
	ret = 0;
	if (check_only)
		goto out;
	ret = -EFAULT;
	if (write && get_user(val32, uaddr))
		goto out;

	ret = -EBUSY;
	if (vgic->initialized) {
		val = val32;
		ret = xvm_vgic_dispatch(t, vgic, c, offset, 4, write, &val);
		val32 = val;
	}
out:
	mutex_unlock(&vgic->config_lock);

	if (!ret && !write && !check_only && put_user(val32, uaddr))
		ret = -EFAULT;
	return ret;
}

static int xvm_vgic_set_attr(struct xvm_device *dev,
			     struct xvm_device_attr *attr)
{
	struct xvm_vgic *vgic = dev->private;

	switch (attr->group) {
	case XVM_DEV_ARM_VGIC_GRP_ADDR:
		return vgic_attr_addr(vgic, attr, true);
	case XVM_DEV_ARM_VGIC_GRP_NR_IRQS:
		return vgic_attr_set_nr_irqs(vgic, attr);
	case XVM_DEV_ARM_VGIC_GRP_CTRL:
		if (attr->attr == XVM_DEV_ARM_VGIC_CTRL_INIT)
			return vgic_init(vgic);
		return -ENXIO;
	case XVM_DEV_ARM_VGIC_GRP_DIST_REGS:
	case XVM_DEV_ARM_VGIC_GRP_REDIST_REGS:
		return vgic_attr_regs(vgic, attr, true, false);
	default:
		return -ENXIO;
	}
}

static int xvm_vgic_get_attr(struct xvm_device *dev,
			     struct xvm_device_attr *attr)
{
	struct xvm_vgic *vgic = dev->private;

	switch (attr->group) {
	case XVM_DEV_ARM_VGIC_GRP_ADDR:
		return vgic_attr_addr(vgic, attr, false);
	case XVM_DEV_ARM_VGIC_GRP_NR_IRQS:
		return vgic_attr_get_nr_irqs(vgic, attr);
	case XVM_DEV_ARM_VGIC_GRP_DIST_REGS:
	case XVM_DEV_ARM_VGIC_GRP_REDIST_REGS:
		return vgic_attr_regs(vgic, attr, false, false);
	default:
		return -ENXIO;
	}
}

static int xvm_vgic_has_attr(struct xvm_device *dev,
			     struct xvm_device_attr *attr)
{
	struct xvm_vgic *vgic = dev->private;

	switch (attr->group) {
	case XVM_DEV_ARM_VGIC_GRP_ADDR:
		switch (attr->attr) {
		case XVM_VGIC_V3_ADDR_TYPE_DIST:
		case XVM_VGIC_V3_ADDR_TYPE_REDIST:
		case XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION:
			return 0;
		}
		return -ENXIO;
	case XVM_DEV_ARM_VGIC_GRP_NR_IRQS:
		return attr->attr ? -ENXIO : 0;
	case XVM_DEV_ARM_VGIC_GRP_CTRL:
		return attr->attr == XVM_DEV_ARM_VGIC_CTRL_INIT ? 0 : -ENXIO;
	case XVM_DEV_ARM_VGIC_GRP_DIST_REGS:
	case XVM_DEV_ARM_VGIC_GRP_REDIST_REGS:
		return vgic_attr_regs(vgic, attr, false, true);
	default:
		return -ENXIO;
	}
}

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
	.set_attr	= xvm_vgic_set_attr,
	.get_attr	= xvm_vgic_get_attr,
	.has_attr	= xvm_vgic_has_attr,
	.ioctl		= xvm_vgic_dev_ioctl,
	.vcpu_ioctl	= xvm_vgic_vcpu_ioctl,
};

static int __init xvm_vgic_init(void)
{
	int ret;

	ret = xvm_vgic_regs_check(&xvm_vgic_dist_regs);
	if (!ret)
		ret = xvm_vgic_regs_check(&xvm_vgic_rdist_regs);
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
