/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for priming-reply validation (control/ctl_prime.c): any input is taken as
 * the DNS reply a root server sent to pollux's ". NS" query, parsed with ldns and validated
 * with the hints-file rules, the default address policy and a minimum of one server. Whatever
 * the verdict, a refusal must say why, and an accepted root set must keep every promise a
 * published hints table makes (no address the policy rejects, counts in bounds, the checksum).
 */
#include <stdint.h>
#include <stdlib.h>

#include <rte_log.h>

#include <pollux/addr_policy.h>

#include "ctl_hints.h"
#include "ctl_prime.h"
#include "dp_hints.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct px_addr_policy pol;
	static struct ctl_hints_report rep;
	static int init;
	struct dp_hints *h;

	if (!init) {
		px_addr_policy_init(&pol);
		rte_log_set_level_pattern("pollux.*", RTE_LOG_ERR);
		init = 1;
	}
	h = ctl_prime_validate(data, size, "fuzz", &pol, 1, &rep);
	if (h == NULL) {
		if (rep.reasons[0] == '\0')
			abort();
		return 0;
	}
	if (h->ns_count == 0 || h->ns_count > DP_HINTS_MAX_NS ||
	    h->checksum != dp_hints_checksum(h))
		abort();
	for (uint32_t i = 0; i < h->ns_count; i++) {
		const struct dp_hints_ns *ns = &h->ns[i];

		if (ns->v4_count + ns->v6_count == 0 || ns->v4_count > DP_HINTS_MAX_ADDRS ||
		    ns->v6_count > DP_HINTS_MAX_ADDRS || ns->name_len == 0)
			abort();
		for (unsigned k = 0; k < ns->v4_count; k++)
			if (px_addr_check4(&pol, ns->v4[k]) != PX_ADDR_OK)
				abort();
		for (unsigned k = 0; k < ns->v6_count; k++)
			if (px_addr_check6(&pol, ns->v6[k]) != PX_ADDR_OK)
				abort();
	}
	free(h);
	return 0;
}
