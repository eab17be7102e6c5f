/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the benchmarks share: the clock, dying on a failed call, and the
 * statistics of a set of runs or samples (medians, percentiles).
 *
 * Everything is static inline: a bench that does not use a helper does not
 * warn about it.
 *
 * Next to its human rows, a bench prints machine-readable records, one line
 * each, which scripts/bench-report.sh collects from the guest console into
 * build/bench/results.json and plots:
 *
 *   XVM-BENCH {"type":"row","bench":B,"row":R,"unit":U,"median":M,
 *              "p99":P,"ratio":X,"ratio_of":"row/anchor"|"anchor/row",
 *              "anchor":A,"goal":G,"met":true|false,"path":T}
 *   XVM-BENCH {"type":"samples","bench":B,"row":R,"unit":U,"values":[...]}
 *   XVM-BENCH {"type":"point","bench":B,"curve":C,"x_name":N,"x":X,
 *              "unit":U,"y":Y}
 *
 * ratio is the one the text prints for the row (goal applies to it), of
 * the medians; ratio_of says which way round.  p99, ratio, ratio_of,
 * anchor, goal, met and path are null where a row has none; path names the
 * hot path of the goals table (scripts/bench-report.py) the row measures,
 * and make bench prints every row with a path in that table.  Samples
 * come in lines of at most BENCH_SAMPLES_PER_LINE values (a console line
 * stays short); the report joins the lines of one (bench, row).
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

/* s as a JSON string (the names are ASCII; " and \ escaped). */
static inline void bench_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar((unsigned char)*s < 0x20 ? ' ' : *s);
	}
	putchar('"');
}

/* "key":s, or "key":null for a NULL s. */
static inline void bench_json_key_str(const char *key, const char *s)
{
	printf(",\"%s\":", key);
	if (s)
		bench_json_str(s);
	else
		fputs("null", stdout);
}

/* "key":v, or "key":null for v <= 0 (no such figure). */
static inline void bench_json_key_num(const char *key, double v)
{
	if (v <= 0)
		printf(",\"%s\":null", key);
	else
		printf(",\"%s\":%.6g", key, v);
}

/* XVM-BENCH {"type":type,"bench":<this program>: the start of a record. */
static inline void bench_json_begin(const char *type)
{
	printf("XVM-BENCH {\"type\":\"%s\",\"bench\":", type);
	bench_json_str(program_invocation_short_name);
}

/*
 * One row of a bench's table, written with designated initializers: a field
 * left out (0, NULL) is a figure the row does not have, printed as null.
 */
struct bench_row {
	const char *row, *unit;
	double median, p99;
	double ratio;		/* of the medians, as the text prints it */
	int anchor_over_row;	/* ratio is anchor / row (e.g. "x cheaper") */
	const char *anchor;	/* what the ratio is measured against */
	const char *goal;	/* the goal on ratio, e.g. "<= 1.0" */
	int met;		/* the goal is met (only with a goal) */
	const char *path;	/* its hot path in the goals table, or NULL */
};

static inline void bench_record(const struct bench_row *r)
{
	bench_json_begin("row");
	bench_json_key_str("row", r->row);
	bench_json_key_str("unit", r->unit);
	bench_json_key_num("median", r->median);
	bench_json_key_num("p99", r->p99);
	bench_json_key_num("ratio", r->ratio);
	bench_json_key_str("ratio_of", r->ratio <= 0 ? NULL :
			   r->anchor_over_row ? "anchor/row" : "row/anchor");
	bench_json_key_str("anchor", r->anchor);
	bench_json_key_str("goal", r->goal);
	printf(",\"met\":%s", !r->goal ? "null" : r->met ? "true" : "false");
	bench_json_key_str("path", r->path);
	fputs("}\n", stdout);
}

#define BENCH_SAMPLES_PER_LINE	64

/* Every sample of a row v[0..n), in unit, in lines of the samples record. */
static inline void bench_samples(const char *row, const char *unit,
				 const uint64_t *v, int n)
{
	int i, j;

	for (i = 0; i < n; i += BENCH_SAMPLES_PER_LINE) {
		bench_json_begin("samples");
		bench_json_key_str("row", row);
		bench_json_key_str("unit", unit);
		fputs(",\"values\":[", stdout);
		for (j = i; j < n && j < i + BENCH_SAMPLES_PER_LINE; j++)
			printf("%s%llu", j > i ? "," : "",
			       (unsigned long long)v[j]);
		fputs("]}\n", stdout);
	}
}

/* One point (x, y) of a scaling curve, x counted in x_name, y in unit. */
static inline void bench_point(const char *curve, const char *x_name,
			       double x, const char *unit, double y)
{
	bench_json_begin("point");
	bench_json_key_str("curve", curve);
	bench_json_key_str("x_name", x_name);
	bench_json_key_num("x", x);
	bench_json_key_str("unit", unit);
	bench_json_key_num("y", y);
	fputs("}\n", stdout);
}

#endif /* _XVM_BENCH_H */
