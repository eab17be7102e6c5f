/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host PCI functions through sysfs: small file helpers, driver binding
 * through driver_override, IOMMU groups, BAR0 through resource0.
 *
 * Driver bindings are global: whoever binds a device puts it back with
 * pci_reset_binding() (unbound, no driver_override: how the sandbox guest
 * boots).
 */
#ifndef _XVM_HOST_PCI_H
#define _XVM_HOST_PCI_H

#include <stddef.h>

/* Writes s to path: 0, or -1 unless all of it was written. */
int sysfs_write(const char *path, const char *s);
/* The number in path (0 if it does not read as one), -1 if it cannot open. */
long sysfs_read_long(const char *path);

/*
 * Called after every sysfs write the pci_*() functions make (ret: 0 or -1,
 * errno kept): the VMM traces them.  NULL: nothing is called.
 */
extern void (*pci_sysfs_trace)(int ret, const char *path, const char *val);

/* The hex number in /sys/bus/pci/devices/<bdf>/<file>, or -1. */
long pci_read_hex(const char *bdf, const char *file);
int pci_exists(const char *bdf);
/* The driver bound to bdf into buf ("" if none); buf. */
const char *pci_driver(const char *bdf, char *buf, size_t len);
/* Unbinds bdf's driver, if any: 0, or -1 if the unbind write failed. */
int pci_unbind(const char *bdf);
/*
 * Binds bdf to drv through driver_override; 0 when drv holds it, else -1
 * (errno ENODEV when drv did not take it).  A device drv already holds is
 * left alone: unbinding vfio-pci would wait for the device's users.
 */
int pci_bind(const char *bdf, const char *drv);
/* Unbound, no driver_override: how the guest boots. */
void pci_reset_binding(const char *bdf);
/* The number of bdf's IOMMU group, or -1. */
int iommu_group_of(const char *bdf);
/*
 * Memory decode, bus mastering and SERR on through sysfs config, the first
 * size bytes of BAR0 mapped (resource0, O_SYNC); NULL on failure.
 * Unmap with munmap(bar, size).
 */
void *pci_bar0_map(const char *bdf, size_t size);

#endif /* _XVM_HOST_PCI_H */
