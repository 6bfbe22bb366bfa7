/* SPDX-License-Identifier: BSD-3-Clause */
/* The miss-path rig (testlib_miss.h): building and stepping the worker, reading what it sends,
 * and playing the gateway, the control thread and the TCP thread. */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <pollux/resolver.h>
#include <pollux/upstream.h>

#include "dp_cache.h"
#include "dp_clock.h"
#include "dp_miss.h"
#include "dp_tx.h"
#include "dp_worker.h"
#include "testlib_miss.h"

const struct px_test_hosts tm_hosts = {
	.client_mac = {0x02, 0, 0, 0, 0, 0x01},
	.server_mac = {0x02, 0, 0, 0, 0, 0x02},
	.client_ip4 = RTE_BE32(0xc612000a), /* 198.18.0.10 */
	.server_ip4 = RTE_BE32(0xc6120002), /* 198.18.0.2 */
};
const uint8_t tm_gw_mac[6] = {0x02, 0, 0, 0, 0, 0xfe};
const uint8_t tm_onlink_mac[6] = {0x02, 0, 0, 0, 0, 0x53};
const uint8_t tm_root_name[1] = {0};

/* Where each rig's clock starts. */
#define TM_START_MS 1000000

struct tm_rig tm;
struct rte_mempool *tm_pool, *tm_msg_pool;
struct rte_ring *tm_rx_ring, *tm_tx_ring, *tm_tun_tx_ring;
static struct rte_ring *tun_rx_ring;
static uint16_t port_id, tun_port_id;

/* The hints file of a one-server root: a.root.test at ROOT_IP4. */
static struct px_hints *
hints_one_root(void)
{
	struct px_hints *h = rte_zmalloc(NULL, px_hints_size(1), RTE_CACHE_LINE_SIZE);

	ck_assert_ptr_nonnull(h);
	h->generation = 1;
	h->ns_count = 1;
	h->ttl = 518400;
	h->ns[0].name_len = (uint8_t)px_test_name(h->ns[0].name, "a.root.test");
	h->ns[0].v4_count = 1;
	px_addr_set4(&h->ns[0].addr[0], ROOT_IP4, 0);
	h->checksum = px_hints_checksum(h);
	return h;
}

/* The resolution settings as control/ctl_settings.c makes them for --ip 198.18.0.2/24
 * --gateway 198.18.0.1, IPv4 only, with TM_SLOTS slots. */
static void
miss_conf(struct dp_miss_conf *rc, const struct tm_conf *c)
{
	memset(rc, 0, sizeof(*rc));
	rc->has_gw4 = !c->no_gateway;
	rc->gw4 = c->no_gateway ? 0 : GW_IP4;
	rc->slots = TM_SLOTS;
	px_resolver_config_default(&rc->resolve);
	rc->resolve.qname_min = true;
	rc->resolve.use_ipv4 = true;
	rc->resolve.use_ipv6 = false;
	rc->policy = &tm.policy;
	rc->prime = c->prime;
	rc->prime_min_servers = tm.cfg.min_root_servers;
	/* The health probe's default question, ". NS". */
	rc->probe = c->probe;
	rc->probe_qname_len = 1;
	rc->probe_qtype = PX_DNS_TYPE_NS;
	/* The fair share as the daemon sets it by default; a crowd from one client address has
	 * none (test_miss_share.c has it). */
	rc->per_client = c->crowd ? 0 : TM_SLOTS / 8;
	rc->client_prefix6 = 56;
	rc->jostle_ms = c->crowd ? 0 : 200;
	/* Every server gets at least a never-measured one's RTO, so that a server answering in
	 * the same millisecond it was asked is not timed out 50 ms later by a case that moves
	 * the clock: the deadlines the cases expect are PX_UPQ_RTT_UNKNOWN_MS. */
	rc->rto_min_ms = PX_UPQ_RTT_UNKNOWN_MS;
	if (c->miss != NULL)
		c->miss(rc);
}

void
tm_build(const struct tm_conf *c)
{
	const struct dp_worker_ctx_conf cc = {
		.name = "tm", .cache_size = 1024, .resolvers = c->two_workers ? 2 : 1,
		.handoff_size = 64, .prime = c->prime,
	};
	struct dp_miss_conf rc;
	char rn[RTE_RING_NAMESIZE];

	memset(&tm, 0, sizeof(tm));
	tm.last_ede = -1;
	/* Any start will do; the daemon's clock is far from 0 too. */
	tm.now = TM_START_MS;
	ctl_config_init(&tm.cfg);
	px_addr_policy_init(&tm.policy);
	/* As control/main.c does for --ip 198.18.0.2/24. */
	px_addr_policy_set_self4(&tm.policy, tm_hosts.server_ip4, 24);
	tm.ctx.port.port_id = port_id;
	memcpy(tm.ctx.port.mac.addr_bytes, tm_hosts.server_mac, 6);
	tm.ctx.port.has_ip4 = true;
	tm.ctx.port.ip4 = tm_hosts.server_ip4;
	tm.ctx.port.ip4_prefix = 24;
	dp_port_conf_derive(&tm.ctx.port);
	ck_assert_int_eq(dp_worker_ctx_build(&tm.ctx, &cc), 0);
	tm.hints = hints_one_root();
	tm.ctx.hints = tm.hints;
	ctl_prime_init(&tm.prime, &tm.cfg, &tm.ctx);

	/* The TCP side as ctl_tcp_create() gives worker 0: the tun port and the rings. */
	tm.tcp.tun_port = tun_port_id;
	tm.tcp.msg_pool = tm_msg_pool;
	snprintf(rn, sizeof(rn), "tm_tcp_in");
	tm.tcp.in = rte_ring_create(rn, 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(rn, sizeof(rn), "tm_tcp_out");
	tm.tcp.out = rte_ring_create(rn, 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	ck_assert(tm.tcp.in != NULL && tm.tcp.out != NULL);

	miss_conf(&rc, c);
	struct dp_worker_conf wc = {
		.ctx = &tm.ctx, .lcore_id = rte_get_main_lcore(), .index = 0, .pool = tm_pool,
		.miss = &rc, .now_ms = tm.now, .tcp = &tm.tcp,
	};

	tm.w = dp_worker_build(&wc);
	ck_assert_msg(tm.w != NULL, "dp_worker_build: %s", strerror(errno));
	if (c->no_cache)
		tm.w->cache_w = NULL; /* the cache still frees the writer built for it */
	if (c->two_workers) {
		rc.prime = false;
		rc.probe = false;
		wc.index = 1;
		wc.tcp = NULL;
		tm.other = dp_worker_build(&wc);
		ck_assert_msg(tm.other != NULL, "dp_worker_build: %s", strerror(errno));
	}
	tm.mbuf_baseline = rte_mempool_in_use_count(tm_pool);
	tm.msg_baseline = rte_mempool_in_use_count(tm_msg_pool);
}

void
tm_setup_plain(void)
{
	tm_build(&(struct tm_conf){.prime = true});
	tm_ready();
}

void
tm_setup_pair(void)
{
	tm_build(&(struct tm_conf){.prime = true, .two_workers = true});
	tm_ready();
}

void
tm_setup_primer(void)
{
	tm_build(&(struct tm_conf){.prime = true, .probe = true});
}

void
tm_setup_crowd(void)
{
	tm_build(&(struct tm_conf){.crowd = true});
	tm_gateway();
}

void
tm_setup_no_gateway(void)
{
	tm_build(&(struct tm_conf){.no_gateway = true});
}

static void
ring_drain(struct rte_ring *r)
{
	struct rte_mbuf *m;

	while (r != NULL && rte_ring_dequeue(r, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

void
tm_teardown(void)
{
	/* A failed case may have left frames on the port and messages on the rings. */
	ring_drain(tm_rx_ring);
	ring_drain(tm_tx_ring);
	ring_drain(tun_rx_ring);
	ring_drain(tm_tun_tx_ring);
	ring_drain(tm.tcp.in);
	ring_drain(tm.tcp.out);
	if (tm.ctx.handoff != NULL)
		for (unsigned i = 0; i < tm.ctx.worker_count; i++)
			ring_drain(tm.ctx.handoff[i]);
	dp_worker_free(tm.w);
	dp_worker_free(tm.other);
	dp_worker_ctx_free(&tm.ctx);
	free(__atomic_exchange_n(&tm.ctx.settings, NULL, __ATOMIC_ACQ_REL));
	rte_ring_free(tm.tcp.in);
	rte_ring_free(tm.tcp.out);
	rte_free(tm.hints);
	ctl_config_free(&tm.cfg);
	memset(&tm, 0, sizeof(tm));
}

void
tm_add_case(Suite *s, const TTest *t, void (*setup)(void))
{
	TCase *tc = tcase_create(t->name);

	tcase_add_checked_fixture(tc, setup, tm_teardown);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

int
tm_run(const char *prog, Suite *s)
{
	SRunner *sr;
	int failed;

	px_test_eal_init(prog, "0", NULL);
	dp_clock_init();
	tm_pool = rte_pktmbuf_pool_create("tm_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	tm_msg_pool = rte_pktmbuf_pool_create("tm_msgs", 255, 0, (uint16_t)DP_TCP_META_SIZE,
					      RTE_PKTMBUF_HEADROOM + DP_TCP_MSG_ROOM, 0);
	if (tm_pool == NULL || tm_msg_pool == NULL)
		rte_exit(2, "%s: cannot create the pools\n", prog);
	port_id = px_test_ring_port("net_ring_tm", tm_pool, &tm_rx_ring, &tm_tx_ring);
	/* The tun port: nothing goes through it in these cases. */
	tun_port_id = px_test_ring_port("net_ring_tm_tun", tm_pool, &tun_rx_ring, &tm_tun_tx_ring);

	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

void
tm_step(uint64_t now)
{
	ck_assert_uint_ge(now, tm.now);
	tm.now = now;
	tm.w->now_ms = now;
	dp_loop_tcp(tm.w);
	dp_miss_tick(tm.w);
	if (tm.w->cache_w != NULL)
		dp_cache_writer_reclaim(tm.w->cache_w);
}

void
tm_rx(const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(tm_pool), *tx[DP_BURST];
	uint16_t n;

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, len), frame, len);
	tm.w->now_ms = tm.now;
	tm.w->stats.rx_pkts++;
	n = dp_rx_burst_handle(tm.w, &m, 1, tx);
	if (n != 0)
		dp_tx_port(tm.w, tx, n);
	tm_step(tm.now);
}

/* Every frame the worker sends passes here: from our MAC, and either an ARP request for the
 * gateway or the on-link server, an answer to the client, or a datagram via the gateway (or
 * to the on-link server) to an address the policy allows. */
static void
audit(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	ck_assert_uint_eq(m->nb_segs, 1);
	ck_assert_uint_ge(m->data_len, 42);
	ck_assert_mem_eq(e->src_addr.addr_bytes, tm_hosts.server_mac, 6);
	if (e->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(e + 1);

		ck_assert_uint_eq(a->arp_opcode, RTE_BE16(RTE_ARP_OP_REQUEST));
		ck_assert(a->arp_data.arp_tip == GW_IP4 || a->arp_data.arp_tip == ONLINK_IP4 ||
			  a->arp_data.arp_tip == NOARP_IP4);
		return;
	}
	ck_assert_uint_eq(e->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV4));
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(e + 1);

	ck_assert_int_eq(px_addr_check4(&tm.policy, ip->dst_addr), PX_ADDR_OK);
	if (ip->dst_addr == tm_hosts.client_ip4)
		ck_assert_mem_eq(e->dst_addr.addr_bytes, tm_hosts.client_mac, 6);
	else if (ip->dst_addr == ONLINK_IP4)
		ck_assert_mem_eq(e->dst_addr.addr_bytes, tm_onlink_mac, 6);
	else
		ck_assert_mem_eq(e->dst_addr.addr_bytes, tm_gw_mac, 6);
}

struct rte_mbuf *
tm_tx_next(void)
{
	struct rte_mbuf *m;

	if (rte_ring_dequeue(tm_tx_ring, (void **)&m) != 0)
		return NULL;
	audit(m);
	return m;
}

void
tm_frame_next(struct tm_frame *f)
{
	tm_frame_parse(tm_tx_next(), f);
}

static bool
is_arp(const struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type ==
	       RTE_BE16(RTE_ETHER_TYPE_ARP);
}

bool
tm_frame(struct tm_frame *f)
{
	struct rte_mbuf *m;

	while ((m = tm_tx_next()) != NULL) {
		if (is_arp(m)) {
			ck_assert_uint_eq(rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *,
								  14)->arp_data.arp_tip, GW_IP4);
			rte_pktmbuf_free(m);
			continue;
		}
		tm_frame_parse(m, f);
		return true;
	}
	return false;
}

bool
tm_sent(struct tm_upq *q)
{
	struct tm_frame f;

	if (!tm_frame(&f))
		return false;
	ck_assert_msg(f.upstream, "an answer to the client port %u", f.dport);
	*q = f.q;
	return true;
}

void
tm_expect_quiet(uint64_t ms)
{
	struct rte_mbuf *m;

	tm_step(tm.now + ms);
	m = tm_tx_next();
	if (m != NULL)
		rte_pktmbuf_free(m);
	ck_assert_ptr_null(m);
}

void
tm_quiet_until(uint64_t to, uint64_t step_ms)
{
	struct tm_upq q;

	while (tm.now + 1 < to) {
		tm_step(RTE_MIN(tm.now + step_ms, to - 1));
		ck_assert_msg(!tm_sent(&q), "%s sent at %" PRIu64 ", before %" PRIu64, q.qname,
			      tm.now, to);
	}
}

uint16_t
tm_arp_reply_frame(uint8_t *f, uint32_t ip, const uint8_t *mac)
{
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)f;
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(e + 1);

	memcpy(e->dst_addr.addr_bytes, tm_hosts.server_mac, 6);
	memcpy(e->src_addr.addr_bytes, mac, 6);
	e->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	memcpy(a->arp_data.arp_sha.addr_bytes, mac, 6);
	a->arp_data.arp_sip = ip;
	memcpy(a->arp_data.arp_tha.addr_bytes, tm_hosts.server_mac, 6);
	a->arp_data.arp_tip = tm_hosts.server_ip4;
	return 60;
}

void
tm_arp_reply_from(uint32_t ip, const uint8_t *mac)
{
	uint8_t f[60] __rte_aligned(8) = {0};

	tm_rx(f, tm_arp_reply_frame(f, ip, mac));
}

void
tm_expect_arp_request(uint32_t tip)
{
	struct rte_mbuf *m = tm_tx_next();

	ck_assert_ptr_nonnull(m);
	const struct rte_ether_hdr *re = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_arp_hdr *ra = (const struct rte_arp_hdr *)(re + 1);

	ck_assert_uint_eq(re->ether_type, RTE_BE16(RTE_ETHER_TYPE_ARP));
	ck_assert(rte_is_broadcast_ether_addr(&re->dst_addr));
	ck_assert_mem_eq(ra->arp_data.arp_sha.addr_bytes, tm_hosts.server_mac, 6);
	ck_assert_uint_eq(ra->arp_data.arp_sip, tm_hosts.server_ip4);
	ck_assert_uint_eq(ra->arp_data.arp_tip, tip);
	rte_pktmbuf_free(m);
}

void
tm_gateway(void)
{
	struct tm_frame f;

	tm_step(tm.now);
	tm_expect_arp_request(GW_IP4);
	ck_assert_ptr_null(tm_tx_next());
	ck_assert_uint_eq(TM_STAT(rec_neigh_probes), 1);
	ck_assert_uint_eq(TM_STAT(rec_prime_sent), 0);
	tm_arp_reply_from(GW_IP4, tm_gw_mac);
	ck_assert_uint_eq(TM_STAT(rec_neigh_learned), 1);
	if (tm.w->miss != NULL && TM_STAT(rec_prime_sent) != 0) {
		ck_assert_msg(tm_sent(&tm.prime_q), "no priming query");
		ck_assert_uint_eq(tm.prime_q.dst, ROOT_IP4);
		ck_assert_str_eq(tm.prime_q.qname, ".");
		ck_assert_uint_eq(tm.prime_q.qtype, PX_DNS_TYPE_NS);
	}
	ck_assert(!tm_frame(&f));
}

void
tm_ready(void)
{
	tm_gateway();
	ck_assert_uint_eq(TM_STAT(rec_prime_sent), 1);
	tm_answer(&tm.prime_q);
	tm_control();
	ck_assert_msg(tm.prime.accepted == 1, "priming not accepted: %s", tm.prime.failure);
	ck_assert(tm.prime.primed);
}

void
tm_control(void)
{
	ctl_prime_tick(&tm.prime);
	dp_cache_reclaim(tm.ctx.cache);
}

struct rte_mbuf *
tm_thread_take(void)
{
	void *m;

	if (rte_ring_dequeue(tm.tcp.out, &m) != 0)
		return NULL;
	return m;
}

void
tm_thread_give(struct rte_mbuf *m, const struct px_test_msg *r)
{
	struct dp_tcp_meta *mt = dp_tcp_meta(m);

	if (r == NULL) {
		mt->kind = DP_TCP_MSG_UP_FAIL;
		m->data_len = 0;
	} else {
		ck_assert_uint_le(r->len, rte_pktmbuf_tailroom(m) + m->data_len);
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), r->buf, r->len);
		mt->kind = DP_TCP_MSG_UP_REPLY;
		m->data_len = r->len;
	}
	m->pkt_len = m->data_len;
	ck_assert_int_eq(rte_ring_enqueue(tm.tcp.in, m), 0);
	tm_step(tm.now);
	ck_assert(rte_ring_empty(tm.tcp.in));
}

struct rte_mbuf *
tm_thread_copy(struct rte_mbuf *m)
{
	struct rte_mbuf *c = rte_pktmbuf_alloc(tm_msg_pool);

	ck_assert_ptr_nonnull(c);
	memcpy(dp_tcp_meta(c), dp_tcp_meta(m), sizeof(struct dp_tcp_meta));
	memcpy(rte_pktmbuf_append(c, m->data_len), rte_pktmbuf_mtod(m, uint8_t *), m->data_len);
	return c;
}

const struct dp_tcp_meta *
tm_check_up_query(struct rte_mbuf *m, const struct tm_upq *q, const char *zone)
{
	const struct dp_tcp_meta *mt = dp_tcp_meta(m);
	uint8_t w[PX_DNS_NAME_BUF];
	unsigned wl;
	struct tm_upq tq;

	ck_assert_uint_eq(mt->kind, DP_TCP_MSG_UP_QUERY);
	ck_assert_uint_eq(mt->peer.family, PX_AF_INET);
	ck_assert_uint_eq(mt->worker, 0);
	ck_assert_mem_eq(mt->peer.a, &q->dst, 4);
	ck_assert_uint_eq(mt->timeout_ms, DP_TCP_UP_TIMEOUT_MS);
	ck_assert_uint_ne(mt->res, 0);
	ck_assert_uint_lt(mt->send_idx, TM_SLOTS);
	ck_assert_uint_eq(mt->qtype, q->qtype);
	ck_assert_uint_eq(mt->qclass, PX_DNS_CLASS_IN);
	wl = px_test_name(w, q->qname);
	for (unsigned i = 0; i < wl; i++)
		w[i] = (uint8_t)tolower(w[i]);
	ck_assert_uint_eq(mt->qname_len, wl);
	ck_assert_mem_eq(mt->qname, w, wl);
	wl = px_test_name(w, zone);
	ck_assert_uint_eq(mt->zone_len, wl);
	ck_assert_mem_eq(mt->zone, w, wl);
	ck_assert_uint_eq(m->nb_segs, 1);
	tm_parse_upq_dns(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &tq);
	ck_assert_uint_eq(tq.id, q->id);
	ck_assert_uint_eq(tq.qtype, q->qtype);
	/* Over TCP the name goes in lower case: 0x20 guards UDP only. */
	ck_assert_int_eq(strcasecmp(tq.qname, q->qname), 0);
	for (const char *c = tq.qname; *c != '\0'; c++)
		ck_assert(!(*c >= 'A' && *c <= 'Z'));
	return mt;
}
