// SPDX-License-Identifier: GPL-2.0
/*
 * Pinning user memory for the IOMMU, accounted against RLIMIT_MEMLOCK in
 * mm->locked_vm as VFIO type1 does (CAP_IPC_LOCK bypasses the limit).
 *
 * Pinning walks the page tables locklessly (pin_user_pages_fast(), as
 * iommufd does for its own mm), batch by batch, instead of one
 * follow_page() walk and page-table lock per page; only what that walk
 * cannot pin (not yet faulted in, or to be migrated off ZONE_MOVABLE /
 * CMA for FOLL_LONGTERM) takes the slow path under mmap_lock.
 *
 * Locking: takes the mm's mmap_lock (read to pin on the slow path, write to
 * account); the caller may hold vm->slots_lock and io->lock, never
 * mmap_lock.
 */
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>

#include "ops.h"

/*
 * Pages per pin_user_pages_fast() call (one page of pointers, VFIO
 * type1's batch): bounds how long the lockless walk keeps interrupts off.
 */
#define XVM_IOMMU_PIN_BATCH	(PAGE_SIZE / sizeof(struct page *))

/*
 * Pins npages from uaddr of mm, the VM's owner, into pages[].
 * FOLL_LONGTERM: the pages stay put while the device may DMA to them.
 * Fails with -EIO if mm is not current's (the VM was handed over since
 * the caller's owner check: see core's owner.c), -ENOMEM over
 * RLIMIT_MEMLOCK and -EFAULT (or pin's error) when the range is not fully
 * mapped; nothing stays pinned or accounted then.
 */
int xvm_iommu_pin(struct mm_struct *mm, unsigned long uaddr, u64 npages,
		  bool write, struct page **pages)
{
	unsigned int gup = FOLL_LONGTERM | (write ? FOLL_WRITE : 0);
	u64 done = 0;
	long r;

	if (current->mm != mm)
		return -EIO;
	r = account_locked_vm(mm, npages, true);
	if (r)
		return r;

	while (done < npages) {
		r = pin_user_pages_fast(uaddr + (done << PAGE_SHIFT),
					min_t(u64, npages - done,
					      XVM_IOMMU_PIN_BATCH),
					gup, pages + done);
		if (r <= 0) {
			if (!r)
				r = -EFAULT;
			break;
		}
		done += r;
		r = 0;
		cond_resched();
	}

	if (r) {
		unpin_user_pages(pages, done);
		account_locked_vm(mm, npages, false);
	}
	return r;
}

/*
 * Unpins (marking dirty what the device could write) and unaccounts from
 * mm, the one the pages were pinned from (whoever owns the VM now).  The
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
