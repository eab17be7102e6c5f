// SPDX-License-Identifier: GPL-2.0
/*
 * The xvm-vmm config file: one declaration per line, then "script" and one
 * step per line.  examples/README.md documents the format.
 *
 * Every keyword is one entry of keywords[] - its name, its tag, where its
 * options land and their schema (key or position, type, required, range,
 * offset) - and one generic parser walks that table.  A keyword's "finish"
 * hook only resolves what the schema cannot express (names, references,
 * capacity).  Rules the kernel enforces (alignment, overlaps, its limits) are
 * left to it: the setup reports its errno at the line (vm.c).
 *
 * Every error is reported as "FILE:LINE: message" on stderr; config_parse()
 * then fails and the VMM exits with status 2.  Nothing here touches the
 * system, and the result is never written after config_parse() returns.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vmm.h"

#define MAX_TOKS	24

enum opt_type {
	OT_U32, OT_U64,
	OT_SIZE,	/* u64, K/M/G suffix */
	OT_DURATION,	/* u64 ns: N (ms), Nns, Nus, Nms, Ns */
	OT_ACCESS_LEN,	/* u32: 1, 2, 4 or 8 */
	OT_NAME,	/* char[NAME_LEN]: [A-Za-z][A-Za-z0-9_-]* */
	OT_BDF,		/* struct pci_addr */
	OT_FLAG,	/* bool: a bare word */
	OT_ENUM,	/* u32: base + index in choices[] (or a number: num_off) */
	OT_PORT, OT_SPI, OT_VFIO, OT_IOMMU,	/* int: index of a declared one */
	OT_LIST,	/* key=... repeated: item() per occurrence */
};

/* A range bound taken from the config parsed so far. */
enum dyn_max { DM_NONE, DM_VCPU, DM_INTID };

struct parser;

struct opt_desc {
	const char *key;	/* key=VALUE or bare key; NULL: positional */
	unsigned int pos;	/* positional: its word (1: the first after the keyword) */
	const char *what;	/* positional: its name in messages */
	enum opt_type type;
	bool required;
	uint64_t min, max;	/* numbers: max 0 means no bound */
	enum dyn_max dyn;
	uint64_t dflt;		/* numbers: stored before parsing when non-zero */
	size_t off;		/* in the keyword's struct */
	const char *const *choices;	/* OT_ENUM, NULL-terminated */
	unsigned int base;		/* OT_ENUM: value of choices[0] */
	size_t num_off;			/* OT_ENUM: a number goes there (0: none) */
	unsigned int num_tag;		/* OT_ENUM: the value stored for a number */
	int (*item)(struct parser *p, const char *val, void *obj);	/* OT_LIST */
};

/* What a keyword needs declared before it. */
#define NEED_VCPUS	1u
#define NEED_GIC	2u
#define NEED_DOORBELL	4u

struct kw_desc {
	const char *name, *sub;	/* "mmio" "write": sub is the first word */
	int tag;		/* enum step_tag (steps) */
	bool script;		/* a step (after "script"), else a declaration */
	bool once;		/* a declaration that may appear once */
	unsigned int needs;
	/* Where the options land (NULL after an error: full). */
	void *(*slot)(struct parser *p);
	/* After the options: references, uniqueness, commit (NULL: fin_step). */
	int (*finish)(struct parser *p, void *obj);
	size_t line_off;	/* once-declarations: its line, in the config */
	const struct opt_desc opts[8];	/* up to the first with no key or pos */
};

struct parser {
	struct vmm_config *c;
	int line;
	const struct kw_desc *kw;
	char *key;			/* first word */
	char *tok[MAX_TOKS];		/* the other words */
	char *val[MAX_TOKS];		/* the part after '=' (NULL: none) */
	int n;
	bool used[MAX_TOKS];
	bool in_script;
	int first[32];			/* line of a once-keyword, by table index */
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

/* ---- value conversions ---- */

static int size_suffix(char **end, unsigned long long *v)
{
	unsigned int shift = 0;

	switch (**end) {
	case 'K': case 'k': shift = 10; break;
	case 'M': case 'm': shift = 20; break;
	case 'G': case 'g': shift = 30; break;
	}
	if (!shift || (*end)[1] || *v > (~0ULL >> shift))
		return -1;
	*v <<= shift;
	(*end)++;
	return 0;
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
	if (size && *end)
		size_suffix(&end, &v);
	if (*end)
		return perr(p, "%s: bad number '%s'", what, s);
	*out = v;
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
	for (i = 0; i < ARRAY_SIZE(u); i++)
		if (!strcmp(end, u[i].sfx))
			break;
	if (i == ARRAY_SIZE(u) || v > 3600ULL * SEC / u[i].mul)
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

/* ---- lookups in what is declared so far ---- */

/* The index of the entry called name in an array of n, or -1. */
static int find_named(const void *arr, size_t stride, size_t name_off,
		      unsigned int n, const char *name)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!strcmp((const char *)arr + i * stride + name_off, name))
			return i;
	return -1;
}

#define FIND_NAMED(c, arr, nr, name)					\
	find_named((c)->arr, sizeof((c)->arr[0]),			\
		   offsetof(__typeof__((c)->arr[0]), name), (c)->nr, name)

static int find_port(const struct vmm_config *c, const char *name)
{
	return FIND_NAMED(c, ports, nr_ports, name);
}

static int find_vfio(const struct vmm_config *c, const char *name)
{
	return FIND_NAMED(c, vfio, nr_vfio, name);
}

static int find_iommu(const struct vmm_config *c, const char *name)
{
	return FIND_NAMED(c, iommu, nr_iommu, name);
}

static int find_spi(const struct vmm_config *c, uint64_t intid)
{
	unsigned int i;

	for (i = 0; i < c->nr_spis; i++)
		if (c->spis[i].intid == intid)
			return i;
	return -1;
}

static bool name_taken(const struct vmm_config *c, const char *name)
{
	return find_port(c, name) >= 0 || find_vfio(c, name) >= 0 ||
	       find_iommu(c, name) >= 0;
}

static bool pci_taken(const struct vmm_config *c, const struct pci_addr *a)
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

/* ---- the generic option parser ---- */

static uint64_t opt_max(struct parser *p, const struct opt_desc *o)
{
	const struct vmm_config *c = p->c;

	if (o->dyn == DM_VCPU)
		return c->vcpus - 1;
	if (o->dyn == DM_INTID || o->type == OT_SPI)
		return c->gic.line ? c->gic.nr_irqs - 1 : 1019;
	return o->max ? o->max : ~0ULL;
}

static int opt_number(struct parser *p, const struct opt_desc *o,
		      const char *what, const char *v, uint64_t *x)
{
	uint64_t hi = opt_max(p, o);

	if (num(p, what, v, o->type == OT_SIZE, x))
		return -1;
	if (*x < o->min || *x > hi)
		return perr(p, "%s: %s out of range (%llu..%llu)", what, v,
			    (unsigned long long)o->min, (unsigned long long)hi);
	return 0;
}

static int opt_enum(struct parser *p, const struct opt_desc *o,
		    const char *what, const char *v, void *obj)
{
	char list[64] = "";
	unsigned int i;

	for (i = 0; o->choices[i]; i++) {
		if (!strcmp(v, o->choices[i])) {
			*(uint32_t *)((char *)obj + o->off) = o->base + i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 i ? " or " : "", o->choices[i]);
	}
	if (o->num_off) {	/* else a number, stored at num_off */
		*(uint32_t *)((char *)obj + o->off) = o->num_tag;
		return num(p, what, v, false, (uint64_t *)((char *)obj + o->num_off));
	}
	return perr(p, "%s: bad %s '%s' (%s)", p->kw->name, o->key, v, list);
}

/* A reference to something declared: its index, or -1 after an error. */
static int opt_ref(struct parser *p, const struct opt_desc *o,
		   const char *what, const char *v)
{
	uint64_t x;
	int i;

	if (o->type == OT_SPI) {
		if (opt_number(p, o, what, v, &x))
			return -1;
		i = find_spi(p->c, x);
		if (i < 0)
			perr(p, "%s: SPI %s has no 'spi' line", p->kw->name, v);
		return i;
	}
	if (!v || !*v)
		return perr(p, "%s: missing %s name", p->kw->name,
			    o->type == OT_PORT ? "port" : "device");
	i = o->type == OT_PORT ? find_port(p->c, v) :
	    o->type == OT_VFIO ? find_vfio(p->c, v) : find_iommu(p->c, v);
	if (i < 0)
		perr(p, "%s: unknown %s '%s'", p->kw->name,
		     o->type == OT_PORT ? "port" :
		     o->type == OT_VFIO ? "vfio device" : "iommu device", v);
	return i;
}

static int opt_integer(struct parser *p, const struct opt_desc *o,
		       const char *what, const char *v, uint64_t *x)
{
	if (o->type != OT_ACCESS_LEN)
		return opt_number(p, o, what, v, x);
	if (num(p, "length", v, false, x))
		return -1;
	if (*x != 1 && *x != 2 && *x != 4 && *x != 8)
		return perr(p, "length %s out of range (1, 2, 4 or 8)", v);
	return 0;
}

/* Converts one value of option o into the keyword's struct. */
static int opt_store(struct parser *p, const struct opt_desc *o,
		     const char *what, const char *v, void *obj)
{
	void *dst = (char *)obj + o->off;
	uint64_t x;

	switch (o->type) {
	case OT_U32:
	case OT_U64:
	case OT_SIZE:
	case OT_ACCESS_LEN:
		if (opt_integer(p, o, what, v, &x))
			return -1;
		if (o->type == OT_U32 || o->type == OT_ACCESS_LEN)
			*(uint32_t *)dst = x;
		else
			*(uint64_t *)dst = x;
		return 0;
	case OT_DURATION:
		return duration(p, what, v, dst);
	case OT_NAME:
		if (name_ok(p, p->kw->name, v))
			return -1;
		snprintf(dst, NAME_LEN, "%s", v);
		return 0;
	case OT_BDF:
		if (parse_pci_addr(v, dst))
			return perr(p, "%s: bad PCI address '%s' (expected DDDD:BB:SS.F)",
				    p->kw->name, v);
		return 0;
	case OT_FLAG:
		*(bool *)dst = true;
		return 0;
	case OT_ENUM:
		return opt_enum(p, o, what, v, obj);
	case OT_LIST:
		return o->item(p, v, obj);
	default:
		*(int *)dst = opt_ref(p, o, what, v);
		return *(int *)dst < 0 ? -1 : 0;
	}
}

/* The word that option o takes, marked used; -1 if absent. */
static int opt_find(struct parser *p, const struct opt_desc *o)
{
	int i;

	if (!o->key) {
		i = o->pos - 1;
		if (i >= p->n || p->val[i])
			return -1;
		p->used[i] = true;
		return i;
	}
	for (i = 0; i < p->n; i++)
		if (!p->used[i] && !strcmp(p->tok[i], o->key) &&
		    (o->type == OT_FLAG) == !p->val[i]) {
			p->used[i] = true;
			return i;
		}
	return -1;
}

/* Parses option o (every occurrence, for lists); checks required. */
static int opt_parse(struct parser *p, const struct opt_desc *o, void *obj)
{
	char what[48];
	int i, seen = 0;

	snprintf(what, sizeof(what), "%s%s%s", p->kw->name, o->key ? " " : "",
		 o->key ? o->key : "");
	if (o->dflt && o->type == OT_U32)
		*(uint32_t *)((char *)obj + o->off) = o->dflt;
	else if (o->dflt)
		*(uint64_t *)((char *)obj + o->off) = o->dflt;
	if (o->type >= OT_PORT && o->type <= OT_IOMMU)
		*(int *)((char *)obj + o->off) = -1;
	while ((i = opt_find(p, o)) >= 0) {
		seen++;
		if (opt_store(p, o, what, o->key ? p->val[i] : p->tok[i], obj))
			return -1;
		if (o->type != OT_LIST)
			break;
	}
	if (seen || !o->required)
		return 0;
	if (!o->key)
		return perr(p, "%s: missing %s", p->kw->name, o->what);
	if (o->type == OT_ENUM && o->choices[1])	/* dma: expect=lands|faults */
		return perr(p, "%s: missing '%s=%s|%s'", p->kw->name, o->key,
			    o->choices[0], o->choices[1]);
	return perr(p, "%s: missing '%s%s'", p->kw->name, o->key,
		    o->type == OT_FLAG ? "" : "=");
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

/* ---- keyword hooks: what the schema cannot say ---- */

#define SLOT(fn, arr, nr, max, what)					\
static void *fn(struct parser *p)					\
{									\
	if (p->c->nr == max) {						\
		perr(p, "%s: more than %d" what, p->kw->name, max);	\
		return NULL;						\
	}								\
	return &p->c->arr[p->c->nr];					\
}
SLOT(slot_port, ports, nr_ports, MAX_PORTS, "")
SLOT(slot_spi, spis, nr_spis, MAX_SPIS, "")
SLOT(slot_vfio, vfio, nr_vfio, MAX_VFIO, " devices")
SLOT(slot_iommu, iommu, nr_iommu, MAX_IOMMU, " devices")

static void *slot_config(struct parser *p)
{
	return p->c;
}

static void *slot_step(struct parser *p)
{
	if (p->c->nr_steps == MAX_STEPS) {
		perr(p, "more than %d steps", MAX_STEPS);
		return NULL;
	}
	return &p->c->steps[p->c->nr_steps];
}

/* redist-region=INDEX,BASE,COUNT, in index order. */
static int item_rdist(struct parser *p, const char *v, void *obj)
{
	struct gic_cfg *g = &((struct vmm_config *)obj)->gic;
	unsigned long long idx, base, count;
	char tail;

	if (!v || !*v)
		return perr(p, "gic: missing value for 'redist-region'");
	if (sscanf(v, "%lli,%lli,%lli%c", &idx, &base, &count, &tail) != 3)
		return perr(p, "gic: bad redist-region '%s' (INDEX,BASE,COUNT)", v);
	if (idx != g->nr_rdist)
		return perr(p, "gic: redist-region index %llu, expected %u", idx,
			    g->nr_rdist);
	if (g->nr_rdist == MAX_RDIST)
		return perr(p, "gic: more than %d redist-regions", MAX_RDIST);
	if (!count || count > 0xfff)	/* the encoding's 12-bit count */
		return perr(p, "gic: redist-region %llu: count %llu out of range (1..4095)",
			    idx, count);
	g->rdist[g->nr_rdist++] = (struct rdist_cfg){
		.index = idx, .base = base, .count = count,
	};
	return 0;
}

/*
 * The VMM places vCPU i in the i-th redistributor slot (vgic_rdist_addr())
 * and checks GICR_TYPER there: every vCPU needs one.
 */
static int fin_gic(struct parser *p, void *obj)
{
	struct gic_cfg *g = &((struct vmm_config *)obj)->gic;
	unsigned int i, total = 0;

	for (i = 0; i < g->nr_rdist; i++)
		total += g->rdist[i].count;
	if (total < p->c->vcpus)
		return perr(p, "gic: %u redistributors for %u vCPUs", total,
			    p->c->vcpus);
	return 0;
}

static int fin_spi(struct parser *p, void *obj)
{
	struct spi_cfg *s = obj;
	int i = find_spi(p->c, s->intid);

	if (i >= 0)
		return perr(p, "duplicate 'spi %u' (first on line %d)", s->intid,
			    p->c->spis[i].line);
	s->line = p->line;
	p->c->nr_spis++;
	return 0;
}

static int fin_port(struct parser *p, void *obj)
{
	struct port_cfg *pc = obj;
	struct port_cfg *peer = pc->peer >= 0 ? &p->c->ports[pc->peer] : NULL;

	if (name_taken(p->c, pc->name))
		return perr(p, "duplicate name '%s'", pc->name);
	if (peer && (peer->peer >= 0 || peer->paired))
		return perr(p, "port: '%s' already has a peer", peer->name);
	if (peer && (peer->remote || pc->remote))
		return perr(p, "port: 'remote' ports have no peer here");
	if (peer)
		peer->paired = true;
	pc->line = p->line;
	p->c->nr_ports++;
	return 0;
}

/* A PCI device's name (default: its address) and address are unique. */
static int pci_unique(struct parser *p, char *name, const struct pci_addr *a)
{
	if (!name[0])
		snprintf(name, NAME_LEN, "%s", a->bdf);
	if (name_taken(p->c, name))
		return perr(p, "duplicate name '%s'", name);
	if (pci_taken(p->c, a))
		return perr(p, "duplicate device %s", a->bdf);
	return 0;
}

/* vector=V:port=NAME or vector=V:spi=INTID (needs 'msix'). */
static int item_vector(struct parser *p, const char *v, void *obj)
{
	static const struct opt_desc port = { .key = "port", .type = OT_PORT };
	static const struct opt_desc spi = { .key = "spi", .type = OT_SPI, .min = 32 };
	struct vfio_cfg *d = obj;
	char target[40], tail;
	unsigned int vec;
	struct route *r;
	bool to_port;

	if (!v || !*v)
		return perr(p, "vfio: missing value for 'vector'");
	if (sscanf(v, "%u:%39[^:]%c", &vec, target, &tail) != 2)
		return perr(p, "vfio: bad vector '%s' (N:port=NAME or N:spi=INTID)", v);
	if (vec >= MAX_VEC)
		return perr(p, "vfio: vector %u out of range (0..%d)", vec, MAX_VEC - 1);
	r = &d->vec[vec];
	if (r->kind != ROUTE_NONE)
		return perr(p, "vfio: duplicate route for vector %u", vec);
	to_port = !strncmp(target, "port=", 5);
	if (!to_port && strncmp(target, "spi=", 4))
		return perr(p, "vfio: bad vector target '%s' (port=NAME or spi=INTID)",
			    target);
	if (to_port ? !p->c->doorbell_line : !p->c->gic.line)
		return perr(p, "vfio: vector %u to %s needs a '%s' line before it", vec,
			    to_port ? "a port" : "an SPI", to_port ? "doorbell" : "gic");
	r->target = opt_ref(p, to_port ? &port : &spi, "vfio vector spi",
			    strchr(target, '=') + 1);
	if (r->target < 0)
		return -1;
	r->kind = to_port ? ROUTE_PORT : ROUTE_SPI;
	if (vec + 1 > d->nr_routes)
		d->nr_routes = vec + 1;
	return 0;
}

static int fin_vfio(struct parser *p, void *obj)
{
	struct vfio_cfg *d = obj;

	if (pci_unique(p, d->name, &d->pci))
		return -1;
	if (!d->msix && (d->table_gpa || d->pba_gpa || d->nr_routes))
		return perr(p, "vfio: 'table=', 'pba=' and 'vector=' need 'msix'");
	if (d->msix && !d->table_gpa)
		return perr(p, "vfio: 'msix' needs 'table=ADDR' (where the guest sees the table)");
	d->line = p->line;
	p->c->nr_vfio++;
	return 0;
}

static int fin_iommu(struct parser *p, void *obj)
{
	struct iommu_cfg *d = obj;

	if (pci_unique(p, d->name, &d->pci))
		return -1;
	d->line = p->line;
	p->c->nr_iommu++;
	return 0;
}

static int fin_script(struct parser *p, void *obj)
{
	(void)obj;
	if (!p->c->vcpus_line || !p->c->memory_line)
		return perr(p, "script: 'vcpus' and 'memory' must be declared first");
	p->in_script = true;
	return 0;
}

/* Steps: the generic part; then the step's own checks. */
static int fin_step(struct parser *p, void *obj)
{
	struct step *s = obj;

	s->tag = p->kw->tag;
	s->line = p->line;
	p->c->nr_steps++;
	return 0;
}

static int fin_wait(struct parser *p, void *obj)
{
	struct step *s = obj;

	if ((s->wait.port >= 0) == (s->wait.spi >= 0))
		return perr(p, "wait: expected 'port=NAME' or 'spi=INTID'");
	return fin_step(p, obj);
}

static int fin_fire(struct parser *p, void *obj)
{
	struct step *s = obj;
	const struct vfio_cfg *d = &p->c->vfio[s->fire.dev];

	if (d->vec[s->fire.vector].kind == ROUTE_NONE)
		return perr(p, "fire-msix: vector %u of '%s' has no route",
			    s->fire.vector, d->name);
	return fin_step(p, obj);
}

static int fin_signal(struct parser *p, void *obj)
{
	struct step *s = obj;

	if (!p->c->ports[s->raise.target].eventfd)
		return perr(p, "signal: port '%s' has no 'eventfd'",
			    p->c->ports[s->raise.target].name);
	return fin_step(p, obj);
}

/* live-update [DEV vector=V [count=N]]: the vector must be routed. */
static int fin_update(struct parser *p, void *obj)
{
	struct step *s = obj;
	const struct vfio_cfg *d;

	if (s->update.dev < 0)
		return fin_step(p, obj);
	d = &p->c->vfio[s->update.dev];
	if (d->vec[s->update.vector].kind == ROUTE_NONE)
		return perr(p, "live-update: vector %u of '%s' has no route",
			    s->update.vector, d->name);
	return fin_step(p, obj);
}

static int fin_msix_page(struct parser *p, void *obj)
{
	struct step *s = obj;

	if (!p->c->vfio[s->page.dev].msix)
		return perr(p, "msix-page: '%s' has no 'msix'",
			    p->c->vfio[s->page.dev].name);
	return fin_step(p, obj);
}

/* The VMM turns gpa and len into frame numbers: they must be whole pages. */
static int fin_iommu_step(struct parser *p, void *obj)
{
	struct step *s = obj;

	if (s->iommu.gpa % 4096 || s->iommu.len % 4096)
		return perr(p, "%s: gpa and len must be whole 4K pages", p->kw->name);
	return fin_step(p, obj);
}

static bool in_memory(const struct vmm_config *c, uint64_t gpa, uint64_t len)
{
	return gpa >= c->mem_gpa && gpa + len <= c->mem_gpa + c->mem_size &&
	       gpa + len >= gpa;
}

/* The VMM itself fills and reads both buffers: they are in guest memory. */
static int fin_dma(struct parser *p, void *obj)
{
	struct step *s = obj;

	if (!in_memory(p->c, s->dma.from, s->dma.len) ||
	    !in_memory(p->c, s->dma.to, s->dma.len))
		return perr(p, "dma: from/to out of range (not inside guest memory)");
	return fin_step(p, obj);
}

/* A guest RAM access: inside guest memory, naturally aligned. */
static int fin_mem(struct parser *p, void *obj)
{
	struct step *s = obj;

	if (!in_memory(p->c, s->mmio.addr, s->mmio.len))
		return perr(p, "mem: address out of range (not inside guest memory)");
	if (s->mmio.addr % s->mmio.len)
		return perr(p, "mem: address not aligned to the length");
	return fin_step(p, obj);
}

/* ---- the keyword table ---- */

#define CFG(f)		offsetof(struct vmm_config, f)
#define STP(f)		offsetof(struct step, f)
#define IOMMU_RANGE_OPTS							\
	{ .pos = 1, .what = "device name", .type = OT_IOMMU, .required = true,	\
	  .off = STP(iommu.dev) },						\
	{ .key = "gpa", .type = OT_U64, .required = true, .off = STP(iommu.gpa) }, \
	{ .key = "len", .type = OT_SIZE, .required = true, .min = 1,		\
	  .off = STP(iommu.len) }
#define VCPU_OPT(f)	{ .key = "vcpu", .type = OT_U32, .dyn = DM_VCPU, .off = f }
#define DECL(n)		.name = n, .slot = slot_config
#define STEP(n, t)	.name = n, .tag = t, .script = true, .slot = slot_step

static const char *const expect_mmio[] = { "unhandled", NULL };
static const char *const expect_dma[] = { "lands", "faults", NULL };

static const struct kw_desc keywords[] = {
	{ DECL("vcpus"), .once = true, .line_off = CFG(vcpus_line), .opts = {
		{ .pos = 1, .what = "value", .type = OT_U32, .required = true,
		  .min = 1, .max = MAX_VCPUS, .off = CFG(vcpus) } } },
	{ DECL("vm-id"), .once = true, .opts = {
		{ .pos = 1, .what = "id", .type = OT_U64, .required = true, .min = 1,
		  .off = CFG(vm_id) } } },
	{ DECL("memory"), .once = true, .line_off = CFG(memory_line), .opts = {
		{ .pos = 1, .what = "size", .type = OT_SIZE, .required = true,
		  .min = 4096, .max = 1ULL << 32, .off = CFG(mem_size) },
		{ .key = "gpa", .type = OT_U64, .off = CFG(mem_gpa) } } },
	{ DECL("gic"), .once = true, .needs = NEED_VCPUS, .finish = fin_gic,
	  .line_off = CFG(gic.line), .opts = {
		{ .key = "dist", .type = OT_U64, .required = true, .off = CFG(gic.dist) },
		{ .key = "nr-irqs", .type = OT_U32, .min = XVM_VGIC_NR_IRQS_MIN,
		  .max = XVM_VGIC_NR_IRQS_MAX, .dflt = XVM_VGIC_NR_IRQS_DEFAULT,
		  .off = CFG(gic.nr_irqs) },
		{ .key = "redist-region", .type = OT_LIST, .required = true,
		  .item = item_rdist } } },
	{ .name = "spi", .needs = NEED_VCPUS | NEED_GIC, .slot = slot_spi,
	  .finish = fin_spi, .opts = {
		{ .pos = 1, .what = "INTID", .type = OT_U32, .required = true,
		  .min = 32, .dyn = DM_INTID, .off = offsetof(struct spi_cfg, intid) },
		VCPU_OPT(offsetof(struct spi_cfg, vcpu)) } },
	{ .name = "port", .needs = NEED_VCPUS, .slot = slot_port, .finish = fin_port,
	  .opts = {
		{ .pos = 1, .what = "name", .type = OT_NAME, .required = true,
		  .off = offsetof(struct port_cfg, name) },
		{ .key = "vcpu", .type = OT_U32, .required = true, .dyn = DM_VCPU,
		  .off = offsetof(struct port_cfg, vcpu) },
		{ .key = "peer", .type = OT_PORT, .off = offsetof(struct port_cfg, peer) },
		{ .key = "eventfd", .type = OT_FLAG, .off = offsetof(struct port_cfg, eventfd) },
		{ .key = "remote", .type = OT_FLAG, .off = offsetof(struct port_cfg, remote) } } },
	{ DECL("doorbell"), .once = true, .line_off = CFG(doorbell_line), .opts = {
		{ .pos = 1, .what = "address", .type = OT_U64, .required = true,
		  .off = CFG(doorbell) } } },
	{ .name = "vfio", .slot = slot_vfio, .finish = fin_vfio, .opts = {
		{ .pos = 1, .what = "PCI address", .type = OT_BDF, .required = true,
		  .off = offsetof(struct vfio_cfg, pci) },
		{ .key = "name", .type = OT_NAME, .off = offsetof(struct vfio_cfg, name) },
		{ .key = "msix", .type = OT_FLAG, .off = offsetof(struct vfio_cfg, msix) },
		{ .key = "table", .type = OT_U64, .off = offsetof(struct vfio_cfg, table_gpa) },
		{ .key = "pba", .type = OT_U64, .off = offsetof(struct vfio_cfg, pba_gpa) },
		{ .key = "vector", .type = OT_LIST, .item = item_vector } } },
	{ .name = "iommu", .slot = slot_iommu, .finish = fin_iommu, .opts = {
		{ .pos = 1, .what = "PCI address", .type = OT_BDF, .required = true,
		  .off = offsetof(struct iommu_cfg, pci) },
		{ .key = "name", .type = OT_NAME, .off = offsetof(struct iommu_cfg, name) },
		{ .key = "mirror", .type = OT_FLAG,
		  .off = offsetof(struct iommu_cfg, mirror) } } },
	{ DECL("script"), .finish = fin_script },

	{ STEP("mmio", STEP_MMIO_WRITE), .sub = "write", .opts = {
		{ .pos = 2, .what = "address", .type = OT_U64, .required = true,
		  .off = STP(mmio.addr) },
		{ .pos = 3, .what = "length", .type = OT_ACCESS_LEN, .required = true,
		  .off = STP(mmio.len) },
		{ .pos = 4, .what = "value", .type = OT_U64, .required = true,
		  .off = STP(mmio.val) },
		VCPU_OPT(STP(mmio.vcpu)) } },
	{ STEP("mmio", STEP_MMIO_READ), .sub = "read", .opts = {
		{ .pos = 2, .what = "address", .type = OT_U64, .required = true,
		  .off = STP(mmio.addr) },
		{ .pos = 3, .what = "length", .type = OT_ACCESS_LEN, .required = true,
		  .off = STP(mmio.len) },
		{ .key = "expect", .type = OT_ENUM, .choices = expect_mmio,
		  .base = EXPECT_UNHANDLED, .num_off = STP(mmio.val),
		  .num_tag = EXPECT_VALUE,
		  .off = STP(mmio.expect) },
		{ .key = "mask", .type = OT_U64, .dflt = ~0ULL, .off = STP(mmio.mask) },
		VCPU_OPT(STP(mmio.vcpu)) } },
	{ STEP("ring", STEP_DOORBELL), .needs = NEED_DOORBELL, .opts = {
		{ .pos = 1, .type = OT_PORT, .required = true, .what = "port name",
		  .off = STP(raise.target) },
		VCPU_OPT(STP(raise.vcpu)) } },
	{ STEP("send", STEP_SEND), .opts = {
		{ .pos = 1, .type = OT_PORT, .required = true, .what = "port name",
		  .off = STP(raise.target) },
		VCPU_OPT(STP(raise.vcpu)) } },
	{ STEP("setspi", STEP_SETSPI), .needs = NEED_GIC, .opts = {
		{ .pos = 1, .what = "INTID", .type = OT_SPI, .required = true,
		  .min = 32, .off = STP(raise.target) },
		VCPU_OPT(STP(raise.vcpu)) } },
	{ STEP("wait", STEP_WAIT), .finish = fin_wait, .opts = {
		{ .key = "port", .type = OT_PORT, .off = STP(wait.port) },
		{ .key = "spi", .type = OT_SPI, .min = 32, .off = STP(wait.spi) },
		{ .key = "timeout", .type = OT_DURATION, .dflt = SEC,
		  .off = STP(wait.timeout_ns) } } },
	{ STEP("check-gic", STEP_CHECK_GIC), .needs = NEED_GIC },
	{ STEP("fire-msix", STEP_FIRE_MSIX), .finish = fin_fire, .opts = {
		{ .pos = 1, .what = "device name", .type = OT_VFIO, .required = true,
		  .off = STP(fire.dev) },
		{ .key = "vector", .type = OT_U32, .required = true, .max = MAX_VEC - 1,
		  .off = STP(fire.vector) },
		{ .key = "count", .type = OT_U32, .dflt = 1, .min = 1, .max = 10000,
		  .off = STP(fire.count) },
		{ .key = "masked", .type = OT_FLAG, .off = STP(fire.masked) },
		{ .key = "timeout", .type = OT_DURATION, .dflt = 2 * SEC,
		  .off = STP(fire.timeout_ns) } } },
	{ STEP("live-update", STEP_LIVE_UPDATE), .finish = fin_update, .opts = {
		{ .pos = 1, .what = "device name", .type = OT_VFIO,
		  .off = STP(update.dev) },
		{ .key = "vector", .type = OT_U32, .max = MAX_VEC - 1,
		  .off = STP(update.vector) },
		{ .key = "count", .type = OT_U32, .dflt = 1, .min = 1, .max = 1000,
		  .off = STP(update.count) } } },
	{ STEP("msix-page", STEP_MSIX_PAGE), .finish = fin_msix_page, .opts = {
		{ .pos = 1, .what = "device name", .type = OT_VFIO, .required = true,
		  .off = STP(page.dev) },
		{ .key = "offset", .type = OT_U64, .required = true, .max = 0xffc,
		  .off = STP(page.offset) } } },
	{ STEP("iommu-map", STEP_IOMMU_MAP), .finish = fin_iommu_step, .opts = {
		IOMMU_RANGE_OPTS,
		{ .key = "ro", .type = OT_FLAG, .off = STP(iommu.ro) } } },
	{ STEP("iommu-unmap", STEP_IOMMU_UNMAP), .finish = fin_iommu_step, .opts = {
		IOMMU_RANGE_OPTS } },
	{ STEP("dma", STEP_DMA), .finish = fin_dma, .opts = {
		{ .pos = 1, .what = "device name", .type = OT_IOMMU, .required = true,
		  .off = STP(dma.dev) },
		{ .key = "from", .type = OT_U64, .required = true, .off = STP(dma.from) },
		{ .key = "to", .type = OT_U64, .required = true, .off = STP(dma.to) },
		{ .key = "len", .type = OT_U64, .required = true, .min = 1, .max = 2048,
		  .off = STP(dma.len) },
		{ .key = "expect", .type = OT_ENUM, .required = true,
		  .choices = expect_dma, .base = DMA_LANDS, .off = STP(dma.expect) } } },
	{ STEP("mem", STEP_MEM_WRITE), .sub = "write", .finish = fin_mem, .opts = {
		{ .pos = 2, .what = "address", .type = OT_U64, .required = true,
		  .off = STP(mmio.addr) },
		{ .pos = 3, .what = "length", .type = OT_ACCESS_LEN, .required = true,
		  .off = STP(mmio.len) },
		{ .pos = 4, .what = "value", .type = OT_U64, .required = true,
		  .off = STP(mmio.val) } } },
	{ STEP("mem", STEP_MEM_READ), .sub = "read", .finish = fin_mem, .opts = {
		{ .pos = 2, .what = "address", .type = OT_U64, .required = true,
		  .off = STP(mmio.addr) },
		{ .pos = 3, .what = "length", .type = OT_ACCESS_LEN, .required = true,
		  .off = STP(mmio.len) },
		{ .key = "expect", .type = OT_U64, .required = true, .off = STP(mmio.val) } } },
	/* At most one: where `xvm-vmm migrate` hands the VM over. */
	{ STEP("migrate", STEP_MIGRATE), .once = true },
	{ STEP("signal", STEP_SIGNAL), .finish = fin_signal, .opts = {
		{ .pos = 1, .type = OT_PORT, .required = true, .what = "port name",
		  .off = STP(raise.target) } } },
	{ STEP("spi-line", STEP_SPI_LINE), .needs = NEED_GIC, .opts = {
		{ .pos = 1, .what = "INTID", .type = OT_U32, .required = true, .min = 32,
		  .dyn = DM_INTID, .off = STP(spi_line.intid) },
		{ .key = "level", .type = OT_U32, .required = true, .max = 1,
		  .off = STP(spi_line.level) } } },
	{ STEP("sleep", STEP_SLEEP), .opts = {
		{ .pos = 1, .what = "duration", .type = OT_DURATION, .required = true,
		  .off = STP(sleep.ns) } } },
};

/* ---- the driver ---- */

static const struct kw_desc *kw_find(struct parser *p)
{
	const struct kw_desc *k, *sub = NULL;

	for (k = keywords; k < keywords + ARRAY_SIZE(keywords); k++) {
		if (k->script != p->in_script || strcmp(k->name, p->key))
			continue;
		if (!k->sub)
			return k;
		sub = k;
		if (p->n && !p->val[0] && !strcmp(p->tok[0], k->sub)) {
			p->used[0] = true;
			return k;
		}
	}
	if (sub)
		perr(p, "%s: expected 'read' or 'write'", p->key);
	else
		perr(p, "unknown %s '%s'", p->in_script ? "step" : "key", p->key);
	return NULL;
}

static int kw_needs(struct parser *p, const struct kw_desc *k)
{
	static const char *const names[] = { "vcpus", "gic", "doorbell" };
	const struct vmm_config *c = p->c;
	unsigned int i, missing;
	int *first = &p->first[k - keywords];

	if (k->once && *first)
		return perr(p, "duplicate '%s' (first on line %d)", k->name, *first);
	*first = p->line;
	missing = k->needs & ((c->vcpus_line ? 0 : NEED_VCPUS) |
			      (c->gic.line ? 0 : NEED_GIC) |
			      (c->doorbell_line ? 0 : NEED_DOORBELL));
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(missing & (1u << i)))
			continue;
		if (i == 0)
			return perr(p, "%s: 'vcpus' must come first", k->name);
		return perr(p, p->in_script ? "%s: no '%s' declared" :
			    "%s: needs a '%s' line before it", k->name, names[i]);
	}
	return 0;
}

/* One line: find its keyword, walk its schema, run its hook. */
static int parse_line(struct parser *p)
{
	_Static_assert(ARRAY_SIZE(keywords) <= ARRAY_SIZE(p->first), "parser first[]");
	const struct kw_desc *k = kw_find(p);
	const struct opt_desc *o;
	void *obj;

	if (!k || kw_needs(p, k))
		return -1;
	p->kw = k;
	obj = k->slot(p);
	if (!obj)
		return -1;
	if (k->script)
		memset(obj, 0, sizeof(struct step));
	for (o = k->opts; o < k->opts + ARRAY_SIZE(k->opts) && (o->key || o->pos); o++)
		if (opt_parse(p, o, obj))
			return -1;
	if (leftovers(p))
		return -1;
	if (k->finish ? k->finish(p, obj) : k->script ? fin_step(p, obj) : 0)
		return -1;
	if (k->line_off)
		*(int *)((char *)p->c + k->line_off) = p->line;
	return 0;
}

/* Splits buf into the keyword and its words (key=value split at '='). */
static int tokenize(struct parser *p, char *buf)
{
	char *s, *save, *eq;

	p->key = strtok_r(buf, " \t\r\n", &save);
	memset(p->used, 0, sizeof(p->used));
	for (p->n = 0; p->key && (s = strtok_r(NULL, " \t\r\n", &save)); p->n++) {
		if (p->n == MAX_TOKS)
			return perr(p, "%s: too many words", p->key);
		p->tok[p->n] = s;
		eq = strchr(s, '=');
		p->val[p->n] = eq ? eq + 1 : NULL;
		if (!eq)
			continue;
		*eq = 0;
		if (!*s)
			return perr(p, "%s: '=%s' has no key", p->key, eq + 1);
	}
	return 0;
}

/* One line of the file: comments off, the text kept for the step's log. */
static int read_line(struct parser *p, char *buf, size_t len, bool eof)
{
	struct vmm_config *c = p->c;
	unsigned int steps = c->nr_steps;
	char text[160], *s;

	p->line++;
	if (!strchr(buf, '\n') && !eof)
		return perr(p, "line too long (max %zu characters)", len - 2);
	s = strchr(buf, '#');
	if (s)
		*s = 0;
	s = buf + strspn(buf, " \t\r\n");
	snprintf(text, sizeof(text), "%s", s);
	text[strcspn(text, "\r\n")] = 0;
	if (tokenize(p, buf))
		return -1;
	if (!p->key)
		return 0;
	if (parse_line(p))
		return -1;
	if (c->nr_steps > steps)
		snprintf(c->steps[steps].text, sizeof(c->steps[0].text), "%s", text);
	return 0;
}

static int parse_file(struct parser *p, FILE *f)
{
	char buf[512];

	while (fgets(buf, sizeof(buf), f))
		if (read_line(p, buf, sizeof(buf), feof(f)))
			return -1;
	if (!p->c->vcpus_line || !p->c->memory_line) {
		p->line++;
		return perr(p, "missing '%s' (every config declares vcpus and memory)",
			    p->c->vcpus_line ? "memory" : "vcpus");
	}
	return 0;
}

/* Parses f (NULL: report that path cannot be opened) as path. */
static const struct vmm_config *config_parse_file(const char *path, FILE *f)
{
	static struct vmm_config cfg;
	struct parser p = { .c = &cfg };
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.path = path;
	cfg.file = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	rc = parse_file(&p, f);
	fclose(f);
	if (!cfg.vm_id)
		cfg.vm_id = 1;
	return rc ? NULL : &cfg;
}

const struct vmm_config *config_parse(const char *path)
{
	return config_parse_file(path, fopen(path, "r"));
}

const struct vmm_config *config_parse_text(const char *name, const char *text,
					   size_t len)
{
	return config_parse_file(name, fmemopen((void *)text, len, "r"));
}
