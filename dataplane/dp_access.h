/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's first look at a query: may this source be served (access control), and is it
 * within its rate (rate limiting)? Both run before any DNS work, on every UDP query.
 *
 * What the control thread decides lives in one immutable struct dp_access, built on the
 * control thread (ctl_access.h) and published in ctx->access with RCU, like the hints: a reload
 * builds a new one, swaps the pointer, waits a grace period and frees the old one. The per-rule
 * hit counters live in it too, one slice of cache lines per worker (and one for the TCP thread),
 * so a worker writes only lines no other thread writes. The token buckets are per worker
 * (lc->rl) and outlive reloads.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>

#include <pollux/acl.h>
#include <pollux/ratelimit.h>
#include <pollux/stats.h>
#include <pollux/wire.h>

#include "dp_lcore.h"

struct dp_access {
	struct px_acl_table *acl;  /* never NULL */
	struct px_rl_params rl;    /* rl.rate 0: no rate limiting */
	uint32_t hit_stride;       /* counters per slice, a multiple of 8 (whole cache lines) */
	uint32_t slices;           /* workers + 1; the last slice is the TCP thread's */
	uint64_t *hits;            /* [slices * hit_stride]; slice s: one writer, ctl: ro */
	uint64_t *carried;         /* [rule_count]: the same rule's hits before a reload (ctl) */
	uint64_t generation;       /* ctl: what `polluxctl acl` reports */
};

enum dp_access_verdict {
	DP_ACCESS_PASS = 0, /* serve it */
	DP_ACCESS_REFUSE,   /* answer REFUSED */
	DP_ACCESS_DROP,     /* send nothing */
	DP_ACCESS_SLIP,     /* rate-limited, answer with TC set */
};

/* The access policy in force, or NULL (no access control: tests and benches that set none).
 * Valid until the caller's next quiescent state report. Any RCU reader. */
static inline const struct dp_access *
dp_access_get(const struct dp_ctx *ctx)
{
	return __atomic_load_n(&ctx->access, __ATOMIC_ACQUIRE);
}

/*
 * Looks the query's source (4 bytes when !v6, else 16, network order) up: counts the rule's hit
 * and the action (acl_allowed, acl_refused, acl_dropped), then for an allowed source charges its
 * token bucket (ratelimited, ratelimit_slipped). Worker only, as an online RCU reader;
 * lc->now_ms must be current.
 */
static inline enum dp_access_verdict
dp_access_check(struct dp_lcore *lc, const uint8_t *src, bool v6)
{
	const struct dp_access *a = dp_access_get(lc->ctx);
	uint32_t leaf, rule;

	if (a == NULL)
		return DP_ACCESS_PASS;
	leaf = px_acl_lookup(a->acl, src, v6);
	rule = px_acl_leaf_rule(leaf);
	if (likely(rule < a->acl->rule_count))
		a->hits[(uint32_t)lc->queue_id * a->hit_stride + rule]++;
	switch (px_acl_leaf_action(leaf)) {
	case PX_ACL_ALLOW:
		DP_STAT_INC(lc, acl_allowed);
		break;
	case PX_ACL_REFUSE:
		DP_STAT_INC(lc, acl_refused);
		return DP_ACCESS_REFUSE;
	default:
		DP_STAT_INC(lc, acl_dropped);
		return DP_ACCESS_DROP;
	}
	if (a->rl.rate == 0 || lc->rl == NULL)
		return DP_ACCESS_PASS;
	switch (px_rl_check(lc->rl, &a->rl, src, v6, (uint32_t)lc->now_ms)) {
	case PX_RL_PASS:
		return DP_ACCESS_PASS;
	case PX_RL_SLIP:
		DP_STAT_INC(lc, ratelimited);
		DP_STAT_INC(lc, ratelimit_slipped);
		return DP_ACCESS_SLIP;
	default:
		DP_STAT_INC(lc, ratelimited);
		return DP_ACCESS_DROP;
	}
}

/*
 * Rewrites the query msg[0, len) in place (cap bytes of room) into a bare answer with rcode
 * (and TC when tc): the header, and the question when there is exactly one that reads
 * cleanly; no records. A REFUSED to a query that carried an OPT gets an OPT with the Extended
 * DNS Error Prohibited (18) and no EXTRA-TEXT, if cap has room; anything else gets no OPT. So
 * the answer is never larger than the query, or 6 bytes larger with that option (the query's
 * OPT was at least as long as the answer's without it). Returns its length, or 0 when nothing
 * is to be sent (shorter than a header, or QR set: never answer a response). Any thread.
 */
uint16_t dp_access_reply(uint8_t *msg, uint16_t len, uint16_t cap, uint8_t rcode, bool tc);

/*
 * The whole screen for a UDP query from src, its DNS payload dns[0, len) with cap bytes of
 * room: returns 0 to go on answering it, -1 to drop it (counted), or the length of the REFUSED
 * or TC answer written in place (counted by rcode). Worker only, as an online RCU reader.
 */
static inline int
dp_access_screen(struct dp_lcore *lc, const uint8_t *src, bool v6, uint8_t *dns, uint16_t len,
		 uint16_t cap)
{
	enum dp_access_verdict v = dp_access_check(lc, src, v6);
	uint8_t rcode = PX_DNS_RCODE_REFUSED;
	uint16_t rlen;

	if (likely(v == DP_ACCESS_PASS))
		return 0;
	if (v == DP_ACCESS_DROP)
		return -1;
	if (v == DP_ACCESS_SLIP)
		rcode = PX_DNS_RCODE_NOERROR;
	rlen = dp_access_reply(dns, len, cap, rcode, v == DP_ACCESS_SLIP);
	if (rlen == 0) {
		if (len < PX_DNS_HDR_LEN)
			DP_STAT_INC(lc, drop_dns_runt);
		else
			DP_STAT_INC(lc, drop_dns_response);
		return -1;
	}
	px_stats_count_rcode(&lc->stats, rcode, dns);
	return rlen;
}
