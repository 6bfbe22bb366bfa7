/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Priming (RFC 8109), the control thread's half: validating what the priming worker got and
 * caching the primed root set. The worker's half, and why the work is split so, is described
 * in dataplane/dp_prime.h and dp_recurse.h.
 *
 * A priming reply is held to the rules of a hints file, by the same code: the header must be a
 * plain authoritative answer (QR and AA set, opcode QUERY, NOERROR, TC clear) to ". NS IN";
 * then every answer record and every A/AAAA record of the additional section (other additional
 * records, such as the OPT or signatures, are left out, and the authority section is ignored)
 * is written out in master-file form and handed to ctl_hints_parse() with the daemon's address
 * policy and --min-root-servers. So an NS not owned by the root, a record of another type in
 * the answer, an address for a name no root NS names, an NS with no address, a duplicate, or
 * too few servers with a usable address reject the reply whole, with the same reasons a file
 * would get ("LINE" in them is the record's position in that list). Rejected addresses are
 * counted and logged as for a file and never stored.
 *
 * An accepted reply becomes the root cut in the cache (dp_cut.h: DP_CACHE_CUT at the root), with
 * the NS RRset's TTL capped at --max-ttl, counted from when the worker received the reply. That
 * is the primed set: resolution starts there when no deeper cut is cached, and the priming
 * worker primes again when a tenth of its TTL is left. The hints table is never modified.
 * Rejections and failed priming resolutions are counted, kept (the last one, for `polluxctl
 * hints`) and logged at most once per CTL_PRIME_LOG_INTERVAL_MS with a count of the rest.
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
struct dp_prime_msg;

#define CTL_PRIME_LOG_INTERVAL_MS 10000
#define CTL_PRIME_DRAIN_PER_TICK 4

struct ctl_prime_state {
	const struct ctl_config *cfg;
	struct dp_ctx *ctx;        /* ctx->prime is the hand-off, ctx->cache gets the root cut */
	/* The primed set, as last accepted. */
	bool primed;               /* a reply was ever accepted */
	time_t primed_at;
	uint64_t primed_ms, expire_ms; /* dp_clock_ms() */
	uint32_t ttl;              /* as cached (capped) */
	unsigned servers;          /* root servers with a usable address */
	unsigned addr_rejected;    /* addresses the policy rejected in that reply */
	char server[48];           /* who sent it */
	/* The last failure: a rejected reply or a failed priming resolution. */
	bool has_failure;
	time_t failure_at;
	char failure[CTL_HINTS_REASONS_LEN + 128];
	/* Counters, for polluxctl stats. */
	uint64_t accepted, rejected, failed, cache_refused;
	uint64_t addr_rejected_total[PX_ADDR_REASON_COUNT];
	uint64_t log_next_ms, log_suppressed;
};

/*
 * Validates a priming reply (msg[0, len), raw DNS) as described above; source names it in the
 * reasons. Returns the root set as a hints table (malloc'ed; free() it) or NULL with errno
 * EINVAL (or ENOMEM) and the reasons in rep. No EAL needed.
 */
struct dp_hints *ctl_prime_validate(const uint8_t *msg, size_t len, const char *source,
				    const struct px_addr_policy *pol, unsigned min_usable,
				    struct ctl_hints_report *rep);

/* Sets the state up for cfg and ctx (ctx->prime may be NULL: priming off). */
void ctl_prime_init(struct ctl_prime_state *ps, const struct ctl_config *cfg, struct dp_ctx *ctx);

/*
 * Takes one message handed over by the priming worker and acts on it: a reply is validated and,
 * if good, its root cut inserted into ctx->cache; a failure is recorded. Exposed for tests;
 * ctl_prime_tick() calls it for what is queued.
 */
void ctl_prime_handle(struct ctl_prime_state *ps, const struct dp_prime_msg *m);

/* Handles up to CTL_PRIME_DRAIN_PER_TICK queued messages. Each control-loop tick. */
void ctl_prime_tick(struct ctl_prime_state *ps);

/* The priming state for `polluxctl hints`: "priming: ..." lines. */
void ctl_prime_print(const struct ctl_prime_state *ps, FILE *out, uint64_t now_ms);

/* The priming counters as "name value" lines, for `polluxctl stats`. */
void ctl_prime_print_stats(const struct ctl_prime_state *ps, FILE *out);
