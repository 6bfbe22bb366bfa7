/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `polluxctl config`: the configuration in force and where each value came from. What is shown
 * is what the options were given (the text, as recorded for reload's comparison), so it reads
 * like a config file; an option never given shows its default.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <pollux/ratelimit.h>

#include "ctl_config.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* Options whose values add up; for every other one, the last value given is the one in force
 * (the command line after the file). */
static const char *const repeatable[] = {"local-zone", "access-control", "do-not-query"};

/* Defaults --help leaves to the option's own text (or has none to give). */
static const struct {
	const char *name, *value;
} more_defaults[] = {
	{"hints", "built-in IANA copy"},
	{"hints-fallback", "builtin"},
	{"min-root-servers", STR(CTL_DEFAULT_MIN_ROOT_SERVERS)},
	{"allow-loopback-ns", "no"},
	{"max-ttl", STR(CTL_DEFAULT_MAX_TTL)},
	{"max-neg-ttl", STR(CTL_DEFAULT_MAX_NEG_TTL)},
	{"priming", "yes"},
	{"ratelimit-burst", "0 (as ratelimit)"},
	{"tcp-conn-per-client", STR(CTL_DEFAULT_TCP_CONN_PER_CLIENT)},
	{"metrics-listen", "off"},
};

static bool
is_repeatable(const char *name)
{
	for (size_t i = 0; i < sizeof(repeatable) / sizeof(repeatable[0]); i++)
		if (strcmp(repeatable[i], name) == 0)
			return true;
	return false;
}

static void
default_of(const char *name, char *def, size_t len)
{
	if (def[0] != '\0')
		return;
	for (size_t i = 0; i < sizeof(more_defaults) / sizeof(more_defaults[0]); i++)
		if (strcmp(more_defaults[i].name, name) == 0) {
			snprintf(def, len, "%s", more_defaults[i].value);
			return;
		}
	snprintf(def, len, "%s", is_repeatable(name) ? "none" : "unset");
}

/* The n-th line of a "a\nb\n" list, as a pointer and a length. */
static bool
nth_line(const char *list, unsigned n, const char **line, int *len)
{
	const char *p = list, *nl;

	for (; p != NULL && *p != '\0'; p = nl + 1, n--) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			return false;
		if (n == 0) {
			*line = p;
			*len = (int)(nl - p);
			return true;
		}
	}
	return false;
}

static unsigned
line_count(const char *list)
{
	unsigned n = 0;

	for (const char *p = list; p != NULL && *p != '\0'; p++)
		n += *p == '\n';
	return n;
}

void
ctl_config_show(const struct ctl_config *cfg, FILE *out)
{
	char def[128], when[64], suffix[96];
	bool takes_value;
	const char *name;

	fprintf(out, "# the configuration in force: option: value  # where it came from\n");
	for (size_t i = 0; (name = ctl_config_key(i, &takes_value, def, sizeof(def))) != NULL; i++) {
		unsigned n = line_count(cfg->values[i]), first;
		const char *v, *o;
		int vlen, olen;

		if (!takes_value || strcmp(name, "check-hints") == 0)
			continue;
		suffix[0] = '\0';
		if (cfg->reloaded_at[i] != 0) {
			time_t t = (time_t)cfg->reloaded_at[i];
			struct tm tm;

			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
			snprintf(suffix, sizeof(suffix), ", reload at %s", when);
		}
		if (n == 0) {
			default_of(name, def, sizeof(def));
			fprintf(out, "%s: %s  # default%s\n", name, def, suffix);
			continue;
		}
		first = is_repeatable(name) ? 0 : n - 1;
		for (unsigned k = first; k < n; k++)
			if (nth_line(cfg->values[i], k, &v, &vlen) &&
			    nth_line(cfg->origins[i], k, &o, &olen))
				fprintf(out, "%s: %.*s  # %.*s%s\n", name, vlen, v, olen, o, suffix);
	}
}
