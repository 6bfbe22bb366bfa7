/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delegations in the cache (dp_cut.h): cut entries encode and decode, the closest-cut walk over
 * a real cache (longest suffix first, expiry, DS at the parent, depths never cached skipped).
 * Priming replies are tested in test_prime.c. Runs with the EAL (the cache's memory and RCU),
 * CK_NOFORK.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <pollux/addr_policy.h>
#include <pollux/wire.h>

#include "ctl_config.h"
#include "dp_cache.h"
#include "dp_clock.h"
#include "dp_cut.h"
#include "dp_lcore.h"
#include "testlib.h"

static struct rte_rcu_qsbr *qsbr;
static struct dp_cache *cache;

static void
cache_setup(void)
{
	cache = dp_cache_create("test_cut_cache", 1024, qsbr, 0);
	ck_assert_ptr_nonnull(cache);
}

static void
cache_teardown(void)
{
	dp_cache_free(cache);
	cache = NULL;
}

/* A cut at zone: ns[i] with glue[i] (NULL: glueless), the NS TTL given. */
static void
cut_make(struct px_resolver_cut *cut, const char *zone, const char *const *ns,
	 const char *const *glue, unsigned n, uint32_t ttl)
{
	memset(cut, 0, sizeof(*cut));
	cut->zone_len = (uint8_t)px_test_name(cut->zone, zone);
	cut->ttl = ttl;
	for (unsigned i = 0; i < n; i++) {
		struct px_resolver_ns *s = &cut->ns[cut->ns_count++];

		s->name_len = (uint8_t)px_test_name(s->name, ns[i]);
		if (glue[i] == NULL) {
			s->state = PX_RES_NS_GLUELESS;
			continue;
		}
		uint8_t a6[16];
		uint32_t a4;

		if (inet_pton(AF_INET, glue[i], &a4) == 1) {
			px_addr_set4(&s->addr[0], a4, 0);
		} else {
			ck_assert_int_eq(inet_pton(AF_INET6, glue[i], a6), 1);
			px_addr_set6(&s->addr[0], a6, 0);
		}
		s->addr_count = 1;
		s->state = PX_RES_NS_GLUE;
	}
}

/* Inserts cut into the cache as the worker's feed would, at now_ms. */
static void
cut_insert(const struct px_resolver_cut *cut, uint64_t now_ms)
{
	uint8_t buf[PX_CUT_MAX_LEN];
	uint16_t ns_count, len = px_cut_encode(buf, sizeof(buf), cut, &ns_count);
	struct dp_cache_key key;
	struct dp_cache_entry *e;

	ck_assert_uint_gt(len, 0);
	dp_cut_key(&key, cut->zone, cut->zone_len);

	const struct dp_cache_answer ans = {
		.ttl = cut->ttl, .an_count = ns_count, .rr = buf, .rr_len = len,
	};

	e = dp_cache_entry_new(cache, &key, &ans, now_ms);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(dp_cache_insert(cache, e), 0);
}

/* The zone of the closest cut for name, in presentation form, or "-" for none. */
static const char *
closest(const char *name, uint16_t qtype, uint64_t now_ms)
{
	static char out[PX_DNS_NAME_BUF * 2];
	uint8_t w[PX_DNS_NAME_BUF];
	unsigned len = px_test_name(w, name), o = 0;
	const struct dp_cache_entry *e = dp_cut_find(cache, w, (uint8_t)len, qtype, now_ms);
	const uint8_t *z;

	if (e == NULL)
		return "-";
	z = dp_cache_entry_name(e);
	if (z[0] == 0)
		return ".";
	for (unsigned i = 0; z[i] != 0; i += 1u + z[i]) {
		memcpy(out + o, z + i + 1, z[i]);
		o += z[i];
		out[o++] = '.';
	}
	out[o - 1] = '\0';
	return out;
}

START_TEST(test_cut_encode_decode)
{
	static const char *const ns[] = {"ns1.example.test", "ns.example.other", "ns2.example.test",
					 "ns3.example.test"};
	static const char *const glue[] = {"198.18.2.1", NULL, "2001:db8::53", NULL};
	struct px_resolver_cut cut;
	struct px_resolver_start_buf sb;
	const struct dp_cache_entry *e;
	uint8_t w[PX_DNS_NAME_BUF];
	unsigned wl;

	cut_make(&cut, "example.test", ns, glue, 4, 3600);
	/* In zone without glue: unusable, never stored. */
	cut.ns[3].state = PX_RES_NS_UNUSABLE;
	cut_insert(&cut, dp_clock_ms());
	wl = px_test_name(w, "www.example.test");
	e = dp_cut_find(cache, w, (uint8_t)wl, PX_DNS_TYPE_A, dp_clock_ms());
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->kind, DP_CACHE_CUT);
	ck_assert_uint_eq(e->an_count, 3);
	ck_assert_int_eq(dp_cut_decode(e, &sb), 0);
	ck_assert_uint_eq(sb.sc.zone_len, cut.zone_len);
	ck_assert_mem_eq(sb.sc.zone, cut.zone, cut.zone_len);
	ck_assert_uint_eq(sb.sc.ns_count, 3);
	ck_assert_uint_eq(sb.sc.addr_count, 0);
	ck_assert_uint_eq(sb.ns[0].name_len, cut.ns[0].name_len);
	ck_assert_mem_eq(sb.ns[0].name, cut.ns[0].name, cut.ns[0].name_len);
	ck_assert_uint_eq(sb.ns[0].addr_count, 1);
	ck_assert(px_addr_eq(&sb.ns[0].addrs[0], &cut.ns[0].addr[0]));
	ck_assert_uint_eq(sb.ns[1].addr_count, 0);
	ck_assert_mem_eq(sb.ns[1].name, cut.ns[1].name, cut.ns[1].name_len);
	ck_assert_uint_eq(sb.ns[2].addrs[0].family, PX_AF_INET6);
	ck_assert(px_addr_eq(&sb.ns[2].addrs[0], &cut.ns[2].addr[0]));
	/* The cut is never an answer: no RRSET entry under the zone's name. */
	ck_assert_ptr_null(dp_cache_lookup(cache, cut.zone, cut.zone_len, PX_DNS_TYPE_NS,
					   PX_DNS_CLASS_IN, DP_CACHE_RRSET));
}
END_TEST

START_TEST(test_cut_encode_nothing_usable)
{
	static const char *const ns[] = {"ns1.bad.test"};
	static const char *const glue[] = {NULL};
	struct px_resolver_cut cut;
	uint8_t buf[PX_CUT_MAX_LEN];
	uint16_t n;

	cut_make(&cut, "bad.test", ns, glue, 1, 3600);
	cut.ns[0].state = PX_RES_NS_UNUSABLE;
	ck_assert_uint_eq(px_cut_encode(buf, sizeof(buf), &cut, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

/* Bytes that do not decode are refused, never trusted. */
START_TEST(test_cut_decode_garbage)
{
	static const uint8_t bad[][8] = {
		{3, 'a', 'b'},         /* name runs past the end */
		{0, 1, 9, 1, 2, 3, 4}, /* family 9 */
		{0, 1, 4, 1, 2},       /* truncated IPv4 address */
		{0, 99},               /* more addresses than a server keeps */
	};
	static const unsigned bad_len[] = {3, 7, 5, 2};
	struct px_resolver_start_buf sb;
	struct dp_cache_key key;
	uint8_t zone[] = {4, 't', 'e', 's', 't', 0};

	dp_cut_key(&key, zone, sizeof(zone));
	for (unsigned i = 0; i < RTE_DIM(bad); i++) {
		const struct dp_cache_answer ans = {.ttl = 60, .rr = bad[i],
						    .rr_len = (uint16_t)bad_len[i]};
		struct dp_cache_entry *e = dp_cache_entry_new(cache, &key, &ans, dp_clock_ms());

		ck_assert_ptr_nonnull(e);
		ck_assert_int_eq(dp_cut_decode(e, &sb), -EINVAL);
		dp_cache_entry_free(e);
	}
}
END_TEST

START_TEST(test_cut_find_closest)
{
	static const char *const ns[] = {"ns.nic.test"};
	static const char *const glue[] = {"198.18.1.1"};
	static const char *const ns2[] = {"ns1.example.test"};
	static const char *const glue2[] = {"198.18.2.1"};
	struct px_resolver_cut cut;
	uint64_t now = dp_clock_ms();

	ck_assert_str_eq(closest("www.example.test", PX_DNS_TYPE_A, now), "-");
	cut_make(&cut, "test", ns, glue, 1, 3600);
	cut_insert(&cut, now);
	cut_make(&cut, "example.test", ns2, glue2, 1, 3600);
	cut_insert(&cut, now);
	ck_assert_str_eq(closest("a.b.www.example.test", PX_DNS_TYPE_A, now), "example.test");
	ck_assert_str_eq(closest("example.test", PX_DNS_TYPE_A, now), "example.test");
	ck_assert_str_eq(closest("EXAMPLE.test", PX_DNS_TYPE_A, now), "test"); /* lower-cased input only */
	ck_assert_str_eq(closest("other.test", PX_DNS_TYPE_A, now), "test");
	ck_assert_str_eq(closest("test", PX_DNS_TYPE_A, now), "test");
	/* The DS of a zone is its parent's data. */
	ck_assert_str_eq(closest("example.test", PX_DNS_TYPE_DS, now), "test");
	ck_assert_str_eq(closest("www.example.org", PX_DNS_TYPE_A, now), "-");
	ck_assert(dp_cache_has_cut_depth(cache, 1));
	ck_assert(dp_cache_has_cut_depth(cache, 2));
	ck_assert(!dp_cache_has_cut_depth(cache, 3));
	ck_assert(!dp_cache_has_cut_depth(cache, 0));
}
END_TEST

START_TEST(test_cut_find_expired)
{
	static const char *const ns[] = {"ns.nic.test"};
	static const char *const glue[] = {"198.18.1.1"};
	static const char *const ns2[] = {"ns1.example.test"};
	static const char *const glue2[] = {"198.18.2.1"};
	struct px_resolver_cut cut;
	uint64_t now = dp_clock_ms();

	cut_make(&cut, "test", ns, glue, 1, 3600);
	cut_insert(&cut, now);
	cut_make(&cut, "example.test", ns2, glue2, 1, 10);
	cut_insert(&cut, now);
	ck_assert_str_eq(closest("www.example.test", PX_DNS_TYPE_A, now + 9999), "example.test");
	/* Ten seconds on, example.test has expired: its parent is the closest one left. */
	ck_assert_str_eq(closest("www.example.test", PX_DNS_TYPE_A, now + 10000), "test");
	ck_assert_str_eq(closest("www.example.test", PX_DNS_TYPE_A, now + 3600000), "-");
}
END_TEST

static Suite *
cut_suite(void)
{
	Suite *s = suite_create("cut");
	TCase *tc;

	tc = tcase_create("cache");
	tcase_add_checked_fixture(tc, cache_setup, cache_teardown);
	tcase_add_test(tc, test_cut_encode_decode);
	tcase_add_test(tc, test_cut_encode_nothing_usable);
	tcase_add_test(tc, test_cut_decode_garbage);
	tcase_add_test(tc, test_cut_find_closest);
	tcase_add_test(tc, test_cut_find_expired);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	px_test_eal_init("test_cut", "0", NULL);
	dp_clock_init();
	qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	if (qsbr == NULL || rte_rcu_qsbr_init(qsbr, RTE_MAX_LCORE) != 0)
		return 2;
	sr = srunner_create(cut_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rte_free(qsbr);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
