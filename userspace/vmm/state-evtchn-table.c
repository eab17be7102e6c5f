// SPDX-License-Identifier: GPL-2.0
/*
 * State group "evtchn-table" (version 1): the VM's whole event-channel port
 * table as XVM_EVTCHN_GET_STATE reports it (docs/api.md, "Event-channel
 * state"), in port order, with the VM id (XVM_CAP_VM_ID) peers are named by
 * and the doorbell.
 *
 *   "evtchn-table": { "version": 1, "state_version": 1, "vm_id": 1,
 *       "doorbell": true, "doorbell_addr": 268500992,
 *       "ports": [ { "port": 1, "state": "unbound", "bound": false, "vcpu": 0,
 *                    "masked": false, "pending": false, "remote_named": false,
 *                    "eventfd_in": false, "eventfd_out": false, "peer_id": 0,
 *                    "peer_port": 0 }, ... ] }
 *
 * It replaces the "evtchn" group (XVM_EVTCHN_STATUS of each port, restored
 * with MASK/SEND), which could not rebuild interdomain ports, eventfd
 * bridges or ports named for a VM: files with it are refused (state.c).
 *
 * The VMM's own ports (state.h: kick, the config's, the vGIC notify
 * ports) must be in the table as the config makes them; other ports are
 * restored as they are.  A peer is this VM (a loopback pair, a port named
 * for it): xvm-vmm restores one VM.  An eventfd bridge is re-attached to
 * the VMM's own eventfd, so only the config's eventfd ports have one.
 *
 * Restore runs last, when every group that may raise a port (the vGIC's
 * notify ports) is done: XVM_EVTCHN_RESET of the ports the setup made,
 * XVM_EVTCHN_SET_STATE of the file's, XVM_EVTCHN_RELINK with this VM
 * (nothing may stay awaiting), then the eventfd bridges.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

#define NR_PORTS	XVM_EVTCHN_MAX_PORTS

static struct {
	struct xvm_evtchn_table_state hdr;
	struct xvm_evtchn_port_state p[NR_PORTS];
} saved;

static const char *const state_names[] = {
	[XVM_EVTCHN_STATE_FREE] = "free",
	[XVM_EVTCHN_STATE_UNBOUND] = "unbound",
	[XVM_EVTCHN_STATE_VCPU] = "vcpu",
	[XVM_EVTCHN_STATE_INTERDOMAIN] = "interdomain",
};

/* The record flags a file has, as booleans ("bound": XVM_EVTCHN_PORT_VCPU). */
static const struct {
	const char *name;
	uint32_t bit;
} flag_names[] = {
	{ "masked", XVM_EVTCHN_PORT_MASKED },
	{ "pending", XVM_EVTCHN_PORT_PENDING },
	{ "remote_named", XVM_EVTCHN_PORT_REMOTE_NAMED },
	{ "eventfd_in", XVM_EVTCHN_PORT_EVENTFD_IN },
	{ "eventfd_out", XVM_EVTCHN_PORT_EVENTFD_OUT },
};

static int evtchn_err(const char *what)
{
	char err[96];

	errorf("evtchn-table: %s: %s", what, errno_text(errno, err, sizeof(err)));
	return -1;
}

static void put_port(json_object *a, const struct xvm_evtchn_port_state *r)
{
	json_object *e = json_object_new_object();
	unsigned int b;

	json_object_array_add(a, e);
	st_put_u64(e, "port", r->port);
	json_object_object_add(e, "state", json_object_new_string(state_names[r->state]));
	st_put_bool(e, "bound", r->flags & XVM_EVTCHN_PORT_VCPU);
	st_put_u64(e, "vcpu", r->vcpu_id);
	for (b = 0; b < ARRAY_SIZE(flag_names); b++)
		st_put_bool(e, flag_names[b].name, r->flags & flag_names[b].bit);
	st_put_u64(e, "peer_id", r->peer_id);
	st_put_u64(e, "peer_port", r->peer_port);
}

static int evtchn_save(struct vm *vm, json_object *sec)
{
	struct xvm_evtchn_table_state hdr;
	struct xvm_evtchn_port_state *p;
	json_object *a;
	uint32_t i;

	if (traced(xvm_evtchn_save(vm->fd, &hdr, &p), "XVM_EVTCHN_GET_STATE"))
		return evtchn_err("XVM_EVTCHN_GET_STATE");
	st_put_u64(sec, "state_version", hdr.version);
	st_put_u64(sec, "vm_id", hdr.vm_id);
	st_put_bool(sec, "doorbell", hdr.flags & XVM_EVTCHN_STATE_DOORBELL);
	st_put_u64(sec, "doorbell_addr", hdr.doorbell_addr);
	a = st_put_array(sec, "ports");
	for (i = 0; i < hdr.nr_ports; i++) {
		if (p[i].state >= ARRAY_SIZE(state_names) ||
		    (p[i].flags & XVM_EVTCHN_PORT_AWAITING)) {
			errorf("evtchn-table: port %u: %s", p[i].port,
			       p[i].state >= ARRAY_SIZE(state_names) ? "unknown state" :
			       "awaits a peer VM (not relinked)");
			free(p);
			return -1;
		}
		put_port(a, &p[i]);
	}
	free(p);
	return 0;
}

static int parse_state(struct st_in *in, json_object *e, uint32_t *state)
{
	const char *s;
	size_t n;

	if (st_str(in, e, "state", 16, &s, &n))
		return -1;
	for (*state = XVM_EVTCHN_STATE_UNBOUND; *state < ARRAY_SIZE(state_names); (*state)++)
		if (!strcmp(s, state_names[*state]))
			return 0;
	return st_err(in, "'state' = '%s' (expected 'unbound', 'vcpu' or 'interdomain')", s);
}

/* One record's members, each in range; the rules between them after. */
static int parse_members(struct st_in *in, json_object *e, uint32_t min,
			 struct xvm_evtchn_port_state *r)
{
	unsigned int b;
	uint64_t id;
	bool on;

	memset(r, 0, sizeof(*r));
	if (st_u32(in, e, "port", min, NR_PORTS - 1, &r->port) || parse_state(in, e, &r->state) ||
	    st_bool(in, e, "bound", &on) ||
	    st_u32(in, e, "vcpu", 0, in->cfg->vcpus - 1, &r->vcpu_id))
		return -1;
	r->flags = on ? XVM_EVTCHN_PORT_VCPU : 0;
	for (b = 0; b < ARRAY_SIZE(flag_names); b++) {
		if (st_bool(in, e, flag_names[b].name, &on))
			return -1;
		r->flags |= on ? flag_names[b].bit : 0;
	}
	if (st_u64(in, e, "peer_id", 0, UINT64_MAX, &id) ||
	    st_u32(in, e, "peer_port", 0, NR_PORTS - 1, &r->peer_port))
		return -1;
	r->peer_id = id;
	return 0;
}

/* The kernel's rules (docs/api.md, SET_STATE), and xvm-vmm's: one VM. */
static int check_record(struct st_in *in, const struct xvm_evtchn_port_state *r)
{
	bool interdomain = r->state == XVM_EVTCHN_STATE_INTERDOMAIN;
	bool named = r->flags & XVM_EVTCHN_PORT_REMOTE_NAMED;

	if ((r->state == XVM_EVTCHN_STATE_VCPU) != !!(r->flags & XVM_EVTCHN_PORT_VCPU) &&
	    !interdomain)
		return st_err(in, "'bound' must be true exactly for state 'vcpu' (or an "
			      "interdomain port bound to a vCPU)");
	if (!(r->flags & XVM_EVTCHN_PORT_VCPU) && r->vcpu_id)
		return st_err(in, "'vcpu' = %u on a port not bound to a vCPU", r->vcpu_id);
	if (interdomain != !!r->peer_port)
		return st_err(in, "'peer_port' = %u: an interdomain port has one (1..4095), "
			      "no other", r->peer_port);
	if ((interdomain || named) != !!r->peer_id)
		return st_err(in, "'peer_id' = %llu: an interdomain or remote-named port has "
			      "one, no other", (unsigned long long)r->peer_id);
	if (r->peer_id && r->peer_id != saved.hdr.vm_id)
		return st_err(in, "'peer_id' = %llu is another VM (this one is %llu): xvm-vmm "
			      "restores one VM, that peer would never be relinked",
			      (unsigned long long)r->peer_id,
			      (unsigned long long)saved.hdr.vm_id);
	if (r->flags & XVM_EVTCHN_PORT_EVENTFD_OUT)
		return st_err(in, "an eventfd NOTIFY bridge: xvm-vmm makes none, it cannot "
			      "re-attach one");
	return 0;
}

static const struct xvm_evtchn_port_state *find_record(uint32_t port)
{
	uint32_t i;

	for (i = 0; i < saved.hdr.nr_ports; i++)
		if (saved.p[i].port == port)
			return &saved.p[i];
	return NULL;
}

/* Each end of a loopback pair names the other. */
static int check_pairs(struct st_in *in)
{
	const struct xvm_evtchn_port_state *r, *o;
	uint32_t i;

	for (i = 0; i < saved.hdr.nr_ports; i++) {
		r = &saved.p[i];
		if (r->state != XVM_EVTCHN_STATE_INTERDOMAIN)
			continue;
		st_where(in, "evtchn-table.ports[%u]", i);
		o = find_record(r->peer_port);
		if (!o || o == r || o->state != XVM_EVTCHN_STATE_INTERDOMAIN ||
		    o->peer_port != r->port)
			return st_err(in, "port %u's peer port %u is not its other end in "
				      "this VM", r->port, r->peer_port);
	}
	return 0;
}

/* A port the VMM makes, as the config makes it (state.h has the numbers). */
struct vmm_port {
	const char *what;
	uint32_t port, state, vcpu;
	bool bound, named, eventfd;
};

/* The VMM's i-th port of the config c (kick, config, notify); false: no more. */
static bool vmm_port(const struct vmm_config *c, unsigned int i, struct vmm_port *v)
{
	const struct port_cfg *pc;

	memset(v, 0, sizeof(*v));
	if (i < c->vcpus) {
		*v = (struct vmm_port){ .what = "the kick port of vCPU",
					.port = state_kick_port(c, i),
					.state = XVM_EVTCHN_STATE_UNBOUND, .vcpu = i };
		return true;
	}
	i -= c->vcpus;
	if (i < c->nr_ports) {
		pc = &c->ports[i];
		*v = (struct vmm_port){
			.what = "the config's port for vCPU", .port = state_config_port(c, i),
			.state = pc->peer >= 0 || pc->paired ? XVM_EVTCHN_STATE_INTERDOMAIN :
			XVM_EVTCHN_STATE_VCPU, .vcpu = pc->vcpu, .bound = true,
			.named = pc->remote, .eventfd = pc->eventfd,
		};
		return true;
	}
	i -= c->nr_ports;
	if (!c->gic.line || i >= c->vcpus)
		return false;
	*v = (struct vmm_port){ .what = "the vGIC notify port of vCPU",
				.port = state_notify_port(c, i),
				.state = XVM_EVTCHN_STATE_VCPU, .vcpu = i, .bound = true };
	return true;
}

/* Every port the VMM makes is in the file as the config makes it. */
static int check_vmm_ports(struct st_in *in)
{
	const struct xvm_evtchn_port_state *r;
	struct vmm_port v;
	unsigned int i;

	st_where(in, "evtchn-table.ports");
	for (i = 0; vmm_port(in->cfg, i, &v); i++) {
		r = find_record(v.port);
		if (r && r->state == v.state && !!(r->flags & XVM_EVTCHN_PORT_VCPU) == v.bound &&
		    r->vcpu_id == (v.bound ? v.vcpu : 0) &&
		    !!(r->flags & XVM_EVTCHN_PORT_REMOTE_NAMED) == v.named &&
		    !!(r->flags & XVM_EVTCHN_PORT_EVENTFD_IN) == v.eventfd)
			continue;
		return st_err(in, "port %u is %s %u, but the file has it %s%s%s%s", v.port,
			      v.what, v.vcpu, r ? state_names[r->state] : "free",
			      r && r->vcpu_id != v.vcpu ? " on another vCPU" : "",
			      r && !!(r->flags & XVM_EVTCHN_PORT_EVENTFD_IN) != v.eventfd ?
			      " with another eventfd bridge" : "",
			      r && !!(r->flags & XVM_EVTCHN_PORT_REMOTE_NAMED) != v.named ?
			      " with another grant" : "");
	}
	for (i = 0; i < saved.hdr.nr_ports; i++) {
		r = &saved.p[i];
		if ((r->flags & XVM_EVTCHN_PORT_EVENTFD_IN) &&
		    (r->port < state_config_port(in->cfg, 0) ||
		     r->port >= state_config_port(in->cfg, in->cfg->nr_ports)))
			return st_err(in, "port %u had an eventfd bridge the VMM did not make "
				      "(it re-attaches only its own)", r->port);
	}
	return 0;
}

static int parse_header(struct st_in *in, json_object *sec)
{
	const struct vmm_config *c = in->cfg;
	struct xvm_evtchn_table_state *h = &saved.hdr;
	uint64_t id, addr;
	bool db;

	if (st_u32(in, sec, "state_version", 0, UINT32_MAX, &h->version))
		return -1;
	if (h->version != XVM_EVTCHN_STATE_VERSION)
		return st_err(in, "event-channel state version %u is not supported (this "
			      "xvm-vmm restores version %d)", h->version,
			      XVM_EVTCHN_STATE_VERSION);
	if (st_u64(in, sec, "vm_id", 1, UINT64_MAX, &id) || st_bool(in, sec, "doorbell", &db) ||
	    st_u64(in, sec, "doorbell_addr", 0, UINT64_MAX, &addr))
		return -1;
	if (id != c->vm_id)
		return st_err(in, "'vm_id' = %llu, but the saved config gives the VM id %llu",
			      (unsigned long long)id, (unsigned long long)c->vm_id);
	if (db != !!c->doorbell_line || addr != (db ? c->doorbell : 0))
		return st_err(in, "doorbell %s at 0x%llx, but the saved config has %s",
			      db ? "on" : "off", (unsigned long long)addr,
			      c->doorbell_line ? "a doorbell line" : "no doorbell");
	h->vm_id = id;
	h->flags = db ? XVM_EVTCHN_STATE_DOORBELL : 0;
	h->doorbell_addr = addr;
	return 0;
}

static int evtchn_parse(struct st_in *in, json_object *sec)
{
	static const char *const keys[] = {
		"version", "state_version", "vm_id", "doorbell", "doorbell_addr", "ports", NULL,
	};
	static const char *const pkeys[] = {
		"port", "state", "bound", "vcpu", "masked", "pending", "remote_named",
		"eventfd_in", "eventfd_out", "peer_id", "peer_port", NULL,
	};
	uint32_t i, min = 1;
	json_object *a, *e;
	size_t n;

	if (st_keys(in, sec, keys) || parse_header(in, sec) ||
	    st_array(in, sec, "ports", 0, NR_PORTS - 1, &a, &n))
		return -1;
	saved.hdr.nr_ports = n;
	for (i = 0; i < n; i++) {
		st_where(in, "evtchn-table.ports");
		if (st_elem(in, a, i, pkeys, &e))
			return -1;
		st_where(in, "evtchn-table.ports[%u]", i);
		if (parse_members(in, e, min, &saved.p[i]) || check_record(in, &saved.p[i]))
			return -1;
		min = saved.p[i].port + 1;	/* increasing, no repeat */
	}
	return check_pairs(in) || check_vmm_ports(in);
}

/* The ports the setup made are the ones the file names (state.h's rule). */
static int check_numbers(struct vm *vm)
{
	const struct vmm_config *c = vm->cfg;
	unsigned int i;

	for (i = 0; i < c->vcpus; i++)
		if (vm->vcpu[i].kick != state_kick_port(c, i) ||
		    (c->gic.line && vm->vcpu[i].notify != state_notify_port(c, i)))
			goto bad;
	for (i = 0; i < c->nr_ports; i++)
		if (vm->ports[i].port != state_config_port(c, i))
			goto bad;
	return 0;
bad:
	errorf("evtchn-table: the VM's setup did not allocate the ports in the order "
	       "restore expects (state.h)");
	return -1;
}

static int evtchn_restore(struct vm *vm)
{
	uint32_t done = 0, awaiting = 0, i;
	const struct port_rt *p;

	if (check_numbers(vm))
		return -1;
	if (traced(xvm_evtchn_reset(vm->fd), "XVM_EVTCHN_RESET"))
		return evtchn_err("XVM_EVTCHN_RESET");
	if (traced(xvm_evtchn_set_state(vm->fd, &saved.hdr, saved.p),
		   "XVM_EVTCHN_SET_STATE %u ports vm_id %llu", saved.hdr.nr_ports,
		   (unsigned long long)saved.hdr.vm_id))
		return evtchn_err("XVM_EVTCHN_SET_STATE");
	if (traced(xvm_evtchn_relink(vm->fd, vm->fd, &done, &awaiting),
		   "XVM_EVTCHN_RELINK self -> done %u awaiting %u", done, awaiting))
		return evtchn_err("XVM_EVTCHN_RELINK");
	if (awaiting) {
		errorf("evtchn-table: %u port(s) still await a peer after the relink", awaiting);
		return -1;
	}
	for (i = 0; i < vm->cfg->nr_ports; i++) {
		p = &vm->ports[i];
		if (p->efd >= 0 && traced(xvm_evtchn_eventfd(vm->fd, p->port, p->efd, 0),
					  "XVM_EVTCHN_EVENTFD port %u fd %d", p->port, p->efd))
			return evtchn_err("re-attaching an eventfd bridge");
	}
	created("event channels: %u ports restored (XVM_EVTCHN_SET_STATE), relinked, "
		"eventfd bridges re-attached", saved.hdr.nr_ports);
	return 0;
}

const struct state_group state_evtchn_table_group = {
	.name = "evtchn-table", .version = 1,
	.save = evtchn_save, .parse = evtchn_parse, .restore = evtchn_restore,
};
