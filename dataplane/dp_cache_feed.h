/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How workers add to the cache without becoming writers of it. The cache has exactly one
 * writer, the control thread (dp_cache.h); a worker that has resolved something copies the key
 * and the rendered answer into a request taken from a fixed pool and puts it on a ring, and
 * the control thread drains the ring into the cache a moment later. A worker never allocates,
 * never takes a lock beyond the ring's and the pool's lock-free paths, and never waits: when
 * the pool or the ring is full the request is dropped and counted (the answer was already
 * sent; it is only not cached).
 */
#pragma once

#include <stdint.h>

#include "dp_cache.h"

/* The largest answer a request carries: what dp_resolve renders at most. */
#define DP_CACHE_FEED_RR_MAX 4096
#define DP_CACHE_FEED_TTL_MAX 64

struct dp_cache_feed;

struct dp_cache_feed_stats {
	uint64_t drained;      /* requests inserted */
	uint64_t kept_pinned;  /* requests not applied: local zone data is never overwritten */
	uint64_t failed;       /* the cache refused (no room, bad request) */
};

/*
 * Creates a feed with room for `requests` requests in flight, on NUMA socket `socket`. Returns
 * NULL and sets errno. Control thread only, before workers start.
 */
struct dp_cache_feed *dp_cache_feed_create(const char *name, unsigned requests, int socket);

/* Frees the feed and whatever requests are still queued. Control thread, workers stopped. */
void dp_cache_feed_free(struct dp_cache_feed *f);

/*
 * Queues key -> ans for insertion, as of now_ms (the entry's TTL counts from then, not from
 * when the control thread gets to it). Returns 0, -EINVAL if the answer is larger than a
 * request holds, or -ENOBUFS when the pool or the ring is full. Any worker (multi-producer).
 */
int dp_cache_feed_put(struct dp_cache_feed *f, const struct dp_cache_key *key,
		      const struct dp_cache_answer *ans, uint64_t now_ms);

/*
 * Inserts up to budget queued requests into c. An existing pinned entry for the same key is
 * left alone. Returns how many requests were taken off the ring. Control thread only.
 */
unsigned dp_cache_feed_drain(struct dp_cache_feed *f, struct dp_cache *c, unsigned budget);

/* Counters kept by the drain. Control thread only. */
void dp_cache_feed_stats(const struct dp_cache_feed *f, struct dp_cache_feed_stats *st);
