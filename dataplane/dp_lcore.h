/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a worker lcore owns (struct dp_lcore) and what it shares read-only with the others
 * (struct dp_ctx), and the worker entry points.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <pollux/stats.h>

struct dp_access;
struct dp_cache;
struct dp_cache_writer;
struct px_hints;
struct dp_nexthop_table;
struct px_prime_status;
struct dp_settings;
struct dp_tap;
struct dp_tcp_lcore;
struct px_rl_table;
struct rte_rcu_qsbr;
struct rte_ring;

#define DP_BURST 32

/* The addresses a port answers on. Written by the control thread before workers start, then
 * read-only (dp: ro, ctl: rw before launch only). */
struct dp_port_conf {
	uint16_t port_id;
	struct rte_ether_addr mac;
	/* 802.1Q (dp_vlan.h): the VLAN ID every frame on the port carries, 0: untagged. With
	 * vlan_tx_hw the port inserts the tag from mbuf->vlan_tci (RTE_MBUF_F_TX_VLAN), else the
	 * worker does. A tag the port stripped on RX is told by the mbuf's flags. */
	uint16_t vlan;
	bool vlan_tx_hw;
	bool has_ip4;
	uint32_t ip4;      /* network byte order */
	uint8_t ip4_prefix;  /* the subnet on the link: on-link nameservers are sent to directly */
	bool has_ip6;
	uint8_t ip6[16];
	uint8_t ip6_prefix;
	uint8_t ip6_ll[16]; /* fe80::/64 EUI-64 from mac, answered for ND and echo */
	uint8_t ip6_snm[16];    /* solicited-node multicast of ip6 */
	uint8_t ip6_ll_snm[16]; /* solicited-node multicast of ip6_ll */
};

/* Shared by every worker. dp: ro, ctl: rw before launch, except `stop`. */
struct dp_ctx {
	struct dp_port_conf port;
	struct dp_cache *cache;
	struct px_hints *hints; /* dp: ro (px_hints_get), ctl: rw (release store, then RCU) */
	/* Access control and rate-limit parameters (dp_access.h), or NULL: every source served.
	 * dp: ro (dp_access_get) but for its own slice of hit counters, ctl: rw (release
	 * store, then RCU). */
	struct dp_access *access;
	/* What priming did (pollux/prime.h), or NULL: no priming. dp: rw by the priming worker only
	 * (sequence-counted), ctl: ro (px_prime_status_read). */
	struct px_prime_status *prime_status;
	struct rte_rcu_qsbr *qsbr;
	/* Bit L set: a local zone's apex has L labels. A miss probes only the ancestors of
	 * those depths for a zone apex, so a 127-label name costs what a 3-label one does.
	 * dp: ro (relaxed), ctl: rw (atomic, on reload). */
	uint64_t zone_depths[2];
	uint32_t idle_sleep_us;    /* 0: poll without pause */
	uint64_t idle_grace_tsc;   /* TSC cycles without a packet before the first sleep */
	/* Iterative resolution's shared state (NULL when recursion is off). With one resolving
	 * worker, port_owner and handoff are NULL: every reply is its own. */
	struct dp_nexthop_table *nbr; /* next hops' MACs (dp_nexthop.h): any worker writes */
	uint8_t *port_owner;       /* upstream source port -> worker index + 1 (pollux/upstream.h) */
	struct rte_ring **handoff; /* [worker index]: replies for that worker (MP enqueue, SC) */
	uint16_t worker_count;
	bool stop; /* dp: ro (relaxed load per loop), ctl: set once at shutdown */
	/* Set while the control thread stops and restarts the port (a net_memif peer that went
	 * away): workers park outside every burst until it is clear. dp: ro (seq_cst load per
	 * loop), ctl: rw (seq_cst store). */
	bool pause;
	/* Bumped by the control thread to ask for one health probe (ctl_health.h): the worker
	 * with dp_miss_conf.probe resolves the probe question when it sees a new value.
	 * dp: ro (relaxed load per loop, with recursion), ctl: rw (relaxed store, rarely). */
	uint32_t probe_seq;
	/* The resolver settings a reload may change (dp_settings.h), or NULL: each worker's
	 * creation conf holds. Last, so that the fields the cache-hit path reads keep their
	 * places. dp: ro (dp_settings_get, once per loop in dp_miss_tick), ctl: rw (release
	 * store, then RCU). */
	struct dp_settings *settings;
};

/* One per worker, allocated on its NUMA node; the worker is the only writer of all of it. */
struct dp_lcore {
	struct px_stats stats;   /* dp: rw, ctl/telemetry: ro (relaxed loads) */
	const struct dp_ctx *ctx;
	uint16_t queue_id;       /* also the worker's index among the workers */
	unsigned int lcore_id;
	uint64_t now_ms;         /* dp_clock_ms() sampled once per burst */
	/* Iterative resolution (dp_miss.h), or NULL when recursion is off: misses are then
	 * answered SERVFAIL. Built by the control thread on the worker's socket before launch. */
	struct dp_miss *miss;
	/* dnstap (dp_tap.h): this worker's ring to the logging thread, or NULL when dnstap is
	 * off, which is all a hook then costs. Built by the control thread before launch. */
	struct dp_tap *tap;
	/* This worker's writer of ctx->cache (dp_cache.h): what it resolves goes in before it
	 * answers. NULL: nothing is cached. Made by the control thread before launch. */
	struct dp_cache_writer *cache_w;
	/* DNS over TCP (dp_tcp.h): the tun queue, rings and neighbour table, or NULL when TCP is
	 * off (TCP segments are then dropped, drop_l4_proto). Built by the control thread. */
	struct dp_tcp_lcore *tcp;
	/* Token buckets of the clients this worker saw (pollux/ratelimit.h), or NULL: no rate
	 * limiting. Sized at start; the worker is its only writer. */
	struct px_rl_table *rl;
	bool parked; /* in dp_loop_run's pause wait, off RCU. dp: rw, ctl: ro (seq_cst: dp_loop.c) */
	/* The last RX burst was full: frames may be waiting in the queue, upstream replies among
	 * them, so the resolver judges its timeouts as of the queue's last empty moment
	 * (dp_miss_tick). napped: the worker napped since its last tick, from nap_ms, with the
	 * queue empty then. dp only. */
	bool rx_backlog;
	bool napped;
	uint64_t nap_ms;
	/* The heartbeat: rte_rdtsc() at the start of the last poll. The worker stores it once per
	 * loop iteration in its own cache line; the health check (ctl_health.h) reads it to tell a
	 * polling worker from a parked or stuck one. dp: rw (relaxed store), ctl: ro (relaxed). */
	uint64_t poll_tsc;
} __rte_cache_aligned;

/* Verdict of the per-packet handlers. */
enum dp_verdict {
	DP_DROP = 0, /* the handler counted why */
	DP_TX,       /* the mbuf now holds the reply, ready to send back out */
	DP_CONSUMED, /* taken in (a query handed to the resolver, an upstream reply, an ARP reply
		      * we learned from): free the mbuf, it is not a drop */
	DP_KEPT,     /* passed on whole (an upstream reply to the worker owning its port, a TCP
		      * segment queued for the kernel): the caller neither sends nor frees it */
};

#define DP_STAT_INC(lc, name) ((lc)->stats.name++)

/* Records that a local zone apex has `labels` labels. Control thread (tests and fuzzers; the
 * daemon's zones set every bit at once with dp_ctx_set_zone_depths). */
static inline void
dp_ctx_add_zone_depth(struct dp_ctx *ctx, unsigned labels)
{
	if (labels < 128)
		__atomic_fetch_or(&ctx->zone_depths[labels / 64], 1ull << (labels % 64),
				  __ATOMIC_RELEASE);
}

/* Replaces every zone depth bit (each word atomically). Control thread: a reload sets the old
 * and the new zones' depths before the new entries go in, and the new ones alone after the old
 * zones' entries are gone (ctl_zones.c): a bit set too early costs a probe, never an answer. */
static inline void
dp_ctx_set_zone_depths(struct dp_ctx *ctx, const uint64_t depths[2])
{
	__atomic_store_n(&ctx->zone_depths[0], depths[0], __ATOMIC_RELEASE);
	__atomic_store_n(&ctx->zone_depths[1], depths[1], __ATOMIC_RELEASE);
}

/* Workers, on a miss: a relaxed load is a plain load on every target pollux runs on. */
static inline bool
dp_ctx_has_zone_depth(const struct dp_ctx *ctx, unsigned labels)
{
	return labels < 128 &&
	       (__atomic_load_n(&ctx->zone_depths[labels / 64], __ATOMIC_RELAXED) >> (labels % 64) &
		1) != 0;
}

/* The root hints table in force; valid until the caller's next quiescent state report. Never
 * NULL once the daemon serves. Any RCU reader. */
static inline const struct px_hints *
px_hints_get(const struct dp_ctx *ctx)
{
	return __atomic_load_n(&ctx->hints, __ATOMIC_ACQUIRE);
}

/*
 * Handles a burst received on lc's queue: every mbuf is either rewritten into its reply and
 * placed in tx (returned count), or freed and counted. Per packet nothing allocates, locks or
 * logs. Worker only, as an online RCU reader. lc->now_ms must be current.
 */
uint16_t dp_rx_burst_handle(struct dp_lcore *lc, struct rte_mbuf **rx, uint16_t n,
			    struct rte_mbuf **tx);

/*
 * The worker main loop (rte_eal_remote_launch entry; arg is a struct dp_lcore *): RX a burst,
 * handle it, TX, report a quiescent state; backs off (RCU offline, sleep idle_sleep_us) on
 * each empty poll once nothing has arrived for idle_grace_tsc, when idle_sleep_us is set; parks (RCU offline, sets
 * lc->parked, touches no queue, stops its heartbeat lc->poll_tsc) while ctx->pause is set;
 * counts the gaps between its polls (dp_loop_count_gap). Returns when ctx->stop is set.
 */
int dp_loop_run(void *arg);

/*
 * A stall of the worker's loop: gap_tsc, the TSC cycles between two polls of its queue, counted
 * in st's poll_gap_100us, _1ms and _10ms when at least that long (each gap in every bucket it
 * reaches). The loop calls it only for gaps of 100 us or more, so the per-poll cost is one
 * compare. What a gap holds: the previous iteration's own work (a burst, the resolver's tick,
 * TCP, reclamation) and any time the thread was off its core; never an idle nap, which the
 * loop leaves out.
 */
void dp_loop_count_gap(struct px_stats *st, uint64_t gap_tsc, uint64_t tsc_hz);

/*
 * The loop's TCP step (lc->tcp set): segments to and from the kernel (dp_tcp_poll, with the miss
 * path's next hops), then the TCP thread's messages, each to its path: a client's query to the
 * answer path, the reply to a TC retry to the miss path. The loop joins them so that the TCP
 * path calls neither. Worker only, as an online RCU reader; lc->now_ms must be current. Also
 * called by tests that run a worker's loop by hand.
 */
void dp_loop_tcp(struct dp_lcore *lc);

/* Fills the derived IPv6 addresses (link-local, solicited-node) from mac and ip6. Control
 * thread, before launch. */
void dp_port_conf_derive(struct dp_port_conf *pc);
