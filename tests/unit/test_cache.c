/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The answer cache: insert, lookup, TTL countdown, expiry, eviction, pinning, and readers on
 * other lcores looking up while the control thread inserts, replaces and deletes under RCU.
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
key_of(const char *name, uint16_t qtype)
{
	struct dp_cache_key k = {.qtype = qtype, .qclass = 1, .kind = DP_CACHE_RRSET};

	k.name_len = (uint8_t)px_test_name(k.name, name);
	return k;
}

/* An entry whose rr bytes all equal `fill`, so a reader can tell a torn or stale read. */
static struct dp_cache_entry *
entry_of(struct dp_cache *c, const struct dp_cache_key *k, uint32_t ttl, uint8_t fill,
	 uint8_t flags, uint64_t now_ms)
{
	uint8_t rr[64];
	struct dp_cache_answer a = {.ttl = ttl, .flags = flags, .an_count = 1, .rr = rr,
				    .rr_len = sizeof(rr)};

	memset(rr, fill, sizeof(rr));
	return dp_cache_entry_new(c, k, &a, now_ms);
}

static const struct dp_cache_entry *
lookup(struct dp_cache *c, const struct dp_cache_key *k)
{
	return dp_cache_lookup(c, k->name, k->name_len, k->qtype, k->qclass, k->kind);
}

static struct dp_cache *
new_cache(uint32_t n)
{
	struct dp_cache *c = dp_cache_create("test_cache", n, qsbr, 0);

	ck_assert_ptr_nonnull(c);
	return c;
}

START_TEST(test_dp_cache_lookup_hit_and_miss)
{
	struct dp_cache *c = new_cache(1024);
	struct dp_cache_key k = key_of("www.example.test", 1);
	struct dp_cache_key other = key_of("www.example.test", 28);
	const struct dp_cache_entry *e;

	ck_assert_ptr_null(lookup(c, &k));
	ck_assert_int_eq(dp_cache_insert(c, entry_of(c, &k, 300, 0x11, 0, 0)), 0);
	e = lookup(c, &k);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->rr_len, 64);
	ck_assert_uint_eq(dp_cache_entry_rr(e)[0], 0x11);
	/* Same name, other type; other kind; other class: all misses. */
	ck_assert_ptr_null(lookup(c, &other));
	k.kind = DP_CACHE_NAME;
	ck_assert_ptr_null(lookup(c, &k));
	k.kind = DP_CACHE_RRSET;
	k.qclass = 3;
	ck_assert_ptr_null(lookup(c, &k));
	dp_cache_free(c);
}
END_TEST

START_TEST(test_dp_cache_insert_replaces)
{
	struct dp_cache *c = new_cache(1024);
	struct dp_cache_key k = key_of("a.test", 1);
	struct dp_cache_info info;

	dp_cache_insert(c, entry_of(c, &k, 300, 1, 0, 0));
	dp_cache_insert(c, entry_of(c, &k, 300, 2, 0, 0));
	ck_assert_uint_eq(dp_cache_entry_rr(lookup(c, &k))[0], 2);
	dp_cache_info(c, &info);
	ck_assert_uint_eq(info.entries, 1);
	ck_assert_uint_eq(info.replaces, 1);
	dp_cache_free(c);
}
END_TEST

START_TEST(test_dp_cache_entry_ttl_countdown)
{
	struct dp_cache *c = new_cache(64);
	struct dp_cache_key k = key_of("ttl.test", 1);
	struct dp_cache_entry *e = entry_of(c, &k, 10, 0, 0, 5000);

	ck_assert_int_eq(dp_cache_entry_ttl(e, 5000), 10);
	ck_assert_int_eq(dp_cache_entry_ttl(e, 5999), 9);
	ck_assert_int_eq(dp_cache_entry_ttl(e, 6500), 8);
	ck_assert_int_eq(dp_cache_entry_ttl(e, 14999), 0);
	/* Expired: never served. */
	ck_assert_int_eq(dp_cache_entry_ttl(e, 15000), -1);
	ck_assert_int_eq(dp_cache_entry_ttl(e, 1000000), -1);
	dp_cache_entry_free(e);
	dp_cache_free(c);
}
END_TEST

START_TEST(test_dp_cache_entry_ttl_pinned_cycles)
{
	struct dp_cache *c = new_cache(64);
	struct dp_cache_key k = key_of("pinned.test", 1);
	struct dp_cache_entry *e = entry_of(c, &k, 10, 0, DP_CACHE_F_PINNED, 0);

	ck_assert_int_eq(dp_cache_entry_ttl(e, 0), 10);
	ck_assert_int_eq(dp_cache_entry_ttl(e, 1000), 9);
	ck_assert_int_eq(dp_cache_entry_ttl(e, 9999), 1);
	ck_assert_int_eq(dp_cache_entry_ttl(e, 10000), 10);
	ck_assert_int_eq(dp_cache_entry_ttl(e, 123456789), 10 - (123456 % 10));
	dp_cache_entry_free(e);
	dp_cache_free(c);
}
END_TEST

START_TEST(test_dp_cache_entry_new_rejects_bad_offsets)
{
	struct dp_cache *c = new_cache(64);
	struct dp_cache_key k = key_of("x.test", 1);
	uint8_t rr[16] = {0};
	uint16_t off = 13; /* a TTL at 13 would end at 17 > 16 */
	struct dp_cache_answer a = {.rr = rr, .rr_len = 16, .ttl_off = &off, .ttl_off_count = 1};

	ck_assert_ptr_null(dp_cache_entry_new(c, &k, &a, 0));
	off = 12;
	struct dp_cache_entry *e = dp_cache_entry_new(c, &k, &a, 0);

	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(dp_cache_entry_ttl_off(e)[0], 12);
	dp_cache_entry_free(e);
	dp_cache_free(c);
}
END_TEST

START_TEST(test_dp_cache_insert_evicts_when_full)
{
	/* 8 slots: 2 buckets of 4. */
	struct dp_cache *c = new_cache(8);
	struct dp_cache_info info;
	char name[32];

	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		struct dp_cache_key k = key_of(name, 1);

		ck_assert_int_eq(dp_cache_insert(c, entry_of(c, &k, 100 + i, 0, 0, 0)), 0);
		/* The newest entry is always findable right after its insertion. */
		ck_assert_ptr_nonnull(lookup(c, &k));
	}
	dp_cache_info(c, &info);
	ck_assert_uint_eq(info.slots, 8);
	ck_assert_uint_le(info.entries, 8);
	ck_assert_uint_ge(info.evictions, 192);
	ck_assert_uint_eq(info.inserts, 200);
	dp_cache_free(c);
}
END_TEST

START_TEST(test_dp_cache_insert_evicts_soonest_expiry)
{
	struct dp_cache *c = new_cache(8);
	char name[32];
	struct dp_cache_key keys[64];
	int n = 0;

	/* Fill until the first eviction; every entry outlives the first one. */
	for (;; n++) {
		struct dp_cache_info info;

		snprintf(name, sizeof(name), "e%d.test", n);
		keys[n] = key_of(name, 1);
		dp_cache_insert(c, entry_of(c, &keys[n], n == 0 ? 5 : 1000, 0, 0, 0));
		dp_cache_info(c, &info);
		if (info.evictions > 0 || n == 63)
			break;
	}
	ck_assert_int_lt(n, 63);
	/* If the new key's buckets included the short-lived entry, it was the one to go. */
	if (lookup(c, &keys[0]) == NULL) {
		for (int i = 1; i <= n; i++)
			ck_assert_ptr_nonnull(lookup(c, &keys[i]));
	}
	dp_cache_free(c);
}
END_TEST

START_TEST(test_dp_cache_pinned_never_evicted)
{
	struct dp_cache *c = new_cache(8);
	struct dp_cache_info info;
	char name[32];
	int ok = 0, nospc = 0;

	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "p%d.test", i);
		struct dp_cache_key k = key_of(name, 1);
		int r = dp_cache_insert(c, entry_of(c, &k, 10, 0, DP_CACHE_F_PINNED, 0));

		if (r == 0)
			ok++;
		else if (r == -ENOSPC)
			nospc++;
	}
	dp_cache_info(c, &info);
	ck_assert_int_eq(ok + nospc, 100);
	ck_assert_int_le(ok, 8);
	ck_assert_uint_eq(info.pinned, (uint32_t)ok);
	ck_assert_uint_eq(info.evictions, 0);
	ck_assert_uint_eq(info.insert_failures, (uint64_t)nospc);
	/* An unpinned entry can't displace them either once both buckets are pinned-full. */
	dp_cache_flush(c, false);
	dp_cache_info(c, &info);
	ck_assert_uint_eq(info.pinned, (uint32_t)ok);
	dp_cache_flush(c, true);
	dp_cache_info(c, &info);
	ck_assert_uint_eq(info.entries, 0);
	dp_cache_free(c);
}
END_TEST

START_TEST(test_dp_cache_delete_and_sweep)
{
	struct dp_cache *c = new_cache(1024);
	struct dp_cache_key a = key_of("a.test", 1), b = key_of("b.test", 1);
	struct dp_cache_key p = key_of("p.test", 1);
	struct dp_cache_info info;

	dp_cache_insert(c, entry_of(c, &a, 1, 0, 0, 0));
	dp_cache_insert(c, entry_of(c, &b, 100, 0, 0, 0));
	dp_cache_insert(c, entry_of(c, &p, 1, 0, DP_CACHE_F_PINNED, 0));
	ck_assert_int_eq(dp_cache_delete(c, &b), 0);
	ck_assert_int_eq(dp_cache_delete(c, &b), -ENOENT);
	ck_assert_ptr_null(lookup(c, &b));
	/* At 2 s, a has expired; the pinned one never does. */
	ck_assert_uint_eq(dp_cache_sweep(c, 2000, 1u << 20), 1);
	ck_assert_ptr_null(lookup(c, &a));
	ck_assert_ptr_nonnull(lookup(c, &p));
	dp_cache_info(c, &info);
	ck_assert_uint_eq(info.entries, 1);
	ck_assert_uint_eq(info.expired_swept, 1);
	dp_cache_reclaim(c);
	dp_cache_free(c);
}
END_TEST

/* Concurrency: readers on worker lcores, the writer on the main lcore. */
#define CONC_KEYS 64
static struct dp_cache *conc_cache;
static struct dp_cache_key conc_keys[CONC_KEYS];
static bool conc_stop;
static uint64_t conc_hits[RTE_MAX_LCORE], conc_bad[RTE_MAX_LCORE];

static int
conc_reader(void *arg)
{
	unsigned id = rte_lcore_id();
	unsigned i = 0;

	RTE_SET_USED(arg);
	rte_rcu_qsbr_thread_register(qsbr, id);
	rte_rcu_qsbr_thread_online(qsbr, id);
	while (!__atomic_load_n(&conc_stop, __ATOMIC_RELAXED)) {
		const struct dp_cache_key *k = &conc_keys[i++ % CONC_KEYS];
		const struct dp_cache_entry *e = lookup(conc_cache, k);

		if (e != NULL) {
			const uint8_t *rr = dp_cache_entry_rr(e);

			conc_hits[id]++;
			/* The entry must be the key's, whole and unchanged: every rr byte equal
			 * and the version byte's low bits naming the key. */
			if (e->name_len != k->name_len ||
			    memcmp(dp_cache_entry_name(e), k->name, k->name_len) != 0 ||
			    (rr[0] & 0x3f) != (i - 1) % CONC_KEYS)
				conc_bad[id]++;
			for (unsigned b = 1; b < e->rr_len; b++)
				if (rr[b] != rr[0])
					conc_bad[id]++;
		}
		if ((i & 15) == 0)
			rte_rcu_qsbr_quiescent(qsbr, id);
	}
	rte_rcu_qsbr_thread_offline(qsbr, id);
	rte_rcu_qsbr_thread_unregister(qsbr, id);
	return 0;
}

START_TEST(test_dp_cache_concurrent_readers)
{
	unsigned lcore, readers = 0;
	struct dp_cache_info info;
	char name[32];
	uint64_t hits = 0, bad = 0;

	conc_cache = new_cache(4096);
	for (int i = 0; i < CONC_KEYS; i++) {
		snprintf(name, sizeof(name), "k%d.conc.test", i);
		conc_keys[i] = key_of(name, 1);
	}
	conc_stop = false;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		rte_eal_remote_launch(conc_reader, NULL, lcore);
		readers++;
	}
	ck_assert_uint_ge(readers, 2);
	/* 100k writes: inserts, in-place replacements and deletions, all retired through RCU. */
	for (unsigned n = 0; n < 100000; n++) {
		unsigned k = (n * 7919u) % CONC_KEYS;
		uint8_t version = (uint8_t)((((n / CONC_KEYS) & 3) << 6) | k);

		if (n % 5 == 4)
			dp_cache_delete(conc_cache, &conc_keys[k]);
		else
			ck_assert_int_eq(dp_cache_insert(conc_cache, entry_of(conc_cache,
				&conc_keys[k], 300, version, 0, 0)), 0);
	}
	__atomic_store_n(&conc_stop, true, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	RTE_LCORE_FOREACH_WORKER(lcore) {
		hits += conc_hits[lcore];
		bad += conc_bad[lcore];
	}
	ck_assert_uint_gt(hits, 0);
	ck_assert_uint_eq(bad, 0);
	dp_cache_info(conc_cache, &info);
	ck_assert_uint_le(info.entries, CONC_KEYS);
	dp_cache_free(conc_cache);
}
END_TEST

/* The name compare of the lookup: every length, a difference at every position. */
START_TEST(test_dp_cache_name_eq)
{
	uint8_t a[64], b[64];

	for (unsigned i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (uint8_t)(i * 7 + 1);
	for (unsigned len = 0; len <= 48; len++) {
		ck_assert(dp_cache_name_eq(a, b, len));
		for (unsigned pos = 0; pos < len; pos++) {
			b[pos] ^= 0x20;
			ck_assert_msg(!dp_cache_name_eq(a, b, len), "len %u pos %u", len, pos);
			b[pos] ^= 0x20;
		}
		/* A difference past the end is not looked at. */
		b[len] ^= 1;
		ck_assert(dp_cache_name_eq(a, b, len));
		b[len] ^= 1;
	}
}
END_TEST

static struct dp_cache *
new_keyed(uint32_t n, uint64_t k0, uint64_t k1)
{
	static unsigned seq;
	const struct px_siphash_key key = {k0, k1};
	char name[32];

	/* The defer queue's ring takes the name: each live cache needs its own. */
	snprintf(name, sizeof(name), "test_keyed%u", seq++);
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

/* The same key gives the same layout; another key a different one for nearly every name. */
START_TEST(test_dp_cache_bucket_follows_key)
{
	/* 2^14 buckets: two independent keys agree on a name's bucket 1 time in 16384. */
	struct dp_cache *a = new_keyed(1 << 16, 1, 2), *a2 = new_keyed(1 << 16, 1, 2);
	struct dp_cache *b = new_keyed(1 << 16, 3, 4);
	struct dp_cache *r1 = dp_cache_create("test_cache_r1", 1 << 16, qsbr, 0);
	struct dp_cache *r2 = dp_cache_create("test_cache_r2", 1 << 16, qsbr, 0);
	unsigned same_ab = 0, same_r = 0;
	char name[32];

	ck_assert(r1 != NULL && r2 != NULL);
	for (unsigned i = 0; i < 1000; i++) {
		uint32_t ia[2], ia2[2], ib[2], ir1[2], ir2[2];

		snprintf(name, sizeof(name), "host%u.example.test", i);
		struct dp_cache_key k = key_of(name, 1);

		buckets_of(a, &k, ia);
		buckets_of(a2, &k, ia2);
		buckets_of(b, &k, ib);
		buckets_of(r1, &k, ir1);
		buckets_of(r2, &k, ir2);
		ck_assert_uint_eq(ia[0], ia2[0]);
		ck_assert_uint_eq(ia[1], ia2[1]);
		ck_assert_uint_ne(ia[0], ia[1]);
		same_ab += ia[0] == ib[0];
		/* dp_cache_create draws its own key: two caches differ too. */
		same_r += ir1[0] == ir2[0];
	}
	ck_assert_uint_le(same_ab, 5);
	ck_assert_uint_le(same_r, 5);
	/* The type, class and kind are part of the key as well. */
	struct dp_cache_key k = key_of("www.example.test", 1), k28 = key_of("www.example.test", 28);

	ck_assert_uint_ne(dp_cache_hash(a, k.name, k.name_len, 1, 1, DP_CACHE_RRSET),
			  dp_cache_hash(a, k28.name, k28.name_len, 28, 1, DP_CACHE_RRSET));
	ck_assert_uint_ne(dp_cache_hash(a, k.name, k.name_len, 1, 1, DP_CACHE_RRSET),
			  dp_cache_hash(a, k.name, k.name_len, 1, 1, DP_CACHE_CUT));
	dp_cache_free(a);
	dp_cache_free(a2);
	dp_cache_free(b);
	dp_cache_free(r1);
	dp_cache_free(r2);
}
END_TEST

/*
 * What an attacker who knew the hash would do: nine names that share both buckets push one
 * another out of an eight-slot pair, so a few queries evict a chosen entry. Found under one key,
 * they are an ordinary spread of names under another, and nothing is evicted.
 */
START_TEST(test_dp_cache_collisions_do_not_carry_over)
{
	/* 16 buckets, so that a brute-force search finds a full pair in a few hundred names. */
	struct dp_cache *a = new_keyed(64, 0x0123456789abcdefull, 0xfedcba9876543210ull);
	struct dp_cache *b = new_keyed(64, 0x1111111111111111ull, 0x2222222222222222ull);
	struct dp_cache_key keys[9];
	struct dp_cache_info info;
	uint32_t pair[2], idx[2];
	unsigned n = 0, found = 0, first_b = 0, distinct_b = 0;
	char name[32];

	for (unsigned i = 0; n < 9 && i < 100000; i++) {
		snprintf(name, sizeof(name), "victim%u.example.test", i);
		struct dp_cache_key k = key_of(name, 1);

		buckets_of(a, &k, idx);
		if (n == 0) {
			pair[0] = idx[0];
			pair[1] = idx[1];
		} else if (!((idx[0] == pair[0] && idx[1] == pair[1]) ||
			     (idx[0] == pair[1] && idx[1] == pair[0]))) {
			continue;
		}
		keys[n++] = k;
	}
	ck_assert_uint_eq(n, 9);
	for (unsigned i = 0; i < 9; i++)
		ck_assert_int_eq(dp_cache_insert(a, entry_of(a, &keys[i], 100 + i, 0, 0, 0)), 0);
	dp_cache_info(a, &info);
	ck_assert_uint_eq(info.evictions, 1);
	for (unsigned i = 0; i < 9; i++)
		found += lookup(a, &keys[i]) != NULL;
	ck_assert_uint_eq(found, 8);

	for (unsigned i = 0; i < 9; i++) {
		buckets_of(b, &keys[i], idx);
		if (i == 0)
			first_b = idx[0];
		distinct_b += i > 0 && idx[0] != first_b && idx[1] != first_b;
		ck_assert_int_eq(dp_cache_insert(b, entry_of(b, &keys[i], 100 + i, 0, 0, 0)), 0);
	}
	ck_assert_uint_ge(distinct_b, 4);
	dp_cache_info(b, &info);
	ck_assert_uint_eq(info.evictions, 0);
	for (unsigned i = 0; i < 9; i++)
		ck_assert_ptr_nonnull(lookup(b, &keys[i]));
	dp_cache_free(a);
	dp_cache_free(b);
}
END_TEST

/* Names sharing a primary bucket under one key are spread over the table under another. */
START_TEST(test_dp_cache_bucket_chain_spreads)
{
	struct dp_cache *a = new_keyed(1 << 16, 5, 6), *b = new_keyed(1 << 16, 7, 8);
	uint32_t target = 0, idx[2], seen[8];
	unsigned n = 0, distinct = 0;
	char name[40];

	for (unsigned i = 0; n < 8 && i < 2000000; i++) {
		snprintf(name, sizeof(name), "chain%u.example.test", i);
		struct dp_cache_key k = key_of(name, 1);

		buckets_of(a, &k, idx);
		if (n == 0)
			target = idx[0];
		else if (idx[0] != target)
			continue;
		buckets_of(b, &k, idx);
		seen[n++] = idx[0];
	}
	ck_assert_uint_eq(n, 8);
	for (unsigned i = 0; i < n; i++) {
		bool dup = false;

		for (unsigned j = 0; j < i; j++)
			dup |= seen[j] == seen[i];
		distinct += !dup;
	}
	ck_assert_uint_ge(distinct, 7);
	dp_cache_free(a);
	dp_cache_free(b);
}
END_TEST

static Suite *
cache_suite(void)
{
	Suite *s = suite_create("cache");
	TCase *tc;

	tc = tcase_create("lookup");
	tcase_add_test(tc, test_dp_cache_lookup_hit_and_miss);
	tcase_add_test(tc, test_dp_cache_insert_replaces);
	tcase_add_test(tc, test_dp_cache_entry_new_rejects_bad_offsets);
	tcase_add_test(tc, test_dp_cache_name_eq);
	suite_add_tcase(s, tc);

	tc = tcase_create("ttl");
	tcase_add_test(tc, test_dp_cache_entry_ttl_countdown);
	tcase_add_test(tc, test_dp_cache_entry_ttl_pinned_cycles);
	tcase_add_test(tc, test_dp_cache_delete_and_sweep);
	suite_add_tcase(s, tc);

	tc = tcase_create("eviction");
	tcase_add_test(tc, test_dp_cache_insert_evicts_when_full);
	tcase_add_test(tc, test_dp_cache_insert_evicts_soonest_expiry);
	tcase_add_test(tc, test_dp_cache_pinned_never_evicted);
	suite_add_tcase(s, tc);

	tc = tcase_create("keyed");
	tcase_add_test(tc, test_dp_cache_bucket_follows_key);
	tcase_add_test(tc, test_dp_cache_collisions_do_not_carry_over);
	tcase_add_test(tc, test_dp_cache_bucket_chain_spreads);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrency");
	tcase_add_test(tc, test_dp_cache_concurrent_readers);
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
	/* Three reader lcores on the machine's two CPUs: contention without needing more. */
	px_test_eal_init("test_cache", "0@0,1@1,2@0,3@1", NULL);
	RTE_SET_USED(argv);
	dp_clock_init();
	qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	rte_rcu_qsbr_init(qsbr, RTE_MAX_LCORE);

	sr = srunner_create(cache_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rte_free(qsbr);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
