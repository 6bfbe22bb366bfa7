/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The nameserver address policy: which addresses pollux will never send a query to. One
 * implementation, used at every entry point: root hints, referral glue, addresses learned for
 * nameserver names, and once more just before an upstream packet is sent.
 *
 * By default it rejects the addresses no nameserver can have: IPv4 0.0.0.0/8, 127.0.0.0/8,
 * 169.254.0.0/16 (link-local: the cloud metadata service lives there), 224.0.0.0/4,
 * 240.0.0.0/4 (which holds 255.255.255.255); IPv6 ::/128, ::1/128, ::/96 (IPv4-compatible),
 * ::ffff:0:0/96 (IPv4-mapped), fe80::/10 and ff00::/8. Once the control thread has told it
 * (px_addr_policy_set_self4/6), also pollux's own addresses and the broadcast address of its
 * IPv4 subnet: a referral naming those would make pollux query itself or ARP for an address no
 * host answers for, and wait.
 *
 * IPv6 addresses that carry an IPv4 address the traffic ends up at are judged by that IPv4
 * address (the whole IPv4 policy: defaults, own addresses, do-not-query):
 *  - NAT64, 64:ff9b::/96 (RFC 6052): the last 32 bits; e.g. 64:ff9b::7f00:1 is 127.0.0.1.
 *  - The local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215): rejected whole. The translator's
 *    prefix inside it may be a /48, /56, /64 or /96 (RFC 6052 2.2), a local choice nothing in
 *    the address tells, so where the IPv4 address sits is not defined; and no nameserver
 *    publishes an address in a prefix meant for one site's translator.
 *  - 6to4, 2002::/16 (RFC 3056): bits 16-47.
 *  - Teredo, 2001:0::/32 (RFC 4380): the server field, bits 32-63, and the client's public
 *    address, bits 96-127 stored inverted (the "obfuscated" field): a relay forwards the packet
 *    there, so it is checked too, after undoing the inversion.
 * The operator adds netblocks (do-not-query), and a lab may allow loopback nameservers (off by
 * default).
 *
 * A policy is plain data with fixed capacity, built by the control thread at start and read-only
 * afterwards, so workers read it without locks and checking allocates nothing. Thread-agnostic.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <pollux/addr.h>

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
	PX_ADDR_LINK_LOCAL,  /* 169.254.0.0/16, fe80::/10 */
	PX_ADDR_SELF,        /* pollux's own --ip, --ip6 or IPv6 link-local address */
	PX_ADDR_SUBNET_BROADCAST, /* the all-ones (or all-zeros) host of --ip's subnet */
	PX_ADDR_NAT64,       /* 64:ff9b::/96 embedding a rejected IPv4; 64:ff9b:1::/48 */
	PX_ADDR_6TO4,        /* 2002::/16 embedding a rejected IPv4 */
	PX_ADDR_TEREDO,      /* 2001::/32 whose server or client IPv4 is rejected */
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
	/* pollux's own addresses (px_addr_policy_set_self4/6). */
	bool has_self4;
	bool has_bcast4;      /* a subnet of /30 or wider: it has a broadcast address */
	uint8_t self6_count;
	uint32_t self4;       /* host byte order */
	uint32_t subnet4, bcast4; /* the subnet's all-zeros and all-ones hosts, host byte order */
	uint8_t self6[2][16]; /* the global address and the link-local one */
	uint16_t net4_count, net6_count;
	struct px_addr_net4 net4[PX_ADDR_MAX_NETS];
	struct px_addr_net6 net6[PX_ADDR_MAX_NETS];
};

/* The default policy: nothing added, loopback rejected. */
void px_addr_policy_init(struct px_addr_policy *p);

/* pollux's own IPv4 address (network byte order) on a subnet of prefix bits: the address is
 * rejected, and so are the subnet's all-ones (broadcast) and all-zeros hosts when the prefix is
 * 30 or shorter (a /31 or /32 has none, RFC 3021). Control thread, before the policy is used. */
void px_addr_policy_set_self4(struct px_addr_policy *p, uint32_t addr_be, unsigned prefix);

/* One of pollux's own IPv6 addresses (its --ip6, its link-local): rejected from now on. Two at
 * most; -ENOSPC past that, 0 otherwise. Control thread, before the policy is used. */
int px_addr_policy_set_self6(struct px_addr_policy *p, const uint8_t addr[16]);

/* Gives dst the own addresses src was told (set_self4/6), keeping dst's netblocks and
 * allow_loopback: a reloaded policy rejects pollux's addresses as the running one does. */
void px_addr_policy_copy_self(struct px_addr_policy *dst, const struct px_addr_policy *src);

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

/* Checks a by its family (its port is not looked at); an address of neither family is
 * PX_ADDR_UNSPECIFIED. */
enum px_addr_reason px_addr_check(const struct px_addr_policy *p, const struct px_addr *a);

/* True if the first plen bits of a and net (network order, plen bits' worth of bytes each) are
 * equal: an address in a prefix, for either family. */
bool px_addr_prefix_match(const uint8_t *a, const uint8_t *net, unsigned plen);

/* Stable names for logs and counters ("unspecified", "loopback", ...; "hints", "glue", ...). */
const char *px_addr_reason_name(enum px_addr_reason r);
const char *px_addr_entry_name(enum px_addr_entry e);
