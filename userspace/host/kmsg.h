/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel log (/dev/kmsg) read from a point on: its records one by one,
 * and the IOMMU's report of a faulting DMA.
 */
#ifndef _XVM_HOST_KMSG_H
#define _XVM_HOST_KMSG_H

#include <stdbool.h>
#include <stddef.h>

/* /dev/kmsg from its end, non-blocking: what the kernel logs from now on. */
int kmsg_open(void);
/*
 * kmsg_open() for iommu_fault_find().  On arm64 it first waits out the
 * arm-smmu-v3 event ratelimit (10 per 5 s, arm_smmu_evtq_thread): one
 * faulting DMA raises more than ten, and the coming fault must show.
 */
int kmsg_open_fault(void);
/* The next record into rec; false after 3 s without one (liveness bound). */
bool kmsg_next(int fd, char *rec, size_t size);
/*
 * Waits for a record holding every string of the NULL-terminated strs;
 * false once kmsg_next() gives up.
 */
bool kmsg_find(int fd, const char *const *strs);
/*
 * Waits for the IOMMU's report of a faulting DMA by the PCI function bdf
 * (a device write if write).  Intel VT-d: "DMAR: [DMA Write ...] ...
 * [00:04.0]".  arm-smmu-v3 (Linux 6.1): "event 0xNN received:", then the
 * record's words one per line; a translation, address-size, access or
 * permission fault (0x10-0x13) has the StreamID (the PCI requester id) in
 * word 0 [63:32] and RnW in word 1 bit 35.
 */
bool iommu_fault_find(int fd, const char *bdf, bool write);

#endif /* _XVM_HOST_KMSG_H */
