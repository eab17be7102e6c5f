/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of xvm.ko (trace system "xvm"): MMIO dispatch, event-channel
 * send and raise, XVM_POLL's return.  docs/tracing.md lists the fields.
 *
 * Each call site is one trace_*() line: the arguments are pointers and
 * values already at hand, and anything derived from them is computed in
 * TP_fast_assign, which runs only while the event is enabled (a disabled
 * event is one patched-out static branch).  trace.c creates them.
 */
#if !defined(_XVM_CORE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _XVM_CORE_TRACE_H

#include <linux/tracepoint.h>

#include <xvm/core.h>

#include "evtchn-internal.h"

#undef TRACE_SYSTEM
#define TRACE_SYSTEM xvm

/* vcpu -1: an access a device made (an MSI write); ret 0: handled. */
TRACE_EVENT(xvm_mmio,
	    TP_PROTO(const struct xvm_vm *vm, const struct xvm_vcpu *vcpu,
		     u64 gpa, unsigned int len, bool write, const u64 *val,
		     int ret),
	    TP_ARGS(vm, vcpu, gpa, len, write, val, ret),

	    TP_STRUCT__entry(__field(u64, vm)
			     __field(s64, vcpu)
			     __field(u64, gpa)
			     __field(u32, len)
			     __field(bool, write)
			     __field(u64, val)
			     __field(int, ret)
	    ),

	    TP_fast_assign(__entry->vm = vm->id;
			   __entry->vcpu = vcpu ? (s64)vcpu->id : -1;
			   __entry->gpa = gpa;
			   __entry->len = len;
			   __entry->write = write;
			   /* A read that failed left *val unset. */
			   __entry->val = write || !ret ? *val : 0;
			   __entry->ret = ret;
	    ),

	    TP_printk("vm %llu vcpu %lld %s gpa 0x%llx len %u val 0x%llx ret %d",
		      __entry->vm, __entry->vcpu,
		      __entry->write ? "write" : "read", __entry->gpa,
		      __entry->len, __entry->val, __entry->ret)
);

/* XVM_EVTCHN_SEND on a local port; found 0: no such port (-EINVAL). */
TRACE_EVENT(xvm_evtchn_send,
	    TP_PROTO(const struct xvm_vm *vm, u32 port, bool found),
	    TP_ARGS(vm, port, found),

	    TP_STRUCT__entry(__field(u64, vm)
			     __field(u32, port)
			     __field(bool, found)
	    ),

	    TP_fast_assign(__entry->vm = vm->id;
			   __entry->port = port;
			   __entry->found = found;
	    ),

	    TP_printk("vm %llu port %u found %d",
		      __entry->vm, __entry->port, __entry->found)
);

/* A port went pending (a raise of a port already pending is not traced). */
TRACE_EVENT(xvm_evtchn_raise,
	    TP_PROTO(const struct xvm_vm *vm, u32 port,
		     const struct xvm_evtchn_port *from),
	    TP_ARGS(vm, port, from),

	    TP_STRUCT__entry(__field(u64, vm)
			     __field(u32, port)
			     __field(bool, masked)
			     __field(bool, interdomain)
	    ),

	    TP_fast_assign(__entry->vm = vm->id;
			   __entry->port = port;
			   __entry->masked = test_bit(port, vm->evtchn->masked);
			   __entry->interdomain = from;
	    ),

	    TP_printk("vm %llu port %u masked %d interdomain %d",
		      __entry->vm, __entry->port, __entry->masked,
		      __entry->interdomain)
);

/* XVM_POLL's wait ended: ret is the port, 0 (timeout) or -errno. */
TRACE_EVENT(xvm_poll_wake,
	    TP_PROTO(const struct xvm_vcpu *vcpu, u32 nr_ports, long ret),
	    TP_ARGS(vcpu, nr_ports, ret),

	    TP_STRUCT__entry(__field(u64, vm)
			     __field(u32, vcpu)
			     __field(u32, nr_ports)
			     __field(long, ret)
	    ),

	    TP_fast_assign(__entry->vm = vcpu->vm->id;
			   __entry->vcpu = vcpu->id;
			   __entry->nr_ports = nr_ports;
			   __entry->ret = ret;
	    ),

	    TP_printk("vm %llu vcpu %u nr_ports %u ret %ld",
		      __entry->vm, __entry->vcpu, __entry->nr_ports,
		      __entry->ret)
);

/* A vCPU's halt-poll window changed: KVM's kvm_halt_poll_ns. */
TRACE_EVENT(xvm_halt_poll_ns,
	    TP_PROTO(const struct xvm_vcpu *vcpu, bool grow, u32 new, u32 old),
	    TP_ARGS(vcpu, grow, new, old),

	    TP_STRUCT__entry(__field(u64, vm)
			     __field(u32, vcpu)
			     __field(bool, grow)
			     __field(u32, new)
			     __field(u32, old)
	    ),

	    TP_fast_assign(__entry->vm = vcpu->vm->id;
			   __entry->vcpu = vcpu->id;
			   __entry->grow = grow;
			   __entry->new = new;
			   __entry->old = old;
	    ),

	    TP_printk("vm %llu vcpu %u halt_poll_ns %u (%s %u)",
		      __entry->vm, __entry->vcpu, __entry->new,
		      __entry->grow ? "grow" : "shrink", __entry->old)
);

#endif /* _XVM_CORE_TRACE_H */

/* Relative to this directory: trace.c is built with -I$(src). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace

/* This part must be outside protection. */
#include <trace/define_trace.h>
