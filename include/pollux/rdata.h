/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The layout of record data, for the types whose rdata holds domain names (RFC 3597 4: NS, MD,
 * MF, CNAME, SOA, MB, MG, MR, PTR, MINFO, MX, RP, AFSDB, RT, SIG, PX, NXT, NAPTR, SRV; and
 * KX, DNAME, RRSIG, NSEC, SVCB, HTTPS). A reply's records are checked against it
 * (px_reply.c: a record that does not match is a malformed reply), and a record kept from a
 * reply (cache, client answer) is copied with it (px_resolver.c): every name in the rdata is
 * written out whole, letters as sent, since a compression pointer means nothing outside the
 * message it came in. Some of those types forbid compression (SRV since RFC 2782, KX, DNAME,
 * RRSIG, NSEC, SVCB): expanding a name that has no pointer copies it unchanged, and a sender
 * that compressed one anyway gets its record kept intact rather than corrupted.
 *
 * Every other type is opaque: copied byte for byte, any length.
 *
 * Pure code, no DPDK; any thread.
 */
#pragma once

#include <stdint.h>

enum px_rdata_check {
	PX_RDATA_OK = 0,
	PX_RDATA_BAD_NAME,  /* a name in it cannot be read (loop, label type, too long) */
	PX_RDATA_BAD_SHAPE, /* fields that do not fill rdlen exactly, a name running past it */
};

/*
 * The layout of type's rdata, or NULL for an opaque type. A string of fields read left to
 * right: a decimal number is that many fixed bytes, 'N' a domain name, 'S' a character-string
 * (a length byte and as many bytes), 'R' the rest (any length, last). The fields must fill the
 * rdata exactly: SOA is "NN20", MX "2N", SRV "6N", NAPTR "4SSSN", RRSIG "18NR".
 */
const char *px_rdata_shape(uint16_t type);

/* Checks the rdata of a record of `type` at msg[off, off + rdlen) (msg is the whole message of
 * len bytes, for compression pointers; off + rdlen <= len) against its layout. */
enum px_rdata_check px_rdata_check(const uint8_t *msg, uint16_t len, uint16_t type, uint16_t off,
				   uint16_t rdlen);

/*
 * Copies that rdata to dst (cap bytes) with every name in it uncompressed. Returns the bytes
 * written (the new rdlen, up to 255 more per name than rdlen), or -1 when it does not fit in
 * cap or does not match its layout (dst is then partly written).
 */
int px_rdata_copy(uint8_t *dst, unsigned cap, const uint8_t *msg, uint16_t len, uint16_t type,
		  uint16_t off, uint16_t rdlen);
