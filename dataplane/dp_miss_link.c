/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_miss's link side (see dp_miss_int.h): frames out of the worker's queue, the next hop
 * of each upstream query (on-link server or gateway) and its MAC from the neighbour table all
 * workers share (dp_nbr.h), ARP requests and neighbour solicitations, learning from the answers,
 * and the hand-off of replies to the worker that owns their destination port.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dp_cksum.h"
#include "dp_nexthop.h"
#include "dp_host.h"
#include "dp_miss_int.h"

/* TX: frames the resolution path makes are batched here and sent at the end of the iteration,
 * or as soon as the batch is full. */
void
miss_flush(struct dp_lcore *lc)
{
	struct dp_miss *rc = lc->miss;
	uint16_t n = rc->tx_count;

	if (n == 0)
		return;
	dp_tx_port(lc, rc->tx, n);
	rc->tx_count = 0;
}

void
miss_queue(struct dp_lcore *lc, struct rte_mbuf *m)
{
	struct dp_miss *rc = lc->miss;

	if (rc->tx_count == DP_MISS_TX_BATCH)
		miss_flush(lc);
	rc->tx[rc->tx_count++] = m;
}

/* Writes Ethernet, IP and UDP headers in front of dns_len bytes already at the DNS offset of m,
 * with checksums, and sets the frame's length. */
void
miss_frame(struct dp_lcore *lc, struct rte_mbuf *m, uint8_t family, const struct rte_ether_addr *dst,
	  const uint8_t *daddr, uint16_t sport_be, uint16_t dport_be, uint16_t dns_len)
{
	const struct dp_port_conf *pc = &lc->ctx->port;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_udp_hdr *udp;
	uint16_t l4 = (uint16_t)(UDP_LEN + dns_len);

	rte_ether_addr_copy(dst, &eth->dst_addr);
	rte_ether_addr_copy(&pc->mac, &eth->src_addr);
	if (family == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		memset(ip, 0, IP4_LEN);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(IP4_LEN + l4));
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = pc->ip4;
		memcpy(&ip->dst_addr, daddr, 4);
		ip->hdr_checksum = dp_cksum_ip4(ip);
		udp = (struct rte_udp_hdr *)(ip + 1);
		udp->src_port = sport_be;
		udp->dst_port = dport_be;
		udp->dgram_len = rte_cpu_to_be_16(l4);
		udp->dgram_cksum = 0;
		udp->dgram_cksum = dp_cksum_l4(dp_cksum_phdr4(ip, l4), udp, l4);
		m->data_len = (uint16_t)(L2_LEN + IP4_LEN + l4);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);

		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
		ip->vtc_flow = RTE_BE32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(l4);
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = 64;
		memcpy(ip->src_addr, pc->ip6, 16);
		memcpy(ip->dst_addr, daddr, 16);
		udp = (struct rte_udp_hdr *)(ip + 1);
		udp->src_port = sport_be;
		udp->dst_port = dport_be;
		udp->dgram_len = rte_cpu_to_be_16(l4);
		udp->dgram_cksum = 0;
		udp->dgram_cksum = dp_cksum_l4(dp_cksum_phdr6(ip, l4), udp, l4);
		m->data_len = (uint16_t)(L2_LEN + IP6_LEN + l4);
	}
	m->pkt_len = m->data_len;
	m->ol_flags = 0;
}

/* ARP request for tip (network order), broadcast. */
static void
probe4(struct dp_lcore *lc, uint32_t tip)
{
	struct dp_miss *rc = lc->miss;
	const struct dp_port_conf *pc = &lc->ctx->port;
	struct rte_mbuf *m = rte_pktmbuf_alloc(rc->pool);
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
	miss_queue(lc, m);
	DP_STAT_INC(lc, rec_neigh_probes);
}

/* Neighbour solicitation for target, to its solicited-node group. */
static void
probe6(struct dp_lcore *lc, const uint8_t *target)
{
	struct dp_miss *rc = lc->miss;
	const struct dp_port_conf *pc = &lc->ctx->port;
	struct rte_mbuf *m = rte_pktmbuf_alloc(rc->pool);
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
	miss_queue(lc, m);
	DP_STAT_INC(lc, rec_neigh_probes);
}

/*
 * The next hop for server: the server itself when it lies in the port's subnet of its family,
 * else that family's gateway. Returns the next hop's address (4 or 16 bytes), or NULL when
 * there is none (no address of that family, or off-link without a gateway).
 */
const uint8_t *
miss_nexthop(const struct dp_lcore *lc, const struct px_upq_addr *srv, bool *on_link)
{
	const struct dp_miss *rc = lc->miss;
	const struct dp_port_conf *pc = &lc->ctx->port;

	if (srv->family == PX_UPQ_AF_INET) {
		if (!pc->has_ip4)
			return NULL;
		*on_link = dp_nbr_on_link(4, srv->a, (const uint8_t *)&pc->ip4, pc->ip4_prefix);
		if (*on_link)
			return srv->a;
		return rc->conf.has_gw4 ? (const uint8_t *)&rc->conf.gw4 : NULL;
	}
	if (!pc->has_ip6)
		return NULL;
	*on_link = dp_nbr_on_link(6, srv->a, pc->ip6, pc->ip6_prefix);
	if (*on_link)
		return srv->a;
	return rc->conf.has_gw6 ? rc->conf.gw6 : NULL;
}

/* Asks the link for hop (probe rate-limited across workers by the neighbour table). */
static void
miss_probe(struct dp_lcore *lc, uint8_t family, const uint8_t *hop, bool pinned)
{
	if (!dp_nbr_want(lc->ctx->nbr, family, hop, pinned, lc->now_ms))
		return;
	if (family == 4) {
		uint32_t tip;

		memcpy(&tip, hop, 4);
		probe4(lc, tip);
	} else {
		probe6(lc, hop);
	}
}

/* Fills mac with the next hop's MAC for server, asking the link when it is unknown or stale.
 * False when it is not known yet (the probe is on its way). */
bool
miss_nexthop_mac(struct dp_lcore *lc, const struct px_upq_addr *srv, struct rte_ether_addr *mac)
{
	uint8_t fam = srv->family == PX_UPQ_AF_INET ? 4 : 6;
	bool on_link = false;
	const uint8_t *hop = miss_nexthop(lc, srv, &on_link);
	uint64_t learned;

	if (hop == NULL)
		return false;
	switch (dp_nbr_lookup(lc->ctx->nbr, fam, hop, mac, &learned)) {
	case DP_NBR_RESOLVED:
		if (lc->now_ms - learned >= DP_NBR_REFRESH_MS)
			miss_probe(lc, fam, hop, !on_link);
		return true;
	default:
		miss_probe(lc, fam, hop, !on_link);
		return false;
	}
}

bool
dp_miss_route_mac(struct dp_lcore *lc, uint8_t family, const uint8_t *dst,
		     struct rte_ether_addr *mac)
{
	struct px_upq_addr a;

	if (lc->miss == NULL)
		return false;
	if (family == 4) {
		uint32_t v4;

		memcpy(&v4, dst, 4);
		px_upq_addr_set4(&a, v4);
	} else {
		px_upq_addr_set6(&a, dst);
	}
	return miss_nexthop_mac(lc, &a, mac);
}

enum dp_verdict
dp_miss_reply(struct dp_lcore *lc, struct rte_mbuf *m, uint8_t family, const void *ip,
		 uint16_t sport_be, uint16_t dport_be, const uint8_t *dns, uint16_t dns_len)
{
	struct dp_miss *rc = lc->miss;

	if (rc->owners != NULL) {
		uint8_t owner = px_upq_port_owner(rc->owners, rte_be_to_cpu_16(dport_be));

		if (owner != rc->self) {
			if (owner == 0 || owner > lc->ctx->worker_count) {
				DP_STAT_INC(lc, rec_forged_no_query);
				return DP_DROP;
			}
			if (rte_ring_mp_enqueue(lc->ctx->handoff[owner - 1], m) != 0) {
				DP_STAT_INC(lc, rec_handoff_full);
				return DP_DROP;
			}
			DP_STAT_INC(lc, rec_handoff_out);
			return DP_KEPT;
		}
	}
	return miss_reply(lc, family, ip, sport_be, dport_be, dns, dns_len);
}

/*
 * Replies other workers received for our ports. dp_rx.c checked them before passing them on
 * (Ethernet, IPv4 without options or IPv6 without extension headers, UDP length and checksum),
 * so the headers are only located here, not checked again.
 */
void
miss_handoff_drain(struct dp_lcore *lc)
{
	struct rte_mbuf *ms[DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(lc->ctx->handoff[lc->queue_id], (void **)ms,
					       DP_BURST, NULL);

	for (unsigned i = 0; i < n; i++) {
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(ms[i], const struct rte_ether_hdr *);
		const struct rte_udp_hdr *udp;
		const void *ip = eth + 1;
		uint8_t family;

		if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
			family = 4;
			udp = (const struct rte_udp_hdr *)((const struct rte_ipv4_hdr *)ip + 1);
		} else {
			family = 6;
			udp = (const struct rte_udp_hdr *)((const struct rte_ipv6_hdr *)ip + 1);
		}
		DP_STAT_INC(lc, rec_handoff_in);
		miss_reply(lc, family, ip, udp->src_port, udp->dst_port, (const uint8_t *)(udp + 1),
			  (uint16_t)(rte_be_to_cpu_16(udp->dgram_len) - UDP_LEN));
	}
	if (n != 0)
		rte_pktmbuf_free_bulk(ms, n);
}

bool
dp_miss_learn4(struct dp_lcore *lc, uint32_t sip_be, const struct rte_ether_addr *sha)
{
	if (lc->miss == NULL ||
	    !dp_nbr_learn(lc->ctx->nbr, 4, (const uint8_t *)&sip_be, sha, lc->now_ms))
		return false;
	DP_STAT_INC(lc, rec_neigh_learned);
	return true;
}

bool
dp_miss_learn6(struct dp_lcore *lc, const uint8_t *ip6, const struct rte_ether_addr *lla)
{
	if (lc->miss == NULL || !dp_nbr_learn(lc->ctx->nbr, 6, ip6, lla, lc->now_ms))
		return false;
	DP_STAT_INC(lc, rec_neigh_learned);
	return true;
}

void
miss_gateway_check(struct dp_lcore *lc, uint8_t family, const uint8_t *gw)
{
	struct rte_ether_addr mac;
	uint64_t learned;

	if (dp_nbr_lookup(lc->ctx->nbr, family, gw, &mac, &learned) != DP_NBR_RESOLVED ||
	    lc->now_ms - learned >= DP_NBR_REFRESH_MS)
		miss_probe(lc, family, gw, true);
}

/* True when a gateway's MAC is known (for either family). */
bool
miss_gateway_known(struct dp_lcore *lc)
{
	const struct dp_miss *rc = lc->miss;
	struct rte_ether_addr mac;

	return (rc->conf.has_gw4 &&
		dp_nbr_lookup(lc->ctx->nbr, 4, (const uint8_t *)&rc->conf.gw4, &mac, NULL) ==
			DP_NBR_RESOLVED) ||
	       (rc->conf.has_gw6 &&
		dp_nbr_lookup(lc->ctx->nbr, 6, rc->conf.gw6, &mac, NULL) == DP_NBR_RESOLVED);
}
