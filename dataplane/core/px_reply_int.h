/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reply index (struct px_reply_index in pollux/reply.h), shared by px_reply.c, which fills it
 * in its one walk over the records and looks everything up in it afterwards, and
 * px_reply_index.c, which holds it. Pure code, like px_reply.c.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <pollux/reply.h>

#define PX_REPLY_NO_NAME 0xffff /* no owner in the reply has this name */

/* Empties ix for msg[0, len), which has `total` records (at most PX_REPLY_MAX_RRS): clears
 * only as many slots as that needs. */
void px_reply_ix_reset(struct px_reply_index *ix, const uint8_t *msg, uint16_t len, unsigned total);

/*
 * Files the owner name (lower-cased wire form, `labels` labels, read from msg[off]) and returns
 * its index in ix->name: the existing one if an earlier owner has the same name, else a new one
 * whose in_bailiwick is computed against zone once.
 */
uint16_t px_reply_ix_add_name(struct px_reply_index *ix, const uint8_t *name, unsigned len,
			      uint8_t labels, uint16_t off, const uint8_t *zone, unsigned zone_len);

/* If the owner at msg[off] is one compression pointer to where an earlier such owner pointed,
 * that owner's name index (the name is the same, and was valid there, so it is here); else
 * PX_REPLY_NO_NAME: the owner must be read and added. */
uint16_t px_reply_ix_known_owner(const struct px_reply_index *ix, uint16_t off);

/* The index of the owner name equal to name (lower-cased wire form), or PX_REPLY_NO_NAME. */
uint16_t px_reply_ix_find(const struct px_reply_index *ix, const uint8_t *name, unsigned len);

/* As px_reply_ix_find(), with name's hash already computed (px_reply_ix_hash()). */
uint16_t px_reply_ix_find_hashed(const struct px_reply_index *ix, const uint8_t *name, unsigned len,
				 uint64_t hash);

/* The index's keyed hash of a lower-cased wire name. */
uint64_t px_reply_ix_hash(const struct px_reply_index *ix, const uint8_t *name, unsigned len);

/*
 * "Is this owner name x or an ancestor of x?" for one name x, answered from the index: each
 * suffix of x is looked up at most once, the first time an owner with that many labels asks.
 */
struct px_reply_above {
	const uint8_t *x;
	uint8_t x_len;
	uint8_t x_labels;
	uint16_t id[PX_DNS_MAX_NAME / 2 + 1]; /* by label count: the suffix's name index */
};

/* Starts the memo for x (lower-cased wire form). */
void px_reply_above_init(struct px_reply_above *a, const uint8_t *x, unsigned x_len);

/* True when owner name `name` (an index in ix->name) is a->x or an ancestor of it. */
bool px_reply_above(const struct px_reply_index *ix, struct px_reply_above *a, uint16_t name);
