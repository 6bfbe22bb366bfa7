/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Next-hop resolution (dataplane/dp_nexthop.h). The shared table: only wanted addresses are
 * learned, probes are rate-limited and claimed once across callers, stale entries ask for a
 * refresh, a full probe window evicts the oldest unpinned entry and never a gateway, and
 * readers racing a writer never see a torn entry (two threads, pthreads: the table needs no
 * EAL). The route choice: on-link server or gateway, for each family; and learning and MAC
 * lookups through a worker's entry points (an lcore and a context on the stack, no EAL: the
 * probes that need an mbuf are tested with the miss path, in test_miss.c).
 */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "dp_nexthop.h"

static struct dp_nexthop_table t;

static const struct px_addr gw = {.family = PX_AF_INET, .a = {198, 18, 0, 1}};
static const struct px_addr srv = {.family = PX_AF_INET, .a = {198, 18, 0, 53}};
static const struct px_addr gw6 = {.family = PX_AF_INET6, .a = {0x20, 0x01, 0, 2, [15] = 1}};
static const struct rte_ether_addr mac_a = {{0x02, 0, 0, 0, 0, 0xaa}};
static const struct rte_ether_addr mac_b = {{0x02, 0, 0, 0, 0, 0xbb}};

static void
reset(void)
{
	dp_nexthop_table_init(&t);
}

START_TEST(test_nexthop_table_only_wanted_learned)
{
	struct rte_ether_addr m;

	reset();
	/* Nobody asked for it: an ARP from the link does not enter the table. */
	ck_assert(!dp_nexthop_table_learn(&t, &srv, &mac_a, 1000));
	ck_assert_int_eq(dp_nexthop_table_lookup(&t, &srv, &m, NULL), DP_NEXTHOP_ABSENT);

	ck_assert(dp_nexthop_table_want(&t, &srv, false, 1000)); /* first want: probe now */
	ck_assert_int_eq(dp_nexthop_table_lookup(&t, &srv, &m, NULL), DP_NEXTHOP_PENDING);
	ck_assert(dp_nexthop_table_learn(&t, &srv, &mac_a, 1010));
	ck_assert_int_eq(dp_nexthop_table_lookup(&t, &srv, &m, NULL), DP_NEXTHOP_RESOLVED);
	ck_assert(rte_is_same_ether_addr(&m, &mac_a));
	ck_assert_uint_eq(t.stats.learned, 1);

	/* A multicast or zero MAC is never learned. */
	struct rte_ether_addr mc = {{0x01, 0, 0x5e, 0, 0, 1}}, zero = {{0}};

	ck_assert(!dp_nexthop_table_learn(&t, &srv, &mc, 1020));
	ck_assert(!dp_nexthop_table_learn(&t, &srv, &zero, 1020));
	dp_nexthop_table_lookup(&t, &srv, &m, NULL);
	ck_assert(rte_is_same_ether_addr(&m, &mac_a));

	/* The MAC moves when the neighbour says so. */
	ck_assert(dp_nexthop_table_learn(&t, &srv, &mac_b, 1030));
	dp_nexthop_table_lookup(&t, &srv, &m, NULL);
	ck_assert(rte_is_same_ether_addr(&m, &mac_b));
	ck_assert_uint_eq(t.stats.learned, 2);
}
END_TEST

START_TEST(test_nexthop_table_families_distinct)
{
	struct rte_ether_addr m;
	const struct px_addr v6_like_v4 = {.family = PX_AF_INET6, .a = {198, 18, 0, 1}};

	reset();
	dp_nexthop_table_want(&t, &gw, true, 1);
	dp_nexthop_table_want(&t, &gw6, true, 1);
	ck_assert(dp_nexthop_table_learn(&t, &gw6, &mac_b, 2));
	ck_assert_int_eq(dp_nexthop_table_lookup(&t, &gw, &m, NULL), DP_NEXTHOP_PENDING);
	ck_assert_int_eq(dp_nexthop_table_lookup(&t, &gw6, &m, NULL), DP_NEXTHOP_RESOLVED);
	/* An IPv6 address whose first bytes are an IPv4 address in the table is another host. */
	ck_assert_int_eq(dp_nexthop_table_lookup(&t, &v6_like_v4, &m, NULL), DP_NEXTHOP_ABSENT);
	ck_assert(!dp_nexthop_table_learn(&t, &v6_like_v4, &mac_a, 3));
	/* A port is not part of a neighbour: the address with one finds the same entry. */
	struct px_addr gw6_port = gw6;

	gw6_port.port = 53;
	ck_assert_int_eq(dp_nexthop_table_lookup(&t, &gw6_port, &m, NULL), DP_NEXTHOP_RESOLVED);
	ck_assert(rte_is_same_ether_addr(&m, &mac_b));
}
END_TEST

START_TEST(test_nexthop_table_probe_rate_and_refresh)
{
	struct rte_ether_addr m;
	uint64_t learned;

	reset();
	ck_assert(dp_nexthop_table_want(&t, &gw, true, 1000));
	/* Another worker wanting it within the interval does not probe again. */
	ck_assert(!dp_nexthop_table_want(&t, &gw, true, 1000 + DP_NEXTHOP_PROBE_MS - 1));
	ck_assert(dp_nexthop_table_want(&t, &gw, true, 1000 + DP_NEXTHOP_PROBE_MS));
	ck_assert(dp_nexthop_table_learn(&t, &gw, &mac_a, 2000));
	/* Fresh: no probe however often it is wanted. */
	ck_assert(!dp_nexthop_table_want(&t, &gw, true, 2000 + DP_NEXTHOP_PROBE_MS * 4));
	ck_assert(!dp_nexthop_table_want(&t, &gw, true, 2000 + DP_NEXTHOP_REFRESH_MS - 1));
	/* Stale: still usable, and one probe to refresh it. */
	ck_assert(dp_nexthop_table_want(&t, &gw, true, 2000 + DP_NEXTHOP_REFRESH_MS));
	ck_assert(!dp_nexthop_table_want(&t, &gw, true, 2000 + DP_NEXTHOP_REFRESH_MS + 1));
	ck_assert_int_eq(dp_nexthop_table_lookup(&t, &gw, &m, &learned), DP_NEXTHOP_RESOLVED);
	ck_assert_uint_eq(learned, 2000);
	ck_assert(dp_nexthop_table_learn(&t, &gw, &mac_a, 2000 + DP_NEXTHOP_REFRESH_MS + 5));
	ck_assert_int_eq(dp_nexthop_table_lookup(&t, &gw, &m, &learned), DP_NEXTHOP_RESOLVED);
	ck_assert_uint_eq(learned, 2000 + DP_NEXTHOP_REFRESH_MS + 5);
	ck_assert_uint_eq(t.stats.refreshed, 1);
}
END_TEST

/* Many on-link servers: the table keeps working, entries are evicted oldest first, and the
 * pinned gateway is never one of them. */
START_TEST(test_nexthop_table_eviction_spares_gateway)
{
	struct rte_ether_addr m;
	struct px_addr a = {.family = PX_AF_INET, .a = {198, 18, 0, 0}};
	unsigned resolved = 0;

	reset();
	dp_nexthop_table_want(&t, &gw, true, 1);
	ck_assert(dp_nexthop_table_learn(&t, &gw, &mac_a, 1));
	for (unsigned i = 0; i < 4 * DP_NEXTHOP_SLOTS; i++) {
		a.a[2] = (uint8_t)(i >> 8);
		a.a[3] = (uint8_t)i;
		if (px_addr_eq(&a, &gw))
			continue;
		dp_nexthop_table_want(&t, &a, false, 10 + i);
		dp_nexthop_table_learn(&t, &a, &mac_b, 10 + i);
	}
	ck_assert_int_eq(dp_nexthop_table_lookup(&t, &gw, &m, NULL), DP_NEXTHOP_RESOLVED);
	ck_assert(rte_is_same_ether_addr(&m, &mac_a));
	ck_assert_uint_gt(t.stats.evicted, 0);
	/* The most recent ones are there. */
	for (unsigned i = 4 * DP_NEXTHOP_SLOTS - 16; i < 4 * DP_NEXTHOP_SLOTS; i++) {
		a.a[2] = (uint8_t)(i >> 8);
		a.a[3] = (uint8_t)i;
		resolved += dp_nexthop_table_lookup(&t, &a, &m, NULL) == DP_NEXTHOP_RESOLVED;
	}
	ck_assert_uint_ge(resolved, 12);
}
END_TEST

START_TEST(test_nexthop_on_link)
{
	const uint8_t net[4] = {198, 18, 0, 2};
	const uint8_t net6[16] = {0x20, 0x01, 0, 2, [15] = 2};
	const struct px_addr in = {.family = PX_AF_INET, .a = {198, 18, 0, 200}};
	const struct px_addr out = {.family = PX_AF_INET, .a = {198, 18, 1, 1}};
	const struct px_addr self = {.family = PX_AF_INET, .a = {198, 18, 0, 2}};
	const struct px_addr in6 = {.family = PX_AF_INET6, .a = {0x20, 0x01, 0, 2, [15] = 0x99}};
	const struct px_addr out6 = {.family = PX_AF_INET6, .a = {0x20, 0x01, 0, 3}};

	ck_assert(dp_nexthop_on_link(&in, net, 24));
	ck_assert(!dp_nexthop_on_link(&out, net, 24));
	ck_assert(dp_nexthop_on_link(&out, net, 23)); /* 198.18.0.0/23 holds 198.18.1.1 */
	ck_assert(!dp_nexthop_on_link(&in, net, 0)); /* no prefix: nothing is on-link */
	ck_assert(dp_nexthop_on_link(&self, net, 32));
	ck_assert(!dp_nexthop_on_link(&in, net, 33));
	ck_assert(dp_nexthop_on_link(&in6, net6, 64));
	ck_assert(!dp_nexthop_on_link(&out6, net6, 64));
	ck_assert(!dp_nexthop_on_link(&in6, net6, 129));
}
END_TEST

/* A worker's view of the link for the route tests: 198.18.0.10/24 and 2001:2::10/64, with both
 * gateways; the lcore reaches the shared table t through its context. */
static struct dp_ctx ctx;
static struct dp_lcore lc;
static struct dp_nexthop nh;

static void
worker_reset(void)
{
	static const uint8_t ip6[16] = {0x20, 0x01, 0, 2, [15] = 0x10};
	static const uint8_t gw6_ll[16] = {0xfe, 0x80, [15] = 1};
	const uint8_t ip4[4] = {198, 18, 0, 10};

	reset();
	memset(&ctx, 0, sizeof(ctx));
	memset(&lc, 0, sizeof(lc));
	memset(&nh, 0, sizeof(nh));
	ctx.port.has_ip4 = true;
	memcpy(&ctx.port.ip4, ip4, 4);
	ctx.port.ip4_prefix = 24;
	ctx.port.has_ip6 = true;
	memcpy(ctx.port.ip6, ip6, 16);
	ctx.port.ip6_prefix = 64;
	ctx.nbr = &t;
	lc.ctx = &ctx;
	lc.now_ms = 1000;
	nh.gw4 = gw;
	px_addr_set6(&nh.gw6, gw6_ll, 0);
}

START_TEST(test_nexthop_route_v4)
{
	const struct px_addr off = {.family = PX_AF_INET, .a = {198, 19, 1, 1}};
	bool on_link = true;

	worker_reset();
	/* On the port's /24: the server itself. */
	ck_assert_ptr_eq(dp_nexthop_route(&ctx.port, &nh, &srv, &on_link), &srv);
	ck_assert(on_link);
	/* Off it: the gateway. */
	ck_assert_ptr_eq(dp_nexthop_route(&ctx.port, &nh, &off, &on_link), &nh.gw4);
	ck_assert(!on_link);
	/* Without a gateway only the link is reachable. */
	nh.gw4.family = PX_AF_NONE;
	ck_assert_ptr_null(dp_nexthop_route(&ctx.port, &nh, &off, &on_link));
	ck_assert_ptr_eq(dp_nexthop_route(&ctx.port, &nh, &srv, &on_link), &srv);
	/* No prefix configured: nothing is on-link, everything goes through the gateway. */
	nh.gw4.family = PX_AF_INET;
	ctx.port.ip4_prefix = 0;
	ck_assert_ptr_eq(dp_nexthop_route(&ctx.port, &nh, &srv, &on_link), &nh.gw4);
	ck_assert(!on_link);
	/* No IPv4 address on the port: no IPv4 next hop at all, even with a gateway. */
	ctx.port.has_ip4 = false;
	ck_assert_ptr_null(dp_nexthop_route(&ctx.port, &nh, &srv, &on_link));
}
END_TEST

START_TEST(test_nexthop_route_v6)
{
	const struct px_addr in6 = {.family = PX_AF_INET6, .a = {0x20, 0x01, 0, 2, [15] = 0x53}};
	const struct px_addr off6 = {.family = PX_AF_INET6,
				     .a = {0x20, 0x01, 0, 2, 0, 1, [15] = 0x53}};
	bool on_link = true;

	worker_reset();
	ck_assert_ptr_eq(dp_nexthop_route(&ctx.port, &nh, &in6, &on_link), &in6);
	ck_assert(on_link);
	ck_assert_ptr_eq(dp_nexthop_route(&ctx.port, &nh, &off6, &on_link), &nh.gw6);
	ck_assert(!on_link);
	nh.gw6.family = PX_AF_NONE;
	ck_assert_ptr_null(dp_nexthop_route(&ctx.port, &nh, &off6, &on_link));
	ck_assert_ptr_eq(dp_nexthop_route(&ctx.port, &nh, &in6, &on_link), &in6);
	/* The families keep apart: an IPv4 gateway never carries IPv6, and the reverse. */
	nh.gw6.family = PX_AF_INET6;
	nh.gw4.family = PX_AF_NONE;
	ck_assert_ptr_null(dp_nexthop_route(&ctx.port, &nh,
					    &(const struct px_addr){.family = PX_AF_INET,
								    .a = {198, 19, 0, 1}},
					    &on_link));
	ctx.port.has_ip6 = false;
	ck_assert_ptr_null(dp_nexthop_route(&ctx.port, &nh, &off6, &on_link));
}
END_TEST

/* Learning through the worker's entry points fills only what a worker asked for, and counts
 * what it learned. */
START_TEST(test_nexthop_learn_only_wanted)
{
	const struct px_addr stranger6 = {.family = PX_AF_INET6,
					  .a = {0x20, 0x01, 0, 2, [15] = 0x77}};
	uint32_t gw_be, srv_be;
	struct rte_ether_addr m;

	worker_reset();
	gw_be = px_addr_v4(&gw);
	srv_be = px_addr_v4(&srv);
	/* Nobody asked: an ARP or ND message from anybody on the link teaches nothing. */
	ck_assert(!dp_nexthop_learn4(&lc, gw_be, &mac_a));
	ck_assert(!dp_nexthop_learn6(&lc, nh.gw6.a, &mac_a));
	ck_assert_uint_eq(lc.stats.rec_neigh_learned, 0);
	ck_assert_int_eq(dp_nexthop_table_lookup(&t, &gw, &m, NULL), DP_NEXTHOP_ABSENT);
	ck_assert(!dp_nexthop_gateway_known(&lc, &nh));

	dp_nexthop_table_want(&t, &gw, true, lc.now_ms);
	dp_nexthop_table_want(&t, &nh.gw6, true, lc.now_ms);
	ck_assert(dp_nexthop_learn4(&lc, gw_be, &mac_a));
	ck_assert(!dp_nexthop_learn4(&lc, srv_be, &mac_b)); /* still not wanted */
	ck_assert(dp_nexthop_learn6(&lc, nh.gw6.a, &mac_b));
	ck_assert(!dp_nexthop_learn6(&lc, stranger6.a, &mac_b));
	ck_assert_uint_eq(lc.stats.rec_neigh_learned, 2);
	ck_assert(dp_nexthop_gateway_known(&lc, &nh));
	ck_assert_int_eq(dp_nexthop_table_lookup(&t, &srv, &m, NULL), DP_NEXTHOP_ABSENT);
	ck_assert_int_eq(dp_nexthop_table_lookup(&t, &stranger6, &m, NULL), DP_NEXTHOP_ABSENT);
}
END_TEST

/* The MAC of a destination's next hop: the gateway's for an off-link one, the server's own for
 * an on-link one, and none while the next hop is unresolved (its probe already claimed, so
 * no frame is made here). */
START_TEST(test_nexthop_mac_by_route)
{
	const struct px_addr off = {.family = PX_AF_INET, .a = {198, 19, 1, 1}};
	uint32_t gw_be, srv_be;
	struct rte_ether_addr m;

	worker_reset();
	gw_be = px_addr_v4(&gw);
	srv_be = px_addr_v4(&srv);
	dp_nexthop_table_want(&t, &gw, true, lc.now_ms);
	dp_nexthop_table_want(&t, &srv, false, lc.now_ms);
	lc.now_ms++;
	ck_assert(!dp_nexthop_mac(&lc, &nh, &off, &m));
	ck_assert(!dp_nexthop_mac(&lc, &nh, &srv, &m));
	ck_assert(dp_nexthop_learn4(&lc, gw_be, &mac_a));
	ck_assert(dp_nexthop_mac(&lc, &nh, &off, &m));
	ck_assert(rte_is_same_ether_addr(&m, &mac_a));
	ck_assert(!dp_nexthop_mac(&lc, &nh, &srv, &m)); /* on-link: not the gateway's MAC */
	ck_assert(dp_nexthop_learn4(&lc, srv_be, &mac_b));
	ck_assert(dp_nexthop_mac(&lc, &nh, &srv, &m));
	ck_assert(rte_is_same_ether_addr(&m, &mac_b));
	/* No route, no MAC (and no probe). */
	nh.gw4.family = PX_AF_NONE;
	ck_assert(!dp_nexthop_mac(&lc, &nh, &off, &m));
	ck_assert_uint_eq(lc.stats.rec_neigh_probes, 0);
}
END_TEST

/* A writer flips a neighbour between two MACs while a reader looks it up: every lookup sees
 * one of the two, whole, with the time it was learned at, never a mix. The two MACs differ in
 * every byte and each write also moves learned_ms, whose parity says which MAC goes with it,
 * so a copy taken across a write cannot pass for a clean one. */
static bool stop_writer;

#define TORN_MIN_READS 1000000UL
#define TORN_MIN_OVERLAPS 1000UL
/* A bound on reads, not on time. On two CPUs about one read in two thousand returns a MAC
 * while a write goes on (most overlapping reads find the writer inside and give up), so the
 * minimum comes within a few million reads, and a loaded machine that runs both threads at
 * once only now and then still gets there well before the cap. On one CPU only a preemption
 * inside a lookup makes such a read, a few per million: the test then reads to the cap (a few
 * minutes) and fails, saying the threads were not pinned apart. */
#define TORN_MAX_READS 100000000UL

static const struct rte_ether_addr torn_a = {{0x02, 0x11, 0x11, 0x11, 0x11, 0x11}};
static const struct rte_ether_addr torn_b = {{0x06, 0xee, 0xee, 0xee, 0xee, 0xee}};

/* The reader and the writer on two different CPUs when the process may use two: left to the
 * scheduler, both threads can share one CPU on a busy machine, taking turns of milliseconds,
 * and the reads then seldom overlap a write. Returns whether they were pinned. */
static bool
pin_apart(pthread_t reader, pthread_t writer_th)
{
	cpu_set_t all, one;
	int first = -1, second = -1;

	if (pthread_getaffinity_np(reader, sizeof(all), &all) != 0)
		return false;
	for (int c = 0; c < CPU_SETSIZE && second < 0; c++)
		if (CPU_ISSET(c, &all))
			*(first < 0 ? &first : &second) = c;
	if (second < 0)
		return false;
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	if (pthread_setaffinity_np(reader, sizeof(one), &one) != 0)
		return false;
	CPU_ZERO(&one);
	CPU_SET(second, &one);
	return pthread_setaffinity_np(writer_th, sizeof(one), &one) == 0;
}

static void *
writer(void *arg)
{
	unsigned long flips = 1;

	(void)arg;
	while (!__atomic_load_n(&stop_writer, __ATOMIC_RELAXED)) {
		/* now_ms far apart so that learn() always writes (no "nothing new" shortcut);
		 * odd multiples go with torn_b, even ones with torn_a. */
		dp_nexthop_table_learn(&t, &srv, (flips & 1) ? &torn_b : &torn_a,
				       flips * DP_NEXTHOP_REFRESH_MS);
		flips++;
	}
	return (void *)(flips - 1);
}

/* The entry the writer rewrites, to watch its sequence from the outside. */
static const struct dp_nexthop_entry *
entry_of(const struct px_addr *addr)
{
	for (unsigned i = 0; i < DP_NEXTHOP_SLOTS; i++)
		if (px_addr_eq(&t.e[i].addr, addr))
			return &t.e[i];
	return NULL;
}

START_TEST(test_nexthop_table_no_torn_reads)
{
	pthread_t th;
	struct rte_ether_addr m;
	const struct dp_nexthop_entry *e;
	unsigned long seen_a = 0, seen_b = 0, overlaps = 0, busy = 0, i;
	uint64_t learned;
	void *flips;
	bool pinned;

	reset();
	dp_nexthop_table_want(&t, &srv, false, 1);
	ck_assert(dp_nexthop_table_learn(&t, &srv, &torn_a, 0));
	e = entry_of(&srv);
	ck_assert_ptr_nonnull(e);
	__atomic_store_n(&stop_writer, false, __ATOMIC_RELAXED);
	ck_assert_int_eq(pthread_create(&th, NULL, writer, NULL), 0);
	pinned = pin_apart(pthread_self(), th);
	/* A read overlapped a write when the entry's sequence was odd as it began (a writer
	 * inside) or moved while it ran. Only such a read could have been torn, and only one that
	 * still returned a MAC shows the table keeping it whole (one that gave up is allowed, but
	 * proves nothing), so the test counts those and reads on until there are enough, rather
	 * than trusting a writer that may have been scheduled only after the reads. */
	for (i = 0; i < TORN_MAX_READS && (i < TORN_MIN_READS || overlaps < TORN_MIN_OVERLAPS);
	     i++) {
		uint32_t s0 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		enum dp_nexthop_state st = dp_nexthop_table_lookup(&t, &srv, &m, &learned);
		uint32_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

		if (st != DP_NEXTHOP_RESOLVED) {
			/* A writer kept it busy for every retry: allowed, and counted. */
			ck_assert_int_eq(st, DP_NEXTHOP_ABSENT);
			busy++;
			continue;
		}
		bool is_b = rte_is_same_ether_addr(&m, &torn_b);

		if (!is_b && !rte_is_same_ether_addr(&m, &torn_a))
			ck_abort_msg("torn MAC read %02x:%02x:%02x:%02x:%02x:%02x", m.addr_bytes[0],
				     m.addr_bytes[1], m.addr_bytes[2], m.addr_bytes[3],
				     m.addr_bytes[4], m.addr_bytes[5]);
		ck_assert_msg(learned % DP_NEXTHOP_REFRESH_MS == 0 &&
			      ((learned / DP_NEXTHOP_REFRESH_MS) & 1) == is_b,
			      "torn read: the MAC of one write, learned_ms %llu of another",
			      (unsigned long long)learned);
		*(is_b ? &seen_b : &seen_a) += 1;
		overlaps += (s0 & 1) != 0 || s0 != s1;
	}
	__atomic_store_n(&stop_writer, true, __ATOMIC_RELAXED);
	pthread_join(th, &flips);
	ck_assert_uint_gt((unsigned long)flips, 0);
	ck_assert_uint_eq(busy, t.stats.reader_busy);
	ck_assert_msg(overlaps >= TORN_MIN_OVERLAPS && seen_a > 0 && seen_b > 0,
		      "only %lu of %lu reads returned a MAC while a write went on (%lu saw a, %lu b, %lu busy; "
		      "threads %s): the reads did not race the writes", overlaps, i, seen_a,
		      seen_b, busy, pinned ? "on two CPUs" : "not pinned");
}
END_TEST

static Suite *
nexthop_suite(void)
{
	Suite *s = suite_create("nexthop");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_nexthop_table_only_wanted_learned);
	tcase_add_test(tc, test_nexthop_table_families_distinct);
	tcase_add_test(tc, test_nexthop_table_probe_rate_and_refresh);
	tcase_add_test(tc, test_nexthop_table_eviction_spares_gateway);
	tcase_add_test(tc, test_nexthop_table_no_torn_reads);
	tcase_set_timeout(tc, 540);
	suite_add_tcase(s, tc);

	tc = tcase_create("route");
	tcase_add_test(tc, test_nexthop_on_link);
	tcase_add_test(tc, test_nexthop_route_v4);
	tcase_add_test(tc, test_nexthop_route_v6);
	tcase_add_test(tc, test_nexthop_learn_only_wanted);
	tcase_add_test(tc, test_nexthop_mac_by_route);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(nexthop_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
