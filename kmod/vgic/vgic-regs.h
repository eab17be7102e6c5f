/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GICv3 register offsets and fields the emulation uses (GICv3/v4
 * architecture specification, IHI 0069): the registers themselves are in
 * <linux/xvm-gicv3.h>, shared with the VMM and the tests (rather than
 * <linux/irqchip/arm-gic-v3.h>, which only builds on arm and arm64); the
 * kernel-only field helpers are here.
 */
#ifndef _XVM_VGIC_REGS_H
#define _XVM_VGIC_REGS_H

#include <linux/bits.h>
#include <linux/sizes.h>
#include <linux/xvm-gicv3.h>

#define VGIC_SPI_INTID_MASK	0x3ff	/* GICD_SETSPI_NSR.INTID */
#define VGIC_IROUTER_AFF_MASK	0xffffff	/* Aff2.Aff1.Aff0 */

/* ICC_SGI1R_EL1 fields */
#define VGIC_SGI_TARGETS(v)	((u32)(v) & 0xffff)
#define VGIC_SGI_AFF1(v)	(((v) >> 16) & 0xff)
#define VGIC_SGI_INTID(v)	(((v) >> 24) & 0xf)
#define VGIC_SGI_AFF2(v)	(((v) >> 32) & 0xff)
#define VGIC_SGI_IRM		BIT_ULL(40)
#define VGIC_SGI_RS(v)		(((v) >> 44) & 0xf)
#define VGIC_SGI_AFF3(v)	(((v) >> 48) & 0xff)

#endif /* _XVM_VGIC_REGS_H */
