/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xvm: the user contract of the xvm kernel modules.
 *
 * Object hierarchy, as in KVM:
 *   /dev/xvm  --XVM_CREATE_VM-->  VM fd  --XVM_CREATE_VCPU-->   vCPU fd
 *                                        --XVM_CREATE_DEVICE--> device fd
 *
 * Every struct has a fixed size and explicit padding; every reserved or pad
 * field must be zero, and every unknown flag bit is rejected, so that later
 * versions can give them meaning.  docs/api.md documents each ioctl, field
 * and errno.
 */
#ifndef _UAPI_LINUX_XVM_H
#define _UAPI_LINUX_XVM_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define XVM_API_VERSION		1
/*
 * The ioctl type: 0xBC is free in Documentation/userspace-api/ioctl/
 * ioctl-number.rst (0xB8 is /dev/mshv's since Linux 6.10, 0xBA is
 * liveupdate's, 0xAE is KVM's).  Chosen before any release depends on it.
 */
#define XVMIO			0xBC

/* ioctls on /dev/xvm */
#define XVM_GET_API_VERSION	_IO(XVMIO, 0x00)
#define XVM_CREATE_VM		_IO(XVMIO, 0x01)	/* arg: VM type, see below */
#define XVM_CHECK_EXTENSION	_IO(XVMIO, 0x03)	/* also on a VM fd */

/*
 * XVM_CREATE_VM type: bits [7:0] give the VM's guest physical address size in
 * bits (0 selects XVM_PHYS_ADDR_BITS_DEFAULT); all other bits must be zero.
 * This is KVM's KVM_VM_TYPE_ARM_IPA_SIZE encoding.
 */
#define XVM_VM_TYPE_PHYS_ADDR_BITS_MASK	0xffULL
#define XVM_VM_TYPE_PHYS_ADDR_BITS(x)	((x) & XVM_VM_TYPE_PHYS_ADDR_BITS_MASK)
#define XVM_PHYS_ADDR_BITS_DEFAULT	40
#define XVM_PHYS_ADDR_BITS_MIN		32
#define XVM_PHYS_ADDR_BITS_MAX		52

/* XVM_CHECK_EXTENSION: 0 means "not supported", anything else is a value. */
#define XVM_CAP_NR_VCPUS		1	/* recommended vCPU count */
#define XVM_CAP_MAX_VCPUS		2	/* vCPUs per VM */
#define XVM_CAP_MAX_VCPU_ID		3	/* vCPU ids are below this */
#define XVM_CAP_NR_MEMSLOTS		4	/* memory slots per VM */
#define XVM_CAP_MAX_PHYS_ADDR_BITS	5
#define XVM_CAP_MMIO_BATCH		6	/* accesses per XVM_MMIO_BATCH */
#define XVM_CAP_MAX_MMIO_REGIONS	7	/* MMIO bus regions per VM */
#define XVM_CAP_DEVICE_CTRL		8	/* XVM_CREATE_DEVICE exists */
#define XVM_CAP_EVTCHN			9	/* event-channel ports per VM */
#define XVM_CAP_POLL_MAX_PORTS		10	/* ports per XVM_POLL call */
#define XVM_CAP_STATS_FD		11	/* XVM_GET_STATS_FD exists */
#define XVM_CAP_HALT_POLL		12	/* XVM_ENABLE_CAP of it exists */
#define XVM_CAP_VM_ID			14	/* XVM_ENABLE_CAP: the VMM's id of a VM */
#define XVM_CAP_OWNER_TRANSFER		15	/* XVM_GRANT_OWNER, XVM_CLAIM_OWNER */

/* ioctls on a VM fd */
#define XVM_CREATE_VCPU		_IO(XVMIO, 0x41)	/* arg: vCPU id */

/**
 * struct xvm_enable_cap - argument of XVM_ENABLE_CAP (KVM_ENABLE_CAP's shape)
 * @cap: the capability, %XVM_CAP_HALT_POLL or %XVM_CAP_VM_ID
 * @flags: must be zero
 * @args: the capability's arguments; those it does not use must be zero
 * @pad: must be zero
 *
 * %XVM_CAP_HALT_POLL sets the VM's halt polling: @args[0] is the longest
 * XVM_POLL spins before it sleeps, in ns, 0 to 0xffffffff (KVM's
 * KVM_CAP_HALT_POLL; 0 disables polling); from then on the module
 * parameter xvm.halt_poll_ns no longer applies to the VM.  @args[1] is 0
 * (adaptive, as KVM) or %XVM_HALT_POLL_FIXED.
 *
 * %XVM_CAP_VM_ID gives the VM an id of the VMM's choosing, @args[0] (not
 * 0), the name event-channel state gives the VM (XVM_EVTCHN_GET_STATE);
 * set once: another value later fails with -EBUSY.
 */
struct xvm_enable_cap {
	__u32 cap;
	__u32 flags;
	__u64 args[4];
	__u8 pad[64];
};

/* xvm's own, not KVM's: every poll spins @args[0], the window never adapts. */
#define XVM_HALT_POLL_FIXED	(1ULL << 0)
#define XVM_ENABLE_CAP		_IOW(XVMIO, 0x43, struct xvm_enable_cap)

/**
 * struct xvm_owner_grant - argument of XVM_GRANT_OWNER
 * @pid: the process, in the caller's pid namespace, whose address space
 *	may claim the VM (any of its threads' ids will do); 0 revokes the
 *	grant
 * @flags: must be zero
 * @reserved: must be zero
 *
 * A VM belongs to one address space, its owner's (at first its
 * creator's).  XVM_GRANT_OWNER, by the owner, names the one address space
 * that may take the VM over; it replaces any earlier grant and changes
 * nothing else.  XVM_CLAIM_OWNER, by any thread of the granted process,
 * takes the VM over: from then on the VM, vCPU and device fds act for it
 * alone, and the old owner's ioctls on them fail with -EIO.  Every memory
 * slot must be the same memory in both address spaces: a shared mapping
 * of the same file (a memfd) at the same address and file offset.
 */
struct xvm_owner_grant {
	__s32 pid;
	__u32 flags;
	__u64 reserved[2];
};

#define XVM_GRANT_OWNER		_IOW(XVMIO, 0x44, struct xvm_owner_grant)
#define XVM_CLAIM_OWNER		_IO(XVMIO, 0x45)

/**
 * struct xvm_userspace_memory_region - a slot of XVM_SET_USER_MEMORY_REGION
 * @slot: slot number, below the value of %XVM_CAP_NR_MEMSLOTS (256)
 * @flags: %XVM_MEM_READONLY or 0
 * @guest_phys_addr: first guest physical address of the slot, page aligned
 * @memory_size: size in bytes, page aligned; 0 deletes the slot
 * @userspace_addr: start of the userspace allocated memory, page aligned
 * @reserved: must be zero
 *
 * XVM_SET_USER_MEMORY_REGION creates, moves or deletes a memory slot
 * (guest physical range -> userspace address), as KVM_SET_USER_MEMORY_REGION.
 * A delete still checks @slot, @flags, @reserved and the alignment of
 * @guest_phys_addr and @userspace_addr, as KVM does.
 */
struct xvm_userspace_memory_region {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 reserved[2];
};

#define XVM_MEM_READONLY	(1U << 0)
#define XVM_MEM_FLAGS_ALL	XVM_MEM_READONLY

#define XVM_SET_USER_MEMORY_REGION \
	_IOW(XVMIO, 0x46, struct xvm_userspace_memory_region)

/**
 * struct xvm_create_device - argument of XVM_CREATE_DEVICE
 * @type: in: the device type, &enum xvm_device_type
 * @fd: out: the new device fd
 * @flags: in: %XVM_CREATE_DEVICE_TEST or 0
 * @pad: must be zero
 *
 * XVM_CREATE_DEVICE instantiates a device of a registered type.
 */
struct xvm_create_device {
	__u32 type;
	__u32 fd;
	__u32 flags;
	__u32 pad;
};

#define XVM_CREATE_DEVICE_TEST	(1U << 0)	/* only ask whether the type exists */

/**
 * enum xvm_device_type - device types of XVM_CREATE_DEVICE
 * @XVM_DEV_TYPE_TEST: xvm-testdev.ko: bus test device
 * @XVM_DEV_TYPE_ARM_VGIC_V3: xvm-vgic.ko: GICv3
 * @XVM_DEV_TYPE_VFIO_MSIX: xvm-msix.ko: MSI-X interposition
 * @XVM_DEV_TYPE_IOMMU: xvm-iommu.ko: typed IOMMU
 * @XVM_DEV_TYPE_MAX: one more than the largest type
 */
enum xvm_device_type {
	XVM_DEV_TYPE_TEST = 1,
	XVM_DEV_TYPE_ARM_VGIC_V3 = 2,
	XVM_DEV_TYPE_VFIO_MSIX = 3,
	XVM_DEV_TYPE_IOMMU = 4,
	XVM_DEV_TYPE_MAX,
};

/**
 * struct xvm_device_attr - argument of XVM_{SET,GET,HAS}_DEVICE_ATTR
 * @flags: must be zero
 * @group: attribute group, device-defined
 * @attr: attribute within @group, group-defined
 * @addr: userspace address of the attribute's value
 *
 * KVM's struct kvm_device_attr, field for field.
 */
struct xvm_device_attr {
	__u32 flags;
	__u32 group;
	__u64 attr;
	__u64 addr;
};

#define XVM_CREATE_DEVICE	_IOWR(XVMIO, 0xe0, struct xvm_create_device)
/* on a device fd */
#define XVM_SET_DEVICE_ATTR	_IOW(XVMIO, 0xe1, struct xvm_device_attr)
#define XVM_GET_DEVICE_ATTR	_IOW(XVMIO, 0xe2, struct xvm_device_attr)
#define XVM_HAS_DEVICE_ATTR	_IOW(XVMIO, 0xe3, struct xvm_device_attr)

/*
 * Test device (XVM_DEV_TYPE_TEST): a byte-addressable register file on the
 * bus, used by the selftests and benchmarks to exercise the MMIO bus.
 */
#define XVM_TESTDEV_GRP_REGION		0	/* attr: region index */
#define XVM_TESTDEV_GRP_STATS		1	/* attr: XVM_TESTDEV_STAT_* */

/**
 * struct xvm_testdev_region - value of %XVM_TESTDEV_GRP_REGION
 * @base: guest physical address, a multiple of 8
 * @size: bytes: 8 .. 64 KiB, a multiple of 8
 */
struct xvm_testdev_region {
	__u64 base;
	__u64 size;
};

#define XVM_TESTDEV_MAX_REGIONS		2048
#define XVM_TESTDEV_STAT_READS		0	/* __u64: reads handled */
#define XVM_TESTDEV_STAT_WRITES		1	/* __u64: writes handled */
#define XVM_TESTDEV_STAT_REJECTED	2	/* __u64: misaligned, declined */

/* ioctls on a vCPU fd */

/**
 * struct xvm_mmio - one guest physical access, for XVM_MMIO
 * @addr: guest physical address
 * @data: write: in; read: out; the value is in the low @len bytes
 * @len: 1, 2, 4 or 8
 * @flags: %XVM_MMIO_WRITE for a write, 0 for a read
 * @result: out: %XVM_MMIO_HANDLED or %XVM_MMIO_UNHANDLED
 * @reserved: must be zero
 *
 * XVM_MMIO performs one guest physical access through the VM's MMIO bus, as
 * the vCPU would.  The access must lie wholly inside one region; otherwise,
 * or when the device declines it, @result is %XVM_MMIO_UNHANDLED and the VMM
 * emulates the access itself.
 */
struct xvm_mmio {
	__u64 addr;
	__u64 data;
	__u32 len;
	__u32 flags;
	__u32 result;
	__u32 reserved;
};

#define XVM_MMIO_WRITE		(1U << 0)
#define XVM_MMIO_HANDLED	0
#define XVM_MMIO_UNHANDLED	1

#define XVM_MMIO		_IOWR(XVMIO, 0x80, struct xvm_mmio)

/**
 * struct xvm_mmio_batch - several accesses, for XVM_MMIO_BATCH
 * @accesses: userspace address of an array of @count &struct xvm_mmio
 * @count: number of accesses, 0 .. %XVM_MMIO_BATCH_MAX
 * @done: out: accesses performed
 * @reserved: must be zero
 *
 * XVM_MMIO_BATCH performs up to %XVM_MMIO_BATCH_MAX accesses, in order.
 */
struct xvm_mmio_batch {
	__u64 accesses;
	__u32 count;
	__u32 done;
	__u64 reserved;
};

#define XVM_MMIO_BATCH_MAX	1024
#define XVM_MMIO_BATCH		_IOWR(XVMIO, 0x81, struct xvm_mmio_batch)

/*
 * The vCPU run page (KVM's struct kvm_run): one page per vCPU, allocated
 * with it, that mmap() of the vCPU fd at offset 0 maps shared.  An access
 * through it needs no copy: the VMM fills @mmio, calls XVM_MMIO_RUN and
 * reads @mmio.result and, for a read, @mmio.data from the page.
 * XVM_GET_VCPU_MMAP_SIZE on /dev/xvm and %XVM_CAP_VCPU_MMAP give the
 * length to map.
 */
#define XVM_CAP_VCPU_MMAP	13	/* the vCPU mmap size: XVM_MMIO_RUN exists */
#define XVM_GET_VCPU_MMAP_SIZE	_IO(XVMIO, 0x04)	/* on /dev/xvm; arg: 0 */

/**
 * struct xvm_vcpu_run - the vCPU run page, mapped from the vCPU fd
 * @size: sizeof(struct xvm_vcpu_run), set when the vCPU is created; the
 *	kernel never reads it back
 * @pad: zero when the vCPU is created; ignored
 * @mmio: the access of XVM_MMIO_RUN, with the fields and rules of
 *	&struct xvm_mmio: @mmio.addr, @mmio.len, @mmio.flags and, for a
 *	write, @mmio.data are in; @mmio.reserved must be zero; @mmio.result
 *	and, for a read, @mmio.data are out
 * @reserved: zero when the vCPU is created; ignored
 *
 * XVM_MMIO_RUN reads each in field of @mmio once, so a change the VMM makes
 * while the call runs takes effect entirely or not at all for that field.
 * A later use of @pad or @reserved will be requested through a flag of
 * @mmio.flags, which is checked, so the kernel need not read them.
 */
struct xvm_vcpu_run {
	__u32 size;
	__u32 pad;
	struct xvm_mmio mmio;
	__u8 reserved[4096 - 8 - sizeof(struct xvm_mmio)];
};

/* arg: 0.  Performs the access in the run page's mmio, as XVM_MMIO does. */
#define XVM_MMIO_RUN		_IO(XVMIO, 0x82)

/*
 * Event channels (on a VM fd).  Ports are numbered 1 .. XVM_EVTCHN_MAX_PORTS-1
 * (Xen's 2-level ABI size on 64-bit); port 0 is never valid.
 */
#define XVM_EVTCHN_MAX_PORTS	4096

/**
 * struct xvm_evtchn_op - argument of the ``XVM_EVTCHN_*`` port operations
 * @port: in/out: the local port
 * @flags: must be zero unless stated (%XVM_EVTCHN_BIND_PENDING for
 *	BIND_INTERDOMAIN, %XVM_EVTCHN_ALLOC_REMOTE for
 *	ALLOC_UNBOUND, ``XVM_EVTCHN_EVENTFD_*`` for EVENTFD)
 * @vcpu_id: BIND_VCPU: the vCPU to notify; STATUS out: the vCPU the port
 *	notifies, 0 if none
 * @fd: BIND_INTERDOMAIN: the remote VM's fd; ALLOC_UNBOUND with
 *	%XVM_EVTCHN_ALLOC_REMOTE: the fd of the VM that may bind the port;
 *	EVENTFD: the eventfd
 * @remote_port: BIND_INTERDOMAIN: the remote VM's unbound port; STATUS out:
 *	the peer's port of an interdomain port, else 0
 * @state: STATUS out: &enum xvm_evtchn_state
 * @status: STATUS out: ``XVM_EVTCHN_STATUS_*`` bits
 * @pad: must be zero
 * @reserved: must be zero
 *
 * Fields an operation does not use are ignored, except @flags, @pad and
 * @reserved.
 */
struct xvm_evtchn_op {
	__u32 port;
	__u32 flags;
	__u32 vcpu_id;
	__s32 fd;
	__u32 remote_port;
	__u32 state;
	__u32 status;
	__u32 pad;
	__u64 reserved[2];
};

/**
 * enum xvm_evtchn_state - a port's state, as XVM_EVTCHN_STATUS reports it
 * @XVM_EVTCHN_STATE_FREE: not allocated
 * @XVM_EVTCHN_STATE_UNBOUND: allocated, not bound (or its interdomain peer
 *	closed)
 * @XVM_EVTCHN_STATE_VCPU: bound to a vCPU (XVM_EVTCHN_BIND_VCPU)
 * @XVM_EVTCHN_STATE_INTERDOMAIN: connected to a port of a VM
 *	(XVM_EVTCHN_BIND_INTERDOMAIN)
 */
enum xvm_evtchn_state {
	XVM_EVTCHN_STATE_FREE = 0,
	XVM_EVTCHN_STATE_UNBOUND = 1,
	XVM_EVTCHN_STATE_VCPU = 2,
	XVM_EVTCHN_STATE_INTERDOMAIN = 3,
};

#define XVM_EVTCHN_STATUS_PENDING	(1U << 0)
#define XVM_EVTCHN_STATUS_MASKED	(1U << 1)
#define XVM_EVTCHN_STATUS_EVENTFD_IN	(1U << 2)	/* an eventfd raises it */
#define XVM_EVTCHN_STATUS_EVENTFD_OUT	(1U << 3)	/* a send signals an eventfd */
#define XVM_EVTCHN_STATUS_REMOTE_NAMED	(1U << 4)	/* allocated with ALLOC_REMOTE */

/* XVM_EVTCHN_ALLOC_UNBOUND flags */
#define XVM_EVTCHN_ALLOC_REMOTE		(1U << 0)	/* only the VM of fd may bind it */

/* XVM_EVTCHN_BIND_INTERDOMAIN flags (no bit shared with another op's flags) */
#define XVM_EVTCHN_BIND_PENDING		(1U << 1)	/* Xen's: the new port starts pending */

/* XVM_EVTCHN_EVENTFD flags */
#define XVM_EVTCHN_EVENTFD_NOTIFY	(1U << 0)	/* port -> eventfd, else eventfd -> port */
#define XVM_EVTCHN_EVENTFD_DEASSIGN	(1U << 1)

#define XVM_EVTCHN_ALLOC_UNBOUND	_IOWR(XVMIO, 0xa0, struct xvm_evtchn_op)
#define XVM_EVTCHN_BIND_VCPU		_IOW(XVMIO, 0xa1, struct xvm_evtchn_op)
#define XVM_EVTCHN_BIND_INTERDOMAIN	_IOWR(XVMIO, 0xa2, struct xvm_evtchn_op)
#define XVM_EVTCHN_CLOSE		_IOW(XVMIO, 0xa3, struct xvm_evtchn_op)
#define XVM_EVTCHN_SEND			_IOW(XVMIO, 0xa4, struct xvm_evtchn_op)
#define XVM_EVTCHN_MASK			_IOW(XVMIO, 0xa5, struct xvm_evtchn_op)
#define XVM_EVTCHN_UNMASK		_IOW(XVMIO, 0xa6, struct xvm_evtchn_op)
#define XVM_EVTCHN_STATUS		_IOWR(XVMIO, 0xa7, struct xvm_evtchn_op)
#define XVM_EVTCHN_CLEAR		_IOW(XVMIO, 0xa8, struct xvm_evtchn_op)
#define XVM_EVTCHN_RESET		_IO(XVMIO, 0xa9)
#define XVM_EVTCHN_EVENTFD		_IOW(XVMIO, 0xaa, struct xvm_evtchn_op)

/**
 * struct xvm_evtchn_doorbell - argument of XVM_EVTCHN_SET_DOORBELL
 * @addr: 4-byte aligned guest physical address
 * @flags: %XVM_EVTCHN_DOORBELL_DISABLE or 0
 * @pad: must be zero
 *
 * The doorbell: a 4-byte guest physical register on the MMIO bus; writing a
 * port number to it marks that port pending.  MSI-X delivery targets it.
 */
struct xvm_evtchn_doorbell {
	__u64 addr;
	__u32 flags;
	__u32 pad;
};

#define XVM_EVTCHN_DOORBELL_DISABLE	(1U << 0)
#define XVM_EVTCHN_SET_DOORBELL	_IOW(XVMIO, 0xab, struct xvm_evtchn_doorbell)

/*
 * Event-channel state (save and restore, migration): the whole port table
 * of a VM, versioned.  Interdomain peers are named by the VM id the VMM
 * gave each VM (XVM_ENABLE_CAP of %XVM_CAP_VM_ID), since the kernel's own
 * ids do not survive a migration.  docs/api.md, "Event-channel state".
 */
#define XVM_EVTCHN_STATE_VERSION	1

/**
 * struct xvm_evtchn_port_state - one allocated port in an event-channel state
 * @port: the port, 1 .. %XVM_EVTCHN_MAX_PORTS - 1, each once
 * @state: &enum xvm_evtchn_state, never %XVM_EVTCHN_STATE_FREE
 * @vcpu_id: with %XVM_EVTCHN_PORT_VCPU: the id of the vCPU the port
 *	notifies (its binding); else 0
 * @flags: ``XVM_EVTCHN_PORT_*`` bits
 * @peer_id: the VM id (%XVM_CAP_VM_ID) of the interdomain peer
 *	(%XVM_EVTCHN_STATE_INTERDOMAIN) or of the VM the port is named to
 *	(%XVM_EVTCHN_PORT_REMOTE_NAMED; the same VM if both); else 0
 * @peer_port: %XVM_EVTCHN_STATE_INTERDOMAIN: the peer's port; else 0
 * @pad: must be zero
 * @reserved: must be zero
 */
struct xvm_evtchn_port_state {
	__u32 port;
	__u32 state;
	__u32 vcpu_id;
	__u32 flags;
	__u64 peer_id;
	__u32 peer_port;
	__u32 pad;
	__u64 reserved[4];
};

#define XVM_EVTCHN_PORT_MASKED		(1U << 0)
#define XVM_EVTCHN_PORT_PENDING		(1U << 1)
#define XVM_EVTCHN_PORT_VCPU		(1U << 2)	/* vcpu_id is valid */
#define XVM_EVTCHN_PORT_REMOTE_NAMED	(1U << 3)	/* only peer_id may bind it */
/* Reported by GET, ignored by SET: */
#define XVM_EVTCHN_PORT_AWAITING	(1U << 4)	/* restored, not relinked yet */
#define XVM_EVTCHN_PORT_EVENTFD_IN	(1U << 5)	/* had an eventfd -> port bridge */
#define XVM_EVTCHN_PORT_EVENTFD_OUT	(1U << 6)	/* had a NOTIFY bridge */
#define XVM_EVTCHN_PORT_FLAGS_ALL	0x7fU

/**
 * struct xvm_evtchn_table_state - argument of XVM_EVTCHN_GET_STATE and
 *	XVM_EVTCHN_SET_STATE
 * @version: %XVM_EVTCHN_STATE_VERSION (GET: in, the format asked for)
 * @nr_ports: GET: in, the capacity of @ports; out, the number of ports
 *	(also on -E2BIG).  SET: the number of records
 * @flags: %XVM_EVTCHN_STATE_DOORBELL or 0 (GET: out; zero on input)
 * @pad: must be zero
 * @ports: userspace address of struct xvm_evtchn_port_state[@nr_ports]
 * @doorbell_addr: with %XVM_EVTCHN_STATE_DOORBELL: the doorbell's guest
 *	physical address; else 0 (GET: out)
 * @vm_id: the VM's id (%XVM_CAP_VM_ID), 0 if it has none (GET: out; SET:
 *	0, or the target's id)
 * @reserved: must be zero
 */
struct xvm_evtchn_table_state {
	__u32 version;
	__u32 nr_ports;
	__u32 flags;
	__u32 pad;
	__u64 ports;
	__u64 doorbell_addr;
	__u64 vm_id;
	__u64 reserved[4];
};

#define XVM_EVTCHN_STATE_DOORBELL	(1U << 0)	/* the VM has a doorbell */

/**
 * struct xvm_evtchn_relink - argument of XVM_EVTCHN_RELINK
 * @fd: in: the fd of a VM whose ports this VM's restored ports await
 * @flags: must be zero
 * @nr_done: out: this VM's ports the call linked to the peer or whose
 *	grant (%XVM_EVTCHN_PORT_REMOTE_NAMED) it resolved to the peer
 * @nr_awaiting: out: this VM's ports still awaiting a peer, any peer
 * @reserved: must be zero
 */
struct xvm_evtchn_relink {
	__s32 fd;
	__u32 flags;
	__u32 nr_done;
	__u32 nr_awaiting;
	__u64 reserved[2];
};

#define XVM_EVTCHN_GET_STATE	_IOWR(XVMIO, 0xac, struct xvm_evtchn_table_state)
#define XVM_EVTCHN_SET_STATE	_IOW(XVMIO, 0xad, struct xvm_evtchn_table_state)
#define XVM_EVTCHN_RELINK	_IOWR(XVMIO, 0xae, struct xvm_evtchn_relink)

/**
 * struct xvm_poll - argument of XVM_POLL
 * @ports: userspace address of __u32 ports[@nr_ports]
 * @nr_ports: 1 .. %XVM_POLL_MAX_PORTS
 * @flags: %XVM_POLL_ABSTIME, %XVM_POLL_VCPU_EVENTS, or 0
 * @timeout_ns: 0: no timeout; else relative, or with %XVM_POLL_ABSTIME
 *	absolute on CLOCK_MONOTONIC
 * @port: out: the first pending listed port (or, with
 *	%XVM_POLL_VCPU_EVENTS, the unlisted port whose event ended the call)
 * @pad: must be zero
 * @reserved: must be zero
 *
 * XVM_POLL (on a vCPU fd) is the SCHEDOP_poll analogue.  It blocks until one
 * of the listed ports is pending (masked or not), the timeout expires, or a
 * signal arrives.  It returns 1 with @port set to the first pending listed
 * port, 0 on timeout, -EINTR on a signal (the struct then holds the absolute
 * deadline, so re-issuing it keeps the deadline).  With
 * %XVM_POLL_VCPU_EVENTS it also returns 1 when a port bound to this vCPU
 * is pending and unmasked, listed or not (Xen's SCHEDOP_poll, woken by any
 * event for the vCPU); listed ports still come first.
 */
struct xvm_poll {
	__u64 ports;
	__u32 nr_ports;
	__u32 flags;
	__u64 timeout_ns;
	__u32 port;
	__u32 pad;
	__u64 reserved[2];
};

#define XVM_POLL_MAX_PORTS	1024
#define XVM_POLL_ABSTIME	(1U << 0)
/* Xen's SCHEDOP_poll: also end on an unmasked event for this vCPU's ports. */
#define XVM_POLL_VCPU_EVENTS	(1U << 1)
#define XVM_POLL		_IOWR(XVMIO, 0x90, struct xvm_poll)

/* GICv3 (XVM_DEV_TYPE_ARM_VGIC_V3, xvm-vgic.ko) */
/*
 * Attribute groups and attributes carry KVM's numbers and encodings
 * (KVM_DEV_ARM_VGIC_*, KVM_VGIC_V3_*): KVM-style VMM code ports by renaming.
 * docs/api.md ("GICv3") documents every attribute, ioctl and errno.
 */
#define XVM_DEV_ARM_VGIC_GRP_ADDR		0
#define XVM_DEV_ARM_VGIC_GRP_DIST_REGS		1
#define XVM_DEV_ARM_VGIC_GRP_NR_IRQS		3
#define XVM_DEV_ARM_VGIC_GRP_CTRL		4
#define XVM_DEV_ARM_VGIC_GRP_REDIST_REGS	5
#define XVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS	6
#define XVM_DEV_ARM_VGIC_GRP_LEVEL_INFO		7

/* DIST_REGS / REDIST_REGS attribute: MPIDR affinity [63:32] | offset [31:0] */
#define XVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT		32
#define XVM_DEV_ARM_VGIC_V3_MPIDR_MASK		(0xffffffffULL << 32)
#define XVM_DEV_ARM_VGIC_OFFSET_SHIFT		0
#define XVM_DEV_ARM_VGIC_OFFSET_MASK		0xffffffffULL
/* The affinity field: Aff3 [31:24] Aff2 [23:16] Aff1 [15:8] Aff0 [7:0] */
#define XVM_VGIC_V3_REG_ATTR(aff, offset) \
	((((__u64)(aff)) << XVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT) | (__u32)(offset))

/* CTRL attributes */
#define XVM_DEV_ARM_VGIC_CTRL_INIT		0
/* get, __u64: XVM_VGIC_STATE_VERSION (xvm's; clear of KVM's CTRL numbers) */
#define XVM_DEV_ARM_VGIC_CTRL_STATE_VERSION	0x100
/* The format of the state the groups below save and restore. */
#define XVM_VGIC_STATE_VERSION			1

/*
 * CPU_SYSREGS attribute: MPIDR affinity [63:32] | instr [15:0], an
 * XVM_ICC_*_EL1 encoding (<linux/xvm-gicv3.h>), as KVM; bits [31:16] are
 * zero but for xvm's own registers.  Value: __u64.
 */
#define XVM_DEV_ARM_VGIC_SYSREG_INSTR_MASK	0xffffULL
#define XVM_VGIC_V3_SYSREG_ATTR(aff, instr) \
	((((__u64)(aff)) << XVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT) | (__u32)(instr))
/* xvm's own: the vCPU's notify port (struct xvm_vgic_cpuif.notify_port) */
#define XVM_VGIC_SYSREG_NOTIFY_PORT		0x10000

/* LEVEL_INFO attribute: MPIDR [63:32] | info [31:10] | INTID [9:0], as KVM */
#define XVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT	10
#define XVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_MASK	(0x3fffffULL << 10)
#define XVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK	0x3ffULL
#define XVM_VGIC_LEVEL_INFO_LINE_LEVEL		0	/* KVM's: the wires */
#define XVM_VGIC_LEVEL_INFO_MSI_LEVEL		1	/* xvm's: SETSPI_NSR */
#define XVM_VGIC_V3_LEVEL_ATTR(aff, info, intid)			\
	((((__u64)(aff)) << XVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT) |		\
	 ((__u64)(info) << XVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT) |	\
	 ((__u64)(intid) & XVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK))

/* ADDR attributes (value: __u64) */
#define XVM_VGIC_V3_ADDR_TYPE_DIST		2
#define XVM_VGIC_V3_ADDR_TYPE_REDIST		3	/* the legacy single region */
#define XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION	5

#define XVM_VGIC_V3_DIST_SIZE			0x10000ULL
#define XVM_VGIC_V3_REDIST_SIZE			0x20000ULL	/* RD_base + SGI_base */

/* REDIST_REGION value: index [11:0], flags [15:12] (0), base [51:16], count [63:52] */
#define XVM_VGIC_V3_RDIST_INDEX_MASK		0x0000000000000fffULL
#define XVM_VGIC_V3_RDIST_FLAGS_SHIFT		12
#define XVM_VGIC_V3_RDIST_FLAGS_MASK		0x000000000000f000ULL
#define XVM_VGIC_V3_RDIST_BASE_MASK		0x000fffffffff0000ULL
#define XVM_VGIC_V3_RDIST_COUNT_SHIFT		52
#define XVM_VGIC_V3_RDIST_COUNT_MASK		0xfff0000000000000ULL
#define XVM_VGIC_V3_REDIST_REGION(count, base, flags, index)		\
	(((__u64)(count) << XVM_VGIC_V3_RDIST_COUNT_SHIFT) |		\
	 ((__u64)(base) & XVM_VGIC_V3_RDIST_BASE_MASK) |		\
	 (((__u64)(flags) << XVM_VGIC_V3_RDIST_FLAGS_SHIFT) &		\
	  XVM_VGIC_V3_RDIST_FLAGS_MASK) |				\
	 ((__u64)(index) & XVM_VGIC_V3_RDIST_INDEX_MASK))

/* NR_IRQS (value: __u32): a multiple of 32 in [64, 1024]; 256 if never set */
#define XVM_VGIC_NR_IRQS_MIN			64
#define XVM_VGIC_NR_IRQS_MAX			1024
#define XVM_VGIC_NR_IRQS_DEFAULT		256

#define XVM_VGIC_SPURIOUS			1023	/* INTID of "nothing" */

/**
 * struct xvm_vgic_irq_line - argument of XVM_VGIC_{IRQ,PPI}_LINE
 * @intid: the interrupt: an SPI or a PPI
 * @level: 0 or 1
 * @vcpu_id: the vCPU of a PPI; 0 for an SPI and for XVM_VGIC_PPI_LINE
 * @flags: must be zero
 *
 * XVM_VGIC_IRQ_LINE (device fd) drives an interrupt line: an SPI
 * (32 <= @intid < NR_IRQS, @vcpu_id 0) or the PPI (16 <= @intid < 32) of the
 * vCPU @vcpu_id.  XVM_VGIC_PPI_LINE (vCPU fd) drives a PPI of that vCPU
 * (@vcpu_id must be 0).  level-sensitive: the line follows @level;
 * edge-triggered: @level 1 makes the interrupt pending, @level 0 does nothing.
 */
struct xvm_vgic_irq_line {
	__u32 intid;
	__u32 level;
	__u32 vcpu_id;
	__u32 flags;
};

#define XVM_VGIC_IRQ_LINE	_IOW(XVMIO, 0xd0, struct xvm_vgic_irq_line)

/**
 * struct xvm_vgic_cpuif - a vCPU's CPU interface, for XVM_VGIC_{GET,SET}_CPUIF
 * @pmr: ICC_PMR_EL1; 0 after reset (masks everything)
 * @ctlr: ``XVM_VGIC_CPUIF_*`` bits
 * @notify_port: event-channel port raised on a deliverable interrupt; 0: none
 * @rpr: out (SET ignores it): ICC_RPR_EL1, 0xff when idle
 * @apr: out (SET ignores it): bit n set when priority n << 3 is active
 * @pad: must be zero
 * @reserved: must be zero
 *
 * The CPU interface of a vCPU (vCPU fd ioctls): the ``ICC_*`` system
 * registers a VMM traps, as state and operations.  Priorities have 5 bits
 * (32 levels): the low 3 bits of every priority and of @pmr read as zero.
 */
struct xvm_vgic_cpuif {
	__u32 pmr;
	__u32 ctlr;
	__u32 notify_port;
	__u32 rpr;
	__u32 apr;
	__u32 pad;
	__u64 reserved[2];
};

#define XVM_VGIC_CPUIF_IGRPEN0		(1U << 0)	/* ICC_IGRPEN0_EL1.Enable */
#define XVM_VGIC_CPUIF_IGRPEN1		(1U << 1)	/* ICC_IGRPEN1_EL1.Enable */
#define XVM_VGIC_CPUIF_EOIMODE		(1U << 2)	/* ICC_CTLR_EL1.EOImode */
#define XVM_VGIC_CPUIF_CTLR_ALL		0x7U

/**
 * struct xvm_vgic_ack - argument of XVM_VGIC_ACK and XVM_VGIC_HPPIR
 * @group: in: 0 or 1
 * @intid: out: the interrupt, or %XVM_VGIC_SPURIOUS
 * @priority: out: its priority (0xff for spurious)
 * @pad: must be zero
 *
 * XVM_VGIC_ACK: ICC_IAR0/1_EL1.  Acknowledges the highest-priority
 * deliverable interrupt of the vCPU (enabled, pending, not active, its group
 * enabled in GICD_CTLR and in ctlr, priority below pmr and the running
 * priority) if it belongs to @group; otherwise @intid = %XVM_VGIC_SPURIOUS.
 * XVM_VGIC_HPPIR: ICC_HPPIR0/1_EL1, the highest-priority ready interrupt
 * of an enabled group, whatever pmr and the running priority, without
 * acknowledging it.
 */
struct xvm_vgic_ack {
	__u32 group;
	__u32 intid;
	__u32 priority;
	__u32 pad;
};

/**
 * struct xvm_vgic_eoi - argument of XVM_VGIC_EOI
 * @intid: the interrupt, below 1024
 * @flags: %XVM_VGIC_EOI_DIR or 0
 *
 * XVM_VGIC_EOI: ICC_EOIR0/1_EL1 (@flags 0): drops the running priority and,
 * unless ctlr has EOIMODE, deactivates @intid.  With %XVM_VGIC_EOI_DIR it is
 * ICC_DIR_EL1: deactivates @intid only.
 */
struct xvm_vgic_eoi {
	__u32 intid;
	__u32 flags;
};

#define XVM_VGIC_EOI_DIR		(1U << 0)

/**
 * struct xvm_vgic_eoi_ack - argument of XVM_VGIC_EOI_ACK
 * @eoi: in: the EOI to perform first, as XVM_VGIC_EOI's argument
 * @ack: in/out: the acknowledge to perform then, as XVM_VGIC_ACK's argument
 *
 * XVM_VGIC_EOI_ACK: XVM_VGIC_EOI with @eoi, then XVM_VGIC_ACK with @ack, in
 * one call: the interrupt loop of a VMM, which completes the interrupt it
 * handled and takes the next one.  The state afterwards, @ack's outputs and
 * the notify-port raises are those of the two calls in that order.  Both
 * halves are checked before either is performed: an invalid @eoi or @ack
 * (%EINVAL) changes nothing.
 */
struct xvm_vgic_eoi_ack {
	struct xvm_vgic_eoi eoi;
	struct xvm_vgic_ack ack;
};

/**
 * struct xvm_vgic_sgi - argument of XVM_VGIC_SGI
 * @value: the register value, in ICC_SGI1R_EL1's layout
 * @group: 0 (ICC_SGI0R_EL1) or 1 (ICC_SGI1R_EL1)
 * @pad: must be zero
 *
 * XVM_VGIC_SGI: ICC_SGI0R_EL1 (group 0) or ICC_SGI1R_EL1 (group 1): @value
 * in the register's layout (TargetList [15:0], Aff1 [23:16], INTID [27:24],
 * Aff2 [39:32], IRM [40], RS [47:44], Aff3 [55:48]).  A group-0 request
 * only raises group-0 SGIs.
 */
struct xvm_vgic_sgi {
	__u64 value;
	__u32 group;
	__u32 pad;
};

#define XVM_VGIC_GET_CPUIF	_IOR(XVMIO, 0xc0, struct xvm_vgic_cpuif)
#define XVM_VGIC_SET_CPUIF	_IOW(XVMIO, 0xc1, struct xvm_vgic_cpuif)
#define XVM_VGIC_ACK		_IOWR(XVMIO, 0xc2, struct xvm_vgic_ack)
#define XVM_VGIC_HPPIR		_IOWR(XVMIO, 0xc3, struct xvm_vgic_ack)
#define XVM_VGIC_EOI		_IOW(XVMIO, 0xc4, struct xvm_vgic_eoi)
#define XVM_VGIC_SGI		_IOW(XVMIO, 0xc5, struct xvm_vgic_sgi)
#define XVM_VGIC_PPI_LINE	_IOW(XVMIO, 0xc6, struct xvm_vgic_irq_line)
#define XVM_VGIC_EOI_ACK	_IOWR(XVMIO, 0xc7, struct xvm_vgic_eoi_ack)
/* end GICv3 */

/* Typed IOMMU (XVM_DEV_TYPE_IOMMU, xvm-iommu.ko) */
/*
 * One device of this type is one IOMMU domain owned by the VM, with one PCI
 * device (its whole IOMMU group) attached.  Frames are host pages
 * (XVM_IOMMU_INFO_PAGE_SHIFT): a dfn is an IOVA >> page shift, a gfn a guest
 * physical address >> page shift.
 */
#define XVM_IOMMU_GRP_CTRL		0
#define XVM_IOMMU_CTRL_ATTACH		0	/* set/get: struct xvm_iommu_attach */
#define XVM_IOMMU_CTRL_DETACH		1	/* set, addr 0: detach, drop every mapping */

#define XVM_IOMMU_GRP_INFO		1	/* get: __u64 */
#define XVM_IOMMU_INFO_PAGE_SHIFT	0	/* frame size, log2 */
#define XVM_IOMMU_INFO_PGSIZE_BITMAP	1	/* IOMMU page sizes of the domain */
#define XVM_IOMMU_INFO_MAX_DFN		2	/* last device frame the domain maps */
#define XVM_IOMMU_INFO_MAPPED		3	/* frames mapped now */
#define XVM_IOMMU_INFO_PINNED		4	/* frames pinned now (and accounted) */
#define XVM_IOMMU_INFO_RUNS		5	/* contiguous runs handed to the IOMMU, total */
#define XVM_IOMMU_INFO_SYNCS		6	/* IOTLB syncs issued (map and unmap), total */
#define XVM_IOMMU_INFO_MAX_COUNT	7	/* most frames one mapping can hold */
#define XVM_IOMMU_INFO_SLOTS_LOST	8	/* slots a failed in-place move left unmapped */
#define XVM_IOMMU_INFO_GROUPS_KEPT	9	/* groups the driver would not take back */
#define XVM_IOMMU_INFO_STATE_VERSION	10	/* XVM_IOMMU_STATE_VERSION */
#define XVM_IOMMU_INFO_MAX		XVM_IOMMU_INFO_STATE_VERSION

/**
 * struct xvm_iommu_attach - value of %XVM_IOMMU_CTRL_ATTACH
 * @segment: PCI domain
 * @bus: PCI bus
 * @devfn: (slot << 3) | function
 * @flags: ``XVM_IOMMU_ATTACH_*`` bits
 * @reserved: must be zero
 *
 * XVM_IOMMU_CTRL_ATTACH: claim the DMA ownership of the device's IOMMU group
 * (refused with EPERM while a driver other than vfio-pci/pci-stub is bound or
 * a VFIO container or another owner holds it, EBUSY while a foreign domain is
 * attached) and attach the group to this device's domain.  Needs
 * CAP_SYS_RAWIO.  %XVM_IOMMU_ATTACH_MIRROR_SLOTS maps every memory slot at
 * dfn == gfn and keeps the mapping in step with slot changes.
 */
struct xvm_iommu_attach {
	__u16 segment;
	__u8 bus;
	__u8 devfn;
	__u32 flags;
	__u64 reserved[3];
};

#define XVM_IOMMU_ATTACH_MIRROR_SLOTS	(1U << 0)
#define XVM_IOMMU_ATTACH_FLAGS_ALL	XVM_IOMMU_ATTACH_MIRROR_SLOTS

/**
 * struct xvm_iommu_map - argument of XVM_IOMMU_MAP
 * @flags: ``XVM_IOMMU_MAP_*`` bits
 * @pad: must be zero
 * @dfn: first device frame of the mapping
 * @count: frames
 * @gfn: with %XVM_IOMMU_MAP_SRC_GFN: first guest frame; else zero
 * @uaddr: with %XVM_IOMMU_MAP_SRC_UADDR: page-aligned user address; else zero
 * @reserved: must be zero
 *
 * XVM_IOMMU_MAP: pin @count frames and map them at @dfn .. @dfn + @count - 1.
 * The source is either guest frames (%XVM_IOMMU_MAP_SRC_GFN: @gfn, inside one
 * memory slot) or a page-aligned user address (%XVM_IOMMU_MAP_SRC_UADDR:
 * @uaddr); the other source field must be zero.
 */
struct xvm_iommu_map {
	__u32 flags;
	__u32 pad;
	__u64 dfn;
	__u64 count;
	__u64 gfn;
	__u64 uaddr;
	__u64 reserved[2];
};

#define XVM_IOMMU_MAP_READ		(1U << 0)	/* the device may read */
#define XVM_IOMMU_MAP_WRITE		(1U << 1)	/* the device may write */
#define XVM_IOMMU_MAP_SRC_GFN		(1U << 2)
#define XVM_IOMMU_MAP_SRC_UADDR		(1U << 3)
#define XVM_IOMMU_MAP_FLAGS_ALL		0xfU

/**
 * struct xvm_iommu_unmap - argument of XVM_IOMMU_UNMAP
 * @flags: %XVM_IOMMU_UNMAP_ALL or 0
 * @pad: must be zero
 * @dfn: first device frame of the range; zero with %XVM_IOMMU_UNMAP_ALL
 * @count: frames in the range; zero with %XVM_IOMMU_UNMAP_ALL
 * @unmapped: out: frames unmapped
 * @reserved: must be zero
 *
 * XVM_IOMMU_UNMAP: unmap every explicit mapping inside @dfn .. @dfn +
 * @count - 1 (ENOENT if there is none or the range cuts one), or with
 * %XVM_IOMMU_UNMAP_ALL (@dfn and @count zero) every explicit mapping.
 */
struct xvm_iommu_unmap {
	__u32 flags;
	__u32 pad;
	__u64 dfn;
	__u64 count;
	__u64 unmapped;
	__u64 reserved[2];
};

#define XVM_IOMMU_UNMAP_ALL		(1U << 0)

/**
 * struct xvm_iommu_translate - argument of XVM_IOMMU_TRANSLATE
 * @dfn: in: the device frame
 * @flags: out: ``XVM_IOMMU_XLATE_*`` bits; zero on input
 * @pad: must be zero
 * @mfn: out: host frame, with %XVM_IOMMU_XLATE_MFN; zero on input
 * @map_dfn: out: first frame of the mapping holding @dfn; zero on input
 * @map_count: out: frames in that mapping; zero on input
 * @reserved: must be zero
 *
 * XVM_IOMMU_TRANSLATE: what the IOMMU does with one device frame.
 */
struct xvm_iommu_translate {
	__u64 dfn;
	__u32 flags;
	__u32 pad;
	__u64 mfn;
	__u64 map_dfn;
	__u64 map_count;
	__u64 reserved[2];
};

#define XVM_IOMMU_XLATE_MAPPED		(1U << 0)	/* the IOMMU translates dfn */
#define XVM_IOMMU_XLATE_READ		(1U << 1)
#define XVM_IOMMU_XLATE_WRITE		(1U << 2)
#define XVM_IOMMU_XLATE_SLOT		(1U << 3)	/* a memory slot's mapping */
#define XVM_IOMMU_XLATE_MFN		(1U << 4)	/* mfn valid (CAP_SYS_RAWIO) */

#define XVM_IOMMU_MAP		_IOW(XVMIO, 0xd0, struct xvm_iommu_map)
#define XVM_IOMMU_UNMAP		_IOWR(XVMIO, 0xd1, struct xvm_iommu_unmap)
#define XVM_IOMMU_TRANSLATE	_IOWR(XVMIO, 0xd2, struct xvm_iommu_translate)

/* The version of the saved state (struct xvm_iommu_get_state.version). */
#define XVM_IOMMU_STATE_VERSION		1

/**
 * struct xvm_iommu_get_state - argument of XVM_IOMMU_GET_STATE
 * @version: in: the format wanted, %XVM_IOMMU_STATE_VERSION; out: the same
 * @flags: must be zero
 * @count: in: records @maps has room for; out: the device's explicit
 *	mappings, also when that is more than the room (-ENOSPC)
 * @maps: user address of an array of @count struct xvm_iommu_map, each
 *	filled as XVM_IOMMU_MAP takes it; may be 0 when @count is 0
 * @state: out: ``XVM_IOMMU_STATE_*`` bits; ignored on input
 * @pad: must be zero
 * @attach: out: the attach, as %XVM_IOMMU_CTRL_ATTACH gets it; zero when
 *	detached; ignored on input
 * @slot_maps: out: memory-slot mappings (%XVM_IOMMU_ATTACH_MIRROR_SLOTS),
 *	which are not in @maps; ignored on input
 * @mapped: out: frames of the explicit mappings; ignored on input
 * @reserved: must be zero; out: zero
 *
 * XVM_IOMMU_GET_STATE: what a VMM saves to re-create the device: the
 * attach and every explicit mapping, one struct xvm_iommu_map record per
 * mapping in dfn order (@flags: the permissions and the source kind as
 * given to the map; @gfn or @uaddr: the source as given), taken in one
 * snapshot under the device's locks.  Re-created by attaching with
 * @attach and giving each record to XVM_IOMMU_MAP.  -ENOSPC, with @count
 * and the other out fields written back, when @count is too small;
 * nothing is written to @maps then.
 */
struct xvm_iommu_get_state {
	__u32 version;
	__u32 flags;
	__u64 count;
	__u64 maps;
	__u32 state;
	__u32 pad;
	struct xvm_iommu_attach attach;
	__u64 slot_maps;
	__u64 mapped;
	__u64 reserved[2];
};

#define XVM_IOMMU_STATE_ATTACHED	(1U << 0)	/* @attach is valid */

#define XVM_IOMMU_GET_STATE	_IOWR(XVMIO, 0xe4, struct xvm_iommu_get_state)
/* end typed IOMMU */

/* MSI-X interposition (XVM_DEV_TYPE_VFIO_MSIX, xvm-msix.ko) */

/*
 * The device emulates the guest-visible MSI-X table, PBA and control word
 * of one VFIO-assigned PCI function and delivers its interrupts in-kernel:
 * a signal on a vector's eventfd (the one given to VFIO_DEVICE_SET_IRQS)
 * becomes, when the vector is unmasked, a 4-byte write of its data at its
 * address on the VM's MMIO bus (the event-channel doorbell, GICD_SETSPI_NSR).
 * Attach first; every other group except STATS is ENODEV before that.
 */
#define XVM_MSIX_GRP_ATTACH	0	/* attr 0, set once: struct xvm_msix_attach */
#define XVM_MSIX_GRP_INFO	1	/* attr 0, get: struct xvm_msix_info */
#define XVM_MSIX_GRP_ADDR	2	/* attr XVM_MSIX_ADDR_*: __u64 guest physical */
#define XVM_MSIX_GRP_EVENTFD	3	/* attr vector, set: __s32 eventfd, -1 detaches */
#define XVM_MSIX_GRP_CTRL	4	/* attr XVM_MSIX_CTRL_* */
#define XVM_MSIX_GRP_VECTOR	5	/* attr vector, get, set: struct xvm_msix_vector_state */
#define XVM_MSIX_GRP_STATS	6	/* attr XVM_MSIX_STAT_*, get: __u64 */

/**
 * struct xvm_msix_attach - value of %XVM_MSIX_GRP_ATTACH
 * @group_fd: an open VFIO group (/dev/vfio/N)
 * @flags: must be zero
 * @segment: PCI domain
 * @bus: PCI bus
 * @devfn: PCI_DEVFN(slot, function)
 * @pad: must be zero
 * @reserved: must be zero
 *
 * The VFIO group that proves ownership, and the function's address.
 */
struct xvm_msix_attach {
	__s32 group_fd;
	__u32 flags;
	__u32 segment;
	__u8 bus;
	__u8 devfn;
	__u16 pad;
	__u64 reserved[2];
};

/**
 * struct xvm_msix_info - value of %XVM_MSIX_GRP_INFO
 * @segment: PCI domain of the attached function
 * @bus: its PCI bus
 * @devfn: its PCI_DEVFN(slot, function)
 * @cap_offset: offset of the MSI-X capability in config space
 * @nr_vectors: table size, in vectors
 * @table_bir: BAR holding the table
 * @table_offset: offset of the table in its BAR
 * @table_size: bytes: @nr_vectors * 16
 * @pba_bir: BAR holding the PBA
 * @pba_offset: offset of the PBA in its BAR
 * @pba_size: bytes: 8 per 64 vectors
 * @pad: zero
 * @reserved: zero
 *
 * What the interposer read from the device's own MSI-X capability.
 */
struct xvm_msix_info {
	__u32 segment;
	__u8 bus;
	__u8 devfn;
	__u16 cap_offset;
	__u32 nr_vectors;
	__u32 table_bir;
	__u32 table_offset;
	__u32 table_size;
	__u32 pba_bir;
	__u32 pba_offset;
	__u32 pba_size;
	__u32 pad;
	__u64 reserved[2];
};

#define XVM_MSIX_ADDR_TABLE	0
#define XVM_MSIX_ADDR_PBA	1
#define XVM_MSIX_ADDR_NONE	(~0ULL)	/* not on the bus (set: remove) */

#define XVM_MSIX_CTRL_WORD	0	/* __u16: the capability's Message Control */
#define XVM_MSIX_CTRL_RESET	1	/* set, no value: back to the reset state */
#define XVM_MSIX_CTRL_STATE_VERSION 2	/* get, __u32: XVM_MSIX_STATE_VERSION */

/* The version of the saved state (struct xvm_msix_vector_state.version). */
#define XVM_MSIX_STATE_VERSION	1

/**
 * struct xvm_msix_vector_state - value of %XVM_MSIX_GRP_VECTOR
 * @addr: message address as written
 * @data: message data as written
 * @ctrl: vector control: PCI_MSIX_ENTRY_CTRL_MASKBIT; set: no other bit
 * @msg_addr: the address delivery uses (latched at unmask)
 * @msg_data: the data delivery uses (latched at unmask)
 * @flags: ``XVM_MSIX_VECTOR_*`` bits; set takes %XVM_MSIX_VECTOR_PENDING
 *	and %XVM_MSIX_VECTOR_UPDATED, ignores the derived %XVM_MSIX_VECTOR_MASKED,
 *	%XVM_MSIX_VECTOR_EVENTFD and %XVM_MSIX_VECTOR_HOOKED, refuses others
 * @version: get: %XVM_MSIX_STATE_VERSION; set: must be that
 * @pad: zero; set: must be zero
 * @reserved: zero; set: must be zero
 *
 * One vector, as the guest programmed it: get saves it, set restores it
 * (docs/api.md, "State (save and restore)").  A set never delivers; a
 * restored pending bit is delivered by the unmask that releases it, once.
 * Set is -EINVAL for another @version, a non-zero @pad or @reserved, an
 * unknown @flags bit, a @ctrl bit other than the mask bit, or a state no
 * device can be in (effectively unmasked with %XVM_MSIX_VECTOR_PENDING, or
 * with @msg_addr/@msg_data other than @addr/@data and no
 * %XVM_MSIX_VECTOR_UPDATED); -EBUSY while an eventfd is hooked on the
 * vector.  A failed set changes nothing.
 */
struct xvm_msix_vector_state {
	__u64 addr;
	__u32 data;
	__u32 ctrl;
	__u64 msg_addr;
	__u32 msg_data;
	__u32 flags;
	__u32 version;
	__u32 pad;
	__u64 reserved[1];
};

#define XVM_MSIX_VECTOR_PENDING	(1U << 0)	/* its PBA bit */
#define XVM_MSIX_VECTOR_MASKED	(1U << 1)	/* effectively masked */
#define XVM_MSIX_VECTOR_UPDATED	(1U << 2)	/* addr/data written while unmasked */
#define XVM_MSIX_VECTOR_EVENTFD	(1U << 3)	/* an eventfd is attached */
#define XVM_MSIX_VECTOR_HOOKED	(1U << 4)	/* ... and still hooked (not closed) */

#define XVM_MSIX_STAT_FIRED		0	/* eventfd signals consumed */
#define XVM_MSIX_STAT_DELIVERED		1	/* MSI writes a region claimed */
#define XVM_MSIX_STAT_UNDELIVERABLE	2	/* MSI writes no region claimed */
#define XVM_MSIX_STAT_LATCHED		3	/* fires while masked: PBA set */
#define XVM_MSIX_STAT_BAD_READS		4	/* illegal width/alignment: all-ones */
#define XVM_MSIX_STAT_BAD_WRITES	5	/* illegal width/alignment: dropped */
#define XVM_MSIX_STAT_PBA_WRITES	6	/* guest writes to the PBA, ignored */
#define XVM_MSIX_NR_STATS		7

/* end MSI-X interposition */

/* Binary statistics (XVM_GET_STATS_FD, on a VM fd and on a vCPU fd) */
/*
 * KVM's KVM_GET_STATS_FD format (Documentation/virt/kvm/api.rst), with
 * KVM's numbers for every flag: a reader written for KVM's reads these.
 * The file is read-only; read it with pread() at any offset:
 *
 *	+-------------+ 0
 *	| header      |
 *	+-------------+ id_offset
 *	| id string   |  name_size bytes, NUL-terminated
 *	+-------------+ desc_offset
 *	| descriptors |  num_desc * (sizeof(struct xvm_stats_desc) + name_size)
 *	+-------------+ data_offset
 *	| data        |  one __u64 per descriptor, at data_offset + desc.offset
 *	+-------------+
 *
 * Only the data changes while the file is open; header, id and
 * descriptors are fixed for the file's lifetime.
 */
#define XVM_GET_STATS_FD	_IO(XVMIO, 0xce)

/* The length of the id string and of every name, NUL included. */
#define XVM_STATS_NAME_SIZE	48

/**
 * struct xvm_stats_header - the first bytes of a statistics file
 * @flags: zero; no flag is defined
 * @name_size: bytes of the id string and of each descriptor's name,
 *	%XVM_STATS_NAME_SIZE
 * @num_desc: the number of descriptors, and of statistics
 * @id_offset: where the id string is: "xvm-<VM id>" for a VM,
 *	"xvm-<VM id>/vcpu-<vCPU id>" for a vCPU
 * @desc_offset: where the first descriptor is
 * @data_offset: where the data block is
 */
struct xvm_stats_header {
	__u32 flags;
	__u32 name_size;
	__u32 num_desc;
	__u32 id_offset;
	__u32 desc_offset;
	__u32 data_offset;
};

/**
 * struct xvm_stats_desc - one statistic, followed by its name
 * @flags: its type (``XVM_STATS_TYPE_*``), unit (``XVM_STATS_UNIT_*``) and
 *	base (``XVM_STATS_BASE_*``)
 * @exponent: the value is data * base ^ @exponent, in the unit
 * @size: the number of __u64 elements of its data, 1 for a counter
 * @offset: where its data is, from the header's @data_offset
 * @bucket_size: for a linear histogram, the width of a bucket; else zero
 * @name: its name, header.name_size bytes, NUL-terminated and unique
 *	within the file
 *
 * Descriptors are sizeof(struct xvm_stats_desc) + name_size bytes apart.
 */
struct xvm_stats_desc {
	__u32 flags;
	__s16 exponent;
	__u16 size;
	__u32 offset;
	__u32 bucket_size;
	char name[];
};

#define XVM_STATS_TYPE_SHIFT		0
#define XVM_STATS_TYPE_MASK		(0xFU << XVM_STATS_TYPE_SHIFT)
/* Only ever grows, from 0 when the object is created. */
#define XVM_STATS_TYPE_CUMULATIVE	(0x0U << XVM_STATS_TYPE_SHIFT)
/* A value now; may go down. */
#define XVM_STATS_TYPE_INSTANT		(0x1U << XVM_STATS_TYPE_SHIFT)
/* The highest value seen. */
#define XVM_STATS_TYPE_PEAK		(0x2U << XVM_STATS_TYPE_SHIFT)
/* Buckets of bucket_size each. */
#define XVM_STATS_TYPE_LINEAR_HIST	(0x3U << XVM_STATS_TYPE_SHIFT)
/* Bucket i (i > 0) counts values in [2^(i-1), 2^i). */
#define XVM_STATS_TYPE_LOG_HIST		(0x4U << XVM_STATS_TYPE_SHIFT)
#define XVM_STATS_TYPE_MAX		XVM_STATS_TYPE_LOG_HIST

#define XVM_STATS_UNIT_SHIFT		4
#define XVM_STATS_UNIT_MASK		(0xFU << XVM_STATS_UNIT_SHIFT)
/* A count of events. */
#define XVM_STATS_UNIT_NONE		(0x0U << XVM_STATS_UNIT_SHIFT)
#define XVM_STATS_UNIT_BYTES		(0x1U << XVM_STATS_UNIT_SHIFT)
#define XVM_STATS_UNIT_SECONDS		(0x2U << XVM_STATS_UNIT_SHIFT)
#define XVM_STATS_UNIT_CYCLES		(0x3U << XVM_STATS_UNIT_SHIFT)
/* 0 or 1. */
#define XVM_STATS_UNIT_BOOLEAN		(0x4U << XVM_STATS_UNIT_SHIFT)
#define XVM_STATS_UNIT_MAX		XVM_STATS_UNIT_BOOLEAN

#define XVM_STATS_BASE_SHIFT		8
#define XVM_STATS_BASE_MASK		(0xFU << XVM_STATS_BASE_SHIFT)
/* exponent is a power of 10. */
#define XVM_STATS_BASE_POW10		(0x0U << XVM_STATS_BASE_SHIFT)
/* exponent is a power of 2. */
#define XVM_STATS_BASE_POW2		(0x1U << XVM_STATS_BASE_SHIFT)
#define XVM_STATS_BASE_MAX		XVM_STATS_BASE_POW2

/* end binary statistics */

#endif /* _UAPI_LINUX_XVM_H */
