// SPDX-License-Identifier: GPL-2.0
/* The kernel log read from a point on (kmsg.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmsg.h"

int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

int kmsg_open_fault(void)
{
#ifdef __aarch64__
	usleep(5200000);
#endif
	return kmsg_open();
}

bool kmsg_next(int fd, char *rec, size_t size)
{
	int idle;

	for (idle = 0; idle < 300;) {
		ssize_t n = read(fd, rec, size - 1);

		if (n < 0 && errno == EAGAIN) {
			usleep(10000);
			idle++;
			continue;
		}
		if (n <= 0)
			continue;	/* EPIPE: overwritten, go on */
		rec[n] = 0;
		return true;
	}
	return false;
}

static bool rec_has_all(const char *rec, const char *const *strs)
{
	for (; *strs; strs++)
		if (!strstr(rec, *strs))
			return false;
	return true;
}

bool kmsg_find(int fd, const char *const *strs)
{
	char rec[2048];

	while (kmsg_next(fd, rec, sizeof(rec)))
		if (rec_has_all(rec, strs))
			return true;
	return false;
}

/*
 * One arm-smmu-v3 event line: *word is the next event word expected (0 or
 * 1), -1 outside a fault event; true when the event is rid's fault.
 */
static bool smmu_fault_line(const char *rec, unsigned int rid, bool write,
			    int *word, unsigned long long *w0)
{
	const char *p = strstr(rec, "arm-smmu-v3 ");
	unsigned long long v;
	unsigned int ev;

	if (!p || !(p = strstr(p, ": ")) || !(p = strstr(p, "0x")))
		return false;
	if (strstr(rec, "event 0x") && sscanf(p, "0x%x received", &ev) == 1) {
		*word = ev >= 0x10 && ev <= 0x13 ? 0 : -1;
		return false;
	}
	v = strtoull(p, NULL, 16);
	if (*word == 0) {
		*w0 = v;
		*word = 1;
	} else if (*word == 1) {
		*word = -1;
		if (*w0 >> 32 == rid && !(write && (v >> 35 & 1)))
			return true;
	}
	return false;
}

bool iommu_fault_find(int fd, const char *bdf, bool write)
{
	unsigned int bus, dev, fn, rid;
	const char *dmar[] = { "DMAR", bdf + 5, write ? "DMA Write" : NULL, NULL };
	unsigned long long w0 = 0;
	char rec[2048];
	int word = -1;

	if (sscanf(bdf, "%*x:%x:%x.%x", &bus, &dev, &fn) != 3)
		return false;
	rid = bus << 8 | dev << 3 | fn;
	while (kmsg_next(fd, rec, sizeof(rec))) {
		if (rec_has_all(rec, dmar))
			return true;
		if (smmu_fault_line(rec, rid, write, &word, &w0))
			return true;
	}
	return false;
}
