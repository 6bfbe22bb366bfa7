/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the root hints loader: any input is parsed and validated as a hints
 * file with the default address policy and a minimum of one server. Whatever the verdict, the
 * table (if any) is checked for what every published table promises, then freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include <pollux/addr_policy.h>
#include <pollux/hints.h>

#include "ctl_hints.h"
#include "fuzz_hints_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct px_addr_policy pol;
	static struct ctl_hints_report rep;
	static int init;
	struct px_hints *h;

	if (!init) {
		px_addr_policy_init(&pol);
		/* The rejected-address events would drown the fuzzer's output. */
		rte_log_set_level_pattern("pollux.*", RTE_LOG_ERR);
		init = 1;
	}
	h = ctl_hints_parse("fuzz", data, size, &pol, 1, &rep);
	if (h == NULL) {
		if (rep.reasons[0] == '\0')
			abort();
		return 0;
	}
	/* What a file adds: no more servers than it named, and no reasons on success. */
	if (h->ns_count > rep.ns_count || rep.reasons[0] != '\0')
		abort();
	fuzz_check_hints_table(h, &pol);
	free(h);
	return 0;
}
