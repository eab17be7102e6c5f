// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-vmm migrate / incoming: a VM leaves one VMM at its script's `migrate`
 * step and goes on in another, over a socket (docs/state-file.md, "The
 * migration stream").
 *
 *   xvm-vmm migrate CONFIG ADDR [--save FILE] [--timeout S] [-v]
 *       build the VM, run the script up to its migrate step (all of it if
 *       there is none), stop the vCPUs, send the state file - with the
 *       "script" group saying where the script resumes - to ADDR and wait
 *       for the target's verdict; tear the VM down only after an "ok"
 *   xvm-vmm incoming ADDR [--check] [--save FILE] [--timeout S] [-v]
 *       listen on ADDR for one connection, receive the stream, check all of
 *       it and restore it into a fresh VM exactly as `restore` does, reply,
 *       then run the script's steps after the migrate step
 *
 * ADDR is unix:PATH or tcp:IPV4:PORT.  The stream: a 16-byte header (magic
 * "XVMS", version, length), the state file; the reply: 16 bytes (magic
 * "XVMR", version, status 0 or an errno, message length) and the message.
 * Integers are little-endian.  Every wait is bounded: the connection (and
 * the reply) by --timeout, each transfer by MIG_IO_TIMEOUT of silence, so a
 * dead peer cannot hang either side.  The target's refusals - the lines it
 * prints on stderr - are the message, which the source prints and exits 1
 * with (its VM was intact until then).  Exit status: as save / restore.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "state.h"

#define MIG_MAGIC		"XVMS"
#define MIG_REPLY_MAGIC		"XVMR"
#define MIG_VERSION		1
#define MIG_MSG_MAX		1024u	/* bytes of the reply's message */
#define MIG_IO_TIMEOUT		10	/* s without progress: the peer is gone */
#define MIG_TIMEOUT		60	/* s: --timeout's default */

struct mig_hdr {
	char magic[4];		/* MIG_MAGIC */
	uint32_t version;	/* MIG_VERSION */
	uint64_t len;		/* the state file's bytes, <= STATE_MAX_FILE */
};

struct mig_reply {
	char magic[4];		/* MIG_REPLY_MAGIC */
	uint32_t version;	/* MIG_VERSION */
	int32_t status;		/* 0: the target runs the VM; else an errno */
	uint32_t msg_len;	/* <= MIG_MSG_MAX bytes follow */
};

_Static_assert(sizeof(struct mig_hdr) == 16 && sizeof(struct mig_reply) == 16,
	       "the wire layout");

struct mig_addr {
	const char *text;
	struct sockaddr_storage sa;
	socklen_t len;
	const char *path;	/* unix: the socket file */
};

struct mig_opts {
	const char *pos[2], *save;
	unsigned int npos, timeout;
	bool check;
};

/* ---- addresses and sockets ---- */

static int addr_unix(struct mig_addr *a, const char *path)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&a->sa;

	if (!*path || strlen(path) >= sizeof(un->sun_path))
		return -1;
	un->sun_family = AF_UNIX;
	strcpy(un->sun_path, path);
	a->len = sizeof(*un);
	a->path = un->sun_path;
	return 0;
}

/* tcp:IPV4:PORT, numeric (the sandbox guests have no resolver). */
static int addr_tcp(struct mig_addr *a, const char *hostport)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&a->sa;
	const char *colon = strrchr(hostport, ':');
	char host[INET_ADDRSTRLEN], *end;
	unsigned long port;

	if (!colon || colon - hostport >= (long)sizeof(host))
		return -1;
	memcpy(host, hostport, colon - hostport);
	host[colon - hostport] = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || !port || port > 65535 ||
	    inet_pton(AF_INET, host, &in->sin_addr) != 1)
		return -1;
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	a->len = sizeof(*in);
	return 0;
}

static int addr_parse(struct mig_addr *a, const char *text)
{
	memset(a, 0, sizeof(*a));
	a->text = text;
	if (!strncmp(text, "unix:", 5) ? addr_unix(a, text + 5) :
	    !strncmp(text, "tcp:", 4) ? addr_tcp(a, text + 4) : -1) {
		fprintf(stderr, "xvm-vmm: '%s': expected unix:PATH or tcp:IPV4:PORT\n", text);
		return -1;
	}
	return 0;
}

static int sock_fail(const struct mig_addr *a, const char *what, int fd)
{
	char err[96];

	errorf("%s: %s: %s", a->text, what, errno_text(errno, err, sizeof(err)));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The listening socket; a unix one is 0600 and replaces a stale socket. */
static int mig_listen(const struct mig_addr *a)
{
	int one = 1, fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct stat sb;
	mode_t old;
	int r;

	if (fd < 0)
		return sock_fail(a, "socket", -1);
	if (a->path && !lstat(a->path, &sb) && S_ISSOCK(sb.st_mode))
		unlink(a->path);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	old = umask(0177);
	r = bind(fd, (const struct sockaddr *)&a->sa, a->len);
	umask(old);
	if (r || listen(fd, 1))
		return sock_fail(a, r ? "bind" : "listen", fd);
	return fd;
}

/* Silence on fd for MIG_IO_TIMEOUT s ends a transfer (EAGAIN). */
static void io_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = MIG_IO_TIMEOUT };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* One connection within timeout s; the listening socket is closed. */
static int mig_accept(const struct mig_addr *a, int lfd, unsigned int timeout)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	int fd = -1, r = poll(&pfd, 1, timeout * 1000);

	if (r > 0)
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (r == 0)
		errno = ETIMEDOUT;
	if (fd < 0)
		sock_fail(a, "waiting for the source", -1);
	else
		io_timeouts(fd);
	close(lfd);
	if (a->path)
		unlink(a->path);
	return fd;
}

/* The target may not listen yet (it boots): retry until timeout s. */
static int mig_connect(const struct mig_addr *a, unsigned int timeout)
{
	uint64_t end = now_ns() + timeout * SEC;
	struct timespec pause = { .tv_nsec = 100 * MSEC };
	int fd;

	for (;;) {
		fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return sock_fail(a, "socket", -1);
		if (!connect(fd, (const struct sockaddr *)&a->sa, a->len))
			break;
		if ((errno != ECONNREFUSED && errno != ENOENT && errno != EHOSTUNREACH &&
		     errno != ENETUNREACH && errno != ETIMEDOUT) || now_ns() > end)
			return sock_fail(a, "connect", fd);
		close(fd);
		nanosleep(&pause, NULL);
	}
	io_timeouts(fd);
	return fd;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* len bytes; *got how many came (short: EOF, or errno set). */
static int recv_all(int fd, void *buf, size_t len, size_t *got)
{
	ssize_t n;

	for (*got = 0; *got < len; *got += n) {
		n = recv(fd, (char *)buf + *got, len - *got, 0);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			if (!n)
				errno = 0;
			return -1;
		}
	}
	return 0;
}

/* Why a transfer of want bytes stopped after got: EOF or timeout. */
static const char *short_why(size_t got, uint64_t want, char *buf, size_t len)
{
	char err[96];

	if (errno == EAGAIN || errno == EWOULDBLOCK)
		snprintf(buf, len, "timed out after %zu of %llu bytes: the peer is gone",
			 got, (unsigned long long)want);
	else if (errno)
		snprintf(buf, len, "after %zu of %llu bytes: %s", got,
			 (unsigned long long)want, errno_text(errno, err, sizeof(err)));
	else
		snprintf(buf, len, "truncated: the stream ended after %zu of %llu bytes "
			 "(did the peer die?)", got, (unsigned long long)want);
	return buf;
}

/* ---- the command lines ---- */

static int mig_args(int argc, char **argv, struct mig_opts *o, unsigned int npos,
		    bool incoming)
{
	char *end;
	int i;

	memset(o, 0, sizeof(*o));
	o->timeout = MIG_TIMEOUT;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			opt_verbose = 1;
		} else if (!strcmp(argv[i], "--save") && i + 1 < argc) {
			o->save = argv[++i];
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			o->timeout = strtoul(argv[++i], &end, 10);
			if (*end || !o->timeout || o->timeout > 3600)
				return -1;
		} else if (incoming && !strcmp(argv[i], "--check")) {
			o->check = true;
		} else if (argv[i][0] != '-' && o->npos < npos) {
			o->pos[o->npos++] = argv[i];
		} else {
			return -1;
		}
	}
	return o->npos == npos ? 0 : -1;
}

static void usage_migrate(FILE *f)
{
	fprintf(f, "usage: xvm-vmm migrate CONFIG ADDR [--save FILE] [--timeout S] [-v]\n"
		"       xvm-vmm incoming ADDR [--check] [--save FILE] [--timeout S] [-v]\n"
		"  ADDR: unix:PATH or tcp:IPV4:PORT\n"
		"  migrate: create the VM CONFIG describes, run its script up to its 'migrate'\n"
		"        step (all of it if there is none), stop the vCPUs and send the VM's\n"
		"        state to ADDR; the VM goes only once the target said ok. --save FILE:\n"
		"        the state sent, also as a state file\n"
		"  incoming: listen on ADDR for one source, restore its VM into a fresh one\n"
		"        (as restore), reply, then run the script's steps after 'migrate';\n"
		"        --check: first save the restored state again and refuse the VM\n"
		"        unless it is the stream, byte for byte; --save FILE: that state\n"
		"  --timeout S: wait at most S s (default %d) for the peer; a transfer ends\n"
		"        after %d s without progress\n"
		"  Exit: 0 done, 1 setup, kernel refusal, a failed check or the target refused\n"
		"        (its message on stderr), 2 usage error or a bad stream or state file.\n",
		MIG_TIMEOUT, MIG_IO_TIMEOUT);
}

/* Both ends: a VM bound to this host's devices cannot move. */
static int migratable(const struct vmm_config *c)
{
	if (c->nr_vfio) {
		fprintf(stderr, "%s:%d: vfio %s: a VM with a VFIO device cannot migrate "
			"(the device, its DMA mappings and MSI-X routes belong to this host)\n",
			c->file, c->vfio[0].line, c->vfio[0].pci.bdf);
		return -1;
	}
	if (c->nr_iommu) {
		fprintf(stderr, "%s:%d: iommu %s: a VM with an xvm-iommu device cannot "
			"migrate (its mappings are not in the state file)\n", c->file,
			c->iommu[0].line, c->iommu[0].pci.bdf);
		return -1;
	}
	return 0;
}

/* ---- the source ---- */

/* The header and buf, then (within timeout s) the verdict: 0 ok, else -1. */
static int mig_send(const struct mig_addr *a, int fd, const char *buf, size_t len,
		    unsigned int timeout)
{
	struct timeval tv = { .tv_sec = timeout };
	struct mig_hdr h = { .magic = MIG_MAGIC, .version = htole32(MIG_VERSION),
			     .len = htole64(len) };
	char msg[MIG_MSG_MAX + 1], why[160], err[96];
	struct mig_reply r;
	size_t got;

	if (send_all(fd, &h, sizeof(h)) || send_all(fd, buf, len))
		return sock_fail(a, "sending the state", -1);
	say("sent %zu bytes; waiting for the target's verdict", sizeof(h) + len);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (recv_all(fd, &r, sizeof(r), &got)) {
		errorf("%s: no verdict from the target (%s)", a->text,
		       short_why(got, sizeof(r), why, sizeof(why)));
		return -1;
	}
	if (memcmp(r.magic, MIG_REPLY_MAGIC, 4) || le32toh(r.version) != MIG_VERSION ||
	    le32toh(r.msg_len) > MIG_MSG_MAX) {
		errorf("%s: the reply is not an xvm-vmm incoming verdict (version %u)",
		       a->text, le32toh(r.version));
		return -1;
	}
	got = 0;
	recv_all(fd, msg, le32toh(r.msg_len), &got);
	msg[got] = 0;
	if (!r.status)
		return 0;
	errorf("%s: the target refused the VM (%s):\n%s", a->text,
	       errno_text((int32_t)le32toh(r.status), err, sizeof(err)), msg);
	return -1;
}

/* Stopped at the migrate step: the state, sent; 0 when the target has it. */
static int migrate_out(struct vm *vm, const struct mig_addr *a,
		       const struct mig_opts *o, unsigned int next)
{
	size_t len;
	char *buf;
	int fd, rc;

	vcpus_stop(vm);
	state_script_set_next(next);
	if (next < vm->cfg->nr_steps)
		section("migrating to %s (vCPUs stopped; the script resumes at step %u "
			"of %u)", a->text, next + 1, vm->cfg->nr_steps);
	else
		section("migrating to %s (vCPUs stopped; the script is over)", a->text);
	if ((o->save && state_write(vm, o->save)) || state_serialize(vm, &buf, &len))
		return -1;
	fd = mig_connect(a, o->timeout);
	rc = fd < 0 ? -1 : mig_send(a, fd, buf, len, o->timeout);
	if (fd >= 0)
		close(fd);
	free(buf);
	if (rc)
		say("the VM stays here, intact, until this VMM exits");
	else
		say("the target runs the VM now: releasing it here");
	return rc;
}

int cmd_migrate(int argc, char **argv)
{
	const struct vmm_config *cfg;
	static struct vm vm;
	struct mig_addr a;
	struct mig_opts o;
	unsigned int next;
	int failed;

	if (wants_help(argc, argv) || mig_args(argc, argv, &o, 2, false)) {
		usage_migrate(wants_help(argc, argv) ? stdout : stderr);
		return wants_help(argc, argv) ? 0 : EXIT_USAGE;
	}
	if (addr_parse(&a, o.pos[1]))
		return EXIT_USAGE;
	cfg = state_config_load(o.pos[0]);
	if (!cfg || migratable(cfg))
		return EXIT_USAGE;
	out_init(cfg->file);
	failed = vm_setup(&vm, cfg, 0);
	if (!failed) {
		next = script_run_from(&vm, 0, true);
		failed = migrate_out(&vm, &a, &o, next);
	}
	section("teardown");
	vm_teardown(&vm);
	return out_finish(failed);
}

/* ---- the target ---- */

/* What the target prints on stderr until it replies: also the message. */
static struct {
	FILE *real, *mem;
	char *buf;
	size_t len;
} cap;

static void capture_start(void)
{
	cap.mem = open_memstream(&cap.buf, &cap.len);
	if (cap.mem) {
		cap.real = stderr;
		stderr = cap.mem;
	}
}

/* Back to the real stderr (which gets it all); msg: the lines but -v's trace. */
static void capture_end(char *msg, size_t size)
{
	char *line, *save;
	size_t n = 0;

	msg[0] = 0;
	if (!cap.mem)
		return;
	stderr = cap.real;
	fclose(cap.mem);
	cap.mem = NULL;
	fwrite(cap.buf, 1, cap.len, stderr);
	for (line = strtok_r(cap.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "  ioctl ", 8) && n + 1 < size)
			n += snprintf(msg + n, size - n, "%s%s", n ? "\n" : "", line);
	free(cap.buf);
}

/* The header, then the file into *buf; an errno (EPROTO...), message printed. */
static int mig_receive(const struct mig_addr *a, int fd, char **buf, size_t *len)
{
	struct mig_hdr h;
	char why[160];
	size_t got;

	if (recv_all(fd, &h, sizeof(h), &got)) {
		errorf("%s: header: %s", a->text, short_why(got, sizeof(h), why, sizeof(why)));
		return EPROTO;
	}
	if (memcmp(h.magic, MIG_MAGIC, 4)) {
		errorf("%s: not an xvm-vmm migration stream", a->text);
		return EPROTO;
	}
	if (le32toh(h.version) != MIG_VERSION) {
		errorf("%s: stream version %u is not supported (this xvm-vmm reads version %d)",
		       a->text, le32toh(h.version), MIG_VERSION);
		return EPROTONOSUPPORT;
	}
	*len = le64toh(h.len);
	if (*len > STATE_MAX_FILE) {
		errorf("%s: %zu bytes: larger than a state file can be (%u)", a->text,
		       *len, STATE_MAX_FILE);
		return EMSGSIZE;
	}
	*buf = malloc(*len + 1);
	if (!*buf)
		return ENOMEM;
	if (recv_all(fd, *buf, *len, &got)) {
		errorf("%s: %s", a->text, short_why(got, *len, why, sizeof(why)));
		return EPROTO;
	}
	(*buf)[*len] = 0;
	return 0;
}

/* --check: the restored VM saves as the very bytes it came as. */
static int same_again(struct vm *vm, const char *buf, size_t len)
{
	size_t n;
	char *again;
	int rc;

	if (state_serialize(vm, &again, &n))
		return -1;
	rc = n == len && !memcmp(again, buf, len) ? 0 : -1;
	free(again);
	if (rc)
		errorf("check: the restored VM saves as %zu bytes that differ from the "
		       "%zu bytes received", n, len);
	else
		created("check: the restored state saves as the stream, byte for byte");
	return rc;
}

/* Stream -> a restored VM; 0 or the errno for the reply (msg: why). */
static int incoming_restore(struct vm *vm, const struct mig_addr *a, int fd,
			    const struct mig_opts *o, char *msg, size_t size)
{
	const struct vmm_config *cfg = NULL;
	char *buf = NULL;
	size_t len = 0;
	int err;

	capture_start();
	err = mig_receive(a, fd, &buf, &len);
	if (!err) {
		cfg = state_parse(a->text, buf, len);
		err = !cfg || migratable(cfg) ? EBADMSG : 0;
	}
	if (!err) {
		out_init(cfg->file);
		section("restoring the VM from %s (%zu bytes)", a->text, len);
		errno = 0;
		if (vm_setup(vm, cfg, VM_SETUP_RESTORE) || state_restore(vm) ||
		    (o->check && same_again(vm, buf, len)) ||
		    (o->save && state_write(vm, o->save)))
			err = errno ? errno : EIO;
	}
	capture_end(msg, size);
	free(buf);
	if (!err && vcpus_start(vm)) {
		err = errno ? errno : EIO;
		snprintf(msg, size, "xvm-vmm: starting the vCPU threads failed");
	}
	return err;
}

/* The verdict; -1 if it did not reach the source (which then keeps the VM). */
static int mig_reply(int fd, int status, const char *msg)
{
	size_t n = strlen(msg);
	struct mig_reply r = { .magic = MIG_REPLY_MAGIC, .version = htole32(MIG_VERSION),
			       .status = htole32(status), .msg_len = htole32(n) };

	if (!send_all(fd, &r, sizeof(r)) && !send_all(fd, msg, n))
		return 0;
	errorf("the verdict did not reach the source (%s): the VM does not run here",
	       strerror(errno));
	return -1;
}

int cmd_incoming(int argc, char **argv)
{
	char msg[MIG_MSG_MAX];
	static struct vm vm;
	struct mig_addr a;
	struct mig_opts o;
	int fd, err;

	if (wants_help(argc, argv) || mig_args(argc, argv, &o, 1, true)) {
		usage_migrate(wants_help(argc, argv) ? stdout : stderr);
		return wants_help(argc, argv) ? 0 : EXIT_USAGE;
	}
	if (addr_parse(&a, o.pos[0]))
		return EXIT_USAGE;
	fd = mig_listen(&a);
	if (fd < 0)
		return EXIT_CHECK;
	section("waiting for the VM on %s (at most %u s)", a.text, o.timeout);
	fd = mig_accept(&a, fd, o.timeout);
	if (fd < 0)
		return EXIT_CHECK;
	err = incoming_restore(&vm, &a, fd, &o, msg, sizeof(msg));
	if (mig_reply(fd, err, err ? msg : "") && !err)
		err = EPIPE;
	close(fd);
	if (!err && state_script_next() < vm.cfg->nr_steps)
		script_run_from(&vm, state_script_next(), false);
	else if (!err)
		say("the script was over on the source: nothing left to run");
	if (vm.cfg) {
		section("teardown");
		vm_teardown(&vm);
	}
	if (err == EPROTO || err == EPROTONOSUPPORT || err == EMSGSIZE || err == EBADMSG)
		return EXIT_USAGE;
	return out_finish(err);
}
