/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kselftest_harness.h as xvm's selftests include it, and what every test
 * shares on top of it: the errno assertions and a few small helpers.
 *
 * The selftests build with -Wall -Wextra -Werror, and the 6.1 harness
 * trips -Wextra: its functions have unused parameters, ASSERT_EQ(0,
 * some_unsigned) compares int with unsigned, and the for-loop each
 * ASSERT/EXPECT ends with (for an optional TH_LOG) looks misleading when a
 * block follows.  Those three, and only those, are silenced here, once.
 *
 * The helpers are static inline: a test that does not use one does not
 * warn about it.
 *
 * What a test needs and cannot find is a skip (KSFT_SKIP, 4), never a
 * failure: every binary that includes this skips as a whole when /dev/xvm
 * cannot be opened ("xvm.ko not loaded"; a test that also runs without it
 * defines XVM_HARNESS_NO_DEV_CHECK first), xvm_require_device_type() skips
 * a binary whose device type's module is not loaded, SETUP_SKIP() skips a
 * fixture's tests, and the PCI devices come from the environment
 * (XVM_TEST_EDU, XVM_TEST_E1000E: xvm_pci.h).
 */
#ifndef _XVM_HARNESS_H
#define _XVM_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libxvm.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#include "kselftest_harness.h"

/* expr must fail with -1 and errno err. */
#define ASSERT_ERR(expr, err) do {					\
	long __r; int __e;						\
	errno = 0;							\
	__r = (long)(expr);						\
	__e = errno;							\
	ASSERT_EQ(-1, __r) TH_LOG("%s: want -1/%s, got %ld", #expr,	\
				  strerror(err), __r);			\
	ASSERT_EQ(err, __e) TH_LOG("%s: want %s, got %s", #expr,	\
				   strerror(err), strerror(__e));	\
} while (0)

#define EXPECT_ERR(expr, err) do {					\
	long __r; int __e;						\
	errno = 0;							\
	__r = (long)(expr);						\
	__e = errno;							\
	EXPECT_EQ(-1, __r) TH_LOG("%s: want -1/%s, got %ld", #expr,	\
				  strerror(err), __r);			\
	if (__r == -1)							\
		EXPECT_EQ(err, __e) TH_LOG("%s: want %s, got %s", #expr,\
					   strerror(err), strerror(__e));\
} while (0)

/* expr must return 0. */
#define ASSERT_OK(expr) do {						\
	long __r;							\
	errno = 0;							\
	__r = (long)(expr);						\
	ASSERT_EQ(0, __r) TH_LOG("%s: %ld (%s)", #expr, __r,		\
				 strerror(errno));			\
} while (0)

#define EXPECT_OK(expr) do {						\
	long __r;							\
	errno = 0;							\
	__r = (long)(expr);						\
	EXPECT_EQ(0, __r) TH_LOG("%s: %ld (%s)", #expr, __r,		\
				 strerror(errno));			\
} while (0)

/* CLOCK_MONOTONIC in ns. */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Closes *fd if it is open, and marks it closed (-1). */
static inline void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * SKIP() from a fixture setup.  The 6.1 harness runs the test body after a
 * SKIP() in the setup: leave through the harness' own jump instead, as a
 * failed ASSERT does, with the test marked skipped.  The teardown does not
 * run either: skip before the setup binds or changes anything global.
 */
#define SETUP_SKIP(fmt, ...)						\
	SKIP(longjmp(_metadata->env, 1), fmt, ##__VA_ARGS__)

/* Exits KSFT_SKIP if /dev/xvm is missing or not ours to open. */
static inline void xvm_require_dev(void)
{
	int fd = xvm_open();

	if (fd >= 0) {
		close(fd);
		return;
	}
	if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
		ksft_exit_skip("xvm.ko not loaded (%s: %s)\n", XVM_DEV_PATH,
			       strerror(errno));
	if (errno == EACCES || errno == EPERM)
		ksft_exit_skip("%s: %s (needs root or the xvm group)\n",
			       XVM_DEV_PATH, strerror(errno));
}

#ifndef XVM_HARNESS_NO_DEV_CHECK
static void __attribute__((constructor)) xvm_harness_require_dev(void)
{
	xvm_require_dev();
}
#endif

/*
 * Whether a module has registered the device type: 1, 0 (ENODEV), or -1 if
 * that could not be asked (no /dev/xvm, no VM).
 */
static inline int xvm_has_device_type(uint32_t type)
{
	int xvm = xvm_open(), vm, ret = -1;

	vm = xvm < 0 ? -1 : xvm_create_vm(xvm, 0);
	if (vm >= 0) {
		if (!xvm_create_device(vm, type, XVM_CREATE_DEVICE_TEST, NULL))
			ret = 1;
		else if (errno == ENODEV)
			ret = 0;
		close(vm);
	}
	if (xvm >= 0)
		close(xvm);
	return ret;
}

/*
 * Exits KSFT_SKIP when the device type is not registered (XVM_CREATE_DEVICE
 * fails with ENODEV while its module, named by module, is not loaded).
 */
static inline void xvm_require_device_type(uint32_t type, const char *module)
{
	xvm_require_dev();
	if (xvm_has_device_type(type) == 0)
		ksft_exit_skip("%s not loaded (device type %u not registered)\n",
			       module, type);
}

/* A test device (XVM_DEV_TYPE_TEST) in vmfd: its fd, or -1. */
static inline int create_testdev(int vmfd)
{
	int fd = -1;

	if (xvm_create_device(vmfd, XVM_DEV_TYPE_TEST, 0, &fd))
		return -1;
	return fd;
}

#endif /* _XVM_HARNESS_H */
