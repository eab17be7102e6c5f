// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-state-fuzz's mutator: hostile variants of a valid state file
 * (docs/state-file.md) that get past the checksum to the parsers.
 *
 * A variant is one of three kinds, drawn from its own generator
 * (seed, index):
 *
 *   json   the file parsed with json-c, then 1-3 edits at nodes found by a
 *          random walk from the root (so each member of an object is as
 *          likely as any other, however long the arrays beside it):
 *          boundary numbers, numbers next to the saved one (also at an
 *          integer field drawn uniformly among the file's distinct fields,
 *          vgic.vcpus[].cpuif.pmr as likely as memory.pages[].offset),
 *          other types,
 *          deleted / unknown / duplicated / reordered members, arrays
 *          emptied, grown or shuffled, strings with NUL, hostile bytes or a
 *          MiB long, deep nesting, swapped values and sections, other group
 *          versions, broken base64 pages, and edits of the saved config's
 *          text (which restore parses and builds a VM from); written back in
 *          xvm-vmm's canonical layout.  Literals json-c cannot make (2^64,
 *          1e400, "-0", "\ud800", duplicate keys) go in as markers replaced
 *          in the text afterwards.
 *   bytes  the file's bytes: truncated at a structural boundary, bits
 *          flipped, hostile bytes inserted, ranges deleted or repeated.
 *   csum   a valid or edited body with the checksum line itself wrong.
 *
 * The checksum is recomputed over the edited body (state-csum.h) except in
 * one variant in eight and in the csum kind, so most variants reach the
 * group parsers and the VM.
 */
#define _GNU_SOURCE
#include <json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state-mutate.h"
#include "vmm/state-csum.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_RAW		8
#define MAX_GROW	4096	/* elements an array may grow to */

uint64_t sm_next(struct sm_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t sm_below(struct sm_rng *r, uint64_t n)
{
	return sm_next(r) % n;
}

void sm_put(struct sm_buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

void sm_puts(struct sm_buf *b, const char *s)
{
	sm_put(b, s, strlen(s));
}

/* One variant being made: its generator, raw-text markers, description. */
struct mut {
	struct sm_rng rng;
	json_object *root;
	char *raw[MAX_RAW];	/* text for marker "@@XVMRAW<i>@@" */
	unsigned int nr_raw;
	char *what;
	size_t whatlen;
};

static void say(struct mut *m, const char *fmt, ...)
{
	size_t n = strlen(m->what);
	va_list ap;

	if (n + 2 >= m->whatlen)
		return;
	if (n)
		m->what[n++] = ' ';
	va_start(ap, fmt);
	vsnprintf(m->what + n, m->whatlen - n, fmt, ap);
	va_end(ap);
}

static uint64_t pick(struct mut *m, uint64_t n)
{
	return sm_below(&m->rng, n);
}

/* A string value that the text will hold as raw (unquoted) text. */
static json_object *raw_json(struct mut *m, const char *fmt, ...)
{
	char marker[32], *text;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (rc < 0 || m->nr_raw == MAX_RAW) {
		if (rc >= 0)
			free(text);
		return json_object_new_null();
	}
	snprintf(marker, sizeof(marker), "@@XVMRAW%u@@", m->nr_raw);
	m->raw[m->nr_raw++] = text;
	return json_object_new_string(marker);
}

/* ---- where: a node reached by a random walk ---- */

struct node {
	json_object *parent;	/* an object or an array */
	const char *key;	/* in an object */
	size_t idx;		/* in an array */
	json_object *v;
	char path[160];		/* for messages: cut at 100 per level */
};

static size_t children(json_object *o)
{
	if (json_object_is_type(o, json_type_object))
		return json_object_object_length(o);
	if (json_object_is_type(o, json_type_array))
		return json_object_array_length(o);
	return 0;
}

/* Child i of container o into n (parent, key/index, value, path). */
static void child(json_object *o, size_t i, struct node *n)
{
	char path[sizeof(n->path)];
	size_t k = 0;

	snprintf(path, sizeof(path), "%s", n->path);
	n->parent = o;
	if (json_object_is_type(o, json_type_array)) {
		n->key = NULL;
		n->idx = i;
		n->v = json_object_array_get_idx(o, i);
		snprintf(n->path, sizeof(n->path), "%.100s[%zu]", path, i);
		return;
	}
	json_object_object_foreach(o, key, val) {
		if (k++ != i)
			continue;
		n->key = key;
		n->v = val;
		snprintf(n->path, sizeof(n->path), "%.100s%s%.40s", path, *path ? "." : "", key);
		return;
	}
}

/*
 * From the root, a random child at each level, a container three times in
 * four where there is one (the header's scalars would take most edits
 * otherwise); stops at a container one time in four, or at a scalar;
 * leaf: goes on to a scalar.
 */
static void walk(struct mut *m, bool leaf, struct node *n)
{
	json_object *cur = m->root;
	char path[sizeof(n->path)];
	size_t c, tries;

	n->path[0] = 0;
	n->v = NULL;
	while ((c = children(cur)) > 0) {
		memcpy(path, n->path, sizeof(path));
		for (tries = 0; tries < 4; tries++) {
			memcpy(n->path, path, sizeof(path));
			child(cur, pick(m, c), n);
			if (children(n->v) || !pick(m, 4))
				break;
		}
		cur = n->v;
		if (!leaf && !pick(m, 4))
			break;
	}
	if (!n->v)	/* the root is empty: edit its (only) place */
		child(m->root, 0, n);
}

static void node_set(struct node *n, json_object *v)
{
	if (!n->parent) {
		json_object_put(v);
		return;
	}
	if (json_object_is_type(n->parent, json_type_object))
		json_object_object_add(n->parent, n->key, v);
	else
		json_object_array_put_idx(n->parent, n->idx, v);
	n->v = v;
}

static json_object *copy(json_object *v)
{
	json_object *c = NULL;

	if (!v)
		return json_object_new_null();
	if (json_object_deep_copy(v, &c, NULL))
		return json_object_new_null();
	return c;
}

/* ---- json edits ---- */

static const char *const edge_nums[] = {
	"0", "-1", "1", "2", "31", "32", "255", "256", "1023", "1024", "4095",
	"4096", "4097", "65535", "65536", "2147483647", "2147483648",
	"4294967295", "4294967296", "4503599627370496", "9223372036854775807",
	"9223372036854775808", "18446744073709551615", "18446744073709551616",
	"-2147483648", "-9223372036854775808", "-9223372036854775809",
	"99999999999999999999999999999", "1e300", "-1e300", "1e400", "0.5",
	"1.0", "-0", "1E2", "4096.0",
};

static const char *const bad_literals[] = {
	"01", "0x10", "+1", "NaN", "Infinity", "-", "1.", ".5", "1e", "nul",
	"tru", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\u00\"", "\"\\x41\"",
	"\"a\tb\"", "\"\\u0000\"", "'1'", "[1,]", "{\"a\":1,}", "[", "{",
};

static void num_edge(struct mut *m, struct node *n)
{
	const char *v = edge_nums[pick(m, ARRAY_SIZE(edge_nums))];

	say(m, "num_edge(%s=%s)", n->path, v);
	node_set(n, raw_json(m, "%s", v));
}

/* The saved number plus or minus a little: the range checks' edges. */
static void num_near(struct mut *m, struct node *n)
{
	static const int64_t delta[] = { -1, 1, -2, 2, 32, -32, 4096, -4096, 1 << 20 };
	uint64_t u;
	int64_t d;

	if (!json_object_is_type(n->v, json_type_int)) {
		say(m, "num_near(%s: not a number)", n->path);
		return num_edge(m, n);
	}
	u = json_object_get_int64(n->v) < 0 ? (uint64_t)json_object_get_int64(n->v) :
					       json_object_get_uint64(n->v);
	switch (pick(m, 4)) {
	case 0: u *= 2; break;
	case 1: u ^= 1ull << pick(m, 64); break;
	case 2: u = pick(m, 8); break;
	default:
		d = delta[pick(m, ARRAY_SIZE(delta))];
		if (d < 0 && u < (uint64_t)-d) {
			say(m, "num_near(%s=%lld)", n->path, (long long)(u + d));
			return node_set(n, raw_json(m, "%lld", (long long)(u + d)));
		}
		u += d;
	}
	say(m, "num_near(%s=%llu)", n->path, (unsigned long long)u);
	node_set(n, raw_json(m, "%llu", (unsigned long long)u));
}

static void op_num_edge(struct mut *m)
{
	struct node n;

	walk(m, true, &n);
	num_edge(m, &n);
}

static void op_num_near(struct mut *m)
{
	struct node n;

	walk(m, true, &n);
	num_near(m, &n);
}

/* ---- every integer field, each as likely as any other ---- */

struct leaf {
	struct node n;
	unsigned int shape;	/* its path without array indices, numbered */
};

static struct {
	struct leaf *l;
	size_t nr, cap;
	char shapes[128][96];
	unsigned int nr_shapes;
} fields;

static unsigned int shape_id(const char *shape)
{
	unsigned int i;

	for (i = 0; i < fields.nr_shapes; i++)
		if (!strcmp(fields.shapes[i], shape))
			return i;
	if (fields.nr_shapes == ARRAY_SIZE(fields.shapes))
		return 0;
	snprintf(fields.shapes[i], sizeof(fields.shapes[i]), "%s", shape);
	return fields.nr_shapes++;
}

/* The integer leaves below o (shape: o's path without indices). */
static void collect(json_object *o, const char *path, const char *shape)
{
	char sub[96];
	struct node n;
	size_t i, c = children(o);

	for (i = 0; i < c; i++) {
		snprintf(n.path, sizeof(n.path), "%.100s", path);
		child(o, i, &n);
		snprintf(sub, sizeof(sub), "%.60s%s%.30s", shape,
			 n.key && *shape ? "." : "", n.key ? n.key : "[]");
		if (children(n.v)) {
			collect(n.v, n.path, sub);
			continue;
		}
		if (!json_object_is_type(n.v, json_type_int))
			continue;
		if (fields.nr == fields.cap) {
			fields.cap = fields.cap ? 2 * fields.cap : 256;
			fields.l = realloc(fields.l, fields.cap * sizeof(*fields.l));
			if (!fields.l)
				abort();
		}
		fields.l[fields.nr++] = (struct leaf){ .n = n, .shape = shape_id(sub) };
	}
}

/* A field (vgic.vcpus[].cpuif.pmr...) at random, then one of its values. */
static void op_field(struct mut *m)
{
	unsigned int shape;
	size_t i, k, nr = 0;

	fields.nr = fields.nr_shapes = 0;
	collect(m->root, "", "");
	if (!fields.nr)
		return op_num_edge(m);
	shape = pick(m, fields.nr_shapes);
	for (i = 0; i < fields.nr; i++)
		nr += fields.l[i].shape == shape;
	k = pick(m, nr ? nr : 1);
	for (i = 0; i < fields.nr; i++)
		if (fields.l[i].shape == shape && !k--)
			break;
	if (i == fields.nr)
		return op_num_edge(m);
	if (pick(m, 2))
		num_edge(m, &fields.l[i].n);
	else
		num_near(m, &fields.l[i].n);
}

static void op_type(struct mut *m)
{
	static const char *const types[] = {
		"\"\"", "\"0\"", "\"1\"", "true", "false", "null", "{}", "[]", "[0]",
		"{\"version\":1}", "[[]]", "[{}]",
	};
	const char *t = types[pick(m, ARRAY_SIZE(types))];
	struct node n;

	walk(m, false, &n);
	say(m, "type(%s=%s)", n.path, t);
	node_set(&n, raw_json(m, "%s", t));
}

static void op_literal(struct mut *m)
{
	const char *t = bad_literals[pick(m, ARRAY_SIZE(bad_literals))];
	struct node n;

	walk(m, true, &n);
	say(m, "literal(%s=%s)", n.path, t);
	node_set(&n, raw_json(m, "%s", t));
}

static void op_delete(struct mut *m)
{
	struct node n;

	walk(m, false, &n);
	say(m, "delete(%s)", n.path);
	if (!n.parent)
		return;
	if (n.key)
		json_object_object_del(n.parent, n.key);
	else
		json_object_array_del_idx(n.parent, n.idx, 1);
}

/* An unknown member, or a second member of the same name. */
static void op_member(struct mut *m)
{
	struct node n;
	json_object *o;

	walk(m, false, &n);
	o = json_object_is_type(n.v, json_type_object) ? n.v : n.parent;
	if (!json_object_is_type(o, json_type_object) || !n.key || pick(m, 2)) {
		say(m, "unknown_member(%s)", n.path);
		json_object_object_add(o && json_object_is_type(o, json_type_object) ?
				       o : m->root, pick(m, 2) ? "fuzz" : "", copy(n.v));
		return;
	}
	say(m, "dup_member(%s)", n.path);
	o = raw_json(m, "\"%s\"", n.key);	/* the key, quoted */
	json_object_object_add(n.parent, json_object_get_string(o),
			       pick(m, 2) ? copy(n.v) : raw_json(m, "%s", edge_nums[pick(m, 8)]));
	json_object_put(o);
}

/* An object's members in another order (the reader must not care). */
static void op_reorder(struct mut *m)
{
	json_object *o = NULL, *fresh = json_object_new_object();
	struct node n;
	size_t c, i, k;

	walk(m, false, &n);
	o = json_object_is_type(n.v, json_type_object) ? n.v : n.parent;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(fresh);
		return op_delete(m);
	}
	say(m, "reorder(%s)", n.path);
	c = json_object_object_length(o);
	for (i = 0; i < c; i++) {
		k = c - 1 - i;	/* reversed, then one more swap */
		child(o, k, &n);
		json_object_object_add(fresh, n.key, copy(n.v));
	}
	while (json_object_object_length(o)) {
		child(o, 0, &n);
		json_object_object_del(o, n.key);
	}
	json_object_object_foreach(fresh, key, val)
		json_object_object_add(o, key, json_object_get(val));
	json_object_put(fresh);
}

/* An array emptied, grown, cut, shuffled (found from a random node up). */
static void op_array(struct mut *m)
{
	json_object *a;
	struct node n;
	size_t len, i, to;

	walk(m, false, &n);
	a = json_object_is_type(n.v, json_type_array) ? n.v : n.parent;
	if (!json_object_is_type(a, json_type_array))
		return op_type(m);
	len = json_object_array_length(a);
	switch (len ? pick(m, 5) : 0) {
	case 0:
		to = (size_t[]){ 1, 2, 31, 33, 64, 257, 1025, 2049, MAX_GROW }[pick(m, 9)];
		say(m, "array_grow(%s: %zu -> %zu)", n.path, len, len + to);
		for (i = 0; i < to && len + i < MAX_GROW; i++)
			json_object_array_add(a, len ? copy(json_object_array_get_idx(a, i % len)) :
						       raw_json(m, "%s", edge_nums[0]));
		break;
	case 1:
		say(m, "array_empty(%s)", n.path);
		json_object_array_del_idx(a, 0, len);
		break;
	case 2:
		i = pick(m, len);
		say(m, "array_drop(%s[%zu])", n.path, i);
		json_object_array_del_idx(a, i, 1);
		break;
	case 3:
		i = pick(m, len);
		to = pick(m, len);
		say(m, "array_swap(%s[%zu],[%zu])", n.path, i, to);
		n.v = json_object_get(json_object_array_get_idx(a, i));
		json_object_array_put_idx(a, i, copy(json_object_array_get_idx(a, to)));
		json_object_array_put_idx(a, to, n.v);
		break;
	default:
		say(m, "array_repeat(%s[0])", n.path);
		json_object_array_put_idx(a, len - 1, copy(json_object_array_get_idx(a, 0)));
	}
}

static const char *const known_strings[] = {
	"free", "unbound", "vcpu", "interdomain", "xvm-vm-state", "0000:00:03.0",
	"0000:00:04.0", "0000:00:1f.7", "nic", "e1000e", "edu", "gic.conf", ".", "..",
	"../etc/passwd", "/", "crc32:00000000", "A===", "====", "\xff\xfe", "\xc3\x28",
};

/* s (n bytes) with one edit, as a new string value. */
static json_object *str_edit(struct mut *m, const char *s, size_t n, const char **how)
{
	static const size_t longs[] = { 64, 255, 256, 257, 4096, 65536, 1 << 20, (1 << 20) + 1 };
	struct sm_buf b = { 0 };
	json_object *v;
	size_t i, at = n ? pick(m, n + 1) : 0, want;

	switch (pick(m, 5)) {
	case 0:
		*how = "nul";
		sm_put(&b, s, at);
		sm_put(&b, "", 1);
		sm_put(&b, s + at, n - at);
		break;
	case 1:
		*how = "long";
		want = longs[pick(m, ARRAY_SIZE(longs))];
		for (i = 0; b.len < want; i++)
			sm_put(&b, n ? &s[i % n] : "A", 1);
		break;
	case 2:
		*how = "empty";
		sm_put(&b, "", 0);
		break;
	case 3:
		*how = "byte";
		sm_put(&b, s, n);
		if (n)
			b.p[pick(m, n)] = "\x01\x7f\x80\xff\"\\/=\n "[pick(m, 10)];
		break;
	default:
		*how = "known";
		sm_puts(&b, known_strings[pick(m, ARRAY_SIZE(known_strings))]);
	}
	v = json_object_new_string_len(b.p ? b.p : "", b.len);
	free(b.p);
	return v;
}

static void op_string(struct mut *m)
{
	const char *how = "";
	struct node n;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		walk(m, true, &n);
		if (json_object_is_type(n.v, json_type_string))
			break;
	}
	node_set(&n, str_edit(m, json_object_get_string(n.v) ? json_object_get_string(n.v) : "",
			      json_object_get_string_len(n.v), &how));
	say(m, "string_%s(%s)", how, n.path);
}

/* The member at a fixed path ("groups", "config", "text"), or NULL. */
static json_object *at_path(json_object *o, const char *const *keys)
{
	for (; *keys; keys++)
		if (!json_object_object_get_ex(o, *keys, &o))
			return NULL;
	return o;
}

static const char *const config_lines[] = {
	"vcpus 64", "vcpus 65", "vcpus 0", "memory 0", "memory 4G", "memory 4K",
	"memory 1M gpa=0xfffffffffff00000", "spi 1023 vcpu=0", "spi 31 vcpu=0",
	"spi 40 vcpu=63", "port zz vcpu=63", "port p0 vcpu=0", "doorbell 0xfffffffffffffffc",
	"vfio 0000:00:03.0 name=x", "vfio 0000:00:04.0 msix table=0x1000",
	"iommu 0000:00:04.0 name=y mirror", "iommu 0000:00:03.0",
	"gic dist=0x0 redist-region=0,0x0,64", "gic dist=0x8000000 redist-region=0,0x80a0000,1",
	"script", "check-gic", "mmio write 0x0 8 0xffffffffffffffff", "mmio read 0x8000000 3",
	"setspi 1023", "ring p9", "send 0", "fire-msix nic vector=2047",
	"iommu-map edu gpa=0x0 len=0", "dma edu from=0 to=0 len=2049 expect=lands",
	"msix-page nic offset=0xfffff", "# \xff\x01", "", "\t", "vcpus 1 extra",
};

static const char *const config_nums[] = {
	"0", "1", "63", "64", "65", "1023", "1024", "1025", "4096", "0x0", "0x1000",
	"0xfff", "0xffffffff", "0x100000000", "0xffffffffffffffff", "0x10000000000000000",
	"18446744073709551616", "-1", "4G", "0K", "1T", "16E", "0x", "9x",
};

/* The i-th line of text (n bytes): its start and length. */
static size_t line_at(const char *text, size_t n, size_t i, size_t *len)
{
	size_t at = 0, k = 0;
	const char *nl;

	while (k < i && (nl = memchr(text + at, '\n', n - at))) {
		at = nl - text + 1;
		k++;
	}
	nl = memchr(text + at, '\n', n - at);
	*len = (nl ? (size_t)(nl - text) : n) - at;
	return at;
}

/* A number token of the line (not a duration: a long wait is no hang). */
static bool num_token(struct mut *m, const char *l, size_t len, size_t *at, size_t *tl)
{
	size_t i, start = pick(m, len ? len : 1);

	if (len >= 5 && !strncmp(l, "sleep", 5))
		return false;
	for (i = start; i < len; i++) {
		if (!(l[i] >= '0' && l[i] <= '9') || (i && !strchr(" =,:", l[i - 1])))
			continue;
		if (i >= 8 && !strncmp(l + i - 8, "timeout=", 8))
			continue;
		*at = i;
		for (*tl = 0; i + *tl < len && !strchr(" ,:\t#", l[i + *tl]); (*tl)++)
			;
		return true;
	}
	return false;
}

/* One edit of the config text into b. */
static const char *config_edit(struct mut *m, const char *t, size_t n, struct sm_buf *b)
{
	size_t nl = 1, i, a, al, c, cl, at, tl;

	for (i = 0; i < n; i++)
		nl += t[i] == '\n';
	a = line_at(t, n, pick(m, nl), &al);
	c = line_at(t, n, pick(m, nl), &cl);
	switch (pick(m, 6)) {
	case 0:	/* delete line a */
		sm_put(b, t, a);
		sm_put(b, t + a + al, n - a - al);
		return "delete_line";
	case 1:	/* repeat line a */
		sm_put(b, t, a + al);
		sm_put(b, "\n", 1);
		sm_put(b, t + a, n - a);
		return "repeat_line";
	case 2:	/* line c instead of line a */
		sm_put(b, t, a);
		sm_put(b, t + c, cl);
		sm_put(b, t + a + al, n - a - al);
		return "copy_line";
	case 3:	/* a hostile line before line a */
		sm_put(b, t, a);
		sm_puts(b, config_lines[pick(m, ARRAY_SIZE(config_lines))]);
		sm_put(b, "\n", 1);
		sm_put(b, t + a, n - a);
		return "insert_line";
	case 4:
		sm_put(b, t, pick(m, n + 1));
		return "truncate";
	}
	for (i = 0; !num_token(m, t + a, al, &at, &tl); i++) {
		if (i == 8) {
			sm_put(b, t, n);
			return "no_number";
		}
		a = line_at(t, n, pick(m, nl), &al);
	}
	sm_put(b, t, a + at);
	sm_puts(b, config_nums[pick(m, ARRAY_SIZE(config_nums))]);
	sm_put(b, t + a + at + tl, n - a - at - tl);
	return "number";
}

/* The saved config's text: restore parses it and builds the VM it says. */
static void op_config(struct mut *m)
{
	static const char *const path[] = { "groups", "config", "text", NULL };
	json_object *text = at_path(m->root, path);
	struct sm_buf b = { 0 };
	const char *how;

	if (!json_object_is_type(text, json_type_string))
		return op_string(m);
	how = config_edit(m, json_object_get_string(text), json_object_get_string_len(text), &b);
	say(m, "config_%s", how);
	json_object_object_add(at_path(m->root, (const char *const[]){ "groups", "config", NULL }),
			       "text", json_object_new_string_len(b.p ? b.p : "", b.len));
	free(b.p);
}

/* A value nested 15-20 or 1000 levels deep (the reader allows 16). */
static void op_deep(struct mut *m)
{
	size_t depth = pick(m, 4) ? 14 + pick(m, 6) : 1000, i;
	bool obj = pick(m, 2);
	struct sm_buf b = { 0 };
	struct node n;

	for (i = 0; i < depth; i++)
		sm_puts(&b, obj ? "{\"a\":" : "[");
	sm_puts(&b, "0");
	for (i = 0; i < depth; i++)
		sm_puts(&b, obj ? "}" : "]");
	walk(m, false, &n);
	say(m, "deep(%s: %zu)", n.path, depth);
	node_set(&n, raw_json(m, "%s", b.p));
	free(b.p);
}

/* Two siblings (or two whole groups) swapped: right types, wrong places. */
static void op_swap(struct mut *m)
{
	static const char *const gpath[] = { "groups", NULL };
	json_object *g = at_path(m->root, gpath), *va, *vb;
	struct node a, b;

	if (pick(m, 2) && children(g) >= 2) {
		a.path[0] = 0;
		child(g, pick(m, children(g)), &a);
	} else {
		walk(m, false, &a);
	}
	if (!a.parent)
		return;
	b.path[0] = 0;	/* a sibling: its name alone */
	child(a.parent, pick(m, children(a.parent)), &b);
	if (a.v == b.v)
		return op_delete(m);
	say(m, "swap(%s,%s)", a.path, b.path);
	va = json_object_get(a.v);
	vb = json_object_get(b.v);
	node_set(&a, vb);
	node_set(&b, va);
}

/* A value from elsewhere in the file. */
static void op_copy(struct mut *m)
{
	struct node a, b;

	walk(m, false, &a);
	walk(m, false, &b);
	say(m, "copy(%s=%s)", a.path, b.path);
	node_set(&a, copy(b.v));
}

static void op_version(struct mut *m)
{
	static const char *const gpath[] = { "groups", NULL };
	static const char *const vers[] = { "0", "2", "7", "4294967297", "-1", "1.0", "\"1\"" };
	json_object *g = at_path(m->root, gpath);
	struct node n;

	if (!children(g))
		return op_num_edge(m);
	n.path[0] = 0;
	child(g, pick(m, children(g)), &n);
	if (!json_object_is_type(n.v, json_type_object))
		return op_num_edge(m);
	say(m, "group_version(%s)", n.path);
	json_object_object_add(n.v, "version", raw_json(m, "%s", vers[pick(m, ARRAY_SIZE(vers))]));
}

/* A memory page's base64 a little off: length, padding, alphabet. */
static void op_base64(struct mut *m)
{
	static const char *const path[] = { "groups", "memory", "pages", NULL };
	json_object *a = at_path(m->root, path), *pg, *data;
	struct sm_buf b = { 0 };
	const char *s;
	size_t n, at;

	if (!json_object_is_type(a, json_type_array) || !json_object_array_length(a))
		return op_string(m);
	pg = json_object_array_get_idx(a, pick(m, json_object_array_length(a)));
	if (!json_object_object_get_ex(pg, "data", &data) ||
	    !json_object_is_type(data, json_type_string))
		return op_string(m);
	s = json_object_get_string(data);
	n = json_object_get_string_len(data);
	at = n ? pick(m, n) : 0;
	switch (pick(m, 4)) {
	case 0:
		sm_put(&b, s, n - (n ? 1 + pick(m, n < 4 ? n : 4) : 0));
		break;
	case 1:
		sm_put(&b, s, n);
		sm_put(&b, "====", 1 + pick(m, 4));
		break;
	default:
		sm_put(&b, s, n);
		if (n)
			b.p[at] = "=-_.*\x80 A"[pick(m, 8)];
	}
	say(m, "base64(%zu -> %zu bytes)", n, b.len);
	json_object_object_add(pg, "data", json_object_new_string_len(b.p ? b.p : "", b.len));
	free(b.p);
}

/* The json edits, as data: weight, function. */
static const struct {
	unsigned int weight;
	void (*fn)(struct mut *m);
} json_ops[] = {
	{ 4, op_num_edge }, { 4, op_num_near }, { 8, op_field }, { 3, op_type },
	{ 2, op_literal },
	{ 3, op_delete }, { 3, op_member }, { 1, op_reorder }, { 4, op_array },
	{ 4, op_string }, { 6, op_config }, { 1, op_deep }, { 2, op_swap },
	{ 2, op_copy }, { 2, op_version }, { 2, op_base64 },
};

static void json_edit(struct mut *m)
{
	unsigned int total = 0, i, w;

	for (i = 0; i < ARRAY_SIZE(json_ops); i++)
		total += json_ops[i].weight;
	w = pick(m, total);
	for (i = 0; w >= json_ops[i].weight; i++)
		w -= json_ops[i].weight;
	json_ops[i].fn(m);
}

/* The document as xvm-vmm lays it out, markers replaced, up to the checksum. */
static void render(struct mut *m, struct sm_buf *body)
{
	const char *s = json_object_to_json_string_ext(m->root, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	const char *p;
	unsigned int k;
	size_t n;

	while ((p = strstr(s, "\"@@XVMRAW"))) {
		sm_put(body, s, p - s);
		if (sscanf(p, "\"@@XVMRAW%u@@\"", &k) == 1 && k < m->nr_raw)
			sm_puts(body, m->raw[k]);
		s = strstr(p + 1, "@@\"");
		s = s ? s + 3 : p + strlen(p);
	}
	sm_puts(body, s);
	n = body->len;
	if (n >= 2 && !strcmp(body->p + n - 2, "\n}")) {
		body->len -= 2;
		sm_puts(body, ",\n");
	}
}

/* Appends the checksum line of body (its first len bytes). */
static void put_csum(struct sm_buf *b, size_t len)
{
	char tail[STATE_CSUM_LEN + 1];

	snprintf(tail, sizeof(tail), STATE_CSUM_HEAD "%08x" STATE_CSUM_TAIL,
		 state_crc32(b->p, len));
	sm_puts(b, tail);
}

static void json_kind(struct mut *m, const char *base, struct sm_buf *body)
{
	unsigned int i, n = 1 + pick(m, 3);

	m->root = json_tokener_parse(base);
	if (!json_object_is_type(m->root, json_type_object)) {
		json_object_put(m->root);
		m->root = json_object_new_object();
	}
	json_object_object_del(m->root, "checksum");
	for (i = 0; i < n; i++)
		json_edit(m);
	render(m, body);
	json_object_put(m->root);
	m->root = NULL;
}

/* The file cut at a structural boundary (a brace, comma, quote, line end). */
static void truncate_at(struct mut *m, const char *base, size_t len, struct sm_buf *out)
{
	size_t i, nr = 0, k;

	for (i = 0; i < len; i++)
		nr += !!strchr("{}[],:\"\n", base[i]);
	k = nr ? pick(m, nr) : 0;
	for (i = 0; i < len && k; i++)
		k -= !!strchr("{}[],:\"\n", base[i]);
	i += pick(m, 2);	/* before or after it */
	sm_put(out, base, i < len ? i : len);
	say(m, "bytes:truncate(%zu of %zu)", out->len, len);
}

/* The body's bytes: flips, hostile bytes, ranges gone or repeated. */
static void bytes_edit(struct mut *m, struct sm_buf *b)
{
	static const char hostile[] = "\0\"\\{}[],: \n-0e\x80\xff";
	size_t at = b->len ? pick(m, b->len) : 0, n, i, k = 1 + pick(m, 4);
	char ins, *tmp;

	switch (pick(m, 4)) {
	case 0:
		for (i = 0; i < k && b->len; i++)
			b->p[pick(m, b->len)] ^= 1 << pick(m, 8);
		say(m, "bytes:flip(%zu)", k);
		return;
	case 1:
		n = 1;
		ins = hostile[pick(m, sizeof(hostile) - 1)];
		tmp = &ins;
		say(m, "bytes:insert(%zu: 0x%02x)", at, (unsigned char)ins);
		break;
	case 2:
		n = 1 + pick(m, 16);
		n = at + n > b->len ? b->len - at : n;
		say(m, "bytes:delete(%zu+%zu)", at, n);
		memmove(b->p + at, b->p + at + n, b->len - at - n);
		b->len -= n;
		return;
	default:
		n = 1 + pick(m, 64);
		n = at + n > b->len ? b->len - at : n;
		tmp = b->p + at;
		say(m, "bytes:repeat(%zu+%zu)", at, n);
	}
	tmp = memcpy(malloc(n + 1), tmp, n);
	sm_put(b, tmp, n);	/* grow, then shift the tail right */
	memmove(b->p + at + n, b->p + at, b->len - n - at);
	memcpy(b->p + at, tmp, n);
	free(tmp);
}

/* The checksum line itself wrong (a body of len bytes in b). */
static void csum_edit(struct mut *m, struct sm_buf *b)
{
	size_t len = b->len, h = len + sizeof(STATE_CSUM_HEAD) - 1;

	put_csum(b, len);
	switch (pick(m, 8)) {
	case 0: b->p[h + pick(m, 8)] ^= 1; say(m, "csum:wrong"); break;
	case 1: memcpy(b->p + h, "ABCDEF01", 8); say(m, "csum:upper"); break;
	case 2: b->len = len; sm_puts(b, "}\n"); say(m, "csum:missing"); break;
	case 3: sm_puts(b, pick(m, 2) ? "\n" : " "); say(m, "csum:trailing"); break;
	case 4: b->len--; say(m, "csum:no_newline"); break;
	case 5: memmove(b->p + h + 7, b->p + h + 8, b->len - h - 8); b->len--;
		say(m, "csum:7_digits"); break;
	case 6: memcpy(b->p + h - 6, "crc64", 5); say(m, "csum:crc64"); break;
	default: put_csum(b, b->len); say(m, "csum:twice");
	}
	b->p[b->len] = 0;
}

void sm_mutate(uint64_t seed, uint64_t index, const char *base, size_t len,
	       struct sm_buf *out, char *what, size_t whatlen)
{
	struct mut m = { .rng = { seed ^ (index * 0xd1342543de82ef95ull) },
			 .what = what, .whatlen = whatlen };
	size_t body = len >= STATE_CSUM_LEN ? len - STATE_CSUM_LEN : len;
	unsigned int kind = pick(&m, 16), i;

	what[0] = 0;
	sm_next(&m.rng);
	out->len = 0;
	if (kind < 3) {
		truncate_at(&m, base, len, out);
		if (out->len < len && pick(&m, 2)) {	/* a sound line, a cut body */
			put_csum(out, out->len);
			say(&m, "crc:fixed");
		}
		return;
	}
	if (kind < 11)
		json_kind(&m, base, out);
	else
		sm_put(out, base, body);
	if (kind >= 11 && kind < 15)
		bytes_edit(&m, out);
	if (kind == 15 || (kind >= 11 && !pick(&m, 8)))
		csum_edit(&m, out);
	else if (pick(&m, 8))
		put_csum(out, out->len), say(&m, "crc:fixed");
	else
		put_csum(out, out->len), out->p[out->len - 6] ^= 1, say(&m, "crc:wrong");
	for (i = 0; i < m.nr_raw; i++)
		free(m.raw[i]);
}
