// SPDX-License-Identifier: GPL-2.0
/*
 * The scripted guest.  There is no CPU emulation: the guest is the boot
 * sequence below (the GIC and MSI-X programming a guest driver would do)
 * and then the config's script, one step per line.  Guest accesses are
 * XVM_MMIO calls made by the vCPU's own thread; device-side actions (the
 * e1000e raising a cause, the edu DMA engine) are what the guest's driver
 * would trigger through the device's BAR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm.h"

static const char *route_text(struct config *c, struct route *r, char *buf,
			      size_t len)
{
	if (r->kind == ROUTE_PORT)
		snprintf(buf, len, "port %s", c->ports[r->port].name);
	else
		snprintf(buf, len, "SPI %u", c->spis[r->spi].intid);
	return buf;
}

static int step_fire(struct vm *vm, struct step *s)
{
	struct config *c = vm->cfg;
	struct vfio_dev *d = &c->vfio[s->dev];
	struct route *r = &d->vec[s->val];
	unsigned int *seen, *waited;
	char *src, tgt[48];
	uint64_t t;
	int got;

	if (r->kind == ROUTE_PORT) {
		struct port_cfg *p = &c->ports[r->port];

		seen = &p->seen;
		waited = &p->waited;
		src = p->source;
		vm_set_source(vm, src, "%s MSI-X vector %llu -> doorbell", d->name,
			      (unsigned long long)s->val);
	} else {
		struct spi_cfg *sp = &c->spis[r->spi];

		seen = &sp->seen;
		waited = &sp->waited;
		src = sp->source;
		vm_set_source(vm, src, "%s MSI-X vector %llu -> GICD_SETSPI_NSR", d->name,
			      (unsigned long long)s->val);
	}
	vm_sync_seen(vm, seen, waited);
	t = now_ns();
	if (msix_fire(vm, d, s->val))
		return check(false, "%s: cannot fire vector %llu (only the e1000e's causes 0..4)",
			     d->name, (unsigned long long)s->val);
	got = vm_wait_seen(vm, seen, waited, s->timeout_ns);
	usleep(2000);	/* QEMU's e1000e may send a throttled duplicate: let it land */
	return check(got, "%s MSI-X vector %llu delivered in-kernel to %s%s (%.1f ms)",
		     d->name, (unsigned long long)s->val,
		     route_text(c, r, tgt, sizeof(tgt)),
		     got ? ", vCPU poller woke" : ": NOT delivered",
		     (double)(now_ns() - t) / 1e6);
}

static int step_mmio(struct vm *vm, struct step *s)
{
	bool write = s->kind == STEP_MMIO_WRITE;
	uint64_t val = s->val;
	int handled = 0, r;

	r = vcpu_mmio(vm, s->vcpu, write, s->addr, s->len, &val, &handled);
	if (r)
		return check(false, "line %d: %s: %s", s->line, s->text, strerror(errno));
	if (write) {
		event("event:mmio", "vCPU %u wrote 0x%llx to 0x%llx (%llu bytes): %s", s->vcpu,
		      (unsigned long long)s->val, (unsigned long long)s->addr,
		      (unsigned long long)s->len, handled ? "handled in the kernel" :
		      "unhandled (no device there)");
		return 0;
	}
	event("event:mmio", "vCPU %u read 0x%llx (%llu bytes): %s0x%llx", s->vcpu,
	      (unsigned long long)s->addr, (unsigned long long)s->len,
	      handled ? "" : "unhandled, ", (unsigned long long)val);
	if (s->expect == EXPECT_UNHANDLED)
		return check(!handled, "line %d: read of 0x%llx is left to the VMM (unhandled)",
			     s->line, (unsigned long long)s->addr);
	if (s->expect == EXPECT_VALUE)
		return check(handled && (val & s->mask) == (s->val & s->mask),
			     "line %d: read 0x%llx = 0x%llx (mask 0x%llx), expected 0x%llx",
			     s->line, (unsigned long long)s->addr,
			     (unsigned long long)val, (unsigned long long)s->mask,
			     (unsigned long long)s->val);
	return 0;
}

static int step_raise(struct vm *vm, struct step *s)
{
	struct config *c = vm->cfg;
	struct port_cfg *p = &c->ports[s->dev];
	uint64_t val = p->port;
	int handled = 0;

	if (s->kind == STEP_SEND) {
		vm_set_source(vm, p->source, "XVM_EVTCHN_SEND");
		return check(!traced(xvm_evtchn_send(vm->fd, p->port),
				     "XVM_EVTCHN_SEND port %u", p->port),
			     "send on port %s", p->name);
	}
	vm_set_source(vm, p->source, "vCPU %u doorbell write", s->vcpu);
	return check(!vcpu_mmio(vm, s->vcpu, true, c->doorbell, 4, &val, &handled) &&
		     handled, "vCPU %u rings the doorbell with port %s (%u)", s->vcpu,
		     p->name, p->port);
}

static int step_setspi(struct vm *vm, struct step *s)
{
	struct config *c = vm->cfg;
	struct spi_cfg *sp = &c->spis[s->dev];
	uint64_t val = sp->intid;
	int handled = 0;

	vm_set_source(vm, sp->source, "vCPU %u write GICD_SETSPI_NSR", s->vcpu);
	return check(!vcpu_mmio(vm, s->vcpu, true, c->dist + GICD_SETSPI_NSR, 4, &val,
				&handled) && handled,
		     "vCPU %u writes %u to GICD_SETSPI_NSR", s->vcpu, sp->intid);
}

static int step_wait(struct vm *vm, struct step *s)
{
	struct config *c = vm->cfg;

	if (s->kind == STEP_WAIT_PORT) {
		struct port_cfg *p = &c->ports[s->dev];

		return check(vm_wait_seen(vm, &p->seen, &p->waited, s->timeout_ns),
			     "poller of port %s on vCPU %u woken", p->name, p->vcpu);
	}
	return check(vm_wait_seen(vm, &c->spis[s->dev].seen, &c->spis[s->dev].waited,
				  s->timeout_ns),
		     "SPI %u taken by vCPU %u (acknowledged and EOIed)",
		     c->spis[s->dev].intid, c->spis[s->dev].vcpu);
}

static int run_step(struct vm *vm, struct step *s)
{
	struct config *c = vm->cfg;
	struct timespec ts;

	say("%s:%d: %s", c->file, s->line, s->text);
	switch (s->kind) {
	case STEP_MMIO_WRITE:
	case STEP_MMIO_READ:
		return step_mmio(vm, s);
	case STEP_SEND:
	case STEP_DOORBELL:
		return step_raise(vm, s);
	case STEP_SETSPI:
		return step_setspi(vm, s);
	case STEP_WAIT_PORT:
	case STEP_WAIT_SPI:
		return step_wait(vm, s);
	case STEP_CHECK_GIC:
		return vgic_check_regions(vm);
	case STEP_FIRE_MSIX:
		return step_fire(vm, s);
	case STEP_MSIX_PAGE:
		return msix_page_access(vm, &c->vfio[s->dev], s->addr);
	case STEP_IOMMU_MAP:
		return iommu_map(vm, &c->iommu[s->dev], s->addr, s->len, s->ro);
	case STEP_IOMMU_UNMAP:
		return iommu_unmap(vm, &c->iommu[s->dev], s->addr, s->len);
	case STEP_DMA:
		return iommu_dma(vm, &c->iommu[s->dev], s->addr, s->addr2, s->len,
				 s->expect);
	case STEP_SLEEP:
		ts.tv_sec = s->timeout_ns / SEC;
		ts.tv_nsec = s->timeout_ns % SEC;
		nanosleep(&ts, NULL);
		return 0;
	}
	return 0;
}

int script_run(struct vm *vm)
{
	struct config *c = vm->cfg;
	unsigned int i, total = 0;

	section("guest boot (scripted: no CPU emulation; accesses are XVM_MMIO on vCPU 0)");
	for (i = 0; i < c->nr_vfio; i++)
		if (c->vfio[i].msix && msix_firmware(vm, &c->vfio[i]))
			return -1;
	if (vcpus_start(vm))
		return -1;
	section("script (%u steps)", c->nr_steps);
	for (i = 0; i < c->nr_steps; i++)
		run_step(vm, &c->steps[i]);
	usleep(20000);	/* late duplicates land before the counts */
	section("vCPU threads");
	for (i = 0; i < c->vcpus; i++) {
		pthread_mutex_lock(&vm->lock);
		total += vm->vcpu[i].wakeups;
		say("vCPU %u: woke %u time(s) from XVM_POLL (%u ports polled)", i,
		    vm->vcpu[i].wakeups, vm->vcpu[i].nr_poll);
		pthread_mutex_unlock(&vm->lock);
	}
	return 0;
}
