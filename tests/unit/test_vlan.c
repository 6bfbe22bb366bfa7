/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One 802.1Q tag on the port (dataplane/dp_vlan.h) through a net_ring port, which offloads
 * nothing: the software path. The worker runs inline on the main lcore, stepped by the test as
 * dp_loop_run would run it (RX burst, TX, the TCP poll, the resolution tick), so every frame it
 * sends is read back in order. It has everything a deployed worker has: a cache, recursion
 * through a gateway to a one-server root, and the TCP exception path (a second net_ring plays
 * the tun). The port's hardware offloads are simulated where the mbuf says what a port did
 * (RX: the tag in vlan_tci and RTE_MBUF_F_RX_VLAN_STRIPPED; TX: RTE_MBUF_F_TX_VLAN).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <pollux/addr_policy.h>
#include <pollux/hints.h>
#include <pollux/resolver.h>
#include <pollux/upstream.h>
#include <pollux/wire.h>

#include "dp_cache.h"
#include "dp_clock.h"
#include "dp_lcore.h"
#include "dp_host.h"
#include "dp_miss.h"
#include "dp_tcp.h"
#include "dp_tx.h"
#include "dp_vlan.h"
#include "dp_worker.h"
#include "testlib.h"
#include "testlib_pkt.h"

#define VID 100
#define GW_IP4 RTE_BE32(0xc61200fe)   /* 198.18.0.254 */
#define ROOT_IP4 RTE_BE32(0xc6120101) /* 198.18.1.1 */

static struct rte_mempool *pool, *msg_pool;
static struct rte_ring *rx_ring, *tx_ring, *tun_rx_ring, *tun_tx_ring;
static struct dp_ctx ctx;
static struct dp_lcore *worker;
static struct px_addr_policy policy;
static struct px_hints *hints;
static unsigned pool_base;
static const struct px_test_hosts *H = &px_test_hosts;
static const uint8_t gw_mac[6] = {0x02, 0, 0, 0, 0, 0xfe};

static uint64_t
stat(size_t off)
{
	return *(uint64_t *)((uint8_t *)&worker->stats + off);
}
#define STAT(name) stat(offsetof(struct px_stats, name))

/* The rest of one loop iteration, as dp_loop_run runs it after the RX burst. */
static void
step(void)
{
	worker->now_ms = dp_clock_ms();
	dp_loop_tcp(worker);
	dp_miss_tick(worker);
}

/* Delivers m to the worker as its port's RX would, then runs the rest of the iteration. */
static void
rx_mbuf(struct rte_mbuf *m)
{
	struct rte_mbuf *tx[1];
	uint16_t ntx;

	worker->now_ms = dp_clock_ms();
	worker->stats.rx_pkts++;
	ntx = dp_rx_burst_handle(worker, &m, 1, tx);
	if (ntx != 0)
		dp_tx_port(worker, tx, ntx);
	step();
}

static struct rte_mbuf *
mbuf_of(const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, len), frame, len);
	return m;
}

static void
rx(const uint8_t *frame, uint16_t len)
{
	rx_mbuf(mbuf_of(frame, len));
}

/* Writes frame (untagged, len bytes) into dst with a tag tpid/tci after the MAC addresses;
 * returns the tagged length. */
static uint16_t
tag(uint8_t *dst, const uint8_t *frame, uint16_t len, uint16_t tpid, uint16_t tci)
{
	memcpy(dst, frame, 12);
	px_put16(dst + 12, tpid);
	px_put16(dst + 14, tci);
	memcpy(dst + 16, frame + 12, len - 12u);
	return (uint16_t)(len + 4);
}

/* The next frame the worker sent on the port, or NULL. */
static struct rte_mbuf *
tx_next(void)
{
	struct rte_mbuf *m = NULL;

	if (rte_ring_dequeue(tx_ring, (void **)&m) != 0)
		return NULL;
	return m;
}

/* Checks that m carries exactly our tag (TPID 0x8100, priority 0, VID) and takes it off, so the
 * frame can be read as an untagged one. */
static void
untag(struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	ck_assert_uint_ge(m->data_len, 18 + 20);
	ck_assert_uint_eq(px_get16(p + 12), RTE_ETHER_TYPE_VLAN);
	ck_assert_uint_eq(px_get16(p + 14), VID);
	memmove(p + 4, p, 12);
	rte_pktmbuf_adj(m, 4);
}

static uint16_t
query4(uint8_t *frame, const char *name, uint16_t id)
{
	uint8_t dns[512];
	const struct px_test_query q = {.id = id, .flags = PX_DNS_RD, .name = name,
					.qtype = PX_DNS_TYPE_A, .qclass = 1, .edns = true,
					.edns_bufsize = 1232};

	return px_test_frame_udp4(frame, H, 40000, 53, dns, px_test_query(dns, &q));
}

/* Checks an untagged UDP/IPv4 answer to the client (id, rcode NOERROR, one A record whose
 * address ends the message) and frees it. */
static void
check_answer4(struct rte_mbuf *m, uint16_t id, const uint8_t *addr)
{
	struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(e + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	const uint8_t *dns = (const uint8_t *)(udp + 1);
	uint16_t dlen = (uint16_t)(rte_be_to_cpu_16(udp->dgram_len) - 8);

	ck_assert_uint_eq(e->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV4));
	ck_assert_mem_eq(e->dst_addr.addr_bytes, H->client_mac, 6);
	ck_assert_mem_eq(e->src_addr.addr_bytes, H->server_mac, 6);
	ck_assert_uint_eq(ip->dst_addr, H->client_ip4);
	ck_assert_uint_eq(rte_raw_cksum(ip, 20), 0xffff);
	ck_assert_int_eq(rte_ipv4_udptcp_cksum_verify(ip, udp), 0);
	ck_assert_uint_eq(rte_be_to_cpu_16(ip->total_length) + 14u, m->pkt_len);
	ck_assert_uint_eq(px_get16(dns), id);
	ck_assert_uint_eq(px_get16(dns + 2) & 0x800f, PX_DNS_QR | PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(px_get16(dns + 6), 1);
	/* The A record's rdata, then the OPT (11 bytes) close the message. */
	ck_assert_mem_eq(dns + dlen - 11 - 4, addr, 4);
	rte_pktmbuf_free(m);
}

static const uint8_t cached_addr[4] = {198, 51, 100, 10};
static const uint8_t resolved_addr[4] = {198, 51, 100, 7};

START_TEST(test_vlan_query_answered_tagged)
{
	uint8_t f[256], t[260];
	uint8_t dns[512];
	const struct px_test_query q6 = {.id = 0x6666, .flags = PX_DNS_RD,
					 .name = "www.example.test", .qtype = PX_DNS_TYPE_A,
					 .qclass = 1};
	uint16_t len = query4(f, "www.example.test", 0x1234);
	struct rte_mbuf *m;

	/* Priority 5 and DEI set: only the VLAN ID is looked at, and the answer carries none. */
	rx(t, tag(t, f, len, RTE_ETHER_TYPE_VLAN, 0xb000 | VID));
	m = tx_next();
	ck_assert_ptr_nonnull(m);
	untag(m);
	check_answer4(m, 0x1234, cached_addr);
	ck_assert_ptr_null(tx_next());

	len = px_test_frame_udp6(f, H, 40000, 53, dns, px_test_query(dns, &q6));
	rx(t, tag(t, f, len, RTE_ETHER_TYPE_VLAN, VID));
	m = tx_next();
	ck_assert_ptr_nonnull(m);
	untag(m);
	struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, 14);

	ck_assert_uint_eq(rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type,
			  RTE_BE16(RTE_ETHER_TYPE_IPV6));
	ck_assert_mem_eq(ip6->dst_addr, H->client_ip6, 16);
	ck_assert_int_eq(rte_ipv6_udptcp_cksum_verify(ip6, ip6 + 1), 0);
	ck_assert_uint_eq(px_get16((const uint8_t *)(ip6 + 1) + 8), 0x6666);
	rte_pktmbuf_free(m);
}
END_TEST

/* Sends frame, which must be dropped for the reason counted at counter_off, with nothing sent. */
static void
expect_drop(const uint8_t *frame, uint16_t len, size_t counter_off)
{
	uint64_t before = stat(counter_off);

	rx(frame, len);
	ck_assert_msg(stat(counter_off) == before + 1, "counter at %zu did not move", counter_off);
	ck_assert_ptr_null(tx_next());
}
#define EXPECT_DROP(f, l, name) expect_drop(f, l, offsetof(struct px_stats, name))

START_TEST(test_vlan_untagged_other_and_double_dropped)
{
	uint8_t f[256], t[260], d[264];
	uint16_t len = query4(f, "www.example.test", 0x2222);

	EXPECT_DROP(f, len, drop_vlan_untagged);
	EXPECT_DROP(t, tag(t, f, len, RTE_ETHER_TYPE_VLAN, VID + 1), drop_vlan_id);
	/* VLAN 0 (priority-tagged) is not ours either. */
	EXPECT_DROP(t, tag(t, f, len, RTE_ETHER_TYPE_VLAN, 0x2000), drop_vlan_id);
	/* The same VLAN ID twice, or inside an 802.1ad S-tag: QinQ. */
	tag(t, f, len, RTE_ETHER_TYPE_VLAN, VID);
	EXPECT_DROP(d, tag(d, t, (uint16_t)(len + 4), RTE_ETHER_TYPE_VLAN, VID), drop_vlan_double);
	EXPECT_DROP(d, tag(d, t, (uint16_t)(len + 4), RTE_ETHER_TYPE_QINQ, VID), drop_vlan_double);
	EXPECT_DROP(t, tag(t, f, len, RTE_ETHER_TYPE_QINQ, VID), drop_vlan_double);
	/* A tag and nothing after it. */
	tag(t, f, len, RTE_ETHER_TYPE_VLAN, VID);
	EXPECT_DROP(t, 16, drop_runt);
	/* An ARP request without the tag gets no reply either. */
	len = px_test_frame_arp_request(f, H, H->server_ip4);
	EXPECT_DROP(f, len, drop_vlan_untagged);
	ck_assert_uint_eq(rte_mempool_in_use_count(pool), pool_base);
}
END_TEST

START_TEST(test_vlan_arp_and_nd_answered_tagged)
{
	uint8_t f[256], t[260];
	uint16_t len = px_test_frame_arp_request(f, H, H->server_ip4);
	uint64_t arp = STAT(arp_replies), nd = STAT(nd_replies);
	struct rte_mbuf *m;

	rx(t, tag(t, f, len, RTE_ETHER_TYPE_VLAN, VID));
	m = tx_next();
	ck_assert_ptr_nonnull(m);
	untag(m);
	struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(e + 1);

	ck_assert_uint_eq(e->ether_type, RTE_BE16(RTE_ETHER_TYPE_ARP));
	ck_assert_mem_eq(e->dst_addr.addr_bytes, H->client_mac, 6);
	ck_assert_uint_eq(a->arp_opcode, RTE_BE16(RTE_ARP_OP_REPLY));
	ck_assert_mem_eq(a->arp_data.arp_sha.addr_bytes, H->server_mac, 6);
	ck_assert_uint_eq(a->arp_data.arp_sip, H->server_ip4);
	ck_assert_uint_eq(a->arp_data.arp_tip, H->client_ip4);
	ck_assert_uint_eq(STAT(arp_replies), arp + 1);
	rte_pktmbuf_free(m);

	len = px_test_frame_ns(f, H, H->server_ip6);
	rx(t, tag(t, f, len, RTE_ETHER_TYPE_VLAN, VID));
	m = tx_next();
	ck_assert_ptr_nonnull(m);
	untag(m);
	e = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(e + 1);
	const uint8_t *icmp = (const uint8_t *)(ip + 1);

	ck_assert_uint_eq(e->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV6));
	ck_assert_uint_eq(icmp[0], DP_ICMP6_NA);
	ck_assert_mem_eq(icmp + 8, H->server_ip6, 16);
	ck_assert_int_eq(rte_ipv6_udptcp_cksum_verify(ip, icmp), 0);
	ck_assert_uint_eq(STAT(nd_replies), nd + 1);
	rte_pktmbuf_free(m);
}
END_TEST

/* Writes the tagged ARP reply of the gateway to pollux into t; returns its length. */
static uint16_t
gw_arp_reply(uint8_t *t)
{
	uint8_t f[60] = {0};
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)f;
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(e + 1);

	memcpy(e->dst_addr.addr_bytes, H->server_mac, 6);
	memcpy(e->src_addr.addr_bytes, gw_mac, 6);
	e->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	memcpy(a->arp_data.arp_sha.addr_bytes, gw_mac, 6);
	a->arp_data.arp_sip = GW_IP4;
	memcpy(a->arp_data.arp_tha.addr_bytes, H->server_mac, 6);
	a->arp_data.arp_tip = H->server_ip4;
	return tag(t, f, sizeof(f), RTE_ETHER_TYPE_VLAN, VID);
}

/* The wire name at p (uncompressed, letters only) in presentation form, case kept. */
static void
name_text(const uint8_t *p, char *out)
{
	size_t o = 0;

	for (; *p != 0; p += *p + 1) {
		memcpy(out + o, p + 1, *p);
		o += *p;
		out[o++] = '.';
	}
	out[o > 0 ? o - 1 : 0] = '\0';
}

/*
 * The resolution path: the ARP request for the gateway, the upstream query and the client's
 * answer all leave tagged, and the gateway's tagged ARP reply and the root's tagged answer are
 * taken in.
 */
START_TEST(test_vlan_upstream_and_neighbour_tagged)
{
	uint8_t f[1600], t[1604];
	struct rte_mbuf *m;
	uint64_t learned = STAT(rec_neigh_learned), sent = STAT(rec_queries_sent);

	/* The first iteration asks for the gateway: a broadcast ARP request, tagged. */
	step();
	m = tx_next();
	ck_assert_ptr_nonnull(m);
	untag(m);
	struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(e + 1);

	ck_assert(rte_is_broadcast_ether_addr(&e->dst_addr));
	ck_assert_uint_eq(e->ether_type, RTE_BE16(RTE_ETHER_TYPE_ARP));
	ck_assert_uint_eq(a->arp_opcode, RTE_BE16(RTE_ARP_OP_REQUEST));
	ck_assert_uint_eq(a->arp_data.arp_tip, GW_IP4);
	rte_pktmbuf_free(m);
	ck_assert_ptr_null(tx_next());

	rx(t, gw_arp_reply(t));
	ck_assert_uint_eq(STAT(rec_neigh_learned), learned + 1);

	/* A miss: the query goes to the root through the gateway, tagged. */
	rx(t, tag(t, f, query4(f, "www.miss.test", 0x4321), RTE_ETHER_TYPE_VLAN, VID));
	ck_assert_uint_eq(STAT(rec_queries_sent), sent + 1);
	m = tx_next();
	ck_assert_ptr_nonnull(m);
	untag(m);
	e = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(e + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	const uint8_t *dns = (const uint8_t *)(udp + 1);
	char qname[PX_DNS_NAME_BUF];

	ck_assert_mem_eq(e->dst_addr.addr_bytes, gw_mac, 6);
	ck_assert_uint_eq(ip->dst_addr, ROOT_IP4);
	ck_assert_uint_eq(rte_raw_cksum(ip, 20), 0xffff);
	ck_assert_int_eq(rte_ipv4_udptcp_cksum_verify(ip, udp), 0);
	ck_assert_uint_eq(udp->dst_port, RTE_BE16(53));
	name_text(dns + PX_DNS_HDR_LEN, qname);
	ck_assert_int_eq(strcasecmp(qname, "www.miss.test"), 0);

	/* The root answers, authoritatively, through the gateway: the client's answer leaves
	 * tagged. */
	struct px_test_msg r;
	struct px_test_hosts h = {.client_ip4 = ROOT_IP4, .server_ip4 = H->server_ip4};

	memcpy(h.client_mac, gw_mac, 6);
	memcpy(h.server_mac, H->server_mac, 6);
	px_test_msg_start(&r, px_get16(dns), PX_DNS_QR | PX_DNS_AA, qname, PX_DNS_TYPE_A);
	px_test_msg_addr(&r, 0, NULL, "198.51.100.7");
	px_test_msg_opt(&r, 0);
	uint16_t len = px_test_frame_udp4(f, &h, 53, rte_be_to_cpu_16(udp->src_port), r.buf,
					  r.len);

	rte_pktmbuf_free(m);
	rx(t, tag(t, f, len, RTE_ETHER_TYPE_VLAN, VID));
	m = tx_next();
	ck_assert_ptr_nonnull(m);
	untag(m);
	check_answer4(m, 0x4321, resolved_addr);
	ck_assert_ptr_null(tx_next());
}
END_TEST

/* An Ethernet + IPv4 + TCP SYN from the client to pollux's port 53, in f; returns its length. */
static uint16_t
frame_syn(uint8_t *f)
{
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(e + 1);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

	memset(f, 0, 14 + 20 + 20);
	memcpy(e->dst_addr.addr_bytes, H->server_mac, 6);
	memcpy(e->src_addr.addr_bytes, H->client_mac, 6);
	e->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = RTE_BE16(40);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = H->client_ip4;
	ip->dst_addr = H->server_ip4;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th->src_port = RTE_BE16(40404);
	th->dst_port = RTE_BE16(53);
	th->sent_seq = RTE_BE32(1000);
	th->data_off = 5 << 4;
	th->tcp_flags = RTE_TCP_SYN_FLAG;
	th->rx_win = RTE_BE16(65535);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	return 14 + 40;
}

/* The TCP exception path: a tagged segment reaches the kernel as a bare IP packet, and what
 * the kernel answers leaves with an Ethernet header and the tag. */
START_TEST(test_vlan_tcp_exception_path)
{
	uint8_t f[128], t[132];
	uint16_t len = frame_syn(f);
	uint64_t to_kernel = STAT(tcp_to_kernel), from_kernel = STAT(tcp_from_kernel);
	struct rte_mbuf *m;

	rx(t, tag(t, f, len, RTE_ETHER_TYPE_VLAN, VID));
	ck_assert_uint_eq(STAT(tcp_to_kernel), to_kernel + 1);
	ck_assert_ptr_null(tx_next());
	ck_assert_int_eq(rte_ring_dequeue(tun_tx_ring, (void **)&m), 0);
	ck_assert_uint_eq(m->pkt_len, len - 14u);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), f + 14, len - 14u);

	/* The kernel's SYN-ACK, as the tun would deliver it: the same packet turned round. */
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

	ip->src_addr = H->server_ip4;
	ip->dst_addr = H->client_ip4;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th->src_port = RTE_BE16(53);
	th->dst_port = RTE_BE16(40404);
	th->tcp_flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
	th->cksum = 0;
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	ck_assert_int_eq(rte_ring_enqueue(tun_rx_ring, m), 0);
	step();
	ck_assert_uint_eq(STAT(tcp_from_kernel), from_kernel + 1);
	m = tx_next();
	ck_assert_ptr_nonnull(m);
	untag(m);
	struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	ck_assert_uint_eq(e->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV4));
	ck_assert_mem_eq(e->dst_addr.addr_bytes, H->client_mac, 6);
	ck_assert_mem_eq(e->src_addr.addr_bytes, H->server_mac, 6);
	ip = (struct rte_ipv4_hdr *)(e + 1);
	th = (struct rte_tcp_hdr *)(ip + 1);
	ck_assert_uint_eq(m->pkt_len, 14u + 40);
	ck_assert_uint_eq(th->tcp_flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	ck_assert_int_eq(rte_ipv4_udptcp_cksum_verify(ip, th), 0);
	rte_pktmbuf_free(m);
}
END_TEST

/* What a port with VLAN offloads does to the mbuf: RX strip leaves the frame untagged with the
 * tag in vlan_tci, and TX insert is asked for with a flag, the frame left untagged. */
START_TEST(test_vlan_offload_flags)
{
	uint8_t f[256], t[260];
	uint16_t len = query4(f, "www.example.test", 0x5555);
	uint64_t id = STAT(drop_vlan_id), dbl = STAT(drop_vlan_double);
	struct rte_mbuf *m;

	m = mbuf_of(f, len);
	m->ol_flags = RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->vlan_tci = 0x6000 | VID;
	rx_mbuf(m);
	m = tx_next();
	ck_assert_ptr_nonnull(m);
	untag(m);
	check_answer4(m, 0x5555, cached_addr);

	m = mbuf_of(f, len);
	m->ol_flags = RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->vlan_tci = VID + 1;
	rx_mbuf(m);
	ck_assert_uint_eq(STAT(drop_vlan_id), id + 1);
	/* The port stripped ours, and another tag is inside. */
	m = mbuf_of(t, tag(t, f, len, RTE_ETHER_TYPE_VLAN, VID));
	m->ol_flags = RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->vlan_tci = VID;
	rx_mbuf(m);
	ck_assert_uint_eq(STAT(drop_vlan_double), dbl + 1);
	ck_assert_ptr_null(tx_next());

	ctx.port.vlan_tx_hw = true;
	rx(t, tag(t, f, len, RTE_ETHER_TYPE_VLAN, VID));
	ctx.port.vlan_tx_hw = false;
	m = tx_next();
	ck_assert_ptr_nonnull(m);
	ck_assert(m->ol_flags & RTE_MBUF_F_TX_VLAN);
	ck_assert_uint_eq(m->vlan_tci, VID);
	check_answer4(m, 0x5555, cached_addr);
	ck_assert_uint_eq(rte_mempool_in_use_count(pool), pool_base);
}
END_TEST

/* The tag needs 4 bytes of headroom and an mbuf of its own: without them the frame is dropped
 * and counted, never sent untagged. */
START_TEST(test_vlan_tag_needs_room)
{
	uint8_t f[256];
	uint16_t len = query4(f, "www.example.test", 1);
	struct rte_mbuf *ms[3] = {mbuf_of(f, len), mbuf_of(f, len), mbuf_of(f, len)};
	struct rte_mbuf *shared = ms[2];
	uint64_t before = STAT(drop_vlan_tx);

	/* No headroom left in the first, the third shared. */
	ms[0]->data_off = 0;
	rte_mbuf_refcnt_update(shared, 1);
	ck_assert_uint_eq(dp_vlan_tag_burst(worker, ms, 3), 1);
	ck_assert_uint_eq(STAT(drop_vlan_tx), before + 2);
	ck_assert_uint_eq(ms[0]->pkt_len, len + 4u);
	ck_assert_uint_eq(px_get16(rte_pktmbuf_mtod(ms[0], uint8_t *) + 12), RTE_ETHER_TYPE_VLAN);
	ck_assert_mem_eq(rte_pktmbuf_mtod(ms[0], uint8_t *) + 16, f + 12, len - 12u);
	rte_pktmbuf_free(ms[0]);
	ck_assert_uint_eq(rte_mbuf_refcnt_read(shared), 1);
	rte_pktmbuf_free(shared);
	ck_assert_uint_eq(rte_mempool_in_use_count(pool), pool_base);
}
END_TEST

/* Without --vlan nothing changes: untagged frames are answered untagged, tagged ones dropped
 * as an EtherType not served. */
START_TEST(test_vlan_off_unchanged)
{
	uint8_t f[256], t[260];
	uint16_t len = query4(f, "www.example.test", 0x7777);
	uint64_t et = STAT(drop_ethertype);
	struct rte_mbuf *m;

	ctx.port.vlan = 0;
	rx(f, len);
	m = tx_next();
	ck_assert_ptr_nonnull(m);
	check_answer4(m, 0x7777, cached_addr);
	rx(t, tag(t, f, len, RTE_ETHER_TYPE_VLAN, VID));
	ctx.port.vlan = VID;
	ck_assert_uint_eq(STAT(drop_ethertype), et + 1);
	ck_assert_ptr_null(tx_next());
}
END_TEST

static Suite *
vlan_suite(void)
{
	Suite *s = suite_create("vlan");
	TCase *tc = tcase_create("tagged");

	/* First: the worker asks for its gateway at its first iteration. */
	tcase_add_test(tc, test_vlan_upstream_and_neighbour_tagged);
	tcase_add_test(tc, test_vlan_query_answered_tagged);
	tcase_add_test(tc, test_vlan_untagged_other_and_double_dropped);
	tcase_add_test(tc, test_vlan_arp_and_nd_answered_tagged);
	tcase_add_test(tc, test_vlan_tcp_exception_path);
	tcase_add_test(tc, test_vlan_offload_flags);
	tcase_add_test(tc, test_vlan_tag_needs_room);
	tcase_add_test(tc, test_vlan_off_unchanged);
	suite_add_tcase(s, tc);
	return s;
}

static void
cache_fill(void)
{
	static const uint8_t a_rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 198, 51, 100, 10};
	struct dp_cache_key k = {.qtype = PX_DNS_TYPE_A, .qclass = 1, .kind = DP_CACHE_RRSET};
	uint16_t off = 6;
	struct dp_cache_answer a = {.flags = DP_CACHE_F_PINNED, .ttl = 300, .an_count = 1,
				    .rr = a_rr, .rr_len = sizeof(a_rr), .ttl_off = &off,
				    .ttl_off_count = 1};

	k.name_len = (uint8_t)px_test_name(k.name, "www.example.test");
	struct dp_cache_entry *e = dp_cache_entry_new(ctx.cache, &k, &a, 0);

	if (e == NULL || dp_cache_insert(ctx.cache, e) != 0)
		rte_exit(2, "test_vlan: cannot fill the cache\n");
}

/* Recursion as control/main.c's recurse_conf() sets it up for --gateway 198.18.0.254, IPv4
 * only, without priming or QNAME minimisation (one question, one answer). */
static void
recursion_setup(struct dp_miss_conf *rconf)
{
	hints = rte_zmalloc(NULL, px_hints_size(1), RTE_CACHE_LINE_SIZE);
	if (hints == NULL)
		rte_exit(2, "test_vlan: out of memory\n");
	hints->generation = 1;
	hints->ns_count = 1;
	hints->ttl = 518400;
	hints->ns[0].name_len = (uint8_t)px_test_name(hints->ns[0].name, "a.root.test");
	hints->ns[0].v4_count = 1;
	px_addr_set4(&hints->ns[0].addr[0], ROOT_IP4, 0);
	hints->checksum = px_hints_checksum(hints);
	ctx.hints = hints;
	px_addr_policy_init(&policy);
	px_addr_policy_set_self4(&policy, H->server_ip4, 24);
	memset(rconf, 0, sizeof(*rconf));
	rconf->has_gw4 = true;
	rconf->gw4 = GW_IP4;
	rconf->slots = 64;
	px_resolver_config_default(&rconf->resolve);
	rconf->resolve.use_ipv4 = true;
	rconf->resolve.qname_min = false;
	rconf->policy = &policy;
	rconf->rto_min_ms = PX_UPQ_RTT_UNKNOWN_MS;
}

/* The TCP side as ctl_tcp_create() gives a worker: the tun port and the rings. */
static struct dp_tcp_lcore *
tcp_setup(void)
{
	struct dp_tcp_lcore *t = rte_zmalloc(NULL, sizeof(*t), RTE_CACHE_LINE_SIZE);

	if (t == NULL)
		rte_exit(2, "test_vlan: out of memory\n");
	t->tun_port = px_test_ring_port("net_ring_vlan_tun", pool, &tun_rx_ring, &tun_tx_ring);
	t->msg_pool = msg_pool;
	t->in = rte_ring_create("vlan_tcp_in", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	t->out = rte_ring_create("vlan_tcp_out", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (t->in == NULL || t->out == NULL)
		rte_exit(2, "test_vlan: cannot create the TCP rings\n");
	return t;
}

static void
setup(void)
{
	const struct dp_worker_ctx_conf cc = {
		.name = "test_vlan", .cache_size = 1024, .resolvers = 1,
	};
	struct dp_miss_conf rconf;

	px_test_eal_init("test_vlan", "0", NULL);
	dp_clock_init();
	pool = rte_pktmbuf_pool_create("test_vlan_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	msg_pool = rte_pktmbuf_pool_create("test_vlan_msgs", 255, 0, (uint16_t)DP_TCP_META_SIZE,
					   RTE_PKTMBUF_HEADROOM + DP_TCP_MSG_ROOM, 0);
	if (pool == NULL || msg_pool == NULL)
		rte_exit(2, "test_vlan: cannot create the pools\n");
	ctx.port.port_id = px_test_ring_port("net_ring_vlan", pool, &rx_ring, &tx_ring);
	memcpy(ctx.port.mac.addr_bytes, H->server_mac, 6);
	ctx.port.vlan = VID;
	ctx.port.has_ip4 = true;
	ctx.port.ip4 = H->server_ip4;
	ctx.port.ip4_prefix = 24;
	ctx.port.has_ip6 = true;
	memcpy(ctx.port.ip6, H->server_ip6, 16);
	ctx.port.ip6_prefix = 64;
	dp_port_conf_derive(&ctx.port);
	if (dp_worker_ctx_build(&ctx, &cc) != 0)
		rte_exit(2, "test_vlan: cannot build the worker's shared state\n");
	cache_fill();
	recursion_setup(&rconf);
	worker = dp_worker_build(&(struct dp_worker_conf){
		.ctx = &ctx, .lcore_id = rte_lcore_id(), .pool = pool, .miss = &rconf,
		.now_ms = dp_clock_ms(), .tcp = tcp_setup(),
	});
	if (worker == NULL)
		rte_exit(2, "test_vlan: dp_worker_build: %s\n", strerror(errno));
	pool_base = rte_mempool_in_use_count(pool);
}

int
main(void)
{
	SRunner *sr;
	int failed;

	setup();
	sr = srunner_create(vlan_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	dp_worker_free(worker);
	dp_worker_ctx_free(&ctx);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
