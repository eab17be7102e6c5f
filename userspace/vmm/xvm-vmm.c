// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-vmm: the minimal VMM that drives xvm.
 *
 *   xvm-vmm caps    what the loaded modules support
 *   xvm-vmm demo    a scripted session: VM, vCPUs, memory, an MMIO device,
 *                   event channels and a poller; exits 0 only if every
 *                   check held
 *
 * There is no CPU emulation: the "guest" is a script of MMIO accesses and
 * event-channel operations, performed through the vCPU ioctls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libxvm.h"

static int failures;

static void check(int ok, const char *what)
{
	printf("  [%s] %s\n", ok ? " ok " : "FAIL", what);
	if (!ok)
		failures++;
}

static const struct {
	long cap;
	const char *name;
} caps[] = {
	{ XVM_CAP_MAX_VCPUS,		"max vCPUs" },
	{ XVM_CAP_MAX_VCPU_ID,		"max vCPU id (exclusive)" },
	{ XVM_CAP_NR_MEMSLOTS,		"memory slots" },
	{ XVM_CAP_MAX_PHYS_ADDR_BITS,	"max guest physical address bits" },
	{ XVM_CAP_MMIO_BATCH,		"accesses per MMIO batch" },
	{ XVM_CAP_MAX_MMIO_REGIONS,	"MMIO regions per VM" },
	{ XVM_CAP_EVTCHN,		"event-channel ports" },
	{ XVM_CAP_POLL_MAX_PORTS,	"ports per XVM_POLL" },
};

static const struct {
	unsigned int type;
	const char *name;
} device_types[] = {
	{ XVM_DEV_TYPE_TEST,		"test device (xvm-testdev)" },
	{ XVM_DEV_TYPE_ARM_VGIC_V3,	"GICv3 (xvm-vgic)" },
	{ XVM_DEV_TYPE_VFIO_MSIX,	"VFIO MSI-X interposer (xvm-msix)" },
	{ XVM_DEV_TYPE_IOMMU,		"typed IOMMU (xvm-iommu)" },
};

static int cmd_caps(void)
{
	int xvm = xvm_open(), vm;
	unsigned int i;

	if (xvm < 0) {
		perror("open " XVM_DEV_PATH);
		return 1;
	}
	printf("xvm API version %d\n", xvm_get_api_version(xvm));
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		printf("  %-34s %d\n", caps[i].name,
		       xvm_check_extension(xvm, caps[i].cap));
	vm = xvm_create_vm(xvm, 0);
	if (vm < 0) {
		perror("XVM_CREATE_VM");
		return 1;
	}
	printf("device types:\n");
	for (i = 0; i < sizeof(device_types) / sizeof(device_types[0]); i++)
		printf("  %-34s %s\n", device_types[i].name,
		       xvm_create_device(vm, device_types[i].type,
					 XVM_CREATE_DEVICE_TEST, NULL) ?
		       "not loaded" : "available");
	close(vm);
	close(xvm);
	return 0;
}

struct poller {
	int vcpufd;
	uint32_t port;
	int ret;
	uint32_t woken_by;
};

static void *poller_thread(void *arg)
{
	struct poller *p = arg;

	/* Five seconds: a lost wake-up shows as a timeout, not a hang. */
	p->ret = xvm_poll(p->vcpufd, &p->port, 1, 5000000000ULL, 0,
			  &p->woken_by);
	return NULL;
}

#define DEMO_VCPUS	4
#define DEMO_MEM_GPA	0x40000000ULL
#define DEMO_MEM_SIZE	(2ULL << 20)
#define DEMO_DEV_GPA	0x10000000ULL
#define DEMO_DOORBELL	0x10010000ULL

static int cmd_demo(void)
{
	int xvm, vm, peer, dev, vcpu[DEMO_VCPUS], handled, i;
	uint32_t ports[DEMO_VCPUS], remote, local, state, status;
	struct poller poller;
	pthread_t thread;
	uint64_t val;
	void *mem;

	xvm = xvm_open();
	if (xvm < 0) {
		perror("open " XVM_DEV_PATH);
		return 1;
	}

	printf("== VM\n");
	vm = xvm_create_vm(xvm, 0);
	check(vm >= 0, "XVM_CREATE_VM");
	for (i = 0; i < DEMO_VCPUS; i++)
		vcpu[i] = xvm_create_vcpu(vm, i);
	for (i = 0; i < DEMO_VCPUS; i++)
		check(vcpu[i] >= 0, "XVM_CREATE_VCPU");
	printf("  created VM with %d vCPUs\n", DEMO_VCPUS);

	mem = mmap(NULL, DEMO_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(mem != MAP_FAILED &&
	      !xvm_set_memory_region(vm, 0, 0, DEMO_MEM_GPA, DEMO_MEM_SIZE,
				     (uintptr_t)mem),
	      "memory slot 0: 2 MiB at guest 0x40000000");

	printf("== MMIO bus\n");
	if (xvm_create_device(vm, XVM_DEV_TYPE_TEST, 0, &dev)) {
		printf("  xvm-testdev not loaded: skipping the device checks\n");
	} else {
		check(!xvm_testdev_add_region(dev, 0, DEMO_DEV_GPA, 0x1000),
		      "test device claims 4 KiB at 0x10000000");
		check(!xvm_mmio_write(vcpu[0], DEMO_DEV_GPA + 8, 4, 0xc0ffee,
				      &handled) && handled,
		      "vCPU 0 writes 0xc0ffee at 0x10000008: handled");
		check(!xvm_mmio_read(vcpu[1], DEMO_DEV_GPA + 8, 4, &val,
				     &handled) && handled && val == 0xc0ffee,
		      "vCPU 1 reads it back");
		check(!xvm_mmio_read(vcpu[1], DEMO_DEV_GPA + 0x2000, 4, &val,
				     &handled) && !handled,
		      "an address nobody claims comes back unhandled");
	}

	printf("== event channels\n");
	for (i = 0; i < DEMO_VCPUS; i++)
		check(!xvm_evtchn_alloc_unbound(vm, &ports[i]) &&
		      !xvm_evtchn_bind_vcpu(vm, ports[i], i),
		      "port allocated and bound to its vCPU");
	check(!xvm_set_doorbell(vm, DEMO_DOORBELL, 0),
	      "doorbell at 0x10010000");

	poller = (struct poller){ .vcpufd = vcpu[2], .port = ports[2] };
	pthread_create(&thread, NULL, poller_thread, &poller);
	usleep(100000);
	check(!xvm_mmio_write(vcpu[0], DEMO_DOORBELL, 4, ports[2], &handled) &&
	      handled, "vCPU 0 rings the doorbell with vCPU 2's port");
	pthread_join(thread, NULL);
	printf("  vCPU 2 poller returned %d, woken by port %u\n", poller.ret,
	       poller.woken_by);
	check(poller.ret == 1 && poller.woken_by == ports[2],
	      "the poller on vCPU 2 woke for its port");

	peer = xvm_create_vm(xvm, 0);
	check(peer >= 0 && !xvm_evtchn_alloc_unbound(peer, &remote) &&
	      !xvm_evtchn_bind_interdomain(vm, peer, remote, &local),
	      "a second VM, linked by an interdomain channel");
	check(!xvm_evtchn_send(vm, local) &&
	      !xvm_evtchn_status(peer, remote, &state, &status) &&
	      (status & XVM_EVTCHN_STATUS_PENDING),
	      "a send in VM 1 is pending in VM 2");
	close(peer);
	check(!xvm_evtchn_status(vm, local, &state, &status) &&
	      state == XVM_EVTCHN_STATE_UNBOUND,
	      "closing VM 2 unbinds VM 1's end");

	for (i = 0; i < DEMO_VCPUS; i++)
		close(vcpu[i]);
	close(vm);
	close(xvm);
	printf("== %s: %d check(s) failed\n", failures ? "FAILED" : "OK",
	       failures);
	return failures ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xvm-vmm caps | demo | --help\n"
		"  caps   print the capabilities of the loaded xvm modules\n"
		"  demo   run the scripted demo session; exit 0 if all checks held\n");
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "caps"))
		return cmd_caps();
	if (argc == 2 && !strcmp(argv[1], "demo"))
		return cmd_demo();
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
