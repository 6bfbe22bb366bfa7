/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hot swap of the root hints table under load: reader lcores look the table up continuously,
 * as workers will, while the control thread publishes thousands of new tables through
 * ctl_hints_publish(). No reader may ever see a torn, stale-generation or freed table; under
 * ASan (the tables are malloc'ed) a read after free fails the run.
 */
#include <check.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <pollux/hints.h>

#include "ctl_hints_reload.h"
#include "dp_lcore.h"
#include "testlib.h"

#define SWAPS 5000

static struct dp_ctx ctx;
static bool stop;
static uint64_t reads[RTE_MAX_LCORE], torn[RTE_MAX_LCORE], backwards[RTE_MAX_LCORE];

/* A table of 1-13 servers whose contents depend on seed, so consecutive tables differ. */
static struct px_hints *
make_table(unsigned seed)
{
	uint32_t n = 1 + seed % 13;
	struct px_hints *h = calloc(1, px_hints_size(n));

	ck_assert_ptr_nonnull(h);
	h->ns_count = n;
	h->ttl = 3600000;
	for (uint32_t i = 0; i < n; i++) {
		struct px_hints_ns *ns = &h->ns[i];
		char name[64];

		snprintf(name, sizeof(name), "%c.root-servers.net", 'a' + (int)i);
		ns->name_len = (uint8_t)px_test_name(ns->name, name);
		uint8_t v6[16];
		struct px_addr a;

		for (unsigned k = 0; k < 1 + (seed + i) % PX_HINTS_MAX_ADDRS; k++) {
			px_addr_set4(&a, (uint32_t)(seed * 2654435761u + i * 97 + k), 0);
			ck_assert_int_eq(px_hints_ns_add(ns, &a), 0);
		}
		memset(v6, (int)(seed & 0xff), 16);
		px_addr_set6(&a, v6, 0);
		ck_assert_int_eq(px_hints_ns_add(ns, &a), 0);
	}
	h->checksum = px_hints_checksum(h);
	return h;
}

static int
reader(void *arg)
{
	unsigned id = rte_lcore_id();
	uint64_t last = 0;

	RTE_SET_USED(arg);
	rte_rcu_qsbr_thread_register(ctx.qsbr, id);
	rte_rcu_qsbr_thread_online(ctx.qsbr, id);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		const struct px_hints *h = px_hints_get(&ctx);

		/* Read the whole table, as a resolver walking the servers would. */
		if (h->ns_count == 0 || h->ns_count > 13 || px_hints_checksum(h) != h->checksum)
			torn[id]++;
		if (h->generation < last)
			backwards[id]++;
		last = h->generation;
		reads[id]++;
		rte_rcu_qsbr_quiescent(ctx.qsbr, id);
		/* Two readers share a CPU here: yield now and then so that each reaches its next
		 * quiescent state within microseconds, not a scheduler time slice. */
		if ((reads[id] & 63) == 0)
			sched_yield();
	}
	rte_rcu_qsbr_thread_offline(ctx.qsbr, id);
	rte_rcu_qsbr_thread_unregister(ctx.qsbr, id);
	return 0;
}

START_TEST(test_ctl_hints_publish_under_load)
{
	unsigned lcore, readers = 0;
	uint64_t total_reads = 0, total_torn = 0, total_back = 0;

	ctl_hints_publish(&ctx, make_table(0), 1);
	stop = false;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		rte_eal_remote_launch(reader, NULL, lcore);
		readers++;
	}
	ck_assert_uint_ge(readers, 2);
	for (unsigned i = 1; i <= SWAPS; i++)
		ctl_hints_publish(&ctx, make_table(i), i + 1);
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	RTE_LCORE_FOREACH_WORKER(lcore) {
		total_reads += reads[lcore];
		total_torn += torn[lcore];
		total_back += backwards[lcore];
	}
	ck_assert_uint_gt(total_reads, SWAPS);
	ck_assert_uint_eq(total_torn, 0);
	ck_assert_uint_eq(total_back, 0);
	ck_assert_uint_eq(px_hints_get(&ctx)->generation, SWAPS + 1);
	free(__atomic_exchange_n(&ctx.hints, NULL, __ATOMIC_ACQ_REL));
}
END_TEST

/* The checksum the readers rely on does notice a change anywhere in the table. */
START_TEST(test_dp_hints_checksum_detects_changes)
{
	struct px_hints *h = make_table(7);
	uint8_t *bytes = (uint8_t *)h->ns;

	for (size_t i = 0; i < h->ns_count * sizeof(struct px_hints_ns); i += 37) {
		bytes[i] ^= 0x10;
		ck_assert_uint_ne(px_hints_checksum(h), h->checksum);
		bytes[i] ^= 0x10;
	}
	ck_assert_uint_eq(px_hints_checksum(h), h->checksum);
	free(h);
}
END_TEST

static Suite *
hints_swap_suite(void)
{
	Suite *s = suite_create("hints_swap");
	TCase *tc = tcase_create("publish");

	tcase_add_test(tc, test_dp_hints_checksum_detects_changes);
	tcase_add_test(tc, test_ctl_hints_publish_under_load);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	/* The writer has CPU 0 to itself; two readers share CPU 1. */
	px_test_eal_init("test_hints_swap", "0@0,1@1,2@1", NULL);
	ctx.qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	rte_rcu_qsbr_init(ctx.qsbr, RTE_MAX_LCORE);
	sr = srunner_create(hints_swap_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rte_free(ctx.qsbr);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
