/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour table every worker shares: IPv4 and IPv6 next hops of upstream queries (the
 * gateways, and nameservers on the port's own subnets) and their MAC addresses.
 *
 * Why shared: with several workers, the reply to an ARP request or a neighbour solicitation
 * lands on whichever queue the port chooses (queue 0 for ARP on most NICs), not on the queue of
 * the worker that asked. So whoever hears the answer writes it here, and every worker reads it.
 *
 * Shape: DP_NBR_SLOTS fixed entries of one cache line, found by hashing the address and probing
 * DP_NBR_WAYS consecutive slots. Each entry is a sequence lock without a lock: a writer enters
 * by moving the sequence from even to odd with one compare-and-swap and leaves by making it even
 * again (release); a writer that finds another inside gives up and counts it (nothing spins: the
 * other writer is writing the same news, or the next ARP will bring it). A reader copies the
 * entry between two reads of the sequence and retries a few times if a writer came by; after
 * that it reports the entry as absent for this once. Nothing blocks, nothing allocates.
 *
 * An entry is created only for an address a worker wants to send to (dp_nbr_want: a gateway at
 * start, an on-link server when a query is first sent to it), and learning (dp_nbr_learn) only
 * fills entries that exist: an ARP or ND packet from anybody else on the link never enters the
 * table, so the link cannot flood it. A full probe window evicts the entry learned longest ago,
 * never a gateway (pinned).
 *
 * Freshness: a resolved entry stays usable; once it is older than DP_NBR_REFRESH_MS the caller
 * is told to probe again (rate-limited to one probe per DP_NBR_PROBE_MS across all workers),
 * and the answer refreshes it, or moves it if the neighbour's MAC changed.
 *
 * Any worker; dp_nbr_want for pinned entries also from the control thread before launch.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>

#include <pollux/addr_policy.h>

#define DP_NBR_SLOTS 256 /* a power of two */
#define DP_NBR_WAYS 4
#define DP_NBR_PROBE_MS 500
#define DP_NBR_REFRESH_MS 60000

struct dp_nbr_entry {
	uint32_t seq;      /* odd while a writer is inside */
	uint8_t family;    /* 0: free, 4 or 6 */
	bool resolved;     /* mac is known */
	bool pinned;       /* a gateway: never evicted */
	uint8_t addr[16];  /* IPv4 in the first 4 bytes (network order), rest zero */
	struct rte_ether_addr mac;
	uint64_t learned_ms;
	uint64_t probe_ms; /* when the last probe was sent (0: never) */
} __rte_cache_aligned;

struct dp_nbr_stats {
	uint64_t learned;       /* an entry resolved, or its MAC changed */
	uint64_t refreshed;     /* the same MAC heard again */
	uint64_t evicted;
	uint64_t writer_busy;   /* a writer found another inside and gave up */
	uint64_t reader_busy;   /* a reader gave up after retries */
};

struct dp_nbr_table {
	struct dp_nbr_entry e[DP_NBR_SLOTS];
	/* Counters are written by any worker with relaxed atomic adds: rare events only. */
	struct dp_nbr_stats stats;
};

enum dp_nbr_state {
	DP_NBR_ABSENT = 0, /* no entry (or a writer was inside: try again later) */
	DP_NBR_PENDING,    /* asked for, no answer yet */
	DP_NBR_RESOLVED,   /* mac filled in */
};

/* Empties t. Control thread, before launch. */
void dp_nbr_init(struct dp_nbr_table *t);

/*
 * Looks addr (family 4: 4 bytes; 6: 16 bytes) up. On DP_NBR_RESOLVED fills mac and, if not
 * NULL, learned_ms. Lock-free; any thread.
 */
enum dp_nbr_state dp_nbr_lookup(struct dp_nbr_table *t, uint8_t family, const uint8_t *addr,
				 struct rte_ether_addr *mac, uint64_t *learned_ms);

/*
 * Says a worker wants to send to addr: creates its entry if absent (pinned: never evicted), and
 * returns true when the caller should send a probe (ARP request / neighbour solicitation) now:
 * the entry is unresolved or older than DP_NBR_REFRESH_MS, and no probe for it went out in the
 * last DP_NBR_PROBE_MS, from any worker. The probe time is claimed by the call.
 */
bool dp_nbr_want(struct dp_nbr_table *t, uint8_t family, const uint8_t *addr, bool pinned,
		 uint64_t now_ms);

/*
 * A neighbour said it has addr at mac (an ARP request or reply to us, a solicitation or an
 * advertisement). Fills or refreshes the entry if one exists, and returns true then; an
 * address nobody asked for is not learned (false). mac must be unicast and not zero.
 */
bool dp_nbr_learn(struct dp_nbr_table *t, uint8_t family, const uint8_t *addr,
		  const struct rte_ether_addr *mac, uint64_t now_ms);

/* True if addr lies in the subnet net/plen (family 4: IPv4 in network order; 6: 16 bytes). A
 * prefix of 0 (none configured) makes nothing on-link. */
static inline bool
dp_nbr_on_link(uint8_t family, const uint8_t *addr, const uint8_t *net, uint8_t plen)
{
	return plen != 0 && plen <= (family == 4 ? 32 : 128) &&
	       px_addr_prefix_match(addr, net, plen);
}
