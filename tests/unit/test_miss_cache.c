/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The miss path's cache side (dp_miss_cache.c): what a worker resolves it puts in the cache
 * itself, the cuts before it goes on and the answer before it answers the clients, and a
 * resolution starts from the closest cut cached. On the rig of testlib_miss.h, primed.
 * Priming, also in dp_miss_cache.c, has its own suite (test_miss_prime.c).
 */
#include <check.h>
#include <stdlib.h>

#include "dp_cache.h"
#include "dp_cut.h"
#include "testlib_miss.h"

/* The referral for example.test that a first resolution brought is put in the cache by the
 * worker: a second question in the zone goes straight to the zone's server, not to the root,
 * and a name under no cached cut starts from the primed root set. */
START_TEST(test_miss_cut_cached)
{
	uint64_t hits, primed, sent;
	const struct dp_cache_entry *e;
	uint8_t w[PX_DNS_NAME_BUF];
	uint32_t path[8];
	struct tm_frame f;
	unsigned n, wl;

	tm_client_ask(40010, 0x5050, "www.example.test", PX_DNS_TYPE_A);
	n = tm_serve(&f, path, RTE_DIM(path), 0);
	ck_assert_uint_ge(n, 2);
	ck_assert_uint_eq(path[n - 1], EXAMPLE_IP4);
	tm_check_answer(&f, 40010, 0x5050, "www.example.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	ck_assert_uint_ge(TM_STAT(rec_cut_inserted), 1);
	tm_control();
	wl = px_test_name(w, "ftp.example.test");
	e = dp_cut_find(tm.ctx.cache, w, (uint8_t)wl, PX_DNS_TYPE_A, tm.now);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->name_len, wl - 4); /* example.test */
	hits = TM_STAT(rec_cut_hits);
	primed = TM_STAT(rec_cut_primed);
	sent = TM_STAT(rec_queries_sent);
	tm_client_ask(40010, 0x5151, "ftp.example.test", PX_DNS_TYPE_A);
	n = tm_serve(&f, path, RTE_DIM(path), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(path[0], EXAMPLE_IP4);
	tm_check_answer(&f, 40010, 0x5151, "ftp.example.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	ck_assert_uint_eq(TM_STAT(rec_cut_hits), hits + 1);
	ck_assert_uint_eq(TM_STAT(rec_queries_sent), sent + 1);

	/* No cut cached for slow.test: the primed root set (the same server as the hint here). */
	uint64_t from_hints = TM_STAT(rec_cut_hints);

	tm_client_ask(40011, 0x5252, "ftp.slow.test", PX_DNS_TYPE_A);
	n = tm_serve(&f, path, RTE_DIM(path), 0);
	ck_assert_uint_ge(n, 2);
	ck_assert_uint_eq(path[0], ROOT_IP4);
	tm_check_answer(&f, 40011, 0x5252, "ftp.slow.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	ck_assert_uint_eq(TM_STAT(rec_cut_hints), from_hints);
	ck_assert_uint_eq(TM_STAT(rec_cut_primed), primed + 1);
	tm_expect_quiet(5);
}
END_TEST

/* The worker puts an answer in the cache before it answers the clients: the same question
 * sent right behind the last upstream reply (both in the worker's queue at once, so possibly
 * one burst) is a hit. One resolution, not two. */
START_TEST(test_miss_answer_cached_before_reply)
{
	uint64_t started = TM_STAT(rec_started), hits = TM_STAT(hits);
	uint64_t inserted = TM_STAT(rec_cache_inserted);
	uint32_t path[8];
	struct tm_frame f, g;

	tm_client_ask(40012, 0x5353, "news.example.test", PX_DNS_TYPE_A);
	/* Up to the zone server's query, left unanswered for now. */
	tm_serve(&f, path, RTE_DIM(path), EXAMPLE_IP4);
	ck_assert(f.upstream);
	ck_assert_uint_eq(f.q.dst, EXAMPLE_IP4);
	tm_answer(&f.q);
	tm_client_ask(40013, 0x5454, "NEWS.example.test", PX_DNS_TYPE_A);
	tm_frame_next(&f);
	tm_frame_next(&g);
	ck_assert(!f.upstream && !g.upstream);
	tm_check_answer(&f, 40012, 0x5353, "news.example.test", PX_DNS_RCODE_NOERROR);
	tm_check_answer(&g, 40013, 0x5454, "NEWS.example.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	rte_pktmbuf_free(g.m);
	ck_assert_uint_eq(TM_STAT(rec_started), started + 1);
	ck_assert_uint_eq(TM_STAT(hits), hits + 1);
	ck_assert_uint_ge(TM_STAT(rec_cache_inserted), inserted + 1);
	tm_expect_quiet(5);
}
END_TEST

static Suite *
miss_cache_suite(void)
{
	Suite *s = suite_create("miss_cache");

	tm_add_case(s, test_miss_cut_cached, tm_setup_plain);
	tm_add_case(s, test_miss_answer_cached_before_reply, tm_setup_plain);
	return s;
}

int
main(void)
{
	return tm_run("test_miss_cache", miss_cache_suite());
}
