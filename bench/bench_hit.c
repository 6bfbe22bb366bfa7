/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cache-hit throughput of one worker core.
 *
 * Two measurements in one run, same binary, same cache contents:
 *  - inline: one core hands bursts of 32 ready-made query mbufs straight to
 *    dp_rx_burst_handle() and takes the replies back: the cost of pollux's own per-query work
 *    (parse, lookup, answer, checksums), with no PMD in the way. The copy that turns each
 *    reply back into a query is timed separately and subtracted.
 *  - ring: the real worker loop (dp_loop_run) polls a net_ring port on its own lcore while the
 *    main lcore acts as the load generator on the port's rings: PMD RX/TX, bursts, RCU
 *    quiescent reports, everything a deployed worker does.
 *
 * With --access compare, the inline measurement runs in rounds alternating without access
 * control, with it alone (ACL_PREFIXES prefixes), and with it and rate limiting (on, at a rate
 * no client reaches), and reports the cycles per query each adds. The queries come from CLIENTS source addresses
 * either way, so the buckets see many clients, as a deployed worker's would.
 *
 * With --vlan ID the port is on that 802.1Q VLAN (dp_vlan.h): the queries come tagged and the
 * answers leave tagged, the tag moved in software (net_ring offloads nothing). Inline, only
 * the tag's removal is on the path measured; the ring mode has both.
 *
 * With --dnstap N (inline only; --mode dnstap-compare alternates rounds without and with it, as
 * --access compare does) dnstap is on, logging 1 in N client queries and responses to a
 * worker ring as the daemon does (dp_tap.h). Between bursts the main core empties the ring, in
 * the untimed part with the query copy: what is measured is the worker's side, the copy into
 * the ring; the logging thread's encoding and writing run on another core in the daemon.
 *
 * Usage: bench_hit [EAL options] -- [--seconds N] [--names N]
 *            [--mode inline|ring|both|dnstap-compare] [--access off|on|compare] [--vlan ID]
 *            [--dnstap N]
 * Prints "key: value" lines: answers per second, cycles per query, the machine.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_version.h>

#include <pollux/wire.h>

#include "bench_machine.h"
#include "ctl_access.h"
#include "ctl_config.h"
#include "dp_access.h"
#include "dp_cache.h"
#include "dp_clock.h"
#include "dp_lcore.h"
#include "dp_tap.h"
#include "dp_worker.h"
#include "testlib.h"
#include "testlib_pkt.h"

#define INFLIGHT 2048
#define SEED 1
#define ACL_PREFIXES 1000
#define CLIENTS 1024
#define COMPARE_ROUNDS 31

static struct dp_ctx ctx;
static struct rte_mempool *pool;
static unsigned nb_names = 1000;
static double seconds = 5;
static uint8_t (*frames)[128];
static uint16_t *frame_len;
static bool ring_rl; /* the ring worker has rate-limit buckets (--access on) */
static uint32_t tap_sample; /* --dnstap N; 0: off */
#define TAP_RING 4096

static void
fill_cache(void)
{
	for (unsigned i = 0; i < nb_names; i++) {
		char name[64];
		uint8_t rr[16] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 198, 18,
				  (uint8_t)(i >> 8), (uint8_t)i};
		uint16_t off = 6;
		struct dp_cache_key k = {.qtype = 1, .qclass = 1, .kind = DP_CACHE_RRSET};
		struct dp_cache_answer a = {.flags = DP_CACHE_F_PINNED, .ttl = 3600, .an_count = 1,
					    .rr = rr, .rr_len = sizeof(rr), .ttl_off = &off,
					    .ttl_off_count = 1};
		struct dp_cache_entry *e;
		int ret;
		uint8_t dns[256];
		struct px_test_query q = {.id = (uint16_t)i, .flags = PX_DNS_RD, .name = name,
					  .qtype = 1, .qclass = 1, .edns = true,
					  .edns_bufsize = 1232};

		snprintf(name, sizeof(name), "host%u.bench.example", i);
		k.name_len = (uint8_t)px_test_name(k.name, name);
		e = dp_cache_entry_new(ctx.cache, &k, &a, 0);
		if (e == NULL)
			rte_exit(1, "cannot build cache entry %u: %s\n", i, strerror(errno));
		ret = dp_cache_insert(ctx.cache, e);
		if (ret != 0)
			rte_exit(1, "cannot insert cache entry %u: %s\n", i, strerror(-ret));
		/* Clients 198.18.C.10-13: inside the /24 allow rules of access_table(). */
		struct px_test_hosts h = px_test_hosts;

		h.client_ip4 = rte_cpu_to_be_32(RTE_IPV4(198, 18, (i % CLIENTS) & 0xff,
						       10 + (i % CLIENTS) / 256));
		frame_len[i] = px_test_frame_udp4(frames[i], &h, (uint16_t)(1024 + i), 53, dns,
						  px_test_query(dns, &q));
		if (ctx.port.vlan != 0) {
			memmove(frames[i] + 16, frames[i] + 12, frame_len[i] - 12u);
			frames[i][12] = RTE_ETHER_TYPE_VLAN >> 8;
			frames[i][13] = RTE_ETHER_TYPE_VLAN & 0xff;
			frames[i][14] = (uint8_t)(ctx.port.vlan >> 8);
			frames[i][15] = (uint8_t)ctx.port.vlan;
			frame_len[i] = (uint16_t)(frame_len[i] + 4);
		}
	}
}

/* Turns m back into query number i. */
static inline void
load_query(struct rte_mbuf *m, unsigned i)
{
	/* Taking a VLAN tag off moves the frame's start by 4 bytes. */
	if (ctx.port.vlan != 0)
		m->data_off = RTE_PKTMBUF_HEADROOM;
	rte_memcpy(rte_pktmbuf_mtod(m, void *), frames[i], frame_len[i]);
	m->data_len = frame_len[i];
	m->pkt_len = frame_len[i];
}

static void
machine(void)
{
	bench_print_machine();
	printf("tsc_hz: %" PRIu64 "\n", rte_get_tsc_hz());
	printf("lcores: %u\n", rte_lcore_count());
	printf("names: %u\n", nb_names);
	printf("vlan: %u\n", ctx.port.vlan);
}

/* ACL_PREFIXES rules as a deployment might have them: 256 IPv4 /24s (the clients' subnets),
 * the rest refused /16s and IPv6 /48s, beside the defaults of --ip 198.18.0.2/24; and rate
 * limiting on at a rate no bench client reaches, so every query pays for its bucket. */
static struct dp_access *
access_table(void)
{
	struct ctl_config cfg;
	char rule[64], why[256];
	struct dp_access *a;

	ctl_config_init(&cfg);
	cfg.has_ip4 = true;
	cfg.ip4 = px_test_hosts.server_ip4;
	cfg.ip4_prefix = 24;
	cfg.ratelimit = PX_RL_MAX_RATE;
	for (unsigned i = 0; i < ACL_PREFIXES; i++) {
		if (i < 256)
			snprintf(rule, sizeof(rule), "198.18.%u.0/24 allow", i);
		else if (i < 628)
			snprintf(rule, sizeof(rule), "10.%u.%u.0/24 refuse", i >> 8, i & 0xff);
		else
			snprintf(rule, sizeof(rule), "2001:db8:%x::/48 drop", i);
		if (ctl_config_add_acl(&cfg, rule, "bench", why, sizeof(why)) != 0)
			rte_exit(1, "bench rule '%s': %s\n", rule, why);
	}
	a = ctl_access_build(&cfg, 1, why, sizeof(why));
	if (a == NULL)
		rte_exit(1, "%s\n", why);
	ctl_config_free(&cfg);
	return a;
}

#define RL_BUCKETS 65536
static const uint8_t rl_key[16] = {SEED};

/* The daemon's worker (dp_worker.h) without recursion, with rate-limit buckets under a fixed
 * key when rl is set. */
static struct dp_lcore *
bench_worker(unsigned lcore, bool rl)
{
	const struct dp_worker_conf wc = {
		.ctx = &ctx, .lcore_id = lcore, .pool = pool, .now_ms = dp_clock_ms(),
		.ratelimit_size = rl ? RL_BUCKETS : 0, .ratelimit_key = rl_key,
	};
	struct dp_lcore *lc = dp_worker_build(&wc);

	if (lc == NULL)
		rte_exit(1, "cannot build the worker: %s\n", strerror(errno));
	return lc;
}

/* Runs the inline measurement for secs; returns the cycles per query, prints under prefix. */
static double
bench_inline(const char *prefix, double secs_run, bool rl)
{
	struct dp_lcore *lc = bench_worker(rte_lcore_id(), rl);
	struct rte_mbuf *rx[DP_BURST], *tx[DP_BURST];
	uint64_t answers = 0, copy_cycles = 0, start, end, hz = rte_get_tsc_hz();
	unsigned next = 0;

	if (tap_sample != 0) {
		struct px_tap_ring *r = rte_zmalloc(NULL, px_tap_ring_size(TAP_RING),
						    RTE_CACHE_LINE_SIZE);

		lc->tap = rte_zmalloc(NULL, sizeof(*lc->tap), RTE_CACHE_LINE_SIZE);
		if (r == NULL || lc->tap == NULL)
			rte_exit(1, "out of memory\n");
		px_tap_ring_init(r, TAP_RING);
		dp_tap_init(lc->tap, r, PX_TAP_BIT(PX_TAP_CLIENT_QUERY) |
			    PX_TAP_BIT(PX_TAP_CLIENT_RESPONSE), tap_sample);
	}
	if (rte_pktmbuf_alloc_bulk(pool, rx, DP_BURST) != 0)
		rte_exit(1, "no mbufs\n");
	/* Warm-up: one pass over every name. */
	for (unsigned w = 0; w < nb_names * 2 / DP_BURST + 1; w++) {
		for (unsigned i = 0; i < DP_BURST; i++) {
			load_query(rx[i], next);
			next = next + 1 == nb_names ? 0 : next + 1;
		}
		lc->now_ms = dp_clock_ms();
		if (dp_rx_burst_handle(lc, rx, DP_BURST, tx) != DP_BURST)
			rte_exit(1, "a warm-up query was not answered\n");
		while (lc->tap != NULL && px_tap_ring_peek(lc->tap->ring) != NULL)
			px_tap_ring_release(lc->tap->ring);
	}
	start = rte_rdtsc();
	end = start + (uint64_t)(secs_run * (double)hz);
	while (rte_rdtsc() < end) {
		for (int b = 0; b < 64; b++) {
			uint64_t c0 = rte_rdtsc();

			for (unsigned i = 0; i < DP_BURST; i++) {
				load_query(rx[i], next);
				next = next + 1 == nb_names ? 0 : next + 1;
			}
			/* The logging thread's part: it takes the records on another core. */
			while (lc->tap != NULL && px_tap_ring_peek(lc->tap->ring) != NULL)
				px_tap_ring_release(lc->tap->ring);
			uint64_t c1 = rte_rdtsc();

			copy_cycles += c1 - c0;
			lc->now_ms = dp_clock_ms();
			answers += dp_rx_burst_handle(lc, rx, DP_BURST, tx);
		}
	}
	uint64_t total = rte_rdtsc() - start;
	double secs = (double)total / (double)hz;
	double cyc = (double)(total - copy_cycles) / (double)answers;

	printf("%s.answers: %" PRIu64 "\n", prefix, answers);
	printf("%s.hits: %" PRIu64 "\n", prefix, lc->stats.hits);
	printf("%s.cycles_per_query: %.1f\n", prefix, cyc);
	printf("%s.mqps_per_core: %.2f\n", prefix, (double)hz / cyc / 1e6);
	printf("%s.copy_cycles_per_query: %.1f\n", prefix, (double)copy_cycles / (double)answers);
	printf("%s.seconds: %.2f\n", prefix, secs);
	if (lc->stats.hits != answers + (uint64_t)(nb_names * 2 / DP_BURST + 1) * DP_BURST)
		rte_exit(1, "answers that were not cache hits: the benchmark is measuring the wrong "
			 "path\n");
	if (ctx.access != NULL && (lc->stats.acl_allowed != lc->stats.hits ||
				   lc->stats.ratelimited != 0))
		rte_exit(1, "queries the access check did not pass: the benchmark is measuring the "
			 "wrong path\n");
	if (lc->tap != NULL) {
		printf("%s.dnstap_sample: %u\n", prefix, tap_sample);
		printf("%s.dnstap_logged: %" PRIu64 "\n", prefix, lc->stats.dnstap_logged);
		if (lc->stats.dnstap_dropped != 0 || lc->stats.dnstap_logged <
		    2 * lc->stats.hits / tap_sample)
			rte_exit(1, "dnstap records missing: the benchmark is measuring the wrong "
				 "path\n");
		rte_free(lc->tap->ring);
		rte_free(lc->tap);
	}
	rte_pktmbuf_free_bulk(rx, DP_BURST);
	dp_worker_free(lc);
	return cyc;
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static double
median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Rounds of off, access control alone, and access control with rate limiting, back to back.
 * A shared machine's noise drifts slower than a round: each round's differences are paired
 * measurements, and their median is the added cost. */
static void
bench_compare(void)
{
	struct dp_access *a = access_table();
	double off[COMPARE_ROUNDS], on[COMPARE_ROUNDS], d_acl[COMPARE_ROUNDS], d_on[COMPARE_ROUNDS];
	double per = seconds / (3 * COMPARE_ROUNDS);
	char name[32];

	for (int r = 0; r < COMPARE_ROUNDS; r++) {
		ctx.access = NULL;
		snprintf(name, sizeof(name), "inline_off%d", r);
		off[r] = bench_inline(name, per, false);
		ctx.access = a;
		snprintf(name, sizeof(name), "inline_aclonly%d", r);
		d_acl[r] = bench_inline(name, per, false) - off[r];
		snprintf(name, sizeof(name), "inline_acl%d", r);
		on[r] = bench_inline(name, per, true);
		d_on[r] = on[r] - off[r];
	}
	ctx.access = NULL;
	printf("acl.prefixes: %u (+ %u defaults)\n", ACL_PREFIXES,
	       a->acl->rule_count - ACL_PREFIXES);
	printf("acl.clients: %u\n", CLIENTS);
	printf("acl.ratelimit: %u q/s per client\n", a->rl.rate);
	printf("acl.rounds: %u\n", COMPARE_ROUNDS);
	printf("acl.off_cycles_per_query: %.1f\n", median(off, COMPARE_ROUNDS));
	printf("acl.on_cycles_per_query: %.1f\n", median(on, COMPARE_ROUNDS));
	printf("acl.acl_only_added_cycles_per_query: %.1f\n", median(d_acl, COMPARE_ROUNDS));
	printf("acl.added_cycles_per_query: %.1f\n", median(d_on, COMPARE_ROUNDS));
	ctl_access_free(a);
}

/* Rounds without dnstap and with it at 1 in tap_sample, back to back, paired as
 * bench_compare's are: the median difference is what dnstap adds to a worker's hit. */
static void
bench_tap_compare(void)
{
	uint32_t sample = tap_sample;
	double off[COMPARE_ROUNDS], on[COMPARE_ROUNDS], d[COMPARE_ROUNDS];
	double per = seconds / (2 * COMPARE_ROUNDS);
	char name[32];

	for (int r = 0; r < COMPARE_ROUNDS; r++) {
		tap_sample = 0;
		snprintf(name, sizeof(name), "inline_tapoff%d", r);
		off[r] = bench_inline(name, per, false);
		tap_sample = sample;
		snprintf(name, sizeof(name), "inline_tapon%d", r);
		on[r] = bench_inline(name, per, false);
		d[r] = on[r] - off[r];
	}
	printf("dnstap.sample: %u\n", sample);
	printf("dnstap.rounds: %u\n", COMPARE_ROUNDS);
	printf("dnstap.off_cycles_per_query: %.1f\n", median(off, COMPARE_ROUNDS));
	printf("dnstap.on_cycles_per_query: %.1f\n", median(on, COMPARE_ROUNDS));
	printf("dnstap.added_cycles_per_query: %.1f\n", median(d, COMPARE_ROUNDS));
}

static void
bench_ring(void)
{
	struct rte_ring *rxr, *txr;
	struct rte_eth_conf conf = {0};
	struct dp_lcore *lc;
	struct rte_mbuf *bufs[INFLIGHT];
	uint64_t hz = rte_get_tsc_hz(), t0, t1, a0, a1, idle0, idle1;
	unsigned next = 0, worker;
	int port;

	rxr = rte_ring_create("bench_rx", 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	txr = rte_ring_create("bench_tx", 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	port = rte_eth_from_rings("net_ring_bench", &rxr, 1, &txr, 1, 0);
	if (rxr == NULL || txr == NULL || port < 0 ||
	    rte_eth_dev_configure((uint16_t)port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup((uint16_t)port, 0, 1024, 0, NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup((uint16_t)port, 0, 1024, 0, NULL) != 0 ||
	    rte_eth_dev_start((uint16_t)port) != 0)
		rte_exit(1, "cannot set up the net_ring port\n");
	ctx.port.port_id = (uint16_t)port;
	worker = rte_get_next_lcore(-1, 1, 0);
	if (worker >= RTE_MAX_LCORE)
		rte_exit(1, "ring mode needs a worker lcore: -l 0,1\n");
	lc = bench_worker(worker, ring_rl);
	rte_eal_remote_launch(dp_loop_run, lc, worker);

	if (rte_pktmbuf_alloc_bulk(pool, bufs, INFLIGHT) != 0)
		rte_exit(1, "no mbufs\n");
	for (unsigned i = 0; i < INFLIGHT; i++) {
		load_query(bufs[i], next);
		next = next + 1 == nb_names ? 0 : next + 1;
	}
	if (rte_ring_enqueue_bulk(rxr, (void **)bufs, INFLIGHT, NULL) != INFLIGHT)
		rte_exit(1, "cannot prime the ring\n");

	/* The generator: every reply becomes the next query, so INFLIGHT queries circulate. */
	uint64_t warm_end = rte_rdtsc() + hz, end = 0;
	bool measuring = false;

	t0 = a0 = idle0 = 0;
	for (;;) {
		struct rte_mbuf *m[DP_BURST];
		unsigned n = rte_ring_dequeue_burst(txr, (void **)m, DP_BURST, NULL);
		uint64_t now;

		for (unsigned i = 0; i < n; i++) {
			load_query(m[i], next);
			next = next + 1 == nb_names ? 0 : next + 1;
		}
		if (n != 0 && rte_ring_enqueue_burst(rxr, (void **)m, n, NULL) != n)
			rte_exit(1, "rx ring overflow\n");
		now = rte_rdtsc();
		if (!measuring && now >= warm_end) {
			measuring = true;
			t0 = now;
			a0 = __atomic_load_n(&lc->stats.tx_pkts, __ATOMIC_RELAXED);
			idle0 = __atomic_load_n(&lc->stats.idle_polls, __ATOMIC_RELAXED);
			end = now + (uint64_t)(seconds * (double)hz);
		} else if (measuring && now >= end) {
			break;
		}
	}
	t1 = rte_rdtsc();
	a1 = __atomic_load_n(&lc->stats.tx_pkts, __ATOMIC_RELAXED);
	idle1 = __atomic_load_n(&lc->stats.idle_polls, __ATOMIC_RELAXED);
	__atomic_store_n(&ctx.stop, true, __ATOMIC_RELAXED);
	rte_eal_wait_lcore(worker);

	double secs = (double)(t1 - t0) / (double)hz;
	double qps = (double)(a1 - a0) / secs;

	printf("ring.answers: %" PRIu64 "\n", a1 - a0);
	printf("ring.mqps: %.2f\n", qps / 1e6);
	/* The worker polls without pause: its core's cycles over the answers it sent. */
	printf("ring.worker_cycles_per_query: %.1f\n", (double)(t1 - t0) / (double)(a1 - a0));
	printf("ring.worker_idle_polls: %" PRIu64 "\n", idle1 - idle0);
	printf("ring.hits: %" PRIu64 "\n", lc->stats.hits);
	printf("ring.seconds: %.2f\n", secs);
	dp_worker_free(lc);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"seconds", required_argument, NULL, 's'},
		{"names", required_argument, NULL, 'n'},
		{"mode", required_argument, NULL, 'm'},
		{"access", required_argument, NULL, 'a'},
		{"vlan", required_argument, NULL, 'v'},
		{"dnstap", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	const char *mode = "both", *access = "off";
	int ret = rte_eal_init(argc, argv), c;

	if (ret < 0)
		rte_exit(1, "EAL init failed\n");
	argc -= ret;
	argv += ret;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': seconds = atof(optarg); break;
		case 'n': nb_names = (unsigned)atoi(optarg); break;
		case 'm': mode = optarg; break;
		case 'a': access = optarg; break;
		case 'v': ctx.port.vlan = (uint16_t)(atoi(optarg) & 0xfff); break;
		case 'd': tap_sample = (uint32_t)atoi(optarg); break;
		default: rte_exit(2, "usage: bench_hit [EAL] -- [--seconds N] [--names N] "
				  "[--mode inline|ring|both|dnstap-compare] [--access off|on|compare] [--vlan ID] "
				  "[--dnstap N]\n");
		}
	}
	if (seconds <= 0 || nb_names == 0 || nb_names > 65535)
		rte_exit(2, "--seconds must be > 0 and --names 1-65535\n");
	srand(SEED);
	dp_clock_init();
	frames = calloc(nb_names, sizeof(*frames));
	frame_len = calloc(nb_names, sizeof(*frame_len));
	pool = rte_pktmbuf_pool_create("bench_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	if (frames == NULL || frame_len == NULL || pool == NULL)
		rte_exit(1, "out of memory\n");
	const struct dp_worker_ctx_conf cc = {
		.name = "bench", .socket = (int)rte_socket_id(), .cache_size = nb_names * 2,
	};

	if (dp_worker_ctx_build(&ctx, &cc) != 0)
		rte_exit(1, "cannot create the cache\n");
	memcpy(ctx.port.mac.addr_bytes, px_test_hosts.server_mac, 6);
	ctx.port.has_ip4 = true;
	ctx.port.ip4 = px_test_hosts.server_ip4;
	dp_port_conf_derive(&ctx.port);
	fill_cache();

	machine();
	if (strcmp(mode, "dnstap-compare") == 0) {
		if (tap_sample == 0)
			rte_exit(2, "--mode dnstap-compare needs --dnstap N\n");
		bench_tap_compare();
		rte_eal_cleanup();
		return 0;
	}
	if (strcmp(access, "compare") == 0) {
		bench_compare();
		rte_eal_cleanup();
		return 0;
	}
	bool rl = false;

	if (strcmp(access, "on") == 0) {
		ctx.access = access_table();
		rl = true;
		ring_rl = true;
	} else if (strcmp(access, "off") != 0) {
		rte_exit(2, "--access must be off, on or compare\n");
	}
	if (strcmp(mode, "inline") == 0 || strcmp(mode, "both") == 0)
		bench_inline("inline", seconds, rl);
	if (strcmp(mode, "ring") == 0 || strcmp(mode, "both") == 0)
		bench_ring();
	rte_eal_cleanup();
	return 0;
}
