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
 *      i.e. the lookup is O(log n)).
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

#include "libxvm.h"
#include "bench.h"
#include "xvm_fixture.h"

#define REG_BASE	0x10000000ULL
#define REG_SIZE	0x1000ULL
#define REG_STRIDE	0x2000ULL	/* regions with gaps between them */
#define MAX_RUNS	101
#define BATCH_MAX	XVM_MMIO_BATCH_MAX
#define SAMPLES		2000	/* single accesses timed one by one */

static int runs = 7;
static long per_run = 16384;	/* accesses per run */
static struct xvm_mmio acc[BATCH_MAX];

/* One run of single 8-byte XVM_MMIO reads at addr: ns per access. */
static double run_single(int vcpu, uint64_t addr)
{
	struct xvm_mmio m;
	uint64_t t0, t1;
	long i;

	t0 = now_ns();
	for (i = 0; i < per_run; i++) {
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
	t1 = now_ns();
	return (double)(t1 - t0) / (double)per_run;
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
	print_rows(&m);
	record_rows(&m);
	sample_single(cfg[0].vcpu, cfg[0].addr);

	for (c = 0; c < NCOUNTS; c++)
		cfg_teardown(&cfg[c]);
	close(xvm);
	return 0;
}
