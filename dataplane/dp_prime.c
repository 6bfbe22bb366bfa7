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

#include "dp_msgq.h"
#include "dp_prime.h"

struct dp_prime_feed {
	struct dp_msgq q; /* of struct dp_prime_msg */
};

struct dp_prime_feed *
dp_prime_feed_create(const char *name, int socket)
{
	struct dp_prime_feed *f;
	int ret;

	if (name == NULL) {
		errno = EINVAL;
		return NULL;
	}
	f = rte_zmalloc_socket("dp_prime_feed", sizeof(*f), RTE_CACHE_LINE_SIZE, socket);
	if (f == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	ret = dp_msgq_init(&f->q, name, DP_PRIME_REQUESTS, sizeof(struct dp_prime_msg), 0, socket);
	if (ret != 0) {
		rte_free(f);
		errno = -ret;
		return NULL;
	}
	return f;
}

void
dp_prime_feed_free(struct dp_prime_feed *f)
{
	if (f == NULL)
		return;
	dp_msgq_fini(&f->q);
	rte_free(f);
}

int
dp_prime_put_reply(struct dp_prime_feed *f, const uint8_t *dns, uint16_t len,
		   const struct dp_upq_addr *server, uint64_t now_ms)
{
	struct dp_prime_msg *m;

	if (len > DP_PRIME_MSG_MAX)
		return -EMSGSIZE;
	m = dp_msgq_get(&f->q);
	if (m == NULL)
		return -ENOBUFS;
	m->now_ms = now_ms;
	m->kind = DP_PRIME_REPLY;
	m->fail = 0;
	m->server = *server;
	m->len = len;
	memcpy(m->msg, dns, len);
	return dp_msgq_post(&f->q, m);
}

int
dp_prime_put_fail(struct dp_prime_feed *f, uint8_t fail, uint64_t now_ms)
{
	struct dp_prime_msg *m = dp_msgq_get(&f->q);

	if (m == NULL)
		return -ENOBUFS;
	memset(&m->server, 0, sizeof(m->server));
	m->now_ms = now_ms;
	m->kind = DP_PRIME_FAIL;
	m->fail = fail;
	m->len = 0;
	return dp_msgq_post(&f->q, m);
}

int
dp_prime_take(struct dp_prime_feed *f, struct dp_prime_msg *out)
{
	void *obj;
	const struct dp_prime_msg *m;

	if (dp_msgq_take_burst(&f->q, &obj, 1) == 0)
		return 0;
	m = obj;
	memcpy(out, m, offsetof(struct dp_prime_msg, msg) + m->len);
	dp_msgq_done(&f->q, &obj, 1);
	return 1;
}
