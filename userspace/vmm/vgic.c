// SPDX-License-Identifier: GPL-2.0
/*
 * GICv3 (xvm-vgic): the VMM creates the device and places the distributor
 * and the redistributor regions; the scripted guest firmware then enables
 * the distributor and configures the declared SPIs over the bus; each vCPU
 * thread runs the CPU-interface loop when its notify port is raised.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/xvm-gicv3.h>

#include "vmm.h"

#define SPI_PRIORITY		0xa0
#define CPUIF_PMR		0xf0

/* The redistributor frame of a vCPU: slots fill regions in index order. */
uint64_t vgic_rdist_addr(const struct vmm_config *c, unsigned int vcpu)
{
	const struct gic_cfg *g = &c->gic;
	unsigned int r;

	for (r = 0; r < g->nr_rdist; r++) {
		if (vcpu < g->rdist[r].count)
			return g->rdist[r].base + vcpu * XVM_VGIC_V3_REDIST_SIZE;
		vcpu -= g->rdist[r].count;
	}
	return ~0ULL;
}

/* The device, its distributor and regions and NR_IRQS, as the config says. */
int vgic_setup(struct vm *vm, unsigned int i)
{
	const struct vmm_config *c = vm->cfg;
	const struct gic_cfg *g = &c->gic;
	uint32_t nr_irqs = g->nr_irqs;
	unsigned int r;
	uint64_t v;

	(void)i;
	if (vm_create_device(vm, XVM_DEV_TYPE_ARM_VGIC_V3, "xvm-vgic", g->line,
			     &vm->gic))
		return -1;
	v = g->dist;
	if (traced(xvm_set_attr(vm->gic, XVM_DEV_ARM_VGIC_GRP_ADDR,
				XVM_VGIC_V3_ADDR_TYPE_DIST, &v),
		   "SET_DEVICE_ATTR vgic ADDR DIST 0x%llx", (unsigned long long)v))
		return line_error(c, g->line, "gic dist 0x%llx", (unsigned long long)v);
	for (r = 0; r < g->nr_rdist; r++) {
		v = XVM_VGIC_V3_REDIST_REGION(g->rdist[r].count, g->rdist[r].base, 0, r);
		if (traced(xvm_set_attr(vm->gic, XVM_DEV_ARM_VGIC_GRP_ADDR,
					XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, &v),
			   "SET_DEVICE_ATTR vgic ADDR REDIST_REGION 0x%llx",
			   (unsigned long long)v))
			return line_error(c, g->line, "gic redist-region %u", r);
	}
	if (traced(xvm_set_attr(vm->gic, XVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs),
		   "SET_DEVICE_ATTR vgic NR_IRQS %u", nr_irqs))
		return line_error(c, g->line, "gic nr-irqs %u", nr_irqs);
	created("GICv3: distributor at 0x%llx, %u INTIDs", (unsigned long long)g->dist,
		g->nr_irqs);
	for (r = 0; r < g->nr_rdist; r++)
		created("GICv3: redistributor region %u: %u redistributors at 0x%llx",
			r, g->rdist[r].count, (unsigned long long)g->rdist[r].base);
	return 0;
}

void vgic_close(struct vm *vm, unsigned int i)
{
	(void)i;
	if (vm->gic >= 0)
		close(vm->gic);
	vm->gic = -1;
}

static int gwrite(struct vm *vm, uint64_t addr, uint32_t len, uint64_t val)
{
	int handled = 0;

	if (vcpu_mmio(vm, 0, true, addr, len, &val, &handled) || !handled) {
		errorf("guest write 0x%llx/%u: %s", (unsigned long long)addr, len,
		       handled ? strerror(errno) : "not handled");
		return -1;
	}
	return 0;
}

static int gread(struct vm *vm, unsigned int vcpu, uint64_t addr, uint32_t len,
		 uint64_t *val)
{
	int handled = 0;

	if (vcpu_mmio(vm, vcpu, false, addr, len, val, &handled) || !handled)
		return -1;
	return 0;
}

/* A vCPU's notify port and CPU interface (the first "run" of the vGIC). */
static int vgic_cpuif(struct vm *vm, unsigned int i)
{
	const struct vmm_config *c = vm->cfg;
	struct vcpu *vc = &vm->vcpu[i];
	struct xvm_vgic_cpuif ci;

	if (traced(xvm_evtchn_alloc_unbound(vm->fd, &vc->notify),
		   "XVM_EVTCHN_ALLOC_UNBOUND -> port %u", vc->notify) ||
	    traced(xvm_evtchn_bind_vcpu(vm->fd, vc->notify, i),
		   "XVM_EVTCHN_BIND_VCPU port %u vcpu %u", vc->notify, i)) {
		errorf("vCPU %u: notify port: %s", i, strerror(errno));
		return -1;
	}
	memset(&ci, 0, sizeof(ci));
	ci.pmr = CPUIF_PMR;
	ci.ctlr = XVM_VGIC_CPUIF_IGRPEN1;
	ci.notify_port = vc->notify;
	if (traced(ioctl(vc->fd, XVM_VGIC_SET_CPUIF, &ci),
		   "XVM_VGIC_SET_CPUIF vcpu %u pmr 0x%x ctlr IGRPEN1 notify %u",
		   i, ci.pmr, ci.notify_port))
		return line_error(c, c->gic.line, "gic: vCPU %u: XVM_VGIC_SET_CPUIF", i);
	return 0;
}

/* The guest's GIC driver, as a script: one SPI, edge, routed, enabled. */
static int vgic_spi_program(struct vm *vm, const struct spi_cfg *s)
{
	uint64_t dist = vm->cfg->gic.dist, v;
	uint64_t icfgr = dist + XVM_GICD_ICFGR + (s->intid / 16) * 4;

	if (gread(vm, 0, icfgr, 4, &v) ||
	    gwrite(vm, icfgr, 4, v | (2ULL << ((s->intid % 16) * 2))) ||
	    gwrite(vm, dist + XVM_GICD_IPRIORITYR + s->intid, 1, SPI_PRIORITY) ||
	    gwrite(vm, dist + XVM_GICD_IROUTER + 8 * s->intid, 8, vgic_aff(s->vcpu)) ||
	    gwrite(vm, dist + XVM_GICD_ISENABLER + (s->intid / 32) * 4, 4,
		   1ULL << (s->intid % 32))) {
		errorf("%s:%d: guest GIC programming of SPI %u failed", vm->cfg->file,
		       s->line, s->intid);
		return -1;
	}
	created("guest (scripted) GIC setup: SPI %u edge-triggered, priority 0x%x, "
		"routed to vCPU %u, enabled", s->intid, SPI_PRIORITY, s->vcpu);
	return 0;
}

/* INIT, the CPU interfaces, then the guest's GIC programming over the bus. */
int vgic_firmware(struct vm *vm, unsigned int i)
{
	const struct vmm_config *c = vm->cfg;

	if (traced(xvm_set_attr(vm->gic, XVM_DEV_ARM_VGIC_GRP_CTRL,
				XVM_DEV_ARM_VGIC_CTRL_INIT, NULL),
		   "SET_DEVICE_ATTR vgic CTRL INIT"))
		return line_error(c, c->gic.line, "gic: INIT");
	for (i = 0; i < c->vcpus; i++)
		if (vgic_cpuif(vm, i))
			return -1;
	created("GICv3 initialised; each vCPU's CPU interface: PMR 0x%x, group 1 on, "
		"notify port bound to the vCPU", CPUIF_PMR);
	if (vm->restore)	/* the state file has the guest's programming */
		return 0;
	if (gwrite(vm, c->gic.dist + XVM_GICD_CTLR, 4, XVM_GICD_CTLR_ENABLE_G1))
		return -1;
	for (i = 0; i < c->nr_spis; i++)
		if (vgic_spi_program(vm, &c->spis[i]))
			return -1;
	return 0;
}

/* GICR_TYPER.Last as KVM's vgic_mmio_vcpu_rdist_is_last() computes it. */
static bool expect_last(const struct vmm_config *c, unsigned int vcpu,
			unsigned int *region)
{
	const struct rdist_cfg *rd = c->gic.rdist;
	unsigned int r, first = 0, used = 0;

	for (r = 0; r < c->gic.nr_rdist; r++) {
		used = c->vcpus - first < rd[r].count ? c->vcpus - first : rd[r].count;
		if (vcpu < first + rd[r].count)
			break;
		first += rd[r].count;
	}
	*region = r;
	if (vcpu != first + used - 1)
		return false;
	if (used == rd[r].count) {	/* ends the region: a region in use right after? */
		uint64_t end = rd[r].base + used * XVM_VGIC_V3_REDIST_SIZE;
		unsigned int q, f = 0;

		for (q = 0; q < c->gic.nr_rdist; f += rd[q].count, q++)
			if (q != r && f < c->vcpus && rd[q].base == end)
				return false;
	}
	return true;
}

/* Each region reads back as it was set. */
static int vgic_check_readback(struct vm *vm)
{
	const struct gic_cfg *g = &vm->cfg->gic;
	unsigned int r;
	uint64_t v;
	int bad = 0;

	for (r = 0; r < g->nr_rdist; r++) {
		int err;

		v = r;
		err = traced(xvm_get_attr(vm->gic, XVM_DEV_ARM_VGIC_GRP_ADDR,
					  XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, &v),
			     "GET_DEVICE_ATTR vgic ADDR REDIST_REGION index %u", r);
		bad |= check(!err && v == XVM_VGIC_V3_REDIST_REGION(g->rdist[r].count,
								    g->rdist[r].base, 0, r),
			     "GICv3 reports redistributor region %u: %u at 0x%llx (read back 0x%016llx)",
			     r, g->rdist[r].count, (unsigned long long)g->rdist[r].base,
			     (unsigned long long)v);
	}
	return bad;
}

int vgic_check_regions(struct vm *vm)
{
	const struct vmm_config *c = vm->cfg;
	unsigned int i, r, lasts = 0;
	int bad = vgic_check_readback(vm);
	uint64_t v;

	v = 0;
	if (gread(vm, 0, c->gic.dist + XVM_GICD_TYPER, 4, &v))
		v = ~0ULL;
	bad |= check((v & 0x1f) == c->gic.nr_irqs / 32 - 1,
		     "GICD_TYPER.ITLinesNumber = %llu (%u INTIDs), read on vCPU 0",
		     (unsigned long long)(v & 0x1f), c->gic.nr_irqs);
	for (i = 0; i < c->vcpus; i++) {
		uint64_t addr = vgic_rdist_addr(c, i), want;
		bool last = expect_last(c, i, &r);

		want = ((uint64_t)vgic_aff(i) << 32) | ((uint64_t)i << 8) |
		       (last ? XVM_GICR_TYPER_LAST : 0);
		v = ~0ULL;
		gread(vm, i, addr + XVM_GICR_TYPER, 8, &v);
		lasts += last;
		bad |= check(v == want,
			     "vCPU %u: GICR_TYPER at 0x%llx (region %u) = 0x%016llx: "
			     "Processor_Number %u, Last=%d%s", i,
			     (unsigned long long)(addr + XVM_GICR_TYPER), r,
			     (unsigned long long)v, i, last,
			     last ? " (the guest's walk of this region stops here)" : "");
	}
	say("%u redistributor(s) report Last: the guest finds %u region(s)", lasts,
	    c->gic.nr_rdist);
	return bad ? -1 : 0;
}

/* The SPI runtime state of an INTID, or NULL if the config has no such SPI. */
static struct spi_rt *spi_of(struct vm *vm, uint32_t intid)
{
	unsigned int i;

	for (i = 0; i < vm->cfg->nr_spis; i++)
		if (vm->cfg->spis[i].intid == intid)
			return &vm->spis[i];
	return NULL;
}

/* The CPU-interface loop of a vCPU thread: acknowledge, handle, EOI. */
void vgic_handle(struct vm *vm, struct vcpu *v)
{
	traced(xvm_evtchn_clear(vm->fd, v->notify), "XVM_EVTCHN_CLEAR port %u (vGIC notify)",
	       v->notify);
	for (;;) {
		struct xvm_vgic_ack ack = { .group = 1 };
		struct xvm_vgic_eoi eoi = { 0 };
		struct spi_rt *s;
		char src[SOURCE_LEN] = "";

		if (traced(ioctl(v->fd, XVM_VGIC_ACK, &ack), "XVM_VGIC_ACK vcpu %u -> %u",
			   v->id, ack.intid) || ack.intid == XVM_VGIC_SPURIOUS)
			break;
		eoi.intid = ack.intid;
		traced(ioctl(v->fd, XVM_VGIC_EOI, &eoi), "XVM_VGIC_EOI vcpu %u intid %u",
		       v->id, eoi.intid);
		s = spi_of(vm, ack.intid);
		if (s)
			vm_get_source(vm, &s->dlv, src, sizeof(src), "");
		event("event:spi", "%s%sSPI %u -> vCPU %u acked (priority 0x%x) + EOI",
		      src, src[0] ? " -> " : "", ack.intid, v->id, ack.priority);
		if (s)
			vm_delivered(vm, &s->dlv);
	}
}

/*
 * The wire of an SPI, as a device model drives it: a level-sensitive SPI
 * (the reset configuration of one the guest did not program) is pending
 * while it is high - through its level, not the latch.
 */
int vgic_spi_line(struct vm *vm, const struct step *s)
{
	struct xvm_vgic_irq_line l = {
		.intid = s->spi_line.intid, .level = s->spi_line.level,
	};
	char err[128] = "";
	int r;

	r = traced(ioctl(vm->gic, XVM_VGIC_IRQ_LINE, &l), "XVM_VGIC_IRQ_LINE intid %u level %u",
		   l.intid, l.level);
	if (r)
		step_errno(vm, s, err, sizeof(err));
	return check(!r, "SPI %u line driven %s%s", l.intid, l.level ? "high" : "low", err);
}
