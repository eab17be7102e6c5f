/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Frame numbers that never mix.
 *
 *   gfn: guest frame number   (guest physical address >> PAGE_SHIFT)
 *   dfn: device frame number  (IOVA >> PAGE_SHIFT)
 *   mfn: machine frame number (host pfn)
 *
 * Each is a single-member struct, so passing one where another is expected
 * does not compile.  Build a value with xvm_gfn()/xvm_dfn()/xvm_mfn(), read
 * it with gfn_x()/dfn_x()/mfn_x(); each conversion between kinds is one
 * named function, so every place that crosses address spaces is greppable.
 */
#ifndef _XVM_FRAME_H
#define _XVM_FRAME_H

#include <linux/types.h>
#include <linux/mm.h>

struct xvm_gfn {
	u64 gfn;
};

static inline struct xvm_gfn xvm_gfn(u64 v)
{
	return (struct xvm_gfn){ .gfn = v };
}

static inline u64 gfn_x(struct xvm_gfn f)
{
	return f.gfn;
}

static inline struct xvm_gfn gfn_add(struct xvm_gfn f, u64 n)
{
	return xvm_gfn(f.gfn + n);
}

static inline bool gfn_eq(struct xvm_gfn a, struct xvm_gfn b)
{
	return a.gfn == b.gfn;
}

struct xvm_dfn {
	u64 dfn;
};

static inline struct xvm_dfn xvm_dfn(u64 v)
{
	return (struct xvm_dfn){ .dfn = v };
}

static inline u64 dfn_x(struct xvm_dfn f)
{
	return f.dfn;
}

static inline struct xvm_dfn dfn_add(struct xvm_dfn f, u64 n)
{
	return xvm_dfn(f.dfn + n);
}

static inline bool dfn_eq(struct xvm_dfn a, struct xvm_dfn b)
{
	return a.dfn == b.dfn;
}

struct xvm_mfn {
	u64 mfn;
};

static inline struct xvm_mfn xvm_mfn(u64 v)
{
	return (struct xvm_mfn){ .mfn = v };
}

static inline u64 mfn_x(struct xvm_mfn f)
{
	return f.mfn;
}

static inline struct xvm_mfn mfn_add(struct xvm_mfn f, u64 n)
{
	return xvm_mfn(f.mfn + n);
}

static inline bool mfn_eq(struct xvm_mfn a, struct xvm_mfn b)
{
	return a.mfn == b.mfn;
}

/* printk: pr_info("gfn %" PRI_gfn "\n", gfn_x(g)); */
#define PRI_gfn "#llx"
#define PRI_dfn "#llx"
#define PRI_mfn "#llx"

static inline struct xvm_gfn gpa_to_gfn(u64 gpa)
{
	return xvm_gfn(gpa >> PAGE_SHIFT);
}

static inline u64 gfn_to_gpa(struct xvm_gfn gfn)
{
	return gfn_x(gfn) << PAGE_SHIFT;
}

static inline u64 dfn_to_iova(struct xvm_dfn dfn)
{
	return dfn_x(dfn) << PAGE_SHIFT;
}

/* The device sees guest memory at IOVA == guest physical address. */
static inline struct xvm_dfn gfn_to_dfn(struct xvm_gfn gfn)
{
	return xvm_dfn(gfn_x(gfn));
}

static inline phys_addr_t mfn_to_phys(struct xvm_mfn mfn)
{
	return (phys_addr_t)mfn_x(mfn) << PAGE_SHIFT;
}

static inline struct xvm_mfn page_to_mfn(struct page *page)
{
	return xvm_mfn(page_to_pfn(page));
}

/* The host frame holding physical address phys. */
static inline struct xvm_mfn phys_to_mfn(phys_addr_t phys)
{
	return xvm_mfn(phys >> PAGE_SHIFT);
}

#endif /* _XVM_FRAME_H */
