/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The root hints swapped under a resolving worker. A worker lcore runs the real loop
 * (dp_loop_run) on a net_ring port with idle sleeps on; the test, on the main lcore, is the
 * client, the gateway, the servers and the control thread. Nothing is cached (no cache writer,
 * TTLs capped at 1 s, priming off), so every resolution restarts from the hints when it meets a
 * CNAME to another zone or a referral to a nameserver without glue. The control thread
 * publishes a new hints table (ctl_hints_publish: release store, RCU grace period, free())
 * before every reply a server sends, thousands of times in all, half of them while the worker
 * is parked, the other half while it runs (and sleeps).
 *
 * Consecutive tables name different root servers (198.18.1.1 and 198.18.1.2 by generation), so
 * each restart must go to the root of the table in force when the reply that caused it was
 * handled: a resolver reading a table it loaded before a quiescent state report reads one the
 * control thread may have freed (ASan: heap-use-after-free) and asks its old root.
 *
 *   cname.test     ns.cname.test 198.18.3.1      answers cN.cname.test CNAME cN.target.test
 *   target.test    ns.target.test 198.18.3.2     answers A: ns.target.test 198.18.3.3, else
 *                                                198.51.100.7
 *   glueless.test  ns.target.test (no glue)      198.18.3.3 answers A 198.51.100.7
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <pollux/addr_policy.h>
#include <pollux/hints.h>
#include <pollux/resolver.h>
#include <pollux/wire.h>

#include "ctl_hints_reload.h"
#include "dp_clock.h"
#include "dp_lcore.h"
#include "dp_miss.h"
#include "dp_worker.h"
#include "testlib.h"
#include "testlib_miss.h"
#include "testlib_pkt.h"

#define ROOT0_IP4 RTE_BE32(0xc6120101)  /* 198.18.1.1: even generations */
#define ROOT1_IP4 RTE_BE32(0xc6120102)  /* 198.18.1.2: odd generations */
#define CNAME_IP4 RTE_BE32(0xc6120301)  /* 198.18.3.1 */
#define TARGET_IP4 RTE_BE32(0xc6120302) /* 198.18.3.2 */
#define GLUELESS_IP4 RTE_BE32(0xc6120303) /* 198.18.3.3 */
#define ROUNDS 300
#define WAIT_MS 4000

static struct rte_mempool *pool;
static struct rte_ring *rx_ring, *tx_ring;
static struct dp_ctx ctx;
static struct dp_lcore *worker;
static struct px_addr_policy policy;
static uint64_t generation;


/* A malloc'ed table (ctl_hints_publish frees with free(), so ASan watches it) whose one root
 * server depends on the generation. */
static struct px_hints *
make_hints(uint64_t gen)
{
	struct px_hints *h = calloc(1, px_hints_size(1));

	if (h == NULL)
		abort();
	h->ns_count = 1;
	h->ttl = 1;
	h->ns[0].name_len = (uint8_t)px_test_name(h->ns[0].name, gen % 2 ? "b.root.test" :
						   "a.root.test");
	h->ns[0].v4_count = 1;
	px_addr_set4(&h->ns[0].addr[0], gen % 2 ? ROOT1_IP4 : ROOT0_IP4, 0);
	h->checksum = px_hints_checksum(h);
	return h;
}

static uint32_t
root_of(uint64_t gen)
{
	return gen % 2 ? ROOT1_IP4 : ROOT0_IP4;
}

/* As the control thread: a new table, published; the old one is freed once every worker has
 * passed a quiescent state. With `parked`, the worker is held in its pause wait (off RCU, as
 * in an idle sleep) across the swap, and `pending` is put on its RX ring meanwhile. */
static void
swap_hints(bool parked, struct rte_mbuf *pending)
{
	if (parked) {
		__atomic_store_n(&ctx.pause, true, __ATOMIC_SEQ_CST);
		while (!__atomic_load_n(&worker->parked, __ATOMIC_SEQ_CST))
			rte_pause();
	}
	if (pending != NULL)
		ck_assert_int_eq(rte_ring_enqueue(rx_ring, pending), 0);
	generation++;
	ctl_hints_publish(&ctx, make_hints(generation), generation);
	if (parked)
		__atomic_store_n(&ctx.pause, false, __ATOMIC_SEQ_CST);
}

static struct rte_mbuf *
frame_mbuf(const uint8_t *f, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, len), f, len);
	return m;
}

/* The gateway's ARP reply, to the worker. */
static void
arp_reply_gw(void)
{
	uint8_t f[60] __rte_aligned(8) = {0};
	uint16_t len = tm_arp_reply_frame(f, GW_IP4, tm_gw_mac);

	ck_assert_int_eq(rte_ring_enqueue(rx_ring, frame_mbuf(f, len)), 0);
}

/* The next frame the worker sends that is not an ARP request for the gateway (each of those is
 * answered): an upstream query (q filled, true) or the client's answer (its rcode in *rcode). */
static bool
next_frame(struct tm_upq *q, unsigned *rcode)
{
	uint64_t end = dp_clock_ms() + WAIT_MS;
	struct rte_mbuf *m;

	for (;;) {
		while (rte_ring_dequeue(tx_ring, (void **)&m) != 0) {
			ck_assert_uint_le(dp_clock_ms(), end);
			rte_pause();
		}
		const struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

		if (e->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
			const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(e + 1);

			ck_assert_uint_eq(a->arp_data.arp_tip, GW_IP4);
			rte_pktmbuf_free(m);
			arp_reply_gw();
			continue;
		}
		ck_assert_uint_eq(e->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV4));
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(e + 1);
		const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
		const uint8_t *d = (const uint8_t *)(udp + 1);
		uint16_t dlen = (uint16_t)(rte_be_to_cpu_16(udp->dgram_len) - sizeof(*udp));
		bool up = ip->dst_addr != tm_hosts.client_ip4;

		ck_assert_uint_ge(dlen, PX_DNS_HDR_LEN);
		if (up)
			tm_parse_upq(m, q);
		else
			*rcode = px_get16(d + 2) & 0xf;
		rte_pktmbuf_free(m);
		return up;
	}
}

/* What the scripted server at q->dst answers; sets *restarts when handling the reply makes the
 * resolution start again from the hints. */
static void
script(struct px_test_msg *r, const struct tm_upq *q, bool *restarts)
{
	*restarts = false;
	px_test_msg_start(r, q->id, PX_DNS_QR | (q->dst == ROOT0_IP4 || q->dst == ROOT1_IP4 ?
						  0 : PX_DNS_AA), q->qname, q->qtype);
	if (q->dst == ROOT0_IP4 || q->dst == ROOT1_IP4) {
		if (tm_name_below(q->qname, "cname.test")) {
			px_test_msg_target(r, 1, "cname.test", PX_DNS_TYPE_NS, 1, "ns.cname.test");
			px_test_msg_addr(r, 2, "ns.cname.test", "198.18.3.1");
		} else if (tm_name_below(q->qname, "target.test")) {
			px_test_msg_target(r, 1, "target.test", PX_DNS_TYPE_NS, 1, "ns.target.test");
			px_test_msg_addr(r, 2, "ns.target.test", "198.18.3.2");
		} else {
			ck_assert(tm_name_below(q->qname, "glueless.test"));
			px_test_msg_target(r, 1, "glueless.test", PX_DNS_TYPE_NS, 1,
					   "ns.target.test");
			*restarts = true; /* ns.target.test is looked up from the hints */
		}
		return;
	}
	ck_assert_uint_eq(q->qtype, PX_DNS_TYPE_A);
	if (q->dst == CNAME_IP4) {
		char target[PX_DNS_NAME_BUF];

		ck_assert(tm_name_below(q->qname, "cname.test"));
		snprintf(target, sizeof(target), "%.*s.target.test",
			 (int)(strlen(q->qname) - strlen(".cname.test")), q->qname);
		px_test_msg_target(r, 0, q->qname, PX_DNS_TYPE_CNAME, 1, target);
		*restarts = true;
	} else if (q->dst == TARGET_IP4) {
		ck_assert(tm_name_below(q->qname, "target.test"));
		px_test_msg_addr(r, 0, q->qname, strcasecmp(q->qname, "ns.target.test") == 0 ?
			  "198.18.3.3" : "198.51.100.7");
	} else {
		ck_assert_uint_eq(q->dst, GLUELESS_IP4);
		ck_assert(tm_name_below(q->qname, "glueless.test"));
		px_test_msg_addr(r, 0, q->qname, "198.51.100.7");
	}
}

static struct rte_mbuf *
reply_mbuf(const struct tm_upq *q, const struct px_test_msg *r)
{
	uint8_t f[1600] __rte_aligned(8);
	struct px_test_hosts h = {.client_ip4 = q->dst, .server_ip4 = tm_hosts.server_ip4};

	memcpy(h.client_mac, tm_gw_mac, 6);
	memcpy(h.server_mac, tm_hosts.server_mac, 6);
	return frame_mbuf(f, px_test_frame_udp4(f, &h, PX_DNS_PORT, q->sport, r->buf, r->len));
}

/* One client question played to its end: returns the number of restarts from the hints. */
static unsigned
resolve_one(const char *qname, uint16_t cport)
{
	uint8_t dns[512], f[600] __rte_aligned(8);
	const struct px_test_query cq = {.id = cport, .flags = PX_DNS_RD, .name = qname,
					 .qtype = PX_DNS_TYPE_A, .qclass = PX_DNS_CLASS_IN};
	uint16_t dlen = px_test_query(dns, &cq);
	unsigned rcode = 99, restarts = 0, steps = 0;
	bool expect_new_root = false, restart;
	struct px_test_msg r;
	struct tm_upq q;

	ck_assert_int_eq(rte_ring_enqueue(rx_ring, frame_mbuf(f, px_test_frame_udp4(
		f, &tm_hosts, cport, PX_DNS_PORT, dns, dlen))), 0);
	while (next_frame(&q, &rcode)) {
		ck_assert_uint_lt(++steps, 16);
		/* A restart asks the root of the table published just before its cause was
		 * handled, never the one before. */
		if (expect_new_root)
			ck_assert_uint_eq(q.dst, root_of(generation));
		script(&r, &q, &restart);
		/* The swap lands between the worker's last quiescent report and the reply. */
		swap_hints(restart || steps % 2 == 0, reply_mbuf(&q, &r));
		if (!restart)
			swap_hints(false, NULL);
		expect_new_root = restart;
		restarts += restart;
	}
	ck_assert_uint_eq(rcode, PX_DNS_RCODE_NOERROR);
	return restarts;
}

START_TEST(test_miss_hints_swapped_under_restarts)
{
	unsigned restarts = 0;
	uint64_t gen0 = generation, end = dp_clock_ms() + WAIT_MS;
	struct rte_mbuf *m;

	/* The worker asks for the gateway first; its queries go out once it is known. */
	while (rte_ring_dequeue(tx_ring, (void **)&m) != 0) {
		ck_assert_uint_le(dp_clock_ms(), end);
		rte_pause();
	}
	ck_assert_uint_eq(rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type,
			  RTE_BE16(RTE_ETHER_TYPE_ARP));
	rte_pktmbuf_free(m);
	arp_reply_gw();
	while (__atomic_load_n(&worker->stats.rec_neigh_learned, __ATOMIC_RELAXED) == 0) {
		ck_assert_uint_le(dp_clock_ms(), end);
		rte_pause();
	}

	for (unsigned i = 0; i < ROUNDS; i++) {
		char name[64];

		snprintf(name, sizeof(name), "q%u.%s", i, i % 2 ? "glueless.test" : "cname.test");
		restarts += resolve_one(name, (uint16_t)(20000 + i));
	}
	ck_assert_uint_eq(restarts, ROUNDS);
	ck_assert_uint_ge(generation - gen0, 2000);
	ck_assert_uint_eq(px_hints_get(&ctx)->generation, generation);
	const struct px_resolver *res = dp_miss_resolver(worker->miss);

	ck_assert_uint_eq(res->stats.cnames_followed, ROUNDS / 2);
	ck_assert_uint_eq(res->stats.glueless_started, ROUNDS / 2);
}
END_TEST

static Suite *
recurse_rcu_suite(void)
{
	Suite *s = suite_create("recurse_rcu");
	TCase *tc = tcase_create("hints_swap");

	tcase_add_test(tc, test_miss_hints_swapped_under_restarts);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	return s;
}

static void
setup(void)
{
	const struct dp_worker_ctx_conf cc = {
		.name = "test_rcu", .cache_size = 256, .resolvers = 1,
	};
	struct dp_miss_conf rconf;
	int port;

	px_test_eal_init("test_miss_rcu", "0@0,1@1", NULL);
	dp_clock_init();
	pool = rte_pktmbuf_pool_create("test_rcu_pool", 2047, 128, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	port = px_test_ring_port("net_ring_rcu", pool, &rx_ring, &tx_ring);

	ctx.port.port_id = (uint16_t)port;
	memcpy(ctx.port.mac.addr_bytes, tm_hosts.server_mac, 6);
	ctx.port.has_ip4 = true;
	ctx.port.ip4 = tm_hosts.server_ip4;
	ctx.port.ip4_prefix = 24;
	dp_port_conf_derive(&ctx.port);
	/* Idle sleeps on: the worker goes off RCU after 20 us without a packet. */
	ctx.idle_sleep_us = 50;
	ctx.idle_grace_tsc = rte_get_tsc_hz() / 50000;
	if (dp_worker_ctx_build(&ctx, &cc) != 0)
		rte_exit(2, "test_miss_rcu: cannot build the workers' shared state\n");
	generation = 1;
	ctx.hints = make_hints(generation);
	ctx.hints->generation = generation;

	px_addr_policy_init(&policy);
	memset(&rconf, 0, sizeof(rconf));
	rconf.has_gw4 = true;
	rconf.gw4 = GW_IP4;
	rconf.slots = 64;
	px_resolver_config_default(&rconf.resolve);
	rconf.resolve.max_ttl = 1;
	rconf.resolve.qname_min = false;
	rconf.resolve.use_ipv4 = true;
	rconf.resolve.use_ipv6 = false;
	rconf.policy = &policy;
	/* The servers are this test's thread: a busy machine must not turn its scheduling
	 * delays into timeouts. */
	rconf.rto_min_ms = PX_UPQ_RTT_UNKNOWN_MS;
	worker = dp_worker_build(&(struct dp_worker_conf){
		.ctx = &ctx, .lcore_id = rte_get_next_lcore(-1, 1, 0), .pool = pool,
		.miss = &rconf, .now_ms = dp_clock_ms(),
	});
	if (worker == NULL)
		rte_exit(2, "test_miss_rcu: dp_worker_build: %s\n", strerror(errno));
	/* No cache writer: nothing is cached, so every restart resolves again (the cache still
	 * frees the writer built for it). */
	worker->cache_w = NULL;
	rte_eal_remote_launch(dp_loop_run, worker, worker->lcore_id);
}

int
main(void)
{
	SRunner *sr;
	int failed;

	setup();
	sr = srunner_create(recurse_rcu_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	__atomic_store_n(&ctx.stop, true, __ATOMIC_RELAXED);
	__atomic_store_n(&ctx.pause, false, __ATOMIC_SEQ_CST);
	rte_eal_mp_wait_lcore();
	dp_worker_free(worker);
	dp_worker_ctx_free(&ctx);
	free(__atomic_exchange_n(&ctx.hints, NULL, __ATOMIC_ACQ_REL));
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
