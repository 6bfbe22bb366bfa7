/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delegations in the cache: the key of a cut entry and the closest-cut walk. See dp_cut.h.
 */
#include <string.h>

#include "dp_cut.h"

void
dp_cut_key(struct dp_cache_key *key, const uint8_t *zone, uint8_t zone_len)
{
	key->qtype = PX_DNS_TYPE_NS;
	key->qclass = PX_DNS_CLASS_IN;
	key->kind = DP_CACHE_CUT;
	key->name_len = zone_len;
	memcpy(key->name, zone, zone_len);
}

const struct dp_cache_entry *
dp_cut_find(const struct dp_cache *c, const uint8_t *name, uint8_t name_len, uint16_t qtype,
	    uint64_t now_ms)
{
	unsigned labels = 0, off = 0;

	for (unsigned i = 0; i < name_len && name[i] != 0; i += 1u + name[i])
		labels++;
	/* A DS RRset lives at the parent side of the cut: start one label up. */
	if (qtype == PX_DNS_TYPE_DS && labels > 0) {
		off = 1u + name[0];
		labels--;
	}
	for (;;) {
		if (dp_cache_has_cut_depth(c, labels)) {
			const struct dp_cache_entry *e =
				dp_cache_lookup(c, name + off, (uint8_t)(name_len - off),
						PX_DNS_TYPE_NS, PX_DNS_CLASS_IN, DP_CACHE_CUT);

			if (e != NULL && dp_cache_entry_ttl(e, now_ms) >= 0)
				return e;
		}
		if (labels == 0 || off >= name_len)
			return NULL;
		off += 1u + name[off];
		labels--;
	}
}
