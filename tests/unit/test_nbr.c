/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shared neighbour table (dataplane/dp_nbr.h): only wanted addresses are learned, probes
 * are rate-limited and claimed once across callers, stale entries ask for a refresh, a full
 * probe window evicts the oldest unpinned entry and never a gateway, and readers racing a
 * writer never see a torn entry (two threads, pthreads: the table needs no EAL).
 */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "dp_nbr.h"

static struct dp_nbr_table t;

static const uint8_t gw[4] = {198, 18, 0, 1};
static const uint8_t srv[4] = {198, 18, 0, 53};
static const uint8_t gw6[16] = {0x20, 0x01, 0, 2, [15] = 1};
static const struct rte_ether_addr mac_a = {{0x02, 0, 0, 0, 0, 0xaa}};
static const struct rte_ether_addr mac_b = {{0x02, 0, 0, 0, 0, 0xbb}};

static void
reset(void)
{
	dp_nbr_init(&t);
}

START_TEST(test_nbr_only_wanted_learned)
{
	struct rte_ether_addr m;

	reset();
	/* Nobody asked for it: an ARP from the link does not enter the table. */
	ck_assert(!dp_nbr_learn(&t, 4, srv, &mac_a, 1000));
	ck_assert_int_eq(dp_nbr_lookup(&t, 4, srv, &m, NULL), DP_NBR_ABSENT);

	ck_assert(dp_nbr_want(&t, 4, srv, false, 1000)); /* first want: probe now */
	ck_assert_int_eq(dp_nbr_lookup(&t, 4, srv, &m, NULL), DP_NBR_PENDING);
	ck_assert(dp_nbr_learn(&t, 4, srv, &mac_a, 1010));
	ck_assert_int_eq(dp_nbr_lookup(&t, 4, srv, &m, NULL), DP_NBR_RESOLVED);
	ck_assert(rte_is_same_ether_addr(&m, &mac_a));
	ck_assert_uint_eq(t.stats.learned, 1);

	/* A multicast or zero MAC is never learned. */
	struct rte_ether_addr mc = {{0x01, 0, 0x5e, 0, 0, 1}}, zero = {{0}};

	ck_assert(!dp_nbr_learn(&t, 4, srv, &mc, 1020));
	ck_assert(!dp_nbr_learn(&t, 4, srv, &zero, 1020));
	dp_nbr_lookup(&t, 4, srv, &m, NULL);
	ck_assert(rte_is_same_ether_addr(&m, &mac_a));

	/* The MAC moves when the neighbour says so. */
	ck_assert(dp_nbr_learn(&t, 4, srv, &mac_b, 1030));
	dp_nbr_lookup(&t, 4, srv, &m, NULL);
	ck_assert(rte_is_same_ether_addr(&m, &mac_b));
	ck_assert_uint_eq(t.stats.learned, 2);
}
END_TEST

START_TEST(test_nbr_families_distinct)
{
	struct rte_ether_addr m;
	uint8_t v6_like_v4[16] = {198, 18, 0, 1};

	reset();
	dp_nbr_want(&t, 4, gw, true, 1);
	dp_nbr_want(&t, 6, gw6, true, 1);
	ck_assert(dp_nbr_learn(&t, 6, gw6, &mac_b, 2));
	ck_assert_int_eq(dp_nbr_lookup(&t, 4, gw, &m, NULL), DP_NBR_PENDING);
	ck_assert_int_eq(dp_nbr_lookup(&t, 6, gw6, &m, NULL), DP_NBR_RESOLVED);
	/* An IPv6 address whose first bytes are an IPv4 address in the table is another host. */
	ck_assert_int_eq(dp_nbr_lookup(&t, 6, v6_like_v4, &m, NULL), DP_NBR_ABSENT);
	ck_assert(!dp_nbr_learn(&t, 6, v6_like_v4, &mac_a, 3));
}
END_TEST

START_TEST(test_nbr_probe_rate_and_refresh)
{
	struct rte_ether_addr m;
	uint64_t learned;

	reset();
	ck_assert(dp_nbr_want(&t, 4, gw, true, 1000));
	/* Another worker wanting it within the interval does not probe again. */
	ck_assert(!dp_nbr_want(&t, 4, gw, true, 1000 + DP_NBR_PROBE_MS - 1));
	ck_assert(dp_nbr_want(&t, 4, gw, true, 1000 + DP_NBR_PROBE_MS));
	ck_assert(dp_nbr_learn(&t, 4, gw, &mac_a, 2000));
	/* Fresh: no probe however often it is wanted. */
	ck_assert(!dp_nbr_want(&t, 4, gw, true, 2000 + DP_NBR_PROBE_MS * 4));
	ck_assert(!dp_nbr_want(&t, 4, gw, true, 2000 + DP_NBR_REFRESH_MS - 1));
	/* Stale: still usable, and one probe to refresh it. */
	ck_assert(dp_nbr_want(&t, 4, gw, true, 2000 + DP_NBR_REFRESH_MS));
	ck_assert(!dp_nbr_want(&t, 4, gw, true, 2000 + DP_NBR_REFRESH_MS + 1));
	ck_assert_int_eq(dp_nbr_lookup(&t, 4, gw, &m, &learned), DP_NBR_RESOLVED);
	ck_assert_uint_eq(learned, 2000);
	ck_assert(dp_nbr_learn(&t, 4, gw, &mac_a, 2000 + DP_NBR_REFRESH_MS + 5));
	ck_assert_int_eq(dp_nbr_lookup(&t, 4, gw, &m, &learned), DP_NBR_RESOLVED);
	ck_assert_uint_eq(learned, 2000 + DP_NBR_REFRESH_MS + 5);
	ck_assert_uint_eq(t.stats.refreshed, 1);
}
END_TEST

/* Many on-link servers: the table keeps working, entries are evicted oldest first, and the
 * pinned gateway is never one of them. */
START_TEST(test_nbr_eviction_spares_gateway)
{
	struct rte_ether_addr m;
	uint8_t a[4] = {198, 18, 0, 0};
	unsigned resolved = 0;

	reset();
	dp_nbr_want(&t, 4, gw, true, 1);
	ck_assert(dp_nbr_learn(&t, 4, gw, &mac_a, 1));
	for (unsigned i = 0; i < 4 * DP_NBR_SLOTS; i++) {
		a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		if (memcmp(a, gw, 4) == 0)
			continue;
		dp_nbr_want(&t, 4, a, false, 10 + i);
		dp_nbr_learn(&t, 4, a, &mac_b, 10 + i);
	}
	ck_assert_int_eq(dp_nbr_lookup(&t, 4, gw, &m, NULL), DP_NBR_RESOLVED);
	ck_assert(rte_is_same_ether_addr(&m, &mac_a));
	ck_assert_uint_gt(t.stats.evicted, 0);
	/* The most recent ones are there. */
	for (unsigned i = 4 * DP_NBR_SLOTS - 16; i < 4 * DP_NBR_SLOTS; i++) {
		a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		resolved += dp_nbr_lookup(&t, 4, a, &m, NULL) == DP_NBR_RESOLVED;
	}
	ck_assert_uint_ge(resolved, 12);
}
END_TEST

START_TEST(test_nbr_on_link)
{
	const uint8_t net[4] = {198, 18, 0, 2};
	const uint8_t in[4] = {198, 18, 0, 200}, out[4] = {198, 18, 1, 1};
	const uint8_t net6[16] = {0x20, 0x01, 0, 2, [15] = 2};
	uint8_t in6[16] = {0x20, 0x01, 0, 2, [15] = 0x99}, out6[16] = {0x20, 0x01, 0, 3};

	ck_assert(dp_nbr_on_link(4, in, net, 24));
	ck_assert(!dp_nbr_on_link(4, out, net, 24));
	ck_assert(dp_nbr_on_link(4, out, net, 23)); /* 198.18.0.0/23 holds 198.18.1.1 */
	ck_assert(!dp_nbr_on_link(4, in, net, 0)); /* no prefix: nothing is on-link */
	ck_assert(dp_nbr_on_link(4, net, net, 32));
	ck_assert(!dp_nbr_on_link(4, in, net, 33));
	ck_assert(dp_nbr_on_link(6, in6, net6, 64));
	ck_assert(!dp_nbr_on_link(6, out6, net6, 64));
	ck_assert(!dp_nbr_on_link(6, in6, net6, 129));
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
		dp_nbr_learn(&t, 4, srv, (flips & 1) ? &torn_b : &torn_a, flips * DP_NBR_REFRESH_MS);
		flips++;
	}
	return (void *)(flips - 1);
}

/* The entry the writer rewrites, to watch its sequence from the outside. */
static const struct dp_nbr_entry *
entry_of(uint8_t family, const uint8_t *addr)
{
	for (unsigned i = 0; i < DP_NBR_SLOTS; i++)
		if (t.e[i].family == family && memcmp(t.e[i].addr, addr, 4) == 0)
			return &t.e[i];
	return NULL;
}

START_TEST(test_nbr_no_torn_reads)
{
	pthread_t th;
	struct rte_ether_addr m;
	const struct dp_nbr_entry *e;
	unsigned long seen_a = 0, seen_b = 0, overlaps = 0, busy = 0, i;
	uint64_t learned;
	void *flips;
	bool pinned;

	reset();
	dp_nbr_want(&t, 4, srv, false, 1);
	ck_assert(dp_nbr_learn(&t, 4, srv, &torn_a, 0));
	e = entry_of(4, srv);
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
		enum dp_nbr_state st = dp_nbr_lookup(&t, 4, srv, &m, &learned);
		uint32_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

		if (st != DP_NBR_RESOLVED) {
			/* A writer kept it busy for every retry: allowed, and counted. */
			ck_assert_int_eq(st, DP_NBR_ABSENT);
			busy++;
			continue;
		}
		bool is_b = rte_is_same_ether_addr(&m, &torn_b);

		if (!is_b && !rte_is_same_ether_addr(&m, &torn_a))
			ck_abort_msg("torn MAC read %02x:%02x:%02x:%02x:%02x:%02x", m.addr_bytes[0],
				     m.addr_bytes[1], m.addr_bytes[2], m.addr_bytes[3],
				     m.addr_bytes[4], m.addr_bytes[5]);
		ck_assert_msg(learned % DP_NBR_REFRESH_MS == 0 &&
			      ((learned / DP_NBR_REFRESH_MS) & 1) == is_b,
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
nbr_suite(void)
{
	Suite *s = suite_create("nbr");
	TCase *tc = tcase_create("nbr");

	tcase_add_test(tc, test_nbr_only_wanted_learned);
	tcase_add_test(tc, test_nbr_families_distinct);
	tcase_add_test(tc, test_nbr_probe_rate_and_refresh);
	tcase_add_test(tc, test_nbr_eviction_spares_gateway);
	tcase_add_test(tc, test_nbr_on_link);
	tcase_add_test(tc, test_nbr_no_torn_reads);
	tcase_set_timeout(tc, 540);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(nbr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
