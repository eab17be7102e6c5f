// SPDX-License-Identifier: GPL-2.0
/*
 * Creates xvm-iommu.ko's tracepoints (trace.h), once for the module; the
 * call sites only include trace.h.
 */
#define CREATE_TRACE_POINTS
#include "trace.h"
