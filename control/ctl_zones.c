/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>
#include <rte_log.h>

#include <pollux/cache_match.h>

#include "ctl_cache_batch.h"
#include "ctl_cache_cmd.h"
#include "ctl_rrfile.h"
#include "ctl_zones.h"
#include "dp_cache.h"
#include "dp_lcore.h"

RTE_LOG_REGISTER(ctl_zones_logtype, pollux.ctl.zones, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, ctl_zones_logtype, "pollux: " __VA_ARGS__)

struct ctl_zones_next {
	struct ctl_zone *zones[CTL_MAX_LOCAL_ZONES];
	struct ctl_zone_info info[CTL_MAX_LOCAL_ZONES];
	unsigned count;
	struct ctl_cache_item *items; /* every zone's entries in order (their data the zones') */
	size_t item_count;
	struct dp_cache_key *keys;    /* the items' keys, sorted */
	uint64_t depths[2];
};

static int
key_cmp(const void *pa, const void *pb)
{
	const struct dp_cache_key *a = pa, *b = pb;

	if (a->qtype != b->qtype)
		return a->qtype < b->qtype ? -1 : 1;
	if (a->qclass != b->qclass)
		return a->qclass < b->qclass ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->name_len != b->name_len)
		return a->name_len < b->name_len ? -1 : 1;
	return memcmp(a->name, b->name, a->name_len);
}

void
ctl_zones_discard(struct ctl_zones_next *n)
{
	if (n == NULL)
		return;
	for (unsigned i = 0; i < n->count; i++)
		ctl_zone_free(n->zones[i]);
	free(n->items);
	free(n->keys);
	free(n);
}

/* Gathers the built zones' entries into one batch and one sorted key list. */
static int
gather(struct ctl_zones_next *n)
{
	size_t total = 0, k = 0, count;

	for (unsigned i = 0; i < n->count; i++) {
		ctl_zone_items(n->zones[i], &count);
		total += count;
	}
	n->items = malloc(sizeof(*n->items) * (total > 0 ? total : 1));
	n->keys = malloc(sizeof(*n->keys) * (total > 0 ? total : 1));
	if (n->items == NULL || n->keys == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < n->count; i++) {
		const struct ctl_cache_item *it = ctl_zone_items(n->zones[i], &count);

		memcpy(n->items + k, it, sizeof(*it) * count);
		k += count;
	}
	for (size_t i = 0; i < total; i++)
		n->keys[i] = n->items[i].key;
	qsort(n->keys, total, sizeof(*n->keys), key_cmp);
	n->item_count = total;
	return 0;
}

struct ctl_zones_next *
ctl_zones_prepare(const struct ctl_config *cfg, char *err, size_t err_len)
{
	struct ctl_zones_next *n = calloc(1, sizeof(*n));

	if (n == NULL)
		goto nomem;
	for (unsigned i = 0; i < cfg->local_zone_count; i++) {
		struct ctl_zone_info *zi = &n->info[n->count];

		n->zones[n->count] = ctl_zone_build(cfg->local_zones[i], zi, err, err_len);
		if (n->zones[n->count] == NULL) {
			ctl_zones_discard(n);
			return NULL;
		}
		n->count++;
		if (zi->apex_labels < 128)
			n->depths[zi->apex_labels / 64] |= 1ull << (zi->apex_labels % 64);
	}
	if (gather(n) == 0)
		return n;
nomem:
	snprintf(err, err_len, "local zones: out of memory");
	ctl_zones_discard(n);
	return NULL;
}

static bool
key_kept(const struct ctl_zones_next *n, const struct dp_cache_key *k)
{
	return bsearch(k, n->keys, n->item_count, sizeof(*n->keys), key_cmp) != NULL;
}

static bool
zone_was_configured(const struct ctl_zones *zs, const char *apex)
{
	for (unsigned i = 0; i < zs->count; i++)
		if (strcasecmp(zs->info[i].apex, apex) == 0)
			return true;
	return false;
}

/*
 * What the resolver cached at or below an apex that a reload adds (answers, negative answers,
 * delegations) would otherwise be served until its TTL ran out instead of the zone's data: it
 * is flushed, as `polluxctl flush-zone APEX` would, the zone's own pinned entries kept. One walk
 * of the table per new apex (10-20 ms at the default --cache-size); the first load has nothing
 * to walk. Returns how many entries went.
 */
static uint32_t
flush_new_apexes(struct ctl_zones *zs, const struct ctl_zones_next *n)
{
	uint8_t wire[PX_DNS_MAX_NAME];
	struct px_flush_spec spec;
	uint32_t removed = 0;

	if (zs->generation == 0)
		return 0;
	for (unsigned i = 0; i < n->count; i++) {
		struct dp_cache_flush_result res = {0};
		int len;

		if (zone_was_configured(zs, n->info[i].apex))
			continue;
		len = ctl_cache_parse_name(n->info[i].apex, wire);
		if (len < 0 || px_flush_spec_init(&spec, PX_FLUSH_ZONE, wire, (unsigned)len,
						  PX_FLUSH_ANY_TYPE) < 0)
			continue; /* the zone loaded, so its apex parses: not reached */
		dp_cache_flush_match(zs->ctx->cache, &spec, &res);
		removed += res.removed;
	}
	return removed;
}

int
ctl_zones_commit(struct ctl_zones *zs, struct ctl_zones_next *n, uint64_t now_ms, char *err,
		 size_t err_len)
{
	uint64_t both[2] = {zs->depths[0] | n->depths[0], zs->depths[1] | n->depths[1]};
	size_t failed, deleted = 0;
	uint32_t flushed;
	int rc;

	/* New apexes are probed from before their entries exist: a probe that finds nothing yet
	 * costs a lookup, while an entry no probe looks for would answer nothing. */
	dp_ctx_set_zone_depths(zs->ctx, both);
	rc = ctl_cache_insert_all(zs->ctx->cache, n->items, n->item_count, now_ms, &failed);
	if (rc < 0) {
		char nbuf[CTL_RRFILE_NAME_STR_LEN];
		const struct dp_cache_key *k = &n->items[failed].key;

		dp_ctx_set_zone_depths(zs->ctx, zs->depths);
		snprintf(err, err_len, "local zones: %s (type %u): %s", ctl_rrfile_name_str(nbuf,
			 sizeof(nbuf), k->name, k->name_len), k->qtype, rc == -ENOSPC ?
			 "no room left in the cache for pinned entries" : strerror(-rc));
		return rc;
	}
	flushed = flush_new_apexes(zs, n);
	for (size_t i = 0; i < zs->key_count; i++)
		if (!key_kept(n, &zs->keys[i]) && dp_cache_delete(zs->ctx->cache, &zs->keys[i]) == 0)
			deleted++;
	dp_ctx_set_zone_depths(zs->ctx, n->depths);
	memcpy(zs->depths, n->depths, sizeof(zs->depths));
	free(zs->keys);
	zs->keys = n->keys;
	zs->key_count = n->item_count;
	n->keys = NULL;
	memcpy(zs->info, n->info, sizeof(zs->info));
	zs->count = n->count;
	zs->generation++;
	if (deleted > 0)
		LOG(INFO, "local zones: %zu entries of zones no longer configured removed\n", deleted);
	if (flushed > 0)
		LOG(INFO, "local zones: %u resolved entries below new zone apexes flushed\n", flushed);
	ctl_zones_discard(n);
	return 0;
}

int
ctl_zones_start(struct ctl_zones *zs, struct dp_ctx *ctx, const struct ctl_config *cfg,
		uint64_t now_ms, char *err, size_t err_len)
{
	struct ctl_zones_next *n;
	int rc;

	memset(zs, 0, sizeof(*zs));
	zs->ctx = ctx;
	n = ctl_zones_prepare(cfg, err, err_len);
	if (n == NULL)
		return -EINVAL;
	rc = ctl_zones_commit(zs, n, now_ms, err, err_len);
	if (rc < 0) {
		ctl_zones_discard(n);
		return rc;
	}
	for (unsigned i = 0; i < zs->count; i++)
		LOG(INFO, "local zone %s loaded from %s: %u records, %u entries\n",
		    zs->info[i].apex, cfg->local_zones[i], zs->info[i].rr_count,
		    zs->info[i].entry_count);
	return 0;
}

void
ctl_zones_free(struct ctl_zones *zs)
{
	free(zs->keys);
	zs->keys = NULL;
	zs->key_count = 0;
}
