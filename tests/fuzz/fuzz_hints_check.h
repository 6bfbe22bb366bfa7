/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every published hints table promises, checked by the harnesses that build one
 * (fuzz_hints from a file, fuzz_prime from a priming reply): at least one server and no more
 * than the table holds, every server named and with an address, no address the policy rejects,
 * and the checksum readers verify. abort() on a broken promise, so libFuzzer reports it.
 */
#pragma once

#include <stdlib.h>

#include <pollux/addr_policy.h>

#include <pollux/hints.h>

static inline void
fuzz_check_hints_table(const struct px_hints *h, const struct px_addr_policy *pol)
{
	if (h->ns_count == 0 || h->ns_count > PX_HINTS_MAX_NS ||
	    h->checksum != px_hints_checksum(h))
		abort();
	for (uint32_t i = 0; i < h->ns_count; i++) {
		const struct px_hints_ns *ns = &h->ns[i];

		if (ns->v4_count + ns->v6_count == 0 || ns->v4_count > PX_HINTS_MAX_ADDRS ||
		    ns->v6_count > PX_HINTS_MAX_ADDRS || ns->name_len == 0)
			abort();
		/* IPv4 first, then IPv6, every one passing the policy, none with a port. */
		for (unsigned k = 0; k < px_hints_ns_addr_count(ns); k++)
			if (ns->addr[k].family != (k < ns->v4_count ? PX_AF_INET : PX_AF_INET6) ||
			    ns->addr[k].port != 0 || px_addr_check(pol, &ns->addr[k]) != PX_ADDR_OK)
				abort();
	}
}
