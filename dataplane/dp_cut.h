/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delegations (zone cuts) in the cache: where a resolution starts when the cache knows a
 * nameserver set closer to the name than the root.
 *
 * A cut is a DP_CACHE_CUT entry keyed by its zone (qtype NS, class IN), so it never collides
 * with an answer and is never served to a client. Its TTL is the delegation's NS TTL, capped at
 * max_ttl; its bytes are the core library's encoding (pollux/cut.h) and the entry's an_count is
 * the number of nameservers.
 *
 * Who writes what: workers encode the cuts the resolver hands out (action.cache_cut) and put
 * them in the cache like answers; the priming worker encodes the primed root set
 * (px_cut_encode_hints, from a priming reply checked with the hints-file rules, pollux/prime.h).
 * The root cut only ever comes from priming: workers never offer a cut for the root.
 *
 * Finding the closest cut (dp_cut_find) walks the name's suffixes from the longest to the root,
 * skipping the label depths at which no cut was ever inserted (dp_cache_has_cut_depth), so a
 * miss for a 3-label name costs at most 4 probes and usually 2 or 3. Expired cuts are skipped.
 *
 * dp_cut_find needs an online RCU reader (or the writer), and the decoded cut points into the
 * entry, so it is valid until the caller's next quiescent state.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <pollux/cut.h>
#include <pollux/resolver.h>

#include "dp_cache.h"

/* Decodes entry e (kind DP_CACHE_CUT) into out, names pointing into e. Returns 0, or -EINVAL
 * for bytes that do not decode (counted by the caller; never trusted). Any thread. */
static inline int
dp_cut_decode(const struct dp_cache_entry *e, struct px_resolver_start_buf *out)
{
	return px_cut_decode(dp_cache_entry_rr(e), e->rr_len, dp_cache_entry_name(e), e->name_len,
			     out);
}

/*
 * The closest enclosing unexpired cut for (name, qtype): name itself first (except for a DS
 * question, which its parent answers), then each ancestor up to the root. Returns the entry
 * or NULL. name is lower-cased wire form. An online RCU reader (worker) or the writer.
 */
const struct dp_cache_entry *dp_cut_find(const struct dp_cache *c, const uint8_t *name,
					 uint8_t name_len, uint16_t qtype, uint64_t now_ms);

/* The key of the cut at zone (lower-cased wire form). Any thread. */
void dp_cut_key(struct dp_cache_key *key, const uint8_t *zone, uint8_t zone_len);
