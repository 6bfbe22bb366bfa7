/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cache's memory (see dp_cache.h): the size-class pools entries come from, the writers with
 * their RCU defer queues, and building an entry from an answer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include "dp_cache_int.h"

/* Usable bytes of each class: with the pool's one-line object header, strides of 256 B, 1 KiB
 * and 4.5 KiB. The smallest holds an answer of a few address records or a small cut, the
 * largest what a resolution renders at most (asserted below). */
static const uint32_t class_size[DP_CACHE_CLASS_COUNT] = {192, 960, 4544};
/* How many of each class per cache slot, as a divisor: every slot can hold a small entry, one
 * in 16 a medium one, one in 128 a large one (an exhausted class spills upwards). */
static const uint32_t class_div[DP_CACHE_CLASS_COUNT] = {1, 16, 128};
/* Beyond the slots: room for entries waiting in defer queues and in per-lcore pool caches. */
#define CLASS_MARGIN 1024
#define POOL_CACHE 32

_Static_assert(sizeof(struct dp_cache_entry) + DP_CACHE_TTL_OFF_MAX * sizeof(uint16_t) +
		       PX_DNS_MAX_NAME + DP_CACHE_RR_MAX <= 4544,
	       "the largest class holds the largest entry a worker makes");

static uint32_t name_seq; /* unique pool and queue names across caches (control thread) */

static int
socket_index(int socket)
{
	return socket < 0 || socket >= RTE_MAX_NUMA_NODES ? 0 : socket;
}

int
dp_cache_pools_make(struct dp_cache *c, int socket)
{
	int si = socket_index(socket);
	char name[RTE_MEMPOOL_NAMESIZE];

	if (c->has_pools[si])
		return 0;
	for (int k = 0; k < DP_CACHE_CLASS_COUNT; k++) {
		uint32_t n = c->slots / class_div[k] + CLASS_MARGIN;

		snprintf(name, sizeof(name), "pxc%u_%d_%d", name_seq++, si, k);
		/* No spreading over memory channels: the stride stays the class size plus the
		 * header, so the memory taken is what the comment above says. */
		c->pools[si].mp[k] = rte_mempool_create(name, n, class_size[k],
							n >= 4096 ? POOL_CACHE : 0, 0, NULL, NULL,
							NULL, NULL, socket, RTE_MEMPOOL_F_NO_SPREAD);
		if (c->pools[si].mp[k] == NULL) {
			int err = rte_errno != 0 ? rte_errno : ENOMEM;

			for (int j = 0; j < k; j++) {
				rte_mempool_free(c->pools[si].mp[j]);
				c->pools[si].mp[j] = NULL;
			}
			return -err;
		}
	}
	c->has_pools[si] = true;
	return 0;
}

void
dp_cache_pools_free(struct dp_cache *c)
{
	for (int si = 0; si < RTE_MAX_NUMA_NODES; si++) {
		if (!c->has_pools[si])
			continue;
		for (int k = 0; k < DP_CACHE_CLASS_COUNT; k++)
			rte_mempool_free(c->pools[si].mp[k]);
		c->has_pools[si] = false;
	}
}

/* The entry says which pool it came from, so that a free reads no line but the entry's own
 * (rte_mempool_from_obj() would read the object header's too, a miss per free). */
void
dp_cache_entry_release(const struct dp_cache *c, struct dp_cache_entry *e)
{
	if (e->flags & DP_CACHE_F_HEAP)
		rte_free(e);
	else
		rte_mempool_put(c->pools[e->pool >> 2].mp[e->pool & 3], e);
}

static void
entry_free_cb(void *p, void *elem, unsigned int n)
{
	struct dp_cache_entry **ep = elem;

	for (unsigned int i = 0; i < n; i++)
		dp_cache_entry_release(p, ep[i]);
}

struct dp_cache_writer *
dp_cache_writer_make(struct dp_cache *c, int socket, unsigned dq_size, bool ctl)
{
	char dqname[RTE_RCU_QSBR_DQ_NAMESIZE];
	struct dp_cache_writer *w;
	int ret;

	if (c->writer_count == DP_CACHE_MAX_WRITERS) {
		errno = ENOSPC;
		return NULL;
	}
	ret = dp_cache_pools_make(c, socket);
	if (ret != 0) {
		errno = -ret;
		return NULL;
	}
	w = rte_zmalloc_socket("dp_cache_writer", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	if (w == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	w->c = c;
	w->ctl = ctl;
	w->socket_index = (uint8_t)socket_index(socket);
	w->pools = &c->pools[w->socket_index];
	snprintf(dqname, sizeof(dqname), "pxq%u", name_seq++);
	/* Workers reclaim in their loop (dp_cache_writer_reclaim); the enqueue reclaims too
	 * once a batch is pending, so a busy writer's queue rarely grows. */
	struct rte_rcu_qsbr_dq_parameters p = {
		.name = dqname,
		.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE,
		.size = dq_size,
		.esize = sizeof(struct dp_cache_entry *),
		.trigger_reclaim_limit = 32,
		.max_reclaim_size = 256,
		.free_fn = entry_free_cb,
		.p = c,
		.v = c->qsbr,
	};
	w->dq = rte_rcu_qsbr_dq_create(&p);
	if (w->dq == NULL) {
		int err = rte_errno;

		rte_free(w);
		errno = err != 0 ? err : ENOMEM;
		return NULL;
	}
	w->dq_size = dq_size;
	c->writers[c->writer_count++] = w;
	return w;
}

struct dp_cache_writer *
dp_cache_writer_create(struct dp_cache *c, int socket, unsigned dq_size)
{
	if (c == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return dp_cache_writer_make(c, socket, dq_size != 0 ? dq_size : DP_CACHE_WRITER_DQ_DEFAULT,
				    false);
}

void
dp_cache_writers_free(struct dp_cache *c)
{
	/* Readers are gone: what the defer queues hold can be freed at once. */
	for (uint32_t i = 0; i < c->writer_count; i++) {
		rte_rcu_qsbr_dq_delete(c->writers[i]->dq);
		rte_free(c->writers[i]);
		c->writers[i] = NULL;
	}
	c->writer_count = 0;
	c->ctl = NULL;
}

void
dp_cache_writer_reclaim(struct dp_cache_writer *w)
{
	unsigned freed, pending;

	if (w->dq_pending == 0)
		return;
	if (rte_rcu_qsbr_dq_reclaim(w->dq, 256, &freed, &pending, NULL) != 0)
		return;
	w->dq_pending = pending;
}

void
dp_cache_retire(struct dp_cache_writer *w, struct dp_cache_entry *e)
{
	if (e->flags & DP_CACHE_F_PINNED)
		DP_CACHE_WCOUNT_ADD(w, pinned, -1);
	DP_CACHE_WCOUNT_ADD(w, entries, -1);
	if (rte_rcu_qsbr_dq_enqueue(w->dq, &e) == 0)
		goto queued;
	/* Only the control thread gets here: a worker checked for room before it took a lock
	 * (dp_cache_put), and it retires at most one entry per insert. The control thread is no
	 * RCU reader, so it may wait for a grace period rather than leak or free early. */
	rte_rcu_qsbr_dq_reclaim(w->dq, UINT32_MAX, NULL, NULL, NULL);
	if (rte_rcu_qsbr_dq_enqueue(w->dq, &e) == 0)
		goto queued;
	RTE_VERIFY(w->ctl);
	rte_rcu_qsbr_synchronize(w->c->qsbr, RTE_QSBR_THRID_INVALID);
	dp_cache_entry_release(w->c, e);
	return;
queued:
	w->dq_pending++;
}

static struct dp_cache_entry *
entry_alloc(struct dp_cache_writer *w, size_t sz, int *err, bool *heap, uint8_t *pool)
{
	void *obj;

	*heap = false;
	for (int k = 0; k < DP_CACHE_CLASS_COUNT; k++) {
		if (sz > class_size[k])
			continue;
		if (rte_mempool_get(w->pools->mp[k], &obj) == 0) {
			*pool = (uint8_t)(w->socket_index << 2 | k);
			return obj;
		}
	}
	if (sz <= class_size[DP_CACHE_CLASS_COUNT - 1] || !w->ctl) {
		*err = sz <= class_size[DP_CACHE_CLASS_COUNT - 1] ? -ENOMEM : -E2BIG;
		return NULL;
	}
	/* Control thread, configuration larger than any class (a local zone's big RRset). */
	obj = rte_malloc_socket("dp_cache_entry", sz, 0, w->c->socket);
	if (obj == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	*heap = true;
	*pool = 0;
	return obj;
}

struct dp_cache_entry *
dp_cache_entry_build(struct dp_cache_writer *w, const struct dp_cache_key *key,
		     const struct dp_cache_answer *ans, uint64_t now_ms, uint64_t hash, int *err)
{
	struct dp_cache_entry *e;
	uint8_t pool;
	bool heap;
	size_t sz;

	if (key->name_len == 0 ||
	    (ans->rr_len != 0 && ans->rr == NULL) ||
	    (ans->ttl_off_count != 0 && ans->ttl_off == NULL)) {
		*err = -EINVAL;
		return NULL;
	}
	for (uint16_t i = 0; i < ans->ttl_off_count; i++) {
		if ((uint32_t)ans->ttl_off[i] + 4 > ans->rr_len) {
			*err = -EINVAL;
			return NULL;
		}
	}
	sz = sizeof(*e) + ans->ttl_off_count * sizeof(uint16_t) + key->name_len + ans->rr_len;
	e = entry_alloc(w, sz, err, &heap, &pool);
	if (e == NULL)
		return NULL;
	e->pool = pool;
	e->flags = (uint8_t)((ans->flags & ~DP_CACHE_F_HEAP) | (heap ? DP_CACHE_F_HEAP : 0));
	e->hash = hash;
	e->ttl = ans->ttl;
	e->insert_ms = now_ms;
	e->expire_ms = now_ms + (uint64_t)ans->ttl * 1000;
	e->qtype = key->qtype;
	e->qclass = key->qclass;
	e->kind = key->kind;
	e->name_len = key->name_len;
	e->rcode = ans->rcode;
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

struct dp_cache_entry *
dp_cache_entry_new(const struct dp_cache *c, const struct dp_cache_key *key,
		   const struct dp_cache_answer *ans, uint64_t now_ms)
{
	struct dp_cache_writer *w = c->ctl;
	uint64_t h = dp_cache_hash(c, key->name, key->name_len, key->qtype, key->qclass, key->kind);
	struct dp_cache_entry *e;
	int err = 0;

	e = dp_cache_entry_build(w, key, ans, now_ms, h, &err);
	if (e == NULL && err == -ENOMEM) {
		/* The control thread is no RCU reader: it may wait out a grace period for what
		 * its own retirements hold (a reload replacing a whole zone) rather than fail. */
		rte_rcu_qsbr_synchronize(c->qsbr, RTE_QSBR_THRID_INVALID);
		rte_rcu_qsbr_dq_reclaim(w->dq, UINT32_MAX, NULL, NULL, NULL);
		w->dq_pending = 0;
		e = dp_cache_entry_build(w, key, ans, now_ms, h, &err);
	}
	if (e == NULL)
		errno = -err;
	return e;
}

void
dp_cache_entry_free(struct dp_cache_entry *e)
{
	if (e == NULL)
		return;
	if (e->flags & DP_CACHE_F_HEAP)
		rte_free(e);
	else
		rte_mempool_put(rte_mempool_from_obj(e), e);
}
