/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One 802.1Q tag on the port (--vlan). A received frame must carry exactly that tag (TPID
 * 0x8100 and the VLAN ID; the priority and DEI bits are not looked at); it is taken off before
 * anything else reads the frame, so every handler, the hand-off to other workers and the TCP
 * exception path (dp_tcp.c) see an untagged Ethernet frame at offset 0. Every frame for the
 * port gets the tag back in dp_tx_port (dp_tx.h), the one place all of them leave through:
 * answers written in place, client answers after a resolution, upstream queries, ARP and ND
 * probes and replies, and the kernel's TCP segments.
 *
 * Where the port advertises it, the control thread turns on VLAN strip and insert offloads
 * (dp_port_conf.vlan_rx_hw, vlan_tx_hw). net_af_xdp, net_ring, net_memif and net_tap offload
 * nothing: the tag is moved in software, 12 bytes of MAC addresses shifted by 4 within the
 * mbuf's headroom.
 *
 * Without --vlan the hot path pays one predictable branch on RX and one per TX burst, and a
 * tagged frame is dropped as drop_ethertype, as before.
 */
#pragma once

#include <stdbool.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dp_lcore.h"

#define DP_VLAN_ID_MASK 0x0fff

/* A TPID that says another tag follows or that ours is not an 802.1Q C-tag: 802.1ad S-tag and
 * the pre-standard QinQ TPIDs. */
static inline bool
dp_vlan_tpid_qinq(uint16_t type_be)
{
	return type_be == RTE_BE16(RTE_ETHER_TYPE_QINQ) || type_be == RTE_BE16(RTE_ETHER_TYPE_QINQ1) ||
	       type_be == RTE_BE16(RTE_ETHER_TYPE_QINQ2) || type_be == RTE_BE16(RTE_ETHER_TYPE_QINQ3);
}

/*
 * Checks the tag of a frame received on a --vlan port and takes it off, leaving an untagged
 * Ethernet frame at the mbuf's data. Returns false, counted, for a frame to drop: untagged,
 * another VLAN ID, or a second tag (QinQ). Worker only; m is one segment of at least an
 * Ethernet header (dp_rx.c checked).
 */
static inline bool
dp_vlan_strip(struct dp_lcore *lc, struct rte_mbuf *m)
{
	const struct dp_port_conf *pc = &lc->ctx->port;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	const struct rte_vlan_hdr *vh = (const struct rte_vlan_hdr *)(eth + 1);

	/* The port took the outer tag off already: what is left must be untagged. */
	if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) {
		if ((m->vlan_tci & DP_VLAN_ID_MASK) != pc->vlan) {
			DP_STAT_INC(lc, drop_vlan_id);
			return false;
		}
		if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_VLAN) ||
		    dp_vlan_tpid_qinq(eth->ether_type)) {
			DP_STAT_INC(lc, drop_vlan_double);
			return false;
		}
		return true;
	}
	if (unlikely(eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_VLAN))) {
		if (dp_vlan_tpid_qinq(eth->ether_type))
			DP_STAT_INC(lc, drop_vlan_double);
		else
			DP_STAT_INC(lc, drop_vlan_untagged);
		return false;
	}
	if (unlikely(m->data_len < sizeof(*eth) + sizeof(*vh))) {
		DP_STAT_INC(lc, drop_runt);
		return false;
	}
	if ((rte_be_to_cpu_16(vh->vlan_tci) & DP_VLAN_ID_MASK) != pc->vlan) {
		DP_STAT_INC(lc, drop_vlan_id);
		return false;
	}
	if (vh->eth_proto == RTE_BE16(RTE_ETHER_TYPE_VLAN) || dp_vlan_tpid_qinq(vh->eth_proto)) {
		DP_STAT_INC(lc, drop_vlan_double);
		return false;
	}
	/* The addresses move up over the tag; the inner EtherType is already where an untagged
	 * frame has it. */
	memmove((uint8_t *)eth + sizeof(*vh), eth, 2 * RTE_ETHER_ADDR_LEN);
	rte_pktmbuf_adj(m, sizeof(*vh));
	return true;
}

/* Gives each of the n untagged frames the port's 802.1Q tag (dp_vlan.c); frees and counts
 * (drop_vlan_tx) those that cannot take it and returns how many are left, in order. Worker
 * only, with --vlan. */
uint16_t dp_vlan_tag_burst(struct dp_lcore *lc, struct rte_mbuf **pkts, uint16_t n);
