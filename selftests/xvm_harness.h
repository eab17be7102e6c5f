/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kselftest_harness.h as xvm's selftests include it.
 *
 * The selftests build with -Wall -Wextra -Werror, and the 6.1 harness
 * trips -Wextra: its functions have unused parameters, ASSERT_EQ(0,
 * some_unsigned) compares int with unsigned, and the for-loop each
 * ASSERT/EXPECT ends with (for an optional TH_LOG) looks misleading when a
 * block follows.  Those three, and only those, are silenced here, once.
 */
#ifndef _XVM_HARNESS_H
#define _XVM_HARNESS_H

#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#include "kselftest_harness.h"

#endif /* _XVM_HARNESS_H */
