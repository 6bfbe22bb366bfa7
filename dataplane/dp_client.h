/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Who asked a client query: what the answer path, the miss path and the TCP path all keep to
 * send it its answer later. Its own header, below all three, so that none of them includes
 * another only for this type. Worker only.
 */
#pragma once

#include <stdint.h>

#include <rte_ether.h>

#include <pollux/addr.h>

/* How a client asked, and so how its answer goes back. */
enum dp_client_transport {
	DP_CLIENT_UDP = 0, /* out of the port: to mac, peer and its port */
	DP_CLIENT_TCP,     /* to the TCP thread (dp_tcp.h), for connection tcp_conn */
};

/* Where a client query came from: enough to send it its answer later. Written once per miss
 * (dp_client_addr_read for UDP, from the TCP thread's message for TCP), never on a hit. */
struct dp_client_addr {
	struct px_addr peer;       /* the client and its port; TCP: for dnstap only, and family 0
				    * when the TCP thread did not say */
	uint8_t transport;         /* enum dp_client_transport */
	struct rte_ether_addr mac; /* UDP: the frame's source, where the answer goes back */
	uint32_t tcp_conn;         /* TCP: the thread's connection slot */
	uint32_t tcp_conn_gen;     /* TCP: its generation (a closed connection's is stale) */
};
