/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Next-hop resolution: where a frame to an address goes on the link, for the miss path's
 * upstream queries (dp_miss.h) and the kernel's TCP segments (dp_tcp.h). It is the route
 * choice (the address itself when it lies in the port's subnet of its family, else that
 * family's gateway: dp_nexthop_route), the neighbour table that holds the next hops' MACs, the
 * probes (ARP requests, neighbour solicitations) that ask the link for them, and the learning
 * of the answers (dp_host.c hands it every ARP and ND message to us). It calls nobody above it:
 * its callers pass what it needs (struct dp_nexthop) and it leaves its probes in their TX batch.
 *
 * The table (dp_nexthop_table.c) is what every worker shares: IPv4 and IPv6 next hops of
 * upstream queries (the gateways, and nameservers on the port's own subnets) and their MAC
 * addresses.
 *
 * Why shared: with several workers, the reply to an ARP request or a neighbour solicitation
 * lands on whichever queue the port chooses (queue 0 for ARP on most NICs), not on the queue of
 * the worker that asked. So whoever hears the answer writes it here, and every worker reads it.
 *
 * Shape: DP_NEXTHOP_SLOTS fixed entries of one cache line, found by hashing the address and
 * probing DP_NEXTHOP_WAYS consecutive slots. Each entry is a sequence lock without a lock: a
 * writer enters by moving the sequence from even to odd with one compare-and-swap and leaves by
 * making it even again (release); a writer that finds another inside gives up and counts it
 * (nothing spins: the other writer is writing the same news, or the next ARP will bring it). A
 * reader copies the entry between two reads of the sequence and retries a few times if a writer
 * came by; after that it reports the entry as absent for this once. Nothing blocks, nothing
 * allocates.
 *
 * An entry is created only for an address a worker wants to send to (dp_nexthop_table_want: a
 * gateway at start, an on-link server when a query is first sent to it), and learning
 * (dp_nexthop_table_learn) only fills entries that exist: an ARP or ND packet from anybody else
 * on the link never enters the table, so the link cannot flood it. A full probe window evicts
 * the entry learned longest ago, never a gateway (pinned).
 *
 * Freshness: a resolved entry stays usable; once it is older than DP_NEXTHOP_REFRESH_MS the
 * caller is told to probe again (rate-limited to one probe per DP_NEXTHOP_PROBE_MS across all
 * workers), and the answer refreshes it, or moves it if the neighbour's MAC changed.
 *
 * The table: any worker; dp_nexthop_table_want for pinned entries also from the control thread
 * before launch. The rest: worker only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>

#include <pollux/addr.h>
#include <pollux/addr_policy.h>

#include "dp_lcore.h"

struct rte_mbuf;
struct rte_mempool;

#define DP_NEXTHOP_SLOTS 256 /* a power of two */
#define DP_NEXTHOP_WAYS 4
#define DP_NEXTHOP_PROBE_MS 500
#define DP_NEXTHOP_REFRESH_MS 60000
/* How often a worker looks at its gateways' entries (dp_nexthop_tick): a gateway is probed for
 * before any query needs it, and again before it goes stale. */
#define DP_NEXTHOP_GW_CHECK_MS 500

/* ICMPv6 neighbour discovery (RFC 4861): what the probes send and dp_host.c answers. */
#define DP_ICMP6_NS 135
#define DP_ICMP6_NA 136

struct dp_nexthop_entry {
	uint32_t seq;        /* odd while a writer is inside */
	bool resolved;       /* mac is known */
	bool pinned;         /* a gateway: never evicted */
	struct px_addr addr; /* family 0: free; port always 0 */
	struct rte_ether_addr mac;
	uint64_t learned_ms;
	uint64_t probe_ms; /* when the last probe was sent (0: never) */
} __rte_cache_aligned;

/* One line per entry, so a writer on one neighbour never bounces another's line. */
_Static_assert(sizeof(struct dp_nexthop_entry) == RTE_CACHE_LINE_SIZE,
	       "a neighbour entry must fit one cache line");

struct dp_nexthop_stats {
	uint64_t learned;       /* an entry resolved, or its MAC changed */
	uint64_t refreshed;     /* the same MAC heard again */
	uint64_t evicted;
	uint64_t writer_busy;   /* a writer found another inside and gave up */
	uint64_t reader_busy;   /* a reader gave up after retries */
};

struct dp_nexthop_table {
	struct dp_nexthop_entry e[DP_NEXTHOP_SLOTS];
	/* Counters are written by any worker with relaxed atomic adds: rare events only. */
	struct dp_nexthop_stats stats;
};

enum dp_nexthop_state {
	DP_NEXTHOP_ABSENT = 0, /* no entry (or a writer was inside: try again later) */
	DP_NEXTHOP_PENDING,    /* asked for, no answer yet */
	DP_NEXTHOP_RESOLVED,   /* mac filled in */
};

/* Empties t. Control thread, before launch. */
void dp_nexthop_table_init(struct dp_nexthop_table *t);

/*
 * Looks addr up (its port is ignored). On DP_NEXTHOP_RESOLVED fills mac and, if not
 * NULL, learned_ms. Lock-free; any thread.
 */
enum dp_nexthop_state dp_nexthop_table_lookup(struct dp_nexthop_table *t,
					     const struct px_addr *addr, struct rte_ether_addr *mac,
					     uint64_t *learned_ms);

/*
 * Says a worker wants to send to addr: creates its entry if absent (pinned: never evicted), and
 * returns true when the caller should send a probe (ARP request / neighbour solicitation) now:
 * the entry is unresolved or older than DP_NEXTHOP_REFRESH_MS, and no probe for it went out in the
 * last DP_NEXTHOP_PROBE_MS, from any worker. The probe time is claimed by the call.
 */
bool dp_nexthop_table_want(struct dp_nexthop_table *t, const struct px_addr *addr, bool pinned,
			   uint64_t now_ms);

/*
 * A neighbour said it has addr at mac (an ARP request or reply to us, a solicitation or an
 * advertisement). Fills or refreshes the entry if one exists, and returns true then; an
 * address nobody asked for is not learned (false). mac must be unicast and not zero.
 */
bool dp_nexthop_table_learn(struct dp_nexthop_table *t, const struct px_addr *addr,
			    const struct rte_ether_addr *mac, uint64_t now_ms);

/* True if addr lies in the subnet net/plen (net: 4 or 16 bytes of addr's family, network
 * order). A prefix of 0 (none configured) makes nothing on-link. */
static inline bool
dp_nexthop_on_link(const struct px_addr *addr, const uint8_t *net, uint8_t plen)
{
	return plen != 0 && plen <= px_addr_len(addr->family) * 8 &&
	       px_addr_prefix_match(addr->a, net, plen);
}

/*
 * One worker's side of next-hop resolution, owned by its caller (the miss path builds it with
 * its own state) and passed to each call below: nothing here reaches back into the caller.
 * Written before launch, read-only on the worker after.
 */
struct dp_nexthop {
	struct px_addr gw4; /* family 0: no IPv4 gateway; no port */
	struct px_addr gw6; /* family 0: no IPv6 gateway; no port */
	struct rte_mempool *pool; /* where probe frames come from */
	/* Takes a probe frame to send with the caller's other frames (its TX batch). */
	void (*send)(struct dp_lcore *lc, struct rte_mbuf *m);
	uint64_t gw_check_ms; /* the next look at the gateways' entries (dp_nexthop_tick) */
};

/*
 * The next hop of a frame to dst (its port is ignored): dst itself when it lies in the port's
 * subnet of its family (*on_link set), else that family's gateway. Returns the next hop (dst,
 * or a gateway in nh), or NULL when there is none (the port has no address of that family, or
 * dst is off-link and there is no gateway). Any thread.
 */
const struct px_addr *dp_nexthop_route(const struct dp_port_conf *pc, const struct dp_nexthop *nh,
				       const struct px_addr *dst, bool *on_link);

/*
 * The MAC of dst's next hop, from the shared table: fills mac and returns true when it is
 * known. Sends a probe (rate-limited across workers, counted rec_neigh_probes) when it is
 * unknown or older than DP_NEXTHOP_REFRESH_MS; an unknown one returns false. Worker only.
 */
bool dp_nexthop_mac(struct dp_lcore *lc, const struct dp_nexthop *nh, const struct px_addr *dst,
		    struct rte_ether_addr *mac);

/*
 * An ARP packet to us (request or reply) says sip_be is at sha: learned into the shared table
 * when sip_be is a wanted next hop (a gateway, an on-link server asked for), counted
 * rec_neigh_learned. Returns true if it is one. Worker only.
 */
bool dp_nexthop_learn4(struct dp_lcore *lc, uint32_t sip_be, const struct rte_ether_addr *sha);

/* ND: an advertisement for, or a solicitation from, a wanted IPv6 next hop teaches its MAC
 * (lla, from the link-layer address option). As dp_nexthop_learn4. Worker only. */
bool dp_nexthop_learn6(struct dp_lcore *lc, const uint8_t *ip6, const struct rte_ether_addr *lla);

/* Once per loop iteration: every DP_NEXTHOP_GW_CHECK_MS, probes for a gateway whose MAC is
 * unknown or about to go stale (the table decides whether a probe is due). Worker only. */
void dp_nexthop_tick(struct dp_lcore *lc, struct dp_nexthop *nh);

/* True when a gateway's MAC is known (for either family), or when there is no gateway at all:
 * every nameserver reachable is then on-link, and its own MAC is asked for when a query needs
 * it (priming and the health probe need not wait). Worker only. */
bool dp_nexthop_gateway_known(struct dp_lcore *lc, const struct dp_nexthop *nh);
