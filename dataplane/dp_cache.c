/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include "dp_cache_int.h"

RTE_LOG_REGISTER(dp_cache_logtype, pollux.dp.cache, INFO);
#define CACHE_LOG(level, ...) rte_log(RTE_LOG_##level, dp_cache_logtype, "cache: " __VA_ARGS__)

#define WAYS DP_CACHE_WAYS

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
bucket_find(const struct dp_cache_bucket *b, uint32_t sig, const uint8_t *name, uint8_t name_len,
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
bucket_slot(const struct dp_cache_bucket *b, uint32_t sig, const uint8_t *name, uint8_t name_len,
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
	const struct dp_cache_bucket *b1 = &c->buckets[idx];
	const struct dp_cache_bucket *b2 = &c->buckets[alt_bucket(c, idx, sig)];
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
	int err;

	if (name == NULL || v == NULL || key == NULL || entries == 0 || entries > (1u << 30)) {
		errno = EINVAL;
		return NULL;
	}
	nb = rte_align32pow2((entries + WAYS - 1) / WAYS);
	c = rte_zmalloc_socket("dp_cache", sizeof(*c), RTE_CACHE_LINE_SIZE, socket);
	if (c == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	c->buckets = rte_zmalloc_socket("dp_cache_buckets",
					(size_t)nb * sizeof(struct dp_cache_bucket),
					RTE_CACHE_LINE_SIZE, socket);
	if (c->buckets == NULL) {
		err = ENOMEM;
		goto err;
	}
	c->mask = nb - 1;
	c->key = *key;
	c->socket = socket;
	c->qsbr = v;
	c->slots = nb * WAYS;
	/* The control thread's queue: a flush of a small cache fits whole; a larger one waits for a
	 * grace period when the queue fills (dp_cache_retire), which only the control thread may. */
	c->ctl = dp_cache_writer_make(c, socket, RTE_MIN(c->slots + 1024, 65536u), true);
	if (c->ctl == NULL) {
		err = errno;
		goto err;
	}
	return c;
err:
	dp_cache_writers_free(c);
	dp_cache_pools_free(c);
	rte_free(c->buckets);
	rte_free(c);
	errno = err;
	return NULL;
}

void
dp_cache_free(struct dp_cache *c)
{
	if (c == NULL)
		return;
	/* Readers and writers are gone: the defer queues' entries go first, then the live. */
	dp_cache_writers_free(c);
	for (uint32_t i = 0; i <= c->mask; i++)
		for (int w = 0; w < WAYS; w++)
			if (c->buckets[i].e[w] != NULL)
				dp_cache_entry_release(c, c->buckets[i].e[w]);
	dp_cache_pools_free(c);
	rte_free(c->buckets);
	rte_free(c);
}

/* Takes both of a key's buckets, lower index first: waiting for the control thread, trying
 * once for a worker. Returns false (nothing held) when a worker found one held. */
static bool
lock_pair(struct dp_cache *c, const struct dp_cache_writer *w, uint32_t i1, uint32_t i2)
{
	struct dp_cache_bucket *lo = &c->buckets[RTE_MIN(i1, i2)];
	struct dp_cache_bucket *hi = &c->buckets[RTE_MAX(i1, i2)];

	if (w->ctl) {
		bucket_lock_wait(lo);
		if (hi != lo)
			bucket_lock_wait(hi);
		return true;
	}
	if (!bucket_trylock(lo))
		return false;
	if (hi != lo && !bucket_trylock(hi)) {
		bucket_unlock(lo);
		return false;
	}
	return true;
}

static void
unlock_pair(struct dp_cache *c, uint32_t i1, uint32_t i2)
{
	bucket_unlock(&c->buckets[i1]);
	if (i2 != i1)
		bucket_unlock(&c->buckets[i2]);
}

/* free_slot() on a bucket another writer may be changing: a hint, confirmed under its lock. */
static inline int
free_slot_peek(const struct dp_cache_bucket *b)
{
	for (int i = 0; i < WAYS; i++)
		if (__atomic_load_n(&b->e[i], __ATOMIC_RELAXED) == NULL)
			return i;
	return -1;
}

static int
free_slot(const struct dp_cache_bucket *b)
{
	for (int i = 0; i < WAYS; i++)
		if (b->e[i] == NULL)
			return i;
	return -1;
}

static unsigned
bucket_load(const struct dp_cache_bucket *b)
{
	unsigned n = 0;

	for (int i = 0; i < WAYS; i++)
		n += b->e[i] != NULL;
	return n;
}

/*
 * Makes room in full bucket b (index idx, held, as is `held`, the key's other bucket) by moving
 * one of its entries to that entry's other bucket, if that one has a free slot and is free to
 * take (a try-lock, whoever the writer: see the header) or already held (one level of cuckoo
 * displacement: enough to keep the table usable far past the load where plain two-choice
 * hashing starts refusing pinned data). The copy lands before the original goes, and `moves`
 * is bumped in between, so a reader either finds the entry or sees the counter change and looks
 * again. Returns the freed slot or -1.
 */
static int
displace(struct dp_cache *c, struct dp_cache_writer *w, struct dp_cache_bucket *b, uint32_t idx,
	 uint32_t held)
{
	for (int i = 0; i < WAYS; i++) {
		/* The slot's signature gives the other bucket without reading the entry. */
		uint32_t sig = b->sig[i];
		uint32_t other = alt_bucket(c, idx, sig);
		struct dp_cache_bucket *ob = &c->buckets[other];
		struct dp_cache_entry *o = b->e[i];
		int j;

		if (other == idx)
			continue;
		/* A look before the lock: a full bucket is passed over without taking its line
		 * for writing, which would cost its readers a miss for nothing. */
		if (other != held) {
			if (free_slot_peek(ob) < 0 || !bucket_trylock(ob))
				continue;
		}
		j = free_slot(ob);
		if (j >= 0) {
			meta_set(ob, j, meta_get(b, i));
			slot_publish(ob, j, o, sig);
			__atomic_fetch_add(&c->moves, 1, __ATOMIC_RELEASE);
			slot_set(b, i, NULL, 0);
			DP_CACHE_WCOUNT_ADD(w, moves, 1);
		}
		if (other != held)
			bucket_unlock(ob);
		if (j >= 0)
			return i;
	}
	return -1;
}

/* Both buckets are full: a move looks at the eight other buckets, each a line of its own
 * somewhere in memory. Ask for all eight at once, so that their misses overlap instead of
 * following one another. */
static void
prefetch_full(const struct dp_cache *c, const struct dp_cache_bucket *b1, uint32_t idx1,
	      const struct dp_cache_bucket *b2, uint32_t idx2)
{
	for (int i = 0; i < WAYS; i++) {
		rte_prefetch0(&c->buckets[alt_bucket(c, idx1, b1->sig[i])]);
		rte_prefetch0(&c->buckets[alt_bucket(c, idx2, b2->sig[i])]);
	}
}

/* Entries a writer may not remove but to replace them on the control thread's word:
 * configuration, and (for workers) anything from the heap, which only the control thread
 * frees. */
static inline bool
untouchable(const struct dp_cache_writer *w, const struct dp_cache_entry *o)
{
	return (o->flags & (w->ctl ? DP_CACHE_F_PINNED : DP_CACHE_F_PINNED | DP_CACHE_F_HEAP)) != 0;
}

/* The entry in b1 or b2 to evict for a newcomer arriving at now_ms: the unpinned one closest
 * to expiring (an expired one sorts first by the same rule, the longest expired first), which
 * loses the least cached time, to the second. It reads only the buckets' summaries (meta), not
 * the eight entries. Returns its bucket and slot through *vb and *vi and its time left (coarse
 * seconds, negative once expired) through *left_out, or false if all eight are pinned. */
static bool
pick_victim(const struct dp_cache_writer *w, struct dp_cache_bucket *b1,
	    struct dp_cache_bucket *b2, uint64_t now_ms, struct dp_cache_bucket **vb, int *vi,
	    int32_t *left_out)
{
	struct dp_cache_bucket *bs[2] = {b1, b2};
	uint32_t now = coarse_s(now_ms);
	int32_t best = INT32_MAX;
	bool found = false;

	for (int k = 0; k < (b1 == b2 ? 1 : 2); k++) {
		for (int i = 0; i < WAYS; i++) {
			uint32_t m = meta_get(bs[k], i);
			int32_t left;

			if (m == DP_CACHE_META_PINNED || (m == DP_CACHE_META_HEAP && !w->ctl))
				continue;
			/* Seconds left, sign-extended from 24 bits: right within 97 days of now,
			 * and no entry lives a tenth of that (--max-ttl is at most a week). */
			left = (int32_t)((m - now) << 8) >> 8;
			if (m == DP_CACHE_META_HEAP)
				left = INT32_MAX - 1;
			if (!found || left < best) {
				found = true;
				best = left;
				*vb = bs[k];
				*vi = i;
			}
		}
	}
	*left_out = best;
	return found;
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

static void
count_added(struct dp_cache_writer *w, const struct dp_cache_entry *e)
{
	if (e->flags & DP_CACHE_F_PINNED)
		DP_CACHE_WCOUNT_ADD(w, pinned, 1);
	DP_CACHE_WCOUNT_ADD(w, entries, 1);
}

/* The insert proper, for any writer, with both of e's buckets held. Returns 0 (e published),
 * -EEXIST or -ENOSPC (e not taken). */
static int
insert_locked(struct dp_cache *c, struct dp_cache_writer *w, struct dp_cache_entry *e,
	      uint32_t idx1, uint32_t idx2)
{
	const uint8_t *name = dp_cache_entry_name(e);
	uint32_t sig = sig_of(e->hash);
	struct dp_cache_bucket *b1 = &c->buckets[idx1], *b2 = &c->buckets[idx2];
	struct dp_cache_bucket *b, *vb;
	int32_t left;
	int i, vi;

	/* The same key: replace in place, atomically for readers. */
	for (int k = 0; k < 2; k++) {
		b = k == 0 ? b1 : b2;
		i = bucket_slot(b, sig, name, e->name_len, e->qtype, e->qclass, e->kind);
		if (i >= 0) {
			struct dp_cache_entry *o = b->e[i];

			if (untouchable(w, o) && !w->ctl) {
				DP_CACHE_WCOUNT_ADD(w, kept, 1);
				return -EEXIST;
			}
			slot_set(b, i, e, sig);
			count_added(w, e);
			DP_CACHE_WCOUNT_ADD(w, replaces, 1);
			dp_cache_retire(w, o);
			return 0;
		}
	}
	/* A new key: the less loaded bucket, then an expired entry's slot (kept for serve-stale,
	 * it is worth less than any live one a move would save), then room made by a move, then
	 * an eviction. */
	b = bucket_load(b2) < bucket_load(b1) ? b2 : b1;
	i = free_slot(b);
	if (i < 0 && pick_victim(w, b1, b2, e->insert_ms, &vb, &vi, &left) && left < 0) {
		struct dp_cache_entry *victim = vb->e[vi];

		slot_set(vb, vi, e, sig);
		DP_CACHE_WCOUNT_ADD(w, evictions, 1);
		DP_CACHE_WCOUNT_ADD(w, evicted_expired, 1);
		dp_cache_retire(w, victim);
		count_added(w, e);
		DP_CACHE_WCOUNT_ADD(w, inserts, 1);
		return 0;
	}
	if (i < 0)
		prefetch_full(c, b1, idx1, b2, idx2);
	if (i < 0) {
		b = b1;
		i = displace(c, w, b1, idx1, idx2);
	}
	if (i < 0 && idx2 != idx1) {
		b = b2;
		i = displace(c, w, b2, idx2, idx1);
	}
	if (i < 0) {
		if (!pick_victim(w, b1, b2, e->insert_ms, &b, &i, &left)) {
			DP_CACHE_WCOUNT_ADD(w, insert_failures, 1);
			return -ENOSPC;
		}
		struct dp_cache_entry *victim = b->e[i];

		slot_set(b, i, e, sig);
		DP_CACHE_WCOUNT_ADD(w, evictions, 1);
		dp_cache_retire(w, victim);
	} else {
		slot_set(b, i, e, sig);
	}
	count_added(w, e);
	DP_CACHE_WCOUNT_ADD(w, inserts, 1);
	return 0;
}

static int
insert(struct dp_cache *c, struct dp_cache_writer *w, struct dp_cache_entry *e)
{
	uint32_t sig = sig_of(e->hash);
	uint32_t idx1 = (uint32_t)e->hash & c->mask, idx2 = alt_bucket(c, idx1, sig);
	int ret;

	if (!lock_pair(c, w, idx1, idx2)) {
		DP_CACHE_WCOUNT_ADD(w, contended, 1);
		dp_cache_entry_release(c, e);
		return -EBUSY;
	}
	/* Before the entry is visible: a reader that finds it may rely on the bit. */
	if (e->kind == DP_CACHE_CUT)
		cut_depth_mark(c, dp_cache_entry_name(e), e->name_len);
	ret = insert_locked(c, w, e, idx1, idx2);
	unlock_pair(c, idx1, idx2);
	if (ret != 0)
		dp_cache_entry_release(c, e);
	return ret;
}

int
dp_cache_insert(struct dp_cache *c, struct dp_cache_entry *e)
{
	if (e == NULL)
		return -EINVAL;
	return insert(c, c->ctl, e);
}

int
dp_cache_put(struct dp_cache_writer *w, const struct dp_cache_key *key,
	     const struct dp_cache_answer *ans, uint64_t now_ms)
{
	struct dp_cache_answer a = *ans;
	struct dp_cache *c = w->c;
	struct dp_cache_entry *e;
	uint64_t h;
	uint32_t idx;
	int err = 0;

	/* An insert retires at most one entry (a replacement or an eviction): with no room for
	 * it the entry could be neither freed nor kept, so the insert is dropped first. */
	if (unlikely(w->dq_pending >= w->dq_size)) {
		dp_cache_writer_reclaim(w);
		if (w->dq_pending >= w->dq_size) {
			DP_CACHE_WCOUNT_ADD(w, insert_failures, 1);
			return -ENOBUFS;
		}
	}
	a.flags &= ~(DP_CACHE_F_PINNED | DP_CACHE_F_HEAP); /* workers add cache, not config */
	/* The two buckets first: their lines (to be locked and written) arrive while the entry
	 * is built. */
	h = key_hash(c, key->name, key->name_len, key->qtype, key->qclass, key->kind);
	idx = (uint32_t)h & c->mask;
	rte_prefetch0_write(&c->buckets[idx]);
	rte_prefetch0_write(&c->buckets[alt_bucket(c, idx, sig_of(h))]);
	e = dp_cache_entry_build(w, key, &a, now_ms, h, &err);
	if (e == NULL) {
		if (err == -ENOMEM)
			DP_CACHE_WCOUNT_ADD(w, no_mem, 1);
		return err;
	}
	return insert(w->c, w, e);
}

struct dp_cache_entry *
dp_cache_entry_clone(struct dp_cache *c, const struct dp_cache_key *key)
{
	uint64_t h = dp_cache_hash(c, key->name, key->name_len, key->qtype, key->qclass, key->kind);
	uint32_t sig = sig_of(h), idx1 = (uint32_t)h & c->mask, idx2 = alt_bucket(c, idx1, sig);
	struct dp_cache_entry *copy = NULL;
	int err = -ENOENT;

	lock_pair(c, c->ctl, idx1, idx2);
	for (int k = 0; k < 2; k++) {
		struct dp_cache_bucket *b = &c->buckets[k == 0 ? idx1 : idx2];
		int i = bucket_slot(b, sig, key->name, key->name_len, key->qtype, key->qclass,
				    key->kind);

		if (i < 0)
			continue;
		const struct dp_cache_entry *o = b->e[i];
		const struct dp_cache_answer a = {
			.rcode = o->rcode,
			.flags = o->flags,
			.ttl = o->ttl,
			.an_count = o->an_count,
			.ns_count = o->ns_count,
			.ar_count = o->ar_count,
			.rr = dp_cache_entry_rr(o),
			.rr_len = o->rr_len,
			.ttl_off = dp_cache_entry_ttl_off(o),
			.ttl_off_count = o->ttl_off_count,
		};

		copy = dp_cache_entry_build(c->ctl, key, &a, o->insert_ms, h, &err);
		if (copy != NULL)
			copy->expire_ms = o->expire_ms;
		break;
	}
	unlock_pair(c, idx1, idx2);
	if (copy == NULL)
		errno = -err;
	return copy;
}

int
dp_cache_delete(struct dp_cache *c, const struct dp_cache_key *key)
{
	uint64_t h = dp_cache_hash(c, key->name, key->name_len, key->qtype, key->qclass, key->kind);
	uint32_t sig = sig_of(h), idx1 = (uint32_t)h & c->mask, idx2 = alt_bucket(c, idx1, sig);
	int ret = -ENOENT;

	lock_pair(c, c->ctl, idx1, idx2);
	for (int k = 0; k < 2; k++) {
		struct dp_cache_bucket *b = &c->buckets[k == 0 ? idx1 : idx2];
		int i = bucket_slot(b, sig, key->name, key->name_len, key->qtype, key->qclass,
				    key->kind);

		if (i >= 0) {
			struct dp_cache_entry *o = b->e[i];

			slot_set(b, i, NULL, 0);
			dp_cache_retire(c->ctl, o);
			ret = 0;
			break;
		}
	}
	unlock_pair(c, idx1, idx2);
	return ret;
}

void
dp_cache_reclaim(struct dp_cache *c)
{
	unsigned freed, pending;

	if (rte_rcu_qsbr_dq_reclaim(c->ctl->dq, UINT32_MAX, &freed, &pending, NULL) == 0)
		c->ctl->dq_pending = pending;
}

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

void
dp_cache_info(const struct dp_cache *c, struct dp_cache_info *info)
{
	int64_t entries = 0, pinned = 0;

	memset(info, 0, sizeof(*info));
	info->slots = c->slots;
	info->writers = c->writer_count;
	for (uint32_t i = 0; i < c->writer_count; i++) {
		const struct dp_cache_wcount *n = &c->writers[i]->n;

		entries += LOAD(n->entries);
		pinned += LOAD(n->pinned);
		info->inserts += LOAD(n->inserts);
		info->replaces += LOAD(n->replaces);
		info->evictions += LOAD(n->evictions);
		info->evicted_expired += LOAD(n->evicted_expired);
		info->moves += LOAD(n->moves);
		info->expired_swept += LOAD(n->expired_swept);
		info->insert_failures += LOAD(n->insert_failures);
		info->contended += LOAD(n->contended);
		info->no_mem += LOAD(n->no_mem);
		info->kept += LOAD(n->kept);
		info->flushed += LOAD(n->flushed);
	}
	info->entries = entries > 0 ? (uint32_t)entries : 0;
	info->pinned = pinned > 0 ? (uint32_t)pinned : 0;
}
