/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A one-way message queue from the workers to the control thread: a fixed pool of fixed-size
 * messages and a ring. A worker takes a message from the pool (dp_msgq_get), fills it and posts
 * it (dp_msgq_post); the control thread takes it off the ring (dp_msgq_take or a burst), reads
 * it and gives it back to the pool (dp_msgq_done). Nothing is allocated after creation, nothing
 * blocks: an empty pool or a full ring is the caller's to count (the message is dropped).
 *
 * The priming hand-off (dp_prime.h) is built on it.
 * Workers: get and post (multi-producer); the control thread: take and done (single consumer).
 */
#pragma once

#include <errno.h>
#include <stddef.h>

#include <rte_mempool.h>
#include <rte_ring.h>

struct dp_msgq {
	struct rte_mempool *pool;
	struct rte_ring *ring; /* multi-producer (workers), single consumer (control thread) */
};

/*
 * Creates count messages of msg_size bytes on socket, named "<name>_p" (pool) and "<name>_r"
 * (ring); cache is the pool's per-lcore cache (0 for none). Returns 0, or -errno with nothing
 * left allocated. Control thread, before workers start.
 */
int dp_msgq_init(struct dp_msgq *q, const char *name, unsigned count, size_t msg_size,
		 unsigned cache, int socket);

/* Frees the pool and the ring with whatever is queued. A zeroed q is a no-op. Control thread,
 * workers stopped. */
void dp_msgq_fini(struct dp_msgq *q);

/* A free message, or NULL when the pool is empty. Any worker. */
static inline void *
dp_msgq_get(struct dp_msgq *q)
{
	void *m;

	return rte_mempool_get(q->pool, &m) == 0 ? m : NULL;
}

/* Queues m (from dp_msgq_get) for the control thread. Returns 0, or -ENOBUFS when the ring is
 * full (m went back to the pool). Any worker. */
static inline int
dp_msgq_post(struct dp_msgq *q, void *m)
{
	if (rte_ring_mp_enqueue(q->ring, m) != 0) {
		rte_mempool_put(q->pool, m);
		return -ENOBUFS;
	}
	return 0;
}

/* Up to n queued messages into ms, oldest first; returns how many. Control thread only. */
static inline unsigned
dp_msgq_take_burst(struct dp_msgq *q, void **ms, unsigned n)
{
	return rte_ring_sc_dequeue_burst(q->ring, ms, n, NULL);
}

/* Gives n taken messages back to the pool. Control thread only. */
static inline void
dp_msgq_done(struct dp_msgq *q, void *const *ms, unsigned n)
{
	rte_mempool_put_bulk(q->pool, ms, n);
}
