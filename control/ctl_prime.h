/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Priming (RFC 8109), the control thread's half: showing and logging what the priming worker
 * did. The worker checks a priming reply and caches the root set itself (include/pollux/prime.h);
 * it records each outcome in ctx->prime_status, which this reads once per tick: a new outcome
 * is logged (a rejection or a failed resolution at most once per CTL_PRIME_LOG_INTERVAL_MS,
 * with a count of the rest) and kept here for `polluxctl hints` and `polluxctl stats`.
 *
 * Control thread only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <pollux/addr_policy.h>

#include "ctl_config.h"
#include "ctl_hints.h"

struct dp_ctx;

#define CTL_PRIME_LOG_INTERVAL_MS 10000

/* The last copy of the worker's record, turned into what the control socket shows. */
struct ctl_prime_state {
	const struct ctl_config *cfg;
	struct dp_ctx *ctx;        /* ctx->prime_status: the worker's record (NULL: priming off) */
	uint64_t events_seen;
	/* The primed set, as last accepted. */
	bool primed;               /* a reply was ever accepted */
	time_t primed_at;
	uint64_t primed_ms, expire_ms; /* dp_clock_ms() */
	uint32_t ttl;              /* as cached (capped) */
	unsigned servers;          /* root servers with a usable address */
	unsigned addr_rejected;    /* addresses the policy rejected in that reply */
	char server[48];           /* who sent it */
	/* The last failure: a rejected reply, a failed priming resolution, a cache refusal. */
	bool has_failure;
	time_t failure_at;
	char failure[256];
	/* Counters, for polluxctl stats. */
	uint64_t accepted, rejected, failed, cache_refused;
	uint64_t addr_rejected_total[PX_ADDR_REASON_COUNT];
	uint64_t log_next_ms, log_suppressed;
};

/* Sets the state up for cfg and ctx (ctx->prime_status may be NULL: priming off). */
void ctl_prime_init(struct ctl_prime_state *ps, const struct ctl_config *cfg, struct dp_ctx *ctx);

/* Reads the worker's record and logs what changed since the last call. Each control-loop
 * tick. */
void ctl_prime_tick(struct ctl_prime_state *ps);

/* The priming state for `polluxctl hints`: "priming: ..." lines. */
void ctl_prime_print(const struct ctl_prime_state *ps, FILE *out, uint64_t now_ms);

/* The priming counters as "name value" lines, for `polluxctl stats`. */
void ctl_prime_print_stats(const struct ctl_prime_state *ps, FILE *out);
