/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What XVM_POLL (poll.c) and module init (main.c) need from the event
 * channels (evtchn.c).
 */
#ifndef _XVM_CORE_EVTCHN_H
#define _XVM_CORE_EVTCHN_H

#include <xvm/core.h>

bool xvm_evtchn_port_valid(struct xvm_vm *vm, u32 port);
bool xvm_evtchn_pending(struct xvm_vm *vm, u32 port);
u32 xvm_evtchn_vcpu_event(struct xvm_vcpu *vcpu);
/* port: the only port polled, or -1 when several are. */
void xvm_evtchn_poll_begin(struct xvm_vcpu *vcpu, int port);
void xvm_evtchn_poll_end(struct xvm_vcpu *vcpu);

int xvm_evtchn_module_init(void);
void xvm_evtchn_module_exit(void);

#endif /* _XVM_CORE_EVTCHN_H */
