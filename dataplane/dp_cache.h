/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The answer cache: a fixed-size, two-choice, four-way set-associative hash of immutable
 * entries. Readers (workers) are lock-free and wait-free and write nothing shared: a hit is two
 * cache-line reads of the table plus the entry. Writers (the workers and the control thread:
 * "Writers" below) publish entries with release stores and free replaced, evicted, swept or
 * flushed ones only after an RCU (rte_rcu_qsbr) grace period, through their defer queues.
 *
 * Why not rte_hash: its keys are fixed-length and compared whole (a DNS key is up to 260 bytes,
 * so every probe would compare 260 bytes), it has no notion of expiry, and eviction would need
 * a second structure. Here a probe compares a 32-bit signature, then the name length, then the
 * name, and eviction falls out of the bucket layout: when both candidate buckets are full the
 * writer replaces an expired entry among the eight if there is one (the longest expired: kept
 * for serve-stale, it is worth less than any live entry, which a move would keep), else moves an
 * entry to its other bucket, else replaces the soonest to expire (to the second: each bucket
 * keeps its slots' expiry in its spare bytes, so the choice reads no entry).
 *
 * Keys are names a client or an authoritative server chose, so the index is keyed: one
 * SipHash-1-3 of the key under a secret drawn from the kernel when the cache is created gives
 * both bucket indexes and the signature. Nobody outside can compute which names share a bucket,
 * so nobody can aim queries at one to evict a chosen delegation or to fill it with their own.
 *
 * An entry holds a whole rendered answer (answer, authority and additional RRs) for one key, so
 * a hit is answered with one memcpy plus TTL patches.
 *
 * Writers. Every worker writes (what it resolved, before it answers the clients, through its
 * own struct dp_cache_writer), and so does the control thread (local zones, priming-free
 * configuration, deletes, the sweep and the flush). A writer holds a per-bucket lock, a word
 * in the bucket's own line that readers never look at, while it changes the bucket:
 *  - An insert takes both of its key's buckets (lower index first). A worker only tries: if
 *    either is held it drops the insert and counts it (-EBUSY), it never spins. The control
 *    thread waits, which ends because a worker holds a lock for a bounded handful of stores.
 *  - Holding both buckets makes "is the key here? then replace, else place" atomic: two
 *    writers of one key cannot both add it, and a replacement retires exactly one old entry.
 *  - A cuckoo move takes the third bucket (the moved entry's other one) with a try-lock only,
 *    for every writer; a busy one is skipped like a full one. With only try-locks beyond the
 *    ordered pair, no writer waits while holding a lock another waiter needs: no deadlock.
 *  - A move holds both buckets of the entry it moves (the source is one of them, the target
 *    the other), so no other writer can replace, delete or move that entry meanwhile. Its
 *    steps are as with one writer: the copy is published in the target, then `moves` is
 *    bumped with an atomic add (writers of different buckets may move at once), then the
 *    source slot is cleared. A reader that missed the entry in both buckets read the source
 *    after the clear, which follows the bump in release order, so its acquire fence and
 *    second load of `moves` see the bump and it looks again. Several moves at once only
 *    make more readers look again; none can hide an entry from a reader that saw the
 *    counter unchanged, since every clear of a moved entry is preceded by its own bump.
 *  - Readers are unchanged: lock-free, they store nothing shared. Every retirement (a
 *    replacement, an eviction, a delete, a sweep, a flush) goes to the retiring writer's own
 *    RCU defer queue, reclaimed in that writer's loop.
 *  - The control thread's walks over the table (the sweep, the flushes, the dump's visit:
 *    dp_cache_walk.c) are writers like the rest: each bucket is locked before its slots are
 *    read or cleared. The control thread is no RCU reader, so it reads an entry only while
 *    it holds a bucket that points at it: no other writer can retire it meanwhile, and what
 *    was retired before is unreachable from the bucket. A walk that passes a bucket a worker
 *    moves an entry out of (to one already walked) misses that entry; a flush therefore
 *    walks again while the `moves` counter changed during its pass (a bounded few times).
 *
 * Memory. Entries come from fixed size-class mempools (DP_CACHE_CLASS_*) made at creation for
 * the table's size, one set per NUMA socket that has a writer: an insert never calls the heap,
 * and an exhausted class spills to the next larger one, then counts -ENOMEM. Only the control
 * thread may make an entry larger than the largest class (local zone data, up to 64 KiB), from
 * the heap; workers never replace, evict or free one (it is pinned configuration).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include <pollux/siphash.h>
#include <pollux/wire.h>

struct rte_rcu_qsbr;

/* What a key stands for. Local zones need the two markers so that a miss inside a zone can be
 * answered authoritatively without walking zone data. */
enum dp_cache_kind {
	DP_CACHE_RRSET = 0, /* the answer to (qname, qtype, qclass) */
	DP_CACHE_NAME = 1,  /* qname exists: NODATA (with the SOA) for types without an RRSET */
	DP_CACHE_ZONE = 2,  /* qname is a local zone apex: NXDOMAIN below it for unknown names */
	DP_CACHE_CUT = 3,   /* a delegation (zone cut) at qname: its NS names and addresses, in
			     * dp_cut.h's encoding; never served to clients, only to start resolution
			     * from (qtype NS, class IN) */
};

#define DP_CACHE_F_AA 0x01     /* answer authoritatively (local zone data) */
#define DP_CACHE_F_PINNED 0x02 /* configuration, not cache: never evicted; its TTL counts down
				* and starts again, as if re-fetched at each expiry */
#define DP_CACHE_F_PRIMED 0x04 /* the root cut priming verified (origin, for polluxctl
				* lookup); local-zone data is DP_CACHE_F_AA, resolved data has
				* neither: the flag byte is in the header a hit reads anyway */
#define DP_CACHE_F_HEAP 0x80   /* set by the cache, not by callers: an entry too large for
				* the pools, from the heap (control thread only) */

/* Entry sizes (header, TTL offsets, name and RRs) of the pools' classes. The largest holds what
 * a resolution renders at most (DP_CACHE_RR_MAX bytes of RRs, DP_CACHE_TTL_OFF_MAX TTLs). */
#define DP_CACHE_RR_MAX 4096
#define DP_CACHE_TTL_OFF_MAX 64
#define DP_CACHE_CLASS_COUNT 3

struct dp_cache_key {
	uint16_t qtype;
	uint16_t qclass;
	uint8_t kind;
	uint8_t name_len;              /* wire length, root label included */
	uint8_t name[PX_DNS_MAX_NAME]; /* lower-cased wire form */
};

/* Immutable once inserted: written by the thread that builds it, then read-only for every
 * thread until its writer frees it after an RCU grace period. */
struct dp_cache_entry {
	uint64_t hash;      /* dp_cache_hash() of the key, under the cache's secret */
	uint64_t insert_ms; /* dp_clock_ms() at insertion */
	uint64_t expire_ms; /* served only while dp_clock_ms() < expire_ms (unpinned) */
	uint32_t ttl;       /* seconds, at insertion; the cycle length for pinned entries */
	uint16_t qtype;
	uint16_t qclass;
	uint8_t kind;
	uint8_t name_len;
	uint8_t rcode;
	uint8_t flags;
	uint16_t an_count, ns_count, ar_count;
	uint16_t rr_len;
	uint16_t ttl_off_count;
	uint8_t pool; /* the cache's own: which pool it goes back to (size class | socket << 2) */
	/* ttl_off[ttl_off_count] (uint16_t), then name[name_len], then rr[rr_len]. */
	uint16_t data[];
};

static inline const uint16_t *
dp_cache_entry_ttl_off(const struct dp_cache_entry *e)
{
	return e->data;
}

static inline const uint8_t *
dp_cache_entry_name(const struct dp_cache_entry *e)
{
	return (const uint8_t *)(e->data + e->ttl_off_count);
}

static inline const uint8_t *
dp_cache_entry_rr(const struct dp_cache_entry *e)
{
	return dp_cache_entry_name(e) + e->name_len;
}

/*
 * The TTL to serve at now_ms, or -1 if the entry has expired and must not be served. Unpinned
 * entries count down from insertion and expire; pinned entries count down from their TTL to 1
 * and start again. Any thread.
 */
static inline int64_t
dp_cache_entry_ttl(const struct dp_cache_entry *e, uint64_t now_ms)
{
	if (likely(!(e->flags & DP_CACHE_F_PINNED))) {
		if (now_ms >= e->expire_ms)
			return -1;
		return (int64_t)((e->expire_ms - now_ms) / 1000);
	}
	if (e->ttl == 0)
		return 0;
	/* Inserted after the caller sampled its clock: it is brand new. */
	if (now_ms < e->insert_ms)
		return e->ttl;
	return (int64_t)e->ttl - (int64_t)(((now_ms - e->insert_ms) / 1000) % e->ttl);
}

/*
 * Whether an entry that dp_cache_entry_ttl() calls expired may still be served stale at now_ms
 * (RFC 8767): a resolved answer (positive or negative: never local-zone data, pinned or from
 * the heap, never a cut) expired less than stale_ms ago. Any thread.
 */
static inline bool
dp_cache_entry_stale(const struct dp_cache_entry *e, uint64_t now_ms, uint64_t stale_ms)
{
	return e->kind == DP_CACHE_RRSET &&
	       !(e->flags & (DP_CACHE_F_AA | DP_CACHE_F_PINNED | DP_CACHE_F_HEAP)) &&
	       now_ms >= e->expire_ms && now_ms - e->expire_ms < stale_ms;
}

/*
 * Whether a hit at now_ms on an entry that is still live falls in the last tenth of its TTL,
 * when a prefetch refreshes it. Reads only the entry's header, which the hit reads anyway.
 * Any thread.
 */
static inline bool
dp_cache_entry_prefetch_due(const struct dp_cache_entry *e, uint64_t now_ms)
{
	return e->expire_ms - now_ms < (uint64_t)e->ttl * 100 && !(e->flags & DP_CACHE_F_PINNED);
}

/*
 * True when the len bytes at a and at b are equal: whole 8-byte words, then the last 8 bytes
 * (overlapping), so nothing outside either is read. The lookup's name compare: a libc call costs
 * more than the compare itself for names this short. Any thread.
 */
static inline bool
dp_cache_name_eq(const uint8_t *a, const uint8_t *b, unsigned len)
{
	uint64_t x, y, diff = 0;

	if (len < 8)
		return memcmp(a, b, len) == 0;
	for (unsigned i = 0; i + 8 <= len; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		diff |= x ^ y;
	}
	memcpy(&x, a + len - 8, 8);
	memcpy(&y, b + len - 8, 8);
	return (diff | (x ^ y)) == 0;
}

/* What a new entry holds besides its key. */
struct dp_cache_answer {
	uint8_t rcode;
	uint8_t flags; /* DP_CACHE_F_* */
	uint32_t ttl;
	uint16_t an_count, ns_count, ar_count;
	const uint8_t *rr;
	uint16_t rr_len;
	const uint16_t *ttl_off; /* offset of each RR's TTL field within rr */
	uint16_t ttl_off_count;
};

struct dp_cache;
struct dp_cache_writer;

/*
 * Creates a cache with room for at least `entries` entries (rounded up to a power of two),
 * reclaiming through the RCU variable v, on NUMA socket `socket`, keyed by a secret drawn with
 * getrandom(2), with the entry pools for that socket and the control thread's writer. Returns
 * NULL and sets errno (rte_errno's value, or getrandom's) on failure. Control thread only.
 */
struct dp_cache *dp_cache_create(const char *name, uint32_t entries, struct rte_rcu_qsbr *v,
				 int socket);

/* As dp_cache_create(), keyed by the caller's key: for benchmarks and tests that need the same
 * layout every run. A resolver must use dp_cache_create(). Control thread only. */
struct dp_cache *dp_cache_create_keyed(const char *name, uint32_t entries, struct rte_rcu_qsbr *v,
				       int socket, const struct px_siphash_key *key);

/*
 * Makes a writer for one worker on NUMA socket `socket`: its RCU defer queue (of `dq_size`
 * retirements, 0 for the default) and, if that socket has none yet, a set of entry pools sized
 * like the first. The cache owns it (dp_cache_free frees it). Returns NULL and sets errno.
 * Control thread only, before the worker starts.
 */
struct dp_cache_writer *dp_cache_writer_create(struct dp_cache *c, int socket, unsigned dq_size);

/* Frees the cache, its writers and every entry. Control thread only, after every reader and
 * writer has stopped. */
void dp_cache_free(struct dp_cache *c);

/* Hash of a key (name lower-cased) under c's secret; readers compute it once per lookup and
 * take both buckets and the signature from it. Any thread. */
uint64_t dp_cache_hash(const struct dp_cache *c, const uint8_t *name, uint8_t name_len,
		       uint16_t qtype, uint16_t qclass, uint8_t kind);

/* The two buckets (idx[0] the primary) a key of this hash may live in. Any thread: for tests and
 * diagnostics. */
void dp_cache_buckets(const struct dp_cache *c, uint64_t hash, uint32_t idx[2]);

/*
 * Looks up a key, returning the entry or NULL. The entry stays valid until the caller's next
 * quiescent state report, so the caller must be an online RCU reader (a worker between two
 * rte_rcu_qsbr_quiescent() calls); the control thread uses dp_cache_entry_clone(). Expiry is the caller's business
 * (dp_cache_entry_ttl()), so that a miss and an expired hit can be told apart and counted.
 */
const struct dp_cache_entry *dp_cache_lookup(const struct dp_cache *c, const uint8_t *name,
					     uint8_t name_len, uint16_t qtype, uint16_t qclass,
					     uint8_t kind);

/*
 * Worker insert: builds an entry for key from ans (its flags but DP_CACHE_F_PINNED), inserted
 * at now_ms, from w's socket's pools, and publishes it as dp_cache_insert() would. Never waits,
 * never calls the heap. Returns 0, or: -EINVAL (a TTL offset outside rr, no name), -E2BIG
 * (larger than the largest class), -ENOMEM (every class that fits is empty), -ENOBUFS (w's
 * defer queue is full: readers lag), -EBUSY (another writer holds one of the key's buckets),
 * -EEXIST (the key holds configuration: kept), -ENOSPC (all eight slots are configuration).
 * Only the worker that owns w, as an online RCU reader.
 */
int dp_cache_put(struct dp_cache_writer *w, const struct dp_cache_key *key,
		 const struct dp_cache_answer *ans, uint64_t now_ms);

/* Frees what w's defer queue can free now. The owner of w, once per loop, after its quiescent
 * state report; cheap when nothing is pending. */
void dp_cache_writer_reclaim(struct dp_cache_writer *w);

/*
 * Builds an entry for key from ans, inserted at now_ms, from the pools of the cache's socket (or
 * the heap, when larger than the largest class). Returns NULL and sets errno: EINVAL for a
 * malformed answer (a TTL offset outside rr), ENOMEM. Control thread only.
 */
struct dp_cache_entry *dp_cache_entry_new(const struct dp_cache *c, const struct dp_cache_key *key,
					  const struct dp_cache_answer *ans, uint64_t now_ms);

/*
 * A copy of the key's entry (same answer, flags and insertion time), made while the control
 * thread holds the key's buckets: the control thread is no RCU reader, and a worker may retire
 * what dp_cache_lookup() would return at any moment, so it reads entries only this way. Returns
 * NULL with errno ENOENT (no such key) or ENOMEM. Control thread only.
 */
struct dp_cache_entry *dp_cache_entry_clone(struct dp_cache *c, const struct dp_cache_key *key);

/* Frees an entry from dp_cache_entry_new() that was never inserted. Control thread only. */
void dp_cache_entry_free(struct dp_cache_entry *e);

/*
 * Publishes e, taking ownership of it. An entry with the same key is replaced; otherwise a free
 * slot in the less loaded of the key's two buckets is used, or one is freed by moving an entry
 * to its other bucket, or else the expired or soonest-to-expire unpinned entry of the eight is
 * evicted. Waits for a bucket a worker holds. Returns 0, or -ENOSPC when all eight slots hold
 * pinned entries (e is then freed). Control thread only.
 */
int dp_cache_insert(struct dp_cache *c, struct dp_cache_entry *e);

/* Removes the key's entry. Returns 0 or -ENOENT. Control thread only. */
int dp_cache_delete(struct dp_cache *c, const struct dp_cache_key *key);

/* Removes expired unpinned entries from up to `budget` buckets, resuming where the last call
 * stopped, so a periodic call bounds how long memory is held by dead entries. A bucket a worker
 * holds is skipped until the next round. Returns how many it removed. Control thread only. */
unsigned dp_cache_sweep(struct dp_cache *c, uint64_t now_ms, unsigned budget);

/* As dp_cache_sweep(), but resolved answers (DP_CACHE_RRSET) are kept until they have been
 * expired for keep_ms: serve-stale's window (dp_cache_entry_stale()). They still count against
 * the table's size, and an insert into a full pair of buckets evicts them first. */
unsigned dp_cache_sweep_keep(struct dp_cache *c, uint64_t now_ms, uint64_t keep_ms,
			     unsigned budget);

/* Removes every unpinned entry (pinned too if `pinned`). Control thread only. */
void dp_cache_flush(struct dp_cache *c, bool pinned);

struct px_flush_spec;

struct dp_cache_flush_result {
	uint32_t removed; /* entries taken out (freed after a grace period) */
	uint32_t kept;    /* entries the spec matched that are configuration (local-zone data) */
};

/*
 * Removes every unpinned entry spec matches (pollux/cache_match.h), expired or not; a pinned
 * one (local-zone data) is never removed, only counted as kept. One pass over the whole table,
 * each non-empty bucket locked in turn (waiting for a worker that holds it): its cost grows
 * with the table, not with what it removes. An entry a worker inserts meanwhile may survive.
 * Control thread only.
 */
void dp_cache_flush_match(struct dp_cache *c, const struct px_flush_spec *spec,
			  struct dp_cache_flush_result *res);

/* The number of buckets, the unit dp_cache_walk() counts in. Any thread. */
uint32_t dp_cache_bucket_count(const struct dp_cache *c);

/* Called for each entry of a bucket while its lock is held: it may read e (nothing can retire
 * it meanwhile) but not keep it, and must be quick (workers that want the bucket drop their
 * inserts meanwhile) and must not call into the cache. */
typedef void (*dp_cache_visit_fn)(void *arg, const struct dp_cache_entry *e);

/*
 * Calls fn for every entry of buckets [pos, pos + count) (clamped to the table), locking each
 * non-empty bucket in turn, and returns where the next call should start: the walk is over
 * when that is dp_cache_bucket_count(). Walking a table in slices bounds each call's cost; an
 * entry moved, inserted or removed meanwhile may be seen twice or not at all. Control thread
 * only.
 */
uint32_t dp_cache_walk(struct dp_cache *c, uint32_t pos, uint32_t count, dp_cache_visit_fn fn,
		       void *arg);

/* Frees whatever the control thread's defer queue can free now. Control thread only. */
void dp_cache_reclaim(struct dp_cache *c);

struct dp_cache_info {
	uint32_t slots;
	uint32_t entries;
	uint32_t pinned;
	uint32_t writers; /* the control thread's and the workers' */
	uint64_t inserts, replaces, evictions, moves, expired_swept, insert_failures;
	uint64_t contended; /* worker inserts dropped: a bucket was held by another writer */
	uint64_t no_mem;    /* inserts refused: no pool object (or heap) for the entry */
	uint64_t kept;      /* worker inserts refused: the key holds configuration */
	uint64_t flushed;   /* entries removed by flush commands (dp_cache_flush_match) */
	uint64_t evicted_expired; /* of evictions: expired entries (serve-stale's) made room */
};

/* Counters summed over every writer (each writer's are its own; read relaxed, so a sum taken
 * while workers write is a moment's approximation). Control thread only. */
void dp_cache_info(const struct dp_cache *c, struct dp_cache_info *info);

/*
 * Whether a DP_CACHE_CUT entry with `labels` labels was ever inserted (the bit is never
 * cleared: an expired or evicted cut only costs a useless probe). Lets the closest-cut walk
 * (dp_cut_find) skip the depths no delegation was ever cached at. Any thread.
 */
bool dp_cache_has_cut_depth(const struct dp_cache *c, unsigned labels);
