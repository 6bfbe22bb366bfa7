/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_miss's link side (see dp_miss_int.h): frames out of the worker's queue (their next hop's
 * MAC comes from dp_nexthop.h, which leaves its probes in the same batch) and the hand-off of
 * replies to the worker that owns their destination port.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dp_cksum.h"
#include "dp_miss_int.h"
#include "dp_tx.h"

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
 * Replies other workers received for our ports, at most DP_BURST of them (the count is
 * returned: DP_BURST means more may be waiting). dp_rx.c checked them before passing them on
 * (Ethernet, IPv4 without options or IPv6 without extension headers, UDP length and checksum),
 * so the headers are only located here, not checked again.
 */
unsigned
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
	return n;
}
