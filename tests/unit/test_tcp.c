/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's side of DNS over TCP (dataplane/dp_tcp.h) through two net_ring ports: one plays
 * the DPDK port (clients send frames into its RX ring, the test reads its TX ring), the other
 * plays the net_tun port (its TX ring is what the kernel would receive, its RX ring what the
 * kernel would send). The test also plays the TCP thread: it puts messages on the worker's ring
 * and reads what comes back. The worker's code runs inline on the main lcore (dp_rx_burst_handle
 * and dp_loop_tcp), so every step is deterministic.
 */
#include <check.h>
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
#include <rte_tcp.h>

#include <pollux/wire.h>

#include "dp_cache.h"
#include "dp_clock.h"
#include "dp_lcore.h"
#include "dp_worker.h"
#include "dp_tcp.h"
#include "testlib.h"
#include "testlib_pkt.h"

#define BIG_COUNT 40 /* A records in big.example.test: 640 bytes of answer, over 512 */

static struct rte_mempool *pool, *msg_pool;
static struct rte_ring *rx_ring, *tx_ring, *tun_rx_ring, *tun_tx_ring;
static struct dp_ctx ctx;
static struct dp_lcore *worker;
static struct dp_tcp_lcore *tcp;
static struct dp_tcp_ports up_ports;
static unsigned pool_base, msg_base;
static const struct px_test_hosts *H = &px_test_hosts;

static void
cache_put(const char *name, const uint8_t *rr, uint16_t rr_len, uint16_t an_count,
	  const uint16_t *ttl_off)
{
	struct dp_cache_key k = {.qtype = PX_DNS_TYPE_A, .qclass = 1, .kind = DP_CACHE_RRSET};
	struct dp_cache_answer a = {
		.flags = DP_CACHE_F_PINNED, .ttl = 300, .an_count = an_count, .rr = rr,
		.rr_len = rr_len, .ttl_off = ttl_off, .ttl_off_count = an_count,
	};

	k.name_len = (uint8_t)px_test_name(k.name, name);
	struct dp_cache_entry *e = dp_cache_entry_new(ctx.cache, &k, &a, 0);

	if (e == NULL || dp_cache_insert(ctx.cache, e) != 0)
		rte_exit(2, "test_tcp: cannot fill the cache\n");
}

static void
cache_fill(void)
{
	static const uint8_t a_rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 198, 51, 100, 10};
	static uint8_t big[BIG_COUNT * sizeof(a_rr)];
	static uint16_t offs[BIG_COUNT];
	uint16_t off6 = 6;

	cache_put("www.example.test", a_rr, sizeof(a_rr), 1, &off6);
	for (unsigned i = 0; i < BIG_COUNT; i++) {
		memcpy(big + i * sizeof(a_rr), a_rr, sizeof(a_rr));
		big[i * sizeof(a_rr) + 15] = (uint8_t)i;
		offs[i] = (uint16_t)(i * sizeof(a_rr) + 6);
	}
	cache_put("big.example.test", big, sizeof(big), BIG_COUNT, offs);
}

static uint64_t
stat(size_t off)
{
	return *(uint64_t *)((uint8_t *)&worker->stats + off);
}
#define STAT(name) stat(offsetof(struct px_stats, name))

/* The test as the TCP thread: a client query for connection conn/gen. */
static void
thread_send_query(const uint8_t *msg, uint16_t len, uint32_t conn, uint32_t gen)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(msg_pool);
	struct dp_tcp_meta *mt;

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, len), msg, len);
	mt = dp_tcp_meta(m);
	memset(mt, 0, sizeof(*mt));
	mt->kind = DP_TCP_MSG_QUERY;
	mt->conn = conn;
	mt->conn_gen = gen;
	ck_assert_int_eq(rte_ring_enqueue(tcp->in, m), 0);
}

static struct rte_mbuf *
thread_recv(void)
{
	struct rte_mbuf *m = NULL;

	if (rte_ring_dequeue(tcp->out, (void **)&m) != 0)
		return NULL;
	return m;
}

static void
worker_iteration(void)
{
	worker->now_ms = dp_clock_ms();
	dp_loop_tcp(worker);
}

/* Delivers one frame to the worker as the port's RX would, runs one loop iteration. */
static void
port_rx(const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *rx[1], *tx[1];
	uint16_t ntx;

	rx[0] = rte_pktmbuf_alloc(pool);
	ck_assert_ptr_nonnull(rx[0]);
	memcpy(rte_pktmbuf_append(rx[0], len), frame, len);
	worker->now_ms = dp_clock_ms();
	ntx = dp_rx_burst_handle(worker, rx, 1, tx);
	ck_assert_uint_eq(ntx, 0); /* nothing a TCP segment makes goes straight back */
	worker_iteration();
}

/* An Ethernet + IPv4 or IPv6 + TCP frame from the client to pollux, sport -> dport, whose
 * TCP part is tcp_len bytes (a header of 20 bytes when it fits). */
static uint16_t
frame_tcp_ports(uint8_t *buf, int family, const uint8_t *src_mac, uint16_t sport,
		uint16_t dport, uint16_t tcp_len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	struct rte_tcp_hdr *th;
	uint8_t full[sizeof(*th)];
	uint16_t l3;

	memcpy(eth->dst_addr.addr_bytes, H->server_mac, 6);
	memcpy(eth->src_addr.addr_bytes, src_mac, 6);
	if (family == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + tcp_len));
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_TCP;
		ip->src_addr = H->client_ip4;
		ip->dst_addr = H->server_ip4;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th = (struct rte_tcp_hdr *)(ip + 1);
		l3 = sizeof(*ip);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);

		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
		memset(ip, 0, sizeof(*ip));
		ip->vtc_flow = RTE_BE32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(tcp_len);
		ip->proto = IPPROTO_TCP;
		ip->hop_limits = 64;
		memcpy(ip->src_addr, H->client_ip6, 16);
		memcpy(ip->dst_addr, H->server_ip6, 16);
		th = (struct rte_tcp_hdr *)(ip + 1);
		l3 = sizeof(*ip);
	}
	memset(full, 0, sizeof(full));
	((struct rte_tcp_hdr *)full)->src_port = rte_cpu_to_be_16(sport);
	((struct rte_tcp_hdr *)full)->dst_port = rte_cpu_to_be_16(dport);
	((struct rte_tcp_hdr *)full)->data_off = 5 << 4;
	((struct rte_tcp_hdr *)full)->tcp_flags = RTE_TCP_SYN_FLAG;
	memset(th, 0, tcp_len);
	memcpy(th, full, RTE_MIN(tcp_len, (uint16_t)sizeof(full)));
	return (uint16_t)(sizeof(*eth) + l3 + tcp_len);
}

/* A SYN from the client's port 40000 to pollux's port 53. */
static uint16_t
frame_tcp(uint8_t *buf, int family, const uint8_t *src_mac)
{
	return frame_tcp_ports(buf, family, src_mac, 40000, 53, sizeof(struct rte_tcp_hdr));
}

/* An IP packet as the kernel writes it to the tun: TCP (or proto) from src to dst. */
static struct rte_mbuf *
kernel_pkt4(uint32_t src, uint32_t dst, uint8_t proto)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t buf[sizeof(struct rte_ipv4_hdr) + 20] = {0};
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;

	ck_assert_ptr_nonnull(m);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = RTE_BE16(sizeof(*ip) + 20);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = src;
	ip->dst_addr = dst;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	memcpy(rte_pktmbuf_append(m, sizeof(buf)), buf, sizeof(buf));
	return m;
}

static struct rte_mbuf *
kernel_pkt6(const uint8_t *src, const uint8_t *dst)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t buf[sizeof(struct rte_ipv6_hdr) + 20] = {0};
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)buf;

	ck_assert_ptr_nonnull(m);
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = RTE_BE16(20);
	ip->proto = IPPROTO_TCP;
	ip->hop_limits = 64;
	memcpy(ip->src_addr, src, 16);
	memcpy(ip->dst_addr, dst, 16);
	memcpy(rte_pktmbuf_append(m, sizeof(buf)), buf, sizeof(buf));
	return m;
}

static void
drain(struct rte_ring *r)
{
	void *m;

	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

START_TEST(test_tcp_query_hit_answered_on_ring)
{
	uint8_t q[512];
	const struct px_test_query tq = {.id = 0x1234, .flags = PX_DNS_RD,
					 .name = "www.example.test", .qtype = PX_DNS_TYPE_A,
					 .qclass = 1};
	uint16_t len = px_test_query(q, &tq);
	uint64_t hits = STAT(hits), answers = STAT(tcp_answers);
	struct rte_mbuf *m;
	const uint8_t *a;

	thread_send_query(q, len, 7, 3);
	worker_iteration();
	m = thread_recv();
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(dp_tcp_meta(m)->kind, DP_TCP_MSG_ANSWER);
	ck_assert_uint_eq(dp_tcp_meta(m)->conn, 7);
	ck_assert_uint_eq(dp_tcp_meta(m)->conn_gen, 3);
	a = rte_pktmbuf_mtod(m, const uint8_t *);
	ck_assert_uint_eq(m->data_len, len + 16);
	ck_assert_uint_eq(px_get16(a), 0x1234);
	ck_assert(px_get16(a + 2) & PX_DNS_QR);
	ck_assert_uint_eq(px_get16(a + 2) & PX_DNS_RCODE_MASK, PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(px_get16(a + 6), 1);
	ck_assert_uint_eq(STAT(hits), hits + 1);
	ck_assert_uint_eq(STAT(tcp_answers), answers + 1);
	rte_pktmbuf_free(m);
	ck_assert_ptr_null(thread_recv());
}
END_TEST

/* 640 bytes of answer: over UDP without EDNS that is TC; over TCP it is the whole answer. */
START_TEST(test_tcp_query_no_truncation)
{
	uint8_t q[512];
	const struct px_test_query tq = {.id = 9, .name = "big.example.test",
					 .qtype = PX_DNS_TYPE_A, .qclass = 1};
	uint16_t len = px_test_query(q, &tq);
	uint64_t tc = STAT(resp_truncated);
	struct rte_mbuf *m;
	const uint8_t *a;

	thread_send_query(q, len, 1, 1);
	worker_iteration();
	m = thread_recv();
	ck_assert_ptr_nonnull(m);
	a = rte_pktmbuf_mtod(m, const uint8_t *);
	ck_assert(!(px_get16(a + 2) & PX_DNS_TC));
	ck_assert_uint_eq(px_get16(a + 6), BIG_COUNT);
	ck_assert_uint_eq(m->data_len, len + BIG_COUNT * 16);
	ck_assert_uint_eq(STAT(resp_truncated), tc);
	rte_pktmbuf_free(m);
}
END_TEST

/* Whatever the worker makes of a query, the thread hears back exactly once: an empty answer
 * when there is nothing to send (so its in-flight count stays right), FORMERR, SERVFAIL. */
START_TEST(test_tcp_query_every_outcome_answered)
{
	uint8_t q[512];
	struct px_test_query tq = {.id = 5, .name = "www.example.test", .qtype = PX_DNS_TYPE_A,
				   .qclass = 1};
	uint16_t len = px_test_query(q, &tq);
	uint64_t resp = STAT(drop_dns_response), formerr = STAT(resp_formerr);
	uint64_t servfail = STAT(resp_servfail);
	struct rte_mbuf *m;

	q[2] |= 0x80; /* QR: a response, never answered */
	thread_send_query(q, len, 2, 1);
	q[2] &= 0x7f;
	px_put16(q + 4, 2); /* qdcount 2: FORMERR */
	thread_send_query(q, len, 2, 1);
	px_put16(q + 4, 1);
	tq.name = "nowhere.invalid"; /* a miss, and no resolver: SERVFAIL */
	len = px_test_query(q, &tq);
	thread_send_query(q, len, 2, 1);
	thread_send_query(q, 5, 2, 1); /* shorter than a header: empty */
	worker_iteration();

	m = thread_recv();
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->data_len, 0);
	rte_pktmbuf_free(m);
	m = thread_recv();
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(px_get16(rte_pktmbuf_mtod(m, uint8_t *) + 2) & PX_DNS_RCODE_MASK,
			  PX_DNS_RCODE_FORMERR);
	rte_pktmbuf_free(m);
	m = thread_recv();
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(px_get16(rte_pktmbuf_mtod(m, uint8_t *) + 2) & PX_DNS_RCODE_MASK,
			  PX_DNS_RCODE_SERVFAIL);
	rte_pktmbuf_free(m);
	m = thread_recv();
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->data_len, 0);
	rte_pktmbuf_free(m);
	ck_assert_ptr_null(thread_recv());
	ck_assert_uint_eq(STAT(drop_dns_response), resp + 1);
	ck_assert_uint_eq(STAT(resp_formerr), formerr + 1);
	ck_assert_uint_eq(STAT(resp_servfail), servfail + 1);
}
END_TEST

START_TEST(test_tcp_ring_full_counted)
{
	uint8_t q[512];
	const struct px_test_query tq = {.id = 5, .name = "www.example.test",
					 .qtype = PX_DNS_TYPE_A, .qclass = 1};
	uint16_t len = px_test_query(q, &tq);
	uint64_t full = STAT(tcp_ring_full);
	unsigned n = 0;

	/* Fill the ring back with answers nobody reads, then one more. */
	while (rte_ring_free_count(tcp->out) > 0) {
		thread_send_query(q, len, 3, 1);
		worker_iteration();
		n++;
		ck_assert_uint_lt(n, 100000);
	}
	thread_send_query(q, len, 3, 1);
	worker_iteration();
	ck_assert_uint_eq(STAT(tcp_ring_full), full + 1);
	drain(tcp->out);
}
END_TEST

START_TEST(test_tcp_segment_to_kernel)
{
	uint8_t f[256];
	static const uint8_t router_mac[6] = {0x02, 0, 0, 0, 0, 0x77};
	uint64_t in = STAT(tcp_to_kernel);
	struct rte_ether_addr mac;
	struct rte_mbuf *m = NULL;
	struct px_addr peer;
	const uint8_t *p;

	port_rx(f, frame_tcp(f, 4, H->client_mac));
	ck_assert_uint_eq(STAT(tcp_to_kernel), in + 1);
	ck_assert_int_eq(rte_ring_dequeue(tun_tx_ring, (void **)&m), 0);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	/* The Ethernet header is gone: the tun takes the IP packet itself. */
	ck_assert_uint_eq(p[0], 0x45);
	ck_assert_uint_eq(m->data_len, 40);
	rte_pktmbuf_free(m);
	px_addr_set4(&peer, H->client_ip4, 0);
	ck_assert(dp_tcp_neigh_lookup(tcp, &peer, &mac));
	ck_assert_mem_eq(mac.addr_bytes, H->client_mac, 6);

	/* The same client seen behind a router: the newest MAC wins. */
	port_rx(f, frame_tcp(f, 6, router_mac));
	ck_assert_int_eq(rte_ring_dequeue(tun_tx_ring, (void **)&m), 0);
	ck_assert_uint_eq(rte_pktmbuf_mtod(m, const uint8_t *)[0] >> 4, 6);
	ck_assert_uint_eq(m->data_len, 60);
	rte_pktmbuf_free(m);
	px_addr_set6(&peer, H->client_ip6, 0);
	ck_assert(dp_tcp_neigh_lookup(tcp, &peer, &mac));
	ck_assert_mem_eq(mac.addr_bytes, router_mac, 6);
	ck_assert_uint_eq(STAT(tcp_to_kernel), in + 2);
}
END_TEST

START_TEST(test_tcp_kernel_to_port)
{
	uint8_t f[256];
	struct rte_mbuf *m = NULL;
	const struct rte_ether_hdr *eth;
	uint64_t out = STAT(tcp_from_kernel);

	/* The client's SYN teaches its MAC; the kernel's SYN-ACK goes back to it. */
	port_rx(f, frame_tcp(f, 4, H->client_mac));
	drain(tun_tx_ring);
	m = kernel_pkt4(H->server_ip4, H->client_ip4, IPPROTO_TCP);
	ck_assert_int_eq(rte_ring_enqueue(tun_rx_ring, m), 0);
	worker_iteration();
	ck_assert_uint_eq(STAT(tcp_from_kernel), out + 1);
	ck_assert_int_eq(rte_ring_dequeue(tx_ring, (void **)&m), 0);
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	ck_assert_mem_eq(eth->dst_addr.addr_bytes, H->client_mac, 6);
	ck_assert_mem_eq(eth->src_addr.addr_bytes, H->server_mac, 6);
	ck_assert_uint_eq(eth->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV4));
	ck_assert_uint_eq(m->data_len, 14 + 40);
	rte_pktmbuf_free(m);

	port_rx(f, frame_tcp(f, 6, H->client_mac));
	drain(tun_tx_ring);
	ck_assert_int_eq(rte_ring_enqueue(tun_rx_ring, kernel_pkt6(H->server_ip6, H->client_ip6)), 0);
	worker_iteration();
	ck_assert_int_eq(rte_ring_dequeue(tx_ring, (void **)&m), 0);
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	ck_assert_mem_eq(eth->dst_addr.addr_bytes, H->client_mac, 6);
	ck_assert_uint_eq(eth->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV6));
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(STAT(tcp_from_kernel), out + 2);
}
END_TEST

/* Only TCP from our own address leaves, and only to a peer whose MAC is known. */
START_TEST(test_tcp_kernel_packets_screened)
{
	uint64_t bad = STAT(tcp_from_kernel_bad), noneigh = STAT(tcp_from_kernel_no_neigh);
	static const uint8_t mld_src[16] = {0xfe, 0x80, [15] = 1};
	static const uint8_t all_routers[16] = {0xff, 0x02, [15] = 2};

	rte_ring_enqueue(tun_rx_ring, kernel_pkt4(H->server_ip4, H->client_ip4, IPPROTO_UDP));
	rte_ring_enqueue(tun_rx_ring, kernel_pkt4(RTE_BE32(0xc6120063), H->client_ip4,
						  IPPROTO_TCP));
	rte_ring_enqueue(tun_rx_ring, kernel_pkt6(mld_src, all_routers));
	/* 203.0.113.9: nobody we heard from, and no gateway MAC (no resolver here). */
	rte_ring_enqueue(tun_rx_ring, kernel_pkt4(H->server_ip4, RTE_BE32(0xcb007109),
						  IPPROTO_TCP));
	worker_iteration();
	ck_assert_uint_eq(STAT(tcp_from_kernel_bad), bad + 3);
	ck_assert_uint_eq(STAT(tcp_from_kernel_no_neigh), noneigh + 1);
	ck_assert_uint_eq(rte_ring_count(tx_ring), 0);
}
END_TEST

START_TEST(test_tcp_off_drops_segments)
{
	uint8_t f[256];
	struct dp_tcp_lcore *saved = worker->tcp;
	struct rte_mbuf *rx[1], *tx[1];
	uint64_t l4 = STAT(drop_l4_proto);

	uint16_t len = frame_tcp(f, 4, H->client_mac);

	worker->tcp = NULL;
	rx[0] = rte_pktmbuf_alloc(pool);
	ck_assert_ptr_nonnull(rx[0]);
	memcpy(rte_pktmbuf_append(rx[0], len), f, len);
	ck_assert_uint_eq(dp_rx_burst_handle(worker, rx, 1, tx), 0);
	worker->tcp = saved;
	ck_assert_uint_eq(STAT(drop_l4_proto), l4 + 1);
	ck_assert_uint_eq(rte_ring_count(tun_tx_ring), 0);
}
END_TEST

/* Feeds one frame and says whether it reached the kernel's side (the tun's TX ring). */
static bool
reaches_kernel(const uint8_t *f, uint16_t len)
{
	struct rte_mbuf *m = NULL;

	port_rx(f, len);
	if (rte_ring_dequeue(tun_tx_ring, (void **)&m) != 0)
		return false;
	rte_pktmbuf_free(m);
	return true;
}

/* Only DNS reaches the kernel: to port 53, or from port 53 to a port the TCP thread holds for
 * an upstream connection. Each refusal is counted by its reason. */
START_TEST(test_tcp_port_filter)
{
	uint8_t f[256];
	uint64_t port = STAT(drop_tcp_port), hdr = STAT(drop_tcp_hdr), dst = STAT(drop_ip_dst);
	uint64_t in = STAT(tcp_to_kernel);
	uint8_t *tcp_hdr = f + sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr);
	uint16_t len;

	for (int fam = 4; fam <= 6; fam += 2) {
		ck_assert(reaches_kernel(f, frame_tcp_ports(f, fam, H->client_mac, 40000, 53, 20)));
		/* A web server beside pollux, on any other port. */
		ck_assert(!reaches_kernel(f, frame_tcp_ports(f, fam, H->client_mac, 40000, 8080, 20)));
		ck_assert(!reaches_kernel(f, frame_tcp_ports(f, fam, H->client_mac, 40000, 22, 20)));
		/* From port 53, to a port no upstream connection holds. */
		ck_assert(!reaches_kernel(f, frame_tcp_ports(f, fam, H->client_mac, 53, 41000, 20)));
		/* The same once the thread holds 41000 for a connection it opened... */
		dp_tcp_port_mark(&up_ports, 41000, true);
		ck_assert(reaches_kernel(f, frame_tcp_ports(f, fam, H->client_mac, 53, 41000, 20)));
		/* ...but only from port 53. */
		ck_assert(!reaches_kernel(f, frame_tcp_ports(f, fam, H->client_mac, 5353, 41000, 20)));
		dp_tcp_port_mark(&up_ports, 41000, false);
		ck_assert(!reaches_kernel(f, frame_tcp_ports(f, fam, H->client_mac, 53, 41000, 20)));
	}
	ck_assert_uint_eq(STAT(tcp_to_kernel), in + 4);
	ck_assert_uint_eq(STAT(drop_tcp_port), port + 10);

	/* Runts: 19 bytes of TCP, and a data offset under 5 words or past the segment. */
	ck_assert(!reaches_kernel(f, frame_tcp_ports(f, 4, H->client_mac, 40000, 53, 19)));
	ck_assert(!reaches_kernel(f, frame_tcp_ports(f, 6, H->client_mac, 40000, 53, 4)));
	ck_assert(!reaches_kernel(f, frame_tcp_ports(f, 4, H->client_mac, 40000, 53, 0)));
	len = frame_tcp_ports(f, 4, H->client_mac, 40000, 53, 20);
	((struct rte_tcp_hdr *)tcp_hdr)->data_off = 4 << 4;
	ck_assert(!reaches_kernel(f, len));
	len = frame_tcp_ports(f, 4, H->client_mac, 40000, 53, 24);
	((struct rte_tcp_hdr *)tcp_hdr)->data_off = 7 << 4;
	ck_assert(!reaches_kernel(f, len));
	ck_assert_uint_eq(STAT(drop_tcp_hdr), hdr + 5);
	/* A data offset that fits, with options, is fine. */
	len = frame_tcp_ports(f, 4, H->client_mac, 40000, 53, 24);
	((struct rte_tcp_hdr *)tcp_hdr)->data_off = 6 << 4;
	ck_assert(reaches_kernel(f, len));

	/* IPv6 TCP to the link-local address (which dp_rx.c lets in for ND): not the kernel's. */
	len = frame_tcp_ports(f, 6, H->client_mac, 40000, 53, 20);
	memcpy(((struct rte_ipv6_hdr *)(f + sizeof(struct rte_ether_hdr)))->dst_addr,
	       ctx.port.ip6_ll, 16);
	ck_assert(!reaches_kernel(f, len));
	ck_assert_uint_eq(STAT(drop_ip_dst), dst + 1);
	ck_assert_uint_eq(rte_ring_count(tun_tx_ring), 0);
}
END_TEST

/* Runs last: every mbuf of both pools came back. */
START_TEST(test_tcp_mbufs_back)
{
	drain(tx_ring);
	drain(tun_tx_ring);
	drain(tcp->out);
	ck_assert_uint_eq(rte_mempool_in_use_count(pool), pool_base);
	ck_assert_uint_eq(rte_mempool_in_use_count(msg_pool), msg_base);
}
END_TEST

static Suite *
tcp_suite(void)
{
	Suite *s = suite_create("tcp");
	TCase *tc = tcase_create("queries");

	tcase_add_test(tc, test_tcp_query_hit_answered_on_ring);
	tcase_add_test(tc, test_tcp_query_no_truncation);
	tcase_add_test(tc, test_tcp_query_every_outcome_answered);
	tcase_add_test(tc, test_tcp_ring_full_counted);
	suite_add_tcase(s, tc);
	tc = tcase_create("exception_path");
	tcase_add_test(tc, test_tcp_segment_to_kernel);
	tcase_add_test(tc, test_tcp_kernel_to_port);
	tcase_add_test(tc, test_tcp_kernel_packets_screened);
	tcase_add_test(tc, test_tcp_off_drops_segments);
	tcase_add_test(tc, test_tcp_port_filter);
	suite_add_tcase(s, tc);
	tc = tcase_create("accounting");
	tcase_add_test(tc, test_tcp_mbufs_back);
	suite_add_tcase(s, tc);
	return s;
}

static void
setup(void)
{
	int port, tun;

	px_test_eal_init("test_tcp", "0", NULL);
	dp_clock_init();
	pool = rte_pktmbuf_pool_create("test_tcp_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	msg_pool = rte_pktmbuf_pool_create("test_tcp_msgs", 2047, 0, (uint16_t)DP_TCP_META_SIZE,
					   RTE_PKTMBUF_HEADROOM + DP_TCP_MSG_ROOM, 0);
	if (pool == NULL || msg_pool == NULL)
		rte_exit(2, "test_tcp: cannot create pools\n");
	port = px_test_ring_port("net_ring_tcp_port", pool, &rx_ring, &tx_ring);
	tun = px_test_ring_port("net_ring_tcp_tun", pool, &tun_rx_ring, &tun_tx_ring);

	ctx.port.port_id = (uint16_t)port;
	memcpy(ctx.port.mac.addr_bytes, H->server_mac, 6);
	ctx.port.has_ip4 = true;
	ctx.port.ip4 = H->server_ip4;
	ctx.port.has_ip6 = true;
	memcpy(ctx.port.ip6, H->server_ip6, 16);
	dp_port_conf_derive(&ctx.port);
	const struct dp_worker_ctx_conf cc = {.name = "test_tcp", .cache_size = 1024};

	if (dp_worker_ctx_build(&ctx, &cc) != 0)
		rte_exit(2, "test_tcp: cannot create the cache\n");
	cache_fill();

	tcp = rte_zmalloc(NULL, sizeof(*tcp), RTE_CACHE_LINE_SIZE);
	tcp->tun_port = (uint16_t)tun;
	tcp->tun_queue = 0;
	tcp->msg_pool = msg_pool;
	tcp->up_ports = &up_ports;
	tcp->in = rte_ring_create("tcp_in", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	tcp->out = rte_ring_create("tcp_out", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (tcp->in == NULL || tcp->out == NULL)
		rte_exit(2, "test_tcp: cannot create the worker's TCP side\n");
	/* The daemon's worker (dp_worker.h), stepped by the test on its own lcore. */
	const struct dp_worker_conf wc = {
		.ctx = &ctx, .lcore_id = rte_lcore_id(), .pool = pool, .now_ms = dp_clock_ms(),
		.tcp = tcp,
	};

	worker = dp_worker_build(&wc);
	if (worker == NULL)
		rte_exit(2, "test_tcp: cannot build the worker\n");
	pool_base = rte_mempool_in_use_count(pool);
	msg_base = rte_mempool_in_use_count(msg_pool);
}

int
main(void)
{
	SRunner *sr;
	int failed;

	setup();
	sr = srunner_create(tcp_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	dp_worker_free(worker);
	rte_free(tcp);
	dp_worker_ctx_free(&ctx);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
