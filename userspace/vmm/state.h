/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xvm-vmm state files: the interface between the file format (state.c) and
 * the state groups (state-*.c).  docs/state-file.md documents the format.
 *
 * A group is one entry of state_groups[] (state.c): its name (the key of its
 * section in "groups"), the version of its section, whether this config
 * needs it, and three callbacks:
 *
 *   save     the running VM (vCPU threads stopped) -> the section's members
 *   parse    a section read from a file -> the group's own C state, every
 *            value range-checked against the config; no system call
 *   restore  that C state -> the VM vm_setup(VM_SETUP_RESTORE) made, in
 *            table order; the kernel's errno is reported as it came
 *
 * Restore parses every group before the VM exists, so a bad file changes
 * nothing and never reaches an ioctl.  A group's C state lives in its own
 * file (static), one restore per process.
 */
#ifndef XVM_VMM_STATE_H
#define XVM_VMM_STATE_H

#include <json.h>

#include "vmm.h"

#define STATE_FORMAT		"xvm-vm-state"
#define STATE_FORMAT_VERSION	1
#define STATE_MAX_FILE		(256u << 20)	/* bytes: bigger files are refused */
#define STATE_PAGE		4096u

/* Where a value is, for messages: "FILE: WHERE: ..." */
struct st_in {
	const char *file;
	const struct vmm_config *cfg;	/* NULL while the config is parsed */
	char where[96];
};

struct state_group {
	const char *name;
	unsigned int version;
	bool (*needed)(const struct vmm_config *c);	/* NULL: always */
	int (*save)(struct vm *vm, json_object *sec);
	int (*parse)(struct st_in *in, json_object *sec);
	int (*restore)(struct vm *vm);
	bool optional;	/* may be absent: save returns 1 to leave it out */
};

extern const struct state_group state_config_group, state_memory_group,
	state_vgic_group, state_vgic_sysregs_group, state_msix_group,
	state_iommu_group, state_evtchn_table_group, state_script_group;

/* The groups of the GIC: needed when the config has a gic line. */
static inline bool state_has_gic(const struct vmm_config *c)
{
	return c->gic.line;
}

/*
 * The ports the VMM allocates in a fresh VM, which gives the lowest free
 * port first: each vCPU's kick port (vm.c), one per port line of the
 * config, each vCPU's vGIC notify port (vgic.c).  Groups check a file's
 * port numbers against these before any VM exists.
 */
static inline uint32_t state_kick_port(const struct vmm_config *c, unsigned int id)
{
	(void)c;
	return 1 + id;
}

static inline uint32_t state_config_port(const struct vmm_config *c, unsigned int i)
{
	return 1 + c->vcpus + i;
}

static inline uint32_t state_notify_port(const struct vmm_config *c, unsigned int id)
{
	return 1 + c->vcpus + c->nr_ports + id;
}

/* state-config.c: the config text that save read (before config_parse_text). */
void state_config_set_text(const char *name, const char *text, size_t len);
/* The parsed config of the file parse read (state_config_group.parse). */
const struct vmm_config *state_config_parsed(void);

/* state-script.c: the step the script resumes at (nr_steps: at its end). */
void state_script_set_next(unsigned int next);
unsigned int state_script_next(void);

/* ---- the file as a whole (state.c): save, restore, migrate ---- */

/* CONFIG's text (kept for the config group) and its parse; NULL: printed. */
const struct vmm_config *state_config_load(const char *path);
/* vm's state file into a malloc()ed *buf of *len bytes; -1: printed. */
int state_serialize(struct vm *vm, char **buf, size_t *len);
/* state_serialize() into path (path.tmp renamed over it). */
int state_write(struct vm *vm, const char *path);
/* Checks all of buf (messages name it name); its config, or NULL (printed). */
const struct vmm_config *state_parse(const char *name, const char *buf, size_t len);
/* Each group, in table order, into the VM vm_setup(VM_SETUP_RESTORE) made. */
int state_restore(struct vm *vm);
/* -h or --help among argv[1..]. */
bool wants_help(int argc, char **argv);

/* ---- reading (state.c): every helper prints "FILE: WHERE: msg", returns -1 ---- */

int st_err(struct st_in *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets in->where (printf-style). */
void st_where(struct st_in *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Every member of o is one of keys[] (NULL-terminated); o is an object. */
int st_keys(struct st_in *in, json_object *o, const char *const *keys);
/* A required member of type t. */
int st_member(struct st_in *in, json_object *o, const char *key,
	      enum json_type t, json_object **out);
int st_u64(struct st_in *in, json_object *o, const char *key, uint64_t min,
	   uint64_t max, uint64_t *out);
int st_u32(struct st_in *in, json_object *o, const char *key, uint32_t min,
	   uint32_t max, uint32_t *out);
int st_bool(struct st_in *in, json_object *o, const char *key, bool *out);
/* A string without NUL of at most max bytes; *len its length. */
int st_str(struct st_in *in, json_object *o, const char *key, size_t max,
	   const char **out, size_t *len);
/*
 * The "vcpus" array of sec: one element per vCPU of the config, element i
 * through parse(in, array, i).
 */
int st_vcpus(struct st_in *in, json_object *sec,
	     int (*parse)(struct st_in *in, json_object *a, unsigned int i));
/* An array of min..max elements. */
int st_array(struct st_in *in, json_object *o, const char *key, size_t min,
	     size_t max, json_object **out, size_t *n);
/* An array of exactly n integers 0..max, into out[]. */
int st_u32_array(struct st_in *in, json_object *o, const char *key, size_t n,
		 uint32_t max, uint32_t *out);
/* Element i of array a, an object with exactly the members keys[]. */
int st_elem(struct st_in *in, json_object *a, size_t i, const char *const *keys,
	    json_object **out);

/* ---- writing (state.c) ---- */

void st_put_u64(json_object *o, const char *key, uint64_t v);
void st_put_bool(json_object *o, const char *key, bool v);
void st_put_str(json_object *o, const char *key, const char *s, size_t len);
json_object *st_put_obj(json_object *o, const char *key);
json_object *st_put_array(json_object *o, const char *key);
void st_put_u32_array(json_object *o, const char *key, const uint32_t *v, size_t n);

/* base64 (RFC 4648, padded): out holds 4 * ((len + 2) / 3) + 1 bytes. */
void st_base64_encode(const uint8_t *in, size_t len, char *out);
/* Exactly len bytes from s (strlen(s) == 4 * ((len + 2) / 3)); -1 if not. */
int st_base64_decode(const char *s, size_t slen, uint8_t *out, size_t len);

#endif /* XVM_VMM_STATE_H */
