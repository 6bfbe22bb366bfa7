/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The host duties of pollux's own addresses, at the link and network layers: ARP replies, IPv6
 * neighbour advertisements and ICMP/ICMPv6 echo replies, each written in place into the
 * request's mbuf. The callers in dp_rx.c have already checked the Ethernet header, the IP
 * header, its length and addresses. What an ARP or ND message to us says about a next hop is
 * handed to dp_nexthop.h to learn, with the miss path on (lc->miss).
 */
#pragma once

#include <stdint.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp_lcore.h"
#include "dp_nexthop.h"

#define DP_ICMP6_ECHO_REQUEST 128
#define DP_ICMP6_ECHO_REPLY 129

/* ARP frame at offset 14. Returns DP_TX (reply built) or DP_DROP (counted). Worker only. */
enum dp_verdict dp_host_arp(struct dp_lcore *lc, struct rte_mbuf *m);

/* ICMP message of l4_len bytes after the IPv4 header ip. Worker only. */
enum dp_verdict dp_host_icmp4(struct dp_lcore *lc, struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
			      uint16_t l4_len);

/* ICMPv6 message of l4_len bytes after the IPv6 header ip. Worker only. */
enum dp_verdict dp_host_icmp6(struct dp_lcore *lc, struct rte_mbuf *m, struct rte_ipv6_hdr *ip,
			      uint16_t l4_len);

/* Rewrites the Ethernet header of a reply: back to the sender, from our MAC. */
static inline void
dp_eth_reply(const struct dp_lcore *lc, struct rte_ether_hdr *eth)
{
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&lc->ctx->port.mac, &eth->src_addr);
}
