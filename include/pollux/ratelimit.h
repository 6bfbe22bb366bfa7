/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-client query rate limiting: a token bucket per client address (IPv4 per /32 by default,
 * IPv6 per /56), in a fixed-size table each worker owns.
 *
 * The table is set-associative: a keyed SipHash-1-3 of the client's prefix picks a set of
 * PX_RL_WAYS buckets (one cache line) and a 31-bit tag inside it. The key is drawn at start,
 * so an attacker cannot aim many addresses at one set. When a new client finds its set full,
 * the bucket evicted is the one holding the most tokens once refilled: a full bucket carries
 * no memory a fresh one would not, so an idle client is forgotten first and a client being
 * limited (an empty bucket) is forgotten last. Two clients whose keyed hashes agree on set and
 * tag share a bucket; with a random key that is chance, about 2^-31 per pair within a set.
 * A memo in front of the table (struct px_rl_memo) keeps IPv4 clients that keep asking off
 * the hash and off their bucket's line.
 *
 * Tokens are counted in thousandths of a query, so a rate of N queries a second refills N
 * thousandths a millisecond exactly. Pure code: no DPDK, no allocation; one writer per table.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pollux/siphash.h>

#define PX_RL_WAYS 4
#define unlikely_rl(x) __builtin_expect(!!(x), 0)
#define PX_RL_MAX_RATE 1000000
#define PX_RL_MAX_SIZE 16777216

/* What the control thread decides; published with the access table (dp_access.h). */
struct px_rl_params {
	uint32_t rate;      /* queries a second per client; 0: off */
	uint32_t burst;     /* bucket depth in queries (>= 1 when rate is set) */
	uint32_t slip;      /* every slip-th limited query gets a TC answer; 0: never */
	uint8_t v4_prefix;  /* IPv4 clients are aggregated per this prefix, 1-32 */
	uint8_t v6_prefix;  /* IPv6 clients per this prefix, 1-128 */
};

struct px_rl_bucket {
	uint32_t tag;     /* 0: free */
	uint32_t last_ms; /* when tokens were last refilled (wraps after 49 days: harmless) */
	uint32_t tokens;  /* thousandths of a query */
	uint16_t limited; /* limited queries since the last slip, < slip */
	uint16_t memo;    /* 1 + the memo entry holding this bucket's live state; 0: none */
};

/*
 * A recently seen IPv4 client and the live state of its bucket, so that a client that keeps
 * asking is served from this one line: no hash (about 20 cycles), and no read of its bucket's
 * line. While an entry holds a bucket (bucket.memo names the entry), the entry's tokens and
 * last_ms are the truth and the bucket's are stale; the state goes back to the bucket when
 * the entry is reused for another client, or when the bucket is read any other way (an IPv6
 * client, or a second IPv4 prefix, whose keyed hashes agree on set and tag). When a bucket is
 * given to another client, the entry holding it is emptied. The memo is indexed by an unkeyed
 * hash of the prefix: an attacker can make entries collide, which costs only the hash again.
 */
struct px_rl_memo {
	uint32_t addr;    /* the masked prefix, as SipHash reads it */
	uint32_t idx;     /* 1 + the bucket; 0: empty */
	uint32_t last_ms; /* the bucket's live state */
	uint32_t tokens;
};

#define PX_RL_MEMO_BITS 11
_Static_assert(PX_RL_MEMO_BITS < 16, "px_rl_bucket.memo holds 1 + a memo index in 16 bits");

struct px_rl_table {
	struct px_siphash_key key;
	uint32_t set_mask;   /* sets - 1; sets is a power of two */
	uint32_t evictions;  /* buckets taken from another client (single writer) */
	struct px_rl_memo *memo; /* [1 << PX_RL_MEMO_BITS], after the buckets */
	/* [sets * PX_RL_WAYS]: a set is one cache line, so a lookup touches one line. */
	struct px_rl_bucket b[] __attribute__((aligned(64)));
};

enum px_rl_verdict {
	PX_RL_PASS = 0, /* within its rate: serve */
	PX_RL_DROP,     /* limited: no answer */
	PX_RL_SLIP,     /* limited, but this one gets a truncated answer */
};

/* Bytes a table of at least `buckets` buckets takes (rounded up to a power-of-two count of
 * sets), and the bucket count it will have. buckets must be 1-PX_RL_MAX_SIZE. */
size_t px_rl_table_size(uint32_t buckets, uint32_t *actual);

/* Initialises t (px_rl_table_size() bytes, any alignment of 64 bytes or more) with key. */
void px_rl_table_init(struct px_rl_table *t, uint32_t buckets, const uint8_t key[16]);

/* tokens (as of last_ms) refilled to now_ms, capped at the burst. */
static inline uint32_t
px_rl_refill(uint32_t tokens, uint32_t last_ms, const struct px_rl_params *p, uint32_t now_ms)
{
	uint64_t cap = (uint64_t)p->burst * 1000;
	uint64_t t = tokens + (uint64_t)(uint32_t)(now_ms - last_ms) * p->rate;

	return (uint32_t)(t < cap ? t : cap);
}

/* Hands memo entry e's live state back to its bucket and empties e. */
static inline void
px_rl_memo_flush(struct px_rl_table *t, struct px_rl_memo *e)
{
	struct px_rl_bucket *b = &t->b[e->idx - 1];

	b->tokens = e->tokens;
	b->last_ms = e->last_ms;
	b->memo = 0;
	e->idx = 0;
}

/* Takes a bucket for a client the set does not know: a free one, else the one holding the most
 * tokens once refilled (its live state, wherever that is). A memo entry holding the bucket
 * taken is emptied: its state belonged to the client evicted. */
static inline struct px_rl_bucket *
px_rl_claim(struct px_rl_table *t, struct px_rl_bucket *set, const struct px_rl_params *p,
	    uint32_t tag, uint32_t now_ms)
{
	struct px_rl_bucket *v = &set[0];
	uint32_t most = 0;

	for (unsigned i = 0; i < PX_RL_WAYS; i++) {
		if (set[i].tag == 0) {
			v = &set[i];
			goto take;
		}
		const struct px_rl_memo *e = set[i].memo != 0 ? &t->memo[set[i].memo - 1] : NULL;
		uint32_t tk = e != NULL ? px_rl_refill(e->tokens, e->last_ms, p, now_ms)
					: px_rl_refill(set[i].tokens, set[i].last_ms, p, now_ms);

		if (tk > most) {
			most = tk;
			v = &set[i];
		}
	}
	t->evictions++;
	if (v->memo != 0)
		t->memo[v->memo - 1].idx = 0;
take:
	v->tag = tag;
	v->last_ms = now_ms;
	v->tokens = p->burst * 1000;
	v->limited = 0;
	v->memo = 0;
	return v;
}

/*
 * The keyed hash of a client's prefix: SipHash-1-3 of the 4 bytes of an IPv4 prefix, or of the
 * 16 of an IPv6 one (the bytes past the prefix zeroed), so the lengths tell the families apart.
 * Written out for the two fixed lengths: the generic loop and byte-wise tail cost the hot path
 * more than the rounds themselves.
 */
static inline uint64_t
px_rl_hash(const struct px_siphash_key *key, const uint8_t *addr, bool v6, unsigned plen)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ key->k0;
	uint64_t v1 = 0x646f72616e646f6dull ^ key->k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ key->k0;
	uint64_t v3 = 0x7465646279746573ull ^ key->k1;

	if (!v6) {
		/* The 4 bytes as SipHash reads them (little-endian), the length in the top byte. */
		uint32_t a = (uint32_t)addr[0] | (uint32_t)addr[1] << 8 | (uint32_t)addr[2] << 16 |
			     (uint32_t)addr[3] << 24;
		uint32_t m = plen >= 32 ? ~0u : plen == 0 ? 0 : __builtin_bswap32(~0u << (32 - plen));

		return px_siphash13_final(v0, v1, v2, v3, (uint64_t)(a & m) | (uint64_t)4 << 56);
	}
	uint8_t k[16];
	unsigned n = (plen + 7) / 8;
	uint64_t m;

	memcpy(k, addr, 16);
	if (plen < 128) {
		if (plen % 8)
			k[n - 1] &= (uint8_t)(0xff00u >> (plen % 8));
		memset(k + n, 0, 16 - n);
	}
	m = px_sip_le64(k);
	v3 ^= m;
	PX_SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	m = px_sip_le64(k + 8);
	v3 ^= m;
	PX_SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	return px_siphash13_final(v0, v1, v2, v3, (uint64_t)16 << 56);
}

/* The bucket for hash h: the one its set holds for the tag, else a claimed one. Its state
 * may be held by a memo entry (b->memo). */
static inline struct px_rl_bucket *
px_rl_find(struct px_rl_table *t, const struct px_rl_params *p, uint64_t h, uint32_t now_ms)
{
	struct px_rl_bucket *set = &t->b[((uint32_t)h & t->set_mask) * PX_RL_WAYS];
	uint32_t tag = (uint32_t)(h >> 32) | 1;
	int way = -1;

	/* Without a branch per way: which way holds a client is random, and a loop that left at
	 * the match would mispredict its exit about every other query. */
	for (int i = 0; i < PX_RL_WAYS; i++)
		way = set[i].tag == tag ? i : way;
	if (unlikely_rl(way < 0))
		return px_rl_claim(t, set, p, tag, now_ms);
	return &set[way];
}

/* Charges one query to the state (tokens, last_ms) of bucket b; a limited query counts
 * towards b's slip. */
static inline enum px_rl_verdict
px_rl_charge(struct px_rl_bucket *b, uint32_t *tokens, uint32_t *last_ms,
	     const struct px_rl_params *p, uint32_t now_ms)
{
	uint32_t tk = px_rl_refill(*tokens, *last_ms, p, now_ms);

	*last_ms = now_ms;
	if (tk >= 1000) {
		*tokens = tk - 1000;
		return PX_RL_PASS;
	}
	*tokens = tk;
	if (p->slip == 0)
		return PX_RL_DROP;
	if (++b->limited < p->slip)
		return PX_RL_DROP;
	b->limited = 0;
	return PX_RL_SLIP;
}

/* The memo entry for the IPv4 prefix a (as SipHash reads it). */
static inline struct px_rl_memo *
px_rl_memo_of(struct px_rl_table *t, uint32_t a)
{
	return &t->memo[(a * 0x9e3779b1u) >> (32 - PX_RL_MEMO_BITS)];
}

/*
 * Charges one query from the client addr (4 bytes when !v6, else 16, network order) at now_ms.
 * p->rate must not be 0. The owning thread only.
 */
static inline enum px_rl_verdict
px_rl_check(struct px_rl_table *t, const struct px_rl_params *p, const uint8_t *addr, bool v6,
	    uint32_t now_ms)
{
	struct px_rl_bucket *b;

	if (!v6) {
		unsigned plen = p->v4_prefix;
		uint32_t a = (uint32_t)addr[0] | (uint32_t)addr[1] << 8 | (uint32_t)addr[2] << 16 |
			     (uint32_t)addr[3] << 24;
		uint32_t m = plen >= 32 ? ~0u : plen == 0 ? 0 : __builtin_bswap32(~0u << (32 - plen));
		struct px_rl_memo *e;

		a &= m;
		e = px_rl_memo_of(t, a);
		if (unlikely_rl(e->idx == 0 || e->addr != a)) {
			if (e->idx != 0)
				px_rl_memo_flush(t, e);
			b = px_rl_find(t, p, px_rl_hash(&t->key, addr, false, plen), now_ms);
			if (b->memo != 0)
				px_rl_memo_flush(t, &t->memo[b->memo - 1]);
			e->addr = a;
			e->idx = (uint32_t)(b - t->b) + 1;
			e->tokens = b->tokens;
			e->last_ms = b->last_ms;
			b->memo = (uint16_t)(e - t->memo + 1);
		}
		return px_rl_charge(&t->b[e->idx - 1], &e->tokens, &e->last_ms, p, now_ms);
	}
	b = px_rl_find(t, p, px_rl_hash(&t->key, addr, true, p->v6_prefix), now_ms);
	if (b->memo != 0)
		px_rl_memo_flush(t, &t->memo[b->memo - 1]);
	return px_rl_charge(b, &b->tokens, &b->last_ms, p, now_ms);
}
