// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-vmm stat: a live view of a running VMM's statistics, as kvm_stat is
 * KVM's.  It connects to the control socket of `xvm-vmm run --control PATH`
 * (control.c has the protocol), receives the VM's and every vCPU's stats fd
 * (XVM_GET_STATS_FD, read here with libxvm's xvm_stats_* readers) and
 * prints, every interval, one line per counter: its name, its total and its
 * change per second over the interval.  The VM's counters come first, then
 * the vCPUs' summed over the vCPUs (-v: each vCPU's too).  Counters of
 * more than one value (histograms) are not shown; an instant or peak value
 * has no rate.
 *
 *   xvm-vmm stat PATH [-i MS] [-n COUNT] [--once] [--json] [-v]
 *
 * It watches the VMM, not only the VM (whose stats fds it holds, so they
 * keep the VM alive and readable): the control socket's peer, through a
 * pidfd polled as the interval's sleep.  When that process exits, stat says
 * so and ends with status 0.  After a live update too: the socket's peer
 * credentials stay those of the process that called listen(), so a new
 * connection cannot tell who serves PATH now; run stat again.
 *
 * Single-threaded; everything lives in one struct view.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmm.h"
#include "host/fdpass.h"

/* One stats fd (the VM's or a vCPU's): what it describes, two samples. */
struct source {
	int fd;
	struct xvm_stats_header hdr;
	char id[XVM_STATS_NAME_SIZE];
	void *descs;
	uint32_t nr_data;		/* __u64s of its data block */
	uint64_t *prev, *cur;
};

struct view {
	const char *path;
	unsigned int interval_ms, count;
	bool json, verbose;
	struct source src[VMM_CTL_MAX_FDS];	/* [0] the VM, [1..] vCPUs */
	unsigned int nr_src;
	double dt;			/* seconds between prev and cur */
	pid_t vmm_pid;			/* the control socket's peer */
	int vmm_pidfd;			/* its pidfd, or -1: not followed */
};

static void usage_stat(FILE *f)
{
	fprintf(f, "usage: xvm-vmm stat PATH [-i MS] [-n COUNT] [--once] [--json] [-v]\n"
		"  Connects to the control socket PATH of `xvm-vmm run CONFIG --control PATH`\n"
		"  and prints every MS milliseconds (default 1000), COUNT times (default:\n"
		"  until interrupted), one line per counter: name, total, change per second.\n"
		"  VM counters first, then the vCPUs' summed (-v: and per vCPU).\n"
		"  --once   one interval, one report (-n 1)\n"
		"  --json   each report as one line of JSON\n"
		"  It stops when the VMM it connected to exits (after a live update too:\n"
		"  run it again for the VMM that took the VM over).\n"
		"  Exit: 0 done (or the VMM exited), 1 no VMM at PATH or a read failed,\n"
		"  2 usage error.\n");
}

static int stat_error(const struct view *v, const char *what, int e)
{
	char buf[64];

	fprintf(stderr, "xvm-vmm stat: %s: %s: %s\n", v->path, what,
		errno_text(e, buf, sizeof(buf)));
	return EXIT_CHECK;
}

/* Options into v; EXIT_USAGE (after the usage), 0, or -1 for --help. */
static int stat_args(struct view *v, int argc, char **argv)
{
	int i;

	v->interval_ms = 1000;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return -1;
		if (!strcmp(a, "--once"))
			v->count = 1;
		else if (!strcmp(a, "--json"))
			v->json = true;
		else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
			v->verbose = true;
		else if ((!strcmp(a, "-i") || !strcmp(a, "-n")) && i + 1 < argc) {
			char *end;
			long n = strtol(argv[++i], &end, 10);

			if (*end || n < 1 || n > 3600000)
				goto bad;
			*(a[1] == 'i' ? &v->interval_ms : &v->count) = n;
		} else if (a[0] != '-' && !v->path) {
			v->path = a;
		} else {
			goto bad;
		}
	}
	if (v->path)
		return 0;
bad:
	usage_stat(stderr);
	return EXIT_USAGE;
}

/* What is wrong with a reply that came with nr fds, or NULL. */
static const char *reply_error(const struct vmm_ctl_reply *r, unsigned int nr,
			       int *err)
{
	*err = EPROTO;
	if (memcmp(r->magic, VMM_CTL_MAGIC, 4) || r->version != VMM_CTL_VERSION)
		return "not an xvm-vmm control socket";
	if (r->status) {
		*err = r->status;
		return "the VMM refused";
	}
	if (nr < 1 || nr != r->nr_fds)
		return "reply without its fds";
	return NULL;
}

/* The fds of the reply into v->src; 0, or the exit status (printed). */
static int receive_fds(struct view *v, int sock)
{
	int fds[VMM_CTL_MAX_FDS], err = EPROTO;
	const char *what = "no reply";
	struct vmm_ctl_reply r;
	unsigned int i, nr;
	ssize_t n;

	n = fdpass_recv(sock, &r, sizeof(r), fds, VMM_CTL_MAX_FDS, &nr, 0);
	if (n < 0 && errno)
		err = errno;
	if (n == sizeof(r))
		what = reply_error(&r, nr, &err);
	if (what) {
		for (i = 0; i < nr; i++)
			close(fds[i]);
		return stat_error(v, what, err);
	}
	v->nr_src = nr;
	for (i = 0; i < nr; i++)
		v->src[i].fd = fds[i];
	return 0;
}

/* The peer of sock becomes the VMM stat watches (pidfd -1 if it cannot). */
static void stat_peer(struct view *v, int sock)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	v->vmm_pidfd = -1;
	if (!getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) && cred.pid > 0) {
		v->vmm_pid = cred.pid;
		v->vmm_pidfd = pidfd_open(cred.pid, 0);
	}
}

/* Connect, ask for the stats fds, receive them, watch the peer. */
static int stat_connect(struct view *v)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int sock, r;

	if (strlen(v->path) >= sizeof(sa.sun_path))
		return stat_error(v, "connect", ENAMETOOLONG);
	strcpy(sa.sun_path, v->path);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return stat_error(v, "socket", errno);
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa))) {
		r = stat_error(v, "connect (is `xvm-vmm run --control` running?)",
			       errno);
	} else if (send(sock, VMM_CTL_REQ_STAT, VMM_CTL_REQ_LEN, MSG_NOSIGNAL) !=
		   VMM_CTL_REQ_LEN) {
		r = stat_error(v, "send", errno);
	} else {
		errno = 0;
		r = receive_fds(v, sock);
		if (!r)
			stat_peer(v, sock);
	}
	close(sock);
	return r;
}

/* Header, id and descriptors of s, and room for its samples. */
static int source_open(struct source *s)
{
	struct xvm_stats_desc *d;
	uint32_t i, end;

	if (xvm_stats_read_header(s->fd, &s->hdr) ||
	    s->hdr.name_size != XVM_STATS_NAME_SIZE)
		return -1;
	s->descs = malloc(xvm_stats_descs_size(&s->hdr));
	if (!s->descs || xvm_stats_read_id(s->fd, &s->hdr, s->id) ||
	    xvm_stats_read_descs(s->fd, &s->hdr, s->descs))
		return -1;
	s->id[sizeof(s->id) - 1] = '\0';
	for (i = 0; i < s->hdr.num_desc; i++) {
		d = xvm_stats_desc_at(s->descs, &s->hdr, i);
		d->name[s->hdr.name_size - 1] = '\0';
		end = d->offset / sizeof(uint64_t) + d->size;
		if (end > s->nr_data)
			s->nr_data = end;
	}
	s->prev = calloc(s->nr_data + 1, sizeof(uint64_t));
	s->cur = calloc(s->nr_data + 1, sizeof(uint64_t));
	return s->prev && s->cur ? 0 : -1;
}

/* A new sample of every source: cur becomes prev. */
static int sample(struct view *v)
{
	unsigned int i;
	uint64_t *t;

	for (i = 0; i < v->nr_src; i++) {
		struct source *s = &v->src[i];

		t = s->prev;
		s->prev = s->cur;
		s->cur = t;
		if (xvm_stats_read_data(s->fd, &s->hdr, s->cur, s->nr_data))
			return stat_error(v, s->id, errno);
	}
	return 0;
}

/* Descriptor i of s, if it is one value (a counter), else NULL. */
static struct xvm_stats_desc *scalar(struct source *s, uint32_t i)
{
	struct xvm_stats_desc *d = xvm_stats_desc_at(s->descs, &s->hdr, i);

	return d->size == 1 ? d : NULL;
}

static bool has_rate(const struct xvm_stats_desc *d)
{
	return (d->flags & XVM_STATS_TYPE_MASK) == XVM_STATS_TYPE_CUMULATIVE;
}

/* Sources [from, to): the total and change of counter i, summed. */
static void sum(const struct view *v, unsigned int from, unsigned int to,
		uint32_t i, uint64_t *total, uint64_t *delta)
{
	const struct xvm_stats_desc *d;

	*total = *delta = 0;
	for (; from < to; from++) {
		const struct source *s = &v->src[from];

		d = xvm_stats_desc_at(s->descs, &s->hdr, i);
		*total += s->cur[d->offset / sizeof(uint64_t)];
		*delta += s->cur[d->offset / sizeof(uint64_t)] -
			  s->prev[d->offset / sizeof(uint64_t)];
	}
}

/* One counter: a text line, or a JSON member (first: no comma). */
static void print_counter(const struct view *v, const char *indent,
			  const struct xvm_stats_desc *d, uint64_t total,
			  uint64_t delta, bool first)
{
	double rate = v->dt > 0 ? delta / v->dt : 0;

	if (v->json) {
		printf("%s\"%s\":{\"total\":%llu,\"per_sec\":", first ? "" : ",",
		       d->name, (unsigned long long)total);
		if (has_rate(d))
			printf("%.1f}", rate);
		else
			fputs("null}", stdout);
		return;
	}
	if (has_rate(d))
		printf("%s%-*s %14llu %12.1f\n", indent, (int)(34 - strlen(indent)),
		       d->name, (unsigned long long)total, rate);
	else
		printf("%s%-*s %14llu %12s\n", indent, (int)(34 - strlen(indent)),
		       d->name, (unsigned long long)total, "-");
}

/* The counters of sources [from, to), summed; indent for the text. */
static void print_counters(const struct view *v, unsigned int from,
			   unsigned int to, const char *indent)
{
	struct source *s = (struct source *)&v->src[from];
	uint64_t total, delta;
	bool first = true;
	uint32_t i;

	for (i = 0; i < s->hdr.num_desc; i++) {
		if (!scalar(s, i))
			continue;
		sum(v, from, to, i, &total, &delta);
		print_counter(v, indent, scalar(s, i), total, delta, first);
		first = false;
	}
}

/* A report as one line of JSON. */
static void print_json(const struct view *v)
{
	unsigned int i;

	printf("{\"id\":\"%s\",\"interval_ms\":%.0f,\"vcpus\":%u,\"vm\":{",
	       v->src[0].id, v->dt * 1000, v->nr_src - 1);
	print_counters(v, 0, 1, "");
	fputs("},\"vcpu\":{", stdout);
	if (v->nr_src > 1)
		print_counters(v, 1, v->nr_src, "");
	fputs("},\"per_vcpu\":[", stdout);
	for (i = 1; i < v->nr_src; i++) {
		printf("%s{\"id\":\"%s\",\"counters\":{", i > 1 ? "," : "",
		       v->src[i].id);
		print_counters(v, i, i + 1, "");
		fputs("}}", stdout);
	}
	fputs("]}\n", stdout);
}

/* A report: VM counters, the vCPUs' summed, each vCPU's with -v. */
static void print_report(const struct view *v)
{
	unsigned int i;

	if (v->json) {
		print_json(v);
		fflush(stdout);
		return;
	}
	printf("%-34s %14s %12s\n", v->src[0].id, "total", "per second");
	print_counters(v, 0, 1, " ");
	if (v->nr_src > 1) {
		printf(" vCPUs (%u, summed):\n", v->nr_src - 1);
		print_counters(v, 1, v->nr_src, "  ");
	}
	for (i = 1; v->verbose && i < v->nr_src; i++) {
		printf(" %s:\n", v->src[i].id);
		print_counters(v, i, i + 1, "  ");
	}
	printf("\n");
	fflush(stdout);
}

/* Waits one interval, or until the watched VMM exits: 1 then (printed). */
static int stat_wait(struct view *v)
{
	struct pollfd p = { .fd = v->vmm_pidfd, .events = POLLIN };

	/* A negative fd is ignored: the interval then passes as a sleep. */
	if (poll(&p, 1, v->interval_ms) <= 0 || !(p.revents & POLLIN))
		return 0;
	fprintf(stderr, "xvm-vmm stat: %s: the VMM (pid %d) exited\n", v->path,
		(int)v->vmm_pid);
	return 1;
}

/* Samples every interval, a report each, count times (0: forever). */
static int stat_loop(struct view *v)
{
	uint64_t t0 = now_ns(), t1;
	unsigned int n;

	if (sample(v))
		return EXIT_CHECK;
	for (n = 0; !v->count || n < v->count; n++) {
		if (stat_wait(v))
			return 0;
		if (sample(v))
			return EXIT_CHECK;
		t1 = now_ns();
		v->dt = (double)(t1 - t0) / 1e9;
		t0 = t1;
		print_report(v);
	}
	return 0;
}

int cmd_stat(int argc, char **argv)
{
	static struct view v;
	unsigned int i;
	int r = stat_args(&v, argc, argv);

	if (r < 0) {
		usage_stat(stdout);
		return 0;
	}
	if (r)
		return r;
	v.vmm_pidfd = -1;
	r = stat_connect(&v);
	if (r)
		return r;
	for (i = 0; i < v.nr_src; i++) {
		if (source_open(&v.src[i]))
			return stat_error(&v, "reading a stats fd", errno);
		/* the vCPUs are summed counter by counter: one layout */
		if (i > 1 && v.src[i].hdr.num_desc != v.src[1].hdr.num_desc)
			return stat_error(&v, v.src[i].id, EPROTO);
	}
	return stat_loop(&v);
}
