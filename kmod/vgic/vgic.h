/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xvm-vgic: the internal interfaces of the GICv3 emulation.
 *
 * One file per concern:
 *   vgic-dev.c      the device type: attributes, INIT, vCPUs, the module
 *   vgic-rdist.c    the distributor address, redistributor regions, slots
 *   vgic-mmio.c     register-table dispatch, the bus ops, the per-IRQ
 *                   registers
 *   vgic-mmio-v3.c  the distributor and redistributor register tables
 *   vgic-irq.c      interrupt state, lines, delivery, the CPU interface
 *   vgic-cpuif.c    the vCPU ioctls and the device-fd line ioctl
 *   vgic-state.c    save/restore attributes: CPU_SYSREGS, LEVEL_INFO,
 *                   the state version
 *
 * Locking, outermost first:
 *   vm->lock (core)            held around the vCPU hooks; INIT, ADDR take it
 *   vgic->config_lock (mutex)  addresses, regions, slots, cpus[], by_id[],
 *                              nr_irqs, initialized, ready
 *   vm->mmio_lock (core)       inside xvm_mmio_register/unregister
 *   vgic_cpu->lock (raw)       that vCPU's private IRQs (SGIs, PPIs), its
 *                              priv_ready mask, GICR_WAKER, CPU interface
 *   vgic->lock (raw)           SPIs, GICD_CTLR, every vgic_cpu->spi_ready
 * Both raw spinlocks are taken with IRQs off: MMIO handlers run under
 * rcu_read_lock(), possibly in hard-IRQ context (an MSI written to
 * GICD_SETSPI_NSR), and only ever take those two, never sleeping.
 *
 * Lock-free readers on the MMIO path: a redistributor frame is registered
 * on the bus only after its vgic_cpu fields are set; rdreg->free_index and
 * rdreg->next are read with READ_ONCE (GICR_TYPER.Last); a region or
 * vgic_cpu is freed only after a grace period (xvm_mmio_synchronize() at
 * teardown, kfree_rcu() where a mutex is held).  vgic->nr_irqs is
 * read after smp_load_acquire(&vgic->initialized).  GICR_TYPER takes no
 * lock (c->typer is set before the frame is registered); nor do reads of
 * the enable and group registers (vgic-mmio.c): the enable bits are
 * also kept as register words (priv_enabled, spi_enabled, under the
 * INTIDs' lock), and those words and the group fields are written with
 * WRITE_ONCE().
 */
#ifndef _XVM_VGIC_H
#define _XVM_VGIC_H

#include <linux/bitmap.h>
#include <linux/log2.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <xvm/core.h>

#include "vgic-regs.h"

#define VGIC_NR_SGIS		16
#define VGIC_NR_PRIVATE		32
#define VGIC_MAX_INTID		1020	/* INTIDs 1020..1023 are special */
#define VGIC_MAX_SPIS		(VGIC_MAX_INTID - VGIC_NR_PRIVATE)
#define VGIC_PRI_MASK		0xf8	/* 5 priority bits, as KVM */
#define VGIC_PRI_SHIFT		3
#define VGIC_PRI_IDLE		0xff
#define VGIC_PRI_BITS		5
/* The binary points' minimum with 5 priority bits (GICv3 ICC_BPR<n>). */
#define VGIC_BPR0_MIN		(7 - VGIC_PRI_BITS)
#define VGIC_BPR1_MIN		(VGIC_BPR0_MIN + 1)
#define VGIC_ADDR_UNDEF		(~0ULL)
#define VGIC_IIDR		((0x58U << 24) | 0x43b)	/* 'X', implementer ARM */
#define VGIC_DIST_INTIDS	1024

struct xvm_vgic;

/*
 * One INTID.  Private ones (0..31) are protected by their vCPU's lock,
 * SPIs by vgic->lock.  Pending is pending_latch, or for a level-sensitive
 * interrupt also the wire (line_level) or the message (msi_level, set by
 * GICD_SETSPI_NSR and cleared by GICD_CLRSPI_NSR).
 */
struct xvm_vgic_irq {
	u16 intid;
	u8 priority;			/* low 3 bits zero */
	bool group1;
	bool enabled;
	bool edge;			/* GICD_ICFGR: edge-triggered */
	bool pending_latch;
	bool line_level;
	bool msi_level;
	bool active;
	s16 target;			/* SPI: vCPU index, -1: none */
	u32 mpidr;			/* SPI: GICD_IROUTER Aff2.Aff1.Aff0 */
};

/*
 * A redistributor region: count frames pairs (0: the legacy region, one
 * per vCPU) at base, filled in order; free_index slots are used.
 */
struct xvm_vgic_rdreg {
	u32 index;
	u32 count;
	u64 base;
	u32 free_index;
	struct xvm_vgic_rdreg *next;	/* the region starting at our end */
	struct rcu_head rcu;
};

/* The per-vCPU part: its redistributor and its CPU interface. */
struct xvm_vgic_cpu {
	struct xvm_vgic *vgic;
	struct xvm_mmio_region mmio;	/* RD_base + SGI_base, 128 KiB */
	u32 index;			/* the vCPU's creation index */
	u32 id;				/* the vCPU's id */
	u32 aff;			/* MPIDR Aff2.Aff1.Aff0 (bits 23:0) */
	u64 typer;			/* GICR_TYPER but Last, from id, aff */
	struct xvm_vgic_rdreg *rdreg;	/* NULL: no slot (yet) */
	u32 rdreg_index;		/* its slot in rdreg */

	raw_spinlock_t lock;
	struct xvm_vgic_irq priv[VGIC_NR_PRIVATE];
	u32 priv_ready;			/* enabled, pending, not active */
	u32 priv_enabled;		/* GICR_ISENABLER0: priv[i].enabled */
	u32 waker;			/* GICR_WAKER */
	u8 pmr;				/* CPU interface ... */
	u8 bpr0;			/* ICC_BPR0_EL1, >= VGIC_BPR0_MIN */
	u8 bpr1;			/* ICC_BPR1_EL1, >= VGIC_BPR1_MIN */
	bool cbpr;			/* ICC_CTLR_EL1.CBPR */
	u32 ctlr;			/* XVM_VGIC_CPUIF_* */
	u32 ap0r;			/* active priorities: ICC_AP0R0_EL1 */
	u32 ap1r;			/* ICC_AP1R0_EL1 */
	u32 notify_port;		/* READ_ONCE; 0: none */

	/* SPIs routed here that are ready, by INTID; under vgic->lock. */
	DECLARE_BITMAP(spi_ready, VGIC_MAX_INTID);
	struct rcu_head rcu;
};

struct xvm_vgic {
	struct xvm_device *dev;
	struct xvm_vm *vm;

	struct mutex config_lock;		/* see the top of this file */
	u64 dist_base;
	struct xvm_mmio_region dist_mmio;	/* on the bus once dist_base is set */
	struct xarray rdregs;			/* index -> struct xvm_vgic_rdreg */
	u32 nr_rdregs;
	u32 fill;				/* first region that may have room */
	u32 nr_irqs_set;			/* NR_IRQS as set, 0: never */
	u32 nr_irqs;				/* fixed by INIT */
	bool initialized;			/* smp_store_release */
	bool ready;				/* smp_store_release */
	u32 nr_cpus;
	struct xvm_vgic_cpu *cpus[XVM_MAX_VCPUS];	/* by vCPU index */
	struct xvm_vgic_cpu *by_id[XVM_MAX_VCPU_ID];	/* by vCPU id */

	raw_spinlock_t lock;
	u32 ctlr;				/* GICD_CTLR enable bits */
	/* GICD_ISENABLER<n>: bit i of word n is spis[32 n + i - 32].enabled */
	u32 spi_enabled[VGIC_DIST_INTIDS / 32];
	struct xvm_vgic_irq spis[VGIC_MAX_SPIS];
};

/* Pairs with the smp_store_release() that ends CTRL/INIT. */
static inline bool xvm_vgic_initialized(struct xvm_vgic *vgic)
{
	/* Read nr_irqs and the routing only after initialized. */
	return smp_load_acquire(&vgic->initialized);
}

/*
 * The SPI intid (VGIC_NR_PRIVATE <= intid < VGIC_MAX_INTID, checked by the
 * caller), with the index clamped under speculation as KVM's
 * vgic_get_irq().
 */
static inline struct xvm_vgic_irq *xvm_vgic_spi(struct xvm_vgic *vgic,
						u32 intid)
{
	return &vgic->spis[array_index_nospec(intid - VGIC_NR_PRIVATE,
					      VGIC_MAX_SPIS)];
}

/* The private intid (< VGIC_NR_PRIVATE, checked by the caller) of c. */
static inline struct xvm_vgic_irq *xvm_vgic_priv(struct xvm_vgic_cpu *c,
						 u32 intid)
{
	return &c->priv[array_index_nospec(intid, VGIC_NR_PRIVATE)];
}

/* MPIDR affinity of a vCPU id, as KVM's reset_mpidr(). */
static inline u32 xvm_vgic_id_to_aff(u32 id)
{
	return (id & 0xf) | (((id >> 4) & 0xff) << 8) |
	       (((id >> 12) & 0xff) << 16);
}

/* vgic-rdist.c */
int xvm_vgic_set_dist(struct xvm_vgic *vgic, u64 addr);
int xvm_vgic_add_rdreg(struct xvm_vgic *vgic, u32 index, u64 base, u32 count);
struct xvm_vgic_rdreg *xvm_vgic_rdreg(struct xvm_vgic *vgic, u32 index);
int xvm_vgic_cpu_take_slot(struct xvm_vgic_cpu *c);
void xvm_vgic_cpu_drop_slot(struct xvm_vgic_cpu *c);
void xvm_vgic_unmap_all(struct xvm_vgic *vgic);
void xvm_vgic_free_rdregs(struct xvm_vgic *vgic);

/*
 * GICR_TYPER.Last, as KVM's vgic_mmio_vcpu_rdist_is_last(): c has the last
 * used slot of its region and, if that slot ends the region, no used
 * region starts right after it.  A vCPU without a slot is never Last.
 */
static inline bool xvm_vgic_rd_is_last(struct xvm_vgic_cpu *c)
{
	struct xvm_vgic_rdreg *r = READ_ONCE(c->rdreg);
	struct xvm_vgic_rdreg *next;

	if (!r)
		return false;
	if (c->rdreg_index + 1 < READ_ONCE(r->free_index))
		return false;
	if (r->count && c->rdreg_index == r->count - 1) {
		next = READ_ONCE(r->next);
		if (next && READ_ONCE(next->free_index) > 0)
			return false;
	}
	return true;
}

/* The len bytes at offset (from the register's start) of the value reg. */
static inline u64 xvm_vgic_extract(u64 reg, u32 offset, u32 len)
{
	reg >>= (offset & 7) * 8;
	return len == 8 ? reg : reg & GENMASK_ULL(len * 8 - 1, 0);
}

/*
 * GICR_TYPER of c, the len bytes at offset from its start: the constant
 * part precomputed when the id is set (vgic_cpu_set_id()), and Last.  No
 * lock: Last is computed lock-free (xvm_vgic_rd_is_last()).
 */
static inline u64 xvm_vgic_rd_typer(struct xvm_vgic_cpu *c, u32 offset,
				    u32 len)
{
	u64 val = READ_ONCE(c->typer);

	if (xvm_vgic_rd_is_last(c))
		val |= XVM_GICR_TYPER_LAST;
	return xvm_vgic_extract(val, offset, len);
}

/* vgic-dev.c */
struct xvm_vgic_cpu *xvm_vgic_cpu_by_aff(struct xvm_vgic *vgic, u32 aff);
struct xvm_vgic_cpu *xvm_vgic_cpu_by_id(struct xvm_vgic *vgic, u32 id);
int xvm_vgic_ready(struct xvm_vgic *vgic);

/* vgic-mmio.c: a register table and the accesses it serves */
#define VGIC_ACC_8		BIT(0)
#define VGIC_ACC_32		BIT(1)
#define VGIC_ACC_64		BIT(2)

struct xvm_vgic_access {
	struct xvm_vgic *vgic;
	struct xvm_vgic_cpu *rd;	/* the redistributor's vCPU; NULL: GICD */
	u32 offset;			/* from the register's start */
	u32 intid;			/* per-IRQ registers: first INTID */
	u32 len;			/* 1, 4 or 8 */
};

struct xvm_vgic_reg {
	u32 offset;			/* in the frame(s) */
	u32 len;			/* bytes covered; per-IRQ: INTIDs covered */
	bool per_irq;			/* a per-IRQ register */
	u8 intid_shift;			/* per-IRQ: ilog2(bits per INTID) */
	u8 access;			/* VGIC_ACC_*: legal widths */
	u64 (*read)(const struct xvm_vgic_access *a);
	void (*write)(const struct xvm_vgic_access *a, u64 val);
	/* DIST_REGS / REDIST_REGS, if they differ (KVM's uaccess_*) */
	u64 (*uread)(const struct xvm_vgic_access *a);
	void (*uwrite)(const struct xvm_vgic_access *a, u64 val);
};

/*
 * A frame's registers and its index: for each 4-byte word of the frame,
 * the number of the register holding it plus one, 0 for reserved space;
 * filled by xvm_vgic_regs_init() at module init, read-only after.
 */
struct xvm_vgic_regs {
	const char *name;
	const struct xvm_vgic_reg *regs;
	unsigned int nr;
	u8 *index;
	u32 nr_words;			/* the frame's size / 4 */
};

#define VGIC_REG(off, length, acc, rd, wr)				\
	{ .offset = (off), .len = (length), .access = (acc),		\
	  .read = (rd), .write = (wr) }
/*
 * A per-IRQ register array of bpi bits per INTID, as KVM's
 * REGISTER_DESC_WITH_BITS_PER_IRQ: the table holds how many INTIDs it
 * covers and the bits, and its length in bytes is always derived from
 * them (xvm_vgic_reg_len()), so the two cannot disagree.  A distributor
 * array covers the 1024 INTIDs the architecture lays out (the private ones
 * RAZ/WI there), a redistributor one the 32 private INTIDs of its vCPU.
 */
#define VGIC_REG_BITS_PER_IRQ(off, nr_intids, bpi, acc, rd, wr)	\
	{ .offset = (off), .len = (nr_intids), .per_irq = true,		\
	  .intid_shift = ilog2(bpi), .access = (acc),			\
	  .read = (rd), .write = (wr) }
#define VGIC_REG_DIST_IRQ(off, bpi, acc, rd, wr)			\
	VGIC_REG_BITS_PER_IRQ(off, VGIC_DIST_INTIDS, bpi, acc, rd, wr)
#define VGIC_REG_PRIVATE_IRQ(off, bpi, acc, rd, wr)			\
	VGIC_REG_BITS_PER_IRQ(off, VGIC_NR_PRIVATE, bpi, acc, rd, wr)
/* The same, with other handlers for the attribute (user) accesses. */
#define VGIC_REG_BITS_PER_IRQ_U(off, nr_intids, bpi, acc, rd, wr, urd, uwr) \
	{ .offset = (off), .len = (nr_intids), .per_irq = true,		\
	  .intid_shift = ilog2(bpi), .access = (acc),			\
	  .read = (rd), .write = (wr), .uread = (urd), .uwrite = (uwr) }
#define VGIC_REG_DIST_IRQ_U(off, bpi, acc, rd, wr, urd, uwr)		\
	VGIC_REG_BITS_PER_IRQ_U(off, VGIC_DIST_INTIDS, bpi, acc, rd, wr,	\
				urd, uwr)
#define VGIC_REG_PRIVATE_IRQ_U(off, bpi, acc, rd, wr, urd, uwr)	\
	VGIC_REG_BITS_PER_IRQ_U(off, VGIC_NR_PRIVATE, bpi, acc, rd, wr,	\
				urd, uwr)

/* Bytes a register table entry covers. */
static inline u32 xvm_vgic_reg_len(const struct xvm_vgic_reg *reg)
{
	return reg->per_irq ? (reg->len << reg->intid_shift) / 8 : reg->len;
}

int xvm_vgic_regs_init(const struct xvm_vgic_regs *t);
int xvm_vgic_uaccess(const struct xvm_vgic_regs *t, struct xvm_vgic *vgic,
		     struct xvm_vgic_cpu *rd, u32 offset, bool is_write,
		     u64 *val);
extern const struct xvm_mmio_ops xvm_vgic_dist_ops;
extern const struct xvm_mmio_ops xvm_vgic_rdist_ops;
bool xvm_vgic_uaccess_valid(const struct xvm_vgic_regs *t, u32 offset);

u64 xvm_vgic_read_raz(const struct xvm_vgic_access *a);
void xvm_vgic_write_wi(const struct xvm_vgic_access *a, u64 val);
u64 xvm_vgic_read_group(const struct xvm_vgic_access *a);
void xvm_vgic_write_group(const struct xvm_vgic_access *a, u64 val);
u64 xvm_vgic_read_enable(const struct xvm_vgic_access *a);
void xvm_vgic_write_senable(const struct xvm_vgic_access *a, u64 val);
void xvm_vgic_write_cenable(const struct xvm_vgic_access *a, u64 val);
u64 xvm_vgic_read_pending(const struct xvm_vgic_access *a);
void xvm_vgic_write_spending(const struct xvm_vgic_access *a, u64 val);
void xvm_vgic_write_cpending(const struct xvm_vgic_access *a, u64 val);
u64 xvm_vgic_uread_pending(const struct xvm_vgic_access *a);
void xvm_vgic_uwrite_pending(const struct xvm_vgic_access *a, u64 val);
u64 xvm_vgic_read_active(const struct xvm_vgic_access *a);
void xvm_vgic_write_sactive(const struct xvm_vgic_access *a, u64 val);
void xvm_vgic_write_cactive(const struct xvm_vgic_access *a, u64 val);
u64 xvm_vgic_read_priority(const struct xvm_vgic_access *a);
void xvm_vgic_write_priority(const struct xvm_vgic_access *a, u64 val);
u64 xvm_vgic_read_config(const struct xvm_vgic_access *a);
void xvm_vgic_write_config(const struct xvm_vgic_access *a, u64 val);

/* vgic-mmio-v3.c */
extern const struct xvm_vgic_regs xvm_vgic_dist_regs;
extern const struct xvm_vgic_regs xvm_vgic_rdist_regs;
u64 xvm_vgic_read_rd_typer(const struct xvm_vgic_access *a);

/* vgic-irq.c */
void xvm_vgic_irq_reset_private(struct xvm_vgic_cpu *c);
void xvm_vgic_irq_reset_spis(struct xvm_vgic *vgic);
bool xvm_vgic_irq_pending(const struct xvm_vgic_irq *irq);
void xvm_vgic_irq_sync(struct xvm_vgic *vgic, struct xvm_vgic_cpu *owner,
		       struct xvm_vgic_irq *irq);
void xvm_vgic_kick(struct xvm_vgic_cpu *c);
void xvm_vgic_kick_all(struct xvm_vgic *vgic);
void xvm_vgic_set_target(struct xvm_vgic *vgic, struct xvm_vgic_irq *irq,
			 u32 mpidr);
int xvm_vgic_line(struct xvm_vgic *vgic, struct xvm_vgic_cpu *c, u32 intid,
		  bool level);
void xvm_vgic_msi(struct xvm_vgic *vgic, u32 intid, bool set);
u32 xvm_vgic_ack(struct xvm_vgic_cpu *c, u32 group, bool acknowledge,
		 u32 *priority);
void xvm_vgic_eoi(struct xvm_vgic_cpu *c, u32 intid, bool drop,
		  bool deactivate);
void xvm_vgic_sgi(struct xvm_vgic_cpu *c, u64 value, bool group1);
u32 xvm_vgic_rpr(const struct xvm_vgic_cpu *c);

/* vgic-state.c: save and restore (CPU_SYSREGS, LEVEL_INFO, the version) */
int xvm_vgic_sysreg_has(struct xvm_device *dev,
			const struct xvm_device_attr *attr);
int xvm_vgic_sysreg_get(struct xvm_device *dev,
			const struct xvm_device_attr *attr, void *val);
int xvm_vgic_sysreg_set(struct xvm_device *dev,
			const struct xvm_device_attr *attr, const void *val);
int xvm_vgic_level_has(struct xvm_device *dev,
		       const struct xvm_device_attr *attr);
int xvm_vgic_level_get(struct xvm_device *dev,
		       const struct xvm_device_attr *attr, void *val);
int xvm_vgic_level_set(struct xvm_device *dev,
		       const struct xvm_device_attr *attr, const void *val);
int xvm_vgic_get_state_version(struct xvm_device *dev,
			       const struct xvm_device_attr *attr, void *val);

/* vgic-cpuif.c */
long xvm_vgic_vcpu_ioctl(struct xvm_device *dev, struct xvm_vcpu *vcpu,
			 unsigned int cmd, unsigned long arg);
long xvm_vgic_dev_ioctl(struct xvm_device *dev, unsigned int cmd,
			unsigned long arg);

#endif /* _XVM_VGIC_H */
