/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp_host.h"
#include "dp_nexthop.h"

enum dp_verdict
dp_host_arp(struct dp_lcore *lc, struct rte_mbuf *m)
{
	const struct dp_port_conf *pc = &lc->ctx->port;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	struct rte_arp_ipv4 *a = &arp->arp_data;

	if (m->data_len < sizeof(*eth) + sizeof(*arp) || !pc->has_ip4 ||
	    arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4) {
		DP_STAT_INC(lc, drop_arp);
		return DP_DROP;
	}
	/* A next hop of the miss path's: its requests and its replies both say where it is. */
	if (lc->miss != NULL && a->arp_tip == pc->ip4 &&
	    dp_nexthop_learn4(lc, a->arp_sip, &a->arp_sha) &&
	    arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY))
		return DP_CONSUMED;
	if (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) || a->arp_tip != pc->ip4 ||
	    rte_is_multicast_ether_addr(&a->arp_sha)) {
		DP_STAT_INC(lc, drop_arp);
		return DP_DROP;
	}
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&a->arp_sha, &a->arp_tha);
	a->arp_tip = a->arp_sip;
	rte_ether_addr_copy(&pc->mac, &a->arp_sha);
	a->arp_sip = pc->ip4;
	rte_ether_addr_copy(&a->arp_tha, &eth->dst_addr);
	rte_ether_addr_copy(&pc->mac, &eth->src_addr);
	DP_STAT_INC(lc, arp_replies);
	return DP_TX;
}

enum dp_verdict
dp_host_icmp4(struct dp_lcore *lc, struct rte_mbuf *m, struct rte_ipv4_hdr *ip, uint16_t l4_len)
{
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);

	if (l4_len < sizeof(*icmp) || icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST ||
	    icmp->icmp_code != 0 || rte_raw_cksum(icmp, l4_len) != 0xffff) {
		DP_STAT_INC(lc, drop_icmp);
		return DP_DROP;
	}
	/* Recomputed whole rather than adjusted: pings are rare and this is obviously right. */
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, l4_len);

	uint32_t dst = ip->dst_addr;

	ip->dst_addr = ip->src_addr;
	ip->src_addr = dst;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	dp_eth_reply(lc, rte_pktmbuf_mtod(m, struct rte_ether_hdr *));
	DP_STAT_INC(lc, icmp_echo_replies);
	return DP_TX;
}

static inline uint16_t
icmp6_cksum(const struct rte_ipv6_hdr *ip, const void *l4)
{
	/* rte_ipv6_udptcp_cksum() sums the pseudo-header with ip->proto, which is ICMPv6 here;
	 * the algorithm is the same for any upper layer (RFC 8200 8.1). */
	return rte_ipv6_udptcp_cksum(ip, l4);
}

/* Builds a neighbour advertisement for target in place of the solicitation. */
static enum dp_verdict
neigh_advert(struct dp_lcore *lc, struct rte_mbuf *m, struct rte_ipv6_hdr *ip,
	     const uint8_t *target)
{
	const struct dp_port_conf *pc = &lc->ctx->port;
	uint8_t *icmp = (uint8_t *)(ip + 1);
	static const uint8_t unspec[16];
	/* type, code, cksum(2), flags(4), target(16), option: type 2, len 1, MAC */
	const uint16_t na_len = 4 + 4 + 16 + 8;
	bool dad = memcmp(ip->src_addr, unspec, 16) == 0;

	if (rte_pktmbuf_tailroom(m) + m->data_len <
	    sizeof(struct rte_ether_hdr) + sizeof(*ip) + na_len) {
		DP_STAT_INC(lc, drop_no_room);
		return DP_DROP;
	}
	icmp[0] = DP_ICMP6_NA;
	icmp[1] = 0;
	icmp[2] = icmp[3] = 0;
	/* Solicited unless answering duplicate address detection, which goes to all-nodes. */
	icmp[4] = dad ? 0x20 : 0x60; /* S and O flags; R clear: not a router */
	icmp[5] = icmp[6] = icmp[7] = 0;
	memmove(icmp + 8, target, 16);
	icmp[24] = 2; /* target link-layer address option */
	icmp[25] = 1;
	memcpy(icmp + 26, pc->mac.addr_bytes, RTE_ETHER_ADDR_LEN);

	if (dad) {
		static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 0x01};

		memcpy(ip->dst_addr, all_nodes, 16);
	} else {
		memcpy(ip->dst_addr, ip->src_addr, 16);
	}
	memcpy(ip->src_addr, target, 16);
	ip->payload_len = rte_cpu_to_be_16(na_len);
	ip->hop_limits = 255;
	uint16_t ck = icmp6_cksum(ip, icmp);

	memcpy(icmp + 2, &ck, 2);

	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	if (dad) {
		/* 33:33 + low 32 bits of ff02::1 */
		struct rte_ether_addr mc = {{0x33, 0x33, 0, 0, 0, 1}};

		rte_ether_addr_copy(&mc, &eth->dst_addr);
		rte_ether_addr_copy(&pc->mac, &eth->src_addr);
	} else {
		dp_eth_reply(lc, eth);
	}
	m->data_len = m->pkt_len = (uint32_t)(sizeof(*eth) + sizeof(*ip) + na_len);
	DP_STAT_INC(lc, nd_replies);
	return DP_TX;
}

/* Learns a next hop's MAC from the link-layer address option of type opt_type (1: source, in
 * a solicitation; 2: target, in an advertisement) when ip6 is a wanted next hop. */
static bool
nd_learn(struct dp_lcore *lc, const uint8_t *ip6, const uint8_t *icmp, uint16_t l4_len,
	 uint8_t opt_type)
{
	for (uint16_t off = 24; off + 8 <= l4_len;) {
		uint16_t olen = (uint16_t)(icmp[off + 1] * 8);

		if (olen == 0 || off + olen > l4_len)
			return false;
		if (icmp[off] == opt_type && olen == 8)
			return dp_nexthop_learn6(lc, ip6,
						 (const struct rte_ether_addr *)(icmp + off + 2));
		off = (uint16_t)(off + olen);
	}
	return false;
}

enum dp_verdict
dp_host_icmp6(struct dp_lcore *lc, struct rte_mbuf *m, struct rte_ipv6_hdr *ip, uint16_t l4_len)
{
	const struct dp_port_conf *pc = &lc->ctx->port;
	uint8_t *icmp = (uint8_t *)(ip + 1);

	if (l4_len < 8 || rte_ipv6_udptcp_cksum_verify(ip, icmp) != 0)
		goto drop;

	if (icmp[0] == DP_ICMP6_NS) {
		/* RFC 4861 7.1.1: hop limit 255 proves the sender is on-link; code 0; room for
		 * the target address. */
		if (ip->hop_limits != 255 || icmp[1] != 0 || l4_len < 24)
			goto drop;
		const uint8_t *target = icmp + 8;

		if (memcmp(target, pc->ip6, 16) != 0 && memcmp(target, pc->ip6_ll, 16) != 0)
			goto drop;
		if (lc->miss != NULL)
			nd_learn(lc, ip->src_addr, icmp, l4_len, 1);
		return neigh_advert(lc, m, ip, target);
	}
	/* An advertisement for a wanted next hop (RFC 4861 7.1.2 checks). */
	if (icmp[0] == DP_ICMP6_NA && lc->miss != NULL && ip->hop_limits == 255 && icmp[1] == 0 &&
	    l4_len >= 24 && nd_learn(lc, icmp + 8, icmp, l4_len, 2))
		return DP_CONSUMED;
	if (icmp[0] == DP_ICMP6_ECHO_REQUEST && icmp[1] == 0) {
		/* Only unicast echo requests to one of our addresses get this far (dp_rx.c). */
		uint8_t tmp[16];

		memcpy(tmp, ip->src_addr, 16);
		memcpy(ip->src_addr, ip->dst_addr, 16);
		memcpy(ip->dst_addr, tmp, 16);
		ip->hop_limits = 64;
		icmp[0] = DP_ICMP6_ECHO_REPLY;
		icmp[2] = icmp[3] = 0;
		uint16_t ck = icmp6_cksum(ip, icmp);

		memcpy(icmp + 2, &ck, 2);
		dp_eth_reply(lc, rte_pktmbuf_mtod(m, struct rte_ether_hdr *));
		DP_STAT_INC(lc, icmp6_echo_replies);
		return DP_TX;
	}
drop:
	DP_STAT_INC(lc, drop_icmp);
	return DP_DROP;
}
