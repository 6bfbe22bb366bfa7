/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client access control: "NET ACTION" rules (Unbound's access-control spelling) and the
 * longest-prefix-match table the workers look every query's source up in.
 *
 * The table is a multibit trie with leaf pushing, for IPv4 and IPv6 alike: a root of 65536
 * entries indexed by the address's first 16 bits, then nodes of 256 entries, one per further
 * byte. Every entry is either a leaf (the rule that covers that part of the address space, and
 * its action) or a node. A lookup is one load for a rule of /16 or shorter, one more per byte
 * beyond: three at most for IPv4, fifteen for a /128. Immutable once built: the control thread
 * builds a new one and publishes it with RCU (dp_access.h).
 *
 * Pure code: no DPDK, callable from any thread. Building allocates (malloc); lookup does not.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Rules a table may hold, defaults included. The configured ones are bounded by
 * PX_ACL_MAX_CONFIGURED so the defaults always fit beside them. */
#define PX_ACL_MAX_RULES 4104
#define PX_ACL_MAX_CONFIGURED 4096
#define PX_ACL_ORIGIN_LEN 96

enum px_acl_action {
	PX_ACL_ALLOW = 0,  /* served, recursion included */
	PX_ACL_REFUSE = 1, /* REFUSED, never larger than the query */
	PX_ACL_DROP = 2,   /* no answer at all */
};

struct px_acl_rule {
	uint8_t family;   /* 4 or 6 */
	uint8_t len;      /* prefix length */
	uint8_t action;   /* enum px_acl_action */
	uint8_t addr[16]; /* network order, IPv4 in the first 4 bytes; host bits clear */
	char origin[PX_ACL_ORIGIN_LEN]; /* where it came from, for polluxctl acl */
};

/*
 * Parses "NET ACTION" (NET is ADDR/LEN, or ADDR for a single host; ACTION allow, refuse or
 * drop) into r (origin left empty). Returns 0, or -EINVAL with the reason in why: not a
 * prefix, host bits set, unknown action, extra words.
 */
int px_acl_rule_parse(struct px_acl_rule *r, const char *text, char *why, size_t why_len);

/* "allow", "refuse", "drop" (or "?"). */
const char *px_acl_action_name(unsigned action);

/* Writes "ADDR/LEN" to buf. */
void px_acl_rule_net(const struct px_acl_rule *r, char *buf, size_t len);

/* Whether a and b name the same prefix (family, length, address). */
bool px_acl_same_net(const struct px_acl_rule *a, const struct px_acl_rule *b);

/* Whether addr (4 or 16 bytes by family) lies inside r's prefix. */
bool px_acl_rule_covers(const struct px_acl_rule *r, uint8_t family, const uint8_t *addr);

#define PX_ACL_ROOT 65536u
#define PX_ACL_NODE 0x80000000u
/* The leaf of an address no rule covers: refused, counted against no rule. */
#define PX_ACL_RULE_NONE 0x1fffffffu
#define PX_ACL_LEAF_NONE (PX_ACL_RULE_NONE << 2 | PX_ACL_REFUSE)

struct px_acl_table {
	uint32_t rule_count;
	uint32_t nodes4, nodes6;  /* 256-entry nodes below each root */
	uint32_t *v4, *v6;        /* root (PX_ACL_ROOT entries), then the nodes */
	struct px_acl_rule *rules; /* [rule_count]: what each leaf's index names */
};

/*
 * Builds the table of n rules (copied). Longest prefix wins; of two rules with the same prefix
 * the later in the array wins. Returns NULL with errno set (EINVAL: n over PX_ACL_MAX_RULES or
 * a malformed rule, ENOMEM). Any thread; allocates.
 */
struct px_acl_table *px_acl_table_build(const struct px_acl_rule *rules, uint32_t n);

void px_acl_table_free(struct px_acl_table *t);

/* Memory the table holds, in bytes (for polluxctl acl). */
size_t px_acl_table_bytes(const struct px_acl_table *t);

/*
 * The leaf for addr (4 bytes when !v6, else 16, network order): the rule index in bits 2-30
 * (PX_ACL_RULE_NONE when no rule covers it) and the action in bits 0-1. Any thread; allocates
 * and writes nothing.
 */
static inline uint32_t
px_acl_lookup(const struct px_acl_table *t, const uint8_t *addr, bool v6)
{
	const uint32_t *tbl = v6 ? t->v6 : t->v4;
	uint32_t e = tbl[(uint32_t)addr[0] << 8 | addr[1]];

	/* The builder never puts a node below the address's last byte, so this ends. */
	for (unsigned i = 2; e & PX_ACL_NODE; i++)
		e = tbl[PX_ACL_ROOT + (e & ~PX_ACL_NODE) * 256u + addr[i]];
	return e;
}

static inline uint32_t
px_acl_leaf_rule(uint32_t leaf)
{
	return leaf >> 2;
}

static inline unsigned
px_acl_leaf_action(uint32_t leaf)
{
	return leaf & 3u;
}
