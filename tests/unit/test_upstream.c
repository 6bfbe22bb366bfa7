/* SPDX-License-Identifier: BSD-3-Clause */
/* Upstream query bookkeeping: (port, ID) allocation, RFC 5452 reply matching, timeouts, server
 * RTT and selection. Pure: no EAL; the memory block comes from malloc and the clock is a
 * number the tests move by hand. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <pollux/wire.h>

#include <pollux/rand.h>
#include <pollux/upstream.h>
#include "testlib.h"

static void *mem;
static struct px_upq_table *t;
static struct px_rand rng;
static uint8_t qname[PX_DNS_NAME_BUF];
static struct px_upq_query q;
static struct px_upq_sent sent;
static struct px_upq_done done;

static struct px_addr
addr(const char *s)
{
	struct px_addr a;
	uint8_t buf[16];

	if (strchr(s, ':') != NULL) {
		ck_assert_int_eq(inet_pton(AF_INET6, s, buf), 1);
		px_addr_set6(&a, buf, 0);
	} else {
		uint32_t v4;

		ck_assert_int_eq(inet_pton(AF_INET, s, &v4), 1);
		px_addr_set4(&a, v4, 0);
	}
	return a;
}

static void
table_new(uint32_t capacity, uint64_t now_ms)
{
	uint8_t seed[PX_RAND_KEY_LEN];

	memset(seed, 0x5a, sizeof(seed));
	px_rand_init_seed(&rng, seed);
	free(mem);
	mem = malloc(px_upq_memsize(capacity));
	ck_assert_ptr_nonnull(mem);
	t = px_upq_init(mem, capacity, now_ms, 0x0123456789abcdefull);
	ck_assert_ptr_eq(t, mem);
}

/* Sets the query template: name in presentation form, to server:53, type A class IN. */
static void
query_set(const char *server, const char *name, uint32_t cookie)
{
	q.server = addr(server);
	q.server.port = PX_DNS_PORT;
	q.qtype = PX_DNS_TYPE_A;
	q.qclass = PX_DNS_CLASS_IN;
	q.qname_len = (uint8_t)px_test_name(qname, name);
	ck_assert_uint_gt(q.qname_len, 0);
	q.qname = qname;
	q.cookie = cookie;
}

/* The reply the queried server would send for `sent`, with its question spelled `name`, or
 * (name NULL) spelled exactly as sent, 0x20 case and all. */
static struct px_upq_reply
reply_for(const struct px_upq_sent *s, const char *server, const char *name, uint8_t *buf)
{
	struct px_upq_reply rep = {
	    .src = addr(server),
	    .dport = s->sport,
	    .id = s->id,
	    .qtype = PX_DNS_TYPE_A,
	    .qclass = PX_DNS_CLASS_IN,
	    .qname = buf,
	};

	rep.src.port = PX_DNS_PORT;
	if (name != NULL) {
		rep.qname_len = (uint8_t)px_test_name(buf, name);
	} else {
		rep.qname_len = q.qname_len;
		memcpy(buf, s->qname, q.qname_len);
	}
	return rep;
}

static void
setup(void)
{
	table_new(64, 1000);
	query_set("192.0.2.1", "www.Example.TEST", 42);
}

static void
teardown(void)
{
	free(mem);
	mem = NULL;
	t = NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

START_TEST(test_dp_upq_init_invalid)
{
	uint64_t buf[8];

	ck_assert_uint_eq(px_upq_memsize(0), 0);
	ck_assert_uint_eq(px_upq_memsize(PX_UPQ_MAX_CAPACITY + 1), 0);
	ck_assert_uint_gt(px_upq_memsize(1), 0);
	ck_assert_uint_gt(px_upq_memsize(1000), px_upq_memsize(1));
	errno = 0;
	ck_assert_ptr_null(px_upq_init(NULL, 1, 0, 0));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(px_upq_init(buf, 0, 0, 0));
	ck_assert_ptr_null(px_upq_init((uint8_t *)mem + 1, 1, 0, 0));
	ck_assert_uint_eq(px_upq_outstanding(t), 0);
}
END_TEST

START_TEST(test_dp_upq_start_invalid)
{
	uint8_t bad[8] = {3, 'w', 'w', 'w', 0};

	q.qname = bad;
	q.qname_len = 4; /* the root label is missing from the length */
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 100, &sent), -EINVAL);
	q.qname_len = 6; /* one byte past the root */
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 100, &sent), -EINVAL);
	bad[0] = 64;
	q.qname_len = 5;
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 100, &sent), -EINVAL);
	query_set("192.0.2.1", "example.test", 1);
	q.server.family = 0;
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 100, &sent), -EINVAL);
	ck_assert_uint_eq(px_upq_stats(t)->started, 0);
	ck_assert_uint_eq(px_upq_outstanding(t), 0);
}
END_TEST

/* A full table holds distinct (port, ID) pairs, all in the port range; one more is refused. */
START_TEST(test_dp_upq_start_unique_and_full)
{
	enum { CAP = 60000 };
	uint32_t *keys = malloc(CAP * sizeof(*keys));

	ck_assert_ptr_nonnull(keys);
	table_new(CAP, 0);
	for (uint32_t i = 0; i < CAP; i++) {
		ck_assert_int_eq(px_upq_start(t, &rng, &q, 0, 1000, &sent), 0);
		ck_assert_uint_ge(sent.sport, PX_UPQ_PORT_MIN);
		ck_assert_uint_ne(sent.sport, PX_DNS_PORT);
		ck_assert_uint_ne(sent.handle, 0);
		keys[i] = (uint32_t)sent.sport << 16 | sent.id;
	}
	qsort(keys, CAP, sizeof(*keys), cmp_u32);
	for (uint32_t i = 1; i < CAP; i++)
		ck_assert_uint_ne(keys[i], keys[i - 1]);
	ck_assert_uint_eq(px_upq_outstanding(t), CAP);

	ck_assert_int_eq(px_upq_start(t, &rng, &q, 0, 1000, &sent), -ENOSPC);
	ck_assert_uint_eq(px_upq_stats(t)->table_full, 1);
	ck_assert_uint_eq(px_upq_stats(t)->started, CAP);
	/* 60000 draws among 2^32 pairs: a few collisions at most, each redrawn. */
	ck_assert_uint_lt(px_upq_stats(t)->id_collisions, 10);

	/* A slot freed by a timeout is usable again. */
	ck_assert(px_upq_expire(t, 1000, &done));
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 1000, &sent), 0);
	free(keys);
}
END_TEST

/*
 * Every port of 1024-65535 is used, and nothing below. 64512 ports need about n(ln n + 10)
 * = 1.36 M draws before all are hit with near certainty (coupon collector): 2.5 M makes a miss
 * about a 1e-12 event, and the seed is fixed anyway. IDs are checked for uniformity too.
 */
START_TEST(test_dp_upq_start_full_port_range)
{
	enum { N = 2500000 };
	static uint8_t seen[65536];
	static uint32_t id_hist[256];
	uint8_t rbuf[PX_DNS_NAME_BUF];
	double chi = 0, expect = (double)N / 256;

	memset(seen, 0, sizeof(seen));
	memset(id_hist, 0, sizeof(id_hist));
	struct px_upq_reply rep;

	table_new(4, 0);
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 0, 1000, &sent), 0);
	rep = reply_for(&sent, "192.0.2.1", NULL, rbuf);
	ck_assert_int_eq(px_upq_cancel(t, sent.handle), 0);
	/* Plain checks in the loop: in fork mode every passing ck_assert is a write to Check's
	 * pipe, which would make this test about system calls. */
	for (uint32_t i = 0; i < N; i++) {
		if (px_upq_start(t, &rng, &q, 0, 1000, &sent) != 0)
			ck_abort_msg("start %u failed", i);
		seen[sent.sport] = 1;
		id_hist[sent.id >> 8]++;
		rep.dport = sent.sport;
		rep.id = sent.id;
		rep.qname = sent.qname;
		if (px_upq_match(t, &rep, &done) != PX_UPQ_MATCH)
			ck_abort_msg("reply %u not matched", i);
	}
	for (uint32_t p = 0; p < 65536; p++)
		if (seen[p] != (p >= PX_UPQ_PORT_MIN))
			ck_abort_msg("port %u: seen %u", p, seen[p]);
	ck_assert(!seen[PX_DNS_PORT]);
	for (unsigned i = 0; i < 256; i++)
		chi += (id_hist[i] - expect) * (id_hist[i] - expect) / expect;
	ck_assert_double_lt(chi, 400);
	ck_assert_uint_eq(px_upq_stats(t)->matched, N);
	ck_assert_uint_eq(px_upq_outstanding(t), 0);
}
END_TEST

START_TEST(test_dp_upq_match_accepts)
{
	uint8_t rbuf[PX_DNS_NAME_BUF];
	struct px_upq_reply rep;

	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 300, &sent), 0);
	ck_assert_uint_eq(sent.deadline_ms, 1300);
	/* The question as sent, in its 0x20 case; the copy out is lower-cased. */
	rep = reply_for(&sent, "192.0.2.1", NULL, rbuf);
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_MATCH);
	ck_assert_uint_eq(done.handle, sent.handle);
	ck_assert_uint_eq(done.cookie, 42);
	ck_assert_uint_eq(done.sent_ms, 1000);
	ck_assert_uint_eq(done.deadline_ms, 1300);
	ck_assert_uint_eq(done.sport, sent.sport);
	ck_assert_uint_eq(done.id, sent.id);
	ck_assert_uint_eq(done.server.port, PX_DNS_PORT);
	ck_assert_uint_eq(done.qtype, PX_DNS_TYPE_A);
	ck_assert_uint_eq(done.qclass, PX_DNS_CLASS_IN);
	ck_assert_uint_eq(done.qname_len, 18);
	ck_assert_mem_eq(done.qname, "\3www\7example\4test", 18);
	ck_assert(px_addr_eq(&done.server, &q.server));
	ck_assert_uint_eq(px_upq_outstanding(t), 0);
	ck_assert_uint_eq(px_upq_stats(t)->matched, 1);
	/* It left the wheel too. */
	ck_assert(!px_upq_expire(t, 100000, &done));
}
END_TEST

START_TEST(test_dp_upq_match_ipv6)
{
	uint8_t rbuf[PX_DNS_NAME_BUF];
	struct px_upq_reply rep;

	query_set("2001:db8::53", "example.test", 7);
	q.qtype = PX_DNS_TYPE_AAAA;
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 300, &sent), 0);
	rep = reply_for(&sent, "2001:db8::53", NULL, rbuf);
	rep.qtype = PX_DNS_TYPE_AAAA;
	rep.src = addr("2001:db8::54");
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_ADDR);
	/* The same 16 bytes under the other family are another address. */
	rep.src = addr("2001:db8::53");
	rep.src.family = PX_AF_INET;
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_ADDR);
	rep.src = addr("2001:db8::53");
	rep.src.port = PX_DNS_PORT;
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_MATCH);
	ck_assert_uint_eq(done.cookie, 7);
}
END_TEST

/* Each forged variant is dropped with its own verdict and counter, and none of them disturbs
 * the outstanding query: the real reply still matches afterwards, once. */
START_TEST(test_dp_upq_match_forged)
{
	uint8_t rbuf[PX_DNS_NAME_BUF];
	struct px_upq_reply good, rep;
	const struct px_upq_stats *st = px_upq_stats(t);

	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 300, &sent), 0);
	good = reply_for(&sent, "192.0.2.1", NULL, rbuf);

	rep = good;
	rep.id = (uint16_t)(sent.id + 1);
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_NO_SUCH_QUERY);
	rep = good;
	rep.dport = (uint16_t)(sent.sport == 65535 ? 1024 : sent.sport + 1);
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_NO_SUCH_QUERY);
	ck_assert_uint_eq(st->drop_no_such_query, 2);

	rep = good;
	rep.src = addr("192.0.2.2");
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_ADDR);
	rep.src = addr("::ffff:192.0.2.1");
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_ADDR);
	ck_assert_uint_eq(st->drop_wrong_addr, 2);

	rep = good;
	rep.src.port = 5353;
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_PORT);
	rep.src.port = sent.sport;
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_PORT);
	ck_assert_uint_eq(st->drop_wrong_port, 2);

	rep = good;
	rep.qname_len = (uint8_t)px_test_name(rbuf, "www.example.tesu");
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_QUESTION);
	rep.qname_len = (uint8_t)px_test_name(rbuf, "ww.example.test");
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_QUESTION);
	rep.qname_len = (uint8_t)px_test_name(rbuf, "example.test");
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_QUESTION);
	rep = good;
	rep.qname_len = (uint8_t)px_test_name(rbuf, "www.example.test");
	rep.qtype = PX_DNS_TYPE_AAAA;
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_QUESTION);
	rep.qtype = PX_DNS_TYPE_A;
	rep.qclass = PX_DNS_CLASS_CH;
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_QUESTION);
	rep.qclass = PX_DNS_CLASS_IN;
	rep.qname_len = 0; /* a reply with no question */
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_QUESTION);
	ck_assert_uint_eq(st->drop_wrong_question, 6);

	ck_assert_uint_eq(px_upq_outstanding(t), 1);
	rep = reply_for(&sent, "192.0.2.1", NULL, rbuf);
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_MATCH);
	ck_assert_uint_eq(done.cookie, 42);
	/* A second copy of the reply (a duplicate, or a forgery racing the real one) finds
	 * nothing. */
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_NO_SUCH_QUERY);
	ck_assert_uint_eq(st->drop_no_such_query, 3);
	ck_assert_uint_eq(st->matched, 1);
}
END_TEST

START_TEST(test_dp_upq_match_unknown)
{
	uint8_t rbuf[PX_DNS_NAME_BUF];
	struct px_upq_sent fake = {.sport = 40000, .id = 1234};
	struct px_upq_reply rep = reply_for(&fake, "192.0.2.1", "www.example.test", rbuf);

	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_NO_SUCH_QUERY);
	ck_assert_uint_eq(px_upq_stats(t)->drop_no_such_query, 1);
	ck_assert_uint_eq(px_upq_stats(t)->matched, 0);
}
END_TEST

/* Many queries at once: each reply finds its own query, whatever the order. */
START_TEST(test_dp_upq_match_many)
{
	enum { N = 64 };
	struct px_upq_sent all[N];
	uint8_t rbuf[PX_DNS_NAME_BUF];

	for (uint32_t i = 0; i < N; i++) {
		q.cookie = i;
		ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 500, &all[i]), 0);
	}
	for (uint32_t k = 0; k < N; k++) {
		uint32_t i = (k * 37) % N;
		struct px_upq_reply rep = reply_for(&all[i], "192.0.2.1", NULL, rbuf);

		ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_MATCH);
		ck_assert_uint_eq(done.cookie, i);
	}
	ck_assert_uint_eq(px_upq_outstanding(t), 0);
}
END_TEST

START_TEST(test_dp_upq_cancel)
{
	uint8_t rbuf[PX_DNS_NAME_BUF];
	struct px_upq_sent first;
	struct px_upq_reply rep;

	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 300, &first), 0);
	ck_assert_int_eq(px_upq_cancel(t, first.handle), 0);
	ck_assert_int_eq(px_upq_cancel(t, first.handle), -ENOENT);
	ck_assert_uint_eq(px_upq_outstanding(t), 0);
	rep = reply_for(&first, "192.0.2.1", "www.example.test", rbuf);
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_NO_SUCH_QUERY);
	ck_assert(!px_upq_expire(t, 5000, &done));
	/* The slot is reused (LIFO free list): the old handle must not cancel the new query. */
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 5000, 300, &sent), 0);
	ck_assert_uint_eq((uint32_t)sent.handle, (uint32_t)first.handle);
	ck_assert_int_eq(px_upq_cancel(t, first.handle), -ENOENT);
	ck_assert_int_eq(px_upq_cancel(t, (uint64_t)1 << 32 | 1000000), -ENOENT);
	ck_assert_uint_eq(px_upq_outstanding(t), 1);
	ck_assert_uint_eq(px_upq_stats(t)->cancelled, 1);
}
END_TEST

/* Deadlines come back in order as the fake clock moves, each exactly when due. */
START_TEST(test_dp_upq_expire_order)
{
	struct px_upq_sent s1, s2, s3, s4;

	q.cookie = 1;
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 300, &s1), 0);
	q.cookie = 2;
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 100, &s2), 0);
	q.cookie = 3;
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1050, 100, &s3), 0);
	q.cookie = 4;
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1050, 5000, &s4), 0);
	ck_assert_uint_eq(s4.deadline_ms, 6050);

	ck_assert(!px_upq_expire(t, 1099, &done));
	ck_assert(px_upq_expire(t, 1100, &done));
	ck_assert_uint_eq(done.cookie, 2);
	ck_assert_uint_eq(done.handle, s2.handle);
	ck_assert(!px_upq_expire(t, 1100, &done));
	ck_assert(px_upq_expire(t, 1200, &done));
	ck_assert_uint_eq(done.cookie, 3);
	ck_assert(!px_upq_expire(t, 1299, &done));
	ck_assert(px_upq_expire(t, 1300, &done));
	ck_assert_uint_eq(done.cookie, 1);
	ck_assert_uint_eq(done.sent_ms, 1000);
	ck_assert(!px_upq_expire(t, 6049, &done));
	ck_assert_uint_eq(px_upq_outstanding(t), 1);
	ck_assert(px_upq_expire(t, 6050, &done));
	ck_assert_uint_eq(done.cookie, 4);
	ck_assert(!px_upq_expire(t, 100000, &done));
	ck_assert_uint_eq(px_upq_stats(t)->timeouts, 4);
	ck_assert_uint_eq(px_upq_outstanding(t), 0);
}
END_TEST

/* Many deadlines due at once come back sorted, however late the clock is read. */
START_TEST(test_dp_upq_expire_batch_sorted)
{
	enum { N = 64 };
	uint64_t last = 0;
	unsigned n = 0;

	for (uint32_t i = 0; i < N; i++) {
		q.cookie = i;
		ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000 + i % 7,
					      50 + px_rand_uniform(&rng, 3000), &sent),
				 0);
	}
	while (px_upq_expire(t, 4100, &done)) {
		ck_assert_uint_ge(done.deadline_ms, last);
		ck_assert_uint_le(done.deadline_ms, 4100);
		last = done.deadline_ms;
		n++;
	}
	ck_assert_uint_eq(n, N);
}
END_TEST

/* Timeouts are clamped to the wheel, a long pause loses nothing, and a deadline a whole turn
 * ahead of the wheel (queued while the clock ran ahead of px_upq_expire) is not returned
 * early. */
START_TEST(test_dp_upq_expire_clamp_and_pause)
{
	uint64_t deadlines = 0;

	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 0, &sent), 0);
	ck_assert_uint_eq(sent.deadline_ms, 1001);
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 1000000, &sent), 0);
	ck_assert_uint_eq(sent.deadline_ms, 1000 + PX_UPQ_MAX_TIMEOUT_MS);
	/* After a pause longer than the wheel, overdue queries come back in wheel order. */
	ck_assert(px_upq_expire(t, 500000, &done));
	deadlines += done.deadline_ms;
	ck_assert(px_upq_expire(t, 500000, &done));
	deadlines += done.deadline_ms;
	ck_assert_uint_eq(deadlines, 1001 + 1000 + PX_UPQ_MAX_TIMEOUT_MS);
	ck_assert(!px_upq_expire(t, 500000, &done));

	/* The wheel stands at 500000; a query started with a clock far ahead of it. */
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 520000, 8000, &sent), 0);
	ck_assert(!px_upq_expire(t, 520001, &done));
	ck_assert(!px_upq_expire(t, 527999, &done));
	ck_assert(px_upq_expire(t, 528000, &done));
	ck_assert(!px_upq_expire(t, 528000, &done));

	/* A clock behind the wheel still gets a deadline in the future of the wheel. */
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 100, 10, &sent), 0);
	ck_assert_uint_eq(sent.deadline_ms, 528001);
	ck_assert(px_upq_expire(t, 528001, &done));
}
END_TEST

START_TEST(test_dp_upq_server_rtt_smoothing)
{
	struct px_addr a = addr("192.0.2.1"), b = addr("192.0.2.2"), c = addr("2001:db8::1");
	struct px_upq_server_info info;

	ck_assert_uint_eq(px_upq_server_rto(t, &a, 0), PX_UPQ_RTT_UNKNOWN_MS);
	ck_assert(!px_upq_server_info(t, &a, 0, &info));
	ck_assert(!info.known);

	/* First sample: SRTT = R, RTTVAR = R/2, RTO = 100 + 4 * 50. */
	px_upq_server_update(t, &a, 100, 0);
	ck_assert(px_upq_server_info(t, &a, 0, &info));
	ck_assert(info.has_sample);
	ck_assert_uint_eq(info.srtt_ms, 100);
	ck_assert_uint_eq(info.rttvar_ms, 50);
	ck_assert_uint_eq(px_upq_server_rto(t, &a, 0), 300);
	/* Same again: RTTVAR = 3/4 * 50 = 37.5, RTO = 100 + 150. */
	px_upq_server_update(t, &a, 100, 0);
	ck_assert_uint_eq(px_upq_server_rto(t, &a, 0), 250);
	/* 200: RTTVAR = (3 * 37.5 + 100) / 4 = 53.125, SRTT = (7 * 100 + 200) / 8 = 112.5,
	 * RTO = 112.5 + 212.5 = 325. */
	px_upq_server_update(t, &a, 200, 0);
	px_upq_server_info(t, &a, 0, &info);
	ck_assert_uint_eq(info.srtt_ms, 113);
	ck_assert_uint_eq(info.rttvar_ms, 53);
	ck_assert_uint_eq(info.rto_ms, 325);
	/* Many identical samples converge: RTTVAR shrinks towards 0, RTO towards SRTT. */
	for (unsigned i = 0; i < 200; i++)
		px_upq_server_update(t, &a, 80, 0);
	px_upq_server_info(t, &a, 0, &info);
	ck_assert_uint_eq(info.srtt_ms, 80);
	ck_assert_uint_le(info.rto_ms, 82);
	ck_assert_uint_ge(info.rto_ms, 80);

	/* Clamps: a 5 ms server still gets 50 ms, a 2 s one at most 3 s. */
	px_upq_server_update(t, &b, 5, 0);
	ck_assert_uint_eq(px_upq_server_rto(t, &b, 0), PX_UPQ_RTO_MIN_MS);
	px_upq_server_update(t, &c, 2000, 0);
	ck_assert_uint_eq(px_upq_server_rto(t, &c, 0), PX_UPQ_RTO_MAX_MS);
	/* A huge sample is bounded, not overflowed. */
	px_upq_server_update(t, &c, UINT32_MAX, 0);
	ck_assert_uint_eq(px_upq_server_rto(t, &c, 0), PX_UPQ_RTO_MAX_MS);

	/* The floor is the operator's (--upstream-rto-min): the 5 ms server gets it, an unknown
	 * server still its 376 ms, and a floor above that raises the unknown one too. */
	ck_assert_int_eq(px_upq_set_rto_min(t, 200), 0);
	ck_assert_uint_eq(px_upq_server_rto(t, &b, 0), 200);
	ck_assert_uint_eq(px_upq_server_rto(t, &c, 0), PX_UPQ_RTO_MAX_MS);
	ck_assert_uint_eq(px_upq_server_rto(t, &(struct px_addr){.family = PX_AF_INET}, 0),
			  PX_UPQ_RTT_UNKNOWN_MS);
	ck_assert_int_eq(px_upq_set_rto_min(t, 500), 0);
	ck_assert_uint_eq(px_upq_server_rto(t, &(struct px_addr){.family = PX_AF_INET}, 0),
			  500);
	ck_assert_int_eq(px_upq_set_rto_min(t, PX_UPQ_RTO_FLOOR_MIN_MS - 1), -EINVAL);
	ck_assert_int_eq(px_upq_set_rto_min(t, PX_UPQ_RTO_MAX_MS + 1), -EINVAL);
	ck_assert_uint_eq(px_upq_server_rto(t, &b, 0), 500);
}
END_TEST

START_TEST(test_dp_upq_server_backoff)
{
	struct px_addr a = addr("192.0.2.1"), u = addr("192.0.2.9");
	struct px_upq_server_info info;
	const uint64_t now = 10000;

	px_upq_server_update(t, &a, 100, now);
	ck_assert_uint_eq(px_upq_server_rto(t, &a, now), 300);
	px_upq_server_timeout(t, &a, now);
	ck_assert_uint_eq(px_upq_server_rto(t, &a, now), 600);
	px_upq_server_timeout(t, &a, now);
	ck_assert_uint_eq(px_upq_server_rto(t, &a, now), 1200);
	px_upq_server_timeout(t, &a, now);
	ck_assert_uint_eq(px_upq_server_rto(t, &a, now), 2400);
	px_upq_server_timeout(t, &a, now);
	ck_assert_uint_eq(px_upq_server_rto(t, &a, now), PX_UPQ_RTO_MAX_MS);
	for (unsigned i = 0; i < 10; i++)
		px_upq_server_timeout(t, &a, now);
	px_upq_server_info(t, &a, now, &info);
	ck_assert_uint_eq(info.backoff, PX_UPQ_MAX_BACKOFF);
	ck_assert_uint_eq(info.timeouts, 14);
	ck_assert_uint_eq(info.srtt_ms, 100); /* a timeout is not an RTT sample */

	/* Decay: one step forgiven per PX_UPQ_BACKOFF_DECAY_MS of quiet. */
	px_upq_server_info(t, &a, now + PX_UPQ_BACKOFF_DECAY_MS - 1, &info);
	ck_assert_uint_eq(info.backoff, PX_UPQ_MAX_BACKOFF);
	px_upq_server_info(t, &a, now + 4 * PX_UPQ_BACKOFF_DECAY_MS, &info);
	ck_assert_uint_eq(info.backoff, PX_UPQ_MAX_BACKOFF - 4);
	ck_assert_uint_eq(info.rto_ms, 1200);
	ck_assert_uint_eq(px_upq_server_rto(t, &a, now + 6 * PX_UPQ_BACKOFF_DECAY_MS), 300);
	/* A timeout after partial decay doubles from what was left. */
	px_upq_server_timeout(t, &a, now + 5 * PX_UPQ_BACKOFF_DECAY_MS);
	px_upq_server_info(t, &a, now + 5 * PX_UPQ_BACKOFF_DECAY_MS, &info);
	ck_assert_uint_eq(info.backoff, 2);
	ck_assert_uint_eq(info.rto_ms, 1200);
	/* A reply clears the backoff at once. */
	px_upq_server_update(t, &a, 100, now + 5 * PX_UPQ_BACKOFF_DECAY_MS);
	px_upq_server_info(t, &a, now + 5 * PX_UPQ_BACKOFF_DECAY_MS, &info);
	ck_assert_uint_eq(info.backoff, 0);

	/* A server that never answered backs off from the unknown RTT. */
	px_upq_server_timeout(t, &u, now);
	px_upq_server_info(t, &u, now, &info);
	ck_assert(info.known);
	ck_assert(!info.has_sample);
	ck_assert_uint_eq(info.rto_ms, 2 * PX_UPQ_RTT_UNKNOWN_MS);
	px_upq_server_timeout(t, &u, now);
	ck_assert_uint_eq(px_upq_server_rto(t, &u, now), 4 * PX_UPQ_RTT_UNKNOWN_MS);
	px_upq_server_timeout(t, &u, now);
	ck_assert_uint_eq(px_upq_server_rto(t, &u, now), PX_UPQ_RTO_MAX_MS);
}
END_TEST

static unsigned
count_picks(const struct px_addr *cand, unsigned n, unsigned trials, unsigned *hits,
	    uint64_t now)
{
	memset(hits, 0, n * sizeof(*hits));
	for (unsigned i = 0; i < trials; i++) {
		int k = px_upq_server_select(t, &rng, cand, n, now);

		ck_assert_int_ge(k, 0);
		ck_assert_int_lt(k, (int)n);
		hits[k]++;
	}
	return trials;
}

START_TEST(test_dp_upq_server_select_fastest)
{
	struct px_addr c[4] = {
	    addr("192.0.2.1"),
	    addr("192.0.2.2"),
	    addr("2001:db8::3"),
	    addr("192.0.2.4"),
	};
	unsigned hits[4];

	ck_assert_int_eq(px_upq_server_select(t, &rng, c, 0, 0), -1);
	px_upq_server_update(t, &c[0], 100, 0);
	px_upq_server_update(t, &c[1], 300, 0);
	px_upq_server_update(t, &c[2], 20, 0);
	count_picks(c, 3, 1000, hits, 0);
	ck_assert_uint_eq(hits[2], 1000);

	/* Within the band of the best, the pick is spread. */
	px_upq_server_update(t, &c[0], 20 + PX_UPQ_SELECT_BAND_MS / 2, 0);
	for (unsigned i = 0; i < 20; i++)
		px_upq_server_update(t, &c[0], 20 + PX_UPQ_SELECT_BAND_MS / 2, 0);
	count_picks(c, 3, 1000, hits, 0);
	ck_assert_uint_eq(hits[1], 0);
	ck_assert_uint_gt(hits[0], 400);
	ck_assert_uint_gt(hits[2], 400);

	/* The fastest times out three times: 8 x 20 ms scores worse than the second (about 36 ms
	 * after the samples above), which takes over until the backoff decays. */
	for (unsigned i = 0; i < 3; i++)
		px_upq_server_timeout(t, &c[2], 0);
	count_picks(c, 3, 1000, hits, 0);
	ck_assert_uint_eq(hits[2], 0);
	ck_assert_uint_eq(hits[0], 1000);
	count_picks(c, 3, 1000, hits, 3 * PX_UPQ_BACKOFF_DECAY_MS);
	ck_assert_uint_gt(hits[2], 400);
}
END_TEST

START_TEST(test_dp_upq_server_select_explores_unknown)
{
	struct px_addr c[4] = {
	    addr("192.0.2.1"),
	    addr("192.0.2.2"),
	    addr("192.0.2.3"),
	    addr("192.0.2.4"),
	};
	unsigned hits[4];

	px_upq_server_update(t, &c[0], 10, 0);
	px_upq_server_update(t, &c[1], 10, 0);
	/* Two servers never tried: one of them, evenly, whatever the known ones' speed. */
	count_picks(c, 4, 2000, hits, 0);
	ck_assert_uint_eq(hits[0] + hits[1], 0);
	ck_assert_uint_gt(hits[2], 800);
	ck_assert_uint_gt(hits[3], 800);
	/* Once tried (even if it only timed out) a server is no longer explored first. */
	px_upq_server_timeout(t, &c[2], 0);
	count_picks(c, 4, 1000, hits, 0);
	ck_assert_uint_eq(hits[3], 1000);
	px_upq_server_update(t, &c[3], 400, 0);
	count_picks(c, 4, 1000, hits, 0);
	ck_assert_uint_eq(hits[2] + hits[3], 0);
	ck_assert_uint_gt(hits[0], 400);
	ck_assert_uint_gt(hits[1], 400);
	/* A single candidate is always picked. */
	ck_assert_int_eq(px_upq_server_select(t, &rng, &c[3], 1, 0), 0);
}
END_TEST

/* The table is fixed: new servers replace the least recently used of their set, so a server in
 * use survives any number of one-off ones. */
START_TEST(test_dp_upq_server_table_lru)
{
	struct px_addr busy = addr("198.51.100.1"), other;
	struct px_upq_server_info info;
	uint64_t now = 0;
	unsigned known = 0;

	px_upq_server_update(t, &busy, 30, now);
	for (uint32_t i = 0; i < 4 * PX_UPQ_SERVERS; i++) {
		px_addr_set4(&other, htonl(0x0a000000u + i), 0);
		px_upq_server_update(t, &other, 50, ++now);
		if (i % 2 == 0)
			px_upq_server_update(t, &busy, 30, ++now);
	}
	ck_assert(px_upq_server_info(t, &busy, now, &info));
	ck_assert_uint_eq(info.srtt_ms, 30);
	ck_assert_uint_ge(px_upq_stats(t)->server_evictions, 3 * PX_UPQ_SERVERS);
	for (uint32_t i = 0; i < 4 * PX_UPQ_SERVERS; i++) {
		px_addr_set4(&other, htonl(0x0a000000u + i), 0);
		known += px_upq_server_info(t, &other, now, &info);
	}
	ck_assert_uint_lt(known, PX_UPQ_SERVERS);
	ck_assert_uint_gt(known, PX_UPQ_SERVERS / 2);
}
END_TEST

/*
 * Two workers' tables sharing a port owner map: a port is held by one table at a time, from its
 * first query on it to its last; a draw of the other's port is redrawn (port_busy); both still
 * draw over the whole range; expiry, match and cancel all give ports back.
 */
START_TEST(test_dp_upq_shared_ports)
{
	enum { N = 1500000 };
	static uint8_t owners[PX_UPQ_PORT_MAX + 1];
	static uint16_t refs_a[PX_UPQ_PORT_MAX + 1], refs_b[PX_UPQ_PORT_MAX + 1];
	static uint8_t seen_b[PX_UPQ_PORT_MAX + 1];
	void *mem_b = malloc(px_upq_memsize(4096));
	struct px_upq_table *b;
	struct px_upq_sent held[4000], s2;
	unsigned busy_before, missed = 0;

	memset(owners, 0, sizeof(owners));
	memset(refs_a, 0, sizeof(refs_a));
	memset(refs_b, 0, sizeof(refs_b));
	memset(seen_b, 0, sizeof(seen_b));
	table_new(4096, 0);
	ck_assert_ptr_nonnull(mem_b);
	b = px_upq_init(mem_b, 4096, 0, 7);
	ck_assert_int_eq(px_upq_share_ports(t, owners, 0, refs_a), -EINVAL); /* 0 is "free" */
	ck_assert_int_eq(px_upq_share_ports(t, owners, 1, refs_a), 0);
	ck_assert_int_eq(px_upq_share_ports(b, owners, 2, refs_b), 0);

	/* Table A holds 4000 ports' worth of queries. */
	for (unsigned i = 0; i < (sizeof(held) / sizeof(held[0])); i++) {
		ck_assert_int_eq(px_upq_start(t, &rng, &q, 0, 5000, &held[i]), 0);
		ck_assert_uint_eq(px_upq_port_owner(owners, held[i].sport), 1);
	}
	/* Table B never gets one of them, and still covers the rest of the range. */
	for (uint32_t i = 0; i < N; i++) {
		if (px_upq_start(b, &rng, &q, 0, 1000, &s2) != 0)
			ck_abort_msg("B start %u failed", i);
		if (owners[s2.sport] != 2 || refs_a[s2.sport] != 0)
			ck_abort_msg("B drew port %u held by A", s2.sport);
		seen_b[s2.sport] = 1;
		px_upq_cancel(b, s2.handle);
		if (owners[s2.sport] != 0)
			ck_abort_msg("port %u not given back by cancel", s2.sport);
	}
	ck_assert_uint_gt(px_upq_stats(b)->port_busy, 0);
	for (uint32_t p = PX_UPQ_PORT_MIN; p <= PX_UPQ_PORT_MAX; p++)
		if (!seen_b[p] && refs_a[p] == 0)
			missed++;
	/* 1.5 M draws over ~60k free ports: each is missed with probability e^-25. */
	ck_assert_uint_eq(missed, 0);

	/* A matched reply and an expiry give A's ports back, once the last query on each ends. */
	uint8_t rbuf[PX_DNS_NAME_BUF];
	struct px_upq_reply rep = reply_for(&held[0], "192.0.2.1", NULL, rbuf);

	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_MATCH);
	if (refs_a[held[0].sport] == 0)
		ck_assert_uint_eq(owners[held[0].sport], 0);
	else
		ck_assert_uint_eq(owners[held[0].sport], 1);
	busy_before = 0;
	while (px_upq_expire(t, 6000, &done))
		busy_before++;
	ck_assert_uint_eq(busy_before, (sizeof(held) / sizeof(held[0])) - 1);
	/* The newest PX_UPQ_LATE_SLOTS queries that timed out keep their ports for their late
	 * replies (which must reach A), until the window after their deadline (5000) closes. */
	uint32_t kept = 0;

	for (uint32_t p = 0; p <= PX_UPQ_PORT_MAX; p++)
		kept += refs_a[p];
	ck_assert_uint_eq(kept, PX_UPQ_LATE_SLOTS);
	ck_assert(!px_upq_expire(t, 5000 + PX_UPQ_LATE_WINDOW_MS, &done));
	kept = 0;
	for (uint32_t p = 0; p <= PX_UPQ_PORT_MAX; p++)
		kept += refs_a[p] != 0 && owners[p] == 1 ? refs_a[p] : 0;
	ck_assert_uint_eq(kept, PX_UPQ_LATE_SLOTS);
	ck_assert(!px_upq_expire(t, 5001 + PX_UPQ_LATE_WINDOW_MS, &done));
	for (uint32_t p = 0; p <= PX_UPQ_PORT_MAX; p++)
		if (owners[p] != 0 || refs_a[p] != 0)
			ck_abort_msg("port %u still held (owner %u, refs %u)", p, owners[p], refs_a[p]);
	free(mem_b);
}
END_TEST


/* A name with letters of both cases, digits, a hyphen and an underscore: what 0x20 may touch
 * and what it must not. */
#define MIXED_NAME "Ab-1.c_D2.xn--z9.TEST"

/* Every letter of every upstream qname gets a random case, each of the two with about even
 * odds and each letter on its own; nothing else in the name changes. */
START_TEST(test_dp_upq_case_random)
{
	enum { N = 4000 };
	uint8_t want[PX_DNS_NAME_BUF];
	unsigned upper[PX_DNS_NAME_BUF] = {0}, len, letters = 0;
	unsigned same_as_first = 0;
	uint8_t first[PX_DNS_NAME_BUF];

	table_new(8, 0);
	query_set("192.0.2.1", MIXED_NAME, 1);
	len = q.qname_len;
	memcpy(want, qname, len);
	for (unsigned i = 0; i < N; i++) {
		ck_assert_int_eq(px_upq_start(t, &rng, &q, 0, 100, &sent), 0);
		if (!sent.case_on)
			ck_abort_msg("draw %u sent without 0x20", i);
		for (unsigned k = 0; k < len; k++) {
			uint8_t c = sent.qname[k], w = want[k];
			bool letter = (w | 0x20) >= 'a' && (w | 0x20) <= 'z';

			if (letter ? (c | 0x20) != (w | 0x20) : c != w)
				ck_abort_msg("byte %u changed: %02x for %02x", k, c, w);
			upper[k] += letter && c < 'a';
		}
		if (i == 0)
			memcpy(first, sent.qname, len);
		else
			same_as_first += memcmp(first, sent.qname, len) == 0;
		ck_assert_int_eq(px_upq_cancel(t, sent.handle), 0);
	}
	for (unsigned k = 0; k < len; k++) {
		bool letter = (want[k] | 0x20) >= 'a' && (want[k] | 0x20) <= 'z';

		if (!letter) {
			ck_assert_uint_eq(upper[k], 0);
			continue;
		}
		letters++;
		/* Binomial(4000, 1/2): 2000 +- 32 at one sigma; 300 is over nine. */
		ck_assert_uint_gt(upper[k], N / 2 - 300);
		ck_assert_uint_lt(upper[k], N / 2 + 300);
	}
	ck_assert_uint_eq(letters, 11);
	/* 11 letters: a spelling comes back once in 2048 draws. */
	ck_assert_uint_lt(same_as_first, 10);
}
END_TEST

/* A reply's question must repeat the case sent: the exact spelling matches, and any one letter
 * flipped is WRONG_CASE, dropped and counted without disturbing the query, which the exact
 * reply then completes. A non-letter with its 0x20 bit flipped is another name altogether. */
START_TEST(test_dp_upq_match_case)
{
	uint8_t rbuf[PX_DNS_NAME_BUF], sent_name[PX_DNS_NAME_BUF];
	const struct px_upq_stats *st = px_upq_stats(t);
	struct px_upq_reply rep;
	unsigned flipped = 0, others = 0;

	query_set("192.0.2.1", MIXED_NAME, 5);
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 300, &sent), 0);
	memcpy(sent_name, sent.qname, q.qname_len);
	for (unsigned k = 0; k < q.qname_len; k++) {
		uint8_t c = sent_name[k];
		bool letter = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';

		rep = reply_for(&sent, "192.0.2.1", NULL, rbuf);
		rbuf[k] ^= 0x20;
		if (letter) {
			ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_CASE);
			flipped++;
		} else {
			ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_QUESTION);
			others++;
		}
	}
	ck_assert_uint_eq(flipped, 11);
	ck_assert_uint_eq(st->drop_wrong_case, 11);
	ck_assert_uint_eq(st->drop_wrong_question, others);
	/* The whole name in lower case, as a server that does not preserve case answers. */
	rep = reply_for(&sent, "192.0.2.1", "ab-1.c_d2.xn--z9.test", rbuf);
	if (memcmp(rbuf, sent_name, q.qname_len) != 0)
		ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_CASE);
	ck_assert_uint_eq(px_upq_outstanding(t), 1);
	rep = reply_for(&sent, "192.0.2.1", NULL, rbuf);
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_MATCH);
	ck_assert_uint_eq(done.cookie, 5);
	ck_assert(done.case_on);
	ck_assert(done.case_seen); /* the mismatches before it */
	ck_assert_mem_eq(done.qname, "\4ab-1\4c_d2\6xn--z9\4test", q.qname_len);

	/* A mismatch stays on the query: it comes back with the expiry. */
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 2000, 300, &sent), 0);
	ck_assert(px_upq_expire(t, 2300, &done));
	ck_assert_uint_eq(done.handle, sent.handle);
	ck_assert(done.case_on && !done.case_seen);
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 3000, 300, &sent), 0);
	rep = reply_for(&sent, "192.0.2.1", NULL, rbuf);
	rbuf[1] ^= 0x20; /* 'a' or 'A' */
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_WRONG_CASE);
	ck_assert(px_upq_expire(t, 3300, &done));
	ck_assert_uint_eq(done.handle, sent.handle);
	ck_assert(done.case_on && done.case_seen);
}
END_TEST

/*
 * The fallback rule: strikes (queries that ended on a case mismatch) count in a row per
 * server, an exact-case reply from it starts over, the second strike puts it in fallback for
 * PX_UPQ_CASE_FALLBACK_MS, during which its queries go in lower case and match without case;
 * other servers keep 0x20; afterwards it gets 0x20 again.
 */
START_TEST(test_dp_upq_case_fallback)
{
	const struct px_addr a = addr("192.0.2.1"), b = addr("192.0.2.2");
	uint8_t rbuf[PX_DNS_NAME_BUF];
	struct px_upq_server_info info;
	struct px_upq_reply rep;
	uint64_t now = 10000;

	ck_assert(!px_upq_server_case_failed(t, &a, now));
	ck_assert(px_upq_server_info(t, &a, now, &info));
	ck_assert_uint_eq(info.case_strikes, 1);
	ck_assert(!info.case_off);
	/* An exact-case reply from the server: the strike was not its doing. */
	ck_assert_int_eq(px_upq_start(t, &rng, &q, now, 300, &sent), 0);
	ck_assert(sent.case_on);
	rep = reply_for(&sent, "192.0.2.1", NULL, rbuf);
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_MATCH);
	px_upq_server_info(t, &a, now, &info);
	ck_assert_uint_eq(info.case_strikes, 0);

	ck_assert(!px_upq_server_case_failed(t, &a, now));
	ck_assert(px_upq_server_case_failed(t, &a, now + 1));
	ck_assert_uint_eq(px_upq_stats(t)->case_fallbacks, 1);
	px_upq_server_info(t, &a, now + 1, &info);
	ck_assert(info.case_off);
	ck_assert_uint_eq(info.case_strikes, 0);
	ck_assert(px_upq_server_case_off(t, &a, now + 1));
	ck_assert(!px_upq_server_case_off(t, &b, now + 1));

	/* In fallback: lower case on the wire, any case accepted back. */
	ck_assert_int_eq(px_upq_start(t, &rng, &q, now + 2, 300, &sent), 0);
	ck_assert(!sent.case_on);
	ck_assert_mem_eq(sent.qname, "\3www\7example\4test", q.qname_len);
	rep = reply_for(&sent, "192.0.2.1", "WWW.EXAMPLE.TEST", rbuf);
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_MATCH);
	ck_assert(!done.case_on);
	/* Another server still gets 0x20. */
	query_set("192.0.2.2", "www.example.test", 1);
	ck_assert_int_eq(px_upq_start(t, &rng, &q, now + 2, 300, &sent), 0);
	ck_assert(sent.case_on);
	ck_assert_int_eq(px_upq_cancel(t, sent.handle), 0);

	/* The fallback ends: 0x20 again. */
	query_set("192.0.2.1", "www.example.test", 1);
	ck_assert(px_upq_server_case_off(t, &a, now + 1 + PX_UPQ_CASE_FALLBACK_MS - 1));
	ck_assert(!px_upq_server_case_off(t, &a, now + 1 + PX_UPQ_CASE_FALLBACK_MS));
	ck_assert_int_eq(px_upq_start(t, &rng, &q, now + 1 + PX_UPQ_CASE_FALLBACK_MS, 300, &sent),
			 0);
	ck_assert(sent.case_on);
}
END_TEST

/* The question index: an outstanding query is found by server and question, the name without
 * case; entries leave it when they leave the table, in any order, duplicates included. */
START_TEST(test_dp_upq_find)
{
	const struct px_addr cand[3] = {addr("192.0.2.9"), addr("192.0.2.2"),
					    addr("192.0.2.1")};
	uint8_t other[PX_DNS_NAME_BUF], rbuf[PX_DNS_NAME_BUF];
	struct px_upq_sent s1, s2, s3;
	struct px_upq_query probe;
	struct px_upq_reply rep;
	uint32_t cookie = 0;

	ck_assert_uint_eq(px_upq_find(t, &q, &cookie), 0);
	ck_assert_int_eq(px_upq_find_server(t, qname, q.qname_len, q.qtype, q.qclass, PX_DNS_PORT,
					    cand, 3), -1);
	q.cookie = 11;
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 300, &s1), 0);
	probe = q;
	probe.qname_len = (uint8_t)px_test_name(other, "WWW.EXAMPLE.test");
	probe.qname = other;
	ck_assert_uint_eq(px_upq_find(t, &probe, &cookie), s1.handle);
	ck_assert_uint_eq(cookie, 11);
	ck_assert_int_eq(px_upq_find_server(t, other, probe.qname_len, q.qtype, q.qclass,
					    PX_DNS_PORT, cand, 3), 2);
	ck_assert_int_eq(px_upq_find_server(t, other, probe.qname_len, q.qtype, q.qclass,
					    PX_DNS_PORT, cand, 2), -1);
	/* Each part of the key counts. */
	probe.server = addr("192.0.2.2");
	ck_assert_uint_eq(px_upq_find(t, &probe, &cookie), 0);
	probe.server = q.server;
	probe.server.port = 5353;
	ck_assert_uint_eq(px_upq_find(t, &probe, &cookie), 0);
	probe.server.port = PX_DNS_PORT;
	probe.qtype = PX_DNS_TYPE_AAAA;
	ck_assert_uint_eq(px_upq_find(t, &probe, &cookie), 0);
	probe.qtype = PX_DNS_TYPE_A;
	probe.qclass = PX_DNS_CLASS_CH;
	ck_assert_uint_eq(px_upq_find(t, &probe, &cookie), 0);
	probe.qclass = PX_DNS_CLASS_IN;
	probe.qname_len = (uint8_t)px_test_name(other, "ww.example.test");
	ck_assert_uint_eq(px_upq_find(t, &probe, &cookie), 0);

	/* The same question to another server, and a duplicate to the first. */
	query_set("192.0.2.2", "www.example.test", 12);
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 300, &s2), 0);
	ck_assert_int_eq(px_upq_find_server(t, qname, q.qname_len, q.qtype, q.qclass, PX_DNS_PORT,
					    cand, 3), 1);
	query_set("192.0.2.1", "www.example.test", 13);
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 400, &s3), 0);
	ck_assert_int_eq(px_upq_cancel(t, s1.handle), 0);
	ck_assert_uint_eq(px_upq_find(t, &q, &cookie), s3.handle);
	ck_assert_uint_eq(cookie, 13);
	rep = reply_for(&s2, "192.0.2.2", NULL, rbuf);
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_MATCH);
	ck_assert_int_eq(px_upq_find_server(t, qname, q.qname_len, q.qtype, q.qclass, PX_DNS_PORT,
					    cand, 2), -1);
	ck_assert(px_upq_expire(t, 1400, &done));
	ck_assert_uint_eq(px_upq_find(t, &q, &cookie), 0);
	ck_assert_int_eq(px_upq_find_server(t, qname, q.qname_len, q.qtype, q.qclass, PX_DNS_PORT,
					    cand, 3), -1);
}
END_TEST

/* The question index is keyed: two tables with different secrets put names in unrelated
 * buckets, so nobody can compute offline which names chain together. Case never matters. */
START_TEST(test_dp_upq_question_index_keyed)
{
	void *mem_b = malloc(px_upq_memsize(4096));
	struct px_upq_table *b;
	unsigned same = 0;

	table_new(4096, 0);
	ck_assert_ptr_nonnull(mem_b);
	b = px_upq_init(mem_b, 4096, 0, 0x0123456789abcdeeull);
	ck_assert_ptr_nonnull(b);
	for (unsigned i = 0; i < 1000; i++) {
		uint8_t name[32], upper[32];
		int n = snprintf((char *)name + 1, sizeof(name) - 1, "n%u", i);

		name[0] = (uint8_t)n;
		memcpy(name + 1 + n, "\7example\0", 9);
		memcpy(upper, name, sizeof(name));
		for (unsigned j = 0; j < (unsigned)n + 10; j++)
			if (upper[j] >= 'a' && upper[j] <= 'z')
				upper[j] = (uint8_t)(upper[j] - 32);
		ck_assert_uint_eq(px_upq_question_bucket(t, name, (unsigned)n + 10, 1, 1),
				  px_upq_question_bucket(t, upper, (unsigned)n + 10, 1, 1));
		same += px_upq_question_bucket(t, name, (unsigned)n + 10, 1, 1) ==
			px_upq_question_bucket(b, name, (unsigned)n + 10, 1, 1);
	}
	/* With thousands of buckets, unrelated hashes agree on a handful of 1000 names at most;
	 * an unkeyed hash agrees on all of them. */
	ck_assert_uint_lt(same, 20);
	free(mem_b);
}
END_TEST

/* A reply to a query that timed out is recognised by every check a timely one passes, once,
 * within the window, and only then: PX_UPQ_LATE with the server and send time for the RTT
 * sample. Anything else is still a reply to no query. */
START_TEST(test_dp_upq_late_reply)
{
	uint8_t rbuf[PX_DNS_NAME_BUF];
	struct px_upq_reply rep, bad;
	const struct px_upq_stats *st = px_upq_stats(t);

	ck_assert_int_eq(px_upq_start(t, &rng, &q, 1000, 100, &sent), 0);
	ck_assert(sent.case_on);
	rep = reply_for(&sent, "192.0.2.1", NULL, rbuf);
	ck_assert(px_upq_expire(t, 1100, &done));
	ck_assert(!px_upq_expire(t, 1400, &done));

	/* Each one thing wrong: not late, but no such query. */
	bad = rep;
	bad.src = addr("192.0.2.9");
	ck_assert_int_eq(px_upq_match(t, &bad, &done), PX_UPQ_NO_SUCH_QUERY);
	bad = rep;
	bad.src.port = 5353;
	ck_assert_int_eq(px_upq_match(t, &bad, &done), PX_UPQ_NO_SUCH_QUERY);
	bad = rep;
	bad.id ^= 1;
	ck_assert_int_eq(px_upq_match(t, &bad, &done), PX_UPQ_NO_SUCH_QUERY);
	bad = rep;
	bad.qtype = PX_DNS_TYPE_AAAA;
	ck_assert_int_eq(px_upq_match(t, &bad, &done), PX_UPQ_NO_SUCH_QUERY);
	{
		uint8_t other[PX_DNS_NAME_BUF];

		/* The same name in another case than the one sent (0x20). */
		bad = reply_for(&sent, "192.0.2.1", NULL, other);
		for (unsigned i = 1; i < bad.qname_len; i++) {
			if ((other[i] | 0x20) >= 'a' && (other[i] | 0x20) <= 'z') {
				other[i] ^= 0x20;
				break;
			}
		}
		ck_assert_int_eq(px_upq_match(t, &bad, &done), PX_UPQ_NO_SUCH_QUERY);
		bad.qname_len = 0;
		ck_assert_int_eq(px_upq_match(t, &bad, &done), PX_UPQ_NO_SUCH_QUERY);
	}
	ck_assert_uint_eq(st->late_replies, 0);
	ck_assert_uint_eq(st->drop_no_such_query, 6);

	memset(&done, 0xff, sizeof(done));
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_LATE);
	ck_assert(px_addr_eq(&done.server, &q.server));
	ck_assert_uint_eq(done.sent_ms, 1000);
	ck_assert_uint_eq(done.sport, sent.sport);
	ck_assert_uint_eq(done.id, sent.id);
	ck_assert_uint_eq(st->late_replies, 1);
	ck_assert_uint_eq(st->matched, 0);
	/* One sample per query: the second copy is a reply to nothing. */
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_NO_SUCH_QUERY);
	ck_assert_uint_eq(st->late_replies, 1);

	/* Past the window (deadline + PX_UPQ_LATE_WINDOW_MS) a late reply is not recognised. */
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 2000, 100, &sent), 0);
	rep = reply_for(&sent, "192.0.2.1", NULL, rbuf);
	ck_assert(px_upq_expire(t, 2100, &done));
	ck_assert(!px_upq_expire(t, 2100 + PX_UPQ_LATE_WINDOW_MS, &done));
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_LATE);
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 6000, 100, &sent), 0);
	rep = reply_for(&sent, "192.0.2.1", NULL, rbuf);
	ck_assert(px_upq_expire(t, 6100, &done));
	ck_assert(!px_upq_expire(t, 6101 + PX_UPQ_LATE_WINDOW_MS, &done));
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_NO_SUCH_QUERY);

	/* A cancelled query leaves nothing to recognise: its resolution ended, not its wait. */
	ck_assert_int_eq(px_upq_start(t, &rng, &q, 20000, 100, &sent), 0);
	rep = reply_for(&sent, "192.0.2.1", NULL, rbuf);
	ck_assert_int_eq(px_upq_cancel(t, sent.handle), 0);
	ck_assert_int_eq(px_upq_match(t, &rep, &done), PX_UPQ_NO_SUCH_QUERY);
}
END_TEST

/*
 * A server that is slower than its RTO says, driven as the resolver drives it: each query gets
 * the server's RTO, a deadline reported with px_upq_server_timeout(), and every reply's RTT
 * fed back: px_upq_server_update() for a timely one, px_upq_server_late() for a late one. The server answers in 40 ms
 * for a while, then in 700 ms: after the first spurious timeout the late reply's sample lifts
 * the RTO over 700 ms, and no query times out again. Without the late sample the RTO learns
 * it only from backoff, query by query.
 */
START_TEST(test_dp_upq_rto_learns_from_late_replies)
{
	uint8_t rbuf[PX_DNS_NAME_BUF];
	struct px_upq_reply rep;
	uint64_t now = 1000;
	unsigned spurious = 0, late = 0;

	for (unsigned i = 0; i < 60; i++) {
		uint32_t rtt = i < 20 ? 40 : 700, rto = px_upq_server_rto(t, &q.server, now);
		enum px_upq_verdict v;

		ck_assert_int_eq(px_upq_start(t, &rng, &q, now, rto, &sent), 0);
		rep = reply_for(&sent, "192.0.2.1", NULL, rbuf);
		if (rto < rtt) {
			ck_assert(px_upq_expire(t, now + rto, &done));
			px_upq_server_timeout(t, &q.server, now + rto);
			spurious++;
		}
		ck_assert(!px_upq_expire(t, now + rtt, &done));
		v = px_upq_match(t, &rep, &done);
		ck_assert_int_eq(v, rto < rtt ? PX_UPQ_LATE : PX_UPQ_MATCH);
		late += v == PX_UPQ_LATE;
		if (v == PX_UPQ_LATE) {
			struct px_upq_server_info info;

			px_upq_server_late(t, &done.server, (uint32_t)(now + rtt - done.sent_ms),
					   now + rtt);
			/* Measured, and still in backoff: it answered nothing in time. */
			ck_assert(px_upq_server_info(t, &q.server, now + rtt, &info));
			ck_assert_uint_eq(info.backoff, 1);
		} else {
			px_upq_server_update(t, &done.server, (uint32_t)(now + rtt - done.sent_ms),
					     now + rtt);
		}
		now += rtt + 10;
	}
	/* The unknown server's first RTO (376 ms) covers 40 ms; the first 700 ms reply comes
	 * late, and its sample is enough. */
	ck_assert_uint_eq(spurious, 1);
	ck_assert_uint_eq(late, 1);
	ck_assert_uint_eq(px_upq_stats(t)->late_replies, 1);
	ck_assert_uint_ge(px_upq_server_rto(t, &q.server, now), 700);
}
END_TEST

#define ADD_CASE(s, name, test)                                                                    \
	do {                                                                                       \
		TCase *tc = tcase_create(name);                                                    \
		tcase_add_checked_fixture(tc, setup, teardown);                                    \
		tcase_set_timeout(tc, 120);                                                        \
		tcase_add_test(tc, test);                                                          \
		suite_add_tcase(s, tc);                                                            \
	} while (0)

Suite *upstream_suite(void);

Suite *
upstream_suite(void)
{
	Suite *s = suite_create("upstream");

	ADD_CASE(s, "init_invalid", test_dp_upq_init_invalid);
	ADD_CASE(s, "start_invalid", test_dp_upq_start_invalid);
	ADD_CASE(s, "start_unique_and_full", test_dp_upq_start_unique_and_full);
	ADD_CASE(s, "start_full_port_range", test_dp_upq_start_full_port_range);
	ADD_CASE(s, "shared_ports", test_dp_upq_shared_ports);
	ADD_CASE(s, "match_accepts", test_dp_upq_match_accepts);
	ADD_CASE(s, "match_ipv6", test_dp_upq_match_ipv6);
	ADD_CASE(s, "match_forged", test_dp_upq_match_forged);
	ADD_CASE(s, "match_unknown", test_dp_upq_match_unknown);
	ADD_CASE(s, "match_many", test_dp_upq_match_many);
	ADD_CASE(s, "case_random", test_dp_upq_case_random);
	ADD_CASE(s, "match_case", test_dp_upq_match_case);
	ADD_CASE(s, "case_fallback", test_dp_upq_case_fallback);
	ADD_CASE(s, "find", test_dp_upq_find);
	ADD_CASE(s, "question_index_keyed", test_dp_upq_question_index_keyed);
	ADD_CASE(s, "cancel", test_dp_upq_cancel);
	ADD_CASE(s, "expire_order", test_dp_upq_expire_order);
	ADD_CASE(s, "expire_batch_sorted", test_dp_upq_expire_batch_sorted);
	ADD_CASE(s, "expire_clamp_and_pause", test_dp_upq_expire_clamp_and_pause);
	ADD_CASE(s, "server_rtt_smoothing", test_dp_upq_server_rtt_smoothing);
	ADD_CASE(s, "server_backoff", test_dp_upq_server_backoff);
	ADD_CASE(s, "server_select_fastest", test_dp_upq_server_select_fastest);
	ADD_CASE(s, "server_select_explores_unknown", test_dp_upq_server_select_explores_unknown);
	ADD_CASE(s, "server_table_lru", test_dp_upq_server_table_lru);
	ADD_CASE(s, "late_reply", test_dp_upq_late_reply);
	ADD_CASE(s, "rto_learns_from_late_replies", test_dp_upq_rto_learns_from_late_replies);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(upstream_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
