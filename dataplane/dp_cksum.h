/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internet checksums (RFC 1071) for the fast path. DPDK 22.11's rte_raw_cksum() adds 16 bits
 * per iteration; these add 32-bit words into a 64-bit accumulator, 8 bytes per iteration, which
 * halves the cost of the UDP checksums a DNS answer needs (one verified, one computed). The
 * sum of 32-bit words folds to the same 16-bit one's-complement sum (2^16 = 1 mod 2^16 - 1), in
 * either byte order, so the results are bit-identical to DPDK's; tests/unit/test_pkt.c checks.
 */
#pragma once

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

/* Adds buf's 16-bit words (in memory order, as rte_raw_cksum does) to sum. */
static inline uint64_t
dp_cksum_add(uint64_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		sum += (v & 0xffffffffu) + (v >> 32);
	}
	if (len >= 4) {
		uint32_t v;

		memcpy(&v, p, 4);
		sum += v;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t v;

		memcpy(&v, p, 2);
		sum += v;
		p += 2;
		len -= 2;
	}
	if (len != 0) {
		/* A trailing byte is the first byte of a word padded with zero. */
		uint16_t v = 0;

		memcpy(&v, p, 1);
		sum += v;
	}
	return sum;
}

/* Folds a sum to 16 bits (not complemented). */
static inline uint16_t
dp_cksum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The pseudo-header sums of RFC 768 and RFC 8200 8.1, for l4_len bytes of protocol proto. */
static inline uint64_t
dp_cksum_phdr4(const struct rte_ipv4_hdr *ip, uint16_t l4_len)
{
	return dp_cksum_add(0, &ip->src_addr, 8) + rte_cpu_to_be_16(ip->next_proto_id) +
	       rte_cpu_to_be_16(l4_len);
}

static inline uint64_t
dp_cksum_phdr6(const struct rte_ipv6_hdr *ip, uint16_t l4_len)
{
	return dp_cksum_add(0, ip->src_addr, 32) + rte_cpu_to_be_16(ip->proto) +
	       rte_cpu_to_be_16(l4_len);
}

/* The checksum to store in a UDP/TCP/ICMPv6 header whose own field is zero (0 -> 0xffff, as
 * RFC 768 asks for UDP). */
static inline uint16_t
dp_cksum_l4(uint64_t phdr, const void *l4, uint16_t l4_len)
{
	uint16_t c = (uint16_t)~dp_cksum_fold(dp_cksum_add(phdr, l4, l4_len));

	return c == 0 ? 0xffff : c;
}

/* True if an L4 segment with its checksum field filled in sums correctly. */
static inline bool
dp_cksum_l4_ok(uint64_t phdr, const void *l4, uint16_t l4_len)
{
	return dp_cksum_fold(dp_cksum_add(phdr, l4, l4_len)) == 0xffff;
}

/* The IPv4 header checksum to store (its own field zero), and the check of a received one. */
static inline uint16_t
dp_cksum_ip4(const struct rte_ipv4_hdr *ip)
{
	return (uint16_t)~dp_cksum_fold(dp_cksum_add(0, ip, sizeof(*ip)));
}

static inline bool
dp_cksum_ip4_ok(const struct rte_ipv4_hdr *ip)
{
	return dp_cksum_fold(dp_cksum_add(0, ip, sizeof(*ip))) == 0xffff;
}
