/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pollux/acl.h>

static void __attribute__((format(printf, 3, 4)))
set_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || why_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

const char *
px_acl_action_name(unsigned action)
{
	switch (action) {
	case PX_ACL_ALLOW: return "allow";
	case PX_ACL_REFUSE: return "refuse";
	case PX_ACL_DROP: return "drop";
	default: return "?";
	}
}

static unsigned
addr_len(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

/* Whether any bit of addr past the first len bits is set. */
static bool
host_bits_set(const uint8_t *addr, unsigned bytes, unsigned len)
{
	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;
		uint8_t mask = keep == 8 ? 0 : (uint8_t)(0xffu >> keep);

		if (addr[i] & mask)
			return true;
	}
	return false;
}

static int
parse_net(struct px_acl_rule *r, const char *net, char *why, size_t why_len)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(net, '/');
	size_t alen = slash != NULL ? (size_t)(slash - net) : strlen(net);
	unsigned max;

	if (alen == 0 || alen >= sizeof(addr)) {
		set_why(why, why_len, "'%s' is not an address or prefix", net);
		return -EINVAL;
	}
	memcpy(addr, net, alen);
	addr[alen] = '\0';
	memset(r->addr, 0, sizeof(r->addr));
	r->family = strchr(addr, ':') != NULL ? 6 : 4;
	if (inet_pton(r->family == 4 ? AF_INET : AF_INET6, addr, r->addr) != 1) {
		set_why(why, why_len, "'%s' is not an IPv%u address", addr, r->family);
		return -EINVAL;
	}
	max = r->family == 4 ? 32 : 128;
	if (slash == NULL) {
		r->len = (uint8_t)max;
		return 0;
	}
	const char *p = slash + 1;
	unsigned long len;
	char *end;

	if (!isdigit((unsigned char)p[0]) || strlen(p) > 3) {
		set_why(why, why_len, "prefix length '%s' must be 0-%u", p, max);
		return -EINVAL;
	}
	len = strtoul(p, &end, 10);
	if (*end != '\0' || len > max) {
		set_why(why, why_len, "prefix length '%s' must be 0-%u", p, max);
		return -EINVAL;
	}
	r->len = (uint8_t)len;
	if (host_bits_set(r->addr, addr_len(r->family), r->len)) {
		set_why(why, why_len, "'%s' has host bits set beyond /%u", net, r->len);
		return -EINVAL;
	}
	return 0;
}

int
px_acl_rule_parse(struct px_acl_rule *r, const char *text, char *why, size_t why_len)
{
	char buf[256], *words[3], *save = NULL;
	unsigned n = 0;

	if (strlen(text) >= sizeof(buf)) {
		set_why(why, why_len, "too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *w = strtok_r(buf, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
		if (n == 3)
			break;
		words[n++] = w;
	}
	if (n != 2) {
		set_why(why, why_len, "expected 'NET ACTION' (e.g. '192.0.2.0/24 allow')");
		return -EINVAL;
	}
	memset(r, 0, sizeof(*r));
	if (parse_net(r, words[0], why, why_len) != 0)
		return -EINVAL;
	if (strcmp(words[1], "allow") == 0)
		r->action = PX_ACL_ALLOW;
	else if (strcmp(words[1], "refuse") == 0)
		r->action = PX_ACL_REFUSE;
	else if (strcmp(words[1], "drop") == 0 || strcmp(words[1], "deny") == 0)
		r->action = PX_ACL_DROP;
	else {
		set_why(why, why_len, "unknown action '%s' (allow, refuse or drop)", words[1]);
		return -EINVAL;
	}
	return 0;
}

void
px_acl_rule_net(const struct px_acl_rule *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(r->family == 4 ? AF_INET : AF_INET6, r->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, r->len);
}

bool
px_acl_same_net(const struct px_acl_rule *a, const struct px_acl_rule *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr, b->addr, addr_len(a->family)) == 0;
}

bool
px_acl_rule_covers(const struct px_acl_rule *r, uint8_t family, const uint8_t *addr)
{
	unsigned full = r->len / 8, rest = r->len % 8;

	if (r->family != family)
		return false;
	if (memcmp(r->addr, addr, full) != 0)
		return false;
	return rest == 0 || ((r->addr[full] ^ addr[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

/* The table under construction: one family's entries, grown node by node. */
struct build {
	uint32_t *tbl;
	uint32_t nodes, cap;
};

static int
node_new(struct build *b, uint32_t fill, uint32_t *idx)
{
	if (b->nodes == b->cap) {
		uint32_t cap = b->cap == 0 ? 16 : b->cap * 2;
		uint32_t *t = realloc(b->tbl, (PX_ACL_ROOT + (size_t)cap * 256) * sizeof(*t));

		if (t == NULL)
			return -ENOMEM;
		b->tbl = t;
		b->cap = cap;
	}
	*idx = b->nodes++;
	for (unsigned i = 0; i < 256; i++)
		b->tbl[PX_ACL_ROOT + (size_t)*idx * 256 + i] = fill;
	return 0;
}

/* Overwrites every leaf at and below entry pos with leaf (a shorter rule never overrides a
 * longer one: rules go in shortest first, so whatever is below came from rules no longer). */
static void
fill_entry(struct build *b, size_t pos, uint32_t leaf)
{
	uint32_t e = b->tbl[pos];

	if (!(e & PX_ACL_NODE)) {
		b->tbl[pos] = leaf;
		return;
	}
	for (unsigned i = 0; i < 256; i++)
		fill_entry(b, PX_ACL_ROOT + (size_t)(e & ~PX_ACL_NODE) * 256 + i, leaf);
}

static int
insert(struct build *b, const struct px_acl_rule *r, uint32_t leaf)
{
	size_t base = 0;
	unsigned start = 0, stride = 16, byte = 0;

	for (;;) {
		unsigned end = start + stride;
		uint32_t idx = stride == 16 ? (uint32_t)r->addr[0] << 8 | r->addr[1]
					    : r->addr[byte];

		if (r->len <= end) {
			uint32_t count = 1u << (end - r->len);

			for (uint32_t i = 0; i < count; i++)
				fill_entry(b, base + idx + i, leaf);
			return 0;
		}
		uint32_t e = b->tbl[base + idx];

		if (!(e & PX_ACL_NODE)) {
			uint32_t n;
			int rc = node_new(b, e, &n);

			if (rc != 0)
				return rc;
			e = PX_ACL_NODE | n;
			b->tbl[base + idx] = e;
		}
		base = PX_ACL_ROOT + (size_t)(e & ~PX_ACL_NODE) * 256;
		byte = stride == 16 ? 2 : byte + 1;
		start = end;
		stride = 8;
	}
}

static int
build_family(struct build *b, const struct px_acl_rule *rules, uint32_t n, uint8_t family)
{
	b->tbl = malloc(PX_ACL_ROOT * sizeof(*b->tbl));
	if (b->tbl == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < PX_ACL_ROOT; i++)
		b->tbl[i] = PX_ACL_LEAF_NONE;
	/* Shortest prefixes first, so a longer one is always laid over a shorter one; among
	 * equal lengths, array order (a later rule overrides an earlier one). */
	for (unsigned len = 0; len <= (family == 4 ? 32u : 128u); len++)
		for (uint32_t i = 0; i < n; i++) {
			if (rules[i].family != family || rules[i].len != len)
				continue;
			int rc = insert(b, &rules[i], i << 2 | rules[i].action);

			if (rc != 0)
				return rc;
		}
	return 0;
}

struct px_acl_table *
px_acl_table_build(const struct px_acl_rule *rules, uint32_t n)
{
	struct px_acl_table *t;
	struct build b4 = {0}, b6 = {0};
	int rc;

	if (n > PX_ACL_MAX_RULES) {
		errno = EINVAL;
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++)
		if ((rules[i].family != 4 && rules[i].family != 6) || rules[i].action > PX_ACL_DROP ||
		    rules[i].len > (rules[i].family == 4 ? 32 : 128)) {
			errno = EINVAL;
			return NULL;
		}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->rules = malloc(sizeof(*rules) * (n > 0 ? n : 1));
	if (t->rules == NULL)
		goto nomem;
	if (n > 0)
		memcpy(t->rules, rules, sizeof(*rules) * n);
	t->rule_count = n;
	rc = build_family(&b4, rules, n, 4);
	if (rc == 0)
		rc = build_family(&b6, rules, n, 6);
	t->v4 = b4.tbl;
	t->nodes4 = b4.nodes;
	t->v6 = b6.tbl;
	t->nodes6 = b6.nodes;
	if (rc != 0)
		goto nomem;
	return t;
nomem:
	px_acl_table_free(t);
	errno = ENOMEM;
	return NULL;
}

void
px_acl_table_free(struct px_acl_table *t)
{
	if (t == NULL)
		return;
	free(t->v4);
	free(t->v6);
	free(t->rules);
	free(t);
}

size_t
px_acl_table_bytes(const struct px_acl_table *t)
{
	return sizeof(*t) + sizeof(*t->rules) * t->rule_count +
	       (2 * (size_t)PX_ACL_ROOT + ((size_t)t->nodes4 + t->nodes6) * 256) * sizeof(uint32_t);
}
