// SPDX-License-Identifier: GPL-2.0
/*
 * Memory slots: guest physical ranges backed by userspace memory, with
 * KVM_SET_USER_MEMORY_REGION's rules for create, move and delete.
 *
 * Listeners (xvm-iommu) follow every change in two phases: all of them
 * prepare it (and may veto it), then all commit it, or those that prepared
 * abort it.  Every step that can fail comes before the first commit, so a
 * change is applied everywhere or nowhere.
 *
 * Locking: vm->slots_lock protects vm->memslots[], every slot's fields and
 * vm->memslot_listeners.  A change is made only if the caller still owns
 * the VM under it (a claim may have moved it since the ioctl's lockless
 * check, see owner.c): a slot's address is always one of the owner's.
 */
#include <linux/mm.h>
#include <linux/nospec.h>
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

/*
 * Prepares every listener for a create or a move; on a veto, aborts those
 * already prepared, newest first.
 */
static int xvm_memslot_prepare(struct xvm_vm *vm,
			       const struct xvm_memslot *old,
			       const struct xvm_memslot *new)
{
	struct xvm_memslot_listener *l;
	int r;

	lockdep_assert_held(&vm->slots_lock);
	list_for_each_entry(l, &vm->memslot_listeners, node) {
		r = l->ops->prepare(l, old, new);
		if (!r)
			continue;
		list_for_each_entry_continue_reverse(l, &vm->memslot_listeners,
						     node)
			l->ops->abort(l, old, new);
		return r;
	}
	return 0;
}

static void xvm_memslot_commit(struct xvm_vm *vm,
			       const struct xvm_memslot *old,
			       const struct xvm_memslot *new)
{
	struct xvm_memslot_listener *l;

	lockdep_assert_held(&vm->slots_lock);
	list_for_each_entry(l, &vm->memslot_listeners, node)
		l->ops->commit(l, old, new);
}

/**
 * xvm_memslot_listener_register() - follow the memory slots of a VM
 * @vm: the VM
 * @listener: the listener, with its ops set
 *
 * Replays every existing slot as a create (prepare, then commit); if one
 * is refused, the slots already committed are replayed as deletes.
 *
 * Return: 0, or the error of the refused prepare.
 */
int xvm_memslot_listener_register(struct xvm_vm *vm,
				  struct xvm_memslot_listener *listener)
{
	const struct xvm_memslot_listener_ops *ops = listener->ops;
	unsigned int i, j;
	int r = 0;

	mutex_lock(&vm->slots_lock);
	for (i = 0; i < XVM_NR_MEMSLOTS && !r; i++) {
		if (!vm->memslots[i])
			continue;
		r = ops->prepare(listener, NULL, vm->memslots[i]);
		if (!r)
			ops->commit(listener, NULL, vm->memslots[i]);
	}
	if (r) {
		for (j = 0; j + 1 < i; j++)
			if (vm->memslots[j])
				ops->commit(listener, vm->memslots[j], NULL);
	} else {
		list_add_tail(&listener->node, &vm->memslot_listeners);
	}
	mutex_unlock(&vm->slots_lock);
	return r;
}
EXPORT_SYMBOL_NS_GPL(xvm_memslot_listener_register, XVM_NS);

/**
 * xvm_memslot_listener_unregister() - stop following the memory slots
 * @vm: the VM
 * @listener: a registered listener
 *
 * No callback is made; once this returns, none runs.
 */
void xvm_memslot_listener_unregister(struct xvm_vm *vm,
				     struct xvm_memslot_listener *listener)
{
	mutex_lock(&vm->slots_lock);
	list_del(&listener->node);
	mutex_unlock(&vm->slots_lock);
}
EXPORT_SYMBOL_NS_GPL(xvm_memslot_listener_unregister, XVM_NS);

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

static void xvm_memslot_delete(struct xvm_vm *vm, struct xvm_memslot *slot)
{
	xvm_memslot_commit(vm, slot, NULL);
	vm->memslots[slot->id] = NULL;
	kfree(slot);
}

/* Only the guest address may change (KVM's rules); 0 when nothing does. */
static int xvm_memslot_move(struct xvm_vm *vm, struct xvm_memslot *slot,
			    const struct xvm_userspace_memory_region *mem)
{
	struct xvm_gfn gfn = gpa_to_gfn(mem->guest_phys_addr);
	struct xvm_memslot moved;
	int r;

	if (slot->npages != mem->memory_size >> PAGE_SHIFT ||
	    slot->userspace_addr != mem->userspace_addr ||
	    slot->flags != mem->flags)
		return -EINVAL;
	if (xvm_memslot_overlaps(vm, gfn, slot->npages, slot))
		return -EEXIST;
	if (gfn_eq(gfn, slot->base_gfn))
		return 0;
	moved = *slot;
	moved.base_gfn = gfn;
	r = xvm_memslot_prepare(vm, slot, &moved);
	if (r)
		return r;
	xvm_memslot_commit(vm, slot, &moved);
	*slot = moved;
	return 0;
}

static int xvm_memslot_create(struct xvm_vm *vm,
			      const struct xvm_userspace_memory_region *mem)
{
	struct xvm_gfn gfn = gpa_to_gfn(mem->guest_phys_addr);
	u64 npages = mem->memory_size >> PAGE_SHIFT;
	struct xvm_memslot *slot;
	int r;

	if (xvm_memslot_overlaps(vm, gfn, npages, NULL))
		return -EEXIST;
	slot = kzalloc(sizeof(*slot), GFP_KERNEL_ACCOUNT);
	if (!slot)
		return -ENOMEM;
	slot->id = mem->slot;
	slot->flags = mem->flags;
	slot->base_gfn = gfn;
	slot->npages = npages;
	slot->userspace_addr = mem->userspace_addr;
	r = xvm_memslot_prepare(vm, NULL, slot);
	if (r) {
		kfree(slot);
		return r;
	}
	xvm_memslot_commit(vm, NULL, slot);
	vm->memslots[slot->id] = slot;
	return 0;
}

int xvm_set_memory_region(struct xvm_vm *vm,
			  const struct xvm_userspace_memory_region *mem)
{
	struct xvm_memslot *slot;
	int r;

	r = xvm_memslot_check(vm, mem);
	if (r)
		return r;

	mutex_lock(&vm->slots_lock);
	slot = vm->memslots[array_index_nospec(mem->slot, XVM_NR_MEMSLOTS)];
	if (vm->mm != current->mm) {
		r = -EIO;
	} else if (!mem->memory_size) {
		r = -EINVAL;
		if (slot) {
			xvm_memslot_delete(vm, slot);
			r = 0;
		}
	} else if (slot) {
		r = xvm_memslot_move(vm, slot, mem);
	} else {
		r = xvm_memslot_create(vm, mem);
	}
	mutex_unlock(&vm->slots_lock);
	return r;
}

void xvm_memslots_free(struct xvm_vm *vm)
{
	unsigned int i;

	for (i = 0; i < XVM_NR_MEMSLOTS; i++)
		kfree(vm->memslots[i]);
}
