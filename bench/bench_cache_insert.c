/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cache's insert path, as a worker takes it: dp_cache_put() with its own writer (an entry
 * from the size-class pools, both bucket locks tried once, a move or an eviction when the
 * buckets are full, the old entry to its own defer queue), a quiescent report and a reclaim every
 * 32 inserts as dp_loop_run() does once per burst. Each worker lcore is one writer on keys of
 * its own (distinct names, an A answer of one record: the smallest class), in two phases:
 *  - fill: into an empty table, until it holds --entries keys (every insert a new key);
 *  - full: for --seconds more, new keys into the full table (each one evicts) and, one in four,
 *    a key the writer put in a moment ago again (a replacement).
 * Several writers (one per worker lcore) share the table and each other's buckets: contended
 * inserts are dropped and counted, never waited for.
 *
 * Usage: bench_cache_insert [EAL options] -- [--entries N] [--seconds S]
 * Prints "key: value" lines: inserts per second and cycles per insert for each writer and
 * phase, the outcomes, the machine.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_version.h>

#include <pollux/wire.h>

#include "bench_machine.h"
#include "dp_cache.h"
#include "dp_clock.h"

#define SEED 0x5eed
#define NAME_MAX_LEN 40
#define QUIESCE_EVERY 32

struct writer_result {
	uint64_t fill_n, fill_cycles;
	uint64_t full_n, full_cycles;
	uint64_t ok, busy, nomem, nobufs, other;
} __rte_cache_aligned;

static struct dp_cache *cache;
static struct rte_rcu_qsbr *qsbr;
static struct dp_cache_writer *writers[RTE_MAX_LCORE];
static struct writer_result results[RTE_MAX_LCORE];
static unsigned nb_entries = 1u << 18;
static double seconds = 1;
static unsigned nb_writers;

/* "w<lcore>-<i>.bench.example" in wire form; returns its length. */
static uint8_t
key_name(uint8_t *dst, unsigned lcore, uint64_t i)
{
	char label[32];
	int n = snprintf(label, sizeof(label), "w%u-%" PRIu64, lcore, i);
	uint8_t len = 0;

	dst[len++] = (uint8_t)n;
	memcpy(dst + len, label, (size_t)n);
	len = (uint8_t)(len + n);
	memcpy(dst + len, "\x05" "bench" "\x07" "example" "\x00", 15);
	return (uint8_t)(len + 15);
}

/* Pre-built names, so the timed loop does what a worker does (a key copy and the insert). */
struct names {
	uint64_t count;
	uint8_t (*name)[NAME_MAX_LEN];
	uint8_t *len;
};

static void
names_make(struct names *nm, unsigned lcore, uint64_t count)
{
	nm->count = count;
	nm->name = rte_malloc(NULL, count * NAME_MAX_LEN, 0);
	nm->len = rte_malloc(NULL, count, 0);
	if (nm->name == NULL || nm->len == NULL)
		rte_exit(EXIT_FAILURE, "out of memory for %" PRIu64 " names\n", count);
	for (uint64_t i = 0; i < count; i++)
		nm->len[i] = key_name(nm->name[i], lcore, i);
}

static inline int
insert_one(struct dp_cache_writer *w, const struct names *nm, uint64_t i, uint64_t now_ms)
{
	/* An A record, compressed owner: name ptr, type, class, TTL, rdlength, address. */
	static const uint8_t rr[16] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4,
				       198, 51, 100, 7};
	static const uint16_t ttl_off = 6;
	const struct dp_cache_answer ans = {
		.ttl = 3600, .an_count = 1, .rr = rr, .rr_len = sizeof(rr),
		.ttl_off = &ttl_off, .ttl_off_count = 1,
	};
	struct dp_cache_key key = {.qtype = PX_DNS_TYPE_A, .qclass = PX_DNS_CLASS_IN,
				   .kind = DP_CACHE_RRSET};

	key.name_len = nm->len[i];
	memcpy(key.name, nm->name[i], NAME_MAX_LEN);
	return dp_cache_put(w, &key, &ans, now_ms);
}

static void
count(struct writer_result *r, int ret)
{
	if (ret == 0)
		r->ok++;
	else if (ret == -EBUSY)
		r->busy++;
	else if (ret == -ENOMEM)
		r->nomem++;
	else if (ret == -ENOBUFS)
		r->nobufs++;
	else
		r->other++;
}

static int
writer_main(void *arg)
{
	unsigned id = rte_lcore_id();
	struct dp_cache_writer *w = writers[id];
	struct writer_result *r = &results[id];
	const struct names *nm = arg;
	uint64_t now = dp_clock_ms(), hz = rte_get_tsc_hz();
	uint64_t fill = nb_entries / nb_writers, i = 0, t0, t1, end;
	uint32_t x = SEED ^ id;

	rte_rcu_qsbr_thread_register(qsbr, id);
	rte_rcu_qsbr_thread_online(qsbr, id);
	t0 = rte_rdtsc();
	for (; i < fill; i++) {
		count(r, insert_one(w, nm, i, now));
		if ((i & (QUIESCE_EVERY - 1)) == 0) {
			rte_rcu_qsbr_quiescent(qsbr, id);
			dp_cache_writer_reclaim(w);
		}
	}
	t1 = rte_rdtsc();
	r->fill_n = fill;
	r->fill_cycles = t1 - t0;
	end = t1 + (uint64_t)(seconds * (double)hz);
	t0 = t1;
	uint64_t n = 0;

	for (;;) {
		for (unsigned k = 0; k < QUIESCE_EVERY; k++, n++) {
			uint64_t j;

			x = x * 1103515245u + 12345u;
			/* One in four: a key put a moment ago (most likely still there). */
			if ((x >> 16 & 3) == 0 && i > 64)
				j = i - 1 - (x >> 20) % 64;
			else
				j = i++;
			/* Past the last name, the first ones again: evicted long since. */
			count(r, insert_one(w, nm, j % nm->count, now));
		}
		rte_rcu_qsbr_quiescent(qsbr, id);
		dp_cache_writer_reclaim(w);
		if (rte_rdtsc() >= end)
			break;
	}
	t1 = rte_rdtsc();
	r->full_n = n;
	r->full_cycles = t1 - t0;
	rte_rcu_qsbr_thread_offline(qsbr, id);
	rte_rcu_qsbr_thread_unregister(qsbr, id);
	return 0;
}

static void
machine(void)
{
	bench_print_machine();
	printf("tsc_hz: %" PRIu64 "\n", rte_get_tsc_hz());
	printf("lcores: %u\n", rte_lcore_count());
	printf("writers: %u\n", nb_writers);
	printf("entries: %u\n", nb_entries);
}

static void
parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{"entries", required_argument, NULL, 'e'},
		{"seconds", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			nb_entries = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			seconds = strtod(optarg, NULL);
			break;
		default:
			fprintf(stderr, "usage: bench_cache_insert [EAL options] -- [--entries N] "
				"[--seconds S]\n");
			exit(EXIT_FAILURE);
		}
	}
	if (nb_entries < 1024 || seconds <= 0)
		rte_exit(EXIT_FAILURE, "--entries must be >= 1024 and --seconds > 0\n");
}

int
main(int argc, char **argv)
{
	static struct names nm[RTE_MAX_LCORE];
	const struct px_siphash_key key = {SEED, SEED * 3};
	struct dp_cache_info info;
	uint64_t hz, total_full = 0;
	double total_rate = 0;
	unsigned lcore;
	int ret = rte_eal_init(argc, argv);

	if (ret < 0)
		rte_exit(EXIT_FAILURE, "EAL initialisation failed\n");
	parse_args(argc - ret, argv + ret);
	nb_writers = rte_lcore_count() - 1;
	if (nb_writers == 0)
		rte_exit(EXIT_FAILURE, "needs a worker lcore per writer (e.g. -l 0,1)\n");
	dp_clock_init();
	hz = rte_get_tsc_hz();
	qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	if (qsbr == NULL || rte_rcu_qsbr_init(qsbr, RTE_MAX_LCORE) != 0)
		rte_exit(EXIT_FAILURE, "cannot set up RCU\n");
	cache = dp_cache_create_keyed("bench_insert", nb_entries, qsbr, (int)rte_socket_id(), &key);
	if (cache == NULL)
		rte_exit(EXIT_FAILURE, "cannot create a cache of %u entries: %s\n", nb_entries,
			 strerror(errno));
	RTE_LCORE_FOREACH_WORKER(lcore) {
		writers[lcore] = dp_cache_writer_create(cache, (int)rte_lcore_to_socket_id(lcore), 0);
		if (writers[lcore] == NULL)
			rte_exit(EXIT_FAILURE, "cannot create a writer: %s\n", strerror(errno));
		/* The fill's names and a million more, reused in turn in the full phase. */
		names_make(&nm[lcore], lcore, nb_entries / nb_writers + (1u << 20));
	}
	machine();
	RTE_LCORE_FOREACH_WORKER(lcore)
		rte_eal_remote_launch(writer_main, &nm[lcore], lcore);
	rte_eal_mp_wait_lcore();
	RTE_LCORE_FOREACH_WORKER(lcore) {
		const struct writer_result *r = &results[lcore];
		double fill_c = (double)r->fill_cycles / (double)r->fill_n;
		double full_c = (double)r->full_cycles / (double)r->full_n;

		printf("w%u.fill.inserts: %" PRIu64 "\n", lcore, r->fill_n);
		printf("w%u.fill.cycles_per_insert: %.1f\n", lcore, fill_c);
		printf("w%u.fill.minserts_per_s: %.2f\n", lcore, (double)hz / fill_c / 1e6);
		printf("w%u.full.inserts: %" PRIu64 "\n", lcore, r->full_n);
		printf("w%u.full.cycles_per_insert: %.1f\n", lcore, full_c);
		printf("w%u.full.minserts_per_s: %.2f\n", lcore, (double)hz / full_c / 1e6);
		printf("w%u.outcome: ok %" PRIu64 " busy %" PRIu64 " nomem %" PRIu64
		       " nobufs %" PRIu64 " other %" PRIu64 "\n", lcore, r->ok, r->busy, r->nomem,
		       r->nobufs, r->other);
		total_full += r->full_n;
		total_rate += (double)hz / full_c;
	}
	dp_cache_info(cache, &info);
	printf("full.minserts_per_s_all_writers: %.2f\n", total_rate / 1e6);
	printf("cache.entries: %u of %u slots\n", info.entries, info.slots);
	printf("cache.inserts: %" PRIu64 " replaces %" PRIu64 " evictions %" PRIu64
	       " moves %" PRIu64 " contended %" PRIu64 " no_mem %" PRIu64 "\n", info.inserts,
	       info.replaces, info.evictions, info.moves, info.contended, info.no_mem);
	RTE_SET_USED(total_full);
	dp_cache_free(cache);
	rte_free(qsbr);
	rte_eal_cleanup();
	return 0;
}
