/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Serve-stale (RFC 8767) and prefetch, on the worker (see dp_miss_int.h).
 *
 * Serve-stale. The sweep keeps expired answers for conf.stale.max_s (dp_cache_sweep_keep). A
 * query that finds one is a miss like any other: it takes a client slot and starts or joins the
 * resolution that refreshes the entry, and its slot is marked stale with a client response
 * timer (conf.stale.timeout_ms). The client gets the expired answer, with TTL conf.stale.ttl
 * and EDE 3 "Stale Answer", when the resolution fails (any SERVFAIL, a jostle too) or when the
 * timer fires first; the resolution goes on without it and, when it succeeds, puts the fresh
 * answer in the cache as every resolution does. Nothing stale is ever put in the cache, and a
 * fresh entry found when the answer is due is served fresh.
 *
 * No pointer to a cache entry is kept across a quiescent state report: a slot remembers only
 * that it may be served stale, and the entry is looked up again when the answer is due (the
 * question is in the slot). If it is gone by then (evicted, flushed, replaced by local-zone
 * data), the client waits for the resolution's own answer. Only resolved answers are ever
 * stale (dp_cache_entry_stale): local-zone data is pinned and never expires, and a local zone
 * that no longer has a name has deleted its entry, so nothing of it can be served.
 *
 * The timers are a ring of (client cookie, start, deadline) in arrival order: every timer runs
 * for the same time, so the ring is in deadline order and the tick pops the due ones from its
 * head. A reload that changes the timeout recomputes every deadline from its start
 * (miss_stale_retime), which keeps that order. A slot answered or released before its timer
 * fires leaves a cookie of an older generation, which is skipped.
 *
 * A client answered stale on its timer keeps its slot, and its fair share, marked answered,
 * until the refresh ends; then the slot is released without another word. A prefetch takes
 * such a slot from the client whose hit caused it. So every resolution a client causes counts
 * against its share while it runs, and it gets no more refreshes running than misses.
 *
 * Prefetch. A hit in the last tenth of an entry's TTL (dp_cache_entry_prefetch_due: the
 * entry's header and the clock, nothing written) starts a resolution of the same question with
 * no client waiting, unless one for it is in flight already on this worker (the worker's
 * resolver's question index: one refresh per entry at a time per worker, so at most one per
 * worker in all), fewer than a quarter of the resolutions are free, or the client holds its
 * whole fair share (the prefetch is charged to it, above). Its answer refreshes the entry like
 * any other resolution's.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_malloc.h>

#include <pollux/share.h>
#include <pollux/wire.h>

#include "dp_cache.h"
#include "dp_miss.h"
#include "dp_miss_int.h"

static const struct px_dns_ede_info ede_failed = {PX_DNS_EDE_STALE_ANSWER, "refresh failed"};
static const struct px_dns_ede_info ede_waiting = {PX_DNS_EDE_STALE_ANSWER,
						   "refresh not finished"};

const struct dp_stale_conf *
dp_miss_stale_conf(const struct dp_miss *rc)
{
	return &rc->conf.stale;
}

int
miss_stale_init(struct dp_miss *rc, int socket)
{
	/* A slot takes one timer per use; twice the slots leaves room for the timers of slots
	 * answered early and used again before those fire. */
	rc->stale_cap = rc->conf.slots * 2;
	rc->stale_timers = rte_zmalloc_socket("pollux_rec_stale",
					      sizeof(*rc->stale_timers) * rc->stale_cap,
					      RTE_CACHE_LINE_SIZE, socket);
	return rc->stale_timers == NULL ? -1 : 0;
}

void
dp_miss_stale_answer(const struct dp_cache_entry *e, uint32_t ttl,
		     const struct px_dns_ede_info *ede, struct px_wire_answer *ans)
{
	memset(ans, 0, sizeof(*ans));
	ans->rcode = e->rcode;
	ans->an_count = e->an_count;
	ans->ns_count = e->ns_count;
	ans->ar_count = e->ar_count;
	ans->rr = dp_cache_entry_rr(e);
	ans->rr_len = e->rr_len;
	ans->ttl_off = dp_cache_entry_ttl_off(e);
	ans->ttl_off_count = e->ttl_off_count;
	ans->ttl = ttl;
	ans->ede = ede;
}

/*
 * What the clients of a question get now instead of SERVFAIL or more waiting: the answer in the
 * cache if it is fresh (another resolution refreshed it), else the stale one with ede, else
 * nothing. Fills ans and returns true, with *stale saying which. Looked up here, within the
 * iteration that answers.
 */
static bool
stale_lookup(struct dp_lcore *lc, const uint8_t *qname, uint8_t qname_len, uint16_t qtype,
	     uint16_t qclass, const struct px_dns_ede_info *ede, struct px_wire_answer *ans,
	     bool *stale)
{
	const struct dp_stale_conf *st = &lc->miss->conf.stale;
	const struct dp_cache_entry *e;
	int64_t ttl;

	if (st->max_s == 0 || lc->ctx->cache == NULL)
		return false;
	e = dp_cache_lookup(lc->ctx->cache, qname, qname_len, qtype, qclass, DP_CACHE_RRSET);
	if (e == NULL)
		return false;
	ttl = dp_cache_entry_ttl(e, lc->now_ms);
	if (ttl >= 0) {
		dp_miss_stale_answer(e, (uint32_t)ttl, NULL, ans);
		ans->aa = (e->flags & DP_CACHE_F_AA) != 0;
		*stale = false;
		return true;
	}
	if (!dp_cache_entry_stale(e, lc->now_ms, (uint64_t)st->max_s * 1000))
		return false;
	dp_miss_stale_answer(e, st->ttl, ede, ans);
	*stale = true;
	return true;
}

bool
miss_stale_fail(struct dp_lcore *lc, const uint8_t *qname, uint8_t qname_len, uint16_t qtype,
		uint16_t qclass, const uint64_t *clients, unsigned count)
{
	struct px_wire_answer ans;
	unsigned n;
	bool stale;

	if (!stale_lookup(lc, qname, qname_len, qtype, qclass, &ede_failed, &ans, &stale))
		return false;
	n = miss_clients_answer(lc, clients, count, &ans);
	if (stale)
		lc->stats.stale_served += n;
	return true;
}

void
miss_stale_arm(struct dp_lcore *lc, uint64_t cookie)
{
	struct dp_miss *rc = lc->miss;
	uint32_t tail;

	/* Timers of slots answered already make room first. */
	while (rc->stale_count == rc->stale_cap) {
		uint64_t old = rc->stale_timers[rc->stale_head].cookie;
		const struct miss_client *c = &rc->clients[(uint32_t)old];

		if (c->used && c->gen == (uint32_t)(old >> 32) && c->stale) {
			DP_STAT_INC(lc, stale_no_timer);
			return;
		}
		rc->stale_head = (rc->stale_head + 1) % rc->stale_cap;
		rc->stale_count--;
	}
	tail = (rc->stale_head + rc->stale_count) % rc->stale_cap;
	rc->stale_timers[tail].cookie = cookie;
	rc->stale_timers[tail].start_ms = lc->now_ms;
	rc->stale_timers[tail].deadline_ms = lc->now_ms + rc->conf.stale.timeout_ms;
	rc->stale_count++;
}

void
miss_stale_retime(struct dp_miss *rc, uint32_t timeout_ms)
{
	/* The ring is in start order; one timeout for all puts it in deadline order again. A
	 * reload is rare and the ring bounded (stale_cap), so one walk is fine. */
	for (uint32_t k = 0; k < rc->stale_count; k++) {
		struct miss_stale_timer *t = &rc->stale_timers[(rc->stale_head + k) % rc->stale_cap];

		t->deadline_ms = t->start_ms + timeout_ms;
	}
}

/* The client response timer of the slot behind cookie fired: its answer, if one is due. */
static void
stale_timeout(struct dp_lcore *lc, uint64_t cookie)
{
	struct dp_miss *rc = lc->miss;
	uint32_t i = (uint32_t)cookie;
	struct miss_client *c;
	uint8_t qname[PX_DNS_NAME_BUF];
	struct px_wire_answer ans;
	unsigned qname_len;
	bool stale;

	if (i >= rc->conf.slots)
		return;
	c = &rc->clients[i];
	if (!c->used || c->gen != (uint32_t)(cookie >> 32) || !c->stale)
		return;
	c->stale = false;
	/* The slot holds the question as asked: the name, lower-cased for the key. */
	qname_len = (unsigned)c->question_end - PX_DNS_HDR_LEN - 4;
	if (c->question_end < PX_DNS_HDR_LEN + 5 || qname_len > PX_DNS_MAX_NAME)
		return;
	for (unsigned k = 0; k < qname_len; k++) {
		uint8_t b = c->msg[PX_DNS_HDR_LEN + k];

		qname[k] = b >= 'A' && b <= 'Z' ? (uint8_t)(b + 32) : b;
	}
	if (!stale_lookup(lc, qname, (uint8_t)qname_len, px_get16(c->msg + c->question_end - 4),
			  px_get16(c->msg + c->question_end - 2), &ede_waiting, &ans, &stale))
		return;
	/* The slot stays held, and its share taken, until the refresh ends: a client asking for
	 * many stale names gets no more resolutions running than its share. */
	miss_client_answer_early(lc, i, &ans);
	if (stale) {
		DP_STAT_INC(lc, stale_served);
		DP_STAT_INC(lc, stale_on_timeout);
	}
}

void
miss_stale_tick(struct dp_lcore *lc)
{
	struct dp_miss *rc = lc->miss;

	for (unsigned k = 0; k < DP_MISS_EXPIRE_BUDGET && rc->stale_count > 0; k++) {
		const struct miss_stale_timer *t = &rc->stale_timers[rc->stale_head];
		uint64_t cookie = t->cookie;

		if (t->deadline_ms > lc->now_ms)
			return;
		rc->stale_head = (rc->stale_head + 1) % rc->stale_cap;
		rc->stale_count--;
		stale_timeout(lc, cookie);
	}
}

void
dp_miss_prefetch(struct dp_lcore *lc, const struct dp_query *q, const struct dp_client_addr *from)
{
	struct dp_miss *rc = lc->miss;
	const struct px_resolver_question rq = {
		.qname = q->qname_lc, .qname_len = q->qname_len, .qtype = q->qtype,
		.qclass = q->qclass,
	};
	struct px_resolver_start_buf scut;
	const struct px_resolver_start_cut *sc;
	struct px_resolver_action act;
	uint64_t cookie = DP_MISS_PRIME_COOKIE;

	if (!rc->conf.stale.prefetch || px_resolver_find(rc->res, &rq) != 0)
		return;
	/* Clients come first: a quarter of the resolutions stays theirs. And the prefetch is the
	 * client's: it takes a slot of the client's share, answered already, held until the
	 * prefetch ends, so a client sending only hits keeps no more resolutions busy than one
	 * sending misses; one holding its whole share makes no more work, not even a refresh. */
	if (px_resolver_active(rc->res) + RTE_MAX(rc->conf.slots / 4, 1u) > rc->conf.slots ||
	    (from != NULL && !miss_client_hold(lc, from, &cookie))) {
		DP_STAT_INC(lc, prefetch_skipped);
		return;
	}
	sc = miss_start_cut(lc, &rq, &scut);
	if (px_resolver_start(rc->res, &rq, px_hints_get(lc->ctx), sc, lc->now_ms, cookie,
			      &act) != 0) {
		miss_client_drop(rc, cookie);
		DP_STAT_INC(lc, prefetch_skipped);
		return;
	}
	DP_STAT_INC(lc, prefetch);
	miss_run(lc, &act);
}
