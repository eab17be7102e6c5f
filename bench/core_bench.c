// SPDX-License-Identifier: GPL-2.0
/*
 * core_bench: cost of an access through the xvm MMIO bus.
 *
 *   1. ns per XVM_MMIO (one ioctl per access) versus ns per access inside an
 *      XVM_MMIO_BATCH of 64 and of 1024, on one test-device region;
 *   2. bus lookup cost with 1, 16, 256 and 1024 regions registered, always
 *      accessing the last region registered, both with single XVM_MMIO and
 *      with batches of 1024 (where the ioctl entry cost is amortised and the
 *      lookup dominates), and the ratio 1024 regions / 1 region (goal: < 1.5,
 *      i.e. the lookup is O(log n));
 *   3. the floor: one access versus a null ioctl (XVM_CHECK_EXTENSION on
 *      the /dev/xvm fd: an _IO() command, no copy, no lock) interleaved
 *      with it (goal: <= 1.25).  One access is XVM_MMIO_RUN on the vCPU's
 *      run page, the way a VMM makes one; XVM_MMIO (two user copies) is
 *      printed beside it, and, to split the cost, an unknown _IO() command
 *      on the vCPU fd (the vCPU fd's entry: owner check, vcpu->mutex,
 *      table);
 *   4. the xvm:xvm_mmio tracepoint: XVM_MMIO before it was ever enabled
 *      versus after it was enabled and disabled again (goal: <= 1.05), and
 *      while it is enabled, in an instance of tracefs of its own; each
 *      phase over the null ioctl interleaved with it (see trace_ratio()).
 *
 * Each figure is the median over several runs (CLOCK_MONOTONIC).  This is a
 * measurement, not a test: the exit status is non-zero only when a call fails
 * or an access is not handled.
 *
 *   core_bench [-r runs] [-n accesses-per-run]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "libxvm.h"
#include "bench.h"
#include "xvm_fixture.h"

#define REG_BASE	0x10000000ULL
#define REG_SIZE	0x1000ULL
#define REG_STRIDE	0x2000ULL	/* regions with gaps between them */
#define MAX_RUNS	101
#define BATCH_MAX	XVM_MMIO_BATCH_MAX
#define SAMPLES		2000	/* single accesses timed one by one */

/* No vCPU ioctl has this number: the vCPU fd answers -ENOTTY. */
#define XVM_VCPU_UNKNOWN_IO	_IO(XVMIO, 0xff)

static int runs = 7;
static long per_run = 16384;	/* accesses per run */
static struct xvm_mmio acc[BATCH_MAX];

/* n single 8-byte XVM_MMIO reads at addr: ns in all. */
static uint64_t singles(int vcpu, uint64_t addr, long n)
{
	struct xvm_mmio m;
	uint64_t t0;
	long i;

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		m.addr = addr + 8 * (i & 7);
		m.len = 8;
		if (ioctl(vcpu, XVM_MMIO, &m))
			die("XVM_MMIO");
		if (m.result != XVM_MMIO_HANDLED) {
			errno = ENXIO;
			die("XVM_MMIO not handled");
		}
	}
	return now_ns() - t0;
}

/* n single 8-byte XVM_MMIO_RUN reads at addr through run: ns in all. */
static uint64_t run_page_singles(int vcpu, struct xvm_vcpu_run *run,
				 uint64_t addr, long n)
{
	struct xvm_mmio *m = &run->mmio;
	uint64_t t0;
	long i;

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		/* as singles(): every in field written for every access */
		m->addr = addr + 8 * (i & 7);
		m->data = 0;
		m->len = 8;
		m->flags = 0;
		m->reserved = 0;
		if (ioctl(vcpu, XVM_MMIO_RUN, 0))
			die("XVM_MMIO_RUN");
		if (m->result != XVM_MMIO_HANDLED) {
			errno = ENXIO;
			die("XVM_MMIO_RUN not handled");
		}
	}
	return now_ns() - t0;
}

/* One run of single 8-byte XVM_MMIO reads at addr: ns per access. */
static double run_single(int vcpu, uint64_t addr)
{
	return (double)singles(vcpu, addr, per_run) / (double)per_run;
}

/*
 * n null ioctls, cmd (an _IO() command) with arg on fd: ns in all.
 * want_errno 0: each call must succeed, else fail with want_errno.
 */
static uint64_t nulls(int fd, unsigned long cmd, unsigned long arg,
		      int want_errno, long n)
{
	uint64_t t0;
	long i;

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		int r = ioctl(fd, cmd, arg);

		if (want_errno ? r != -1 || errno != want_errno : r < 0)
			die("null ioctl");
	}
	return now_ns() - t0;
}

/* One run of batches of n 8-byte reads at addr: ns per access. */
static double run_batch(int vcpu, uint64_t addr, uint32_t n)
{
	long batches = (per_run + n - 1) / n, b;
	uint64_t t0, t1;
	uint32_t i, done;

	t0 = now_ns();
	for (b = 0; b < batches; b++) {
		/* the kernel writes results back: re-arm the entries */
		for (i = 0; i < n; i++) {
			acc[i].addr = addr + 8 * (i & 7);
			acc[i].len = 8;
			acc[i].flags = 0;
			acc[i].reserved = 0;
		}
		if (xvm_mmio_batch(vcpu, acc, n, &done) || done != n)
			die("XVM_MMIO_BATCH");
	}
	t1 = now_ns();
	for (i = 0; i < n; i++)
		if (acc[i].result != XVM_MMIO_HANDLED) {
			errno = ENXIO;
			die("batch access not handled");
		}
	return (double)(t1 - t0) / (double)(batches * n);
}

/* One run: ns per access, single XVM_MMIO (batch 0) or batches of batch. */
static double run(int vcpu, uint64_t addr, uint32_t batch)
{
	return batch ? run_batch(vcpu, addr, batch) : run_single(vcpu, addr);
}

/*
 * Every configuration lives in its own VM at the same time, and the runs are
 * interleaved (run r of every configuration, then run r + 1), so warm-up and
 * drift under an emulator do not favour whichever configuration goes first.
 */
#define NCOUNTS 4
static const uint32_t counts[NCOUNTS] = { 1, 16, 256, 1024 };

struct cfg {
	int vm, vcpu, dev;
	uint64_t addr;		/* the region accessed: the last registered */
};

static void cfg_setup(int xvm, struct cfg *c, uint32_t nregions)
{
	uint32_t i;

	c->vm = xvm_create_vm(xvm, 0);
	if (c->vm < 0)
		die("XVM_CREATE_VM");
	if (fixture_vcpus(c->vm, &c->vcpu, 1))
		die("XVM_CREATE_VCPU");
	if (fixture_testdev(c->vm, &c->dev, 0, 0))
		die("XVM_CREATE_DEVICE(TEST)");
	for (i = 0; i < nregions; i++)
		if (xvm_testdev_add_region(c->dev, i, REG_BASE + i * REG_STRIDE,
					   REG_SIZE))
			die("test region");
	c->addr = REG_BASE + (uint64_t)(nregions - 1) * REG_STRIDE;
}

static void cfg_teardown(struct cfg *c)
{
	close(c->dev);
	close(c->vcpu);
	close(c->vm);
}

static void parse_args(int argc, char **argv)
{
	bench_args_runs(argc, argv, &runs, &per_run,
			"[-r runs] [-n accesses-per-run]");
	if (runs < 1 || runs > MAX_RUNS || per_run < BATCH_MAX) {
		fprintf(stderr, "core_bench: need 1 <= runs <= %d, accesses >= %d\n",
			MAX_RUNS, BATCH_MAX);
		exit(2);
	}
}

/* The medians of every row, in ns per access. */
struct medians {
	double single[NCOUNTS];		/* XVM_MMIO, per region count */
	double batch[NCOUNTS];		/* batch of 1024, per region count */
	double b64, b1k;		/* batches of 64 and 1024, one region */
	double floor;			/* null ioctl on /dev/xvm */
	double floor_mmio;		/* XVM_MMIO, interleaved with it */
	double floor_run;		/* XVM_MMIO_RUN, interleaved with it */
	double vcpu_null;		/* unknown _IO() on the vCPU fd */
};

/* Every run of every configuration, interleaved; their medians in *m. */
static void measure_all(const struct cfg *cfg, struct medians *m)
{
	static double s[NCOUNTS][MAX_RUNS], b[NCOUNTS][MAX_RUNS];
	static double b64[MAX_RUNS], b1k[MAX_RUNS];
	int r, c;

	for (r = -1; r < runs; r++) {		/* r = -1: warm-up, discarded */
		for (c = 0; c < NCOUNTS; c++) {
			double vs = run(cfg[c].vcpu, cfg[c].addr, 0);
			double vb = run(cfg[c].vcpu, cfg[c].addr, 1024);

			if (r >= 0) {
				s[c][r] = vs;
				b[c][r] = vb;
			}
		}
		/* batch of 64 on the one-region VM (1024 is b[0]) */
		if (r >= 0)
			b64[r] = run(cfg[0].vcpu, cfg[0].addr, 64);
	}
	for (c = 0; c < NCOUNTS; c++) {
		m->single[c] = median_double(s[c], runs);
		m->batch[c] = median_double(b[c], runs);
	}
	for (r = 0; r < runs; r++)
		b1k[r] = b[0][r];
	m->b64 = median_double(b64, runs);
	m->b1k = median_double(b1k, runs);
}

/*
 * The floor: each run makes per_run calls of each of XVM_CHECK_EXTENSION
 * on /dev/xvm, XVM_MMIO_RUN, XVM_MMIO and an unknown _IO() on the vCPU
 * fd, in turns of FLOOR_CHUNK calls, so that a slow spell of the emulator
 * hits all four.
 */
#define FLOOR_CHUNK	256

static void measure_floor(const struct cfg *c, int xvm, struct medians *m)
{
	static double fl[MAX_RUNS], mm[MAX_RUNS], vn[MAX_RUNS], rp[MAX_RUNS];
	int size = xvm_get_vcpu_mmap_size(xvm);
	struct xvm_vcpu_run *run;
	uint64_t tf, tm, tv, tr;
	long k;
	int r;

	run = size > 0 ? xvm_vcpu_map_run(c->vcpu, (size_t)size) : NULL;
	if (!run)
		die("the vCPU run page");
	for (r = -1; r < runs; r++) {		/* r = -1: warm-up, discarded */
		tf = tm = tv = tr = 0;
		for (k = 0; k < per_run; k += FLOOR_CHUNK) {
			tf += nulls(xvm, XVM_CHECK_EXTENSION, XVM_CAP_NR_VCPUS,
				    0, FLOOR_CHUNK);
			tr += run_page_singles(c->vcpu, run, c->addr,
					       FLOOR_CHUNK);
			tm += singles(c->vcpu, c->addr, FLOOR_CHUNK);
			tv += nulls(c->vcpu, XVM_VCPU_UNKNOWN_IO, 0, ENOTTY,
				    FLOOR_CHUNK);
		}
		if (r < 0)
			continue;
		fl[r] = (double)tf / (double)k;
		mm[r] = (double)tm / (double)k;
		vn[r] = (double)tv / (double)k;
		rp[r] = (double)tr / (double)k;
	}
	m->floor = median_double(fl, runs);
	m->floor_mmio = median_double(mm, runs);
	m->vcpu_null = median_double(vn, runs);
	m->floor_run = median_double(rp, runs);
	xvm_vcpu_unmap_run(run, (size_t)size);
}

static void print_rows(const struct medians *m)
{
	const double *ms = m->single, *mb = m->batch;
	int c;

	printf("\nper access, one region:\n");
	printf("  %-28s %10.1f ns\n", "XVM_MMIO (1 ioctl each)", ms[0]);
	printf("  %-28s %10.1f ns  (%.1fx cheaper)\n", "XVM_MMIO_BATCH of 64",
	       m->b64, ms[0] / m->b64);
	printf("  %-28s %10.1f ns  (%.1fx cheaper)\n", "XVM_MMIO_BATCH of 1024",
	       m->b1k, ms[0] / m->b1k);

	printf("\nlookup, accessing the last of N regions (ns per access):\n");
	printf("  %8s %14s %14s\n", "regions", "XVM_MMIO", "batch of 1024");
	for (c = 0; c < NCOUNTS; c++)
		printf("  %8u %14.1f %14.1f\n", counts[c], ms[c], mb[c]);
	printf("\nratio 1024 regions / 1 region: %.2f (XVM_MMIO), %.2f (batch of 1024)\n"
	       "goal < 1.5 (batch of 1024, where the lookup dominates): %s\n",
	       ms[3] / ms[0], mb[3] / mb[0], mb[3] / mb[0] < 1.5 ? "met" : "NOT met");
}

/* The same rows as XVM-BENCH records, and the lookup scaling curves. */
static void record_rows(const struct medians *m)
{
	const double *ms = m->single, *mb = m->batch;
	double r = mb[3] / mb[0];
	int c;

	bench_record(&(struct bench_row){
		.row = "XVM_MMIO (1 ioctl each)", .unit = "ns", .median = ms[0],
	});
	bench_record(&(struct bench_row){
		.row = "XVM_MMIO_BATCH of 64", .unit = "ns", .median = m->b64,
		.ratio = ms[0] / m->b64, .anchor_over_row = 1,
		.anchor = "XVM_MMIO (1 ioctl each)",
	});
	bench_record(&(struct bench_row){
		.row = "XVM_MMIO_BATCH of 1024", .unit = "ns", .median = m->b1k,
		.ratio = ms[0] / m->b1k, .anchor_over_row = 1,
		.anchor = "XVM_MMIO (1 ioctl each)",
	});
	bench_record(&(struct bench_row){
		.row = "lookup, 1024 regions, batch of 1024", .unit = "ns",
		.median = mb[3], .ratio = r,
		.anchor = "lookup, 1 region, batch of 1024",
		.goal = "< 1.5", .met = r < 1.5,
	});
	for (c = 0; c < NCOUNTS; c++) {
		bench_point("XVM_MMIO", "regions", counts[c], "ns", ms[c]);
		bench_point("batch of 1024", "regions", counts[c], "ns", mb[c]);
	}
}

#define FLOOR_ANCHOR	"null ioctl (XVM_CHECK_EXTENSION)"
#define FLOOR_GOAL	1.25

/* One access against the floor, printed and recorded. */
static void floor_rows(const struct medians *m)
{
	double r = m->floor_mmio / m->floor, rv = m->vcpu_null / m->floor;
	double rr = m->floor_run / m->floor;

	printf("\nthe floor, interleaved (ns per call):\n");
	printf("  %-34s %10.1f ns\n", FLOOR_ANCHOR, m->floor);
	printf("  %-34s %10.1f ns  (%.2fx the null ioctl)\n",
	       "vCPU fd, unknown _IO (-ENOTTY)", m->vcpu_null, rv);
	printf("  %-34s %10.1f ns  (%.2fx the null ioctl)\n",
	       "XVM_MMIO (1 ioctl each)", m->floor_mmio, r);
	printf("  %-34s %10.1f ns  (%.2fx the null ioctl)\n",
	       "XVM_MMIO_RUN (run page)", m->floor_run, rr);
	printf("goal one access (XVM_MMIO_RUN) <= %.2fx the null ioctl: %s\n",
	       FLOOR_GOAL, rr <= FLOOR_GOAL ? "met" : "NOT met");

	bench_record(&(struct bench_row){
		.row = FLOOR_ANCHOR, .unit = "ns", .median = m->floor,
	});
	bench_record(&(struct bench_row){
		.row = "vCPU fd, unknown _IO (-ENOTTY)", .unit = "ns",
		.median = m->vcpu_null, .ratio = rv, .anchor = FLOOR_ANCHOR,
	});
	bench_record(&(struct bench_row){
		.row = "XVM_MMIO over the null ioctl", .unit = "ns",
		.median = m->floor_mmio, .ratio = r, .anchor = FLOOR_ANCHOR,
	});
	bench_record(&(struct bench_row){
		.row = "XVM_MMIO_RUN over the null ioctl", .unit = "ns",
		.median = m->floor_run, .ratio = rr, .anchor = FLOOR_ANCHOR,
		.goal = "<= 1.25", .met = rr <= FLOOR_GOAL, .path = "mmio",
	});
}

/* The tracepoint, in an instance of tracefs of the bench's own. */
#define TRACEFS		"/sys/kernel/tracing"
#define TRACE_INST	TRACEFS "/instances/core_bench"
#define TRACE_ENABLE	TRACE_INST "/events/xvm/xvm_mmio/enable"

static int sysfs_put(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	int r;

	if (!f)
		return -1;
	r = fputs(s, f) < 0;
	return fclose(f) || r ? -1 : 0;
}

/* The instance, tracefs mounted if need be; NULL, or why it cannot be. */
static const char *trace_setup(void)
{
	static char why[160];
	struct stat st;

	if (stat(TRACEFS "/instances", &st) &&
	    mount("nodev", TRACEFS, "tracefs", 0, NULL)) {
		snprintf(why, sizeof(why), "cannot mount tracefs at %s: %s",
			 TRACEFS, strerror(errno));
		return why;
	}
	if (mkdir(TRACE_INST, 0700) && errno != EEXIST) {
		snprintf(why, sizeof(why), "mkdir %s: %s", TRACE_INST,
			 strerror(errno));
		return why;
	}
	if (stat(TRACE_ENABLE, &st)) {
		snprintf(why, sizeof(why), "no %s: %s", TRACE_ENABLE,
			 strerror(errno));
		rmdir(TRACE_INST);
		return why;
	}
	return NULL;
}

static void trace_enable(int on)
{
	if (sysfs_put(TRACE_ENABLE, on ? "1" : "0"))
		die("xvm_mmio tracepoint enable");
}

/* XVM_MMIO with the tracepoint in one state, and the null ioctl. */
struct trace_phase {
	double mmio, null;	/* medians, ns per call */
};

/*
 * runs of XVM_MMIO interleaved with the null ioctl in turns of FLOOR_CHUNK
 * calls, after one warm-up run (the first calls after the tracepoint's
 * code was patched are slower under an emulator).
 */
static void trace_phase(const struct cfg *c, int xvm, struct trace_phase *p)
{
	static double mm[MAX_RUNS], nl[MAX_RUNS];
	uint64_t tm, tn;
	long k;
	int r;

	for (r = -1; r < runs; r++) {
		tm = tn = 0;
		for (k = 0; k < per_run; k += FLOOR_CHUNK) {
			tn += nulls(xvm, XVM_CHECK_EXTENSION, XVM_CAP_NR_VCPUS,
				    0, FLOOR_CHUNK);
			tm += singles(c->vcpu, c->addr, FLOOR_CHUNK);
		}
		if (r < 0)
			continue;
		mm[r] = (double)tm / (double)k;
		nl[r] = (double)tn / (double)k;
	}
	p->mmio = median_double(mm, runs);
	p->null = median_double(nl, runs);
}

/*
 * The states cannot be interleaved (never enabled comes first, once), so
 * each phase carries the null ioctl as a yardstick: the row's ratio is of
 * XVM_MMIO over the null ioctl of its phase, which a slower spell of the
 * machine between the phases does not move.
 */
static double trace_ratio(const struct trace_phase *p,
			  const struct trace_phase *never)
{
	return (p->mmio / p->null) / (never->mmio / never->null);
}

#define TRACE_NEVER	"XVM_MMIO, xvm_mmio never enabled"
#define TRACE_GOAL	1.05

/* The trace-off row, or the reason there is none. */
static void trace_rows(const struct cfg *c, int xvm)
{
	const char *why = trace_setup();
	struct trace_phase never, on, off;
	double r, ron;

	printf("\nthe xvm:xvm_mmio tracepoint (XVM_MMIO and the null ioctl\n"
	       "interleaved, ns per call; ratios of XVM_MMIO / null ioctl):\n");
	if (why) {
		printf("  skipped, no trace-off row: %s\n", why);
		return;
	}
	trace_phase(c, xvm, &never);
	trace_enable(1);
	trace_phase(c, xvm, &on);
	trace_enable(0);
	trace_phase(c, xvm, &off);
	rmdir(TRACE_INST);
	r = trace_ratio(&off, &never);
	ron = trace_ratio(&on, &never);
	printf("  %-28s %9.1f ns (null %7.1f)\n", "never enabled",
	       never.mmio, never.null);
	printf("  %-28s %9.1f ns (null %7.1f)  %.2fx\n",
	       "enabled and disabled again", off.mmio, off.null, r);
	printf("  %-28s %9.1f ns (null %7.1f)  %.2fx\n", "enabled",
	       on.mmio, on.null, ron);
	printf("goal disabled again <= %.2fx never enabled: %s\n", TRACE_GOAL,
	       r <= TRACE_GOAL ? "met" : "NOT met");
	bench_record(&(struct bench_row){
		.row = TRACE_NEVER, .unit = "ns", .median = never.mmio,
	});
	bench_record(&(struct bench_row){
		.row = "XVM_MMIO, xvm_mmio enabled and disabled again",
		.unit = "ns", .median = off.mmio, .ratio = r,
		.anchor = TRACE_NEVER, .goal = "<= 1.05",
		.met = r <= TRACE_GOAL, .path = "trace-off",
	});
	bench_record(&(struct bench_row){
		.row = "XVM_MMIO, xvm_mmio enabled", .unit = "ns",
		.median = on.mmio, .ratio = ron, .anchor = TRACE_NEVER,
	});
}

/* The latency of each of SAMPLES single XVM_MMIO reads, as samples. */
static void sample_single(int vcpu, uint64_t addr)
{
	static uint64_t lat[SAMPLES];
	struct xvm_mmio m;
	uint64_t t0;
	int i;

	for (i = 0; i < SAMPLES; i++) {
		memset(&m, 0, sizeof(m));
		m.addr = addr + 8 * (i & 7);
		m.len = 8;
		t0 = now_ns();
		if (ioctl(vcpu, XVM_MMIO, &m) || m.result != XVM_MMIO_HANDLED)
			die("XVM_MMIO (samples)");
		lat[i] = now_ns() - t0;
	}
	bench_samples("XVM_MMIO (1 ioctl each)", "ns", lat, SAMPLES);
}

int main(int argc, char **argv)
{
	struct cfg cfg[NCOUNTS];
	struct medians m;
	int xvm, c;

	parse_args(argc, argv);
	xvm = xvm_open();
	if (xvm < 0)
		die("open " XVM_DEV_PATH);
	for (c = 0; c < NCOUNTS; c++)
		cfg_setup(xvm, &cfg[c], counts[c]);

	printf("core_bench: %d runs of %ld accesses each (after one warm-up run),\n"
	       "medians, CLOCK_MONOTONIC, 8-byte reads of a test-device region\n",
	       runs, per_run);
	measure_all(cfg, &m);
	measure_floor(&cfg[0], xvm, &m);
	print_rows(&m);
	record_rows(&m);
	floor_rows(&m);
	sample_single(cfg[0].vcpu, cfg[0].addr);
	trace_rows(&cfg[0], xvm);

	for (c = 0; c < NCOUNTS; c++)
		cfg_teardown(&cfg[c]);
	close(xvm);
	return 0;
}
