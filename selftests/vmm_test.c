// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-vmm end to end: every example config runs and exits 0; every kind of
 * bad config is refused with "FILE:LINE: message" on stderr and exit status
 * 2, never a crash; a config the kernel refuses fails its setup with the
 * kernel's errno at the line (exit status 1); the usage errors exit 2 and
 * --help exits 0.
 *
 * Runs /opt/xvm/bin/xvm-vmm (XVM_VMM overrides) on /opt/xvm/examples
 * (XVM_EXAMPLES overrides); bad configs are written to /tmp.
 *
 * The examples name the sandbox's devices: the e1000e at 0000:00:03.0 and
 * the edu at 0000:00:04.0, which xvm-vmm binds to vfio-pci or xvm-iommu.
 * One that uses a device runs only when XVM_TEST_E1000E / XVM_TEST_EDU
 * (xvm_pci.h) name that very device, and skips when a module it needs is
 * not loaded.  /dev/xvm is checked per test: the bad configs and usage
 * errors need no module.
 *
 * State files (docs/state-file.md): for every example, `save` -> `restore
 * --save --check` gives the same bytes again and the restored VM passes the
 * config's checks; truncated, corrupted, wrong-version, incomplete and
 * hostile files (a valid gic.conf state, edited, its checksum fixed where
 * the edit is past it) are refused with "FILE: WHERE: message" and exit
 * status 2, before any ioctl.
 *
 * `xvm-vmm stat` is run against `xvm-vmm run --control PATH` busy with a
 * script of doorbell rings, sends and MMIO reads: its counters are there
 * and move between two reads; the socket is 0600 and gone after the VMM
 * exits; a socket that is not there is a clear error, exit status 1.
 *
 * Live update (needs XVM_CAP_OWNER_TRANSFER): a script whose live-update
 * step hands the VM to a new xvm-vmm while the e1000e fires into the
 * hand-over: every vector fired is delivered exactly once over both
 * processes, a masked one stays in the PBA; and `xvm-vmm update PATH`
 * takes a busy `run --control PATH` over at a step boundary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define XVM_HARNESS_NO_DEV_CHECK
#include "xvm_harness.h"
#include "xvm_pci.h"
#include "vmm/state-csum.h"

/* What an example config uses besides xvm.ko. */
enum {
	USES_VGIC	= 1 << 0,
	USES_MSIX	= 1 << 1,	/* and the e1000e at 0000:00:03.0 */
	USES_IOMMU	= 1 << 2,	/* and the edu at 0000:00:04.0 */
};

/* The given device, if it is the one at want (the examples' address). */
static const char *device_missing(const struct test_pci *d, const char *want)
{
	static char why[256];

	if (!d->ok)
		return d->why;
	if (strcmp(d->bdf, want)) {
		snprintf(why, sizeof(why), "the example uses %s, %s=%s", want,
			 d->env, d->bdf);
		return why;
	}
	return NULL;
}

/* Why an example using uses cannot run here, or NULL. */
static const char *example_missing(unsigned int uses)
{
	const char *why = NULL;

	if ((uses & USES_VGIC) &&
	    xvm_has_device_type(XVM_DEV_TYPE_ARM_VGIC_V3) == 0)
		return "xvm-vgic not loaded";
	if ((uses & USES_MSIX) &&
	    xvm_has_device_type(XVM_DEV_TYPE_VFIO_MSIX) == 0)
		return "xvm-msix not loaded";
	if ((uses & USES_IOMMU) &&
	    xvm_has_device_type(XVM_DEV_TYPE_IOMMU) == 0)
		return "xvm-iommu not loaded";
	if (uses & USES_MSIX)
		why = device_missing(test_pci_e1000e(), "0000:00:03.0");
	if (!why && (uses & USES_IOMMU))
		why = device_missing(test_pci_edu(), "0000:00:04.0");
	return why;
}

static const char *vmm(void)
{
	const char *p = getenv("XVM_VMM");

	return p ? p : "/opt/xvm/bin/xvm-vmm";
}

static const char *examples(void)
{
	const char *p = getenv("XVM_EXAMPLES");

	return p ? p : "/opt/xvm/examples";
}

/* Starts xvm-vmm with argv[] (NULL-terminated), stdout/stderr to out/err. */
static pid_t spawn(const char *const *argv, int out, int err)
{
	pid_t pid = fork();

	if (pid == 0) {
		dup2(out, 1);
		dup2(err, 2);
		execv(vmm(), (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* An unlinked temporary file (-1 if none), for a child's stdout or stderr. */
static int tmp_fd(void)
{
	char path[] = "/tmp/xvm-vmm-test-out.XXXXXX";
	int fd = mkstemp(path);

	if (fd >= 0)
		unlink(path);
	return fd;
}

/* What a child wrote to fd (tmp_fd()), NUL-terminated into buf; fd closed. */
static void read_back(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = 0;
	close(fd);
}

/* Runs xvm-vmm with argv[]: stdout into out[] (NULL: dropped), stderr into err[]. */
static int run_out(char *out, size_t outlen, char *err, size_t errlen,
		   const char *const *argv)
{
	int efd = tmp_fd(), ofd = out ? tmp_fd() : open("/dev/null", O_WRONLY);
	int status = -1;

	if (efd < 0 || ofd < 0)
		return -1;
	waitpid(spawn(argv, ofd, efd), &status, 0);
	read_back(efd, err, errlen);
	if (out)
		read_back(ofd, out, outlen);
	else
		close(ofd);
	return status;
}

/*
 * Runs xvm-vmm with argv[] (NULL-terminated); stderr (and with both,
 * stdout too) into err[]; wait status.
 */
static int run_capture(char *err, size_t errlen, const char *const *argv, bool both)
{
	int fd = tmp_fd(), null = both ? -1 : open("/dev/null", O_WRONLY);
	int status = -1;

	if (fd < 0 || (!both && null < 0))
		return -1;
	waitpid(spawn(argv, both ? fd : null, fd), &status, 0);
	read_back(fd, err, errlen);
	if (null >= 0)
		close(null);
	return status;
}

/* Runs xvm-vmm with argv[] (NULL-terminated); stderr into err[]; wait status. */
static int run_argv(char *err, size_t errlen, const char *const *argv)
{
	return run_out(NULL, 0, err, errlen, argv);
}

/* Runs xvm-vmm with up to three arguments: run_argv(). */
static int run(char *err, size_t errlen, const char *a1, const char *a2,
	       const char *a3)
{
	const char *argv[] = { "xvm-vmm", a1, a2, a3, NULL };

	return run_argv(err, errlen, argv);
}

/*
 * The config of example name into conf; why it cannot run here (no such
 * file, no xvm-vmm, a module or device it uses missing), or NULL.
 */
static const char *example_conf(char *conf, size_t size, const char *name,
				unsigned int uses)
{
	static char why[320];

	snprintf(conf, size, "%s/%s.conf", examples(), name);
	if (access(conf, R_OK) || access(vmm(), X_OK)) {
		snprintf(why, sizeof(why), "no %s or no xvm-vmm", conf);
		return why;
	}
	if (access("/dev/xvm", F_OK))
		return "xvm not loaded";
	return example_missing(uses);
}

#define EXAMPLE_TEST(name, uses)					\
TEST(example_##name)							\
{									\
	char conf[256], err[4096];					\
	const char *why;						\
	int st;								\
									\
	why = example_conf(conf, sizeof(conf), #name, uses);		\
	if (why)							\
		SKIP(return, "%s", why);				\
	st = run(err, sizeof(err), "run", conf, NULL);			\
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("killed: %s", err);		\
	EXPECT_EQ(0, WEXITSTATUS(st)) TH_LOG("stderr: %s", err);	\
}

EXAMPLE_TEST(evtchn, 0)
EXAMPLE_TEST(gic, USES_VGIC)
EXAMPLE_TEST(iommu, USES_IOMMU)
EXAMPLE_TEST(msix, USES_MSIX | USES_VGIC)
EXAMPLE_TEST(demo, USES_MSIX | USES_IOMMU | USES_VGIC)
EXAMPLE_TEST(migrate, USES_VGIC)

/* A bad config: text, the expected line and a piece of the message. */
struct bad {
	const char *name, *text;
	int line;
	const char *msg;
};

#define HDR "vcpus 2\nmemory 1M\n"

static const struct bad bads[] = {
	{ "unknown_key", HDR "vcpu 4\n", 3, "unknown key 'vcpu'" },
	{ "bad_number", "vcpus 4x\n", 1, "bad number '4x'" },
	{ "missing_value", "vcpus\n", 1, "missing value" },
	{ "missing_value_opt", HDR "gic dist= redist-region=0,0x80a0000,2\n", 3,
	  "missing value" },
	{ "duplicate", HDR "vcpus 3\n", 3, "duplicate 'vcpus' (first on line 1)" },
	{ "duplicate_port", HDR "port a vcpu=0\nport a vcpu=1\n", 4,
	  "duplicate name 'a'" },
	{ "out_of_range_vcpus", "vcpus 999\n", 1, "out of range" },
	{ "out_of_range_port_vcpu", HDR "port a vcpu=2\n", 3, "out of range" },
	{ "out_of_range_nr_irqs", HDR "gic dist=0x8000000 redist-region=0,0x80a0000,2 nr-irqs=2048\n",
	  3, "out of range" },
	{ "too_few_redists", HDR "gic dist=0x8000000 redist-region=0,0x80a0000,1\n", 3,
	  "1 redistributors for 2 vCPUs" },
	{ "bad_pci_address", HDR "vfio 00:3 msix table=0xfe000000\n", 3,
	  "bad PCI address '00:3'" },
	{ "bad_pci_slot", HDR "iommu 0000:00:40.0\n", 3, "bad PCI address" },
	{ "unknown_option", HDR "port a vcpu=0 colour=red\n", 3,
	  "unknown option 'colour=red'" },
	{ "unknown_step", HDR "script\nfrobnicate 3\n", 4, "unknown step 'frobnicate'" },
	{ "unknown_port", HDR "port a vcpu=0\nscript\nsend b\n", 5, "unknown port 'b'" },
	{ "unknown_device", HDR "script\nfire-msix nic vector=0\n", 4,
	  "unknown vfio device 'nic'" },
	{ "bad_length", HDR "script\nmmio read 0x1000 3\n", 4, "out of range" },
	{ "bad_duration", HDR "port a vcpu=0\nscript\nwait port=a timeout=soon\n", 5,
	  "bad duration" },
	{ "route_without_port", HDR "doorbell 0x10010000\nvfio 0000:00:03.0 msix table=0xfe000000 vector=0:port=zz\n",
	  4, "unknown port 'zz'" },
	{ "no_memory", "vcpus 1\nscript\n", 2, "'vcpus' and 'memory' must be declared first" },
	{ "missing_vcpus", "memory 1M\n", 2, "missing 'vcpus'" },
	{ "peer_unknown", HDR "port a vcpu=0 peer=b\n", 3, "unknown port 'b'" },
	{ "peer_twice", HDR "port a vcpu=0\nport b vcpu=1 peer=a\nport c vcpu=1 peer=a\n", 5,
	  "'a' already has a peer" },
	{ "peer_remote", HDR "port a vcpu=0 remote\nport b vcpu=1 peer=a\n", 4,
	  "'remote' ports have no peer here" },
	{ "signal_no_eventfd", HDR "port a vcpu=0\nscript\nsignal a\n", 5,
	  "signal: port 'a' has no 'eventfd'" },
	{ "vm_id_zero", HDR "vm-id 0\n", 3, "out of range" },
	{ "spi_line_level", HDR "gic dist=0x8000000 redist-region=0,0x80a0000,2\nscript\n"
	  "spi-line 40 level=2\n", 5, "out of range" },
	{ "spi_line_sgi", HDR "gic dist=0x8000000 redist-region=0,0x80a0000,2\nscript\n"
	  "spi-line 3 level=1\n", 5, "out of range" },
	{ "dma_outside_memory", HDR "iommu 0000:00:04.0 name=edu\nscript\n"
	  "dma edu from=0x0 to=0x200000 len=16 expect=lands\n", 5, "out of range" },
	{ "two_migrates", HDR "script\nmigrate\nsleep 1\nmigrate\n", 6,
	  "duplicate 'migrate' (first on line 4)" },
};

/* Writes b's text to /tmp/PREFIX-NAME.conf and runs it; the wait status. */
static int run_text(const char *prefix, const struct bad *b, char *err,
		    size_t errlen)
{
	char path[96];
	FILE *f;
	int st;

	snprintf(path, sizeof(path), "/tmp/%s-%s.conf", prefix, b->name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(b->text, f);
	fclose(f);
	st = run(err, errlen, "run", path, NULL);
	unlink(path);
	return st;
}

TEST(bad_configs)
{
	char err[4096], want[128];
	unsigned int i;

	if (access(vmm(), X_OK))
		SKIP(return, "no %s", vmm());
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		int st = run_text("xvm-bad", b, err, sizeof(err));

		ASSERT_NE(-1, st) TH_LOG("%s: cannot write the config", b->name);
		ASSERT_TRUE(WIFEXITED(st)) TH_LOG("%s: crashed (status 0x%x)", b->name, st);
		EXPECT_EQ(2, WEXITSTATUS(st)) TH_LOG("%s: stderr: %s", b->name, err);
		snprintf(want, sizeof(want), "xvm-bad-%s.conf:%d: ", b->name, b->line);
		EXPECT_NE(NULL, strstr(err, want)) TH_LOG("%s: want '%s', got: %s",
							 b->name, want, err);
		EXPECT_NE(NULL, strstr(err, b->msg)) TH_LOG("%s: want '%s', got: %s",
							    b->name, b->msg, err);
	}
}

/*
 * Rules the kernel enforces are left to it: the VMM reports its errno at the
 * line whose setup it refused.
 */
static const struct bad kernel_bads[] = {
	{ "gic_dist_unaligned", HDR "gic dist=0x8001000 redist-region=0,0x80a0000,2\n", 3,
	  "gic dist 0x8001000: Invalid argument (EINVAL)" },
	{ "gic_redist_overlap", HDR "gic dist=0x8000000 redist-region=0,0x8000000,2\n", 3,
	  "gic redist-region 0: Invalid argument (EINVAL)" },
	{ "gic_nr_irqs_step", HDR "gic dist=0x8000000 redist-region=0,0x80a0000,2 nr-irqs=100\n",
	  3, "gic nr-irqs 100: Invalid argument (EINVAL)" },
	{ "doorbell_unaligned", HDR "doorbell 0x10010002\n", 3,
	  "doorbell at 0x10010002: Invalid argument (EINVAL)" },
	{ "memory_partial_page", "vcpus 1\nmemory 5000\n", 2,
	  "memory: slot 0, 0x1388 bytes at 0x0: Invalid argument (EINVAL)" },
};

TEST(kernel_errors)
{
	char err[4096], want[160];
	unsigned int i;

	if (access(vmm(), X_OK))
		SKIP(return, "no %s", vmm());
	if (access("/dev/xvm", F_OK))
		SKIP(return, "xvm not loaded");
	for (i = 0; i < sizeof(kernel_bads) / sizeof(kernel_bads[0]); i++) {
		const struct bad *b = &kernel_bads[i];
		int st = run_text("xvm-kbad", b, err, sizeof(err));

		ASSERT_NE(-1, st) TH_LOG("%s: cannot write the config", b->name);
		ASSERT_TRUE(WIFEXITED(st)) TH_LOG("%s: crashed (status 0x%x)", b->name, st);
		EXPECT_EQ(1, WEXITSTATUS(st)) TH_LOG("%s: stderr: %s", b->name, err);
		snprintf(want, sizeof(want), "xvm-kbad-%s.conf:%d: %s", b->name, b->line,
			 b->msg);
		EXPECT_NE(NULL, strstr(err, want)) TH_LOG("%s: want '%s', got: %s",
							 b->name, want, err);
	}
}

TEST(usage)
{
	char err[4096];
	int st;

	if (access(vmm(), X_OK))
		SKIP(return, "no %s", vmm());
	st = run(err, sizeof(err), NULL, NULL, NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	st = run(err, sizeof(err), "frob", NULL, NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	st = run(err, sizeof(err), "run", NULL, NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	st = run(err, sizeof(err), "run", "/nonexistent.conf", NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	st = run(err, sizeof(err), "run", "x.conf", "--bogus");
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	st = run(err, sizeof(err), "--help", NULL, NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = run(err, sizeof(err), "run", "--help", NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = run(err, sizeof(err), "caps", "--help", NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

#define CTL_PATH	"/tmp/xvm-vmm-test.ctl"
#define CTL_CONF	"/tmp/xvm-vmm-test-ctl.conf"
#define CTL_ROUNDS	40

/* A config whose script keeps the VM busy for CTL_ROUNDS x 50 ms or more. */
static int write_busy_conf(void)
{
	FILE *f = fopen(CTL_CONF, "w");
	int i;

	if (!f)
		return -1;
	fprintf(f, "vcpus 2\nmemory 1M gpa=0x40000000\ndoorbell 0x10010000\n"
		"port a vcpu=0\nport b vcpu=1\n\nscript\n");
	for (i = 0; i < CTL_ROUNDS; i++)
		fprintf(f, "ring b vcpu=0\nwait port=b\nsend a\nwait port=a\n"
			"mmio read 0x10010000 4 vcpu=1 expect=0\nsleep 50ms\n");
	return fclose(f);
}

/* Waits up to 20 s for path to exist; its stat into *st. */
static int wait_for(const char *path, struct stat *st)
{
	struct timespec ts = { .tv_nsec = 20 * 1000 * 1000 };
	int i;

	for (i = 0; i < 1000; i++) {
		if (!stat(path, st))
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* "NAME":{"total":N in a stat --json report; -1 if absent. */
static long long counter(const char *json, const char *name)
{
	char key[96];
	const char *p;

	snprintf(key, sizeof(key), "\"%s\":{\"total\":", name);
	p = strstr(json, key);
	return p ? atoll(p + strlen(key)) : -1;
}

/* `xvm-vmm stat CTL_PATH --once --json -i 200`: stdout into out[]. */
static int stat_once(char *out, size_t len)
{
	const char *argv[] = { "xvm-vmm", "stat", CTL_PATH, "--once", "--json",
			       "-i", "200", NULL };
	char path[] = "/tmp/xvm-vmm-test-stat.XXXXXX";
	int fd = mkstemp(path), null = open("/dev/null", O_WRONLY), st = -1;
	ssize_t n;

	waitpid(spawn(argv, fd, null), &st, 0);
	n = pread(fd, out, len - 1, 0);
	out[n > 0 ? n : 0] = 0;
	close(fd);
	close(null);
	unlink(path);
	return st;
}

TEST(stat_live)
{
	const char *argv[] = { "xvm-vmm", "run", CTL_CONF, "--control",
			       CTL_PATH, NULL };
	static const char *const names[] = {
		"mmio_exits_handled", "evtchn_sends", "evtchn_raises", "polls",
		"poll_wakeups",
	};
	static char one[8192], two[8192];
	struct stat sb;
	unsigned int i;
	int null, st;
	pid_t pid;

	if (access(vmm(), X_OK) || access("/dev/xvm", F_OK))
		SKIP(return, "no %s or xvm not loaded", vmm());
	unlink(CTL_PATH);
	ASSERT_EQ(0, write_busy_conf());
	null = open("/dev/null", O_WRONLY);
	pid = spawn(argv, null, 2);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_for(CTL_PATH, &sb)) TH_LOG("no socket at " CTL_PATH);
	EXPECT_TRUE(S_ISSOCK(sb.st_mode));
	EXPECT_EQ(0600, sb.st_mode & 07777);
	st = stat_once(one, sizeof(one));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) TH_LOG("%s", one);
	st = stat_once(two, sizeof(two));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) TH_LOG("%s", two);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		EXPECT_LE(0, counter(one, names[i])) TH_LOG("%s: %s", names[i], one);
		EXPECT_LT(counter(one, names[i]), counter(two, names[i]))
			TH_LOG("%s did not move: %s / %s", names[i], one, two);
	}
	EXPECT_NE(NULL, strstr(two, "\"per_vcpu\":[{\"id\":\"xvm-")) TH_LOG("%s", two);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	EXPECT_EQ(-1, access(CTL_PATH, F_OK)) TH_LOG("socket left behind");
	EXPECT_EQ(ENOENT, errno);
	close(null);
	unlink(CTL_CONF);
}

/* stat, with no count, ends when the VMM it watches exits (pidfd). */
TEST(stat_follows_vmm_exit)
{
	const char *argv[] = { "xvm-vmm", "run", CTL_CONF, "--control",
			       CTL_PATH, NULL };
	const char *sargv[] = { "xvm-vmm", "stat", CTL_PATH, "-i", "100", NULL };
	struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };
	char err[4096];
	int null, efd, st = -1, i;
	pid_t pid, spid;
	struct stat sb;

	if (access(vmm(), X_OK) || access("/dev/xvm", F_OK))
		SKIP(return, "no %s or xvm not loaded", vmm());
	unlink(CTL_PATH);
	ASSERT_EQ(0, write_busy_conf());
	null = open("/dev/null", O_WRONLY);
	efd = tmp_fd();
	ASSERT_LE(0, efd);
	pid = spawn(argv, null, 2);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_for(CTL_PATH, &sb)) TH_LOG("no socket at " CTL_PATH);
	spid = spawn(sargv, null, efd);
	ASSERT_LT(0, spid);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* The VMM is gone: stat must notice within a few intervals. */
	for (i = 0; i < 100 && waitpid(spid, &st, WNOHANG) == 0; i++)
		nanosleep(&ts, NULL);
	if (i == 100) {
		kill(spid, SIGKILL);
		waitpid(spid, &st, 0);
	}
	read_back(efd, err, sizeof(err));
	EXPECT_LT(i, 100) TH_LOG("stat still running 5 s after the VMM exited");
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) TH_LOG("stderr: %s", err);
	EXPECT_NE(NULL, strstr(err, "the VMM (pid ")) TH_LOG("stderr: %s", err);
	EXPECT_NE(NULL, strstr(err, ") exited")) TH_LOG("stderr: %s", err);
	close(null);
	unlink(CTL_CONF);
}

TEST(stat_no_socket)
{
	char err[4096];
	int st;

	if (access(vmm(), X_OK))
		SKIP(return, "no %s", vmm());
	unlink("/tmp/xvm-vmm-test-none.ctl");
	st = run(err, sizeof(err), "stat", "/tmp/xvm-vmm-test-none.ctl", "--once");
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(1, WEXITSTATUS(st)) TH_LOG("stderr: %s", err);
	EXPECT_NE(NULL, strstr(err, "/tmp/xvm-vmm-test-none.ctl: connect"))
		TH_LOG("stderr: %s", err);
	EXPECT_NE(NULL, strstr(err, "(ENOENT)")) TH_LOG("stderr: %s", err);
	st = run(err, sizeof(err), "stat", NULL, NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	st = run(err, sizeof(err), "stat", "--help", NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = run(err, sizeof(err), "caps", "--control", "/tmp/x");
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
}

/* ---- live update: the VM handed to a new xvm-vmm process ---- */

#define LU_CONF		"/tmp/xvm-vmm-test-lu.conf"
#define LU_STREAM	20	/* fires of vector 0 before and after the update */
#define LU_WINDOW	5	/* fires of vector 0 while the VM is between VMMs */

/*
 * The e1000e fires a counted stream on vector 0 (each fire awaited), fires
 * vector 1 while the guest has it masked (latched in the PBA), then the
 * VMM replaces itself (live-update) while the device fires vector 0
 * LU_WINDOW times with no process polling; the new VMM fires the stream
 * on, finds vector 1 still pending in the PBA and its unmask delivers it.
 */
static const char lu_conf[] =
	"vcpus 2\nmemory 2M\ndoorbell 0x10010000\nport p0 vcpu=0\nport p1 vcpu=1\n"
	"vfio 0000:00:03.0 name=e1000e msix table=0xfe000000 pba=0xfe002000 "
	"vector=0:port=p0 vector=1:port=p1\n"
	"script\n"
	"fire-msix e1000e vector=0 count=20\n"
	"mmio write 0xfe00001c 4 1\n"			/* vector 1 masked */
	"fire-msix e1000e vector=1 masked timeout=50ms\n"
	"mmio read 0xfe002000 4 expect=2 mask=2\n"	/* its PBA bit */
	"live-update e1000e vector=0 count=5\n"
	"fire-msix e1000e vector=0 count=20\n"
	"mmio read 0xfe002000 4 expect=2 mask=2\n"	/* still latched */
	"mmio write 0xfe00001c 4 0\n"			/* unmasked: delivered */
	"wait port=p1\n"
	"mmio read 0xfe002000 4 expect=0 mask=2\n";

/* The modules can hand a VM over (XVM_CAP_OWNER_TRANSFER). */
static bool owner_transfer(void)
{
	int xvm = xvm_open(), r;

	if (xvm < 0)
		return false;
	r = xvm_check_extension(xvm, XVM_CAP_OWNER_TRANSFER);
	close(xvm);
	return r > 0;
}

static void expect_in(struct __test_metadata *_metadata, const char *out,
		      const char *what)
{
	EXPECT_NE(NULL, strstr(out, what)) TH_LOG("no '%s' in:\n%s", what, out);
}

/*
 * The exactly-once: every fire of the stream delivered (each
 * awaited, over both processes: the counts travel with the VM), the
 * window's messages all delivered by xvm-msix to the unpolled port and
 * seen once by the new VMM's poller, none twice; the masked vector's PBA
 * bit survives the update and its unmask delivers it once.
 */
TEST(live_update_exactly_once)
{
	const char *argv[] = { "xvm-vmm", "run", LU_CONF, NULL };
	static char out[1 << 17];
	char want[160];
	const char *why;
	FILE *f;
	int st;

	why = example_conf(out, sizeof(out), "msix", USES_MSIX);
	if (why)
		SKIP(return, "%s", why);
	if (!owner_transfer())
		SKIP(return, "no XVM_CAP_OWNER_TRANSFER");
	f = fopen(LU_CONF, "w");
	ASSERT_NE(NULL, f);
	fputs(lu_conf, f);
	ASSERT_EQ(0, fclose(f));
	st = run_capture(out, sizeof(out), argv, true);
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("killed: %s", out);
	EXPECT_EQ(0, WEXITSTATUS(st)) TH_LOG("output:\n%s", out);
	expect_in(_metadata, out, "live update: VM granted to pid");
	expect_in(_metadata, out, "took the VM over from pid");
	expect_in(_metadata, out, "this process's poller woke once (the pending port), "
		  "no duplicate");
	snprintf(want, sizeof(want), "fire(s) by the script: %d delivered, 1 latched",
		 2 * LU_STREAM + LU_WINDOW);
	expect_in(_metadata, out, want);
	snprintf(want, sizeof(want), "vector 0 fired %d times: %d delivered", LU_STREAM,
		 LU_STREAM);
	expect_in(_metadata, out, want);
	expect_in(_metadata, out, "== OK:");
	unlink(LU_CONF);
}

/*
 * `xvm-vmm update PATH` against `run --control PATH`, busy: the old VMM
 * hands over at a step boundary and exits 0; the new one runs the rest of
 * the script, every check holds, and it removes the socket at its end.
 */
TEST(live_update_control)
{
	const char *runv[] = { "xvm-vmm", "run", CTL_CONF, "--control", CTL_PATH, NULL };
	const char *updv[] = { "xvm-vmm", "update", CTL_PATH, NULL };
	static char out[1 << 17];
	struct stat sb;
	int null, st;
	pid_t pid;

	if (access(vmm(), X_OK) || access("/dev/xvm", F_OK))
		SKIP(return, "no %s or xvm not loaded", vmm());
	if (!owner_transfer())
		SKIP(return, "no XVM_CAP_OWNER_TRANSFER");
	unlink(CTL_PATH);
	ASSERT_EQ(0, write_busy_conf());
	null = open("/dev/null", O_WRONLY);
	pid = spawn(runv, null, 2);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_for(CTL_PATH, &sb)) TH_LOG("no socket at " CTL_PATH);
	usleep(300000);		/* some steps run in the old VMM */
	st = run_capture(out, sizeof(out), updv, true);
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("killed: %s", out);
	EXPECT_EQ(0, WEXITSTATUS(st)) TH_LOG("output:\n%s", out);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) TH_LOG("old VMM: %#x", st);
	expect_in(_metadata, out, "took the VM over from pid");
	expect_in(_metadata, out, "== OK:");
	EXPECT_EQ(NULL, strstr(out, "FAIL")) TH_LOG("%s", out);
	EXPECT_EQ(-1, access(CTL_PATH, F_OK)) TH_LOG("socket left behind");
	st = run_capture(out, sizeof(out), updv, true);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 1) TH_LOG("%s", out);
	expect_in(_metadata, out, "(ENOENT)");
	close(null);
	unlink(CTL_CONF);
}

/* ---- state files: save, restore, round trip, bad files ---- */

/* The whole of path, NUL-terminated, in a malloc()ed buffer; *len its size. */
static char *slurp(const char *path, size_t *len)
{
	struct stat sb;
	char *buf;
	FILE *f = fopen(path, "r");

	if (!f || fstat(fileno(f), &sb)) {
		if (f)
			fclose(f);
		return NULL;
	}
	buf = malloc(sb.st_size + 1);
	if (buf)
		buf[fread(buf, 1, sb.st_size, f)] = 0;
	*len = sb.st_size;
	fclose(f);
	return buf;
}

static int spit(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fwrite(buf, 1, len, f);
	return fclose(f);
}

/* save CONFIG FILE; the wait status. */
static int state_save(const char *conf, const char *file, char *err, size_t errlen)
{
	const char *argv[] = { "xvm-vmm", "save", conf, file, NULL };

	return run_argv(err, errlen, argv);
}

#define ROUNDTRIP_TEST(name, uses)					\
TEST(state_roundtrip_##name)						\
{									\
	const char *a = "/tmp/xvm-state-" #name "-1.state";		\
	const char *b = "/tmp/xvm-state-" #name "-2.state";		\
	const char *argv[] = { "xvm-vmm", "restore", a, "--save", b,	\
			       "--check", NULL };			\
	char conf[256], err[8192], *one, *two;				\
	size_t n1 = 0, n2 = 0;						\
	const char *why;						\
	int st;								\
									\
	why = example_conf(conf, sizeof(conf), #name, uses);		\
	if (why)							\
		SKIP(return, "%s", why);				\
	st = state_save(conf, a, err, sizeof(err));			\
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)		\
		TH_LOG("save: status 0x%x: %s", st, err);		\
	st = run_argv(err, sizeof(err), argv);				\
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)		\
		TH_LOG("restore: status 0x%x: %s", st, err);		\
	one = slurp(a, &n1);						\
	two = slurp(b, &n2);						\
	ASSERT_TRUE(one && two);					\
	EXPECT_EQ(n1, n2);						\
	EXPECT_TRUE(n1 == n2 && !memcmp(one, two, n1))			\
		TH_LOG("%s and %s differ", a, b);			\
	if (n1 == n2 && !memcmp(one, two, n1)) {			\
		unlink(a);						\
		unlink(b);						\
	}								\
	free(one);							\
	free(two);							\
}

ROUNDTRIP_TEST(evtchn, 0)
ROUNDTRIP_TEST(gic, USES_VGIC)
ROUNDTRIP_TEST(iommu, USES_IOMMU)
ROUNDTRIP_TEST(msix, USES_MSIX | USES_VGIC)
ROUNDTRIP_TEST(demo, USES_MSIX | USES_IOMMU | USES_VGIC)
ROUNDTRIP_TEST(migrate, USES_VGIC)

/* Recomputes the checksum of an edited file (buf of len bytes). */
static void fix_crc(char *buf, size_t len)
{
	char hex[9];

	if (len < STATE_CSUM_LEN ||
	    strncmp(buf + len - STATE_CSUM_LEN, STATE_CSUM_HEAD, sizeof(STATE_CSUM_HEAD) - 1))
		return;
	snprintf(hex, sizeof(hex), "%08x", state_crc32(buf, len - STATE_CSUM_LEN));
	memcpy(buf + len - STATE_CSUM_LEN + sizeof(STATE_CSUM_HEAD) - 1, hex, 8);
}

/* s with the first from after anchor replaced by to (malloc()ed), or NULL. */
static char *subst(const char *s, const char *anchor, const char *from, const char *to)
{
	const char *a = anchor ? strstr(s, anchor) : s;
	const char *f = a ? strstr(a, from) : NULL;
	size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
	char *out;

	if (!f)
		return NULL;
	out = malloc(n);
	snprintf(out, n, "%.*s%s%s", (int)(f - s), s, to, f + strlen(from));
	return out;
}

/* s without its group "name" (from the comma before it to its brace). */
static char *drop_group(const char *s, const char *name)
{
	char key[64], *out;
	const char *p, *q;
	int depth = 0;

	snprintf(key, sizeof(key), ",\n    \"%s\":{", name);
	p = strstr(s, key);
	if (!p)
		return NULL;
	for (q = p + strlen(key) - 1; *q; q++) {
		depth += (*q == '{') - (*q == '}');
		if (!depth)
			break;
	}
	out = malloc(strlen(s) + 1);
	snprintf(out, strlen(s) + 1, "%.*s%s", (int)(p - s), s, q + 1);
	return out;
}

/* s with count copies of item, then last, inserted after the first anchor. */
static char *repeat_after(const char *s, const char *anchor, const char *item, int count,
			  const char *last)
{
	const char *a = strstr(s, anchor);
	size_t n = strlen(s) + strlen(item) * count + strlen(last) + 1, at;
	char *out;
	int i;

	if (!a)
		return NULL;
	at = a - s + strlen(anchor);
	out = malloc(n);
	memcpy(out, s, at);
	out[at] = 0;
	for (i = 0; i < count; i++)
		strcat(out, item);
	strcat(out, last);
	strcat(out, s + at);
	return out;
}

struct bad_state {
	const char *name;
	const char *anchor, *from, *to;	/* an edit of the good file */
	bool fix;			/* checksum recomputed after the edit */
	const char *msg;
};

/* Edits of a saved gic.conf state (4 vCPUs, 64 INTIDs, no ports, no doorbell). */
static const struct bad_state bad_states[] = {
	{ "corrupted_byte", "\"nr_irqs\":", "64", "96", false, "checksum: mismatch" },
	{ "wrong_magic", NULL, "\"xvm-vm-state\"", "\"xvm-vm-statf\"", false,
	  "not an xvm state file (format 'xvm-vm-statf'" },
	{ "format_version", NULL, "\"format_version\":1", "\"format_version\":2", false,
	  "format version 2 is not supported (this xvm-vmm reads version 1)" },
	{ "group_version", "\"vgic\":{", "\"version\":2", "\"version\":7", true,
	  "group 'vgic' version 7 is not supported (this xvm-vmm reads version 2)" },
	{ "vgic_version_1", "\"vgic\":{", "\"version\":2", "\"version\":1", true,
	  "group 'vgic' version 1 is not supported (this xvm-vmm reads version 2)" },
	{ "unknown_group", NULL, "\"evtchn-table\":{", "\"evtchx-table\":{", true,
	  "unknown group 'evtchx-table'" },
	{ "retired_group", NULL, "\"evtchn-table\":{", "\"evtchn\":{", true,
	  "group 'evtchn' (an older xvm-vmm's) is no longer read: 'evtchn-table' replaced it" },
	{ "unknown_member", NULL, "\"format_version\":1,", "\"format_version\":1,\"colour\":1,",
	  true, "unknown member 'colour'" },
	{ "nr_irqs_range", NULL, "\"nr_irqs\":64", "\"nr_irqs\":4096", true,
	  "vgic: 'nr_irqs' = 4096 out of range (64..1024)" },
	{ "nr_irqs_other", NULL, "\"nr_irqs\":64", "\"nr_irqs\":96", true,
	  "but the saved config's gic line has 64" },
	{ "negative_size", NULL, "\"size\":1048576", "\"size\":-1048576", true,
	  "memory.slots[0]: 'size' = -1048576 is negative" },
	{ "huge_size", NULL, "\"size\":1048576", "\"size\":18446744073709551615", true,
	  "'size' = 18446744073709551615 out of range" },
	{ "integer_overflow", NULL, "\"nr_irqs\":64", "\"nr_irqs\":18446744073709551616", true,
	  "the integer at byte" },
	{ "register_count", "\"dist\":{", "\"igroupr\":[", "\"igroupr\":[0,", true,
	  "vgic.dist: 'igroupr' has 2 elements (expected 1..1)" },
	{ "register_type", "\"dist\":{", "\"ctlr\":", "\"ctlr\":\"x\",\"y\":", true,
	  "unknown member 'y'" },
	/* vgic-sysregs */
	{ "sysregs_version", "\"vgic-sysregs\":{", "\"version\":1", "\"version\":2", true,
	  "group 'vgic-sysregs' version 2 is not supported (this xvm-vmm reads version 1)" },
	{ "sysregs_state_version", "\"vgic-sysregs\":{", "\"state_version\":1",
	  "\"state_version\":9", true, "vGIC state version 9 is not supported" },
	{ "pmr_range", NULL, "\"pmr\":240", "\"pmr\":4096", true,
	  "vgic-sysregs.vcpus[0]: 'pmr' = 4096 out of range (0..255)" },
	{ "sysregs_missing", NULL, "\"bpr0\":2,", "", true,
	  "vgic-sysregs.vcpus[0]: 'bpr0' missing" },
	{ "sysregs_ctlr_bits", NULL, "\"ctlr\":1024", "\"ctlr\":1028", true,
	  "'ctlr' = 0x404 has bits other than CBPR, EOImode and PRIbits" },
	{ "sysregs_notify_other", NULL, "\"notify_port\":5", "\"notify_port\":6", true,
	  "'notify_port' = 6, but the VMM gives vCPU 0 port 5" },
	{ "ppi_levels_sgi", NULL, "\"ppi_levels\":0", "\"ppi_levels\":1", true,
	  "only PPIs (INTIDs 16..31) have a level" },
	{ "spi_levels_count", NULL, "\"spi_levels\":[", "\"spi_levels\":[0,", true,
	  "vgic-sysregs: 'spi_levels' has 2 elements (expected 1..1)" },
	/* evtchn-table */
	{ "table_version", "\"evtchn-table\":{", "\"version\":1", "\"version\":2", true,
	  "group 'evtchn-table' version 2 is not supported (this xvm-vmm reads version 1)" },
	{ "table_state_version", "\"evtchn-table\":{", "\"state_version\":1",
	  "\"state_version\":5", true, "event-channel state version 5 is not supported" },
	{ "vm_id_other", NULL, "\"vm_id\":1", "\"vm_id\":2", true,
	  "'vm_id' = 2, but the saved config gives the VM id 1" },
	{ "doorbell_other", NULL, "\"doorbell\":false", "\"doorbell\":true", true,
	  "but the saved config has no doorbell" },
	{ "port_range", "\"ports\":[", "\"port\":1,", "\"port\":70000,", true,
	  "evtchn-table.ports[0]: 'port' = 70000 out of range (1..4095)" },
	{ "port_interdomain", "\"ports\":[", "\"state\":\"vcpu\"", "\"state\":\"interdomain\"",
	  true, "'peer_port' = 0: an interdomain port has one" },
	{ "port_vcpu", "\"ports\":[", "\"vcpu\":0", "\"vcpu\":4", true,
	  "'vcpu' = 4 out of range (0..3)" },
	{ "port_unbound", "\"port\":5,", "\"bound\":true", "\"bound\":false", true,
	  "evtchn-table.ports[4]: 'bound' must be true exactly for state 'vcpu'" },
	{ "port_other_vcpu", "\"port\":5,", "\"vcpu\":0", "\"vcpu\":1", true,
	  "port 5 is the vGIC notify port of vCPU 0, but the file has it vcpu on another vCPU" },
	{ "port_missing_member", "\"ports\":[", "\"eventfd_out\":false,", "", true,
	  "evtchn-table.ports[0]: 'eventfd_out' missing" },
	{ "unexpected_group", "\"groups\":{", "{", "{\"msix\":{\"version\":1,\"devices\":[]},",
	  true, "group 'msix' present, but the saved config has nothing it describes" },
	{ "config_bad", NULL, "\\ngic dist=", "\\ngic dost=", true,
	  "the saved config 'gic.conf' does not parse" },
	{ "name_nul", NULL, "\"name\":\"gic.conf\"", "\"name\":\"gic\\u0000.conf\"", true,
	  "contains a NUL character" },
	{ "page_range", "\"pages\":[", "[", "[{\"offset\":1048576,\"data\":\"\"}", true,
	  "memory.pages[0]: 'offset' = 1048576 out of range" },
	{ "memory_other", NULL, "\"gpa\":0,", "\"gpa\":4096,", true,
	  "but the saved config's memory line says" },
};

/*
 * Edits of a saved evtchn.conf state (3 vCPUs, vm-id 7, ports a..c 4..6,
 * the loopback pair left/right 7 and 8, irq 9 with an eventfd, grant 10).
 */
static const struct bad_state bad_evtchn_states[] = {
	{ "peer_other_vm", "\"port\":7,", "\"peer_id\":7", "\"peer_id\":9", true,
	  "'peer_id' = 9 is another VM (this one is 7)" },
	{ "pair_broken", "\"port\":7,", "\"peer_port\":8", "\"peer_port\":9", true,
	  "port 7's peer port 9 is not its other end in this VM" },
	{ "eventfd_foreign", "\"port\":4,", "\"eventfd_in\":false", "\"eventfd_in\":true",
	  true, "port 4 is the config's port for vCPU 0, but the file has it vcpu with another "
	  "eventfd bridge" },
	{ "eventfd_lost", "\"port\":9,", "\"eventfd_in\":true", "\"eventfd_in\":false",
	  true, "with another eventfd bridge" },
	{ "eventfd_notify", "\"port\":9,", "\"eventfd_out\":false", "\"eventfd_out\":true",
	  true, "an eventfd NOTIFY bridge: xvm-vmm makes none" },
	{ "grant_lost", "\"port\":10,", "\"remote_named\":true", "\"remote_named\":false",
	  true, "'peer_id' = 7: an interdomain or remote-named port has one, no other" },
	{ "pair_unpaired", "\"port\":8,", "\"state\":\"interdomain\"", "\"state\":\"vcpu\"",
	  true, "evtchn-table.ports[7]: 'peer_port' = 7: an interdomain port has one" },
};

/* Edits of a saved demo.conf state (edu: one read-only map at gfn 0x100). */
static const struct bad_state bad_iommu_states[] = {
	{ "iommu_version", "\"iommu\":{", "\"version\":1", "\"version\":3", true,
	  "group 'iommu' version 3 is not supported (this xvm-vmm reads version 1)" },
	{ "iommu_state_version", "\"iommu\":{", "\"state_version\":1",
	  "\"state_version\":4", true, "iommu state version 4 is not supported" },
	{ "gfn_range", "\"maps\":[", "\"gfn\":256", "\"gfn\":4096", true,
	  "iommu.devices[0].maps[0]: 'gfn' = 4096 out of range (0..4095)" },
	{ "map_count", "\"maps\":[", "\"count\":1,", "\"count\":0,", true,
	  "'count' = 0 out of range (1..4096)" },
	{ "map_no_access", "\"maps\":[", "\"read\":true", "\"read\":false", true,
	  "neither 'read' nor 'write'" },
	{ "map_missing_member", "\"maps\":[", "\"gfn\":256,", "", true,
	  "iommu.devices[0].maps[0]: 'gfn' missing" },
	{ "mirror_other", "\"iommu\":{", "\"mirror\":false", "\"mirror\":true", true,
	  "but the saved config attaches it without mirror" },
	{ "mapped_other", "\"iommu\":{", "\"mapped\":1", "\"mapped\":2", true,
	  "'mapped' = 2, but the maps hold 1 frames" },
	{ "iommu_device_other", "\"iommu\":{", "\"name\":\"edu\"", "\"name\":\"ede\"",
	  true, "device 'ede' at 0000:00:04.0, but the saved config's iommu line has 'edu'" },
};

/* Writes buf to a bad file, restores it: exit 2, "FILE: ...msg" on stderr. */
static void expect_refused(struct __test_metadata *_metadata, const char *name,
			   char *buf, size_t len, bool fix, const char *msg)
{
	char path[128], err[8192];
	const char *argv[] = { "xvm-vmm", "restore", path, NULL };
	int st;

	snprintf(path, sizeof(path), "/tmp/xvm-state-bad-%s.state", name);
	if (fix)
		fix_crc(buf, len);
	ASSERT_EQ(0, spit(path, buf, len));
	st = run_argv(err, sizeof(err), argv);
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("%s: crashed (status 0x%x)", name, st);
	EXPECT_EQ(2, WEXITSTATUS(st)) TH_LOG("%s: stderr: %s", name, err);
	EXPECT_NE(NULL, strstr(err, path)) TH_LOG("%s: want '%s: ', got: %s", name, path, err);
	EXPECT_NE(NULL, strstr(err, msg)) TH_LOG("%s: want '%s', got: %s", name, msg, err);
	unlink(path);
}

/*
 * The state example name saves, into *g (malloc()ed; NULL, the failure
 * recorded, if the save fails); why the example cannot run here, or NULL.
 */
static const char *save_example(struct __test_metadata *_metadata, const char *name,
				unsigned int uses, char **g, size_t *len)
{
	const char *good = "/tmp/xvm-state-good.state";
	char conf[256], err[8192];
	const char *why = example_conf(conf, sizeof(conf), name, uses);
	int st;

	if (why)
		return why;
	st = state_save(conf, good, err, sizeof(err));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) TH_LOG("save: %s", err);
	*g = slurp(good, len);
	unlink(good);
	return NULL;
}

/* Each edit of g in bs[n] is refused with its message. */
static void expect_edits_refused(struct __test_metadata *_metadata, const char *g,
				 const struct bad_state *bs, size_t n)
{
	unsigned int i;
	char *b;

	for (i = 0; i < n; i++) {
		b = subst(g, bs[i].anchor, bs[i].from, bs[i].to);
		ASSERT_NE(NULL, b) TH_LOG("%s: '%s' not in the saved file", bs[i].name,
					  bs[i].from);
		expect_refused(_metadata, bs[i].name, b, strlen(b), bs[i].fix, bs[i].msg);
		free(b);
	}
}

TEST(state_bad_files)
{
	const char *why;
	char *g = NULL, *b;
	size_t len;

	why = save_example(_metadata, "gic", USES_VGIC, &g, &len);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_NE(NULL, g);
	expect_edits_refused(_metadata, g, bad_states, ARRAY_SIZE(bad_states));
	expect_refused(_metadata, "truncated", g, len / 2, false, "truncated");
	expect_refused(_metadata, "truncated_tail", g, len - 3, false, "truncated");
	expect_refused(_metadata, "empty", g, 0, false, "truncated");
	b = drop_group(g, "vgic");
	ASSERT_NE(NULL, b);
	expect_refused(_metadata, "missing_group", b, strlen(b), true,
		       "required group 'vgic' missing");
	free(b);
	b = drop_group(g, "vgic-sysregs");
	ASSERT_NE(NULL, b);
	expect_refused(_metadata, "missing_sysregs", b, strlen(b), true,
		       "required group 'vgic-sysregs' missing");
	free(b);
	b = repeat_after(g, "\"pages\":[", "{\"offset\":0,\"data\":\"\"},", 300,
			 "{\"offset\":0,\"data\":\"\"}");
	ASSERT_NE(NULL, b);
	expect_refused(_metadata, "huge_count", b, strlen(b), true,
		       "'pages' has 301 elements (expected 0..256)");
	free(b);
	b = malloc(4096);
	memset(b, '[', 4096);
	expect_refused(_metadata, "deep_nesting", b, 4096, false, "nesting too deep");
	memcpy(b, "\x7f" "ELF\x02\x01\x01", 7);
	expect_refused(_metadata, "binary", b, 4096, false, "not a state file");
	free(b);
	free(g);
}

TEST(state_bad_evtchn_files)
{
	const char *why;
	char *g = NULL;
	size_t len;

	why = save_example(_metadata, "evtchn", 0, &g, &len);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_NE(NULL, g);
	expect_edits_refused(_metadata, g, bad_evtchn_states, ARRAY_SIZE(bad_evtchn_states));
	free(g);
}

TEST(state_bad_iommu_files)
{
	const char *why;
	char *g = NULL, *b;
	size_t len;

	why = save_example(_metadata, "demo", USES_MSIX | USES_IOMMU | USES_VGIC, &g, &len);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_NE(NULL, g);
	expect_edits_refused(_metadata, g, bad_iommu_states, ARRAY_SIZE(bad_iommu_states));
	b = drop_group(g, "iommu");
	ASSERT_NE(NULL, b);
	expect_refused(_metadata, "missing_iommu", b, strlen(b), true,
		       "required group 'iommu' missing");
	free(b);
	free(g);
}

/*
 * What the examples leave at its reset value - an active priority, the
 * binary point - comes back from an edited file: restore --save keeps it.
 */
TEST(state_sysregs_edited)
{
	const char *a = "/tmp/xvm-state-sysregs-1.state", *bpath = "/tmp/xvm-state-sysregs-2.state";
	const char *argv[] = { "xvm-vmm", "restore", a, "--save", bpath, NULL };
	char err[8192], *g = NULL, *e1, *e2, *two;
	const char *why;
	size_t len, n2 = 0;
	int st;

	why = save_example(_metadata, "gic", USES_VGIC, &g, &len);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_NE(NULL, g);
	e1 = subst(g, "\"vcpus\":[", "\"ap1r0\":0", "\"ap1r0\":1048576");
	ASSERT_NE(NULL, e1);
	e2 = subst(e1, "\"vcpus\":[", "\"bpr0\":2", "\"bpr0\":5");
	ASSERT_NE(NULL, e2);
	fix_crc(e2, strlen(e2));
	ASSERT_EQ(0, spit(a, e2, strlen(e2)));
	st = run_argv(err, sizeof(err), argv);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) TH_LOG("restore: %s", err);
	two = slurp(bpath, &n2);
	ASSERT_NE(NULL, two);
	EXPECT_NE(NULL, strstr(two, "\"ap1r0\":1048576")) TH_LOG("active priority lost");
	EXPECT_NE(NULL, strstr(two, "\"bpr0\":5")) TH_LOG("binary point lost");
	EXPECT_TRUE(n2 == strlen(e2) && !memcmp(two, e2, n2)) TH_LOG("%s and %s differ", a, bpath);
	unlink(a);
	unlink(bpath);
	free(two);
	free(e2);
	free(e1);
	free(g);
}

TEST(state_usage)
{
	char err[4096];
	int st;

	if (access(vmm(), X_OK))
		SKIP(return, "no %s", vmm());
	st = run(err, sizeof(err), "save", "x.conf", NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	st = run(err, sizeof(err), "restore", NULL, NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	st = run(err, sizeof(err), "restore", "/nonexistent.state", NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	EXPECT_NE(NULL, strstr(err, "/nonexistent.state: No such file")) TH_LOG("%s", err);
	st = run(err, sizeof(err), "restore", "x.state", "--bogus");
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	st = run(err, sizeof(err), "save", "--help", NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = run(err, sizeof(err), "restore", "--help", NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- migration: migrate -> incoming in this guest, bad streams, refusals ---- */

#define MIG_SOCK	"/tmp/xvm-vmm-test-mig.sock"
#define MIG_FAKE	"/tmp/xvm-vmm-test-mig-fake.sock"
#define MIG_A		"/tmp/xvm-vmm-test-mig-sent.state"
#define MIG_B		"/tmp/xvm-vmm-test-mig-restored.state"
/* migrate.conf: the step after `migrate` (0-based) and the steps in all. */
#define MIG_NEXT	"\"next_step\":10"
#define MIG_RESUMED	"script, resumed at step 11 of 22"

/* The wire layout (docs/state-file.md, "The migration stream"), little-endian. */
struct mig_hdr {
	char magic[4];
	uint32_t version;
	uint64_t len;
};

struct mig_reply {
	char magic[4];
	uint32_t version;
	int32_t status;
	uint32_t msg_len;
};

/* examples/migrate.conf, or NULL: *why it cannot run here. */
static const char *mig_conf(const char **why)
{
	static char conf[256];

	*why = example_conf(conf, sizeof(conf), "migrate", USES_VGIC);
	return *why ? NULL : conf;
}

/* `xvm-vmm incoming unix:MIG_SOCK ARGS...` in the background, its socket up. */
static pid_t incoming_start(int *out, int *err, const char *a1, const char *a2,
			    const char *a3)
{
	const char *argv[] = { "xvm-vmm", "incoming", "unix:" MIG_SOCK, "--timeout",
			       "60", a1, a2, a3, NULL };
	struct stat sb;
	pid_t pid;

	unlink(MIG_SOCK);
	*out = tmp_fd();
	*err = tmp_fd();
	pid = spawn(argv, *out, *err);
	if (pid > 0 && wait_for(MIG_SOCK, &sb)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

/* A unix stream socket connected to (or, listen: listening at) path. */
static int unix_sock(const char *path, bool listen_)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (listen_)
		unlink(path);
	if (fd < 0 || (listen_ ? bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
				 listen(fd, 1) :
				 connect(fd, (struct sockaddr *)&sa, sizeof(sa)))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The target's reply on fd: its status, the message into msg[]. */
static int read_reply(int fd, char *msg, size_t len)
{
	struct mig_reply r;
	ssize_t n;

	msg[0] = 0;
	if (recv(fd, &r, sizeof(r), MSG_WAITALL) != sizeof(r) || memcmp(r.magic, "XVMR", 4))
		return -1;
	n = recv(fd, msg, r.msg_len < len ? r.msg_len : len - 1, MSG_WAITALL);
	msg[n > 0 ? n : 0] = 0;
	return r.status;
}

/*
 * The VM leaves `migrate CONFIG` at its migrate step and its script goes on
 * in `incoming --check`: the source ran only the steps before, the target
 * only those after (all passing), and the state the target restored saves
 * as the very bytes the source sent (--check, and the two --save files).
 */
TEST(migrate_same_guest)
{
	const char *argv[] = { "xvm-vmm", "migrate", NULL, "unix:" MIG_SOCK,
			       "--save", MIG_A, NULL };
	static char sout[16384], tout[16384], serr[8192], terr[8192];
	char *a, *b;
	int ofd, efd, st;
	size_t na = 0, nb = 0;
	const char *why;
	pid_t pid;

	argv[2] = mig_conf(&why);
	if (!argv[2])
		SKIP(return, "%s", why);
	pid = incoming_start(&ofd, &efd, "--check", "--save", MIG_B);
	ASSERT_LT(0, pid) TH_LOG("incoming: no socket at " MIG_SOCK);
	st = run_out(sout, sizeof(sout), serr, sizeof(serr), argv);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("migrate: status 0x%x: %s\n%s", st, serr, sout);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	read_back(ofd, tout, sizeof(tout));
	read_back(efd, terr, sizeof(terr));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("incoming: status 0x%x: %s\n%s", st, terr, tout);
	/* Where each step ran: before migrate on the source, after on the target. */
	EXPECT_NE(NULL, strstr(sout, "ring b vcpu=0")) TH_LOG("%s", sout);
	EXPECT_EQ(NULL, strstr(sout, "ring a vcpu=1")) TH_LOG("%s", sout);
	EXPECT_NE(NULL, strstr(sout, "the target runs the VM now")) TH_LOG("%s", sout);
	EXPECT_NE(NULL, strstr(tout, MIG_RESUMED)) TH_LOG("%s", tout);
	EXPECT_NE(NULL, strstr(tout, "ring a vcpu=1")) TH_LOG("%s", tout);
	EXPECT_EQ(NULL, strstr(tout, "ring b vcpu=0")) TH_LOG("%s", tout);
	EXPECT_NE(NULL, strstr(tout, "saves as the stream, byte for byte")) TH_LOG("%s", tout);
	EXPECT_NE(NULL, strstr(tout, "== OK: ")) TH_LOG("%s", tout);
	EXPECT_EQ(NULL, strstr(tout, "[FAIL]")) TH_LOG("%s", tout);
	a = slurp(MIG_A, &na);
	b = slurp(MIG_B, &nb);
	ASSERT_TRUE(a && b);
	EXPECT_NE(NULL, strstr(a, MIG_NEXT)) TH_LOG("no resume position in %s", MIG_A);
	EXPECT_TRUE(na == nb && !memcmp(a, b, na)) TH_LOG(MIG_A " and " MIG_B " differ");
	EXPECT_EQ(-1, access(MIG_SOCK, F_OK)) TH_LOG("socket left behind");
	free(a);
	free(b);
	unlink(MIG_A);
	unlink(MIG_B);
}

/*
 * A real target is sent the len bytes at data, then EOF: it replies status
 * with msg, exits 2 without making a VM, its socket gone.
 */
static void bad_stream(struct __test_metadata *_metadata, const void *data,
		       size_t len, int status, const char *msg)
{
	char tout[4096], terr[4096], reply[1024];
	int ofd, efd, fd, st;
	pid_t pid;

	pid = incoming_start(&ofd, &efd, NULL, NULL, NULL);
	ASSERT_LT(0, pid) TH_LOG("incoming: no socket at " MIG_SOCK);
	fd = unix_sock(MIG_SOCK, false);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)len, write(fd, data, len));
	shutdown(fd, SHUT_WR);
	EXPECT_EQ(status, read_reply(fd, reply, sizeof(reply))) TH_LOG("%s", reply);
	EXPECT_NE(NULL, strstr(reply, msg)) TH_LOG("want '%s', got: %s", msg, reply);
	close(fd);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	read_back(ofd, tout, sizeof(tout));
	read_back(efd, terr, sizeof(terr));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2) TH_LOG("status 0x%x: %s", st, terr);
	EXPECT_NE(NULL, strstr(terr, msg)) TH_LOG("want '%s', got: %s", msg, terr);
	EXPECT_EQ(NULL, strstr(tout, "restoring")) TH_LOG("a VM was made: %s", tout);
	EXPECT_EQ(-1, access(MIG_SOCK, F_OK)) TH_LOG("socket left behind");
}

/* The source died midway: the header, half the file it announced, EOF. */
TEST(migrate_truncated)
{
	struct {
		struct mig_hdr h;
		char body[2048];
	} s = { .h = { .magic = "XVMS", .version = 1, .len = 4096 } };

	if (access(vmm(), X_OK))
		SKIP(return, "no %s", vmm());
	memset(s.body, ' ', sizeof(s.body));
	bad_stream(_metadata, &s, sizeof(s), EPROTO,
		   "truncated: the stream ended after 2048 of 4096 bytes");
}

/* A stream version the target does not read: refused, both named. */
TEST(migrate_target_refuses_version)
{
	struct mig_hdr h = { .magic = "XVMS", .version = 2, .len = 16 };

	if (access(vmm(), X_OK))
		SKIP(return, "no %s", vmm());
	bad_stream(_metadata, &h, sizeof(h), EPROTONOSUPPORT,
		   "stream version 2 is not supported (this xvm-vmm reads version 1)");
}

/* Accepts one source on lfd: its stream's file into buf (NUL-terminated). */
static ssize_t fake_receive(int lfd, char *buf, size_t len)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	struct mig_hdr h;
	int fd;

	if (poll(&pfd, 1, 60000) != 1)
		return -1;
	fd = accept(lfd, NULL, NULL);
	if (fd < 0 || recv(fd, &h, sizeof(h), MSG_WAITALL) != sizeof(h) ||
	    memcmp(h.magic, "XVMS", 4) || h.version != 1 || h.len >= len ||
	    recv(fd, buf, h.len, MSG_WAITALL) != (ssize_t)h.len) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	buf[h.len] = 0;
	return fd;
}

/*
 * The source, against a target that refuses (a newer one, say): it sent a
 * version-1 stream with the resume position, prints the target's message
 * and exits 1, its VM intact until then.
 */
TEST(migrate_source_sees_refusal)
{
	static const char why_not[] = "stream version 1 is not supported (this xvm-vmm "
				      "reads version 2)";
	struct mig_reply r = { .magic = "XVMR", .version = 1, .status = EPROTONOSUPPORT,
			       .msg_len = sizeof(why_not) - 1 };
	const char *argv[] = { "xvm-vmm", "migrate", NULL, "unix:" MIG_FAKE, NULL };
	static char file[1 << 20], sout[16384], serr[8192];
	int lfd, fd, ofd, efd, st;
	const char *why;
	pid_t pid;

	argv[2] = mig_conf(&why);
	if (!argv[2])
		SKIP(return, "%s", why);
	lfd = unix_sock(MIG_FAKE, true);
	ASSERT_LE(0, lfd);
	ofd = tmp_fd();
	efd = tmp_fd();
	pid = spawn(argv, ofd, efd);
	fd = fake_receive(lfd, file, sizeof(file));
	EXPECT_LE(0, fd) TH_LOG("no stream from the source");
	EXPECT_NE(NULL, strstr(file, MIG_NEXT)) TH_LOG("no resume position sent");
	if (fd >= 0) {
		EXPECT_EQ((ssize_t)sizeof(r), write(fd, &r, sizeof(r)));
		EXPECT_EQ((ssize_t)r.msg_len, write(fd, why_not, r.msg_len));
		close(fd);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	read_back(ofd, sout, sizeof(sout));
	read_back(efd, serr, sizeof(serr));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 1) TH_LOG("status 0x%x: %s", st, serr);
	EXPECT_NE(NULL, strstr(serr, "the target refused the VM (Protocol not supported "
			       "(EPROTONOSUPPORT))")) TH_LOG("%s", serr);
	EXPECT_NE(NULL, strstr(serr, why_not)) TH_LOG("%s", serr);
	EXPECT_NE(NULL, strstr(sout, "the VM stays here, intact")) TH_LOG("%s", sout);
	close(lfd);
	unlink(MIG_FAKE);
}

TEST(migrate_usage)
{
	static const char vfio_conf[] = "vcpus 1\nmemory 1M\nvfio 0000:00:03.0\nscript\nmigrate\n";
	const char *conf = "/tmp/xvm-vmm-test-mig-vfio.conf";
	char err[4096];
	int st;

	if (access(vmm(), X_OK))
		SKIP(return, "no %s", vmm());
	ASSERT_EQ(0, spit(conf, vfio_conf, sizeof(vfio_conf) - 1));
	st = run(err, sizeof(err), "migrate", conf, "unix:/tmp/xvm-vmm-test-none.sock");
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "xvm-vmm-test-mig-vfio.conf:3: vfio 0000:00:03.0: a VM "
			       "with a VFIO device cannot migrate")) TH_LOG("%s", err);
	unlink(conf);
	st = run(err, sizeof(err), "migrate", "x.conf", "udp:1.2.3.4:5");
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	EXPECT_NE(NULL, strstr(err, "expected unix:PATH or tcp:IPV4:PORT")) TH_LOG("%s", err);
	st = run(err, sizeof(err), "incoming", "tcp:localhost:7", NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	st = run(err, sizeof(err), "migrate", "x.conf", NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	st = run(err, sizeof(err), "migrate", "--help", NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = run(err, sizeof(err), "incoming", "--help", NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	{
		const char *argv[] = { "xvm-vmm", "incoming", "unix:" MIG_SOCK, "--timeout",
				       "1", NULL };

		st = run_argv(err, sizeof(err), argv);
		EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 1) TH_LOG("%s", err);
		EXPECT_NE(NULL, strstr(err, "waiting for the source: Connection timed out "
				       "(ETIMEDOUT)")) TH_LOG("%s", err);
	}
}

TEST_HARNESS_MAIN
