/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cache with several writers: a worker's insert from its size-class pools, dropped and
 * counted (never waited for) when another writer holds a bucket; the defer queue each writer
 * reclaims; and worker lcores inserting, replacing and looking up the same few buckets while
 * the control thread deletes and sweeps, with no torn, duplicated or leaked entry.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include "dp_cache.h"
#include "dp_cache_int.h"
#include "dp_clock.h"
#include "testlib.h"

static struct rte_rcu_qsbr *qsbr;

static struct dp_cache_key
key_of(const char *name, uint16_t qtype)
{
	struct dp_cache_key k = {.qtype = qtype, .qclass = 1, .kind = DP_CACHE_RRSET};

	k.name_len = (uint8_t)px_test_name(k.name, name);
	return k;
}

/* rr_len bytes all equal to fill, so a reader can tell a torn or stale read. */
static int
put(struct dp_cache_writer *w, const struct dp_cache_key *k, uint8_t fill, uint16_t rr_len,
    uint8_t flags)
{
	static uint8_t rr[DP_CACHE_RR_MAX];
	uint8_t buf[DP_CACHE_RR_MAX];
	struct dp_cache_answer a = {.ttl = 300, .flags = flags, .an_count = 1, .rr = buf,
				    .rr_len = rr_len};

	RTE_SET_USED(rr);
	memset(buf, fill, rr_len);
	return dp_cache_put(w, k, &a, 0);
}

static const struct dp_cache_entry *
lookup(struct dp_cache *c, const struct dp_cache_key *k)
{
	return dp_cache_lookup(c, k->name, k->name_len, k->qtype, k->qclass, k->kind);
}

/* Objects of every class back in their pools: nothing leaked, nothing freed twice. */
static void
assert_pools_full(const struct dp_cache *c)
{
	for (int k = 0; k < DP_CACHE_CLASS_COUNT; k++) {
		const struct rte_mempool *mp = c->pools[0].mp[k];

		ck_assert_uint_eq(rte_mempool_avail_count(mp), mp->size);
	}
}

/* Drains every writer's queue (no reader is online here). */
static void
reclaim_all(struct dp_cache *c)
{
	rte_rcu_qsbr_synchronize(qsbr, RTE_QSBR_THRID_INVALID);
	for (uint32_t i = 0; i < c->writer_count; i++)
		rte_rcu_qsbr_dq_reclaim(c->writers[i]->dq, UINT32_MAX, NULL, NULL, NULL);
}

START_TEST(test_dp_cache_put_inserts_from_pools)
{
	struct dp_cache *c = dp_cache_create("test_cw_put", 1024, qsbr, 0);
	struct dp_cache_writer *w = dp_cache_writer_create(c, 0, 0);
	struct dp_cache_key small = key_of("small.test", 1), big = key_of("big.test", 1);
	const struct dp_cache_entry *e;
	struct dp_cache_info info;

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(put(w, &small, 0x5a, 16, DP_CACHE_F_PINNED), 0);
	ck_assert_int_eq(put(w, &big, 0xa5, DP_CACHE_RR_MAX, 0), 0);
	e = lookup(c, &small);
	ck_assert_ptr_nonnull(e);
	/* A worker adds cache, never configuration. */
	ck_assert_uint_eq(e->flags & DP_CACHE_F_PINNED, 0);
	ck_assert_uint_eq(dp_cache_entry_rr(e)[15], 0x5a);
	/* Each from the smallest class it fits. */
	ck_assert_ptr_eq(rte_mempool_from_obj((void *)(uintptr_t)e), c->pools[0].mp[0]);
	e = lookup(c, &big);
	ck_assert_uint_eq(e->rr_len, DP_CACHE_RR_MAX);
	ck_assert_ptr_eq(rte_mempool_from_obj((void *)(uintptr_t)e), c->pools[0].mp[2]);
	/* Over the largest class: refused, not taken from the heap. */
	struct dp_cache_key huge = key_of("huge.test", 1);
	static uint8_t rr[DP_CACHE_RR_MAX + 600];
	struct dp_cache_answer a = {.ttl = 1, .rr = rr, .rr_len = sizeof(rr)};

	ck_assert_int_eq(dp_cache_put(w, &huge, &a, 0), -E2BIG);
	/* A replacement goes to the worker's own defer queue, freed by its reclaim. */
	ck_assert_int_eq(put(w, &small, 0x11, 16, 0), 0);
	ck_assert_uint_eq(w->dq_pending, 1);
	rte_rcu_qsbr_synchronize(qsbr, RTE_QSBR_THRID_INVALID);
	dp_cache_writer_reclaim(w);
	ck_assert_uint_eq(w->dq_pending, 0);
	dp_cache_info(c, &info);
	ck_assert_uint_eq(info.entries, 2);
	ck_assert_uint_eq(info.writers, 2);
	ck_assert_uint_eq(info.replaces, 1);
	dp_cache_flush(c, true);
	reclaim_all(c);
	assert_pools_full(c);
	dp_cache_free(c);
}
END_TEST

/* A held bucket: the worker's insert returns at once, counted; the control thread's waits. */
START_TEST(test_dp_cache_put_contended_is_dropped)
{
	struct dp_cache *c = dp_cache_create("test_cw_busy", 1024, qsbr, 0);
	struct dp_cache_writer *w = dp_cache_writer_create(c, 0, 0);
	struct dp_cache_key k = key_of("busy.test", 1);
	uint32_t idx[2];
	struct dp_cache_info info;

	dp_cache_buckets(c, dp_cache_hash(c, k.name, k.name_len, k.qtype, k.qclass, k.kind), idx);
	for (int b = 0; b < 2; b++) {
		__atomic_store_n(&c->buckets[idx[b]].lock, 1, __ATOMIC_RELEASE);
		ck_assert_int_eq(put(w, &k, 1, 8, 0), -EBUSY);
		__atomic_store_n(&c->buckets[idx[b]].lock, 0, __ATOMIC_RELEASE);
	}
	ck_assert_ptr_null(lookup(c, &k));
	dp_cache_info(c, &info);
	ck_assert_uint_eq(info.contended, 2);
	ck_assert_uint_eq(info.entries, 0);
	/* The dropped entries went back to their pool. */
	assert_pools_full(c);
	ck_assert_int_eq(put(w, &k, 1, 8, 0), 0);
	ck_assert_ptr_nonnull(lookup(c, &k));
	dp_cache_free(c);
}
END_TEST

/* Configuration (pinned, the control thread's) is kept against a worker's insert. */
START_TEST(test_dp_cache_put_keeps_configuration)
{
	struct dp_cache *c = dp_cache_create("test_cw_pin", 64, qsbr, 0);
	struct dp_cache_writer *w = dp_cache_writer_create(c, 0, 0);
	struct dp_cache_key k = key_of("zone.test", 1);
	uint8_t rr[8] = {7, 7, 7, 7, 7, 7, 7, 7};
	struct dp_cache_answer a = {.ttl = 60, .flags = DP_CACHE_F_PINNED, .rr = rr, .rr_len = 8};
	struct dp_cache_info info;

	ck_assert_int_eq(dp_cache_insert(c, dp_cache_entry_new(c, &k, &a, 0)), 0);
	ck_assert_int_eq(put(w, &k, 1, 8, 0), -EEXIST);
	ck_assert_uint_eq(dp_cache_entry_rr(lookup(c, &k))[0], 7);
	dp_cache_info(c, &info);
	ck_assert_uint_eq(info.kept, 1);
	ck_assert_uint_eq(info.pinned, 1);
	dp_cache_free(c);
}
END_TEST

/* The control thread reads an entry only as a copy made under the bucket locks. */
START_TEST(test_dp_cache_entry_clone)
{
	struct dp_cache *c = dp_cache_create("test_cw_clone", 64, qsbr, 0);
	struct dp_cache_writer *w = dp_cache_writer_create(c, 0, 0);
	struct dp_cache_key k = key_of("clone.test", 1), none = key_of("none.test", 1);
	uint8_t rr[40];
	struct dp_cache_answer a = {.ttl = 60, .an_count = 1, .rr = rr, .rr_len = sizeof(rr)};
	struct dp_cache_entry *copy;
	const struct dp_cache_entry *e;

	memset(rr, 0x3c, sizeof(rr));
	ck_assert_int_eq(dp_cache_put(w, &k, &a, 1234), 0);
	e = lookup(c, &k);
	copy = dp_cache_entry_clone(c, &k);
	ck_assert_ptr_nonnull(copy);
	ck_assert_ptr_ne(copy, e);
	ck_assert_uint_eq(copy->insert_ms, 1234);
	ck_assert_uint_eq(copy->expire_ms, e->expire_ms);
	ck_assert_uint_eq(copy->rr_len, sizeof(rr));
	ck_assert_int_eq(memcmp(dp_cache_entry_rr(copy), rr, sizeof(rr)), 0);
	dp_cache_entry_free(copy);
	errno = 0;
	ck_assert_ptr_null(dp_cache_entry_clone(c, &none));
	ck_assert_int_eq(errno, ENOENT);
	dp_cache_free(c);
}
END_TEST

/* A worker whose defer queue is full drops the insert rather than wait or leak. */
START_TEST(test_dp_cache_put_dq_full_is_dropped)
{
	struct dp_cache *c = dp_cache_create("test_cw_dq", 64, qsbr, 0);
	struct dp_cache_writer *w = dp_cache_writer_create(c, 0, 8);
	struct dp_cache_key k = key_of("dq.test", 1);
	unsigned ok = 0;
	int ret = 0;

	/* A reader online that never reports holds every retirement back. */
	ck_assert_int_eq(rte_rcu_qsbr_thread_register(qsbr, 0), 0);
	rte_rcu_qsbr_thread_online(qsbr, 0);
	for (int i = 0; i < 100 && ret == 0; i++) {
		ret = put(w, &k, (uint8_t)i, 8, 0);
		ok += ret == 0;
	}
	ck_assert_int_eq(ret, -ENOBUFS);
	ck_assert_uint_ge(ok, 9);
	rte_rcu_qsbr_thread_offline(qsbr, 0);
	rte_rcu_qsbr_thread_unregister(qsbr, 0);
	dp_cache_writer_reclaim(w);
	ck_assert_int_eq(put(w, &k, 1, 8, 0), 0);
	dp_cache_flush(c, true);
	reclaim_all(c);
	assert_pools_full(c);
	dp_cache_free(c);
}
END_TEST

/* Several writers: each worker lcore inserts and replaces keys that share a handful of buckets
 * (a 16-slot table for 48 keys: moves and evictions all the time) and checks every hit; the
 * main lcore deletes and sweeps meanwhile. */
#define MW_KEYS 48
#define MW_ROUNDS 60000
static struct dp_cache *mw_cache;
static struct dp_cache_writer *mw_writer[RTE_MAX_LCORE];
static struct dp_cache_key mw_keys[MW_KEYS];
static bool mw_stop;
static uint64_t mw_hits[RTE_MAX_LCORE], mw_bad[RTE_MAX_LCORE], mw_ok[RTE_MAX_LCORE];
static uint64_t mw_busy[RTE_MAX_LCORE];

/* The entry must be the key's, whole: every rr byte equal and naming the key. */
static bool
mw_check(const struct dp_cache_entry *e, unsigned k)
{
	const uint8_t *rr = dp_cache_entry_rr(e);

	if (e->name_len != mw_keys[k].name_len ||
	    memcmp(dp_cache_entry_name(e), mw_keys[k].name, e->name_len) != 0 ||
	    e->rr_len != 24 + (k % 4) * 200 || (rr[0] & 0x3f) != k)
		return false;
	for (unsigned b = 1; b < e->rr_len; b++)
		if (rr[b] != rr[0])
			return false;
	return true;
}

static int
mw_worker(void *arg)
{
	unsigned id = rte_lcore_id();
	struct dp_cache_writer *w = mw_writer[id];
	uint32_t x = id * 2654435761u;

	RTE_SET_USED(arg);
	rte_rcu_qsbr_thread_register(qsbr, id);
	rte_rcu_qsbr_thread_online(qsbr, id);
	for (unsigned n = 0; n < MW_ROUNDS; n++) {
		unsigned k;
		const struct dp_cache_entry *e;

		x = x * 1103515245u + 12345u;
		k = (x >> 8) % MW_KEYS;
		if (x & 0x10000) {
			int ret = put(w, &mw_keys[k], (uint8_t)(((n & 3) << 6) | k),
				      (uint16_t)(24 + (k % 4) * 200), 0);

			mw_ok[id] += ret == 0;
			mw_busy[id] += ret == -EBUSY;
			if (ret != 0 && ret != -EBUSY && ret != -ENOBUFS)
				mw_bad[id]++;
		}
		e = lookup(mw_cache, &mw_keys[k]);
		if (e != NULL) {
			mw_hits[id]++;
			mw_bad[id] += !mw_check(e, k);
		}
		if ((n & 7) == 0) {
			rte_rcu_qsbr_quiescent(qsbr, id);
			dp_cache_writer_reclaim(w);
		}
	}
	rte_rcu_qsbr_thread_offline(qsbr, id);
	rte_rcu_qsbr_thread_unregister(qsbr, id);
	return 0;
}

START_TEST(test_dp_cache_writers_concurrent)
{
	unsigned lcore, workers = 0, found = 0;
	uint64_t hits = 0, bad = 0, ok = 0, busy = 0;
	struct dp_cache_info info;
	char name[32];

	mw_cache = dp_cache_create("test_cw_mw", 16, qsbr, 0);
	ck_assert_ptr_nonnull(mw_cache);
	for (int i = 0; i < MW_KEYS; i++) {
		snprintf(name, sizeof(name), "k%d.mw.test", i);
		mw_keys[i] = key_of(name, 1);
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		mw_writer[lcore] = dp_cache_writer_create(mw_cache, 0, 64);
		ck_assert_ptr_nonnull(mw_writer[lcore]);
	}
	mw_stop = false;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		rte_eal_remote_launch(mw_worker, NULL, lcore);
		workers++;
	}
	ck_assert_uint_ge(workers, 2);
	/* The control thread deletes and sweeps while they run (it waits for their locks). */
	for (unsigned n = 0; rte_eal_get_lcore_state(rte_get_next_lcore(-1, 1, 0)) == RUNNING ||
			     n < 1000; n++) {
		dp_cache_delete(mw_cache, &mw_keys[(n * 7u) % MW_KEYS]);
		dp_cache_sweep(mw_cache, UINT64_MAX / 2, 2);
		dp_cache_reclaim(mw_cache);
		if (n > 10000000)
			break;
	}
	rte_eal_mp_wait_lcore();
	RTE_LCORE_FOREACH_WORKER(lcore) {
		hits += mw_hits[lcore];
		bad += mw_bad[lcore];
		ok += mw_ok[lcore];
		busy += mw_busy[lcore];
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_gt(hits, 0);
	ck_assert_uint_gt(ok, 0);
	/* Every key at most once in the table, and the table holds what the counters say. */
	for (int k = 0; k < MW_KEYS; k++) {
		unsigned copies = 0;

		for (uint32_t b = 0; b <= mw_cache->mask; b++)
			for (int i = 0; i < DP_CACHE_WAYS; i++) {
				const struct dp_cache_entry *e = mw_cache->buckets[b].e[i];

				if (e != NULL && mw_check(e, (unsigned)k))
					copies++;
			}
		ck_assert_uint_le(copies, 1);
		found += copies;
	}
	dp_cache_info(mw_cache, &info);
	ck_assert_uint_eq(info.entries, found);
	ck_assert_uint_eq(info.contended, busy);
	ck_assert_uint_gt(info.evictions, 0);
	/* Everything retired is freed once, and nothing else. */
	dp_cache_flush(mw_cache, true);
	reclaim_all(mw_cache);
	assert_pools_full(mw_cache);
	dp_cache_free(mw_cache);
}
END_TEST

static Suite *
cache_writers_suite(void)
{
	Suite *s = suite_create("cache_writers");
	TCase *tc;

	tc = tcase_create("put");
	tcase_add_test(tc, test_dp_cache_put_inserts_from_pools);
	tcase_add_test(tc, test_dp_cache_put_contended_is_dropped);
	tcase_add_test(tc, test_dp_cache_put_keeps_configuration);
	tcase_add_test(tc, test_dp_cache_put_dq_full_is_dropped);
	tcase_add_test(tc, test_dp_cache_entry_clone);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrency");
	tcase_add_test(tc, test_dp_cache_writers_concurrent);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	/* Three writer lcores on the machine's two CPUs: contention without needing more. */
	px_test_eal_init("test_cache_writers", "0@0,1@1,2@0,3@1", NULL);
	dp_clock_init();
	qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	rte_rcu_qsbr_init(qsbr, RTE_MAX_LCORE);

	sr = srunner_create(cache_writers_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rte_free(qsbr);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
