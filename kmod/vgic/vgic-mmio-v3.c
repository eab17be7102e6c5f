// SPDX-License-Identifier: GPL-2.0
/*
 * The GICv3 distributor and redistributor register maps, as tables, and
 * the registers that are GICv3's own (as KVM's vgic-mmio-v3.c).
 *
 * The model: one security state (GICD_CTLR.DS = 1), affinity routing
 * always on (ARE = 1), two interrupt groups, 5 priority bits, no LPIs and
 * no ITS, message-based SPIs (GICD_TYPER.MBIS, GICD_SETSPI_NSR), no 1-of-N
 * routing (No1N), no Aff3.
 *
 * Locking: see vgic.h; handlers never sleep.
 */
#include <linux/cache.h>

#include "vgic.h"

/* Distributor */

static u64 vgic_read_dist_ctlr(const struct xvm_vgic_access *a)
{
	return READ_ONCE(a->vgic->ctlr) | XVM_GICD_CTLR_ARE | XVM_GICD_CTLR_DS;
}

static void vgic_write_dist_ctlr(const struct xvm_vgic_access *a, u64 val)
{
	struct xvm_vgic *vgic = a->vgic;
	unsigned long flags;
	u32 old, new = val & (XVM_GICD_CTLR_ENABLE_G0 | XVM_GICD_CTLR_ENABLE_G1);

	raw_spin_lock_irqsave(&vgic->lock, flags);
	old = vgic->ctlr;
	WRITE_ONCE(vgic->ctlr, new);
	raw_spin_unlock_irqrestore(&vgic->lock, flags);
	if (new & ~old)
		xvm_vgic_kick_all(vgic);
}

static u64 vgic_read_dist_typer(const struct xvm_vgic_access *a)
{
	return (a->vgic->nr_irqs / 32 - 1) | XVM_GICD_TYPER_MBIS |
	       (9U << XVM_GICD_TYPER_IDBITS_SHIFT) | XVM_GICD_TYPER_NO1N;
}

static u64 vgic_read_iidr(const struct xvm_vgic_access *a)
{
	return VGIC_IIDR;
}

/* GICD_SETSPI_NSR / GICD_CLRSPI_NSR: message-based SPIs. */
static void vgic_write_setspi(const struct xvm_vgic_access *a, u64 val)
{
	xvm_vgic_msi(a->vgic, val & VGIC_SPI_INTID_MASK, true);
}

static void vgic_write_clrspi(const struct xvm_vgic_access *a, u64 val)
{
	xvm_vgic_msi(a->vgic, val & VGIC_SPI_INTID_MASK, false);
}

/* GICD_IROUTER<n>: Aff2.Aff1.Aff0; the upper word (Aff3) and IRM are RAZ/WI. */
static u64 vgic_read_irouter(const struct xvm_vgic_access *a)
{
	struct xvm_vgic_irq *irq;

	if (a->intid < VGIC_NR_PRIVATE || a->intid >= VGIC_MAX_INTID ||
	    (a->offset & 4))
		return 0;
	irq = xvm_vgic_spi(a->vgic, a->intid);
	return READ_ONCE(irq->mpidr);
}

static void vgic_write_irouter(const struct xvm_vgic_access *a, u64 val)
{
	struct xvm_vgic *vgic = a->vgic;
	struct xvm_vgic_irq *irq;
	unsigned long flags;
	s16 target;

	if (a->intid < VGIC_NR_PRIVATE || a->intid >= VGIC_MAX_INTID ||
	    (a->offset & 4))
		return;
	irq = xvm_vgic_spi(vgic, a->intid);
	raw_spin_lock_irqsave(&vgic->lock, flags);
	xvm_vgic_set_target(vgic, irq, val & VGIC_IROUTER_AFF_MASK);
	target = irq->target;
	raw_spin_unlock_irqrestore(&vgic->lock, flags);
	if (target >= 0)
		xvm_vgic_kick(vgic->cpus[target]);
}

/* PIDR4..7, PIDR0..3, CIDR0..3: a GICv3 (PIDR2.ArchRev 3), ARM's JEP106. */
static u64 vgic_read_idregs(const struct xvm_vgic_access *a)
{
	static const u8 ids[12] = {
		[6] = 0x3b,				/* PIDR2 */
		[8] = 0x0d, [9] = 0xf0, [10] = 0x05, [11] = 0xb1,	/* CIDR */
	};

	/* The dispatch checked offset < 48, the register's length. */
	return ids[array_index_nospec(a->offset / 4, ARRAY_SIZE(ids))];
}

static const struct xvm_vgic_reg vgic_dist_regs[] = {
	VGIC_REG(XVM_GICD_CTLR, 4, VGIC_ACC_32,
		 vgic_read_dist_ctlr, vgic_write_dist_ctlr),
	VGIC_REG(XVM_GICD_TYPER, 4, VGIC_ACC_32,
		 vgic_read_dist_typer, xvm_vgic_write_wi),
	VGIC_REG(XVM_GICD_IIDR, 4, VGIC_ACC_32,
		 vgic_read_iidr, xvm_vgic_write_wi),
	VGIC_REG(XVM_GICD_TYPER2, 4, VGIC_ACC_32,
		 xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG(XVM_GICD_STATUSR, 4, VGIC_ACC_32,
		 xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG(XVM_GICD_SETSPI_NSR, 4, VGIC_ACC_32,
		 xvm_vgic_read_raz, vgic_write_setspi),
	VGIC_REG(XVM_GICD_CLRSPI_NSR, 4, VGIC_ACC_32,
		 xvm_vgic_read_raz, vgic_write_clrspi),
	/* One security state: the Secure forms are RAZ/WI. */
	VGIC_REG(XVM_GICD_SETSPI_SR, 4, VGIC_ACC_32,
		 xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG(XVM_GICD_CLRSPI_SR, 4, VGIC_ACC_32,
		 xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG_DIST_IRQ(XVM_GICD_IGROUPR, 1, VGIC_ACC_32,
			  xvm_vgic_read_group, xvm_vgic_write_group),
	VGIC_REG_DIST_IRQ(XVM_GICD_ISENABLER, 1, VGIC_ACC_32,
			  xvm_vgic_read_enable, xvm_vgic_write_senable),
	VGIC_REG_DIST_IRQ(XVM_GICD_ICENABLER, 1, VGIC_ACC_32,
			  xvm_vgic_read_enable, xvm_vgic_write_cenable),
	/* The attributes see the latch in ISPENDR, ICPENDR RAZ/WI (KVM). */
	VGIC_REG_DIST_IRQ_U(XVM_GICD_ISPENDR, 1, VGIC_ACC_32,
			    xvm_vgic_read_pending, xvm_vgic_write_spending,
			    xvm_vgic_uread_pending, xvm_vgic_uwrite_pending),
	VGIC_REG_DIST_IRQ_U(XVM_GICD_ICPENDR, 1, VGIC_ACC_32,
			    xvm_vgic_read_pending, xvm_vgic_write_cpending,
			    xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG_DIST_IRQ(XVM_GICD_ISACTIVER, 1, VGIC_ACC_32,
			  xvm_vgic_read_active, xvm_vgic_write_sactive),
	VGIC_REG_DIST_IRQ(XVM_GICD_ICACTIVER, 1, VGIC_ACC_32,
			  xvm_vgic_read_active, xvm_vgic_write_cactive),
	VGIC_REG_DIST_IRQ(XVM_GICD_IPRIORITYR, 8, VGIC_ACC_8 | VGIC_ACC_32,
			  xvm_vgic_read_priority, xvm_vgic_write_priority),
	/* Affinity routing: GICD_ITARGETSR is RES0. */
	VGIC_REG_DIST_IRQ(XVM_GICD_ITARGETSR, 8, VGIC_ACC_8 | VGIC_ACC_32,
			  xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG_DIST_IRQ(XVM_GICD_ICFGR, 2, VGIC_ACC_32,
			  xvm_vgic_read_config, xvm_vgic_write_config),
	/* DS = 1: GICD_IGRPMODR and GICD_NSACR are RAZ/WI. */
	VGIC_REG_DIST_IRQ(XVM_GICD_IGRPMODR, 1, VGIC_ACC_32,
			  xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG_DIST_IRQ(XVM_GICD_NSACR, 2, VGIC_ACC_32,
			  xvm_vgic_read_raz, xvm_vgic_write_wi),
	/* Affinity routing: GICD_SGIR is RES0. */
	VGIC_REG(XVM_GICD_SGIR, 4, VGIC_ACC_32,
		 xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG_DIST_IRQ(XVM_GICD_IROUTER, 64, VGIC_ACC_32 | VGIC_ACC_64,
			  vgic_read_irouter, vgic_write_irouter),
	VGIC_REG(XVM_GICD_IDREGS, 48, VGIC_ACC_32,
		 vgic_read_idregs, xvm_vgic_write_wi),
};

static u8 vgic_dist_index[XVM_VGIC_V3_DIST_SIZE / 4] __ro_after_init;

const struct xvm_vgic_regs xvm_vgic_dist_regs = {
	.name		= "distributor",
	.regs		= vgic_dist_regs,
	.nr		= ARRAY_SIZE(vgic_dist_regs),
	.index		= vgic_dist_index,
	.nr_words	= ARRAY_SIZE(vgic_dist_index),
};

/* Redistributor */

/* GICR_TYPER; the bus op reads it without the table (vgic_rdist_read()). */
u64 xvm_vgic_read_rd_typer(const struct xvm_vgic_access *a)
{
	return xvm_vgic_rd_typer(a->rd, a->offset, a->len);
}

/* GICR_WAKER: ChildrenAsleep follows ProcessorSleep at once. */
static u64 vgic_read_waker(const struct xvm_vgic_access *a)
{
	return READ_ONCE(a->rd->waker);
}

static void vgic_write_waker(const struct xvm_vgic_access *a, u64 val)
{
	u32 waker = 0;

	if (val & XVM_GICR_WAKER_SLEEP)
		waker = XVM_GICR_WAKER_SLEEP | XVM_GICR_WAKER_ASLEEP;
	WRITE_ONCE(a->rd->waker, waker);
}

static const struct xvm_vgic_reg vgic_rdist_regs[] = {
	/* RD_base */
	/* No LPIs: GICR_CTLR.EnableLPIs is RAZ/WI, nothing else is set. */
	VGIC_REG(XVM_GICR_CTLR, 4, VGIC_ACC_32,
		 xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG(XVM_GICR_IIDR, 4, VGIC_ACC_32,
		 vgic_read_iidr, xvm_vgic_write_wi),
	VGIC_REG(XVM_GICR_TYPER, 8, VGIC_ACC_32 | VGIC_ACC_64,
		 xvm_vgic_read_rd_typer, xvm_vgic_write_wi),
	VGIC_REG(XVM_GICR_STATUSR, 4, VGIC_ACC_32,
		 xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG(XVM_GICR_WAKER, 4, VGIC_ACC_32,
		 vgic_read_waker, vgic_write_waker),
	VGIC_REG(XVM_GICR_PROPBASER, 8, VGIC_ACC_32 | VGIC_ACC_64,
		 xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG(XVM_GICR_PENDBASER, 8, VGIC_ACC_32 | VGIC_ACC_64,
		 xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG(XVM_GICR_INVLPIR, 8, VGIC_ACC_32 | VGIC_ACC_64,
		 xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG(XVM_GICR_INVALLR, 8, VGIC_ACC_32 | VGIC_ACC_64,
		 xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG(XVM_GICR_SYNCR, 4, VGIC_ACC_32,
		 xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG(XVM_GICR_IDREGS, 48, VGIC_ACC_32,
		 vgic_read_idregs, xvm_vgic_write_wi),
	/* SGI_base: the private INTIDs 0..31 of this vCPU */
	VGIC_REG_PRIVATE_IRQ(XVM_GICR_IGROUPR0, 1, VGIC_ACC_32,
			     xvm_vgic_read_group, xvm_vgic_write_group),
	VGIC_REG_PRIVATE_IRQ(XVM_GICR_ISENABLER0, 1, VGIC_ACC_32,
			     xvm_vgic_read_enable, xvm_vgic_write_senable),
	VGIC_REG_PRIVATE_IRQ(XVM_GICR_ICENABLER0, 1, VGIC_ACC_32,
			     xvm_vgic_read_enable, xvm_vgic_write_cenable),
	VGIC_REG_PRIVATE_IRQ_U(XVM_GICR_ISPENDR0, 1, VGIC_ACC_32,
			       xvm_vgic_read_pending, xvm_vgic_write_spending,
			       xvm_vgic_uread_pending,
			       xvm_vgic_uwrite_pending),
	VGIC_REG_PRIVATE_IRQ_U(XVM_GICR_ICPENDR0, 1, VGIC_ACC_32,
			       xvm_vgic_read_pending, xvm_vgic_write_cpending,
			       xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG_PRIVATE_IRQ(XVM_GICR_ISACTIVER0, 1, VGIC_ACC_32,
			     xvm_vgic_read_active, xvm_vgic_write_sactive),
	VGIC_REG_PRIVATE_IRQ(XVM_GICR_ICACTIVER0, 1, VGIC_ACC_32,
			     xvm_vgic_read_active, xvm_vgic_write_cactive),
	VGIC_REG_PRIVATE_IRQ(XVM_GICR_IPRIORITYR0, 8, VGIC_ACC_8 | VGIC_ACC_32,
			     xvm_vgic_read_priority, xvm_vgic_write_priority),
	VGIC_REG_PRIVATE_IRQ(XVM_GICR_ICFGR0, 2, VGIC_ACC_32,
			     xvm_vgic_read_config, xvm_vgic_write_config),
	VGIC_REG_PRIVATE_IRQ(XVM_GICR_IGRPMODR0, 1, VGIC_ACC_32,
			     xvm_vgic_read_raz, xvm_vgic_write_wi),
	VGIC_REG(XVM_GICR_NSACR, 4, VGIC_ACC_32,
		 xvm_vgic_read_raz, xvm_vgic_write_wi),
};

static u8 vgic_rdist_index[XVM_VGIC_V3_REDIST_SIZE / 4] __ro_after_init;

const struct xvm_vgic_regs xvm_vgic_rdist_regs = {
	.name		= "redistributor",
	.regs		= vgic_rdist_regs,
	.nr		= ARRAY_SIZE(vgic_rdist_regs),
	.index		= vgic_rdist_index,
	.nr_words	= ARRAY_SIZE(vgic_rdist_index),
};
