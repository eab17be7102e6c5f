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

#include "vmm.h"

#define GICD_CTLR		0x0000
#define GICD_TYPER		0x0004
#define GICD_ISENABLER		0x0100
#define GICD_IPRIORITYR		0x0400
#define GICD_ICFGR		0x0c00
#define GICD_IROUTER		0x6000
#define GICD_CTLR_ENABLE_G1	(1U << 1)
#define GICR_TYPER		0x0008
#define GICR_TYPER_LAST		(1ULL << 4)
#define SPI_PRIORITY		0xa0
#define CPUIF_PMR		0xf0

static uint32_t aff_of(unsigned int id)
{
	return (id & 0xf) | (((id >> 4) & 0xff) << 8);
}

/* The redistributor frame of a vCPU: slots fill regions in index order. */
uint64_t vgic_rdist_addr(struct config *c, unsigned int vcpu)
{
	unsigned int r;

	for (r = 0; r < c->nr_rdist; r++) {
		if (vcpu < c->rdist_count[r])
			return c->rdist_base[r] + vcpu * XVM_VGIC_V3_REDIST_SIZE;
		vcpu -= c->rdist_count[r];
	}
	return ~0ULL;
}

int vgic_setup(struct vm *vm)
{
	struct config *c = vm->cfg;
	unsigned int r;
	uint64_t v;

	if (traced(xvm_create_device(vm->fd, XVM_DEV_TYPE_ARM_VGIC_V3, 0, &vm->gic),
		   "XVM_CREATE_DEVICE ARM_VGIC_V3")) {
		errorf("GICv3: XVM_CREATE_DEVICE: %s (is xvm-vgic loaded?)",
		       strerror(errno));
		return -1;
	}
	v = c->dist;
	if (traced(xvm_set_attr(vm->gic, XVM_DEV_ARM_VGIC_GRP_ADDR,
				XVM_VGIC_V3_ADDR_TYPE_DIST, &v),
		   "SET_DEVICE_ATTR vgic ADDR DIST 0x%llx", (unsigned long long)v)) {
		errorf("GICv3: distributor at 0x%llx: %s", (unsigned long long)v,
		       strerror(errno));
		return -1;
	}
	for (r = 0; r < c->nr_rdist; r++) {
		v = XVM_VGIC_V3_REDIST_REGION(c->rdist_count[r], c->rdist_base[r], 0, r);
		if (traced(xvm_set_attr(vm->gic, XVM_DEV_ARM_VGIC_GRP_ADDR,
					XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, &v),
			   "SET_DEVICE_ATTR vgic ADDR REDIST_REGION 0x%llx",
			   (unsigned long long)v)) {
			errorf("GICv3: redistributor region %u: %s", r, strerror(errno));
			return -1;
		}
	}
	if (traced(xvm_set_attr(vm->gic, XVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &c->nr_irqs),
		   "SET_DEVICE_ATTR vgic NR_IRQS %u", c->nr_irqs)) {
		errorf("GICv3: NR_IRQS %u: %s", c->nr_irqs, strerror(errno));
		return -1;
	}
	created("GICv3: distributor at 0x%llx, %u INTIDs", (unsigned long long)c->dist,
		c->nr_irqs);
	for (r = 0; r < c->nr_rdist; r++)
		created("GICv3: redistributor region %u: %u redistributors at 0x%llx",
			r, c->rdist_count[r], (unsigned long long)c->rdist_base[r]);
	return 0;
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

/* INIT, the CPU interfaces, then the guest's GIC programming over the bus. */
int vgic_firmware(struct vm *vm)
{
	struct config *c = vm->cfg;
	unsigned int i;
	uint64_t v;

	if (traced(xvm_set_attr(vm->gic, XVM_DEV_ARM_VGIC_GRP_CTRL,
				XVM_DEV_ARM_VGIC_CTRL_INIT, NULL),
		   "SET_DEVICE_ATTR vgic CTRL INIT")) {
		errorf("GICv3: INIT: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < c->vcpus; i++) {
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
			   i, ci.pmr, ci.notify_port)) {
			errorf("vCPU %u: XVM_VGIC_SET_CPUIF: %s", i, strerror(errno));
			return -1;
		}
	}
	created("GICv3 initialised; each vCPU's CPU interface: PMR 0x%x, group 1 on, "
		"notify port bound to the vCPU", CPUIF_PMR);

	/* The guest's GIC driver, as a script: distributor, then each SPI. */
	if (gwrite(vm, c->dist + GICD_CTLR, 4, GICD_CTLR_ENABLE_G1))
		return -1;
	for (i = 0; i < c->nr_spis; i++) {
		struct spi_cfg *s = &c->spis[i];
		uint64_t icfgr = c->dist + GICD_ICFGR + (s->intid / 16) * 4;

		if (gread(vm, 0, icfgr, 4, &v) ||
		    gwrite(vm, icfgr, 4, v | (2ULL << ((s->intid % 16) * 2))) ||
		    gwrite(vm, c->dist + GICD_IPRIORITYR + s->intid, 1, SPI_PRIORITY) ||
		    gwrite(vm, c->dist + GICD_IROUTER + 8 * s->intid, 8, aff_of(s->vcpu)) ||
		    gwrite(vm, c->dist + GICD_ISENABLER + (s->intid / 32) * 4, 4,
			   1ULL << (s->intid % 32))) {
			errorf("guest GIC programming of SPI %u failed", s->intid);
			return -1;
		}
		created("guest (scripted) GIC setup: SPI %u edge-triggered, priority 0x%x, "
			"routed to vCPU %u, enabled", s->intid, SPI_PRIORITY, s->vcpu);
	}
	return 0;
}

/* GICR_TYPER.Last as KVM's vgic_mmio_vcpu_rdist_is_last() computes it. */
static bool expect_last(struct config *c, unsigned int vcpu, unsigned int *region)
{
	unsigned int r, first = 0, used = 0;

	for (r = 0; r < c->nr_rdist; r++) {
		used = c->vcpus - first < c->rdist_count[r] ?
		       c->vcpus - first : c->rdist_count[r];
		if (vcpu < first + c->rdist_count[r])
			break;
		first += c->rdist_count[r];
	}
	*region = r;
	if (vcpu != first + used - 1)
		return false;
	if (used == c->rdist_count[r]) {	/* ends the region: a region in use right after? */
		uint64_t end = c->rdist_base[r] + used * XVM_VGIC_V3_REDIST_SIZE;
		unsigned int q, f = 0;

		for (q = 0; q < c->nr_rdist; f += c->rdist_count[q], q++)
			if (q != r && f < c->vcpus && c->rdist_base[q] == end)
				return false;
	}
	return true;
}

int vgic_check_regions(struct vm *vm)
{
	struct config *c = vm->cfg;
	unsigned int i, r, lasts = 0;
	uint64_t v;
	int bad = 0;

	for (r = 0; r < c->nr_rdist; r++) {
		int err;

		v = r;
		err = traced(xvm_get_attr(vm->gic, XVM_DEV_ARM_VGIC_GRP_ADDR,
					  XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, &v),
			     "GET_DEVICE_ATTR vgic ADDR REDIST_REGION index %u", r);
		bad |= check(!err && v == XVM_VGIC_V3_REDIST_REGION(c->rdist_count[r],
								    c->rdist_base[r], 0, r),
			     "GICv3 reports redistributor region %u: %u at 0x%llx (read back 0x%016llx)",
			     r, c->rdist_count[r], (unsigned long long)c->rdist_base[r],
			     (unsigned long long)v);
	}
	v = 0;
	if (gread(vm, 0, c->dist + GICD_TYPER, 4, &v))
		v = ~0ULL;
	bad |= check((v & 0x1f) == c->nr_irqs / 32 - 1,
		     "GICD_TYPER.ITLinesNumber = %llu (%u INTIDs), read on vCPU 0",
		     (unsigned long long)(v & 0x1f), c->nr_irqs);
	for (i = 0; i < c->vcpus; i++) {
		uint64_t addr = vgic_rdist_addr(c, i), want;
		bool last = expect_last(c, i, &r);

		want = ((uint64_t)aff_of(i) << 32) | ((uint64_t)i << 8) |
		       (last ? GICR_TYPER_LAST : 0);
		v = ~0ULL;
		gread(vm, i, addr + GICR_TYPER, 8, &v);
		lasts += last;
		bad |= check(v == want,
			     "vCPU %u: GICR_TYPER at 0x%llx (region %u) = 0x%016llx: "
			     "Processor_Number %u, Last=%d%s", i,
			     (unsigned long long)(addr + GICR_TYPER), r,
			     (unsigned long long)v, i, last,
			     last ? " (the guest's walk of this region stops here)" : "");
	}
	say("%u redistributor(s) report Last: the guest finds %u region(s)", lasts,
	    c->nr_rdist);
	return bad ? -1 : 0;
}

/* The CPU-interface loop of a vCPU thread: acknowledge, handle, EOI. */
void vgic_handle(struct vm *vm, struct vcpu *v)
{
	struct config *c = vm->cfg;

	traced(xvm_evtchn_clear(vm->fd, v->notify), "XVM_EVTCHN_CLEAR port %u (vGIC notify)",
	       v->notify);
	for (;;) {
		struct xvm_vgic_ack ack = { .group = 1 };
		struct xvm_vgic_eoi eoi = { 0 };
		struct spi_cfg *s = NULL;
		char src[96] = "";
		unsigned int i;

		if (traced(ioctl(v->fd, XVM_VGIC_ACK, &ack), "XVM_VGIC_ACK vcpu %u -> %u",
			   v->id, ack.intid) || ack.intid == XVM_VGIC_SPURIOUS)
			break;
		eoi.intid = ack.intid;
		traced(ioctl(v->fd, XVM_VGIC_EOI, &eoi), "XVM_VGIC_EOI vcpu %u intid %u",
		       v->id, eoi.intid);
		for (i = 0; i < c->nr_spis; i++)
			if (c->spis[i].intid == ack.intid)
				s = &c->spis[i];
		pthread_mutex_lock(&vm->lock);
		if (s)
			snprintf(src, sizeof(src), "%s", s->source);
		pthread_mutex_unlock(&vm->lock);
		event("event:spi", "%s%sSPI %u -> vCPU %u acked (priority 0x%x) + EOI",
		      src, src[0] ? " -> " : "", ack.intid, v->id, ack.priority);
		if (s) {
			pthread_mutex_lock(&vm->lock);
			s->seen++;
			s->source[0] = 0;
			pthread_cond_broadcast(&vm->cond);
			pthread_mutex_unlock(&vm->lock);
		}
	}
}
