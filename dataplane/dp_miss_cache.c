/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_miss's cache side (see dp_miss_int.h): answers and cuts the worker puts in the cache
 * itself, before it answers the clients, the closest cached cut a resolution starts from, and
 * priming (RFC 8109, pollux/prime.h: ". NS" from the hints, the reply checked with the hints-file
 * rules and its root set put in the cache as the root cut, all on this worker).
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

#include <pollux/prime.h>

#include "dp_cache.h"
#include "dp_cut.h"
#include "dp_miss_int.h"

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
 * a TTL of 0 are not kept. Cuts go through miss_cut_offer().
 */
void
miss_cache_offer(struct dp_lcore *lc, const struct px_resolver_action *act)
{
	const struct px_resolution *d = act->done;
	struct dp_cache_key key;

	if (act->kind != PX_RES_ACT_ANSWER || d == NULL || act->ttl == 0 || lc->cache_w == NULL)
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
miss_cut_offer(struct dp_lcore *lc, const struct px_resolver_cut *cut)
{
	uint8_t buf[PX_CUT_MAX_LEN];
	uint16_t ns_count, len;
	struct dp_cache_key key;
	uint32_t ttl = RTE_MIN(cut->ttl, lc->miss->conf.resolve.max_ttl);

	if (ttl == 0 || cut->zone_len <= 1 || lc->cache_w == NULL)
		return;
	len = px_cut_encode(buf, sizeof(buf), cut, &ns_count);
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
miss_cut_lookup(struct dp_lcore *lc, const uint8_t *name, uint8_t name_len, uint16_t qtype,
	       struct px_resolver_start_buf *out)
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

/* The resolver's cut source (px_resolver_cut_fn): sub-resolutions and CNAME restarts. */
bool
miss_cut_source(void *arg, const uint8_t *name, uint8_t name_len, uint16_t qtype,
	       struct px_resolver_start_buf *out)
{
	struct dp_lcore *lc = arg;

	if (!miss_cut_lookup(lc, name, name_len, qtype, out))
		return false;
	DP_STAT_INC(lc, rec_cut_restarts);
	return true;
}

/* The priming resolution ended (ANSWER or SERVFAIL): a failure is recorded for the control
 * thread to show and log; the next attempt is already scheduled (miss_prime_tick). */
void
miss_prime_done(struct dp_lcore *lc, const struct px_resolver_action *act)
{
	struct dp_miss *rc = lc->miss;
	struct px_prime_status *ps = lc->ctx->prime_status;

	rc->prime_res = 0;
	if (act->kind != PX_RES_ACT_SERVFAIL)
		return;
	DP_STAT_INC(lc, rec_prime_failed);
	if (ps == NULL)
		return;
	px_prime_status_begin(ps);
	ps->events++;
	ps->failed++;
	ps->last_kind = PX_PRIME_EV_FAILED;
	ps->last_fail = (uint8_t)act->reason;
	ps->last_ms = lc->now_ms;
	px_prime_status_end(ps);
}

/* Where a new resolution starts: the closest cached cut (the primed root set at worst), or
 * NULL for the hints. Counted. */
const struct px_resolver_start_cut *
miss_start_cut(struct dp_lcore *lc, const struct px_resolver_question *q,
	      struct px_resolver_start_buf *buf)
{
	if (!miss_cut_lookup(lc, q->qname, q->qname_len, q->qtype, buf)) {
		DP_STAT_INC(lc, rec_cut_hints);
		return NULL;
	}
	if (buf->sc.zone_len > 1)
		DP_STAT_INC(lc, rec_cut_hits);
	else
		DP_STAT_INC(lc, rec_cut_primed);
	return &buf->sc;
}

/* Encodes the checked root set h as the root cut and puts it in the cache, TTL capped at
 * max-ttl, counted from now. Returns 0 or dp_cache_put()'s error. */
static int
prime_insert(struct dp_lcore *lc, const struct px_hints *h, uint32_t ttl)
{
	static const uint8_t root = 0;
	uint8_t buf[PX_CUT_MAX_LEN];
	uint16_t ns_count, len;
	struct dp_cache_key key;

	if (lc->cache_w == NULL)
		return -ENOENT;
	len = px_cut_encode_hints(buf, sizeof(buf), h, &ns_count);
	if (len == 0)
		return -EINVAL;
	dp_cut_key(&key, &root, 1);

	const struct dp_cache_answer ans = {
		.ttl = ttl, .flags = DP_CACHE_F_PRIMED, .an_count = ns_count, .rr = buf,
		.rr_len = len,
	};

	return dp_cache_put(lc->cache_w, &key, &ans, lc->now_ms);
}

/*
 * A reply to the priming resolution, already classified into rc->reply for ". NS IN" at the
 * root (the resolver reads it next, unchanged): held to the hints-file rules with the daemon's
 * address policy and --min-root-servers (px_prime_check), then its root set put in the cache as
 * the root cut, before the resolution goes on. Every outcome is counted and recorded for the
 * control thread. Any other reply is not priming's business.
 */
void
miss_prime_reply(struct dp_lcore *lc, uint64_t res, const uint8_t *dns, uint16_t dns_len,
		const struct px_addr *server)
{
	struct dp_miss *rc = lc->miss;
	struct px_prime_status *ps = lc->ctx->prime_status;
	struct px_hints *h = (struct px_hints *)rc->prime_hints;
	struct px_prime_report rep;
	enum px_prime_verdict v;
	uint32_t ttl = 0;
	int ret = 0;

	if (rc->prime_res == 0 || res != rc->prime_res || ps == NULL)
		return;
	DP_STAT_INC(lc, rec_prime_replies);
	v = px_prime_check(&rc->reply, dns, dns_len, rc->conf.policy, rc->conf.prime_min_servers,
			   h, &rep);
	if (v == PX_PRIME_OK) {
		ttl = RTE_MIN(h->ttl, rc->conf.resolve.max_ttl);
		ret = ttl == 0 ? -EINVAL : prime_insert(lc, h, ttl);
	}
	px_prime_status_begin(ps);
	ps->events++;
	ps->last_ms = lc->now_ms;
	ps->last_server = *server;
	for (unsigned r = 0; r < PX_ADDR_REASON_COUNT; r++)
		ps->addr_rejected_total[r] += rep.rejected[r];
	if (v != PX_PRIME_OK) {
		DP_STAT_INC(lc, rec_prime_rejected);
		ps->rejected++;
		ps->last_kind = PX_PRIME_EV_REJECTED;
		ps->last_verdict = (uint8_t)v;
	} else if (ret != 0) {
		DP_STAT_INC(lc, rec_prime_not_cached);
		ps->not_cached++;
		ps->last_kind = PX_PRIME_EV_NOT_CACHED;
		ps->last_errno = -ret;
	} else {
		DP_STAT_INC(lc, rec_prime_accepted);
		ps->accepted++;
		ps->last_kind = PX_PRIME_EV_ACCEPTED;
		ps->primed = true;
		ps->primed_ms = lc->now_ms;
		ps->expire_ms = lc->now_ms + (uint64_t)ttl * 1000;
		ps->ttl = ttl;
		ps->servers = h->ns_count;
		ps->addr_rejected = rep.addr_rejected;
		ps->server = *server;
	}
	px_prime_status_end(ps);
}

/*
 * Priming, when due: with a gateway MAC and hints, no priming in flight, and no root cut in
 * the cache with more than a tenth of its TTL left, starts resolving ". NS" from the hints
 * (never from the cache: RFC 8109 primes from the configured hints). The next look is
 * scheduled at once, a backoff later (1 s doubling to 60 s); a fresh root cut resets the
 * backoff and schedules the refresh, but is looked for again at least every
 * DP_MISS_PRIME_CHECK_MS: a cut evicted from a full bucket (the entry of the eight closest to
 * expiry goes) or deleted would otherwise go unnoticed until its refresh time, up to 0.9 of a
 * day, and every resolution meanwhile would start from the hints.
 */
void
miss_prime_tick(struct dp_lcore *lc)
{
	static const uint8_t root = 0;
	struct dp_miss *rc = lc->miss;
	const struct px_hints *h = px_hints_get(lc->ctx);
	const struct px_resolver_question q = {
		.qname = &root, .qname_len = 1, .qtype = PX_DNS_TYPE_NS, .qclass = PX_DNS_CLASS_IN,
	};
	const struct dp_cache_entry *e;
	struct px_resolver_action act;
	uint64_t now = lc->now_ms;

	if (!rc->conf.prime || lc->ctx->prime_status == NULL || rc->prime_res != 0 ||
	    now < rc->prime_next_ms || h == NULL || h->ns_count == 0 ||
	    !dp_nexthop_gateway_known(lc, &rc->nexthop))
		return;
	e = lc->ctx->cache == NULL ? NULL :
	    dp_cache_lookup(lc->ctx->cache, &root, 1, PX_DNS_TYPE_NS, PX_DNS_CLASS_IN,
			    DP_CACHE_CUT);
	if (e != NULL && e->expire_ms > now) {
		uint64_t margin = (uint64_t)e->ttl * 100; /* a tenth of the TTL, in ms */

		if (e->expire_ms - now > margin) {
			rc->prime_next_ms = RTE_MIN(e->expire_ms - margin,
						    now + DP_MISS_PRIME_CHECK_MS);
			rc->prime_backoff_ms = DP_MISS_PRIME_BACKOFF_MS;
			return;
		}
	}
	rc->prime_next_ms = now + rc->prime_backoff_ms;
	rc->prime_backoff_ms = RTE_MIN(rc->prime_backoff_ms * 2, (uint32_t)DP_MISS_PRIME_BACKOFF_MAX_MS);
	DP_STAT_INC(lc, rec_prime_sent);
	if (px_resolver_start(rc->res, &q, h, NULL, now, DP_MISS_PRIME_COOKIE, &act) != 0) {
		DP_STAT_INC(lc, rec_prime_failed);
		return;
	}
	rc->prime_res = act.res;
	miss_run(lc, &act);
}
