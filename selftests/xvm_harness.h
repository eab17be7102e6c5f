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
 */
#ifndef _XVM_HARNESS_H
#define _XVM_HARNESS_H

#include <errno.h>
#include <stdint.h>
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

/* A test device (XVM_DEV_TYPE_TEST) in vmfd: its fd, or -1. */
static inline int create_testdev(int vmfd)
{
	int fd = -1;

	if (xvm_create_device(vmfd, XVM_DEV_TYPE_TEST, 0, &fd))
		return -1;
	return fd;
}

#endif /* _XVM_HARNESS_H */
