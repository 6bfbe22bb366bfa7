/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cache's side of serve-stale (RFC 8767) and prefetch: which expired entries may be served
 * stale, how long the sweep keeps them, that an insert into a full pair of buckets takes an
 * expired entry's slot before it moves or evicts a live one, and when a hit is due a prefetch.
 * Time is the test's: every entry is built and swept at a given millisecond.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dp_cache.h"
#include "dp_clock.h"
#include "testlib.h"

static struct rte_rcu_qsbr *qsbr;

static struct dp_cache_key
key_of(const char *name, uint8_t kind)
{
	struct dp_cache_key k = {.qtype = 1, .qclass = 1, .kind = kind};

	k.name_len = (uint8_t)px_test_name(k.name, name);
	return k;
}

static struct dp_cache_entry *
entry_of(struct dp_cache *c, const struct dp_cache_key *k, uint32_t ttl, uint8_t flags,
	 uint64_t now_ms)
{
	uint8_t rr[32];
	struct dp_cache_answer a = {.ttl = ttl, .flags = flags, .an_count = 1, .rr = rr,
				    .rr_len = sizeof(rr)};

	memset(rr, 0x5a, sizeof(rr));
	return dp_cache_entry_new(c, k, &a, now_ms);
}

static const struct dp_cache_entry *
lookup(struct dp_cache *c, const struct dp_cache_key *k)
{
	return dp_cache_lookup(c, k->name, k->name_len, k->qtype, k->qclass, k->kind);
}

static struct dp_cache *
new_keyed(uint32_t n, uint64_t k0, uint64_t k1)
{
	static unsigned seq;
	const struct px_siphash_key key = {k0, k1};
	char name[32];

	snprintf(name, sizeof(name), "test_stale%u", seq++);
	struct dp_cache *c = dp_cache_create_keyed(name, n, qsbr, 0, &key);

	ck_assert_ptr_nonnull(c);
	return c;
}

static void
buckets_of(const struct dp_cache *c, const struct dp_cache_key *k, uint32_t idx[2])
{
	dp_cache_buckets(c, dp_cache_hash(c, k->name, k->name_len, k->qtype, k->qclass, k->kind),
			 idx);
}

/* Stale means: a resolved answer, expired, and for less than the window. */
START_TEST(test_dp_cache_entry_stale_window)
{
	struct dp_cache *c = new_keyed(64, 1, 2);
	struct dp_cache_key k = key_of("a.test", DP_CACHE_RRSET);
	struct dp_cache_key cut = key_of("b.test", DP_CACHE_CUT);
	struct dp_cache_entry *e = entry_of(c, &k, 10, 0, 1000);
	struct dp_cache_entry *aa = entry_of(c, &k, 10, DP_CACHE_F_AA, 1000);
	struct dp_cache_entry *pin = entry_of(c, &k, 10, DP_CACHE_F_AA | DP_CACHE_F_PINNED, 1000);
	struct dp_cache_entry *ce = entry_of(c, &cut, 10, 0, 1000);

	/* Live: not stale, whatever the window. */
	ck_assert(!dp_cache_entry_stale(e, 10999, 86400000));
	ck_assert_int_eq(dp_cache_entry_ttl(e, 11000), -1);
	ck_assert(dp_cache_entry_stale(e, 11000, 5000));
	ck_assert(dp_cache_entry_stale(e, 15999, 5000));
	ck_assert(!dp_cache_entry_stale(e, 16000, 5000));
	/* A window of 0: serve-stale off. */
	ck_assert(!dp_cache_entry_stale(e, 11000, 0));
	/* Local-zone data (authoritative, pinned) and cuts are never served stale. */
	ck_assert(!dp_cache_entry_stale(aa, 11000, 5000));
	ck_assert(!dp_cache_entry_stale(pin, 11000, 5000));
	ck_assert(!dp_cache_entry_stale(ce, 11000, 5000));
	dp_cache_entry_free(e);
	dp_cache_entry_free(aa);
	dp_cache_entry_free(pin);
	dp_cache_entry_free(ce);
	dp_cache_free(c);
}
END_TEST

/* The last tenth of the TTL as inserted, not before; never for pinned data. */
START_TEST(test_dp_cache_entry_prefetch_due)
{
	struct dp_cache *c = new_keyed(64, 1, 2);
	struct dp_cache_key k = key_of("a.test", DP_CACHE_RRSET);
	struct dp_cache_entry *e = entry_of(c, &k, 100, 0, 1000);
	struct dp_cache_entry *pin = entry_of(c, &k, 100, DP_CACHE_F_PINNED, 1000);

	/* Expires at 101000; the last tenth starts at 91000. */
	ck_assert(!dp_cache_entry_prefetch_due(e, 1000));
	ck_assert(!dp_cache_entry_prefetch_due(e, 91000));
	ck_assert(dp_cache_entry_prefetch_due(e, 91001));
	ck_assert(dp_cache_entry_prefetch_due(e, 100999));
	ck_assert(!dp_cache_entry_prefetch_due(pin, 91001));
	dp_cache_entry_free(e);
	dp_cache_entry_free(pin);
	dp_cache_free(c);
}
END_TEST

/* The sweep keeps answers for the window past their expiry, nothing else. */
START_TEST(test_dp_cache_sweep_keeps_stale_answers)
{
	struct dp_cache *c = new_keyed(1024, 3, 4);
	struct dp_cache_key a = key_of("a.test", DP_CACHE_RRSET);
	struct dp_cache_key b = key_of("b.test", DP_CACHE_RRSET);
	struct dp_cache_key cut = key_of("c.test", DP_CACHE_CUT);
	struct dp_cache_key p = key_of("p.test", DP_CACHE_RRSET);
	struct dp_cache_info info;

	ck_assert_int_eq(dp_cache_insert(c, entry_of(c, &a, 1, 0, 0)), 0);
	ck_assert_int_eq(dp_cache_insert(c, entry_of(c, &b, 100, 0, 0)), 0);
	ck_assert_int_eq(dp_cache_insert(c, entry_of(c, &cut, 1, 0, 0)), 0);
	ck_assert_int_eq(dp_cache_insert(c, entry_of(c, &p, 1, DP_CACHE_F_PINNED, 0)), 0);
	/* At 2 s with a 10 s window: the expired cut goes, the expired answer stays. */
	ck_assert_uint_eq(dp_cache_sweep_keep(c, 2000, 10000, 1u << 20), 1);
	ck_assert_ptr_null(lookup(c, &cut));
	ck_assert_ptr_nonnull(lookup(c, &a));
	/* At 10.999 s it is still in the window; at 11 s it is not. */
	ck_assert_uint_eq(dp_cache_sweep_keep(c, 10999, 10000, 1u << 20), 0);
	ck_assert_ptr_nonnull(lookup(c, &a));
	ck_assert_uint_eq(dp_cache_sweep_keep(c, 11000, 10000, 1u << 20), 1);
	ck_assert_ptr_null(lookup(c, &a));
	/* Live and pinned entries are never swept; a window of 0 is the plain sweep. */
	ck_assert_uint_eq(dp_cache_sweep_keep(c, 99999, 0, 1u << 20), 0);
	ck_assert_uint_eq(dp_cache_sweep(c, 100000, 1u << 20), 1);
	ck_assert_ptr_null(lookup(c, &b));
	ck_assert_ptr_nonnull(lookup(c, &p));
	dp_cache_info(c, &info);
	ck_assert_uint_eq(info.expired_swept, 3);
	ck_assert_uint_eq(info.entries, 1);
	dp_cache_reclaim(c);
	dp_cache_free(c);
}
END_TEST

/*
 * A full pair of buckets, one of whose entries could be moved to a free bucket elsewhere and one
 * of which is expired: the newcomer takes the expired entry's slot, and nothing live is moved or
 * evicted. (Before serve-stale kept expired entries, a move came first.)
 */
START_TEST(test_dp_cache_insert_takes_expired_slot_first)
{
	struct dp_cache *c = new_keyed(64, 0x0123456789abcdefull, 0xfedcba9876543210ull);
	struct dp_cache_key newcomer, movable, pair[7];
	struct dp_cache_info info;
	uint32_t ab[2], idx[2];
	unsigned n = 0;
	bool have_movable = false;
	char name[40];

	newcomer = key_of("newcomer.test", DP_CACHE_RRSET);
	buckets_of(c, &newcomer, ab);
	ck_assert_uint_ne(ab[0], ab[1]);
	for (unsigned i = 0; (n < 7 || !have_movable) && i < 200000; i++) {
		snprintf(name, sizeof(name), "k%u.example.test", i);
		struct dp_cache_key k = key_of(name, DP_CACHE_RRSET);

		buckets_of(c, &k, idx);
		if (!have_movable && idx[0] == ab[0] && idx[1] != ab[1] && idx[1] != ab[0]) {
			movable = k;
			have_movable = true;
		} else if (n < 7 && ((idx[0] == ab[0] && idx[1] == ab[1]) ||
				     (idx[0] == ab[1] && idx[1] == ab[0]))) {
			pair[n++] = k;
		}
	}
	ck_assert(have_movable);
	ck_assert_uint_eq(n, 7);
	/* The movable one first, into its primary bucket (the newcomer's first); then the seven
	 * that share the newcomer's pair, the first of them short-lived. */
	ck_assert_int_eq(dp_cache_insert(c, entry_of(c, &movable, 1000, 0, 0)), 0);
	for (unsigned i = 0; i < 7; i++)
		ck_assert_int_eq(dp_cache_insert(c, entry_of(c, &pair[i], i == 0 ? 1 : 1000, 0, 0)),
				 0);
	dp_cache_info(c, &info);
	ck_assert_uint_eq(info.evictions, 0);
	ck_assert_uint_eq(info.moves, 0);
	/* At 5 s the short-lived one is expired (and stale-kept: nobody swept it). */
	ck_assert_int_eq(dp_cache_insert(c, entry_of(c, &newcomer, 1000, 0, 5000)), 0);
	dp_cache_info(c, &info);
	ck_assert_uint_eq(info.evictions, 1);
	ck_assert_uint_eq(info.evicted_expired, 1);
	ck_assert_uint_eq(info.moves, 0);
	ck_assert_ptr_null(lookup(c, &pair[0]));
	ck_assert_ptr_nonnull(lookup(c, &newcomer));
	ck_assert_ptr_nonnull(lookup(c, &movable));
	for (unsigned i = 1; i < 7; i++)
		ck_assert_ptr_nonnull(lookup(c, &pair[i]));
	/* With nothing expired in the pair, a live entry is moved, not evicted. */
	struct dp_cache_key more = pair[0];

	ck_assert_int_eq(dp_cache_insert(c, entry_of(c, &more, 1000, 0, 6000)), 0);
	dp_cache_info(c, &info);
	ck_assert_uint_eq(info.evictions, 1);
	ck_assert_uint_eq(info.moves, 1);
	ck_assert_ptr_nonnull(lookup(c, &movable));
	dp_cache_reclaim(c);
	dp_cache_free(c);
}
END_TEST

static Suite *
stale_cache_suite(void)
{
	Suite *s = suite_create("cache_stale");
	TCase *tc = tcase_create("stale");

	tcase_add_test(tc, test_dp_cache_entry_stale_window);
	tcase_add_test(tc, test_dp_cache_entry_prefetch_due);
	tcase_add_test(tc, test_dp_cache_sweep_keeps_stale_answers);
	tcase_add_test(tc, test_dp_cache_insert_takes_expired_slot_first);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	px_test_eal_init("test_cache_stale", "0", NULL);
	dp_clock_init();
	qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	rte_rcu_qsbr_init(qsbr, RTE_MAX_LCORE);
	sr = srunner_create(stale_cache_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rte_free(qsbr);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
