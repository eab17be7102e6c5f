/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GICv3 register offsets and fields the emulation uses (GICv3/v4
 * architecture specification, IHI 0069).  Kept here rather than taken from
 * <linux/irqchip/arm-gic-v3.h>, which only builds on arm and arm64.
 */
#ifndef _XVM_VGIC_REGS_H
#define _XVM_VGIC_REGS_H

#include <linux/bits.h>
#include <linux/sizes.h>

/* Distributor (GICD_*), one 64 KiB frame */
#define VGICD_CTLR		0x0000
#define VGICD_TYPER		0x0004
#define VGICD_IIDR		0x0008
#define VGICD_TYPER2		0x000c
#define VGICD_STATUSR		0x0010
#define VGICD_SETSPI_NSR	0x0040
#define VGICD_CLRSPI_NSR	0x0048
#define VGICD_SETSPI_SR		0x0050
#define VGICD_CLRSPI_SR		0x0058
#define VGICD_IGROUPR		0x0080
#define VGICD_ISENABLER		0x0100
#define VGICD_ICENABLER		0x0180
#define VGICD_ISPENDR		0x0200
#define VGICD_ICPENDR		0x0280
#define VGICD_ISACTIVER		0x0300
#define VGICD_ICACTIVER		0x0380
#define VGICD_IPRIORITYR	0x0400
#define VGICD_ITARGETSR		0x0800
#define VGICD_ICFGR		0x0c00
#define VGICD_IGRPMODR		0x0d00
#define VGICD_NSACR		0x0e00
#define VGICD_SGIR		0x0f00
#define VGICD_IROUTER		0x6000
#define VGICD_IDREGS		0xffd0	/* PIDR4..7, PIDR0..3, CIDR0..3 */
#define VGICD_PIDR2		0xffe8

#define VGICD_CTLR_ENABLE_G0	BIT(0)
#define VGICD_CTLR_ENABLE_G1	BIT(1)
#define VGICD_CTLR_ARE		BIT(4)
#define VGICD_CTLR_DS		BIT(6)

#define VGICD_TYPER_MBIS	BIT(16)
#define VGICD_TYPER_IDBITS_SHIFT 19
#define VGICD_TYPER_NO1N	BIT(25)

#define VGIC_SPI_INTID_MASK	0x3ff	/* GICD_SETSPI_NSR.INTID */
#define VGIC_IROUTER_AFF_MASK	0xffffff	/* Aff2.Aff1.Aff0 */

/* Redistributor RD_base frame (GICR_*) */
#define VGICR_CTLR		0x0000
#define VGICR_IIDR		0x0004
#define VGICR_TYPER		0x0008
#define VGICR_STATUSR		0x0010
#define VGICR_WAKER		0x0014
#define VGICR_PROPBASER		0x0070
#define VGICR_PENDBASER		0x0078
#define VGICR_INVLPIR		0x00a0
#define VGICR_INVALLR		0x00b0
#define VGICR_SYNCR		0x00c0
#define VGICR_IDREGS		VGICD_IDREGS

#define VGICR_TYPER_LAST	BIT(4)
#define VGICR_TYPER_PROC_SHIFT	8
#define VGICR_TYPER_AFF_SHIFT	32
#define VGICR_WAKER_SLEEP	BIT(1)	/* ProcessorSleep */
#define VGICR_WAKER_ASLEEP	BIT(2)	/* ChildrenAsleep */

/* Redistributor SGI_base frame, 64 KiB above RD_base */
#define VGICR_SGI_BASE		SZ_64K
#define VGICR_IGROUPR0		(VGICR_SGI_BASE + 0x0080)
#define VGICR_ISENABLER0	(VGICR_SGI_BASE + 0x0100)
#define VGICR_ICENABLER0	(VGICR_SGI_BASE + 0x0180)
#define VGICR_ISPENDR0		(VGICR_SGI_BASE + 0x0200)
#define VGICR_ICPENDR0		(VGICR_SGI_BASE + 0x0280)
#define VGICR_ISACTIVER0	(VGICR_SGI_BASE + 0x0300)
#define VGICR_ICACTIVER0	(VGICR_SGI_BASE + 0x0380)
#define VGICR_IPRIORITYR0	(VGICR_SGI_BASE + 0x0400)
#define VGICR_ICFGR0		(VGICR_SGI_BASE + 0x0c00)
#define VGICR_IGRPMODR0		(VGICR_SGI_BASE + 0x0d00)
#define VGICR_NSACR		(VGICR_SGI_BASE + 0x0e00)

/* ICC_SGI1R_EL1 fields */
#define VGIC_SGI_TARGETS(v)	((u32)(v) & 0xffff)
#define VGIC_SGI_AFF1(v)	(((v) >> 16) & 0xff)
#define VGIC_SGI_INTID(v)	(((v) >> 24) & 0xf)
#define VGIC_SGI_AFF2(v)	(((v) >> 32) & 0xff)
#define VGIC_SGI_IRM		BIT_ULL(40)
#define VGIC_SGI_RS(v)		(((v) >> 44) & 0xf)
#define VGIC_SGI_AFF3(v)	(((v) >> 48) & 0xff)

#endif /* _XVM_VGIC_REGS_H */
