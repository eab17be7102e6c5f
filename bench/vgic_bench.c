// SPDX-License-Identifier: GPL-2.0
/*
 * vgic_bench: cost of the GICv3 emulation (xvm-vgic.ko) against its floors.
 *
 *   1. ns per vGIC register access through the MMIO bus against the same
 *      access to the test device (XVM_DEV_TYPE_TEST: the bus floor), in one
 *      VM: an 8-byte GICR_TYPER read against an 8-byte test-device read,
 *      a 4-byte GICD_ISENABLER1 read against a 4-byte test-device read,
 *      with single XVM_MMIO calls and in XVM_MMIO_BATCH of 1024.  Goal:
 *      <= 1.3x the test device (rows "vgic-single", "vgic-batched").
 *   2. GICR_TYPER of vCPU 511 against vCPU 0 (512 vCPUs in 64 regions of
 *      8, in reverse order): finding a redistributor is O(log n) on the
 *      bus and computing GICR_TYPER.Last is O(1).
 *   3. ns per handled interrupt: XVM_VGIC_ACK + XVM_VGIC_EOI, and one
 *      XVM_VGIC_EOI_ACK (EOI the previous, acknowledge the next) on a
 *      level-sensitive SPI whose line stays high, against two null ioctls
 *      (XVM_CHECK_EXTENSION on /dev/xvm).  Goal: <= 1.3x ("ack-eoi").
 *   4. Scaling: GICR_TYPER of the last redistributor region's vCPU with
 *      1, 16, 256 and 1024 regions of one redistributor each (KVM's
 *      REDIST_REGION), and the cost of registering a region.
 *
 * Every configuration lives at the same time and the runs are interleaved
 * (run r of every series, then run r + 1; run -1 is a discarded warm-up),
 * so drift does not favour one series.  Each figure is the median over the
 * runs (CLOCK_MONOTONIC); only ratios within one run mean much.  This is a
 * measurement, not a test: the exit status is non-zero only when a call
 * fails or returns an unexpected value.
 *
 *   vgic_bench [-r runs] [-n operations-per-run]
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
#include <sys/resource.h>

#include "libxvm.h"
#include <linux/xvm-gicv3.h>
#include "bench.h"
#include "xvm_fixture.h"

#define NR_VCPUS	512
#define NR_REGIONS	64
#define PER_REGION	(NR_VCPUS / NR_REGIONS)
#define DIST		0x08000000ULL
#define REDIST		0x10000000ULL
#define REGION_STRIDE	0x400000ULL	/* regions with gaps between them */
#define RD_SIZE		XVM_VGIC_V3_REDIST_SIZE
#define CURVE_STRIDE	(2 * RD_SIZE)	/* one frame, then a gap */
#define TD_BASE		0x04000000ULL	/* the test device's region */
#define TD_SIZE		0x1000ULL
#define TD_OFF		0x80ULL
#define TD_VALUE	0x1122334455667788ULL
#define SPI		40
#define MAX_RUNS	101
#define BATCH		XVM_MMIO_BATCH_MAX
#define GOAL		1.3
#define NCURVE		4

static const int curve_regions[NCURVE] = { 1, 16, 256, 1024 };
static int runs = 7;
static long per_run = 16384;
static struct xvm_mmio acc[BATCH];
static int xvm_fd, fds[NR_VCPUS], gic_dev;

/* One access the series repeat, and the value it must read. */
struct target {
	int vcpu;
	uint64_t addr;
	uint32_t len;
	uint64_t expect;
};

struct series {
	const char *name;
	double (*run)(const struct target *t);	/* ns per operation */
	struct target t;
	double v[MAX_RUNS];
	double median;
};

static void check_read(const struct xvm_mmio *m, const struct target *t)
{
	if (m->result != XVM_MMIO_HANDLED || m->data != t->expect) {
		fprintf(stderr, "vgic_bench: read of %#llx: %s %#llx, not %#llx\n",
			(unsigned long long)t->addr,
			m->result == XVM_MMIO_HANDLED ? "got" : "unhandled",
			(unsigned long long)m->data,
			(unsigned long long)t->expect);
		exit(1);
	}
}

/* ns per single XVM_MMIO read of t. */
static double run_single(const struct target *t)
{
	struct xvm_mmio m;
	uint64_t t0, t1;
	long i;

	t0 = now_ns();
	for (i = 0; i < per_run; i++) {
		memset(&m, 0, sizeof(m));
		m.addr = t->addr;
		m.len = t->len;
		if (ioctl(t->vcpu, XVM_MMIO, &m))
			die("XVM_MMIO");
		check_read(&m, t);
	}
	t1 = now_ns();
	return (double)(t1 - t0) / per_run;
}

/* ns per read of t in batches of BATCH. */
static double run_batch(const struct target *t)
{
	uint64_t t0, t1;
	long done = 0;
	uint32_t i, n;

	t0 = now_ns();
	while (done < per_run) {
		for (i = 0; i < BATCH; i++) {
			memset(&acc[i], 0, sizeof(acc[i]));
			acc[i].addr = t->addr;
			acc[i].len = t->len;
		}
		if (xvm_mmio_batch(t->vcpu, acc, BATCH, &n) || n != BATCH)
			die("XVM_MMIO_BATCH");
		done += BATCH;
	}
	t1 = now_ns();
	for (i = 0; i < BATCH; i++)
		check_read(&acc[i], t);
	return (double)(t1 - t0) / done;
}

/* ns per two XVM_CHECK_EXTENSION calls on /dev/xvm: the ioctl floor. */
static double run_null_pair(const struct target *t)
{
	uint64_t t0, t1;
	long i;

	(void)t;
	t0 = now_ns();
	for (i = 0; i < per_run; i++)
		if (ioctl(xvm_fd, XVM_CHECK_EXTENSION, XVM_CAP_NR_VCPUS) <= 0 ||
		    ioctl(xvm_fd, XVM_CHECK_EXTENSION, XVM_CAP_NR_VCPUS) <= 0)
			die("XVM_CHECK_EXTENSION");
	t1 = now_ns();
	return (double)(t1 - t0) / per_run;
}

static void check_acked(uint32_t intid)
{
	if (intid != SPI) {
		fprintf(stderr, "vgic_bench: acknowledged %u\n", intid);
		exit(1);
	}
}

/* ns per XVM_VGIC_ACK + XVM_VGIC_EOI pair. */
static double run_ack_eoi(const struct target *t)
{
	struct xvm_vgic_eoi e = { .intid = SPI };
	struct xvm_vgic_ack a;
	uint64_t t0, t1;
	long i;

	t0 = now_ns();
	for (i = 0; i < per_run; i++) {
		memset(&a, 0, sizeof(a));
		a.group = 1;
		if (ioctl(t->vcpu, XVM_VGIC_ACK, &a))
			die("XVM_VGIC_ACK");
		check_acked(a.intid);
		if (ioctl(t->vcpu, XVM_VGIC_EOI, &e))
			die("XVM_VGIC_EOI");
	}
	t1 = now_ns();
	return (double)(t1 - t0) / per_run;
}

/*
 * ns per handled interrupt with one XVM_VGIC_EOI_ACK each: the EOI of the
 * previous one and the acknowledge of the next.  The first acknowledge
 * and the last EOI are outside the timed loop.
 */
static double run_eoi_ack(const struct target *t)
{
	struct xvm_vgic_ack first = { .group = 1 };
	struct xvm_vgic_eoi last = { .intid = SPI };
	struct xvm_vgic_eoi_ack ea;
	uint64_t t0, t1;
	long i;

	if (ioctl(t->vcpu, XVM_VGIC_ACK, &first))
		die("XVM_VGIC_ACK");
	check_acked(first.intid);
	t0 = now_ns();
	for (i = 0; i < per_run; i++) {
		memset(&ea, 0, sizeof(ea));
		ea.eoi.intid = SPI;
		ea.ack.group = 1;
		if (xvm_vgic_eoi_ack(t->vcpu, &ea))
			die("XVM_VGIC_EOI_ACK");
		check_acked(ea.ack.intid);
	}
	t1 = now_ns();
	if (ioctl(t->vcpu, XVM_VGIC_EOI, &last))
		die("XVM_VGIC_EOI");
	return (double)(t1 - t0) / per_run;
}

/* GICR_TYPER of vCPU id: affinity, processor number, Last. */
static uint64_t expected_typer(int id, int last)
{
	uint64_t aff = (id & 0xf) | (((id >> 4) & 0xff) << 8);

	return (aff << 32) | ((uint64_t)id << 8) | (last ? 0x10 : 0);
}

/* Where vCPU index i's redistributor is: regions in reverse order. */
static uint64_t rd_base(int i)
{
	return REDIST + (uint64_t)(NR_REGIONS - 1 - i / PER_REGION) *
	       REGION_STRIDE + (uint64_t)(i % PER_REGION) * RD_SIZE;
}

static struct target typer_of(int id)
{
	return (struct target){
		.vcpu = fds[0], .addr = rd_base(id) + XVM_GICR_TYPER, .len = 8,
		.expect = expected_typer(id, id % PER_REGION == PER_REGION - 1),
	};
}

static void parse_args(int argc, char **argv)
{
	struct rlimit rl;

	bench_args_runs(argc, argv, &runs, &per_run, "[-r runs] [-n ops]");
	if (runs < 1 || runs > MAX_RUNS || per_run < 1) {
		fprintf(stderr, "vgic_bench: bad -r or -n\n");
		exit(2);
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < 4096) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * The main VM: NR_VCPUS vCPUs in fds[], a GICv3 whose NR_REGIONS
 * redistributor regions are in reverse order (rd_base()), the distributor
 * at DIST, INIT; SPI enabled, its line high, vCPU 0's CPU interface open;
 * and the test device's region at TD_BASE holding TD_VALUE at TD_OFF.
 */
static void main_vm_setup(void)
{
	struct xvm_vgic_irq_line line = { .intid = SPI, .level = 1 };
	struct xvm_vgic_cpuif cpuif = { .pmr = 0xf8, .ctlr = 3 };
	int vm, td, i, handled;

	if (fixture_vm_open(&xvm_fd, &vm, 0))
		die(xvm_fd < 0 ? "open /dev/xvm" : "XVM_CREATE_VM");
	if (fixture_gic(vm, &gic_dev))
		die("XVM_CREATE_DEVICE vgic-v3");
	for (i = 0; i < NR_REGIONS; i++)
		if (fixture_gic_region(gic_dev, PER_REGION, REDIST +
				       (uint64_t)(NR_REGIONS - 1 - i) *
				       REGION_STRIDE, 0, i))
			die("REDIST_REGION");
	if (fixture_vcpus(vm, fds, NR_VCPUS))
		die("XVM_CREATE_VCPU");
	if (fixture_gic_addr(gic_dev, XVM_VGIC_V3_ADDR_TYPE_DIST, DIST) ||
	    fixture_gic_init(gic_dev))
		die("DIST, CTRL_INIT");
	if (fixture_testdev(vm, &td, TD_BASE, TD_SIZE))
		die("XVM_CREATE_DEVICE test");
	if (xvm_mmio_write(fds[0], TD_BASE + TD_OFF, 8, TD_VALUE, &handled) ||
	    !handled)
		die("test device write");
	if (xvm_mmio_write(fds[0], DIST + XVM_GICD_CTLR, 4, 3, &handled) ||
	    !handled ||
	    xvm_mmio_write(fds[0], DIST + XVM_GICD_ISENABLER + 4, 4,
			   1U << (SPI - 32), &handled) || !handled)
		die("GICD_CTLR, GICD_ISENABLER1");
	if (ioctl(fds[0], XVM_VGIC_SET_CPUIF, &cpuif))
		die("XVM_VGIC_SET_CPUIF");
	if (ioctl(gic_dev, XVM_VGIC_IRQ_LINE, &line))
		die("XVM_VGIC_IRQ_LINE");
}

/*
 * A VM with n redistributor regions of one frame each and n vCPUs (only
 * vCPU 0's fd kept): the target is vCPU n - 1's GICR_TYPER, in the last
 * region.  Returns ns per region registration (REDIST_REGION).
 */
static double curve_vm_setup(int n, struct target *t)
{
	static int cfd[1024];
	uint64_t t0, t1;
	int vm, dev, i;

	vm = xvm_create_vm(xvm_fd, 0);
	if (vm < 0 || fixture_gic(vm, &dev))
		die("curve VM, GIC");
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (fixture_gic_region(dev, 1, REDIST + i * CURVE_STRIDE, 0, i))
			die("curve REDIST_REGION");
	t1 = now_ns();
	if (fixture_vcpus(vm, cfd, n))
		die("curve XVM_CREATE_VCPU");
	fixture_close_all(cfd + 1, n - 1);
	if (fixture_gic_addr(dev, XVM_VGIC_V3_ADDR_TYPE_DIST, DIST) ||
	    fixture_gic_init(dev))
		die("curve DIST, CTRL_INIT");
	*t = (struct target){
		.vcpu = cfd[0], .len = 8, .expect = expected_typer(n - 1, 1),
		.addr = REDIST + (uint64_t)(n - 1) * CURVE_STRIDE +
			XVM_GICR_TYPER,
	};
	return (double)(t1 - t0) / n;
}

/* The series, in the order every run visits them. */
enum {
	S_TD8, S_GICR, S_TD4, S_GICD, B_TD8, B_GICR, B_TD4, B_GICD,
	S_GICR511, B_GICR511, NULL2, ACK_EOI, EOI_ACK,
	C_S0, C_B0 = C_S0 + NCURVE, NSERIES = C_B0 + NCURVE
};

static struct series ser[NSERIES];
static double reg_ns[NCURVE];

static void set_series(int i, const char *name,
		       double (*run)(const struct target *t), struct target t)
{
	ser[i].name = name;
	ser[i].run = run;
	ser[i].t = t;
}

static void series_setup(void)
{
	struct target td8 = { fds[0], TD_BASE + TD_OFF, 8, TD_VALUE };
	struct target td4 = { fds[0], TD_BASE + TD_OFF, 4, (uint32_t)TD_VALUE };
	struct target gicd = { fds[0], DIST + XVM_GICD_ISENABLER + 4, 4,
			       1U << (SPI - 32) };
	struct target v0 = { .vcpu = fds[0] };
	int c;

	set_series(S_TD8, "test device 8B", run_single, td8);
	set_series(S_GICR, "GICR_TYPER", run_single, typer_of(0));
	set_series(S_TD4, "test device 4B", run_single, td4);
	set_series(S_GICD, "GICD_ISENABLER1", run_single, gicd);
	set_series(B_TD8, "test device 8B", run_batch, td8);
	set_series(B_GICR, "GICR_TYPER", run_batch, typer_of(0));
	set_series(B_TD4, "test device 4B", run_batch, td4);
	set_series(B_GICD, "GICD_ISENABLER1", run_batch, gicd);
	set_series(S_GICR511, "GICR_TYPER 511", run_single, typer_of(NR_VCPUS - 1));
	set_series(B_GICR511, "GICR_TYPER 511", run_batch, typer_of(NR_VCPUS - 1));
	set_series(NULL2, "2 null ioctls", run_null_pair, v0);
	set_series(ACK_EOI, "ACK + EOI", run_ack_eoi, v0);
	set_series(EOI_ACK, "EOI_ACK", run_eoi_ack, v0);
	for (c = 0; c < NCURVE; c++) {
		struct target t;

		reg_ns[c] = curve_vm_setup(curve_regions[c], &t);
		set_series(C_S0 + c, "curve", run_single, t);
		set_series(C_B0 + c, "curve", run_batch, t);
	}
}

static void measure_all(void)
{
	int r, s;

	for (r = -1; r < runs; r++)
		for (s = 0; s < NSERIES; s++) {
			double v = ser[s].run(&ser[s].t);

			if (r >= 0)
				ser[s].v[r] = v;
		}
	for (s = 0; s < NSERIES; s++)
		ser[s].median = median_double(ser[s].v, runs);
}

/* Row (series s) against its anchor (series a), goal <= GOAL if path. */
static void row_vs(const char *row, int s, const char *anchor, int a,
		   const char *path)
{
	double ratio = ser[s].median / ser[a].median;

	printf("  %-44s %8.1f ns  vs %8.1f ns  ratio %.3f%s\n", row,
	       ser[s].median, ser[a].median, ratio,
	       !path ? "" : ratio <= GOAL ? "  (goal <= 1.3: met)" :
					    "  (goal <= 1.3: NOT met)");
	bench_record(&(struct bench_row){
		.row = row, .unit = "ns", .median = ser[s].median,
		.ratio = ratio, .anchor = anchor,
		.goal = path ? "<= 1.3" : NULL, .met = ratio <= GOAL,
		.path = path,
	});
}

static void print_rows(void)
{
	printf("vgic_bench: %d vCPUs in %d regions, %ld ops x %d runs (medians)\n",
	       NR_VCPUS, NR_REGIONS, per_run, runs);
	row_vs("GICR_TYPER read, XVM_MMIO", S_GICR,
	       "test device 8-byte read, XVM_MMIO", S_TD8, "vgic-single");
	row_vs("GICD_ISENABLER1 read, XVM_MMIO", S_GICD,
	       "test device 4-byte read, XVM_MMIO", S_TD4, "vgic-single");
	row_vs("GICR_TYPER read, batch of 1024", B_GICR,
	       "test device 8-byte read, batch of 1024", B_TD8, "vgic-batched");
	row_vs("GICD_ISENABLER1 read, batch of 1024", B_GICD,
	       "test device 4-byte read, batch of 1024", B_TD4, "vgic-batched");
	row_vs("GICR_TYPER read, XVM_MMIO, vCPU 511", S_GICR511,
	       "GICR_TYPER read, XVM_MMIO, vCPU 0", S_GICR, NULL);
	row_vs("GICR_TYPER read, batch, vCPU 511", B_GICR511,
	       "GICR_TYPER read, batch, vCPU 0", B_GICR, NULL);
	row_vs("acknowledge + EOI, two ioctls", ACK_EOI,
	       "two null ioctls", NULL2, NULL);
	row_vs("acknowledge + EOI, one XVM_VGIC_EOI_ACK", EOI_ACK,
	       "two null ioctls", NULL2, "ack-eoi");
}

static void print_curve(void)
{
	int c;

	printf("\nGICR_TYPER of the last region's vCPU (ns per access):\n");
	printf("  %8s %12s %14s %22s\n", "regions", "XVM_MMIO", "batch of 1024",
	       "registration/region");
	for (c = 0; c < NCURVE; c++) {
		printf("  %8d %12.1f %14.1f %22.1f\n", curve_regions[c],
		       ser[C_S0 + c].median, ser[C_B0 + c].median, reg_ns[c]);
		bench_point("GICR_TYPER, last region, XVM_MMIO", "regions",
			    curve_regions[c], "ns", ser[C_S0 + c].median);
		bench_point("GICR_TYPER, last region, batch of 1024", "regions",
			    curve_regions[c], "ns", ser[C_B0 + c].median);
		bench_point("REDIST_REGION registration", "regions",
			    curve_regions[c], "ns", reg_ns[c]);
	}
	row_vs("GICR_TYPER, 1024 regions, batch of 1024", C_B0 + NCURVE - 1,
	       "GICR_TYPER, 1 region, batch of 1024", C_B0, NULL);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	main_vm_setup();
	series_setup();
	measure_all();
	print_rows();
	print_curve();
	return 0;
}
