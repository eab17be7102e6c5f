// SPDX-License-Identifier: GPL-2.0
/*
 * Device types and device fds, as KVM's kvm_device.
 *
 * Device modules register a struct xvm_device_ops per type; the core knows
 * none of them by name.  Creating a device pins its type's module until the
 * device is destroyed, so a module with live devices cannot be unloaded and
 * its ops stay valid.
 *
 * Attributes (XVM_{SET,GET,HAS}_DEVICE_ATTR) are table-driven, as the
 * groups of KVM's vgic-kvm-device.c: a type lists its attribute ranges
 * (struct xvm_attr_desc) and the core does the parts every type shares -
 * the flags check, finding the attribute, HAS, and the copy of the value
 * through a buffer on its stack - so a handler sees only kernel memory.
 *
 * Locking: xvm_device_types_lock protects xvm_device_types[].  A device is
 * on vm->devices under vm->lock; create and the vcpu_* hooks run under
 * vm->lock.
 * destroy and release run without it, once the device is unlinked, so they
 * may take vm->slots_lock (which nests outside vm->lock).
 * vm->vcpu_ioctl_dev is set once, under vm->lock, with release ordering
 * (the device is complete when a vCPU ioctl sees it), and the device it names
 * lives until VM teardown (it has no ->release), so vCPU ioctls read it
 * without a lock.  The attribute and ioctl callbacks run without vm->lock:
 * each device type locks its own state (the core holds no lock around an
 * attribute's has, get and set, so a handler re-checks what can change).
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"

static DEFINE_MUTEX(xvm_device_types_lock);
static const struct xvm_device_ops *xvm_device_types[XVM_DEV_TYPE_MAX];

/* 0 if ops's table is sorted, disjoint and usable; else -EINVAL. */
static int xvm_attr_table_check(const struct xvm_device_ops *ops)
{
	const struct xvm_attr_desc *d, *prev = NULL;
	unsigned int i;

	if (ops->nr_attrs && !ops->attrs)
		return -EINVAL;
	for (i = 0; i < ops->nr_attrs; i++, prev = d) {
		d = &ops->attrs[i];
		if (d->attr_first > d->attr_last ||
		    d->size > XVM_ATTR_MAX_SIZE || (!d->get && !d->set) ||
		    (d->flags & ~XVM_ATTR_FLAGS_ALL) ||
		    ((d->flags & XVM_ATTR_GET_READS) && !d->get))
			return -EINVAL;
		if (prev && (d->group < prev->group ||
			     (d->group == prev->group &&
			      d->attr_first <= prev->attr_last)))
			return -EINVAL;
	}
	return 0;
}

/**
 * xvm_register_device_ops() - make a device type creatable by XVM_CREATE_DEVICE
 * @ops: the type's operations; @ops->type is its XVM_DEV_TYPE_* number
 *
 * Called from the device module's init; the ops must stay valid until
 * xvm_unregister_device_ops().  Context: process, may sleep.
 *
 * Return: 0; -EINVAL if @ops->type is out of range or a required op is
 * missing (create, destroy; vcpu_abort with vcpu_prepare) or vcpu_ioctl and
 * release are both set, or the attribute table is malformed (unsorted,
 * overlapping, a range with neither get nor set, a value over
 * %XVM_ATTR_MAX_SIZE bytes); -EEXIST if another module holds the type.
 */
int xvm_register_device_ops(const struct xvm_device_ops *ops)
{
	int r = -EEXIST;

	if (!ops->type || ops->type >= XVM_DEV_TYPE_MAX || !ops->create ||
	    !ops->destroy || (ops->vcpu_ioctl && ops->release) ||
	    (ops->vcpu_prepare && !ops->vcpu_abort) ||
	    xvm_attr_table_check(ops))
		return -EINVAL;

	mutex_lock(&xvm_device_types_lock);
	if (!xvm_device_types[ops->type]) {
		xvm_device_types[ops->type] = ops;
		r = 0;
	}
	mutex_unlock(&xvm_device_types_lock);
	return r;
}
EXPORT_SYMBOL_NS_GPL(xvm_register_device_ops, XVM_NS);

/**
 * xvm_unregister_device_ops() - stop offering a device type
 * @ops: what xvm_register_device_ops() was given (anything else is ignored)
 *
 * Called from the device module's exit.  Existing devices of the type pin
 * its module, so none exists when this runs.  Context: process, may sleep.
 */
void xvm_unregister_device_ops(const struct xvm_device_ops *ops)
{
	mutex_lock(&xvm_device_types_lock);
	if (xvm_device_types[ops->type] == ops)
		xvm_device_types[ops->type] = NULL;
	mutex_unlock(&xvm_device_types_lock);
}
EXPORT_SYMBOL_NS_GPL(xvm_unregister_device_ops, XVM_NS);

/* The ops of type with its module pinned, or NULL. */
static const struct xvm_device_ops *xvm_device_type_get(u32 type)
{
	const struct xvm_device_ops *ops = NULL;

	if (type >= XVM_DEV_TYPE_MAX)
		return NULL;
	type = array_index_nospec(type, XVM_DEV_TYPE_MAX);

	mutex_lock(&xvm_device_types_lock);
	if (xvm_device_types[type] &&
	    try_module_get(xvm_device_types[type]->owner))
		ops = xvm_device_types[type];
	mutex_unlock(&xvm_device_types_lock);
	return ops;
}

static void xvm_device_free(struct xvm_device *dev)
{
	struct module *owner = dev->ops->owner;

	kfree(dev);
	module_put(owner);
}

/* VM teardown: no fd of the VM is left, so no ioctl can run. */
void xvm_devices_destroy(struct xvm_vm *vm)
{
	struct xvm_device *dev, *tmp;
	LIST_HEAD(devices);

	mutex_lock(&vm->lock);
	list_splice_init(&vm->devices, &devices);
	vm->vcpu_ioctl_dev = NULL;
	mutex_unlock(&vm->lock);

	list_for_each_entry_safe(dev, tmp, &devices, vm_node) {
		list_del(&dev->vm_node);
		dev->ops->destroy(dev);
		xvm_device_free(dev);
	}
}

/* XVM_{SET,GET,HAS}_DEVICE_ATTR, driven by the type's xvm_attr_desc table. */

/* The range of ops's table holding (group, attr), or NULL. */
static const struct xvm_attr_desc *
xvm_attr_find(const struct xvm_device_ops *ops, u32 group, u64 attr)
{
	const struct xvm_attr_desc *d, *end = ops->attrs + ops->nr_attrs;

	/* Sorted by (group, attr_first), disjoint: stop at the first past. */
	for (d = ops->attrs; d < end; d++) {
		if (d->group > group ||
		    (d->group == group && d->attr_first > attr))
			break;
		if (d->group == group && attr <= d->attr_last)
			return d;
	}
	return NULL;
}

/* GET or SET of d, after the checks; the value is buffered here. */
static int xvm_attr_access(struct xvm_device *dev,
			   const struct xvm_attr_desc *d,
			   const struct xvm_device_attr *attr, bool set)
{
	void __user *uaddr = u64_to_user_ptr(attr->addr);
	u64 val[XVM_ATTR_MAX_SIZE / sizeof(u64)] = { 0 };
	int r;

	if (set ? !d->set : !d->get)
		return -ENXIO;
	/* Privilege before anything of the caller's is read, as VFIO. */
	if (set && (d->flags & XVM_ATTR_SET_RAWIO) && !capable(CAP_SYS_RAWIO))
		return -EPERM;
	if ((set || (d->flags & XVM_ATTR_GET_READS)) &&
	    copy_from_user(val, uaddr, d->size))
		return -EFAULT;
	if (set)
		return d->set(dev, attr, val);
	r = d->get(dev, attr, val);
	if (!r && copy_to_user(uaddr, val, d->size))
		r = -EFAULT;
	return r;
}

static int xvm_device_attr(struct xvm_device *dev, unsigned int cmd,
			   struct xvm_device_attr __user *argp)
{
	const struct xvm_attr_desc *d;
	struct xvm_device_attr attr;
	int r;

	if (copy_from_user(&attr, argp, sizeof(attr)))
		return -EFAULT;
	if (attr.flags)
		return -EINVAL;
	d = xvm_attr_find(dev->ops, attr.group, attr.attr);
	if (!d)
		return -ENXIO;
	if (d->has) {
		r = d->has(dev, &attr);
		if (r)
			return r;
	}
	if (cmd == XVM_HAS_DEVICE_ATTR)
		return 0;
	return xvm_attr_access(dev, d, &attr, cmd == XVM_SET_DEVICE_ATTR);
}

static long xvm_device_ioctl(struct file *filp, unsigned int cmd,
			     unsigned long arg)
{
	struct xvm_device *dev = filp->private_data;

	if (!xvm_vm_owned(dev->vm))
		return -EIO;

	switch (cmd) {
	case XVM_SET_DEVICE_ATTR:
	case XVM_GET_DEVICE_ATTR:
	case XVM_HAS_DEVICE_ATTR:
		return xvm_device_attr(dev, cmd, (void __user *)arg);
	default:
		if (dev->ops->ioctl)
			return dev->ops->ioctl(dev, cmd, arg);
		return -ENOTTY;
	}
}

static int xvm_device_release(struct inode *inode, struct file *filp)
{
	struct xvm_device *dev = filp->private_data;
	struct xvm_vm *vm;

	if (!dev)		/* xvm_device_create() failed: nothing here */
		return 0;
	vm = dev->vm;
	if (dev->ops->release) {
		mutex_lock(&vm->lock);
		list_del(&dev->vm_node);
		mutex_unlock(&vm->lock);
		dev->ops->release(dev);
		xvm_device_free(dev);
	}
	xvm_vm_put(vm);
	return 0;
}

static const struct file_operations xvm_device_fops = {
	.owner		= THIS_MODULE,
	.release	= xvm_device_release,
	.unlocked_ioctl	= xvm_device_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* Creates dev and puts it on the VM: the last step that may fail. */
static int xvm_device_add(struct xvm_vm *vm, struct xvm_device *dev)
{
	const struct xvm_device_ops *ops = dev->ops;
	int r = -EEXIST;

	mutex_lock(&vm->lock);
	if (ops->vcpu_ioctl && vm->vcpu_ioctl_dev)
		goto out;
	r = ops->create(dev);
	if (r)
		goto out;
	list_add_tail(&dev->vm_node, &vm->devices);
	if (ops->vcpu_ioctl) {
		/* Pairs with the acquire in xvm_vcpu_ioctl(): dev is complete. */
		smp_store_release(&vm->vcpu_ioctl_dev, dev);
	}
out:
	mutex_unlock(&vm->lock);
	return r;
}

/*
 * A new device of type ops with its fd installed; returns the fd.  The
 * file comes before the device: a created device cannot be taken back (a
 * vcpu_ioctl device is published for good), so nothing may fail after
 * ->create.  On failure the caller drops the module reference.
 */
static int xvm_device_new(struct xvm_vm *vm, const struct xvm_device_ops *ops)
{
	struct xvm_device *dev;
	struct file *file;
	int fd, r;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL_ACCOUNT);
	if (!dev)
		return -ENOMEM;
	dev->ops = ops;
	dev->vm = vm;

	fd = get_unused_fd_flags(O_CLOEXEC);
	r = fd;
	if (fd < 0)
		goto out_free;
	file = anon_inode_getfile(ops->name, &xvm_device_fops, dev, O_RDWR);
	r = PTR_ERR_OR_ZERO(file);
	if (r)
		goto out_put_fd;
	r = xvm_device_add(vm, dev);
	if (r) {
		file->private_data = NULL;	/* its release has nothing to do */
		fput(file);
		goto out_put_fd;
	}
	xvm_vm_get(vm);
	fd_install(fd, file);
	return fd;

out_put_fd:
	put_unused_fd(fd);
out_free:
	kfree(dev);
	return r;
}

/* cd was read and screened (vm.c's table); the caller writes it back. */
int xvm_device_create(struct xvm_vm *vm, struct xvm_create_device *cd)
{
	const struct xvm_device_ops *ops;
	int fd;

	ops = xvm_device_type_get(cd->type);
	if (!ops)
		return -ENODEV;
	if (cd->flags & XVM_CREATE_DEVICE_TEST) {
		module_put(ops->owner);
		return 0;
	}
	fd = xvm_device_new(vm, ops);
	if (fd < 0) {
		module_put(ops->owner);
		return fd;
	}
	/*
	 * As KVM_CREATE_DEVICE: the fd stays installed even if the caller
	 * cannot be told its number, so that a device with no ->release is
	 * never left without an fd.
	 */
	cd->fd = fd;
	return 0;
}
