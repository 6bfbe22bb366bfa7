/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_recurse's insides, shared by its four files (nothing else includes this):
 *  - dp_recurse.c: the resolution state (create/free), client slots and answers, sending a
 *    query (the address policy once more), matching replies, timeouts, the loop tick;
 *  - dp_recurse_link.c: the link: frames and the TX batch, next hops and neighbour probes over
 *    the shared neighbour table, learning from ARP/ND, the reply hand-off between workers;
 *  - dp_recurse_cache.c: what resolution leaves in the cache and takes from it: answers, cuts
 *    (referrals), the closest cached cut to start from, and priming (RFC 8109);
 *  - dp_recurse_share.c: every client's fair share of the slots (dp_share.h) and the jostle
 *    that makes room when every slot is taken.
 * Worker only, like dp_recurse.h.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dp_lcore.h"
#include "dp_recurse.h"
#include "dp_reply.h"
#include "dp_resolve.h"
#include "dp_share.h"
#include "dp_upstream.h"

#define L2_LEN ((uint16_t)sizeof(struct rte_ether_hdr))
#define IP4_LEN ((uint16_t)sizeof(struct rte_ipv4_hdr))
#define IP6_LEN ((uint16_t)sizeof(struct rte_ipv6_hdr))
#define UDP_LEN ((uint16_t)sizeof(struct rte_udp_hdr))
/* Header and question as the client asked them: 12 + 255 + 4. */
#define REC_QMSG_MAX (PX_DNS_HDR_LEN + PX_DNS_MAX_NAME + 4)

/* A client waiting for a resolution. */
struct rec_client {
	uint32_t gen;     /* bumped at each release: a stale cookie finds a different gen */
	bool used;
	bool shared;      /* counted in the fair-share table: given back at release */
	struct dp_client_addr from;
	uint16_t flags;   /* the query's header flags */
	uint16_t question_end;
	uint16_t edns_bufsize;
	bool edns, edns_do;
	uint8_t msg[REC_QMSG_MAX]; /* header and question, byte for byte as asked */
};

/* The query in flight for resolution index i (a resolution has at most one). */
struct rec_send {
	uint64_t res;        /* the resolution handle it serves, 0 when none */
	uint64_t upq_handle; /* its entry in the outstanding-query table */
	bool unsent;           /* no frame left: no neighbour MAC or no mbuf yet */
	uint8_t unsent_retries; /* times the tick sent it again for that reason */
	uint8_t zone_len;
	uint8_t zone[PX_DNS_NAME_BUF]; /* the bailiwick the reply is scrubbed with */
};

/* The client cookie of the priming resolution: no client slot has that index, so nobody is
 * answered for it (clients asking ". NS" meanwhile attach and are). */
#define DP_REC_PRIME_COOKIE UINT64_MAX

/* rec_send.upq_handle while the query waits for its TCP retry (dp_tcp.h): no table entry has
 * this handle (its index is past any capacity), so the UDP paths never match it. */
#define REC_UPQ_TCP UINT64_MAX

/* A query that never left (no next-hop MAC yet, no mbuf) is sent again at its deadline this many
 * times before the resolver hears of it: the server did nothing wrong. */
#define DP_REC_UNSENT_RETRIES 2

struct dp_recurse {
	struct dp_recurse_conf conf;
	struct rte_mempool *pool;
	struct dp_resolver *res;
	struct dp_upq_table *upq;
	struct rec_client *clients;
	uint32_t *client_free;
	uint32_t client_free_count;
	struct rec_send *sends;
	struct dp_reply reply; /* scratch for one classification (about 80 KiB) */
	struct dp_rand rand;
	struct dp_share *share; /* the fair-share table; NULL without a cap */

	uint64_t gw_check_ms; /* next look at the gateways' neighbour entries */
	uint8_t *owners;      /* the shared port owner map, NULL with one worker */
	uint16_t *port_refs;
	uint8_t self;         /* our index + 1 in owners */

	/* Priming: the resolution in flight (0: none), when to look at the root cut next, and the
	 * backoff for the next attempt. */
	uint64_t prime_res;
	uint64_t prime_next_ms;
	uint32_t prime_backoff_ms;

	uint16_t tx_count;
	struct rte_mbuf *tx[DP_REC_TX_BATCH];

	void *res_mem, *upq_mem, *share_mem;
};

/* dp_recurse.c */
void rec_run(struct dp_lcore *lc, struct dp_resolve_action *act);
struct dp_wire_answer;
/* Sends ans to each live client among the cookies and releases its slot. */
void rec_clients_answer(struct dp_lcore *lc, const uint64_t *clients, unsigned count,
			const struct dp_wire_answer *ans);
enum dp_verdict rec_reply(struct dp_lcore *lc, uint8_t family, const void *ip, uint16_t sport_be,
	  uint16_t dport_be, const uint8_t *dns, uint16_t dns_len);

/* dp_recurse_link.c */
void rec_flush(struct dp_lcore *lc);
void rec_queue(struct dp_lcore *lc, struct rte_mbuf *m);
void rec_frame(struct dp_lcore *lc, struct rte_mbuf *m, uint8_t family, const struct rte_ether_addr *dst,
	  const uint8_t *daddr, uint16_t sport_be, uint16_t dport_be, uint16_t dns_len);
const uint8_t *rec_nexthop(const struct dp_lcore *lc, const struct dp_upq_addr *srv, bool *on_link);
bool rec_nexthop_mac(struct dp_lcore *lc, const struct dp_upq_addr *srv, struct rte_ether_addr *mac);
void rec_handoff_drain(struct dp_lcore *lc);
void rec_gateway_check(struct dp_lcore *lc, uint8_t family, const uint8_t *gw);
bool rec_gateway_known(struct dp_lcore *lc);

/* dp_recurse_share.c */
/* One more client slot for `from` in the fair-share table: false when it holds its share
 * already (counted rec_client_capped); else true, with *counted saying whether it must be given
 * back (false when its probe run was full: counted rec_share_uncounted). */
bool rec_share_take(struct dp_lcore *lc, const struct dp_client_addr *from, bool *counted);
/* Gives back the slot client c was counted for. */
void rec_share_put(struct dp_recurse *rc, const struct rec_client *c);
/* Every slot is taken: ends the oldest resolution only waiting for an unresponsive server, if
 * there is one (counted rec_jostled; its clients get SERVFAIL). Returns true if it did. */
bool rec_jostle(struct dp_lcore *lc);

/* dp_recurse_cache.c */
void rec_cache_offer(struct dp_lcore *lc, const struct dp_resolve_action *act);
void rec_cut_offer(struct dp_lcore *lc, const struct dp_resolve_cut *cut);
bool rec_cut_source(void *arg, const uint8_t *name, uint8_t name_len, uint16_t qtype,
	       struct dp_resolve_start_buf *out);
void rec_prime_done(struct dp_lcore *lc, const struct dp_resolve_action *act);
const struct dp_resolve_start_cut *rec_start_cut(struct dp_lcore *lc, const struct dp_resolve_question *q,
	      struct dp_resolve_start_buf *buf);
void rec_prime_reply(struct dp_lcore *lc, uint64_t res, const uint8_t *dns, uint16_t dns_len,
		const struct dp_upq_addr *server);
void rec_prime_tick(struct dp_lcore *lc);
