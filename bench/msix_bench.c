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
 * The two are measured in alternating blocks (to cancel drift), with the
 * device writes paced 1 ms apart (QEMU's e1000e throttles a vector at
 * 128 us).  A second pair uses VFIO's loopback trigger (SET_IRQS
 * DATA_NONE|ACTION_TRIGGER, process context) instead of the device.
 * Reported: median and p99 per route, and the ratio of the medians (goal:
 * kernel at least 1.5x lower).  This is a measurement: the exit status is
 * non-zero only when something fails, never on the numbers.
 *
 *   msix_bench [-n samples-per-route] [-b block]
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
#include <sys/ioctl.h>
#include <sys/mman.h>

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

/* The userspace route: read the VFIO eventfd, send on the port. */
static void *relay_fn(void *arg)
{
	struct bench *b = arg;
	uint64_t cnt;

	while (read(b->efd[VEC], &cnt, sizeof(cnt)) == sizeof(cnt)) {
		if (atomic_load(&b->stop))
			break;
		if (xvm_evtchn_send(b->vm, b->port))
			die("XVM_EVTCHN_SEND");
	}
	return NULL;
}

/* One interrupt: ns from the trigger to XVM_POLL's return. */
static uint64_t one(struct bench *b, int loopback)
{
	uint32_t port = b->port, got;
	uint64_t t0, t1;
	int r;

	b->vfio.bar0[E_ICR / 4] = 0xffffffffu;
	if (xvm_evtchn_clear(b->vm, b->port))
		die("XVM_EVTCHN_CLEAR");
	t0 = now_ns();
	if (loopback) {
		if (vfio_dev_trigger(&b->vfio, VEC))
			die("loopback trigger");
	} else {
		b->vfio.bar0[E_ICS / 4] = E_CAUSE(VEC);
	}
	r = xvm_poll(b->vcpu, &port, 1, 5 * SEC, 0, &got);
	t1 = now_ns();
	if (r != 1)
		die("XVM_POLL: no interrupt within 5 s");
	usleep(1000);		/* pacing: no throttled duplicates */
	return t1 - t0;
}

static void stats(uint64_t *v, int n, double *median, double *p99)
{
	*median = median_u64(v, n) / 1000.0;
	*p99 = percentile_u64(v, n, 99) / 1000.0;
}

/*
 * The XVM-BENCH row and samples of one route (in us; the samples in ns).
 * ratio != 0: the in-kernel route, with its ratio to userspace's.
 */
static void record_route(const char *what, const char *route,
			 const uint64_t *v, int n, double med, double p99,
			 double ratio)
{
	char row[64];

	snprintf(row, sizeof(row), "MSI-X delivery, %s, %s", what, route);
	bench_record(&(struct bench_row){
		.row = row, .unit = "us", .median = med, .p99 = p99,
		.ratio = ratio, .anchor_over_row = 1,
		.anchor = ratio ? "userspace (read + EVTCHN_SEND)" : NULL,
		.goal = ratio ? ">= 1.5" : NULL, .met = ratio >= 1.5,
	});
	bench_samples(row, "ns", v, n);
}

static void run(struct bench *b, int loopback, const char *what)
{
	static uint64_t kern[MAX_SAMPLES], user[MAX_SAMPLES];
	double km, kp, um, up;
	int nk = 0, nu = 0, i;
	pthread_t relay;

	while (nk < samples || nu < samples) {
		set_hook(b, 1);
		for (i = 0; i < block && nk < samples; i++)
			kern[nk++] = one(b, loopback);

		set_hook(b, 0);
		atomic_store(&b->stop, 0);
		if (pthread_create(&relay, NULL, relay_fn, b))
			die("pthread_create");
		usleep(1000);	/* let it block in read() */
		for (i = 0; i < block && nu < samples; i++)
			user[nu++] = one(b, loopback);
		atomic_store(&b->stop, 1);
		{
			uint64_t one_ = 1;

			if (write(b->efd[VEC], &one_, 8) != 8)
				die("eventfd write");
		}
		pthread_join(relay, NULL);
		xvm_evtchn_clear(b->vm, b->port);
	}
	stats(kern, nk, &km, &kp);
	stats(user, nu, &um, &up);
	printf("%-9s in-kernel (xvm-msix hook)     : median %8.1f us  p99 %8.1f us  (n=%d)\n",
	       what, km, kp, nk);
	printf("%-9s userspace (read + EVTCHN_SEND): median %8.1f us  p99 %8.1f us  (n=%d)\n",
	       what, um, up, nu);
	printf("%-9s median ratio userspace/in-kernel: %.2fx (goal >= 1.5x)\n",
	       what, um / km);
	record_route(what, "in-kernel", kern, nk, km, kp, um / km);
	record_route(what, "userspace", user, nu, um, up, 0);
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	int opt;

	while ((opt = getopt(argc, argv, "n:b:")) != -1) {
		switch (opt) {
		case 'n':
			samples = atoi(optarg);
			break;
		case 'b':
			block = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-n samples] [-b block]\n",
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
	printf("msix_bench: e1000e vector %d, %d samples per route, blocks of %d, 1 ms pacing\n",
	       VEC, samples, block);
	run(&b, 0, "device");
	run(&b, 1, "loopback");
	return 0;
}
