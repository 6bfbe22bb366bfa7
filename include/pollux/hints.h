/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The root hints table: the root nameservers' names and addresses, where iterative resolution
 * starts. Built whole by the control thread (control/ctl_hints.c), published with one release
 * store, read by workers without locks, and freed only after an RCU grace period: a worker
 * never sees a half-built or freed table. Every address in a published table has passed the
 * address policy (pollux/addr_policy.h).
 */
#pragma once

#include <stdint.h>

#include <pollux/wire.h>

#define PX_HINTS_MAX_NS 64
#define PX_HINTS_MAX_ADDRS 8 /* per address family and server */

struct px_hints_ns {
	uint8_t name_len;
	uint8_t v4_count;
	uint8_t v6_count;
	uint8_t name[PX_DNS_MAX_NAME];      /* lower-cased wire form */
	uint32_t v4[PX_HINTS_MAX_ADDRS];     /* network byte order */
	uint8_t v6[PX_HINTS_MAX_ADDRS][16];
};

/* Immutable once published. dp: ro, ctl: rw until published. */
struct px_hints {
	uint64_t generation; /* set at publish; strictly increasing */
	uint64_t checksum;   /* px_hints_checksum() of ns[0, ns_count) */
	uint32_t ns_count;   /* every one has at least one usable address */
	uint32_t ttl;        /* the root NS RRset's TTL, for priming */
	struct px_hints_ns ns[];
};

static inline size_t
px_hints_size(uint32_t ns_count)
{
	return sizeof(struct px_hints) + (size_t)ns_count * sizeof(struct px_hints_ns);
}

/* FNV-1a over the servers, so a reader (or a test) can tell a torn or stale table. Any thread. */
static inline uint64_t
px_hints_checksum(const struct px_hints *h)
{
	const uint8_t *p = (const uint8_t *)h->ns;
	size_t len = (size_t)h->ns_count * sizeof(struct px_hints_ns);
	uint64_t x = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		x = (x ^ p[i]) * 0x100000001b3ull;
	return x;
}
