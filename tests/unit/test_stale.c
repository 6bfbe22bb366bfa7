/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Serve-stale (RFC 8767) and prefetch through the worker's real code (dp_answer.c, dp_miss*.c):
 * a worker state on a net_ring port that the test steps itself on the main lcore with a clock of
 * its own (RX burst, then the resolution tick, as dp_loop_run does), with a cache it writes
 * answers into, so expiry, the client response timer and the prefetch window are exact to the
 * millisecond and take no wall-clock time. The test plays the clients, the gateway and the
 * servers:
 *   root 198.18.1.1       refers good.test to 198.18.3.1 and dead.test to 198.18.5.1
 *   good.test 198.18.3.1  answers A `answer_addr` with TTL `answer_ttl`, or SERVFAIL, or holds
 *                         the query unanswered (`mode`)
 *   dead.test 198.18.5.1  never answers
 * QNAME minimisation is off. Every RTO is at least 3 s (rto_min_ms), so a held query outlives
 * the 1.8 s client response timer and the resolution can still be answered after it.
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
#include <pollux/upstream.h>
#include <pollux/wire.h>

#include "dp_cache.h"
#include "dp_clock.h"
#include "dp_lcore.h"
#include "dp_miss.h"
#include "dp_settings.h"
#include "dp_tx.h"
#include "dp_worker.h"
#include "testlib.h"
#include "testlib_pkt.h"

#define GW_IP4 RTE_BE32(0xc6120001)   /* 198.18.0.1 */
#define ROOT_IP4 RTE_BE32(0xc6120101) /* 198.18.1.1 */
#define GOOD_IP4 RTE_BE32(0xc6120301) /* 198.18.3.1 */
#define DEAD_IP4 RTE_BE32(0xc6120501) /* 198.18.5.1 */
#define SLOTS 16
#define STALE_TIMEOUT_MS 1800
#define STALE_TTL 30
#define STALE_MAX_S 86400

static const struct px_test_hosts base = {
	.client_mac = {0x02, 0, 0, 0, 0, 0x01},
	.server_mac = {0x02, 0, 0, 0, 0, 0x02},
	.client_ip4 = RTE_BE32(0xc612000a), /* 198.18.0.10 */
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
static uint64_t settings_gen;

/* What good.test's server does with a query. */
enum mode { ANSWER, FAIL, HOLD };
static enum mode mode = ANSWER;
static uint32_t answer_ttl = 10;
static const char *answer_addr = "198.51.100.7";
static unsigned upstream_seen; /* upstream queries the worker sent, to any server */

struct upq {
	uint32_t dst;
	uint16_t sport, id;
	char qname[PX_DNS_NAME_BUF];
};

/* A client answer the worker sent, read whole. */
struct ans {
	uint16_t dport;
	uint8_t rcode;
	uint16_t ancount;
	uint32_t ttl;     /* the first answer record's */
	uint8_t addr[4];  /* the first A record's */
	bool opt;
	int ede;          /* the EDE INFO-CODE, -1 for none */
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

static uint16_t
skip_name(const uint8_t *d, uint16_t len, uint16_t pos)
{
	for (;;) {
		ck_assert_uint_lt(pos, len);
		if (d[pos] == 0)
			return (uint16_t)(pos + 1);
		if ((d[pos] & 0xc0) == 0xc0)
			return (uint16_t)(pos + 2);
		pos = (uint16_t)(pos + 1 + d[pos]);
	}
}

static void
parse_answer(const uint8_t *d, uint16_t len, struct ans *a)
{
	uint16_t an = px_get16(d + 6), total = (uint16_t)(an + px_get16(d + 8) + px_get16(d + 10));
	uint16_t pos = skip_name(d, len, PX_DNS_HDR_LEN) + 4;

	memset(a, 0, sizeof(*a));
	a->rcode = d[3] & 0x0f;
	a->ancount = an;
	a->ede = -1;
	for (uint16_t i = 0; i < total; i++) {
		pos = skip_name(d, len, pos);
		ck_assert_uint_le(pos + 10, len);
		uint16_t type = px_get16(d + pos), rdlen = px_get16(d + pos + 8);
		uint16_t rd = (uint16_t)(pos + 10);

		ck_assert_uint_le(rd + rdlen, len);
		if (i == 0 && an > 0)
			a->ttl = px_get32(d + pos + 4);
		if (i < an && type == PX_DNS_TYPE_A && rdlen == 4 && a->addr[0] == 0)
			memcpy(a->addr, d + rd, 4);
		if (type == PX_DNS_TYPE_OPT) {
			a->opt = true;
			for (uint16_t o = rd; o + 4 <= rd + rdlen;) {
				uint16_t code = px_get16(d + o), olen = px_get16(d + o + 2);

				if (code == PX_DNS_OPT_EDE && olen >= 2)
					a->ede = px_get16(d + o + 4);
				o = (uint16_t)(o + 4 + olen);
			}
		}
		pos = (uint16_t)(rd + rdlen);
	}
}

/* The next frame the worker sent, skipping ARP requests: false if none. Fills q for an upstream
 * query, a for a client answer (*is_answer says which). */
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
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(e + 1);
		const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
		const uint8_t *d = (const uint8_t *)(udp + 1);
		uint16_t dlen = (uint16_t)(rte_be_to_cpu_16(udp->dgram_len) - sizeof(*udp));
		uint16_t pos = PX_DNS_HDR_LEN;

		ck_assert_uint_ge(dlen, PX_DNS_HDR_LEN);
		*is_answer = udp->src_port == RTE_BE16(PX_DNS_PORT);
		if (*is_answer) {
			ck_assert_uint_eq(ip->dst_addr, base.client_ip4);
			parse_answer(d, dlen, a);
			a->dport = rte_be_to_cpu_16(udp->dst_port);
		} else {
			upstream_seen++;
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

static void
ask(uint16_t port, const char *name, bool edns)
{
	uint8_t dns[512], f[600] __rte_aligned(8);
	const struct px_test_query q = {.id = port, .flags = PX_DNS_RD, .name = name,
					.qtype = PX_DNS_TYPE_A, .qclass = PX_DNS_CLASS_IN,
					.edns = edns, .edns_bufsize = 1232};
	uint16_t dlen = px_test_query(dns, &q);

	rx(f, px_test_frame_udp4(f, &base, port, PX_DNS_PORT, dns, dlen));
}

static bool
below(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	return n > z && name[n - z - 1] == '.' && strcasecmp(name + n - z, zone) == 0;
}

/* A server's reply to q, by the script; rcode_fail: good.test's SERVFAIL. */
static void
reply(const struct upq *q, bool fail)
{
	uint8_t f[1600] __rte_aligned(8);
	struct px_test_hosts h = {.client_ip4 = q->dst, .server_ip4 = base.server_ip4};
	struct px_test_msg r;

	px_test_msg_start(&r, q->id,
			  PX_DNS_QR | (q->dst == ROOT_IP4 ? 0 : PX_DNS_AA) |
				  (fail ? PX_DNS_RCODE_SERVFAIL : 0),
			  q->qname, PX_DNS_TYPE_A);
	if (q->dst == ROOT_IP4) {
		const char *zone = below(q->qname, "good.test") ? "good.test" : "dead.test";
		char ns[64];

		snprintf(ns, sizeof(ns), "ns.%s", zone);
		px_test_msg_target(&r, 1, zone, PX_DNS_TYPE_NS, 3600, ns);
		px_test_msg_addr(&r, 2, ns, zone[0] == 'g' ? "198.18.3.1" : "198.18.5.1");
	} else if (!fail) {
		uint32_t a = inet_addr(answer_addr);

		ck_assert_uint_eq(q->dst, GOOD_IP4);
		px_test_msg_rr(&r, 0, NULL, PX_DNS_TYPE_A, answer_ttl, &a, 4);
	}
	memcpy(h.client_mac, gw_mac, 6);
	memcpy(h.server_mac, base.server_mac, 6);
	rx(f, px_test_frame_udp4(f, &h, PX_DNS_PORT, q->sport, r.buf, r.len));
}

/* Plays the servers until the worker has nothing more to send; a query good.test's server
 * holds goes to *held. Client answers go to out (up to max); returns how many. */
static unsigned
serve(struct ans *out, unsigned max, struct upq *held)
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
			continue;
		} else if (q.dst == GOOD_IP4 && mode == HOLD) {
			ck_assert_ptr_nonnull(held);
			*held = q;
		} else {
			reply(&q, q.dst == GOOD_IP4 && mode == FAIL);
		}
	}
	return n;
}

static const struct dp_cache_entry *
cached(const char *name)
{
	uint8_t wire[PX_DNS_NAME_BUF];
	unsigned len = px_test_name(wire, name);

	return dp_cache_lookup(ctx.cache, wire, (uint8_t)len, PX_DNS_TYPE_A, PX_DNS_CLASS_IN,
			       DP_CACHE_RRSET);
}

/* Resolves name fresh (good.test answering) and checks the answer. */
static void
resolve_fresh(const char *name, uint16_t port)
{
	struct ans a[4];

	mode = ANSWER;
	ask(port, name, true);
	ck_assert_uint_eq(serve(a, 4, NULL), 1);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(a[0].ttl, answer_ttl);
	ck_assert_int_eq(a[0].ede, -1);
	ck_assert_ptr_nonnull(cached(name));
}

/* Lets every resolution still waiting time out, and checks nothing is left held. */
static unsigned
drain(struct ans *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned k = 0; k < 80; k++) {
		n += serve(out + n, max - n, NULL);
		step(now + 100);
	}
	n += serve(out + n, max - n, NULL);
	ck_assert_uint_eq(dp_miss_clients_used(w->miss), 0);
	ck_assert_uint_eq(px_resolver_active(dp_miss_resolver(w->miss)), 0);
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
	ck_assert_uint_eq(serve(NULL, 0, NULL), 0);
	known = true;
}

/* A reload (dp_settings.h) of the serve-stale and prefetch settings, taken in at the next
 * tick; the object is freed at once, as after the grace period. */
static void
publish(uint32_t max_s, bool prefetch)
{
	struct dp_settings *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	s->generation = ++settings_gen;
	px_addr_policy_init(&s->policy);
	s->max_ttl = 86400;
	s->max_neg_ttl = 3600;
	s->prime_min_servers = 1;
	s->probe_qname_len = 1;
	s->probe_qtype = PX_DNS_TYPE_NS;
	s->stale.max_s = max_s;
	s->stale.timeout_ms = STALE_TIMEOUT_MS;
	s->stale.ttl = STALE_TTL;
	s->stale.prefetch = prefetch;
	free(__atomic_exchange_n(&ctx.settings, s, __ATOMIC_ACQ_REL));
	step(now);
}

/*
 * An expired answer whose refresh fails: every client of the resolution gets it, TTL 30, with
 * EDE 3 when it sent EDNS and without an OPT when it did not; the expired entry stays as it was
 * (nothing stale is cached).
 */
START_TEST(test_stale_served_after_failure)
{
	uint64_t served = STAT(stale_served), servfail = STAT(rec_servfail);
	const struct dp_cache_entry *e;
	uint64_t expire;
	struct ans a[4];

	gateway_ready();
	answer_ttl = 10;
	resolve_fresh("fail.good.test", 100);
	expire = cached("fail.good.test")->expire_ms;
	step(now + 11000);
	mode = FAIL;
	ask(101, "fail.good.test", true);
	ask(102, "fail.good.test", false);
	ck_assert_uint_eq(serve(a, 4, NULL), 2);
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_uint_eq(a[i].rcode, PX_DNS_RCODE_NOERROR);
		ck_assert_uint_eq(a[i].ancount, 1);
		ck_assert_uint_eq(a[i].ttl, STALE_TTL);
		ck_assert_uint_eq(a[i].addr[0], 198);
		if (a[i].dport == 101) {
			ck_assert_int_eq(a[i].ede, PX_DNS_EDE_STALE_ANSWER);
		} else {
			ck_assert_uint_eq(a[i].dport, 102);
			ck_assert(!a[i].opt);
		}
	}
	ck_assert_uint_eq(STAT(stale_served), served + 2);
	ck_assert_uint_eq(STAT(rec_servfail), servfail + 1);
	e = cached("fail.good.test");
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->expire_ms, expire);
	ck_assert_uint_eq(dp_miss_clients_used(w->miss), 0);
}
END_TEST

/*
 * The refresh outruns the client response timer: at 1.8 s, not a millisecond before, the client
 * gets the stale answer, while the resolution goes on; when the server answers, the entry is
 * refreshed and the next query is a fresh hit.
 */
START_TEST(test_stale_on_client_timeout_then_refreshed)
{
	uint64_t served = STAT(stale_served), timeouts = STAT(stale_on_timeout);
	uint64_t hits, t0;
	struct upq held = {0};
	struct ans a[4];

	gateway_ready();
	answer_ttl = 10;
	resolve_fresh("slow.good.test", 200);
	step(now + 20000);
	mode = HOLD;
	ask(201, "slow.good.test", true);
	t0 = now;
	ck_assert_uint_eq(serve(a, 4, &held), 0);
	ck_assert_uint_eq(held.dst, GOOD_IP4);
	step(t0 + STALE_TIMEOUT_MS - 1);
	ck_assert_uint_eq(serve(a, 4, &held), 0);
	step(t0 + STALE_TIMEOUT_MS);
	ck_assert_uint_eq(serve(a, 4, &held), 1);
	ck_assert_uint_eq(a[0].dport, 201);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(a[0].ttl, STALE_TTL);
	ck_assert_int_eq(a[0].ede, PX_DNS_EDE_STALE_ANSWER);
	ck_assert_uint_eq(STAT(stale_served), served + 1);
	ck_assert_uint_eq(STAT(stale_on_timeout), timeouts + 1);
	/* The resolution goes on without a client. */
	ck_assert_uint_eq(dp_miss_clients_used(w->miss), 0);
	ck_assert_uint_eq(px_resolver_active(dp_miss_resolver(w->miss)), 1);
	/* The server answers late, with a new address: the entry is refreshed, nobody is
	 * answered twice. */
	step(t0 + STALE_TIMEOUT_MS + 100);
	answer_ttl = 600;
	answer_addr = "198.51.100.8";
	reply(&held, false);
	ck_assert_uint_eq(serve(a, 4, NULL), 0);
	ck_assert_uint_eq(px_resolver_active(dp_miss_resolver(w->miss)), 0);
	ck_assert_int_ge(dp_cache_entry_ttl(cached("slow.good.test"), now), 599);
	hits = STAT(hits);
	ask(202, "slow.good.test", true);
	ck_assert_uint_eq(serve(a, 4, NULL), 1);
	ck_assert_uint_eq(STAT(hits), hits + 1);
	ck_assert_uint_eq(a[0].ttl, 600);
	ck_assert_uint_eq(a[0].addr[3], 8);
	ck_assert_int_eq(a[0].ede, -1);
	answer_addr = "198.51.100.7";
	answer_ttl = 10;
	mode = ANSWER;
}
END_TEST

/*
 * Fresh data wins: another writer refreshes the entry while a stale client waits, so the timer
 * serves the fresh answer (no EDE, its own TTL); the failure that follows serves nobody and
 * caches nothing stale over it.
 */
START_TEST(test_stale_never_overrides_fresh)
{
	uint64_t served = STAT(stale_served);
	uint8_t rr[64], wire[PX_DNS_NAME_BUF];
	struct dp_cache_key key = {.qtype = PX_DNS_TYPE_A, .qclass = PX_DNS_CLASS_IN,
				   .kind = DP_CACHE_RRSET};
	struct upq held = {0};
	struct ans a[4];
	uint16_t ttl_off = 0;
	uint32_t addr = inet_addr("198.51.100.99");
	uint64_t t0;

	gateway_ready();
	answer_ttl = 10;
	resolve_fresh("race.good.test", 300);
	step(now + 20000);
	mode = HOLD;
	ask(301, "race.good.test", true);
	t0 = now;
	ck_assert_uint_eq(serve(a, 4, &held), 0);
	/* Another worker's fresh answer lands (an A record, TTL 100, owner a pointer). */
	key.name_len = (uint8_t)px_test_name(wire, "race.good.test");
	memcpy(key.name, wire, key.name_len);
	px_put16(rr, PX_DNS_QNAME_PTR);
	px_put16(rr + 2, PX_DNS_TYPE_A);
	px_put16(rr + 4, PX_DNS_CLASS_IN);
	px_put32(rr + 6, 0);
	px_put16(rr + 10, 4);
	memcpy(rr + 12, &addr, 4);
	ttl_off = 6;
	const struct dp_cache_answer fresh = {.ttl = 100, .an_count = 1, .rr = rr, .rr_len = 16,
					      .ttl_off = &ttl_off, .ttl_off_count = 1};

	ck_assert_int_eq(dp_cache_put(w->cache_w, &key, &fresh, now), 0);
	step(t0 + STALE_TIMEOUT_MS);
	ck_assert_uint_eq(serve(a, 4, &held), 1);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(a[0].ttl, 98);
	ck_assert_uint_eq(a[0].addr[3], 99);
	ck_assert_int_eq(a[0].ede, -1);
	ck_assert_uint_eq(STAT(stale_served), served);
	/* The held query fails: nobody is left to answer, and the fresh entry stays. */
	reply(&held, true);
	ck_assert_uint_eq(serve(a, 4, NULL), 0);
	ck_assert_uint_eq(cached("race.good.test")->ttl, 100);
	ck_assert_uint_eq(STAT(stale_served), served);
	mode = ANSWER;
}
END_TEST

/* Past serve-stale-max the expired answer is not served: the failure is a SERVFAIL. With
 * serve-stale off (a reload to 0), not even a just-expired one is. */
START_TEST(test_stale_not_served_past_max)
{
	uint64_t served = STAT(stale_served);
	struct ans a[4];

	gateway_ready();
	answer_ttl = 10;
	resolve_fresh("old.good.test", 400);
	step(now + 10000 + (uint64_t)STALE_MAX_S * 1000);
	mode = FAIL;
	ask(402, "old.good.test", true);
	ck_assert_uint_eq(serve(a, 4, NULL), 1);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_SERVFAIL);
	ck_assert_int_ne(a[0].ede, PX_DNS_EDE_STALE_ANSWER);
	ck_assert_uint_eq(STAT(stale_served), served);

	mode = ANSWER;
	resolve_fresh("off.good.test", 403);
	step(now + 11000);
	publish(0, true);
	mode = FAIL;
	ask(404, "off.good.test", true);
	ck_assert_uint_eq(serve(a, 4, NULL), 1);
	ck_assert_uint_eq(a[0].rcode, PX_DNS_RCODE_SERVFAIL);
	ck_assert_uint_eq(STAT(stale_served), served);
	publish(STALE_MAX_S, true);
	mode = ANSWER;
}
END_TEST

/*
 * Prefetch: a hit before the last tenth of the TTL sends nothing; the first hit inside it starts
 * one refresh, a second hit while that is in flight starts none; the refresh's answer replaces
 * the entry, so a query after the old expiry is still a hit.
 */
START_TEST(test_prefetch_once_in_last_tenth)
{
	uint64_t pf = STAT(prefetch), hits;
	struct upq held = {0};
	struct ans a[4];
	unsigned up;
	uint64_t t0;

	gateway_ready();
	answer_ttl = 100;
	resolve_fresh("pf.good.test", 500);
	t0 = now;
	up = upstream_seen;
	step(t0 + 90000); /* 10 s left: not yet inside the last tenth */
	ask(501, "pf.good.test", true);
	ck_assert_uint_eq(serve(a, 4, NULL), 1);
	ck_assert_uint_eq(a[0].ttl, 10);
	ck_assert_uint_eq(STAT(prefetch), pf);
	ck_assert_uint_eq(upstream_seen, up);

	step(t0 + 90001);
	mode = HOLD;
	ask(502, "pf.good.test", true);
	ck_assert_uint_eq(serve(a, 4, &held), 1);
	ck_assert_uint_eq(a[0].dport, 502);
	ck_assert_uint_eq(STAT(prefetch), pf + 1);
	ck_assert_uint_eq(upstream_seen, up + 1);
	ck_assert_uint_eq(held.dst, GOOD_IP4);
	ask(503, "pf.good.test", true);
	ck_assert_uint_eq(serve(a, 4, &held), 1);
	ck_assert_uint_eq(STAT(prefetch), pf + 1);
	ck_assert_uint_eq(upstream_seen, up + 1);
	/* The refresh's answer. */
	step(t0 + 90500);
	reply(&held, false);
	ck_assert_uint_eq(serve(a, 4, NULL), 0);
	mode = ANSWER;
	step(t0 + 100500); /* past the first answer's expiry */
	hits = STAT(hits);
	ask(504, "pf.good.test", true);
	ck_assert_uint_eq(serve(a, 4, NULL), 1);
	ck_assert_uint_eq(STAT(hits), hits + 1);
	ck_assert_uint_eq(a[0].ttl, 90);
	ck_assert_uint_eq(upstream_seen, up + 1);
	answer_ttl = 10;
}
END_TEST

/* prefetch: no (a reload): hits inside the last tenth start nothing. */
START_TEST(test_prefetch_off)
{
	uint64_t pf = STAT(prefetch);
	struct ans a[4];
	unsigned up;
	uint64_t t0;

	gateway_ready();
	publish(STALE_MAX_S, false);
	answer_ttl = 100;
	resolve_fresh("nopf.good.test", 600);
	t0 = now;
	up = upstream_seen;
	step(t0 + 95000);
	ask(601, "nopf.good.test", true);
	ck_assert_uint_eq(serve(a, 4, NULL), 1);
	ck_assert_uint_eq(STAT(prefetch), pf);
	ck_assert_uint_eq(upstream_seen, up);
	publish(STALE_MAX_S, true);
	answer_ttl = 10;
}
END_TEST

/* With fewer than a quarter of the resolutions free, a due prefetch is skipped (counted); once
 * they are free again, the next due hit refreshes. */
START_TEST(test_prefetch_needs_free_resolutions)
{
	uint64_t pf = STAT(prefetch), skipped = STAT(prefetch_skipped);
	struct ans a[SLOTS + 4];
	char name[32];
	unsigned up;
	uint64_t t0;

	gateway_ready();
	answer_ttl = 100;
	resolve_fresh("busy.good.test", 700);
	t0 = now;
	step(t0 + 91000);
	for (unsigned i = 0; i < SLOTS - 3; i++) {
		snprintf(name, sizeof(name), "b%u.dead.test", i);
		ask((uint16_t)(710 + i), name, true);
	}
	ck_assert_uint_eq(serve(a, SLOTS + 4, NULL), 0);
	up = upstream_seen;
	ask(701, "busy.good.test", true);
	ck_assert_uint_eq(serve(a, SLOTS + 4, NULL), 1);
	ck_assert_uint_eq(STAT(prefetch), pf);
	ck_assert_uint_eq(STAT(prefetch_skipped), skipped + 1);
	ck_assert_uint_eq(upstream_seen, up);
	ck_assert_uint_eq(drain(a, SLOTS + 4), SLOTS - 3);
	ck_assert_uint_lt(now, t0 + 100000);
	ask(702, "busy.good.test", true);
	ck_assert_uint_eq(serve(a, SLOTS + 4, NULL), 1);
	ck_assert_uint_eq(STAT(prefetch), pf + 1);
	answer_ttl = 10;
}
END_TEST

static Suite *
stale_suite(void)
{
	Suite *s = suite_create("stale");
	TCase *tc = tcase_create("serve_stale");

	tcase_add_test(tc, test_stale_served_after_failure);
	tcase_add_test(tc, test_stale_on_client_timeout_then_refreshed);
	tcase_add_test(tc, test_stale_never_overrides_fresh);
	tcase_add_test(tc, test_stale_not_served_past_max);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("prefetch");
	tcase_add_test(tc, test_prefetch_once_in_last_tenth);
	tcase_add_test(tc, test_prefetch_off);
	tcase_add_test(tc, test_prefetch_needs_free_resolutions);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

static void
setup(void)
{
	const struct dp_worker_ctx_conf cc = {
		.name = "test_st", .cache_size = 1024, .resolvers = 1,
	};
	struct dp_miss_conf rconf;
	int port;

	px_test_eal_init("test_stale", "0", NULL);
	dp_clock_init();
	pool = rte_pktmbuf_pool_create("test_st_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	port = px_test_ring_port("net_ring_st", pool, &rx_ring, &tx_ring);
	ctx.port.port_id = (uint16_t)port;
	memcpy(ctx.port.mac.addr_bytes, base.server_mac, 6);
	ctx.port.has_ip4 = true;
	ctx.port.ip4 = base.server_ip4;
	ctx.port.ip4_prefix = 24;
	dp_port_conf_derive(&ctx.port);
	if (dp_worker_ctx_build(&ctx, &cc) != 0)
		rte_exit(2, "test_stale: cannot build the workers' shared state\n");
	hints = rte_zmalloc(NULL, px_hints_size(1), RTE_CACHE_LINE_SIZE);
	if (hints == NULL)
		rte_exit(2, "test_stale: out of memory\n");
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
	rconf.rto_min_ms = PX_UPQ_RTO_MAX_MS;
	rconf.stale.max_s = STALE_MAX_S;
	rconf.stale.timeout_ms = STALE_TIMEOUT_MS;
	rconf.stale.ttl = STALE_TTL;
	rconf.stale.prefetch = true;
	w = dp_worker_build(&(struct dp_worker_conf){
		.ctx = &ctx, .lcore_id = rte_get_main_lcore(), .pool = pool, .miss = &rconf,
		.now_ms = dp_clock_ms(),
	});
	if (w == NULL)
		rte_exit(2, "test_stale: dp_worker_build: %s\n", strerror(errno));
}

int
main(void)
{
	SRunner *sr;
	int failed;

	setup();
	sr = srunner_create(stale_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(__atomic_exchange_n(&ctx.settings, NULL, __ATOMIC_ACQ_REL));
	dp_worker_free(w);
	dp_worker_ctx_free(&ctx);
	rte_free(hints);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
