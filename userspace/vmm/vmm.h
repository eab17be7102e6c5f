/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xvm-vmm: shared types.
 *
 *   main.c     command line: caps, run, demo
 *   config.c   the config file parser (format: examples/README.md)
 *   vm.c       VM, vCPUs, memory, event ports, doorbell; setup and teardown
 *   vcpu.c     one thread per vCPU: XVM_POLL, CPU-interface loop, requests
 *   vgic.c     GICv3: device, regions, "firmware" programming, checks
 *   vfio.c     VFIO: bind, container/group/device, DMA map, IRQs, regions
 *   msix.c     the MSI-X interposer and the e1000e as interrupt source
 *   iommu.c    xvm-iommu attach/map/unmap and the edu DMA engine
 *   script.c   the scripted guest: runs the config's script steps
 *   output.c   human output, checks, --json, -v ioctl trace
 *   hostdev.c  driver binding: sysfs driver_override, or libvirt
 *
 * There is no CPU emulation: the "guest" is the script of the config file,
 * whose accesses are performed through XVM_MMIO on the vCPU fds.
 */
#ifndef XVM_VMM_H
#define XVM_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "libxvm.h"

#define MAX_VCPUS	64
#define MAX_PORTS	64
#define MAX_RDIST	8
#define MAX_SPIS	32
#define MAX_VFIO	4
#define MAX_IOMMU	4
#define MAX_VEC		32
#define MAX_STEPS	256
#define NAME_LEN	32

/* Exit statuses */
#define EXIT_CHECK	1	/* a check failed, or setup failed */
#define EXIT_USAGE	2	/* usage or config error */

/* ---- configuration (config.c) ---- */

struct port_cfg {
	char name[NAME_LEN];
	unsigned int vcpu;
	int line;
	/* runtime */
	uint32_t port;
	unsigned int seen, waited;	/* deliveries seen by the vCPU / consumed by waits */
	char source[96];		/* what raised it last (for the log) */
};

struct spi_cfg {
	unsigned int intid;
	unsigned int vcpu;
	int line;
	unsigned int seen, waited;
	char source[96];
};

enum route_kind { ROUTE_NONE, ROUTE_PORT, ROUTE_SPI };

struct route {
	enum route_kind kind;
	int port;		/* index in cfg->ports */
	int spi;		/* index in cfg->spis */
};

struct pci_addr {
	char bdf[16];		/* canonical 0000:00:03.0 */
	uint32_t segment;
	uint8_t bus, devfn;
};

struct vfio_dev {
	char name[NAME_LEN];
	struct pci_addr pci;
	int line;
	bool msix;
	uint64_t table_gpa, pba_gpa;	/* guest addresses; pba 0: table + PBA offset */
	struct route vec[MAX_VEC];
	unsigned int nr_routes;
	/* runtime */
	int container, group, device;
	uint64_t cfg_off;
	uint64_t bar_off[6], bar_size[6];
	volatile uint32_t *bar0;
	size_t bar0_size;
	int efd[MAX_VEC];
	unsigned int nr_efd;
	int msixdev;
	struct xvm_msix_info info;
	bool bound_by_us;
	char old_driver[64];
};

struct iommu_dev {
	char name[NAME_LEN];
	struct pci_addr pci;
	int line;
	bool mirror;
	/* runtime */
	int dev;
	volatile uint8_t *bar;
	char old_driver[64];
};

enum step_kind {
	STEP_MMIO_WRITE, STEP_MMIO_READ, STEP_SEND, STEP_DOORBELL, STEP_SETSPI,
	STEP_WAIT_PORT, STEP_WAIT_SPI, STEP_CHECK_GIC, STEP_FIRE_MSIX,
	STEP_MSIX_PAGE, STEP_IOMMU_MAP, STEP_IOMMU_UNMAP, STEP_DMA,
	STEP_SLEEP,
};

#define EXPECT_NONE		0
#define EXPECT_VALUE		1
#define EXPECT_UNHANDLED	2
#define EXPECT_LANDS		3
#define EXPECT_FAULTS		4

struct step {
	enum step_kind kind;
	int line;
	char text[160];		/* the line, for the log */
	unsigned int vcpu;
	int dev;		/* index: port, spi, vfio or iommu device */
	uint64_t addr, addr2, len, val, mask;
	uint64_t timeout_ns;
	int expect;
	bool ro;
};

struct config {
	const char *path, *file;	/* file: path's basename, for messages */
	unsigned int vcpus;
	uint64_t mem_size, mem_gpa;
	bool has_gic;
	uint64_t dist;
	uint64_t rdist_base[MAX_RDIST];
	unsigned int rdist_count[MAX_RDIST], nr_rdist;
	uint32_t nr_irqs;
	bool has_doorbell;
	uint64_t doorbell;
	struct port_cfg ports[MAX_PORTS];
	unsigned int nr_ports;
	struct spi_cfg spis[MAX_SPIS];
	unsigned int nr_spis;
	struct vfio_dev vfio[MAX_VFIO];
	unsigned int nr_vfio;
	struct iommu_dev iommu[MAX_IOMMU];
	unsigned int nr_iommu;
	struct step steps[MAX_STEPS];
	unsigned int nr_steps;
};

/* Parses path into *c (zeroed first); 0, or -1 after printing file:line: error. */
int config_parse(const char *path, struct config *c);
int parse_pci_addr(const char *s, struct pci_addr *p);

/* ---- runtime (vm.c, vcpu.c) ---- */

enum vcpu_op { VOP_NONE, VOP_READ, VOP_WRITE };

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	pthread_t thread;
	bool started;
	uint32_t kick;			/* unbound port: wakes the thread for a request */
	uint32_t notify;		/* vGIC notify port (0: no vGIC) */
	uint32_t poll_ports[MAX_PORTS + 2];
	int poll_idx[MAX_PORTS + 2];	/* index in cfg->ports, or -1 */
	unsigned int nr_poll;
	unsigned int wakeups;
	/* one request at a time, from the script thread (under vm->lock) */
	enum vcpu_op op;
	uint64_t addr, val;
	uint32_t len;
	int ret, err, handled;
	bool done;
};

struct vm {
	struct config *cfg;
	int xvm, fd;
	void *mem;
	struct vcpu vcpu[MAX_VCPUS];
	int gic;
	bool stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* a delivery was seen or a request done */
};

int vm_setup(struct vm *vm, struct config *c);
void vm_teardown(struct vm *vm);
int vcpus_start(struct vm *vm);
void vcpus_stop(struct vm *vm);
/* A guest access performed on vCPU id by its thread; 0 or -1 (errno). */
int vcpu_mmio(struct vm *vm, unsigned int id, bool write, uint64_t addr,
	      uint32_t len, uint64_t *val, int *handled);
/* Waits until *seen > *waited, then consumes; 1 if it came, 0 on timeout. */
int vm_wait_seen(struct vm *vm, unsigned int *seen, unsigned int *waited,
		 uint64_t timeout_ns);
void vm_set_source(struct vm *vm, char *dst, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Forget deliveries seen so far (before a fire whose delivery is awaited). */
void vm_sync_seen(struct vm *vm, unsigned int *seen, unsigned int *waited);

/* ---- devices ---- */

int vgic_setup(struct vm *vm);
int vgic_firmware(struct vm *vm);
int vgic_check_regions(struct vm *vm);
uint64_t vgic_rdist_addr(struct config *c, unsigned int vcpu);
void vgic_handle(struct vm *vm, struct vcpu *v);
#define GICD_SETSPI_NSR	0x40

int vfio_open_dev(struct vm *vm, struct vfio_dev *d);
void vfio_close_dev(struct vfio_dev *d);
int vfio_set_msix_irqs(struct vfio_dev *d, unsigned int n);
int vfio_cfg_read(struct vfio_dev *d, uint32_t off, uint32_t len, uint32_t *val);
int vfio_cfg_write(struct vfio_dev *d, uint32_t off, uint32_t len, uint32_t val);
int vfio_bar_rw(struct vfio_dev *d, unsigned int bar, uint64_t off,
		uint32_t len, uint64_t *val, bool write);

int msix_setup(struct vm *vm, struct vfio_dev *d);
int msix_firmware(struct vm *vm, struct vfio_dev *d);
/* Guest config-space write/read of the device (MSI-X control word forwarded). */
int msix_cfg_access(struct vm *vm, struct vfio_dev *d, uint32_t off,
		    uint32_t len, uint32_t *val, bool write);
int msix_fire(struct vm *vm, struct vfio_dev *d, unsigned int vec);
int msix_page_access(struct vm *vm, struct vfio_dev *d, uint64_t off);

int iommu_setup(struct vm *vm, struct iommu_dev *d);
void iommu_close(struct iommu_dev *d);
int iommu_map(struct vm *vm, struct iommu_dev *d, uint64_t gpa, uint64_t len,
	      bool ro);
int iommu_unmap(struct vm *vm, struct iommu_dev *d, uint64_t gpa, uint64_t len);
int iommu_dma(struct vm *vm, struct iommu_dev *d, uint64_t from, uint64_t to,
	      uint64_t len, int expect);

/* hostdev.c: host driver binding (sysfs, or libvirt when built with it) */
int hostdev_bind(const struct pci_addr *p, const char *driver, char *old,
		 size_t oldlen);
void hostdev_release(const struct pci_addr *p, const char *old);
void pci_driver_of(const char *bdf, char *buf, size_t len);
int iommu_group_of(const char *bdf);

int script_run(struct vm *vm);

/* ---- output.c ---- */

extern int opt_json, opt_verbose;
void out_init(const char *config);
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void section(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void created(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void event(const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* -v: one line per ioctl; ret is the call's result (errno used if < 0). */
int traced(int ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int out_finish(int setup_failed);
uint64_t now_ns(void);

#define SEC	1000000000ULL
#define MSEC	1000000ULL

#endif /* XVM_VMM_H */
