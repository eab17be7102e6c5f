// SPDX-License-Identifier: GPL-2.0
/*
 * Device types and device fds, as KVM's kvm_device.
 *
 * Device modules register a struct xvm_device_ops per type; the core knows
 * none of them by name.  Creating a device pins its type's module until the
 * device is destroyed, so a module with live devices cannot be unloaded and
 * its ops stay valid.
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
 * each device type locks its own state.
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

/**
 * xvm_register_device_ops() - make a device type creatable by XVM_CREATE_DEVICE
 * @ops: the type's operations; @ops->type is its XVM_DEV_TYPE_* number
 *
 * Called from the device module's init; the ops must stay valid until
 * xvm_unregister_device_ops().  Context: process, may sleep.
 *
 * Return: 0; -EINVAL if @ops->type is out of range or a required op is
 * missing (create, destroy; vcpu_abort with vcpu_prepare) or vcpu_ioctl and
 * release are both set; -EEXIST if another module holds the type.
 */
int xvm_register_device_ops(const struct xvm_device_ops *ops)
{
	int r = -EEXIST;

	if (!ops->type || ops->type >= XVM_DEV_TYPE_MAX || !ops->create ||
	    !ops->destroy || (ops->vcpu_ioctl && ops->release) ||
	    (ops->vcpu_prepare && !ops->vcpu_abort))
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

static int xvm_device_attr(struct xvm_device *dev, unsigned int cmd,
			   struct xvm_device_attr __user *argp)
{
	int (*accessor)(struct xvm_device *dev, struct xvm_device_attr *attr);
	struct xvm_device_attr attr;

	switch (cmd) {
	case XVM_SET_DEVICE_ATTR:
		accessor = dev->ops->set_attr;
		break;
	case XVM_GET_DEVICE_ATTR:
		accessor = dev->ops->get_attr;
		break;
	default:
		accessor = dev->ops->has_attr;
		break;
	}

	if (copy_from_user(&attr, argp, sizeof(attr)))
		return -EFAULT;
	if (attr.flags)
		return -EINVAL;
	if (!accessor)
		return -ENXIO;
	return accessor(dev, &attr);
}

static long xvm_device_ioctl(struct file *filp, unsigned int cmd,
			     unsigned long arg)
{
	struct xvm_device *dev = filp->private_data;

	if (dev->vm->mm != current->mm)
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

int xvm_device_create(struct xvm_vm *vm, struct xvm_create_device __user *argp)
{
	const struct xvm_device_ops *ops;
	struct xvm_create_device cd;
	int fd;

	if (copy_from_user(&cd, argp, sizeof(cd)))
		return -EFAULT;
	if ((cd.flags & ~XVM_CREATE_DEVICE_TEST) || cd.pad)
		return -EINVAL;

	ops = xvm_device_type_get(cd.type);
	if (!ops)
		return -ENODEV;
	if (cd.flags & XVM_CREATE_DEVICE_TEST) {
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
	cd.fd = fd;
	return copy_to_user(argp, &cd, sizeof(cd)) ? -EFAULT : 0;
}
