/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The nameserver address policy: which addresses pollux will never send a query to. One
 * implementation, used at every entry point: root hints, referral glue, addresses learned for
 * nameserver names, and once more just before an upstream packet is sent.
 *
 * By default it rejects the addresses no nameserver can have: IPv4 0.0.0.0/8, 127.0.0.0/8,
 * 224.0.0.0/4, 240.0.0.0/4 (which holds 255.255.255.255); IPv6 ::/128, ::1/128, ::/96
 * (IPv4-compatible), ::ffff:0:0/96 (IPv4-mapped), fe80::/10 and ff00::/8. The operator adds
 * netblocks (do-not-query), and a lab may allow loopback nameservers (off by default).
 *
 * A policy is plain data with fixed capacity, built by the control thread at start and read-only
 * afterwards, so workers read it without locks and checking allocates nothing. Thread-agnostic.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Why an address was rejected. The order is the order of the checks. */
enum px_addr_reason {
	PX_ADDR_OK = 0,
	PX_ADDR_UNSPECIFIED, /* 0.0.0.0/8, :: */
	PX_ADDR_LOOPBACK,    /* 127.0.0.0/8, ::1 */
	PX_ADDR_BROADCAST,   /* 255.255.255.255 */
	PX_ADDR_MULTICAST,   /* 224.0.0.0/4, ff00::/8 */
	PX_ADDR_RESERVED,    /* 240.0.0.0/4 */
	PX_ADDR_V4MAPPED,    /* ::ffff:0:0/96 */
	PX_ADDR_V4COMPAT,    /* ::/96 */
	PX_ADDR_LINK_LOCAL,  /* fe80::/10 */
	PX_ADDR_DO_NOT_QUERY, /* an operator's netblock */
	PX_ADDR_REASON_COUNT,
};

/* Where an address came from. */
enum px_addr_entry {
	PX_ADDR_AT_HINTS = 0,
	PX_ADDR_AT_GLUE,
	PX_ADDR_AT_NS_ADDR,
	PX_ADDR_AT_SEND,
	PX_ADDR_ENTRY_COUNT,
};

#define PX_ADDR_MAX_NETS 64

struct px_addr_net4 {
	uint32_t net;  /* host byte order, masked */
	uint32_t mask; /* host byte order */
};

struct px_addr_net6 {
	uint8_t net[16]; /* masked */
	uint8_t plen;
};

struct px_addr_policy {
	bool allow_loopback;
	uint16_t net4_count, net6_count;
	struct px_addr_net4 net4[PX_ADDR_MAX_NETS];
	struct px_addr_net6 net6[PX_ADDR_MAX_NETS];
};

/* The default policy: nothing added, loopback rejected. */
void px_addr_policy_init(struct px_addr_policy *p);

/*
 * Adds a do-not-query netblock, "ADDR/LEN" or a bare address (a host route). Returns 0,
 * -EINVAL for a malformed netblock (host bits set count as malformed: say what you mean), or
 * -ENOSPC past PX_ADDR_MAX_NETS per family.
 */
int px_addr_policy_add(struct px_addr_policy *p, const char *cidr);

/* Checks an IPv4 address given in network byte order. */
enum px_addr_reason px_addr_check4(const struct px_addr_policy *p, uint32_t addr_be);

/* Checks an IPv6 address. */
enum px_addr_reason px_addr_check6(const struct px_addr_policy *p, const uint8_t addr[16]);

/* True if the first plen bits of a and net (network order, plen bits' worth of bytes each) are
 * equal: an address in a prefix, for either family. */
bool px_addr_prefix_match(const uint8_t *a, const uint8_t *net, unsigned plen);

/* Stable names for logs and counters ("unspecified", "loopback", ...; "hints", "glue", ...). */
const char *px_addr_reason_name(enum px_addr_reason r);
const char *px_addr_entry_name(enum px_addr_entry e);
