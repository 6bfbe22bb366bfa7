/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `polluxctl reload` and SIGHUP: re-read the configuration (the config file, then the command
 * line again, exactly as at start) and apply what can change while serving.
 *
 * All or nothing: the whole configuration is parsed and validated, and every reloadable group
 * of options is prepared (e.g. the access table built), before anything is published. A bad
 * line anywhere changes nothing and is reported as FILE:LINE and why, on the polluxctl output
 * and in the log. Options are reloadable through a table of groups (keys, prepare, commit):
 * today access-control and ratelimit*; every other option that changed is reported as
 * "needs restart" and keeps its running value. Control thread only.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "ctl_config.h"

struct ctl_access;

struct ctl_reload {
	struct ctl_config *cfg;  /* the running configuration; reloaded groups update it */
	int argc;
	char **argv;             /* pollux's own arguments as at start (owned copies) */
	struct ctl_access *access;
	uint16_t workers;
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
