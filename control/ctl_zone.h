/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Local zones (--local-zone FILE): a zone file read with ldns on the control thread and turned
 * into pinned, authoritative entries of the answer cache, so that workers answer local names
 * from the cache alone and never walk zone data. The semantics are those of Unbound's
 * "local-zone: static" with local-data: exact names and types are answered, other types of an
 * existing name get NODATA, other names below the apex get NXDOMAIN, each with the SOA.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct ctl_cache_item;
struct ctl_zone;
struct dp_cache;

struct ctl_zone_info {
	char apex[256];       /* presentation form, e.g. "example.com." */
	unsigned rr_count;    /* records loaded, duplicates collapsed */
	unsigned entry_count;
	unsigned apex_labels; /* label count of the apex, root excluded */ /* cache entries inserted */
};

/*
 * Loads the zone file at path, validates it whole, then inserts its entries (pinned) into c at
 * now_ms; info, if not NULL, is filled on success. Returns 0, or -ENOENT (the file cannot be
 * read), -EINVAL (the file is invalid), -ENOSPC (the cache has no room left for pinned
 * entries) or -ENOMEM, with a one-line reason in err ("FILE:LINE: reason" when a line is
 * known). On error the cache's pinned contents are as before the call: entries this call
 * replaced are put back and the ones it added are deleted (unpinned entries it evicted are
 * not restored: they are cache, not configuration). Control thread only.
 */
int ctl_zone_load(struct dp_cache *c, const char *path, uint64_t now_ms,
		  struct ctl_zone_info *info, char *err, size_t err_len);

/*
 * Steps 1 and 2 of ctl_zone_load alone: parses and validates the zone file at path and renders
 * its entries, touching no cache. Returns the zone (ctl_zone_free it), or NULL with errno set
 * and the reason in err as ctl_zone_load gives it. info, if not NULL, is filled. Control thread.
 */
struct ctl_zone *ctl_zone_build(const char *path, struct ctl_zone_info *info, char *err,
				size_t err_len);

/* The entries a built zone inserts (pinned, authoritative), *count of them. */
const struct ctl_cache_item *ctl_zone_items(const struct ctl_zone *z, size_t *count);

/* NULL is a no-op. */
void ctl_zone_free(struct ctl_zone *z);
