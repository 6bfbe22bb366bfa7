/* SPDX-License-Identifier: BSD-3-Clause */
/* Workers feeding the cache through the control thread: dp_cache_feed. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dp_cache.h"
#include "dp_cache_feed.h"
#include "testlib.h"

#define PER_WORKER 2000

static struct rte_rcu_qsbr *qsbr;

static struct dp_cache_key
key_of(const char *name)
{
	struct dp_cache_key k = {.qtype = 1, .qclass = 1, .kind = DP_CACHE_RRSET};

	k.name_len = (uint8_t)px_test_name(k.name, name);
	return k;
}

static int
put_one(struct dp_cache_feed *f, const char *name, uint8_t fill, uint8_t flags, uint64_t now)
{
	uint8_t rr[16];
	uint16_t off = 6;
	struct dp_cache_key k = key_of(name);
	struct dp_cache_answer a = {.ttl = 60, .flags = flags, .an_count = 1, .rr = rr,
				    .rr_len = sizeof(rr), .ttl_off = &off, .ttl_off_count = 1};

	memset(rr, fill, sizeof(rr));
	return dp_cache_feed_put(f, &k, &a, now);
}

static const struct dp_cache_entry *
lookup(struct dp_cache *c, const char *name)
{
	struct dp_cache_key k = key_of(name);

	return dp_cache_lookup(c, k.name, k.name_len, k.qtype, k.qclass, k.kind);
}

static struct dp_cache_feed *feed;

static int
producer(void *arg)
{
	unsigned id = rte_lcore_id();
	char name[64];

	RTE_SET_USED(arg);
	for (int i = 0; i < PER_WORKER; i++) {
		snprintf(name, sizeof(name), "w%u-%d.feed.test", id, i);
		/* The pool is smaller than what is put: retry while the drain catches up. */
		while (put_one(feed, name, (uint8_t)id, 0, 1000) == -ENOBUFS)
			rte_pause();
	}
	return 0;
}

START_TEST(test_dp_cache_feed_workers_to_cache)
{
	struct dp_cache *c = dp_cache_create("feed_cache", 1 << 16, qsbr, 0);
	struct dp_cache_feed_stats st;
	unsigned lcore, workers = 0, drained = 0;
	char name[64];

	feed = dp_cache_feed_create("feed1", 256, 0);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(feed);
	RTE_LCORE_FOREACH_WORKER(lcore) {
		rte_eal_remote_launch(producer, NULL, lcore);
		workers++;
	}
	while (drained < workers * PER_WORKER)
		drained += dp_cache_feed_drain(feed, c, 64);
	rte_eal_mp_wait_lcore();
	ck_assert_uint_eq(dp_cache_feed_drain(feed, c, 64), 0);
	dp_cache_feed_stats(feed, &st);
	ck_assert_uint_eq(st.drained, workers * PER_WORKER);
	RTE_LCORE_FOREACH_WORKER(lcore) {
		for (int i = 0; i < PER_WORKER; i += 97) {
			snprintf(name, sizeof(name), "w%u-%d.feed.test", lcore, i);
			const struct dp_cache_entry *e = lookup(c, name);

			ck_assert_ptr_nonnull(e);
			ck_assert_uint_eq(dp_cache_entry_rr(e)[0], lcore);
			/* The TTL counts from when the worker resolved it. */
			ck_assert_int_eq(dp_cache_entry_ttl(e, 1000), 60);
			ck_assert_int_eq(dp_cache_entry_ttl(e, 61000), -1);
			ck_assert(!(e->flags & DP_CACHE_F_PINNED));
		}
	}
	dp_cache_feed_free(feed);
	dp_cache_free(c);
}
END_TEST

START_TEST(test_dp_cache_feed_keeps_pinned_and_bounds)
{
	struct dp_cache *c = dp_cache_create("feed_cache2", 64, qsbr, 0);
	struct dp_cache_feed *f = dp_cache_feed_create("feed2", 8, 0);
	struct dp_cache_feed_stats st;
	struct dp_cache_key k = key_of("local.feed.test");
	uint8_t rr[16] = {0x77};
	struct dp_cache_answer pinned = {.ttl = 60, .flags = DP_CACHE_F_PINNED, .rr = rr,
					 .rr_len = sizeof(rr)};
	int ok = 0, full = 0;

	ck_assert_int_eq(dp_cache_insert(c, dp_cache_entry_new(c, &k, &pinned, 0)), 0);
	ck_assert_int_eq(put_one(f, "local.feed.test", 0x11, DP_CACHE_F_PINNED, 0), 0);
	ck_assert_uint_eq(dp_cache_feed_drain(f, c, 10), 1);
	dp_cache_feed_stats(f, &st);
	ck_assert_uint_eq(st.kept_pinned, 1);
	ck_assert_uint_eq(dp_cache_entry_rr(lookup(c, "local.feed.test"))[0], 0x77);

	/* A full feed refuses and counts; nothing blocks. */
	for (int i = 0; i < 100; i++) {
		char name[32];

		snprintf(name, sizeof(name), "f%d.feed.test", i);
		int r = put_one(f, name, 1, 0, 0);

		if (r == 0)
			ok++;
		else if (r == -ENOBUFS)
			full++;
	}
	ck_assert_int_ge(ok, 8);
	ck_assert_int_eq(ok + full, 100);

	/* Larger than a request: refused. */
	static uint8_t big[DP_CACHE_FEED_RR_MAX + 1];
	struct dp_cache_answer a = {.ttl = 1, .rr = big, .rr_len = sizeof(big)};

	ck_assert_int_eq(dp_cache_feed_put(f, &k, &a, 0), -EINVAL);
	/* Freeing with requests still queued returns them to the pool. */
	dp_cache_feed_free(f);
	dp_cache_free(c);
}
END_TEST

static Suite *
cache_feed_suite(void)
{
	Suite *s = suite_create("cache_feed");
	TCase *tc = tcase_create("feed");

	tcase_add_test(tc, test_dp_cache_feed_workers_to_cache);
	tcase_add_test(tc, test_dp_cache_feed_keeps_pinned_and_bounds);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	px_test_eal_init("test_cache_feed", "0@0,1@1,2@1", NULL);
	qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	rte_rcu_qsbr_init(qsbr, RTE_MAX_LCORE);
	sr = srunner_create(cache_feed_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rte_free(qsbr);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
