// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-fuzz: a structured ioctl fuzzer for the xvm uapi (uapi/linux/xvm.h),
 * on syzkaller's model: it knows the resources the API creates (/dev/xvm,
 * VM, vCPU and device fds of every type, event ports, memory slots, GIC
 * regions, MMIO addresses), builds mostly-valid structs with boundary values,
 * and runs several threads issuing random operations on one shared resource
 * table, with random closes, fork (the child must get EIO), SCM_RIGHTS fd
 * passing, mmap/munmap of slot memory, XVM_POLL with short timeouts,
 * signals and module unload attempts.
 *
 *   xvm-fuzz [--seed N] [--duration S] [--iterations N] [--threads T]
 *            [--devices] [--avoid OP,...] [--only OP,...] [--list] [-v]
 *
 * Each thread's sequence of operations is a function of the seed (printed
 * first); the interleaving of the threads is not.  PCI devices are used only
 * when given (--devices, or XVM_TEST_E1000E=BDF / XVM_TEST_EDU=BDF), and only
 * the sandbox guest's e1000e (8086:10d3) and edu (1234:11e8), checked by
 * vendor and device id; without them the attach paths get BDFs that are
 * verified not to exist and must be refused.
 *
 * Exit status: 0, unless an impossible result was seen ("report" lines):
 * a fork child whose ioctls do not fail with EIO, a module that unloads
 * while a device of it exists, a wrong API version, an MMIO register that
 * does not hold what was written, a stuck thread.  An errno outside the
 * documented set is a "warning" line, not a failure.  2: usage error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/xvm.h>
#include <linux/xvm-gicv3.h>

#include "host/env.h"
#include "host/fdpass.h"
#include "host/pci.h"
#include "host/vfio.h"

#define MAX_THREADS	16
#define MAX_RES		192	/* resource table entries */
#define MAX_VMS		48
#define MAX_AREAS	24
#define NR_HINTS	16
#define PAGE		4096ULL

/* Guest physical windows the generators draw from. */
#define GPA_RAM		0x00000000ULL	/* memory slots */
#define GPA_GICD	0x08000000ULL
#define GPA_GICR	0x080a0000ULL
#define GPA_TESTDEV	0x10000000ULL
#define GPA_DOORBELL	0x20000000ULL
#define GPA_MSIX	0x30000000ULL
/* The oracle's registers: never generated, so only their thread writes them. */
#define GPA_ORACLE	0x70000000ULL
#define ORACLE_SIZE	0x100ULL

/* --------------------------------------------------------------------- */
/* Options, statistics                                                     */

static struct {
	uint64_t seed;
	unsigned int duration;	/* s */
	uint64_t iterations;	/* 0: unbounded */
	unsigned int threads;
	bool verbose;
	const char *e1000e;	/* BDF or NULL */
	const char *edu;
} opt = { .duration = 60, .threads = 4 };

static atomic_uint_fast64_t n_iter, n_ioctls, n_fds, n_reports, n_warnings;
static atomic_uint_fast64_t n_errno[256];
static atomic_bool stop_now;
static uint64_t t0_ns;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	va_start(ap, fmt);
	fputs("xvm-fuzz: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
	pthread_mutex_unlock(&out_lock);
}

/* An impossible result: printed, counted, makes the exit status 1. */
#define report(...) do {						\
	atomic_fetch_add(&n_reports, 1);				\
	say("REPORT: " __VA_ARGS__);					\
} while (0)

/* --------------------------------------------------------------------- */
/* Deterministic randomness (splitmix64, one stream per thread)            */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0. */
static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

/* True with probability 1/n. */
static bool one_in(struct rng *r, unsigned int n)
{
	return below(r, n) == 0;
}

/* A boundary value around max: 0, 1, max-1, max, max+1, ~0, powers of 2. */
static uint64_t boundary(struct rng *r, uint64_t max)
{
	switch (below(r, 9)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return max - 1;
	case 3: return max;
	case 4: return max + 1;
	case 5: return ~0ULL;
	case 6: return 1ULL << below(r, 64);
	case 7: return (uint32_t)~0U;
	default: return rnd(r);
	}
}

/* Mostly v, sometimes a boundary value around v. */
static uint64_t mostly(struct rng *r, uint64_t v, uint64_t max)
{
	return one_in(r, 8) ? boundary(r, max) : v;
}

/* --------------------------------------------------------------------- */
/* The resource table                                                      */

enum rkind { R_XVM, R_VM, R_VCPU, R_DEV, R_EVENTFD, R_VFIO, R_NKINDS };
static const char *const kind_name[] = { "xvm", "vm", "vcpu", "dev", "eventfd", "vfio" };

struct res {
	bool used, dead, pinned;
	int fd, users;
	enum rkind kind;
	int vm;			/* VM record, or -1 */
	uint32_t dtype;		/* R_DEV: XVM_DEV_TYPE_* */
	uint32_t vcpu_id;	/* R_VCPU */
	const char *bdf;	/* R_VFIO: the device whose group it is */
};

/* What we believe about a VM: hints for the generators, not the truth. */
struct vmrec {
	bool used;
	int refs;		/* resources pointing here */
	uint32_t phys_bits;
	uint32_t ports[NR_HINTS];
	uint32_t vcpus[NR_HINTS];
	uint64_t slot_gpa[NR_HINTS], slot_size[NR_HINTS];
	uint32_t slot_nr[NR_HINTS];
	unsigned int nports, nvcpus, nslots;
};

struct area {
	bool used, dead;
	int users;
	uint8_t *p;
	size_t len;
};

static pthread_mutex_t tab_lock = PTHREAD_MUTEX_INITIALIZER;
static struct res res[MAX_RES];
static struct vmrec vms[MAX_VMS];
static struct area areas[MAX_AREAS];

static void vmrec_put_locked(int v)
{
	if (v >= 0 && --vms[v].refs == 0)
		memset(&vms[v], 0, sizeof(vms[v]));
}

static int vmrec_new_locked(uint32_t bits)
{
	int v;

	for (v = 0; v < MAX_VMS; v++) {
		if (!vms[v].used) {
			memset(&vms[v], 0, sizeof(vms[v]));
			vms[v].used = true;
			vms[v].phys_bits = bits;
			return v;
		}
	}
	return -1;
}

/* Drops the entry once it is dead and unused; closes its fd. */
static void res_reap_locked(int i)
{
	if (!res[i].dead || res[i].users)
		return;
	close(res[i].fd);
	vmrec_put_locked(res[i].vm);
	memset(&res[i], 0, sizeof(res[i]));
}

/*
 * Adds fd as a resource; vm is a VM record (a new reference is taken) or
 * -1.  With hold, the entry is returned held (res_put() it), so no other
 * thread can close it first.  When the table is full the fd is closed.
 * Returns the index or -1.
 */
static int res_add_hold(int fd, enum rkind kind, int vm, uint32_t dtype,
			uint32_t vcpu_id, bool hold)
{
	int i;

	if (fd < 0)
		return -1;
	atomic_fetch_add(&n_fds, 1);
	pthread_mutex_lock(&tab_lock);
	for (i = 0; i < MAX_RES; i++)
		if (!res[i].used)
			break;
	if (i == MAX_RES) {
		pthread_mutex_unlock(&tab_lock);
		close(fd);
		return -1;
	}
	res[i] = (struct res){ .used = true, .fd = fd, .kind = kind, .vm = vm,
			       .dtype = dtype, .vcpu_id = vcpu_id,
			       .users = hold ? 1 : 0 };
	if (vm >= 0)
		vms[vm].refs++;
	pthread_mutex_unlock(&tab_lock);
	return i;
}

static int res_add(int fd, enum rkind kind, int vm, uint32_t dtype,
		   uint32_t vcpu_id)
{
	return res_add_hold(fd, kind, vm, dtype, vcpu_id, false);
}

/* Number of live entries. */
static int res_count(void)
{
	int i, n = 0;

	pthread_mutex_lock(&tab_lock);
	for (i = 0; i < MAX_RES; i++)
		n += res[i].used && !res[i].dead;
	pthread_mutex_unlock(&tab_lock);
	return n;
}

/*
 * A random live resource of kind (and device type dtype, unless 0; of VM
 * record vm, unless -1), held until res_put().  -1 if there is none.
 */
static int res_pick_in(struct rng *r, enum rkind kind, uint32_t dtype, int vm)
{
	int i, n = 0, cand[MAX_RES];

	pthread_mutex_lock(&tab_lock);
	for (i = 0; i < MAX_RES; i++) {
		if (!res[i].used || res[i].dead || res[i].kind != kind)
			continue;
		if (dtype && res[i].dtype != dtype)
			continue;
		if (vm >= 0 && res[i].vm != vm)
			continue;
		cand[n++] = i;
	}
	i = n ? cand[below(r, n)] : -1;
	if (i >= 0)
		res[i].users++;
	pthread_mutex_unlock(&tab_lock);
	return i;
}

static int res_pick(struct rng *r, enum rkind kind, uint32_t dtype)
{
	return res_pick_in(r, kind, dtype, -1);
}

/*
 * A VM or vCPU fd, half of the time one of a VM that has a device (so
 * slot changes reach IOMMU mirrors, MMIO reaches MSI-X tables and GICs).
 */
static int res_pick_rich(struct rng *r, enum rkind kind)
{
	int d, x = -1, vm;

	if (one_in(r, 2)) {
		d = res_pick(r, R_DEV, 0);
		if (d >= 0) {
			vm = res[d].vm;
			x = res_pick_in(r, kind, 0, vm);
			pthread_mutex_lock(&tab_lock);
			res[d].users--;
			res_reap_locked(d);
			pthread_mutex_unlock(&tab_lock);
		}
	}
	return x >= 0 ? x : res_pick(r, kind, 0);
}

/* Any live resource at all. */
static int res_pick_any(struct rng *r)
{
	return res_pick(r, (enum rkind)below(r, R_NKINDS), 0);
}

static void res_put(int i)
{
	if (i < 0)
		return;
	pthread_mutex_lock(&tab_lock);
	res[i].users--;
	res_reap_locked(i);
	pthread_mutex_unlock(&tab_lock);
}

/* Marks a held entry for closing (unless pinned) and drops the hold. */
static void res_kill(int i)
{
	pthread_mutex_lock(&tab_lock);
	if (!res[i].pinned)
		res[i].dead = true;
	res[i].users--;
	res_reap_locked(i);
	pthread_mutex_unlock(&tab_lock);
}

/* Hints. */
static void hint_add(uint32_t *arr, unsigned int *n, uint32_t v)
{
	arr[*n % NR_HINTS] = v;
	(*n)++;
}

static void vm_hint_port(int vm, uint32_t port)
{
	if (vm < 0)
		return;
	pthread_mutex_lock(&tab_lock);
	hint_add(vms[vm].ports, &vms[vm].nports, port);
	pthread_mutex_unlock(&tab_lock);
}

static void vm_hint_vcpu(int vm, uint32_t id)
{
	if (vm < 0)
		return;
	pthread_mutex_lock(&tab_lock);
	hint_add(vms[vm].vcpus, &vms[vm].nvcpus, id);
	pthread_mutex_unlock(&tab_lock);
}

static void vm_hint_slot(int vm, uint32_t slot, uint64_t gpa, uint64_t size)
{
	unsigned int k;

	if (vm < 0)
		return;
	pthread_mutex_lock(&tab_lock);
	k = vms[vm].nslots++ % NR_HINTS;
	vms[vm].slot_nr[k] = slot;
	vms[vm].slot_gpa[k] = gpa;
	vms[vm].slot_size[k] = size;
	pthread_mutex_unlock(&tab_lock);
}

static uint32_t gen_from_hints(struct rng *r, const uint32_t *arr,
			       unsigned int n, uint32_t dflt)
{
	unsigned int have = n < NR_HINTS ? n : NR_HINTS;

	return have ? arr[below(r, have)] : dflt;
}

/* A port number for VM record vm. */
static uint32_t gen_port(struct rng *r, int vm)
{
	uint32_t p = 1 + (uint32_t)below(r, 32);

	if (vm >= 0 && below(r, 10) < 7) {
		pthread_mutex_lock(&tab_lock);
		p = gen_from_hints(r, vms[vm].ports, vms[vm].nports, p);
		pthread_mutex_unlock(&tab_lock);
		return p;
	}
	if (one_in(r, 3))
		return (uint32_t)boundary(r, XVM_EVTCHN_MAX_PORTS - 1);
	return p;
}

static uint32_t gen_vcpu_id(struct rng *r, int vm)
{
	uint32_t id = (uint32_t)below(r, 8);

	if (vm >= 0 && below(r, 10) < 6) {
		pthread_mutex_lock(&tab_lock);
		id = gen_from_hints(r, vms[vm].vcpus, vms[vm].nvcpus, id);
		pthread_mutex_unlock(&tab_lock);
		return id;
	}
	if (one_in(r, 4))
		return (uint32_t)boundary(r, 1023);
	return id;
}

/* --------------------------------------------------------------------- */
/* Per-thread context, pointers, MMIO addresses                            */

struct ctx {
	struct rng r;
	unsigned int id;
	uint8_t *guard;		/* 2 pages, the second PROT_NONE */
	uint64_t oracle_seq;
	const char *op;		/* current operation, for the watchdog */
	_Atomic uint64_t op_start;
	pthread_t thr;
	bool joined;
};

static struct ctx ctxs[MAX_THREADS];
static bool is_root;

/*
 * The address of the argument: mostly good, sometimes NULL, a kernel
 * address, an unmapped page, or a copy of the struct straddling into it.
 */
static void *argp(struct ctx *c, void *good, size_t size)
{
	size_t k;

	if (below(&c->r, 24))
		return good;
	switch (below(&c->r, 4)) {
	case 0: return NULL;
	case 1: return (void *)0xffff888000000000ULL;
	case 2: return c->guard + PAGE;
	default:
		k = size > 1 ? 1 + below(&c->r, size - 1) : 0;
		memcpy(c->guard + PAGE - k, good, k);
		return c->guard + PAGE - k;
	}
}

/* Sometimes sets one byte of a reserved field (or the struct's tail). */
static void maybe_dirty(struct ctx *c, void *field, size_t size)
{
	if (size && one_in(&c->r, 12))
		((uint8_t *)field)[below(&c->r, size)] = (uint8_t)(1 + below(&c->r, 255));
}

/* A guest physical address for an MMIO access or a region. */
static uint64_t gen_gpa(struct ctx *c, uint64_t align)
{
	static const uint64_t win[] = { GPA_TESTDEV, GPA_DOORBELL, GPA_GICD,
					GPA_GICR, GPA_MSIX, GPA_RAM };
	uint64_t a;

	if (one_in(&c->r, 10)) {
		a = boundary(&c->r, 1ULL << 40);
		if (a >= GPA_ORACLE && a < GPA_ORACLE + ORACLE_SIZE * MAX_THREADS)
			a = 0;
		return a;
	}
	a = win[below(&c->r, sizeof(win) / sizeof(win[0]))];
	a += below(&c->r, 0x40000);
	if (!one_in(&c->r, 6))
		a &= ~(align - 1);
	return a;
}

/* --------------------------------------------------------------------- */
/* The ioctl wrapper and the documented errnos                             */

/* Errno sets: a 0-terminated list. */
#define ERRS(...)	((const int[]){ __VA_ARGS__, 0 })
/* Always acceptable: pointers are bad on purpose, memory may run out. */
static const int common_errs[] = { EFAULT, ENOMEM, 0 };
static const int einval_only[] = { EINVAL, 0 };

static bool in_set(const int *set, int e)
{
	for (; set && *set; set++)
		if (*set == e)
			return true;
	return false;
}

static pthread_mutex_t warn_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { const char *op; int e; } warned[128];
static unsigned int nwarned;

/* Warns once per (operation, errno) that is not in the documented set. */
static void warn_errno(const char *op, int e)
{
	unsigned int i;

	atomic_fetch_add(&n_warnings, 1);
	pthread_mutex_lock(&warn_lock);
	for (i = 0; i < nwarned; i++) {
		if (warned[i].e == e && !strcmp(warned[i].op, op)) {
			pthread_mutex_unlock(&warn_lock);
			return;
		}
	}
	if (nwarned < 128) {
		warned[nwarned].op = op;
		warned[nwarned].e = e;
		nwarned++;
	}
	pthread_mutex_unlock(&warn_lock);
	say("warning: %s: errno %s (%d) is not documented for it", op,
	    strerrorname_np(e) ? strerrorname_np(e) : "?", e);
}

/* Per-ioctl-name outcome counts, printed with -v. */
static pthread_mutex_t stat_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { const char *name; uint64_t ok, fail; } op_stats[64];

static void op_stat(const char *name, bool ok)
{
	unsigned int i;

	if (!opt.verbose)
		return;
	pthread_mutex_lock(&stat_lock);
	for (i = 0; i < 64 && op_stats[i].name && op_stats[i].name != name; i++)
		;
	if (i < 64) {
		op_stats[i].name = name;
		if (ok)
			op_stats[i].ok++;
		else
			op_stats[i].fail++;
	}
	pthread_mutex_unlock(&stat_lock);
}

/*
 * One ioctl: counted, its errno counted and checked against the set.
 * Returns the result with errno preserved.
 */
static long xioctl(struct ctx *c, const char *name, int fd, unsigned long req,
		   void *arg, const int *errs)
{
	long ret;
	int e;

	c->op = name;
	errno = 0;
	ret = ioctl(fd, req, arg);
	e = errno;
	atomic_fetch_add(&n_ioctls, 1);
	op_stat(name, ret >= 0);
	if (ret < 0) {
		atomic_fetch_add(&n_errno[e & 255], 1);
		if (!in_set(errs, e) && !in_set(common_errs, e))
			warn_errno(name, e);
	}
	errno = e;
	return ret;
}

/* --------------------------------------------------------------------- */
/* Memory areas (slot memory)                                              */

static int area_pick(struct rng *r)
{
	int i, n = 0, cand[MAX_AREAS];

	pthread_mutex_lock(&tab_lock);
	for (i = 0; i < MAX_AREAS; i++)
		if (areas[i].used && !areas[i].dead)
			cand[n++] = i;
	i = n ? cand[below(r, n)] : -1;
	if (i >= 0)
		areas[i].users++;
	pthread_mutex_unlock(&tab_lock);
	return i;
}

static void area_reap_locked(int i)
{
	if (areas[i].dead && !areas[i].users) {
		munmap(areas[i].p, areas[i].len);
		memset(&areas[i], 0, sizeof(areas[i]));
	}
}

static void area_put(int i, bool kill)
{
	if (i < 0)
		return;
	pthread_mutex_lock(&tab_lock);
	areas[i].users--;
	if (kill)
		areas[i].dead = true;
	area_reap_locked(i);
	pthread_mutex_unlock(&tab_lock);
}

static void op_mmap(struct ctx *c)
{
	size_t len = PAGE * (1 + below(&c->r, 32));
	int flags = MAP_ANONYMOUS | (one_in(&c->r, 3) ? MAP_SHARED : MAP_PRIVATE);
	uint8_t *p;
	int i;

	if (one_in(&c->r, 4))
		len = PAGE * 512;	/* a THP-sized area */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return;
	if (!one_in(&c->r, 3))
		memset(p, (int)c->id, len);
	pthread_mutex_lock(&tab_lock);
	for (i = 0; i < MAX_AREAS; i++)
		if (!areas[i].used)
			break;
	if (i == MAX_AREAS) {
		pthread_mutex_unlock(&tab_lock);
		munmap(p, len);
		return;
	}
	areas[i] = (struct area){ .used = true, .p = p, .len = len };
	pthread_mutex_unlock(&tab_lock);
}

static void op_munmap(struct ctx *c)
{
	area_put(area_pick(&c->r), true);
}

/* Touch, protect or drop the pages of an area (slots and pins see it). */
static void op_area_poke(struct ctx *c)
{
	int a = area_pick(&c->r);

	if (a < 0)
		return;
	switch (below(&c->r, 4)) {
	case 0:
		/* Not memset: another thread may have made it read-only. */
		if (getrandom(areas[a].p, areas[a].len, GRND_NONBLOCK) < 0)
			(void)0;	/* EFAULT when read-only */
		break;
	case 1:
		madvise(areas[a].p, areas[a].len, MADV_DONTNEED);
		break;
	case 2:
		mprotect(areas[a].p, areas[a].len, PROT_READ);
		break;
	default:
		mprotect(areas[a].p, areas[a].len, PROT_READ | PROT_WRITE);
		break;
	}
	area_put(a, false);
}

/* --------------------------------------------------------------------- */
/* /dev/xvm                                                                */

static void op_open_xvm(struct ctx *c)
{
	c->op = "open";
	res_add(open("/dev/xvm", O_RDWR | O_CLOEXEC), R_XVM, -1, 0, 0);
}

static void op_api_version(struct ctx *c)
{
	int x = res_pick(&c->r, R_XVM, 0);
	long v;

	if (x < 0)
		return;
	v = xioctl(c, "GET_API_VERSION", res[x].fd, XVM_GET_API_VERSION, NULL, NULL);
	if (v != XVM_API_VERSION)
		report("XVM_GET_API_VERSION returned %ld (errno %d), not %d",
		       v, errno, XVM_API_VERSION);
	res_put(x);
}

static const long cap_values[] = { 0, 1024, 1024, 1024, 256, 52, 1024,
				   4096, 1, 4096, 1024, 1, 1, PAGE, 1, 1 };
#define CAP_LAST	XVM_CAP_OWNER_TRANSFER

static void op_check_extension(struct ctx *c)
{
	bool on_vm = one_in(&c->r, 2);
	int x = res_pick(&c->r, on_vm ? R_VM : R_XVM, 0);
	long cap = (long)below(&c->r, CAP_LAST + 2), v;

	if (x < 0)
		return;
	if (one_in(&c->r, 5))
		cap = (long)boundary(&c->r, 10);
	v = xioctl(c, "CHECK_EXTENSION", res[x].fd, XVM_CHECK_EXTENSION,
		   (void *)cap, NULL);
	if (cap >= 1 && cap <= CAP_LAST && v != cap_values[cap])
		report("XVM_CHECK_EXTENSION(%ld) on a %s fd: %ld, documented %ld",
		       cap, kind_name[res[x].kind], v, cap_values[cap]);
	else if ((cap < 1 || cap > CAP_LAST) && cap != XVM_CAP_VM_ID && v != 0)
		report("XVM_CHECK_EXTENSION(unknown %ld): %ld, not 0", cap, v);
	if (cap == XVM_CAP_VM_ID && v != 1)
		report("XVM_CHECK_EXTENSION(XVM_CAP_VM_ID): %ld, documented 1", v);
	res_put(x);
}

/*
 * XVM_ENABLE_CAP(XVM_CAP_HALT_POLL) on a VM, or an unknown cap: windows up
 * to 100 us mostly (a poll spins at most its window), sometimes anything.
 */
static void op_enable_cap(struct ctx *c)
{
	struct xvm_enable_cap cap;
	int x = res_pick(&c->r, R_VM, 0);

	if (x < 0)
		return;
	memset(&cap, 0, sizeof(cap));
	cap.cap = (uint32_t)mostly(&c->r, XVM_CAP_HALT_POLL, 64);
	cap.args[0] = mostly(&c->r, below(&c->r, 100000), ~0ULL);
	cap.args[1] = mostly(&c->r, below(&c->r, 2), ~0ULL);
	maybe_dirty(c, &cap.flags, sizeof(cap.flags));
	maybe_dirty(c, &cap.args[2], 2 * sizeof(cap.args[2]));
	maybe_dirty(c, cap.pad, sizeof(cap.pad));
	xioctl(c, "ENABLE_CAP", res[x].fd, XVM_ENABLE_CAP,
	       argp(c, &cap, sizeof(cap)), ERRS(EINVAL, EBUSY));
	res_put(x);
}

static void op_create_vm(struct ctx *c)
{
	int x = res_pick(&c->r, R_XVM, 0), fd, v;
	unsigned long type = one_in(&c->r, 2) ? 0 : 32 + below(&c->r, 21);
	uint32_t bits;

	if (x < 0)
		return;
	if (one_in(&c->r, 6))
		type = boundary(&c->r, 52);
	fd = (int)xioctl(c, "CREATE_VM", res[x].fd, XVM_CREATE_VM, (void *)type,
			 ERRS(EINVAL));
	res_put(x);
	if (fd < 0)
		return;
	bits = XVM_VM_TYPE_PHYS_ADDR_BITS(type) ? (uint32_t)type : 40;
	pthread_mutex_lock(&tab_lock);
	v = vmrec_new_locked(bits);
	pthread_mutex_unlock(&tab_lock);
	if (v < 0) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&tab_lock);
	vms[v].refs = 0;	/* res_add takes the first reference */
	pthread_mutex_unlock(&tab_lock);
	if (res_add(fd, R_VM, v, 0, 0) < 0) {
		pthread_mutex_lock(&tab_lock);
		memset(&vms[v], 0, sizeof(vms[v]));
		pthread_mutex_unlock(&tab_lock);
	}
}

/* --------------------------------------------------------------------- */
/* VM fd                                                                   */

static void op_create_vcpu(struct ctx *c)
{
	int x = res_pick_rich(&c->r, R_VM), fd;
	uint64_t id;

	if (x < 0)
		return;
	id = below(&c->r, 3) ? below(&c->r, 8) : boundary(&c->r, 1023);
	if (one_in(&c->r, 16))
		id |= 1ULL << 32;	/* only looks small when truncated */
	fd = (int)xioctl(c, "CREATE_VCPU", res[x].fd, XVM_CREATE_VCPU,
			 (void *)(uintptr_t)id, ERRS(EINVAL, EEXIST, EBUSY, E2BIG));
	if (fd >= 0) {
		vm_hint_vcpu(res[x].vm, (uint32_t)id);
		res_add(fd, R_VCPU, res[x].vm, 0, (uint32_t)id);
	}
	res_put(x);
}

static void op_memory_region(struct ctx *c)
{
	struct xvm_userspace_memory_region m = { 0 };
	int x = res_pick_rich(&c->r, R_VM), a = area_pick(&c->r);
	uint64_t size;

	if (x < 0)
		goto out;
	m.slot = (uint32_t)(below(&c->r, 4) ? below(&c->r, 8) : boundary(&c->r, 255));
	if (one_in(&c->r, 10))
		m.flags = (uint32_t)boundary(&c->r, XVM_MEM_READONLY);
	else
		m.flags = one_in(&c->r, 4) ? XVM_MEM_READONLY : 0;
	size = a >= 0 ? areas[a].len : PAGE;
	if (one_in(&c->r, 3) && size > PAGE)
		size = PAGE * (1 + below(&c->r, size / PAGE));
	m.memory_size = one_in(&c->r, 5) ? 0 : mostly(&c->r, size, size);
	m.guest_phys_addr = GPA_RAM + PAGE * below(&c->r, 0x4000);
	m.guest_phys_addr = mostly(&c->r, m.guest_phys_addr, 1ULL << 40);
	m.userspace_addr = a >= 0 ? (uint64_t)(uintptr_t)areas[a].p : 0x10000;
	m.userspace_addr = mostly(&c->r, m.userspace_addr, 0x00007ffffffff000ULL);
	maybe_dirty(c, m.reserved, sizeof(m.reserved));
	if (!xioctl(c, "SET_USER_MEMORY_REGION", res[x].fd,
		    XVM_SET_USER_MEMORY_REGION, argp(c, &m, sizeof(m)),
		    ERRS(EINVAL, EEXIST, EOVERFLOW)) &&
	    m.memory_size)
		vm_hint_slot(res[x].vm, m.slot, m.guest_phys_addr, m.memory_size);
out:
	area_put(a, false);
	res_put(x);
}

static void op_create_device(struct ctx *c)
{
	struct xvm_create_device cd = { 0 };
	int x = res_pick(&c->r, R_VM, 0);

	if (x < 0)
		return;
	cd.type = 1 + (uint32_t)below(&c->r, 4);
	if (one_in(&c->r, 8))
		cd.type = (uint32_t)boundary(&c->r, XVM_DEV_TYPE_MAX);
	if (one_in(&c->r, 8))
		cd.flags = one_in(&c->r, 2) ? XVM_CREATE_DEVICE_TEST :
			   (uint32_t)boundary(&c->r, 1);
	maybe_dirty(c, &cd.pad, sizeof(cd.pad));
	cd.fd = (uint32_t)rnd(&c->r);
	if (!xioctl(c, "CREATE_DEVICE", res[x].fd, XVM_CREATE_DEVICE,
		    argp(c, &cd, sizeof(cd)), ERRS(EINVAL, ENODEV, EEXIST)) &&
	    !(cd.flags & XVM_CREATE_DEVICE_TEST))
		res_add((int)cd.fd, R_DEV, res[x].vm, cd.type, 0);
	res_put(x);
}

/* One event-channel op. */
static void op_evtchn(struct ctx *c)
{
	static const struct { unsigned long req; const char *name; } ops[] = {
		{ XVM_EVTCHN_ALLOC_UNBOUND, "EVTCHN_ALLOC_UNBOUND" },
		{ XVM_EVTCHN_BIND_VCPU, "EVTCHN_BIND_VCPU" },
		{ XVM_EVTCHN_BIND_INTERDOMAIN, "EVTCHN_BIND_INTERDOMAIN" },
		{ XVM_EVTCHN_CLOSE, "EVTCHN_CLOSE" },
		{ XVM_EVTCHN_SEND, "EVTCHN_SEND" },
		{ XVM_EVTCHN_MASK, "EVTCHN_MASK" },
		{ XVM_EVTCHN_UNMASK, "EVTCHN_UNMASK" },
		{ XVM_EVTCHN_STATUS, "EVTCHN_STATUS" },
		{ XVM_EVTCHN_CLEAR, "EVTCHN_CLEAR" },
		{ XVM_EVTCHN_EVENTFD, "EVTCHN_EVENTFD" },
		{ XVM_EVTCHN_ALLOC_UNBOUND, "EVTCHN_ALLOC_UNBOUND" },
		{ XVM_EVTCHN_SEND, "EVTCHN_SEND" },
	};
	struct xvm_evtchn_op op = { 0 };
	int x = res_pick_rich(&c->r, R_VM), o = (int)below(&c->r, 12), other = -1;
	unsigned long req = ops[o].req;

	if (x < 0)
		return;
	op.port = gen_port(&c->r, res[x].vm);
	op.vcpu_id = gen_vcpu_id(&c->r, res[x].vm);
	op.fd = -1;
	if (req == XVM_EVTCHN_BIND_INTERDOMAIN) {
		other = res_pick(&c->r, one_in(&c->r, 8) ? R_EVENTFD : R_VM, 0);
		op.fd = other >= 0 ? res[other].fd : (int)boundary(&c->r, 1024);
		op.remote_port = gen_port(&c->r, other >= 0 ? res[other].vm : -1);
	} else if (req == XVM_EVTCHN_EVENTFD) {
		other = res_pick(&c->r, one_in(&c->r, 8) ? R_VM : R_EVENTFD, 0);
		op.fd = other >= 0 ? res[other].fd : (int)boundary(&c->r, 1024);
		op.flags = (uint32_t)below(&c->r, 4);
	}
	if (one_in(&c->r, 12))
		op.flags = (uint32_t)boundary(&c->r, 3);
	maybe_dirty(c, &op.pad, sizeof(op.pad));
	maybe_dirty(c, op.reserved, sizeof(op.reserved));
	if (!xioctl(c, ops[o].name, res[x].fd, req, argp(c, &op, sizeof(op)),
		    ERRS(EINVAL, ENOENT, ENOSPC, EBADF, EBUSY, EACCES)) &&
	    (req == XVM_EVTCHN_ALLOC_UNBOUND || req == XVM_EVTCHN_BIND_INTERDOMAIN))
		vm_hint_port(res[x].vm, op.port);
	res_put(other);
	res_put(x);
}

static void op_evtchn_reset(struct ctx *c)
{
	int x = res_pick(&c->r, R_VM, 0);

	if (x < 0)
		return;
	xioctl(c, "EVTCHN_RESET", res[x].fd, XVM_EVTCHN_RESET, NULL, NULL);
	res_put(x);
}

/* Event-channel state: GET_STATE, SET_STATE with hostile records, RELINK */

#define EVST_RECS	16

static struct xvm_evtchn_port_state evst_recs[MAX_THREADS][EVST_RECS];

/* What a record GET_STATE gives can never be. */
static bool evst_bad_record(const struct xvm_evtchn_port_state *r,
			    uint32_t prev_port)
{
	bool linked = r->state == XVM_EVTCHN_STATE_INTERDOMAIN;
	bool peered = linked || (r->flags & XVM_EVTCHN_PORT_REMOTE_NAMED);

	return r->port <= prev_port || r->port >= XVM_EVTCHN_MAX_PORTS ||
	       r->state < XVM_EVTCHN_STATE_UNBOUND || r->state > XVM_EVTCHN_STATE_INTERDOMAIN ||
	       (r->flags & ~XVM_EVTCHN_PORT_FLAGS_ALL) || r->pad ||
	       r->reserved[0] || r->reserved[1] || r->reserved[2] || r->reserved[3] ||
	       peered != !!r->peer_id || linked != !!r->peer_port ||
	       (!(r->flags & XVM_EVTCHN_PORT_VCPU) && r->vcpu_id) ||
	       (r->state == XVM_EVTCHN_STATE_VCPU && !(r->flags & XVM_EVTCHN_PORT_VCPU));
}

static void evst_get(struct ctx *c, int x, struct xvm_evtchn_port_state *rec)
{
	struct xvm_evtchn_table_state h = { 0 };
	uint32_t i, room = (uint32_t)below(&c->r, EVST_RECS + 1);

	h.version = (uint32_t)mostly(&c->r, XVM_EVTCHN_STATE_VERSION, 2);
	h.nr_ports = room;
	h.ports = (uintptr_t)rec;
	if (one_in(&c->r, 8)) {
		h.nr_ports = (uint32_t)boundary(&c->r, XVM_EVTCHN_MAX_PORTS);
		h.ports = (uintptr_t)(c->guard + PAGE);	/* only a guard page */
	} else if (one_in(&c->r, 8)) {
		h.ports = (uintptr_t)argp(c, rec, sizeof(*rec));
	}
	maybe_dirty(c, &h.flags, sizeof(h.flags));
	maybe_dirty(c, &h.pad, sizeof(h.pad));
	maybe_dirty(c, h.reserved, sizeof(h.reserved));
	if (xioctl(c, "EVTCHN_GET_STATE", res[x].fd, XVM_EVTCHN_GET_STATE,
		   argp(c, &h, sizeof(h)), ERRS(EINVAL, E2BIG, ENXIO)) ||
	    h.ports != (uintptr_t)rec || h.nr_ports > room)
		return;
	if ((h.flags & ~XVM_EVTCHN_STATE_DOORBELL) ||
	    (!(h.flags & XVM_EVTCHN_STATE_DOORBELL) && h.doorbell_addr))
		report("EVTCHN_GET_STATE: flags %#x doorbell %#llx", h.flags,
		       (unsigned long long)h.doorbell_addr);
	for (i = 0; i < h.nr_ports; i++)
		if (evst_bad_record(&rec[i], i ? rec[i - 1].port : 0))
			report("EVTCHN_GET_STATE record %u of %u: port %u state %u flags %#x peer %#llx:%u",
			       i, h.nr_ports, rec[i].port, rec[i].state, rec[i].flags,
			       (unsigned long long)rec[i].peer_id, rec[i].peer_port);
}

/* A record, mostly plausible, often subtly wrong. */
static void evst_gen_record(struct ctx *c, int vm,
			    struct xvm_evtchn_port_state *r)
{
	memset(r, 0, sizeof(*r));
	r->port = gen_port(&c->r, vm);
	r->state = (uint32_t)mostly(&c->r, 1 + below(&c->r, 3), 3);
	r->flags = (uint32_t)mostly(&c->r, below(&c->r, 16),
				    XVM_EVTCHN_PORT_FLAGS_ALL);
	if (r->flags & XVM_EVTCHN_PORT_VCPU || one_in(&c->r, 8))
		r->vcpu_id = gen_vcpu_id(&c->r, vm);
	if (r->state == XVM_EVTCHN_STATE_INTERDOMAIN ||
	    (r->flags & XVM_EVTCHN_PORT_REMOTE_NAMED) || one_in(&c->r, 8))
		r->peer_id = mostly(&c->r, 1 + below(&c->r, 4), ~0ULL);
	if (r->state == XVM_EVTCHN_STATE_INTERDOMAIN || one_in(&c->r, 8))
		r->peer_port = gen_port(&c->r, vm);
	maybe_dirty(c, &r->pad, sizeof(r->pad));
	maybe_dirty(c, r->reserved, sizeof(r->reserved));
}

static void evst_set(struct ctx *c, int x, struct xvm_evtchn_port_state *rec)
{
	struct xvm_evtchn_table_state h = { 0 };
	uint32_t i, n = (uint32_t)below(&c->r, EVST_RECS + 1);

	if (one_in(&c->r, 3))
		xioctl(c, "EVTCHN_RESET", res[x].fd, XVM_EVTCHN_RESET, NULL, NULL);
	for (i = 0; i < n; i++)
		evst_gen_record(c, res[x].vm, &rec[i]);
	h.version = (uint32_t)mostly(&c->r, XVM_EVTCHN_STATE_VERSION, 2);
	h.nr_ports = (uint32_t)mostly(&c->r, n, XVM_EVTCHN_MAX_PORTS);
	h.ports = (uintptr_t)rec;
	if (h.nr_ports > EVST_RECS)	/* never read past rec[] */
		h.ports = (uintptr_t)(c->guard + PAGE);
	else if (one_in(&c->r, 8))
		h.ports = (uintptr_t)argp(c, rec, n * sizeof(*rec));
	if (one_in(&c->r, 3)) {
		h.flags = XVM_EVTCHN_STATE_DOORBELL;
		h.doorbell_addr = GPA_DOORBELL + 4 * below(&c->r, 4);
		if (one_in(&c->r, 6))
			h.doorbell_addr = gen_gpa(c, 4);
	}
	if (one_in(&c->r, 8))
		h.vm_id = 1 + below(&c->r, 4);
	maybe_dirty(c, &h.flags, sizeof(h.flags));
	maybe_dirty(c, &h.pad, sizeof(h.pad));
	maybe_dirty(c, h.reserved, sizeof(h.reserved));
	if (xioctl(c, "EVTCHN_SET_STATE", res[x].fd, XVM_EVTCHN_SET_STATE,
		   argp(c, &h, sizeof(h)),
		   ERRS(EINVAL, EBUSY, ENOENT, ENXIO, EEXIST, ENOSPC)))
		return;
	for (i = 0; i < n && h.ports == (uintptr_t)rec; i++)
		vm_hint_port(res[x].vm, rec[i].port);
}

static void evst_relink(struct ctx *c, int x)
{
	struct xvm_evtchn_relink rl = { 0 };
	int other = res_pick(&c->r, one_in(&c->r, 8) ? R_EVENTFD : R_VM, 0);

	rl.fd = other >= 0 ? res[other].fd : (int)boundary(&c->r, 1024);
	maybe_dirty(c, &rl.flags, sizeof(rl.flags));
	maybe_dirty(c, rl.reserved, sizeof(rl.reserved));
	if (!xioctl(c, "EVTCHN_RELINK", res[x].fd, XVM_EVTCHN_RELINK,
		    argp(c, &rl, sizeof(rl)), ERRS(EBADF, EINVAL, ENXIO)) &&
	    rl.nr_done > XVM_EVTCHN_MAX_PORTS - 1)
		report("EVTCHN_RELINK: done %u", rl.nr_done);
	res_put(other);
}

/* The VM's id, one of a few so that records name real VMs. */
static void evst_vm_id(struct ctx *c, int x)
{
	struct xvm_enable_cap cap = { .cap = XVM_CAP_VM_ID };

	cap.args[0] = mostly(&c->r, 1 + below(&c->r, 4), ~0ULL);
	maybe_dirty(c, &cap.args[1], 3 * sizeof(cap.args[1]));
	xioctl(c, "ENABLE_CAP(VM_ID)", res[x].fd, XVM_ENABLE_CAP,
	       argp(c, &cap, sizeof(cap)), ERRS(EINVAL, EBUSY));
}

static void op_evtchn_state(struct ctx *c)
{
	struct xvm_evtchn_port_state *rec = evst_recs[c->id];
	int x = res_pick_rich(&c->r, R_VM);

	if (x < 0)
		return;
	switch (below(&c->r, 8)) {
	case 0: case 1: case 2: evst_get(c, x, rec); break;
	case 3: case 4: case 5: evst_set(c, x, rec); break;
	case 6: evst_relink(c, x); break;
	default: evst_vm_id(c, x); break;
	}
	res_put(x);
}

static void op_doorbell(struct ctx *c)
{
	struct xvm_evtchn_doorbell d = { 0 };
	int x = res_pick_rich(&c->r, R_VM);

	if (x < 0)
		return;
	d.addr = below(&c->r, 3) ? GPA_DOORBELL + 4 * below(&c->r, 4) : gen_gpa(c, 4);
	if (one_in(&c->r, 6))
		d.flags = one_in(&c->r, 2) ? XVM_EVTCHN_DOORBELL_DISABLE :
			  (uint32_t)boundary(&c->r, 1);
	maybe_dirty(c, &d.pad, sizeof(d.pad));
	xioctl(c, "EVTCHN_SET_DOORBELL", res[x].fd, XVM_EVTCHN_SET_DOORBELL,
	       argp(c, &d, sizeof(d)), ERRS(EINVAL, EEXIST, ENOSPC));
	res_put(x);
}

/* --------------------------------------------------------------------- */
/* vCPU fd                                                                 */

static void gen_mmio(struct ctx *c, struct xvm_mmio *m)
{
	static const uint32_t lens[] = { 1, 2, 4, 8, 4, 8, 4, 0, 3, 16 };

	memset(m, 0, sizeof(*m));
	m->len = lens[below(&c->r, 10)];
	if (below(&c->r, 6))
		m->len = lens[below(&c->r, 4)];
	m->addr = gen_gpa(c, m->len ? m->len : 1);
	m->data = one_in(&c->r, 2) ? rnd(&c->r) : below(&c->r, 64);
	m->flags = one_in(&c->r, 2) ? XVM_MMIO_WRITE : 0;
	if (one_in(&c->r, 16))
		m->flags = (uint32_t)boundary(&c->r, 1);
	m->result = (uint32_t)rnd(&c->r);
	maybe_dirty(c, &m->reserved, sizeof(m->reserved));
}

static void op_mmio(struct ctx *c)
{
	struct xvm_mmio m;
	int x = res_pick_rich(&c->r, R_VCPU);

	if (x < 0)
		return;
	gen_mmio(c, &m);
	xioctl(c, "MMIO", res[x].fd, XVM_MMIO, argp(c, &m, sizeof(m)),
	       ERRS(EINVAL));
	res_put(x);
}

/* XVM_GET_VCPU_MMAP_SIZE on /dev/xvm (or, rarely, another fd). */
static void op_vcpu_mmap_size(struct ctx *c)
{
	int x = one_in(&c->r, 8) ? res_pick_any(&c->r) : res_pick(&c->r, R_XVM, 0);
	unsigned long arg = one_in(&c->r, 8) ? boundary(&c->r, 1) : 0;
	long v;

	if (x < 0)
		return;
	v = xioctl(c, "GET_VCPU_MMAP_SIZE", res[x].fd, XVM_GET_VCPU_MMAP_SIZE,
		   (void *)arg, ERRS(EINVAL, ENOTTY));
	if (res[x].kind == R_XVM && !arg && v != (long)PAGE)
		report("XVM_GET_VCPU_MMAP_SIZE: %ld (errno %d), not %llu", v,
		       errno, PAGE);
	res_put(x);
}

/* An mmap of the run page that xvm must refuse: offset, length, flags. */
static bool run_map_bad(size_t len, off_t off, int prot, int flags)
{
	return off || len > PAGE || (prot & PROT_EXEC) || !(flags & MAP_SHARED);
}

/*
 * The run page: map it (mostly as documented, sometimes not), write an
 * access into it and XVM_MMIO_RUN; the mapping is kept as a memory area
 * now and then, for slots and the other ops to meet.
 */
static void op_mmio_run(struct ctx *c)
{
	int x = res_pick_rich(&c->r, R_VCPU), i;
	size_t len = PAGE;
	off_t off = 0;
	int prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED;
	unsigned long arg = one_in(&c->r, 16) ? boundary(&c->r, 1) : 0;
	struct xvm_vcpu_run *run;

	if (x < 0)
		return;
	if (one_in(&c->r, 6))
		len = PAGE * (1 + below(&c->r, 3)) - (one_in(&c->r, 2) ? 1 : 0);
	if (one_in(&c->r, 8))
		off = (off_t)(PAGE * below(&c->r, 3));
	if (one_in(&c->r, 10))
		prot |= PROT_EXEC;
	if (one_in(&c->r, 10))
		flags = MAP_PRIVATE;
	c->op = "mmap (run page)";
	run = mmap(NULL, len, prot, flags, res[x].fd, off);
	if (run != MAP_FAILED && run_map_bad(len, off, prot, flags))
		report("mmap of the run page: len %zu off %lld prot %#x flags %#x mapped",
		       len, (long long)off, prot, flags);
	if (run == MAP_FAILED) {
		if (!run_map_bad(len, off, prot, flags) && errno != ENOMEM)
			report("mmap of the run page: %s", strerror(errno));
		res_put(x);
		return;
	}
	gen_mmio(c, &run->mmio);
	xioctl(c, "MMIO_RUN", res[x].fd, XVM_MMIO_RUN, (void *)arg, ERRS(EINVAL));
	res_put(x);
	pthread_mutex_lock(&tab_lock);
	for (i = 0; i < MAX_AREAS && one_in(&c->r, 4); i++)
		if (!areas[i].used) {
			areas[i] = (struct area){ .used = true, .p = (void *)run,
						  .len = len };
			run = NULL;
			break;
		}
	pthread_mutex_unlock(&tab_lock);
	if (run)
		munmap(run, len);
}

static void op_mmio_batch(struct ctx *c)
{
	static struct xvm_mmio acc[MAX_THREADS][64];
	struct xvm_mmio *a = acc[c->id];
	struct xvm_mmio_batch b = { 0 };
	int x = res_pick_rich(&c->r, R_VCPU);
	uint32_t i;

	if (x < 0)
		return;
	b.count = (uint32_t)below(&c->r, 65);
	for (i = 0; i < b.count; i++)
		gen_mmio(c, &a[i]);
	b.accesses = (uint64_t)(uintptr_t)a;
	if (one_in(&c->r, 10)) {
		/* A count the array does not have: the tail is unmapped. */
		b.count = (uint32_t)boundary(&c->r, XVM_MMIO_BATCH_MAX);
		b.accesses = (uint64_t)(uintptr_t)(c->guard + PAGE -
						   sizeof(*a) * below(&c->r, 3));
	}
	maybe_dirty(c, &b.reserved, sizeof(b.reserved));
	xioctl(c, "MMIO_BATCH", res[x].fd, XVM_MMIO_BATCH,
	       argp(c, &b, sizeof(b)), ERRS(EINVAL));
	if (b.done > b.count && b.count <= XVM_MMIO_BATCH_MAX)
		report("XVM_MMIO_BATCH: done %u > count %u", b.done, b.count);
	res_put(x);
}

static void op_poll(struct ctx *c)
{
	static uint32_t ports[MAX_THREADS][XVM_POLL_MAX_PORTS + 1];
	uint32_t *pl = ports[c->id];
	struct xvm_poll p = { 0 };
	int x = res_pick_rich(&c->r, R_VCPU);
	uint32_t i, n;
	long ret;

	if (x < 0)
		return;
	n = 1 + (uint32_t)below(&c->r, 4);
	if (one_in(&c->r, 10))
		n = (uint32_t)boundary(&c->r, XVM_POLL_MAX_PORTS);
	for (i = 0; i < n && i <= XVM_POLL_MAX_PORTS; i++)
		pl[i] = gen_port(&c->r, res[x].vm);
	p.ports = (uint64_t)(uintptr_t)pl;
	p.nr_ports = n;
	p.timeout_ns = 1000 + below(&c->r, 2000000);	/* up to 2 ms */
	if (one_in(&c->r, 4)) {
		p.flags = XVM_POLL_ABSTIME;
		p.timeout_ns = now_ns() + (one_in(&c->r, 2) ? 0 : p.timeout_ns);
		if (one_in(&c->r, 4))
			p.timeout_ns = 1;	/* long past */
	}
	if (one_in(&c->r, 64))
		p.timeout_ns = 0;	/* forever: a signal ends it */
	if (one_in(&c->r, 8))
		p.flags |= XVM_POLL_VCPU_EVENTS;
	if (one_in(&c->r, 16))
		p.flags = (uint32_t)boundary(&c->r, 1);
	maybe_dirty(c, &p.pad, sizeof(p.pad));
	maybe_dirty(c, p.reserved, sizeof(p.reserved));
	ret = xioctl(c, "POLL", res[x].fd, XVM_POLL, argp(c, &p, sizeof(p)),
		     ERRS(EINVAL, EINTR));
	if (ret == 1) {
		for (i = 0; i < n && i <= XVM_POLL_MAX_PORTS; i++)
			if (pl[i] == p.port)
				break;
		/* With VCPU_EVENTS: also any port bound to this vCPU. */
		if (i == n && !(p.flags & XVM_POLL_VCPU_EVENTS))
			report("XVM_POLL returned port %u, which it was not given",
			       p.port);
		else if (i == n && (!p.port || p.port >= XVM_EVTCHN_MAX_PORTS))
			report("XVM_POLL (VCPU_EVENTS) returned port %u", p.port);
	} else if (ret > 1) {
		report("XVM_POLL returned %ld", ret);
	}
	res_put(x);
}

/* poll(2) on a vCPU fd, and a read of an eventfd. */
static void op_fd_poll(struct ctx *c)
{
	int x = res_pick(&c->r, one_in(&c->r, 2) ? R_VCPU : R_EVENTFD, 0);
	struct pollfd pfd;
	uint64_t v;

	if (x < 0)
		return;
	pfd.fd = res[x].fd;
	pfd.events = POLLIN;
	c->op = "poll(2)";
	poll(&pfd, 1, (int)below(&c->r, 2));
	if (res[x].kind == R_EVENTFD && (pfd.revents & POLLIN))
		if (read(res[x].fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			(void)0;
	res_put(x);
}

static void gen_ack(struct ctx *c, struct xvm_vgic_ack *ack)
{
	ack->group = (uint32_t)mostly(&c->r, below(&c->r, 2), 1);
	maybe_dirty(c, &ack->pad, sizeof(ack->pad));
}

static void gen_eoi(struct ctx *c, struct xvm_vgic_eoi *eoi)
{
	eoi->intid = (uint32_t)mostly(&c->r, below(&c->r, 300), 1023);
	eoi->flags = (uint32_t)mostly(&c->r, below(&c->r, 2), 1);
}

static void gen_sgi(struct ctx *c, struct xvm_vgic_sgi *sgi)
{
	sgi->value = (below(&c->r, 16) << 24) | below(&c->r, 0x10000) |
		     (one_in(&c->r, 4) ? 1ULL << 40 : 0);
	sgi->value = mostly(&c->r, sgi->value, ~0ULL);
	sgi->group = (uint32_t)mostly(&c->r, below(&c->r, 2), 1);
	maybe_dirty(c, &sgi->pad, sizeof(sgi->pad));
}

static void op_vgic_cpuif(struct ctx *c)
{
	union {
		struct xvm_vgic_cpuif cpuif;
		struct xvm_vgic_ack ack;
		struct xvm_vgic_eoi eoi;
		struct xvm_vgic_eoi_ack eoi_ack;
		struct xvm_vgic_sgi sgi;
		struct xvm_vgic_irq_line line;
	} u;
	int x = res_pick_rich(&c->r, R_VCPU), k = (int)below(&c->r, 8);
	const int *errs = ERRS(EINVAL, EBUSY, ENXIO, ENOTTY, EINTR);
	unsigned long req;
	const char *name;

	if (x < 0)
		return;
	memset(&u, 0, sizeof(u));
	switch (k) {
	case 0:
		req = XVM_VGIC_GET_CPUIF, name = "VGIC_GET_CPUIF";
		break;
	case 1:
		u.cpuif.pmr = (uint32_t)mostly(&c->r, below(&c->r, 256), 0xff);
		u.cpuif.ctlr = (uint32_t)mostly(&c->r, below(&c->r, 8), 7);
		u.cpuif.notify_port = gen_port(&c->r, res[x].vm);
		maybe_dirty(c, &u.cpuif.pad, sizeof(u.cpuif.pad));
		maybe_dirty(c, u.cpuif.reserved, sizeof(u.cpuif.reserved));
		req = XVM_VGIC_SET_CPUIF, name = "VGIC_SET_CPUIF";
		break;
	case 2:
	case 3:
		gen_ack(c, &u.ack);
		req = k == 2 ? XVM_VGIC_ACK : XVM_VGIC_HPPIR;
		name = k == 2 ? "VGIC_ACK" : "VGIC_HPPIR";
		break;
	case 4:
		gen_eoi(c, &u.eoi);
		req = XVM_VGIC_EOI, name = "VGIC_EOI";
		break;
	case 7:
		gen_eoi(c, &u.eoi_ack.eoi);
		gen_ack(c, &u.eoi_ack.ack);
		req = XVM_VGIC_EOI_ACK, name = "VGIC_EOI_ACK";
		break;
	case 5:
		gen_sgi(c, &u.sgi);
		req = XVM_VGIC_SGI, name = "VGIC_SGI";
		break;
	default:
		u.line.intid = (uint32_t)mostly(&c->r, 16 + below(&c->r, 16), 31);
		u.line.level = (uint32_t)mostly(&c->r, below(&c->r, 2), 1);
		maybe_dirty(c, &u.line.vcpu_id, sizeof(u.line.vcpu_id));
		maybe_dirty(c, &u.line.flags, sizeof(u.line.flags));
		req = XVM_VGIC_PPI_LINE, name = "VGIC_PPI_LINE";
		break;
	}
	xioctl(c, name, res[x].fd, req, argp(c, &u, sizeof(u)), errs);
	res_put(x);
}

/* --------------------------------------------------------------------- */
/* Device fds                                                              */

/* A device attribute call; val is the value buffer (>= 64 bytes). */
static long dev_attr(struct ctx *c, int fd, uint32_t group, uint64_t attr,
		     void *val, size_t vsize, const int *errs)
{
	static const unsigned long reqs[] = { XVM_SET_DEVICE_ATTR,
					      XVM_GET_DEVICE_ATTR,
					      XVM_HAS_DEVICE_ATTR };
	static const char *const names[] = { "SET_DEVICE_ATTR", "GET_DEVICE_ATTR",
					     "HAS_DEVICE_ATTR" };
	struct xvm_device_attr a = { 0 };
	int k = (int)below(&c->r, 5);

	k = k > 2 ? 0 : k;	/* mostly SET */
	a.group = group;
	a.attr = attr;
	a.addr = (uint64_t)(uintptr_t)argp(c, val, vsize);
	if (one_in(&c->r, 24))
		a.flags = (uint32_t)boundary(&c->r, 0);
	if (a.flags)
		errs = einval_only;	/* the core checks flags first */
	return xioctl(c, names[k], fd, reqs[k], argp(c, &a, sizeof(a)), errs);
}

static void dev_testdev(struct ctx *c, int fd)
{
	struct xvm_testdev_region reg;
	uint64_t v[8] = { 0 };

	if (one_in(&c->r, 4)) {
		dev_attr(c, fd, XVM_TESTDEV_GRP_STATS,
			 mostly(&c->r, below(&c->r, 3), 2), v, 8, ERRS(ENXIO));
		return;
	}
	reg.base = GPA_TESTDEV + 0x1000 * below(&c->r, 64) + 8 * below(&c->r, 4);
	reg.base = one_in(&c->r, 8) ? gen_gpa(c, 8) : reg.base;
	reg.size = one_in(&c->r, 8) ? boundary(&c->r, 0x10000) :
		   8 * (1 + below(&c->r, 512));
	dev_attr(c, fd, (uint32_t)mostly(&c->r, XVM_TESTDEV_GRP_REGION, 1),
		 below(&c->r, 4) ? below(&c->r, 16) : boundary(&c->r, 2047),
		 &reg, sizeof(reg), ERRS(ENXIO, EINVAL, EEXIST, ENOSPC, ENOENT));
}

/* The CPU_SYSREGS registers (KVM's, RPR, xvm's notify port). */
static const uint32_t vgic_sysregs[] = {
	XVM_ICC_PMR_EL1, XVM_ICC_BPR0_EL1, XVM_ICC_AP0R_EL1(0),
	XVM_ICC_AP0R_EL1(3), XVM_ICC_AP1R_EL1(0), XVM_ICC_AP1R_EL1(2),
	XVM_ICC_RPR_EL1, XVM_ICC_BPR1_EL1, XVM_ICC_CTLR_EL1, XVM_ICC_SRE_EL1,
	XVM_ICC_IGRPEN0_EL1, XVM_ICC_IGRPEN1_EL1, XVM_VGIC_SYSREG_NOTIFY_PORT,
};

/* CPU_SYSREGS and LEVEL_INFO attributes of a vCPU of vm (or none). */
static uint64_t gen_vgic_state_attr(struct ctx *c, int vm, uint32_t group)
{
	uint32_t aff = gen_vcpu_id(&c->r, vm);

	aff = (aff & 0xf) | ((aff >> 4) << 8);
	if (group == XVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS)
		return XVM_VGIC_V3_SYSREG_ATTR(aff,
			mostly(&c->r, vgic_sysregs[below(&c->r,
				sizeof(vgic_sysregs) / sizeof(vgic_sysregs[0]))],
			       rnd(&c->r) & 0x1ffff));
	return XVM_VGIC_V3_LEVEL_ATTR(aff, mostly(&c->r, below(&c->r, 2), 2),
				      mostly(&c->r, 32 * below(&c->r, 32),
					     below(&c->r, 1024)));
}

/*
 * The state groups, a register attribute and a value: DIST_REGS,
 * REDIST_REGS, and for save/restore CPU_SYSREGS and LEVEL_INFO.
 */
static uint32_t gen_vgic_state(struct ctx *c, int vm, uint64_t *attr,
			       uint64_t *v)
{
	uint32_t group = (uint32_t)below(&c->r, 4), aff;

	if (group >= 2) {
		group = group == 2 ? XVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS :
			XVM_DEV_ARM_VGIC_GRP_LEVEL_INFO;
		*attr = mostly(&c->r, gen_vgic_state_attr(c, vm, group), ~0ULL);
		v[0] = one_in(&c->r, 2) ? below(&c->r, 0x100) : rnd(&c->r);
		return group;
	}
	group = group ? XVM_DEV_ARM_VGIC_GRP_DIST_REGS :
		XVM_DEV_ARM_VGIC_GRP_REDIST_REGS;
	aff = gen_vcpu_id(&c->r, vm);
	aff = (aff & 0xf) | ((aff >> 4) << 8);
	*attr = XVM_VGIC_V3_REG_ATTR(aff, (group == XVM_DEV_ARM_VGIC_GRP_REDIST_REGS &&
					   one_in(&c->r, 2) ? 0x10000 : 0) +
				     4 * below(&c->r, 0x800));
	*attr = mostly(&c->r, *attr, ~0ULL);
	v[0] = rnd(&c->r);
	return group;
}

static void dev_vgic(struct ctx *c, int fd, int vm)
{
	const int *errs = ERRS(ENXIO, EINVAL, EEXIST, E2BIG, EBUSY, ENOSPC,
			       ENOENT, ENODEV);
	uint64_t v[8] = { 0 };
	uint32_t group = 0;
	uint64_t attr = 0;

	switch (below(&c->r, 10)) {
	case 0:
		v[0] = mostly(&c->r, GPA_GICD, 1ULL << 40);
		attr = XVM_VGIC_V3_ADDR_TYPE_DIST;
		break;
	case 1:
		v[0] = XVM_VGIC_V3_REDIST_REGION(1 + below(&c->r, 8),
						 GPA_GICR + 0x100000 * below(&c->r, 4),
						 one_in(&c->r, 10),
						 below(&c->r, 3));
		v[0] = mostly(&c->r, v[0], ~0ULL);
		attr = XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION;
		break;
	case 2:
		v[0] = mostly(&c->r, GPA_GICR, 1ULL << 40);
		attr = one_in(&c->r, 2) ? XVM_VGIC_V3_ADDR_TYPE_REDIST :
		       boundary(&c->r, 5);
		break;
	case 3:
		group = XVM_DEV_ARM_VGIC_GRP_NR_IRQS;
		v[0] = (uint32_t)mostly(&c->r, 64 + 32 * below(&c->r, 31), 1024);
		break;
	case 4:
		group = XVM_DEV_ARM_VGIC_GRP_CTRL;
		attr = mostly(&c->r, XVM_DEV_ARM_VGIC_CTRL_INIT, 1);
		if (one_in(&c->r, 4))
			attr = XVM_DEV_ARM_VGIC_CTRL_STATE_VERSION;
		break;
	case 5:
	case 6:
	case 7:
	case 8:
		group = gen_vgic_state(c, vm, &attr, v);
		break;
	default: {
		struct xvm_vgic_irq_line l = { 0 };

		l.intid = (uint32_t)mostly(&c->r, 16 + below(&c->r, 300), 1023);
		l.level = (uint32_t)mostly(&c->r, below(&c->r, 2), 1);
		l.vcpu_id = l.intid < 32 ? gen_vcpu_id(&c->r, vm) : 0;
		maybe_dirty(c, &l.flags, sizeof(l.flags));
		xioctl(c, "VGIC_IRQ_LINE", fd, XVM_VGIC_IRQ_LINE,
		       argp(c, &l, sizeof(l)), errs);
		return;
	}
	}
	dev_attr(c, fd, (uint32_t)mostly(&c->r, group, 6), attr, v, sizeof(v), errs);
}

/* The BDFs attach calls may name: the given devices, else bogus ones. */
struct bdf {
	uint16_t seg;
	uint8_t bus, devfn;
};

static struct bdf real_bdf[2];
static unsigned int nreal;
static struct bdf bogus_bdf[4];
static unsigned int nbogus;

static struct bdf gen_bdf(struct ctx *c)
{
	if (nreal && below(&c->r, 3))
		return real_bdf[below(&c->r, nreal)];
	if (nbogus)
		return bogus_bdf[below(&c->r, nbogus)];
	return (struct bdf){ 7, 0, 0 };
}

/* A vector state to restore: mostly plausible, some bits dirty. */
static void gen_msix_vector_state(struct ctx *c,
				  struct xvm_msix_vector_state *st)
{
	st->addr = st->msg_addr = GPA_DOORBELL;
	st->data = st->msg_data = (uint32_t)below(&c->r, 8);
	st->ctrl = (uint32_t)mostly(&c->r, below(&c->r, 2), ~0ULL);
	st->flags = (uint32_t)mostly(&c->r, below(&c->r, 32), ~0ULL);
	st->version = (uint32_t)mostly(&c->r, XVM_MSIX_STATE_VERSION, 2);
	maybe_dirty(c, &st->pad, sizeof(st->pad));
	maybe_dirty(c, st->reserved, sizeof(st->reserved));
}

static void dev_msix(struct ctx *c, int fd)
{
	const int *errs = ERRS(ENXIO, EINVAL, EEXIST, E2BIG, EBUSY, ENOSPC,
			       ENOENT, ENODEV, EBADF, EPERM, ERANGE, EIO);
	uint64_t v[8] = { 0 };
	int o = -1;
	uint32_t group = (uint32_t)below(&c->r, 7);
	uint64_t attr = below(&c->r, 2);
	int32_t efd;
	uint16_t w;

	switch (group) {
	case XVM_MSIX_GRP_ATTACH: {
		struct xvm_msix_attach *a = (void *)v;
		struct bdf b = gen_bdf(c);

		o = res_pick(&c->r, below(&c->r, 4) ? R_VFIO : R_EVENTFD, 0);
		a->group_fd = o >= 0 ? res[o].fd : (int)boundary(&c->r, 1024);
		a->segment = b.seg;
		a->bus = b.bus;
		a->devfn = b.devfn;
		maybe_dirty(c, &a->flags, sizeof(a->flags));
		maybe_dirty(c, &a->pad, sizeof(a->pad));
		maybe_dirty(c, a->reserved, sizeof(a->reserved));
		attr = mostly(&c->r, 0, 0);
		break;
	}
	case XVM_MSIX_GRP_ADDR:
		v[0] = one_in(&c->r, 4) ? XVM_MSIX_ADDR_NONE :
		       GPA_MSIX + 0x1000 * below(&c->r, 4) + 8 * below(&c->r, 3);
		v[0] = mostly(&c->r, v[0], 1ULL << 40);
		break;
	case XVM_MSIX_GRP_EVENTFD:
		o = res_pick(&c->r, R_EVENTFD, 0);
		efd = o >= 0 && !one_in(&c->r, 4) ? res[o].fd : -1;
		memcpy(v, &efd, sizeof(efd));
		attr = mostly(&c->r, below(&c->r, 5), 4);
		break;
	case XVM_MSIX_GRP_CTRL:
		w = (uint16_t)rnd(&c->r);
		memcpy(v, &w, sizeof(w));
		break;
	case XVM_MSIX_GRP_VECTOR:
		gen_msix_vector_state(c, (void *)v);
		attr = mostly(&c->r, below(&c->r, 5), 4);
		break;
	case XVM_MSIX_GRP_STATS:
		attr = mostly(&c->r, below(&c->r, XVM_MSIX_NR_STATS), XVM_MSIX_NR_STATS);
		break;
	default:
		attr = mostly(&c->r, 0, 0);
		break;
	}
	dev_attr(c, fd, (uint32_t)mostly(&c->r, group, 6), attr, v, sizeof(v), errs);
	res_put(o);
}

/* A frame source for an IOMMU map: a slot's gfn of vm, or an area. */
static void gen_iommu_src(struct ctx *c, int vm, struct xvm_iommu_map *m, int *a)
{
	unsigned int k, have;

	*a = -1;
	if (one_in(&c->r, 2) && vm >= 0) {
		pthread_mutex_lock(&tab_lock);
		have = vms[vm].nslots < NR_HINTS ? vms[vm].nslots : NR_HINTS;
		if (have) {
			k = (unsigned int)below(&c->r, have);
			m->gfn = vms[vm].slot_gpa[k] / PAGE;
			m->count = 1 + below(&c->r, vms[vm].slot_size[k] / PAGE);
		}
		pthread_mutex_unlock(&tab_lock);
		m->flags |= XVM_IOMMU_MAP_SRC_GFN;
		return;
	}
	*a = area_pick(&c->r);
	m->flags |= XVM_IOMMU_MAP_SRC_UADDR;
	if (*a >= 0) {
		m->uaddr = (uint64_t)(uintptr_t)areas[*a].p;
		m->count = 1 + below(&c->r, areas[*a].len / PAGE);
	}
}

/*
 * XVM_IOMMU_GET_STATE into a small array, mostly well formed.  A report
 * that fits must hold records XVM_IOMMU_MAP would take, in dfn order.
 */
static void dev_iommu_get_state(struct ctx *c, int fd)
{
	static struct xvm_iommu_map recs[MAX_THREADS][4];
	struct xvm_iommu_map *rec = recs[c->id];
	struct xvm_iommu_get_state st;
	uint64_t i, room;
	long r;

	memset(&st, 0, sizeof(st));
	/* st.count stays within rec[] unless maps is the guard page. */
	st.version = (uint32_t)mostly(&c->r, XVM_IOMMU_STATE_VERSION,
				      below(&c->r, 3));
	room = below(&c->r, 5);
	st.count = room;
	st.maps = (uintptr_t)rec;
	if (one_in(&c->r, 8)) {
		/* Any room: only a guard page to write to. */
		st.count = ~0ULL;
		st.maps = (uintptr_t)(c->guard + PAGE);
	} else if (one_in(&c->r, 8)) {
		st.maps = (uintptr_t)argp(c, rec, sizeof(*rec));
	}
	if (one_in(&c->r, 4))
		st.state = (uint32_t)below(&c->r, 4);	/* ignored on input */
	maybe_dirty(c, &st.flags, sizeof(st.flags));
	maybe_dirty(c, &st.pad, sizeof(st.pad));
	maybe_dirty(c, st.reserved, sizeof(st.reserved));
	r = xioctl(c, "IOMMU_GET_STATE", fd, XVM_IOMMU_GET_STATE,
		   argp(c, &st, sizeof(st)), ERRS(EINVAL, ENOSPC));
	if (r || st.maps != (uintptr_t)rec || st.count > 4)
		return;
	for (i = 0; i < st.count; i++) {
		uint32_t src = rec[i].flags & (XVM_IOMMU_MAP_SRC_GFN |
					       XVM_IOMMU_MAP_SRC_UADDR);

		if (!(rec[i].flags & (XVM_IOMMU_MAP_READ | XVM_IOMMU_MAP_WRITE)) ||
		    (rec[i].flags & ~XVM_IOMMU_MAP_FLAGS_ALL) || !rec[i].count ||
		    (src != XVM_IOMMU_MAP_SRC_GFN && src != XVM_IOMMU_MAP_SRC_UADDR) ||
		    rec[i].pad || rec[i].reserved[0] || rec[i].reserved[1] ||
		    (i && rec[i].dfn <= rec[i - 1].dfn + rec[i - 1].count - 1))
			report("IOMMU_GET_STATE record %llu of %llu: flags %#x dfn %#llx count %llu",
			       (unsigned long long)i, (unsigned long long)st.count,
			       rec[i].flags, (unsigned long long)rec[i].dfn,
			       (unsigned long long)rec[i].count);
	}
	if (st.state & ~XVM_IOMMU_STATE_ATTACHED ||
	    (!st.state && (st.count || st.slot_maps || st.mapped)))
		report("IOMMU_GET_STATE: state %#x with %llu mappings, %llu slot mappings",
		       st.state, (unsigned long long)st.count,
		       (unsigned long long)st.slot_maps);
}

static void dev_iommu_ioctl(struct ctx *c, int fd, int vm)
{
	const int *errs = ERRS(EINVAL, EOVERFLOW, ENODEV, EEXIST, EPERM, ENOENT,
			       EBUSY);
	union {
		struct xvm_iommu_map map;
		struct xvm_iommu_unmap unmap;
		struct xvm_iommu_translate xl;
	} u;
	int a = -1;

	memset(&u, 0, sizeof(u));
	if (one_in(&c->r, 5)) {
		dev_iommu_get_state(c, fd);
		return;
	}
	switch (below(&c->r, 3)) {
	case 0:
		u.map.flags = (uint32_t)(1 + below(&c->r, 3));
		gen_iommu_src(c, vm, &u.map, &a);
		u.map.dfn = below(&c->r, 2) ? u.map.gfn + 0x100 * below(&c->r, 4) :
			    below(&c->r, 0x10000);
		u.map.dfn = mostly(&c->r, u.map.dfn, 1ULL << 26);
		u.map.count = mostly(&c->r, u.map.count, 1ULL << 26);
		if (one_in(&c->r, 10))
			u.map.flags = (uint32_t)boundary(&c->r, XVM_IOMMU_MAP_FLAGS_ALL);
		maybe_dirty(c, &u.map.pad, sizeof(u.map.pad));
		maybe_dirty(c, u.map.reserved, sizeof(u.map.reserved));
		xioctl(c, "IOMMU_MAP", fd, XVM_IOMMU_MAP, argp(c, &u, sizeof(u.map)), errs);
		break;
	case 1:
		if (one_in(&c->r, 3)) {
			u.unmap.flags = XVM_IOMMU_UNMAP_ALL;
		} else {
			u.unmap.dfn = mostly(&c->r, below(&c->r, 0x10000), 1ULL << 26);
			u.unmap.count = mostly(&c->r, 1 + below(&c->r, 64), 1ULL << 26);
		}
		maybe_dirty(c, &u.unmap.flags, sizeof(u.unmap.flags));
		maybe_dirty(c, &u.unmap.pad, sizeof(u.unmap.pad));
		maybe_dirty(c, u.unmap.reserved, sizeof(u.unmap.reserved));
		xioctl(c, "IOMMU_UNMAP", fd, XVM_IOMMU_UNMAP,
		       argp(c, &u, sizeof(u.unmap)), errs);
		break;
	default:
		u.xl.dfn = mostly(&c->r, below(&c->r, 0x10000), 1ULL << 52);
		maybe_dirty(c, &u.xl.flags, sizeof(u.xl.flags));
		maybe_dirty(c, u.xl.reserved, sizeof(u.xl.reserved));
		xioctl(c, "IOMMU_TRANSLATE", fd, XVM_IOMMU_TRANSLATE,
		       argp(c, &u, sizeof(u.xl)), errs);
		break;
	}
	area_put(a, false);
}

static void dev_iommu(struct ctx *c, int fd, int vm)
{
	const int *errs = ERRS(ENXIO, EINVAL, EEXIST, EBUSY, ENODEV, EPERM,
			       EOVERFLOW);
	uint64_t v[8] = { 0 };
	uint64_t attr = 0;
	uint32_t group = XVM_IOMMU_GRP_CTRL;

	if (below(&c->r, 2)) {
		dev_iommu_ioctl(c, fd, vm);
		return;
	}
	switch (below(&c->r, 4)) {
	case 0: {
		struct xvm_iommu_attach *a = (void *)v;
		struct bdf b = gen_bdf(c);

		a->segment = b.seg;
		a->bus = b.bus;
		a->devfn = b.devfn;
		a->flags = (uint32_t)mostly(&c->r, below(&c->r, 2), 1);
		maybe_dirty(c, a->reserved, sizeof(a->reserved));
		attr = XVM_IOMMU_CTRL_ATTACH;
		break;
	}
	case 1:
		attr = XVM_IOMMU_CTRL_DETACH;
		break;
	default:
		group = XVM_IOMMU_GRP_INFO;
		attr = mostly(&c->r, below(&c->r, XVM_IOMMU_INFO_MAX + 1),
			      XVM_IOMMU_INFO_MAX);
		break;
	}
	if (attr == XVM_IOMMU_CTRL_DETACH && group == XVM_IOMMU_GRP_CTRL &&
	    !one_in(&c->r, 8)) {
		struct xvm_device_attr da = { .group = group, .attr = attr };

		xioctl(c, "SET_DEVICE_ATTR", fd, XVM_SET_DEVICE_ATTR, &da, errs);
		return;
	}
	dev_attr(c, fd, (uint32_t)mostly(&c->r, group, 2), attr, v, sizeof(v), errs);
}

static void op_device(struct ctx *c)
{
	int x = res_pick(&c->r, R_DEV, 0);

	if (x < 0)
		return;
	switch (res[x].dtype) {
	case XVM_DEV_TYPE_TEST:
		dev_testdev(c, res[x].fd);
		break;
	case XVM_DEV_TYPE_ARM_VGIC_V3:
		dev_vgic(c, res[x].fd, res[x].vm);
		break;
	case XVM_DEV_TYPE_VFIO_MSIX:
		dev_msix(c, res[x].fd);
		break;
	case XVM_DEV_TYPE_IOMMU:
		dev_iommu(c, res[x].fd, res[x].vm);
		break;
	}
	res_put(x);
}

/*
 * XVM_GET_STATS_FD on a VM or vCPU, a pread() at a random offset and
 * length, a write that must fail; the stats fd is closed again.
 */
static void op_stats_fd(struct ctx *c)
{
	static uint8_t buf[MAX_THREADS][512];
	int x = res_pick(&c->r, one_in(&c->r, 2) ? R_VM : R_VCPU, 0), fd;
	off_t off = (off_t)below(&c->r, 600);
	ssize_t n;

	if (x < 0)
		return;
	fd = (int)xioctl(c, "GET_STATS_FD", res[x].fd, XVM_GET_STATS_FD, NULL,
			 ERRS(ENOMEM, EMFILE));
	res_put(x);
	if (fd < 0)
		return;
	n = pread(fd, buf[c->id], below(&c->r, sizeof(buf[0]) + 1), off);
	if (n < 0)
		report("stats pread at %lld: %s", (long long)off, strerror(errno));
	if (write(fd, buf[c->id], 1) >= 0)
		report("a stats fd took a write");
	close(fd);
}

/*
 * XVM_GRANT_OWNER to this process, its parent, no one (0: a revoke) or
 * any pid, or XVM_CLAIM_OWNER.  Only a grant to this process can be
 * claimed here, which moves nothing: a VM that changed hands would fail
 * every later op on it with EIO.
 */
static void op_owner(struct ctx *c)
{
	int x = res_pick(&c->r, R_VM, 0);
	struct xvm_owner_grant g;
	uintptr_t arg;

	if (x < 0)
		return;
	if (one_in(&c->r, 2)) {
		arg = (uintptr_t)mostly(&c->r, 0, ~0ULL);
		xioctl(c, "CLAIM_OWNER", res[x].fd, XVM_CLAIM_OWNER,
		       (void *)arg, ERRS(EPERM, EINVAL));
		res_put(x);
		return;
	}
	memset(&g, 0, sizeof(g));
	switch (below(&c->r, 4)) {
	case 0: g.pid = getpid(); break;
	case 1: g.pid = getppid(); break;
	case 2: g.pid = 0; break;
	default: g.pid = (int32_t)mostly(&c->r, below(&c->r, 1 << 16),
					 UINT32_MAX); break;
	}
	maybe_dirty(c, &g.flags, sizeof(g.flags));
	maybe_dirty(c, g.reserved, sizeof(g.reserved));
	xioctl(c, "GRANT_OWNER", res[x].fd, XVM_GRANT_OWNER,
	       argp(c, &g, sizeof(g)), ERRS(EINVAL, ESRCH));
	res_put(x);
}

/* --------------------------------------------------------------------- */
/* Anything on anything: wrong fds, unknown numbers, wrong sizes           */

static void op_bogus_ioctl(struct ctx *c)
{
	static const unsigned long known[] = {
		XVM_CREATE_VM, XVM_CREATE_VCPU, XVM_SET_USER_MEMORY_REGION,
		XVM_CREATE_DEVICE, XVM_SET_DEVICE_ATTR, XVM_MMIO, XVM_POLL,
		XVM_EVTCHN_SEND, XVM_EVTCHN_STATUS, XVM_VGIC_ACK, XVM_IOMMU_MAP,
		XVM_IOMMU_TRANSLATE, XVM_VGIC_IRQ_LINE, XVM_EVTCHN_RESET,
		XVM_IOMMU_GET_STATE,
		XVM_MMIO_RUN, XVM_GET_VCPU_MMAP_SIZE,
	};
	static uint8_t buf[MAX_THREADS][256];
	int x = res_pick_any(&c->r);
	unsigned long req;
	unsigned int i;

	if (x < 0)
		return;
	if (res[x].kind == R_VFIO || res[x].kind == R_EVENTFD) {
		res_put(x);	/* not ours to fuzz */
		return;
	}
	for (i = 0; i < sizeof(buf[0]); i++)
		buf[c->id][i] = one_in(&c->r, 4) ? (uint8_t)rnd(&c->r) : 0;
	req = known[below(&c->r, sizeof(known) / sizeof(known[0]))];
	switch (below(&c->r, 3)) {
	case 0:	/* another size */
		req = (req & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
		      ((unsigned long)below(&c->r, 200) << _IOC_SIZESHIFT);
		break;
	case 1:	/* another direction */
		req ^= (unsigned long)(1 + below(&c->r, 3)) << _IOC_DIRSHIFT;
		break;
	default: /* another number */
		req = _IOC(below(&c->r, 4), XVMIO, below(&c->r, 256),
			   below(&c->r, 128));
		break;
	}
	/*
	 * Never a destructive command that exists, nor one that makes an fd
	 * (this op would leak it; their own ops fuzz them): only unknown ones.
	 */
	if (req == XVM_EVTCHN_RESET || req == XVM_CREATE_VM ||
	    req == XVM_CREATE_VCPU || req == XVM_CREATE_DEVICE ||
	    req == XVM_GET_STATS_FD)
		req = _IO(XVMIO, 0xff);
	xioctl(c, "bogus ioctl", res[x].fd, req, buf[c->id],
	       ERRS(ENOTTY, EINVAL, EBUSY, ENXIO, ENOENT, EEXIST, EBADF, ENODEV,
		    EINTR, ENOSPC, EPERM, EOVERFLOW, E2BIG, ERANGE));
	res_put(x);
}

/* --------------------------------------------------------------------- */
/* Process-level operations                                                */

static void op_close(struct ctx *c)
{
	int x = res_pick_any(&c->r);

	if (x >= 0)
		res_kill(x);
}

static void op_dup(struct ctx *c)
{
	int x = res_pick_any(&c->r), fd;

	if (x < 0)
		return;
	c->op = "dup";
	fd = fcntl(res[x].fd, F_DUPFD_CLOEXEC, 0);
	res_add(fd, res[x].kind, res[x].vm, res[x].dtype, res[x].vcpu_id);
	res_put(x);
}

static void op_eventfd(struct ctx *c)
{
	int x;
	uint64_t one = 1;

	if (one_in(&c->r, 3)) {
		c->op = "eventfd";
		res_add(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), R_EVENTFD, -1, 0, 0);
		return;
	}
	x = res_pick(&c->r, R_EVENTFD, 0);
	if (x < 0)
		return;
	c->op = "eventfd write";
	if (write(res[x].fd, &one, sizeof(one)) < 0)
		(void)0;	/* a full counter is fine */
	res_put(x);
}

/*
 * fork: the child issues one ioctl on each of the inherited VM, vCPU and
 * device fds (and XVM_MMIO_RUN on the vCPU's); each must fail with EIO (the child is another mm).  It may
 * outlive the parent's copies (then its exit drops the last reference).
 */
/*
 * The forked child: one ioctl on each of the n inherited fds held[], each
 * must fail with EIO (exit 10 + 40 * i + errno & 31 if not); then a VM and
 * vCPU of its own through the inherited /dev/xvm xfd (exit 9, 8 if that
 * fails other than with ENOMEM).  Only async-signal-safe calls.
 */
static void __attribute__((noreturn)) fork_child(const int *held, int n,
						 int xfd, bool linger,
						 const struct timespec *ts)
{
	struct xvm_mmio m = { .addr = GPA_TESTDEV, .len = 4 };
	struct xvm_device_attr da = { 0 };
	int i;

	for (i = 0; i < n; i++) {
		struct res *r = &res[held[i]];
		long ret;

		errno = 0;
		if (r->kind == R_VM)
			ret = ioctl(r->fd, XVM_CHECK_EXTENSION, XVM_CAP_EVTCHN);
		else if (r->kind == R_VCPU)
			ret = ioctl(r->fd, XVM_MMIO, &m);
		else
			ret = ioctl(r->fd, XVM_HAS_DEVICE_ATTR, &da);
		if (ret != -1 || errno != EIO)
			_exit(10 + i * 40 + (errno & 31));
		/* the run page's access, with no struct to copy, too */
		if (r->kind == R_VCPU &&
		    (ioctl(r->fd, XVM_MMIO_RUN, 0) != -1 || errno != EIO))
			_exit(10 + i * 40 + (errno & 31));
	}
	if (xfd >= 0) {
		/* The system fd is not tied to an mm: a VM of our own. */
		int vm = ioctl(res[xfd].fd, XVM_CREATE_VM, 0);

		if (vm < 0 && errno != ENOMEM)
			_exit(9);
		if (vm >= 0 && ioctl(vm, XVM_CREATE_VCPU, 0) < 0 &&
		    errno != ENOMEM)
			_exit(8);
	}
	if (linger)
		nanosleep(ts, NULL);
	_exit(0);
}

/* What fork_child()'s exit status says went wrong, reported. */
static void fork_report(int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) >= 10)
		report("fork child: ioctl on inherited fd #%d did not fail with EIO (errno %d)",
		       (WEXITSTATUS(status) - 10) / 40, (WEXITSTATUS(status) - 10) % 40);
	else if (WIFEXITED(status) && WEXITSTATUS(status))
		report("fork child: XVM_CREATE_VM/VCPU on the inherited /dev/xvm failed (%d)",
		       WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		report("fork child killed by signal %d", WTERMSIG(status));
}

static void op_fork(struct ctx *c)
{
	int held[3], n = 0, i, status, xfd;
	struct timespec ts = { 0, (long)below(&c->r, 20) * 1000000 };
	bool linger = one_in(&c->r, 2);
	pid_t pid;

	held[n] = res_pick(&c->r, R_VM, 0);
	n += held[n] >= 0;
	held[n] = res_pick(&c->r, R_VCPU, 0);
	n += held[n] >= 0;
	held[n] = res_pick(&c->r, R_DEV, 0);
	n += held[n] >= 0;
	xfd = res_pick(&c->r, R_XVM, 0);
	c->op = "fork";
	pid = fork();
	if (pid == 0)
		fork_child(held, n, xfd, linger, &ts);
	if (pid > 0 && linger && n)
		res_kill(held[--n]);	/* the child may drop the last ref */
	for (i = 0; i < n; i++)
		res_put(held[i]);
	res_put(xfd);
	if (pid < 0)
		return;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	fork_report(status);
}

/*
 * SCM_RIGHTS over a socketpair: the received fds are the same files (and
 * work: same mm); or the pair is closed with the fds in flight (the unix
 * GC then drops them), sometimes with the socket itself inside (a cycle).
 */
static void op_scm_rights(struct ctx *c)
{
	int sv[2], held[3], fds[4], got[4], n = 0, i, k;
	unsigned int nr;
	char byte;

	c->op = "SCM_RIGHTS";
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		return;
	for (i = 0; i < 3; i++) {
		held[n] = res_pick_any(&c->r);
		if (held[n] >= 0) {
			fds[n] = res[held[n]].fd;
			n++;
		}
	}
	if (!n)
		goto out;
	k = n;
	if (one_in(&c->r, 6))
		fds[k++] = sv[0];	/* a reference cycle for the GC */
	if (fdpass_send(sv[1], "x", 1, fds, k))
		goto out;
	if (one_in(&c->r, 4))
		goto out;		/* in flight at close */
	k = fdpass_recv(sv[0], &byte, 1, got, 4, &nr, MSG_DONTWAIT) < 0 ? 0 : nr;
	for (i = 0; i < k; i++) {
		if (i >= n) {
			close(got[i]);
			continue;
		}
		if (res[held[i]].kind == R_VM &&
		    ioctl(got[i], XVM_CHECK_EXTENSION, XVM_CAP_EVTCHN) != 4096)
			report("a VM fd received over SCM_RIGHTS does not work (errno %d)",
			       errno);
		res_add(got[i], res[held[i]].kind, res[held[i]].vm,
			res[held[i]].dtype, res[held[i]].vcpu_id);
	}
out:
	for (i = 0; i < n; i++)
		res_put(held[i]);
	close(sv[0]);
	close(sv[1]);
}

/* Modules a pinned device keeps busy, and xvm itself (our fds pin it). */
static const char *busy_mods[8];
static unsigned int nbusy;

static void op_unload(struct ctx *c)
{
	const char *name;
	long ret;
	int e;

	if (!nbusy || !is_root)
		return;
	name = busy_mods[below(&c->r, nbusy)];
	c->op = "delete_module";
	errno = 0;
	ret = syscall(__NR_delete_module, name, O_NONBLOCK);
	e = errno;
	if (ret == 0) {
		report("delete_module(%s) succeeded while its devices exist", name);
		atomic_store(&stop_now, true);
	} else if (e != EBUSY && e != EAGAIN && e != EWOULDBLOCK) {
		report("delete_module(%s): errno %d, not EBUSY/EAGAIN", name, e);
	}
}

/* Serialises signalling a thread with joining it. */
static pthread_mutex_t join_lock = PTHREAD_MUTEX_INITIALIZER;

static void signal_thread(unsigned int t)
{
	pthread_mutex_lock(&join_lock);
	if (ctxs[t].thr && !ctxs[t].joined)
		pthread_kill(ctxs[t].thr, SIGUSR1);
	pthread_mutex_unlock(&join_lock);
}

static void op_signal(struct ctx *c)
{
	c->op = "signal";
	signal_thread((unsigned int)below(&c->r, opt.threads));
}

/*
 * The oracle: this thread's own test-device registers (GPA_ORACLE, which
 * no generator produces) hold what it wrote, whatever the other threads
 * do to the same VM's bus.
 */
static int anchor_vcpu = -1;

static void op_oracle(struct ctx *c)
{
	struct xvm_mmio m = { 0 };
	uint64_t v = rnd(&c->r), off = 8 * below(&c->r, ORACLE_SIZE / 8);
	int fd = res[anchor_vcpu].fd;

	m.addr = GPA_ORACLE + ORACLE_SIZE * c->id + off;
	m.len = 8;
	m.data = v;
	m.flags = XVM_MMIO_WRITE;
	if (xioctl(c, "MMIO (oracle)", fd, XVM_MMIO, &m, ERRS(EINTR)) ||
	    m.result != XVM_MMIO_HANDLED) {
		if (errno != EINTR)
			report("oracle write at 0x%llx: ret errno %d, result %u",
			       (unsigned long long)m.addr, errno, m.result);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.addr = GPA_ORACLE + ORACLE_SIZE * c->id + off;
	m.len = 8;
	if (xioctl(c, "MMIO (oracle)", fd, XVM_MMIO, &m, ERRS(EINTR)))
		return;
	if (m.result != XVM_MMIO_HANDLED || m.data != v)
		report("oracle at 0x%llx: read 0x%llx (result %u), wrote 0x%llx",
		       (unsigned long long)m.addr, (unsigned long long)m.data,
		       m.result, (unsigned long long)v);
}

/* --------------------------------------------------------------------- */
/* Recipes: working configurations, for the random operations to work on  */

/* Recipes race with everything else: any documented errno may come back. */
static const int recipe_errs[] = { EINVAL, EEXIST, EBUSY, ENOSPC, ENODEV,
				   EPERM, ENOENT, ENXIO, E2BIG, EOVERFLOW,
				   EMFILE, 0 };

/* Adds fd like res_add() and holds the entry (res_put() it). */
static int res_add_held(int fd, enum rkind kind, int vm, uint32_t dtype,
			uint32_t vcpu_id)
{
	return res_add_hold(fd, kind, vm, dtype, vcpu_id, true);
}

/* A new VM, held; -1 if none could be made. */
static int recipe_vm(struct ctx *c)
{
	int x = res_pick(&c->r, R_XVM, 0), fd, v, i;

	if (x < 0)
		return -1;
	fd = (int)xioctl(c, "CREATE_VM", res[x].fd, XVM_CREATE_VM, NULL, recipe_errs);
	res_put(x);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&tab_lock);
	v = vmrec_new_locked(40);
	if (v >= 0)
		vms[v].refs = 0;
	pthread_mutex_unlock(&tab_lock);
	if (v < 0) {
		close(fd);
		return -1;
	}
	i = res_add_held(fd, R_VM, v, 0, 0);
	if (i < 0) {
		pthread_mutex_lock(&tab_lock);
		memset(&vms[v], 0, sizeof(vms[v]));
		pthread_mutex_unlock(&tab_lock);
	}
	return i;
}

static int recipe_vcpu(struct ctx *c, int vm, uint32_t id)
{
	int fd = (int)xioctl(c, "CREATE_VCPU", res[vm].fd, XVM_CREATE_VCPU,
			     (void *)(uintptr_t)id, recipe_errs);

	if (fd < 0)
		return -1;
	vm_hint_vcpu(res[vm].vm, id);
	return res_add_held(fd, R_VCPU, res[vm].vm, 0, id);
}

static int recipe_device(struct ctx *c, int vm, uint32_t type)
{
	struct xvm_create_device cd = { .type = type };

	if (xioctl(c, "CREATE_DEVICE", res[vm].fd, XVM_CREATE_DEVICE, &cd, recipe_errs))
		return -1;
	return res_add_held((int)cd.fd, R_DEV, res[vm].vm, type, 0);
}

static long recipe_attr(struct ctx *c, int dev, uint32_t group, uint64_t attr,
			const void *val)
{
	struct xvm_device_attr a = { .group = group, .attr = attr,
				     .addr = (uint64_t)(uintptr_t)val };

	return xioctl(c, "SET_DEVICE_ATTR", res[dev].fd, XVM_SET_DEVICE_ATTR,
		      &a, recipe_errs);
}

static void recipe_mmio_write(struct ctx *c, int vcpu, uint64_t addr,
			      uint32_t len, uint64_t data)
{
	struct xvm_mmio m = { .addr = addr, .data = data, .len = len,
			      .flags = XVM_MMIO_WRITE };

	xioctl(c, "MMIO", res[vcpu].fd, XVM_MMIO, &m, recipe_errs);
}

static uint32_t recipe_port(struct ctx *c, int vm, int vcpu_id)
{
	struct xvm_evtchn_op op = { 0 };

	if (xioctl(c, "EVTCHN_ALLOC_UNBOUND", res[vm].fd,
		   XVM_EVTCHN_ALLOC_UNBOUND, &op, recipe_errs))
		return 0;
	vm_hint_port(res[vm].vm, op.port);
	if (vcpu_id >= 0) {
		op.vcpu_id = (uint32_t)vcpu_id;
		xioctl(c, "EVTCHN_BIND_VCPU", res[vm].fd, XVM_EVTCHN_BIND_VCPU,
		       &op, recipe_errs);
	}
	return op.port;
}

/*
 * A VM with 1..4 vCPUs and an initialised GICv3 (distributor, one region,
 * CPU interfaces enabled and notifying a port each, SPIs enabled), so the
 * random CPU-interface, line and register operations reach the model.
 */
static void op_vgic_setup(struct ctx *c)
{
	int vm = recipe_vm(c), vcpu[4] = { -1, -1, -1, -1 }, dev = -1, i;
	uint32_t n = 1 + (uint32_t)below(&c->r, 4), nr_irqs = 64 + 32 * (uint32_t)below(&c->r, 8);
	struct xvm_vgic_cpuif cpuif = { .pmr = 0xf8, .ctlr = 3 };
	struct xvm_vgic_irq_line line = { .level = 1 };
	uint64_t v;

	if (vm < 0)
		return;
	for (i = 0; i < (int)n; i++)
		vcpu[i] = recipe_vcpu(c, vm, (uint32_t)i);
	dev = recipe_device(c, vm, XVM_DEV_TYPE_ARM_VGIC_V3);
	if (dev < 0 || vcpu[0] < 0)
		goto out;
	v = GPA_GICD;
	recipe_attr(c, dev, XVM_DEV_ARM_VGIC_GRP_ADDR, XVM_VGIC_V3_ADDR_TYPE_DIST, &v);
	v = XVM_VGIC_V3_REDIST_REGION(n, GPA_GICR, 0, 0);
	recipe_attr(c, dev, XVM_DEV_ARM_VGIC_GRP_ADDR,
		    XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, &v);
	recipe_attr(c, dev, XVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs);
	recipe_attr(c, dev, XVM_DEV_ARM_VGIC_GRP_CTRL, XVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	for (i = 0; i < (int)n; i++) {
		if (vcpu[i] < 0)
			continue;
		cpuif.notify_port = recipe_port(c, vm, i);
		xioctl(c, "VGIC_SET_CPUIF", res[vcpu[i]].fd, XVM_VGIC_SET_CPUIF,
		       &cpuif, recipe_errs);
		/* SGIs and PPIs enabled, priority 0x80 */
		recipe_mmio_write(c, vcpu[i], GPA_GICR + 0x20000 * i + 0x10100, 4, ~0U);
		recipe_mmio_write(c, vcpu[i], GPA_GICR + 0x20000 * i + 0x10400, 4, 0x80808080);
	}
	recipe_mmio_write(c, vcpu[0], GPA_GICD, 4, 3);			/* CTLR */
	recipe_mmio_write(c, vcpu[0], GPA_GICD + 0x104, 4, ~0U);	/* ISENABLER1 */
	line.intid = 32 + (uint32_t)below(&c->r, 32);
	xioctl(c, "VGIC_IRQ_LINE", res[dev].fd, XVM_VGIC_IRQ_LINE, &line, recipe_errs);
out:
	for (i = 0; i < 4; i++)
		res_put(vcpu[i]);
	res_put(dev);
	res_put(vm);
}

/* The e1000e's VFIO group, held; -1 if we were not given it. */
static int vfio_group_for(struct ctx *c, const char *bdf)
{
	int i;

	if (!bdf)
		return -1;
	for (i = 0; i < 4; i++) {
		int g = res_pick(&c->r, R_VFIO, 0);

		if (g >= 0 && res[g].bdf == bdf)
			return g;
		res_put(g);
	}
	return -1;
}

/*
 * A VM with the e1000e's MSI-X interposed: table and PBA on the bus, every
 * vector hooked to an eventfd and aimed at the doorbell (data: a port),
 * MSI-X enabled; eventfd writes then deliver in-kernel.
 */
static void op_msix_setup(struct ctx *c)
{
	int g = vfio_group_for(c, opt.e1000e), vm = -1, vcpu = -1, dev = -1, i, e;
	struct xvm_evtchn_doorbell db = { .addr = GPA_DOORBELL };
	struct xvm_msix_attach a = { 0 };
	struct xvm_msix_info info = { 0 };
	struct xvm_device_attr ga = { .group = XVM_MSIX_GRP_INFO,
				      .addr = (uint64_t)(uintptr_t)&info };
	uint64_t v;
	uint16_t ctrl = 0x8000;

	if (g < 0 || !nreal)
		goto out;
	vm = recipe_vm(c);
	if (vm < 0)
		goto out;
	vcpu = recipe_vcpu(c, vm, 0);
	xioctl(c, "EVTCHN_SET_DOORBELL", res[vm].fd, XVM_EVTCHN_SET_DOORBELL, &db, recipe_errs);
	dev = recipe_device(c, vm, XVM_DEV_TYPE_VFIO_MSIX);
	if (dev < 0 || vcpu < 0)
		goto out;
	a.group_fd = res[g].fd;
	a.segment = real_bdf[0].seg;
	a.bus = real_bdf[0].bus;
	a.devfn = real_bdf[0].devfn;
	if (recipe_attr(c, dev, XVM_MSIX_GRP_ATTACH, 0, &a) ||
	    xioctl(c, "GET_DEVICE_ATTR", res[dev].fd, XVM_GET_DEVICE_ATTR, &ga, recipe_errs))
		goto out;
	v = GPA_MSIX;
	recipe_attr(c, dev, XVM_MSIX_GRP_ADDR, XVM_MSIX_ADDR_TABLE, &v);
	v = GPA_MSIX + 0x1000;
	recipe_attr(c, dev, XVM_MSIX_GRP_ADDR, XVM_MSIX_ADDR_PBA, &v);
	for (i = 0; i < (int)info.nr_vectors && i < 8; i++) {
		int32_t efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		int x = res_add_held(efd, R_EVENTFD, -1, 0, 0);

		if (x >= 0) {
			recipe_attr(c, dev, XVM_MSIX_GRP_EVENTFD, (uint64_t)i, &efd);
			res_put(x);
		}
		e = (int)recipe_port(c, vm, one_in(&c->r, 2) ? 0 : -1);
		recipe_mmio_write(c, vcpu, GPA_MSIX + 16 * i, 8, GPA_DOORBELL);
		recipe_mmio_write(c, vcpu, GPA_MSIX + 16 * i + 8, 8, (uint32_t)e);
	}
	recipe_attr(c, dev, XVM_MSIX_GRP_CTRL, XVM_MSIX_CTRL_WORD, &ctrl);
out:
	res_put(dev);
	res_put(vcpu);
	res_put(vm);
	res_put(g);
}

/*
 * A VM with a memory slot and an xvm-iommu device attached to one of the
 * given devices (mirroring the slots or not), with one explicit mapping.
 */
static void op_iommu_setup(struct ctx *c)
{
	struct xvm_iommu_attach at = { 0 };
	struct xvm_iommu_map m = { 0 };
	struct xvm_userspace_memory_region r = { 0 };
	int vm = -1, dev = -1, a = -1;
	struct bdf b;

	if (!nreal)
		return;
	b = real_bdf[below(&c->r, nreal)];
	vm = recipe_vm(c);
	a = area_pick(&c->r);
	if (vm < 0 || a < 0)
		goto out;
	r.memory_size = areas[a].len;
	r.userspace_addr = (uint64_t)(uintptr_t)areas[a].p;
	if (!xioctl(c, "SET_USER_MEMORY_REGION", res[vm].fd,
		    XVM_SET_USER_MEMORY_REGION, &r, recipe_errs))
		vm_hint_slot(res[vm].vm, 0, 0, r.memory_size);
	dev = recipe_device(c, vm, XVM_DEV_TYPE_IOMMU);
	if (dev < 0)
		goto out;
	at.segment = b.seg;
	at.bus = b.bus;
	at.devfn = b.devfn;
	at.flags = one_in(&c->r, 2) ? XVM_IOMMU_ATTACH_MIRROR_SLOTS : 0;
	if (recipe_attr(c, dev, XVM_IOMMU_GRP_CTRL, XVM_IOMMU_CTRL_ATTACH, &at))
		goto out;
	m.flags = XVM_IOMMU_MAP_READ | XVM_IOMMU_MAP_WRITE | XVM_IOMMU_MAP_SRC_UADDR;
	m.dfn = 0x10000;
	m.count = areas[a].len / PAGE;
	m.uaddr = (uint64_t)(uintptr_t)areas[a].p;
	xioctl(c, "IOMMU_MAP", res[dev].fd, XVM_IOMMU_MAP, &m, recipe_errs);
out:
	area_put(a, false);
	res_put(dev);
	res_put(vm);
}

/* --------------------------------------------------------------------- */
/* The operation table                                                     */

struct op {
	const char *name;
	void (*fn)(struct ctx *c);
	unsigned int weight;
	bool off;
};

static struct op ops[] = {
	{ "open", op_open_xvm, 1, false },
	{ "api-version", op_api_version, 1, false },
	{ "check-extension", op_check_extension, 2, false },
	{ "enable-cap", op_enable_cap, 1, false },
	{ "create-vm", op_create_vm, 4, false },
	{ "create-vcpu", op_create_vcpu, 6, false },
	{ "memory-region", op_memory_region, 8, false },
	{ "create-device", op_create_device, 6, false },
	{ "evtchn", op_evtchn, 20, false },
	{ "evtchn-reset", op_evtchn_reset, 1, false },
	{ "doorbell", op_doorbell, 3, false },
	{ "evtchn-state", op_evtchn_state, 4, false },
	{ "mmio", op_mmio, 16, false },
	{ "mmio-batch", op_mmio_batch, 4, false },
	{ "mmio-run", op_mmio_run, 8, false },
	{ "vcpu-mmap-size", op_vcpu_mmap_size, 1, false },
	{ "poll", op_poll, 8, false },
	{ "stats-fd", op_stats_fd, 2, false },
	{ "owner", op_owner, 2, false },
	{ "fd-poll", op_fd_poll, 2, false },
	{ "vgic-cpuif", op_vgic_cpuif, 6, false },
	{ "device", op_device, 24, false },
	{ "bogus-ioctl", op_bogus_ioctl, 3, false },
	{ "close", op_close, 8, false },
	{ "dup", op_dup, 2, false },
	{ "eventfd", op_eventfd, 4, false },
	{ "mmap", op_mmap, 2, false },
	{ "munmap", op_munmap, 1, false },
	{ "area-poke", op_area_poke, 2, false },
	{ "fork", op_fork, 1, false },
	{ "scm-rights", op_scm_rights, 2, false },
	{ "unload", op_unload, 1, false },
	{ "signal", op_signal, 2, false },
	{ "oracle", op_oracle, 3, false },
	{ "vgic-setup", op_vgic_setup, 1, false },
	{ "msix-setup", op_msix_setup, 1, false },
	{ "iommu-setup", op_iommu_setup, 1, false },
};

#define NOPS	(sizeof(ops) / sizeof(ops[0]))

static unsigned int total_weight;

static struct op *pick_op(struct rng *r)
{
	uint64_t w = below(r, total_weight);
	unsigned int i;

	for (i = 0; i < NOPS; i++) {
		if (ops[i].off)
			continue;
		if (w < ops[i].weight)
			return &ops[i];
		w -= ops[i].weight;
	}
	return &ops[0];
}

/* --------------------------------------------------------------------- */
/* Threads                                                                 */

static void on_sigusr1(int sig)
{
	(void)sig;
}

static bool time_up(void)
{
	if (atomic_load(&stop_now))
		return true;
	if (opt.iterations && atomic_load(&n_iter) >= opt.iterations)
		return true;
	return now_ns() - t0_ns >= (uint64_t)opt.duration * 1000000000ULL;
}

static void *worker(void *arg)
{
	struct ctx *c = arg;
	struct op *o;

	while (!time_up()) {
		o = pick_op(&c->r);
		c->op = o->name;
		atomic_store(&c->op_start, now_ns());
		o->fn(c);
		atomic_store(&c->op_start, 0);
		atomic_fetch_add(&n_iter, 1);
		/* Keep the table from filling up with one kind. */
		if (res_count() > MAX_RES - 16)
			op_close(c);
	}
	return NULL;
}

/* Signals the workers at random short intervals until told to stop. */
static atomic_bool sig_stop;

static void *signaller(void *arg)
{
	struct rng r = { opt.seed ^ 0x5151 };
	struct timespec ts;

	(void)arg;
	while (!atomic_load(&sig_stop)) {
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(500000 + below(&r, 5000000));
		nanosleep(&ts, NULL);
		signal_thread((unsigned int)below(&r, opt.threads));
	}
	return NULL;
}

/* --------------------------------------------------------------------- */
/* Setup: the PCI devices we may use, bogus BDFs, the anchor VM            */

/* Binds bdf to vfio-pci and opens its VFIO group; the fd or -1. */
static int vfio_group_of(const char *bdf)
{
	if (pci_bind(bdf, "vfio-pci"))
		return -1;
	return vfio_group_open_wait(bdf, 200);
}

static bool parse_bdf(const char *s, struct bdf *b)
{
	unsigned int seg, bus, dev, fn;

	if (sscanf(s, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4 ||
	    seg > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return false;
	*b = (struct bdf){ (uint16_t)seg, (uint8_t)bus, (uint8_t)(dev << 3 | fn) };
	return true;
}

/* Accepts bdf if it is the sandbox's device of that vendor:device. */
static int use_device(const char *bdf, const char *want_bdf, int vendor,
		      int device)
{
	struct bdf b;
	int g;

	if (strcmp(bdf, want_bdf) || !parse_bdf(bdf, &b)) {
		say("refusing %s: only %s may be used", bdf, want_bdf);
		return -1;
	}
	if (pci_read_hex(bdf, "vendor") != vendor ||
	    pci_read_hex(bdf, "device") != device) {
		say("refusing %s: not %04x:%04x", bdf, vendor, device);
		return -1;
	}
	g = vfio_group_of(bdf);
	if (g < 0) {
		say("%s: no VFIO group (%s); using its BDF without one", bdf,
		    strerror(errno));
	} else {
		int i = res_add(g, R_VFIO, -1, 0, 0);

		if (i >= 0) {
			res[i].pinned = true;
			res[i].bdf = bdf;
		}
	}
	real_bdf[nreal++] = b;
	return 0;
}

static void setup_bogus_bdfs(void)
{
	static const char *const cand[] = { "0007:00:00.0", "0000:ff:1f.7",
					    "0000:00:1e.6", "0000:42:00.0" };
	unsigned int i;

	for (i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		if (!pci_exists(cand[i]))
			parse_bdf(cand[i], &bogus_bdf[nbogus++]);
}

static bool module_loaded(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	return access(path, F_OK) == 0;
}

/*
 * One pinned device of every type that exists in the anchor VM vm (record
 * v), their modules busy; the test device's fd, or -1 if there is none.
 */
static int anchor_devices(int vm, int v)
{
	static const struct { uint32_t type; const char *mod; } types[] = {
		{ XVM_DEV_TYPE_TEST, "xvm_testdev" },
		{ XVM_DEV_TYPE_ARM_VGIC_V3, "xvm_vgic" },
		{ XVM_DEV_TYPE_VFIO_MSIX, "xvm_msix" },
		{ XVM_DEV_TYPE_IOMMU, "xvm_iommu" },
	};
	struct xvm_create_device cd;
	int x, testdev = -1;
	unsigned int t;

	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		memset(&cd, 0, sizeof(cd));
		cd.type = types[t].type;
		if (ioctl(vm, XVM_CREATE_DEVICE, &cd))
			continue;
		x = res_add((int)cd.fd, R_DEV, v, cd.type, 0);
		res[x].pinned = true;
		if (cd.type == XVM_DEV_TYPE_TEST)
			testdev = (int)cd.fd;
		if (module_loaded(types[t].mod))
			busy_mods[nbusy++] = types[t].mod;
	}
	return testdev;
}

/* The oracle's regions, one per thread, on the anchor's test device. */
static int anchor_oracle(int testdev)
{
	struct xvm_testdev_region reg = { .size = ORACLE_SIZE };
	struct xvm_device_attr a = { .group = XVM_TESTDEV_GRP_REGION,
				     .addr = (uint64_t)(uintptr_t)&reg };
	unsigned int t;

	for (t = 0; t < opt.threads; t++) {
		reg.base = GPA_ORACLE + ORACLE_SIZE * t;
		a.attr = 2047 - t;
		if (ioctl(testdev, XVM_SET_DEVICE_ATTR, &a)) {
			say("oracle region %u: %s", t, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * The anchor VM: pinned (never closed), with one vCPU, the oracle's test
 * device and one device of every type that exists, so those modules stay
 * busy for the unload attempts.
 */
static int setup_anchor(void)
{
	int xvm, vm, v, i, testdev;

	xvm = open("/dev/xvm", O_RDWR | O_CLOEXEC);
	if (xvm < 0) {
		say("cannot open /dev/xvm: %s", strerror(errno));
		return -1;
	}
	res[res_add(xvm, R_XVM, -1, 0, 0)].pinned = true;
	busy_mods[nbusy++] = "xvm";
	vm = ioctl(xvm, XVM_CREATE_VM, 0);
	if (vm < 0)
		return -1;
	v = vmrec_new_locked(40);
	vms[v].refs = 0;
	res[res_add(vm, R_VM, v, 0, 0)].pinned = true;
	i = ioctl(vm, XVM_CREATE_VCPU, 0);
	if (i < 0)
		return -1;
	anchor_vcpu = res_add(i, R_VCPU, v, 0, 0);
	res[anchor_vcpu].pinned = true;
	hint_add(vms[v].vcpus, &vms[v].nvcpus, 0);
	testdev = anchor_devices(vm, v);
	if (testdev < 0) {
		say("no test device (xvm-testdev not loaded?): no oracle");
		for (i = 0; i < (int)NOPS; i++)
			if (ops[i].fn == op_oracle)
				ops[i].off = true;
		return 0;
	}
	return anchor_oracle(testdev);
}

/* --------------------------------------------------------------------- */
/* main                                                                    */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xvm-fuzz [--seed N] [--duration S] [--iterations N] [--threads T]\n"
		"                [--devices] [--avoid OP,...] [--only OP,...] [--list] [-v]\n"
		"  --devices     use the sandbox's e1000e (0000:00:03.0) and edu (0000:00:04.0);\n"
		"                also XVM_TEST_E1000E=BDF, XVM_TEST_EDU=BDF\n"
		"  --avoid/--only  switch operations off/on by name (--list shows them)\n");
}

/* Turns the named operations (comma-separated) on or off. */
static int set_ops(const char *list, bool off)
{
	char buf[512], *tok, *save = NULL;
	unsigned int i;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < NOPS; i++)
			if (!strcmp(ops[i].name, tok))
				break;
		if (i == NOPS) {
			fprintf(stderr, "xvm-fuzz: unknown operation %s\n", tok);
			return -1;
		}
		ops[i].off = off;
	}
	return 0;
}

static void __attribute__((noreturn)) list_ops(void)
{
	unsigned int i;

	for (i = 0; i < NOPS; i++)
		printf("%-16s weight %2u%s\n", ops[i].name, ops[i].weight,
		       ops[i].off ? " (off)" : "");
	exit(0);
}

/* After the options: the environment's devices, the seed, the checks. */
static int finish_args(bool seeded)
{
	unsigned int i;

	if (test_pci_env("XVM_TEST_E1000E"))
		opt.e1000e = test_pci_env("XVM_TEST_E1000E");
	if (test_pci_env("XVM_TEST_EDU"))
		opt.edu = test_pci_env("XVM_TEST_EDU");
	if (!seeded)
		opt.seed = now_ns() ^ ((uint64_t)getpid() << 32);
	if (opt.threads < 1 || opt.threads > MAX_THREADS) {
		fprintf(stderr, "xvm-fuzz: --threads must be 1..%d\n", MAX_THREADS);
		return -1;
	}
	for (i = 0; i < NOPS; i++)
		total_weight += ops[i].off ? 0 : ops[i].weight;
	if (!total_weight) {
		fprintf(stderr, "xvm-fuzz: every operation is off\n");
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv)
{
	bool seeded = false;
	unsigned int i;
	int k;

	for (k = 1; k < argc; k++) {
		const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;

		if (!strcmp(a, "--seed") && v) {
			opt.seed = strtoull(v, NULL, 0), seeded = true, k++;
		} else if (!strcmp(a, "--duration") && v) {
			opt.duration = (unsigned int)strtoul(v, NULL, 0), k++;
		} else if (!strcmp(a, "--iterations") && v) {
			opt.iterations = strtoull(v, NULL, 0), k++;
		} else if (!strcmp(a, "--threads") && v) {
			opt.threads = (unsigned int)strtoul(v, NULL, 0), k++;
		} else if (!strcmp(a, "--devices")) {
			opt.e1000e = "0000:00:03.0";
			opt.edu = "0000:00:04.0";
		} else if (!strcmp(a, "--avoid") && v) {
			if (set_ops(v, true))
				return -1;
			k++;
		} else if (!strcmp(a, "--only") && v) {
			for (i = 0; i < NOPS; i++)
				ops[i].off = true;
			if (set_ops(v, false))
				return -1;
			k++;
		} else if (!strcmp(a, "--list")) {
			list_ops();
		} else if (!strcmp(a, "-v")) {
			opt.verbose = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			return -1;
		}
	}
	return finish_args(seeded);
}

/* Waits for the workers; a thread stuck in one operation is a report. */
static void join_workers(void)
{
	uint64_t deadline = now_ns() + 60ULL * 1000000000ULL;
	unsigned int t, left;

	for (;;) {
		left = 0;
		pthread_mutex_lock(&join_lock);
		for (t = 0; t < opt.threads; t++)
			if (!ctxs[t].joined &&
			    pthread_tryjoin_np(ctxs[t].thr, NULL) == EBUSY)
				left++;
			else
				ctxs[t].joined = true;
		pthread_mutex_unlock(&join_lock);
		if (!left || now_ns() > deadline)
			break;
		usleep(20000);
	}
	for (t = 0; t < opt.threads; t++) {
		uint64_t s = atomic_load(&ctxs[t].op_start);

		if (!ctxs[t].joined)
			report("thread %u stuck in %s for %.1f s", t, ctxs[t].op,
			       s ? (double)(now_ns() - s) / 1e9 : 0.0);
	}
}

/* "EINVAL:12,ENOTTY:3,...": the errors by errno, most frequent first. */
static void errors_line(char *buf, size_t len)
{
	bool done[256] = { false };
	size_t o = 0;
	int k, e, best;

	buf[0] = 0;
	for (k = 0; k < 256; k++) {
		best = -1;
		for (e = 1; e < 256; e++)
			if (!done[e] && atomic_load(&n_errno[e]) &&
			    (best < 0 || atomic_load(&n_errno[e]) > atomic_load(&n_errno[best])))
				best = e;
		if (best < 0 || o + 32 > len)
			break;
		done[best] = true;
		o += (size_t)snprintf(buf + o, len - o, "%s%s:%" PRIuFAST64, o ? "," : "",
				      strerrorname_np(best) ? strerrorname_np(best) : "?",
				      atomic_load(&n_errno[best]));
	}
	if (!o)
		snprintf(buf, len, "none");
}

/* Progress every 10 s until the time or the iterations are used up. */
static void wait_for_the_end(void)
{
	uint64_t next_progress = t0_ns + 10000000000ULL;

	while (!time_up()) {
		usleep(100000);
		if (now_ns() >= next_progress) {
			say("t=%" PRIu64 "s iterations=%" PRIuFAST64 " ioctls=%" PRIuFAST64
			    " fds=%" PRIuFAST64 " live=%d reports=%" PRIuFAST64,
			    (uint64_t)((now_ns() - t0_ns) / 1000000000ULL), atomic_load(&n_iter),
			    atomic_load(&n_ioctls), atomic_load(&n_fds), res_count(),
			    atomic_load(&n_reports));
			next_progress += 10000000000ULL;
		}
	}
}

/* Closes every fd and unmaps every area, then gives the devices back. */
static void close_all(void)
{
	int i;

	/* In table order: any order is legal. */
	pthread_mutex_lock(&tab_lock);
	for (i = 0; i < MAX_RES; i++) {
		if (!res[i].used)
			continue;
		res[i].dead = true;
		res[i].users = 0;
		res_reap_locked(i);
	}
	for (i = 0; i < MAX_AREAS; i++) {
		if (!areas[i].used)
			continue;
		areas[i].dead = true;
		areas[i].users = 0;
		area_reap_locked(i);
	}
	pthread_mutex_unlock(&tab_lock);
	if (opt.e1000e && nreal)
		pci_reset_binding(opt.e1000e);
	if (opt.edu && nreal)
		pci_reset_binding(opt.edu);

}

/* The summary line, on stdout and on the guest's results port. */
static void print_summary(void)
{
	char errs[1024];
	int i;

	for (i = 0; opt.verbose && i < 64 && op_stats[i].name; i++)
		say("  %-24s ok %8" PRIu64 " failed %8" PRIu64, op_stats[i].name,
		    op_stats[i].ok, op_stats[i].fail);
	errors_line(errs, sizeof(errs));
	{
		char line[1400];
		const char *res_port = getenv("XVM_RESULTS");
		int fd;

		snprintf(line, sizeof(line),
			 "xvm-fuzz: seed=%" PRIu64 " duration=%" PRIu64 "s threads=%u"
			 " iterations=%" PRIuFAST64 " fds=%" PRIuFAST64
			 " ioctls=%" PRIuFAST64 " errors=%s warnings=%" PRIuFAST64
			 " reports=%" PRIuFAST64 "\n",
			 opt.seed, (uint64_t)((now_ns() - t0_ns) / 1000000000ULL), opt.threads,
			 atomic_load(&n_iter), atomic_load(&n_fds),
			 atomic_load(&n_ioctls), errs, atomic_load(&n_warnings),
			 atomic_load(&n_reports));
		fputs(line, stdout);
		fflush(stdout);
		/* The guest's results port, where check.sh finds it. */
		if (res_port && *res_port) {
			fd = open(res_port, O_WRONLY | O_CLOEXEC | O_NOCTTY);
			if (fd >= 0) {
				if (write(fd, line, strlen(line)) < 0)
					(void)0;
				close(fd);
			}
		}
	}
}

/* Each worker's context (its random state, guard pages) and its thread. */
static int start_workers(void)
{
	unsigned int t;

	for (t = 0; t < opt.threads; t++) {
		struct ctx *c = &ctxs[t];

		c->id = t;
		c->r.s = opt.seed * 0x100000001b3ULL + t;
		c->op = "start";
		c->guard = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c->guard == MAP_FAILED || mprotect(c->guard + PAGE, PAGE, PROT_NONE))
			return -1;
	}
	for (t = 0; t < opt.threads; t++)
		if (pthread_create(&ctxs[t].thr, NULL, worker, &ctxs[t]))
			return -1;
	return 0;
}

/* A thread stuck in the kernel: say so and leave everything as is. */
static void exit_if_stuck(void)
{
	char errs[1024];
	unsigned int t;

	for (t = 0; t < opt.threads; t++) {
		if (!ctxs[t].joined) {
			errors_line(errs, sizeof(errs));
			say("seed=%" PRIu64 " stuck; errors=%s reports=%" PRIuFAST64,
			    opt.seed, errs, atomic_load(&n_reports));
			_exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	pthread_t sig_thr;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv))
		return 2;
	say("seed=%" PRIu64 " duration=%us threads=%u iterations=%" PRIu64
	    " (replay: xvm-fuzz --seed %" PRIu64 " --duration %u --threads %u%s)",
	    opt.seed, opt.duration, opt.threads, opt.iterations, opt.seed,
	    opt.duration, opt.threads, opt.e1000e || opt.edu ? " --devices" : "");
	for (i = 0; i < (int)NOPS; i++)
		if (ops[i].off)
			say("operation %s is off", ops[i].name);

	/* No SA_RESTART: blocking ioctls see EINTR. */
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	is_root = geteuid() == 0;
	t0_ns = now_ns();

	setup_bogus_bdfs();
	if (opt.e1000e)
		use_device(opt.e1000e, "0000:00:03.0", 0x8086, 0x10d3);
	if (opt.edu)
		use_device(opt.edu, "0000:00:04.0", 0x1234, 0x11e8);
	if (setup_anchor()) {
		say("setup failed: %s", strerror(errno));
		return 1;
	}
	if (start_workers())
		return 1;
	pthread_create(&sig_thr, NULL, signaller, NULL);

	wait_for_the_end();
	join_workers();
	exit_if_stuck();
	atomic_store(&sig_stop, true);
	pthread_join(sig_thr, NULL);

	close_all();
	print_summary();
	return atomic_load(&n_reports) ? 1 : 0;
}
