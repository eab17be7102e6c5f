// SPDX-License-Identifier: GPL-2.0
/*
 * State group "config" (version 1): the config the VM was made from, as
 * text - its name and every byte of the file - so that `restore FILE` needs
 * nothing else.  The config language is documented (examples/README.md) and
 * parsed by the same parser as `run`; the VM is rebuilt from it, and every
 * other group is checked against it.
 *
 *   "config": { "version": 1, "name": "gic.conf", "text": "vcpus 4\n..." }
 */
#define _GNU_SOURCE
#include <string.h>

#include "state.h"

#define CONFIG_MAX	(1u << 20)

static const char *cfg_name, *cfg_text;
static size_t cfg_len;
static const struct vmm_config *parsed;

void state_config_set_text(const char *name, const char *text, size_t len)
{
	const char *slash = strrchr(name, '/');

	cfg_name = slash ? slash + 1 : name;
	cfg_text = text;
	cfg_len = len;
}

const struct vmm_config *state_config_parsed(void)
{
	return parsed;
}

static int config_save(struct vm *vm, json_object *sec)
{
	(void)vm;
	st_put_str(sec, "name", cfg_name, strlen(cfg_name));
	st_put_str(sec, "text", cfg_text, cfg_len);
	return 0;
}

static int config_parse_sec(struct st_in *in, json_object *sec)
{
	static const char *const keys[] = { "version", "name", "text", NULL };
	static char name[256];
	const char *s, *text;
	size_t n, len;

	if (st_keys(in, sec, keys) || st_str(in, sec, "name", sizeof(name) - 1, &s, &n) ||
	    st_str(in, sec, "text", CONFIG_MAX, &text, &len))
		return -1;
	if (!n || strchr(s, '/'))
		return st_err(in, "'name' = '%s' is not a file name", s);
	memcpy(name, s, n + 1);
	/* json-c's strings live as long as the document: keep a copy. */
	text = strndup(text, len);
	if (!text)
		return st_err(in, "out of memory");
	state_config_set_text(name, text, len);
	parsed = config_parse_text(name, text, len);
	if (!parsed)
		return st_err(in, "the saved config '%s' does not parse (see above)", name);
	return 0;
}

const struct state_group state_config_group = {
	.name = "config", .version = 1,
	.save = config_save, .parse = config_parse_sec,
};
