/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frames out of a worker: every frame for the port leaves through dp_tx_port, from the loop's
 * answers, the miss path's batch (its queries, client answers and next-hop probes) and the TCP
 * path's segments from the kernel. Its own header above dp_lcore.h and dp_vlan.h, since it
 * calls into dp_vlan and dp_vlan needs the lcore. Worker only.
 */
#pragma once

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dp_lcore.h"
#include "dp_vlan.h"

/* Sends n frames on (port, queue) and frees, counting them in *unsent, the ones the queue did
 * not take. Returns how many were sent. Worker only (the queue is the caller's). */
static inline uint16_t
dp_tx_or_free(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n, uint64_t *unsent)
{
	uint16_t sent = rte_eth_tx_burst(port, queue, pkts, n);

	if (unlikely(sent < n)) {
		*unsent += n - sent;
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
	return sent;
}

/* Sends n frames out of the worker's own queue on the port (tx_pkts, drop_tx_full). Every
 * frame for the port leaves through here, so this is where the VLAN tag goes on. */
static inline uint16_t
dp_tx_port(struct dp_lcore *lc, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t sent;

	if (unlikely(lc->ctx->port.vlan != 0))
		n = dp_vlan_tag_burst(lc, pkts, n);
	sent = dp_tx_or_free(lc->ctx->port.port_id, lc->queue_id, pkts, n,
			     &lc->stats.drop_tx_full);

	lc->stats.tx_pkts += sent;
	return sent;
}
