// SPDX-License-Identifier: GPL-2.0
/* Host PCI functions through sysfs (pci.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pci.h"

void (*pci_sysfs_trace)(int ret, const char *path, const char *val);

int sysfs_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

long sysfs_read_long(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return atol(buf);
}

/* sysfs_write() of the device file /sys/bus/pci/<file>, traced. */
static int pci_write(const char *file, const char *val)
{
	char path[PATH_MAX];
	int ret, err;

	snprintf(path, sizeof(path), "/sys/bus/pci/%s", file);
	ret = sysfs_write(path, val);
	err = errno;
	if (pci_sysfs_trace)
		pci_sysfs_trace(ret, path, val);
	errno = err;
	return ret;
}

static int pci_dev_write(const char *bdf, const char *file, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "devices/%s/%s", bdf, file);
	return pci_write(path, val);
}

long pci_read_hex(const char *bdf, const char *file)
{
	char path[PATH_MAX], buf[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 16) : -1;
}

int pci_exists(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	return access(path, F_OK) == 0;
}

/* The last component of the link /sys/bus/pci/devices/<bdf>/<file>. */
static int pci_link_name(const char *bdf, const char *file, char *buf,
			 size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, file);
	n = readlink(path, link, sizeof(link) - 1);
	buf[0] = 0;
	if (n <= 0)
		return -1;
	link[n] = 0;
	snprintf(buf, len, "%s", strrchr(link, '/') + 1);
	return 0;
}

const char *pci_driver(const char *bdf, char *buf, size_t len)
{
	pci_link_name(bdf, "driver", buf, len);
	return buf;
}

int pci_unbind(const char *bdf)
{
	char drv[64];

	if (!*pci_driver(bdf, drv, sizeof(drv)))
		return 0;
	return pci_dev_write(bdf, "driver/unbind", bdf);
}

void pci_reset_binding(const char *bdf)
{
	pci_unbind(bdf);
	pci_dev_write(bdf, "driver_override", "\n");
}

int pci_bind(const char *bdf, const char *drv)
{
	char cur[64];

	if (!strcmp(pci_driver(bdf, cur, sizeof(cur)), drv))
		return 0;
	if (pci_unbind(bdf) || pci_dev_write(bdf, "driver_override", drv))
		return -1;
	pci_write("drivers_probe", bdf);
	if (strcmp(pci_driver(bdf, cur, sizeof(cur)), drv)) {
		errno = ENODEV;
		return -1;
	}
	return 0;
}

int iommu_group_of(const char *bdf)
{
	char name[32];

	if (pci_link_name(bdf, "iommu_group", name, sizeof(name)))
		return -1;
	return atoi(name);
}

void *pci_bar0_map(const char *bdf, size_t size)
{
	uint16_t cmd = 0x0107;	/* memory, bus master, SERR */
	char path[PATH_MAX];
	void *bar;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (pwrite(fd, &cmd, 2, 4) != 2) {
		close(fd);
		return NULL;
	}
	close(fd);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", bdf);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	bar = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return bar == MAP_FAILED ? NULL : bar;
}
