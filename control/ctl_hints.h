/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Root hints loading and validation (named.root format), all or nothing. Control thread only,
 * and `pollux --check-hints` (no EAL). Publishing and reloading are in ctl_hints_reload.c.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <pollux/addr_policy.h>

#include <pollux/hints.h>

/* A hints file larger than this is rejected unread: the IANA file is about 3 KiB. */
#define CTL_HINTS_MAX_FILE (1u << 20)
#define CTL_HINTS_REASONS_LEN 2048

/* What a load found, accepted or not. */
struct ctl_hints_report {
	size_t size;               /* bytes read */
	char sha256[65];           /* hex digest of those bytes; "" if never read */
	unsigned ns_count;         /* root NS records */
	unsigned ns_usable;        /* servers left with at least one address after the policy */
	unsigned addr_count;       /* A/AAAA records */
	unsigned addr_rejected;    /* of those, rejected by the address policy */
	uint32_t rejected[PX_ADDR_REASON_COUNT]; /* by reason */
	/* Why the file was rejected, one "NAME:LINE: reason" per line (LINE omitted when the file
	 * as a whole is at fault); empty when accepted. */
	char reasons[CTL_HINTS_REASONS_LEN];
};

/*
 * Parses and validates hints held in buf (name is what messages call it: a path or
 * "built-in"). Only NS records owned by the root and A/AAAA records for their targets are
 * accepted; every address goes through pol, rejected ones are counted, logged (rate-limited,
 * naming the zone, the nameserver and the address) and left out; at least min_usable servers
 * must keep an address. Returns the table (malloc'ed; free() it, or publish it), or NULL with
 * errno set (EINVAL invalid, ENOMEM) and the reasons in rep.
 */
struct px_hints *ctl_hints_parse(const char *name, const uint8_t *buf, size_t len,
				 const struct px_addr_policy *pol, unsigned min_usable,
				 struct ctl_hints_report *rep);

/*
 * Reads path (never writing to it) and parses it as above. An unreadable, empty or oversized
 * file is rejected with errno ENOENT/EACCES/EINVAL/EFBIG and a reason in rep.
 */
struct px_hints *ctl_hints_load_file(const char *path, const struct px_addr_policy *pol,
				     unsigned min_usable, struct ctl_hints_report *rep);

/* The compiled-in copy of IANA's named.root (control/named.root, turned into C at build). */
extern const uint8_t ctl_builtin_hints[];
extern const size_t ctl_builtin_hints_len;
