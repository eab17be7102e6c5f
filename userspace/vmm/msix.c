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
 * The interrupt source is the e1000e (8086:10d3): BAR0 IVAR maps causes to
 * vectors, IMS enables them, ICS raises a cause (the 82574 datasheet).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "vmm.h"

#define E_ICR		0xc0
#define E_ICS		0xc8
#define E_IMS		0xd0
#define E_IMC		0xd8
#define E_IVAR		0xe4
#define E_IVAR_ALL	0x000cba98u	/* causes 0..4 -> vectors 0..4, valid */
#define E_IMS_ALL	0x01f00000u

static bool is_e1000e(struct vfio_dev *d)
{
	uint32_t id = 0;

	return !vfio_cfg_read(d, PCI_VENDOR_ID, 4, &id) && id == 0x10d38086;
}

int msix_setup(struct vm *vm, struct vfio_dev *d)
{
	struct xvm_msix_attach a = {
		.group_fd = d->group, .segment = d->pci.segment,
		.bus = d->pci.bus, .devfn = d->pci.devfn,
	};
	struct xvm_msix_info *in = &d->info;
	uint64_t pba;
	unsigned int i;

	if (traced(xvm_create_device(vm->fd, XVM_DEV_TYPE_VFIO_MSIX, 0, &d->msixdev),
		   "XVM_CREATE_DEVICE VFIO_MSIX")) {
		d->msixdev = -1;
		errorf("%s: XVM_CREATE_DEVICE(VFIO_MSIX): %s (is xvm-msix loaded?)",
		       d->name, strerror(errno));
		return -1;
	}
	if (traced(xvm_set_attr(d->msixdev, XVM_MSIX_GRP_ATTACH, 0, &a),
		   "SET_DEVICE_ATTR msix ATTACH group fd %d %s", d->group, d->pci.bdf) ||
	    traced(xvm_get_attr(d->msixdev, XVM_MSIX_GRP_INFO, 0, in),
		   "GET_DEVICE_ATTR msix INFO")) {
		errorf("%s: MSI-X interposer attach: %s", d->name, strerror(errno));
		return -1;
	}
	created("%s: MSI-X interposer attached: %u vectors, capability at 0x%x, "
		"table BAR%u+0x%x, PBA BAR%u+0x%x", d->name, in->nr_vectors,
		in->cap_offset, in->table_bir, in->table_offset, in->pba_bir,
		in->pba_offset);
	if (d->nr_routes > in->nr_vectors) {
		errorf("%s: config routes vector %u, the device has %u (%s:%d)",
		       d->name, d->nr_routes - 1, in->nr_vectors, vm->cfg->file,
		       d->line);
		return -1;
	}

	/* Physical MSI-X on, one eventfd per vector, physically unmasked. */
	d->nr_efd = in->nr_vectors < MAX_VEC ? in->nr_vectors : MAX_VEC;
	for (i = 0; i < d->nr_efd; i++)
		d->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vfio_set_msix_irqs(d, d->nr_efd)) {
		errorf("%s: VFIO_DEVICE_SET_IRQS: %s", d->name, strerror(errno));
		return -1;
	}
	if (is_e1000e(d) && d->bar0) {
		d->bar0[E_IMC / 4] = 0xffffffffu;
		d->bar0[E_ICR / 4] = 0xffffffffu;
		d->bar0[E_IVAR / 4] = E_IVAR_ALL;
		d->bar0[E_IMS / 4] = E_IMS_ALL;
	}
	/* A message left pending by an earlier user lands now: drain it. */
	usleep(10000);
	for (i = 0; i < d->nr_efd; i++) {
		uint64_t cnt;

		if (read(d->efd[i], &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
			return -1;
	}

	pba = d->pba_gpa;
	if (!pba)
		pba = d->table_gpa + in->pba_offset - in->table_offset;
	d->pba_gpa = pba;
	if (traced(xvm_set_attr(d->msixdev, XVM_MSIX_GRP_ADDR, XVM_MSIX_ADDR_TABLE,
				&d->table_gpa), "SET_DEVICE_ATTR msix ADDR TABLE 0x%llx",
		   (unsigned long long)d->table_gpa) ||
	    traced(xvm_set_attr(d->msixdev, XVM_MSIX_GRP_ADDR, XVM_MSIX_ADDR_PBA, &pba),
		   "SET_DEVICE_ATTR msix ADDR PBA 0x%llx", (unsigned long long)pba)) {
		errorf("%s: MSI-X table/PBA at 0x%llx/0x%llx: %s", d->name,
		       (unsigned long long)d->table_gpa, (unsigned long long)pba,
		       strerror(errno));
		return -1;
	}
	for (i = 0; i < d->nr_efd; i++) {
		int32_t fd = d->efd[i];

		if (traced(xvm_set_attr(d->msixdev, XVM_MSIX_GRP_EVENTFD, i, &fd),
			   "SET_DEVICE_ATTR msix EVENTFD vector %u fd %d", i, fd)) {
			errorf("%s: vector %u eventfd: %s", d->name, i, strerror(errno));
			return -1;
		}
	}
	created("%s: physical MSI-X enabled through VFIO, %u eventfds hooked by the "
		"interposer; guest table at 0x%llx, PBA at 0x%llx", d->name, d->nr_efd,
		(unsigned long long)d->table_gpa, (unsigned long long)pba);
	return 0;
}

/* Config-space access of the guest: the MSI-X control word goes to xvm-msix. */
int msix_cfg_access(struct vm *vm, struct vfio_dev *d, uint32_t off,
		    uint32_t len, uint32_t *val, bool write)
{
	uint32_t ctrl = d->info.cap_offset + PCI_MSIX_FLAGS;
	uint16_t w;

	(void)vm;
	if (d->msixdev >= 0 && off == ctrl && len == 2) {
		if (write) {
			w = *val;
			return traced(xvm_set_attr(d->msixdev, XVM_MSIX_GRP_CTRL,
						   XVM_MSIX_CTRL_WORD, &w),
				      "SET_DEVICE_ATTR msix CTRL_WORD 0x%x (guest config write at 0x%x)",
				      w, off);
		}
		if (traced(xvm_get_attr(d->msixdev, XVM_MSIX_GRP_CTRL,
					XVM_MSIX_CTRL_WORD, &w),
			   "GET_DEVICE_ATTR msix CTRL_WORD (guest config read at 0x%x)", off))
			return -1;
		*val = w;
		return 0;
	}
	return write ? vfio_cfg_write(d, off, len, *val) :
		       vfio_cfg_read(d, off, len, val);
}

static int twrite(struct vm *vm, uint64_t addr, uint32_t val)
{
	uint64_t v = val;
	int handled = 0;

	if (vcpu_mmio(vm, 0, true, addr, 4, &v, &handled) || !handled)
		return -1;
	return 0;
}

/* The guest's driver, as a script: program each routed vector, enable MSI-X. */
int msix_firmware(struct vm *vm, struct vfio_dev *d)
{
	struct config *c = vm->cfg;
	uint32_t ctrl;
	unsigned int i;

	for (i = 0; i < d->nr_routes; i++) {
		struct route *r = &d->vec[i];
		uint64_t e = d->table_gpa + i * PCI_MSIX_ENTRY_SIZE, addr;
		uint32_t data;
		char what[64];

		if (r->kind == ROUTE_NONE)
			continue;
		if (r->kind == ROUTE_PORT) {
			addr = c->doorbell;
			data = c->ports[r->port].port;
			snprintf(what, sizeof(what), "doorbell 0x%llx, data %u (port %s)",
				 (unsigned long long)addr, data, c->ports[r->port].name);
		} else {
			addr = c->dist + GICD_SETSPI_NSR;
			data = c->spis[r->spi].intid;
			snprintf(what, sizeof(what), "GICD_SETSPI_NSR 0x%llx, data %u (SPI)",
				 (unsigned long long)addr, data);
		}
		if (twrite(vm, e + PCI_MSIX_ENTRY_LOWER_ADDR, (uint32_t)addr) ||
		    twrite(vm, e + PCI_MSIX_ENTRY_UPPER_ADDR, addr >> 32) ||
		    twrite(vm, e + PCI_MSIX_ENTRY_DATA, data) ||
		    twrite(vm, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0)) {
			errorf("%s: guest write of MSI-X entry %u failed", d->name, i);
			return -1;
		}
		created("guest (scripted) MSI-X setup: %s vector %u -> %s, unmasked",
			d->name, i, what);
	}
	ctrl = PCI_MSIX_FLAGS_ENABLE;
	if (msix_cfg_access(vm, d, d->info.cap_offset + PCI_MSIX_FLAGS, 2, &ctrl, true) ||
	    msix_cfg_access(vm, d, d->info.cap_offset + PCI_MSIX_FLAGS, 2, &ctrl, false) ||
	    !(ctrl & PCI_MSIX_FLAGS_ENABLE)) {
		errorf("%s: guest enabling MSI-X in config space failed", d->name);
		return -1;
	}
	created("guest (scripted) config write: %s MSI-X control = 0x%04x (enable), "
		"forwarded to the interposer", d->name, ctrl);
	return 0;
}

int msix_fire(struct vm *vm, struct vfio_dev *d, unsigned int vec)
{
	(void)vm;
	if (!d->bar0 || !is_e1000e(d) || vec >= 5) {
		errno = EOPNOTSUPP;
		return -1;
	}
	d->bar0[E_ICR / 4] = 0xffffffffu;
	d->bar0[E_ICS / 4] = 1u << (20 + vec);
	if (opt_verbose)
		fprintf(stderr, "  mmio %s BAR0 ICS <- 0x%x (raise cause %u)\n", d->name,
			1u << (20 + vec), vec);
	return 0;
}

/* A guest read in the table's page: claimed by xvm-msix, or forwarded to VFIO. */
int msix_page_access(struct vm *vm, struct vfio_dev *d, uint64_t off)
{
	uint64_t gpa = d->table_gpa + off, val = ~0ULL;
	int handled = 0;

	if (vcpu_mmio(vm, 0, false, gpa, 4, &val, &handled))
		return check(false, "%s: guest read at table page +0x%llx: %s", d->name,
			     (unsigned long long)off, strerror(errno));
	if (handled)
		return check(off < d->info.table_size,
			     "%s: guest read at table page +0x%llx claimed by xvm-msix (table entry): 0x%08llx",
			     d->name, (unsigned long long)off, (unsigned long long)val);
	val = 0;
	handled = vfio_bar_rw(d, d->info.table_bir, d->info.table_offset + off, 4,
			      &val, false);
	return check(!handled,
		     "%s: guest read at table page +0x%llx not claimed (outside table/PBA): "
		     "forwarded to VFIO BAR%u region read = 0x%08llx", d->name,
		     (unsigned long long)off, d->info.table_bir, (unsigned long long)val);
}
