// SPDX-License-Identifier: GPL-2.0
/*
 * Live update, the new VMM's side: `xvm-vmm update PATH` asks the VMM
 * listening on PATH for its VM ("TAKE", control.c), receives the fds and
 * the description (update.h), maps guest memory's memfd at the address
 * the old VMM had it (XVM_CLAIM_OWNER requires the same file at the same
 * address), claims the VM, acks - the old VMM exits - and carries on: the
 * BAR mappings and the interposer's geometry again, the control socket
 * (so it can be updated again), the vCPU threads, then the script from
 * where the old VMM stopped, the summary and the teardown.
 *
 * Nothing the old VMM set up is set up again: no VFIO_DEVICE_SET_IRQS, no
 * device routing (it would clear a raised cause), no interposer
 * programming, no port cleared - a delivery that became pending while no
 * process polled is found by the new pollers, once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "host/fdpass.h"
#include "update.h"

/* ---- the description, read ---- */

static int64_t jget(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

/* The array o[key] with n entries (NULL otherwise). */
static json_object *jarr(json_object *o, const char *key, size_t n)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) != n)
		return NULL;
	return v;
}

static json_object *jat(json_object *a, size_t i)
{
	return json_object_array_get_idx(a, i);
}

/* The fd the index v names (-1: none; bad: -2). */
static int fd_of(const struct upd_fds *t, int64_t v)
{
	if (v == -1)
		return -1;
	return v >= 0 && v < t->n ? t->fd[v] : -2;
}

static int jfd(const struct upd_fds *t, json_object *o, const char *key, int *fd)
{
	*fd = fd_of(t, jget(o, key));
	return *fd == -2 ? -1 : 0;
}

static int jcounts(json_object *o, const char *key, unsigned int *v)
{
	json_object *a = jarr(o, key, MAX_VEC);
	unsigned int i;

	if (!a)
		return -1;
	for (i = 0; i < MAX_VEC; i++)
		v[i] = json_object_get_int64(jat(a, i));
	return 0;
}

static int adopt_vfio(struct vfio_rt *d, json_object *o, const struct upd_fds *t)
{
	json_object *e;
	unsigned int i;

	if (!o || jfd(t, o, "container", &d->dev.container) ||
	    jfd(t, o, "group", &d->dev.group) || jfd(t, o, "device", &d->dev.device) ||
	    jfd(t, o, "msix", &d->msixdev) || jcounts(o, "fired", d->fired) ||
	    jcounts(o, "delivered", d->delivered) || jcounts(o, "latched", d->latched))
		return -1;
	if (!json_object_object_get_ex(o, "eventfds", &e) ||
	    json_object_array_length(e) > MAX_VEC)
		return -1;
	d->nr_efd = json_object_array_length(e);
	for (i = 0; i < d->nr_efd; i++) {
		d->efd[i] = fd_of(t, json_object_get_int64(jat(e, i)));
		if (d->efd[i] < 0)
			return -1;
	}
	d->pba_gpa = jget(o, "pba_gpa");
	d->bound_by_us = jget(o, "bound_by_us");
	snprintf(d->old_driver, sizeof(d->old_driver), "%s", jstr(o, "old_driver"));
	return 0;
}

static void adopt_delivery(struct delivery *d, json_object *o)
{
	d->seen = jget(o, "seen");
	d->waited = jget(o, "waited");
}

/* vCPUs, ports, SPIs, devices from the description into vm. */
static int adopt_objects(struct vm *vm, json_object *root, const struct upd_fds *t)
{
	const struct vmm_config *c = vm->cfg;
	json_object *vc = jarr(root, "vcpus", c->vcpus), *po = jarr(root, "ports", c->nr_ports);
	json_object *sp = jarr(root, "spis", c->nr_spis), *vf = jarr(root, "vfio", c->nr_vfio);
	json_object *io = jarr(root, "iommu", c->nr_iommu);
	unsigned int i;

	if (!vc || !po || !sp || !vf || !io)
		return -1;
	for (i = 0; i < c->vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];

		if (jfd(t, jat(vc, i), "fd", &v->fd) || v->fd < 0)
			return -1;
		v->kick = jget(jat(vc, i), "kick");
		v->notify = jget(jat(vc, i), "notify");
		v->wakeups = jget(jat(vc, i), "wakeups");
	}
	for (i = 0; i < c->nr_ports; i++) {
		vm->ports[i].port = jget(jat(po, i), "port");
		adopt_delivery(&vm->ports[i].dlv, jat(po, i));
	}
	for (i = 0; i < c->nr_spis; i++)
		adopt_delivery(&vm->spis[i].dlv, jat(sp, i));
	for (i = 0; i < c->nr_vfio; i++)
		if (adopt_vfio(&vm->vfio[i], jat(vf, i), t))
			return -1;
	for (i = 0; i < c->nr_iommu; i++) {
		if (jfd(t, jat(io, i), "fd", &vm->iommu[i].dev))
			return -1;
		snprintf(vm->iommu[i].old_driver, sizeof(vm->iommu[i].old_driver), "%s",
			 jstr(jat(io, i), "old_driver"));
	}
	return 0;
}

/* Guest memory: the memfd at the old VMM's address, or nothing. */
static int adopt_memory(struct vm *vm, json_object *o, const struct upd_fds *t)
{
	void *want = (void *)(uintptr_t)jget(o, "mem_addr"), *p;

	if (jfd(t, o, "memfd", &vm->memfd) || vm->memfd < 0)
		return -1;
	p = mmap(want, vm->cfg->mem_size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED_NOREPLACE | MAP_POPULATE, vm->memfd, 0);
	if (p == MAP_FAILED)
		return -1;
	if (p != want) {	/* a kernel without MAP_FIXED_NOREPLACE */
		munmap(p, vm->cfg->mem_size);
		errno = EEXIST;
		return -1;
	}
	vm->mem = p;
	return 0;
}

/* The config (its text), the VM's fds and memory: vm as the old VMM had it. */
static int adopt(struct vm *vm, json_object *root, const struct upd_fds *t)
{
	json_object *cf, *o;
	const struct vmm_config *c;
	const char *text;

	if (jget(root, "version") != UPD_VERSION ||
	    !json_object_object_get_ex(root, "config", &cf) ||
	    !json_object_object_get_ex(root, "vm", &o)) {
		errno = EPROTO;
		return -1;
	}
	text = strdup(jstr(cf, "text"));	/* the config points into it */
	c = text ? config_parse_text(strdup(jstr(cf, "path")), text, strlen(text)) : NULL;
	if (!c) {
		errno = EINVAL;
		return -1;
	}
	vm_adopt(vm, c);
	vm->next_step = jget(root, "next_step");
	if (jfd(t, o, "xvm", &vm->xvm) || jfd(t, o, "vm", &vm->fd) || vm->fd < 0 ||
	    jfd(t, o, "gic", &vm->gic) || vm->next_step > c->nr_steps ||
	    adopt_objects(vm, root, t)) {
		errno = EPROTO;
		return -1;
	}
	return adopt_memory(vm, o, t);
}

/* ---- the exchange ---- */

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = UPD_TIMEOUT_S };
	int s;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(s, VMM_CTL_REQ_TAKE, VMM_CTL_REQ_LEN, MSG_NOSIGNAL) != VMM_CTL_REQ_LEN) {
		close(s);
		return -1;
	}
	return s;
}

/* The fd messages, then the description (malloc()ed, NUL-terminated). */
static char *receive(int s, struct upd_fds *t)
{
	struct vmm_upd_hdr h;
	unsigned int nr;
	char *desc;

	do {
		if (fdpass_recv(s, &h, sizeof(h), t->fd + t->n, UPD_MAX_FDS - t->n, &nr,
				MSG_WAITALL) != sizeof(h))
			return NULL;
		t->n += nr;
		if (memcmp(h.magic, UPD_MAGIC, 4) || h.version != UPD_VERSION ||
		    nr != h.nr_fds || (h.status == 0 && !h.total_fds)) {
			errno = EPROTO;
			return NULL;
		}
		if (h.status) {
			errno = h.status;
			return NULL;
		}
	} while (t->n < h.total_fds);
	if (t->n != h.total_fds || h.desc_len > UPD_DESC_MAX) {
		errno = EPROTO;
		return NULL;
	}
	desc = malloc(h.desc_len + 1);
	if (!desc || recv(s, desc, h.desc_len, MSG_WAITALL) != (ssize_t)h.desc_len) {
		free(desc);
		errno = errno ? errno : EPROTO;
		return NULL;
	}
	desc[h.desc_len] = 0;
	return desc;
}

/* The old VMM's output, options and clock: the summary covers both. */
static void adopt_output(json_object *root, const struct vmm_config *c)
{
	json_object *items, *o;
	size_t i;

	if (json_object_object_get_ex(root, "options", &o)) {
		opt_json = jget(o, "json");
		opt_verbose = jget(o, "verbose");
	}
	out_init(c->file);
	out_set_t0(jget(root, "t0"));
	if (!json_object_object_get_ex(root, "items", &items) ||
	    !json_object_is_type(items, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(items); i++) {
		json_object *it = jat(items, i);

		out_item_add(json_object_get_string(jat(it, 0)),
			     json_object_get_string(jat(it, 1)),
			     json_object_get_boolean(jat(it, 2)));
	}
}

/*
 * The fires of the hand-over window: the device sent them while no process
 * polled, so they wait on the pending port (coalesced: one wake), and the
 * interposer delivered every one of them.  A duplicate would be a second
 * wake; a loss, no wake or a short count.
 */
static struct vfio_rt *window_dev(struct vm *vm, json_object *w)
{
	if (jget(w, "dev") < 0 || jget(w, "dev") >= vm->cfg->nr_vfio ||
	    jget(w, "vector") < 0 || jget(w, "vector") >= MAX_VEC)
		return NULL;
	return &vm->vfio[jget(w, "dev")];
}

/* What the poller will log for the window's delivery (before it runs). */
static void window_source(struct vm *vm, json_object *w)
{
	struct vfio_rt *d = window_dev(vm, w);
	unsigned int vec = jget(w, "vector");

	if (d)
		vm_set_source(vm, route_delivery(vm, &d->cfg->vec[vec]),
			      "%s MSI-X vector %u (x%lld during the hand-over)",
			      d->cfg->name, vec, (long long)jget(w, "count"));
}

static void window_check(struct vm *vm, json_object *w)
{
	struct vfio_rt *d = window_dev(vm, w);
	struct delivery *dlv;
	unsigned int vec, count, extra;
	uint64_t now = 0, before = jget(w, "delivered");
	char tgt[64];
	int got;

	if (!d)
		return;
	vec = jget(w, "vector");
	count = jget(w, "count");
	dlv = route_delivery(vm, &d->cfg->vec[vec]);
	got = vm_wait_seen(vm, dlv, 2 * SEC);
	usleep(20000);
	pthread_mutex_lock(&vm->lock);
	extra = dlv->seen - dlv->waited;
	pthread_mutex_unlock(&vm->lock);
	xvm_get_attr(d->msixdev, XVM_MSIX_GRP_STATS, XVM_MSIX_STAT_DELIVERED, &now);
	if (got && !extra)
		d->delivered[vec] += count;
	snprintf(tgt, sizeof(tgt), "%s", d->cfg->vec[vec].kind == ROUTE_PORT ?
		 vm->cfg->ports[d->cfg->vec[vec].target].name : "its SPI");
	check(got && !extra && now - before >= count,
	      "live update: %s vector %u fired %u time(s) during the hand-over: xvm-msix "
	      "delivered %llu message(s) to %s meanwhile; this process's poller woke %s",
	      d->cfg->name, vec, count, (unsigned long long)(now - before), tgt,
	      !got ? "NOT AT ALL (lost)" : extra ? "MORE THAN ONCE (duplicated)" :
	      "once (the pending port), no duplicate");
}

/* This process's view of the devices again: BARs, interposer geometry, DMA engines. */
static int adopt_devices(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->cfg->nr_vfio; i++) {
		struct vfio_rt *d = &vm->vfio[i];

		if (vfio_adopt_dev(vm, i) ||
		    (d->msixdev >= 0 &&
		     traced(xvm_get_attr(d->msixdev, XVM_MSIX_GRP_INFO, 0, &d->info),
			    "GET_DEVICE_ATTR msix INFO")))
			return line_error(vm->cfg, d->cfg->line, "live update: vfio %s",
					  d->cfg->name);
	}
	for (i = 0; i < vm->cfg->nr_iommu; i++)
		iommu_adopt(vm, i);
	return 0;
}

/* After the claim: say so, devices, control socket, threads, the window. */
static int resume(struct vm *vm, json_object *root, const struct upd_fds *t)
{
	json_object *ctl, *w = NULL;
	int sock = -1;

	section("live update: pid %d took the VM over from pid %lld", getpid(),
		(long long)jget(root, "pid"));
	say("%u fds received; guest memory (%llu KiB memfd) mapped at the old address %p; "
	    "XVM_CLAIM_OWNER: this process owns the VM", t->n,
	    (unsigned long long)vm->cfg->mem_size >> 10, vm->mem);
	if (adopt_devices(vm))
		return -1;
	if (json_object_object_get_ex(root, "control", &ctl) && !jfd(t, ctl, "fd", &sock) &&
	    sock >= 0 && control_adopt(vm, jstr(ctl, "path"), sock))
		return -1;
	if (json_object_object_get_ex(root, "window", &w))
		window_source(vm, w);
	if (vcpus_start(vm))
		return -1;
	if (w)
		window_check(vm, w);
	return 0;
}

/* Connect, receive, adopt, claim, ack: 0 when this process owns the VM. */
static int take(struct vm *vm, const char *path, json_object **root, struct upd_fds *t)
{
	char *desc;
	int s = connect_to(path);

	if (s < 0)
		return -1;
	desc = receive(s, t);
	*root = desc ? json_tokener_parse(desc) : NULL;
	free(desc);
	if (!*root) {
		errno = errno ? errno : EPROTO;
		close(s);
		return -1;
	}
	if (adopt(vm, *root, t) || xvm_claim_owner(vm->fd) ||
	    send(s, UPD_ACK, 4, MSG_NOSIGNAL) != 4) {
		close(s);
		return -1;
	}
	close(s);
	return 0;
}

static void usage_update(FILE *f)
{
	fprintf(f, "usage: xvm-vmm update PATH\n"
		"  Live update: takes the VM of the xvm-vmm listening on the control socket\n"
		"  PATH (`run --control PATH`, or the live-update step) over - its fds, guest\n"
		"  memory and script - and runs the script on from where it stopped, then the\n"
		"  summary and the teardown; listens on PATH itself.  The old VMM exits.\n"
		"  Exit: as `run`; 1 also if the VM could not be taken (it runs on there).\n");
}

int cmd_update(int argc, char **argv)
{
	static struct upd_fds t;
	static struct vm vm;
	json_object *root = NULL;
	int failed;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage_update(stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		usage_update(stderr);
		return EXIT_USAGE;
	}
	update_enabled = true;
	if (take(&vm, argv[1], &root, &t)) {
		fprintf(stderr, "xvm-vmm update: %s: %s\n", argv[1],
			errno_text(errno, (char[96]){ 0 }, 96));
		return EXIT_CHECK;	/* nothing torn down: the VM is the old VMM's */
	}
	adopt_output(root, vm.cfg);
	failed = resume(&vm, root, &t) || script_run(&vm);
	json_object_put(root);
	control_stop();
	section("teardown");
	vm_teardown(&vm);
	say("VM, devices and threads released; devices handed back to the host");
	return out_finish(failed);
}
