// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-state-fuzz: hostile state files against `xvm-vmm restore`.
 *
 *   xvm-state-fuzz [--seed N] [--duration S] [--iterations N] [--timeout S]
 *                  [--golden N] [--configs a,b,...] [--state FILE]...
 *                  [--replay INDEX] [-v]
 *
 * The bases are valid state files: `xvm-vmm save` of each example config
 * ($XVM_EXAMPLES, default /opt/xvm/examples: evtchn gic msix iommu demo;
 * those that cannot be saved or restored here are left out and said so), or
 * the files --state names.  Variant i is state-mutate.c's mutation i of
 * base i % bases under the seed, restored with `xvm-vmm restore FILE --check`
 * ($XVM_VMM, default /opt/xvm/bin/xvm-vmm).  It must exit 0, 1 or 2 within
 * --timeout (default 60 s), never by a signal, and a refusal (2) must name
 * the file (the "FILE: WHERE: message" of docs/state-file.md).  Every
 * --golden variants (default 20; 0: never) the unmutated base is restored
 * and must exit 0: no variant may leave the kernel or the devices wedged.
 *
 * A failure prints the variant's mutations, the VMM's stderr, the variant
 * itself in base64 between XVM-STATE-VARIANT-BEGIN/END lines (run-guest.sh
 * writes it to build/logs/) and the replay command; the run stops there.
 * The last line is the summary:
 *
 *   xvm-state-fuzz: seed=S duration=Ds bases=B variants=V exit0=A exit1=B
 *   exit2=C (json=J checksum=K groups=G) golden=N failures=F
 *
 * json/checksum/groups say where the refusals came from: the JSON syntax,
 * the checksum line, or past the checksum (header, groups, the config) -
 * how deep the variants got.  Exit status: 0 no failure, 1 a failure or
 * nothing to fuzz, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "state-mutate.h"
#include "vmm/state-csum.h"

#define WORK		"/tmp/xvm-state-fuzz"
#define MAX_BASES	16
#define ERR_MAX		4096	/* bytes of the VMM's stderr kept */

static const char *const default_configs = "evtchn,gic,msix,iommu,demo";

static struct opts {
	uint64_t seed;
	unsigned int duration, timeout, golden, verbose;
	uint64_t iterations;
	long long replay;	/* -1: none */
	const char *configs;
	const char *states[MAX_BASES];
	unsigned int nr_states;
} o = { .duration = 60, .timeout = 60, .golden = 20, .replay = -1 };

static struct base {
	char name[64];
	char *buf;
	size_t len;
	char path[128];
} bases[MAX_BASES];
static unsigned int nr_bases;

static struct counts {
	uint64_t variants, exit[3], json, csum, groups, golden, failures;
} cnt;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && *v ? v : dflt;
}

/* The result of one xvm-vmm run. */
struct run {
	int status;		/* wait status */
	bool hung;		/* killed at the timeout */
	char err[ERR_MAX];	/* the start of its stderr */
};

/* Waits for pid up to timeout seconds; kills its process group after. */
static void wait_child(pid_t pid, unsigned int timeout, struct run *r)
{
	double end = now_s() + timeout;

	r->hung = false;
	while (waitpid(pid, &r->status, WNOHANG) == 0) {
		if (now_s() > end) {
			r->hung = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
				;
			return;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
}

/* xvm-vmm argv[1..]; stdout dropped, stderr kept in r->err. */
static void run_vmm(const char *const *args, struct run *r)
{
	const char *vmm = env_or("XVM_VMM", "/opt/xvm/bin/xvm-vmm");
	int efd = open(WORK "/stderr", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *argv[8] = { "xvm-vmm" };
	unsigned int i;
	ssize_t n;
	pid_t pid;

	for (i = 0; args[i] && i < 6; i++)
		argv[i + 1] = args[i];
	pid = efd < 0 ? -1 : fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		setpgid(0, 0);
		dup2(null, 1);
		dup2(efd, 2);
		execv(vmm, (char *const *)argv);
		dprintf(2, "xvm-state-fuzz: cannot run %s: %s\n", vmm, strerror(errno));
		_exit(127);
	}
	r->err[0] = 0;
	r->status = 127 << 8;
	r->hung = false;
	if (pid < 0) {
		snprintf(r->err, sizeof(r->err), "fork/open: %s", strerror(errno));
	} else {
		wait_child(pid, o.timeout, r);
		n = pread(efd, r->err, sizeof(r->err) - 1, 0);
		r->err[n > 0 ? n : 0] = 0;
	}
	if (efd >= 0)
		close(efd);
}

static int write_file(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	if (fwrite(buf, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

static char *read_all(const char *path, size_t *len)
{
	struct stat sb;
	char *buf;
	FILE *f = fopen(path, "r");

	if (!f || fstat(fileno(f), &sb) || !(buf = malloc(sb.st_size + 1))) {
		if (f)
			fclose(f);
		return NULL;
	}
	*len = fread(buf, 1, sb.st_size, f);
	buf[*len] = 0;
	fclose(f);
	return buf;
}

static bool exited(const struct run *r, int code)
{
	return !r->hung && WIFEXITED(r->status) && WEXITSTATUS(r->status) == code;
}

/* The first non-empty line of s, for a message. */
static const char *first_line(const char *s, char *buf, size_t size)
{
	s += strspn(s, "\n");
	snprintf(buf, size, "%.*s", (int)strcspn(s, "\n"), s);
	return buf;
}

static int add_base(const char *name, const char *path)
{
	struct base *b = &bases[nr_bases];

	if (nr_bases == MAX_BASES)
		return -1;
	b->buf = read_all(path, &b->len);
	if (!b->buf)
		return -1;
	snprintf(b->name, sizeof(b->name), "%s", name);
	snprintf(b->path, sizeof(b->path), "%s", path);
	printf("xvm-state-fuzz: base %s: %zu bytes, crc32 %08x\n", name, b->len,
	       state_crc32(b->buf, b->len));
	nr_bases++;
	return 0;
}

/* Example name saved and restored unmutated (exit 0 both), as a base. */
static void save_example(const char *name)
{
	char conf[256], file[128], line[256];
	const char *save[] = { "save", conf, file, NULL };
	const char *restore[] = { "restore", file, "--check", NULL };
	struct run r;

	snprintf(conf, sizeof(conf), "%s/%s.conf", env_or("XVM_EXAMPLES", "/opt/xvm/examples"),
		 name);
	snprintf(file, sizeof(file), WORK "/base-%s.state", name);
	if (access(conf, R_OK)) {
		printf("xvm-state-fuzz: %s: no %s, left out\n", name, conf);
		return;
	}
	run_vmm(save, &r);
	if (!exited(&r, 0)) {
		printf("xvm-state-fuzz: %s: save failed (status 0x%x): %s; left out\n", name,
		       r.status, first_line(r.err, line, sizeof(line)));
		return;
	}
	run_vmm(restore, &r);
	if (!exited(&r, 0)) {
		printf("xvm-state-fuzz: %s: the saved file does not restore (status 0x%x): %s; "
		       "left out\n", name, r.status, first_line(r.err, line, sizeof(line)));
		return;
	}
	if (add_base(name, file))
		printf("xvm-state-fuzz: %s: cannot read %s, left out\n", name, file);
}

static void make_bases(void)
{
	char list[256], *name, *save = NULL;
	unsigned int i;

	for (i = 0; i < o.nr_states; i++) {
		const char *slash = strrchr(o.states[i], '/');

		if (add_base(slash ? slash + 1 : o.states[i], o.states[i]))
			printf("xvm-state-fuzz: cannot read %s, left out\n", o.states[i]);
	}
	if (o.nr_states)
		return;
	snprintf(list, sizeof(list), "%s", o.configs);
	for (name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save))
		save_example(name);
}

/* The variant in base64 between markers: the console log carries it home. */
static void dump_variant(uint64_t index, const char *buf, size_t len)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[80];
	size_t i, k = 0;

	printf("XVM-STATE-VARIANT-BEGIN seed=%llu index=%llu bytes=%zu\n",
	       (unsigned long long)o.seed, (unsigned long long)index, len);
	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint8_t)buf[i] << 16 | (i + 1 < len ? (uint8_t)buf[i + 1] << 8 : 0) |
			     (i + 2 < len ? (uint8_t)buf[i + 2] : 0);

		line[k++] = b64[v >> 18];
		line[k++] = b64[(v >> 12) & 63];
		line[k++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		line[k++] = i + 2 < len ? b64[v & 63] : '=';
		if (k == 76 || i + 3 >= len) {
			printf("XVM-STATE-B64 %.*s\n", (int)k, line);
			k = 0;
		}
	}
	printf("XVM-STATE-VARIANT-END\n");
}

/* Where a refusal came from, from its message. */
static void count_refusal(const char *err)
{
	if (strstr(err, "checksum:"))
		cnt.csum++;
	else if (strstr(err, "truncated") || strstr(err, "not a state file"))
		cnt.json++;
	else
		cnt.groups++;
}

/* What is wrong with r for a variant at path, or NULL (and counted). */
static const char *judge(const struct run *r, const char *path, char *why, size_t size)
{
	int code;

	if (r->hung)
		return snprintf(why, size, "no exit after %u s (hang)", o.timeout), why;
	if (WIFSIGNALED(r->status))
		return snprintf(why, size, "killed by signal %d (%s)", WTERMSIG(r->status),
				strsignal(WTERMSIG(r->status))), why;
	code = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
	if (code < 0 || code > 2)
		return snprintf(why, size, "exit status %d (expected 0, 1 or 2)", code), why;
	if (code == 2 && !(strstr(r->err, path) && strstr(r->err, ": ")))
		return snprintf(why, size, "refused without naming %s (no FILE: WHERE: message)",
				path), why;
	cnt.exit[code]++;
	if (code == 2)
		count_refusal(r->err);
	return NULL;
}

static void report(uint64_t index, const struct base *b, const char *what, const char *why,
		   const struct run *r, const char *buf, size_t len)
{
	cnt.failures++;
	printf("xvm-state-fuzz: FAIL: variant %llu (base %s; %s): %s\n",
	       (unsigned long long)index, b->name, what, why);
	printf("xvm-state-fuzz: xvm-vmm stderr:\n%s%s", r->err,
	       r->err[0] && r->err[strlen(r->err) - 1] != '\n' ? "\n" : "");
	if (buf)
		dump_variant(index, buf, len);
	printf("xvm-state-fuzz: replay: xvm-state-fuzz --seed %llu --replay %llu "
	       "(make fuzz SEED=%llu STATE_SHARE=100 STATE_FUZZ_ARGS='--replay %llu')\n",
	       (unsigned long long)o.seed, (unsigned long long)index,
	       (unsigned long long)o.seed, (unsigned long long)index);
}

/* Variant index: made, restored, judged; 0 or -1 (a failure, reported). */
static int one_variant(uint64_t index)
{
	static struct sm_buf v;
	const struct base *b = &bases[index % nr_bases];
	char path[64], what[512], why[160], line[96];
	const char *args[] = { "restore", path, "--check", NULL };
	struct run r;
	const char *bad;

	snprintf(path, sizeof(path), WORK "/variant-%llu.state", (unsigned long long)index);
	sm_mutate(o.seed, index, b->buf, b->len, &v, what, sizeof(what));
	if (write_file(path, v.p, v.len)) {
		printf("xvm-state-fuzz: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	run_vmm(args, &r);
	cnt.variants++;
	bad = judge(&r, path, why, sizeof(why));
	if (o.verbose || o.replay >= 0)
		printf("xvm-state-fuzz: variant %llu (base %s; %s): status 0x%x: %s\n",
		       (unsigned long long)index, b->name, what, r.status,
		       first_line(r.err, line, sizeof(line)));
	if (o.replay >= 0)
		printf("%s", r.err);
	if (bad)
		report(index, b, what, bad, &r, v.p, v.len);
	else
		unlink(path);
	return bad ? -1 : 0;
}

/* The unmutated base of variant index restores as it did (exit 0). */
static int golden(uint64_t index)
{
	const struct base *b = &bases[index % nr_bases];
	const char *args[] = { "restore", b->path, "--check", NULL };
	struct run r;

	run_vmm(args, &r);
	cnt.golden++;
	if (exited(&r, 0))
		return 0;
	report(index, b, "the unmutated base, after the variants up to this one",
	       "no longer restores (status not exit 0): a variant wedged the VM or a device",
	       &r, NULL, 0);
	return -1;
}

static void summary(double secs)
{
	printf("xvm-state-fuzz: seed=%llu duration=%.0fs bases=%u variants=%llu exit0=%llu "
	       "exit1=%llu exit2=%llu (json=%llu checksum=%llu groups=%llu) golden=%llu "
	       "failures=%llu\n", (unsigned long long)o.seed, secs, nr_bases,
	       (unsigned long long)cnt.variants, (unsigned long long)cnt.exit[0],
	       (unsigned long long)cnt.exit[1], (unsigned long long)cnt.exit[2],
	       (unsigned long long)cnt.json, (unsigned long long)cnt.csum,
	       (unsigned long long)cnt.groups, (unsigned long long)cnt.golden,
	       (unsigned long long)cnt.failures);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xvm-state-fuzz [--seed N] [--duration S] [--iterations N] "
		"[--timeout S]\n"
		"                      [--golden N] [--configs a,b,...] [--state FILE]... "
		"[--replay INDEX] [-v]\n"
		"  hostile variants of saved state files against xvm-vmm restore --check\n"
		"  (tools/fuzz/state-fuzz.c says what is checked); defaults: a random seed,\n"
		"  60 s (the bases' save counts), timeout 60 s, a golden restore every 20\n"
		"  variants, configs %s\n", default_configs);
}

static int parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-v")) {
			o.verbose = 1;
			continue;
		}
		if (!v)
			return -1;
		i++;
		if (!strcmp(a, "--seed"))
			o.seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--duration"))
			o.duration = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--iterations"))
			o.iterations = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--timeout"))
			o.timeout = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--golden"))
			o.golden = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--configs"))
			o.configs = v;
		else if (!strcmp(a, "--replay"))
			o.replay = strtoll(v, NULL, 0);
		else if (!strcmp(a, "--state") && o.nr_states < MAX_BASES)
			o.states[o.nr_states++] = v;
		else
			return -1;
	}
	return o.timeout ? 0 : -1;
}

int main(int argc, char **argv)
{
	double t0 = now_s();
	uint64_t i;
	int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	o.configs = default_configs;
	o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage(stdout), 0;
	if (parse_args(argc, argv))
		return usage(stderr), 2;
	mkdir(WORK, 0700);
	printf("xvm-state-fuzz: seed=%llu duration=%us\n", (unsigned long long)o.seed,
	       o.duration);
	make_bases();
	if (!nr_bases) {
		printf("xvm-state-fuzz: no base state file: nothing to fuzz\n");
		summary(now_s() - t0);
		return 1;
	}
	if (o.replay >= 0) {
		failed = one_variant(o.replay) || golden(o.replay);
		summary(now_s() - t0);
		return failed ? 1 : 0;
	}
	/* At least a few variants, however long the bases took. */
	for (i = 0; !failed && (o.iterations ? i < o.iterations :
				(i < 20 || now_s() - t0 < o.duration)); i++)
		failed = one_variant(i) ||
			 (o.golden && (i + 1) % o.golden == 0 && golden(i));
	if (!failed && o.golden && i % o.golden)
		failed = golden(i - 1);
	summary(now_s() - t0);
	return failed ? 1 : 0;
}
