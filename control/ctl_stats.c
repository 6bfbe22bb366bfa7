/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mempool.h>
#include <rte_telemetry.h>

#include <pollux/resolver.h>

#include "ctl_hints_reload.h"
#include "ctl_prime.h"
#include "ctl_stats.h"
#include "dp_cache.h"
#include "dp_clock.h"
#include "dp_lcore.h"
#include "dp_nexthop.h"
#include "dp_miss.h"

/* Telemetry callbacks get no user pointer and run on DPDK's telemetry thread, which DPDK 22.11
 * cannot be told to stop: the state is reached under a lock, and withdrawn before shutdown
 * frees what it points to. */
static const struct ctl_state *tel_state;
static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;

void
ctl_stats_total(const struct ctl_state *st, struct px_stats *total)
{
	memset(total, 0, sizeof(*total));
	for (unsigned i = 0; i < st->worker_count; i++)
		px_stats_add(total, &st->workers[i]->stats);
}

static void
print_counters(FILE *out, const char *prefix, const struct px_stats *s)
{
	const uint64_t *v = (const uint64_t *)s;

	for (unsigned i = 0; i < PX_STATS_COUNT; i++)
		fprintf(out, "%s%s %" PRIu64 "\n", prefix, px_stats_names[i], v[i]);
}

/* Reads a counter another thread increments (plain stores of aligned 64-bit words). */
static inline uint64_t
rd(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

/*
 * The resolvers' own counters, summed over the workers: why servers failed, why resolutions
 * ended in SERVFAIL, and the nameserver addresses the policy rejected where px_resolver and
 * px_reply met them (glue; hints, cached cuts and addresses learned for NS names), by reason.
 * The hints file's own rejections are the control thread's (addr_rejected.hints.*).
 */
static void
print_resolver(const struct ctl_state *st, FILE *out)
{
	uint64_t glue[PX_ADDR_REASON_COUNT] = {0}, nsaddr[PX_ADDR_REASON_COUNT] = {0};
	uint64_t srv[PX_RES_SRV_COUNT] = {0}, fail[PX_RES_FAIL_COUNT] = {0};
	uint64_t malformed[PX_REPLY_BAD_COUNT] = {0};
	uint64_t qmin = 0, referrals = 0, glueless = 0, cnames = 0;
	uint64_t fb_parent_addr = 0, fb_child = 0, fb_cut = 0, fb_rejected = 0;
	bool any = false;

	for (unsigned i = 0; i < st->worker_count; i++) {
		const struct dp_miss *rc = st->workers[i]->miss;
		const struct px_resolver_stats *rs;

		if (rc == NULL)
			continue;
		any = true;
		rs = &dp_miss_resolver(rc)->stats;
		for (unsigned r = 0; r < PX_ADDR_REASON_COUNT; r++) {
			glue[r] += rd(&rs->glue_rejected[r]);
			nsaddr[r] += rd(&rs->ns_addr_rejected[r]);
		}
		for (unsigned r = 0; r < PX_RES_SRV_COUNT; r++)
			srv[r] += rd(&rs->server_fail[r]);
		for (unsigned r = 0; r < PX_REPLY_BAD_COUNT; r++)
			malformed[r] += rd(&rs->malformed[r]);
		for (unsigned r = 0; r < PX_RES_FAIL_COUNT; r++)
			fail[r] += rd(&rs->servfail_reason[r]);
		qmin += rd(&rs->qmin_queries);
		referrals += rd(&rs->referrals);
		glueless += rd(&rs->glueless_started);
		cnames += rd(&rs->cnames_followed);
		fb_parent_addr += rd(&rs->fb_parent_addr);
		fb_child += rd(&rs->fb_child_lookup);
		fb_cut += rd(&rs->fb_parent_cut);
		fb_rejected += rd(&rs->fb_rejected_lookup);
	}
	if (!any)
		return;
	fprintf(out, "resolver.referrals %" PRIu64 "\nresolver.glueless_started %" PRIu64
		"\nresolver.cnames_followed %" PRIu64 "\nresolver.qmin_queries %" PRIu64 "\n",
		referrals, glueless, cnames, qmin);
	fprintf(out, "resolver.fallback.parent_addr %" PRIu64 "\nresolver.fallback.child_lookup %"
		PRIu64 "\nresolver.fallback.parent_cut %" PRIu64
		"\nresolver.fallback.rejected_lookup %" PRIu64 "\n", fb_parent_addr, fb_child, fb_cut,
		fb_rejected);
	for (unsigned r = 1; r < PX_ADDR_REASON_COUNT; r++) {
		fprintf(out, "addr_rejected.glue.%s %" PRIu64 "\n", px_addr_reason_name(r), glue[r]);
		fprintf(out, "addr_rejected.ns_addr.%s %" PRIu64 "\n", px_addr_reason_name(r),
			nsaddr[r]);
	}
	for (unsigned r = 0; r < PX_RES_SRV_COUNT; r++)
		fprintf(out, "resolver.server_fail.%s %" PRIu64 "\n", px_resolver_srv_name(r), srv[r]);
	for (unsigned r = 1; r < PX_REPLY_BAD_COUNT; r++)
		fprintf(out, "resolver.malformed.%s %" PRIu64 "\n", px_reply_bad_name(r),
			malformed[r]);
	for (unsigned r = 1; r < PX_RES_FAIL_COUNT; r++)
		fprintf(out, "resolver.servfail.%s %" PRIu64 "\n", px_resolver_fail_name(r), fail[r]);
	if (st->ctx->nbr != NULL) {
		const struct dp_nexthop_stats *ns = &st->ctx->nbr->stats;

		fprintf(out, "neigh.learned %" PRIu64 "\nneigh.refreshed %" PRIu64
			"\nneigh.evicted %" PRIu64 "\nneigh.writer_busy %" PRIu64
			"\nneigh.reader_busy %" PRIu64 "\n", rd(&ns->learned), rd(&ns->refreshed),
			rd(&ns->evicted), rd(&ns->writer_busy), rd(&ns->reader_busy));
	}
}

/*
 * The ethdev's own counters: what the port (NIC or PMD) received and sent, and what it dropped
 * before a worker saw it (imissed: RX queue or ring full; rx_nombuf: no mbuf to receive into).
 * The workers' counters start where these end. Not while the port is stopped for a restart.
 */
static void
print_port(const struct ctl_state *st, FILE *out)
{
	struct rte_eth_stats es;

	if (st->port_stopped || rte_eth_stats_get(st->ctx->port.port_id, &es) != 0)
		return;
	fprintf(out, "port.ipackets %" PRIu64 "\nport.opackets %" PRIu64 "\nport.imissed %" PRIu64
		"\nport.ierrors %" PRIu64 "\nport.oerrors %" PRIu64 "\nport.rx_nombuf %" PRIu64 "\n",
		es.ipackets, es.opackets, es.imissed, es.ierrors, es.oerrors, es.rx_nombuf);
}

void
ctl_stats_print(const struct ctl_state *st, FILE *out)
{
	struct px_stats total, one;
	struct dp_cache_info ci;
	char prefix[32];

	ctl_stats_total(st, &total);
	print_counters(out, "total.", &total);
	for (unsigned i = 0; i < st->worker_count; i++) {
		memset(&one, 0, sizeof(one));
		px_stats_add(&one, &st->workers[i]->stats);
		snprintf(prefix, sizeof(prefix), "worker%u.", i);
		print_counters(out, prefix, &one);
	}
	print_port(st, out);
	fprintf(out, "tsc.hz %" PRIu64 "\n", rte_get_tsc_hz());
	fprintf(out, "mbufs.in_use %u\n", rte_mempool_in_use_count(st->pool));
	fprintf(out, "mbufs.total %u\n", st->pool->size);
	dp_cache_info(st->ctx->cache, &ci);
	fprintf(out, "cache.slots %u\ncache.entries %u\ncache.pinned %u\n", ci.slots, ci.entries,
		ci.pinned);
	fprintf(out, "cache.inserts %" PRIu64 "\ncache.replaces %" PRIu64 "\n", ci.inserts,
		ci.replaces);
	fprintf(out, "cache.evictions %" PRIu64 "\ncache.expired_swept %" PRIu64 "\n",
		ci.evictions, ci.expired_swept);
	fprintf(out, "cache.moves %" PRIu64 "\ncache.insert_failures %" PRIu64 "\n", ci.moves,
		ci.insert_failures);
	fprintf(out, "cache.writers %u\ncache.contended %" PRIu64 "\ncache.no_mem %" PRIu64
		"\ncache.kept %" PRIu64 "\n", ci.writers, ci.contended, ci.no_mem, ci.kept);
	fprintf(out, "cache.flushed %" PRIu64 "\ncache.evicted_expired %" PRIu64 "\n", ci.flushed,
		ci.evicted_expired);
	print_resolver(st, out);
	if (st->hints != NULL)
		ctl_hints_print_stats(st->hints, out);
	if (st->prime != NULL)
		ctl_prime_print_stats(st->prime, out);
}

void
ctl_stats_print_status(const struct ctl_state *st, FILE *out)
{
	const struct dp_port_conf *pc = &st->ctx->port;
	char a[INET6_ADDRSTRLEN], mac[RTE_ETHER_ADDR_FMT_SIZE];

	fprintf(out, "version: %s\n", POLLUX_VERSION);
	fprintf(out, "uptime_s: %" PRIu64 "\n", (dp_clock_ms() - st->start_ms) / 1000);
	rte_ether_format_addr(mac, sizeof(mac), &pc->mac);
	fprintf(out, "port: %u (%s) %s\n", pc->port_id, st->driver, mac);
	fprintf(out, "link: %s\n", st->port_stopped ? "down (port stopped, restarting)" :
		st->link_up ? "up" : "down");
	fprintf(out, "link_down_events: %" PRIu64 "\n", st->link_down_events);
	if (st->port_restartable)
		fprintf(out, "port_restarts: %" PRIu64 " (%" PRIu64 " failed)\n",
			st->port_restarts, st->port_restart_failures);
	if (pc->has_ip4)
		fprintf(out, "ip: %s/%u\n", inet_ntop(AF_INET, &pc->ip4, a, sizeof(a)),
			st->cfg->ip4_prefix);
	if (st->cfg->has_gw4)
		fprintf(out, "gateway: %s\n", inet_ntop(AF_INET, &st->cfg->gw4, a, sizeof(a)));
	if (pc->has_ip6) {
		fprintf(out, "ip6: %s/%u\n", inet_ntop(AF_INET6, pc->ip6, a, sizeof(a)),
			st->cfg->ip6_prefix);
		fprintf(out, "ip6_link_local: %s\n", inet_ntop(AF_INET6, pc->ip6_ll, a, sizeof(a)));
	}
	if (st->cfg->has_gw6)
		fprintf(out, "gateway6: %s\n", inet_ntop(AF_INET6, st->cfg->gw6, a, sizeof(a)));
	fprintf(out, "workers: %u\n", st->worker_count);
	for (unsigned i = 0; i < st->worker_count; i++)
		fprintf(out, "worker%u: lcore %u queue %u\n", i, st->workers[i]->lcore_id,
			st->workers[i]->queue_id);
	fprintf(out, "idle_sleep_us: %u\n", st->ctx->idle_sleep_us);
	fprintf(out, "cache_size: %u\n", st->cfg->cache_size);
	for (unsigned i = 0; st->zones != NULL && i < st->zones->count; i++)
		fprintf(out, "local_zone: %s (%u records, %u entries)\n", st->zones->info[i].apex,
			st->zones->info[i].rr_count, st->zones->info[i].entry_count);
	if (st->hints != NULL)
		fprintf(out, "hints: %s (%u servers, generation %" PRIu64 ")\n", st->hints->source,
			st->hints->active.ns_usable, st->hints->generation);
	if (st->prime != NULL)
		fprintf(out, "priming: %s\n", st->ctx->prime_status == NULL ? "off" :
			!st->prime->primed ? "not primed" :
			dp_clock_ms() < st->prime->expire_ms ? "primed" : "expired");
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct px_stats total;
	const uint64_t *v = (const uint64_t *)&total;
	int rc = 0;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	pthread_mutex_lock(&tel_lock);
	if (tel_state == NULL) {
		rc = -ENODEV; /* shutting down */
		goto out;
	}
	ctl_stats_total(tel_state, &total);
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < PX_STATS_COUNT; i++)
		rte_tel_data_add_dict_u64(d, px_stats_names[i], v[i]);
	rte_tel_data_add_dict_u64(d, "mbufs_in_use", rte_mempool_in_use_count(tel_state->pool));
out:
	pthread_mutex_unlock(&tel_lock);
	return rc;
}

static int
tel_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	int rc = 0;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	pthread_mutex_lock(&tel_lock);
	if (tel_state == NULL) {
		rc = -ENODEV;
		goto out;
	}
	rte_tel_data_start_dict(d);
	for (unsigned w = 0; w < tel_state->worker_count; w++) {
		struct rte_tel_data *c = rte_tel_data_alloc();
		struct px_stats one;
		const uint64_t *v = (const uint64_t *)&one;
		char name[32];

		if (c == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		memset(&one, 0, sizeof(one));
		px_stats_add(&one, &tel_state->workers[w]->stats);
		rte_tel_data_start_dict(c);
		for (unsigned i = 0; i < PX_STATS_COUNT; i++)
			rte_tel_data_add_dict_u64(c, px_stats_names[i], v[i]);
		snprintf(name, sizeof(name), "worker%u", w);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
out:
	pthread_mutex_unlock(&tel_lock);
	return rc;
}

void
ctl_stats_telemetry_withdraw(void)
{
	pthread_mutex_lock(&tel_lock);
	tel_state = NULL;
	pthread_mutex_unlock(&tel_lock);
}

int
ctl_stats_telemetry_register(const struct ctl_state *st)
{
	int ret;

	pthread_mutex_lock(&tel_lock);
	tel_state = st;
	pthread_mutex_unlock(&tel_lock);
	ret = rte_telemetry_register_cmd("/pollux/stats", tel_stats,
					 "pollux counters summed over all workers. No parameters");
	if (ret == 0)
		ret = rte_telemetry_register_cmd("/pollux/workers", tel_workers,
						 "pollux counters per worker. No parameters");
	return ret;
}
