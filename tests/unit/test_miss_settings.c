/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A resolving worker taking in reloaded settings (dp_settings.h): dp_miss_tick copies a newly
 * published object's address policy, TTL caps, QNAME minimisation and probe question into the
 * worker's own state, once per generation, and keeps no pointer into the object, so the control
 * thread may free it after the grace period (ASan checks that nothing reads it after). The test,
 * on the main lcore, is both the worker and the control thread.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <pollux/addr_policy.h>
#include <pollux/hints.h>
#include <pollux/resolver.h>
#include <pollux/wire.h>

#include "dp_clock.h"
#include "dp_lcore.h"
#include "dp_miss.h"
#include "dp_settings.h"
#include "dp_worker.h"
#include "testlib.h"

#define GW_IP4 RTE_BE32(0xc6120001) /* 198.18.0.1 */

static struct rte_mempool *pool;
static struct rte_ring *rx_ring, *tx_ring;
static struct dp_ctx ctx;
static struct dp_lcore *w;
static struct px_addr_policy policy;
static struct px_hints *hints;

static struct dp_settings *
settings(uint64_t gen, uint32_t max_ttl, bool qmin, const char *dnq)
{
	struct dp_settings *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	s->generation = gen;
	px_addr_policy_init(&s->policy);
	px_addr_policy_set_self4(&s->policy, ctx.port.ip4, 24);
	if (dnq != NULL)
		ck_assert_int_eq(px_addr_policy_add(&s->policy, dnq), 0);
	s->max_ttl = max_ttl;
	s->max_neg_ttl = max_ttl / 2;
	s->qname_min = qmin;
	s->prime_min_servers = 1;
	s->probe_qname_len = (uint8_t)px_test_name(s->probe_qname, "probe.example");
	s->probe_qtype = PX_DNS_TYPE_AAAA;
	return s;
}

/* The control thread's publish, with the grace period already over: the old object is freed
 * at once, so a worker still pointing into it reads freed memory. */
static void
publish(struct dp_settings *s)
{
	free(__atomic_exchange_n(&ctx.settings, s, __ATOMIC_ACQ_REL));
}

START_TEST(test_miss_settings_taken_in_once)
{
	const struct px_resolver *r = dp_miss_resolver(w->miss);

	/* Nothing published: the creation conf holds. */
	dp_miss_tick(w);
	ck_assert_uint_eq(w->stats.rec_settings_applied, 0);
	ck_assert_uint_eq(r->cfg.max_ttl, 86400);
	ck_assert(!r->cfg.qname_min);
	ck_assert_int_eq(px_addr_check4(r->policy, inet_addr("198.51.100.7")), PX_ADDR_OK);

	publish(settings(1, 60, true, "198.51.100.0/24"));
	dp_miss_tick(w);
	ck_assert_uint_eq(w->stats.rec_settings_applied, 1);
	ck_assert_uint_eq(r->cfg.max_ttl, 60);
	ck_assert_uint_eq(r->cfg.max_neg_ttl, 30);
	ck_assert(r->cfg.qname_min);
	ck_assert_int_eq(px_addr_check4(r->policy, inet_addr("198.51.100.7")),
			 PX_ADDR_DO_NOT_QUERY);
	ck_assert_int_eq(px_addr_check4(r->policy, ctx.port.ip4), PX_ADDR_SELF);
	/* What the resolver does not keep is untouched. */
	ck_assert_uint_eq(r->cfg.max_cname, 8);

	/* The same generation again: nothing to copy. */
	dp_miss_tick(w);
	ck_assert_uint_eq(w->stats.rec_settings_applied, 1);

	/* A new object, the old one freed: until the next tick the worker runs on its own copy
	 * (under ASan a pointer into the freed object would fail here), then takes the new one. */
	publish(settings(2, 300, false, "203.0.113.0/24"));
	ck_assert_int_eq(px_addr_check4(r->policy, inet_addr("198.51.100.7")),
			 PX_ADDR_DO_NOT_QUERY);
	dp_miss_tick(w);
	ck_assert_uint_eq(w->stats.rec_settings_applied, 2);
	ck_assert_uint_eq(r->cfg.max_ttl, 300);
	ck_assert(!r->cfg.qname_min);
	ck_assert_int_eq(px_addr_check4(r->policy, inet_addr("198.51.100.7")), PX_ADDR_OK);
	ck_assert_int_eq(px_addr_check4(r->policy, inet_addr("203.0.113.9")),
			 PX_ADDR_DO_NOT_QUERY);
	publish(NULL);
}
END_TEST

static Suite *
settings_suite(void)
{
	Suite *s = suite_create("recurse_settings");
	TCase *tc = tcase_create("reload");

	tcase_add_test(tc, test_miss_settings_taken_in_once);
	suite_add_tcase(s, tc);
	return s;
}

static void
setup(void)
{
	const struct dp_worker_ctx_conf cc = {
		.name = "test_rset", .cache_size = 64, .resolvers = 1,
	};
	struct dp_miss_conf rconf;
	int port;

	px_test_eal_init("test_miss_settings", "0", NULL);
	dp_clock_init();
	pool = rte_pktmbuf_pool_create("test_rset_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	port = px_test_ring_port("net_ring_rset", pool, &rx_ring, &tx_ring);
	ctx.port.port_id = (uint16_t)port;
	ctx.port.has_ip4 = true;
	ctx.port.ip4 = RTE_BE32(0xc6120002); /* 198.18.0.2 */
	ctx.port.ip4_prefix = 24;
	dp_port_conf_derive(&ctx.port);
	if (dp_worker_ctx_build(&ctx, &cc) != 0)
		rte_exit(2, "test_miss_settings: cannot build the workers' shared state\n");
	hints = rte_zmalloc(NULL, px_hints_size(1), RTE_CACHE_LINE_SIZE);
	if (hints == NULL)
		rte_exit(2, "test_miss_settings: out of memory\n");
	hints->generation = 1;
	hints->ns_count = 1;
	hints->ttl = 518400;
	hints->ns[0].name_len = (uint8_t)px_test_name(hints->ns[0].name, "a.root.test");
	hints->ns[0].v4_count = 1;
	px_addr_set4(&hints->ns[0].addr[0], RTE_BE32(0xc6120101), 0);
	hints->checksum = px_hints_checksum(hints);
	ctx.hints = hints;

	px_addr_policy_init(&policy);
	memset(&rconf, 0, sizeof(rconf));
	rconf.has_gw4 = true;
	rconf.gw4 = GW_IP4;
	rconf.slots = 16;
	px_resolver_config_default(&rconf.resolve);
	rconf.resolve.qname_min = false;
	rconf.resolve.use_ipv6 = false;
	rconf.policy = &policy;
	w = dp_worker_build(&(struct dp_worker_conf){
		.ctx = &ctx, .lcore_id = rte_get_main_lcore(), .pool = pool, .miss = &rconf,
		.now_ms = dp_clock_ms(),
	});
	if (w == NULL)
		rte_exit(2, "test_miss_settings: dp_worker_build: %s\n", strerror(errno));
}

int
main(void)
{
	SRunner *sr;
	int failed;

	setup();
	sr = srunner_create(settings_suite());
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
