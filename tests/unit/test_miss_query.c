/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The miss path's queries on the wire (dp_miss_query.c) and the replies to them: forged replies
 * dropped and counted, a silent server timed out (to the millisecond, on the test's clock) and
 * failed over, a TC reply asked again over TCP, and a reply handed to the worker that owns its
 * port. On the rig of testlib_miss.h, primed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_ring.h>

#include <pollux/upstream.h>

#include "dp_miss.h"
#include "testlib_miss.h"

static uint64_t
stat(size_t off)
{
	return *(const uint64_t *)((const uint8_t *)&tm.w->stats + off);
}

/* A reply to q with the question, source or ID changed by the caller. */
static void
forge(const struct tm_upq *q, uint32_t src, uint16_t sport, uint16_t id, const char *qname,
      size_t counter_off)
{
	struct tm_upq fq = *q;
	struct px_test_msg r;
	uint64_t before = stat(counter_off);
	uint64_t matched = TM_STAT(rec_replies_matched);

	fq.id = id;
	snprintf(fq.qname, sizeof(fq.qname), "%s", qname);
	tm_auth_reply(&r, &fq);
	tm_server_send(src, sport, q->sport, &r);
	ck_assert_uint_eq(stat(counter_off), before + 1);
	ck_assert_uint_eq(TM_STAT(rec_replies_matched), matched);
	ck_assert_uint_eq(rte_ring_count(tm_tx_ring), 0);
}
#define FORGE(q, src, sport, id, qname, name) \
	forge(q, src, sport, id, qname, offsetof(struct px_stats, name))

START_TEST(test_miss_forged_replies_dropped)
{
	uint64_t answered = TM_STAT(rec_answered);
	uint32_t path[8];
	struct tm_frame f;
	struct tm_upq q;
	struct px_test_msg r;

	tm_client_ask(40002, 0x1111, "www.forged.test", PX_DNS_TYPE_A);
	/* Through the root to the delegated server, which has not answered yet. */
	tm_serve(&f, path, RTE_DIM(path), FORGED_IP4);
	ck_assert(f.upstream);
	ck_assert_uint_eq(f.q.dst, FORGED_IP4);
	q = f.q;

	FORGE(&q, q.dst, PX_DNS_PORT, (uint16_t)(q.id ^ 0x5a5a), q.qname, rec_forged_no_query);
	FORGE(&q, RTE_BE32(0xc6120909), PX_DNS_PORT, q.id, q.qname, rec_forged_addr);
	FORGE(&q, q.dst, 5353, q.id, q.qname, rec_forged_port);
	FORGE(&q, q.dst, PX_DNS_PORT, q.id, "evil.forged.test", rec_forged_question);
	/* The question as sent but one letter in the other case: 0x20 says forged. */
	char flipped[PX_DNS_NAME_BUF];

	snprintf(flipped, sizeof(flipped), "%s", q.qname);
	flipped[0] = (char)(flipped[0] ^ 0x20); /* 'w' or 'W' */
	FORGE(&q, q.dst, PX_DNS_PORT, q.id, flipped, rec_forged_case);

	/* The real reply still completes the resolution. */
	tm_answer(&q);
	ck_assert_uint_eq(tm_serve(&f, path, RTE_DIM(path), 0), 0);
	tm_check_answer(&f, 40002, 0x1111, "www.forged.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	ck_assert_uint_eq(TM_STAT(rec_answered), answered + 1);

	/* The same reply once more: its query has left the table. */
	tm_auth_reply(&r, &q);
	uint64_t no_query = TM_STAT(rec_forged_no_query);

	tm_server_send(q.dst, PX_DNS_PORT, q.sport, &r);
	ck_assert_uint_eq(TM_STAT(rec_forged_no_query), no_query + 1);
	tm_expect_quiet(5);
}
END_TEST

START_TEST(test_miss_timeout_failover)
{
	uint64_t timeouts = TM_STAT(rec_timeouts);
	uint32_t path[8];
	struct tm_frame f;

	tm_client_ask(40004, 0x3333, "www.slow.test", PX_DNS_TYPE_A);
	/* Two servers, never measured: whichever is asked first stays silent. */
	for (;;) {
		tm_frame_next(&f);
		ck_assert(f.upstream);
		if (f.q.dst == SLOW1_IP4 || f.q.dst == SLOW2_IP4)
			break;
		tm_answer(&f.q);
	}
	uint32_t first = f.q.dst;
	struct tm_upq timed_out = f.q;
	char qname[PX_DNS_NAME_BUF];

	snprintf(qname, sizeof(qname), "%s", f.q.qname);
	/* An unmeasured server's RTO (PX_UPQ_RTT_UNKNOWN_MS) passes first, to the millisecond. */
	tm_expect_quiet(PX_UPQ_RTT_UNKNOWN_MS - 1);
	ck_assert_uint_eq(TM_STAT(rec_timeouts), timeouts);
	tm_step(tm.now + 1);
	tm_frame_next(&f);
	ck_assert(f.upstream);
	ck_assert_uint_ne(f.q.dst, first);
	ck_assert(f.q.dst == SLOW1_IP4 || f.q.dst == SLOW2_IP4);
	/* The same name, in a case of its own (0x20: every try draws one). */
	ck_assert_int_eq(strcasecmp(f.q.qname, qname), 0);
	ck_assert_uint_eq(TM_STAT(rec_timeouts), timeouts + 1);
	tm_answer(&f.q);
	ck_assert_uint_eq(tm_serve(&f, path, RTE_DIM(path), 0), 0);
	tm_check_answer(&f, 40004, 0x3333, "www.slow.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);

	/* The first server answers after all, late: a spurious timeout, counted, and no reply
	 * to anything (its resolution has been answered). */
	struct px_test_msg r;
	uint64_t late = TM_STAT(rec_late_replies), no_query = TM_STAT(rec_forged_no_query);

	struct px_upq_server_info info;
	struct px_addr slow;

	px_addr_set4(&slow, timed_out.dst, 0);
	ck_assert(px_upq_server_info(dp_miss_upstream(tm.w->miss), &slow, tm.now, &info));
	ck_assert(!info.has_sample);
	ck_assert_uint_eq(info.backoff, 1);
	tm_auth_reply(&r, &timed_out);
	tm_server_send(timed_out.dst, PX_DNS_PORT, timed_out.sport, &r);
	ck_assert_uint_eq(TM_STAT(rec_late_replies), late + 1);
	ck_assert_uint_eq(TM_STAT(rec_forged_no_query), no_query);
	/* What it tells is kept: its RTT covers the wait. It stays in backoff, though: it
	 * answered nothing in time (a resolution waiting on it may still be jostled out). */
	ck_assert(px_upq_server_info(dp_miss_upstream(tm.w->miss), &slow, tm.now, &info));
	ck_assert(info.has_sample);
	ck_assert_uint_eq(info.backoff, 1);
	ck_assert_uint_ge(info.srtt_ms, PX_UPQ_RTT_UNKNOWN_MS);
	/* Once: a second copy is a reply to nothing. */
	tm_server_send(timed_out.dst, PX_DNS_PORT, timed_out.sport, &r);
	ck_assert_uint_eq(TM_STAT(rec_late_replies), late + 1);
	ck_assert_uint_eq(TM_STAT(rec_forged_no_query), no_query + 1);
	tm_expect_quiet(5);
}
END_TEST

/* The slow name's first upstream query: the client's question is asked and every frame before
 * it (the path down to slow.test) answered. */
static struct tm_upq
ask_slow(uint16_t port, uint16_t id)
{
	struct tm_frame f;

	tm_client_ask(port, id, "www.slow.test", PX_DNS_TYPE_A);
	for (;;) {
		tm_frame_next(&f);
		ck_assert(f.upstream);
		if (f.q.dst == SLOW1_IP4 || f.q.dst == SLOW2_IP4)
			return f.q;
		tm_answer(&f.q);
	}
}

/* The slow name's reply came in time: no timeout or late reply beyond the counts before it, one
 * more reply matched, and the client gets its answer. */
static void
expect_on_time(uint16_t port, uint16_t id, uint64_t timeouts, uint64_t late, uint64_t matched)
{
	struct tm_frame f;
	uint32_t path[8];

	ck_assert_uint_eq(TM_STAT(rec_timeouts), timeouts);
	ck_assert_uint_eq(TM_STAT(rec_late_replies), late);
	ck_assert_uint_gt(TM_STAT(rec_replies_matched), matched);
	ck_assert_uint_eq(tm_serve(&f, path, RTE_DIM(path), 0), 0);
	tm_check_answer(&f, port, id, "www.slow.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	tm_expect_quiet(5);
}

/* The worker lost its core just before the deadline and the reply came meanwhile: it waits in
 * the RX queue behind a full burst. The timeout is judged as of the queue's last empty moment,
 * before the deadline, and the reply, read next, is on time. */
START_TEST(test_miss_timeout_held_for_rx_backlog)
{
	uint64_t timeouts = TM_STAT(rec_timeouts), late = TM_STAT(rec_late_replies);
	uint64_t lagged = TM_STAT(rec_expire_lagged);
	struct tm_upq q = ask_slow(40005, 0x4444);
	uint64_t matched = TM_STAT(rec_replies_matched);

	tm_step(tm.now + PX_UPQ_RTT_UNKNOWN_MS - 10); /* the queue seen empty */
	tm.w->rx_backlog = true;
	tm_expect_quiet(15);
	ck_assert_uint_eq(TM_STAT(rec_timeouts), timeouts);
	ck_assert_uint_gt(TM_STAT(rec_expire_lagged), lagged);
	/* The next burst holds the reply, and is the last full one. */
	tm_answer(&q);
	tm.w->rx_backlog = false;
	tm_step(tm.now);
	expect_on_time(40005, 0x4444, timeouts, late, matched);
}
END_TEST

/* A queue that never empties (overload, a flood): a timeout fires DP_MISS_EXPIRE_LAG_MAX_MS after
 * its deadline, not later, and the next one too, however long the backlog lasts. */
START_TEST(test_miss_timeout_lag_bounded)
{
	uint64_t timeouts = TM_STAT(rec_timeouts);
	struct tm_upq q = ask_slow(40006, 0x5555);
	uint64_t due = tm.now + PX_UPQ_RTT_UNKNOWN_MS;
	struct tm_frame f;

	tm.w->rx_backlog = true;
	/* One iteration a millisecond, every burst full, from the query on. */
	while (TM_STAT(rec_timeouts) == timeouts) {
		ck_assert_ptr_null(tm_tx_next());
		ck_assert_uint_lt(tm.now, due + DP_MISS_EXPIRE_LAG_MAX_MS);
		tm_step(tm.now + 1);
	}
	ck_assert_uint_eq(tm.now, due + DP_MISS_EXPIRE_LAG_MAX_MS);
	/* The other server is asked, as after any timeout, and stays silent too: its timeout
	 * comes as late, no later. */
	tm_frame_next(&f);
	ck_assert(f.upstream);
	ck_assert_uint_ne(f.q.dst, q.dst);
	rte_pktmbuf_free(f.m);
	due = tm.now + PX_UPQ_RTT_UNKNOWN_MS;
	while (TM_STAT(rec_timeouts) == timeouts + 1) {
		while ((f.m = tm_tx_next()) != NULL)
			rte_pktmbuf_free(f.m);
		ck_assert_uint_lt(tm.now, due + DP_MISS_EXPIRE_LAG_MAX_MS);
		tm_step(tm.now + 1);
	}
	ck_assert_uint_eq(tm.now, due + DP_MISS_EXPIRE_LAG_MAX_MS);
	while ((f.m = tm_tx_next()) != NULL)
		rte_pktmbuf_free(f.m);
	tm.w->rx_backlog = false;
}
END_TEST

/* Judged as of the last empty queue: a query due after that moment waits for the backlog to be
 * read, and times out once it has been, without its reply. */
START_TEST(test_miss_timeout_judged_at_last_empty_queue)
{
	uint64_t timeouts = TM_STAT(rec_timeouts);
	uint64_t t0 = tm.now;
	struct tm_upq q = ask_slow(40007, 0x6666);
	uint64_t due = t0 + PX_UPQ_RTT_UNKNOWN_MS;
	struct tm_frame f;

	(void)q;
	/* Seen empty 20 ms before the deadline; then away, and back 25 ms after it with a full
	 * queue: 45 ms to read, within the lag bound. Not yet. */
	tm_step(due - 20);
	tm.w->rx_backlog = true;
	tm_step(due + 25);
	ck_assert_uint_eq(TM_STAT(rec_timeouts), timeouts);
	/* The queue read to the end without the reply: now it is late. */
	tm.w->rx_backlog = false;
	tm_step(tm.now + 1);
	ck_assert_uint_eq(TM_STAT(rec_timeouts), timeouts + 1);
	tm_frame_next(&f);
	ck_assert(f.upstream);
	rte_pktmbuf_free(f.m);
	while ((f.m = tm_tx_next()) != NULL)
		rte_pktmbuf_free(f.m);
}
END_TEST

START_TEST(test_miss_timeout_last_server_servfail)
{
	uint64_t timeouts = TM_STAT(rec_timeouts), servfail = TM_STAT(rec_servfail);
	uint64_t no_ns = TM_STAT(rec_servfail_no_ns);
	uint32_t path[8];
	struct tm_frame f;

	tm_client_ask(40005, 0x4444, "www.dead.test", PX_DNS_TYPE_A);
	tm_serve(&f, path, RTE_DIM(path), DEAD_IP4);
	ck_assert(f.upstream);
	ck_assert_uint_eq(f.q.dst, DEAD_IP4);
	/* No other server: after the timeout the client gets SERVFAIL, and nothing is retried. */
	tm_expect_quiet(PX_UPQ_RTT_UNKNOWN_MS - 1);
	tm_step(tm.now + 1);
	tm_frame_next(&f);
	tm_check_answer(&f, 40005, 0x4444, "www.dead.test", PX_DNS_RCODE_SERVFAIL);
	rte_pktmbuf_free(f.m);
	/* RFC 8914: its only server never answered. */
	ck_assert_int_eq(tm.last_ede, PX_DNS_EDE_NO_REACHABLE_AUTHORITY);
	ck_assert_str_eq(tm.last_ede_text, "no usable nameserver answered");
	ck_assert_uint_eq(TM_STAT(rec_timeouts), timeouts + 1);
	ck_assert_uint_eq(TM_STAT(rec_servfail), servfail + 1);
	ck_assert_uint_eq(TM_STAT(rec_servfail_no_ns), no_ns + 1);
	tm_expect_quiet(5);
}
END_TEST

/*
 * A delegated server answers over UDP with TC and no records: the worker asks the TCP thread
 * (the test) to put the same question to the same server over TCP, with the zone to scrub the
 * reply by, and sends nothing meanwhile. Outcomes that are not for the query waiting (another
 * resolution in its send slot, another send slot) are counted tcp_up_stale and change nothing;
 * the real reply completes the resolution with the records it carries; the same outcome once
 * more is stale too.
 */
START_TEST(test_miss_tc_retry_over_tcp)
{
	uint64_t asked = TM_STAT(tcp_up_asked), stale = TM_STAT(tcp_up_stale);
	uint64_t answered = TM_STAT(rec_answered);
	uint64_t timeouts = TM_STAT(rec_timeouts), matched;
	const struct dp_tcp_meta *mt;
	struct px_test_msg r;
	struct rte_mbuf *m, *c;
	uint32_t path[8];
	struct tm_frame f;
	struct tm_upq q;

	tm_client_ask(40012, 0x7171, "www.tc.test", PX_DNS_TYPE_A);
	tm_serve(&f, path, RTE_DIM(path), TC_IP4);
	ck_assert(f.upstream);
	ck_assert_uint_eq(f.q.dst, TC_IP4);
	q = f.q;
	matched = TM_STAT(rec_replies_matched);
	tm_answer(&q); /* TC */
	ck_assert_uint_eq(TM_STAT(rec_replies_matched), matched + 1);
	m = tm_thread_take();
	ck_assert_ptr_nonnull(m);
	mt = tm_check_up_query(m, &q, "tc.test");
	ck_assert_uint_eq(TM_STAT(tcp_up_asked), asked + 1);
	/* Neither the client nor another server hears anything meanwhile. */
	tm_expect_quiet(5);
	ck_assert_ptr_null(tm_thread_take());

	/* The whole answer, as the server sends it over TCP. */
	tm_auth_reply(&r, &q);
	c = tm_thread_copy(m);
	dp_tcp_meta(c)->res ^= 1ull << 32;
	tm_thread_give(c, &r);
	c = tm_thread_copy(m);
	dp_tcp_meta(c)->send_idx = (mt->send_idx + 1) % TM_SLOTS;
	tm_thread_give(c, &r);
	ck_assert_uint_eq(TM_STAT(tcp_up_stale), stale + 2);
	tm_expect_quiet(5);

	c = tm_thread_copy(m);
	tm_thread_give(m, &r);
	tm_frame_next(&f);
	tm_check_answer(&f, 40012, 0x7171, "www.tc.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	ck_assert_uint_eq(TM_STAT(rec_answered), answered + 1);
	ck_assert_uint_eq(TM_STAT(tcp_up_stale), stale + 2);

	/* The same outcome again: nothing waits for it any more. */
	tm_thread_give(c, &r);
	ck_assert_uint_eq(TM_STAT(tcp_up_stale), stale + 3);
	ck_assert_uint_eq(TM_STAT(rec_timeouts), timeouts);
	tm_expect_quiet(5);
	ck_assert_ptr_null(tm_thread_take());
}
END_TEST

/*
 * The TCP thread reports that the retry got nothing (refused, timed out, a bad reply): that is
 * the server failing, as a timeout would be. With another server left the resolver asks it
 * (over UDP, then over TCP after its TC); with none left the client gets SERVFAIL at once.
 */
START_TEST(test_miss_tc_retry_failed)
{
	uint64_t failed = TM_STAT(tcp_up_failed), servfail = TM_STAT(rec_servfail);
	uint64_t no_ns = TM_STAT(rec_servfail_no_ns), timeouts = TM_STAT(rec_timeouts);
	struct px_test_msg r;
	struct rte_mbuf *m;
	uint32_t path[8], first;
	struct tm_frame f;

	tm_client_ask(40013, 0x7272, "www.tc2.test", PX_DNS_TYPE_A);
	for (;;) {
		tm_frame_next(&f);
		ck_assert(f.upstream);
		if (f.q.dst == TC2A_IP4 || f.q.dst == TC2B_IP4)
			break;
		tm_answer(&f.q);
	}
	first = f.q.dst;
	tm_answer(&f.q); /* TC */
	m = tm_thread_take();
	ck_assert_ptr_nonnull(m);
	tm_check_up_query(m, &f.q, "tc2.test");
	tm_thread_give(m, NULL);
	ck_assert_uint_eq(TM_STAT(tcp_up_failed), failed + 1);
	/* The other server, over UDP first. */
	tm_frame_next(&f);
	ck_assert(f.upstream);
	ck_assert_uint_eq(f.q.dst, first == TC2A_IP4 ? TC2B_IP4 : TC2A_IP4);
	ck_assert_int_eq(strcasecmp(f.q.qname, "www.tc2.test"), 0);
	tm_answer(&f.q); /* TC */
	m = tm_thread_take();
	ck_assert_ptr_nonnull(m);
	tm_check_up_query(m, &f.q, "tc2.test");
	tm_auth_reply(&r, &f.q);
	tm_thread_give(m, &r);
	tm_frame_next(&f);
	tm_check_answer(&f, 40013, 0x7272, "www.tc2.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);

	/* The only server of tc.test fails over TCP: SERVFAIL, nothing else sent. */
	tm_client_ask(40014, 0x7373, "ftp.tc.test", PX_DNS_TYPE_A);
	tm_serve(&f, path, RTE_DIM(path), TC_IP4);
	ck_assert(f.upstream);
	ck_assert_uint_eq(f.q.dst, TC_IP4);
	tm_answer(&f.q); /* TC */
	m = tm_thread_take();
	ck_assert_ptr_nonnull(m);
	tm_check_up_query(m, &f.q, "tc.test");
	tm_thread_give(m, NULL);
	tm_frame_next(&f);
	tm_check_answer(&f, 40014, 0x7373, "ftp.tc.test", PX_DNS_RCODE_SERVFAIL);
	rte_pktmbuf_free(f.m);
	ck_assert_uint_eq(TM_STAT(tcp_up_failed), failed + 2);
	ck_assert_uint_eq(TM_STAT(rec_servfail), servfail + 1);
	ck_assert_uint_eq(TM_STAT(rec_servfail_no_ns), no_ns + 1);
	ck_assert_uint_eq(TM_STAT(rec_timeouts), timeouts);
	tm_expect_quiet(5);
	ck_assert_ptr_null(tm_thread_take());
}
END_TEST

/* Hands frame to the second worker, as if RSS had put it on queue 1. Returns how many frames
 * it wanted sent (none, for replies). */
static uint16_t
other_receive(const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(tm_pool), *tx[DP_BURST];

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, len), frame, len);
	tm.other->now_ms = tm.now;
	return dp_rx_burst_handle(tm.other, &m, 1, tx);
}

/*
 * With two workers, a reply that lands on the worker that did not send the query is handed to
 * the one owning its destination port, which matches it as its own; a reply to a port nobody
 * holds is dropped where it lands.
 */
START_TEST(test_miss_reply_handoff)
{
	uint64_t matched = TM_STAT(rec_replies_matched), in = TM_STAT(rec_handoff_in);
	uint64_t out = TM_OTHER_STAT(rec_handoff_out), nq = TM_OTHER_STAT(rec_forged_no_query);
	uint8_t fr[1600] __rte_aligned(8);
	struct px_test_hosts h = {.server_ip4 = tm_hosts.server_ip4};
	struct px_test_msg r;
	uint32_t path[8];
	struct tm_frame f;
	uint16_t free_port;

	tm_client_ask(40009, 0x6464, "gopher.example.test", PX_DNS_TYPE_A);
	tm_frame_next(&f);
	ck_assert(f.upstream);
	/* The worker holds the port it sent from, as worker 1 of 2. */
	ck_assert_uint_eq(px_upq_port_owner(tm.ctx.port_owner, f.q.sport), 1);

	tm_auth_reply(&r, &f.q);
	h.client_ip4 = f.q.dst;
	memcpy(h.client_mac, tm_gw_mac, 6);
	memcpy(h.server_mac, tm_hosts.server_mac, 6);
	ck_assert_uint_eq(other_receive(fr, px_test_frame_udp4(fr, &h, PX_DNS_PORT, f.q.sport,
							       r.buf, r.len)), 0);
	ck_assert_uint_eq(TM_OTHER_STAT(rec_handoff_out), out + 1);
	/* The owner drains its hand-off ring in its next iteration. */
	ck_assert_uint_eq(TM_STAT(rec_handoff_in), in);
	tm_step(tm.now);
	ck_assert_uint_eq(TM_STAT(rec_handoff_in), in + 1);
	ck_assert_uint_eq(TM_STAT(rec_replies_matched), matched + 1);
	/* The resolution goes on as if the worker had received the reply itself. */
	tm_serve(&f, path, RTE_DIM(path), 0);
	tm_check_answer(&f, 40009, 0x6464, "gopher.example.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);

	/* A port nobody holds: dropped and counted on the worker that got it. */
	for (free_port = 1024; px_upq_port_owner(tm.ctx.port_owner, free_port) != 0;
	     free_port++)
		;
	ck_assert_uint_eq(other_receive(fr, px_test_frame_udp4(fr, &h, PX_DNS_PORT, free_port,
							       r.buf, r.len)), 0);
	ck_assert_uint_eq(TM_OTHER_STAT(rec_forged_no_query), nq + 1);
	ck_assert_uint_eq(TM_OTHER_STAT(rec_handoff_out), out + 1);
	ck_assert_uint_eq(rte_ring_count(tm.ctx.handoff[0]), 0);
	tm_expect_quiet(5);
}
END_TEST

/* The worker napped (--idle-sleep-us) across the deadline: the tick after the nap judges as of
 * its start, so the reply that came during it is read, on time, by the next poll; without a
 * reply the query times out at that next tick. */
START_TEST(test_miss_timeout_after_nap)
{
	uint64_t timeouts = TM_STAT(rec_timeouts), late = TM_STAT(rec_late_replies);
	struct tm_upq q = ask_slow(40008, 0x7878);
	uint64_t due = tm.now + PX_UPQ_RTT_UNKNOWN_MS;
	uint64_t matched = TM_STAT(rec_replies_matched);

	tm_step(due - 1);
	tm.w->napped = true;
	tm.w->nap_ms = due - 1;
	tm_step(due + 1); /* the tick that ends the nap */
	ck_assert_uint_eq(TM_STAT(rec_timeouts), timeouts);
	ck_assert(!tm.w->napped);
	tm_answer(&q); /* the next poll reads the reply */
	expect_on_time(40008, 0x7878, timeouts, late, matched);
}
END_TEST

/* A reply another worker received is matched before the tick expires its query, in the same
 * iteration: the reply came in time, only the hand-off held it. */
START_TEST(test_miss_handoff_before_timeout)
{
	uint64_t timeouts = TM_STAT(rec_timeouts), late = TM_STAT(rec_late_replies);
	uint8_t fr[1600] __rte_aligned(8);
	struct px_test_hosts h = {.server_ip4 = tm_hosts.server_ip4};
	struct tm_upq q = ask_slow(40010, 0x7777);
	uint64_t matched = TM_STAT(rec_replies_matched);
	struct px_test_msg r;

	tm_auth_reply(&r, &q);
	h.client_ip4 = q.dst;
	memcpy(h.client_mac, tm_gw_mac, 6);
	memcpy(h.server_mac, tm_hosts.server_mac, 6);
	ck_assert_uint_eq(other_receive(fr, px_test_frame_udp4(fr, &h, PX_DNS_PORT, q.sport,
							       r.buf, r.len)), 0);
	/* The owner's next iteration comes at the deadline. */
	tm_step(tm.now + PX_UPQ_RTT_UNKNOWN_MS);
	expect_on_time(40010, 0x7777, timeouts, late, matched);
}
END_TEST

static Suite *
miss_query_suite(void)
{
	Suite *s = suite_create("miss_query");

	tm_add_case(s, test_miss_forged_replies_dropped, tm_setup_plain);
	tm_add_case(s, test_miss_timeout_failover, tm_setup_plain);
	tm_add_case(s, test_miss_timeout_last_server_servfail, tm_setup_plain);
	tm_add_case(s, test_miss_timeout_held_for_rx_backlog, tm_setup_plain);
	tm_add_case(s, test_miss_timeout_lag_bounded, tm_setup_plain);
	tm_add_case(s, test_miss_timeout_judged_at_last_empty_queue, tm_setup_plain);
	tm_add_case(s, test_miss_timeout_after_nap, tm_setup_plain);
	tm_add_case(s, test_miss_tc_retry_over_tcp, tm_setup_plain);
	tm_add_case(s, test_miss_tc_retry_failed, tm_setup_plain);
	tm_add_case(s, test_miss_reply_handoff, tm_setup_pair);
	tm_add_case(s, test_miss_handoff_before_timeout, tm_setup_pair);
	return s;
}

int
main(void)
{
	return tm_run("test_miss_query", miss_query_suite());
}
