/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delegations (zone cuts) in the cache (issue 4, "referrals cached" and "priming"): where a
 * resolution starts when the cache knows a nameserver set closer to the name than the root.
 *
 * A cut is a DP_CACHE_CUT entry keyed by its zone (qtype NS, class IN), so it never collides
 * with an answer and is never served to a client. Its TTL is the delegation's NS TTL, capped at
 * max_ttl. Its bytes are not DNS records but a compact list the worker decodes without
 * parsing DNS: for each nameserver, in the order the referral gave them,
 *
 *     name_len (1), name (name_len, lower-cased wire form; 0 bytes for a bare address set),
 *     addr_count (1), then addr_count times: family (1: 4 or 6), address (4 or 16 bytes)
 *
 * and the entry's an_count is the number of nameservers. A server with neither an address nor a
 * name is not stored; nor is a cut with nothing usable at all.
 *
 * Who writes what: workers encode the cuts the resolver hands out (action.cache_cut) and put
 * them in the cache like answers; the priming worker encodes the primed root set
 * (dp_cut_encode_hints, from a priming reply checked with the hints-file rules, pollux/prime.h).
 * The root cut only ever comes from priming: workers never offer a cut for the root.
 *
 * Finding the closest cut (dp_cut_find) walks the name's suffixes from the longest to the root,
 * skipping the label depths at which no cut was ever inserted (dp_cache_has_cut_depth), so a
 * miss for a 3-label name costs at most 4 probes and usually 2 or 3. Expired cuts are skipped.
 *
 * Encoding is thread-agnostic; dp_cut_find needs an online RCU reader (or the writer), and the
 * decoded cut points into the entry, so it is valid until the caller's next quiescent state.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <pollux/hints.h>
#include <pollux/resolver.h>

#include "dp_cache.h"

/* Largest encoded cut: what a cache entry's largest class holds. A cut that would be larger keeps its
 * first nameservers whole and drops the rest. */
#define DP_CUT_MAX_LEN 4096

/* Encodes cut's usable servers (with an address, or glueless and out of zone) into buf (cap
 * bytes). Returns the length (0: nothing worth keeping) and sets *ns_count. Any thread. */
uint16_t dp_cut_encode(uint8_t *buf, uint16_t cap, const struct px_resolver_cut *cut,
		       uint16_t *ns_count);

/* Encodes a hints table (the validated primed root set) the same way. Any thread. */
uint16_t dp_cut_encode_hints(uint8_t *buf, uint16_t cap, const struct px_hints *h,
			     uint16_t *ns_count);

/* Decodes entry e (kind DP_CACHE_CUT) into out, names pointing into e. Returns 0, or -EINVAL
 * for bytes that do not decode (counted by the caller; never trusted). Any thread. */
int dp_cut_decode(const struct dp_cache_entry *e, struct px_resolver_start_buf *out);

/*
 * The closest enclosing unexpired cut for (name, qtype): name itself first (except for a DS
 * question, which its parent answers), then each ancestor up to the root. Returns the entry
 * or NULL. name is lower-cased wire form. An online RCU reader (worker) or the writer.
 */
const struct dp_cache_entry *dp_cut_find(const struct dp_cache *c, const uint8_t *name,
					 uint8_t name_len, uint16_t qtype, uint64_t now_ms);

/* The key of the cut at zone (lower-cased wire form). Any thread. */
void dp_cut_key(struct dp_cache_key *key, const uint8_t *zone, uint8_t zone_len);
