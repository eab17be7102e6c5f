// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-vmm control socket (run --control PATH): a unix stream socket at PATH,
 * mode 0600, removed when the VMM exits (also on SIGINT/SIGTERM), through
 * which another process gets the VM's statistics fds.  The VM's and vCPUs'
 * ioctls belong to this process (a VM belongs to its mm); a stats fd may be
 * read by any process it is passed to (docs/api.md, XVM_GET_STATS_FD).
 *
 * The protocol (struct vmm_ctl_reply in vmm.h), one exchange per connection:
 *
 *   client: 4 bytes, the request: "STAT"
 *   server: one message: struct vmm_ctl_reply (16 bytes: magic "XVMC",
 *           version 1, status, nr_fds, nr_vcpus), with nr_fds fds attached
 *           (SCM_RIGHTS): the VM's stats fd, then vCPU 0's, 1's, ...
 *           An unknown request gets status EOPNOTSUPP and no fd; a stats fd
 *           the kernel refuses, that errno and no fd.  Then it closes.
 *
 * New requests (e.g. handing the VM over for a live update) are new 4-byte
 * words; a new reply layout is a new version.
 *
 * Threads: one accept thread, started after the vCPUs and stopped before
 * the teardown; it only reads vm->fd and vm->vcpu[].fd, which are fixed
 * while it runs, so it takes no lock.  A client that does not send its
 * request within a second is dropped, so it cannot stall the thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm.h"
#include "host/fdpass.h"

static struct {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int sock, stop;		/* listening socket; eventfd ending the thread */
	pthread_t thread;
	bool started;
	struct vm *vm;
} ctl = { .sock = -1, .stop = -1 };

/* SIGINT/SIGTERM: the socket file goes too, then the default action. */
static void control_signal(int sig)
{
	unlink(ctl.path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void reply_init(struct vmm_ctl_reply *r, int status)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->magic, VMM_CTL_MAGIC, sizeof(r->magic));
	r->version = VMM_CTL_VERSION;
	r->status = status;
}

/* The reply and its fds, in one message. */
static int send_reply(int conn, const struct vmm_ctl_reply *r, const int *fds)
{
	return fdpass_send(conn, r, sizeof(*r), fds, r->nr_fds);
}

/* "STAT": a fresh stats fd of the VM and of each vCPU, sent, then closed. */
static void reply_stat(int conn)
{
	struct vmm_ctl_reply r;
	int fds[VMM_CTL_MAX_FDS];
	unsigned int i, n = ctl.vm->cfg->vcpus;

	reply_init(&r, 0);
	for (i = 0; i <= n; i++) {
		fds[i] = xvm_get_stats_fd(i ? ctl.vm->vcpu[i - 1].fd : ctl.vm->fd);
		if (fds[i] < 0) {
			r.status = errno;
			break;
		}
	}
	if (!r.status) {
		r.nr_fds = n + 1;
		r.nr_vcpus = n;
	}
	send_reply(conn, &r, fds);
	while (i--)
		close(fds[i]);
}

/* One connection: its request (within a second), the reply. */
static void control_serve(int conn)
{
	struct timeval tv = { .tv_sec = 1 };
	struct vmm_ctl_reply r;
	char req[VMM_CTL_REQ_LEN];

	reply_init(&r, EOPNOTSUPP);
	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (recv(conn, req, sizeof(req), MSG_WAITALL) != sizeof(req))
		return;
	if (!memcmp(req, VMM_CTL_REQ_STAT, sizeof(req)))
		reply_stat(conn);
	else
		send_reply(conn, &r, NULL);
}

static void *control_thread(void *arg)
{
	struct pollfd pfd[2] = {
		{ .fd = ctl.sock, .events = POLLIN },
		{ .fd = ctl.stop, .events = POLLIN },
	};
	int conn;

	(void)arg;
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		conn = accept4(ctl.sock, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			continue;
		control_serve(conn);
		close(conn);
	}
	return NULL;
}

/* The socket at path, mode 0600 from its creation (umask around bind). */
static int control_bind(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int r;

	if (!*path || strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	ctl.sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctl.sock < 0)
		return -1;
	old = umask(0177);
	r = bind(ctl.sock, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r)
		return -1;
	strcpy(ctl.path, path);
	if (chmod(path, 0600) || listen(ctl.sock, 8))
		return -1;
	signal(SIGINT, control_signal);
	signal(SIGTERM, control_signal);
	return 0;
}

int control_start(struct vm *vm, const char *path)
{
	int e;

	ctl.vm = vm;
	if (control_bind(path))
		goto fail;
	ctl.stop = eventfd(0, EFD_CLOEXEC);
	if (ctl.stop < 0)
		goto fail;
	e = pthread_create(&ctl.thread, NULL, control_thread, NULL);
	if (e) {
		errno = e;
		goto fail;
	}
	ctl.started = true;
	say("control socket %s (xvm-vmm stat %s)", path, path);
	return 0;
fail:
	e = errno;
	errorf("control socket %s: %s", path, errno_text(e, (char[64]){ 0 }, 64));
	control_stop();
	errno = e;
	return -1;
}

void control_stop(void)
{
	uint64_t one = 1;

	if (ctl.started && write(ctl.stop, &one, sizeof(one)) == sizeof(one))
		pthread_join(ctl.thread, NULL);
	ctl.started = false;
	if (ctl.path[0]) {
		unlink(ctl.path);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		ctl.path[0] = '\0';
	}
	if (ctl.sock >= 0)
		close(ctl.sock);
	if (ctl.stop >= 0)
		close(ctl.stop);
	ctl.sock = ctl.stop = -1;
}
