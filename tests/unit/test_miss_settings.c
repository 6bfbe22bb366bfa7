/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A resolving worker taking in reloaded settings (dp_settings.h): dp_miss_tick copies a newly
 * published object's address policy, TTL caps, QNAME minimisation and probe question into the
 * worker's own state, once per generation, and keeps no pointer into the object, so the control
 * thread may free it after the grace period (ASan checks that nothing reads it after). The test,
 * on the main lcore, is both the worker (on the miss-path rig, testlib_miss.h) and the control
 * thread.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>

#include <pollux/addr_policy.h>
#include <pollux/resolver.h>
#include <pollux/wire.h>

#include "dp_lcore.h"
#include "dp_miss.h"
#include "dp_settings.h"
#include "testlib.h"
#include "testlib_miss.h"

static struct dp_settings *
settings(uint64_t gen, uint32_t max_ttl, bool qmin, const char *dnq)
{
	struct dp_settings *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	s->generation = gen;
	px_addr_policy_init(&s->policy);
	px_addr_policy_set_self4(&s->policy, tm.ctx.port.ip4, 24);
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
	free(__atomic_exchange_n(&tm.ctx.settings, s, __ATOMIC_ACQ_REL));
}

START_TEST(test_miss_settings_taken_in_once)
{
	const struct px_resolver *r = dp_miss_resolver(tm.w->miss);

	/* Nothing published: the creation conf holds. */
	dp_miss_tick(tm.w);
	ck_assert_uint_eq(tm.w->stats.rec_settings_applied, 0);
	ck_assert_uint_eq(r->cfg.max_ttl, 86400);
	ck_assert(!r->cfg.qname_min);
	ck_assert_int_eq(px_addr_check4(r->policy, inet_addr("198.51.100.7")), PX_ADDR_OK);

	publish(settings(1, 60, true, "198.51.100.0/24"));
	dp_miss_tick(tm.w);
	ck_assert_uint_eq(tm.w->stats.rec_settings_applied, 1);
	ck_assert_uint_eq(r->cfg.max_ttl, 60);
	ck_assert_uint_eq(r->cfg.max_neg_ttl, 30);
	ck_assert(r->cfg.qname_min);
	ck_assert_int_eq(px_addr_check4(r->policy, inet_addr("198.51.100.7")),
			 PX_ADDR_DO_NOT_QUERY);
	ck_assert_int_eq(px_addr_check4(r->policy, tm.ctx.port.ip4), PX_ADDR_SELF);
	/* What the resolver does not keep is untouched. */
	ck_assert_uint_eq(r->cfg.max_cname, 8);

	/* The same generation again: nothing to copy. */
	dp_miss_tick(tm.w);
	ck_assert_uint_eq(tm.w->stats.rec_settings_applied, 1);

	/* A new object, the old one freed: until the next tick the worker runs on its own copy
	 * (under ASan a pointer into the freed object would fail here), then takes the new one. */
	publish(settings(2, 300, false, "203.0.113.0/24"));
	ck_assert_int_eq(px_addr_check4(r->policy, inet_addr("198.51.100.7")),
			 PX_ADDR_DO_NOT_QUERY);
	dp_miss_tick(tm.w);
	ck_assert_uint_eq(tm.w->stats.rec_settings_applied, 2);
	ck_assert_uint_eq(r->cfg.max_ttl, 300);
	ck_assert(!r->cfg.qname_min);
	ck_assert_int_eq(px_addr_check4(r->policy, inet_addr("198.51.100.7")), PX_ADDR_OK);
	ck_assert_int_eq(px_addr_check4(r->policy, inet_addr("203.0.113.9")),
			 PX_ADDR_DO_NOT_QUERY);
	publish(NULL);
}
END_TEST

/* The creation conf the case starts from: no QNAME minimisation. */
static void
settings_miss_conf(struct dp_miss_conf *rc)
{
	rc->resolve.qname_min = false;
}

static void
setup_settings(void)
{
	tm_build(&(struct tm_conf){.miss = settings_miss_conf});
}

int
main(void)
{
	Suite *s = suite_create("recurse_settings");

	tm_add_case(s, test_miss_settings_taken_in_once, setup_settings);
	return tm_run("test_miss_settings", s);
}
