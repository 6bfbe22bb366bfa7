/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-client share of a worker's resolver; see pollux/share.h.
 */
#include <errno.h>
#include <string.h>

#include <pollux/share.h>

static uint32_t
bucket_count(uint32_t slots)
{
	uint32_t n = 16;

	while (n < 2 * slots)
		n <<= 1;
	return n;
}

size_t
px_share_memsize(uint32_t slots)
{
	if (slots == 0 || slots > PX_SHARE_MAX_SLOTS)
		return 0;
	return ((sizeof(struct px_share) + 7) & ~(size_t)7) +
	       (size_t)bucket_count(slots) * sizeof(struct px_share_entry);
}

struct px_share *
px_share_init(void *mem, uint32_t slots, uint32_t cap, uint8_t prefix6,
	      const uint8_t key[PX_SIPHASH_KEY_LEN])
{
	struct px_share *t = mem;
	uint32_t n;

	if (mem == NULL || ((uintptr_t)mem & 7) != 0 || px_share_memsize(slots) == 0 ||
	    key == NULL || prefix6 == 0 || prefix6 > 128) {
		errno = EINVAL;
		return NULL;
	}
	n = bucket_count(slots);
	memset(t, 0, sizeof(*t));
	t->key = px_siphash_key_from(key);
	t->cap = cap;
	t->mask = n - 1;
	t->prefix6 = prefix6;
	t->bucket = (struct px_share_entry *)((uint8_t *)mem + ((sizeof(*t) + 7) & ~(size_t)7));
	memset(t->bucket, 0, (size_t)n * sizeof(*t->bucket));
	return t;
}

/* The client's key: its family and its address, masked to what identifies it. */
struct share_key {
	uint8_t addr[16];
	uint8_t family;
};

static void
make_key(const struct px_share *t, struct share_key *k, uint8_t family, const uint8_t *addr)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	if (family == 4) {
		memcpy(k->addr, addr, 4);
	} else if (family == 6) {
		unsigned full = t->prefix6 / 8, rest = t->prefix6 % 8;

		memcpy(k->addr, addr, full);
		if (rest != 0)
			k->addr[full] = (uint8_t)(addr[full] & (0xff00 >> rest));
	} else {
		memcpy(k->addr, addr, 16);
	}
}

static uint32_t
home_of(const struct px_share *t, const struct share_key *k)
{
	return (uint32_t)px_siphash13(&t->key, k, 17) & t->mask;
}

static bool
key_eq(const struct px_share_entry *e, const struct share_key *k)
{
	return e->family == k->family && memcmp(e->addr, k->addr, 16) == 0;
}

/* The bucket holding k, or the first free bucket of its run (*found false), or -1 if the run is
 * longer than PX_SHARE_PROBE without either. */
static int64_t
probe(const struct px_share *t, const struct share_key *k, uint32_t home, bool *found)
{
	for (uint32_t i = 0; i < PX_SHARE_PROBE; i++) {
		uint32_t b = (home + i) & t->mask;
		const struct px_share_entry *e = &t->bucket[b];

		if (e->family == 0) {
			*found = false;
			return b;
		}
		if (key_eq(e, k)) {
			*found = true;
			return b;
		}
	}
	return -1;
}

enum px_share_verdict
px_share_take(struct px_share *t, uint8_t family, const uint8_t *addr)
{
	struct share_key k;
	struct px_share_entry *e;
	uint32_t home;
	bool found;
	int64_t b;

	if (family == 0)
		return PX_SHARE_UNCOUNTED; /* 0 marks a free bucket: such a key cannot be stored */
	make_key(t, &k, family, addr);
	home = home_of(t, &k);
	b = probe(t, &k, home, &found);
	if (b < 0)
		return PX_SHARE_UNCOUNTED;
	e = &t->bucket[b];
	if (found) {
		if (t->cap != 0 && e->count >= t->cap)
			return PX_SHARE_CAPPED;
		e->count++;
	} else {
		memcpy(e->addr, k.addr, 16);
		e->family = k.family;
		e->home = home;
		e->count = 1;
		t->clients++;
	}
	t->held++;
	return PX_SHARE_TAKEN;
}

/* Empties bucket b and shifts the rest of its run back (linear probing's deletion without
 * tombstones): an entry moves into the hole when the hole lies between its home and where it
 * sits, which only ever shortens its distance from home. */
static void
remove_at(struct px_share *t, uint32_t b)
{
	uint32_t hole = b, i = b;

	/* Bounded by the table, though the load (at most one half) always leaves a free bucket. */
	for (uint32_t n = 0; n < t->mask; n++) {
		struct px_share_entry *e;

		i = (i + 1) & t->mask;
		e = &t->bucket[i];
		if (e->family == 0)
			break;
		if (((i - e->home) & t->mask) >= ((i - hole) & t->mask)) {
			t->bucket[hole] = *e;
			hole = i;
		}
	}
	memset(&t->bucket[hole], 0, sizeof(t->bucket[hole]));
	t->clients--;
}

int
px_share_put(struct px_share *t, uint8_t family, const uint8_t *addr)
{
	struct share_key k;
	bool found;
	int64_t b;

	make_key(t, &k, family, addr);
	b = probe(t, &k, home_of(t, &k), &found);
	if (b < 0 || !found)
		return -ENOENT;
	t->held--;
	if (--t->bucket[b].count == 0)
		remove_at(t, (uint32_t)b);
	return 0;
}

uint32_t
px_share_count(const struct px_share *t, uint8_t family, const uint8_t *addr)
{
	struct share_key k;
	bool found;
	int64_t b;

	make_key(t, &k, family, addr);
	b = probe(t, &k, home_of(t, &k), &found);
	return b >= 0 && found ? t->bucket[b].count : 0;
}
