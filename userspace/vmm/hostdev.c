// SPDX-License-Identifier: GPL-2.0
/*
 * Host PCI device binding.  Without libvirt: sysfs driver_override (unbind
 * the current driver, set the override, drivers_probe).  Built with
 * XVM_HAVE_LIBVIRT: libvirt's node-device API (virNodeDeviceDetachFlags /
 * virNodeDeviceReAttach), what libvirt users know as managed hostdevs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#ifdef XVM_HAVE_LIBVIRT
#include <libvirt/libvirt.h>
#endif

#include "host/pci.h"
#include "vmm.h"

/* The host library's sysfs writes, as the VMM traces them. */
static void trace_sysfs(int ret, const char *path, const char *val)
{
	traced(ret, "sysfs %s <- %s", path, strcmp(val, "\n") ? val : "(none)");
}

#ifdef XVM_HAVE_LIBVIRT
/* pci_0000_00_03_0 */
static virNodeDevicePtr virt_dev(virConnectPtr conn, const struct pci_addr *p)
{
	char name[64];

	snprintf(name, sizeof(name), "pci_%04x_%02x_%02x_%x", p->segment, p->bus,
		 p->devfn >> 3, p->devfn & 7);
	return virNodeDeviceLookupByName(conn, name);
}

static int virt_detach(const struct pci_addr *p, const char *driver)
{
	virConnectPtr conn = virConnectOpen(NULL);
	virNodeDevicePtr dev;
	int ret = -1;

	if (!conn)
		return -1;
	dev = virt_dev(conn, p);
	if (dev) {
		/* "vfio" is libvirt's name for vfio-pci; NULL lets it choose. */
		ret = virNodeDeviceDetachFlags(dev, strcmp(driver, "vfio-pci") ?
					       NULL : "vfio", 0);
		virNodeDeviceFree(dev);
	}
	virConnectClose(conn);
	return ret;
}

/* Detached through libvirt, and driver holds it now. */
static bool virt_detach_to(const struct pci_addr *p, const char *driver)
{
	char cur[64];

	return !traced(virt_detach(p, driver), "virNodeDeviceDetachFlags %s %s",
		       p->bdf, driver) &&
	       !strcmp(pci_driver(p->bdf, cur, sizeof(cur)), driver);
}

static void virt_reattach(const struct pci_addr *p)
{
	virConnectPtr conn = virConnectOpen(NULL);
	virNodeDevicePtr dev;

	if (!conn)
		return;
	dev = virt_dev(conn, p);
	if (dev) {
		virNodeDeviceReAttach(dev);
		virNodeDeviceFree(dev);
	}
	virConnectClose(conn);
}
#endif

/*
 * Binds p to driver ("vfio-pci"), or with driver NULL leaves it unbound;
 * *old gets the driver it had.  0 when the device ends up as asked.
 */
int hostdev_bind(const struct pci_addr *p, const char *driver, char *old,
		 size_t oldlen)
{
	pci_sysfs_trace = trace_sysfs;
	if (!pci_exists(p->bdf)) {
		errno = ENODEV;
		return -1;
	}
	pci_driver(p->bdf, old, oldlen);
	if (driver ? !strcmp(old, driver) : !old[0])
		return 0;
#ifdef XVM_HAVE_LIBVIRT
	/* libvirtd not running, or it chose otherwise: fall back to sysfs. */
	if (driver && virt_detach_to(p, driver))
		return 0;
#endif
	if (driver)
		return pci_bind(p->bdf, driver);
	pci_unbind(p->bdf);
	return 0;
}

/* Undoes hostdev_bind(): no override, back to unbound (old: informational). */
void hostdev_release(const struct pci_addr *p, const char *old)
{
	pci_sysfs_trace = trace_sysfs;
#ifdef XVM_HAVE_LIBVIRT
	virt_reattach(p);
#endif
	pci_reset_binding(p->bdf);
	if (old && old[0])
		traced(sysfs_write("/sys/bus/pci/drivers_probe", p->bdf),
		       "sysfs /sys/bus/pci/drivers_probe <- %s", p->bdf);
}

/* The quirks of a device the script knows how to drive, by vendor:device. */
const struct dev_ops *dev_ops_find(uint16_t vendor, uint16_t device)
{
	static const struct dev_ops *const all[] = { &dev_e1000e_ops, &dev_edu_ops };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(all); i++)
		if (all[i]->vendor == vendor && all[i]->device == device)
			return all[i];
	return NULL;
}
