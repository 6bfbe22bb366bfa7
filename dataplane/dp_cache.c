/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dp_cache.h"

RTE_LOG_REGISTER(dp_cache_logtype, pollux.dp.cache, INFO);
#define CACHE_LOG(level, ...) rte_log(RTE_LOG_##level, dp_cache_logtype, "cache: " __VA_ARGS__)

#define WAYS 4

/* One cache line. sig is a filter only: readers always confirm the key in the entry, so a
 * signature and pointer seen from two different moments can cause a miss, never a wrong hit. */
struct bucket {
	uint32_t sig[WAYS];                /* dp: ro, ctl: rw */
	struct dp_cache_entry *e[WAYS];    /* dp: ro (acquire), ctl: rw (release) */
} __rte_cache_aligned;

struct dp_cache {
	struct bucket *buckets;
	uint32_t mask;
	struct px_siphash_key key; /* dp: ro, ctl: written once at creation */
	int socket;
	struct rte_rcu_qsbr *qsbr;
	struct rte_rcu_qsbr_dq *dq;
	/* Bumped by the writer each time it moves an entry to its other bucket, so that a reader
	 * that looked in both buckets while the entry was in flight knows to look again.
	 * dp: ro (acquire), ctl: rw (release). Written only on moves: a read-mostly line. */
	uint32_t moves __rte_cache_aligned;
	/* Bit L: a cut entry with L labels was inserted once. dp: ro (relaxed), ctl: atomic or. */
	uint64_t cut_depths[2];
	/* Writer-only state below. */
	uint32_t sweep_pos;
	struct dp_cache_info info;
};

/* Inlined into the lookup: the hash is the hit path's longest dependency chain, and the
 * bucket loads wait for it. */
static inline uint64_t
key_hash(const struct dp_cache *c, const uint8_t *name, uint8_t name_len, uint16_t qtype,
	 uint16_t qclass, uint8_t kind)
{
	/* The name is hashed where it lies, the small fields as the tail word: no copy. */
	return px_siphash13_tail(&c->key, name, name_len,
				 (uint64_t)qtype | (uint64_t)qclass << 16 | (uint64_t)kind << 32);
}

uint64_t
dp_cache_hash(const struct dp_cache *c, const uint8_t *name, uint8_t name_len, uint16_t qtype,
	      uint16_t qclass, uint8_t kind)
{
	return key_hash(c, name, name_len, qtype, qclass, kind);
}

/* The signature kept in a slot: the hash's high half, independent of the low bits that choose
 * the primary bucket, so keys that share a bucket still differ in all 32 bits of it. */
static inline uint32_t
sig_of(uint64_t h)
{
	return (uint32_t)(h >> 32);
}

static inline uint32_t
alt_bucket(const struct dp_cache *c, uint32_t idx, uint32_t sig)
{
	/* XOR with a value of the signature alone is an involution: from either bucket and the
	 * signature a move finds the other. The value is odd, so with two buckets or more the
	 * two always differ. */
	return (idx ^ ((sig | 1) * 0x5bd1e995u)) & c->mask;
}

void
dp_cache_buckets(const struct dp_cache *c, uint64_t hash, uint32_t idx[2])
{
	idx[0] = (uint32_t)hash & c->mask;
	idx[1] = alt_bucket(c, idx[0], sig_of(hash));
}

static inline bool
key_eq(const struct dp_cache_entry *e, const uint8_t *name, uint8_t name_len, uint16_t qtype,
       uint16_t qclass, uint8_t kind)
{
	return e->name_len == name_len && e->qtype == qtype && e->qclass == qclass &&
	       e->kind == kind && dp_cache_name_eq(dp_cache_entry_name(e), name, name_len);
}

/* Returns the matching entry in b, or NULL. The pointer returned is the one compared: never
 * reload a slot after matching it, a replacement may have landed there meanwhile. */
static inline const struct dp_cache_entry *
bucket_find(const struct bucket *b, uint32_t sig, const uint8_t *name, uint8_t name_len,
	    uint16_t qtype, uint16_t qclass, uint8_t kind)
{
	for (int i = 0; i < WAYS; i++) {
		if (__atomic_load_n(&b->sig[i], __ATOMIC_RELAXED) != sig)
			continue;
		const struct dp_cache_entry *e = __atomic_load_n(&b->e[i], __ATOMIC_ACQUIRE);

		if (e != NULL && key_eq(e, name, name_len, qtype, qclass, kind))
			return e;
	}
	return NULL;
}

/* The slot of a key in b, for the writer (which alone changes slots, so no race). */
static inline int
bucket_slot(const struct bucket *b, uint32_t sig, const uint8_t *name, uint8_t name_len,
	    uint16_t qtype, uint16_t qclass, uint8_t kind)
{
	for (int i = 0; i < WAYS; i++) {
		const struct dp_cache_entry *e = b->e[i];

		if (e != NULL && b->sig[i] == sig && key_eq(e, name, name_len, qtype, qclass, kind))
			return i;
	}
	return -1;
}

const struct dp_cache_entry *
dp_cache_lookup(const struct dp_cache *c, const uint8_t *name, uint8_t name_len, uint16_t qtype,
		uint16_t qclass, uint8_t kind)
{
	uint64_t h = key_hash(c, name, name_len, qtype, qclass, kind);
	uint32_t sig = sig_of(h), idx = (uint32_t)h & c->mask;
	const struct bucket *b1 = &c->buckets[idx];
	const struct bucket *b2 = &c->buckets[alt_bucket(c, idx, sig)];
	const struct dp_cache_entry *e;
	uint32_t moves;

	do {
		moves = __atomic_load_n(&c->moves, __ATOMIC_ACQUIRE);
		e = bucket_find(b1, sig, name, name_len, qtype, qclass, kind);
		if (likely(e != NULL))
			return e;
		e = bucket_find(b2, sig, name, name_len, qtype, qclass, kind);
		if (e != NULL)
			return e;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (unlikely(moves != __atomic_load_n(&c->moves, __ATOMIC_RELAXED)));
	return NULL;
}

static void
entry_free_cb(void *p, void *elem, unsigned int n)
{
	struct dp_cache_entry **ep = elem;

	RTE_SET_USED(p);
	for (unsigned int i = 0; i < n; i++)
		rte_free(ep[i]);
}

struct dp_cache *
dp_cache_create(const char *name, uint32_t entries, struct rte_rcu_qsbr *v, int socket)
{
	uint8_t raw[PX_SIPHASH_KEY_LEN];
	struct px_siphash_key key;
	ssize_t n = getrandom(raw, sizeof(raw), 0);

	if (n != (ssize_t)sizeof(raw)) {
		errno = n < 0 ? errno : EIO;
		return NULL;
	}
	key = px_siphash_key_from(raw);
	memset(raw, 0, sizeof(raw));
	return dp_cache_create_keyed(name, entries, v, socket, &key);
}

struct dp_cache *
dp_cache_create_keyed(const char *name, uint32_t entries, struct rte_rcu_qsbr *v, int socket,
		      const struct px_siphash_key *key)
{
	struct dp_cache *c;
	uint32_t nb;
	char dqname[RTE_RCU_QSBR_DQ_NAMESIZE];

	if (name == NULL || v == NULL || key == NULL || entries == 0 || entries > (1u << 30)) {
		errno = EINVAL;
		return NULL;
	}
	nb = rte_align32pow2((entries + WAYS - 1) / WAYS);
	c = rte_zmalloc_socket("dp_cache", sizeof(*c), RTE_CACHE_LINE_SIZE, socket);
	if (c == NULL)
		goto nomem;
	c->buckets = rte_zmalloc_socket("dp_cache_buckets", (size_t)nb * sizeof(struct bucket),
					RTE_CACHE_LINE_SIZE, socket);
	if (c->buckets == NULL)
		goto nomem;
	c->mask = nb - 1;
	c->key = *key;
	c->socket = socket;
	c->qsbr = v;
	c->info.slots = nb * WAYS;

	snprintf(dqname, sizeof(dqname), "%s", name);
	/* Every slot can be waiting for reclamation at once (a full flush), plus a margin for
	 * the replacements made meanwhile: size for that, so an enqueue only fails when readers
	 * stall. Reclaim in small batches as retirements come, so the queue rarely grows. */
	struct rte_rcu_qsbr_dq_parameters p = {
		.name = dqname,
		.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE,
		.size = c->info.slots + 1024,
		.esize = sizeof(struct dp_cache_entry *),
		.trigger_reclaim_limit = 32,
		.max_reclaim_size = 256,
		.free_fn = entry_free_cb,
		.p = c,
		.v = v,
	};
	c->dq = rte_rcu_qsbr_dq_create(&p);
	if (c->dq == NULL) {
		int err = rte_errno;

		rte_free(c->buckets);
		rte_free(c);
		errno = err != 0 ? err : ENOMEM;
		return NULL;
	}
	return c;
nomem:
	if (c != NULL)
		rte_free(c->buckets);
	rte_free(c);
	errno = ENOMEM;
	return NULL;
}

void
dp_cache_free(struct dp_cache *c)
{
	if (c == NULL)
		return;
	/* Readers are gone: the defer queue's pending entries can be freed at once. */
	rte_rcu_qsbr_dq_delete(c->dq);
	for (uint32_t i = 0; i <= c->mask; i++)
		for (int w = 0; w < WAYS; w++)
			rte_free(c->buckets[i].e[w]);
	rte_free(c->buckets);
	rte_free(c);
}

struct dp_cache_entry *
dp_cache_entry_new(const struct dp_cache *c, const struct dp_cache_key *key,
		   const struct dp_cache_answer *ans, uint64_t now_ms)
{
	struct dp_cache_entry *e;
	size_t sz;

	if (key->name_len == 0 || (ans->rr_len != 0 && ans->rr == NULL) ||
	    (ans->ttl_off_count != 0 && ans->ttl_off == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	for (uint16_t i = 0; i < ans->ttl_off_count; i++) {
		if ((uint32_t)ans->ttl_off[i] + 4 > ans->rr_len) {
			errno = EINVAL;
			return NULL;
		}
	}
	sz = sizeof(*e) + ans->ttl_off_count * sizeof(uint16_t) + key->name_len + ans->rr_len;
	e = rte_malloc_socket("dp_cache_entry", sz, 0, c->socket);
	if (e == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	e->hash = dp_cache_hash(c, key->name, key->name_len, key->qtype, key->qclass, key->kind);
	e->ttl = ans->ttl;
	e->insert_ms = now_ms;
	e->expire_ms = now_ms + (uint64_t)ans->ttl * 1000;
	e->qtype = key->qtype;
	e->qclass = key->qclass;
	e->kind = key->kind;
	e->name_len = key->name_len;
	e->rcode = ans->rcode;
	e->flags = ans->flags;
	e->an_count = ans->an_count;
	e->ns_count = ans->ns_count;
	e->ar_count = ans->ar_count;
	e->rr_len = ans->rr_len;
	e->ttl_off_count = ans->ttl_off_count;
	if (ans->ttl_off_count != 0)
		memcpy(e->data, ans->ttl_off, ans->ttl_off_count * sizeof(uint16_t));
	memcpy((uint8_t *)dp_cache_entry_name(e), key->name, key->name_len);
	if (ans->rr_len != 0)
		memcpy((uint8_t *)dp_cache_entry_rr(e), ans->rr, ans->rr_len);
	return e;
}

/* Hands a no longer reachable entry to RCU. If the defer queue is full (a reader has stalled
 * past `size` retirements) wait for a grace period rather than leak or free early. */
static void
retire(struct dp_cache *c, struct dp_cache_entry *e)
{
	if (e->flags & DP_CACHE_F_PINNED)
		c->info.pinned--;
	c->info.entries--;
	if (rte_rcu_qsbr_dq_enqueue(c->dq, &e) == 0)
		return;
	rte_rcu_qsbr_dq_reclaim(c->dq, UINT32_MAX, NULL, NULL, NULL);
	if (rte_rcu_qsbr_dq_enqueue(c->dq, &e) == 0)
		return;
	rte_rcu_qsbr_synchronize(c->qsbr, RTE_QSBR_THRID_INVALID);
	rte_free(e);
}

static void
slot_set(struct bucket *b, int i, struct dp_cache_entry *e, uint32_t sig)
{
	/* Pointer first: a reader that sees the new signature with the old pointer misses; one
	 * that sees the new pointer with the old signature misses too. Neither is ever wrong.
	 * Both stores release: a reader may skip a slot on its signature alone, and the move
	 * protocol needs a reader that saw a cleared signature to also see the `moves` bump that
	 * preceded it (through the acquire fence in dp_cache_lookup()). */
	__atomic_store_n(&b->e[i], e, __ATOMIC_RELEASE);
	__atomic_store_n(&b->sig[i], sig, __ATOMIC_RELEASE);
}

static int
free_slot(const struct bucket *b)
{
	for (int i = 0; i < WAYS; i++)
		if (b->e[i] == NULL)
			return i;
	return -1;
}

static unsigned
bucket_load(const struct bucket *b)
{
	unsigned n = 0;

	for (int i = 0; i < WAYS; i++)
		n += b->e[i] != NULL;
	return n;
}

/*
 * Makes room in full bucket b (index idx) by moving one of its entries to that entry's other
 * bucket, if that one has a free slot (one level of cuckoo displacement: enough to keep the
 * table usable far past the load where plain two-choice hashing starts refusing pinned data).
 * The copy lands before the original goes, and `moves` is bumped in between, so a reader
 * either finds the entry or sees the counter change and looks again. Returns the freed slot
 * or -1.
 */
static int
displace(struct dp_cache *c, struct bucket *b, uint32_t idx)
{
	for (int i = 0; i < WAYS; i++) {
		struct dp_cache_entry *o = b->e[i];
		uint32_t other = alt_bucket(c, idx, sig_of(o->hash));
		struct bucket *ob = &c->buckets[other];
		int j;

		if (other == idx || (j = free_slot(ob)) < 0)
			continue;
		slot_set(ob, j, o, sig_of(o->hash));
		__atomic_store_n(&c->moves, c->moves + 1, __ATOMIC_RELEASE);
		slot_set(b, i, NULL, 0);
		c->info.moves++;
		return i;
	}
	return -1;
}

/* The entry in b1 or b2 to evict for a newcomer: the unpinned one closest to expiring (an
 * expired one, expire_ms <= now, sorts first by the same rule), which loses the least cached
 * time. Returns its bucket and slot through *vb and *vi, or false if all eight are pinned. */
static bool
pick_victim(struct bucket *b1, struct bucket *b2, struct bucket **vb, int *vi)
{
	struct bucket *bs[2] = {b1, b2};
	const struct dp_cache_entry *victim = NULL;

	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < WAYS; i++) {
			const struct dp_cache_entry *o = bs[k]->e[i];

			if (o->flags & DP_CACHE_F_PINNED)
				continue;
			if (victim == NULL || o->expire_ms < victim->expire_ms) {
				victim = o;
				*vb = bs[k];
				*vi = i;
			}
		}
	}
	return victim != NULL;
}

static void
cut_depth_mark(struct dp_cache *c, const uint8_t *name, unsigned len)
{
	unsigned labels = 0;

	for (unsigned i = 0; i < len && name[i] != 0; i += 1u + name[i])
		labels++;
	if (labels < 128)
		__atomic_fetch_or(&c->cut_depths[labels / 64], 1ull << (labels % 64),
				  __ATOMIC_RELEASE);
}

bool
dp_cache_has_cut_depth(const struct dp_cache *c, unsigned labels)
{
	return labels < 128 &&
	       (__atomic_load_n(&c->cut_depths[labels / 64], __ATOMIC_RELAXED) >> (labels % 64) &
		1) != 0;
}

int
dp_cache_insert(struct dp_cache *c, struct dp_cache_entry *e)
{
	const uint8_t *name = dp_cache_entry_name(e);
	uint32_t sig = sig_of(e->hash);
	uint32_t idx1 = (uint32_t)e->hash & c->mask, idx2 = alt_bucket(c, idx1, sig);
	struct bucket *b1 = &c->buckets[idx1], *b2 = &c->buckets[idx2];
	struct bucket *b;
	int i;

	/* Before the entry is visible: a reader that finds it may rely on the bit. */
	if (e->kind == DP_CACHE_CUT)
		cut_depth_mark(c, name, e->name_len);

	/* The same key: replace in place, atomically for readers. */
	for (int k = 0; k < 2; k++) {
		b = k == 0 ? b1 : b2;
		i = bucket_slot(b, sig, name, e->name_len, e->qtype, e->qclass, e->kind);
		if (i >= 0) {
			struct dp_cache_entry *o = b->e[i];

			slot_set(b, i, e, sig);
			if (e->flags & DP_CACHE_F_PINNED)
				c->info.pinned++;
			c->info.entries++;
			c->info.replaces++;
			retire(c, o);
			return 0;
		}
	}
	/* A new key: the less loaded bucket, then room made by a move, then an eviction. */
	b = bucket_load(b2) < bucket_load(b1) ? b2 : b1;
	i = free_slot(b);
	if (i < 0) {
		b = b1;
		i = displace(c, b1, idx1);
	}
	if (i < 0 && idx2 != idx1) {
		b = b2;
		i = displace(c, b2, idx2);
	}
	if (i < 0) {
		if (!pick_victim(b1, b2, &b, &i)) {
			c->info.insert_failures++;
			rte_free(e);
			return -ENOSPC;
		}
		struct dp_cache_entry *victim = b->e[i];

		slot_set(b, i, e, sig);
		c->info.evictions++;
		retire(c, victim);
	} else {
		slot_set(b, i, e, sig);
	}
	if (e->flags & DP_CACHE_F_PINNED)
		c->info.pinned++;
	c->info.entries++;
	c->info.inserts++;
	return 0;
}

int
dp_cache_delete(struct dp_cache *c, const struct dp_cache_key *key)
{
	uint64_t h = dp_cache_hash(c, key->name, key->name_len, key->qtype, key->qclass, key->kind);
	uint32_t sig = sig_of(h), idx = (uint32_t)h & c->mask;

	for (int k = 0; k < 2; k++) {
		struct bucket *b = &c->buckets[idx];
		int i = bucket_slot(b, sig, key->name, key->name_len, key->qtype, key->qclass,
				    key->kind);

		if (i >= 0) {
			struct dp_cache_entry *o = b->e[i];

			slot_set(b, i, NULL, 0);
			retire(c, o);
			return 0;
		}
		idx = alt_bucket(c, idx, sig);
	}
	return -ENOENT;
}

unsigned
dp_cache_sweep(struct dp_cache *c, uint64_t now_ms, unsigned budget)
{
	unsigned removed = 0;
	uint32_t nb = c->mask + 1;

	/* Budget counts buckets visited, so a call's cost is bounded whatever it finds. */
	for (unsigned n = 0; n < budget && n < nb; n++) {
		struct bucket *b = &c->buckets[c->sweep_pos];

		c->sweep_pos = (c->sweep_pos + 1) & c->mask;
		for (int i = 0; i < WAYS; i++) {
			struct dp_cache_entry *o = b->e[i];

			if (o == NULL || (o->flags & DP_CACHE_F_PINNED) || now_ms < o->expire_ms)
				continue;
			slot_set(b, i, NULL, 0);
			retire(c, o);
			removed++;
		}
	}
	c->info.expired_swept += removed;
	return removed;
}

void
dp_cache_flush(struct dp_cache *c, bool pinned)
{
	for (uint32_t k = 0; k <= c->mask; k++) {
		struct bucket *b = &c->buckets[k];

		for (int i = 0; i < WAYS; i++) {
			struct dp_cache_entry *o = b->e[i];

			if (o == NULL || (!pinned && (o->flags & DP_CACHE_F_PINNED)))
				continue;
			slot_set(b, i, NULL, 0);
			retire(c, o);
		}
	}
}

void
dp_cache_reclaim(struct dp_cache *c)
{
	rte_rcu_qsbr_dq_reclaim(c->dq, UINT32_MAX, NULL, NULL, NULL);
}

void
dp_cache_info(const struct dp_cache *c, struct dp_cache_info *info)
{
	*info = c->info;
}
