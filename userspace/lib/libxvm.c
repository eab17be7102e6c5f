// SPDX-License-Identifier: GPL-2.0
/*
 * libxvm: thin wrappers around the xvm ioctls.  See libxvm.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "libxvm.h"

/* Open /dev/xvm. */
int xvm_open(void)
{
	return open(XVM_DEV_PATH, O_RDWR | O_CLOEXEC);
}

/* XVM_GET_API_VERSION. */
int xvm_get_api_version(int xvmfd)
{
	return ioctl(xvmfd, XVM_GET_API_VERSION, 0);
}

/* XVM_CREATE_VM. */
int xvm_create_vm(int xvmfd, unsigned long type)
{
	return ioctl(xvmfd, XVM_CREATE_VM, type);
}

/* XVM_CHECK_EXTENSION. */
int xvm_check_extension(int fd, long cap)
{
	return ioctl(fd, XVM_CHECK_EXTENSION, cap);
}

/* XVM_CREATE_VCPU. */
int xvm_create_vcpu(int vmfd, unsigned long id)
{
	return ioctl(vmfd, XVM_CREATE_VCPU, id);
}

/* XVM_ENABLE_CAP of XVM_CAP_HALT_POLL. */
int xvm_set_halt_poll(int vmfd, uint64_t max_ns, uint64_t mode)
{
	struct xvm_enable_cap cap = {
		.cap = XVM_CAP_HALT_POLL,
		.args = { max_ns, mode },
	};

	return ioctl(vmfd, XVM_ENABLE_CAP, &cap);
}

/* XVM_SET_USER_MEMORY_REGION. */
int xvm_set_memory_region(int vmfd, uint32_t slot, uint32_t flags,
			  uint64_t gpa, uint64_t size, uint64_t uaddr)
{
	struct xvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = uaddr,
	};

	return ioctl(vmfd, XVM_SET_USER_MEMORY_REGION, &r);
}

/* XVM_CREATE_DEVICE. */
int xvm_create_device(int vmfd, uint32_t type, uint32_t flags, int *devfd)
{
	struct xvm_create_device cd = { .type = type, .flags = flags };
	int ret;

	ret = ioctl(vmfd, XVM_CREATE_DEVICE, &cd);
	if (ret == 0 && devfd && !(flags & XVM_CREATE_DEVICE_TEST))
		*devfd = (int)cd.fd;
	return ret;
}

/* One device-attribute ioctl with flags 0. */
static int xvm_attr_ioctl(int devfd, unsigned long req, uint32_t group,
			  uint64_t attr, const void *val)
{
	struct xvm_device_attr a = {
		.group = group,
		.attr = attr,
		.addr = (uint64_t)(uintptr_t)val,
	};

	return ioctl(devfd, req, &a);
}

/* XVM_SET_DEVICE_ATTR. */
int xvm_set_attr(int devfd, uint32_t group, uint64_t attr, const void *val)
{
	return xvm_attr_ioctl(devfd, XVM_SET_DEVICE_ATTR, group, attr, val);
}

/* XVM_GET_DEVICE_ATTR. */
int xvm_get_attr(int devfd, uint32_t group, uint64_t attr, void *val)
{
	return xvm_attr_ioctl(devfd, XVM_GET_DEVICE_ATTR, group, attr, val);
}

/* XVM_HAS_DEVICE_ATTR. */
int xvm_has_attr(int devfd, uint32_t group, uint64_t attr, void *val)
{
	return xvm_attr_ioctl(devfd, XVM_HAS_DEVICE_ATTR, group, attr, val);
}

/* XVM_MSIX_GRP_VECTOR get. */
int xvm_msix_get_vector(int devfd, uint32_t vec,
			struct xvm_msix_vector_state *st)
{
	return xvm_get_attr(devfd, XVM_MSIX_GRP_VECTOR, vec, st);
}

/* XVM_MSIX_GRP_VECTOR set. */
int xvm_msix_set_vector(int devfd, uint32_t vec,
			const struct xvm_msix_vector_state *st)
{
	return xvm_set_attr(devfd, XVM_MSIX_GRP_VECTOR, vec, st);
}

/* XVM_IOMMU_GET_STATE. */
int xvm_iommu_get_state(int devfd, struct xvm_iommu_get_state *st)
{
	return ioctl(devfd, XVM_IOMMU_GET_STATE, st);
}

/* One XVM_MMIO access; *data is the value written, or read back. */
static int xvm_mmio_access(int vcpufd, uint64_t addr, uint32_t len,
			   uint32_t flags, uint64_t *data, int *handled)
{
	struct xvm_mmio m = {
		.addr = addr,
		.data = *data,
		.len = len,
		.flags = flags,
	};
	int ret;

	ret = ioctl(vcpufd, XVM_MMIO, &m);
	if (ret == 0) {
		*data = m.data;
		if (handled)
			*handled = m.result == XVM_MMIO_HANDLED;
	}
	return ret;
}

/* XVM_MMIO read. */
int xvm_mmio_read(int vcpufd, uint64_t addr, uint32_t len, uint64_t *val,
		  int *handled)
{
	uint64_t data = 0;
	int ret;

	ret = xvm_mmio_access(vcpufd, addr, len, 0, &data, handled);
	if (ret == 0 && val)
		*val = data;
	return ret;
}

/* XVM_MMIO write. */
int xvm_mmio_write(int vcpufd, uint64_t addr, uint32_t len, uint64_t val,
		   int *handled)
{
	return xvm_mmio_access(vcpufd, addr, len, XVM_MMIO_WRITE, &val,
			       handled);
}

/* XVM_MMIO_BATCH. */
int xvm_mmio_batch(int vcpufd, struct xvm_mmio *acc, uint32_t count,
		   uint32_t *done)
{
	struct xvm_mmio_batch b = {
		.accesses = (uint64_t)(uintptr_t)acc,
		.count = count,
	};
	int ret;

	ret = ioctl(vcpufd, XVM_MMIO_BATCH, &b);
	if (done)
		*done = b.done;
	return ret;
}

/* XVM_GET_VCPU_MMAP_SIZE. */
int xvm_get_vcpu_mmap_size(int xvmfd)
{
	return ioctl(xvmfd, XVM_GET_VCPU_MMAP_SIZE, 0);
}

/* mmap() of the run page at offset 0. */
struct xvm_vcpu_run *xvm_vcpu_map_run(int vcpufd, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vcpufd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* munmap() of the run page. */
int xvm_vcpu_unmap_run(struct xvm_vcpu_run *run, size_t size)
{
	return munmap(run, size);
}

/* XVM_MMIO_RUN. */
int xvm_mmio_run(int vcpufd)
{
	return ioctl(vcpufd, XVM_MMIO_RUN, 0);
}

/* Fills run->mmio, XVM_MMIO_RUN; *data is the value written, or read back. */
static int xvm_mmio_run_access(int vcpufd, struct xvm_vcpu_run *run,
			       uint64_t addr, uint32_t len, uint32_t flags,
			       uint64_t *data, int *handled)
{
	struct xvm_mmio *m = &run->mmio;
	int ret;

	m->addr = addr;
	m->data = *data;
	m->len = len;
	m->flags = flags;
	m->reserved = 0;
	ret = ioctl(vcpufd, XVM_MMIO_RUN, 0);
	if (ret == 0) {
		*data = m->data;
		if (handled)
			*handled = m->result == XVM_MMIO_HANDLED;
	}
	return ret;
}

/* XVM_MMIO_RUN read. */
int xvm_mmio_run_read(int vcpufd, struct xvm_vcpu_run *run, uint64_t addr,
		      uint32_t len, uint64_t *val, int *handled)
{
	uint64_t data = 0;
	int ret;

	ret = xvm_mmio_run_access(vcpufd, run, addr, len, 0, &data, handled);
	if (ret == 0 && val)
		*val = data;
	return ret;
}

/* XVM_MMIO_RUN write. */
int xvm_mmio_run_write(int vcpufd, struct xvm_vcpu_run *run, uint64_t addr,
		       uint32_t len, uint64_t val, int *handled)
{
	return xvm_mmio_run_access(vcpufd, run, addr, len, XVM_MMIO_WRITE,
				   &val, handled);
}

/* One event-channel op on a VM fd, with port and the other fields zero. */
static int xvm_evtchn_op(int vmfd, unsigned long req, struct xvm_evtchn_op *op)
{
	return ioctl(vmfd, req, op);
}

/* XVM_EVTCHN_ALLOC_UNBOUND. */
int xvm_evtchn_alloc_unbound(int vmfd, uint32_t *port)
{
	struct xvm_evtchn_op op = { 0 };
	int ret;

	ret = xvm_evtchn_op(vmfd, XVM_EVTCHN_ALLOC_UNBOUND, &op);
	if (ret == 0 && port)
		*port = op.port;
	return ret;
}

/* XVM_EVTCHN_BIND_VCPU. */
int xvm_evtchn_bind_vcpu(int vmfd, uint32_t port, uint32_t vcpu_id)
{
	struct xvm_evtchn_op op = { .port = port, .vcpu_id = vcpu_id };

	return xvm_evtchn_op(vmfd, XVM_EVTCHN_BIND_VCPU, &op);
}

/* XVM_EVTCHN_BIND_INTERDOMAIN. */
int xvm_evtchn_bind_interdomain(int vmfd, int remote_vmfd,
				uint32_t remote_port, uint32_t *port)
{
	struct xvm_evtchn_op op = {
		.fd = remote_vmfd,
		.remote_port = remote_port,
	};
	int ret;

	ret = xvm_evtchn_op(vmfd, XVM_EVTCHN_BIND_INTERDOMAIN, &op);
	if (ret == 0 && port)
		*port = op.port;
	return ret;
}

/* An op that only names a port. */
static int xvm_evtchn_port_op(int vmfd, unsigned long req, uint32_t port)
{
	struct xvm_evtchn_op op = { .port = port };

	return xvm_evtchn_op(vmfd, req, &op);
}

/* XVM_EVTCHN_CLOSE. */
int xvm_evtchn_close(int vmfd, uint32_t port)
{
	return xvm_evtchn_port_op(vmfd, XVM_EVTCHN_CLOSE, port);
}

/* XVM_EVTCHN_SEND. */
int xvm_evtchn_send(int vmfd, uint32_t port)
{
	return xvm_evtchn_port_op(vmfd, XVM_EVTCHN_SEND, port);
}

/* XVM_EVTCHN_MASK. */
int xvm_evtchn_mask(int vmfd, uint32_t port)
{
	return xvm_evtchn_port_op(vmfd, XVM_EVTCHN_MASK, port);
}

/* XVM_EVTCHN_UNMASK. */
int xvm_evtchn_unmask(int vmfd, uint32_t port)
{
	return xvm_evtchn_port_op(vmfd, XVM_EVTCHN_UNMASK, port);
}

/* XVM_EVTCHN_CLEAR. */
int xvm_evtchn_clear(int vmfd, uint32_t port)
{
	return xvm_evtchn_port_op(vmfd, XVM_EVTCHN_CLEAR, port);
}

/* XVM_EVTCHN_STATUS. */
int xvm_evtchn_status(int vmfd, uint32_t port, uint32_t *state,
		      uint32_t *status)
{
	struct xvm_evtchn_op op = { .port = port };
	int ret;

	ret = xvm_evtchn_op(vmfd, XVM_EVTCHN_STATUS, &op);
	if (ret == 0) {
		if (state)
			*state = op.state;
		if (status)
			*status = op.status;
	}
	return ret;
}

/* XVM_EVTCHN_RESET. */
int xvm_evtchn_reset(int vmfd)
{
	return ioctl(vmfd, XVM_EVTCHN_RESET, 0);
}

/* XVM_EVTCHN_EVENTFD. */
int xvm_evtchn_eventfd(int vmfd, uint32_t port, int fd, uint32_t flags)
{
	struct xvm_evtchn_op op = { .port = port, .fd = fd, .flags = flags };

	return xvm_evtchn_op(vmfd, XVM_EVTCHN_EVENTFD, &op);
}

/* XVM_EVTCHN_SET_DOORBELL. */
int xvm_set_doorbell(int vmfd, uint64_t addr, uint32_t flags)
{
	struct xvm_evtchn_doorbell db = { .addr = addr, .flags = flags };

	return ioctl(vmfd, XVM_EVTCHN_SET_DOORBELL, &db);
}

/* XVM_ENABLE_CAP of XVM_CAP_VM_ID. */
int xvm_set_vm_id(int vmfd, uint64_t id)
{
	struct xvm_enable_cap cap = { .cap = XVM_CAP_VM_ID, .args = { id } };

	return ioctl(vmfd, XVM_ENABLE_CAP, &cap);
}

/* XVM_EVTCHN_GET_STATE. */
int xvm_evtchn_get_state(int vmfd, struct xvm_evtchn_table_state *hdr,
			 struct xvm_evtchn_port_state *ports,
			 uint32_t capacity)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->version = XVM_EVTCHN_STATE_VERSION;
	hdr->nr_ports = capacity;
	hdr->ports = (uint64_t)(uintptr_t)ports;
	return ioctl(vmfd, XVM_EVTCHN_GET_STATE, hdr);
}

/* XVM_EVTCHN_GET_STATE into an array of the size it needs. */
int xvm_evtchn_save(int vmfd, struct xvm_evtchn_table_state *hdr,
		    struct xvm_evtchn_port_state **ports)
{
	struct xvm_evtchn_port_state *p = NULL, *n;
	uint32_t cap = 0;

	for (;;) {
		if (!xvm_evtchn_get_state(vmfd, hdr, p, cap))
			break;
		if (errno != E2BIG) {
			free(p);
			return -1;
		}
		cap = hdr->nr_ports;
		n = realloc(p, (size_t)cap * sizeof(*p));
		if (!n) {
			free(p);
			errno = ENOMEM;
			return -1;
		}
		p = n;
	}
	if (!hdr->nr_ports) {
		free(p);
		p = NULL;
	}
	*ports = p;
	return 0;
}

/* XVM_EVTCHN_SET_STATE. */
int xvm_evtchn_set_state(int vmfd, const struct xvm_evtchn_table_state *hdr,
			 const struct xvm_evtchn_port_state *ports)
{
	struct xvm_evtchn_table_state h = *hdr;

	h.ports = (uint64_t)(uintptr_t)ports;
	return ioctl(vmfd, XVM_EVTCHN_SET_STATE, &h);
}

/* XVM_EVTCHN_RELINK. */
int xvm_evtchn_relink(int vmfd, int peer_vmfd, uint32_t *done,
		      uint32_t *awaiting)
{
	struct xvm_evtchn_relink rl = { .fd = peer_vmfd };

	if (ioctl(vmfd, XVM_EVTCHN_RELINK, &rl))
		return -1;
	if (done)
		*done = rl.nr_done;
	if (awaiting)
		*awaiting = rl.nr_awaiting;
	return 0;
}

/* XVM_POLL. */
int xvm_poll(int vcpufd, const uint32_t *ports, uint32_t n,
	     uint64_t timeout_ns, uint32_t flags, uint32_t *port)
{
	struct xvm_poll p = {
		.ports = (uint64_t)(uintptr_t)ports,
		.nr_ports = n,
		.flags = flags,
		.timeout_ns = timeout_ns,
	};
	int ret;

	ret = ioctl(vcpufd, XVM_POLL, &p);
	if (ret == 1 && port)
		*port = p.port;
	return ret;
}

/* Register a test-device region. */
int xvm_testdev_add_region(int devfd, uint32_t idx, uint64_t base,
			   uint64_t size)
{
	struct xvm_testdev_region r = { .base = base, .size = size };

	return xvm_set_attr(devfd, XVM_TESTDEV_GRP_REGION, idx, &r);
}

/* Read a test-device counter. */
int xvm_testdev_stat(int devfd, uint32_t stat, uint64_t *val)
{
	return xvm_get_attr(devfd, XVM_TESTDEV_GRP_STATS, stat, val);
}

/* XVM_GET_STATS_FD. */
int xvm_get_stats_fd(int fd)
{
	return ioctl(fd, XVM_GET_STATS_FD, 0);
}

/* One pread() of exactly size bytes at off: 0, or -1 (EIO if short). */
static int xvm_stats_pread(int statsfd, void *buf, size_t size, off_t off)
{
	ssize_t n = pread(statsfd, buf, size, off);

	if (n < 0)
		return -1;
	if ((size_t)n != size) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int xvm_stats_read_header(int statsfd, struct xvm_stats_header *hdr)
{
	return xvm_stats_pread(statsfd, hdr, sizeof(*hdr), 0);
}

int xvm_stats_read_id(int statsfd, const struct xvm_stats_header *hdr,
		      char *id)
{
	return xvm_stats_pread(statsfd, id, hdr->name_size, hdr->id_offset);
}

int xvm_stats_read_descs(int statsfd, const struct xvm_stats_header *hdr,
			 void *buf)
{
	return xvm_stats_pread(statsfd, buf, xvm_stats_descs_size(hdr),
			       hdr->desc_offset);
}

int xvm_stats_read_data(int statsfd, const struct xvm_stats_header *hdr,
			uint64_t *data, uint32_t n)
{
	return xvm_stats_pread(statsfd, data, (size_t)n * sizeof(*data),
			       hdr->data_offset);
}

/* Header, descriptors, then the one __u64 of the counter found. */
int xvm_stats_get(int statsfd, const char *name, uint64_t *val)
{
	struct xvm_stats_header hdr;
	struct xvm_stats_desc *d;
	int ret = -1;
	uint32_t i;
	void *buf;

	if (xvm_stats_read_header(statsfd, &hdr))
		return -1;
	buf = malloc(xvm_stats_descs_size(&hdr) + 1);
	if (!buf)
		return -1;
	if (xvm_stats_read_descs(statsfd, &hdr, buf))
		goto out;
	errno = ENOENT;
	for (i = 0; i < hdr.num_desc; i++) {
		d = xvm_stats_desc_at(buf, &hdr, i);
		if (strncmp(d->name, name, hdr.name_size))
			continue;
		ret = xvm_stats_pread(statsfd, val, sizeof(*val),
				      hdr.data_offset + d->offset);
		break;
	}
out:
	free(buf);
	return ret;
}

/* XVM_VGIC_EOI_ACK: the EOI of ea->eoi, then the acknowledge of ea->ack. */
int xvm_vgic_eoi_ack(int vcpufd, struct xvm_vgic_eoi_ack *ea)
{
	return ioctl(vcpufd, XVM_VGIC_EOI_ACK, ea);
}

/* XVM_GRANT_OWNER: the owner lets pid claim the VM; pid 0 revokes. */
int xvm_grant_owner(int vmfd, int pid)
{
	struct xvm_owner_grant g = { .pid = pid };

	return ioctl(vmfd, XVM_GRANT_OWNER, &g);
}

/* XVM_CLAIM_OWNER. */
int xvm_claim_owner(int vmfd)
{
	return ioctl(vmfd, XVM_CLAIM_OWNER, 0);
}
