// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl dispatcher, as iommufd's: each kind of fd describes its
 * commands in a table of struct xvm_ioctl_desc, and this one function copies
 * the argument in and out and checks what the table says must be zero, so
 * that the handlers see a kernel copy that is already screened.
 *
 * Locking: none of its own; a descriptor's lock is held across its handler
 * only, never across a user copy.  The callers hold what their fd needs
 * (vcpu->mutex for the vCPU ioctls but the %XVM_IOCTL_UNLOCKED ones).
 *
 * The kernel copy lives on the stack, and every byte the handler sees is
 * written first (copied in, or zeroed), so the buffer is exempt from
 * CONFIG_INIT_STACK_ALL_ZERO: zeroing XVM_IOCTL_MAX_SIZE bytes on every
 * call, _IO() ones included, would cost more than most handlers.
 */
#include <linux/export.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "internal.h"

/* The zero bytes and flags the descriptor names: -EINVAL if violated. */
static int xvm_ioctl_check(const struct xvm_ioctl_desc *d, const u8 *data)
{
	const struct xvm_ioctl_flags *f = &d->valid_flags;
	unsigned int i;
	u32 flags;

	for (i = 0; i < XVM_IOCTL_MAX_ZERO && d->zero[i].end; i++)
		if (memchr_inv(data + d->zero[i].start, 0,
			       d->zero[i].end - d->zero[i].start))
			return -EINVAL;
	if (f->checked) {
		memcpy(&flags, data + f->offset, sizeof(flags));
		if (flags & ~f->valid)
			return -EINVAL;
	}
	return 0;
}

static inline long xvm_ioctl_call(const struct xvm_ioctl_desc *d,
				  void *obj, void *data, unsigned long arg)
{
	struct mutex *lock = d->lock ? d->lock(obj) : NULL;
	long r;

	if (lock)
		mutex_lock(lock);
	r = d->fn(obj, data, arg);
	if (lock)
		mutex_unlock(lock);
	return r;
}

/* Writes back the descriptor's out range of the kernel copy: 0 or -EFAULT. */
static int xvm_ioctl_copy_out(const struct xvm_ioctl_desc *d,
			      void __user *argp, const void *buf)
{
	unsigned int start = d->out_start, end = d->out_end ?: d->size;

	if (copy_to_user(argp + start, buf + start, end - start))
		return -EFAULT;
	return 0;
}

long xvm_ioctl_run(const struct xvm_ioctl_desc *d, void *obj,
		   unsigned long arg)
{
	void __user *argp = (void __user *)arg;
	u64 buf[XVM_IOCTL_MAX_SIZE / sizeof(u64)] __uninitialized;
	unsigned int dir = _IOC_DIR(d->cmd);
	long r;

	if (dir == _IOC_NONE)
		return xvm_ioctl_call(d, obj, NULL, arg);

	if (dir & _IOC_WRITE) {
		if (copy_from_user(buf, argp, d->size))
			return -EFAULT;
		r = xvm_ioctl_check(d, (const u8 *)buf);
		if (r)
			return r;
	} else {
		memset(buf, 0, d->size);
	}
	r = xvm_ioctl_call(d, obj, buf, arg);
	if (!(dir & _IOC_READ) || (r < 0 && !(d->flags & XVM_IOCTL_OUT_ON_ERROR)))
		return r;
	/* A failed copy-back does not hide the handler's own error. */
	if (xvm_ioctl_copy_out(d, argp, buf))
		return r < 0 ? r : -EFAULT;
	return r;
}
EXPORT_SYMBOL_NS_GPL(xvm_ioctl_run, XVM_NS);
