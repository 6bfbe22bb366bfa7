/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bytes of a delegation (zone cut) as the cache keeps it, in the core library: encoded by
 * the worker that learned it (from a referral the resolver hands out, or the primed root set)
 * and decoded by every worker that starts a resolution from it, and by the control thread's
 * cache dump. Not DNS records but a compact list decoded without parsing DNS: for each
 * nameserver, in the order the referral gave them,
 *
 *     name_len (1), name (name_len, lower-cased wire form; 0 bytes for a bare address set),
 *     addr_count (1), then addr_count times: family (1: 4 or 6), address (4 or 16 bytes)
 *
 * A server with neither an address nor a name is not stored; nor is a cut with nothing usable
 * at all. The decoder trusts nothing: the bytes are the cache's, but they were chosen by the
 * servers that sent the referral. Thread-agnostic; no allocation.
 */
#pragma once

#include <stdint.h>

#include <pollux/hints.h>
#include <pollux/resolver.h>

/* Largest encoded cut: what a cache entry's largest class holds. A cut that would be larger
 * keeps its first nameservers whole and drops the rest. */
#define PX_CUT_MAX_LEN 4096

/* Encodes cut's usable servers (with an address, or glueless and out of zone) into buf (cap
 * bytes). Returns the length (0: nothing worth keeping) and sets *ns_count. */
uint16_t px_cut_encode(uint8_t *buf, uint16_t cap, const struct px_resolver_cut *cut,
		       uint16_t *ns_count);

/* Encodes a hints table (the validated primed root set) the same way. */
uint16_t px_cut_encode_hints(uint8_t *buf, uint16_t cap, const struct px_hints *h,
			     uint16_t *ns_count);

/* Decodes the len bytes at p, the cut at zone, into out; the names point into p and zone.
 * Returns 0, or -EINVAL for bytes that do not decode (counted by the caller). */
int px_cut_decode(const uint8_t *p, unsigned len, const uint8_t *zone, uint8_t zone_len,
		  struct px_resolver_start_buf *out);
