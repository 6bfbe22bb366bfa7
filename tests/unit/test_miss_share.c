/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fair share of the resolver per client, and the jostle, through the worker's real code: a
 * worker state (dp_miss.h) on a net_ring port that the test steps itself on the main lcore
 * with a clock of its own (RX burst, then the resolution tick, in dp_loop_run's order), so
 * timeouts and ages are exact and take no wall-clock time. The test plays the clients, the
 * gateway and the servers:
 *   root 198.18.1.1       refers good.test to 198.18.3.1 and dead.test to 198.18.5.1
 *   good.test 198.18.3.1  answers A 198.51.100.7
 *   dead.test 198.18.5.1  never answers
 * QNAME minimisation is off and the worker has no cache writer (nothing is cached), so every
 * resolution asks the root, then its zone's server.
 *
 * The worker has 16 slots, a cap of 4 per client and a jostle age of 100 ms.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
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
#include <pollux/share.h>
#include <pollux/upstream.h>
#include <pollux/wire.h>

#include "dp_clock.h"
#include "dp_lcore.h"
#include "dp_miss.h"
#include "dp_tx.h"
#include "dp_worker.h"
#include "testlib.h"
#include "testlib_pkt.h"

#define GW_IP4 RTE_BE32(0xc6120001)   /* 198.18.0.1 */
#define ROOT_IP4 RTE_BE32(0xc6120101) /* 198.18.1.1 */
#define GOOD_IP4 RTE_BE32(0xc6120301) /* 198.18.3.1 */
#define DEAD_IP4 RTE_BE32(0xc6120501) /* 198.18.5.1 */
#define SLOTS 16
#define PER_CLIENT 4
#define JOSTLE_MS 100

static const struct px_test_hosts base = {
	.client_mac = {0x02, 0, 0, 0, 0, 0x01},
	.server_mac = {0x02, 0, 0, 0, 0, 0x02},
	.client_ip4 = RTE_BE32(0xc612000a), /* 198.18.0.10; client n is .10 + n */
	.server_ip4 = RTE_BE32(0xc6120002), /* 198.18.0.2 */
};
static const uint8_t gw_mac[6] = {0x02, 0, 0, 0, 0, 0xfe};

static struct rte_mempool *pool;
static struct rte_ring *rx_ring, *tx_ring;
static struct dp_ctx ctx;
static struct dp_lcore *w;
static struct px_addr_policy policy;
static struct px_hints *hints;
static uint64_t now;

/* An upstream query the worker sent. */
struct upq {
	uint32_t dst;
	uint16_t sport, id;
	char qname[PX_DNS_NAME_BUF];
};

/* A client answer the worker sent. */
struct ans {
	uint32_t dst;
	uint16_t dport, id;
	uint8_t rcode;
	uint16_t ancount;
};

#define STAT(name) (w->stats.name)

static void
step(uint64_t at)
{
	ck_assert_uint_ge(at, now);
	now = at;
	w->now_ms = now;
	dp_miss_tick(w);
}

/* A frame to the worker at `now`: its RX burst (whatever it answers at once goes out too),
 * then the rest of that loop iteration. */
static void
rx(const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *tx[DP_BURST];
	uint16_t n;

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, len), frame, len);
	w->now_ms = now;
	n = dp_rx_burst_handle(w, &m, 1, tx);
	if (n > 0)
		dp_tx_port(w, tx, n);
	step(now);
}

static void
read_name(const uint8_t *p, uint16_t len, uint16_t *pos, char *out)
{
	size_t o = 0;

	for (;;) {
		ck_assert_uint_lt(*pos, len);
		uint8_t l = p[(*pos)++];

		if (l == 0)
			break;
		ck_assert_uint_le(*pos + l, len);
		memcpy(out + o, p + *pos, l);
		o += l;
		out[o++] = '.';
		*pos = (uint16_t)(*pos + l);
	}
	out[o > 0 ? o - 1 : 0] = '\0';
}

/* The next frame the worker sent, skipping ARP requests for the gateway: false if none. Fills
 * q for an upstream query, a for a client answer (*is_answer says which). */
static bool
sent(struct upq *q, struct ans *a, bool *is_answer)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(tx_ring, (void **)&m) == 0) {
		const struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

		if (e->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
			rte_pktmbuf_free(m);
			continue;
		}
		ck_assert_uint_eq(e->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV4));
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(e + 1);
		const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
		const uint8_t *d = (const uint8_t *)(udp + 1);
		uint16_t dlen = (uint16_t)(rte_be_to_cpu_16(udp->dgram_len) - sizeof(*udp));
		uint16_t pos = PX_DNS_HDR_LEN;

		ck_assert_uint_eq(ip->src_addr, base.server_ip4);
		ck_assert_uint_ge(dlen, PX_DNS_HDR_LEN);
		*is_answer = udp->src_port == RTE_BE16(PX_DNS_PORT);
		if (*is_answer) {
			a->dst = ip->dst_addr;
			a->dport = rte_be_to_cpu_16(udp->dst_port);
			a->id = px_get16(d);
			a->rcode = d[3] & 0x0f;
			a->ancount = px_get16(d + 6);
		} else {
			ck_assert_uint_eq(udp->dst_port, RTE_BE16(PX_DNS_PORT));
			ck_assert_mem_eq(e->dst_addr.addr_bytes, gw_mac, 6);
			q->dst = ip->dst_addr;
			q->sport = rte_be_to_cpu_16(udp->src_port);
			q->id = px_get16(d);
			read_name(d, dlen, &pos, q->qname);
		}
		rte_pktmbuf_free(m);
		return true;
	}
	return false;
}

static struct px_test_hosts
client(unsigned n)
{
	struct px_test_hosts h = base;

	h.client_ip4 = rte_cpu_to_be_32(rte_be_to_cpu_32(base.client_ip4) + n);
	return h;
}

static void
ask(unsigned who, uint16_t id, const char *name)
{
	uint8_t dns[512], f[600] __rte_aligned(8);
	const struct px_test_query q = {.id = id, .flags = PX_DNS_RD, .name = name,
					.qtype = PX_DNS_TYPE_A, .qclass = PX_DNS_CLASS_IN,
					.edns = true, .edns_bufsize = 1232};
	struct px_test_hosts h = client(who);
	uint16_t dlen = px_test_query(dns, &q);

	rx(f, px_test_frame_udp4(f, &h, id, PX_DNS_PORT, dns, dlen));
}

static bool
below(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	/* Without case: the worker spells every upstream qname in a 0x20 case of its own. */
	return n > z && name[n - z - 1] == '.' && strcasecmp(name + n - z, zone) == 0;
}

/* A server's reply to q (dst's script), to the worker. */
static void
reply(const struct upq *q)
{
	uint8_t f[1600] __rte_aligned(8);
	struct px_test_hosts h = {.client_ip4 = q->dst, .server_ip4 = base.server_ip4};
	struct px_test_msg r;

	px_test_msg_start(&r, q->id, PX_DNS_QR | (q->dst == ROOT_IP4 ? 0 : PX_DNS_AA), q->qname,
			  PX_DNS_TYPE_A);
	if (q->dst == ROOT_IP4) {
		const char *zone = below(q->qname, "good.test") ? "good.test" : "dead.test";
		char ns[64];

		snprintf(ns, sizeof(ns), "ns.%s", zone);
		px_test_msg_target(&r, 1, zone, PX_DNS_TYPE_NS, 3600, ns);
		px_test_msg_addr(&r, 2, ns, zone[0] == 'g' ? "198.18.3.1" : "198.18.5.1");
	} else {
		ck_assert_uint_eq(q->dst, GOOD_IP4);
		px_test_msg_addr(&r, 0, NULL, "198.51.100.7");
	}
	memcpy(h.client_mac, gw_mac, 6);
	memcpy(h.server_mac, base.server_mac, 6);
	rx(f, px_test_frame_udp4(f, &h, PX_DNS_PORT, q->sport, r.buf, r.len));
}

/*
 * Plays the root and good.test until the worker has nothing more to send; queries to the dead
 * server are left unanswered (the last one in *dead, if given). Client answers are collected in
 * out (up to max); returns how many.
 */
static unsigned
serve(struct ans *out, unsigned max, struct upq *dead)
{
	unsigned n = 0;
	struct upq q;
	struct ans a;
	bool is_answer;

	while (sent(&q, &a, &is_answer)) {
		if (is_answer) {
			ck_assert_uint_lt(n, max);
			out[n++] = a;
		} else if (q.dst == DEAD_IP4) {
			if (dead != NULL)
				*dead = q;
		} else {
			reply(&q);
		}
	}
	return n;
}

static uint32_t
held_by(unsigned who)
{
	struct px_test_hosts h = client(who);

	return px_share_count(dp_miss_share(w->miss), 4, (const uint8_t *)&h.client_ip4);
}

/* Lets every resolution still waiting on the dead server time out (its RTO is at most
 * PX_UPQ_RTO_MAX_MS, and the deadline 3 s), and checks all that was counted came back. */
static unsigned
drain(struct ans *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned k = 0; k < 40; k++) {
		n += serve(out + n, max - n, NULL);
		step(now + 100);
	}
	n += serve(out + n, max - n, NULL);
	ck_assert_uint_eq(dp_miss_clients_used(w->miss), 0);
	ck_assert_uint_eq(px_resolver_active(dp_miss_resolver(w->miss)), 0);
	ck_assert_uint_eq(dp_miss_share(w->miss)->held, 0);
	ck_assert_uint_eq(dp_miss_share(w->miss)->clients, 0);
	return n;
}

static void
gateway_ready(void)
{
	static bool known;
	uint8_t f[60] __rte_aligned(8) = {0};
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)f;
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(e + 1);

	if (known)
		return;
	step(dp_clock_ms());
	memcpy(e->dst_addr.addr_bytes, base.server_mac, 6);
	memcpy(e->src_addr.addr_bytes, gw_mac, 6);
	e->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	memcpy(a->arp_data.arp_sha.addr_bytes, gw_mac, 6);
	a->arp_data.arp_sip = GW_IP4;
	memcpy(a->arp_data.arp_tha.addr_bytes, base.server_mac, 6);
	a->arp_data.arp_tip = base.server_ip4;
	rx(f, 60);
	ck_assert_uint_eq(STAT(rec_neigh_learned), 1);
	ck_assert_uint_eq(serve(NULL, 0, NULL), 0);
	known = true;
}

/*
 * A client holding its share gets SERVFAIL at once for a new miss, and for one that would
 * join a resolution in flight; other clients are served meanwhile, and may join the capped
 * client's resolutions. When the dead server's resolutions fail, every count comes back.
 */
START_TEST(test_share_cap_per_client)
{
	uint64_t capped = STAT(rec_client_capped), attached = STAT(rec_attached);
	struct ans a[32];
	char name[64];
	unsigned n;

	gateway_ready();
	for (unsigned i = 0; i < PER_CLIENT; i++) {
		snprintf(name, sizeof(name), "x%u.dead.test", i);
		ask(0, (uint16_t)(1000 + i), name);
	}
	ck_assert_uint_eq(serve(a, 32, NULL), 0);
	ck_assert_uint_eq(held_by(0), PER_CLIENT);
	/* Past the share: a new name, and a name in flight, both refused at once. */
	ask(0, 1100, "y.dead.test");
	ask(0, 1101, "x0.dead.test");
	n = serve(a, 32, NULL);
	ck_assert_uint_eq(n, 2);
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_eq(a[i].rcode, PX_DNS_RCODE_SERVFAIL);
		ck_assert_uint_eq(a[i].dst, client(0).client_ip4);
		ck_assert(a[i].dport == 1100 || a[i].dport == 1101);
	}
	ck_assert_uint_eq(STAT(rec_client_capped), capped + 2);
	ck_assert_uint_eq(held_by(0), PER_CLIENT);
	/* Another client: its own miss is resolved, and it may join the first one's question. */
	ask(1, 2000, "x0.dead.test");
	ck_assert_uint_eq(STAT(rec_attached), attached + 1);
	ask(1, 2001, "www.good.test");
	n = serve(a, 32, NULL);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(a[0].ancount, 1);
	ck_assert_uint_eq(a[0].dport, 2001);
	ck_assert_uint_eq(held_by(1), 1);
	ck_assert_uint_eq(dp_miss_clients_used(w->miss), PER_CLIENT + 1);
	/* The dead server times out: SERVFAIL for all five waiting, and nothing stays counted. */
	n = drain(a, 32);
	ck_assert_uint_eq(n, PER_CLIENT + 1);
	for (unsigned i = 0; i < n; i++)
		ck_assert_uint_eq(a[i].rcode, PX_DNS_RCODE_SERVFAIL);
	ck_assert_uint_eq(held_by(0), 0);
	/* The share is free again. */
	ask(0, 1200, "www.good.test");
	n = serve(a, 32, NULL);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_NOERROR);
}
END_TEST

/*
 * Every slot taken by resolutions waiting on the dead server: a new miss is refused while they
 * are younger than the jostle age or while the server has not been seen to time out; past
 * both, it takes the oldest one's place (its client gets SERVFAIL) and is answered. The evicted
 * query's late reply finds nothing, and every count comes back in the end.
 */
START_TEST(test_share_jostle)
{
	uint64_t jostled = STAT(rec_jostled), no_slot = STAT(rec_no_client_slot);
	uint64_t no_query = STAT(rec_forged_no_query);
	struct upq first, q;
	struct ans a[32];
	char name[64];
	unsigned n;

	gateway_ready();
	/* The dead server is seen to time out first: it is in backoff from then on. */
	ask(8, 2999, "warm.dead.test");
	ck_assert_uint_eq(drain(a, 32), 1);
	/* Fill every slot, four clients with four misses each, the first miss oldest. */
	for (unsigned i = 0; i < SLOTS; i++) {
		snprintf(name, sizeof(name), "j%u.dead.test", i);
		ask(2 + i / PER_CLIENT, (uint16_t)(3000 + i), name);
		ck_assert_uint_eq(serve(a, 32, &q), 0);
		ck_assert_uint_eq(q.dst, DEAD_IP4);
		if (i == 0)
			first = q;
		step(now + 1);
	}
	ck_assert_uint_eq(dp_miss_clients_used(w->miss), SLOTS);
	uint64_t t0 = now - SLOTS;

	/* Too young: refused. */
	ask(9, 4000, "www.good.test");
	n = serve(a, 32, NULL);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_SERVFAIL);
	ck_assert_uint_eq(a[0].dport, 4000);
	ck_assert_uint_eq(STAT(rec_no_client_slot), no_slot + 1);
	ck_assert_uint_eq(STAT(rec_jostled), jostled);
	/* Old enough now, and waiting on a server in backoff. */
	step(t0 + JOSTLE_MS);
	const struct px_upq_table *upq = dp_miss_resolver(w->miss)->upq;
	uint64_t cancelled = px_upq_stats(upq)->cancelled;

	ck_assert_uint_eq(px_upq_outstanding(upq), SLOTS);
	ask(9, 4001, "www.good.test");
	ck_assert_uint_eq(STAT(rec_jostled), jostled + 1);
	/* The evicted query left the table; the newcomer's first query (to the root) is in. */
	ck_assert_uint_eq(px_upq_stats(upq)->cancelled, cancelled + 1);
	ck_assert_uint_eq(px_upq_outstanding(upq), SLOTS);
	n = serve(a, 32, NULL);
	ck_assert_uint_eq(n, 2);
	/* The oldest resolution's client got SERVFAIL, and the newcomer its answer. */
	for (unsigned i = 0; i < n; i++) {
		if (a[i].dport == 3000) {
			ck_assert_uint_eq(a[i].rcode, PX_DNS_RCODE_SERVFAIL);
			ck_assert_uint_eq(a[i].dst, client(2).client_ip4);
		} else {
			ck_assert_uint_eq(a[i].dport, 4001);
			ck_assert_uint_eq(a[i].rcode, PX_DNS_RCODE_NOERROR);
		}
	}
	ck_assert_uint_eq(held_by(2), PER_CLIENT - 1);
	/* The evicted query's reply, late: no query waits for it any more. */
	{
		uint8_t f[600] __rte_aligned(8);
		struct px_test_hosts h = {.client_ip4 = DEAD_IP4, .server_ip4 = base.server_ip4};
		struct px_test_msg r;

		px_test_msg_start(&r, first.id, PX_DNS_QR | PX_DNS_AA, first.qname, PX_DNS_TYPE_A);
		px_test_msg_addr(&r, 0, NULL, "198.51.100.66");
		memcpy(h.client_mac, gw_mac, 6);
		memcpy(h.server_mac, base.server_mac, 6);
		rx(f, px_test_frame_udp4(f, &h, PX_DNS_PORT, first.sport, r.buf, r.len));
	}
	ck_assert_uint_eq(STAT(rec_forged_no_query), no_query + 1);
	ck_assert_uint_eq(serve(a, 32, NULL), 0);
	/* The other fifteen time out as before; nothing leaks. */
	n = drain(a, 32);
	ck_assert_uint_eq(n, SLOTS - 1);
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_eq(a[i].rcode, PX_DNS_RCODE_SERVFAIL);
		ck_assert_uint_ne(a[i].dport, 3000);
	}
	ck_assert_uint_eq(px_upq_outstanding(dp_miss_resolver(w->miss)->upq), 0);
}
END_TEST

/* Slots full of resolutions whose server never timed out: nobody is jostled, however old. */
START_TEST(test_share_no_jostle_for_live_server)
{
	uint64_t jostled = STAT(rec_jostled);
	struct upq q;
	struct ans a[32];
	char name[64];

	gateway_ready();
	drain(a, 32);
	/* Long enough for the dead server's backoff to be forgiven (PX_UPQ_BACKOFF_DECAY_MS a
	 * step, PX_UPQ_MAX_BACKOFF steps at most). */
	step(now + (uint64_t)PX_UPQ_BACKOFF_DECAY_MS * (PX_UPQ_MAX_BACKOFF + 1));
	for (unsigned i = 0; i < SLOTS; i++) {
		snprintf(name, sizeof(name), "k%u.dead.test", i);
		ask(2 + i / PER_CLIENT, (uint16_t)(5000 + i), name);
		ck_assert_uint_eq(serve(a, 32, &q), 0);
	}
	step(now + JOSTLE_MS + 10); /* before the server's RTO (PX_UPQ_RTT_UNKNOWN_MS) */
	ask(9, 6000, "www.good.test");
	ck_assert_uint_eq(serve(a, 32, NULL), 1);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_SERVFAIL);
	ck_assert_uint_eq(a[0].dport, 6000);
	ck_assert_uint_eq(STAT(rec_jostled), jostled);
	drain(a, 32);
}
END_TEST

/* A TCP client is counted by its connection, not by the address it connects from: two
 * connections from one address hold a share each, and the address's own UDP queries a third. */
static bool
ask_tcp(uint32_t conn, uint16_t id, const char *name)
{
	uint8_t dns[512];
	const struct px_test_query tq = {.id = id, .flags = PX_DNS_RD, .name = name,
					 .qtype = PX_DNS_TYPE_A, .qclass = PX_DNS_CLASS_IN};
	uint16_t dlen = px_test_query(dns, &tq);
	struct px_test_hosts h = client(0);
	const struct px_dns_ede_info *why;
	struct dp_client_addr from;
	struct dp_query q;
	bool taken;

	ck_assert_int_eq(px_wire_parse_query(&q, dns, dlen), PX_WIRE_OK);
	memset(&from, 0, sizeof(from));
	from.transport = DP_CLIENT_TCP;
	px_addr_set4(&from.peer, h.client_ip4, 40000);
	from.tcp_conn = conn;
	from.tcp_conn_gen = 1;
	taken = dp_miss_miss(w, dns, &q, &from, false, &why);
	dp_miss_tick(w);
	return taken;
}

START_TEST(test_share_tcp_per_connection)
{
	uint64_t capped = STAT(rec_client_capped);
	struct ans a[32];
	char name[64];

	gateway_ready();
	for (unsigned i = 0; i < PER_CLIENT; i++) {
		snprintf(name, sizeof(name), "t%u.dead.test", i);
		ck_assert(ask_tcp(7, (uint16_t)(3000 + i), name));
	}
	ck_assert_uint_eq(serve(a, 32, NULL), 0);
	/* Not counted under the address it comes from. */
	ck_assert_uint_eq(held_by(0), 0);
	ck_assert(!ask_tcp(7, 3100, "u.dead.test"));
	ck_assert_uint_eq(STAT(rec_client_capped), capped + 1);
	/* Another connection from the same address has a share of its own, and so does the
	 * address over UDP. */
	ck_assert(ask_tcp(8, 3101, "u.dead.test"));
	ask(0, 3102, "v.dead.test");
	ck_assert_uint_eq(serve(a, 32, NULL), 0);
	ck_assert_uint_eq(held_by(0), 1);
	ck_assert_uint_eq(STAT(rec_client_capped), capped + 1);
	ck_assert_uint_eq(dp_miss_clients_used(w->miss), PER_CLIENT + 2);
	/* The UDP client's SERVFAIL goes out of the port; the TCP ones go to the TCP thread,
	 * which this worker has not got. Every count comes back. */
	ck_assert_uint_eq(drain(a, 32), 1);
	ck_assert_uint_eq(a[0].dport, 3102);
}
END_TEST

static Suite *
share_suite(void)
{
	Suite *s = suite_create("recurse_share");
	TCase *tc = tcase_create("share");

	tcase_add_test(tc, test_share_cap_per_client);
	tcase_add_test(tc, test_share_jostle);
	tcase_add_test(tc, test_share_no_jostle_for_live_server);
	tcase_add_test(tc, test_share_tcp_per_connection);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

static void
setup(void)
{
	const struct dp_worker_ctx_conf cc = {
		.name = "test_rs", .cache_size = 64, .resolvers = 1,
	};
	struct dp_miss_conf rconf;
	int port;

	px_test_eal_init("test_miss_share", "0", NULL);
	dp_clock_init();
	pool = rte_pktmbuf_pool_create("test_rs_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	port = px_test_ring_port("net_ring_rs", pool, &rx_ring, &tx_ring);
	ctx.port.port_id = (uint16_t)port;
	memcpy(ctx.port.mac.addr_bytes, base.server_mac, 6);
	ctx.port.has_ip4 = true;
	ctx.port.ip4 = base.server_ip4;
	ctx.port.ip4_prefix = 24;
	dp_port_conf_derive(&ctx.port);
	if (dp_worker_ctx_build(&ctx, &cc) != 0)
		rte_exit(2, "test_miss_share: cannot build the workers' shared state\n");
	hints = rte_zmalloc(NULL, px_hints_size(1), RTE_CACHE_LINE_SIZE);
	if (hints == NULL)
		rte_exit(2, "test_miss_share: out of memory\n");
	hints->generation = 1;
	hints->ns_count = 1;
	hints->ttl = 518400;
	hints->ns[0].name_len = (uint8_t)px_test_name(hints->ns[0].name, "a.root.test");
	hints->ns[0].v4_count = 1;
	px_addr_set4(&hints->ns[0].addr[0], ROOT_IP4, 0);
	hints->checksum = px_hints_checksum(hints);
	ctx.hints = hints;

	px_addr_policy_init(&policy);
	memset(&rconf, 0, sizeof(rconf));
	rconf.has_gw4 = true;
	rconf.gw4 = GW_IP4;
	rconf.slots = SLOTS;
	px_resolver_config_default(&rconf.resolve);
	rconf.resolve.qname_min = false;
	rconf.resolve.use_ipv6 = false;
	rconf.policy = &policy;
	rconf.per_client = PER_CLIENT;
	rconf.client_prefix6 = 56;
	rconf.jostle_ms = JOSTLE_MS;
	w = dp_worker_build(&(struct dp_worker_conf){
		.ctx = &ctx, .lcore_id = rte_get_main_lcore(), .pool = pool, .miss = &rconf,
		.now_ms = dp_clock_ms(),
	});
	if (w == NULL)
		rte_exit(2, "test_miss_share: dp_worker_build: %s\n", strerror(errno));
	/* No cache writer, so that nothing is cached and every resolution asks the root again
	 * (the cache still frees the writer built for it). */
	w->cache_w = NULL;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	setup();
	sr = srunner_create(share_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	dp_worker_free(w);
	dp_worker_ctx_free(&ctx);
	rte_free(hints);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
