// SPDX-License-Identifier: GPL-2.0
/*
 * The e1000e (82574, 8086:10d3) as an MSI-X source for the interposer
 * tests: causes 0..4 mapped one to one to vectors 0..4, a cause raised
 * through ICS (the registers and recipe: host/testdev.h).
 */
#define _GNU_SOURCE
#include <stdio.h>

#include "host/testdev.h"
#include "vmm.h"

/* Raises cause vec (host/testdev.h): the device sends vector vec. */
static int e1000e_fire(volatile void *bar0, unsigned int vec, const char *who)
{
	if (e1000e_msix_fire(bar0, vec))
		return -1;
	if (opt_verbose)
		fprintf(stderr, "  mmio %s BAR0 ICS <- 0x%x (raise cause %u)\n", who,
			E_CAUSE(vec), vec);
	return 0;
}

const struct dev_ops dev_e1000e_ops = {
	.name = "e1000e",
	.vendor = E1000E_VENDOR, .device = E1000E_DEVICE,
	.msix_route = e1000e_msix_route,
	.msix_fire = e1000e_fire,
};
