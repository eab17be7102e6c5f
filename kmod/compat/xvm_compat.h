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
#include <linux/export.h>
#include <linux/mm.h>

/*
 * Helpers that are static unless the kernel has KUnit, exported then only
 * to modules importing the EXPORTED_FOR_KUNIT_TESTING namespace.
 * <kunit/visibility.h> is upstream from 6.2 (and in some 6.1 stable
 * releases); before, the same definitions, token for token, so that a
 * later include of that header redefines nothing differently.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#include <kunit/visibility.h>
#elif !defined(VISIBLE_IF_KUNIT)
#if IS_ENABLED(CONFIG_KUNIT)
#define VISIBLE_IF_KUNIT
/* Exported to EXPORTED_FOR_KUNIT_TESTING only. */
#define EXPORT_SYMBOL_IF_KUNIT(symbol) \
	EXPORT_SYMBOL_NS(symbol, EXPORTED_FOR_KUNIT_TESTING)
#else
#define VISIBLE_IF_KUNIT static
/* Nothing to export: the helpers are static. */
#define EXPORT_SYMBOL_IF_KUNIT(symbol)
#endif
#endif

/* 6.13 turned namespaces from bare words into string literals. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define XVM_IMPORT_KUNIT_NS() MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING")
#else
#define XVM_IMPORT_KUNIT_NS() MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING)
#endif

/*
 * xvm.ko exports its API in the XVM symbol namespace
 * (EXPORT_SYMBOL_NS_GPL(sym, XVM_NS)): only modules that import it, the xvm
 * device modules, can link against it.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define XVM_NS "XVM"
#else
#define XVM_NS XVM
#endif
#define XVM_IMPORT_NS() MODULE_IMPORT_NS(XVM_NS)

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

/* 6.3 made vma->vm_flags read-only: vm_flags_mod() writes it. */
static inline void xvm_vm_flags_mod(struct vm_area_struct *vma,
				    vm_flags_t set, vm_flags_t clear)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

#endif /* _XVM_COMPAT_H */
