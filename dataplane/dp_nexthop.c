/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Next hops on the worker (dp_nexthop.h): the route choice, the probes that ask the link for
 * a next hop's MAC, and learning the answers into the shared table (dp_nexthop_table.c).
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp_nexthop.h"

#define L2_LEN ((uint16_t)sizeof(struct rte_ether_hdr))
#define IP6_LEN ((uint16_t)sizeof(struct rte_ipv6_hdr))

/* ARP request for tip (network order), broadcast. */
static void
probe4(struct dp_lcore *lc, const struct dp_nexthop *nh, uint32_t tip)
{
	const struct dp_port_conf *pc = &lc->ctx->port;
	struct rte_mbuf *m = rte_pktmbuf_alloc(nh->pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	if (m == NULL) {
		DP_STAT_INC(lc, rec_drop_no_mbuf);
		return;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	arp = (struct rte_arp_hdr *)(eth + 1);
	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(&pc->mac, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(&pc->mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = pc->ip4;
	memset(&arp->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_tip = tip;
	m->data_len = m->pkt_len = (uint32_t)(L2_LEN + sizeof(*arp));
	nh->send(lc, m);
	DP_STAT_INC(lc, rec_neigh_probes);
}

/* Neighbour solicitation for target, to its solicited-node group. */
static void
probe6(struct dp_lcore *lc, const struct dp_nexthop *nh, const uint8_t *target)
{
	const struct dp_port_conf *pc = &lc->ctx->port;
	struct rte_mbuf *m = rte_pktmbuf_alloc(nh->pool);
	/* type, code, cksum(2), reserved(4), target(16), option: type 1, len 1, our MAC */
	const uint16_t ns_len = 4 + 4 + 16 + 8;
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	uint8_t *icmp;
	const uint8_t *gw = target;

	if (m == NULL) {
		DP_STAT_INC(lc, rec_drop_no_mbuf);
		return;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip = (struct rte_ipv6_hdr *)(eth + 1);
	icmp = (uint8_t *)(ip + 1);
	/* To the target's solicited-node group (RFC 4861 7.2.2), 33:33 + its low 32 bits. */
	struct rte_ether_addr mc = {{0x33, 0x33, 0xff, gw[13], gw[14], gw[15]}};

	rte_ether_addr_copy(&mc, &eth->dst_addr);
	rte_ether_addr_copy(&pc->mac, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(ns_len);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = 255;
	/* From the link-local address when the gateway is link-local, else the global one. */
	memcpy(ip->src_addr, gw[0] == 0xfe && (gw[1] & 0xc0) == 0x80 ? pc->ip6_ll : pc->ip6, 16);
	memset(ip->dst_addr, 0, 16);
	ip->dst_addr[0] = 0xff;
	ip->dst_addr[1] = 0x02;
	ip->dst_addr[11] = 0x01;
	ip->dst_addr[12] = 0xff;
	memcpy(ip->dst_addr + 13, gw + 13, 3);
	memset(icmp, 0, ns_len);
	icmp[0] = DP_ICMP6_NS;
	memcpy(icmp + 8, gw, 16);
	icmp[24] = 1; /* source link-layer address option */
	icmp[25] = 1;
	memcpy(icmp + 26, pc->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	uint16_t ck = rte_ipv6_udptcp_cksum(ip, icmp);

	memcpy(icmp + 2, &ck, 2);
	m->data_len = m->pkt_len = (uint32_t)(L2_LEN + IP6_LEN + ns_len);
	nh->send(lc, m);
	DP_STAT_INC(lc, rec_neigh_probes);
}

const struct px_addr *
dp_nexthop_route(const struct dp_port_conf *pc, const struct dp_nexthop *nh,
		 const struct px_addr *dst, bool *on_link)
{
	const struct px_addr *gw;

	if (dst->family == PX_AF_INET) {
		if (!pc->has_ip4)
			return NULL;
		*on_link = dp_nexthop_on_link(dst, (const uint8_t *)&pc->ip4, pc->ip4_prefix);
		gw = &nh->gw4;
	} else {
		if (!pc->has_ip6)
			return NULL;
		*on_link = dp_nexthop_on_link(dst, pc->ip6, pc->ip6_prefix);
		gw = &nh->gw6;
	}
	if (*on_link)
		return dst;
	return gw->family != PX_AF_NONE ? gw : NULL;
}

static void
probe(struct dp_lcore *lc, const struct dp_nexthop *nh, const struct px_addr *hop, bool pinned)
{
	if (!dp_nexthop_table_want(lc->ctx->nbr, hop, pinned, lc->now_ms))
		return;
	if (hop->family == PX_AF_INET)
		probe4(lc, nh, px_addr_v4(hop));
	else
		probe6(lc, nh, hop->a);
}

bool
dp_nexthop_mac(struct dp_lcore *lc, const struct dp_nexthop *nh, const struct px_addr *dst,
	       struct rte_ether_addr *mac)
{
	bool on_link = false;
	const struct px_addr *hop = dp_nexthop_route(&lc->ctx->port, nh, dst, &on_link);
	uint64_t learned;

	if (hop == NULL)
		return false;
	switch (dp_nexthop_table_lookup(lc->ctx->nbr, hop, mac, &learned)) {
	case DP_NEXTHOP_RESOLVED:
		if (lc->now_ms - learned >= DP_NEXTHOP_REFRESH_MS)
			probe(lc, nh, hop, !on_link);
		return true;
	default:
		probe(lc, nh, hop, !on_link);
		return false;
	}
}

bool
dp_nexthop_learn4(struct dp_lcore *lc, uint32_t sip_be, const struct rte_ether_addr *sha)
{
	struct px_addr a;

	px_addr_set4(&a, sip_be, 0);
	if (!dp_nexthop_table_learn(lc->ctx->nbr, &a, sha, lc->now_ms))
		return false;
	DP_STAT_INC(lc, rec_neigh_learned);
	return true;
}

bool
dp_nexthop_learn6(struct dp_lcore *lc, const uint8_t *ip6, const struct rte_ether_addr *lla)
{
	struct px_addr a;

	px_addr_set6(&a, ip6, 0);
	if (!dp_nexthop_table_learn(lc->ctx->nbr, &a, lla, lc->now_ms))
		return false;
	DP_STAT_INC(lc, rec_neigh_learned);
	return true;
}

static void
gateway_check(struct dp_lcore *lc, const struct dp_nexthop *nh, const struct px_addr *gw)
{
	struct rte_ether_addr mac;
	uint64_t learned;

	if (dp_nexthop_table_lookup(lc->ctx->nbr, gw, &mac, &learned) != DP_NEXTHOP_RESOLVED ||
	    lc->now_ms - learned >= DP_NEXTHOP_REFRESH_MS)
		probe(lc, nh, gw, true);
}

void
dp_nexthop_tick(struct dp_lcore *lc, struct dp_nexthop *nh)
{
	const struct dp_port_conf *pc = &lc->ctx->port;

	if (lc->now_ms < nh->gw_check_ms)
		return;
	nh->gw_check_ms = lc->now_ms + DP_NEXTHOP_GW_CHECK_MS;
	if (nh->gw4.family != PX_AF_NONE && pc->has_ip4)
		gateway_check(lc, nh, &nh->gw4);
	if (nh->gw6.family != PX_AF_NONE && pc->has_ip6)
		gateway_check(lc, nh, &nh->gw6);
}

bool
dp_nexthop_gateway_known(struct dp_lcore *lc, const struct dp_nexthop *nh)
{
	struct rte_ether_addr mac;

	if (nh->gw4.family == PX_AF_NONE && nh->gw6.family == PX_AF_NONE)
		return true;
	return (nh->gw4.family != PX_AF_NONE &&
		dp_nexthop_table_lookup(lc->ctx->nbr, &nh->gw4, &mac, NULL) ==
			DP_NEXTHOP_RESOLVED) ||
	       (nh->gw6.family != PX_AF_NONE &&
		dp_nexthop_table_lookup(lc->ctx->nbr, &nh->gw6, &mac, NULL) == DP_NEXTHOP_RESOLVED);
}
