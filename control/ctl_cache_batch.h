/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * All-or-nothing insertion of a batch of entries into the answer cache, for data the control
 * thread loads whole (local zones): either every entry is published, or every key the batch
 * touched is as it was, replaced entries restored with their original insertion time. Unpinned
 * entries evicted to make room are not brought back: they are cached answers, fetched again
 * when next asked for. Control thread only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "dp_cache.h"

struct ctl_cache_item {
	struct dp_cache_key key;
	struct dp_cache_answer ans;
};

/*
 * Inserts items[0, n) in order at now_ms. Returns 0, or -errno (-ENOSPC: no room for a pinned
 * entry; -ENOMEM) with *failed set to the index of the item that could not be inserted; the
 * items inserted before it have been undone by then.
 */
int ctl_cache_insert_all(struct dp_cache *c, const struct ctl_cache_item *items, size_t n,
			 uint64_t now_ms, size_t *failed);
