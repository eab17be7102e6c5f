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
	s->apr = c->apr;
	raw_spin_unlock_irqrestore(&c->lock, flags);
	s->notify_port = READ_ONCE(c->notify_port);
}

static int vgic_set_cpuif(struct xvm_vgic_cpu *c,
			  const struct xvm_vgic_cpuif *s)
{
	unsigned long flags;

	if (s->pad || s->reserved[0] || s->reserved[1] || s->pmr > 0xff ||
	    (s->ctlr & ~XVM_VGIC_CPUIF_CTLR_ALL) ||
	    s->notify_port >= XVM_EVTCHN_MAX_PORTS)
		return -EINVAL;
	raw_spin_lock_irqsave(&c->lock, flags);
	c->pmr = s->pmr & VGIC_PRI_MASK;
	c->ctlr = s->ctlr;
	raw_spin_unlock_irqrestore(&c->lock, flags);
	WRITE_ONCE(c->notify_port, s->notify_port);
	xvm_vgic_kick(c);
	return 0;
}

static int vgic_check_line(const struct xvm_vgic_irq_line *l)
{
	return (l->flags || l->level > 1) ? -EINVAL : 0;
}

static int vgic_ioctl_get_cpuif(struct xvm_vgic_cpu *c, unsigned int cmd,
				void *arg)
{
	vgic_get_cpuif(c, arg);
	return 0;
}

static int vgic_ioctl_set_cpuif(struct xvm_vgic_cpu *c, unsigned int cmd,
				void *arg)
{
	return vgic_set_cpuif(c, arg);
}

/* ACK acknowledges the highest pending interrupt, HPPIR only reads it. */
static int vgic_ioctl_ack(struct xvm_vgic_cpu *c, unsigned int cmd, void *arg)
{
	struct xvm_vgic_ack *ack = arg;

	if (ack->group > 1 || ack->pad)
		return -EINVAL;
	ack->intid = xvm_vgic_ack(c, ack->group, cmd == XVM_VGIC_ACK,
				  &ack->priority);
	return 0;
}

static int vgic_ioctl_eoi(struct xvm_vgic_cpu *c, unsigned int cmd, void *arg)
{
	const struct xvm_vgic_eoi *eoi = arg;

	if (eoi->intid > XVM_VGIC_SPURIOUS ||
	    (eoi->flags & ~XVM_VGIC_EOI_DIR))
		return -EINVAL;
	if (eoi->flags & XVM_VGIC_EOI_DIR)
		xvm_vgic_eoi(c, eoi->intid, false, true);
	else
		xvm_vgic_eoi(c, eoi->intid, true,
			     !(READ_ONCE(c->ctlr) & XVM_VGIC_CPUIF_EOIMODE));
	return 0;
}

static int vgic_ioctl_sgi(struct xvm_vgic_cpu *c, unsigned int cmd, void *arg)
{
	const struct xvm_vgic_sgi *sgi = arg;

	if (sgi->group > 1 || sgi->pad)
		return -EINVAL;
	xvm_vgic_sgi(c, sgi->value, sgi->group);
	return 0;
}

static int vgic_ioctl_ppi_line(struct xvm_vgic_cpu *c, unsigned int cmd,
			       void *arg)
{
	const struct xvm_vgic_irq_line *line = arg;
	int ret = vgic_check_line(line);

	if (ret)
		return ret;
	if (line->vcpu_id || line->intid < VGIC_NR_SGIS ||
	    line->intid >= VGIC_NR_PRIVATE)
		return -EINVAL;
	return xvm_vgic_line(c->vgic, c, line->intid, line->level);
}

union vgic_cpu_ioctl_arg {
	struct xvm_vgic_cpuif cpuif;
	struct xvm_vgic_ack ack;
	struct xvm_vgic_eoi eoi;
	struct xvm_vgic_sgi sgi;
	struct xvm_vgic_irq_line line;
};

/*
 * The CPU-interface ioctls, as iommufd's op table: the struct's size and
 * whether it is read and written back come from the command number
 * (_IOC_SIZE, _IOC_DIR), so each handler sees a checked kernel copy.
 */
static const struct {
	unsigned int cmd;
	int (*fn)(struct xvm_vgic_cpu *c, unsigned int cmd, void *arg);
} vgic_cpu_ioctls[] = {
	{ XVM_VGIC_GET_CPUIF,	vgic_ioctl_get_cpuif },
	{ XVM_VGIC_SET_CPUIF,	vgic_ioctl_set_cpuif },
	{ XVM_VGIC_ACK,		vgic_ioctl_ack },
	{ XVM_VGIC_HPPIR,	vgic_ioctl_ack },
	{ XVM_VGIC_EOI,		vgic_ioctl_eoi },
	{ XVM_VGIC_SGI,		vgic_ioctl_sgi },
	{ XVM_VGIC_PPI_LINE,	vgic_ioctl_ppi_line },
};

long xvm_vgic_vcpu_ioctl(struct xvm_device *dev, struct xvm_vcpu *vcpu,
			 unsigned int cmd, unsigned long arg)
{
	struct xvm_vgic *vgic = dev->private;
	void __user *argp = (void __user *)arg;
	union vgic_cpu_ioctl_arg buf;
	unsigned int i, size = _IOC_SIZE(cmd);
	int ret;

	for (i = 0; i < ARRAY_SIZE(vgic_cpu_ioctls); i++)
		if (vgic_cpu_ioctls[i].cmd == cmd)
			break;
	/* Every command's struct is a member of the union: size fits. */
	if (i == ARRAY_SIZE(vgic_cpu_ioctls) || size > sizeof(buf))
		return -ENOTTY;
	ret = xvm_vgic_ready(vgic);
	if (ret)
		return ret;
	if ((_IOC_DIR(cmd) & _IOC_WRITE) && copy_from_user(&buf, argp, size))
		return -EFAULT;
	ret = vgic_cpu_ioctls[i].fn(vgic->cpus[vcpu->index], cmd, &buf);
	if (!ret && (_IOC_DIR(cmd) & _IOC_READ) &&
	    copy_to_user(argp, &buf, size))
		return -EFAULT;
	return ret;
}

long xvm_vgic_dev_ioctl(struct xvm_device *dev, unsigned int cmd,
			unsigned long arg)
{
	struct xvm_vgic *vgic = dev->private;
	struct xvm_vgic_irq_line line;
	struct xvm_vgic_cpu *c = NULL;
	int ret;

	if (cmd != XVM_VGIC_IRQ_LINE)
		return -ENOTTY;
	if (copy_from_user(&line, (void __user *)arg, sizeof(line)))
		return -EFAULT;
	ret = vgic_check_line(&line);
	if (ret)
		return ret;
	if (!xvm_vgic_initialized(vgic))
		return -EBUSY;
	if (line.intid < VGIC_NR_PRIVATE) {
		c = xvm_vgic_cpu_by_id(vgic, line.vcpu_id);
		if (!c)
			return -EINVAL;
	} else if (line.vcpu_id) {
		return -EINVAL;
	}
	return xvm_vgic_line(vgic, c, line.intid, line.level);
}
