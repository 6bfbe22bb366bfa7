/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_recurse's cache side (see dp_recurse_int.h): answers and cuts the worker puts in the cache
 * itself, before it answers the clients, the closest cached cut a resolution starts from, and priming
 * (RFC 8109: ". NS" from the hints, the reply handed raw to the control thread, which validates
 * it as a hints file and caches the root cut).
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dp_cache.h"
#include "dp_cut.h"
#include "dp_nbr.h"
#include "dp_prime.h"
#include "dp_recurse_int.h"

/* Counts a cache insert's outcome in the worker's counters. */
static inline void
count_put(int ret, uint64_t *inserted, uint64_t *busy, uint64_t *dropped)
{
	if (ret == 0)
		(*inserted)++;
	else if (ret == -EBUSY)
		(*busy)++;
	else
		(*dropped)++;
}

/*
 * Puts a finished answer in the cache (dp_cache_put: never waits, never allocates from the
 * heap), keyed by the question, with the TTL the resolver chose (RFC 2308 for negative
 * answers), before the clients are answered: the next identical query is a hit. Answers with
 * a TTL of 0 are not kept. Cuts go through rec_cut_offer().
 */
void
rec_cache_offer(struct dp_lcore *lc, const struct dp_resolve_action *act)
{
	const struct dp_res *d = act->done;
	struct dp_cache_key key;

	if (act->kind != DP_RES_ACT_ANSWER || d == NULL || act->ttl == 0 || lc->cache_w == NULL)
		return;
	key.qtype = d->qtype;
	key.qclass = d->qclass;
	key.kind = DP_CACHE_RRSET;
	key.name_len = d->qname_len;
	memcpy(key.name, d->qname, d->qname_len);

	const struct dp_cache_answer ans = {
		.rcode = act->rcode,
		.flags = 0,
		.ttl = act->ttl,
		.an_count = act->an_count,
		.ns_count = act->ns_count,
		.rr = act->rr,
		.rr_len = act->rr_len,
		.ttl_off = act->ttl_off,
		.ttl_off_count = act->ttl_off_count,
	};

	count_put(dp_cache_put(lc->cache_w, &key, &ans, lc->now_ms),
		  &lc->stats.rec_cache_inserted, &lc->stats.rec_cache_busy,
		  &lc->stats.rec_cache_dropped);
}

/*
 * Puts a cut the resolver produced (a referral's NS set and glue, or one a sub-resolution
 * added addresses to) in the cache as a DP_CACHE_CUT entry (dp_cut.h), with its NS TTL
 * capped at max_ttl. Cuts without a TTL (hints, start cuts) and the root are never put here:
 * the root set in the cache is the primed one only.
 */
void
rec_cut_offer(struct dp_lcore *lc, const struct dp_resolve_cut *cut)
{
	uint8_t buf[DP_CUT_MAX_LEN];
	uint16_t ns_count, len;
	struct dp_cache_key key;
	uint32_t ttl = RTE_MIN(cut->ttl, lc->rec->conf.resolve.max_ttl);

	if (ttl == 0 || cut->zone_len <= 1 || lc->cache_w == NULL)
		return;
	len = dp_cut_encode(buf, sizeof(buf), cut, &ns_count);
	if (len == 0)
		return;
	dp_cut_key(&key, cut->zone, cut->zone_len);

	const struct dp_cache_answer ans = {
		.ttl = ttl,
		.an_count = ns_count,
		.rr = buf,
		.rr_len = len,
	};

	count_put(dp_cache_put(lc->cache_w, &key, &ans, lc->now_ms),
		  &lc->stats.rec_cut_inserted, &lc->stats.rec_cut_busy, &lc->stats.rec_cut_dropped);
}

/* The closest cached cut for name, decoded into out; false when none (or a bad one). */
static bool
rec_cut_lookup(struct dp_lcore *lc, const uint8_t *name, uint8_t name_len, uint16_t qtype,
	       struct dp_resolve_start_buf *out)
{
	const struct dp_cache_entry *e;

	if (lc->ctx->cache == NULL)
		return false;
	e = dp_cut_find(lc->ctx->cache, name, name_len, qtype, lc->now_ms);
	if (e == NULL)
		return false;
	if (dp_cut_decode(e, out) != 0) {
		DP_STAT_INC(lc, rec_cut_bad);
		return false;
	}
	return true;
}

/* The resolver's cut source (dp_resolve_cut_fn): sub-resolutions and CNAME restarts. */
bool
rec_cut_source(void *arg, const uint8_t *name, uint8_t name_len, uint16_t qtype,
	       struct dp_resolve_start_buf *out)
{
	struct dp_lcore *lc = arg;

	if (!rec_cut_lookup(lc, name, name_len, qtype, out))
		return false;
	DP_STAT_INC(lc, rec_cut_restarts);
	return true;
}

/* The priming resolution ended (ANSWER or SERVFAIL): a failure goes to the control thread,
 * which logs and shows it; the next attempt is already scheduled (rec_prime_tick). */
void
rec_prime_done(struct dp_lcore *lc, const struct dp_resolve_action *act)
{
	struct dp_recurse *rc = lc->rec;

	rc->prime_res = 0;
	if (act->kind != DP_RES_ACT_SERVFAIL)
		return;
	DP_STAT_INC(lc, rec_prime_failed);
	if (dp_prime_put_fail(lc->ctx->prime, (uint8_t)act->reason, lc->now_ms) != 0)
		DP_STAT_INC(lc, rec_prime_feed_full);
}

/* Where a new resolution starts: the closest cached cut (the primed root set at worst), or
 * NULL for the hints. Counted. */
const struct dp_resolve_start_cut *
rec_start_cut(struct dp_lcore *lc, const struct dp_resolve_question *q,
	      struct dp_resolve_start_buf *buf)
{
	if (!rec_cut_lookup(lc, q->qname, q->qname_len, q->qtype, buf)) {
		DP_STAT_INC(lc, rec_cut_hints);
		return NULL;
	}
	if (buf->sc.zone_len > 1)
		DP_STAT_INC(lc, rec_cut_hits);
	else
		DP_STAT_INC(lc, rec_cut_primed);
	return &buf->sc;
}

/* A reply to the priming resolution goes raw to the control thread (dp_prime.h); any other is
 * not its business. */
void
rec_prime_reply(struct dp_lcore *lc, uint64_t res, const uint8_t *dns, uint16_t dns_len,
		const struct dp_upq_addr *server)
{
	struct dp_recurse *rc = lc->rec;

	if (rc->prime_res == 0 || res != rc->prime_res)
		return;
	if (dp_prime_put_reply(lc->ctx->prime, dns, dns_len, server, lc->now_ms) == 0)
		DP_STAT_INC(lc, rec_prime_replies);
	else
		DP_STAT_INC(lc, rec_prime_feed_full);
}

/*
 * Priming, when due: with a gateway MAC and hints, no priming in flight, and no root cut in
 * the cache with more than a tenth of its TTL left, starts resolving ". NS" from the hints
 * (never from the cache: RFC 8109 primes from the configured hints). The next look is
 * scheduled at once, a backoff later (1 s doubling to 60 s); a fresh root cut resets the
 * backoff and schedules the refresh, but is looked for again at least every
 * DP_REC_PRIME_CHECK_MS: a cut evicted from a full bucket (the entry of the eight closest to
 * expiry goes) or deleted would otherwise go unnoticed until its refresh time, up to 0.9 of a
 * day, and every resolution meanwhile would start from the hints.
 */
void
rec_prime_tick(struct dp_lcore *lc)
{
	static const uint8_t root = 0;
	struct dp_recurse *rc = lc->rec;
	const struct dp_hints *h = dp_hints_get(lc->ctx);
	const struct dp_resolve_question q = {
		.qname = &root, .qname_len = 1, .qtype = PX_DNS_TYPE_NS, .qclass = PX_DNS_CLASS_IN,
	};
	const struct dp_cache_entry *e;
	struct dp_resolve_action act;
	uint64_t now = lc->now_ms;

	if (!rc->conf.prime || lc->ctx->prime == NULL || rc->prime_res != 0 ||
	    now < rc->prime_next_ms || h == NULL || h->ns_count == 0 ||
	    !rec_gateway_known(lc))
		return;
	e = lc->ctx->cache == NULL ? NULL :
	    dp_cache_lookup(lc->ctx->cache, &root, 1, PX_DNS_TYPE_NS, PX_DNS_CLASS_IN,
			    DP_CACHE_CUT);
	if (e != NULL && e->expire_ms > now) {
		uint64_t margin = (uint64_t)e->ttl * 100; /* a tenth of the TTL, in ms */

		if (e->expire_ms - now > margin) {
			rc->prime_next_ms = RTE_MIN(e->expire_ms - margin,
						    now + DP_REC_PRIME_CHECK_MS);
			rc->prime_backoff_ms = DP_REC_PRIME_BACKOFF_MS;
			return;
		}
	}
	rc->prime_next_ms = now + rc->prime_backoff_ms;
	rc->prime_backoff_ms = RTE_MIN(rc->prime_backoff_ms * 2, (uint32_t)DP_REC_PRIME_BACKOFF_MAX_MS);
	DP_STAT_INC(lc, rec_prime_sent);
	if (dp_resolve_start(rc->res, &q, h, NULL, now, DP_REC_PRIME_COOKIE, &act) != 0) {
		DP_STAT_INC(lc, rec_prime_failed);
		return;
	}
	rc->prime_res = act.res;
	rec_run(lc, &act);
}
