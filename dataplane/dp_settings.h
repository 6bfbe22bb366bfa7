/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The resolver settings a reload may change while workers run (polluxctl reload, SIGHUP): the
 * nameserver address policy (do-not-query, allow-loopback-ns, pollux's own addresses), the TTL
 * caps, QNAME minimisation, the priming threshold, the health probe's question, serve-stale and
 * prefetch.
 *
 * The control thread builds a new immutable struct dp_settings, publishes it in ctx->settings
 * with a release store and frees the old one after an RCU grace period (ctl_settings.h). A
 * resolving worker looks at the pointer once per loop iteration, in dp_miss_tick(), after
 * the quiescent state report of the iteration before: when the generation moved it copies the
 * values into its own resolution state within that iteration and keeps no pointer to the
 * object, so the per-packet path reads only worker-owned memory, as before a reload existed.
 * The TCP thread reads it as an RCU reader of its own (ctl_settings_check_addr).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <pollux/addr_policy.h>
#include <pollux/wire.h>

#include "dp_lcore.h"

/* Serve-stale (RFC 8767) and prefetch (dp_miss_stale.c); a reload may change them. */
struct dp_stale_conf {
	uint32_t max_s;      /* expired answers are kept and served this long after expiry; 0: off */
	uint32_t timeout_ms; /* a client waiting this long on a refresh gets the stale answer */
	uint32_t ttl;        /* seconds: the TTL stale answers carry */
	bool prefetch;       /* a hit in the last tenth of an entry's TTL refreshes it */
};

struct dp_settings {
	uint64_t generation;           /* 1 for the first published; bumped by each reload */
	struct px_addr_policy policy;
	uint32_t max_ttl, max_neg_ttl; /* seconds */
	bool qname_min;
	uint32_t prime_min_servers;    /* --min-root-servers */
	uint8_t probe_qname[PX_DNS_NAME_BUF]; /* wire form, lower case */
	uint8_t probe_qname_len;
	uint16_t probe_qtype;
	struct dp_stale_conf stale; /* serve-stale-* and prefetch */
};

/* The settings in force, or NULL before the first publication (the conf given at creation
 * holds). Good until the caller's next quiescent state report. Any RCU reader. */
static inline const struct dp_settings *
dp_settings_get(const struct dp_ctx *ctx)
{
	return __atomic_load_n(&ctx->settings, __ATOMIC_ACQUIRE);
}
