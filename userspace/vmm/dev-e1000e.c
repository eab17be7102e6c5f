// SPDX-License-Identifier: GPL-2.0
/*
 * The e1000e (82574, 8086:10d3) as an MSI-X source for the interposer
 * tests: BAR0 IVAR maps the interrupt causes to vectors, IMS enables them,
 * and a write of a cause bit to ICS raises it (the 82574 datasheet,
 * 10.2.4).  Causes 0..4 (RxQ0, RxQ1, TxQ0, TxQ1, Other) are bits 20..24 of
 * ICR/ICS/IMS; they are mapped one to one to vectors 0..4.
 */
#define _GNU_SOURCE
#include <errno.h>

#include "vmm.h"

#define E_ICR		0xc0
#define E_ICS		0xc8
#define E_IMS		0xd0
#define E_IMC		0xd8
#define E_IVAR		0xe4
#define E_IVAR_ALL	0x000cba98u	/* causes 0..4 -> vectors 0..4, valid */
#define E_IMS_ALL	0x01f00000u
#define E_CAUSE(n)	(1u << (20 + (n)))
#define E_NR_CAUSES	5

static void e1000e_msix_route(volatile void *bar0)
{
	volatile uint32_t *r = bar0;

	r[E_IMC / 4] = 0xffffffffu;
	r[E_ICR / 4] = 0xffffffffu;
	r[E_IVAR / 4] = E_IVAR_ALL;
	r[E_IMS / 4] = E_IMS_ALL;
}

/* Clear the old causes, then raise cause vec: the device sends vector vec. */
static int e1000e_msix_fire(volatile void *bar0, unsigned int vec,
			    const char *who)
{
	volatile uint32_t *r = bar0;

	if (vec >= E_NR_CAUSES) {
		errno = EOPNOTSUPP;
		return -1;
	}
	r[E_ICR / 4] = 0xffffffffu;
	r[E_ICS / 4] = E_CAUSE(vec);
	if (opt_verbose)
		fprintf(stderr, "  mmio %s BAR0 ICS <- 0x%x (raise cause %u)\n", who,
			E_CAUSE(vec), vec);
	return 0;
}

const struct dev_ops dev_e1000e_ops = {
	.name = "e1000e",
	.vendor = 0x8086, .device = 0x10d3,
	.msix_route = e1000e_msix_route,
	.msix_fire = e1000e_msix_fire,
};
