// SPDX-License-Identifier: GPL-2.0
/*
 * The interrupt model: per-INTID state, routing, lines and messages, and
 * the CPU interface of each vCPU (acknowledge, EOI, SGI generation).
 *
 * An interrupt is ready for its vCPU when it is enabled, pending and not
 * active; ready interrupts are tracked per vCPU (priv_ready for SGIs and
 * PPIs, spi_ready for the SPIs routed there), so finding the best one
 * scans at most NR_IRQS / BITS_PER_LONG words.  It is deliverable when,
 * besides, its group is enabled in GICD_CTLR and in the CPU interface and
 * its priority is higher (numerically lower) than the priority mask and
 * its group priority (vgic_group_prio(): the binary points) higher than
 * the running priority.  Among ready interrupts the highest priority wins,
 * then the lowest INTID.
 *
 * Notification: whenever something may have made an interrupt deliverable
 * for a vCPU (a line, a message, an SGI, a register write, an EOI, a CPU
 * interface change), xvm_vgic_kick() re-evaluates it and raises the vCPU's
 * notify port if there is one.  The VMM polls that port (XVM_POLL) and
 * then acknowledges with XVM_VGIC_ACK.
 *
 * Locking: vgic_cpu->lock, then vgic->lock; both raw, IRQs off.  Nothing
 * here sleeps: lines, messages and kicks may come from hard-IRQ context.
 */
#include "vgic.h"
#include "trace.h"

bool xvm_vgic_irq_pending(const struct xvm_vgic_irq *irq)
{
	return irq->pending_latch ||
	       (!irq->edge && (irq->line_level || irq->msi_level));
}

/* Reset state of the private INTIDs, as KVM: SGIs enabled and edge. */
void xvm_vgic_irq_reset_private(struct xvm_vgic_cpu *c)
{
	u32 i;

	for (i = 0; i < VGIC_NR_PRIVATE; i++) {
		struct xvm_vgic_irq *irq = &c->priv[i];

		memset(irq, 0, sizeof(*irq));
		irq->intid = i;
		irq->group1 = true;
		irq->enabled = i < VGIC_NR_SGIS;
		irq->edge = i < VGIC_NR_SGIS;
		irq->target = -1;
	}
	c->priv_ready = 0;
	c->priv_enabled = GENMASK(VGIC_NR_SGIS - 1, 0);
	c->waker = XVM_GICR_WAKER_SLEEP | XVM_GICR_WAKER_ASLEEP;
	c->pmr = 0;
	c->bpr0 = VGIC_BPR0_MIN;
	c->bpr1 = VGIC_BPR1_MIN;
	c->cbpr = false;
	c->ctlr = 0;
	c->ap0r = 0;
	c->ap1r = 0;
}

/* Reset state of the SPIs: group 1, level, routed to MPIDR 0. */
void xvm_vgic_irq_reset_spis(struct xvm_vgic *vgic)
{
	u32 i;

	for (i = 0; i < VGIC_MAX_SPIS; i++) {
		struct xvm_vgic_irq *irq = &vgic->spis[i];

		memset(irq, 0, sizeof(*irq));
		irq->intid = i + VGIC_NR_PRIVATE;
		irq->group1 = true;
		irq->target = -1;
	}
}

/*
 * Records whether irq is ready in its vCPU's mask.  Called with the lock
 * that protects irq held; owner is the vCPU of a private INTID.
 */
void xvm_vgic_irq_sync(struct xvm_vgic *vgic, struct xvm_vgic_cpu *owner,
		       struct xvm_vgic_irq *irq)
{
	bool ready = irq->enabled && !irq->active && xvm_vgic_irq_pending(irq);

	if (irq->intid < VGIC_NR_PRIVATE) {
		if (ready)
			owner->priv_ready |= BIT(irq->intid);
		else
			owner->priv_ready &= ~BIT(irq->intid);
	} else if (irq->target >= 0) {
		__assign_bit(irq->intid, vgic->cpus[irq->target]->spi_ready,
			     ready);
	}
}

/*
 * Routes an SPI to the vCPU whose affinity is mpidr (none if there is no
 * such vCPU: it then stays pending).  Called with vgic->lock held.
 */
void xvm_vgic_set_target(struct xvm_vgic *vgic, struct xvm_vgic_irq *irq,
			 u32 mpidr)
{
	struct xvm_vgic_cpu *c = xvm_vgic_cpu_by_aff(vgic, mpidr);

	if (irq->target >= 0)
		__clear_bit(irq->intid, vgic->cpus[irq->target]->spi_ready);
	WRITE_ONCE(irq->mpidr, mpidr);
	WRITE_ONCE(irq->target, c ? c->index : -1);
	xvm_vgic_irq_sync(vgic, NULL, irq);
}

/*
 * ICC_RPR_EL1: the highest active (group) priority of either group, 0xff
 * when idle.  Bit n of ICC_AP<g>R0_EL1 stands for group priority n << 3.
 */
u32 xvm_vgic_rpr(const struct xvm_vgic_cpu *c)
{
	u32 ap = c->ap0r | c->ap1r;

	return ap ? __ffs(ap) << VGIC_PRI_SHIFT : VGIC_PRI_IDLE;
}

/*
 * The group priority of irq: its priority without the subpriority bits of
 * the binary point of its group (ICC_BPR0_EL1 for group 0, and for group 1
 * when ICC_CTLR_EL1.CBPR is set; else ICC_BPR1_EL1, whose field is one
 * bit lower).  BPR0 n: group priority [7:n+1]; BPR1 n: [7:n].  At the
 * minimum binary points (the reset values) it is the whole priority.
 */
static u32 vgic_group_prio(const struct xvm_vgic_cpu *c,
			   const struct xvm_vgic_irq *irq)
{
	u32 low = irq->group1 && !c->cbpr ? c->bpr1 : c->bpr0 + 1;

	return low > 7 ? 0 : irq->priority & GENMASK(7, low);
}

/*
 * The highest-priority ready interrupt of c whose group is enabled, or
 * NULL.  Called with c->lock and vgic->lock held.
 */
static struct xvm_vgic_irq *vgic_best(struct xvm_vgic_cpu *c)
{
	struct xvm_vgic *vgic = c->vgic;
	struct xvm_vgic_irq *irq, *best = NULL;
	u32 limit = min_t(u32, vgic->nr_irqs, VGIC_MAX_INTID);
	unsigned long priv = c->priv_ready;
	u32 groups = 0;
	unsigned int i;

	if ((vgic->ctlr & XVM_GICD_CTLR_ENABLE_G0) &&
	    (c->ctlr & XVM_VGIC_CPUIF_IGRPEN0))
		groups |= BIT(0);
	if ((vgic->ctlr & XVM_GICD_CTLR_ENABLE_G1) &&
	    (c->ctlr & XVM_VGIC_CPUIF_IGRPEN1))
		groups |= BIT(1);
	if (!groups)
		return NULL;

	for_each_set_bit(i, &priv, VGIC_NR_PRIVATE) {
		irq = &c->priv[i];
		if ((groups & BIT(irq->group1)) &&
		    (!best || irq->priority < best->priority))
			best = irq;
	}
	for_each_set_bit(i, c->spi_ready, limit) {
		irq = &vgic->spis[i - VGIC_NR_PRIVATE];
		if ((groups & BIT(irq->group1)) &&
		    (!best || irq->priority < best->priority))
			best = irq;
	}
	return best;
}

/* Preemption compares the group priority with the running priority. */
static bool vgic_deliverable(struct xvm_vgic_cpu *c, struct xvm_vgic_irq *irq)
{
	return irq && irq->priority < c->pmr &&
	       vgic_group_prio(c, irq) < xvm_vgic_rpr(c);
}

void xvm_vgic_kick(struct xvm_vgic_cpu *c)
{
	u32 port = READ_ONCE(c->notify_port);
	unsigned long flags;
	bool deliver;

	if (!port)
		return;
	raw_spin_lock_irqsave(&c->lock, flags);
	raw_spin_lock(&c->vgic->lock);
	deliver = vgic_deliverable(c, vgic_best(c));
	raw_spin_unlock(&c->vgic->lock);
	raw_spin_unlock_irqrestore(&c->lock, flags);
	if (deliver)
		xvm_evtchn_raise_port(c->vgic->vm, port);
}

void xvm_vgic_kick_all(struct xvm_vgic *vgic)
{
	u32 i, n = min(xvm_nr_vcpus(vgic->vm), READ_ONCE(vgic->nr_cpus));

	for (i = 0; i < n; i++)
		xvm_vgic_kick(vgic->cpus[i]);
}

/*
 * A wire: line_level is its input level, whatever the configuration
 * (LEVEL_INFO saves it); a level-sensitive interrupt is pending while it
 * is high, an edge-triggered one latches each level 1.
 */
static void vgic_set_line(struct xvm_vgic_irq *irq, bool level)
{
	irq->line_level = level;
	if (irq->edge && level)
		irq->pending_latch = true;
}

/* XVM_VGIC_IRQ_LINE: a PPI of c (16 <= intid < 32) or an SPI. */
int xvm_vgic_line(struct xvm_vgic *vgic, struct xvm_vgic_cpu *c, u32 intid,
		  bool level)
{
	struct xvm_vgic_irq *irq;
	unsigned long flags;
	s16 target;

	if (intid < VGIC_NR_PRIVATE) {
		if (intid < VGIC_NR_SGIS || !c)
			return -EINVAL;
		irq = xvm_vgic_priv(c, intid);
		raw_spin_lock_irqsave(&c->lock, flags);
		vgic_set_line(irq, level);
		xvm_vgic_irq_sync(vgic, c, irq);
		raw_spin_unlock_irqrestore(&c->lock, flags);
		xvm_vgic_kick(c);
		return 0;
	}
	if (c || intid >= vgic->nr_irqs || intid >= VGIC_MAX_INTID)
		return -EINVAL;
	irq = xvm_vgic_spi(vgic, intid);
	raw_spin_lock_irqsave(&vgic->lock, flags);
	vgic_set_line(irq, level);
	xvm_vgic_irq_sync(vgic, NULL, irq);
	target = irq->target;
	raw_spin_unlock_irqrestore(&vgic->lock, flags);
	if (target >= 0)
		xvm_vgic_kick(vgic->cpus[target]);
	return 0;
}

/*
 * GICD_SETSPI_NSR (set) / GICD_CLRSPI_NSR: an edge-triggered SPI becomes
 * pending (or stops being); a level-sensitive one is asserted until the
 * matching CLRSPI.  Writes naming no SPI are ignored.
 */
void xvm_vgic_msi(struct xvm_vgic *vgic, u32 intid, bool set)
{
	struct xvm_vgic_irq *irq;
	unsigned long flags;
	s16 target;

	if (intid < VGIC_NR_PRIVATE || intid >= vgic->nr_irqs ||
	    intid >= VGIC_MAX_INTID)
		return;
	irq = xvm_vgic_spi(vgic, intid);
	raw_spin_lock_irqsave(&vgic->lock, flags);
	if (irq->edge)
		irq->pending_latch = set;
	else
		irq->msi_level = set;
	xvm_vgic_irq_sync(vgic, NULL, irq);
	target = irq->target;
	raw_spin_unlock_irqrestore(&vgic->lock, flags);
	if (set && target >= 0)
		xvm_vgic_kick(vgic->cpus[target]);
}

/*
 * ICC_IAR<group>_EL1 (acknowledge): the best interrupt if it is
 * deliverable and of that group, else 1023.  Acknowledging makes it
 * active, clears its latched pending state (a level-sensitive line still
 * asserted keeps it pending) and raises the running priority.
 * ICC_HPPIR<group>_EL1: the best interrupt if it is of that group, whatever
 * the priority mask and the running priority.
 */
u32 xvm_vgic_ack(struct xvm_vgic_cpu *c, u32 group, bool acknowledge,
		 u32 *priority)
{
	struct xvm_vgic *vgic = c->vgic;
	struct xvm_vgic_irq *irq;
	unsigned long flags;
	u32 intid = XVM_VGIC_SPURIOUS;

	*priority = VGIC_PRI_IDLE;
	raw_spin_lock_irqsave(&c->lock, flags);
	raw_spin_lock(&vgic->lock);
	irq = vgic_best(c);
	if (irq && irq->group1 == group &&
	    (!acknowledge || vgic_deliverable(c, irq))) {
		intid = irq->intid;
		*priority = irq->priority;
		if (acknowledge) {
			irq->active = true;
			irq->pending_latch = false;
			xvm_vgic_irq_sync(vgic, c, irq);
			if (irq->group1)
				c->ap1r |= BIT(vgic_group_prio(c, irq) >>
					       VGIC_PRI_SHIFT);
			else
				c->ap0r |= BIT(vgic_group_prio(c, irq) >>
					       VGIC_PRI_SHIFT);
		}
	}
	raw_spin_unlock(&vgic->lock);
	raw_spin_unlock_irqrestore(&c->lock, flags);
	trace_xvm_vgic_ack(c, group, acknowledge, intid, priority);
	return intid;
}

/*
 * ICC_EOIR (drop, and deactivate unless EOImode) or ICC_DIR (deactivate).
 * The priority drop clears the highest active priority (of group 0 if
 * both groups have it, which only a restore can make); deactivating an
 * INTID that does not exist does nothing.
 */
void xvm_vgic_eoi(struct xvm_vgic_cpu *c, u32 intid, bool drop,
		  bool deactivate)
{
	struct xvm_vgic *vgic = c->vgic;
	struct xvm_vgic_irq *irq;
	unsigned long flags;
	s16 target = -1;

	trace_xvm_vgic_eoi(c, intid, drop, deactivate);
	raw_spin_lock_irqsave(&c->lock, flags);
	if (drop && (c->ap0r | c->ap1r)) {
		u32 ap = c->ap0r | c->ap1r, top = ap & -ap;

		if (c->ap0r & top)
			c->ap0r &= ~top;
		else
			c->ap1r &= ~top;
	}
	if (deactivate && intid < VGIC_NR_PRIVATE) {
		irq = xvm_vgic_priv(c, intid);
		irq->active = false;
		xvm_vgic_irq_sync(vgic, c, irq);
	} else if (deactivate && intid < vgic->nr_irqs &&
		   intid < VGIC_MAX_INTID) {
		irq = xvm_vgic_spi(vgic, intid);
		raw_spin_lock(&vgic->lock);
		irq->active = false;
		xvm_vgic_irq_sync(vgic, NULL, irq);
		target = irq->target;
		raw_spin_unlock(&vgic->lock);
	}
	raw_spin_unlock_irqrestore(&c->lock, flags);
	xvm_vgic_kick(c);
	if (target >= 0 && vgic->cpus[target] != c)
		xvm_vgic_kick(vgic->cpus[target]);
}

/* Makes SGI sgi pending on t; a group-0 request only raises group-0 SGIs. */
static void vgic_pend_sgi(struct xvm_vgic_cpu *t, u32 sgi, bool group1)
{
	struct xvm_vgic_irq *irq = &t->priv[sgi];
	unsigned long flags;
	bool raised = false;

	raw_spin_lock_irqsave(&t->lock, flags);
	if (group1 || !irq->group1) {
		irq->pending_latch = true;
		xvm_vgic_irq_sync(t->vgic, t, irq);
		raised = true;
	}
	raw_spin_unlock_irqrestore(&t->lock, flags);
	if (raised)
		xvm_vgic_kick(t);
}

/*
 * ICC_SGI0R_EL1 / ICC_SGI1R_EL1 written by c, as KVM's
 * vgic_v3_dispatch_sgi(): IRM broadcasts to every other vCPU; otherwise
 * TargetList names Aff0 values under Aff3.Aff2.Aff1 (with RS selecting
 * Aff0 16 * RS + n; vCPU Aff0 values are below 16, so only RS 0 matches).
 */
void xvm_vgic_sgi(struct xvm_vgic_cpu *c, u64 value, bool group1)
{
	struct xvm_vgic *vgic = c->vgic;
	u32 sgi = VGIC_SGI_INTID(value);
	unsigned long targets;
	unsigned int bit;
	u32 i, n, aff;

	if (value & VGIC_SGI_IRM) {
		n = min(xvm_nr_vcpus(vgic->vm), READ_ONCE(vgic->nr_cpus));
		for (i = 0; i < n; i++)
			if (vgic->cpus[i] != c)
				vgic_pend_sgi(vgic->cpus[i], sgi, group1);
		return;
	}
	if (VGIC_SGI_AFF3(value) || VGIC_SGI_RS(value))
		return;
	targets = VGIC_SGI_TARGETS(value);
	aff = (VGIC_SGI_AFF2(value) << 16) | (VGIC_SGI_AFF1(value) << 8);
	for_each_set_bit(bit, &targets, 16) {
		struct xvm_vgic_cpu *t = xvm_vgic_cpu_by_aff(vgic, aff | bit);

		if (t)
			vgic_pend_sgi(t, sgi, group1);
	}
}
