/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fair share of the resolver per client, and the jostle, through the worker's real code, on
 * the miss-path rig (testlib_miss.h): a worker the test steps on a clock of its own, so timeouts
 * and ages are exact and take no wall-clock time. Each case builds its own rig. The test plays
 * the clients (198.18.0.10 + n), the gateway and the servers:
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <pollux/resolver.h>
#include <pollux/share.h>
#include <pollux/upstream.h>
#include <pollux/wire.h>

#include "dp_lcore.h"
#include "dp_miss.h"
#include "testlib.h"
#include "testlib_miss.h"
#include "testlib_pkt.h"

#define GOOD_IP4 RTE_BE32(0xc6120301) /* 198.18.3.1 */
#define SLOTS 16
#define PER_CLIENT 4
#define JOSTLE_MS 100

/* A client answer the worker sent. */
struct ans {
	uint32_t dst;
	uint16_t dport, id;
	uint8_t rcode;
	uint16_t ancount;
};

#define STAT(name) TM_STAT(name)

/* The next frame the worker sent, skipping ARP requests for the gateway: false if none. Fills
 * q for an upstream query, a for a client answer (*is_answer says which). */
static bool
sent(struct tm_upq *q, struct ans *a, bool *is_answer)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(tm_tx_ring, (void **)&m) == 0) {
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

		ck_assert_uint_eq(ip->src_addr, tm_hosts.server_ip4);
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
			ck_assert_mem_eq(e->dst_addr.addr_bytes, tm_gw_mac, 6);
			tm_parse_upq(m, q);
		}
		rte_pktmbuf_free(m);
		return true;
	}
	return false;
}

static struct px_test_hosts
client(unsigned n)
{
	struct px_test_hosts h = tm_hosts;

	h.client_ip4 = rte_cpu_to_be_32(rte_be_to_cpu_32(tm_hosts.client_ip4) + n);
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

	tm_rx(f, px_test_frame_udp4(f, &h, id, PX_DNS_PORT, dns, dlen));
}

/* A server's reply to q (dst's script), to the worker. */
static void
reply(const struct tm_upq *q)
{
	struct px_test_msg r;

	px_test_msg_start(&r, q->id, PX_DNS_QR | (q->dst == ROOT_IP4 ? 0 : PX_DNS_AA), q->qname,
			  PX_DNS_TYPE_A);
	if (q->dst == ROOT_IP4) {
		const char *zone = tm_name_below(q->qname, "good.test") ? "good.test" : "dead.test";
		char ns[64];

		snprintf(ns, sizeof(ns), "ns.%s", zone);
		px_test_msg_target(&r, 1, zone, PX_DNS_TYPE_NS, 3600, ns);
		px_test_msg_addr(&r, 2, ns, zone[0] == 'g' ? "198.18.3.1" : "198.18.5.1");
	} else {
		ck_assert_uint_eq(q->dst, GOOD_IP4);
		px_test_msg_addr(&r, 0, NULL, "198.51.100.7");
	}
	tm_reply(q, &r);
}

/*
 * Plays the root and good.test until the worker has nothing more to send; queries to the dead
 * server are left unanswered (the last one in *dead, if given). Client answers are collected in
 * out (up to max); returns how many.
 */
static unsigned
serve(struct ans *out, unsigned max, struct tm_upq *dead)
{
	unsigned n = 0;
	struct tm_upq q;
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

	return px_share_count(dp_miss_share(tm.w->miss), 4, (const uint8_t *)&h.client_ip4);
}

/* Lets every resolution still waiting on the dead server time out (its RTO is at most
 * PX_UPQ_RTO_MAX_MS, and the deadline 3 s), and checks all that was counted came back. */
static unsigned
drain(struct ans *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned k = 0; k < 40; k++) {
		n += serve(out + n, max - n, NULL);
		tm_step(tm.now + 100);
	}
	n += serve(out + n, max - n, NULL);
	ck_assert_uint_eq(dp_miss_clients_used(tm.w->miss), 0);
	ck_assert_uint_eq(px_resolver_active(dp_miss_resolver(tm.w->miss)), 0);
	ck_assert_uint_eq(dp_miss_share(tm.w->miss)->held, 0);
	ck_assert_uint_eq(dp_miss_share(tm.w->miss)->clients, 0);
	return n;
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
	ck_assert_uint_eq(dp_miss_clients_used(tm.w->miss), PER_CLIENT + 1);
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
	struct tm_upq first, q;
	struct ans a[32];
	char name[64];
	unsigned n;

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
		tm_step(tm.now + 1);
	}
	ck_assert_uint_eq(dp_miss_clients_used(tm.w->miss), SLOTS);
	uint64_t t0 = tm.now - SLOTS;

	/* Too young: refused. */
	ask(9, 4000, "www.good.test");
	n = serve(a, 32, NULL);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_SERVFAIL);
	ck_assert_uint_eq(a[0].dport, 4000);
	ck_assert_uint_eq(STAT(rec_no_client_slot), no_slot + 1);
	ck_assert_uint_eq(STAT(rec_jostled), jostled);
	/* Old enough tm.now, and waiting on a server in backoff. */
	tm_step(t0 + JOSTLE_MS);
	const struct px_upq_table *upq = dp_miss_resolver(tm.w->miss)->upq;
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
		struct px_test_hosts h = {.client_ip4 = DEAD_IP4, .server_ip4 = tm_hosts.server_ip4};
		struct px_test_msg r;

		px_test_msg_start(&r, first.id, PX_DNS_QR | PX_DNS_AA, first.qname, PX_DNS_TYPE_A);
		px_test_msg_addr(&r, 0, NULL, "198.51.100.66");
		memcpy(h.client_mac, tm_gw_mac, 6);
		memcpy(h.server_mac, tm_hosts.server_mac, 6);
		tm_rx(f, px_test_frame_udp4(f, &h, PX_DNS_PORT, first.sport, r.buf, r.len));
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
	ck_assert_uint_eq(px_upq_outstanding(dp_miss_resolver(tm.w->miss)->upq), 0);
}
END_TEST

/* Slots full of resolutions whose server never timed out: nobody is jostled, however old. */
START_TEST(test_share_no_jostle_for_live_server)
{
	uint64_t jostled = STAT(rec_jostled);
	struct tm_upq q;
	struct ans a[32];
	char name[64];

	drain(a, 32);
	/* Long enough for the dead server's backoff to be forgiven (PX_UPQ_BACKOFF_DECAY_MS a
	 * step, PX_UPQ_MAX_BACKOFF steps at most). */
	tm_step(tm.now + (uint64_t)PX_UPQ_BACKOFF_DECAY_MS * (PX_UPQ_MAX_BACKOFF + 1));
	for (unsigned i = 0; i < SLOTS; i++) {
		snprintf(name, sizeof(name), "k%u.dead.test", i);
		ask(2 + i / PER_CLIENT, (uint16_t)(5000 + i), name);
		ck_assert_uint_eq(serve(a, 32, &q), 0);
	}
	tm_step(tm.now + JOSTLE_MS + 10); /* before the server's RTO (PX_UPQ_RTT_UNKNOWN_MS) */
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
	taken = dp_miss_miss(tm.w, dns, &q, &from, false, &why);
	dp_miss_tick(tm.w);
	return taken;
}

START_TEST(test_share_tcp_per_connection)
{
	uint64_t capped = STAT(rec_client_capped);
	struct ans a[32];
	char name[64];

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
	ck_assert_uint_eq(dp_miss_clients_used(tm.w->miss), PER_CLIENT + 2);
	/* The UDP client's SERVFAIL goes out of the port; the TCP ones go to the TCP thread,
	 * which this worker has not got. Every count comes back. */
	ck_assert_uint_eq(drain(a, 32), 1);
	ck_assert_uint_eq(a[0].dport, 3102);
}
END_TEST

/* The worker's resolution settings: SLOTS slots, PER_CLIENT a client, a jostle age of
 * JOSTLE_MS, no QNAME minimisation, RTOs as measured. */
static void
share_miss_conf(struct dp_miss_conf *rc)
{
	rc->slots = SLOTS;
	rc->resolve.qname_min = false;
	rc->per_client = PER_CLIENT;
	rc->jostle_ms = JOSTLE_MS;
	rc->rto_min_ms = 0;
}

/* The rig of every case: priming off, nothing cached, the gateway learned. */
static void
setup_share(void)
{
	tm_build(&(struct tm_conf){.no_cache = true, .miss = share_miss_conf});
	tm_gateway();
}

int
main(void)
{
	Suite *s = suite_create("recurse_share");

	tm_add_case(s, test_share_cap_per_client, setup_share);
	tm_add_case(s, test_share_jostle, setup_share);
	tm_add_case(s, test_share_no_jostle_for_live_server, setup_share);
	tm_add_case(s, test_share_tcp_per_connection, setup_share);
	return tm_run("test_miss_share", s);
}
