// SPDX-License-Identifier: GPL-2.0
/* XVM_POLL: not implemented yet. */
#include "internal.h"

long xvm_poll_ioctl(struct xvm_vcpu *vcpu, struct xvm_poll __user *argp)
{
	return -ENOTTY;
}
