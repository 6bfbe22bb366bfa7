/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fair share of a worker's resolver for every client: how many client slots (pending cache
 * misses, dp_miss.h) each client holds, so that one client can be held to a cap and a
 * flood from one address cannot fill the resolver and starve everybody else.
 *
 * A client is an IPv4 address, an IPv6 prefix (the first prefix6 bits: one subscriber is
 * usually given a /56 or a /48, and holds every address in it), or a TCP connection (the worker
 * does not see a TCP client's address; the TCP thread bounds connections per source).
 *
 * Shape: a fixed open-addressing table with linear probing, sized at init to a power of two at
 * least twice the number of client slots. Every entry in use has a count of at least 1, so at
 * most `slots` entries are ever in use and the load stays at or below one half. The home
 * bucket of a key is SipHash-1-3 under a secret key drawn at start (px_rand), so nobody outside
 * can aim clients at one run of buckets. A probe looks at most PX_SHARE_PROBE buckets; a key
 * whose run is longer than that (a pure accident at this load, and one an attacker cannot
 * arrange) is admitted without being counted (PX_SHARE_UNCOUNTED): refusing it would punish an
 * innocent client for the table's bad luck, and the global slot limit and the jostle still
 * bound what it can hold. An entry whose count falls to zero is removed with backward shift
 * deletion, so there are no tombstones and the probe runs never grow with churn.
 *
 * Pure code: no DPDK, no allocation after init, nothing shared. Worker only, except
 * px_share_memsize() and px_share_init() (any thread, before the worker runs).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pollux/siphash.h>

/* Buckets looked at per probe. */
#define PX_SHARE_PROBE 32
#define PX_SHARE_MAX_SLOTS (1u << 22)
/* The IPv6 prefix a client is counted by unless configured otherwise. */
#define PX_SHARE_DEFAULT_PREFIX6 56

struct px_share_entry {
	uint8_t addr[16]; /* masked: IPv4 in the first 4 bytes, the rest zero */
	uint8_t family;   /* 0: free; else the client's family (4, 6, or a TCP tag's) */
	uint32_t home;    /* the bucket the key hashes to, for the backward shift */
	uint32_t count;   /* client slots this client holds, at least 1 while in use */
};

struct px_share {
	struct px_siphash_key key;
	uint32_t cap;      /* client slots one client may hold; 0: no cap (counted anyway) */
	uint32_t mask;     /* buckets - 1 */
	uint8_t prefix6;   /* IPv6 clients are counted by this prefix */
	uint32_t clients;  /* entries in use */
	uint64_t held;     /* sum of the counts: client slots counted */
	struct px_share_entry *bucket;
};

enum px_share_verdict {
	PX_SHARE_TAKEN = 0,  /* counted: give it back with px_share_put() */
	PX_SHARE_CAPPED,     /* the client holds its cap already: nothing counted */
	PX_SHARE_UNCOUNTED,  /* admitted, not counted: its probe run was full (see above) */
};

/* Bytes a table for `slots` client slots needs, or 0 if slots is 0 or over
 * PX_SHARE_MAX_SLOTS. Any thread. */
size_t px_share_memsize(uint32_t slots);

/*
 * Builds an empty table for `slots` client slots in mem (px_share_memsize(slots) bytes, 8-byte
 * aligned, owned by the caller): at most cap slots per client (0: no cap), IPv6 clients
 * counted by their first prefix6 bits (1-128), hashed under the 16 secret bytes of key.
 * Returns the table (at mem), or NULL with errno EINVAL. Any thread; afterwards it belongs to
 * one worker.
 */
struct px_share *px_share_init(void *mem, uint32_t slots, uint32_t cap, uint8_t prefix6,
			       const uint8_t key[PX_SIPHASH_KEY_LEN]);

/*
 * One more client slot for the client (family 4: addr holds 4 bytes; 6: 16 bytes, masked here
 * to the prefix; any other family: 16 bytes taken as they are, e.g. a TCP connection's tag).
 * Returns PX_SHARE_TAKEN (count it back with px_share_put with the same family and addr),
 * PX_SHARE_CAPPED, or PX_SHARE_UNCOUNTED (also for family 0, which marks a free bucket).
 */
enum px_share_verdict px_share_take(struct px_share *t, uint8_t family, const uint8_t *addr);

/* Gives back one slot taken with PX_SHARE_TAKEN. Returns 0, or -ENOENT if the client holds
 * none (a caller bug: nothing changes). */
int px_share_put(struct px_share *t, uint8_t family, const uint8_t *addr);

/* Slots the client holds now (for tests and telemetry). */
uint32_t px_share_count(const struct px_share *t, uint8_t family, const uint8_t *addr);
