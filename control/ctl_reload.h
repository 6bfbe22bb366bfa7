/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `polluxctl reload` and SIGHUP: re-read the configuration (the config file, then the command
 * line again, exactly as at start) and apply what can change while serving.
 *
 * All or nothing: the whole configuration is parsed and validated, and every reloadable group
 * of options is prepared (the zone files parsed and rendered, the hints file loaded, the access
 * table and the resolver settings built, a new metrics listener bound) before anything is
 * published. A bad line anywhere changes nothing and is reported as FILE:LINE and why, on the
 * polluxctl output and in the log. Then the groups are committed in table order; only the first,
 * the local zones, may still fail (the cache has no room for them), and it undoes itself
 * when it does, before anything else changed.
 *
 * The groups (ctl_reload_groups.c; one row each, with its keys, prepare, commit and discard):
 *   local-zone; access-control and ratelimit*; the resolver settings workers take in while
 *   running (do-not-query, allow-loopback-ns, qname-minimisation, max-ttl, max-neg-ttl,
 *   health-probe: dp_settings.h); the root hints (hints, hints-fallback, min-root-servers; the
 *   file is re-read whether or not its path changed); metrics-listen (the listener is bound
 *   anew when the address changes) and health-resolve-window; the dnstap* keys when dnstap
 *   was on at start (ctl_dnstap_prepare/commit).
 * A feature with settings of its own (serve-stale, prefetch) adds a row. Every other
 * option that changed is reported as "needs restart" and keeps its running value: that is no
 * error. Control thread only.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "ctl_config.h"

struct ctl_access;
struct ctl_hints_state;
struct ctl_settings;
struct ctl_state;
struct ctl_zones;

struct ctl_reload {
	struct ctl_config *cfg;  /* the running configuration; reloaded groups update it */
	int argc;
	char **argv;             /* pollux's own arguments as at start (owned copies) */
	struct ctl_access *access;
	uint16_t workers;
	/* What the other groups change; set after ctl_reload_init. A group whose target is NULL
	 * is not reloadable (its keys need a restart): the unit tests wire only what they test. */
	struct ctl_zones *zones;
	struct ctl_settings *settings;
	struct ctl_hints_state *hints;
	struct ctl_state *st;    /* st->metrics: the metrics listener (ctl_http.h) */
	uint64_t reloads, rejections;
};

/* Keeps a copy of pollux's own arguments (argv[0] included, as getopt expects). Returns 0 or
 * -ENOMEM. */
int ctl_reload_init(struct ctl_reload *r, struct ctl_config *cfg, int argc, char **argv,
		    struct ctl_access *access, uint16_t workers);

/*
 * Re-reads and applies the configuration. trigger ("control", "sighup") is logged. Writes the
 * verdict to out (may be NULL): what was applied, what needs a restart, or why nothing
 * changed. Returns 0, or -errno when the reload was refused.
 */
int ctl_reload_run(struct ctl_reload *r, const char *trigger, FILE *out);

void ctl_reload_free(struct ctl_reload *r);
