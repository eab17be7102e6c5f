/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xvm-vmm: shared types.
 *
 *   main.c        command line: caps, run, demo
 *   config.c      the config file parser: one keyword table (format:
 *                 examples/README.md); the result is immutable
 *   vm.c          struct vm: the setup/teardown list, VM, vCPUs, memory,
 *                 event ports, doorbell
 *   vcpu.c        one thread per vCPU: XVM_POLL, CPU-interface loop, requests
 *   vgic.c        GICv3: device, regions, "firmware" programming, checks
 *   vfio.c        VFIO: bind, container/group/device, DMA map, IRQs, regions
 *   msix.c        the MSI-X interposer
 *   iommu.c       xvm-iommu attach/map/unmap and the DMA check
 *   dev-e1000e.c  the e1000e (8086:10d3): how it raises MSI-X vector N
 *   dev-edu.c     the edu (1234:11e8): its DMA engine
 *   script.c      the scripted guest: runs the config's script steps
 *   output.c      human output, checks, --json, -v ioctl trace
 *   hostdev.c     driver binding: sysfs driver_override, or libvirt
 *   control.c     run --control PATH: the socket handing out stats fds
 *   stat.c        xvm-vmm stat: the live statistics viewer (its client)
 *   state*.c      xvm-vmm save / restore: the state file (docs/state-file.md)
 *   migrate.c     xvm-vmm migrate / incoming: the state file over a socket
 *   update.c      live update: xvm-vmm update PATH, the live-update step
 *
 * The parsed config (struct vmm_config, kvmtool's struct kvm_config) is
 * const once config_parse() returns; everything that exists while the VM
 * runs - fds, mappings, threads, counters - lives in struct vm (kvmtool's
 * struct kvm).  There is no CPU emulation: the "guest" is the script of the
 * config file, whose accesses are performed through XVM_MMIO on the vCPU fds.
 */
#ifndef XVM_VMM_H
#define XVM_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "host/vfio.h"
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
#define SOURCE_LEN	96

/* Exit statuses */
#define EXIT_CHECK	1	/* a check failed, or setup failed */
#define EXIT_USAGE	2	/* usage or config error */

/* ---- the parsed configuration (config.c): const after parsing ---- */

struct pci_addr {
	char bdf[16];		/* canonical 0000:00:03.0 */
	uint32_t segment;
	uint8_t bus, devfn;
};

struct port_cfg {
	char name[NAME_LEN];
	uint32_t vcpu;
	int peer;		/* peer=: the other end of a loopback pair, or -1 */
	bool paired;		/* a later port names this one as its peer */
	bool eventfd;		/* an eventfd of the VMM's raises it */
	bool remote;		/* allocated for a named VM (XVM_EVTCHN_ALLOC_REMOTE) */
	int line;
};

struct spi_cfg {
	uint32_t intid;
	uint32_t vcpu;
	int line;
};

struct rdist_cfg {
	uint32_t index, count;
	uint64_t base;
};

struct gic_cfg {
	int line;		/* 0: no GIC */
	uint64_t dist;
	uint32_t nr_irqs;
	struct rdist_cfg rdist[MAX_RDIST];
	uint32_t nr_rdist;
};

enum route_kind { ROUTE_NONE, ROUTE_PORT, ROUTE_SPI };

struct route {
	enum route_kind kind;
	int target;		/* index in cfg->ports or cfg->spis */
};

struct vfio_cfg {
	char name[NAME_LEN];
	struct pci_addr pci;
	int line;
	bool msix;
	uint64_t table_gpa, pba_gpa;	/* guest addresses; pba 0: table + PBA offset */
	struct route vec[MAX_VEC];
	uint32_t nr_routes;
};

struct iommu_cfg {
	char name[NAME_LEN];
	struct pci_addr pci;
	int line;
	bool mirror;
};

/* Script steps: a tagged union, one member per kind of step. */
enum step_tag {
	STEP_MMIO_WRITE, STEP_MMIO_READ, STEP_SEND, STEP_DOORBELL, STEP_SETSPI,
	STEP_WAIT, STEP_CHECK_GIC, STEP_FIRE_MSIX, STEP_MSIX_PAGE,
	STEP_IOMMU_MAP, STEP_IOMMU_UNMAP, STEP_DMA, STEP_SLEEP, STEP_SPI_LINE,
	STEP_MIGRATE,		/* where xvm-vmm migrate leaves; elsewhere a no-op */
	STEP_MEM_WRITE, STEP_MEM_READ,	/* guest RAM: struct step_mmio */
	STEP_SIGNAL,
	STEP_LIVE_UPDATE,
};

enum mmio_expect { EXPECT_NONE, EXPECT_VALUE, EXPECT_UNHANDLED };
enum dma_expect { DMA_LANDS = 1, DMA_FAULTS };

struct step_mmio {
	uint32_t vcpu, len;
	uint64_t addr, val, mask;
	uint32_t expect;	/* enum mmio_expect */
};

struct step_raise {		/* send, ring, setspi, signal */
	int target;		/* port or spi index */
	uint32_t vcpu;
};

struct step_wait {
	int port, spi;		/* exactly one is >= 0 */
	uint64_t timeout_ns;
};

struct step_fire {
	int dev;
	uint32_t vector;
	uint32_t count;		/* fires, each awaited */
	bool masked;		/* the vector is masked: expect it latched, not delivered */
	uint64_t timeout_ns;
};

struct step_update {		/* live-update */
	int dev;		/* -1: no fires during the hand-over */
	uint32_t vector, count;
};

struct step_msix_page {
	int dev;
	uint64_t offset;
};

struct step_iommu {		/* iommu-map, iommu-unmap */
	int dev;
	uint64_t gpa, len;
	bool ro;
};

struct step_dma {
	int dev;
	uint64_t from, to, len;
	uint32_t expect;	/* enum dma_expect */
};

struct step_sleep {
	uint64_t ns;
};

struct step_line {		/* spi-line */
	uint32_t intid, level;
};

struct step {
	enum step_tag tag;
	int line;
	char text[160];		/* the line, for the log */
	union {
		struct step_mmio mmio;
		struct step_raise raise;
		struct step_wait wait;
		struct step_fire fire;
		struct step_msix_page page;
		struct step_iommu iommu;
		struct step_dma dma;
		struct step_sleep sleep;
		struct step_line spi_line;
		struct step_update update;
	};
};

struct vmm_config {
	const char *path, *file;	/* file: path's basename, for messages */
	uint32_t vcpus;
	int vcpus_line;
	uint64_t vm_id;			/* XVM_CAP_VM_ID (vm-id, default 1) */
	uint64_t mem_size, mem_gpa;
	int memory_line;
	struct gic_cfg gic;
	uint64_t doorbell;
	int doorbell_line;		/* 0: no doorbell */
	struct port_cfg ports[MAX_PORTS];
	unsigned int nr_ports;
	struct spi_cfg spis[MAX_SPIS];
	unsigned int nr_spis;
	struct vfio_cfg vfio[MAX_VFIO];
	unsigned int nr_vfio;
	struct iommu_cfg iommu[MAX_IOMMU];
	unsigned int nr_iommu;
	struct step steps[MAX_STEPS];
	unsigned int nr_steps;
};

/*
 * Parses path; the result, or NULL after printing FILE:LINE: error.  The
 * config is never written again.
 */
const struct vmm_config *config_parse(const char *path);
/* The same, of the len bytes at text (a state file's copy), named name. */
const struct vmm_config *config_parse_text(const char *name, const char *text,
					   size_t len);
int parse_pci_addr(const char *s, struct pci_addr *p);

/* ---- device quirks (dev-*.c), chosen by vendor:device ---- */

struct dev_ops {
	const char *name;
	uint16_t vendor, device;
	/* VFIO-assigned: route the device's causes to MSI-X vectors */
	void (*msix_route)(volatile void *bar0);
	/* raise MSI-X vector vec; -1 (EOPNOTSUPP) if it cannot */
	int (*msix_fire)(volatile void *bar0, unsigned int vec, const char *who);
	/* xvm-iommu: is bar0 this device's (0), and copy len bytes from -> to */
	int (*probe)(volatile void *bar0);
	int (*dma_copy)(volatile void *bar0, uint64_t from, uint64_t to,
			uint64_t len);
	uint64_t dma_limit;		/* IOVAs the device reaches (exclusive) */
};

extern const struct dev_ops dev_e1000e_ops, dev_edu_ops;
const struct dev_ops *dev_ops_find(uint16_t vendor, uint16_t device);

/* ---- the running VM (vm.c, vcpu.c) ---- */

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
	int poll_idx[MAX_PORTS + 2];	/* index in vm->ports, or -1 */
	unsigned int nr_poll;
	unsigned int wakeups;
	/* one request at a time, from the script thread (under vm->lock) */
	enum vcpu_op op;
	uint64_t addr, val;
	uint32_t len;
	int ret, err, handled;
	bool done;
};

/* Deliveries of a port or SPI: seen by a vCPU, consumed by waits (vm->lock). */
struct delivery {
	unsigned int seen, waited;
	char source[SOURCE_LEN];	/* what raised it last (for the log) */
};

struct port_rt {
	const struct port_cfg *cfg;
	uint32_t port;
	int efd;			/* eventfd -> port bridge (eventfd), or -1 */
	struct delivery dlv;
};

struct spi_rt {
	const struct spi_cfg *cfg;
	struct delivery dlv;
};

struct vfio_rt {
	const struct vfio_cfg *cfg;
	const struct dev_ops *ops;	/* NULL: no known quirks */
	struct vfio_dev dev;		/* container, group, device fds, BAR0 */
	uint64_t bar_off[6], bar_size[6];
	int efd[MAX_VEC];
	unsigned int nr_efd;
	int msixdev;
	struct xvm_msix_info info;
	uint64_t pba_gpa;		/* the PBA's guest address in use */
	bool bound_by_us;
	char old_driver[64];
	/* the script's fires of each vector, over every process of a live update */
	unsigned int fired[MAX_VEC], delivered[MAX_VEC], latched[MAX_VEC];
};

struct iommu_rt {
	const struct iommu_cfg *cfg;
	const struct dev_ops *ops;	/* NULL: no DMA engine known */
	int dev;
	volatile uint8_t *bar;
	char old_driver[64];
};

struct vm {
	const struct vmm_config *cfg;
	int xvm, fd, gic;
	void *mem;
	int memfd;			/* guest memory is this memfd, shared (live update) */
	unsigned int next_step;		/* where script_run() starts (a live update's resume) */
	struct vcpu vcpu[MAX_VCPUS];
	struct port_rt ports[MAX_PORTS];
	struct spi_rt spis[MAX_SPIS];
	struct vfio_rt vfio[MAX_VFIO];
	struct iommu_rt iommu[MAX_IOMMU];
	unsigned int done[16];		/* instances set up, per setup step */
	bool restore;			/* VM_SETUP_RESTORE: state.c programs it */
	bool stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* a delivery was seen or a request done */
};

/*
 * Runs the setup list; on failure, what was set up is torn down.  With
 * VM_SETUP_RESTORE the scripted guest's programming (GIC, MSI-X), the MSI-X
 * hooks and the vCPU threads are left out: a state file restores them
 * (state.c), then vcpus_start().
 */
#define VM_SETUP_RESTORE	(1u << 0)
int vm_setup(struct vm *vm, const struct vmm_config *c, unsigned int flags);
/* Tears down, in reverse, what vm_setup() set up. */
void vm_teardown(struct vm *vm);
/*
 * A VM set up by another process (a live update): vm initialised for c with
 * every setup step marked done, so that vm_teardown() releases it all; the
 * caller fills in the fds it received.
 */
void vm_adopt(struct vm *vm, const struct vmm_config *c);
/*
 * XVM_CREATE_DEVICE of type for config line `line`; *fd is the device fd, or
 * -1 with the error reported (naming module, which provides the type).
 */
int vm_create_device(struct vm *vm, uint32_t type, const char *module,
		     int line, int *fd);
int vcpus_start(struct vm *vm);
void vcpus_stop(struct vm *vm);
/* A guest access performed on vCPU id by its thread; 0 or -1 (errno). */
int vcpu_mmio(struct vm *vm, unsigned int id, bool write, uint64_t addr,
	      uint32_t len, uint64_t *val, int *handled);
/* *ts = CLOCK_REALTIME now + timeout_ns (for pthread_cond_timedwait()). */
struct timespec;
void deadline_in(struct timespec *ts, uint64_t timeout_ns);
/* Waits until seen > waited, then consumes; 1 if it came, 0 on timeout. */
int vm_wait_seen(struct vm *vm, struct delivery *d, uint64_t timeout_ns);
void vm_set_source(struct vm *vm, struct delivery *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Forget deliveries seen so far (before a fire whose delivery is awaited). */
void vm_sync_seen(struct vm *vm, struct delivery *d);
/* What raised d last (dflt if nothing said), for the delivery's log line. */
void vm_get_source(struct vm *vm, struct delivery *d, char *src, size_t len,
		   const char *dflt);
/* A vCPU thread saw a delivery: count it, wake the waiters. */
void vm_delivered(struct vm *vm, struct delivery *d);

/* ---- devices ---- */

/* The MPIDR affinity of vCPU id: Aff0 its low 4 bits, Aff1 the next 8. */
static inline uint32_t vgic_aff(unsigned int id)
{
	return (id & 0xf) | (((id >> 4) & 0xff) << 8);
}

int vgic_setup(struct vm *vm, unsigned int i);
void vgic_close(struct vm *vm, unsigned int i);
int vgic_firmware(struct vm *vm, unsigned int i);
int vgic_check_regions(struct vm *vm);
uint64_t vgic_rdist_addr(const struct vmm_config *c, unsigned int vcpu);
void vgic_handle(struct vm *vm, struct vcpu *v);
/* Script step spi-line: XVM_VGIC_IRQ_LINE, the SPI's wire. */
int vgic_spi_line(struct vm *vm, const struct step *s);
#define GICD_SETSPI_NSR	0x40

int vfio_open_dev(struct vm *vm, unsigned int i);
void vfio_close_dev(struct vm *vm, unsigned int i);
int vfio_set_msix_irqs(struct vfio_rt *d, unsigned int n);
/* A live update: region offsets, BAR0 mapped again, quirks (fds received). */
int vfio_adopt_dev(struct vm *vm, unsigned int i);
int vfio_cfg_read(struct vfio_rt *d, uint32_t off, uint32_t len, uint32_t *val);
int vfio_cfg_write(struct vfio_rt *d, uint32_t off, uint32_t len, uint32_t val);
int vfio_bar_rw(struct vfio_rt *d, unsigned int bar, uint64_t off,
		uint32_t len, uint64_t *val, bool write);

int msix_setup(struct vm *vm, unsigned int i);
/* Table and PBA on the bus, the eventfds hooked (the last step of setup). */
int msix_hook(struct vm *vm, struct vfio_rt *d);
void msix_close(struct vm *vm, unsigned int i);
int msix_firmware(struct vm *vm, unsigned int i);
/* Guest config-space write/read of the device (MSI-X control word forwarded). */
int msix_cfg_access(struct vfio_rt *d, uint32_t off, uint32_t len,
		    uint32_t *val, bool write);
int msix_fire(struct vfio_rt *d, unsigned int vec);
int msix_page_access(struct vm *vm, struct vfio_rt *d, uint64_t off);
/* The delivery a vector's route raises (its port's or SPI's). */
struct delivery *route_delivery(struct vm *vm, const struct route *r);

int iommu_setup(struct vm *vm, unsigned int i);
/* A live update: the DMA engine's BAR0 mapped again (the device fd received). */
void iommu_adopt(struct vm *vm, unsigned int i);
void iommu_close(struct vm *vm, unsigned int i);
int iommu_map(struct vm *vm, const struct step *s);
int iommu_unmap(struct vm *vm, const struct step *s);
int iommu_dma(struct vm *vm, const struct step *s);

/* hostdev.c: host driver binding (sysfs, or libvirt when built with it) */
int hostdev_bind(const struct pci_addr *p, const char *driver, char *old,
		 size_t oldlen);
void hostdev_release(const struct pci_addr *p, const char *old);

/* Runs the script from step vm->next_step (0, or where a live update resumes). */
int script_run(struct vm *vm);
/*
 * Runs the steps from `from` on (past the end: none), then the vCPU summary;
 * with to_migrate it stops after the first migrate step.  The index of the
 * step after the last one run (nr_steps: the script is over).
 */
unsigned int script_run_from(struct vm *vm, unsigned int from, bool to_migrate);
/* ": FILE:LINE: <errno text> (ENAME)" for a failed call of step s. */
const char *step_errno(const struct vm *vm, const struct step *s, char *buf,
		       size_t len);

/* ---- control.c, stat.c: the control socket's protocol ---- */

#define VMM_CTL_MAGIC		"XVMC"	/* 4 bytes, no NUL in the reply */
#define VMM_CTL_VERSION		1
#define VMM_CTL_REQ_LEN		4
#define VMM_CTL_REQ_STAT	"STAT"	/* the stats fds */
#define VMM_CTL_REQ_TAKE	"TAKE"	/* the whole VM: a live update (update.c) */
#define VMM_CTL_MAX_FDS		(MAX_VCPUS + 1)

/* The reply to a request, with nr_fds fds attached (SCM_RIGHTS). */
struct vmm_ctl_reply {
	char magic[4];		/* VMM_CTL_MAGIC */
	uint16_t version;	/* VMM_CTL_VERSION */
	uint16_t nr_fds;	/* the VM's stats fd, then each vCPU's */
	int32_t status;		/* 0, or an errno (EOPNOTSUPP: unknown request) */
	uint32_t nr_vcpus;
};

/* Listens on path (mode 0600) in a thread; -1 with the error printed. */
int control_start(struct vm *vm, const char *path);
/* Ends the thread, removes the socket file (no-op if not started). */
void control_stop(void);
/* A live update: serve the listening socket sock at path, received from the old VMM. */
int control_adopt(struct vm *vm, const char *path, int sock);
/* The listening socket (-1: none) and its path, for a live update. */
int control_sock(const char **path);
/* The accept thread paused (a hand-over in progress) and resumed. */
void control_pause(void);
int control_resume(void);
/* After a hand-over: the socket is the new VMM's: neither closed nor removed. */
void control_forget(void);

/* ---- update.c: live update ---- */

/* The control thread got "TAKE" on conn; update.c owns conn from now on. */
void update_request(int conn);
/*
 * A step boundary (step next runs next): a pending "TAKE" is served here.
 * Returns only if there was none or the hand-over failed (the VM runs on).
 */
void update_boundary(struct vm *vm, unsigned int next);
/* run and update hand the VM over at a live-update step; save/restore skip it. */
extern bool update_enabled;
/* The live-update step: this VMM hands its VM to a new xvm-vmm it starts. */
int update_step(struct vm *vm, const struct step *s);
/* xvm-vmm update PATH: argv[0] is "update"; the exit status. */
int cmd_update(int argc, char **argv);
/* xvm-vmm stat: argv[0] is "stat"; the exit status. */
int cmd_stat(int argc, char **argv);
/* xvm-vmm save / restore (state.c): argv[0] is the command; the exit status. */
int cmd_save(int argc, char **argv);
int cmd_restore(int argc, char **argv);
/* xvm-vmm migrate / incoming (migrate.c): argv[0] is the command. */
int cmd_migrate(int argc, char **argv);
int cmd_incoming(int argc, char **argv);

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
/*
 * A setup step of config line `line` failed: "FILE:LINE: what: <errno text>
 * (ENAME)" on stderr, errno as the failed call left it; returns -1.
 */
int line_error(const struct vmm_config *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "Invalid argument (EINVAL)" for errno e. */
const char *errno_text(int e, char *buf, size_t len);
/* -v: one line per ioctl; ret is the call's result (errno used if < 0). */
int traced(int ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int out_finish(int setup_failed);
/* A live update: item i recorded so far (false past the last), t0. */
bool out_item(unsigned int i, const char **kind, const char **text, bool *ok);
/* Records an item of the old VMM (a check is counted), silently. */
void out_item_add(const char *kind, const char *text, bool ok);
uint64_t out_t0(void);
void out_set_t0(uint64_t t0);
uint64_t now_ns(void);

#define SEC	1000000000ULL
#define MSEC	1000000ULL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#endif /* XVM_VMM_H */
