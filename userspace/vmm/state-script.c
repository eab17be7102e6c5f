// SPDX-License-Identifier: GPL-2.0
/*
 * State group "script" (version 1, optional): where the config's script
 * resumes - the step after its `migrate` step - for a VM that left its
 * VMM in the middle of the script (xvm-vmm migrate, migrate.c).  A file
 * without it is a VM whose script ran to its end (xvm-vmm save), so save
 * files keep their bytes and older files read as before.
 *
 *   "script": { "version": 1, "next_step": 9 }
 *
 * next_step indexes the config's steps (0 is the first step after the
 * "script" line); the step before it must be the config's `migrate` step.
 */
#define _GNU_SOURCE
#include <limits.h>

#include "state.h"

static unsigned int next_step = UINT_MAX;	/* UINT_MAX: at the end */

void state_script_set_next(unsigned int next)
{
	next_step = next;
}

unsigned int state_script_next(void)
{
	return next_step;
}

static int script_save(struct vm *vm, json_object *sec)
{
	if (next_step >= vm->cfg->nr_steps)
		return 1;	/* the script is over: no section */
	st_put_u64(sec, "next_step", next_step);
	return 0;
}

static int script_parse(struct st_in *in, json_object *sec)
{
	static const char *const keys[] = { "version", "next_step", NULL };
	const struct vmm_config *c = in->cfg;
	uint32_t next;

	if (st_keys(in, sec, keys))
		return -1;
	if (c->nr_steps < 2)
		return st_err(in, "the saved config's script has %u step(s): nothing "
			      "to resume after a migrate step", c->nr_steps);
	if (st_u32(in, sec, "next_step", 1, c->nr_steps - 1, &next))
		return -1;
	if (c->steps[next - 1].tag != STEP_MIGRATE)
		return st_err(in, "'next_step' = %u: step %u (%s:%d '%s') is not the "
			      "'migrate' step", next, next - 1, c->file,
			      c->steps[next - 1].line, c->steps[next - 1].text);
	next_step = next;
	return 0;
}

const struct state_group state_script_group = {
	.name = "script", .version = 1, .optional = true,
	.save = script_save, .parse = script_parse,
};
