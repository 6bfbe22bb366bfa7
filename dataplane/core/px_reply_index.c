/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reply index: every record of a reply filed once, every distinct owner name once, so that
 * the classifier's rules (px_reply.c) compare small integers where they used to decompress and
 * compare names, once per rule and per record.
 *
 * Names go into an open-addressing table (linear probing, load at most one half) by a keyed
 * SipHash-1-3 of their lower-cased wire form. Equal hashes are confirmed byte for byte, so a
 * collision can only cost time, never merge two names; and with the key secret, nobody can
 * compute names that collide or share a slot, so probes stay short whatever the reply holds.
 */
#include <string.h>

#include <pollux/wire.h>

#include "px_reply_int.h"

#define ABOVE_UNKNOWN 0xfefe /* memo entry not looked up yet; every index is below 1024 */

void
px_reply_set_key(struct px_reply *r, const struct px_siphash_key *key)
{
	r->ix.key = *key;
}

void
px_reply_ix_reset(struct px_reply_index *ix, const uint8_t *msg, uint16_t len, unsigned total)
{
	unsigned slots = 16;

	while (slots < 2 * total)
		slots <<= 1;
	ix->msg = msg;
	ix->len = len;
	ix->rr_count = 0;
	ix->name_count = 0;
	ix->arena_len = 0;
	ix->slot_mask = (uint16_t)(slots - 1);
	memset(ix->slot, 0, slots * sizeof(ix->slot[0]));
	memset(ix->ptr_target, 0, sizeof(ix->ptr_target));
}

/* The pointer target of a bare-pointer owner at msg[off], or 0 if the owner is not one. */
static uint16_t
bare_ptr(const struct px_reply_index *ix, uint16_t off)
{
	if (off + 1u >= ix->len || (ix->msg[off] & 0xc0) != 0xc0)
		return 0;
	return px_get16(ix->msg + off) & 0x3fff;
}

uint16_t
px_reply_ix_known_owner(const struct px_reply_index *ix, uint16_t off)
{
	uint16_t t = bare_ptr(ix, off);

	if (t == 0 || ix->ptr_target[t % 64] != t)
		return PX_REPLY_NO_NAME;
	return ix->ptr_name[t % 64];
}

uint64_t
px_reply_ix_hash(const struct px_reply_index *ix, const uint8_t *name, unsigned len)
{
	return px_siphash13(&ix->key, name, len);
}

/* True when the owners at a and b are the same compression pointer, or a points at b: the same
 * name without reading either. Both were read successfully, so two bytes are there. */
static bool
same_spelling(const struct px_reply_index *ix, uint16_t a, uint16_t b)
{
	uint16_t pa, pb;

	if (a == 0 || (ix->msg[a] & 0xc0) != 0xc0)
		return false;
	pa = px_get16(ix->msg + a);
	pb = px_get16(ix->msg + b);
	return (pa & 0x3fff) == b || pa == pb;
}

/* True when the name at msg[off] is name. */
static bool
name_at_eq(const struct px_reply_index *ix, uint16_t off, const uint8_t *name, unsigned len)
{
	uint8_t buf[PX_DNS_NAME_BUF];
	struct px_wire_rd rd;

	px_wire_rd_init(&rd, ix->msg, ix->len);
	rd.pos = off;
	return px_wire_read_name(&rd, buf, NULL) == len && memcmp(buf, name, len) == 0;
}

/* The name's index, or PX_REPLY_NO_NAME with *free_slot where it would go. off is where the
 * name was read from (0 for a name from elsewhere). */
static uint16_t
lookup(const struct px_reply_index *ix, const uint8_t *name, unsigned len, uint64_t h, uint16_t off,
       uint32_t *free_slot)
{
	/* The table is never more than half full: the probe ends at an empty slot. */
	for (uint32_t i = (uint32_t)h & ix->slot_mask;; i = (i + 1) & ix->slot_mask) {
		uint16_t s = ix->slot[i];
		const struct px_reply_ixname *nm;

		if (s == 0) {
			*free_slot = i;
			return PX_REPLY_NO_NAME;
		}
		nm = &ix->name[s - 1];
		if (nm->hash != h || nm->len != len)
			continue;
		if (same_spelling(ix, off, nm->off) ||
		    (nm->copy != UINT16_MAX ? memcmp(ix->arena + nm->copy, name, len) == 0
					    : name_at_eq(ix, nm->off, name, len)))
			return (uint16_t)(s - 1);
	}
}

/* Files a name not seen before under its hash h. */
static uint16_t
new_name(struct px_reply_index *ix, const uint8_t *name, unsigned len, uint8_t labels, uint16_t off,
	 uint64_t h, const uint8_t *zone, unsigned zone_len)
{
	uint16_t id = ix->name_count++;
	struct px_reply_ixname *nm = &ix->name[id];

	nm->hash = h;
	nm->off = off;
	nm->len = (uint8_t)len;
	nm->labels = labels;
	nm->in_bailiwick = px_reply_name_in(name, len, zone, zone_len);
	nm->copy = UINT16_MAX;
	if ((unsigned)PX_REPLY_NAME_ARENA - ix->arena_len >= len) {
		nm->copy = ix->arena_len;
		memcpy(ix->arena + ix->arena_len, name, len);
		ix->arena_len = (uint16_t)(ix->arena_len + len);
	}
	return id;
}

uint16_t
px_reply_ix_add_name(struct px_reply_index *ix, const uint8_t *name, unsigned len, uint8_t labels,
		     uint16_t off, const uint8_t *zone, unsigned zone_len)
{
	uint64_t h = px_reply_ix_hash(ix, name, len);
	uint32_t slot;
	uint16_t id = lookup(ix, name, len, h, off, &slot), t;

	if (id == PX_REPLY_NO_NAME) {
		id = new_name(ix, name, len, labels, off, h, zone, zone_len);
		ix->slot[slot] = (uint16_t)(id + 1);
	}
	t = bare_ptr(ix, off);
	if (t != 0) {
		ix->ptr_target[t % 64] = t;
		ix->ptr_name[t % 64] = id;
	}
	return id;
}

uint16_t
px_reply_ix_find_hashed(const struct px_reply_index *ix, const uint8_t *name, unsigned len,
			uint64_t hash)
{
	uint32_t slot;

	return lookup(ix, name, len, hash, 0, &slot);
}

uint16_t
px_reply_ix_find(const struct px_reply_index *ix, const uint8_t *name, unsigned len)
{
	return px_reply_ix_find_hashed(ix, name, len, px_reply_ix_hash(ix, name, len));
}

void
px_reply_above_init(struct px_reply_above *a, const uint8_t *x, unsigned x_len)
{
	unsigned labels = 0;

	for (unsigned i = 0; i < x_len && x[i] != 0; i += 1u + x[i])
		labels++;
	a->x = x;
	a->x_len = (uint8_t)x_len;
	a->x_labels = (uint8_t)labels;
	memset(a->id, 0xfe, sizeof(a->id));
}

bool
px_reply_above(const struct px_reply_index *ix, struct px_reply_above *a, uint16_t name)
{
	const struct px_reply_ixname *nm = &ix->name[name];
	uint16_t *memo;

	if (nm->labels > a->x_labels)
		return false;
	memo = &a->id[nm->labels];
	if (*memo == ABOVE_UNKNOWN) {
		unsigned off = 0;

		for (unsigned skip = a->x_labels - nm->labels; skip > 0; skip--)
			off += 1u + a->x[off];
		*memo = px_reply_ix_find(ix, a->x + off, a->x_len - off);
	}
	return *memo == name;
}
