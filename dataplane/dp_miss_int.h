/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_miss's insides, shared by its four files (nothing else includes this):
 *  - dp_miss.c: the resolution state (create/free), client slots and answers, sending a
 *    query (the address policy once more), matching replies, timeouts, the loop tick;
 *  - dp_miss_query.c: the queries on the wire and the resolutions waiting on each (one
 *    query per identical question, its reply or timeout fed to every waiter), and their
 *    retries (no neighbour yet, 0x20 case mismatches, TC over TCP);
 *  - dp_miss_link.c: the link: frames and the TX batch (next hops and their probes are
 *    dp_nexthop.h's, with rc->nexthop), the reply hand-off between workers;
 *  - dp_miss_cache.c: what resolution leaves in the cache and takes from it: answers, cuts
 *    (referrals), the closest cached cut to start from, and priming (RFC 8109);
 *  - dp_miss_share.c: every client's fair share of the slots (pollux/share.h) and the jostle
 *    that makes room when every slot is taken;
 *  - dp_miss_stale.c: serve-stale (RFC 8767: stale answers on failure or after the client
 *    response timer) and prefetch.
 * Worker only, like dp_miss.h.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <pollux/hints.h>
#include <pollux/reply.h>
#include <pollux/resolver.h>
#include <pollux/share.h>
#include <pollux/upstream.h>

#include "dp_lcore.h"
#include "dp_miss.h"
#include "dp_nexthop.h"

#define L2_LEN ((uint16_t)sizeof(struct rte_ether_hdr))
#define IP4_LEN ((uint16_t)sizeof(struct rte_ipv4_hdr))
#define IP6_LEN ((uint16_t)sizeof(struct rte_ipv6_hdr))
#define UDP_LEN ((uint16_t)sizeof(struct rte_udp_hdr))
/* Header and question as the client asked them: 12 + 255 + 4. */
#define REC_QMSG_MAX (PX_DNS_HDR_LEN + PX_DNS_MAX_NAME + 4)

/* A client waiting for a resolution. */
struct miss_client {
	uint32_t gen;     /* bumped at each release: a stale cookie finds a different gen */
	bool used;
	bool shared;      /* counted in the fair-share table: given back at release */
	struct dp_client_addr from;
	uint16_t flags;   /* the query's header flags */
	uint16_t question_end;
	uint16_t edns_bufsize;
	bool edns, edns_do;
	bool stale;       /* an expired answer may be served (dp_miss_stale.c) */
	bool answered;    /* answered already (stale on its timer) or never to be (a prefetch):
			   * held, with its share, until its resolution ends, then released
			   * without a word; so a refresh counts against its client as a miss */
	uint8_t msg[REC_QMSG_MAX]; /* header and question, byte for byte as asked */
};

/* A client response timer (dp_miss_stale.c): the slot's cookie, when it started and when it
 * fires (start + the timeout in force: recomputed when a reload changes the timeout). */
struct miss_stale_timer {
	uint64_t cookie;
	uint64_t start_ms;
	uint64_t deadline_ms;
};

/*
 * A query on the wire and the resolutions waiting on it: the first that asked and every one that
 * would have asked the same server the same question while it was outstanding (px_upq_find).
 * Its reply or timeout is fed to each in turn. Its index is the upstream table entry's cookie
 * and the TCP retry's send slot; it lives as long as somebody waits on it.
 */
struct miss_query {
	uint32_t gen;           /* bumped at each allocation: its handle is gen << 32 | index */
	bool used;
	uint64_t upq_handle;    /* its entry in the outstanding-query table, REC_UPQ_TCP while
				 * asked over TCP, 0 while its reply is being fed */
	uint32_t head, tail;    /* waiters, oldest first: resolution index + 1, 0 ends */
	uint32_t waiters;
	bool unsent;            /* no frame left: no neighbour MAC or no mbuf yet */
	uint8_t unsent_retries; /* times the tick sent it again for that reason */
	uint8_t case_retries;   /* times it was asked again after a 0x20 case mismatch */
};

/* What resolution index i waits on (a resolution has at most one query in flight). */
struct miss_send {
	uint64_t res;        /* the resolution handle waiting, 0 when none */
	uint32_t query;      /* the miss_query index it waits on */
	uint32_t prev, next; /* that query's waiters: resolution index + 1, 0 ends */
	uint8_t zone_len;
	uint8_t zone[PX_DNS_NAME_BUF]; /* its bailiwick: the reply is scrubbed with it */
};

/* What miss_run() offered to the cache while one reply is fed to many waiters: the same cut or
 * answer once, not once per waiter. */
struct miss_dedupe {
	bool active;
	uint8_t zone_len; /* the last cut offered; 0: none */
	uint8_t name_len; /* the last answer offered; 0: none */
	uint16_t qtype, qclass;
	uint8_t zone[PX_DNS_NAME_BUF];
	uint8_t name[PX_DNS_NAME_BUF];
};

/* The client cookie of the priming resolution and of the health probe (dp_miss_probe.c): no
 * client slot has that index, so nobody is answered for it (clients asking the same question
 * meanwhile attach and are). */
#define DP_MISS_PRIME_COOKIE UINT64_MAX

/* miss_send.upq_handle while the query waits for its TCP retry (dp_tcp.h): no table entry has
 * this handle (its index is past any capacity), so the UDP paths never match it. */
#define REC_UPQ_TCP UINT64_MAX

/* A query that never left (no next-hop MAC yet, no mbuf) is sent again at its deadline this many
 * times before the resolver hears of it: the server did nothing wrong. */
#define DP_MISS_UNSENT_RETRIES 2

/* A query that ended with a reply failing only the 0x20 check is asked again this many times
 * (the second after the server's fallback, pollux/upstream.h) before its waiters hear of a
 * timeout. */
#define DP_MISS_CASE_RETRIES PX_UPQ_CASE_STRIKES

struct dp_miss {
	struct dp_miss_conf conf;
	/* The address policy in force for this worker: conf.policy and the resolver point here.
	 * A copy, not the published object (dp_settings.h), so that nothing RCU-protected is
	 * kept across a quiescent report; refreshed when settings_gen falls behind. */
	struct px_addr_policy policy;
	uint64_t settings_gen; /* of the dp_settings copied in; 0: the creation conf */
	struct rte_mempool *pool;
	struct px_resolver *res;
	struct px_upq_table *upq;
	struct miss_client *clients;
	uint32_t *client_free;
	uint32_t client_free_count;
	struct miss_send *sends;      /* [slots], by resolution index */
	struct miss_query *queries;   /* [slots]: never more than the resolutions waiting */
	uint32_t *query_free;
	uint32_t query_free_count;
	struct miss_dedupe dedupe;
	struct px_reply reply; /* scratch for one classification (about 80 KiB) */
	struct px_rand rand;
	struct px_share *share; /* the fair-share table; NULL without a cap */
	/* The client response timers of stale slots, in deadline order: a ring of stale_cap. */
	struct miss_stale_timer *stale_timers;
	uint32_t stale_cap, stale_head, stale_count;

	/* This worker's next hops: conf's gateways, probes from pool into the TX batch. */
	struct dp_nexthop nexthop;
	uint8_t *owners;      /* the shared port owner map, NULL with one worker */
	uint16_t *port_refs;
	uint8_t self;         /* our index + 1 in owners */

	/* Priming: the resolution in flight (0: none), when to look at the root cut next, and the
	 * backoff for the next attempt. */
	uint64_t prime_res;
	uint64_t prime_next_ms;
	uint32_t prime_backoff_ms;
	uint32_t probe_seq_seen; /* the last ctx->probe_seq acted on */
	/* The root set a priming reply is checked into (a struct px_hints of PX_HINTS_MAX_NS). */
	uint64_t prime_hints[(sizeof(struct px_hints) + PX_HINTS_MAX_NS *
			      sizeof(struct px_hints_ns) + 7) / 8];

	/* The last tick that saw the RX queue and the hand-off ring empty (dp_miss_tick): every
	 * reply that came before it has been read. */
	uint64_t drained_ms;

	uint16_t tx_count;
	struct rte_mbuf *tx[DP_MISS_TX_BATCH];

	void *res_mem, *upq_mem, *share_mem;
};

/* dp_miss.c */
void miss_run(struct dp_lcore *lc, struct px_resolver_action *act);
struct px_wire_answer;
/* Sends ans to each live client among the cookies and releases its slot (one answered already
 * is released without sending). Returns how many were sent ans. */
unsigned miss_clients_answer(struct dp_lcore *lc, const uint64_t *clients, unsigned count,
			     const struct px_wire_answer *ans);
enum dp_verdict miss_reply(struct dp_lcore *lc, uint8_t family, const void *ip, uint16_t sport_be,
	  uint16_t dport_be, const uint8_t *dns, uint16_t dns_len);
bool miss_wire(struct dp_lcore *lc, const struct px_addr *srv, const struct px_upq_sent *sent,
	      uint8_t qname_len, uint16_t qtype, uint16_t qclass);

/* dp_miss_query.c */
int miss_query_send(struct dp_lcore *lc, const struct px_resolver_action *act);
void miss_query_leave(struct dp_miss *rc, uint32_t idx);
void miss_query_release(void *arg, uint64_t res);
void miss_query_reply(struct dp_lcore *lc, const struct px_upq_done *done, uint16_t id,
		     const uint8_t *dns, uint16_t dns_len);
void miss_query_expired(struct dp_lcore *lc, const struct px_upq_done *done);

/* dp_miss_link.c */
void miss_flush(struct dp_lcore *lc);
void miss_queue(struct dp_lcore *lc, struct rte_mbuf *m);
void miss_frame(struct dp_lcore *lc, struct rte_mbuf *m, uint8_t family, const struct rte_ether_addr *dst,
	  const uint8_t *daddr, uint16_t sport_be, uint16_t dport_be, uint16_t dns_len);
/* Matches up to DP_BURST replies other workers handed over; returns how many. */
unsigned miss_handoff_drain(struct dp_lcore *lc);

/* Sends client slot i ans and keeps the slot, marked answered, until its resolution ends. */
void miss_client_answer_early(struct dp_lcore *lc, uint32_t i, const struct px_wire_answer *ans);
/* A client slot for `from` that waits for nothing (a prefetch it caused), its share taken:
 * true with *cookie, false when there is none or `from` holds its share. */
bool miss_client_hold(struct dp_lcore *lc, const struct dp_client_addr *from, uint64_t *cookie);
/* Gives back the slot behind cookie, if it is still held, without sending anything. */
void miss_client_drop(struct dp_miss *rc, uint64_t cookie);

/* dp_miss_share.c */
/* One more client slot for `from` in the fair-share table: false when it holds its share
 * already (counted rec_client_capped); else true, with *counted saying whether it must be given
 * back (false when its probe run was full: counted rec_share_uncounted). */
bool miss_share_take(struct dp_lcore *lc, const struct dp_client_addr *from, bool *counted);
/* Gives back the slot `from` was counted for. */
void miss_share_put(struct dp_miss *rc, const struct dp_client_addr *from);
/* The client slots `from` holds in the fair-share table. */
uint32_t miss_share_count(const struct dp_miss *rc, const struct dp_client_addr *from);
/* Every slot is taken: ends the oldest resolution only waiting for an unresponsive server, if
 * there is one (counted rec_jostled; its clients get SERVFAIL). Returns true if it did. */
bool miss_jostle(struct dp_lcore *lc);

/* dp_miss_cache.c */
void miss_cache_offer(struct dp_lcore *lc, const struct px_resolver_action *act);
void miss_cut_offer(struct dp_lcore *lc, const struct px_resolver_cut *cut);
bool miss_cut_source(void *arg, const uint8_t *name, uint8_t name_len, uint16_t qtype,
	       struct px_resolver_start_buf *out);
void miss_prime_done(struct dp_lcore *lc, const struct px_resolver_action *act);
const struct px_resolver_start_cut *miss_start_cut(struct dp_lcore *lc, const struct px_resolver_question *q,
	      struct px_resolver_start_buf *buf);
void miss_prime_reply(struct dp_lcore *lc, uint64_t res, const uint8_t *dns, uint16_t dns_len,
		const struct px_addr *server);
void miss_prime_tick(struct dp_lcore *lc);

/* dp_miss_stale.c */
struct dp_cache_entry;
/* Makes rc's timer ring on socket. 0, or -1 when out of memory. */
int miss_stale_init(struct dp_miss *rc, int socket);
/* A resolution of the question failed: if the cache holds a fresh answer, or a stale one,
 * its clients get that (counted stale_served) and true is returned; false: nothing served. */
bool miss_stale_fail(struct dp_lcore *lc, const uint8_t *qname, uint8_t qname_len,
		     uint16_t qtype, uint16_t qclass, const uint64_t *clients, unsigned count);
/* Starts the client response timer of the slot behind cookie. */
void miss_stale_arm(struct dp_lcore *lc, uint64_t cookie);
/* Fires the due client response timers (at most DP_MISS_EXPIRE_BUDGET). */
void miss_stale_tick(struct dp_lcore *lc);
/* The client response timeout changed (a reload): every pending timer now fires at its start
 * plus timeout_ms. */
void miss_stale_retime(struct dp_miss *rc, uint32_t timeout_ms);

/* dp_miss_probe.c */
/* The health probe, when the control thread asked for one (ctx->probe_seq moved). */
void miss_probe_tick(struct dp_lcore *lc);
