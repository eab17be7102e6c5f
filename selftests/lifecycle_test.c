// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle_test: object lifetimes, module reference counts, module unload
 * and reload, concurrency on the MMIO bus, and the vCPU limit.
 *
 * Runs as root in the guest; the modules come from /lib/modules/xvm/.  The
 * unload/reload tests skip where the modules are not there to reload (a
 * host with xvm installed elsewhere).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "xvm_harness.h"
#include "xvm_fixture.h"
#include "libxvm.h"

#define MODDIR		"/lib/modules/xvm"
#define XVM_KO		MODDIR "/xvm.ko"
#define TESTDEV_KO	MODDIR "/xvm-testdev.ko"
#define REG_BASE	0x10000000ULL
#define REG_SIZE	0x1000ULL
#define PAGE		4096ULL

/* ------------------------------------------------------------------ */
/* module helpers                                                      */

/* /sys/module/<name>/refcnt, or -1 if the module is not loaded. */
static int refcnt(const char *name)
{
	char path[128];
	int v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Wait up to ~3 s for a refcount to reach want (frees may be RCU-deferred). */
static int wait_refcnt(const char *name, int want)
{
	int i, v = refcnt(name);

	for (i = 0; i < 300 && v != want; i++) {
		usleep(10000);
		v = refcnt(name);
	}
	return v;
}

static int module_loaded(const char *name)
{
	return refcnt(name) >= 0;
}

static long delete_module(const char *name, unsigned int flags)
{
	return syscall(__NR_delete_module, name, flags);
}

static long load_module(const char *path)
{
	long ret;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	ret = syscall(__NR_finit_module, fd, "", 0);
	close(fd);
	return ret;
}

/* Module name -> its file in MODDIR ("xvm_testdev" -> xvm-testdev.ko). */
static void module_path(const char *name, char *buf, size_t n)
{
	size_t i, o;

	o = (size_t)snprintf(buf, n, "%s/", MODDIR);
	for (i = 0; name[i] && o + 4 < n; i++)
		buf[o++] = name[i] == '_' ? '-' : name[i];
	snprintf(buf + o, n - o, ".ko");
}

static int ensure_loaded(const char *name)
{
	char path[256];

	if (module_loaded(name))
		return 0;
	module_path(name, path, sizeof(path));
	if (load_module(path) && errno != EEXIST)
		return -1;
	return 0;
}

/* delete_module on a busy module: EWOULDBLOCK (== EAGAIN) or EBUSY. */
static int is_busy_errno(int e)
{
	return e == EWOULDBLOCK || e == EAGAIN || e == EBUSY;
}

static void need_modules(struct __test_metadata *_metadata)
{
	if (geteuid() != 0)
		SETUP_SKIP("needs root");
	if (!module_loaded("xvm") || !module_loaded("xvm_testdev"))
		SETUP_SKIP("xvm/xvm_testdev not loaded as modules");
}

/* ------------------------------------------------------------------ */
/* object helpers                                                      */

/* Everything a VM can own, for the lifetime tests. */
struct world {
	int xvm, vm;
	int vcpu[4];
	int dev[2];
	void *mem;
};

static int world_build(struct world *w)
{
	int i;

	memset(w, -1, sizeof(*w));
	w->mem = NULL;
	if (fixture_vm_open(&w->xvm, &w->vm, 0))
		return -1;
	for (i = 0; i < 4; i++) {
		w->vcpu[i] = xvm_create_vcpu(w->vm, i * 3);
		if (w->vcpu[i] < 0)
			return -1;
	}
	for (i = 0; i < 2; i++) {
		if (fixture_testdev(w->vm, &w->dev[i], REG_BASE + i * REG_SIZE,
				    REG_SIZE))
			return -1;
		if (xvm_testdev_add_region(w->dev[i], 1000,
					   REG_BASE + 0x100000 + i * REG_SIZE, 8))
			return -1;
	}
	w->mem = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->mem == MAP_FAILED)
		return -1;
	if (xvm_set_memory_region(w->vm, 0, 0, 0, 8 * PAGE,
				  (uint64_t)(uintptr_t)w->mem))
		return -1;
	if (xvm_set_memory_region(w->vm, 9, XVM_MEM_READONLY, 0x1000000, 8 * PAGE,
				  (uint64_t)(uintptr_t)w->mem + 8 * PAGE))
		return -1;
	return 0;
}

/* Closes what of w is still open (close_fd() skips -1) and unmaps its memory. */
static void world_close(struct world *w)
{
	int i;

	close_fd(&w->xvm);
	close_fd(&w->vm);
	for (i = 0; i < 4; i++)
		close_fd(&w->vcpu[i]);
	for (i = 0; i < 2; i++)
		close_fd(&w->dev[i]);
	if (w->mem && w->mem != MAP_FAILED)
		munmap(w->mem, 16 * PAGE);
	w->mem = NULL;
}

FIXTURE(life) {
	int xvm_ref, dev_ref;
};

FIXTURE_SETUP(life)
{
	need_modules(_metadata);
	self->xvm_ref = refcnt("xvm");
	self->dev_ref = refcnt("xvm_testdev");
}

FIXTURE_TEARDOWN(life)
{
}

#define CHECK_REFS() do {						\
	ASSERT_EQ(self->xvm_ref, wait_refcnt("xvm", self->xvm_ref));	\
	ASSERT_EQ(self->dev_ref, wait_refcnt("xvm_testdev", self->dev_ref)); \
} while (0)

TEST_F(life, refcounts_rise_and_return)
{
	struct world w;

	ASSERT_OK(world_build(&w));
	EXPECT_LT(self->xvm_ref, refcnt("xvm"));
	EXPECT_LT(self->dev_ref, refcnt("xvm_testdev"))
		TH_LOG("a test device does not pin xvm-testdev");
	close_fd(&w.dev[0]);
	EXPECT_LT(self->dev_ref, refcnt("xvm_testdev"));
	close_fd(&w.dev[1]);
	EXPECT_EQ(self->dev_ref, wait_refcnt("xvm_testdev", self->dev_ref));
	world_close(&w);
	CHECK_REFS();
}

/* The VM fd goes first; vCPUs and devices keep working, then go. */
TEST_F(life, close_vm_first)
{
	struct world w;
	struct xvm_testdev_region r;
	uint64_t v = 0;
	int h = -1, i, extra;

	ASSERT_OK(world_build(&w));
	ASSERT_OK(xvm_mmio_write(w.vcpu[0], REG_BASE + 8, 8, 0x1234, &h));
	ASSERT_EQ(1, h);
	close_fd(&w.xvm);
	close_fd(&w.vm);
	/* the VM lives on through its vCPUs and devices */
	ASSERT_OK(xvm_mmio_read(w.vcpu[3], REG_BASE + 8, 8, &v, &h));
	EXPECT_EQ(1, h);
	EXPECT_EQ(0x1234, v);
	ASSERT_OK(xvm_get_attr(w.dev[1], XVM_TESTDEV_GRP_REGION, 0, &r));
	EXPECT_EQ(REG_BASE + REG_SIZE, r.base);
	/* a device can still register regions on the VM's bus */
	ASSERT_OK(xvm_testdev_add_region(w.dev[1], 7, REG_BASE + 0x200000, 8));
	ASSERT_OK(xvm_mmio_write(w.vcpu[1], REG_BASE + 0x200000, 4, 9, &h));
	EXPECT_EQ(1, h);
	close_fd(&w.dev[0]);
	ASSERT_OK(xvm_mmio_read(w.vcpu[2], REG_BASE + 8, 8, &v, &h));
	EXPECT_EQ(0, h);		/* dev 0's region went with it */
	for (i = 0; i < 4; i++)
		close_fd(&w.vcpu[i]);
	/* the last holder of the VM is now a device */
	extra = refcnt("xvm");
	EXPECT_LT(self->xvm_ref, extra);
	ASSERT_OK(xvm_get_attr(w.dev[1], XVM_TESTDEV_GRP_REGION, 7, &r));
	world_close(&w);
	CHECK_REFS();
}

/* vCPUs and devices first, VM last. */
TEST_F(life, close_vm_last)
{
	struct world w;
	int i;

	ASSERT_OK(world_build(&w));
	for (i = 0; i < 2; i++)
		close_fd(&w.dev[i]);
	for (i = 0; i < 4; i++)
		close_fd(&w.vcpu[i]);
	/* the VM still works (a fresh id: reusing a closed one is not promised) */
	i = xvm_create_vcpu(w.vm, 100);
	ASSERT_LE(0, i) TH_LOG("%s", strerror(errno));
	close(i);
	i = create_testdev(w.vm);
	ASSERT_LE(0, i);
	/* the closed devices' ranges are free again */
	ASSERT_OK(xvm_testdev_add_region(i, 0, REG_BASE, 2 * REG_SIZE));
	close(i);
	world_close(&w);
	CHECK_REFS();
}

/* Many orders, pseudo-random but reproducible. */
TEST_F(life, close_any_order)
{
	unsigned int seed = 12345, round;

	for (round = 0; round < 40; round++) {
		struct world w;
		int *fds[8], n = 0, i;

		ASSERT_OK(world_build(&w));
		fds[n++] = &w.xvm;
		fds[n++] = &w.vm;
		for (i = 0; i < 4; i++)
			fds[n++] = &w.vcpu[i];
		for (i = 0; i < 2; i++)
			fds[n++] = &w.dev[i];
		for (i = n - 1; i > 0; i--) {
			int j = rand_r(&seed) % (i + 1);
			int *t = fds[i];

			fds[i] = fds[j];
			fds[j] = t;
		}
		for (i = 0; i < n; i++)
			close_fd(fds[i]);
		world_close(&w);
	}
	CHECK_REFS();
}

/* dup()ed fds keep the object alive. */
TEST_F(life, dup_keeps_alive)
{
	struct world w;
	int vm2, vc2, h = -1;

	ASSERT_OK(world_build(&w));
	vm2 = dup(w.vm);
	vc2 = dup(w.vcpu[0]);
	ASSERT_LE(0, vm2);
	ASSERT_LE(0, vc2);
	close_fd(&w.vm);
	close_fd(&w.vcpu[0]);
	ASSERT_ERR(xvm_create_vcpu(vm2, 0), EEXIST);
	ASSERT_OK(xvm_mmio_write(vc2, REG_BASE, 4, 1, &h));
	EXPECT_EQ(1, h);
	world_close(&w);
	close(vm2);
	close(vc2);
	CHECK_REFS();
}

/* A child builds everything and exits (or is killed) without closing. */
TEST_F(life, child_exit_without_close)
{
	int mode;

	for (mode = 0; mode < 3; mode++) {
		int status = 0;
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct world w;
			int i, extra[8];

			if (world_build(&w))
				_exit(2);
			for (i = 0; i < 8; i++)	/* extra VMs, half-built */
				extra[i] = xvm_create_vm(w.xvm, 0);
			for (i = 0; i < 8; i++)
				if (extra[i] >= 0 && (i & 1))
					(void)create_testdev(extra[i]);
			if (mode == 0)
				_exit(0);
			if (mode == 1)
				raise(SIGKILL);
			/* mode 2: exit while another thread is inside an ioctl loop */
			for (i = 0; i < 1000; i++) {
				int h;

				xvm_mmio_write(w.vcpu[0], REG_BASE, 8, i, &h);
			}
			exit(0);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		if (mode == 1) {
			ASSERT_TRUE(WIFSIGNALED(status));
		} else {
			ASSERT_TRUE(WIFEXITED(status));
			ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("child setup failed");
		}
		CHECK_REFS();
	}
}

/* A module with a live device cannot be unloaded; the device keeps working. */
TEST_F(life, testdev_unload_busy)
{
	struct world w;
	uint64_t v = 0;
	int h = -1, e;
	long ret;

	ASSERT_OK(world_build(&w));
	ASSERT_OK(xvm_mmio_write(w.vcpu[0], REG_BASE, 8, 0xabc, &h));
	errno = 0;
	ret = delete_module("xvm_testdev", O_NONBLOCK);
	e = errno;
	if (ret == 0)
		ensure_loaded("xvm_testdev");	/* leave the system usable */
	ASSERT_EQ(-1, ret) TH_LOG("xvm_testdev unloaded with live devices");
	ASSERT_TRUE(is_busy_errno(e)) TH_LOG("errno %s", strerror(e));
	ASSERT_TRUE(module_loaded("xvm_testdev"));
	ASSERT_OK(xvm_mmio_read(w.vcpu[1], REG_BASE, 8, &v, &h));
	EXPECT_EQ(1, h);
	EXPECT_EQ(0xabc, v);
	ASSERT_OK(xvm_testdev_add_region(w.dev[0], 5, REG_BASE + 0x300000, 8));
	/* one device gone, one left: still busy */
	close_fd(&w.dev[0]);
	errno = 0;
	ret = delete_module("xvm_testdev", O_NONBLOCK);
	e = errno;
	if (ret == 0)
		ensure_loaded("xvm_testdev");
	ASSERT_EQ(-1, ret);
	ASSERT_TRUE(is_busy_errno(e)) TH_LOG("errno %s", strerror(e));
	close_fd(&w.dev[1]);
	world_close(&w);
	CHECK_REFS();
}

/* ------------------------------------------------------------------ */
/* Unload/reload: the teardown always reloads what the test removed.   */

FIXTURE(reload) {
	char removed[8][256];
	int nremoved;
	int xvm_ref;
};

FIXTURE_SETUP(reload)
{
	self->nremoved = 0;
	need_modules(_metadata);
	/* What it unloads it must load again: from MODDIR (the sandbox's). */
	if (access(XVM_KO, R_OK) || access(TESTDEV_KO, R_OK))
		SETUP_SKIP("no %s to reload the modules from", TESTDEV_KO);
	self->xvm_ref = refcnt("xvm");
}

FIXTURE_TEARDOWN(reload)
{
	int i;

	if (!module_loaded("xvm") && load_module(XVM_KO))
		TH_LOG("reloading xvm.ko: %s", strerror(errno));
	if (!module_loaded("xvm_testdev") && load_module(TESTDEV_KO))
		TH_LOG("reloading xvm-testdev.ko: %s", strerror(errno));
	for (i = 0; i < self->nremoved; i++)
		if (ensure_loaded(self->removed[i]))
			TH_LOG("reloading %s: %s", self->removed[i], strerror(errno));
}

TEST_F(reload, testdev_unload_after_close_and_reload)
{
	int xvm, vm, vcpu, dev, h = -1;
	uint64_t v = 7;

	ASSERT_OK(fixture_vm_open(&xvm, &vm, 0));
	ASSERT_OK(fixture_vcpus(vm, &vcpu, 1));
	ASSERT_OK(fixture_testdev(vm, &dev, REG_BASE, REG_SIZE));
	ASSERT_OK(xvm_mmio_write(vcpu, REG_BASE, 8, 5, &h));
	close(dev);

	/* unload with the VM still open: it holds no device of the module */
	ASSERT_OK(delete_module("xvm_testdev", O_NONBLOCK));
	ASSERT_FALSE(module_loaded("xvm_testdev"));
	ASSERT_ERR(xvm_create_device(vm, XVM_DEV_TYPE_TEST, 0, &dev), ENODEV);
	ASSERT_ERR(xvm_create_device(vm, XVM_DEV_TYPE_TEST, XVM_CREATE_DEVICE_TEST,
				     NULL), ENODEV);
	/* the bus forgot the region */
	ASSERT_OK(xvm_mmio_read(vcpu, REG_BASE, 8, &v, &h));
	EXPECT_EQ(0, h);

	ASSERT_OK(load_module(TESTDEV_KO));
	ASSERT_TRUE(module_loaded("xvm_testdev"));
	ASSERT_EQ(0, xvm_create_device(vm, XVM_DEV_TYPE_TEST, XVM_CREATE_DEVICE_TEST,
				       NULL));
	dev = create_testdev(vm);
	ASSERT_LE(0, dev) TH_LOG("%s", strerror(errno));
	ASSERT_OK(xvm_testdev_add_region(dev, 0, REG_BASE, REG_SIZE));
	ASSERT_OK(xvm_mmio_read(vcpu, REG_BASE, 8, &v, &h));
	EXPECT_EQ(1, h);
	EXPECT_EQ(0, v);
	close(dev);
	close(vcpu);
	close(vm);
	close(xvm);
	/* several rounds of unload/reload leave nothing behind */
	for (int i = 0; i < 3; i++) {
		ASSERT_OK(delete_module("xvm_testdev", O_NONBLOCK));
		ASSERT_OK(load_module(TESTDEV_KO));
	}
	ASSERT_EQ(self->xvm_ref, wait_refcnt("xvm", self->xvm_ref));
	ASSERT_EQ(0, wait_refcnt("xvm_testdev", 0));
}

/*
 * delete_module("xvm") with a VM open fails and the VM keeps working.  The
 * device modules that use xvm would make it fail for another reason, so
 * they are unloaded first (and reloaded by the teardown).
 */
TEST_F(reload, xvm_unload_busy_with_vm_open)
{
	DIR *d;
	struct dirent *de;
	int xvm, vm, vcpu, e, i;
	long ret;

	ASSERT_OK(fixture_vm_open(&xvm, &vm, 0));
	close(xvm);		/* only the VM fd holds xvm now */

	/* first with the holders in place */
	errno = 0;
	ret = delete_module("xvm", O_NONBLOCK);
	e = errno;
	ASSERT_EQ(-1, ret) TH_LOG("xvm unloaded with a VM open!");
	ASSERT_TRUE(is_busy_errno(e)) TH_LOG("%s", strerror(e));

	d = opendir("/sys/module/xvm/holders");
	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		char path[256];

		if (de->d_name[0] == '.')
			continue;
		module_path(de->d_name, path, sizeof(path));
		if (access(path, R_OK) || refcnt(de->d_name) != 0) {
			closedir(d);
			close(vm);
			SKIP(return, "holder %s cannot be unloaded and reloaded",
			     de->d_name);
		}
		ASSERT_LT(self->nremoved, 8);
		snprintf(self->removed[self->nremoved], sizeof(self->removed[0]),
			 "%s", de->d_name);
		TH_LOG("unloading holder %s", de->d_name);
		ASSERT_OK(delete_module(de->d_name, O_NONBLOCK));
		self->nremoved++;
	}
	closedir(d);

	errno = 0;
	ret = delete_module("xvm", O_NONBLOCK);
	e = errno;
	ASSERT_EQ(-1, ret) TH_LOG("xvm unloaded with a VM open!");
	ASSERT_TRUE(is_busy_errno(e)) TH_LOG("%s", strerror(e));
	/* the VM still works */
	vcpu = xvm_create_vcpu(vm, 3);
	ASSERT_LE(0, vcpu) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(1024, xvm_check_extension(vm, XVM_CAP_MAX_VCPUS));
	close(vcpu);
	close(vm);
	for (i = 0; i < self->nremoved; i++)
		ASSERT_OK(ensure_loaded(self->removed[i]));
	self->nremoved = 0;
}

/* ------------------------------------------------------------------ */
/* Concurrency: MMIO on several vCPUs while regions come and go.        */

#define NWORKERS	4
#define STABLE_BASE	0x20000000ULL
#define CHURN_BASE	0x30000000ULL
#define CHURN_REGIONS	16

struct stress {
	int vm;
	int vcpu[NWORKERS];
	atomic_int stop;
	atomic_long errors;
	atomic_long churns;
	long stable_reads[NWORKERS], stable_writes[NWORKERS];
	long churn_handled[NWORKERS], churn_unhandled[NWORKERS];
	char err[256];
};

static void stress_fail(struct stress *s, const char *fmt, unsigned long long a,
			unsigned long long b)
{
	if (atomic_fetch_add(&s->errors, 1) == 0)
		snprintf(s->err, sizeof(s->err), fmt, a, b);
}

struct worker_arg {
	struct stress *s;
	int id;
};

static void *mmio_worker(void *p)
{
	struct worker_arg *a = p;
	struct stress *s = a->s;
	int id = a->id, fd = s->vcpu[id];
	unsigned int seed = 99 + id;
	uint64_t iter = 0;

	while (!atomic_load(&s->stop)) {
		uint64_t mine = ((uint64_t)id << 56) | (iter++ & 0xffffffffffffULL);
		uint64_t v = 0, caddr;
		int h = -1;

		/* our own register in the stable region */
		if (xvm_mmio_write(fd, STABLE_BASE + 8 * id, 8, mine, &h) || h != 1) {
			stress_fail(s, "stable write: h=%llu errno=%llu", h, errno);
			break;
		}
		s->stable_writes[id]++;
		if (xvm_mmio_read(fd, STABLE_BASE + 8 * id, 8, &v, &h) || h != 1 ||
		    v != mine) {
			stress_fail(s, "stable read: got %#llx want %#llx", v, mine);
			break;
		}
		s->stable_reads[id]++;

		/* somewhere in the churning range: present or not */
		caddr = CHURN_BASE + (rand_r(&seed) % (CHURN_REGIONS + 2)) * REG_SIZE +
			8 * (rand_r(&seed) % 8);
		if (rand_r(&seed) & 1) {
			if (xvm_mmio_write(fd, caddr, 8, mine, &h)) {
				stress_fail(s, "churn write: errno %llu (%llu)", errno, 0);
				break;
			}
		} else {
			v = 0;
			if (xvm_mmio_read(fd, caddr, 8, &v, &h)) {
				stress_fail(s, "churn read: errno %llu (%llu)", errno, 0);
				break;
			}
			/* a handled read sees zero or some worker's pattern */
			if (h == 1 && v && (v >> 56) >= NWORKERS) {
				stress_fail(s, "churn read garbage %#llx at %#llx", v, caddr);
				break;
			}
		}
		if (h == 1)
			s->churn_handled[id]++;
		else if (h == 0)
			s->churn_unhandled[id]++;
		else {
			stress_fail(s, "bad result %llu (%llu)", h, 0);
			break;
		}
	}
	return NULL;
}

/*
 * Two devices take turns: each iteration destroys the device that held one
 * half of the churn range two iterations ago and registers a new device's
 * regions there, while the other half stays claimed - so about half the
 * range is claimed at any moment and accesses race with both insertion and
 * removal (and with handlers of a device being destroyed).
 */
static void *churner(void *p)
{
	struct stress *s = p;
	int devs[2] = { -1, -1 };
	long it = 0;

	while (!atomic_load(&s->stop)) {
		int half = it & 1, n = CHURN_REGIONS / 2, j;

		if (devs[half] >= 0)
			close(devs[half]);
		devs[half] = -1;
		if (xvm_create_device(s->vm, XVM_DEV_TYPE_TEST, 0, &devs[half])) {
			stress_fail(s, "create device: errno %llu (%llu)", errno, 0);
			break;
		}
		for (j = 0; j < n; j++) {
			/* alternate the insertion order too */
			int k = half * n + ((it & 2) ? n - 1 - j : j);

			if (xvm_testdev_add_region(devs[half], k,
						   CHURN_BASE + k * REG_SIZE, REG_SIZE)) {
				stress_fail(s, "add region %llu: errno %llu", k, errno);
				break;
			}
		}
		it++;
		atomic_fetch_add(&s->churns, 1);
	}
	if (devs[0] >= 0)
		close(devs[0]);
	if (devs[1] >= 0)
		close(devs[1]);
	return NULL;
}

/* The workers and the churner for 3 s; s->errors says what went wrong. */
static void run_mmio_vs_churn(struct __test_metadata *_metadata,
			      struct stress *s)
{
	struct worker_arg args[NWORKERS];
	pthread_t w[NWORKERS], c;
	int i;

	for (i = 0; i < NWORKERS; i++) {
		args[i].s = s;
		args[i].id = i;
		ASSERT_EQ(0, pthread_create(&w[i], NULL, mmio_worker, &args[i]));
	}
	ASSERT_EQ(0, pthread_create(&c, NULL, churner, s));
	sleep(3);
	atomic_store(&s->stop, 1);
	for (i = 0; i < NWORKERS; i++)
		pthread_join(w[i], NULL);
	pthread_join(c, NULL);
}

TEST_F_TIMEOUT(life, threads_mmio_vs_region_churn, 120)
{
	struct stress *s = calloc(1, sizeof(*s));
	int xvm, dev, i;
	long reads = 0, writes = 0, handled = 0, unhandled = 0;
	uint64_t v;

	ASSERT_NE(NULL, s);
	ASSERT_OK(fixture_vm_open(&xvm, &s->vm, 0));
	ASSERT_OK(fixture_vcpus(s->vm, s->vcpu, NWORKERS));
	ASSERT_OK(fixture_testdev(s->vm, &dev, STABLE_BASE, REG_SIZE));

	run_mmio_vs_churn(_metadata, s);
	ASSERT_EQ(0, atomic_load(&s->errors)) TH_LOG("%s", s->err);
	for (i = 0; i < NWORKERS; i++) {
		reads += s->stable_reads[i];
		writes += s->stable_writes[i];
		handled += s->churn_handled[i];
		unhandled += s->churn_unhandled[i];
	}
	TH_LOG("%ld stable accesses, %ld churn handled, %ld unhandled, %ld churns",
	       reads + writes, handled, unhandled, (long)atomic_load(&s->churns));
	EXPECT_LT(0, atomic_load(&s->churns));
	EXPECT_LT(0, reads);
	/* every stable access was counted exactly once by the device */
	ASSERT_OK(xvm_testdev_stat(dev, XVM_TESTDEV_STAT_READS, &v));
	EXPECT_EQ(reads, (long)v);
	ASSERT_OK(xvm_testdev_stat(dev, XVM_TESTDEV_STAT_WRITES, &v));
	EXPECT_EQ(writes, (long)v);
	ASSERT_OK(xvm_testdev_stat(dev, XVM_TESTDEV_STAT_REJECTED, &v));
	EXPECT_EQ(0, (long)v);
	/* after the churn, the churn range is empty */
	for (i = 0; i < CHURN_REGIONS; i++) {
		int h = -1;

		ASSERT_OK(xvm_mmio_read(s->vcpu[0], CHURN_BASE + i * REG_SIZE, 8, &v, &h));
		EXPECT_EQ(0, h);
	}
	close(dev);
	for (i = 0; i < NWORKERS; i++)
		close(s->vcpu[i]);
	close(s->vm);
	close(xvm);
	free(s);
	CHECK_REFS();
}

/* Concurrent vCPU creation: ids are handed out exactly once. */
#define NCREATORS 4
struct creator {
	int vm;
	int ok, eexist, other;
	int fds[64];
};

static void *create_vcpus(void *p)
{
	struct creator *c = p;
	int id;

	for (id = 0; id < 64; id++) {
		int fd = xvm_create_vcpu(c->vm, id);

		c->fds[id] = fd;
		if (fd >= 0)
			c->ok++;
		else if (errno == EEXIST)
			c->eexist++;
		else
			c->other++;
	}
	return NULL;
}

TEST_F(life, concurrent_vcpu_create)
{
	struct creator cr[NCREATORS];
	pthread_t t[NCREATORS];
	int xvm, vm, i, id, ok = 0;

	ASSERT_OK(fixture_vm_open(&xvm, &vm, 0));
	for (i = 0; i < NCREATORS; i++) {
		memset(&cr[i], 0, sizeof(cr[i]));
		cr[i].vm = vm;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, create_vcpus, &cr[i]));
	}
	for (i = 0; i < NCREATORS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < NCREATORS; i++) {
		ok += cr[i].ok;
		EXPECT_EQ(0, cr[i].other);
	}
	EXPECT_EQ(64, ok);
	for (id = 0; id < 64; id++) {
		int owners = 0;

		for (i = 0; i < NCREATORS; i++)
			if (cr[i].fds[id] >= 0) {
				owners++;
				close(cr[i].fds[id]);
			}
		EXPECT_EQ(1, owners) TH_LOG("vCPU id %d", id);
	}
	close(vm);
	close(xvm);
	CHECK_REFS();
}

/* ------------------------------------------------------------------ */

TEST_F_TIMEOUT(life, vcpus_1024, 120)
{
	struct rlimit rl = { 4096, 4096 };
	static int fds[1024];
	int xvm, vm, i;

	ASSERT_OK(setrlimit(RLIMIT_NOFILE, &rl));
	ASSERT_OK(fixture_vm_open(&xvm, &vm, 0));
	ASSERT_EQ(1024, xvm_check_extension(vm, XVM_CAP_MAX_VCPUS));
	for (i = 0; i < 1024; i++) {
		/* in a scrambled order, so ids are not created sequentially */
		int id = (i * 389) % 1024;

		if (i == 1023) {
			/* one short of the limit, a duplicate is EEXIST */
			ASSERT_ERR(xvm_create_vcpu(vm, 0), EEXIST);
			ASSERT_ERR(xvm_create_vcpu(vm, (389 * 1022) % 1024), EEXIST);
		}
		fds[id] = xvm_create_vcpu(vm, id);
		ASSERT_LE(0, fds[id]) TH_LOG("vCPU %d (#%d): %s", id, i, strerror(errno));
	}
	ASSERT_ERR(xvm_create_vcpu(vm, 1024), EINVAL);
	/*
	 * Full: every valid id is also a duplicate.  KVM checks the count first
	 * (EINVAL); EEXIST is as right.  Either way it must fail.
	 */
	errno = 0;
	ASSERT_EQ(-1, xvm_create_vcpu(vm, 0));
	ASSERT_TRUE(errno == EINVAL || errno == EEXIST) TH_LOG("%s", strerror(errno));
	/* every one of them is a working vCPU */
	{
		int dev = create_testdev(vm), h;
		uint64_t v;

		ASSERT_LE(0, dev);
		ASSERT_OK(xvm_testdev_add_region(dev, 0, REG_BASE, 8 * 1024));
		for (i = 0; i < 1024; i++)
			ASSERT_OK(xvm_mmio_write(fds[i], REG_BASE + 8 * i, 8, i, &h));
		for (i = 0; i < 1024; i++) {
			ASSERT_OK(xvm_mmio_read(fds[1023 - i], REG_BASE + 8 * i, 8, &v, &h));
			ASSERT_EQ(1, h);
			ASSERT_EQ((uint64_t)i, v);
		}
		close(dev);
	}
	close(vm);		/* VM first, vCPUs after */
	close(xvm);
	for (i = 0; i < 1024; i++)
		close(fds[i]);
	CHECK_REFS();
}

TEST_F_TIMEOUT(life, many_vms, 120)
{
	enum { N = 32 };
	int xvm, vm[N], vc[N][2], dv[N], i;

	xvm = xvm_open();
	ASSERT_LE(0, xvm);
	for (i = 0; i < N; i++) {
		vm[i] = xvm_create_vm(xvm, i % 2 ? 0 : 32 + i % 21);
		ASSERT_LE(0, vm[i]);
		vc[i][0] = xvm_create_vcpu(vm[i], 0);
		vc[i][1] = xvm_create_vcpu(vm[i], 1023);
		ASSERT_LE(0, vc[i][0]);
		ASSERT_LE(0, vc[i][1]);
		dv[i] = create_testdev(vm[i]);
		ASSERT_LE(0, dv[i]);
		/* the same address in every VM: buses are separate */
		ASSERT_OK(xvm_testdev_add_region(dv[i], 0, REG_BASE, 8));
	}
	for (i = 0; i < N; i++) {
		int h;

		ASSERT_OK(xvm_mmio_write(vc[i][0], REG_BASE, 8, i, &h));
		ASSERT_EQ(1, h);
	}
	for (i = 0; i < N; i++) {
		uint64_t v;
		int h;

		ASSERT_OK(xvm_mmio_read(vc[i][1], REG_BASE, 8, &v, &h));
		ASSERT_EQ((uint64_t)i, v);
	}
	for (i = 0; i < N; i++) {
		switch (i % 3) {
		case 0: close(vm[i]); close(dv[i]); close(vc[i][0]); close(vc[i][1]); break;
		case 1: close(vc[i][1]); close(dv[i]); close(vm[i]); close(vc[i][0]); break;
		case 2: close(dv[i]); close(vc[i][0]); close(vc[i][1]); close(vm[i]); break;
		}
	}
	close(xvm);
	CHECK_REFS();
}

TEST_HARNESS_MAIN
