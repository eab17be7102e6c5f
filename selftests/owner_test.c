// SPDX-License-Identifier: GPL-2.0
/*
 * owner_test: handing a VM to another process (XVM_GRANT_OWNER,
 * XVM_CLAIM_OWNER, docs/api.md "Who may act on a VM").
 *
 *  - grant + claim by a forked child (another mm) with the guest memory in
 *    a memfd mapped at the same address: the child may then do everything,
 *    the parent gets EIO on the VM, vCPU and device fds;
 *  - the refusals, each leaving the owner and the grant as they were:
 *    anonymous slot memory and a memfd mapped at another file offset
 *    (EINVAL), a claim without a grant, by the owner, after a revoke
 *    (EPERM), a grant to no process, a zombie or a kernel thread (ESRCH),
 *    a bad argument (EINVAL), a grant by a non-owner (EIO), a claim after
 *    the owner's address space is gone (ESRCH);
 *  - a poller of the old owner asleep in XVM_POLL ends with EIO at the
 *    claim, and the new owner's poll sees the pending port;
 *  - the old owner exiting after the claim: the VM keeps working;
 *  - xvm-iommu (the edu of XVM_TEST_EDU=BDF): a mapping pinned by the old
 *    owner and unmapped by the new one leaves both processes' VmLck and
 *    the pinned-page balance at their baselines; one the new owner pins
 *    is accounted to it.
 *
 * A forked child runs a function of this file once the parent says go;
 * its exit status is the number of the step that failed (0: all passed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "xvm_harness.h"
#include "xvm_fixture.h"
#include "libxvm.h"
#include "xvm_mem.h"
#include "xvm_pci.h"
#include "host/fdpass.h"

#define PAGE		4096ULL
#define NPAGES		16
#define MEM_SIZE	(NPAGES * PAGE)
#define SLOT_GPA	0x100000ULL
#define SLOT_GPA2	0x200000ULL
#define DFN		0x400		/* an explicit IOMMU mapping */

/* In 6.1 a SKIP() in a fixture setup still runs the test body. */
#define NEED_SETUP() do { if (_metadata->skip) return; } while (0)

static int grant_raw(int vm, int32_t pid, uint32_t flags, uint64_t reserved)
{
	struct xvm_owner_grant g = {
		.pid = pid, .flags = flags, .reserved = { 0, reserved },
	};

	return ioctl(vm, XVM_GRANT_OWNER, &g);
}

static int grant(int vm, pid_t pid)
{
	return grant_raw(vm, pid, 0, 0);
}

static int claim(int vm)
{
	return ioctl(vm, XVM_CLAIM_OWNER, 0);
}

/* errno of a call that must fail, 0 if it succeeded. */
static int err_of(int r)
{
	return r < 0 ? errno : 0;
}

/* --------------------------------------------------------------------- */
/* Fixture: a VM, one vCPU, slot 0 backed by a memfd (shared mapping)     */

FIXTURE(own) {
	int xvm, vm, vcpu, memfd;
	uint8_t *mem;
};

FIXTURE_SETUP(own)
{
	self->xvm = self->vm = self->vcpu = -1;
	self->mem = MAP_FAILED;
	self->memfd = memfd_create("owner_test", MFD_CLOEXEC);
	ASSERT_LE(0, self->memfd);
	ASSERT_OK(ftruncate(self->memfd, 2 * MEM_SIZE));
	self->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->memfd, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memset(self->mem, 0x5a, MEM_SIZE);
	ASSERT_OK(fixture_vm_open(&self->xvm, &self->vm, 0));
	ASSERT_OK(xvm_set_memory_region(self->vm, 0, 0, SLOT_GPA, MEM_SIZE,
					(uintptr_t)self->mem));
	self->vcpu = xvm_create_vcpu(self->vm, 0);
	ASSERT_LE(0, self->vcpu);
}

FIXTURE_TEARDOWN(own)
{
	close_fd(&self->vcpu);
	close_fd(&self->vm);
	close_fd(&self->xvm);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, MEM_SIZE);
	close_fd(&self->memfd);
}

/* --------------------------------------------------------------------- */
/* The child                                                              */

struct child {
	pid_t pid;
	int go;			/* the parent's end: one byte says go */
};

/*
 * Forks a child that waits for child_run(), then runs fn(arg) and exits
 * with its result.  0, or -1.
 */
static int child_start(struct child *c, int (*fn)(void *), void *arg)
{
	int p[2];
	char b;

	if (pipe(p))
		return -1;
	c->pid = fork();
	if (c->pid == 0) {
		close(p[1]);
		if (read(p[0], &b, 1) != 1)
			_exit(250);	/* the parent gave up */
		_exit(fn(arg));
	}
	close(p[0]);
	c->go = p[1];
	if (c->pid < 0) {
		close(p[1]);
		return -1;
	}
	return 0;
}

/* Lets the child run. */
static int child_go(struct child *c)
{
	int r = write(c->go, "g", 1) == 1 ? 0 : -1;

	close(c->go);
	return r;
}

/* Reaps the child: its result, or 255 if it died. */
static int child_reap(struct child *c)
{
	int status = -1;

	if (waitpid(c->pid, &status, 0) != c->pid)
		return 253;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

/* Lets the child run and reaps it. */
static int child_run(struct child *c)
{
	return child_go(c) ? 254 : child_reap(c);
}

/* The child's checks: r must be 0 / must fail with err, else step n. */
#define CHILD_OK(r, n) do { if ((r) < 0) return (n); } while (0)
#define CHILD_ERR(r, err, n) do { if (err_of(r) != (err)) return (n); } while (0)

struct handback {
	FIXTURE_DATA(own) *self;
	int sock;		/* the child's end, then the parent's */
};

/*
 * The new owner: claims, uses the VM, its vCPU and a new one, grants the
 * VM back to the parent and waits until the parent took it.
 */
static int child_claims_and_works(void *arg)
{
	struct handback *h = arg;
	FIXTURE_DATA(own) *self = h->self;
	uint64_t val;
	int vcpu1;
	char b;

	CHILD_ERR(ioctl(self->vm, XVM_CHECK_EXTENSION, 0), EIO, 1);
	CHILD_ERR(ioctl(self->vm, XVM_CLAIM_OWNER, 1), EINVAL, 2);
	CHILD_OK(claim(self->vm), 3);
	vcpu1 = xvm_create_vcpu(self->vm, 1);
	CHILD_OK(vcpu1, 4);
	CHILD_OK(xvm_mmio_read(self->vcpu, 0x1000, 4, &val, NULL), 5);
	CHILD_OK(xvm_set_memory_region(self->vm, 1, 0, SLOT_GPA2, PAGE,
				       (uintptr_t)self->mem + MEM_SIZE - PAGE),
		 6);
	CHILD_OK(xvm_set_memory_region(self->vm, 1, 0, SLOT_GPA2, 0,
				       (uintptr_t)self->mem), 7);
	/* the grant is gone: a second claim is refused */
	CHILD_ERR(claim(self->vm), EPERM, 8);
	/* the new owner may hand it back */
	CHILD_OK(grant(self->vm, getppid()), 9);
	if (write(h->sock, "g", 1) != 1 || read(h->sock, &b, 1) != 1)
		return 10;
	CHILD_ERR(xvm_mmio_read(vcpu1, 0x1000, 4, &val, NULL), EIO, 11);
	close(vcpu1);
	return 0;
}

TEST_F(own, claim_moves_ownership)
{
	struct handback h = { .self = self };
	struct child c;
	uint64_t val;
	int sv[2], v;
	char b;

	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	h.sock = sv[1];
	ASSERT_OK(child_start(&c, child_claims_and_works, &h));
	close(sv[1]);
	ASSERT_OK(grant(self->vm, c.pid));
	/* a grant changes nothing yet */
	EXPECT_OK(xvm_mmio_read(self->vcpu, 0x1000, 4, &val, NULL));
	ASSERT_OK(child_go(&c));
	if (read(sv[0], &b, 1) != 1)
		ASSERT_EQ(0, child_reap(&c));

	/* the parent is no one now: EIO on the VM and vCPU fds */
	EXPECT_ERR(xvm_create_vcpu(self->vm, 2), EIO);
	EXPECT_ERR(xvm_mmio_read(self->vcpu, 0x1000, 4, &val, NULL), EIO);
	EXPECT_ERR(xvm_set_memory_region(self->vm, 0, 0, SLOT_GPA, 0,
					 (uintptr_t)self->mem), EIO);
	EXPECT_ERR(grant(self->vm, getpid()), EIO);
	/* but the child granted it back */
	EXPECT_OK(claim(self->vm));
	ASSERT_EQ(1, write(sv[0], "c", 1));
	EXPECT_EQ(0, child_reap(&c));
	close(sv[0]);
	EXPECT_OK(xvm_mmio_read(self->vcpu, 0x1000, 4, &val, NULL));
	v = xvm_create_vcpu(self->vm, 2);
	EXPECT_LE(0, v);
	close(v);
}

/* The child of a refused claim: err, and still granted afterwards. */
struct refused {
	FIXTURE_DATA(own) *self;
	int err;
};

static int child_claim_refused(void *arg)
{
	struct refused *r = arg;

	CHILD_ERR(claim(r->self->vm), r->err, 1);
	CHILD_ERR(xvm_create_vcpu(r->self->vm, 1), EIO, 2);
	return 0;
}

/* Anonymous memory cannot be handed over: EINVAL, nothing changed. */
TEST_F(own, anonymous_slot_refused)
{
	struct refused r = { .self = self, .err = EINVAL };
	void *anon = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct child c;

	ASSERT_NE(MAP_FAILED, anon);
	ASSERT_OK(xvm_set_memory_region(self->vm, 1, 0, SLOT_GPA2, PAGE,
					(uintptr_t)anon));
	ASSERT_OK(child_start(&c, child_claim_refused, &r));
	ASSERT_OK(grant(self->vm, c.pid));
	EXPECT_EQ(0, child_run(&c));
	/* still ours, slots and all */
	EXPECT_OK(xvm_set_memory_region(self->vm, 1, 0, SLOT_GPA2, 0,
					(uintptr_t)anon));
	EXPECT_ERR(xvm_set_memory_region(self->vm, 1, 0, SLOT_GPA2, 0,
					 (uintptr_t)anon), EINVAL);
	munmap(anon, PAGE);
}

/*
 * The child maps the memfd at another file offset: EINVAL.  Mapped back
 * as the parent has it, the same grant works.
 */
static int child_claim_offset(void *arg)
{
	FIXTURE_DATA(own) *self = arg;
	int prot = PROT_READ | PROT_WRITE, other;
	void *p;

	p = mmap(self->mem, MEM_SIZE, prot, MAP_SHARED | MAP_FIXED,
		 self->memfd, PAGE);
	if (p != self->mem)
		return 1;
	CHILD_ERR(claim(self->vm), EINVAL, 2);
	/* only the last page at the wrong offset: still refused */
	p = mmap(self->mem, MEM_SIZE, prot, MAP_SHARED | MAP_FIXED,
		 self->memfd, 0);
	if (p != self->mem)
		return 3;
	p = mmap(self->mem + MEM_SIZE - PAGE, PAGE, prot,
		 MAP_SHARED | MAP_FIXED, self->memfd, MEM_SIZE);
	if (p != self->mem + MEM_SIZE - PAGE)
		return 4;
	CHILD_ERR(claim(self->vm), EINVAL, 5);
	/* another memfd at the same offset: another inode */
	other = memfd_create("other", MFD_CLOEXEC);
	if (other < 0 || ftruncate(other, MEM_SIZE))
		return 6;
	p = mmap(self->mem, MEM_SIZE, prot, MAP_SHARED | MAP_FIXED, other, 0);
	if (p != self->mem)
		return 6;
	CHILD_ERR(claim(self->vm), EINVAL, 6);
	/* as the parent has it, in two mappings: accepted */
	p = mmap(self->mem, MEM_SIZE, prot, MAP_SHARED | MAP_FIXED,
		 self->memfd, 0);
	if (p != self->mem)
		return 7;
	p = mmap(self->mem + PAGE, PAGE, prot, MAP_SHARED | MAP_FIXED,
		 self->memfd, PAGE);
	if (p != self->mem + PAGE)
		return 8;
	CHILD_OK(claim(self->vm), 9);
	return 0;
}

TEST_F(own, other_offset_refused)
{
	struct child c;

	ASSERT_OK(child_start(&c, child_claim_offset, self));
	ASSERT_OK(grant(self->vm, c.pid));
	EXPECT_EQ(0, child_run(&c));
	EXPECT_ERR(xvm_create_vcpu(self->vm, 1), EIO);
}

/* No grant, a revoked one, the owner's own claim: EPERM. */
TEST_F(own, claim_needs_grant)
{
	struct refused r = { .self = self, .err = EPERM };
	struct child c;

	EXPECT_ERR(claim(self->vm), EPERM);		/* no grant at all */
	ASSERT_OK(child_start(&c, child_claim_refused, &r));
	EXPECT_EQ(0, child_run(&c));			/* nor for a child */

	ASSERT_OK(child_start(&c, child_claim_refused, &r));
	ASSERT_OK(grant(self->vm, c.pid));
	EXPECT_ERR(claim(self->vm), EPERM);		/* the owner: not granted */
	ASSERT_OK(grant(self->vm, 0));			/* revoked */
	EXPECT_EQ(0, child_run(&c));

	/* a newer grant replaces the older one */
	ASSERT_OK(child_start(&c, child_claim_refused, &r));
	ASSERT_OK(grant(self->vm, c.pid));
	ASSERT_OK(grant(self->vm, getpid()));
	EXPECT_EQ(0, child_run(&c));
	/* granted to itself: a claim that moves nothing, once */
	EXPECT_OK(claim(self->vm));
	EXPECT_ERR(claim(self->vm), EPERM);
	EXPECT_LE(0, xvm_check_extension(self->vm, XVM_CAP_NR_MEMSLOTS));
	EXPECT_EQ(1, xvm_check_extension(self->xvm, XVM_CAP_OWNER_TRANSFER));
}

TEST_F(own, grant_einval)
{
	EXPECT_ERR(grant(self->vm, -1), EINVAL);
	EXPECT_ERR(grant(self->vm, INT32_MIN), EINVAL);
	EXPECT_ERR(grant_raw(self->vm, getpid(), 1, 0), EINVAL);
	EXPECT_ERR(grant_raw(self->vm, getpid(), 0, 1), EINVAL);
	EXPECT_ERR(claim(self->vm), EPERM);	/* none of them granted */
}

/* A child that exits at once: reaped (no such pid) or a zombie. */
static int child_exit(void *arg)
{
	return 0;
}

/* No such process, a zombie, a kernel thread: ESRCH, nothing granted. */
TEST_F(own, grant_esrch)
{
	struct child c;
	siginfo_t si;

	ASSERT_OK(child_start(&c, child_exit, NULL));
	ASSERT_OK(child_go(&c));
	/* exited, not reaped: a zombie has no address space */
	ASSERT_OK(waitid(P_PID, c.pid, &si, WEXITED | WNOWAIT));
	EXPECT_ERR(grant(self->vm, c.pid), ESRCH);
	ASSERT_EQ(c.pid, waitpid(c.pid, NULL, 0));
	EXPECT_ERR(grant(self->vm, c.pid), ESRCH);
	/* kthreadd, when this is the initial pid namespace */
	if (access("/proc/2/exe", F_OK) && errno == ENOENT &&
	    !access("/proc/2", F_OK))
		EXPECT_ERR(grant(self->vm, 2), ESRCH);
	EXPECT_ERR(claim(self->vm), EPERM);
}

/* A non-owner can neither grant nor revoke: EIO. */
static int child_grants(void *arg)
{
	FIXTURE_DATA(own) *self = arg;

	CHILD_ERR(grant(self->vm, getpid()), EIO, 1);
	CHILD_ERR(grant(self->vm, 0), EIO, 2);
	CHILD_OK(claim(self->vm), 3);	/* the parent's grant stood */
	return 0;
}

TEST_F(own, grant_by_non_owner)
{
	struct child c;

	ASSERT_OK(child_start(&c, child_grants, self));
	ASSERT_OK(grant(self->vm, c.pid));
	EXPECT_EQ(0, child_run(&c));
	EXPECT_ERR(xvm_create_vcpu(self->vm, 1), EIO);
}

/* --------------------------------------------------------------------- */
/* XVM_POLL of the old owner at the claim                                 */

struct poller {
	FIXTURE_DATA(own) *self;
	uint32_t port;
	int ret, err;
	volatile bool done;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;

	p->ret = xvm_poll(p->self->vcpu, &p->port, 1, 0, 0, NULL); /* forever */
	p->err = errno;
	p->done = true;
	return NULL;
}

/*
 * The new owner polls the vCPU (it needs the mutex the old poller held):
 * a timeout; then it raises the port and polls it: there.  SIGALRM kills
 * it if the mutex never comes free.
 */
static int child_poll(void *arg)
{
	struct poller *p = arg;
	uint32_t got = 0;

	alarm(5);
	CHILD_OK(claim(p->self->vm), 1);
	if (xvm_poll(p->self->vcpu, &p->port, 1, 100000000ULL, 0, &got))
		return 2;
	CHILD_OK(xvm_evtchn_send(p->self->vm, p->port), 3);
	if (xvm_poll(p->self->vcpu, &p->port, 1, 1000000000ULL, 0, &got) != 1)
		return 4;
	if (got != p->port)
		return 5;
	return 0;
}

/*
 * A thread of the old owner asleep in XVM_POLL (holding the vCPU's mutex)
 * is woken by the claim and fails with EIO; the new owner's polls (which
 * need that mutex) work, and see the port it raises.
 */
TEST_F(own, poller_kicked)
{
	struct poller p = { .self = self, .ret = -2 };
	struct timespec ts;
	struct child c;
	pthread_t t;

	ASSERT_OK(xvm_evtchn_alloc_unbound(self->vm, &p.port));
	ASSERT_OK(child_start(&c, child_poll, &p));
	ASSERT_OK(grant(self->vm, c.pid));
	ASSERT_OK(pthread_create(&t, NULL, poll_thread, &p));
	usleep(100000);			/* asleep in XVM_POLL by now */
	ASSERT_FALSE(p.done);
	EXPECT_EQ(0, child_run(&c));
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	ASSERT_OK(pthread_timedjoin_np(t, NULL, &ts));
	EXPECT_EQ(-1, p.ret);
	EXPECT_EQ(EIO, p.err);
}

/* --------------------------------------------------------------------- */
/* The old owner is a child: it goes away                                 */

struct old_owner {
	FIXTURE_DATA(own) *self;
	int sock;
	bool wait;		/* until the parent claimed; else exit at once */
};

/* Creates a VM (slot 0 in the memfd, vCPU 0), grants it to the parent. */
static int child_old_owner(void *arg)
{
	struct old_owner *o = arg;
	int fds[2];
	char b;

	fds[0] = xvm_create_vm(o->self->xvm, 0);
	CHILD_OK(fds[0], 1);
	CHILD_OK(xvm_set_memory_region(fds[0], 0, 0, SLOT_GPA, MEM_SIZE,
				       (uintptr_t)o->self->mem), 2);
	fds[1] = xvm_create_vcpu(fds[0], 0);
	CHILD_OK(fds[1], 3);
	CHILD_OK(grant(fds[0], getppid()), 4);
	CHILD_OK(fdpass_send(o->sock, "v", 1, fds, 2), 5);
	if (!o->wait)
		return 0;
	if (read(o->sock, &b, 1) != 1)
		return 6;
	CHILD_ERR(xvm_create_vcpu(fds[0], 1), EIO, 7);
	return 0;
}

/* Starts child_old_owner(); its VM and vCPU fds in fds[]: 0, or -1. */
static int old_owner_start(struct child *c, struct old_owner *o, int *fds)
{
	unsigned int nr = 0;
	int sv[2];
	char b;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	o->sock = sv[1];
	if (child_start(c, child_old_owner, o) || child_go(c)) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	o->sock = sv[0];
	if (fdpass_recv(o->sock, &b, 1, fds, 2, &nr, 0) != 1 || nr != 2)
		return -1;
	return 0;
}

/* The old owner exits after the claim: the VM goes on working. */
TEST_F(own, old_owner_exits)
{
	struct old_owner o = { .self = self, .wait = true };
	uint64_t val;
	struct child c;
	int fds[2], v;

	ASSERT_OK(old_owner_start(&c, &o, fds));
	ASSERT_OK(claim(fds[0]));
	ASSERT_EQ(1, write(o.sock, "c", 1));
	EXPECT_EQ(0, child_reap(&c));
	close(o.sock);

	v = xvm_create_vcpu(fds[0], 1);
	EXPECT_LE(0, v);
	close(v);
	EXPECT_OK(xvm_mmio_read(fds[1], 0x1000, 4, &val, NULL));
	EXPECT_OK(xvm_set_memory_region(fds[0], 1, 0, SLOT_GPA2, PAGE,
					(uintptr_t)self->mem));
	EXPECT_OK(xvm_set_memory_region(fds[0], 0, 0, SLOT_GPA, 0,
					(uintptr_t)self->mem));
	v = ioctl(fds[0], XVM_GET_STATS_FD, 0);
	EXPECT_LE(0, v);
	close(v);
	close(fds[1]);
	close(fds[0]);
}

/* The owner exited before the claim: nothing to compare with, ESRCH. */
TEST_F(own, claim_after_owner_exit)
{
	struct old_owner o = { .self = self, .wait = false };
	struct child c;
	int fds[2];

	ASSERT_OK(old_owner_start(&c, &o, fds));
	EXPECT_EQ(0, child_reap(&c));
	close(o.sock);
	EXPECT_ERR(claim(fds[0]), ESRCH);
	EXPECT_ERR(xvm_create_vcpu(fds[0], 1), EIO);
	close(fds[1]);
	close(fds[0]);
}

/* --------------------------------------------------------------------- */
/* xvm-iommu: pins stay accounted to the mm they came from                */

static int iommu_attach_edu(int dev)
{
	const struct test_pci *d = test_pci_edu();
	struct xvm_iommu_attach a = {
		.segment = d->segment, .bus = d->bus, .devfn = d->devfn,
	};

	return xvm_set_attr(dev, XVM_IOMMU_GRP_CTRL, XVM_IOMMU_CTRL_ATTACH, &a);
}

static uint64_t iommu_pinned(int dev)
{
	uint64_t v = ~0ULL;

	if (xvm_get_attr(dev, XVM_IOMMU_GRP_INFO, XVM_IOMMU_INFO_PINNED, &v))
		return ~0ULL;
	return v;
}

struct iommu_child {
	FIXTURE_DATA(own) *self;
	int dev;
};

/*
 * The new owner unmaps what the old one pinned (nothing unaccounted from
 * it), then pins 2 pages of its own (accounted to it) and exits with them
 * mapped.
 */
static int child_iommu(void *arg)
{
	struct iommu_child *ic = arg;
	long lck0 = locked_kb();

	CHILD_OK(claim(ic->self->vm), 1);
	CHILD_OK(fixture_iommu_unmap(ic->dev, DFN, 4), 2);
	if (locked_kb() != lck0 || iommu_pinned(ic->dev))
		return 3;
	CHILD_OK(fixture_iommu_map(ic->dev, DFN, ic->self->mem, 2), 4);
	if (locked_kb() != lck0 + 8 || iommu_pinned(ic->dev) != 2)
		return 5;
	return 0;
}

/* The system's pinned pages, back to want within a second. */
static int64_t pins_settle(int64_t want)
{
	int64_t n = pins();
	int i;

	for (i = 0; i < 100 && n != want; i++) {
		usleep(10000);
		n = pins();
	}
	return n;
}

TEST_F(own, iommu_pins_follow_their_mm)
{
	struct iommu_child ic = { .self = self, .dev = -1 };
	int64_t pins0;
	struct child c;
	long lck0;

	if (geteuid())
		SKIP(return, "needs root");
	if (xvm_create_device(self->vm, XVM_DEV_TYPE_IOMMU,
			      XVM_CREATE_DEVICE_TEST, NULL))
		SKIP(return, "xvm-iommu not loaded");
	if (!test_pci_edu()->ok)
		SKIP(return, "%s", test_pci_edu()->why);
	if (iommu_group_of(EDU_BDF) < 0)
		SKIP(return, "no edu in an IOMMU group at %s", EDU_BDF);
	pci_reset_binding(EDU_BDF);
	ASSERT_OK(xvm_create_device(self->vm, XVM_DEV_TYPE_IOMMU, 0, &ic.dev));
	ASSERT_OK(iommu_attach_edu(ic.dev));
	lck0 = locked_kb();
	pins0 = pins();
	ASSERT_LE(0, pins0);

	ASSERT_OK(fixture_iommu_map(ic.dev, DFN, self->mem, 4));
	EXPECT_EQ(lck0 + 16, locked_kb());
	ASSERT_OK(child_start(&c, child_iommu, &ic));
	ASSERT_OK(grant(self->vm, c.pid));
	EXPECT_EQ(0, child_run(&c));
	/* the child's unmap unaccounted the parent's pin from the parent */
	EXPECT_EQ(lck0, locked_kb());
	EXPECT_EQ(pins0 + 2, pins());		/* the child's, its mm gone */
	EXPECT_ERR(fixture_iommu_unmap(ic.dev, DFN, 2), EIO);

	/* the VM goes: the child's pages are unpinned too */
	close_fd(&ic.dev);
	close_fd(&self->vcpu);
	close_fd(&self->vm);
	EXPECT_EQ(pins0, pins_settle(pins0));
	EXPECT_EQ(lck0, locked_kb());
	pci_reset_binding(EDU_BDF);
}

TEST_HARNESS_MAIN
