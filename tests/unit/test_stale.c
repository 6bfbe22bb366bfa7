/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Serve-stale (RFC 8767) and prefetch through the worker's real code (dp_answer.c, dp_miss*.c),
 * on the miss-path rig (testlib_miss.h): a worker stepped by the test on a clock of its own, with
 * a cache it writes answers into, so expiry, the client response timer and the prefetch window
 * are exact to the millisecond and take no wall-clock time. Each case builds its own rig. The
 * test plays the clients, the gateway and the servers:
 *   root 198.18.1.1       refers good.test to 198.18.3.1 and dead.test to 198.18.5.1
 *   good.test 198.18.3.1  answers A `answer_addr` with TTL `answer_ttl`, or SERVFAIL, or holds
 *                         the query unanswered (`mode`)
 *   dead.test 198.18.5.1  never answers
 * QNAME minimisation is off. Every RTO is at least 3 s (rto_min_ms), so a held query outlives
 * the 1.8 s client response timer and the resolution can still be answered after it.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include <pollux/addr_policy.h>
#include <pollux/resolver.h>
#include <pollux/upstream.h>
#include <pollux/wire.h>

#include "dp_cache.h"
#include "dp_lcore.h"
#include "dp_miss.h"
#include "dp_settings.h"
#include "testlib.h"
#include "testlib_miss.h"
#include "testlib_pkt.h"

#define GOOD_IP4 RTE_BE32(0xc6120301) /* 198.18.3.1 */
#define SLOTS 16
#define STALE_TIMEOUT_MS 1800
#define STALE_TTL 30
#define STALE_MAX_S 86400
#define SHARE 4

static uint64_t settings_gen;

/* What good.test's server does with a query. */
enum mode { ANSWER, FAIL, HOLD };
static enum mode mode = ANSWER;
static uint32_t answer_ttl = 10;
static const char *answer_addr = "198.51.100.7";
static unsigned upstream_seen; /* upstream queries the worker sent, to any server */


/* A client answer the worker sent, read whole. */
struct ans {
	uint16_t dport;
	uint8_t rcode;
	uint16_t ancount;
	uint32_t ttl;     /* the first answer record's */
	uint8_t addr[4];  /* the first A record's */
	bool opt;
	int ede;          /* the EDE INFO-CODE, -1 for none */
	uint16_t ede_text_len; /* its EXTRA-TEXT's length */
};

#define STAT(name) TM_STAT(name)

static uint16_t
skip_name(const uint8_t *d, uint16_t len, uint16_t pos)
{
	for (;;) {
		ck_assert_uint_lt(pos, len);
		if (d[pos] == 0)
			return (uint16_t)(pos + 1);
		if ((d[pos] & 0xc0) == 0xc0)
			return (uint16_t)(pos + 2);
		pos = (uint16_t)(pos + 1 + d[pos]);
	}
}

static void
parse_answer(const uint8_t *d, uint16_t len, struct ans *a)
{
	uint16_t an = px_get16(d + 6), total = (uint16_t)(an + px_get16(d + 8) + px_get16(d + 10));
	uint16_t pos = skip_name(d, len, PX_DNS_HDR_LEN) + 4;

	memset(a, 0, sizeof(*a));
	a->rcode = d[3] & 0x0f;
	a->ancount = an;
	a->ede = -1;
	for (uint16_t i = 0; i < total; i++) {
		pos = skip_name(d, len, pos);
		ck_assert_uint_le(pos + 10, len);
		uint16_t type = px_get16(d + pos), rdlen = px_get16(d + pos + 8);
		uint16_t rd = (uint16_t)(pos + 10);

		ck_assert_uint_le(rd + rdlen, len);
		if (i == 0 && an > 0)
			a->ttl = px_get32(d + pos + 4);
		if (i < an && type == PX_DNS_TYPE_A && rdlen == 4 && a->addr[0] == 0)
			memcpy(a->addr, d + rd, 4);
		if (type == PX_DNS_TYPE_OPT) {
			a->opt = true;
			for (uint16_t o = rd; o + 4 <= rd + rdlen;) {
				uint16_t code = px_get16(d + o), olen = px_get16(d + o + 2);

				if (code == PX_DNS_OPT_EDE && olen >= 2) {
					a->ede = px_get16(d + o + 4);
					a->ede_text_len = (uint16_t)(olen - 2);
				}
				o = (uint16_t)(o + 4 + olen);
			}
		}
		pos = (uint16_t)(rd + rdlen);
	}
}

/* The next frame the worker sent, skipping ARP requests: false if none. Fills q for an upstream
 * query, a for a client answer (*is_answer says which). */
static bool
sent(struct tm_upq *q, struct ans *a, bool *is_answer)
{
	struct tm_frame f;

	if (!tm_frame(&f))
		return false;
	*is_answer = !f.upstream;
	if (*is_answer) {
		parse_answer(f.dns, f.dns_len, a);
		a->dport = f.dport;
		rte_pktmbuf_free(f.m);
	} else {
		upstream_seen++;
		*q = f.q;
	}
	return true;
}

static void
ask(uint16_t port, const char *name, bool edns)
{
	uint8_t dns[512], f[600] __rte_aligned(8);
	const struct px_test_query q = {.id = port, .flags = PX_DNS_RD, .name = name,
					.qtype = PX_DNS_TYPE_A, .qclass = PX_DNS_CLASS_IN,
					.edns = edns, .edns_bufsize = 1232};
	uint16_t dlen = px_test_query(dns, &q);

	tm_rx(f, px_test_frame_udp4(f, &tm_hosts, port, PX_DNS_PORT, dns, dlen));
}

/* A server's reply to q, by the script; rcode_fail: good.test's SERVFAIL. */
static void
reply(const struct tm_upq *q, bool fail)
{
	struct px_test_msg r;

	px_test_msg_start(&r, q->id,
			  PX_DNS_QR | (q->dst == ROOT_IP4 ? 0 : PX_DNS_AA) |
				  (fail ? PX_DNS_RCODE_SERVFAIL : 0),
			  q->qname, PX_DNS_TYPE_A);
	if (q->dst == ROOT_IP4) {
		const char *zone = tm_name_below(q->qname, "good.test") ? "good.test" : "dead.test";
		char ns[64];

		snprintf(ns, sizeof(ns), "ns.%s", zone);
		px_test_msg_target(&r, 1, zone, PX_DNS_TYPE_NS, 3600, ns);
		px_test_msg_addr(&r, 2, ns, zone[0] == 'g' ? "198.18.3.1" : "198.18.5.1");
	} else if (!fail) {
		uint32_t a = inet_addr(answer_addr);

		ck_assert_uint_eq(q->dst, GOOD_IP4);
		px_test_msg_rr(&r, 0, NULL, PX_DNS_TYPE_A, answer_ttl, &a, 4);
	}
	tm_reply(q, &r);
}

/* Plays the servers until the worker has nothing more to send; a query good.test's server
 * holds goes to *held. Client answers go to out (up to max); returns how many. */
static unsigned
serve(struct ans *out, unsigned max, struct tm_upq *held)
{
	unsigned n = 0;
	struct tm_upq q;
	struct ans a;
	bool is_answer;

	while (sent(&q, &a, &is_answer)) {
		if (is_answer) {
			ck_assert_uint_lt(n, max);
			out[n++] = a;
		} else if (q.dst == DEAD_IP4) {
			continue;
		} else if (q.dst == GOOD_IP4 && mode == HOLD) {
			ck_assert_ptr_nonnull(held);
			*held = q;
		} else {
			reply(&q, q.dst == GOOD_IP4 && mode == FAIL);
		}
	}
	return n;
}

static const struct dp_cache_entry *
cached(const char *name)
{
	uint8_t wire[PX_DNS_NAME_BUF];
	unsigned len = px_test_name(wire, name);

	return dp_cache_lookup(tm.ctx.cache, wire, (uint8_t)len, PX_DNS_TYPE_A, PX_DNS_CLASS_IN,
			       DP_CACHE_RRSET);
}

/* Resolves name fresh (good.test answering) and checks the answer. */
static void
resolve_fresh(const char *name, uint16_t port)
{
	struct ans a[4];

	mode = ANSWER;
	ask(port, name, true);
	ck_assert_uint_eq(serve(a, 4, NULL), 1);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(a[0].ttl, answer_ttl);
	ck_assert_int_eq(a[0].ede, -1);
	ck_assert_ptr_nonnull(cached(name));
}

/* Lets every resolution still waiting time out, and checks nothing is left held. */
static unsigned
drain(struct ans *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned k = 0; k < 80; k++) {
		n += serve(out + n, max - n, NULL);
		tm_step(tm.now + 100);
	}
	n += serve(out + n, max - n, NULL);
	ck_assert_uint_eq(dp_miss_clients_used(tm.w->miss), 0);
	ck_assert_uint_eq(px_resolver_active(dp_miss_resolver(tm.w->miss)), 0);
	return n;
}

/* A reload (dp_settings.h) of the serve-stale and prefetch settings, taken in at the next
 * tick; the object is freed at once, as after the grace period. */
static void
publish_timeout(uint32_t max_s, bool prefetch, uint32_t timeout_ms)
{
	struct dp_settings *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	s->generation = ++settings_gen;
	px_addr_policy_init(&s->policy);
	s->max_ttl = 86400;
	s->max_neg_ttl = 3600;
	s->prime_min_servers = 1;
	s->probe_qname_len = 1;
	s->probe_qtype = PX_DNS_TYPE_NS;
	s->stale.max_s = max_s;
	s->stale.timeout_ms = timeout_ms;
	s->stale.ttl = STALE_TTL;
	s->stale.prefetch = prefetch;
	free(__atomic_exchange_n(&tm.ctx.settings, s, __ATOMIC_ACQ_REL));
	tm_step(tm.now);
}

static void
publish(uint32_t max_s, bool prefetch)
{
	publish_timeout(max_s, prefetch, STALE_TIMEOUT_MS);
}

/*
 * An expired answer whose refresh fails: every client of the resolution gets it, TTL 30, with
 * EDE 3 when it sent EDNS and without an OPT when it did not; the expired entry stays as it was
 * (nothing stale is cached).
 */
START_TEST(test_stale_served_after_failure)
{
	uint64_t served = STAT(stale_served), servfail = STAT(rec_servfail);
	const struct dp_cache_entry *e;
	uint64_t expire;
	struct ans a[4];

	answer_ttl = 10;
	resolve_fresh("fail.good.test", 100);
	expire = cached("fail.good.test")->expire_ms;
	tm_step(tm.now + 11000);
	mode = FAIL;
	ask(101, "fail.good.test", true);
	ask(102, "fail.good.test", false);
	ck_assert_uint_eq(serve(a, 4, NULL), 2);
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_uint_eq(a[i].rcode, PX_DNS_RCODE_NOERROR);
		ck_assert_uint_eq(a[i].ancount, 1);
		ck_assert_uint_eq(a[i].ttl, STALE_TTL);
		ck_assert_uint_eq(a[i].addr[0], 198);
		if (a[i].dport == 101) {
			ck_assert_int_eq(a[i].ede, PX_DNS_EDE_STALE_ANSWER);
		} else {
			ck_assert_uint_eq(a[i].dport, 102);
			ck_assert(!a[i].opt);
		}
	}
	ck_assert_uint_eq(STAT(stale_served), served + 2);
	ck_assert_uint_eq(STAT(rec_servfail), servfail + 1);
	e = cached("fail.good.test");
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->expire_ms, expire);
	ck_assert_uint_eq(dp_miss_clients_used(tm.w->miss), 0);
}
END_TEST

/*
 * The refresh outruns the client response timer: at 1.8 s, not a millisecond before, the client
 * gets the stale answer, while the resolution goes on; when the server answers, the entry is
 * refreshed and the next query is a fresh hit.
 */
START_TEST(test_stale_on_client_timeout_then_refreshed)
{
	uint64_t served = STAT(stale_served), timeouts = STAT(stale_on_timeout);
	uint64_t hits, t0;
	struct tm_upq held = {0};
	struct ans a[4];

	answer_ttl = 10;
	resolve_fresh("slow.good.test", 200);
	tm_step(tm.now + 20000);
	mode = HOLD;
	ask(201, "slow.good.test", true);
	t0 = tm.now;
	ck_assert_uint_eq(serve(a, 4, &held), 0);
	ck_assert_uint_eq(held.dst, GOOD_IP4);
	tm_step(t0 + STALE_TIMEOUT_MS - 1);
	ck_assert_uint_eq(serve(a, 4, &held), 0);
	tm_step(t0 + STALE_TIMEOUT_MS);
	ck_assert_uint_eq(serve(a, 4, &held), 1);
	ck_assert_uint_eq(a[0].dport, 201);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(a[0].ttl, STALE_TTL);
	ck_assert_int_eq(a[0].ede, PX_DNS_EDE_STALE_ANSWER);
	ck_assert_uint_eq(STAT(stale_served), served + 1);
	ck_assert_uint_eq(STAT(stale_on_timeout), timeouts + 1);
	/* The resolution goes on, its answered client's slot held until it ends. */
	ck_assert_uint_eq(dp_miss_clients_used(tm.w->miss), 1);
	ck_assert_uint_eq(px_resolver_active(dp_miss_resolver(tm.w->miss)), 1);
	/* The server answers late, with a new address: the entry is refreshed, nobody is
	 * answered twice. */
	tm_step(t0 + STALE_TIMEOUT_MS + 100);
	answer_ttl = 600;
	answer_addr = "198.51.100.8";
	reply(&held, false);
	ck_assert_uint_eq(serve(a, 4, NULL), 0);
	ck_assert_uint_eq(px_resolver_active(dp_miss_resolver(tm.w->miss)), 0);
	ck_assert_uint_eq(dp_miss_clients_used(tm.w->miss), 0);
	ck_assert_int_ge(dp_cache_entry_ttl(cached("slow.good.test"), tm.now), 599);
	hits = STAT(hits);
	ask(202, "slow.good.test", true);
	ck_assert_uint_eq(serve(a, 4, NULL), 1);
	ck_assert_uint_eq(STAT(hits), hits + 1);
	ck_assert_uint_eq(a[0].ttl, 600);
	ck_assert_uint_eq(a[0].addr[3], 8);
	ck_assert_int_eq(a[0].ede, -1);
	answer_addr = "198.51.100.7";
	answer_ttl = 10;
	mode = ANSWER;
}
END_TEST

/*
 * Fresh data wins: another writer refreshes the entry while a stale client waits, so the timer
 * serves the fresh answer (no EDE, its own TTL); the failure that follows serves nobody and
 * caches nothing stale over it.
 */
START_TEST(test_stale_never_overrides_fresh)
{
	uint64_t served = STAT(stale_served);
	uint8_t rr[64], wire[PX_DNS_NAME_BUF];
	struct dp_cache_key key = {.qtype = PX_DNS_TYPE_A, .qclass = PX_DNS_CLASS_IN,
				   .kind = DP_CACHE_RRSET};
	struct tm_upq held = {0};
	struct ans a[4];
	uint16_t ttl_off = 0;
	uint32_t addr = inet_addr("198.51.100.99");
	uint64_t t0;

	answer_ttl = 10;
	resolve_fresh("race.good.test", 300);
	tm_step(tm.now + 20000);
	mode = HOLD;
	ask(301, "race.good.test", true);
	t0 = tm.now;
	ck_assert_uint_eq(serve(a, 4, &held), 0);
	/* Another worker's fresh answer lands (an A record, TTL 100, owner a pointer). */
	key.name_len = (uint8_t)px_test_name(wire, "race.good.test");
	memcpy(key.name, wire, key.name_len);
	px_put16(rr, PX_DNS_QNAME_PTR);
	px_put16(rr + 2, PX_DNS_TYPE_A);
	px_put16(rr + 4, PX_DNS_CLASS_IN);
	px_put32(rr + 6, 0);
	px_put16(rr + 10, 4);
	memcpy(rr + 12, &addr, 4);
	ttl_off = 6;
	const struct dp_cache_answer fresh = {.ttl = 100, .an_count = 1, .rr = rr, .rr_len = 16,
					      .ttl_off = &ttl_off, .ttl_off_count = 1};

	ck_assert_int_eq(dp_cache_put(tm.w->cache_w, &key, &fresh, tm.now), 0);
	tm_step(t0 + STALE_TIMEOUT_MS);
	ck_assert_uint_eq(serve(a, 4, &held), 1);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(a[0].ttl, 98);
	ck_assert_uint_eq(a[0].addr[3], 99);
	ck_assert_int_eq(a[0].ede, -1);
	ck_assert_uint_eq(STAT(stale_served), served);
	/* The held query fails: nobody is left to answer, and the fresh entry stays. */
	reply(&held, true);
	ck_assert_uint_eq(serve(a, 4, NULL), 0);
	ck_assert_uint_eq(cached("race.good.test")->ttl, 100);
	ck_assert_uint_eq(STAT(stale_served), served);
	mode = ANSWER;
}
END_TEST

/* Past serve-stale-max the expired answer is not served: the failure is a SERVFAIL. With
 * serve-stale off (a reload to 0), not even a just-expired one is. */
START_TEST(test_stale_not_served_past_max)
{
	uint64_t served = STAT(stale_served);
	struct ans a[4];

	answer_ttl = 10;
	resolve_fresh("old.good.test", 400);
	tm_step(tm.now + 10000 + (uint64_t)STALE_MAX_S * 1000);
	mode = FAIL;
	ask(402, "old.good.test", true);
	ck_assert_uint_eq(serve(a, 4, NULL), 1);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_SERVFAIL);
	ck_assert_int_ne(a[0].ede, PX_DNS_EDE_STALE_ANSWER);
	ck_assert_uint_eq(STAT(stale_served), served);

	mode = ANSWER;
	resolve_fresh("off.good.test", 403);
	tm_step(tm.now + 11000);
	publish(0, true);
	mode = FAIL;
	ask(404, "off.good.test", true);
	ck_assert_uint_eq(serve(a, 4, NULL), 1);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_SERVFAIL);
	ck_assert_uint_eq(STAT(stale_served), served);
	publish(STALE_MAX_S, true);
	mode = ANSWER;
}
END_TEST

/*
 * Prefetch: a hit before the last tenth of the TTL sends nothing; the first hit inside it starts
 * one refresh, a second hit while that is in flight starts none; the refresh's answer replaces
 * the entry, so a query after the old expiry is still a hit.
 */
START_TEST(test_prefetch_once_in_last_tenth)
{
	uint64_t pf = STAT(prefetch), hits;
	struct tm_upq held = {0};
	struct ans a[4];
	unsigned up;
	uint64_t t0;

	answer_ttl = 100;
	resolve_fresh("pf.good.test", 500);
	t0 = tm.now;
	up = upstream_seen;
	tm_step(t0 + 90000); /* 10 s left: not yet inside the last tenth */
	ask(501, "pf.good.test", true);
	ck_assert_uint_eq(serve(a, 4, NULL), 1);
	ck_assert_uint_eq(a[0].ttl, 10);
	ck_assert_uint_eq(STAT(prefetch), pf);
	ck_assert_uint_eq(upstream_seen, up);

	tm_step(t0 + 90001);
	mode = HOLD;
	ask(502, "pf.good.test", true);
	ck_assert_uint_eq(serve(a, 4, &held), 1);
	ck_assert_uint_eq(a[0].dport, 502);
	ck_assert_uint_eq(STAT(prefetch), pf + 1);
	ck_assert_uint_eq(upstream_seen, up + 1);
	ck_assert_uint_eq(held.dst, GOOD_IP4);
	ask(503, "pf.good.test", true);
	ck_assert_uint_eq(serve(a, 4, &held), 1);
	ck_assert_uint_eq(STAT(prefetch), pf + 1);
	ck_assert_uint_eq(upstream_seen, up + 1);
	/* The refresh's answer. */
	tm_step(t0 + 90500);
	reply(&held, false);
	ck_assert_uint_eq(serve(a, 4, NULL), 0);
	mode = ANSWER;
	tm_step(t0 + 100500); /* past the first answer's expiry */
	hits = STAT(hits);
	ask(504, "pf.good.test", true);
	ck_assert_uint_eq(serve(a, 4, NULL), 1);
	ck_assert_uint_eq(STAT(hits), hits + 1);
	ck_assert_uint_eq(a[0].ttl, 90);
	ck_assert_uint_eq(upstream_seen, up + 1);
	answer_ttl = 10;
}
END_TEST

/* prefetch: no (a reload): hits inside the last tenth start nothing. */
START_TEST(test_prefetch_off)
{
	uint64_t pf = STAT(prefetch);
	struct ans a[4];
	unsigned up;
	uint64_t t0;

	publish(STALE_MAX_S, false);
	answer_ttl = 100;
	resolve_fresh("nopf.good.test", 600);
	t0 = tm.now;
	up = upstream_seen;
	tm_step(t0 + 95000);
	ask(601, "nopf.good.test", true);
	ck_assert_uint_eq(serve(a, 4, NULL), 1);
	ck_assert_uint_eq(STAT(prefetch), pf);
	ck_assert_uint_eq(upstream_seen, up);
	publish(STALE_MAX_S, true);
	answer_ttl = 10;
}
END_TEST

/* With fewer than a quarter of the resolutions free, a due prefetch is skipped (counted); once
 * they are free again, the next due hit refreshes. */
START_TEST(test_prefetch_needs_free_resolutions)
{
	uint64_t pf = STAT(prefetch), skipped = STAT(prefetch_skipped);
	struct ans a[SLOTS + 4];
	char name[32];
	unsigned up;
	uint64_t t0;

	answer_ttl = 100;
	resolve_fresh("busy.good.test", 700);
	t0 = tm.now;
	tm_step(t0 + 91000);
	for (unsigned i = 0; i < SLOTS - 3; i++) {
		snprintf(name, sizeof(name), "b%u.dead.test", i);
		ask((uint16_t)(710 + i), name, true);
	}
	ck_assert_uint_eq(serve(a, SLOTS + 4, NULL), 0);
	up = upstream_seen;
	ask(701, "busy.good.test", true);
	ck_assert_uint_eq(serve(a, SLOTS + 4, NULL), 1);
	ck_assert_uint_eq(STAT(prefetch), pf);
	ck_assert_uint_eq(STAT(prefetch_skipped), skipped + 1);
	ck_assert_uint_eq(upstream_seen, up);
	ck_assert_uint_eq(drain(a, SLOTS + 4), SLOTS - 3);
	ck_assert_uint_lt(tm.now, t0 + 100000);
	ask(702, "busy.good.test", true);
	ck_assert_uint_eq(serve(a, SLOTS + 4, NULL), 1);
	ck_assert_uint_eq(STAT(prefetch), pf + 1);
	answer_ttl = 10;
}
END_TEST

/*
 * A client answered stale on its timer keeps its slot and its share until the refresh ends: one
 * with a share of SHARE asking for SHARE + 2 stale names whose server is silent gets SHARE
 * refreshes running, no more; after the timer answers those, a further miss is still capped
 * (answered stale at once, EDE 3 without text: it cost no upstream work); once the refreshes
 * end, it is not, and nobody was answered twice.
 */
START_TEST(test_stale_timer_keeps_share)
{
	uint64_t capped, started;
	struct tm_upq held = {0};
	struct ans a[SLOTS];
	char name[32];
	uint64_t t0;

	answer_ttl = 10;
	for (unsigned i = 0; i < SHARE + 2; i++) {
		snprintf(name, sizeof(name), "s%u.good.test", i);
		resolve_fresh(name, (uint16_t)(800 + i));
	}
	tm_step(tm.now + 20000);
	mode = HOLD;
	started = STAT(rec_started);
	for (unsigned i = 0; i < SHARE; i++) {
		snprintf(name, sizeof(name), "s%u.good.test", i);
		ask((uint16_t)(820 + i), name, true);
	}
	t0 = tm.now;
	ck_assert_uint_eq(serve(a, SLOTS, &held), 0);
	ck_assert_uint_eq(STAT(rec_started), started + SHARE);
	tm_step(t0 + STALE_TIMEOUT_MS);
	ck_assert_uint_eq(serve(a, SLOTS, &held), SHARE);
	for (unsigned i = 0; i < SHARE; i++)
		ck_assert_int_eq(a[i].ede, PX_DNS_EDE_STALE_ANSWER);
	ck_assert_uint_eq(dp_miss_clients_used(tm.w->miss), SHARE);
	ck_assert_uint_eq(px_resolver_active(dp_miss_resolver(tm.w->miss)), SHARE);
	/* The refreshes still count: more stale names start nothing. */
	capped = STAT(rec_client_capped);
	for (unsigned i = SHARE; i < SHARE + 2; i++) {
		snprintf(name, sizeof(name), "s%u.good.test", i);
		ask((uint16_t)(840 + i), name, true);
	}
	ck_assert_uint_eq(serve(a, SLOTS, &held), 2);
	ck_assert_uint_eq(STAT(rec_client_capped), capped + 2);
	ck_assert_uint_eq(STAT(rec_started), started + SHARE);
	ck_assert_uint_eq(px_resolver_active(dp_miss_resolver(tm.w->miss)), SHARE);
	ck_assert_uint_eq(a[0].ttl, STALE_TTL);
	ck_assert_int_eq(a[0].ede, PX_DNS_EDE_STALE_ANSWER);
	ck_assert_uint_eq(a[0].ede_text_len, 0);
	/* The refreshes end (the server answers the retries): nobody hears again, and the share
	 * is back. */
	mode = ANSWER;
	ck_assert_uint_eq(drain(a, SLOTS), 0);
	snprintf(name, sizeof(name), "s%u.good.test", SHARE);
	ask(860, name, true);
	ck_assert_uint_eq(serve(a, SLOTS, NULL), 1);
	ck_assert_uint_eq(STAT(rec_client_capped), capped + 2);
	ck_assert_uint_eq(a[0].ttl, answer_ttl);
}
END_TEST

/*
 * A prefetch is charged to the client whose hit caused it, until it ends: a client sending only
 * hits on SHARE + 1 names it planted gets SHARE prefetches running and the next skipped
 * (counted); a miss of its own meanwhile is capped; when the prefetches end, its share is back.
 */
START_TEST(test_prefetch_charged_to_client)
{
	uint64_t pf = STAT(prefetch), skipped, capped;
	struct tm_upq held = {0};
	struct ans a[SLOTS];
	char name[32];
	uint64_t t0;

	answer_ttl = 100;
	for (unsigned i = 0; i < SHARE + 1; i++) {
		snprintf(name, sizeof(name), "p%u.good.test", i);
		resolve_fresh(name, (uint16_t)(900 + i));
	}
	t0 = tm.now;
	tm_step(t0 + 91000);
	mode = HOLD;
	skipped = STAT(prefetch_skipped);
	for (unsigned i = 0; i < SHARE + 1; i++) {
		snprintf(name, sizeof(name), "p%u.good.test", i);
		ask((uint16_t)(920 + i), name, true);
	}
	ck_assert_uint_eq(serve(a, SLOTS, &held), SHARE + 1);
	ck_assert_uint_eq(STAT(prefetch), pf + SHARE);
	ck_assert_uint_eq(STAT(prefetch_skipped), skipped + 1);
	ck_assert_uint_eq(dp_miss_clients_used(tm.w->miss), SHARE);
	capped = STAT(rec_client_capped);
	ask(940, "other.good.test", true);
	ck_assert_uint_eq(serve(a, SLOTS, &held), 1);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_SERVFAIL);
	ck_assert_uint_eq(STAT(rec_client_capped), capped + 1);
	mode = ANSWER;
	ck_assert_uint_eq(drain(a, SLOTS), 0);
	ck_assert_uint_lt(tm.now, t0 + 100000);
	answer_ttl = 10;
	resolve_fresh("other.good.test", 941);
}
END_TEST

/*
 * serve-stale-client-timeout is reloadable: a reload from 30 s to 0 with a timer pending
 * answers that client at the next tick, not 30 s later; a client arriving after it is answered
 * at once too, though it stands behind the old timer in the ring.
 */
START_TEST(test_stale_timeout_reload_retimes)
{
	struct tm_upq held = {0};
	struct ans a[4];
	uint64_t t0;

	answer_ttl = 10;
	resolve_fresh("rt1.good.test", 1000);
	resolve_fresh("rt2.good.test", 1001);
	tm_step(tm.now + 20000);
	publish_timeout(STALE_MAX_S, true, 30000);
	mode = HOLD;
	ask(1002, "rt1.good.test", true);
	t0 = tm.now;
	ck_assert_uint_eq(serve(a, 4, &held), 0);
	tm_step(t0 + 100);
	ck_assert_uint_eq(serve(a, 4, &held), 0);
	publish_timeout(STALE_MAX_S, true, 0);
	ck_assert_uint_eq(serve(a, 4, &held), 1);
	ck_assert_uint_eq(a[0].dport, 1002);
	ck_assert_int_eq(a[0].ede, PX_DNS_EDE_STALE_ANSWER);
	ask(1003, "rt2.good.test", true);
	tm_step(tm.now + 1);
	ck_assert_uint_eq(serve(a, 4, &held), 1);
	ck_assert_uint_eq(a[0].dport, 1003);
	ck_assert_uint_lt(tm.now, t0 + 1000);
	publish(STALE_MAX_S, true);
	mode = ANSWER;
	ck_assert_uint_eq(drain(a, 4), 0);
}
END_TEST

/* The worker's resolution settings: no QNAME minimisation, no fair share, SLOTS slots, every
 * RTO the longest, serve-stale and prefetch on. */
static void
stale_miss_conf(struct dp_miss_conf *rc)
{
	rc->slots = SLOTS;
	rc->resolve.qname_min = false;
	rc->per_client = 0;
	rc->jostle_ms = 0;
	rc->rto_min_ms = PX_UPQ_RTO_MAX_MS;
	rc->stale.max_s = STALE_MAX_S;
	rc->stale.timeout_ms = STALE_TIMEOUT_MS;
	rc->stale.ttl = STALE_TTL;
	rc->stale.prefetch = true;
}

/* The same with a fair share of SHARE client slots (every query comes from one address). */
static void
stale_share_conf(struct dp_miss_conf *rc)
{
	stale_miss_conf(rc);
	rc->per_client = SHARE;
}

/* The rig of every case: priming off, the gateway learned, the servers as the script starts. */
static void
setup_with(void (*conf)(struct dp_miss_conf *))
{
	mode = ANSWER;
	answer_ttl = 10;
	answer_addr = "198.51.100.7";
	upstream_seen = 0;
	settings_gen = 0;
	tm_build(&(struct tm_conf){.miss = conf});
	tm_gateway();
}

static void
setup_stale(void)
{
	setup_with(stale_miss_conf);
}

static void
setup_share(void)
{
	setup_with(stale_share_conf);
}

int
main(void)
{
	Suite *s = suite_create("stale");

	tm_add_case(s, test_stale_served_after_failure, setup_stale);
	tm_add_case(s, test_stale_on_client_timeout_then_refreshed, setup_stale);
	tm_add_case(s, test_stale_never_overrides_fresh, setup_stale);
	tm_add_case(s, test_stale_not_served_past_max, setup_stale);
	tm_add_case(s, test_prefetch_once_in_last_tenth, setup_stale);
	tm_add_case(s, test_prefetch_off, setup_stale);
	tm_add_case(s, test_prefetch_needs_free_resolutions, setup_stale);
	tm_add_case(s, test_stale_timer_keeps_share, setup_share);
	tm_add_case(s, test_prefetch_charged_to_client, setup_share);
	tm_add_case(s, test_stale_timeout_reload_retimes, setup_stale);
	return tm_run("test_stale", s);
}
