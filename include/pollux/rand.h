/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A cryptographic-quality random generator, one per worker: ChaCha20 (RFC 8439) in the
 * fast-key-erasure construction (D. J. Bernstein, "Fast-key-erasure random-number generators",
 * 2017; OpenBSD's arc4random works the same way).
 *
 * Why not rte_rand(): it is a linear generator (LFSR258) whose whole state can be recovered from
 * a few outputs, so an off-path attacker who sees some of our source ports or IDs could predict
 * the next ones, which is exactly what RFC 5452 randomisation must prevent.
 *
 * How it works: each refill runs the ChaCha20 block function PX_RAND_BLOCKS times under the
 * current key. The first 32 bytes of that output become the next key at once, and the old key is
 * overwritten, so a later compromise of the state reveals nothing already produced (forward
 * secrecy). Every byte handed out is zeroed in the buffer as it is consumed. The key comes from
 * getrandom(2) at init, and the worker mixes fresh getrandom(2) output into it every
 * PX_RAND_RESEED_OUTPUTS outputs through px_rand_maintain(), which it calls between bursts:
 * nothing on the per-packet path makes a system call.
 *
 * Plain data, no allocation, no locks: each worker owns its generator and is its only user.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PX_RAND_KEY_LEN 32
#define PX_RAND_BLOCK_LEN 64
#define PX_RAND_BLOCKS 16 /* blocks per refill: 1 KiB, of which 32 bytes become the next key */
#define PX_RAND_BUF_LEN (PX_RAND_BLOCKS * PX_RAND_BLOCK_LEN)
/* px_rand_maintain() re-seeds from the kernel after this many px_rand_u32()-sized outputs. */
#define PX_RAND_RESEED_OUTPUTS (1u << 20)

struct px_rand {
	uint8_t key[PX_RAND_KEY_LEN];
	uint8_t buf[PX_RAND_BUF_LEN];
	uint32_t pos;		  /* next unread byte of buf; PX_RAND_BUF_LEN when empty */
	uint64_t since_seed;	  /* outputs (4-byte units) since the last (re)seed */
	uint64_t reseeds;	  /* successful re-seeds from getrandom */
	uint64_t reseed_failures; /* getrandom failed; the generator carried on with its key */
};

/*
 * The RFC 8439 2.3 ChaCha20 block function: writes the 64-byte serialised block for key,
 * block counter and nonce. Exposed for the test vector. Any thread.
 */
void dp_chacha20_block(uint8_t out[PX_RAND_BLOCK_LEN], const uint8_t key[PX_RAND_KEY_LEN],
		       uint32_t counter, const uint8_t nonce[12]);

/*
 * Keys r from getrandom(2). May block only if the kernel's pool has never been initialised
 * (early boot); call it on the control thread or at worker start, never per packet. Returns 0,
 * or -errno from getrandom (r is then unusable).
 */
int px_rand_init(struct px_rand *r);

/*
 * Keys r from a caller's seed instead of the kernel: the same seed gives the same stream. For
 * benchmarks and reproducible tests only; a resolver must use px_rand_init(). Any thread.
 */
void px_rand_init_seed(struct px_rand *r, const uint8_t seed[PX_RAND_KEY_LEN]);

/*
 * Mixes fresh getrandom(2) output into the key if PX_RAND_RESEED_OUTPUTS outputs were drawn since
 * the last seed (or always, with force). Never blocks (GRND_NONBLOCK). Returns 1 if it re-seeded,
 * 0 if it was not due, or -errno if getrandom failed: the generator stays secure on its own key
 * and the failure is counted in reseed_failures. The owning worker, between bursts.
 */
int px_rand_maintain(struct px_rand *r, bool force);

/* Fills dst with len random bytes. The owning worker. */
void px_rand_bytes(struct px_rand *r, void *dst, size_t len);

/* A uniformly random 32-bit value. The owning worker. */
uint32_t px_rand_u32(struct px_rand *r);

/*
 * A uniformly random value in [0, bound), without modulo bias (D. Lemire, "Fast random integer
 * generation in an interval", 2019: one multiplication, a division only on the rare rejection
 * path). Returns 0 when bound is 0 or 1. The owning worker.
 */
uint32_t px_rand_uniform(struct px_rand *r, uint32_t bound);
