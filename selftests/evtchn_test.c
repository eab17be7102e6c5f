// SPDX-License-Identifier: GPL-2.0
/*
 * evtchn_test: event channels, XVM_POLL, the eventfd bridges, the doorbell,
 * vCPU fd readiness (poll/epoll), who may bind a port (across fork and fd
 * passing), and one VM's control path racing another's.
 *
 * Timing is only ever checked loosely (a timeout returns 0, not before its
 * deadline); no test passes or fails on speed.
 *
 * Every test runs once per variant of halt polling (XVM_CAP_HALT_POLL):
 * the module's default, off, adaptive and fixed, each of which must keep
 * XVM_POLL's meaning; poll_test covers what polling itself does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "xvm_harness.h"
#include "xvm_fixture.h"
#include "libxvm.h"
#include "host/fdpass.h"

#define NPORTS		XVM_EVTCHN_MAX_PORTS		/* 4096: ports 1..4095 */
#define BAD_PTR		((void *)1)
#define MS		1000000ULL
#define SEC		1000000000ULL
#define LONG_NS		(10 * SEC)	/* "should never time out" */
#define DB_ADDR		0x40000000ULL
#define REG_BASE	0x10000000ULL

static int ioctl_op(int vm, unsigned long req, struct xvm_evtchn_op *op)
{
	return ioctl(vm, req, op);
}

static uint32_t st_state(int vm, uint32_t port)
{
	uint32_t state = 0xdead;

	if (xvm_evtchn_status(vm, port, &state, NULL))
		return 0xbad;
	return state;
}

static uint32_t st_status(int vm, uint32_t port)
{
	uint32_t status = 0xdead;

	if (xvm_evtchn_status(vm, port, NULL, &status))
		return 0xbad;
	return status;
}

static int is_pending(int vm, uint32_t port)
{
	return (st_status(vm, port) & XVM_EVTCHN_STATUS_PENDING) != 0;
}

/*
 * XVM_POLL with a long timeout (LONG_NS) for an event that must come much
 * sooner.  A kernel that loses the wake-up but re-checks the ports when the
 * timer fires would still return 1 - after the timeout: report that as -2.
 */
static int wpoll_flags(int vcpu, const uint32_t *ports, uint32_t n,
		       uint32_t flags, uint32_t *out)
{
	uint64_t t0 = now_ns();
	int ret = xvm_poll(vcpu, ports, n, LONG_NS, flags, out);

	if (ret == 1 && now_ns() - t0 >= LONG_NS / 2)
		return -2;
	return ret;
}

static int wpoll(int vcpu, const uint32_t *ports, uint32_t n, uint32_t *out)
{
	return wpoll_flags(vcpu, ports, n, 0, out);
}

/* A port bound to vCPU id vcpu, or 0 on failure. */
static uint32_t vcpu_port(int vm, uint32_t vcpu)
{
	uint32_t p = 0;

	return fixture_vcpu_port(vm, vcpu, &p) ? 0 : p;
}

static int poll_raw(int vcpu, struct xvm_poll *p)
{
	return ioctl(vcpu, XVM_POLL, p);
}

static struct xvm_poll mk_poll(const uint32_t *ports, uint32_t n,
			       uint64_t timeout, uint32_t flags)
{
	struct xvm_poll p;

	memset(&p, 0, sizeof(p));
	p.ports = (uint64_t)(uintptr_t)ports;
	p.nr_ports = n;
	p.timeout_ns = timeout;
	p.flags = flags;
	p.port = 0xdead;
	return p;
}

/* Run fn(arg) on a thread after delay_ms. */
struct later {
	pthread_t t;
	int delay_ms;
	void (*fn)(struct later *);
	int vm, vcpu, fd;
	uint32_t port;
	uint64_t u64;
	pthread_t target;
	int ret, err;
};

static void *later_thread(void *p)
{
	struct later *l = p;

	usleep(l->delay_ms * 1000);
	l->fn(l);
	return NULL;
}

static int later_start(struct later *l)
{
	return pthread_create(&l->t, NULL, later_thread, l);
}

static void do_send(struct later *l)
{
	errno = 0;
	l->ret = xvm_evtchn_send(l->vm, l->port);
	l->err = errno;
}

static void do_eventfd_write(struct later *l)
{
	uint64_t one = 1;

	l->ret = (int)write(l->fd, &one, sizeof(one));
	l->err = errno;
}

static void do_doorbell(struct later *l)
{
	int h = -1;

	l->ret = xvm_mmio_write(l->vcpu, l->u64, 4, l->port, &h);
	l->err = errno;
	if (!l->ret && h != 1)
		l->ret = -2;
}

static void do_signal(struct later *l)
{
	l->ret = pthread_kill(l->target, SIGUSR1);
}

/* ------------------------------------------------------------------ */

FIXTURE(ev) {
	int xvm, vm, vcpu[2];
};

/* The VM's halt polling: max_ns < 0 leaves the module's default. */
FIXTURE_VARIANT(ev) {
	long long max_ns;
	uint64_t mode;
};

FIXTURE_VARIANT_ADD(ev, default) { .max_ns = -1 };
FIXTURE_VARIANT_ADD(ev, no_halt_poll) { .max_ns = 0 };
FIXTURE_VARIANT_ADD(ev, halt_poll_10ms) { .max_ns = 10 * MS };
FIXTURE_VARIANT_ADD(ev, halt_poll_fixed_1ms) {
	.max_ns = MS, .mode = XVM_HALT_POLL_FIXED,
};

FIXTURE_SETUP(ev)
{
	self->vcpu[0] = self->vcpu[1] = -1;
	ASSERT_OK(fixture_vm_open(&self->xvm, &self->vm, 0));
	ASSERT_OK(fixture_vcpus(self->vm, self->vcpu, 2));
	if (variant->max_ns >= 0)
		ASSERT_OK(xvm_set_halt_poll(self->vm, variant->max_ns,
					    variant->mode));
	ASSERT_EQ(NPORTS, xvm_check_extension(self->vm, XVM_CAP_EVTCHN));
}

FIXTURE_TEARDOWN(ev)
{
	int i;

	for (i = 0; i < 2; i++)
		close_fd(&self->vcpu[i]);
	close_fd(&self->vm);
	close_fd(&self->xvm);
}

/* ------------------------------------------------------------------ */
/* Port operations                                                     */

TEST_F(ev, alloc_status_close)
{
	uint32_t p = 0, q = 0, state = 77, status = 77;

	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &p));
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &q));
	EXPECT_LT(0, p);
	EXPECT_GT(NPORTS, p);
	EXPECT_NE(p, q);
	ASSERT_OK(xvm_evtchn_status(self->vm, p, &state, &status));
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, state);
	EXPECT_EQ(0, status);
	ASSERT_OK(xvm_evtchn_close(self->vm, p));
	state = status = 77;
	ASSERT_OK(xvm_evtchn_status(self->vm, p, &state, &status));
	EXPECT_EQ(XVM_EVTCHN_STATE_FREE, state);
	EXPECT_EQ(0, status);
	EXPECT_ERR(xvm_evtchn_close(self->vm, p), EINVAL);
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, st_state(self->vm, q));
	/* a port of one VM is nothing in another */
	{
		int vm2 = xvm_create_vm(self->xvm, 0);

		ASSERT_LE(0, vm2);
		EXPECT_EQ(XVM_EVTCHN_STATE_FREE, st_state(vm2, q));
		EXPECT_ERR(xvm_evtchn_send(vm2, q), EINVAL);
		close(vm2);
	}
}

/* Port 0, port >= 4096 and free ports are EINVAL (STATUS of free: FREE). */
TEST_F(ev, invalid_ports_einval)
{
	static const unsigned long ops[] = {
		XVM_EVTCHN_SEND, XVM_EVTCHN_MASK, XVM_EVTCHN_UNMASK,
		XVM_EVTCHN_CLOSE, XVM_EVTCHN_BIND_VCPU,
	};
	static const uint32_t bad[] = { 0, NPORTS, NPORTS + 1, 0x10000, ~0U };
	struct xvm_evtchn_op op;
	uint32_t freep, i, j, state = 9, status = 9;

	/* a port that is valid but free: allocate and close one */
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &freep));
	ASSERT_OK(xvm_evtchn_close(self->vm, freep));

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			memset(&op, 0, sizeof(op));
			op.port = bad[j];
			EXPECT_ERR(ioctl_op(self->vm, ops[i], &op), EINVAL);
		}
		memset(&op, 0, sizeof(op));
		op.port = freep;
		EXPECT_ERR(ioctl_op(self->vm, ops[i], &op), EINVAL);
		op.port = NPORTS - 1;	/* never allocated */
		EXPECT_ERR(ioctl_op(self->vm, ops[i], &op), EINVAL);
	}
	for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
		EXPECT_ERR(xvm_evtchn_status(self->vm, bad[j], NULL, NULL), EINVAL);
		EXPECT_ERR(xvm_evtchn_clear(self->vm, bad[j]), EINVAL);
		EXPECT_ERR(xvm_evtchn_eventfd(self->vm, bad[j], -1, 0), EINVAL);
	}
	ASSERT_OK(xvm_evtchn_status(self->vm, freep, &state, &status));
	EXPECT_EQ(XVM_EVTCHN_STATE_FREE, state);
	EXPECT_EQ(0, status);
	ASSERT_OK(xvm_evtchn_status(self->vm, NPORTS - 1, &state, &status));
	EXPECT_EQ(XVM_EVTCHN_STATE_FREE, state);
	EXPECT_ERR(xvm_evtchn_status(self->vm, 0, &state, &status), EINVAL);
	/* bad pointers */
	EXPECT_ERR(ioctl(self->vm, XVM_EVTCHN_ALLOC_UNBOUND, NULL), EFAULT);
	EXPECT_ERR(ioctl(self->vm, XVM_EVTCHN_SEND, BAD_PTR), EFAULT);
	EXPECT_ERR(ioctl(self->vm, XVM_EVTCHN_STATUS, NULL), EFAULT);
}

/* Non-zero flags, pad or reserved in an op are EINVAL. */
TEST_F(ev, op_reserved_fields_einval)
{
	struct xvm_evtchn_op op;
	uint32_t p = vcpu_port(self->vm, 0);

	ASSERT_NE(0, p);
	memset(&op, 0, sizeof(op));
	op.port = p;
	op.flags = 1;
	EXPECT_ERR(ioctl_op(self->vm, XVM_EVTCHN_SEND, &op), EINVAL);
	op.flags = 0;
	op.pad = 1;
	EXPECT_ERR(ioctl_op(self->vm, XVM_EVTCHN_SEND, &op), EINVAL);
	op.pad = 0;
	op.reserved[1] = 1;
	EXPECT_ERR(ioctl_op(self->vm, XVM_EVTCHN_SEND, &op), EINVAL);
	op.reserved[1] = 0;
	op.flags = 1U << 31;
	EXPECT_ERR(ioctl_op(self->vm, XVM_EVTCHN_MASK, &op), EINVAL);
	EXPECT_ERR(ioctl_op(self->vm, XVM_EVTCHN_CLOSE, &op), EINVAL);
	memset(&op, 0, sizeof(op));
	op.flags = 2;
	EXPECT_ERR(ioctl_op(self->vm, XVM_EVTCHN_ALLOC_UNBOUND, &op), EINVAL);
	memset(&op, 0, sizeof(op));
	op.reserved[0] = 5;
	EXPECT_ERR(ioctl_op(self->vm, XVM_EVTCHN_ALLOC_UNBOUND, &op), EINVAL);
	/* none of it took effect */
	EXPECT_EQ(0, st_status(self->vm, p));
	EXPECT_EQ(XVM_EVTCHN_STATE_VCPU, st_state(self->vm, p));
}

TEST_F_TIMEOUT(ev, alloc_all_enospc, 120)
{
	static uint8_t seen[NPORTS];
	const uint32_t last = NPORTS - 1;
	uint32_t i, p = 0, again = 0, out = 0;

	memset(seen, 0, sizeof(seen));
	for (i = 1; i < NPORTS; i++) {
		ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &p));
		ASSERT_LT(0, p);
		ASSERT_GT(NPORTS, p);
		ASSERT_EQ(0, seen[p]) TH_LOG("port %u handed out twice", p);
		seen[p] = 1;
	}
	ASSERT_ERR(xvm_evtchn_alloc_unbound(self->vm, &p), ENOSPC);
	/* the last port is its own: mask, send, status, poll, clear */
	ASSERT_OK(xvm_evtchn_mask(self->vm, last));
	ASSERT_OK(xvm_evtchn_send(self->vm, last));
	EXPECT_EQ(XVM_EVTCHN_STATUS_PENDING | XVM_EVTCHN_STATUS_MASKED,
		  st_status(self->vm, last));
	EXPECT_EQ(0, st_status(self->vm, 1));
	EXPECT_EQ(1, wpoll(self->vcpu[0], &last, 1, &out));
	EXPECT_EQ(last, out);
	ASSERT_OK(xvm_evtchn_clear(self->vm, last));
	EXPECT_EQ(XVM_EVTCHN_STATUS_MASKED, st_status(self->vm, last));
	/* the one freed port is the one handed out next */
	ASSERT_OK(xvm_evtchn_close(self->vm, 1234));
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &again));
	EXPECT_EQ(1234, again);
	ASSERT_ERR(xvm_evtchn_alloc_unbound(self->vm, &p), ENOSPC);
	/* reset frees everything */
	ASSERT_OK(xvm_evtchn_reset(self->vm));
	EXPECT_EQ(XVM_EVTCHN_STATE_FREE, st_state(self->vm, 1));
	EXPECT_EQ(XVM_EVTCHN_STATE_FREE, st_state(self->vm, NPORTS - 1));
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &p));
}

TEST_F(ev, bind_vcpu)
{
	uint32_t p, q;

	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &p));
	ASSERT_OK(xvm_evtchn_bind_vcpu(self->vm, p, 1));
	EXPECT_EQ(XVM_EVTCHN_STATE_VCPU, st_state(self->vm, p));
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &q));
	EXPECT_ERR(xvm_evtchn_bind_vcpu(self->vm, q, 7), ENOENT);
	EXPECT_ERR(xvm_evtchn_bind_vcpu(self->vm, q, 1023), ENOENT);
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, st_state(self->vm, q));
	ASSERT_OK(xvm_evtchn_bind_vcpu(self->vm, q, 0));
	EXPECT_EQ(XVM_EVTCHN_STATE_VCPU, st_state(self->vm, q));
	/* a vCPU created later can be bound */
	{
		int v = xvm_create_vcpu(self->vm, 7);

		ASSERT_LE(0, v);
		ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &q));
		EXPECT_OK(xvm_evtchn_bind_vcpu(self->vm, q, 7));
		close(v);
	}
}

/* STATUS also reports the vCPU a port notifies and an interdomain peer. */
TEST_F(ev, status_vcpu_and_remote_port)
{
	int vm2 = xvm_create_vm(self->xvm, 0);
	struct xvm_evtchn_op op;
	uint32_t p, pa, pb;

	ASSERT_LE(0, vm2);
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &p));
	memset(&op, 0, sizeof(op));
	op.port = p;
	op.vcpu_id = 77;	/* outputs: overwritten */
	op.remote_port = 77;
	ASSERT_OK(ioctl_op(self->vm, XVM_EVTCHN_STATUS, &op));
	EXPECT_EQ(0, op.vcpu_id);
	EXPECT_EQ(0, op.remote_port);
	ASSERT_OK(xvm_evtchn_bind_vcpu(self->vm, p, 1));
	ASSERT_OK(ioctl_op(self->vm, XVM_EVTCHN_STATUS, &op));
	EXPECT_EQ(1, op.vcpu_id);
	EXPECT_EQ(0, op.remote_port);

	ASSERT_OK(fixture_port_pair(vm2, self->vm, &pb, &pa));
	memset(&op, 0, sizeof(op));
	op.port = pa;
	ASSERT_OK(ioctl_op(self->vm, XVM_EVTCHN_STATUS, &op));
	EXPECT_EQ(pb, op.remote_port);
	/* binding an interdomain port to a vCPU keeps it interdomain */
	ASSERT_OK(xvm_evtchn_bind_vcpu(self->vm, pa, 1));
	ASSERT_OK(ioctl_op(self->vm, XVM_EVTCHN_STATUS, &op));
	EXPECT_EQ(XVM_EVTCHN_STATE_INTERDOMAIN, op.state);
	EXPECT_EQ(1, op.vcpu_id);
	EXPECT_EQ(pb, op.remote_port);
	close(vm2);
}

TEST_F(ev, send_mask_unmask_clear)
{
	uint32_t p = vcpu_port(self->vm, 0);

	ASSERT_NE(0, p);
	EXPECT_EQ(0, st_status(self->vm, p));
	ASSERT_OK(xvm_evtchn_send(self->vm, p));
	EXPECT_EQ(XVM_EVTCHN_STATUS_PENDING, st_status(self->vm, p));
	ASSERT_OK(xvm_evtchn_send(self->vm, p));	/* idempotent */
	EXPECT_EQ(XVM_EVTCHN_STATUS_PENDING, st_status(self->vm, p));
	ASSERT_OK(xvm_evtchn_mask(self->vm, p));
	EXPECT_EQ(XVM_EVTCHN_STATUS_PENDING | XVM_EVTCHN_STATUS_MASKED,
		  st_status(self->vm, p));
	ASSERT_OK(xvm_evtchn_unmask(self->vm, p));
	EXPECT_EQ(XVM_EVTCHN_STATUS_PENDING, st_status(self->vm, p));
	ASSERT_OK(xvm_evtchn_clear(self->vm, p));
	EXPECT_EQ(0, st_status(self->vm, p));
	ASSERT_OK(xvm_evtchn_clear(self->vm, p));	/* clear of clear */
	ASSERT_OK(xvm_evtchn_mask(self->vm, p));
	ASSERT_OK(xvm_evtchn_send(self->vm, p));	/* masked: still pending */
	EXPECT_EQ(XVM_EVTCHN_STATUS_PENDING | XVM_EVTCHN_STATUS_MASKED,
		  st_status(self->vm, p));
	ASSERT_OK(xvm_evtchn_clear(self->vm, p));
	EXPECT_EQ(XVM_EVTCHN_STATUS_MASKED, st_status(self->vm, p));
	/* close forgets everything */
	ASSERT_OK(xvm_evtchn_send(self->vm, p));
	ASSERT_OK(xvm_evtchn_close(self->vm, p));
	EXPECT_EQ(0, st_status(self->vm, p));
}

/* ------------------------------------------------------------------ */
/* Interdomain                                                         */

TEST_F(ev, interdomain_send_and_close)
{
	int vm2 = xvm_create_vm(self->xvm, 0);
	uint32_t pa, pb, pb2, state;

	ASSERT_LE(0, vm2);
	ASSERT_OK(fixture_port_pair(vm2, self->vm, &pb, &pa));
	EXPECT_LT(0, pb);
	EXPECT_GT(NPORTS, pb);
	EXPECT_EQ(XVM_EVTCHN_STATE_INTERDOMAIN, st_state(self->vm, pa));
	EXPECT_EQ(XVM_EVTCHN_STATE_INTERDOMAIN, st_state(vm2, pb));

	/* B -> A */
	ASSERT_OK(xvm_evtchn_send(vm2, pb));
	EXPECT_TRUE(is_pending(self->vm, pa));
	EXPECT_FALSE(is_pending(vm2, pb));
	ASSERT_OK(xvm_evtchn_clear(self->vm, pa));
	/* A -> B */
	ASSERT_OK(xvm_evtchn_send(self->vm, pa));
	EXPECT_TRUE(is_pending(vm2, pb));
	EXPECT_FALSE(is_pending(self->vm, pa));
	/* masked remote end still goes pending */
	ASSERT_OK(xvm_evtchn_mask(self->vm, pa));
	ASSERT_OK(xvm_evtchn_send(vm2, pb));
	EXPECT_EQ(XVM_EVTCHN_STATUS_PENDING | XVM_EVTCHN_STATUS_MASKED,
		  st_status(self->vm, pa));
	ASSERT_OK(xvm_evtchn_unmask(self->vm, pa));
	ASSERT_OK(xvm_evtchn_clear(self->vm, pa));

	/* a bound remote port cannot be bound again */
	EXPECT_ERR(xvm_evtchn_bind_interdomain(vm2, self->vm, pa, &pb2), EINVAL);

	/* closing B's end makes A's unbound, and it can be bound again */
	ASSERT_OK(xvm_evtchn_close(vm2, pb));
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, st_state(self->vm, pa));
	EXPECT_EQ(XVM_EVTCHN_STATE_FREE, st_state(vm2, pb));
	ASSERT_OK(xvm_evtchn_bind_interdomain(vm2, self->vm, pa, &pb2));
	EXPECT_EQ(XVM_EVTCHN_STATE_INTERDOMAIN, st_state(self->vm, pa));

	/* closing A's end makes B's unbound */
	ASSERT_OK(xvm_evtchn_close(self->vm, pa));
	ASSERT_OK(xvm_evtchn_status(vm2, pb2, &state, NULL));
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, state);
	/* sending on a now-unbound end reaches nobody, and does not fail */
	EXPECT_OK(xvm_evtchn_send(vm2, pb2));
	EXPECT_EQ(XVM_EVTCHN_STATE_FREE, st_state(self->vm, pa));
	close(vm2);
}

/* XVM_EVTCHN_BIND_PENDING: Xen's bind_interdomain sets the new port pending. */
TEST_F(ev, interdomain_bind_pending)
{
	int vm2 = xvm_create_vm(self->xvm, 0);
	struct xvm_evtchn_op op;
	uint32_t pa, pa2, pb;

	ASSERT_LE(0, vm2);
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &pa));
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &pa2));
	memset(&op, 0, sizeof(op));
	op.fd = self->vm;
	op.remote_port = pa;
	op.flags = XVM_EVTCHN_BIND_PENDING << 1;	/* unknown */
	EXPECT_ERR(ioctl_op(vm2, XVM_EVTCHN_BIND_INTERDOMAIN, &op), EINVAL);
	op.flags = XVM_EVTCHN_BIND_PENDING;
	ASSERT_OK(ioctl_op(vm2, XVM_EVTCHN_BIND_INTERDOMAIN, &op));
	pb = op.port;
	EXPECT_TRUE(is_pending(vm2, pb));
	EXPECT_FALSE(is_pending(self->vm, pa));
	/* Without the flag, as before: the new port is idle. */
	ASSERT_OK(xvm_evtchn_bind_interdomain(vm2, self->vm, pa2, &pb));
	EXPECT_FALSE(is_pending(vm2, pb));
	close(vm2);
}

TEST_F(ev, interdomain_errors)
{
	int vm2 = xvm_create_vm(self->xvm, 0), efd, closed;
	uint32_t pa, pv, pbound, pb, out = 0;

	ASSERT_LE(0, vm2);
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	closed = dup(efd);
	close(closed);
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &pa));

	/* not a VM fd */
	EXPECT_ERR(xvm_evtchn_bind_interdomain(vm2, -1, pa, &out), EBADF);
	EXPECT_ERR(xvm_evtchn_bind_interdomain(vm2, closed, pa, &out), EBADF);
	EXPECT_ERR(xvm_evtchn_bind_interdomain(vm2, efd, pa, &out), EINVAL);
	EXPECT_ERR(xvm_evtchn_bind_interdomain(vm2, self->vcpu[0], pa, &out), EINVAL);
	EXPECT_ERR(xvm_evtchn_bind_interdomain(vm2, self->xvm, pa, &out), EINVAL);
	EXPECT_ERR(xvm_evtchn_bind_interdomain(vm2, 0, pa, &out), EINVAL); /* stdin */

	/* remote port not UNBOUND */
	EXPECT_ERR(xvm_evtchn_bind_interdomain(vm2, self->vm, 0, &out), EINVAL);
	EXPECT_ERR(xvm_evtchn_bind_interdomain(vm2, self->vm, NPORTS, &out), EINVAL);
	EXPECT_ERR(xvm_evtchn_bind_interdomain(vm2, self->vm, pa + 1, &out), EINVAL);
	pv = vcpu_port(self->vm, 0);
	ASSERT_NE(0, pv);
	EXPECT_ERR(xvm_evtchn_bind_interdomain(vm2, self->vm, pv, &out), EINVAL);
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &pbound));
	ASSERT_OK(xvm_evtchn_bind_interdomain(vm2, self->vm, pbound, &pb));
	EXPECT_ERR(xvm_evtchn_bind_interdomain(vm2, self->vm, pbound, &out), EINVAL);
	/* from the other side: pb is interdomain, not unbound */
	EXPECT_ERR(xvm_evtchn_bind_interdomain(self->vm, vm2, pb, &out), EINVAL);

	/* none of the failures changed anything */
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, st_state(self->vm, pa));
	EXPECT_EQ(XVM_EVTCHN_STATE_VCPU, st_state(self->vm, pv));
	close(efd);
	close(vm2);
}

TEST_F(ev, interdomain_vm_close_unbinds)
{
	int vm2 = xvm_create_vm(self->xvm, 0);
	uint32_t pa, pb;

	ASSERT_LE(0, vm2);
	ASSERT_OK(fixture_port_pair(vm2, self->vm, &pb, &pa));
	close(vm2);		/* its last fd: the VM and its ports go */
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, st_state(self->vm, pa));
	EXPECT_OK(xvm_evtchn_send(self->vm, pa));
}

TEST_F(ev, reset_unbinds_remote)
{
	int vm2 = xvm_create_vm(self->xvm, 0);
	uint32_t pa, pb, pv;

	ASSERT_LE(0, vm2);
	ASSERT_OK(fixture_port_pair(vm2, self->vm, &pb, &pa));
	pv = vcpu_port(vm2, 0);
	EXPECT_EQ(0, pv);	/* vm2 has no vCPU 0: bind fails */
	ASSERT_OK(xvm_evtchn_reset(vm2));
	EXPECT_EQ(XVM_EVTCHN_STATE_FREE, st_state(vm2, pb));
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, st_state(self->vm, pa));
	ASSERT_OK(xvm_evtchn_reset(self->vm));
	EXPECT_EQ(XVM_EVTCHN_STATE_FREE, st_state(self->vm, pa));
	EXPECT_ERR(ioctl(self->vcpu[0], XVM_EVTCHN_RESET, 0), ENOTTY);
	close(vm2);
}

/* ------------------------------------------------------------------ */
/* Who may bind: XVM_EVTCHN_ALLOC_REMOTE and the owner rule            */

/* errno of a bind that must fail, or 0 if it succeeded. */
static int bind_err(int vm, int remote_vm, uint32_t remote_port)
{
	uint32_t out;

	errno = 0;
	return xvm_evtchn_bind_interdomain(vm, remote_vm, remote_port, &out) ?
	       errno : 0;
}

/*
 * The forked child: its own VM, and the parent's VM fd (pvm) by
 * inheritance.  ports[] are an UNBOUND, a free and an INTERDOMAIN port of
 * the parent's VM, none of them granted to anyone.  Returns 0, or the
 * number of the step that failed.
 */
static int grant_child(int xvm, int pvm, int sock, const uint32_t *ports)
{
	uint32_t pg, cp, state;
	int cvm, i;
	char c;

	cvm = xvm_create_vm(xvm, 0);
	if (cvm < 0)
		return 1;
	/* not the owner: every ioctl of the parent's VM fd is EIO */
	errno = 0;
	if (xvm_evtchn_status(pvm, ports[0], NULL, NULL) != -1 || errno != EIO)
		return 2;
	/* no grant: EACCES (UNBOUND: the old bypass; free; bound) */
	for (i = 0; i < 3; i++)
		if (bind_err(cvm, pvm, ports[i]) != EACCES)
			return 3 + i;
	if (bind_err(cvm, pvm, NPORTS - 1) != EACCES)
		return 6;
	/* the parent names this VM, then tells the port */
	if (fdpass_send_one(sock, cvm))
		return 7;
	if (read(sock, &pg, sizeof(pg)) != sizeof(pg))
		return 8;
	if (xvm_evtchn_bind_interdomain(cvm, pvm, pg, &cp))
		return 9;
	if (xvm_evtchn_status(cvm, cp, &state, NULL) ||
	    state != XVM_EVTCHN_STATE_INTERDOMAIN)
		return 10;
	/* the grantee may see that it is bound now: EINVAL, as for an owner */
	if (bind_err(cvm, pvm, pg) != EINVAL)
		return 11;
	if (xvm_evtchn_send(cvm, cp))
		return 12;
	if (write(sock, "s", 1) != 1 || read(sock, &c, 1) != 1)
		return 13;
	/* the parent sent back */
	if (!is_pending(cvm, cp))
		return 14;
	close(cvm);
	return 0;
}

/*
 * Across fork: the child holds the parent's VM fd but owns only its own
 * VM.  Without a grant it cannot bind any port of the parent's VM; with
 * one, passed by SCM_RIGHTS, it binds that port and the link works.
 */
TEST_F(ev, interdomain_grant_across_fork)
{
	int vm2 = xvm_create_vm(self->xvm, 0), sv[2], cfd, status;
	uint32_t ports[3], pb, pg, state = 0;
	pid_t pid;
	char c;

	ASSERT_LE(0, vm2);
	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &ports[0]));	/* UNBOUND */
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &ports[1]));
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &ports[2]));
	ASSERT_OK(xvm_evtchn_bind_interdomain(vm2, self->vm, ports[2], &pb));
	ASSERT_OK(xvm_evtchn_close(self->vm, ports[1]));		/* free */

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		_exit(grant_child(self->xvm, self->vm, sv[1], ports));
	}
	close(sv[1]);
	cfd = fdpass_recv_one(sv[0]);
	if (cfd < 0) {		/* the child gave up before sending it */
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_LE(0, cfd) TH_LOG("child failed at step %d",
					 WEXITSTATUS(status));
	}
	/* the child's refused binds (done by now) changed nothing */
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, st_state(self->vm, ports[0]));
	EXPECT_EQ(XVM_EVTCHN_STATE_FREE, st_state(self->vm, ports[1]));
	ASSERT_OK(xvm_evtchn_status(self->vm, ports[2], &state, NULL));
	EXPECT_EQ(XVM_EVTCHN_STATE_INTERDOMAIN, state);
	/* naming a VM needs only its fd, not its ownership */
	ASSERT_OK(fixture_port_for(self->vm, cfd, &pg));
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, st_state(self->vm, pg));
	EXPECT_EQ(XVM_EVTCHN_STATUS_REMOTE_NAMED, st_status(self->vm, pg));
	ASSERT_EQ(sizeof(pg), write(sv[0], &pg, sizeof(pg)));
	ASSERT_EQ(1, read(sv[0], &c, 1));
	/* the child's send raised our end */
	EXPECT_EQ(XVM_EVTCHN_STATE_INTERDOMAIN, st_state(self->vm, pg));
	EXPECT_TRUE(is_pending(self->vm, pg));
	ASSERT_OK(xvm_evtchn_send(self->vm, pg));
	ASSERT_EQ(1, write(sv[0], "r", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child failed at step %d",
						 WEXITSTATUS(status));

	/* the child's VM is gone with our copy of its fd: our end is UNBOUND */
	close(cfd);
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, st_state(self->vm, pg));
	/* and still named to that VM: not even the owner binds it elsewhere */
	EXPECT_EQ(EACCES, bind_err(vm2, self->vm, pg));
	close(sv[0]);
	close(vm2);
}

/* A port named to VM B is bound by B only, not by C of the same owner. */
TEST_F(ev, interdomain_named_port_only_named_vm)
{
	int b = xvm_create_vm(self->xvm, 0), c = xvm_create_vm(self->xvm, 0);
	uint32_t pa, pb, pb2, self_port, loop;

	ASSERT_LE(0, b);
	ASSERT_LE(0, c);
	ASSERT_OK(fixture_port_for(self->vm, b, &pa));
	EXPECT_EQ(EACCES, bind_err(c, self->vm, pa));
	EXPECT_EQ(EACCES, bind_err(self->vm, self->vm, pa));
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, st_state(self->vm, pa));
	ASSERT_OK(xvm_evtchn_bind_interdomain(b, self->vm, pa, &pb));
	ASSERT_OK(xvm_evtchn_send(b, pb));
	EXPECT_TRUE(is_pending(self->vm, pa));
	/* bound: C still learns nothing, B is told it is bound */
	EXPECT_EQ(EACCES, bind_err(c, self->vm, pa));
	EXPECT_EQ(EINVAL, bind_err(b, self->vm, pa));
	/* unbound again by B's close: still B's only */
	ASSERT_OK(xvm_evtchn_close(b, pb));
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, st_state(self->vm, pa));
	EXPECT_EQ(XVM_EVTCHN_STATUS_REMOTE_NAMED | XVM_EVTCHN_STATUS_PENDING,
		  st_status(self->vm, pa));
	EXPECT_EQ(EACCES, bind_err(c, self->vm, pa));
	ASSERT_OK(xvm_evtchn_bind_interdomain(b, self->vm, pa, &pb2));
	/* a VM may name itself: a loopback only it can make */
	ASSERT_OK(fixture_port_for(self->vm, self->vm, &self_port));
	EXPECT_EQ(EACCES, bind_err(b, self->vm, self_port));
	ASSERT_OK(xvm_evtchn_bind_interdomain(self->vm, self->vm, self_port,
					      &loop));
	ASSERT_OK(xvm_evtchn_send(self->vm, loop));
	EXPECT_TRUE(is_pending(self->vm, self_port));
	close(c);
	close(b);
}

/* A VM is named by an id that is never reused, not by its address. */
TEST_F(ev, interdomain_named_vm_gone)
{
	uint32_t pa;
	int x, y, i;

	x = xvm_create_vm(self->xvm, 0);
	ASSERT_LE(0, x);
	ASSERT_OK(fixture_port_for(self->vm, x, &pa));
	close(x);
	/* new VMs, likely at x's address: none of them is x */
	for (i = 0; i < 8; i++) {
		y = xvm_create_vm(self->xvm, 0);
		ASSERT_LE(0, y);
		EXPECT_EQ(EACCES, bind_err(y, self->vm, pa));
		close(y);
	}
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, st_state(self->vm, pa));
}

TEST_F(ev, alloc_remote_errors)
{
	struct xvm_evtchn_op op;
	int efd = eventfd(0, EFD_CLOEXEC);
	uint32_t p;

	ASSERT_LE(0, efd);
	EXPECT_ERR(fixture_port_for(self->vm, -1, &p), EBADF);
	EXPECT_ERR(fixture_port_for(self->vm, efd, &p), EINVAL);
	EXPECT_ERR(fixture_port_for(self->vm, self->vcpu[0], &p), EINVAL);
	EXPECT_ERR(fixture_port_for(self->vm, self->xvm, &p), EINVAL);
	memset(&op, 0, sizeof(op));
	op.flags = XVM_EVTCHN_ALLOC_REMOTE | 2;
	op.fd = self->vm;
	EXPECT_ERR(ioctl_op(self->vm, XVM_EVTCHN_ALLOC_UNBOUND, &op), EINVAL);
	/* the flag belongs to ALLOC_UNBOUND only */
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &p));
	memset(&op, 0, sizeof(op));
	op.flags = XVM_EVTCHN_ALLOC_REMOTE;
	op.fd = self->vm;
	op.remote_port = p;
	EXPECT_ERR(ioctl_op(self->vm, XVM_EVTCHN_BIND_INTERDOMAIN, &op), EINVAL);
	/* without the flag fd is ignored: no name */
	memset(&op, 0, sizeof(op));
	op.fd = efd;
	ASSERT_OK(ioctl_op(self->vm, XVM_EVTCHN_ALLOC_UNBOUND, &op));
	EXPECT_EQ(0, st_status(self->vm, op.port));
	close(efd);
}

/* ------------------------------------------------------------------ */
/* Concurrency: one VM's control path against another's                */

#define CHURN_ROUNDS	300

struct churn {
	int vm, vcpu, efd;
	uint32_t port;
	int step, err;		/* the first failure */
};

/* One round on VM A: NOTIFY assign, signal, deassign; move the doorbell. */
static int churn_round(struct churn *c, int i)
{
	uint64_t cnt;

	if (xvm_evtchn_eventfd(c->vm, c->port, c->efd,
			       XVM_EVTCHN_EVENTFD_NOTIFY))
		return 1;
	if (xvm_evtchn_send(c->vm, c->port))
		return 2;
	if (read(c->efd, &cnt, sizeof(cnt)) != sizeof(cnt) || cnt != 1)
		return 3;
	if (xvm_evtchn_clear(c->vm, c->port))
		return 4;
	if (xvm_evtchn_eventfd(c->vm, c->port, c->efd,
			       XVM_EVTCHN_EVENTFD_NOTIFY |
			       XVM_EVTCHN_EVENTFD_DEASSIGN))
		return 5;
	if (xvm_set_doorbell(c->vm, DB_ADDR + 4 * (i & 1), 0))
		return 6;
	return 0;
}

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	int i;

	for (i = 0; i < CHURN_ROUNDS && !c->step; i++) {
		c->step = churn_round(c, i);
		c->err = errno;
	}
	return NULL;
}

/* One round on VMs B and C: alloc, link, send, close both ends. */
static int control_round(int b, int c)
{
	uint32_t p, pc, pb;

	if (xvm_evtchn_alloc_unbound(b, &p) || xvm_evtchn_alloc_unbound(c, &pc))
		return 1;
	if (xvm_evtchn_bind_interdomain(b, c, pc, &pb))
		return 2;
	if (xvm_evtchn_send(b, pb) || !is_pending(c, pc))
		return 3;
	if (xvm_evtchn_close(c, pc) || st_state(b, pb) != XVM_EVTCHN_STATE_UNBOUND)
		return 4;
	if (xvm_evtchn_close(b, pb) || xvm_evtchn_close(b, p))
		return 5;
	return st_state(b, p) == XVM_EVTCHN_STATE_FREE ? 0 : 6;
}

/*
 * VM A churns its NOTIFY bridge and doorbell while VMs B and C allocate,
 * link and close ports: both sides complete, correctly.  (How long B
 * waits is evtchn_bench's business.)
 */
TEST_F_TIMEOUT(ev, churn_one_vm_control_another, 300)
{
	struct churn c = { .vm = self->vm, .vcpu = self->vcpu[0] };
	int b = xvm_create_vm(self->xvm, 0), cv = xvm_create_vm(self->xvm, 0);
	int i, step = 0, h = -1;
	pthread_t t;

	ASSERT_LE(0, b);
	ASSERT_LE(0, cv);
	c.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, c.efd);
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &c.port));
	ASSERT_EQ(0, pthread_create(&t, NULL, churn_thread, &c));
	for (i = 0; i < CHURN_ROUNDS && !step; i++)
		step = control_round(b, cv);
	pthread_join(t, NULL);
	EXPECT_EQ(0, step) TH_LOG("VM B/C failed at step %d (%s)", step,
				  strerror(errno));
	EXPECT_EQ(0, c.step) TH_LOG("VM A failed at step %d (%s)", c.step,
				    strerror(c.err));
	/* A's doorbell is where the last move put it, and works */
	ASSERT_OK(xvm_mmio_write(self->vcpu[0], DB_ADDR + 4, 4, c.port, &h));
	EXPECT_EQ(1, h);
	EXPECT_TRUE(is_pending(self->vm, c.port));
	EXPECT_EQ(XVM_EVTCHN_STATUS_PENDING, st_status(self->vm, c.port));
	close(c.efd);
	close(cv);
	close(b);
}

#define RACE_ROUNDS	200

struct closer {
	int vm;
	uint32_t port;
	int whole_vm;		/* close the VM fd instead of the port */
	int ret;
};

static void *closer_thread(void *arg)
{
	struct closer *cl = arg;

	if (cl->whole_vm)
		cl->ret = close(cl->vm);
	else
		cl->ret = xvm_evtchn_close(cl->vm, cl->port);
	return NULL;
}

/*
 * Both ends of a link closed at once, or one end's VM destroyed while the
 * other end closes, or a bind racing the remote port's close: every
 * outcome is consistent (run it under KASAN and lockdep).
 */
TEST_F_TIMEOUT(ev, interdomain_close_races, 300)
{
	struct closer cl;
	uint32_t pa, pb;
	pthread_t t;
	int i, b, r;

	for (i = 0; i < RACE_ROUNDS; i++) {
		b = xvm_create_vm(self->xvm, 0);
		ASSERT_LE(0, b);
		ASSERT_OK(fixture_port_pair(b, self->vm, &pb, &pa));
		cl = (struct closer){ .vm = b, .port = pb, .whole_vm = i & 1 };
		ASSERT_EQ(0, pthread_create(&t, NULL, closer_thread, &cl));
		EXPECT_OK(xvm_evtchn_close(self->vm, pa));
		pthread_join(t, NULL);
		EXPECT_EQ(0, cl.ret);
		EXPECT_EQ(XVM_EVTCHN_STATE_FREE, st_state(self->vm, pa));
		if (!cl.whole_vm) {
			EXPECT_EQ(XVM_EVTCHN_STATE_FREE, st_state(b, pb));
			close(b);
		}
	}
	/* a bind racing the close of the port it binds */
	b = xvm_create_vm(self->xvm, 0);
	ASSERT_LE(0, b);
	for (i = 0; i < RACE_ROUNDS; i++) {
		ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &pa));
		cl = (struct closer){ .vm = self->vm, .port = pa };
		ASSERT_EQ(0, pthread_create(&t, NULL, closer_thread, &cl));
		r = xvm_evtchn_bind_interdomain(b, self->vm, pa, &pb);
		pthread_join(t, NULL);
		EXPECT_EQ(0, cl.ret);
		if (!r) {	/* bound before the close: the close unbound it */
			EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, st_state(b, pb));
			EXPECT_OK(xvm_evtchn_close(b, pb));
		}
	}
	close(b);
}

/* ------------------------------------------------------------------ */
/* XVM_POLL                                                            */

TEST_F(ev, poll_already_pending)
{
	uint32_t p = vcpu_port(self->vm, 0), out = 0;
	uint32_t list[1];

	ASSERT_NE(0, p);
	list[0] = p;
	ASSERT_OK(xvm_evtchn_send(self->vm, p));
	EXPECT_EQ(1, wpoll(self->vcpu[0], list, 1, &out));
	EXPECT_EQ(p, out);
	/* poll does not consume: again at once, also with "forever" */
	out = 0;
	EXPECT_EQ(1, xvm_poll(self->vcpu[0], list, 1, 0, 0, &out));
	EXPECT_EQ(p, out);
	EXPECT_TRUE(is_pending(self->vm, p));
	/* any vCPU can poll any port; an ABSTIME deadline in the past too */
	out = 0;
	EXPECT_EQ(1, xvm_poll(self->vcpu[1], list, 1, 1, XVM_POLL_ABSTIME, &out));
	EXPECT_EQ(p, out);
}

TEST_F(ev, poll_returns_first_pending_listed)
{
	uint32_t a = vcpu_port(self->vm, 0), b = vcpu_port(self->vm, 0);
	uint32_t c = vcpu_port(self->vm, 0), out = 0;
	uint32_t abc[3] = { a, b, c }, cba[3] = { c, b, a };

	ASSERT_NE(0, a);
	ASSERT_NE(0, b);
	ASSERT_NE(0, c);
	ASSERT_OK(xvm_evtchn_send(self->vm, c));
	ASSERT_OK(xvm_evtchn_send(self->vm, b));
	EXPECT_EQ(1, wpoll(self->vcpu[0], abc, 3, &out));
	EXPECT_EQ(b, out);
	EXPECT_EQ(1, wpoll(self->vcpu[0], cba, 3, &out));
	EXPECT_EQ(c, out);
	ASSERT_OK(xvm_evtchn_clear(self->vm, b));
	EXPECT_EQ(1, wpoll(self->vcpu[0], abc, 3, &out));
	EXPECT_EQ(c, out);
}

TEST_F(ev, poll_timeout_relative)
{
	uint32_t p = vcpu_port(self->vm, 0), out = 0xdead;
	uint64_t t0, t1;

	ASSERT_NE(0, p);
	t0 = now_ns();
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &p, 1, 50 * MS, 0, &out));
	t1 = now_ns();
	EXPECT_LE(t0 + 50 * MS, t1) TH_LOG("returned %llu ns early",
					   (unsigned long long)(t0 + 50 * MS - t1));
	EXPECT_GT(t0 + LONG_NS, t1);	/* loose: it did time out */
	EXPECT_EQ(0xdead, out);
	/* 1 ns: returns (0) rather than sleeping forever */
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &p, 1, 1, 0, &out));
}

TEST_F(ev, poll_timeout_abstime)
{
	uint32_t p = vcpu_port(self->vm, 0), out = 0;
	uint64_t deadline, t1;

	ASSERT_NE(0, p);
	deadline = now_ns() + 50 * MS;
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &p, 1, deadline, XVM_POLL_ABSTIME, &out));
	t1 = now_ns();
	EXPECT_LE(deadline, t1);
	EXPECT_GT(deadline + LONG_NS, t1);
	/* a deadline already past: at once */
	t1 = now_ns();
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &p, 1, t1 - 1, XVM_POLL_ABSTIME, &out));
}

/* A send from another thread wakes a poller that waits forever (timeout 0). */
TEST_F(ev, poll_wakes_on_send_from_thread)
{
	uint32_t p = vcpu_port(self->vm, 0), q = vcpu_port(self->vm, 1), out = 0;
	uint32_t list[2];
	struct later l = { .delay_ms = 100, .fn = do_send, .vm = self->vm };

	ASSERT_NE(0, p);
	ASSERT_NE(0, q);
	list[0] = p;
	list[1] = q;
	l.port = q;
	ASSERT_EQ(0, later_start(&l));
	EXPECT_EQ(1, xvm_poll(self->vcpu[0], list, 2, 0, 0, &out));
	EXPECT_EQ(q, out);
	pthread_join(l.t, NULL);
	EXPECT_EQ(0, l.ret);
}

TEST_F(ev, poll_masked_port_wakes)
{
	uint32_t p = vcpu_port(self->vm, 0), out = 0;
	struct later l = { .delay_ms = 100, .fn = do_send, .vm = self->vm };

	ASSERT_NE(0, p);
	ASSERT_OK(xvm_evtchn_mask(self->vm, p));
	l.port = p;
	ASSERT_EQ(0, later_start(&l));
	EXPECT_EQ(1, wpoll(self->vcpu[0], &p, 1, &out));
	EXPECT_EQ(p, out);
	pthread_join(l.t, NULL);
	EXPECT_EQ(XVM_EVTCHN_STATUS_PENDING | XVM_EVTCHN_STATUS_MASKED,
		  st_status(self->vm, p));
}

TEST_F(ev, poll_unlisted_port_does_not_wake)
{
	uint32_t p = vcpu_port(self->vm, 0), q = vcpu_port(self->vm, 0), out = 0;
	struct later l = { .delay_ms = 20, .fn = do_send, .vm = self->vm };
	uint64_t t0;

	ASSERT_NE(0, p);
	ASSERT_NE(0, q);
	l.port = q;
	t0 = now_ns();
	ASSERT_EQ(0, later_start(&l));
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &p, 1, 300 * MS, 0, &out));
	EXPECT_LE(t0 + 300 * MS, now_ns());
	pthread_join(l.t, NULL);
	EXPECT_EQ(0, l.ret);
	EXPECT_TRUE(is_pending(self->vm, q));
	EXPECT_FALSE(is_pending(self->vm, p));
}

/*
 * XVM_POLL_VCPU_EVENTS: as Xen's SCHEDOP_poll, an unmasked event for the
 * polling vCPU on a port it did not list ends the poll too (vcpu_unblock).
 */
TEST_F(ev, poll_vcpu_events_unlisted_port)
{
	uint32_t p = vcpu_port(self->vm, 0), q = vcpu_port(self->vm, 0), out = 0;
	uint32_t other = vcpu_port(self->vm, 1);
	struct later l = { .delay_ms = 20, .fn = do_send, .vm = self->vm };

	ASSERT_NE(0, p);
	ASSERT_NE(0, q);
	ASSERT_NE(0, other);
	/* Another vCPU's port, or a masked one: no wake-up. */
	ASSERT_OK(xvm_evtchn_send(self->vm, other));
	ASSERT_OK(xvm_evtchn_mask(self->vm, q));
	ASSERT_OK(xvm_evtchn_send(self->vm, q));
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &p, 1, 50 * MS,
			      XVM_POLL_VCPU_EVENTS, &out));
	/* Unmasking delivers it: the poll ends at once, on q. */
	ASSERT_OK(xvm_evtchn_unmask(self->vm, q));
	EXPECT_EQ(1, xvm_poll(self->vcpu[0], &p, 1, 50 * MS,
			      XVM_POLL_VCPU_EVENTS, &out));
	EXPECT_EQ(q, out);
	/* Without the flag, an unlisted port never ends it. */
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &p, 1, 50 * MS, 0, &out));
	ASSERT_OK(xvm_evtchn_clear(self->vm, q));
	/* An event that arrives while the vCPU sleeps wakes it. */
	l.port = q;
	ASSERT_EQ(0, later_start(&l));
	out = 0;
	EXPECT_EQ(1, wpoll_flags(self->vcpu[0], &p, 1, XVM_POLL_VCPU_EVENTS,
				 &out));
	EXPECT_EQ(q, out);
	pthread_join(l.t, NULL);
	EXPECT_EQ(0, l.ret);
	/* A listed pending port still comes first. */
	ASSERT_OK(xvm_evtchn_send(self->vm, p));
	EXPECT_EQ(1, xvm_poll(self->vcpu[0], &p, 1, 50 * MS,
			      XVM_POLL_VCPU_EVENTS, &out));
	EXPECT_EQ(p, out);
}

TEST_F(ev, poll_interdomain_wakes_other_vm)
{
	int vm2 = xvm_create_vm(self->xvm, 0);
	uint32_t pa, pb, out = 0;
	struct later l = { .delay_ms = 100, .fn = do_send };

	ASSERT_LE(0, vm2);
	ASSERT_OK(fixture_port_pair(vm2, self->vm, &pb, &pa));
	l.vm = vm2;
	l.port = pb;
	ASSERT_EQ(0, later_start(&l));
	EXPECT_EQ(1, wpoll(self->vcpu[1], &pa, 1, &out));
	EXPECT_EQ(pa, out);
	pthread_join(l.t, NULL);
	EXPECT_EQ(0, l.ret);
	close(vm2);
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

/* A signal: -1/EINTR, the struct now holds ABSTIME + the absolute deadline. */
TEST_F(ev, poll_eintr_keeps_deadline)
{
	uint32_t p = vcpu_port(self->vm, 0), list[1];
	struct sigaction sa;
	struct xvm_poll po, saved;
	struct later l = { .delay_ms = 100, .fn = do_signal };
	uint64_t t0, t1, deadline;
	int ret, e;

	ASSERT_NE(0, p);
	list[0] = p;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;	/* no SA_RESTART: see the EINTR */
	ASSERT_OK(sigaction(SIGUSR1, &sa, NULL));
	l.target = pthread_self();

	po = mk_poll(list, 1, 2 * SEC, 0);
	t0 = now_ns();
	ASSERT_EQ(0, later_start(&l));
	errno = 0;
	ret = poll_raw(self->vcpu[0], &po);
	e = errno;
	t1 = now_ns();
	pthread_join(l.t, NULL);
	ASSERT_EQ(-1, ret) TH_LOG("poll returned %d, not interrupted", ret);
	ASSERT_EQ(EINTR, e) TH_LOG("%s", strerror(e));
	ASSERT_GT(t0 + 2 * SEC, t1) TH_LOG("interrupted only after the timeout");
	EXPECT_EQ(XVM_POLL_ABSTIME, po.flags);
	deadline = po.timeout_ns;
	EXPECT_LE(t0 + 2 * SEC, deadline);
	EXPECT_GE(t1 + 2 * SEC, deadline);
	EXPECT_EQ((uint64_t)(uintptr_t)list, po.ports);
	EXPECT_EQ(1, po.nr_ports);

	/* an ABSTIME poll interrupted keeps its struct as it was */
	saved = po;
	l.delay_ms = 50;
	ASSERT_EQ(0, later_start(&l));
	errno = 0;
	ret = poll_raw(self->vcpu[0], &po);
	e = errno;
	pthread_join(l.t, NULL);
	ASSERT_EQ(-1, ret);
	ASSERT_EQ(EINTR, e);
	EXPECT_EQ(saved.flags, po.flags);
	EXPECT_EQ(saved.timeout_ns, po.timeout_ns);
	EXPECT_EQ(saved.ports, po.ports);
	EXPECT_EQ(saved.nr_ports, po.nr_ports);

	/* re-issued unchanged: times out at the original deadline */
	ret = poll_raw(self->vcpu[0], &po);
	t1 = now_ns();
	EXPECT_EQ(0, ret) TH_LOG("%s", strerror(errno));
	EXPECT_LE(deadline, t1);
	EXPECT_GT(deadline + LONG_NS, t1);
}

/* An EINTR'd poll re-issued is still woken by a send. */
TEST_F(ev, poll_eintr_then_send)
{
	uint32_t p = vcpu_port(self->vm, 0);
	struct sigaction sa;
	struct xvm_poll po;
	struct later sig = { .delay_ms = 50, .fn = do_signal };
	struct later snd = { .delay_ms = 200, .fn = do_send, .vm = self->vm };
	int ret, e;

	ASSERT_NE(0, p);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	ASSERT_OK(sigaction(SIGUSR1, &sa, NULL));
	sig.target = pthread_self();
	snd.port = p;
	po = mk_poll(&p, 1, 0, 0);	/* forever */
	ASSERT_EQ(0, later_start(&sig));
	errno = 0;
	ret = poll_raw(self->vcpu[0], &po);
	e = errno;
	pthread_join(sig.t, NULL);
	ASSERT_EQ(-1, ret);
	ASSERT_EQ(EINTR, e);
	/* "forever" has no deadline to keep: it may stay relative 0 */
	ASSERT_EQ(0, later_start(&snd));
	ret = poll_raw(self->vcpu[0], &po);
	pthread_join(snd.t, NULL);
	EXPECT_EQ(1, ret) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(p, po.port);
}

TEST_F(ev, poll_128_and_limit)
{
	static uint32_t ports[XVM_POLL_MAX_PORTS + 1];
	uint32_t i, out = 0;
	struct later l = { .delay_ms = 100, .fn = do_send, .vm = self->vm };

	ASSERT_EQ(XVM_POLL_MAX_PORTS,
		  xvm_check_extension(self->vm, XVM_CAP_POLL_MAX_PORTS));
	for (i = 0; i <= XVM_POLL_MAX_PORTS; i++)
		ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &ports[i]));

	/* 128: the last one wakes the poller */
	l.port = ports[127];
	ASSERT_EQ(0, later_start(&l));
	EXPECT_EQ(1, wpoll(self->vcpu[0], ports, 128, &out));
	EXPECT_EQ(ports[127], out);
	pthread_join(l.t, NULL);
	ASSERT_OK(xvm_evtchn_clear(self->vm, ports[127]));

	/* 1024, pending at the end */
	ASSERT_OK(xvm_evtchn_send(self->vm, ports[XVM_POLL_MAX_PORTS - 1]));
	EXPECT_EQ(1, wpoll(self->vcpu[0], ports, XVM_POLL_MAX_PORTS, &out));
	EXPECT_EQ(ports[XVM_POLL_MAX_PORTS - 1], out);
	/* 1024, nothing pending: times out */
	ASSERT_OK(xvm_evtchn_clear(self->vm, ports[XVM_POLL_MAX_PORTS - 1]));
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], ports, XVM_POLL_MAX_PORTS, 10 * MS, 0,
			      &out));
	/* limit + 1 and 0 */
	EXPECT_ERR(xvm_poll(self->vcpu[0], ports, XVM_POLL_MAX_PORTS + 1, LONG_NS, 0,
			    &out), EINVAL);
	EXPECT_ERR(xvm_poll(self->vcpu[0], ports, 0, LONG_NS, 0, &out), EINVAL);
	EXPECT_ERR(xvm_poll(self->vcpu[0], ports, ~0U, LONG_NS, 0, &out), EINVAL);
}

TEST_F(ev, poll_invalid_args)
{
	uint32_t p = vcpu_port(self->vm, 0), closed, out = 0, list[3];
	struct xvm_poll po;

	ASSERT_NE(0, p);
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &closed));
	ASSERT_OK(xvm_evtchn_close(self->vm, closed));
	ASSERT_OK(xvm_evtchn_send(self->vm, p));	/* even with one pending */

	list[0] = p; list[1] = 0; list[2] = p;
	EXPECT_ERR(xvm_poll(self->vcpu[0], list, 3, 10 * MS, 0, &out), EINVAL);
	list[1] = NPORTS;
	EXPECT_ERR(xvm_poll(self->vcpu[0], list, 3, 10 * MS, 0, &out), EINVAL);
	list[1] = ~0U;
	EXPECT_ERR(xvm_poll(self->vcpu[0], list, 3, 10 * MS, 0, &out), EINVAL);
	list[1] = closed;
	EXPECT_ERR(xvm_poll(self->vcpu[0], list, 3, 10 * MS, 0, &out), EINVAL);
	list[0] = 0;
	EXPECT_ERR(xvm_poll(self->vcpu[0], list, 1, 10 * MS, 0, &out), EINVAL);

	EXPECT_ERR(xvm_poll(self->vcpu[0], NULL, 1, 10 * MS, 0, &out), EFAULT);
	EXPECT_ERR(xvm_poll(self->vcpu[0], BAD_PTR, 2, 10 * MS, 0, &out), EFAULT);
	EXPECT_ERR(ioctl(self->vcpu[0], XVM_POLL, NULL), EFAULT);
	EXPECT_ERR(ioctl(self->vcpu[0], XVM_POLL, BAD_PTR), EFAULT);

	list[0] = p;
	po = mk_poll(list, 1, 10 * MS, XVM_POLL_VCPU_EVENTS << 1);
	EXPECT_ERR(poll_raw(self->vcpu[0], &po), EINVAL);
	po = mk_poll(list, 1, 10 * MS, 1U << 31);
	EXPECT_ERR(poll_raw(self->vcpu[0], &po), EINVAL);
	po = mk_poll(list, 1, 10 * MS, 0);
	po.pad = 1;
	EXPECT_ERR(poll_raw(self->vcpu[0], &po), EINVAL);
	po = mk_poll(list, 1, 10 * MS, 0);
	po.reserved[0] = 1;
	EXPECT_ERR(poll_raw(self->vcpu[0], &po), EINVAL);
	/* poll is a vCPU ioctl */
	po = mk_poll(list, 1, 10 * MS, 0);
	EXPECT_ERR(poll_raw(self->vm, &po), ENOTTY);
	/* and the sane call works */
	EXPECT_EQ(1, poll_raw(self->vcpu[0], &po));
	EXPECT_EQ(p, po.port);
}

/* ------------------------------------------------------------------ */
/* eventfd bridges                                                     */

/* eventfd -> port: signalling the eventfd marks the port pending. */
TEST_F(ev, eventfd_to_port)
{
	uint32_t p = vcpu_port(self->vm, 0), out = 0;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t one = 1;
	struct later l = { .delay_ms = 100, .fn = do_eventfd_write };

	ASSERT_NE(0, p);
	ASSERT_LE(0, efd);
	ASSERT_OK(xvm_evtchn_eventfd(self->vm, p, efd, 0));
	EXPECT_EQ(XVM_EVTCHN_STATUS_EVENTFD_IN, st_status(self->vm, p));

	ASSERT_EQ(8, write(efd, &one, 8));
	EXPECT_EQ(1, wpoll(self->vcpu[0], &p, 1, &out));
	EXPECT_EQ(p, out);
	EXPECT_EQ(XVM_EVTCHN_STATUS_EVENTFD_IN | XVM_EVTCHN_STATUS_PENDING,
		  st_status(self->vm, p));
	ASSERT_OK(xvm_evtchn_clear(self->vm, p));

	/* a poller asleep is woken by a signal from another thread */
	l.fd = efd;
	ASSERT_EQ(0, later_start(&l));
	EXPECT_EQ(1, wpoll(self->vcpu[0], &p, 1, &out));
	pthread_join(l.t, NULL);
	EXPECT_EQ(8, l.ret);
	ASSERT_OK(xvm_evtchn_clear(self->vm, p));

	/* masked: still pending */
	ASSERT_OK(xvm_evtchn_mask(self->vm, p));
	ASSERT_EQ(8, write(efd, &one, 8));
	EXPECT_EQ(1, wpoll(self->vcpu[0], &p, 1, &out));
	ASSERT_OK(xvm_evtchn_unmask(self->vm, p));
	ASSERT_OK(xvm_evtchn_clear(self->vm, p));

	/* deassigned: no more */
	ASSERT_OK(xvm_evtchn_eventfd(self->vm, p, efd, XVM_EVTCHN_EVENTFD_DEASSIGN));
	EXPECT_EQ(0, st_status(self->vm, p));
	ASSERT_EQ(8, write(efd, &one, 8));
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &p, 1, 100 * MS, 0, &out));
	EXPECT_FALSE(is_pending(self->vm, p));
	close(efd);
}

/*
 * port -> eventfd (NOTIFY): the port's upcall signals the eventfd - when it
 * becomes pending while unmasked, or is unmasked while pending.  A send to a
 * port that is already pending is coalesced (as in Xen), so CLEAR in between.
 */
TEST_F(ev, port_to_eventfd)
{
	uint32_t p = vcpu_port(self->vm, 0);
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct pollfd pfd;
	uint64_t cnt = 0;

	ASSERT_NE(0, p);
	ASSERT_LE(0, efd);
	ASSERT_OK(xvm_evtchn_eventfd(self->vm, p, efd, XVM_EVTCHN_EVENTFD_NOTIFY));
	EXPECT_EQ(XVM_EVTCHN_STATUS_EVENTFD_OUT, st_status(self->vm, p) &
		  ~XVM_EVTCHN_STATUS_PENDING);
	ASSERT_ERR(read(efd, &cnt, 8), EAGAIN);

	ASSERT_OK(xvm_evtchn_send(self->vm, p));
	pfd.fd = efd;
	pfd.events = POLLIN;
	EXPECT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(8, read(efd, &cnt, 8));
	EXPECT_LE(1, cnt);

	/* each new event signals it again */
	ASSERT_OK(xvm_evtchn_clear(self->vm, p));
	ASSERT_OK(xvm_evtchn_send(self->vm, p));
	EXPECT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(8, read(efd, &cnt, 8));
	EXPECT_LE(1, cnt);

	/* masked: no upcall, so no signal; the unmask delivers it */
	ASSERT_OK(xvm_evtchn_clear(self->vm, p));
	ASSERT_OK(xvm_evtchn_mask(self->vm, p));
	ASSERT_OK(xvm_evtchn_send(self->vm, p));
	EXPECT_EQ(0, poll(&pfd, 1, 100));
	ASSERT_OK(xvm_evtchn_unmask(self->vm, p));
	EXPECT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(8, read(efd, &cnt, 8));
	ASSERT_OK(xvm_evtchn_clear(self->vm, p));

	ASSERT_OK(xvm_evtchn_eventfd(self->vm, p, efd, XVM_EVTCHN_EVENTFD_NOTIFY |
				     XVM_EVTCHN_EVENTFD_DEASSIGN));
	EXPECT_EQ(0, st_status(self->vm, p) & XVM_EVTCHN_STATUS_EVENTFD_OUT);
	ASSERT_OK(xvm_evtchn_send(self->vm, p));
	EXPECT_EQ(0, poll(&pfd, 1, 100));
	close(efd);
}

/* An interdomain send reaches the eventfd on the receiving end. */
TEST_F(ev, interdomain_to_eventfd)
{
	int vm2 = xvm_create_vm(self->xvm, 0);
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint32_t pa, pb;
	struct pollfd pfd = { .events = POLLIN };
	uint64_t cnt;

	ASSERT_LE(0, vm2);
	ASSERT_LE(0, efd);
	ASSERT_OK(fixture_port_pair(vm2, self->vm, &pb, &pa));
	ASSERT_OK(xvm_evtchn_eventfd(self->vm, pa, efd, XVM_EVTCHN_EVENTFD_NOTIFY));
	ASSERT_OK(xvm_evtchn_send(vm2, pb));
	pfd.fd = efd;
	EXPECT_EQ(1, poll(&pfd, 1, 10000));
	EXPECT_EQ(8, read(efd, &cnt, 8));
	close(efd);
	close(vm2);
}

/* The eventfd closed before the port and the VM. */
TEST_F(ev, eventfd_closed_first)
{
	uint32_t p_in = vcpu_port(self->vm, 0), p_out = vcpu_port(self->vm, 0);
	int e_in = eventfd(0, EFD_CLOEXEC), e_out = eventfd(0, EFD_CLOEXEC);
	uint32_t state = 0, status = 0;

	ASSERT_NE(0, p_in);
	ASSERT_NE(0, p_out);
	ASSERT_LE(0, e_in);
	ASSERT_LE(0, e_out);
	ASSERT_OK(xvm_evtchn_eventfd(self->vm, p_in, e_in, 0));
	ASSERT_OK(xvm_evtchn_eventfd(self->vm, p_out, e_out,
				     XVM_EVTCHN_EVENTFD_NOTIFY));
	close(e_in);
	close(e_out);
	/* the ports still work */
	EXPECT_OK(xvm_evtchn_send(self->vm, p_out));
	EXPECT_OK(xvm_evtchn_send(self->vm, p_in));
	ASSERT_OK(xvm_evtchn_status(self->vm, p_in, &state, &status));
	EXPECT_EQ(XVM_EVTCHN_STATE_VCPU, state);
	EXPECT_TRUE(status & XVM_EVTCHN_STATUS_PENDING);
	/* closing them afterwards is clean */
	EXPECT_OK(xvm_evtchn_close(self->vm, p_in));
	EXPECT_OK(xvm_evtchn_close(self->vm, p_out));
	EXPECT_EQ(XVM_EVTCHN_STATE_FREE, st_state(self->vm, p_in));

	/* and the VM closed with the eventfd still open, then the eventfd */
	{
		int vm2 = xvm_create_vm(self->xvm, 0), efd = eventfd(0, 0);
		uint32_t q, r;
		uint64_t one = 1;

		ASSERT_LE(0, vm2);
		ASSERT_LE(0, efd);
		ASSERT_OK(xvm_evtchn_alloc_unbound(vm2, &q));
		ASSERT_OK(xvm_evtchn_alloc_unbound(vm2, &r));
		ASSERT_OK(xvm_evtchn_eventfd(vm2, q, efd, 0));
		ASSERT_OK(xvm_evtchn_eventfd(vm2, r, efd, XVM_EVTCHN_EVENTFD_NOTIFY));
		close(vm2);
		/* no hook left behind: signalling it is harmless */
		EXPECT_EQ(8, write(efd, &one, 8));
		close(efd);
	}
}

/* Port closed while its eventfd lives on: the hook goes with the port. */
TEST_F(ev, port_closed_eventfd_unhooked)
{
	uint32_t p = vcpu_port(self->vm, 0), q = 0;
	int efd = eventfd(0, EFD_CLOEXEC);
	uint64_t one = 1;

	ASSERT_NE(0, p);
	ASSERT_LE(0, efd);
	ASSERT_OK(xvm_evtchn_eventfd(self->vm, p, efd, 0));
	ASSERT_OK(xvm_evtchn_close(self->vm, p));
	ASSERT_EQ(8, write(efd, &one, 8));
	EXPECT_EQ(0, st_status(self->vm, p));
	/* a new port at (likely) the same number is not raised by it */
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &q));
	ASSERT_EQ(8, write(efd, &one, 8));
	EXPECT_EQ(0, st_status(self->vm, q));
	close(efd);
}

TEST_F(ev, eventfd_errors)
{
	uint32_t p = vcpu_port(self->vm, 0), freep;
	int efd = eventfd(0, EFD_CLOEXEC), closed = dup(efd);

	ASSERT_NE(0, p);
	ASSERT_LE(0, efd);
	close(closed);
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &freep));
	ASSERT_OK(xvm_evtchn_close(self->vm, freep));
	EXPECT_ERR(xvm_evtchn_eventfd(self->vm, p, -1, 0), EBADF);
	EXPECT_ERR(xvm_evtchn_eventfd(self->vm, p, closed, 0), EBADF);
	EXPECT_ERR(xvm_evtchn_eventfd(self->vm, p, self->xvm, 0), EINVAL);
	EXPECT_ERR(xvm_evtchn_eventfd(self->vm, p, efd, 1U << 2), EINVAL);
	EXPECT_ERR(xvm_evtchn_eventfd(self->vm, p, efd, 1U << 31), EINVAL);
	EXPECT_ERR(xvm_evtchn_eventfd(self->vm, 0, efd, 0), EINVAL);
	EXPECT_ERR(xvm_evtchn_eventfd(self->vm, freep, efd, 0), EINVAL);
	EXPECT_ERR(xvm_evtchn_eventfd(self->vm, NPORTS, efd, 0), EINVAL);
	EXPECT_EQ(0, st_status(self->vm, p));
	/* one bridge per direction; removing one that is not there */
	EXPECT_ERR(xvm_evtchn_eventfd(self->vm, p, efd, XVM_EVTCHN_EVENTFD_DEASSIGN),
		   ENOENT);
	EXPECT_ERR(xvm_evtchn_eventfd(self->vm, p, efd, XVM_EVTCHN_EVENTFD_NOTIFY |
				      XVM_EVTCHN_EVENTFD_DEASSIGN), ENOENT);
	ASSERT_OK(xvm_evtchn_eventfd(self->vm, p, efd, 0));
	EXPECT_ERR(xvm_evtchn_eventfd(self->vm, p, efd, 0), EBUSY);
	ASSERT_OK(xvm_evtchn_eventfd(self->vm, p, efd, XVM_EVTCHN_EVENTFD_NOTIFY));
	EXPECT_ERR(xvm_evtchn_eventfd(self->vm, p, efd, XVM_EVTCHN_EVENTFD_NOTIFY),
		   EBUSY);
	EXPECT_EQ(XVM_EVTCHN_STATUS_EVENTFD_IN | XVM_EVTCHN_STATUS_EVENTFD_OUT,
		  st_status(self->vm, p));
	close(efd);
}

/*
 * The eventfd's file released (its last fd closed): the bridge unhooks
 * itself (EPOLLHUP), STATUS stops reporting it, and a new eventfd can be
 * bridged to the port without DEASSIGN or CLOSE.
 */
TEST_F(ev, eventfd_close_unhooks)
{
	uint32_t p = vcpu_port(self->vm, 0), out = 0;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), efd2;
	uint64_t one = 1;

	ASSERT_NE(0, p);
	ASSERT_LE(0, efd);
	ASSERT_OK(xvm_evtchn_eventfd(self->vm, p, efd, 0));
	EXPECT_EQ(XVM_EVTCHN_STATUS_EVENTFD_IN, st_status(self->vm, p));
	close(efd);
	EXPECT_EQ(0, st_status(self->vm, p));

	efd2 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd2);
	ASSERT_OK(xvm_evtchn_eventfd(self->vm, p, efd2, 0));
	EXPECT_EQ(XVM_EVTCHN_STATUS_EVENTFD_IN, st_status(self->vm, p));
	ASSERT_EQ(8, write(efd2, &one, 8));
	EXPECT_EQ(1, wpoll(self->vcpu[0], &p, 1, &out));
	EXPECT_EQ(p, out);
	ASSERT_OK(xvm_evtchn_clear(self->vm, p));

	/* DEASSIGN after the close removes the bridge, once */
	close(efd2);
	EXPECT_EQ(0, st_status(self->vm, p));
	EXPECT_OK(xvm_evtchn_eventfd(self->vm, p, -1,
				     XVM_EVTCHN_EVENTFD_DEASSIGN));
	EXPECT_ERR(xvm_evtchn_eventfd(self->vm, p, -1,
				      XVM_EVTCHN_EVENTFD_DEASSIGN), ENOENT);
}

/*
 * One eventfd, one in-kernel consumer: a second port cannot be bridged to
 * an eventfd that raises a port already; once the first bridge is gone it
 * can.
 */
TEST_F(ev, eventfd_one_bridge_per_eventfd)
{
	uint32_t p = vcpu_port(self->vm, 0), q = vcpu_port(self->vm, 1);
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t one = 1;

	ASSERT_NE(0, p);
	ASSERT_NE(0, q);
	ASSERT_LE(0, efd);
	ASSERT_OK(xvm_evtchn_eventfd(self->vm, p, efd, 0));
	EXPECT_ERR(xvm_evtchn_eventfd(self->vm, q, efd, 0), EBUSY);
	EXPECT_EQ(0, st_status(self->vm, q));
	ASSERT_EQ(8, write(efd, &one, 8));
	EXPECT_TRUE(is_pending(self->vm, p));
	EXPECT_FALSE(is_pending(self->vm, q));
	ASSERT_OK(xvm_evtchn_clear(self->vm, p));

	ASSERT_OK(xvm_evtchn_eventfd(self->vm, p, efd,
				     XVM_EVTCHN_EVENTFD_DEASSIGN));
	ASSERT_OK(xvm_evtchn_eventfd(self->vm, q, efd, 0));
	ASSERT_EQ(8, write(efd, &one, 8));
	EXPECT_FALSE(is_pending(self->vm, p));
	EXPECT_TRUE(is_pending(self->vm, q));
	/* a NOTIFY bridge signals the eventfd: no consumer, no conflict */
	EXPECT_OK(xvm_evtchn_eventfd(self->vm, p, efd,
				     XVM_EVTCHN_EVENTFD_NOTIFY));
	close(efd);
}

/*
 * A count already in the eventfd when it is bridged raises the port at
 * once, and is consumed: a reader does not see it.
 */
TEST_F(ev, eventfd_signal_before_bridge)
{
	uint32_t p = vcpu_port(self->vm, 0), out = 0;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t three = 3, cnt;

	ASSERT_NE(0, p);
	ASSERT_LE(0, efd);
	ASSERT_EQ(8, write(efd, &three, 8));
	ASSERT_OK(xvm_evtchn_eventfd(self->vm, p, efd, 0));
	EXPECT_TRUE(is_pending(self->vm, p));
	EXPECT_EQ(1, wpoll(self->vcpu[0], &p, 1, &out));
	EXPECT_EQ(p, out);
	EXPECT_ERR(read(efd, &cnt, 8), EAGAIN);
	close(efd);
}

/* ------------------------------------------------------------------ */
/* The doorbell                                                        */

/* Not placed: unclaimed; placed: a 4-byte write of p raises p, only p. */
static void doorbell_placed(struct __test_metadata *_metadata,
			    FIXTURE_DATA(ev) *self, uint32_t p, uint32_t q)
{
	int h = -1;

	ASSERT_OK(xvm_mmio_write(self->vcpu[0], DB_ADDR, 4, p, &h));
	EXPECT_EQ(0, h);
	EXPECT_FALSE(is_pending(self->vm, p));

	ASSERT_OK(xvm_set_doorbell(self->vm, DB_ADDR, 0));
	ASSERT_OK(xvm_mmio_write(self->vcpu[0], DB_ADDR, 4, p, &h));
	EXPECT_EQ(1, h);
	EXPECT_TRUE(is_pending(self->vm, p));
	EXPECT_FALSE(is_pending(self->vm, q));
	ASSERT_OK(xvm_evtchn_clear(self->vm, p));
}

/* Other widths, neighbouring addresses, high bits of an 8-byte value. */
static void doorbell_other_accesses(struct __test_metadata *_metadata,
				    FIXTURE_DATA(ev) *self, uint32_t p,
				    uint32_t q)
{
	uint32_t len;
	int h = -1;

	/* other widths and neighbouring addresses: unhandled, nothing raised */
	for (len = 1; len <= 8; len *= 2) {
		if (len == 4)
			continue;
		ASSERT_OK(xvm_mmio_write(self->vcpu[0], DB_ADDR, len, p, &h));
		EXPECT_EQ(0, h) TH_LOG("len %u", len);
	}
	ASSERT_OK(xvm_mmio_write(self->vcpu[0], DB_ADDR + 4, 4, p, &h));
	EXPECT_EQ(0, h);
	ASSERT_OK(xvm_mmio_write(self->vcpu[0], DB_ADDR - 4, 4, p, &h));
	EXPECT_EQ(0, h);
	EXPECT_FALSE(is_pending(self->vm, p));

	/* high bits above the 4 bytes are ignored */
	ASSERT_OK(xvm_mmio_write(self->vcpu[0], DB_ADDR, 4,
				 0xffffffff00000000ULL | q, &h));
	EXPECT_EQ(1, h);
	EXPECT_TRUE(is_pending(self->vm, q));
	ASSERT_OK(xvm_evtchn_clear(self->vm, q));
}

/* A masked port is still raised; an invalid port number does no harm. */
static void doorbell_masked_and_invalid(struct __test_metadata *_metadata,
					FIXTURE_DATA(ev) *self, uint32_t p,
					uint32_t q)
{
	int h = -1;

	ASSERT_OK(xvm_evtchn_mask(self->vm, p));
	ASSERT_OK(xvm_mmio_write(self->vcpu[1], DB_ADDR, 4, p, &h));
	EXPECT_TRUE(is_pending(self->vm, p));
	ASSERT_OK(xvm_mmio_write(self->vcpu[1], DB_ADDR, 4, 0, &h));
	ASSERT_OK(xvm_mmio_write(self->vcpu[1], DB_ADDR, 4, NPORTS + 5, &h));
	ASSERT_OK(xvm_mmio_write(self->vcpu[1], DB_ADDR, 4, ~0U, &h));
	EXPECT_FALSE(is_pending(self->vm, q));
	ASSERT_OK(xvm_evtchn_unmask(self->vm, p));
	ASSERT_OK(xvm_evtchn_clear(self->vm, p));
}

/* Through a batch: q, a 2-byte write (unhandled), p. */
static void doorbell_batch(struct __test_metadata *_metadata,
			   FIXTURE_DATA(ev) *self, uint32_t p, uint32_t q)
{
	struct xvm_mmio acc[3];
	uint32_t done = 0;

	memset(acc, 0, sizeof(acc));
	acc[0].addr = DB_ADDR; acc[0].len = 4; acc[0].flags = XVM_MMIO_WRITE;
	acc[0].data = q;
	acc[1] = acc[0];
	acc[1].len = 2;
	acc[2] = acc[0];
	acc[2].data = p;
	ASSERT_OK(xvm_mmio_batch(self->vcpu[0], acc, 3, &done));
	EXPECT_EQ(3, done);
	EXPECT_EQ(XVM_MMIO_HANDLED, acc[0].result);
	EXPECT_EQ(XVM_MMIO_UNHANDLED, acc[1].result);
	EXPECT_EQ(XVM_MMIO_HANDLED, acc[2].result);
	EXPECT_TRUE(is_pending(self->vm, p));
	EXPECT_TRUE(is_pending(self->vm, q));
	ASSERT_OK(xvm_evtchn_clear(self->vm, p));
	ASSERT_OK(xvm_evtchn_clear(self->vm, q));
}

/* A doorbell write from vCPU 1 wakes vCPU 0 polling p. */
static void doorbell_wakes_poller(struct __test_metadata *_metadata,
				  FIXTURE_DATA(ev) *self, uint32_t p)
{
	struct later l = { .delay_ms = 100, .fn = do_doorbell,
			   .vcpu = self->vcpu[1], .port = p, .u64 = DB_ADDR };
	uint32_t out = 0;

	ASSERT_EQ(0, later_start(&l));
	EXPECT_EQ(1, wpoll(self->vcpu[0], &p, 1, &out));
	EXPECT_EQ(p, out);
	pthread_join(l.t, NULL);
	EXPECT_EQ(0, l.ret);
}

/* Disabled: unclaimed again; and it can be placed again, elsewhere. */
static void doorbell_disable_and_move(struct __test_metadata *_metadata,
				      FIXTURE_DATA(ev) *self, uint32_t p)
{
	int h = -1;

	ASSERT_OK(xvm_evtchn_clear(self->vm, p));
	ASSERT_OK(xvm_set_doorbell(self->vm, 0, XVM_EVTCHN_DOORBELL_DISABLE));
	ASSERT_OK(xvm_mmio_write(self->vcpu[0], DB_ADDR, 4, p, &h));
	EXPECT_EQ(0, h);
	EXPECT_FALSE(is_pending(self->vm, p));
	ASSERT_OK(xvm_set_doorbell(self->vm, DB_ADDR + 0x1000, 0));
	ASSERT_OK(xvm_mmio_write(self->vcpu[0], DB_ADDR + 0x1000, 4, p, &h));
	EXPECT_EQ(1, h);
	EXPECT_TRUE(is_pending(self->vm, p));
}

TEST_F(ev, doorbell)
{
	uint32_t p = vcpu_port(self->vm, 0), q = vcpu_port(self->vm, 1);

	ASSERT_NE(0, p);
	ASSERT_NE(0, q);
	doorbell_placed(_metadata, self, p, q);
	doorbell_other_accesses(_metadata, self, p, q);
	doorbell_masked_and_invalid(_metadata, self, p, q);
	doorbell_batch(_metadata, self, p, q);
	doorbell_wakes_poller(_metadata, self, p);
	doorbell_disable_and_move(_metadata, self, p);
}

/* A device interrupt is for this VM: an interdomain port itself goes pending. */
TEST_F(ev, doorbell_raises_interdomain_port_locally)
{
	int vm2 = xvm_create_vm(self->xvm, 0);
	uint32_t pa, pb;
	int h = -1;

	ASSERT_LE(0, vm2);
	ASSERT_OK(fixture_port_pair(vm2, self->vm, &pb, &pa));
	ASSERT_OK(xvm_set_doorbell(self->vm, DB_ADDR, 0));
	ASSERT_OK(xvm_mmio_write(self->vcpu[0], DB_ADDR, 4, pa, &h));
	EXPECT_EQ(1, h);
	EXPECT_TRUE(is_pending(self->vm, pa));
	EXPECT_FALSE(is_pending(vm2, pb));
	close(vm2);
}

TEST_F(ev, doorbell_errors)
{
	struct xvm_evtchn_doorbell db;
	int dev = -1;

	if (xvm_has_device_type(XVM_DEV_TYPE_TEST) == 0)
		SKIP(return, "xvm-testdev not loaded");
	memset(&db, 0, sizeof(db));
	db.addr = DB_ADDR + 2;
	EXPECT_ERR(ioctl(self->vm, XVM_EVTCHN_SET_DOORBELL, &db), EINVAL);
	db.addr = DB_ADDR + 1;
	EXPECT_ERR(ioctl(self->vm, XVM_EVTCHN_SET_DOORBELL, &db), EINVAL);
	db.addr = DB_ADDR;
	db.flags = 1U << 1;
	EXPECT_ERR(ioctl(self->vm, XVM_EVTCHN_SET_DOORBELL, &db), EINVAL);
	db.flags = 0;
	db.pad = 1;
	EXPECT_ERR(ioctl(self->vm, XVM_EVTCHN_SET_DOORBELL, &db), EINVAL);
	EXPECT_ERR(ioctl(self->vm, XVM_EVTCHN_SET_DOORBELL, NULL), EFAULT);
	EXPECT_ERR(ioctl(self->vm, XVM_EVTCHN_SET_DOORBELL, BAD_PTR), EFAULT);
	EXPECT_ERR(ioctl(self->vcpu[0], XVM_EVTCHN_SET_DOORBELL, &db), ENOTTY);

	/* the doorbell is a region on the bus: it conflicts like one */
	ASSERT_EQ(0, xvm_create_device(self->vm, XVM_DEV_TYPE_TEST, 0, &dev));
	ASSERT_OK(xvm_testdev_add_region(dev, 0, REG_BASE, 0x1000));
	EXPECT_ERR(xvm_set_doorbell(self->vm, REG_BASE + 0x10, 0), EEXIST);
	ASSERT_OK(xvm_set_doorbell(self->vm, DB_ADDR, 0));
	EXPECT_ERR(xvm_testdev_add_region(dev, 1, DB_ADDR, 8), EEXIST);

	/* a move that fails leaves the doorbell where it was, working */
	EXPECT_ERR(xvm_set_doorbell(self->vm, REG_BASE + 0x10, 0), EEXIST);
	{
		uint32_t port, status = 0;
		int handled = 0;

		ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &port));
		EXPECT_OK(xvm_mmio_write(self->vcpu[0], DB_ADDR, 4, port,
					 &handled));
		EXPECT_EQ(1, handled);
		EXPECT_OK(xvm_evtchn_status(self->vm, port, NULL, &status));
		EXPECT_TRUE(status & XVM_EVTCHN_STATUS_PENDING);
	}

	EXPECT_ERR(xvm_testdev_add_region(dev, 1, DB_ADDR - 0x100, 0x1000), EEXIST);
	EXPECT_OK(xvm_testdev_add_region(dev, 1, DB_ADDR + 8, 8));
	close(dev);
}

/* ------------------------------------------------------------------ */
/* vCPU fd readiness                                                   */

TEST_F(ev, vcpu_fd_epoll)
{
	uint32_t p0 = vcpu_port(self->vm, 0), p1 = vcpu_port(self->vm, 1);
	struct epoll_event ev = { .events = EPOLLIN }, got;
	struct pollfd pfd = { .fd = self->vcpu[0], .events = POLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_NE(0, p0);
	ASSERT_NE(0, p1);
	ASSERT_LE(0, ep);
	ev.data.u32 = 0x1234;
	ASSERT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, self->vcpu[0], &ev));
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0));
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	/* another vCPU's port: not ours */
	ASSERT_OK(xvm_evtchn_send(self->vm, p1));
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 50));

	/* ours, pending and unmasked */
	ASSERT_OK(xvm_evtchn_send(self->vm, p0));
	ASSERT_EQ(1, epoll_wait(ep, &got, 1, 10000));
	EXPECT_TRUE(got.events & EPOLLIN);
	EXPECT_EQ(0x1234, got.data.u32);
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLIN);

	/* cleared: not ready */
	ASSERT_OK(xvm_evtchn_clear(self->vm, p0));
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0));
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	/* masked and pending: not ready; unmask makes it ready */
	ASSERT_OK(xvm_evtchn_mask(self->vm, p0));
	ASSERT_OK(xvm_evtchn_send(self->vm, p0));
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 50));
	ASSERT_OK(xvm_evtchn_unmask(self->vm, p0));
	EXPECT_EQ(1, epoll_wait(ep, &got, 1, 10000));
	ASSERT_OK(xvm_evtchn_clear(self->vm, p0));
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0));

	/* a blocked epoll_wait is woken by a send from another thread */
	{
		struct later l = { .delay_ms = 100, .fn = do_send, .vm = self->vm,
				   .port = p0 };

		ASSERT_EQ(0, later_start(&l));
		EXPECT_EQ(1, epoll_wait(ep, &got, 1, 10000));
		pthread_join(l.t, NULL);
	}
	/* vCPU 1's fd is ready for its port */
	pfd.fd = self->vcpu[1];
	EXPECT_EQ(1, poll(&pfd, 1, 10000));
	close(ep);
}

/* ------------------------------------------------------------------ */
/*
 * Stress: NSEND threads send, NPOLL threads poll, every event on its own
 * port.  Each round every port is sent exactly once; each poller waits for
 * each of its ports to be reported, CLEARs it and checks it was not reported
 * before in this round.  A lost wake-up leaves a poller asleep with a port
 * pending: its poll times out (10 s) and the test fails.
 */
#define NSEND		3
#define NPOLL		2
#define PER_POLLER	256
#define ROUNDS		20

struct stress {
	int vm;
	int vcpu[NPOLL];
	uint32_t ports[NPOLL][PER_POLLER];
	pthread_barrier_t bar;
	atomic_int abort;
	atomic_long seen, errors;
	char err[200];
};

struct stress_arg {
	struct stress *s;
	int id;
};

static void stress_err(struct stress *s, const char *fmt, long a, long b)
{
	if (atomic_fetch_add(&s->errors, 1) == 0)
		snprintf(s->err, sizeof(s->err), fmt, a, b);
	atomic_store(&s->abort, 1);
}

static void *stress_sender(void *p)
{
	struct stress_arg *a = p;
	struct stress *s = a->s;
	unsigned int seed = 7 + a->id;
	int r, i, k;

	for (r = 0; r < ROUNDS; r++) {
		for (i = a->id; i < NPOLL * PER_POLLER; i += NSEND) {
			if (atomic_load(&s->abort))
				break;
			k = i % NPOLL;
			if (xvm_evtchn_send(s->vm, s->ports[k][i / NPOLL]))
				stress_err(s, "send: errno %ld (%ld)", errno, 0);
			/* give the pollers time to fall asleep now and then */
			if ((rand_r(&seed) & 15) == 0)
				usleep(rand_r(&seed) % 200);
			else if ((rand_r(&seed) & 3) == 0)
				sched_yield();
		}
		pthread_barrier_wait(&s->bar);
	}
	return NULL;
}

static void *stress_poller(void *p)
{
	struct stress_arg *a = p;
	struct stress *s = a->s;
	uint32_t *ports = s->ports[a->id];
	uint8_t got[PER_POLLER];
	int r, n, i;

	for (r = 0; r < ROUNDS; r++) {
		memset(got, 0, sizeof(got));
		for (n = 0; n < PER_POLLER && !atomic_load(&s->abort); n++) {
			uint32_t out = 0;
			int ret = wpoll(s->vcpu[a->id], ports, PER_POLLER, &out);

			if (ret == 0 || ret == -2) {
				stress_err(s, "lost wake-up: poller %ld round %ld",
					   a->id, r);
				break;
			}
			if (ret != 1) {
				stress_err(s, "poll: %ld errno %ld", ret, errno);
				break;
			}
			for (i = 0; i < PER_POLLER && ports[i] != out; i++)
				;
			if (i == PER_POLLER) {
				stress_err(s, "poll reported unlisted port %ld (%ld)",
					   out, 0);
				break;
			}
			if (got[i]++) {
				stress_err(s, "port %ld reported twice in round %ld",
					   out, r);
				break;
			}
			if (xvm_evtchn_clear(s->vm, out))
				stress_err(s, "clear: errno %ld (%ld)", errno, 0);
			atomic_fetch_add(&s->seen, 1);
		}
		pthread_barrier_wait(&s->bar);
	}
	return NULL;
}

TEST_F_TIMEOUT(ev, stress_every_event_seen, 600)
{
	struct stress *s = calloc(1, sizeof(*s));
	struct stress_arg args[NSEND + NPOLL];
	pthread_t t[NSEND + NPOLL];
	int i, j;

	ASSERT_NE(NULL, s);
	s->vm = self->vm;
	for (i = 0; i < NPOLL; i++) {
		s->vcpu[i] = self->vcpu[i];
		for (j = 0; j < PER_POLLER; j++) {
			s->ports[i][j] = vcpu_port(self->vm, i);
			ASSERT_NE(0, s->ports[i][j]);
		}
	}
	ASSERT_EQ(0, pthread_barrier_init(&s->bar, NULL, NSEND + NPOLL));
	for (i = 0; i < NSEND + NPOLL; i++) {
		args[i].s = s;
		args[i].id = i < NSEND ? i : i - NSEND;
		ASSERT_EQ(0, pthread_create(&t[i], NULL,
					    i < NSEND ? stress_sender : stress_poller,
					    &args[i]));
	}
	for (i = 0; i < NSEND + NPOLL; i++)
		pthread_join(t[i], NULL);
	ASSERT_EQ(0, atomic_load(&s->errors)) TH_LOG("%s", s->err);
	EXPECT_EQ((long)NPOLL * PER_POLLER * ROUNDS, atomic_load(&s->seen));
	/* nothing left pending */
	for (i = 0; i < NPOLL; i++)
		for (j = 0; j < PER_POLLER; j++)
			ASSERT_FALSE(is_pending(self->vm, s->ports[i][j]));
	pthread_barrier_destroy(&s->bar);
	free(s);
}

TEST_HARNESS_MAIN
