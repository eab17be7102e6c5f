// SPDX-License-Identifier: GPL-2.0
/*
 * State group "evtchn" (version 1): every allocated event-channel port of
 * the VM, as XVM_EVTCHN_STATUS reports it, in port order.
 *
 *   "evtchn": { "version": 1, "ports": [ { "port": 1, "state": "vcpu",
 *               "vcpu": 0, "remote_port": 0, "pending": false, "masked": false,
 *               "eventfd_in": false, "eventfd_out": false,
 *               "remote_named": false }, ... ] }
 *
 * The ports themselves are the VMM's: its setup allocates and binds them in
 * a fixed order (each vCPU's kick port, the config's ports, the vGIC notify
 * ports), so the restored VM has the same numbers, states and vCPUs - which
 * restore checks, port by port, against the file - and restore then sets
 * what today's ioctls can set: the mask (XVM_EVTCHN_MASK/UNMASK) and the
 * pending bit (XVM_EVTCHN_SEND / CLEAR).  It runs last, after the vGIC (whose
 * restore may raise a notify port), so the pending bits are the file's.
 *
 * TODO (the "evtchn-table" group): interdomain ports, eventfd bridges and
 * ports allocated for a named remote VM cannot be rebuilt with today's
 * ioctls; a file that has one is refused until XVM_EVTCHN_GET_STATE /
 * SET_STATE carry the whole port table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "state.h"

#define NR_PORTS	XVM_EVTCHN_MAX_PORTS

struct port_state {
	uint32_t port, state, vcpu, remote_port, status;
};

static struct {
	size_t nr;
	struct port_state p[NR_PORTS];
} saved;

static const char *const state_names[] = {
	[XVM_EVTCHN_STATE_FREE] = "free",
	[XVM_EVTCHN_STATE_UNBOUND] = "unbound",
	[XVM_EVTCHN_STATE_VCPU] = "vcpu",
	[XVM_EVTCHN_STATE_INTERDOMAIN] = "interdomain",
};

static const struct {
	const char *name;
	uint32_t bit;
} status_bits[] = {
	{ "pending", XVM_EVTCHN_STATUS_PENDING },
	{ "masked", XVM_EVTCHN_STATUS_MASKED },
	{ "eventfd_in", XVM_EVTCHN_STATUS_EVENTFD_IN },
	{ "eventfd_out", XVM_EVTCHN_STATUS_EVENTFD_OUT },
	{ "remote_named", XVM_EVTCHN_STATUS_REMOTE_NAMED },
};

/* XVM_EVTCHN_STATUS of port into *ps. */
static int port_status(struct vm *vm, uint32_t port, struct port_state *ps)
{
	struct xvm_evtchn_op op = { .port = port };

	if (ioctl(vm->fd, XVM_EVTCHN_STATUS, &op)) {
		char err[96];

		errorf("evtchn: XVM_EVTCHN_STATUS port %u: %s", port,
		       errno_text(errno, err, sizeof(err)));
		return -1;
	}
	*ps = (struct port_state){
		.port = port, .state = op.state, .vcpu = op.vcpu_id,
		.remote_port = op.remote_port, .status = op.status,
	};
	return 0;
}

static int evtchn_save(struct vm *vm, json_object *sec)
{
	json_object *a = st_put_array(sec, "ports");
	struct port_state ps;
	unsigned int port, i;

	for (port = 1; port < NR_PORTS; port++) {
		json_object *e;

		if (port_status(vm, port, &ps))
			return -1;
		if (ps.state == XVM_EVTCHN_STATE_FREE)
			continue;
		if (ps.state >= ARRAY_SIZE(state_names)) {
			errorf("evtchn: port %u: unknown state %u", port, ps.state);
			return -1;
		}
		e = json_object_new_object();
		json_object_array_add(a, e);
		st_put_u64(e, "port", port);
		json_object_object_add(e, "state", json_object_new_string(state_names[ps.state]));
		st_put_u64(e, "vcpu", ps.vcpu);
		st_put_u64(e, "remote_port", ps.remote_port);
		for (i = 0; i < ARRAY_SIZE(status_bits); i++)
			st_put_bool(e, status_bits[i].name, ps.status & status_bits[i].bit);
	}
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
			break;
	if (*state == XVM_EVTCHN_STATE_INTERDOMAIN)
		return st_err(in, "an interdomain port: restoring it needs the port table "
			      "(XVM_EVTCHN_SET_STATE), which this kernel interface lacks");
	if (*state == ARRAY_SIZE(state_names))
		return st_err(in, "'state' = '%s' (expected 'unbound' or 'vcpu')", s);
	return 0;
}

static int parse_port(struct st_in *in, json_object *a, size_t i, uint32_t min)
{
	static const char *const keys[] = {
		"port", "state", "vcpu", "remote_port", "pending", "masked",
		"eventfd_in", "eventfd_out", "remote_named", NULL,
	};
	struct port_state *ps = &saved.p[i];
	json_object *e;
	unsigned int b;
	bool on;

	st_where(in, "evtchn.ports");
	if (st_elem(in, a, i, keys, &e))
		return -1;
	st_where(in, "evtchn.ports[%zu]", i);
	memset(ps, 0, sizeof(*ps));
	if (st_u32(in, e, "port", min, NR_PORTS - 1, &ps->port) || parse_state(in, e, &ps->state) ||
	    st_u32(in, e, "vcpu", 0, in->cfg->vcpus - 1, &ps->vcpu) ||
	    st_u32(in, e, "remote_port", 0, 0, &ps->remote_port))
		return -1;
	for (b = 0; b < ARRAY_SIZE(status_bits); b++) {
		if (st_bool(in, e, status_bits[b].name, &on))
			return -1;
		ps->status |= on ? status_bits[b].bit : 0;
	}
	if (ps->status & ~(XVM_EVTCHN_STATUS_PENDING | XVM_EVTCHN_STATUS_MASKED))
		return st_err(in, "port %u is eventfd-bridged or named for a remote VM: "
			      "restoring it needs the port table (XVM_EVTCHN_SET_STATE), which "
			      "this kernel interface lacks", ps->port);
	return 0;
}

static int evtchn_parse(struct st_in *in, json_object *sec)
{
	static const char *const keys[] = { "version", "ports", NULL };
	uint32_t min = 1;
	json_object *a;
	size_t i;

	if (st_keys(in, sec, keys) || st_array(in, sec, "ports", 0, NR_PORTS - 1, &a, &saved.nr))
		return -1;
	for (i = 0; i < saved.nr; i++) {
		if (parse_port(in, a, i, min))
			return -1;
		min = saved.p[i].port + 1;	/* increasing, no repeat */
	}
	return 0;
}

/* The VM's ports are the file's: same numbers, states and vCPUs. */
static int check_ports(struct vm *vm)
{
	struct port_state ps;
	size_t k = 0;
	uint32_t port;

	for (port = 1; port < NR_PORTS; port++) {
		const struct port_state *want = k < saved.nr && saved.p[k].port == port ?
						&saved.p[k] : NULL;

		if (port_status(vm, port, &ps))
			return -1;
		if (!want && ps.state == XVM_EVTCHN_STATE_FREE)
			continue;
		k += !!want;
		if (want && ps.state == want->state && ps.vcpu == want->vcpu)
			continue;
		errorf("evtchn: port %u: the file has it %s (vCPU %u), the VM the saved config "
		       "makes has it %s (vCPU %u)", port,
		       want ? state_names[want->state] : "free", want ? want->vcpu : 0,
		       ps.state < ARRAY_SIZE(state_names) ? state_names[ps.state] : "?",
		       ps.vcpu);
		return -1;
	}
	return 0;
}

static int evtchn_restore(struct vm *vm)
{
	char err[96];
	size_t i;

	if (check_ports(vm))
		return -1;
	for (i = 0; i < saved.nr; i++) {
		const struct port_state *ps = &saved.p[i];
		bool masked = ps->status & XVM_EVTCHN_STATUS_MASKED;
		bool pending = ps->status & XVM_EVTCHN_STATUS_PENDING;

		if (traced(masked ? xvm_evtchn_mask(vm->fd, ps->port) :
				    xvm_evtchn_unmask(vm->fd, ps->port),
			   "XVM_EVTCHN_%s port %u", masked ? "MASK" : "UNMASK", ps->port) ||
		    traced(pending ? xvm_evtchn_send(vm->fd, ps->port) :
				     xvm_evtchn_clear(vm->fd, ps->port),
			   "XVM_EVTCHN_%s port %u", pending ? "SEND" : "CLEAR", ps->port)) {
			errorf("evtchn: port %u: restoring %s: %s", ps->port,
			       masked ? "masked" : "pending", errno_text(errno, err, sizeof(err)));
			return -1;
		}
	}
	created("event channels: %zu ports checked, mask and pending bits restored",
		saved.nr);
	return 0;
}

const struct state_group state_evtchn_group = {
	.name = "evtchn", .version = 1,
	.save = evtchn_save, .parse = evtchn_parse, .restore = evtchn_restore,
};
