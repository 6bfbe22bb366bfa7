/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The answer cache: a fixed-size, two-choice, four-way set-associative hash of immutable
 * entries. Readers (workers) are lock-free and wait-free and write nothing shared: a hit is two
 * cache-line reads of the table plus the entry. There is exactly one writer, the control
 * thread, which publishes entries with release stores and frees replaced or evicted ones only
 * after an RCU (rte_rcu_qsbr) grace period, through a defer queue.
 *
 * Why not rte_hash: its keys are fixed-length and compared whole (a DNS key is up to 260 bytes,
 * so every probe would compare 260 bytes), it has no notion of expiry, and eviction would need
 * a second structure. Here a probe compares a 32-bit signature, then the name length, then the
 * name, and eviction falls out of the bucket layout: when both candidate buckets are full the
 * writer replaces the expired or soonest-to-expire entry among the eight.
 *
 * Keys are names a client or an authoritative server chose, so the index is keyed: one
 * SipHash-1-3 of the key under a secret drawn from the kernel when the cache is created gives
 * both bucket indexes and the signature. Nobody outside can compute which names share a bucket,
 * so nobody can aim queries at one to evict a chosen delegation or to fill it with their own.
 *
 * An entry holds a whole rendered answer (answer, authority and additional RRs) for one key, so
 * a hit is answered with one memcpy plus TTL patches.
 *
 * Workers that resolved something add it through dp_cache_feed.h (dp_cache_feed_put): a ring to
 * the control thread, which stays the only writer.
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

struct dp_cache_key {
	uint16_t qtype;
	uint16_t qclass;
	uint8_t kind;
	uint8_t name_len;              /* wire length, root label included */
	uint8_t name[PX_DNS_MAX_NAME]; /* lower-cased wire form */
};

/* Immutable once inserted. dp: ro, ctl: rw before insertion, then ro until freed by RCU. */
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

/*
 * Creates a cache with room for at least `entries` entries (rounded up to a power of two),
 * reclaiming through the RCU variable v, on NUMA socket `socket`, keyed by a secret drawn with
 * getrandom(2). Returns NULL and sets errno (rte_errno's value, or getrandom's) on failure.
 * Control thread only.
 */
struct dp_cache *dp_cache_create(const char *name, uint32_t entries, struct rte_rcu_qsbr *v,
				 int socket);

/* As dp_cache_create(), keyed by the caller's key: for benchmarks and tests that need the same
 * layout every run. A resolver must use dp_cache_create(). Control thread only. */
struct dp_cache *dp_cache_create_keyed(const char *name, uint32_t entries, struct rte_rcu_qsbr *v,
				       int socket, const struct px_siphash_key *key);

/* Frees the cache and every entry. Control thread only, after every reader has stopped. */
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
 * rte_rcu_qsbr_quiescent() calls) or the writer itself. Expiry is the caller's business
 * (dp_cache_entry_ttl()), so that a miss and an expired hit can be told apart and counted.
 */
const struct dp_cache_entry *dp_cache_lookup(const struct dp_cache *c, const uint8_t *name,
					     uint8_t name_len, uint16_t qtype, uint16_t qclass,
					     uint8_t kind);

/*
 * Builds an entry for key from ans, inserted at now_ms; rte_malloc'ed on the cache's socket.
 * Returns NULL and sets errno: EINVAL for a malformed answer (a TTL offset outside rr),
 * ENOMEM. Control thread only.
 */
struct dp_cache_entry *dp_cache_entry_new(const struct dp_cache *c, const struct dp_cache_key *key,
					  const struct dp_cache_answer *ans, uint64_t now_ms);

/*
 * Publishes e, taking ownership of it. An entry with the same key is replaced; otherwise a free
 * slot in the less loaded of the key's two buckets is used, or one is freed by moving an entry
 * to its other bucket, or else the expired or soonest-to-expire unpinned entry of the eight is
 * evicted. Returns 0, or -ENOSPC when all eight slots hold pinned entries (e is
 * then freed). Control thread only.
 */
int dp_cache_insert(struct dp_cache *c, struct dp_cache_entry *e);

/* Removes the key's entry. Returns 0 or -ENOENT. Control thread only. */
int dp_cache_delete(struct dp_cache *c, const struct dp_cache_key *key);

/* Removes up to `budget` expired unpinned entries, resuming where the last call stopped, so a
 * periodic call bounds how long memory is held by dead entries. Returns how many it removed.
 * Control thread only. */
unsigned dp_cache_sweep(struct dp_cache *c, uint64_t now_ms, unsigned budget);

/* Removes every unpinned entry (pinned too if `pinned`). Control thread only. */
void dp_cache_flush(struct dp_cache *c, bool pinned);

/* Frees whatever the defer queue can free now. Control thread only. */
void dp_cache_reclaim(struct dp_cache *c);

struct dp_cache_info {
	uint32_t slots;
	uint32_t entries;
	uint32_t pinned;
	uint64_t inserts, replaces, evictions, moves, expired_swept, insert_failures;
};

/* Counters kept by the writer. Control thread only. */
void dp_cache_info(const struct dp_cache *c, struct dp_cache_info *info);

/*
 * Whether a DP_CACHE_CUT entry with `labels` labels was ever inserted (the bit is never
 * cleared: an expired or evicted cut only costs a useless probe). Lets the closest-cut walk
 * (dp_cut_find) skip the depths no delegation was ever cached at. Any thread.
 */
bool dp_cache_has_cut_depth(const struct dp_cache *c, unsigned labels);
