/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xvm-state-fuzz's mutator (state-mutate.c): hostile variants of a valid
 * state file.  A variant is a pure function of (seed, index, base file), so
 * a failure replays from the seed and the index alone.
 */
#ifndef XVM_STATE_MUTATE_H
#define XVM_STATE_MUTATE_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64: small, seedable, the same everywhere. */
struct sm_rng {
	uint64_t s;
};

uint64_t sm_next(struct sm_rng *r);
/* 0..n-1 (n > 0). */
uint64_t sm_below(struct sm_rng *r, uint64_t n);

/* A growable byte buffer (NUL-terminated; p may hold NULs too). */
struct sm_buf {
	char *p;
	size_t len, cap;
};

void sm_put(struct sm_buf *b, const void *s, size_t n);
void sm_puts(struct sm_buf *b, const char *s);

/*
 * Variant index of base (a valid state file, len bytes) for seed into *out
 * (out->p malloc()ed, the caller frees it); what[] names the mutations, e.g.
 * "json:num_edge(vgic.vcpus[1].cpuif.pmr) crc:fixed".
 */
void sm_mutate(uint64_t seed, uint64_t index, const char *base, size_t len,
	       struct sm_buf *out, char *what, size_t whatlen);

#endif /* XVM_STATE_MUTATE_H */
