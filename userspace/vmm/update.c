// SPDX-License-Identifier: GPL-2.0
/*
 * Live update, the old VMM's side: the VM handed to a new xvm-vmm process
 * (update-take.c) that asked for it on the control socket ("TAKE",
 * control.c has the protocol).  The kernel objects are not re-created:
 * their fds go over SCM_RIGHTS (VM, vCPUs, GIC, guest memory's memfd, VFIO
 * container/group/device, the MSI-X interposer and its eventfds, xvm-iommu
 * devices, the listening control socket), XVM_GRANT_OWNER lets the new
 * process XVM_CLAIM_OWNER the VM, and this process exits without teardown.
 *
 * At a step boundary of the script (update_boundary(), or the live-update
 * step, which starts `xvm-vmm update PATH` itself): the vCPU threads stop
 * and the accept thread pauses - nothing is torn down: the device keeps its
 * IRQs, the interposer its eventfds and table, so a vector the device
 * fires meanwhile lands on its (then unpolled) port, pending until the new
 * VMM's poller sees it.  Prepare/commit: until the new process acks its
 * claim, every step can fail, and then the grant is revoked and the
 * threads resume here; the ack is the point of no return.
 *
 * Threads: the script thread does all of it; the accept thread only
 * queues the request (req, under its lock).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/fdpass.h"
#include "update.h"

/* A "TAKE" the accept thread got, waiting for a step boundary. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int conn;
} req = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, -1 };

static void refuse(int conn, int status)
{
	struct vmm_upd_hdr h;

	upd_hdr_init(&h, status);
	fdpass_send(conn, &h, sizeof(h), NULL, 0);
}

void update_request(int conn)
{
	pthread_mutex_lock(&req.lock);
	if (req.conn < 0) {
		req.conn = conn;
		conn = -1;
		pthread_cond_broadcast(&req.cond);
	}
	pthread_mutex_unlock(&req.lock);
	if (conn >= 0) {	/* one hand-over at a time */
		refuse(conn, EBUSY);
		close(conn);
	}
}

/* The pending request's connection, waiting up to timeout_ns; -1: none. */
static int take_request(uint64_t timeout_ns)
{
	struct timespec ts;
	int conn;

	deadline_in(&ts, timeout_ns);
	pthread_mutex_lock(&req.lock);
	while (req.conn < 0 && timeout_ns)
		if (pthread_cond_timedwait(&req.cond, &req.lock, &ts) == ETIMEDOUT)
			break;
	conn = req.conn;
	req.conn = -1;
	pthread_mutex_unlock(&req.lock);
	return conn;
}

/* The asking process: its pid, if it runs as our uid (else EPERM). */
static int peer_pid(int conn, pid_t *pid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return -1;
	if (cr.uid != geteuid()) {
		errno = EPERM;
		return -1;
	}
	*pid = cr.pid;
	return 0;
}

/* ---- the description (update.h) ---- */

static json_object *jnum(int64_t v)
{
	return json_object_new_int64(v);
}

/* fd's index in the hand-over, as a JSON number (-1: no fd). */
static json_object *jfd(struct upd_fds *t, int fd)
{
	if (fd < 0 || t->n == UPD_MAX_FDS)
		return jnum(-1);
	t->fd[t->n] = fd;
	return jnum(t->n++);
}

static json_object *jcounts(const unsigned int *v, unsigned int n)
{
	json_object *a = json_object_new_array();
	unsigned int i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, jnum(v[i]));
	return a;
}

static json_object *describe_vfio(struct vfio_rt *d, struct upd_fds *t)
{
	json_object *o = json_object_new_object(), *e = json_object_new_array();
	unsigned int i;

	json_object_object_add(o, "container", jfd(t, d->dev.container));
	json_object_object_add(o, "group", jfd(t, d->dev.group));
	json_object_object_add(o, "device", jfd(t, d->dev.device));
	json_object_object_add(o, "msix", jfd(t, d->msixdev));
	for (i = 0; i < d->nr_efd; i++)
		json_object_array_add(e, jfd(t, d->efd[i]));
	json_object_object_add(o, "eventfds", e);
	json_object_object_add(o, "pba_gpa", jnum(d->pba_gpa));
	json_object_object_add(o, "bound_by_us", json_object_new_boolean(d->bound_by_us));
	json_object_object_add(o, "old_driver", json_object_new_string(d->old_driver));
	json_object_object_add(o, "fired", jcounts(d->fired, MAX_VEC));
	json_object_object_add(o, "delivered", jcounts(d->delivered, MAX_VEC));
	json_object_object_add(o, "latched", jcounts(d->latched, MAX_VEC));
	return o;
}

static json_object *jdelivery(const struct delivery *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "seen", jnum(d->seen));
	json_object_object_add(o, "waited", jnum(d->waited));
	return o;
}

/* vCPUs, ports, SPIs, devices: their fds into t. */
static void describe_objects(struct vm *vm, json_object *root, struct upd_fds *t)
{
	const struct vmm_config *c = vm->cfg;
	json_object *a, *o;
	unsigned int i;

	a = json_object_new_array();
	for (i = 0; i < c->vcpus; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "fd", jfd(t, vm->vcpu[i].fd));
		json_object_object_add(o, "kick", jnum(vm->vcpu[i].kick));
		json_object_object_add(o, "notify", jnum(vm->vcpu[i].notify));
		json_object_object_add(o, "wakeups", jnum(vm->vcpu[i].wakeups));
		json_object_array_add(a, o);
	}
	json_object_object_add(root, "vcpus", a);
	a = json_object_new_array();
	for (i = 0; i < c->nr_ports; i++) {
		o = jdelivery(&vm->ports[i].dlv);
		json_object_object_add(o, "port", jnum(vm->ports[i].port));
		json_object_array_add(a, o);
	}
	json_object_object_add(root, "ports", a);
	a = json_object_new_array();
	for (i = 0; i < c->nr_spis; i++)
		json_object_array_add(a, jdelivery(&vm->spis[i].dlv));
	json_object_object_add(root, "spis", a);
	a = json_object_new_array();
	for (i = 0; i < c->nr_vfio; i++)
		json_object_array_add(a, describe_vfio(&vm->vfio[i], t));
	json_object_object_add(root, "vfio", a);
	a = json_object_new_array();
	for (i = 0; i < c->nr_iommu; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "fd", jfd(t, vm->iommu[i].dev));
		json_object_object_add(o, "old_driver",
				       json_object_new_string(vm->iommu[i].old_driver));
		json_object_array_add(a, o);
	}
	json_object_object_add(root, "iommu", a);
}

/* The output so far: [kind, text, ok] each. */
static json_object *describe_items(void)
{
	json_object *a = json_object_new_array(), *it;
	const char *kind, *text;
	unsigned int i;
	bool ok;

	for (i = 0; out_item(i, &kind, &text, &ok); i++) {
		it = json_object_new_array();
		json_object_array_add(it, json_object_new_string(kind));
		json_object_array_add(it, json_object_new_string(text));
		json_object_array_add(it, json_object_new_boolean(ok));
		json_object_array_add(a, it);
	}
	return a;
}

/* The config's text: the file, read again (it must not change while the VM runs). */
static json_object *describe_config(const struct vmm_config *c)
{
	json_object *o = json_object_new_object();
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(c->path, "r");

	if (f) {
		if (getdelim(&text, &len, '\0', f) < 0) {
			free(text);
			text = NULL;
		}
		fclose(f);
	}
	json_object_object_add(o, "path", json_object_new_string(c->path));
	json_object_object_add(o, "text", text ? json_object_new_string(text) : NULL);
	free(text);
	return o;
}

static json_object *describe_vm(struct vm *vm, struct upd_fds *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "xvm", jfd(t, vm->xvm));
	json_object_object_add(o, "vm", jfd(t, vm->fd));
	json_object_object_add(o, "gic", jfd(t, vm->gic));
	json_object_object_add(o, "memfd", jfd(t, vm->memfd));
	json_object_object_add(o, "mem_addr", jnum((uintptr_t)vm->mem));
	return o;
}

/* The whole description; its fds into t.  NULL if the config cannot be read. */
static json_object *describe(struct vm *vm, struct upd_fds *t, unsigned int next,
			     json_object *window)
{
	json_object *root = json_object_new_object(), *o;
	const char *path;
	int sock = control_sock(&path);

	json_object_object_add(root, "version", jnum(UPD_VERSION));
	json_object_object_add(root, "pid", jnum(getpid()));
	json_object_object_add(root, "next_step", jnum(next));
	json_object_object_add(root, "t0", jnum(out_t0()));
	o = json_object_new_object();
	json_object_object_add(o, "json", json_object_new_boolean(opt_json));
	json_object_object_add(o, "verbose", json_object_new_boolean(opt_verbose));
	json_object_object_add(root, "options", o);
	json_object_object_add(root, "config", describe_config(vm->cfg));
	json_object_object_add(root, "vm", describe_vm(vm, t));
	describe_objects(vm, root, t);
	o = json_object_new_object();
	json_object_object_add(o, "fd", jfd(t, sock));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(root, "control", o);
	if (window)
		json_object_object_add(root, "window", window);
	json_object_object_add(root, "items", describe_items());
	return root;
}

/* ---- the hand-over ---- */

/* The fds, FDPASS_MAX per message, then the description. */
static int send_all(int conn, const struct upd_fds *t, const char *desc)
{
	size_t len = strlen(desc), off = 0;
	struct vmm_upd_hdr h;
	unsigned int i = 0, n;
	ssize_t w;

	do {
		n = t->n - i < FDPASS_MAX ? t->n - i : FDPASS_MAX;
		upd_hdr_init(&h, 0);
		h.nr_fds = n;
		h.total_fds = t->n;
		h.desc_len = len;
		if (fdpass_send(conn, &h, sizeof(h), t->fd + i, n))
			return -1;
		i += n;
	} while (i < t->n);
	for (; off < len; off += w) {
		w = send(conn, desc + off, len - off, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
	}
	return 0;
}

/* The new VMM's "CLMD", within UPD_TIMEOUT_S; 0 if it came. */
static int wait_ack(int conn)
{
	struct timeval tv = { .tv_sec = UPD_TIMEOUT_S };
	char ack[4];

	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (recv(conn, ack, sizeof(ack), MSG_WAITALL) != sizeof(ack))
		return -1;
	return memcmp(ack, UPD_ACK, sizeof(ack)) ? -1 : 0;
}

/*
 * The device fires vector u->vector u->count times while no thread polls
 * (the threads are stopped): the messages wait on the pending port for the
 * new VMM.  The description's "window" says so.
 */
static json_object *window_fire(struct vm *vm, const struct step_update *u)
{
	struct vfio_rt *d = &vm->vfio[u->dev];
	json_object *w = json_object_new_object();
	uint64_t before = 0;
	unsigned int i;

	vm_sync_seen(vm, route_delivery(vm, &d->cfg->vec[u->vector]));
	xvm_get_attr(d->msixdev, XVM_MSIX_GRP_STATS, XVM_MSIX_STAT_DELIVERED, &before);
	for (i = 0; i < u->count; i++) {
		if (msix_fire(d, u->vector))
			break;
		d->fired[u->vector]++;
		usleep(1000);
	}
	say("live update: %s fired MSI-X vector %u %u time(s) while no vCPU thread polls",
	    d->cfg->name, u->vector, i);
	json_object_object_add(w, "dev", jnum(u->dev));
	json_object_object_add(w, "vector", jnum(u->vector));
	json_object_object_add(w, "count", jnum(i));
	json_object_object_add(w, "delivered", jnum(before));
	return w;
}

/*
 * The point of no return passed: the new VMM owns the VM.  This process's
 * mappings and fds go (the kernel objects live on in the new process);
 * nothing is torn down.  It exits - after the new VMM does, if it started
 * it, with its exit status (so that `make run` and tests see the end).
 */
static void __attribute__((noreturn)) commit(struct vm *vm, struct upd_fds *t,
					     pid_t child)
{
	unsigned int i;
	int st = 0;

	control_forget();
	for (i = 0; i < vm->cfg->nr_vfio; i++)
		if (vm->vfio[i].dev.bar0)
			munmap((void *)vm->vfio[i].dev.bar0, vm->vfio[i].dev.bar0_size);
	munmap(vm->mem, vm->cfg->mem_size);
	for (i = 0; i < t->n; i++)
		close(t->fd[i]);
	fflush(NULL);
	if (child <= 0)
		exit(0);
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	exit(WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_CHECK);
}

/* Grant, describe, send, await the claim; 0: the new VMM acked. */
static int hand_over(struct vm *vm, int conn, pid_t pid, unsigned int next,
		     json_object *window, struct upd_fds *t)
{
	json_object *root;
	int r = -1;

	if (traced(xvm_grant_owner(vm->fd, pid), "XVM_GRANT_OWNER pid %d", pid)) {
		errorf("live update: XVM_GRANT_OWNER pid %d: %s", pid,
		       errno_text(errno, (char[96]){ 0 }, 96));
		json_object_put(window);
		return -1;
	}
	root = describe(vm, t, next, window);
	say("live update: VM granted to pid %d; sending %u fds and the description", pid,
	    t->n);
	fflush(stdout);
	if (!send_all(conn, t, json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN)))
		r = wait_ack(conn);
	json_object_put(root);
	if (!r)
		return 0;
	/* Not acked: take the grant back - unless it was claimed (EIO: no longer ours). */
	if (!traced(xvm_grant_owner(vm->fd, 0), "XVM_GRANT_OWNER pid 0 (revoke)"))
		return -1;
	return errno == EIO ? 0 : -1;
}

/*
 * Serves the "TAKE" on conn before step next; window (the live-update
 * step's fires) may be NULL.  Returns only when the hand-over failed.
 */
static void offer(struct vm *vm, int conn, unsigned int next,
		  const struct step_update *u, pid_t child)
{
	static struct upd_fds t;
	pid_t pid;

	if (peer_pid(conn, &pid)) {
		int e = errno;

		errorf("live update: refused: %s", errno_text(e, (char[96]){ 0 }, 96));
		refuse(conn, e);
		close(conn);
		return;
	}
	section("live update: handing the VM to pid %d before step %u", pid, next + 1);
	control_pause();
	vcpus_stop(vm);
	say("vCPU threads stopped, control socket paused; nothing torn down");
	t.n = 0;
	if (!hand_over(vm, conn, pid, next,
		       u && u->dev >= 0 ? window_fire(vm, u) : NULL, &t)) {
		close(conn);
		commit(vm, &t, child);
	}
	close(conn);
	errorf("live update: pid %d did not take the VM; it runs on here (pid %d)", pid,
	       getpid());
	vm->stop = false;
	if (vcpus_start(vm) || control_resume())
		errorf("live update: cannot resume: %s", strerror(errno));
}

void update_boundary(struct vm *vm, unsigned int next)
{
	int conn = take_request(0);

	if (conn >= 0)
		offer(vm, conn, next, NULL, 0);
}

/* `xvm-vmm update PATH` as a child: this very binary, no fd but stdio. */
static pid_t spawn_taker(const char *path)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close_range(3, ~0U, 0);
		execl("/proc/self/exe", "xvm-vmm", "update", path, (char *)NULL);
		_exit(127);
	}
	return pid;
}

bool update_enabled;

int update_step(struct vm *vm, const struct step *s)
{
	unsigned int next = s - vm->cfg->steps + 1;
	static char tmp[64];
	const char *path;
	pid_t child;
	int conn, st;

	if (!update_enabled) {	/* a state file is this process's to write */
		say("live update: skipped (only `run` and `update` hand the VM over)");
		return 0;
	}
	if (control_sock(&path) < 0) {
		snprintf(tmp, sizeof(tmp), "/tmp/xvm-vmm-%d.ctl", getpid());
		if (control_start(vm, tmp))
			return check(false, "live update: no control socket");
		control_sock(&path);
	}
	child = spawn_taker(path);
	if (child < 0)
		return check(false, "live update: fork: %s", strerror(errno));
	say("live update: started `xvm-vmm update %s` (pid %d)", path, child);
	conn = take_request(10 * SEC);
	if (conn >= 0)
		offer(vm, conn, next, &s->update, child);	/* returns if it failed */
	if (waitpid(child, &st, WNOHANG) == 0) {
		kill(child, SIGTERM);
		waitpid(child, &st, 0);
	}
	return check(false, "live update: the VM stays with pid %d (see above)", getpid());
}
