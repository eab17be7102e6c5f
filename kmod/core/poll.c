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
 * A claim that hands the VM to another process (owner.c) ends the call of
 * a poller of the old owner with -EIO: the claim writes vm->mm, then wakes
 * vcpu->wq, and every check (spin or sleep, the sleep after queuing on
 * vcpu->wq) reads vm->mm.  The vCPU's mutex is then free for the new
 * owner; no event is lost, as polling consumes no pending bit.
 *
 * Timeouts: relative nanoseconds, or absolute CLOCK_MONOTONIC nanoseconds
 * with XVM_POLL_ABSTIME; 0 waits forever.  On a signal the call fails with
 * -EINTR after rewriting the struct to the absolute deadline, so issuing it
 * again keeps the original deadline.
 *
 * Halt polling, as KVM's kvm_vcpu_halt(): before it sleeps the poller
 * spins for up to its vCPU's window (vcpu->halt_poll_ns), making the same
 * checks the sleep makes, so that an event that comes soon costs no
 * schedule-out and wake-up.  It spins after the announce, so a raise
 * during the spin is seen by the spin or wakes the sleep.  The window
 * adapts as KVM's: it grows (halt_poll_ns_grow_start, then times
 * halt_poll_ns_grow) after a call that ended within the VM's maximum, and
 * shrinks (divided by halt_poll_ns_shrink, 0 = to 0) after one that took
 * longer or was interrupted.  The maximum is the module parameter
 * halt_poll_ns, or the VM's XVM_CAP_HALT_POLL (vm->halt_poll: one word, so
 * a reader never sees half of an update); with XVM_HALT_POLL_FIXED the
 * window is the maximum and never adapts.
 *
 * Locking: runs under vcpu->mutex (one poller per vCPU), which also
 * guards vcpu->halt_poll_ns and serialises the writers of the poll and
 * halt-polling counters (xvm_poll_stat_add()); ports are looked up under
 * RCU.
 */
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "evtchn.h"
#include "trace.h"

/*
 * 50 us rather than KVM x86's 200 us: the default applies to every VM that
 * did not set XVM_CAP_HALT_POLL, and an XVM_POLL caller is a VMM thread,
 * whose wake-ups mostly come from another thread's syscall - a wake-up
 * from sleep costs a few microseconds more, so a spin much longer than
 * that burns a CPU for little.  A VMM that knows better sets its own.
 */
static unsigned int halt_poll_ns = 50000;
module_param(halt_poll_ns, uint, 0644);
MODULE_PARM_DESC(halt_poll_ns, "XVM_POLL's longest spin before sleeping, ns (0: none)");

static unsigned int halt_poll_ns_grow = 2;
module_param(halt_poll_ns_grow, uint, 0644);
MODULE_PARM_DESC(halt_poll_ns_grow, "factor a vCPU's spin window grows by (0: never grows)");

static unsigned int halt_poll_ns_grow_start = 10000;
module_param(halt_poll_ns_grow_start, uint, 0644);
MODULE_PARM_DESC(halt_poll_ns_grow_start, "first window, ns; a shrink below it gives 0");

static unsigned int halt_poll_ns_shrink;
module_param(halt_poll_ns_shrink, uint, 0644);
MODULE_PARM_DESC(halt_poll_ns_shrink, "divisor a window shrinks by (0: reset to 0)");

/* vm->halt_poll: the cap's maximum (bits 31:0) and these. */
#define XVM_HALT_POLL_SET		BIT_ULL(32)
#define XVM_HALT_POLL_VM_FIXED		BIT_ULL(33)

/**
 * xvm_halt_poll_enable_cap() - XVM_ENABLE_CAP(XVM_CAP_HALT_POLL)
 * @vm: the VM
 * @cap: the argument, its flags and pad already checked zero
 *
 * Return: 0, or -EINVAL for a maximum above U32_MAX, an unknown bit of
 * args[1], or args[2..3] not zero.
 */
int xvm_halt_poll_enable_cap(struct xvm_vm *vm, const struct xvm_enable_cap *cap)
{
	u64 v = XVM_HALT_POLL_SET | cap->args[0];

	if (cap->args[0] > U32_MAX || cap->args[1] & ~XVM_HALT_POLL_FIXED ||
	    cap->args[2] || cap->args[3])
		return -EINVAL;
	if (cap->args[1] & XVM_HALT_POLL_FIXED)
		v |= XVM_HALT_POLL_VM_FIXED;
	atomic64_set(&vm->halt_poll, v);
	return 0;
}

/* The VM's maximum window: its cap's once set, else the module's. */
static u32 xvm_halt_poll_max(struct xvm_vm *vm, bool *fixed)
{
	u64 v = atomic64_read(&vm->halt_poll);

	*fixed = v & XVM_HALT_POLL_VM_FIXED;
	if (v & XVM_HALT_POLL_SET)
		return lower_32_bits(v);
	return READ_ONCE(halt_poll_ns);
}

static void xvm_halt_poll_set(struct xvm_vcpu *vcpu, u32 val, bool grow)
{
	trace_xvm_halt_poll_ns(vcpu, grow, val, vcpu->halt_poll_ns);
	vcpu->halt_poll_ns = val;
}

/* KVM's grow_halt_poll_ns(). */
static void xvm_halt_poll_grow(struct xvm_vcpu *vcpu)
{
	u32 grow = READ_ONCE(halt_poll_ns_grow);
	u32 grow_start = READ_ONCE(halt_poll_ns_grow_start);
	u64 val = (u64)vcpu->halt_poll_ns * grow;

	if (!grow)
		return;
	xvm_halt_poll_set(vcpu, clamp_t(u64, val, grow_start, U32_MAX), true);
}

/* KVM's shrink_halt_poll_ns(). */
static void xvm_halt_poll_shrink(struct xvm_vcpu *vcpu)
{
	u32 shrink = READ_ONCE(halt_poll_ns_shrink);
	u32 val = shrink ? vcpu->halt_poll_ns / shrink : 0;

	if (val < READ_ONCE(halt_poll_ns_grow_start))
		val = 0;
	xvm_halt_poll_set(vcpu, val, false);
}

/*
 * After a call that took halt_ns in all: KVM's rule.  valid is false when
 * it ended on a signal or a hand-over, which say nothing of when the next
 * event comes.
 */
static void xvm_halt_poll_adapt(struct xvm_vcpu *vcpu, u64 halt_ns,
				bool valid)
{
	bool fixed;
	u32 max = xvm_halt_poll_max(vcpu->vm, &fixed);

	if (fixed)
		return;
	if (!valid)
		xvm_halt_poll_shrink(vcpu);
	else if (!max)
		vcpu->halt_poll_ns = 0;
	else if (halt_ns <= vcpu->halt_poll_ns)
		;
	else if (vcpu->halt_poll_ns && halt_ns > max)
		xvm_halt_poll_shrink(vcpu);	/* a long sleep */
	else if (vcpu->halt_poll_ns < max && halt_ns < max)
		xvm_halt_poll_grow(vcpu);	/* short, and the window too */
}

/* This call's window: the vCPU's, within the VM's maximum. */
static u32 xvm_halt_poll_window(struct xvm_vcpu *vcpu)
{
	bool fixed;
	u32 max = xvm_halt_poll_max(vcpu->vm, &fixed);

	if (fixed || vcpu->halt_poll_ns > max)
		vcpu->halt_poll_ns = max;
	return vcpu->halt_poll_ns;
}

/* The first pending port of the list, or 0. */
static u32 xvm_poll_find_pending(struct xvm_vm *vm, const u32 *ports, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (xvm_evtchn_pending(vm, ports[i]))
			return ports[i];
	return 0;
}

/**
 * struct xvm_poll_wait - one XVM_POLL call, as it waits
 * @vcpu: the polling vCPU
 * @ports: the listed ports
 * @n: how many
 * @deadline: absolute, or 0 for none
 * @vcpu_events: %XVM_POLL_VCPU_EVENTS
 * @waited: the sleep called schedule() (KVM's "waited")
 */
struct xvm_poll_wait {
	struct xvm_vcpu *vcpu;
	const u32 *ports;
	u32 n;
	ktime_t deadline;
	bool vcpu_events;
	bool waited;
};

/*
 * What ends the call now: a listed port, or with vcpu_events an unmasked
 * port notifying this vCPU (returns it), a signal (-EINTR), the VM handed
 * over to another process (-EIO); else 0.
 */
static long xvm_poll_check(struct xvm_poll_wait *w)
{
	long r;

	/* First: once handed over, the old owner learns nothing more. */
	if (!xvm_vm_owned(w->vcpu->vm))
		return -EIO;
	r = xvm_poll_find_pending(w->vcpu->vm, w->ports, w->n);
	if (!r && w->vcpu_events)
		r = xvm_evtchn_vcpu_event(w->vcpu);
	if (!r && signal_pending(current))
		r = -EINTR;
	return r;
}

/*
 * Spins until stop, or until another task wants the CPU: the port, -EINTR,
 * 0 once the deadline passed, -EAGAIN if it must sleep.  *end is when the
 * last check started.
 */
static long xvm_poll_spin(struct xvm_poll_wait *w, ktime_t stop,
			  ktime_t *end)
{
	ktime_t now = *end;
	long r;

	do {
		r = xvm_poll_check(w);
		if (r)
			return r;
		if (w->deadline && ktime_after(now, w->deadline))
			return 0;
		cpu_relax();
		now = ktime_get();
		*end = now;
	} while (ktime_before(now, stop) && !need_resched());
	return -EAGAIN;
}

/* Sleeps until xvm_poll_check() ends the call, or the deadline: 0. */
static long xvm_poll_sleep(struct xvm_poll_wait *w)
{
	DEFINE_WAIT(wait);
	long r;

	for (;;) {
		prepare_to_wait(&w->vcpu->wq, &wait, TASK_INTERRUPTIBLE);
		r = xvm_poll_check(w);
		if (r)
			break;
		if (w->deadline && ktime_after(ktime_get(), w->deadline))
			break;		/* r == 0: timed out */
		w->waited = true;
		if (!w->deadline)
			schedule();
		else
			schedule_hrtimeout(&w->deadline, HRTIMER_MODE_ABS);
		/*
		 * Woken: the wake-up took us off the wq (autoremove), so
		 * check before queuing again, and an event found needs no
		 * second pass over the wq lock.  A wake-up that was not ours
		 * (or a spurious one) queues again before the next check.
		 */
		__set_current_state(TASK_RUNNING);
		r = xvm_poll_check(w);
		if (r)
			break;
	}
	finish_wait(&w->vcpu->wq, &wait);
	return r;
}

/*
 * Adds v to a counter of the poll's and halt polling's.  Only XVM_POLL
 * writes them, under vcpu->mutex: a plain read and set, no locked
 * instruction, and a stats reader still sees whole values.
 */
static void xvm_poll_stat_add(struct xvm_vcpu *vcpu, enum xvm_vcpu_stat i,
			      s64 v)
{
	atomic64_t *st = &vcpu->stats[i];

	lockdep_assert_held(&vcpu->mutex);
	atomic64_set(st, atomic64_read(st) + v);
}

/* KVM's update_halt_poll_stats(), and the sleep's. */
static void xvm_halt_poll_stats(struct xvm_poll_wait *w, bool polled,
				ktime_t start, ktime_t poll_end, ktime_t end,
				long r)
{
	struct xvm_vcpu *vcpu = w->vcpu;
	s64 poll_ns = ktime_to_ns(ktime_sub(poll_end, start));
	s64 wait_ns = ktime_to_ns(ktime_sub(end, poll_end));

	if (w->waited) {
		xvm_poll_stat_add(vcpu, XVM_VCPU_STAT_HALT_WAIT_NS, wait_ns);
		if (r > 0)
			xvm_poll_stat_add(vcpu, XVM_VCPU_STAT_HALT_WAKEUP, 1);
	}
	if (!polled)
		return;
	xvm_poll_stat_add(vcpu, XVM_VCPU_STAT_HALT_ATTEMPTED_POLL, 1);
	if (w->waited) {
		xvm_poll_stat_add(vcpu, XVM_VCPU_STAT_HALT_POLL_FAIL_NS, poll_ns);
		return;
	}
	xvm_poll_stat_add(vcpu, XVM_VCPU_STAT_HALT_SUCCESSFUL_POLL, 1);
	if (r <= 0)
		xvm_poll_stat_add(vcpu, XVM_VCPU_STAT_HALT_POLL_INVALID, 1);
	xvm_poll_stat_add(vcpu, XVM_VCPU_STAT_HALT_POLL_SUCCESS_NS, poll_ns);
}

/*
 * Spins for the vCPU's window, then sleeps: returns the port, 0 on
 * timeout, -EINTR, -EIO.  The caller has announced the poll.
 */
static long xvm_poll_halt(struct xvm_poll_wait *w)
{
	struct xvm_vcpu *vcpu = w->vcpu;
	u32 window = xvm_halt_poll_window(vcpu);
	ktime_t start = ktime_get(), poll_end = start, end;
	long r = -EAGAIN;

	if (window)
		r = xvm_poll_spin(w, ktime_add_ns(start, window), &poll_end);
	if (r == -EAGAIN)
		r = xvm_poll_sleep(w);
	/* One clock read after the wait, for the stats and the window. */
	end = ktime_get();
	xvm_halt_poll_stats(w, window, start, poll_end, end, r);
	xvm_halt_poll_adapt(vcpu, ktime_to_ns(ktime_sub(end, start)), r >= 0);
	return r;
}

/*
 * Waits until a listed port is pending (returns it), or with vcpu_events
 * until an unmasked port notifying this vCPU is (returns that one): 0 on
 * timeout, -EINTR, -EIO.  The upcall of such a port wakes vcpu->wq.
 */
static long xvm_poll_wait(struct xvm_vcpu *vcpu, const u32 *ports, u32 n,
			  ktime_t deadline, bool vcpu_events)
{
	struct xvm_poll_wait w = {
		.vcpu = vcpu, .ports = ports, .n = n, .deadline = deadline,
		.vcpu_events = vcpu_events,
	};
	long r;

	xvm_poll_stat_add(vcpu, XVM_VCPU_STAT_POLLS, 1);
	xvm_evtchn_poll_begin(vcpu, n == 1 ? ports[0] : -1);
	r = xvm_poll_halt(&w);
	xvm_evtchn_poll_end(vcpu);
	trace_xvm_poll_wake(vcpu, n, r);
	if (r > 0)
		xvm_poll_stat_add(vcpu, XVM_VCPU_STAT_POLL_WAKEUPS, 1);
	else if (!r)
		xvm_poll_stat_add(vcpu, XVM_VCPU_STAT_POLL_TIMEOUTS, 1);
	return r;
}

/* Short lists, the common case, are copied to the stack: no allocation. */
#define XVM_POLL_STACK_PORTS	16

/* Copies in req's ports and checks them: 0, -EFAULT or -EINVAL. */
static int xvm_poll_get_ports(struct xvm_vm *vm, const struct xvm_poll *req,
			      u32 *ports)
{
	const u32 __user *uports = u64_to_user_ptr(req->ports);
	u32 i;

	/* One port, the common case: a single load, no usercopy checks. */
	if (req->nr_ports == 1) {
		if (get_user(ports[0], uports))
			return -EFAULT;
	} else if (copy_from_user(ports, uports,
				  req->nr_ports * sizeof(*ports))) {
		return -EFAULT;
	}
	for (i = 0; i < req->nr_ports; i++)
		if (!xvm_evtchn_port_valid(vm, ports[i]))
			return -EINVAL;
	return 0;
}

/*
 * req was read and its flags and reserved fields checked (vcpu.c's table);
 * the dispatcher writes it back whatever the result (a port, or the
 * deadline on -EINTR), as XVM_IOCTL_OUT_ON_ERROR.
 */
long xvm_poll_ioctl(void *obj, void *data, unsigned long arg)
{
	u32 stack_ports[XVM_POLL_STACK_PORTS], *ports = stack_ports;
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
	r = xvm_poll_get_ports(vm, req, ports);
	if (r)
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
