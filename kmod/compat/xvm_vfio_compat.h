/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How xvm-msix proves that the caller owns a PCI function through VFIO.
 * It is the one place xvm reaches into VFIO's internals, so it lives here
 * with the other kernel-version dependencies.
 *
 * VFIO exports no "which device does this file give?" call, only
 * vfio_file_has_dev(group file, vfio_device). xvm finds the vfio_device of
 * a function bound to a vfio-pci-core driver (vfio-pci and its variants):
 * such drivers use vfio_pci_core_err_handlers and keep their
 * vfio_pci_core_device as the function's driver data. Linux 6.1 to 6.12
 * agree on all of that.
 *
 * VFIO device cdevs (CONFIG_VFIO_DEVICE_CDEV, 6.6+, the iommufd path) are
 * not groups: vfio_file_has_dev() answers only for group files, and no
 * exported call names the device behind a cdev file, so attaching with one
 * fails with EINVAL. Supporting them means a VFIO export that maps a
 * device file to its vfio_device (as KVM's vfio_file_is_valid() /
 * vfio_file_iommu_group() do for groups); the check below would then
 * compare that device with the function's, the rest of xvm-msix unchanged.
 */
#ifndef _XVM_VFIO_COMPAT_H
#define _XVM_VFIO_COMPAT_H

#include <linux/device.h>
#include <linux/pci.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

/* file is a VFIO group file (what XVM_MSIX_ATTACH takes). */
static inline bool xvm_vfio_file_is_group(struct file *file)
{
	return vfio_file_is_group(file);
}

/*
 * 0 if pdev is bound to a vfio-pci-core driver and its vfio_device is in
 * group, else -EPERM. The device lock keeps the binding (and the driver
 * data) stable while we look.
 */
static inline int xvm_vfio_group_has_pci_dev(struct file *group,
					     struct pci_dev *pdev)
{
	struct vfio_pci_core_device *vdev;
	int r = -EPERM;

	device_lock(&pdev->dev);
	if (pdev->dev.driver &&
	    to_pci_driver(pdev->dev.driver)->err_handler ==
	    &vfio_pci_core_err_handlers) {
		vdev = dev_get_drvdata(&pdev->dev);
		if (vdev && vfio_file_has_dev(group, &vdev->vdev))
			r = 0;
	}
	device_unlock(&pdev->dev);
	return r;
}

#endif /* _XVM_VFIO_COMPAT_H */
