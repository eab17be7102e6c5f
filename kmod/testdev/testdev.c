// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-testdev.ko: XVM_DEV_TYPE_TEST, a register file on the MMIO bus.
 *
 * It exists so that the selftests and benchmarks can drive the bus and the
 * device-type registry without any real device: each region is a byte
 * array; naturally aligned accesses of 1, 2, 4 or 8 bytes are handled,
 * others are declined (and counted) so the VMM sees them unhandled.
 *
 * Locking: td->lock (mutex) protects td->regions[].  A region's bytes
 * take no lock: an access is naturally aligned and of 1, 2, 4 or 8 bytes,
 * so it is one READ_ONCE() or WRITE_ONCE() of that size, single-copy
 * atomic as a device register is (any context, hard IRQ included).  The
 * counters are atomic.
 */
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/slab.h>

#include <xvm/core.h>

#include "xvm_compat.h"

#define XVM_TESTDEV_MAX_SIZE	SZ_64K

struct xvm_testdev_mmio {
	struct xvm_mmio_region mmio;
	struct xvm_testdev *td;
	u8 bytes[] __aligned(8);	/* little-endian registers */
};

struct xvm_testdev {
	struct xvm_device *dev;
	struct mutex lock;		/* regions[] */
	atomic64_t stats[XVM_TESTDEV_STAT_REJECTED + 1];
	struct xvm_testdev_mmio *regions[XVM_TESTDEV_MAX_REGIONS];
};

static struct xvm_testdev_mmio *to_testdev_mmio(struct xvm_mmio_region *r)
{
	return container_of(r, struct xvm_testdev_mmio, mmio);
}

static bool xvm_testdev_aligned(struct xvm_testdev_mmio *m, u64 offset,
				unsigned int len)
{
	if (offset % len) {
		atomic64_inc(&m->td->stats[XVM_TESTDEV_STAT_REJECTED]);
		return false;
	}
	return true;
}

static int xvm_testdev_read(struct xvm_vcpu *vcpu, struct xvm_mmio_region *r,
			    u64 offset, unsigned int len, u64 *val)
{
	struct xvm_testdev_mmio *m = to_testdev_mmio(r);
	void *p;

	if (!xvm_testdev_aligned(m, offset, len))
		return -EINVAL;
	/* The bus checked offset + len <= size. */
	p = m->bytes + array_index_nospec(offset, m->mmio.size - len + 1);
	switch (len) {
	case 1:
		*val = READ_ONCE(*(u8 *)p);
		break;
	case 2:
		*val = le16_to_cpu(READ_ONCE(*(__le16 *)p));
		break;
	case 4:
		*val = le32_to_cpu(READ_ONCE(*(__le32 *)p));
		break;
	default:
		*val = le64_to_cpu(READ_ONCE(*(__le64 *)p));
		break;
	}
	atomic64_inc(&m->td->stats[XVM_TESTDEV_STAT_READS]);
	return 0;
}

static int xvm_testdev_write(struct xvm_vcpu *vcpu, struct xvm_mmio_region *r,
			     u64 offset, unsigned int len, u64 val)
{
	struct xvm_testdev_mmio *m = to_testdev_mmio(r);
	void *p;

	if (!xvm_testdev_aligned(m, offset, len))
		return -EINVAL;
	/* The bus checked offset + len <= size. */
	p = m->bytes + array_index_nospec(offset, m->mmio.size - len + 1);
	switch (len) {
	case 1:
		WRITE_ONCE(*(u8 *)p, val);
		break;
	case 2:
		WRITE_ONCE(*(__le16 *)p, cpu_to_le16(val));
		break;
	case 4:
		WRITE_ONCE(*(__le32 *)p, cpu_to_le32(val));
		break;
	default:
		WRITE_ONCE(*(__le64 *)p, cpu_to_le64(val));
		break;
	}
	atomic64_inc(&m->td->stats[XVM_TESTDEV_STAT_WRITES]);
	return 0;
}

static const struct xvm_mmio_ops xvm_testdev_mmio_ops = {
	.read	= xvm_testdev_read,
	.write	= xvm_testdev_write,
};

static int xvm_testdev_add_region(struct xvm_testdev *td, u64 index,
				  const struct xvm_testdev_region *req)
{
	struct xvm_testdev_mmio *m;
	int r;

	if (!IS_ALIGNED(req->base, 8) || !IS_ALIGNED(req->size, 8) ||
	    !req->size || req->size > XVM_TESTDEV_MAX_SIZE ||
	    req->base + req->size < req->base)
		return -EINVAL;

	m = kvzalloc(struct_size(m, bytes, req->size), GFP_KERNEL_ACCOUNT);
	if (!m)
		return -ENOMEM;
	m->td = td;
	m->mmio.base = req->base;
	m->mmio.size = req->size;
	m->mmio.ops = &xvm_testdev_mmio_ops;

	mutex_lock(&td->lock);
	r = -EEXIST;
	if (td->regions[index])
		goto out;
	r = xvm_mmio_register(td->dev->vm, &m->mmio);
	if (r)
		goto out;
	td->regions[index] = m;
	m = NULL;
out:
	mutex_unlock(&td->lock);
	kvfree(m);
	return r;
}

/* Attributes: the core checked group and attr, and buffers the value. */

static int xvm_testdev_set_region(struct xvm_device *dev,
				  const struct xvm_device_attr *attr,
				  const void *val)
{
	u64 index = array_index_nospec(attr->attr, XVM_TESTDEV_MAX_REGIONS);

	return xvm_testdev_add_region(dev->private, index, val);
}

static int xvm_testdev_get_region(struct xvm_device *dev,
				  const struct xvm_device_attr *attr,
				  void *val)
{
	u64 i = array_index_nospec(attr->attr, XVM_TESTDEV_MAX_REGIONS);
	struct xvm_testdev *td = dev->private;
	struct xvm_testdev_region *req = val;
	int r = -ENOENT;

	mutex_lock(&td->lock);
	if (td->regions[i]) {
		req->base = td->regions[i]->mmio.base;
		req->size = td->regions[i]->mmio.size;
		r = 0;
	}
	mutex_unlock(&td->lock);
	return r;
}

static int xvm_testdev_get_stat(struct xvm_device *dev,
				const struct xvm_device_attr *attr, void *val)
{
	struct xvm_testdev *td = dev->private;
	u64 i = array_index_nospec(attr->attr, ARRAY_SIZE(td->stats));

	*(u64 *)val = atomic64_read(&td->stats[i]);
	return 0;
}

static const struct xvm_attr_desc xvm_testdev_attrs[] = {
	{
		.group = XVM_TESTDEV_GRP_REGION,
		.attr_last = XVM_TESTDEV_MAX_REGIONS - 1,
		.size = sizeof(struct xvm_testdev_region),
		.get = xvm_testdev_get_region,
		.set = xvm_testdev_set_region,
	}, {
		.group = XVM_TESTDEV_GRP_STATS,
		.attr_last = XVM_TESTDEV_STAT_REJECTED,
		.size = sizeof(u64),
		.get = xvm_testdev_get_stat,
	},
};

static int xvm_testdev_create(struct xvm_device *dev)
{
	struct xvm_testdev *td;

	td = kvzalloc(sizeof(*td), GFP_KERNEL_ACCOUNT);
	if (!td)
		return -ENOMEM;
	td->dev = dev;
	mutex_init(&td->lock);
	dev->private = td;
	return 0;
}

static void xvm_testdev_destroy(struct xvm_device *dev)
{
	struct xvm_testdev *td = dev->private;
	unsigned int i;

	for (i = 0; i < XVM_TESTDEV_MAX_REGIONS; i++)
		if (td->regions[i])
			xvm_mmio_unregister(dev->vm, &td->regions[i]->mmio);
	xvm_mmio_synchronize();
	for (i = 0; i < XVM_TESTDEV_MAX_REGIONS; i++)
		kvfree(td->regions[i]);
	mutex_destroy(&td->lock);
	kvfree(td);
}

static const struct xvm_device_ops xvm_testdev_ops = {
	.name		= "xvm-testdev",
	.type		= XVM_DEV_TYPE_TEST,
	.owner		= THIS_MODULE,
	.create		= xvm_testdev_create,
	.destroy	= xvm_testdev_destroy,
	.release	= xvm_testdev_destroy,	/* closing the fd removes it */
	.attrs		= xvm_testdev_attrs,
	.nr_attrs	= ARRAY_SIZE(xvm_testdev_attrs),
};

static int __init xvm_testdev_init(void)
{
	return xvm_register_device_ops(&xvm_testdev_ops);
}

static void __exit xvm_testdev_exit(void)
{
	xvm_unregister_device_ops(&xvm_testdev_ops);
}

module_init(xvm_testdev_init);
module_exit(xvm_testdev_exit);

MODULE_AUTHOR("xvm developers");
MODULE_VERSION(XVM_VERSION);
MODULE_DESCRIPTION("xvm: MMIO bus test device");
MODULE_LICENSE("GPL");
XVM_IMPORT_NS();
