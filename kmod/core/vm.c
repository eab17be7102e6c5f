// SPDX-License-Identifier: GPL-2.0
/*
 * VM objects: creation, the VM fd and its ioctls, teardown.
 *
 * A VM is refcounted (vm->refcount): the VM fd, every vCPU fd and every
 * device fd hold one reference, so the VM outlives all of them whatever the
 * order they are closed in.  The last reference destroys the devices, the
 * event channels, the vCPUs, the memory slots and the MMIO bus, in that
 * order.
 *
 * A VM belongs to one address space (vm->mm), at first its creator's:
 * memory slots hold addresses in it, so ioctls from another mm fail with
 * -EIO, as in KVM.  It moves to another only by XVM_GRANT_OWNER and
 * XVM_CLAIM_OWNER (owner.c, which has the locking).
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"

static const struct file_operations xvm_vm_fops;

/* VM ids: unique for the module's lifetime, unlike a VM's address. */
static atomic64_t xvm_vm_last_id = ATOMIC64_INIT(0);

void xvm_vm_get(struct xvm_vm *vm)
{
	kref_get(&vm->refcount);
}

static void xvm_vm_destroy(struct kref *kref)
{
	struct xvm_vm *vm = container_of(kref, struct xvm_vm, refcount);
	struct xvm_vcpu *vcpu;
	unsigned long index;

	xvm_devices_destroy(vm);
	xvm_evtchn_destroy(vm);
	xa_for_each(&vm->vcpus, index, vcpu)
		xvm_vcpu_free(vcpu);
	xa_destroy(&vm->vcpus);
	xvm_memslots_free(vm);
	xvm_mmio_bus_free(vm);
	if (vm->owner_grant)
		mmdrop(vm->owner_grant);
	mmdrop(vm->mm);
	kfree(vm);
}

void xvm_vm_put(struct xvm_vm *vm)
{
	kref_put(&vm->refcount, xvm_vm_destroy);
}

/* The VM behind a VM fd, or NULL if the file is not one. */
struct xvm_vm *xvm_vm_from_file(struct file *file)
{
	return file->f_op == &xvm_vm_fops ? file->private_data : NULL;
}

static int xvm_vm_release(struct inode *inode, struct file *filp)
{
	xvm_vm_put(filp->private_data);
	return 0;
}

static long xvm_vm_create_vcpu(void *vm, void *data, unsigned long arg)
{
	return xvm_vcpu_create(vm, arg);
}

static long xvm_vm_set_memory_region(void *vm, void *mem, unsigned long arg)
{
	return xvm_set_memory_region(vm, mem);
}

static long xvm_vm_create_device(void *vm, void *cd, unsigned long arg)
{
	return xvm_device_create(vm, cd);
}

static long xvm_vm_check_extension(void *vm, void *data, unsigned long arg)
{
	return xvm_check_extension(vm, arg);
}

static long xvm_vm_get_stats_fd(void *vm, void *data, unsigned long arg)
{
	return xvm_vm_stats_fd(vm);
}

/* XVM_ENABLE_CAP: flags and pad are checked zero by the table. */
static long xvm_vm_enable_cap(void *vm, void *data, unsigned long arg)
{
	const struct xvm_enable_cap *cap = data;

	switch (cap->cap) {
	case XVM_CAP_HALT_POLL:
		return xvm_halt_poll_enable_cap(vm, cap);
	case XVM_CAP_VM_ID:
		return xvm_evtchn_enable_vm_id(vm, cap);
	default:
		return -EINVAL;
	}
}

static long xvm_vm_ioctl_grant_owner(void *vm, void *grant, unsigned long arg)
{
	return xvm_vm_grant_owner(vm, grant);
}

/* The event-channel ioctls are evtchn.c's: xvm_evtchn_ioctls[]. */
static const struct xvm_ioctl_desc xvm_vm_ioctls[] = {
	XVM_IOCTL_NONE(CREATE_VCPU, xvm_vm_create_vcpu),
	XVM_IOCTL(SET_USER_MEMORY_REGION,
		  struct xvm_userspace_memory_region, xvm_vm_set_memory_region),
	XVM_IOCTL(CREATE_DEVICE, struct xvm_create_device,
		  xvm_vm_create_device,
		  .zero = { XVM_IOCTL_ZERO(struct xvm_create_device, pad, pad) },
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_create_device, flags,
						 XVM_CREATE_DEVICE_TEST)),
	XVM_IOCTL_NONE(CHECK_EXTENSION, xvm_vm_check_extension),
	XVM_IOCTL_NONE(GET_STATS_FD, xvm_vm_get_stats_fd),
	XVM_IOCTL(ENABLE_CAP, struct xvm_enable_cap, xvm_vm_enable_cap,
		  .zero = { XVM_IOCTL_ZERO(struct xvm_enable_cap, pad, pad) },
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_enable_cap, flags, 0)),
	XVM_IOCTL(GRANT_OWNER, struct xvm_owner_grant, xvm_vm_ioctl_grant_owner,
		  .zero = { XVM_IOCTL_ZERO(struct xvm_owner_grant, reserved,
					   reserved) },
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_owner_grant, flags, 0)),
};

static long xvm_vm_ioctl(struct file *filp, unsigned int cmd,
			 unsigned long arg)
{
	struct xvm_vm *vm = filp->private_data;
	const struct xvm_ioctl_desc *d;

	/* The one ioctl of a VM that a non-owner may make (owner.c). */
	if (cmd == XVM_CLAIM_OWNER)
		return xvm_vm_claim_owner(vm, arg);
	if (!xvm_vm_owned(vm))
		return -EIO;

	d = xvm_ioctl_find(xvm_vm_ioctls, ARRAY_SIZE(xvm_vm_ioctls), cmd);
	if (d)
		return xvm_ioctl_run(d, vm, arg);
	return xvm_ioctl_dispatch(xvm_evtchn_ioctls, xvm_evtchn_nr_ioctls,
				  vm, cmd, arg);
}

static const struct file_operations xvm_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= xvm_vm_release,
	.unlocked_ioctl	= xvm_vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

int xvm_create_vm(unsigned long type)
{
	u32 bits = XVM_VM_TYPE_PHYS_ADDR_BITS(type);
	struct xvm_vm *vm;
	int r;

	if (type & ~XVM_VM_TYPE_PHYS_ADDR_BITS_MASK)
		return -EINVAL;
	if (!bits)
		bits = XVM_PHYS_ADDR_BITS_DEFAULT;
	if (bits < XVM_PHYS_ADDR_BITS_MIN || bits > XVM_PHYS_ADDR_BITS_MAX)
		return -EINVAL;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;

	kref_init(&vm->refcount);
	vm->id = atomic64_inc_return(&xvm_vm_last_id);
	vm->phys_addr_bits = bits;
	mutex_init(&vm->lock);
	xa_init(&vm->vcpus);
	INIT_LIST_HEAD(&vm->devices);
	mutex_init(&vm->slots_lock);
	INIT_LIST_HEAD(&vm->memslot_listeners);
	mutex_init(&vm->mmio_lock);
	mmgrab(current->mm);
	vm->mm = current->mm;

	r = xvm_evtchn_init(vm);
	if (r) {
		xvm_vm_put(vm);
		return r;
	}

	r = anon_inode_getfd("xvm-vm", &xvm_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (r < 0)
		xvm_vm_put(vm);
	return r;
}
