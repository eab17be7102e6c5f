// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-vmm save / restore: the state file (docs/state-file.md), written and
 * read with json-c.
 *
 *   xvm-vmm save CONFIG FILE      build the VM, run the script, stop the
 *                                 vCPU threads, write FILE
 *   xvm-vmm restore FILE [--save FILE2] [--check]
 *                                 read and check all of FILE, build a fresh
 *                                 VM from its config, restore each group in
 *                                 table order, optionally save again (before
 *                                 any vCPU runs), start the vCPUs and, with
 *                                 --check, run the config's script on it
 *
 * The file is one JSON object: "format", "format_version", "xvm_version",
 * "groups" (one section per entry of state_groups[], each with its own
 * "version") and, last, "checksum": the CRC-32 of every byte before the
 * checksum line.  The writer is canonical - members in a fixed order,
 * json-c's pretty layout, no time or host-specific value - so saving a
 * restored VM gives the same bytes.
 *
 * Reading checks, in order: size, JSON syntax (truncation), the format name
 * and version, the checksum, the group names and versions, the required
 * groups, then every group's values (state.h: parse) - all before any VM
 * exists.  Exit status: 0 done (and every check held), 1 setup, kernel
 * refusal or a check failed, 2 usage error or a bad state file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "state-csum.h"

#ifndef XVM_VERSION_STRING
#define XVM_VERSION_STRING "unknown"
#endif

/*
 * The groups, in save and restore order: "vgic-sysregs" after "vgic" (the
 * CPU interfaces and line levels once the GIC is configured), "evtchn-table"
 * last (it replaces the ports the setup made, after every group that may
 * raise one), "iommu" after "memory" (its maps pin the restored pages).
 * New state is a new entry and a new section; format version unchanged.
 */
static const struct state_group *const state_groups[] = {
	&state_config_group,
	&state_memory_group,
	&state_vgic_group,
	&state_vgic_sysregs_group,
	&state_msix_group,
	&state_iommu_group,
	&state_evtchn_table_group,
	&state_script_group,
};

/* Groups older files have, which this VMM no longer reads: what replaced them. */
static const struct {
	const char *name, *by;
} retired_groups[] = {
	{ "evtchn", "evtchn-table" },
};

/* ---- reading helpers ---- */

int st_err(struct st_in *in, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s%s", in->file, in->where, in->where[0] ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

void st_where(struct st_in *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->where, sizeof(in->where), fmt, ap);
	va_end(ap);
}

int st_keys(struct st_in *in, json_object *o, const char *const *keys)
{
	unsigned int i;

	if (!json_object_is_type(o, json_type_object))
		return st_err(in, "not an object");
	json_object_object_foreach(o, key, val) {
		(void)val;
		for (i = 0; keys[i]; i++)
			if (!strcmp(key, keys[i]))
				break;
		if (!keys[i])
			return st_err(in, "unknown member '%s'", key);
	}
	return 0;
}

int st_member(struct st_in *in, json_object *o, const char *key,
	      enum json_type t, json_object **out)
{
	if (!json_object_object_get_ex(o, key, out))
		return st_err(in, "'%s' missing", key);
	if (!json_object_is_type(*out, t))
		return st_err(in, "'%s' is %s, not %s", key,
			      json_type_to_name(json_object_get_type(*out)),
			      json_type_to_name(t));
	return 0;
}

/* An integer value 0..UINT64_MAX (what json-c can hold) in min..max. */
static int st_int(struct st_in *in, json_object *v, const char *what,
		  uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t u;

	if (!json_object_is_type(v, json_type_int))
		return st_err(in, "%s is %s, not an integer", what,
			      json_type_to_name(json_object_get_type(v)));
	if (json_object_get_int64(v) < 0)
		return st_err(in, "%s = %lld is negative", what,
			      (long long)json_object_get_int64(v));
	u = json_object_get_uint64(v);
	if (u < min || u > max)
		return st_err(in, "%s = %llu out of range (%llu..%llu)", what,
			      (unsigned long long)u, (unsigned long long)min,
			      (unsigned long long)max);
	*out = u;
	return 0;
}

int st_u64(struct st_in *in, json_object *o, const char *key, uint64_t min,
	   uint64_t max, uint64_t *out)
{
	char what[64];
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return st_err(in, "'%s' missing", key);
	snprintf(what, sizeof(what), "'%s'", key);
	return st_int(in, v, what, min, max, out);
}

int st_u32(struct st_in *in, json_object *o, const char *key, uint32_t min,
	   uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (st_u64(in, o, key, min, max, &v))
		return -1;
	*out = v;
	return 0;
}

int st_bool(struct st_in *in, json_object *o, const char *key, bool *out)
{
	json_object *v;

	if (st_member(in, o, key, json_type_boolean, &v))
		return -1;
	*out = json_object_get_boolean(v);
	return 0;
}

int st_str(struct st_in *in, json_object *o, const char *key, size_t max,
	   const char **out, size_t *len)
{
	json_object *v;
	size_t n;

	if (st_member(in, o, key, json_type_string, &v))
		return -1;
	n = json_object_get_string_len(v);
	*out = json_object_get_string(v);
	if (n > max)
		return st_err(in, "'%s' is %zu bytes long (at most %zu)", key, n, max);
	if (strlen(*out) != n)
		return st_err(in, "'%s' contains a NUL character", key);
	*len = n;
	return 0;
}

int st_array(struct st_in *in, json_object *o, const char *key, size_t min,
	     size_t max, json_object **out, size_t *n)
{
	if (st_member(in, o, key, json_type_array, out))
		return -1;
	*n = json_object_array_length(*out);
	if (*n < min || *n > max)
		return st_err(in, "'%s' has %zu elements (expected %zu..%zu)", key, *n,
			      min, max);
	return 0;
}

int st_vcpus(struct st_in *in, json_object *sec,
	     int (*parse)(struct st_in *in, json_object *a, unsigned int i))
{
	unsigned int i, nr = in->cfg->vcpus;
	json_object *a;
	size_t n;

	if (st_array(in, sec, "vcpus", nr, nr, &a, &n))
		return -1;
	for (i = 0; i < nr; i++)
		if (parse(in, a, i))
			return -1;
	return 0;
}

int st_u32_array(struct st_in *in, json_object *o, const char *key, size_t n,
		 uint32_t max, uint32_t *out)
{
	json_object *a;
	char what[64];
	uint64_t v;
	size_t i, got;

	if (st_array(in, o, key, n, n, &a, &got))
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "'%s'[%zu]", key, i);
		if (st_int(in, json_object_array_get_idx(a, i), what, 0, max, &v))
			return -1;
		out[i] = v;
	}
	return 0;
}

int st_elem(struct st_in *in, json_object *a, size_t i, const char *const *keys,
	    json_object **out)
{
	*out = json_object_array_get_idx(a, i);
	if (!json_object_is_type(*out, json_type_object))
		return st_err(in, "[%zu] is not an object", i);
	return st_keys(in, *out, keys);
}

/* ---- writing helpers ---- */

void st_put_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

void st_put_bool(json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

void st_put_str(json_object *o, const char *key, const char *s, size_t len)
{
	json_object_object_add(o, key, json_object_new_string_len(s, len));
}

json_object *st_put_obj(json_object *o, const char *key)
{
	json_object *n = json_object_new_object();

	json_object_object_add(o, key, n);
	return n;
}

json_object *st_put_array(json_object *o, const char *key)
{
	json_object *n = json_object_new_array();

	json_object_object_add(o, key, n);
	return n;
}

void st_put_u32_array(json_object *o, const char *key, const uint32_t *v, size_t n)
{
	json_object *a = st_put_array(o, key);
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_uint64(v[i]));
}

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void st_base64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 |
			     (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < len ? in[i + 2] : 0);

		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		*out++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		*out++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*out = 0;
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? p - b64 : -1;
}

int st_base64_decode(const char *s, size_t slen, uint8_t *out, size_t len)
{
	size_t i, o = 0;

	if (slen != 4 * ((len + 2) / 3))
		return -1;
	for (i = 0; i < slen; i += 4) {
		int a = b64_val(s[i]), b = b64_val(s[i + 1]);
		int c = s[i + 2] == '=' && o + 1 >= len ? 0 : b64_val(s[i + 2]);
		int d = s[i + 3] == '=' && o + 2 >= len ? 0 : b64_val(s[i + 3]);
		uint32_t v;

		if (a < 0 || b < 0 || c < 0 || d < 0)
			return -1;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
		out[o++] = v >> 16;
		if (o < len)
			out[o++] = v >> 8;
		if (o < len)
			out[o++] = v;
	}
	return 0;
}

/* ---- the file ---- */

static const struct state_group *group_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(state_groups); i++)
		if (!strcmp(state_groups[i]->name, name))
			return state_groups[i];
	return NULL;
}

static bool group_needed(const struct state_group *g, const struct vmm_config *c)
{
	return !g->needed || g->needed(c);
}

/* The document (without its checksum): one section per group this VM has. */
static json_object *state_build(struct vm *vm)
{
	json_object *root = json_object_new_object(), *groups;
	unsigned int i;
	int rc;

	json_object_object_add(root, "format", json_object_new_string(STATE_FORMAT));
	st_put_u64(root, "format_version", STATE_FORMAT_VERSION);
	json_object_object_add(root, "xvm_version",
			       json_object_new_string(XVM_VERSION_STRING));
	groups = st_put_obj(root, "groups");
	for (i = 0; i < ARRAY_SIZE(state_groups); i++) {
		const struct state_group *g = state_groups[i];
		json_object *sec;

		if (!group_needed(g, vm->cfg))
			continue;
		sec = st_put_obj(groups, g->name);
		st_put_u64(sec, "version", g->version);
		rc = g->save(vm, sec);
		if (rc > 0 && g->optional) {	/* nothing to say: no section */
			json_object_object_del(groups, g->name);
			continue;
		}
		if (rc) {
			errorf("save: group '%s' failed", g->name);
			json_object_put(root);
			return NULL;
		}
	}
	return root;
}

/* path.tmp, then renamed over path: a reader never sees half a file. */
static int write_file(const char *path, const char *buf, size_t len)
{
	char tmp[4096];
	int fd;
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fwrite(buf, 1, len, f) != len || fflush(f) ||
	    fsync(fileno(f))) {
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int state_serialize(struct vm *vm, char **buf, size_t *len)
{
	json_object *root = state_build(vm);
	const char *s;
	size_t n;

	if (!root)
		return -1;
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	n = strlen(s);
	/* "{\n ... \n}": the checksum member goes before the last brace. */
	*buf = n > 2 && !strcmp(s + n - 2, "\n}") ? malloc(n + STATE_CSUM_LEN + 1) : NULL;
	if (!*buf) {
		json_object_put(root);
		errorf("save: cannot lay out the state file");
		return -1;
	}
	memcpy(*buf, s, n - 2);
	memcpy(*buf + n - 2, ",\n", 3);
	json_object_put(root);
	snprintf(*buf + n, STATE_CSUM_LEN + 1, STATE_CSUM_HEAD "%08x" STATE_CSUM_TAIL,
		 state_crc32(*buf, n));
	*len = n + STATE_CSUM_LEN;
	return 0;
}

/* Writes vm's state to path; -1 with the error printed. */
int state_write(struct vm *vm, const char *path)
{
	size_t len;
	char *buf;
	int rc;

	if (state_serialize(vm, &buf, &len))
		return -1;
	rc = write_file(path, buf, len);
	if (rc)
		errorf("save: %s: %s", path, strerror(errno));
	else
		created("VM state written to %s (%zu bytes)", path, len);
	free(buf);
	return rc;
}

/* The whole file into *buf (NUL-terminated); -1 with the error printed. */
static int read_file(struct st_in *in, char **buf, size_t *len)
{
	struct stat sb;
	ssize_t n;
	size_t got = 0;
	int fd = open(in->file, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &sb)) {
		st_err(in, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		st_err(in, "not a regular file");
		goto fail;
	}
	if (sb.st_size > STATE_MAX_FILE) {
		st_err(in, "%lld bytes: larger than a state file can be (%u)",
		       (long long)sb.st_size, STATE_MAX_FILE);
		goto fail;
	}
	*buf = malloc(sb.st_size + 1);
	if (!*buf)
		goto fail;
	while (got < (size_t)sb.st_size &&
	       (n = read(fd, *buf + got, sb.st_size - got)) > 0)
		got += n;
	(*buf)[got] = 0;
	*len = got;
	close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/*
 * Every integer of buf (valid JSON) fits in 64 bits: json-c clamps one that
 * does not to INT64_MIN or UINT64_MAX without a word, which would restore a
 * value the file does not hold (an address 2^64 as 2^64 - 1).
 */
static int check_integers(struct st_in *in, const char *buf, size_t len)
{
	size_t i, n, digits;
	bool neg;

	for (i = 0; i < len; i += n ? n : 1) {
		n = 0;
		if (buf[i] == '"') {	/* a string: to its closing quote */
			for (n = 1; i + n < len && buf[i + n] != '"'; n++)
				n += buf[i + n] == '\\';
			n++;
			continue;
		}
		if (buf[i] != '-' && (buf[i] < '0' || buf[i] > '9'))
			continue;
		neg = buf[i] == '-';
		n = strspn(buf + i, "-+0123456789.eE");
		digits = n - neg;
		if (strcspn(buf + i, ".eE") < n)
			continue;	/* a double: refused as one */
		if (digits > (neg ? 19u : 20u) || (digits == (neg ? 19u : 20u) &&
				    memcmp(buf + i + neg, neg ? "9223372036854775808" :
					   "18446744073709551615", digits) > 0))
			return st_err(in, "not a state file: the integer at byte %zu (%.*s) does "
				      "not fit in 64 bits", i, (int)(n < 40 ? n : 40), buf + i);
	}
	return 0;
}

/* JSON syntax: one complete object, nothing after it but white space. */
static json_object *parse_json(struct st_in *in, const char *buf, size_t len)
{
	json_tokener *tok = json_tokener_new_ex(16);
	enum json_tokener_error e;
	json_object *root;
	size_t end;

	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, buf, len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (e == json_tokener_continue || (!root && e == json_tokener_success)) {
		st_err(in, "truncated: the JSON document ends early (%zu bytes)", len);
		return NULL;
	}
	if (e != json_tokener_success) {
		st_err(in, "not a state file: JSON error at byte %zu: %s", end,
		       json_tokener_error_desc(e));
		return NULL;
	}
	if (strspn(buf + end, " \t\r\n") != len - end || !json_object_is_type(root, json_type_object)) {
		st_err(in, "not a state file: %s", end < len ? "data after the JSON document" :
		       "not a JSON object");
		json_object_put(root);
		return NULL;
	}
	if (check_integers(in, buf, len)) {
		json_object_put(root);
		return NULL;
	}
	return root;
}

/* The checksum line ends the file and matches every byte before it. */
static int check_sum(struct st_in *in, const char *buf, size_t len)
{
	const char *t = buf + len - STATE_CSUM_LEN;
	unsigned int want;
	char hex[9];

	st_where(in, "checksum");
	if (len < STATE_CSUM_LEN ||
	    memcmp(t, STATE_CSUM_HEAD, sizeof(STATE_CSUM_HEAD) - 1) ||
	    strcmp(t + STATE_CSUM_LEN - (sizeof(STATE_CSUM_TAIL) - 1), STATE_CSUM_TAIL))
		return st_err(in, "not the last line in its canonical form (was the file edited?)");
	memcpy(hex, t + sizeof(STATE_CSUM_HEAD) - 1, 8);
	hex[8] = 0;
	if (strspn(hex, "0123456789abcdef") != 8 || sscanf(hex, "%x", &want) != 1)
		return st_err(in, "'crc32:%s' is not 8 lower-case hex digits", hex);
	if (want != state_crc32(buf, len - STATE_CSUM_LEN))
		return st_err(in, "mismatch: the file says crc32:%08x, its contents give "
			      "crc32:%08x (corrupted)", want, state_crc32(buf, len - STATE_CSUM_LEN));
	return 0;
}

/* format, format_version, xvm_version, the checksum; *groups. */
static int check_header(struct st_in *in, json_object *root, const char *buf,
			size_t len, json_object **groups)
{
	static const char *const keys[] = {
		"format", "format_version", "xvm_version", "groups", "checksum", NULL,
	};
	const char *s;
	uint64_t v;
	size_t n;

	if (st_str(in, root, "format", 64, &s, &n))
		return -1;
	if (strcmp(s, STATE_FORMAT))
		return st_err(in, "not an xvm state file (format '%s', expected '%s')",
			      s, STATE_FORMAT);
	if (st_u64(in, root, "format_version", 0, UINT64_MAX, &v))
		return -1;
	if (v != STATE_FORMAT_VERSION)
		return st_err(in, "format version %llu is not supported (this xvm-vmm reads "
			      "version %d)", (unsigned long long)v, STATE_FORMAT_VERSION);
	if (st_keys(in, root, keys) || check_sum(in, buf, len))
		return -1;
	st_where(in, "%s", "");
	if (st_str(in, root, "xvm_version", 64, &s, &n))
		return -1;
	return st_member(in, root, "groups", json_type_object, groups);
}

/* "config, memory, ...": the groups this VMM knows, for messages. */
static const char *group_names(void)
{
	static char list[256];
	size_t n = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(state_groups) && n < sizeof(list); i++)
		n += snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
			      state_groups[i]->name);
	return list;
}

/* Every group known, of a version this VMM reads. */
static int check_group_names(struct st_in *in, json_object *groups)
{
	const struct state_group *g;
	unsigned int i;
	uint32_t v;

	json_object_object_foreach(groups, name, sec) {
		st_where(in, "groups");
		g = group_find(name);
		for (i = 0; !g && i < ARRAY_SIZE(retired_groups); i++)
			if (!strcmp(name, retired_groups[i].name))
				return st_err(in, "group '%s' (an older xvm-vmm's) is no longer "
					      "read: '%s' replaced it; save the VM with this "
					      "xvm-vmm", name, retired_groups[i].by);
		if (!g)
			return st_err(in, "unknown group '%s' (this xvm-vmm knows %s)", name,
				      group_names());
		st_where(in, "groups.%s", name);
		if (!json_object_is_type(sec, json_type_object))
			return st_err(in, "not an object");
		if (st_u32(in, sec, "version", 0, UINT32_MAX, &v))
			return -1;
		if (v != g->version)
			return st_err(in, "group '%s' version %u is not supported (this "
				      "xvm-vmm reads version %u)", name, v, g->version);
	}
	return 0;
}

/* Each group the config needs is there, no other; each parses. */
static int parse_groups(struct st_in *in, json_object *groups)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(state_groups); i++) {
		const struct state_group *g = state_groups[i];
		json_object *sec = NULL;
		bool needed = !in->cfg || group_needed(g, in->cfg);

		json_object_object_get_ex(groups, g->name, &sec);
		st_where(in, "groups");
		if (!sec && needed && !g->optional)
			return st_err(in, "required group '%s' missing", g->name);
		if (sec && !needed)
			return st_err(in, "group '%s' present, but the saved config has "
				      "nothing it describes", g->name);
		if (!sec)
			continue;
		st_where(in, "%s", g->name);
		if (g->parse(in, sec))
			return -1;
		if (g == &state_config_group)
			in->cfg = state_config_parsed();
	}
	return 0;
}

const struct vmm_config *state_parse(const char *name, const char *buf, size_t len)
{
	struct st_in in = { .file = name };
	json_object *root, *groups;
	int rc = -1;

	root = parse_json(&in, buf, len);
	if (root && !check_header(&in, root, buf, len, &groups) &&
	    !check_group_names(&in, groups))
		rc = parse_groups(&in, groups);
	json_object_put(root);
	return rc ? NULL : in.cfg;
}

/* Reads and checks all of path; the config it holds, or NULL (printed). */
static const struct vmm_config *state_read(const char *path)
{
	struct st_in in = { .file = path };
	const struct vmm_config *cfg;
	char *buf = NULL;
	size_t len = 0;

	if (read_file(&in, &buf, &len))
		return NULL;
	cfg = state_parse(path, buf, len);
	free(buf);
	return cfg;
}

/* ---- the commands ---- */

const struct vmm_config *state_config_load(const char *path)
{
	struct st_in in = { .file = path };
	static char *text;
	size_t len = 0;

	if (read_file(&in, &text, &len))
		return NULL;
	if (len > 1u << 20) {
		st_err(&in, "%zu bytes: a config is at most 1 MiB", len);
		return NULL;
	}
	state_config_set_text(path, text, len);
	return config_parse_text(path, text, len);
}

static int state_args(int argc, char **argv, const char **pos, unsigned int npos,
		      const char **save2, bool *check)
{
	unsigned int n = 0;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			opt_verbose = 1;
		else if (save2 && !strcmp(argv[i], "--save") && i + 1 < argc)
			*save2 = argv[++i];
		else if (check && !strcmp(argv[i], "--check"))
			*check = true;
		else if (argv[i][0] != '-' && n < npos)
			pos[n++] = argv[i];
		else
			return -1;
	}
	return n == npos ? 0 : -1;
}

static void usage_state(FILE *f)
{
	fprintf(f, "usage: xvm-vmm save CONFIG FILE [-v]\n"
		"       xvm-vmm restore FILE [--save FILE2] [--check] [-v]\n"
		"  save: create the VM CONFIG describes, run its script, stop the vCPUs and\n"
		"        write the VM's state to FILE (format: docs/state-file.md)\n"
		"  restore: check all of FILE, create a fresh VM from the config it holds and\n"
		"        restore every group; --save FILE2: save it again at once (a round\n"
		"        trip gives the same bytes); --check: then run the config's script\n"
		"  Exit: 0 done, 1 setup, kernel refusal or a check failed, 2 usage error or\n"
		"        a bad state file (FILE: WHERE: message on stderr).\n");
}

bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

int cmd_save(int argc, char **argv)
{
	const struct vmm_config *cfg;
	const char *pos[2];
	static struct vm vm;
	int failed;

	if (wants_help(argc, argv) || state_args(argc, argv, pos, 2, NULL, NULL)) {
		usage_state(wants_help(argc, argv) ? stdout : stderr);
		return wants_help(argc, argv) ? 0 : EXIT_USAGE;
	}
	cfg = state_config_load(pos[0]);
	if (!cfg)
		return EXIT_USAGE;
	out_init(cfg->file);
	failed = vm_setup(&vm, cfg, 0);
	if (!failed) {
		script_run(&vm);
		vcpus_stop(&vm);	/* the state of stopped vCPUs */
		section("saving the VM state (vCPUs stopped)");
		failed = state_write(&vm, pos[1]);
	}
	section("teardown");
	vm_teardown(&vm);
	return out_finish(failed);
}

int state_restore(struct vm *vm)
{
	unsigned int i;

	section("restoring the saved state");
	for (i = 0; i < ARRAY_SIZE(state_groups); i++) {
		const struct state_group *g = state_groups[i];

		if (!group_needed(g, vm->cfg) || !g->restore)
			continue;
		if (g->restore(vm)) {
			errorf("restore: group '%s' failed", g->name);
			return -1;
		}
	}
	return 0;
}

int cmd_restore(int argc, char **argv)
{
	const struct vmm_config *cfg;
	const char *pos[1], *save2 = NULL;
	static struct vm vm;
	bool check = false;
	int failed;

	if (wants_help(argc, argv) || state_args(argc, argv, pos, 1, &save2, &check)) {
		usage_state(wants_help(argc, argv) ? stdout : stderr);
		return wants_help(argc, argv) ? 0 : EXIT_USAGE;
	}
	cfg = state_read(pos[0]);
	if (!cfg)
		return EXIT_USAGE;
	out_init(cfg->file);
	failed = vm_setup(&vm, cfg, VM_SETUP_RESTORE) || state_restore(&vm) ||
		 (save2 && state_write(&vm, save2)) || vcpus_start(&vm);
	if (!failed && check)
		script_run(&vm);
	section("teardown");
	vm_teardown(&vm);
	return out_finish(failed);
}
