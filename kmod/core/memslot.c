// SPDX-License-Identifier: GPL-2.0
/*
 * Memory slots: guest physical ranges backed by userspace memory, with
 * KVM_SET_USER_MEMORY_REGION's rules for create, move and delete.
 *
 * Locking: vm->slots_lock protects vm->memslots[] and every slot's fields.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"

static u64 xvm_memslot_end(const struct xvm_memslot *slot)
{
	return gfn_x(slot->base_gfn) + slot->npages;
}

/* Does [gfn, gfn + npages) overlap any slot other than skip? */
static bool xvm_memslot_overlaps(struct xvm_vm *vm, struct xvm_gfn gfn,
				 u64 npages, const struct xvm_memslot *skip)
{
	unsigned int i;

	lockdep_assert_held(&vm->slots_lock);
	for (i = 0; i < XVM_NR_MEMSLOTS; i++) {
		struct xvm_memslot *slot = vm->memslots[i];

		if (!slot || slot == skip)
			continue;
		if (gfn_x(gfn) < xvm_memslot_end(slot) &&
		    gfn_x(slot->base_gfn) < gfn_x(gfn) + npages)
			return true;
	}
	return false;
}

static int xvm_memslot_check(struct xvm_vm *vm,
			     const struct xvm_userspace_memory_region *mem)
{
	if (mem->reserved[0] || mem->reserved[1])
		return -EINVAL;
	if (mem->flags & ~XVM_MEM_FLAGS_ALL)
		return -EINVAL;
	if (mem->slot >= XVM_NR_MEMSLOTS)
		return -EINVAL;
	if (!PAGE_ALIGNED(mem->guest_phys_addr) ||
	    !PAGE_ALIGNED(mem->memory_size) ||
	    !PAGE_ALIGNED(mem->userspace_addr))
		return -EINVAL;
	if (!mem->memory_size)
		return 0;
	if (!xvm_gpa_range_valid(vm, mem->guest_phys_addr, mem->memory_size))
		return -EINVAL;
	if (mem->userspace_addr + mem->memory_size < mem->userspace_addr ||
	    !access_ok(u64_to_user_ptr(mem->userspace_addr), mem->memory_size))
		return -EINVAL;
	return 0;
}

int xvm_set_memory_region(struct xvm_vm *vm,
			  const struct xvm_userspace_memory_region *mem)
{
	struct xvm_gfn gfn = gpa_to_gfn(mem->guest_phys_addr);
	u64 npages = mem->memory_size >> PAGE_SHIFT;
	struct xvm_memslot *slot;
	int r;

	r = xvm_memslot_check(vm, mem);
	if (r)
		return r;

	mutex_lock(&vm->slots_lock);
	slot = vm->memslots[mem->slot];

	if (!npages) {				/* delete */
		r = -EINVAL;
		if (!slot)
			goto out;
		vm->memslots[mem->slot] = NULL;
		kfree(slot);
		r = 0;
		goto out;
	}

	if (slot) {				/* move, or nothing */
		r = -EINVAL;
		if (slot->npages != npages ||
		    slot->userspace_addr != mem->userspace_addr ||
		    slot->flags != mem->flags)
			goto out;
		r = -EEXIST;
		if (xvm_memslot_overlaps(vm, gfn, npages, slot))
			goto out;
		slot->base_gfn = gfn;
		r = 0;
		goto out;
	}

	r = -EEXIST;				/* create */
	if (xvm_memslot_overlaps(vm, gfn, npages, NULL))
		goto out;
	r = -ENOMEM;
	slot = kzalloc(sizeof(*slot), GFP_KERNEL_ACCOUNT);
	if (!slot)
		goto out;
	slot->id = mem->slot;
	slot->flags = mem->flags;
	slot->base_gfn = gfn;
	slot->npages = npages;
	slot->userspace_addr = mem->userspace_addr;
	vm->memslots[mem->slot] = slot;
	r = 0;
out:
	mutex_unlock(&vm->slots_lock);
	return r;
}

void xvm_memslots_free(struct xvm_vm *vm)
{
	unsigned int i;

	for (i = 0; i < XVM_NR_MEMSLOTS; i++)
		kfree(vm->memslots[i]);
}
