// SPDX-License-Identifier: GPL-2.0
/*
 * msix_bench: interrupt latency of a VFIO-assigned e1000e (0000:00:03.0),
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
#include <libgen.h>
#include <limits.h>
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

#define NIC_BDF		"0000:00:03.0"
#define NIC_DEVFN	(3 << 3)
#define NVEC		5
#define VEC		0
#define DB_ADDR		0x40000000ULL
#define TABLE_GPA	0xfe000000ULL
#define PBA_GPA		(TABLE_GPA + 0x2000)

#define E_ICR		0xc0
#define E_ICS		0xc8
#define E_IMS		0xd0
#define E_IMC		0xd8
#define E_IVAR		0xe4

#define SEC		1000000000ULL
#define MAX_SAMPLES	100000

static int samples = 1000, block = 50;

struct bench {
	int container, group, device;
	volatile uint32_t *bar0;
	int efd[NVEC];
	int vm, vcpu, dev;
	uint32_t port;
	atomic_int stop;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "msix_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static void bind_vfio(void)
{
	char link[PATH_MAX];
	ssize_t n;

	n = readlink("/sys/bus/pci/devices/" NIC_BDF "/driver", link,
		     sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		if (!strcmp(basename(link), "vfio-pci"))
			return;
		sysfs_write("/sys/bus/pci/devices/" NIC_BDF "/driver/unbind",
			    NIC_BDF);
	}
	if (sysfs_write("/sys/bus/pci/devices/" NIC_BDF "/driver_override",
			"vfio-pci"))
		die("driver_override");
	sysfs_write("/sys/bus/pci/drivers_probe", NIC_BDF);
}

static void vfio_setup(struct bench *b)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	char buf[sizeof(struct vfio_irq_set) + NVEC * sizeof(int32_t)];
	struct vfio_irq_set *set = (void *)buf;
	char path[PATH_MAX], link[PATH_MAX];
	uint16_t cmd;
	ssize_t n;
	void *p;
	int i;

	bind_vfio();
	n = readlink("/sys/bus/pci/devices/" NIC_BDF "/iommu_group", link,
		     sizeof(link) - 1);
	if (n <= 0)
		die("iommu_group");
	link[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", basename(link));
	b->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	b->group = open(path, O_RDWR | O_CLOEXEC);
	if (b->container < 0 || b->group < 0)
		die("open VFIO");
	if (ioctl(b->group, VFIO_GROUP_SET_CONTAINER, &b->container) ||
	    ioctl(b->container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU))
		die("VFIO container");
	b->device = ioctl(b->group, VFIO_GROUP_GET_DEVICE_FD, NIC_BDF);
	if (b->device < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");

	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(b->device, VFIO_DEVICE_GET_REGION_INFO, &ri) ||
	    pread(b->device, &cmd, 2, ri.offset + PCI_COMMAND) != 2)
		die("config space");
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(b->device, &cmd, 2, ri.offset + PCI_COMMAND) != 2)
		die("config write");
	memset(&ri, 0, sizeof(ri));
	ri.argsz = sizeof(ri);
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(b->device, VFIO_DEVICE_GET_REGION_INFO, &ri))
		die("BAR0 info");
	p = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, b->device,
		 ri.offset);
	if (p == MAP_FAILED)
		die("BAR0 mmap");
	b->bar0 = p;

	/* Blocking eventfds: the userspace route reads them. */
	for (i = 0; i < NVEC; i++)
		b->efd[i] = eventfd(0, EFD_CLOEXEC);
	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_MSIX_IRQ_INDEX;
	set->start = 0;
	set->count = NVEC;
	memcpy(set->data, b->efd, sizeof(b->efd));
	if (ioctl(b->device, VFIO_DEVICE_SET_IRQS, set))
		die("VFIO_DEVICE_SET_IRQS");

	b->bar0[E_IMC / 4] = 0xffffffffu;
	b->bar0[E_ICR / 4] = 0xffffffffu;
	b->bar0[E_IVAR / 4] = 0x000cba98u;
	b->bar0[E_IMS / 4] = 0x01f00000u;
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
	struct xvm_msix_attach a = { .group_fd = b->group, .devfn = NIC_DEVFN };
	uint64_t gpa;
	uint16_t ctrl = PCI_MSIX_FLAGS_ENABLE;
	int xvm;

	xvm = xvm_open();
	if (xvm < 0)
		die("/dev/xvm");
	b->vm = xvm_create_vm(xvm, 0);
	if (b->vm < 0)
		die("XVM_CREATE_VM");
	b->vcpu = xvm_create_vcpu(b->vm, 0);
	if (b->vcpu < 0 || xvm_set_doorbell(b->vm, DB_ADDR, 0) ||
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
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSIX_IRQ_INDEX,
		.start = VEC,
		.count = 1,
	};
	uint32_t port = b->port, got;
	uint64_t t0, t1;
	int r;

	b->bar0[E_ICR / 4] = 0xffffffffu;
	if (xvm_evtchn_clear(b->vm, b->port))
		die("XVM_EVTCHN_CLEAR");
	t0 = now_ns();
	if (loopback) {
		if (ioctl(b->device, VFIO_DEVICE_SET_IRQS, &set))
			die("loopback trigger");
	} else {
		b->bar0[E_ICS / 4] = 1u << (20 + VEC);
	}
	r = xvm_poll(b->vcpu, &port, 1, 5 * SEC, 0, &got);
	t1 = now_ns();
	if (r != 1)
		die("XVM_POLL: no interrupt within 5 s");
	usleep(1000);		/* pacing: no throttled duplicates */
	return t1 - t0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void stats(uint64_t *v, int n, double *median, double *p99)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	*median = v[n / 2] / 1000.0;
	*p99 = v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1000.0;
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
	if (access("/sys/bus/pci/devices/" NIC_BDF, F_OK)) {
		printf("msix_bench: no e1000e at " NIC_BDF ", skipped\n");
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
