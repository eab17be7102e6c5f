// SPDX-License-Identifier: GPL-2.0
/*
 * Event channels: save and restore of a VM's whole port table
 * (XVM_EVTCHN_GET_STATE, XVM_EVTCHN_SET_STATE), the relink of restored
 * interdomain ports (XVM_EVTCHN_RELINK) and the VM's id (XVM_CAP_VM_ID).
 *
 * Peers are named by the id the VMM gave each VM (t->vmm_id), as a VMM
 * names the VMs of a saved set; the kernel's vm->id does not survive a
 * migration.  A restored port whose peer is another VM waits for it
 * (p->await_id): an INTERDOMAIN one keeps state INTERDOMAIN with no
 * remote_vm (a send does nothing, nothing can bind it), a named one has
 * remote_id XVM_EVTCHN_ID_UNRESOLVED (nothing can bind it).  RELINK with
 * the peer's fd resolves the name and links the pair once both sides
 * agree: the caller owns this VM, and the peer's port was accepted for
 * this VM by a RELINK of the peer's own (p->consent) or the caller owns
 * the peer too.  A VMM id is only a name: a VM that claims another's id
 * gains nothing without that consent.
 *
 * Locking:
 *  - Every ioctl here runs under t->lock of the VM whose fd it came on,
 *    and takes no other VM's mutex.  SET_STATE only restores into an empty
 *    table and publishes every port after it can no longer fail.
 *  - await_id, consent, remote_id of a restored port, and the link itself,
 *    change under the link locks of both VMs (xvm_evtchn_lock_pair()), as
 *    a bind does; a peer's port is looked up under them, so a close that
 *    erased it either hid it from us or unlinks it after us.
 *  - t->vmm_id is written once, under t->lock; others read it with
 *    READ_ONCE() (a peer's, through a link or a pinned fd).
 */
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "evtchn-internal.h"

int xvm_evtchn_enable_vm_id(struct xvm_vm *vm, const struct xvm_enable_cap *cap)
{
	struct xvm_evtchn_table *t = vm->evtchn;
	u64 id = cap->args[0];
	int r = 0;

	if (!id || cap->args[1] || cap->args[2] || cap->args[3])
		return -EINVAL;
	mutex_lock(&t->lock);
	if (t->vmm_id && t->vmm_id != id)
		r = -EBUSY;
	else
		WRITE_ONCE(t->vmm_id, id);
	mutex_unlock(&t->lock);
	return r;
}

/* Save */

/* The VM id of p's peer or named VM, 0 if none or unknown; link locked. */
static u64 xvm_evtchn_save_peer(struct xvm_evtchn_table *t,
				struct xvm_evtchn_port *p,
				struct xvm_evtchn_port_state *rec)
{
	struct xvm_vm *peer;

	lockdep_assert_held(&t->link_lock);
	if (p->state != XVM_EVTCHN_STATE_INTERDOMAIN)
		return p->remote_id ? p->remote_vmm_id : 0;
	rec->peer_port = p->remote_port;
	/* The peer's teardown unlinks under our link lock: it is alive. */
	peer = rcu_dereference_protected(p->remote_vm,
					 lockdep_is_held(&t->link_lock));
	return peer ? READ_ONCE(peer->evtchn->vmm_id) : p->await_id;
}

/* The record of port p; -ENXIO if a VM it names has no id. */
static int xvm_evtchn_save_port(struct xvm_evtchn_table *t,
				struct xvm_evtchn_port *p, u32 port,
				struct xvm_evtchn_port_state *rec)
{
	struct xvm_vcpu *vcpu;
	bool peered;

	rec->port = port;
	spin_lock(&t->link_lock);
	rec->state = p->state;
	rec->peer_id = xvm_evtchn_save_peer(t, p, rec);
	peered = p->state == XVM_EVTCHN_STATE_INTERDOMAIN || p->remote_id;
	if (p->remote_id)
		rec->flags |= XVM_EVTCHN_PORT_REMOTE_NAMED;
	if (p->await_id)
		rec->flags |= XVM_EVTCHN_PORT_AWAITING;
	spin_unlock(&t->link_lock);
	if (peered && (!rec->peer_id || !t->vmm_id))
		return -ENXIO;
	if (test_bit(port, t->pending))
		rec->flags |= XVM_EVTCHN_PORT_PENDING;
	if (test_bit(port, t->masked))
		rec->flags |= XVM_EVTCHN_PORT_MASKED;
	if (xvm_evtchn_irqfd_active(p))
		rec->flags |= XVM_EVTCHN_PORT_EVENTFD_IN;
	if (rcu_access_pointer(p->notify))
		rec->flags |= XVM_EVTCHN_PORT_EVENTFD_OUT;
	vcpu = p->notify_vcpu == XVM_EVTCHN_NO_VCPU ? NULL :
	       xvm_get_vcpu(t->vm, p->notify_vcpu);
	if (vcpu) {
		rec->flags |= XVM_EVTCHN_PORT_VCPU;
		rec->vcpu_id = vcpu->id;
	}
	return 0;
}

/* The records of every port, in port order, into n of them at recs. */
static int xvm_evtchn_save_ports(struct xvm_evtchn_table *t,
				 struct xvm_evtchn_port_state *recs, u32 n)
{
	struct xvm_evtchn_port *p;
	unsigned long port;
	u32 i = 0;
	int r;

	xa_for_each(&t->ports, port, p) {
		if (i == n)	/* cannot be: t->lock keeps the count */
			return -EIO;
		r = xvm_evtchn_save_port(t, p, port, &recs[i++]);
		if (r)
			return r;
	}
	return 0;
}

static u32 xvm_evtchn_count_ports(struct xvm_evtchn_table *t)
{
	struct xvm_evtchn_port *p;
	unsigned long port;
	u32 n = 0;

	xa_for_each(&t->ports, port, p)
		n++;
	return n;
}

/* XVM_EVTCHN_GET_STATE: flags, pad and reserved checked by the table. */
long xvm_evtchn_ioctl_get_state(void *obj, void *data, unsigned long arg)
{
	struct xvm_evtchn_table_state *hdr = data;
	struct xvm_vm *vm = obj;
	struct xvm_evtchn_table *t = vm->evtchn;
	struct xvm_evtchn_port_state *recs = NULL;
	u32 n;
	int r;

	lockdep_assert_held(&t->lock);
	if (hdr->version != XVM_EVTCHN_STATE_VERSION)
		return -EINVAL;
	n = xvm_evtchn_count_ports(t);
	if (n > hdr->nr_ports) {
		hdr->nr_ports = n;	/* written back: XVM_IOCTL_OUT_ON_ERROR */
		return -E2BIG;
	}
	if (n) {
		recs = kvcalloc(n, sizeof(*recs), GFP_KERNEL_ACCOUNT);
		if (!recs)
			return -ENOMEM;
	}
	r = xvm_evtchn_save_ports(t, recs, n);
	if (!r && copy_to_user(u64_to_user_ptr(hdr->ports), recs,
			       n * sizeof(*recs)))
		r = -EFAULT;
	kvfree(recs);
	if (r)
		return r;
	hdr->nr_ports = n;
	hdr->flags = 0;
	hdr->doorbell_addr = 0;
	if (xvm_evtchn_doorbell_addr(t, &hdr->doorbell_addr))
		hdr->flags |= XVM_EVTCHN_STATE_DOORBELL;
	hdr->vm_id = t->vmm_id;
	return 0;
}

/* Restore */

/* A restore in preparation: nothing of it is visible before commit. */
struct xvm_evtchn_restore {
	struct xvm_vm *vm;
	const struct xvm_evtchn_table_state *hdr;
	struct xvm_evtchn_port_state *recs;
	struct xvm_evtchn_port **ports;	/* the new port of each record */
	u32 *index;			/* record of each port number + 1 */
	u32 n;
	u32 reserved;			/* slots reserved in t->ports */
};

/* The vCPU flag and id of rec: its index in *index, or -errno. */
static int xvm_evtchn_check_vcpu(struct xvm_vm *vm,
				 const struct xvm_evtchn_port_state *rec,
				 u32 *index)
{
	struct xvm_vcpu *vcpu;

	*index = XVM_EVTCHN_NO_VCPU;
	if (!(rec->flags & XVM_EVTCHN_PORT_VCPU))
		return rec->vcpu_id || rec->state == XVM_EVTCHN_STATE_VCPU ?
		       -EINVAL : 0;
	vcpu = xvm_get_vcpu_by_id(vm, rec->vcpu_id);
	if (!vcpu)
		return -ENOENT;
	*index = vcpu->index;
	return 0;
}

/* One record on its own; its vCPU's index in *index. */
static int xvm_evtchn_check_record(struct xvm_vm *vm,
				   const struct xvm_evtchn_port_state *rec,
				   u32 *index)
{
	bool linked = rec->state == XVM_EVTCHN_STATE_INTERDOMAIN;
	bool named = rec->flags & XVM_EVTCHN_PORT_REMOTE_NAMED;

	if (rec->pad || memchr_inv(rec->reserved, 0, sizeof(rec->reserved)))
		return -EINVAL;
	if (!rec->port || rec->port >= XVM_EVTCHN_MAX_PORTS)
		return -EINVAL;
	if (rec->flags & ~XVM_EVTCHN_PORT_FLAGS_ALL)
		return -EINVAL;
	if (rec->state != XVM_EVTCHN_STATE_UNBOUND &&
	    rec->state != XVM_EVTCHN_STATE_VCPU && !linked)
		return -EINVAL;
	if (linked ? !rec->peer_port || rec->peer_port >= XVM_EVTCHN_MAX_PORTS :
		     rec->peer_port)
		return -EINVAL;
	if ((linked || named) != !!rec->peer_id)
		return -EINVAL;
	if ((linked || named) && !vm->evtchn->vmm_id)
		return -ENXIO;
	return xvm_evtchn_check_vcpu(vm, rec, index);
}

/*
 * A link within the VM (a loopback pair) is restored linked, so both of
 * its ends must be in the records and name each other.
 */
static int xvm_evtchn_check_loopback(struct xvm_evtchn_restore *rs,
				     const struct xvm_evtchn_port_state *rec)
{
	const struct xvm_evtchn_port_state *other;
	u32 i;

	if (rec->state != XVM_EVTCHN_STATE_INTERDOMAIN ||
	    rec->peer_id != rs->vm->evtchn->vmm_id)
		return 0;
	i = rs->index[array_index_nospec(rec->peer_port, XVM_EVTCHN_MAX_PORTS)];
	if (!i || rec->peer_port == rec->port)
		return -EINVAL;
	other = &rs->recs[i - 1];
	if (other->state != XVM_EVTCHN_STATE_INTERDOMAIN ||
	    other->peer_id != rec->peer_id || other->peer_port != rec->port)
		return -EINVAL;
	return 0;
}

/* Every record, then every pair; vCPU indices into vcpus[]. */
static int xvm_evtchn_check_records(struct xvm_evtchn_restore *rs, u32 *vcpus)
{
	u32 i, port;
	int r;

	for (i = 0; i < rs->n; i++) {
		r = xvm_evtchn_check_record(rs->vm, &rs->recs[i], &vcpus[i]);
		if (r)
			return r;
		port = array_index_nospec(rs->recs[i].port,
					  XVM_EVTCHN_MAX_PORTS);
		if (rs->index[port])
			return -EINVAL;		/* the same port twice */
		rs->index[port] = i + 1;
	}
	for (i = 0; i < rs->n; i++) {
		r = xvm_evtchn_check_loopback(rs, &rs->recs[i]);
		if (r)
			return r;
	}
	return 0;
}

/* The new port of record i, not published. */
static void xvm_evtchn_fill_port(struct xvm_evtchn_restore *rs, u32 i,
				 u32 vcpu_index)
{
	const struct xvm_evtchn_port_state *rec = &rs->recs[i];
	struct xvm_evtchn_table *t = rs->vm->evtchn;
	struct xvm_evtchn_port *p = rs->ports[i];
	bool self = rec->peer_id && rec->peer_id == t->vmm_id;

	p->state = rec->state;
	p->notify_vcpu = vcpu_index;
	p->remote_port = rec->peer_port;
	if (rec->flags & XVM_EVTCHN_PORT_REMOTE_NAMED) {
		p->remote_vmm_id = rec->peer_id;
		p->remote_id = self ? rs->vm->id : XVM_EVTCHN_ID_UNRESOLVED;
	}
	if (rec->peer_id && !self)
		p->await_id = rec->peer_id;
	assign_bit(rec->port, t->masked, rec->flags & XVM_EVTCHN_PORT_MASKED);
	assign_bit(rec->port, t->pending,
		   rec->flags & XVM_EVTCHN_PORT_PENDING);
}

static int xvm_evtchn_alloc_ports(struct xvm_evtchn_restore *rs)
{
	struct xvm_evtchn_table *t = rs->vm->evtchn;
	u32 i;
	int r;

	for (i = 0; i < rs->n; i++) {
		rs->ports[i] = kzalloc(sizeof(*rs->ports[i]),
				       GFP_KERNEL_ACCOUNT);
		if (!rs->ports[i])
			return -ENOMEM;
		/* The slot, so that publishing it allocates nothing. */
		r = xa_reserve(&t->ports, rs->recs[i].port, GFP_KERNEL_ACCOUNT);
		if (r)
			return r;
		rs->reserved++;
	}
	return 0;
}

/* Undoes xvm_evtchn_alloc_ports(), however far it got. */
static void xvm_evtchn_free_ports(struct xvm_evtchn_restore *rs)
{
	u32 i;

	for (i = 0; i < rs->reserved; i++)
		xa_release(&rs->vm->evtchn->ports, rs->recs[i].port);
	for (i = 0; i < rs->n; i++)
		kfree(rs->ports[i]);
}

/* The doorbell of the state, placed now (may fail) if it moves. */
static int xvm_evtchn_restore_doorbell(struct xvm_evtchn_restore *rs)
{
	struct xvm_evtchn_doorbell req = { .addr = rs->hdr->doorbell_addr };
	struct xvm_evtchn_table *t = rs->vm->evtchn;
	u64 addr;

	if (!(rs->hdr->flags & XVM_EVTCHN_STATE_DOORBELL))
		return 0;	/* removed at commit, which cannot fail */
	if (xvm_evtchn_doorbell_addr(t, &addr) && addr == req.addr)
		return 0;
	return xvm_evtchn_set_doorbell(rs->vm, &req);
}

/*
 * The point of no return: fill, link the loopback pairs, publish.  The
 * bits are set before a port is published, as xvm_evtchn_insert() does,
 * and no raise is made: a pending, unmasked port bound to a vCPU wakes
 * that vCPU's waiters (its fd becomes readable) once, as its raise did.
 */
static void xvm_evtchn_commit(struct xvm_evtchn_restore *rs, const u32 *vcpus)
{
	struct xvm_evtchn_table *t = rs->vm->evtchn;
	struct xvm_evtchn_doorbell off = { .flags = XVM_EVTCHN_DOORBELL_DISABLE };
	const struct xvm_evtchn_port_state *rec;
	DECLARE_BITMAP(wake, XVM_MAX_VCPUS);
	struct xvm_vcpu *vcpu;
	unsigned long v;
	u32 i, j;

	bitmap_zero(wake, XVM_MAX_VCPUS);
	for (i = 0; i < rs->n; i++)
		xvm_evtchn_fill_port(rs, i, vcpus[i]);
	spin_lock(&t->link_lock);
	for (i = 0; i < rs->n; i++) {
		rec = &rs->recs[i];
		if (rec->state != XVM_EVTCHN_STATE_INTERDOMAIN ||
		    rec->peer_id != t->vmm_id || rec->peer_port < rec->port)
			continue;
		j = rs->index[array_index_nospec(rec->peer_port,
						 XVM_EVTCHN_MAX_PORTS)] - 1;
		xvm_evtchn_link(t, rs->ports[i], rec->port, t, rs->ports[j],
				rec->peer_port);
	}
	spin_unlock(&t->link_lock);
	/* The bits are set before a raise can find the port. */
	smp_mb__after_atomic();
	for (i = 0; i < rs->n; i++) {
		rec = &rs->recs[i];
		xvm_evtchn_publish(t, rec->port, rs->ports[i]);
		if ((rec->flags & (XVM_EVTCHN_PORT_PENDING |
				   XVM_EVTCHN_PORT_MASKED)) ==
		    XVM_EVTCHN_PORT_PENDING && vcpus[i] != XVM_EVTCHN_NO_VCPU)
			__set_bit(vcpus[i], wake);
	}
	if (!(rs->hdr->flags & XVM_EVTCHN_STATE_DOORBELL))
		xvm_evtchn_set_doorbell(rs->vm, &off);	/* cannot fail */
	for_each_set_bit(v, wake, XVM_MAX_VCPUS) {
		vcpu = xvm_get_vcpu(rs->vm, v);
		if (vcpu)
			wake_up_all(&vcpu->wq);
	}
}

/* Allocates everything, then commits; on failure nothing has changed. */
static int xvm_evtchn_restore(struct xvm_evtchn_restore *rs)
{
	u32 *vcpus;
	int r;

	vcpus = kvcalloc(rs->n, sizeof(*vcpus), GFP_KERNEL_ACCOUNT);
	rs->ports = kvcalloc(rs->n, sizeof(*rs->ports), GFP_KERNEL_ACCOUNT);
	rs->index = kvcalloc(XVM_EVTCHN_MAX_PORTS, sizeof(*rs->index),
			     GFP_KERNEL_ACCOUNT);
	r = -ENOMEM;
	if (!vcpus || !rs->ports || !rs->index)
		goto out;
	r = xvm_evtchn_check_records(rs, vcpus);
	if (!r)
		r = xvm_evtchn_alloc_ports(rs);
	if (!r)
		r = xvm_evtchn_restore_doorbell(rs);
	if (r)
		xvm_evtchn_free_ports(rs);
	else
		xvm_evtchn_commit(rs, vcpus);
out:
	kvfree(rs->index);
	kvfree(rs->ports);
	kvfree(vcpus);
	return r;
}

/* The header, before the records are read. */
static int xvm_evtchn_check_header(struct xvm_vm *vm,
				   const struct xvm_evtchn_table_state *hdr)
{
	struct xvm_evtchn_table *t = vm->evtchn;

	if (hdr->version != XVM_EVTCHN_STATE_VERSION)
		return -EINVAL;
	if (hdr->nr_ports >= XVM_EVTCHN_MAX_PORTS)
		return -EINVAL;
	if (!(hdr->flags & XVM_EVTCHN_STATE_DOORBELL) && hdr->doorbell_addr)
		return -EINVAL;
	if (hdr->vm_id && hdr->vm_id != t->vmm_id)
		return -EINVAL;
	/* Ports are only made under t->lock, which we hold. */
	if (!xa_empty(&t->ports))
		return -EBUSY;
	return 0;
}

/* XVM_EVTCHN_SET_STATE: flags, pad and reserved checked by the table. */
long xvm_evtchn_ioctl_set_state(void *obj, void *data, unsigned long arg)
{
	struct xvm_evtchn_restore rs = { .vm = obj, .hdr = data };
	const struct xvm_evtchn_table_state *hdr = data;
	int r;

	lockdep_assert_held(&rs.vm->evtchn->lock);
	r = xvm_evtchn_check_header(rs.vm, hdr);
	if (r)
		return r;
	rs.n = hdr->nr_ports;
	if (rs.n) {
		rs.recs = vmemdup_user(u64_to_user_ptr(hdr->ports),
				       (size_t)rs.n * sizeof(*rs.recs));
		if (IS_ERR(rs.recs))
			return PTR_ERR(rs.recs);
	}
	r = xvm_evtchn_restore(&rs);
	kvfree(rs.recs);
	return r;
}

/* Relink */

/*
 * May p, a restored INTERDOMAIN port of vm, be linked with rp, the port
 * of peer it awaits?  rp must await p in turn and have been accepted for
 * vm by its own VM (RELINK), unless the caller owns the peer too.
 */
static bool xvm_evtchn_relink_ok(struct xvm_vm *vm, u32 port,
				 struct xvm_evtchn_port *p, struct xvm_vm *peer,
				 struct xvm_evtchn_port *rp)
{
	if (!rp || rp == p || rp->state != XVM_EVTCHN_STATE_INTERDOMAIN ||
	    rcu_access_pointer(rp->remote_vm) ||
	    rp->await_id != vm->evtchn->vmm_id || rp->remote_port != port)
		return false;
	return rp->consent == vm->id || xvm_vm_owned(peer);
}

/*
 * Accepts peer (its VM id pid) for port p of vm, if p awaits it: resolves
 * its name, links it if its peer port agrees.  True if p is done.
 */
static bool xvm_evtchn_relink_port(struct xvm_vm *vm, u32 port,
				   struct xvm_evtchn_port *p,
				   struct xvm_vm *peer, u64 pid)
{
	struct xvm_evtchn_table *t = vm->evtchn, *rt = peer->evtchn;
	struct xvm_evtchn_port *rp;
	bool done = false;
	u32 rport;

	rcu_read_lock();
	xvm_evtchn_lock_pair(t, rt);
	if (p->await_id != pid)
		goto out;
	p->consent = peer->id;
	if (p->remote_id == XVM_EVTCHN_ID_UNRESOLVED)
		p->remote_id = peer->id;
	if (p->state != XVM_EVTCHN_STATE_INTERDOMAIN) {
		p->await_id = 0;	/* a grant only: resolved */
		done = true;
		goto out;
	}
	rport = array_index_nospec(p->remote_port, XVM_EVTCHN_MAX_PORTS);
	rp = xa_load(&rt->ports, rport);
	if (!xvm_evtchn_relink_ok(vm, port, p, peer, rp))
		goto out;
	if (rp->remote_id == XVM_EVTCHN_ID_UNRESOLVED)
		rp->remote_id = vm->id;	/* rp's grant names vm */
	p->await_id = 0;
	p->consent = 0;
	rp->await_id = 0;
	rp->consent = 0;
	xvm_evtchn_link(t, p, port, rt, rp, rport);
	done = true;
out:
	xvm_evtchn_unlock_pair(t, rt);
	rcu_read_unlock();
	return done;
}

static void xvm_evtchn_relink_all(struct xvm_vm *vm, struct xvm_vm *peer,
				  struct xvm_evtchn_relink *rl)
{
	u64 pid = READ_ONCE(peer->evtchn->vmm_id);
	struct xvm_evtchn_port *p;
	unsigned long port;

	rl->nr_done = 0;
	rl->nr_awaiting = 0;
	xa_for_each(&vm->evtchn->ports, port, p)
		if (READ_ONCE(p->await_id) == pid &&
		    xvm_evtchn_relink_port(vm, port, p, peer, pid))
			rl->nr_done++;
	/* The peer's RELINK may link some of ours meanwhile: a snapshot. */
	xa_for_each(&vm->evtchn->ports, port, p)
		if (READ_ONCE(p->await_id))
			rl->nr_awaiting++;
}

/* XVM_EVTCHN_RELINK: flags and reserved checked by the table. */
long xvm_evtchn_ioctl_relink(void *obj, void *data, unsigned long arg)
{
	struct xvm_evtchn_relink *rl = data;
	struct xvm_vm *vm = obj, *peer;
	struct fd f;
	int r = 0;

	lockdep_assert_held(&vm->evtchn->lock);
	f = fdget(rl->fd);
	if (!xvm_fd_file(f))
		return -EBADF;
	peer = xvm_vm_from_file(xvm_fd_file(f));	/* pinned by f */
	if (!peer)
		r = -EINVAL;
	else if (!READ_ONCE(peer->evtchn->vmm_id))
		r = -ENXIO;
	else
		xvm_evtchn_relink_all(vm, peer, rl);
	fdput(f);
	return r;
}
