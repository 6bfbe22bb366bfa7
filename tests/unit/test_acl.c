/* SPDX-License-Identifier: BSD-3-Clause */
/* The access-control prefix table and rule parser (pollux/acl.h), and the per-client token
 * buckets (pollux/ratelimit.h). Pure code: forked, no EAL. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <pollux/acl.h>
#include <pollux/ratelimit.h>

static struct px_acl_rule
rule(const char *text)
{
	struct px_acl_rule r;
	char why[128];

	ck_assert_msg(px_acl_rule_parse(&r, text, why, sizeof(why)) == 0, "%s: %s", text, why);
	return r;
}

/* The action for an address given as text, or -1 when no rule covers it; *idx gets the rule. */
static int
action_of(const struct px_acl_table *t, const char *addr, uint32_t *idx)
{
	uint8_t a[16];
	bool v6 = strchr(addr, ':') != NULL;
	uint32_t leaf;

	ck_assert_int_eq(inet_pton(v6 ? AF_INET6 : AF_INET, addr, a), 1);
	leaf = px_acl_lookup(t, a, v6);
	if (idx != NULL)
		*idx = px_acl_leaf_rule(leaf);
	return px_acl_leaf_rule(leaf) == PX_ACL_RULE_NONE ? -1 : (int)px_acl_leaf_action(leaf);
}

START_TEST(test_px_acl_rule_parse_forms)
{
	struct px_acl_rule r = rule("192.0.2.0/24 allow");

	ck_assert_uint_eq(r.family, 4);
	ck_assert_uint_eq(r.len, 24);
	ck_assert_uint_eq(r.action, PX_ACL_ALLOW);
	ck_assert_mem_eq(r.addr, "\xc0\x00\x02\x00", 4);
	r = rule("  2001:db8::/32\trefuse ");
	ck_assert_uint_eq(r.family, 6);
	ck_assert_uint_eq(r.len, 32);
	ck_assert_uint_eq(r.action, PX_ACL_REFUSE);
	r = rule("198.51.100.7 drop"); /* a host */
	ck_assert_uint_eq(r.len, 32);
	ck_assert_uint_eq(r.action, PX_ACL_DROP);
	r = rule("2001:db8::1 deny"); /* Unbound's name for drop */
	ck_assert_uint_eq(r.len, 128);
	ck_assert_uint_eq(r.action, PX_ACL_DROP);
	r = rule("0.0.0.0/0 allow");
	ck_assert_uint_eq(r.len, 0);
	r = rule("::/0 refuse");
	ck_assert_uint_eq(r.family, 6);
}
END_TEST

static const struct {
	const char *text, *why;
} bad_rules[] = {
	{"192.0.2.0/24", "expected 'NET ACTION'"},
	{"192.0.2.0/24 allow now", "expected 'NET ACTION'"},
	{"", "expected 'NET ACTION'"},
	{"192.0.2.1/24 allow", "host bits set"},
	{"2001:db8::1/64 allow", "host bits set"},
	{"192.0.2.0/24 permit", "unknown action 'permit'"},
	{"192.0.2.0/33 allow", "prefix length '33' must be 0-32"},
	{"2001:db8::/129 allow", "must be 0-128"},
	{"192.0.2.0/ allow", "must be 0-32"},
	{"192.0.2.0/-1 allow", "must be 0-32"},
	{"192.0.2.0/24x allow", "must be 0-32"},
	{"192.0.2.256/32 allow", "not an IPv4 address"},
	{"2001:db8:::/48 allow", "not an IPv6 address"},
	{"example.com allow", "not an IPv4 address"},
	{"/24 allow", "not an address or prefix"},
};

START_TEST(test_px_acl_rule_parse_rejects)
{
	struct px_acl_rule r;
	char why[128] = "";

	ck_assert_int_eq(px_acl_rule_parse(&r, bad_rules[_i].text, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, bad_rules[_i].why) != NULL, "'%s': got '%s', want '%s'",
		      bad_rules[_i].text, why, bad_rules[_i].why);
}
END_TEST

START_TEST(test_px_acl_lookup_longest_wins)
{
	const struct px_acl_rule rules[] = {
		rule("10.1.2.3/32 allow"), rule("10.0.0.0/8 allow"), rule("10.1.0.0/16 refuse"),
		rule("10.1.2.0/24 drop"), rule("0.0.0.0/0 refuse"), rule("10.1.2.128/25 allow"),
		rule("10.1.128.0/17 drop"),
	};
	struct px_acl_table *t = px_acl_table_build(rules, 7);
	uint32_t idx;

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(action_of(t, "10.1.2.3", &idx), PX_ACL_ALLOW);
	ck_assert_uint_eq(idx, 0);
	ck_assert_int_eq(action_of(t, "10.1.2.4", &idx), PX_ACL_DROP);
	ck_assert_uint_eq(idx, 3);
	ck_assert_int_eq(action_of(t, "10.1.2.127", NULL), PX_ACL_DROP);
	ck_assert_int_eq(action_of(t, "10.1.2.128", &idx), PX_ACL_ALLOW);
	ck_assert_uint_eq(idx, 5);
	ck_assert_int_eq(action_of(t, "10.1.3.0", &idx), PX_ACL_REFUSE);
	ck_assert_uint_eq(idx, 2);
	ck_assert_int_eq(action_of(t, "10.1.127.255", NULL), PX_ACL_REFUSE);
	ck_assert_int_eq(action_of(t, "10.1.128.0", &idx), PX_ACL_DROP);
	ck_assert_uint_eq(idx, 6);
	ck_assert_int_eq(action_of(t, "10.2.0.0", &idx), PX_ACL_ALLOW);
	ck_assert_uint_eq(idx, 1);
	ck_assert_int_eq(action_of(t, "10.255.255.255", NULL), PX_ACL_ALLOW);
	ck_assert_int_eq(action_of(t, "11.0.0.0", &idx), PX_ACL_REFUSE);
	ck_assert_uint_eq(idx, 4);
	ck_assert_int_eq(action_of(t, "9.255.255.255", NULL), PX_ACL_REFUSE);
	/* IPv4 rules say nothing about IPv6. */
	ck_assert_int_eq(action_of(t, "::a01:203", NULL), -1);
	px_acl_table_free(t);
}
END_TEST

START_TEST(test_px_acl_lookup_edges)
{
	const struct px_acl_rule rules[] = {
		rule("255.255.255.255/32 drop"), rule("0.0.0.0/32 drop"), rule("128.0.0.0/1 allow"),
		rule("::/0 refuse"), rule("2001:db8::1/128 allow"), rule("2001:db8::/127 drop"),
		rule("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128 allow"), rule("fe80::/10 allow"),
		rule("2001:db8:0:1::/64 drop"),
	};
	struct px_acl_table *t = px_acl_table_build(rules, 9);

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(action_of(t, "255.255.255.255", NULL), PX_ACL_DROP);
	ck_assert_int_eq(action_of(t, "255.255.255.254", NULL), PX_ACL_ALLOW);
	ck_assert_int_eq(action_of(t, "128.0.0.0", NULL), PX_ACL_ALLOW);
	ck_assert_int_eq(action_of(t, "127.255.255.255", NULL), -1);
	ck_assert_int_eq(action_of(t, "0.0.0.0", NULL), PX_ACL_DROP);
	ck_assert_int_eq(action_of(t, "0.0.0.1", NULL), -1);
	ck_assert_int_eq(action_of(t, "2001:db8::1", NULL), PX_ACL_ALLOW);
	ck_assert_int_eq(action_of(t, "2001:db8::", NULL), PX_ACL_DROP);
	ck_assert_int_eq(action_of(t, "2001:db8::2", NULL), PX_ACL_REFUSE);
	ck_assert_int_eq(action_of(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL),
			 PX_ACL_ALLOW);
	ck_assert_int_eq(action_of(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", NULL),
			 PX_ACL_REFUSE);
	ck_assert_int_eq(action_of(t, "fe80::1", NULL), PX_ACL_ALLOW);
	ck_assert_int_eq(action_of(t, "febf:ffff::1", NULL), PX_ACL_ALLOW);
	ck_assert_int_eq(action_of(t, "fec0::", NULL), PX_ACL_REFUSE);
	ck_assert_int_eq(action_of(t, "2001:db8:0:1:ffff::", NULL), PX_ACL_DROP);
	ck_assert_int_eq(action_of(t, "2001:db8:0:2::", NULL), PX_ACL_REFUSE);
	ck_assert_int_eq(action_of(t, "::", NULL), PX_ACL_REFUSE);
	px_acl_table_free(t);
}
END_TEST

START_TEST(test_px_acl_same_prefix_later_wins)
{
	const struct px_acl_rule rules[] = {rule("192.0.2.0/24 refuse"), rule("192.0.2.0/24 allow")};
	struct px_acl_table *t = px_acl_table_build(rules, 2);
	uint32_t idx;

	ck_assert_int_eq(action_of(t, "192.0.2.9", &idx), PX_ACL_ALLOW);
	ck_assert_uint_eq(idx, 1);
	px_acl_table_free(t);
}
END_TEST

START_TEST(test_px_acl_empty_and_bad_tables)
{
	struct px_acl_table *t = px_acl_table_build(NULL, 0);
	struct px_acl_rule r = rule("192.0.2.0/24 allow");

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(action_of(t, "192.0.2.1", NULL), -1);
	ck_assert_int_eq(action_of(t, "2001:db8::", NULL), -1);
	px_acl_table_free(t);
	r.len = 33;
	errno = 0;
	ck_assert_ptr_null(px_acl_table_build(&r, 1));
	ck_assert_int_eq(errno, EINVAL);
	r.len = 24;
	r.family = 5;
	ck_assert_ptr_null(px_acl_table_build(&r, 1));
	ck_assert_ptr_null(px_acl_table_build(&r, PX_ACL_MAX_RULES + 1));
}
END_TEST

/* The reference: the longest covering rule, the later one among equals. */
static int
brute(const struct px_acl_rule *rules, uint32_t n, uint8_t family, const uint8_t *a)
{
	int best = -1;

	for (uint32_t i = 0; i < n; i++)
		if (px_acl_rule_covers(&rules[i], family, a) &&
		    (best < 0 || rules[i].len >= rules[best].len))
			best = (int)i;
	return best;
}

static uint32_t
rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

#define RND() rnd(&seed)

/* Rules clustered in a few regions so that they nest and overlap, and addresses near them. */
START_TEST(test_px_acl_matches_brute_force)
{
	enum { N = 1000, PROBES = 20000 };
	struct px_acl_rule *rules = calloc(N, sizeof(*rules));
	uint32_t seed = 12345;

	for (uint32_t i = 0; i < N; i++) {
		struct px_acl_rule *r = &rules[i];

		r->family = (RND() & 1) ? 6 : 4;
		r->len = (uint8_t)(RND() % (r->family == 4 ? 33 : 129));
		r->action = (uint8_t)(RND() % 3);
		r->addr[0] = (uint8_t)(RND() & 3);
		for (int b = 1; b < 16; b++)
			r->addr[b] = (uint8_t)(RND() & (b < 4 ? 0x3 : 0xff));
		for (unsigned b = 0; b < 16; b++) {
			unsigned keep = r->len >= 8 * (b + 1) ? 8 : r->len > 8 * b ? r->len - 8 * b : 0;

			r->addr[b] &= (uint8_t)(0xff00u >> keep);
		}
	}
	struct px_acl_table *t = px_acl_table_build(rules, N);

	ck_assert_ptr_nonnull(t);
	for (int p = 0; p < PROBES; p++) {
		uint8_t a[16];
		uint8_t family = (RND() & 1) ? 6 : 4;

		if (p % 2 == 0) {
			/* Near a rule: its address with random low bits. */
			memcpy(a, rules[RND() % N].addr, 16);
			a[RND() % 16] ^= (uint8_t)RND();
		} else {
			for (int b = 0; b < 16; b++)
				a[b] = (uint8_t)(b < 4 ? RND() & 3 : RND());
		}
		int want = brute(rules, N, family, a);
		uint32_t leaf = px_acl_lookup(t, a, family == 6);

		if (want < 0) {
			ck_assert_uint_eq(px_acl_leaf_rule(leaf), PX_ACL_RULE_NONE);
		} else {
			ck_assert_uint_eq(px_acl_leaf_rule(leaf), (uint32_t)want);
			ck_assert_uint_eq(px_acl_leaf_action(leaf), rules[want].action);
		}
	}
	px_acl_table_free(t);
	free(rules);
}
END_TEST

static const struct px_rl_params P = {.rate = 10, .burst = 5, .slip = 2, .v4_prefix = 32,
				      .v6_prefix = 56};

static struct px_rl_table *
rl_new(uint32_t buckets)
{
	static const uint8_t key[16] = {1, 2, 3};
	struct px_rl_table *t = aligned_alloc(64, (px_rl_table_size(buckets, NULL) + 63) & ~63ul);

	ck_assert_ptr_nonnull(t);
	px_rl_table_init(t, buckets, key);
	return t;
}

static enum px_rl_verdict
rl(struct px_rl_table *t, const struct px_rl_params *p, const char *addr, uint32_t now)
{
	uint8_t a[16];
	bool v6 = strchr(addr, ':') != NULL;

	ck_assert_int_eq(inet_pton(v6 ? AF_INET6 : AF_INET, addr, a), 1);
	return px_rl_check(t, p, a, v6, now);
}

START_TEST(test_px_rl_burst_then_rate)
{
	struct px_rl_table *t = rl_new(1024);
	uint32_t now = 1000;

	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(rl(t, &P, "192.0.2.1", now), PX_RL_PASS);
	ck_assert_int_ne(rl(t, &P, "192.0.2.1", now), PX_RL_PASS);
	/* Another client is untouched. */
	ck_assert_int_eq(rl(t, &P, "192.0.2.2", now), PX_RL_PASS);
	/* 10 q/s: one token per 100 ms, not before. */
	ck_assert_int_ne(rl(t, &P, "192.0.2.1", now + 99), PX_RL_PASS);
	ck_assert_int_eq(rl(t, &P, "192.0.2.1", now + 100), PX_RL_PASS);
	ck_assert_int_ne(rl(t, &P, "192.0.2.1", now + 100), PX_RL_PASS);
	/* Over a long run the rate holds: 10 s at 1000 q/s passes about 100. */
	unsigned pass = 0;

	for (uint32_t ms = 0; ms < 10000; ms++)
		pass += rl(t, &P, "192.0.2.1", now + 200 + ms) == PX_RL_PASS;
	ck_assert_uint_ge(pass, 100);
	ck_assert_uint_le(pass, 102);
	/* After a long idle the bucket holds burst tokens, no more. */
	pass = 0;
	for (int i = 0; i < 20; i++)
		pass += rl(t, &P, "192.0.2.1", now + 1000000) == PX_RL_PASS;
	ck_assert_uint_eq(pass, 5);
	free(t);
}
END_TEST

START_TEST(test_px_rl_slip_every_kth)
{
	struct px_rl_table *t = rl_new(1024);
	struct px_rl_params p = P;
	unsigned slips = 0, drops = 0;

	p.burst = 1;
	p.slip = 3;
	ck_assert_int_eq(rl(t, &p, "2001:db8::1", 5), PX_RL_PASS);
	for (int i = 1; i <= 30; i++) {
		enum px_rl_verdict v = rl(t, &p, "2001:db8::1", 5);

		ck_assert_int_eq(v, i % 3 == 0 ? PX_RL_SLIP : PX_RL_DROP);
		slips += v == PX_RL_SLIP;
		drops += v == PX_RL_DROP;
	}
	ck_assert_uint_eq(slips, 10);
	ck_assert_uint_eq(drops, 20);
	/* slip 0: never a TC answer. */
	p.slip = 0;
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(rl(t, &p, "2001:db8::1", 5), PX_RL_DROP);
	free(t);
}
END_TEST

START_TEST(test_px_rl_prefix_aggregation)
{
	struct px_rl_table *t = rl_new(1024);
	struct px_rl_params p = P;

	p.burst = 2;
	/* IPv6 per /56: two addresses in one /56 share a bucket, the next /56 does not. */
	ck_assert_int_eq(rl(t, &p, "2001:db8:0:1::1", 0), PX_RL_PASS);
	ck_assert_int_eq(rl(t, &p, "2001:db8:0:ff::2", 0), PX_RL_PASS);
	ck_assert_int_ne(rl(t, &p, "2001:db8:0:80::3", 0), PX_RL_PASS);
	ck_assert_int_eq(rl(t, &p, "2001:db8:0:100::1", 0), PX_RL_PASS);
	/* IPv4 per /32 by default, per /24 when asked. */
	ck_assert_int_eq(rl(t, &p, "192.0.2.1", 0), PX_RL_PASS);
	ck_assert_int_eq(rl(t, &p, "192.0.2.1", 0), PX_RL_PASS);
	ck_assert_int_ne(rl(t, &p, "192.0.2.1", 0), PX_RL_PASS);
	ck_assert_int_eq(rl(t, &p, "192.0.2.2", 0), PX_RL_PASS);
	p.v4_prefix = 24;
	ck_assert_int_eq(rl(t, &p, "198.51.100.1", 0), PX_RL_PASS);
	ck_assert_int_eq(rl(t, &p, "198.51.100.200", 0), PX_RL_PASS);
	ck_assert_int_ne(rl(t, &p, "198.51.100.7", 0), PX_RL_PASS);
	ck_assert_int_eq(rl(t, &p, "198.51.101.7", 0), PX_RL_PASS);
	/* An IPv4 /32 and the IPv6 /32 of the same bytes are different clients. */
	p.v4_prefix = 32;
	p.v6_prefix = 32;
	ck_assert_int_eq(rl(t, &p, "10.0.0.1", 0), PX_RL_PASS);
	ck_assert_int_eq(rl(t, &p, "10.0.0.1", 0), PX_RL_PASS);
	ck_assert_int_eq(rl(t, &p, "a00:1::", 0), PX_RL_PASS);
	free(t);
}
END_TEST

/* A table of one set: clients beyond its ways take the bucket holding the most tokens, so a
 * client being limited keeps its (empty) bucket while idle ones come and go. */
START_TEST(test_px_rl_table_full_evicts_fullest)
{
	struct px_rl_table *t = rl_new(PX_RL_WAYS);
	struct px_rl_params p = P;
	char addr[32];

	ck_assert_uint_eq(t->set_mask, 0);
	p.burst = 3;
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(rl(t, &p, "192.0.2.1", 0), PX_RL_PASS);
	ck_assert_int_ne(rl(t, &p, "192.0.2.1", 0), PX_RL_PASS);
	/* Many other clients, one query each (they keep 2 of 3 tokens). */
	for (int i = 0; i < 100; i++) {
		snprintf(addr, sizeof(addr), "198.51.100.%d", i);
		ck_assert_int_eq(rl(t, &p, addr, 10), PX_RL_PASS);
	}
	ck_assert_uint_ge(t->evictions, 100 - (PX_RL_WAYS - 1));
	/* The flooder is still held: 10 ms gave it a tenth of a token. */
	ck_assert_int_ne(rl(t, &p, "192.0.2.1", 10), PX_RL_PASS);
	free(t);
}
END_TEST

START_TEST(test_px_rl_clock_wrap)
{
	struct px_rl_table *t = rl_new(1024);
	struct px_rl_params p = P;

	p.burst = 1;
	ck_assert_int_eq(rl(t, &p, "192.0.2.1", UINT32_MAX - 50), PX_RL_PASS);
	ck_assert_int_ne(rl(t, &p, "192.0.2.1", UINT32_MAX - 50), PX_RL_PASS);
	/* 100 ms later, across the wrap of the millisecond clock. */
	ck_assert_int_eq(rl(t, &p, "192.0.2.1", 49), PX_RL_PASS);
	free(t);
}
END_TEST

/* A client whose bucket was given to another meanwhile is not charged to the other's bucket
 * through its memo entry. */
START_TEST(test_px_rl_memo_follows_evictions)
{
	struct px_rl_table *t = rl_new(PX_RL_WAYS);
	struct px_rl_params p = P;
	char addr[32];

	p.burst = 2;
	ck_assert_int_eq(rl(t, &p, "192.0.2.1", 0), PX_RL_PASS); /* A: 1 token left */
	/* A goes idle (its bucket refills to full) while others fill the one set: A, the
	 * fullest, is evicted first. */
	for (int i = 0; i < PX_RL_WAYS; i++) {
		snprintf(addr, sizeof(addr), "198.51.100.%d", i);
		ck_assert_int_eq(rl(t, &p, addr, 1000), PX_RL_PASS);
	}
	/* The last newcomer drains the bucket it took. */
	ck_assert_int_eq(rl(t, &p, addr, 1000), PX_RL_PASS);
	ck_assert_int_ne(rl(t, &p, addr, 1000), PX_RL_PASS);
	/* A again: a fresh bucket, not the drained one its memo entry names. */
	ck_assert_int_eq(rl(t, &p, "192.0.2.1", 1000), PX_RL_PASS);
	ck_assert_int_eq(rl(t, &p, "192.0.2.1", 1000), PX_RL_PASS);
	ck_assert_int_ne(rl(t, &p, "192.0.2.1", 1000), PX_RL_PASS);
	free(t);
}
END_TEST

/* Two clients sharing a memo entry (they take turns in it) keep their own buckets. */
START_TEST(test_px_rl_memo_collisions_harmless)
{
	struct px_rl_table *t = rl_new(1024);
	struct px_rl_params p = P;
	char a[32] = "10.0.0.1", b[32] = "";
	uint8_t x[4];

	inet_pton(AF_INET, a, x);
	uint32_t ka = (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;

	for (uint32_t i = 2; i < 100000 && b[0] == '\0'; i++) {
		uint8_t y[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
		uint32_t kb = (uint32_t)y[0] | (uint32_t)y[1] << 8 | (uint32_t)y[2] << 16 |
			      (uint32_t)y[3] << 24;

		if (kb != ka && (kb * 0x9e3779b1u) >> (32 - PX_RL_MEMO_BITS) ==
				(ka * 0x9e3779b1u) >> (32 - PX_RL_MEMO_BITS))
			inet_ntop(AF_INET, y, b, sizeof(b));
	}
	ck_assert_str_ne(b, "");
	p.burst = 3;
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(rl(t, &p, a, 0), PX_RL_PASS);
		ck_assert_int_eq(rl(t, &p, b, 0), PX_RL_PASS);
	}
	ck_assert_int_ne(rl(t, &p, a, 0), PX_RL_PASS);
	ck_assert_int_ne(rl(t, &p, b, 0), PX_RL_PASS);
	free(t);
}
END_TEST

/* A limiter without a memo, written plainly: what px_rl_check() must decide, query for query. */
struct ref_bucket {
	uint32_t tag, last, tokens, limited;
};

struct ref_rl {
	uint32_t sets;
	uint32_t evictions;
	struct ref_bucket *b;
};

static uint32_t
ref_refill(const struct ref_bucket *b, const struct px_rl_params *p, uint32_t now)
{
	uint64_t t = b->tokens + (uint64_t)(uint32_t)(now - b->last) * p->rate;

	return t < (uint64_t)p->burst * 1000 ? (uint32_t)t : p->burst * 1000;
}

static enum px_rl_verdict
ref_check(struct ref_rl *r, const struct px_siphash_key *key, const struct px_rl_params *p,
	  const uint8_t *addr, bool v6, uint32_t now)
{
	uint64_t h = px_rl_hash(key, addr, v6, v6 ? p->v6_prefix : p->v4_prefix);
	struct ref_bucket *set = &r->b[((uint32_t)h & (r->sets - 1)) * PX_RL_WAYS], *b = NULL;
	uint32_t tag = (uint32_t)(h >> 32) | 1;

	for (int i = 0; i < PX_RL_WAYS; i++)
		if (set[i].tag == tag)
			b = &set[i];
	if (b == NULL) {
		uint32_t most = 0;

		for (int i = 0; i < PX_RL_WAYS && b == NULL; i++)
			if (set[i].tag == 0)
				b = &set[i];
		if (b == NULL) {
			b = &set[0];
			for (int i = 0; i < PX_RL_WAYS; i++) {
				if (ref_refill(&set[i], p, now) > most) {
					most = ref_refill(&set[i], p, now);
					b = &set[i];
				}
			}
			r->evictions++;
		}
		*b = (struct ref_bucket){.tag = tag, .last = now, .tokens = p->burst * 1000};
	}
	b->tokens = ref_refill(b, p, now);
	b->last = now;
	if (b->tokens >= 1000) {
		b->tokens -= 1000;
		return PX_RL_PASS;
	}
	b->limited++;
	return p->slip != 0 && b->limited % p->slip == 0 ? PX_RL_SLIP : PX_RL_DROP;
}

static uint32_t
memo_slot(const uint8_t *a4)
{
	uint32_t k = (uint32_t)a4[0] | (uint32_t)a4[1] << 8 | (uint32_t)a4[2] << 16 |
		     (uint32_t)a4[3] << 24;

	return (k * 0x9e3779b1u) >> (32 - PX_RL_MEMO_BITS);
}

/* Candidate i of the birthday search below: IPv4 172.16.0.0/13 for i < 2^19, else IPv6. */
static void
rl_addr(uint8_t a[16], uint32_t i)
{
	memset(a, 0, 16);
	if (i >> 19 == 0) {
		a[0] = 172;
		a[1] = (uint8_t)(16 + (i >> 16));
		a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		return;
	}
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[4] = (uint8_t)(i >> 16); /* inside the /56 */
	a[5] = (uint8_t)(i >> 8);
	a[6] = (uint8_t)i;
}

static int
cmp_tag(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;

	return (*a >> 20 > *b >> 20) - (*a >> 20 < *b >> 20);
}

/*
 * The memo changes where a bucket's state lives, never a verdict: clients that share memo
 * entries, prefixes that share a bucket (their keyed hashes agree on set and tag: two IPv4
 * ones, and an IPv4 with an IPv6 one), idle and flooding clients, in a table of one set (so
 * buckets are taken from clients all the time) and in a larger one, decide exactly what a
 * limiter without a memo decides, and evict as often.
 */
START_TEST(test_px_rl_memo_matches_reference)
{
	struct px_rl_table *t = rl_new(_i == 0 ? PX_RL_WAYS : 64);
	struct px_rl_params p = {.rate = 20, .burst = 3, .slip = 3, .v4_prefix = 32,
				 .v6_prefix = 56};
	struct ref_rl r = {.sets = t->set_mask + 1};
	uint8_t pool[24][16];
	bool v6[24] = {false};
	unsigned n = 0, share4 = 0, share6 = 0;
	uint32_t seed = 7, now = 5000;
	uint64_t *tags;

	r.b = calloc(r.sets * PX_RL_WAYS, sizeof(*r.b));
	ck_assert_ptr_nonnull(r.b);
	/* Three IPv4 clients in one memo entry, and three more in another. */
	for (uint32_t i = 1; n < 6; i++) {
		uint8_t a[4] = {10, 1, (uint8_t)(i >> 8), (uint8_t)i};
		unsigned want = n < 3 ? 77 : 1500;

		if (memo_slot(a) == want) {
			memcpy(pool[n], a, 4);
			n++;
		}
	}
	/* Prefixes whose keyed hashes agree on set and tag share a bucket: two IPv4 /32s in
	 * separate memo entries, and an IPv4 /32 with an IPv6 /56. A birthday search over 2^19
	 * of each finds several of both kinds (the key is fixed, so the same ones every run). */
	tags = malloc(sizeof(*tags) << 20);
	ck_assert_ptr_nonnull(tags);
	for (uint32_t i = 0; i < 1u << 20; i++) {
		uint8_t a[16];
		uint64_t h;

		rl_addr(a, i);
		h = px_rl_hash(&t->key, a, i >> 19, i >> 19 ? 56 : 32);
		tags[i] = ((h >> 32) | 1) << 32 | ((uint32_t)h & t->set_mask) << 20 | i;
	}
	qsort(tags, 1u << 20, sizeof(*tags), cmp_tag);
	for (uint32_t i = 1; i < 1u << 20; i++) {
		uint32_t x = (uint32_t)tags[i - 1] & 0xfffff, y = (uint32_t)tags[i] & 0xfffff;
		uint8_t ax[16], ay[16];
		bool mixed = (x >> 19) != (y >> 19);

		if (tags[i] >> 20 != tags[i - 1] >> 20 || (mixed ? share6 : share4) != 0)
			continue;
		rl_addr(ax, x);
		rl_addr(ay, y);
		if (!mixed && memo_slot(ax) == memo_slot(ay))
			continue;
		memcpy(pool[n], ax, 16);
		memcpy(pool[n + 1], ay, 16);
		v6[n] = x >> 19;
		v6[n + 1] = y >> 19;
		*(mixed ? &share6 : &share4) = n;
		n += 2;
	}
	free(tags);
	ck_assert_uint_ne(share4, 0);
	ck_assert_uint_ne(share6, 0);
	/* IPv4 clients spread over the memo, and IPv6 ones. */
	while (n < 20) {
		for (int b = 0; b < 4; b++)
			pool[n][b] = (uint8_t)RND();
		n++;
	}
	while (n < 24) {
		for (int b = 0; b < 16; b++)
			pool[n][b] = (uint8_t)RND();
		v6[n++] = true;
	}
	for (int step = 0; step < 200000; step++) {
		/* Three clients at a time flood (several queries a millisecond): those in one
		 * memo entry, then in the other, then each pair sharing a bucket and a client
		 * beside it. The rest come and go. */
		const unsigned flood[4] = {0, 3, share4, share6};
		unsigned c = RND() % 4 != 0 ? flood[(step / 20000) % 4] + RND() % 3 : RND() % n;

		now += RND() % 8 == 0 ? RND() % 400 : 0;
		ck_assert_msg(px_rl_check(t, &p, pool[c], v6[c], now) ==
				      ref_check(&r, &t->key, &p, pool[c], v6[c], now),
			      "step %d, client %u: the memo changed a verdict", step, c);
	}
	ck_assert_uint_eq(t->evictions, r.evictions);
	if (_i == 0)
		ck_assert_uint_gt(t->evictions, 1000);
	free(r.b);
	free(t);
}
END_TEST

/* The hot path's written-out SipHash-1-3 is the reference one over the masked prefix. */
START_TEST(test_px_rl_hash_is_siphash13)
{
	const uint8_t kb[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	struct px_siphash_key key = px_siphash_key_from(kb);
	uint32_t seed = 99;

	for (int i = 0; i < 2000; i++) {
		uint8_t a[16], m[16] = {0};
		unsigned plen4 = 1 + rnd(&seed) % 32, plen6 = 1 + rnd(&seed) % 128;

		for (int b = 0; b < 16; b++)
			a[b] = (uint8_t)rnd(&seed);
		for (unsigned b = 0; b < 16; b++) {
			unsigned keep = plen4 >= 8 * (b + 1) ? 8 : plen4 > 8 * b ? plen4 - 8 * b : 0;

			m[b] = b < 4 ? a[b] & (uint8_t)(0xff00u >> keep) : 0;
		}
		ck_assert_uint_eq(px_rl_hash(&key, a, false, plen4), px_siphash13(&key, m, 4));
		for (unsigned b = 0; b < 16; b++) {
			unsigned keep = plen6 >= 8 * (b + 1) ? 8 : plen6 > 8 * b ? plen6 - 8 * b : 0;

			m[b] = a[b] & (uint8_t)(0xff00u >> keep);
		}
		ck_assert_uint_eq(px_rl_hash(&key, a, true, plen6), px_siphash13(&key, m, 16));
	}
}
END_TEST

static Suite *
acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("rule_parse");

	tcase_add_test(tc, test_px_acl_rule_parse_forms);
	tcase_add_loop_test(tc, test_px_acl_rule_parse_rejects, 0,
			    (int)(sizeof(bad_rules) / sizeof(bad_rules[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("lookup");
	tcase_add_test(tc, test_px_acl_lookup_longest_wins);
	tcase_add_test(tc, test_px_acl_lookup_edges);
	tcase_add_test(tc, test_px_acl_same_prefix_later_wins);
	tcase_add_test(tc, test_px_acl_empty_and_bad_tables);
	tcase_add_test(tc, test_px_acl_matches_brute_force);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("ratelimit");
	tcase_add_test(tc, test_px_rl_burst_then_rate);
	tcase_add_test(tc, test_px_rl_slip_every_kth);
	tcase_add_test(tc, test_px_rl_prefix_aggregation);
	tcase_add_test(tc, test_px_rl_table_full_evicts_fullest);
	tcase_add_test(tc, test_px_rl_clock_wrap);
	tcase_add_test(tc, test_px_rl_hash_is_siphash13);
	tcase_add_test(tc, test_px_rl_memo_follows_evictions);
	tcase_add_test(tc, test_px_rl_memo_collisions_harmless);
	tcase_add_loop_test(tc, test_px_rl_memo_matches_reference, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(acl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
