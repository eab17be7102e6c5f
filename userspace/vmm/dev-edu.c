// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU's edu device (1234:11e8, docs/specs/edu.rst) as a DMA engine for the
 * xvm-iommu tests: it copies between a bus address and its own 4 KiB buffer
 * at 0x40000 when SRC, DST, CNT and then CMD (RUN, and TO_RAM for the
 * buffer -> RAM direction) are written; RUN clears when done.  Its DMA mask
 * is 28 bits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>

#include "vmm.h"

#define EDU_IDENT	0x00
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_RUN	1
#define EDU_DMA_TO_RAM	2
#define EDU_BUF		0x40000ULL
#define EDU_MAX_IOVA	0x10000000ULL

static int edu_probe(volatile void *bar0)
{
	return (*(volatile uint32_t *)((volatile uint8_t *)bar0 + EDU_IDENT) & 0xff) ==
	       0xed ? 0 : -1;
}

/* One transfer; waits (up to 10 s) for RUN to clear. */
static int edu_dma(volatile void *bar0, uint64_t src, uint64_t dst,
		   uint64_t cnt, bool to_ram)
{
	volatile uint64_t *r = bar0;
	int i;

	r[EDU_DMA_SRC / 8] = src;
	r[EDU_DMA_DST / 8] = dst;
	r[EDU_DMA_CNT / 8] = cnt;
	r[EDU_DMA_CMD / 8] = EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0);
	for (i = 0; i < 10000; i++) {
		if (!(r[EDU_DMA_CMD / 8] & EDU_DMA_RUN))
			return 0;
		usleep(1000);
	}
	errno = ETIMEDOUT;
	return -1;
}

/* RAM -> the edu's buffer -> RAM: the device reads from, then writes to. */
static int edu_dma_copy(volatile void *bar0, uint64_t from, uint64_t to,
			uint64_t len)
{
	if (edu_dma(bar0, from, EDU_BUF, len, false))
		return -1;
	return edu_dma(bar0, EDU_BUF, to, len, true);
}

const struct dev_ops dev_edu_ops = {
	.name = "edu",
	.vendor = 0x1234, .device = 0x11e8,
	.probe = edu_probe,
	.dma_copy = edu_dma_copy,
	.dma_limit = EDU_MAX_IOVA,
};
