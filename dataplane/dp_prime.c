/* SPDX-License-Identifier: BSD-3-Clause */
/* The priming hand-off: a fixed pool of messages and a ring to the control thread. See
 * dp_prime.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dp_prime.h"

struct dp_prime_feed {
	struct rte_mempool *pool;
	struct rte_ring *ring; /* workers enqueue, the control thread dequeues */
};

struct dp_prime_feed *
dp_prime_feed_create(const char *name, int socket)
{
	struct dp_prime_feed *f;
	char n[RTE_MEMPOOL_NAMESIZE];

	if (name == NULL) {
		errno = EINVAL;
		return NULL;
	}
	f = rte_zmalloc_socket("dp_prime_feed", sizeof(*f), RTE_CACHE_LINE_SIZE, socket);
	if (f == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	snprintf(n, sizeof(n), "%s_p", name);
	f->pool = rte_mempool_create(n, DP_PRIME_REQUESTS, sizeof(struct dp_prime_msg), 0, 0,
				     NULL, NULL, NULL, NULL, socket, 0);
	snprintf(n, sizeof(n), "%s_r", name);
	f->ring = rte_ring_create(n, rte_align32pow2(DP_PRIME_REQUESTS + 1), socket,
				  RING_F_SC_DEQ);
	if (f->pool == NULL || f->ring == NULL) {
		int err = rte_errno != 0 ? rte_errno : ENOMEM;

		dp_prime_feed_free(f);
		errno = err;
		return NULL;
	}
	return f;
}

void
dp_prime_feed_free(struct dp_prime_feed *f)
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

static int
put(struct dp_prime_feed *f, struct dp_prime_msg *m)
{
	if (rte_ring_enqueue(f->ring, m) != 0) {
		rte_mempool_put(f->pool, m);
		return -ENOBUFS;
	}
	return 0;
}

int
dp_prime_put_reply(struct dp_prime_feed *f, const uint8_t *dns, uint16_t len,
		   const struct dp_upq_addr *server, uint64_t now_ms)
{
	struct dp_prime_msg *m;
	void *obj;

	if (len > DP_PRIME_MSG_MAX)
		return -EMSGSIZE;
	if (rte_mempool_get(f->pool, &obj) != 0)
		return -ENOBUFS;
	m = obj;
	m->now_ms = now_ms;
	m->kind = DP_PRIME_REPLY;
	m->fail = 0;
	m->server = *server;
	m->len = len;
	memcpy(m->msg, dns, len);
	return put(f, m);
}

int
dp_prime_put_fail(struct dp_prime_feed *f, uint8_t fail, uint64_t now_ms)
{
	struct dp_prime_msg *m;
	void *obj;

	if (rte_mempool_get(f->pool, &obj) != 0)
		return -ENOBUFS;
	m = obj;
	memset(&m->server, 0, sizeof(m->server));
	m->now_ms = now_ms;
	m->kind = DP_PRIME_FAIL;
	m->fail = fail;
	m->len = 0;
	return put(f, m);
}

int
dp_prime_take(struct dp_prime_feed *f, struct dp_prime_msg *out)
{
	void *obj;
	const struct dp_prime_msg *m;

	if (rte_ring_dequeue(f->ring, &obj) != 0)
		return 0;
	m = obj;
	memcpy(out, m, offsetof(struct dp_prime_msg, msg) + m->len);
	rte_mempool_put(f->pool, obj);
	return 1;
}
