/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference xvm depends on, and nothing else.
 * Code outside kmod/compat/ never tests LINUX_VERSION_CODE.
 */
#ifndef _XVM_COMPAT_H
#define _XVM_COMPAT_H

#include <linux/version.h>
#include <linux/eventfd.h>
#include <linux/file.h>

/* 6.8 dropped eventfd_signal()'s count argument. */
static inline void xvm_eventfd_signal(struct eventfd_ctx *ctx)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/*
 * 6.12 packed struct fd into a single word: the file is read through
 * fd_file() instead of the .file member.  NULL when fdget() failed.
 */
static inline struct file *xvm_fd_file(struct fd f)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	return fd_file(f);
#else
	return f.file;
#endif
}

#endif /* _XVM_COMPAT_H */
