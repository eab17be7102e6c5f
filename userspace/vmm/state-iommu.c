// SPDX-License-Identifier: GPL-2.0
/*
 * State group "iommu" (version 1), present when the config has an iommu
 * line: for each xvm-iommu device, in config order, the mapping report of
 * XVM_IOMMU_GET_STATE (docs/api.md 7.4, "State (save and restore)") in the
 * format XVM_IOMMU_INFO_STATE_VERSION names: the attach and every explicit
 * mapping (the script's iommu-map steps), in dfn order.
 *
 *   "iommu": { "version": 1, "devices": [ { "name": "edu", "bdf": "0000:00:04.0",
 *              "state_version": 1, "attached": true, "mirror": false,
 *              "slot_maps": 0, "mapped": 1,
 *              "maps": [ { "dfn": 256, "count": 1, "gfn": 256, "read": true,
 *                          "write": false } ] } ] }
 *
 * Mirror-mode mappings are not saved: they follow the memory slot, which
 * the attach (the config's iommu line, vm.c) maps again; slot_maps counts
 * them.  The VMM maps guest frames only (XVM_IOMMU_MAP_SRC_GFN), always
 * inside the config's memory.  Restore runs after "memory" (the pages the
 * maps pin are the restored ones): XVM_IOMMU_MAP of every record, then the
 * device's report again, which must be the file's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "state.h"

#define MAX_MAPS	1024	/* per device: more than a script can make */
#define PAGE_SHIFT	12

struct iommu_saved {
	struct xvm_iommu_get_state hdr;
	uint64_t nr;
	struct xvm_iommu_map map[MAX_MAPS];
};

static struct iommu_saved saved[MAX_IOMMU];

static int iommu_err(const struct iommu_rt *d, const char *what)
{
	char err[96];

	errorf("iommu: %s: %s: %s", d->cfg->name, what, errno_text(errno, err, sizeof(err)));
	return -1;
}

/* XVM_IOMMU_GET_STATE of d into *s (at most MAX_MAPS records). */
static int iommu_report(const struct iommu_rt *d, struct iommu_saved *s)
{
	struct xvm_iommu_get_state *h = &s->hdr;

	memset(h, 0, sizeof(*h));
	h->version = XVM_IOMMU_STATE_VERSION;
	h->count = MAX_MAPS;
	h->maps = (uintptr_t)s->map;
	if (traced(xvm_iommu_get_state(d->dev, h), "XVM_IOMMU_GET_STATE %s -> %llu mappings",
		   d->cfg->name, (unsigned long long)h->count))
		return iommu_err(d, "XVM_IOMMU_GET_STATE");
	s->nr = h->count;
	return 0;
}

static int save_device(const struct iommu_rt *d, json_object *dev)
{
	struct iommu_saved *s;
	json_object *a;
	uint64_t i;

	s = calloc(1, sizeof(*s));
	if (!s || iommu_report(d, s)) {
		free(s);
		return -1;
	}
	st_put_str(dev, "name", d->cfg->name, strlen(d->cfg->name));
	st_put_str(dev, "bdf", d->cfg->pci.bdf, strlen(d->cfg->pci.bdf));
	st_put_u64(dev, "state_version", s->hdr.version);
	st_put_bool(dev, "attached", s->hdr.state & XVM_IOMMU_STATE_ATTACHED);
	st_put_bool(dev, "mirror", s->hdr.attach.flags & XVM_IOMMU_ATTACH_MIRROR_SLOTS);
	st_put_u64(dev, "slot_maps", s->hdr.slot_maps);
	st_put_u64(dev, "mapped", s->hdr.mapped);
	a = st_put_array(dev, "maps");
	for (i = 0; i < s->nr; i++) {
		const struct xvm_iommu_map *m = &s->map[i];
		json_object *e = json_object_new_object();

		if (!(m->flags & XVM_IOMMU_MAP_SRC_GFN)) {
			errorf("iommu: %s: a mapping of user memory: xvm-vmm maps guest frames "
			       "only", d->cfg->name);
			free(s);
			json_object_put(e);
			return -1;
		}
		json_object_array_add(a, e);
		st_put_u64(e, "dfn", m->dfn);
		st_put_u64(e, "count", m->count);
		st_put_u64(e, "gfn", m->gfn);
		st_put_bool(e, "read", m->flags & XVM_IOMMU_MAP_READ);
		st_put_bool(e, "write", m->flags & XVM_IOMMU_MAP_WRITE);
	}
	free(s);
	return 0;
}

static int iommu_save(struct vm *vm, json_object *sec)
{
	json_object *devs = st_put_array(sec, "devices");
	unsigned int i;

	for (i = 0; i < vm->cfg->nr_iommu; i++) {
		json_object *dev = json_object_new_object();

		json_object_array_add(devs, dev);
		if (save_device(&vm->iommu[i], dev))
			return -1;
	}
	return 0;
}

/* Record k: guest frames of the config's memory, after the one before it. */
static int parse_map(struct st_in *in, json_object *a, uint64_t k, bool mirror,
		     struct xvm_iommu_map *m, uint64_t *next)
{
	static const char *const keys[] = { "dfn", "count", "gfn", "read", "write", NULL };
	const struct vmm_config *c = in->cfg;
	uint64_t first = c->mem_gpa >> PAGE_SHIFT, frames = c->mem_size >> PAGE_SHIFT;
	uint64_t dfn, count, gfn;
	json_object *e;
	bool rd, wr;

	if (st_elem(in, a, k, keys, &e))
		return -1;
	memset(m, 0, sizeof(*m));
	if (st_u64(in, e, "dfn", *next, UINT64_MAX >> 1, &dfn) ||
	    st_u64(in, e, "count", 1, frames, &count) ||
	    st_u64(in, e, "gfn", first, first + frames - count, &gfn) ||
	    st_bool(in, e, "read", &rd) || st_bool(in, e, "write", &wr))
		return -1;
	m->dfn = dfn;
	m->count = count;
	m->gfn = gfn;
	if (!rd && !wr)
		return st_err(in, "neither 'read' nor 'write': not a mapping");
	if (mirror && m->dfn < first + frames && m->dfn + m->count > first)
		return st_err(in, "dfn 0x%llx..0x%llx overlaps the memory slot's mirror mapping "
			      "(the saved config's iommu line has mirror)",
			      (unsigned long long)m->dfn,
			      (unsigned long long)(m->dfn + m->count - 1));
	m->flags = XVM_IOMMU_MAP_SRC_GFN | (rd ? XVM_IOMMU_MAP_READ : 0) |
		   (wr ? XVM_IOMMU_MAP_WRITE : 0);
	*next = m->dfn + m->count;	/* dfn order, no overlap */
	return 0;
}

static int parse_header(struct st_in *in, json_object *dev, const struct iommu_cfg *dc,
			struct iommu_saved *s)
{
	const char *name, *bdf;
	uint64_t slots, mapped;
	bool attached, mirror;
	size_t n, bn;
	uint32_t v;

	if (st_str(in, dev, "name", NAME_LEN, &name, &n) || st_str(in, dev, "bdf", 16, &bdf, &bn))
		return -1;
	if (strcmp(name, dc->name) || strcmp(bdf, dc->pci.bdf))
		return st_err(in, "device '%s' at %s, but the saved config's iommu line has "
			      "'%s' at %s", name, bdf, dc->name, dc->pci.bdf);
	if (st_u32(in, dev, "state_version", 0, UINT32_MAX, &v))
		return -1;
	if (v != XVM_IOMMU_STATE_VERSION)
		return st_err(in, "iommu state version %u is not supported (this xvm-vmm "
			      "restores version %d)", v, XVM_IOMMU_STATE_VERSION);
	if (st_bool(in, dev, "attached", &attached) || st_bool(in, dev, "mirror", &mirror) ||
	    st_u64(in, dev, "slot_maps", 0, 1, &slots) ||
	    st_u64(in, dev, "mapped", 0, UINT64_MAX, &mapped))
		return -1;
	s->hdr.slot_maps = slots;
	s->hdr.mapped = mapped;
	if (!attached || mirror != dc->mirror || s->hdr.slot_maps != mirror)
		return st_err(in, "%s%s with %llu slot mapping(s), but the saved config "
			      "attaches it %s", attached ? "attached" : "detached",
			      mirror ? " mirroring the slots" : "",
			      (unsigned long long)s->hdr.slot_maps,
			      dc->mirror ? "mirroring its one memory slot" : "without mirror");
	s->hdr.version = v;
	s->hdr.state = XVM_IOMMU_STATE_ATTACHED;
	s->hdr.attach = (struct xvm_iommu_attach){
		.segment = dc->pci.segment, .bus = dc->pci.bus, .devfn = dc->pci.devfn,
		.flags = mirror ? XVM_IOMMU_ATTACH_MIRROR_SLOTS : 0,
	};
	return 0;
}

static int parse_device(struct st_in *in, json_object *dev, unsigned int k,
			const struct iommu_cfg *dc, struct iommu_saved *s)
{
	static const char *const keys[] = {
		"name", "bdf", "state_version", "attached", "mirror", "slot_maps", "mapped",
		"maps", NULL,
	};
	uint64_t i, next = 0, frames = 0;
	json_object *a;
	size_t n;

	if (st_keys(in, dev, keys) || parse_header(in, dev, dc, s) ||
	    st_array(in, dev, "maps", 0, MAX_MAPS, &a, &n))
		return -1;
	s->nr = n;
	for (i = 0; i < s->nr; i++) {
		st_where(in, "iommu.devices[%u].maps[%llu]", k, (unsigned long long)i);
		if (parse_map(in, a, i, dc->mirror, &s->map[i], &next))
			return -1;
		frames += s->map[i].count;
	}
	st_where(in, "iommu.devices[%u]", k);
	if (frames != s->hdr.mapped)
		return st_err(in, "'mapped' = %llu, but the maps hold %llu frames",
			      (unsigned long long)s->hdr.mapped, (unsigned long long)frames);
	return 0;
}

static int iommu_parse(struct st_in *in, json_object *sec)
{
	static const char *const keys[] = { "version", "devices", NULL };
	const struct vmm_config *c = in->cfg;
	json_object *a;
	unsigned int i;
	size_t n;

	if (st_keys(in, sec, keys) ||
	    st_array(in, sec, "devices", c->nr_iommu, c->nr_iommu, &a, &n))
		return -1;
	for (i = 0; i < c->nr_iommu; i++) {
		st_where(in, "iommu.devices[%u]", i);
		if (parse_device(in, json_object_array_get_idx(a, i), i, &c->iommu[i],
				 &saved[i]))
			return -1;
	}
	return 0;
}

/* The restored device reports what the file has: header and records. */
static int compare_report(const struct iommu_rt *d, const struct iommu_saved *want)
{
	static struct iommu_saved got;
	const struct xvm_iommu_get_state *g = &got.hdr, *w = &want->hdr;

	if (iommu_report(d, &got))
		return -1;
	if (got.nr == want->nr && g->state == w->state && g->slot_maps == w->slot_maps &&
	    g->mapped == w->mapped && !memcmp(&g->attach, &w->attach, sizeof(g->attach)) &&
	    !memcmp(got.map, want->map, want->nr * sizeof(want->map[0])))
		return 0;
	errorf("iommu: %s: the restored device reports %llu mapping(s) of %llu frames and "
	       "%llu slot mapping(s), the file %llu of %llu and %llu (or other records)",
	       d->cfg->name, (unsigned long long)got.nr, (unsigned long long)g->mapped,
	       (unsigned long long)g->slot_maps, (unsigned long long)want->nr,
	       (unsigned long long)w->mapped, (unsigned long long)w->slot_maps);
	return -1;
}

static int restore_device(const struct iommu_rt *d, const struct iommu_saved *s)
{
	uint64_t i;

	for (i = 0; i < s->nr; i++) {
		struct xvm_iommu_map m = s->map[i];

		if (traced(ioctl(d->dev, XVM_IOMMU_MAP, &m),
			   "XVM_IOMMU_MAP dfn 0x%llx count %llu gfn 0x%llx flags 0x%x",
			   (unsigned long long)m.dfn, (unsigned long long)m.count,
			   (unsigned long long)m.gfn, m.flags))
			return iommu_err(d, "re-creating a mapping (XVM_IOMMU_MAP)");
	}
	if (compare_report(d, s))
		return -1;
	created("%s: %llu explicit mapping(s) re-created, the device's report is the file's",
		d->cfg->name, (unsigned long long)s->nr);
	return 0;
}

static int iommu_restore(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->cfg->nr_iommu; i++)
		if (restore_device(&vm->iommu[i], &saved[i]))
			return -1;
	return 0;
}

static bool has_iommu(const struct vmm_config *c)
{
	return c->nr_iommu;
}

const struct state_group state_iommu_group = {
	.name = "iommu", .version = 1, .needed = has_iommu,
	.save = iommu_save, .parse = iommu_parse, .restore = iommu_restore,
};
