/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "ctl_cache_batch.h"

/* A copy of an entry the batch replaces, to put back if the batch fails. Made "at" the
 * original's insertion time, so that it counts down and expires as the original did. */
static struct dp_cache_entry *
entry_copy(const struct dp_cache *c, const struct dp_cache_entry *o)
{
	struct dp_cache_key k = {
		.qtype = o->qtype,
		.qclass = o->qclass,
		.kind = o->kind,
		.name_len = o->name_len,
	};
	struct dp_cache_answer a = {
		.rcode = o->rcode,
		.flags = o->flags,
		.ttl = o->ttl,
		.an_count = o->an_count,
		.ns_count = o->ns_count,
		.ar_count = o->ar_count,
		.rr = dp_cache_entry_rr(o),
		.rr_len = o->rr_len,
		.ttl_off = dp_cache_entry_ttl_off(o),
		.ttl_off_count = o->ttl_off_count,
	};

	memcpy(k.name, dp_cache_entry_name(o), o->name_len);
	return dp_cache_entry_new(c, &k, &a, o->insert_ms);
}

static int
item_insert(struct dp_cache *c, const struct ctl_cache_item *it, uint64_t now_ms,
	    struct dp_cache_entry **saved)
{
	const struct dp_cache_key *k = &it->key;
	const struct dp_cache_entry *old;
	struct dp_cache_entry *e;

	old = dp_cache_lookup(c, k->name, k->name_len, k->qtype, k->qclass, k->kind);
	if (old != NULL) {
		*saved = entry_copy(c, old);
		if (*saved == NULL)
			return -ENOMEM;
	}
	e = dp_cache_entry_new(c, k, &it->ans, now_ms);
	if (e == NULL)
		return -errno;
	return dp_cache_insert(c, e);
}

/* Undoes the first n insertions, newest first, so that a key inserted twice ends as it was. */
static void
rollback(struct dp_cache *c, const struct ctl_cache_item *items, struct dp_cache_entry **saved,
	 size_t n)
{
	while (n-- > 0) {
		if (saved[n] != NULL) {
			/* The key is present (this batch put it there), so this replaces it and
			 * cannot fail. */
			(void)dp_cache_insert(c, saved[n]);
			saved[n] = NULL;
		} else {
			(void)dp_cache_delete(c, &items[n].key);
		}
	}
}

int
ctl_cache_insert_all(struct dp_cache *c, const struct ctl_cache_item *items, size_t n,
		     uint64_t now_ms, size_t *failed)
{
	struct dp_cache_entry **saved = calloc(n != 0 ? n : 1, sizeof(*saved));
	size_t i;
	int rc = 0;

	*failed = 0;
	if (saved == NULL)
		return -ENOMEM;
	for (i = 0; rc == 0 && i < n; i++)
		rc = item_insert(c, &items[i], now_ms, &saved[i]);
	if (rc < 0) {
		*failed = i - 1;
		rollback(c, items, saved, i - 1);
	}
	for (i = 0; i < n; i++)
		dp_cache_entry_free(saved[i]);
	free(saved);
	return rc;
}
