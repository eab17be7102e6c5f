// SPDX-License-Identifier: GPL-2.0
/*
 * Wake-up latency: from a send in one thread to the return of the wait
 * in another (before the waiter consumes the event), for
 *   - XVM_POLL on 1 port and on 128 ports (the sent port listed last),
 *   - poll() on an eventfd after write(),
 *   - a futex wait after FUTEX_WAKE.
 * Each mechanism runs the same ping-pong; the reported figure is the
 * waiter's return time minus the sender's timestamp just before the send.
 * The sender runs on CPU 0 and the waiter on CPU 1 (when there are two),
 * so every figure is the same cross-CPU wake-up.  The mechanisms take
 * turns wake-up by wake-up, the order rotating every round (mech_at()),
 * so that load on the host weighs on all of them alike.  Medians and p99
 * over ROUNDS wake-ups, and the ratios the issue asks for.
 *
 * Then the isolation of one VM's control path from another's: the latency
 * of an alloc+close of a port on VM B, while a thread on VM A churns a
 * NOTIFY eventfd (assign, deassign) and moves its doorbell, against the
 * same on an idle VM A.  Idle and churn blocks alternate in one run, so
 * both see the same host; mean and max of each, and their ratio.
 *
 * Then a scaling curve: the cost of a send on the newest of N ports, N from
 * 1 to every port of a VM.
 *
 * Last, halt polling (XVM_CAP_HALT_POLL): the same send -> return latency
 * with polling off, fixed and adaptive (a VM each per scenario, the
 * window HP_WINDOW), next to eventfd + poll(), in two scenarios: the event
 * comes inside the window (the sender sends HP_IN_DELAY after the waiter
 * said it is about to wait) or well after it (HP_OUT_DELAY).  Inside the
 * window the four take turns in blocks, as above; outside it, where the
 * wake-up of an idle CPU makes the latency and the host's load moves it
 * from one half second to the next, they take turns wake-up by wake-up.  With each, the waiter's CPU time per wake-up
 * (CLOCK_THREAD_CPUTIME_ID) and the spin time per wake-up (the vCPU's
 * halt_poll_success_ns + halt_poll_fail_ns): what the latency costs.
 * Then three curves, adaptive and inside the window: N ports listed (the
 * sent one last, N up to XVM_POLL_MAX_PORTS), N vCPUs in the VM (the
 * poller the last of them), and the port number N of the one port listed
 * (N up to XVM_EVTCHN_MAX_PORTS - 1).
 *
 * Every figure is also printed as an XVM-BENCH record (bench.h), with the
 * samples of XVM_POLL, 1 port and its anchor.
 *
 *   evtchn_bench [-s wcshpo]	(only the sections named; see main())
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "libxvm.h"
#include "bench.h"
#include "xvm_fixture.h"

#define ROUNDS		2000
#define MAX_PORTS	128
#define CTL_BLOCKS	10
#define CTL_PER_BLOCK	200
#define CTL_DB_ADDR	0x40000000ULL
#define SEND_RUNS	5
#define SEND_PER_RUN	500
/*
 * Halt polling: a window of 500 us (the guest's wake-ups take tens of
 * microseconds under TCG), an event 50 us after the waiter is ready, or
 * 5 ms after (ten windows).
 */
#define HP_WINDOW	500000ULL
#define HP_IN_DELAY	50000ULL
#define HP_OUT_DELAY	5000000ULL
#define HP_BLOCKS	5
#define HP_IN_PER_BLOCK	80
#define HP_OUT_PER_BLOCK 60
#define HP_CURVE_ROUNDS	100		/* HP_BLOCKS blocks */
#define XVM_MAX_VCPUS_BENCH 1024	/* XVM_CAP_MAX_VCPUS */

enum mech { M_POLL_1, M_POLL_128, M_EVENTFD, M_FUTEX, NR_MECH };

static const char *const mech_name[NR_MECH] = {
	"XVM_POLL, 1 port", "XVM_POLL, 128 ports", "eventfd write -> poll()",
	"futex wake",
};

struct bench {
	int vmfd, vcpufd, efd, efd2;
	uint32_t ports[MAX_PORTS];
	_Atomic uint32_t futex_word;
	_Atomic uint64_t sent_ns;	/* the sender's clock at the send */
	_Atomic int ready;		/* the waiter is about to wait */
	uint64_t (*lat)[ROUNDS];	/* per mechanism, the samples */
};

/*
 * Waits for one wake-up and returns the time the wait returned; the event
 * is consumed (port cleared, eventfd read) after that, outside the figure.
 */
static uint64_t waiter_wait(struct bench *b, enum mech m)
{
	struct pollfd pfd = { .fd = b->efd, .events = POLLIN };
	uint32_t port = 0;
	uint64_t t, cnt;
	int r = -1;

	switch (m) {
	case M_POLL_1:
		r = xvm_poll(b->vcpufd, &b->ports[MAX_PORTS - 1], 1, 0, 0,
			     &port);
		break;
	case M_POLL_128:
		r = xvm_poll(b->vcpufd, b->ports, MAX_PORTS, 0, 0, &port);
		break;
	case M_EVENTFD:
		r = poll(&pfd, 1, -1);
		break;
	case M_FUTEX:
		while (!atomic_load(&b->futex_word))
			syscall(SYS_futex, &b->futex_word, FUTEX_WAIT_PRIVATE,
				0, NULL, NULL, 0);
		r = 1;
		break;
	default:
		break;
	}
	t = now_ns();
	if (r != 1)
		abort();

	switch (m) {
	case M_POLL_1:
	case M_POLL_128:
		xvm_evtchn_clear(b->vmfd, port);
		break;
	case M_EVENTFD:
		if (read(b->efd, &cnt, 8) != 8)
			abort();
		break;
	default:
		atomic_store(&b->futex_word, 0);
		break;
	}
	return t;
}

static void sender_send(struct bench *b, enum mech m)
{
	uint64_t one = 1;

	switch (m) {
	case M_POLL_1:
	case M_POLL_128:
		xvm_evtchn_send(b->vmfd, b->ports[MAX_PORTS - 1]);
		break;
	case M_EVENTFD:
		if (write(b->efd, &one, 8) != 8)
			abort();
		break;
	case M_FUTEX:
		atomic_store(&b->futex_word, 1);
		syscall(SYS_futex, &b->futex_word, FUTEX_WAKE_PRIVATE, 1,
			NULL, NULL, 0);
		break;
	default:
		abort();
	}
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);	/* best effort */
}

/*
 * The mechanism of the i-th wake-up: they take turns wake-up by wake-up,
 * the order rotating every round (no mechanism always follows the same
 * other), so that the host's load, which moves from one half second to
 * the next under TCG, weighs on all of them alike.
 */
static enum mech mech_at(int i)
{
	return (i + i / NR_MECH) % NR_MECH;
}

static void *waiter(void *arg)
{
	struct bench *b = arg;
	int i, n[NR_MECH] = { 0 };
	enum mech m;

	pin_to_cpu(1);
	for (i = 0; i < NR_MECH * ROUNDS; i++) {
		m = mech_at(i);
		atomic_store(&b->ready, 1);
		b->lat[m][n[m]++] = waiter_wait(b, m) -
				    atomic_load(&b->sent_ns);
	}
	return NULL;
}

/* ROUNDS wake-ups of each mechanism, taking turns, into lat. */
static void run_wakeups(struct bench *b, uint64_t lat[NR_MECH][ROUNDS])
{
	struct timespec pause = { 0, 200000 };	/* let the waiter sleep */
	pthread_t t;
	int i;

	b->lat = lat;
	atomic_store(&b->ready, 0);
	pthread_create(&t, NULL, waiter, b);
	for (i = 0; i < NR_MECH * ROUNDS; i++) {
		while (!atomic_exchange(&b->ready, 0))
			sched_yield();
		nanosleep(&pause, NULL);
		atomic_store(&b->sent_ns, now_ns());
		sender_send(b, mech_at(i));
	}
	pthread_join(t, NULL);
}

/* VM A's churn: NOTIFY eventfd assign/deassign and doorbell moves. */
struct churn {
	int vmfd, efd;
	uint32_t port;
	_Atomic int run;	/* 1: churn, 0: pause, -1: exit */
	_Atomic int paused;	/* the thread is between two rounds */
	unsigned long rounds;
};

static void churn_round(struct churn *c, unsigned long i)
{
	if (xvm_evtchn_eventfd(c->vmfd, c->port, c->efd,
			       XVM_EVTCHN_EVENTFD_NOTIFY))
		die("churn: NOTIFY assign");
	if (xvm_evtchn_eventfd(c->vmfd, c->port, c->efd,
			       XVM_EVTCHN_EVENTFD_NOTIFY |
			       XVM_EVTCHN_EVENTFD_DEASSIGN))
		die("churn: NOTIFY deassign");
	if (xvm_set_doorbell(c->vmfd, CTL_DB_ADDR + 4 * (i & 1), 0))
		die("churn: SET_DOORBELL");
}

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	int run;

	pin_to_cpu(1);
	while ((run = atomic_load(&c->run)) >= 0) {
		if (!run) {
			atomic_store(&c->paused, 1);
			usleep(100);
			continue;
		}
		atomic_store(&c->paused, 0);
		churn_round(c, c->rounds++);
	}
	return NULL;
}

struct ctl_stats {
	uint64_t sum, max;
	int n;
};

/* One block of CTL_PER_BLOCK alloc+close on vmfd, into st. */
static void ctl_block(int vmfd, struct ctl_stats *st)
{
	uint64_t t0, d;
	uint32_t port;
	int i;

	for (i = 0; i < CTL_PER_BLOCK; i++) {
		t0 = now_ns();
		if (xvm_evtchn_alloc_unbound(vmfd, &port) ||
		    xvm_evtchn_close(vmfd, port))
			die("VM B: alloc+close");
		d = now_ns() - t0;
		st->sum += d;
		st->n++;
		if (d > st->max)
			st->max = d;
	}
}

static void ctl_set_churn(struct churn *c, int run)
{
	atomic_store(&c->run, run);
	if (!run)		/* an idle block starts with A idle */
		while (!atomic_load(&c->paused))
			sched_yield();
	else			/* a churn block starts with A churning */
		while (atomic_load(&c->paused))
			sched_yield();
}

static void control_isolation(int xvm)
{
	struct ctl_stats idle = { 0 }, busy = { 0 };
	static struct churn c;
	double mi, mb, ratio;
	pthread_t t;
	int vmb, blk;

	c.vmfd = xvm_create_vm(xvm, 0);
	vmb = xvm_create_vm(xvm, 0);
	c.efd = eventfd(0, EFD_CLOEXEC);
	if (c.vmfd < 0 || vmb < 0 || c.efd < 0)
		die("control: setup");
	if (xvm_evtchn_alloc_unbound(c.vmfd, &c.port))
		die("control: VM A port");
	atomic_store(&c.run, 0);
	pthread_create(&t, NULL, churn_thread, &c);
	pin_to_cpu(0);
	for (blk = 0; blk < 2 * CTL_BLOCKS; blk++) {
		ctl_set_churn(&c, blk & 1);
		ctl_block(vmb, blk & 1 ? &busy : &idle);
	}
	atomic_store(&c.run, -1);
	pthread_join(t, NULL);

	mi = (double)idle.sum / idle.n;
	mb = (double)busy.sum / busy.n;
	ratio = mb / mi;
	printf("evtchn_bench: VM B alloc+close, %d each, VM A idle or churning\n",
	       CTL_BLOCKS * CTL_PER_BLOCK);
	printf("  (%lu churn rounds: NOTIFY assign+deassign, doorbell move)\n",
	       c.rounds);
	printf("  %-26s mean %9.0f ns   max %9llu ns\n", "VM A idle", mi,
	       (unsigned long long)idle.max);
	printf("  %-26s mean %9.0f ns   max %9llu ns\n", "VM A churning", mb,
	       (unsigned long long)busy.max);
	printf("  ratio churning / idle (mean): %.2f (goal <= 1.5: %s)\n",
	       ratio, ratio <= 1.5 ? "met" : "not met");
	bench_record(&(struct bench_row){
		.row = "VM B alloc+close (mean), VM A churning", .unit = "ns",
		.median = mb, .ratio = ratio,
		.anchor = "VM B alloc+close (mean), VM A idle",
		.goal = "<= 1.5", .met = ratio <= 1.5,
	});
	close(c.efd);
	close(vmb);
	close(c.vmfd);
}

/* The wake-up rows: text, then their records and the hot rows' samples. */
static void report_wakeups(uint64_t lat[NR_MECH][ROUNDS])
{
	uint64_t median[NR_MECH], p99[NR_MECH];
	double r_efd, r_futex, r_128;
	int i;

	for (i = 0; i < NR_MECH; i++) {
		sort_u64(lat[i], ROUNDS);
		median[i] = percentile_u64(lat[i], ROUNDS, 50);
		p99[i] = percentile_u64(lat[i], ROUNDS, 99);
		printf("  %-26s median %7llu ns   p99 %8llu ns\n",
		       mech_name[i], (unsigned long long)median[i],
		       (unsigned long long)p99[i]);
	}
	r_efd = (double)median[M_POLL_1] / median[M_EVENTFD];
	r_futex = (double)median[M_POLL_1] / median[M_FUTEX];
	r_128 = (double)median[M_POLL_128] / median[M_POLL_1];
	printf("  ratio XVM_POLL / eventfd (median): %.2f (goal <= 1.0)\n", r_efd);
	printf("  ratio XVM_POLL / futex (median):   %.2f\n", r_futex);
	printf("  ratio 128 ports / 1 port (median): %.2f (goal <= 1.2)\n", r_128);

	bench_record(&(struct bench_row){
		.row = mech_name[M_POLL_1], .unit = "ns",
		.median = median[M_POLL_1], .p99 = p99[M_POLL_1],
		.ratio = r_efd, .anchor = mech_name[M_EVENTFD],
		.goal = "<= 1.0", .met = r_efd <= 1.0,
	});
	bench_record(&(struct bench_row){
		.row = mech_name[M_POLL_128], .unit = "ns",
		.median = median[M_POLL_128], .p99 = p99[M_POLL_128],
		.ratio = r_128, .anchor = mech_name[M_POLL_1],
		.goal = "<= 1.2", .met = r_128 <= 1.2,
	});
	for (i = M_EVENTFD; i < NR_MECH; i++)
		bench_record(&(struct bench_row){
			.row = mech_name[i], .unit = "ns",
			.median = median[i], .p99 = p99[i],
		});
	bench_samples(mech_name[M_POLL_1], "ns", lat[M_POLL_1], ROUNDS);
	bench_samples(mech_name[M_EVENTFD], "ns", lat[M_EVENTFD], ROUNDS);
}

/* One median of SEND_RUNS runs of SEND_PER_RUN send+clear on port. */
static double send_cost(int vmfd, uint32_t port)
{
	double run_ns[SEND_RUNS];
	uint64_t t0;
	int r, i;

	for (r = 0; r < SEND_RUNS; r++) {
		t0 = now_ns();
		for (i = 0; i < SEND_PER_RUN; i++)
			if (xvm_evtchn_send(vmfd, port) ||
			    xvm_evtchn_clear(vmfd, port))
				die("sweep: send+clear");
		run_ns[r] = (double)(now_ns() - t0) / SEND_PER_RUN;
	}
	return median_double(run_ns, SEND_RUNS);
}

/*
 * The send scaling curve: ns per XVM_EVTCHN_SEND (+ CLEAR, to re-arm) on the
 * newest of N allocated ports, N from 1 to XVM_EVTCHN_MAX_PORTS - 1 (every
 * port of a VM), in a fresh VM.  Goal: flat (N ports / 1 port <= 1.2).
 */
static void send_sweep(int xvm)
{
	static const int points[] = { 1, 16, 256, 1024, XVM_EVTCHN_MAX_PORTS - 1 };
	double y, y1 = 0;
	uint32_t port;
	int vm, n = 0, k;

	vm = xvm_create_vm(xvm, 0);
	if (vm < 0)
		die("sweep: XVM_CREATE_VM");
	printf("evtchn_bench: send + clear on the newest of N ports (median of %d x %d)\n",
	       SEND_RUNS, SEND_PER_RUN);
	for (k = 0; k < (int)(sizeof(points) / sizeof(points[0])); k++) {
		for (; n < points[k]; n++)
			if (xvm_evtchn_alloc_unbound(vm, &port))
				die("sweep: XVM_EVTCHN_ALLOC_UNBOUND");
		if (!k)		/* a warm-up run, discarded: cold code */
			send_cost(vm, port);
		y = send_cost(vm, port);
		if (!k)
			y1 = y;
		printf("  %5d ports %9.0f ns\n", n, y);
		bench_point("XVM_EVTCHN_SEND + CLEAR", "ports", n, "ns", y);
	}
	printf("  ratio %d ports / 1 port: %.2f (goal <= 1.2: %s)\n", n, y / y1,
	       y / y1 <= 1.2 ? "met" : "not met");
	bench_record(&(struct bench_row){
		.row = "send, 4095 ports", .unit = "ns", .median = y,
		.ratio = y / y1, .anchor = "send, 1 port",
		.goal = "<= 1.2", .met = y / y1 <= 1.2,
	});
	close(vm);
}

/* The calls without a sleep ---------------------------------------------- */

#define OH_TURNS	40
#define OH_PER_TURN	256

enum oh_op { OH_POLL, OH_EPOLL, OH_SEND, OH_EWRITE, NR_OH };

static const char *const oh_name[NR_OH] = {
	"XVM_POLL, 1 port, already pending", "poll(), eventfd already readable",
	"XVM_EVTCHN_SEND + CLEAR", "eventfd write + read",
};

/* One call of op (two for a send or a write: the event is re-armed). */
static void oh_call(struct bench *b, enum oh_op op)
{
	struct pollfd pfd = { .fd = b->efd, .events = POLLIN };
	uint32_t port = b->ports[0], got;
	uint64_t one = 1, cnt;

	switch (op) {
	case OH_POLL:
		if (xvm_poll(b->vcpufd, &port, 1, 0, 0, &got) != 1)
			die("overhead: XVM_POLL");
		break;
	case OH_EPOLL:
		if (poll(&pfd, 1, -1) != 1)
			die("overhead: poll()");
		break;
	case OH_SEND:
		if (xvm_evtchn_send(b->vmfd, b->ports[1]) ||
		    xvm_evtchn_clear(b->vmfd, b->ports[1]))
			die("overhead: send + clear");
		break;
	default:	/* not b->efd: it stays readable for OH_EPOLL */
		if (write(b->efd2, &one, 8) != 8 ||
		    read(b->efd2, &cnt, 8) != 8)
			die("overhead: write + read");
		break;
	}
}

/*
 * What the wake-up rows' calls cost when nothing sleeps, in one thread:
 * the waiter's (XVM_POLL on a pending port, poll() on a readable eventfd)
 * and the sender's, the ops taking turns of OH_PER_TURN calls.  The part
 * of a wake-up that is the mechanism's own code, not the scheduler's.
 */
static void overhead(struct bench *b)
{
	static double turn_ns[NR_OH][OH_TURNS];
	uint64_t one = 1, t0, cnt;
	int t, op, i;

	if (xvm_evtchn_send(b->vmfd, b->ports[0]) || write(b->efd, &one, 8) != 8)
		die("overhead: arm");
	for (t = 0; t < OH_TURNS; t++)
		for (op = 0; op < NR_OH; op++) {
			t0 = now_ns();
			for (i = 0; i < OH_PER_TURN; i++)
				oh_call(b, op);
			turn_ns[op][t] = (double)(now_ns() - t0) / OH_PER_TURN;
		}
	if (xvm_evtchn_clear(b->vmfd, b->ports[0]) || read(b->efd, &cnt, 8) != 8)
		die("overhead: disarm");
	printf("evtchn_bench: the calls without a sleep (median of %d turns of %d)\n",
	       OH_TURNS, OH_PER_TURN);
	for (op = 0; op < NR_OH; op++) {
		double m = median_double(turn_ns[op], OH_TURNS);

		printf("  %-36s %7.0f ns\n", oh_name[op], m);
		bench_record(&(struct bench_row){
			.row = oh_name[op], .unit = "ns", .median = m,
		});
	}
}

/* Halt polling ---------------------------------------------------------- */

enum hp_mode { HP_OFF, HP_FIXED, HP_ADAPTIVE, HP_EVENTFD, NR_HP };
enum hp_scen { HP_IN, HP_OUT, NR_SCEN };

static const char *const hp_mode_name[NR_HP] = {
	"XVM_POLL, polling off", "XVM_POLL, fixed window",
	"XVM_POLL, adaptive", "eventfd write -> poll()",
};

static const char *const hp_scen_name[NR_SCEN] = {
	"inside the window", "outside the window",
};

#define HP_MAX_SAMPLES	(HP_BLOCKS * HP_IN_PER_BLOCK)

/* What one waiter waits on: ports of its vCPU, or an eventfd (efd >= 0). */
struct hp_waiter {
	int vmfd, vcpufd, statsfd, efd;
	uint32_t nr_ports;		/* the sent one is the last */
	uint32_t ports[XVM_POLL_MAX_PORTS];
};

struct hp_run {
	struct hp_waiter *w;
	uint64_t *lat;
	int n;
	_Atomic int ready;		/* the waiter is about to wait */
	_Atomic uint64_t sent_ns;
	uint64_t cpu_ns;		/* the waiter thread's, over the run */
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Waits; returns when the wait returned, then consumes the event. */
static uint64_t hp_wait(struct hp_waiter *w)
{
	struct pollfd pfd = { .fd = w->efd, .events = POLLIN };
	uint32_t port = 0;
	uint64_t t, cnt;
	int r;

	if (w->efd >= 0)
		r = poll(&pfd, 1, -1);
	else
		r = xvm_poll(w->vcpufd, w->ports, w->nr_ports, 0, 0, &port);
	t = now_ns();
	if (r != 1)
		abort();
	if (w->efd >= 0 ? read(w->efd, &cnt, 8) != 8 :
			  xvm_evtchn_clear(w->vmfd, port) != 0)
		abort();
	return t;
}

static void *hp_waiter_thread(void *arg)
{
	struct hp_run *r = arg;
	uint64_t c0;
	int i;

	pin_to_cpu(1);
	c0 = thread_cpu_ns();
	for (i = 0; i < r->n; i++) {
		atomic_store(&r->ready, 1);
		r->lat[i] = hp_wait(r->w) - atomic_load(&r->sent_ns);
	}
	r->cpu_ns = thread_cpu_ns() - c0;
	return NULL;
}

static void hp_send(struct hp_waiter *w)
{
	uint64_t one = 1;

	if (w->efd >= 0 ? write(w->efd, &one, 8) != 8 :
			  xvm_evtchn_send(w->vmfd, w->ports[w->nr_ports - 1]) != 0)
		die("halt poll: send");
}

/* delay ns from t0: spinning for a short one (a sleep would add its own). */
static void hp_delay(uint64_t t0, uint64_t delay)
{
	struct timespec ts = { 0, (long)delay };

	if (delay >= 1000000) {
		nanosleep(&ts, NULL);
		return;
	}
	while (now_ns() - t0 < delay)
		;
}

/* n wake-ups, each delay after the waiter is ready; its CPU ns. */
static uint64_t hp_block(struct hp_waiter *w, uint64_t delay, uint64_t *lat,
			 int n)
{
	static struct hp_run r;
	pthread_t t;
	int i;

	r = (struct hp_run){ .w = w, .lat = lat, .n = n };
	if (pthread_create(&t, NULL, hp_waiter_thread, &r))
		die("halt poll: pthread_create");
	for (i = 0; i < n; i++) {
		while (!atomic_exchange(&r.ready, 0))
			sched_yield();
		hp_delay(now_ns(), delay);
		atomic_store(&r.sent_ns, now_ns());
		hp_send(w);
	}
	pthread_join(t, NULL);
	return r.cpu_ns;
}

/*
 * n wake-ups of each of the NR_HP waiters of w, all waiting at once and
 * woken in turn, one after the other, each delay after the previous
 * wake-up's waiter is ready again: the modes share the host's load from
 * one wake-up to the next rather than from one block to the next.  Only
 * for a delay longer than the window: a waiter spinning after its own
 * wake-up would otherwise meet the next waiter's.  Adds CPU ns to cpu[].
 */
static void hp_turns(struct hp_waiter *w, uint64_t delay,
		     uint64_t (*lat)[HP_MAX_SAMPLES], int first, int n,
		     uint64_t *cpu)
{
	static struct hp_run r[NR_HP];
	pthread_t t[NR_HP];
	int i, k, m;

	for (m = 0; m < NR_HP; m++) {
		r[m] = (struct hp_run){ .w = &w[m], .lat = &lat[m][first], .n = n };
		if (pthread_create(&t[m], NULL, hp_waiter_thread, &r[m]))
			die("halt poll: pthread_create");
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < NR_HP; k++) {
			m = (i + k) % NR_HP;
			while (!atomic_exchange(&r[m].ready, 0))
				sched_yield();
			hp_delay(now_ns(), delay);
			atomic_store(&r[m].sent_ns, now_ns());
			hp_send(&w[m]);
		}
	for (m = 0; m < NR_HP; m++) {
		pthread_join(t[m], NULL);
		cpu[m] += r[m].cpu_ns;
	}
}

/* The vCPU's time spent spinning so far (0 for an eventfd). */
static uint64_t hp_spin_ns(struct hp_waiter *w)
{
	uint64_t ok = 0, fail = 0;

	if (w->efd >= 0)
		return 0;
	if (xvm_stats_get(w->statsfd, "halt_poll_success_ns", &ok) ||
	    xvm_stats_get(w->statsfd, "halt_poll_fail_ns", &fail))
		die("halt poll: stats");
	return ok + fail;
}

/*
 * A VM with nr_vcpus vCPUs and halt polling max_ns / mode; the waiter is
 * its last vCPU, listing nr_ports ports, the last bound to that vCPU.
 * The other vCPU fds are closed at once: the VM keeps its vCPUs.  With
 * unlisted, that many ports are allocated first and never listed, so the
 * listed ones have the port numbers above them.
 */
static void hp_waiter_vm(struct hp_waiter *w, int xvm, uint64_t max_ns,
			 uint64_t mode, int nr_vcpus, uint32_t nr_ports,
			 uint32_t unlisted)
{
	static uint32_t scratch[XVM_EVTCHN_MAX_PORTS];
	int i, fd;

	w->efd = -1;
	w->nr_ports = nr_ports;
	w->vmfd = xvm_create_vm(xvm, 0);
	if (w->vmfd < 0 || xvm_set_halt_poll(w->vmfd, max_ns, mode))
		die("halt poll: VM");
	for (i = 0; i < nr_vcpus; i++) {
		fd = xvm_create_vcpu(w->vmfd, i);
		if (fd < 0)
			die("halt poll: XVM_CREATE_VCPU");
		if (i < nr_vcpus - 1)
			close(fd);
		else
			w->vcpufd = fd;
	}
	if (fixture_ports(w->vmfd, scratch, unlisted) ||
	    fixture_ports(w->vmfd, w->ports, nr_ports - 1) ||
	    fixture_vcpu_port(w->vmfd, nr_vcpus - 1, &w->ports[nr_ports - 1]))
		die("halt poll: ports");
	w->statsfd = xvm_get_stats_fd(w->vcpufd);
	if (w->statsfd < 0)
		die("halt poll: XVM_GET_STATS_FD");
}

static void hp_waiter_close(struct hp_waiter *w)
{
	if (w->efd >= 0) {
		close(w->efd);
		return;
	}
	close(w->statsfd);
	close(w->vcpufd);
	close(w->vmfd);
}

struct hp_results {
	uint64_t lat[NR_SCEN][NR_HP][HP_MAX_SAMPLES];
	uint64_t cpu[NR_SCEN][NR_HP], spin[NR_SCEN][NR_HP];
	uint64_t median[NR_SCEN][NR_HP], p99[NR_SCEN][NR_HP];
};

static const int hp_per_block[NR_SCEN] = { HP_IN_PER_BLOCK, HP_OUT_PER_BLOCK };

/* One scenario's rows: latency, CPU and spin per wake-up, ratios. */
static void hp_report_scen(struct hp_results *res, enum hp_scen sc)
{
	static const char *const path[NR_SCEN] = { "poll-wake", "poll-wake-outside" };
	static const char *const goal[NR_SCEN] = { "<= 0.5", "<= 1.0" };
	int n = HP_BLOCKS * hp_per_block[sc], m;
	char row[96], anchor[96];
	double ratio;

	printf("  event %s (%llu us after the waiter is ready), %d each:\n",
	       hp_scen_name[sc], (unsigned long long)(sc == HP_IN ?
			HP_IN_DELAY : HP_OUT_DELAY) / 1000, n);
	snprintf(anchor, sizeof(anchor), "%s, %s", hp_mode_name[HP_EVENTFD],
		 hp_scen_name[sc]);
	for (m = 0; m < NR_HP; m++) {
		sort_u64(res->lat[sc][m], n);
		res->median[sc][m] = percentile_u64(res->lat[sc][m], n, 50);
		res->p99[sc][m] = percentile_u64(res->lat[sc][m], n, 99);
	}
	for (m = 0; m < NR_HP; m++) {
		ratio = (double)res->median[sc][m] / res->median[sc][HP_EVENTFD];
		printf("    %-26s median %7llu ns  p99 %8llu ns  x%.2f  cpu %6.1f us  spin %6.1f us /wake\n",
		       hp_mode_name[m], (unsigned long long)res->median[sc][m],
		       (unsigned long long)res->p99[sc][m], ratio,
		       res->cpu[sc][m] / 1e3 / n, res->spin[sc][m] / 1e3 / n);
		snprintf(row, sizeof(row), "%s, %s", hp_mode_name[m],
			 hp_scen_name[sc]);
		bench_record(&(struct bench_row){
			.row = row, .unit = "ns", .median = res->median[sc][m],
			.p99 = res->p99[sc][m],
			.ratio = m == HP_EVENTFD ? 0 : ratio,
			.anchor = m == HP_EVENTFD ? NULL : anchor,
			.goal = m == HP_ADAPTIVE ? goal[sc] : NULL,
			.met = ratio <= (sc == HP_IN ? 0.5 : 1.0),
			.path = m == HP_ADAPTIVE ? path[sc] : NULL,
		});
		snprintf(row, sizeof(row), "%s, %s, CPU per wake-up",
			 hp_mode_name[m], hp_scen_name[sc]);
		bench_record(&(struct bench_row){
			.row = row, .unit = "ns",
			.median = (double)res->cpu[sc][m] / n,
		});
	}
	ratio = (double)res->median[sc][HP_ADAPTIVE] / res->median[sc][HP_EVENTFD];
	printf("    ratio adaptive / eventfd (median): %.2f (goal %s: %s)\n",
	       ratio, goal[sc], ratio <= (sc == HP_IN ? 0.5 : 1.0) ?
	       "met" : "not met");
}

/*
 * Off, fixed, adaptive and eventfd take turns, inside and outside the
 * window, in HP_BLOCKS blocks.  Each (scenario, mode) has its own VM, so
 * an adaptive window carries over from one block of its scenario to the
 * next, as in a steady workload, and never from the other scenario's.
 */
static void hp_waiters_open(struct hp_waiter *w, int xvm)
{
	hp_waiter_vm(&w[HP_OFF], xvm, 0, 0, 1, 1, 0);
	hp_waiter_vm(&w[HP_FIXED], xvm, HP_WINDOW, XVM_HALT_POLL_FIXED, 1, 1, 0);
	hp_waiter_vm(&w[HP_ADAPTIVE], xvm, HP_WINDOW, 0, 1, 1, 0);
	w[HP_EVENTFD].efd = eventfd(0, EFD_CLOEXEC);
	if (w[HP_EVENTFD].efd < 0)
		die("halt poll: eventfd");
}

static void halt_poll_bench(int xvm)
{
	static const uint64_t delay[NR_SCEN] = { HP_IN_DELAY, HP_OUT_DELAY };
	static struct hp_waiter w[NR_SCEN][NR_HP];
	static struct hp_results res;
	uint64_t s0[NR_HP];
	int blk, sc, m, k, per;

	for (sc = 0; sc < NR_SCEN; sc++)
		hp_waiters_open(w[sc], xvm);
	printf("evtchn_bench: halt polling, send -> waiter return, window %llu us\n",
	       HP_WINDOW / 1000);
	/*
	 * Inside the window each block starts with the next mode, as above;
	 * outside it the modes take turns wake-up by wake-up (hp_turns()).
	 */
	for (blk = 0; blk < HP_BLOCKS; blk++)
		for (sc = 0; sc < NR_SCEN; sc++) {
			per = hp_per_block[sc];
			for (m = 0; m < NR_HP; m++)
				s0[m] = hp_spin_ns(&w[sc][m]);
			if (sc == HP_OUT)
				hp_turns(w[sc], delay[sc], res.lat[sc],
					 blk * per, per, res.cpu[sc]);
			for (k = 0; sc == HP_IN && k < NR_HP; k++) {
				m = (blk + k) % NR_HP;
				res.cpu[sc][m] += hp_block(&w[sc][m], delay[sc],
							   &res.lat[sc][m][blk * per], per);
			}
			for (m = 0; m < NR_HP; m++)
				res.spin[sc][m] += hp_spin_ns(&w[sc][m]) - s0[m];
		}
	for (sc = 0; sc < NR_SCEN; sc++)
		hp_report_scen(&res, sc);
	for (sc = 0; sc < NR_SCEN; sc++)
		for (m = 0; m < NR_HP; m++)
			hp_waiter_close(&w[sc][m]);
}

/*
 * Wake-up latency, adaptive and inside the window, over N ports listed (the
 * sent one last), over N vCPUs in the VM (the poller the last vCPU) and
 * over the port number (one port listed, port N: N - 1 ports allocated
 * before it, N up to every port of a VM).  The VMs of all points exist at
 * once and take turns in HP_BLOCKS blocks, so that host load weighs on
 * every point alike.
 */
#define HP_POINTS	5
#define HP_CURVES	3

static void hp_curves(int xvm)
{
	static const int x[HP_CURVES][HP_POINTS] = {
		{ 1, 16, 128, 512, XVM_POLL_MAX_PORTS },
		{ 1, 16, 128, 512, XVM_MAX_VCPUS_BENCH },
		{ 1, 16, 256, 1024, XVM_EVTCHN_MAX_PORTS - 1 },
	};
	static const char *const curve[HP_CURVES] = {
		"XVM_POLL wake, N ports listed",
		"XVM_POLL wake, poller on the last of N vCPUs",
		"XVM_POLL wake, one port listed: port N",
	};
	static const char *const x_name[HP_CURVES] = { "ports", "vCPUs", "port" };
	static uint64_t lat[HP_CURVES][HP_POINTS][HP_CURVE_ROUNDS];
	static struct hp_waiter w[HP_CURVES][HP_POINTS];
	const int per = HP_CURVE_ROUNDS / HP_BLOCKS;
	int c, k, blk;
	double y;

	for (k = 0; k < HP_POINTS; k++) {
		hp_waiter_vm(&w[0][k], xvm, HP_WINDOW, 0, 1, x[0][k], 0);
		hp_waiter_vm(&w[1][k], xvm, HP_WINDOW, 0, x[1][k], 1, 0);
		hp_waiter_vm(&w[2][k], xvm, HP_WINDOW, 0, 1, 1, x[2][k] - 1);
	}
	for (blk = 0; blk < HP_BLOCKS; blk++)
		for (k = 0; k < HP_POINTS; k++)
			for (c = 0; c < HP_CURVES; c++)
				hp_block(&w[c][k], HP_IN_DELAY,
					 &lat[c][k][blk * per], per);
	printf("evtchn_bench: XVM_POLL wake, adaptive, inside the window (median of %d)\n",
	       HP_CURVE_ROUNDS);
	for (c = 0; c < HP_CURVES; c++)
		for (k = 0; k < HP_POINTS; k++) {
			y = (double)median_u64(lat[c][k], HP_CURVE_ROUNDS);
			printf("  %5d %-6s %9.0f ns\n", x[c][k], x_name[c], y);
			bench_point(curve[c], x_name[c], x[c][k], "ns", y);
			hp_waiter_close(&w[c][k]);
		}
}

/*
 * -s LETTERS: only these sections, in their usual order (default all):
 * w wake-ups, c control isolation, s send sweep, h halt polling, p the
 * halt-polling curves, o the calls without a sleep.
 */
static const char *evtchn_bench_sections(int argc, char **argv)
{
	const char *sections = "wcshpo";
	int opt;

	while ((opt = getopt(argc, argv, "s:h")) != -1) {
		if (opt == 's' && !optarg[strspn(optarg, "wcshpo")]) {
			sections = optarg;
			continue;
		}
		fprintf(stderr, "usage: %s [-s wcshpo]\n", argv[0]);
		exit(2);
	}
	return sections;
}

int main(int argc, char **argv)
{
	const char *sections = evtchn_bench_sections(argc, argv);
	static uint64_t lat[NR_MECH][ROUNDS];
	static struct bench b;
	int xvm;

	setvbuf(stdout, NULL, _IOLBF, 0);
	b.efd = eventfd(0, EFD_CLOEXEC);
	b.efd2 = eventfd(0, EFD_CLOEXEC);
	if (fixture_vm_open(&xvm, &b.vmfd, 0) ||
	    fixture_vcpus(b.vmfd, &b.vcpufd, 1) || b.efd < 0 || b.efd2 < 0) {
		perror("setup");
		return 1;
	}
	if (fixture_ports(b.vmfd, b.ports, MAX_PORTS)) {
		perror("XVM_EVTCHN_ALLOC_UNBOUND");
		return 1;
	}

	pin_to_cpu(0);
	if (strchr(sections, 'w')) {
		printf("evtchn_bench: send -> waiter return, %d wake-ups each\n",
		       ROUNDS);
		run_wakeups(&b, lat);
		report_wakeups(lat);
	}
	if (strchr(sections, 'c'))
		control_isolation(xvm);
	if (strchr(sections, 's'))
		send_sweep(xvm);
	if (strchr(sections, 'h'))
		halt_poll_bench(xvm);
	if (strchr(sections, 'p'))
		hp_curves(xvm);
	if (strchr(sections, 'o'))
		overhead(&b);
	return 0;
}
