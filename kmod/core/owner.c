// SPDX-License-Identifier: GPL-2.0
/*
 * Who owns a VM, and its hand-over to another process (XVM_GRANT_OWNER,
 * XVM_CLAIM_OWNER): the live update of a VMM.
 *
 * A VM belongs to one address space, vm->mm, at first its creator's: the
 * memory slots hold addresses in it, so the VM, vCPU and device ioctls of
 * any other mm fail with -EIO (xvm_vm_owned(), as KVM).  Ownership moves
 * only when the owner grants it to one mm (vm->owner_grant) and a thread
 * of that mm claims it.  The claim is the commit, in two steps: it first
 * checks, with nothing changed, that every slot is the same memory in
 * both mms (shared mappings of the same inode at the same address and
 * file offset: a memfd mapped at the same place; anonymous memory cannot
 * be handed over), then swaps vm->mm, which cannot fail.
 *
 * Locking: vm->slots_lock serialises GRANT, CLAIM and every slot change;
 * it guards vm->owner_grant, and vm->mm is written only under it.  The
 * owner checks at the top of the ioctls read vm->mm locklessly (READ_ONCE
 * against the claim's WRITE_ONCE): an ioctl that passed its check just
 * before a claim committed acts as if it had run before the commit, when
 * its caller did own the VM.  What would be wrong after the commit is
 * checked again under slots_lock: slot changes and grants (memslot.c,
 * here), and IOMMU pins, which are all taken under slots_lock and pin
 * from vm->mm only if it is current's (xvm-iommu: -EIO otherwise).  Any
 * other ioctl touches no memory of the owner but its own argument, which
 * it copies from and to current's address space.
 *
 * A thread of the old owner asleep in (or spinning in) XVM_POLL when the
 * claim commits is woken and fails with -EIO (poll.c): it releases the
 * vCPU's mutex to the new owner, and loses nothing, as XVM_POLL consumes
 * no pending bit.
 *
 * What the old owner already holds stays as it is, as for any process an
 * fd is passed to: its IOMMU mappings stay pinned and accounted to its mm
 * (each mapping remembers the mm it pinned from) until unmapped, by
 * whoever; its mappings of vCPU run pages, its stats fds and the eventfds
 * it registered keep working, and poll() on its fds too.  A grant trusts
 * the old owner, which is expected to exit once the new one has claimed.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "internal.h"

/* The mm (mmgrab()ed) of the task nr in current's pid namespace. */
static struct mm_struct *xvm_owner_mm_of(pid_t nr)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;

	pid = find_get_pid(nr);
	if (!pid)
		return ERR_PTR(-ESRCH);
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return ERR_PTR(-ESRCH);
	mm = get_task_mm(task);		/* NULL: a kernel thread, or exiting */
	put_task_struct(task);
	if (!mm)
		return ERR_PTR(-ESRCH);
	mmgrab(mm);
	mmput(mm);
	return mm;
}

/**
 * xvm_vm_grant_owner() - XVM_GRANT_OWNER
 * @vm: the VM, whose owner the caller was at its owner check
 * @g: the argument, its flags and reserved fields already checked zero
 *
 * Makes @g->pid's mm the one that may claim @vm, replacing any earlier
 * grant; @g->pid 0 revokes it.  Ownership does not change.
 *
 * Return: 0; -EINVAL for a negative pid; -ESRCH if there is no such task
 * or it has no address space (a kernel thread, an exiting task); -EIO if
 * the caller no longer owns @vm (a claim committed since its check).
 */
long xvm_vm_grant_owner(struct xvm_vm *vm, const struct xvm_owner_grant *g)
{
	struct mm_struct *mm = NULL, *drop;
	long r = 0;

	if (g->pid < 0)
		return -EINVAL;
	if (g->pid) {
		mm = xvm_owner_mm_of(g->pid);
		if (IS_ERR(mm))
			return PTR_ERR(mm);
	}

	mutex_lock(&vm->slots_lock);
	if (vm->mm != current->mm) {
		drop = mm;
		r = -EIO;
	} else {
		drop = vm->owner_grant;
		vm->owner_grant = mm;
	}
	mutex_unlock(&vm->slots_lock);
	if (drop)
		mmdrop(drop);
	return r;
}

/* What backs a slot: its start's file offset in one inode (held). */
struct xvm_slot_backing {
	struct inode *inode;
	loff_t off;
};

/*
 * Is [start, start + len) of mm covered by shared mappings of one inode,
 * at file offsets that follow the address?  Fills b, or checks it if
 * b->inode is set: 0, or -EINVAL.  mmap_lock is held.
 */
static int xvm_slot_backing(struct mm_struct *mm, unsigned long start,
			    u64 len, struct xvm_slot_backing *b)
{
	unsigned long addr = start, end = start + len;
	struct vm_area_struct *vma;
	struct inode *inode;
	loff_t off;

	while (addr < end) {
		vma = vma_lookup(mm, addr);
		if (!vma || !vma->vm_file || !(vma->vm_flags & VM_SHARED))
			return -EINVAL;
		inode = file_inode(vma->vm_file);
		off = ((loff_t)vma->vm_pgoff << PAGE_SHIFT) +
		      (addr - vma->vm_start);
		if (!b->inode) {
			ihold(inode);
			b->inode = inode;
			b->off = off;
		} else if (b->inode != inode || b->off + (addr - start) != off) {
			return -EINVAL;
		}
		addr = vma->vm_end;
	}
	return 0;
}

/*
 * Every slot of vm through mm: fills b[] (first pass) or checks it
 * (second pass): 0, -EINVAL (see above) or -EINTR.
 */
static int xvm_slots_backing(struct xvm_vm *vm, struct mm_struct *mm,
			     struct xvm_slot_backing *b)
{
	unsigned int i;
	int r = 0;

	lockdep_assert_held(&vm->slots_lock);
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	for (i = 0; i < XVM_NR_MEMSLOTS && !r; i++) {
		const struct xvm_memslot *slot = vm->memslots[i];

		if (slot)
			r = xvm_slot_backing(mm, slot->userspace_addr,
					     slot->npages << PAGE_SHIFT, &b[i]);
	}
	mmap_read_unlock(mm);
	return r;
}

/*
 * The prepare: every slot is the same memory in old (alive) as in mm.
 * The two mmap_locks are taken one after the other, never nested: the
 * inodes found in old are held until they are compared.
 */
static int xvm_owner_check_slots(struct xvm_vm *vm, struct mm_struct *old,
				 struct mm_struct *mm,
				 struct xvm_slot_backing *b)
{
	unsigned int i;
	int r;

	r = xvm_slots_backing(vm, old, b);
	if (!r)
		r = xvm_slots_backing(vm, mm, b);
	for (i = 0; i < XVM_NR_MEMSLOTS; i++)
		if (b[i].inode)
			iput(b[i].inode);
	return r;
}

/* A poller of the old owner rechecks ownership and leaves (poll.c). */
static void xvm_owner_kick_pollers(struct xvm_vm *vm)
{
	u32 i, n = xvm_nr_vcpus(vm);

	for (i = 0; i < n; i++) {
		struct xvm_vcpu *vcpu = xvm_get_vcpu(vm, i);

		if (vcpu)
			wake_up_all(&vcpu->wq);
	}
}

/*
 * Under slots_lock: the claim proper.  Returns the old owner's mm to drop
 * (after unlocking), or NULL, in *drop.
 */
static long xvm_owner_claim_locked(struct xvm_vm *vm,
				   struct xvm_slot_backing *b,
				   struct mm_struct **drop)
{
	struct mm_struct *mm = current->mm, *old = vm->mm;
	long r;

	lockdep_assert_held(&vm->slots_lock);
	if (!mm || vm->owner_grant != mm)
		return -EPERM;
	if (old == mm) {		/* granted to itself: nothing moves */
		vm->owner_grant = NULL;
		*drop = mm;
		return 0;
	}
	if (!mmget_not_zero(old))
		return -ESRCH;
	r = xvm_owner_check_slots(vm, old, mm, b);
	mmput_async(old);
	if (r)
		return r;

	/* Commit: nothing fails from here.  The grant's reference moves. */
	vm->owner_grant = NULL;
	WRITE_ONCE(vm->mm, mm);
	*drop = old;
	return 0;
}

/**
 * xvm_vm_claim_owner() - XVM_CLAIM_OWNER
 * @vm: the VM
 * @arg: the ioctl's argument, which must be 0
 *
 * Called without the owner check: any thread of the mm @vm was granted to
 * takes it over (see the top of this file).
 *
 * Return: 0; -EINVAL if @arg is not 0, or if a slot is not the same memory
 * in both mms (nothing changed then); -EPERM if the caller's mm is not the
 * granted one (the owner's included, unless it granted itself); -ESRCH if
 * the owner's address space is gone (it exited); -EINTR on a fatal signal;
 * -ENOMEM.
 */
long xvm_vm_claim_owner(struct xvm_vm *vm, unsigned long arg)
{
	struct mm_struct *drop = NULL;
	struct xvm_slot_backing *b;
	long r;

	if (arg)
		return -EINVAL;
	b = kcalloc(XVM_NR_MEMSLOTS, sizeof(*b), GFP_KERNEL_ACCOUNT);
	if (!b)
		return -ENOMEM;
	mutex_lock(&vm->slots_lock);
	r = xvm_owner_claim_locked(vm, b, &drop);
	mutex_unlock(&vm->slots_lock);
	kfree(b);
	if (drop)
		mmdrop(drop);
	if (!r)
		xvm_owner_kick_pollers(vm);
	return r;
}
