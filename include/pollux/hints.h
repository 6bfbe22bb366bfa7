/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The root hints table: the root nameservers' names and addresses, where iterative resolution
 * starts. Built whole by the control thread (control/ctl_hints.c), published with one release
 * store, read by workers without locks, and freed only after an RCU grace period: a worker
 * never sees a half-built or freed table. Every address in a published table has passed the
 * address policy (pollux/addr_policy.h).
 */
#pragma once

#include <errno.h>
#include <stdint.h>

#include <pollux/addr.h>
#include <pollux/wire.h>

#define PX_HINTS_MAX_NS 64
#define PX_HINTS_MAX_ADDRS 8 /* per address family and server */

/* A root server. Its addresses sit in one array, IPv4 first, each family in the order it was
 * added (px_hints_ns_add): addr[0, v4_count) are IPv4, the next v6_count IPv6, none with a
 * port. The counts stay per family because the hints-file and priming rules bound each family
 * on its own. No padding: px_hints_checksum() reads the bytes. */
struct px_hints_ns {
	uint8_t name_len;
	uint8_t v4_count;
	uint8_t v6_count;
	uint8_t name[PX_DNS_MAX_NAME]; /* lower-cased wire form */
	struct px_addr addr[2 * PX_HINTS_MAX_ADDRS];
};

_Static_assert(sizeof(struct px_hints_ns) ==
		       3 + PX_DNS_MAX_NAME + 2 * PX_HINTS_MAX_ADDRS * sizeof(struct px_addr),
	       "struct px_hints_ns must have no padding");

/* How many addresses ns holds, both families. Any thread. */
static inline unsigned
px_hints_ns_addr_count(const struct px_hints_ns *ns)
{
	return (unsigned)ns->v4_count + ns->v6_count;
}

/*
 * Adds a to ns without its port, IPv4 before every IPv6 address, each family in the order
 * added. Returns 0, -ENOSPC when ns holds PX_HINTS_MAX_ADDRS of a's family already, or -EINVAL
 * for a family other than 4 or 6. Whoever builds the table (the control thread, or a worker
 * checking a priming reply into its own).
 */
static inline int
px_hints_ns_add(struct px_hints_ns *ns, const struct px_addr *a)
{
	unsigned n = px_hints_ns_addr_count(ns), at;

	if (a->family == PX_AF_INET) {
		if (ns->v4_count >= PX_HINTS_MAX_ADDRS)
			return -ENOSPC;
		at = ns->v4_count++;
		for (unsigned i = n; i > at; i--)
			ns->addr[i] = ns->addr[i - 1];
	} else if (a->family == PX_AF_INET6) {
		if (ns->v6_count >= PX_HINTS_MAX_ADDRS)
			return -ENOSPC;
		at = n;
		ns->v6_count++;
	} else {
		return -EINVAL;
	}
	px_addr_set(&ns->addr[at], a->family, a->a, 0);
	return 0;
}

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
