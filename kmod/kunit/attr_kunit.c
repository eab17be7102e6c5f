// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the attribute tables xvm_register_device_ops() accepts
 * (kmod/core/device.c): sorted by group and first attribute, disjoint
 * ranges, a get or a set in each, values the core can buffer.
 *
 * The type registered is XVM_DEV_TYPE_TEST: a table the core refuses is
 * -EINVAL whoever holds the type, one it accepts is 0 (then unregistered
 * at once) or -EEXIST if xvm-testdev is loaded.
 */
#include <kunit/test.h>
#include <linux/module.h>

#include "xvm_compat.h"
#include "internal.h"

static int xvm_attr_kunit_create(struct xvm_device *dev)
{
	return 0;
}

static void xvm_attr_kunit_destroy(struct xvm_device *dev)
{
}

static int xvm_attr_kunit_get(struct xvm_device *dev,
			      const struct xvm_device_attr *attr, void *val)
{
	return 0;
}

static int xvm_attr_kunit_set(struct xvm_device *dev,
			      const struct xvm_device_attr *attr,
			      const void *val)
{
	return 0;
}

/* What xvm_register_device_ops() says of a type with this table. */
static int xvm_attr_kunit_register(const struct xvm_attr_desc *attrs,
				   unsigned int nr)
{
	struct xvm_device_ops ops = {
		.name = "xvm-attr-kunit",
		.type = XVM_DEV_TYPE_TEST,
		.owner = THIS_MODULE,
		.create = xvm_attr_kunit_create,
		.destroy = xvm_attr_kunit_destroy,
		.attrs = attrs,
		.nr_attrs = nr,
	};
	int r = xvm_register_device_ops(&ops);

	if (!r)
		xvm_unregister_device_ops(&ops);
	return r == -EEXIST ? 0 : r;
}

#define ATTR(g, first, last, sz)					\
	{ .group = (g), .attr_first = (first), .attr_last = (last),	\
	  .size = (sz), .get = xvm_attr_kunit_get }

static void xvm_attr_test_accepted(struct kunit *test)
{
	static const struct xvm_attr_desc ok[] = {
		ATTR(0, 0, 0, 0),			/* no value */
		ATTR(0, 1, 1, XVM_ATTR_MAX_SIZE),	/* adjacent range */
		ATTR(0, 5, U64_MAX, 8),			/* a gap before */
		ATTR(2, 0, 0, 4),			/* a gap in groups */
		ATTR(U32_MAX, 0, 0, 4),
	};

	KUNIT_EXPECT_EQ(test, xvm_attr_kunit_register(ok, ARRAY_SIZE(ok)), 0);
	KUNIT_EXPECT_EQ(test, xvm_attr_kunit_register(NULL, 0), 0);
}

static void xvm_attr_test_order(struct kunit *test)
{
	static const struct xvm_attr_desc groups[] = {
		ATTR(1, 0, 0, 4), ATTR(0, 0, 0, 4),
	};
	static const struct xvm_attr_desc ranges[] = {
		ATTR(0, 2, 3, 4), ATTR(0, 0, 1, 4),
	};
	static const struct xvm_attr_desc overlap[] = {
		ATTR(0, 0, 2, 4), ATTR(0, 2, 3, 4),
	};
	static const struct xvm_attr_desc twice[] = {
		ATTR(0, 0, 0, 4), ATTR(0, 0, 0, 4),
	};
	static const struct xvm_attr_desc reversed[] = {
		ATTR(0, 1, 0, 4),
	};

	KUNIT_EXPECT_EQ(test, xvm_attr_kunit_register(groups, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, xvm_attr_kunit_register(ranges, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, xvm_attr_kunit_register(overlap, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, xvm_attr_kunit_register(twice, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, xvm_attr_kunit_register(reversed, 1), -EINVAL);
}

static void xvm_attr_test_entries(struct kunit *test)
{
	static const struct xvm_attr_desc big[] = {
		ATTR(0, 0, 0, XVM_ATTR_MAX_SIZE + 1),
	};
	static const struct xvm_attr_desc no_op[] = {
		{ .group = 0, .size = 4 },
	};
	static const struct xvm_attr_desc flag[] = {
		{ .group = 0, .size = 4, .flags = BIT(31),
		  .get = xvm_attr_kunit_get },
	};
	static const struct xvm_attr_desc reads_no_get[] = {
		{ .group = 0, .size = 4, .flags = XVM_ATTR_GET_READS,
		  .set = xvm_attr_kunit_set },
	};

	KUNIT_EXPECT_EQ(test, xvm_attr_kunit_register(big, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, xvm_attr_kunit_register(no_op, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, xvm_attr_kunit_register(flag, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, xvm_attr_kunit_register(reads_no_get, 1),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, xvm_attr_kunit_register(NULL, 1), -EINVAL);
}

static struct kunit_case xvm_attr_test_cases[] = {
	KUNIT_CASE(xvm_attr_test_accepted),
	KUNIT_CASE(xvm_attr_test_order),
	KUNIT_CASE(xvm_attr_test_entries),
	{}
};

static struct kunit_suite xvm_attr_test_suite = {
	.name = "xvm_attr",
	.test_cases = xvm_attr_test_cases,
};

kunit_test_suite(xvm_attr_test_suite);
