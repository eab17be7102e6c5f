/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection (debug kernel: CONFIG_FAULT_INJECTION_DEBUG_FS,
 * CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC): the debugfs knobs of failslab
 * and fail_page_alloc, and the calling thread's fail-nth
 * (/proc/self/task/<tid>/fail-nth): with n written, the n-th
 * fault-injection site the thread reaches from then on fails; reading it
 * back gives 0 once that failure was injected.
 *
 * No harness here.  Everything is static inline: a user of one part does
 * not warn about the rest.
 */
#ifndef _XVM_FAULT_H
#define _XVM_FAULT_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "xvm_pci.h"	/* sysfs_write() */

#define FAULT_DEBUGFS	"/sys/kernel/debug"

/* debugfs knob of a fault type: written, or 0 if it does not exist. */
static inline int fault_knob(const char *type, const char *name,
			     const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), FAULT_DEBUGFS "/%s/%s", type, name);
	if (access(path, F_OK))
		return 0;
	return sysfs_write(path, val);
}

/*
 * fail-nth bypasses probability, interval, times and task-filter, but not
 * the allocator filters: let failslab and fail_page_alloc fail sleeping
 * allocations too, and quietly (verbose 0: a test looks for splats, not
 * for its own faults).  0, or -1 when either type is missing.
 */
static inline int fault_inject_setup(void)
{
	static const char *const types[] = { "failslab", "fail_page_alloc" };
	char dir[64];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(dir, sizeof(dir), FAULT_DEBUGFS "/%s", types[i]);
		if (access(dir, F_OK))
			return -1;
		if (fault_knob(types[i], "verbose", "0") ||
		    fault_knob(types[i], "ignore-gfp-wait", "N"))
			return -1;
	}
	return 0;
}

/* The calling thread's fail-nth, opened; -1 with errno on failure. */
static inline int fail_nth_open(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	return open(path, O_RDWR | O_CLOEXEC);
}

/* The n-th fault-injection site this thread reaches from now on fails. */
static inline int fail_nth_set(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(fd, buf, len, 0) == len ? 0 : -1;
}

/* What is left of the count: 0 once a failure was injected; -1 on error. */
static inline long fail_nth_left(int fd)
{
	char buf[16] = "";

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

/* Disarms; returns what was left of the count (see fail_nth_left()). */
static inline long fail_nth_disarm(int fd)
{
	long left = fail_nth_left(fd);

	if (fail_nth_set(fd, 0))
		return -1;
	return left;
}

/*
 * The message of the WARN the 6.1 IOMMU core prints by itself when a
 * driver cannot re-attach a group's default domain, a failure xvm-iommu
 * handles.  A test that may cause it brackets the call with
 * expect_splat_begin() and expect_splat_end(): the host's log scan
 * (scripts/lib.sh) drops that one splat between the marks.
 */
#define XVM_CORE_REATTACH_SPLAT "iommu driver failed to attach the default"

static inline void kmsg_write(const char *a, const char *b)
{
	char line[192];
	int fd, len;

	len = snprintf(line, sizeof(line), "%s%s", a, b);
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, line, len) != len)
		perror("kmsg");
	close(fd);
}

static inline void expect_splat_begin(const char *text)
{
	kmsg_write("XVM-EXPECT-SPLAT-BEGIN ", text);
}

static inline void expect_splat_end(void)
{
	kmsg_write("XVM-EXPECT-SPLAT-END", "");
}

#endif /* _XVM_FAULT_H */
