/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Priming (dp_miss_cache.c, RFC 8109) and the health probe (dp_miss_probe.c) on the worker:
 * ". NS" to the root hint once the gateway is known, the reply checked by the worker and its
 * root set cached as the root cut, read by the control side (ctl_prime) as the daemon's
 * control thread does; the backoff of failed attempts, the refresh at nine tenths of the TTL,
 * a root cut gone early, a truncated reply asked again over TCP. These need a clock that moves
 * by minutes: the test's (testlib_miss.h), so each case is exact to the millisecond and takes
 * no wall-clock time. Each case starts before the gateway is known (tm_setup_primer).
 */
#include <check.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include <pollux/prime.h>

#include "dp_cache.h"
#include "dp_cut.h"
#include "dp_miss.h"
#include "testlib_miss.h"

/* The worker's next query is ". NS" to the root hint: kept in tm.prime_q. */
static void
expect_prime_query(void)
{
	ck_assert_msg(tm_sent(&tm.prime_q), "no priming query at %" PRIu64, tm.now);
	ck_assert_uint_eq(tm.prime_q.dst, ROOT_IP4);
	ck_assert_str_eq(tm.prime_q.qname, ".");
	ck_assert_uint_eq(tm.prime_q.qtype, PX_DNS_TYPE_NS);
}

/* The good priming answer to tm.prime_q, NS TTL ttl, 10 ms after tm.now; the control side
 * accepts it. */
static void
answer_good(uint32_t ttl)
{
	uint64_t accepted = tm.prime.accepted;
	struct px_test_msg r;

	tm_step(tm.now + 10);
	tm_prime_answer(&r, &tm.prime_q, "198.18.1.1", ttl);
	tm_reply(&tm.prime_q, &r);
	tm_control();
	ck_assert_msg(tm.prime.accepted == accepted + 1, "priming not accepted: %s",
		      tm.prime.failure);
	ck_assert_uint_eq(tm.prime.ttl, ttl);
	ck_assert_uint_eq(tm.prime.expire_ms, tm.now + ttl * 1000ull);
}

/* At start the worker primes: ". NS" to the root hint (RD clear, EDNS: tm_parse_upq checks), and
 * the answer, checked by the worker itself, becomes the root cut in the cache. Then a new
 * question starts from the primed set. */
START_TEST(test_miss_priming_at_start)
{
	tm_gateway();
	ck_assert_uint_eq(tm.prime_q.dst, ROOT_IP4);
	ck_assert_str_eq(tm.prime_q.qname, ".");
	ck_assert_uint_eq(tm.prime_q.qtype, PX_DNS_TYPE_NS);
	ck_assert_uint_eq(TM_STAT(rec_prime_sent), 1);
	ck_assert_ptr_null(dp_cut_find(tm.ctx.cache, tm_root_name, 1, PX_DNS_TYPE_A, tm.now));
	tm_answer(&tm.prime_q);
	ck_assert_uint_eq(TM_STAT(rec_prime_replies), 1);
	tm_control();
	ck_assert_msg(tm.prime.accepted == 1, "priming not accepted: %s", tm.prime.failure);
	ck_assert(tm.prime.primed);
	ck_assert_uint_eq(tm.prime.servers, 1);
	ck_assert_uint_eq(tm.prime.ttl, 86400); /* 518400 capped at max-ttl */
	const struct dp_cache_entry *e = dp_cut_find(tm.ctx.cache, tm_root_name, 1,
						     PX_DNS_TYPE_A, tm.now);

	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->name_len, 1);
	ck_assert_uint_eq(TM_STAT(rec_prime_failed), 0);
	/* Nothing else was sent: no second priming while the root cut is fresh. */
	tm_expect_quiet(20);
	ck_assert_uint_eq(TM_STAT(rec_prime_sent), 1);
}
END_TEST

/*
 * The health probe (ctl_health.h): each time the control thread moves ctx->probe_seq, the
 * probing worker resolves its question for no client, once; the answer counts as rec_answered,
 * what the control thread watches. Without a new request it stays quiet.
 */
START_TEST(test_miss_probe)
{
	uint64_t answered, started;
	struct px_test_msg r;
	struct tm_upq q;

	tm_gateway();
	answer_good(3600);
	tm_step(tm.now + 10);
	while (tm_sent(&q))
		;
	answered = TM_STAT(rec_answered);
	started = TM_STAT(rec_probe_started);
	tm_step(tm.now + 10);
	ck_assert_uint_eq(TM_STAT(rec_probe_started), started);
	__atomic_fetch_add(&tm.ctx.probe_seq, 1, __ATOMIC_RELAXED);
	tm_step(tm.now + 10);
	ck_assert_uint_eq(TM_STAT(rec_probe_started), started + 1);
	ck_assert_msg(tm_sent(&q), "no probe query");
	ck_assert_str_eq(q.qname, ".");
	ck_assert_uint_eq(q.qtype, PX_DNS_TYPE_NS);
	tm_step(tm.now + 10);
	tm_prime_answer(&r, &q, "198.18.1.1", 518400);
	tm_reply(&q, &r);
	ck_assert_uint_eq(TM_STAT(rec_answered), answered + 1);
	/* Asked once: nothing more until the next request. */
	tm_step(tm.now + 10);
	ck_assert(!tm_sent(&q));
	ck_assert_uint_eq(TM_STAT(rec_probe_started), started + 1);
}
END_TEST

/*
 * Priming that fails is tried again after 1 s, doubling to 60 s, each counted from the attempt
 * before, and never sooner: the first reply is good for the resolver but rejected by the
 * control side (its only root server is at a loopback address), the next attempts time out.
 * Then a good reply is accepted and the worker stays quiet while the root cut is fresh.
 */
START_TEST(test_miss_prime_backoff)
{
	static const uint32_t backoff[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
	struct px_test_msg r;
	uint64_t sent_at;

	tm_gateway();
	ck_assert_uint_eq(DP_MISS_PRIME_BACKOFF_MS, backoff[0]);
	ck_assert_uint_eq(DP_MISS_PRIME_BACKOFF_MAX_MS, backoff[RTE_DIM(backoff) - 1]);
	ck_assert_uint_eq(TM_STAT(rec_prime_sent), 1);
	sent_at = tm.now;
	tm_step(tm.now + 10);
	tm_prime_answer(&r, &tm.prime_q, "127.0.0.1", 518400);
	tm_reply(&tm.prime_q, &r);
	ck_assert_uint_eq(TM_STAT(rec_prime_replies), 1);
	tm_control();
	ck_assert_uint_eq(tm.prime.rejected, 1);
	ck_assert_uint_eq(tm.prime.addr_rejected_total[PX_ADDR_LOOPBACK], 1);
	ck_assert(!tm.prime.primed);
	for (unsigned k = 0; k < RTE_DIM(backoff); k++) {
		tm_quiet_until(sent_at + backoff[k], 25);
		/* The attempt before failed (rejected, then timed out), and nothing was sent. */
		ck_assert_uint_eq(TM_STAT(rec_prime_failed), k);
		tm_step(sent_at + backoff[k]);
		expect_prime_query();
		ck_assert_uint_eq(TM_STAT(rec_prime_sent), k + 2);
		sent_at = tm.now;
	}
	tm_control();
	ck_assert_uint_eq(tm.prime.failed, RTE_DIM(backoff) - 1);
	ck_assert_ptr_nonnull(strstr(tm.prime.failure, "prime_failed"));
	ck_assert(!tm.prime.primed);

	answer_good(3600);
	ck_assert(tm.prime.primed);
	tm_quiet_until(sent_at + 3 * DP_MISS_PRIME_BACKOFF_MAX_MS, 25);
	ck_assert_uint_eq(TM_STAT(rec_prime_failed), RTE_DIM(backoff) - 1);
	ck_assert_uint_eq(TM_STAT(rec_prime_sent), RTE_DIM(backoff) + 1);
}
END_TEST

/* The primed set is refreshed when a tenth of its TTL is left, not a millisecond sooner; the
 * new reply replaces the cut and the worker is quiet again past the old one's expiry. */
START_TEST(test_miss_prime_refresh)
{
	uint64_t sent, due, old_expire;

	tm_gateway();
	answer_good(3600);
	ck_assert(tm.prime.primed);
	sent = TM_STAT(rec_prime_sent);
	old_expire = tm.prime.expire_ms;
	due = tm.prime.expire_ms - tm.prime.ttl * 100ull;
	tm_quiet_until(due, 1000);
	tm_step(due);
	expect_prime_query();
	ck_assert_uint_eq(TM_STAT(rec_prime_sent), sent + 1);
	answer_good(7200);
	tm_quiet_until(old_expire + DP_MISS_PRIME_BACKOFF_MAX_MS, 1000);
	ck_assert_uint_eq(TM_STAT(rec_prime_sent), sent + 1);
	ck_assert_ptr_nonnull(dp_cut_find(tm.ctx.cache, tm_root_name, 1, PX_DNS_TYPE_A, tm.now));
}
END_TEST

/* The root cut leaves the cache long before its refresh is due (evicted by a full bucket, or
 * deleted by the control thread as here): the worker primes again within
 * DP_MISS_PRIME_CHECK_MS, instead of starting every resolution from the hints until then. That
 * attempt is rejected, and the next comes DP_MISS_PRIME_BACKOFF_MS later. */
START_TEST(test_miss_prime_root_cut_gone)
{
	struct dp_cache_key key;
	uint64_t sent, gone_at, sent_at;
	struct px_test_msg r;
	bool primed = false;

	tm_gateway();
	answer_good(3600);
	ck_assert(tm.prime.primed);
	sent = TM_STAT(rec_prime_sent);
	tm_quiet_until(tm.now + 5000, 25);
	dp_cut_key(&key, tm_root_name, 1);
	ck_assert_int_eq(dp_cache_delete(tm.ctx.cache, &key), 0);
	dp_cache_reclaim(tm.ctx.cache);
	gone_at = tm.now;
	while (!primed && tm.now < gone_at + DP_MISS_PRIME_CHECK_MS) {
		tm_step(tm.now + 25);
		primed = tm_sent(&tm.prime_q);
	}
	ck_assert_msg(primed, "no priming within %u ms of the root cut going",
		      DP_MISS_PRIME_CHECK_MS);
	ck_assert_str_eq(tm.prime_q.qname, ".");
	ck_assert_uint_eq(TM_STAT(rec_prime_sent), sent + 1);
	sent_at = tm.now;
	tm_step(tm.now + 10);
	tm_prime_answer(&r, &tm.prime_q, "127.0.0.1", 518400);
	tm_reply(&tm.prime_q, &r);
	tm_quiet_until(sent_at + DP_MISS_PRIME_BACKOFF_MS, 25);
	tm_step(sent_at + DP_MISS_PRIME_BACKOFF_MS);
	expect_prime_query();
	ck_assert_uint_eq(TM_STAT(rec_prime_sent), sent + 2);
	answer_good(3600);
	tm_quiet_until(tm.now + 3 * DP_MISS_PRIME_BACKOFF_MAX_MS, 1000);
	ck_assert_uint_eq(TM_STAT(rec_prime_sent), sent + 2);
}
END_TEST

/* A priming reply with TC is asked again over TCP like any other, and the reply that comes
 * over TCP is the one the worker checks and caches; the truncated one is not checked (it would
 * only be rejected, and counted and logged as a priming failure). */
START_TEST(test_miss_prime_over_tcp)
{
	uint64_t rejected, accepted, replies, tcp_replies;
	struct px_test_msg r;
	struct rte_mbuf *m;

	tm_gateway();
	answer_good(3600);
	ck_assert(tm.prime.primed);
	replies = TM_STAT(rec_prime_replies);
	tcp_replies = TM_STAT(tcp_up_replies);
	rejected = tm.prime.rejected;
	accepted = tm.prime.accepted;
	tm_quiet_until(tm.prime.expire_ms - tm.prime.ttl * 100ull, 1000);
	tm_step(tm.prime.expire_ms - tm.prime.ttl * 100ull);
	expect_prime_query();
	tm_step(tm.now + 10);
	tm_prime_answer(&r, &tm.prime_q, NULL, 0);
	tm_reply(&tm.prime_q, &r);
	m = tm_thread_take();
	ck_assert_ptr_nonnull(m);
	tm_check_up_query(m, &tm.prime_q, ".");
	tm_control();
	ck_assert_uint_eq(tm.prime.rejected, rejected);
	ck_assert_uint_eq(TM_STAT(rec_prime_replies), replies);

	tm_prime_answer(&r, &tm.prime_q, "198.18.1.1", 518400);
	tm_thread_give(m, &r);
	tm_step(tm.now + 10);
	ck_assert_uint_eq(TM_STAT(tcp_up_replies), tcp_replies + 1);
	ck_assert_uint_eq(TM_STAT(rec_prime_replies), replies + 1);
	tm_control();
	ck_assert_msg(tm.prime.accepted == accepted + 1, "priming over TCP not accepted: %s",
		      tm.prime.failure);
	ck_assert_uint_eq(tm.prime.rejected, rejected);
	ck_assert_uint_eq(tm.prime.ttl, 86400);
	ck_assert_str_eq(tm.prime.server, "198.18.1.1");
	tm_quiet_until(tm.now + 3 * DP_MISS_PRIME_BACKOFF_MAX_MS, 1000);
	ck_assert_ptr_null(tm_thread_take());
}
END_TEST

static Suite *
miss_prime_suite(void)
{
	Suite *s = suite_create("miss_prime");

	tm_add_case(s, test_miss_priming_at_start, tm_setup_primer);
	tm_add_case(s, test_miss_prime_backoff, tm_setup_primer);
	tm_add_case(s, test_miss_prime_refresh, tm_setup_primer);
	tm_add_case(s, test_miss_prime_root_cut_gone, tm_setup_primer);
	tm_add_case(s, test_miss_prime_over_tcp, tm_setup_primer);
	tm_add_case(s, test_miss_probe, tm_setup_primer);
	return s;
}

int
main(void)
{
	return tm_run("test_miss_prime", miss_prime_suite());
}
