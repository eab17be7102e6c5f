/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The setups the selftests and the benchmarks all build: /dev/xvm and a VM
 * with vCPUs 0..n-1, the xvm-testdev device with a region, a GICv3 placed
 * and INIT'ed, event-channel ports (unbound, bound to a vCPU, interdomain
 * pairs), explicit xvm-iommu mappings.  The PCI test devices are the host library's (xvm_pci.h).
 *
 * No harness here (bench/ includes it too): each helper returns 0 (or an
 * fd) on success and -1 with errno set on the first call that failed, so a
 * test asserts on the result and a bench dies on it.  An fd a helper could
 * not open is left -1; one it opened before a later step failed stays open
 * for the caller's teardown to close.  Everything is static inline: a user
 * of one part does not warn about the rest.
 */
#ifndef _XVM_FIXTURE_H
#define _XVM_FIXTURE_H

#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libxvm.h"
#include <linux/xvm-gicv3.h>

/* /dev/xvm in *xvm, a VM of the given type (phys bits, 0: default) in *vm. */
static inline int fixture_vm_open(int *xvm, int *vm, unsigned long type)
{
	*vm = -1;
	*xvm = xvm_open();
	if (*xvm < 0)
		return -1;
	*vm = xvm_create_vm(*xvm, type);
	return *vm < 0 ? -1 : 0;
}

/* vCPUs 0..n-1 of vm, vCPU i's fd in fd[i] (-1 from the first that failed). */
static inline int fixture_vcpus(int vm, int *fd, int n)
{
	int i, ret = 0;

	for (i = 0; i < n; i++) {
		fd[i] = ret ? -1 : xvm_create_vcpu(vm, i);
		if (fd[i] < 0)
			ret = -1;
	}
	return ret;
}

/* Closes fd[0..n) that are open and marks them closed (-1). */
static inline void fixture_close_all(int *fd, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (fd[i] >= 0)
			close(fd[i]);
		fd[i] = -1;
	}
}

/*
 * An xvm-testdev device in *dev and, if size, its region 0 at base.  ENODEV
 * from the create: xvm-testdev is not loaded.
 */
static inline int fixture_testdev(int vm, int *dev, uint64_t base,
				  uint64_t size)
{
	*dev = -1;
	if (xvm_create_device(vm, XVM_DEV_TYPE_TEST, 0, dev))
		return -1;
	return size ? xvm_testdev_add_region(*dev, 0, base, size) : 0;
}

/* A GICv3 device (xvm-vgic) in *dev, nothing set. */
static inline int fixture_gic(int vm, int *dev)
{
	*dev = -1;
	return xvm_create_device(vm, XVM_DEV_TYPE_ARM_VGIC_V3, 0, dev);
}

/* GRP_ADDR attribute type (DIST, REDIST, REDIST_REGION) of the GIC to val. */
static inline int fixture_gic_addr(int dev, uint64_t type, uint64_t val)
{
	return xvm_set_attr(dev, XVM_DEV_ARM_VGIC_GRP_ADDR, type, &val);
}

/* Redistributor region index: count frames at base (KVM's encoding). */
static inline int fixture_gic_region(int dev, uint32_t count, uint64_t base,
				     uint32_t flags, uint32_t index)
{
	return fixture_gic_addr(dev, XVM_VGIC_V3_ADDR_TYPE_REDIST_REGION,
				XVM_VGIC_V3_REDIST_REGION(count, base, flags,
							  index));
}

static inline int fixture_gic_nr_irqs(int dev, uint32_t n)
{
	return xvm_set_attr(dev, XVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &n);
}

static inline int fixture_gic_init(int dev)
{
	return xvm_set_attr(dev, XVM_DEV_ARM_VGIC_GRP_CTRL,
			    XVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
}

/*
 * The usual GIC, after its vCPUs: NR_IRQS nr_irqs (0: the default), the
 * distributor at dist, the legacy redistributor region at redist, INIT.
 */
static inline int fixture_gic_legacy(int dev, uint32_t nr_irqs, uint64_t dist,
				     uint64_t redist)
{
	if (nr_irqs && fixture_gic_nr_irqs(dev, nr_irqs))
		return -1;
	if (fixture_gic_addr(dev, XVM_VGIC_V3_ADDR_TYPE_DIST, dist) ||
	    fixture_gic_addr(dev, XVM_VGIC_V3_ADDR_TYPE_REDIST, redist))
		return -1;
	return fixture_gic_init(dev);
}

/* n unbound ports of vm (remote: any VM) in port[0..n). */
static inline int fixture_ports(int vm, uint32_t *port, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (xvm_evtchn_alloc_unbound(vm, &port[i]))
			return -1;
	return 0;
}

/* A port of vm bound to vCPU vcpu_id (XVM_POLL's kind) in *port. */
static inline int fixture_vcpu_port(int vm, uint32_t vcpu_id, uint32_t *port)
{
	if (xvm_evtchn_alloc_unbound(vm, port))
		return -1;
	return xvm_evtchn_bind_vcpu(vm, *port, vcpu_id);
}

/* An unbound port of vm that only the VM of remote_fd may bind, in *port. */
static inline int fixture_port_for(int vm, int remote_fd, uint32_t *port)
{
	struct xvm_evtchn_op op;

	memset(&op, 0, sizeof(op));
	op.flags = XVM_EVTCHN_ALLOC_REMOTE;
	op.fd = remote_fd;
	if (ioctl(vm, XVM_EVTCHN_ALLOC_UNBOUND, &op))
		return -1;
	*port = op.port;
	return 0;
}

/*
 * An interdomain pair: an unbound port of remote_vm in *remote_port, bound
 * from vm to its new port *port.
 */
static inline int fixture_port_pair(int vm, int remote_vm, uint32_t *port,
				    uint32_t *remote_port)
{
	if (xvm_evtchn_alloc_unbound(remote_vm, remote_port))
		return -1;
	return xvm_evtchn_bind_interdomain(vm, remote_vm, *remote_port, port);
}

/*
 * An explicit xvm-iommu mapping, read/write, of count pages from p at dfn
 * (XVM_IOMMU_MAP_SRC_UADDR), and the unmap of [dfn, dfn + count).
 */
static inline int fixture_iommu_map(int dev, uint64_t dfn, const void *p,
				    uint64_t count)
{
	struct xvm_iommu_map m = {
		.flags = XVM_IOMMU_MAP_READ | XVM_IOMMU_MAP_WRITE |
			 XVM_IOMMU_MAP_SRC_UADDR,
		.dfn = dfn, .count = count, .uaddr = (uintptr_t)p,
	};

	return ioctl(dev, XVM_IOMMU_MAP, &m);
}

static inline int fixture_iommu_unmap(int dev, uint64_t dfn, uint64_t count)
{
	struct xvm_iommu_unmap u = { .dfn = dfn, .count = count };

	return ioctl(dev, XVM_IOMMU_UNMAP, &u);
}

#endif /* _XVM_FIXTURE_H */
