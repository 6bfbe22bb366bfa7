/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which cache entries a flush removes (polluxctl flush, flush-zone, flush-all), decided from an
 * entry's key alone. Pure code, no DPDK: the rules are tested without a cache, and the cache's
 * walk (dp_cache_flush_match) only asks this whether a key matches.
 *
 *  - PX_FLUSH_NAME: every entry keyed at exactly that name (any kind: answers, negative answers,
 *    the delegation cut at the name), of any type or of one qtype (a cut's qtype is NS).
 *  - PX_FLUSH_ZONE: every entry keyed at the name or below it, on label boundaries (the zone
 *    example.com holds www.example.com, not badexample.com), cuts included.
 *  - PX_FLUSH_ALL: every entry.
 *
 * Names are in wire form and compared ignoring ASCII case, so a caller need not lower-case them
 * (the cache stores its keys lower-cased). Which matching entries are kept (local-zone data) is
 * the cache's business, not this file's. Any thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <pollux/wire.h>

enum px_flush_scope {
	PX_FLUSH_NAME = 0,
	PX_FLUSH_ZONE = 1,
	PX_FLUSH_ALL = 2,
};

#define PX_FLUSH_ANY_TYPE (-1)

struct px_flush_spec {
	uint8_t scope;    /* enum px_flush_scope */
	bool any_type;    /* PX_FLUSH_NAME: every qtype */
	uint16_t qtype;   /* PX_FLUSH_NAME without any_type */
	uint8_t name_len; /* PX_FLUSH_NAME and PX_FLUSH_ZONE */
	uint8_t name[PX_DNS_MAX_NAME]; /* lower-cased wire form */
};

/*
 * Whether name[0, len) is exactly one well-formed uncompressed wire name: labels of at most 63
 * bytes, at most 255 bytes in all, ending with the root label at len. Returns its label count
 * (the root has 0) or -1.
 */
int px_name_labels(const uint8_t *name, unsigned len);

/* Whether the wire name equals zone or lies below it, on a label boundary, ignoring ASCII
 * case. Both must be well-formed (px_name_labels() >= 0). */
bool px_name_at_or_below(const uint8_t *name, unsigned len, const uint8_t *zone,
			 unsigned zone_len);

/*
 * Fills s. name is ignored for PX_FLUSH_ALL; qtype is PX_FLUSH_ANY_TYPE or a type (only
 * PX_FLUSH_NAME narrows by type). Returns 0, or -EINVAL for a malformed name, a scope out of
 * range, a type with another scope than PX_FLUSH_NAME, or a qtype outside 0..65535.
 */
int px_flush_spec_init(struct px_flush_spec *s, enum px_flush_scope scope, const uint8_t *name,
		       unsigned name_len, int qtype);

/* Whether a flush by s removes the entry keyed (name, qtype), of any kind or class. */
bool px_flush_match(const struct px_flush_spec *s, const uint8_t *name, uint8_t name_len,
		    uint16_t qtype);
