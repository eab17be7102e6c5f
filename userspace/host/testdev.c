// SPDX-License-Identifier: GPL-2.0
/* The PCI test devices' recipes (testdev.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>

#include "testdev.h"

int edu_probe(volatile void *bar0)
{
	return (*(volatile uint32_t *)((volatile uint8_t *)bar0 + EDU_IDENT) & 0xff) ==
	       0xed ? 0 : -1;
}

int edu_dma(volatile void *bar0, uint64_t src, uint64_t dst, uint64_t cnt,
	    bool to_ram)
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

int edu_dma_copy(volatile void *bar0, uint64_t from, uint64_t to, uint64_t len)
{
	if (edu_dma(bar0, from, EDU_BUF, len, false))
		return -1;
	return edu_dma(bar0, EDU_BUF, to, len, true);
}

void e1000e_msix_route(volatile void *bar0)
{
	volatile uint32_t *r = bar0;

	r[E_IMC / 4] = 0xffffffffu;
	r[E_ICR / 4] = 0xffffffffu;
	r[E_IVAR / 4] = E_IVAR_ALL;
	r[E_IMS / 4] = E_IMS_ALL;
}

int e1000e_msix_fire(volatile void *bar0, unsigned int vec)
{
	volatile uint32_t *r = bar0;

	if (vec >= E_NR_CAUSES) {
		errno = EOPNOTSUPP;
		return -1;
	}
	r[E_ICR / 4] = 0xffffffffu;
	r[E_ICS / 4] = E_CAUSE(vec);
	return 0;
}
