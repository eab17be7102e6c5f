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
 *   client: "TAKE" (xvm-vmm update PATH: a live update, update.c)
 *   server: hands the whole VM to the client, a process of the same uid
 *           (SO_PEERCRED), at the script's next step boundary:
 *             1. the vCPU threads stop (nothing is torn down), the accept
 *                thread pauses, XVM_GRANT_OWNER(the client's pid);
 *             2. messages of struct vmm_upd_hdr (update.c: magic "XVMU",
 *                version 1, status, nr_fds, total_fds, desc_len), each
 *                with its nr_fds fds (at most FDPASS_MAX per message),
 *                until total_fds came; then desc_len bytes: the
 *                description, JSON (update.c), naming each fd by its
 *                index in the order they came; a refusal is one header
 *                with status (EPERM: another uid; EBUSY: another TAKE
 *                pending) and no fd;
 *   client: maps the memory, XVM_CLAIM_OWNER, then 4 bytes: "CLMD";
 *   server: exits (the old VMM: without teardown).  If the connection
 *           ends before "CLMD", the server revokes the grant (pid 0) and
 *           resumes its threads: the VM runs on there (XVM_GRANT_OWNER
 *           failing with EIO means it was claimed: the server exits).
 *
 * New requests are new 4-byte words; a new reply layout is a new version.
 *
 * Threads: one accept thread, started after the vCPUs and stopped before
 * the teardown; it only reads vm->fd and vm->vcpu[].fd, which are fixed
 * while it runs, so it takes no lock.  A client that does not send its
 * request within a second is dropped, so it cannot stall the thread.
 * "TAKE" is handed to the script thread (update_request()): the accept
 * thread is paused while the VM is handed over, so that once the new VMM
 * has the listening socket only it accepts.
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

/* One connection: its request (within a second), the reply; false: conn kept. */
static bool control_serve(int conn)
{
	struct timeval tv = { .tv_sec = 1 };
	struct vmm_ctl_reply r;
	char req[VMM_CTL_REQ_LEN];

	reply_init(&r, EOPNOTSUPP);
	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (recv(conn, req, sizeof(req), MSG_WAITALL) != sizeof(req))
		return true;
	if (!memcmp(req, VMM_CTL_REQ_TAKE, sizeof(req))) {
		update_request(conn);
		return false;
	}
	if (!memcmp(req, VMM_CTL_REQ_STAT, sizeof(req)))
		reply_stat(conn);
	else
		send_reply(conn, &r, NULL);
	return true;
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
		if (control_serve(conn))
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

/* The accept thread (again), with a fresh stop eventfd. */
int control_resume(void)
{
	int e;

	if (ctl.started || ctl.sock < 0)
		return 0;
	if (ctl.stop < 0)
		ctl.stop = eventfd(0, EFD_CLOEXEC);
	if (ctl.stop < 0)
		return -1;
	e = pthread_create(&ctl.thread, NULL, control_thread, NULL);
	if (e) {
		errno = e;
		return -1;
	}
	ctl.started = true;
	return 0;
}

void control_pause(void)
{
	uint64_t one = 1;

	if (ctl.started && write(ctl.stop, &one, sizeof(one)) == sizeof(one))
		pthread_join(ctl.thread, NULL);
	ctl.started = false;
	if (ctl.stop >= 0)
		close(ctl.stop);
	ctl.stop = -1;
}

int control_sock(const char **path)
{
	*path = ctl.path;
	return ctl.sock;
}

void control_forget(void)
{
	control_pause();
	if (ctl.path[0]) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
	}
	ctl.path[0] = '\0';
	ctl.sock = -1;		/* closed with the other fds handed over */
}

int control_adopt(struct vm *vm, const char *path, int sock)
{
	ctl.vm = vm;
	ctl.sock = sock;
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	signal(SIGINT, control_signal);
	signal(SIGTERM, control_signal);
	if (control_resume()) {
		errorf("control socket %s: %s", path, errno_text(errno, (char[64]){ 0 }, 64));
		control_stop();
		return -1;
	}
	say("control socket %s taken over (xvm-vmm stat %s, xvm-vmm update %s)", path,
	    path, path);
	return 0;
}

int control_start(struct vm *vm, const char *path)
{
	int e;

	ctl.vm = vm;
	if (control_bind(path) || control_resume())
		goto fail;
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
	control_pause();
	if (ctl.path[0]) {
		unlink(ctl.path);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		ctl.path[0] = '\0';
	}
	if (ctl.sock >= 0)
		close(ctl.sock);
	ctl.sock = -1;
}
