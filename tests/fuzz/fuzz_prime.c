/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for priming-reply validation (include/pollux/prime.h), as the priming worker
 * runs it: any input is taken as the DNS reply a root server sent to pollux's ". NS" query,
 * classified by the resolver's reply classifier (the root as bailiwick, the default address
 * policy) and held to the hints-file rules with a minimum of one server, into a scratch table
 * reused from one input to the next as the worker reuses its own. A refusal must name a known
 * reason; an accepted root set must keep every promise a published hints table makes (no
 * address the policy rejects, counts in bounds, the checksum).
 */
#include <stdint.h>
#include <stdlib.h>

#include <pollux/addr_policy.h>
#include <pollux/wire.h>

#include <pollux/hints.h>
#include <pollux/prime.h>
#include <pollux/reply.h>
#include "fuzz_hints_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t root = 0;
	static struct px_addr_policy pol;
	static struct px_reply reply;
	static uint64_t mem[(sizeof(struct px_hints) + PX_HINTS_MAX_NS *
			     sizeof(struct px_hints_ns)) / 8 + 1];
	struct px_hints *h = (struct px_hints *)mem;
	struct px_prime_report rep;
	enum px_prime_verdict v;
	static int init;

	if (!init) {
		px_addr_policy_init(&pol);
		init = 1;
	}
	if (size > UINT16_MAX)
		return 0;
	const struct px_reply_query q = {
		.qname = &root, .qname_len = 1, .zone = &root, .zone_len = 1,
		.qtype = PX_DNS_TYPE_NS, .qclass = PX_DNS_CLASS_IN, .policy = &pol,
	};

	px_reply_classify(&reply, data, (uint16_t)size, &q);
	v = px_prime_check(&reply, data, (uint16_t)size, &pol, 1, h, &rep);
	if (v >= PX_PRIME_VERDICT_COUNT)
		abort();
	if (v != PX_PRIME_OK)
		return 0;
	if (rep.ns_usable != h->ns_count || rep.addr_rejected > rep.addr_count)
		abort();
	fuzz_check_hints_table(h, &pol);
	return 0;
}
