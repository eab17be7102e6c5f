// SPDX-License-Identifier: GPL-2.0
/*
 * vCPUs: creation, the vCPU fd, and the MMIO access ioctls.
 *
 * vCPUs belong to their VM and are freed with it; a vCPU fd holds a VM
 * reference.  vm->lock serialises creation.  A vCPU becomes visible to
 * xvm_get_vcpu() only once fully set up: vm->nr_vcpus is raised last, after
 * a write barrier, and readers bound their index by it (as kvm_get_vcpu()).
 * vcpu->mutex serialises the ioctls of one vCPU, as in KVM, except
 * XVM_MMIO, XVM_MMIO_BATCH (%XVM_IOCTL_UNLOCKED) and XVM_MMIO_RUN, checked
 * before the table: an access touches no vCPU state but its counters, so
 * nothing on that path needs the mutex (mmio.c performs the accesses).
 *
 * The run page (struct xvm_vcpu_run) is allocated with the vCPU and freed
 * with it; a mapping holds the vCPU file, and so the VM, so the page
 * outlives every mapping of it.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"

struct xvm_vcpu *xvm_get_vcpu_by_id(struct xvm_vm *vm, u32 id)
{
	u32 i, n = xvm_nr_vcpus(vm);

	/* vCPUs are usually created with id == index. */
	if (id < n) {
		struct xvm_vcpu *vcpu = xvm_get_vcpu(vm, id);

		if (vcpu && vcpu->id == id)
			return vcpu;
	}
	for (i = 0; i < n; i++) {
		struct xvm_vcpu *vcpu = xvm_get_vcpu(vm, i);

		if (vcpu && vcpu->id == id)
			return vcpu;
	}
	return NULL;
}

void xvm_vcpu_free(struct xvm_vcpu *vcpu)
{
	mutex_destroy(&vcpu->mutex);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
}

static long xvm_vcpu_ioctl_stats_fd(void *vcpu, void *data, unsigned long arg)
{
	return xvm_vcpu_stats_fd(vcpu);
}

/*
 * struct xvm_mmio's flags and reserved are checked per access by
 * xvm_mmio_vcpu_access(), which also screens each entry of a batch.  Both write
 * back only what they set (the other fields would go back as they came).
 */
static const struct xvm_ioctl_desc xvm_vcpu_ioctls[] = {
	XVM_IOCTL(MMIO, struct xvm_mmio, xvm_vcpu_ioctl_mmio,
		  .flags = XVM_IOCTL_UNLOCKED,
		  XVM_IOCTL_OUT(struct xvm_mmio, data, result)),
	XVM_IOCTL(MMIO_BATCH, struct xvm_mmio_batch,
		  xvm_vcpu_ioctl_mmio_batch,
		  .flags = XVM_IOCTL_OUT_ON_ERROR | XVM_IOCTL_UNLOCKED,
		  XVM_IOCTL_OUT(struct xvm_mmio_batch, done, done),
		  .zero = { XVM_IOCTL_ZERO(struct xvm_mmio_batch, reserved,
					   reserved) }),
	XVM_IOCTL(POLL, struct xvm_poll, xvm_poll_ioctl,
		  .flags = XVM_IOCTL_OUT_ON_ERROR,
		  .zero = { XVM_IOCTL_ZERO(struct xvm_poll, pad, reserved) },
		  .valid_flags = XVM_IOCTL_FLAGS(struct xvm_poll, flags,
						 XVM_POLL_ABSTIME |
						 XVM_POLL_VCPU_EVENTS)),
	XVM_IOCTL_NONE(GET_STATS_FD, xvm_vcpu_ioctl_stats_fd),
};

static long xvm_vcpu_ioctl(struct file *filp, unsigned int cmd,
			   unsigned long arg)
{
	struct xvm_vcpu *vcpu = filp->private_data;
	const struct xvm_ioctl_desc *d;
	struct xvm_device *dev;
	long r;

	if (!xvm_vm_owned(vcpu->vm))
		return -EIO;

	/* The one access a VMM makes per exit: no table, no copy (KVM_RUN). */
	if (cmd == XVM_MMIO_RUN)
		return xvm_vcpu_mmio_run(vcpu, arg);

	d = xvm_ioctl_find(xvm_vcpu_ioctls, ARRAY_SIZE(xvm_vcpu_ioctls), cmd);
	if (d && (d->flags & XVM_IOCTL_UNLOCKED))
		return xvm_ioctl_run(d, vcpu, arg);

	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;

	if (d) {
		r = xvm_ioctl_run(d, vcpu, arg);
	} else {
		/* Pairs with the release in xvm_device_create(). */
		dev = smp_load_acquire(&vcpu->vm->vcpu_ioctl_dev);
		r = dev ? dev->ops->vcpu_ioctl(dev, vcpu, cmd, arg) : -ENOTTY;
	}

	mutex_unlock(&vcpu->mutex);
	return r;
}

static __poll_t xvm_vcpu_poll(struct file *filp, poll_table *wait)
{
	struct xvm_vcpu *vcpu = filp->private_data;

	poll_wait(filp, &vcpu->wq, wait);
	return xvm_evtchn_vcpu_poll(vcpu);
}

static vm_fault_t xvm_vcpu_fault(struct vm_fault *vmf)
{
	struct xvm_vcpu *vcpu = vmf->vma->vm_file->private_data;
	struct page *page;

	/* xvm_vcpu_mmap() admits offset 0 only; this guards mremap(). */
	if (vmf->pgoff)
		return VM_FAULT_SIGBUS;
	page = virt_to_page(vcpu->run);
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct xvm_vcpu_vm_ops = {
	.fault = xvm_vcpu_fault,
};

/*
 * The run page, as kvm_vcpu_mmap(): one page at offset 0, shared (a
 * private copy would never see an access's outputs), never executable.
 */
static int xvm_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff || vma_pages(vma) != 1)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED) || (vma->vm_flags & VM_EXEC))
		return -EINVAL;
	xvm_vm_flags_mod(vma, VM_DONTEXPAND, VM_MAYEXEC);
	vma->vm_ops = &xvm_vcpu_vm_ops;
	return 0;
}

/* XVM_GET_VCPU_MMAP_SIZE and XVM_CAP_VCPU_MMAP: the run page's length. */
long xvm_vcpu_mmap_size(void)
{
	BUILD_BUG_ON(sizeof(struct xvm_vcpu_run) > PAGE_SIZE);
	return PAGE_SIZE;
}

static int xvm_vcpu_release(struct inode *inode, struct file *filp)
{
	struct xvm_vcpu *vcpu = filp->private_data;

	xvm_vm_put(vcpu->vm);
	return 0;
}

static const struct file_operations xvm_vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= xvm_vcpu_release,
	.unlocked_ioctl	= xvm_vcpu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.poll		= xvm_vcpu_poll,
	.mmap		= xvm_vcpu_mmap,
	.llseek		= noop_llseek,
};

/* Aborts the vCPU hooks of the devices before stop (all, if NULL). */
static void xvm_devices_vcpu_abort(struct xvm_vm *vm, struct xvm_vcpu *vcpu,
				   struct xvm_device *stop)
{
	struct xvm_device *dev;

	list_for_each_entry(dev, &vm->devices, vm_node) {
		if (dev == stop)
			break;
		if (dev->ops->vcpu_prepare)
			dev->ops->vcpu_abort(dev, vcpu);
	}
}

/* Prepares every device for a new vCPU; see xvm_device_ops.vcpu_prepare. */
static int xvm_devices_vcpu_prepare(struct xvm_vm *vm, struct xvm_vcpu *vcpu)
{
	struct xvm_device *dev;
	int r;

	list_for_each_entry(dev, &vm->devices, vm_node) {
		if (!dev->ops->vcpu_prepare)
			continue;
		r = dev->ops->vcpu_prepare(dev, vcpu);
		if (r) {
			xvm_devices_vcpu_abort(vm, vcpu, dev);
			return r;
		}
	}
	return 0;
}

static void xvm_devices_vcpu_commit(struct xvm_vm *vm, struct xvm_vcpu *vcpu)
{
	struct xvm_device *dev;

	list_for_each_entry(dev, &vm->devices, vm_node)
		if (dev->ops->vcpu_commit)
			dev->ops->vcpu_commit(dev, vcpu);
}

static struct xvm_vcpu *xvm_vcpu_alloc(struct xvm_vm *vm, u32 id)
{
	struct xvm_vcpu *vcpu;

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return NULL;
	vcpu->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->run) {
		kfree(vcpu);
		return NULL;
	}
	vcpu->run->size = sizeof(*vcpu->run);
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->poll_port = -1;
	mutex_init(&vcpu->mutex);
	init_waitqueue_head(&vcpu->wq);
	return vcpu;
}

/*
 * Every step that can fail (the index, the fd number, the devices'
 * prepare, the file) comes before the devices commit; after that the
 * vCPU is published and its fd installed, neither of which can fail.
 */
int xvm_vcpu_create(struct xvm_vm *vm, unsigned long id)
{
	struct xvm_vcpu *vcpu;
	struct file *file;
	int fd, r;

	if (id >= XVM_MAX_VCPU_ID)
		return -EINVAL;
	vcpu = xvm_vcpu_alloc(vm, id);
	if (!vcpu)
		return -ENOMEM;

	mutex_lock(&vm->lock);
	vcpu->index = xvm_nr_vcpus(vm);
	r = -EINVAL;
	if (vcpu->index >= XVM_MAX_VCPUS)
		goto out_unlock;
	r = -EEXIST;
	if (xvm_get_vcpu_by_id(vm, id))
		goto out_unlock;
	r = xa_insert(&vm->vcpus, vcpu->index, vcpu, GFP_KERNEL_ACCOUNT);
	if (r)
		goto out_unlock;
	fd = get_unused_fd_flags(O_CLOEXEC);
	r = fd;
	if (fd < 0)
		goto out_erase;
	r = xvm_devices_vcpu_prepare(vm, vcpu);
	if (r)
		goto out_put_fd;
	file = anon_inode_getfile("xvm-vcpu", &xvm_vcpu_fops, vcpu, O_RDWR);
	if (IS_ERR(file)) {
		r = PTR_ERR(file);
		xvm_devices_vcpu_abort(vm, vcpu, NULL);
		goto out_put_fd;
	}

	/* The point of no return. */
	xvm_devices_vcpu_commit(vm, vcpu);
	xvm_vm_get(vm);
	/* Publish: the vCPU is complete before nr_vcpus covers it. */
	smp_wmb();
	atomic_inc(&vm->nr_vcpus);
	mutex_unlock(&vm->lock);
	fd_install(fd, file);
	return fd;

out_put_fd:
	put_unused_fd(fd);
out_erase:
	xa_erase(&vm->vcpus, vcpu->index);
out_unlock:
	mutex_unlock(&vm->lock);
	xvm_vcpu_free(vcpu);
	return r;
}
