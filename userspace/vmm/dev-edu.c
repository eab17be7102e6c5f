// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU's edu device (1234:11e8) as a DMA engine for the xvm-iommu tests;
 * its registers and DMA recipe are the host library's (host/testdev.h).
 */
#define _GNU_SOURCE
#include "host/testdev.h"
#include "vmm.h"

const struct dev_ops dev_edu_ops = {
	.name = "edu",
	.vendor = EDU_VENDOR, .device = EDU_DEVICE,
	.probe = edu_probe,
	.dma_copy = edu_dma_copy,
	.dma_limit = EDU_MAX_IOVA,
};
