/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory accounting the pinning paths must leave as they found it: this
 * process's locked memory (VmLck, mm->locked_vm) and the system-wide
 * pinned-page balance (FOLL_PIN acquired - released, /proc/vmstat).
 *
 * No harness here.  Everything is static inline.
 */
#ifndef _XVM_MEM_H
#define _XVM_MEM_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "xvm_pci.h"	/* sysfs_write() */

/* VmLck of this process in KiB: mm->locked_vm, what pinning accounts. */
static inline long locked_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * Pages pinned system-wide, after folding the per-CPU counters: each
 * pinned 4 KiB page holds one reference more while pinned.  -1 if
 * /proc/vmstat does not say.
 */
static inline int64_t pins(void)
{
	long long acq = -1, rel = -1, v;
	char name[64];
	FILE *f;

	sysfs_write("/proc/sys/vm/stat_refresh", "1");
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acq = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			rel = v;
	}
	fclose(f);
	return acq < 0 || rel < 0 ? -1 : acq - rel;
}

#endif /* _XVM_MEM_H */
