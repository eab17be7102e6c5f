// SPDX-License-Identifier: GPL-2.0
/*
 * One thread per vCPU.  A vCPU fd serialises its ioctls (XVM_POLL holds the
 * vCPU while it sleeps, like KVM_RUN), so everything a vCPU does is done by
 * its own thread: it sleeps in XVM_POLL on its ports - the vGIC notify port,
 * the event ports bound to it, and a private "kick" port - and
 *   - on the notify port: runs the CPU-interface loop (acknowledge, handle =
 *     log it, EOI) until the interface reports spurious;
 *   - on an event port: clears it and logs the delivery;
 *   - on the kick port: performs the guest access the script asked for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm.h"

static void handle_port(struct vm *vm, struct vcpu *v, int idx)
{
	struct port_rt *p = &vm->ports[idx];
	char src[SOURCE_LEN];

	traced(xvm_evtchn_clear(vm->fd, p->port), "XVM_EVTCHN_CLEAR port %u",
	       p->port);
	vm_get_source(vm, &p->dlv, src, sizeof(src), "a raise");
	event("event:port", "%s -> port %s (%u) -> vCPU %u: XVM_POLL woke, port cleared",
	      src, p->cfg->name, p->port, v->id);
	vm_delivered(vm, &p->dlv);
}

static void do_request(struct vm *vm, struct vcpu *v)
{
	int ret = 0, err = 0, handled = 0;
	uint64_t val = 0;

	pthread_mutex_lock(&vm->lock);
	if (v->op == VOP_NONE || v->done) {
		pthread_mutex_unlock(&vm->lock);
		return;
	}
	pthread_mutex_unlock(&vm->lock);
	if (v->op == VOP_WRITE)
		ret = traced(xvm_mmio_write(v->fd, v->addr, v->len, v->val, &handled),
			     "XVM_MMIO vcpu %u write 0x%llx/%u = 0x%llx", v->id,
			     (unsigned long long)v->addr, v->len,
			     (unsigned long long)v->val);
	else
		ret = traced(xvm_mmio_read(v->fd, v->addr, v->len, &val, &handled),
			     "XVM_MMIO vcpu %u read 0x%llx/%u", v->id,
			     (unsigned long long)v->addr, v->len);
	err = errno;
	pthread_mutex_lock(&vm->lock);
	v->ret = ret;
	v->err = err;
	v->handled = handled;
	if (v->op == VOP_READ)
		v->val = val;
	v->done = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	uint32_t port;
	unsigned int i;
	int r;

	for (;;) {
		r = traced(xvm_poll(v->fd, v->poll_ports, v->nr_poll, 0, 0, &port),
			   "XVM_POLL vcpu %u, %u ports", v->id, v->nr_poll);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			errorf("vCPU %u: XVM_POLL: %s", v->id, strerror(errno));
			break;
		}
		if (r != 1)
			continue;
		pthread_mutex_lock(&vm->lock);
		v->wakeups++;
		pthread_mutex_unlock(&vm->lock);
		for (i = 0; i < v->nr_poll; i++)
			if (v->poll_ports[i] == port)
				break;
		if (port == v->kick) {
			traced(xvm_evtchn_clear(vm->fd, port),
			       "XVM_EVTCHN_CLEAR port %u (kick)", port);
			if (__atomic_load_n(&vm->stop, __ATOMIC_ACQUIRE))
				break;
			do_request(vm, v);
		} else if (port == v->notify) {
			vgic_handle(vm, v);
		} else if (i < v->nr_poll && v->poll_idx[i] >= 0) {
			handle_port(vm, v, v->poll_idx[i]);
		}
	}
	return NULL;
}

int vcpus_start(struct vm *vm)
{
	const struct vmm_config *c = vm->cfg;
	unsigned int i, j;

	for (i = 0; i < c->vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];

		v->nr_poll = 0;
		if (v->notify) {
			v->poll_idx[v->nr_poll] = -1;
			v->poll_ports[v->nr_poll++] = v->notify;
		}
		for (j = 0; j < c->nr_ports; j++) {
			if (c->ports[j].vcpu != i)
				continue;
			v->poll_idx[v->nr_poll] = j;
			v->poll_ports[v->nr_poll++] = vm->ports[j].port;
		}
		v->poll_idx[v->nr_poll] = -1;
		v->poll_ports[v->nr_poll++] = v->kick;
		if (pthread_create(&v->thread, NULL, vcpu_thread, v)) {
			errorf("vCPU %u: thread: %s", i, strerror(errno));
			return -1;
		}
		v->started = true;
	}
	created("%u vCPU threads polling their ports (XVM_POLL)", c->vcpus);
	return 0;
}

void vcpus_stop(struct vm *vm)
{
	unsigned int i;

	__atomic_store_n(&vm->stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < vm->cfg->vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];

		if (!v->started)
			continue;
		traced(xvm_evtchn_send(vm->fd, v->kick), "XVM_EVTCHN_SEND port %u (stop)",
		       v->kick);
		pthread_join(v->thread, NULL);
		v->started = false;
	}
}

int vcpu_mmio(struct vm *vm, unsigned int id, bool write, uint64_t addr,
	      uint32_t len, uint64_t *val, int *handled)
{
	struct vcpu *v = &vm->vcpu[id];
	struct timespec ts;
	int ret;

	if (!v->started) {	/* before the threads run: directly */
		ret = write ? traced(xvm_mmio_write(v->fd, addr, len, *val, handled),
				     "XVM_MMIO vcpu %u write 0x%llx/%u = 0x%llx", id,
				     (unsigned long long)addr, len,
				     (unsigned long long)*val) :
			      traced(xvm_mmio_read(v->fd, addr, len, val, handled),
				     "XVM_MMIO vcpu %u read 0x%llx/%u", id,
				     (unsigned long long)addr, len);
		return ret;
	}
	pthread_mutex_lock(&vm->lock);
	v->op = write ? VOP_WRITE : VOP_READ;
	v->addr = addr;
	v->len = len;
	v->val = write ? *val : 0;
	v->done = false;
	pthread_mutex_unlock(&vm->lock);
	traced(xvm_evtchn_send(vm->fd, v->kick), "XVM_EVTCHN_SEND port %u (kick vCPU %u)",
	       v->kick, id);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&vm->lock);
	while (!v->done)
		if (pthread_cond_timedwait(&vm->cond, &vm->lock, &ts) == ETIMEDOUT)
			break;
	if (!v->done) {
		v->op = VOP_NONE;
		pthread_mutex_unlock(&vm->lock);
		errno = ETIMEDOUT;
		return -1;
	}
	v->op = VOP_NONE;
	ret = v->ret;
	errno = v->err;
	*handled = v->handled;
	if (!write)
		*val = v->val;
	pthread_mutex_unlock(&vm->lock);
	return ret;
}
