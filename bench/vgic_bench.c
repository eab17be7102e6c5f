// SPDX-License-Identifier: GPL-2.0
/*
 * vgic_bench: cost of the GICv3 emulation (xvm-vgic.ko).
 *
 *   1. ns per redistributor register access (an 8-byte XVM_GICR_TYPER read
 *      through the MMIO bus) for vCPU 0's and vCPU 511's redistributor, in
 *      a VM with 512 vCPUs spread over 64 redistributor regions of 8, with
 *      single XVM_MMIO calls and in XVM_MMIO_BATCH of 1024 (where the
 *      ioctl entry cost is amortised).  The ratio vCPU 511 / vCPU 0 should
 *      stay below 1.3: finding a redistributor is O(log n) (bus lookup)
 *      and computing XVM_GICR_TYPER.Last is O(1).
 *   2. ns per acknowledge + EOI pair (XVM_VGIC_ACK then XVM_VGIC_EOI) on a
 *      level-sensitive SPI whose line stays high, so it is pending again
 *      after each EOI.
 *
 * Each figure is the median over several runs (CLOCK_MONOTONIC).  This is a
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
#define SPI		40
#define MAX_RUNS	101
#define BATCH		XVM_MMIO_BATCH_MAX

static int runs = 7;
static long per_run = 16384;
static struct xvm_mmio acc[BATCH];

/* Where vCPU index i's redistributor is: regions in reverse order. */
static uint64_t rd_base(int i)
{
	return REDIST + (uint64_t)(NR_REGIONS - 1 - i / PER_REGION) *
	       REGION_STRIDE + (uint64_t)(i % PER_REGION) * RD_SIZE;
}

static uint64_t expected_typer(int id)
{
	uint64_t aff = (id & 0xf) | (((id >> 4) & 0xff) << 8);

	return (aff << 32) | ((uint64_t)id << 8) |
	       (id % PER_REGION == PER_REGION - 1 ? 0x10 : 0);
}

/* ns per single XVM_MMIO read of XVM_GICR_TYPER at base. */
static double run_single(int vcpu, uint64_t base, int id)
{
	struct xvm_mmio m;
	uint64_t t0, t1;
	long i;

	t0 = now_ns();
	for (i = 0; i < per_run; i++) {
		memset(&m, 0, sizeof(m));
		m.addr = base + XVM_GICR_TYPER;
		m.len = 8;
		if (ioctl(vcpu, XVM_MMIO, &m))
			die("XVM_MMIO");
		if (m.result != XVM_MMIO_HANDLED || m.data != expected_typer(id)) {
			fprintf(stderr, "vgic_bench: GICR_TYPER of %d: %#llx\n",
				id, (unsigned long long)m.data);
			exit(1);
		}
	}
	t1 = now_ns();
	return (double)(t1 - t0) / per_run;
}

/* ns per access in batches of BATCH reads of XVM_GICR_TYPER at base. */
static double run_batch(int vcpu, uint64_t base, int id)
{
	uint64_t t0, t1;
	long done = 0;
	uint32_t i, n;

	t0 = now_ns();
	while (done < per_run) {
		for (i = 0; i < BATCH; i++) {
			memset(&acc[i], 0, sizeof(acc[i]));
			acc[i].addr = base + XVM_GICR_TYPER;
			acc[i].len = 8;
		}
		if (xvm_mmio_batch(vcpu, acc, BATCH, &n) || n != BATCH)
			die("XVM_MMIO_BATCH");
		done += BATCH;
	}
	t1 = now_ns();
	for (i = 0; i < BATCH; i++)
		if (acc[i].result != XVM_MMIO_HANDLED ||
		    acc[i].data != expected_typer(id)) {
			fprintf(stderr, "vgic_bench: batch GICR_TYPER of %d\n", id);
			exit(1);
		}
	return (double)(t1 - t0) / done;
}

/* ns per XVM_VGIC_ACK + XVM_VGIC_EOI pair. */
static double run_ack_eoi(int vcpu)
{
	struct xvm_vgic_ack a;
	struct xvm_vgic_eoi e = { .intid = SPI };
	uint64_t t0, t1;
	long i;

	t0 = now_ns();
	for (i = 0; i < per_run; i++) {
		memset(&a, 0, sizeof(a));
		a.group = 1;
		if (ioctl(vcpu, XVM_VGIC_ACK, &a))
			die("XVM_VGIC_ACK");
		if (a.intid != SPI) {
			fprintf(stderr, "vgic_bench: acknowledged %u\n", a.intid);
			exit(1);
		}
		if (ioctl(vcpu, XVM_VGIC_EOI, &e))
			die("XVM_VGIC_EOI");
	}
	t1 = now_ns();
	return (double)(t1 - t0) / per_run;
}

static int fds[NR_VCPUS];

static void parse_args(int argc, char **argv)
{
	struct rlimit rl;

	bench_args_runs(argc, argv, &runs, &per_run, "[-r runs] [-n ops]");
	if (runs < 1 || runs > MAX_RUNS || per_run < 1) {
		fprintf(stderr, "vgic_bench: bad -r or -n\n");
		exit(2);
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < 1024 + NR_VCPUS) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * The VM: NR_VCPUS vCPUs in fds[], a GICv3 whose NR_REGIONS redistributor
 * regions are in reverse order (rd_base()), the distributor at DIST, INIT.
 * Returns the GIC's fd.
 */
static int gic_setup(void)
{
	int xvm, vm, dev, i;

	if (fixture_vm_open(&xvm, &vm, 0))
		die(xvm < 0 ? "open /dev/xvm" : "XVM_CREATE_VM");
	if (fixture_gic(vm, &dev))
		die("XVM_CREATE_DEVICE vgic-v3");
	for (i = 0; i < NR_REGIONS; i++)
		if (fixture_gic_region(dev, PER_REGION,
				       REDIST + (uint64_t)(NR_REGIONS - 1 - i) *
				       REGION_STRIDE, 0, i))
			die("REDIST_REGION");
	if (fixture_vcpus(vm, fds, NR_VCPUS))
		die("XVM_CREATE_VCPU");
	if (fixture_gic_addr(dev, XVM_VGIC_V3_ADDR_TYPE_DIST, DIST))
		die("DIST");
	if (fixture_gic_init(dev))
		die("CTRL_INIT");
	return dev;
}

/* The two GICR_TYPER rows: vCPU 0's and vCPU 511's redistributor. */
static void rows_typer(void)
{
	double s0[MAX_RUNS], s511[MAX_RUNS], b0[MAX_RUNS], b511[MAX_RUNS];
	double m0, m511, mb0, mb511;
	int r;

	/* Redistributor accesses, both from vCPU 0's thread. */
	for (r = 0; r < runs; r++) {
		s0[r] = run_single(fds[0], rd_base(0), 0);
		s511[r] = run_single(fds[0], rd_base(NR_VCPUS - 1), NR_VCPUS - 1);
		b0[r] = run_batch(fds[0], rd_base(0), 0);
		b511[r] = run_batch(fds[0], rd_base(NR_VCPUS - 1), NR_VCPUS - 1);
	}
	m0 = median_double(s0, runs);
	m511 = median_double(s511, runs);
	mb0 = median_double(b0, runs);
	mb511 = median_double(b511, runs);
	printf("vgic_bench: %d vCPUs, %d regions, %ld ops x %d runs (medians)\n",
	       NR_VCPUS, NR_REGIONS, per_run, runs);
	printf("GICR_TYPER read, XVM_MMIO:       vCPU 0 %8.1f ns  vCPU 511 %8.1f ns  ratio %.3f\n",
	       m0, m511, m511 / m0);
	printf("GICR_TYPER read, batch of %4d:  vCPU 0 %8.1f ns  vCPU 511 %8.1f ns  ratio %.3f\n",
	       BATCH, mb0, mb511, mb511 / mb0);
	bench_record(&(struct bench_row){
		.row = "GICR_TYPER read, XVM_MMIO, vCPU 511", .unit = "ns",
		.median = m511, .ratio = m511 / m0,
		.anchor = "GICR_TYPER read, XVM_MMIO, vCPU 0",
	});
	bench_record(&(struct bench_row){
		.row = "GICR_TYPER read, batch, vCPU 511", .unit = "ns",
		.median = mb511, .ratio = mb511 / mb0,
		.anchor = "GICR_TYPER read, batch, vCPU 0",
	});
}

/* The acknowledge + EOI row: SPI 40, level, line held high, on vCPU 0. */
static void row_ack_eoi(int dev)
{
	struct xvm_vgic_irq_line line = { .intid = SPI, .level = 1 };
	struct xvm_vgic_cpuif cpuif = { .pmr = 0xf8, .ctlr = 3 };
	double pair[MAX_RUNS], m;
	int r, handled;
	uint32_t u;

	u = 3;
	if (xvm_mmio_write(fds[0], DIST, 4, u, &handled) || !handled)
		die("GICD_CTLR");
	if (xvm_mmio_write(fds[0], DIST + 0x100 + 4, 4, 1U << (SPI - 32),
			   &handled) || !handled)
		die("GICD_ISENABLER");
	if (ioctl(fds[0], XVM_VGIC_SET_CPUIF, &cpuif))
		die("XVM_VGIC_SET_CPUIF");
	if (ioctl(dev, XVM_VGIC_IRQ_LINE, &line))
		die("XVM_VGIC_IRQ_LINE");
	for (r = 0; r < runs; r++)
		pair[r] = run_ack_eoi(fds[0]);
	m = median_double(pair, runs);
	printf("acknowledge + EOI pair:          %8.1f ns\n", m);
	bench_record(&(struct bench_row){
		.row = "acknowledge + EOI pair", .unit = "ns", .median = m,
	});
}

int main(int argc, char **argv)
{
	int dev;

	parse_args(argc, argv);
	dev = gic_setup();
	rows_typer();
	row_ack_eoi(dev);
	return 0;
}
