/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "testlib.h"

uint16_t
px_test_ring_port(const char *name, struct rte_mempool *pool, struct rte_ring **rx,
		  struct rte_ring **tx)
{
	struct rte_eth_conf conf = {0};
	char rn[RTE_RING_NAMESIZE];
	int port;

	snprintf(rn, sizeof(rn), "%s_rx", name);
	*rx = rte_ring_create(rn, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(rn, sizeof(rn), "%s_tx", name);
	*tx = rte_ring_create(rn, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (pool == NULL || *rx == NULL || *tx == NULL)
		rte_exit(2, "cannot create the rings of %s (or no mbuf pool)\n", name);
	port = rte_eth_from_rings(name, rx, 1, tx, 1, 0);
	if (port < 0 || rte_eth_dev_configure((uint16_t)port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup((uint16_t)port, 0, 512, 0, NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup((uint16_t)port, 0, 512, 0, NULL) != 0 ||
	    rte_eth_dev_start((uint16_t)port) != 0)
		rte_exit(2, "cannot set up the net_ring port %s\n", name);
	return (uint16_t)port;
}
