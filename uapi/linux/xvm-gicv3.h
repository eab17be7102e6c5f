/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * GICv3 register offsets and fields (Arm IHI 0069, the GICv3/v4
 * architecture specification), as xvm-vgic emulates them: the offsets a VMM
 * gives XVM_DEV_ARM_VGIC_GRP_DIST_REGS / _REDIST_REGS and finds in the
 * distributor and redistributor frames on the bus. One definition for the
 * kernel module, the VMM, the selftests and the benchmarks.
 */
#ifndef _UAPI_LINUX_XVM_GICV3_H
#define _UAPI_LINUX_XVM_GICV3_H

/* Distributor (GICD_*), one 64 KiB frame */
#define XVM_GICD_CTLR			0x0000
#define XVM_GICD_TYPER			0x0004
#define XVM_GICD_IIDR			0x0008
#define XVM_GICD_TYPER2			0x000c
#define XVM_GICD_STATUSR		0x0010
#define XVM_GICD_SETSPI_NSR		0x0040
#define XVM_GICD_CLRSPI_NSR		0x0048
#define XVM_GICD_SETSPI_SR		0x0050
#define XVM_GICD_CLRSPI_SR		0x0058
#define XVM_GICD_IGROUPR		0x0080
#define XVM_GICD_ISENABLER		0x0100
#define XVM_GICD_ICENABLER		0x0180
#define XVM_GICD_ISPENDR		0x0200
#define XVM_GICD_ICPENDR		0x0280
#define XVM_GICD_ISACTIVER		0x0300
#define XVM_GICD_ICACTIVER		0x0380
#define XVM_GICD_IPRIORITYR		0x0400
#define XVM_GICD_ITARGETSR		0x0800
#define XVM_GICD_ICFGR			0x0c00
#define XVM_GICD_IGRPMODR		0x0d00
#define XVM_GICD_NSACR			0x0e00
#define XVM_GICD_SGIR			0x0f00
#define XVM_GICD_IROUTER		0x6000
#define XVM_GICD_IDREGS			0xffd0	/* PIDR4..7, PIDR0..3, CIDR0..3 */
#define XVM_GICD_PIDR2			0xffe8

#define XVM_GICD_CTLR_ENABLE_G0		(1U << 0)
#define XVM_GICD_CTLR_ENABLE_G1		(1U << 1)
#define XVM_GICD_CTLR_ARE		(1U << 4)
#define XVM_GICD_CTLR_DS		(1U << 6)

#define XVM_GICD_TYPER_MBIS		(1U << 16)
#define XVM_GICD_TYPER_IDBITS_SHIFT	19
#define XVM_GICD_TYPER_NO1N		(1U << 25)

/* Redistributor RD_base frame (GICR_*) */
#define XVM_GICR_CTLR			0x0000
#define XVM_GICR_IIDR			0x0004
#define XVM_GICR_TYPER			0x0008
#define XVM_GICR_STATUSR		0x0010
#define XVM_GICR_WAKER			0x0014
#define XVM_GICR_PROPBASER		0x0070
#define XVM_GICR_PENDBASER		0x0078
#define XVM_GICR_INVLPIR		0x00a0
#define XVM_GICR_INVALLR		0x00b0
#define XVM_GICR_SYNCR			0x00c0
#define XVM_GICR_IDREGS			XVM_GICD_IDREGS
#define XVM_GICR_PIDR2			XVM_GICD_PIDR2

#define XVM_GICR_TYPER_LAST		(1U << 4)
#define XVM_GICR_TYPER_PROC_SHIFT	8
#define XVM_GICR_TYPER_AFF_SHIFT	32
#define XVM_GICR_WAKER_SLEEP		(1U << 1)	/* ProcessorSleep */
#define XVM_GICR_WAKER_ASLEEP		(1U << 2)	/* ChildrenAsleep */

/* Redistributor SGI_base frame, 64 KiB above RD_base */
#define XVM_GICR_SGI_BASE		0x10000
#define XVM_GICR_IGROUPR0		(XVM_GICR_SGI_BASE + 0x0080)
#define XVM_GICR_ISENABLER0		(XVM_GICR_SGI_BASE + 0x0100)
#define XVM_GICR_ICENABLER0		(XVM_GICR_SGI_BASE + 0x0180)
#define XVM_GICR_ISPENDR0		(XVM_GICR_SGI_BASE + 0x0200)
#define XVM_GICR_ICPENDR0		(XVM_GICR_SGI_BASE + 0x0280)
#define XVM_GICR_ISACTIVER0		(XVM_GICR_SGI_BASE + 0x0300)
#define XVM_GICR_ICACTIVER0		(XVM_GICR_SGI_BASE + 0x0380)
#define XVM_GICR_IPRIORITYR0		(XVM_GICR_SGI_BASE + 0x0400)
#define XVM_GICR_ICFGR0			(XVM_GICR_SGI_BASE + 0x0c00)
#define XVM_GICR_IGRPMODR0		(XVM_GICR_SGI_BASE + 0x0d00)
#define XVM_GICR_NSACR			(XVM_GICR_SGI_BASE + 0x0e00)

/*
 * CPU interface system registers (ICC_*_EL1), as the instr field of
 * XVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS names them: the A64 MRS/MSR encoding
 * Op0 [15:14] Op1 [13:11] CRn [10:7] CRm [6:3] Op2 [2:0], KVM's layout.
 */
#define XVM_ICC_SYSREG(op0, op1, crn, crm, op2)				\
	(((op0) << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2))
#define XVM_ICC_PMR_EL1			XVM_ICC_SYSREG(3, 0, 4, 6, 0)
#define XVM_ICC_BPR0_EL1		XVM_ICC_SYSREG(3, 0, 12, 8, 3)
#define XVM_ICC_AP0R_EL1(n)		XVM_ICC_SYSREG(3, 0, 12, 8, 4 | (n))
#define XVM_ICC_AP1R_EL1(n)		XVM_ICC_SYSREG(3, 0, 12, 9, (n))
#define XVM_ICC_RPR_EL1			XVM_ICC_SYSREG(3, 0, 12, 11, 3)
#define XVM_ICC_BPR1_EL1		XVM_ICC_SYSREG(3, 0, 12, 12, 3)
#define XVM_ICC_CTLR_EL1		XVM_ICC_SYSREG(3, 0, 12, 12, 4)
#define XVM_ICC_SRE_EL1			XVM_ICC_SYSREG(3, 0, 12, 12, 5)
#define XVM_ICC_IGRPEN0_EL1		XVM_ICC_SYSREG(3, 0, 12, 12, 6)
#define XVM_ICC_IGRPEN1_EL1		XVM_ICC_SYSREG(3, 0, 12, 12, 7)

#define XVM_ICC_PMR_MASK		0xffU
#define XVM_ICC_BPR_MASK		0x7U
#define XVM_ICC_IGRPEN_ENABLE		(1U << 0)

#define XVM_ICC_CTLR_CBPR		(1U << 0)
#define XVM_ICC_CTLR_EOIMODE		(1U << 1)
#define XVM_ICC_CTLR_PMHE		(1U << 6)
#define XVM_ICC_CTLR_PRIBITS_SHIFT	8	/* priority bits - 1, RO */
#define XVM_ICC_CTLR_PRIBITS_MASK	(7U << 8)
#define XVM_ICC_CTLR_IDBITS_SHIFT	11	/* 0: 16-bit INTIDs, RO */
#define XVM_ICC_CTLR_IDBITS_MASK	(7U << 11)
#define XVM_ICC_CTLR_SEIS		(1U << 14)
#define XVM_ICC_CTLR_A3V		(1U << 15)
#define XVM_ICC_CTLR_RSS		(1U << 18)
#define XVM_ICC_CTLR_EXTRANGE		(1U << 19)

#define XVM_ICC_SRE_SRE			(1U << 0)
#define XVM_ICC_SRE_DFB			(1U << 1)
#define XVM_ICC_SRE_DIB			(1U << 2)

#endif /* _UAPI_LINUX_XVM_GICV3_H */
