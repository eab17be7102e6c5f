// SPDX-License-Identifier: GPL-2.0
/*
 * evtchn_state_test: save and restore of a VM's event-channel port table
 * (XVM_EVTCHN_GET_STATE, XVM_EVTCHN_SET_STATE), the VM id they name peers
 * by (XVM_CAP_VM_ID), and the relink of restored interdomain ports
 * (XVM_EVTCHN_RELINK), within one owner and across two.
 *
 * The source is two VMs A and B with a port in every state (unbound, bound
 * to a vCPU, pending, masked, interdomain both ways, named, a loopback
 * pair, bridged to eventfds) and a doorbell; the target two fresh VMs with
 * the same ids and vCPUs.  A round trip must give back the same records and
 * the same behaviour; a bad state must fail with its errno and leave the
 * target's table empty.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "xvm_harness.h"
#include "xvm_fixture.h"
#include "libxvm.h"
#include "host/fdpass.h"

#define ID_A		0xa1a1a1a1a1a1a1a1ULL
#define ID_B		0xb2ULL
#define ID_C		0xc3ULL
#define DB_ADDR		0x40000000ULL
#define MS		1000000ULL
#define BAD_PTR		((void *)1)
/* Bits a round trip does not give back: the bridges are the VMM's. */
#define NOT_RESTORED	(XVM_EVTCHN_PORT_EVENTFD_IN | XVM_EVTCHN_PORT_EVENTFD_OUT)

typedef struct xvm_evtchn_port_state rec_t;
typedef struct xvm_evtchn_table_state hdr_t;

/* The ports of the source; the target has the same numbers. */
struct src {
	uint32_t unbound, vpend, mpend, ia, ib, named, ia2, nb, lp1, lp2;
	uint32_t bridged, bv;
};

static const uint32_t a_vcpu_ids[2] = { 0, 5 };
#define B_VCPU_ID	3

static uint32_t st_status(int vm, uint32_t port)
{
	uint32_t status = 0xdead;

	if (xvm_evtchn_status(vm, port, NULL, &status))
		return 0xbad;
	return status;
}

static uint32_t st_state(int vm, uint32_t port)
{
	uint32_t state = 0xdead;

	if (xvm_evtchn_status(vm, port, &state, NULL))
		return 0xbad;
	return state;
}

static int is_pending(int vm, uint32_t port)
{
	return (st_status(vm, port) & XVM_EVTCHN_STATUS_PENDING) != 0;
}

/* A VM with id (0: none) and the vCPUs ids[n], fds in fd[]. */
static int make_vm(int xvm, uint64_t id, const uint32_t *ids, int n, int *fd)
{
	int vm = xvm_create_vm(xvm, 0), i;

	if (vm < 0)
		return -1;
	if (id && xvm_set_vm_id(vm, id))
		return -1;
	for (i = 0; i < n; i++) {
		fd[i] = xvm_create_vcpu(vm, ids[i]);
		if (fd[i] < 0)
			return -1;
	}
	return vm;
}

/* The record of port in recs[n], or NULL. */
static const rec_t *find(const rec_t *recs, uint32_t n, uint32_t port)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (recs[i].port == port)
			return &recs[i];
	return NULL;
}

/* recs a and b are the same but for the bits of ignore; else the index. */
static int diff_records(const rec_t *a, uint32_t na, const rec_t *b,
			uint32_t nb, uint32_t ignore)
{
	rec_t x, y;
	uint32_t i;

	if (na != nb)
		return -2;
	for (i = 0; i < na; i++) {
		x = a[i];
		y = b[i];
		x.flags &= ~ignore;
		y.flags &= ~ignore;
		if (memcmp(&x, &y, sizeof(x)))
			return i;
	}
	return -1;
}

/* poll() revents of fd, at once. */
static short revents(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

/* ------------------------------------------------------------------ */

FIXTURE(st) {
	int xvm, a, b, a2, b2;
	int av[2], bv[1], a2v[2], b2v[1];
	int efd[2];
	struct src s;
	hdr_t ha, hb;
	rec_t *ra, *rb;
};

FIXTURE_SETUP(st)
{
	uint32_t bid = B_VCPU_ID;

	self->a = self->b = self->a2 = self->b2 = -1;
	self->av[0] = self->av[1] = self->a2v[0] = self->a2v[1] = -1;
	self->bv[0] = self->b2v[0] = self->efd[0] = self->efd[1] = -1;
	self->ra = self->rb = NULL;
	self->xvm = xvm_open();
	ASSERT_LE(0, self->xvm);
	ASSERT_EQ(1, xvm_check_extension(self->xvm, XVM_CAP_VM_ID));
	self->a = make_vm(self->xvm, ID_A, a_vcpu_ids, 2, self->av);
	ASSERT_LE(0, self->a);
	self->b = make_vm(self->xvm, ID_B, &bid, 1, self->bv);
	ASSERT_LE(0, self->b);
	self->a2 = make_vm(self->xvm, ID_A, a_vcpu_ids, 2, self->a2v);
	ASSERT_LE(0, self->a2);
	self->b2 = make_vm(self->xvm, ID_B, &bid, 1, self->b2v);
	ASSERT_LE(0, self->b2);
}

FIXTURE_TEARDOWN(st)
{
	fixture_close_all(self->av, 2);
	fixture_close_all(self->a2v, 2);
	fixture_close_all(self->bv, 1);
	fixture_close_all(self->b2v, 1);
	fixture_close_all(self->efd, 2);
	close_fd(&self->a);
	close_fd(&self->b);
	close_fd(&self->a2);
	close_fd(&self->b2);
	close_fd(&self->xvm);
	free(self->ra);
	free(self->rb);
}

/* The source: a port in every state, and a doorbell. */
static int build_source(FIXTURE_DATA(st) *self)
{
	struct src *s = &self->s;
	int a = self->a, b = self->b;
	uint32_t gap;

	self->efd[0] = eventfd(0, EFD_CLOEXEC);
	self->efd[1] = eventfd(0, EFD_CLOEXEC);
	if (self->efd[0] < 0 || self->efd[1] < 0 ||
	    xvm_evtchn_alloc_unbound(a, &s->unbound) ||
	    xvm_evtchn_alloc_unbound(a, &gap) ||
	    fixture_vcpu_port(a, 5, &s->vpend) || xvm_evtchn_send(a, s->vpend) ||
	    fixture_vcpu_port(a, 0, &s->mpend) || xvm_evtchn_mask(a, s->mpend) ||
	    xvm_evtchn_send(a, s->mpend) ||
	    fixture_port_pair(a, b, &s->ia, &s->ib) ||
	    fixture_port_for(a, b, &s->named) ||
	    fixture_port_for(b, a, &s->nb) ||
	    xvm_evtchn_bind_interdomain(a, b, s->nb, &s->ia2) ||
	    xvm_evtchn_bind_vcpu(a, s->ia2, 5) ||
	    xvm_evtchn_alloc_unbound(a, &s->lp1) ||
	    xvm_evtchn_bind_interdomain(a, a, s->lp1, &s->lp2) ||
	    xvm_evtchn_send(a, s->lp2) ||
	    xvm_evtchn_alloc_unbound(a, &s->bridged) ||
	    xvm_evtchn_eventfd(a, s->bridged, self->efd[0], 0) ||
	    xvm_evtchn_eventfd(a, s->bridged, self->efd[1],
			       XVM_EVTCHN_EVENTFD_NOTIFY) ||
	    fixture_vcpu_port(b, B_VCPU_ID, &s->bv) || xvm_evtchn_mask(b, s->bv) ||
	    xvm_set_doorbell(a, DB_ADDR, 0))
		return -1;
	return xvm_evtchn_close(a, gap);	/* a hole in the numbers */
}

static int save_source(FIXTURE_DATA(st) *self)
{
	if (xvm_evtchn_save(self->a, &self->ha, &self->ra))
		return -1;
	return xvm_evtchn_save(self->b, &self->hb, &self->rb);
}

/*
 * What the ports do, the same on the source and the target: each check
 * leaves the ports as it found them, except the bits it documents.
 */
static void check_behaviour(struct __test_metadata *_metadata, int a, int b,
			    const int *av, const struct src *s)
{
	uint32_t port = 0, ports[1], state = 0, rp;
	int handled = 0;

	/* pending and unmasked on vCPU 5 (av[1]): its fd is readable */
	EXPECT_TRUE(revents(av[1]) & POLLIN);
	EXPECT_FALSE(revents(av[0]) & POLLIN);	/* vCPU 0's port is masked */
	ports[0] = s->mpend;
	EXPECT_EQ(1, xvm_poll(av[0], ports, 1, 0, 0, &port));
	EXPECT_EQ(s->mpend, port);
	ASSERT_OK(xvm_evtchn_unmask(a, s->mpend));
	EXPECT_TRUE(revents(av[0]) & POLLIN);
	ASSERT_OK(xvm_evtchn_mask(a, s->mpend));

	/* interdomain both ways, and the loopback pair */
	EXPECT_FALSE(is_pending(b, s->ib));
	ASSERT_OK(xvm_evtchn_send(a, s->ia));
	EXPECT_TRUE(is_pending(b, s->ib));
	ASSERT_OK(xvm_evtchn_clear(b, s->ib));
	EXPECT_FALSE(is_pending(a, s->ia2));
	ASSERT_OK(xvm_evtchn_send(b, s->nb));
	EXPECT_TRUE(is_pending(a, s->ia2));
	ASSERT_OK(xvm_evtchn_clear(a, s->ia2));
	ASSERT_OK(xvm_evtchn_send(a, s->lp1));
	EXPECT_TRUE(is_pending(a, s->lp2));
	ASSERT_OK(xvm_evtchn_clear(a, s->lp2));

	/* the doorbell raises the unbound port */
	ASSERT_OK(xvm_mmio_write(av[0], DB_ADDR, 4, s->unbound, &handled));
	EXPECT_TRUE(handled);
	EXPECT_TRUE(is_pending(a, s->unbound));
	ASSERT_OK(xvm_evtchn_clear(a, s->unbound));

	/* the named port: B binds it (then closes its end), nobody else */
	errno = 0;
	EXPECT_EQ(-1, xvm_evtchn_bind_interdomain(a, a, s->named, &rp));
	EXPECT_EQ(EACCES, errno);
	ASSERT_OK(xvm_evtchn_bind_interdomain(b, a, s->named, &rp));
	ASSERT_OK(xvm_evtchn_status(a, s->named, &state, NULL));
	EXPECT_EQ(XVM_EVTCHN_STATE_INTERDOMAIN, state);
	ASSERT_OK(xvm_evtchn_close(b, rp));
}

/* The records of the source say what its ports are. */
static void check_source_records(struct __test_metadata *_metadata,
				 FIXTURE_DATA(st) *self)
{
	uint32_t n_a = self->ha.nr_ports, n_b = self->hb.nr_ports;
	const rec_t *r;

	r = find(self->ra, n_a, self->s.unbound);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, r->state);
	EXPECT_EQ(0, r->flags);
	r = find(self->ra, n_a, self->s.vpend);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(XVM_EVTCHN_STATE_VCPU, r->state);
	EXPECT_EQ(XVM_EVTCHN_PORT_VCPU | XVM_EVTCHN_PORT_PENDING, r->flags);
	EXPECT_EQ(5, r->vcpu_id);
	r = find(self->ra, n_a, self->s.mpend);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(XVM_EVTCHN_PORT_VCPU | XVM_EVTCHN_PORT_PENDING |
		  XVM_EVTCHN_PORT_MASKED, r->flags);
	EXPECT_EQ(0, r->vcpu_id);
	r = find(self->ra, n_a, self->s.ia);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(XVM_EVTCHN_STATE_INTERDOMAIN, r->state);
	EXPECT_EQ(ID_B, r->peer_id);
	EXPECT_EQ(self->s.ib, r->peer_port);
	r = find(self->ra, n_a, self->s.named);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(XVM_EVTCHN_STATE_UNBOUND, r->state);
	EXPECT_EQ(XVM_EVTCHN_PORT_REMOTE_NAMED, r->flags);
	EXPECT_EQ(ID_B, r->peer_id);
	r = find(self->ra, n_a, self->s.ia2);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(XVM_EVTCHN_PORT_VCPU, r->flags);
	EXPECT_EQ(self->s.nb, r->peer_port);
	r = find(self->rb, n_b, self->s.nb);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(XVM_EVTCHN_STATE_INTERDOMAIN, r->state);
	EXPECT_EQ(XVM_EVTCHN_PORT_REMOTE_NAMED, r->flags);
	EXPECT_EQ(ID_A, r->peer_id);
	EXPECT_EQ(self->s.ia2, r->peer_port);
	r = find(self->ra, n_a, self->s.lp1);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(ID_A, r->peer_id);
	EXPECT_EQ(self->s.lp2, r->peer_port);
	EXPECT_EQ(XVM_EVTCHN_PORT_PENDING, r->flags);
	r = find(self->ra, n_a, self->s.bridged);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(NOT_RESTORED, r->flags);
}

/* Every state, saved, restored into fresh VMs: same records, same ports. */
TEST_F(st, round_trip)
{
	uint32_t done = 9, awaiting = 9, n_a, n_b;
	const rec_t *r;
	hdr_t h;
	rec_t *got = NULL;

	ASSERT_OK(build_source(self));
	ASSERT_OK(save_source(self));
	n_a = self->ha.nr_ports;
	n_b = self->hb.nr_ports;
	EXPECT_EQ(XVM_EVTCHN_STATE_VERSION, self->ha.version);
	EXPECT_EQ(9, n_a);
	EXPECT_EQ(3, n_b);
	EXPECT_EQ(XVM_EVTCHN_STATE_DOORBELL, self->ha.flags);
	EXPECT_EQ(DB_ADDR, self->ha.doorbell_addr);
	EXPECT_EQ(ID_A, self->ha.vm_id);
	EXPECT_EQ(0, self->hb.flags);

	check_source_records(_metadata, self);

	/* restored: the cross-VM ports await their peer, the rest is back */
	ASSERT_OK(xvm_evtchn_set_state(self->a2, &self->ha, self->ra));
	ASSERT_OK(xvm_evtchn_set_state(self->b2, &self->hb, self->rb));
	ASSERT_OK(xvm_evtchn_save(self->a2, &h, &got));
	EXPECT_EQ(-1, diff_records(self->ra, n_a, got, h.nr_ports,
				   NOT_RESTORED | XVM_EVTCHN_PORT_AWAITING));
	r = find(got, h.nr_ports, self->s.ia);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(XVM_EVTCHN_PORT_AWAITING, r->flags);
	r = find(got, h.nr_ports, self->s.lp1);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(XVM_EVTCHN_PORT_PENDING, r->flags);	/* linked at once */
	r = find(got, h.nr_ports, self->s.bridged);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, r->flags);
	EXPECT_EQ(self->ha.flags, h.flags);
	EXPECT_EQ(self->ha.doorbell_addr, h.doorbell_addr);
	free(got);
	got = NULL;

	/* one relink from A's side, owner of both: ia, ia2 linked, named resolved */
	ASSERT_OK(xvm_evtchn_relink(self->a2, self->b2, &done, &awaiting));
	EXPECT_EQ(3, done);
	EXPECT_EQ(0, awaiting);
	ASSERT_OK(xvm_evtchn_relink(self->b2, self->a2, &done, &awaiting));
	EXPECT_EQ(0, done);
	EXPECT_EQ(0, awaiting);

	ASSERT_OK(xvm_evtchn_save(self->a2, &h, &got));
	EXPECT_EQ(-1, diff_records(self->ra, n_a, got, h.nr_ports,
				   NOT_RESTORED));
	free(got);
	got = NULL;
	ASSERT_OK(xvm_evtchn_save(self->b2, &h, &got));
	EXPECT_EQ(-1, diff_records(self->rb, n_b, got, h.nr_ports, 0));
	free(got);

	check_behaviour(_metadata, self->a, self->b, self->av, &self->s);
	check_behaviour(_metadata, self->a2, self->b2, self->a2v, &self->s);
}

/* A restored pending bit is pending once; clearing it clears it. */
TEST_F(st, pending_exactly_once)
{
	uint32_t p, q, port = 0, ports[2];
	rec_t *got = NULL;
	hdr_t h;

	ASSERT_OK(fixture_vcpu_port(self->a, 5, &p));
	ASSERT_OK(xvm_evtchn_send(self->a, p));
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->a, &q));
	ASSERT_OK(save_source(self));
	ASSERT_OK(xvm_evtchn_set_state(self->a2, &self->ha, self->ra));

	EXPECT_TRUE(is_pending(self->a2, p));
	EXPECT_FALSE(is_pending(self->a2, q));
	ports[0] = q;
	ports[1] = p;
	EXPECT_EQ(1, xvm_poll(self->a2v[1], ports, 2, 0, 0, &port));
	EXPECT_EQ(p, port);
	/* polling does not consume it; a second poll still sees it */
	EXPECT_EQ(1, xvm_poll(self->a2v[1], ports, 2, 0, 0, &port));
	ASSERT_OK(xvm_evtchn_clear(self->a2, p));
	EXPECT_FALSE(is_pending(self->a2, p));
	EXPECT_FALSE(revents(self->a2v[1]) & POLLIN);
	EXPECT_EQ(0, xvm_poll(self->a2v[1], ports, 2, 1 * MS, 0, &port));
	/* and a send after it is one event again */
	ASSERT_OK(xvm_evtchn_send(self->a2, p));
	EXPECT_EQ(1, xvm_poll(self->a2v[1], ports, 2, 0, 0, &port));
	EXPECT_EQ(p, port);
	ASSERT_OK(xvm_evtchn_clear(self->a2, p));

	/* saving the target gives the same */
	ASSERT_OK(xvm_evtchn_save(self->a2, &h, &got));
	EXPECT_EQ(2, h.nr_ports);
	EXPECT_EQ(0, find(got, h.nr_ports, p)->flags & XVM_EVTCHN_PORT_PENDING);
	free(got);
}

struct waiter {
	int fd;
	short revents;
	uint64_t ns;		/* how long it waited */
	uint64_t end;		/* when it woke, now_ns() */
};

static void *poll_waiter(void *arg)
{
	struct waiter *w = arg;
	struct pollfd p = { .fd = w->fd, .events = POLLIN };
	uint64_t t0 = now_ns();

	if (poll(&p, 1, 10000) == 1)
		w->revents = p.revents;
	w->end = now_ns();
	w->ns = w->end - t0;
	return NULL;
}

/*
 * A pending unmasked port bound to a vCPU wakes a poll() on that vCPU's
 * fd when it is restored, as its raise did; a masked one does not.
 */
TEST_F(st, restore_wakes_vcpu_fd)
{
	struct waiter w0 = { .fd = self->a2v[0] }, w1 = { .fd = self->a2v[1] };
	pthread_t t0, t1;
	uint64_t unmask_at;
	uint32_t p, m;

	ASSERT_OK(fixture_vcpu_port(self->a, 5, &p));
	ASSERT_OK(xvm_evtchn_send(self->a, p));
	ASSERT_OK(fixture_vcpu_port(self->a, 0, &m));
	ASSERT_OK(xvm_evtchn_mask(self->a, m));
	ASSERT_OK(xvm_evtchn_send(self->a, m));
	ASSERT_OK(save_source(self));

	ASSERT_EQ(0, pthread_create(&t1, NULL, poll_waiter, &w1));
	ASSERT_EQ(0, pthread_create(&t0, NULL, poll_waiter, &w0));
	usleep(100 * 1000);	/* both asleep in poll() */
	ASSERT_OK(xvm_evtchn_set_state(self->a2, &self->ha, self->ra));
	ASSERT_EQ(0, pthread_join(t1, NULL));
	EXPECT_TRUE(w1.revents & POLLIN);
	EXPECT_GT(5000 * MS, w1.ns);
	/* vCPU 0's port is masked: nothing for it until the unmask */
	usleep(50 * 1000);
	unmask_at = now_ns();
	ASSERT_OK(xvm_evtchn_unmask(self->a2, m));
	ASSERT_EQ(0, pthread_join(t0, NULL));
	EXPECT_TRUE(w0.revents & POLLIN);
	/* woken by the unmask, not before (not by its start time) */
	EXPECT_LE(unmask_at, w0.end);
}

/* ------------------------------------------------------------------ */
/* Bad input                                                           */

/* A good state: 3 ports and a doorbell, for the target a2. */
static void good_state(hdr_t *h, rec_t *r)
{
	memset(h, 0, sizeof(*h));
	h->version = XVM_EVTCHN_STATE_VERSION;
	h->nr_ports = 3;
	h->flags = XVM_EVTCHN_STATE_DOORBELL;
	h->doorbell_addr = DB_ADDR;
	h->vm_id = ID_A;
	h->ports = (uintptr_t)r;
	memset(r, 0, 3 * sizeof(*r));
	r[0].port = 1;
	r[0].state = XVM_EVTCHN_STATE_UNBOUND;
	r[1].port = 7;
	r[1].state = XVM_EVTCHN_STATE_VCPU;
	r[1].flags = XVM_EVTCHN_PORT_VCPU | XVM_EVTCHN_PORT_PENDING;
	r[1].vcpu_id = 5;
	r[2].port = 9;
	r[2].state = XVM_EVTCHN_STATE_INTERDOMAIN;
	r[2].peer_id = ID_B;
	r[2].peer_port = 4;
}

/*
 * Bad state number i, from the good one; returns its errno, or 0 when
 * there are no more.  The last record is the bad one where it can be, so
 * that a partial restore would show.
 */
static int bad_state(int i, hdr_t *h, rec_t *r, int *vm)
{
	switch (i) {
	case 0: h->version = 0; return EINVAL;
	case 1: h->version = XVM_EVTCHN_STATE_VERSION + 1; return EINVAL;
	case 2: h->pad = 1; return EINVAL;
	case 3: h->reserved[3] = 1; return EINVAL;
	case 4: h->flags = 2; return EINVAL;
	case 5: h->flags = 0; return EINVAL;	/* doorbell_addr without it */
	case 6: h->vm_id = ID_B; return EINVAL;
	case 7: h->nr_ports = XVM_EVTCHN_MAX_PORTS; return EINVAL;
	case 8: r[2].port = 0; return EINVAL;
	case 9: r[2].port = XVM_EVTCHN_MAX_PORTS; return EINVAL;
	case 10: r[2].port = 7; return EINVAL;		/* duplicate */
	case 11: r[2].state = XVM_EVTCHN_STATE_FREE; return EINVAL;
	case 12: r[2].state = 4; return EINVAL;
	case 13: r[2].flags = 1U << 7; return EINVAL;
	case 14: r[2].pad = 1; return EINVAL;
	case 15: r[2].reserved[0] = 1; return EINVAL;
	case 16: r[2].peer_id = 0; return EINVAL;
	case 17: r[2].peer_port = 0; return EINVAL;
	case 18: r[2].peer_port = XVM_EVTCHN_MAX_PORTS; return EINVAL;
	case 19: r[0].peer_port = 3; return EINVAL;	/* UNBOUND: no peer port */
	case 20: r[0].peer_id = ID_B; return EINVAL;	/* ... nor peer */
	case 21: r[0].flags = XVM_EVTCHN_PORT_REMOTE_NAMED; return EINVAL;
	case 22: r[2].vcpu_id = 5; return EINVAL;	/* without PORT_VCPU */
	case 23: r[1].flags = 0; return EINVAL;		/* VCPU without it */
	case 24: r[2].flags = XVM_EVTCHN_PORT_VCPU; r[2].vcpu_id = 1;
		return ENOENT;
	case 25: r[2].peer_id = ID_A; return EINVAL;	/* loopback, no other end */
	case 26: r[2].peer_id = ID_A; r[2].peer_port = 9; return EINVAL;
	case 27: r[2].peer_id = ID_A; r[2].peer_port = 7; return EINVAL;
	case 28: h->ports = (uintptr_t)BAD_PTR; return EFAULT;
	case 29: h->doorbell_addr = DB_ADDR + 2; return EINVAL;
	case 30: *vm = -2; return ENXIO;	/* a peer, the target has no id */
	default: return 0;
	}
}

/* The table of vm is empty and it has no doorbell. */
static int table_empty(int vm)
{
	hdr_t h;

	if (xvm_evtchn_get_state(vm, &h, NULL, 0))
		return 0;
	return h.nr_ports == 0 && h.flags == 0;
}

TEST_F(st, set_errors_leave_table_empty)
{
	int i, err, vm, noid = xvm_create_vm(self->xvm, 0);
	uint32_t ids[2] = { 0, 5 };
	int fd[2];
	rec_t r[3];
	hdr_t h;

	ASSERT_LE(0, noid);
	for (i = 0; i < 2; i++) {
		fd[i] = xvm_create_vcpu(noid, ids[i]);
		ASSERT_LE(0, fd[i]);
	}
	for (i = 0;; i++) {
		vm = self->a2;
		good_state(&h, r);
		err = bad_state(i, &h, r, &vm);
		if (!err)
			break;
		if (vm == -2) {
			vm = noid;
			h.vm_id = 0;
		}
		errno = 0;
		EXPECT_EQ(-1, ioctl(vm, XVM_EVTCHN_SET_STATE, &h))
			TH_LOG("bad state %d succeeded", i);
		EXPECT_EQ(err, errno) TH_LOG("bad state %d: %s, want %s", i,
					     strerror(errno), strerror(err));
		EXPECT_TRUE(table_empty(vm)) TH_LOG("bad state %d left ports", i);
	}
	EXPECT_LT(25, i);
	/* a VM with ports made by hand is not empty */
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->b2, &ids[0]));
	good_state(&h, r);
	h.vm_id = 0;
	h.flags = 0;
	h.doorbell_addr = 0;
	EXPECT_ERR(ioctl(self->b2, XVM_EVTCHN_SET_STATE, &h), EBUSY);
	close(fd[0]);
	close(fd[1]);
	close(noid);
}

/* Only into an empty table; after XVM_EVTCHN_RESET it goes in again. */
TEST_F(st, set_busy_and_reset)
{
	rec_t r[3];
	hdr_t h;

	/* the good one, and then the table is not empty any more */
	good_state(&h, r);
	ASSERT_OK(ioctl(self->a2, XVM_EVTCHN_SET_STATE, &h));
	EXPECT_EQ(XVM_EVTCHN_STATE_VCPU, st_state(self->a2, 7));
	EXPECT_TRUE(is_pending(self->a2, 7));
	EXPECT_EQ(XVM_EVTCHN_STATE_INTERDOMAIN, st_state(self->a2, 9));
	EXPECT_ERR(ioctl(self->a2, XVM_EVTCHN_SET_STATE, &h), EBUSY);
	/* an empty state into a non-empty table is EBUSY too */
	h.nr_ports = 0;
	EXPECT_ERR(ioctl(self->a2, XVM_EVTCHN_SET_STATE, &h), EBUSY);
	/* after a reset it goes in again; the doorbell moves with it */
	ASSERT_OK(xvm_evtchn_reset(self->a2));
	good_state(&h, r);
	h.doorbell_addr = DB_ADDR + 8;
	ASSERT_OK(ioctl(self->a2, XVM_EVTCHN_SET_STATE, &h));
	ASSERT_OK(xvm_evtchn_get_state(self->a2, &h, r, 3));
	EXPECT_EQ(DB_ADDR + 8, h.doorbell_addr);
	/* an empty state without doorbell empties the table's doorbell */
	ASSERT_OK(xvm_evtchn_reset(self->a2));
	good_state(&h, r);
	h.nr_ports = 0;
	h.flags = 0;
	h.doorbell_addr = 0;
	ASSERT_OK(ioctl(self->a2, XVM_EVTCHN_SET_STATE, &h));
	EXPECT_TRUE(table_empty(self->a2));
}

TEST_F(st, get_errors)
{
	int noid = xvm_create_vm(self->xvm, 0);
	uint32_t p, q, pr;
	rec_t r[4];
	hdr_t h;

	ASSERT_LE(0, noid);
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->a, &p));
	ASSERT_OK(xvm_evtchn_alloc_unbound(self->a, &q));

	/* too small: E2BIG and the count; NULL with 0 asks for the count */
	EXPECT_ERR(xvm_evtchn_get_state(self->a, &h, NULL, 0), E2BIG);
	EXPECT_EQ(2, h.nr_ports);
	EXPECT_ERR(xvm_evtchn_get_state(self->a, &h, r, 1), E2BIG);
	EXPECT_EQ(2, h.nr_ports);
	ASSERT_OK(xvm_evtchn_get_state(self->a, &h, r, 4));
	EXPECT_EQ(2, h.nr_ports);
	EXPECT_EQ(p, r[0].port);
	EXPECT_EQ(q, r[1].port);
	EXPECT_ERR(xvm_evtchn_get_state(self->a, &h, BAD_PTR, 4), EFAULT);

	memset(&h, 0, sizeof(h));
	h.nr_ports = 4;
	h.ports = (uintptr_t)r;
	EXPECT_ERR(ioctl(self->a, XVM_EVTCHN_GET_STATE, &h), EINVAL);
	h.version = 2;
	EXPECT_ERR(ioctl(self->a, XVM_EVTCHN_GET_STATE, &h), EINVAL);
	h.version = XVM_EVTCHN_STATE_VERSION;
	h.flags = XVM_EVTCHN_STATE_DOORBELL;
	EXPECT_ERR(ioctl(self->a, XVM_EVTCHN_GET_STATE, &h), EINVAL);
	h.flags = 0;
	h.reserved[0] = 1;
	EXPECT_ERR(ioctl(self->a, XVM_EVTCHN_GET_STATE, &h), EINVAL);
	h.reserved[0] = 0;
	h.pad = 1;
	EXPECT_ERR(ioctl(self->a, XVM_EVTCHN_GET_STATE, &h), EINVAL);
	EXPECT_ERR(ioctl(self->a, XVM_EVTCHN_GET_STATE, BAD_PTR), EFAULT);

	/* a peer without an id cannot be named: ENXIO, both ways */
	ASSERT_OK(fixture_port_pair(self->a, noid, &pr, &p));
	EXPECT_ERR(xvm_evtchn_get_state(self->a, &h, r, 4), ENXIO);
	EXPECT_ERR(xvm_evtchn_get_state(noid, &h, r, 4), ENXIO);
	ASSERT_OK(xvm_evtchn_close(noid, p));
	/* unlinked, A's end names nobody: fine */
	ASSERT_OK(xvm_evtchn_get_state(self->a, &h, r, 4));
	EXPECT_EQ(3, h.nr_ports);
	/* a grant to a VM that had no id at the time */
	ASSERT_OK(fixture_port_for(self->a, noid, &p));
	EXPECT_ERR(xvm_evtchn_get_state(self->a, &h, r, 4), ENXIO);
	close(noid);
}

TEST_F(st, vm_id_cap)
{
	struct xvm_enable_cap cap = { .cap = XVM_CAP_VM_ID };
	int vm = xvm_create_vm(self->xvm, 0);

	ASSERT_LE(0, vm);
	EXPECT_ERR(ioctl(vm, XVM_ENABLE_CAP, &cap), EINVAL);	/* id 0 */
	cap.args[0] = 7;
	cap.args[1] = 1;
	EXPECT_ERR(ioctl(vm, XVM_ENABLE_CAP, &cap), EINVAL);
	cap.args[1] = 0;
	ASSERT_OK(ioctl(vm, XVM_ENABLE_CAP, &cap));
	ASSERT_OK(ioctl(vm, XVM_ENABLE_CAP, &cap));		/* the same */
	cap.args[0] = 8;
	EXPECT_ERR(ioctl(vm, XVM_ENABLE_CAP, &cap), EBUSY);
	close(vm);
}

/* ------------------------------------------------------------------ */
/* Relink                                                              */

TEST_F(st, relink_rules)
{
	uint32_t done = 9, awaiting = 9, rp, c_id = 1;
	int c, cv;

	ASSERT_OK(build_source(self));
	ASSERT_OK(save_source(self));
	ASSERT_OK(xvm_evtchn_set_state(self->a2, &self->ha, self->ra));
	ASSERT_OK(xvm_evtchn_set_state(self->b2, &self->hb, self->rb));
	c = make_vm(self->xvm, ID_C, &c_id, 1, &cv);
	ASSERT_LE(0, c);

	/* awaiting: interdomain as STATUS says, but a send reaches nobody */
	EXPECT_EQ(XVM_EVTCHN_STATE_INTERDOMAIN, st_state(self->a2, self->s.ia));
	ASSERT_OK(xvm_evtchn_send(self->a2, self->s.ia));
	EXPECT_FALSE(is_pending(self->b2, self->s.ib));
	/* and nothing can bind an awaiting port, nor the unresolved grant */
	errno = 0;
	EXPECT_EQ(-1, xvm_evtchn_bind_interdomain(c, self->a2, self->s.ia, &rp));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, xvm_evtchn_bind_interdomain(self->b2, self->a2,
						  self->s.named, &rp));
	EXPECT_EQ(EACCES, errno);

	/* another VM's id matches nothing */
	ASSERT_OK(xvm_evtchn_relink(self->a2, c, &done, &awaiting));
	EXPECT_EQ(0, done);
	EXPECT_EQ(3, awaiting);
	/* from B's side: B's two ports link (the caller owns A too) */
	ASSERT_OK(xvm_evtchn_relink(self->b2, self->a2, &done, &awaiting));
	EXPECT_EQ(2, done);
	EXPECT_EQ(0, awaiting);
	/* A's grant is resolved by A's own relink only */
	errno = 0;
	EXPECT_EQ(-1, xvm_evtchn_bind_interdomain(self->b2, self->a2,
						  self->s.named, &rp));
	EXPECT_EQ(EACCES, errno);
	ASSERT_OK(xvm_evtchn_relink(self->a2, self->b2, &done, &awaiting));
	EXPECT_EQ(1, done);
	EXPECT_EQ(0, awaiting);
	EXPECT_ERR(xvm_evtchn_bind_interdomain(c, self->a2, self->s.named, &rp),
		   EACCES);
	ASSERT_OK(xvm_evtchn_bind_interdomain(self->b2, self->a2,
					      self->s.named, &rp));
	/* linked: a send gets through */
	ASSERT_OK(xvm_evtchn_send(self->a2, self->s.ia));
	EXPECT_TRUE(is_pending(self->b2, self->s.ib));
	close(cv);
	close(c);
}

TEST_F(st, relink_errors)
{
	int noid = xvm_create_vm(self->xvm, 0), efd = eventfd(0, EFD_CLOEXEC);
	struct xvm_evtchn_relink rl;

	ASSERT_LE(0, noid);
	ASSERT_LE(0, efd);
	EXPECT_ERR(xvm_evtchn_relink(self->a2, -1, NULL, NULL), EBADF);
	EXPECT_ERR(xvm_evtchn_relink(self->a2, efd, NULL, NULL), EINVAL);
	EXPECT_ERR(xvm_evtchn_relink(self->a2, noid, NULL, NULL), ENXIO);
	memset(&rl, 0, sizeof(rl));
	rl.fd = self->b2;
	rl.flags = 1;
	EXPECT_ERR(ioctl(self->a2, XVM_EVTCHN_RELINK, &rl), EINVAL);
	rl.flags = 0;
	rl.reserved[1] = 1;
	EXPECT_ERR(ioctl(self->a2, XVM_EVTCHN_RELINK, &rl), EINVAL);
	EXPECT_ERR(ioctl(self->a2, XVM_EVTCHN_RELINK, BAD_PTR), EFAULT);
	/* nothing restored: nothing to do */
	rl.reserved[1] = 0;
	ASSERT_OK(ioctl(self->a2, XVM_EVTCHN_RELINK, &rl));
	EXPECT_EQ(0, rl.nr_done);
	EXPECT_EQ(0, rl.nr_awaiting);
	close(efd);
	close(noid);
}

/*
 * The child owns B' (and H, a VM that claims B's id): a link needs the
 * consent of both owners, and H gets nothing from claiming the id.
 * Returns the step that failed, 0 if none.
 */
static int consent_child(FIXTURE_DATA(st) *self, int sock)
{
	uint32_t bid = B_VCPU_ID, done = 9, awaiting = 9;
	int b2, h, hv, b2v;
	char c;

	h = make_vm(self->xvm, ID_B, &bid, 1, &hv);
	b2 = make_vm(self->xvm, ID_B, &bid, 1, &b2v);
	if (h < 0 || b2 < 0)
		return 1;
	if (xvm_evtchn_set_state(h, &self->hb, self->rb) ||
	    xvm_evtchn_set_state(b2, &self->hb, self->rb))
		return 2;
	/* H accepts A' for its ports: nothing without A's owner */
	if (xvm_evtchn_relink(h, self->a2, &done, &awaiting) || done ||
	    awaiting != 2)
		return 3;
	if (fdpass_send_one(sock, b2))
		return 4;
	if (read(sock, &c, 1) != 1)	/* the parent consented to B' */
		return 5;
	/* A's owner accepted B', not H, whatever id H claims */
	if (xvm_evtchn_relink(h, self->a2, &done, &awaiting) || done ||
	    awaiting != 2)
		return 6;
	if (xvm_evtchn_relink(b2, self->a2, &done, &awaiting) || done != 2 ||
	    awaiting)
		return 7;
	if (xvm_evtchn_send(b2, self->s.ib))
		return 8;
	/* the parent's grant to B resolved to B', so B' binds it */
	if (xvm_evtchn_bind_interdomain(b2, self->a2, self->s.named, &bid))
		return 9;
	if (xvm_evtchn_bind_interdomain(h, self->a2, self->s.named, &bid) != -1 ||
	    errno != EACCES)
		return 10;
	if (write(sock, "d", 1) != 1 || read(sock, &c, 1) != 1)
		return 11;
	return 0;
}

TEST_F(st, relink_needs_both_owners)
{
	uint32_t done = 9, awaiting = 9;
	int sv[2], status, b2;
	pid_t pid;
	char c;

	ASSERT_OK(build_source(self));
	ASSERT_OK(save_source(self));
	ASSERT_OK(xvm_evtchn_set_state(self->a2, &self->ha, self->ra));
	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		_exit(consent_child(self, sv[1]));
	}
	close(sv[1]);
	b2 = fdpass_recv_one(sv[0]);
	if (b2 < 0) {
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_LE(0, b2) TH_LOG("child failed at step %d",
					WEXITSTATUS(status));
	}
	/* B' has not consented: only the grant resolves */
	ASSERT_OK(xvm_evtchn_relink(self->a2, b2, &done, &awaiting));
	EXPECT_EQ(1, done);
	EXPECT_EQ(2, awaiting);
	ASSERT_EQ(1, write(sv[0], "g", 1));
	ASSERT_EQ(1, read(sv[0], &c, 1));
	/* the child's relink made both links; its send reached us */
	EXPECT_TRUE(is_pending(self->a2, self->s.ia));
	ASSERT_OK(xvm_evtchn_relink(self->a2, b2, &done, &awaiting));
	EXPECT_EQ(0, done);
	EXPECT_EQ(0, awaiting);
	ASSERT_EQ(1, write(sv[0], "q", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child failed at step %d",
						 WEXITSTATUS(status));
	close(b2);
	close(sv[0]);
}

TEST_HARNESS_MAIN
