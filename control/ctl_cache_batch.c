/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>


#include "ctl_cache_batch.h"

static int
item_insert(struct dp_cache *c, const struct ctl_cache_item *it, uint64_t now_ms,
	    struct dp_cache_entry **saved)
{
	const struct dp_cache_key *k = &it->key;
	struct dp_cache_entry *e;

	/* A copy of an entry the batch replaces, to put back if the batch fails: it keeps the
	 * original's insertion time, so it counts down and expires as the original did. */
	*saved = dp_cache_entry_clone(c, k);
	if (*saved == NULL && errno != ENOENT)
		return -ENOMEM;
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
