// SPDX-License-Identifier: GPL-2.0
/* Must NOT compile: a raw number passed where a gfn is expected. */
#include <linux/module.h>
#include <xvm/frame.h>

static u64 take_gfn(struct xvm_gfn gfn)
{
	return gfn_to_gpa(gfn);
}

static int __init frame_types_init(void)
{
	u64 raw = 3;

	return take_gfn(raw) ? 0 : 1;	/* XVM-MUST-FAIL */
}
module_init(frame_types_init);
MODULE_LICENSE("GPL");
