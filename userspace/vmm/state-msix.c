// SPDX-License-Identifier: GPL-2.0
/*
 * State group "msix" (version 1), present when a vfio line has msix: for
 * each such device, in config order, the interposer's state as docs/api.md
 * ("State (save and restore)") defines it - the Message Control word and
 * every vector's struct xvm_msix_vector_state - with the layout it was taken
 * from (XVM_MSIX_GRP_INFO) and its format (XVM_MSIX_CTRL_STATE_VERSION).
 *
 *   "msix": { "version": 1, "devices": [ { "name": "nic", "bdf": "0000:00:03.0",
 *             "state_version": 1,
 *             "info": { "cap_offset": 160, "nr_vectors": 5, "table_bir": 3,
 *                       "table_offset": 0, "pba_bir": 3, "pba_offset": 8192 },
 *             "ctrl_word": 32772,
 *             "vectors": [ { "addr": ..., "data": ..., "ctrl": 0, "msg_addr": ...,
 *                            "msg_data": ..., "flags": 0 }, ... ] } ] }
 *
 * Save follows the kernel's recipe: detach every eventfd, read, re-attach
 * (a fire meanwhile is counted in the eventfd and consumed at re-attach).
 * Restore runs in the device msix_setup() attached (reset state, no eventfd
 * hooked): the layout must be the saved one, then the control word, every
 * vector, and last the table/PBA addresses and eventfds (msix_hook()).
 * Bus addresses and routes are the config's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <linux/pci_regs.h>

#include "state.h"

#define MAX_MSIX_VEC	2048	/* PCI: Table Size is 11 bits */

static struct msix_saved {
	uint32_t state_version, nr;
	uint16_t ctrl;
	struct xvm_msix_info info;
	struct xvm_msix_vector_state vec[MAX_MSIX_VEC];
} saved[MAX_VFIO];

static const char *const info_keys[] = {
	"cap_offset", "nr_vectors", "table_bir", "table_offset", "pba_bir",
	"pba_offset", NULL,
};

static int msix_err(const struct vfio_rt *d, const char *what)
{
	char err[96];

	errorf("msix: %s: %s: %s", d->cfg->name, what, errno_text(errno, err, sizeof(err)));
	return -1;
}

/* Eventfd of every hooked vector off (fd -1) or back on. */
static int msix_hooks(struct vfio_rt *d, bool on)
{
	unsigned int v;

	for (v = 0; v < d->nr_efd; v++) {
		int32_t fd = on ? d->efd[v] : -1;

		if (traced(xvm_set_attr(d->msixdev, XVM_MSIX_GRP_EVENTFD, v, &fd),
			   "SET_DEVICE_ATTR msix EVENTFD vector %u fd %d", v, fd))
			return msix_err(d, on ? "re-attaching an eventfd" : "detaching an eventfd");
	}
	return 0;
}

static void put_info(json_object *o, const struct xvm_msix_info *in)
{
	st_put_u64(o, "cap_offset", in->cap_offset);
	st_put_u64(o, "nr_vectors", in->nr_vectors);
	st_put_u64(o, "table_bir", in->table_bir);
	st_put_u64(o, "table_offset", in->table_offset);
	st_put_u64(o, "pba_bir", in->pba_bir);
	st_put_u64(o, "pba_offset", in->pba_offset);
}

static int save_vectors(struct vfio_rt *d, json_object *dev)
{
	json_object *a = st_put_array(dev, "vectors");
	struct xvm_msix_vector_state st;
	unsigned int v;

	for (v = 0; v < d->info.nr_vectors; v++) {
		json_object *e = json_object_new_object();

		if (traced(xvm_msix_get_vector(d->msixdev, v, &st),
			   "GET_DEVICE_ATTR msix VECTOR %u", v))
			return msix_err(d, "XVM_MSIX_GRP_VECTOR get");
		json_object_array_add(a, e);
		st_put_u64(e, "addr", st.addr);
		st_put_u64(e, "data", st.data);
		st_put_u64(e, "ctrl", st.ctrl);
		st_put_u64(e, "msg_addr", st.msg_addr);
		st_put_u64(e, "msg_data", st.msg_data);
		st_put_u64(e, "flags", st.flags);
	}
	return 0;
}

static int save_device(struct vfio_rt *d, json_object *dev)
{
	struct xvm_msix_info info;
	uint32_t ver = 0;
	uint16_t w = 0;
	int rc;

	st_put_str(dev, "name", d->cfg->name, strlen(d->cfg->name));
	st_put_str(dev, "bdf", d->cfg->pci.bdf, strlen(d->cfg->pci.bdf));
	if (msix_hooks(d, false))
		return -1;
	rc = traced(xvm_get_attr(d->msixdev, XVM_MSIX_GRP_CTRL, XVM_MSIX_CTRL_STATE_VERSION,
				 &ver), "GET_DEVICE_ATTR msix CTRL_STATE_VERSION") ||
	     traced(xvm_get_attr(d->msixdev, XVM_MSIX_GRP_INFO, 0, &info),
		    "GET_DEVICE_ATTR msix INFO") ||
	     traced(xvm_get_attr(d->msixdev, XVM_MSIX_GRP_CTRL, XVM_MSIX_CTRL_WORD, &w),
		    "GET_DEVICE_ATTR msix CTRL_WORD");
	if (rc)
		return msix_err(d, "reading the interposer");
	st_put_u64(dev, "state_version", ver);
	put_info(st_put_obj(dev, "info"), &info);
	st_put_u64(dev, "ctrl_word", w);
	if (save_vectors(d, dev))
		return -1;
	return msix_hooks(d, true);
}

static int msix_save(struct vm *vm, json_object *sec)
{
	json_object *devs = st_put_array(sec, "devices");
	unsigned int i;

	for (i = 0; i < vm->cfg->nr_vfio; i++) {
		json_object *dev;

		if (!vm->cfg->vfio[i].msix)
			continue;
		dev = json_object_new_object();
		json_object_array_add(devs, dev);
		if (save_device(&vm->vfio[i], dev))
			return -1;
	}
	return 0;
}

static int parse_info(struct st_in *in, json_object *o, struct xvm_msix_info *i)
{
	uint32_t cap;

	if (st_keys(in, o, info_keys) || st_u32(in, o, "cap_offset", 0x40, 0xffc, &cap) ||
	    st_u32(in, o, "nr_vectors", 1, MAX_MSIX_VEC, &i->nr_vectors) ||
	    st_u32(in, o, "table_bir", 0, 5, &i->table_bir) ||
	    st_u32(in, o, "table_offset", 0, UINT32_MAX, &i->table_offset) ||
	    st_u32(in, o, "pba_bir", 0, 5, &i->pba_bir) ||
	    st_u32(in, o, "pba_offset", 0, UINT32_MAX, &i->pba_offset))
		return -1;
	i->cap_offset = cap;
	return 0;
}

static int parse_vector(struct st_in *in, json_object *a, unsigned int v,
			struct xvm_msix_vector_state *st)
{
	static const char *const keys[] = {
		"addr", "data", "ctrl", "msg_addr", "msg_data", "flags", NULL,
	};
	uint64_t addr, msg_addr;
	json_object *e;

	if (st_elem(in, a, v, keys, &e))
		return -1;
	memset(st, 0, sizeof(*st));
	if (st_u64(in, e, "addr", 0, UINT64_MAX, &addr) ||
	    st_u32(in, e, "data", 0, UINT32_MAX, &st->data) ||
	    st_u32(in, e, "ctrl", 0, PCI_MSIX_ENTRY_CTRL_MASKBIT, &st->ctrl) ||
	    st_u64(in, e, "msg_addr", 0, UINT64_MAX, &msg_addr) ||
	    st_u32(in, e, "msg_data", 0, UINT32_MAX, &st->msg_data) ||
	    st_u32(in, e, "flags", 0, 0x1f, &st->flags))
		return -1;
	st->addr = addr;
	st->msg_addr = msg_addr;
	return 0;
}

static int parse_device(struct st_in *in, json_object *dev, unsigned int k,
			const struct vfio_cfg *dc, struct msix_saved *s)
{
	static const char *const keys[] = {
		"name", "bdf", "state_version", "info", "ctrl_word", "vectors", NULL,
	};
	const char *name, *bdf;
	json_object *o, *a;
	uint32_t w, v;
	size_t n, bn;

	if (st_keys(in, dev, keys) || st_str(in, dev, "name", NAME_LEN, &name, &n) ||
	    st_str(in, dev, "bdf", 16, &bdf, &bn))
		return -1;
	if (strcmp(name, dc->name) || strcmp(bdf, dc->pci.bdf))
		return st_err(in, "device '%s' at %s, but the saved config's vfio line has "
			      "'%s' at %s", name, bdf, dc->name, dc->pci.bdf);
	if (st_u32(in, dev, "state_version", 0, UINT32_MAX, &s->state_version))
		return -1;
	if (s->state_version != XVM_MSIX_STATE_VERSION)
		return st_err(in, "MSI-X state version %u is not supported (this xvm-vmm "
			      "restores version %d)", s->state_version, XVM_MSIX_STATE_VERSION);
	if (st_member(in, dev, "info", json_type_object, &o) || parse_info(in, o, &s->info) ||
	    st_u32(in, dev, "ctrl_word", 0, 0xffff, &w) ||
	    st_array(in, dev, "vectors", s->info.nr_vectors, s->info.nr_vectors, &a, &n))
		return -1;
	s->ctrl = w;
	s->nr = s->info.nr_vectors;
	for (v = 0; v < s->nr; v++) {
		st_where(in, "msix.devices[%u].vectors[%u]", k, v);
		if (parse_vector(in, a, v, &s->vec[v]))
			return -1;
	}
	return 0;
}

static int msix_parse(struct st_in *in, json_object *sec)
{
	static const char *const keys[] = { "version", "devices", NULL };
	const struct vmm_config *c = in->cfg;
	unsigned int i, k = 0, want = 0;
	json_object *a;
	size_t n;

	for (i = 0; i < c->nr_vfio; i++)
		want += c->vfio[i].msix;
	if (st_keys(in, sec, keys) || st_array(in, sec, "devices", want, want, &a, &n))
		return -1;
	for (i = 0; i < c->nr_vfio; i++) {
		if (!c->vfio[i].msix)
			continue;
		st_where(in, "msix.devices[%u]", k);
		if (parse_device(in, json_object_array_get_idx(a, k), k, &c->vfio[i],
				 &saved[i]))
			return -1;
		k++;
	}
	return 0;
}

static int restore_device(struct vm *vm, struct vfio_rt *d, const struct msix_saved *s)
{
	const struct xvm_msix_info *in = &d->info;
	uint32_t ver = 0, v;
	uint16_t w = s->ctrl;

	if (in->nr_vectors != s->nr || in->cap_offset != s->info.cap_offset ||
	    in->table_bir != s->info.table_bir || in->table_offset != s->info.table_offset ||
	    in->pba_bir != s->info.pba_bir || in->pba_offset != s->info.pba_offset) {
		errorf("msix: %s: the device's MSI-X layout (%u vectors, table BAR%u+0x%x) is "
		       "not the saved one (%u vectors, table BAR%u+0x%x)", d->cfg->name,
		       in->nr_vectors, in->table_bir, in->table_offset, s->nr,
		       s->info.table_bir, s->info.table_offset);
		return -1;
	}
	if (xvm_get_attr(d->msixdev, XVM_MSIX_GRP_CTRL, XVM_MSIX_CTRL_STATE_VERSION, &ver))
		return msix_err(d, "CTRL_STATE_VERSION (a kernel without MSI-X restore?)");
	if (traced(xvm_set_attr(d->msixdev, XVM_MSIX_GRP_CTRL, XVM_MSIX_CTRL_WORD, &w),
		   "SET_DEVICE_ATTR msix CTRL_WORD 0x%x", w))
		return msix_err(d, "restoring the control word");
	for (v = 0; v < s->nr; v++) {
		struct xvm_msix_vector_state st = s->vec[v];

		st.version = s->state_version;
		if (traced(xvm_msix_set_vector(d->msixdev, v, &st),
			   "SET_DEVICE_ATTR msix VECTOR %u (kernel state version %u)", v, ver))
			return msix_err(d, "restoring a vector (XVM_MSIX_GRP_VECTOR)");
	}
	created("%s: MSI-X control word 0x%04x and %u vectors restored", d->cfg->name, w, s->nr);
	return msix_hook(vm, d);
}

static int msix_restore(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->cfg->nr_vfio; i++)
		if (vm->cfg->vfio[i].msix && restore_device(vm, &vm->vfio[i], &saved[i]))
			return -1;
	return 0;
}

static bool has_msix(const struct vmm_config *c)
{
	unsigned int i;

	for (i = 0; i < c->nr_vfio; i++)
		if (c->vfio[i].msix)
			return true;
	return false;
}

const struct state_group state_msix_group = {
	.name = "msix", .version = 1, .needed = has_msix,
	.save = msix_save, .parse = msix_parse, .restore = msix_restore,
};
