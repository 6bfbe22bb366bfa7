/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Access control and rate limiting on the real worker loop, through a net_ring port (as in
 * test_pkt.c): the test publishes an access table the way the control thread does, plays the
 * client on the port's RX ring and reads what the worker sends on its TX ring.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <pollux/wire.h>

#include "ctl_access.h"
#include "dp_access.h"
#include "dp_cache.h"
#include "dp_clock.h"
#include "dp_lcore.h"
#include "dp_worker.h"
#include "testlib.h"
#include "testlib_pkt.h"

static struct rte_mempool *pool;
static struct rte_ring *rx_ring, *tx_ring;
static struct dp_ctx ctx;
static struct ctl_access ca;
static struct dp_lcore *worker;
static uint64_t sent_count;
static const struct px_test_hosts *H = &px_test_hosts;

static void
send_frame(const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, len), frame, len);
	ck_assert_int_eq(rte_ring_enqueue(rx_ring, m), 0);
	sent_count++;
	for (uint64_t spin = 0; __atomic_load_n(&worker->stats.rx_pkts, __ATOMIC_RELAXED) <
				 sent_count; spin++)
		ck_assert_uint_lt(spin, 2000000000ull);
}

/* The reply to the last frame, or NULL when the worker sent nothing. The worker counts a
 * burst before it transmits, so wait for its loop to go round once more first. */
static struct rte_mbuf *
reply(void)
{
	struct rte_mbuf *m = NULL;
	uint64_t idle = __atomic_load_n(&worker->stats.idle_polls, __ATOMIC_RELAXED);

	for (int i = 0; i < 1000000 && rte_ring_count(tx_ring) == 0 &&
			__atomic_load_n(&worker->stats.idle_polls, __ATOMIC_RELAXED) < idle + 2;
	     i++)
		rte_pause();
	if (rte_ring_dequeue(tx_ring, (void **)&m) != 0)
		return NULL;
	return m;
}

static uint64_t
stat(size_t off)
{
	return __atomic_load_n((uint64_t *)((uint8_t *)&worker->stats + off), __ATOMIC_RELAXED);
}
#define STAT(name) stat(offsetof(struct px_stats, name))

/* Publishes the table the arguments describe (as pollux --ip 198.18.0.2/24 ... would). */
static void
publish(const char **extra)
{
	const char *argv[16] = {"pollux", "--ip", "198.18.0.2/24", "--ip6", "2001:2::2/64"};
	struct ctl_config cfg;
	char err[256];
	int argc = 5;
	struct dp_access *a;

	while (*extra != NULL)
		argv[argc++] = *extra++;
	ctl_config_init(&cfg);
	ck_assert_int_eq(ctl_config_parse_args(&cfg, argc, (char **)argv, err, sizeof(err)), 0);
	a = ctl_access_build(&cfg, 1, err, sizeof(err));
	ck_assert_ptr_nonnull(a);
	ctl_access_publish(&ca, a);
	ctl_config_free(&cfg);
}

#define PUBLISH(...) publish((const char *[]){__VA_ARGS__, NULL})

static uint16_t
query4(uint8_t *frame, const struct px_test_hosts *h, uint16_t *dns_len)
{
	uint8_t dns[512];
	const struct px_test_query q = {.id = 0x4242, .flags = PX_DNS_RD, .name = "www.example.test",
					.qtype = 1, .qclass = 1, .edns = true, .edns_bufsize = 1232};

	*dns_len = px_test_query(dns, &q);
	return px_test_frame_udp4(frame, h, 40000, 53, dns, *dns_len);
}

/* Checks a bare answer (header and question, no records; with ede an OPT carrying only the
 * Extended DNS Error Prohibited, no text, and the DO bit as do_bit; else no OPT) and returns
 * its flags. */
static uint16_t
bare_answer_ede(struct rte_mbuf *m, uint16_t query_len, bool v6, bool ede, bool do_bit)
{
	uint16_t l3 = v6 ? 40 : 20;
	struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, 14 + l3);
	uint8_t *d = (uint8_t *)(udp + 1);
	uint16_t dlen = (uint16_t)(rte_be_to_cpu_16(udp->dgram_len) - 8);

	if (v6)
		ck_assert_int_eq(rte_ipv6_udptcp_cksum_verify(
			rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, 14), udp), 0);
	else
		ck_assert_int_eq(rte_ipv4_udptcp_cksum_verify(
			rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14), udp), 0);
	ck_assert_uint_eq(px_get16(d), 0x4242);
	ck_assert_uint_eq(px_get16(d + 4), 1);
	ck_assert_uint_eq(px_get16(d + 6), 0);
	ck_assert_uint_eq(px_get16(d + 8), 0);
	ck_assert_uint_eq(px_get16(d + 10), ede ? 1 : 0);
	if (ede) {
		const uint8_t *o = d + 12 + 18 + 4;

		ck_assert_uint_eq(dlen, 12 + 18 + 4 + PX_DNS_OPT_LEN + 6);
		/* The query's OPT made room for all but the option's 6 bytes. */
		ck_assert_uint_le(dlen, query_len + 6);
		ck_assert_uint_eq(o[0], 0);
		ck_assert_uint_eq(px_get16(o + 1), PX_DNS_TYPE_OPT);
		ck_assert_uint_eq(px_get16(o + 3), PX_DNS_EDNS_BUFSIZE);
		ck_assert_uint_eq(px_get32(o + 5), do_bit ? PX_DNS_EDNS_DO : 0);
		ck_assert_uint_eq(px_get16(o + 9), 6);
		ck_assert_uint_eq(px_get16(o + 11), PX_DNS_OPT_EDE);
		ck_assert_uint_eq(px_get16(o + 13), 2);
		ck_assert_uint_eq(px_get16(o + 15), PX_DNS_EDE_PROHIBITED);
	} else {
		ck_assert_uint_eq(dlen, 12 + 18 + 4);
		ck_assert_uint_le(dlen, query_len);
	}
	ck_assert_uint_eq(m->pkt_len, 14u + l3 + 8 + dlen);
	return px_get16(d + 2);
}

/* A bare answer to a query without EDNS, or to a slipped one: no OPT. */
static uint16_t
bare_answer(struct rte_mbuf *m, uint16_t query_len, bool v6)
{
	return bare_answer_ede(m, query_len, v6, false, false);
}

START_TEST(test_access_allowed_answered_and_counted)
{
	uint8_t f[600];
	uint16_t qlen, len = query4(f, H, &qlen);
	uint64_t allowed = STAT(acl_allowed), hits = STAT(hits);
	struct rte_mbuf *m;

	PUBLISH("--access-control", "198.18.0.0/25 allow");
	send_frame(f, len);
	m = reply();
	ck_assert_ptr_nonnull(m);
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(STAT(acl_allowed), allowed + 1);
	ck_assert_uint_eq(STAT(hits), hits + 1);
	/* The configured /25 counted the hit, in the worker's own slice. */
	const struct dp_access *a = ctx.access;

	ck_assert_str_eq(a->acl->rules[a->acl->rule_count - 1].origin, "command line");
	ck_assert_uint_eq(a->hits[a->acl->rule_count - 1], 1);
}
END_TEST

START_TEST(test_access_refused_no_larger_than_query)
{
	uint8_t f[600], dns[512];
	uint16_t qlen, len = query4(f, H, &qlen);
	uint64_t refused = STAT(acl_refused), queries = STAT(queries), rcode = STAT(resp_refused);
	struct rte_mbuf *m;

	PUBLISH("--access-control", "198.18.0.1 refuse");
	send_frame(f, len);
	m = reply();
	ck_assert_ptr_nonnull(m);
	/* The query had EDNS: the REFUSED says why (RFC 8914 Prohibited). */
	ck_assert_uint_eq(bare_answer_ede(m, qlen, false, true, false),
			  PX_DNS_QR | PX_DNS_RD | PX_DNS_RCODE_REFUSED);
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(STAT(acl_refused), refused + 1);
	ck_assert_uint_eq(STAT(resp_refused), rcode + 1);
	ck_assert_uint_eq(STAT(queries), queries); /* no DNS work was done */

	/* IPv6 from outside the --ip6 subnet: refused by default. */
	struct px_test_hosts h6 = *H;
	const struct px_test_query q = {.id = 0x4242, .flags = PX_DNS_RD, .name = "www.example.test",
					.qtype = 1, .qclass = 1, .edns = true, .edns_bufsize = 1232};

	h6.client_ip6[5] = 9; /* 2001:2:0:9::1 */
	qlen = px_test_query(dns, &q);
	len = px_test_frame_udp6(f, &h6, 40000, 53, dns, qlen);
	send_frame(f, len);
	m = reply();
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(bare_answer_ede(m, qlen, true, true, false) & PX_DNS_RCODE_MASK,
			  PX_DNS_RCODE_REFUSED);
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(STAT(acl_refused), refused + 2);

	/* A query that is a response, or too short for a header, gets nothing back. */
	len = query4(f, H, &qlen);
	f[14 + 20 + 8 + 2] |= 0x80;
	f[14 + 20 + 6] = f[14 + 20 + 7] = 0; /* UDP checksum: none */
	send_frame(f, len);
	ck_assert_ptr_null(reply());
	ck_assert_uint_eq(STAT(acl_refused), refused + 3);
}
END_TEST

/* Prohibited only goes to a query that carried an OPT: without one the REFUSED stays smaller
 * than the query; the DO bit of the query's OPT is echoed. */
START_TEST(test_access_refused_ede_needs_opt)
{
	uint8_t f[600], dns[512];
	struct px_test_query q = {.id = 0x4242, .flags = PX_DNS_RD, .name = "www.example.test",
				  .qtype = 1, .qclass = 1};
	uint16_t qlen = px_test_query(dns, &q), len;
	struct rte_mbuf *m;

	PUBLISH("--access-control", "198.18.0.1 refuse");
	len = px_test_frame_udp4(f, H, 40000, 53, dns, qlen);
	send_frame(f, len);
	m = reply();
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(bare_answer(m, qlen, false), PX_DNS_QR | PX_DNS_RD | PX_DNS_RCODE_REFUSED);
	rte_pktmbuf_free(m);

	q.edns = true;
	q.edns_bufsize = 4096;
	qlen = px_test_query(dns, &q);
	dns[qlen - PX_DNS_OPT_LEN + 7] |= 0x80; /* DO, the high bit of the OPT TTL's flags */
	len = px_test_frame_udp4(f, H, 40000, 53, dns, qlen);
	send_frame(f, len);
	m = reply();
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(bare_answer_ede(m, qlen, false, true, true),
			  PX_DNS_QR | PX_DNS_RD | PX_DNS_RCODE_REFUSED);
	rte_pktmbuf_free(m);

	/* An OPT not owned by the root is no OPT: nothing to add the option to. */
	dns[qlen - PX_DNS_OPT_LEN + 7] &= 0x7f;
	dns[qlen - PX_DNS_OPT_LEN] = 0xc0; /* a pointer in place of the root... */
	memmove(dns + qlen - PX_DNS_OPT_LEN + 2, dns + qlen - PX_DNS_OPT_LEN + 1, PX_DNS_OPT_LEN - 1);
	dns[qlen - PX_DNS_OPT_LEN + 1] = 12; /* ...to the question name */
	qlen++;
	len = px_test_frame_udp4(f, H, 40000, 53, dns, qlen);
	send_frame(f, len);
	m = reply();
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(bare_answer(m, qlen, false), PX_DNS_QR | PX_DNS_RD | PX_DNS_RCODE_REFUSED);
	rte_pktmbuf_free(m);
}
END_TEST

START_TEST(test_access_dropped_gets_nothing)
{
	uint8_t f[600];
	uint16_t qlen, len = query4(f, H, &qlen);
	uint64_t dropped = STAT(acl_dropped), tx = STAT(tx_pkts);

	PUBLISH("--access-control", "198.18.0.0/30 drop");
	send_frame(f, len);
	ck_assert_ptr_null(reply());
	ck_assert_uint_eq(STAT(acl_dropped), dropped + 1);
	ck_assert_uint_eq(STAT(tx_pkts), tx);
}
END_TEST

/* Rate 1 q/s with a burst of 2 and slip 2: two answers, then every second query a TC. Another
 * client keeps its own bucket. */
START_TEST(test_access_ratelimit_slips_every_kth)
{
	struct px_test_hosts flood = *H, other = *H;
	uint8_t f[600];
	uint16_t qlen, len;
	uint64_t limited = STAT(ratelimited), slipped = STAT(ratelimit_slipped);
	struct rte_mbuf *m;

	flood.client_ip4 = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 77));
	other.client_ip4 = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 78));
	PUBLISH("--ratelimit", "1", "--ratelimit-burst", "2", "--ratelimit-slip", "2");
	len = query4(f, &flood, &qlen);
	for (int i = 0; i < 2; i++) {
		send_frame(f, len);
		m = reply();
		ck_assert_ptr_nonnull(m);
		ck_assert_uint_gt(m->pkt_len, 14u + 20 + 8 + 12 + 18 + 4); /* a real answer */
		rte_pktmbuf_free(m);
	}
	for (int i = 1; i <= 6; i++) {
		send_frame(f, len);
		m = reply();
		if (i % 2 != 0) {
			ck_assert_ptr_null(m);
			continue;
		}
		ck_assert_ptr_nonnull(m);
		ck_assert_uint_eq(bare_answer(m, qlen, false),
				  PX_DNS_QR | PX_DNS_TC | PX_DNS_RD | PX_DNS_RA);
		rte_pktmbuf_free(m);
	}
	ck_assert_uint_eq(STAT(ratelimited), limited + 6);
	ck_assert_uint_eq(STAT(ratelimit_slipped), slipped + 3);
	len = query4(f, &other, &qlen);
	send_frame(f, len);
	m = reply();
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_gt(m->pkt_len, 14u + 20 + 8 + 12 + 18 + 4);
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(STAT(ratelimited), limited + 6);
}
END_TEST

/* ACL first: a refused client never reaches its bucket. */
START_TEST(test_access_acl_before_ratelimit)
{
	struct px_test_hosts h = *H;
	uint8_t f[600];
	uint16_t qlen, len;
	uint64_t limited = STAT(ratelimited), refused = STAT(acl_refused);
	struct rte_mbuf *m;

	h.client_ip4 = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 90));
	PUBLISH("--ratelimit", "1", "--ratelimit-burst", "1", "--access-control",
		"198.18.0.90 refuse");
	len = query4(f, &h, &qlen);
	for (int i = 0; i < 4; i++) {
		send_frame(f, len);
		m = reply();
		ck_assert_ptr_nonnull(m);
		rte_pktmbuf_free(m);
	}
	ck_assert_uint_eq(STAT(acl_refused), refused + 4);
	ck_assert_uint_eq(STAT(ratelimited), limited);
}
END_TEST

static void
unpublish(void)
{
	struct dp_access *old = __atomic_exchange_n(&ctx.access, NULL, __ATOMIC_ACQ_REL);

	rte_rcu_qsbr_synchronize(ctx.qsbr, RTE_QSBR_THRID_INVALID);
	ctl_access_free(old);
}

static Suite *
pkt_access_suite(void)
{
	Suite *s = suite_create("pkt_access");
	TCase *tc = tcase_create("access");

	tcase_add_checked_fixture(tc, NULL, unpublish);
	tcase_add_test(tc, test_access_allowed_answered_and_counted);
	tcase_add_test(tc, test_access_refused_no_larger_than_query);
	tcase_add_test(tc, test_access_refused_ede_needs_opt);
	tcase_add_test(tc, test_access_dropped_gets_nothing);
	tcase_add_test(tc, test_access_ratelimit_slips_every_kth);
	tcase_add_test(tc, test_access_acl_before_ratelimit);
	suite_add_tcase(s, tc);
	return s;
}

static void
setup(void)
{
	static const uint8_t a_rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 198, 51, 100, 10};
	static const uint8_t key[16] = {7};
	/* A resolver-less worker answering from the cache, as with recursion off. */
	const struct dp_worker_ctx_conf cc = {.name = "test_pa", .cache_size = 1024};
	uint16_t off = 6;
	struct dp_cache_key k = {.qtype = 1, .qclass = 1, .kind = DP_CACHE_RRSET};
	struct dp_cache_answer a = {.flags = DP_CACHE_F_PINNED, .ttl = 300, .an_count = 1,
				    .rr = a_rr, .rr_len = sizeof(a_rr), .ttl_off = &off,
				    .ttl_off_count = 1};
	int port;

	px_test_eal_init("test_pkt_access", "0,1", NULL);
	dp_clock_init();
	pool = rte_pktmbuf_pool_create("test_pa_pool", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	port = px_test_ring_port("net_ring_pa", pool, &rx_ring, &tx_ring);
	ctx.port.port_id = (uint16_t)port;
	memcpy(ctx.port.mac.addr_bytes, H->server_mac, 6);
	ctx.port.has_ip4 = true;
	ctx.port.ip4 = H->server_ip4;
	ctx.port.has_ip6 = true;
	memcpy(ctx.port.ip6, H->server_ip6, 16);
	dp_port_conf_derive(&ctx.port);
	k.name_len = (uint8_t)px_test_name(k.name, "www.example.test");
	if (dp_worker_ctx_build(&ctx, &cc) != 0 ||
	    dp_cache_insert(ctx.cache, dp_cache_entry_new(ctx.cache, &k, &a, 0)) != 0)
		rte_exit(2, "test_pkt_access: cannot fill the cache\n");
	ca.ctx = &ctx;
	ca.workers = 1;

	worker = dp_worker_build(&(struct dp_worker_conf){
		.ctx = &ctx, .lcore_id = rte_get_next_lcore(-1, 1, 0), .pool = pool,
		.now_ms = dp_clock_ms(), .ratelimit_size = 1024, .ratelimit_key = key,
	});
	if (worker == NULL)
		rte_exit(2, "test_pkt_access: dp_worker_build: %s\n", strerror(errno));
	rte_eal_remote_launch(dp_loop_run, worker, worker->lcore_id);
}

int
main(void)
{
	SRunner *sr;
	int failed;

	setup();
	sr = srunner_create(pkt_access_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	__atomic_store_n(&ctx.stop, true, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	dp_worker_free(worker);
	dp_worker_ctx_free(&ctx);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
