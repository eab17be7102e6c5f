// SPDX-License-Identifier: GPL-2.0
/*
 * xvm.ko: /dev/xvm, the system ioctls and module init.
 *
 * Locking: none here; /dev/xvm holds no state.  Each VM is independent (see
 * vm.c); the device-type registry has its own lock (device.c).
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/compat.h>

#include "internal.h"
#include "evtchn.h"

/* XVM_CHECK_EXTENSION answers, as data. */
static const struct {
	unsigned int cap;
	long value;
} xvm_caps[] = {
	{ XVM_CAP_NR_VCPUS,		XVM_MAX_VCPUS },
	{ XVM_CAP_MAX_VCPUS,		XVM_MAX_VCPUS },
	{ XVM_CAP_MAX_VCPU_ID,		XVM_MAX_VCPU_ID },
	{ XVM_CAP_NR_MEMSLOTS,		XVM_NR_MEMSLOTS },
	{ XVM_CAP_MAX_PHYS_ADDR_BITS,	XVM_PHYS_ADDR_BITS_MAX },
	{ XVM_CAP_MMIO_BATCH,		XVM_MMIO_BATCH_MAX },
	{ XVM_CAP_MAX_MMIO_REGIONS,	XVM_MMIO_MAX_REGIONS },
	{ XVM_CAP_DEVICE_CTRL,		1 },
	{ XVM_CAP_EVTCHN,		XVM_EVTCHN_MAX_PORTS },
	{ XVM_CAP_POLL_MAX_PORTS,	XVM_POLL_MAX_PORTS },
	{ XVM_CAP_STATS_FD,		1 },
	{ XVM_CAP_HALT_POLL,		1 },
	{ XVM_CAP_VCPU_MMAP,		PAGE_SIZE },
	{ XVM_CAP_VM_ID,		1 },
	{ XVM_CAP_OWNER_TRANSFER,	1 },
};

long xvm_check_extension(struct xvm_vm *vm, unsigned long cap)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(xvm_caps); i++)
		if (xvm_caps[i].cap == cap)
			return xvm_caps[i].value;
	return 0;
}

static long xvm_dev_get_api_version(void *obj, void *data, unsigned long arg)
{
	return XVM_API_VERSION;
}

static long xvm_dev_create_vm(void *obj, void *data, unsigned long arg)
{
	return xvm_create_vm(arg);
}

static long xvm_dev_check_extension(void *obj, void *data, unsigned long arg)
{
	return xvm_check_extension(NULL, arg);
}

/* As KVM_GET_VCPU_MMAP_SIZE: arg must be 0. */
static long xvm_dev_get_vcpu_mmap_size(void *obj, void *data,
				       unsigned long arg)
{
	return arg ? -EINVAL : xvm_vcpu_mmap_size();
}

static const struct xvm_ioctl_desc xvm_dev_ioctls[] = {
	XVM_IOCTL_NONE(GET_API_VERSION, xvm_dev_get_api_version),
	XVM_IOCTL_NONE(CREATE_VM, xvm_dev_create_vm),
	XVM_IOCTL_NONE(CHECK_EXTENSION, xvm_dev_check_extension),
	XVM_IOCTL_NONE(GET_VCPU_MMAP_SIZE, xvm_dev_get_vcpu_mmap_size),
};

static long xvm_dev_ioctl(struct file *filp, unsigned int cmd,
			  unsigned long arg)
{
	return xvm_ioctl_dispatch(xvm_dev_ioctls, ARRAY_SIZE(xvm_dev_ioctls),
				  NULL, cmd, arg);
}

static const struct file_operations xvm_chardev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= xvm_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/*
 * A dynamic minor: include/linux/miscdevice.h and
 * Documentation/admin-guide/devices.txt reserve no misc minor for xvm, and
 * taking an unreserved fixed one could collide with another driver. So there
 * is no "devname:" alias either: with one, depmod writes a modules.devname
 * entry and `kmod static-nodes` makes systemd create /dev/xvm at boot with a
 * number (10:255, MISC_DYNAMIC_MINOR) that is not the one misc_register()
 * gives, and every open of that stale node fails with ENODEV. The module is
 * loaded at boot by modules-load.d instead, and udev (60-xvm.rules) gives the
 * node devtmpfs creates its group and mode.
 */
static struct miscdevice xvm_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "xvm",
	.fops	= &xvm_chardev_fops,
	.mode	= 0600,
};

static int __init xvm_init(void)
{
	int r = xvm_evtchn_module_init();

	if (r)
		return r;
	r = misc_register(&xvm_dev);
	if (r)
		xvm_evtchn_module_exit();
	return r;
}

static void __exit xvm_exit(void)
{
	misc_deregister(&xvm_dev);
	/*
	 * kvfree_rcu() callbacks queued by the MMIO bus must not outlive us,
	 * nor the event channels' deferred frees (which wait for their own).
	 */
	rcu_barrier();
	xvm_evtchn_module_exit();
}

module_init(xvm_init);
module_exit(xvm_exit);

MODULE_AUTHOR("xvm developers");
MODULE_VERSION(XVM_VERSION);
MODULE_DESCRIPTION("xvm: in-kernel virtualization services for userspace VMMs");
MODULE_LICENSE("GPL");
