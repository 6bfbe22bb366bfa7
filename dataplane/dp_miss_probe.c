/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The health probe: when no resolution has succeeded for half of --health-resolve-window, the
 * control thread bumps ctx->probe_seq, and the probing worker resolves the configured question
 * (". NS" by default) for nobody, so that an idle resolver still proves it can resolve. It is
 * an ordinary resolution from the closest cached cut, with the cookie no client slot has: its
 * answer is cached and counted rec_answered like any other, which is what the control thread
 * watches.
 */
#include <rte_common.h>

#include "dp_lcore.h"
#include "dp_miss.h"
#include "dp_miss_int.h"

void
miss_probe_tick(struct dp_lcore *lc)
{
	struct dp_miss *rc = lc->miss;
	const struct px_resolver_question q = {
		.qname = rc->conf.probe_qname, .qname_len = rc->conf.probe_qname_len,
		.qtype = rc->conf.probe_qtype, .qclass = PX_DNS_CLASS_IN,
	};
	struct px_resolver_start_buf scut;
	const struct px_resolver_start_cut *sc;
	struct px_resolver_action act;
	uint32_t seq;

	if (!rc->conf.probe)
		return;
	seq = __atomic_load_n(&lc->ctx->probe_seq, __ATOMIC_RELAXED);
	if (likely(seq == rc->probe_seq_seen))
		return;
	rc->probe_seq_seen = seq;
	/* The same question in flight (a client's, or the last probe's) will tell. */
	if (px_resolver_find(rc->res, &q) != 0)
		return;
	if (!dp_nexthop_gateway_known(lc, &rc->nexthop)) {
		DP_STAT_INC(lc, rec_probe_not_started);
		return;
	}
	sc = miss_start_cut(lc, &q, &scut);
	if (px_resolver_start(rc->res, &q, px_hints_get(lc->ctx), sc, lc->now_ms,
			     DP_MISS_PRIME_COOKIE, &act) != 0) {
		DP_STAT_INC(lc, rec_probe_not_started);
		return;
	}
	DP_STAT_INC(lc, rec_probe_started);
	miss_run(lc, &act);
}
