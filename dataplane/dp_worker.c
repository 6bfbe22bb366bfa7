/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <pollux/prime.h>
#include <pollux/rand.h>
#include <pollux/ratelimit.h>
#include <pollux/upstream.h>

#include "dp_cache.h"
#include "dp_nexthop.h"
#include "dp_worker.h"

static int
handoff_build(struct dp_ctx *ctx, const struct dp_worker_ctx_conf *c)
{
	ctx->port_owner = rte_zmalloc_socket(NULL, PX_UPQ_PORT_MAX + 1, RTE_CACHE_LINE_SIZE,
					     c->socket);
	ctx->handoff = rte_zmalloc_socket(NULL, sizeof(*ctx->handoff) * c->resolvers, 0,
					  c->socket);
	if (ctx->port_owner == NULL || ctx->handoff == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < c->resolvers; i++) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "%s_handoff%u", c->name, i);
		ctx->handoff[i] = rte_ring_create(name, c->handoff_size, c->socket, RING_F_SC_DEQ);
		if (ctx->handoff[i] == NULL)
			return -rte_errno;
	}
	return 0;
}

int
dp_worker_ctx_build(struct dp_ctx *ctx, const struct dp_worker_ctx_conf *c)
{
	char name[64];
	int ret = -ENOMEM;

	if (c->resolvers >= UINT8_MAX)
		return -EINVAL;
	snprintf(name, sizeof(name), "%s_rcu", c->name);
	ctx->qsbr = rte_zmalloc_socket(name, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE),
				       RTE_CACHE_LINE_SIZE, c->socket);
	if (ctx->qsbr == NULL)
		goto err;
	if (rte_rcu_qsbr_init(ctx->qsbr, RTE_MAX_LCORE) != 0) {
		ret = -rte_errno;
		goto err;
	}
	snprintf(name, sizeof(name), "%s_cache", c->name);
	ctx->cache = dp_cache_create(name, c->cache_size, ctx->qsbr, c->socket);
	if (ctx->cache == NULL) {
		ret = -errno;
		goto err;
	}
	if (c->prime) {
		ctx->prime_status = rte_zmalloc_socket(NULL, sizeof(*ctx->prime_status),
						       RTE_CACHE_LINE_SIZE, c->socket);
		if (ctx->prime_status == NULL)
			goto err;
	}
	ctx->worker_count = c->resolvers;
	if (c->resolvers == 0)
		return 0;
	ctx->nbr = rte_zmalloc_socket(NULL, sizeof(*ctx->nbr), RTE_CACHE_LINE_SIZE, c->socket);
	if (ctx->nbr == NULL)
		goto err;
	dp_nexthop_table_init(ctx->nbr);
	if (c->resolvers >= 2 && (ret = handoff_build(ctx, c)) != 0)
		goto err;
	return 0;
err:
	dp_worker_ctx_free(ctx);
	return ret;
}

void
dp_worker_ctx_free(struct dp_ctx *ctx)
{
	if (ctx->handoff != NULL)
		for (unsigned i = 0; i < ctx->worker_count; i++)
			rte_ring_free(ctx->handoff[i]);
	rte_free(ctx->handoff);
	rte_free(ctx->port_owner);
	rte_free(ctx->nbr);
	rte_free(ctx->prime_status);
	dp_cache_free(ctx->cache);
	rte_free(ctx->qsbr);
	ctx->handoff = NULL;
	ctx->port_owner = NULL;
	ctx->nbr = NULL;
	ctx->prime_status = NULL;
	ctx->cache = NULL;
	ctx->qsbr = NULL;
	ctx->worker_count = 0;
}

/* The worker's token buckets, keyed with c's key or a secret of their own. */
static int
rl_build(struct dp_lcore *lc, const struct dp_worker_conf *c, int socket)
{
	uint8_t key[16];

	lc->rl = rte_zmalloc_socket(NULL, px_rl_table_size(c->ratelimit_size, NULL),
				    RTE_CACHE_LINE_SIZE, socket);
	if (lc->rl == NULL)
		return -ENOMEM;
	if (c->ratelimit_key != NULL) {
		memcpy(key, c->ratelimit_key, sizeof(key));
	} else {
		struct px_rand r;

		if (px_rand_init(&r) != 0)
			return -errno;
		px_rand_bytes(&r, key, sizeof(key));
		memset(&r, 0, sizeof(r));
	}
	px_rl_table_init(lc->rl, c->ratelimit_size, key);
	memset(key, 0, sizeof(key));
	return 0;
}

struct dp_lcore *
dp_worker_build(const struct dp_worker_conf *c)
{
	int socket = (int)rte_lcore_to_socket_id(c->lcore_id);
	struct dp_lcore *lc = rte_zmalloc_socket(NULL, sizeof(*lc), RTE_CACHE_LINE_SIZE, socket);
	int ret = -ENOMEM;

	if (lc == NULL)
		goto err;
	lc->ctx = c->ctx;
	lc->lcore_id = c->lcore_id;
	lc->queue_id = c->index;
	lc->now_ms = c->now_ms;
	lc->tcp = c->tcp;
	lc->tap = c->tap;
	if (c->ratelimit_size != 0 && (ret = rl_build(lc, c, socket)) != 0)
		goto err;
	if (c->miss != NULL) {
		lc->miss = dp_miss_create(c->miss, socket, c->pool, c->now_ms);
		if (lc->miss == NULL ||
		    (c->ctx->port_owner != NULL &&
		     dp_miss_share_ports(lc->miss, c->ctx->port_owner, c->index, socket) != 0)) {
			ret = -errno;
			goto err;
		}
		/* The worker caches what it resolves itself, from its socket's pools. */
		lc->cache_w = dp_cache_writer_create(c->ctx->cache, socket, 0);
		if (lc->cache_w == NULL) {
			ret = -errno;
			goto err;
		}
	}
	return lc;
err:
	dp_worker_free(lc);
	errno = -ret;
	return NULL;
}

void
dp_worker_free(struct dp_lcore *lc)
{
	if (lc == NULL)
		return;
	dp_miss_free(lc->miss);
	rte_free(lc->rl);
	rte_free(lc);
}
