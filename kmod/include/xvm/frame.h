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

/*
 * XVM_FRAME_TYPE(gfn) defines struct xvm_gfn and its helpers xvm_gfn(),
 * gfn_x(), gfn_add() and gfn_eq() (Xen's TYPE_SAFE, for three kinds).
 */
#define XVM_FRAME_TYPE(name)						\
struct xvm_##name {							\
	u64 nr;								\
};									\
									\
static inline struct xvm_##name xvm_##name(u64 v)			\
{									\
	return (struct xvm_##name){ .nr = v };				\
}									\
									\
static inline u64 name##_x(struct xvm_##name f)				\
{									\
	return f.nr;							\
}									\
									\
static inline struct xvm_##name name##_add(struct xvm_##name f, u64 n)	\
{									\
	return xvm_##name(f.nr + n);					\
}									\
									\
static inline bool name##_eq(struct xvm_##name a, struct xvm_##name b)	\
{									\
	return a.nr == b.nr;						\
}

XVM_FRAME_TYPE(gfn)
XVM_FRAME_TYPE(dfn)
XVM_FRAME_TYPE(mfn)

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
