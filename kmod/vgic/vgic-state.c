// SPDX-License-Identifier: GPL-2.0
/*
 * Save and restore: the attribute groups that reach the state the register
 * groups (DIST_REGS, REDIST_REGS: vgic-dev.c) do not, with KVM's numbers
 * and encodings (KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, _LEVEL_INFO):
 *  - CPU_SYSREGS (6): a vCPU's CPU interface as its ICC_*_EL1 system
 *    registers (KVM's vgic-sys-reg-v3.c), and xvm's notify port;
 *  - LEVEL_INFO (7): the input level of each PPI and SPI line (KVM's),
 *    and the level of the SETSPI_NSR messages (xvm's);
 *  - CTRL/STATE_VERSION: the format of the whole.
 * The pending latch is ISPENDR through the register groups (vgic-mmio.c).
 *
 * Every set checks the whole value before it writes anything: a set that
 * fails changes nothing.  Get and set need CTRL/INIT (EBUSY), as KVM; the
 * vCPU is named by MPIDR affinity (EINVAL if none).  No first run is
 * needed: a VMM restores before its vCPUs run.
 *
 * Locking: config_lock around the lookup and the access, as the register
 * groups; the vCPU's lock (raw, IRQs off) around its CPU interface and
 * private INTIDs, vgic->lock around the SPIs.  A set that may make an
 * interrupt deliverable kicks after unlocking.
 */
#include <linux/minmax.h>

#include "vgic.h"

/* ICC_CTLR_EL1's read-only fields: 5 priority bits, 16-bit INTIDs. */
#define VGIC_CTLR_RO_MASK	(~(u64)(XVM_ICC_CTLR_CBPR | XVM_ICC_CTLR_EOIMODE))
#define VGIC_CTLR_RO		((VGIC_PRI_BITS - 1) << XVM_ICC_CTLR_PRIBITS_SHIFT)
/* ICC_SRE_EL1 as KVM's vgic_sre: system registers only (DIB, DFB, SRE). */
#define VGIC_SRE		(XVM_ICC_SRE_DIB | XVM_ICC_SRE_DFB | \
				 XVM_ICC_SRE_SRE)

/*
 * A CPU-interface register: get and set run under c->lock; set checks val
 * and returns its errno before it writes anything.  No set: read-only.
 */
struct vgic_sysreg {
	u32 instr;
	int (*get)(const struct xvm_vgic_cpu *c, u32 instr, u64 *val);
	int (*set)(struct xvm_vgic_cpu *c, u32 instr, u64 val);
};

static int vgic_get_pmr(const struct xvm_vgic_cpu *c, u32 instr, u64 *val)
{
	*val = c->pmr;
	return 0;
}

/* The low 3 bits are dropped: 5 priority bits, as the hardware. */
static int vgic_set_pmr(struct xvm_vgic_cpu *c, u32 instr, u64 val)
{
	if (val & ~(u64)XVM_ICC_PMR_MASK)
		return -EINVAL;
	c->pmr = val & VGIC_PRI_MASK;
	return 0;
}

static int vgic_get_bpr0(const struct xvm_vgic_cpu *c, u32 instr, u64 *val)
{
	*val = c->bpr0;
	return 0;
}

/* A binary point below the minimum is stored as the minimum (GICv3). */
static int vgic_set_bpr0(struct xvm_vgic_cpu *c, u32 instr, u64 val)
{
	if (val & ~(u64)XVM_ICC_BPR_MASK)
		return -EINVAL;
	c->bpr0 = max_t(u8, val, VGIC_BPR0_MIN);
	return 0;
}

/* With CBPR, BPR1 reads as BPR0 + 1 (saturated) and ignores writes (KVM). */
static int vgic_get_bpr1(const struct xvm_vgic_cpu *c, u32 instr, u64 *val)
{
	*val = c->cbpr ? min_t(u8, c->bpr0 + 1, 7) : c->bpr1;
	return 0;
}

static int vgic_set_bpr1(struct xvm_vgic_cpu *c, u32 instr, u64 val)
{
	if (val & ~(u64)XVM_ICC_BPR_MASK)
		return -EINVAL;
	if (!c->cbpr)
		c->bpr1 = max_t(u8, val, VGIC_BPR1_MIN);
	return 0;
}

/* ICC_AP1R<n>_EL1 has CRm 9, ICC_AP0R<n>_EL1 CRm 8. */
static bool vgic_ap_group1(u32 instr)
{
	return instr == XVM_ICC_AP1R_EL1(instr & 3);
}

/* ICC_AP<g>R<n>_EL1: n is Op2[1:0]; 5 priority bits only have n = 0. */
static int vgic_get_ap(const struct xvm_vgic_cpu *c, u32 instr, u64 *val)
{
	bool group1 = vgic_ap_group1(instr);

	if (instr & 3)
		return -EINVAL;
	*val = group1 ? c->ap1r : c->ap0r;
	return 0;
}

/* The running priority follows: xvm_vgic_rpr(). */
static int vgic_set_ap(struct xvm_vgic_cpu *c, u32 instr, u64 val)
{
	bool group1 = vgic_ap_group1(instr);

	if ((instr & 3) || val > U32_MAX)
		return -EINVAL;
	if (group1)
		c->ap1r = val;
	else
		c->ap0r = val;
	return 0;
}

static int vgic_get_rpr(const struct xvm_vgic_cpu *c, u32 instr, u64 *val)
{
	*val = xvm_vgic_rpr(c);
	return 0;
}

/* c->ctlr is read lock-free by the EOI (EOImode): WRITE_ONCE. */
static void vgic_set_ctlr_bit(struct xvm_vgic_cpu *c, u32 bit, bool set)
{
	WRITE_ONCE(c->ctlr, set ? c->ctlr | bit : c->ctlr & ~bit);
}

static int vgic_get_ctlr(const struct xvm_vgic_cpu *c, u32 instr, u64 *val)
{
	*val = VGIC_CTLR_RO | (c->cbpr ? XVM_ICC_CTLR_CBPR : 0) |
	       (c->ctlr & XVM_VGIC_CPUIF_EOIMODE ? XVM_ICC_CTLR_EOIMODE : 0);
	return 0;
}

/* CBPR and EOImode; the read-only fields must be as get reads them. */
static int vgic_set_ctlr(struct xvm_vgic_cpu *c, u32 instr, u64 val)
{
	if ((val & VGIC_CTLR_RO_MASK) != VGIC_CTLR_RO)
		return -EINVAL;
	c->cbpr = val & XVM_ICC_CTLR_CBPR;
	vgic_set_ctlr_bit(c, XVM_VGIC_CPUIF_EOIMODE,
			  val & XVM_ICC_CTLR_EOIMODE);
	return 0;
}

static int vgic_get_sre(const struct xvm_vgic_cpu *c, u32 instr, u64 *val)
{
	*val = VGIC_SRE;
	return 0;
}

/* Nothing to store: SRE must be set (KVM), DIB and DFB are read-only. */
static int vgic_set_sre(struct xvm_vgic_cpu *c, u32 instr, u64 val)
{
	if ((val & ~(u64)VGIC_SRE) || !(val & XVM_ICC_SRE_SRE))
		return -EINVAL;
	return 0;
}

static u32 vgic_grpen_bit(u32 instr)
{
	return instr == XVM_ICC_IGRPEN0_EL1 ? XVM_VGIC_CPUIF_IGRPEN0 :
					      XVM_VGIC_CPUIF_IGRPEN1;
}

static int vgic_get_grpen(const struct xvm_vgic_cpu *c, u32 instr, u64 *val)
{
	*val = !!(c->ctlr & vgic_grpen_bit(instr));
	return 0;
}

static int vgic_set_grpen(struct xvm_vgic_cpu *c, u32 instr, u64 val)
{
	if (val & ~(u64)XVM_ICC_IGRPEN_ENABLE)
		return -EINVAL;
	vgic_set_ctlr_bit(c, vgic_grpen_bit(instr), val);
	return 0;
}

static int vgic_get_port(const struct xvm_vgic_cpu *c, u32 instr, u64 *val)
{
	*val = READ_ONCE(c->notify_port);
	return 0;
}

/* As XVM_VGIC_SET_CPUIF: any port below the limit, allocated or not. */
static int vgic_set_port(struct xvm_vgic_cpu *c, u32 instr, u64 val)
{
	if (val >= XVM_EVTCHN_MAX_PORTS)
		return -EINVAL;
	WRITE_ONCE(c->notify_port, val);
	return 0;
}

#define VGIC_SYSREG(reg, g, s)	{ .instr = (reg), .get = (g), .set = (s) }

/* KVM's gic_v3_icc_reg_descs[], ICC_RPR_EL1 and xvm's notify port. */
static const struct vgic_sysreg vgic_sysregs[] = {
	VGIC_SYSREG(XVM_ICC_PMR_EL1, vgic_get_pmr, vgic_set_pmr),
	VGIC_SYSREG(XVM_ICC_BPR0_EL1, vgic_get_bpr0, vgic_set_bpr0),
	VGIC_SYSREG(XVM_ICC_AP0R_EL1(0), vgic_get_ap, vgic_set_ap),
	VGIC_SYSREG(XVM_ICC_AP0R_EL1(1), vgic_get_ap, vgic_set_ap),
	VGIC_SYSREG(XVM_ICC_AP0R_EL1(2), vgic_get_ap, vgic_set_ap),
	VGIC_SYSREG(XVM_ICC_AP0R_EL1(3), vgic_get_ap, vgic_set_ap),
	VGIC_SYSREG(XVM_ICC_AP1R_EL1(0), vgic_get_ap, vgic_set_ap),
	VGIC_SYSREG(XVM_ICC_AP1R_EL1(1), vgic_get_ap, vgic_set_ap),
	VGIC_SYSREG(XVM_ICC_AP1R_EL1(2), vgic_get_ap, vgic_set_ap),
	VGIC_SYSREG(XVM_ICC_AP1R_EL1(3), vgic_get_ap, vgic_set_ap),
	VGIC_SYSREG(XVM_ICC_RPR_EL1, vgic_get_rpr, NULL),
	VGIC_SYSREG(XVM_ICC_BPR1_EL1, vgic_get_bpr1, vgic_set_bpr1),
	VGIC_SYSREG(XVM_ICC_CTLR_EL1, vgic_get_ctlr, vgic_set_ctlr),
	VGIC_SYSREG(XVM_ICC_SRE_EL1, vgic_get_sre, vgic_set_sre),
	VGIC_SYSREG(XVM_ICC_IGRPEN0_EL1, vgic_get_grpen, vgic_set_grpen),
	VGIC_SYSREG(XVM_ICC_IGRPEN1_EL1, vgic_get_grpen, vgic_set_grpen),
	VGIC_SYSREG(XVM_VGIC_SYSREG_NOTIFY_PORT, vgic_get_port, vgic_set_port),
};

/*
 * The vCPU (EINVAL) and the register (ENXIO) of a CPU_SYSREGS attribute,
 * in KVM's order.  The register is named by the attribute's bits [31:0]:
 * instr [15:0] and, for xvm's own, bit 16.
 */
static int vgic_sysreg_lookup(struct xvm_vgic *vgic,
			      const struct xvm_device_attr *attr,
			      struct xvm_vgic_cpu **c,
			      const struct vgic_sysreg **reg)
{
	u32 instr = attr->attr & XVM_DEV_ARM_VGIC_OFFSET_MASK;
	unsigned int i;

	lockdep_assert_held(&vgic->config_lock);
	*c = xvm_vgic_cpu_by_aff(vgic, attr->attr >>
				 XVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT);
	if (!*c)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(vgic_sysregs); i++) {
		if (vgic_sysregs[i].instr == instr) {
			*reg = &vgic_sysregs[i];
			return 0;
		}
	}
	return -ENXIO;
}

int xvm_vgic_sysreg_has(struct xvm_device *dev,
			const struct xvm_device_attr *attr)
{
	struct xvm_vgic *vgic = dev->private;
	const struct vgic_sysreg *reg;
	struct xvm_vgic_cpu *c;
	int ret;

	mutex_lock(&vgic->config_lock);
	ret = vgic_sysreg_lookup(vgic, attr, &c, &reg);
	mutex_unlock(&vgic->config_lock);
	return ret;
}

/*
 * Get or set (val in/out) one register: the lookup again (the vCPUs can
 * change until INIT), ENXIO for a set of a read-only register, EBUSY
 * before INIT; a set kicks the vCPU (PMR, the enables, the priorities).
 */
static int vgic_sysreg_access(struct xvm_vgic *vgic,
			      const struct xvm_device_attr *attr, bool write,
			      u64 *val)
{
	const struct vgic_sysreg *reg;
	struct xvm_vgic_cpu *c;
	unsigned long flags;
	int ret;

	mutex_lock(&vgic->config_lock);
	ret = vgic_sysreg_lookup(vgic, attr, &c, &reg);
	if (!ret && write && !reg->set)
		ret = -ENXIO;
	if (!ret && !vgic->initialized)
		ret = -EBUSY;
	if (ret)
		goto out;
	raw_spin_lock_irqsave(&c->lock, flags);
	ret = write ? reg->set(c, reg->instr, *val) :
		      reg->get(c, reg->instr, val);
	raw_spin_unlock_irqrestore(&c->lock, flags);
	if (!ret && write)
		xvm_vgic_kick(c);
out:
	mutex_unlock(&vgic->config_lock);
	return ret;
}

int xvm_vgic_sysreg_get(struct xvm_device *dev,
			const struct xvm_device_attr *attr, void *val)
{
	return vgic_sysreg_access(dev->private, attr, false, val);
}

int xvm_vgic_sysreg_set(struct xvm_device *dev,
			const struct xvm_device_attr *attr, const void *val)
{
	u64 v = *(const u64 *)val;

	return vgic_sysreg_access(dev->private, attr, true, &v);
}

/* LEVEL_INFO */

static u32 vgic_level_info(const struct xvm_device_attr *attr)
{
	return (attr->attr & XVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_MASK) >>
	       XVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT;
}

/* The infos: the wires (KVM's), the SETSPI_NSR messages (xvm's). */
int xvm_vgic_level_has(struct xvm_device *dev,
		       const struct xvm_device_attr *attr)
{
	u32 info = vgic_level_info(attr);

	return info == XVM_VGIC_LEVEL_INFO_LINE_LEVEL ||
	       info == XVM_VGIC_LEVEL_INFO_MSI_LEVEL ? 0 : -ENXIO;
}

/*
 * The INTIDs base .. base + 31 that have a level: the PPIs of c, or the
 * SPIs below NR_IRQS (the same whichever vCPU names them); SGIs and INTIDs
 * that do not exist are RAZ/WI.  Returns the mask of the bits that exist,
 * with *first the state of INTID base and *lock the lock protecting it.
 */
static u32 vgic_level_irqs(struct xvm_vgic *vgic, struct xvm_vgic_cpu *c,
			   u32 base, struct xvm_vgic_irq **first,
			   raw_spinlock_t **lock)
{
	u32 limit = min_t(u32, vgic->nr_irqs, VGIC_MAX_INTID);

	if (base < VGIC_NR_PRIVATE) {
		*first = c->priv;
		*lock = &c->lock;
		return GENMASK(VGIC_NR_PRIVATE - 1, VGIC_NR_SGIS);
	}
	if (base >= limit)
		return 0;
	*first = xvm_vgic_spi(vgic, base);
	*lock = &vgic->lock;
	return limit - base >= 32 ? U32_MAX : GENMASK(limit - base - 1, 0);
}

/* The levels of the INTIDs of mask; msi: the message levels. */
static u32 vgic_get_levels(struct xvm_vgic_irq *irq, raw_spinlock_t *lock,
			   unsigned long mask, bool msi)
{
	unsigned long flags;
	unsigned int i;
	u32 val = 0;

	raw_spin_lock_irqsave(lock, flags);
	for_each_set_bit(i, &mask, 32)
		if (msi ? irq[i].msi_level : irq[i].line_level)
			val |= BIT(i);
	raw_spin_unlock_irqrestore(lock, flags);
	return val;
}

/*
 * Sets the levels of the INTIDs of mask to val's bits, as KVM's
 * vgic_write_irq_line_level_info(): whatever the INTID's configuration,
 * so that the order of the restore does not matter.  A level-sensitive
 * interrupt with a level high is then pending.
 */
static void vgic_set_levels(struct xvm_vgic *vgic, struct xvm_vgic_cpu *owner,
			    struct xvm_vgic_irq *irq, raw_spinlock_t *lock,
			    unsigned long mask, bool msi, u32 val)
{
	unsigned long flags;
	unsigned int i;

	raw_spin_lock_irqsave(lock, flags);
	for_each_set_bit(i, &mask, 32) {
		if (msi)
			irq[i].msi_level = val & BIT(i);
		else
			irq[i].line_level = val & BIT(i);
		xvm_vgic_irq_sync(vgic, owner, &irq[i]);
	}
	raw_spin_unlock_irqrestore(lock, flags);
}

/*
 * The vCPU (EINVAL), INIT (EBUSY), an INTID that is a multiple of 32
 * (EINVAL): KVM's order; the info was checked by has.
 */
static int vgic_level_access(struct xvm_vgic *vgic,
			     const struct xvm_device_attr *attr, bool write,
			     u32 *val)
{
	u32 base = attr->attr & XVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK;
	bool msi = vgic_level_info(attr) == XVM_VGIC_LEVEL_INFO_MSI_LEVEL;
	struct xvm_vgic_irq *irq = NULL;
	raw_spinlock_t *lock = NULL;
	struct xvm_vgic_cpu *c;
	int ret = 0;
	u32 mask;

	mutex_lock(&vgic->config_lock);
	c = xvm_vgic_cpu_by_aff(vgic, attr->attr >>
				XVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT);
	if (!c)
		ret = -EINVAL;
	else if (!vgic->initialized)
		ret = -EBUSY;
	else if (base % 32)
		ret = -EINVAL;
	if (ret)
		goto out;
	mask = vgic_level_irqs(vgic, c, base, &irq, &lock);
	/* Private INTIDs have no messages. */
	if (msi && base < VGIC_NR_PRIVATE)
		mask = 0;
	if (!write) {
		*val = mask ? vgic_get_levels(irq, lock, mask, msi) : 0;
	} else if (mask) {
		vgic_set_levels(vgic, base < VGIC_NR_PRIVATE ? c : NULL, irq,
				lock, mask, msi, *val);
		if (*val & mask)
			xvm_vgic_kick_all(vgic);
	}
out:
	mutex_unlock(&vgic->config_lock);
	return ret;
}

int xvm_vgic_level_get(struct xvm_device *dev,
		       const struct xvm_device_attr *attr, void *val)
{
	return vgic_level_access(dev->private, attr, false, val);
}

int xvm_vgic_level_set(struct xvm_device *dev,
		       const struct xvm_device_attr *attr, const void *val)
{
	u32 v = *(const u32 *)val;

	return vgic_level_access(dev->private, attr, true, &v);
}

/* CTRL/STATE_VERSION: any time, no INIT needed. */
int xvm_vgic_get_state_version(struct xvm_device *dev,
			       const struct xvm_device_attr *attr, void *val)
{
	*(u64 *)val = XVM_VGIC_STATE_VERSION;
	return 0;
}
