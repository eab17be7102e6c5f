// SPDX-License-Identifier: GPL-2.0
/*
 * Pinning user memory for the IOMMU, accounted against RLIMIT_MEMLOCK in
 * mm->locked_vm as VFIO type1 does (CAP_IPC_LOCK bypasses the limit).
 *
 * Locking: takes the mm's mmap_lock (read to pin, write to account); the
 * caller may hold vm->slots_lock and io->lock, never mmap_lock.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>

#include <xvm_iommu_compat.h>

#include "ops.h"

/*
 * Pins npages from uaddr of mm, which must be current's, into pages[].
 * FOLL_LONGTERM: the pages stay put while the device may DMA to them.
 * Fails with -ENOMEM over RLIMIT_MEMLOCK and -EFAULT (or pin's error) when
 * the range is not fully mapped; nothing stays pinned or accounted then.
 */
int xvm_iommu_pin(struct mm_struct *mm, unsigned long uaddr, u64 npages,
		  bool write, struct page **pages)
{
	unsigned int gup = FOLL_LONGTERM | (write ? FOLL_WRITE : 0);
	u64 done = 0;
	long r;

	if (WARN_ON_ONCE(current->mm != mm))
		return -EIO;
	r = account_locked_vm(mm, npages, true);
	if (r)
		return r;

	mmap_read_lock(mm);
	while (done < npages) {
		r = xvm_pin_user_pages(uaddr + (done << PAGE_SHIFT),
				       npages - done, gup, pages + done);
		if (r <= 0) {
			if (!r)
				r = -EFAULT;
			break;
		}
		done += r;
		r = 0;
	}
	mmap_read_unlock(mm);

	if (r) {
		unpin_user_pages(pages, done);
		account_locked_vm(mm, npages, false);
	}
	return r;
}

/*
 * Unpins (marking dirty what the device could write) and unaccounts.  The
 * mm may be past its last user (the process exited): its locked_vm is then
 * gone with it.
 */
void xvm_iommu_unpin(struct mm_struct *mm, struct page **pages, u64 npages,
		     bool dirty)
{
	unpin_user_pages_dirty_lock(pages, npages, dirty);
	if (mmget_not_zero(mm)) {
		account_locked_vm(mm, npages, false);
		mmput_async(mm);
	}
}
