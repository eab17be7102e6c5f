// SPDX-License-Identifier: GPL-2.0
/*
 * Memory slots: guest physical ranges backed by userspace memory, with
 * KVM_SET_USER_MEMORY_REGION's rules for create, move and delete.
 *
 * Listeners (xvm-iommu) see every change before it takes effect and can
 * veto it; a veto by one listener is undone in those that accepted it.
 *
 * Locking: vm->slots_lock protects vm->memslots[], every slot's fields and
 * vm->memslot_listeners.
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

/* Tells every listener; on a veto, reverts those already told. */
static int xvm_memslot_notify(struct xvm_vm *vm, const struct xvm_memslot *old,
			      const struct xvm_memslot *new)
{
	struct xvm_memslot_listener *l, *undo;
	int r;

	lockdep_assert_held(&vm->slots_lock);
	list_for_each_entry(l, &vm->memslot_listeners, node) {
		r = l->update(l, old, new);
		if (!r)
			continue;
		list_for_each_entry(undo, &vm->memslot_listeners, node) {
			if (undo == l)
				break;
			WARN_ON_ONCE(undo->update(undo, new, old));
		}
		return r;
	}
	return 0;
}

int xvm_memslot_listener_register(struct xvm_vm *vm,
				  struct xvm_memslot_listener *listener)
{
	unsigned int i, j;
	int r = 0;

	mutex_lock(&vm->slots_lock);
	for (i = 0; i < XVM_NR_MEMSLOTS; i++) {
		if (!vm->memslots[i])
			continue;
		r = listener->update(listener, NULL, vm->memslots[i]);
		if (r)
			break;
	}
	if (r) {
		for (j = 0; j < i; j++) {
			struct xvm_memslot *slot = vm->memslots[j];

			if (slot)
				WARN_ON_ONCE(listener->update(listener, slot,
							      NULL));
		}
	} else {
		list_add_tail(&listener->node, &vm->memslot_listeners);
	}
	mutex_unlock(&vm->slots_lock);
	return r;
}
EXPORT_SYMBOL_GPL(xvm_memslot_listener_register);

void xvm_memslot_listener_unregister(struct xvm_vm *vm,
				     struct xvm_memslot_listener *listener)
{
	mutex_lock(&vm->slots_lock);
	list_del(&listener->node);
	mutex_unlock(&vm->slots_lock);
}
EXPORT_SYMBOL_GPL(xvm_memslot_listener_unregister);

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
	struct xvm_memslot *slot, moved;
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
		r = xvm_memslot_notify(vm, slot, NULL);
		if (r)
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
		moved = *slot;
		moved.base_gfn = gfn;
		r = 0;
		if (!gfn_eq(gfn, slot->base_gfn))
			r = xvm_memslot_notify(vm, slot, &moved);
		if (!r)
			*slot = moved;
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
	r = xvm_memslot_notify(vm, NULL, slot);
	if (r) {
		kfree(slot);
		goto out;
	}
	vm->memslots[mem->slot] = slot;
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
