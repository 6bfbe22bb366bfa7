/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The authoritative side of gen_memif's miss mode: a root, the TLD test. and leaf zones, served
 * from memory on the generator's port, and the link-level help (ARP) the resolver needs to reach
 * them. See gen_auth.c for the zones and bench/README.md for how bench/run_miss.sh uses them.
 * Single-threaded: everything here runs on the generator's one lcore.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

/* An IPv4 address in host order (DPDK's RTE_IPV4 shifts an int: 198 << 24 overflows it). */
#define GEN_IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* The servers' fixed lab addresses (bench/run_miss.sh writes the root's into pollux's hints). */
#define GEN_AUTH_ROOT_NAME "a.root-servers.test"
#define GEN_AUTH_ROOT_IP GEN_IP4(198, 18, 1, 1)
#define GEN_AUTH_TLD_IP GEN_IP4(198, 18, 1, 2)
/* Leaf zone i is served by 198.18.2.(1 + i % GEN_AUTH_LEAF_SERVERS) alone. */
#define GEN_AUTH_LEAF_NET GEN_IP4(198, 18, 2, 0)
#define GEN_AUTH_LEAF_SERVERS 250

struct gen_auth_cfg {
	struct rte_ether_addr mac; /* the generator's port: the source of every reply */
	uint32_t self_ip;          /* network order: answered in ARP (pollux's gateway) */
	uint32_t a_base;           /* host order: n<i> has address a_base + i % 65536 */
	unsigned zones;            /* leaf zones z0.test .. z<zones-1>.test */
};

enum gen_auth_verdict {
	GEN_AUTH_PASS,  /* not for the servers or the ARP responder: m is untouched */
	GEN_AUTH_REPLY, /* m has been rewritten in place into the reply: send it */
	GEN_AUTH_DROP,  /* for the servers but not a well-formed query (auth.bad), or ARP that is
			 * not a request for self_ip (auth.arp_other): free m */
};

void gen_auth_init(const struct gen_auth_cfg *cfg);

/* Writes the text of the miss benchmark's i-th client name into buf: "n<i>.z<i % zones>.test"
 * (leaf zones, whose cuts the resolver caches after the first names), or with fresh,
 * "n<i>.d<i>.test" (a zone of its own each: one TLD referral and one leaf query per name).
 * Returns the address its A record has, host order. */
uint32_t gen_auth_name(char *buf, size_t size, uint64_t i, bool fresh);

/* Answers an ARP request for self_ip, or a DNS query to one of the servers, in place. */
enum gen_auth_verdict gen_auth_take(struct rte_mbuf *m);

/* Prints the servers' counters as "auth.<name>: <n>" lines; returns auth.bad (frames to the
 * servers that were not well-formed DNS queries). */
uint64_t gen_auth_report(void);

/* Learns dst_ip's MAC into *out by ARP through port's queue 0, asking every 100 ms for up to
 * 5 s (until *stop). Returns 0 or -ETIMEDOUT. Frames that are not the reply are freed. */
int gen_arp_resolve(uint16_t port, struct rte_mempool *pool, const struct rte_ether_addr *mac,
		    uint32_t src_ip, uint32_t dst_ip, struct rte_ether_addr *out,
		    const volatile sig_atomic_t *stop);
