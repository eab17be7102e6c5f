/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences of the IOMMU and GUP APIs xvm-iommu uses, and
 * nothing else.  Code outside kmod/compat/ never tests LINUX_VERSION_CODE.
 */
#ifndef _XVM_IOMMU_COMPAT_H
#define _XVM_IOMMU_COMPAT_H

#include <linux/version.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/pci.h>

/* 6.3 gave iommu_map() and iommu_map_sg() a gfp argument. */
static inline int xvm_iommu_map(struct iommu_domain *domain, unsigned long iova,
				phys_addr_t paddr, size_t size, int prot)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return iommu_map(domain, iova, paddr, size, prot, GFP_KERNEL_ACCOUNT);
#else
	return iommu_map(domain, iova, paddr, size, prot);
#endif
}

static inline ssize_t xvm_iommu_map_sg(struct iommu_domain *domain,
				       unsigned long iova,
				       struct scatterlist *sg,
				       unsigned int nents, int prot)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return iommu_map_sg(domain, iova, sg, nents, prot, GFP_KERNEL_ACCOUNT);
#else
	return iommu_map_sg(domain, iova, sg, nents, prot);
#endif
}

/*
 * 6.11 added iommu_paging_domain_alloc(dev) and later kernels dropped
 * iommu_domain_alloc(bus).  Returns an ERR_PTR on failure.
 */
static inline struct iommu_domain *xvm_iommu_domain_alloc(struct device *dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	return iommu_paging_domain_alloc(dev);
#else
	struct iommu_domain *domain = iommu_domain_alloc(dev->bus);

	return domain ? domain : ERR_PTR(-ENOMEM);
#endif
}

#endif /* _XVM_IOMMU_COMPAT_H */
