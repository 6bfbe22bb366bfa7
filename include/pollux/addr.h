/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one IP address type of pollux: an address family, 16 bytes of address and a port. The
 * resolver, upstream matching, the neighbour table, the TCP path, the client slots and the root
 * hints all hold addresses as struct px_addr, so an address moves between them by assignment
 * and is compared one way everywhere.
 *
 * - family is PX_AF_INET (4) or PX_AF_INET6 (6); 0 means no address (a free table entry).
 * - a: IPv4 sits in a[0..3] in network byte order and a[4..15] are zero, so an address set
 *   with the helpers below compares equal byte for byte; IPv6 fills all 16 bytes.
 * - port is in HOST byte order, everywhere, and 0 where the holder has no port (a neighbour,
 *   a root hint, a server's RTT entry). Code that puts a port on the wire converts it there.
 *
 * It is 20 bytes with 2-byte alignment, on purpose: it sits inside structures whose size is the
 * cost (an outstanding upstream query, a neighbour entry that must stay within its cache line,
 * the TCP thread's mbuf private area, the client slots, the hints table), and it is copied on
 * every miss. A sockaddr_storage (128 bytes) or an 8-byte aligned union would double or
 * quadruple those.
 *
 * Pure code: no DPDK, no allocation. Any thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum px_addr_family {
	PX_AF_NONE = 0,
	PX_AF_INET = 4,
	PX_AF_INET6 = 6,
};

struct px_addr {
	uint8_t family; /* enum px_addr_family */
	uint8_t zero;   /* always 0: keeps the struct free of padding, so it hashes and compares whole */
	uint16_t port;  /* host order; 0 where no port applies */
	uint8_t a[16];  /* IPv4 in a[0..3], network order, the rest zero */
};

_Static_assert(sizeof(struct px_addr) == 20, "struct px_addr must stay 20 bytes");
_Static_assert(_Alignof(struct px_addr) == 2, "struct px_addr must stay 2-byte aligned");

/* The address bytes the family uses: 4, 16, or 0 for no family. */
static inline unsigned
px_addr_len(uint8_t family)
{
	return family == PX_AF_INET ? 4 : family == PX_AF_INET6 ? 16 : 0;
}

/* dst becomes the IPv4 address addr_be (network order) with port (host order). */
static inline void
px_addr_set4(struct px_addr *dst, uint32_t addr_be, uint16_t port)
{
	memset(dst, 0, sizeof(*dst));
	dst->family = PX_AF_INET;
	dst->port = port;
	memcpy(dst->a, &addr_be, 4);
}

/* dst becomes the IPv6 address addr with port (host order). */
static inline void
px_addr_set6(struct px_addr *dst, const uint8_t addr[16], uint16_t port)
{
	dst->family = PX_AF_INET6;
	dst->zero = 0;
	dst->port = port;
	memcpy(dst->a, addr, 16);
}

/* dst becomes family's address from the bytes at addr (4 or 16 of them) with port; a family
 * other than 4 or 6 leaves dst empty (family 0). */
static inline void
px_addr_set(struct px_addr *dst, uint8_t family, const uint8_t *addr, uint16_t port)
{
	memset(dst, 0, sizeof(*dst));
	if (family != PX_AF_INET && family != PX_AF_INET6)
		return;
	dst->family = family;
	dst->port = port;
	memcpy(dst->a, addr, px_addr_len(family));
}

/* The IPv4 address of x (family 4) in network order. */
static inline uint32_t
px_addr_v4(const struct px_addr *x)
{
	uint32_t v;

	memcpy(&v, x->a, 4);
	return v;
}

/* True if x and y are the same family and address; ports are not compared. Only the family's
 * bytes are compared, so an IPv4 address with stray bytes past the fourth still matches. An
 * address of no family (a zeroed one: nothing was set) equals nothing, itself included. */
static inline bool
px_addr_eq(const struct px_addr *x, const struct px_addr *y)
{
	return x->family == y->family && x->family != 0 &&
	       memcmp(x->a, y->a, px_addr_len(x->family)) == 0;
}

/* True if x and y are the same family, address and port. */
static inline bool
px_addr_eq_port(const struct px_addr *x, const struct px_addr *y)
{
	return x->port == y->port && px_addr_eq(x, y);
}
