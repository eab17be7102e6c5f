/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by the files of xvm.ko; not for device modules. */
#ifndef _XVM_CORE_INTERNAL_H
#define _XVM_CORE_INTERNAL_H

#include <xvm/core.h>

#include "xvm_compat.h"

struct file;

long xvm_check_extension(struct xvm_vm *vm, unsigned long cap);

void xvm_vm_get(struct xvm_vm *vm);
void xvm_vm_put(struct xvm_vm *vm);
struct xvm_vcpu *xvm_get_vcpu_by_id(struct xvm_vm *vm, u32 id);

int xvm_create_vm(unsigned long type);
struct xvm_vm *xvm_vm_from_file(struct file *file);

int xvm_vcpu_create(struct xvm_vm *vm, unsigned long id);
void xvm_vcpu_free(struct xvm_vcpu *vcpu);
long xvm_vcpu_mmap_size(void);

long xvm_vm_grant_owner(struct xvm_vm *vm, const struct xvm_owner_grant *g);
long xvm_vm_claim_owner(struct xvm_vm *vm, unsigned long arg);

int xvm_set_memory_region(struct xvm_vm *vm,
			  const struct xvm_userspace_memory_region *mem);
void xvm_memslots_free(struct xvm_vm *vm);

void xvm_mmio_bus_free(struct xvm_vm *vm);
long xvm_vcpu_ioctl_mmio(void *vcpu, void *m, unsigned long arg);
long xvm_vcpu_ioctl_mmio_batch(void *vcpu, void *data, unsigned long arg);
long xvm_vcpu_mmio_run(struct xvm_vcpu *vcpu, unsigned long arg);

int xvm_device_create(struct xvm_vm *vm, struct xvm_create_device *cd);
void xvm_devices_destroy(struct xvm_vm *vm);

int xvm_evtchn_init(struct xvm_vm *vm);
void xvm_evtchn_destroy(struct xvm_vm *vm);
extern const struct xvm_ioctl_desc xvm_evtchn_ioctls[];
extern const size_t xvm_evtchn_nr_ioctls;
long xvm_poll_ioctl(void *vcpu, void *req, unsigned long arg);
int xvm_halt_poll_enable_cap(struct xvm_vm *vm,
			     const struct xvm_enable_cap *cap);
__poll_t xvm_evtchn_vcpu_poll(struct xvm_vcpu *vcpu);
int xvm_evtchn_enable_vm_id(struct xvm_vm *vm,
			    const struct xvm_enable_cap *cap);

int xvm_vm_stats_fd(struct xvm_vm *vm);
int xvm_vcpu_stats_fd(struct xvm_vcpu *vcpu);

#endif /* _XVM_CORE_INTERNAL_H */
