/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dp_lcore.h"
#include "dp_vlan.h"

uint16_t
dp_vlan_tag_burst(struct dp_lcore *lc, struct rte_mbuf **pkts, uint16_t n)
{
	const struct dp_port_conf *pc = &lc->ctx->port;
	uint16_t kept = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		/* Priority 0, DEI clear: pollux marks no traffic class. */
		m->vlan_tci = pc->vlan;
		if (pc->vlan_tx_hw) {
			m->ol_flags |= RTE_MBUF_F_TX_VLAN;
		} else if (unlikely(rte_vlan_insert(&m) != 0)) {
			/* Every frame pollux sends is its own, in an mbuf with the pool's headroom
			 * (RX frames had the tag taken off, giving the 4 bytes back): this is a
			 * guard, not a path. */
			DP_STAT_INC(lc, drop_vlan_tx);
			rte_pktmbuf_free(m);
			continue;
		}
		pkts[kept++] = m;
	}
	return kept;
}
