// SPDX-License-Identifier: GPL-2.0
/*
 * XVM_POLL: block a vCPU thread until one of a list of event-channel ports
 * is pending (SCHEDOP_poll).
 *
 * No wake-up is lost: the poller announces itself in the VM's polling
 * bitmap and queues itself on vcpu->wq before it tests the ports, and a
 * raise sets the pending bit before it reads the bitmap (see evtchn.c).
 * Masked ports wake the poller too; that is the point of polling.  With
 * XVM_POLL_VCPU_EVENTS it also ends, as Xen's do_poll() does through
 * vcpu_unblock(), when an unmasked port that notifies this vCPU is pending.
 *
 * Timeouts: relative nanoseconds, or absolute CLOCK_MONOTONIC nanoseconds
 * with XVM_POLL_ABSTIME; 0 waits forever.  On a signal the call fails with
 * -EINTR after rewriting the struct to the absolute deadline, so issuing it
 * again keeps the original deadline.
 *
 * Locking: runs under vcpu->mutex (one poller per vCPU); ports are looked
 * up under RCU.
 */
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "evtchn.h"
#include "trace.h"

/* The first pending port of the list, or 0. */
static u32 xvm_poll_find_pending(struct xvm_vm *vm, const u32 *ports, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (xvm_evtchn_pending(vm, ports[i]))
			return ports[i];
	return 0;
}

/*
 * Sleeps until a listed port is pending (returns it), or with vcpu_events
 * until an unmasked port notifying this vCPU is (returns that one): 0 on
 * timeout, -EINTR.  The upcall of such a port wakes vcpu->wq.
 */
static long xvm_poll_wait(struct xvm_vcpu *vcpu, const u32 *ports, u32 n,
			  ktime_t deadline, bool vcpu_events)
{
	DEFINE_WAIT(wait);
	long r;

	atomic64_inc(&vcpu->stats[XVM_VCPU_STAT_POLLS]);
	xvm_evtchn_poll_begin(vcpu, n == 1 ? ports[0] : -1);
	for (;;) {
		prepare_to_wait(&vcpu->wq, &wait, TASK_INTERRUPTIBLE);
		r = xvm_poll_find_pending(vcpu->vm, ports, n);
		if (!r && vcpu_events)
			r = xvm_evtchn_vcpu_event(vcpu);
		if (r)
			break;
		if (signal_pending(current)) {
			r = -EINTR;
			break;
		}
		if (!deadline) {
			schedule();
			continue;
		}
		if (ktime_after(ktime_get(), deadline))
			break;		/* r == 0: timed out */
		schedule_hrtimeout(&deadline, HRTIMER_MODE_ABS);
	}
	finish_wait(&vcpu->wq, &wait);
	xvm_evtchn_poll_end(vcpu);
	trace_xvm_poll_wake(vcpu, n, r);
	atomic64_add(r > 0, &vcpu->stats[XVM_VCPU_STAT_POLL_WAKEUPS]);
	atomic64_add(!r, &vcpu->stats[XVM_VCPU_STAT_POLL_TIMEOUTS]);
	return r;
}

/* Short lists, the common case, are copied to the stack: no allocation. */
#define XVM_POLL_STACK_PORTS	16

/*
 * req was read and its flags and reserved fields checked (vcpu.c's table);
 * the dispatcher writes it back whatever the result (a port, or the
 * deadline on -EINTR), as XVM_IOCTL_OUT_ON_ERROR.
 */
long xvm_poll_ioctl(void *obj, void *data, unsigned long arg)
{
	u32 stack_ports[XVM_POLL_STACK_PORTS], *ports = stack_ports, i;
	struct xvm_vcpu *vcpu = obj;
	struct xvm_poll *req = data;
	struct xvm_vm *vm = vcpu->vm;
	ktime_t deadline = 0;
	long r;

	if (!req->nr_ports || req->nr_ports > XVM_POLL_MAX_PORTS)
		return -EINVAL;
	if (req->timeout_ns) {
		deadline = (req->flags & XVM_POLL_ABSTIME) ? req->timeout_ns :
			   ktime_add_safe(ktime_get(), req->timeout_ns);
		if (req->timeout_ns > KTIME_MAX || !deadline)
			deadline = KTIME_MAX;
	}

	if (req->nr_ports > XVM_POLL_STACK_PORTS) {
		ports = kmalloc_array(req->nr_ports, sizeof(*ports), GFP_KERNEL);
		if (!ports)
			return -ENOMEM;
	}
	r = -EFAULT;
	if (copy_from_user(ports, u64_to_user_ptr(req->ports),
			   req->nr_ports * sizeof(*ports)))
		goto out;

	r = -EINVAL;
	for (i = 0; i < req->nr_ports; i++)
		if (!xvm_evtchn_port_valid(vm, ports[i]))
			goto out;

	r = xvm_poll_wait(vcpu, ports, req->nr_ports, deadline,
			  req->flags & XVM_POLL_VCPU_EVENTS);
	if (r > 0) {
		req->port = r;
		r = 1;
	} else if (r == -EINTR && deadline) {
		/* A new call with the same struct keeps the deadline. */
		req->flags |= XVM_POLL_ABSTIME;
		req->timeout_ns = deadline;
	}
out:
	if (ports != stack_ports)
		kfree(ports);
	return r;
}
