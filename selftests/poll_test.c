// SPDX-License-Identifier: GPL-2.0
/*
 * poll_test: XVM_POLL's halt polling (XVM_CAP_HALT_POLL, XVM_ENABLE_CAP):
 * the capability's errnos, and what the spin before the sleep does - an
 * event inside the window ends the call without sleeping, masked or
 * unlisted (XVM_POLL_VCPU_EVENTS) alike, a timeout or a signal inside the
 * window ends it at its time, and the vCPU's halt_* statistics count it as
 * KVM's do.  evtchn_test runs every XVM_POLL test with polling on too.
 *
 * The window is long (1 s, fixed) where a test needs the event to come
 * inside it, and the poller and the sender run on different CPUs: a
 * sender runnable on the poller's CPU would end its spin (need_resched).
 * Timing is checked loosely (well inside the window), never for speed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "xvm_harness.h"
#include "xvm_fixture.h"
#include "libxvm.h"
#include "host/pci.h"

#define MS		1000000ULL
#define SEC		1000000000ULL
#define WINDOW		SEC		/* "the event comes inside it" */
#define PARAM		"/sys/module/xvm/parameters/halt_poll_ns"
#define TRACEFS		"/sys/kernel/tracing"

enum { SUCCESSFUL, ATTEMPTED, INVALID, WAKEUP, SUCCESS_NS, FAIL_NS, WAIT_NS,
       POLLS, NR_HALT };

static const char *const halt_names[NR_HALT] = {
	"halt_successful_poll", "halt_attempted_poll", "halt_poll_invalid",
	"halt_wakeup", "halt_poll_success_ns", "halt_poll_fail_ns",
	"halt_wait_ns", "polls",
};

struct halt_stats {
	uint64_t v[NR_HALT];
};

static int read_halt(int statsfd, struct halt_stats *s)
{
	int i;

	for (i = 0; i < NR_HALT; i++)
		if (xvm_stats_get(statsfd, halt_names[i], &s->v[i]))
			return -1;
	return 0;
}

/* b - a, statistic by statistic. */
static struct halt_stats halt_delta(const struct halt_stats *a,
				    const struct halt_stats *b)
{
	struct halt_stats d;
	int i;

	for (i = 0; i < NR_HALT; i++)
		d.v[i] = b->v[i] - a->v[i];
	return d;
}

static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static int raw_enable_cap(int fd, struct xvm_enable_cap *cap)
{
	return ioctl(fd, XVM_ENABLE_CAP, cap);
}

/*
 * On CPU 1: waits until the vCPU's polls counter passes polls0 (the poll
 * is announced and spinning), then sends port, or signals target.
 */
struct sender {
	pthread_t t;
	int vm, statsfd;
	uint32_t port;
	uint64_t polls0, delay_us;
	pthread_t target;	/* signal it instead, if set */
	atomic_int ready;	/* on CPU 1 */
	int ret, err;
};

static void *sender_thread(void *p)
{
	struct sender *s = p;
	uint64_t polls = s->polls0;

	s->ret = pin_to(1);
	atomic_store(&s->ready, 1);
	while (!s->ret && polls <= s->polls0)
		s->ret = xvm_stats_get(s->statsfd, "polls", &polls);
	if (s->delay_us)
		usleep(s->delay_us);
	if (!s->ret)
		s->ret = s->target ? pthread_kill(s->target, SIGUSR1) :
				     xvm_evtchn_send(s->vm, s->port);
	s->err = errno;
	return NULL;
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

FIXTURE(hp) {
	int xvm, vm, vcpu[2], stats;
	uint32_t port;		/* bound to vCPU 0 */
};

FIXTURE_SETUP(hp)
{
	self->vcpu[0] = self->vcpu[1] = self->stats = -1;
	ASSERT_OK(fixture_vm_open(&self->xvm, &self->vm, 0));
	ASSERT_OK(fixture_vcpus(self->vm, self->vcpu, 2));
	ASSERT_OK(fixture_vcpu_port(self->vm, 0, &self->port));
	self->stats = xvm_get_stats_fd(self->vcpu[0]);
	ASSERT_LE(0, self->stats);
}

FIXTURE_TEARDOWN(hp)
{
	close_fd(&self->stats);
	close_fd(&self->vcpu[1]);
	close_fd(&self->vcpu[0]);
	close_fd(&self->vm);
	close_fd(&self->xvm);
}

/*
 * Starts a sender for the next poll of vCPU 0, then pins the caller to
 * CPU 0 (the sender, created on the caller's CPU, has left it by then).
 * Returns 0; -1 if it could not (the test is skipped or has failed).
 */
static int start_sender(struct __test_metadata *_metadata,
			FIXTURE_DATA(hp) *self, struct sender *s, uint32_t port)
{
	struct halt_stats st;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return -1, "needs 2 CPUs: poller and sender");
	s->vm = self->vm;
	s->statsfd = self->stats;
	s->port = port;
	if (read_halt(self->stats, &st))
		return -1;
	s->polls0 = st.v[POLLS];
	if (pthread_create(&s->t, NULL, sender_thread, s))
		return -1;
	while (!atomic_load(&s->ready))
		sched_yield();
	return pin_to(0);
}

#define START_SENDER(s, port)						\
	do {								\
		if (start_sender(_metadata, self, (s), (port))) {	\
			if (!_metadata->skip)				\
				ASSERT_TRUE(0) TH_LOG("no sender");	\
			return;						\
		}							\
	} while (0)

TEST_F(hp, enable_cap_errors)
{
	struct xvm_enable_cap cap;

	EXPECT_EQ(1, xvm_check_extension(self->xvm, XVM_CAP_HALT_POLL));
	EXPECT_EQ(1, xvm_check_extension(self->vm, XVM_CAP_HALT_POLL));
	EXPECT_OK(xvm_set_halt_poll(self->vm, 0, 0));
	EXPECT_OK(xvm_set_halt_poll(self->vm, UINT32_MAX, 0));
	EXPECT_OK(xvm_set_halt_poll(self->vm, 5 * MS, XVM_HALT_POLL_FIXED));
	EXPECT_ERR(xvm_set_halt_poll(self->vm, UINT32_MAX + 1ULL, 0), EINVAL);
	EXPECT_ERR(xvm_set_halt_poll(self->vm, MS, 2), EINVAL);
	EXPECT_ERR(xvm_set_halt_poll(self->vm, MS, 1ULL << 63), EINVAL);

	memset(&cap, 0, sizeof(cap));
	EXPECT_ERR(raw_enable_cap(self->vm, &cap), EINVAL);	/* cap 0 */
	cap.cap = XVM_CAP_STATS_FD;		/* exists, cannot be enabled */
	EXPECT_ERR(raw_enable_cap(self->vm, &cap), EINVAL);
	cap.cap = 0x7fffffff;
	EXPECT_ERR(raw_enable_cap(self->vm, &cap), EINVAL);
	cap.cap = XVM_CAP_HALT_POLL;
	EXPECT_OK(raw_enable_cap(self->vm, &cap));
	cap.flags = 1;
	EXPECT_ERR(raw_enable_cap(self->vm, &cap), EINVAL);
	cap.flags = 0;
	cap.args[2] = 1;
	EXPECT_ERR(raw_enable_cap(self->vm, &cap), EINVAL);
	cap.args[2] = 0;
	cap.args[3] = 1;
	EXPECT_ERR(raw_enable_cap(self->vm, &cap), EINVAL);
	cap.args[3] = 0;
	cap.pad[63] = 1;
	EXPECT_ERR(raw_enable_cap(self->vm, &cap), EINVAL);
	cap.pad[63] = 0;
	EXPECT_ERR(ioctl(self->vm, XVM_ENABLE_CAP, (void *)1), EFAULT);
	/* a VM ioctl only */
	EXPECT_ERR(raw_enable_cap(self->xvm, &cap), ENOTTY);
	EXPECT_ERR(raw_enable_cap(self->vcpu[0], &cap), ENOTTY);
	EXPECT_OK(raw_enable_cap(self->vm, &cap));
}

/*
 * One poll of vCPU 0 on *listed, with flags, and a send of the fixture's
 * port inside the window: the poll's result in *res, its duration in *t,
 * the statistics' delta in *d.  The spin gives the CPU up when another
 * task wants it (need_resched), and the poller then sleeps and is woken,
 * which says nothing of the spin: such a try is made again, up to
 * INSIDE_TRIES times.  Returns 0; -1 without a sender (skipped or failed).
 */
#define INSIDE_TRIES	5

static int poll_inside_window(struct __test_metadata *_metadata,
			      FIXTURE_DATA(hp) *self, uint32_t *listed,
			      uint32_t flags, int *res, uint32_t *out,
			      uint64_t *t, struct halt_stats *d)
{
	struct halt_stats a, b;
	uint64_t t0;
	int i;

	for (i = 0; i < INSIDE_TRIES; i++) {
		struct sender s = { 0 };

		if (read_halt(self->stats, &a) ||
		    start_sender(_metadata, self, &s, self->port))
			return -1;
		t0 = now_ns();
		*res = xvm_poll(self->vcpu[0], listed, 1, 10 * SEC, flags, out);
		*t = now_ns() - t0;
		pthread_join(s.t, NULL);
		if (s.ret || read_halt(self->stats, &b))
			return -1;
		*d = halt_delta(&a, &b);
		if (*res != 1 || !d->v[WAKEUP])
			break;
		if (xvm_evtchn_clear(self->vm, self->port))
			return -1;
	}
	return 0;
}

#define POLL_INSIDE_WINDOW(listed, flags, res, out, t, d)		\
	do {								\
		if (poll_inside_window(_metadata, self, (listed),	\
				       (flags), (res), (out), (t), (d))) { \
			if (!_metadata->skip)				\
				ASSERT_TRUE(0) TH_LOG("no sender");	\
			return;						\
		}							\
	} while (0)

/*
 * A masked port sent while the poller spins ends the call at once, without
 * sleeping: one successful poll, spin time counted, no wake-up.
 */
TEST_F(hp, masked_event_inside_window)
{
	struct halt_stats d;
	uint32_t out = 0;
	uint64_t t;
	int res;

	ASSERT_OK(xvm_set_halt_poll(self->vm, WINDOW, XVM_HALT_POLL_FIXED));
	ASSERT_OK(xvm_evtchn_mask(self->vm, self->port));
	POLL_INSIDE_WINDOW(&self->port, 0, &res, &out, &t, &d);
	EXPECT_EQ(1, res);
	EXPECT_EQ(self->port, out);
	EXPECT_GT(WINDOW / 2, t) TH_LOG("took %llu ns", (unsigned long long)t);
	EXPECT_EQ(1, d.v[POLLS]);
	EXPECT_EQ(1, d.v[ATTEMPTED]);
	EXPECT_EQ(1, d.v[SUCCESSFUL]);
	EXPECT_EQ(0, d.v[INVALID]);
	EXPECT_LT(0, d.v[SUCCESS_NS]);
	EXPECT_EQ(0, d.v[FAIL_NS]);
	EXPECT_EQ(0, d.v[WAKEUP]);
	EXPECT_EQ(0, d.v[WAIT_NS]);
}

/* XVM_POLL_VCPU_EVENTS: an unlisted port of this vCPU, inside the window. */
TEST_F(hp, vcpu_event_inside_window)
{
	uint32_t listed = 0, out = 0;
	struct halt_stats d;
	uint64_t t;
	int res;

	ASSERT_OK(fixture_vcpu_port(self->vm, 0, &listed));
	ASSERT_OK(xvm_set_halt_poll(self->vm, WINDOW, XVM_HALT_POLL_FIXED));
	/* without the flag the unlisted port is not looked at: time out */
	ASSERT_OK(xvm_evtchn_send(self->vm, self->port));
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &listed, 1, 20 * MS, 0, &out));
	ASSERT_OK(xvm_evtchn_clear(self->vm, self->port));

	POLL_INSIDE_WINDOW(&listed, XVM_POLL_VCPU_EVENTS, &res, &out, &t, &d);
	EXPECT_EQ(1, res);
	EXPECT_EQ(self->port, out);
	EXPECT_GT(WINDOW / 2, t);
	EXPECT_EQ(1, d.v[SUCCESSFUL]);
	EXPECT_EQ(0, d.v[WAKEUP]);
}

/*
 * An event after the window: the spin fails, the poller sleeps and is
 * woken - fail time, wait time, one wake-up.  The spin lasts the whole
 * window unless another task wants the CPU (need_resched), which cuts it
 * short: such a try is made again, up to INSIDE_TRIES times, so only a
 * spin that never lasts its window fails the test.
 */
TEST_F(hp, event_after_window)
{
	struct halt_stats a, b, d;
	uint32_t out = 0;
	int i;

	ASSERT_OK(xvm_set_halt_poll(self->vm, MS, XVM_HALT_POLL_FIXED));
	for (i = 0; i < INSIDE_TRIES; i++) {
		struct sender s = { .delay_us = 100000 };

		ASSERT_OK(read_halt(self->stats, &a));
		START_SENDER(&s, self->port);
		EXPECT_EQ(1, xvm_poll(self->vcpu[0], &self->port, 1, 10 * SEC,
				      0, &out));
		pthread_join(s.t, NULL);
		ASSERT_EQ(0, s.ret);
		EXPECT_EQ(self->port, out);
		ASSERT_OK(read_halt(self->stats, &b));
		d = halt_delta(&a, &b);
		EXPECT_EQ(1, d.v[ATTEMPTED]);
		EXPECT_EQ(0, d.v[SUCCESSFUL]);
		EXPECT_EQ(0, d.v[SUCCESS_NS]);
		EXPECT_LT(0, d.v[FAIL_NS]);
		EXPECT_EQ(1, d.v[WAKEUP]);
		EXPECT_LT(0, d.v[WAIT_NS]);
		ASSERT_OK(xvm_evtchn_clear(self->vm, self->port));
		if (d.v[FAIL_NS] >= MS)
			break;
		TH_LOG("try %d: the spin lasted %llu ns of %llu", i,
		       (unsigned long long)d.v[FAIL_NS], MS);
	}
	EXPECT_LE(MS, d.v[FAIL_NS]);
}

/* Cap 0: no spin at all, whatever the module parameter says. */
TEST_F(hp, cap_zero_never_polls)
{
	struct sender s = { .delay_us = 20000 };
	struct halt_stats a, b;
	uint32_t out = 0;

	ASSERT_OK(xvm_set_halt_poll(self->vm, 0, 0));
	ASSERT_OK(read_halt(self->stats, &a));
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &self->port, 1, 10 * MS, 0, &out));
	START_SENDER(&s, self->port);
	EXPECT_EQ(1, xvm_poll(self->vcpu[0], &self->port, 1, 10 * SEC, 0, &out));
	pthread_join(s.t, NULL);
	ASSERT_EQ(0, s.ret);
	ASSERT_OK(read_halt(self->stats, &b));
	EXPECT_EQ(2, b.v[POLLS] - a.v[POLLS]);
	EXPECT_EQ(0, b.v[ATTEMPTED] - a.v[ATTEMPTED]);
	EXPECT_EQ(0, b.v[SUCCESSFUL] - a.v[SUCCESSFUL]);
	EXPECT_EQ(0, b.v[FAIL_NS] - a.v[FAIL_NS]);
	EXPECT_EQ(1, b.v[WAKEUP] - a.v[WAKEUP]);
	EXPECT_LE(10 * MS, b.v[WAIT_NS] - a.v[WAIT_NS]);
}

/*
 * Timeouts shorter than the window end the call at their deadline, not at
 * the window's end: relative and absolute.
 */
TEST_F(hp, timeout_inside_window)
{
	struct halt_stats a, b;
	uint64_t t0, t1, deadline;
	uint32_t out = 0xdead;

	ASSERT_OK(xvm_set_halt_poll(self->vm, WINDOW, XVM_HALT_POLL_FIXED));
	ASSERT_OK(read_halt(self->stats, &a));
	t0 = now_ns();
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &self->port, 1, 20 * MS, 0, &out));
	t1 = now_ns();
	EXPECT_LE(t0 + 20 * MS, t1);
	EXPECT_GT(t0 + WINDOW / 2, t1);
	deadline = now_ns() + 20 * MS;
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &self->port, 1, deadline,
			      XVM_POLL_ABSTIME, &out));
	t1 = now_ns();
	EXPECT_LE(deadline, t1);
	EXPECT_GT(deadline + WINDOW / 2, t1);
	EXPECT_EQ(0xdead, out);
	ASSERT_OK(read_halt(self->stats, &b));
	EXPECT_EQ(2, b.v[ATTEMPTED] - a.v[ATTEMPTED]);
	/*
	 * Unless another task took the CPU (need_resched ends a spin), both
	 * ended in the spin; either way no event came: each is invalid.
	 */
	EXPECT_EQ(b.v[SUCCESSFUL] - a.v[SUCCESSFUL], b.v[INVALID] - a.v[INVALID]);
}

/* A signal inside the window: EINTR at once, the deadline written back. */
TEST_F(hp, eintr_inside_window)
{
	struct sender s = { .delay_us = 20000 };
	struct xvm_poll po;
	struct sigaction sa;
	uint64_t t0, t1;
	int ret, e;

	ASSERT_OK(xvm_set_halt_poll(self->vm, WINDOW, XVM_HALT_POLL_FIXED));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	ASSERT_OK(sigaction(SIGUSR1, &sa, NULL));
	memset(&po, 0, sizeof(po));
	po.ports = (uint64_t)(uintptr_t)&self->port;
	po.nr_ports = 1;
	po.timeout_ns = 10 * SEC;
	s.target = pthread_self();
	START_SENDER(&s, 0);
	t0 = now_ns();
	ret = ioctl(self->vcpu[0], XVM_POLL, &po);
	e = errno;
	t1 = now_ns();
	pthread_join(s.t, NULL);
	ASSERT_EQ(0, s.ret);
	ASSERT_EQ(-1, ret);
	ASSERT_EQ(EINTR, e);
	EXPECT_GT(t0 + WINDOW / 2, t1);
	EXPECT_EQ(XVM_POLL_ABSTIME, po.flags);
	EXPECT_LE(t0 + 10 * SEC, po.timeout_ns);
	EXPECT_GE(t1 + 10 * SEC, po.timeout_ns);
}

/*
 * Adaptive: the window starts at 0 (no spin), grows after a short call,
 * and goes back to 0 (shrink 0) after a call longer than the maximum.
 */
TEST_F(hp, adaptive_window_grows_and_shrinks)
{
	struct halt_stats a, b;
	uint32_t out = 0;

	ASSERT_OK(xvm_set_halt_poll(self->vm, 10 * MS, 0));
	ASSERT_OK(xvm_evtchn_send(self->vm, self->port));
	ASSERT_OK(read_halt(self->stats, &a));
	EXPECT_EQ(1, xvm_poll(self->vcpu[0], &self->port, 1, SEC, 0, &out));
	ASSERT_OK(read_halt(self->stats, &b));
	EXPECT_EQ(0, b.v[ATTEMPTED] - a.v[ATTEMPTED]);	/* window 0 */
	EXPECT_EQ(1, xvm_poll(self->vcpu[0], &self->port, 1, SEC, 0, &out));
	ASSERT_OK(read_halt(self->stats, &a));
	EXPECT_EQ(1, a.v[ATTEMPTED] - b.v[ATTEMPTED]);	/* grown */
	EXPECT_EQ(1, a.v[SUCCESSFUL] - b.v[SUCCESSFUL]);
	ASSERT_OK(xvm_evtchn_clear(self->vm, self->port));
	/* 50 ms > the 10 ms maximum: shrunk to 0 */
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &self->port, 1, 50 * MS, 0, &out));
	ASSERT_OK(xvm_evtchn_send(self->vm, self->port));
	ASSERT_OK(read_halt(self->stats, &b));
	EXPECT_EQ(1, xvm_poll(self->vcpu[0], &self->port, 1, SEC, 0, &out));
	ASSERT_OK(read_halt(self->stats, &a));
	EXPECT_EQ(0, a.v[ATTEMPTED] - b.v[ATTEMPTED]);
}

static int write_param(const char *val)
{
	FILE *f = fopen(PARAM, "w");
	int r;

	if (!f)
		return -1;
	r = fputs(val, f) < 0 ? -1 : 0;
	return fclose(f) || r ? -1 : 0;
}

/*
 * The module parameter applies to a VM until its cap is set, then not:
 * with halt_poll_ns=0 a VM with the cap still polls, one without does not.
 */
TEST_F(hp, cap_overrides_module_param)
{
	char saved[32] = "";
	struct halt_stats a, b;
	uint32_t out = 0;
	FILE *f = fopen(PARAM, "r");

	if (!f || !fgets(saved, sizeof(saved), f) || write_param("0")) {
		if (f)
			fclose(f);
		SKIP(return, "cannot set %s", PARAM);
	}
	fclose(f);
	ASSERT_OK(read_halt(self->stats, &a));
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &self->port, 1, MS, 0, &out));
	ASSERT_OK(read_halt(self->stats, &b));
	EXPECT_EQ(0, b.v[ATTEMPTED] - a.v[ATTEMPTED]);
	EXPECT_OK(xvm_set_halt_poll(self->vm, WINDOW, XVM_HALT_POLL_FIXED));
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &self->port, 1, MS, 0, &out));
	ASSERT_OK(read_halt(self->stats, &a));
	EXPECT_EQ(1, a.v[ATTEMPTED] - b.v[ATTEMPTED]);
	EXPECT_OK(write_param(saved));
}

/* A tracefs instance of its own in inst, the event xvm_halt_poll_ns on. */
static int trace_instance(char *inst, size_t size)
{
	char path[256];
	struct stat st;

	if (stat(TRACEFS "/instances", &st) &&
	    mount("nodev", TRACEFS, "tracefs", 0, NULL))
		return -1;
	snprintf(inst, size, TRACEFS "/instances/xvm_poll_test.%d", getpid());
	if (mkdir(inst, 0700))
		return -1;
	snprintf(path, sizeof(path), "%s/events/xvm/xvm_halt_poll_ns/enable",
		 inst);
	return sysfs_write(path, "1");
}

/*
 * xvm:xvm_halt_poll_ns reports each change of the window: 0 -> 10 us
 * after a short call (grow), back to 0 after one longer than the maximum
 * (shrink), as KVM's kvm_halt_poll_ns.
 */
TEST_F(hp, trace_halt_poll_ns)
{
	static char buf[1 << 16];
	char inst[128], path[256];
	uint32_t out = 0;
	ssize_t n;
	int fd;

	if (trace_instance(inst, sizeof(inst)))
		SKIP(return, "no tracefs instance: %s", strerror(errno));
	ASSERT_OK(xvm_set_halt_poll(self->vm, 10 * MS, 0));
	ASSERT_OK(xvm_evtchn_send(self->vm, self->port));
	EXPECT_EQ(1, xvm_poll(self->vcpu[0], &self->port, 1, SEC, 0, &out));
	ASSERT_OK(xvm_evtchn_clear(self->vm, self->port));
	EXPECT_EQ(0, xvm_poll(self->vcpu[0], &self->port, 1, 50 * MS, 0, &out));
	snprintf(path, sizeof(path), "%s/trace", inst);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_LT(0, n);
	buf[n] = 0;
	EXPECT_NE(NULL, strstr(buf, "vcpu 0 halt_poll_ns 10000 (grow 0)"))
		TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "vcpu 0 halt_poll_ns 0 (shrink 10000)"))
		TH_LOG("%s", buf);
	snprintf(path, sizeof(path), "%s/events/xvm/xvm_halt_poll_ns/enable",
		 inst);
	EXPECT_OK(sysfs_write(path, "0"));
	EXPECT_OK(rmdir(inst));
}

TEST_HARNESS_MAIN
