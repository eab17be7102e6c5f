// SPDX-License-Identifier: GPL-2.0
/*
 * Control for frame-types.sh: the same calls as the must-fail files, each
 * through its named conversion.  Must compile (with -Werror).
 */
#include <linux/module.h>
#include <xvm/frame.h>

static u64 take_dfn(struct xvm_dfn dfn)
{
	return dfn_to_iova(dfn);
}

static u64 take_gfn(struct xvm_gfn gfn)
{
	return gfn_to_gpa(gfn);
}

static int __init frame_types_init(void)
{
	struct xvm_gfn gfn = xvm_gfn(1);
	struct xvm_mfn mfn = xvm_mfn(2);

	return (take_dfn(gfn_to_dfn(gfn)) + take_gfn(xvm_gfn(3)) +
		mfn_to_phys(mfn)) ? 0 : 1;
}
module_init(frame_types_init);
MODULE_LICENSE("GPL");
