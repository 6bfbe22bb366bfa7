/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The root hints in force, and how they change: load -> validate -> build -> publish, at start
 * (with the hints-fallback policy) and on each reload trigger (polluxctl reload-hints, SIGHUP,
 * the file changing on disk). A reload that fails leaves the running table untouched. Control
 * thread only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <pollux/addr_policy.h>

#include "ctl_config.h"
#include "ctl_hints.h"

struct dp_ctx;

struct ctl_hints_state {
	const struct ctl_config *cfg;
	struct dp_ctx *ctx;   /* ctx->hints is the published table */
	uint64_t generation;  /* of the published table */
	/* The table in force. */
	bool builtin;
	char source[4096];    /* the path, or "built-in" */
	time_t loaded_at;
	struct ctl_hints_report active;
	/* The last load that was refused. */
	bool has_rejection;
	time_t rejected_at;
	char rejected_source[4096];
	char rejected_reasons[CTL_HINTS_REASONS_LEN];
	/* Counters, for polluxctl stats. */
	uint64_t loads, rejections, fallbacks;
	uint64_t addr_rejected[PX_ADDR_REASON_COUNT]; /* entry point: hints */
	/* The file watch: the directory is watched, since editors replace files by rename. */
	int inotify_fd;
	int watch;
	uint64_t reload_due_ms; /* 0: none; else when a debounced file change is acted on */
};

/*
 * Loads the configured hints (or the built-in ones) and publishes them. With a bad file and
 * hints-fallback builtin, the built-in hints are published with a loud event; with refuse, or if
 * even the built-in hints fail, returns -EINVAL with the reasons in err. Also starts the file
 * watch. Before workers start.
 */
int ctl_hints_start(struct ctl_hints_state *hs, const struct ctl_config *cfg, struct dp_ctx *ctx,
		    char *err, size_t err_len);

/*
 * Reloads the configured source (the file, or the built-in hints when none is configured).
 * trigger names what asked ("control", "sighup", "inotify") for the event log. On success the
 * new table is published and the old one freed after an RCU grace period; on failure nothing
 * changes and the rejection is recorded. Returns 0 or -errno; out, if not NULL, gets a
 * one-paragraph verdict for polluxctl.
 */
int ctl_hints_reload(struct ctl_hints_state *hs, const char *trigger, FILE *out);

/*
 * The first half of a reload of the whole configuration (ctl_reload.h): loads and validates
 * path (NULL: the built-in hints) under pol and min_usable, touching nothing in force but the
 * load and rejection records. Returns the table, or NULL with the reasons in rep.
 */
struct px_hints *ctl_hints_prepare(struct ctl_hints_state *hs, const char *path,
				   const struct px_addr_policy *pol, unsigned min_usable,
				   struct ctl_hints_report *rep);

/* The second half: publishes h, loaded by ctl_hints_prepare from what hs->cfg now says, and
 * watches the file hs->cfg now names. */
void ctl_hints_commit(struct ctl_hints_state *hs, struct px_hints *h,
		      const struct ctl_hints_report *rep);

/* The inotify fd to poll, or -1 when no file is watched. */
int ctl_hints_watch_fd(const struct ctl_hints_state *hs);

/* Reads pending file events and schedules a reload a moment later, so that a burst of events
 * (an editor's save) triggers one reload. */
void ctl_hints_watch_read(struct ctl_hints_state *hs, uint64_t now_ms);

/* Runs a scheduled reload once it is due. Call each control-loop tick. */
void ctl_hints_tick(struct ctl_hints_state *hs, uint64_t now_ms);

/*
 * Publishes h as the table in force (generation set here), waits for the RCU grace period and
 * frees the previous table. h must be malloc'ed. Exposed for the swap tests.
 */
void ctl_hints_publish(struct dp_ctx *ctx, struct px_hints *h, uint64_t generation);

/* `polluxctl hints`: the table, its source and checksum, when it was loaded, the last rejected
 * load with its reasons. */
void ctl_hints_print(const struct ctl_hints_state *hs, FILE *out);

/* The hints counters as "name value" lines, for `polluxctl stats`. */
void ctl_hints_print_stats(const struct ctl_hints_state *hs, FILE *out);

/* Unpublishes and frees the table and closes the watch. After the workers have stopped. */
void ctl_hints_stop(struct ctl_hints_state *hs);

/*
 * `pollux --check-hints FILE`: validates path with cfg's policy, prints the verdict to out, and
 * returns 0 if the file would be accepted, 1 if not. No EAL needed.
 */
int ctl_hints_check(const struct ctl_config *cfg, const char *path, FILE *out);
