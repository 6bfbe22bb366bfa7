/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_rcu_qsbr.h>

#include "ctl_access.h"
#include "dp_access.h"
#include "dp_lcore.h"

RTE_LOG_REGISTER(ctl_access_logtype, pollux.ctl.access, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, ctl_access_logtype, "pollux: " __VA_ARGS__)

#define DEFAULT_RULES 5

/* Adds a default rule unless a configured rule, or an earlier default, names the same prefix:
 * a configured rule replaces a default, and the --ip subnet's allow beats the refuse of /0. */
static void
add_default(const struct ctl_config *cfg, struct px_acl_rule *d, uint32_t *nd, uint8_t family,
	    const void *addr, uint8_t len, uint8_t action, const char *origin)
{
	struct px_acl_rule r = {.family = family, .len = len, .action = action};
	unsigned bytes = family == 4 ? 4 : 16;

	memcpy(r.addr, addr, bytes);
	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;

		r.addr[i] &= (uint8_t)(0xff00u >> keep);
	}
	for (uint32_t i = 0; i < cfg->acl_rule_count; i++)
		if (px_acl_same_net(&cfg->acl_rules[i], &r))
			return;
	for (uint32_t i = 0; i < *nd; i++)
		if (px_acl_same_net(&d[i], &r))
			return;
	snprintf(r.origin, sizeof(r.origin), "%s", origin);
	d[(*nd)++] = r;
}

/* The defaults first (so `polluxctl acl` lists them first), then the configured rules. */
static uint32_t
gather_rules(const struct ctl_config *cfg, struct px_acl_rule *rules)
{
	static const uint8_t ll[16] = {0xfe, 0x80}, any[16];
	uint32_t n = 0;

	if (cfg->has_ip4)
		add_default(cfg, rules, &n, 4, &cfg->ip4, cfg->ip4_prefix, PX_ACL_ALLOW,
			    "default (--ip subnet)");
	if (cfg->has_ip6)
		add_default(cfg, rules, &n, 6, cfg->ip6, cfg->ip6_prefix, PX_ACL_ALLOW,
			    "default (--ip6 subnet)");
	add_default(cfg, rules, &n, 6, ll, 10, PX_ACL_ALLOW, "default (IPv6 link-local)");
	add_default(cfg, rules, &n, 4, any, 0, PX_ACL_REFUSE, "default (every other source)");
	add_default(cfg, rules, &n, 6, any, 0, PX_ACL_REFUSE, "default (every other source)");
	/* No rule configured: acl_rules is NULL, which memcpy may not be given even for 0 bytes. */
	if (cfg->acl_rule_count > 0)
		memcpy(rules + n, cfg->acl_rules, sizeof(*rules) * cfg->acl_rule_count);
	return n + cfg->acl_rule_count;
}

struct dp_access *
ctl_access_build(const struct ctl_config *cfg, uint16_t workers, char *err, size_t err_len)
{
	struct px_acl_rule *rules = malloc(sizeof(*rules) * (DEFAULT_RULES + PX_ACL_MAX_CONFIGURED));
	struct dp_access *a = calloc(1, sizeof(*a));
	uint32_t n;
	size_t bytes;

	if (rules == NULL || a == NULL || cfg->acl_rule_count > PX_ACL_MAX_CONFIGURED)
		goto fail;
	n = gather_rules(cfg, rules);
	a->acl = px_acl_table_build(rules, n);
	if (a->acl == NULL)
		goto fail;
	a->rl = ctl_config_rl_params(cfg);
	a->slices = (uint32_t)workers + 1;
	a->hit_stride = RTE_ALIGN_CEIL(n > 0 ? n : 1, 8);
	bytes = sizeof(uint64_t) * a->hit_stride * a->slices;
	a->hits = aligned_alloc(RTE_CACHE_LINE_SIZE, bytes);
	a->carried = calloc(n > 0 ? n : 1, sizeof(uint64_t));
	if (a->hits == NULL || a->carried == NULL)
		goto fail;
	memset(a->hits, 0, bytes);
	free(rules);
	return a;
fail:
	snprintf(err, err_len, "cannot build the access-control table: %s",
		 cfg->acl_rule_count > PX_ACL_MAX_CONFIGURED ? "too many rules" : strerror(errno));
	free(rules);
	ctl_access_free(a);
	return NULL;
}

void
ctl_access_free(struct dp_access *a)
{
	if (a == NULL)
		return;
	px_acl_table_free(a->acl);
	free(a->hits);
	free(a->carried);
	free(a);
}

static uint64_t
rule_hits(const struct dp_access *a, uint32_t rule)
{
	uint64_t sum = a->carried[rule];

	for (uint32_t s = 0; s < a->slices; s++)
		sum += __atomic_load_n(&a->hits[(size_t)s * a->hit_stride + rule], __ATOMIC_RELAXED);
	return sum;
}

void
ctl_access_publish(struct ctl_access *ca, struct dp_access *a)
{
	struct dp_access *old;

	a->generation = ++ca->generation;
	old = __atomic_exchange_n(&ca->ctx->access, a, __ATOMIC_ACQ_REL);
	ca->loaded_at = time(NULL);
	if (old == NULL)
		return;
	/* Past this no reader holds the old table: its counters are final. */
	rte_rcu_qsbr_synchronize(ca->ctx->qsbr, RTE_QSBR_THRID_INVALID);
	for (uint32_t i = 0; i < a->acl->rule_count; i++)
		for (uint32_t j = 0; j < old->acl->rule_count; j++)
			if (px_acl_same_net(&a->acl->rules[i], &old->acl->rules[j]) &&
			    a->acl->rules[i].action == old->acl->rules[j].action) {
				a->carried[i] = rule_hits(old, j);
				break;
			}
	ctl_access_free(old);
}

static void
log_rules(const struct dp_access *a, bool configured)
{
	char net[64];

	if (configured) {
		LOG(INFO, "access control: %u rules in force (polluxctl acl lists them)\n",
		    a->acl->rule_count);
		return;
	}
	LOG(NOTICE, "access control: no access-control rule configured; the defaults are:\n");
	for (uint32_t i = 0; i < a->acl->rule_count; i++) {
		const struct px_acl_rule *r = &a->acl->rules[i];

		px_acl_rule_net(r, net, sizeof(net));
		LOG(NOTICE, "  %s %s  # %s\n", net, px_acl_action_name(r->action), r->origin);
	}
}

int
ctl_access_start(struct ctl_access *ca, const struct ctl_config *cfg, struct dp_ctx *ctx,
		 uint16_t workers, char *err, size_t err_len)
{
	struct dp_access *a;

	memset(ca, 0, sizeof(*ca));
	ca->ctx = ctx;
	ca->workers = workers;
	a = ctl_access_build(cfg, workers, err, err_len);
	if (a == NULL)
		return -EINVAL;
	ctl_access_publish(ca, a);
	log_rules(a, cfg->acl_rule_count > 0);
	/* The TCP thread is no lcore: it reads the table under an RCU reader id no lcore uses. */
	for (unsigned id = RTE_MAX_LCORE; id-- > 0;)
		if (!rte_lcore_is_enabled(id)) {
			ca->tcp_reader = id;
			ca->tcp_reader_ok = rte_rcu_qsbr_thread_register(ctx->qsbr, id) == 0;
			break;
		}
	if (!ca->tcp_reader_ok)
		LOG(WARNING, "access control: no RCU reader id left for the TCP thread: every TCP "
		    "client is refused\n");
	return 0;
}

void
ctl_access_print(const struct ctl_access *ca, FILE *out)
{
	const struct dp_access *a = __atomic_load_n(&ca->ctx->access, __ATOMIC_ACQUIRE);
	char net[64], when[64];
	struct tm tm;

	if (a == NULL) {
		fprintf(out, "access control off\n");
		return;
	}
	localtime_r(&ca->loaded_at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(out, "generation %" PRIu64 ", loaded %s, %u rules, table %zu KiB\n",
		a->generation, when, a->acl->rule_count, px_acl_table_bytes(a->acl) / 1024);
	if (a->rl.rate == 0)
		fprintf(out, "ratelimit off\n");
	else
		fprintf(out, "ratelimit %u q/s per client, burst %u, slip %u, IPv4 per /%u, "
			"IPv6 per /%u\n", a->rl.rate, a->rl.burst, a->rl.slip, a->rl.v4_prefix,
			a->rl.v6_prefix);
	fprintf(out, "tcp connections: allowed %" PRIu64 ", refused %" PRIu64 ", dropped %" PRIu64
		"\n", __atomic_load_n(&ca->tcp_conns[PX_ACL_ALLOW], __ATOMIC_RELAXED),
		__atomic_load_n(&ca->tcp_conns[PX_ACL_REFUSE], __ATOMIC_RELAXED),
		__atomic_load_n(&ca->tcp_conns[PX_ACL_DROP], __ATOMIC_RELAXED));
	fprintf(out, "%-44s %-7s %12s  %s\n", "prefix", "action", "hits", "origin");
	for (uint32_t i = 0; i < a->acl->rule_count; i++) {
		const struct px_acl_rule *r = &a->acl->rules[i];

		px_acl_rule_net(r, net, sizeof(net));
		fprintf(out, "%-44s %-7s %12" PRIu64 "  %s\n", net, px_acl_action_name(r->action),
			rule_hits(a, i), r->origin);
	}
}

unsigned
ctl_access_check_peer(struct ctl_access *ca, const struct sockaddr *sa)
{
	const struct dp_access *a;
	uint8_t addr[16];
	bool v6 = false;
	unsigned action = PX_ACL_ALLOW;
	uint32_t leaf, rule;

	if (ca == NULL)
		return PX_ACL_ALLOW;
	/* Closed when the table cannot be read safely, as everywhere else. */
	if (!ca->tcp_reader_ok)
		return PX_ACL_REFUSE;
	if (sa->sa_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const uint8_t *a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};

		v6 = memcmp(a6, mapped, 12) != 0;
		memcpy(addr, v6 ? a6 : a6 + 12, v6 ? 16 : 4);
	} else {
		return PX_ACL_DROP;
	}
	rte_rcu_qsbr_thread_online(ca->ctx->qsbr, ca->tcp_reader);
	a = dp_access_get(ca->ctx);
	if (a != NULL) {
		leaf = px_acl_lookup(a->acl, addr, v6);
		rule = px_acl_leaf_rule(leaf);
		action = px_acl_leaf_action(leaf);
		if (rule < a->acl->rule_count) {
			uint64_t *h = &a->hits[(size_t)(a->slices - 1) * a->hit_stride + rule];

			__atomic_store_n(h, *h + 1, __ATOMIC_RELAXED);
		}
	}
	rte_rcu_qsbr_thread_offline(ca->ctx->qsbr, ca->tcp_reader);
	__atomic_store_n(&ca->tcp_conns[action], ca->tcp_conns[action] + 1, __ATOMIC_RELAXED);
	return action;
}

void
ctl_access_stop(struct ctl_access *ca)
{
	struct dp_access *old;

	if (ca->ctx == NULL)
		return;
	old = __atomic_exchange_n(&ca->ctx->access, NULL, __ATOMIC_ACQ_REL);
	if (ca->tcp_reader_ok)
		rte_rcu_qsbr_thread_unregister(ca->ctx->qsbr, ca->tcp_reader);
	ctl_access_free(old);
}
