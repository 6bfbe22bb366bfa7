/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>

#include <pollux/wire.h>

#include "dp_answer.h"
#include "dp_cache.h"
#include "dp_lcore.h"
#include "dp_miss.h"

/* What a refused class or zone transfer is told: Not Supported (RFC 8914 4.22), with no
 * EXTRA-TEXT: the answer costs nothing to ask for from a spoofed source, so it stays small. */
static const struct px_dns_ede_info ede_not_supported = {PX_DNS_EDE_NOT_SUPPORTED, ""};

/* With recursion off a miss outside the local zones is a name pollux is neither authoritative
 * for nor set up to resolve: Not Authoritative (RFC 8914 4.21), no text, as above. */
static const struct px_dns_ede_info ede_not_authoritative = {PX_DNS_EDE_NOT_AUTHORITATIVE, ""};

/* Over TCP (tcp set) the only limit is the room the message has: a TCP message can hold
 * 65535 bytes, and the client asked over TCP because UDP was too small. */
static inline uint16_t
respond(struct dp_lcore *lc, uint8_t *msg, uint16_t cap, const struct dp_query *q,
	const struct px_wire_answer *ans, const struct dp_client_addr *tcp)
{
	uint16_t limit = tcp != NULL ? UINT16_MAX : px_wire_udp_limit(q);
	uint16_t len = px_wire_write_response(msg, cap, limit, q, ans);

	if (unlikely(len == 0)) {
		DP_STAT_INC(lc, drop_no_room);
		return 0;
	}
	px_stats_count_rcode(&lc->stats, ans->rcode, msg);
	return len;
}

static inline uint16_t
respond_rcode_ede(struct dp_lcore *lc, uint8_t *msg, uint16_t cap, const struct dp_query *q,
		  uint8_t rcode, const struct px_dns_ede_info *ede, const struct dp_client_addr *tcp)
{
	const struct px_wire_answer ans = {.rcode = rcode, .ede = ede};

	return respond(lc, msg, cap, q, &ans, tcp);
}

static inline uint16_t
respond_rcode(struct dp_lcore *lc, uint8_t *msg, uint16_t cap, const struct dp_query *q,
	      uint8_t rcode, const struct dp_client_addr *tcp)
{
	return respond_rcode_ede(lc, msg, cap, q, rcode, NULL, tcp);
}

/* Serve-stale's answer when the resolver cannot take the query in: an expired entry, with the
 * stale TTL and EDE 3. It costs no upstream work, so, like the SERVFAILs that cost none
 * (dp_miss.c), it carries no EXTRA-TEXT: a spoofed query gets no bigger reflection. */
static uint16_t
respond_stale(struct dp_lcore *lc, uint8_t *msg, uint16_t cap, const struct dp_query *q,
	      const struct dp_cache_entry *e, const struct dp_client_addr *tcp)
{
	static const struct px_dns_ede_info ede = {PX_DNS_EDE_STALE_ANSWER, ""};
	struct px_wire_answer ans;

	dp_miss_stale_answer(e, dp_miss_stale_conf(lc->miss)->ttl, &ede, &ans);
	DP_STAT_INC(lc, stale_served);
	return respond(lc, msg, cap, q, &ans, tcp);
}

static inline uint16_t
respond_entry(struct dp_lcore *lc, uint8_t *msg, uint16_t cap, const struct dp_query *q,
	      const struct dp_cache_entry *e, int64_t ttl, const struct dp_client_addr *tcp)
{
	const struct px_wire_answer ans = {
		.rcode = e->rcode,
		.aa = (e->flags & DP_CACHE_F_AA) != 0,
		.an_count = e->an_count,
		.ns_count = e->ns_count,
		.ar_count = e->ar_count,
		.rr = dp_cache_entry_rr(e),
		.rr_len = e->rr_len,
		.ttl_off = dp_cache_entry_ttl_off(e),
		.ttl_off_count = e->ttl_off_count,
		.ttl = (uint32_t)ttl,
	};

	return respond(lc, msg, cap, q, &ans, tcp);
}

/* Looks up a key and returns the entry if it may be served now, with its TTL in *ttl. */
static inline const struct dp_cache_entry *
lookup_live(const struct dp_lcore *lc, const uint8_t *name, uint8_t name_len, uint16_t qtype,
	    uint16_t qclass, uint8_t kind, int64_t *ttl)
{
	const struct dp_cache_entry *e =
		dp_cache_lookup(lc->ctx->cache, name, name_len, qtype, qclass, kind);

	if (e == NULL)
		return NULL;
	*ttl = dp_cache_entry_ttl(e, lc->now_ms);
	return *ttl >= 0 ? e : NULL;
}

/*
 * The cache-miss hand-off point. Everything that is not a cached answer comes here: first the
 * local zones' negative answers (the name exists but not the type: NODATA; the name is below a
 * local zone apex but does not exist: NXDOMAIN), then the resolver (dp_miss.h), which takes
 * the query in and answers it later. With recursion off, or when the resolver cannot take it
 * (no client slot, no resolution slot: counted), the answer is SERVFAIL at once rather than a
 * client left to time out. The local zones' own NXDOMAIN and NODATA carry no Extended DNS
 * Error: they are the data, not a failure. A TCP client (tcp set) is handed to the resolver as
 * such: its answer goes back to the TCP thread, not out of the port. stale is an expired entry
 * serve-stale may serve (or NULL): the resolver is asked to refresh it all the same, and it is
 * served at once only when the resolver cannot take the query in.
 */
static uint16_t
answer_uncached(struct dp_lcore *lc, uint8_t *msg, uint16_t cap, const struct dp_query *q,
		const struct rte_mbuf *m, const struct dp_client_addr *tcp,
		const struct dp_cache_entry *stale)
{
	const struct px_dns_ede_info *why = lc->miss == NULL ? &ede_not_authoritative : NULL;
	const struct dp_cache_entry *e;
	int64_t ttl;
	unsigned off = 0;

	DP_STAT_INC(lc, misses);
	e = lookup_live(lc, q->qname_lc, q->qname_len, 0, q->qclass, DP_CACHE_NAME, &ttl);
	if (e != NULL) {
		DP_STAT_INC(lc, local_nodata);
		return respond_entry(lc, msg, cap, q, e, ttl, tcp);
	}
	/* Longest enclosing zone first: walk the proper ancestors label by label, probing only
	 * the depths at which some local zone has its apex. */
	for (unsigned labels = q->qname_labels; q->qname_lc[off] != 0;) {
		off += 1u + q->qname_lc[off];
		if (!dp_ctx_has_zone_depth(lc->ctx, --labels))
			continue;
		e = lookup_live(lc, q->qname_lc + off, (uint8_t)(q->qname_len - off), 0, q->qclass,
				DP_CACHE_ZONE, &ttl);
		if (e != NULL) {
			DP_STAT_INC(lc, local_nxdomain);
			return respond_entry(lc, msg, cap, q, e, ttl, tcp);
		}
	}
	if (lc->miss != NULL && tcp != NULL) {
		if (dp_miss_miss(lc, msg, q, tcp, stale != NULL, &why))
			return DP_ANSWER_CONSUMED;
	} else if (lc->miss != NULL && m != NULL) {
		struct dp_client_addr from;

		dp_client_addr_read(&from, m);
		if (dp_miss_miss(lc, msg, q, &from, stale != NULL, &why))
			return DP_ANSWER_CONSUMED;
	}
	if (stale != NULL)
		return respond_stale(lc, msg, cap, q, stale, tcp);
	return respond_rcode_ede(lc, msg, cap, q, PX_DNS_RCODE_SERVFAIL, why, tcp);
}

/* A hit due a prefetch: the client is looked up only now, for its fair share. */
static __rte_noinline void
prefetch(struct dp_lcore *lc, const struct dp_query *q, const struct rte_mbuf *m,
	 const struct dp_client_addr *tcp)
{
	struct dp_client_addr from;

	if (tcp == NULL && m != NULL)
		dp_client_addr_read(&from, m);
	dp_miss_prefetch(lc, q, tcp != NULL ? tcp : m != NULL ? &from : NULL);
}

/* Queries pollux refuses or does not implement whatever the cache holds. Returns the rcode, or
 * PX_DNS_RCODE_NOERROR when the query is to be looked up; *ede is the Extended DNS Error to
 * send with a REFUSED. */
static inline uint8_t
screen_question(const struct dp_query *q, const struct px_dns_ede_info **ede)
{
	*ede = NULL;
	if (unlikely(q->qclass != PX_DNS_CLASS_IN)) {
		*ede = &ede_not_supported;
		return PX_DNS_RCODE_REFUSED;
	}
	switch (q->qtype) {
	case PX_DNS_TYPE_OPT:
		return PX_DNS_RCODE_FORMERR; /* a meta-type, meaningless as a question */
	case PX_DNS_TYPE_AXFR:
	case PX_DNS_TYPE_IXFR:
		*ede = &ede_not_supported;
		return PX_DNS_RCODE_REFUSED; /* zone transfers are not a resolver's business */
	case PX_DNS_TYPE_MAILA:
	case PX_DNS_TYPE_MAILB:
		return PX_DNS_RCODE_NOTIMP;
	default:
		return PX_DNS_RCODE_NOERROR;
	}
}

static inline uint16_t
answer_query(struct dp_lcore *lc, uint8_t *msg, uint16_t len, uint16_t cap,
	     const struct rte_mbuf *m, const struct dp_client_addr *tcp)
{
	struct dp_query q;
	const struct px_dns_ede_info *ede;
	const struct dp_cache_entry *e;
	int64_t ttl;
	uint8_t rcode;

	switch (px_wire_parse_query(&q, msg, len)) {
	case PX_WIRE_OK:
		break;
	case PX_WIRE_DROP_RUNT:
		DP_STAT_INC(lc, drop_dns_runt);
		return 0;
	case PX_WIRE_DROP_RESPONSE:
		DP_STAT_INC(lc, drop_dns_response);
		return 0;
	case PX_WIRE_NOTIMP:
		DP_STAT_INC(lc, queries);
		return respond_rcode(lc, msg, cap, &q, PX_DNS_RCODE_NOTIMP, tcp);
	case PX_WIRE_BADVERS:
		DP_STAT_INC(lc, queries);
		return respond_rcode(lc, msg, cap, &q, PX_DNS_RCODE_BADVERS, tcp);
	case PX_WIRE_FORMERR_QDCOUNT:
		DP_STAT_INC(lc, formerr_qdcount);
		goto formerr;
	case PX_WIRE_FORMERR_NAME:
		DP_STAT_INC(lc, formerr_name);
		goto formerr;
	case PX_WIRE_FORMERR_COUNTS:
		DP_STAT_INC(lc, formerr_counts);
		goto formerr;
	case PX_WIRE_FORMERR_OPT:
		DP_STAT_INC(lc, formerr_opt);
		goto formerr;
	case PX_WIRE_FORMERR_SECTIONS:
		DP_STAT_INC(lc, formerr_sections);
		goto formerr;
	}
	DP_STAT_INC(lc, queries);
	rcode = screen_question(&q, &ede);
	if (unlikely(rcode != PX_DNS_RCODE_NOERROR))
		return respond_rcode_ede(lc, msg, cap, &q, rcode, ede, tcp);

	e = dp_cache_lookup(lc->ctx->cache, q.qname_lc, q.qname_len, q.qtype, q.qclass,
			    DP_CACHE_RRSET);
	if (likely(e != NULL)) {
		ttl = dp_cache_entry_ttl(e, lc->now_ms);
		if (likely(ttl >= 0)) {
			uint16_t out;

			DP_STAT_INC(lc, hits);
			out = respond_entry(lc, msg, cap, &q, e, ttl, tcp);
			if (unlikely(dp_cache_entry_prefetch_due(e, lc->now_ms)) && lc->miss != NULL)
				prefetch(lc, &q, m, tcp);
			return out;
		}
		if (lc->miss == NULL ||
		    !dp_cache_entry_stale(e, lc->now_ms,
					  (uint64_t)dp_miss_stale_conf(lc->miss)->max_s * 1000))
			e = NULL;
	}
	return answer_uncached(lc, msg, cap, &q, m, tcp, e);

formerr:
	DP_STAT_INC(lc, queries);
	return respond_rcode(lc, msg, cap, &q, PX_DNS_RCODE_FORMERR, tcp);
}

uint16_t
dp_answer_query(struct dp_lcore *lc, uint8_t *msg, uint16_t len, uint16_t cap,
		const struct rte_mbuf *m)
{
	return answer_query(lc, msg, len, cap, m, NULL);
}

uint16_t
dp_answer_query_tcp(struct dp_lcore *lc, uint8_t *msg, uint16_t len, uint16_t cap,
		    const struct dp_client_addr *from)
{
	return answer_query(lc, msg, len, cap, NULL, from);
}
