/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SipHash (Aumasson and Bernstein, 2012): a keyed hash for tables whose keys an attacker chooses
 * (cache names, in-flight questions, client addresses). With a secret key drawn at start, nobody
 * outside can compute which keys share a bucket, so nobody can aim queries at one.
 *
 * px_siphash13() is SipHash-1-3 (one compression round per 8-byte word, three finalisation
 * rounds): the variant Rust's and Python's hash tables use, where hash flooding is the threat
 * rather than forgery of a MAC. px_siphash24() is the original, kept because it is the one with
 * published test vectors: both share every line but the round counts.
 *
 * Header-only and DPDK-free: the hit path inlines it. Thread-agnostic; the key is read-only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pollux/wire.h>

#define PX_SIPHASH_KEY_LEN 16

struct px_siphash_key {
	uint64_t k0, k1;
};

static inline uint64_t
px_sip_rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t
px_sip_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* The last left (< 8) bytes of data[0, len), as a little-endian word. With 8 bytes or more
 * before the end, one load of the last 8 and a shift, not a loop; the bytes read are all in
 * data. */
static inline uint64_t
px_sip_last(const uint8_t *data, size_t len, size_t left)
{
	uint64_t m = 0;

	if (left == 0)
		return 0;
	if (len >= 8)
		return px_sip_le64(data + len - 8) >> (8 * (8 - left));
	for (size_t i = 0; i < left; i++)
		m |= (uint64_t)data[len - left + i] << (8 * i);
	return m;
}

#define PX_SIPROUND(v0, v1, v2, v3) \
	do { \
		v0 += v1; v1 = px_sip_rotl(v1, 13); v1 ^= v0; v0 = px_sip_rotl(v0, 32); \
		v2 += v3; v3 = px_sip_rotl(v3, 16); v3 ^= v2; \
		v0 += v3; v3 = px_sip_rotl(v3, 21); v3 ^= v0; \
		v2 += v1; v1 = px_sip_rotl(v1, 17); v1 ^= v2; v2 = px_sip_rotl(v2, 32); \
	} while (0)

static inline uint64_t
px_siphash_cd(const struct px_siphash_key *key, const void *data, size_t len, unsigned c,
	      unsigned d)
{
	const uint8_t *p = data;
	uint64_t v0 = 0x736f6d6570736575ull ^ key->k0;
	uint64_t v1 = 0x646f72616e646f6dull ^ key->k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ key->k0;
	uint64_t v3 = 0x7465646279746573ull ^ key->k1;
	uint64_t m, b = (uint64_t)len << 56;
	size_t left = len & 7;
	const uint8_t *end = p + (len - left);

	for (; p != end; p += 8) {
		m = px_sip_le64(p);
		v3 ^= m;
		for (unsigned i = 0; i < c; i++)
			PX_SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	b |= px_sip_last(data, len, left);
	v3 ^= b;
	for (unsigned i = 0; i < c; i++)
		PX_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (unsigned i = 0; i < d; i++)
		PX_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* SipHash-1-3's end: the final block m (the message's last bytes with its length in the top
 * byte) through one compression round, then the three finalisation rounds. For hashes written
 * out for a fixed message shape; any thread. */
static inline uint64_t
px_siphash13_final(uint64_t v0, uint64_t v1, uint64_t v2, uint64_t v3, uint64_t m)
{
	v3 ^= m;
	PX_SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	v2 ^= 0xff;
	PX_SIPROUND(v0, v1, v2, v3);
	PX_SIPROUND(v0, v1, v2, v3);
	PX_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* SipHash-1-3 of len bytes at data under key. Any thread. */
static inline uint64_t
px_siphash13(const struct px_siphash_key *key, const void *data, size_t len)
{
	return px_siphash_cd(key, data, len, 1, 3);
}

/* SipHash-2-4 of len bytes at data under key. Any thread. */
static inline uint64_t
px_siphash24(const struct px_siphash_key *key, const void *data, size_t len)
{
	return px_siphash_cd(key, data, len, 2, 4);
}

/*
 * SipHash-1-3 of len bytes at data followed by the 8 bytes of tail (little-endian): the same value
 * as px_siphash13() over the two concatenated, without copying them together. For table keys made
 * of a name and a few small fields (type, class, kind) packed into tail. Any thread.
 */
static inline uint64_t
px_siphash13_tail(const struct px_siphash_key *key, const void *data, size_t len, uint64_t tail)
{
	const uint8_t *p = data;
	uint64_t v0 = 0x736f6d6570736575ull ^ key->k0;
	uint64_t v1 = 0x646f72616e646f6dull ^ key->k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ key->k0;
	uint64_t v3 = 0x7465646279746573ull ^ key->k1;
	size_t left = len & 7;
	const uint8_t *end = p + (len - left);
	uint64_t m, b = (uint64_t)(len + 8) << 56;

	for (; p != end; p += 8) {
		m = px_sip_le64(p);
		v3 ^= m;
		PX_SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	/* The data's last bytes and the first of tail make one word; the rest of tail goes
	 * into the final block with the length, where the data's last bytes would have been. */
	m = px_sip_last(data, len, left);
	if (left != 0) {
		m |= tail << (8 * left);
		b |= tail >> (64 - 8 * left);
	} else {
		m = tail;
	}
	v3 ^= m;
	PX_SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	return px_siphash13_final(v0, v1, v2, v3, b);
}

/* Builds a key from 16 bytes (little-endian halves, as the reference implementation reads
 * them), e.g. drawn from px_rand at start. */
static inline struct px_siphash_key
px_siphash_key_from(const uint8_t bytes[PX_SIPHASH_KEY_LEN])
{
	struct px_siphash_key k = {px_sip_le64(bytes), px_sip_le64(bytes + 8)};

	return k;
}

/*
 * The keyed hash of a DNS question: SipHash-1-3 of the qname without case (its bytes, lower-cased
 * 8 at a time), with the type and class as the tail word. The resolver's and the upstream table's
 * question indexes both use it: questions come from clients and names from servers, so an unkeyed
 * hash would let anyone build names that chain in one bucket. Any thread.
 */
static inline uint64_t
px_siphash13_question(const struct px_siphash_key *key, const uint8_t *qname, unsigned len,
		      uint16_t qtype, uint16_t qclass)
{
	uint8_t lc[PX_DNS_NAME_BUF];

	/* A name is at most 255 bytes; the buffer has room for the last word's overrun. */
	for (unsigned i = 0; i < len; i += 8) {
		uint64_t v = 0;

		memcpy(&v, qname + i, len - i < 8 ? len - i : 8);
		v = px_lower8(v);
		memcpy(lc + i, &v, 8);
	}
	return px_siphash13_tail(key, lc, len, (uint64_t)qtype | (uint64_t)qclass << 16);
}
