// SPDX-License-Identifier: GPL-2.0
/*
 * struct vm: everything that exists while the VM runs, set up from the
 * (const) config by one list of paired steps.  A step runs once, or once per
 * instance (vCPU, port, device); vm_teardown() runs the teardowns of every
 * instance whose setup was started, in reverse order - after a failure as at
 * exit - so each teardown copes with a half-done setup (fds start at -1).
 * A failed setup call is reported at the config line it came from, with the
 * kernel's errno: the VMM does not second-guess the kernel's rules.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vmm.h"

struct setup_step {
	int (*setup)(struct vm *vm, unsigned int i);
	void (*teardown)(struct vm *vm, unsigned int i);
	unsigned int (*count)(const struct vmm_config *c);	/* NULL: once */
};

/*
 * Guest memory is a memfd mapped shared, so that a live update (update.c)
 * can hand it to a new VMM, which maps the same file at the same address
 * (XVM_CLAIM_OWNER checks both).  The address is a hint away from where
 * ASLR puts libraries, heaps and stacks, so that the range is likely free
 * in the new process too; where it is not, the kernel picks another.
 */
#define MEM_HINT	((void *)(uintptr_t)0x200000000000ULL)

static int mem_alloc(struct vm *vm, unsigned int i)
{
	const struct vmm_config *c = vm->cfg;

	(void)i;
	vm->memfd = memfd_create("xvm-guest-memory", MFD_CLOEXEC);
	if (vm->memfd < 0 || ftruncate(vm->memfd, c->mem_size))
		return line_error(c, c->memory_line, "memory: memfd");
	vm->mem = mmap(MEM_HINT, c->mem_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, vm->memfd, 0);
	if (vm->mem != MAP_FAILED)
		return 0;
	vm->mem = NULL;
	return line_error(c, c->memory_line, "memory: mmap");
}

static void mem_free(struct vm *vm, unsigned int i)
{
	(void)i;
	if (vm->mem)
		munmap(vm->mem, vm->cfg->mem_size);
	if (vm->memfd >= 0)
		close(vm->memfd);
	vm->mem = NULL;
	vm->memfd = -1;
}

static int vm_create(struct vm *vm, unsigned int i)
{
	(void)i;
	section("creating the VM (%s)", vm->cfg->file);
	vm->xvm = xvm_open();
	if (vm->xvm < 0) {
		errorf("open %s: %s (are the xvm modules loaded?)", XVM_DEV_PATH,
		       strerror(errno));
		return -1;
	}
	vm->fd = traced(xvm_create_vm(vm->xvm, 0), "XVM_CREATE_VM type 0");
	if (vm->fd < 0) {
		errorf("XVM_CREATE_VM: %s", strerror(errno));
		return -1;
	}
	/* The VM's name in its event-channel state: before any port names it. */
	if (traced(xvm_set_vm_id(vm->fd, vm->cfg->vm_id), "XVM_ENABLE_CAP VM_ID %llu",
		   (unsigned long long)vm->cfg->vm_id)) {
		errorf("XVM_ENABLE_CAP(XVM_CAP_VM_ID) %llu: %s",
		       (unsigned long long)vm->cfg->vm_id, strerror(errno));
		return -1;
	}
	created("VM (40-bit guest physical addresses), VM id %llu",
		(unsigned long long)vm->cfg->vm_id);
	return 0;
}

static void vm_destroy(struct vm *vm, unsigned int i)
{
	(void)i;
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->xvm >= 0)
		close(vm->xvm);
	vm->fd = vm->xvm = -1;
}

int vm_create_device(struct vm *vm, uint32_t type, const char *module,
		     int line, int *fd)
{
	if (!traced(xvm_create_device(vm->fd, type, 0, fd),
		    "XVM_CREATE_DEVICE type %u (%s)", type, module))
		return 0;
	*fd = -1;
	return line_error(vm->cfg, line, "XVM_CREATE_DEVICE (is %s loaded?)",
			  module);
}

static int vcpu_create(struct vm *vm, unsigned int i)
{
	const struct vmm_config *c = vm->cfg;
	struct vcpu *v = &vm->vcpu[i];

	v->id = i;
	v->vm = vm;
	v->fd = traced(xvm_create_vcpu(vm->fd, i), "XVM_CREATE_VCPU %u", i);
	if (v->fd < 0)
		return line_error(c, c->vcpus_line, "vcpus: XVM_CREATE_VCPU %u", i);
	if (i == c->vcpus - 1)
		created("%u vCPUs (ids 0..%u), one thread each", c->vcpus, c->vcpus - 1);
	return 0;
}

static void vcpu_close(struct vm *vm, unsigned int i)
{
	if (vm->vcpu[i].fd >= 0)
		close(vm->vcpu[i].fd);
	vm->vcpu[i].fd = -1;
}

static int memslot_set(struct vm *vm, unsigned int i)
{
	const struct vmm_config *c = vm->cfg;

	(void)i;
	if (traced(xvm_set_memory_region(vm->fd, 0, 0, c->mem_gpa, c->mem_size,
					 (uintptr_t)vm->mem),
		   "XVM_SET_USER_MEMORY_REGION slot 0 gpa 0x%llx size 0x%llx",
		   (unsigned long long)c->mem_gpa, (unsigned long long)c->mem_size))
		return line_error(c, c->memory_line, "memory: slot 0, 0x%llx bytes at 0x%llx",
				  (unsigned long long)c->mem_size,
				  (unsigned long long)c->mem_gpa);
	created("guest memory: slot 0, %llu KiB at guest 0x%llx",
		(unsigned long long)c->mem_size >> 10, (unsigned long long)c->mem_gpa);
	return 0;
}

/* The private port that wakes a vCPU thread for a request. */
static int kick_alloc(struct vm *vm, unsigned int i)
{
	struct vcpu *v = &vm->vcpu[i];

	if (traced(xvm_evtchn_alloc_unbound(vm->fd, &v->kick),
		   "XVM_EVTCHN_ALLOC_UNBOUND -> port %u", v->kick)) {
		errorf("vCPU %u: kick port: %s", i, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A port's own end: allocated unbound (for this VM by name with remote), or
 * with peer= bound to that earlier port (a loopback pair: a send on either
 * raises the other).  A port a later one pairs with stays unbound until
 * then: only an unbound port can be bound to.
 */
static int port_alloc(struct vm *vm, struct port_rt *p)
{
	const struct port_cfg *pc = p->cfg;
	struct xvm_evtchn_op op = { .flags = XVM_EVTCHN_ALLOC_REMOTE, .fd = vm->fd };
	const struct port_rt *peer = pc->peer >= 0 ? &vm->ports[pc->peer] : NULL;

	if (peer)
		return traced(xvm_evtchn_bind_interdomain(vm->fd, vm->fd, peer->port, &p->port),
			      "XVM_EVTCHN_BIND_INTERDOMAIN remote port %u -> port %u",
			      peer->port, p->port) ||
		       traced(xvm_evtchn_bind_vcpu(vm->fd, peer->port, peer->cfg->vcpu),
			      "XVM_EVTCHN_BIND_VCPU port %u vcpu %u", peer->port,
			      peer->cfg->vcpu);
	if (pc->remote) {
		if (traced(ioctl(vm->fd, XVM_EVTCHN_ALLOC_UNBOUND, &op),
			   "XVM_EVTCHN_ALLOC_UNBOUND REMOTE (this VM) -> port %u", op.port))
			return -1;
		p->port = op.port;
		return 0;
	}
	return traced(xvm_evtchn_alloc_unbound(vm->fd, &p->port),
		      "XVM_EVTCHN_ALLOC_UNBOUND -> port %u", p->port);
}

static int port_setup(struct vm *vm, unsigned int i)
{
	struct port_rt *p = &vm->ports[i];
	const struct port_cfg *pc = &vm->cfg->ports[i];

	p->cfg = pc;
	if (port_alloc(vm, p) ||
	    (!pc->paired && traced(xvm_evtchn_bind_vcpu(vm->fd, p->port, pc->vcpu),
				   "XVM_EVTCHN_BIND_VCPU port %u vcpu %u", p->port, pc->vcpu)))
		return line_error(vm->cfg, pc->line, "port %s", pc->name);
	if (pc->eventfd) {
		p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->efd < 0 || traced(xvm_evtchn_eventfd(vm->fd, p->port, p->efd, 0),
					 "XVM_EVTCHN_EVENTFD port %u fd %d", p->port, p->efd))
			return line_error(vm->cfg, pc->line, "port %s: eventfd", pc->name);
	}
	created("event port %s = port %u, %s vCPU %u%s%s%s", pc->name, p->port,
		pc->paired ? "for" : "bound to", pc->vcpu,
		pc->peer >= 0 ? ", interdomain with port " : "",
		pc->peer >= 0 ? vm->cfg->ports[pc->peer].name : "",
		pc->eventfd ? ", raised by an eventfd" : pc->remote ? ", named for this VM" : "");
	return 0;
}

static void port_close(struct vm *vm, unsigned int i)
{
	if (vm->ports[i].efd >= 0)
		close(vm->ports[i].efd);
	vm->ports[i].efd = -1;
}

static int doorbell_set(struct vm *vm, unsigned int i)
{
	const struct vmm_config *c = vm->cfg;

	(void)i;
	if (traced(xvm_set_doorbell(vm->fd, c->doorbell, 0),
		   "XVM_EVTCHN_SET_DOORBELL 0x%llx", (unsigned long long)c->doorbell))
		return line_error(c, c->doorbell_line, "doorbell at 0x%llx",
				  (unsigned long long)c->doorbell);
	created("event-channel doorbell at 0x%llx (write a port number to raise it)",
		(unsigned long long)c->doorbell);
	return 0;
}

/* The scripted guest's boot: its MSI-X programming of each device. */
static int guest_boot(struct vm *vm, unsigned int i)
{
	(void)i;
	if (vm->restore)
		return 0;
	section("guest boot (scripted: no CPU emulation; accesses are XVM_MMIO on vCPU 0)");
	for (i = 0; i < vm->cfg->nr_vfio; i++)
		if (msix_firmware(vm, i))
			return -1;
	return 0;
}

static int threads_start(struct vm *vm, unsigned int i)
{
	(void)i;
	return vm->restore ? 0 : vcpus_start(vm);
}

static void threads_stop(struct vm *vm, unsigned int i)
{
	(void)i;
	vcpus_stop(vm);
}

static unsigned int nr_vcpus(const struct vmm_config *c) { return c->vcpus; }
static unsigned int nr_ports(const struct vmm_config *c) { return c->nr_ports; }
static unsigned int nr_vfio(const struct vmm_config *c) { return c->nr_vfio; }
static unsigned int nr_iommu(const struct vmm_config *c) { return c->nr_iommu; }
static unsigned int has_gic(const struct vmm_config *c) { return !!c->gic.line; }
static unsigned int has_doorbell(const struct vmm_config *c) { return !!c->doorbell_line; }

/* In setup order; teardown is the reverse. */
static const struct setup_step setup_steps[] = {
	{ mem_alloc,	mem_free,	NULL },
	{ vm_create,	vm_destroy,	NULL },
	{ vgic_setup,	vgic_close,	has_gic },	/* before the vCPUs, as KVM allows */
	{ vcpu_create,	vcpu_close,	nr_vcpus },
	{ memslot_set,	NULL,	NULL },
	{ kick_alloc,	NULL,		nr_vcpus },
	{ port_setup,	port_close,	nr_ports },
	{ doorbell_set,	NULL,		has_doorbell },
	{ vgic_firmware, NULL,		has_gic },
	{ vfio_open_dev, vfio_close_dev, nr_vfio },
	{ msix_setup,	msix_close,	nr_vfio },
	{ iommu_setup,	iommu_close,	nr_iommu },
	{ guest_boot,	NULL,	NULL },
	{ threads_start, threads_stop,	NULL },
};

static void vm_init(struct vm *vm, const struct vmm_config *c)
{
	unsigned int i;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = c;
	vm->xvm = vm->fd = vm->gic = vm->memfd = -1;
	for (i = 0; i < MAX_VCPUS; i++)
		vm->vcpu[i].fd = -1;
	for (i = 0; i < MAX_SPIS; i++)
		vm->spis[i].cfg = &c->spis[i];
	for (i = 0; i < MAX_PORTS; i++)
		vm->ports[i].efd = -1;
	for (i = 0; i < MAX_VFIO; i++) {
		struct vfio_rt *d = &vm->vfio[i];

		d->cfg = &c->vfio[i];
		d->dev.container = d->dev.group = d->dev.device = d->msixdev = -1;
	}
	for (i = 0; i < MAX_IOMMU; i++) {
		vm->iommu[i].cfg = &c->iommu[i];
		vm->iommu[i].dev = -1;
	}
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
}

int vm_setup(struct vm *vm, const struct vmm_config *c, unsigned int flags)
{
	unsigned int s, i, n;

	_Static_assert(ARRAY_SIZE(setup_steps) <= ARRAY_SIZE(vm->done), "vm->done");
	vm_init(vm, c);
	vm->restore = flags & VM_SETUP_RESTORE;
	for (s = 0; s < ARRAY_SIZE(setup_steps); s++) {
		n = setup_steps[s].count ? setup_steps[s].count(c) : 1;
		for (i = 0; i < n; i++) {
			vm->done[s] = i + 1;	/* started: its teardown runs */
			if (setup_steps[s].setup(vm, i))
				return -1;
		}
	}
	return 0;
}

void vm_adopt(struct vm *vm, const struct vmm_config *c)
{
	unsigned int s, i;

	vm_init(vm, c);
	for (s = 0; s < ARRAY_SIZE(setup_steps); s++)
		vm->done[s] = setup_steps[s].count ? setup_steps[s].count(c) : 1;
	for (i = 0; i < c->vcpus; i++) {
		vm->vcpu[i].id = i;
		vm->vcpu[i].vm = vm;
	}
	for (i = 0; i < c->nr_ports; i++)
		vm->ports[i].cfg = &c->ports[i];
}

void vm_teardown(struct vm *vm)
{
	unsigned int s = ARRAY_SIZE(setup_steps);

	while (s--) {
		while (vm->done[s]) {
			vm->done[s]--;
			if (setup_steps[s].teardown)
				setup_steps[s].teardown(vm, vm->done[s]);
		}
	}
}

void vm_set_source(struct vm *vm, struct delivery *d, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->lock);
	va_start(ap, fmt);
	vsnprintf(d->source, sizeof(d->source), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&vm->lock);
}

void vm_sync_seen(struct vm *vm, struct delivery *d)
{
	pthread_mutex_lock(&vm->lock);
	d->waited = d->seen;
	pthread_mutex_unlock(&vm->lock);
}

void vm_get_source(struct vm *vm, struct delivery *d, char *src, size_t len,
		   const char *dflt)
{
	pthread_mutex_lock(&vm->lock);
	snprintf(src, len, "%s", d->source[0] ? d->source : dflt);
	pthread_mutex_unlock(&vm->lock);
}

void vm_delivered(struct vm *vm, struct delivery *d)
{
	pthread_mutex_lock(&vm->lock);
	d->seen++;
	d->source[0] = 0;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

void deadline_in(struct timespec *ts, uint64_t timeout_ns)
{
	uint64_t end;

	clock_gettime(CLOCK_REALTIME, ts);
	end = (uint64_t)ts->tv_sec * SEC + ts->tv_nsec + timeout_ns;
	ts->tv_sec = end / SEC;
	ts->tv_nsec = end % SEC;
}

int vm_wait_seen(struct vm *vm, struct delivery *d, uint64_t timeout_ns)
{
	struct timespec ts;
	int got;

	deadline_in(&ts, timeout_ns);
	pthread_mutex_lock(&vm->lock);
	while (d->seen <= d->waited)
		if (pthread_cond_timedwait(&vm->cond, &vm->lock, &ts) == ETIMEDOUT)
			break;
	got = d->seen > d->waited;
	d->waited = d->seen;
	pthread_mutex_unlock(&vm->lock);
	return got;
}
