// SPDX-License-Identifier: GPL-2.0
/* Must NOT compile: an mfn passed where a dfn is expected. */
#include <linux/module.h>
#include <xvm/frame.h>

static u64 take_dfn(struct xvm_dfn dfn)
{
	return dfn_to_iova(dfn);
}

static int __init frame_types_init(void)
{
	struct xvm_mfn mfn = xvm_mfn(2);

	return take_dfn(mfn) ? 0 : 1;	/* XVM-MUST-FAIL */
}
module_init(frame_types_init);
MODULE_LICENSE("GPL");
