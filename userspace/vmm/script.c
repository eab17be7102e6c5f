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

const char *step_errno(const struct vm *vm, const struct step *s, char *buf,
		       size_t len)
{
	char err[96];

	snprintf(buf, len, ": %s:%d: %s", vm->cfg->file, s->line,
		 errno_text(errno, err, sizeof(err)));
	return buf;
}

static const char *route_text(const struct vmm_config *c, const struct route *r,
			      char *buf, size_t len)
{
	if (r->kind == ROUTE_PORT)
		snprintf(buf, len, "port %s", c->ports[r->target].name);
	else
		snprintf(buf, len, "SPI %u", c->spis[r->target].intid);
	return buf;
}

struct delivery *route_delivery(struct vm *vm, const struct route *r)
{
	return r->kind == ROUTE_PORT ? &vm->ports[r->target].dlv :
				       &vm->spis[r->target].dlv;
}

/*
 * One fire of the vector, its delivery awaited; counted in d->fired and
 * d->delivered (or, masked, d->latched).  1 if it went as expected.
 */
static int fire_one(struct vm *vm, struct vfio_rt *d, const struct step_fire *st,
		    struct delivery *dlv)
{
	const struct route *r = &d->cfg->vec[st->vector];
	int got;

	vm_set_source(vm, dlv, "%s MSI-X vector %u -> %s", d->cfg->name, st->vector,
		      r->kind == ROUTE_PORT ? "doorbell" : "GICD_SETSPI_NSR");
	vm_sync_seen(vm, dlv);
	if (msix_fire(d, st->vector))
		return -1;
	d->fired[st->vector]++;
	got = vm_wait_seen(vm, dlv, st->timeout_ns);
	usleep(2000);	/* QEMU's e1000e may send a throttled duplicate: let it land */
	if (got)
		d->delivered[st->vector]++;
	else if (st->masked)
		d->latched[st->vector]++;
	return got != st->masked;
}

static int step_fire(struct vm *vm, const struct step *s)
{
	const struct step_fire *st = &s->fire;
	struct vfio_rt *d = &vm->vfio[st->dev];
	const struct route *r = &d->cfg->vec[st->vector];
	struct delivery *dlv = route_delivery(vm, r);
	unsigned int i, good = 0;
	char tgt[48];
	uint64_t t;
	int one;

	t = now_ns();
	for (i = 0; i < st->count; i++) {
		one = fire_one(vm, d, st, dlv);
		if (one < 0)
			return check(false, "%s: cannot fire vector %u (only the e1000e's causes 0..4)",
				     d->cfg->name, st->vector);
		good += one;
	}
	route_text(vm->cfg, r, tgt, sizeof(tgt));
	if (st->masked)
		return check(good == st->count,
			     "%s MSI-X vector %u fired %u time(s) while masked: %s (%u delivered)",
			     d->cfg->name, st->vector, st->count,
			     good == st->count ? "not delivered, latched in the PBA" :
			     "DELIVERED", st->count - good);
	if (st->count > 1)
		return check(good == st->count,
			     "%s MSI-X vector %u fired %u times: %u delivered in-kernel to %s, "
			     "each awaited (%.1f ms)", d->cfg->name, st->vector, st->count, good,
			     tgt, (double)(now_ns() - t) / 1e6);
	return check(good, "%s MSI-X vector %u delivered in-kernel to %s%s (%.1f ms)",
		     d->cfg->name, st->vector, tgt,
		     good ? ", vCPU poller woke" : ": NOT delivered",
		     (double)(now_ns() - t) / 1e6);
}

static int step_mmio(struct vm *vm, const struct step *s)
{
	const struct step_mmio *st = &s->mmio;
	bool write = s->tag == STEP_MMIO_WRITE;
	uint64_t val = st->val;
	char err[128];
	int handled = 0;

	if (vcpu_mmio(vm, st->vcpu, write, st->addr, st->len, &val, &handled))
		return check(false, "line %d: %s%s", s->line, s->text,
			     step_errno(vm, s, err, sizeof(err)));
	if (write) {
		event("event:mmio", "vCPU %u wrote 0x%llx to 0x%llx (%u bytes): %s", st->vcpu,
		      (unsigned long long)st->val, (unsigned long long)st->addr,
		      st->len, handled ? "handled in the kernel" :
		      "unhandled (no device there)");
		return 0;
	}
	event("event:mmio", "vCPU %u read 0x%llx (%u bytes): %s0x%llx", st->vcpu,
	      (unsigned long long)st->addr, st->len,
	      handled ? "" : "unhandled, ", (unsigned long long)val);
	if (st->expect == EXPECT_UNHANDLED)
		return check(!handled, "line %d: read of 0x%llx is left to the VMM (unhandled)",
			     s->line, (unsigned long long)st->addr);
	if (st->expect == EXPECT_VALUE)
		return check(handled && (val & st->mask) == (st->val & st->mask),
			     "line %d: read 0x%llx = 0x%llx (mask 0x%llx), expected 0x%llx",
			     s->line, (unsigned long long)st->addr,
			     (unsigned long long)val, (unsigned long long)st->mask,
			     (unsigned long long)st->val);
	return 0;
}

/*
 * A guest load or store to RAM: no exit, the VMM's mapping of guest memory
 * is the guest's (little-endian, as the guest and the host here).
 */
static int step_mem(struct vm *vm, const struct step *s)
{
	const struct step_mmio *st = &s->mmio;
	uint8_t *p = (uint8_t *)vm->mem + (st->addr - vm->cfg->mem_gpa);
	uint64_t val = 0;

	if (s->tag == STEP_MEM_WRITE) {
		memcpy(p, &st->val, st->len);
		event("event:mem", "guest RAM 0x%llx = 0x%llx (%u bytes)",
		      (unsigned long long)st->addr, (unsigned long long)st->val,
		      st->len);
		return 0;
	}
	memcpy(&val, p, st->len);
	return check(val == st->val, "line %d: guest RAM 0x%llx = 0x%llx, expected 0x%llx",
		     s->line, (unsigned long long)st->addr,
		     (unsigned long long)val, (unsigned long long)st->val);
}

static int step_raise(struct vm *vm, const struct step *s)
{
	struct port_rt *p = &vm->ports[s->raise.target];
	uint64_t val = p->port;
	int handled = 0;

	if (s->tag == STEP_SEND) {
		vm_set_source(vm, &p->dlv, "XVM_EVTCHN_SEND");
		return check(!traced(xvm_evtchn_send(vm->fd, p->port),
				     "XVM_EVTCHN_SEND port %u", p->port),
			     "send on port %s", p->cfg->name);
	}
	vm_set_source(vm, &p->dlv, "vCPU %u doorbell write", s->raise.vcpu);
	return check(!vcpu_mmio(vm, s->raise.vcpu, true, vm->cfg->doorbell, 4, &val,
				&handled) && handled,
		     "vCPU %u rings the doorbell with port %s (%u)", s->raise.vcpu,
		     p->cfg->name, p->port);
}

/* A VMM device model's eventfd: each write raises the port (its bridge). */
static int step_signal(struct vm *vm, const struct step *s)
{
	struct port_rt *p = &vm->ports[s->raise.target];
	uint64_t one = 1;

	vm_set_source(vm, &p->dlv, "eventfd write");
	return check(write(p->efd, &one, sizeof(one)) == sizeof(one),
		     "eventfd of port %s signalled", p->cfg->name);
}

static int step_setspi(struct vm *vm, const struct step *s)
{
	struct spi_rt *sp = &vm->spis[s->raise.target];
	uint64_t val = sp->cfg->intid;
	int handled = 0;

	vm_set_source(vm, &sp->dlv, "vCPU %u write GICD_SETSPI_NSR", s->raise.vcpu);
	return check(!vcpu_mmio(vm, s->raise.vcpu, true,
				vm->cfg->gic.dist + GICD_SETSPI_NSR, 4, &val,
				&handled) && handled,
		     "vCPU %u writes %u to GICD_SETSPI_NSR", s->raise.vcpu,
		     sp->cfg->intid);
}

static int step_wait(struct vm *vm, const struct step *s)
{
	const struct step_wait *st = &s->wait;

	if (st->port >= 0) {
		struct port_rt *p = &vm->ports[st->port];

		return check(vm_wait_seen(vm, &p->dlv, st->timeout_ns),
			     "poller of port %s on vCPU %u woken", p->cfg->name,
			     p->cfg->vcpu);
	}
	return check(vm_wait_seen(vm, &vm->spis[st->spi].dlv, st->timeout_ns),
		     "SPI %u taken by vCPU %u (acknowledged and EOIed)",
		     vm->cfg->spis[st->spi].intid, vm->cfg->spis[st->spi].vcpu);
}

static int step_sleep(struct vm *vm, const struct step *s)
{
	struct timespec ts = {
		.tv_sec = s->sleep.ns / SEC, .tv_nsec = s->sleep.ns % SEC,
	};

	(void)vm;
	nanosleep(&ts, NULL);
	return 0;
}

static int step_check_gic(struct vm *vm, const struct step *s)
{
	(void)s;
	return vgic_check_regions(vm);
}

static int step_msix_page(struct vm *vm, const struct step *s)
{
	return msix_page_access(vm, &vm->vfio[s->page.dev], s->page.offset);
}

/* Under run, save and restore --check the VM stays: a marker, nothing to do. */
static int step_migrate(struct vm *vm, const struct step *s)
{
	(void)vm;
	(void)s;
	say("migrate: not migrating (only xvm-vmm migrate leaves here)");
	return 0;
}

/* What runs each kind of step, by its tag. */
static int (*const step_run[])(struct vm *vm, const struct step *s) = {
	[STEP_MMIO_WRITE] = step_mmio,	[STEP_MMIO_READ] = step_mmio,
	[STEP_SEND] = step_raise,	[STEP_DOORBELL] = step_raise,
	[STEP_SETSPI] = step_setspi,	[STEP_WAIT] = step_wait,
	[STEP_CHECK_GIC] = step_check_gic, [STEP_FIRE_MSIX] = step_fire,
	[STEP_MSIX_PAGE] = step_msix_page, [STEP_IOMMU_MAP] = iommu_map,
	[STEP_IOMMU_UNMAP] = iommu_unmap, [STEP_DMA] = iommu_dma,
	[STEP_SLEEP] = step_sleep,	[STEP_MIGRATE] = step_migrate,
	[STEP_MEM_WRITE] = step_mem,	[STEP_MEM_READ] = step_mem,
	[STEP_SPI_LINE] = vgic_spi_line,
	[STEP_SIGNAL] = step_signal,
	[STEP_LIVE_UPDATE] = update_step,
};

/* The xvm-msix counters of device d (0 where unknown). */
static void msix_stats(struct vfio_rt *d, uint64_t st[XVM_MSIX_NR_STATS])
{
	unsigned int i;

	for (i = 0; i < XVM_MSIX_NR_STATS; i++) {
		st[i] = 0;
		xvm_get_attr(d->msixdev, XVM_MSIX_GRP_STATS, i, &st[i]);
	}
}

/*
 * Every fire of the script, over every process a live update went
 * through: delivered (its poller woke) or latched (fired masked).  The
 * interposer's own counts: each message it took from the device delivered
 * or latched, none lost on the way (a message the device duplicates, as
 * QEMU's e1000e may, is one more message, not one more fire).
 */
static void msix_account(struct vfio_rt *d)
{
	unsigned int v, fired = 0, done = 0, latched = 0;
	uint64_t st[XVM_MSIX_NR_STATS];

	for (v = 0; v < MAX_VEC; v++) {
		fired += d->fired[v];
		done += d->delivered[v];
		latched += d->latched[v];
	}
	if (!fired)
		return;
	msix_stats(d, st);
	/* A latched message is delivered again by its unmask: counted in both. */
	check(done + latched == fired && st[XVM_MSIX_STAT_FIRED] >= fired &&
	      st[XVM_MSIX_STAT_DELIVERED] + st[XVM_MSIX_STAT_UNDELIVERABLE] <=
	      st[XVM_MSIX_STAT_FIRED] &&
	      st[XVM_MSIX_STAT_DELIVERED] + st[XVM_MSIX_STAT_LATCHED] +
	      st[XVM_MSIX_STAT_UNDELIVERABLE] >= st[XVM_MSIX_STAT_FIRED],
	      "%s: %u MSI-X fire(s) by the script: %u delivered, %u latched while masked; "
	      "xvm-msix: %llu message(s) from the device, %llu delivered, %llu latched, "
	      "%llu undeliverable", d->cfg->name, fired, done, latched,
	      (unsigned long long)st[XVM_MSIX_STAT_FIRED],
	      (unsigned long long)st[XVM_MSIX_STAT_DELIVERED],
	      (unsigned long long)st[XVM_MSIX_STAT_LATCHED],
	      (unsigned long long)st[XVM_MSIX_STAT_UNDELIVERABLE]);
}

unsigned int script_run_from(struct vm *vm, unsigned int from, bool to_migrate)
{
	const struct vmm_config *c = vm->cfg;
	unsigned int i, v, d;

	if (!from)
		section("script (%u steps)", c->nr_steps);
	else if (from < c->nr_steps)
		section("script, resumed at step %u of %u (line %d)", from + 1,
			c->nr_steps, c->steps[from].line);
	for (i = from; i < c->nr_steps; i++) {
		update_boundary(vm, i);
		say("%s:%d: %s", c->file, c->steps[i].line, c->steps[i].text);
		if (to_migrate && c->steps[i].tag == STEP_MIGRATE)
			break;
		step_run[c->steps[i].tag](vm, &c->steps[i]);
	}
	update_boundary(vm, i);
	usleep(20000);	/* late duplicates land before the counts */
	for (d = 0; d < c->nr_vfio; d++)
		if (vm->vfio[d].msixdev >= 0)
			msix_account(&vm->vfio[d]);
	section("vCPU threads");
	for (v = 0; v < c->vcpus; v++) {
		pthread_mutex_lock(&vm->lock);
		say("vCPU %u: woke %u time(s) from XVM_POLL (%u ports polled)", v,
		    vm->vcpu[v].wakeups, vm->vcpu[v].nr_poll);
		pthread_mutex_unlock(&vm->lock);
	}
	return i < c->nr_steps ? i + 1 : c->nr_steps;
}

int script_run(struct vm *vm)
{
	script_run_from(vm, vm->next_step, false);
	return 0;
}
