/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The two PCI test devices' registers and recipes, on a mapped BAR0:
 *
 *  - QEMU's edu (1234:11e8, docs/specs/edu.rst, hw/misc/edu.c) as a DMA
 *    engine: it copies between a bus address and its own 4 KiB buffer at
 *    EDU_BUF when SRC, DST, CNT and then CMD (RUN, and TO_RAM for the
 *    buffer -> RAM direction) are written; RUN clears when done.  Its DMA
 *    mask is 28 bits.
 *  - the e1000e (82574, 8086:10d3) as an MSI-X source: IVAR maps the
 *    interrupt causes to vectors, IMS enables them, and a write of a cause
 *    bit to ICS raises it (the 82574 datasheet, 10.2.4).  Causes 0..4
 *    (RxQ0, RxQ1, TxQ0, TxQ1, Other) are bits 20..24 of ICR/ICS/IMS.
 */
#ifndef _XVM_HOST_TESTDEV_H
#define _XVM_HOST_TESTDEV_H

#include <stdbool.h>
#include <stdint.h>

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_IDENT	0x00
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_RUN	1
#define EDU_DMA_TO_RAM	2
#define EDU_BUF		0x40000ULL
#define EDU_MAX_IOVA	0x10000000ULL

/* 0 if bar0 is an edu's (its ident register reads 0x..ed), else -1. */
int edu_probe(volatile void *bar0);
/* One transfer; waits (up to 10 s) for RUN to clear; -1 ETIMEDOUT. */
int edu_dma(volatile void *bar0, uint64_t src, uint64_t dst, uint64_t cnt,
	    bool to_ram);
/* RAM -> the edu's buffer -> RAM: the device reads from, then writes to. */
int edu_dma_copy(volatile void *bar0, uint64_t from, uint64_t to,
		 uint64_t len);

#define E1000E_VENDOR	0x8086
#define E1000E_DEVICE	0x10d3
#define E_ICR		0xc0
#define E_ICS		0xc8
#define E_IMS		0xd0
#define E_IMC		0xd8
#define E_IVAR		0xe4
#define E_EITR(n)	(0xe8 + 4 * (n))	/* vector n's throttling, 0: none */
#define E_IVAR_ALL	0x000cba98u	/* causes 0..4 -> vectors 0..4, valid */
#define E_IMS_ALL	0x01f00000u
#define E_CAUSE(n)	(1u << (20 + (n)))
#define E_NR_CAUSES	5

/* Masks and clears every cause, routes causes 0..4 to vectors 0..4, unmasks. */
void e1000e_msix_route(volatile void *bar0);
/*
 * Clears the old causes, then raises cause vec: the device sends MSI-X
 * vector vec.  -1 EOPNOTSUPP for a vector without a cause.
 */
int e1000e_msix_fire(volatile void *bar0, unsigned int vec);

#endif /* _XVM_HOST_TESTDEV_H */
