// SPDX-License-Identifier: GPL-2.0
/* Event channels: not implemented yet. */
#include "internal.h"

int xvm_evtchn_init(struct xvm_vm *vm)
{
	return 0;
}

void xvm_evtchn_destroy(struct xvm_vm *vm)
{
}

long xvm_evtchn_vm_ioctl(struct xvm_vm *vm, unsigned int cmd,
			 void __user *argp)
{
	return -ENOTTY;
}

__poll_t xvm_evtchn_vcpu_poll(struct xvm_vcpu *vcpu)
{
	return 0;
}
