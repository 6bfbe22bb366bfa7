/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_rcu_qsbr.h>

#include <pollux/resolver.h>

#include "ctl_settings.h"
#include "dp_lcore.h"
#include "dp_miss.h"
#include "dp_settings.h"

RTE_LOG_REGISTER(ctl_settings_logtype, pollux.ctl.settings, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, ctl_settings_logtype, "pollux: " __VA_ARGS__)

void
ctl_settings_stale(const struct ctl_config *cfg, struct dp_stale_conf *st)
{
	st->max_s = cfg->serve_stale_max;
	st->timeout_ms = cfg->serve_stale_timeout_ms;
	st->ttl = cfg->serve_stale_ttl;
	st->prefetch = cfg->prefetch;
}

struct dp_settings *
ctl_settings_build(const struct ctl_config *cfg, const struct px_addr_policy *self)
{
	struct dp_settings *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->policy = cfg->addr_policy;
	if (self != NULL)
		px_addr_policy_copy_self(&s->policy, self);
	s->max_ttl = cfg->max_ttl;
	s->max_neg_ttl = cfg->max_neg_ttl;
	s->qname_min = cfg->qname_min;
	s->prime_min_servers = cfg->min_root_servers;
	memcpy(s->probe_qname, cfg->health_probe.qname, sizeof(s->probe_qname));
	s->probe_qname_len = cfg->health_probe.qname_len;
	s->probe_qtype = cfg->health_probe.qtype;
	ctl_settings_stale(cfg, &s->stale);
	return s;
}

void
ctl_settings_publish(struct ctl_settings *cs, struct dp_settings *s)
{
	struct dp_settings *old;

	s->generation = ++cs->generation;
	old = __atomic_exchange_n(&cs->ctx->settings, s, __ATOMIC_ACQ_REL);
	if (old == NULL)
		return;
	/* Workers copy what they need within the iteration that loaded the pointer, and the TCP
	 * thread within its online section: past the grace period nobody reads the old one. */
	rte_rcu_qsbr_synchronize(cs->ctx->qsbr, RTE_QSBR_THRID_INVALID);
	free(old);
}

int
ctl_settings_start(struct ctl_settings *cs, const struct ctl_config *cfg, struct dp_ctx *ctx)
{
	struct dp_settings *s;

	memset(cs, 0, sizeof(*cs));
	cs->ctx = ctx;
	s = ctl_settings_build(cfg, NULL);
	if (s == NULL)
		return -ENOMEM;
	ctl_settings_publish(cs, s);
	/* The TCP thread is no lcore: it reads under a reader id no lcore and no other reader of
	 * the control plane uses (ctl_access.c takes the highest free one; this the next). */
	for (unsigned id = RTE_MAX_LCORE, skipped = 0; id-- > 0;) {
		if (rte_lcore_is_enabled(id))
			continue;
		if (skipped++ == 0)
			continue;
		cs->tcp_reader = id;
		cs->tcp_reader_ok = rte_rcu_qsbr_thread_register(ctx->qsbr, id) == 0;
		break;
	}
	if (!cs->tcp_reader_ok)
		rte_log(RTE_LOG_WARNING, ctl_settings_logtype, "pollux: resolver settings: no RCU "
			"reader id left for the TCP thread: every upstream TCP retry is refused\n");
	return 0;
}

enum px_addr_reason
ctl_settings_check_addr(struct ctl_settings *cs, const struct px_addr *addr)
{
	const struct dp_settings *s;
	enum px_addr_reason why = PX_ADDR_DO_NOT_QUERY;

	if (!cs->tcp_reader_ok)
		return why;
	rte_rcu_qsbr_thread_online(cs->ctx->qsbr, cs->tcp_reader);
	s = dp_settings_get(cs->ctx);
	if (s != NULL)
		why = px_addr_check(&s->policy, addr);
	rte_rcu_qsbr_thread_offline(cs->ctx->qsbr, cs->tcp_reader);
	return why;
}

void
ctl_settings_stop(struct ctl_settings *cs)
{
	if (cs->ctx == NULL)
		return;
	free(__atomic_exchange_n(&cs->ctx->settings, NULL, __ATOMIC_ACQ_REL));
	if (cs->tcp_reader_ok)
		rte_rcu_qsbr_thread_unregister(cs->ctx->qsbr, cs->tcp_reader);
	cs->tcp_reader_ok = false;
}

bool
ctl_settings_recurse_conf(const struct ctl_config *cfg, struct dp_miss_conf *rc)
{
	memset(rc, 0, sizeof(*rc));
	if (!cfg->recursion) {
		LOG(NOTICE, "recursion off (--recursion no): cache misses get SERVFAIL\n");
		return false;
	}
	rc->has_gw4 = cfg->has_ip4 && cfg->has_gw4;
	rc->gw4 = cfg->gw4;
	rc->has_gw6 = cfg->has_ip6 && cfg->has_gw6;
	memcpy(rc->gw6, cfg->gw6, 16);
	rc->slots = cfg->resolver_slots;
	px_resolver_config_default(&rc->resolve);
	rc->resolve.qname_min = cfg->qname_min;
	rc->resolve.max_ttl = cfg->max_ttl;
	rc->resolve.max_neg_ttl = cfg->max_neg_ttl;
	rc->resolve.use_ipv4 = rc->has_gw4;
	rc->resolve.use_ipv6 = rc->has_gw6;
	/* Without any gateway, only nameservers inside the port's own subnets are reachable
	 * (dp_miss_link.c sends to them directly): every family with an address is used, and a
	 * server elsewhere has no route, which fails it at once. With a gateway of one family,
	 * that family alone: an address of the other would only wait for a route. */
	if (!rc->has_gw4 && !rc->has_gw6) {
		rc->resolve.use_ipv4 = cfg->has_ip4;
		rc->resolve.use_ipv6 = cfg->has_ip6;
		LOG(NOTICE, "no --gateway or --gateway6: only nameservers on the --ip/--ip6 "
		    "subnets are reachable\n");
	}
	rc->policy = &cfg->addr_policy;
	rc->prime_min_servers = cfg->min_root_servers;
	rc->per_client = ctl_config_slots_per_client(cfg);
	rc->client_prefix6 = cfg->client_prefix6;
	rc->jostle_ms = cfg->jostle_ms;
	rc->rto_min_ms = cfg->rto_min_ms;
	memcpy(rc->probe_qname, cfg->health_probe.qname, sizeof(rc->probe_qname));
	rc->probe_qname_len = cfg->health_probe.qname_len;
	rc->probe_qtype = cfg->health_probe.qtype;
	ctl_settings_stale(cfg, &rc->stale);
	LOG(INFO, "recursion on: %u resolver slots per worker, upstream over%s%s, QNAME "
	    "minimisation %s\n", rc->slots, rc->resolve.use_ipv4 ? " IPv4" : "",
	    rc->resolve.use_ipv6 ? " IPv6" : "",
	    cfg->qname_min ? "on" : "off");
	if (rc->per_client != 0)
		LOG(INFO, "fair share: at most %u pending misses per client (IPv4 address, IPv6 "
		    "/%u, TCP connection) per worker; jostle %s\n", rc->per_client,
		    rc->client_prefix6, rc->jostle_ms != 0 ? "on" : "off");
	else
		LOG(NOTICE, "no per-client cap (--resolver-slots-per-client 0): one client can take "
		    "every resolver slot; jostle %s\n", rc->jostle_ms != 0 ? "on" : "off");
	return true;
}
