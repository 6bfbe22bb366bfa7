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
#include "fuzz_hints_check.h"

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
	fuzz_check_hints_table(h, &pol);
	free(h);
	return 0;
}
