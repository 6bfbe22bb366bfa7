/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Who asked a client query: what the answer path, the miss path and the TCP path all keep to
 * send it its answer later. Its own header, below all three, so that none of them includes
 * another only for this type. Worker only.
 */
#pragma once

#include <stdint.h>

#include <rte_ether.h>

/* dp_client_addr.family of a client that asked over TCP (dp_tcp.h): its answer goes back to
 * the TCP thread; addr holds the connection tag (struct dp_tcp_client), mac is unused, and
 * tcp_family, tcp_addr and port_be say who the peer is (for dnstap only). */
#define DP_CLIENT_TCP 't'

/* Where a client query came from: enough to send it its answer later. */
struct dp_client_addr {
	uint8_t family;            /* 4 or 6, or DP_CLIENT_TCP */
	uint16_t port_be;          /* the client's UDP port, network order */
	uint8_t addr[16];          /* IPv4 in the first 4 bytes, network order */
	struct rte_ether_addr mac; /* the frame's source: where the answer goes back */
	uint8_t tcp_family;        /* DP_CLIENT_TCP: the peer's family (4 or 6), else unused */
	uint8_t tcp_addr[16];      /* DP_CLIENT_TCP: the peer's address, else unused */
};
