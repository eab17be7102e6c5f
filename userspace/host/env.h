/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PCI test devices the tests and benchmarks may drive, from the
 * environment, never from a fixed address:
 *
 *   XVM_TEST_EDU=BDF     a QEMU edu (1234:11e8), DMA through the IOMMU
 *   XVM_TEST_E1000E=BDF  an e1000e (8086:10d3, 5 MSI-X vectors)
 *
 * (BDF as in /sys/bus/pci/devices: 0000:00:04.0, or 00:04.0 in domain 0).
 * test_pci_edu() and test_pci_e1000e() check the address exists and has
 * that vendor:device; otherwise ->why says why, and a test needing the
 * device skips with it.  Unset or empty: no device, nothing is unbound,
 * bound or reloaded.  The sandbox guest sets both (scripts/run-selftests).
 */
#ifndef _XVM_HOST_ENV_H
#define _XVM_HOST_ENV_H

#include <stdint.h>

struct test_pci {
	const char *env;	/* the variable naming it */
	const char *what;	/* "an edu" */
	uint16_t vendor, device;
	int probed;
	int ok;			/* given, present, the right vendor:device */
	char bdf[16];		/* canonical DDDD:BB:SS.F; "" unless ok */
	uint16_t segment;
	uint8_t bus, devfn;	/* devfn: (slot << 3) | function */
	char why[192];		/* why not ok: a skip reason */
};

/* $env if set and not empty, else NULL. */
const char *test_pci_env(const char *env);
/* $XVM_TEST_EDU: the edu the tests may use (->ok), or why not (->why). */
const struct test_pci *test_pci_edu(void);
/* $XVM_TEST_E1000E: the e1000e the tests may use, or why not. */
const struct test_pci *test_pci_e1000e(void);

/*
 * The test devices' addresses ("" when not given: only used once ->ok was
 * checked, by a test that skips otherwise).
 */
#define EDU_BDF		(test_pci_edu()->bdf)
#define EDU_DEVFN	(test_pci_edu()->devfn)
#define E1000E_BDF	(test_pci_e1000e()->bdf)
#define E1000E_DEVFN	(test_pci_e1000e()->devfn)

#endif /* _XVM_HOST_ENV_H */
