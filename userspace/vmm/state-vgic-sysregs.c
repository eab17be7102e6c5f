// SPDX-License-Identifier: GPL-2.0
/*
 * State group "vgic-sysregs" (version 1), present when the config has a gic
 * line: what the register groups of the "vgic" group cannot reach (docs/
 * api.md 7.2, "State (save and restore)") - each vCPU's CPU interface as
 * its ICC_*_EL1 registers (XVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS) with its
 * notify port, and the input levels of the lines (XVM_DEV_ARM_VGIC_GRP_
 * LEVEL_INFO), in the format XVM_DEV_ARM_VGIC_CTRL_STATE_VERSION names.
 *
 *   "vgic-sysregs": { "version": 1, "state_version": 1,
 *       "vcpus": [ { "id": 0, "pmr": 240, "bpr0": 2, "bpr1": 3, "ctlr": 1024,
 *                    "ap0r0": 0, "ap1r0": 0, "igrpen0": 0, "igrpen1": 1,
 *                    "notify_port": 5, "ppi_levels": 0 }, ... ],
 *       "spi_levels": [ ... ], "spi_msi_levels": [ ... ] }
 *
 * The pending latch of ISPENDR (the "vgic" group) is only the latch: a
 * level-sensitive line that is high is pending through its level, which
 * only LEVEL_INFO restores.  Restore runs after the "vgic" group (the
 * distributor and redistributors are configured), in the kernel's order:
 * BPR1 before CTLR (a set CBPR makes BPR1 ignore writes), the active
 * priorities, the enables, the notify port, then the levels.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include <linux/xvm-gicv3.h>

#include "state.h"

#define NR_SPI_WORDS	((XVM_VGIC_NR_IRQS_MAX - 32) / 32)
#define PPI_MASK	0xffff0000u	/* INTIDs 16..31 have a level */
#define CTLR_BITS	(XVM_ICC_CTLR_CBPR | XVM_ICC_CTLR_EOIMODE | XVM_ICC_CTLR_PRIBITS_MASK)

/* The registers, in restore order: name, encoding, largest value. */
static const struct sysreg {
	const char *name;
	uint32_t instr;
	uint64_t max;
} sysregs[] = {
	{ "pmr",	XVM_ICC_PMR_EL1,	XVM_ICC_PMR_MASK },
	{ "bpr0",	XVM_ICC_BPR0_EL1,	XVM_ICC_BPR_MASK },
	{ "bpr1",	XVM_ICC_BPR1_EL1,	XVM_ICC_BPR_MASK },
	{ "ctlr",	XVM_ICC_CTLR_EL1,	CTLR_BITS },
	{ "ap0r0",	XVM_ICC_AP0R_EL1(0),	UINT32_MAX },
	{ "ap1r0",	XVM_ICC_AP1R_EL1(0),	UINT32_MAX },
	{ "igrpen0",	XVM_ICC_IGRPEN0_EL1,	XVM_ICC_IGRPEN_ENABLE },
	{ "igrpen1",	XVM_ICC_IGRPEN1_EL1,	XVM_ICC_IGRPEN_ENABLE },
	{ "notify_port", XVM_VGIC_SYSREG_NOTIFY_PORT, XVM_EVTCHN_MAX_PORTS - 1 },
};

#define NR_SYSREGS	ARRAY_SIZE(sysregs)

/* The level infos: the wires (KVM's) and the SETSPI_NSR messages (xvm's). */
static const struct {
	const char *name;
	uint32_t info;
} spi_infos[] = {
	{ "spi_levels", XVM_VGIC_LEVEL_INFO_LINE_LEVEL },
	{ "spi_msi_levels", XVM_VGIC_LEVEL_INFO_MSI_LEVEL },
};

static struct {
	uint32_t state_version;
	uint64_t reg[MAX_VCPUS][NR_SYSREGS];
	uint32_t ppi[MAX_VCPUS];
	uint32_t spi[ARRAY_SIZE(spi_infos)][NR_SPI_WORDS];
} saved;

static int vgic_err(const char *what, unsigned int vcpu, const char *name)
{
	char err[96];

	errorf("vgic-sysregs: vCPU %u: %s %s: %s", vcpu, what, name,
	       errno_text(errno, err, sizeof(err)));
	return -1;
}

/* One CPU_SYSREGS access of vCPU id. */
static int sysreg_access(struct vm *vm, unsigned int id, const struct sysreg *r,
			 uint64_t *val, bool set)
{
	uint64_t attr = XVM_VGIC_V3_SYSREG_ATTR(vgic_aff(id), r->instr);
	int rc = set ? xvm_set_attr(vm->gic, XVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, attr, val) :
		       xvm_get_attr(vm->gic, XVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, attr, val);

	if (traced(rc, "%s_DEVICE_ATTR vgic CPU_SYSREGS vcpu %u %s = 0x%llx",
		   set ? "SET" : "GET", id, r->name, (unsigned long long)*val))
		return vgic_err(set ? "restoring" : "saving", id, r->name);
	return 0;
}

/* One LEVEL_INFO access: 32 INTIDs from intid, named by vCPU id. */
static int level_access(struct vm *vm, unsigned int id, uint32_t info, uint32_t intid,
			uint32_t *val, bool set)
{
	uint64_t attr = XVM_VGIC_V3_LEVEL_ATTR(vgic_aff(id), info, intid);
	int rc = set ? xvm_set_attr(vm->gic, XVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, attr, val) :
		       xvm_get_attr(vm->gic, XVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, attr, val);

	if (traced(rc, "%s_DEVICE_ATTR vgic LEVEL_INFO vcpu %u info %u intid %u = 0x%x",
		   set ? "SET" : "GET", id, info, intid, *val))
		return vgic_err(set ? "restoring" : "saving", id, "line levels");
	return 0;
}

static int state_version(struct vm *vm, uint64_t *v)
{
	if (!traced(xvm_get_attr(vm->gic, XVM_DEV_ARM_VGIC_GRP_CTRL,
				 XVM_DEV_ARM_VGIC_CTRL_STATE_VERSION, v),
		    "GET_DEVICE_ATTR vgic CTRL STATE_VERSION"))
		return 0;
	return vgic_err("reading", 0, "CTRL_STATE_VERSION (a kernel without vGIC restore?)");
}

static int save_vcpu(struct vm *vm, unsigned int id, json_object *o)
{
	uint64_t v;
	uint32_t lv = 0;
	unsigned int r;

	st_put_u64(o, "id", id);
	for (r = 0; r < NR_SYSREGS; r++) {
		if (sysreg_access(vm, id, &sysregs[r], &v, false))
			return -1;
		st_put_u64(o, sysregs[r].name, v);
	}
	if (level_access(vm, id, XVM_VGIC_LEVEL_INFO_LINE_LEVEL, 0, &lv, false))
		return -1;
	st_put_u64(o, "ppi_levels", lv);
	return 0;
}

static int sysregs_save(struct vm *vm, json_object *sec)
{
	const struct vmm_config *c = vm->cfg;
	uint32_t w[NR_SPI_WORDS];
	json_object *a;
	unsigned int i, k;
	uint64_t ver;

	if (state_version(vm, &ver))
		return -1;
	st_put_u64(sec, "state_version", ver);
	a = st_put_array(sec, "vcpus");
	for (i = 0; i < c->vcpus; i++) {
		json_object *o = json_object_new_object();

		json_object_array_add(a, o);
		if (save_vcpu(vm, i, o))
			return -1;
	}
	for (k = 0; k < ARRAY_SIZE(spi_infos); k++) {
		for (i = 0; i < (c->gic.nr_irqs - 32) / 32; i++)
			if (level_access(vm, 0, spi_infos[k].info, 32 + 32 * i, &w[i], false))
				return -1;
		st_put_u32_array(sec, spi_infos[k].name, w, (c->gic.nr_irqs - 32) / 32);
	}
	return 0;
}

static int parse_vcpu(struct st_in *in, json_object *a, unsigned int id)
{
	static const char *keys[NR_SYSREGS + 3] = { "id", "ppi_levels" };
	uint64_t *reg = saved.reg[id];
	json_object *e;
	unsigned int r;
	uint32_t v;

	for (r = 0; r < NR_SYSREGS; r++)
		keys[2 + r] = sysregs[r].name;
	st_where(in, "vgic-sysregs.vcpus");
	if (st_elem(in, a, id, keys, &e))
		return -1;
	st_where(in, "vgic-sysregs.vcpus[%u]", id);
	if (st_u32(in, e, "id", id, id, &v))
		return -1;
	for (r = 0; r < NR_SYSREGS; r++)
		if (st_u64(in, e, sysregs[r].name, 0, sysregs[r].max, &reg[r]))
			return -1;
	if (reg[3] & ~(uint64_t)CTLR_BITS)
		return st_err(in, "'ctlr' = 0x%llx has bits other than CBPR, EOImode and "
			      "PRIbits", (unsigned long long)reg[3]);
	if (reg[NR_SYSREGS - 1] != state_notify_port(in->cfg, id))
		return st_err(in, "'notify_port' = %llu, but the VMM gives vCPU %u port %u "
			      "with the saved config", (unsigned long long)reg[NR_SYSREGS - 1],
			      id, state_notify_port(in->cfg, id));
	if (st_u32(in, e, "ppi_levels", 0, UINT32_MAX, &saved.ppi[id]))
		return -1;
	if (saved.ppi[id] & ~PPI_MASK)
		return st_err(in, "'ppi_levels' = 0x%x: only PPIs (INTIDs 16..31) have a "
			      "level", saved.ppi[id]);
	return 0;
}

static int sysregs_parse(struct st_in *in, json_object *sec)
{
	static const char *const keys[] = {
		"version", "state_version", "vcpus", "spi_levels", "spi_msi_levels", NULL,
	};
	const struct vmm_config *c = in->cfg;
	unsigned int k;

	if (st_keys(in, sec, keys) ||
	    st_u32(in, sec, "state_version", 0, UINT32_MAX, &saved.state_version))
		return -1;
	if (saved.state_version != XVM_VGIC_STATE_VERSION)
		return st_err(in, "vGIC state version %u is not supported (this xvm-vmm "
			      "restores version %d)", saved.state_version,
			      XVM_VGIC_STATE_VERSION);
	for (k = 0; k < ARRAY_SIZE(spi_infos); k++)
		if (st_u32_array(in, sec, spi_infos[k].name, (c->gic.nr_irqs - 32) / 32,
				 UINT32_MAX, saved.spi[k]))
			return -1;
	return st_vcpus(in, sec, parse_vcpu);
}

static int restore_vcpu(struct vm *vm, unsigned int id)
{
	uint32_t lv = saved.ppi[id];
	unsigned int r;

	if (vm->vcpu[id].notify != saved.reg[id][NR_SYSREGS - 1]) {
		errorf("vgic-sysregs: vCPU %u: the file's notify port is %llu, this VM's is %u",
		       id, (unsigned long long)saved.reg[id][NR_SYSREGS - 1],
		       vm->vcpu[id].notify);
		return -1;
	}
	for (r = 0; r < NR_SYSREGS; r++) {
		uint64_t v = saved.reg[id][r];

		if (sysreg_access(vm, id, &sysregs[r], &v, true))
			return -1;
	}
	return level_access(vm, id, XVM_VGIC_LEVEL_INFO_LINE_LEVEL, 0, &lv, true);
}

static int sysregs_restore(struct vm *vm)
{
	const struct vmm_config *c = vm->cfg;
	unsigned int i, k;
	uint64_t ver;

	if (state_version(vm, &ver))
		return -1;
	if (ver != saved.state_version) {
		errorf("vgic-sysregs: the file has vGIC state version %u, this kernel's is %llu",
		       saved.state_version, (unsigned long long)ver);
		return -1;
	}
	for (i = 0; i < c->vcpus; i++)
		if (restore_vcpu(vm, i))
			return -1;
	for (k = 0; k < ARRAY_SIZE(spi_infos); k++)
		for (i = 0; i < (c->gic.nr_irqs - 32) / 32; i++)
			if (level_access(vm, 0, spi_infos[k].info, 32 + 32 * i,
					 &saved.spi[k][i], true))
				return -1;
	created("GICv3: %u CPU interfaces (ICC_* registers, notify ports) and the line "
		"levels restored", c->vcpus);
	return 0;
}

const struct state_group state_vgic_sysregs_group = {
	.name = "vgic-sysregs", .version = 1, .needed = state_has_gic,
	.save = sysregs_save, .parse = sysregs_parse, .restore = sysregs_restore,
};
