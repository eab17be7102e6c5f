// SPDX-License-Identifier: GPL-2.0
/*
 * State group "vgic" (version 2), present when the config has a gic line:
 * the distributor's and each redistributor's registers, read and written
 * with XVM_DEV_ARM_VGIC_GRP_DIST_REGS / _REDIST_REGS (32-bit accesses with
 * the guest's effect).  The addresses, NR_IRQS and regions are the
 * config's (vgic.c sets them up); NR_IRQS is repeated and checked.  The
 * CPU interfaces and the line levels are the "vgic-sysregs" group's
 * (version 1 of this group had the CPU interface as XVM_VGIC_GET_CPUIF
 * shows it, without the active priorities and binary points: such files
 * are refused).
 *
 *   "vgic": { "version": 2, "nr_irqs": 128,
 *             "dist": { "igroupr": [...], ..., "ctlr": 2 },
 *             "vcpus": [ { "id": 0, "redist": { ... } }, ... ] }
 *
 * Each per-INTID register is an array of its 32-bit register values, in
 * offset order, from the first INTID it holds state for (the distributor's
 * SPIs from 32, the redistributor's SGIs and PPIs from 0, ICFGR from 16:
 * SGIs are edge-only) to NR_IRQS or 32; irouter has the low word of
 * GICD_IROUTER<n> (Aff2.Aff1.Aff0; the upper word is RAZ/WI).  Restore, in
 * regs[] order: the configuration registers, then enable, active and
 * pending (each as clear-all, then set the saved bits: SGIs reset enabled),
 * GICD_CTLR and GICR_WAKER last.  ISPENDR is the pending latch alone (the
 * attributes' view, as KVM's): a high level-sensitive line is pending
 * through its level, which "vgic-sysregs" restores.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include <linux/xvm-gicv3.h>

#include "state.h"

struct vreg {
	const char *name;
	uint32_t off;		/* of the register holding INTID 0 */
	unsigned int bits;	/* per INTID; 0: one register, not an array */
	uint32_t clear;		/* the write-1-to-clear twin, or 0 */
	unsigned int first;	/* the first INTID saved */
};

#define NR_DREGS	8
#define NR_RREGS	7
#define MAX_VALS	(XVM_VGIC_NR_IRQS_MAX - 32)

static const struct vreg dist_regs[NR_DREGS] = {
	{ "igroupr",	XVM_GICD_IGROUPR,	1, 0, 32 },
	{ "icfgr",	XVM_GICD_ICFGR,		2, 0, 32 },
	{ "ipriorityr",	XVM_GICD_IPRIORITYR,	8, 0, 32 },
	{ "irouter",	XVM_GICD_IROUTER,	64, 0, 32 },
	{ "isenabler",	XVM_GICD_ISENABLER,	1, XVM_GICD_ICENABLER, 32 },
	{ "isactiver",	XVM_GICD_ISACTIVER,	1, XVM_GICD_ICACTIVER, 32 },
	{ "ispendr",	XVM_GICD_ISPENDR,	1, XVM_GICD_ICPENDR, 32 },
	{ "ctlr",	XVM_GICD_CTLR,		0, 0, 0 },
};

static const struct vreg redist_regs[NR_RREGS] = {
	{ "igroupr0",	XVM_GICR_IGROUPR0,	1, 0, 0 },
	{ "icfgr",	XVM_GICR_ICFGR0,	2, 0, 16 },
	{ "ipriorityr",	XVM_GICR_IPRIORITYR0,	8, 0, 0 },
	{ "isenabler0",	XVM_GICR_ISENABLER0,	1, XVM_GICR_ICENABLER0, 0 },
	{ "isactiver0",	XVM_GICR_ISACTIVER0,	1, XVM_GICR_ICACTIVER0, 0 },
	{ "ispendr0",	XVM_GICR_ISPENDR0,	1, XVM_GICR_ICPENDR0, 0 },
	{ "waker",	XVM_GICR_WAKER,		0, 0, 0 },
};

static struct {
	uint32_t dist[NR_DREGS][MAX_VALS];
	uint32_t redist[MAX_VCPUS][NR_RREGS][32];
} saved;

/* INTIDs per register (irouter: one register, 8 bytes, per INTID). */
static unsigned int vreg_step(const struct vreg *r)
{
	return r->bits >= 32 ? 1 : 32 / r->bits;
}

/* The number of values of r for INTIDs below end. */
static unsigned int vreg_count(const struct vreg *r, unsigned int end)
{
	return r->bits ? (end - r->first) / vreg_step(r) : 1;
}

/* The offset of r's k-th saved value. */
static uint32_t vreg_off(const struct vreg *r, unsigned int k)
{
	if (!r->bits)
		return r->off;
	return r->off + (uint64_t)(r->first + k * vreg_step(r)) * r->bits / 8;
}

/* One register access; vcpu < 0: the distributor. */
static int reg_access(struct vm *vm, int vcpu, uint32_t off, uint32_t *val, bool set)
{
	uint32_t grp = vcpu < 0 ? XVM_DEV_ARM_VGIC_GRP_DIST_REGS :
				  XVM_DEV_ARM_VGIC_GRP_REDIST_REGS;
	uint64_t attr = XVM_VGIC_V3_REG_ATTR(vcpu < 0 ? 0 : vgic_aff(vcpu), off);
	int r = set ? xvm_set_attr(vm->gic, grp, attr, val) :
		      xvm_get_attr(vm->gic, grp, attr, val);
	char err[96];

	if (traced(r, "%s_DEVICE_ATTR vgic %s_REGS vcpu %d offset 0x%x = 0x%x",
		   set ? "SET" : "GET", vcpu < 0 ? "DIST" : "REDIST", vcpu, off, *val))
		errorf("vgic: %s %s register 0x%x: %s", set ? "restoring" : "saving",
		       vcpu < 0 ? "distributor" : "redistributor", off,
		       errno_text(errno, err, sizeof(err)));
	return r;
}

/* Saves the registers regs[] of the distributor or of vCPU vcpu into o. */
static int save_regs(struct vm *vm, int vcpu, const struct vreg *regs,
		     unsigned int nr, unsigned int end, json_object *o)
{
	static uint32_t v[MAX_VALS];
	unsigned int i, k, n;

	for (i = 0; i < nr; i++) {
		n = vreg_count(&regs[i], end);
		for (k = 0; k < n; k++)
			if (reg_access(vm, vcpu, vreg_off(&regs[i], k), &v[k], false))
				return -1;
		if (regs[i].bits)
			st_put_u32_array(o, regs[i].name, v, n);
		else
			st_put_u64(o, regs[i].name, v[0]);
	}
	return 0;
}

static int vgic_save(struct vm *vm, json_object *sec)
{
	const struct vmm_config *c = vm->cfg;
	json_object *vcpus;
	unsigned int i;

	st_put_u64(sec, "nr_irqs", c->gic.nr_irqs);
	if (save_regs(vm, -1, dist_regs, NR_DREGS, c->gic.nr_irqs,
		      st_put_obj(sec, "dist")))
		return -1;
	vcpus = st_put_array(sec, "vcpus");
	for (i = 0; i < c->vcpus; i++) {
		json_object *v = json_object_new_object();

		json_object_array_add(vcpus, v);
		st_put_u64(v, "id", i);
		if (save_regs(vm, i, redist_regs, NR_RREGS, 32, st_put_obj(v, "redist")))
			return -1;
	}
	return 0;
}

/* The members regs[] of o (exactly those) into vals[][]. */
static int parse_regs(struct st_in *in, json_object *o, const struct vreg *regs,
		      unsigned int nr, unsigned int end, uint32_t *vals, size_t stride)
{
	const char *keys[NR_DREGS + 1] = { NULL };
	unsigned int i;

	for (i = 0; i < nr; i++)
		keys[i] = regs[i].name;
	if (st_keys(in, o, keys))
		return -1;
	for (i = 0; i < nr; i++) {
		uint32_t *v = vals + i * stride / sizeof(*vals);

		if (regs[i].bits ? st_u32_array(in, o, regs[i].name,
						vreg_count(&regs[i], end), UINT32_MAX, v) :
		    st_u32(in, o, regs[i].name, 0, UINT32_MAX, v))
			return -1;
	}
	return 0;
}

static int parse_vcpu(struct st_in *in, json_object *a, unsigned int i)
{
	static const char *const keys[] = { "id", "redist", NULL };
	json_object *e, *o;
	uint32_t id;

	st_where(in, "vgic.vcpus");
	if (st_elem(in, a, i, keys, &e))
		return -1;
	st_where(in, "vgic.vcpus[%u]", i);
	if (st_u32(in, e, "id", i, i, &id) ||
	    st_member(in, e, "redist", json_type_object, &o))
		return -1;
	st_where(in, "vgic.vcpus[%u].redist", i);
	return parse_regs(in, o, redist_regs, NR_RREGS, 32,
			  saved.redist[i][0], sizeof(saved.redist[i][0]));
}

static int vgic_parse(struct st_in *in, json_object *sec)
{
	static const char *const keys[] = { "version", "nr_irqs", "dist", "vcpus", NULL };
	const struct vmm_config *c = in->cfg;
	json_object *o;
	uint32_t nr_irqs;

	if (st_keys(in, sec, keys) ||
	    st_u32(in, sec, "nr_irqs", XVM_VGIC_NR_IRQS_MIN, XVM_VGIC_NR_IRQS_MAX, &nr_irqs))
		return -1;
	if (nr_irqs != c->gic.nr_irqs)
		return st_err(in, "'nr_irqs' = %u, but the saved config's gic line has %u",
			      nr_irqs, c->gic.nr_irqs);
	if (st_member(in, sec, "dist", json_type_object, &o))
		return -1;
	st_where(in, "vgic.dist");
	if (parse_regs(in, o, dist_regs, NR_DREGS, nr_irqs, saved.dist[0],
		       sizeof(saved.dist[0])))
		return -1;
	st_where(in, "vgic");
	return st_vcpus(in, sec, parse_vcpu);
}

static int restore_regs(struct vm *vm, int vcpu, const struct vreg *regs,
			unsigned int nr, unsigned int end, const uint32_t *vals,
			size_t stride)
{
	unsigned int i, k;

	for (i = 0; i < nr; i++) {
		const struct vreg *r = &regs[i];
		const uint32_t *v = vals + i * stride / sizeof(*vals);

		for (k = 0; k < vreg_count(r, end); k++) {
			uint32_t val = v[k], clr = ~v[k];

			if (r->clear && reg_access(vm, vcpu, r->clear + vreg_off(r, k) - r->off,
						   &clr, true))
				return -1;
			if (reg_access(vm, vcpu, vreg_off(r, k), &val, true))
				return -1;
		}
	}
	return 0;
}

static int vgic_restore(struct vm *vm)
{
	const struct vmm_config *c = vm->cfg;
	unsigned int i;

	if (restore_regs(vm, -1, dist_regs, NR_DREGS, c->gic.nr_irqs, saved.dist[0],
			 sizeof(saved.dist[0])))
		return -1;
	for (i = 0; i < c->vcpus; i++)
		if (restore_regs(vm, i, redist_regs, NR_RREGS, 32, saved.redist[i][0],
				 sizeof(saved.redist[i][0])))
			return -1;
	created("GICv3: distributor (%u INTIDs) and %u redistributors restored",
		c->gic.nr_irqs, c->vcpus);
	return 0;
}

const struct state_group state_vgic_group = {
	.name = "vgic", .version = 2, .needed = state_has_gic,
	.save = vgic_save, .parse = vgic_parse, .restore = vgic_restore,
};
