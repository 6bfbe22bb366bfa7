/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "dp_msgq.h"

int
dp_msgq_init(struct dp_msgq *q, const char *name, unsigned count, size_t msg_size,
	     unsigned cache, int socket)
{
	char n[RTE_MEMPOOL_NAMESIZE];
	int err;

	q->pool = NULL;
	q->ring = NULL;
	if (name == NULL || count == 0 || msg_size == 0)
		return -EINVAL;
	snprintf(n, sizeof(n), "%s_p", name);
	q->pool = rte_mempool_create(n, count, (unsigned)msg_size, cache, 0, NULL, NULL, NULL, NULL,
				     socket, 0);
	snprintf(n, sizeof(n), "%s_r", name);
	/* One slot more than messages: a ring of size N holds N - 1. */
	q->ring = rte_ring_create(n, rte_align32pow2(count + 1), socket, RING_F_SC_DEQ);
	if (q->pool != NULL && q->ring != NULL)
		return 0;
	err = rte_errno != 0 ? rte_errno : ENOMEM;
	dp_msgq_fini(q);
	return -err;
}

void
dp_msgq_fini(struct dp_msgq *q)
{
	void *m;

	while (q->ring != NULL && rte_ring_dequeue(q->ring, &m) == 0)
		rte_mempool_put(q->pool, m);
	rte_ring_free(q->ring);
	rte_mempool_free(q->pool);
	q->ring = NULL;
	q->pool = NULL;
}
