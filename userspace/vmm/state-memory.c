// SPDX-License-Identifier: GPL-2.0
/*
 * State group "memory" (version 1): the memory slots and the guest RAM in
 * them.  The VMM makes slot 0 from the config's memory line; the section
 * repeats its layout (checked against the config on restore) and holds the
 * contents as the 4 KiB pages that are not all zero, in address order, each
 * base64-encoded: a page not listed is zero.
 *
 *   "memory": { "version": 1,
 *               "slots": [ { "slot": 0, "gpa": 1073741824, "size": 1048576 } ],
 *               "page_size": 4096,
 *               "pages": [ { "offset": 4096, "data": "AAEC..." }, ... ] }
 *
 * offset is from the start of the slot, a multiple of page_size; data is
 * exactly one page.  Restore writes the pages into the fresh (zero) RAM
 * before any vCPU runs and before any device is hooked.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "state.h"

#define B64_PAGE	(4 * ((STATE_PAGE + 2) / 3))

static struct {
	size_t nr;
	uint64_t *offset;
	uint8_t *data;		/* nr pages */
} saved;

static bool page_zero(const uint8_t *p)
{
	unsigned int i;

	for (i = 0; i < STATE_PAGE; i += 8)
		if (*(const uint64_t *)(p + i))
			return false;
	return true;
}

static int memory_save(struct vm *vm, json_object *sec)
{
	const struct vmm_config *c = vm->cfg;
	json_object *slots = st_put_array(sec, "slots"), *slot, *pages;
	static char b64[B64_PAGE + 1];
	uint64_t off;

	slot = json_object_new_object();
	st_put_u64(slot, "slot", 0);
	st_put_u64(slot, "gpa", c->mem_gpa);
	st_put_u64(slot, "size", c->mem_size);
	json_object_array_add(slots, slot);
	st_put_u64(sec, "page_size", STATE_PAGE);
	pages = st_put_array(sec, "pages");
	for (off = 0; off + STATE_PAGE <= c->mem_size; off += STATE_PAGE) {
		const uint8_t *p = (const uint8_t *)vm->mem + off;
		json_object *pg;

		if (page_zero(p))
			continue;
		st_base64_encode(p, STATE_PAGE, b64);
		pg = json_object_new_object();
		st_put_u64(pg, "offset", off);
		st_put_str(pg, "data", b64, B64_PAGE);
		json_object_array_add(pages, pg);
	}
	return 0;
}

/* The one slot, as the config's memory line makes it. */
static int parse_slots(struct st_in *in, json_object *sec)
{
	static const char *const keys[] = { "slot", "gpa", "size", NULL };
	const struct vmm_config *c = in->cfg;
	json_object *a, *e;
	uint64_t slot, gpa, size;
	size_t n;

	if (st_array(in, sec, "slots", 1, 1, &a, &n))
		return -1;
	st_where(in, "memory.slots");
	if (st_elem(in, a, 0, keys, &e))
		return -1;
	st_where(in, "memory.slots[0]");
	if (st_u64(in, e, "slot", 0, 0, &slot) ||
	    st_u64(in, e, "gpa", 0, (1ULL << 52) - 1, &gpa) ||
	    st_u64(in, e, "size", STATE_PAGE, 1ULL << 32, &size))
		return -1;
	if (gpa != c->mem_gpa || size != c->mem_size)
		return st_err(in, "0x%llx bytes at 0x%llx, but the saved config's memory line "
			      "says 0x%llx at 0x%llx", (unsigned long long)size,
			      (unsigned long long)gpa, (unsigned long long)c->mem_size,
			      (unsigned long long)c->mem_gpa);
	return 0;
}

static int parse_page(struct st_in *in, json_object *a, size_t i, uint64_t min)
{
	static const char *const keys[] = { "offset", "data", NULL };
	json_object *e;
	const char *s;
	size_t len;

	st_where(in, "memory.pages");
	if (st_elem(in, a, i, keys, &e))
		return -1;
	st_where(in, "memory.pages[%zu]", i);
	if (st_u64(in, e, "offset", min, in->cfg->mem_size - STATE_PAGE,
		   &saved.offset[i]) ||
	    st_str(in, e, "data", B64_PAGE, &s, &len))
		return -1;
	if (saved.offset[i] % STATE_PAGE)
		return st_err(in, "'offset' = 0x%llx is not a multiple of %u",
			      (unsigned long long)saved.offset[i], STATE_PAGE);
	if (st_base64_decode(s, len, saved.data + i * STATE_PAGE, STATE_PAGE))
		return st_err(in, "'data' is not one page in base64 (%zu characters, "
			      "expected %u)", len, B64_PAGE);
	return 0;
}

static int memory_parse(struct st_in *in, json_object *sec)
{
	static const char *const keys[] = {
		"version", "slots", "page_size", "pages", NULL,
	};
	uint64_t psize, min = 0;
	json_object *a;
	size_t i;

	if (st_keys(in, sec, keys) || parse_slots(in, sec))
		return -1;
	st_where(in, "memory");
	if (st_u64(in, sec, "page_size", STATE_PAGE, STATE_PAGE, &psize) ||
	    st_array(in, sec, "pages", 0, in->cfg->mem_size / STATE_PAGE, &a, &saved.nr))
		return -1;
	saved.offset = calloc(saved.nr + 1, sizeof(*saved.offset));
	saved.data = malloc((saved.nr + 1) * STATE_PAGE);
	if (!saved.offset || !saved.data)
		return st_err(in, "out of memory for %zu pages", saved.nr);
	for (i = 0; i < saved.nr; i++) {
		if (parse_page(in, a, i, min))
			return -1;
		min = saved.offset[i] + STATE_PAGE;	/* increasing, no repeat */
	}
	return 0;
}

static int memory_restore(struct vm *vm)
{
	size_t i;

	for (i = 0; i < saved.nr; i++)
		memcpy((uint8_t *)vm->mem + saved.offset[i], saved.data + i * STATE_PAGE,
		       STATE_PAGE);
	created("guest memory: %zu non-zero page(s) of %llu restored", saved.nr,
		(unsigned long long)(vm->cfg->mem_size / STATE_PAGE));
	return 0;
}

const struct state_group state_memory_group = {
	.name = "memory", .version = 1,
	.save = memory_save, .parse = memory_parse, .restore = memory_restore,
};
