// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctls: the CPU interface of each vCPU (on the vCPU fd, forwarded by
 * the core) and the interrupt lines (on the device fd).
 *
 * Every CPU-interface ioctl first performs the first-run check
 * (xvm_vgic_ready(): ENXIO while a vCPU has no redistributor or the
 * distributor no address, then EBUSY before INIT, as KVM).  The line ioctl
 * only needs INIT (EBUSY).
 *
 * Locking: the core serialises the ioctls of one vCPU with vcpu->mutex;
 * the state itself is protected as vgic-irq.c describes.
 */
#include <linux/uaccess.h>

#include "vgic.h"

static void vgic_get_cpuif(struct xvm_vgic_cpu *c, struct xvm_vgic_cpuif *s)
{
	unsigned long flags;

	memset(s, 0, sizeof(*s));
	raw_spin_lock_irqsave(&c->lock, flags);
	s->pmr = c->pmr;
	s->ctlr = c->ctlr;
	s->rpr = xvm_vgic_rpr(c);
	s->apr = c->ap0r | c->ap1r;
	raw_spin_unlock_irqrestore(&c->lock, flags);
	s->notify_port = READ_ONCE(c->notify_port);
}

/* s's pad and reserved were checked, and ctlr's bits (the table). */
static int vgic_set_cpuif(struct xvm_vgic_cpu *c,
			  const struct xvm_vgic_cpuif *s)
{
	unsigned long flags;

	if (s->pmr > 0xff || s->notify_port >= XVM_EVTCHN_MAX_PORTS)
		return -EINVAL;
	raw_spin_lock_irqsave(&c->lock, flags);
	c->pmr = s->pmr & VGIC_PRI_MASK;
	c->ctlr = s->ctlr;
	raw_spin_unlock_irqrestore(&c->lock, flags);
	WRITE_ONCE(c->notify_port, s->notify_port);
	xvm_vgic_kick(c);
	return 0;
}

/* The line's flags were checked (the tables). */
static int vgic_check_line(const struct xvm_vgic_irq_line *l)
{
	return l->level > 1 ? -EINVAL : 0;
}

/*
 * The handlers of vgic_cpu_ioctls[]: obj is the vCPU's CPU interface, data
 * the argument's kernel copy, read (and its pads checked) or zeroed by
 * xvm_ioctl_dispatch().
 */
static long vgic_ioctl_get_cpuif(void *c, void *s, unsigned long arg)
{
	vgic_get_cpuif(c, s);
	return 0;
}

static long vgic_ioctl_set_cpuif(void *c, void *s, unsigned long arg)
{
	return vgic_set_cpuif(c, s);
}

/* ACK acknowledges the highest pending interrupt, HPPIR only reads it. */
static long vgic_ack(struct xvm_vgic_cpu *c, struct xvm_vgic_ack *ack,
		     bool activate)
{
	if (ack->group > 1)
		return -EINVAL;
	ack->intid = xvm_vgic_ack(c, ack->group, activate, &ack->priority);
	return 0;
}

static long vgic_ioctl_ack(void *c, void *ack, unsigned long arg)
{
	return vgic_ack(c, ack, true);
}

static long vgic_ioctl_hppir(void *c, void *ack, unsigned long arg)
{
	return vgic_ack(c, ack, false);
}

/* ICC_EOIR (drop, and deactivate unless EOImode) or ICC_DIR (DIR flag). */
static int vgic_check_eoi(const struct xvm_vgic_eoi *eoi)
{
	return eoi->intid > XVM_VGIC_SPURIOUS ? -EINVAL : 0;
}

static void vgic_eoi(struct xvm_vgic_cpu *c, const struct xvm_vgic_eoi *eoi)
{
	if (eoi->flags & XVM_VGIC_EOI_DIR)
		xvm_vgic_eoi(c, eoi->intid, false, true);
	else
		xvm_vgic_eoi(c, eoi->intid, true,
			     !(READ_ONCE(c->ctlr) & XVM_VGIC_CPUIF_EOIMODE));
}

static long vgic_ioctl_eoi(void *c, void *eoi, unsigned long arg)
{
	int ret = vgic_check_eoi(eoi);

	if (!ret)
		vgic_eoi(c, eoi);
	return ret;
}

/* EOI then ACK, both checked first (eoi.flags and ack.pad: the table). */
static long vgic_ioctl_eoi_ack(void *c, void *data, unsigned long arg)
{
	struct xvm_vgic_eoi_ack *ea = data;

	if (vgic_check_eoi(&ea->eoi) || ea->ack.group > 1)
		return -EINVAL;
	vgic_eoi(c, &ea->eoi);
	return vgic_ack(c, &ea->ack, true);
}

static long vgic_ioctl_sgi(void *c, void *data, unsigned long arg)
{
	const struct xvm_vgic_sgi *sgi = data;

	if (sgi->group > 1)
		return -EINVAL;
	xvm_vgic_sgi(c, sgi->value, sgi->group);
	return 0;
}

static long vgic_ioctl_ppi_line(void *obj, void *data, unsigned long arg)
{
	const struct xvm_vgic_irq_line *line = data;
	struct xvm_vgic_cpu *c = obj;
	int ret = vgic_check_line(line);

	if (ret)
		return ret;
	if (line->vcpu_id || line->intid < VGIC_NR_SGIS ||
	    line->intid >= VGIC_NR_PRIVATE)
		return -EINVAL;
	return xvm_vgic_line(c->vgic, c, line->intid, line->level);
}

#define VGIC_IOCTL_ACK(name, fn)					\
	XVM_IOCTL(name, struct xvm_vgic_ack, fn,				\
		  .zero = { XVM_IOCTL_ZERO(struct xvm_vgic_ack, pad, pad) })

/*
 * The CPU-interface ioctls, on the vCPU fd; the interrupt loop's first:
 * every call searches the table (linearly) twice.
 */
static const struct xvm_ioctl_desc vgic_cpu_ioctls[] = {
	VGIC_IOCTL_ACK(VGIC_ACK, vgic_ioctl_ack),
	XVM_IOCTL(VGIC_EOI, struct xvm_vgic_eoi, vgic_ioctl_eoi,
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_vgic_eoi, flags,
						 XVM_VGIC_EOI_DIR)),
	XVM_IOCTL(VGIC_EOI_ACK, struct xvm_vgic_eoi_ack, vgic_ioctl_eoi_ack,
		  .zero = { XVM_IOCTL_ZERO(struct xvm_vgic_eoi_ack, ack.pad,
					   ack.pad) },
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_vgic_eoi_ack,
						 eoi.flags, XVM_VGIC_EOI_DIR)),
	VGIC_IOCTL_ACK(VGIC_HPPIR, vgic_ioctl_hppir),
	XVM_IOCTL(VGIC_GET_CPUIF, struct xvm_vgic_cpuif,
		  vgic_ioctl_get_cpuif),
	XVM_IOCTL(VGIC_SET_CPUIF, struct xvm_vgic_cpuif,
		  vgic_ioctl_set_cpuif,
		  .zero = { XVM_IOCTL_ZERO(struct xvm_vgic_cpuif, pad,
					   reserved) },
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_vgic_cpuif, ctlr,
						 XVM_VGIC_CPUIF_CTLR_ALL)),
	XVM_IOCTL(VGIC_SGI, struct xvm_vgic_sgi, vgic_ioctl_sgi,
		  .zero = { XVM_IOCTL_ZERO(struct xvm_vgic_sgi, pad, pad) }),
	XVM_IOCTL(VGIC_PPI_LINE, struct xvm_vgic_irq_line,
		  vgic_ioctl_ppi_line,
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_vgic_irq_line, flags,
						 0)),
};

/* The first-run check comes before the argument is read (-EFAULT). */
long xvm_vgic_vcpu_ioctl(struct xvm_device *dev, struct xvm_vcpu *vcpu,
			 unsigned int cmd, unsigned long arg)
{
	const struct xvm_ioctl_desc *d;
	struct xvm_vgic *vgic = dev->private;
	int ret;

	d = xvm_ioctl_find(vgic_cpu_ioctls, ARRAY_SIZE(vgic_cpu_ioctls), cmd);
	if (!d)
		return -ENOTTY;
	ret = xvm_vgic_ready(vgic);
	if (ret)
		return ret;
	return xvm_ioctl_run(d, vgic->cpus[vcpu->index], arg);
}

static long vgic_ioctl_irq_line(void *vgic, void *data, unsigned long arg)
{
	const struct xvm_vgic_irq_line *line = data;
	struct xvm_vgic_cpu *c = NULL;
	int ret;

	ret = vgic_check_line(line);
	if (ret)
		return ret;
	if (!xvm_vgic_initialized(vgic))
		return -EBUSY;
	if (line->intid < VGIC_NR_PRIVATE) {
		c = xvm_vgic_cpu_by_id(vgic, line->vcpu_id);
		if (!c)
			return -EINVAL;
	} else if (line->vcpu_id) {
		return -EINVAL;
	}
	return xvm_vgic_line(vgic, c, line->intid, line->level);
}

/* The interrupt lines, on the device fd. */
static const struct xvm_ioctl_desc vgic_dev_ioctls[] = {
	XVM_IOCTL(VGIC_IRQ_LINE, struct xvm_vgic_irq_line,
		  vgic_ioctl_irq_line,
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_vgic_irq_line, flags,
						 0)),
};

long xvm_vgic_dev_ioctl(struct xvm_device *dev, unsigned int cmd,
			unsigned long arg)
{
	return xvm_ioctl_dispatch(vgic_dev_ioctls, ARRAY_SIZE(vgic_dev_ioctls),
				  dev->private, cmd, arg);
}
