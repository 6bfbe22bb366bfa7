/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker side of fairness between clients (dp_miss.h, dp_miss_miss): each client's
 * share of the client slots, counted in the fair-share table (pollux/share.h), and the jostle that
 * ends the oldest resolution stuck on an unresponsive server when a new miss finds every slot
 * taken.
 */
#include <string.h>

#include <rte_common.h>

#include <pollux/share.h>
#include <pollux/upstream.h>
#include <pollux/wire.h>

#include "dp_miss.h"
#include "dp_miss_int.h"

/* The fair-share family of a TCP client: no address family has it. */
#define SHARE_TCP 't'

/* A client's fair-share key: its address (px_share masks an IPv6 one to the prefix), or the
 * TCP connection (the worker does not count a TCP client by its address: the TCP thread bounds
 * connections per source). Returns the key's family. */
static uint8_t
share_key(const struct dp_client_addr *from, uint8_t key[16])
{
	if (from->transport == DP_CLIENT_TCP) {
		memset(key, 0, 16);
		memcpy(key, &from->tcp_conn, 4);
		memcpy(key + 4, &from->tcp_conn_gen, 4);
		return SHARE_TCP;
	}
	memcpy(key, from->peer.a, 16);
	return from->peer.family;
}

bool
miss_share_take(struct dp_lcore *lc, const struct dp_client_addr *from, bool *counted)
{
	uint8_t key[16];
	uint8_t family = share_key(from, key);

	switch (px_share_take(lc->miss->share, family, key)) {
	case PX_SHARE_TAKEN:
		*counted = true;
		return true;
	case PX_SHARE_UNCOUNTED:
		DP_STAT_INC(lc, rec_share_uncounted);
		*counted = false;
		return true;
	default:
		DP_STAT_INC(lc, rec_client_capped);
		return false;
	}
}

uint32_t
miss_share_count(const struct dp_miss *rc, const struct dp_client_addr *from)
{
	uint8_t key[16];
	uint8_t family = share_key(from, key);

	return px_share_count(rc->share, family, key);
}

void
miss_share_put(struct dp_miss *rc, const struct dp_client_addr *from)
{
	uint8_t key[16];
	uint8_t family = share_key(from, key);

	px_share_put(rc->share, family, key);
}

/*
 * Whether the tree of `top` is only waiting for an unresponsive server: its query in flight
 * (sent by `leaf`) went out over UDP and is still outstanding, and the RTT table holds its
 * server in backoff at this moment, which means the server timed out and has not answered
 * anything since (a reply clears the backoff; quiet time forgives it step by step). A query
 * waiting for its TCP retry is not: that server answered, with TC. Nor is one that never left
 * (no neighbour yet): that is not the server's fault. The priming resolution is never jostled.
 */
static bool
miss_stuck(void *arg, uint64_t top, uint64_t leaf, const struct px_addr *server)
{
	struct dp_lcore *lc = arg;
	struct dp_miss *rc = lc->miss;
	const struct miss_send *snd;
	const struct miss_query *q;
	struct px_upq_server_info info;

	if (rc->prime_res != 0 && top == rc->prime_res)
		return false;
	if ((uint32_t)leaf >= rc->conf.slots)
		return false;
	snd = &rc->sends[(uint32_t)leaf];
	if (snd->res != leaf)
		return false;
	q = &rc->queries[snd->query];
	if (q->upq_handle == REC_UPQ_TCP || q->unsent)
		return false;
	return px_upq_server_info(rc->upq, server, lc->now_ms, &info) && info.backoff > 0;
}

/* Ends the tree of `top`: it stops waiting on its query in flight, which leaves the table with
 * its last waiter (a late reply finds nothing and is dropped as for any query that is gone; a
 * TCP retry under way is disowned, its outcome counted tcp_up_stale) and goes on for the
 * others sharing it; its clients get SERVFAIL. */
static void
miss_evict(struct dp_lcore *lc, uint64_t top)
{
	struct dp_miss *rc = lc->miss;
	const struct px_resolution *s = px_resolver_get(rc->res, top);
	struct px_dns_ede_info ede;
	struct px_wire_answer ans = {
		.rcode = PX_DNS_RCODE_SERVFAIL,
		.ede = px_resolver_fail_ede(PX_RES_FAIL_CANCELLED, NULL, 0, &ede, NULL),
	};
	uint64_t clients[PX_RES_MAX_CLIENTS], tree[8];
	uint8_t qname[PX_DNS_NAME_BUF], qname_len;
	uint16_t qtype, qclass;
	unsigned count, n;

	if (s == NULL)
		return;
	count = s->client_count;
	memcpy(clients, s->clients, count * sizeof(clients[0]));
	qname_len = s->qname_len;
	memcpy(qname, s->qname, qname_len);
	qtype = s->qtype;
	qclass = s->qclass;
	n = px_resolver_tree(rc->res, top, tree, RTE_DIM(tree));
	for (unsigned k = 0; k < n; k++)
		if (rc->sends[(uint32_t)tree[k]].res == tree[k])
			miss_query_leave(rc, (uint32_t)tree[k]);
	px_resolver_cancel(rc->res, top);
	/* A failure like any other: what serve-stale has is better than SERVFAIL. */
	if (!miss_stale_fail(lc, qname, qname_len, qtype, qclass, clients, count))
		miss_clients_answer(lc, clients, count, &ans);
}

bool
miss_jostle(struct dp_lcore *lc)
{
	struct dp_miss *rc = lc->miss;
	uint64_t top;

	if (rc->conf.jostle_ms == 0)
		return false;
	top = px_resolver_jostle_find(rc->res, lc->now_ms, rc->conf.jostle_ms, miss_stuck, lc);
	if (top == 0)
		return false;
	miss_evict(lc, top);
	DP_STAT_INC(lc, rec_jostled);
	return true;
}
