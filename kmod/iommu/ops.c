// SPDX-License-Identifier: GPL-2.0
/*
 * The typed IOMMU operations layer (see ops.h): map_pages(dfn, mfn, count),
 * unmap_pages(dfn, count) and one IOTLB sync per batch, on the kernel IOMMU
 * API.
 *
 * Locking: none; the caller serialises each domain (see ops.h).
 */
#include <linux/iommu.h>
#include <linux/scatterlist.h>

#include <xvm_iommu_compat.h>

#include "ops.h"

/* Longest scatterlist segment: page-aligned, fits sg->length. */
#define XVM_IOMMU_MAX_SEG	(UINT_MAX & PAGE_MASK)

static int xvm_iommu_prot(struct xvm_iommu_domain *d, unsigned int flags)
{
	int prot = d->prot_extra;

	if (flags & XVM_IOMMUF_READ)
		prot |= IOMMU_READ;
	if (flags & XVM_IOMMUF_WRITE)
		prot |= IOMMU_WRITE;
	return prot;
}

/*
 * Maps the count physically contiguous frames from mfn at dfn: one
 * iommu_map() call, which picks the largest page sizes, and one sync.
 */
int xvm_iommu_map_pages(struct xvm_iommu_domain *d, struct xvm_dfn dfn,
			struct xvm_mfn mfn, u64 count, unsigned int flags)
{
	int r;

	r = xvm_iommu_map(d->domain, dfn_to_iova(dfn), mfn_to_phys(mfn),
			  count << PAGE_SHIFT, xvm_iommu_prot(d, flags));
	if (r)
		return r;
	d->runs++;
	d->syncs++;
	return 0;
}

/* Frames from pages[0] that are physically contiguous, at most max. */
static u64 xvm_iommu_run(struct page **pages, u64 max)
{
	struct xvm_mfn first = page_to_mfn(pages[0]);
	u64 n;

	for (n = 1; n < max; n++)
		if (!mfn_eq(page_to_mfn(pages[n]), mfn_add(first, n)))
			break;
	return n;
}

/* One batch of at most XVM_IOMMU_MAP_BATCH frames: one sync. */
static int xvm_iommu_map_batch(struct xvm_iommu_domain *d, struct xvm_dfn dfn,
			       struct page **pages, unsigned int count,
			       unsigned int flags)
{
	size_t size = (size_t)count << PAGE_SHIFT;
	struct sg_table sgt;
	ssize_t mapped;
	int r;

	if (xvm_iommu_run(pages, count) == count)
		return xvm_iommu_map_pages(d, dfn, page_to_mfn(pages[0]), count,
					   flags);

	/* Coalesces contiguous pages into one segment each. */
	r = sg_alloc_table_from_pages_segment(&sgt, pages, count, 0, size,
					      XVM_IOMMU_MAX_SEG,
					      GFP_KERNEL_ACCOUNT);
	if (r)
		return r;
	mapped = xvm_iommu_map_sg(d->domain, dfn_to_iova(dfn), sgt.sgl,
				  sgt.orig_nents, xvm_iommu_prot(d, flags));
	if (mapped >= 0) {
		d->runs += sgt.orig_nents;
		d->syncs++;
	}
	sg_free_table(&sgt);
	if (mapped < 0)
		return mapped;
	if (WARN_ON_ONCE(mapped != size)) {
		iommu_unmap(d->domain, dfn_to_iova(dfn), mapped);
		return -EIO;
	}
	return 0;
}

/*
 * Maps pinned pages[0..count) at dfn.  On failure nothing of the range is
 * left mapped.
 */
int xvm_iommu_map_pinned(struct xvm_iommu_domain *d, struct xvm_dfn dfn,
			 struct page **pages, u64 count, unsigned int flags)
{
	struct iommu_iotlb_gather gather;
	u64 done, n;
	int r = 0;

	for (done = 0; done < count; done += n) {
		n = min_t(u64, count - done, XVM_IOMMU_MAP_BATCH);
		r = xvm_iommu_map_batch(d, dfn_add(dfn, done), pages + done, n,
					flags);
		if (r)
			break;
	}
	if (r && done) {
		iommu_iotlb_gather_init(&gather);
		xvm_iommu_unmap_pages(d, dfn, done, &gather);
		xvm_iommu_iotlb_flush(d, &gather);
	}
	return r;
}

/*
 * Queues the unmap of exactly count frames at dfn, which one earlier map
 * call (or several adjacent ones) created.
 */
void xvm_iommu_unmap_pages(struct xvm_iommu_domain *d, struct xvm_dfn dfn,
			   u64 count, struct iommu_iotlb_gather *gather)
{
	size_t size = count << PAGE_SHIFT;
	size_t done;

	done = iommu_unmap_fast(d->domain, dfn_to_iova(dfn), size, gather);
	WARN_ON_ONCE(done != size);
}

/* Syncs the IOTLB for everything queued in gather. */
void xvm_iommu_iotlb_flush(struct xvm_iommu_domain *d,
			   struct iommu_iotlb_gather *gather)
{
	iommu_iotlb_sync(d->domain, gather);
	d->syncs++;
}

/* The machine frame the IOMMU translates dfn to, from its page tables. */
bool xvm_iommu_lookup(struct xvm_iommu_domain *d, struct xvm_dfn dfn,
		      struct xvm_mfn *mfn)
{
	phys_addr_t phys = iommu_iova_to_phys(d->domain, dfn_to_iova(dfn));

	if (!phys)
		return false;
	*mfn = phys_to_mfn(phys);
	return true;
}
