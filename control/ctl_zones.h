/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The set of local zones in force (--local-zone, ctl_zone.h), and how a reload replaces it:
 * every zone file is parsed and built first (ctl_zones_prepare, nothing in force touched); then
 * the new entries go into the cache as one batch, undone whole if one does not fit, and only
 * then are the entries of the old set that the new one does not have deleted. While that runs a
 * query sees each key either as it was or as it will be. Control thread only.
 *
 * What the resolver had cached at or below an apex that a reload adds is flushed (the zone's
 * own entries kept), so the zone's data answers at once.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ctl_config.h"
#include "ctl_zone.h"

struct dp_cache_key;
struct dp_ctx;

struct ctl_zones {
	struct dp_ctx *ctx;        /* ctx->cache holds the entries; ctx->zone_depths */
	struct dp_cache_key *keys; /* every key the set inserted, sorted (ctl_zones.c) */
	size_t key_count;
	uint64_t depths[2];        /* the apexes' label counts, as in ctx->zone_depths */
	struct ctl_zone_info info[CTL_MAX_LOCAL_ZONES];
	unsigned count;
	uint64_t generation;       /* bumped at each commit */
};

struct ctl_zones_next;

/*
 * Parses and builds every local zone cfg names. Returns what to commit, or NULL with the reason
 * in err ("FILE:LINE: reason" when a line is known). Touches nothing in force.
 */
struct ctl_zones_next *ctl_zones_prepare(const struct ctl_config *cfg, char *err,
					 size_t err_len);

/*
 * Puts n in force at now_ms and frees it. Returns 0, or -ENOSPC/-ENOMEM with the reason in err
 * when the cache could not take the new entries: the cache and zs are then as before, and n is
 * still the caller's to discard.
 */
int ctl_zones_commit(struct ctl_zones *zs, struct ctl_zones_next *n, uint64_t now_ms, char *err,
		     size_t err_len);

/* Frees a prepared set that was not committed. NULL is a no-op. */
void ctl_zones_discard(struct ctl_zones_next *n);

/* Loads cfg's zones into ctx->cache at start. Returns 0 or -errno with the reason in err. */
int ctl_zones_start(struct ctl_zones *zs, struct dp_ctx *ctx, const struct ctl_config *cfg,
		    uint64_t now_ms, char *err, size_t err_len);

/* Frees the key list (the cache entries go with the cache). */
void ctl_zones_free(struct ctl_zones *zs);
