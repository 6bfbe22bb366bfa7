/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_miss's queries on the wire (see dp_miss_int.h): one outstanding query per identical
 * question to one server, shared by every resolution that needs it.
 *
 * - A SEND whose (server, qname, qtype, qclass) is outstanding already (px_upq_find) does not
 *   go out: the resolution joins that query's waiters (rec_up_coalesced). The resolver picks
 *   such a server first (pollux/resolver.h), so resolutions asking the same minimised name of a
 *   zone, a crowd of names below a zone not visited yet for one, wait for one referral.
 * - The waiters are an intrusive doubly linked list through the resolutions' send entries
 *   (struct miss_send), so their number is bounded by the resolution pool alone and one leaves
 *   in O(1): when its resolution is cut short (the resolver's release hook: cancelled, evicted)
 *   or sends something else. A query nobody waits on any more is cancelled at once.
 * - A reply is matched once, then fed to each waiter in turn, oldest first, classified with
 *   that waiter's own bailiwick (again only when the zone differs from the last one). The
 *   message is the received mbuf's data (or the TCP message's), which the caller frees only
 *   after every waiter has had it. A waiter is unlinked before it is fed, so whatever its
 *   resolution does next (a new query, an answer, ending) cannot disturb the list, and the
 *   query is freed with its last waiter.
 * - A timeout is one for the server (one backoff step) and is fed to every waiter: each marks
 *   the server failed and moves on; the first to ask another server starts a query there and
 *   the others, choosing that server first, join it, so the failover is shared too.
 * - Retries keep the waiters: a query that never left (no neighbour yet) is sent again with a
 *   new port and ID; one that drew a reply failing only the 0x20 check is asked again of the
 *   same server (DP_MISS_CASE_RETRIES times; pollux/upstream.h has the rule that puts the server in
 *   fallback, counted rec_0x20_fallback); a TC reply is asked again over TCP once for all.
 */
#include <string.h>

#include <rte_branch_prediction.h>

#include "dp_miss_int.h"
#include "dp_tap.h"
#include "dp_tcp.h"

static inline uint32_t
query_index(const struct dp_miss *rc, const struct miss_query *q)
{
	return (uint32_t)(q - rc->queries);
}

static inline uint64_t
query_handle(const struct dp_miss *rc, const struct miss_query *q)
{
	return (uint64_t)q->gen << 32 | query_index(rc, q);
}

static struct miss_query *
query_alloc(struct dp_miss *rc)
{
	struct miss_query *q;

	if (rc->query_free_count == 0)
		return NULL;
	q = &rc->queries[rc->query_free[--rc->query_free_count]];
	q->gen = q->gen + 1 != 0 ? q->gen + 1 : 1;
	q->used = true;
	q->upq_handle = 0;
	q->head = q->tail = 0;
	q->waiters = 0;
	q->unsent = false;
	q->unsent_retries = 0;
	q->case_retries = 0;
	return q;
}

static void
query_free(struct dp_miss *rc, struct miss_query *q)
{
	q->used = false;
	rc->query_free[rc->query_free_count++] = query_index(rc, q);
}

/* Appends resolution index idx (act's) to q's waiters. */
static void
query_link(struct dp_miss *rc, struct miss_query *q, uint32_t idx,
	   const struct px_resolver_action *act)
{
	struct miss_send *snd = &rc->sends[idx];

	snd->res = act->res;
	snd->query = query_index(rc, q);
	snd->prev = q->tail;
	snd->next = 0;
	snd->zone_len = act->zone_len;
	memcpy(snd->zone, act->zone, act->zone_len);
	if (q->tail != 0)
		rc->sends[q->tail - 1].next = idx + 1;
	else
		q->head = idx + 1;
	q->tail = idx + 1;
	q->waiters++;
}

static void
query_unlink(struct dp_miss *rc, struct miss_query *q, uint32_t idx)
{
	struct miss_send *snd = &rc->sends[idx];

	if (snd->prev != 0)
		rc->sends[snd->prev - 1].next = snd->next;
	else
		q->head = snd->next;
	if (snd->next != 0)
		rc->sends[snd->next - 1].prev = snd->prev;
	else
		q->tail = snd->prev;
	q->waiters--;
	snd->res = 0;
	snd->prev = snd->next = 0;
}

/* Resolution index idx stops waiting on its query, if it waits on one; the query goes with its
 * last waiter (cancelled in the upstream table: a late reply is then counted as a stray). */
void
miss_query_leave(struct dp_miss *rc, uint32_t idx)
{
	struct miss_send *snd = &rc->sends[idx];
	struct miss_query *q;

	if (snd->res == 0)
		return;
	q = &rc->queries[snd->query];
	query_unlink(rc, q, idx);
	if (q->head != 0)
		return;
	if (q->upq_handle != REC_UPQ_TCP)
		px_upq_cancel(rc->upq, q->upq_handle);
	query_free(rc, q);
}

/* The resolver's release hook (px_resolver_set_release_hook): resolution res ended while
 * waiting. */
void
miss_query_release(void *arg, uint64_t res)
{
	struct dp_miss *rc = arg;
	uint32_t idx = (uint32_t)res;

	if (idx < rc->conf.slots && rc->sends[idx].res == res)
		miss_query_leave(rc, idx);
}

/* Starts q's question in the upstream table (a new port, ID and 0x20 case) and sends it.
 * Returns 0, or -1 when the table has no room (counted). */
static int
query_start(struct dp_lcore *lc, struct miss_query *q, struct px_upq_query *uq)
{
	struct dp_miss *rc = lc->miss;
	struct px_upq_sent sent;

	uq->cookie = query_index(rc, q);
	if (px_upq_start(rc->upq, &rc->rand, uq, lc->now_ms,
			 px_upq_server_rto(rc->upq, &uq->server, lc->now_ms), &sent) != 0) {
		DP_STAT_INC(lc, rec_drop_no_slot);
		return -1;
	}
	q->upq_handle = sent.handle;
	q->unsent = !miss_wire(lc, &uq->server, &sent, uq->qname_len, uq->qtype, uq->qclass);
	return 0;
}

int
miss_query_send(struct dp_lcore *lc, const struct px_resolver_action *act)
{
	struct dp_miss *rc = lc->miss;
	uint32_t idx = (uint32_t)act->res, qi;
	struct px_upq_query uq = {
		.server = act->server,
		.qtype = act->qtype,
		.qclass = act->qclass,
		.qname_len = act->qname_len,
		.qname = act->qname,
	};
	struct miss_query *q;
	uint64_t h;

	uq.server.port = PX_DNS_PORT;
	/* What an ended resolution that had this index waited on is of no use now. */
	miss_query_leave(rc, idx);
	h = px_upq_find(rc->upq, &uq, &qi);
	if (h != 0 && qi < rc->conf.slots && rc->queries[qi].used &&
	    rc->queries[qi].upq_handle == h) {
		query_link(rc, &rc->queries[qi], idx, act);
		DP_STAT_INC(lc, rec_up_coalesced);
		return 0;
	}
	q = query_alloc(rc);
	if (unlikely(q == NULL)) {
		DP_STAT_INC(lc, rec_drop_no_slot);
		return -1;
	}
	query_link(rc, q, idx, act);
	if (query_start(lc, q, &uq) != 0) {
		query_unlink(rc, q, idx);
		query_free(rc, q);
		return -1;
	}
	return 0;
}

/* Classifies the reply into rc->reply for the question qq with zone as the bailiwick. */
static void
classify(struct dp_miss *rc, const struct px_reply_query *qq, const uint8_t *zone,
	 uint8_t zone_len, const uint8_t *dns, uint16_t dns_len)
{
	struct px_reply_query rq = *qq;

	rq.zone = zone;
	rq.zone_len = zone_len;
	rq.policy = rc->conf.policy;
	px_reply_classify(&rc->reply, dns, dns_len, &rq);
}

/*
 * Feeds q's outcome to every waiter, oldest first: the reply dns (question qq; rc->reply holds
 * its classification for the zone `classified` names, or nothing when classified is NULL) or,
 * with dns NULL, a timeout, or for a query that never left (no neighbour MAC, after its
 * retries) the server being unreachable. Each waiter is unlinked before it is fed and q is
 * freed with the last; a waiter cut short meanwhile has left the list through the release
 * hook.
 */
static void
query_feed(struct dp_lcore *lc, struct miss_query *q, const struct px_addr *server,
	   const struct px_reply_query *qq, const uint8_t *dns, uint16_t dns_len,
	   const struct miss_send *classified)
{
	struct dp_miss *rc = lc->miss;
	const uint64_t h = query_handle(rc, q);
	uint8_t zone[PX_DNS_NAME_BUF];
	uint8_t zone_len = 0;
	bool have = classified != NULL, unsent = q->unsent; /* read before q is freed */
	bool counted = false;
	struct px_resolver_action act;

	if (have) {
		zone_len = classified->zone_len;
		memcpy(zone, classified->zone, zone_len);
	}
	q->upq_handle = 0;
	rc->dedupe.active = true;
	rc->dedupe.zone_len = 0;
	rc->dedupe.name_len = 0;
	while (q->used && query_handle(rc, q) == h && q->head != 0) {
		uint32_t w = q->head - 1;
		const struct miss_send *snd = &rc->sends[w];
		uint64_t res = snd->res;

		if (dns != NULL && (!have || snd->zone_len != zone_len ||
				    memcmp(snd->zone, zone, zone_len) != 0)) {
			zone_len = snd->zone_len;
			memcpy(zone, snd->zone, zone_len);
			classify(rc, qq, zone, zone_len, dns, dns_len);
			have = true;
		}
		/* Once per reply, however many zones it is classified for. */
		if (dns != NULL && !counted) {
			lc->stats.rec_answer_type_mismatch += rc->reply.counts.type_mismatch;
			counted = true;
		}
		query_unlink(rc, q, w);
		if (q->head == 0)
			query_free(rc, q);
		if (dns == NULL && unsent) {
			px_resolver_on_unreachable(rc->res, res, server, lc->now_ms, &act);
		} else if (dns == NULL) {
			px_resolver_on_timeout(rc->res, res, server, lc->now_ms, &act);
		} else {
			miss_prime_reply(lc, res, dns, dns_len, server);
			px_resolver_on_reply(rc->res, res, &rc->reply, dns, dns_len, server,
					    lc->now_ms, &act);
		}
		miss_run(lc, &act);
	}
	rc->dedupe.active = false;
}

/* A UDP reply matched the upstream entry done: feeds it to the query's waiters, or first asks
 * it again over TCP when it has TC. */
void
miss_query_reply(struct dp_lcore *lc, const struct px_upq_done *done, uint16_t id,
		const uint8_t *dns, uint16_t dns_len)
{
	struct dp_miss *rc = lc->miss;
	const struct px_reply_query qq = {
		.qname = done->qname,
		.qname_len = done->qname_len,
		.qtype = done->qtype,
		.qclass = done->qclass,
	};
	const struct miss_send *first;
	struct miss_query *q;

	if (done->cookie >= rc->conf.slots)
		return;
	q = &rc->queries[done->cookie];
	if (!q->used || q->upq_handle != done->handle)
		return; /* nothing waits for it any more */
	if (unlikely(q->head == 0)) {
		query_free(rc, q);
		return;
	}
	first = &rc->sends[q->head - 1];
	classify(rc, &qq, first->zone, first->zone_len, dns, dns_len);
	/* TC: the same question to the same server over TCP, for every waiter; they hear of this
	 * server again when the TCP thread answers (dp_miss_tcp_reply). */
	if (unlikely(rc->reply.cls == PX_REPLY_TRUNCATED) &&
	    dp_tcp_upstream_ask(lc, query_handle(rc, q), query_index(rc, q), &done->server, id,
				done->qname, done->qname_len, done->qtype, done->qclass,
				first->zone, first->zone_len) == 0) {
		q->upq_handle = REC_UPQ_TCP;
		return;
	}
	query_feed(lc, q, &done->server, &qq, dns, dns_len, first);
}

void
dp_miss_tcp_reply(struct dp_lcore *lc, const struct dp_tcp_meta *mt, const uint8_t *dns,
		     uint16_t dns_len)
{
	struct dp_miss *rc = lc->miss;
	struct miss_query *q;

	if (rc == NULL)
		return;
	q = mt->send_idx < rc->conf.slots ? &rc->queries[mt->send_idx] : NULL;
	if (q == NULL || !q->used || query_handle(rc, q) != mt->res ||
	    q->upq_handle != REC_UPQ_TCP) {
		DP_STAT_INC(lc, tcp_up_stale);
		return;
	}
	const struct px_reply_query qq = {
		.qname = mt->qname,
		.qname_len = mt->qname_len,
		.qtype = mt->qtype,
		.qclass = mt->qclass,
	};

	/* The kernel chose the connection's local port: the record leaves it out. */
	if (dp_tap_on(lc) && dns != NULL)
		dp_tap_upstream(lc, PX_TAP_RESOLVER_RESPONSE, mt->peer.family, PX_TAP_TCP, 0,
				mt->peer.a, PX_DNS_PORT, dns, dns_len);
	query_feed(lc, q, &mt->peer, &qq, dns, dns_len, NULL);
}

/*
 * An upstream entry passed its deadline. A query that never left is sent again (a new port and
 * ID) up to DP_MISS_UNSENT_RETRIES times; one that drew a reply failing only the 0x20 check is
 * asked again of the same server up to DP_MISS_CASE_RETRIES times (a strike for the server,
 * which may put it in fallback); otherwise it is a timeout for the server and every waiter.
 */
void
miss_query_expired(struct dp_lcore *lc, const struct px_upq_done *done)
{
	struct dp_miss *rc = lc->miss;
	struct px_upq_query uq = {
		.server = done->server,
		.qtype = done->qtype,
		.qclass = done->qclass,
		.qname_len = done->qname_len,
		.qname = done->qname,
	};
	struct miss_query *q;

	if (done->cookie >= rc->conf.slots)
		return;
	q = &rc->queries[done->cookie];
	if (!q->used || q->upq_handle != done->handle) {
		DP_STAT_INC(lc, rec_timeouts); /* nobody waits for it any more */
		return;
	}
	if (q->unsent && q->unsent_retries < DP_MISS_UNSENT_RETRIES) {
		q->unsent_retries++;
		if (query_start(lc, q, &uq) == 0)
			return;
	} else if (!q->unsent && done->case_on && done->case_seen &&
		   q->case_retries < DP_MISS_CASE_RETRIES) {
		q->case_retries++;
		DP_STAT_INC(lc, rec_0x20_retries);
		if (px_upq_server_case_failed(rc->upq, &done->server, lc->now_ms))
			DP_STAT_INC(lc, rec_0x20_fallback);
		if (query_start(lc, q, &uq) == 0)
			return;
	} else {
		DP_STAT_INC(lc, rec_timeouts);
		if (!q->unsent)
			px_upq_server_timeout(rc->upq, &done->server, lc->now_ms);
	}
	query_feed(lc, q, &done->server, NULL, NULL, 0, NULL);
}
