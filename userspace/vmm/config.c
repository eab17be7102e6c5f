// SPDX-License-Identifier: GPL-2.0
/*
 * The xvm-vmm config file: one declaration per line, then "script" and one
 * step per line.  examples/README.md documents the format.  Every error is
 * reported as "FILE:LINE: message" on stderr; config_parse() then fails and
 * the VMM exits with status 2.  Nothing here touches the system.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vmm.h"

#define MAX_TOKS	24

struct parser {
	struct config *c;
	int line;
	char *key;			/* first word */
	char *tok[MAX_TOKS];		/* the other words */
	char *val[MAX_TOKS];		/* the part after '=' (NULL: none) */
	int n;
	bool used[MAX_TOKS];
	bool in_script;
	int vcpus_line, memory_line, gic_line, doorbell_line;
};

static int perr(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", p->c->file, p->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* A number: decimal or 0x hex; with sizes, a K/M/G suffix. */
static int num(struct parser *p, const char *what, const char *s, bool size,
	       uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s)
		return perr(p, "%s: missing value", what);
	if (*s == '-' || !isdigit((unsigned char)*s))
		return perr(p, "%s: bad number '%s'", what, s);
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return perr(p, "%s: bad number '%s'", what, s);
	if (size && *end && !end[1]) {
		unsigned int shift = 0;

		switch (*end) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		}
		if (shift && v <= (~0ULL >> shift)) {
			v <<= shift;
			end++;
		}
	}
	if (*end)
		return perr(p, "%s: bad number '%s'", what, s);
	*out = v;
	return 0;
}

static int range(struct parser *p, const char *what, const char *s,
		 uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (num(p, what, s, false, out))
		return -1;
	if (*out < lo || *out > hi)
		return perr(p, "%s: %s out of range (%llu..%llu)", what, s,
			    (unsigned long long)lo, (unsigned long long)hi);
	return 0;
}

/* A duration: N, Nns, Nus, Nms or Ns (plain N is milliseconds). */
static int duration(struct parser *p, const char *what, const char *s,
		    uint64_t *ns)
{
	static const struct { const char *sfx; uint64_t mul; } u[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", MSEC }, { "s", SEC },
		{ "", MSEC },
	};
	unsigned long long v;
	unsigned int i;
	char *end;

	if (!s || !*s)
		return perr(p, "%s: missing value", what);
	if (!isdigit((unsigned char)*s))
		return perr(p, "%s: bad duration '%s'", what, s);
	v = strtoull(s, &end, 10);
	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (!strcmp(end, u[i].sfx))
			break;
	if (i == sizeof(u) / sizeof(u[0]) || v > 3600ULL * SEC / u[i].mul)
		return perr(p, "%s: bad duration '%s' (e.g. 500ms, 2s)", what, s);
	*ns = v * u[i].mul;
	return 0;
}

int parse_pci_addr(const char *s, struct pci_addr *p)
{
	unsigned int seg = 0, bus, slot, fn;
	char tail;

	if (sscanf(s, "%4x:%2x:%2x.%1u%c", &seg, &bus, &slot, &fn, &tail) != 4 &&
	    (seg = 0, sscanf(s, "%2x:%2x.%1u%c", &bus, &slot, &fn, &tail) != 3))
		return -1;
	if (slot > 31 || fn > 7 || strlen(s) > 12)
		return -1;
	p->segment = seg;
	p->bus = bus;
	p->devfn = (slot << 3) | fn;
	snprintf(p->bdf, sizeof(p->bdf), "%04x:%02x:%02x.%u", seg, bus, slot, fn);
	return 0;
}

/* Option key=value (or bare word) lookup; marks it used. */
static int opt(struct parser *p, const char *key)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (!p->used[i] && !strcmp(p->tok[i], key)) {
			p->used[i] = true;
			return i;
		}
	return -1;
}

static const char *optval(struct parser *p, const char *key, bool *present)
{
	int i = opt(p, key);

	*present = i >= 0;
	return i >= 0 ? (p->val[i] ? p->val[i] : "") : NULL;
}

/* A positional word i (not key=value); NULL if missing. */
static const char *pos(struct parser *p, int i)
{
	if (i >= p->n || p->val[i])
		return NULL;
	p->used[i] = true;
	return p->tok[i];
}

static int need(struct parser *p, int i, const char *what)
{
	if (i >= p->n || p->val[i])
		return perr(p, "%s: missing %s", p->key, what);
	return 0;
}

/* Every word must have been understood. */
static int leftovers(struct parser *p)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (!p->used[i])
			return perr(p, "%s: unknown option '%s%s%s'", p->key,
				    p->tok[i], p->val[i] ? "=" : "",
				    p->val[i] ? p->val[i] : "");
	return 0;
}

static int dup(struct parser *p, int *first)
{
	if (*first)
		return perr(p, "duplicate '%s' (first on line %d)", p->key, *first);
	*first = p->line;
	return 0;
}

static int name_ok(struct parser *p, const char *what, const char *s)
{
	const char *q;

	if (!s || !*s)
		return perr(p, "%s: missing name", what);
	if (strlen(s) >= NAME_LEN || !isalpha((unsigned char)*s))
		return perr(p, "%s: bad name '%s'", what, s);
	for (q = s; *q; q++)
		if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-')
			return perr(p, "%s: bad name '%s'", what, s);
	return 0;
}

static int find_port(struct config *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < c->nr_ports; i++)
		if (!strcmp(c->ports[i].name, name))
			return i;
	return -1;
}

static int find_spi(struct config *c, unsigned int intid)
{
	unsigned int i;

	for (i = 0; i < c->nr_spis; i++)
		if (c->spis[i].intid == intid)
			return i;
	return -1;
}

static int find_vfio(struct config *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < c->nr_vfio; i++)
		if (!strcmp(c->vfio[i].name, name))
			return i;
	return -1;
}

static int find_iommu(struct config *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < c->nr_iommu; i++)
		if (!strcmp(c->iommu[i].name, name))
			return i;
	return -1;
}

static bool name_taken(struct config *c, const char *name)
{
	return find_port(c, name) >= 0 || find_vfio(c, name) >= 0 ||
	       find_iommu(c, name) >= 0;
}

static int need_vcpus(struct parser *p)
{
	if (!p->vcpus_line)
		return perr(p, "%s: 'vcpus' must come first", p->key);
	return 0;
}

/* ---- declarations ---- */

static int decl_vcpus(struct parser *p)
{
	uint64_t v;

	if (dup(p, &p->vcpus_line) || need(p, 0, "value") ||
	    range(p, "vcpus", pos(p, 0), 1, MAX_VCPUS, &v))
		return -1;
	p->c->vcpus = v;
	return leftovers(p);
}

static int decl_memory(struct parser *p)
{
	struct config *c = p->c;
	const char *s;
	bool has;

	if (dup(p, &p->memory_line) || need(p, 0, "size") ||
	    num(p, "memory", pos(p, 0), true, &c->mem_size))
		return -1;
	if (!c->mem_size || c->mem_size % 4096 || c->mem_size > (1ULL << 32))
		return perr(p, "memory: size %s out of range (4K..4G, a multiple of 4K)",
			    p->tok[0]);
	s = optval(p, "gpa", &has);
	if (has && num(p, "memory gpa", s, false, &c->mem_gpa))
		return -1;
	if (c->mem_gpa % 4096 || c->mem_gpa + c->mem_size > (1ULL << 40))
		return perr(p, "memory: gpa 0x%llx must be 4K aligned, below 1 TiB",
			    (unsigned long long)c->mem_gpa);
	return leftovers(p);
}

static int decl_gic(struct parser *p)
{
	struct config *c = p->c;
	unsigned int total = 0, i;
	const char *s;
	bool has;
	uint64_t v;
	int k;

	if (dup(p, &p->gic_line) || need_vcpus(p))
		return -1;
	c->has_gic = true;
	s = optval(p, "dist", &has);
	if (!has)
		return perr(p, "gic: missing 'dist='");
	if (num(p, "gic dist", s, false, &c->dist))
		return -1;
	if (c->dist % 0x10000)
		return perr(p, "gic: dist 0x%llx is not 64K aligned",
			    (unsigned long long)c->dist);
	c->nr_irqs = XVM_VGIC_NR_IRQS_DEFAULT;
	s = optval(p, "nr-irqs", &has);
	if (has) {
		if (range(p, "gic nr-irqs", s, XVM_VGIC_NR_IRQS_MIN,
			  XVM_VGIC_NR_IRQS_MAX, &v))
			return -1;
		if (v % 32)
			return perr(p, "gic nr-irqs: %s is not a multiple of 32", s);
		c->nr_irqs = v;
	}
	while ((k = opt(p, "redist-region")) >= 0) {
		unsigned long long idx, base, count;
		char tail;

		if (!p->val[k] || !*p->val[k])
			return perr(p, "gic: missing value for 'redist-region'");
		if (sscanf(p->val[k], "%lli,%lli,%lli%c", &idx, &base, &count,
			   &tail) != 3)
			return perr(p, "gic: bad redist-region '%s' (INDEX,BASE,COUNT)",
				    p->val[k]);
		if (idx != c->nr_rdist)
			return perr(p, "gic: redist-region index %llu, expected %u",
				    idx, c->nr_rdist);
		if (c->nr_rdist == MAX_RDIST)
			return perr(p, "gic: more than %d redist-regions", MAX_RDIST);
		if (base % 0x10000 || !count || count > MAX_VCPUS)
			return perr(p, "gic: redist-region %llu: base must be 64K aligned, count 1..%d",
				    idx, MAX_VCPUS);
		c->rdist_base[c->nr_rdist] = base;
		c->rdist_count[c->nr_rdist++] = count;
		total += count;
	}
	if (!c->nr_rdist)
		return perr(p, "gic: missing 'redist-region='");
	if (total < c->vcpus)
		return perr(p, "gic: %u redistributors for %u vCPUs", total,
			    c->vcpus);
	for (i = 0; i < c->nr_rdist; i++) {
		uint64_t b = c->rdist_base[i];
		uint64_t e = b + c->rdist_count[i] * XVM_VGIC_V3_REDIST_SIZE;

		if (b < c->dist + XVM_VGIC_V3_DIST_SIZE && c->dist < e)
			return perr(p, "gic: redist-region %u overlaps the distributor", i);
	}
	return leftovers(p);
}

static int decl_spi(struct parser *p)
{
	struct config *c = p->c;
	struct spi_cfg *s;
	uint64_t intid, vcpu = 0;
	const char *v;
	bool has;

	if (!c->has_gic)
		return perr(p, "spi: needs a 'gic' line before it");
	if (need(p, 0, "INTID") ||
	    range(p, "spi", pos(p, 0), 32, c->nr_irqs - 1, &intid))
		return -1;
	if (find_spi(c, intid) >= 0)
		return perr(p, "duplicate 'spi %llu' (first on line %d)",
			    (unsigned long long)intid,
			    c->spis[find_spi(c, intid)].line);
	v = optval(p, "vcpu", &has);
	if (has && range(p, "spi vcpu", v, 0, c->vcpus - 1, &vcpu))
		return -1;
	if (c->nr_spis == MAX_SPIS)
		return perr(p, "spi: more than %d", MAX_SPIS);
	s = &c->spis[c->nr_spis++];
	s->intid = intid;
	s->vcpu = vcpu;
	s->line = p->line;
	return leftovers(p);
}

static int decl_port(struct parser *p)
{
	struct config *c = p->c;
	struct port_cfg *pc;
	const char *v;
	uint64_t vcpu;
	bool has;

	if (need_vcpus(p) || need(p, 0, "name") || name_ok(p, "port", pos(p, 0)))
		return -1;
	if (name_taken(c, p->tok[0]))
		return perr(p, "duplicate name '%s'", p->tok[0]);
	v = optval(p, "vcpu", &has);
	if (!has)
		return perr(p, "port: missing 'vcpu='");
	if (range(p, "port vcpu", v, 0, c->vcpus - 1, &vcpu))
		return -1;
	if (c->nr_ports == MAX_PORTS)
		return perr(p, "port: more than %d", MAX_PORTS);
	pc = &c->ports[c->nr_ports++];
	snprintf(pc->name, sizeof(pc->name), "%s", p->tok[0]);
	pc->vcpu = vcpu;
	pc->line = p->line;
	return leftovers(p);
}

static int decl_doorbell(struct parser *p)
{
	struct config *c = p->c;

	if (dup(p, &p->doorbell_line) || need(p, 0, "address") ||
	    num(p, "doorbell", pos(p, 0), false, &c->doorbell))
		return -1;
	if (c->doorbell % 4)
		return perr(p, "doorbell: 0x%llx is not 4-byte aligned",
			    (unsigned long long)c->doorbell);
	c->has_doorbell = true;
	return leftovers(p);
}

static int pci_arg(struct parser *p, struct pci_addr *a, const char **name)
{
	bool has;

	if (need(p, 0, "PCI address"))
		return -1;
	if (parse_pci_addr(pos(p, 0), a))
		return perr(p, "%s: bad PCI address '%s' (expected DDDD:BB:SS.F)",
			    p->key, p->tok[0]);
	*name = optval(p, "name", &has);
	if (!has)
		*name = a->bdf;
	else if (name_ok(p, p->key, *name))
		return -1;
	if (name_taken(p->c, *name))
		return perr(p, "duplicate name '%s'", *name);
	return 0;
}

static bool pci_taken(struct config *c, const struct pci_addr *a)
{
	unsigned int i;

	for (i = 0; i < c->nr_vfio; i++)
		if (!strcmp(c->vfio[i].pci.bdf, a->bdf))
			return true;
	for (i = 0; i < c->nr_iommu; i++)
		if (!strcmp(c->iommu[i].pci.bdf, a->bdf))
			return true;
	return false;
}

static int decl_vfio(struct parser *p)
{
	struct config *c = p->c;
	struct vfio_dev *d;
	const char *name, *v;
	bool has;
	int k;

	if (c->nr_vfio == MAX_VFIO)
		return perr(p, "vfio: more than %d devices", MAX_VFIO);
	d = &c->vfio[c->nr_vfio];
	memset(d, 0, sizeof(*d));
	if (pci_arg(p, &d->pci, &name))
		return -1;
	if (pci_taken(c, &d->pci))
		return perr(p, "duplicate device %s", d->pci.bdf);
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->line = p->line;
	d->msix = opt(p, "msix") >= 0;
	v = optval(p, "table", &has);
	if (has && num(p, "vfio table", v, false, &d->table_gpa))
		return -1;
	if (has && !d->msix)
		return perr(p, "vfio: 'table=' needs 'msix'");
	v = optval(p, "pba", &has);
	if (has && num(p, "vfio pba", v, false, &d->pba_gpa))
		return -1;
	if (d->msix && !d->table_gpa)
		return perr(p, "vfio: 'msix' needs 'table=ADDR' (where the guest sees the table)");
	if ((d->table_gpa | d->pba_gpa) % 8)
		return perr(p, "vfio: table and pba must be 8-byte aligned");
	while ((k = opt(p, "vector")) >= 0) {
		char target[40], tail;
		unsigned int vec;
		struct route *r;
		int idx;

		if (!d->msix)
			return perr(p, "vfio: 'vector=' needs 'msix'");
		if (!p->val[k] || !*p->val[k])
			return perr(p, "vfio: missing value for 'vector'");
		if (sscanf(p->val[k], "%u:%39[^:]%c", &vec, target, &tail) != 2)
			return perr(p, "vfio: bad vector '%s' (N:port=NAME or N:spi=INTID)",
				    p->val[k]);
		if (vec >= MAX_VEC)
			return perr(p, "vfio: vector %u out of range (0..%d)", vec,
				    MAX_VEC - 1);
		r = &d->vec[vec];
		if (r->kind != ROUTE_NONE)
			return perr(p, "vfio: duplicate route for vector %u", vec);
		if (!strncmp(target, "port=", 5)) {
			idx = find_port(c, target + 5);
			if (idx < 0)
				return perr(p, "vfio: unknown port '%s'", target + 5);
			if (!c->has_doorbell)
				return perr(p, "vfio: vector %u to a port needs a 'doorbell' line before it",
					    vec);
			r->kind = ROUTE_PORT;
			r->port = idx;
		} else if (!strncmp(target, "spi=", 4)) {
			uint64_t intid;

			if (!c->has_gic)
				return perr(p, "vfio: vector %u to an SPI needs a 'gic' line before it",
					    vec);
			if (range(p, "vfio vector spi", target + 4, 32,
				  c->nr_irqs - 1, &intid))
				return -1;
			idx = find_spi(c, intid);
			if (idx < 0)
				return perr(p, "vfio: SPI %llu has no 'spi' line (which vCPU takes it?)",
					    (unsigned long long)intid);
			r->kind = ROUTE_SPI;
			r->spi = idx;
		} else {
			return perr(p, "vfio: bad vector target '%s' (port=NAME or spi=INTID)",
				    target);
		}
		if (vec + 1 > d->nr_routes)
			d->nr_routes = vec + 1;
	}
	c->nr_vfio++;
	return leftovers(p);
}

static int decl_iommu(struct parser *p)
{
	struct config *c = p->c;
	struct iommu_dev *d;
	const char *name;

	if (c->nr_iommu == MAX_IOMMU)
		return perr(p, "iommu: more than %d devices", MAX_IOMMU);
	d = &c->iommu[c->nr_iommu];
	memset(d, 0, sizeof(*d));
	if (pci_arg(p, &d->pci, &name))
		return -1;
	if (pci_taken(c, &d->pci))
		return perr(p, "duplicate device %s", d->pci.bdf);
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->line = p->line;
	d->mirror = opt(p, "mirror") >= 0;
	c->nr_iommu++;
	return leftovers(p);
}

/* ---- script steps ---- */

static int step_vcpu(struct parser *p, struct step *s)
{
	const char *v = NULL;
	uint64_t id = 0;
	bool has;

	v = optval(p, "vcpu", &has);
	if (has && range(p, "vcpu", v, 0, p->c->vcpus - 1, &id))
		return -1;
	s->vcpu = id;
	return 0;
}

static int step_len(struct parser *p, const char *s, uint64_t *len)
{
	if (num(p, "length", s, false, len))
		return -1;
	if (*len != 1 && *len != 2 && *len != 4 && *len != 8)
		return perr(p, "length %s out of range (1, 2, 4 or 8)", s);
	return 0;
}

static int step_timeout(struct parser *p, struct step *s, uint64_t dflt)
{
	const char *v;
	bool has;

	s->timeout_ns = dflt;
	v = optval(p, "timeout", &has);
	return has ? duration(p, "timeout", v, &s->timeout_ns) : 0;
}

static int step_port(struct parser *p, const char *name)
{
	int i;

	if (!name || !*name)
		return perr(p, "%s: missing port name", p->key);
	i = find_port(p->c, name);
	if (i < 0)
		return perr(p, "%s: unknown port '%s'", p->key, name);
	return i;
}

static int step_dev(struct parser *p, bool vfio)
{
	const char *name = pos(p, 0);
	int i;

	if (!name)
		return perr(p, "%s: missing device name", p->key);
	i = vfio ? find_vfio(p->c, name) : find_iommu(p->c, name);
	if (i < 0)
		return perr(p, "%s: unknown %s device '%s'", p->key,
			    vfio ? "vfio" : "iommu", name);
	return i;
}

static int step_range(struct parser *p, struct step *s)
{
	const char *v;
	bool has;

	v = optval(p, "gpa", &has);
	if (!has)
		return perr(p, "%s: missing 'gpa='", p->key);
	if (num(p, "gpa", v, false, &s->addr))
		return -1;
	v = optval(p, "len", &has);
	if (!has)
		return perr(p, "%s: missing 'len='", p->key);
	if (num(p, "len", v, true, &s->len))
		return -1;
	if (s->addr % 4096 || !s->len || s->len % 4096)
		return perr(p, "%s: gpa and len must be whole 4K pages", p->key);
	if (s->addr < p->c->mem_gpa ||
	    s->addr + s->len > p->c->mem_gpa + p->c->mem_size)
		return perr(p, "%s: range out of range (not inside guest memory)",
			    p->key);
	return 0;
}

static int parse_step(struct parser *p, struct step *s)
{
	struct config *c = p->c;
	const char *v, *w;
	bool has;
	uint64_t x;
	int i;

	if (!strcmp(p->key, "mmio")) {
		w = pos(p, 0);
		if (!w || (strcmp(w, "write") && strcmp(w, "read")))
			return perr(p, "mmio: expected 'read' or 'write'");
		s->kind = strcmp(w, "write") ? STEP_MMIO_READ : STEP_MMIO_WRITE;
		if (need(p, 1, "address") || num(p, "address", pos(p, 1), false, &s->addr) ||
		    need(p, 2, "length") || step_len(p, pos(p, 2), &s->len))
			return -1;
		if (s->kind == STEP_MMIO_WRITE &&
		    (need(p, 3, "value") || num(p, "value", pos(p, 3), false, &s->val)))
			return -1;
		if (s->addr % s->len)
			return perr(p, "mmio: address 0x%llx is not aligned to %llu",
				    (unsigned long long)s->addr,
				    (unsigned long long)s->len);
		if (s->kind == STEP_MMIO_READ) {
			s->mask = ~0ULL;
			v = optval(p, "expect", &has);
			if (has && !strcmp(v, "unhandled")) {
				s->expect = EXPECT_UNHANDLED;
			} else if (has) {
				if (num(p, "expect", v, false, &s->val))
					return -1;
				s->expect = EXPECT_VALUE;
			}
			v = optval(p, "mask", &has);
			if (has && num(p, "mask", v, false, &s->mask))
				return -1;
		}
		return step_vcpu(p, s);
	}
	if (!strcmp(p->key, "send") || !strcmp(p->key, "ring")) {
		s->kind = strcmp(p->key, "send") ? STEP_DOORBELL : STEP_SEND;
		i = step_port(p, pos(p, 0));
		if (i < 0)
			return -1;
		s->dev = i;
		if (s->kind == STEP_DOORBELL && !c->has_doorbell)
			return perr(p, "ring: no 'doorbell' declared");
		return step_vcpu(p, s);
	}
	if (!strcmp(p->key, "setspi")) {
		s->kind = STEP_SETSPI;
		if (!c->has_gic)
			return perr(p, "setspi: no 'gic' declared");
		if (need(p, 0, "INTID") ||
		    range(p, "setspi", pos(p, 0), 32, c->nr_irqs - 1, &x))
			return -1;
		i = find_spi(c, x);
		if (i < 0)
			return perr(p, "setspi: SPI %llu has no 'spi' line",
				    (unsigned long long)x);
		s->dev = i;
		return step_vcpu(p, s);
	}
	if (!strcmp(p->key, "wait")) {
		v = optval(p, "port", &has);
		if (has) {
			s->kind = STEP_WAIT_PORT;
			i = step_port(p, v);
		} else {
			v = optval(p, "spi", &has);
			if (!has)
				return perr(p, "wait: expected 'port=NAME' or 'spi=INTID'");
			s->kind = STEP_WAIT_SPI;
			if (range(p, "wait spi", v, 32, c->nr_irqs ? c->nr_irqs - 1 : 1019, &x))
				return -1;
			i = find_spi(c, x);
			if (i < 0)
				return perr(p, "wait: SPI %llu has no 'spi' line",
					    (unsigned long long)x);
		}
		if (i < 0)
			return -1;
		s->dev = i;
		return step_timeout(p, s, SEC);
	}
	if (!strcmp(p->key, "check-gic")) {
		if (!c->has_gic)
			return perr(p, "check-gic: no 'gic' declared");
		s->kind = STEP_CHECK_GIC;
		return 0;
	}
	if (!strcmp(p->key, "fire-msix")) {
		s->kind = STEP_FIRE_MSIX;
		i = step_dev(p, true);
		if (i < 0)
			return -1;
		s->dev = i;
		v = optval(p, "vector", &has);
		if (!has)
			return perr(p, "fire-msix: missing 'vector='");
		if (range(p, "fire-msix vector", v, 0, MAX_VEC - 1, &s->val))
			return -1;
		if (c->vfio[i].vec[s->val].kind == ROUTE_NONE)
			return perr(p, "fire-msix: vector %llu of '%s' has no route",
				    (unsigned long long)s->val, c->vfio[i].name);
		return step_timeout(p, s, 2 * SEC);
	}
	if (!strcmp(p->key, "msix-page")) {
		s->kind = STEP_MSIX_PAGE;
		i = step_dev(p, true);
		if (i < 0)
			return -1;
		s->dev = i;
		if (!c->vfio[i].msix)
			return perr(p, "msix-page: '%s' has no 'msix'", c->vfio[i].name);
		v = optval(p, "offset", &has);
		if (!has)
			return perr(p, "msix-page: missing 'offset='");
		if (range(p, "msix-page offset", v, 0, 0xffc, &s->addr))
			return -1;
		if (s->addr % 4)
			return perr(p, "msix-page: offset must be 4-byte aligned");
		return 0;
	}
	if (!strcmp(p->key, "iommu-map") || !strcmp(p->key, "iommu-unmap")) {
		s->kind = strcmp(p->key, "iommu-map") ? STEP_IOMMU_UNMAP : STEP_IOMMU_MAP;
		i = step_dev(p, false);
		if (i < 0)
			return -1;
		s->dev = i;
		if (s->kind == STEP_IOMMU_MAP)
			s->ro = opt(p, "ro") >= 0;
		return step_range(p, s);
	}
	if (!strcmp(p->key, "dma")) {
		s->kind = STEP_DMA;
		i = step_dev(p, false);
		if (i < 0)
			return -1;
		s->dev = i;
		v = optval(p, "from", &has);
		if (!has)
			return perr(p, "dma: missing 'from='");
		if (num(p, "dma from", v, false, &s->addr))
			return -1;
		v = optval(p, "to", &has);
		if (!has)
			return perr(p, "dma: missing 'to='");
		if (num(p, "dma to", v, false, &s->addr2))
			return -1;
		v = optval(p, "len", &has);
		if (!has)
			return perr(p, "dma: missing 'len='");
		if (range(p, "dma len", v, 1, 2048, &s->len))
			return -1;
		if (s->addr < c->mem_gpa || s->addr + s->len > c->mem_gpa + c->mem_size ||
		    s->addr2 < c->mem_gpa || s->addr2 + s->len > c->mem_gpa + c->mem_size)
			return perr(p, "dma: from/to out of range (not inside guest memory)");
		v = optval(p, "expect", &has);
		if (!has)
			return perr(p, "dma: missing 'expect=lands|faults'");
		if (!strcmp(v, "lands"))
			s->expect = EXPECT_LANDS;
		else if (!strcmp(v, "faults"))
			s->expect = EXPECT_FAULTS;
		else
			return perr(p, "dma: bad expect '%s' (lands or faults)", v);
		return 0;
	}
	if (!strcmp(p->key, "sleep")) {
		s->kind = STEP_SLEEP;
		if (need(p, 0, "duration"))
			return -1;
		return duration(p, "sleep", pos(p, 0), &s->timeout_ns);
	}
	return perr(p, "unknown step '%s'", p->key);
}

static int parse_line(struct parser *p)
{
	static const struct {
		const char *key;
		int (*fn)(struct parser *p);
	} decls[] = {
		{ "vcpus", decl_vcpus }, { "memory", decl_memory },
		{ "gic", decl_gic }, { "spi", decl_spi }, { "port", decl_port },
		{ "doorbell", decl_doorbell }, { "vfio", decl_vfio },
		{ "iommu", decl_iommu },
	};
	struct config *c = p->c;
	unsigned int i;

	if (!strcmp(p->key, "script") && !p->in_script) {
		if (p->n)
			return perr(p, "script: takes no arguments");
		if (!p->vcpus_line || !p->memory_line)
			return perr(p, "script: 'vcpus' and 'memory' must be declared first");
		p->in_script = true;
		return 0;
	}
	if (p->in_script) {
		struct step *s;

		if (c->nr_steps == MAX_STEPS)
			return perr(p, "more than %d steps", MAX_STEPS);
		s = &c->steps[c->nr_steps];
		memset(s, 0, sizeof(*s));
		s->line = p->line;
		if (parse_step(p, s) || leftovers(p))
			return -1;
		c->nr_steps++;
		return 0;
	}
	for (i = 0; i < sizeof(decls) / sizeof(decls[0]); i++)
		if (!strcmp(p->key, decls[i].key))
			return decls[i].fn(p);
	return perr(p, "unknown key '%s'", p->key);
}

int config_parse(const char *path, struct config *c)
{
	struct parser p = { .c = c };
	char buf[512], *s, *save;
	FILE *f;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	c->path = path;
	c->file = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof(buf), f)) {
		char text[160];

		p.line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			perr(&p, "line too long (max %zu characters)", sizeof(buf) - 2);
			rc = -1;
			break;
		}
		s = strchr(buf, '#');
		if (s)
			*s = 0;
		s = buf + strspn(buf, " \t\r\n");
		snprintf(text, sizeof(text), "%s", s);
		text[strcspn(text, "\r\n")] = 0;
		p.key = strtok_r(buf, " \t\r\n", &save);
		if (!p.key)
			continue;
		memset(p.used, 0, sizeof(p.used));
		for (p.n = 0; (s = strtok_r(NULL, " \t\r\n", &save)); p.n++) {
			char *eq;

			if (p.n == MAX_TOKS) {
				rc = perr(&p, "%s: too many words", p.key);
				break;
			}
			p.tok[p.n] = s;
			eq = strchr(s, '=');
			p.val[p.n] = eq ? eq + 1 : NULL;
			if (eq)
				*eq = 0;
			if (eq && !*s) {
				rc = perr(&p, "%s: '=%s' has no key", p.key, eq + 1);
				break;
			}
		}
		if (rc || parse_line(&p)) {
			rc = -1;
			break;
		}
		if (p.in_script && c->nr_steps)
			snprintf(c->steps[c->nr_steps - 1].text,
				 sizeof(c->steps[0].text), "%s", text);
	}
	fclose(f);
	if (rc)
		return -1;
	if (!p.vcpus_line || !p.memory_line) {
		p.line++;
		fprintf(stderr, "%s:%d: missing '%s' (every config declares vcpus and memory)\n",
			c->file, p.line, p.vcpus_line ? "memory" : "vcpus");
		return -1;
	}
	return 0;
}
