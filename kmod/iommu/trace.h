/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of xvm-iommu.ko (trace system "xvm_iommu"): a mapping made
 * or removed in the VM's IOMMU domain, explicit (XVM_IOMMU_MAP/UNMAP) or a
 * memory slot's mirror.  Arguments are pointers at hand; TP_fast_assign
 * derives the fields only while the event is enabled.  trace.c creates
 * them; docs/tracing.md lists the fields.
 */
#if !defined(_XVM_IOMMU_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _XVM_IOMMU_TRACE_H

#include <linux/tracepoint.h>

#include "iommu.h"

#undef TRACE_SYSTEM
#define TRACE_SYSTEM xvm_iommu

/* [dfn, dfn + count), XVM_IOMMUF_* flags, slot -1: an explicit mapping. */
DECLARE_EVENT_CLASS(xvm_iommu_area_class,
		    TP_PROTO(const struct xvm_iommu *io,
			     const struct xvm_iommu_area *area),
		    TP_ARGS(io, area),

		    TP_STRUCT__entry(__field(u64, vm)
				     __field(u64, dfn)
				     __field(u64, count)
				     __field(u32, flags)
				     __field(int, slot)
		    ),

		    TP_fast_assign(__entry->vm = io->vm->id;
				   __entry->dfn = area->node.start;
				   __entry->count = area->npages;
				   __entry->flags = area->flags;
				   __entry->slot = area->slot;
		    ),

		    TP_printk("vm %llu dfn 0x%llx count %llu flags 0x%x slot %d",
			      __entry->vm, __entry->dfn, __entry->count,
			      __entry->flags, __entry->slot)
);

/* Mapped in the domain and in the area tree. */
DEFINE_EVENT(xvm_iommu_area_class, xvm_iommu_map,
	     TP_PROTO(const struct xvm_iommu *io,
		      const struct xvm_iommu_area *area),
	     TP_ARGS(io, area)
);

/* About to be unmapped (its IOTLB flush follows) and leave the tree. */
DEFINE_EVENT(xvm_iommu_area_class, xvm_iommu_unmap,
	     TP_PROTO(const struct xvm_iommu *io,
		      const struct xvm_iommu_area *area),
	     TP_ARGS(io, area)
);

#endif /* _XVM_IOMMU_TRACE_H */

/* Relative to this directory: trace.c is built with -I$(src). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace

/* This part must be outside protection. */
#include <trace/define_trace.h>
