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
#include "dp_msgq.h"

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
	struct dp_msgq q;                 /* of struct feed_req */
	struct dp_cache_feed_stats stats; /* control thread only */
};

struct dp_cache_feed *
dp_cache_feed_create(const char *name, unsigned requests, int socket)
{
	struct dp_cache_feed *f;
	int ret;

	if (name == NULL || requests == 0) {
		errno = EINVAL;
		return NULL;
	}
	f = rte_zmalloc_socket("dp_cache_feed", sizeof(*f), RTE_CACHE_LINE_SIZE, socket);
	if (f == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	/* Workers get, the control thread puts back: a per-lcore cache keeps most gets and puts
	 * off the pool's shared ring. */
	ret = dp_msgq_init(&f->q, name, requests, sizeof(struct feed_req), RTE_MIN(64u, requests / 8),
			   socket);
	if (ret != 0) {
		rte_free(f);
		errno = -ret;
		return NULL;
	}
	return f;
}

void
dp_cache_feed_free(struct dp_cache_feed *f)
{
	if (f == NULL)
		return;
	dp_msgq_fini(&f->q);
	rte_free(f);
}

int
dp_cache_feed_put(struct dp_cache_feed *f, const struct dp_cache_key *key,
		  const struct dp_cache_answer *ans, uint64_t now_ms)
{
	struct feed_req *r;

	if (ans->rr_len > DP_CACHE_FEED_RR_MAX || ans->ttl_off_count > DP_CACHE_FEED_TTL_MAX)
		return -EINVAL;
	r = dp_msgq_get(&f->q);
	if (r == NULL)
		return -ENOBUFS;
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
	/* A record set with no TTL to rewrite may come with no array at all. */
	if (ans->ttl_off_count != 0)
		memcpy(r->ttl_off, ans->ttl_off, ans->ttl_off_count * sizeof(uint16_t));
	memcpy(r->rr, ans->rr, ans->rr_len);
	return dp_msgq_post(&f->q, r);
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
		unsigned n = dp_msgq_take_burst(&f->q, objs,
						RTE_MIN((unsigned)RTE_DIM(objs), budget - total));

		if (n == 0)
			break;
		for (unsigned i = 0; i < n; i++)
			apply(f, c, objs[i]);
		dp_msgq_done(&f->q, objs, n);
		total += n;
	}
	return total;
}

void
dp_cache_feed_stats(const struct dp_cache_feed *f, struct dp_cache_feed_stats *st)
{
	*st = f->stats;
}
