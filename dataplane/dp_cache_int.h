/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cache's insides, shared by its table code (dp_cache.c) and its memory code (pools,
 * writers and entry building: dp_cache_mem.c). Nothing outside those two includes this.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <rte_pause.h>

#include "dp_cache.h"

#define DP_CACHE_WAYS 4
/* The control thread's writer and one per worker lcore. */
#define DP_CACHE_MAX_WRITERS (RTE_MAX_LCORE + 1)
/* A worker's defer queue, when its creator does not say: about a second of retirements at a
 * few thousand inserts per 20 ms tick between two quiescent reports is far more than needed. */
#define DP_CACHE_WRITER_DQ_DEFAULT 4096

/* One cache line. sig is a filter only: readers always confirm the key in the entry, so a
 * signature and pointer seen from two different moments can cause a miss, never a wrong hit. */
struct dp_cache_bucket {
	uint32_t sig[DP_CACHE_WAYS];             /* dp: ro, writers (holding lock): rw */
	struct dp_cache_entry *e[DP_CACHE_WAYS]; /* dp: ro (acquire), writers: rw (release) */
	uint32_t lock; /* 0 free, 1 held by a writer (acquire CAS, release store); readers never
			* look at it */
	/* What eviction needs of each slot's entry, so that choosing a victim reads no entry:
	 * its expiry in 1.024 s units (24 bits, compared relative to now), or DP_CACHE_META_PINNED
	 * / DP_CACHE_META_HEAP. Writers only, under the lock. */
	uint8_t meta[DP_CACHE_WAYS][3];
} __rte_cache_aligned;

_Static_assert(sizeof(struct dp_cache_bucket) == RTE_CACHE_LINE_SIZE, "a bucket is one line");

#define DP_CACHE_META_PINNED 0xffffffu /* never evicted */
#define DP_CACHE_META_HEAP 0xfffffeu   /* evicted by the control thread only */

/* Each writer's counters: it alone stores them (relaxed), dp_cache_info sums them. entries and
 * pinned are this writer's net contribution, negative when it retired more than it added. */
struct dp_cache_wcount {
	int64_t entries, pinned;
	uint64_t inserts, replaces, evictions, moves, expired_swept, insert_failures;
	uint64_t contended, no_mem, kept;
	uint64_t flushed;
	uint64_t evicted_expired;
};

/* One size class's pool per class, for one NUMA socket. */
struct dp_cache_pools {
	struct rte_mempool *mp[DP_CACHE_CLASS_COUNT];
};

struct dp_cache_writer {
	struct dp_cache *c;
	const struct dp_cache_pools *pools; /* its socket's */
	uint8_t socket_index;               /* of pools in dp_cache.pools */
	struct rte_rcu_qsbr_dq *dq;
	uint32_t dq_size;    /* retirements the dq takes at least (its ring may be larger) */
	uint32_t dq_pending; /* retirements in it at most: counted up per enqueue, set by each
			      * reclaim (the enqueue's own reclaims only make it an overcount) */
	bool ctl;            /* the control thread: waits for locks, may replace configuration */
	struct dp_cache_wcount n;
} __rte_cache_aligned;

struct dp_cache {
	struct dp_cache_bucket *buckets;
	uint32_t mask;
	struct px_siphash_key key; /* dp: ro, ctl: written once at creation */
	int socket;
	uint32_t slots;
	struct rte_rcu_qsbr *qsbr;
	/* Bumped by a writer each time it moves an entry to its other bucket, so that a reader
	 * that looked in both buckets while the entry was in flight knows to look again.
	 * dp: ro (acquire), writers: atomic add (release). Written only on moves. */
	uint32_t moves __rte_cache_aligned;
	/* Bit L: a cut entry with L labels was inserted once. dp: ro (relaxed), writers: atomic or. */
	uint64_t cut_depths[2];
	/* Control thread only below (before launch, or its own writer's state). */
	uint32_t sweep_pos;
	uint32_t seq; /* pool and queue names */
	struct dp_cache_writer *ctl;
	struct dp_cache_writer *writers[DP_CACHE_MAX_WRITERS];
	uint32_t writer_count;
	struct dp_cache_pools pools[RTE_MAX_NUMA_NODES]; /* [socket]; SOCKET_ID_ANY uses [0] */
	bool has_pools[RTE_MAX_NUMA_NODES];
};

_Static_assert(RTE_MAX_NUMA_NODES <= 64, "an entry's pool byte holds the socket in 6 bits");

/* A relaxed counter bump by the writer that owns it: dp_cache_info reads it from another
 * thread without a data race. */
#define DP_CACHE_WCOUNT_ADD(w, f, v)                                                       \
	__atomic_store_n(&(w)->n.f, (w)->n.f + (v), __ATOMIC_RELAXED)

/* Builds an entry for w (its pools; the heap only for the control thread) whose key hashes to
 * hash (dp_cache_hash()). Returns NULL with *err set to -EINVAL, -E2BIG or -ENOMEM. */
struct dp_cache_entry *dp_cache_entry_build(struct dp_cache_writer *w,
					    const struct dp_cache_key *key,
					    const struct dp_cache_answer *ans, uint64_t now_ms,
					    uint64_t hash, int *err);

/* Gives an entry's memory back (pool or heap). Any writer, for entries it owns. */
void dp_cache_entry_release(const struct dp_cache *c, struct dp_cache_entry *e);

/* Hands an entry no reader can reach any more to w's defer queue. The caller made sure there
 * is room (workers) or accepts a wait for a grace period (the control thread). */
void dp_cache_retire(struct dp_cache_writer *w, struct dp_cache_entry *e);

/* Sets up c's pools for socket (idempotent) and the writers' registry. 0 or -errno. */
int dp_cache_pools_make(struct dp_cache *c, int socket);
void dp_cache_pools_free(struct dp_cache *c);
struct dp_cache_writer *dp_cache_writer_make(struct dp_cache *c, int socket, unsigned dq_size,
					     bool ctl);
void dp_cache_writers_free(struct dp_cache *c);

/* Bucket locks and slot stores, shared by the table code (dp_cache.c) and the walks
 * (dp_cache_walk.c): the writer protocol is dp_cache.h's, whichever file runs it. */

static inline bool
bucket_trylock(struct dp_cache_bucket *b)
{
	uint32_t free_ = 0;

	return __atomic_compare_exchange_n(&b->lock, &free_, 1, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

/* The control thread only: a worker holds a bucket for a few stores, never waiting itself. */
static inline void
bucket_lock_wait(struct dp_cache_bucket *b)
{
	while (!bucket_trylock(b))
		while (__atomic_load_n(&b->lock, __ATOMIC_RELAXED) != 0)
			rte_pause();
}

static inline void
bucket_unlock(struct dp_cache_bucket *b)
{
	__atomic_store_n(&b->lock, 0, __ATOMIC_RELEASE);
}

static inline uint32_t
coarse_s(uint64_t ms)
{
	return (uint32_t)(ms >> 10) & 0xffffffu;
}

/* The eviction summary of e (dp_cache_bucket.meta). */
static inline uint32_t
meta_of(const struct dp_cache_entry *e)
{
	uint32_t v;

	if (e->flags & DP_CACHE_F_PINNED)
		return DP_CACHE_META_PINNED;
	if (e->flags & DP_CACHE_F_HEAP)
		return DP_CACHE_META_HEAP;
	v = coarse_s(e->expire_ms);
	/* A time that happens to spell a marker is told a second sooner. */
	return v >= DP_CACHE_META_HEAP ? DP_CACHE_META_HEAP - 1 : v;
}

static inline uint32_t
meta_get(const struct dp_cache_bucket *b, int i)
{
	return (uint32_t)b->meta[i][0] | (uint32_t)b->meta[i][1] << 8 |
	       (uint32_t)b->meta[i][2] << 16;
}

static inline void
meta_set(struct dp_cache_bucket *b, int i, uint32_t v)
{
	b->meta[i][0] = (uint8_t)v;
	b->meta[i][1] = (uint8_t)(v >> 8);
	b->meta[i][2] = (uint8_t)(v >> 16);
}

static inline void
slot_publish(struct dp_cache_bucket *b, int i, struct dp_cache_entry *e, uint32_t sig)
{
	/* Pointer first: a reader that sees the new signature with the old pointer misses; one
	 * that sees the new pointer with the old signature misses too. Neither is ever wrong.
	 * Both stores release: a reader may skip a slot on its signature alone, and the move
	 * protocol needs a reader that saw a cleared signature to also see the `moves` bump that
	 * preceded it (through the acquire fence in dp_cache_lookup()). */
	__atomic_store_n(&b->e[i], e, __ATOMIC_RELEASE);
	__atomic_store_n(&b->sig[i], sig, __ATOMIC_RELEASE);
}

/* Puts e (NULL: nothing) in slot i of b, which the caller holds. */
static inline void
slot_set(struct dp_cache_bucket *b, int i, struct dp_cache_entry *e, uint32_t sig)
{
	meta_set(b, i, e != NULL ? meta_of(e) : 0);
	slot_publish(b, i, e, sig);
}
