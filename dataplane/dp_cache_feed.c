/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dp_cache_feed.h"

/* One request: fixed size, so the pool needs no allocator behind it. */
struct feed_req {
	struct dp_cache_key key;
	uint8_t rcode;
	uint8_t flags;
	uint32_t ttl;
	uint64_t now_ms;
	uint16_t an_count, ns_count, ar_count;
	uint16_t rr_len;
	uint16_t ttl_off_count;
	uint16_t ttl_off[DP_CACHE_FEED_TTL_MAX];
	uint8_t rr[DP_CACHE_FEED_RR_MAX];
};

struct dp_cache_feed {
	struct rte_mempool *pool;
	struct rte_ring *ring;  /* multi-producer (workers), single consumer (control) */
	struct dp_cache_feed_stats stats; /* control thread only */
};

struct dp_cache_feed *
dp_cache_feed_create(const char *name, unsigned requests, int socket)
{
	struct dp_cache_feed *f;
	char n[RTE_MEMPOOL_NAMESIZE];

	if (name == NULL || requests == 0) {
		errno = EINVAL;
		return NULL;
	}
	f = rte_zmalloc_socket("dp_cache_feed", sizeof(*f), RTE_CACHE_LINE_SIZE, socket);
	if (f == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	snprintf(n, sizeof(n), "%s_p", name);
	/* Workers get, the control thread puts back: multi-producer, multi-consumer, with a
	 * per-lcore cache that keeps most gets and puts off the shared ring. */
	f->pool = rte_mempool_create(n, requests, sizeof(struct feed_req),
				     RTE_MIN(64u, requests / 8), 0, NULL, NULL, NULL, NULL, socket,
				     0);
	snprintf(n, sizeof(n), "%s_r", name);
	f->ring = rte_ring_create(n, rte_align32pow2(requests + 1), socket, RING_F_SC_DEQ);
	if (f->pool == NULL || f->ring == NULL) {
		int err = rte_errno != 0 ? rte_errno : ENOMEM;

		dp_cache_feed_free(f);
		errno = err;
		return NULL;
	}
	return f;
}

void
dp_cache_feed_free(struct dp_cache_feed *f)
{
	void *obj;

	if (f == NULL)
		return;
	while (f->ring != NULL && rte_ring_dequeue(f->ring, &obj) == 0)
		rte_mempool_put(f->pool, obj);
	rte_ring_free(f->ring);
	rte_mempool_free(f->pool);
	rte_free(f);
}

int
dp_cache_feed_put(struct dp_cache_feed *f, const struct dp_cache_key *key,
		  const struct dp_cache_answer *ans, uint64_t now_ms)
{
	struct feed_req *r;
	void *obj;

	if (ans->rr_len > DP_CACHE_FEED_RR_MAX || ans->ttl_off_count > DP_CACHE_FEED_TTL_MAX)
		return -EINVAL;
	if (rte_mempool_get(f->pool, &obj) != 0)
		return -ENOBUFS;
	r = obj;
	r->key = *key;
	r->rcode = ans->rcode;
	r->flags = ans->flags & ~DP_CACHE_F_PINNED; /* workers add cache, never configuration */
	r->ttl = ans->ttl;
	r->now_ms = now_ms;
	r->an_count = ans->an_count;
	r->ns_count = ans->ns_count;
	r->ar_count = ans->ar_count;
	r->rr_len = ans->rr_len;
	r->ttl_off_count = ans->ttl_off_count;
	memcpy(r->ttl_off, ans->ttl_off, ans->ttl_off_count * sizeof(uint16_t));
	memcpy(r->rr, ans->rr, ans->rr_len);
	if (rte_ring_enqueue(f->ring, r) != 0) {
		rte_mempool_put(f->pool, r);
		return -ENOBUFS;
	}
	return 0;
}

static void
apply(struct dp_cache_feed *f, struct dp_cache *c, const struct feed_req *r)
{
	const struct dp_cache_key *k = &r->key;
	const struct dp_cache_entry *old;
	struct dp_cache_entry *e;
	const struct dp_cache_answer ans = {
		.rcode = r->rcode,
		.flags = r->flags,
		.ttl = r->ttl,
		.an_count = r->an_count,
		.ns_count = r->ns_count,
		.ar_count = r->ar_count,
		.rr = r->rr,
		.rr_len = r->rr_len,
		.ttl_off = r->ttl_off,
		.ttl_off_count = r->ttl_off_count,
	};

	old = dp_cache_lookup(c, k->name, k->name_len, k->qtype, k->qclass, k->kind);
	if (old != NULL && (old->flags & DP_CACHE_F_PINNED)) {
		f->stats.kept_pinned++;
		return;
	}
	e = dp_cache_entry_new(c, k, &ans, r->now_ms);
	if (e == NULL || dp_cache_insert(c, e) != 0) {
		f->stats.failed++;
		return;
	}
	f->stats.drained++;
}

unsigned
dp_cache_feed_drain(struct dp_cache_feed *f, struct dp_cache *c, unsigned budget)
{
	void *objs[32];
	unsigned total = 0;

	while (total < budget) {
		unsigned n = rte_ring_dequeue_burst(f->ring, objs,
						    RTE_MIN((unsigned)RTE_DIM(objs), budget - total),
						    NULL);

		if (n == 0)
			break;
		for (unsigned i = 0; i < n; i++)
			apply(f, c, objs[i]);
		rte_mempool_put_bulk(f->pool, objs, n);
		total += n;
	}
	return total;
}

void
dp_cache_feed_stats(const struct dp_cache_feed *f, struct dp_cache_feed_stats *st)
{
	*st = f->stats;
}
