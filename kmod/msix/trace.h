/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of xvm-msix.ko (trace system "xvm_msix"): a message
 * delivered, a fire latched in the PBA, a vector unmasked.  The function is
 * named by its PCI address (domain, bus, devfn).  Arguments are pointers at
 * hand; TP_fast_assign derives the fields only while the event is enabled.
 * trace.c creates them; docs/tracing.md lists the fields.
 */
#if !defined(_XVM_MSIX_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _XVM_MSIX_TRACE_H

#include <linux/pci.h>
#include <linux/tracepoint.h>

#include "msix.h"

#undef TRACE_SYSTEM
#define TRACE_SYSTEM xvm_msix

/* The MSI write, on the VM's bus (xvm:xvm_mmio, vcpu -1, has its result). */
TRACE_EVENT(xvm_msix_deliver,
	    TP_PROTO(const struct xvm_msix *m, const struct xvm_msix_msg *msg),
	    TP_ARGS(m, msg),

	    TP_STRUCT__entry(__field(u32, domain)
			     __field(u8, bus)
			     __field(u8, devfn)
			     __field(u64, addr)
			     __field(u32, data)
	    ),

	    TP_fast_assign(__entry->domain = pci_domain_nr(m->pdev->bus);
			   __entry->bus = m->pdev->bus->number;
			   __entry->devfn = m->pdev->devfn;
			   __entry->addr = msg->addr;
			   __entry->data = msg->data;
	    ),

	    TP_printk("%04x:%02x:%02x.%u addr 0x%llx data 0x%x",
		      __entry->domain, __entry->bus, PCI_SLOT(__entry->devfn),
		      PCI_FUNC(__entry->devfn), __entry->addr, __entry->data)
);

/* A fire of a masked vector, latched in its PBA bit. */
TRACE_EVENT(xvm_msix_latch,
	    TP_PROTO(const struct xvm_msix *m, u32 vector),
	    TP_ARGS(m, vector),

	    TP_STRUCT__entry(__field(u32, domain)
			     __field(u8, bus)
			     __field(u8, devfn)
			     __field(u32, vector)
	    ),

	    TP_fast_assign(__entry->domain = pci_domain_nr(m->pdev->bus);
			   __entry->bus = m->pdev->bus->number;
			   __entry->devfn = m->pdev->devfn;
			   __entry->vector = vector;
	    ),

	    TP_printk("%04x:%02x:%02x.%u vector %u",
		      __entry->domain, __entry->bus, PCI_SLOT(__entry->devfn),
		      PCI_FUNC(__entry->devfn), __entry->vector)
);

/*
 * A vector became unmasked (its entry, the function mask or MSI-X Enable):
 * the message it latched, and whether a pending fire is released.
 */
TRACE_EVENT(xvm_msix_unmask,
	    TP_PROTO(const struct xvm_msix *m, const struct xvm_msix_vector *v),
	    TP_ARGS(m, v),

	    TP_STRUCT__entry(__field(u32, domain)
			     __field(u8, bus)
			     __field(u8, devfn)
			     __field(u32, vector)
			     __field(u64, addr)
			     __field(u32, data)
			     __field(bool, pending)
	    ),

	    TP_fast_assign(__entry->domain = pci_domain_nr(m->pdev->bus);
			   __entry->bus = m->pdev->bus->number;
			   __entry->devfn = m->pdev->devfn;
			   __entry->vector = v - m->vectors;
			   __entry->addr = v->msg.addr;
			   __entry->data = v->msg.data;
			   __entry->pending = m->pba[__entry->vector / 64] &
					      BIT_ULL(__entry->vector % 64);
	    ),

	    TP_printk("%04x:%02x:%02x.%u vector %u addr 0x%llx data 0x%x pending %d",
		      __entry->domain, __entry->bus, PCI_SLOT(__entry->devfn),
		      PCI_FUNC(__entry->devfn), __entry->vector, __entry->addr,
		      __entry->data, __entry->pending)
);

#endif /* _XVM_MSIX_TRACE_H */

/* Relative to this directory: trace.c is built with -I$(src). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace

/* This part must be outside protection. */
#include <trace/define_trace.h>
