/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The groups of options a reload applies (ctl_reload.h), one row of ctl_reload_groups each. A
 * group builds everything from the new configuration in prepare, so that a failure anywhere
 * leaves every group's running state untouched, and swaps it in at commit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_log.h>

#include "ctl_access.h"
#include "ctl_dnstap.h"
#include "ctl_health.h"
#include "ctl_hints_reload.h"
#include "ctl_http.h"
#include "ctl_metrics.h"
#include "ctl_reload_int.h"
#include "ctl_settings.h"
#include "ctl_stats.h"
#include "ctl_zones.h"
#include "dp_clock.h"
#include "dp_settings.h"

RTE_LOG_REGISTER(ctl_reload_groups_logtype, pollux.ctl.reload_groups, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, ctl_reload_groups_logtype, "pollux: " __VA_ARGS__)

/* Local zones. */

static bool
zones_wired(const struct ctl_reload *r)
{
	return r->zones != NULL;
}

static int
zones_prepare(struct ctl_reload *r, const struct ctl_config *next, void **state, char *err,
	      size_t err_len)
{
	RTE_SET_USED(r);
	*state = ctl_zones_prepare(next, err, err_len);
	return *state != NULL ? 0 : -EINVAL;
}

static int
zones_commit(struct ctl_reload *r, struct ctl_config *next, void *state, char *err,
	     size_t err_len)
{
	struct ctl_config *cfg = r->cfg;
	int rc = ctl_zones_commit(r->zones, state, dp_clock_ms(), err, err_len);

	if (rc < 0)
		return rc;
	/* The running configuration takes the new paths; next frees the old ones. */
	for (unsigned i = 0; i < CTL_MAX_LOCAL_ZONES; i++) {
		char *p = cfg->local_zones[i];

		cfg->local_zones[i] = next->local_zones[i];
		next->local_zones[i] = p;
	}
	RTE_SWAP(cfg->local_zone_count, next->local_zone_count);
	return 0;
}

static void
zones_discard(void *state)
{
	ctl_zones_discard(state);
}

/* Access control and rate limits. */

static bool
access_wired(const struct ctl_reload *r)
{
	return r->access != NULL;
}

static int
access_prepare(struct ctl_reload *r, const struct ctl_config *next, void **state, char *err,
	       size_t err_len)
{
	*state = ctl_access_build(next, r->workers, err, err_len);
	return *state != NULL ? 0 : -EINVAL;
}

static int
access_commit(struct ctl_reload *r, struct ctl_config *next, void *state, char *err,
	      size_t err_len)
{
	struct ctl_config *cfg = r->cfg;
	struct px_acl_rule *rules = cfg->acl_rules;
	uint32_t count = cfg->acl_rule_count, cap = cfg->acl_rule_cap;

	RTE_SET_USED(err);
	RTE_SET_USED(err_len);
	ctl_access_publish(r->access, state);
	/* The running configuration takes the new rules; next frees the old ones. */
	cfg->acl_rules = next->acl_rules;
	cfg->acl_rule_count = next->acl_rule_count;
	cfg->acl_rule_cap = next->acl_rule_cap;
	next->acl_rules = rules;
	next->acl_rule_count = count;
	next->acl_rule_cap = cap;
	cfg->ratelimit = next->ratelimit;
	cfg->ratelimit_burst = next->ratelimit_burst;
	cfg->ratelimit_slip = next->ratelimit_slip;
	cfg->ratelimit_v4_prefix = next->ratelimit_v4_prefix;
	cfg->ratelimit_v6_prefix = next->ratelimit_v6_prefix;
	return 0;
}

static void
access_discard(void *state)
{
	ctl_access_free(state);
}

/* The resolver settings workers take in while running (dp_settings.h). */

static bool
settings_wired(const struct ctl_reload *r)
{
	return r->settings != NULL;
}

static int
settings_prepare(struct ctl_reload *r, const struct ctl_config *next, void **state, char *err,
		 size_t err_len)
{
	/* pollux's own addresses cannot change without a restart: the running policy has them. */
	*state = ctl_settings_build(next, &r->cfg->addr_policy);
	if (*state == NULL) {
		snprintf(err, err_len, "resolver settings: out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int
settings_commit(struct ctl_reload *r, struct ctl_config *next, void *state, char *err,
		size_t err_len)
{
	struct ctl_config *cfg = r->cfg;
	const struct dp_settings *s = state;

	RTE_SET_USED(err);
	RTE_SET_USED(err_len);
	/* The hints loader and `polluxctl config` read the running configuration's copy. */
	cfg->addr_policy = s->policy;
	cfg->qname_min = next->qname_min;
	cfg->max_ttl = next->max_ttl;
	cfg->max_neg_ttl = next->max_neg_ttl;
	cfg->serve_stale_max = next->serve_stale_max; /* the sweep's window (ctl_cache_tick) */
	cfg->serve_stale_timeout_ms = next->serve_stale_timeout_ms;
	cfg->serve_stale_ttl = next->serve_stale_ttl;
	cfg->prefetch = next->prefetch;
	cfg->health_probe = next->health_probe;
	ctl_settings_publish(r->settings, state);
	return 0;
}

static void
settings_discard(void *state)
{
	free(state);
}

/* The root hints: the file is read again whether or not its path changed. */

struct hints_prep {
	struct px_hints *h;
	struct ctl_hints_report rep;
};

static bool
hints_wired(const struct ctl_reload *r)
{
	return r->hints != NULL;
}

static int
hints_prepare(struct ctl_reload *r, const struct ctl_config *next, void **state, char *err,
	      size_t err_len)
{
	struct hints_prep *p = calloc(1, sizeof(*p));
	struct px_addr_policy pol;
	size_t n;

	if (p == NULL) {
		snprintf(err, err_len, "hints: out of memory");
		return -ENOMEM;
	}
	/* Checked with the policy the settings group is about to publish. */
	pol = next->addr_policy;
	px_addr_policy_copy_self(&pol, &r->cfg->addr_policy);
	p->h = ctl_hints_prepare(r->hints, next->hints_file, &pol, next->min_root_servers,
				 &p->rep);
	if (p->h == NULL) {
		/* The reasons ("FILE:LINE: why", one a line) on one line. */
		n = (size_t)snprintf(err, err_len, "hints file %s rejected: ",
				     next->hints_file != NULL ? next->hints_file : "built-in");
		for (const char *c = p->rep.reasons; *c != '\0' && n + 3 < err_len; c++)
			if (*c != '\n')
				err[n++] = *c;
			else if (c[1] != '\0')
				err[n++] = ';', err[n++] = ' ';
		err[RTE_MIN(n, err_len - 1)] = '\0';
		free(p);
		return -EINVAL;
	}
	*state = p;
	return 0;
}

static int
hints_commit(struct ctl_reload *r, struct ctl_config *next, void *state, char *err,
	     size_t err_len)
{
	struct ctl_config *cfg = r->cfg;
	struct hints_prep *p = state;

	RTE_SET_USED(err);
	RTE_SET_USED(err_len);
	RTE_SWAP(cfg->hints_file, next->hints_file);
	cfg->hints_fallback = next->hints_fallback;
	cfg->min_root_servers = next->min_root_servers;
	ctl_hints_commit(r->hints, p->h, &p->rep);
	free(p);
	return 0;
}

static void
hints_discard(void *state)
{
	struct hints_prep *p = state;

	if (p == NULL)
		return;
	free(p->h);
	free(p);
}

/* The metrics listener and the health window. */

struct metrics_prep {
	bool rebind;
	struct ctl_http *http; /* the new listener; NULL when turned off */
};

static bool
metrics_wired(const struct ctl_reload *r)
{
	return r->st != NULL;
}

static bool
metrics_moved(const struct ctl_config *a, const struct ctl_config *b)
{
	if (a->has_metrics != b->has_metrics)
		return true;
	return a->has_metrics && (a->metrics_addr_len != b->metrics_addr_len ||
				  memcmp(&a->metrics_addr, &b->metrics_addr,
					 a->metrics_addr_len) != 0);
}

static int
metrics_prepare(struct ctl_reload *r, const struct ctl_config *next, void **state, char *err,
		size_t err_len)
{
	struct metrics_prep *p = calloc(1, sizeof(*p));
	char where[CTL_CONFIG_ORIGIN_LEN];

	if (p == NULL) {
		snprintf(err, err_len, "metrics-listen: out of memory");
		return -ENOMEM;
	}
	p->rebind = metrics_moved(r->cfg, next);
	if (p->rebind && next->has_metrics) {
		/* Bound before anything changes: an address in use refuses the whole reload. */
		p->http = ctl_http_open((const struct sockaddr *)&next->metrics_addr,
					next->metrics_addr_len, ctl_metrics_render, r->st);
		if (p->http == NULL) {
			int rc = -errno;

			snprintf(err, err_len, "%s: metrics-listen: cannot listen: %s",
				 ctl_config_origin(next, "metrics-listen", where, sizeof(where)),
				 strerror(-rc));
			free(p);
			return rc;
		}
		ctl_http_set_health(p->http, ctl_health_http, r->st);
	}
	*state = p;
	return 0;
}

static int
metrics_commit(struct ctl_reload *r, struct ctl_config *next, void *state, char *err,
	       size_t err_len)
{
	struct ctl_config *cfg = r->cfg;
	struct metrics_prep *p = state;

	RTE_SET_USED(err);
	RTE_SET_USED(err_len);
	if (p->rebind) {
		ctl_http_close(r->st->metrics);
		r->st->metrics = p->http;
		cfg->has_metrics = next->has_metrics;
		cfg->metrics_addr = next->metrics_addr;
		cfg->metrics_addr_len = next->metrics_addr_len;
		if (p->http != NULL)
			LOG(NOTICE, "metrics: GET /metrics and /health now on TCP port %u\n",
			    ctl_http_port(p->http));
		else
			LOG(NOTICE, "metrics: listener closed (metrics-listen off)\n");
	}
	cfg->health_resolve_window_s = next->health_resolve_window_s;
	free(p);
	return 0;
}

static void
metrics_discard(void *state)
{
	struct metrics_prep *p = state;

	if (p == NULL)
		return;
	ctl_http_close(p->http);
	free(p);
}

/* dnstap, when it was on at start (the workers have rings): the destination, the sample and
 * the message types. Off at start, its keys need a restart. */
struct dnstap_prep {
	struct ctl_dnstap_next *next;
	bool reopen; /* another destination (or none): the thread switches streams */
};

static bool
dnstap_wired(const struct ctl_reload *r)
{
	return r->st != NULL && r->st->dnstap != NULL;
}

static int
dnstap_prepare(struct ctl_reload *r, const struct ctl_config *next, void **state, char *err,
	       size_t err_len)
{
	const struct ctl_dnstap_conf *a = &r->cfg->dnstap, *b = &next->dnstap;
	struct dnstap_prep *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		snprintf(err, err_len, "dnstap: out of memory");
		return -ENOMEM;
	}
	p->reopen = (a->path == NULL) != (b->path == NULL) || a->socket != b->socket ||
		    (a->path != NULL && strcmp(a->path, b->path) != 0);
	p->next = ctl_dnstap_prepare(b, p->reopen, err, err_len);
	if (p->next == NULL) {
		free(p);
		return -EINVAL;
	}
	*state = p;
	return 0;
}

static int
dnstap_commit(struct ctl_reload *r, struct ctl_config *next, void *state, char *err,
	      size_t err_len)
{
	struct ctl_dnstap_conf *cfg = &r->cfg->dnstap;
	struct dnstap_prep *p = state;

	RTE_SET_USED(err);
	RTE_SET_USED(err_len);
	ctl_dnstap_commit(r->st->dnstap, p->next, p->reopen);
	free(cfg->path);
	*cfg = next->dnstap;
	next->dnstap.path = NULL; /* moved */
	free(p);
	return 0;
}

static void
dnstap_discard(void *state)
{
	struct dnstap_prep *p = state;

	if (p == NULL)
		return;
	ctl_dnstap_next_free(p->next);
	free(p);
}

/* The local zones first: theirs is the one commit that can fail (ctl_reload_int.h). */
const struct ctl_reload_group ctl_reload_groups[] = {
	{ {"local-zone"}, zones_wired, zones_prepare, zones_commit, zones_discard },
	{ {"access-control", "ratelimit", "ratelimit-burst", "ratelimit-slip",
	   "ratelimit-ipv4-prefix", "ratelimit-ipv6-prefix"},
	  access_wired, access_prepare, access_commit, access_discard },
	{ {"do-not-query", "allow-loopback-ns", "qname-minimisation", "max-ttl", "max-neg-ttl",
	   "health-probe", "serve-stale-max", "serve-stale-client-timeout", "serve-stale-ttl",
	   "prefetch"},
	  settings_wired, settings_prepare, settings_commit, settings_discard },
	{ {"hints", "hints-fallback", "min-root-servers"},
	  hints_wired, hints_prepare, hints_commit, hints_discard },
	{ {"metrics-listen", "health-resolve-window"},
	  metrics_wired, metrics_prepare, metrics_commit, metrics_discard },
	{ {"dnstap", "dnstap-socket", "dnstap-sample", "dnstap-log-client-query-messages",
	   "dnstap-log-client-response-messages", "dnstap-log-resolver-query-messages",
	   "dnstap-log-resolver-response-messages"},
	  dnstap_wired, dnstap_prepare, dnstap_commit, dnstap_discard },
};

const size_t ctl_reload_group_count = RTE_DIM(ctl_reload_groups);
