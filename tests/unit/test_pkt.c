/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet path end to end through a net_ring ethdev: a worker lcore runs the real loop
 * (dp_loop_run) on the port while the test, on the main lcore, plays the client: it enqueues
 * frames on the port's RX ring and reads what the worker sends on its TX ring.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <pollux/wire.h>

#include "dp_cache.h"
#include "dp_cksum.h"
#include "dp_clock.h"
#include "dp_lcore.h"
#include "dp_worker.h"
#include "testlib.h"
#include "testlib_pkt.h"

static struct rte_mempool *pool;
static struct rte_ring *rx_ring, *tx_ring;
static struct dp_ctx ctx;
static struct dp_lcore *worker;
static uint64_t sent_count;
static const struct px_test_hosts *H = &px_test_hosts;

/* Test data: www.example.test A 198.51.100.10, a local zone example.test. */
static const uint8_t soa_rr[] = {
	7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 6, 0, 1, 0, 0, 0, 60,
	0, 32, 2, 'n', 's', 0xc0, 0x0c, 4, 'h', 'o', 's', 't', 0xc0, 0x0c,
	0, 0, 0, 1, 0, 0, 0x0e, 0x10, 0, 0, 0x0e, 0x10, 0, 0, 0x0e, 0x10, 0, 0, 0, 60,
};

static void
cache_put(const char *name, uint16_t qtype, uint8_t kind, uint8_t rcode, const uint8_t *rr,
	  uint16_t rr_len, uint16_t ttl_off, bool answer)
{
	struct dp_cache_key k = {.qtype = qtype, .qclass = 1, .kind = kind};
	struct dp_cache_answer a = {
		.rcode = rcode, .flags = DP_CACHE_F_AA | DP_CACHE_F_PINNED, .ttl = 300,
		.an_count = answer ? 1 : 0, .ns_count = answer ? 0 : 1, .rr = rr, .rr_len = rr_len,
		.ttl_off = &ttl_off, .ttl_off_count = 1,
	};

	k.name_len = (uint8_t)px_test_name(k.name, name);
	struct dp_cache_entry *e = dp_cache_entry_new(ctx.cache, &k, &a, 0);

	/* Runs before the suite, where ck_assert cannot report. */
	if (e == NULL || dp_cache_insert(ctx.cache, e) != 0)
		rte_exit(2, "test_pkt: cannot fill the cache\n");
}

static void
cache_fill(void)
{
	static const uint8_t a_rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 198, 51, 100, 10};

	cache_put("www.example.test", PX_DNS_TYPE_A, DP_CACHE_RRSET, 0, a_rr, sizeof(a_rr), 6,
		  true);
	cache_put("www.example.test", 0, DP_CACHE_NAME, 0, soa_rr, sizeof(soa_rr), 18, false);
	cache_put("example.test", 0, DP_CACHE_NAME, 0, soa_rr, sizeof(soa_rr), 18, false);
	cache_put("example.test", 0, DP_CACHE_ZONE, PX_DNS_RCODE_NXDOMAIN, soa_rr,
		  sizeof(soa_rr), 18, false);
	dp_ctx_add_zone_depth(&ctx, 2);
}

static uint64_t
worker_rx(void)
{
	return __atomic_load_n(&worker->stats.rx_pkts, __ATOMIC_RELAXED);
}

/* Sends one frame and waits until the worker has taken it. */
static void
send_frame(const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, len), frame, len);
	ck_assert_int_eq(rte_ring_enqueue(rx_ring, m), 0);
	sent_count++;
	for (uint64_t spin = 0; worker_rx() < sent_count; spin++)
		ck_assert_uint_lt(spin, 2000000000ull);
}

/* Waits until the worker has ended the loop iteration that took the last frame: everything that
 * iteration sends (its burst's answers, then the miss path's frames) is on the TX ring, and
 * every counter it moves has moved. The worker reports a quiescent state at the end of each
 * iteration, after it transmits, and goes offline only between iterations, so a grace period
 * begun after it took the frame ends after that iteration. */
static void
iteration_done(void)
{
	rte_rcu_qsbr_check(ctx.qsbr, rte_rcu_qsbr_start(ctx.qsbr), true);
}

/* The reply to the last frame, or NULL if the worker sent nothing for it. */
static struct rte_mbuf *
reply(void)
{
	struct rte_mbuf *m = NULL;

	iteration_done();
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

/* Sends a frame that must be dropped for one reason, checked by its counter, with nothing sent
 * for it: the port is checked empty before the frame (so that a leftover cannot be taken for
 * the frame's reply) and again once the iteration that handled the frame has ended, after
 * everything it sent is out. */
static void
expect_drop(const uint8_t *frame, uint16_t len, size_t counter_off)
{
	uint64_t before = stat(counter_off);

	ck_assert_msg(rte_ring_count(tx_ring) == 0, "an earlier frame's reply is still queued");
	send_frame(frame, len);
	iteration_done();
	ck_assert_uint_eq(stat(counter_off), before + 1);
	ck_assert_msg(rte_ring_count(tx_ring) == 0, "the dropped frame's burst sent %u frames",
		      rte_ring_count(tx_ring));
}
#define EXPECT_DROP(f, l, name) expect_drop(f, l, offsetof(struct px_stats, name))

static uint8_t *
dns_of4(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, uint8_t *, 14 + 20 + 8);
}

/* Checks a UDP/IPv4 reply's headers and returns its DNS payload length. */
static uint16_t
check_udp4_reply(struct rte_mbuf *m)
{
	struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(e + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	ck_assert_mem_eq(e->dst_addr.addr_bytes, H->client_mac, 6);
	ck_assert_mem_eq(e->src_addr.addr_bytes, H->server_mac, 6);
	ck_assert_uint_eq(ip->src_addr, H->server_ip4);
	ck_assert_uint_eq(ip->dst_addr, H->client_ip4);
	ck_assert_uint_eq(rte_raw_cksum(ip, 20), 0xffff);
	ck_assert_int_eq(rte_ipv4_udptcp_cksum_verify(ip, udp), 0);
	ck_assert_uint_eq(udp->src_port, RTE_BE16(53));
	ck_assert_uint_eq(udp->dst_port, RTE_BE16(40000));
	ck_assert_uint_eq(rte_be_to_cpu_16(ip->total_length) + 14u, m->pkt_len);
	return (uint16_t)(rte_be_to_cpu_16(udp->dgram_len) - 8);
}

static uint16_t
query4(uint8_t *frame, const char *name, uint16_t qtype)
{
	uint8_t dns[512];
	const struct px_test_query q = {.id = 0x1234, .flags = PX_DNS_RD, .name = name,
					.qtype = qtype, .qclass = 1, .edns = true,
					.edns_bufsize = 1232};
	uint16_t len = px_test_query(dns, &q);

	return px_test_frame_udp4(frame, H, 40000, 53, dns, len);
}

START_TEST(test_arp_request_answered)
{
	uint8_t f[128];
	uint16_t len = px_test_frame_arp_request(f, H, H->server_ip4);
	struct rte_mbuf *m;

	send_frame(f, len);
	m = reply();
	ck_assert_ptr_nonnull(m);
	struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(e + 1);

	ck_assert_uint_eq(a->arp_opcode, RTE_BE16(RTE_ARP_OP_REPLY));
	ck_assert_mem_eq(a->arp_data.arp_sha.addr_bytes, H->server_mac, 6);
	ck_assert_uint_eq(a->arp_data.arp_sip, H->server_ip4);
	ck_assert_mem_eq(a->arp_data.arp_tha.addr_bytes, H->client_mac, 6);
	ck_assert_uint_eq(a->arp_data.arp_tip, H->client_ip4);
	ck_assert_mem_eq(e->dst_addr.addr_bytes, H->client_mac, 6);
	rte_pktmbuf_free(m);

	/* Someone else's address: not ours to answer. */
	len = px_test_frame_arp_request(f, H, RTE_BE32(0xc6120063));
	EXPECT_DROP(f, len, drop_arp);
}
END_TEST

START_TEST(test_icmp_echo_answered)
{
	uint8_t f[256];
	uint16_t len = px_test_frame_icmp4_echo(f, H, 7);
	struct rte_mbuf *m;

	send_frame(f, len);
	m = reply();
	ck_assert_ptr_nonnull(m);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);

	ck_assert_uint_eq(icmp->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	ck_assert_uint_eq(icmp->icmp_seq_nb, RTE_BE16(7));
	ck_assert_uint_eq(rte_raw_cksum(icmp, 40), 0xffff);
	ck_assert_uint_eq(rte_raw_cksum(ip, 20), 0xffff);
	ck_assert_uint_eq(ip->dst_addr, H->client_ip4);
	rte_pktmbuf_free(m);

	/* A corrupted echo request is dropped. */
	len = px_test_frame_icmp4_echo(f, H, 8);
	f[14 + 20 + 10] ^= 0xff;
	EXPECT_DROP(f, len, drop_icmp);
}
END_TEST

START_TEST(test_icmp6_echo_and_ns_answered)
{
	uint8_t f[256];
	uint16_t len = px_test_frame_icmp6_echo(f, H, 3);
	struct rte_mbuf *m;

	send_frame(f, len);
	m = reply();
	ck_assert_ptr_nonnull(m);
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, 14);
	uint8_t *icmp = (uint8_t *)(ip + 1);

	ck_assert_uint_eq(icmp[0], 129);
	ck_assert_int_eq(rte_ipv6_udptcp_cksum_verify(ip, icmp), 0);
	ck_assert_mem_eq(ip->dst_addr, H->client_ip6, 16);
	rte_pktmbuf_free(m);

	len = px_test_frame_ns(f, H, H->server_ip6);
	send_frame(f, len);
	m = reply();
	ck_assert_ptr_nonnull(m);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, 14);
	icmp = (uint8_t *)(ip + 1);
	ck_assert_uint_eq(icmp[0], 136);
	ck_assert_uint_eq(icmp[4], 0x60); /* solicited, override */
	ck_assert_mem_eq(icmp + 8, H->server_ip6, 16);
	ck_assert_uint_eq(icmp[24], 2);
	ck_assert_mem_eq(icmp + 26, H->server_mac, 6);
	ck_assert_mem_eq(ip->src_addr, H->server_ip6, 16);
	ck_assert_mem_eq(ip->dst_addr, H->client_ip6, 16);
	ck_assert_uint_eq(ip->hop_limits, 255);
	ck_assert_int_eq(rte_ipv6_udptcp_cksum_verify(ip, icmp), 0);
	rte_pktmbuf_free(m);

	/* A solicitation for an address that is not ours. */
	uint8_t other[16];

	memcpy(other, H->server_ip6, 16);
	other[15] = 0x99;
	len = px_test_frame_ns(f, H, other);
	EXPECT_DROP(f, len, drop_ip_dst);
}
END_TEST

START_TEST(test_dns_hit_ipv4)
{
	uint8_t f[600];
	uint16_t len = query4(f, "WWW.Example.Test", PX_DNS_TYPE_A);
	uint64_t hits = STAT(hits);
	struct rte_mbuf *m;

	send_frame(f, len);
	m = reply();
	ck_assert_ptr_nonnull(m);
	uint16_t dlen = check_udp4_reply(m);
	uint8_t *d = dns_of4(m);

	ck_assert_uint_eq(px_get16(d), 0x1234);
	ck_assert_uint_eq(px_get16(d + 2), PX_DNS_QR | PX_DNS_AA | PX_DNS_RD | PX_DNS_RA);
	ck_assert_uint_eq(px_get16(d + 6), 1);
	ck_assert_uint_eq(px_get16(d + 10), 1); /* our OPT */
	/* Question echoed with its case. */
	ck_assert_mem_eq(d + 12, "\3WWW\7Example\4Test", 17);
	uint16_t an = 12 + 18 + 4;

	ck_assert_uint_eq(px_get16(d + an), 0xc00c);
	ck_assert_uint_le(px_get32(d + an + 6), 300);
	ck_assert_uint_gt(px_get32(d + an + 6), 290);
	ck_assert_mem_eq(d + an + 12, "\xc6\x33\x64\x0a", 4);
	ck_assert_uint_eq(dlen, an + 16 + PX_DNS_OPT_LEN);
	ck_assert_uint_eq(STAT(hits), hits + 1);
	rte_pktmbuf_free(m);
}
END_TEST

START_TEST(test_dns_hit_ipv6)
{
	uint8_t f[600], dns[512];
	const struct px_test_query q = {.id = 9, .name = "www.example.test", .qtype = 1,
					.qclass = 1};
	uint16_t len = px_test_frame_udp6(f, H, 40000, 53, dns, px_test_query(dns, &q));
	struct rte_mbuf *m;

	send_frame(f, len);
	m = reply();
	ck_assert_ptr_nonnull(m);
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, 14);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint8_t *d = (uint8_t *)(udp + 1);

	ck_assert_int_eq(rte_ipv6_udptcp_cksum_verify(ip, udp), 0);
	ck_assert_mem_eq(ip->src_addr, H->server_ip6, 16);
	ck_assert_mem_eq(ip->dst_addr, H->client_ip6, 16);
	ck_assert_uint_eq(px_get16(d + 6), 1);
	ck_assert_uint_eq(px_get16(d + 2) & PX_DNS_RCODE_MASK, 0);
	ck_assert_uint_eq(rte_be_to_cpu_16(ip->payload_len) + 54u, m->pkt_len);
	rte_pktmbuf_free(m);
}
END_TEST

static uint8_t *
dns_reply(uint8_t *f, uint16_t len, struct rte_mbuf **mp)
{
	send_frame(f, len);
	*mp = reply();
	ck_assert_ptr_nonnull(*mp);
	check_udp4_reply(*mp);
	return dns_of4(*mp);
}

START_TEST(test_dns_negative_answers)
{
	uint8_t f[600];
	struct rte_mbuf *m;
	uint8_t *d;

	/* Below the local zone, nonexistent: NXDOMAIN with the SOA. */
	d = dns_reply(f, query4(f, "nope.example.test", PX_DNS_TYPE_A), &m);
	ck_assert_uint_eq(px_get16(d + 2) & PX_DNS_RCODE_MASK, PX_DNS_RCODE_NXDOMAIN);
	ck_assert(px_get16(d + 2) & PX_DNS_AA);
	ck_assert_uint_eq(px_get16(d + 6), 0);
	ck_assert_uint_eq(px_get16(d + 8), 1);
	rte_pktmbuf_free(m);
	/* Deeper still. */
	d = dns_reply(f, query4(f, "a.b.c.example.test", PX_DNS_TYPE_A), &m);
	ck_assert_uint_eq(px_get16(d + 2) & PX_DNS_RCODE_MASK, PX_DNS_RCODE_NXDOMAIN);
	rte_pktmbuf_free(m);
	/* The name exists, the type does not: NODATA. */
	d = dns_reply(f, query4(f, "www.example.test", PX_DNS_TYPE_AAAA), &m);
	ck_assert_uint_eq(px_get16(d + 2) & PX_DNS_RCODE_MASK, PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(px_get16(d + 6), 0);
	ck_assert_uint_eq(px_get16(d + 8), 1);
	rte_pktmbuf_free(m);
	/* A 254-byte, 122-label name below the zone: the walk still finds the apex. */
	char deep[300] = "";

	for (int i = 0; i < 120; i++)
		strcat(deep, "a.");
	strcat(deep, "example.test");
	d = dns_reply(f, query4(f, deep, PX_DNS_TYPE_A), &m);
	ck_assert_uint_eq(px_get16(d + 2) & PX_DNS_RCODE_MASK, PX_DNS_RCODE_NXDOMAIN);
	rte_pktmbuf_free(m);
	/* Outside every local zone: SERVFAIL, at once. */
	d = dns_reply(f, query4(f, "www.elsewhere.test", PX_DNS_TYPE_A), &m);
	ck_assert_uint_eq(px_get16(d + 2) & PX_DNS_RCODE_MASK, PX_DNS_RCODE_SERVFAIL);
	ck_assert(!(px_get16(d + 2) & PX_DNS_AA));
	rte_pktmbuf_free(m);
	/* Class CH: refused. */
	uint8_t dns[512];
	const struct px_test_query q = {.id = 1, .name = "version.bind", .qtype = 16, .qclass = 3};
	uint16_t len = px_test_frame_udp4(f, H, 40000, 53, dns, px_test_query(dns, &q));

	d = dns_reply(f, len, &m);
	ck_assert_uint_eq(px_get16(d + 2) & PX_DNS_RCODE_MASK, PX_DNS_RCODE_REFUSED);
	rte_pktmbuf_free(m);
}
END_TEST

/* The INFO-CODE of the Extended DNS Error in the DNS message d[0, len), or -1 without one.
 * The message must read to its end exactly. */
static int
ede_of(const uint8_t *d, uint16_t len)
{
	unsigned rrs = px_get16(d + 6) + px_get16(d + 8) + px_get16(d + 10);
	struct px_wire_rd rd;
	int code = -1;

	px_wire_rd_init(&rd, d, len);
	px_wire_skip(&rd, PX_DNS_HDR_LEN);
	for (unsigned i = 0; i < px_get16(d + 4); i++) {
		px_wire_read_name(&rd, NULL, NULL);
		px_wire_skip(&rd, 4);
	}
	for (unsigned i = 0; i < rrs; i++) {
		uint16_t type, rdlen, start;

		px_wire_read_name(&rd, NULL, NULL);
		type = px_wire_read_u16(&rd);
		px_wire_skip(&rd, 6);
		rdlen = px_wire_read_u16(&rd);
		start = rd.pos;
		px_wire_skip(&rd, rdlen);
		ck_assert(!rd.err);
		for (uint16_t o = start; type == PX_DNS_TYPE_OPT && o + 4 <= start + rdlen;
		     o = (uint16_t)(o + 4 + px_get16(d + o + 2)))
			if (px_get16(d + o) == PX_DNS_OPT_EDE)
				code = px_get16(d + o + 4);
	}
	ck_assert_uint_eq(rd.pos, len);
	return code;
}

/* What pollux decides itself says why (RFC 8914) to a query with EDNS; the local zones' own
 * negative answers are data and say nothing more. */
START_TEST(test_dns_refused_servfail_ede)
{
	static const uint16_t xfr[] = {PX_DNS_TYPE_AXFR, PX_DNS_TYPE_IXFR};
	uint8_t f[600], dns[512];
	struct rte_mbuf *m;
	uint8_t *d;

	d = dns_reply(f, query4(f, "nope.example.test", PX_DNS_TYPE_A), &m);
	ck_assert_uint_eq(px_get16(d + 2) & PX_DNS_RCODE_MASK, PX_DNS_RCODE_NXDOMAIN);
	ck_assert_int_eq(ede_of(d, check_udp4_reply(m)), -1);
	rte_pktmbuf_free(m);
	d = dns_reply(f, query4(f, "www.example.test", PX_DNS_TYPE_AAAA), &m);
	ck_assert_int_eq(ede_of(d, check_udp4_reply(m)), -1);
	rte_pktmbuf_free(m);
	/* Recursion is off here: a name outside the local zones is not pollux's to answer. */
	d = dns_reply(f, query4(f, "www.elsewhere.test", PX_DNS_TYPE_A), &m);
	ck_assert_uint_eq(px_get16(d + 2) & PX_DNS_RCODE_MASK, PX_DNS_RCODE_SERVFAIL);
	ck_assert_int_eq(ede_of(d, check_udp4_reply(m)), PX_DNS_EDE_NOT_AUTHORITATIVE);
	rte_pktmbuf_free(m);
	for (unsigned i = 0; i < 2; i++) {
		d = dns_reply(f, query4(f, "example.test", xfr[i]), &m);
		ck_assert_uint_eq(px_get16(d + 2) & PX_DNS_RCODE_MASK, PX_DNS_RCODE_REFUSED);
		ck_assert_int_eq(ede_of(d, check_udp4_reply(m)), PX_DNS_EDE_NOT_SUPPORTED);
		rte_pktmbuf_free(m);
	}
	/* Class CH, with EDNS and without. */
	struct px_test_query q = {.id = 1, .name = "version.bind", .qtype = 16, .qclass = 3,
				  .edns = true, .edns_bufsize = 1232};
	uint16_t len = px_test_frame_udp4(f, H, 40000, 53, dns, px_test_query(dns, &q));

	d = dns_reply(f, len, &m);
	ck_assert_uint_eq(px_get16(d + 2) & PX_DNS_RCODE_MASK, PX_DNS_RCODE_REFUSED);
	ck_assert_int_eq(ede_of(d, check_udp4_reply(m)), PX_DNS_EDE_NOT_SUPPORTED);
	rte_pktmbuf_free(m);
	q.edns = false;
	len = px_test_frame_udp4(f, H, 40000, 53, dns, px_test_query(dns, &q));
	d = dns_reply(f, len, &m);
	ck_assert_uint_eq(px_get16(d + 2) & PX_DNS_RCODE_MASK, PX_DNS_RCODE_REFUSED);
	ck_assert_uint_eq(px_get16(d + 10), 0);
	ck_assert_int_eq(ede_of(d, check_udp4_reply(m)), -1);
	rte_pktmbuf_free(m);
}
END_TEST

/* A DNS payload that must get FORMERR, counted by counter. */
static void
expect_formerr(const uint8_t *dns, uint16_t dlen, size_t counter_off)
{
	uint8_t f[1600];
	uint16_t len = px_test_frame_udp4(f, H, 40000, 53, dns, dlen);
	uint64_t before = stat(counter_off);
	struct rte_mbuf *m;
	uint8_t *d = dns_reply(f, len, &m);

	ck_assert_uint_eq(px_get16(d + 2) & PX_DNS_RCODE_MASK, PX_DNS_RCODE_FORMERR);
	ck_assert_uint_eq(stat(counter_off), before + 1);
	rte_pktmbuf_free(m);
}
#define EXPECT_FORMERR(d, l, name) expect_formerr(d, l, offsetof(struct px_stats, name))

START_TEST(test_dns_malformed_formerr)
{
	uint8_t dns[512];
	const struct px_test_query q = {.id = 1, .name = "www.example.test", .qtype = 1,
					.qclass = 1, .edns = true, .edns_bufsize = 1232};
	uint16_t len = px_test_query(dns, &q);

	px_put16(dns + 4, 2);
	EXPECT_FORMERR(dns, len, formerr_qdcount);
	len = px_test_query(dns, &q);
	dns[12] = 64;
	EXPECT_FORMERR(dns, len, formerr_name);
	len = px_test_query(dns, &q);
	px_put16(dns + 10, 3);
	EXPECT_FORMERR(dns, len, formerr_counts);
	len = px_test_query(dns, &q);
	px_put16(dns + 10, 0);
	px_put16(dns + 6, 1);
	EXPECT_FORMERR(dns, len, formerr_opt);
	/* A compression loop in an additional record. */
	len = (uint16_t)(px_test_query(dns, &q) - PX_DNS_OPT_LEN);
	px_put16(dns + 10, 1);
	dns[len] = 0xc0;
	dns[len + 1] = (uint8_t)len;
	memset(dns + len + 2, 0, 10);
	EXPECT_FORMERR(dns, (uint16_t)(len + 12), formerr_name);
}
END_TEST

START_TEST(test_malformed_frames_dropped)
{
	uint8_t f[600], g[600];
	uint16_t len = query4(f, "www.example.test", PX_DNS_TYPE_A);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(g + 14);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	EXPECT_DROP(f, 10, drop_runt);
#define MUTATE(stmt, counter) do { memcpy(g, f, len); stmt; EXPECT_DROP(g, len, counter); } \
	while (0)
	MUTATE(g[0] = 0x04, drop_l2_dst);
	MUTATE((g[12] = 0x81, g[13] = 0x00), drop_ethertype);
	MUTATE(ip->hdr_checksum ^= 0x0101, drop_ip_cksum);
	MUTATE((ip->version_ihl = 0x55, ip->hdr_checksum = 0,
		ip->hdr_checksum = rte_ipv4_cksum(ip)), drop_ip_hdr);
	MUTATE((ip->total_length = rte_cpu_to_be_16(len), ip->hdr_checksum = 0,
		ip->hdr_checksum = rte_ipv4_cksum(ip)), drop_ip_hdr);
	MUTATE((ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_MF_FLAG), ip->hdr_checksum = 0,
		ip->hdr_checksum = rte_ipv4_cksum(ip)), drop_ip_frag);
	MUTATE((ip->version_ihl = 0x46, ip->hdr_checksum = 0,
		ip->hdr_checksum = rte_ipv4_cksum(ip)), drop_ip_options);
	MUTATE((ip->dst_addr = RTE_BE32(0xc6120063), ip->hdr_checksum = 0,
		ip->hdr_checksum = rte_ipv4_cksum(ip)), drop_ip_dst);
	MUTATE((ip->src_addr = RTE_BE32(0xffffffff), ip->hdr_checksum = 0,
		ip->hdr_checksum = rte_ipv4_cksum(ip)), drop_ip_src);
	MUTATE((ip->next_proto_id = IPPROTO_TCP, ip->hdr_checksum = 0,
		ip->hdr_checksum = rte_ipv4_cksum(ip)), drop_l4_proto);
	MUTATE(udp->dgram_len = rte_cpu_to_be_16(rte_be_to_cpu_16(udp->dgram_len) - 1),
	       drop_udp_hdr);
	MUTATE(udp->dgram_cksum ^= 0x0100, drop_udp_cksum);
	MUTATE(udp->dst_port = RTE_BE16(54), drop_udp_port);
	/* A truncated frame: the IP header claims more than arrived. */
	memcpy(g, f, len);
	EXPECT_DROP(g, (uint16_t)(len - 3), drop_ip_hdr);
	/* A DNS payload shorter than a header, and a response. */
	uint8_t small[8] = {0};

	len = px_test_frame_udp4(g, H, 40000, 53, small, sizeof(small));
	EXPECT_DROP(g, len, drop_dns_runt);
	len = query4(f, "www.example.test", PX_DNS_TYPE_A);
	f[14 + 20 + 8 + 2] |= 0x80;
	udp = (struct rte_udp_hdr *)(f + 14 + 20);
	udp->dgram_cksum = 0; /* "no checksum" is legal over IPv4 */
	EXPECT_DROP(f, len, drop_dns_response);
#undef MUTATE
}
END_TEST

/* An IPv6 query to us from src, as any client would send it (checksum over src). */
static uint16_t
query6_from(uint8_t *f, const uint8_t *src)
{
	uint8_t dns[512];
	const struct px_test_query q = {.id = 11, .name = "www.example.test", .qtype = 1,
					.qclass = 1};
	struct px_test_hosts h = *H;

	memcpy(h.client_ip6, src, 16);
	return px_test_frame_udp6(f, &h, 40000, 53, dns, px_test_query(dns, &q));
}

/* Sources no client can have are dropped, each kind counted apart; the addresses beside them
 * are answered. */
START_TEST(test_bogus_sources_dropped)
{
	static const uint8_t unspec[16], loop[16] = {[15] = 1};
	static const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, 198, 18, 0, 1};
	static const uint8_t mcast[16] = {0xff, 0x02, [15] = 1};
	static const uint8_t mcast_global[16] = {0xff, 0x0e, [15] = 1};
	static const uint8_t near_mapped[16] = {[10] = 0xff, [11] = 0xfe, 198, 18, 0, 1};
	static const uint8_t near_self[16] = {0x20, 0x01, 0x00, 0x02, [15] = 0x03};
	static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t mcast4_mac[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	static const uint8_t mcast6_mac[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};
	uint8_t f[600];
	uint16_t len;
	struct rte_mbuf *m;

	EXPECT_DROP(f, query6_from(f, unspec), drop_ip6_src_unspecified);
	EXPECT_DROP(f, query6_from(f, loop), drop_ip6_src_loopback);
	EXPECT_DROP(f, query6_from(f, mapped), drop_ip6_src_v4mapped);
	EXPECT_DROP(f, query6_from(f, mcast), drop_ip6_src_multicast);
	EXPECT_DROP(f, query6_from(f, mcast_global), drop_ip6_src_multicast);
	EXPECT_DROP(f, query6_from(f, ctx.port.ip6), drop_ip6_src_self);
	EXPECT_DROP(f, query6_from(f, ctx.port.ip6_ll), drop_ip6_src_self);
	/* Just beside them: ordinary clients. */
	send_frame(f, query6_from(f, near_mapped));
	m = reply();
	ck_assert_ptr_nonnull(m);
	rte_pktmbuf_free(m);
	send_frame(f, query6_from(f, near_self));
	m = reply();
	ck_assert_ptr_nonnull(m);
	rte_pktmbuf_free(m);
	/* A group source MAC: the answer would go to the whole link. Over IPv4, IPv6 and ARP. */
	len = query4(f, "www.example.test", PX_DNS_TYPE_A);
	memcpy(f + 6, bcast_mac, 6);
	EXPECT_DROP(f, len, drop_l2_src);
	memcpy(f + 6, mcast4_mac, 6);
	EXPECT_DROP(f, len, drop_l2_src);
	len = query6_from(f, near_self);
	memcpy(f + 6, mcast6_mac, 6);
	EXPECT_DROP(f, len, drop_l2_src);
	len = px_test_frame_arp_request(f, H, H->server_ip4);
	memcpy(f + 6, bcast_mac, 6);
	EXPECT_DROP(f, len, drop_l2_src);
	/* The client's unicast MAC gets its answer there. */
	len = query4(f, "www.example.test", PX_DNS_TYPE_A);
	send_frame(f, len);
	m = reply();
	ck_assert_ptr_nonnull(m);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr.addr_bytes, f + 6, 6);
	rte_pktmbuf_free(m);
}
END_TEST

/* A million frames, good and bad, mutated at random; afterwards every mbuf is back. */
START_TEST(test_million_mixed_no_mbuf_leak)
{
	enum { TEMPLATES = 12, TOTAL = 1000000 };
	static uint8_t tpl[TEMPLATES][600];
	uint16_t tlen[TEMPLATES];
	unsigned baseline = rte_mempool_in_use_count(pool);
	unsigned seed = 42;
	uint64_t start_rx = worker_rx(), start_tx = STAT(tx_pkts);
	uint64_t replies = 0;
	uint8_t dns[512];
	struct px_test_query q = {.id = 1, .name = "www.example.test", .qtype = 1, .qclass = 1};

	tlen[0] = query4(tpl[0], "www.example.test", PX_DNS_TYPE_A);
	tlen[1] = query4(tpl[1], "nope.example.test", PX_DNS_TYPE_A);
	tlen[2] = query4(tpl[2], "www.example.test", PX_DNS_TYPE_AAAA);
	tlen[3] = query4(tpl[3], "www.elsewhere.test", PX_DNS_TYPE_MX);
	tlen[4] = px_test_frame_arp_request(tpl[4], H, H->server_ip4);
	tlen[5] = px_test_frame_icmp4_echo(tpl[5], H, 1);
	tlen[6] = px_test_frame_icmp6_echo(tpl[6], H, 1);
	tlen[7] = px_test_frame_ns(tpl[7], H, H->server_ip6);
	tlen[8] = px_test_frame_udp6(tpl[8], H, 40000, 53, dns, px_test_query(dns, &q));
	q.edns = true;
	q.edns_bufsize = 512;
	tlen[9] = px_test_frame_udp4(tpl[9], H, 40000, 53, dns, px_test_query(dns, &q));
	px_put16(dns + 4, 2);
	tlen[10] = px_test_frame_udp4(tpl[10], H, 40000, 53, dns, px_test_query(dns, &q));
	tlen[11] = 9;

	for (unsigned sent = 0; sent < TOTAL;) {
		struct rte_mbuf *burst[32], *out[64];
		unsigned n = 0;

		while (n < 32 && sent + n < TOTAL) {
			unsigned t = rand_r(&seed) % TEMPLATES;
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
			uint16_t l = tlen[t];

			if (m == NULL)
				break;
			uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, l);

			memcpy(p, tpl[t], l);
			/* One frame in four gets up to three random bytes changed. */
			if ((rand_r(&seed) & 3) == 0)
				for (int k = rand_r(&seed) % 4; k > 0; k--)
					p[rand_r(&seed) % l] = (uint8_t)rand_r(&seed);
			burst[n++] = m;
		}
		unsigned enq = rte_ring_enqueue_burst(rx_ring, (void **)burst, n, NULL);

		if (enq < n)
			rte_pktmbuf_free_bulk(burst + enq, n - enq);
		sent += enq;
		unsigned d = rte_ring_dequeue_burst(tx_ring, (void **)out, RTE_DIM(out), NULL);

		replies += d;
		rte_pktmbuf_free_bulk(out, d);
	}
	while (worker_rx() - start_rx < TOTAL)
		rte_pause();
	/* The worker transmits after counting a burst: wait for the last one's iteration. */
	iteration_done();
	for (;;) {
		struct rte_mbuf *out[64];
		unsigned d = rte_ring_dequeue_burst(tx_ring, (void **)out, RTE_DIM(out), NULL);

		if (d == 0)
			break;
		replies += d;
		rte_pktmbuf_free_bulk(out, d);
	}
	ck_assert_uint_eq(worker_rx() - start_rx, TOTAL);
	ck_assert_uint_eq(STAT(tx_pkts) - start_tx, replies);
	ck_assert_uint_gt(replies, TOTAL / 4);
	ck_assert_uint_lt(replies, TOTAL);
	ck_assert_uint_eq(rte_mempool_in_use_count(pool), baseline);
}
END_TEST

/* The fast checksums agree with DPDK's on every length and alignment. */
START_TEST(test_dp_cksum_matches_dpdk)
{
	uint8_t buf[1600] __attribute__((aligned(8)));
	unsigned seed = 7;

	for (int n = 0; n < 20000; n++) {
		unsigned off = rand_r(&seed) % 8, len = rand_r(&seed) % 1500;

		for (unsigned i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rand_r(&seed);
		ck_assert_uint_eq(dp_cksum_fold(dp_cksum_add(0, buf + off, len)),
				  rte_raw_cksum(buf + off, len));

		/* A UDP datagram after an IPv4 and an IPv6 header. */
		struct rte_ipv4_hdr *ip4 = (struct rte_ipv4_hdr *)(buf + off);
		uint16_t l4 = (uint16_t)(8 + len % 1400);

		ip4->version_ihl = RTE_IPV4_VHL_DEF;
		ip4->next_proto_id = IPPROTO_UDP;
		ip4->total_length = rte_cpu_to_be_16((uint16_t)(20 + l4));
		struct rte_udp_hdr *u4 = (struct rte_udp_hdr *)(ip4 + 1);

		u4->dgram_cksum = 0;
		uint16_t ours = dp_cksum_l4(dp_cksum_phdr4(ip4, l4), u4, l4);

		ck_assert_uint_eq(ours, rte_ipv4_udptcp_cksum(ip4, u4));
		u4->dgram_cksum = ours;
		ck_assert(dp_cksum_l4_ok(dp_cksum_phdr4(ip4, l4), u4, l4));
		u4->dgram_cksum ^= 0x0101;
		ck_assert(!dp_cksum_l4_ok(dp_cksum_phdr4(ip4, l4), u4, l4));

		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(buf + off);

		ip6->proto = IPPROTO_UDP;
		ip6->payload_len = rte_cpu_to_be_16(l4);
		struct rte_udp_hdr *u6 = (struct rte_udp_hdr *)(ip6 + 1);

		u6->dgram_cksum = 0;
		ck_assert_uint_eq(dp_cksum_l4(dp_cksum_phdr6(ip6, l4), u6, l4),
				  rte_ipv6_udptcp_cksum(ip6, u6));

		ip4->hdr_checksum = 0;
		uint16_t dpdk = rte_ipv4_cksum(ip4);

		ip4->hdr_checksum = dp_cksum_ip4(ip4);
		ck_assert_uint_eq(ip4->hdr_checksum, dpdk);
		ck_assert(dp_cksum_ip4_ok(ip4));
	}
}
END_TEST

static Suite *
pkt_suite(void)
{
	Suite *s = suite_create("pkt");
	TCase *tc;

	tc = tcase_create("cksum");
	tcase_add_test(tc, test_dp_cksum_matches_dpdk);
	suite_add_tcase(s, tc);

	tc = tcase_create("neighbours");
	tcase_add_test(tc, test_arp_request_answered);
	tcase_add_test(tc, test_icmp_echo_answered);
	tcase_add_test(tc, test_icmp6_echo_and_ns_answered);
	suite_add_tcase(s, tc);

	tc = tcase_create("dns");
	tcase_add_test(tc, test_dns_hit_ipv4);
	tcase_add_test(tc, test_dns_hit_ipv6);
	tcase_add_test(tc, test_dns_negative_answers);
	tcase_add_test(tc, test_dns_refused_servfail_ede);
	tcase_add_test(tc, test_dns_malformed_formerr);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad_input");
	tcase_add_test(tc, test_malformed_frames_dropped);
	tcase_add_test(tc, test_bogus_sources_dropped);
	tcase_add_test(tc, test_million_mixed_no_mbuf_leak);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	return s;
}

static void
setup(void)
{
	int port;

	px_test_eal_init("test_pkt", "0,1", NULL);
	dp_clock_init();
	pool = rte_pktmbuf_pool_create("test_pkt_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	port = px_test_ring_port("net_ring_pkt", pool, &rx_ring, &tx_ring);

	ctx.port.port_id = (uint16_t)port;
	memcpy(ctx.port.mac.addr_bytes, H->server_mac, 6);
	ctx.port.has_ip4 = true;
	ctx.port.ip4 = H->server_ip4;
	ctx.port.has_ip6 = true;
	memcpy(ctx.port.ip6, H->server_ip6, 16);
	dp_port_conf_derive(&ctx.port);
	/* The daemon's worker (dp_worker.h) without recursion: misses get SERVFAIL. */
	const struct dp_worker_ctx_conf cc = {.name = "test_pkt", .cache_size = 1024};

	if (dp_worker_ctx_build(&ctx, &cc) != 0)
		rte_exit(2, "test_pkt: cannot build the workers' shared state\n");
	cache_fill();

	const struct dp_worker_conf wc = {
		.ctx = &ctx, .lcore_id = rte_get_next_lcore(-1, 1, 0), .pool = pool,
		.now_ms = dp_clock_ms(),
	};

	worker = dp_worker_build(&wc);
	if (worker == NULL)
		rte_exit(2, "test_pkt: cannot build the worker\n");
	rte_eal_remote_launch(dp_loop_run, worker, worker->lcore_id);
}

int
main(void)
{
	SRunner *sr;
	int failed;

	setup();
	sr = srunner_create(pkt_suite());
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
