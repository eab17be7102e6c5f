// SPDX-License-Identifier: GPL-2.0
/*
 * msix_bench: interrupt latency of a VFIO-assigned e1000e (XVM_TEST_E1000E),
 * from the device's interrupt (the ICS write that makes it fire MSI-X
 * vector 0) to the return of XVM_POLL on the port the guest bound to it:
 *
 *   kernel     xvm-msix's hook on the VFIO eventfd delivers in the
 *              interrupt's context: eventfd -> MSI write on the bus ->
 *              doorbell -> port pending -> the poller wakes;
 *   userspace  the route a VMM takes without it: a thread blocked in read()
 *              on the VFIO eventfd wakes and calls XVM_EVTCHN_SEND.
 *
 * The two are measured in alternating blocks (to cancel drift), the first
 * WARMUP samples of a block discarded, with the device writes at least
 * 1 ms apart (QEMU's e1000e throttles a vector at 128 us).  A second pair
 * uses VFIO's loopback trigger (SET_IRQS DATA_NONE|ACTION_TRIGGER, process
 * context) instead of the device.  Reported: median, p90, p99 per route,
 * the ratio of the medians (goal: in-kernel at least 3x lower; the device's
 * is the goals table's "msix") and the in-kernel route's p99 / median
 * (goal <= 2; "msix-p99").  This is a measurement: the exit status is
 * non-zero only when something fails, never on the numbers.
 *
 * Placement and pacing, the same for both routes (-x, TUNE_DEFAULT): the
 * bench thread, the relay thread and the device's interrupt on CPU 0 (the
 * poller's, as a VMM would place it), mlockall, 1 ns timer slack, and each
 * sample started just after a scheduler tick.  The last is what keeps the
 * tail short: under TCG a tick costs ~100 us, and at HZ=250 one lands in
 * ~2% of the 50-100 us windows: it made the p99 (-x d: the loopback route
 * never sleeps in XVM_POLL, and its samples over 2x the median were those
 * with a timer interrupt).  The samples are then a tick (4 ms) apart.  One
 * CPU for both: a relay on the other CPU (-x p) adds a wake-up of the
 * other vCPU, under TCG the host scheduling another QEMU thread - ms when
 * the host is loaded, which the in-kernel route never pays.
 *
 *   msix_bench [-n samples-per-route] [-b block] [-x TUNE]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <sys/eventfd.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "libxvm.h"
#include "bench.h"
#include "host/env.h"
#include "host/testdev.h"
#include "host/vfio.h"
#include "xvm_fixture.h"

#define NVEC		5
#define VEC		0
#define DB_ADDR		0x40000000ULL
#define TABLE_GPA	0xfe000000ULL
#define PBA_GPA		(TABLE_GPA + 0x2000)

#define SEC		1000000000ULL
#define MAX_SAMPLES	100000

static int samples = 1000, block = 50;

/*
 * The placement and pacing options (-x, letters; "" for none, the bench as
 * it was before them), each applied
 * to both routes alike.  The bench thread (trigger + XVM_POLL) is on CPU B,
 * B = 0 (with r: 1), the other CPU is O:
 *   p  pin the bench thread to B and the relay thread to O;  q  both to B
 *   r  B = 1, O = 0 (e.g. with nohz_full=1 on the guest's command line)
 *   i  the device's MSI-X interrupt to B (the poller's CPU);  j  to O
 *   m  mlockall()     s  timer slack 1 ns (the pacing sleep)
 *   w  discard the first WARMUP samples of every block
 *   b  pace by spinning, not usleep()
 *   t  start each sample just after a scheduler tick: sleep to 0.5 ms
 *      before the next one, then spin until CLOCK_MONOTONIC_COARSE moves
 *      (it moves at the tick; the CPUs' ticks are aligned), so that no
 *      tick lands in the timed window (>= one tick period apart)
 *   d  diagnose the tail: per sample, whether XVM_POLL slept (a voluntary
 *      context switch, ru_nvcsw), a timer interrupt hit B (LOC in
 *      /proc/interrupts) or the thread was preempted (ru_nivcsw); read
 *      outside the timed window; implies p
 *   k  keep both CPUs out of idle: a SCHED_IDLE spinner pinned to each
 *      (as idle=poll would; it yields to any other thread at once)
 */
#define TUNE_DEFAULT	"qimswt"
static const char *tune = TUNE_DEFAULT;
#define WARMUP		3

static bool tuned(char opt)
{
	return strchr(tune, opt) || (opt == 'p' && strchr(tune, 'd'));
}

/* B, the bench thread's CPU (the other one is !B). */
static int bench_cpu(void)
{
	return tuned('r');
}

/* -x d: what happened during the last sample (D_*), and how to tell. */
enum { D_WOKEN = 1, D_TICK = 2, D_PREEMPT = 4 };
static struct {
	unsigned int flags;
} diag;

struct bench {
	struct vfio_dev vfio;
	int efd[NVEC];
	int vm, vcpu, dev;
	uint32_t port;
	atomic_int stop;
};

static void vfio_setup(struct bench *b)
{
	int i;

	if (vfio_dev_open(&b->vfio, E1000E_BDF))
		die("VFIO (the e1000e bound to vfio-pci)");
	/* Blocking eventfds: the userspace route reads them. */
	for (i = 0; i < NVEC; i++)
		b->efd[i] = eventfd(0, EFD_CLOEXEC);
	if (vfio_dev_set_irqs(&b->vfio, 0, NVEC, b->efd))
		die("VFIO_DEVICE_SET_IRQS");
	e1000e_msix_route(b->vfio.bar0);
	usleep(10000);
}

static void mmio_wr(struct bench *b, uint64_t addr, uint32_t val)
{
	int handled = 0;

	if (xvm_mmio_write(b->vcpu, addr, 4, val, &handled) || !handled)
		die("table write");
}

static void set_hook(struct bench *b, int on)
{
	int32_t fd = on ? b->efd[VEC] : -1;
	uint64_t cnt;

	if (xvm_set_attr(b->dev, XVM_MSIX_GRP_EVENTFD, VEC, &fd))
		die("XVM_MSIX_GRP_EVENTFD");
	if (!on) {
		/* Start the userspace route from an empty eventfd. */
		int fl = fcntl(b->efd[VEC], F_GETFL);

		fcntl(b->efd[VEC], F_SETFL, fl | O_NONBLOCK);
		if (read(b->efd[VEC], &cnt, 8) < 0 && errno != EAGAIN)
			die("eventfd drain");
		fcntl(b->efd[VEC], F_SETFL, fl);
	}
}

static void xvm_setup(struct bench *b)
{
	struct xvm_msix_attach a = {
		.group_fd = b->vfio.group, .devfn = E1000E_DEVFN,
	};
	uint64_t gpa;
	uint16_t ctrl = PCI_MSIX_FLAGS_ENABLE;
	int xvm;

	if (fixture_vm_open(&xvm, &b->vm, 0))
		die(xvm < 0 ? "/dev/xvm" : "XVM_CREATE_VM");
	if (fixture_vcpus(b->vm, &b->vcpu, 1) ||
	    xvm_set_doorbell(b->vm, DB_ADDR, 0) ||
	    xvm_evtchn_alloc_unbound(b->vm, &b->port))
		die("vCPU, doorbell or port");
	if (xvm_create_device(b->vm, XVM_DEV_TYPE_VFIO_MSIX, 0, &b->dev))
		die("XVM_CREATE_DEVICE(VFIO_MSIX) (is xvm-msix loaded?)");
	if (xvm_set_attr(b->dev, XVM_MSIX_GRP_ATTACH, 0, &a))
		die("attach");
	gpa = TABLE_GPA;
	if (xvm_set_attr(b->dev, XVM_MSIX_GRP_ADDR, XVM_MSIX_ADDR_TABLE, &gpa))
		die("table address");
	gpa = PBA_GPA;
	if (xvm_set_attr(b->dev, XVM_MSIX_GRP_ADDR, XVM_MSIX_ADDR_PBA, &gpa))
		die("PBA address");
	/* As the guest would: vector 0 -> doorbell, data = port, unmasked. */
	mmio_wr(b, TABLE_GPA + PCI_MSIX_ENTRY_LOWER_ADDR, (uint32_t)DB_ADDR);
	mmio_wr(b, TABLE_GPA + PCI_MSIX_ENTRY_UPPER_ADDR, DB_ADDR >> 32);
	mmio_wr(b, TABLE_GPA + PCI_MSIX_ENTRY_DATA, b->port);
	mmio_wr(b, TABLE_GPA + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	if (xvm_set_attr(b->dev, XVM_MSIX_GRP_CTRL, XVM_MSIX_CTRL_WORD, &ctrl))
		die("control word");
}

/* The calling thread onto cpu, if -x p or q asks for pinning. */
static void pin_self(int cpu)
{
	cpu_set_t set;

	if (!tuned('p') && !tuned('q'))
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

/* The IRQ number of the e1000e's vector VEC under vfio-pci, or -1. */
static int vfio_irq(void)
{
	char line[512], name[32];
	FILE *f = fopen("/proc/interrupts", "r");
	int irq = -1;

	snprintf(name, sizeof(name), "vfio-msix[%d]", VEC);
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, name)) {
			irq = atoi(line);
			break;
		}
	if (f)
		fclose(f);
	return irq;
}

/* -x i / j: the device's interrupt onto B / the other CPU. */
static void irq_place(void)
{
	char path[64];
	int irq = vfio_irq(), cpu = tuned('i') ? bench_cpu() : !bench_cpu();
	FILE *f;

	if (!tuned('i') && !tuned('j'))
		return;
	if (irq < 0) {
		printf("msix_bench: no vfio-msix[%d] in /proc/interrupts\n", VEC);
		return;
	}
	snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", irq);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", cpu) < 0 || fclose(f))
		die(path);
}

static void *spin_fn(void *arg)
{
	struct sched_param sp = { 0 };
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET((int)(intptr_t)arg, &set);
	if (sched_setaffinity(0, sizeof(set), &set) ||
	    sched_setscheduler(0, SCHED_IDLE, &sp))
		die("spinner placement");
	for (;;)
		;
	return NULL;
}

/* The rest of the -x options, for the whole process. */
static void tune_process(void)
{
	pthread_t t;
	intptr_t cpu;

	for (cpu = 0; tuned('k') && cpu < 2; cpu++)
		if (pthread_create(&t, NULL, spin_fn, (void *)cpu))
			die("spinner");
	pin_self(bench_cpu());
	irq_place();
	if (tuned('m') && mlockall(MCL_CURRENT | MCL_FUTURE))
		die("mlockall");
	if (tuned('s') && prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0))
		die("PR_SET_TIMERSLACK");
}

static uint64_t coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

/*
 * -x t: returns just after a tick at least 1 ms away: sleeps to 0.3 ms
 * before it, then spins until CLOCK_MONOTONIC_COARSE (the time of the last
 * tick) moves.
 */
static void pace_tick(void)
{
	struct timespec res, ts;
	uint64_t c = coarse_ns(), next, wake;

	clock_getres(CLOCK_MONOTONIC_COARSE, &res);
	for (next = c + res.tv_nsec; next < now_ns() + 1000000;)
		next += res.tv_nsec;
	wake = next - 300000;
	ts.tv_sec = wake / SEC;
	ts.tv_nsec = wake % SEC;
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	while (coarse_ns() < next)
		;
}

/* The 1 ms between two interrupts (QEMU throttles a vector at 128 us). */
static void pace(void)
{
	uint64_t end = now_ns() + 1000000;

	if (tuned('t')) {
		pace_tick();
		return;
	}
	if (!tuned('b')) {
		usleep(1000);
		return;
	}
	while (now_ns() < end)
		;
}

/* The userspace route: read the VFIO eventfd, send on the port. */
static void *relay_fn(void *arg)
{
	struct bench *b = arg;
	uint64_t cnt;

	pin_self(tuned('p') ? !bench_cpu() : bench_cpu());
	while (read(b->efd[VEC], &cnt, sizeof(cnt)) == sizeof(cnt)) {
		if (atomic_load(&b->stop))
			break;
		if (xvm_evtchn_send(b->vm, b->port))
			die("XVM_EVTCHN_SEND");
	}
	return NULL;
}

/* Our sleeps, B's timer interrupts, our preemptions. */
static void diag_read(uint64_t v[3])
{
	char line[512];
	struct rusage ru;
	FILE *f;

	v[1] = 0;
	f = fopen("/proc/interrupts", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "LOC:")) {
			char *p = strchr(line, ':') + 1;

			v[1] = strtoull(p, &p, 10);
			if (bench_cpu())
				v[1] = strtoull(p, NULL, 10);
			break;
		}
	if (f)
		fclose(f);
	getrusage(RUSAGE_THREAD, &ru);
	v[0] = ru.ru_nvcsw;
	v[2] = ru.ru_nivcsw;
}

/* One interrupt: ns from the trigger to XVM_POLL's return. */
static uint64_t one(struct bench *b, int loopback)
{
	uint32_t port = b->port, got;
	uint64_t t0, t1;
	int r;

	uint64_t d0[3], d1[3];

	b->vfio.bar0[E_ICR / 4] = 0xffffffffu;
	if (xvm_evtchn_clear(b->vm, b->port))
		die("XVM_EVTCHN_CLEAR");
	if (tuned('d'))
		diag_read(d0);
	t0 = now_ns();
	if (loopback) {
		if (vfio_dev_trigger(&b->vfio, VEC))
			die("loopback trigger");
	} else {
		b->vfio.bar0[E_ICS / 4] = E_CAUSE(VEC);
	}
	r = xvm_poll(b->vcpu, &port, 1, 5 * SEC, 0, &got);
	t1 = now_ns();
	if (tuned('d')) {
		diag_read(d1);
		diag.flags = (d1[0] != d0[0] ? D_WOKEN : 0) |
			     (d1[1] != d0[1] ? D_TICK : 0) |
			     (d1[2] != d0[2] ? D_PREEMPT : 0);
	}
	if (r != 1)
		die("XVM_POLL: no interrupt within 5 s");
	pace();			/* no throttled duplicates */
	return t1 - t0;
}

/* -x w: the first samples after a switch of route are not kept. */
static void warm_up(struct bench *b, int loopback)
{
	int i;

	for (i = 0; tuned('w') && i < WARMUP; i++)
		one(b, loopback);
}

static void stats(uint64_t *v, int n, double *median, double *p99)
{
	*median = median_u64(v, n) / 1000.0;
	*p99 = percentile_u64(v, n, 99) / 1000.0;
}

/* The median, p90, p99 and p99/median of one route's sorted samples. */
static void print_route(const char *what, const char *route,
			const uint64_t *v, int n)
{
	double med = percentile_u64(v, n, 50) / 1000.0;

	printf("%-9s %-30s: median %8.1f us  p90 %8.1f us  p99 %8.1f us  p99/median %.2f  (n=%d)\n",
	       what, route, med, percentile_u64(v, n, 90) / 1000.0,
	       percentile_u64(v, n, 99) / 1000.0,
	       percentile_u64(v, n, 99) / 1000.0 / med, n);
}

/*
 * The XVM-BENCH rows and samples of one kind of trigger (in us; the samples
 * in ns): per route, then the in-kernel route's p99 / median.  The device's
 * are the goals table's "msix" and "msix-p99".
 */
static void record(const char *what, uint64_t *kern, int nk, uint64_t *user,
		   int nu)
{
	bool dev = !strcmp(what, "device");
	double km, kp, um, up, ratio, tail;
	char krow[64], urow[64], trow[80];

	stats(kern, nk, &km, &kp);
	stats(user, nu, &um, &up);
	ratio = um / km;
	tail = kp / km;
	snprintf(krow, sizeof(krow), "MSI-X delivery, %s, in-kernel", what);
	snprintf(urow, sizeof(urow), "MSI-X delivery, %s, userspace", what);
	snprintf(trow, sizeof(trow), "%s: p99 / median", krow);
	bench_record(&(struct bench_row){
		.row = krow, .unit = "us", .median = km, .p99 = kp,
		.ratio = ratio, .anchor_over_row = 1,
		.anchor = "userspace (read + EVTCHN_SEND)", .goal = ">= 3",
		.met = ratio >= 3, .path = dev ? "msix" : NULL,
	});
	bench_record(&(struct bench_row){
		.row = urow, .unit = "us", .median = um, .p99 = up,
	});
	bench_record(&(struct bench_row){
		.row = trow, .unit = "us", .median = km, .p99 = kp, .ratio = tail,
		.anchor = "its median", .goal = "<= 2",
		.met = tail <= 2, .path = dev ? "msix-p99" : NULL,
	});
	bench_samples(krow, "ns", kern, nk);
	bench_samples(urow, "ns", user, nu);
	printf("%-9s median ratio userspace/in-kernel: %.2fx (goal >= 3x), in-kernel p99/median %.2f (goal <= 2)\n",
	       what, ratio, tail);
}

/*
 * -x d: of all samples and of the tail (over 2x the median), how many slept
 * in XVM_POLL, saw a timer interrupt on B, were preempted.
 */
static void diag_print(const char *what, const char *route,
		       const uint64_t *v, const uint8_t *fl, int n)
{
	static uint64_t s[MAX_SAMPLES];
	int all[3] = { 0 }, tail[3] = { 0 }, nt = 0, i, k;
	uint64_t med;

	if (!tuned('d'))
		return;
	memcpy(s, v, n * sizeof(*v));
	med = median_u64(s, n);
	for (i = 0; i < n; i++) {
		nt += v[i] > 2 * med;
		for (k = 0; k < 3; k++) {
			all[k] += !!(fl[i] & (1 << k));
			tail[k] += v[i] > 2 * med && (fl[i] & (1 << k));
		}
	}
	printf("%-9s %-9s diag: all %d: slept %d, tick %d, preempted %d; over 2x median %d: slept %d, tick %d, preempted %d\n",
	       what, route, n, all[0], all[1], all[2], nt, tail[0], tail[1],
	       tail[2]);
}

/* One route's block: the relay thread runs for the userspace one. */
static void block_run(struct bench *b, int loopback, bool kernel,
		      uint64_t *v, uint8_t *fl, int *n)
{
	pthread_t relay;
	uint64_t one_ = 1;
	int i;

	set_hook(b, kernel);
	if (!kernel) {
		atomic_store(&b->stop, 0);
		if (pthread_create(&relay, NULL, relay_fn, b))
			die("pthread_create");
		usleep(1000);	/* let it block in read() */
	}
	warm_up(b, loopback);
	for (i = 0; i < block && *n < samples; i++) {
		v[*n] = one(b, loopback);
		fl[(*n)++] = diag.flags;
	}
	if (kernel)
		return;
	atomic_store(&b->stop, 1);
	if (write(b->efd[VEC], &one_, 8) != 8)
		die("eventfd write");
	pthread_join(relay, NULL);
	xvm_evtchn_clear(b->vm, b->port);
}

static void run(struct bench *b, int loopback, const char *what)
{
	static uint64_t kern[MAX_SAMPLES], user[MAX_SAMPLES];
	static uint8_t kfl[MAX_SAMPLES], ufl[MAX_SAMPLES];
	int nk = 0, nu = 0;

	while (nk < samples || nu < samples) {
		block_run(b, loopback, true, kern, kfl, &nk);
		block_run(b, loopback, false, user, ufl, &nu);
	}
	diag_print(what, "in-kernel", kern, kfl, nk);
	diag_print(what, "userspace", user, ufl, nu);
	sort_u64(kern, nk);
	sort_u64(user, nu);
	print_route(what, "in-kernel (xvm-msix hook)", kern, nk);
	print_route(what, "userspace (read + EVTCHN_SEND)", user, nu);
	record(what, kern, nk, user, nu);
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	int opt;

	while ((opt = getopt(argc, argv, "n:b:x:")) != -1) {
		switch (opt) {
		case 'n':
			samples = atoi(optarg);
			break;
		case 'b':
			block = atoi(optarg);
			break;
		case 'x':
			tune = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-n samples] [-b block] [-x pqrijmswbtdk, default " TUNE_DEFAULT "]\n",
				argv[0]);
			return 2;
		}
	}
	if (samples < 1 || samples > MAX_SAMPLES || block < 1) {
		fprintf(stderr, "msix_bench: bad -n or -b\n");
		return 2;
	}
	if (!test_pci_e1000e()->ok) {
		printf("msix_bench: skipped: %s\n", test_pci_e1000e()->why);
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	vfio_setup(&b);
	xvm_setup(&b);
	tune_process();
	printf("msix_bench: e1000e vector %d, %d samples per route, blocks of %d, >= 1 ms apart, -x '%s'\n",
	       VEC, samples, block, tune);
	run(&b, 0, "device");
	run(&b, 1, "loopback");
	return 0;
}
