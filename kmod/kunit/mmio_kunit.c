// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the MMIO bus (kmod/core/mmio.c).  They run when
 * xvm-kunit.ko is loaded, which only the debug-kernel lane does: the module
 * is built only with XVM_KUNIT=y on a kernel with CONFIG_KUNIT (see Kbuild).
 * The helpers of mmio.c they call are exported only to this namespace.
 */
#include <kunit/test.h>
#include <linux/module.h>

#include "xvm_compat.h"
#include "internal.h"
#include "mmio.h"

struct xvm_mmio_kunit_dev {
	struct xvm_mmio_region region;
	u64 last_offset;
	unsigned int calls;
};

static int xvm_mmio_kunit_read(struct xvm_vcpu *vcpu,
			       struct xvm_mmio_region *region, u64 offset,
			       unsigned int len, u64 *val)
{
	struct xvm_mmio_kunit_dev *d = container_of(region,
					struct xvm_mmio_kunit_dev, region);

	d->last_offset = offset;
	d->calls++;
	*val = region->base;
	return 0;
}

static const struct xvm_mmio_ops xvm_mmio_kunit_ops = {
	.read = xvm_mmio_kunit_read,
};

static struct xvm_vm *xvm_mmio_kunit_vm(struct kunit *test)
{
	struct xvm_vm *vm = kunit_kzalloc(test, sizeof(*vm), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, vm);
	mutex_init(&vm->mmio_lock);
	return vm;
}

static struct xvm_mmio_kunit_dev *xvm_mmio_kunit_dev(struct kunit *test,
						     u64 base, u64 size)
{
	struct xvm_mmio_kunit_dev *d = kunit_kzalloc(test, sizeof(*d),
						     GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, d);
	d->region.base = base;
	d->region.size = size;
	d->region.ops = &xvm_mmio_kunit_ops;
	return d;
}

static void xvm_mmio_kunit_exit(struct kunit *test)
{
	struct xvm_vm *vm = test->priv;

	if (vm)
		xvm_mmio_bus_free(vm);
}

static struct xvm_vm *xvm_mmio_kunit_setup(struct kunit *test)
{
	test->priv = xvm_mmio_kunit_vm(test);
	return test->priv;
}

static u64 xvm_mmio_kunit_read_at(struct xvm_vm *vm, u64 addr,
				  unsigned int len, int *r)
{
	u64 val = ~0ULL;

	*r = xvm_mmio_access(vm, NULL, addr, len, false, &val);
	return val;
}

/* Regions registered out of order are found at every address they cover. */
static void xvm_mmio_test_lookup(struct kunit *test)
{
	static const u64 bases[] = { 0x5000, 0x1000, 0x9000, 0x3000, 0x7000 };
	struct xvm_vm *vm = xvm_mmio_kunit_setup(test);
	struct xvm_mmio_kunit_dev *d[ARRAY_SIZE(bases)];
	unsigned int i;
	int r;

	for (i = 0; i < ARRAY_SIZE(bases); i++) {
		d[i] = xvm_mmio_kunit_dev(test, bases[i], 0x1000);
		KUNIT_ASSERT_EQ(test, xvm_mmio_register(vm, &d[i]->region), 0);
	}
	for (i = 0; i < ARRAY_SIZE(bases); i++) {
		KUNIT_EXPECT_EQ(test, xvm_mmio_kunit_read_at(vm, bases[i], 4, &r),
				bases[i]);
		KUNIT_EXPECT_EQ(test, r, 0);
		KUNIT_EXPECT_EQ(test, xvm_mmio_kunit_read_at(vm, bases[i] + 0xff8,
							     8, &r), bases[i]);
		KUNIT_EXPECT_EQ(test, r, 0);
		KUNIT_EXPECT_EQ(test, d[i]->last_offset, 0xff8ULL);
		/* The gap after each region belongs to nobody. */
		xvm_mmio_kunit_read_at(vm, bases[i] + 0x1000, 4, &r);
		KUNIT_EXPECT_EQ(test, r, -ENOENT);
	}
	xvm_mmio_kunit_read_at(vm, 0, 1, &r);
	KUNIT_EXPECT_EQ(test, r, -ENOENT);
}

/* An access must lie wholly inside one region. */
static void xvm_mmio_test_straddle(struct kunit *test)
{
	struct xvm_vm *vm = xvm_mmio_kunit_setup(test);
	struct xvm_mmio_kunit_dev *a = xvm_mmio_kunit_dev(test, 0x1000, 0x1000);
	struct xvm_mmio_kunit_dev *b = xvm_mmio_kunit_dev(test, 0x2000, 0x1000);
	int r;

	KUNIT_ASSERT_EQ(test, xvm_mmio_register(vm, &a->region), 0);
	KUNIT_ASSERT_EQ(test, xvm_mmio_register(vm, &b->region), 0);
	xvm_mmio_kunit_read_at(vm, 0x1ffc, 8, &r);
	KUNIT_EXPECT_EQ(test, r, -ENOENT);
	KUNIT_EXPECT_EQ(test, a->calls + b->calls, 0U);
	xvm_mmio_kunit_read_at(vm, 0x2ffc, 8, &r);
	KUNIT_EXPECT_EQ(test, r, -ENOENT);
}

/* Every kind of overlap is refused; adjacency is not overlap. */
static void xvm_mmio_test_overlap(struct kunit *test)
{
	static const struct { u64 base, size; int r; } cases[] = {
		{ 0x2000, 0x1000, -EEXIST },	/* the same */
		{ 0x1800, 0x1000, -EEXIST },	/* from below */
		{ 0x2800, 0x1000, -EEXIST },	/* from above */
		{ 0x1000, 0x3000, -EEXIST },	/* around */
		{ 0x2400, 0x100, -EEXIST },	/* inside */
		{ 0x1000, 0x1000, 0 },		/* just below */
		{ 0x3000, 0x1000, 0 },		/* just above */
	};
	struct xvm_vm *vm = xvm_mmio_kunit_setup(test);
	struct xvm_mmio_kunit_dev *d;
	unsigned int i;

	d = xvm_mmio_kunit_dev(test, 0x2000, 0x1000);
	KUNIT_ASSERT_EQ(test, xvm_mmio_register(vm, &d->region), 0);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		d = xvm_mmio_kunit_dev(test, cases[i].base, cases[i].size);
		KUNIT_EXPECT_EQ_MSG(test, xvm_mmio_register(vm, &d->region),
				    cases[i].r, "case %u", i);
	}
	d = xvm_mmio_kunit_dev(test, ~0ULL - 0xfff, 0x2000);	/* wraps */
	KUNIT_EXPECT_EQ(test, xvm_mmio_register(vm, &d->region), -EINVAL);
	d = xvm_mmio_kunit_dev(test, 0x9000, 0);
	KUNIT_EXPECT_EQ(test, xvm_mmio_register(vm, &d->region), -EINVAL);
}

/* A tombstone claims nothing, yet a live range behind it still counts. */
static void xvm_mmio_test_tombstone(struct kunit *test)
{
	struct xvm_mmio_kunit_dev *live = xvm_mmio_kunit_dev(test, 0x3000,
							      0x1000);
	struct xvm_mmio_bus *bus;

	bus = kunit_kzalloc(test, struct_size(bus, ranges, 2), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bus);
	bus->nr = 2;
	bus->ranges[0] = (struct xvm_mmio_range){ 0x2000, 0x2fff, NULL };
	bus->ranges[1] = (struct xvm_mmio_range){ 0x3000, 0x3fff,
						  &live->region };

	/* Over the tombstone: it goes after it, and the copy drops it. */
	KUNIT_EXPECT_EQ(test, xvm_mmio_insert_pos(bus, 0x2000, 0x2fff), 1);
	KUNIT_EXPECT_EQ(test, xvm_mmio_insert_pos(bus, 0x1000, 0x37ff),
			-EEXIST);
	KUNIT_EXPECT_EQ(test, xvm_mmio_insert_pos(bus, 0x4000, 0x4fff), 2);
	KUNIT_EXPECT_EQ(test, xvm_mmio_nr_live(bus), 1U);
}

/* Unregistering removes exactly one region, whatever the order. */
static void xvm_mmio_test_unregister(struct kunit *test)
{
	struct xvm_vm *vm = xvm_mmio_kunit_setup(test);
	struct xvm_mmio_kunit_dev *d[8];
	unsigned int i;
	int r;

	for (i = 0; i < ARRAY_SIZE(d); i++) {
		d[i] = xvm_mmio_kunit_dev(test, 0x10000 * (i + 1), 0x100);
		KUNIT_ASSERT_EQ(test, xvm_mmio_register(vm, &d[i]->region), 0);
	}
	for (i = 0; i < ARRAY_SIZE(d); i += 2)
		xvm_mmio_unregister(vm, &d[i]->region);
	xvm_mmio_synchronize();
	for (i = 0; i < ARRAY_SIZE(d); i++) {
		xvm_mmio_kunit_read_at(vm, d[i]->region.base, 4, &r);
		KUNIT_EXPECT_EQ(test, r, i % 2 ? 0 : -ENOENT);
	}
	/* The freed space can be claimed again. */
	KUNIT_EXPECT_EQ(test, xvm_mmio_register(vm, &d[0]->region), 0);
}

/* The bus holds XVM_MMIO_MAX_REGIONS and no more. */
static void xvm_mmio_test_full(struct kunit *test)
{
	struct xvm_vm *vm = xvm_mmio_kunit_setup(test);
	struct xvm_mmio_kunit_dev *d;
	unsigned int i;

	d = kunit_kcalloc(test, XVM_MMIO_MAX_REGIONS + 1, sizeof(*d),
			  GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, d);
	for (i = 0; i <= XVM_MMIO_MAX_REGIONS; i++) {
		d[i].region.base = 0x1000ULL * i;
		d[i].region.size = 0x1000;
		d[i].region.ops = &xvm_mmio_kunit_ops;
	}
	for (i = 0; i < XVM_MMIO_MAX_REGIONS; i++)
		KUNIT_ASSERT_EQ(test, xvm_mmio_register(vm, &d[i].region), 0);
	KUNIT_EXPECT_EQ(test, xvm_mmio_register(vm, &d[i].region), -ENOSPC);
}

static struct kunit_case xvm_mmio_test_cases[] = {
	KUNIT_CASE(xvm_mmio_test_lookup),
	KUNIT_CASE(xvm_mmio_test_straddle),
	KUNIT_CASE(xvm_mmio_test_overlap),
	KUNIT_CASE(xvm_mmio_test_tombstone),
	KUNIT_CASE(xvm_mmio_test_unregister),
	KUNIT_CASE(xvm_mmio_test_full),
	{}
};

static struct kunit_suite xvm_mmio_test_suite = {
	.name = "xvm_mmio",
	.exit = xvm_mmio_kunit_exit,
	.test_cases = xvm_mmio_test_cases,
};

kunit_test_suite(xvm_mmio_test_suite);

MODULE_AUTHOR("xvm developers");
MODULE_VERSION(XVM_VERSION);
MODULE_DESCRIPTION("xvm: KUnit tests of the core (not for production)");
MODULE_LICENSE("GPL");
XVM_IMPORT_KUNIT_NS();
XVM_IMPORT_NS();
