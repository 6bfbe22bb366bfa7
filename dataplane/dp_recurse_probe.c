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
#include "dp_recurse.h"
#include "dp_recurse_int.h"

void
rec_probe_tick(struct dp_lcore *lc)
{
	struct dp_recurse *rc = lc->rec;
	const struct dp_resolve_question q = {
		.qname = rc->conf.probe_qname, .qname_len = rc->conf.probe_qname_len,
		.qtype = rc->conf.probe_qtype, .qclass = PX_DNS_CLASS_IN,
	};
	struct dp_resolve_start_buf scut;
	const struct dp_resolve_start_cut *sc;
	struct dp_resolve_action act;
	uint32_t seq;

	if (!rc->conf.probe)
		return;
	seq = __atomic_load_n(&lc->ctx->probe_seq, __ATOMIC_RELAXED);
	if (likely(seq == rc->probe_seq_seen))
		return;
	rc->probe_seq_seen = seq;
	/* The same question in flight (a client's, or the last probe's) will tell. */
	if (dp_resolve_find(rc->res, &q) != 0)
		return;
	if (!rec_gateway_known(lc)) {
		DP_STAT_INC(lc, rec_probe_not_started);
		return;
	}
	sc = rec_start_cut(lc, &q, &scut);
	if (dp_resolve_start(rc->res, &q, dp_hints_get(lc->ctx), sc, lc->now_ms,
			     DP_REC_PRIME_COOKIE, &act) != 0) {
		DP_STAT_INC(lc, rec_probe_not_started);
		return;
	}
	DP_STAT_INC(lc, rec_probe_started);
	rec_run(lc, &act);
}
