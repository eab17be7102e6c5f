// SPDX-License-Identifier: GPL-2.0
/*
 * MSI-X interposition (xvm-msix) for a VFIO device.  The VMM enables MSI-X
 * on the physical function with one eventfd per vector and hands the same
 * eventfds to the interposer, which then owns the guest-visible table, PBA
 * and control word and delivers each vector in the kernel as a write of its
 * data at its address on the VM's bus (the doorbell, GICD_SETSPI_NSR).  The
 * VMM keeps config-space emulation (the control word is forwarded) and
 * forwards table-page accesses the interposer does not claim to VFIO.
 *
 * How a device is made to raise a vector is its own business: dev-*.c,
 * through d->ops (the e1000e's, dev-e1000e.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "vmm.h"

/* The interposer attached to the device's group; its table geometry. */
static int msix_attach(struct vm *vm, struct vfio_rt *d)
{
	const struct vfio_cfg *dc = d->cfg;
	struct xvm_msix_attach a = {
		.group_fd = d->dev.group, .segment = dc->pci.segment,
		.bus = dc->pci.bus, .devfn = dc->pci.devfn,
	};
	struct xvm_msix_info *in = &d->info;

	if (vm_create_device(vm, XVM_DEV_TYPE_VFIO_MSIX, "xvm-msix", dc->line,
			     &d->msixdev))
		return -1;
	if (traced(xvm_set_attr(d->msixdev, XVM_MSIX_GRP_ATTACH, 0, &a),
		   "SET_DEVICE_ATTR msix ATTACH group fd %d %s", d->dev.group, dc->pci.bdf) ||
	    traced(xvm_get_attr(d->msixdev, XVM_MSIX_GRP_INFO, 0, in),
		   "GET_DEVICE_ATTR msix INFO"))
		return line_error(vm->cfg, dc->line, "vfio %s: MSI-X interposer attach",
				  dc->name);
	created("%s: MSI-X interposer attached: %u vectors, capability at 0x%x, "
		"table BAR%u+0x%x, PBA BAR%u+0x%x", dc->name, in->nr_vectors,
		in->cap_offset, in->table_bir, in->table_offset, in->pba_bir,
		in->pba_offset);
	if (dc->nr_routes > in->nr_vectors) {
		errorf("%s:%d: vfio %s: config routes vector %u, the device has %u",
		       vm->cfg->file, dc->line, dc->name, dc->nr_routes - 1,
		       in->nr_vectors);
		return -1;
	}
	return 0;
}

/* Physical MSI-X on, one eventfd per vector, physically unmasked. */
static int msix_physical(struct vm *vm, struct vfio_rt *d)
{
	unsigned int i;

	d->nr_efd = d->info.nr_vectors < MAX_VEC ? d->info.nr_vectors : MAX_VEC;
	for (i = 0; i < d->nr_efd; i++)
		d->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vfio_set_msix_irqs(d, d->nr_efd))
		return line_error(vm->cfg, d->cfg->line, "vfio %s: VFIO_DEVICE_SET_IRQS",
				  d->cfg->name);
	if (d->ops && d->ops->msix_route && d->dev.bar0)
		d->ops->msix_route(d->dev.bar0);
	/* A message left pending by an earlier user lands now: drain it. */
	usleep(10000);
	for (i = 0; i < d->nr_efd; i++) {
		uint64_t cnt;

		if (read(d->efd[i], &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
			return -1;
	}
	return 0;
}

/* Where the guest sees the table and PBA; the eventfds hooked. */
int msix_hook(struct vm *vm, struct vfio_rt *d)
{
	const struct vfio_cfg *dc = d->cfg;
	uint64_t table = dc->table_gpa, pba = dc->pba_gpa;
	unsigned int i;

	if (!pba)
		pba = table + d->info.pba_offset - d->info.table_offset;
	d->pba_gpa = pba;
	if (traced(xvm_set_attr(d->msixdev, XVM_MSIX_GRP_ADDR, XVM_MSIX_ADDR_TABLE,
				&table), "SET_DEVICE_ATTR msix ADDR TABLE 0x%llx",
		   (unsigned long long)table) ||
	    traced(xvm_set_attr(d->msixdev, XVM_MSIX_GRP_ADDR, XVM_MSIX_ADDR_PBA, &pba),
		   "SET_DEVICE_ATTR msix ADDR PBA 0x%llx", (unsigned long long)pba))
		return line_error(vm->cfg, dc->line, "vfio %s: MSI-X table/PBA at 0x%llx/0x%llx",
				  dc->name, (unsigned long long)table,
				  (unsigned long long)pba);
	for (i = 0; i < d->nr_efd; i++) {
		int32_t fd = d->efd[i];

		if (traced(xvm_set_attr(d->msixdev, XVM_MSIX_GRP_EVENTFD, i, &fd),
			   "SET_DEVICE_ATTR msix EVENTFD vector %u fd %d", i, fd))
			return line_error(vm->cfg, dc->line, "vfio %s: vector %u eventfd",
					  dc->name, i);
	}
	created("%s: physical MSI-X enabled through VFIO, %u eventfds hooked by the "
		"interposer; guest table at 0x%llx, PBA at 0x%llx", dc->name, d->nr_efd,
		(unsigned long long)table, (unsigned long long)pba);
	return 0;
}

int msix_setup(struct vm *vm, unsigned int i)
{
	struct vfio_rt *d = &vm->vfio[i];

	if (!d->cfg->msix)
		return 0;
	if (msix_attach(vm, d) || msix_physical(vm, d))
		return -1;
	/* Restore: the vectors are set before any eventfd is hooked (state-msix.c). */
	return vm->restore ? 0 : msix_hook(vm, d);
}

void msix_close(struct vm *vm, unsigned int i)
{
	struct vfio_rt *d = &vm->vfio[i];
	unsigned int v;

	if (d->msixdev >= 0)
		close(d->msixdev);
	d->msixdev = -1;
	for (v = 0; v < d->nr_efd; v++)
		if (d->efd[v] >= 0)
			close(d->efd[v]);
	d->nr_efd = 0;
}

/* Config-space access of the guest: the MSI-X control word goes to xvm-msix. */
int msix_cfg_access(struct vfio_rt *d, uint32_t off, uint32_t len,
		    uint32_t *val, bool write)
{
	uint32_t ctrl = d->info.cap_offset + PCI_MSIX_FLAGS;
	uint16_t w;

	if (d->msixdev < 0 || off != ctrl || len != 2)
		return write ? vfio_cfg_write(d, off, len, *val) :
			       vfio_cfg_read(d, off, len, val);
	if (write) {
		w = *val;
		return traced(xvm_set_attr(d->msixdev, XVM_MSIX_GRP_CTRL,
					   XVM_MSIX_CTRL_WORD, &w),
			      "SET_DEVICE_ATTR msix CTRL_WORD 0x%x (guest config write at 0x%x)",
			      w, off);
	}
	if (traced(xvm_get_attr(d->msixdev, XVM_MSIX_GRP_CTRL, XVM_MSIX_CTRL_WORD, &w),
		   "GET_DEVICE_ATTR msix CTRL_WORD (guest config read at 0x%x)", off))
		return -1;
	*val = w;
	return 0;
}

static int twrite(struct vm *vm, uint64_t addr, uint32_t val)
{
	uint64_t v = val;
	int handled = 0;

	if (vcpu_mmio(vm, 0, true, addr, 4, &v, &handled) || !handled)
		return -1;
	return 0;
}

/* The guest's driver, as a script: one table entry, unmasked. */
static int msix_program_vector(struct vm *vm, struct vfio_rt *d, unsigned int i)
{
	const struct vmm_config *c = vm->cfg;
	const struct route *r = &d->cfg->vec[i];
	uint64_t e = d->cfg->table_gpa + i * PCI_MSIX_ENTRY_SIZE, addr;
	uint32_t data;
	char what[64];

	if (r->kind == ROUTE_PORT) {
		addr = c->doorbell;
		data = vm->ports[r->target].port;
		snprintf(what, sizeof(what), "doorbell 0x%llx, data %u (port %s)",
			 (unsigned long long)addr, data, c->ports[r->target].name);
	} else {
		addr = c->gic.dist + GICD_SETSPI_NSR;
		data = c->spis[r->target].intid;
		snprintf(what, sizeof(what), "GICD_SETSPI_NSR 0x%llx, data %u (SPI)",
			 (unsigned long long)addr, data);
	}
	if (twrite(vm, e + PCI_MSIX_ENTRY_LOWER_ADDR, (uint32_t)addr) ||
	    twrite(vm, e + PCI_MSIX_ENTRY_UPPER_ADDR, addr >> 32) ||
	    twrite(vm, e + PCI_MSIX_ENTRY_DATA, data) ||
	    twrite(vm, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0)) {
		errorf("%s: guest write of MSI-X entry %u failed", d->cfg->name, i);
		return -1;
	}
	created("guest (scripted) MSI-X setup: %s vector %u -> %s, unmasked",
		d->cfg->name, i, what);
	return 0;
}

/* The guest's driver: program each routed vector, enable MSI-X. */
int msix_firmware(struct vm *vm, unsigned int dev)
{
	struct vfio_rt *d = &vm->vfio[dev];
	uint32_t flags = d->info.cap_offset + PCI_MSIX_FLAGS;
	uint32_t ctrl = PCI_MSIX_FLAGS_ENABLE;
	unsigned int i;

	if (!d->cfg->msix)
		return 0;
	for (i = 0; i < d->cfg->nr_routes; i++)
		if (d->cfg->vec[i].kind != ROUTE_NONE && msix_program_vector(vm, d, i))
			return -1;
	if (msix_cfg_access(d, flags, 2, &ctrl, true) ||
	    msix_cfg_access(d, flags, 2, &ctrl, false) ||
	    !(ctrl & PCI_MSIX_FLAGS_ENABLE)) {
		errorf("%s: guest enabling MSI-X in config space failed", d->cfg->name);
		return -1;
	}
	created("guest (scripted) config write: %s MSI-X control = 0x%04x (enable), "
		"forwarded to the interposer", d->cfg->name, ctrl);
	return 0;
}

/* The device raises vector vec, the way its quirks file knows. */
int msix_fire(struct vfio_rt *d, unsigned int vec)
{
	if (!d->dev.bar0 || !d->ops || !d->ops->msix_fire) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return d->ops->msix_fire(d->dev.bar0, vec, d->cfg->name);
}

/* A guest read in the table's page: claimed by xvm-msix, or forwarded to VFIO. */
int msix_page_access(struct vm *vm, struct vfio_rt *d, uint64_t off)
{
	const char *name = d->cfg->name;
	uint64_t gpa = d->cfg->table_gpa + off, val = ~0ULL;
	char err[96];
	int handled = 0;

	if (vcpu_mmio(vm, 0, false, gpa, 4, &val, &handled))
		return check(false, "%s: guest read at table page +0x%llx: %s", name,
			     (unsigned long long)off, errno_text(errno, err, sizeof(err)));
	if (handled)
		return check(off < d->info.table_size,
			     "%s: guest read at table page +0x%llx claimed by xvm-msix (table entry): 0x%08llx",
			     name, (unsigned long long)off, (unsigned long long)val);
	val = 0;
	handled = vfio_bar_rw(d, d->info.table_bir, d->info.table_offset + off, 4,
			      &val, false);
	return check(!handled,
		     "%s: guest read at table page +0x%llx not claimed (outside table/PBA): "
		     "forwarded to VFIO BAR%u region read = 0x%08llx", name,
		     (unsigned long long)off, d->info.table_bir, (unsigned long long)val);
}
