/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Assembles workers: what they share (struct dp_ctx: RCU, the cache, the priming record, the
 * neighbour table, the reply hand-off) and each one's own state (struct dp_lcore: resolution,
 * cache writer, rate-limit buckets, and the TCP and dnstap sides it is given). The daemon
 * (control/main.c), the tests and the benchmarks all build their workers here, so a test runs
 * the worker the daemon runs, wired the same way.
 *
 * Why in dataplane/: everything assembled here is data-plane state built from data-plane
 * constructors (dp_cache, dp_miss, dp_nexthop, the core's rate limiter). Two pieces are not: the
 * port, whose set-up depends on the device the operator named and is reported to them
 * (control/main.c; a net_ring port in tests), and the TCP and dnstap sides, which belong to
 * threads the control plane runs (ctl_tcp.h, ctl_dnstap.h). The caller makes those and passes
 * them in: the port and its mbuf pool by id, the TCP and dnstap sides by pointer.
 *
 * Control thread only (or a test's main lcore), before the workers run.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>

#include "dp_lcore.h"
#include "dp_miss.h"

/* What the workers share. */
struct dp_worker_ctx_conf {
	const char *name;    /* prefix of the memory zone and ring names: unique in the process */
	int socket;          /* where the shared state lives */
	uint32_t cache_size; /* entries (dp_cache_create) */
	/* Workers that resolve: 0, recursion off (no neighbour table); 1, no hand-off; 2 or more
	 * (fewer than 255), a source-port owner map and one hand-off ring each. */
	uint16_t resolvers;
	uint32_t handoff_size; /* slots of each hand-off ring, a power of two */
	bool prime;            /* a priming record: one resolving worker primes */
};

/*
 * Fills ctx's shared state from c: RCU for RTE_MAX_LCORE readers, the cache, with resolvers
 * the neighbour table (empty) and worker_count, with two or more the port owner map and the
 * hand-off rings, and with prime the priming record. The caller fills the rest (the port's
 * addresses, hints, access, settings) as before. Returns 0, or -errno with nothing left
 * allocated. Control thread only.
 */
int dp_worker_ctx_build(struct dp_ctx *ctx, const struct dp_worker_ctx_conf *c);

/* Frees what dp_worker_ctx_build() made (the cache with its writers), after every worker
 * stopped and was freed. Control thread only. */
void dp_worker_ctx_free(struct dp_ctx *ctx);

/* One worker. */
struct dp_worker_conf {
	struct dp_ctx *ctx;
	unsigned lcore_id;        /* where it runs; its memory goes on that lcore's socket */
	uint16_t index;           /* its RX/TX queue on the port, and its index among workers */
	struct rte_mempool *pool; /* the port's mbufs: the miss path builds its queries there */
	/* Resolution, or NULL: misses are answered SERVFAIL and nothing is cached by the
	 * worker. With ctx->port_owner the worker claims its source ports there. */
	const struct dp_miss_conf *miss;
	uint64_t now_ms;          /* the worker's clock at creation (dp_clock_ms in the daemon) */
	uint32_t ratelimit_size;  /* token buckets, 0: no rate limiting */
	/* The buckets' 16-byte key, or NULL: a random one (getrandom). A fixed key is for
	 * benchmarks and tests that want the same layout every run. */
	const uint8_t *ratelimit_key;
	struct dp_tcp_lcore *tcp; /* the TCP side (ctl_tcp_worker), or NULL: TCP off */
	struct dp_tap *tap;       /* the dnstap side (ctl_dnstap_tap), or NULL: dnstap off */
};

/*
 * Builds a worker from c on its lcore's socket (rte_zmalloc_socket): the struct dp_lcore, its
 * resolution state (dp_miss_create, dp_miss_share_ports) and cache writer when c->miss is set,
 * and its rate-limit buckets. Ready for dp_loop_run, or to be stepped by a test. Returns NULL
 * with errno set (EINVAL, ENOMEM, getrandom's), with nothing left allocated. Control thread
 * only.
 */
struct dp_lcore *dp_worker_build(const struct dp_worker_conf *c);

/* Frees what dp_worker_build() made, after the worker stopped (not the TCP and dnstap sides,
 * which their own modules free, nor the cache writer, which the cache frees). NULL is a no-op.
 * Control thread only. */
void dp_worker_free(struct dp_lcore *lc);
