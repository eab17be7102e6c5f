// SPDX-License-Identifier: GPL-2.0
/*
 * Register tables: how an access to a GIC frame finds its register, and the
 * per-IRQ registers shared by the distributor (SPIs) and the redistributor
 * SGI_base frame (SGIs and PPIs), as KVM's vgic-mmio.c.
 *
 * A table (struct xvm_vgic_regs) is an array of registers sorted by offset:
 * offset, length, bits per INTID, legal access widths, read and write
 * handlers.  Each table has an index, built once at module init
 * (xvm_vgic_regs_init()): for every 4-byte word of the frame, which
 * register holds it, so vgic_dispatch() finds the register with one
 * load, and applies the architecture's rules:
 *  - an access to no register (reserved space) reads as zero and writes
 *    are ignored;
 *  - an access of a width the register does not allow, misaligned, or
 *    straddling a register boundary is not handled: the VMM sees
 *    XVM_MMIO_UNHANDLED and injects the abort the guest deserves;
 *  - distributor per-IRQ registers: INTIDs 0..31 (banked in the
 *    redistributors with ARE=1) and INTIDs at or above NR_IRQS are RAZ/WI.
 *
 * Locking: a per-IRQ handler takes the lock of the INTIDs it covers (one
 * 32-INTID access never mixes private INTIDs and SPIs): the redistributor's
 * vgic_cpu->lock or vgic->lock; reads of the enable and group bits take
 * none (vgic_read_fields(), as KVM's; the enable bits are also kept as
 * register words, read with one load), their writers use WRITE_ONCE().
 * After unlocking, a writer kicks the vCPUs that may have gained a
 * deliverable interrupt.  Nothing here sleeps.
 */
#include <linux/err.h>
#include <linux/indirect_call_wrapper.h>

#include "vgic.h"

/* The register holding offset, or NULL: one load from the frame's index. */
static const struct xvm_vgic_reg *vgic_find_reg(const struct xvm_vgic_regs *t,
						u32 offset)
{
	u32 word = offset / 4;
	unsigned int i;

	if (unlikely(word >= t->nr_words))
		return NULL;
	i = t->index[array_index_nospec(word, t->nr_words)];
	return i ? &t->regs[i - 1] : NULL;
}

/*
 * Builds the index of t (once, at module init): its registers must be
 * word-aligned, in the frame and disjoint.
 */
int xvm_vgic_regs_init(const struct xvm_vgic_regs *t)
{
	unsigned int i, w;

	if (t->nr >= U8_MAX)
		return -EINVAL;
	for (i = 0; i < t->nr; i++) {
		const struct xvm_vgic_reg *reg = &t->regs[i];
		u32 len = xvm_vgic_reg_len(reg);

		if (!IS_ALIGNED(reg->offset | len, 4) || !len ||
		    reg->offset / 4 + len / 4 > t->nr_words)
			goto bad;
		for (w = reg->offset / 4; w < (reg->offset + len) / 4; w++) {
			if (t->index[w])
				goto bad;
			t->index[w] = i + 1;
		}
	}
	return 0;
bad:
	pr_err("xvm-vgic: %s table bad at %#x\n", t->name, t->regs[i].offset);
	return -EINVAL;
}

static u8 vgic_width(u32 len)
{
	switch (len) {
	case 1:
		return VGIC_ACC_8;
	case 4:
		return VGIC_ACC_32;
	case 8:
		return VGIC_ACC_64;
	default:
		return 0;
	}
}

/*
 * The register an access of len bytes at offset reaches, or NULL for
 * reserved space (RAZ/WI), or ERR_PTR(-EINVAL) for an access the rules
 * above do not handle.  One lookup: the register holding the first byte
 * must hold the last one too.
 */
static __always_inline const struct xvm_vgic_reg *
vgic_access_reg(const struct xvm_vgic_regs *t, u32 offset, u32 len)
{
	const struct xvm_vgic_reg *reg = vgic_find_reg(t, offset);

	if (unlikely(!reg)) {
		/* The first byte is reserved: so must the last one be. */
		return vgic_find_reg(t, offset + len - 1) ? ERR_PTR(-EINVAL) :
							    NULL;
	}
	if (offset + len > reg->offset + xvm_vgic_reg_len(reg) ||
	    !(reg->access & vgic_width(len)) || !IS_ALIGNED(offset, len))
		return ERR_PTR(-EINVAL);
	return reg;
}

/*
 * The access, always inlined into the bus ops below, so that a guest
 * access makes one call, to the register's handler.  The reads of the
 * registers read lock-free, GICR_TYPER and the enable bits, are called
 * directly: with retpolines an indirect call costs more than their body.
 */
static __always_inline int vgic_dispatch(const struct xvm_vgic_regs *t,
					 struct xvm_vgic *vgic,
					 struct xvm_vgic_cpu *rd, u32 offset,
					 u32 len, bool is_write, u64 *val,
					 bool user)
{
	const struct xvm_vgic_reg *reg = vgic_access_reg(t, offset, len);
	struct xvm_vgic_access a;

	if (IS_ERR(reg))
		return PTR_ERR(reg);
	if (!reg)
		goto raz_wi;		/* reserved */

	a.vgic = vgic;
	a.rd = rd;
	a.offset = offset - reg->offset;
	a.len = len;
	a.intid = 0;
	if (reg->per_irq) {
		a.intid = (a.offset * 8) >> reg->intid_shift;
		if (!rd && a.intid >= vgic->nr_irqs)
			goto raz_wi;
	}
	if (user && is_write && reg->uwrite)
		reg->uwrite(&a, *val);
	else if (user && !is_write && reg->uread)
		*val = reg->uread(&a);
	else if (is_write)
		reg->write(&a, *val);
	else
		*val = INDIRECT_CALL_2(reg->read, xvm_vgic_read_rd_typer,
				       xvm_vgic_read_enable, &a);
	return 0;

raz_wi:
	if (!is_write)
		*val = 0;
	return 0;
}

/*
 * A 32-bit DIST_REGS / REDIST_REGS access: the guest's, but for the
 * registers with user handlers (KVM's uaccess: the pending latch).
 */
int xvm_vgic_uaccess(const struct xvm_vgic_regs *t, struct xvm_vgic *vgic,
		     struct xvm_vgic_cpu *rd, u32 offset, bool is_write,
		     u64 *val)
{
	return vgic_dispatch(t, vgic, rd, offset, 4, is_write, val, true);
}

/*
 * The bus side.  A distributor access before CTRL/INIT is not handled
 * (the VMM sees it unhandled): the interrupt state is not sized yet.
 */
static int vgic_dist_read(struct xvm_vcpu *vcpu, struct xvm_mmio_region *r,
			  u64 offset, unsigned int len, u64 *val)
{
	struct xvm_vgic *vgic = container_of(r, struct xvm_vgic, dist_mmio);

	if (!xvm_vgic_initialized(vgic))
		return -EBUSY;
	return vgic_dispatch(&xvm_vgic_dist_regs, vgic, NULL, offset, len,
			     false, val, false);
}

static int vgic_dist_write(struct xvm_vcpu *vcpu, struct xvm_mmio_region *r,
			   u64 offset, unsigned int len, u64 val)
{
	struct xvm_vgic *vgic = container_of(r, struct xvm_vgic, dist_mmio);

	if (!xvm_vgic_initialized(vgic))
		return -EBUSY;
	return vgic_dispatch(&xvm_vgic_dist_regs, vgic, NULL, offset, len,
			     true, &val, false);
}

/*
 * An access the GICR_TYPER table entry takes (32 or 64 bits, aligned):
 * zero when so, in one test (the bus passes len 1, 2, 4 or 8).
 */
static __always_inline u64 vgic_not_typer(u64 offset, unsigned int len)
{
	return ((offset & ~7ULL) ^ XVM_GICR_TYPER) | (offset & (len - 1)) |
	       (len & 3);
}

static int vgic_rdist_read(struct xvm_vcpu *vcpu, struct xvm_mmio_region *r,
			   u64 offset, unsigned int len, u64 *val)
{
	struct xvm_vgic_cpu *c = container_of(r, struct xvm_vgic_cpu, mmio);

	/*
	 * GICR_TYPER, which a guest reads from frame after frame to find its
	 * redistributor, without the table lookup and the handler call: the
	 * same value as xvm_vgic_read_rd_typer() (the table's entry, which
	 * the attributes still use).
	 */
	if (!vgic_not_typer(offset, len)) {
		*val = xvm_vgic_rd_typer(c, offset - XVM_GICR_TYPER, len);
		return 0;
	}
	return vgic_dispatch(&xvm_vgic_rdist_regs, c->vgic, c, offset, len,
			     false, val, false);
}

static int vgic_rdist_write(struct xvm_vcpu *vcpu, struct xvm_mmio_region *r,
			    u64 offset, unsigned int len, u64 val)
{
	struct xvm_vgic_cpu *c = container_of(r, struct xvm_vgic_cpu, mmio);

	return vgic_dispatch(&xvm_vgic_rdist_regs, c->vgic, c, offset, len,
			     true, &val, false);
}

const struct xvm_mmio_ops xvm_vgic_dist_ops = {
	.read	= vgic_dist_read,
	.write	= vgic_dist_write,
};

const struct xvm_mmio_ops xvm_vgic_rdist_ops = {
	.read	= vgic_rdist_read,
	.write	= vgic_rdist_write,
};

/* DIST_REGS/REDIST_REGS name a register by offset: a 32-bit access. */
bool xvm_vgic_uaccess_valid(const struct xvm_vgic_regs *t, u32 offset)
{
	const struct xvm_vgic_reg *reg;

	if (!IS_ALIGNED(offset, 4))
		return false;
	reg = vgic_find_reg(t, offset);
	return reg && (reg->access & VGIC_ACC_32);
}

u64 xvm_vgic_read_raz(const struct xvm_vgic_access *a)
{
	return 0;
}

void xvm_vgic_write_wi(const struct xvm_vgic_access *a, u64 val)
{
}

/* Per-IRQ registers */

/* The state of INTID intid as seen through this frame, or NULL (RAZ/WI). */
static struct xvm_vgic_irq *vgic_acc_irq(const struct xvm_vgic_access *a,
					 u32 intid)
{
	if (a->rd)
		return intid < VGIC_NR_PRIVATE ? xvm_vgic_priv(a->rd, intid) :
						 NULL;
	if (intid < VGIC_NR_PRIVATE || intid >= a->vgic->nr_irqs ||
	    intid >= VGIC_MAX_INTID)
		return NULL;
	return xvm_vgic_spi(a->vgic, intid);
}

/*
 * The state of INTID a->intid as seen through this frame in *first, and
 * how many of the nr INTIDs from there exist in it (consecutive ones; the
 * rest are RAZ/WI).  The INTIDs of one access never straddle INTID 32:
 * an access covers at most 32 INTIDs and is aligned to its size.
 */
static u32 vgic_acc_irqs(const struct xvm_vgic_access *a, u32 nr,
			 struct xvm_vgic_irq **first)
{
	u32 start = a->intid, limit;

	if (a->rd) {
		limit = VGIC_NR_PRIVATE;
		if (start >= limit)
			return 0;
		*first = xvm_vgic_priv(a->rd, start);
	} else {
		limit = min_t(u32, a->vgic->nr_irqs, VGIC_MAX_INTID);
		if (start < VGIC_NR_PRIVATE || start >= limit)
			return 0;
		*first = xvm_vgic_spi(a->vgic, start);
	}
	return min(nr, limit - start);
}

static raw_spinlock_t *vgic_acc_lock(const struct xvm_vgic_access *a)
{
	return a->rd ? &a->rd->lock : &a->vgic->lock;
}

/* Kicks the vCPUs owning the INTIDs a->intid + i for each bit i of mask. */
static void vgic_acc_kick(const struct xvm_vgic_access *a, u64 mask)
{
	struct xvm_vgic_cpu *c, *prev = NULL;
	unsigned long bits = mask;
	struct xvm_vgic_irq *irq;
	unsigned int i;
	s16 target;

	if (!mask)
		return;
	if (a->rd) {
		xvm_vgic_kick(a->rd);
		return;
	}
	for_each_set_bit(i, &bits, BITS_PER_LONG) {
		/* Only INTIDs the access reached have their bit set. */
		irq = vgic_acc_irq(a, a->intid + i);
		if (!irq)
			continue;
		target = READ_ONCE(irq->target);
		if (target < 0)
			continue;
		c = a->vgic->cpus[target];
		if (c != prev)
			xvm_vgic_kick(c);
		prev = c;
	}
}

/*
 * A register of bits-wide fields, one per INTID: field i is
 * get(INTID a->intid + i).  Always inlined, so that get is a direct
 * (inlined) load, not a call per INTID.  With locked false the INTIDs'
 * lock is not taken, as KVM's vgic_mmio_read_enable(): for a field that is
 * one member of the INTID's state (enabled, group), read with READ_ONCE()
 * and written with WRITE_ONCE() under the lock, each field is its INTID's
 * value at some moment during the access.
 */
static __always_inline u64
vgic_read_fields(const struct xvm_vgic_access *a, u32 bits,
		 u64 (*get)(const struct xvm_vgic_irq *irq), bool locked)
{
	raw_spinlock_t *lock = vgic_acc_lock(a);
	struct xvm_vgic_irq *irq;
	unsigned long flags = 0;
	u64 val = 0;
	u32 i, n;

	n = vgic_acc_irqs(a, a->len * 8 / bits, &irq);
	if (!n)
		return 0;
	if (locked)
		raw_spin_lock_irqsave(lock, flags);
	for (i = 0; i < n; i++)
		val |= get(&irq[i]) << (i * bits);
	if (locked)
		raw_spin_unlock_irqrestore(lock, flags);
	return val;
}

/*
 * The writer of such a register: under the INTIDs' lock, set(a, irq,
 * field) for every INTID the access reaches, with its field of val.  set
 * returns true when the change may make the interrupt deliverable (it
 * syncs the INTID's delivery state itself if the change affects it); the
 * vCPUs owning those INTIDs are kicked once the lock is dropped.
 */
static __always_inline void
vgic_write_fields(const struct xvm_vgic_access *a, u64 val, u32 bits,
		  bool (*set)(const struct xvm_vgic_access *a,
			      struct xvm_vgic_irq *irq, u64 field))
{
	raw_spinlock_t *lock = vgic_acc_lock(a);
	u64 mask = GENMASK_ULL(bits - 1, 0);
	struct xvm_vgic_irq *irq;
	unsigned long flags;
	u64 kick = 0;
	u32 i, n;

	n = vgic_acc_irqs(a, a->len * 8 / bits, &irq);
	if (!n)
		return;
	raw_spin_lock_irqsave(lock, flags);
	for (i = 0; i < n; i++)
		if (set(a, &irq[i], (val >> (i * bits)) & mask))
			kick |= BIT_ULL(i);
	raw_spin_unlock_irqrestore(lock, flags);
	vgic_acc_kick(a, kick);
}

/*
 * Applies op to every INTID whose bit is set in val; op returns true when
 * the change may make the interrupt deliverable.
 */
static __always_inline void
vgic_write_bits(const struct xvm_vgic_access *a, u64 val,
		bool (*op)(struct xvm_vgic_irq *irq))
{
	raw_spinlock_t *lock = vgic_acc_lock(a);
	unsigned long bits = val, flags;
	struct xvm_vgic_irq *irq;
	u64 kick = 0;
	unsigned int i, n;

	n = vgic_acc_irqs(a, a->len * 8, &irq);
	if (!n)
		return;
	raw_spin_lock_irqsave(lock, flags);
	for_each_set_bit(i, &bits, n) {
		if (op(&irq[i]))
			kick |= BIT_ULL(i);
		xvm_vgic_irq_sync(a->vgic, a->rd, &irq[i]);
	}
	raw_spin_unlock_irqrestore(lock, flags);
	vgic_acc_kick(a, kick);
}

/* Read lock-free: see vgic_read_fields(); the enable bits are words. */
static u64 vgic_get_group(const struct xvm_vgic_irq *irq)
{
	return READ_ONCE(irq->group1);
}

static u64 vgic_get_active(const struct xvm_vgic_irq *irq)
{
	return irq->active;
}

static u64 vgic_get_pending(const struct xvm_vgic_irq *irq)
{
	return xvm_vgic_irq_pending(irq);
}

static bool vgic_set_enabled(struct xvm_vgic_irq *irq)
{
	irq->enabled = true;
	return true;
}

static bool vgic_clear_enabled(struct xvm_vgic_irq *irq)
{
	irq->enabled = false;
	return false;
}

static bool vgic_set_pending(struct xvm_vgic_irq *irq)
{
	irq->pending_latch = true;
	return true;
}

static bool vgic_clear_pending(struct xvm_vgic_irq *irq)
{
	irq->pending_latch = false;
	return false;
}

static bool vgic_set_active(struct xvm_vgic_irq *irq)
{
	irq->active = true;
	return false;
}

static bool vgic_clear_active(struct xvm_vgic_irq *irq)
{
	irq->active = false;
	return true;
}

u64 xvm_vgic_read_group(const struct xvm_vgic_access *a)
{
	return vgic_read_fields(a, 1, vgic_get_group, false);
}

static bool vgic_set_group(const struct xvm_vgic_access *a,
			   struct xvm_vgic_irq *irq, u64 group1)
{
	if (irq->group1 == group1)
		return false;
	WRITE_ONCE(irq->group1, group1);
	return true;
}

/* IGROUPR: a write sets every covered INTID's group. */
void xvm_vgic_write_group(const struct xvm_vgic_access *a, u64 val)
{
	vgic_write_fields(a, val, 1, vgic_set_group);
}

/*
 * The enable bits of the 32 INTIDs of a 4-byte ISENABLER/ICENABLER access
 * as one word, or NULL (RAZ/WI); *valid: the bits of INTIDs that exist.
 */
static u32 *vgic_enabled_word(const struct xvm_vgic_access *a, u32 *valid)
{
	struct xvm_vgic_irq *irq;
	u32 n = vgic_acc_irqs(a, 32, &irq);

	if (!n)
		return NULL;
	*valid = n == 32 ? U32_MAX : GENMASK(n - 1, 0);
	return a->rd ? &a->rd->priv_enabled :
		       &a->vgic->spi_enabled[array_index_nospec(a->intid / 32,
							VGIC_DIST_INTIDS / 32)];
}

/* The word, lock-free (see vgic_read_fields()): one load per access. */
u64 xvm_vgic_read_enable(const struct xvm_vgic_access *a)
{
	u32 valid, *word = vgic_enabled_word(a, &valid);

	return word ? READ_ONCE(*word) & valid : 0;
}

/*
 * Applies op to the INTIDs of val, then sets (set) or clears their bits
 * of the enable word, under the same hold of the INTIDs' lock.
 */
static void vgic_write_enable(const struct xvm_vgic_access *a, u64 val,
			      bool (*op)(struct xvm_vgic_irq *irq), bool set)
{
	raw_spinlock_t *lock = vgic_acc_lock(a);
	u32 valid, *word = vgic_enabled_word(a, &valid);
	struct xvm_vgic_irq *irq;
	unsigned long bits, flags;
	u64 kick = 0;
	unsigned int i;

	if (!word || !vgic_acc_irqs(a, 32, &irq))
		return;
	bits = val & valid;
	raw_spin_lock_irqsave(lock, flags);
	for_each_set_bit(i, &bits, 32) {
		if (op(&irq[i]))
			kick |= BIT_ULL(i);
		xvm_vgic_irq_sync(a->vgic, a->rd, &irq[i]);
	}
	WRITE_ONCE(*word, set ? *word | (u32)bits : *word & ~(u32)bits);
	raw_spin_unlock_irqrestore(lock, flags);
	vgic_acc_kick(a, kick);
}

void xvm_vgic_write_senable(const struct xvm_vgic_access *a, u64 val)
{
	vgic_write_enable(a, val, vgic_set_enabled, true);
}

void xvm_vgic_write_cenable(const struct xvm_vgic_access *a, u64 val)
{
	vgic_write_enable(a, val, vgic_clear_enabled, false);
}

u64 xvm_vgic_read_pending(const struct xvm_vgic_access *a)
{
	return vgic_read_fields(a, 1, vgic_get_pending, true);
}

void xvm_vgic_write_spending(const struct xvm_vgic_access *a, u64 val)
{
	vgic_write_bits(a, val, vgic_set_pending);
}

/* ICPENDR clears the latch; a level-sensitive line still asserted stays. */
void xvm_vgic_write_cpending(const struct xvm_vgic_access *a, u64 val)
{
	vgic_write_bits(a, val, vgic_clear_pending);
}

/*
 * ISPENDR from the attributes, as KVM's vgic_uaccess_read_pending() and
 * vgic_v3_uaccess_write_pending(): the pending latch alone, so that a VMM
 * saves and restores it apart from the line and message levels
 * (LEVEL_INFO); a write sets every covered latch to its bit, whatever the
 * INTID's configuration.
 */
static u64 vgic_get_latch(const struct xvm_vgic_irq *irq)
{
	return irq->pending_latch;
}

u64 xvm_vgic_uread_pending(const struct xvm_vgic_access *a)
{
	return vgic_read_fields(a, 1, vgic_get_latch, true);
}

static bool vgic_set_latch(const struct xvm_vgic_access *a,
			   struct xvm_vgic_irq *irq, u64 latch)
{
	irq->pending_latch = latch;
	xvm_vgic_irq_sync(a->vgic, a->rd, irq);
	return latch;
}

void xvm_vgic_uwrite_pending(const struct xvm_vgic_access *a, u64 val)
{
	vgic_write_fields(a, val, 1, vgic_set_latch);
}

u64 xvm_vgic_read_active(const struct xvm_vgic_access *a)
{
	return vgic_read_fields(a, 1, vgic_get_active, true);
}

void xvm_vgic_write_sactive(const struct xvm_vgic_access *a, u64 val)
{
	vgic_write_bits(a, val, vgic_set_active);
}

void xvm_vgic_write_cactive(const struct xvm_vgic_access *a, u64 val)
{
	vgic_write_bits(a, val, vgic_clear_active);
}

/* IPRIORITYR: 8 bits per INTID, byte or word accesses. */
static u64 vgic_get_priority(const struct xvm_vgic_irq *irq)
{
	return irq->priority;
}

u64 xvm_vgic_read_priority(const struct xvm_vgic_access *a)
{
	return vgic_read_fields(a, 8, vgic_get_priority, true);
}

static bool vgic_set_priority(const struct xvm_vgic_access *a,
			      struct xvm_vgic_irq *irq, u64 prio)
{
	prio &= VGIC_PRI_MASK;
	if (irq->priority == prio)
		return false;
	irq->priority = prio;
	return true;
}

void xvm_vgic_write_priority(const struct xvm_vgic_access *a, u64 val)
{
	vgic_write_fields(a, val, 8, vgic_set_priority);
}

/* ICFGR: 2 bits per INTID, bit 1 set = edge-triggered; SGIs are edge, RO. */
static u64 vgic_get_config(const struct xvm_vgic_irq *irq)
{
	return irq->edge ? 2 : 0;
}

u64 xvm_vgic_read_config(const struct xvm_vgic_access *a)
{
	return vgic_read_fields(a, 2, vgic_get_config, true);
}

static bool vgic_set_config(const struct xvm_vgic_access *a,
			    struct xvm_vgic_irq *irq, u64 cfg)
{
	bool edge = cfg & 2;

	if (irq->intid < VGIC_NR_SGIS || irq->edge == edge)
		return false;
	irq->edge = edge;
	xvm_vgic_irq_sync(a->vgic, a->rd, irq);
	return true;
}

void xvm_vgic_write_config(const struct xvm_vgic_access *a, u64 val)
{
	vgic_write_fields(a, val, 2, vgic_set_config);
}
