/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_prom.h"

/*
 * The levels among `polluxctl stats`'s figures: everything else there only ever grows, and is
 * a counter. Prometheus forbids "_total" on anything but a counter, hence mbufs.total's name.
 */
static const struct gauge {
	const char *stat;
	const char *name;  /* metric name without "pollux_"; NULL: the stat's own, sanitised */
	const char *help;
} gauges[] = {
	{"tsc.hz", NULL, "TSC frequency, to turn busy_cycles into seconds"},
	{"mbufs.in_use", NULL, "mbufs taken from the pool (in queues, rings and in flight)"},
	{"mbufs.total", "mbufs_capacity", "mbufs in the pool"},
	{"cache.slots", NULL, "answer cache slots"},
	{"cache.entries", NULL, "answer cache entries in use"},
	{"cache.pinned", NULL, "answer cache entries that never expire (local zones)"},
	{"cache.writers", NULL, "answer cache writers: the control thread and each resolving worker"},
	{"hints.generation", NULL, "root hints generation in force (1 at start, +1 a reload)"},
};

/*
 * Words promtool's linter takes for abbreviated units ("_ns_" as nanoseconds) and rejects; in
 * pollux's names they are DNS words, spelt out instead.
 */
static const struct word {
	const char *abbr, *full;
} words[] = {
	{"ns", "nameserver"},
};

size_t
ctl_prom_name(char *dst, size_t dst_len, const char *name, const char *suffix)
{
	char raw[CTL_PROM_NAME_MAX];
	size_t n = 0, r = 0;
	const char *parts[3] = {"pollux_", name, suffix};

	if (dst_len == 0)
		return 0;
	for (unsigned p = 0; p < 3; p++)
		for (const char *s = parts[p]; s != NULL && *s != '\0' && r + 1 < sizeof(raw); s++)
			raw[r++] = isalnum((unsigned char)*s) || *s == '_' ? *s : '_';
	raw[r] = '\0';
	for (char *tok = raw; tok != NULL;) {
		char *us = strchr(tok, '_');
		size_t tlen = us != NULL ? (size_t)(us - tok) : strlen(tok);
		const char *w = tok;

		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].abbr) == tlen && memcmp(tok, words[i].abbr, tlen) == 0) {
				w = words[i].full;
				tlen = strlen(w);
			}
		if (tok != raw && n + 1 < dst_len)
			dst[n++] = '_';
		for (size_t i = 0; i < tlen && n + 1 < dst_len; i++)
			dst[n++] = w[i];
		tok = us != NULL ? us + 1 : NULL;
	}
	dst[n] = '\0';
	return n;
}

void
ctl_prom_family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s ", name);
	for (const char *s = help; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fprintf(out, "\n# TYPE %s %s\n", name, type);
}

void
ctl_prom_write_workers(FILE *out, const struct px_stats *w, unsigned count)
{
	char name[CTL_PROM_NAME_MAX];

	for (unsigned i = 0; i < PX_STATS_COUNT; i++) {
		ctl_prom_name(name, sizeof(name), px_stats_names[i], "_total");
		ctl_prom_family(out, name, "counter", px_stats_help[i]);
		for (unsigned k = 0; k < count; k++)
			fprintf(out, "%s{worker=\"%u\"} %" PRIu64 "\n", name, k,
				((const uint64_t *)&w[k])[i]);
	}
}

static bool
per_worker(const char *line)
{
	if (strncmp(line, "total.", 6) == 0)
		return true;
	if (strncmp(line, "worker", 6) != 0 || !isdigit((unsigned char)line[6]))
		return false;
	line += 6;
	while (isdigit((unsigned char)*line))
		line++;
	return *line == '.';
}

static unsigned
write_one(FILE *out, const char *stat, const char *value)
{
	char name[CTL_PROM_NAME_MAX], help[320], *end;
	const struct gauge *g = NULL;
	uint64_t v;

	if (!isdigit((unsigned char)value[0]))
		return 0;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
		if (strcmp(gauges[i].stat, stat) == 0)
			g = &gauges[i];
	if (g != NULL) {
		ctl_prom_name(name, sizeof(name), g->name != NULL ? g->name : stat, NULL);
		ctl_prom_family(out, name, "gauge", g->help);
	} else {
		ctl_prom_name(name, sizeof(name), stat, "_total");
		snprintf(help, sizeof(help), "%s in polluxctl stats", stat);
		ctl_prom_family(out, name, "counter", help);
	}
	fprintf(out, "%s %" PRIu64 "\n", name, v);
	return 1;
}

unsigned
ctl_prom_write_stats_text(FILE *out, const char *text)
{
	unsigned written = 0;

	while (*text != '\0') {
		const char *eol = strchr(text, '\n');
		size_t len = eol != NULL ? (size_t)(eol - text) : strlen(text);
		char line[256], *sp;

		if (len < sizeof(line) && !per_worker(text)) {
			memcpy(line, text, len);
			line[len] = '\0';
			sp = strchr(line, ' ');
			if (sp != NULL && sp != line) {
				*sp = '\0';
				written += write_one(out, line, sp + 1);
			}
		}
		text += len + (eol != NULL);
	}
	return written;
}
