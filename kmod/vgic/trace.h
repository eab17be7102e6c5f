/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of xvm-vgic.ko (trace system "xvm_vgic"): acknowledge and
 * EOI at a vCPU's CPU interface.  Arguments are values and pointers at
 * hand; TP_fast_assign derives the fields only while the event is enabled.
 * trace.c creates them; docs/tracing.md lists the fields.
 */
#if !defined(_XVM_VGIC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _XVM_VGIC_TRACE_H

#include <linux/tracepoint.h>

#include "vgic.h"

#undef TRACE_SYSTEM
#define TRACE_SYSTEM xvm_vgic

/*
 * ICC_IAR<group>_EL1 read (XVM_VGIC_ACK): the INTID acknowledged, 1023
 * (spurious) if none was deliverable.  HPPIR reads are not traced.
 */
TRACE_EVENT_CONDITION(xvm_vgic_ack,
		      TP_PROTO(const struct xvm_vgic_cpu *c, u32 group,
			       bool acknowledge, u32 intid,
			       const u32 *priority),
		      TP_ARGS(c, group, acknowledge, intid, priority),

		      TP_CONDITION(acknowledge),

		      TP_STRUCT__entry(__field(u64, vm)
				       __field(u32, vcpu)
				       __field(u32, group)
				       __field(u32, intid)
				       __field(u32, priority)
		      ),

		      TP_fast_assign(__entry->vm = c->vgic->vm->id;
				     __entry->vcpu = c->id;
				     __entry->group = group;
				     __entry->intid = intid;
				     __entry->priority = *priority;
		      ),

		      TP_printk("vm %llu vcpu %u group %u intid %u priority 0x%x",
				__entry->vm, __entry->vcpu, __entry->group,
				__entry->intid, __entry->priority)
);

/* ICC_EOIR (drop, and deactivate unless EOImode) or ICC_DIR (deactivate). */
TRACE_EVENT(xvm_vgic_eoi,
	    TP_PROTO(const struct xvm_vgic_cpu *c, u32 intid, bool drop,
		     bool deactivate),
	    TP_ARGS(c, intid, drop, deactivate),

	    TP_STRUCT__entry(__field(u64, vm)
			     __field(u32, vcpu)
			     __field(u32, intid)
			     __field(bool, drop)
			     __field(bool, deactivate)
	    ),

	    TP_fast_assign(__entry->vm = c->vgic->vm->id;
			   __entry->vcpu = c->id;
			   __entry->intid = intid;
			   __entry->drop = drop;
			   __entry->deactivate = deactivate;
	    ),

	    TP_printk("vm %llu vcpu %u intid %u drop %d deactivate %d",
		      __entry->vm, __entry->vcpu, __entry->intid,
		      __entry->drop, __entry->deactivate)
);

#endif /* _XVM_VGIC_TRACE_H */

/* Relative to this directory: trace.c is built with -I$(src). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace

/* This part must be outside protection. */
#include <trace/define_trace.h>
