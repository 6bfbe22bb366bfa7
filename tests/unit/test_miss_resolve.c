/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The miss path resolving (dp_miss.c): a question through the root's referral to the zone's
 * server, referrals without a usable server, two clients on one question, a server on pollux's
 * own subnet, and every mbuf back at the end. On the rig of testlib_miss.h, primed.
 */
#include <check.h>
#include <stdlib.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <pollux/resolver.h>
#include <pollux/upstream.h>

#include "dp_miss.h"
#include "testlib_miss.h"

START_TEST(test_miss_referral_then_answer)
{
	uint64_t started = TM_STAT(rec_started), sent = TM_STAT(rec_queries_sent);
	uint64_t matched = TM_STAT(rec_replies_matched), answered = TM_STAT(rec_answered);
	uint64_t client_answers = TM_STAT(rec_client_answers), timeouts = TM_STAT(rec_timeouts);
	uint32_t path[8];
	struct tm_frame f;
	unsigned n;

	tm_client_ask(40001, 0xbeef, "WwW.ExAmple.TEST", PX_DNS_TYPE_A);
	ck_assert_uint_eq(TM_STAT(rec_started), started + 1);

	/* The first query goes to the root hint, for the (minimised) name. */
	tm_frame_next(&f);
	ck_assert(f.upstream);
	ck_assert_uint_eq(f.q.dst, ROOT_IP4);
	ck_assert_uint_eq(f.q.qtype, PX_DNS_TYPE_A);
	ck_assert_msg(tm_name_below("www.example.test", f.q.qname), "asked the root for %s",
		      f.q.qname);
	tm_answer(&f.q);
	path[0] = ROOT_IP4;
	n = 1 + tm_serve(&f, path + 1, RTE_DIM(path) - 1, 0);

	/* The root until the referral, then the delegated server for the full name. */
	ck_assert_uint_ge(n, 2);
	for (unsigned i = 0; i + 1 < n; i++)
		ck_assert_uint_eq(path[i], ROOT_IP4);
	ck_assert_uint_eq(path[n - 1], EXAMPLE_IP4);
	tm_check_answer(&f, 40001, 0xbeef, "WwW.ExAmple.TEST", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);

	ck_assert_uint_eq(TM_STAT(rec_started), started + 1);
	ck_assert_uint_eq(TM_STAT(rec_queries_sent), sent + n);
	ck_assert_uint_eq(TM_STAT(rec_replies_matched), matched + n);
	ck_assert_uint_eq(TM_STAT(rec_answered), answered + 1);
	ck_assert_uint_eq(TM_STAT(rec_client_answers), client_answers + 1);
	ck_assert_uint_eq(TM_STAT(rec_timeouts), timeouts);
}
END_TEST

/* A resolution through a delegation with no valid address: SERVFAIL right after the referral,
 * with nothing sent anywhere but the root (tm_tx_next() audits every destination), counted as
 * the policy's doing and told to the client as Invalid Data naming the zone (RFC 8914). */
static void
expect_no_ns(uint16_t port, const char *qname, const char *ede_text)
{
	uint64_t servfail = TM_STAT(rec_servfail), by_policy = TM_STAT(rec_servfail_policy);
	uint64_t no_ns = TM_STAT(rec_servfail_no_ns);
	uint64_t timeouts = TM_STAT(rec_timeouts), sent = TM_STAT(rec_queries_sent);
	uint32_t path[8];
	struct tm_frame f;
	unsigned n;

	tm_client_ask(port, 0x2222, qname, PX_DNS_TYPE_A);
	n = tm_serve(&f, path, RTE_DIM(path), 0);
	ck_assert_uint_ge(n, 1);
	for (unsigned i = 0; i < n; i++)
		ck_assert_uint_eq(path[i], ROOT_IP4);
	tm_check_answer(&f, port, 0x2222, qname, PX_DNS_RCODE_SERVFAIL);
	rte_pktmbuf_free(f.m);
	ck_assert_int_eq(tm.last_ede, PX_DNS_EDE_INVALID_DATA);
	ck_assert_str_eq(tm.last_ede_text, ede_text);
	ck_assert_uint_eq(TM_STAT(rec_servfail), servfail + 1);
	ck_assert_uint_eq(TM_STAT(rec_servfail_policy), by_policy + 1);
	ck_assert_uint_eq(TM_STAT(rec_servfail_no_ns), no_ns);
	ck_assert_uint_eq(TM_STAT(rec_timeouts), timeouts);
	ck_assert_uint_eq(TM_STAT(rec_queries_sent), sent + n);
	tm_expect_quiet(5);
}

START_TEST(test_miss_invalid_glue_servfail)
{
	expect_no_ns(40003, "www.bad.test", "NS addresses rejected: bad.test.");
	expect_no_ns(40003, "Www.AllBad.test", "NS addresses rejected: allbad.test.");
	ck_assert_uint_eq(TM_STAT(rec_send_rejected_unspecified), 0);
	ck_assert_uint_eq(TM_STAT(rec_send_rejected_loopback), 0);
	ck_assert_uint_eq(TM_STAT(rec_send_rejected_broadcast), 0);
	ck_assert_uint_eq(TM_STAT(rec_send_rejected_multicast), 0);
	ck_assert_uint_eq(TM_STAT(rec_send_rejected_reserved), 0);
}
END_TEST

/* A referral whose only servers are pollux itself, its subnet's broadcast or network address,
 * the link-local metadata address or loopback behind NAT64: SERVFAIL at once, the glue counted
 * by reason, nothing sent to them and no ARP for them (tm_tx_next() allows ARP for the
 * gateway and the on-link server only). */
START_TEST(test_miss_self_glue_servfail)
{
	const struct px_resolver_stats *rs = &dp_miss_resolver(tm.w->miss)->stats;
	uint64_t self = rs->glue_rejected[PX_ADDR_SELF];
	uint64_t bcast = rs->glue_rejected[PX_ADDR_SUBNET_BROADCAST];
	uint64_t ll = rs->glue_rejected[PX_ADDR_LINK_LOCAL];
	uint64_t nat64 = rs->glue_rejected[PX_ADDR_NAT64];

	expect_no_ns(40013, "www.self.test", "NS addresses rejected: self.test.");
	ck_assert_uint_eq(rs->glue_rejected[PX_ADDR_SELF], self + 1);
	ck_assert_uint_eq(rs->glue_rejected[PX_ADDR_SUBNET_BROADCAST], bcast + 2);
	ck_assert_uint_eq(rs->glue_rejected[PX_ADDR_LINK_LOCAL], ll + 1);
	ck_assert_uint_eq(rs->glue_rejected[PX_ADDR_NAT64], nat64 + 1);
	ck_assert_uint_eq(TM_STAT(rec_send_rejected_self), 0);
	ck_assert_uint_eq(TM_STAT(rec_send_rejected_subnet_broadcast), 0);
}
END_TEST

START_TEST(test_miss_coalesced)
{
	uint64_t started = TM_STAT(rec_started), attached = TM_STAT(rec_attached);
	uint64_t sent = TM_STAT(rec_queries_sent), answers = TM_STAT(rec_client_answers);
	uint32_t path[8];
	struct tm_frame f, g;
	unsigned n;

	tm_client_ask(40006, 0x0a0a, "mail.example.test", PX_DNS_TYPE_A);
	tm_frame_next(&f);
	ck_assert(f.upstream);
	/* The same question, another client and letter case, while the first is in flight. */
	tm_client_ask(40007, 0x0b0b, "MAIL.Example.Test", PX_DNS_TYPE_A);
	ck_assert_uint_eq(TM_STAT(rec_attached), attached + 1);
	ck_assert_uint_eq(TM_STAT(rec_started), started + 1);
	ck_assert_uint_eq(rte_ring_count(tm_tx_ring), 0);
	tm_answer(&f.q);
	n = 1 + tm_serve(&f, path, RTE_DIM(path), 0);
	tm_frame_next(&g);
	ck_assert(!g.upstream);
	if (f.dport != 40006) {
		struct tm_frame t = f;

		f = g;
		g = t;
	}
	tm_check_answer(&f, 40006, 0x0a0a, "mail.example.test", PX_DNS_RCODE_NOERROR);
	tm_check_answer(&g, 40007, 0x0b0b, "MAIL.Example.Test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	rte_pktmbuf_free(g.m);
	/* One resolution's queries served both. */
	ck_assert_uint_eq(TM_STAT(rec_queries_sent), sent + n);
	ck_assert_uint_eq(TM_STAT(rec_client_answers), answers + 2);
	tm_expect_quiet(5);
}
END_TEST

/*
 * A nameserver on pollux's own subnet is sent to directly: the worker ARPs for it (the query
 * waits, counted rec_drop_no_neigh, and is sent again once its first deadline passes: the
 * "unsent" path), then sends to the MAC it learned, not to the gateway.
 */
START_TEST(test_miss_onlink_server)
{
	uint64_t onlink = TM_STAT(rec_onlink_sent), no_neigh = TM_STAT(rec_drop_no_neigh);
	uint64_t learned = TM_STAT(rec_neigh_learned), timeouts = TM_STAT(rec_timeouts);
	uint32_t path[8];
	struct tm_frame f;
	struct rte_mbuf *m;

	tm_client_ask(40008, 0x5353, "www.onlink.test", PX_DNS_TYPE_A);
	/* The root, through the gateway, until the referral to 198.18.0.53. */
	for (;;) {
		m = tm_tx_next();
		ck_assert_ptr_nonnull(m);
		if (rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type ==
		    RTE_BE16(RTE_ETHER_TYPE_ARP)) {
			const struct rte_arp_hdr *a =
				rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, 14);

			ck_assert_uint_eq(a->arp_data.arp_tip, ONLINK_IP4);
			rte_pktmbuf_free(m);
			break;
		}
		struct tm_upq q;

		tm_parse_upq(m, &q);
		rte_pktmbuf_free(m);
		ck_assert_uint_eq(q.dst, ROOT_IP4);
		tm_answer(&q);
	}
	ck_assert_uint_eq(TM_STAT(rec_drop_no_neigh), no_neigh + 1);
	ck_assert_uint_eq(TM_STAT(rec_onlink_sent), onlink);
	tm_arp_reply_from(ONLINK_IP4, tm_onlink_mac);
	ck_assert_uint_eq(TM_STAT(rec_neigh_learned), learned + 1);
	/* The query is sent again at its deadline (RTO of a server never measured, counted from
	 * when the referral came), not sooner, to the MAC just learned; tm_parse_upq() checks the
	 * destination MAC. */
	tm_expect_quiet(PX_UPQ_RTT_UNKNOWN_MS - 1);
	tm_step(tm.now + 1);
	tm_frame_next(&f);
	ck_assert(f.upstream);
	ck_assert_uint_eq(f.q.dst, ONLINK_IP4);
	ck_assert_uint_eq(TM_STAT(rec_onlink_sent), onlink + 1);
	tm_answer(&f.q);
	ck_assert_uint_eq(tm_serve(&f, path, RTE_DIM(path), 0), 0);
	tm_check_answer(&f, 40008, 0x5353, "www.onlink.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	/* Waiting for the neighbour was not the server's fault. */
	ck_assert_uint_eq(TM_STAT(rec_timeouts), timeouts);
	tm_expect_quiet(5);
}
END_TEST

/*
 * A nameserver on pollux's subnet that never answers ARP: its query never leaves (counted
 * rec_drop_no_neigh each time), is tried again DP_MISS_UNSENT_RETRIES times, and then the
 * resolver is told the server is unreachable rather than slow. With no other server the
 * client gets SERVFAIL with Network Error (RFC 8914), counted rec_servfail_network. The test's
 * clock moves 10 ms at a time while nothing is sent, up to a minute.
 */
START_TEST(test_miss_unreachable_server_network_error)
{
	uint64_t network = TM_STAT(rec_servfail_network), no_ns = TM_STAT(rec_servfail_no_ns);
	uint64_t no_neigh = TM_STAT(rec_drop_no_neigh);
	const struct px_resolver_stats *rs = &dp_miss_resolver(tm.w->miss)->stats;
	uint64_t unreachable = rs->server_fail[PX_RES_SRV_UNREACHABLE];
	uint64_t end = tm.now + 60000;
	unsigned arps = 0;
	struct rte_mbuf *m;
	struct tm_frame f;

	tm_client_ask(40014, 0x2323, "www.noarp.test", PX_DNS_TYPE_A);
	for (;;) {
		m = tm_tx_next();
		if (m == NULL) {
			ck_assert_msg(tm.now < end, "no answer within a minute of the test's clock");
			tm_step(tm.now + 10);
			continue;
		}
		if (rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type ==
		    RTE_BE16(RTE_ETHER_TYPE_ARP)) {
			const struct rte_arp_hdr *a =
				rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, 14);

			ck_assert_uint_eq(a->arp_data.arp_tip, NOARP_IP4);
			rte_pktmbuf_free(m);
			arps++;
			continue;
		}
		tm_frame_parse(m, &f);
		if (!f.upstream)
			break;
		ck_assert_uint_eq(f.q.dst, ROOT_IP4); /* nothing ever reaches 198.18.0.54 */
		tm_answer(&f.q);
	}
	tm_check_answer(&f, 40014, 0x2323, "www.noarp.test", PX_DNS_RCODE_SERVFAIL);
	rte_pktmbuf_free(f.m);
	ck_assert_int_eq(tm.last_ede, PX_DNS_EDE_NETWORK_ERROR);
	ck_assert_str_eq(tm.last_ede_text, "no query could be sent to any nameserver");
	ck_assert_uint_ge(arps, 1);
	/* Sent at least once more before giving up: not the first miss of a MAC. */
	ck_assert_uint_ge(TM_STAT(rec_drop_no_neigh), no_neigh + 2);
	ck_assert_uint_eq(rs->server_fail[PX_RES_SRV_UNREACHABLE], unreachable + 1);
	ck_assert_uint_eq(TM_STAT(rec_servfail_network), network + 1);
	ck_assert_uint_eq(TM_STAT(rec_servfail_no_ns), no_ns);
	tm_expect_quiet(5);
}
END_TEST

/* Without a gateway, the off-link root has no route: no query leaves, the server is reported
 * unreachable at once (not as a timeout), and the client gets SERVFAIL with EDE Network Error. */
START_TEST(test_miss_no_route_network_error)
{
	uint64_t network = TM_STAT(rec_servfail_network), no_ns = TM_STAT(rec_servfail_no_ns);
	const struct px_resolver_stats *rs = &dp_miss_resolver(tm.w->miss)->stats;
	struct tm_frame f;

	tm_client_ask(40015, 0x2424, "www.example.test", PX_DNS_TYPE_A);
	tm_frame_next(&f);
	ck_assert(!f.upstream);
	tm_check_answer(&f, 40015, 0x2424, "www.example.test", PX_DNS_RCODE_SERVFAIL);
	rte_pktmbuf_free(f.m);
	ck_assert_int_eq(tm.last_ede, PX_DNS_EDE_NETWORK_ERROR);
	ck_assert_uint_eq(rs->server_fail[PX_RES_SRV_UNREACHABLE], 1);
	ck_assert_uint_eq(rs->server_fail[PX_RES_SRV_TIMEOUT], 0);
	ck_assert_uint_eq(TM_STAT(rec_servfail_network), network + 1);
	ck_assert_uint_eq(TM_STAT(rec_servfail_no_ns), no_ns);
	tm_expect_quiet(5);
}
END_TEST

/* After a mix of resolutions (through a referral, ended by a server's timeout, completed over
 * TCP after a TC reply), every mbuf and TCP message is back in its pool, every resolution slot
 * free, and nothing was dropped for want of one. */
START_TEST(test_miss_mbufs_back)
{
	const struct px_resolver *r = dp_miss_resolver(tm.w->miss);
	struct px_test_msg rep;
	struct rte_mbuf *m;
	uint32_t path[8];
	struct tm_frame f;

	tm_client_ask(40020, 0x0101, "www.example.test", PX_DNS_TYPE_A);
	tm_serve(&f, path, RTE_DIM(path), 0);
	tm_check_answer(&f, 40020, 0x0101, "www.example.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	tm_client_ask(40021, 0x0202, "www.dead.test", PX_DNS_TYPE_A);
	tm_serve(&f, path, RTE_DIM(path), DEAD_IP4);
	tm_step(tm.now + PX_UPQ_RTT_UNKNOWN_MS);
	tm_frame_next(&f);
	tm_check_answer(&f, 40021, 0x0202, "www.dead.test", PX_DNS_RCODE_SERVFAIL);
	rte_pktmbuf_free(f.m);
	tm_client_ask(40022, 0x0303, "www.tc.test", PX_DNS_TYPE_A);
	tm_serve(&f, path, RTE_DIM(path), TC_IP4);
	tm_answer(&f.q); /* TC */
	m = tm_thread_take();
	ck_assert_ptr_nonnull(m);
	tm_auth_reply(&rep, &f.q);
	tm_thread_give(m, &rep);
	tm_frame_next(&f);
	tm_check_answer(&f, 40022, 0x0303, "www.tc.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);

	/* Everything the worker sent was read and freed; nothing more comes. */
	tm_expect_quiet(20);
	ck_assert_uint_eq(rte_ring_count(tm_rx_ring), 0);
	ck_assert_uint_eq(rte_mempool_in_use_count(tm_pool), tm.mbuf_baseline);
	ck_assert_uint_eq(__atomic_load_n(&r->free_count, __ATOMIC_RELAXED), r->capacity);
	ck_assert_uint_eq(TM_STAT(drop_tx_full), 0);
	ck_assert_uint_eq(TM_STAT(rec_drop_no_neigh), 0);
	ck_assert_uint_eq(TM_STAT(rec_drop_no_mbuf), 0);
	ck_assert_uint_eq(TM_STAT(rec_client_no_mbuf), 0);
	/* The TCP side: every request was answered, every message mbuf came back. */
	ck_assert_ptr_null(tm_thread_take());
	ck_assert_uint_eq(rte_ring_count(tm.tcp.in), 0);
	ck_assert_uint_eq(rte_ring_count(tm_tun_tx_ring), 0);
	ck_assert_uint_eq(TM_STAT(tcp_no_mbuf), 0);
	ck_assert_uint_eq(TM_STAT(tcp_ring_full), 0);
	ck_assert_uint_eq(rte_mempool_in_use_count(tm_msg_pool), tm.msg_baseline);
}
END_TEST

static Suite *
miss_resolve_suite(void)
{
	Suite *s = suite_create("miss_resolve");

	tm_add_case(s, test_miss_referral_then_answer, tm_setup_plain);
	tm_add_case(s, test_miss_invalid_glue_servfail, tm_setup_plain);
	tm_add_case(s, test_miss_self_glue_servfail, tm_setup_plain);
	tm_add_case(s, test_miss_coalesced, tm_setup_plain);
	tm_add_case(s, test_miss_onlink_server, tm_setup_plain);
	tm_add_case(s, test_miss_unreachable_server_network_error, tm_setup_plain);
	tm_add_case(s, test_miss_no_route_network_error, tm_setup_no_gateway);
	tm_add_case(s, test_miss_mbufs_back, tm_setup_plain);
	return s;
}

int
main(void)
{
	return tm_run("test_miss_resolve", miss_resolve_suite());
}
