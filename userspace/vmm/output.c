// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-vmm output: human lines on stdout, or (--json) one JSON document at the
 * end; checks are counted for the summary and the exit status; -v traces
 * every ioctl on stderr.  Callable from any thread (out_lock).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm.h"

int opt_json, opt_verbose;

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *config_name;
static uint64_t t0;

struct item {
	const char *kind;	/* "created", "event:...", "check", "error" */
	char *text;
	bool ok;
};

static struct item *items;
static unsigned int nr_items, cap_items, nr_checks, nr_failed;

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

void out_init(const char *config)
{
	config_name = config;
	t0 = now_ns();
}

static double elapsed(void)
{
	return (double)(now_ns() - t0) / 1e9;
}

/* Records an item (under out_lock). */
static void record(const char *kind, const char *text, bool ok)
{
	if (nr_items == cap_items) {
		cap_items = cap_items ? 2 * cap_items : 64;
		items = realloc(items, cap_items * sizeof(*items));
		if (!items)
			abort();
	}
	items[nr_items].kind = kind;
	items[nr_items].text = strdup(text);
	items[nr_items].ok = ok;
	nr_items++;
}

static void vemit(const char *kind, const char *prefix, bool ok,
		  const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	pthread_mutex_lock(&out_lock);
	if (kind)
		record(kind, buf, ok);
	if (!opt_json) {
		printf("%s%s\n", prefix, buf);
		fflush(stdout);
	}
	pthread_mutex_unlock(&out_lock);
}

void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(NULL, "  ", true, fmt, ap);
	va_end(ap);
}

void section(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(NULL, "== ", true, fmt, ap);
	va_end(ap);
}

void created(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit("created", "  + ", true, fmt, ap);
	va_end(ap);
}

void event(const char *kind, const char *fmt, ...)
{
	char prefix[32];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "  [%7.3f] ", elapsed());
	va_start(ap, fmt);
	vemit(kind, prefix, true, fmt, ap);
	va_end(ap);
}

int check(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit("check", ok ? "  [ ok ] " : "  [FAIL] ", ok, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&out_lock);
	nr_checks++;
	if (!ok)
		nr_failed++;
	pthread_mutex_unlock(&out_lock);
	return ok ? 0 : -1;
}

void errorf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&out_lock);
	record("error", buf, false);
	fprintf(stderr, "xvm-vmm: %s\n", buf);
	pthread_mutex_unlock(&out_lock);
}

const char *errno_text(int e, char *buf, size_t len)
{
	const char *name = strerrorname_np(e);

	snprintf(buf, len, "%s (%s)", strerror(e), name ? name : "?");
	return buf;
}

int line_error(const struct vmm_config *c, int line, const char *fmt, ...)
{
	char msg[400], err[96];
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errorf("%s:%d: %s: %s", c->file, line, msg, errno_text(e, err, sizeof(err)));
	errno = e;
	return -1;
}

int traced(int ret, const char *fmt, ...)
{
	int err = errno;
	char buf[256];
	va_list ap;

	if (!opt_verbose)
		return ret;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&out_lock);
	if (ret < 0)
		fprintf(stderr, "  ioctl %s = -1 (%s)\n", buf, strerror(err));
	else
		fprintf(stderr, "  ioctl %s = %d\n", buf, ret);
	pthread_mutex_unlock(&out_lock);
	errno = err;
	return ret;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_list(const char *kind, bool prefix_match)
{
	unsigned int i, n = 0;

	putchar('[');
	for (i = 0; i < nr_items; i++) {
		const char *k = items[i].kind;

		if (prefix_match ? strncmp(k, kind, strlen(kind)) : strcmp(k, kind))
			continue;
		printf("%s\n    ", n++ ? "," : "");
		if (!strcmp(kind, "check")) {
			printf("{\"ok\": %s, \"what\": ", items[i].ok ? "true" : "false");
			json_str(items[i].text);
			putchar('}');
		} else if (prefix_match) {
			printf("{\"kind\": ");
			json_str(k + strlen(kind));
			printf(", \"what\": ");
			json_str(items[i].text);
			putchar('}');
		} else {
			json_str(items[i].text);
		}
	}
	printf("]");
}

/* The summary table (or JSON); returns the exit status. */
int out_finish(int setup_failed)
{
	unsigned int i;
	int rc = (setup_failed || nr_failed) ? EXIT_CHECK : 0;

	pthread_mutex_lock(&out_lock);
	if (opt_json) {
		printf("{\n  \"config\": ");
		json_str(config_name ? config_name : "");
		printf(",\n  \"created\": ");
		json_list("created", false);
		printf(",\n  \"events\": ");
		json_list("event:", true);
		printf(",\n  \"checks\": ");
		json_list("check", false);
		printf(",\n  \"errors\": ");
		json_list("error", false);
		printf(",\n  \"passed\": %u,\n  \"failed\": %u,\n  \"result\": \"%s\",\n"
		       "  \"exit_status\": %d\n}\n", nr_checks - nr_failed,
		       nr_failed, rc ? "FAILED" : "OK", rc);
	} else {
		printf("\n== summary: %s\n", config_name ? config_name : "");
		printf("  %-6s %s\n", "result", "check");
		for (i = 0; i < nr_items; i++)
			if (!strcmp(items[i].kind, "check"))
				printf("  %-6s %s\n", items[i].ok ? "ok" : "FAIL",
				       items[i].text);
		if (setup_failed)
			printf("  %-6s %s\n", "FAIL", "setup did not complete (see the error above)");
		printf("== %s: %u of %u checks held%s\n", rc ? "FAILED" : "OK",
		       nr_checks - nr_failed, nr_checks,
		       setup_failed ? ", setup failed" : "");
	}
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
	return rc;
}

/* ---- a live update (update.c) carries the items over to the new VMM ---- */

bool out_item(unsigned int i, const char **kind, const char **text, bool *ok)
{
	bool there;

	pthread_mutex_lock(&out_lock);
	there = i < nr_items;
	if (there) {
		*kind = items[i].kind;
		*text = items[i].text;
		*ok = items[i].ok;
	}
	pthread_mutex_unlock(&out_lock);
	return there;
}

void out_item_add(const char *kind, const char *text, bool ok)
{
	char *k = strdup(kind);		/* lives as long as the item */

	if (!k)
		abort();
	pthread_mutex_lock(&out_lock);
	record(k, text, ok);
	if (!strcmp(kind, "check")) {
		nr_checks++;
		nr_failed += !ok;
	}
	pthread_mutex_unlock(&out_lock);
}

uint64_t out_t0(void)
{
	return t0;
}

/* CLOCK_MONOTONIC is the machine's: the event times go on from the old VMM's. */
void out_set_t0(uint64_t t)
{
	t0 = t;
}
