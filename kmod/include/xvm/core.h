/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The xvm core API: what xvm.ko exports to the device modules (xvm-vgic,
 * xvm-msix, xvm-iommu, xvm-testdev), in the XVM symbol namespace: a
 * module using it says XVM_IMPORT_NS() (kmod/compat/xvm_compat.h).
 *
 * Lifetimes, as in KVM:
 *  - A VM is refcounted: its fd, every vCPU fd and every device fd hold a
 *    reference, taken and dropped by the core; the last one destroys it.
 *  - vCPUs belong to their VM and are freed with it.
 *  - Devices belong to their VM and are destroyed with it, unless their type
 *    has ->release, in which case closing the device fd releases the device.
 *  - A device type's module is pinned while one of its devices exists.
 *
 * Locking (struct xvm_vm):
 *  - vm->lock (mutex) serialises vCPU creation and the device list; the
 *    device ops create and the vcpu_* hooks run under it, destroy and release
 *    without it (the device is already unlinked).
 *  - vm->slots_lock (mutex) protects the memory slots and the memslot
 *    listeners; it is taken before vm->lock when both are needed.
 *  - vm->mmio_lock (mutex) serialises MMIO bus writers; readers are
 *    lock-free under RCU (see xvm_mmio_access()).
 *  - vcpu->mutex serialises the ioctls of one vCPU.
 *
 * A statistics fd (XVM_GET_STATS_FD) holds a VM reference too, whether it
 * is the VM's or a vCPU's.
 */
#ifndef _XVM_CORE_H
#define _XVM_CORE_H

#include <linux/types.h>
#include <linux/bits.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/xvm.h>

#include <xvm/frame.h>

#define XVM_MAX_VCPUS		1024
#define XVM_MAX_VCPU_ID		1024
#define XVM_NR_MEMSLOTS		256
#define XVM_MMIO_MAX_REGIONS	4096

struct xvm_vm;
struct xvm_vcpu;
struct xvm_memslot_listener;
struct xvm_device;
struct xvm_mmio_bus;
struct xvm_evtchn_table;

/* A memory slot: guest frames [base_gfn, base_gfn + npages) at userspace_addr. */
struct xvm_memslot {
	u32 id;
	u32 flags;			/* XVM_MEM_* */
	struct xvm_gfn base_gfn;
	u64 npages;
	unsigned long userspace_addr;
};

/**
 * struct xvm_memslot_listener_ops - how a listener follows the memory slots
 * @prepare: a slot is about to be created (@old NULL) or moved (both set).
 *	Allocates and maps everything @commit needs; may fail, which vetoes
 *	the change.  Not called for a delete, which cannot be refused.
 * @commit: the change takes effect (@new NULL: a delete).  Cannot fail:
 *	it reports nothing, so what it cannot do in place it must leave safe
 *	and say so (xvm-iommu's move onto an overlapping range, see there).
 * @abort: undoes a successful @prepare exactly; another listener vetoed
 *	the change.  Cannot fail.
 *
 * All three run under vm->slots_lock and may sleep.  For one change the
 * core calls @prepare on every listener, then either @commit on all of
 * them or @abort on those whose @prepare succeeded; no other change comes
 * in between.  The slots passed are valid only during the call.
 */
struct xvm_memslot_listener_ops {
	int (*prepare)(struct xvm_memslot_listener *listener,
		       const struct xvm_memslot *old,
		       const struct xvm_memslot *new);
	void (*commit)(struct xvm_memslot_listener *listener,
		       const struct xvm_memslot *old,
		       const struct xvm_memslot *new);
	void (*abort)(struct xvm_memslot_listener *listener,
		      const struct xvm_memslot *old,
		      const struct xvm_memslot *new);
};

/*
 * A memslot listener follows the guest's memory (xvm-iommu mirrors it in an
 * IOMMU domain).  Code that must not race a slot change (xvm-iommu's
 * explicit mappings) takes vm->slots_lock.
 */
struct xvm_memslot_listener {
	struct list_head node;		/* on vm->memslot_listeners */
	const struct xvm_memslot_listener_ops *ops;
};

int xvm_memslot_listener_register(struct xvm_vm *vm,
				  struct xvm_memslot_listener *listener);
void xvm_memslot_listener_unregister(struct xvm_vm *vm,
				     struct xvm_memslot_listener *listener);

/*
 * Statistics (kmod/core/stats.c, XVM_GET_STATS_FD): each VM and vCPU keeps
 * an array of atomic64_t indexed by these, the shape xvm-msix and
 * xvm-testdev use for their own counters.  Any context may bump one with
 * atomic64_inc(); the stats fd reads them with atomic64_read(), lock-free.
 */
enum xvm_vm_stat {
	XVM_VM_STAT_MMIO_HANDLED,	/* the vCPUs' sum, on read (stats.c) */
	XVM_VM_STAT_MMIO_UNHANDLED,	/* the vCPUs' sum, on read (stats.c) */
	XVM_VM_STAT_EVTCHN_SENDS,	/* XVM_EVTCHN_SEND on a bound port */
	XVM_VM_STAT_EVTCHN_RAISES,	/* ports of this VM made pending */
	/* Kept by the device modules, in the VM's file whatever is loaded. */
	XVM_VM_STAT_MSIX_DELIVERED,	/* xvm-msix: MSI writes a region claimed */
	XVM_VM_STAT_MSIX_LATCHED,	/* xvm-msix: fires while masked */
	XVM_VM_STAT_IOMMU_PAGES_MAPPED,	/* xvm-iommu: frames mapped now */
	XVM_VM_NR_STATS
};

enum xvm_vcpu_stat {
	XVM_VCPU_STAT_POLLS,		/* XVM_POLL calls past the argument checks */
	XVM_VCPU_STAT_POLL_WAKEUPS,	/* ... that returned a port */
	XVM_VCPU_STAT_POLL_TIMEOUTS,	/* ... that timed out */
	/* Halt polling (poll.c), KVM's halt_* statistics. */
	XVM_VCPU_STAT_HALT_SUCCESSFUL_POLL,	/* polled, never slept */
	XVM_VCPU_STAT_HALT_ATTEMPTED_POLL,	/* polled */
	XVM_VCPU_STAT_HALT_POLL_INVALID,	/* ... never slept, no event */
	XVM_VCPU_STAT_HALT_WAKEUP,		/* slept, woken by an event */
	XVM_VCPU_STAT_HALT_POLL_SUCCESS_NS,	/* spun, then not slept */
	XVM_VCPU_STAT_HALT_POLL_FAIL_NS,	/* spun, then slept */
	XVM_VCPU_STAT_HALT_WAIT_NS,		/* slept */
	XVM_VCPU_STAT_MMIO_HANDLED,	/* its MMIO accesses a region handled */
	XVM_VCPU_STAT_MMIO_UNHANDLED,	/* ... that no region handled */
	XVM_VCPU_NR_STATS
};

struct xvm_vcpu {
	struct xvm_vm *vm;
	u32 id;				/* chosen by userspace */
	u32 index;			/* creation order, 0-based */
	struct mutex mutex;		/* serialises this vCPU's ioctls */
	wait_queue_head_t wq;		/* XVM_POLL sleepers and poll() on the fd */
	int poll_port;			/* see evtchn.c */
	u32 halt_poll_ns;		/* XVM_POLL's spin window, poll.c */
	atomic64_t stats[XVM_VCPU_NR_STATS];	/* enum xvm_vcpu_stat */
	struct xvm_vcpu_run *run;	/* the run page, mapped by userspace */
};

struct xvm_vm {
	struct kref refcount;
	struct mm_struct *mm;		/* the owner's; see owner.c */
	struct mm_struct *owner_grant;	/* may claim it; under slots_lock */
	u64 id;				/* unique, never reused (not 0) */
	u32 phys_addr_bits;

	struct mutex lock;		/* vCPU creation, device list */
	struct xarray vcpus;		/* index -> vcpu, published under lock */
	atomic_t nr_vcpus;
	struct list_head devices;

	struct mutex slots_lock;	/* memslots[] and their fields */
	struct xvm_memslot *memslots[XVM_NR_MEMSLOTS];
	struct list_head memslot_listeners;

	/* The device that serves vCPU ioctls the core does not know. */
	struct xvm_device *vcpu_ioctl_dev;

	struct mutex mmio_lock;		/* writers of mmio_bus */
	struct xvm_mmio_bus __rcu *mmio_bus;

	struct xvm_evtchn_table *evtchn;
	atomic64_t halt_poll;		/* XVM_CAP_HALT_POLL, see poll.c */

	atomic64_t stats[XVM_VM_NR_STATS];	/* enum xvm_vm_stat */
};

/*
 * The vCPU created index-th, or NULL.  Only vCPUs below nr_vcpus are
 * complete; the barrier pairs with the one in xvm_vcpu_create().
 */
static inline struct xvm_vcpu *xvm_get_vcpu(struct xvm_vm *vm, u32 index)
{
	u32 n = atomic_read(&vm->nr_vcpus);

	if (index >= n)
		return NULL;
	index = array_index_nospec(index, n);
	smp_rmb();	/* read nr_vcpus before the entry it covers */
	return xa_load(&vm->vcpus, index);
}

/**
 * xvm_vm_owned() - does current's address space own the VM?
 * @vm: the VM
 *
 * Lockless: XVM_CLAIM_OWNER may move the VM to another mm at any time
 * (see owner.c for why an ioctl that passed this check just before is
 * harmless).  Under vm->slots_lock the answer is stable.
 *
 * Return: true if current may act on @vm.
 */
static inline bool xvm_vm_owned(struct xvm_vm *vm)
{
	return READ_ONCE(vm->mm) == current->mm;
}

static inline u32 xvm_nr_vcpus(struct xvm_vm *vm)
{
	return atomic_read(&vm->nr_vcpus);
}

/* Guest physical addresses of this VM are below 1 << phys_addr_bits. */
static inline bool xvm_gpa_range_valid(struct xvm_vm *vm, u64 gpa, u64 size)
{
	u64 limit = 1ULL << vm->phys_addr_bits;

	return gpa < limit && size <= limit - gpa;
}

/*
 * The MMIO bus.  A region claims [base, base + size).  Handlers run under
 * rcu_read_lock(), possibly in hard-IRQ context (MSI delivery): they must
 * not sleep.  They return 0 when they handled the access; anything else
 * leaves the access unhandled, for the VMM to emulate.  vcpu is NULL for
 * accesses that come from a device (an MSI write).
 */
struct xvm_mmio_region;

struct xvm_mmio_ops {
	int (*read)(struct xvm_vcpu *vcpu, struct xvm_mmio_region *region,
		    u64 offset, unsigned int len, u64 *val);
	int (*write)(struct xvm_vcpu *vcpu, struct xvm_mmio_region *region,
		     u64 offset, unsigned int len, u64 val);
};

struct xvm_mmio_region {
	u64 base;
	u64 size;
	const struct xvm_mmio_ops *ops;
};

int xvm_mmio_register(struct xvm_vm *vm, struct xvm_mmio_region *region);
/*
 * Unregistering does not wait for readers: call xvm_mmio_synchronize() once
 * after a batch of unregistrations, before freeing the regions.
 */
void xvm_mmio_unregister(struct xvm_vm *vm, struct xvm_mmio_region *region);
void xvm_mmio_synchronize(void);
int xvm_mmio_access(struct xvm_vm *vm, struct xvm_vcpu *vcpu, u64 addr,
		    unsigned int len, bool is_write, u64 *val);

/* Marks a port of vm pending, as a send would; any context, never sleeps. */
void xvm_evtchn_raise_port(struct xvm_vm *vm, u32 port);

/*
 * eventfd hooks (kmod/core/eventfd.c): one in-kernel consumer per eventfd.
 */
struct eventfd_ctx;

/**
 * struct xvm_eventfd_hook - An eventfd whose signals call a function.
 * @ctx: the eventfd, referenced from xvm_eventfd_hook() to
 *	xvm_eventfd_unhook(); NULL when the hook holds none
 * @wqh: the eventfd's wait queue
 * @wait: our entry on @wqh
 * @pt: used once, to find @wqh
 * @fire: called for each signal
 * @hooked: on @wqh; written under @wqh->lock
 * @error: set while hooking
 *
 * As KVM's irqfd: the hook is the eventfd's priority exclusive waiter.  Its
 * wake function consumes the eventfd's count (eventfd_ctx_do_read()) and
 * calls @fire under the eventfd's wait-queue lock with IRQs off, possibly
 * in hard-IRQ context (vfio-pci's interrupt handler): @fire must not
 * sleep, and must defer any eventfd signal of its own (there
 * eventfd_signal_allowed() is false).  Readers and pollers of the eventfd
 * see no signal while it is hooked.  A count already in the eventfd when
 * it is hooked is consumed and fired once, from xvm_eventfd_hook() after
 * it dropped the eventfd's lock - while a new signal may fire it from the
 * wake function on another CPU: @fire must be safe to run on two CPUs at
 * once.  On an EFD_SEMAPHORE eventfd each wake-up consumes 1, not the
 * whole count (eventfd semantics); use ordinary eventfds.
 *
 * One eventfd, one in-kernel consumer: xvm_eventfd_hook() refuses an
 * eventfd that has a priority waiter already (another hook, a KVM irqfd)
 * with -EBUSY.  The 6.1 KVM irqfd does not make the same check: one added
 * after the hook is queued behind it and never fires; nor does an
 * ordinary waiter (VFIO's virqfd) see the signals.
 *
 * When the eventfd's file is released (its last fd closed) the hook takes
 * itself off the queue (EPOLLHUP), as KVM's irqfd does;
 * xvm_eventfd_hook_active() turns false, and the owner still calls
 * xvm_eventfd_unhook(), which drops the reference.
 *
 * The fields are the core's; owners embed the struct and use
 * container_of() in @fire.
 */
struct xvm_eventfd_hook {
	struct eventfd_ctx *ctx;
	wait_queue_head_t *wqh;
	wait_queue_entry_t wait;
	poll_table pt;
	void (*fire)(struct xvm_eventfd_hook *hook);
	bool hooked;
	int error;
};

int xvm_eventfd_hook(struct xvm_eventfd_hook *hook, int fd,
		     void (*fire)(struct xvm_eventfd_hook *hook));
void xvm_eventfd_unhook(struct xvm_eventfd_hook *hook);
bool xvm_eventfd_hook_active(const struct xvm_eventfd_hook *hook);

/**
 * xvm_eventfd_hook_holds() - Whether @hook holds an eventfd.
 * @hook: the hook
 *
 * Return: true from a successful xvm_eventfd_hook() until
 * xvm_eventfd_unhook(), EPOLLHUP or not; under the owner's lock.
 */
static inline bool xvm_eventfd_hook_holds(const struct xvm_eventfd_hook *hook)
{
	return hook->ctx;
}

/* Device types. */

/* The most bytes an attribute's value may have: the core buffers it. */
#define XVM_ATTR_MAX_SIZE	64
/* GET reads the value from xvm_device_attr.addr first (an in/out value). */
#define XVM_ATTR_GET_READS	BIT(0)
/* SET needs CAP_SYS_RAWIO, checked before the value is read (-EPERM). */
#define XVM_ATTR_SET_RAWIO	BIT(1)
#define XVM_ATTR_FLAGS_ALL	(XVM_ATTR_GET_READS | XVM_ATTR_SET_RAWIO)

/**
 * struct xvm_attr_desc - a range of device attributes, for the core
 * @group: the xvm_device_attr.group it belongs to
 * @flags: XVM_ATTR_* bits
 * @attr_first: first xvm_device_attr.attr of the range
 * @attr_last: last xvm_device_attr.attr of the range (inclusive)
 * @size: bytes of the value at xvm_device_attr.addr, at most
 *	%XVM_ATTR_MAX_SIZE; 0 if the attribute has no value (addr unread)
 * @has: optional: 0 if the attribute exists now, else an errno; for
 *	attributes whose validity depends on state (a vCPU, an attach)
 * @get: fills @val (@size bytes, zeroed, or as read with
 *	%XVM_ATTR_GET_READS); NULL if GET is not supported
 * @set: takes @val (@size bytes read from addr); NULL if SET is not
 *	supported
 *
 * XVM_{SET,GET,HAS}_DEVICE_ATTR on a device fd: the core reads struct
 * xvm_device_attr (-EFAULT), checks its flags (-EINVAL), finds the range
 * holding group and attr (-ENXIO if none), calls @has (its errno).  HAS
 * stops there (0).  GET and SET are -ENXIO without @get / @set; then SET
 * checks %XVM_ATTR_SET_RAWIO (-EPERM), copies the value in (-EFAULT) and
 * calls @set; GET copies the value in if %XVM_ATTR_GET_READS (-EFAULT),
 * calls @get and, if it returned 0, copies the value out (-EFAULT).  The callbacks run without
 * vm->lock, may sleep, and take the device's own locks.
 *
 * A type's table is sorted by (@group, @attr_first), its ranges do not
 * overlap and each has @get or @set: xvm_register_device_ops() checks.
 */
struct xvm_attr_desc {
	u32 group;
	u32 flags;
	u64 attr_first;
	u64 attr_last;
	u32 size;
	int (*has)(struct xvm_device *dev, const struct xvm_device_attr *attr);
	int (*get)(struct xvm_device *dev, const struct xvm_device_attr *attr,
		   void *val);
	int (*set)(struct xvm_device *dev, const struct xvm_device_attr *attr,
		   const void *val);
};

struct xvm_device_ops {
	const char *name;
	u32 type;			/* XVM_DEV_TYPE_* */
	struct module *owner;

	/* Called under vm->lock; sets dev->private.  Must not take vm->lock. */
	int (*create)(struct xvm_device *dev);
	/*
	 * Frees the device at VM teardown (no ioctl can run then).  Called
	 * without vm->lock: it may take vm->slots_lock.
	 */
	void (*destroy)(struct xvm_device *dev);
	/*
	 * Optional: the device fd was closed.  The device is unlinked from the
	 * VM first; release frees it and destroy is not called.  Called
	 * without vm->lock, as destroy.
	 */
	void (*release)(struct xvm_device *dev);
	/*
	 * Optional, two-phase, under vm->lock: a vCPU is being created.
	 * vcpu_prepare allocates (and may put on the bus) what the device
	 * needs for it and may fail, which fails the creation; then either
	 * vcpu_commit (cannot fail) or, if a later step of the creation failed,
	 * vcpu_abort (undoes vcpu_prepare exactly, cannot fail).  The vCPU is
	 * not visible to xvm_get_vcpu() until after vcpu_commit.  A type with
	 * vcpu_prepare must have vcpu_abort.
	 */
	int (*vcpu_prepare)(struct xvm_device *dev, struct xvm_vcpu *vcpu);
	void (*vcpu_commit)(struct xvm_device *dev, struct xvm_vcpu *vcpu);
	void (*vcpu_abort)(struct xvm_device *dev, struct xvm_vcpu *vcpu);

	/* The type's attributes (see struct xvm_attr_desc), or none. */
	const struct xvm_attr_desc *attrs;
	unsigned int nr_attrs;
	long (*ioctl)(struct xvm_device *dev, unsigned int cmd,
		      unsigned long arg);
	/*
	 * Optional: vCPU ioctls the core does not know (the interrupt
	 * controller's CPU interface).  Runs under vcpu->mutex.  At most one
	 * such device per VM (a second is -EEXIST); it lives until VM
	 * teardown, so its type must not have ->release.
	 */
	long (*vcpu_ioctl)(struct xvm_device *dev, struct xvm_vcpu *vcpu,
			   unsigned int cmd, unsigned long arg);
};

struct xvm_device {
	const struct xvm_device_ops *ops;
	struct xvm_vm *vm;
	void *private;
	struct list_head vm_node;	/* on vm->devices, under vm->lock */
};

int xvm_register_device_ops(const struct xvm_device_ops *ops);
void xvm_unregister_device_ops(const struct xvm_device_ops *ops);

/*
 * Table-driven ioctls, as iommufd's IOCTL_OP table: one descriptor per
 * command, one dispatcher (kmod/core/ioctl.c) that copies the argument in
 * and out and checks its reserved bytes and flags.
 */

/* The largest argument struct a descriptor may describe. */
#define XVM_IOCTL_MAX_SIZE	128

/* Copy the struct back even when the handler fails (partial results). */
#define XVM_IOCTL_OUT_ON_ERROR	BIT(0)
/* The fd's own lock (vcpu->mutex) is not taken: the handler needs none. */
#define XVM_IOCTL_UNLOCKED	BIT(1)

/**
 * struct xvm_ioctl_zero - bytes of an argument that must be zero
 * @start: the first byte
 * @end: one past the last; @start == @end (0) ends the list
 */
struct xvm_ioctl_zero {
	u16 start;
	u16 end;
};

/**
 * struct xvm_ioctl_flags - a __u32 field of an argument whose unknown bits
 *	are rejected
 * @offset: where the field is
 * @checked: whether there is such a field
 * @valid: the bits that may be set
 */
struct xvm_ioctl_flags {
	u16 offset;
	bool checked;
	u32 valid;
};

#define XVM_IOCTL_MAX_ZERO	2

/**
 * struct xvm_ioctl_desc - how one ioctl command is handled
 * @cmd: the full command number: direction and size must match too
 * @size: the argument's size, _IOC_SIZE(@cmd); 0 for an _IO() command
 * @flags: ``XVM_IOCTL_*``
 * @out_start: for _IOC_READ, the first byte written back (0: all of them)
 * @out_end: one past the last byte written back (0: @size); set both with
 *	XVM_IOCTL_OUT() to write back only what the handler produces
 * @fn: the handler.  @data is the kernel copy of the argument (read in for
 *	_IOC_WRITE, zeroed otherwise; written back for _IOC_READ if @fn
 *	returns >= 0), NULL for an _IO() command, which gets @arg as is
 * @lock: optional: returns the mutex held across @fn (not across the
 *	copies)
 * @zero: bytes that must be zero (pads, reserved fields): else -EINVAL
 * @valid_flags: a flags field whose unknown bits fail with -EINVAL
 *
 * Build descriptors with XVM_IOCTL() or XVM_IOCTL_NONE(), which check
 * @size against the command number at build time.
 */
struct xvm_ioctl_desc {
	unsigned int cmd;
	u16 size;
	u16 flags;
	u16 out_start;
	u16 out_end;
	long (*fn)(void *obj, void *data, unsigned long arg);
	struct mutex *(*lock)(void *obj);
	struct xvm_ioctl_zero zero[XVM_IOCTL_MAX_ZERO];
	struct xvm_ioctl_flags valid_flags;
};

/* Fields first to last (inclusive) of type must be zero. */
#define XVM_IOCTL_ZERO(type, first, last)				\
	{ .start = offsetof(type, first), .end = offsetofend(type, last) }

/* Only fields first to last (inclusive) of type are written back. */
#define XVM_IOCTL_OUT(type, first, last)				\
	.out_start = offsetof(type, first), .out_end = offsetofend(type, last)

/* Only the bits of mask may be set in type's field, a __u32. */
#define XVM_IOCTL_FLAGS(type, field, mask)				\
	{ .offset = offsetof(type, field), .checked = true, .valid = (mask) }

/*
 * The descriptor of XVM_<name>, whose argument is a type; ... sets more
 * fields.  The name is pasted so that it is written once: the build fails
 * unless _IOC_SIZE(XVM_<name>) is sizeof(type).
 */
#define XVM_IOCTL(name, type, _fn, ...)					\
	{ .cmd = XVM_##name, .fn = (_fn),				\
	  .size = sizeof(type) +					\
		  BUILD_BUG_ON_ZERO(_IOC_SIZE(XVM_##name) != sizeof(type)) + \
		  BUILD_BUG_ON_ZERO(_IOC_DIR(XVM_##name) == _IOC_NONE) +	\
		  BUILD_BUG_ON_ZERO(sizeof(type) > XVM_IOCTL_MAX_SIZE),	\
	  __VA_ARGS__ }

/* The descriptor of XVM_<name>, an _IO() command: fn gets the arg. */
#define XVM_IOCTL_NONE(name, _fn, ...)					\
	{ .cmd = XVM_##name, .fn = (_fn),				\
	  .size = BUILD_BUG_ON_ZERO(_IOC_DIR(XVM_##name) != _IOC_NONE),	\
	  __VA_ARGS__ }

/**
 * xvm_ioctl_find() - the descriptor of a command
 * @table: the descriptors
 * @n: how many
 * @cmd: the command number, compared whole (direction and size too)
 *
 * Return: the descriptor, or NULL.
 */
static inline const struct xvm_ioctl_desc *
xvm_ioctl_find(const struct xvm_ioctl_desc *table, size_t n,
	       unsigned int cmd)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (table[i].cmd == cmd)
			return &table[i];
	return NULL;
}

/**
 * xvm_ioctl_run() - handles an ioctl by its descriptor
 * @d: the command's descriptor, from xvm_ioctl_find()
 * @obj: passed to the descriptor's fn and lock
 * @arg: the ioctl's argument
 *
 * In this order: for _IOC_WRITE copies the struct in (-EFAULT) and checks
 * its zero bytes and flags (-EINVAL), else zeroes it; calls fn, under lock
 * if the descriptor has one; for _IOC_READ copies the struct back
 * (-EFAULT), or its out range, if fn returned >= 0, or whatever it
 * returned with %XVM_IOCTL_OUT_ON_ERROR.  The caller checks the owner and
 * takes any per-fd lock (vcpu->mutex) around the call.  May sleep.
 *
 * Return: fn's return value, or the errno of a step above.
 */
long xvm_ioctl_run(const struct xvm_ioctl_desc *d, void *obj,
		   unsigned long arg);

/**
 * xvm_ioctl_dispatch() - handles an ioctl through a table of descriptors
 * @table: the descriptors of the commands of one kind of fd
 * @n: how many
 * @obj: passed to the descriptor's fn and lock
 * @cmd: the ioctl's command number
 * @arg: the ioctl's argument
 *
 * Finds @cmd (-ENOTTY if absent, so a known number with another size or
 * direction is unknown), then xvm_ioctl_run().
 *
 * Return: fn's return value, or an errno as xvm_ioctl_run() says.
 */
static inline long xvm_ioctl_dispatch(const struct xvm_ioctl_desc *table,
				      size_t n, void *obj, unsigned int cmd,
				      unsigned long arg)
{
	const struct xvm_ioctl_desc *d = xvm_ioctl_find(table, n, cmd);

	return d ? xvm_ioctl_run(d, obj, arg) : -ENOTTY;
}

#endif /* _XVM_CORE_H */
