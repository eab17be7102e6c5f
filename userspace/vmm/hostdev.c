// SPDX-License-Identifier: GPL-2.0
/*
 * Host PCI device binding.  Without libvirt: sysfs driver_override (unbind
 * the current driver, set the override, drivers_probe).  Built with
 * XVM_HAVE_LIBVIRT: libvirt's node-device API (virNodeDeviceDetachFlags /
 * virNodeDeviceReAttach), what libvirt users know as managed hostdevs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef XVM_HAVE_LIBVIRT
#include <libvirt/libvirt.h>
#endif

#include "vmm.h"

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

void pci_driver_of(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	buf[0] = 0;
	if (n > 0) {
		link[n] = 0;
		snprintf(buf, len, "%s", strrchr(link, '/') + 1);
	}
}

int iommu_group_of(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = 0;
	return atoi(strrchr(link, '/') + 1);
}

static void sysfs_unbind(const char *bdf)
{
	char path[PATH_MAX], drv[64];

	pci_driver_of(bdf, drv, sizeof(drv));
	if (!drv[0])
		return;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	traced(sysfs_write(path, bdf), "sysfs %s <- %s", path, bdf);
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
	char path[PATH_MAX], cur[64];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", p->bdf);
	if (access(path, F_OK)) {
		errno = ENODEV;
		return -1;
	}
	pci_driver_of(p->bdf, old, oldlen);
	if (driver ? !strcmp(old, driver) : !old[0])
		return 0;
#ifdef XVM_HAVE_LIBVIRT
	if (driver && !traced(virt_detach(p, driver), "virNodeDeviceDetachFlags %s %s",
			      p->bdf, driver)) {
		pci_driver_of(p->bdf, cur, sizeof(cur));
		if (!strcmp(cur, driver))
			return 0;
	}
	/* libvirtd not running, or it chose otherwise: fall back to sysfs. */
#endif
	sysfs_unbind(p->bdf);
	if (!driver)
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", p->bdf);
	if (traced(sysfs_write(path, driver), "sysfs %s <- %s", path, driver))
		return -1;
	traced(sysfs_write("/sys/bus/pci/drivers_probe", p->bdf),
	       "sysfs /sys/bus/pci/drivers_probe <- %s", p->bdf);
	pci_driver_of(p->bdf, cur, sizeof(cur));
	if (strcmp(cur, driver)) {
		errno = ENODEV;
		return -1;
	}
	return 0;
}

/* Undoes hostdev_bind(): no override, back to unbound (old: informational). */
void hostdev_release(const struct pci_addr *p, const char *old)
{
	char path[PATH_MAX];

	(void)old;
#ifdef XVM_HAVE_LIBVIRT
	virt_reattach(p);
#endif
	sysfs_unbind(p->bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", p->bdf);
	traced(sysfs_write(path, "\n"), "sysfs %s <- (none)", path);
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
