/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cache control from the control socket: polluxctl flush, flush-zone, flush-all, lookup and
 * dump-cache (the dump itself streams from ctl_cache_dump.c), and the presentation of cache
 * entries both lookup and the dump write. Control thread only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl_cache_dump.h"
#include "dp_cache.h"

/* Buckets the expiry sweep visits per control-loop tick. */
#define CTL_CACHE_SWEEP_BUCKETS 4096

/* The control thread's cache duties, once per control-loop tick at now_ms (dp_clock_ms()):
 * expired entries swept (CTL_CACHE_SWEEP_BUCKETS buckets), so dead entries give their memory
 * back within a few ticks; its defer queue reclaimed; a running dump moved on. */
void ctl_cache_tick(struct dp_cache *c, struct ctl_cache_dump *dump, uint64_t now_ms,
		    uint32_t stale_max_s);

/* Whether cmd is one of this module's commands. */
bool ctl_cache_cmd_handles(const char *cmd);

/*
 * Runs one of them (argv[0] as ctl_cache_cmd_handles() accepted) on cache c at now_ms (the
 * cache's clock, dp_clock_ms()), writing the reply body to out. dump-cache hands the client's
 * connection to dump (which may be NULL: the command is then refused). Returns 0 (OK) or -1
 * (ERR): a bad argument, a name or key that is not in the cache, a dump already running.
 */
int ctl_cache_cmd(struct dp_cache *c, struct ctl_cache_dump *dump, int argc, char **argv,
		  FILE *out, uint64_t now_ms);

/* Parses a domain name in presentation form ("example.com", "example.com." or ".") into
 * lower-cased wire form (PX_DNS_MAX_NAME bytes at wire). Returns its length or -EINVAL. */
int ctl_cache_parse_name(const char *s, uint8_t *wire);

/* Parses a type mnemonic ("A", "aaaa", "TYPE65") or number. Returns it or -EINVAL. */
int ctl_cache_parse_type(const char *s);

/* Where an entry came from: "local-zone", "primed" or "resolved". */
const char *ctl_cache_origin(const struct dp_cache_entry *e);

/* The bytes an entry occupies (header, TTL offsets, name, records): what a copy must hold. */
size_t ctl_cache_entry_size(const struct dp_cache_entry *e);

/*
 * Writes e's records in presentation format, one a line, each with TTL ttl (the entry's time
 * left: every record of an entry is served with it); a delegation (DP_CACHE_CUT) as its NS
 * records and their addresses. Returns 0, or -EINVAL when the bytes do not parse (nothing
 * further is written; the caller says so).
 */
int ctl_cache_print_records(FILE *out, const struct dp_cache_entry *e, uint32_t ttl);

/*
 * The dump's form of one entry: a comment line with its key, rcode, origin and time left, then
 * its records. Local-zone data and expired entries are left out (returns 0 and writes
 * nothing); returns 1 when written.
 */
int ctl_cache_dump_entry(FILE *out, const struct dp_cache_entry *e, uint64_t now_ms);
