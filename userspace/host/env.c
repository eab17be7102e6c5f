// SPDX-License-Identifier: GPL-2.0
/* The PCI test devices from the environment (env.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "env.h"
#include "pci.h"
#include "testdev.h"

const char *test_pci_env(const char *env)
{
	const char *v = getenv(env);

	return v && *v ? v : NULL;
}

/* DDDD:BB:SS.F, or BB:SS.F in domain 0, nothing after it, into d. */
static int test_pci_parse(struct test_pci *d, const char *v)
{
	unsigned int seg = 0, bus, slot, fn;
	char tail;
	int n;

	n = sscanf(v, "%x:%x:%x.%x%c", &seg, &bus, &slot, &fn, &tail);
	if (n != 4) {
		seg = 0;
		n = 1 + sscanf(v, "%x:%x.%x%c", &bus, &slot, &fn, &tail);
	}
	if (n != 4 || seg > 0xffff || bus > 0xff || slot > 0x1f || fn > 7)
		return -1;
	snprintf(d->bdf, sizeof(d->bdf), "%04x:%02x:%02x.%x", seg, bus, slot,
		 fn);
	d->segment = (uint16_t)seg;
	d->bus = (uint8_t)bus;
	d->devfn = (uint8_t)(slot << 3 | fn);
	return 0;
}

/* Fills d from its variable (once): the address parsed and checked. */
static void test_pci_probe(struct test_pci *d)
{
	const char *v = test_pci_env(d->env);
	long ven, dev;

	d->probed = 1;
	if (!v) {
		snprintf(d->why, sizeof(d->why),
			 "set %s=BDF (%s, %04x:%04x) to run", d->env, d->what,
			 d->vendor, d->device);
		return;
	}
	if (test_pci_parse(d, v)) {
		snprintf(d->why, sizeof(d->why),
			 "%s=%.32s: not a PCI address (DDDD:BB:SS.F)", d->env, v);
		return;
	}
	ven = pci_read_hex(d->bdf, "vendor");
	dev = pci_read_hex(d->bdf, "device");
	if (ven < 0 || dev < 0)
		snprintf(d->why, sizeof(d->why), "%s=%s: no such PCI device",
			 d->env, d->bdf);
	else if (ven != d->vendor || dev != d->device)
		snprintf(d->why, sizeof(d->why),
			 "%s=%s is %04lx:%04lx, not %s (%04x:%04x)", d->env,
			 d->bdf, ven, dev, d->what, d->vendor, d->device);
	else
		d->ok = 1;
	if (!d->ok) {
		d->bdf[0] = 0;
		d->segment = d->bus = d->devfn = 0;
	}
}

static const struct test_pci *test_pci_get(struct test_pci *d)
{
	if (!d->probed)
		test_pci_probe(d);
	return d;
}

const struct test_pci *test_pci_edu(void)
{
	static struct test_pci d = {
		.env = "XVM_TEST_EDU", .what = "an edu",
		.vendor = EDU_VENDOR, .device = EDU_DEVICE,
	};

	return test_pci_get(&d);
}

const struct test_pci *test_pci_e1000e(void)
{
	static struct test_pci d = {
		.env = "XVM_TEST_E1000E", .what = "an e1000e",
		.vendor = E1000E_VENDOR, .device = E1000E_DEVICE,
	};

	return test_pci_get(&d);
}
