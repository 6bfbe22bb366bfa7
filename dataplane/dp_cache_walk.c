/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's walks over the whole table (see dp_cache.h): the expiry sweep, the flushes
 * and the visit the cache dump reads entries with. Each takes a bucket's lock like any writer
 * before it reads or clears a slot, and retires what it removes to the control thread's defer
 * queue, so a removed entry is freed only after an RCU grace period.
 */
#include <pollux/cache_match.h>

#include "dp_cache_int.h"

#define WAYS DP_CACHE_WAYS
/* Passes of a flush while workers keep moving entries (dp_cache_flush_match). */
#define FLUSH_PASSES_MAX 4

unsigned
dp_cache_sweep(struct dp_cache *c, uint64_t now_ms, unsigned budget)
{
	return dp_cache_sweep_keep(c, now_ms, 0, budget);
}

unsigned
dp_cache_sweep_keep(struct dp_cache *c, uint64_t now_ms, uint64_t keep_ms, unsigned budget)
{
	unsigned removed = 0;
	uint32_t nb = c->mask + 1;

	/* Budget counts buckets visited, so a call's cost is bounded whatever it finds. A bucket
	 * a worker holds is passed over: the sweep comes round again. */
	for (unsigned n = 0; n < budget && n < nb; n++) {
		struct dp_cache_bucket *b = &c->buckets[c->sweep_pos];

		c->sweep_pos = (c->sweep_pos + 1) & c->mask;
		if (!bucket_trylock(b))
			continue;
		for (int i = 0; i < WAYS; i++) {
			struct dp_cache_entry *o = b->e[i];

			if (o == NULL || (o->flags & DP_CACHE_F_PINNED) || now_ms < o->expire_ms)
				continue;
			/* An answer in its serve-stale window stays until then. */
			if (o->kind == DP_CACHE_RRSET && now_ms - o->expire_ms < keep_ms)
				continue;
			slot_set(b, i, NULL, 0);
			dp_cache_retire(c->ctl, o);
			removed++;
		}
		bucket_unlock(b);
	}
	DP_CACHE_WCOUNT_ADD(c->ctl, expired_swept, removed);
	return removed;
}

/* Whether b holds nothing, read without its lock: a hint that lets a walk pass an empty bucket
 * without writing its line (a lock taken is a line every reader of the bucket misses on next).
 * An entry a worker adds after the look was added after the walk began: not the walk's. */
static inline bool
bucket_empty_peek(const struct dp_cache_bucket *b)
{
	for (int i = 0; i < WAYS; i++)
		if (__atomic_load_n(&b->e[i], __ATOMIC_RELAXED) != NULL)
			return false;
	return true;
}

void
dp_cache_flush(struct dp_cache *c, bool pinned)
{
	for (uint32_t k = 0; k <= c->mask; k++) {
		struct dp_cache_bucket *b = &c->buckets[k];

		bucket_lock_wait(b);
		for (int i = 0; i < WAYS; i++) {
			struct dp_cache_entry *o = b->e[i];

			if (o == NULL || (!pinned && (o->flags & DP_CACHE_F_PINNED)))
				continue;
			slot_set(b, i, NULL, 0);
			dp_cache_retire(c->ctl, o);
		}
		bucket_unlock(b);
	}
}

/* One pass of dp_cache_flush_match(), adding to res. */
static void
flush_pass(struct dp_cache *c, const struct px_flush_spec *spec, struct dp_cache_flush_result *res)
{
	for (uint32_t k = 0; k <= c->mask; k++) {
		struct dp_cache_bucket *b = &c->buckets[k];

		if (bucket_empty_peek(b))
			continue;
		/* Held, no other writer can retire what the bucket points at, so its entries may
		 * be read though the control thread is no RCU reader. */
		bucket_lock_wait(b);
		for (int i = 0; i < WAYS; i++) {
			struct dp_cache_entry *o = b->e[i];

			if (o == NULL ||
			    !px_flush_match(spec, dp_cache_entry_name(o), o->name_len, o->qtype))
				continue;
			/* Local-zone data is configuration: a reload changes it, a flush never. */
			if (o->flags & DP_CACHE_F_PINNED) {
				res->kept++;
				continue;
			}
			slot_set(b, i, NULL, 0);
			dp_cache_retire(c->ctl, o);
			res->removed++;
		}
		bucket_unlock(b);
	}
}

void
dp_cache_flush_match(struct dp_cache *c, const struct px_flush_spec *spec,
		     struct dp_cache_flush_result *res)
{
	res->removed = 0;
	res->kept = 0;
	/* A worker's cuckoo move can carry a matching entry from a bucket the pass has not seen
	 * to one it has. Passes repeat while moves happened during the last one, a few at most:
	 * a move needs a full pair of buckets, so under a load that moves all the time an entry
	 * can still slip through, and a second flush catches it. Pinned matches are seen by every
	 * pass, so `kept` is the last pass's count. */
	for (int pass = 0; pass < FLUSH_PASSES_MAX; pass++) {
		uint32_t moves = __atomic_load_n(&c->moves, __ATOMIC_ACQUIRE);

		res->kept = 0;
		flush_pass(c, spec, res);
		if (__atomic_load_n(&c->moves, __ATOMIC_ACQUIRE) == moves)
			break;
	}
	DP_CACHE_WCOUNT_ADD(c->ctl, flushed, res->removed);
}

uint32_t
dp_cache_bucket_count(const struct dp_cache *c)
{
	return c->mask + 1;
}

uint32_t
dp_cache_walk(struct dp_cache *c, uint32_t pos, uint32_t count, dp_cache_visit_fn fn, void *arg)
{
	uint32_t end = pos + count;

	if (end > c->mask + 1 || end < pos)
		end = c->mask + 1;
	for (; pos < end; pos++) {
		struct dp_cache_bucket *b = &c->buckets[pos];

		if (bucket_empty_peek(b))
			continue;
		bucket_lock_wait(b);
		for (int i = 0; i < WAYS; i++)
			if (b->e[i] != NULL)
				fn(arg, b->e[i]);
		bucket_unlock(b);
	}
	return pos;
}
