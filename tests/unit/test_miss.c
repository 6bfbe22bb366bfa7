/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Iterative resolution end to end through a net_ring ethdev: a worker lcore runs the real loop
 * (dp_loop_run) with its resolution state (dp_miss.h) built as control/main.c builds it,
 * while the test, on the main lcore, plays every other host through the port's rings: the
 * client, the gateway (it answers the worker's ARP request), the root server of a one-server
 * hints table and the authoritative servers below it. Every frame the worker transmits goes
 * through one reader that checks it is for the client, the gateway's ARP, or a valid upstream
 * address, so no case can miss a frame sent where it must not be.
 *
 * The delegations the scripted root hands out (QNAME minimisation is on, as in the daemon: the
 * root is first asked for "test", an empty non-terminal, and answers NODATA):
 *   example.test  ns.example.test 198.18.3.1          answers A 198.51.100.7 below the zone
 *   forged.test   ns.forged.test 198.18.6.1           the same, for the forged-reply case
 *   bad.test      ns.bad.test 0.0.0.0                 invalid glue only
 *   allbad.test   ns1-5.allbad.test, each invalid     0/8, broadcast, multicast, loopback, 240/4
 *   self.test     ns1-5.self.test, each invalid       pollux's own address, its /24's broadcast
 *                                                     and network address, 169.254.169.254,
 *                                                     64:ff9b::7f00:1 (127.0.0.1 via NAT64)
 *   slow.test     ns1/ns2.slow.test 198.18.4.1/.2     the first one asked never answers
 *   dead.test     ns.dead.test 198.18.5.1             never answers
 *   onlink.test   ns.onlink.test 198.18.0.53          on pollux's own /24: reached by its own
 *                                                     ARP entry, not through the gateway
 *   noarp.test    ns.noarp.test 198.18.0.54           on the /24 too, but never answers ARP:
 *                                                     no query to it can leave
 *   tc.test       ns.tc.test 198.18.7.1               answers over UDP with TC set and no
 *   tc2.test      ns1/ns2.tc2.test 198.18.8.1/.2      records (the same): the answer comes
 *                                                     only through the TCP retry
 *
 * A second worker state (on queue 1, never launched) is driven from the main lcore by calling
 * dp_rx_burst_handle() on it: the two share the source-port owner map and the hand-off rings as
 * control/main.c sets them up for two workers, so a reply delivered to the wrong worker must
 * reach the one that owns its port.
 *
 * Priming is on (the worker primes and caches the root cut itself; the test reads its record
 * through ctl_prime as the control thread does): the first thing the worker sends once it knows
 * the gateway is ". NS" to the root hint, and the test answers it and checks the root cut lands
 * in the cache. Each worker puts what it resolves in the cache before it answers, so a case
 * that needs a fresh resolution asks a name no earlier case asked.
 *
 * TCP is on as control/main.c sets it up (dp_tcp.h): the worker has a tun port (a net_ring that
 * nothing goes through here) and the rings to the TCP thread, and the test plays that thread:
 * it takes the worker's upstream TCP requests off the ring and returns a reply or a failure in
 * the same mbuf, as control/ctl_tcp.c does.
 *
 * The "priming" cases need a clock they can move: the refresh of a root cut is due after 0.9 of
 * its TTL and the backoff grows to 60 s. They use a third worker state, the primer, with its
 * own net_ring port, cache, neighbour table, priming record (its control side in pstate) and
 * TCP rings, which the test steps itself on the main lcore (primer_step: the TCP poll and the
 * resolution tick, in dp_loop_run's order, with lc->now_ms set by the test). Everything it
 * does runs the worker's code; only time is the test's, so the cases are exact to the
 * millisecond and take no wall-clock time.
 */
#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
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
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <pollux/addr_policy.h>
#include <pollux/hints.h>
#include <pollux/prime.h>
#include <pollux/resolver.h>
#include <pollux/upstream.h>
#include <pollux/wire.h>

#include "ctl_config.h"
#include "ctl_prime.h"
#include "dp_cache.h"
#include "dp_clock.h"
#include "dp_cut.h"
#include "dp_lcore.h"
#include "dp_nbr.h"
#include "dp_miss.h"
#include "dp_tcp.h"
#include "testlib.h"
#include "testlib_pkt.h"

#define GW_IP4 RTE_BE32(0xc6120001)      /* 198.18.0.1 */
#define ROOT_IP4 RTE_BE32(0xc6120101)    /* 198.18.1.1 */
#define EXAMPLE_IP4 RTE_BE32(0xc6120301) /* 198.18.3.1 */
#define SLOW1_IP4 RTE_BE32(0xc6120401)   /* 198.18.4.1 */
#define SLOW2_IP4 RTE_BE32(0xc6120402)   /* 198.18.4.2 */
#define DEAD_IP4 RTE_BE32(0xc6120501)    /* 198.18.5.1 */
#define FORGED_IP4 RTE_BE32(0xc6120601)  /* 198.18.6.1 */
#define ONLINK_IP4 RTE_BE32(0xc6120035)  /* 198.18.0.53: in pollux's 198.18.0.0/24 */
#define NOARP_IP4 RTE_BE32(0xc6120036)   /* 198.18.0.54: the same, silent on the link */
#define TC_IP4 RTE_BE32(0xc6120701)      /* 198.18.7.1 */
#define TC2A_IP4 RTE_BE32(0xc6120801)    /* 198.18.8.1 */
#define TC2B_IP4 RTE_BE32(0xc6120802)    /* 198.18.8.2 */
#define ANSWER_ADDR "198.51.100.7"
/* Bounds on waits: far above what anything takes, so only a hang reaches them. */
#define WAIT_FRAME_MS 2000
#define WAIT_TIMEOUT_MS 4000 /* a server's RTO is at most PX_UPQ_RTO_MAX_MS */
#define REC_SLOTS 64

/* The client, and pollux itself (the hosts' "server"). */
static const struct px_test_hosts hosts = {
	.client_mac = {0x02, 0, 0, 0, 0, 0x01},
	.server_mac = {0x02, 0, 0, 0, 0, 0x02},
	.client_ip4 = RTE_BE32(0xc612000a), /* 198.18.0.10 */
	.server_ip4 = RTE_BE32(0xc6120002), /* 198.18.0.2 */
};
static const uint8_t gw_mac[6] = {0x02, 0, 0, 0, 0, 0xfe};
static const uint8_t onlink_mac[6] = {0x02, 0, 0, 0, 0, 0x53};
static const uint8_t root_name[1] = {0};

struct deleg {
	const char *zone;
	unsigned ns_count;
	const char *ns[5];
	const char *glue[5];
	bool tc; /* its servers answer over UDP with TC and no records: the answer is TCP only */
	/* Its servers delegate child (at or below it) to child_ns at child_glue; a zone with
	 * `below` set is such a child, which the root does not know. */
	const char *child, *child_ns, *child_glue;
	bool below;
};

static const struct deleg delegs[] = {
	{"example.test", 1, {"ns.example.test"}, {"198.18.3.1"}},
	{"forged.test", 1, {"ns.forged.test"}, {"198.18.6.1"}},
	{"bad.test", 1, {"ns.bad.test"}, {"0.0.0.0"}},
	{"allbad.test", 5,
	 {"ns1.allbad.test", "ns2.allbad.test", "ns3.allbad.test", "ns4.allbad.test",
	  "ns5.allbad.test"},
	 {"0.0.0.0", "255.255.255.255", "224.0.0.1", "127.0.0.1", "240.0.0.1"}},
	{"self.test", 5,
	 {"ns1.self.test", "ns2.self.test", "ns3.self.test", "ns4.self.test", "ns5.self.test"},
	 {"198.18.0.2", "198.18.0.255", "198.18.0.0", "169.254.169.254", "64:ff9b::7f00:1"}},
	{"slow.test", 2, {"ns1.slow.test", "ns2.slow.test"}, {"198.18.4.1", "198.18.4.2"}},
	{"dead.test", 1, {"ns.dead.test"}, {"198.18.5.1"}},
	{"onlink.test", 1, {"ns.onlink.test"}, {"198.18.0.53"}},
	{"noarp.test", 1, {"ns.noarp.test"}, {"198.18.0.54"}},
	{"tc.test", 1, {"ns.tc.test"}, {"198.18.7.1"}, true},
	{"tc2.test", 2, {"ns1.tc2.test", "ns2.tc2.test"}, {"198.18.8.1", "198.18.8.2"}, true},
	/* The sharing cases (the crowd worker). */
	{"crowd.test", 1, {"ns.crowd.test"}, {"198.18.9.1"}},
	{"tld.test", 3, {"a.tld.test", "b.tld.test", "c.tld.test"},
	 {"198.18.10.1", "198.18.10.2", "198.18.10.3"}, .child = "zone.tld.test",
	 .child_ns = "ns.zone.tld.test", .child_glue = "198.18.11.1"},
	{"zone.tld.test", 1, {"ns.zone.tld.test"}, {"198.18.11.1"}, .below = true},
	{"pair.test", 2, {"ns1.pair.test", "ns2.pair.test"}, {"198.18.12.1", "198.18.12.2"}},
	{"lower.test", 1, {"ns.lower.test"}, {"198.18.13.1"}},
};

static struct rte_mempool *pool;
static struct rte_ring *rx_ring, *tx_ring;
static struct dp_ctx ctx;
static struct dp_lcore *worker;
static struct px_addr_policy policy;
static struct px_hints *hints;
static unsigned mbuf_baseline;
static uint64_t sent_count;
static bool gateway_known;
static uint64_t no_neigh_expected; /* queries a case made wait for a neighbour on purpose */
/* The second worker's state, driven from the main lcore (see the header). */
static struct dp_lcore *other;
static uint8_t *port_owner;
static struct rte_ring *handoff[2];
static struct ctl_config ctl_cfg;
static struct ctl_prime_state prime_state;
/* The worker's TCP side (dp_tcp.h) as control/main.c gives it: a tun port (a net_ring here:
 * nothing goes through it in these cases) and the rings to the TCP thread, which the test
 * plays. */
static struct rte_mempool *msg_pool;
static struct rte_ring *tun_rx_ring, *tun_tx_ring;
static struct dp_tcp_lcore *tcp;
static unsigned msg_baseline;
/* The priming worker of the "priming" cases (see the header): its own port, cache, neighbour
 * table, priming record and TCP rings, its control side in pstate, its clock in pnow. */
static struct dp_ctx pctx;
static struct dp_lcore *primer;
static struct dp_tcp_lcore *ptcp;
static struct rte_ring *prx_ring, *ptx_ring, *ptun_rx_ring, *ptun_tx_ring;
static struct ctl_prime_state pstate;
static uint64_t pnow;
static bool primer_known;
/* The crowd worker of the sharing cases, stepped by the test like the primer; its clock. */
static struct dp_ctx cctx;
static struct dp_lcore *crowd;
static struct dp_tcp_lcore *ctcp;
static struct rte_ring *crx_ring, *ctx_ring, *ctun_rx_ring, *ctun_tx_ring;
static uint64_t cnow;
static bool crowd_known;

static uint64_t
stat(size_t off)
{
	return __atomic_load_n((uint64_t *)((uint8_t *)&worker->stats + off), __ATOMIC_RELAXED);
}
#define STAT(name) stat(offsetof(struct px_stats, name))

/* Spins (bounded) until a counter reaches want. */
static void
wait_stat(size_t off, uint64_t want)
{
	uint64_t end = dp_clock_ms() + WAIT_FRAME_MS;

	while (stat(off) < want && dp_clock_ms() < end)
		rte_pause();
	ck_assert_uint_ge(stat(off), want);
}
#define WAIT_STAT(name, want) wait_stat(offsetof(struct px_stats, name), want)

/* Sends one frame to the worker and waits until the loop iteration that took it has ended:
 * handled, ticked and flushed. rx_pkts is counted before the burst is handled; the next empty
 * poll (idle_polls) comes after that iteration's tick. */
static void
send_frame(const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint64_t idle;

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, len), frame, len);
	ck_assert_int_eq(rte_ring_enqueue(rx_ring, m), 0);
	sent_count++;
	WAIT_STAT(rx_pkts, sent_count);
	idle = STAT(idle_polls);
	WAIT_STAT(idle_polls, idle + 1);
}

/* Every frame the worker sends passes here: from our MAC, and either an ARP request for the
 * gateway, an answer to the client, or a datagram via the gateway to an address the policy
 * allows. */
static void
audit(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	ck_assert_uint_eq(m->nb_segs, 1);
	ck_assert_uint_ge(m->data_len, 42);
	ck_assert_mem_eq(e->src_addr.addr_bytes, hosts.server_mac, 6);
	if (e->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(e + 1);

		ck_assert_uint_eq(a->arp_opcode, RTE_BE16(RTE_ARP_OP_REQUEST));
		ck_assert(a->arp_data.arp_tip == GW_IP4 || a->arp_data.arp_tip == ONLINK_IP4 ||
			  a->arp_data.arp_tip == NOARP_IP4);
		return;
	}
	ck_assert_uint_eq(e->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV4));
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(e + 1);

	ck_assert_int_eq(px_addr_check4(&policy, ip->dst_addr), PX_ADDR_OK);
	if (ip->dst_addr == hosts.client_ip4)
		ck_assert_mem_eq(e->dst_addr.addr_bytes, hosts.client_mac, 6);
	else if (ip->dst_addr == ONLINK_IP4)
		ck_assert_mem_eq(e->dst_addr.addr_bytes, onlink_mac, 6);
	else
		ck_assert_mem_eq(e->dst_addr.addr_bytes, gw_mac, 6);
}

/* The next frame the worker sends, waiting up to wait_ms; NULL if none came. */
static struct rte_mbuf *
tx_next(uint64_t wait_ms)
{
	uint64_t end = dp_clock_ms() + wait_ms;
	struct rte_mbuf *m;

	while (rte_ring_dequeue(tx_ring, (void **)&m) != 0) {
		if (dp_clock_ms() > end)
			return NULL;
		rte_pause();
	}
	audit(m);
	return m;
}

/* Nothing is sent for quiet_ms. */
static void
expect_quiet(uint64_t quiet_ms)
{
	struct rte_mbuf *m = tx_next(quiet_ms);

	if (m != NULL)
		rte_pktmbuf_free(m);
	ck_assert_ptr_null(m);
}

/* Reads an uncompressed name at *pos into presentation form ("." for the root). */
static void
read_name(const uint8_t *p, uint16_t len, uint16_t *pos, char *out)
{
	size_t o = 0;

	for (;;) {
		ck_assert_uint_lt(*pos, len);
		uint8_t l = p[(*pos)++];

		if (l == 0)
			break;
		ck_assert_uint_le(l, 63);
		ck_assert_uint_le(*pos + l, len);
		memcpy(out + o, p + *pos, l);
		o += l;
		out[o++] = '.';
		*pos = (uint16_t)(*pos + l);
	}
	if (o == 0)
		out[o++] = '.';
	else
		o--;
	out[o] = '\0';
}

/* name is zone or below it (both presentation form, compared without case). */
static bool
name_below(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	if (strcmp(zone, ".") == 0 || strcasecmp(name, zone) == 0)
		return true;
	return n > z + 1 && name[n - z - 1] == '.' && strcasecmp(name + n - z, zone) == 0;
}

/* An upstream query as the worker sent it. */
struct upq {
	uint32_t dst; /* network order */
	uint16_t sport;
	uint16_t id;
	uint16_t qtype;
	char qname[PX_DNS_NAME_BUF];
};

/* Checks an upstream query message (d, dlen bytes) from header to OPT and fills q's id,
 * qtype and qname: the same checks over UDP and for a TCP retry. */
static void
parse_upq_dns(const uint8_t *d, uint16_t dlen, struct upq *q)
{
	uint16_t pos = PX_DNS_HDR_LEN;

	ck_assert_uint_ge(dlen, PX_DNS_HDR_LEN);
	q->id = px_get16(d);
	/* QR, opcode, AA, TC, RD (an authoritative server is asked) and rcode all clear. */
	ck_assert_uint_eq(px_get16(d + 2), 0);
	ck_assert_uint_eq(px_get16(d + 4), 1);
	ck_assert_uint_eq(px_get16(d + 6), 0);
	ck_assert_uint_eq(px_get16(d + 8), 0);
	ck_assert_uint_eq(px_get16(d + 10), 1);
	read_name(d, dlen, &pos, q->qname);
	ck_assert_uint_le(pos + 4u + PX_DNS_OPT_LEN, dlen);
	q->qtype = px_get16(d + pos);
	ck_assert_uint_eq(px_get16(d + pos + 2), PX_DNS_CLASS_IN);
	pos += 4;
	/* EDNS: an OPT owned by the root, our buffer size, version 0, DO clear, no options. */
	ck_assert_uint_eq(d[pos], 0);
	ck_assert_uint_eq(px_get16(d + pos + 1), PX_DNS_TYPE_OPT);
	ck_assert_uint_eq(px_get16(d + pos + 3), PX_DNS_EDNS_BUFSIZE);
	ck_assert_uint_eq(px_get32(d + pos + 5), 0);
	ck_assert_uint_eq(px_get16(d + pos + 9), 0);
	ck_assert_uint_eq(pos + PX_DNS_OPT_LEN, dlen);
}

/* Checks an upstream query frame from headers to OPT and fills q. */
static void
parse_upq(const struct rte_mbuf *m, struct upq *q)
{
	const struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(e + 1);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);

	ck_assert_mem_eq(e->dst_addr.addr_bytes, ip->dst_addr == ONLINK_IP4 ? onlink_mac : gw_mac, 6);
	ck_assert_uint_eq(ip->version_ihl, RTE_IPV4_VHL_DEF);
	ck_assert_uint_eq(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
	ck_assert_uint_eq(ip->next_proto_id, IPPROTO_UDP);
	ck_assert_uint_eq(ip->src_addr, hosts.server_ip4);
	ck_assert_uint_eq(rte_be_to_cpu_16(ip->total_length) + 14u, m->pkt_len);
	ck_assert_int_eq(rte_ipv4_udptcp_cksum_verify(ip, udp), 0);
	ck_assert_uint_eq(udp->dst_port, RTE_BE16(PX_DNS_PORT));
	q->dst = ip->dst_addr;
	q->sport = rte_be_to_cpu_16(udp->src_port);
	ck_assert_uint_ge(q->sport, 1024);
	ck_assert_uint_ge(rte_be_to_cpu_16(udp->dgram_len), sizeof(*udp));
	parse_upq_dns((const uint8_t *)(udp + 1),
		      (uint16_t)(rte_be_to_cpu_16(udp->dgram_len) - sizeof(*udp)), q);
}

/* The priming query the worker sent at start (gateway_ready). */
static struct upq prime_query;
/* The primer's last priming query, and its sent-frame reader (see the priming cases). */
static struct upq prime_q;
static bool primer_sent(struct upq *q);

/* A frame the worker sent: an upstream query (parsed, mbuf freed) or a client answer. */
struct frame {
	bool upstream;
	struct upq q;
	struct rte_mbuf *m; /* a client answer: the caller frees it */
	const uint8_t *dns;
	uint16_t dns_len;
	uint16_t dport;
};

static void
frame_parse(struct rte_mbuf *m, struct frame *f)
{
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;

	ck_assert_ptr_nonnull(m);
	memset(f, 0, sizeof(*f));
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, 14);
	ck_assert_uint_eq(rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type,
			  RTE_BE16(RTE_ETHER_TYPE_IPV4));
	if (ip->dst_addr != hosts.client_ip4) {
		f->upstream = true;
		parse_upq(m, &f->q);
		rte_pktmbuf_free(m);
		return;
	}
	udp = (const struct rte_udp_hdr *)(ip + 1);
	ck_assert_uint_eq(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
	ck_assert_uint_eq(ip->src_addr, hosts.server_ip4);
	ck_assert_int_eq(rte_ipv4_udptcp_cksum_verify(ip, udp), 0);
	ck_assert_uint_eq(udp->src_port, RTE_BE16(PX_DNS_PORT));
	ck_assert_uint_eq(rte_be_to_cpu_16(ip->total_length) + 14u, m->pkt_len);
	f->m = m;
	f->dport = rte_be_to_cpu_16(udp->dst_port);
	f->dns = (const uint8_t *)(udp + 1);
	f->dns_len = (uint16_t)(rte_be_to_cpu_16(udp->dgram_len) - sizeof(*udp));
	ck_assert_uint_ge(f->dns_len, PX_DNS_HDR_LEN);
}

static void
frame_next(struct frame *f, uint64_t wait_ms)
{
	frame_parse(tx_next(wait_ms), f);
}

/* A query from the client (RD, EDNS 1232). */
static void
client_ask(uint16_t port, uint16_t id, const char *name, uint16_t qtype)
{
	uint8_t dns[512], f[600] __rte_aligned(8);
	const struct px_test_query q = {.id = id, .flags = PX_DNS_RD, .name = name, .qtype = qtype,
					.qclass = PX_DNS_CLASS_IN, .edns = true,
					.edns_bufsize = 1232};
	uint16_t dlen = px_test_query(dns, &q);

	send_frame(f, px_test_frame_udp4(f, &hosts, port, PX_DNS_PORT, dns, dlen));
}

/* A datagram from server src (via the gateway) to pollux. */
static void
server_send(uint32_t src, uint16_t sport, uint16_t dport, const struct px_test_msg *r)
{
	uint8_t f[1600] __rte_aligned(8);
	struct px_test_hosts h = {.client_ip4 = src, .server_ip4 = hosts.server_ip4};

	memcpy(h.client_mac, gw_mac, 6);
	memcpy(h.server_mac, hosts.server_mac, 6);
	ck_assert_uint_lt(r->len, 1500);
	send_frame(f, px_test_frame_udp4(f, &h, sport, dport, r->buf, r->len));
}

static const struct deleg *
deleg_of_server(uint32_t addr_be)
{
	for (unsigned i = 0; i < RTE_DIM(delegs); i++)
		for (unsigned k = 0; k < delegs[i].ns_count; k++) {
			uint32_t a;

			if (strchr(delegs[i].glue[k], ':') != NULL)
				continue; /* an IPv6 glue address: never queried by this worker */
			ck_assert_int_eq(inet_pton(AF_INET, delegs[i].glue[k], &a), 1);
			if (a == addr_be)
				return &delegs[i];
		}
	return NULL;
}

/* What the scripted authoritative server at q->dst answers to q. */
static void
auth_reply(struct px_test_msg *r, const struct upq *q)
{
	if (q->dst == ROOT_IP4) {
		bool ent = false;

		for (unsigned i = 0; i < RTE_DIM(delegs); i++) {
			const struct deleg *d = &delegs[i];

			if (d->below)
				continue;
			if (name_below(q->qname, d->zone)) {
				px_test_msg_start(r, q->id, PX_DNS_QR, q->qname, q->qtype);
				for (unsigned k = 0; k < d->ns_count; k++)
					px_test_msg_target(r, 1, d->zone, PX_DNS_TYPE_NS, 172800,
							   d->ns[k]);
				for (unsigned k = 0; k < d->ns_count; k++)
					px_test_msg_addr(r, 2, d->ns[k], d->glue[k]);
				return;
			}
			ent = ent || name_below(d->zone, q->qname);
		}
		/* An empty non-terminal ("test") is NODATA; anything else does not exist. */
		px_test_msg_start(r, q->id, PX_DNS_QR | PX_DNS_AA |
				  (ent ? PX_DNS_RCODE_NOERROR : PX_DNS_RCODE_NXDOMAIN),
				  q->qname, q->qtype);
		px_test_msg_soa(r, 1, ".", 86400, 3600);
		return;
	}
	const struct deleg *d = deleg_of_server(q->dst);

	ck_assert_ptr_nonnull(d);
	if (d->child != NULL && name_below(q->qname, d->child)) {
		px_test_msg_start(r, q->id, PX_DNS_QR, q->qname, q->qtype);
		px_test_msg_target(r, 1, d->child, PX_DNS_TYPE_NS, 172800, d->child_ns);
		px_test_msg_addr(r, 2, d->child_ns, d->child_glue);
		return;
	}
	px_test_msg_start(r, q->id, PX_DNS_QR | PX_DNS_AA, q->qname, q->qtype);
	if (q->qtype == PX_DNS_TYPE_A && name_below(q->qname, d->zone) &&
	    strcasecmp(q->qname, d->zone) != 0)
		px_test_msg_addr(r, 0, NULL, ANSWER_ADDR);
	else
		px_test_msg_soa(r, 1, d->zone, 3600, 300);
}

/* A root server's answer to the priming query q: the root's NS set (a.root.test, NS TTL ttl)
 * and its address addr, authoritatively; with TC (addr NULL) no records at all. */
static void
prime_answer(struct px_test_msg *r, const struct upq *q, const char *addr, uint32_t ttl)
{
	ck_assert_str_eq(q->qname, ".");
	ck_assert_uint_eq(q->qtype, PX_DNS_TYPE_NS);
	px_test_msg_start(r, q->id, PX_DNS_QR | PX_DNS_AA | (addr == NULL ? PX_DNS_TC : 0), ".",
			  PX_DNS_TYPE_NS);
	if (addr != NULL) {
		px_test_msg_target(r, 0, ".", PX_DNS_TYPE_NS, ttl, "a.root.test");
		px_test_msg_addr(r, 2, "a.root.test", addr);
	}
	px_test_msg_opt(r, 0);
}

static void
answer_upq(const struct upq *q)
{
	struct px_test_msg r;

	if (q->dst == ROOT_IP4 && q->qtype == PX_DNS_TYPE_NS && strcmp(q->qname, ".") == 0) {
		prime_answer(&r, q, "198.18.1.1", 518400);
		server_send(q->dst, PX_DNS_PORT, q->sport, &r);
		return;
	}
	const struct deleg *d = q->dst == ROOT_IP4 ? NULL : deleg_of_server(q->dst);

	if (d != NULL && d->tc) {
		/* Too big for UDP, as a server says it: TC, the question, our OPT, no records. */
		px_test_msg_start(&r, q->id, PX_DNS_QR | PX_DNS_AA | PX_DNS_TC, q->qname, q->qtype);
		px_test_msg_opt(&r, 0);
	} else {
		auth_reply(&r, q);
	}
	server_send(q->dst, PX_DNS_PORT, q->sport, &r);
}

/* Plays the servers until the worker sends a client answer (returned in f); the addresses
 * queried, in order, go to path. Stops short of answering a query to `silent` (0: none), which
 * is then returned as an upstream frame. */
static unsigned
serve(struct frame *f, uint32_t *path, unsigned path_max, uint32_t silent)
{
	unsigned n = 0;

	for (;;) {
		frame_next(f, WAIT_FRAME_MS);
		if (!f->upstream)
			return n;
		ck_assert_uint_lt(n, path_max);
		path[n++] = f->q.dst;
		if (f->q.dst == silent)
			return n;
		answer_upq(&f->q);
	}
}

/* The Extended DNS Error of the last answer check_client_answer() read (-1: none). */
static int last_ede = -1;
static char last_ede_text[PX_DNS_EDE_TEXT_MAX + 1];

/* Reads the OPT at d[pos] (the answer's last record): its options must fill its rdata exactly,
 * and an EDE option among them goes to last_ede. Returns the OPT's end. */
static uint16_t
read_opt(const uint8_t *d, uint16_t len, uint16_t pos)
{
	uint16_t rdlen, end;

	last_ede = -1;
	last_ede_text[0] = '\0';
	ck_assert_uint_ge(len, pos + PX_DNS_OPT_LEN);
	ck_assert_uint_eq(d[pos], 0);
	ck_assert_uint_eq(px_get16(d + pos + 1), PX_DNS_TYPE_OPT);
	rdlen = px_get16(d + pos + 9);
	end = (uint16_t)(pos + PX_DNS_OPT_LEN + rdlen);
	ck_assert_uint_le(end, len);
	for (uint16_t o = pos + PX_DNS_OPT_LEN; o < end;) {
		uint16_t code, olen;

		ck_assert_uint_le(o + 4, end);
		code = px_get16(d + o);
		olen = px_get16(d + o + 2);
		ck_assert_uint_le(o + 4 + olen, end);
		if (code == PX_DNS_OPT_EDE) {
			ck_assert_uint_ge(olen, 2);
			ck_assert_uint_le(olen - 2, PX_DNS_EDE_TEXT_MAX);
			last_ede = px_get16(d + o + 4);
			memcpy(last_ede_text, d + o + 6, olen - 2u);
			last_ede_text[olen - 2] = '\0';
		}
		o = (uint16_t)(o + 4 + olen);
	}
	return end;
}

/* The client answer in f: to `port`, with `id`, its question as asked, flags QR RD RA and
 * rcode; for NOERROR one A record ANSWER_ADDR. A SERVFAIL must carry an Extended DNS Error
 * (left in last_ede). */
static void
check_client_answer(const struct frame *f, uint16_t port, uint16_t id, const char *qname,
		    uint8_t rcode)
{
	const uint8_t *d = f->dns;
	uint8_t qwire[PX_DNS_NAME_BUF];
	unsigned qlen = px_test_name(qwire, qname);
	uint16_t pos = (uint16_t)(PX_DNS_HDR_LEN + qlen + 4);

	ck_assert(!f->upstream);
	ck_assert_uint_eq(f->dport, port);
	ck_assert_uint_eq(px_get16(d), id);
	ck_assert_uint_eq(px_get16(d + 2), PX_DNS_QR | PX_DNS_RD | PX_DNS_RA | rcode);
	ck_assert_uint_eq(px_get16(d + 4), 1);
	ck_assert_uint_eq(px_get16(d + 10), 1); /* our OPT: the client sent EDNS */
	/* The question echoed byte for byte, letter case included. */
	ck_assert_uint_ge(f->dns_len, pos);
	ck_assert_mem_eq(d + PX_DNS_HDR_LEN, qwire, qlen);
	ck_assert_uint_eq(px_get16(d + PX_DNS_HDR_LEN + qlen), PX_DNS_TYPE_A);
	if (rcode != PX_DNS_RCODE_NOERROR) {
		ck_assert_uint_eq(px_get16(d + 6), 0);
		ck_assert_uint_eq(px_get16(d + 8), 0);
		ck_assert_uint_eq(read_opt(d, f->dns_len, pos), f->dns_len);
		if (rcode == PX_DNS_RCODE_SERVFAIL)
			ck_assert_int_ge(last_ede, 0);
		return;
	}
	ck_assert_uint_eq(px_get16(d + 6), 1);
	ck_assert_uint_eq(px_get16(d + 8), 0);
	if ((d[pos] & 0xc0) == 0xc0) {
		pos += 2;
	} else {
		char owner[PX_DNS_NAME_BUF];

		read_name(d, f->dns_len, &pos, owner);
		ck_assert_int_eq(strcasecmp(owner, qname), 0);
	}
	ck_assert_uint_eq(f->dns_len, pos + 10u + 4u + PX_DNS_OPT_LEN);
	ck_assert_uint_eq(px_get16(d + pos), PX_DNS_TYPE_A);
	ck_assert_uint_eq(px_get16(d + pos + 2), PX_DNS_CLASS_IN);
	ck_assert_uint_le(px_get32(d + pos + 4), 300);
	ck_assert_uint_eq(px_get16(d + pos + 8), 4);
	ck_assert_mem_eq(d + pos + 10, "\xc6\x33\x64\x07", 4);
	ck_assert_uint_eq(px_get16(d + pos + 14 + 1), PX_DNS_TYPE_OPT);
}

/* Writes an ARP reply from ip at mac, to pollux, into f (60 bytes, zeroed); returns its length. */
static uint16_t
arp_reply_frame(uint8_t *f, uint32_t ip, const uint8_t *mac)
{
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)f;
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(e + 1);

	memcpy(e->dst_addr.addr_bytes, hosts.server_mac, 6);
	memcpy(e->src_addr.addr_bytes, mac, 6);
	e->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	memcpy(a->arp_data.arp_sha.addr_bytes, mac, 6);
	a->arp_data.arp_sip = ip;
	memcpy(a->arp_data.arp_tha.addr_bytes, hosts.server_mac, 6);
	a->arp_data.arp_tip = hosts.server_ip4;
	return 60;
}

/* An ARP reply from ip at mac, to pollux. */
static void
arp_reply_from(uint32_t ip, const uint8_t *mac)
{
	uint8_t f[60] __rte_aligned(8) = {0};

	send_frame(f, arp_reply_frame(f, ip, mac));
}

/* Takes the next frame, which must be a broadcast ARP request from pollux for tip. */
static void
expect_arp_request(uint32_t tip)
{
	struct rte_mbuf *m = tx_next(WAIT_FRAME_MS);

	ck_assert_ptr_nonnull(m);
	const struct rte_ether_hdr *re = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_arp_hdr *ra = (const struct rte_arp_hdr *)(re + 1);

	ck_assert_uint_eq(re->ether_type, RTE_BE16(RTE_ETHER_TYPE_ARP));
	ck_assert(rte_is_broadcast_ether_addr(&re->dst_addr));
	ck_assert_mem_eq(ra->arp_data.arp_sha.addr_bytes, hosts.server_mac, 6);
	ck_assert_uint_eq(ra->arp_data.arp_sip, hosts.server_ip4);
	ck_assert_uint_eq(ra->arp_data.arp_tip, tip);
	rte_pktmbuf_free(m);
}

/* The worker ARPs for the gateway as soon as it runs; the test answers as the gateway. Every
 * case starts here (only the first does the exchange). */
static void
gateway_ready(void)
{
	struct rte_mbuf *m;

	if (gateway_known)
		return;
	expect_arp_request(GW_IP4);
	ck_assert_uint_eq(STAT(rec_neigh_probes), 1);
	arp_reply_from(GW_IP4, gw_mac);
	ck_assert_uint_eq(STAT(rec_neigh_learned), 1);
	/* A probe sent again before the reply arrived (one per DP_MISS_PROBE_INTERVAL_MS) may still
	 * be queued (tx_next() audits it as an ARP request); then comes the priming query, in the
	 * same loop iteration that learned the gateway. */
	for (;;) {
		m = tx_next(WAIT_FRAME_MS);
		ck_assert_ptr_nonnull(m);
		if (rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type !=
		    RTE_BE16(RTE_ETHER_TYPE_ARP))
			break;
		rte_pktmbuf_free(m);
	}
	parse_upq(m, &prime_query);
	rte_pktmbuf_free(m);
	gateway_known = true;
}

/* As the control thread: reads what the priming worker recorded. */
static void
control_drain(void)
{
	ctl_prime_tick(&prime_state);
	dp_cache_reclaim(ctx.cache);
}

/* At start the worker primes: ". NS" to the root hint (RD clear, EDNS: parse_upq checks), and
 * the answer, checked by the worker itself, becomes the root cut in the cache. Then a new
 * question starts from the primed set. */
START_TEST(test_miss_priming_at_start)
{
	uint64_t end;

	gateway_ready();
	ck_assert_uint_eq(prime_query.dst, ROOT_IP4);
	ck_assert_str_eq(prime_query.qname, ".");
	ck_assert_uint_eq(prime_query.qtype, PX_DNS_TYPE_NS);
	ck_assert_uint_eq(STAT(rec_prime_sent), 1);
	ck_assert_ptr_null(dp_cut_find(ctx.cache, root_name, 1, PX_DNS_TYPE_A, dp_clock_ms()));
	answer_upq(&prime_query);
	ck_assert_uint_eq(STAT(rec_prime_replies), 1);
	end = dp_clock_ms() + WAIT_FRAME_MS;
	while (prime_state.accepted == 0 && dp_clock_ms() < end)
		control_drain();
	ck_assert_msg(prime_state.accepted == 1, "priming not accepted: %s", prime_state.failure);
	ck_assert(prime_state.primed);
	ck_assert_uint_eq(prime_state.servers, 1);
	ck_assert_uint_eq(prime_state.ttl, 86400); /* 518400 capped at max-ttl */
	const struct dp_cache_entry *e = dp_cut_find(ctx.cache, root_name, 1, PX_DNS_TYPE_A,
						     dp_clock_ms());

	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->name_len, 1);
	ck_assert_uint_eq(STAT(rec_prime_failed), 0);
	/* Nothing else was sent: no second priming while the root cut is fresh. */
	expect_quiet(20);
	ck_assert_uint_eq(STAT(rec_prime_sent), 1);
}
END_TEST

START_TEST(test_miss_referral_then_answer)
{
	uint64_t started = STAT(rec_started), sent = STAT(rec_queries_sent);
	uint64_t matched = STAT(rec_replies_matched), answered = STAT(rec_answered);
	uint64_t client_answers = STAT(rec_client_answers), timeouts = STAT(rec_timeouts);
	uint32_t path[8];
	struct frame f;
	unsigned n;

	gateway_ready();
	client_ask(40001, 0xbeef, "WwW.ExAmple.TEST", PX_DNS_TYPE_A);
	ck_assert_uint_eq(STAT(rec_started), started + 1);

	/* The first query goes to the root hint, for the (minimised) name. */
	frame_next(&f, WAIT_FRAME_MS);
	ck_assert(f.upstream);
	ck_assert_uint_eq(f.q.dst, ROOT_IP4);
	ck_assert_uint_eq(f.q.qtype, PX_DNS_TYPE_A);
	ck_assert_msg(name_below("www.example.test", f.q.qname), "asked the root for %s",
		      f.q.qname);
	answer_upq(&f.q);
	path[0] = ROOT_IP4;
	n = 1 + serve(&f, path + 1, RTE_DIM(path) - 1, 0);

	/* The root until the referral, then the delegated server for the full name. */
	ck_assert_uint_ge(n, 2);
	for (unsigned i = 0; i + 1 < n; i++)
		ck_assert_uint_eq(path[i], ROOT_IP4);
	ck_assert_uint_eq(path[n - 1], EXAMPLE_IP4);
	check_client_answer(&f, 40001, 0xbeef, "WwW.ExAmple.TEST", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);

	ck_assert_uint_eq(STAT(rec_started), started + 1);
	ck_assert_uint_eq(STAT(rec_queries_sent), sent + n);
	ck_assert_uint_eq(STAT(rec_replies_matched), matched + n);
	ck_assert_uint_eq(STAT(rec_answered), answered + 1);
	ck_assert_uint_eq(STAT(rec_client_answers), client_answers + 1);
	ck_assert_uint_eq(STAT(rec_timeouts), timeouts);
}
END_TEST

/* A reply to q with the question, source or ID changed by the caller. */
static void
forge(const struct upq *q, uint32_t src, uint16_t sport, uint16_t id, const char *qname,
      size_t counter_off)
{
	struct upq fq = *q;
	struct px_test_msg r;
	uint64_t before = stat(counter_off);
	uint64_t matched = STAT(rec_replies_matched);

	fq.id = id;
	snprintf(fq.qname, sizeof(fq.qname), "%s", qname);
	auth_reply(&r, &fq);
	server_send(src, sport, q->sport, &r);
	ck_assert_uint_eq(stat(counter_off), before + 1);
	ck_assert_uint_eq(STAT(rec_replies_matched), matched);
	ck_assert_uint_eq(rte_ring_count(tx_ring), 0);
}
#define FORGE(q, src, sport, id, qname, name) \
	forge(q, src, sport, id, qname, offsetof(struct px_stats, name))

START_TEST(test_miss_forged_replies_dropped)
{
	uint64_t answered = STAT(rec_answered);
	uint32_t path[8];
	struct frame f;
	struct upq q;
	struct px_test_msg r;

	gateway_ready();
	client_ask(40002, 0x1111, "www.forged.test", PX_DNS_TYPE_A);
	/* Through the root to the delegated server, which has not answered yet. */
	serve(&f, path, RTE_DIM(path), FORGED_IP4);
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
	answer_upq(&q);
	ck_assert_uint_eq(serve(&f, path, RTE_DIM(path), 0), 0);
	check_client_answer(&f, 40002, 0x1111, "www.forged.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	ck_assert_uint_eq(STAT(rec_answered), answered + 1);

	/* The same reply once more: its query has left the table. */
	auth_reply(&r, &q);
	uint64_t no_query = STAT(rec_forged_no_query);

	server_send(q.dst, PX_DNS_PORT, q.sport, &r);
	ck_assert_uint_eq(STAT(rec_forged_no_query), no_query + 1);
	expect_quiet(5);
}
END_TEST

/* A resolution through a delegation with no valid address: SERVFAIL right after the referral,
 * with nothing sent anywhere but the root (tx_next() audits every destination), counted as the
 * policy's doing and told to the client as Invalid Data naming the zone (RFC 8914). */
static void
expect_no_ns(uint16_t port, const char *qname, const char *ede_text)
{
	uint64_t servfail = STAT(rec_servfail), by_policy = STAT(rec_servfail_policy);
	uint64_t no_ns = STAT(rec_servfail_no_ns);
	uint64_t timeouts = STAT(rec_timeouts), sent = STAT(rec_queries_sent);
	uint32_t path[8];
	struct frame f;
	unsigned n;

	client_ask(port, 0x2222, qname, PX_DNS_TYPE_A);
	n = serve(&f, path, RTE_DIM(path), 0);
	ck_assert_uint_ge(n, 1);
	for (unsigned i = 0; i < n; i++)
		ck_assert_uint_eq(path[i], ROOT_IP4);
	check_client_answer(&f, port, 0x2222, qname, PX_DNS_RCODE_SERVFAIL);
	rte_pktmbuf_free(f.m);
	ck_assert_int_eq(last_ede, PX_DNS_EDE_INVALID_DATA);
	ck_assert_str_eq(last_ede_text, ede_text);
	ck_assert_uint_eq(STAT(rec_servfail), servfail + 1);
	ck_assert_uint_eq(STAT(rec_servfail_policy), by_policy + 1);
	ck_assert_uint_eq(STAT(rec_servfail_no_ns), no_ns);
	ck_assert_uint_eq(STAT(rec_timeouts), timeouts);
	ck_assert_uint_eq(STAT(rec_queries_sent), sent + n);
	expect_quiet(5);
}

START_TEST(test_miss_invalid_glue_servfail)
{
	gateway_ready();
	expect_no_ns(40003, "www.bad.test", "NS addresses rejected: bad.test.");
	expect_no_ns(40003, "Www.AllBad.test", "NS addresses rejected: allbad.test.");
	ck_assert_uint_eq(STAT(rec_send_rejected_unspecified), 0);
	ck_assert_uint_eq(STAT(rec_send_rejected_loopback), 0);
	ck_assert_uint_eq(STAT(rec_send_rejected_broadcast), 0);
	ck_assert_uint_eq(STAT(rec_send_rejected_multicast), 0);
	ck_assert_uint_eq(STAT(rec_send_rejected_reserved), 0);
}
END_TEST

/* A referral whose only servers are pollux itself, its subnet's broadcast or network address,
 * the link-local metadata address or loopback behind NAT64: SERVFAIL at once, the glue counted
 * by reason, nothing sent to them and no ARP for them (audit() allows ARP for the gateway and
 * the on-link server only). */
START_TEST(test_miss_self_glue_servfail)
{
	const struct px_resolver_stats *rs = &dp_miss_resolver(worker->miss)->stats;
	uint64_t self = rs->glue_rejected[PX_ADDR_SELF];
	uint64_t bcast = rs->glue_rejected[PX_ADDR_SUBNET_BROADCAST];
	uint64_t ll = rs->glue_rejected[PX_ADDR_LINK_LOCAL];
	uint64_t nat64 = rs->glue_rejected[PX_ADDR_NAT64];

	gateway_ready();
	expect_no_ns(40013, "www.self.test", "NS addresses rejected: self.test.");
	ck_assert_uint_eq(rs->glue_rejected[PX_ADDR_SELF], self + 1);
	ck_assert_uint_eq(rs->glue_rejected[PX_ADDR_SUBNET_BROADCAST], bcast + 2);
	ck_assert_uint_eq(rs->glue_rejected[PX_ADDR_LINK_LOCAL], ll + 1);
	ck_assert_uint_eq(rs->glue_rejected[PX_ADDR_NAT64], nat64 + 1);
	ck_assert_uint_eq(STAT(rec_send_rejected_self), 0);
	ck_assert_uint_eq(STAT(rec_send_rejected_subnet_broadcast), 0);
}
END_TEST

START_TEST(test_miss_timeout_failover)
{
	uint64_t timeouts = STAT(rec_timeouts);
	uint32_t path[8];
	struct frame f;
	uint64_t t0;

	gateway_ready();
	/* t0 is taken before whatever makes the worker send the query that will time out (the
	 * client's question, then each answer), so it is never later than that send, however
	 * long this thread is preempted before it reads the query. */
	t0 = dp_clock_ms();
	client_ask(40004, 0x3333, "www.slow.test", PX_DNS_TYPE_A);
	/* Two servers, never measured: whichever is asked first stays silent. */
	for (;;) {
		frame_next(&f, WAIT_FRAME_MS);
		ck_assert(f.upstream);
		if (f.q.dst == SLOW1_IP4 || f.q.dst == SLOW2_IP4)
			break;
		t0 = dp_clock_ms();
		answer_upq(&f.q);
	}
	uint32_t first = f.q.dst;
	struct upq timed_out = f.q;
	char qname[PX_DNS_NAME_BUF];

	snprintf(qname, sizeof(qname), "%s", f.q.qname);
	frame_next(&f, WAIT_TIMEOUT_MS);
	ck_assert(f.upstream);
	ck_assert_uint_ne(f.q.dst, first);
	ck_assert(f.q.dst == SLOW1_IP4 || f.q.dst == SLOW2_IP4);
	/* The same name, in a case of its own (0x20: every try draws one). */
	ck_assert_int_eq(strcasecmp(f.q.qname, qname), 0);
	/* An unmeasured server's RTO (PX_UPQ_RTT_UNKNOWN_MS) passed first. */
	ck_assert_uint_ge(dp_clock_ms() - t0, PX_UPQ_RTT_UNKNOWN_MS);
	ck_assert_uint_eq(STAT(rec_timeouts), timeouts + 1);
	answer_upq(&f.q);
	ck_assert_uint_eq(serve(&f, path, RTE_DIM(path), 0), 0);
	check_client_answer(&f, 40004, 0x3333, "www.slow.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);

	/* The first server answers after all, late: a spurious timeout, counted, and no reply
	 * to anything (its resolution has been answered). */
	struct px_test_msg r;
	uint64_t late = STAT(rec_late_replies), no_query = STAT(rec_forged_no_query);

	struct px_upq_server_info info;
	struct px_upq_addr slow;

	px_upq_addr_set4(&slow, timed_out.dst);
	ck_assert(px_upq_server_info(dp_miss_upstream(worker->miss), &slow, dp_clock_ms(), &info));
	ck_assert(!info.has_sample);
	ck_assert_uint_eq(info.backoff, 1);
	auth_reply(&r, &timed_out);
	server_send(timed_out.dst, PX_DNS_PORT, timed_out.sport, &r);
	ck_assert_uint_eq(STAT(rec_late_replies), late + 1);
	ck_assert_uint_eq(STAT(rec_forged_no_query), no_query);
	/* What it tells is kept: its RTT covers the wait. It stays in backoff, though: it
	 * answered nothing in time (a resolution waiting on it may still be jostled out). */
	ck_assert(px_upq_server_info(dp_miss_upstream(worker->miss), &slow, dp_clock_ms(), &info));
	ck_assert(info.has_sample);
	ck_assert_uint_eq(info.backoff, 1);
	ck_assert_uint_ge(info.srtt_ms, PX_UPQ_RTT_UNKNOWN_MS);
	/* Once: a second copy is a reply to nothing. */
	server_send(timed_out.dst, PX_DNS_PORT, timed_out.sport, &r);
	ck_assert_uint_eq(STAT(rec_late_replies), late + 1);
	ck_assert_uint_eq(STAT(rec_forged_no_query), no_query + 1);
	expect_quiet(5);
}
END_TEST

START_TEST(test_miss_timeout_last_server_servfail)
{
	uint64_t timeouts = STAT(rec_timeouts), servfail = STAT(rec_servfail);
	uint64_t no_ns = STAT(rec_servfail_no_ns);
	uint32_t path[8];
	struct frame f;

	gateway_ready();
	client_ask(40005, 0x4444, "www.dead.test", PX_DNS_TYPE_A);
	serve(&f, path, RTE_DIM(path), DEAD_IP4);
	ck_assert(f.upstream);
	ck_assert_uint_eq(f.q.dst, DEAD_IP4);
	/* No other server: after the timeout the client gets SERVFAIL, and nothing is retried. */
	frame_next(&f, WAIT_TIMEOUT_MS);
	check_client_answer(&f, 40005, 0x4444, "www.dead.test", PX_DNS_RCODE_SERVFAIL);
	rte_pktmbuf_free(f.m);
	/* RFC 8914: its only server never answered. */
	ck_assert_int_eq(last_ede, PX_DNS_EDE_NO_REACHABLE_AUTHORITY);
	ck_assert_str_eq(last_ede_text, "no usable nameserver answered");
	ck_assert_uint_eq(STAT(rec_timeouts), timeouts + 1);
	ck_assert_uint_eq(STAT(rec_servfail), servfail + 1);
	ck_assert_uint_eq(STAT(rec_servfail_no_ns), no_ns + 1);
	expect_quiet(5);
}
END_TEST

START_TEST(test_miss_coalesced)
{
	uint64_t started = STAT(rec_started), attached = STAT(rec_attached);
	uint64_t sent = STAT(rec_queries_sent), answers = STAT(rec_client_answers);
	uint32_t path[8];
	struct frame f, g;
	unsigned n;

	gateway_ready();
	client_ask(40006, 0x0a0a, "mail.example.test", PX_DNS_TYPE_A);
	frame_next(&f, WAIT_FRAME_MS);
	ck_assert(f.upstream);
	/* The same question, another client and letter case, while the first is in flight. */
	client_ask(40007, 0x0b0b, "MAIL.Example.Test", PX_DNS_TYPE_A);
	ck_assert_uint_eq(STAT(rec_attached), attached + 1);
	ck_assert_uint_eq(STAT(rec_started), started + 1);
	ck_assert_uint_eq(rte_ring_count(tx_ring), 0);
	answer_upq(&f.q);
	n = 1 + serve(&f, path, RTE_DIM(path), 0);
	frame_next(&g, WAIT_FRAME_MS);
	ck_assert(!g.upstream);
	if (f.dport != 40006) {
		struct frame t = f;

		f = g;
		g = t;
	}
	check_client_answer(&f, 40006, 0x0a0a, "mail.example.test", PX_DNS_RCODE_NOERROR);
	check_client_answer(&g, 40007, 0x0b0b, "MAIL.Example.Test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	rte_pktmbuf_free(g.m);
	/* One resolution's queries served both. */
	ck_assert_uint_eq(STAT(rec_queries_sent), sent + n);
	ck_assert_uint_eq(STAT(rec_client_answers), answers + 2);
	expect_quiet(5);
}
END_TEST

/* The referral for example.test was put in the cache by the worker: a second question in the
 * zone goes straight to the zone's server, not to the root, and a name under no cached cut
 * starts from the primed root set. */
START_TEST(test_miss_cut_cached)
{
	uint64_t hits = STAT(rec_cut_hits), primed = STAT(rec_cut_primed);
	uint64_t sent = STAT(rec_queries_sent);
	const struct dp_cache_entry *e;
	uint8_t w[PX_DNS_NAME_BUF];
	uint32_t path[8];
	struct frame f;
	unsigned n, wl;

	gateway_ready();
	ck_assert_uint_ge(STAT(rec_cut_inserted), 1);
	control_drain();
	wl = px_test_name(w, "ftp.example.test");
	e = dp_cut_find(ctx.cache, w, (uint8_t)wl, PX_DNS_TYPE_A, dp_clock_ms());
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->name_len, wl - 4); /* example.test */
	client_ask(40010, 0x5151, "ftp.example.test", PX_DNS_TYPE_A);
	n = serve(&f, path, RTE_DIM(path), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(path[0], EXAMPLE_IP4);
	check_client_answer(&f, 40010, 0x5151, "ftp.example.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	ck_assert_uint_eq(STAT(rec_cut_hits), hits + 1);
	ck_assert_uint_eq(STAT(rec_queries_sent), sent + 1);

	/* No cut cached for slow.test: the primed root set (the same server as the hint here). */
	uint64_t from_hints = STAT(rec_cut_hints);

	client_ask(40011, 0x5252, "ftp.slow.test", PX_DNS_TYPE_A);
	n = serve(&f, path, RTE_DIM(path), 0);
	ck_assert_uint_ge(n, 2);
	ck_assert_uint_eq(path[0], ROOT_IP4);
	check_client_answer(&f, 40011, 0x5252, "ftp.slow.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	ck_assert_uint_eq(STAT(rec_cut_hints), from_hints);
	ck_assert_uint_eq(STAT(rec_cut_primed), primed + 1);
	expect_quiet(5);
}
END_TEST

/* The worker puts an answer in the cache before it answers the clients: the same question
 * sent right behind the last upstream reply (both in the worker's queue at once, so possibly
 * one burst) is a hit. One resolution, not two. */
START_TEST(test_miss_answer_cached_before_reply)
{
	uint64_t started = STAT(rec_started), hits = STAT(hits);
	uint64_t inserted = STAT(rec_cache_inserted);
	uint32_t path[8];
	struct frame f, g;

	gateway_ready();
	client_ask(40012, 0x5353, "news.example.test", PX_DNS_TYPE_A);
	/* Up to the zone server's query, left unanswered for now. */
	serve(&f, path, RTE_DIM(path), EXAMPLE_IP4);
	ck_assert(f.upstream);
	ck_assert_uint_eq(f.q.dst, EXAMPLE_IP4);
	answer_upq(&f.q);
	client_ask(40013, 0x5454, "NEWS.example.test", PX_DNS_TYPE_A);
	frame_next(&f, WAIT_FRAME_MS);
	frame_next(&g, WAIT_FRAME_MS);
	ck_assert(!f.upstream && !g.upstream);
	check_client_answer(&f, 40012, 0x5353, "news.example.test", PX_DNS_RCODE_NOERROR);
	check_client_answer(&g, 40013, 0x5454, "NEWS.example.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	rte_pktmbuf_free(g.m);
	ck_assert_uint_eq(STAT(rec_started), started + 1);
	ck_assert_uint_eq(STAT(hits), hits + 1);
	ck_assert_uint_ge(STAT(rec_cache_inserted), inserted + 1);
	expect_quiet(5);
}
END_TEST

START_TEST(test_miss_mbufs_back)
{
	const struct px_resolver *r = dp_miss_resolver(worker->miss);
	struct upq q;

	gateway_ready();
	/* Everything the workers sent was read and freed by the cases; nothing more comes. */
	expect_quiet(20);
	if (primer_known)
		ck_assert(!primer_sent(&q));
	ck_assert_uint_eq(rte_ring_count(rx_ring), 0);
	ck_assert_uint_eq(rte_mempool_in_use_count(pool), mbuf_baseline);
	ck_assert_uint_eq(__atomic_load_n(&r->free_count, __ATOMIC_RELAXED), r->capacity);
	ck_assert_uint_eq(STAT(drop_tx_full), 0);
	ck_assert_uint_eq(STAT(rec_drop_no_neigh), no_neigh_expected);
	ck_assert_uint_eq(STAT(rec_drop_no_mbuf), 0);
	ck_assert_uint_eq(STAT(rec_client_no_mbuf), 0);
	/* The TCP side: every request was answered, every message mbuf came back. */
	ck_assert_uint_eq(rte_ring_count(tcp->in), 0);
	ck_assert_uint_eq(rte_ring_count(tcp->out), 0);
	ck_assert_uint_eq(rte_ring_count(tun_tx_ring), 0);
	ck_assert_uint_eq(STAT(tcp_no_mbuf), 0);
	ck_assert_uint_eq(STAT(tcp_ring_full), 0);
	ck_assert_uint_eq(rte_mempool_in_use_count(msg_pool), msg_baseline);
	/* The primer, whose frames come from the same pool, ended every resolution. */
	r = dp_miss_resolver(primer->miss);
	ck_assert_uint_eq(__atomic_load_n(&r->free_count, __ATOMIC_RELAXED), r->capacity);
	/* The crowd worker too, cancelled resolutions included. */
	r = dp_miss_resolver(crowd->miss);
	ck_assert_uint_eq(r->free_count, r->capacity);
	ck_assert_uint_eq(crowd->stats.rec_drop_no_mbuf, 0);
	ck_assert_uint_eq(rte_ring_count(ptcp->in), 0);
	ck_assert_uint_eq(rte_ring_count(ptcp->out), 0);
}
END_TEST

/*
 * A nameserver on pollux's own subnet is sent to directly: the worker ARPs for it (the query
 * waits, counted rec_drop_no_neigh, and is sent again once its first deadline passes: the
 * "unsent" path), then sends to the MAC it learned, not to the gateway.
 */
START_TEST(test_miss_onlink_server)
{
	uint64_t onlink = STAT(rec_onlink_sent), no_neigh = STAT(rec_drop_no_neigh);
	uint64_t learned = STAT(rec_neigh_learned), timeouts = STAT(rec_timeouts);
	uint32_t path[8];
	struct frame f;
	struct rte_mbuf *m;

	gateway_ready();
	client_ask(40008, 0x5353, "www.onlink.test", PX_DNS_TYPE_A);
	/* The root, through the gateway, until the referral to 198.18.0.53. */
	for (;;) {
		m = tx_next(WAIT_FRAME_MS);
		ck_assert_ptr_nonnull(m);
		if (rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type ==
		    RTE_BE16(RTE_ETHER_TYPE_ARP)) {
			const struct rte_arp_hdr *a = rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *,
									      14);

			ck_assert_uint_eq(a->arp_data.arp_tip, ONLINK_IP4);
			rte_pktmbuf_free(m);
			break;
		}
		struct upq q;

		parse_upq(m, &q);
		rte_pktmbuf_free(m);
		ck_assert_uint_eq(q.dst, ROOT_IP4);
		answer_upq(&q);
	}
	no_neigh_expected++;
	ck_assert_uint_eq(STAT(rec_drop_no_neigh), no_neigh + 1);
	ck_assert_uint_eq(STAT(rec_onlink_sent), onlink);
	arp_reply_from(ONLINK_IP4, onlink_mac);
	ck_assert_uint_eq(STAT(rec_neigh_learned), learned + 1);
	/* The query is sent again at its deadline (RTO of a server never measured), to the MAC
	 * just learned; parse_upq() checks the destination MAC. */
	frame_next(&f, WAIT_TIMEOUT_MS);
	ck_assert(f.upstream);
	ck_assert_uint_eq(f.q.dst, ONLINK_IP4);
	ck_assert_uint_eq(STAT(rec_onlink_sent), onlink + 1);
	answer_upq(&f.q);
	ck_assert_uint_eq(serve(&f, path, RTE_DIM(path), 0), 0);
	check_client_answer(&f, 40008, 0x5353, "www.onlink.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	/* Waiting for the neighbour was not the server's fault. */
	ck_assert_uint_eq(STAT(rec_timeouts), timeouts);
	expect_quiet(5);
}
END_TEST

/*
 * A nameserver on pollux's subnet that never answers ARP: its query never leaves (counted
 * rec_drop_no_neigh each time), is tried again DP_MISS_UNSENT_RETRIES times, and then the
 * resolver is told the server is unreachable rather than slow. With no other server the
 * client gets SERVFAIL with Network Error (RFC 8914), counted rec_servfail_network.
 */
START_TEST(test_miss_unreachable_server_network_error)
{
	uint64_t network = STAT(rec_servfail_network), no_ns = STAT(rec_servfail_no_ns);
	uint64_t no_neigh = STAT(rec_drop_no_neigh);
	const struct px_resolver_stats *rs = &dp_miss_resolver(worker->miss)->stats;
	uint64_t unreachable = rs->server_fail[PX_RES_SRV_UNREACHABLE];
	unsigned arps = 0;
	struct rte_mbuf *m;
	struct frame f;

	gateway_ready();
	client_ask(40014, 0x2323, "www.noarp.test", PX_DNS_TYPE_A);
	for (;;) {
		m = tx_next(WAIT_TIMEOUT_MS);
		ck_assert_ptr_nonnull(m);
		if (rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type ==
		    RTE_BE16(RTE_ETHER_TYPE_ARP)) {
			const struct rte_arp_hdr *a = rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *,
									      14);

			ck_assert_uint_eq(a->arp_data.arp_tip, NOARP_IP4);
			rte_pktmbuf_free(m);
			arps++;
			continue;
		}
		frame_parse(m, &f);
		if (!f.upstream)
			break;
		ck_assert_uint_eq(f.q.dst, ROOT_IP4); /* nothing ever reaches 198.18.0.54 */
		answer_upq(&f.q);
	}
	check_client_answer(&f, 40014, 0x2323, "www.noarp.test", PX_DNS_RCODE_SERVFAIL);
	rte_pktmbuf_free(f.m);
	ck_assert_int_eq(last_ede, PX_DNS_EDE_NETWORK_ERROR);
	ck_assert_str_eq(last_ede_text, "no query could be sent to any nameserver");
	ck_assert_uint_ge(arps, 1);
	/* Sent at least once more before giving up: not the first miss of a MAC. */
	ck_assert_uint_ge(STAT(rec_drop_no_neigh), no_neigh + 2);
	no_neigh_expected += STAT(rec_drop_no_neigh) - no_neigh;
	ck_assert_uint_eq(rs->server_fail[PX_RES_SRV_UNREACHABLE], unreachable + 1);
	ck_assert_uint_eq(STAT(rec_servfail_network), network + 1);
	ck_assert_uint_eq(STAT(rec_servfail_no_ns), no_ns);
	expect_quiet(5);
}
END_TEST

static uint64_t
other_stat(size_t off)
{
	return *(const uint64_t *)((const uint8_t *)&other->stats + off);
}
#define OTHER_STAT(name) other_stat(offsetof(struct px_stats, name))

/* Hands frame to the second worker state, as if RSS had put it on queue 1. Returns how many
 * frames it wanted sent (none, for replies). */
static uint16_t
other_receive(const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *tx[DP_BURST];

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, len), frame, len);
	other->now_ms = dp_clock_ms();
	return dp_rx_burst_handle(other, &m, 1, tx);
}

/*
 * With two workers, a reply that lands on the worker that did not send the query is handed to
 * the one owning its destination port, which matches it as its own; a reply to a port nobody
 * holds is dropped where it lands.
 */
START_TEST(test_miss_reply_handoff)
{
	uint64_t matched = STAT(rec_replies_matched), in = STAT(rec_handoff_in);
	uint64_t out = OTHER_STAT(rec_handoff_out), nq = OTHER_STAT(rec_forged_no_query);
	uint8_t fr[1600] __rte_aligned(8);
	struct px_test_hosts h = {.server_ip4 = hosts.server_ip4};
	struct px_test_msg r;
	uint32_t path[8];
	struct frame f;
	uint16_t free_port;

	gateway_ready();
	client_ask(40009, 0x6464, "gopher.example.test", PX_DNS_TYPE_A);
	frame_next(&f, WAIT_FRAME_MS);
	ck_assert(f.upstream);
	/* The worker holds the port it sent from, as worker 1 of 2. */
	ck_assert_uint_eq(px_upq_port_owner(port_owner, f.q.sport), 1);

	auth_reply(&r, &f.q);
	h.client_ip4 = f.q.dst;
	memcpy(h.client_mac, gw_mac, 6);
	memcpy(h.server_mac, hosts.server_mac, 6);
	ck_assert_uint_eq(other_receive(fr, px_test_frame_udp4(fr, &h, PX_DNS_PORT, f.q.sport,
							       r.buf, r.len)), 0);
	ck_assert_uint_eq(OTHER_STAT(rec_handoff_out), out + 1);
	WAIT_STAT(rec_handoff_in, in + 1);
	WAIT_STAT(rec_replies_matched, matched + 1);
	/* The resolution goes on as if the worker had received the reply itself (to its end at
	 * once when the reply was the answer: example.test's cut is cached by now). */
	serve(&f, path, RTE_DIM(path), 0);
	check_client_answer(&f, 40009, 0x6464, "gopher.example.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);

	/* A port nobody holds: dropped and counted on the worker that got it. */
	for (free_port = 1024; px_upq_port_owner(port_owner, free_port) != 0; free_port++)
		;
	ck_assert_uint_eq(other_receive(fr, px_test_frame_udp4(fr, &h, PX_DNS_PORT, free_port,
							       r.buf, r.len)), 0);
	ck_assert_uint_eq(OTHER_STAT(rec_forged_no_query), nq + 1);
	ck_assert_uint_eq(OTHER_STAT(rec_handoff_out), out + 1);
	ck_assert_uint_eq(rte_ring_count(handoff[0]), 0);
	expect_quiet(5);
}
END_TEST

/* As the TCP thread: the next message worker t put on its ring, waiting up to wait_ms; NULL if
 * none came. */
static struct rte_mbuf *
thread_take(const struct dp_tcp_lcore *t, uint64_t wait_ms)
{
	uint64_t end = dp_clock_ms() + wait_ms;
	void *m;

	while (rte_ring_dequeue(t->out, &m) != 0) {
		if (dp_clock_ms() >= end)
			return NULL;
		rte_pause();
	}
	return m;
}

/* Checks that m is the TCP retry of the UDP query q: to the same server, the same question
 * with the same ID (RD clear, EDNS), zone as the bailiwick for the reply. Returns its meta. */
static const struct dp_tcp_meta *
check_up_query(struct rte_mbuf *m, const struct upq *q, const char *zone)
{
	const struct dp_tcp_meta *mt = dp_tcp_meta(m);
	uint8_t w[PX_DNS_NAME_BUF];
	unsigned wl;
	struct upq tq;

	ck_assert_uint_eq(mt->kind, DP_TCP_MSG_UP_QUERY);
	ck_assert_uint_eq(mt->family, 4);
	ck_assert_uint_eq(mt->worker, 0);
	ck_assert_mem_eq(mt->addr, &q->dst, 4);
	ck_assert_uint_eq(mt->timeout_ms, DP_TCP_UP_TIMEOUT_MS);
	ck_assert_uint_ne(mt->res, 0);
	ck_assert_uint_lt(mt->send_idx, REC_SLOTS);
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
	parse_upq_dns(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &tq);
	ck_assert_uint_eq(tq.id, q->id);
	ck_assert_uint_eq(tq.qtype, q->qtype);
	/* Over TCP the name goes in lower case: 0x20 guards UDP only. */
	ck_assert_int_eq(strcasecmp(tq.qname, q->qname), 0);
	for (const char *c = tq.qname; *c != '\0'; c++)
		ck_assert(!(*c >= 'A' && *c <= 'Z'));
	return mt;
}

/* As the TCP thread: turns the request m into its outcome in the same mbuf, as ctl_tcp.c
 * does (the reply r as UP_REPLY, or UP_FAIL with no data when r is NULL), and puts it on t's
 * ring to the worker. */
static void
thread_give(const struct dp_tcp_lcore *t, struct rte_mbuf *m, const struct px_test_msg *r)
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
	ck_assert_int_eq(rte_ring_enqueue(t->in, m), 0);
}

/* A copy of the message m (meta and data), for an outcome the thread should never send. */
static struct rte_mbuf *
thread_copy(struct rte_mbuf *m)
{
	struct rte_mbuf *c = rte_pktmbuf_alloc(msg_pool);

	ck_assert_ptr_nonnull(c);
	memcpy(dp_tcp_meta(c), dp_tcp_meta(m), sizeof(struct dp_tcp_meta));
	memcpy(rte_pktmbuf_append(c, m->data_len), rte_pktmbuf_mtod(m, uint8_t *), m->data_len);
	return c;
}

/* Waits until the worker has taken what the TCP thread gave it and ended the loop iteration
 * that did (what that made is sent), as send_frame() does for frames. */
static void
wait_thread_given(void)
{
	uint64_t end = dp_clock_ms() + WAIT_FRAME_MS, idle;

	while (!rte_ring_empty(tcp->in) && dp_clock_ms() < end)
		rte_pause();
	ck_assert(rte_ring_empty(tcp->in));
	idle = STAT(idle_polls);
	WAIT_STAT(idle_polls, idle + 1);
}

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
	uint64_t asked = STAT(tcp_up_asked), stale = STAT(tcp_up_stale);
	uint64_t answered = STAT(rec_answered);
	uint64_t timeouts = STAT(rec_timeouts), matched;
	const struct dp_tcp_meta *mt;
	struct px_test_msg r;
	struct rte_mbuf *m, *c;
	uint32_t path[8];
	struct frame f;
	struct upq q;

	gateway_ready();
	client_ask(40012, 0x7171, "www.tc.test", PX_DNS_TYPE_A);
	serve(&f, path, RTE_DIM(path), TC_IP4);
	ck_assert(f.upstream);
	ck_assert_uint_eq(f.q.dst, TC_IP4);
	q = f.q;
	matched = STAT(rec_replies_matched);
	answer_upq(&q); /* TC */
	ck_assert_uint_eq(STAT(rec_replies_matched), matched + 1);
	m = thread_take(tcp, WAIT_FRAME_MS);
	ck_assert_ptr_nonnull(m);
	mt = check_up_query(m, &q, "tc.test");
	ck_assert_uint_eq(STAT(tcp_up_asked), asked + 1);
	/* Neither the client nor another server hears anything meanwhile. */
	expect_quiet(5);
	ck_assert_ptr_null(thread_take(tcp, 0));

	/* The whole answer, as the server sends it over TCP. */
	auth_reply(&r, &q);
	c = thread_copy(m);
	dp_tcp_meta(c)->res ^= 1ull << 32;
	thread_give(tcp, c, &r);
	wait_thread_given();
	c = thread_copy(m);
	dp_tcp_meta(c)->send_idx = (mt->send_idx + 1) % REC_SLOTS;
	thread_give(tcp, c, &r);
	wait_thread_given();
	ck_assert_uint_eq(STAT(tcp_up_stale), stale + 2);
	expect_quiet(5);

	c = thread_copy(m);
	thread_give(tcp, m, &r);
	wait_thread_given();
	frame_next(&f, WAIT_FRAME_MS);
	check_client_answer(&f, 40012, 0x7171, "www.tc.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	ck_assert_uint_eq(STAT(rec_answered), answered + 1);
	ck_assert_uint_eq(STAT(tcp_up_stale), stale + 2);

	/* The same outcome again: nothing waits for it any more. */
	thread_give(tcp, c, &r);
	wait_thread_given();
	ck_assert_uint_eq(STAT(tcp_up_stale), stale + 3);
	ck_assert_uint_eq(STAT(rec_timeouts), timeouts);
	expect_quiet(5);
	ck_assert_ptr_null(thread_take(tcp, 0));
}
END_TEST

/*
 * The TCP thread reports that the retry got nothing (refused, timed out, a bad reply): that is
 * the server failing, as a timeout would be. With another server left the resolver asks it
 * (over UDP, then over TCP after its TC); with none left the client gets SERVFAIL at once.
 */
START_TEST(test_miss_tc_retry_failed)
{
	uint64_t failed = STAT(tcp_up_failed), servfail = STAT(rec_servfail);
	uint64_t no_ns = STAT(rec_servfail_no_ns), timeouts = STAT(rec_timeouts);
	struct px_test_msg r;
	struct rte_mbuf *m;
	uint32_t path[8], first;
	struct frame f;

	gateway_ready();
	client_ask(40013, 0x7272, "www.tc2.test", PX_DNS_TYPE_A);
	for (;;) {
		frame_next(&f, WAIT_FRAME_MS);
		ck_assert(f.upstream);
		if (f.q.dst == TC2A_IP4 || f.q.dst == TC2B_IP4)
			break;
		answer_upq(&f.q);
	}
	first = f.q.dst;
	answer_upq(&f.q); /* TC */
	m = thread_take(tcp, WAIT_FRAME_MS);
	ck_assert_ptr_nonnull(m);
	check_up_query(m, &f.q, "tc2.test");
	thread_give(tcp, m, NULL);
	wait_thread_given();
	ck_assert_uint_eq(STAT(tcp_up_failed), failed + 1);
	/* The other server, over UDP first. */
	frame_next(&f, WAIT_FRAME_MS);
	ck_assert(f.upstream);
	ck_assert_uint_eq(f.q.dst, first == TC2A_IP4 ? TC2B_IP4 : TC2A_IP4);
	ck_assert_int_eq(strcasecmp(f.q.qname, "www.tc2.test"), 0);
	answer_upq(&f.q); /* TC */
	m = thread_take(tcp, WAIT_FRAME_MS);
	ck_assert_ptr_nonnull(m);
	check_up_query(m, &f.q, "tc2.test");
	auth_reply(&r, &f.q);
	thread_give(tcp, m, &r);
	wait_thread_given();
	frame_next(&f, WAIT_FRAME_MS);
	check_client_answer(&f, 40013, 0x7272, "www.tc2.test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);

	/* The only server of tc.test fails over TCP: SERVFAIL, nothing else sent. */
	client_ask(40014, 0x7373, "ftp.tc.test", PX_DNS_TYPE_A);
	serve(&f, path, RTE_DIM(path), TC_IP4);
	ck_assert(f.upstream);
	ck_assert_uint_eq(f.q.dst, TC_IP4);
	answer_upq(&f.q); /* TC */
	m = thread_take(tcp, WAIT_FRAME_MS);
	ck_assert_ptr_nonnull(m);
	check_up_query(m, &f.q, "tc.test");
	thread_give(tcp, m, NULL);
	wait_thread_given();
	frame_next(&f, WAIT_FRAME_MS);
	check_client_answer(&f, 40014, 0x7373, "ftp.tc.test", PX_DNS_RCODE_SERVFAIL);
	rte_pktmbuf_free(f.m);
	ck_assert_uint_eq(STAT(tcp_up_failed), failed + 2);
	ck_assert_uint_eq(STAT(rec_servfail), servfail + 1);
	ck_assert_uint_eq(STAT(rec_servfail_no_ns), no_ns + 1);
	ck_assert_uint_eq(STAT(rec_timeouts), timeouts);
	expect_quiet(5);
	ck_assert_ptr_null(thread_take(tcp, 0));
}
END_TEST

#define PSTAT(name) (primer->stats.name)

/* One iteration of the primer's loop at time now, as dp_loop_run() runs it after the RX burst:
 * the TCP rings, then the resolution tick (deadlines, probes, priming, TX). */
static void
primer_step(uint64_t now)
{
	ck_assert_uint_ge(now, pnow);
	pnow = now;
	primer->now_ms = now;
	dp_tcp_poll(primer);
	dp_miss_tick(primer);
}

/* A frame to the primer at pnow: its RX burst, then the rest of that loop iteration. */
static void
primer_rx(const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *tx[DP_BURST];

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, len), frame, len);
	primer->now_ms = pnow;
	ck_assert_uint_eq(dp_rx_burst_handle(primer, &m, 1, tx), 0);
	primer_step(pnow);
}

/* The next upstream query the primer sent, parsed (checked as the worker's are), skipping the
 * ARP requests it sends to keep the gateway's entry fresh. False when it sent none. */
static bool
primer_sent(struct upq *q)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(ptx_ring, (void **)&m) == 0) {
		const struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

		audit(m);
		if (e->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
			ck_assert_uint_eq(((const struct rte_arp_hdr *)(e + 1))->arp_data.arp_tip,
					  GW_IP4);
			rte_pktmbuf_free(m);
			continue;
		}
		parse_upq(m, q);
		rte_pktmbuf_free(m);
		return true;
	}
	return false;
}

/* The primer's next query is ". NS" to the root hint: kept in prime_q. */
static void
expect_prime_query(void)
{
	ck_assert_msg(primer_sent(&prime_q), "no priming query at %" PRIu64, pnow);
	ck_assert_uint_eq(prime_q.dst, ROOT_IP4);
	ck_assert_str_eq(prime_q.qname, ".");
	ck_assert_uint_eq(prime_q.qtype, PX_DNS_TYPE_NS);
}

/* Runs the primer's clock up to `to` (excluded), step_ms at a time: its timeouts fire on the
 * way, and it must send no query. */
static void
primer_quiet_until(uint64_t to, uint64_t step_ms)
{
	struct upq q;

	while (pnow + 1 < to) {
		primer_step(RTE_MIN(pnow + step_ms, to - 1));
		ck_assert_msg(!primer_sent(&q), "%s sent at %" PRIu64 ", before %" PRIu64, q.qname,
			      pnow, to);
	}
}

/* The root server's reply r to q, to the primer. */
static void
primer_server_send(const struct upq *q, const struct px_test_msg *r)
{
	uint8_t f[1600] __rte_aligned(8);
	struct px_test_hosts h = {.client_ip4 = q->dst, .server_ip4 = hosts.server_ip4};

	memcpy(h.client_mac, gw_mac, 6);
	memcpy(h.server_mac, hosts.server_mac, 6);
	primer_rx(f, px_test_frame_udp4(f, &h, PX_DNS_PORT, q->sport, r->buf, r->len));
}

/* As the control thread: ctl_prime reads what the primer recorded. */
static void
primer_control(void)
{
	ctl_prime_tick(&pstate);
	dp_cache_reclaim(pctx.cache);
}

/* The primer ARPs for the gateway at its first step and primes in the iteration that learns
 * it. Every priming case starts here (only the first does the exchange). */
static void
primer_ready(void)
{
	uint8_t f[60] __rte_aligned(8) = {0};
	struct rte_mbuf *m;

	if (primer_known)
		return;
	primer_step(dp_clock_ms());
	ck_assert_int_eq(rte_ring_dequeue(ptx_ring, (void **)&m), 0);
	audit(m);
	ck_assert_uint_eq(rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type,
			  RTE_BE16(RTE_ETHER_TYPE_ARP));
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(PSTAT(rec_prime_sent), 0);
	primer_rx(f, arp_reply_frame(f, GW_IP4, gw_mac));
	expect_prime_query();
	primer_known = true;
}

/* The good priming answer to prime_q, NS TTL ttl, at 10 ms after pnow; the control side
 * accepts it. */
static void
primer_answer_good(uint32_t ttl)
{
	uint64_t accepted = pstate.accepted;
	struct px_test_msg r;

	primer_step(pnow + 10);
	prime_answer(&r, &prime_q, "198.18.1.1", ttl);
	primer_server_send(&prime_q, &r);
	primer_control();
	ck_assert_msg(pstate.accepted == accepted + 1, "priming not accepted: %s",
		      pstate.failure);
	ck_assert_uint_eq(pstate.ttl, ttl);
	ck_assert_uint_eq(pstate.expire_ms, pnow + ttl * 1000ull);
}

/*
 * The health probe (ctl_health.h): each time the control thread moves ctx->probe_seq, the
 * probing worker resolves its question for no client, once; the answer counts as rec_answered,
 * what the control thread watches. Without a new request it stays quiet.
 */
START_TEST(test_miss_probe)
{
	uint64_t answered, started;
	struct px_test_msg r;
	struct upq q;

	primer_ready();
	primer_step(pnow + 10);
	while (primer_sent(&q))
		;
	answered = PSTAT(rec_answered);
	started = PSTAT(rec_probe_started);
	primer_step(pnow + 10);
	ck_assert_uint_eq(PSTAT(rec_probe_started), started);
	__atomic_fetch_add(&pctx.probe_seq, 1, __ATOMIC_RELAXED);
	primer_step(pnow + 10);
	ck_assert_uint_eq(PSTAT(rec_probe_started), started + 1);
	ck_assert_msg(primer_sent(&q), "no probe query");
	ck_assert_str_eq(q.qname, ".");
	ck_assert_uint_eq(q.qtype, PX_DNS_TYPE_NS);
	primer_step(pnow + 10);
	prime_answer(&r, &q, "198.18.1.1", 518400);
	primer_server_send(&q, &r);
	ck_assert_uint_eq(PSTAT(rec_answered), answered + 1);
	/* Asked once: nothing more until the next request. */
	primer_step(pnow + 10);
	ck_assert(!primer_sent(&q));
	ck_assert_uint_eq(PSTAT(rec_probe_started), started + 1);
}
END_TEST

/*
 * Priming that fails is tried again after 1 s, doubling to 60 s, each counted from the attempt
 * before, and never sooner: the first reply is good for the resolver but rejected by the
 * control side (its only root server is at a loopback address), the next attempts time out.
 * Then a good reply is accepted and the primer stays quiet while the root cut is fresh.
 */
START_TEST(test_miss_prime_backoff)
{
	static const uint32_t backoff[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
	struct px_test_msg r;
	uint64_t sent_at;

	primer_ready();
	ck_assert_uint_eq(DP_MISS_PRIME_BACKOFF_MS, backoff[0]);
	ck_assert_uint_eq(DP_MISS_PRIME_BACKOFF_MAX_MS, backoff[RTE_DIM(backoff) - 1]);
	ck_assert_uint_eq(PSTAT(rec_prime_sent), 1);
	sent_at = pnow;
	primer_step(pnow + 10);
	prime_answer(&r, &prime_q, "127.0.0.1", 518400);
	primer_server_send(&prime_q, &r);
	ck_assert_uint_eq(PSTAT(rec_prime_replies), 1);
	primer_control();
	ck_assert_uint_eq(pstate.rejected, 1);
	ck_assert_uint_eq(pstate.addr_rejected_total[PX_ADDR_LOOPBACK], 1);
	ck_assert(!pstate.primed);
	for (unsigned k = 0; k < RTE_DIM(backoff); k++) {
		primer_quiet_until(sent_at + backoff[k], 25);
		/* The attempt before failed (rejected, then timed out), and nothing was sent. */
		ck_assert_uint_eq(PSTAT(rec_prime_failed), k);
		primer_step(sent_at + backoff[k]);
		expect_prime_query();
		ck_assert_uint_eq(PSTAT(rec_prime_sent), k + 2);
		sent_at = pnow;
	}
	primer_control();
	ck_assert_uint_eq(pstate.failed, RTE_DIM(backoff) - 1);
	ck_assert_ptr_nonnull(strstr(pstate.failure, "prime_failed"));
	ck_assert(!pstate.primed);

	primer_answer_good(3600);
	ck_assert(pstate.primed);
	primer_quiet_until(sent_at + 3 * DP_MISS_PRIME_BACKOFF_MAX_MS, 25);
	ck_assert_uint_eq(PSTAT(rec_prime_failed), RTE_DIM(backoff) - 1);
	ck_assert_uint_eq(PSTAT(rec_prime_sent), RTE_DIM(backoff) + 1);
}
END_TEST

/* The primed set is refreshed when a tenth of its TTL is left, not a millisecond sooner; the
 * new reply replaces the cut and the primer is quiet again past the old one's expiry. */
START_TEST(test_miss_prime_refresh)
{
	uint64_t sent, due, old_expire;

	primer_ready();
	ck_assert(pstate.primed);
	sent = PSTAT(rec_prime_sent);
	old_expire = pstate.expire_ms;
	due = pstate.expire_ms - pstate.ttl * 100ull;
	primer_quiet_until(due, 1000);
	primer_step(due);
	expect_prime_query();
	ck_assert_uint_eq(PSTAT(rec_prime_sent), sent + 1);
	primer_answer_good(7200);
	primer_quiet_until(old_expire + DP_MISS_PRIME_BACKOFF_MAX_MS, 1000);
	ck_assert_uint_eq(PSTAT(rec_prime_sent), sent + 1);
	ck_assert_ptr_nonnull(dp_cut_find(pctx.cache, root_name, 1, PX_DNS_TYPE_A, pnow));
}
END_TEST

/* The root cut leaves the cache long before its refresh is due (evicted by a full bucket, or
 * deleted by the control thread as here): the primer primes again within
 * DP_MISS_PRIME_CHECK_MS, instead of starting every resolution from the hints until then. That
 * attempt is rejected, and the next comes DP_MISS_PRIME_BACKOFF_MS later: the fresh cut before
 * had reset the backoff (after the backoff case it had reached its maximum). */
START_TEST(test_miss_prime_root_cut_gone)
{
	struct dp_cache_key key;
	uint64_t sent, gone_at, sent_at;
	struct px_test_msg r;
	bool primed = false;

	primer_ready();
	ck_assert(pstate.primed);
	sent = PSTAT(rec_prime_sent);
	primer_quiet_until(pnow + 5000, 25);
	dp_cut_key(&key, root_name, 1);
	ck_assert_int_eq(dp_cache_delete(pctx.cache, &key), 0);
	dp_cache_reclaim(pctx.cache);
	gone_at = pnow;
	while (!primed && pnow < gone_at + DP_MISS_PRIME_CHECK_MS) {
		primer_step(pnow + 25);
		primed = primer_sent(&prime_q);
	}
	ck_assert_msg(primed, "no priming within %u ms of the root cut going",
		      DP_MISS_PRIME_CHECK_MS);
	ck_assert_str_eq(prime_q.qname, ".");
	ck_assert_uint_eq(PSTAT(rec_prime_sent), sent + 1);
	sent_at = pnow;
	primer_step(pnow + 10);
	prime_answer(&r, &prime_q, "127.0.0.1", 518400);
	primer_server_send(&prime_q, &r);
	primer_quiet_until(sent_at + DP_MISS_PRIME_BACKOFF_MS, 25);
	primer_step(sent_at + DP_MISS_PRIME_BACKOFF_MS);
	expect_prime_query();
	ck_assert_uint_eq(PSTAT(rec_prime_sent), sent + 2);
	primer_answer_good(3600);
	primer_quiet_until(pnow + 3 * DP_MISS_PRIME_BACKOFF_MAX_MS, 1000);
	ck_assert_uint_eq(PSTAT(rec_prime_sent), sent + 2);
}
END_TEST

/* A priming reply with TC is asked again over TCP like any other, and the reply that comes
 * over TCP is the one the worker checks and caches; the truncated one is not checked (it would
 * only be rejected, and counted and logged as a priming failure). */
START_TEST(test_miss_prime_over_tcp)
{
	uint64_t rejected, accepted, replies = PSTAT(rec_prime_replies);
	uint64_t tcp_replies = PSTAT(tcp_up_replies);
	struct px_test_msg r;
	struct rte_mbuf *m;

	primer_ready();
	ck_assert(pstate.primed);
	rejected = pstate.rejected;
	accepted = pstate.accepted;
	primer_quiet_until(pstate.expire_ms - pstate.ttl * 100ull, 1000);
	primer_step(pstate.expire_ms - pstate.ttl * 100ull);
	expect_prime_query();
	primer_step(pnow + 10);
	prime_answer(&r, &prime_q, NULL, 0);
	primer_server_send(&prime_q, &r);
	m = thread_take(ptcp, 0);
	ck_assert_ptr_nonnull(m);
	check_up_query(m, &prime_q, ".");
	primer_control();
	ck_assert_uint_eq(pstate.rejected, rejected);
	ck_assert_uint_eq(PSTAT(rec_prime_replies), replies);

	prime_answer(&r, &prime_q, "198.18.1.1", 518400);
	thread_give(ptcp, m, &r);
	primer_step(pnow + 10);
	ck_assert_uint_eq(PSTAT(tcp_up_replies), tcp_replies + 1);
	ck_assert_uint_eq(PSTAT(rec_prime_replies), replies + 1);
	primer_control();
	ck_assert_msg(pstate.accepted == accepted + 1, "priming over TCP not accepted: %s",
		      pstate.failure);
	ck_assert_uint_eq(pstate.rejected, rejected);
	ck_assert_uint_eq(pstate.ttl, 86400);
	ck_assert_str_eq(pstate.server, "198.18.1.1");
	primer_quiet_until(pnow + 3 * DP_MISS_PRIME_BACKOFF_MAX_MS, 1000);
	ck_assert_ptr_null(thread_take(ptcp, 0));
}
END_TEST

/*
 * Sharing one upstream query among resolutions, and 0x20, on the "crowd" worker: a worker state
 * of its own (no priming, its own port, cache, neighbour table and TCP rings), which
 * the test steps itself on the main lcore as it does the primer, so that every frame it sends
 * is seen in order and its clock moves only when a case says so. Nothing it sends can be
 * missed: after each step the case reads everything queued.
 */

#define CSTAT(name) (crowd->stats.name)

static void
crowd_step(uint64_t now)
{
	ck_assert_uint_ge(now, cnow);
	cnow = now;
	crowd->now_ms = now;
	dp_tcp_poll(crowd);
	dp_miss_tick(crowd);
}

static void
crowd_rx(const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *tx[DP_BURST];

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, len), frame, len);
	crowd->now_ms = cnow;
	ck_assert_uint_eq(dp_rx_burst_handle(crowd, &m, 1, tx), 0);
	crowd_step(cnow);
}

/* The next frame the crowd worker sent, skipping its ARP requests for the gateway; false when
 * it sent nothing more. */
static bool
crowd_frame(struct frame *f)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(ctx_ring, (void **)&m) == 0) {
		const struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

		audit(m);
		if (e->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
			rte_pktmbuf_free(m);
			continue;
		}
		frame_parse(m, f);
		return true;
	}
	return false;
}

/* The only frame the crowd worker sent: an upstream query, returned in q. */
static void
crowd_one_query(struct upq *q)
{
	struct frame f;

	ck_assert_msg(crowd_frame(&f), "no query sent");
	ck_assert(f.upstream);
	*q = f.q;
	ck_assert_msg(!crowd_frame(&f), "a second frame, to %08x", f.upstream ? f.q.dst : 0);
}

static void
crowd_ask(uint16_t port, uint16_t id, const char *name)
{
	uint8_t dns[512], f[600] __rte_aligned(8);
	const struct px_test_query q = {.id = id, .flags = PX_DNS_RD, .name = name,
					.qtype = PX_DNS_TYPE_A, .qclass = PX_DNS_CLASS_IN,
					.edns = true, .edns_bufsize = 1232};
	uint16_t dlen = px_test_query(dns, &q);

	crowd_rx(f, px_test_frame_udp4(f, &hosts, port, PX_DNS_PORT, dns, dlen));
}

/* Server q->dst's reply r to q, to the crowd worker. */
static void
crowd_server_send(const struct upq *q, const struct px_test_msg *r)
{
	uint8_t f[1600] __rte_aligned(8);
	struct px_test_hosts h = {.client_ip4 = q->dst, .server_ip4 = hosts.server_ip4};

	memcpy(h.client_mac, gw_mac, 6);
	memcpy(h.server_mac, hosts.server_mac, 6);
	crowd_rx(f, px_test_frame_udp4(f, &h, PX_DNS_PORT, q->sport, r->buf, r->len));
}

static void
crowd_answer(const struct upq *q)
{
	struct px_test_msg r;

	auth_reply(&r, q);
	crowd_server_send(q, &r);
}

/* The crowd worker ARPs for the gateway at its first step; the test answers. Every case starts
 * from an empty cache: the crowd caches what it resolves, and each case counts the queries a
 * resolution from the root takes. */
static void
crowd_ready(void)
{
	uint8_t f[60] __rte_aligned(8) = {0};
	struct frame fr;

	dp_cache_flush(cctx.cache, true);
	if (crowd_known)
		return;
	cnow = dp_clock_ms();
	crowd_step(cnow);
	crowd_rx(f, arp_reply_frame(f, GW_IP4, gw_mac));
	ck_assert(!crowd_frame(&fr));
	crowd_known = true;
}

/* Reads the n client answers the crowd worker sent (and nothing else; the first already read
 * into *f): each to one of the ports base..base+n-1, with id port ^ 0x5555, NOERROR with
 * ANSWER_ADDR, the question as that client spelled it (names[port - base]); each port once. */
static void
crowd_answers(struct frame *f0, uint16_t base, unsigned n, const char *const *names)
{
	uint8_t seen[64] = {0};
	struct frame f = *f0;

	ck_assert_uint_le(n, sizeof(seen));
	for (unsigned i = 0; i < n; i++) {
		ck_assert_msg(i == 0 || crowd_frame(&f), "%u of %u answers", i, n);
		ck_assert(!f.upstream);
		ck_assert_uint_ge(f.dport, base);
		ck_assert_uint_lt(f.dport, base + n);
		ck_assert_uint_eq(seen[f.dport - base], 0);
		seen[f.dport - base] = 1;
		check_client_answer(&f, f.dport, f.dport ^ 0x5555, names[f.dport - base],
				    PX_DNS_RCODE_NOERROR);
		rte_pktmbuf_free(f.m);
	}
	ck_assert(!crowd_frame(&f));
}

/*
 * 20 clients ask one uncached name: three resolutions (8 clients each at most), and on the
 * wire exactly one query per step, which the two later resolutions join; every client gets
 * its answer, with the question as it spelled it.
 */
START_TEST(test_miss_share_same_name)
{
	enum { N = 20, BASE = 41000 };
	static const char *const spell[3] = {"same.crowd.test", "SAME.Crowd.TEST",
					     "sAmE.cRoWd.TeSt"};
	const char *names[N];
	uint64_t started = CSTAT(rec_started), attached = CSTAT(rec_attached);
	uint64_t coalesced = CSTAT(rec_up_coalesced), sent = CSTAT(rec_queries_sent);
	struct upq q;
	unsigned steps = 0;
	struct frame f, extra;

	crowd_ready();
	for (unsigned i = 0; i < N; i++) {
		names[i] = spell[i % 3];
		crowd_ask((uint16_t)(BASE + i), (uint16_t)((BASE + i) ^ 0x5555), names[i]);
	}
	ck_assert_uint_eq(CSTAT(rec_started), started + 3);
	ck_assert_uint_eq(CSTAT(rec_attached), attached + N - 3);
	crowd_one_query(&q);
	for (;;) {
		steps++;
		ck_assert_uint_le(steps, 8);
		crowd_answer(&q);
		/* The next step's one query, or the answers. */
		ck_assert(crowd_frame(&f));
		if (!f.upstream)
			break;
		q = f.q;
		ck_assert(!crowd_frame(&extra));
	}
	/* root "test", root "crowd.test", then ns.crowd.test for the name. */
	ck_assert_uint_eq(steps, 3);
	ck_assert_uint_eq(CSTAT(rec_queries_sent), sent + 3);
	ck_assert_uint_eq(CSTAT(rec_up_coalesced), coalesced + 2 * 3);
	crowd_answers(&f, BASE, N, names);
}
END_TEST

/* Answers every upstream query the crowd worker has queued, counting them by destination,
 * until it sends a client answer (left in *f); at most `rounds` rounds. */
static void
crowd_serve(struct frame *f, unsigned rounds, unsigned *to_root, unsigned *to_tld,
	    unsigned *to_zone)
{
	struct upq qs[64];
	unsigned nq;

	for (unsigned round = 0; round < rounds; round++) {
		nq = 0;
		while (crowd_frame(f)) {
			if (!f->upstream)
				return;
			ck_assert_uint_lt(nq, RTE_DIM(qs));
			qs[nq++] = f->q;
		}
		ck_assert_uint_gt(nq, 0);
		for (unsigned k = 0; k < nq; k++) {
			const struct deleg *d = deleg_of_server(qs[k].dst);

			if (qs[k].dst == ROOT_IP4)
				(*to_root)++;
			else if (d != NULL && strcmp(d->zone, "tld.test") == 0)
				(*to_tld)++;
			else
				(*to_zone)++;
			crowd_answer(&qs[k]);
		}
	}
	ck_abort_msg("no client answer after %u rounds", rounds);
}

/*
 * 12 clients ask 12 names below zone.tld.test, a zone nobody visited, whose parent tld.test has
 * three servers nobody measured: each resolution would pick one at random. The resolutions
 * share the root's referral, and then exactly one query reaches the tld.test servers: the
 * first resolution picks a server, the others pick the one that question is outstanding to and
 * join it. The referral it brings is offered to the cache once, not once per resolution.
 */
START_TEST(test_miss_share_referral)
{
	enum { N = 12, BASE = 41100 };
	char buf[N][32];
	const char *names[N];
	uint64_t coalesced = CSTAT(rec_up_coalesced), offered = CSTAT(rec_cut_inserted);
	unsigned to_root = 0, to_tld = 0, to_zone = 0;
	struct frame f;

	crowd_ready();
	for (unsigned i = 0; i < N; i++) {
		snprintf(buf[i], sizeof(buf[i]), "h%u.Zone.tld.test", i);
		names[i] = buf[i];
		crowd_ask((uint16_t)(BASE + i), (uint16_t)((BASE + i) ^ 0x5555), names[i]);
	}
	crowd_serve(&f, 8, &to_root, &to_tld, &to_zone);
	/* root "test", root "tld.test", one tld server "zone.tld.test", then each name. */
	ck_assert_uint_eq(to_root, 2);
	ck_assert_uint_eq(to_tld, 1);
	ck_assert_uint_eq(to_zone, N);
	ck_assert_uint_eq(CSTAT(rec_up_coalesced), coalesced + 3 * (N - 1));
	ck_assert_uint_eq(CSTAT(rec_cut_inserted), offered + 2);
	crowd_answers(&f, BASE, N, names);
}
END_TEST

/* Sends every client's question, then takes the one query per step until it reaches a
 * server of zone (returned in q), answering the root's. */
static void
crowd_to_zone(struct upq *q, const char *zone)
{
	for (unsigned step = 0; step < 4; step++) {
		crowd_one_query(q);
		if (q->dst != ROOT_IP4) {
			const struct deleg *d = deleg_of_server(q->dst);

			ck_assert_ptr_nonnull(d);
			ck_assert_str_eq(d->zone, zone);
			return;
		}
		crowd_answer(q);
	}
	ck_abort_msg("never reached %s", zone);
}

/*
 * The shared query's server never answers: its timeout is one for the server, and every
 * resolution waiting fails over together, to the same other server, with one query.
 */
START_TEST(test_miss_share_timeout)
{
	enum { N = 20, BASE = 41200 };
	const char *names[N];
	uint64_t timeouts = CSTAT(rec_timeouts), coalesced, sent;
	struct upq q, q2;
	struct frame f;

	crowd_ready();
	for (unsigned i = 0; i < N; i++) {
		names[i] = "x.pair.test";
		crowd_ask((uint16_t)(BASE + i), (uint16_t)((BASE + i) ^ 0x5555), names[i]);
	}
	crowd_to_zone(&q, "pair.test");
	coalesced = CSTAT(rec_up_coalesced);
	sent = CSTAT(rec_queries_sent);
	crowd_step(cnow + PX_UPQ_RTT_UNKNOWN_MS - 1);
	ck_assert(!crowd_frame(&f));
	crowd_step(cnow + 1);
	crowd_one_query(&q2);
	ck_assert_uint_ne(q2.dst, q.dst);
	ck_assert_ptr_eq(deleg_of_server(q2.dst), deleg_of_server(q.dst));
	ck_assert_int_eq(strcasecmp(q2.qname, q.qname), 0);
	ck_assert_uint_eq(CSTAT(rec_timeouts), timeouts + 1);
	ck_assert_uint_eq(CSTAT(rec_queries_sent), sent + 1);
	ck_assert_uint_eq(CSTAT(rec_up_coalesced), coalesced + 2);
	crowd_answer(&q2);
	ck_assert(crowd_frame(&f));
	crowd_answers(&f, BASE, N, names);
}
END_TEST

/* The resolution asking name (as the worker keys it: lower case). */
static uint64_t
crowd_res(const char *name)
{
	uint8_t w[PX_DNS_NAME_BUF];
	const struct px_resolver_question rq = {
		.qname = w, .qname_len = (uint8_t)px_test_name(w, name),
		.qtype = PX_DNS_TYPE_A, .qclass = PX_DNS_CLASS_IN,
	};
	uint64_t h = px_resolver_find(dp_miss_resolver(crowd->miss), &rq);

	ck_assert_uint_ne(h, 0);
	return h;
}

/*
 * Waiters leave early, as a resolution cut short does (cancelled, evicted): the first one,
 * whose SEND put the query on the wire, leaves and the others still get the reply; when the
 * last leaves, the query is withdrawn, so its reply is a stray and no resolution hears of it.
 */
START_TEST(test_miss_share_waiter_leaves)
{
	struct px_resolver *r = (struct px_resolver *)dp_miss_resolver(crowd->miss);
	uint64_t active = px_resolver_active(r), stale = r->stats.stale_events;
	uint64_t coalesced = CSTAT(rec_up_coalesced), strays;
	struct upq q;
	struct frame f;

	crowd_ready();
	crowd_ask(41300, 41300 ^ 0x5555, "l1.crowd.test");
	crowd_ask(41301, 41301 ^ 0x5555, "l2.crowd.test");
	crowd_ask(41302, 41302 ^ 0x5555, "l3.crowd.test");
	crowd_one_query(&q); /* root "test", shared by three */
	ck_assert_uint_eq(CSTAT(rec_up_coalesced), coalesced + 2);
	ck_assert_int_eq(px_resolver_cancel(r, crowd_res("l1.crowd.test")), 0);
	crowd_answer(&q);
	crowd_one_query(&q); /* root "crowd.test", for the two left */
	ck_assert_uint_eq(CSTAT(rec_up_coalesced), coalesced + 3);
	ck_assert_uint_eq(px_resolver_active(r), active + 2);

	ck_assert_int_eq(px_resolver_cancel(r, crowd_res("l3.crowd.test")), 0);
	ck_assert_int_eq(px_resolver_cancel(r, crowd_res("l2.crowd.test")), 0);
	ck_assert_uint_eq(px_resolver_active(r), active);
	strays = CSTAT(rec_forged_no_query);
	crowd_answer(&q);
	ck_assert_uint_eq(CSTAT(rec_forged_no_query), strays + 1);
	ck_assert(!crowd_frame(&f));
	ck_assert_uint_eq(r->stats.stale_events, stale);
}
END_TEST

/* A server that answers with the question in lower case whatever it was asked. */
static void
crowd_answer_lower(const struct upq *q)
{
	struct upq lq = *q;
	struct px_test_msg r;

	for (char *c = lq.qname; *c != '\0'; c++)
		*c = (char)tolower(*c);
	auth_reply(&r, &lq);
	crowd_server_send(q, &r);
}

/*
 * 0x20 against a server that does not preserve case: its replies are dropped (rec_forged_case)
 * and the query is asked again at its deadline, not failed; after the second such query the
 * server is in fallback: asked in lower case, its reply is accepted, and so is the next name's
 * at once. No timeout is counted against it.
 */
START_TEST(test_miss_0x20_fallback)
{
	static const char name[] = "thequickbrownfoxjumpsoverthelazydog.lower.test";
	uint64_t forged = CSTAT(rec_forged_case), retries = CSTAT(rec_0x20_retries);
	uint64_t fallback = CSTAT(rec_0x20_fallback), timeouts = CSTAT(rec_timeouts);
	struct upq q, q2;
	struct frame f;

	crowd_ready();
	crowd_ask(41400, 41400 ^ 0x5555, name);
	crowd_to_zone(&q, "lower.test");
	/* 40 letters: all drawn lower case once in 2^40. */
	ck_assert_int_ne(strcmp(q.qname, name), 0);
	for (unsigned strike = 0; strike < 2; strike++) {
		crowd_answer_lower(&q);
		ck_assert_uint_eq(CSTAT(rec_forged_case), forged + strike + 1);
		ck_assert(!crowd_frame(&f));
		crowd_step(cnow + PX_UPQ_RTT_UNKNOWN_MS);
		crowd_one_query(&q2);
		ck_assert_uint_eq(q2.dst, q.dst);
		ck_assert_int_eq(strcasecmp(q2.qname, name), 0);
		ck_assert_uint_eq(CSTAT(rec_0x20_retries), retries + strike + 1);
		q = q2;
	}
	ck_assert_uint_eq(CSTAT(rec_0x20_fallback), fallback + 1);
	ck_assert_str_eq(q.qname, name); /* fallback: lower case */
	crowd_answer_lower(&q);
	ck_assert(crowd_frame(&f));
	check_client_answer(&f, 41400, 41400 ^ 0x5555, name, PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);

	crowd_ask(41401, 41401 ^ 0x5555, "Next.Lower.Test");
	crowd_to_zone(&q, "lower.test");
	ck_assert_str_eq(q.qname, "next.lower.test");
	crowd_answer_lower(&q);
	ck_assert(crowd_frame(&f));
	check_client_answer(&f, 41401, 41401 ^ 0x5555, "Next.Lower.Test", PX_DNS_RCODE_NOERROR);
	rte_pktmbuf_free(f.m);
	ck_assert_uint_eq(CSTAT(rec_forged_case), forged + 2);
	ck_assert_uint_eq(CSTAT(rec_timeouts), timeouts);
	ck_assert(!crowd_frame(&f));
}
END_TEST

static Suite *
recurse_suite(void)
{
	Suite *s = suite_create("recurse");
	TCase *tc;

	tc = tcase_create("resolve");
	tcase_add_test(tc, test_miss_priming_at_start);
	tcase_add_test(tc, test_miss_referral_then_answer);
	tcase_add_test(tc, test_miss_forged_replies_dropped);
	tcase_add_test(tc, test_miss_invalid_glue_servfail);
	tcase_add_test(tc, test_miss_self_glue_servfail);
	tcase_add_test(tc, test_miss_coalesced);
	tcase_add_test(tc, test_miss_reply_handoff);
	tcase_add_test(tc, test_miss_cut_cached);
	tcase_add_test(tc, test_miss_answer_cached_before_reply);
	tcase_add_test(tc, test_miss_tc_retry_over_tcp);
	tcase_add_test(tc, test_miss_tc_retry_failed);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("timeouts");
	tcase_add_test(tc, test_miss_timeout_failover);
	tcase_add_test(tc, test_miss_timeout_last_server_servfail);
	tcase_add_test(tc, test_miss_onlink_server);
	tcase_add_test(tc, test_miss_unreachable_server_network_error);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("priming");
	tcase_add_test(tc, test_miss_prime_backoff);
	tcase_add_test(tc, test_miss_prime_refresh);
	tcase_add_test(tc, test_miss_prime_root_cut_gone);
	tcase_add_test(tc, test_miss_prime_over_tcp);
	tcase_add_test(tc, test_miss_probe);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("sharing");
	tcase_add_test(tc, test_miss_share_same_name);
	tcase_add_test(tc, test_miss_share_referral);
	tcase_add_test(tc, test_miss_share_timeout);
	tcase_add_test(tc, test_miss_share_waiter_leaves);
	tcase_add_test(tc, test_miss_0x20_fallback);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("resources");
	tcase_add_test(tc, test_miss_mbufs_back);
	suite_add_tcase(s, tc);
	return s;
}

/* What control/main.c's tcp_setup() and ctl_tcp_create() give worker 0: a tun port (a
 * net_ring here) and the rings to the TCP thread, with messages from msg_pool. */
static struct dp_tcp_lcore *
tcp_lcore(const char *name, struct rte_ring **tun_rx, struct rte_ring **tun_tx)
{
	struct dp_tcp_lcore *t = rte_zmalloc(NULL, sizeof(*t), RTE_CACHE_LINE_SIZE);
	char rn[RTE_RING_NAMESIZE];

	if (t == NULL)
		rte_exit(2, "test_miss: out of memory\n");
	t->tun_port = px_test_ring_port(name, pool, tun_rx, tun_tx);
	t->tun_queue = 0;
	t->worker = 0;
	t->msg_pool = msg_pool;
	snprintf(rn, sizeof(rn), "%s_in", name);
	t->in = rte_ring_create(rn, 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(rn, sizeof(rn), "%s_out", name);
	t->out = rte_ring_create(rn, 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (t->in == NULL || t->out == NULL)
		rte_exit(2, "test_miss: cannot create the TCP rings of %s\n", name);
	return t;
}

/* The priming worker: a worker state of its own (not launched: the test steps it), on its own
 * port, with its own cache, neighbour table, priming record and control side, sharing the
 * hints, the policy and RCU. */
static void
primer_setup(const struct dp_miss_conf *rconf)
{
	pctx.port = ctx.port;
	pctx.port.port_id = px_test_ring_port("net_ring_prime", pool, &prx_ring, &ptx_ring);
	pctx.qsbr = ctx.qsbr;
	pctx.hints = hints;
	pctx.cache = dp_cache_create("test_rec_pcache", 64, ctx.qsbr, 0);
	pctx.prime_status = rte_zmalloc(NULL, sizeof(*pctx.prime_status), RTE_CACHE_LINE_SIZE);
	pctx.nbr = rte_zmalloc(NULL, sizeof(*pctx.nbr), RTE_CACHE_LINE_SIZE);
	pctx.worker_count = 1;
	primer = rte_zmalloc(NULL, sizeof(*primer), RTE_CACHE_LINE_SIZE);
	if (pctx.cache == NULL || pctx.prime_status == NULL || pctx.nbr == NULL || primer == NULL)
		rte_exit(2, "test_miss: cannot set up the priming worker\n");
	dp_nbr_init(pctx.nbr);
	ctl_prime_init(&pstate, &ctl_cfg, &pctx);
	primer->ctx = &pctx;
	primer->lcore_id = rte_get_main_lcore();
	primer->queue_id = 0;
	/* It probes too, as control/main.c's first worker does (". NS", the default). */
	struct dp_miss_conf pconf = *rconf;

	pconf.probe = true;
	pconf.probe_qname_len = 1;
	pconf.probe_qtype = PX_DNS_TYPE_NS;
	primer->miss = dp_miss_create(&pconf, 0, pool, dp_clock_ms());
	/* The primer caches the root set it checked itself. */
	primer->cache_w = dp_cache_writer_create(pctx.cache, 0, 0);
	if (primer->miss == NULL || primer->cache_w == NULL)
		rte_exit(2, "test_miss: dp_miss_create: %s\n", strerror(errno));
	ptcp = tcp_lcore("net_ring_ptun", &ptun_rx_ring, &ptun_tx_ring);
	primer->tcp = ptcp;
}

/* The crowd worker (see the sharing cases): like the primer, without priming; its cache is
 * emptied at the start of each case (crowd_ready). */
static void
crowd_setup(const struct dp_miss_conf *rconf)
{
	struct dp_miss_conf conf = *rconf;

	/* Its crowds come from one client address: no fair share (test_miss_share.c has it
	 * with coalescing past the cap). */
	conf.prime = false;
	conf.per_client = 0;
	conf.jostle_ms = 0;
	cctx.port = ctx.port;
	cctx.port.port_id = px_test_ring_port("net_ring_crowd", pool, &crx_ring, &ctx_ring);
	cctx.qsbr = ctx.qsbr;
	cctx.hints = hints;
	cctx.cache = dp_cache_create("test_rec_ccache", 64, ctx.qsbr, 0);
	cctx.nbr = rte_zmalloc(NULL, sizeof(*cctx.nbr), RTE_CACHE_LINE_SIZE);
	cctx.worker_count = 1;
	crowd = rte_zmalloc(NULL, sizeof(*crowd), RTE_CACHE_LINE_SIZE);
	if (cctx.cache == NULL || cctx.nbr == NULL || crowd == NULL)
		rte_exit(2, "test_miss: cannot set up the crowd worker\n");
	dp_nbr_init(cctx.nbr);
	crowd->ctx = &cctx;
	crowd->lcore_id = rte_get_main_lcore();
	crowd->queue_id = 0;
	crowd->miss = dp_miss_create(&conf, 0, pool, dp_clock_ms());
	crowd->cache_w = dp_cache_writer_create(cctx.cache, 0, 0);
	if (crowd->miss == NULL || crowd->cache_w == NULL)
		rte_exit(2, "test_miss: dp_miss_create: %s\n", strerror(errno));
	ctcp = tcp_lcore("net_ring_ctun", &ctun_rx_ring, &ctun_tx_ring);
	crowd->tcp = ctcp;
}

/* The daemon's set-up (control/main.c: port_setup, recurse_conf, tcp_setup, launch_workers)
 * on a net_ring port, with a one-server hints table. */
static void
setup(void)
{
	struct dp_miss_conf rconf;
	int port;

	px_test_eal_init("test_miss", "0,1", NULL);
	dp_clock_init();
	pool = rte_pktmbuf_pool_create("test_rec_pool", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	msg_pool = rte_pktmbuf_pool_create("test_rec_msgs", 255, 0, (uint16_t)DP_TCP_META_SIZE,
					   RTE_PKTMBUF_HEADROOM + DP_TCP_MSG_ROOM, 0);
	if (pool == NULL || msg_pool == NULL)
		rte_exit(2, "test_miss: cannot create the pools\n");
	port = px_test_ring_port("net_ring_rec", pool, &rx_ring, &tx_ring);

	ctx.port.port_id = (uint16_t)port;
	memcpy(ctx.port.mac.addr_bytes, hosts.server_mac, 6);
	ctx.port.has_ip4 = true;
	ctx.port.ip4 = hosts.server_ip4;
	ctx.port.ip4_prefix = 24;
	dp_port_conf_derive(&ctx.port);
	ctx.qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	if (ctx.qsbr == NULL || rte_rcu_qsbr_init(ctx.qsbr, RTE_MAX_LCORE) != 0)
		rte_exit(2, "test_miss: cannot set up RCU\n");
	ctx.cache = dp_cache_create("test_rec_cache", 1024, ctx.qsbr, 0);
	ctx.prime_status = rte_zmalloc(NULL, sizeof(*ctx.prime_status), RTE_CACHE_LINE_SIZE);
	if (ctx.cache == NULL || ctx.prime_status == NULL)
		rte_exit(2, "test_miss: cannot create the cache or the priming record\n");
	ctl_config_init(&ctl_cfg);
	ctl_prime_init(&prime_state, &ctl_cfg, &ctx);

	hints = rte_zmalloc(NULL, px_hints_size(1), RTE_CACHE_LINE_SIZE);
	if (ctx.cache == NULL || hints == NULL)
		rte_exit(2, "test_miss: cannot create the cache or hints\n");
	hints->generation = 1;
	hints->ns_count = 1;
	hints->ttl = 518400;
	hints->ns[0].name_len = (uint8_t)px_test_name(hints->ns[0].name, "a.root.test");
	hints->ns[0].v4_count = 1;
	hints->ns[0].v4[0] = ROOT_IP4;
	hints->checksum = px_hints_checksum(hints);
	ctx.hints = hints;

	/* As recurse_conf() does for --gateway 198.18.0.1 with IPv4 only. */
	px_addr_policy_init(&policy);
	/* As control/main.c does for --ip 198.18.0.2/24. */
	px_addr_policy_set_self4(&policy, hosts.server_ip4, 24);
	memset(&rconf, 0, sizeof(rconf));
	rconf.has_gw4 = true;
	rconf.gw4 = GW_IP4;
	rconf.slots = REC_SLOTS;
	px_resolver_config_default(&rconf.resolve);
	rconf.resolve.qname_min = true;
	rconf.resolve.use_ipv4 = true;
	rconf.resolve.use_ipv6 = false;
	rconf.policy = &policy;
	rconf.prime = true;
	rconf.prime_min_servers = ctl_cfg.min_root_servers;
	/* The fair share as recurse_conf() sets it by default: every case runs under the cap. */
	rconf.per_client = REC_SLOTS / 8;
	rconf.client_prefix6 = 56;
	rconf.jostle_ms = 200;
	/* The scripted servers answer from this test's thread, which a busy machine (the ASan
	 * build beside other work) can keep off a core for longer than the 50 ms a server
	 * measured at 1 ms would get: every server gets at least a never-measured one's RTO. */
	rconf.rto_min_ms = PX_UPQ_RTT_UNKNOWN_MS;

	/* What control/main.c's recurse_shared() builds for two workers. */
	ctx.nbr = rte_zmalloc(NULL, sizeof(*ctx.nbr), RTE_CACHE_LINE_SIZE);
	port_owner = rte_zmalloc(NULL, PX_UPQ_PORT_MAX + 1, RTE_CACHE_LINE_SIZE);
	handoff[0] = rte_ring_create("test_rec_ho0", 64, 0, RING_F_SC_DEQ);
	handoff[1] = rte_ring_create("test_rec_ho1", 64, 0, RING_F_SC_DEQ);
	worker = rte_zmalloc(NULL, sizeof(*worker), RTE_CACHE_LINE_SIZE);
	other = rte_zmalloc(NULL, sizeof(*other), RTE_CACHE_LINE_SIZE);
	if (ctx.nbr == NULL || port_owner == NULL || handoff[0] == NULL || handoff[1] == NULL ||
	    worker == NULL || other == NULL)
		rte_exit(2, "test_miss: out of memory\n");
	dp_nbr_init(ctx.nbr);
	ctx.port_owner = port_owner;
	ctx.handoff = handoff;
	ctx.worker_count = 2;
	worker->ctx = &ctx;
	worker->lcore_id = rte_get_next_lcore(-1, 1, 0);
	worker->queue_id = 0;
	worker->miss = dp_miss_create(&rconf, (int)rte_lcore_to_socket_id(worker->lcore_id),
					pool, dp_clock_ms());
	other->ctx = &ctx;
	other->lcore_id = rte_get_main_lcore();
	other->queue_id = 1;
	other->miss = dp_miss_create(&rconf, 0, pool, dp_clock_ms());
	/* Each worker writes the cache itself, as launch_workers() sets it up. */
	worker->cache_w = dp_cache_writer_create(ctx.cache, 0, 0);
	other->cache_w = dp_cache_writer_create(ctx.cache, 0, 0);
	if (worker->miss == NULL || other->miss == NULL || worker->cache_w == NULL ||
	    other->cache_w == NULL ||
	    dp_miss_share_ports(worker->miss, port_owner, 0, 0) != 0 ||
	    dp_miss_share_ports(other->miss, port_owner, 1, 0) != 0)
		rte_exit(2, "test_miss: dp_miss_create: %s\n", strerror(errno));
	tcp = tcp_lcore("net_ring_tun", &tun_rx_ring, &tun_tx_ring);
	worker->tcp = tcp;
	primer_setup(&rconf);
	crowd_setup(&rconf);
	mbuf_baseline = rte_mempool_in_use_count(pool);
	msg_baseline = rte_mempool_in_use_count(msg_pool);
	rte_eal_remote_launch(dp_loop_run, worker, worker->lcore_id);
}

int
main(void)
{
	SRunner *sr;
	int failed;

	setup();
	sr = srunner_create(recurse_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	__atomic_store_n(&ctx.stop, true, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	dp_miss_free(worker->miss);
	dp_miss_free(other->miss);
	dp_miss_free(primer->miss);
	dp_miss_free(crowd->miss);
	dp_cache_free(cctx.cache);
	rte_free(cctx.nbr);
	rte_free(crowd);
	rte_free(ctcp);
	dp_cache_free(pctx.cache);
	rte_free(pctx.prime_status);
	rte_free(pctx.nbr);
	rte_free(primer);
	rte_free(ptcp);
	rte_free(tcp);
	rte_ring_free(handoff[0]);
	rte_ring_free(handoff[1]);
	rte_free(port_owner);
	rte_free(ctx.nbr);
	rte_free(other);
	rte_free(ctx.prime_status);
	dp_cache_free(ctx.cache);
	ctl_config_free(&ctl_cfg);
	rte_free(hints);
	rte_free(worker);
	rte_free(ctx.qsbr);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
