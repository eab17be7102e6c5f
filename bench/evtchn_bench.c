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
 * turns in BLOCKS blocks of ROUNDS / BLOCKS wake-ups,
 * so that load on the host weighs on all of them alike.  Medians and p99
 * over ROUNDS wake-ups, and the ratios the issue asks for.
 *
 * Then the isolation of one VM's control path from another's: the latency
 * of an alloc+close of a port on VM B, while a thread on VM A churns a
 * NOTIFY eventfd (assign, deassign) and moves its doorbell, against the
 * same on an idle VM A.  Idle and churn blocks alternate in one run, so
 * both see the same host; mean and max of each, and their ratio.
 *
 * Last, a scaling curve: the cost of a send on the newest of N ports, N from
 * 1 to every port of a VM.  Every figure is also printed as an XVM-BENCH
 * record (bench.h), with the samples of XVM_POLL, 1 port and its anchor.
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
#define BLOCKS		10
#define PER_BLOCK	(ROUNDS / BLOCKS)
#define MAX_PORTS	128
#define CTL_BLOCKS	10
#define CTL_PER_BLOCK	200
#define CTL_DB_ADDR	0x40000000ULL
#define SEND_RUNS	5
#define SEND_PER_RUN	500

enum mech { M_POLL_1, M_POLL_128, M_EVENTFD, M_FUTEX, NR_MECH };

static const char *const mech_name[NR_MECH] = {
	"XVM_POLL, 1 port", "XVM_POLL, 128 ports", "eventfd write -> poll()",
	"futex wake",
};

struct bench {
	enum mech mech;
	int vmfd, vcpufd, efd;
	uint32_t ports[MAX_PORTS];
	_Atomic uint32_t futex_word;
	_Atomic uint64_t sent_ns;	/* the sender's clock at the send */
	_Atomic int ready;		/* the waiter is about to wait */
	uint64_t *lat;			/* the current block's samples */
};

/*
 * Waits for one wake-up and returns the time the wait returned; the event
 * is consumed (port cleared, eventfd read) after that, outside the figure.
 */
static uint64_t waiter_wait(struct bench *b)
{
	struct pollfd pfd = { .fd = b->efd, .events = POLLIN };
	uint32_t port = 0;
	uint64_t t, cnt;
	int r = -1;

	switch (b->mech) {
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

	switch (b->mech) {
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

static void sender_send(struct bench *b)
{
	uint64_t one = 1;

	switch (b->mech) {
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

static void *waiter(void *arg)
{
	struct bench *b = arg;
	int i;

	pin_to_cpu(1);
	for (i = 0; i < PER_BLOCK; i++) {
		atomic_store(&b->ready, 1);
		b->lat[i] = waiter_wait(b) - atomic_load(&b->sent_ns);
	}
	return NULL;
}

/* One block of PER_BLOCK wake-ups of mech, into lat. */
static void run_block(struct bench *b, enum mech mech, uint64_t *lat)
{
	struct timespec pause = { 0, 200000 };	/* let the waiter sleep */
	pthread_t t;
	int i;

	b->mech = mech;
	b->lat = lat;
	atomic_store(&b->ready, 0);
	pthread_create(&t, NULL, waiter, b);
	for (i = 0; i < PER_BLOCK; i++) {
		while (!atomic_exchange(&b->ready, 0))
			sched_yield();
		nanosleep(&pause, NULL);
		atomic_store(&b->sent_ns, now_ns());
		sender_send(b);
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

int main(void)
{
	static uint64_t lat[NR_MECH][ROUNDS];
	static struct bench b;
	int xvm, i, blk;

	setvbuf(stdout, NULL, _IOLBF, 0);
	b.efd = eventfd(0, EFD_CLOEXEC);
	if (fixture_vm_open(&xvm, &b.vmfd, 0) ||
	    fixture_vcpus(b.vmfd, &b.vcpufd, 1) || b.efd < 0) {
		perror("setup");
		return 1;
	}
	if (fixture_ports(b.vmfd, b.ports, MAX_PORTS)) {
		perror("XVM_EVTCHN_ALLOC_UNBOUND");
		return 1;
	}

	pin_to_cpu(0);
	printf("evtchn_bench: send -> waiter return, %d wake-ups each\n",
	       ROUNDS);
	for (blk = 0; blk < BLOCKS; blk++)
		for (i = 0; i < NR_MECH; i++)
			run_block(&b, i, &lat[i][blk * PER_BLOCK]);
	report_wakeups(lat);
	control_isolation(xvm);
	send_sweep(xvm);
	return 0;
}
