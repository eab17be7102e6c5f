/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libxvm: thin wrappers around the xvm ioctls (uapi/linux/xvm.h).
 *
 * No policy: every function issues exactly one ioctl (or open) and returns
 * its result, or -1 with errno set, exactly as the raw call would.  Output
 * parameters are written only when the call succeeds (xvm_mmio_batch() also
 * writes *done on failure, where the kernel reports it).
 */
#ifndef _LIBXVM_H
#define _LIBXVM_H

#include <stddef.h>
#include <stdint.h>
#include <linux/xvm.h>

#define XVM_DEV_PATH	"/dev/xvm"

/* System (/dev/xvm) */

/* Open /dev/xvm (O_RDWR | O_CLOEXEC); returns the fd. */
int xvm_open(void);
/* XVM_GET_API_VERSION: returns XVM_API_VERSION. */
int xvm_get_api_version(int xvmfd);
/* XVM_CREATE_VM with the given type (phys-bits encoding); returns a VM fd. */
int xvm_create_vm(int xvmfd, unsigned long type);
/* XVM_CHECK_EXTENSION on /dev/xvm or a VM fd: the capability's value, 0 if unknown. */
int xvm_check_extension(int fd, long cap);

/* VM */

/* XVM_CREATE_VCPU: returns a vCPU fd. */
int xvm_create_vcpu(int vmfd, unsigned long id);
/* XVM_SET_USER_MEMORY_REGION with reserved fields zero. */
int xvm_set_memory_region(int vmfd, uint32_t slot, uint32_t flags,
			  uint64_t gpa, uint64_t size, uint64_t uaddr);
/* XVM_CREATE_DEVICE; on success *devfd gets the fd (untouched with XVM_CREATE_DEVICE_TEST). */
int xvm_create_device(int vmfd, uint32_t type, uint32_t flags, int *devfd);
/* XVM_ENABLE_CAP(XVM_CAP_HALT_POLL): args[0] = max_ns, args[1] = mode (0 or XVM_HALT_POLL_FIXED). */
int xvm_set_halt_poll(int vmfd, uint64_t max_ns, uint64_t mode);

/* Device */

/* XVM_SET_DEVICE_ATTR (flags 0) with addr = val. */
int xvm_set_attr(int devfd, uint32_t group, uint64_t attr, const void *val);
/* XVM_GET_DEVICE_ATTR (flags 0) with addr = val. */
int xvm_get_attr(int devfd, uint32_t group, uint64_t attr, void *val);
/* XVM_HAS_DEVICE_ATTR (flags 0) with addr = val (may be NULL). */
int xvm_has_attr(int devfd, uint32_t group, uint64_t attr, void *val);

/* Device: MSI-X interposition (XVM_MSIX_GRP_VECTOR) */

/* Saves vector vec of an MSI-X interposer into *st. */
int xvm_msix_get_vector(int devfd, uint32_t vec,
			struct xvm_msix_vector_state *st);
/* Restores vector vec from *st (as a get gave it; version included). */
int xvm_msix_set_vector(int devfd, uint32_t vec,
			const struct xvm_msix_vector_state *st);

/* Device: typed IOMMU (saved state) */

/* XVM_IOMMU_GET_STATE on *st itself: on ENOSPC st->count is the count needed. */
int xvm_iommu_get_state(int devfd, struct xvm_iommu_get_state *st);

/* vCPU: MMIO bus */

/* XVM_MMIO read of len bytes; *val = data, *handled = (result == XVM_MMIO_HANDLED). */
int xvm_mmio_read(int vcpufd, uint64_t addr, uint32_t len, uint64_t *val,
		  int *handled);
/* XVM_MMIO write of the low len bytes of val; *handled as for xvm_mmio_read(). */
int xvm_mmio_write(int vcpufd, uint64_t addr, uint32_t len, uint64_t val,
		   int *handled);
/* XVM_MMIO_BATCH of count accesses; *done (if non-NULL) = accesses performed. */
int xvm_mmio_batch(int vcpufd, struct xvm_mmio *acc, uint32_t count,
		   uint32_t *done);

/* vCPU: the run page (XVM_MMIO_RUN) */

/* XVM_GET_VCPU_MMAP_SIZE on /dev/xvm: the length of a vCPU's mapping. */
int xvm_get_vcpu_mmap_size(int xvmfd);
/* mmap() of the vCPU's run page, size bytes, shared read-write; NULL with errno on failure. */
struct xvm_vcpu_run *xvm_vcpu_map_run(int vcpufd, size_t size);
/* munmap() of what xvm_vcpu_map_run() mapped. */
int xvm_vcpu_unmap_run(struct xvm_vcpu_run *run, size_t size);
/* XVM_MMIO_RUN: the access already in run->mmio; the outputs land there. */
int xvm_mmio_run(int vcpufd);
/* XVM_MMIO_RUN read through run; *val and *handled as for xvm_mmio_read(). */
int xvm_mmio_run_read(int vcpufd, struct xvm_vcpu_run *run, uint64_t addr,
		      uint32_t len, uint64_t *val, int *handled);
/* XVM_MMIO_RUN write through run; *handled as for xvm_mmio_read(). */
int xvm_mmio_run_write(int vcpufd, struct xvm_vcpu_run *run, uint64_t addr,
		       uint32_t len, uint64_t val, int *handled);

/* VM: event channels */

/* XVM_EVTCHN_ALLOC_UNBOUND: *port = the new unbound port. */
int xvm_evtchn_alloc_unbound(int vmfd, uint32_t *port);
/* XVM_EVTCHN_BIND_VCPU: make port notify vCPU vcpu_id. */
int xvm_evtchn_bind_vcpu(int vmfd, uint32_t port, uint32_t vcpu_id);
/* XVM_EVTCHN_BIND_INTERDOMAIN to remote_port of remote_vmfd; *port = the local end. */
int xvm_evtchn_bind_interdomain(int vmfd, int remote_vmfd,
				uint32_t remote_port, uint32_t *port);
/* XVM_EVTCHN_CLOSE: free port (the remote end of an interdomain port becomes unbound). */
int xvm_evtchn_close(int vmfd, uint32_t port);
/* XVM_EVTCHN_SEND: notify through port. */
int xvm_evtchn_send(int vmfd, uint32_t port);
/* XVM_EVTCHN_MASK: set port's MASKED bit. */
int xvm_evtchn_mask(int vmfd, uint32_t port);
/* XVM_EVTCHN_UNMASK: clear port's MASKED bit. */
int xvm_evtchn_unmask(int vmfd, uint32_t port);
/* XVM_EVTCHN_CLEAR: clear port's PENDING bit. */
int xvm_evtchn_clear(int vmfd, uint32_t port);
/* XVM_EVTCHN_STATUS: *state = XVM_EVTCHN_STATE_*, *status = XVM_EVTCHN_STATUS_* (either may be NULL). */
int xvm_evtchn_status(int vmfd, uint32_t port, uint32_t *state,
		      uint32_t *status);
/* XVM_EVTCHN_RESET: close every port of the VM. */
int xvm_evtchn_reset(int vmfd);
/* XVM_EVTCHN_EVENTFD: attach (or with DEASSIGN detach) eventfd fd to port. */
int xvm_evtchn_eventfd(int vmfd, uint32_t port, int fd, uint32_t flags);
/* XVM_EVTCHN_SET_DOORBELL: place (or with DISABLE remove) the doorbell at addr. */
int xvm_set_doorbell(int vmfd, uint64_t addr, uint32_t flags);

/* VM: event-channel state (save and restore), docs/api.md section 4.10 */

/* XVM_ENABLE_CAP(XVM_CAP_VM_ID): the VM's id in saved state (not 0; once). */
int xvm_set_vm_id(int vmfd, uint64_t id);
/*
 * XVM_EVTCHN_GET_STATE into ports[capacity]: *hdr = the header (version,
 * nr_ports = the count, also on E2BIG, doorbell, vm_id).
 */
int xvm_evtchn_get_state(int vmfd, struct xvm_evtchn_table_state *hdr,
			 struct xvm_evtchn_port_state *ports,
			 uint32_t capacity);
/*
 * The same into a malloc()ed array, sized by the kernel (retried while
 * ports are added meanwhile): *ports = the records (free() them; NULL if
 * none), hdr->nr_ports = their count.
 */
int xvm_evtchn_save(int vmfd, struct xvm_evtchn_table_state *hdr,
		    struct xvm_evtchn_port_state **ports);
/*
 * XVM_EVTCHN_SET_STATE of hdr (as get gave it) with hdr->nr_ports records
 * at ports, into a VM whose table is empty.
 */
int xvm_evtchn_set_state(int vmfd, const struct xvm_evtchn_table_state *hdr,
			 const struct xvm_evtchn_port_state *ports);
/*
 * XVM_EVTCHN_RELINK with peer_vmfd: *done = ports it linked or resolved,
 * *awaiting = ports still awaiting a peer (either may be NULL).
 */
int xvm_evtchn_relink(int vmfd, int peer_vmfd, uint32_t *done,
		      uint32_t *awaiting);

/* VM: ownership (live update), docs/api.md */

/* XVM_GRANT_OWNER: process pid may claim the VM (flags 0); pid 0 revokes. */
int xvm_grant_owner(int vmfd, int pid);
/* XVM_CLAIM_OWNER: the granted caller becomes the VM's owner. */
int xvm_claim_owner(int vmfd);

/* vCPU: poll */

/* XVM_POLL on ports[n]; returns 1 with *port set, 0 on timeout, -1/EINTR on a signal. */
int xvm_poll(int vcpufd, const uint32_t *ports, uint32_t n,
	     uint64_t timeout_ns, uint32_t flags, uint32_t *port);

/* Test device (XVM_DEV_TYPE_TEST) conveniences, each one ioctl */

/* Register region idx = [base, base + size) on a test device. */
int xvm_testdev_add_region(int devfd, uint32_t idx, uint64_t base,
			   uint64_t size);
/* Read the test device's XVM_TESTDEV_STAT_* counter into *val. */
int xvm_testdev_stat(int devfd, uint32_t stat, uint64_t *val);

/*
 * Statistics (XVM_GET_STATS_FD): each reader is one pread() of one part of
 * the file, 0 when it read the whole part, else -1 with errno (EIO for a
 * short read); xvm_stats_get() is a convenience over them.
 */

/* XVM_GET_STATS_FD on a VM or vCPU fd; returns the read-only stats fd. */
int xvm_get_stats_fd(int fd);
/* The header, at offset 0. */
int xvm_stats_read_header(int statsfd, struct xvm_stats_header *hdr);
/* The id string into id[hdr->name_size]. */
int xvm_stats_read_id(int statsfd, const struct xvm_stats_header *hdr,
		      char *id);
/* All descriptors into buf, of xvm_stats_descs_size(hdr) bytes. */
int xvm_stats_read_descs(int statsfd, const struct xvm_stats_header *hdr,
			 void *buf);
/* The data block: n __u64 from the data offset into data[n]. */
int xvm_stats_read_data(int statsfd, const struct xvm_stats_header *hdr,
			uint64_t *data, uint32_t n);
/* The value of the counter called name; ENOENT if there is none. */
int xvm_stats_get(int statsfd, const char *name, uint64_t *val);

/* Bytes from one descriptor to the next. */
static inline size_t xvm_stats_desc_stride(const struct xvm_stats_header *hdr)
{
	return sizeof(struct xvm_stats_desc) + hdr->name_size;
}

static inline size_t xvm_stats_descs_size(const struct xvm_stats_header *hdr)
{
	return (size_t)hdr->num_desc * xvm_stats_desc_stride(hdr);
}

/* Descriptor i of what xvm_stats_read_descs() read into buf. */
static inline struct xvm_stats_desc *
xvm_stats_desc_at(void *buf, const struct xvm_stats_header *hdr, uint32_t i)
{
	return (struct xvm_stats_desc *)((char *)buf +
					 i * xvm_stats_desc_stride(hdr));
}

/* GICv3 CPU interface (vCPU fd) */

/*
 * XVM_VGIC_EOI_ACK: XVM_VGIC_EOI with ea->eoi, then XVM_VGIC_ACK with
 * ea->ack; ea->ack.intid and .priority are the acknowledge's outputs.
 */
int xvm_vgic_eoi_ack(int vcpufd, struct xvm_vgic_eoi_ack *ea);

#endif /* _LIBXVM_H */
