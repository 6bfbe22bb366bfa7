/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS wire-format constants shared by the data plane, the control thread, the tests and the
 * benchmarks. Plain C: no DPDK or ldns types, so that every user can include it alone.
 */
#pragma once

#include <stdint.h>

#define PX_DNS_PORT 53
#define PX_DNS_HDR_LEN 12
#define PX_DNS_MAX_NAME 255  /* RFC 1035 2.3.4, wire form including the root label */
#define PX_DNS_NAME_BUF (PX_DNS_MAX_NAME + 8) /* a name buffer with room for 8-byte stores */
#define PX_DNS_MAX_LABEL 63
#define PX_DNS_UDP_MIN 512   /* what every client can take (RFC 1035 4.2.1) */
#define PX_DNS_EDNS_BUFSIZE 1232 /* what pollux advertises and sends at most (DNS flag day 2020) */
#define PX_DNS_OPT_LEN 11    /* an OPT RR with an empty rdata */
#define PX_DNS_PTR_HOPS 32   /* compression pointers followed per name before giving up */
#define PX_DNS_QNAME_PTR 0xc00c /* a compression pointer to the question name */

/* Extended DNS Errors (RFC 8914): the EDNS option, and the INFO-CODEs pollux sends. */
#define PX_DNS_OPT_EDE 15
#define PX_DNS_EDE_TEXT_MAX 64 /* EXTRA-TEXT pollux writes, at most */
enum px_dns_ede {
	PX_DNS_EDE_OTHER = 0,
	PX_DNS_EDE_NO_REACHABLE_AUTHORITY = 22,
	PX_DNS_EDE_NETWORK_ERROR = 23,
};

/* An extended error to attach to an answer: INFO-CODE and EXTRA-TEXT (NUL-terminated; empty
 * for none; cut at PX_DNS_EDE_TEXT_MAX bytes). */
struct px_dns_ede_info {
	uint16_t code;
	const char *text;
};

/* Header flags, in the second 16-bit word of the header, host order. */
#define PX_DNS_QR 0x8000
#define PX_DNS_OPCODE_MASK 0x7800
#define PX_DNS_OPCODE_SHIFT 11
#define PX_DNS_AA 0x0400
#define PX_DNS_TC 0x0200
#define PX_DNS_RD 0x0100
#define PX_DNS_RA 0x0080
#define PX_DNS_AD 0x0020
#define PX_DNS_CD 0x0010
#define PX_DNS_RCODE_MASK 0x000f

enum px_dns_opcode {
	PX_DNS_OPCODE_QUERY = 0,
};

enum px_dns_rcode {
	PX_DNS_RCODE_NOERROR = 0,
	PX_DNS_RCODE_FORMERR = 1,
	PX_DNS_RCODE_SERVFAIL = 2,
	PX_DNS_RCODE_NXDOMAIN = 3,
	PX_DNS_RCODE_NOTIMP = 4,
	PX_DNS_RCODE_REFUSED = 5,
	PX_DNS_RCODE_BADVERS = 16, /* extended: upper 8 bits live in the OPT TTL */
};

enum px_dns_type {
	PX_DNS_TYPE_A = 1,
	PX_DNS_TYPE_NS = 2,
	PX_DNS_TYPE_CNAME = 5,
	PX_DNS_TYPE_SOA = 6,
	PX_DNS_TYPE_PTR = 12,
	PX_DNS_TYPE_MX = 15,
	PX_DNS_TYPE_TXT = 16,
	PX_DNS_TYPE_AAAA = 28,
	PX_DNS_TYPE_OPT = 41,
	PX_DNS_TYPE_DS = 43,
	PX_DNS_TYPE_IXFR = 251,
	PX_DNS_TYPE_AXFR = 252,
	PX_DNS_TYPE_MAILB = 253,
	PX_DNS_TYPE_MAILA = 254,
	PX_DNS_TYPE_ANY = 255,
};

enum px_dns_class {
	PX_DNS_CLASS_IN = 1,
	PX_DNS_CLASS_CH = 3,
	PX_DNS_CLASS_ANY = 255,
};

#define PX_DNS_EDNS_DO 0x8000 /* in the low 16 bits of the OPT TTL */

/* Unaligned big-endian helpers: DNS fields sit at any byte offset. */
static inline uint16_t
px_get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
px_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
px_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
px_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ASCII-only lower casing of 8 bytes at once: 0x20 is set in each byte in 'A'..'Z' and no
 * other (bytes with the high bit set are left alone). */
static inline uint64_t
px_lower8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t low7 = x & (0x7f * ones);
	uint64_t ge_a = low7 + (0x80 - 'A') * ones;     /* high bit: byte >= 'A' */
	uint64_t gt_z = low7 + (0x80 - 'Z' - 1) * ones; /* high bit: byte > 'Z' */
	uint64_t upper = (ge_a ^ gt_z) & ~x & (0x80 * ones);

	return x | upper >> 2;
}

/* ASCII-only lower casing, as DNS names compare (RFC 4343). */
static inline uint8_t
px_lower(uint8_t c)
{
	return (uint8_t)((unsigned)c - 'A' < 26u ? c + ('a' - 'A') : c);
}
