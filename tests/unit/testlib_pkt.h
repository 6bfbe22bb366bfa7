/* SPDX-License-Identifier: BSD-3-Clause */
/* Frame builders for the packet-path tests and the benchmarks: well-formed frames with valid
 * checksums, which a test then breaks on purpose where it needs to. */
#pragma once

#include <stdint.h>

struct px_test_hosts {
	uint8_t client_mac[6], server_mac[6];
	uint32_t client_ip4, server_ip4; /* network byte order */
	uint8_t client_ip6[16], server_ip6[16];
};

/* The addresses every packet test uses: client 198.18.0.1 / 2001:2::1, server 198.18.0.2 /
 * 2001:2::2, MACs 02:00:00:00:00:01 (client) and 02:00:00:00:00:02 (server). */
extern const struct px_test_hosts px_test_hosts;

/* Each builder writes a whole Ethernet frame into buf and returns its length. */
uint16_t px_test_frame_udp4(uint8_t *buf, const struct px_test_hosts *h, uint16_t sport,
			    uint16_t dport, const uint8_t *payload, uint16_t plen);
uint16_t px_test_frame_udp6(uint8_t *buf, const struct px_test_hosts *h, uint16_t sport,
			    uint16_t dport, const uint8_t *payload, uint16_t plen);
uint16_t px_test_frame_arp_request(uint8_t *buf, const struct px_test_hosts *h, uint32_t target);
uint16_t px_test_frame_icmp4_echo(uint8_t *buf, const struct px_test_hosts *h, uint16_t seq);
uint16_t px_test_frame_icmp6_echo(uint8_t *buf, const struct px_test_hosts *h, uint16_t seq);
/* A neighbour solicitation from the client for target, sent to target's solicited-node
 * multicast group. */
uint16_t px_test_frame_ns(uint8_t *buf, const struct px_test_hosts *h, const uint8_t *target);
