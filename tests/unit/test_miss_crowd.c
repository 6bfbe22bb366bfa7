/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sharing one upstream query among resolutions (dp_miss_query.c) and 0x20, with crowds of
 * clients: many questions for one name, many names below one unvisited zone, a shared query
 * whose server never answers, waiters that leave early, and a server that does not preserve
 * case. On the rig of testlib_miss.h without priming, fair share or jostle (a crowd comes from
 * one client address here; test_miss_share.c has fairness), the gateway learned. The clock is
 * the test's: a case reads everything the worker sent after each step, in order.
 */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>

#include <pollux/resolver.h>
#include <pollux/upstream.h>

#include "dp_miss.h"
#include "testlib_miss.h"

/* A client's question for name, type A, from port (the sharing cases' ID is port ^ 0x5555). */
static void
ask(uint16_t port, uint16_t id, const char *name)
{
	tm_client_ask(port, id, name, PX_DNS_TYPE_A);
}

/* The only frame the worker sent: an upstream query, returned in q. */
static void
one_query(struct tm_upq *q)
{
	struct tm_frame f;

	ck_assert_msg(tm_frame(&f), "no query sent");
	ck_assert(f.upstream);
	*q = f.q;
	ck_assert_msg(!tm_frame(&f), "a second frame, to %08x", f.upstream ? f.q.dst : 0);
}

/* Reads the n client answers the worker sent (and nothing else; the first already read
 * into *f): each to one of the ports base..base+n-1, with id port ^ 0x5555, NOERROR with
 * ANSWER_ADDR, the question as that client spelled it (names[port - base]); each port once. */
static void
client_answers(struct tm_frame *f0, uint16_t base, unsigned n, const char *const *names)
{
	uint8_t seen[64] = {0};
	struct tm_frame f = *f0;

	ck_assert_uint_le(n, sizeof(seen));
	for (unsigned i = 0; i < n; i++) {
		ck_assert_msg(i == 0 || tm_frame(&f), "%u of %u answers", i, n);
		ck_assert(!f.upstream);
		ck_assert_uint_ge(f.dport, base);
		ck_assert_uint_lt(f.dport, base + n);
		ck_assert_uint_eq(seen[f.dport - base], 0);
		seen[f.dport - base] = 1;
		tm_check_answer(&f, f.dport, f.dport ^ 0x5555, names[f.dport - base],
				    PX_DNS_RCODE_NOERROR);
		rte_pktmbuf_free(f.m);
	}
	ck_assert(!tm_frame(&f));
}

/*
 * 20 clients ask one uncached name: three resolutions (8 clients each at most), and on the
 * wire exactly one query per step, which the two later resolutions join; every client gets
 * its answer, with the question as it spelled it.
 */
START_TEST(test_miss_share_same_name)
{
	enum { N = 20, BASE = 41000 };
	static const char *const spell[3] = {"same.crowd.test", "SAME.Crowd.TEST",
					     "sAmE.cRoWd.TeSt"};
	const char *names[N];
	uint64_t started = TM_STAT(rec_started), attached = TM_STAT(rec_attached);
	uint64_t coalesced = TM_STAT(rec_up_coalesced), sent = TM_STAT(rec_queries_sent);
	struct tm_upq q;
	unsigned steps = 0;
	struct tm_frame f, extra;

	for (unsigned i = 0; i < N; i++) {
		names[i] = spell[i % 3];
		ask((uint16_t)(BASE + i), (uint16_t)((BASE + i) ^ 0x5555), names[i]);
	}
	ck_assert_uint_eq(TM_STAT(rec_started), started + 3);
	ck_assert_uint_eq(TM_STAT(rec_attached), attached + N - 3);
	one_query(&q);
	for (;;) {
		steps++;
		ck_assert_uint_le(steps, 8);
		tm_answer(&q);
		/* The next step's one query, or the answers. */
		ck_assert(tm_frame(&f));
		if (!f.upstream)
			break;
		q = f.q;
		ck_assert(!tm_frame(&extra));
	}
	/* root "test", root "crowd.test", then ns.crowd.test for the name. */
	ck_assert_uint_eq(steps, 3);
	ck_assert_uint_eq(TM_STAT(rec_queries_sent), sent + 3);
	ck_assert_uint_eq(TM_STAT(rec_up_coalesced), coalesced + 2 * 3);
	client_answers(&f, BASE, N, names);
}
END_TEST

/* Answers every upstream query the worker has queued, counting them by destination,
 * until it sends a client answer (left in *f); at most `rounds` rounds. */
static void
serve_rounds(struct tm_frame *f, unsigned rounds, unsigned *to_root, unsigned *to_tld,
	    unsigned *to_zone)
{
	struct tm_upq qs[64];
	unsigned nq;

	for (unsigned round = 0; round < rounds; round++) {
		nq = 0;
		while (tm_frame(f)) {
			if (!f->upstream)
				return;
			ck_assert_uint_lt(nq, RTE_DIM(qs));
			qs[nq++] = f->q;
		}
		ck_assert_uint_gt(nq, 0);
		for (unsigned k = 0; k < nq; k++) {
			const struct tm_deleg *d = tm_deleg_of_server(qs[k].dst);

			if (qs[k].dst == ROOT_IP4)
				(*to_root)++;
			else if (d != NULL && strcmp(d->zone, "tld.test") == 0)
				(*to_tld)++;
			else
				(*to_zone)++;
			tm_answer(&qs[k]);
		}
	}
	ck_abort_msg("no client answer after %u rounds", rounds);
}

/*
 * 12 clients ask 12 names below zone.tld.test, a zone nobody visited, whose parent tld.test has
 * three servers nobody measured: each resolution would pick one at random. The resolutions
 * share the root's referral, and then exactly one query reaches the tld.test servers: the
 * first resolution picks a server, the others pick the one that question is outstanding to and
 * join it. The referral it brings is offered to the cache once, not once per resolution.
 */
START_TEST(test_miss_share_referral)
{
	enum { N = 12, BASE = 41100 };
	char buf[N][32];
	const char *names[N];
	uint64_t coalesced = TM_STAT(rec_up_coalesced), offered = TM_STAT(rec_cut_inserted);
	unsigned to_root = 0, to_tld = 0, to_zone = 0;
	struct tm_frame f;

	for (unsigned i = 0; i < N; i++) {
		snprintf(buf[i], sizeof(buf[i]), "h%u.Zone.tld.test", i);
		names[i] = buf[i];
		ask((uint16_t)(BASE + i), (uint16_t)((BASE + i) ^ 0x5555), names[i]);
	}
	serve_rounds(&f, 8, &to_root, &to_tld, &to_zone);
	/* root "test", root "tld.test", one tld server "zone.tld.test", then each name. */
	ck_assert_uint_eq(to_root, 2);
	ck_assert_uint_eq(to_tld, 1);
	ck_assert_uint_eq(to_zone, N);
	ck_assert_uint_eq(TM_STAT(rec_up_coalesced), coalesced + 3 * (N - 1));
	ck_assert_uint_eq(TM_STAT(rec_cut_inserted), offered + 2);
	client_answers(&f, BASE, N, names);
}
END_TEST

/* Sends every client's question, then takes the one query per step until it reaches a
 * server of zone (returned in q), answering the root's. */
static void
to_zone(struct tm_upq *q, const char *zone)
{
	for (unsigned step = 0; step < 4; step++) {
		one_query(q);
		if (q->dst != ROOT_IP4) {
			const struct tm_deleg *d = tm_deleg_of_server(q->dst);

			ck_assert_ptr_nonnull(d);
			ck_assert_str_eq(d->zone, zone);
			return;
		}
		tm_answer(q);
	}
	ck_abort_msg("never reached %s", zone);
}

/*
 * The shared query's server never answers: its timeout is one for the server, and every
 * resolution waiting fails over together, to the same other server, with one query.
 */
START_TEST(test_miss_share_timeout)
{
	enum { N = 20, BASE = 41200 };
	const char *names[N];
	uint64_t timeouts = TM_STAT(rec_timeouts), coalesced, sent;
	struct tm_upq q, q2;
	struct tm_frame f;

	for (unsigned i = 0; i < N; i++) {
		names[i] = "x.pair.test";
		ask((uint16_t)(BASE + i), (uint16_t)((BASE + i) ^ 0x5555), names[i]);
	}
	to_zone(&q, "pair.test");
	coalesced = TM_STAT(rec_up_coalesced);
	sent = TM_STAT(rec_queries_sent);
	tm_step(tm.now + PX_UPQ_RTT_UNKNOWN_MS - 1);
	ck_assert(!tm_frame(&f));
	tm_step(tm.now + 1);
	one_query(&q2);
	ck_assert_uint_ne(q2.dst, q.dst);
	ck_assert_ptr_eq(tm_deleg_of_server(q2.dst), tm_deleg_of_server(q.dst));
	ck_assert_int_eq(strcasecmp(q2.qname, q.qname), 0);
	ck_assert_uint_eq(TM_STAT(rec_timeouts), timeouts + 1);
	ck_assert_uint_eq(TM_STAT(rec_queries_sent), sent + 1);
	ck_assert_uint_eq(TM_STAT(rec_up_coalesced), coalesced + 2);
	tm_answer(&q2);
	ck_assert(tm_frame(&f));
	client_answers(&f, BASE, N, names);
}
END_TEST

/* The resolution asking name (as the worker keys it: lower case). */
static uint64_t
res_of(const char *name)
{
	uint8_t w[PX_DNS_NAME_BUF];
	const struct px_resolver_question rq = {
		.qname = w, .qname_len = (uint8_t)px_test_name(w, name),
		.qtype = PX_DNS_TYPE_A, .qclass = PX_DNS_CLASS_IN,
	};
	uint64_t h = px_resolver_find(dp_miss_resolver(tm.w->miss), &rq);

	ck_assert_uint_ne(h, 0);
	return h;
}

/*
 * Waiters leave early, as a resolution cut short does (cancelled, evicted): the first one,
 * whose SEND put the query on the wire, leaves and the others still get the reply; when the
 * last leaves, the query is withdrawn, so its reply is a stray and no resolution hears of it.
 */
START_TEST(test_miss_share_waiter_leaves)
{
	struct px_resolver *r = (struct px_resolver *)dp_miss_resolver(tm.w->miss);
	uint64_t active = px_resolver_active(r), stale = r->stats.stale_events;
	uint64_t coalesced = TM_STAT(rec_up_coalesced), strays;
	struct tm_upq q;
	struct tm_frame f;

	ask(41300, 41300 ^ 0x5555, "l1.crowd.test");
	ask(41301, 41301 ^ 0x5555, "l2.crowd.test");
	ask(41302, 41302 ^ 0x5555, "l3.crowd.test");
	one_query(&q); /* root "test", shared by three */
	ck_assert_uint_eq(TM_STAT(rec_up_coalesced), coalesced + 2);
	ck_assert_int_eq(px_resolver_cancel(r, res_of("l1.crowd.test")), 0);
	tm_answer(&q);
	one_query(&q); /* root "crowd.test", for the two left */
	ck_assert_uint_eq(TM_STAT(rec_up_coalesced), coalesced + 3);
	ck_assert_uint_eq(px_resolver_active(r), active + 2);

	ck_assert_int_eq(px_resolver_cancel(r, res_of("l3.crowd.test")), 0);
	ck_assert_int_eq(px_resolver_cancel(r, res_of("l2.crowd.test")), 0);
	ck_assert_uint_eq(px_resolver_active(r), active);
	strays = TM_STAT(rec_forged_no_query);
	tm_answer(&q);
	ck_assert_uint_eq(TM_STAT(rec_forged_no_query), strays + 1);
	ck_assert(!tm_frame(&f));
	ck_assert_uint_eq(r->stats.stale_events, stale);
}
END_TEST

/* A server that answers with the question in lower case whatever it was asked. */
static void
answer_lower(const struct tm_upq *q)
{
	struct tm_upq lq = *q;
	struct px_test_msg r;

	for (char *c = lq.qname; *c != '\0'; c++)
		*c = (char)tolower(*c);
	tm_auth_reply(&r, &lq);
	tm_reply(q, &r);
}

/*
 * 0x20 against a server that does not preserve case: its replies are dropped (rec_forged_case)
 * and the query is asked again at its deadline, not failed; after the second such query the
 * server is in fallback: asked in lower case, its reply is accepted, and so is the next name's
 * at once. No timeout is counted against it.
 */
START_TEST(test_miss_0x20_fallback)
{
	static const char name[] = "thequickbrownfoxjumpsoverthelazydog.lower.test";
	uint64_t forged = TM_STAT(rec_forged_case), retries = TM_STAT(rec_0x20_retries);
	uint64_t fallback = TM_STAT(rec_0x20_fallback), timeouts = TM_STAT(rec_timeouts);
	struct tm_upq q, q2;
	struct tm_frame f;

	ask(41400, 41400 ^ 0x5555, name);
	to_zone(&q, "lower.test");
	/* 40 letters: all drawn lower case once in 2^40. */
	ck_assert_int_ne(strcmp(q.qname, name), 0);
	for (unsigned strike = 0; strike < 2; strike++) {
		answer_lower(&q);
		ck_assert_uint_eq(TM_STAT(rec_forged_case), forged + strike + 1);
		ck_assert(!tm_frame(&f));
		tm_step(tm.now + PX_UPQ_RTT_UNKNOWN_MS);
		one_query(&q2);
		ck_assert_uint_eq(q2.dst, q.dst);
		ck_assert_int_eq(strcasecmp(q2.qname, name), 0);
		ck_assert_uint_eq(TM_STAT(rec_0x20_retries), retries + strike + 1);
		q = q2;
	}
	ck_assert_uint_eq(TM_STAT(rec_0x20_fallback), fallback + 1);
	ck_assert_str_eq(q.qname, name); /* fallback: lower case */
	answer_lower(&q);
	ck_assert(tm_frame(&f));
	tm_check_answer(&f, 41400, 41400 ^ 0x5555, name, PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);

	ask(41401, 41401 ^ 0x5555, "Next.Lower.Test");
	to_zone(&q, "lower.test");
	ck_assert_str_eq(q.qname, "next.lower.test");
	answer_lower(&q);
	ck_assert(tm_frame(&f));
	tm_check_answer(&f, 41401, 41401 ^ 0x5555, "Next.Lower.Test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	ck_assert_uint_eq(TM_STAT(rec_forged_case), forged + 2);
	ck_assert_uint_eq(TM_STAT(rec_timeouts), timeouts);
	ck_assert(!tm_frame(&f));
}
END_TEST

/*
 * Only the first worker primes; any other resolves from the root hints while no primed root
 * set is in the cache, and waits for nobody: this worker (priming off, nothing cached) asks
 * the hints' root server at once and answers, and never sends a priming query itself.
 */
START_TEST(test_miss_unprimed_worker_uses_hints)
{
	uint64_t hints_used = TM_STAT(rec_cut_hints), prime_sent = TM_STAT(rec_prime_sent);
	struct tm_upq q;
	struct tm_frame f;
	unsigned steps = 0;

	ask(41900, 41900 ^ 0x5555, "unprimed.crowd.test");
	ck_assert_uint_eq(TM_STAT(rec_cut_hints), hints_used + 1);
	one_query(&q);
	ck_assert_uint_eq(q.dst, ROOT_IP4);
	ck_assert_str_ne(q.qname, ".");
	for (;;) {
		ck_assert_uint_le(++steps, 8);
		tm_answer(&q);
		ck_assert(tm_frame(&f));
		if (!f.upstream)
			break;
		q = f.q;
	}
	tm_check_answer(&f, 41900, 41900 ^ 0x5555, "unprimed.crowd.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	ck_assert_uint_eq(TM_STAT(rec_prime_sent), prime_sent);
}
END_TEST

static Suite *
miss_crowd_suite(void)
{
	Suite *s = suite_create("miss_crowd");

	tm_add_case(s, test_miss_share_same_name, tm_setup_crowd);
	tm_add_case(s, test_miss_share_referral, tm_setup_crowd);
	tm_add_case(s, test_miss_share_timeout, tm_setup_crowd);
	tm_add_case(s, test_miss_share_waiter_leaves, tm_setup_crowd);
	tm_add_case(s, test_miss_0x20_fallback, tm_setup_crowd);
	tm_add_case(s, test_miss_unprimed_worker_uses_hints, tm_setup_crowd);
	return s;
}

int
main(void)
{
	return tm_run("test_miss_crowd", miss_crowd_suite());
}
