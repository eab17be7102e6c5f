/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the benchmarks share: the clock, dying on a failed call, and the
 * statistics of a set of runs or samples (medians, percentiles).
 *
 * Everything is static inline: a bench that does not use a helper does not
 * warn about it.
 */
#ifndef _XVM_BENCH_H
#define _XVM_BENCH_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* CLOCK_MONOTONIC in ns. */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* "<bench>: what: strerror(errno)" on stderr, exit status 1. */
static inline __attribute__((noreturn)) void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what,
		strerror(errno));
	exit(1);
}

/*
 * The options of a bench that repeats runs of operations: -r runs, -n
 * operations per run.  Anything else: "usage: <bench> usage" on stderr,
 * exit status 2.
 */
static inline void bench_args_runs(int argc, char **argv, int *runs,
				   long *per_run, const char *usage)
{
	int opt;

	while ((opt = getopt(argc, argv, "r:n:h")) != -1) {
		switch (opt) {
		case 'r':
			*runs = atoi(optarg);
			break;
		case 'n':
			*per_run = atol(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s %s\n",
				program_invocation_short_name, usage);
			exit(2);
		}
	}
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of v[0..n) (sorts v); of an even n, the mean of the middle two. */
static inline double median_double(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static inline void sort_u64(uint64_t *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
}

/* The pct-th percentile of a sorted v[0..n): v[min(n * pct / 100, n - 1)]. */
static inline uint64_t percentile_u64(const uint64_t *sorted, int n, int pct)
{
	int i = n * pct / 100;

	return sorted[i < n ? i : n - 1];
}

/* The median of v[0..n) (sorts v): v[n / 2], the upper one of an even n. */
static inline uint64_t median_u64(uint64_t *v, int n)
{
	sort_u64(v, n);
	return percentile_u64(v, n, 50);
}

#endif /* _XVM_BENCH_H */
