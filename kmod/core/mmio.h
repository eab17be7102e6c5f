/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The MMIO bus's private layout, shared by mmio.c and its KUnit test
 * (kmod/kunit/), which builds buses by hand and calls the helpers below.
 */
#ifndef _XVM_CORE_MMIO_H
#define _XVM_CORE_MMIO_H

#include <linux/rcupdate.h>
#include <linux/types.h>

struct xvm_mmio_region;

struct xvm_mmio_range {
	u64 base;
	u64 last;				/* inclusive */
	struct xvm_mmio_region *region;		/* NULL: tombstone */
};

struct xvm_mmio_bus {
	struct rcu_head rcu;
	u32 nr;
	struct xvm_mmio_range ranges[];
};

/* Static unless CONFIG_KUNIT: see VISIBLE_IF_KUNIT in xvm_compat.h. */
#if IS_ENABLED(CONFIG_KUNIT)
int xvm_mmio_insert_pos(const struct xvm_mmio_bus *bus, u64 base, u64 last);
u32 xvm_mmio_nr_live(const struct xvm_mmio_bus *bus);
#endif

#endif /* _XVM_CORE_MMIO_H */
