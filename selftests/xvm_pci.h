/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PCI devices the tests and benchmarks drive, and the sysfs, VFIO and
 * kernel-log plumbing they share: the host library (userspace/host/,
 * libxvm-host.a), which the VMM uses too.
 *
 *  - host/env.h: the devices, from XVM_TEST_EDU / XVM_TEST_E1000E;
 *  - host/pci.h: sysfs files, driver binding, IOMMU groups;
 *  - host/vfio.h: a device opened through VFIO;
 *  - host/testdev.h: the edu's and the e1000e's registers;
 *  - host/kmsg.h: the kernel log, the IOMMU fault finder.
 *
 * No harness here (bench/ and tools/fuzz/ include it too).
 */
#ifndef _XVM_PCI_H
#define _XVM_PCI_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "host/env.h"
#include "host/kmsg.h"
#include "host/pci.h"
#include "host/testdev.h"
#include "host/vfio.h"

#endif /* _XVM_PCI_H */
