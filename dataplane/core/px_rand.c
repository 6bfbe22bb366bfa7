/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <pollux/rand.h>

static inline uint32_t
rotl32(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

static inline uint32_t
load32_le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void
store32_le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#define QR(a, b, c, d)                                                                             \
	do {                                                                                       \
		a += b;                                                                            \
		d ^= a;                                                                            \
		d = rotl32(d, 16);                                                                 \
		c += d;                                                                            \
		b ^= c;                                                                            \
		b = rotl32(b, 12);                                                                 \
		a += b;                                                                            \
		d ^= a;                                                                            \
		d = rotl32(d, 8);                                                                  \
		c += d;                                                                            \
		b ^= c;                                                                            \
		b = rotl32(b, 7);                                                                  \
	} while (0)

void
dp_chacha20_block(uint8_t out[PX_RAND_BLOCK_LEN], const uint8_t key[PX_RAND_KEY_LEN],
		  uint32_t counter, const uint8_t nonce[12])
{
	uint32_t in[16], x[16];

	/* "expand 32-byte k" */
	in[0] = 0x61707865;
	in[1] = 0x3320646e;
	in[2] = 0x79622d32;
	in[3] = 0x6b206574;
	for (unsigned i = 0; i < 8; i++)
		in[4 + i] = load32_le(key + 4 * i);
	in[12] = counter;
	for (unsigned i = 0; i < 3; i++)
		in[13 + i] = load32_le(nonce + 4 * i);
	memcpy(x, in, sizeof(x));
	for (unsigned i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (unsigned i = 0; i < 16; i++)
		store32_le(out + 4 * i, x[i] + in[i]);
}

/* Wipes memory the compiler must not optimise away: old keys and consumed output. */
static void
wipe(void *p, size_t len)
{
	memset(p, 0, len);
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

/*
 * Runs the block function PX_RAND_BLOCKS times under the current key, then takes the first 32
 * bytes of the output as the next key and erases them from the buffer. Every refill has a fresh
 * key, so block counters may start again at zero and the nonce can stay zero.
 */
static void
refill(struct px_rand *r)
{
	static const uint8_t nonce[12];

	for (uint32_t i = 0; i < PX_RAND_BLOCKS; i++)
		dp_chacha20_block(r->buf + i * PX_RAND_BLOCK_LEN, r->key, i, nonce);
	memcpy(r->key, r->buf, PX_RAND_KEY_LEN);
	wipe(r->buf, PX_RAND_KEY_LEN);
	r->pos = PX_RAND_KEY_LEN;
}

void
px_rand_init_seed(struct px_rand *r, const uint8_t seed[PX_RAND_KEY_LEN])
{
	memset(r, 0, sizeof(*r));
	memcpy(r->key, seed, PX_RAND_KEY_LEN);
	r->pos = PX_RAND_BUF_LEN;
}

/* Reads exactly len bytes from getrandom(2), retrying on EINTR and short reads. */
static int
kernel_random(uint8_t *dst, size_t len, unsigned flags)
{
	while (len > 0) {
		ssize_t n = getrandom(dst, len, flags);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		dst += n;
		len -= (size_t)n;
	}
	return 0;
}

int
px_rand_init(struct px_rand *r)
{
	uint8_t seed[PX_RAND_KEY_LEN];
	int rc = kernel_random(seed, sizeof(seed), 0);

	if (rc < 0)
		return rc;
	px_rand_init_seed(r, seed);
	wipe(seed, sizeof(seed));
	return 0;
}

int
px_rand_maintain(struct px_rand *r, bool force)
{
	uint8_t seed[PX_RAND_KEY_LEN];
	int rc;

	if (!force && r->since_seed < PX_RAND_RESEED_OUTPUTS)
		return 0;
	rc = kernel_random(seed, sizeof(seed), GRND_NONBLOCK);
	if (rc < 0) {
		r->reseed_failures++;
		/* Try again only after another full period, not on every burst. */
		r->since_seed = 0;
		return rc;
	}
	/* XOR rather than replace: the new key is at least as unpredictable as either half. The
	 * unread output was made under the old key, so drop it. */
	for (unsigned i = 0; i < PX_RAND_KEY_LEN; i++)
		r->key[i] ^= seed[i];
	wipe(seed, sizeof(seed));
	wipe(r->buf, sizeof(r->buf));
	r->pos = PX_RAND_BUF_LEN;
	r->since_seed = 0;
	r->reseeds++;
	return 1;
}

void
px_rand_bytes(struct px_rand *r, void *dst, size_t len)
{
	uint8_t *d = dst;

	r->since_seed += (len + 3) / 4;
	while (len > 0) {
		size_t n;

		if (r->pos >= PX_RAND_BUF_LEN)
			refill(r);
		n = PX_RAND_BUF_LEN - r->pos;
		if (n > len)
			n = len;
		memcpy(d, r->buf + r->pos, n);
		wipe(r->buf + r->pos, n);
		r->pos += (uint32_t)n;
		d += n;
		len -= n;
	}
}

uint32_t
px_rand_u32(struct px_rand *r)
{
	uint32_t v;

	/* The buffer holds a whole number of 4-byte words past the key, and every consumer but
	 * px_rand_bytes() takes 4 at a time: realign rather than straddle a refill. */
	if (r->pos > PX_RAND_BUF_LEN - 4)
		refill(r);
	memcpy(&v, r->buf + r->pos, 4);
	memset(r->buf + r->pos, 0, 4);
	r->pos += 4;
	r->since_seed++;
	return v;
}

uint32_t
px_rand_uniform(struct px_rand *r, uint32_t bound)
{
	uint64_t m;
	uint32_t low;

	if (bound <= 1)
		return 0;
	m = (uint64_t)px_rand_u32(r) * bound;
	low = (uint32_t)m;
	if (low < bound) {
		/* 2^32 mod bound: the number of low values that would over-represent some results.
		 */
		uint32_t threshold = (uint32_t)-bound % bound;

		while (low < threshold) {
			m = (uint64_t)px_rand_u32(r) * bound;
			low = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}
