/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus text exposition format (version 0.0.4): metric names, HELP and TYPE lines, and
 * the conversion of pollux's counters into it. Pure (no DPDK): the metrics listener's render
 * (ctl_metrics.c) feeds it snapshots, the unit tests feed it made-up ones. Any thread.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include <pollux/stats.h>

/* Longest metric name written; longer ones are cut (none of pollux's come near). */
#define CTL_PROM_NAME_MAX 128

/*
 * Writes "pollux_" + name + suffix to dst (dst_len bytes, NUL-terminated), every character
 * outside [a-zA-Z0-9_] replaced by '_' (so "cache.entries" becomes "pollux_cache_entries"), and
 * the word "ns" spelt "nameserver" (promtool rejects "_ns_" as an abbreviated unit). Returns the
 * length written.
 */
size_t ctl_prom_name(char *dst, size_t dst_len, const char *name, const char *suffix);

/* Writes "# HELP name text" (backslash and newline escaped as the format asks) and
 * "# TYPE name type". */
void ctl_prom_family(FILE *out, const char *name, const char *type, const char *help);

/*
 * Writes every worker counter of include/pollux/stats.h as a counter family
 * pollux_<name>_total with one sample per worker, labelled worker="N" (N the index in w).
 * There is no separate total series: sum() over the workers gives it.
 */
void ctl_prom_write_workers(FILE *out, const struct px_stats *w, unsigned count);

/*
 * Writes the figures of `polluxctl stats` text ("name value" lines) other than the per-worker
 * counters (lines starting "total." or "workerN.", which ctl_prom_write_workers exports). Each
 * becomes a family of its own: a gauge for the few levels (cache entries, mbufs in use, the
 * hints generation...), a counter pollux_<name>_total for the rest. Lines that are not
 * "name unsigned-integer" are skipped. Returns how many were written.
 */
unsigned ctl_prom_write_stats_text(FILE *out, const char *text);
