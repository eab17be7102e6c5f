// SPDX-License-Identifier: GPL-2.0
/*
 * VM setup and teardown: /dev/xvm, the VM, its vCPUs, guest memory, the
 * event ports and the doorbell, then the devices (vGIC, VFIO + MSI-X
 * interposer, xvm-iommu) in that order.  Teardown is the reverse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vmm.h"

static int setup_ports(struct vm *vm)
{
	struct config *c = vm->cfg;
	unsigned int i;

	for (i = 0; i < c->vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];

		if (traced(xvm_evtchn_alloc_unbound(vm->fd, &v->kick),
			   "XVM_EVTCHN_ALLOC_UNBOUND -> port %u", v->kick)) {
			errorf("vCPU %u: kick port: %s", i, strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < c->nr_ports; i++) {
		struct port_cfg *p = &c->ports[i];

		if (traced(xvm_evtchn_alloc_unbound(vm->fd, &p->port),
			   "XVM_EVTCHN_ALLOC_UNBOUND -> port %u", p->port) ||
		    traced(xvm_evtchn_bind_vcpu(vm->fd, p->port, p->vcpu),
			   "XVM_EVTCHN_BIND_VCPU port %u vcpu %u", p->port,
			   p->vcpu)) {
			errorf("port %s: %s", p->name, strerror(errno));
			return -1;
		}
		created("event port %s = port %u, bound to vCPU %u", p->name,
			p->port, p->vcpu);
	}
	if (c->has_doorbell) {
		if (traced(xvm_set_doorbell(vm->fd, c->doorbell, 0),
			   "XVM_EVTCHN_SET_DOORBELL 0x%llx",
			   (unsigned long long)c->doorbell)) {
			errorf("doorbell at 0x%llx: %s",
			       (unsigned long long)c->doorbell, strerror(errno));
			return -1;
		}
		created("event-channel doorbell at 0x%llx (write a port number to raise it)",
			(unsigned long long)c->doorbell);
	}
	return 0;
}

int vm_setup(struct vm *vm, struct config *c)
{
	unsigned int i;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = c;
	vm->xvm = vm->fd = vm->gic = -1;
	for (i = 0; i < MAX_VCPUS; i++)
		vm->vcpu[i].fd = -1;
	for (i = 0; i < c->nr_vfio; i++) {
		c->vfio[i].container = c->vfio[i].group = c->vfio[i].device = -1;
		c->vfio[i].msixdev = -1;
	}
	for (i = 0; i < c->nr_iommu; i++)
		c->iommu[i].dev = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);

	section("creating the VM (%s)", c->file);
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
	created("VM (40-bit guest physical addresses)");
	if (c->has_gic && vgic_setup(vm))
		return -1;
	for (i = 0; i < c->vcpus; i++) {
		vm->vcpu[i].id = i;
		vm->vcpu[i].vm = vm;
		vm->vcpu[i].fd = traced(xvm_create_vcpu(vm->fd, i),
					"XVM_CREATE_VCPU %u", i);
		if (vm->vcpu[i].fd < 0) {
			errorf("XVM_CREATE_VCPU %u: %s", i, strerror(errno));
			return -1;
		}
	}
	created("%u vCPUs (ids 0..%u), one thread each", c->vcpus, c->vcpus - 1);

	vm->mem = mmap(NULL, c->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		errorf("guest memory: %s", strerror(errno));
		return -1;
	}
	if (traced(xvm_set_memory_region(vm->fd, 0, 0, c->mem_gpa, c->mem_size,
					 (uintptr_t)vm->mem),
		   "XVM_SET_USER_MEMORY_REGION slot 0 gpa 0x%llx size 0x%llx",
		   (unsigned long long)c->mem_gpa,
		   (unsigned long long)c->mem_size)) {
		errorf("memory slot: %s", strerror(errno));
		return -1;
	}
	created("guest memory: slot 0, %llu KiB at guest 0x%llx",
		(unsigned long long)c->mem_size >> 10,
		(unsigned long long)c->mem_gpa);
	if (setup_ports(vm))
		return -1;
	if (c->has_gic && vgic_firmware(vm))
		return -1;
	for (i = 0; i < c->nr_vfio; i++)
		if (vfio_open_dev(vm, &c->vfio[i]) ||
		    (c->vfio[i].msix && msix_setup(vm, &c->vfio[i])))
			return -1;
	for (i = 0; i < c->nr_iommu; i++)
		if (iommu_setup(vm, &c->iommu[i]))
			return -1;
	return 0;
}

void vm_teardown(struct vm *vm)
{
	struct config *c = vm->cfg;
	unsigned int i;

	vcpus_stop(vm);
	for (i = 0; i < c->nr_iommu; i++)
		iommu_close(&c->iommu[i]);
	for (i = 0; i < c->nr_vfio; i++)
		vfio_close_dev(&c->vfio[i]);
	for (i = 0; i < MAX_VCPUS; i++)
		if (vm->vcpu[i].fd >= 0)
			close(vm->vcpu[i].fd);
	if (vm->gic >= 0)
		close(vm->gic);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->xvm >= 0)
		close(vm->xvm);
	if (vm->mem)
		munmap(vm->mem, c->mem_size);
	vm->fd = vm->xvm = vm->gic = -1;
}

void vm_set_source(struct vm *vm, char *dst, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->lock);
	va_start(ap, fmt);
	vsnprintf(dst, 96, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&vm->lock);
}

void vm_sync_seen(struct vm *vm, unsigned int *seen, unsigned int *waited)
{
	pthread_mutex_lock(&vm->lock);
	*waited = *seen;
	pthread_mutex_unlock(&vm->lock);
}

int vm_wait_seen(struct vm *vm, unsigned int *seen, unsigned int *waited,
		 uint64_t timeout_ns)
{
	struct timespec ts;
	uint64_t end;
	int got;

	clock_gettime(CLOCK_REALTIME, &ts);
	end = (uint64_t)ts.tv_sec * SEC + ts.tv_nsec + timeout_ns;
	ts.tv_sec = end / SEC;
	ts.tv_nsec = end % SEC;
	pthread_mutex_lock(&vm->lock);
	while (*seen <= *waited)
		if (pthread_cond_timedwait(&vm->cond, &vm->lock, &ts) == ETIMEDOUT)
			break;
	got = *seen > *waited;
	*waited = *seen;
	pthread_mutex_unlock(&vm->lock);
	return got;
}
