/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The typed IOMMU operations layer: device frames (dfn) onto machine frames
 * (mfn) in a kernel IOMMU domain, and nothing else.  It knows neither guest
 * frames nor user addresses; the caller converts with the named helpers of
 * <xvm/frame.h>.
 *
 * Page sizes: a physically contiguous run is handed to the IOMMU API in one
 * piece, which splits it into the largest sizes of the domain's
 * pgsize_bitmap that the alignment of IOVA and physical address allow (2M
 * and 1G leaves for hugetlb and THP memory under intel-iommu).  Unmapping
 * must cover exactly what was mapped: iommu_unmap() of 4K inside a 2M leaf
 * removes the whole leaf.
 *
 * IOTLB syncs: one per map call (per XVM_IOMMU_MAP_BATCH frames for
 * scattered memory), and one per unmap batch: unmap_pages() only queues in
 * an iommu_iotlb_gather, iotlb_flush() syncs it.  Pages must stay pinned
 * until the flush that follows their unmap.
 *
 * Locking: none here; the caller serialises use of a domain (xvm_iommu's
 * io->lock), which also protects the statistics.
 */
#ifndef _XVM_IOMMU_OPS_H
#define _XVM_IOMMU_OPS_H

#include <linux/iommu.h>

#include <xvm/frame.h>

#define XVM_IOMMUF_READ		BIT(0)
#define XVM_IOMMUF_WRITE	BIT(1)

/* Frames mapped per iommu_map_sg() call, and per map-side IOTLB sync. */
#define XVM_IOMMU_MAP_BATCH	BIT(16)

struct xvm_iommu_domain {
	struct iommu_domain *domain;
	int prot_extra;			/* IOMMU_CACHE when coherent */
	u64 runs;			/* contiguous runs mapped */
	u64 syncs;			/* IOTLB syncs issued */
};

int xvm_iommu_map_pages(struct xvm_iommu_domain *d, struct xvm_dfn dfn,
			struct xvm_mfn mfn, u64 count, unsigned int flags);
int xvm_iommu_map_pinned(struct xvm_iommu_domain *d, struct xvm_dfn dfn,
			 struct page **pages, u64 count, unsigned int flags);
void xvm_iommu_unmap_pages(struct xvm_iommu_domain *d, struct xvm_dfn dfn,
			   u64 count, struct iommu_iotlb_gather *gather);
void xvm_iommu_iotlb_flush(struct xvm_iommu_domain *d,
			   struct iommu_iotlb_gather *gather);
bool xvm_iommu_lookup(struct xvm_iommu_domain *d, struct xvm_dfn dfn,
		      struct xvm_mfn *mfn);

/* pages.c: pinning, accounted against RLIMIT_MEMLOCK as VFIO type1 does. */
int xvm_iommu_pin(struct mm_struct *mm, unsigned long uaddr, u64 npages,
		  bool write, struct page **pages);
void xvm_iommu_unpin(struct mm_struct *mm, struct page **pages, u64 npages,
		     bool dirty);

#endif /* _XVM_IOMMU_OPS_H */
